/* runs.h - what the commands' runs (runs/) share privately: one file per
 * command, as cli/ has them (convert.c, eval.c with eval_stream.c and
 * eval_report.c, check.c, analyze.c, pages.c with pages_html.c and site.h,
 * golden.c), and batch.c, what a run over
 * many files needs (the batch's Sigma filters, the parallel runner, rendered
 * diagnostics). The runs sit on the targets (backend.h) and the evaluator
 * (eval/evaluator.h); the library's users call them through sigmacc.h.
 */
#ifndef SG_RUNS_H
#define SG_RUNS_H

#include <stdio.h>

#include "backend.h"
#include "eval/evaluator.h"

/* The pipeline set of a run, one policy for convert and eval: the user's
 * (-p: built-in names, files, folders) and the default one `def` (a target's,
 * eval's evtx; NULL: none), sorted together by (priority, name) as pySigma
 * resolves them, then checked as a set. False with diagnostics when one does
 * not load; *usage when a -p names nothing or cannot be read (exit 2). */
bool sg_run_pipelines(SgArena *a, const char *const *specs, size_t n, const char *def, SgPipelineSet *set,
                      SgDiags *d, bool *usage);

/* A conversion prepared once (target, format, options, pipelines) for many
 * files, on any number of threads: sg_convert_text is init, text, free. */
typedef struct SgConverter {
  const SgTarget *target;
  SgConvCtx ctx;
  SgArena arena; /* the pipelines' */
  SgPipelineSet set;
} SgConverter;
SgStatus sg_converter_init(SgConverter *c, const SgConvertJob *job, SgDiags *d);
SgStatus sg_converter_text(const SgConverter *c, const char *path, const char *src, size_t len, SgBuf *out,
                           SgDiags *d);
void sg_converter_free(SgConverter *c);

/* A rule file's sample events (eval --check, pages): R.yml -> R<suffix>
 * (.events.jsonl, .nomatch.jsonl), heap-allocated, when that file exists. */
char *sg_sample_events(const char *rule, const char *suffix);

/* ---- regression.c: a rule's SigmaHQ regression tests (test, pages) ------------------------ */
typedef struct SgRegTest {
  const char *name;          /* NULL when unnamed */
  const char *file;          /* the data file under the root */
  long match_count;          /* -1: not given (at least one match) */
  uint32_t line, count_line; /* in info.yml: the test's, its match_count's */
  const char *why;           /* set when the test cannot run (a bad path, a missing file) */
} SgRegTest;
typedef struct SgRegInfo {
  const char *info;      /* the info.yml read (or the rule's regression_tests_path) */
  const char *key, *why; /* why: no test could be read; key: what it is about */
  SgRegTest *tests;
  size_t n;
} SgRegInfo;
/* The regression_data/ folder: `given` (--regression-data), or the first found
 * upward from the rule file's folder; heap-allocated, NULL when none. */
char *sg_regression_root(const char *given, const char *rule_path);
/* The rule's tests, strings in `a`; false when the rule has no regression_tests_path. */
bool sg_regression_read(SgArena *a, const char *root, const SgRule *rule, SgRegInfo *ri);

/* ---- eval_stream.c: the events of a run on every core, in input order --------------------- */
typedef struct SgEvCounts {
  size_t events, matches, bytes;
  size_t skipped;    /* documents or records skipped as malformed */
  size_t unknown;    /* events or rule results that could not be decided */
  size_t damaged;    /* EVTX files found damaged */
  size_t duplicates; /* --dedup: events whose matches were shown for the same event before */
  size_t unsourced;  /* events with no log source: every rule applied to them */
  size_t untimed;    /* events left out by --from/--to: they have no time */
  size_t outside;    /* events left out by --from/--to: outside the window */
  bool ioerr;        /* an input could not be read (whole or in part) */
  bool lost_output;  /* memory ran out writing matches */
} SgEvCounts;

static inline void sg_ev_counts_add(SgEvCounts *a, const SgEvCounts *b) {
  a->events += b->events;
  a->matches += b->matches;
  a->bytes += b->bytes;
  a->skipped += b->skipped;
  a->unknown += b->unknown;
  a->damaged += b->damaged;
  a->duplicates += b->duplicates;
  a->unsourced += b->unsourced;
  a->untimed += b->untimed;
  a->outside += b->outside;
  a->ioerr = a->ioerr || b->ioerr;
  a->lost_output = a->lost_output || b->lost_output;
}

typedef struct SgEvReport SgEvReport;
typedef struct SgEvStream SgEvStream;
/* `jobs` threads match (1: the calling thread); `ev` is forked for each. */
SgEvStream *sg_evs_new(SgEvaluator *ev, SgCorrelator *co, const SgEvReport *o, const SgEvalSink *sink,
                       size_t jobs, bool progress);
/* Read and match one input, `name` (printed as `shown`, a suffix of it);
 * in_dir: found in a directory, so passed over with a note when it is not
 * events. */
bool sg_evs_file(SgEvStream *s, FILE *f, const char *name, const char *shown, bool in_dir);
size_t sg_evs_workers(const SgEvStream *s);
/* Seconds on the monotonic clock (progress lines, --stats). */
double sg_ev_now(void);
/* Wait for the last block, write the summary, the counts; frees s. */
void sg_evs_finish(SgEvStream *s, SgEvCounts *n);

/* ---- eval_report.c: how matches are written ---------------------------------------------- */

