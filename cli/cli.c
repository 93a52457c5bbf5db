/* cli.c - what the commands of the command line share: printing
 * diagnostics, usage errors with a pointer to --help, -W. */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
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

/* ---- Usage errors ------------------------------------------------------------------ */

int sg_cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "sigmacc %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nRun 'sigmacc %s --help' for its options.\n", cmd);
  return 2;
}

int sg_cli_option_error(const char *cmd, int code, char **argv, const struct option *opts) {
  const char *arg = argv[optind - 1];
  if (code == ':') return sg_cli_usage_error(cmd, "option '%s' needs a value", arg);
  const char *eq = strchr(arg, '=');
  if (optopt && eq && !strncmp(arg, "--", 2))
    return sg_cli_usage_error(cmd, "option '%.*s' takes no value", (int)(eq - arg), arg);
  if (optopt && strncmp(arg, "--", 2)) return sg_cli_usage_error(cmd, "unknown option '-%c'", optopt);
  SgSuggest sg; /* --name[=value]: the closest long option */
  const char *name = arg + strspn(arg, "-");
  sg_suggest_init(&sg, name, strcspn(name, "="));
  for (; opts->name; opts++)
    sg_suggest_add(&sg, opts->name);
  const char *best = sg_suggest_best(&sg);
  if (best) return sg_cli_usage_error(cmd, "unknown option '%s' (did you mean '--%s'?)", arg, best);
  return sg_cli_usage_error(cmd, "unknown option '%s'", arg);
}

int sg_cli_warn_option(const char *cmd, SgWarnPolicy *w, const char *spec) {
  if (sg_warn_option(w, spec)) return -1;
  SgSuggest sg;
  const char *name = strncmp(spec, "no-", 3) ? spec : spec + 3;
  sg_suggest_init(&sg, name, strlen(name));
  sg_suggest_add(&sg, "error");
  for (int c = 0; c < SG_D__COUNT; c++)
    if (sg_diag_code_str((SgDiagCode)c)[0] == 'W') sg_suggest_add(&sg, sg_diag_code_str((SgDiagCode)c));
  char hint[96];
  return sg_cli_usage_error(cmd, "-W '%s' names no warning%s", spec,
                            sg_suggest_text(&sg, hint, sizeof hint, " (see 'sigmacc list warnings')"));
}

void sg_cli_to_stdout(void *ctx, const char *s, size_t n) {
  (void)ctx;
  fwrite(s, 1, n, stdout);
}

void sg_cli_to_stderr(void *ctx, const char *s, size_t n) {
  (void)ctx;
  fwrite(s, 1, n, stderr);
}
