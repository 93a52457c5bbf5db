/* convert.c - the conversion driver: one run of the convert command as a
 * library call. The pipeline-set policy (the user's pipelines sorted by
 * priority, then the target's default one), reading every file first for
 * the filter documents among them, converting the files on every core,
 * merging their results in path order (so the output never depends on the
 * number of threads), golden files, and rendering the queries through the
 * pipelines' finalizer or the target's own format.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runs.h"

/* Pipelines for this run: user ones sorted by (priority, name), then the
 * target's default ones unless --without-pipeline. */
static bool load_pipelines(const SgConvertJob *job, const SgTarget *t, size_t fi, SgArena *a,
                           SgPipelineSet *set, SgDiags *d, bool *usage) {
  if (t->needs_mapping && !job->npipelines && !job->without_pipeline && !t->default_pipeline) {
    sg_diag(d, SG_D_USAGE, (SgLoc){0},
            "-p: target '%s' needs a pipeline that maps Sigma's field names to its own (built-in: %s; or a "
            "site's "
            "own file); --without-pipeline writes Sigma's names as they are",
            t->name, t->needs_mapping);
    *usage = true;
    return false;
  }
  bool ok = sg_run_pipelines(a, job->pipelines, job->npipelines,
                             job->without_pipeline ? NULL : t->default_pipeline, set, d, usage);
  const char *key = t->formats[fi].state;
  if (ok && key && !sg_pipeline_sets_state(set, key)) { /* once, not once per rule */
    sg_diag(d, SG_D_USAGE, (SgLoc){0},
            "-f: format '%s' needs a pipeline that sets state '%s' (-p %s), and none does",
            t->formats[fi].name, key, t->formats[fi].state_from);
    *usage = true;
    ok = false;
  }
  for (size_t i = 0; ok && !t->any_pipeline && i < set->n; i++)
    if (!sg_pipeline_allows(set->v[i], t->name)) {
      sg_diag(d, SG_D_PIPELINE, (SgLoc){sg_pipeline_name(set->v[i]), 0, 0},
              "pipeline is not meant for target '%s' (see its allowed_backends)", t->name);
      ok = false;
    }
  return ok;
}

/* Queries as the output format and the pipelines' finalizers join them. */
void sg_render_queries(const SgTarget *t, const SgConvCtx *ctx, const SgPipelineSet *set, const SgQueries *q,
                       SgBuf *out, SgDiags *d) {
  const char **texts = calloc(q->n + 1, sizeof *texts);
  if (!texts) { /* never the output without the finalizers */
    sg_diag(d, SG_D_NOMEM, (SgLoc){"convert", 0, 0}, "out of memory joining the queries; nothing written");
    out->oom = true;
    return;
  }
  for (size_t i = 0; i < q->n; i++)
    texts[i] = q->v[i].text;
  if (!sg_pipeline_finalize(set, texts, q->n, out, d)) {
    if (t->finish) {
      t->finish(ctx, q, out);
    } else {
      for (size_t i = 0; i < q->n; i++) {
        if (i) sg_buf_catc(out, '\n');
        sg_buf_cat(out, q->v[i].text);
        sg_buf_catc(out, '\n');
      }
    }
  }
  free(texts);
}

/* ---- One file, and the files in parallel ------------------------------------------------ */

/* What converting one file produced; merged in path order, so the output is
 * the same whatever the number of threads. */
typedef struct FileResult {
  char *src; /* the file's text, read in the first pass (then owned by its unit) */
  size_t len;
  SgQueries q; /* its queries, rule serials from 1 */
  SgBuf diags; /* its diagnostics, rendered */
  SgBuf file;  /* --check/--update: its golden file */
  bool golden; /* `file` is meant for the golden directory (not a pipeline file) */
  bool late;   /* a correlation the text scan missed (a key written with escapes): converted last */
  bool io_error;
  size_t failed, skipped, errors, suppressed;
  SgDiags d; /* its diagnostics, from compiling to converting */
} FileResult;

