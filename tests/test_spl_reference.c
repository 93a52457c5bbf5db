/* test_spl_reference.c - sigmacc's SPL against the reference converter's
 * (sigma-cli + pySigma-backend-splunk, ../shared/reference/splunk/ (both files)) on
 * the SigmaHQ rules it covers, with no pipeline and with
 * `-p sysmon -p splunk_windows`.
 *
 * Each rule falls in one category:
 *   identical    the same text;
 *   equivalent   the same boolean tree once both are parsed with the
 *                reference's precedence (NOT, then OR, then AND; `f IN (a, b)`
 *                is `f=a OR f=b`): only redundant parentheses differ;
 *   deviation    a documented deviation (README, "Splunk: where sigmacc
 *                deliberately differs"): a `| where` fallback for regexes,
 *                field references and exact wildcards; NOT over a whole OR
 *                group where the reference negates only its first term; a
 *                query where the reference gives none;
 *   ref-failed   the reference fails; sigmacc converts or gives a located error;
 *   different    anything else: the test fails and lists the rule.
 * Skipped when the reference data or the corpus is absent (../shared, or
 * $SIGMACC_CORPUS/.. holding sigmahq/ and reference/). */
#define _GNU_SOURCE /* memmem */
#include "testutil.h"

#include "backend.h"
#include "testref.h"

/* ---- SPL search expressions as canonical trees -------------------------------------------- */

typedef struct Tok {
  const char *s;
  size_t n;
} Tok;

typedef struct Parser {
  Tok *t;
  size_t n, i;
  bool not_over_or; /* read `NOT a OR b` as NOT (a OR b) */
  SgBuf *out;
} Parser;

/* The search part of a query (before its first `|` command) and the rest. */
static size_t search_len(const char *q) {
  bool quote = false;
  for (size_t i = 0; q[i]; i++) {
    if (quote && q[i] == '\\' && q[i + 1])
      i++;
    else if (q[i] == '"')
      quote = !quote;
    else if (!quote && q[i] == '|' && (i == 0 || q[i - 1] == ' ' || q[i - 1] == '\n'))
      return i;
  }
  return strlen(q);
}

static size_t tokenize(const char *s, size_t len, Tok **out) {
  size_t n = 0, cap = 0;
  Tok *t = NULL;
  for (size_t i = 0; i < len;) {
    if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == ',') {
      i++;
      continue;
    }
    size_t j = i + 1;
    if (s[i] != '(' && s[i] != ')') {
      bool quote = s[i] == '"';
      for (j = i + (quote ? 1 : 0); j < len; j++) {
        if (quote && s[j] == '\\' && j + 1 < len)
          j++;
        else if (s[j] == '"')
          quote = !quote;
        else if (!quote && strchr(" \n\t(),", s[j]))
          break;
      }
    }
    if (n == cap) t = realloc(t, (cap = cap ? 2 * cap : 64) * sizeof *t);
    t[n++] = (Tok){s + i, j - i};
    i = j;
  }
  *out = t;
  return n;
}

static bool tok_is(const Parser *p, const char *w) {
  return p->i < p->n && p->t[p->i].n == strlen(w) && !memcmp(p->t[p->i].s, w, p->t[p->i].n);
}

/* Each parse function appends its canonical form: a term as itself, an
 * operator as OP[kid;kid;...] with nested same operators flattened. It
 * returns the operator it produced ('T' for a term). */
static char parse_and(Parser *p);
static void strip(SgBuf *out, size_t start);

