/* convert.c - `sigmacc convert`: its arguments, then sg_convert_run (the
 * library converts the batch); diagnostics to stderr, the output to stdout
 * or -o.
 */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char convert_usage[] =
    "usage: sigmacc convert -t TARGET [-p PIPELINE]... [--without-pipeline] [-f FORMAT]\n"
    "                       [-O key=value]... [-s] [-o OUT] PATH...\n"
    "  -t, --target       aql (alias qradar), splunk, splunk_spl2 (alias spl2), text, ast\n"
    "  -p, --pipeline     built-in pipeline name, pipeline YAML file or directory (repeatable)\n"
    "  --without-pipeline do not apply the target's default pipeline\n"
    "  -f, --format       output format (see 'sigmacc list formats TARGET')\n"
    "  -O, --option       backend option key=value (repeatable)\n"
    "  --filter FILE      apply the Sigma filters in FILE (repeatable); filter documents among\n"
    "                     the PATHs apply to the whole batch too\n"
    "  -s, --skip-unsupported  report rules that cannot be converted, convert the rest, exit 0\n"
    "  -o, --output       write the output to a file instead of stdout (- is stdout)\n"
    "  --check DIR        compare each rule file's output with DIR/<relative path>.<ext>;\n"
    "                     print a diff for each difference, list missing and extra files, exit 1\n"
    "  --update DIR       write those files instead (the explicit golden update)\n"
    "  --junit FILE       with --check: also write the comparison as JUnit XML (a testcase per file)\n"
    "  --junit FILE       with --check: also write the comparison as JUnit XML (a testcase per file)\n"
    "  --json-diagnostics diagnostics as JSON lines on stderr\n"
    "  --header           a line '# PATH:LINE ID TITLE' before each rule's queries (text formats;\n"
    "                     not part of the query)\n" SG_CLI_WARN_HELP
    "PATH is a rule file or a directory of them; - reads rules from stdin.\n" SG_CLI_EXIT_HELP;

typedef struct ConvArgs {
  const char *target, *format, *output, *golden, *junit;
  bool update;
  const char **pipelines, **filters;
  size_t npipelines, nfilters;
  SgOption *opts;
  size_t nopts;
  char **paths;
  int npaths;
  bool skip, without_pipeline, json, header;
  SgWarnPolicy warn;
} ConvArgs;

enum { OPT_WITHOUT = 256, OPT_FILTER, OPT_CHECK, OPT_UPDATE, OPT_JSON, OPT_HEADER, OPT_JUNIT };

static const struct option longopts[] = {
    {"target", required_argument, NULL, 't'},
    {"pipeline", required_argument, NULL, 'p'},
    {"format", required_argument, NULL, 'f'},
    {"option", required_argument, NULL, 'O'},
    {"backend-option", required_argument, NULL, 'O'}, /* sigma-cli's name */
    {"output", required_argument, NULL, 'o'},
    {"skip-unsupported", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {"without-pipeline", no_argument, NULL, OPT_WITHOUT},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"check", required_argument, NULL, OPT_CHECK},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"update", required_argument, NULL, OPT_UPDATE},
    {"json-diagnostics", no_argument, NULL, OPT_JSON},
    {"warn", required_argument, NULL, 'W'},
    {"header", no_argument, NULL, OPT_HEADER},
    {NULL, 0, NULL, 0},
};