typedef struct Work {
  const SgConvertJob *args;
  const SgTarget *t;
  const SgConvCtx *ctx;
  const SgPipelineSet *set;
  const SgPaths *paths;
  const SgFilters *filters;
  FileResult *res; /* one per path */
  size_t n;        /* paths to convert */
  SgUnit *units;   /* each file compiled; kept to the end when it has correlations or rules
                      they name (another file's correlation reads them) */
  size_t *corr;    /* the files that mention "correlation" (any with one), converted last */
  size_t ncorr;
  SgCorrNames named; /* the ids and names those correlations reference */
  const SgRuleIndex *index;
} Work;

static void read_file(void *arg, size_t i) {
  const Work *w = arg;
  FileResult *r = &w->res[i];
  SgDiags d = {.policy = w->args->warnings};
  if (sg_read_file(w->paths->v[i], &r->src, &r->len, &d) != SG_OK) {
    r->io_error = true;
    r->src = NULL;
    sg_render_diags(&r->diags, &d, 0, NULL, NULL, 0, w->args->json_diagnostics);
  }
  sg_diags_free(&d);
}

/* The field names a processed rule's conditions read, each once, in order
 * (a fieldref's other field too). */
typedef struct Names {
  SgPart *v; /* s, n */
  size_t n, cap;
  bool oom;
} Names;

static void add_name(Names *x, const char *s, size_t n) {
  for (size_t i = 0; i < x->n; i++)
    if (x->v[i].n == n && !memcmp(x->v[i].s, s, n)) return;
  SgPart *slot = SG_PUSH_HEAP(x->v, x->n, x->cap);
  if (slot)
    *slot = (SgPart){.s = s, .n = n};
  else
    x->oom = true;
}

static void collect_fields(const SgNode *n, Names *x) {
  if (n->kind == SG_N_MATCH) {
    if (n->m.field) add_name(x, n->m.field, strlen(n->m.field));
    if (n->m.v.kind == SG_V_FIELD && n->m.v.str.nparts)
      add_name(x, n->m.v.str.parts[0].s, n->m.v.str.parts[0].n);
    return;
  }
  for (uint32_t k = 0; k < n->nkids; k++)
    collect_fields(n->kids[k], x);
}

/* analyze fields: the rule through the pipelines, and the fields it reads. */
static SgStatus rule_fields(const Work *w, SgUnit *u, const SgRule *rule, SgBuf *out, SgDiags *d) {
  SgPipelineState ps = {0};
  SgRule *p;
  SgStatus st = sg_pipeline_apply(&u->arena, w->set, rule, &p, &ps, d);
  if (st != SG_OK) return st;
  Names x = {0};
  for (size_t c = 0; c < p->nconds; c++)
    if (p->conds[c].root) collect_fields(p->conds[c].root, &x);
  if (w->args->fields == 2) {
    sg_buf_cat(out, "{\"path\":");
    sg_json_str(out, u->path, strlen(u->path));
    sg_buf_catf(out, ",\"line\":%u,\"id\":", rule->loc.line);
    sg_json_str_or_null(out, rule->id);
    sg_buf_cat(out, ",\"title\":");
    sg_json_str_or_null(out, rule->title);
    sg_buf_cat(out, ",\"fields\":[");
    for (size_t i = 0; i < x.n; i++) {
      if (i) sg_buf_catc(out, ',');
      sg_json_str(out, x.v[i].s, x.v[i].n);
    }
    sg_buf_cat(out, "]}\n");
  } else {
    sg_buf_catf(out, "%s:%u: %s:", u->path, rule->loc.line, rule->title ? rule->title : "(untitled)");
    for (size_t i = 0; i < x.n; i++)
      sg_buf_catf(out, "%s %.*s", i ? "," : "", (int)x.v[i].n, x.v[i].s);
    sg_buf_cat(out, x.n ? "\n" : " (no field)\n");
  }
  free(x.v);
  if (x.oom) out->oom = true;
  return SG_OK;
}

/* A file compiled, its batch filters applied. */
static void compile_file(void *arg, size_t i) {
  const Work *w = arg;
  FileResult *r = &w->res[i];
  r->d = (SgDiags){.policy = w->args->warnings};
  if (!r->src) return; /* not read: reported */
  sg_compile_source(&w->units[i], w->paths->v[i], r->src, r->len, &r->d);
  r->src = NULL;
  if (sg_filters_apply(w->filters, &w->units[i]) != SG_OK) r->io_error = true;
}

static void compile_corr_file(void *arg, size_t j) {
  const Work *w = arg;
  compile_file(arg, w->corr[j]);
}

