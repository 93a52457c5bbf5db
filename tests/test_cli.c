/* test_cli.c - the sigmacc executable end to end: the catalogue of bad rules
 * in golden/errors/ (exact output and exit code of `sigmacc check`), inputs
 * generated here (huge, deep, binary, empty, unreadable), and exit codes. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outcheck.h"
#include "testrun.h"
#include "testutil.h"

static char tmpdir[256];

/* A command-line case: its arguments, exit code, a substring the output must
 * hold and one it must not (or NULL). */
typedef struct CliCase {
  const char *args;
  int rc;
  const char *want, *not ;
} CliCase;

/* Run cmd (stdout and stderr) and hold it to case c. */
static void run_case(const char *cmd, const CliCase *c) {
  int rc;
  char *out = run(cmd, &rc);
  if (rc != c->rc || !strstr(out, c->want) || (c->not &&strstr(out, c->not )))
    fail_msg("%s: exit %d (want %d):\n%s\n(want \"%s\"%s%s)", cmd, rc, c->rc, out, c->want,
             c->not ? ", not " : "", c->not ? c->not : "");
  free(out);
}

static void test_error_catalogue(void **state) {
  (void)state;
  const char *dir = SIGMACC_SOURCE_DIR "/golden/errors";
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  int count = 0;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 4, ".yml")) continue;
    char cmd[1024], want_path[1024];
    snprintf(cmd, sizeof cmd, "'%s' check golden/errors/%s; echo \"exit $?\"", SIGMACC_BIN, e->d_name);
    snprintf(want_path, sizeof want_path, "%s/%.*s.out", dir, (int)(l - 4), e->d_name);
    int rc;
    char *got = run(cmd, &rc);
    char *want = tu_slurp(want_path, NULL);
    if (!want) fail_msg("missing %s", want_path);
    if (strcmp(got, want)) fail_msg("%s\n--- expected:\n%s--- got:\n%s", e->d_name, want, got);
    if (!strstr(want, "error[")) fail_msg("%s: the expected output has no error", e->d_name);
    free(got);
    free(want);
    count++;
  }
  closedir(d);
  assert_true(count >= 40);
}

/* One case per validator in golden/validators/ (a rule file, or a folder for
 * the checks across files; NAME.args adds options): the exact output and exit
 * code of `sigmacc check`, which must name the validator. */
static void test_validator_catalogue(void **state) {
  (void)state;
  const char *dir = SIGMACC_SOURCE_DIR "/golden/validators";
  setenv("SOURCE_DATE_EPOCH", "1796601600", 1); /* 2026-12-07: sigmahq_status_to_high counts from it */
  int count = 0;
  for (int v = 0; v <= SG_V__COUNT; v++) {
    const char *name = v < SG_V__COUNT ? sg_validator_info[v].id : "config_applied";
    char path[1024], want_path[1024], args_path[1024], cmd[4096];
    snprintf(path, sizeof path, "%s/%s.yml", dir, name);
    FILE *f = fopen(path, "r");
    if (f)
      fclose(f);
    else
      snprintf(path, sizeof path, "%s/%s", dir, name); /* a folder */
    snprintf(want_path, sizeof want_path, "%s/%s.out", dir, name);
    snprintf(args_path, sizeof args_path, "%s/%s.args", dir, name);
    char *args = tu_slurp(args_path, NULL);
    if (args && strchr(args, '\n')) *strchr(args, '\n') = '\0';
    snprintf(cmd, sizeof cmd, "'%s' check %s golden/validators/%s%s; echo \"exit $?\"", SIGMACC_BIN,
             args ? args : "", name, f ? ".yml" : "");
    int rc;
    char *got = run(cmd, &rc);
    char *want = tu_slurp(want_path, NULL);
    if (!want) fail_msg("no catalogue case for validator %s (%s)", name, want_path);
    if (strcmp(got, want)) fail_msg("%s\n--- expected:\n%s--- got:\n%s", name, want, got);
    char tag[128];
    snprintf(tag, sizeof tag, " %s]: ", name);
    if (v < SG_V__COUNT && !strstr(want, tag)) fail_msg("%s: the expected output has no finding of it", name);
    free(got);
    free(want);
    free(args);
    count++;
  }
  unsetenv("SOURCE_DATE_EPOCH");
  assert_int_equal(count, SG_V__COUNT + 1);
}

/* The id of golden/validators/sigmahq_modified_without_date.yml */
#define HQ_ID "10000000-0000-4000-8000-000000000107"

/* -x, --fail-on, a bad configuration, --attack-data, SigmaHQ's set and data. */
static void test_validation_options(void **state) {
  (void)state;
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && rm -rf vo && mkdir vo && cd vo && printf 'id\\tname\\ttactics\\tstatus\\n"
           "T9999\\tNew\\texecution\\tactive\\n' > techniques.tsv && "
           "printf 'validators: [all, -attacktga]\\n' > typo.yml && "
           "printf 'validators: [-cartag]\\nexclusions: {x: [nothere]}\\nconfig: {cartag: {a: 1}}\\n' > "
           "bad.yml && "
           "printf 'config: [filename_length]\\n' > list.yml && "
           "printf 'validators: [all]\\n' > all.yml && "
           "printf 'validators: [all]\\nexclusions:\\n  %s: sigmahq_date_existence\\n"
           "  %s: [sigmahq_modified_without_date]\\n' > dup.yml && "
           "mkdir hq && printf '{\"taxonomy\": []}' > hq/sigmahq_taxonomy.json && "
           "printf '{\"pattern\": {}}' > hq/sigmahq_filename.json && "
           "printf '{\"category_no_eventid\": [], \"category_provider_name\": {\"x\": 3}}' > "
           "hq/sigmahq_windows_validator.json",
           tmpdir, HQ_ID, HQ_ID);
  int rc;
  free(run(cmd, &rc));
  assert_int_equal(rc, 0);
  static const CliCase cases[] = {
      {"golden/validators/attacktag.yml", 0, "warning[W100 attacktag]", NULL},
      {"--fail-on warning golden/validators/attacktag.yml", 1, "warning[W100 attacktag]", NULL},
      {"--fail-on error golden/validators/attacktag.yml", 0, "2 warnings", NULL},
      {"--fail-on warnings golden/validators/attacktag.yml", 2,
       "--fail-on is error or warning, not 'warnings'", NULL},
      {"-x attacktag golden/validators/attacktag.yml", 0, "0 errors, 0 warnings", "attacktag"},
      {"--exclude=tag_format -x attacktag golden/validators/tag_format.yml", 0, "0 errors, 0 warnings",
       "W015"},
      {"-x attacktga golden/validators/attacktag.yml", 2,
       "'attacktga' is no validator (did you mean 'attacktag'?)", NULL},
      {"--validation-config TMP/typo.yml golden/validators/attacktag.yml", 2,
       "unknown validator 'attacktga' (did you mean 'attacktag'?)", NULL},
      {"--validation-config TMP/bad.yml golden/validators/attacktag.yml", 2,
       "'cartag' is not in the set to leave it out", NULL},
      {"--validation-config TMP/bad.yml golden/validators/attacktag.yml", 2, "unknown validator 'nothere'",
       NULL},
      {"--validation-config TMP/bad.yml golden/validators/attacktag.yml", 2,
       "sigmacc's 'cartag' has no settings", NULL},
      {"--validation-config TMP/none.yml golden/validators/attacktag.yml", 2, "none.yml: error[E001]", NULL},
      {"--validation-config TMP/list.yml golden/validators/attacktag.yml", 2,
       "list.yml:1:9: error[E010]: 'config' maps validator names to their settings, not a list", NULL},
      {"--attack-data TMP/techniques.tsv golden/validators/attacktag.yml", 0,
       "'attack.t1059.001' is no ATT&CK", "'attack.t9999'"},
      {"--attack-data TMP/typo.yml golden/validators/attacktag.yml", 2,
       "an ATT&CK technique line is id, name", NULL},
      /* SigmaHQ's set: off by default, on with --sigmahq (W101 names the validators that lack their data)
         or with `all`, which leaves sigmacc's own out; a repeated id in exclusions adds to it */
      {"golden/validators/sigmahq_author_existence.yml", 0, "0 errors, 0 warnings", "sigmahq_"},
      {"--sigmahq golden/validators/sigmahq_author_existence.yml", 0,
       "warning[W101]: sigmahq_category_event_id, sigmahq_category_windows_provider_name, "
       "sigmahq_fieldname_cast, "
       "sigmahq_invalid_fieldname, sigmahq_redundant_field, sigmahq_filename_prefix, "
       "sigmahq_logsource_unknown "
       "need SigmaHQ's data",
       NULL},
      {"--sigmahq golden/validators/sigmahq_author_existence.yml", 0,
       "W100 sigmahq_author_existence]: the rule has no author", NULL},
      {"--validation-config TMP/all.yml golden/validators/attack_deprecated.yml", 0,
       "W100 sigmahq_author_existence]", "attack_deprecated]"},
      {"--validation-config TMP/dup.yml golden/validators/sigmahq_modified_without_date.yml", 0,
       "dup.yml:4:3: warning[W017]: duplicate key '" HQ_ID "': both entries apply", "W100"},
      {"--sigmahq --sigmahq-data TMP/hq golden/validators/cartag.yml", 2,
       "sigmahq_taxonomy.json:1:14: error[E010]: SigmaHQ data: the file has no 'taxonomy' mapping", NULL},
      {"--sigmahq --sigmahq-data TMP/hq golden/validators/cartag.yml", 2,
       "sigmahq_windows_validator.json:1:61: error[E010]: SigmaHQ data: expected a list of names", NULL},
      {"--sigmahq --sigmahq-data TMP/nothere golden/validators/cartag.yml", 2,
       "nothere/sigmahq_taxonomy.json: error[E001]", NULL},
      {"--json golden/validators/cartag.yml 2>/dev/null", 0,
       "\"severity\":\"warning\",\"code\":\"W100\",\"validator\":\"cartag\",\"message\":", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char args[1024];
    const char *tmp = strstr(cases[i].args, "TMP/");
    if (tmp)
      snprintf(args, sizeof args, "%.*s%s/vo/%s", (int)(tmp - cases[i].args), cases[i].args, tmpdir, tmp + 4);
    else
      snprintf(args, sizeof args, "%s", cases[i].args);
    snprintf(cmd, sizeof cmd, "'%s' check %s 2>&1", SIGMACC_BIN, args);
    run_case(cmd, &cases[i]);
  }
}

