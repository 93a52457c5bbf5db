/* main.c - the sigmacc command line: dispatch, `check` and `list`. The
 * command files parse arguments and print; everything else is the library's
 * (include/sigmacc.h).
 *
 * Exit codes (SG_CLI_EXIT_HELP): 0 success, 1 a rule or pipeline had errors
 * (or golden files differ), 2 usage or I/O error; eval adds 3.
 */
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

/* ---- check ----------------------------------------------------------------------- */

static const char check_usage[] =
    "usage: sigmacc check [--json] [--validation-config FILE] [-x VALIDATOR]... [--fail-on error|warning]\n"
    "                     [--attack-data FILE] PATH...\n"
    "Load every rule, filter, correlation and pipeline file under PATH (- reads stdin), run the\n"
    "validators (pySigma's, same names: sigmacc list validators) and print every error, warning\n"
    "and validator finding with file:line:col, the source line and a caret, then a summary.\n"
    "  --json             diagnostics as JSON lines on stdout (the summary on stderr)\n"
    "  --validation-config FILE\n"
    "                     sigma-cli's validation configuration: validators (all, name, -name),\n"
    "                     exclusions (rule id: validator or list), config\n"
    "  -x, --exclude VALIDATOR\n"
    "                     leave this validator out (repeatable)\n"
    "  --fail-on error|warning\n"
    "                     what makes the check fail (exit 1): errors (the default), or warnings too\n"
    "  --attack-data FILE ATT&CK techniques (MITRE's techniques.tsv: id, name, tactics, status)\n"
    "                     instead of the compiled-in ATT&CK data\n" SG_CLI_WARN_HELP SG_CLI_EXIT_HELP;

static int cmd_check(int argc, char **argv) {
  enum { OPT_CONFIG = 256, OPT_FAIL_ON, OPT_ATTACK };
  static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                           {"warn", required_argument, NULL, 'W'},
                                           {"validation-config", required_argument, NULL, OPT_CONFIG},
                                           {"exclude", required_argument, NULL, 'x'},
                                           {"fail-on", required_argument, NULL, OPT_FAIL_ON},
                                           {"attack-data", required_argument, NULL, OPT_ATTACK},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  SgWarnPolicy warn = {0};
  SgCheckJob job = {.warnings = &warn};
  const char **exclude = calloc((size_t)argc + 1, sizeof *exclude);
  if (!exclude) return 2;
  job.exclude = exclude;
  optind = 1;
  opterr = 0;
  int rc = -1;
  for (int c; rc < 0 && (c = getopt_long(argc, argv, ":hW:x:", longopts, NULL)) != -1;) {
    switch (c) {
    case 'h':
      fputs(check_usage, stdout);
      rc = 0;
      break;
    case 'W': rc = sg_cli_warn_option("check", &warn, optarg); break;
    case 'j': job.json = true; break;
    case 'x': exclude[job.nexclude++] = optarg; break;
    case OPT_CONFIG: job.validation_config = optarg; break;
    case OPT_ATTACK: job.attack_data = optarg; break;
    case OPT_FAIL_ON:
      if (strcmp(optarg, "error") && strcmp(optarg, "warning"))
        rc = sg_cli_usage_error("check", "--fail-on is error or warning, not '%s'", optarg);
      job.fail_on_warning = !strcmp(optarg, "warning");
      break;
    default: rc = sg_cli_option_error("check", c, argv, longopts);
    }
  }
  if (rc < 0 && optind == argc)
    rc = sg_cli_usage_error("check", "missing PATH (a rule file, a directory, or - for stdin)");
  if (rc >= 0) {
    free(exclude);
    return rc;
  }
  job.paths = argv + optind;
  job.npaths = (size_t)(argc - optind);
  SgCheckResult res;
  sg_check_run(&job, &res);
  if (res.out.len) fwrite(res.out.data, 1, res.out.len, stdout);
  fputs(sg_buf_cstr(&res.summary), job.json ? stderr : stdout);
  rc = res.exit_code;
  sg_check_result_free(&res);
  free(exclude);
  return rc;
}