static void convert_unit(const Work *w, size_t i);

/* A file without correlations: compiled, converted, and freed unless a
 * correlation names one of its rules (the few files with correlations wait:
 * they read the rules of any file, so they are converted last). */
static void convert_file(void *arg, size_t i) {
  const Work *w = arg;
  if (w->units[i].path) return; /* has correlations: converted last */
  compile_file(arg, i);
  SgUnit *u = &w->units[i];
  if (!u->path) return;        /* not read: reported */
  if (sg_unit_correlates(u)) { /* the scan missed it: later, over what was kept */
    w->res[i].late = true;
    return;
  }
  bool keep = sg_corr_names_mark(&w->named, u);
  convert_unit(w, i);
  if (!keep) sg_unit_free(u);
}

static void convert_late_file(void *arg, size_t i) {
  const Work *w = arg;
  if (w->res[i].late) convert_unit(w, i);
}

static void convert_corr_file(void *arg, size_t j) {
  const Work *w = arg;
  if (w->units[w->corr[j]].path) convert_unit(w, w->corr[j]);
}

static void convert_unit(const Work *w, size_t i) {
  FileResult *r = &w->res[i];
  const SgConvertJob *args = w->args;
  SgConvCtx ctx = *w->ctx; /* sg_convert_rule sets ctx.state */
  ctx.batch = w->index;
  SgUnit *u = &w->units[i];
  SgDiags d = r->d;
  for (size_t k = 0; k < u->nrules; k++) {
    const SgRule *rule = u->rules[k];
    if (rule->failed) {
      r->failed++;
      continue;
    }
    if (rule->kind == SG_DOC_FILTER) continue; /* applied to other rules, not converted */
    if (rule->correlated) continue;            /* converted as part of its correlation */
    size_t errs = d.nerrors;
    if (args->fields && rule->kind != SG_DOC_RULE) continue; /* correlations read their rules' fields */
    SgStatus st = args->fields ? rule_fields(w, u, rule, &r->file, &d)
                               : sg_convert_rule(w->t, &ctx, w->set, u, rule, &r->q, &d);
    if (st == SG_ERR_UNSUPPORTED && args->skip_unsupported) {
      r->skipped++;
      d.nerrors = errs; /* reported, but not an error with -s */
    } else if (st != SG_OK) {
      r->failed++;
    }
  }
  r->errors = d.nerrors;
  r->suppressed = d.nsuppressed;
  sg_render_diags(&r->diags, &d, 0, u->path, u->src, u->srclen, args->json_diagnostics);
  if (args->golden && !u->pipeline) { /* this file's queries, compared with (or written to) its golden file */
    r->golden = true;
    size_t mark = d.n;
    sg_render_queries(w->t, &ctx, w->set, &r->q, &r->file, &d); /* a finalizer's error is the pipeline's */
    sg_render_diags(&r->diags, &d, mark, NULL, NULL, 0, args->json_diagnostics);
    /* what could not be converted is recorded in the file too, located by
     * line and column only, so the file is the same from any directory */
    const char *title = u->nrules && u->rules[0]->title ? u->rules[0]->title : "";
    for (size_t k = 0; k < d.n; k++)
      if (d.items[k].sev == SG_SEV_ERROR)
        sg_buf_catf(&r->file, "# error[%s] %u:%u: %s (in \"%s\")\n", sg_diag_code_str(d.items[k].code),
                    d.items[k].loc.line, d.items[k].loc.col,
                    d.items[k].msg ? d.items[k].msg : "(out of memory)", title);
    r->errors = 0; /* recorded and reviewed, not a failure of the check */
    r->failed = 0;
  }
  sg_diags_free(&d);
}

/* Move a file's queries to the end of `all`, continuing the rule serials. */
static bool append_queries(SgQueries *all, SgQueries *file) {
  if (all->n + file->n > all->cap) {
    size_t cap = all->cap ? all->cap : 64;
    while (cap < all->n + file->n)
      cap *= 2;
    SgQuery *v = realloc(all->v, cap * sizeof *v);
    if (!v) {
      sg_queries_free(file);
      return false;
    }
    all->v = v;
    all->cap = cap;
  }
  for (size_t k = 0; k < file->n; k++) {
    file->v[k].rule += all->rules;
    all->v[all->n++] = file->v[k];
  }
  all->rules += file->rules;
  free(file->v);
  *file = (SgQueries){0};
  return true;
}

