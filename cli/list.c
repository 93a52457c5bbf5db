/* list.c - `sigmacc list`: targets, formats, pipelines, modifiers, diagnostics, warnings, validators. */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- list -------------------------------------------------------------------------- */

#define LISTS "targets, formats, pipelines, modifiers, diagnostics, warnings, validators"
static const char list_usage[] =
    "usage: sigmacc list targets|formats [TARGET]|pipelines|modifiers|diagnostics|warnings|validators\n"
    "  targets            the conversion targets and their aliases\n"
    "  formats [TARGET]   each target's output formats and their -O options\n"
    "  pipelines          the built-in pipelines, their targets and purpose\n"
    "  modifiers          the Sigma value modifiers\n"
    "  diagnostics        every error and warning code with its meaning\n"
    "  warnings           the warning codes (for -W)\n"
    "  validators         check's validators: identifier, severity, what each finds\n" SG_CLI_EXIT_HELP;

int sg_cli_list(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  if (!strcmp(what, "-h") || !strcmp(what, "--help")) {
    fputs(list_usage, stdout);
    return 0;
  }
  SgBuf out = {0};
  SgDiags d = {0};
  int rc = 0;
  if (!strcmp(what, "modifiers"))
    sg_list_modifiers(&out);
  else if (!strcmp(what, "targets"))
    sg_list_targets(&out);
  else if (!strcmp(what, "formats"))
    sg_list_formats(&out, argc > 2 ? argv[2] : NULL);
  else if (!strcmp(what, "pipelines"))
    rc = sg_list_pipelines(&out, &d) ? 0 : 1;
  else if (!strcmp(what, "warnings") || !strcmp(what, "diagnostics"))
    sg_list_diagnostics(&out, what[0] == 'w');
  else if (!strcmp(what, "validators"))
    sg_list_validators(&out);
  else
    rc = *what ? sg_cli_usage_error("list", "unknown list '%s' (" LISTS ")", what)
               : sg_cli_usage_error("list", "what to list? (" LISTS ")");
  if (out.len) fwrite(out.data, 1, out.len, stdout);
  sg_print_diags(stderr, &d, 0, false);
  sg_buf_free(&out);
  sg_diags_free(&d);
  return rc;
}