/* The fields of an ATT&CK Navigator layer (format 4.5) that the Navigator's
 * schema requires or types; returns the score of technique `tech` (-1 when
 * the layer does not list it). */
static long check_layer(const char *json, const char *tech) {
  SgJDoc d = {0};
  size_t off;
  const char *err;
  if (!sg_json_parse(&d, json, strlen(json), &off, &err))
    fail_msg("the layer is not JSON: %s at %zu", err, off);
  const struct {
    const char *path;
    SgJType type;
    const char *value;
  } want[] = {{"name", SG_J_STR, NULL},
              {"domain", SG_J_STR, "enterprise-attack"},
              {"versions.layer", SG_J_STR, "4.5"},
              {"versions.attack", SG_J_STR, NULL},
              {"versions.navigator", SG_J_STR, NULL},
              {"gradient.minValue", SG_J_NUM, NULL},
              {"gradient.maxValue", SG_J_NUM, NULL},
              {"sorting", SG_J_NUM, NULL},
              {"description", SG_J_STR, NULL}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    const SgJLeaf *l = sg_jdoc_find(&d, want[i].path, strlen(want[i].path));
    if (!l || l->type != want[i].type) fail_msg("layer field %s missing or of the wrong type", want[i].path);
    if (want[i].value && strcmp(d.text + l->val, want[i].value))
      fail_msg("layer %s is %s", want[i].path, d.text + l->val);
  }
  long score = -1;
  const char *id = NULL;
  size_t ids = 0, scores = 0;
  for (size_t i = 0; i < d.n; i++) { /* techniques: techniqueID then score, in order */
    const SgJLeaf *l = &d.leaves[i];
    const char *path = d.text + l->path, *v = d.text + l->val;
    if (!strcmp(path, "techniques.techniqueID")) {
      size_t n = strlen(v);
      bool ok = l->type == SG_J_STR && (n == 5 || n == 9) && v[0] == 'T' && (n == 5 || v[5] == '.');
      for (size_t k = 1; ok && k < n; k++)
        ok = k == 5 || (v[k] >= '0' && v[k] <= '9');
      if (!ok) fail_msg("techniqueID '%s' is not T0000 or T0000.000", v);
      id = v;
      ids++;
    } else if (!strcmp(path, "techniques.score")) {
      if (l->type != SG_J_NUM || !id) fail_msg("a technique's score is not a number after its id");
      if (!strcmp(id, tech)) score = atol(v);
      scores++;
    } else if (!strcmp(path, "gradient.colors") && (l->type != SG_J_STR || v[0] != '#')) {
      fail_msg("gradient color '%s'", v);
    }
  }
  if (ids != scores) fail_msg("%zu techniques, %zu scores", ids, scores);
  sg_jdoc_free(&d);
  return score;
}

/* analyze attack: a valid layer, each technique scored by the rules tagged
 * with it (counted here with grep), over the project's rules and the corpus. */
static void test_analyze_attack(void **state) {
  (void)state;
  static const struct {
    const char *dir, *tech, *tag;
  } cases[] = {{"sigma-rules", "T1036.001", "attack.t1036.001"},
               {"sigma-rules", "T1059.001", "attack.t1059.001"},
               {"../shared/sigmahq/rules", "T1036.001", "attack.t1036.001"},
               {"../shared/sigmahq/rules", "T1036.003", "attack.t1036.003"},
               {"../shared/sigmahq/rules", "T1059.001", "attack.t1059.001"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "test -d '%s/%s'", SIGMACC_SOURCE_DIR, cases[i].dir);
    int rc;
    free(run(cmd, &rc));
    if (rc) continue; /* the corpus is not here */
    snprintf(cmd, sizeof cmd, "'%s' analyze attack %s 2>/dev/null", SIGMACC_BIN, cases[i].dir);
    char *layer = run(cmd, &rc);
    snprintf(cmd, sizeof cmd, "grep -rlE --include='*.yml' '^ *- %s *$' %s | wc -l", cases[i].tag,
             cases[i].dir);
    char *count = run(cmd, &rc);
    long want = atol(count), got = check_layer(layer, cases[i].tech);
    printf("analyze attack %s: %s scored %ld, %ld rules tagged\n", cases[i].dir, cases[i].tech, got, want);
    if (got != (want ? want : -1))
      fail_msg("%s: %s scored %ld, but %ld rules tag it", cases[i].dir, cases[i].tech, got, want);
    free(layer);
    free(count);
  }
}

static void write_file(const char *name, const char *head, size_t headlen, char fill, size_t nfill,
                       const char *tail) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fwrite(head, 1, headlen, f);
  for (size_t i = 0; i < nfill; i++)
    fputc(fill, f);
  fputs(tail, f);
  fclose(f);
}

/* `sigmacc check FILE` must print `want` (a substring) and exit with `rc`. */
static void check_outputs(const char *file, const char *want, int want_rc) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' check %s 2>&1", SIGMACC_BIN, file);
  int rc;
  char *out = run(cmd, &rc);
  if (!strstr(out, want) || rc != want_rc)
    fail_msg("check %s: want '%s' and exit %d, got exit %d:\n%s", file, want, want_rc, rc, out);
  free(out);
}