static int parse_args(int argc, char **argv, ConvArgs *a) {
  a->pipelines = calloc((size_t)argc + 1, sizeof *a->pipelines);
  a->filters = calloc((size_t)argc + 1, sizeof *a->filters);
  a->opts = calloc((size_t)argc + 1, sizeof *a->opts);
  if (!a->pipelines || !a->filters || !a->opts) return 2;
  optind = 1;
  opterr = 0;
  for (int c, rc; (c = getopt_long(argc, argv, ":t:p:f:O:o:shW:", longopts, NULL)) != -1;) {
    switch (c) {
    case 'W':
      if ((rc = sg_cli_warn_option("convert", &a->warn, optarg)) >= 0) return rc;
      break;
    case 'h': fputs(convert_usage, stdout); return 0;
    case 't': a->target = optarg; break;
    case 'f': a->format = optarg; break;
    case 'o': a->output = optarg; break;
    case 'p': a->pipelines[a->npipelines++] = optarg; break;
    case OPT_FILTER: a->filters[a->nfilters++] = optarg; break;
    case 'O': {
      const char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg) return sg_cli_usage_error("convert", "option '%s' is not key=value", optarg);
      a->opts[a->nopts].key = strndup(optarg, (size_t)(eq - optarg));
      a->opts[a->nopts++].value = eq + 1;
      break;
    }
    case OPT_CHECK:
    case OPT_UPDATE:
      if (a->golden) return sg_cli_usage_error("convert", "give one --check or --update");
      a->update = c == OPT_UPDATE;
      a->golden = optarg;
      break;
    case 's': a->skip = true; break;
    case OPT_WITHOUT: a->without_pipeline = true; break;
    case OPT_JSON: a->json = true; break;
    case OPT_HEADER: a->header = true; break;
    case OPT_JUNIT: a->junit = optarg; break;
    default: return sg_cli_option_error("convert", c, argv, longopts);
    }
  }
  a->paths = argv + optind;
  a->npaths = argc - optind;
  if (!a->target) return sg_cli_usage_error("convert", "missing -t TARGET (see 'sigmacc list targets')");
  if (!a->npaths)
    return sg_cli_usage_error("convert", "missing PATH (a rule file, a directory, or - for stdin)");
  if (a->junit && (!a->golden || a->update))
    return sg_cli_usage_error("convert", "--junit reports a --check: give --check DIR");
  if (a->golden && a->output)
    return sg_cli_usage_error("convert", "--%s writes its report to stdout: -o does not apply",
                              a->update ? "update" : "check");
  return -1; /* go on */
}

static void free_args(ConvArgs *a) {
  for (size_t i = 0; i < a->nopts; i++)
    free((char *)a->opts[i].key);
  free(a->pipelines);
  free(a->filters);
  free(a->opts);
}

int sg_cli_convert(int argc, char **argv) {
  ConvArgs args = {0};
  int rc = parse_args(argc, argv, &args);
  if (rc >= 0) {
    free_args(&args);
    return rc;
  }
  SgConvertJob job = {.target = args.target,
                      .format = args.format,
                      .opts = args.opts,
                      .nopts = args.nopts,
                      .pipelines = args.pipelines,
                      .npipelines = args.npipelines,
                      .without_pipeline = args.without_pipeline,
                      .filters = args.filters,
                      .nfilters = args.nfilters,
                      .skip_unsupported = args.skip,
                      .json_diagnostics = args.json,
                      .golden = args.golden,
                      .update = args.update,
                      .warnings = &args.warn,
                      .header = args.header};
  SgConvertResult res;
  sg_convert_run(&job, args.paths, (size_t)args.npaths, &res);
  if (res.diags.len) fwrite(res.diags.data, 1, res.diags.len, stderr);
  rc = res.exit_code;
  if (rc != 2 || res.out.len) {
    bool to_stdout = !args.output || !strcmp(args.output, "-");
    FILE *f = to_stdout ? stdout : fopen(args.output, "wb");
    bool ok = f && (!res.out.len || fwrite(res.out.data, 1, res.out.len, f) == res.out.len);
    if (f && !to_stdout && fclose(f) != 0) ok = false; /* standard output: main() checks it */
    if (!ok) {
      fprintf(stderr, "sigmacc convert: error[E001]: cannot write '%s': %s\n",
              args.output ? args.output : "-", strerror(errno));
      rc = 2;
    }
  }
  if (args.junit) {
    FILE *f = fopen(args.junit, "wb");
    if (!f || fwrite(res.junit.data, 1, res.junit.len, f) != res.junit.len || fclose(f)) {
      fprintf(stderr, "sigmacc convert: error[E001]: cannot write '%s': %s\n", args.junit, strerror(errno));
      rc = 2;
    }
  }
  sg_convert_result_free(&res);
  free_args(&args);
  return rc;
}
