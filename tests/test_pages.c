/* test_pages.c - `sigmacc pages` read back:
 *   - the site of sigma-rules/ (docs/pages.yml): every page well formed (tags
 *     nest and close), every relative link and script resolves to a file of
 *     the site, the search index is strict JSON and finds the target rule by
 *     a field name, the target rule's page carries the target query byte for
 *     byte (what convert writes) and its sample events' verdict, its .yml is
 *     the rule file byte for byte;
 *   - --check passes on the site just written and fails, with a diff, when a
 *     page changed; a bad config is a located error, exit 2;
 *   - rules whose title, description, false positives, reference and value
 *     are each hostile string: between its markers the value holds no raw
 *     markup character and nothing a terminal or the bidi algorithm obeys.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostile.h"
#include "outcheck.h"

#define MARK "QZX"
#define SRC SIGMACC_SOURCE_DIR
#define TARGET_RULE "windows/image_load/image_load_win_invalid_code_signature"

static char *slurp(const char *dir, const char *rel, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  return tu_slurp(path, len);
}

/* Tags nest and close (void elements excepted); no '<' starts anything else. */
static const char *well_formed(const char *s) {
  static const char *const voids[] = {"meta", "link", "input", "br", "img"};
  char stack[64][16];
  int depth = 0;
  for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
    if (!strncmp(p, "<!DOCTYPE html>", 15)) continue;
    bool close = p[1] == '/';
    const char *n = p + 1 + close;
    size_t k = 0;
    while ((n[k] >= 'a' && n[k] <= 'z') || (n[k] >= '0' && n[k] <= '9'))
      k++;
    if (!k || k >= 16 || !(n[k] == '>' || n[k] == ' ')) return "a '<' that starts no tag";
    const char *end = strchr(n, '>');
    if (!end || memchr(n, '<', (size_t)(end - n))) return "a tag that does not end";
    bool is_void = false;
    for (size_t v = 0; v < sizeof voids / sizeof *voids; v++)
      is_void = is_void || (strlen(voids[v]) == k && !strncmp(n, voids[v], k));
    if (close) {
      if (!depth || strlen(stack[depth - 1]) != k || strncmp(stack[depth - 1], n, k))
        return "a tag closes out of order";
      depth--;
    } else if (!is_void) {
      if (depth == 64) return "nested too deep";
      snprintf(stack[depth++], 16, "%.*s", (int)k, n);
    }
  }
  return depth ? "a tag is never closed" : NULL;
}

/* Every relative href="..." and src="..." of the page names a file of the site. */
static const char *links_resolve(const char *site, const char *rel, const char *s) {
  static char why[512];
  const char *slash = strrchr(rel, '/');
  for (const char *p = s; (p = strstr(p, "=\"")); p += 2) {
    bool href = p >= s + 5 && !strncmp(p - 5, " href", 5), src = p >= s + 4 && !strncmp(p - 4, " src", 4);
    if (!href && !src) continue;
    const char *v = p + 2, *e = strchr(v, '"');
    if (!strncmp(v, "https://", 8) || !strncmp(v, "http://", 7) || *v == '#') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%.*s%.*s", site, slash ? (int)(slash - rel + 1) : 0, rel, (int)(e - v),
             v);
    struct stat st;
    if (stat(path, &st) != 0) {
      snprintf(why, sizeof why, "%s links to %.*s, which is not in the site", rel, (int)(e - v), v);
      return why;
    }
  }
  return NULL;
}

static void walk(const char *site, const char *sub, void (*fn)(const char *site, const char *rel)) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%s", site, sub);
  DIR *d = opendir(dir);
  assert_non_null(d);
  for (struct dirent *e; (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n > 5 && !strcmp(e->d_name + n - 5, ".html")) {
      char rel[4096];
      snprintf(rel, sizeof rel, "%s%s%s", sub, *sub ? "/" : "", e->d_name);
      fn(site, rel);
    }
  }
  closedir(d);
}

