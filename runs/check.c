/* check.c - `sigmacc check` as a run: every file under the paths loaded (in
 * parallel; rules, and pipeline files among them), the validators per file
 * and across the batch (ids, titles, file names), every diagnostic rendered
 * in path order with the count per validator. */
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
} Check;

static void count_findings(size_t *findings, const SgDiags *d, size_t from) {
  for (size_t i = from; i < d->n; i++)
    if (d->items[i].validator) {
      SgValidatorId id = sg_validator_find(d->items[i].validator);
      if (id != SG_V__COUNT) findings[id]++;
    }
}

static void check_file(void *arg, size_t i) {
  Check *c = arg;
  CheckResult *r = &c->res[i];
  SgDiags d = {.policy = c->warnings};
  char *src;
  size_t len;
  if (sg_read_file(c->paths->v[i], &src, &len, &d) != SG_OK) {
    r->io_error = true;
    r->errors = d.nerrors;
    sg_render_diags(&r->out, &d, 0, NULL, NULL, 0, c->json);
    if (c->reports) sg_render_diags(&r->report, &d, 0, NULL, NULL, 0, true);
    sg_diags_free(&d);
    return;
  }
  SgUnit u;
  SgStatus st = sg_compile_source(&u, c->paths->v[i], src, len, &d);
  if (u.pipeline) { /* a pipeline file beside the rules: validate it as one */
    SgPipeline *p;
    char *copy = sg_arena_strndup(&u.arena, u.src, u.srclen);
    if (copy) sg_pipeline_load(&u.arena, c->paths->v[i], copy, u.srclen, &p, &d);
    r->pipeline = true;
  } else {
    sg_validate_unit(c->val, &u, &d, 0);
    if (!sg_rule_keys(&u, &r->keys, &r->nkeys, &r->capkeys))
      sg_diag(&d, SG_D_NOMEM, (SgLoc){c->paths->v[i], 0, 0},
              "out of memory keeping ids and titles to compare");
  }
  count_findings(r->findings, &d, 0);
  r->io_error = st == SG_ERR_NOMEM;
  r->rules = u.nrules;
  r->errors = d.nerrors;
  r->warnings = d.nwarnings;
  r->suppressed = d.nsuppressed;
  sg_render_diags(&r->out, &d, 0, u.path, u.src, u.srclen, c->json);
  if (c->reports) sg_render_diags(&r->report, &d, 0, NULL, NULL, 0, true);
  sg_unit_free(&u);
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
  Check c = {&paths, json, job->warnings, val, calloc(paths.n + 1, sizeof *c.res), job->reports};
  size_t nerrors = d.nerrors, nwarnings = d.nwarnings, suppressed = d.nsuppressed;
  bool io_error = !io_ok || !c.res;
  sg_parallel_for(c.res && setup_ok ? paths.n : 0, check_file, &c);
  SgRuleKey *keys = NULL;
  size_t nkeys = 0, capkeys = 0;
  for (size_t i = 0; c.res && i < paths.n; i++) { /* in path order */
    CheckResult *r = &c.res[i];
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
