/* test.c - `sigmacc test`: its arguments, then sg_test_run; the report to
 * standard output, the JUnit XML to --junit FILE. */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char test_usage[] =
    "usage: sigmacc test [--regression-data DIR] [-p PIPELINE]... [--junit FILE] PATH...\n"
    "  --regression-data DIR  SigmaHQ's regression_data/ folder (default: the one found above each\n"
    "                     rule file)\n"
    "  -p, --pipeline     extra pipeline for the evaluator (as eval's -p)\n"
    "  --junit FILE       also write the results as JUnit XML (one testcase per test)\n"
    "For every rule with regression_tests_path, its info.yml (regression_tests_info: name, type,\n"
    "match_count, path) is read and the rule alone is evaluated on each file: the matches must be\n"
    "match_count, or at least one when it is not given; info.yml must name the rule in\n"
    "rule_metadata. R.events.jsonl beside a rule R.yml must match, R.nomatch.jsonl must not.\n"
    "A line per test (PASS or FAIL, with what and where), then the counts.\n"
    "Exit status: 0 every test passed; 1 a test failed; 2 usage error or unreadable input.\n";

static const struct option longopts[] = {
    {"regression-data", required_argument, NULL, 'R'},
    {"pipeline", required_argument, NULL, 'p'},
    {"junit", required_argument, NULL, 'J'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int sg_cli_test(int argc, char **argv) {
  const char *junit = NULL;
  const char **pipelines = calloc((size_t)argc + 1, sizeof *pipelines);
  if (!pipelines) return 2;
  SgTestJob job = {.pipelines = pipelines};
  optind = 1;
  opterr = 0;
  int rc = -1;
  for (int c; rc < 0 && (c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1;) {
    switch (c) {
    case 'h':
      fputs(test_usage, stdout);
      rc = 0;
      break;
    case 'R': job.regression_data = optarg; break;
    case 'p': pipelines[job.npipelines++] = optarg; break;
    case 'J': junit = optarg; break;
    default: rc = sg_cli_option_error("test", c, argv, longopts);
    }
  }
  if (rc < 0 && optind >= argc) rc = sg_cli_usage_error("test", "give the rule files or folders to test");
  if (rc >= 0) {
    free(pipelines);
    return rc;
  }
  SgTestResult res;
  sg_test_run(&job, argv + optind, (size_t)(argc - optind), &res);
  fputs(sg_buf_cstr(&res.diags), stderr);
  fputs(sg_buf_cstr(&res.out), stdout);
  rc = res.exit_code;
  if (junit) {
    FILE *f = fopen(junit, "wb");
    if (!f || fwrite(res.junit.data, 1, res.junit.len, f) != res.junit.len || fclose(f)) {
      fprintf(stderr, "sigmacc test: error[E001]: cannot write %s: %s\n", junit, strerror(errno));
      rc = 2;
    }
  }
  sg_test_result_free(&res);
  free(pipelines);
  return rc;
}
