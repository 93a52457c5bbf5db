/* check.c - `sigmacc check` as a run: every file under the paths loaded (in
 * parallel; rules, and pipeline files among them), the validators per file
 * and across the batch (ids, titles, file names), the correlations'
 * references over every file (as convert resolves them), every diagnostic
 * rendered in path order with the count per validator. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigmacc_int.h"

typedef struct CheckResult {
  SgBuf out;    /* its diagnostics, rendered */
  SgBuf report; /* job->reports: the same as JSON lines */
  size_t rules, errors, warnings, suppressed;
  size_t findings[SG_V__COUNT];
  SgRuleKey *keys; /* for the checks across files */
  size_t nkeys, capkeys;
  bool pipeline, io_error;
} CheckResult;

typedef struct Check {
  const SgPaths *paths;
  bool json;
  const SgWarnPolicy *warnings;
  const SgValidation *val;
  CheckResult *res;
  bool reports;
  /* a correlation references rules of any file: the files with correlations are compiled first,
   * and each file is kept to the end when it has correlations or rules they name */
  SgUnit *units;
  char **srcs; /* each file's text, read first (NULL: not read, said in its result) */
  size_t *lens;
  SgDiags *unit_diags; /* the diagnostics of a file compiled first */
  size_t *corr, ncorr;
  SgCorrNames named;
} Check;

static void count_findings(size_t *findings, const SgDiags *d, size_t from) {
  for (size_t i = from; i < d->n; i++)
    if (d->items[i].validator) {
      SgValidatorId id = sg_validator_find(d->items[i].validator);
      if (id != SG_V__COUNT) findings[id]++;
    }
}

static void read_one(void *arg, size_t i) {
  Check *c = arg;
  CheckResult *r = &c->res[i];
  SgDiags d = {.policy = c->warnings};
  if (sg_read_file(c->paths->v[i], &c->srcs[i], &c->lens[i], &d) != SG_OK) {
    c->srcs[i] = NULL;
    r->io_error = true;
    r->errors = d.nerrors;
    sg_render_diags(&r->out, &d, 0, NULL, NULL, 0, c->json);
    if (c->reports) sg_render_diags(&r->report, &d, 0, NULL, NULL, 0, true);
  }
  sg_diags_free(&d);
}

/* A file compiled (its diagnostics wait in d for check_file). */
static void compile_one(Check *c, size_t i, SgDiags *d) {
  SgStatus st = sg_compile_source(&c->units[i], c->paths->v[i], c->srcs[i], c->lens[i], d);
  c->srcs[i] = NULL; /* the unit owns it */
  c->res[i].io_error = st == SG_ERR_NOMEM;
}

static void check_file(void *arg, size_t i) {
  Check *c = arg;
  CheckResult *r = &c->res[i];
  SgUnit *u = &c->units[i];
  if (!c->srcs[i] && !u->path) return; /* not read: said */
  SgDiags d = u->path ? c->unit_diags[i] : (SgDiags){.policy = c->warnings};
  if (!u->path) compile_one(c, i, &d);
  if (u->pipeline) { /* a pipeline file beside the rules: validate it as one */
    SgPipeline *p;
    char *copy = sg_arena_strndup(&u->arena, u->src, u->srclen);
    if (copy) sg_pipeline_load(&u->arena, c->paths->v[i], copy, u->srclen, &p, &d);
    r->pipeline = true;
  } else {
    sg_validate_unit(c->val, u, &d, 0);
    if (!sg_rule_keys(u, &r->keys, &r->nkeys, &r->capkeys))
      sg_diag(&d, SG_D_NOMEM, (SgLoc){c->paths->v[i], 0, 0},
              "out of memory keeping ids and titles to compare");
  }
  count_findings(r->findings, &d, 0);
  r->rules = u->nrules;
  r->errors = d.nerrors;
  r->warnings = d.nwarnings;
  r->suppressed = d.nsuppressed;
  sg_render_diags(&r->out, &d, 0, u->path, u->src, u->srclen, c->json);
  if (c->reports) sg_render_diags(&r->report, &d, 0, NULL, NULL, 0, true);
  if (!sg_unit_correlates(u) && !sg_corr_names_mark(&c->named, u)) sg_unit_free(u);
  sg_diags_free(&d);
}

static void compile_corr(void *arg, size_t j) {
  Check *c = arg;
  c->unit_diags[c->corr[j]] = (SgDiags){.policy = c->warnings};
  compile_one(c, c->corr[j], &c->unit_diags[c->corr[j]]);
}