static size_t npages;
static void check_page(const char *site, const char *rel) {
  size_t len;
  char *s = slurp(site, rel, &len);
  assert_non_null(s);
  const char *why = well_formed(s);
  if (!why) why = links_resolve(site, rel, s);
  if (why) fail_msg("%s: %s", rel, why);
  npages++;
  free(s);
}

static char *make_site(const char *config, char *const *paths, size_t n, int want_rc) {
  char tmpl[] = "/tmp/sigmacc-pages-XXXXXX";
  char *dir = strdup(mkdtemp(tmpl));
  const char *pipes[] = {SRC "/sigma-rules/pipelines/placeholders.yml"};
  SgPagesJob job = {.outdir = dir, .config = config, .pipelines = pipes, .npipelines = 1};
  SgPagesResult res;
  sg_pages_run(&job, paths, n, &res);
  if (res.exit_code != want_rc) fail_msg("pages: exit %d\n%s", res.exit_code, sg_buf_cstr(&res.diags));
  sg_pages_result_free(&res);
  return dir;
}

static void rm_rf(const char *dir) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_site(void **state) {
  (void)state;
  char *paths[] = {SRC "/sigma-rules"};
  char *site = make_site(SRC "/docs/pages.yml", paths, 1, 0);
  npages = 0;
  walk(site, "", check_page);
  walk(site, "rules", check_page);
  walk(site, "techniques", check_page);
  assert_true(npages > 60);

  /* the target page: the target query byte for byte, as convert writes it */
  size_t len, qlen = 0;
  char *page = slurp(site, "rules/image_load_win_invalid_code_signature.html", &len);
  char *rule = tu_slurp(SRC "/sigma-rules/" TARGET_RULE ".yml", &qlen);
  assert_non_null(page);
  const char *pipes[] = {SRC "/sigma-rules/pipelines/qradar-site.yml",
                         SRC "/sigma-rules/pipelines/placeholders.yml"};
  SgConvertJob cj = {.target = "aql", .format = "detection", .pipelines = pipes, .npipelines = 2};
  SgBuf want = {0}, got = {0};
  SgDiags d = {0};
  assert_int_equal(sg_convert_text(&cj, "rule.yml", rule, qlen, &want, &d), SG_OK);
  const char *code = strstr(page, "<code id=\"q0\">");
  assert_non_null(code);
  for (const char *p = code + 14; strncmp(p, "</code>", 7); p++) { /* the page's text, unescaped */
    static const char *const ent[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
    size_t e = 0;
    while (e < 5 && strncmp(p, ent[e][0], strlen(ent[e][0])))
      e++;
    sg_buf_cat(&got, e < 5 ? ent[e][1] : (char[]){*p, 0});
    if (e < 5) p += strlen(ent[e][0]) - 1;
  }
  assert_string_equal(sg_buf_cstr(&got), sg_buf_cstr(&want));
  assert_non_null(strstr(page, "T1036.001 Masquerading: Invalid Code Signature"));
  assert_non_null(strstr(page, "href=\"https://attack.mitre.org/techniques/T1036/001/\""));
  assert_non_null(strstr(page, "Defense Evasion (TA0005)"));
  assert_non_null(strstr(page, "the rule fires on <strong>2 of 7</strong> sample events"));
  assert_non_null(strstr(page, "Sysmon Event ID 7: Image loaded"));
  assert_non_null(strstr(page, "<p>QRadar log source types: 65, 1263</p>")); /* the target query's */
  /* the portable rule, byte for byte */
  size_t ylen;
  char *yml = slurp(site, "rules/image_load_win_invalid_code_signature.yml", &ylen);
  assert_true(yml && ylen == qlen && !memcmp(yml, rule, qlen));

  /* the search index: strict JSON in a script, and it knows the rule's fields */
  size_t slen;
  char *js = slurp(site, "search-index.js", &slen);
  const char *open = strchr(js, '['), *close = strrchr(js, ']');
  assert_true(open && close && oc_json_valid(open, (size_t)(close - open + 1)));
  const char *entry = strstr(js, "\"u\":\"rules/image_load_win_invalid_code_signature.html\"");
  assert_non_null(entry);
  const char *eol = strchr(entry, '\n');
  const char *field = strstr(entry, "\"SignatureStatus\"");
  assert_true(field && field < eol);

  /* --check: the site as written is as committed; a changed page is a difference */
  SgPagesJob check = {
      .golden = site, .config = SRC "/docs/pages.yml", .pipelines = pipes + 1, .npipelines = 1};
  SgPagesResult res;
  sg_pages_run(&check, paths, 1, &res);
  assert_int_equal(res.exit_code, 0);
  sg_pages_result_free(&res);
  char path[4200];
  snprintf(path, sizeof path, "%s/index.html", site);
  FILE *f = fopen(path, "ab");
  fputs("<!-- changed -->\n", f);
  fclose(f);
  sg_pages_run(&check, paths, 1, &res);
  assert_int_equal(res.exit_code, 1);
  assert_non_null(strstr(sg_buf_cstr(&res.out), "-<!-- changed -->"));
  sg_pages_result_free(&res);

  free(page), free(rule), free(yml), free(js);
  sg_buf_free(&want), sg_buf_free(&got), sg_diags_free(&d);
  rm_rf(site);
  free(site);
}

static void test_bad_config(void **state) {
  (void)state;
  char tmpl[] = "/tmp/sigmacc-pages-cfg-XXXXXX";
  int fd = mkstemp(tmpl);
  assert_true(fd >= 0);
  const char cfg[] = "title: t\ntargets:\n  - name: A\n    target: aql\n    pipeline: qradar\n";
  assert_int_equal(write(fd, cfg, sizeof cfg - 1), (ssize_t)(sizeof cfg - 1));
  close(fd);
  char *paths[] = {SRC "/sigma-rules"};
  SgPagesJob job = {.outdir = "/tmp/sigmacc-pages-never", .config = tmpl};
  SgPagesResult res;
  sg_pages_run(&job, paths, 1, &res);
  assert_int_equal(res.exit_code, 2);
  SgBuf want = {0};
  sg_buf_catf(&want, "%s:5:5: error[E012]: pages config: unknown target key 'pipeline'", tmpl);
  assert_non_null(strstr(sg_buf_cstr(&res.diags), want.data));
  struct stat st;
  assert_int_not_equal(stat("/tmp/sigmacc-pages-never", &st), 0); /* nothing written */
  sg_pages_result_free(&res);
  sg_buf_free(&want);
  unlink(tmpl);
}

/* Between each pair of markers: no raw markup character (but the marked
 * escapes, <span class="cc">\x01</span>), nothing a terminal or the bidi
 * algorithm obeys (a tab or line break is text). */
static const char *values_inert(const char *s) {
  for (const char *p = strstr(s, MARK); p; p = strstr(p, MARK)) {
    const char *v = p + 3, *e = strstr(v, MARK);
    if (!e) return "a value's markers are split";
    SgBuf t = {0};
    for (const char *c = v; c < e; c++) /* the marked escapes are ours */
      if (!strncmp(c, "<span class=\"cc\">", 17))
        c += 16;
      else if (!strncmp(c, "</span>", 7))
        c += 6;
      else if (*c != '\t')
        sg_buf_catc(&t, *c);
    size_t n = t.len;
    bool bad = strpbrk(sg_buf_cstr(&t), "<>\"'") || oc_term_unsafe(t.data, n) < n;
    sg_buf_free(&t);
    if (bad) {
      static char why[300];
      snprintf(why, sizeof why, "a value holds markup or a character a terminal acts on: %.*s",
               (int)(e - v < 200 ? e - v : 200), v);
      return why;
    }
    p = e + 3;
  }
  return NULL;
}

static size_t count_marks(const char *s) {
  size_t n = 0;
  for (const char *p = strstr(s, MARK); p; p = strstr(p + 3, MARK))
    n++;
  return n;
}

static void test_hostile_values(void **state) {
  (void)state;
  char tmpl[] = "/tmp/sigmacc-pages-rules-XXXXXX";
  char *rules = mkdtemp(tmpl);
  for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
    SgBuf v = {0}, y = {0};
    sg_buf_catf(&v, MARK "%s" MARK, hostile[i]);
    sg_buf_cat(&y, "title: "), yq(&y, v.data);
    sg_buf_cat(&y, "\ndescription: "), yq(&y, v.data);
    sg_buf_cat(&y, "\nstatus: test\nlevel: high\ntags:\n    - attack.t1036.001\nreferences:\n    - "),
        yq(&y, v.data);
    sg_buf_cat(&y, "\nfalsepositives:\n    - "), yq(&y, v.data);
    sg_buf_cat(&y,
               "\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n"
               "        CommandLine|contains: "),
        yq(&y, v.data);
    sg_buf_cat(&y, "\n    condition: sel\n");
    char path[4200];
    snprintf(path, sizeof path, "%s/r%02zu.yml", rules, i);
    FILE *f = fopen(path, "wb");
    fwrite(y.data, 1, y.len, f);
    fclose(f);
    sg_buf_free(&v), sg_buf_free(&y);
  }
  char *paths[] = {rules};
  char *site = make_site(NULL, paths, 1, 0);
  for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
    char rel[64];
    snprintf(rel, sizeof rel, "rules/r%02zu.html", i);
    size_t len;
    char *page = slurp(site, rel, &len);
    assert_non_null(page);
    const char *why = well_formed(page);
    if (!why) why = values_inert(page);
    if (!why && count_marks(page) < 12) why = "a value is missing from the page";
    if (why) fail_msg("hostile value %zu: %s\n%s", i, why, page);
    free(page);
  }
  size_t len;
  char *index = slurp(site, "index.html", &len), *js = slurp(site, "search-index.js", &len);
  assert_null(values_inert(index));
  const char *open = strchr(js, '['), *close = strrchr(js, ']');
  assert_true(oc_json_valid(open, (size_t)(close - open + 1)));
  free(index), free(js);
  rm_rf(site), rm_rf(rules);
  free(site);
}