static void test_generated_inputs(void **state) {
  (void)state;
  char p[512];
  write_file("huge_scalar.yml", "title: ", 7, 'a', 10u << 20, "\n");
  snprintf(p, sizeof p, "%s/huge_scalar.yml", tmpdir);
  check_outputs(p, "huge_scalar.yml:1:8: error[E006]: scalar of 10485760 bytes exceeds the limit", 1);

  write_file("huge_file.yml", "# ", 2, 'x', (size_t)SG_MAX_FILE_BYTES + 1, "\n");
  snprintf(p, sizeof p, "%s/huge_file.yml", tmpdir);
  check_outputs(p, "huge_file.yml: error[E006]: file is larger than", 2);

  write_file("deep.yml", "a: ", 3, '[', 10000, "\n");
  snprintf(p, sizeof p, "%s/deep.yml", tmpdir);
  check_outputs(p, "deep.yml:1:67: error[E005]: YAML nesting deeper than 64 levels", 1);

  write_file("nul.yml", "title: a\0b\n", 11, ' ', 0, "");
  snprintf(p, sizeof p, "%s/nul.yml", tmpdir);
  check_outputs(p, "nul.yml:1:9: error[E002]: control characters are not allowed", 1);

  write_file("utf8.yml", "title: \xff\xfe\n", 10, ' ', 0, "");
  snprintf(p, sizeof p, "%s/utf8.yml", tmpdir);
  check_outputs(p, "utf8.yml:1:8: error[E002]: invalid leading UTF-8 octet", 1);

  write_file("empty.yml", "", 0, ' ', 0, "");
  snprintf(p, sizeof p, "%s/empty.yml", tmpdir);
  check_outputs(p, "empty.yml:1:1: error[E007]: file contains no Sigma rule", 1);

  snprintf(p, sizeof p, "%s/emptydir", tmpdir);
  mkdir(p, 0700);
  check_outputs(p, "emptydir: error[E001]: is a directory with no .yml or .yaml files", 2);

  check_outputs("/proc/self/mem", "/proc/self/mem: error[E001]: cannot read: Input/output error", 2);
  check_outputs("/nonexistent/rule.yml", "/nonexistent/rule.yml: error[E001]: cannot open: No such file", 2);
}

static void test_batch_keeps_going(void **state) {
  (void)state;
  /* a good rule after bad ones is still checked; the summary counts them all */
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "'%s' check golden/errors/bad_uuid.yml golden/errors/several_errors.yml tests/ast/01_map_and.yml",
           SIGMACC_BIN);
  int rc;
  char *out = run(cmd, &rc);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "checked 3 files, 3 rules: 6 errors, 3 warnings")); /* no id, a title twice */
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' check --json golden/errors/bad_uuid.yml 2>/dev/null", SIGMACC_BIN);
  out = run(cmd, &rc);
  assert_string_equal(out,
                      "{\"path\":\"golden/errors/bad_uuid.yml\",\"line\":2,\"col\":5,\"severity\":\"error\","
                      "\"code\":\"E013\",\"message\":\"id '1234-not-a-uuid' is not a UUID\"}\n");
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' check tests/ast", SIGMACC_BIN);
  out = run(cmd, &rc);
  assert_int_equal(rc, 0);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' frobnicate 2>&1", SIGMACC_BIN);
  out = run(cmd, &rc);
  assert_int_equal(rc, 2);
  assert_non_null(strstr(out, "unknown command 'frobnicate'"));
  free(out);
}

/* Golden check: a one-character change in any rule fails it with a diff that
 * names the file; the report is byte-identical run to run and across
 * working directories. */
static void test_golden_mutations(void **state) {
  (void)state;
  char cmd[8192];
  snprintf(
      cmd, sizeof cmd,
      "set -e; for d in a b; do mkdir -p '%s'/$d/tests; cp -r sigma-rules golden docs '%s'/$d/; "
      "cp tests/golden.sh '%s'/$d/tests/; done; "
      "bash '%s'/a/tests/golden.sh '%s' --check '%s'/a >/dev/null 2>&1 || { echo CLEAN-FAILED; exit 0; }; "
      "n=0; bad=0; for f in $(cd '%s'/a && find sigma-rules -name '*.yml' ! -path '*/pipelines/*' | sort); "
      "do "
      "n=$((n+1)); for d in a b; do sed -i '0,/^title: /s//title: X/' '%s'/$d/$f; done; "
      "( cd '%s'/a && bash tests/golden.sh '%s' --check . ) > '%s'/out.a 2>/dev/null && bad=$((bad+1)); "
      "( cd '%s'/b && bash tests/golden.sh '%s' --check . ) > '%s'/out.b 2>/dev/null || true; "
      "cmp -s '%s'/out.a '%s'/out.b || { echo NONDETERMINISTIC $f; bad=$((bad+1)); }; "
      "base=$(basename $f .yml); grep -q \"^--- golden/.*$base\" '%s'/out.a || { echo NODIFF $f; "
      "bad=$((bad+1)); }; "
      "for d in a b; do sed -i '0,/^title: X/s//title: /' '%s'/$d/$f; done; done; echo \"rules $n bad $bad\"",
      tmpdir, tmpdir, tmpdir, tmpdir, SIGMACC_BIN, tmpdir, tmpdir, tmpdir, tmpdir, SIGMACC_BIN, tmpdir,
      tmpdir, SIGMACC_BIN, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
  int rc;
  char *out = run(cmd, &rc);
  unsigned n = 0, bad = 1;
  const char *line = strstr(out, "rules ");
  if (!line || sscanf(line, "rules %u bad %u", &n, &bad) != 2 || bad || n < 30) fail_msg("%s", out);
  free(out);
}

/* `cd tmpdir; sigmacc ARGS 2>&1` exits want_rc and prints want (a substring). */
static char *expect_cli(const char *args, int want_rc, const char *want) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", tmpdir, SIGMACC_BIN, args);
  int rc;
  char *out = run(cmd, &rc);
  if (rc != want_rc || (want && !strstr(out, want)))
    fail_msg("sigmacc %s: exit %d (want %d), output:\n%s\n(want \"%s\")", args, rc, want_rc, out,
             want ? want : "");
  return out;
}

#define RULE                                                                                                 \
  SIGMACC_SOURCE_DIR "/sigma-rules/windows/process_creation/proc_creation_win_encoded_powershell.yml"
#define CORR SIGMACC_SOURCE_DIR "/sigma-rules/windows/builtin/security/win_security_failed_logon_burst.yml"

/* getopt_long conventions, '-' for stdout and stdin, usage errors exit 2
 * with what is missing, and every command's --help. */
