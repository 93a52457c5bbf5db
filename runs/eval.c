/* eval.c - one run of `sigmacc eval` as a library call: the rules loaded
 * through the run's pipelines (sg_run_pipelines: the user's and the evtx one,
 * unless disabled, sorted together) and the batch's filters, correlations over them, events
 * streamed from each input, one JSON line per match, the golden check of
 * rules with sample events. Output goes to the caller's sink: matches to
 * `out`, diagnostics and progress to `err`.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runs.h"

static void say(const SgEvalSink *sink, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const SgEvalSink *sink, const char *fmt, ...) {
  SgBuf b = {0};
  va_list ap;
  va_start(ap, fmt);
  sg_buf_vcatf(&b, fmt, ap);
  va_end(ap);
  if (b.len) sink->err(sink->ctx, b.data, b.len);
  sg_buf_free(&b);
}

static void say_diags(const SgEvalSink *sink, const SgDiags *d, size_t from, const SgUnit *u, bool json) {
  SgBuf b = {0};
  sg_render_diags(&b, d, from, u ? u->path : NULL, u ? u->src : NULL, u ? u->srclen : 0, json);
  if (b.len) sink->err(sink->ctx, b.data, b.len);
  sg_buf_free(&b);
}

char *sg_sample_events(const char *rule, const char *suffix) {
  size_t n = sg_rule_stem_len(rule);
  size_t size = n + strlen(suffix) + 1;
  char *p = malloc(size);
  if (!p) return NULL;
  snprintf(p, size, "%.*s%s", (int)n, rule, suffix);
  FILE *f = fopen(p, "rb");
  if (!f) {
    free(p);
    return NULL;
  }
  fclose(f);
  return p;
}

/* Match the events of one input file ("-": stdin). A file found in a
 * directory (`in_dir`) that is not events is passed over with a note; named
 * on the command line, it is an error (false). */
static bool read_input(SgEvStream *sm, const SgEvalSink *sink, const char *path, bool in_dir) {
  bool is_stdin = !strcmp(path, "-");
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  struct stat st;
  bool statted = f && !fstat(fileno(f), &st); /* a closed stdin fails here (EBADF) */
  if (!statted || S_ISDIR(st.st_mode)) {
    say(sink, "%s: error[E001]: cannot read the events file: %s\n", path,
        statted         ? "it is a directory"
        : is_stdin && f ? "standard input is closed"
                        : strerror(errno));
    if (f && !is_stdin) fclose(f);
    return false;
  }
  sg_evs_file(sm, f, path, path, in_dir);
  if (!is_stdin) fclose(f);
  return true;
}

/* The golden check reads a rule's sample events: matches into a buffer,
 * diagnostics to the run's sink. */
typedef struct GoldenSink {
  SgBuf out;
  const SgEvalSink *parent;
} GoldenSink;

static void to_buf(void *ctx, const char *s, size_t n) { sg_buf_catn(&((GoldenSink *)ctx)->out, s, n); }

static void to_parent_err(void *ctx, const char *s, size_t n) {
  const SgEvalSink *p = ((GoldenSink *)ctx)->parent;
  p->err(p->ctx, s, n);
}

/* A rule file's text, read before the run (NULL and `error` when it could not be). */
typedef struct Source {
  char *text;
  size_t len;
  SgBuf error;
} Source;

/* Where rules are added: the evaluator and correlator, the pipelines, and
 * each file's rules as they were added (a correlation reads them by file and
 * index, its own file's or another's). A --check run over one file's samples
 * (`alone`) adds another file's rule a correlation names when it names it. */
typedef struct Loader {
  SgEvaluator *ev;
  SgCorrelator *co;
  const SgPipelineSet *set;
  const SgRuleIndex *batch;
  const SgRule ***added; /* per file of batch->units: its processed rules (NULL: not added) */
  bool skip, alone;
  size_t *skipped;
  struct Selection *sel;
  SgDiags *d;
} Loader;

/* File u's table of added rules, made on first use. */
static const SgRule **added_of(Loader *L, SgUnit *u) {
  size_t i = (size_t)(u - L->batch->units);
  if (!L->added[i]) L->added[i] = sg_arena_alloc(&u->arena, (u->nrules + 1) * sizeof *L->added[i]);
  return L->added[i];
}

/* Rule `index` of file u through the pipelines into the evaluator. */
static SgStatus add_rule(Loader *L, SgUnit *u, size_t index) {
  const SgRule **added = added_of(L, u);
  if (!added) return SG_ERR_NOMEM;
  SgPipelineState ps = {0};
  SgRule *processed;
  SgStatus st = sg_pipeline_apply(&u->arena, L->set, u->rules[index], &processed, &ps, L->d);
  if (st == SG_OK) st = sg_eval_add(L->ev, processed, L->d);
  if (st == SG_OK) added[index] = processed;
  return st;
}

