/* eval.c - `sigmacc eval`: its arguments, then sg_eval_run (the library
 * loads the rules and streams the events) with stdout and stderr as sinks.
 */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char eval_usage[] =
    "usage: sigmacc eval -r RULES [-r RULES]... [-p PIPELINE]... [--without-pipeline]\n"
    "                    [-s] [-f jsonl|csv|table] [--csv-exact] [--summary] [--fields F1,F2,...]\n"
    "                    [--min-level L] [--status S,...] [--tag T]... [--from T] [--to T]\n"
    "                    [--include-deprecated] [--include-unsupported] [--exclude-status S,...]\n"
    "                    [--exclude-tag T]... [--exclude-rules FILE]\n"
    "                    [-j N] [--stats] [--input-order] [--dedup] [--timezone +HH:MM|local] [--utc]\n"
    "                    [-o FILE] [--html FILE] [EVENTS...]\n"
    "  -r, --rules        rule file or directory (repeatable)\n"
    "  -p, --pipeline     extra pipeline (built-in name, file or directory)\n"
    "  --without-pipeline do not apply the evtx pipeline to Windows rules\n"
    "  --filter FILE      apply the Sigma filters in FILE (repeatable); filter documents among\n"
    "                     the RULES apply to all of them too\n"
    "  -s, --skip-unsupported  report rules that cannot be evaluated, run the rest, exit 0\n"
    "  --include-deprecated, --include-unsupported\n"
    "                     load rules with status deprecated or unsupported, or in a deprecated/ or\n"
    "                     unsupported/ folder (left out by default, and counted on stderr)\n"
    "  --exclude-status S,...  leave out rules with these statuses\n"
    "  --exclude-tag T    leave out rules tagged T or under it (repeatable)\n"
    "  --exclude-rules FILE  leave out the rules FILE lists: ids or paths, one per line, # comments\n"
    "  -f, --format       jsonl: one JSON line per match, with the event (the default when the\n"
    "                     output is not a terminal); csv or table: a timeline (time, computer,\n"
    "                     channel, event id, record id, level, rule title, rule id, details),\n"
    "                     sorted by event time; on a terminal the default is the table and\n"
    "                     then the summary\n"
    "  --input-order      csv, table: matches in the order the events were read, not by time\n"
    "  -o, --output FILE  write the matches (any format) to FILE instead of standard output\n"
    "  --dedup            show an event's matches once when the same event is read again (one\n"
    "                     log in two files); the count left out is said on stderr\n"
    "  --html FILE        also write a report page: counts, matches over time, top rules and\n"
    "                     computers, the timeline per level, each rule's detail (one file, no script)\n"
    "  --timezone Z       times at this offset (+02:00, -05:30) or in local time (local); --utc\n"
    "                     (the default) writes them in UTC with a Z\n"
    "  --csv-exact        csv cells exactly as the events have them (by default a cell that\n"
    "                     begins with =, +, -, @, tab or CR gets a leading ', so a spreadsheet\n"
    "                     does not run it as a formula)\n"
    "  --summary          counts per level, rule and computer instead of the matches (a table\n"
    "                     on a terminal or with -f table, JSON otherwise)\n"
    "  --fields           print these event fields instead of the whole event (csv: a column\n"
    "                     each; table: the details)\n"
    "  --min-level L      only matches of rules of level L or above (informational, low,\n"
    "                     medium, high, critical)\n"
    "  --status S,...     only matches of rules with one of these statuses\n"
    "  --tag T            only matches of rules tagged T or under it (attack.t1059 takes\n"
    "                     attack.t1059.001); repeatable\n";
