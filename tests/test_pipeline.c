/* test_pipeline.c - table-driven pipeline tests: each tests/pipeline/NAME.yml
 * holds a pipeline, a line "---", then a rule. The rule part's comments give
 * the expected result (`# expect:` block: the processed rule's dump followed
 * by its log source, fields, state and custom attributes) and the exact
 * expected diagnostics (`# diag: CODE p|r:LINE:COL`, p = pipeline part). */
#include "testutil.h"

static void dump_processed(SgBuf *out, const SgRule *r, const SgPipelineState *st) {
  sg_dump_rule(out, r);
  sg_buf_catf(out, "logsource %s/%s/%s\n", r->logsource.category ? r->logsource.category : "-",
              r->logsource.product ? r->logsource.product : "-",
              r->logsource.service ? r->logsource.service : "-");
  if (r->fields.n) {
    sg_buf_cat(out, "fields");
    for (size_t i = 0; i < r->fields.n; i++)
      sg_buf_catf(out, " %s", r->fields.v[i]);
    sg_buf_catc(out, '\n');
  }
  for (size_t i = 0; i < st->n; i++) {
    const SgYNode *v = st->kv[i].val;
    sg_buf_catf(out, "state %s =", st->kv[i].key);
    for (size_t k = 0; v->kind == SG_Y_SEQ && k < v->n; k++)
      sg_buf_catf(out, " %s", v->items[k]->text);
    if (v->kind == SG_Y_SCALAR) sg_buf_catf(out, " %s", v->text);
    sg_buf_catc(out, '\n');
  }
  for (size_t i = 0; i < r->ncustom; i++)
    if (r->custom[i].val->kind == SG_Y_SCALAR)
      sg_buf_catf(out, "custom %s = %s\n", r->custom[i].key, r->custom[i].val->text);
}

static void check_file(void **state) {
  const char *path = *state;
  size_t len = 0;
  char *src = tu_slurp(path, &len);
  assert_non_null(src);
  char *sep = strstr(src, "\n---\n");
  assert_non_null(sep);
  size_t plen = (size_t)(sep - src) + 1;
  const char *rule = sep + 5;
  size_t rlen = len - plen - 4;
  SgBuf want = {0}, want_diags = {0}, got = {0}, got_diags = {0};
  tu_expectations(rule, &want, &want_diags);
  SgArena pa;
  sg_arena_init(&pa);
  SgDiags d = {0};
  SgPipeline *p = NULL;
  SgPipelineSet set = {0};
  char *ptext = sg_arena_strndup(&pa, src, plen);
  if (sg_pipeline_load(&pa, "p", ptext, plen, &p, &d) == SG_OK) {
    set.v = &p;
    set.n = 1;
    sg_pipeline_validate(&pa, &set, &d);
  }
  SgUnit u = {0};
  char *rcopy = malloc(rlen + 1);
  memcpy(rcopy, rule, rlen);
  rcopy[rlen] = '\0';
  sg_compile_source(&u, "r", rcopy, rlen, &d);
  for (size_t i = 0; p && d.nerrors == 0 && i < u.nrules; i++) {
    SgPipelineState st = {0};
    SgRule *out;
    sg_pipeline_apply(&u.arena, &set, u.rules[i], &out, &st, &d);
    dump_processed(&got, out, &st);
  }
  for (size_t i = 0; i < d.n; i++)
    sg_buf_catf(&got_diags, "%s %s:%u:%u\n", sg_diag_code_str(d.items[i].code), d.items[i].loc.path,
                d.items[i].loc.line, d.items[i].loc.col);
  SgBuf msgs = {0};
  for (size_t i = 0; i < d.n; i++)
    sg_diag_render(&msgs, &d.items[i], NULL, 0);
  if (strcmp(sg_buf_cstr(&want), sg_buf_cstr(&got)) ||
      strcmp(sg_buf_cstr(&want_diags), sg_buf_cstr(&got_diags)))
    fail_msg("%s\n--- expected:\n%s--- got:\n%s--- expected diagnostics:\n%s--- got:\n%s%s", path,
             want.data ? want.data : "", sg_buf_cstr(&got), sg_buf_cstr(&want_diags), sg_buf_cstr(&got_diags),
             sg_buf_cstr(&msgs));
  sg_buf_free(&want);
  sg_buf_free(&want_diags);
  sg_buf_free(&got);
  sg_buf_free(&got_diags);
  sg_buf_free(&msgs);
  sg_unit_free(&u);
  sg_diags_free(&d);
  sg_arena_free(&pa);
  free(src);
}

int main(void) { return tu_run_dir("pipeline", SIGMACC_TEST_DIR "/pipeline", check_file, NULL); }