/* Correlation `corr` of u: its rules as the evaluator has them, and a
 * correlation it names (a chain) as the correlator has it; sg_corr_check
 * says later when that one was not added. */
static SgStatus add_correlation(Loader *L, SgUnit *u, size_t index, int depth) {
  const SgRule *corr = u->rules[index];
  size_t n = corr->corr->rules.n;
  SgRuleRef *found;
  const SgRule **refs = sg_arena_alloc(&u->arena, (n + 1) * sizeof *refs);
  if (!refs) return SG_ERR_NOMEM;
  SgStatus st = sg_corr_resolve(&u->arena, u, corr, L->batch, &found, L->d);
  for (size_t i = 0; st == SG_OK && i < n; i++) {
    const SgRule **added = added_of(L, found[i].unit);
    if (!added) return SG_ERR_NOMEM;
    bool chained = found[i].rule->kind == SG_DOC_CORRELATION;
    if (!added[found[i].index] && L->alone && found[i].unit != u && !found[i].rule->failed && depth < 16)
      st = chained ? add_correlation(L, found[i].unit, found[i].index, depth + 1)
                   : add_rule(L, found[i].unit, found[i].index);
    if (chained && !found[i].rule->failed) {
      refs[i] = found[i].rule;
    } else if (st == SG_OK && !(refs[i] = added[found[i].index])) {
      sg_diag(L->d, SG_D_UNSUPPORTED, corr->corr->rules.locs ? corr->corr->rules.locs[i] : corr->loc,
              "rule '%s' (%s:%u) is not evaluated, so neither is the correlation", corr->corr->rules.v[i],
              found[i].unit->path, found[i].rule->loc.line);
      st = SG_ERR_UNSUPPORTED;
    }
  }
  if (st == SG_OK) st = sg_corr_add(L->co, corr, refs, L->d);
  const SgRule **mine = st == SG_OK ? added_of(L, u) : NULL;
  if (mine) mine[index] = corr;
  return st;
}

/* Which rules a run leaves out, and how many for each reason. */
typedef enum Why { OUT_DEPRECATED, OUT_UNSUPPORTED, OUT_STATUS, OUT_TAG, OUT_LISTED, OUT_REASONS } Why;

typedef struct Selection {
  const SgEvalJob *job;
  char **listed; /* --exclude-rules: ids and paths */
  size_t nlisted;
  size_t count[OUT_REASONS];
} Selection;

static bool in_folder(const char *path, const char *folder) {
  size_t n = strlen(folder);
  for (const char *p = path; (p = strstr(p, folder)); p++)
    if ((p == path || p[-1] == '/') && p[n] == '/') return true;
  return false;
}

static bool tag_under(const char *tag, const char *want) {
  size_t n = strlen(want);
  return !sg_ascii_ncasecmp(tag, want, n) && (tag[n] == '\0' || tag[n] == '.');
}

/* Whether the rule of file `path` is left out; counted by its reason. */
static bool left_out(Selection *sel, const SgRule *rule, const char *path) {
  if (!sel) return false;
  const SgEvalJob *job = sel->job;
  unsigned st = sg_status_bit(rule->status);
  Why why = OUT_REASONS;
  bool dep = st == sg_status_bit("deprecated") || in_folder(path, "deprecated");
  bool uns = st == sg_status_bit("unsupported") || in_folder(path, "unsupported");
  if (dep && !job->include_deprecated && !(job->statuses & sg_status_bit("deprecated"))) why = OUT_DEPRECATED;
  if (uns && !job->include_unsupported && !(job->statuses & sg_status_bit("unsupported")))
    why = OUT_UNSUPPORTED;
  if (why == OUT_REASONS && (st & job->exclude_statuses)) why = OUT_STATUS;
  for (size_t i = 0; why == OUT_REASONS && i < job->nexclude_tags; i++)
    for (size_t t = 0; t < rule->tags.n && why == OUT_REASONS; t++)
      if (tag_under(rule->tags.v[t], job->exclude_tags[i])) why = OUT_TAG;
  for (size_t i = 0; why == OUT_REASONS && i < sel->nlisted; i++) {
    const char *e = sel->listed[i];
    size_t n = strlen(e), pn = strlen(path);
    if ((rule->id && !sg_ascii_casecmp(rule->id, e)) || !strcmp(path, e) ||
        (pn > n && !strcmp(path + pn - n, e) && path[pn - n - 1] == '/'))
      why = OUT_LISTED;
  }
  if (why == OUT_REASONS) return false;
  sel->count[why]++;
  return true;
}

/* The rules of file u (pass 0), or its correlations (pass 1), added. True
 * when a rule had an error; with `skip`, what cannot be evaluated is only
 * counted in *skipped. */
