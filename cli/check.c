/* check.c - `sigmacc check`: its arguments, then sg_check_run; prints the diagnostics and the summary. */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* ---- check ----------------------------------------------------------------------- */

static const char check_usage[] =
    "usage: sigmacc check [--json] [--validation-config FILE] [-x VALIDATOR]... [--fail-on error|warning]\n"
    "                     [--sigmahq] [--sigmahq-data DIR] [--attack-data FILE] [--sarif FILE]\n"
    "                     [--junit FILE] PATH...\n"
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
    "  --sarif FILE       also write the findings as SARIF 2.1.0 (GitHub code scanning, GitLab)\n"
    "  --junit FILE       also write them as JUnit XML: a testcase per file, failed by its errors\n"
    "  --sigmahq          SigmaHQ's validators too (pySigma-validators-sigmaHQ: its conventions for\n"
    "                     titles, file names, dates, tags, fields); a configuration's 'all' has them\n"
    "  --sigmahq-data DIR SigmaHQ's data files (sigmahq_taxonomy.json, sigmahq_filename.json,\n"
    "                     sigmahq_windows_validator.json) for the seven validators that read them;\n"
    "                     ./validator_json when it exists (pySigma's place)\n"
    "  --attack-data FILE ATT&CK techniques (MITRE's techniques.tsv: id, name, tactics, status)\n"
    "                     instead of the compiled-in ATT&CK data\n" SG_CLI_WARN_HELP SG_CLI_EXIT_HELP;

int sg_cli_check(int argc, char **argv) {
  enum { OPT_CONFIG = 256, OPT_FAIL_ON, OPT_ATTACK, OPT_SARIF, OPT_JUNIT, OPT_SIGMAHQ, OPT_HQ_DATA };
  static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                           {"warn", required_argument, NULL, 'W'},
                                           {"validation-config", required_argument, NULL, OPT_CONFIG},
                                           {"exclude", required_argument, NULL, 'x'},
                                           {"fail-on", required_argument, NULL, OPT_FAIL_ON},
                                           {"attack-data", required_argument, NULL, OPT_ATTACK},
                                           {"sigmahq", no_argument, NULL, OPT_SIGMAHQ},
                                           {"sigmahq-data", required_argument, NULL, OPT_HQ_DATA},
                                           {"sarif", required_argument, NULL, OPT_SARIF},
                                           {"junit", required_argument, NULL, OPT_JUNIT},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  SgWarnPolicy warn = {0};
  SgCheckJob job = {.warnings = &warn};
  const char *sarif = NULL, *junit = NULL;
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
    case OPT_SIGMAHQ: job.sigmahq = true; break;
    case OPT_HQ_DATA: job.sigmahq_data = optarg; break;
    case OPT_SARIF: sarif = optarg; break;
    case OPT_JUNIT: junit = optarg; break;
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
  struct stat st;
  if (!job.sigmahq_data && !stat("validator_json", &st) && S_ISDIR(st.st_mode))
    job.sigmahq_data = "validator_json";
  const char *epoch = getenv("SOURCE_DATE_EPOCH"); /* a reproducible "today" */
  if (epoch && *epoch) job.today = strtoll(epoch, NULL, 10) / 86400;
  job.paths = argv + optind;
  job.npaths = (size_t)(argc - optind);
  job.reports = sarif || junit;
  SgCheckResult res;
  sg_check_run(&job, &res);
  if (res.out.len) fwrite(res.out.data, 1, res.out.len, stdout);
  fputs(sg_buf_cstr(&res.summary), job.json ? stderr : stdout);
  rc = res.exit_code;
  for (int k = 0; k < 2; k++) { /* the reports CI shows */
    const char *file = k ? junit : sarif;
    if (!file) continue;
    SgBuf b = {0};
    if (k)
      sg_check_junit(&res, job.fail_on_warning, &b);
    else
      sg_check_sarif(&res, &b);
    FILE *f = fopen(file, "wb");
    if (b.oom || !f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f)) {
      fprintf(stderr, "sigmacc check: error[E001]: cannot write %s\n", file);
      rc = 2;
    }
    sg_buf_free(&b);
  }
  sg_check_result_free(&res);
  free(exclude);
  return rc;
}
