/* test_eval.c - the native evaluator: every operator, input shapes (JSON
 * lines, arrays, concatenated and pretty-printed objects, malformed input),
 * case folding, the evtx shape, and the SigmaHQ regression events when the
 * corpus is present. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sigmacc_int.h"

#include "testrun.h"

/* Compile `rule` (optionally through the evtx pipeline) and match `event`. */
static int matches(const char *rule, const char *event, bool evtx) {
  SgUnit u;
  SgDiags d = {0};
  size_t n = strlen(rule);
  char *src = malloc(n + 1);
  memcpy(src, rule, n + 1);
  sg_compile_source(&u, "r.yml", src, n, &d);
  if (d.nerrors || u.nrules != 1) {
    SgBuf b = {0};
    for (size_t i = 0; i < d.n; i++)
      sg_diag_render(&b, &d.items[i], NULL, 0);
    fail_msg("rule does not compile: %s", sg_buf_cstr(&b));
  }
  SgArena pa;
  sg_arena_init(&pa);
  SgPipelineSet set = {0};
  const SgRule *r = u.rules[0];
  if (evtx) {
    assert_int_equal(sg_pipeline_add(&pa, &set, "evtx", &d), SG_OK);
    SgPipelineState st = {0};
    SgRule *p;
    assert_int_equal(sg_pipeline_apply(&u.arena, &set, r, &p, &st, &d), SG_OK);
    r = p;
  }
  SgEvaluator *e = sg_eval_new();
  sg_eval_set_logsources(e, &set, NULL);
  int result = -1;
  if (sg_eval_add(e, r, &d) == SG_OK && sg_eval_prepare(e) == SG_OK) {
    SgJDoc doc = {0};
    size_t off;
    const char *err;
    if (sg_json_parse(&doc, event, strlen(event), &off, &err)) {
      const SgEvalHit *h;
      size_t nh;
      if (sg_eval_event(e, &doc, &h, &nh) == SG_OK && !sg_eval_undecided(e, &h)) result = nh == 1;
    }
    sg_jdoc_free(&doc);
  }
  sg_eval_free(e);
  sg_arena_free(&pa);
  sg_unit_free(&u);
  sg_diags_free(&d);
  return result;
}

#define RULE(det) "title: t\nlogsource: {product: test}\ndetection:\n" det
#define YES(rule, ev) assert_int_equal(matches(rule, ev, false), 1)
#define NO(rule, ev) assert_int_equal(matches(rule, ev, false), 0)

static void test_strings(void **state) {
  (void)state;
  const char *r = RULE("  s: {Image|endswith: '\\cmd.exe'}\n  condition: s\n");
  YES(r, "{\"Image\": \"C:\\\\Windows\\\\System32\\\\CMD.EXE\"}");
  NO(r, "{\"Image\": \"C:\\\\cmd.exe.bak\"}");
  NO(r, "{\"Other\": \"C:\\\\cmd.exe\"}");
  r = RULE("  s: {A: 'a?c', B|startswith: 'Pre', C|contains: 'mid', D: 'x*y*z'}\n  condition: s\n");
  YES(r, "{\"A\": \"abc\", \"B\": \"prefix\", \"C\": \"a MID b\", \"D\": \"x1y2z\"}");
  NO(r, "{\"A\": \"ac\", \"B\": \"prefix\", \"C\": \"a MID b\", \"D\": \"x1y2z\"}");
  NO(r, "{\"A\": \"abc\", \"B\": \"prefix\", \"C\": \"a MID b\", \"D\": \"x1y2\"}");
  /* ? is one character, also a multi-byte one */
  YES(RULE("  s: {A: 'a?c'}\n  condition: s\n"), "{\"A\": \"a\xc3\xa9"
                                                 "c\"}");
  /* a literal * must be a star */
  r = RULE("  s: {A: 'a\\*c'}\n  condition: s\n");
  YES(r, "{\"A\": \"a*c\"}");
  NO(r, "{\"A\": \"abc\"}");
  /* empty string is not a missing field */
  r = RULE("  s: {A: ''}\n  condition: s\n");
  YES(r, "{\"A\": \"\"}");
  NO(r, "{\"B\": \"\"}");
}

static void test_case_folding_unicode(void **state) {
  (void)state;
  const char *r = RULE("  s: {A|contains: 'ÄÖÜ', B: 'ΑΒΓ', C: 'ПРИВЕТ'}\n  condition: s\n");
  YES(r, "{\"A\": \"x äöü y\", \"B\": \"αβγ\", \"C\": \"привет\"}");
  NO(r, "{\"A\": \"x aou y\", \"B\": \"αβγ\", \"C\": \"привет\"}");
  char out[64];
  sg_fold(out, "ABCDEFGHijklMNOP\xc3\x84Z", 19);
  assert_memory_equal(out, "abcdefghijklmnop\xc3\xa4z", 19);
}

static void test_cased(void **state) {
  (void)state;
  const char *r = RULE("  s: {A|cased: Mimikatz}\n  condition: s\n");
  YES(r, "{\"A\": \"Mimikatz\"}");
  NO(r, "{\"A\": \"mimikatz\"}");
  r = RULE("  s: {A|contains|cased: 'Evil Tool'}\n  condition: s\n");
  YES(r, "{\"A\": \"run Evil Tool now\"}");
  NO(r, "{\"A\": \"run evil tool now\"}");
}

static void test_numbers(void **state) {
  (void)state;
  const char *r = RULE("  s: {EventID: 4688}\n  condition: s\n");
  YES(r, "{\"EventID\": 4688}");
  YES(r, "{\"EventID\": \"4688\"}");
  NO(r, "{\"EventID\": 4689}");
  r = RULE("  s: {EventID: '4688'}\n  condition: s\n");
  YES(r, "{\"EventID\": 4688}");
  r = RULE("  s: {A|gt: 10, B|lte: 2.5, C|lt: -1, D|gte: 0}\n  condition: s\n");
  YES(r, "{\"A\": \"11\", \"B\": 2.5, \"C\": -3, \"D\": 0}");
  NO(r, "{\"A\": 10, \"B\": 2.5, \"C\": -3, \"D\": 0}");
  NO(r, "{\"A\": \"abc\", \"B\": 2.5, \"C\": -3, \"D\": 0}");
}

static void test_null_exists_bool(void **state) {
  (void)state;
  const char *r = RULE("  s: {A: null}\n  condition: s\n");
  YES(r, "{\"B\": 1}");
  YES(r, "{\"A\": null}");
  NO(r, "{\"A\": \"\"}");
  r = RULE("  s: {A|exists: true}\n  t: {B|exists: false}\n  condition: s and t\n");
  YES(r, "{\"A\": null}");
  NO(r, "{\"A\": 1, \"B\": 2}");
  r = RULE("  s: {A: true}\n  condition: s\n");
  YES(r, "{\"A\": true}");
  YES(r, "{\"A\": \"True\"}");
  NO(r, "{\"A\": false}");
}

static void test_regex(void **state) {
  (void)state;
  const char *r = RULE("  s: {A|re: 'ev[il]+\\d'}\n  condition: s\n");
  YES(r, "{\"A\": \"xx evil1 yy\"}");
  NO(r, "{\"A\": \"xx EVIL1 yy\"}");
  r = RULE("  s: {A|re|i: '^ev[il]+$'}\n  condition: s\n");
  YES(r, "{\"A\": \"EVIL\"}");
  r = RULE("  s: {A|re|s: 'a.b'}\n  condition: s\n");
  YES(r, "{\"A\": \"a\\nb\"}");
  NO(RULE("  s: {A|re: 'a.b'}\n  condition: s\n"), "{\"A\": \"a\\nb\"}");
}

