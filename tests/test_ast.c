/* test_ast.c - table-driven front-end tests: each tests/ast/NAME.yml holds a
 * rule and, in comments, the expected dump (`# expect:` block) and the exact
 * expected diagnostics (`# diag: CODE LINE:COL`, none when absent). */
#include "testutil.h"

#include "failalloc.h"

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

/* The file compiled with allocation k failing (0: none): its dump, and
 * whether the failure was reported (a status, the arena's flag, a lost
 * diagnostic or E090). */
static char *compile_failing(const char *path, const char *src, size_t len, size_t k, bool *reported) {
  char *copy = malloc(len + 1);
  assert_non_null(copy);
  memcpy(copy, src, len + 1);
  SgUnit u;
  SgDiags d = {0};
  fa_start(k);
  SgStatus st = sg_compile_source(&u, path, copy, len, &d);
  SgBuf dump = {0};
  for (size_t i = 0; i < u.nrules; i++)
    sg_dump_rule(&dump, u.rules[i]);
  fa_stop();
  *reported = st == SG_ERR_NOMEM || u.arena.failed || d.oom || dump.oom;
  for (size_t i = 0; i < d.n; i++)
    *reported = *reported || d.items[i].code == SG_D_NOMEM;
  sg_unit_free(&u);
  sg_diags_free(&d);
  return sg_buf_cstr(&dump) ? dump.data : calloc(1, 1);
}

/* Fail each allocation in turn (the allocator is wrapped): the front end
 * must report it, or give the same rules; never crash or leak (the
 * sanitizer build checks the latter). */
static void check_alloc_failures(void **state) {
  const char *path = *state;
  size_t len;
  char *src = tu_slurp(path, &len);
  assert_non_null(src);
  bool reported;
  fa_start(0);
  char *want = compile_failing(path, src, len, 0, &reported);
  size_t total = fa_allocs;
  for (size_t k = 1; k <= total; k++) {
    char *got = compile_failing(path, src, len, k, &reported);
    if (!reported && strcmp(got, want))
      fail_msg("%s: allocation %zu of %zu failed, nothing said it, and the rules differ", path, k, total);
    free(got);
  }
  free(want);
  free(src);
}

int main(void) { return tu_run_dir("ast", SIGMACC_TEST_DIR "/ast", check_file, check_alloc_failures); }