static char parse_primary(Parser *p) {
  if (p->i >= p->n) fail_msg("SPL ends where a term was expected");
  if (tok_is(p, "(")) {
    p->i++;
    char op = parse_and(p);
    if (!tok_is(p, ")")) fail_msg("SPL: unbalanced parentheses");
    p->i++;
    return op;
  }
  Tok f = p->t[p->i++];
  if (tok_is(p, "IN")) { /* f IN (a, b) -> OR[f=a;f=b] */
    p->i += 2;
    size_t start = p->out->len, k = 0;
    sg_buf_cat(p->out, "OR[");
    for (; p->i < p->n && !tok_is(p, ")"); p->i++, k++)
      sg_buf_catf(p->out, "%s%.*s=%.*s", k ? ";" : "", (int)f.n, f.s, (int)p->t[p->i].n, p->t[p->i].s);
    p->i++;
    sg_buf_catc(p->out, ']');
    if (k != 1) return 'O';
    strip(p->out, start); /* a one-value list is the term itself */
    return 'T';
  }
  sg_buf_catn(p->out, f.s, f.n);
  return 'T';
}

static char parse_or(Parser *p);

static char parse_not(Parser *p) {
  if (!tok_is(p, "NOT")) return parse_primary(p);
  p->i++;
  sg_buf_cat(p->out, "NT[");
  if (p->not_over_or)
    parse_or(p);
  else
    parse_not(p);
  sg_buf_catc(p->out, ']');
  return 'N';
}

/* Drop the brackets of the operator written last, at `start` ("XX[...]"). */
static void strip(SgBuf *out, size_t start) {
  char *s = out->data + start;
  memmove(s, s + 3, out->len - start - 4);
  out->len -= 4;
  out->data[out->len] = '\0';
}

static bool more(const Parser *p, char op) {
  return op == 'O' ? tok_is(p, "OR") : p->i < p->n && !tok_is(p, ")");
}

/* An n-ary operator over `next`: OR[a;b] with a nested OR flattened into it,
 * or just the operand when there is only one. */
static char nary(Parser *p, char op, char (*next)(Parser *)) {
  size_t start = p->out->len;
  sg_buf_cat(p->out, op == 'O' ? "OR[" : "AN[");
  size_t first = p->out->len;
  char k = next(p);
  if (!more(p, op)) {
    memmove(p->out->data + start, p->out->data + first, p->out->len - first);
    p->out->len -= 3;
    p->out->data[p->out->len] = '\0';
    return k;
  }
  if (k == op) strip(p->out, first);
  while (more(p, op)) {
    if (tok_is(p, op == 'O' ? "OR" : "AND")) p->i++;
    sg_buf_catc(p->out, ';');
    size_t ks = p->out->len;
    if (next(p) == op) strip(p->out, ks);
  }
  sg_buf_catc(p->out, ']');
  return op;
}

static char parse_or(Parser *p) { return nary(p, 'O', parse_not); }
static char parse_and(Parser *p) { return nary(p, 'A', parse_or); }

/* Canonical form of a query: its search tree, then its `|` commands as text
 * (a newline or a space before `|` is the same). */
static char *canonical(const char *q, bool not_over_or) {
  size_t sl = search_len(q);
  Tok *t;
  size_t n = tokenize(q, sl, &t);
  SgBuf out = {0};
  Parser p = {t, n, 0, not_over_or, &out};
  parse_and(&p);
  if (p.i != p.n) fail_msg("SPL: unexpected ')' in %s", q);
  for (const char *c = q + sl; *c; c++)
    sg_buf_catc(&out, *c == '\n' ? ' ' : *c);
  free(t);
  return sg_buf_cstr(&out) ? out.data : calloc(1, 1);
}

/* The | where fallback keeps the rest of the rule in the base search: every
 * term of sigmacc's base search (a field="value" comparison, compared as
 * written, case aside) must be one of the reference's, which puts the whole
 * condition in its search. */
static bool base_terms_in(const char *mine, const char *ref) {
  size_t sl = search_len(mine);
  for (const char *p = mine; (size_t)(p - mine) < sl; p++) {
    if (*p != '=' || p == mine || p[1] != '"') continue;
    const char *a = p, *e = p + 2;
    while (a > mine && !strchr(" (\n", a[-1]))
      a--;
    while (*e && *e != '"')
      e += *e == '\\' && e[1] ? 2 : 1;
    if (!*e) return false;
    size_t n = (size_t)(e + 1 - a);
    bool found = false;
    for (const char *q = ref; *q && !found; q++)
      found = !strncasecmp(q, a, n);
    if (!found) return false;
    p = e;
  }
  return true;
}

