/* test.c - `sigmacc test`: a rule repository's regression tests, as
 * SigmaHQ's CI runs them. For every rule with `regression_tests_path`, its
 * info.yml (SigmaHQ's regression convention: `rule_metadata` naming the rule,
 * `regression_tests_info` with each test's name, type, `match_count` and
 * path) is read under the repository's regression_data/ (the folder holding
 * it, found upward from the rule file, or --regression-data), and the rule
 * alone is evaluated on each file: the matches must be `match_count`, or at
 * least one when it is not given. The project's own convention too: R.yml's
 * R.events.jsonl must match, R.nomatch.jsonl must not. Every failure says
 * what and where; a JUnit report carries one testcase per test.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runs.h"

typedef struct Run {
  const SgTestJob *job;
  SgTestResult *res;
  const SgPaths *files; /* the run's rule files: a correlation names rules of any */
} Run;

/* One test's verdict: the report's line, the JUnit testcase. `note`: what a passing test says
 * beside it (SigmaHQ's runner warns of more matches than match_count). */
static void verdict(Run *r, const char *rule_path, const char *name, const char *why, const char *note) {
  SgTestResult *res = r->res;
  res->tests++;
  res->failures += why != NULL;
  const char *said = why ? why : note;
  sg_buf_catf(&res->out, "%s %s: %s%s%s\n", why ? "FAIL" : "PASS", rule_path, name, said ? ": " : "",
              said ? said : "");
  sg_buf_cat(&res->cases, "    <testcase classname=\"");
  sg_xml_cstr(&res->cases, rule_path);
  sg_buf_cat(&res->cases, "\" name=\"");
  sg_xml_cstr(&res->cases, name);
  if (!why && note) {
    sg_buf_cat(&res->cases, "\">\n      <system-out>");
    sg_xml_cstr(&res->cases, note);
    sg_buf_cat(&res->cases, "</system-out>\n    </testcase>\n");
    return;
  }
  if (!why) {
    sg_buf_cat(&res->cases, "\"/>\n");
    return;
  }
  sg_buf_cat(&res->cases, "\">\n      <failure message=\"");
  sg_xml_cstr(&res->cases, why);
  sg_buf_cat(&res->cases, "\">");
  sg_xml_cstr(&res->cases, rule_path);
  sg_buf_cat(&res->cases, ": ");
  sg_xml_cstr(&res->cases, why);
  sg_buf_cat(&res->cases, "</failure>\n    </testcase>\n");
}

/* The rule's matches on one file of events (-1: the evaluator could not run;
 * *why says so). */
static long matches(Run *r, const char *rule_path, const SgRule *rule, const char *file, SgBuf *why) {
  SgCapture c = {0};
  int rc =
      sg_eval_sample(rule_path, r->files, file, r->job->pipelines, r->job->npipelines, "EventRecordID", &c);
  SgBuf key = {0}; /* its output lines: {"rule":{"id":ID, or {"correlation":..., by title when no id */
  sg_buf_cat(&key, rule->kind == SG_DOC_CORRELATION ? "{\"correlation\":{\"id\":" : "{\"rule\":{\"id\":");
  if (rule->id) {
    sg_json_str(&key, rule->id, strlen(rule->id));
  } else {
    sg_buf_cat(&key, "null,\"title\":");
    sg_json_str_or_null(&key, rule->title);
  }
  long n = 0;
  for (const char *l = sg_buf_cstr(&c.out); (l = strstr(l, sg_buf_cstr(&key))); l++)
    n++;
  sg_buf_free(&key);
  if (rc != 0 && rc != 3) {
    sg_buf_catf(why, "the evaluator stopped (exit %d): %s", rc, sg_buf_cstr(&c.err));
    while (why->len && why->data[why->len - 1] == '\n')
      why->data[--why->len] = '\0';
    n = -1;
  }
  sg_buf_free(&c.out);
  sg_buf_free(&c.err);
  return n;
}