struct SgEvReport {
  SgEvalFormat format;
  bool summary;            /* counts per level, rule and computer instead of the matches */
  bool summary_table;      /* ... as a table (else JSON) */
  bool csv_exact;          /* csv cells exactly (else a cell a spreadsheet would run gets a leading ') */
  const char *fields;      /* F1,F2,...: jsonl prints them instead of the event; csv, table: the details */
  int min_level;           /* 0: any; 1 informational ... 5 critical */
  unsigned statuses;       /* sg_status_bit of the statuses shown; 0: any */
  const char *const *tags; /* a rule tag equal to one, or under it (attack.t1059 -> attack.t1059.001) */
  size_t ntags;
  bool from_set, to_set; /* the event time window [from, to] (to_excl: [from, to)) */
  bool to_excl;
  double from, to;
  bool dump;                /* each event as its JSON line, no rules */
  bool sort;                /* matches in time order (kept until the end), else as read */
  bool summary_after;       /* the summary after the matches */
  bool dedup;               /* an event's matches once, when the same event was read before */
  bool colour;              /* table: levels in colour (a terminal) */
  bool metrics;             /* no rules: counts of the events by channel, id, computer, provider */
  bool logons;              /* no rules: successful and failed logons counted */
  bool html;                /* an HTML report of the matches too (SgEvalSink.html) */
  const void *search;       /* no rules: the events some value of which this pcre2_code matches */
  const char *search_field; /* ... only this field's (a name or a dotted path) */
  bool tz_local;            /* times in local time, else at tz_offset (seconds east of UTC; 0: Z) */
  long tz_offset;
};

typedef struct SgReportWhere { /* where a match was found */
  const char *shown;           /* the input's path as printed */
  const char *unit;            /* "line" or "record" */
  size_t line;
  bool has_time;
  double time;
} SgReportWhere;

bool sg_report_shows(const SgEvReport *o, const SgRule *r);
/* t as ISO 8601 with milliseconds: UTC (Z), or at o's offset or local time (+HH:MM). */
void sg_report_time(const SgEvReport *o, SgBuf *out, double t);
void sg_report_header(const SgEvReport *o, SgBuf *out);
void sg_report_match(const SgEvReport *o, SgBuf *out, const SgRule *r, size_t cond, const SgJDoc *doc,
                     const char *text, size_t len, const SgReportWhere *w);
/* `search`: an event with the leaves that matched (indexes into doc->leaves). */
void sg_report_found(const SgEvReport *o, SgBuf *out, const SgJDoc *doc, const uint32_t *leaves, size_t n,
                     const char *text, size_t len, const SgReportWhere *w);
void sg_report_correlation(const SgEvReport *o, SgBuf *out, const SgCorrHit *h, const SgReportWhere *w);
/* "TYPE: group {...}, value V, N matches from FIRST": a correlation hit in words. */
void sg_report_corr_details(const SgEvReport *o, SgBuf *d, const SgCorrHit *h);

typedef struct SgSummary SgSummary;

/* eval_metrics.c: `sigmacc metrics`. A worker notes an event's keys in a
 * buffer; the calling thread adds a block's notes, in input order. */
typedef struct SgMetrics SgMetrics;
SgMetrics *sg_metrics_new(void);
void sg_metrics_note(SgBuf *keys, const SgJDoc *doc);
void sg_metrics_add(SgMetrics *m, const char *keys, size_t len);
void sg_metrics_print(const SgMetrics *m, const SgEvReport *o, SgBuf *out);
void sg_metrics_free(SgMetrics *m);
/* eval.c: a run's output and diagnostics kept in memory (a run inside a run:
 * pages' evidence, test's verdicts). */
typedef struct SgCapture {
  SgBuf out, err;
} SgCapture;
SgEvalSink sg_capture_sink(SgCapture *c);
/* One rule file against one file of events, as `sigmacc eval -r RULE EVENTS --fields F` runs
 * it (its deprecated and unsupported rules too: its samples are evidence whatever its status),
 * the other files of `context` read for the rules a correlation names (SgEvalJob.context;
 * NULL: none); the output in *c; the exit code. */
int sg_eval_sample(const char *rule_path, const SgPaths *context, const char *events,
                   const char *const *pipelines, size_t npipelines, const char *fields, SgCapture *c);

/* eval_html.c: `eval --html`. A worker notes each match shown; the calling
 * thread adds a block's notes in input order; the page at the end. */
typedef struct SgHtml SgHtml;
SgHtml *sg_html_new(void);
void sg_html_note(SgBuf *notes, const SgRule *r, bool has_time, double t, const char *computer, size_t nc,
                  const char *channel, size_t nch, const char *eventid, size_t nid, const char *source,
                  const char *details, size_t nd);
void sg_html_add(SgHtml *h, const char *notes, size_t len);
void sg_html_page(SgHtml *h, const SgEvReport *o, SgBuf *out, size_t events, size_t files);
void sg_html_free(SgHtml *h);
/* eval_report.c: the details shown for a match of `doc` (the --fields, or
 * the telling fields of its channel and event id, ...). */
void sg_report_details(const SgEvReport *o, SgBuf *out, const SgJDoc *doc);
/* `sigmacc logons`: the same, of Security 4624/4625 events only. */
void sg_logons_note(SgBuf *keys, const SgJDoc *doc);
void sg_logons_add(SgMetrics *m, const char *keys, size_t len);
void sg_logons_print(const SgMetrics *m, const SgEvReport *o, SgBuf *out);
SgSummary *sg_summary_new(void);
void sg_summary_free(SgSummary *s);
bool sg_summary_add(SgSummary *s, const SgRule *r, const char *computer, size_t n);
void sg_summary_print(const SgSummary *s, const SgEvReport *o, SgBuf *out, size_t events);

#endif