static bool load_unit(Loader *L, SgUnit *u, int pass) {
  bool errors = false;
  for (size_t i = 0; i < u->nrules; i++) {
    const SgRule *rule = u->rules[i];
    if (rule->kind == SG_DOC_FILTER || (rule->kind == SG_DOC_CORRELATION) != (pass == 1)) continue;
    if (left_out(L->sel, rule, u->path)) continue;
    if (rule->failed) {
      errors = true;
      continue;
    }
    SgStatus st = pass == 0 ? add_rule(L, u, i) : add_correlation(L, u, i, 0);
    if (st == SG_ERR_NOMEM) /* never a rule silently left out */
      sg_diag(L->d, SG_D_NOMEM, rule->loc, "out of memory loading the rule; it is not evaluated");
    if (st == SG_ERR_UNSUPPORTED && L->skip)
      (*L->skipped)++;
    else if (st != SG_OK)
      errors = true;
  }
  return errors;
}

/* The output options of the job, as the report reads them. */
static SgEvReport report_of(const SgEvalJob *job) {
  return (SgEvReport){.format = job->format,
                      .summary = job->summary,
                      .summary_table = job->summary_table || job->format == SG_EVAL_TABLE,
                      .csv_exact = job->csv_exact,
                      .fields = job->fields,
                      .min_level = job->min_level,
                      .statuses = job->statuses,
                      .tags = job->tags,
                      .ntags = job->ntags,
                      .from_set = job->from_set,
                      .to_set = job->to_set,
                      .to_excl = job->to_excl,
                      .from = job->from,
                      .to = job->to,
                      .dump = job->dump,
                      .sort = !job->input_order && job->format != SG_EVAL_JSONL && !job->summary,
                      .summary_after = job->summary_after && !job->summary,
                      .dedup = job->dedup,
                      .colour = job->colour,
                      .html = job->html,
                      .metrics = job->metrics,
                      .logons = job->logons,
                      .search_field = job->search_field,
                      .tz_local = job->tz_local,
                      .tz_offset = job->tz_offset};
}

/* One eval run's state, passed through its stages (each a screen). */
typedef struct Run {
  const SgEvalJob *job;
  const SgEvalSink *sink;
  SgDiags d;
  SgArena pa;
  SgPipelineSet set;
  SgPaths paths; /* the rule files, then the context files (from nmain) */
  size_t nmain;
  Source *srcs;
  SgFilters filters;
  SgUnit *units;
  SgRuleIndex index;     /* the rules of every file, for correlations across files */
  const SgRule ***added; /* per file: its rules as the run's evaluator has them */
  SgEvaluator *ev;
  SgCorrelator *co;
  size_t skipped;
  Selection sel;
  SgGolden golden;
  SgBuf unsampled; /* --check: rule files with no sample events, said once */
  size_t nunsampled;
  bool rule_errors, io_error, setup_failed, nomem;
} Run;

/* --exclude-rules FILE: rule ids or paths, one per line; blank lines and
 * `#` comments are skipped. */
static void read_exclusions(Run *r, const char *file) {
  char *text;
  size_t n;
  SgDiags d = {0};
  if (sg_read_file(file, &text, &n, &d) != SG_OK) {
    say_diags(r->sink, &d, 0, NULL, false);
    sg_diags_free(&d);
    r->io_error = true;
    return;
  }
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    while (*line == ' ' || *line == '\t')
      line++;
    size_t len = strlen(line);
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (!len) continue;
    char **v = realloc(r->sel.listed, (r->sel.nlisted + 1) * sizeof *v);
    if (!v || !(v[r->sel.nlisted] = strdup(line))) {
      if (v) r->sel.listed = v;
      r->setup_failed = r->nomem = true;
      break;
    }
    r->sel.listed = v;
    r->sel.nlisted++;
  }
  free(text);
}

/* The rules left out, by reason: never a silent narrowing of the run. */
static void say_left_out(const Run *r) {
  static const char *const reason[OUT_REASONS] = {"deprecated", "unsupported", "by --exclude-status",
                                                  "by --exclude-tag", "by --exclude-rules"};
  size_t total = 0;
  SgBuf b = {0};
  for (int i = 0; i < OUT_REASONS; i++)
    if (r->sel.count[i]) {
      sg_buf_catf(&b, "%s%zu %s", total ? ", " : "", r->sel.count[i], reason[i]);
      total += r->sel.count[i];
    }
  if (total && r->ev)
    say(r->sink, "sigmacc eval: %zu rule%s loaded; %zu left out: %s%s\n", sg_eval_rule_count(r->ev),
        sg_eval_rule_count(r->ev) == 1 ? "" : "s", total, sg_buf_cstr(&b),
        r->sel.count[OUT_DEPRECATED] || r->sel.count[OUT_UNSUPPORTED]
            ? " (--include-deprecated, --include-unsupported load those)"
            : "");
  sg_buf_free(&b);
}

