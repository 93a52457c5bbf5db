/* test_outputs.c - a property test of every output of `eval`, `check` and
 * `analyze` on generated hostile data: rules titled with each hostile string,
 * events carrying each one (and every Unicode code point, and numbers of
 * every shape). Every output is read back:
 *   - jsonl lines and the JSON summary are strict JSON (RFC 8259), one line
 *     per match, none lost;
 *   - csv parses (RFC 4180) into 9 cells a row; no cell begins with what a
 *     spreadsheet runs as a formula, and each cell is the event's value (with
 *     the ' that neutralises it) - exactly the value with --csv-exact;
 *   - the table, the summary table, check's and analyze's text and every
 *     diagnostic hold nothing a terminal acts on (outcheck.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "hostile.h"
#include "outcheck.h"

#define NHOSTILE (sizeof hostile / sizeof *hostile)

typedef struct Io {
  SgBuf out, err;
} Io;

static void to_out(void *ctx, const char *s, size_t n) { sg_buf_catn(&((Io *)ctx)->out, s, n); }
static void to_err(void *ctx, const char *s, size_t n) { sg_buf_catn(&((Io *)ctx)->err, s, n); }

static char dir[64], rules_path[96], events_path[96];
static size_t nevents;

/* Every code point but the surrogates and NUL, 2,048 to a string. */
static size_t codepoint_strings(SgBuf *out, size_t *count) {
  size_t n = 0;
  uint32_t cp = 1;
  while (cp <= 0x10FFFF) {
    SgBuf s = {0};
    for (int k = 0; k < 2048 && cp <= 0x10FFFF; cp++) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      char u[4];
      size_t l = cp < 0x80    ? (u[0] = (char)cp, 1)
                 : cp < 0x800 ? (u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), 2)
                 : cp < 0x10000
                     ? (u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
                        u[2] = (char)(0x80 | (cp & 0x3F)), 3)
                     : (u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
                        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), 4);
      sg_buf_catn(&s, u, l);
      k++;
    }
    sg_buf_catn(out, s.data, s.len);
    sg_buf_catc(out, '\0');
    sg_buf_free(&s);
    n++;
  }
  *count = n;
  return n;
}

static SgBuf cps;           /* the code point strings, NUL-separated */
static size_t ncps;         /* how many */
static const char **values; /* the CommandLine of event i */

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/sigmacc-outputs-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(rules_path, sizeof rules_path, "%s/rules.yml", dir);
  snprintf(events_path, sizeof events_path, "%s/events.jsonl", dir);
  codepoint_strings(&cps, &ncps);
  values = calloc(NHOSTILE + ncps, sizeof *values);
  /* rule i: titled hostile[i], matching the events with K = i */
  SgBuf r = {0}, e = {0};
  for (size_t i = 0; i < NHOSTILE; i++) {
    sg_buf_cat(&r, i ? "---\ntitle: " : "title: ");
    yq(&r, hostile[i]);
    sg_buf_catf(&r,
                "\nid: 00000000-0000-4000-8000-%012zx\nlevel: high\nlogsource: {product: x}\n"
                "detection:\n  s: {K: %zu}\n  condition: s\n",
                i, i);
  }
  sg_buf_cat(&r, "---\ntitle: code points\nlevel: low\nlogsource: {product: x}\ndetection:\n  s: {K: cp}\n"
                 "  condition: s\n");
  static const char *const numbers = "[0, -0, 0123, -007, 00, 1e5, 1E+5, 1.5e-3, -0.0, 0.5, "
                                     "123456789012345678901234567890, 00.5, -00e1]";
  for (size_t i = 0; i < NHOSTILE; i++) {
    sg_buf_catf(&e, "{\"K\":%zu,\"N\":%s,\"Z\":0%zu,\"CommandLine\":", i, numbers, i);
    sg_json_str(&e, hostile[i], strlen(hostile[i]));
    sg_buf_cat(&e, ",\"Computer\":");
    sg_json_str(&e, hostile[i], strlen(hostile[i]));
    sg_buf_cat(&e, ",\"Image\":");
    sg_json_str(&e, hostile[i], strlen(hostile[i]));
    sg_buf_cat(&e, "}\n");
    values[i] = hostile[i];
  }
  const char *s = cps.data;
  for (size_t i = 0; i < ncps; i++, s += strlen(s) + 1) {
    sg_buf_cat(&e, "{\"K\":\"cp\",\"CommandLine\":");
    sg_json_str(&e, s, strlen(s));
    sg_buf_cat(&e, ",\"Computer\":");
    sg_json_str(&e, s, strlen(s));
    sg_buf_cat(&e, "}\n");
    values[NHOSTILE + i] = s;
  }
  nevents = NHOSTILE + ncps;
  FILE *f = fopen(rules_path, "w");
  fwrite(r.data, 1, r.len, f);
  fclose(f);
  f = fopen(events_path, "w");
  fwrite(e.data, 1, e.len, f);
  fclose(f);
  sg_buf_free(&r);
  sg_buf_free(&e);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(rules_path);
  unlink(events_path);
  rmdir(dir);
  free(values);
  sg_buf_free(&cps);
  return 0;
}

