/* pages.c - `sigmacc pages`: arguments, then the library's site generator. */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char pages_usage[] =
    "usage: sigmacc pages (-o DIR | --check DIR | --update DIR) [--config FILE] [-p PIPELINE]...\n"
    "                     [--regression-data DIR] PATH...\n"
    "  a static site of detection pages: a page per rule file (ATT&CK tactics and techniques by\n"
    "  name, the data source, per platform the detection in words and the query as convert\n"
    "  writes it, false positives, references, the verdicts on the rule's sample events, the\n"
    "  portable rule to download), a page per technique, an index laid out as the ATT&CK matrix\n"
    "  with a search that works from file://\n"
    "  -o, --output DIR   write the site to DIR\n"
    "  --check DIR        compare the site with DIR (a unified diff per differing file; exit 1)\n"
    "  --update DIR       rewrite DIR (files no rule produces are removed)\n"
    "  --config FILE      YAML: title, targets: [{name, target, pipelines: [...], format}]\n"
    "                     (default: IBM QRadar aql with qradar; Splunk splunk and splunk_spl2\n"
    "                     with sysmon and splunk_windows)\n"
    "  -p, --pipeline     a pipeline added to every platform and to the evaluator; "
    "repeatable\n" SG_CLI_WARN_HELP SG_CLI_EXIT_HELP;

int sg_cli_pages(int argc, char **argv) {
  enum { OPT_CHECK = 256, OPT_UPDATE, OPT_CONFIG, OPT_REGRESSION };
  static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                           {"check", required_argument, NULL, OPT_CHECK},
                                           {"update", required_argument, NULL, OPT_UPDATE},
                                           {"config", required_argument, NULL, OPT_CONFIG},
                                           {"pipeline", required_argument, NULL, 'p'},
                                           {"regression-data", required_argument, NULL, OPT_REGRESSION},
                                           {"warn", required_argument, NULL, 'W'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char **pipelines = calloc((size_t)argc + 1, sizeof *pipelines);
  if (!pipelines) return 2;
  SgWarnPolicy warn = {0};
  SgPagesJob job = {.pipelines = pipelines, .warnings = &warn};
  int rc = -1;
  optind = 1;
  opterr = 0;
  for (int c; rc < 0 && (c = getopt_long(argc, argv, ":ho:p:W:", longopts, NULL)) != -1;) {
    if (c == 'h') {
      fputs(pages_usage, stdout);
      rc = 0;
    } else if (c == 'o') {
      job.outdir = optarg;
    } else if (c == OPT_CHECK || c == OPT_UPDATE) {
      job.golden = optarg;
      job.update = c == OPT_UPDATE;
    } else if (c == OPT_CONFIG) {
      job.config = optarg;
    } else if (c == OPT_REGRESSION) {
      job.regression_data = optarg;
    } else if (c == 'p') {
      pipelines[job.npipelines++] = optarg;
    } else if (c == 'W') {
      rc = sg_cli_warn_option("pages", &warn, optarg);
    } else {
      rc = sg_cli_option_error("pages", c, argv, longopts);
    }
  }
  if (rc < 0 && optind == argc) rc = sg_cli_usage_error("pages", "missing PATH (a rule file or a directory)");
  if (rc < 0 && !!job.outdir + !!job.golden != 1)
    rc = sg_cli_usage_error("pages", "give the site's folder once: -o DIR, --check DIR or --update DIR");
  if (rc < 0) {
    SgPagesResult res;
    sg_pages_run(&job, argv + optind, (size_t)(argc - optind), &res);
    if (res.diags.len) fwrite(res.diags.data, 1, res.diags.len, stderr);
    if (res.out.len) fwrite(res.out.data, 1, res.out.len, stdout);
    if (job.outdir && res.exit_code != 2)
      fprintf(stderr, "sigmacc pages: %zu rule pages and %zu technique pages in %s%s\n", res.pages,
              res.techniques, job.outdir, res.failed ? " (rules that did not load have no page)" : "");
    rc = res.exit_code;
    sg_pages_result_free(&res);
  }
  free(pipelines);
  return rc;
}
