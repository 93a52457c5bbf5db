/* analyze.c - `sigmacc analyze`: logsources, attack and fields: arguments, then the library's analysis. */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

int sg_cli_analyze(int argc, char **argv) {
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