static int eval(SgEvalFormat format, bool summary, bool table, bool exact, Io *io) {
  char *rules[] = {rules_path}, *events[] = {events_path};
  SgEvalJob job = {.rules = rules,
                   .nrules = 1,
                   .events = events,
                   .nevents = 1,
                   .format = format,
                   .summary = summary,
                   .summary_table = table,
                   .csv_exact = exact,
                   .jobs = 2};
  SgEvalSink sink = {to_out, to_err, io, NULL};
  return sg_eval_run(&job, &sink);
}

/* search (every event: a regex any value matches) and metrics, over the hostile events. */
static int side(SgEvalFormat format, bool metrics, bool table, Io *io) {
  char *events[] = {events_path};
  SgEvalJob job = {.events = events,
                   .nevents = 1,
                   .format = format,
                   .summary_table = table,
                   .metrics = metrics,
                   .search = metrics ? NULL : "[^\\s\\S]|.|^$",
                   .search_regex = true,
                   .jobs = 2};
  SgEvalSink sink = {to_out, to_err, io, NULL};
  return sg_eval_run(&job, &sink);
}

static void term_safe(const char *what, const SgBuf *b) {
  size_t at = oc_term_unsafe(b->data ? b->data : "", b->len);
  if (at != b->len)
    fail_msg("%s: a byte a terminal acts on at %zu: ...%.40s", what, at, b->data + (at > 20 ? at - 20 : 0));
}

static void test_jsonl(void **state) {
  (void)state;
  Io io = {{0}, {0}};
  assert_int_equal(eval(SG_EVAL_JSONL, false, false, false, &io), 0);
  size_t lines = 0;
  for (const char *l = sg_buf_cstr(&io.out), *nl; *l; l = nl + 1, lines++) {
    nl = strchr(l, '\n');
    assert_non_null(nl);
    if (!oc_json_valid(l, (size_t)(nl - l)))
      fail_msg("line %zu is not JSON: %.*s", lines + 1, (int)(nl - l), l);
  }
  assert_int_equal(lines, nevents);
  term_safe("eval diagnostics", &io.err);
  sg_buf_free(&io.out);
  sg_buf_free(&io.err);
  Io sum = {{0}, {0}};
  assert_int_equal(eval(SG_EVAL_JSONL, true, false, false, &sum), 0);
  if (!oc_json_valid(sum.out.data, sum.out.len))
    fail_msg("the JSON summary is not JSON:\n%.400s", sum.out.data);
  sg_buf_free(&sum.out);
  sg_buf_free(&sum.err);
}

/* The next RFC 4180 field of s at *p (unquoted into cell, its text in *text);
 * true when it ends the record. */