/* The run's pipelines, its rule files read once before any is compiled (the
 * filter documents among them apply to all), and its filters. */
/* The text of each rule file from `from` on (a file that cannot be read: its error, said later). */
static void read_sources(Run *r, size_t from) {
  for (size_t i = from; !r->setup_failed && i < r->paths.n; i++) {
    SgDiags rd = {0};
    if (sg_read_file(r->paths.v[i], &r->srcs[i].text, &r->srcs[i].len, &rd) != SG_OK) {
      r->srcs[i].text = NULL;
      sg_render_diags(&r->srcs[i].error, &rd, 0, NULL, NULL, 0, false);
    }
    sg_diags_free(&rd);
  }
}

static void run_setup(Run *r) {
  const SgEvalJob *job = r->job;
  bool usage = false; /* a -p naming nothing: exit 2, as convert */
  if (!sg_run_pipelines(&r->pa, job->pipelines, job->npipelines, job->without_pipeline ? NULL : "evtx",
                        &r->set, &r->d, &usage))
    r->setup_failed = true;
  r->io_error = usage;
  say_diags(r->sink, &r->d, 0, NULL, false);
  r->sel.job = job;
  if (job->exclude_rules) read_exclusions(r, job->exclude_rules);
  size_t mark = r->d.n;
  if (!r->setup_failed && !sg_expand_paths((int)job->nrules, (char **)job->rules, &r->paths, &r->d))
    r->io_error = true;
  r->nmain = r->paths.n;
  r->srcs = calloc(r->nmain + 1, sizeof *r->srcs);
  if (!r->srcs) r->setup_failed = r->nomem = true;
  read_sources(r, 0);
  bool correlates = false; /* the context is read for a correlation's rules only (any mention: cheap) */
  for (size_t i = 0; !r->setup_failed && i < r->nmain; i++)
    correlates |= r->srcs[i].text && strstr(r->srcs[i].text, "correlation");
  for (size_t i = 0; correlates && !r->setup_failed && i < job->ncontext; i++) {
    bool dup = false;
    for (size_t j = 0; j < r->nmain && !dup; j++)
      dup = !strcmp(r->paths.v[j], job->context[i]);
    SgDiags cd = {0}; /* a context file that cannot be read: its rules are not there, as if absent */
    if (!dup) sg_expand_paths(1, (char **)&job->context[i], &r->paths, &cd);
    sg_diags_free(&cd);
  }
  if (r->paths.n > r->nmain && !r->setup_failed) {
    Source *more = realloc(r->srcs, (r->paths.n + 1) * sizeof *more);
    if (!more) { /* the context paths go: every array stays the rule files' size */
      while (r->paths.n > r->nmain)
        free(r->paths.v[--r->paths.n]);
      r->setup_failed = r->nomem = true;
    } else {
      r->srcs = more;
      memset(more + r->nmain, 0, (r->paths.n + 1 - r->nmain) * sizeof *more);
      read_sources(r, r->nmain);
    }
  }
  if (!r->setup_failed && !sg_filters_load(job->filters, job->nfilters, &r->filters, &r->d))
    r->setup_failed = true;
  for (size_t i = 0; !r->setup_failed && i < r->nmain; i++)
    if (r->srcs[i].text &&
        !sg_filters_add(&r->filters, r->paths.v[i], r->srcs[i].text, r->srcs[i].len, true, &r->d))
      r->setup_failed = true;
  say_diags(r->sink, &r->d, mark, NULL, false);
}

/* --check/--update: rule file i against its own sample events, R.events.jsonl
 * (its matches are the golden file) and R.nomatch.jsonl (must match nothing). */
