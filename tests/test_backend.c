/* test_backend.c - the AQL and SPL backends through the CLI users run.
 *
 * Table-driven: each tests/backend/NAME.yml is a rule whose leading comments say
 *   # args: -t splunk -p sysmon         (convert arguments before the file)
 *   # expect:                           (the exact stdout, each line after "# ";
 *                                        the case's own path written CASE)
 *   # diag: error[E070]                 (each must occur in stderr; then exit 1)
 *   # warn: warning[W071]               (each must occur in stderr; exit 0)
 * A case without diag or warn lines must exit 0 with nothing on stderr.
 *
 * Corpus checks (skipped without ../shared/sigmahq or $SIGMACC_CORPUS): every AQL query of
 * `-p qradar` and every SPL2 query has balanced quotes and parentheses, and at
 * least 99% of the rules convert. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"
#include "testrun.h"

static char *args_of(const char *text) {
  const char *p = strstr(text, "# args: ");
  assert_non_null(p);
  p += 8;
  size_t n = strcspn(p, "\n");
  char *s = malloc(n + 1);
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

/* `s` with every occurrence of the case's path written CASE (the json
 * formats carry the rule's path, which depends on the checkout). */
static char *without_path(char *s, const char *path) {
  SgBuf b = {0};
  size_t n = strlen(path);
  for (const char *p = s, *m; *p; p = m + n) {
    if (!(m = strstr(p, path))) {
      sg_buf_cat(&b, p);
      break;
    }
    sg_buf_catn(&b, p, (size_t)(m - p));
    sg_buf_cat(&b, "CASE");
  }
  free(s);
  return b.data ? b.data : calloc(1, 1);
}

static void backend_case(void **state) {
  const char *path = *state;
  char *text = tu_slurp(path, NULL);
  assert_non_null(text);
  SgBuf want = {0}, diags = {0}, cmd = {0};
  tu_expectations(text, &want, &diags);
  char *args = args_of(text);
  int rc_out, rc_err;
  sg_buf_catf(&cmd, "'%s' convert %s '%s' 2>/dev/null", SIGMACC_BIN, args, path);
  char *out = without_path(run(sg_buf_cstr(&cmd), &rc_out), path);
  cmd.len = 0;
  sg_buf_catf(&cmd, "'%s' convert %s '%s' 2>&1 >/dev/null", SIGMACC_BIN, args, path);
  char *err = run(sg_buf_cstr(&cmd), &rc_err);
  assert_string_equal(out, want.data);
  size_t warns = 0;
  for (const char *w = strstr(text, "\n# warn: "); w; w = strstr(w + 1, "\n# warn: ")) {
    size_t n = strcspn(w + 10, "\n");
    char *line = strndup(w + 10, n);
    if (!strstr(err, line)) fail_msg("stderr lacks \"%s\":\n%s", line, err);
    free(line);
    warns++;
  }
  if (diags.len) {
    for (char *line = diags.data, *nl; *line; line = nl + 1) {
      nl = strchr(line, '\n');
      *nl = '\0';
      if (!strstr(err, line)) fail_msg("stderr lacks \"%s\":\n%s", line, err);
    }
    assert_int_equal(rc_out, 1);
  } else {
    if (!warns) assert_string_equal(err, "");
    assert_int_equal(rc_out, 0);
  }
  free(out);
  free(err);
  free(args);
  free(text);
  sg_buf_free(&want);
  sg_buf_free(&diags);
  sg_buf_free(&cmd);
}

/* Quotes ('' is an escaped quote; "" delimits identifiers) and parentheses
 * outside them balance, in one AQL query line. */
static bool aql_balanced(const char *q) {
  int depth = 0;
  char quote = 0;
  for (const char *p = q; *p; p++) {
    if (quote) {
      if (*p == quote && p[1] == quote)
        p++;
      else if (*p == quote)
        quote = 0;
    } else if (*p == '\'' || *p == '"') {
      quote = *p;
    } else if (*p == '(') {
      depth++;
    } else if (*p == ')' && --depth < 0) {
      return false;
    }
  }
  return !quote && depth == 0;
}

static void test_aql_balance_checker(void **state) {
  (void)state;
  assert_true(aql_balanced("SELECT * FROM events WHERE \"a\" = 'it''s (' AND (x)"));
  assert_false(aql_balanced("WHERE \"a\" = 'unterminated"));
  assert_false(aql_balanced("WHERE (\"a\" = 'x'"));
  assert_false(aql_balanced("WHERE \"a\" = 'x')"));
}

