/* main.c - the sigmacc command line: dispatch, `check` and `list`. The
 * command files parse arguments and print; everything else is the library's
 * (include/sigmacc.h).
 *
 * Exit codes (SG_CLI_EXIT_HELP): 0 success, 1 a rule or pipeline had errors
 * (or golden files differ), 2 usage or I/O error; eval adds 3.
 */
#define _GNU_SOURCE /* getopt_long */
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

/* ---- check ----------------------------------------------------------------------- */

static const char check_usage[] =
    "usage: sigmacc check [--json] PATH...\n"
    "Load every rule, filter, correlation and pipeline file under PATH (- reads stdin) and\n"
    "print every error and warning with file:line:col, the source line and a caret, then\n"
    "a summary line.\n"
    "  --json             diagnostics as JSON lines on stdout (the summary on stderr)\n" SG_CLI_WARN_HELP
        SG_CLI_EXIT_HELP;

static int cmd_check(int argc, char **argv) {
  static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                           {"warn", required_argument, NULL, 'W'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  bool json = false;
  SgWarnPolicy warn = {0};
  optind = 1;
  opterr = 0;
  for (int c, rc; (c = getopt_long(argc, argv, ":hW:", longopts, NULL)) != -1;) {
    if (c == 'h') {
      fputs(check_usage, stdout);
      return 0;
    }
    if (c == 'W' && (rc = sg_cli_warn_option("check", &warn, optarg)) >= 0) return rc;
    if (c != 'j' && c != 'W') return sg_cli_option_error("check", c, argv, longopts);
    json = json || c == 'j';
  }
  if (optind == argc)
    return sg_cli_usage_error("check", "missing PATH (a rule file, a directory, or - for stdin)");
  SgCheckResult res;
  sg_check_run(argv + optind, (size_t)(argc - optind), json, &warn, &res);
  if (res.out.len) fwrite(res.out.data, 1, res.out.len, stdout);
  fputs(sg_buf_cstr(&res.summary), json ? stderr : stdout);
  int rc = res.exit_code;
  sg_check_result_free(&res);
  return rc;
}

/* ---- analyze ---------------------------------------------------------------------- */

static const char analyze_usage[] =
    "usage: sigmacc analyze logsources [--json] PATH...\n"
    "  logsources         how many rules use each (product, category, service), most used first\n"
    "  --json             a JSON array instead of a table\n" SG_CLI_EXIT_HELP;

static int cmd_analyze(int argc, char **argv) {
  static const struct option longopts[] = {
      {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  bool json = false;
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1;) {
    if (c == 'h') {
      fputs(analyze_usage, stdout);
      return 0;
    }
    if (c != 'j') return sg_cli_option_error("analyze", c, argv, longopts);
    json = true;
  }
  if (optind == argc) return sg_cli_usage_error("analyze", "what to analyze? (logsources)");
  if (strcmp(argv[optind], "logsources"))
    return sg_cli_usage_error("analyze", "unknown analysis '%s' (logsources)", argv[optind]);
  if (optind + 1 == argc) return sg_cli_usage_error("analyze", "missing PATH (a rule file or a directory)");
  SgAnalyzeResult res;
  sg_analyze_logsources(argv + optind + 1, (size_t)(argc - optind - 1), json, &res);
  if (res.diags.len) fwrite(res.diags.data, 1, res.diags.len, stderr);
  if (res.out.len) fwrite(res.out.data, 1, res.out.len, stdout);
  fputs(sg_buf_cstr(&res.summary), stderr);
  int rc = res.exit_code;
  sg_analyze_result_free(&res);
  return rc;
}

/* ---- list -------------------------------------------------------------------------- */

#define LISTS "targets, formats, pipelines, modifiers, diagnostics, warnings"
static const char list_usage[] =
    "usage: sigmacc list targets|formats [TARGET]|pipelines|modifiers|diagnostics|warnings\n"
    "  targets            the conversion targets and their aliases\n"
    "  formats [TARGET]   each target's output formats and their -O options\n"
    "  pipelines          the built-in pipelines, their targets and purpose\n"
    "  modifiers          the Sigma value modifiers\n"
    "  diagnostics        every error and warning code with its meaning\n"
    "  warnings           the warning codes (for -W)\n" SG_CLI_EXIT_HELP;

static int cmd_list(int argc, char **argv) {
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
  else
    rc = *what ? sg_cli_usage_error("list", "unknown list '%s' (" LISTS ")", what)
               : sg_cli_usage_error("list", "what to list? (" LISTS ")");
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
    "  analyze logsources [--json] PATH...\n"
    "                     how many rules use each log source\n"
    "  list targets|formats [TARGET]|pipelines|modifiers|diagnostics|warnings\n"
    "\n"
    "  --help, --version\n"
    "Run 'sigmacc <command> --help' for the options of a command.\n" SG_CLI_EXIT_HELP
    "eval also exits 3 when documents were skipped or a result could not be decided.\n";

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
  if (!strcmp(cmd, "check")) return cmd_check(argc - 1, argv + 1);
  if (!strcmp(cmd, "list")) return cmd_list(argc - 1, argv + 1);
  if (!strcmp(cmd, "analyze")) return cmd_analyze(argc - 1, argv + 1);
  if (!strcmp(cmd, "convert")) return sg_cli_convert(argc - 1, argv + 1);
  if (!strcmp(cmd, "eval")) return sg_cli_eval(argc - 1, argv + 1);
  fprintf(stderr, "sigmacc: unknown command '%s'\n\n%s", cmd, usage);
  return 2;
}