static void test_cidr(void **state) {
  (void)state;
  const char *r = RULE("  s: {Ip|cidr: [10.0.0.0/8, 'fe80::/10']}\n  condition: s\n");
  YES(r, "{\"Ip\": \"10.1.2.3\"}");
  YES(r, "{\"Ip\": \"fe80::1\"}");
  YES(r, "{\"Ip\": \"::ffff:10.9.9.9\"}");
  NO(r, "{\"Ip\": \"11.0.0.1\"}");
  NO(r, "{\"Ip\": \"not an ip\"}");
}

static void test_fieldref(void **state) {
  (void)state;
  const char *r = RULE("  s: {A|fieldref: B}\n  condition: s\n");
  YES(r, "{\"A\": \"Admin\", \"B\": \"admin\"}");
  NO(r, "{\"A\": \"Admin\", \"B\": \"root\"}");
  NO(r, "{\"A\": \"Admin\"}");
  YES(RULE("  s: {A|fieldref|endswith: B}\n  condition: s\n"),
      "{\"A\": \"C:\\\\x\\\\app.exe\", \"B\": \"APP.EXE\"}");
  YES(RULE("  s: {A|fieldref|contains: B}\n  condition: s\n"), "{\"A\": \"abcdef\", \"B\": \"cde\"}");
}

static void test_keywords(void **state) {
  (void)state;
  const char *r = RULE("  kw: ['mimikatz', 'sekurlsa::']\n  condition: kw\n");
  YES(r, "{\"a\": {\"b\": \"run Mimikatz.exe\"}}");
  YES(r, "{\"x\": [1, \"SEKURLSA::logonpasswords\"]}");
  NO(r, "{\"mimikatz\": \"field names are not searched\"}");
  YES(RULE("  kw: [dir]\n  condition: kw\n"), "{\"cmd\": \"DIR c:\"}");
  YES(RULE("  kw: {'|all': [abc, def]}\n  condition: kw\n"), "{\"a\": \"abc\", \"b\": \"xdefx\"}");
  NO(RULE("  kw: {'|all': [abc, def]}\n  condition: kw\n"), "{\"a\": \"abc\"}");
}

static void test_timestamp_parts(void **state) {
  (void)state;
  const char *r = RULE("  s: {ts|hour|gte: 22, ts|month: 12}\n  condition: s\n");
  YES(r, "{\"ts\": \"2023-12-01T23:10:00Z\"}");
  NO(r, "{\"ts\": \"2023-12-01T21:10:00Z\"}");
  NO(r, "{\"ts\": \"not a time\"}");
}

static void test_encodings_and_all(void **state) {
  (void)state;
  const char *r = RULE("  s: {CommandLine|base64offset|contains: 'powershell'}\n  condition: s\n");
  YES(r, "{\"CommandLine\": \"x cG93ZXJzaGVsbA== y\"}");
  YES(r, "{\"CommandLine\": \"x IHBvd2Vyc2hlbGw= y\"}");
  r = RULE("  s: {CommandLine|windash|contains: ' -enc '}\n  condition: s\n");
  YES(r, "{\"CommandLine\": \"powershell /enc AAAA\"}");
  YES(r, "{\"CommandLine\": \"powershell \xe2\x80\x93"
         "enc AAAA\"}");
  r = RULE("  s: {A|contains|all: [x1, y2]}\n  condition: s\n");
  YES(r, "{\"A\": \"..y2..x1..\"}");
  NO(r, "{\"A\": \"..y2..\"}");
  r = RULE("  s: {A|neq: [1, 2]}\n  condition: s\n");
  YES(r, "{\"A\": 3}");
  NO(r, "{\"A\": 2}");
}

static void test_evtx_shape(void **state) {
  (void)state;
  const char *ev =
      "{\"Event\":{\"System\":{\"Provider\":{\"#attributes\":{\"Name\":\"Microsoft-Windows-Sysmon\"}},"
      "\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"},"
      "\"EventData\":{\"Image\":\"C:\\\\Windows\\\\System32\\\\whoami.exe\",\"Data\":{\"#text\":[\"a\",\"b\"]"
      "},"
      "\"Threat Name\":\"Tool:EICAR\"}}}";
  const char *r =
      "title: t\nlogsource: {category: process_creation, product: windows}\ndetection:\n"
      "  s: {Image|endswith: '\\whoami.exe', Provider_Name: Microsoft-Windows-Sysmon}\n  condition: s\n";
  assert_int_equal(matches(r, ev, true), 1);
  /* the evtx pipeline restricts a process_creation rule to Sysmon 1 / Security 4688 */
  const char *ev11 =
      "{\"Event\":{\"System\":{\"EventID\":11,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"},"
      "\"EventData\":{\"Image\":\"C:\\\\whoami.exe\"}}}";
  assert_int_equal(matches(r, ev11, true), 0);
  /* full paths, #text, names without spaces */
  const char *paths = "detection:\n  s: {Event.System.EventID: 1, Data: b, ThreatName|endswith: EICAR}\n"
                      "  condition: s\n";
  char rule[512];
  snprintf(rule, sizeof rule, "title: t\nlogsource: {product: windows}\n%s", paths);
  YES(rule, ev);
  /* a rule for another product never fires on a Windows event, nor one with
   * no product whose category no pipeline maps for Windows (the log-source
   * model); with the evtx pipeline loaded, a product-less process_creation
   * rule applies (and is restricted to its events like the Windows one) */
  NO("title: t\nlogsource: {product: linux}\ndetection:\n  s: {Image|endswith: whoami.exe}\n  condition: s\n",
     ev);
  snprintf(rule, sizeof rule, "title: t\nlogsource: {category: database}\n%s", paths);
  NO(rule, ev);
  snprintf(rule, sizeof rule, "title: t\nlogsource: {category: process_creation}\n%s", paths);
  assert_int_equal(matches(rule, ev, false), 0);
  assert_int_equal(matches(rule, ev, true), 1);
  assert_int_equal(matches(rule, ev11, true), 0);
}