/* The references of file i's correlations over the whole batch (E052 for a name no file has or
 * several have, E050 for a chain that comes back), rendered into its result. */
static void check_references(Check *c, const SgRuleIndex *ix, size_t i) {
  SgUnit *u = &c->units[i];
  CheckResult *r = &c->res[i];
  SgDiags d = {.policy = c->warnings};
  for (size_t k = 0; k < u->nrules; k++) {
    SgRule *rule = u->rules[k];
    SgRuleRef *refs;
    if (!rule->corr || rule->failed) continue;
    sg_corr_resolve(&u->arena, u, rule, ix, &refs, &d);
  }
  sg_corr_cycles(ix, u, &d);
  r->errors += d.nerrors;
  r->warnings += d.nwarnings;
  r->suppressed += d.nsuppressed;
  sg_render_diags(&r->out, &d, 0, u->path, u->src, u->srclen, c->json);
  if (c->reports) sg_render_diags(&r->report, &d, 0, NULL, NULL, 0, true);
  sg_diags_free(&d);
}

/* The validation the job asks for; false (reported in d) when it cannot be set up. */
static bool setup_validation(const SgCheckJob *job, SgValidation *v, SgDiags *d) {
  bool ok = true;
  if (job->sigmahq) sg_validation_sigmahq(v);
  if (job->today) sg_validation_today(v, job->today);
  if (job->validation_config && sg_validation_config(v, job->validation_config, d) != SG_OK) ok = false;
  for (size_t i = 0; i < job->nexclude; i++)
    if (!sg_validation_exclude(v, job->exclude[i])) {
      SgSuggest sug;
      sg_suggest_init(&sug, job->exclude[i], strlen(job->exclude[i]));
      for (int k = 0; k < SG_V__COUNT; k++)
        sg_suggest_add(&sug, sg_validator_info[k].id);
      char hint[96];
      sg_diag(d, SG_D_USAGE, (SgLoc){0}, "-x: '%s' is no validator%s", job->exclude[i],
              sg_suggest_text(&sug, hint, sizeof hint, " (sigmacc list validators)"));
      ok = false;
    }
  if (job->attack_data && sg_attack_load(v, job->attack_data, d) != SG_OK) ok = false;
  if (job->sigmahq_data && sg_hq_data_load(v, job->sigmahq_data, d) != SG_OK) ok = false;
  if (ok) sg_hq_unready(v, d);
  return ok;
}