static void run_golden_unit(Run *r, size_t i) {
  const SgEvalJob *job = r->job;
  const SgEvalSink *sink = r->sink;
  SgUnit *u = &r->units[i];
  const char *path = r->paths.v[i], *shown_rule = path + r->paths.rel[i];
  char *events = sg_sample_events(path, ".events.jsonl");
  char *nomatch = sg_sample_events(path, ".nomatch.jsonl");
  if (!events && !nomatch) sg_buf_catf(&r->unsampled, "  %s\n", path), r->nunsampled++;
  for (int pass = 0; pass < 2; pass++) {
    const char *file = pass ? nomatch : events;
    FILE *ef = file ? fopen(file, "rb") : NULL;
    if (!ef) continue;
    SgEvaluator *target = sg_eval_new();
    SgCorrelator *tco = sg_corr_new();
    if (!target || !tco) r->setup_failed = r->nomem = true;
    if (target) sg_eval_set_logsources(target, &r->set, job->declared);
    const SgRule ***added = calloc(r->paths.n + 1, sizeof *added); /* this target's */
    Loader L = {target, tco, &r->set, &r->index, added, false, true, &r->skipped, NULL, &r->d};
    if (!added) r->setup_failed = r->nomem = true;
    for (int k = 0; target && tco && added && k < 2; k++) /* rules, then the correlations */
      if (load_unit(&L, u, k)) r->rule_errors = true;
    if (tco && sg_corr_check(tco, &r->d)) r->rule_errors = true;
    free(added);
    if (target && tco && sg_eval_prepare(target) == SG_OK) {
      GoldenSink gsink = {.parent = sink};
      SgEvalSink gs = {to_buf, to_parent_err, &gsink, NULL};
      SgEvReport gr = {.format = SG_EVAL_JSONL, .fields = job->fields};
      SgEvCounts gn = {0};
      SgEvStream *st = sg_evs_new(target, tco, &gr, &gs, 1, false);
      if (!st) {
        r->setup_failed = r->nomem = true;
      } else {
        sg_evs_file(st, ef, file, file + r->paths.rel[i], false);
        sg_evs_finish(st, &gn);
      }
      SgBuf *out = &gsink.out;
      if (!st) {
      } else if (pass && out->len) { /* R.nomatch.jsonl: events the rule must not match */
        say(sink, "%s: error: the rule matches events of %s, which it must not match:\n%s", path, file,
            sg_buf_cstr(out));
        r->rule_errors = true;
      } else if (!pass && !out->len && !gn.skipped) { /* a golden of no match checks nothing */
        say(sink,
            "%s: error: its sample events %s match nothing, so its golden file would check nothing "
            "(events a rule must not match go in %.*s.nomatch.jsonl)\n",
            path, file, (int)(strlen(file) - 13), file);
        r->rule_errors = true;
      } else if (!pass && sg_golden_file(&r->golden, shown_rule, out->data ? out->data : "", out->len) < 0) {
        r->io_error = true;
      }
      sg_buf_free(out);
    }
    fclose(ef);
    sg_eval_free(target);
    sg_corr_free(tco);
  }
  free(events);
  free(nomatch);
}

/* Every rule file compiled, its batch filters applied, and its rules added
 * to the run's evaluator (or checked against their samples with --check). */
static void run_load(Run *r) {
  const SgEvalJob *job = r->job;
  r->units = calloc(r->paths.n + 1, sizeof *r->units);
  r->ev = job->golden ? NULL : sg_eval_new();
  r->co = job->golden ? NULL : sg_corr_new();
  if (job->golden) sg_golden_init(&r->golden, job->golden, ".jsonl", job->update);
  if (!r->units || (!job->golden && (!r->ev || !r->co))) r->setup_failed = r->nomem = true;
  if (r->ev) sg_eval_set_logsources(r->ev, &r->set, job->declared);
  r->added = calloc(r->paths.n + 1, sizeof *r->added);
  SgDiags *cd = calloc(r->paths.n + 1, sizeof *cd); /* each file's, said in path order */
  if (!r->added || !cd) r->setup_failed = r->nomem = true;
  /* every file compiled first (a correlation may name the rules of any), then each file's
   * rules, then the correlations */
  for (size_t i = 0; !r->setup_failed && i < r->paths.n; i++) {
    cd[i] = (SgDiags){.policy = job->warnings};
    if (!r->srcs[i].text) continue; /* not read: said below */
    SgUnit *u = &r->units[i];
    sg_compile_source(u, r->paths.v[i], r->srcs[i].text, r->srcs[i].len, &cd[i]);
    r->srcs[i].text = NULL; /* the unit owns it */
    if (sg_filters_apply(&r->filters, u) != SG_OK) r->setup_failed = r->nomem = true;
  }
  if (!r->setup_failed && sg_rule_index_build(&r->index, r->units, r->paths.n) != SG_OK)
    r->setup_failed = r->nomem = true;
  size_t cycles = 0, said = r->d.n; /* the run's own correlations that come back to themselves: */
  for (size_t i = 0; !r->setup_failed && i < r->nmain; i++) /* marked failed, not added */
    cycles += sg_corr_cycles(&r->index, &r->units[i], &r->d);
  if (cycles) {
    r->rule_errors = true;
    say_diags(r->sink, &r->d, said, NULL, false);
  }
  Loader L = {r->ev,         r->co,       &r->set, &r->index, r->added, job->skip_unsupported,
              job->ncontext, &r->skipped, &r->sel, &r->d}; /* context: a correlation adds what it names */
  for (int pass = 0; pass < 2 && !r->setup_failed; pass++)
    for (size_t i = 0; i < r->nmain; i++) {
      SgUnit *u = &r->units[i];
      if (!u->path) { /* not read: say so, in path order */
        if (!pass) r->io_error = true, say(r->sink, "%s", sg_buf_cstr(&r->srcs[i].error));
        continue;
      }
      SgDiags *d = pass ? &r->d : &cd[i];
      size_t mark = d->n;
      L.d = d;
      if (job->golden) {
        if (pass) run_golden_unit(r, i);
      } else if (load_unit(&L, u, pass)) {
        r->rule_errors = true;
      }
      say_diags(r->sink, d, pass ? mark : 0, u, false);
    }
  if (r->co && !r->setup_failed) { /* a chain whose inner correlation was not added never fires: said */
    size_t mark = r->d.n, dropped = sg_corr_check(r->co, &r->d);
    if (dropped && job->skip_unsupported)
      r->skipped += dropped;
    else if (dropped)
      r->rule_errors = true;
    say_diags(r->sink, &r->d, mark, NULL, false);
  }
  for (size_t i = 0; cd && i < r->paths.n; i++) {
    if (i < r->nmain) r->d.nsuppressed += cd[i].nsuppressed;
    r->rule_errors = r->rule_errors || (i < r->nmain && cd[i].nerrors);
    sg_diags_free(&cd[i]);
  }
  free(cd);
  if (r->ev && !r->setup_failed && sg_eval_prepare(r->ev) != SG_OK) r->setup_failed = r->nomem = true;
  if (!r->setup_failed) {
    size_t mark = r->d.n;
    sg_filters_report_unused(&r->filters, &r->d);
    say_diags(r->sink, &r->d, mark, NULL, false);
  }
  if (r->skipped)
    say(r->sink, "sigmacc eval: %zu rule%s skipped as unsupported\n", r->skipped, r->skipped == 1 ? "" : "s");
  say_left_out(r);
  if (r->nunsampled)
    say(r->sink,
        "sigmacc eval: %zu of %zu rule files have no sample events (R.events.jsonl or R.nomatch.jsonl), "
        "so --check does not check them:\n%s",
        r->nunsampled, r->nmain, sg_buf_cstr(&r->unsampled));
  if (r->setup_failed) {
    sg_eval_free(r->ev);
    r->ev = NULL; /* no events are read: the rules were not all loaded */
  }
}