static void test_option_forms(void **state) {
  (void)state;
  char *ref = expect_cli("convert -t splunk " RULE, 0, "powershell");
  static const char *const same[] = {
      "convert --target=splunk " RULE, "convert -tsplunk " RULE,
      "convert " RULE " -t splunk",    "convert -t splunk -- " RULE,
      "convert -t splunk -o - " RULE,  "convert --target splunk --output=- " RULE};
  for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
    char *out = expect_cli(same[i], 0, NULL);
    if (strcmp(out, ref)) fail_msg("sigmacc %s differs from -t splunk:\n%s", same[i], out);
    free(out);
  }
  free(ref);
  char dash[600];
  snprintf(dash, sizeof dash, "%s/-", tmpdir);
  assert_int_equal(access(dash, F_OK), -1); /* -o - wrote no file named '-' */
  static const struct {
    const char *args;
    int rc;
    const char *want;
  } cases[] = {
      {"convert " RULE, 2, "sigmacc convert: missing -t TARGET"},
      {"convert -t splunk", 2, "missing PATH"},
      {"convert -t splunk --bogus " RULE, 2, "unknown option '--bogus'"},
      {"convert -t splunk -x " RULE, 2, "unknown option '-x'"},
      {"convert -t splunk " RULE " -p", 2, "option '-p' needs a value"},
      {"convert -t splunk --check golden -o out.txt " RULE, 2, "-o does not apply"},
      {"convert -t splunk -O nokey " RULE, 2, "not key=value"},
      {"convert -t bogus " RULE, 2, "unknown target 'bogus'"},
      {"convert -t splunk -p nosuch " RULE, 2, "nosuch: error[E080]: no built-in pipeline"},
      {"eval -r " RULE " -p nosuch - < /dev/null", 2, "nosuch: error[E080]: no built-in pipeline"},
      {"convert --help", 0, "Exit status: 0 success"},
      {"check --help", 0, "--json"},
      {"check", 2, "sigmacc check: missing PATH"},
      {"check --bogus " RULE, 2, "unknown option '--bogus'"},
      {"check - < " RULE, 0, "checked 1 file, 1 rule: 0 errors"},
      {"check --json=x " RULE, 2, "option '--json' takes no value"},
      {"eval --help", 0, "Exit status: 0 success"},
      {"eval events.jsonl", 2, "missing -r RULES"},
      {"eval --rules=" RULE " --stats - < /dev/null", 3, "no event"},
      {"list --help", 0, "modifiers"},
      {"list", 2, "what to list?"},
      {"list bogus", 2, "unknown list 'bogus'"},
      {"--help", 0, "Exit status"},
      /* warning control: switched off (and counted), made errors, unknown codes */
      {"convert -t splunk " CORR, 0, "warning[W071]"},
      {"convert -t splunk -W no-W071 " CORR, 0, "sigmacc convert: 1 warning switched off by -W"},
      {"convert -t splunk --warn=error " CORR, 1, "error[W071]"},
      {"convert -t splunk -W error -W no-error " CORR, 0, "warning[W071]"},
      {"convert -t splunk -W W0711 " CORR, 2, "-W 'W0711' names no warning (did you mean 'W071'?)"},
      {"convert -t splunk -W no-E012 " CORR, 2, "names no warning"},
      {"check t.yml; printf 'title: t\\ntags: [Attack.X]\\nlogsource: {product: w}\\ndetection:\\n  s: {A: "
       "1}\\n"
       "  condition: s\\n' > t.yml; '" SIGMACC_BIN "' check -W no-W015 t.yml",
       0, "0 errors, 3 warnings (1 switched off by -W)"}, /* no id, file name length, namespace */
      {"check -W error t.yml", 1, "t.yml:2:8: error[W015 tag_format]"},
      {"eval -r t.yml -W no-W015 - < /dev/null", 3, "sigmacc eval: 1 warning switched off by -W"},
      {"list warnings", 0, "W071  target cannot express the rule exactly"},
      {"list diagnostics", 0, "E030  unknown modifier"},
      /* --header: one line naming the rule before its queries, never two lines */
      {"convert -t splunk --header " RULE, 0,
       "# " RULE ":1 24057c0a-4578-571b-92a6-96c281e26977 Encoded PowerShell Command Line\nImage IN"},
      {"convert -t splunk --header h.yml; printf 'title: \"a\\\\nb\"\\nlogsource: {product: "
       "w}\\ndetection:\\n  s: {A: 1}\\n"
       "  condition: s\\n' > h.yml; '" SIGMACC_BIN "' convert -t splunk --header h.yml",
       0, "# h.yml:1 - a b\nA=1\n"},
      /* analyze logsources: counts per log source, most used first, then by name */
      {"--version; rm -rf ana && mkdir ana && for x in 1 2 3; do printf 'title: t\\nlogsource: {product: "
       "windows, "
       "category: process_creation}\\ndetection:\\n  s: {A: 1}\\n  condition: s\\n' > ana/p$x.yml; done && "
       "printf 'title: t\\nlogsource: {product: linux, service: auditd}\\ndetection:\\n  s: {A: 1}\\n  "
       "condition: "
       "s\\n' > ana/l.yml && '" SIGMACC_BIN "' analyze logsources ana",
       0,
       " rules  product          category                     service\n"
       "     3  windows          process_creation             -\n"
       "     1  linux            -                            auditd\n"},
      {"analyze logsources ana", 0, "analyzed 4 files, 4 rules, 2 log sources; 0 rules not loaded\n"},
      {"analyze logsources --json ana", 0,
       "[{\"product\":\"windows\",\"category\":\"process_creation\",\"service\":null,\"rules\":3},\n"
       " {\"product\":\"linux\",\"category\":null,\"service\":\"auditd\",\"rules\":1}]\n"},
      {"analyze", 2, "what to analyze? (logsources, attack, fields)"},
      {"analyze mitre ana", 2, "unknown analysis 'mitre'"},
      {"analyze fields -t splunk -p sysmon -p splunk_windows " SIGMACC_SOURCE_DIR
       "/sigma-rules/windows/process_creation/proc_creation_win_all_modifier.yml",
       0,
       "proc_creation_win_all_modifier.yml:1: Net User Add With Admin Group: source, EventCode, Image, "
       "CommandLine\n"},
      {"analyze fields -t aql -p qradar --json " SIGMACC_SOURCE_DIR
       "/sigma-rules/windows/process_creation/proc_creation_win_fieldref_self_spawn.yml",
       0, "\"fields\":[\"devicetype\",\"Event ID\",\"Process Path\",\"Parent Process Path\"]}\n"},
      {"analyze fields ana", 2, "analyze fields needs -t TARGET"},
      {"analyze fields -t splnk ana", 2, "unknown target 'splnk' (did you mean 'splunk'?)"},
      {"analyze attack --json ana", 2, "--json is an option of analyze logsources and fields"},
      {"analyze --help", 0, "usage: sigmacc analyze logsources"},
      /* did you mean */
      {"convert -t splnk " RULE, 2, "unknown target 'splnk' (did you mean 'splunk'?)"},
      {"convert -t splunk -f savedsearch " RULE, 2,
       "no format 'savedsearch' (did you mean 'savedsearches'?)"},
      {"convert -t splunk -p sysmn " RULE, 2, "(did you mean 'sysmon'?)"},
      {"convert -t splunk --skip-unsuported " RULE, 2, "(did you mean '--skip-unsupported'?)"},
      {"eval --ruls=" RULE, 2, "(did you mean '--rules'?)"},
      {"convert -t zzzzzz " RULE, 2, "(see 'sigmacc list targets')"},
      {"check p.yml; printf 'name: p\\ntransformations:\\n  - type: field_name_maping\\n' > p.yml; "
       "'" SIGMACC_BIN "' check p.yml",
       1,
       "p.yml:3:11: error[E060]: unknown transformation type 'field_name_maping' (did you mean "
       "'field_name_mapping'?)"},
      /* a pipeline's error shows the pipeline's line, not the rule's */
      {"convert -t splunk -p p.yml " RULE, 1, "'field_name_mapping'?)\n      - type: field_name_maping\n"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    free(expect_cli(cases[i].args, cases[i].rc, cases[i].want));
  /* a setting error is reported once for the run, not once per rule */
  char *out = expect_cli(
      "convert -t splunk -f data_model " SIGMACC_SOURCE_DIR "/sigma-rules", 2,
      "sigmacc: error[E080]: -f: format 'data_model' needs a pipeline that sets state 'data_model_set' "
      "(-p splunk_cim)");
  size_t lines = 0;
  for (const char *p = out; (p = strchr(p, '\n')); p++)
    lines++;
  if (lines != 1) fail_msg("one line expected:\n%s", out);
  free(out);
}

/* A golden diff marks where a line changed: carets under the changed
 * characters (UTF-8 counted as characters), one caret for a deletion. */
static void test_golden_diff_marks(void **state) {
  (void)state;
  static const struct {
    const char *before, *after, *marks;
  } cases[] = {
      {"abcdef", "abXYef", "?     ^^\n"},        /* A="ab|XY|ef" */
      {"abcdef", "abdef", "?     ^\n"},          /* a deletion: where it was */
      {"h\u00e9llo", "h\u00e9lp", "?      ^\n"}, /* after a two-byte character */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char cmd[2048];
    snprintf(
        cmd, sizeof cmd,
        "cd '%s' && rm -rf g r && mkdir -p r && printf 'title: t\\nlogsource: {product: w}\\ndetection:\\n"
        "  s: {A: \"%s\"}\\n  condition: s\\n' > r/t.yml && '%s' convert -t splunk --update g r >/dev/null "
        "&& "
        "sed -i 's/%s/%s/' r/t.yml && '%s' convert -t splunk --check g r",
        tmpdir, cases[i].before, SIGMACC_BIN, cases[i].before, cases[i].after, SIGMACC_BIN);
    int rc;
    char *out = run(cmd, &rc);
    assert_int_equal(rc, 1);
    if (!strstr(out, cases[i].marks)) fail_msg("case %zu: no \"%s\" in\n%s", i, cases[i].marks, out);
    free(out);
  }
}

/* eval --check: sample events that match nothing, no-match events that
 * match, rules without samples are said; EVENTS with --check are a usage error. */
static void put_file(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* A correlation references rules of other files (by name or id), as the
 * specification and pySigma resolve them: convert and eval find them among
 * the run's files, leave the referenced rules out on their own (no
 * `generate`), and say where a name is missing or in two files. */
static void test_correlation_files(void **state) {
  (void)state;
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd '%s' && rm -rf cf && mkdir -p cf/rules cf/corr cf/dup cf/flow cf/cycle",
           tmpdir);
  int rc;
  free(run(cmd, &rc));
  assert_int_equal(rc, 0);
  static const char failed[] =
      "title: Failed Logon\nid: 5b1c6a2e-0000-4000-8000-000000000001\nname: failed_logon\n"
      "logsource: {product: windows, service: security}\n"
      "detection:\n  s: {EventID: 4625}\n  condition: s\nlevel: low\n";
  put_file("cf/rules/failed_logon.yml", failed);
  put_file("cf/rules/ok_logon.yml",
           "title: Logon\nname: ok_logon\nlogsource: {product: windows, service: security}\n"
           "detection:\n  s: {EventID: 4624}\n  condition: s\nlevel: low\n");
  put_file("cf/corr/correlation_burst.yml",
           "title: Burst\nid: 5b1c6a2e-0000-4000-8000-000000000003\ncorrelation:\n  type: event_count\n"
           "  rules: [failed_logon]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {gte: 3}\nlevel: "
           "high\n");
  put_file("cf/corr/correlation_by_id.yml",
           "title: Burst By Id\ncorrelation:\n  type: event_count\n"
           "  rules: [5b1c6a2e-0000-4000-8000-000000000001]\n  group-by: [IpAddress]\n  timespan: 5m\n"
           "  condition: {gte: 4}\nlevel: high\n");
  put_file("cf/dup/failed_logon_copy.yml", failed);
  put_file("cf/flow/correlation_flow.yml", /* no `correlation:` at a line's start: found once compiled */
           "{title: Flow, correlation: {type: event_count, rules: [failed_logon], group-by: [IpAddress], "
           "timespan: 5m, condition: {gte: 5}}}\n");
  char events[1024] = "";
  for (int i = 0; i < 3; i++)
    snprintf(events + strlen(events), sizeof events - strlen(events),
             "{\"EventID\":4625,\"Channel\":\"Security\",\"IpAddress\":\"203.0.113.7\",\"@timestamp\":\"2026-"
             "11-28T03:1%d:00Z\"}\n",
             i);
  put_file("cf/events.jsonl", events);
  put_file("cf/corr/correlation_burst.events.jsonl", events); /* its samples, for --update and --check */
  /* the specification's own example: a temporal_ordered correlation over an event_count one (a
   * chain), the rules in the same file; its failed logons, then the success (and the reverse) */
  put_file(
      "cf/chain.yml",
      "title: Failed Logins Followed by Successful Login\nid: 5b1c6a2e-0000-4000-8000-000000000010\n"
      "correlation:\n  type: temporal_ordered\n  rules: [multiple_failed_login, successful_login]\n"
      "  group-by: [User]\n  timespan: 10m\nlevel: high\n---\n"
      "title: Multiple failed logons\nname: multiple_failed_login\ncorrelation:\n  type: event_count\n"
      "  rules: [failed_login2]\n  group-by: [User]\n  timespan: 10m\n  condition: {gte: 3}\n---\n"
      "title: Single failed login\nname: failed_login2\nlogsource: {product: windows, service: security}\n"
      "detection:\n  s: {EventID: 4625}\n  condition: s\n---\n"
      "title: Successful login\nname: successful_login\nlogsource: {product: windows, service: security}\n"
      "detection:\n  s: {EventID: 4624}\n  condition: s\n");
  char chain[2048] = "", reverse[2048] = "";
  for (int i = 0; i < 4; i++) {
    char line[256];
    snprintf(line, sizeof line,
             "{\"EventID\":%d,\"Channel\":\"Security\",\"User\":\"bob\",\"@timestamp\":\"2026-11-28T03:0%d:"
             "00Z\"}\n",
             i < 3 ? 4625 : 4624, i);
    strcat(chain, line);
    snprintf(line, sizeof line,
             "{\"EventID\":%d,\"Channel\":\"Security\",\"User\":\"bob\",\"@timestamp\":\"2026-11-28T03:0%d:"
             "00Z\"}\n",
             i ? 4625 : 4624, i);
    strcat(reverse, line);
  }
  put_file("cf/chain.jsonl", chain);
  put_file("cf/reverse.jsonl", reverse);
  /* two correlations naming each other: never met, and each would hide the other */
  put_file("cf/cycle/correlation_cycle.yml",
           "title: X\nname: x\ncorrelation:\n  type: event_count\n  rules: [y, failed_logon]\n"
           "  group-by: [U]\n  timespan: 1h\n  condition: {gte: 2}\n---\n"
           "title: Y\nname: y\ncorrelation:\n  type: event_count\n  rules: [x]\n  group-by: [U]\n"
           "  timespan: 1h\n  condition: {gte: 2}\n");
  static const CliCase cases[] = {
      /* the correlation's query has its rule; the rule has no query of its own; ok_logon has */
      {"convert -t splunk --without-pipeline cf/rules cf/corr", 0,
       "EventID=4625\n| bin _time span=5m\n| stats count as event_count by _time IpAddress\n"
       "| search event_count >= 3\n\nEventID=4625\n| bin _time span=5m",
       "EventID=4625\n\n"},
      {"convert -t splunk --without-pipeline cf/rules cf/corr", 0, "\nEventID=4624\n", NULL},
      {"convert -t splunk --without-pipeline cf/rules cf/flow", 0, "| search event_count >= 5", NULL},
      {"convert -t splunk --without-pipeline cf/corr", 1,
       "correlation_burst.yml:5:11: error[E052]: no rule has the id or name 'failed_logon' in the files of "
       "this run",
       NULL},
      {"convert -t splunk --without-pipeline cf/rules cf/dup cf/corr", 1,
       "correlation_burst.yml:5:11: error[E052]: 'failed_logon' names rules in 2 files "
       "(cf/rules/failed_logon.yml:1 "
       "first)",
       NULL},
      {"eval -f jsonl -r cf/rules -r cf/corr/correlation_burst.yml cf/events.jsonl", 0,
       "\"correlation\":{\"id\":\"5b1c6a2e-0000-4000-8000-000000000003\",\"title\":\"Burst\"",
       "\"title\":\"Failed Logon\""},
      {"eval -r cf/rules -r cf/corr/correlation_burst.yml --update cf/g && cat cf/g/correlation_burst.jsonl",
       0, "\"group\":{\"IpAddress\":\"203.0.113.7\"},\"value\":3", NULL},
      {"eval -f jsonl -r cf/chain.yml cf/chain.jsonl", 0,
       "{\"correlation\":{\"id\":\"5b1c6a2e-0000-4000-8000-000000000010\",\"title\":\"Failed Logins Followed "
       "by "
       "Successful "
       "Login\",\"level\":\"high\",\"type\":\"temporal_ordered\"},\"group\":{\"User\":\"bob\"},\"value\":2,",
       "Multiple failed logons"},
      {"eval -f jsonl -r cf/chain.yml cf/reverse.jsonl", 0, "", "correlation"},
      {"eval -f jsonl -r cf/corr/correlation_burst.yml cf/events.jsonl", 1,
       "error[E052]: no rule has the id or name "
       "'failed_logon'",
       NULL},
      /* check resolves the references over every file it checks, as convert and eval do */
      {"check cf/corr", 1,
       "cf/corr/correlation_burst.yml:5:11: error[E052]: no rule has the id or name 'failed_logon' in the "
       "files of this run\n      rules: [failed_logon]\n              ^",
       NULL},
      {"check cf/rules cf/corr", 0, "0 errors", "E052"},
      {"check cf/rules cf/dup cf/corr", 1, "error[E052]: 'failed_logon' names rules in 2 files", NULL},
      /* test: a correlation's samples, its rules read from the other files of the run */
      {"test cf/rules cf/corr", 0, "PASS cf/corr/correlation_burst.yml: correlation_burst.events.jsonl",
       "FAIL"},
      /* pages: one site over every file, so a correlation's page has its query */
      {"pages -o cf/site cf/rules cf/corr && cat cf/site/rules/correlation_burst.html", 0,
       "| stats count as event_count by _time IpAddress", "cannot run"},
      {"list targets >/dev/null && cat cf/site/rules/correlation_burst.html", 0,
       "<code>correlation_burst.events.jsonl</code>: the rule fires on <strong>1 of 3</strong> sample events",
       "not checked"},
      {"pages -o cf/site2 cf/corr", 1,
       "correlation_burst.yml:5:11: error[E052]: no rule has the id or name 'failed_logon'", NULL},
      /* a cycle of correlations: located, in every command */
      {"check cf/rules cf/cycle", 1,
       "cf/cycle/correlation_cycle.yml:1:1: error[E050]: correlation 'x' references itself through a chain "
       "of correlations: it can never be met",
       NULL},
      {"convert -t splunk --without-pipeline cf/rules cf/cycle", 1,
       "correlation_cycle.yml:10:1: error[E050]: correlation 'y' references itself", NULL},
      {"eval -r cf/rules -r cf/cycle cf/events.jsonl", 1, "error[E050]: correlation 'x' references itself",
       NULL},
      /* the chain in SPL: the inner correlation's matches by streamstats, then the outer's */
      {"convert -t splunk --without-pipeline cf/chain.yml", 0,
       "| eval event_type=if(sigma_h1=1 AND sigma_n1=1, \"multiple_failed_login\", event_type)\n"
       "| where event_type=\"multiple_failed_login\" OR event_type=\"successful_login\"",
       NULL},
      {"convert -t aql --without-pipeline cf/chain.yml", 1,
       "error[E070]: QRadar AQL target: temporal correlations (an AQL aggregate cannot tell which rule an "
       "event "
       "matched)",
       NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", tmpdir, SIGMACC_BIN, cases[i].args);
    run_case(cmd, &cases[i]);
  }
}

/* Long chains of correlations: 1,500 naming each other in a ring are each an E050 (found in
 * one pass over the references, not one search per correlation: a search each took minutes);
 * the same chain ending at a rule is no cycle. */
static void test_correlation_cycles(void **state) {
  (void)state;
  enum { N = 1500 };
  SgBuf ring = {0}, line = {0};
  for (int i = 0; i < N; i++) {
    sg_buf_catf(&ring,
                "%stitle: C%d\nname: c%d\ncorrelation:\n  type: event_count\n  rules: [c%d]\n"
                "  group-by: [U]\n  timespan: 1h\n  condition: {gte: 1}\n",
                i ? "---\n" : "", i, i, (i + 1) % N);
    sg_buf_catf(&line,
                "%stitle: C%d\nname: c%d\ncorrelation:\n  type: event_count\n  rules: [%s%d]\n"
                "  group-by: [U]\n  timespan: 1h\n  condition: {gte: 1}\n",
                i ? "---\n" : "", i, i, i + 1 < N ? "c" : "r", i + 1 < N ? i + 1 : 0);
  }
  sg_buf_cat(&line,
             "---\ntitle: R\nname: r0\nlogsource: {product: x}\ndetection:\n  s: {A: 1}\n  condition: s\n");
  put_file("ring.yml", ring.data);
  put_file("line.yml", line.data);
  static const char *const cmds[] = {"check ring.yml", "convert -t splunk --without-pipeline ring.yml",
                                     "eval -r ring.yml /dev/null"};
  for (size_t c = 0; c < sizeof cmds / sizeof *cmds; c++) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1 | grep -c 'error\\[E050\\]'", tmpdir, SIGMACC_BIN,
             cmds[c]);
    int rc;
    char *out = run(cmd, &rc);
    if (atoi(out) != N) fail_msg("%s: %s E050 (want %d)", cmds[c], out, N);
    free(out);
  }
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' check line.yml 2>&1", tmpdir, SIGMACC_BIN);
  int rc;
  char *out = run(cmd, &rc);
  assert_null(strstr(out, "E050"));
  assert_non_null(strstr(out, " 0 errors"));
  free(out);
  sg_buf_free(&ring);
  sg_buf_free(&line);
  /* random graphs of up to 12 correlations, 1 to 3 references each (to each other or to a rule):
   * check says E050 at exactly those that reach themselves (a direct search says which) */
  uint64_t x = 0x2545f4914f6cdd1dull;
  for (int trial = 0; trial < 60; trial++) {
    int n = 0, deg[12], to[12][3];
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    n = 1 + (int)(x % 12);
    SgBuf g = {0};
    for (int i = 0; i < n; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      deg[i] = 1 + (int)(x % 3);
      sg_buf_catf(&g, "title: C%d\nname: c%d\ncorrelation:\n  type: event_count\n  rules: [", i, i);
      for (int j = 0; j < deg[i]; j++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        to[i][j] = (int)(x % (uint64_t)(n + 1)); /* n: the rule */
        if (to[i][j] == n)
          sg_buf_catf(&g, "%sr", j ? ", " : "");
        else
          sg_buf_catf(&g, "%sc%d", j ? ", " : "", to[i][j]);
      }
      sg_buf_cat(&g, "]\n  group-by: [U]\n  timespan: 1h\n  condition: {gte: 1}\n---\n");
    }
    sg_buf_cat(&g, "title: R\nname: r\nlogsource: {product: x}\ndetection:\n  s: {A: 1}\n  condition: s\n");
    put_file("graph.yml", g.data);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' check graph.yml 2>&1", tmpdir, SIGMACC_BIN);
    out = run(cmd, &rc);
    for (int s = 0; s < n; s++) {
      bool seen[12] = {0}, cycle = false;
      int stack[64], ns = 0;
      for (int j = 0; j < deg[s]; j++)
        if (to[s][j] < n) stack[ns++] = to[s][j];
      while (ns && !cycle) {
        int v = stack[--ns];
        cycle = v == s;
        if (cycle || seen[v]) continue;
        seen[v] = true;
        for (int j = 0; j < deg[v]; j++)
          if (to[v][j] < n && ns < 64) stack[ns++] = to[v][j];
      }
      char said[64];
      snprintf(said, sizeof said, "correlation 'c%d' references itself", s);
      if (cycle != (strstr(out, said) != NULL))
        fail_msg("graph %d: c%d is %son a cycle, check says:\n%s\n%s", trial, s, cycle ? "" : "not ", out,
                 g.data);
    }
    free(out);
    sg_buf_free(&g);
  }
}

