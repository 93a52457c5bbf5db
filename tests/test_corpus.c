/* test_corpus.c - the SigmaHQ corpus (../shared/sigmahq, or $SIGMACC_CORPUS):
 * every rule loads; legacy aggregation rules get their own located error.
 * Skipped cleanly when the corpus is absent. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <sys/stat.h>

#include "testrun.h"
#include "testutil.h"

static char corpus[1024];

static char *check(const char *dirs, int *rc) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' check %s", corpus, SIGMACC_BIN, dirs);
  return run(cmd, rc);
}

static void test_rules_load_without_error(void **state) {
  (void)state;
  if (!corpus[0]) skip();
  int rc;
  char *out =
      check("rules rules-emerging-threats rules-threat-hunting rules-compliance rules-placeholder", &rc);
  const char *summary = strstr(out, "checked ");
  assert_non_null(summary);
  unsigned files = 0, rules = 0, errors = 1;
  assert_int_equal(sscanf(summary, "checked %u files, %u rules: %u error", &files, &rules, &errors), 3);
  if (errors || rc) fail_msg("%s", out);
  assert_true(files >= 3780);
  free(out);
}

static void test_legacy_rules_get_located_errors(void **state) {
  (void)state;
  if (!corpus[0]) skip();
  int rc;
  char *out = check("deprecated unsupported", &rc);
  assert_int_equal(rc, 1);
  /* every legacy error is located (path:line:col) and names correlations */
  size_t legacy = 0, other = 0;
  for (const char *p = out; (p = strstr(p, ": error[")); p++) {
    if (!strncmp(p, ": error[E043]", 13)) {
      legacy++;
      const char *eol = strchr(p, '\n');
      const char *corr = strstr(p, "correlation rule");
      assert_true(corr && corr < eol);
    } else {
      other++;
    }
  }
  if (legacy < 55 || other > 4) fail_msg("legacy=%zu other=%zu\n%s", legacy, other, out);
  free(out);
}

static int setup(void **state) {
  (void)state;
  const char *env = getenv("SIGMACC_CORPUS");
  snprintf(corpus, sizeof corpus, "%s", env ? env : SIGMACC_SOURCE_DIR "/../shared/sigmahq");
  struct stat st;
  char probe[1100];
  snprintf(probe, sizeof probe, "%s/rules", corpus);
  if (stat(probe, &st) != 0) {
    printf("corpus not found at %s: skipping\n", corpus);
    corpus[0] = '\0';
  }
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rules_load_without_error),
      cmocka_unit_test(test_legacy_rules_get_located_errors),
  };
  return cmocka_run_group_tests_name("corpus", tests, setup, NULL);
}
