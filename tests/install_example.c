/* install_example.c - a program built only against an installed sigmacc
 * (pkg-config --cflags --libs sigmacc): converts the rule file it is given to
 * Splunk SPL, one rule's text to one string with sg_convert_text, as
 * `sigmacc convert -t splunk` writes it. tests/install.sh builds it. */
#include <sigmacc.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  char *src;
  size_t len;
  SgDiags d = {0};
  if (sg_read_file(argv[1], &src, &len, &d) != SG_OK) return 2;
  SgConvertJob job = {.target = "splunk"};
  SgBuf out = {0};
  SgStatus st = sg_convert_text(&job, argv[1], src, len, &out, &d);
  fputs(sg_buf_cstr(&out), stdout);
  for (size_t i = 0; i < d.n; i++) {
    SgBuf line = {0};
    sg_diag_render(&line, &d.items[i], src, len);
    fputs(sg_buf_cstr(&line), stderr);
    sg_buf_free(&line);
  }
  sg_buf_free(&out);
  sg_diags_free(&d);
  free(src);
  return st == SG_OK ? 0 : 1;
}