/* A rule's SigmaHQ regression tests. */
static void regression(Run *r, const char *rule_path, const SgRule *rule) {
  SgArena a;
  sg_arena_init(&a);
  SgRegInfo ri;
  char *root = sg_regression_root(r->job->regression_data, rule_path);
  if (sg_regression_read(&a, root, rule, &ri) && ri.why) verdict(r, rule_path, ri.key, ri.why, NULL);
  for (size_t i = 0; !ri.why && i < ri.n; i++) {
    const SgRegTest *t = &ri.tests[i];
    char *test = sg_arena_printf(&a, "%s (%s:%u)", t->name ? t->name : "regression test", ri.info, t->line);
    if (t->why) {
      verdict(r, rule_path, test, t->why, NULL);
      continue;
    }
    SgBuf why = {0}, note = {0};
    long got = matches(r, rule_path, rule, t->file, &why);
    if (got >= 0 && t->match_count >= 0 && got < t->match_count) /* as SigmaHQ's runner: fewer fail, */
      sg_buf_catf(&why, "%s: match_count %ld (%s:%u), the rule matched %ld", t->file, t->match_count, ri.info,
                  t->count_line, got);
    else if (got > t->match_count && t->match_count >= 0) /* more pass with a warning */
      sg_buf_catf(&note,
                  "warning: the rule matched %ld where match_count is %ld (%s:%u): consider updating it", got,
                  t->match_count, ri.info, t->count_line);
    else if (got >= 0 && t->match_count < 0 && !got)
      sg_buf_catf(&why, "%s: the rule matched nothing (no match_count: at least one)", t->file);
    verdict(r, rule_path, test, why.len ? sg_buf_cstr(&why) : NULL, note.len ? sg_buf_cstr(&note) : NULL);
    sg_buf_free(&why);
    sg_buf_free(&note);
  }
  sg_arena_free(&a);
  free(root);
}

/* The project's convention: R.events.jsonl must match, R.nomatch.jsonl must not. */
static void samples(Run *r, const char *rule_path, const SgRule *rule) {
  for (int k = 0; k < 2; k++) {
    char *file = sg_sample_events(rule_path, k ? ".nomatch.jsonl" : ".events.jsonl");
    if (!file) continue;
    SgBuf why = {0};
    long got = matches(r, rule_path, rule, file, &why);
    if (got > 0 && k)
      sg_buf_catf(&why, "%s: the rule matched %ld event%s it must not match", file, got, got == 1 ? "" : "s");
    else if (!got && !k)
      sg_buf_catf(&why, "%s: the rule matched none of its sample events", file);
    const char *slash = strrchr(file, '/');
    verdict(r, rule_path, slash ? slash + 1 : file, why.len ? sg_buf_cstr(&why) : NULL, NULL);
    sg_buf_free(&why);
    free(file);
  }
}

void sg_test_run(const SgTestJob *job, char *const *paths, size_t npaths, SgTestResult *res) {
  *res = (SgTestResult){0};
  SgPaths files = {0};
  Run r = {job, res, &files};
  SgDiags d = {0};
  if (!sg_expand_paths((int)npaths, (char **)paths, &files, &d)) res->exit_code = 2;
  sg_render_diags(&res->diags, &d, 0, NULL, NULL, 0, false);
  sg_diags_free(&d);
  for (size_t i = 0; i < files.n; i++) {
    SgDiags fd = {0};
    char *src;
    size_t len;
    if (sg_read_file(files.v[i], &src, &len, &fd) != SG_OK) {
      sg_render_diags(&res->diags, &fd, 0, NULL, NULL, 0, false);
      sg_diags_free(&fd);
      res->exit_code = 2;
      continue;
    }
    SgUnit u = {0};
    sg_compile_source(&u, files.v[i], src, len, &fd); /* the unit owns src */
    for (size_t k = 0; k < u.nrules; k++) {
      const SgRule *rule = u.rules[k];
      if (rule->kind != SG_DOC_RULE && rule->kind != SG_DOC_CORRELATION) continue;
      size_t before = res->tests;
      regression(&r, files.v[i], rule);
      if (k == 0) samples(&r, files.v[i], rule);
      res->rules += 1;
      res->untested += res->tests == before;
    }
    sg_unit_free(&u);
    sg_diags_free(&fd);
  }
  sg_paths_free(&files);
  sg_buf_catf(&res->out, "test: %zu test%s of %zu rule%s, %zu failed; %zu rule%s without tests\n", res->tests,
              res->tests == 1 ? "" : "s", res->rules - res->untested,
              res->rules - res->untested == 1 ? "" : "s", res->failures, res->untested,
              res->untested == 1 ? "" : "s");
  sg_buf_catf(
      &res->junit,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sigmacc test\" tests=\"%zu\" "
      "failures=\"%zu\">\n  <testsuite name=\"sigmacc test\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
      "skipped=\"0\">\n",
      res->tests, res->failures, res->tests, res->failures);
  sg_buf_catn(&res->junit, res->cases.data ? res->cases.data : "", res->cases.len);
  sg_buf_cat(&res->junit, "  </testsuite>\n</testsuites>\n");
  if (!res->exit_code && res->failures) res->exit_code = 1;
  if (res->out.oom || res->junit.oom) res->exit_code = 2;
}

void sg_test_result_free(SgTestResult *res) {
  sg_buf_free(&res->out);
  sg_buf_free(&res->diags);
  sg_buf_free(&res->junit);
  sg_buf_free(&res->cases);
}