static bool csv_field(const char **p, SgBuf *cell, const char **text) {
  const char *s = *p;
  sg_buf_reset(cell);
  if (*s == '"') {
    for (s++;; s++) {
      if (*s == '"' && s[1] == '"') {
        sg_buf_catc(cell, '"');
        s++;
      } else if (*s == '"') {
        s++;
        break;
      } else {
        assert_true(*s != '\0');
        sg_buf_catc(cell, *s);
      }
    }
  } else {
    while (*s && *s != ',' && *s != '\n')
      sg_buf_catc(cell, *s++);
  }
  *text = sg_buf_cstr(cell);
  assert_true(*s == ',' || *s == '\n');
  *p = s + 1;
  return *s == '\n';
}

/* search and metrics: strict JSON, terminal-safe tables, csv cells a
 * spreadsheet does not run; every hostile event found. */
static void test_side_commands(void **state) {
  (void)state;
  Io j = {{0}, {0}}, t = {{0}, {0}}, c = {{0}, {0}}, m = {{0}, {0}}, mt = {{0}, {0}};
  assert_int_equal(side(SG_EVAL_JSONL, false, false, &j), 0);
  size_t lines = 0;
  for (const char *l = sg_buf_cstr(&j.out), *nl; *l; l = nl + 1, lines++) {
    nl = strchr(l, '\n');
    assert_non_null(nl);
    if (!oc_json_valid(l, (size_t)(nl - l)))
      fail_msg("search line %zu is not JSON: %.*s", lines + 1, (int)(nl - l), l);
  }
  assert_int_equal(lines, nevents);
  assert_int_equal(side(SG_EVAL_TABLE, false, true, &t), 0);
  term_safe("search table", &t.out);
  assert_int_equal(side(SG_EVAL_CSV, false, false, &c), 0);
  SgBuf cell = {0};
  for (const char *p = sg_buf_cstr(&c.out); *p;) {
    const char *text;
    csv_field(&p, &cell, &text);
    if (*text && strchr("=+-@\t\r", *text)) fail_msg("a csv cell a spreadsheet runs: %.40s", text);
  }
  sg_buf_free(&cell);
  assert_int_equal(side(SG_EVAL_JSONL, true, false, &m), 0);
  if (!oc_json_valid(m.out.data, m.out.len - 1)) fail_msg("metrics is not JSON:\n%.400s", m.out.data);
  assert_int_equal(side(SG_EVAL_JSONL, true, true, &mt), 0);
  term_safe("metrics table", &mt.out);
  Io *all[] = {&j, &t, &c, &m, &mt};
  for (size_t i = 0; i < 5; i++) {
    term_safe("diagnostics", &all[i]->err);
    sg_buf_free(&all[i]->out);
    sg_buf_free(&all[i]->err);
  }
}

static void check_csv(bool exact) {
  Io io = {{0}, {0}};
  assert_int_equal(eval(SG_EVAL_CSV, false, false, exact, &io), 0);
  const char *p = sg_buf_cstr(&io.out);
  SgBuf cell = {0};
  size_t row = 0;
  for (; *p; row++) {
    size_t col = 0;
    bool end = false;
    while (!end) {
      const char *text;
      end = csv_field(&p, &cell, &text);
      if (row && !exact && *text && strchr("=+-@\t\r", *text))
        fail_msg("row %zu, column %zu is a formula: %s", row, col, text);
      if (row && col == 1) { /* the computer: the event's value */
        const char *want = values[row - 1];
        bool formula = !exact && *want && strchr("=+-@\t\r", *want);
        if (strcmp(text + formula, want) || (formula && *text != '\''))
          fail_msg("row %zu (exact %d): computer '%s', want '%s'", row, exact, text, want);
      }
      col++;
    }
    assert_int_equal(col, 10);
  }
  assert_int_equal(row, nevents + 1);
  sg_buf_free(&cell);
  sg_buf_free(&io.out);
  sg_buf_free(&io.err);
}

static void test_csv(void **state) {
  (void)state;
  check_csv(false);
  check_csv(true);
}

