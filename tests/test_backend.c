/* test_backend.c - the targets through sg_convert_run, in process: the
 * same stdout, stderr and exit status as `sigmacc convert` (test_api proves
 * the two equal), without spawning the binary for every case.
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

#include <unistd.h>

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

/* The case's `# args:` as a convert job: -t, -p, -f, -O key=value,
 * --filter, --without-pipeline; words split at spaces, '...' quoting one.
 * The strings live in `words` (edited in place). */
static void job_of(char *words, SgConvertJob *job, const char **pipes, const char **filters, SgOption *opts) {
  char *argv[64];
  int argc = 0;
  for (char *p = words; *p && argc < 64;) {
    while (*p == ' ')
      p++;
    if (!*p) break;
    char *w = p, *o = p;
    bool q = false;
    for (; *p && (q || *p != ' '); p++)
      if (*p == '\'')
        q = !q;
      else
        *o++ = *p;
    if (*p) p++;
    *o = '\0';
    argv[argc++] = w;
  }
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--without-pipeline")) {
      job->without_pipeline = true;
      continue;
    }
    assert_non_null(v);
    i++;
    if (!strcmp(a, "-t"))
      job->target = v;
    else if (!strcmp(a, "-f"))
      job->format = v;
    else if (!strcmp(a, "-p"))
      pipes[job->npipelines++] = v;
    else if (!strcmp(a, "--filter"))
      filters[job->nfilters++] = v;
    else if (!strcmp(a, "-O")) {
      char *eq = strchr(argv[i], '=');
      assert_non_null(eq);
      *eq = '\0';
      opts[job->nopts++] = (SgOption){argv[i], eq + 1};
    } else
      fail_msg("a test case's args: '%s' is not handled", a);
  }
  job->pipelines = pipes;
  job->filters = filters;
  job->opts = opts;
}

static void backend_case(void **state) {
  const char *path = *state;
  char *text = tu_slurp(path, NULL);
  assert_non_null(text);
  SgBuf want = {0}, diags = {0};
  tu_expectations(text, &want, &diags);
  char *args = args_of(text);
  const char *pipes[32], *filters[8];
  SgOption opts[32];
  SgConvertJob job = {0};
  job_of(args, &job, pipes, filters, opts);
  SgConvertResult res;
  char *paths[] = {(char *)path};
  sg_convert_run(&job, paths, 1, &res);
  int rc_out = res.exit_code;
  char *out = without_path(strdup(sg_buf_cstr(&res.out)), path);
  char *err = strdup(sg_buf_cstr(&res.diags));
  sg_convert_result_free(&res);
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
    const char *exit = strstr(text, "\n# exit: "); /* a usage error: 2 */
    assert_int_equal(rc_out, exit ? atoi(exit + 9) : 1);
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
}

/* Literals close and parentheses outside them balance, in one query line.
 * AQL: '...' and "..." with the quote doubled; SPL2: "..." and '...' with
 * backslash escapes, and /regex/ literals. */
static bool balanced(const char *q, bool aql) {
  int depth = 0;
  char quote = 0;
  for (const char *p = q; *p; p++) {
    if (quote) {
      if (aql && *p == quote && p[1] == quote)
        p++;
      else if (!aql && *p == '\\' && p[1])
        p++;
      else if (*p == quote)
        quote = 0;
    } else if (*p == '\'' || *p == '"' || (!aql && *p == '/')) {
      quote = *p;
    } else if (*p == '(') {
      depth++;
    } else if (*p == ')' && --depth < 0) {
      return false;
    }
  }
  return !quote && depth == 0;
}

static void test_balance_checker_aql(void **state) {
  (void)state;
  assert_true(balanced("SELECT * FROM events WHERE \"a\" = 'it''s (' AND (x)", true));
  assert_false(balanced("WHERE \"a\" = 'unterminated", true));
  assert_false(balanced("WHERE (\"a\" = 'x'", true));
  assert_false(balanced("WHERE \"a\" = 'x')", true));
}

static void test_balance_checker_spl2(void **state) {
  (void)state;
  assert_true(balanced("FROM main WHERE lower('a\\'b')=\"x)\\\"\" AND match(c, /(\\/)/)", false));
  assert_false(balanced("FROM main WHERE a=\"x\\\"", false));
  assert_false(balanced("FROM main WHERE match(a, /x\\/)", false));
  assert_false(balanced("FROM main WHERE (a=1", false));
}

/* The whole corpus converts with `args`: no crash, every query (a line
 * starting with `prefix`) balanced, at least 99% of the 3,780 rules converted
 * (the rest are located diagnostics). Skipped without the corpus. */
static void corpus_converts(const char *args, const char *prefix, bool aql) {
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
  sg_buf_catf(
      &cmd,
      "cd '%s' && '%s' convert %s -s rules rules-emerging-threats rules-threat-hunting rules-compliance "
      "rules-placeholder 2>&1",
      corpus, SIGMACC_BIN, args);
  char *out = run(sg_buf_cstr(&cmd), &rc);
  assert_int_equal(rc, 0);
  size_t queries = 0, failed = 0;
  for (char *line = out, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    if (!strncmp(line, prefix, strlen(prefix))) {
      if (!balanced(line, aql)) fail_msg("unbalanced query (convert %s): %s", args, line);
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

static void test_corpus_aql(void **state) {
  (void)state;
  corpus_converts("-t aql -p qradar", "SELECT ", true);
}

static void test_corpus_spl2(void **state) {
  (void)state;
  corpus_converts("-t splunk_spl2", "FROM ", false);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_balance_checker_aql),
      cmocka_unit_test(test_corpus_aql),
      cmocka_unit_test(test_balance_checker_spl2),
      cmocka_unit_test(test_corpus_spl2),
  };
  if (chdir(SIGMACC_SOURCE_DIR)) return 1; /* the cases name pipelines from the source tree */
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc | tu_run_dir("backend", SIGMACC_TEST_DIR "/backend", backend_case, NULL);
}