/* ---- analyze ---------------------------------------------------------------------- */

static const char analyze_usage[] =
    "usage: sigmacc analyze logsources [--json] PATH...\n"
    "       sigmacc analyze attack [--by-level] [-o FILE] PATH...\n"
    "       sigmacc analyze fields -t TARGET [-p PIPELINE]... [--without-pipeline] [--json] PATH...\n"
    "  logsources         how many rules use each (product, category, service), most used first\n"
    "  attack             an ATT&CK Navigator layer (format 4.5, enterprise-attack): each technique\n"
    "                     the rules tag, scored by their number, with their titles as the comment\n"
    "  fields             the field names each rule reads after the target's pipelines\n"
    "                     (PATH:LINE: TITLE: f1, f2, ...)\n"
    "  --json             logsources: a JSON array instead of a table; fields: JSON lines\n"
    "  -t, --target       fields: the target whose default pipeline applies (sigmacc list targets)\n"
    "  -p, --pipeline     fields: a pipeline (built-in name, file or directory); repeatable\n"
    "  --without-pipeline fields: not the target's default pipeline\n"
    "  --by-level         attack: score by the highest rule level (1 informational .. 5 critical)\n"
    "  -o, --output FILE  write the analysis to FILE (- is stdout, the default)\n" SG_CLI_EXIT_HELP;

static int analyze_run(int argc, char **argv, bool json, bool by_level, const char *output,
                       const char *target, const char **pipelines, size_t npipelines, bool without);

static int cmd_analyze(int argc, char **argv) {
  enum { OPT_BY_LEVEL = 256, OPT_WITHOUT };
  static const struct option longopts[] = {
      {"json", no_argument, NULL, 'j'},           {"by-level", no_argument, NULL, OPT_BY_LEVEL},
      {"output", required_argument, NULL, 'o'},   {"target", required_argument, NULL, 't'},
      {"pipeline", required_argument, NULL, 'p'}, {"without-pipeline", no_argument, NULL, OPT_WITHOUT},
      {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
  bool json = false, by_level = false, without = false;
  const char *output = NULL, *target = NULL;
  const char **pipelines = calloc((size_t)argc + 1, sizeof *pipelines);
  size_t npipelines = 0;
  if (!pipelines) return 2;
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, ":ho:t:p:", longopts, NULL)) != -1;) {
    if (c == 'h') {
      fputs(analyze_usage, stdout);
      free(pipelines);
      return 0;
    }
    if (c == 'j')
      json = true;
    else if (c == OPT_BY_LEVEL)
      by_level = true;
    else if (c == OPT_WITHOUT)
      without = true;
    else if (c == 'o')
      output = optarg;
    else if (c == 't')
      target = optarg;
    else if (c == 'p')
      pipelines[npipelines++] = optarg;
    else {
      free(pipelines);
      return sg_cli_option_error("analyze", c, argv, longopts);
    }
  }
  int rc = analyze_run(argc, argv, json, by_level, output, target, pipelines, npipelines, without);
  free(pipelines);
  return rc;
}