/* Every input (a folder: every file under it; none: stdin) through the stream. */
static void run_inputs(Run *r, SgEvStream *sm) {
  const SgEvalJob *job = r->job;
  char *stdin_name = "-";
  char *const *inputs = job->nevents ? job->events : &stdin_name;
  size_t ninputs = job->nevents ? job->nevents : 1;
  for (size_t i = 0; sm && i < ninputs; i++) {
    bool is_stdin = !strcmp(inputs[i], "-");
    struct stat st;
    if (!is_stdin && stat(inputs[i], &st) == 0 && S_ISDIR(st.st_mode)) { /* every file under it */
      SgPaths files = {0};
      SgDiags fd = {0};
      if (!sg_expand_dir_files(inputs[i], &files, &fd)) r->io_error = true;
      if (!files.n && !fd.n) say(r->sink, "%s: error[E001]: the directory holds no files\n", inputs[i]);
      r->io_error = r->io_error || !files.n || fd.nerrors; /* W092: a FIFO or device passed over */
      say_diags(r->sink, &fd, 0, NULL, false);
      for (size_t k = 0; k < files.n; k++)
        r->io_error = !read_input(sm, r->sink, files.v[k], true) || r->io_error;
      sg_paths_free(&files);
      sg_diags_free(&fd);
      continue;
    }
    r->io_error = !read_input(sm, r->sink, inputs[i], false) || r->io_error;
  }
}

/* What the run could not do is never silent: skipped documents, damaged
 * files, undecided results, untimed events (exit 3); then --stats. */