static void test_corpus_aql(void **state) {
  (void)state;
  const char *corpus =
      getenv("SIGMACC_CORPUS") ? getenv("SIGMACC_CORPUS") : SIGMACC_SOURCE_DIR "/../shared/sigmahq";
  SgBuf cmd = {0};
  sg_buf_catf(&cmd, "test -d '%s/rules'", corpus);
  int rc;
  free(run(sg_buf_cstr(&cmd), &rc));
  if (rc != 0) {
    sg_buf_free(&cmd);
    skip();
  }
  cmd.len = 0;
  /* queries on stdout (written once, at the end), located diagnostics on stderr */
  sg_buf_catf(&cmd,
              "cd '%s' && '%s' convert -t aql -p qradar -s rules rules-emerging-threats rules-threat-hunting "
              "rules-compliance rules-placeholder 2>&1",
              corpus, SIGMACC_BIN);
  char *out = run(sg_buf_cstr(&cmd), &rc);
  assert_int_equal(rc, 0);
  size_t queries = 0, failed = 0;
  for (char *line = out, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    if (!strncmp(line, "SELECT ", 7)) {
      if (!aql_balanced(line)) fail_msg("unbalanced AQL query: %s", line);
      queries++;
    } else if (line[0] != ' ' && strstr(line, ": error[")) {
      failed++;
    }
  }
  /* 3,780 rules; at least 99% convert (the rest are located diagnostics) */
  assert_true(queries >= 3700);
  assert_true(failed <= 37);
  free(out);
  sg_buf_free(&cmd);
}

/* SPL2: "strings" and 'fields' with backslash escapes, /regex/ literals
 * (a backslash escapes the next character) and parentheses outside them
 * balance. */
static bool spl2_balanced(const char *q) {
  int depth = 0;
  char quote = 0;
  for (const char *p = q; *p; p++) {
    if (quote) {
      if (*p == '\\' && p[1])
        p++;
      else if (*p == quote)
        quote = 0;
    } else if (*p == '\'' || *p == '"' || *p == '/') {
      quote = *p;
    } else if (*p == '(') {
      depth++;
    } else if (*p == ')' && --depth < 0) {
      return false;
    }
  }
  return !quote && depth == 0;
}

static void test_spl2_balance_checker(void **state) {
  (void)state;
  assert_true(spl2_balanced("FROM main WHERE lower('a\\'b')=\"x)\\\"\" AND match(c, /(\\/)/)"));
  assert_false(spl2_balanced("FROM main WHERE a=\"x\\\""));
  assert_false(spl2_balanced("FROM main WHERE match(a, /x\\/)"));
  assert_false(spl2_balanced("FROM main WHERE (a=1"));
}

/* The whole corpus converts to SPL2: no crash, every query balanced, at
 * least 99% of the rules converted (the rest are located diagnostics). */
static void test_corpus_spl2(void **state) {
  (void)state;
  const char *corpus =
      getenv("SIGMACC_CORPUS") ? getenv("SIGMACC_CORPUS") : SIGMACC_SOURCE_DIR "/../shared/sigmahq";
  SgBuf cmd = {0};
  sg_buf_catf(&cmd, "test -d '%s/rules'", corpus);
  int rc;
  free(run(sg_buf_cstr(&cmd), &rc));
  if (rc != 0) {
    sg_buf_free(&cmd);
    skip();
  }
  cmd.len = 0;
  sg_buf_catf(&cmd,
              "cd '%s' && '%s' convert -t splunk_spl2 -s rules rules-emerging-threats rules-threat-hunting "
              "rules-compliance rules-placeholder 2>&1",
              corpus, SIGMACC_BIN);
  char *out = run(sg_buf_cstr(&cmd), &rc);
  assert_int_equal(rc, 0);
  size_t queries = 0, failed = 0;
  for (char *line = out, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    if (!strncmp(line, "FROM ", 5)) {
      if (!spl2_balanced(line)) fail_msg("unbalanced SPL2 query: %s", line);
      queries++;
    } else if (line[0] != ' ' && strstr(line, ": error[")) {
      failed++;
    }
  }
  assert_true(queries >= 3700);
  assert_true(failed <= 37);
  free(out);
  sg_buf_free(&cmd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aql_balance_checker),
      cmocka_unit_test(test_corpus_aql),
      cmocka_unit_test(test_spl2_balance_checker),
      cmocka_unit_test(test_corpus_spl2),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc | tu_run_dir("backend", SIGMACC_TEST_DIR "/backend", backend_case, NULL);
}
