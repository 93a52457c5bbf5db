/* main.c - the sigmacc command line: dispatch, `check` and `list`. The
 * command files parse arguments and print; everything else is the library's
 * (include/sigmacc.h).
 *
 * Exit codes: 0 success, 1 a rule had errors (or a conversion failed),
 * 2 usage or I/O error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- Diagnostics output -------------------------------------------------------- */

void sg_print_diags(FILE *f, const SgDiags *d, size_t from, bool json) {
  SgBuf b = {0};
  sg_render_diags(&b, d, from, NULL, NULL, 0, json);
  if (b.len) fwrite(b.data, 1, b.len, f);
  sg_buf_free(&b);
}

/* ---- check ----------------------------------------------------------------------- */

static int cmd_check(int argc, char **argv) {
  bool json = false;
  int nfiles = 0;
  char **files = calloc((size_t)argc + 1, sizeof *files);
  if (!files) return 2;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--json"))
      json = true;
    else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      free(files);
      printf("usage: sigmacc check [--json] PATH...\n");
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "sigmacc check: unknown option '%s'\n", argv[i]);
      free(files);
      return 2;
    } else
      files[nfiles++] = argv[i];
  }
  if (!nfiles) {
    fprintf(stderr, "usage: sigmacc check [--json] PATH...\n");
    free(files);
    return 2;
  }
  SgCheckResult res;
  sg_check_run(files, (size_t)nfiles, json, &res);
  free(files);
  if (res.out.len) fwrite(res.out.data, 1, res.out.len, stdout);
  fputs(sg_buf_cstr(&res.summary), json ? stderr : stdout);
  int rc = res.exit_code;
  sg_check_result_free(&res);
  return rc;
}

/* ---- list -------------------------------------------------------------------------- */

static int cmd_list(int argc, char **argv) {
  const char *what = argc ? argv[0] : "";
  SgBuf out = {0};
  SgDiags d = {0};
  int rc = 0;
  if (!strcmp(what, "modifiers"))
    sg_list_modifiers(&out);
  else if (!strcmp(what, "targets"))
    sg_list_targets(&out);
  else if (!strcmp(what, "formats"))
    sg_list_formats(&out, argc > 1 ? argv[1] : NULL);
  else if (!strcmp(what, "pipelines"))
    rc = sg_list_pipelines(&out, &d) ? 0 : 1;
  else
    rc = 2;
  if (rc == 2) fprintf(stderr, "usage: sigmacc list targets|formats [TARGET]|pipelines|modifiers\n");
  if (out.len) fwrite(out.data, 1, out.len, stdout);
  sg_print_diags(stderr, &d, 0, false);
  sg_buf_free(&out);
  sg_diags_free(&d);
  return rc;
}

static const char usage[] =
    "usage: sigmacc <command> [options]\n"
    "\n"
    "Commands:\n"
    "  convert -t TARGET [-p PIPELINE]... [-f FORMAT] [-O key=value]... [-s] [-o OUT] PATH...\n"
    "                     convert Sigma rules to queries (targets: aql, splunk, ast)\n"
    "  check [--json] PATH...\n"
    "                     validate rules; print located diagnostics\n"
    "  eval -r RULES... [-p PIPELINE]... [--fields F,...] [--stats] [EVENTS...]\n"
    "                     match rules against JSON events (evtx_dump shape or flat)\n"
    "  list targets|formats [TARGET]|pipelines|modifiers\n"
    "\n"
    "  --help, --version\n"
    "Run 'sigmacc <command> --help' for the options of a command.\n";

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(usage, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("sigmacc %s\n", SIGMACC_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "check")) return cmd_check(argc - 2, argv + 2);
  if (!strcmp(cmd, "list")) return cmd_list(argc - 2, argv + 2);
  if (!strcmp(cmd, "convert")) return sg_cli_convert(argc - 2, argv + 2);
  if (!strcmp(cmd, "eval")) return sg_cli_eval(argc - 2, argv + 2);
  fprintf(stderr, "sigmacc: unknown command '%s'\n\n%s", cmd, usage);
  return 2;
}