static void test_eval_check(void **state) {
  (void)state;
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && rm -rf e g && mkdir -p e && printf 'title: t\\nlogsource: {product: w}\\ndetection:\\n"
           "  s: {A: 1}\\n  condition: s\\n' > e/t.yml && cp e/t.yml e/u.yml",
           tmpdir);
  int rc;
  free(run(cmd, &rc));
  assert_int_equal(rc, 0);
  static const struct {
    const char *setup, *args;
    int rc;
    const char *want;
  } cases[] = {
      {"echo '{\"A\":2}' > e/t.events.jsonl", "eval -r e --update g", 1,
       "e/t.yml: error: its sample events e/t.events.jsonl match nothing"},
      {"echo '{\"A\":1}' > e/t.events.jsonl", "eval -r e --update g", 0,
       "1 of 2 rule files have no sample events (R.events.jsonl or R.nomatch.jsonl), so --check does not "
       "check them:\n  e/u.yml"},
      {"echo '{\"A\":1}' > e/u.nomatch.jsonl", "eval -r e --check g", 1,
       "e/u.yml: error: the rule matches events of e/u.nomatch.jsonl, which it must not match"},
      {"echo '{\"A\":3}' > e/u.nomatch.jsonl", "eval -r e --check g", 0, "golden: 1 file, 0 differ"},
      {"true", "eval -r e --check g ev.jsonl", 2, "EVENTS are not used"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(cmd, sizeof cmd, "cd '%s' && %s && '%s' %s 2>&1", tmpdir, cases[i].setup, SIGMACC_BIN,
             cases[i].args);
    char *out = run(cmd, &rc);
    if (rc != cases[i].rc || !strstr(out, cases[i].want))
      fail_msg("case %zu: exit %d (want %d):\n%s\n(want \"%s\")", i, rc, cases[i].rc, out, cases[i].want);
    free(out);
  }
}