/* SigmaHQ's regression tests on the pages (skipped without ../shared): the
 * RedSun named-pipe rule's EVTX test expects one match and gets it. */
static void test_regression_evidence(void **state) {
  (void)state;
  const char *corpus = getenv("SIGMACC_CORPUS") ? getenv("SIGMACC_CORPUS") : SRC "/../shared/sigmahq";
  char rule[4096], data[4096];
  snprintf(rule, sizeof rule,
           "%s/rules-emerging-threats/2026/Exploits/RedSun/pipe_created_win_exploit_redsun_named_pipe.yml",
           corpus);
  snprintf(data, sizeof data, "%s/../reference/regression", corpus);
  struct stat st;
  if (stat(rule, &st) != 0 || stat(data, &st) != 0) {
    print_message("regression evidence: no shared corpus and regression data: skipped\n");
    skip();
  }
  char tmpl[] = "/tmp/sigmacc-pages-reg-XXXXXX";
  char *site = mkdtemp(tmpl), *paths[] = {rule};
  SgPagesJob job = {.outdir = site, .regression_data = data};
  SgPagesResult res;
  sg_pages_run(&job, paths, 1, &res);
  assert_int_equal(res.exit_code, 0);
  sg_pages_result_free(&res);
  size_t len;
  char *page = slurp(site, "rules/pipe_created_win_exploit_redsun_named_pipe.html", &len);
  assert_non_null(page);
  assert_non_null(strstr(page,
                         "Positive Detection Test <code>9b4e7c2a-3f6d-4a8b-b5e9-1c7d3f2e6a4b.evtx</code>: "
                         "expected 1 match, the evaluator found 1: passes"));
  assert_null(well_formed(page));
  free(page);
  rm_rf(site);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_site),
      cmocka_unit_test(test_bad_config),
      cmocka_unit_test(test_hostile_values),
      cmocka_unit_test(test_regression_evidence),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
