/* test_corpus.c - the SigmaHQ corpus (../shared/sigmahq, or $SIGMACC_CORPUS):
 * every rule loads; legacy aggregation rules get their own located error;
 * SigmaHQ's own validation passes as in SigmaHQ's CI. Skipped cleanly when the
 * corpus is absent. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "testrun.h"
#include "testutil.h"

static char corpus[1024];
static char tmpdir[256];

static char *check(const char *dirs, int *rc) {
  char cmd[8192];
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

/* The findings of a check's summary ("validator findings: a 1, b 2"): 0 when none. */
static size_t findings(const char *out) {
  const char *p = strstr(out, "validator findings:");
  size_t n = 0;
  for (const char *q = p; q && (q = strchr(q, ' ')) && q[1] != '\n' && q < strchr(p, '\n'); q++)
    if (q[1] >= '0' && q[1] <= '9') n += strtoul(q + 1, NULL, 10);
  return n;
}

/* SigmaHQ's CI runs `sigma check --fail-on-error --fail-on-issues` with its
 * tests/sigma_cli_conf.yml: pySigma's validators and SigmaHQ's, some left out
 * and some rules excused. Here the same set, the per-rule excuses of pySigma's
 * validators left out whole (the ids are SigmaHQ's to keep): no finding over
 * the rules folders. The seven data validators are named by W101 unless
 * $SIGMACC_SIGMAHQ_DATA gives SigmaHQ's data files; $SIGMACC_SIGMAHQ_CONF runs
 * SigmaHQ's own configuration file as well. */
static void test_sigmahq_ci(void **state) {
  (void)state;
  if (!corpus[0]) skip();
  char conf[1100], cmd[4096];
  snprintf(conf, sizeof conf, "%s/sigmahq_ci.yml", tmpdir);
  FILE *f = fopen(conf, "w");
  assert_non_null(f);
  fputs("validators: [all, -tlptag, -tlpv1_tag, -escaped_wildcard, -number_as_string,\n"
        "  -specific_instead_of_generic_logsource, -attacktag, -sigmahq_fieldname_cast,\n"
        "  -sigmahq_filename_prefix, -sigmahq_logsource_unknown, -sigmahq_ofselection_condition,\n"
        "  -sigmahq_sysmon_missing_eventid]\n"
        "exclusions:\n"
        "  b69888d4-380c-45ce-9cf9-d9ce46e67821: sigmahq_invalid_hash_kv\n"
        "  3f3f3506-1895-401b-9cc3-e86b16e630d0: sigmahq_category_windows_provider_name\n"
        "  7dc2dedd-7603-461a-bc13-15803d132355: sigmahq_category_windows_provider_name\n"
        "  0f06a3a5-6a09-413f-8743-e6cf35561297: sigmahq_redundant_field\n"
        "  f7f9ab88-7557-4a69-b30e-0a8f91b3a0e7: sigmahq_redundant_field\n",
        f);
  fclose(f);
  const char *data = getenv("SIGMACC_SIGMAHQ_DATA"), *theirs = getenv("SIGMACC_SIGMAHQ_CONF");
  const char *dirs = "rules rules-emerging-threats rules-threat-hunting rules-compliance rules-placeholder";
  for (int round = 0; round < (theirs ? 2 : 1); round++) {
    snprintf(cmd, sizeof cmd, "--fail-on error --validation-config '%s'%s%s%s %s", round ? theirs : conf,
             data ? " --sigmahq-data '" : "", data ? data : "", data ? "'" : "", dirs);
    int rc;
    char *out = check(cmd, &rc);
    const char *summary = strstr(out, "checked ");
    assert_non_null(summary);
    printf("SigmaHQ's validation (%s, %s): %.*s\n", round ? "their configuration" : "the same set",
           data ? "with their data" : "no data", (int)strcspn(summary, "\n"), summary);
    if (rc || findings(out) || strstr(out, "W100")) fail_msg("%s", out);
    if (!data &&
        !strstr(out, "warning[W101]: sigmahq_category_event_id, sigmahq_category_windows_provider_name, "
                     "sigmahq_invalid_fieldname, sigmahq_redundant_field need SigmaHQ's data"))
      fail_msg("no W101 for the validators without data:\n%s", out);
    free(out);
  }
  /* the set does run: a rule of the corpus given a lowercase title word and a short description */
  snprintf(cmd, sizeof cmd,
           "sed 's/^title: \\(.*\\)/title: \\1 via powershell/; s/^description: .*/description: Too short./' "
           "'%s/rules/windows/process_creation/proc_creation_win_renamed_whoami.yml' > "
           "'%s/proc_creation_win_x_y.yml'"
           " && '%s' check --validation-config '%s' '%s/proc_creation_win_x_y.yml'",
           corpus, tmpdir, SIGMACC_BIN, conf, tmpdir);
  int rc;
  char *out = run(cmd, &rc);
  if (!strstr(out, "W100 sigmahq_title_case]: 'powershell'") ||
      !strstr(out, "W100 sigmahq_description_length]"))
    fail_msg("%s", out);
  free(out);
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sigmacc-corpus-XXXXXX");
  if (!mkdtemp(tmpdir)) return -1;
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

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rules_load_without_error),
      cmocka_unit_test(test_legacy_rules_get_located_errors),
      cmocka_unit_test(test_sigmahq_ci),
  };
  return cmocka_run_group_tests_name("corpus", tests, setup, teardown);
}