static size_t count_of(const char *s, const char *what) {
  size_t n = 0;
  for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
    n++;
  return n;
}

static size_t leaves_at(const SgJDoc *d, const char *path) {
  size_t n = 0, len = strlen(path);
  for (size_t i = 0; i < d->n; i++)
    n += d->leaves[i].pathlen == len && !memcmp(d->text + d->leaves[i].path, path, len);
  return n;
}

/* check --sarif and --junit: SARIF 2.1.0 with what its schema requires of a
 * run, each rule and each result (object by object: a result per finding, each
 * with its rule, level, message, file, line and column; each rule with help
 * text); JUnit with a testcase per file, its counts right. */
static void test_check_reports(void **state) {
  (void)state;
  char cmd[2048];
  int rc;
  snprintf(
      cmd, sizeof cmd,
      "cd '%s' && '%s' check --json --sarif /tmp/sigmacc-%d.sarif --junit /tmp/sigmacc-%d.xml golden/errors "
      "sigma-rules 2>/dev/null | wc -l; cat /tmp/sigmacc-%d.sarif; echo; cat /tmp/sigmacc-%d.xml; "
      "rm -f /tmp/sigmacc-%d.sarif /tmp/sigmacc-%d.xml",
      SIGMACC_SOURCE_DIR, SIGMACC_BIN, (int)getpid(), (int)getpid(), (int)getpid(), (int)getpid(),
      (int)getpid(), (int)getpid());
  char *out = run(cmd, &rc);
  size_t findings = (size_t)atol(out);
  const char *sarif = strchr(out, '\n') + 1, *end = strchr(sarif, '\n');
  assert_true(findings > 50);
  assert_true(oc_json_valid(sarif, (size_t)(end - sarif)));
  SgJDoc d = {0};
  size_t off;
  const char *err;
  assert_true(sg_json_parse(&d, sarif, (size_t)(end - sarif), &off, &err));
  const SgJLeaf *version = sg_jdoc_find(&d, "version", 7);
  assert_non_null(version);
  assert_int_equal(version->vallen, 5);
  assert_memory_equal(d.text + version->val, "2.1.0", 5);
  assert_int_equal(leaves_at(&d, "runs.tool.driver.name"), 1);
  static const char *const per_result[] = {"runs.results.ruleId",
                                           "runs.results.level",
                                           "runs.results.message.text",
                                           "runs.results.locations.physicalLocation.artifactLocation.uri",
                                           "runs.results.locations.physicalLocation.region.startLine",
                                           "runs.results.locations.physicalLocation.region.startColumn"};
  for (size_t i = 0; i < sizeof per_result / sizeof *per_result; i++)
    if (leaves_at(&d, per_result[i]) != findings)
      fail_msg("SARIF: %zu %s for %zu findings", leaves_at(&d, per_result[i]), per_result[i], findings);
  size_t rules = leaves_at(&d, "runs.tool.driver.rules.id");
  assert_true(rules > 10);
  assert_int_equal(leaves_at(&d, "runs.tool.driver.rules.help.text"), rules);
  assert_int_equal(leaves_at(&d, "runs.tool.driver.rules.shortDescription.text"), rules);
  sg_jdoc_free(&d);
  const char *xml = end + 1;
  unsigned tests = 0, failures = 0;
  const char *suite = strstr(xml, "<testsuite ");
  assert_non_null(suite);
  assert_int_equal(
      sscanf(suite, "<testsuite name=\"sigmacc check\" tests=\"%u\" failures=\"%u\"", &tests, &failures), 2);
  assert_int_equal(count_of(xml, "<testcase "), tests);
  assert_int_equal(count_of(xml, "<failure "), failures);
  assert_int_equal(count_of(xml, "</failure>"), failures);
  assert_true(strstr(xml, "</testsuite>\n</testsuites>\n") != NULL);
  printf("check: %zu findings, SARIF with %zu rules; JUnit %u testcases, %u failed\n", findings, rules, tests,
         failures);
  free(out);
}