static const char eval_usage_more[] =
    "  --from T, --to T   only events in this window (2024-05-01T12:00:00Z, or a date: that day)\n"
    "  -j, --jobs N       threads matching events (default: one per core); the output is the\n"
    "                     same for every N\n"
    "  --stats            print events read, bytes, matches, skipped and events/s to "
    "stderr\n"
    "  --logsource product=P,category=C,service=S\n"
    "                     the log source of events that have none of their own (not evtx_dump's\n"
    "                     shape): only rules that can apply to it fire on them\n" SG_CLI_WARN_HELP
    "  --check DIR        for each rule file R.yml with sample events R.events.jsonl beside it,\n"
    "                     compare the matches with DIR/<relative path>.jsonl (--update DIR writes them);\n"
    "                     sample events that match nothing are an error; R.nomatch.jsonl holds events\n"
    "                     the rule must not match; rule files with neither are listed\n"
    "EVENTS are EVTX files, JSON lines, a JSON array or concatenated objects, plain or gzip (read\n"
    "from the bytes, not the name); a directory: every file under it; none or '-' reads stdin.\n"
    "Windows events (EVTX, evtx_dump's JSON) only meet rules for Windows or for a log source\n"
    "a pipeline maps for Windows.\n"
    "Exit status: 0 success; 1 a rule had an error (or golden files differ); 2 usage error or\n"
    "unreadable input; 3 documents were skipped as malformed, no event was read, or a result\n"
    "could not be decided (a regex limit).\n";

typedef struct EvalArgs {
  char **rules, **events, **pipelines; /* events: the arguments after the options */
  const char **filters;
  int nrules, nevents, npipelines;
  size_t nfilters;
  const char *fields, *golden, *logsource, *format, *min_level, *status, *from, *to;
  const char **tags, **xtags;
  size_t ntags, nxtags, jobs;
  const char *xstatus, *xrules;
  bool include_deprecated, include_unsupported, input_order, dedup;
  const char *output, *timezone, *html;
  bool summary, csv_exact;
  bool stats, without_pipeline, skip, update;
  SgWarnPolicy warn;
} EvalArgs;

enum {
  OPT_WITHOUT = 256,
  OPT_FILTER,
  OPT_FIELDS,
  OPT_CHECK,
  OPT_UPDATE,
  OPT_STATS,
  OPT_LOGSOURCE,
  OPT_SUMMARY,
  OPT_MIN_LEVEL,
  OPT_STATUS,
  OPT_TAG,
  OPT_FROM,
  OPT_TO,
  OPT_CSV_EXACT,
  OPT_INCLUDE_DEPRECATED,
  OPT_INCLUDE_UNSUPPORTED,
  OPT_EXCLUDE_STATUS,
  OPT_EXCLUDE_TAG,
  OPT_EXCLUDE_RULES,
  OPT_INPUT_ORDER,
  OPT_DEDUP,
  OPT_TIMEZONE,
  OPT_UTC,
  OPT_HTML
};