static void test_json_parsing(void **state) {
  (void)state;
  SgJDoc d = {0};
  size_t off;
  const char *err;
  const char *good = "{\"a\":\"x\\u00e9\\ud83d\\ude00\",\"b\":[1,2],\"c\":{\"#attributes\":{\"N\":\"v\"}}}";
  assert_true(sg_json_parse(&d, good, strlen(good), &off, &err));
  assert_int_equal(d.n, 4);
  assert_string_equal(d.text + d.leaves[0].val, "x\xc3\xa9\xf0\x9f\x98\x80");
  assert_string_equal(d.text + d.leaves[3].name, "c_N");
  assert_string_equal(d.text + d.leaves[3].path, "c.#attributes.N");
  static const char *const bad[] = {"{\"a\":}",    "{\"a\":1",   "{\"a\":\"x}", "{\"a\":tru}",
                                    "{\"a\":01x}", "{\"a\":1}}", "{a:1}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (sg_json_parse(&d, bad[i], strlen(bad[i]), &off, &err)) fail_msg("accepted %s", bad[i]);
  /* nesting limit */
  SgBuf deep = {0};
  for (int i = 0; i < 500; i++)
    sg_buf_cat(&deep, "{\"a\":");
  sg_buf_cat(&deep, "1");
  for (int i = 0; i < 500; i++)
    sg_buf_catc(&deep, '}');
  assert_false(sg_json_parse(&d, deep.data, deep.len, &off, &err));
  assert_string_equal(err, "nesting too deep");
  sg_buf_free(&deep);
  /* duplicate keys: both values are kept and both can match */
  const char *dup = "{\"A\":\"one\",\"A\":\"two\"}";
  assert_true(sg_json_parse(&d, dup, strlen(dup), &off, &err));
  assert_int_equal(d.n, 2);
  YES(RULE("  s: {A: two}\n  condition: s\n"), dup);
  /* invalid UTF-8 and huge strings do not break matching */
  YES(RULE("  s: {A|contains: abc}\n  condition: s\n"), "{\"A\": \"\xff\xfe abc \xc3\"}");
  SgBuf huge = {0};
  sg_buf_cat(&huge, "{\"A\": \"");
  for (int i = 0; i < 200000; i++)
    sg_buf_cat(&huge, "xxxxx");
  sg_buf_cat(&huge, "needle\"}");
  YES(RULE("  s: {A|endswith: needle}\n  condition: s\n"), huge.data);
  sg_buf_free(&huge);
  sg_jdoc_free(&d);
}

/* The stream of `input` read with documents of at most max_doc bytes, as
 * "D<line>" for an event and "B<line>" for a skipped document, must be `want`. */
static void expect_stream(const char *input, size_t max_doc, const char *want, size_t i) {
  FILE *f = fmemopen((void *)input, strlen(input), "r");
  assert_non_null(f);
  SgEventIn in;
  sg_events_init(&in, f);
  in.rd.max_doc = max_doc;
  SgBuf got = {0};
  const char *text, *msg;
  size_t len, line;
  SgEvNext k;
  while ((k = sg_events_next(&in, &text, &len, &line, &msg)) != SG_EV_END)
    sg_buf_catf(&got, "%s%c%zu", got.len ? " " : "", k == SG_EV_EVENT ? 'D' : 'B', line);
  if (strcmp(sg_buf_cstr(&got), want)) fail_msg("case %zu: got '%s', want '%s'", i, got.data, want);
  sg_buf_free(&got);
  sg_events_free(&in);
  fclose(f);
}

/* Events of a stream: shapes, line numbers, malformed documents. Reading
 * goes on after a bad document (the next line for JSON lines, the next
 * object otherwise), so one bad document never loses the events after it. */
static void test_stream_shapes(void **state) {
  (void)state;
  static const struct {
    const char *input;
    const char *want; /* D = event at line N, B = skipped document at line N */
  } cases[] = {
      {"{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n", "D1 D2 D4"},
      {"[{\"a\":1},\n {\"a\":2}]", "D1 D2"},
      {"{\n \"a\": 1\n}\n{\n \"a\": 2\n}", "D1 D4"},
      {"{\"a\":1}{\"a\":2}", "D1 D1"},
      {"{\"a\":1}\nnot json\n{\"a\":2\n{\"a\":3}\n", "D1 B2 B3 D4"},
      {"{\n\"a\":1\n}\n{\n\"a\":2\n", "D1 B4"},
      {"{\"a\":1}\n{\"a\":\"unterminated", "D1 B2"},
      /* a bad first line (unclosed) does not swallow the lines after it */
      {"{\"a\":1\n{\"a\":2}\n{\"a\":3}\n", "B1 D2 D3"},
      {"{\"a\":}\n{\"a\":2}\n", "B1 D2"},
      /* pretty-printed: a bad object, then an unclosed one, then a good one */
      {"{\n \"a\": ,\n}\n{\n \"a\": 1\n{\n \"a\": 2\n}\n", "B2 B4 D6"},
      /* objects concatenated on one line of JSON lines input */
      {"{\"a\":1}\n{\"a\":2}{\"a\":3} {\"a\":4}\n{\"a\":5}\n", "D1 D2 D2 D2 D3"},
      {"{\"a\":1}\n{\"a\":2}{\"a\":}{\"a\":3}\n{\"a\":4}\n", "D1 D2 B2 D3"},
      /* a UTF-8 byte order mark is not an event */
      {"\xEF\xBB\xBF{\"a\":1}\n{\"a\":2}\n", "D1 D2"},
      /* CR-only and CRLF line ends */
      {"{\"a\":1}\r{\"a\":2}\rbad\r{\"a\":3}\r", "D1 D2 B3 D4"},
      {"{\"a\":1}\r\n\r\n{\"a\":2}\r\nbad\r\n{\"a\":3}", "D1 D3 B4 D5"},
      {"{\r\n \"a\": 1\r\n}\r\n{\r\n \"a\": 2\r\n}\r\n", "D1 D4"},
      /* arrays count towards the nesting limit like objects */
      {"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
       "[[[[[[[[[["
       "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
       "]]]]]]]]]]]"
       "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n{\"a\":2}\n",
       "B1 D2"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    expect_stream(cases[i].input, SG_JSON_MAX_DOC, cases[i].want, i);
}

/* The document size limit is exact, in both reading modes. */
static void test_stream_size_limit(void **state) {
  (void)state;
  static const char *const inputs[] = {"{\"a\":\"12\"}\n{\"a\":\"123\"}\n{\"a\":\"1\"}\n",
                                       "{\n\"a\":\"1\"}\n{\n\"a\":\"12\"}\n{\n\"a\":\"1\"}\n"};
  static const char *const want[] = {"D1 B2 D3", "D1 B3 D5"};
  for (size_t i = 0; i < 2; i++)
    expect_stream(inputs[i], 10, want[i], i); /* {"a":"12"} is 10 bytes; so is {\n"a":"1"} */
}

/* Exit codes and messages of eval on bad input: nothing is lost silently. */
static void test_cli_bad_input(void **state) {
  (void)state;
  static const struct {
    const char *setup; /* shell that writes $E (the events) */
    int rc;
    const char *out, *err; /* must occur in stdout / stderr */
  } cases[] = {
      {"printf '{\"A\":\"hit\"}\\n' > $E", 0, "\"A\":\"hit\"", ""},
      {"printf 'junk\\n{\"A\":' > $E", 3, "", "no event was read"},
      {": > $E", 3, "", "no event was read"},
      {"printf '{\"A\":\"hit\"}\\n{oops\\n' > $E", 3, "\"line\":1", ":2: error: malformed JSON event"},
      {"mkdir -p $E.d; E=$E.d", 2, "", "the directory holds no files"}, /* directories are walked */
      {"E=/nonexistent/events.json", 2, "", "cannot read the events file"},
      /* invalid UTF-8 is replaced in the output, which stays JSON */
      {"printf '{\"A\":\"hit\",\"B\":\"\\377x\"}\\n' > $E", 0, "\"B\":\"\\ufffdx\"", ""},
      /* 100,000 nested arrays: skipped, not a crash; the next event still matches */
      {"python3 -c \"print('{\\\"B\\\":' + '['*100000 + ']'*100000 + '}'); "
       "print('{\\\"A\\\":\\\"hit\\\"}')\" > $E",
       3, "\"line\":2", "nesting too deep"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char cmd[2048];
    snprintf(
        cmd, sizeof cmd,
        "E=$(mktemp); printf 'title: t\\nlogsource: {product: x}\\ndetection:\\n  s: {A: hit}\\n  condition: "
        "s\\n' > $E.yml; R=$E.yml; %s; '%s' eval -r $R $E 2>$R.err; echo \"rc=$?\"; cat $R.err; "
        "rm -rf $R $R.err $E $E.d",
        cases[i].setup, SIGMACC_BIN);
    int rc;
    char *out = run(cmd, &rc);
    char want[16];
    snprintf(want, sizeof want, "rc=%d\n", cases[i].rc);
    if (!strstr(out, want) || !strstr(out, cases[i].out) || !strstr(out, cases[i].err))
      fail_msg("case %zu: want %s with '%s' and '%s', got:\n%s", i, want, cases[i].out, cases[i].err, out);
    for (const char *p = out; *p; p++)
      if ((unsigned char)*p >= 0x80 && !sg_utf8_len(p, strlen(p)))
        fail_msg("case %zu: invalid UTF-8 in %s", i, out);
    free(out);
  }
}

/* Wildcards: the matcher agrees with a dynamic-programming reference on every
 * small pattern and value over {a, b, é}, and the worst cases stay fast: the
 * recursive matcher took 28 s on the CrackMapExec patterns against a 4 KB
 * command line, minutes on a 200-byte value and overflowed the stack on a
 * 400 KB one. */
static bool ref_glob(const char *p, const char *s) {
  /* characters: 'a', 'b', 'E' (é, two bytes in the event), '*', '?' */
  size_t np = strlen(p), ns = strlen(s);
  bool *row = calloc(ns + 1, 1), *next = calloc(ns + 1, 1);
  row[0] = true;
  for (size_t i = 0; i < np; i++) {
    memset(next, 0, ns + 1);
    for (size_t j = 0; j <= ns; j++) {
      if (p[i] == '*')
        next[j] = row[j] || (j && next[j - 1]);
      else if (j && row[j - 1])
        next[j] = p[i] == '?' || p[i] == s[j - 1];
    }
    bool *t = row;
    row = next;
    next = t;
  }
  bool r = row[ns];
  free(row);
  free(next);
  return r;
}

static void utf8_of(SgBuf *b, const char *s) {
  for (; *s; s++)
    if (*s == 'E')
      sg_buf_cat(b, "\xc3\xa9");
    else
      sg_buf_catc(b, *s);
}

static void test_glob_property_and_worst_cases(void **state) {
  (void)state;
  const char alpha_p[] = "abE*?*", alpha_s[] = "abE";
  unsigned seed = 7;
  for (int t = 0; t < 600; t++) {
    char p[8], s[10];
    int np = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 6;
    int ns = (int)((seed = seed * 1103515245 + 12345) >> 16) % 9;
    for (int i = 0; i < np; i++)
      p[i] = alpha_p[((seed = seed * 1103515245 + 12345) >> 16) % 6];
    for (int i = 0; i < ns; i++)
      s[i] = alpha_s[((seed = seed * 1103515245 + 12345) >> 16) % 3];
    p[np] = s[ns] = 0;
    SgBuf rule = {0}, ev = {0};
    sg_buf_cat(&rule, "title: t\nlogsource: {product: test}\ndetection:\n  s: {A: '");
    utf8_of(&rule, p);
    sg_buf_cat(&rule, "'}\n  condition: s\n");
    sg_buf_cat(&ev, "{\"A\": \"");
    utf8_of(&ev, s);
    sg_buf_cat(&ev, "\"}");
    if (matches(rule.data, ev.data, false) != ref_glob(p, s)) fail_msg("pattern '%s' on '%s'", p, s);
    sg_buf_free(&rule);
    sg_buf_free(&ev);
  }
  /* a 32 KB command line of near misses against many stars */
  SgBuf ev = {0}, rule = {0};
  sg_buf_cat(&ev, "{\"A\": \"");
  for (int i = 0; i < 32768; i++)
    sg_buf_catc(&ev, i % 2 ? ' ' : '-');
  sg_buf_cat(&ev, "\"}");
  YES(RULE("  s: {A: '*-*-*-*-*-*-*-*-*-*-*-*-*'}\n  condition: s\n"), ev.data);
  NO(RULE("  s: {A: '*-*-*-*-*-*-*-*-*-*-*-*-*-x*'}\n  condition: s\n"), ev.data);
  NO(RULE("  s: {A: '* -?-*- -*-?-x* *'}\n  condition: s\n"), ev.data);
  /* a 400 KB value of stars and letters */
  sg_buf_cat(&rule, "title: t\nlogsource: {product: test}\ndetection:\n  s: {A: '");
  for (int i = 0; i < 200000; i++)
    sg_buf_cat(&rule, "*-");
  sg_buf_cat(&rule, "'}\n  condition: s\n");
  NO(rule.data, ev.data);
  sg_buf_free(&ev);
  sg_buf_free(&rule);
}

/* An events folder holding a FIFO is read without blocking (the FIFO passed
 * over with W092); a closed stdin says so; a folder nested too deep names
 * itself (the walker freed the path its diagnostic pointed to). */
static void test_cli_special_files(void **state) {
  (void)state;
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "d=$(mktemp -d); mkdir $d/ev; mkfifo $d/ev/pipe; echo '{\"A\":\"x\"}' > $d/ev/a.json; "
           "printf 'title: t\\nlogsource: {product: x}\\ndetection:\\n  s: {A: x}\\n  condition: s\\n' > "
           "$d/r.yml; "
           "timeout 20 '%s' eval -r $d/r.yml $d/ev 2>&1 | sed \"s#$d#D#g\"; echo \"rc=$?\"; "
           "timeout 20 '%s' eval -r $d/r.yml <&- 2>&1; echo \"rc=$?\"; "
           "p=$d/deep; for i in $(seq 34); do p=$p/d; done; mkdir -p $p; cp $d/r.yml $d/deep/; "
           "'%s' convert -t splunk --without-pipeline $d/deep 2>&1 >/dev/null | sed \"s#$d#D#g\"; rm -rf $d",
           SIGMACC_BIN, SIGMACC_BIN, SIGMACC_BIN);
  int rc;
  char *out = run(cmd, &rc);
  if (!strstr(out, "\"path\":\"D/ev/a.json\"") ||
      !strstr(out, "D/ev/pipe: warning[W092]: not a regular file") || !strstr(out, "rc=0\n") ||
      !strstr(out, "-: error[E001]: cannot read the events file: standard input is closed") ||
      !strstr(
          out,
          "D/deep/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d: error[E001]: directory "
          "nested deeper than 32 levels"))
    fail_msg("special files:\n%s", out);
  free(out);
}

/* Regex limits: real rules need a JIT stack larger than PCRE2's default, and
 * a match PCRE2 cannot finish is reported as undecided, never a non-match. */
static void test_regex_limits(void **state) {
  (void)state;
  SgBuf ev = {0};
  sg_buf_cat(&ev, "{\"A\": \"file ");
  for (int i = 0; i < 2000; i++)
    sg_buf_catc(&ev, 'x');
  sg_buf_cat(&ev, "\"}");
  /* proc_creation_lnx_file_and_directory_discovery.yml's regex */
  YES(RULE("  s: {A|re: '(.){200,}'}\n  condition: s\n"), ev.data);
  sg_buf_free(&ev);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "d=$(mktemp -d); printf 'title: slow\\nlogsource: {product: x}\\ndetection:\\n  s: {A|re: "
           "\"(a|aa)+$\"}\\n"
           "  condition: s\\n' > $d/r.yml; python3 -c \"print('{\\\"A\\\":\\\"' + 'a'*5000 + 'b\\\"}')\" > "
           "$d/e.json; "
           "'%s' eval --stats -r $d/r.yml $d/e.json 2>&1; echo \"rc=$?\"; rm -rf $d",
           SIGMACC_BIN);
  int rc;
  char *out = run(cmd, &rc);
  if (!strstr(out, "e.json:1: error: rule 'slow'") ||
      !strstr(out, "could not be decided (match limit exceeded)") || !strstr(out, "undecided 1") ||
      !strstr(out, "rc=3"))
    fail_msg("undecided regex not reported:\n%s", out);
  free(out);
}

/* Correlation state follows the groups alive in their window: 100,000
 * distinct group-by values, one a minute against a 5-minute timespan, leave
 * a bounded table (it held every group before). */
static void test_corr_memory_bound(void **state) {
  (void)state;
  const char *src = "title: logon\nname: logon\nlogsource: {product: x}\ndetection:\n  s: {A: hit}\n"
                    "  condition: s\n---\ntitle: burst\ncorrelation:\n  type: event_count\n  rules: [logon]\n"
                    "  group-by: [Ip]\n  timespan: 5m\n  condition: {gte: 1000}\n";
  size_t n = strlen(src);
  char *copy = malloc(n + 1);
  memcpy(copy, src, n + 1);
  SgUnit u;
  SgDiags d = {0};
  assert_int_equal(sg_compile_source(&u, "c.yml", copy, n, &d), SG_OK);
  SgEvaluator *e = sg_eval_new();
  SgCorrelator *co = sg_corr_new();
  assert_int_equal(sg_eval_add(e, u.rules[0], &d), SG_OK);
  assert_int_equal(sg_eval_prepare(e), SG_OK);
  const SgRule *refs[] = {u.rules[0]};
  assert_int_equal(sg_corr_add(co, u.rules[1], refs, &d), SG_OK);
  SgJDoc doc = {0};
  size_t most = 0;
  for (int i = 0; i < 100000; i++) {
    char ev[160];
    snprintf(ev, sizeof ev,
             "{\"A\":\"hit\",\"Ip\":\"10.%d.%d.%d\",\"@timestamp\":\"2026-01-%02dT%02d:%02d:00Z\"}", i >> 16,
             (i >> 8) & 255, i & 255, 1 + i / 1440, (i / 60) % 24, i % 60);
    size_t off, nh;
    const char *err;
    const SgEvalHit *hits;
    const SgCorrHit *ch;
    assert_true(sg_json_parse(&doc, ev, strlen(ev), &off, &err));
    assert_int_equal(sg_eval_event(e, &doc, &hits, &nh), SG_OK);
    assert_int_equal(nh, 1);
    size_t nc;
    assert_int_equal(sg_corr_event(co, &doc, hits, nh, &ch, &nc), SG_OK);
    assert_int_equal(nc, 0);
    if (sg_corr_groups(co) > most) most = sg_corr_groups(co);
  }
  if (most > 2 * SG_CORR_SWEEP_MIN) fail_msg("%zu groups held for 5 alive", most);
  sg_jdoc_free(&doc);
  sg_corr_free(co);
  sg_eval_free(e);
  sg_unit_free(&u);
  sg_diags_free(&d);
}

/* Feed `events` ({"R":rule index,"t":seconds,"V":value,"G":group}) to the
 * correlation of `src` (rules a, b, c matching R=a, R=b, R=c, then the
 * correlation); the number of times it fired, the last aggregate in *last. */
static size_t corr_run(const char *corr, const char *const *events, size_t nevents, int repeat,
                       double *last) {
  SgBuf src = {0};
  const char *names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++)
    sg_buf_catf(
        &src, "title: %s\nname: %s\nlogsource: {product: x}\ndetection:\n  s: {R: %s}\n  condition: s\n---\n",
        names[i], names[i], names[i]);
  sg_buf_cat(&src, corr);
  SgUnit u;
  SgDiags d = {0};
  size_t n = src.len;
  sg_buf_cstr(&src);
  if (sg_compile_source(&u, "c.yml", src.data, n, &d) != SG_OK || d.nerrors) fail_msg("does not compile");
  src = (SgBuf){0}; /* the unit owns the text */
  SgEvaluator *e = sg_eval_new();
  SgCorrelator *co = sg_corr_new();
  for (int i = 0; i < 3; i++)
    assert_int_equal(sg_eval_add(e, u.rules[i], &d), SG_OK);
  assert_int_equal(sg_eval_prepare(e), SG_OK);
  const SgRule *refs[3];
  const SgCorrelation *k = u.rules[3]->corr;
  for (size_t i = 0; i < k->rules.n; i++)
    refs[i] = u.rules[k->rules.v[i][0] - 'a'];
  assert_int_equal(sg_corr_add(co, u.rules[3], refs, &d), SG_OK);
  SgJDoc doc = {0};
  size_t fired = 0;
  for (int rep = 0; rep < repeat; rep++)
    for (size_t i = 0; i < nevents; i++) {
      char ev[256];
      snprintf(ev, sizeof ev, events[i], rep, rep);
      size_t off, nh, nc;
      const char *err;
      const SgEvalHit *hits;
      const SgCorrHit *ch;
      if (!sg_json_parse(&doc, ev, strlen(ev), &off, &err)) fail_msg("bad event %s", ev);
      assert_int_equal(sg_eval_event(e, &doc, &hits, &nh), SG_OK);
      assert_int_equal(sg_corr_event(co, &doc, hits, nh, &ch, &nc), SG_OK);
      fired += nc;
      if (nc && last) *last = ch[nc - 1].value;
    }
  const SgCorrHit *ch; /* the end of the input: windows decided when they end */
  size_t nc;
  assert_int_equal(sg_corr_finish(co, &ch, &nc), SG_OK);
  fired += nc;
  if (nc && last) *last = ch[nc - 1].value;
  sg_jdoc_free(&doc);
  sg_corr_free(co);
  sg_eval_free(e);
  sg_unit_free(&u);
  sg_diags_free(&d);
  sg_buf_free(&src);
  return fired;
}

#define EV(r, sec, v)                                                                                        \
  "{\"R\":\"" r "\",\"G\":\"g\",\"V\":\"" v "\",\"@timestamp\":\"2026-01-01T00:00:" sec "Z\"}"

/* eval's window slides; Splunk's `bin _time span=...` counts in fixed buckets
 * (W071 says so at every SPL correlation): two matches a minute apart that
 * straddle a 5-minute boundary are one window to eval, two buckets to SPL. */
static void test_corr_window_slides(void **state) {
  (void)state;
  const char *two = "title: w\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [G]\n"
                    "  timespan: 5m\n  condition: {gte: 2}\n";
  const char *straddle[] = {"{\"R\":\"a\",\"G\":\"g\",\"@timestamp\":\"2026-01-01T00:04:30Z\"}",
                            "{\"R\":\"a\",\"G\":\"g\",\"@timestamp\":\"2026-01-01T00:05:30Z\"}"};
  assert_int_equal(corr_run(two, straddle, 2, 1, NULL), 1);
  /* 5 minutes and a second apart: outside the window */
  const char *apart[] = {"{\"R\":\"a\",\"G\":\"g\",\"@timestamp\":\"2026-01-01T00:00:00Z\"}",
                         "{\"R\":\"a\",\"G\":\"g\",\"@timestamp\":\"2026-01-01T00:05:01Z\"}"};
  assert_int_equal(corr_run(two, apart, 2, 1, NULL), 0);
}

/* lt, lte, eq and neq are decided when a group's window (the timespan from
 * its first match) ends: at the group's next match after it, or at the end of
 * the input; gt and gte as matches arrive. */
static void test_corr_window_end(void **state) {
  (void)state;
#define AT(g, t) "{\"R\":\"a\",\"G\":\"" g "\",\"@timestamp\":\"2026-01-01T00:" t "Z\"}"
  const char *evs[] = {AT("x", "00:00"), AT("y", "00:10"), AT("y", "00:20"), AT("y", "00:30"),
                       AT("x", "07:00")};
  static const struct {
    const char *cond;
    size_t fired; /* windows: x [1] (ended by x at 07:00), y [3] and x [1] (ended by the input) */
    double last;
  } cases[] = {{"{lt: 3}", 2, 1},  {"{lte: 3}", 3, 1},        {"{eq: 3}", 1, 3},
               {"{neq: 1}", 1, 3}, {"{gte: 2, lt: 4}", 1, 3}, {"{lt: 1}", 0, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char corr[256];
    snprintf(corr, sizeof corr,
             "title: w\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [G]\n  timespan: 5m\n"
             "  condition: %s\n",
             cases[i].cond);
    double last = 0;
    size_t fired = corr_run(corr, evs, 5, 1, &last);
    if (fired != cases[i].fired || (fired && last != cases[i].last))
      fail_msg("%s: fired %zu (want %zu), last %g (want %g)", cases[i].cond, fired, cases[i].fired, last,
               cases[i].last);
  }
#undef AT
}

/* temporal_ordered with a condition keeps the order (it fired on events in
 * reverse order); a rule under `not` must be absent. */
static void test_corr_ordered_condition(void **state) {
  (void)state;
  const char *ordered = "title: o\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b]\n  group-by: [G]\n"
                        "  timespan: 1m\n  condition: a and b\n";
  const char *fwd[] = {EV("a", "01", "x"), EV("b", "02", "x")},
             *rev[] = {EV("b", "01", "x"), EV("a", "02", "x")};
  assert_int_equal(corr_run(ordered, fwd, 2, 1, NULL), 1);
  assert_int_equal(corr_run(ordered, rev, 2, 1, NULL), 0);
  const char *plain = "title: o\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b]\n  group-by: [G]\n"
                      "  timespan: 1m\n";
  assert_int_equal(corr_run(plain, fwd, 2, 1, NULL), 1);
  assert_int_equal(corr_run(plain, rev, 2, 1, NULL), 0);
  const char *nots = "title: o\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b, c]\n  group-by: [G]\n"
                     "  timespan: 1m\n  condition: a and b and not c\n";
  const char *withc[] = {EV("c", "00", "x"), EV("a", "01", "x"), EV("b", "02", "x")};
  assert_int_equal(corr_run(nots, withc + 1, 2, 1, NULL), 1);
  assert_int_equal(corr_run(nots, withc, 3, 1, NULL), 0);
  /* a correlation's condition takes AND, OR and NOT in capitals too, as the specification writes them */
  const char *upper =
      "title: o\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b, c]\n  group-by: [G]\n"
      "  timespan: 1m\n  condition: a AND b AND NOT c\n";
  assert_int_equal(corr_run(upper, withc + 1, 2, 1, NULL), 1);
  assert_int_equal(corr_run(upper, withc, 3, 1, NULL), 0);
  /* b, a, b: the second b comes after a */
  const char *bab[] = {EV("b", "01", "x"), EV("a", "02", "x"), EV("b", "03", "x")};
  assert_int_equal(corr_run(ordered, bab, 3, 1, NULL), 1);
}

/* The aggregates against a direct computation, and windows of 100,000
 * matches in one group in linear time (value_count compared every pair,
 * the median sorted the window at each match). */
static void test_corr_aggregates_scale(void **state) {
  (void)state;
  const char *median = "title: m\ncorrelation:\n  type: value_median\n  rules: [a]\n  group-by: [G]\n"
                       "  timespan: 1h\n  condition: {gte: 1000000, field: V}\n";
  const char *evs[] = {EV("a", "01", "5"), EV("a", "02", "1"), EV("a", "03", "x"), EV("a", "04", "9"),
                       EV("a", "05", "3")};
  double last = 0;
  const char *med4 = "title: m\ncorrelation:\n  type: value_median\n  rules: [a]\n  group-by: [G]\n"
                     "  timespan: 1h\n  condition: {gte: 8, field: V}\n";
  const char *med[] = {EV("a", "01", "1"), EV("a", "02", "10"), EV("a", "03", "x"),
                       EV("a", "04", "2"), EV("a", "05", "9"),  EV("a", "06", "8")};
  assert_int_equal(corr_run(med4, med, 6, 1, &last), 1); /* medians 1, 5.5, 2, 5.5, then 8 of 1 2 8 9 10 */
  assert_true(last == 8);
  assert_int_equal(corr_run(median, evs, 5, 1, NULL), 0);
  /* value_percentile (pySigma's condition.percentile), between the closest ranks: the 90th of
   * 1 2 9 10 is at rank 0.9 * 3 = 2.7, 9 + 0.7 * (10 - 9) = 9.7 */
  const char *p90 = "title: p\ncorrelation:\n  type: value_percentile\n  rules: [a]\n  group-by: [G]\n"
                    "  timespan: 1h\n  condition: {gte: 9.5, field: V, percentile: 90}\n";
  assert_int_equal(corr_run(p90, med, 6, 1, &last), 1); /* 90th: 1, 9.1, 9.1, 8.4 (1 2 10), 9.7; then 8 */
  assert_true(last > 9.69 && last < 9.71);
  /* value_count over two fields (Sigma 2.1): distinct pairs; an event lacking one is not counted */
  const char *pairs = "title: v\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [G]\n"
                      "  timespan: 1h\n  condition: {gte: 3, field: [V, W]}\n";
  const char *pev[] = {
      "{\"R\":\"a\",\"G\":\"g\",\"V\":\"1\",\"W\":\"x\",\"@timestamp\":\"2026-01-01T00:00:01Z\"}",
      "{\"R\":\"a\",\"G\":\"g\",\"V\":\"1\",\"W\":\"y\",\"@timestamp\":\"2026-01-01T00:00:02Z\"}",
      "{\"R\":\"a\",\"G\":\"g\",\"V\":\"1\",\"W\":\"x\",\"@timestamp\":\"2026-01-01T00:00:03Z\"}",
      "{\"R\":\"a\",\"G\":\"g\",\"V\":\"2\",\"@timestamp\":\"2026-01-01T00:00:04Z\"}",
      "{\"R\":\"a\",\"G\":\"g\",\"V\":\"1,\\\"y\",\"W\":\"\",\"@timestamp\":\"2026-01-01T00:00:05Z\"}"};
  assert_int_equal(corr_run(pairs, pev, 4, 1, NULL), 0);  /* (1,x) (1,y) (1,x): 2; (2,-) not counted */
  assert_int_equal(corr_run(pairs, pev, 5, 1, &last), 1); /* ("1,\"y", "") is a third pair, not (1, y) */
  assert_true(last == 3);
  const char *sum = "title: s\ncorrelation:\n  type: value_sum\n  rules: [a]\n  group-by: [G]\n"
                    "  timespan: 1h\n  condition: {gte: 18, field: V}\n";
  assert_int_equal(corr_run(sum, evs, 5, 1, &last), 1);
  assert_true(last == 18);
  /* 100,000 matches of one group in a 1-hour window: value_count of 100,000
   * distinct values, the median and temporal over all of them */
  const char *big[] = {
      "{\"R\":\"a\",\"G\":\"g\",\"V\":\"v%d\",\"@timestamp\":\"2026-01-01T00:00:00Z\",\"n\":%d}"};
  const char *vc = "title: v\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [G]\n"
                   "  timespan: 1h\n  condition: {gte: 100000, field: V}\n";
  assert_int_equal(corr_run(vc, big, 1, 100000, &last), 1);
  assert_true(last == 100000);
  const char *bign[] = {
      "{\"R\":\"a\",\"G\":\"g\",\"V\":\"%d\",\"@timestamp\":\"2026-01-01T00:00:00Z\",\"n\":%d}"};
  assert_int_equal(corr_run(median, bign, 1, 100000, NULL), 0);
  const char *tmp = "title: t\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b]\n  group-by: [G]\n"
                    "  timespan: 1h\n  condition: a and b\n";
  assert_int_equal(corr_run(tmp, bign, 1, 100000, NULL), 0);
}

/* value_count against a direct count over the same sliding window, on a long
 * run of one group whose values come and go: the distinct table deletes
 * and reuses slots all the time (a reused slot once kept its old count, and
 * a value that had left the window was still counted). */
static void test_corr_value_count_slides(void **state) {
  (void)state;
  enum { N = 3000, SPAN = 60 };
  static char text[N][128];
  const char *evs[N];
  int t = 0, val[N], at[N];
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < N; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t += (int)(x % 20);
    at[i] = t;
    val[i] = (int)((x >> 20) % 12);
    snprintf(text[i], sizeof text[i],
             "{\"R\":\"a\",\"G\":\"g\",\"V\":\"v%d\",\"@timestamp\":\"2026-01-01T%02d:%02d:%02dZ\"}", val[i],
             t / 3600, t / 60 % 60, t % 60);
    evs[i] = text[i];
  }
  for (int need = 3; need <= 7; need += 2) {
    size_t want = 0; /* the window since the last hit, back to the newest time minus the timespan */
    double want_last = 0;
    for (int i = 0, lo = 0; i < N; i++) {
      while (at[lo] < at[i] - SPAN)
        lo++;
      bool seen[12] = {0};
      int dc = 0;
      for (int j = lo; j <= i; j++)
        dc += !seen[val[j]], seen[val[j]] = true;
      if (dc >= need) want++, want_last = dc, lo = i + 1;
    }
    char corr[256];
    snprintf(corr, sizeof corr,
             "title: v\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [G]\n  timespan: 1m\n"
             "  condition: {gte: %d, field: V}\n",
             need);
    double last = 0;
    size_t fired = corr_run(corr, evs, N, 1, &last);
    if (fired != want || last != want_last)
      fail_msg("gte %d: eval fired %zu times (last %g), the direct count %zu (last %g)", need, fired, last,
               want, want_last);
  }
}

/* The CLI on a file with malformed lines: reported with file:line, skipped. */
static void test_cli_bad_lines(void **state) {
  (void)state;
  char path[] = "/tmp/sigmacc-events-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "{\"A\":\"hit\"}\n{broken\n{\"A\":\"miss\"}\n{\"A\":\"HIT\"}\n";
  assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
  close(fd);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "'%s' eval -r tests/ast/06_keyword_scalar.yml --fields A '%s' 2>&1 >/dev/null; "
           "printf 'title: t\\nlogsource: {product: x}\\ndetection:\\n  s: {A: hit}\\n  condition: s\\n' > "
           "'%s.yml'; "
           "'%s' eval --stats -r '%s.yml' --fields A '%s'",
           SIGMACC_BIN, path, path, SIGMACC_BIN, path, path);
  int rc;
  char *out = run(cmd, &rc);
  assert_int_equal(rc, 3); /* a document was skipped */
  assert_non_null(strstr(out, ":2: error: malformed JSON event"));
  assert_non_null(strstr(out, "\"line\":1,\"fields\":{\"A\":\"hit\"}"));
  assert_non_null(strstr(out, "\"line\":4,\"fields\":{\"A\":\"HIT\"}"));
  assert_null(strstr(out, "miss\"}}"));
  free(out);
  remove(path);
  snprintf(cmd, sizeof cmd, "%s.yml", path);
  remove(cmd);
}

/* `sigmacc eval ARGS` (stdout and stderr) on three process events. */
static char *eval_three(const char *args, int *rc) {
  static const char events[] =
      "printf '%s\\n' '{\"Image\":\"C:\\\\x\\\\whoami.exe\",\"User\":\"adm_bob\",\"Computer\":\"PC1\"}' "
      "'{\"Image\":\"C:\\\\x\\\\whoami.exe\",\"User\":\"alice\",\"Computer\":\"BUILD-7\"}' "
      "'{\"Image\":\"C:\\\\x\\\\whoami.exe\",\"User\":\"carol\",\"Computer\":\"PC2\"}'";
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s | '%s' eval --without-pipeline %s 2>&1", events, SIGMACC_BIN, args);
  return run(cmd, rc);
}

/* Sigma filters in eval, from --filter and from a filter document among the rules. */
static void test_cli_filters(void **state) {
  (void)state;
  int rc;
  /* the in-file filter drops BUILD-*; --filter drops adm_* */
  char *out =
      eval_three("-r tests/backend/s43_filter_in_file.yml --filter tests/backend/filters/not_admins.yml "
                 "--fields User",
                 &rc);
  assert_int_equal(rc, 0);
  assert_null(strstr(out, "adm_bob"));
  assert_null(strstr(out, "alice"));
  assert_non_null(strstr(out, "\"line\":3,\"fields\":{\"User\":\"carol\"}"));
  free(out);
  /* without the filters all three match */
  out = eval_three("-r tests/backend/s44_filter_option.yml --fields User", &rc);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "adm_bob"));
  assert_non_null(strstr(out, "alice"));
  assert_non_null(strstr(out, "carol"));
  free(out);
}