static void test_canonical(void **state) {
  (void)state;
  struct {
    const char *a, *b;
    bool same;
  } cases[] = {
      {"A=1 B=2 OR C=3", "A=1 (B=2 OR C=3)", true}, /* OR binds tighter */
      {"A=1 B=2 OR C=3", "(A=1 B=2) OR C=3", false},
      {"x IN (\"a\", \"b\")", "x=\"a\" OR x=\"b\"", true},
      {"x IN (\"a\")", "x=\"a\"", true},
      {"NOT A=1 OR B=2", "NOT (A=1 OR B=2)", false}, /* NOT binds tightest */
      {"((A=1) (B=2))", "A=1 AND B=2", true},
      {"A=1\n| regex B=\"x\"", "A=1 | regex B=\"x\"", true},
      {"A=\"a b\" C=\"(\"", "A=\"a b\" C=\"(\"", true},
      {"A=1 | where x", "A=1 | where y", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *a = canonical(cases[i].a, false), *b = canonical(cases[i].b, false);
    if ((strcmp(a, b) == 0) != cases[i].same) fail_msg("%s <-> %s: %s vs %s", cases[i].a, cases[i].b, a, b);
    free(a);
    free(b);
  }
  char *a = canonical("NOT A=1 OR B=2", true), *b = canonical("NOT (A=1 OR B=2)", false);
  assert_string_equal(a, b);
  free(a);
  free(b);
  /* the base search of a | where fallback: its terms must be the reference's */
  assert_true(base_terms_in("A=\"1\" (B=\"x y\" OR C=\"3\")\n| where match(D, \"e\")",
                            "A=\"1\" B=\"x y\" OR C=\"3\" D=\"e\""));
  assert_false(base_terms_in("A=\"1\" B=\"2\"\n| where match(D, \"e\")", "A=\"1\" B=\"3\" D=\"e\""));
}

/* ---- The comparison ----------------------------------------------------------------------- */

enum { IDENTICAL, EQUIVALENT, DEV_WHERE, DEV_NOT_GROUP, DEV_NOT_EMPTY, REF_FAILED, DIFFERENT, NCAT };
static const char *const cat_names[] = {"identical",
                                        "equivalent",
                                        "deviation (| where fallback)",
                                        "deviation (NOT over an OR group)",
                                        "deviation (reference gives no query)",
                                        "reference failed (sigmacc converts or diagnoses)",
                                        "different"};

static bool all_canonical_equal(char **mine, char **ref, size_t n, bool not_over_or) {
  for (size_t i = 0; i < n; i++) {
    char *a = canonical(mine[i], false), *b = canonical(ref[i], not_over_or);
    bool eq = !strcmp(a, b);
    free(a);
    free(b);
    if (!eq) return false;
  }
  return true;
}

static int classify(const Ref *r, const char *src, char **mine, size_t nmine, bool converted,
                    bool diagnosed) {
  if (!r->ok) return converted || diagnosed ? REF_FAILED : DIFFERENT;
  if (!converted) return DIFFERENT;
  if (r->nq == 0) return nmine ? DEV_NOT_EMPTY : DIFFERENT;
  if (nmine != r->nq) return DIFFERENT;
  bool same = true;
  for (size_t i = 0; i < nmine; i++)
    same = same && !strcmp(mine[i], r->q[i]);
  if (same) return IDENTICAL;
  /* the | where fallback, for a construct the rule's detection really has */
  static const char *const needs_where[] = {"|re", "|fieldref", "|cased", "\\*", "?", NULL};
  const char *det = strstr(src, "\ndetection:"), *end = det;
  while (end && (end = strchr(end + 1, '\n')) && (end[1] == ' ' || end[1] == '\n' || end[1] == '#'))
    ;
  size_t dlen = det ? (end ? (size_t)(end - det) : strlen(det)) : 0;
  for (size_t i = 0; i < nmine; i++)
    for (size_t k = 0; strstr(mine[i], "\n| where ") && needs_where[k]; k++)
      if (det && memmem(det, dlen, needs_where[k], strlen(needs_where[k])))
        return base_terms_in(mine[i], r->q[i]) ? DEV_WHERE : DIFFERENT;
  if (all_canonical_equal(mine, r->q, nmine, false)) return EQUIVALENT;
  if (all_canonical_equal(mine, r->q, nmine, true)) return DEV_NOT_GROUP;
  return DIFFERENT;
}

static void compare(const char *jsonl, const char *const *pipelines) {
  /* the reference names rules sigmahq/rules/...: relative to the corpus's parent */
  char shared[2048], path[4096];
  char *data = ref_load("splunk", jsonl, shared);
  if (!data) skip();
  SgArena pa;
  sg_arena_init(&pa);
  SgPipelineSet set = {0};
  SgDiags pd = {0};
  for (size_t i = 0; pipelines[i]; i++)
    assert_int_equal(sg_pipeline_add(&pa, &set, pipelines[i], &pd), SG_OK);
  sg_pipeline_sort(&set);
  assert_int_equal(sg_pipeline_validate(&pa, &set, &pd), SG_OK);
  const SgTarget *t = sg_target_find("splunk");
  assert_non_null(t);
  size_t count[NCAT] = {0};
  SgBuf report = {0};
  for (char *line = data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
    nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    Ref r;
    ref_parse(line, &r);
    snprintf(path, sizeof path, "%s/%s", shared, r.rule);
    SgDiags d = {0};
    SgUnit u;
    SgQueries q = {0};
    char *text = tu_slurp(path, NULL); /* the rule's source, for the deviation check */
    bool converted = ref_convert(shared, r.rule, t, &set, &u, &q, &d);
    bool diagnosed = false;
    for (size_t i = 0; i < d.n; i++)
      diagnosed = diagnosed || (d.items[i].sev == SG_SEV_ERROR && d.items[i].loc.line > 0);
    char **mine = calloc(q.n + 1, sizeof *mine);
    for (size_t i = 0; i < q.n; i++)
      mine[i] = q.v[i].text;
    int c = classify(&r, text ? text : "", mine, q.n, converted, diagnosed);
    free(text);
    count[c]++;
    if (c == DIFFERENT) {
      sg_buf_catf(&report, "%s\n", r.rule);
      for (size_t i = 0; i < r.nq; i++)
        sg_buf_catf(&report, "  reference: %s\n", r.q[i]);
      for (size_t i = 0; i < q.n; i++)
        sg_buf_catf(&report, "  sigmacc:   %s\n", mine[i]);
    }
    free(mine);
    sg_queries_free(&q);
    sg_unit_free(&u);
    sg_diags_free(&d);
    ref_free(&r);
  }
  printf("%s:\n", jsonl);
  for (int c = 0; c < NCAT; c++)
    printf("  %-50s %zu\n", cat_names[c], count[c]);
  if (count[DIFFERENT]) {
    printf("unexplained differences:\n%s", report.data);
    fail_msg("%zu unexplained differences (listed above)", count[DIFFERENT]);
  }
  /* the common case is identical text */
  size_t total = 0;
  for (int c = 0; c < NCAT; c++)
    total += count[c];
  assert_true(count[IDENTICAL] * 2 > total);
  sg_buf_free(&report);
  sg_diags_free(&pd);
  sg_arena_free(&pa);
  free(data);
}

static void test_no_pipeline(void **state) {
  (void)state;
  compare("splunk-no-pipeline.jsonl", (const char *const[]){NULL});
}

static void test_sysmon_splunk_windows(void **state) {
  (void)state;
  compare("splunk-sysmon-windows.jsonl", (const char *const[]){"sysmon", "splunk_windows", NULL});
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_canonical),
      cmocka_unit_test(test_no_pipeline),
      cmocka_unit_test(test_sysmon_splunk_windows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