void sg_check_run(const SgCheckJob *job, SgCheckResult *res) {
  memset(res, 0, sizeof *res);
  bool json = job->json;
  SgDiags d = {.policy = job->warnings};
  SgValidation *val = sg_validation_new();
  bool setup_ok = val && setup_validation(job, val, &d);
  if (!val) sg_diag(&d, SG_D_NOMEM, (SgLoc){0}, "out of memory setting up the validators");
  SgPaths paths = {0};
  bool io_ok = setup_ok && sg_expand_paths((int)job->npaths, (char **)job->paths, &paths, &d);
  sg_render_diags(&res->out, &d, 0, NULL, NULL, 0, json);
  if (job->reports) sg_render_diags(&res->report, &d, 0, NULL, NULL, 0, true);
  Check c = {.paths = &paths,
             .json = json,
             .warnings = job->warnings,
             .val = val,
             .res = calloc(paths.n + 1, sizeof *c.res),
             .reports = job->reports,
             .units = calloc(paths.n + 1, sizeof *c.units),
             .srcs = calloc(paths.n + 1, sizeof *c.srcs),
             .lens = calloc(paths.n + 1, sizeof *c.lens),
             .unit_diags = calloc(paths.n + 1, sizeof *c.unit_diags),
             .corr = calloc(paths.n + 1, sizeof *c.corr)};
  size_t nerrors = d.nerrors, nwarnings = d.nwarnings, suppressed = d.nsuppressed;
  bool io_error = !io_ok || !c.res || !c.units || !c.srcs || !c.lens || !c.unit_diags || !c.corr;
  bool run = !io_error && setup_ok;
  sg_parallel_for(run ? paths.n : 0, read_one, &c);
  for (size_t i = 0; run && i < paths.n; i++)
    if (c.srcs[i] && strstr(c.srcs[i], "correlation")) c.corr[c.ncorr++] = i; /* any mention: cheap */
  sg_parallel_for(run ? c.ncorr : 0, compile_corr, &c);
  if (run && !sg_corr_names(&c.named, c.units, c.corr, c.ncorr)) run = false, io_error = true;
  sg_parallel_for(run ? paths.n : 0, check_file, &c);
  SgRuleIndex index = {0};
  if (run && sg_rule_index_build(&index, c.units, paths.n) != SG_OK) run = false, io_error = true;
  SgRuleKey *keys = NULL;
  size_t nkeys = 0, capkeys = 0;
  for (size_t i = 0; c.res && i < paths.n; i++) { /* in path order */
    CheckResult *r = &c.res[i];
    if (run && c.units[i].path) check_references(&c, &index, i);
    sg_buf_catn(&res->out, r->out.data ? r->out.data : "", r->out.len);
    if (job->reports) { /* the file checked, then its diagnostics: a testcase each */
      sg_buf_cat(&res->report, "{\"checked\":");
      sg_json_str(&res->report, paths.v[i], strlen(paths.v[i]));
      sg_buf_cat(&res->report, "}\n");
      sg_buf_catn(&res->report, r->report.data ? r->report.data : "", r->report.len);
    }
    sg_buf_free(&r->report);
    res->rules += r->rules;
    res->pipelines += r->pipeline;
    nerrors += r->errors;
    nwarnings += r->warnings;
    suppressed += r->suppressed;
    io_error |= r->io_error;
    for (int v = 0; v < SG_V__COUNT; v++)
      res->findings[v] += r->findings[v];
    for (size_t k = 0; k < r->nkeys; k++) { /* moved: the strings change owner */
      SgRuleKey *slot = SG_PUSH_HEAP(keys, nkeys, capkeys);
      if (!slot) break;
      *slot = r->keys[k];
      r->keys[k] = (SgRuleKey){0};
    }
    sg_rule_keys_free(r->keys, r->nkeys);
    sg_buf_free(&r->out);
  }
  if (val && setup_ok) { /* the same id, title or file name in two rules of the batch */
    SgDiags bd = {.policy = job->warnings};
    sg_validate_batch(val, keys, nkeys, &bd);
    count_findings(res->findings, &bd, 0);
    sg_render_diags(&res->out, &bd, 0, NULL, NULL, 0, json);
    if (job->reports) { /* across files: none of them */
      sg_buf_cat(&res->report, "{\"across\":true}\n");
      sg_render_diags(&res->report, &bd, 0, NULL, NULL, 0, true);
    }
    nerrors += bd.nerrors;
    nwarnings += bd.nwarnings;
    suppressed += bd.nsuppressed;
    sg_diags_free(&bd);
  }
  sg_rule_keys_free(keys, nkeys);
  sg_rule_index_free(&index);
  for (size_t i = 0; c.units && i < paths.n; i++) {
    sg_unit_free(&c.units[i]);
    if (c.srcs) free(c.srcs[i]);
  }
  free(c.units);
  free(c.srcs);
  free(c.lens);
  free(c.unit_diags);
  free(c.corr);
  sg_corr_names_free(&c.named);
  free(c.res);
  res->files = paths.n;
  res->errors = nerrors;
  res->warnings = nwarnings;
  char piped[64] = "", off[64] = "";
  if (suppressed) snprintf(off, sizeof off, " (%zu switched off by -W)", suppressed);
  if (res->pipelines)
    snprintf(piped, sizeof piped, ", %zu pipeline%s", res->pipelines, res->pipelines == 1 ? "" : "s");
  sg_buf_catf(&res->summary, "checked %zu file%s, %zu rule%s%s: %zu error%s, %zu warning%s%s\n", paths.n,
              paths.n == 1 ? "" : "s", res->rules, res->rules == 1 ? "" : "s", piped, nerrors,
              nerrors == 1 ? "" : "s", nwarnings, nwarnings == 1 ? "" : "s", off);
  bool any = false;
  for (int v = 0; v < SG_V__COUNT; v++)
    if (res->findings[v]) {
      sg_buf_catf(&res->summary, "%s%s %zu", any ? ", " : "validator findings: ", sg_validator_info[v].id,
                  res->findings[v]);
      any = true;
    }
  if (any) sg_buf_catc(&res->summary, '\n');
  if (res->out.oom || res->summary.oom) io_error = true;
  res->exit_code = io_error || !setup_ok ? 2 : nerrors || (job->fail_on_warning && nwarnings) ? 1 : 0;
  sg_validation_free(val);
  sg_paths_free(&paths);
  sg_diags_free(&d);
}

void sg_check_result_free(SgCheckResult *res) {
  sg_buf_free(&res->out);
  sg_buf_free(&res->report);
  sg_buf_free(&res->summary);
  memset(res, 0, sizeof *res);
}