/* Correlation rules over timestamped events (tests/backend rule files). */
static void test_cli_correlations(void **state) {
  (void)state;
  char path[] = "/tmp/sigmacc-corr-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  /* lines 1-10: bob fails every minute from 10.0.0.5; 11-19: eve every 2 minutes, 20: eve
   * 14 minutes later; 21: bob logs on; 22: a failure without a time */
  for (int i = 0; i < 10; i++)
    fprintf(f,
            "{\"EventID\":4625,\"IpAddress\":\"10.0.0.5\",\"TargetUserName\":\"bob\","
            "\"@timestamp\":\"2026-11-28T10:%02d:00.250Z\"}\n",
            i);
  for (int i = 0; i < 9; i++)
    fprintf(f,
            "{\"EventID\":4625,\"IpAddress\":\"10.0.0.6\",\"TargetUserName\":\"eve\","
            "\"@timestamp\":\"2026-11-28T11:%02d:00Z\"}\n",
            2 * i);
  fputs("{\"EventID\":4625,\"IpAddress\":\"10.0.0.6\",\"TargetUserName\":\"eve\",\"@timestamp\":\"2026-11-"
        "28T11:30:00Z\"}\n"
        "{\"EventID\":4624,\"SubjectUserName\":\"bob\",\"@timestamp\":\"2026-11-28T12:12:00+02:00\"}\n"
        "{\"EventID\":4625,\"IpAddress\":\"10.0.0.7\",\"TargetUserName\":\"tim\"}\n",
        f);
  fclose(f);
  char cmd[1024];
  int rc;
  /* event_count >= 10 in 15m by IpAddress, TargetUserName: bob's tenth failure, once; eve's
   * failures never reach ten within 15 minutes; the referenced rule's matches are not shown */
  snprintf(cmd, sizeof cmd,
           "'%s' eval --without-pipeline -r tests/backend/s36_corr_event_count.yml '%s' 2>/dev/null",
           SIGMACC_BIN, path);
  char *out = run(cmd, &rc);
  char want[2048];
  snprintf(want, sizeof want,
           "{\"correlation\":{\"id\":null,\"title\":\"Many failed logons\",\"level\":\"medium\",\"type\":"
           "\"event_count\"},\"group\":{\"IpAddress\":\"10.0.0.5\",\"TargetUserName\":\"bob\"},\"value\":10,"
           "\"matches\":10,\"first\":\"2026-11-28T10:00:00.250Z\",\"last\":\"2026-11-28T10:09:00.250Z\","
           "\"path\":\"%s\",\"line\":10}\n",
           path);
  assert_int_equal(rc, 0);
  assert_string_equal(out, want);
  free(out);
  /* tim's failure has no time: said, not silently dropped */
  snprintf(cmd, sizeof cmd,
           "'%s' eval --without-pipeline -r tests/backend/s36_corr_event_count.yml '%s' 2>&1 >/dev/null",
           SIGMACC_BIN, path);
  out = run(cmd, &rc);
  assert_string_equal(out,
                      "sigmacc eval: warning: 1 match of correlated rules had no event time and were not "
                      "correlated\n");
  free(out);
  /* temporal over two rules, the alias `user` naming TargetUserName in one and
   * SubjectUserName in the other: bob's logon (10:12Z, written in +02:00) comes
   * within 10 minutes of his failures since 10:02 */
  snprintf(cmd, sizeof cmd,
           "'%s' eval --without-pipeline -r tests/backend/s38_corr_temporal.yml '%s' 2>/dev/null",
           SIGMACC_BIN, path);
  out = run(cmd, &rc);
  snprintf(
      want, sizeof want,
      "{\"correlation\":{\"id\":null,\"title\":\"Failure then success\",\"level\":null,\"type\":"
      "\"temporal\"},\"group\":{\"user\":\"bob\"},\"value\":2,\"matches\":9,\"first\":"
      "\"2026-11-28T10:02:00.250Z\",\"last\":\"2026-11-28T10:12:00.000Z\",\"path\":\"%s\",\"line\":21}\n",
      path);
  assert_int_equal(rc, 0);
  assert_string_equal(out, want);
  free(out);
  /* a "fewer than" threshold is decided when the window ends (test_corr_window_end): it loads */
  snprintf(cmd, sizeof cmd,
           "'%s' eval --without-pipeline -r tests/backend/s37_corr_value_count.yml '%s' 2>&1 >/dev/null",
           SIGMACC_BIN, path);
  out = run(cmd, &rc);
  assert_int_equal(rc, 0);
  assert_null(strstr(out, "error"));
  free(out);
  remove(path);
}

