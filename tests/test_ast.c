/* test_ast.c - table-driven front-end tests: each tests/ast/NAME.yml holds a
 * rule and, in comments, the expected dump (`# expect:` block) and the exact
 * expected diagnostics (`# diag: CODE LINE:COL`, none when absent). */
#include "testutil.h"

#include "front.h"

static void check_file(void **state) {
  const char *path = *state;
  size_t len;
  char *src = tu_slurp(path, &len);
  assert_non_null(src);
  SgBuf want = {0}, want_diags = {0}, got_diags = {0};
  tu_expectations(src, &want, &want_diags);
  TUnit t;
  tu_compile(&t, src, len);
  for (size_t i = 0; i < t.d.n; i++)
    sg_buf_catf(&got_diags, "%s %u:%u\n", sg_diag_code_str(t.d.items[i].code), t.d.items[i].loc.line,
                t.d.items[i].loc.col);
  if (strcmp(sg_buf_cstr(&want), t.dump.data) || strcmp(sg_buf_cstr(&want_diags), sg_buf_cstr(&got_diags)))
    fail_msg("%s\n--- expected dump:\n%s--- got:\n%s--- expected diagnostics:\n%s--- got:\n%s%s", path,
             want.data ? want.data : "", t.dump.data, sg_buf_cstr(&want_diags), sg_buf_cstr(&got_diags),
             t.diags.data);
  tu_free(&t);
  sg_buf_free(&want);
  sg_buf_free(&want_diags);
  sg_buf_free(&got_diags);
  free(src);
}

/* Fail each allocation in turn: the front end must report SG_ERR_NOMEM or
 * an error, never crash or leak (the sanitizer build checks the latter). */
static void check_alloc_failures(void **state) {
  const char *path = *state;
  size_t len;
  char *src = tu_slurp(path, &len);
  assert_non_null(src);
  TUnit t;
  tu_compile(&t, src, len);
  size_t total = t.u.arena.allocs;
  tu_free(&t);
  for (size_t k = 1; k <= total; k++) {
    SgUnit u;
    SgDiags d = {0};
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, src, len + 1);
    SgStatus st = sg_compile_source_failing(&u, path, copy, len, &d, k);
    if (u.arena.failed && st == SG_OK) fail_msg("%s: allocation %zu failed but the result is SG_OK", path, k);
    sg_unit_free(&u);
    sg_diags_free(&d);
  }
  free(src);
}

int main(void) { return tu_run_dir("ast", SIGMACC_TEST_DIR "/ast", check_file, check_alloc_failures); }