static bool run_said(Run *r, const SgEvCounts *n, size_t workers, double el) {
  const SgEvalSink *sink = r->sink;
  const SgEvalJob *job = r->job;
  const char *me = job->search    ? "sigmacc search"
                   : job->logons  ? "sigmacc logons"
                   : job->metrics ? "sigmacc metrics"
                   : job->dump    ? "sigmacc dump"
                                  : "sigmacc eval";
  bool lost = r->ev && (n->skipped || !n->events || n->unknown || n->damaged || n->lost_output);
  if (r->ev && !n->events) say(sink, "%s: no event was read\n", me);
  if (n->skipped)
    say(sink, "%s: %zu document%s skipped as malformed\n", me, n->skipped,
        n->skipped == 1 ? " was" : "s were");
  if (n->unsourced && job->stats)
    say(sink,
        "%s: %zu event%s had no log source (not in evtx_dump's shape): every rule applied to %s; "
        "--logsource says what they are\n",
        me, n->unsourced, n->unsourced == 1 ? "" : "s", n->unsourced == 1 ? "it" : "them");
  if (n->untimed)
    say(sink, "%s: %zu event%s no time, so --from/--to left %s out\n", me, n->untimed,
        n->untimed == 1 ? " has" : "s have", n->untimed == 1 ? "it" : "them");
  if (n->outside && job->stats)
    say(sink, "%s: %zu event%s outside the --from/--to window\n", me, n->outside,
        n->outside == 1 ? " was" : "s were");
  if (n->lost_output) say(sink, "%s: error[E090]: out of memory writing matches; some are missing\n", me);
  if (n->duplicates)
    say(sink, "%s: %zu event%s read before (--dedup): %s matches are shown once\n", me, n->duplicates,
        n->duplicates == 1 ? " was" : "s were", n->duplicates == 1 ? "its" : "their");
  if (n->damaged)
    say(sink, "%s: %zu EVTX file%s damaged\n", me, n->damaged, n->damaged == 1 ? " is" : "s are");
  if (n->unknown)
    say(sink, "%s: %zu result%s could not be decided\n", me, n->unknown, n->unknown == 1 ? "" : "s");
  if (r->co && sg_corr_untimed(r->co))
    say(sink, "%s: warning: %zu match%s of correlated rules had no event time and were not correlated\n", me,
        sg_corr_untimed(r->co), sg_corr_untimed(r->co) == 1 ? "" : "es");
  if (job->stats)
    say(sink,
        "events %zu, bytes %zu, matches %zu, skipped %zu, undecided %zu, rules %zu, jobs %zu, %.3f s, "
        "%.0f events/s\n",
        n->events, n->bytes, n->matches, n->skipped, n->unknown, r->ev ? sg_eval_rule_count(r->ev) : 0,
        workers, el, el > 0 ? n->events / el : 0.0);
  if (r->d.nsuppressed) /* never silent: the count of what -W switched off */
    say(sink, "%s: %zu warning%s switched off by -W\n", me, r->d.nsuppressed,
        r->d.nsuppressed == 1 ? "" : "s");
  return lost;
}

/* --check/--update: the golden report; its exit code. */
static int run_golden_finish(Run *r) {
  int rc = sg_golden_finish(&r->golden);
  SgBuf rep = {0};
  sg_buf_cat(&rep, sg_buf_cstr(&r->golden.report));
  const SgGolden *g = &r->golden;
  if (r->job->update)
    sg_buf_catf(&rep, "golden: %zu file%s, %zu written, %zu removed\n", g->nseen, g->nseen == 1 ? "" : "s",
                g->written, g->extra);
  else
    sg_buf_catf(&rep, "golden: %zu file%s, %zu differ, %zu missing, %zu extra\n", g->nseen,
                g->nseen == 1 ? "" : "s", g->mismatches, g->missing, g->extra);
  r->sink->out(r->sink->ctx, sg_buf_cstr(&rep), rep.len);
  sg_buf_free(&rep);
  sg_golden_free(&r->golden);
  return rc;
}

static void run_free(Run *r) {
  for (size_t i = 0; i < r->sel.nlisted; i++)
    free(r->sel.listed[i]);
  free(r->sel.listed);
  sg_eval_free(r->ev);
  sg_corr_free(r->co);
  for (size_t i = 0; r->units && i < r->paths.n; i++)
    sg_unit_free(&r->units[i]);
  free(r->units);
  free(r->added);
  sg_rule_index_free(&r->index);
  for (size_t i = 0; r->srcs && i < r->paths.n; i++) {
    free(r->srcs[i].text); /* not compiled */
    sg_buf_free(&r->srcs[i].error);
  }
  free(r->srcs);
  sg_buf_free(&r->unsampled);
  sg_paths_free(&r->paths);
  sg_filters_free(&r->filters);
  sg_diags_free(&r->d);
  sg_arena_free(&r->pa);
}

/* A Sigma rule file: a .yml or .yaml file with a top-level `detection:`. */
static bool is_rule_file(const char *path) {
  size_t n = strlen(path);
  if (!((n > 4 && !strcmp(path + n - 4, ".yml")) || (n > 5 && !strcmp(path + n - 5, ".yaml")))) return false;
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  char line[256];
  bool rule = false;
  for (int k = 0; k < 4096 && !rule && fgets(line, sizeof line, f); k++)
    rule = !strncmp(line, "detection:", 10);
  fclose(f);
  return rule;
}

/* Rules given as EVENTS (a rules folder after -r's value, say) would be read
 * as events that are not events, and run no rule: a usage error naming -r. */
