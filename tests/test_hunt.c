/* test_hunt.c - the responder's commands through the CLI: which rules eval
 * loads (deprecated, unsupported, exclusions, said with their reasons), the
 * timeline's order, sources, time zones and de-duplication, a terminal's
 * default view, metrics, logons and search.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>

#include "outcheck.h"
#include "testrun.h"

static char tmpdir[] = "/tmp/sigmacc-hunt-XXXXXX";

/* Rule selection: deprecated and unsupported rules (status or folder) left
 * out unless asked, --exclude-status/-tag/-rules; every rule left out is
 * counted with its reason. */
static void test_rule_selection(void **state) {
  (void)state;
  char cmd[4096];
  snprintf(
      cmd, sizeof cmd,
      "cd '%s' && rm -rf sel && mkdir -p sel/rules/deprecated && cd sel && "
      "r() { printf 'title: %%s\\nid: %%s\\nstatus: %%s\\ntags: [%%s]\\nlogsource: {product: w}\\n"
      "detection:\\n  s: {A: 1}\\n  condition: s\\n' \"$2\" \"$3\" \"$4\" \"$5\" > \"$1\"; } && "
      "r rules/a.yml a 11111111-1111-1111-1111-111111111111 test attack.t1059.001 && "
      "r rules/deprecated/b.yml b 22222222-2222-2222-2222-222222222222 test x && "
      "r rules/c.yml c 33333333-3333-3333-3333-333333333333 unsupported x && "
      "r rules/d.yml d 44444444-4444-4444-4444-444444444444 deprecated x && "
      "r rules/e.yml e 55555555-5555-5555-5555-555555555555 experimental x && "
      "echo '{\"A\":1}' > ev.jsonl && printf '# noisy\\n 55555555-5555-5555-5555-555555555555 \\n\\n' > list",
      tmpdir);
  int rc;
  free(run(cmd, &rc));
  assert_int_equal(rc, 0);
  static const struct {
    const char *args, *titles, *said;
  } cases[] = {
      {"", "a e",
       "2 rules loaded; 3 left out: 2 deprecated, 1 unsupported (--include-deprecated, "
       "--include-unsupported load those)"},
      {"--include-deprecated", "a d b e", "4 rules loaded; 1 left out: 1 unsupported"},
      {"--include-deprecated --include-unsupported", "a c d b e", NULL},
      {"--status deprecated", "d", "4 rules loaded; 1 left out: 1 unsupported"},
      {"--exclude-tag attack.t1059", "e",
       "1 rule loaded; 4 left out: 2 deprecated, 1 unsupported, 1 by --exclude-tag"},
      {"--exclude-status experimental", "a",
       "1 rule loaded; 4 left out: 2 deprecated, 1 unsupported, 1 by --exclude-status"},
      {"--exclude-rules list", "a",
       "1 rule loaded; 4 left out: 2 deprecated, 1 unsupported, 1 by --exclude-rules"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(
        cmd, sizeof cmd,
        "cd '%s/sel' && '%s' eval -r rules %s ev.jsonl 2>err | sed 's/.*\"title\":\"\\([a-e]\\)\".*/\\1/' | "
        "tr '\\n' ' '; echo; cat err",
        tmpdir, SIGMACC_BIN, cases[i].args);
    char *out = run(cmd, &rc);
    char want[64];
    snprintf(want, sizeof want, "%s \n", cases[i].titles);
    if (strncmp(out, want, strlen(want))) fail_msg("eval %s: fired %s, want %s", cases[i].args, out, want);
    if (cases[i].said && !strstr(out, cases[i].said))
      fail_msg("eval %s: want \"%s\" in:\n%s", cases[i].args, cases[i].said, out);
    if (!cases[i].said && strstr(out, "left out"))
      fail_msg("eval %s: nothing is left out:\n%s", cases[i].args, out);
    free(out);
  }
}

/* The timeline: csv and table sorted by event time (events without one last),
 * --input-order as read, jsonl as read; -o FILE; on a terminal (a pty from
 * script(1)) the table and then the summary by default. */
static void test_timeline_order(void **state) {
  (void)state;
  char cmd[4096];
  int rc;
  static const char *const cases[][2] = {
      {"-f csv", "101 102 103 104 105 107 "}, /* by time; 107 has none */
      {"-f csv --input-order", "105 101 102 103 104 107 "},
      {"-f jsonl", "105 101 102 103 104 107 "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(
        cmd, sizeof cmd,
        "cd '%s' && { sed -n 5p tests/eval/timeline.jsonl; sed 5d tests/eval/timeline.jsonl; } | "
        "'%s' eval -r sigma-rules/windows/process_creation "
        "-p sigma-rules/pipelines/placeholders.yml %s --fields EventRecordID -o /tmp/sigmacc-tl-%d.out - && "
        "{ grep -o '\"EventRecordID\":[0-9]*' /tmp/sigmacc-tl-%d.out | grep -o '[0-9]*$' || "
        "sed 1d /tmp/sigmacc-tl-%d.out | cut -d, -f5; } | tr '\\n' ' '; "
        "rm -f /tmp/sigmacc-tl-%d.out",
        SIGMACC_SOURCE_DIR, SIGMACC_BIN, cases[i][0], (int)getpid(), (int)getpid(), (int)getpid(),
        (int)getpid());
    char *out = run(cmd, &rc);
    if (!strstr(out, cases[i][1])) fail_msg("eval %s: records %s, want %s", cases[i][0], out, cases[i][1]);
    free(out);
  }
  /* csv with --fields: a column per field, empty where the event has none */
  snprintf(cmd, sizeof cmd,
           "cd '%s' && '%s' eval -r sigma-rules/windows/process_creation -p "
           "sigma-rules/pipelines/placeholders.yml "
           "-f csv --fields Image,User,Nope tests/eval/timeline.jsonl | sed -n '1p;7p'",
           SIGMACC_SOURCE_DIR, SIGMACC_BIN);
  char *cols = run(cmd, &rc);
  assert_string_equal(
      cols, "time,computer,channel,event_id,record_id,level,rule_title,rule_id,source,Image,User,Nope\n"
            ",WS01,Microsoft-Windows-Sysmon/Operational,1,107,medium,Whoami Execution,"
            "1831e34e-55c9-5595-945b-61dd62fb6831,tests/eval/timeline.jsonl:7,"
            "C:\\Windows\\System32\\whoami.exe,,\n");
  free(cols);
  /* times at an offset; the same events read twice show their matches once with --dedup */
  snprintf(
      cmd, sizeof cmd,
      "cd '%s' && E='-r sigma-rules/windows/process_creation -p sigma-rules/pipelines/placeholders.yml' && "
      "'%s' eval $E -f csv --timezone +02:00 tests/eval/timeline.jsonl | sed -n 2p | cut -d, -f1; "
      "'%s' eval $E -f csv --timezone -05:30 tests/eval/timeline.jsonl | sed -n 2p | cut -d, -f1; "
      "'%s' eval $E -f csv --timezone nowhere tests/eval/timeline.jsonl 2>&1; echo rc=$?; "
      "'%s' eval $E -f csv tests/eval/timeline.jsonl | wc -l; "
      "'%s' eval $E -f csv tests/eval/timeline.jsonl tests/eval/timeline.jsonl | wc -l; "
      "'%s' eval $E -f csv --dedup tests/eval/timeline.jsonl tests/eval/timeline.jsonl 2>&1 | wc -l; "
      "'%s' eval $E -f csv --dedup tests/eval/timeline.jsonl tests/eval/timeline.jsonl 2>&1 >/dev/null",
      SIGMACC_SOURCE_DIR, SIGMACC_BIN, SIGMACC_BIN, SIGMACC_BIN, SIGMACC_BIN, SIGMACC_BIN, SIGMACC_BIN,
      SIGMACC_BIN);
  char *tz = run(cmd, &rc);
  const char *want_tz = "2026-11-28T11:59:59.123+02:00\n2026-11-28T04:29:59.123-05:30\n";
  if (strncmp(tz, want_tz, strlen(want_tz)) || !strstr(tz, "--timezone takes local, UTC or an offset") ||
      !strstr(tz, "rc=2\n8\n15\n9\n") || !strstr(tz, "--dedup): their matches are shown once"))
    fail_msg("--timezone, --dedup:\n%s", tz);
  free(tz);
  snprintf(cmd, sizeof cmd,
           "cd '%s' && script -qec \"'%s' eval -r sigma-rules/windows/process_creation -p "
           "sigma-rules/pipelines/placeholders.yml tests/eval/timeline.jsonl\" /dev/null | tr -d '\\r'",
           SIGMACC_SOURCE_DIR, SIGMACC_BIN);
  char *out = run(cmd, &rc);
  const char *head = strstr(out, "time "), *sum = strstr(out, "matches");
  if (!head || !strstr(out, "Whoami Execution") || !sum || sum < head)
    fail_msg("a terminal gets the table, then the summary:\n%s", out);
  free(out);
}

/* metrics: the events counted by channel, channel and event id, computer and
 * provider, with their first and last time; strict JSON off a terminal, the
 * same for -j 1 and -j 3. */
static void test_metrics(void **state) {
  (void)state;
  char cmd[2048];
  int rc;
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' metrics -j 1 tests/eval/timeline.jsonl", SIGMACC_SOURCE_DIR,
           SIGMACC_BIN);
  char *one = run(cmd, &rc);
  assert_int_equal(rc, 0);
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' metrics -j 3 tests/eval/timeline.jsonl", SIGMACC_SOURCE_DIR,
           SIGMACC_BIN);
  char *three = run(cmd, &rc);
  assert_string_equal(one, three);
  assert_true(oc_json_valid(one, strlen(one) - 1));
  static const char *const want[] = {
      "{\"events\":7,\"untimed\":1,\"first\":\"2026-11-28T09:59:59.123Z\",\"last\":\"2026-11-29T01:00:00."
      "000Z\"",
      "\"channels\":[{\"name\":\"Microsoft-Windows-Sysmon/Operational\",\"events\":7}]",
      "\"event_ids\":[{\"channel\":\"Microsoft-Windows-Sysmon/"
      "Operational\",\"event_id\":\"1\",\"events\":7}]",
      "\"computers\":[{\"name\":\"WS01\",\"events\":3},{\"name\":\"SRV-DC01\",\"events\":2},{\"name\":"
      "\"WS02\",\"events\":2}]",
      "\"providers\":[{\"name\":\"Microsoft-Windows-Sysmon\",\"events\":7}]}\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (!strstr(one, want[i])) fail_msg("metrics: want %s in:\n%s", want[i], one);
  free(one);
  free(three);
  /* logons: Security 4624 and 4625 counted by user and source, nothing else */
  snprintf(
      cmd, sizeof cmd,
      "cd /tmp && l() { printf '{\"Event\":{\"System\":{\"EventID\":%%s,\"Channel\":\"%%s\",\"Computer\":"
      "\"DC\"},\"EventData\":{\"TargetUserName\":\"%%s\",\"TargetDomainName\":\"CORP\",\"LogonType\":\"3\","
      "\"WorkstationName\":\"WS\",\"IpAddress\":\"%%s\"}}}\\n' \"$@\"; } && "
      "{ l 4624 Security alice 10.0.0.1; l 4624 Security alice 10.0.0.1; l 4625 Security bob 10.0.0.9; "
      "l 4624 System eve 1.1.1.1; l 4688 Security eve 1.1.1.1; } | '%s' logons -",
      SIGMACC_BIN);
  char *lo = run(cmd, &rc);
  assert_int_equal(rc, 0);
  assert_string_equal(
      lo, "{\"logons\":3,\"successful\":[{\"TargetUserName\":\"alice\",\"TargetDomainName\":\"CORP\","
          "\"Computer\":\"DC\",\"LogonType\":\"3\",\"WorkstationName\":\"WS\",\"IpAddress\":\"10.0.0.1\","
          "\"logons\":2}],\"failed\":[{\"TargetUserName\":\"bob\",\"TargetDomainName\":\"CORP\","
          "\"Computer\":\"DC\",\"LogonType\":\"3\",\"WorkstationName\":\"WS\",\"IpAddress\":\"10.0.0.9\","
          "\"logons\":1}]}\n");
  free(lo);
}

/* search: a keyword (case-sensitive or not) or a regex over every value, or
 * one field's; each event once, with the fields that matched; strict JSON;
 * the same for -j 1 and -j 3; a bad regex is a usage error. */
static void test_search(void **state) {
  (void)state;
  char cmd[2048];
  int rc;
  static const struct {
    const char *args;
    const char *records; /* EventRecordIDs of the events found, in order */
    const char *field;   /* a field that matched */
  } cases[] = {
      {"whoami", "101 102 107 ", "Event.EventData.CommandLine"},
      {"WHOAMI", "", NULL},
      {"-i WHOAMI", "101 102 107 ", "Event.EventData.Image"},
      {"--field Image -i whoami", "101 107 ", "Event.EventData.Image"},
      {"-e 'SharpHound\\.exe -c \\w+$'", "104 ", "Event.EventData.CommandLine"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *out[2];
    for (int j = 0; j < 2; j++) {
      snprintf(cmd, sizeof cmd, "cd '%s' && '%s' search -j %d %s tests/eval/timeline.jsonl",
               SIGMACC_SOURCE_DIR, SIGMACC_BIN, j ? 3 : 1, cases[i].args);
      out[j] = run(cmd, &rc);
      assert_int_equal(rc, 0);
    }
    assert_string_equal(out[0], out[1]);
    SgBuf got = {0};
    for (const char *line = out[0]; *line;) {
      const char *nl = strchr(line, '\n');
      assert_non_null(nl);
      assert_true(oc_json_valid(line, (size_t)(nl - line)));
      const char *rec = strstr(line, "\"EventRecordID\":");
      if (rec) sg_buf_catf(&got, "%d ", atoi(rec + 16));
      line = nl + 1;
    }
    if (strcmp(sg_buf_cstr(&got), cases[i].records))
      fail_msg("search %s: records %s, want %s", cases[i].args, sg_buf_cstr(&got), cases[i].records);
    if (cases[i].field) {
      char want[128];
      snprintf(want, sizeof want, "{\"field\":\"%s\",\"value\":", cases[i].field);
      if (!strstr(out[0], want)) fail_msg("search %s: want %s in:\n%s", cases[i].args, want, out[0]);
    }
    sg_buf_free(&got);
    free(out[0]);
    free(out[1]);
  }
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' search -e '(' tests/eval/timeline.jsonl 2>&1",
           SIGMACC_SOURCE_DIR, SIGMACC_BIN);
  char *bad = run(cmd, &rc);
  assert_int_equal(rc, 2);
  if (!strstr(bad, "sigmacc search: error[E080]: the pattern '(' at offset 1: missing closing parenthesis"))
    fail_msg("%s", bad);
  free(bad);
}

static int setup(void **state) {
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rule_selection),
      cmocka_unit_test(test_timeline_order),
      cmocka_unit_test(test_metrics),
      cmocka_unit_test(test_search),
  };
  return cmocka_run_group_tests_name("hunt", tests, setup, teardown);
}