/* convert --check --junit: a testcase per golden file; a changed file fails
 * with its diff, a missing one and an extra one fail too; --junit without
 * --check is a usage error. */
static void test_golden_junit(void **state) {
  (void)state;
  char cmd[4096];
  int rc;
  snprintf(cmd, sizeof cmd,
           "cd '%s' && t=$(mktemp -d) && C() { '%s' convert -t splunk --without-pipeline \"$@\"; } && "
           "C --update $t/g sigma-rules/windows/process_creation > /dev/null && "
           "C --check $t/g --junit $t/pass.xml sigma-rules/windows/process_creation > /dev/null; echo rc=$?; "
           "grep -c '<testcase ' $t/pass.xml; grep -c '<failure' $t/pass.xml; "
           "f=$(find $t/g -name '*.spl' | sort | head -1); echo 'changed' >> $f; "
           "g=$(find $t/g -name '*.spl' | sort | tail -1); rm $g; echo x > $t/g/extra.spl; "
           "C --check $t/g --junit $t/fail.xml sigma-rules/windows/process_creation > /dev/null; echo rc=$?; "
           "grep -o 'failures=\"[0-9]*\"' $t/fail.xml | head -1; "
           "grep -c 'message=\"differs from the golden file\"' $t/fail.xml; "
           "grep -c 'message=\"missing (run with --update to create it)\"' $t/fail.xml; "
           "grep -c 'message=\"extra: no rule produces it\"' $t/fail.xml; grep -c '^+changed' $t/fail.xml; "
           "C --junit $t/x.xml sigma-rules/windows/process_creation > /dev/null 2>&1; echo rc=$?; rm -rf $t",
           SIGMACC_SOURCE_DIR, SIGMACC_BIN);
  char *out = run(cmd, &rc);
  unsigned cases = 0;
  if (sscanf(out, "rc=0\n%u\n0\n", &cases) != 1 || cases < 5) fail_msg("a clean check:\n%s", out);
  if (!strstr(out, "rc=1\nfailures=\"3\"\n1\n1\n1\n") || !strstr(out, "\nrc=2\n")) fail_msg("%s", out);
  free(out);
}

/* Event inputs are recognised from their bytes: gzip is read as the text it
 * holds (same matches), a truncated one is an error after what it held; a
 * damaged EVTX header or another binary file is an error (exit 2), never "0
 * events, exit 0"; in a directory, every file is read and what is not events
 * is passed over with a note. (Real EVTX files: test_evtx.) */