static const struct option longopts[] = {
    {"rules", required_argument, NULL, 'r'},
    {"pipeline", required_argument, NULL, 'p'},
    {"skip-unsupported", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {"without-pipeline", no_argument, NULL, OPT_WITHOUT},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"fields", required_argument, NULL, OPT_FIELDS},
    {"check", required_argument, NULL, OPT_CHECK},
    {"update", required_argument, NULL, OPT_UPDATE},
    {"stats", no_argument, NULL, OPT_STATS},
    {"warn", required_argument, NULL, 'W'},
    {"logsource", required_argument, NULL, OPT_LOGSOURCE},
    {"format", required_argument, NULL, 'f'},
    {"summary", no_argument, NULL, OPT_SUMMARY},
    {"min-level", required_argument, NULL, OPT_MIN_LEVEL},
    {"status", required_argument, NULL, OPT_STATUS},
    {"tag", required_argument, NULL, OPT_TAG},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"jobs", required_argument, NULL, 'j'},
    {"csv-exact", no_argument, NULL, OPT_CSV_EXACT},
    {"include-deprecated", no_argument, NULL, OPT_INCLUDE_DEPRECATED},
    {"include-unsupported", no_argument, NULL, OPT_INCLUDE_UNSUPPORTED},
    {"exclude-status", required_argument, NULL, OPT_EXCLUDE_STATUS},
    {"exclude-tag", required_argument, NULL, OPT_EXCLUDE_TAG},
    {"exclude-rules", required_argument, NULL, OPT_EXCLUDE_RULES},
    {"input-order", no_argument, NULL, OPT_INPUT_ORDER},
    {"dedup", no_argument, NULL, OPT_DEDUP},
    {"timezone", required_argument, NULL, OPT_TIMEZONE},
    {"utc", no_argument, NULL, OPT_UTC},
    {"html", required_argument, NULL, OPT_HTML},
    {"output", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

static int parse_eval_args(int argc, char **argv, EvalArgs *a) {
  a->rules = calloc((size_t)argc + 1, sizeof *a->rules);
  a->pipelines = calloc((size_t)argc + 1, sizeof *a->pipelines);
  a->filters = calloc((size_t)argc + 1, sizeof *a->filters);
  a->tags = calloc((size_t)argc + 1, sizeof *a->tags);
  a->xtags = calloc((size_t)argc + 1, sizeof *a->xtags);
  if (!a->rules || !a->pipelines || !a->filters || !a->tags || !a->xtags) return 2;
  optind = 1;
  opterr = 0;
  for (int c, rc; (c = getopt_long(argc, argv, ":r:p:shW:f:j:o:", longopts, NULL)) != -1;) {
    switch (c) {
    case 'W':
      if ((rc = sg_cli_warn_option("eval", &a->warn, optarg)) >= 0) return rc;
      break;
    case 'h':
      fputs(eval_usage, stdout);
      fputs(eval_usage_more, stdout);
      return 0;
    case 'r': a->rules[a->nrules++] = optarg; break;
    case 'p': a->pipelines[a->npipelines++] = optarg; break;
    case OPT_FILTER: a->filters[a->nfilters++] = optarg; break;
    case OPT_FIELDS: a->fields = optarg; break;
    case 's': a->skip = true; break;
    case OPT_CHECK:
    case OPT_UPDATE:
      if (a->golden) return sg_cli_usage_error("eval", "give one --check or --update");
      a->update = c == OPT_UPDATE;
      a->golden = optarg;
      break;
    case OPT_STATS: a->stats = true; break;
    case OPT_LOGSOURCE: a->logsource = optarg; break;
    case 'f': a->format = optarg; break;
    case OPT_SUMMARY: a->summary = true; break;
    case OPT_CSV_EXACT: a->csv_exact = true; break;
    case OPT_MIN_LEVEL: a->min_level = optarg; break;
    case OPT_STATUS: a->status = optarg; break;
    case OPT_TAG: a->tags[a->ntags++] = optarg; break;
    case OPT_EXCLUDE_TAG: a->xtags[a->nxtags++] = optarg; break;
    case OPT_EXCLUDE_STATUS: a->xstatus = optarg; break;
    case OPT_EXCLUDE_RULES: a->xrules = optarg; break;
    case OPT_INCLUDE_DEPRECATED: a->include_deprecated = true; break;
    case OPT_INPUT_ORDER: a->input_order = true; break;
    case OPT_DEDUP: a->dedup = true; break;
    case OPT_TIMEZONE: a->timezone = optarg; break;
    case OPT_UTC: a->timezone = "Z"; break;
    case OPT_HTML: a->html = optarg; break;
    case 'o': a->output = optarg; break;
    case OPT_INCLUDE_UNSUPPORTED: a->include_unsupported = true; break;
    case OPT_FROM: a->from = optarg; break;
    case OPT_TO: a->to = optarg; break;
    case 'j': {
      char *end;
      long n = strtol(optarg, &end, 10);
      if (*end || n < 1 || n > 1024)
        return sg_cli_usage_error("eval", "-j takes a number of threads from 1 to 1024");
      a->jobs = (size_t)n;
      break;
    }
    case OPT_WITHOUT: a->without_pipeline = true; break;
    default: return sg_cli_option_error("eval", c, argv, longopts);
    }
  }
  a->events = argv + optind;
  a->nevents = argc - optind;
  if (!a->nrules) return sg_cli_usage_error("eval", "missing -r RULES (a rule file or directory)");
  if (a->golden && a->nevents)
    return sg_cli_usage_error(
        "eval", "--%s reads each rule's own sample events (R.events.jsonl): EVENTS are not used",
        a->update ? "update" : "check");
  return -1;
}

/* ---- The option strings as the library's types ----------------------------------- */

static bool bad(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "sigmacc eval: error: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  return false;
}

/* --logsource "product=P,category=C,service=S" (keys optional, in any order),
 * its strings pointing into spec (which it edits). */
static bool logsource_of(char *spec, SgLogsource *ls) {
  for (char *save = NULL, *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    const char **slot = NULL;
    if (eq) {
      *eq = '\0';
      slot = !strcmp(kv, "product")    ? &ls->product
             : !strcmp(kv, "category") ? &ls->category
             : !strcmp(kv, "service")  ? &ls->service
                                       : NULL;
    }
    if (!slot || !eq[1])
      return bad("--logsource takes product=P,category=C,service=S, not '%s%s'", kv, eq ? "=" : "");
    *slot = eq + 1;
  }
  return ls->product || ls->category || ls->service ||
         bad("--logsource names no product, category or service%s%s", "", "");
}

/* --from/--to: a time, or a date alone (from its start; to its end). */
static bool bound_of(const char *opt, const char *v, bool to, double *t, bool *excl) {
  size_t n = strlen(v);
  char day[32];
  if (n == 10 && snprintf(day, sizeof day, "%sT00:00:00Z", v) > 0 && sg_parse_time(day, strlen(day), t)) {
    if (to) *t += 86400, *excl = true;
    return true;
  }
  return sg_parse_time(v, n, t) ||
         bad("%s takes a time like 2024-05-01T12:00:00Z or a date like 2024-05-01, not '%s'", opt, v);
}

/* --timezone: local, Z, UTC, or +HH:MM / -HH:MM (up to 14 hours). */
static bool timezone_of(const char *v, SgEvalJob *job) {
  if (!strcmp(v, "local")) return job->tz_local = true;
  if (!strcmp(v, "Z") || !strcmp(v, "UTC") || !strcmp(v, "utc")) return true;
  int h, m;
  char sign, end;
  if (sscanf(v, "%c%2d:%2d%c", &sign, &h, &m, &end) == 3 && (sign == '+' || sign == '-') && strlen(v) == 6 &&
      h >= 0 && h <= 14 && m >= 0 && m < 60) {
    job->tz_offset = (sign == '-' ? -1 : 1) * (h * 3600L + m * 60L);
    return true;
  }
  return bad("--timezone takes local, UTC or an offset like +02:00, not '%s'%s", v, "");
}

/* S1,S2,... as status bits; false (said) on a word that is no status. */
static bool statuses(const char *opt, const char *list, unsigned *bits) {
  bool ok = true;
  for (const char *p = list; p && *p;) {
    size_t len = strcspn(p, ",");
    char one[32];
    snprintf(one, sizeof one, "%.*s", (int)(len < 31 ? len : 31), p);
    unsigned bit = len < 31 ? sg_status_bit(one) : 0;
    if (!bit) ok = bad("%s takes stable, test, experimental, deprecated or unsupported, not '%s'", opt, one);
    *bits |= bit;
    p += len + (p[len] == ',');
  }
  return ok;
}

/* The job's typed options from the command line's strings; false when one
 * is not valid (said on stderr, every one of them: exit 2). */
static bool typed(const EvalArgs *a, SgEvalJob *job, SgLogsource *ls, char *lsbuf) {
  bool ok = true;
  if (a->format && !strcmp(a->format, "csv"))
    job->format = SG_EVAL_CSV;
  else if (a->format && !strcmp(a->format, "table"))
    job->format = SG_EVAL_TABLE;
  else if (a->format && strcmp(a->format, "jsonl"))
    ok = bad("--format is jsonl, csv or table, not '%s'%s", a->format, "");
  if (a->min_level && !(job->min_level = sg_level_rank(a->min_level)))
    ok = bad("--min-level is informational, low, medium, high or critical, not '%s'%s", a->min_level, "");
  ok = statuses("--status", a->status, &job->statuses) && ok;
  if (a->timezone) ok = timezone_of(a->timezone, job) && ok;
  ok = statuses("--exclude-status", a->xstatus, &job->exclude_statuses) && ok;
  if (a->from && !(job->from_set = bound_of("--from", a->from, false, &job->from, &(bool){false})))
    ok = false;
  if (a->to && !(job->to_set = bound_of("--to", a->to, true, &job->to, &job->to_excl))) ok = false;
  if (lsbuf && logsource_of(lsbuf, ls))
    job->declared = ls;
  else if (lsbuf)
    ok = false;
  return ok;
}

typedef struct Outs {
  FILE *out, *html; /* the matches; --html's page */
} Outs;

static void to_file(void *ctx, const char *s, size_t n) { fwrite(s, 1, n, ((Outs *)ctx)->out); }
static void to_html(void *ctx, const char *s, size_t n) { fwrite(s, 1, n, ((Outs *)ctx)->html); }

int sg_cli_eval(int argc, char **argv) {
  EvalArgs args = {0};
  int rc = parse_eval_args(argc, argv, &args);
  if (rc < 0) {
    FILE *out = stdout;
    if (args.output && strcmp(args.output, "-") && !(out = fopen(args.output, "wb"))) {
      fprintf(stderr, "sigmacc eval: error[E001]: cannot write %s: %s\n", args.output, strerror(errno));
      rc = 2;
    }
    bool terminal = out == stdout && isatty(1);
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
                     .progress = isatty(2),
                     .warnings = &args.warn,
                     .summary = args.summary,
                     .summary_table = terminal,
                     .csv_exact = args.csv_exact,
                     .tags = args.tags,
                     .ntags = args.ntags,
                     .jobs = args.jobs,
                     .include_deprecated = args.include_deprecated,
                     .include_unsupported = args.include_unsupported,
                     .exclude_tags = args.xtags,
                     .nexclude_tags = args.nxtags,
                     .exclude_rules = args.xrules,
                     .input_order = args.input_order,
                     .dedup = args.dedup};
    /* a terminal's default: the timeline, then the summary */
    bool timeline = terminal && !args.format && !args.summary && !args.golden;
    SgLogsource ls = {0};
    char *lsbuf = args.logsource ? strdup(args.logsource) : NULL;
    if (rc >= 0) {
    } else if (args.logsource && !lsbuf) {
      fprintf(stderr, "sigmacc eval: error[E090]: out of memory\n");
      rc = 2;
    } else if (!typed(&args, &job, &ls, lsbuf)) {
      rc = 2;
    } else {
      if (timeline) job.format = SG_EVAL_TABLE, job.summary_after = true;
      job.colour = terminal && !getenv("NO_COLOR"); /* https://no-color.org */
      Outs outs = {out, NULL};
      if (args.html && !(outs.html = fopen(args.html, "wb"))) {
        fprintf(stderr, "sigmacc eval: error[E001]: cannot write %s: %s\n", args.html, strerror(errno));
        rc = 2;
      } else {
        job.html = args.html != NULL;
        SgEvalSink sink = {to_file, sg_cli_to_stderr, &outs, to_html};
        rc = sg_eval_run(&job, &sink);
      }
      if (outs.html && (ferror(outs.html) | fclose(outs.html))) {
        fprintf(stderr, "sigmacc eval: error[E001]: cannot write %s\n", args.html);
        rc = 2;
      }
    }
    if (out != stdout && (ferror(out) | fclose(out))) {
      fprintf(stderr, "sigmacc eval: error[E001]: cannot write %s\n", args.output);
      rc = 2;
    }
    free(lsbuf);
  }
  free(args.rules);
  free(args.pipelines);
  free(args.filters);
  free(args.tags);
  free(args.xtags);
  return rc;
}