/* Every SigmaHQ regression event fires the rule its info.yml names. */
static void test_regression_events(void **state) {
  (void)state;
  const char *env = getenv("SIGMACC_CORPUS");
  char corpus[1024], ref[1100];
  snprintf(corpus, sizeof corpus, "%s", env ? env : SIGMACC_SOURCE_DIR "/../shared/sigmahq");
  snprintf(ref, sizeof ref, "%s/../reference/regression", corpus);
  struct stat st;
  if (stat(ref, &st) != 0) skip();
  char cmd[8192];
  snprintf(
      cmd, sizeof cmd,
      "cd '%s/..' && fail=0; n=0; "
      "find reference/regression -name '*.json' | sort | xargs cat > /tmp/sigmacc-reg-$$.json; "
      "'%s' eval -s -r sigmahq/rules -r sigmahq/rules-emerging-threats -r sigmahq/rules-threat-hunting "
      "-r sigmahq/rules-compliance -r sigmahq/rules-placeholder --fields EventID /tmp/sigmacc-reg-$$.json "
      "> /tmp/sigmacc-reg-$$.out 2>/dev/null; "
      "for info in $(find reference/regression -name info.yml | sort); do n=$((n+1)); "
      "id=$(sed -n 's/^ *- id: //p' $info | head -1); "
      "grep -q \"\\\"id\\\":\\\"$id\\\"\" /tmp/sigmacc-reg-$$.out || { echo MISSING $id; fail=$((fail+1)); "
      "}; done; "
      "echo \"events $n missing $fail other $(grep -c . /tmp/sigmacc-reg-$$.out)\"; rm -f "
      "/tmp/sigmacc-reg-$$.*",
      corpus, SIGMACC_BIN);
  int rc;
  char *out = run(cmd, &rc);
  unsigned n = 0, missing = 1, hits = 0;
  const char *line = strstr(out, "events ");
  if (!line || sscanf(line, "events %u missing %u other %u", &n, &missing, &hits) != 3) fail_msg("%s", out);
  printf("regression: %u event folders, %u missing, %u matches in total\n", n, missing, hits);
  if (missing || n < 90) fail_msg("%s", out);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strings),
      cmocka_unit_test(test_case_folding_unicode),
      cmocka_unit_test(test_cased),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_null_exists_bool),
      cmocka_unit_test(test_regex),
      cmocka_unit_test(test_cidr),
      cmocka_unit_test(test_fieldref),
      cmocka_unit_test(test_keywords),
      cmocka_unit_test(test_timestamp_parts),
      cmocka_unit_test(test_encodings_and_all),
      cmocka_unit_test(test_evtx_shape),
      cmocka_unit_test(test_json_parsing),
      cmocka_unit_test(test_stream_shapes),
      cmocka_unit_test(test_stream_size_limit),
      cmocka_unit_test(test_cli_bad_input),
      cmocka_unit_test(test_regex_limits),
      cmocka_unit_test(test_cli_special_files),
      cmocka_unit_test(test_glob_property_and_worst_cases),
      cmocka_unit_test(test_corr_memory_bound),
      cmocka_unit_test(test_corr_ordered_condition),
      cmocka_unit_test(test_corr_window_slides),
      cmocka_unit_test(test_corr_window_end),
      cmocka_unit_test(test_corr_aggregates_scale),
      cmocka_unit_test(test_corr_value_count_slides),
      cmocka_unit_test(test_cli_bad_lines),
      cmocka_unit_test(test_cli_filters),
      cmocka_unit_test(test_cli_correlations),
      cmocka_unit_test(test_regression_events),
  };
  return cmocka_run_group_tests_name("eval", tests, NULL, NULL);
}
