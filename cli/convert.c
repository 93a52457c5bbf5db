/* convert.c - `sigmacc convert`: its arguments, then sg_convert_run (the
 * library converts the batch); diagnostics to stderr, the output to stdout
 * or -o.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char convert_usage[] =
    "usage: sigmacc convert -t TARGET [-p PIPELINE]... [--without-pipeline] [-f FORMAT]\n"
    "                       [-O key=value]... [-s] [-o OUT] PATH...\n"
    "  -t, --target       aql (alias qradar), splunk, ast\n"
    "  -p, --pipeline     built-in pipeline name, pipeline YAML file or directory (repeatable)\n"
    "  --without-pipeline do not apply the target's default pipeline\n"
    "  -f, --format       output format (see 'sigmacc list formats TARGET')\n"
    "  -O, --option       backend option key=value (repeatable)\n"
    "  --filter FILE      apply the Sigma filters in FILE (repeatable); filter documents among\n"
    "                     the PATHs apply to the whole batch too\n"
    "  -s, --skip-unsupported  report rules that cannot be converted, convert the rest, exit 0\n"
    "  -o, --output       write the output to a file instead of stdout\n"
    "  --check DIR        compare each rule file's output with DIR/<relative path>.<ext>;\n"
    "                     print a diff for each difference, list missing and extra files, exit 1\n"
    "  --update DIR       write those files instead (the explicit golden update)\n"
    "  --json-diagnostics diagnostics as JSON lines on stderr\n";

typedef struct ConvArgs {
  const char *target, *format, *output, *golden;
  bool update;
  const char **pipelines, **filters;
  size_t npipelines, nfilters;
  SgOption *opts;
  size_t nopts;
  char **paths;
  int npaths;
  bool skip, without_pipeline, json;
} ConvArgs;

static const char *take(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "sigmacc convert: option '%s' needs a value\n", argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

static int parse_args(int argc, char **argv, ConvArgs *a) {
  a->pipelines = calloc((size_t)argc + 1, sizeof *a->pipelines);
  a->filters = calloc((size_t)argc + 1, sizeof *a->filters);
  a->opts = calloc((size_t)argc + 1, sizeof *a->opts);
  a->paths = calloc((size_t)argc + 1, sizeof *a->paths);
  if (!a->pipelines || !a->filters || !a->opts || !a->paths) return 2;
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i], *v;
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
      fputs(convert_usage, stdout);
      return 0;
    } else if (!strcmp(s, "-t") || !strcmp(s, "--target")) {
      if (!(a->target = take(argc, argv, &i))) return 2;
    } else if (!strcmp(s, "-f") || !strcmp(s, "--format")) {
      if (!(a->format = take(argc, argv, &i))) return 2;
    } else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
      if (!(a->output = take(argc, argv, &i))) return 2;
    } else if (!strcmp(s, "-p") || !strcmp(s, "--pipeline")) {
      if (!(v = take(argc, argv, &i))) return 2;
      a->pipelines[a->npipelines++] = v;
    } else if (!strcmp(s, "--filter")) {
      if (!(v = take(argc, argv, &i))) return 2;
      a->filters[a->nfilters++] = v;
    } else if (!strcmp(s, "-O") || !strcmp(s, "--option") || !strcmp(s, "--backend-option")) {
      if (!(v = take(argc, argv, &i))) return 2;
      const char *eq = strchr(v, '=');
      if (!eq || eq == v) {
        fprintf(stderr, "sigmacc convert: option '%s' is not key=value\n", v);
        return 2;
      }
      a->opts[a->nopts].key = strndup(v, (size_t)(eq - v));
      a->opts[a->nopts++].value = eq + 1;
    } else if (!strcmp(s, "--check") || !strcmp(s, "--update")) {
      if (a->golden) {
        fprintf(stderr, "sigmacc convert: give one --check or --update\n");
        return 2;
      }
      a->update = !strcmp(s, "--update");
      if (!(a->golden = take(argc, argv, &i))) return 2;
    } else if (!strcmp(s, "-s") || !strcmp(s, "--skip-unsupported")) {
      a->skip = true;
    } else if (!strcmp(s, "--without-pipeline")) {
      a->without_pipeline = true;
    } else if (!strcmp(s, "--json-diagnostics")) {
      a->json = true;
    } else if (s[0] == '-' && s[1]) {
      fprintf(stderr, "sigmacc convert: unknown option '%s'\n%s", s, convert_usage);
      return 2;
    } else {
      a->paths[a->npaths++] = argv[i];
    }
  }
  if (!a->target || !a->npaths) {
    fputs(convert_usage, stderr);
    return 2;
  }
  return -1; /* go on */
}

static void free_args(ConvArgs *a) {
  for (size_t i = 0; i < a->nopts; i++)
    free((char *)a->opts[i].key);
  free(a->pipelines);
  free(a->filters);
  free(a->opts);
  free(a->paths);
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
                      .update = args.update};
  SgConvertResult res;
  sg_convert_run(&job, args.paths, (size_t)args.npaths, &res);
  if (res.diags.len) fwrite(res.diags.data, 1, res.diags.len, stderr);
  rc = res.exit_code;
  if (rc != 2 || res.out.len) {
    FILE *f = args.output ? fopen(args.output, "wb") : stdout;
    if (!f) {
      fprintf(stderr, "sigmacc convert: cannot write '%s'\n", args.output);
      rc = 2;
    } else {
      if (res.out.len && fwrite(res.out.data, 1, res.out.len, f) != res.out.len) rc = 2;
      if (args.output && fclose(f) != 0) rc = 2;
    }
  }
  sg_convert_result_free(&res);
  free_args(&args);
  return rc;
}