static void test_tables(void **state) {
  (void)state;
  Io t = {{0}, {0}}, s = {{0}, {0}};
  assert_int_equal(eval(SG_EVAL_TABLE, false, false, false, &t), 0);
  term_safe("table", &t.out);
  size_t lines = 0; /* rows: a folded details cell continues on lines blank up to its column */
  for (const char *l = sg_buf_cstr(&t.out); *l;) {
    const char *nl = strchr(l, '\n');
    assert_non_null(nl);
    size_t blank = strspn(l, " ");
    lines += blank < 100 || l + blank == nl;
    l = nl + 1;
  }
  assert_int_equal(lines, nevents + 1);
  assert_int_equal(eval(SG_EVAL_TABLE, true, true, false, &s), 0);
  term_safe("summary table", &s.out);
  for (size_t i = 0; i < NHOSTILE; i++)
    if (*hostile[i] && oc_term_unsafe(hostile[i], strlen(hostile[i])) == strlen(hostile[i]) &&
        !strchr(hostile[i], '\n') && !strstr(s.out.data, hostile[i]))
      fail_msg("the summary lacks the rule titled '%s'", hostile[i]);
  sg_buf_free(&t.out);
  sg_buf_free(&t.err);
  sg_buf_free(&s.out);
  sg_buf_free(&s.err);
}

/* check and analyze on rules whose values, titles, log sources and levels
 * are hostile: every line of text stays safe. */
static void test_check_analyze(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/bad.yml", dir);
  SgBuf r = {0};
  for (size_t i = 0; i < NHOSTILE; i++) {
    sg_buf_cat(&r, i ? "---\ntitle: " : "title: ");
    yq(&r, hostile[i]);
    sg_buf_cat(&r, "\nlevel: ");
    yq(&r, hostile[i]);
    sg_buf_cat(&r, "\nlogsource: {product: ");
    yq(&r, hostile[i]);
    sg_buf_cat(&r, "}\ndetection:\n  s: {A: ");
    yq(&r, hostile[i]);
    sg_buf_cat(&r, ", B|re: ");
    yq(&r, hostile[i]);
    sg_buf_cat(&r, "}\n  condition: s\n");
  }
  FILE *f = fopen(path, "w");
  fwrite(r.data, 1, r.len, f);
  fclose(f);
  char *paths[] = {path};
  SgCheckJob job = {.paths = paths, .npaths = 1};
  SgCheckResult res;
  sg_check_run(&job, &res);
  assert_true(res.errors > 0);
  term_safe("check", &res.out);
  term_safe("check summary", &res.summary);
  sg_check_result_free(&res);
  SgAnalyzeResult a;
  sg_analyze_logsources(paths, 1, false, &a);
  term_safe("analyze", &a.out);
  term_safe("analyze diagnostics", &a.diags);
  sg_analyze_result_free(&a);
  unlink(path);
  sg_buf_free(&r);
}

/* The checks catch what they are meant to catch (a test of the test). */
static void test_checks_catch(void **state) {
  (void)state;
  assert_false(oc_json_valid("{\"a\":0123}", 10));
  assert_false(oc_json_valid("{\"a\":\"\x01\"}", 9));
  assert_true(oc_json_valid(" {\"a\":[1,-0.5e+3,\"\\u00e9\",true,null]} ", 37));
  const char *bad[] = {"a\x1b[31m", "\xc2\x9b", "\xe2\x80\xae", "\xe2\x81\xa7", "\xe2\x80\xa8", "\xff", "\t"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_not_equal(oc_term_unsafe(bad[i], strlen(bad[i])), strlen(bad[i]));
  assert_int_equal(oc_term_unsafe("caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d\n", 14), 14);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checks_catch),  cmocka_unit_test(test_jsonl),
      cmocka_unit_test(test_side_commands), cmocka_unit_test(test_csv),
      cmocka_unit_test(test_tables),        cmocka_unit_test(test_check_analyze),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