void sg_convert_result_free(SgConvertResult *res) {
  sg_buf_free(&res->out);
  sg_buf_free(&res->diags);
  sg_buf_free(&res->junit);
  memset(res, 0, sizeof *res);
}

/* The job's target, format, options and pipelines, checked (one place for
 * a run and for sg_convert_text): SG_OK, or SG_ERR_USAGE (an unknown target,
 * format or option, a -p naming nothing) or a pipeline's error, each said in d. */
static SgStatus prepare(const SgConvertJob *job, const SgTarget **tp, size_t *fip, SgConvCtx *ctx,
                        SgArena *pa, SgPipelineSet *set, SgDiags *d) {
  const SgTarget *t = *tp = sg_target_find(job->target);
  char hint[96];
  if (!t) {
    SgSuggest sg;
    sg_suggest_init(&sg, job->target, strlen(job->target));
    size_t nt;
    const SgTarget *const *all = sg_target_list(&nt);
    for (size_t i = 0; i < nt; i++) {
      sg_suggest_add(&sg, all[i]->name);
      if (all[i]->alias) sg_suggest_add(&sg, all[i]->alias);
    }
    sg_diag(d, SG_D_USAGE, (SgLoc){0}, "-t: unknown target '%s'%s", job->target,
            sg_suggest_text(&sg, hint, sizeof hint, " (see 'sigmacc list targets')"));
    return SG_ERR_USAGE;
  }
  const char *format = job->format ? job->format : t->formats[0].name;
  size_t fi = 0;
  while (t->formats[fi].name && strcmp(t->formats[fi].name, format))
    fi++;
  if (!t->formats[fi].name) {
    SgSuggest sg;
    sg_suggest_init(&sg, format, strlen(format));
    for (size_t i = 0; t->formats[i].name; i++)
      sg_suggest_add(&sg, t->formats[i].name);
    char other[96];
    snprintf(other, sizeof other, " (see 'sigmacc list formats %s')", t->name);
    sg_diag(d, SG_D_USAGE, (SgLoc){0}, "-f: target '%s' has no format '%s'%s", t->name, format,
            sg_suggest_text(&sg, hint, sizeof hint, other));
    return SG_ERR_USAGE;
  }
  *fip = fi;
  *ctx = (SgConvCtx){.format = format, .opts = job->opts, .nopts = job->nopts, .header = job->header};
  if (sg_check_options(ctx, t->name, t->formats[fi].options, d) != SG_OK ||
      (t->check_options && t->check_options(ctx, d) != SG_OK))
    return SG_ERR_USAGE;
  bool usage = false;
  if (!load_pipelines(job, t, fi, pa, set, d, &usage)) return usage ? SG_ERR_USAGE : SG_ERR_PARSE;
  return SG_OK;
}

SgStatus sg_converter_init(SgConverter *c, const SgConvertJob *job, SgDiags *d) {
  memset(c, 0, sizeof *c);
  sg_arena_init(&c->arena);
  size_t fi;
  SgStatus st = prepare(job, &c->target, &fi, &c->ctx, &c->arena, &c->set, d);
  if (st != SG_OK) sg_converter_free(c);
  return st;
}

void sg_converter_free(SgConverter *c) { sg_arena_free(&c->arena); }

SgStatus sg_converter_text(const SgConverter *c, const char *path, const char *src, size_t len, SgBuf *out,
                           SgDiags *d) {
  char *copy = malloc(len + 1); /* the unit takes its text over */
  if (!copy) return SG_ERR_NOMEM;
  memcpy(copy, src, len);
  copy[len] = '\0';
  size_t errors = d->nerrors;
  SgConvCtx ctx = c->ctx; /* sg_convert_rule sets ctx.state */
  SgUnit u;
  SgStatus st = sg_compile_source(&u, path, copy, len, d);
  SgQueries q = {0};
  for (size_t k = 0; k < u.nrules; k++) {
    const SgRule *rule = u.rules[k];
    if (rule->failed || rule->kind == SG_DOC_FILTER || rule->correlated) continue;
    SgStatus rs = sg_convert_rule(c->target, &ctx, &c->set, &u, rule, &q, d);
    if (st == SG_OK) st = rs;
  }
  if (st == SG_OK && d->nerrors > errors) st = SG_ERR_PARSE; /* a rule that failed to load */
  sg_render_queries(c->target, &ctx, &c->set, &q, out, d);
  if (out->oom && st == SG_OK) st = SG_ERR_NOMEM;
  sg_queries_free(&q);
  sg_unit_free(&u);
  return st;
}