static int analyze_run(int argc, char **argv, bool json, bool by_level, const char *output,
                       const char *target, const char **pipelines, size_t npipelines, bool without) {
  if (optind == argc) return sg_cli_usage_error("analyze", "what to analyze? (logsources, attack, fields)");
  const char *what = argv[optind];
  bool attack = !strcmp(what, "attack"), fields = !strcmp(what, "fields");
  if (!attack && !fields && strcmp(what, "logsources"))
    return sg_cli_usage_error("analyze", "unknown analysis '%s' (logsources, attack, fields)", what);
  if (optind + 1 == argc) return sg_cli_usage_error("analyze", "missing PATH (a rule file or a directory)");
  if (attack && json)
    return sg_cli_usage_error("analyze", "--json is an option of analyze logsources and fields");
  if (!attack && by_level) return sg_cli_usage_error("analyze", "--by-level is an option of analyze attack");
  if (!fields && (target || npipelines || without))
    return sg_cli_usage_error("analyze", "-t, -p and --without-pipeline are options of analyze fields");
  if (fields && !target)
    return sg_cli_usage_error("analyze", "analyze fields needs -t TARGET (sigmacc list targets)");
  FILE *out = stdout;
  if (output && strcmp(output, "-") && !(out = fopen(output, "w"))) {
    fprintf(stderr, "sigmacc analyze: error[E001]: cannot write %s: %s\n", output, strerror(errno));
    return 2;
  }
  if (fields) { /* a conversion that lists each rule's fields instead of its queries */
    SgConvertJob job = {.target = target,
                        .pipelines = pipelines,
                        .npipelines = npipelines,
                        .without_pipeline = without,
                        .fields = json ? 2 : 1};
    SgConvertResult cr;
    sg_convert_run(&job, argv + optind + 1, (size_t)(argc - optind - 1), &cr);
    if (cr.diags.len) fwrite(cr.diags.data, 1, cr.diags.len, stderr);
    if (cr.out.len) fwrite(cr.out.data, 1, cr.out.len, out);
    int frc = cr.exit_code;
    if (out != stdout && fclose(out)) frc = 2;
    sg_convert_result_free(&cr);
    return frc;
  }
  SgAnalyzeResult res;
  if (attack)
    sg_analyze_attack(argv + optind + 1, (size_t)(argc - optind - 1), by_level, &res);
  else
    sg_analyze_logsources(argv + optind + 1, (size_t)(argc - optind - 1), json, &res);
  if (res.diags.len) fwrite(res.diags.data, 1, res.diags.len, stderr);
  if (res.out.len) fwrite(res.out.data, 1, res.out.len, out);
  fputs(sg_buf_cstr(&res.summary), stderr);
  int rc = res.exit_code;
  if (out != stdout && fclose(out)) {
    fprintf(stderr, "sigmacc analyze: error[E001]: cannot write %s: %s\n", output, strerror(errno));
    rc = 2;
  }
  sg_analyze_result_free(&res);
  return rc;
}

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

static const char usage[] =
    "usage: sigmacc <command> [options]\n"
    "\n"
    "Commands:\n"
    "  convert -t TARGET [-p PIPELINE]... [-f FORMAT] [-O key=value]... [-s] [-o OUT] PATH...\n"
    "                     convert Sigma rules to queries (targets: aql, splunk, splunk_spl2, ast)\n"
    "  check [--json] [--validation-config FILE] [-x VALIDATOR]... [--fail-on error|warning] PATH...\n"
    "                     validate rules; print located diagnostics and validator findings\n"
    "  eval -r RULES... [-p PIPELINE]... [-f jsonl|csv|table] [--summary] [-j N] [EVENTS...]\n"
    "                     match rules against EVTX files and JSON events (evtx_dump shape or flat)\n"
    "  analyze logsources|attack|fields [options] PATH...\n"
    "                     rules per log source; an ATT&CK Navigator layer; the fields rules read\n"
    "  list targets|formats [TARGET]|pipelines|modifiers|diagnostics|warnings|validators\n"
    "\n"
    "  --help, --version\n"
    "Run 'sigmacc <command> --help' for the options of a command.\n" SG_CLI_EXIT_HELP
    "eval also exits 3 when documents were skipped or a result could not be decided.\n";

/* Standard output must have taken every byte: a full disk, a closed stdout
 * or a failing close is an error naming it (exit 2), never a silent exit 0. */
static int finish(const char *cmd, int rc) {
  bool failed = ferror(stdout) != 0;
  errno = 0;
  if (fclose(stdout) != 0) failed = true;
  if (!failed) return rc;
  fprintf(stderr, "sigmacc%s%s: error[E001]: cannot write standard output%s%s\n", *cmd ? " " : "", cmd,
          errno ? ": " : "", errno ? strerror(errno) : "");
  return 2;
}

static int dispatch(int argc, char **argv) {
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

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  return finish(argv[1][0] == '-' ? "" : argv[1], dispatch(argc, argv));
}