static bool rules_among_events(const SgEvalJob *job, const SgEvalSink *sink) {
  for (size_t i = 0; i < job->nevents; i++) {
    const char *p = job->events[i], *rule = NULL;
    struct stat st;
    if (!strcmp(p, "-") || stat(p, &st) != 0) continue;
    SgPaths files = {0};
    SgDiags d = {0};
    if (S_ISDIR(st.st_mode) && sg_expand_dir_files(p, &files, &d))
      for (size_t k = 0; k < files.n && !rule; k++)
        if (is_rule_file(files.v[k])) rule = files.v[k];
    if (!S_ISDIR(st.st_mode) && is_rule_file(p)) rule = p;
    if (rule == p)
      say(sink, "sigmacc eval: error[E080]: %s is a Sigma rule, not events; give rules with -r %s\n", p, p);
    else if (rule)
      say(sink, "sigmacc eval: error[E080]: %s holds Sigma rules (%s), not events; give rules with -r %s\n",
          p, rule, p);
    sg_paths_free(&files);
    sg_diags_free(&d);
    if (rule) return true;
  }
  return false;
}

int sg_eval_run(const SgEvalJob *job, const SgEvalSink *sink) {
  bool no_rules = job->dump || job->metrics || job->logons || job->search;
  if (!no_rules && !job->golden && rules_among_events(job, sink)) return 2;
  pcre2_code *pattern = NULL;
  if (job->search) { /* a keyword is a literal; every event is UTF-8 to the matcher, invalid bytes and all */
    int err;
    PCRE2_SIZE at;
    uint32_t flags = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (job->search_regex ? 0 : PCRE2_LITERAL) |
                     (job->search_caseless ? PCRE2_CASELESS : 0);
    if (!(pattern = pcre2_compile((PCRE2_SPTR)job->search, PCRE2_ZERO_TERMINATED, flags, &err, &at, NULL))) {
      char why[160];
      pcre2_get_error_message(err, (PCRE2_UCHAR *)why, sizeof why);
      say(sink, "sigmacc search: error[E080]: the pattern '%s' at offset %zu: %s\n", job->search, (size_t)at,
          why);
      return 2;
    }
    pcre2_jit_compile(pattern, PCRE2_JIT_COMPLETE);
  }
  Run r = {.job = job, .sink = sink, .d = {.policy = job->warnings}};
  sg_arena_init(&r.pa);
  run_setup(&r);
  run_load(&r);
  SgEvReport report = report_of(job);
  report.search = pattern;
  SgEvCounts n = {0};
  double t0 = sg_ev_now();
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  size_t jobs = job->jobs ? job->jobs : cores > 0 ? (size_t)cores : 1;
  SgEvStream *sm = r.ev ? sg_evs_new(r.ev, r.co, &report, sink, jobs, job->progress) : NULL;
  if (r.ev && !sm) r.setup_failed = r.nomem = true;
  if (r.nomem) /* never a silent exit 1 */
    say(sink, "sigmacc %s: error[E090]: out of memory setting up the run; %s\n", job->dump ? "dump" : "eval",
        job->golden ? "rules may not have been checked" : "no event was matched");
  run_inputs(&r, sm);
  size_t workers = sm ? sg_evs_workers(sm) : 0;
  if (sm) sg_evs_finish(sm, &n);
  if (n.ioerr) r.io_error = true;
  int golden_rc = job->golden ? run_golden_finish(&r) : 0;
  bool lost = run_said(&r, &n, workers, sg_ev_now() - t0);
  int rc = r.io_error || golden_rc == 2                     ? 2
           : (r.rule_errors || r.setup_failed || golden_rc) ? 1
           : lost                                           ? 3
                                                            : 0;
  run_free(&r);
  pcre2_code_free(pattern);
  return rc;
}

static void capture_out(void *ctx, const char *s, size_t n) { sg_buf_catn(&((SgCapture *)ctx)->out, s, n); }
static void capture_err(void *ctx, const char *s, size_t n) { sg_buf_catn(&((SgCapture *)ctx)->err, s, n); }

SgEvalSink sg_capture_sink(SgCapture *c) { return (SgEvalSink){capture_out, capture_err, c, NULL}; }

int sg_eval_sample(const char *rule_path, const SgPaths *context, const char *events,
                   const char *const *pipelines, size_t npipelines, const char *fields, SgCapture *c) {
  char *rules[] = {(char *)rule_path}, *evs[] = {(char *)events};
  SgEvalJob job = {.rules = rules,
                   .nrules = 1,
                   .context = context ? context->v : NULL,
                   .ncontext = context ? context->n : 0,
                   .events = evs,
                   .nevents = 1,
                   .pipelines = pipelines,
                   .npipelines = npipelines,
                   .include_deprecated = true,
                   .include_unsupported = true,
                   .fields = fields,
                   .jobs = 1};
  SgEvalSink sink = sg_capture_sink(c);
  return sg_eval_run(&job, &sink);
}