SgStatus sg_convert_text(const SgConvertJob *job, const char *path, const char *src, size_t len, SgBuf *out,
                         SgDiags *d) {
  SgConverter c;
  SgStatus st = sg_converter_init(&c, job, d);
  if (st != SG_OK) return st;
  st = sg_converter_text(&c, path, src, len, out, d);
  sg_converter_free(&c);
  return st;
}

void sg_convert_run(const SgConvertJob *job, char *const *argv, size_t argc, SgConvertResult *res) {
  memset(res, 0, sizeof *res);
  const SgTarget *t;
  size_t fi;
  SgConvCtx ctx;
  SgDiags d = {.policy = job->warnings};
  SgArena parena;
  sg_arena_init(&parena);
  SgPipelineSet set = {0};
  SgStatus prep = prepare(job, &t, &fi, &ctx, &parena, &set, &d);
  if (prep != SG_OK) { /* nothing converted */
    sg_render_diags(&res->diags, &d, 0, NULL, NULL, 0, job->json_diagnostics);
    sg_diags_free(&d);
    sg_arena_free(&parena);
    res->exit_code = prep == SG_ERR_USAGE ? 2 : 1;
    return;
  }
  SgPaths paths = {0};
  bool io_error = !sg_expand_paths((int)argc, (char **)argv, &paths, &d);
  SgFilters filters = {0};
  Work w = {.args = job,
            .t = t,
            .ctx = &ctx,
            .set = &set,
            .paths = &paths,
            .filters = &filters,
            .res = calloc(paths.n + 1, sizeof *w.res),
            .n = paths.n,
            .units = calloc(paths.n + 1, sizeof *w.units)};
  if (!w.res || !w.units) {
    sg_diag(&d, SG_D_NOMEM, (SgLoc){"convert", 0, 0}, "out of memory");
    io_error = true;
    w.n = 0;
  }
  sg_parallel_for(w.n, read_file, &w); /* read every file, then take the filter documents among them */
  bool filters_ok = sg_filters_load(job->filters, job->nfilters, &filters, &d);
  for (size_t i = 0; i < w.n; i++)
    if (w.res[i].src && !sg_filters_add(&filters, paths.v[i], w.res[i].src, w.res[i].len, true, &d))
      filters_ok = false;
  sg_render_diags(&res->diags, &d, 0, NULL, NULL, 0, job->json_diagnostics);
  /* the files with correlations first (they name rules of any file), then every other file
   * (converted and freed, but those with named rules), then the correlations over the index
   * of what was kept */
  SgRuleIndex index = {0};
  w.corr = calloc(w.n + 1, sizeof *w.corr);
  for (size_t i = 0; w.corr && i < w.n; i++)
    if (w.res[i].src && strstr(w.res[i].src, "correlation")) w.corr[w.ncorr++] = i; /* any mention: cheap */
  bool ready = w.corr != NULL;
  if (filters_ok && ready) { /* a --filter that does not load: convert nothing */
    sg_parallel_for(w.ncorr, compile_corr_file, &w);
    ready = sg_corr_names(&w.named, w.units, w.corr, w.ncorr);
    if (ready) sg_parallel_for(w.n, convert_file, &w);
    ready = ready && sg_rule_index_build(&index, w.units, w.n) == SG_OK;
    if (ready) {
      size_t mark = d.n;
      if (sg_corr_cycles(&index, NULL, &d))
        sg_render_diags(&res->diags, &d, mark, NULL, NULL, 0, job->json_diagnostics);
      sg_rule_index_mark(&index);
      w.index = &index;
      sg_parallel_for(w.ncorr, convert_corr_file, &w);
      sg_parallel_for(w.n, convert_late_file, &w);
    }
  }
  if (filters_ok && !ready) {
    sg_diag(&d, SG_D_NOMEM, (SgLoc){"convert", 0, 0}, "out of memory indexing the rules; not all converted");
    sg_render_diags(&res->diags, &d, d.n - 1, NULL, NULL, 0, job->json_diagnostics);
    io_error = true;
  }
  /* in path order: diagnostics, queries (rule serials continue), golden files */
  SgQueries q = {0};
  size_t suppressed = d.nsuppressed;
  SgGolden golden;
  if (job->golden) sg_golden_init(&golden, job->golden, t->formats[fi].ext, job->update);
  for (size_t i = 0; i < w.n; i++) {
    FileResult *r = &w.res[i];
    if (r->diags.len) sg_buf_catn(&res->diags, r->diags.data, r->diags.len);
    io_error |= r->io_error;
    res->failed += r->failed;
    res->skipped += r->skipped;
    res->errors += r->errors;
    suppressed += r->suppressed;
    if (job->golden && r->golden &&
        sg_golden_file(&golden, paths.v[i] + paths.rel[i], r->file.data ? r->file.data : "", r->file.len) < 0)
      io_error = true;
    if (!append_queries(&q, &r->q)) {
      size_t mark = d.n;
      sg_diag(&d, SG_D_NOMEM, (SgLoc){paths.v[i], 0, 0}, "out of memory: its queries were not collected");
      sg_render_diags(&res->diags, &d, mark, NULL, NULL, 0, job->json_diagnostics);
      io_error = true;
    }
    if (job->fields) sg_buf_catn(&res->out, r->file.data ? r->file.data : "", r->file.len);
    sg_buf_free(&r->diags);
    sg_buf_free(&r->file);
    free(r->src); /* not converted */
  }
  free(w.res);
  for (size_t i = 0; w.units && i < w.n; i++)
    if (w.units[i].path) sg_unit_free(&w.units[i]);
  free(w.units);
  free(w.corr);
  sg_corr_names_free(&w.named);
  sg_rule_index_free(&index);
  if (filters_ok) {
    size_t mark = d.n;
    sg_filters_report_unused(&filters, &d);
    sg_render_diags(&res->diags, &d, mark, NULL, NULL, 0, job->json_diagnostics);
  }
  int golden_rc = 0;
  if (job->golden) {
    golden_rc = sg_golden_finish(&golden);
    sg_buf_cat(&res->out, sg_buf_cstr(&golden.report));
    size_t n = golden.nseen;
    if (job->update)
      sg_buf_catf(&res->out, "golden: %zu file%s, %zu written, %zu removed\n", n, n == 1 ? "" : "s",
                  golden.written, golden.extra);
    else
      sg_buf_catf(&res->out, "golden: %zu file%s, %zu differ, %zu missing, %zu extra\n", n, n == 1 ? "" : "s",
                  golden.mismatches, golden.missing, golden.extra);
    if (!job->update) sg_golden_junit(&golden, "sigmacc golden", &res->junit);
    sg_golden_free(&golden);
  } else if (!job->fields) {
    size_t mark = d.n;
    sg_render_queries(t, &ctx, &set, &q, &res->out, &d);
    sg_render_diags(&res->diags, &d, mark, NULL, NULL, 0, job->json_diagnostics);
  }
  if (suppressed) /* never silent: the count of what -W switched off */
    sg_buf_catf(&res->diags, "sigmacc convert: %zu warning%s switched off by -W\n", suppressed,
                suppressed == 1 ? "" : "s");
  if (res->skipped)
    sg_buf_catf(&res->diags, "sigmacc convert: %zu rule%s skipped as unsupported\n", res->skipped,
                res->skipped == 1 ? "" : "s");
  if (res->out.oom || res->diags.oom) { /* said, even when the diagnostics themselves were cut */
    io_error = true;
    if (res->diags.oom) sg_buf_reset(&res->diags);
    sg_buf_cat(&res->diags, "sigmacc convert: error[E090]: out of memory; the output is incomplete\n");
  }
  res->exit_code = io_error || golden_rc == 2                               ? 2
                   : (res->failed || res->errors || d.nerrors || golden_rc) ? 1
                                                                            : 0;
  sg_queries_free(&q);
  sg_paths_free(&paths);
  sg_filters_free(&filters);
  sg_diags_free(&d);
  sg_arena_free(&parena);
}
