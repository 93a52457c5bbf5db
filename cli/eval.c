/* eval.c - `sigmacc eval`: its arguments, then sg_eval_run (the library
 * loads the rules and streams the events) with stdout and stderr as sinks.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char eval_usage[] =
    "usage: sigmacc eval -r RULES [-r RULES]... [-p PIPELINE]... [--without-pipeline]\n"
    "                    [-s] [--fields F1,F2,...] [--stats] [EVENTS...]\n"
    "  -r, --rules        rule file or directory (repeatable)\n"
    "  -p, --pipeline     extra pipeline (built-in name, file or directory)\n"
    "  --without-pipeline do not apply the evtx pipeline to Windows rules\n"
    "  --filter FILE      apply the Sigma filters in FILE (repeatable); filter documents among\n"
    "                     the RULES apply to all of them too\n"
    "  -s, --skip-unsupported  report rules that cannot be evaluated, run the rest, exit 0\n"
    "  --fields           print these event fields instead of the whole event\n"
    "  --stats            print events read, bytes, matches, skipped and events/s to stderr\n"
    "  --check DIR        for each rule file R.yml with sample events R.events.jsonl beside it,\n"
    "                     compare the matches with DIR/<relative path>.jsonl (--update DIR writes them)\n"
    "EVENTS are JSON lines, a JSON array or concatenated objects; none or '-' reads stdin.\n"
    "Exit: 0 ok; 1 a rule had an error; 2 usage or unreadable input; 3 documents were skipped\n"
    "as malformed, no event was read, or a result could not be decided (a regex limit).\n";

typedef struct EvalArgs {
  char **rules, **events, **pipelines;
  const char **filters;
  int nrules, nevents, npipelines;
  size_t nfilters;
  const char *fields, *golden;
  bool stats, without_pipeline, skip, update;
} EvalArgs;

static int parse_eval_args(int argc, char **argv, EvalArgs *a) {
  a->rules = calloc((size_t)argc + 1, sizeof *a->rules);
  a->events = calloc((size_t)argc + 1, sizeof *a->events);
  a->pipelines = calloc((size_t)argc + 1, sizeof *a->pipelines);
  a->filters = calloc((size_t)argc + 1, sizeof *a->filters);
  if (!a->rules || !a->events || !a->pipelines || !a->filters) return 2;
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    bool has_val = i + 1 < argc;
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
      fputs(eval_usage, stdout);
      return 0;
    } else if ((!strcmp(s, "-r") || !strcmp(s, "--rules")) && has_val) {
      a->rules[a->nrules++] = argv[++i];
    } else if ((!strcmp(s, "-p") || !strcmp(s, "--pipeline")) && has_val) {
      a->pipelines[a->npipelines++] = argv[++i];
    } else if (!strcmp(s, "--filter") && has_val) {
      a->filters[a->nfilters++] = argv[++i];
    } else if (!strcmp(s, "--fields") && has_val) {
      a->fields = argv[++i];
    } else if (!strcmp(s, "-s") || !strcmp(s, "--skip-unsupported")) {
      a->skip = true;
    } else if ((!strcmp(s, "--check") || !strcmp(s, "--update")) && has_val && !a->golden) {
      a->update = !strcmp(s, "--update");
      a->golden = argv[++i];
    } else if (!strcmp(s, "--stats")) {
      a->stats = true;
    } else if (!strcmp(s, "--without-pipeline")) {
      a->without_pipeline = true;
    } else if (s[0] == '-' && s[1]) {
      fprintf(stderr, "sigmacc eval: unknown option or missing value '%s'\n%s", s, eval_usage);
      return 2;
    } else {
      a->events[a->nevents++] = argv[i];
    }
  }
  if (!a->nrules) {
    fputs(eval_usage, stderr);
    return 2;
  }
  return -1;
}

static void to_file(void *ctx, const char *s, size_t n) { fwrite(s, 1, n, (FILE *)ctx); }
static void to_stderr(void *ctx, const char *s, size_t n) {
  (void)ctx;
  fwrite(s, 1, n, stderr);
}

int sg_cli_eval(int argc, char **argv) {
  EvalArgs args = {0};
  int rc = parse_eval_args(argc, argv, &args);
  if (rc < 0) {
    SgEvalJob job = {.rules = args.rules,
                     .nrules = (size_t)args.nrules,
                     .events = args.events,
                     .nevents = (size_t)args.nevents,
                     .pipelines = (const char *const *)args.pipelines,
                     .npipelines = (size_t)args.npipelines,
                     .filters = args.filters,
                     .nfilters = args.nfilters,
                     .fields = args.fields,
                     .golden = args.golden,
                     .update = args.update,
                     .stats = args.stats,
                     .without_pipeline = args.without_pipeline,
                     .skip_unsupported = args.skip,
                     .progress = isatty(2)};
    SgEvalSink sink = {to_file, to_stderr, stdout};
    rc = sg_eval_run(&job, &sink);
  }
  free(args.rules);
  free(args.events);
  free(args.pipelines);
  free(args.filters);
  return rc;
}
