/* test_ast.c - table-driven front-end tests: each tests/ast/NAME.yml holds a
 * rule and, in comments, the expected dump (`# expect:` block) and the exact
 * expected diagnostics (`# diag: CODE LINE:COL`, none when absent). */
#include <dirent.h>
#include <stdio.h>

#include "testutil.h"

static void check_file(void **state) {
  const char *path = *state;
  size_t len;
  char *src = tu_slurp(path, &len);
  assert_non_null(src);
  SgBuf want = {0}, want_diags = {0}, got_diags = {0};
  bool in_expect = false;
  for (char *line = src; line && *line;) {
    char *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    if (n >= 9 && !strncmp(line, "# expect:", 9)) {
      in_expect = true;
    } else if (in_expect && n >= 2 && !strncmp(line, "# ", 2)) {
      sg_buf_catn(&want, line + 2, n - 2);
      sg_buf_catc(&want, '\n');
    } else {
      in_expect = false;
    }
    if (n >= 8 && !strncmp(line, "# diag: ", 8)) {
      sg_buf_catn(&want_diags, line + 8, n - 8);
      sg_buf_catc(&want_diags, '\n');
    }
    line = nl ? nl + 1 : NULL;
  }
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
    u.arena.fail_after = k;
    SgStatus st = sg_compile_source(&u, path, copy, len, &d);
    if (u.arena.failed && st == SG_OK) fail_msg("%s: allocation %zu failed but the result is SG_OK", path, k);
    sg_unit_free(&u);
    sg_diags_free(&d);
  }
  free(src);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
  const char *dir = SIGMACC_TEST_DIR "/ast";
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "cannot open %s\n", dir);
    return 1;
  }
  char **paths = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 4, ".yml")) continue;
    paths = realloc(paths, (n + 1) * sizeof *paths);
    paths[n] = malloc(strlen(dir) + l + 2);
    sprintf(paths[n++], "%s/%s", dir, e->d_name);
  }
  closedir(d);
  qsort(paths, n, sizeof *paths, cmp);
  struct CMUnitTest *tests = calloc(2 * n, sizeof *tests);
  for (size_t i = 0; i < n; i++) {
    tests[i].name = strrchr(paths[i], '/') + 1;
    tests[i].test_func = check_file;
    tests[i].initial_state = paths[i];
    tests[n + i] = tests[i];
    tests[n + i].test_func = check_alloc_failures;
  }
  int rc = _cmocka_run_group_tests("ast", tests, 2 * n, NULL, NULL);
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
  free(tests);
  return rc;
}
