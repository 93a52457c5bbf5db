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

/* R.yml -> R<suffix> (.events.jsonl, .nomatch.jsonl), when that file exists. */
static char *sample_events(const char *rule, const char *suffix) {
  size_t n = strlen(rule);
  if (n > 4 && !strcmp(rule + n - 4, ".yml"))
    n -= 4;
  else if (n > 5 && !strcmp(rule + n - 5, ".yaml"))
    n -= 5;
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

/* A correlation of `u`, over the rules of `u` it names as `added` them
 * (their processed forms, NULL for a rule that was not added). */
static SgStatus add_correlation(SgCorrelator *co, SgUnit *u, const SgRule *corr, const SgRule **added,
                                SgDiags *d) {
  size_t n = corr->corr->rules.n, *idx;
  const SgRule **refs = sg_arena_alloc(&u->arena, (n + 1) * sizeof *refs);
  if (!refs) return SG_ERR_NOMEM;
  SgStatus st = sg_corr_resolve(u, corr, &idx, d);
  for (size_t i = 0; st == SG_OK && i < n; i++)
    if (!(refs[i] = added[idx[i]])) {
      sg_diag(d, SG_D_UNSUPPORTED, corr->corr->rules.locs ? corr->corr->rules.locs[i] : corr->loc,
              "rule '%s' is not evaluated, so neither is the correlation", corr->corr->rules.v[i]);
      st = SG_ERR_UNSUPPORTED;
    }
  return st == SG_OK ? sg_corr_add(co, corr, refs, d) : st;
}

/* Add the rules of `u` to `ev` through the pipelines, then its correlations
 * to `co`. True when a rule had an error; with `skip`, what cannot be
 * evaluated is only counted in *skipped. */
static bool load_unit(SgEvaluator *ev, SgCorrelator *co, SgUnit *u, const SgPipelineSet *set, bool skip,
                      size_t *skipped, SgDiags *d) {
  bool errors = false;
  const SgRule **added = sg_arena_alloc(&u->arena, (u->nrules + 1) * sizeof *added);
  if (!added) {
    sg_diag(d, SG_D_NOMEM, (SgLoc){u->path, 0, 0}, "out of memory loading the rules; they are not evaluated");
    return true;
  }
  for (int pass = 0; pass < 2; pass++) /* rules, then the correlations over them */
    for (size_t i = 0; i < u->nrules; i++) {
      const SgRule *rule = u->rules[i];
      if (rule->kind == SG_DOC_FILTER || (rule->kind == SG_DOC_CORRELATION) != (pass == 1)) continue;
      if (rule->failed) {
        errors = true;
        continue;
      }
      SgStatus st;
      if (pass == 0) {
        SgPipelineState ps = {0};
        SgRule *processed;
        st = sg_pipeline_apply(&u->arena, set, rule, &processed, &ps, d);
        if (st == SG_OK) st = sg_eval_add(ev, processed, d);
        if (st == SG_OK) added[i] = processed;
      } else {
        st = add_correlation(co, u, rule, added, d);
      }
      if (st == SG_ERR_NOMEM) /* never a rule silently left out */
        sg_diag(d, SG_D_NOMEM, rule->loc, "out of memory loading the rule; it is not evaluated");
      if (st == SG_ERR_UNSUPPORTED && skip)
        (*skipped)++;
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
                      .to = job->to};
}

int sg_eval_run(const SgEvalJob *job, const SgEvalSink *sink) {
  SgDiags d = {.policy = job->warnings};
  SgArena pa;
  sg_arena_init(&pa);
  SgPipelineSet set = {0};
  bool rule_errors = false, io_error = false, setup_failed = false, nomem = false;
  bool usage = false; /* a -p naming nothing: exit 2, as convert */
  if (!sg_run_pipelines(&pa, job->pipelines, job->npipelines, job->without_pipeline ? NULL : "evtx", &set, &d,
                        &usage))
    setup_failed = true;
  io_error = io_error || usage;
  say_diags(sink, &d, 0, NULL, false);
  SgEvReport report = report_of(job);
  SgPaths paths = {0};
  size_t mark = d.n;
  if (!setup_failed && !sg_expand_paths((int)job->nrules, (char **)job->rules, &paths, &d)) io_error = true;
  /* every rule file is read once, before any is compiled: the filter
   * documents among them apply to all */
  Source *srcs = calloc(paths.n + 1, sizeof *srcs);
  if (!srcs) setup_failed = nomem = true;
  for (size_t i = 0; !setup_failed && i < paths.n; i++) {
    SgDiags rd = {0};
    if (sg_read_file(paths.v[i], &srcs[i].text, &srcs[i].len, &rd) != SG_OK) {
      srcs[i].text = NULL;
      sg_render_diags(&srcs[i].error, &rd, 0, NULL, NULL, 0, false);
    }
    sg_diags_free(&rd);
  }
  SgFilters filters = {0};
  if (!setup_failed && !sg_filters_load(job->filters, job->nfilters, &filters, &d)) setup_failed = true;
  for (size_t i = 0; !setup_failed && i < paths.n; i++)
    if (srcs[i].text && !sg_filters_add(&filters, paths.v[i], srcs[i].text, srcs[i].len, true, &d))
      setup_failed = true;
  say_diags(sink, &d, mark, NULL, false);
  SgUnit *units = calloc(paths.n + 1, sizeof *units);
  SgEvaluator *ev = job->golden ? NULL : sg_eval_new();
  SgCorrelator *co = job->golden ? NULL : sg_corr_new();
  size_t skipped = 0;
  SgGolden golden;
  if (job->golden) sg_golden_init(&golden, job->golden, ".jsonl", job->update);
  SgBuf unsampled = {0}; /* --check: rule files with no sample events, said once */
  size_t nunsampled = 0;
  if (!units || (!job->golden && (!ev || !co))) setup_failed = nomem = true;
  if (ev) sg_eval_set_logsources(ev, &set, job->declared);
  for (size_t i = 0; !setup_failed && i < paths.n; i++) {
    mark = d.n;
    if (!srcs[i].text) { /* not read: say so, in path order */
      io_error = true;
      say(sink, "%s", sg_buf_cstr(&srcs[i].error));
      continue;
    }
    SgUnit *u = &units[i];
    sg_compile_source(u, paths.v[i], srcs[i].text, srcs[i].len, &d);
    srcs[i].text = NULL; /* the unit owns it */
    if (sg_filters_apply(&filters, u) != SG_OK) setup_failed = nomem = true;
    if (job->golden) { /* each rule file with its own sample events */
      const char *shown_rule = paths.v[i] + paths.rel[i];
      char *events = sample_events(paths.v[i], ".events.jsonl");
      char *nomatch = sample_events(paths.v[i], ".nomatch.jsonl");
      if (!events && !nomatch) sg_buf_catf(&unsampled, "  %s\n", paths.v[i]), nunsampled++;
      for (int pass = 0; pass < 2; pass++) {
        const char *file = pass ? nomatch : events;
        FILE *ef = file ? fopen(file, "rb") : NULL;
        if (!ef) continue;
        SgEvaluator *target = sg_eval_new();
        SgCorrelator *tco = sg_corr_new();
        if (!target || !tco) setup_failed = nomem = true;
        if (target) sg_eval_set_logsources(target, &set, job->declared);
        if (target && tco && load_unit(target, tco, u, &set, false, &skipped, &d)) rule_errors = true;
        if (target && tco && sg_eval_prepare(target) == SG_OK) {
          GoldenSink gsink = {.parent = sink};
          SgEvalSink gs = {to_buf, to_parent_err, &gsink};
          SgEvReport gr = {.format = SG_EVAL_JSONL, .fields = job->fields};
          SgEvCounts gn = {0};
          SgEvStream *st = sg_evs_new(target, tco, &gr, &gs, 1, false);
          if (!st) {
            setup_failed = nomem = true;
          } else {
            sg_evs_file(st, ef, file, file + paths.rel[i], false);
            sg_evs_finish(st, &gn);
          }
          SgBuf *out = &gsink.out;
          if (!st) {
          } else if (pass && out->len) { /* R.nomatch.jsonl: events the rule must not match */
            say(sink, "%s: error: the rule matches events of %s, which it must not match:\n%s", paths.v[i],
                file, sg_buf_cstr(out));
            rule_errors = true;
          } else if (!pass && !out->len && !gn.skipped) { /* a golden of no match checks nothing */
            say(sink,
                "%s: error: its sample events %s match nothing, so its golden file would check nothing "
                "(events a rule must not match go in %.*s.nomatch.jsonl)\n",
                paths.v[i], file, (int)(strlen(file) - 13), file);
            rule_errors = true;
          } else if (!pass && sg_golden_file(&golden, shown_rule, out->data ? out->data : "", out->len) < 0) {
            io_error = true;
          }
          sg_buf_free(out);
        }
        fclose(ef);
        sg_eval_free(target);
        sg_corr_free(tco);
      }
      free(events);
      free(nomatch);
      say_diags(sink, &d, mark, u, false);
      continue;
    }
    if (load_unit(ev, co, u, &set, job->skip_unsupported, &skipped, &d)) rule_errors = true;
    say_diags(sink, &d, mark, u, false);
  }
  if (ev && !setup_failed && sg_eval_prepare(ev) != SG_OK) setup_failed = nomem = true;
  if (!setup_failed) {
    mark = d.n;
    sg_filters_report_unused(&filters, &d);
    say_diags(sink, &d, mark, NULL, false);
  }
  if (skipped)
    say(sink, "sigmacc eval: %zu rule%s skipped as unsupported\n", skipped, skipped == 1 ? "" : "s");
  if (nunsampled)
    say(sink,
        "sigmacc eval: %zu of %zu rule files have no sample events (R.events.jsonl or R.nomatch.jsonl), "
        "so --check does not check them:\n%s",
        nunsampled, paths.n, sg_buf_cstr(&unsampled));
  sg_buf_free(&unsampled);
  if (setup_failed) {
    sg_eval_free(ev);
    ev = NULL; /* no events are read: the rules were not all loaded */
  }

  /* stream the events */
  SgEvCounts n = {0};
  double t0 = sg_ev_now();
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  size_t jobs = job->jobs ? job->jobs : cores > 0 ? (size_t)cores : 1;
  SgEvStream *sm = ev ? sg_evs_new(ev, co, &report, sink, jobs, job->progress) : NULL;
  if (ev && !sm) setup_failed = nomem = true;
  if (nomem) /* never a silent exit 1 */
    say(sink, "sigmacc eval: error[E090]: out of memory setting up the run; %s\n",
        job->golden ? "rules may not have been checked" : "no event was matched");
  char *stdin_name = "-";
  char *const *inputs = job->nevents ? job->events : &stdin_name;
  size_t ninputs = job->nevents ? job->nevents : 1;
  for (size_t i = 0; sm && i < ninputs; i++) {
    bool is_stdin = !strcmp(inputs[i], "-");
    struct stat st;
    if (!is_stdin && stat(inputs[i], &st) == 0 && S_ISDIR(st.st_mode)) { /* every file under it */
      SgPaths files = {0};
      SgDiags fd = {0};
      if (!sg_expand_dir_files(inputs[i], &files, &fd)) io_error = true;
      if (!files.n && !fd.n) say(sink, "%s: error[E001]: the directory holds no files\n", inputs[i]);
      io_error = io_error || !files.n || fd.nerrors; /* W092: a FIFO or device passed over */
      say_diags(sink, &fd, 0, NULL, false);
      for (size_t k = 0; k < files.n; k++)
        io_error = !read_input(sm, sink, files.v[k], true) || io_error;
      sg_paths_free(&files);
      sg_diags_free(&fd);
      continue;
    }
    io_error = !read_input(sm, sink, inputs[i], false) || io_error;
  }
  size_t workers = sm ? sg_evs_workers(sm) : 0;
  if (sm) sg_evs_finish(sm, &n);
  if (n.ioerr) io_error = true;
  /* events that could not be read are never silent: exit 3 (below) */
  bool lost = ev && (n.skipped || !n.events || n.unknown || n.damaged || n.lost_output);
  if (ev && !n.events) say(sink, "sigmacc eval: no event was read\n");
  if (n.skipped)
    say(sink, "sigmacc eval: %zu document%s skipped as malformed\n", n.skipped,
        n.skipped == 1 ? " was" : "s were");
  if (n.unsourced && job->stats)
    say(sink,
        "sigmacc eval: %zu event%s had no log source (not in evtx_dump's shape): every rule applied to %s; "
        "--logsource says what they are\n",
        n.unsourced, n.unsourced == 1 ? "" : "s", n.unsourced == 1 ? "it" : "them");
  if (n.untimed)
    say(sink, "sigmacc eval: %zu event%s no time, so --from/--to left %s out\n", n.untimed,
        n.untimed == 1 ? " has" : "s have", n.untimed == 1 ? "it" : "them");
  if (n.outside && job->stats)
    say(sink, "sigmacc eval: %zu event%s outside the --from/--to window\n", n.outside,
        n.outside == 1 ? " was" : "s were");
  if (n.lost_output)
    say(sink, "sigmacc eval: error[E090]: out of memory writing matches; some are missing\n");
  if (n.damaged)
    say(sink, "sigmacc eval: %zu EVTX file%s corrupt or truncated\n", n.damaged,
        n.damaged == 1 ? " is" : "s are");
  if (n.unknown)
    say(sink, "sigmacc eval: %zu result%s could not be decided\n", n.unknown, n.unknown == 1 ? "" : "s");
  int golden_rc = 0;
  if (job->golden) {
    golden_rc = sg_golden_finish(&golden);
    SgBuf rep = {0};
    sg_buf_cat(&rep, sg_buf_cstr(&golden.report));
    if (job->update)
      sg_buf_catf(&rep, "golden: %zu file%s, %zu written, %zu removed\n", golden.nseen,
                  golden.nseen == 1 ? "" : "s", golden.written, golden.extra);
    else
      sg_buf_catf(&rep, "golden: %zu file%s, %zu differ, %zu missing, %zu extra\n", golden.nseen,
                  golden.nseen == 1 ? "" : "s", golden.mismatches, golden.missing, golden.extra);
    sink->out(sink->ctx, sg_buf_cstr(&rep), rep.len);
    sg_buf_free(&rep);
    sg_golden_free(&golden);
  }
  if (co && sg_corr_untimed(co))
    say(sink,
        "sigmacc eval: warning: %zu match%s of correlated rules had no event time and were not correlated\n",
        sg_corr_untimed(co), sg_corr_untimed(co) == 1 ? "" : "es");
  if (n.progress_shown) say(sink, "\n");
  double el = sg_ev_now() - t0;
  if (job->stats)
    say(sink,
        "events %zu, bytes %zu, matches %zu, skipped %zu, undecided %zu, rules %zu, jobs %zu, %.3f s, "
        "%.0f events/s\n",
        n.events, n.bytes, n.matches, n.skipped, n.unknown, ev ? sg_eval_rule_count(ev) : 0, workers, el,
        el > 0 ? n.events / el : 0.0);
  if (d.nsuppressed) /* never silent: the count of what -W switched off */
    say(sink, "sigmacc eval: %zu warning%s switched off by -W\n", d.nsuppressed,
        d.nsuppressed == 1 ? "" : "s");
  sg_eval_free(ev);
  sg_corr_free(co);
  for (size_t i = 0; units && i < paths.n; i++)
    sg_unit_free(&units[i]);
  free(units);
  for (size_t i = 0; srcs && i < paths.n; i++) {
    free(srcs[i].text); /* not compiled */
    sg_buf_free(&srcs[i].error);
  }
  free(srcs);
  sg_paths_free(&paths);
  sg_filters_free(&filters);
  sg_diags_free(&d);
  sg_arena_free(&pa);
  return io_error || golden_rc == 2 ? 2 : (rule_errors || setup_failed || golden_rc) ? 1 : lost ? 3 : 0;
}