static void test_event_inputs(void **state) {
  (void)state;
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && rm -rf ei && mkdir ei && cd ei && printf 'title: t\\nlogsource: {product: w}\\n"
           "detection:\\n  s: {A: 1}\\n  condition: s\\n' > r.yml && "
           "for i in $(seq 3000); do echo \"{\\\"A\\\":$((i %% 3)),\\\"n\\\":$i}\"; done > ev.jsonl && "
           "gzip -c ev.jsonl > ev.gz && cat ev.gz ev.gz > twice.gz && head -c 2000 ev.gz > cut.gz && "
           "printf 'ElfFile\\0\\0\\0' > x.evtx && printf '\\211PNG\\r\\n\\032\\n\\0\\0' > x.png && "
           "mkdir -p dir/sub && cp ev.jsonl x.png dir/ && echo 'not: events' > dir/notes.yml && cp ev.gz "
           "dir/sub/ && "
           "touch dir/.hidden && mkdir rules && cp r.yml rules/",
           tmpdir);
  int rc;
  free(run(cmd, &rc));
  assert_int_equal(rc, 0);
  char *plain = NULL, *gz = NULL;
  static const char *const inputs[] = {"ev.jsonl", "ev.gz"};
  for (int i = 0; i < 2; i++) {
    snprintf(cmd, sizeof cmd,
             "cd '%s/ei' && '%s' eval -r r.yml --fields n %s | sed 's/\"path\":\"[^\"]*\"//'", tmpdir,
             SIGMACC_BIN, inputs[i]);
    *(i ? &gz : &plain) = run(cmd, &rc);
    assert_int_equal(rc, 0);
  }
  assert_string_equal(gz, plain);
  size_t lines = 0;
  for (const char *p = plain; (p = strchr(p, '\n')); p++)
    lines++;
  assert_int_equal(lines, 1000); /* A is 1 for every third event */
  free(plain);
  free(gz);
  static const struct {
    const char *args;
    int rc;
    const char *want;
  } cases[] = {
      {"eval -r r.yml --stats twice.gz", 0, "events 6000,"}, /* gzip members one after another */
      {"eval -r r.yml cut.gz", 2, "cut.gz: error[E001]: the gzip input is truncated; the events after line"},
      {"eval -r r.yml x.evtx", 2,
       "x.evtx: error[E001]: not a readable EVTX file: its EVTX file header at offset 0 "
       "is cut off (10 of 4096 bytes)"},
      {"eval -r r.yml x.png", 2, "x.png: error[E001]: a binary file, not events"},
      /* rules among the events (a folder after -r's value): a usage error naming -r, nothing read */
      {"eval -r r.yml r.yml", 2,
       "sigmacc eval: error[E080]: r.yml is a Sigma rule, not events; give rules with -r r.yml"},
      {"eval -r r.yml rules ev.jsonl", 2,
       "sigmacc eval: error[E080]: rules holds Sigma rules (rules/r.yml), not events; give rules with -r "
       "rules"},
      {"eval -r r.yml --stats dir", 0, "dir/notes.yml: note: not events (neither EVTX nor JSON"},
      {"eval -r r.yml --stats dir", 0, "dir/x.png: note: a binary file, not events"},
      {"eval -r r.yml --stats dir", 0, "events 6000,"},
      {"eval -r r.yml - < x.png", 2, "-: error[E001]: a binary file"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(cmd, sizeof cmd, "cd '%s/ei' && '%s' %s 2>&1 >/dev/null", tmpdir, SIGMACC_BIN, cases[i].args);
    char *out = run(cmd, &rc);
    if (rc != cases[i].rc || !strstr(out, cases[i].want))
      fail_msg("%s: exit %d (want %d):\n%s\n(want \"%s\")", cases[i].args, rc, cases[i].rc, out,
               cases[i].want);
    free(out);
  }
}

/* Events with no log source of their own: every rule applies (said by
 * --stats) until --logsource names theirs; a bad --logsource is exit 2. */
/* Every command checks that standard output took its bytes: a full disk or
 * a closed stdout is exit 2 with a message naming it (it was exit 0 with
 * nothing written), and so is convert -o onto a full disk. */
static void test_write_errors(void **state) {
  (void)state;
  static const char *const cmds[] = {
      "check " RULE,
      "list targets",
      "list diagnostics",
      "analyze logsources " RULE,
      "convert -t splunk " RULE,
      ("eval -r sigma-rules -p sigma-rules/pipelines/placeholders.yml "
       "sigma-rules/windows/image_load/image_load_win_invalid_code_signature.events.jsonl"),
      "--version",
      "convert --help"};
  static const char *const sinks[] = {">/dev/full", ">&-"};
  static const char *const why[] = {"No space left on device", "Bad file descriptor"};
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
    for (size_t k = 0; k < 2; k++) {
      char cmd[1024];
      snprintf(cmd, sizeof cmd, "'%s' %s 2>&1 %s", SIGMACC_BIN, cmds[i], sinks[k]);
      CliCase c = {cmds[i], 2, "error[E001]: cannot write standard output", NULL};
      run_case(cmd, &c);
      if (strcmp(cmds[i], "convert -t splunk " RULE) && strcmp(cmds[i], "check " RULE)) {
        snprintf(cmd, sizeof cmd, "'%s' %s 2>&1 %s", SIGMACC_BIN, cmds[i], sinks[k]);
        CliCase reason = {cmds[i], 2, why[k], NULL};
        run_case(cmd, &reason);
      }
    }
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' convert -t splunk -o /dev/full " RULE " 2>&1", SIGMACC_BIN);
  CliCase c = {"-o /dev/full", 2, "sigmacc convert: error[E001]: cannot write '/dev/full': No space left",
               NULL};
  run_case(cmd, &c);
}

static void test_declared_logsource(void **state) {
  (void)state;
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && rm -rf ls && mkdir ls && cd ls && for p in linux windows; do "
           "printf 'title: %%s\\nlogsource: {product: %%s, service: auditd}\\ndetection:\\n  s: {A: 1}\\n"
           "  condition: s\\n' $p $p > $p.yml; done && echo '{\"A\":1}' > ev.jsonl",
           tmpdir);
  int rc;
  free(run(cmd, &rc));
  assert_int_equal(rc, 0);
  static const CliCase cases[] = {
      {"--stats ev.jsonl", 0,
       "1 event had no log source (not in evtx_dump's shape): every rule applied to it", NULL},
      {"ev.jsonl", 0, "\"title\":\"windows\"", NULL},
      {"ev.jsonl", 0, "\"title\":\"linux\"", NULL},
      {"--logsource product=linux,service=auditd ev.jsonl", 0, "\"title\":\"linux\"",
       "\"title\":\"windows\""},
      {"--logsource product=linux --stats ev.jsonl", 0, "events 1,", "no log source"},
      {"--logsource product=linux,service=sshd --stats ev.jsonl", 0, "matches 0,", "\"title\""},
      {"--logsource os=linux ev.jsonl", 2, "--logsource takes product=P,category=C,service=S, not 'os='",
       NULL},
      {"--logsource product= ev.jsonl", 2, "--logsource takes", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(cmd, sizeof cmd, "cd '%s/ls' && '%s' eval -r linux.yml -r windows.yml %s 2>&1", tmpdir,
             SIGMACC_BIN, cases[i].args);
    run_case(cmd, &cases[i]);
  }
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sigmacc-test-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_catalogue),    cmocka_unit_test(test_validator_catalogue),
      cmocka_unit_test(test_validation_options), cmocka_unit_test(test_analyze_attack),
      cmocka_unit_test(test_generated_inputs),   cmocka_unit_test(test_batch_keeps_going),
      cmocka_unit_test(test_golden_mutations),   cmocka_unit_test(test_option_forms),
      cmocka_unit_test(test_golden_diff_marks),  cmocka_unit_test(test_eval_check),
      cmocka_unit_test(test_correlation_files),  cmocka_unit_test(test_correlation_cycles),
      cmocka_unit_test(test_event_inputs),

      cmocka_unit_test(test_check_reports),      cmocka_unit_test(test_golden_junit),
      cmocka_unit_test(test_declared_logsource), cmocka_unit_test(test_write_errors),
  };
  return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
