/* install_example.c - a program built only against an installed sigmacc
 * (pkg-config --cflags --libs sigmacc): converts the rules it is given to
 * Splunk SPL, as `sigmacc convert -t splunk` does. tests/install.sh builds it. */
#include <sigmacc.h>
#include <stdio.h>

int main(int argc, char **argv) {
  SgConvertJob job = {.target = "splunk"};
  SgConvertResult res;
  sg_convert_run(&job, argv + 1, (size_t)(argc - 1), &res);
  fwrite(res.out.data ? res.out.data : "", 1, res.out.len, stdout);
  fwrite(res.diags.data ? res.diags.data : "", 1, res.diags.len, stderr);
  int rc = res.exit_code;
  sg_convert_result_free(&res);
  return rc;
}
