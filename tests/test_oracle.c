/* test_oracle.c - the semantic oracle: the SPL sigmacc writes, its SPL2, its
 * AQL and the native evaluator must give the same verdict on every rule
 * and event. The queries run on executable models of the two languages
 * (oracle_models.c, with their assumptions stated there and in the README);
 * the evaluator implements Sigma's semantics directly.
 *
 * Rules: every rule of sigma-rules/ and of the SigmaHQ corpus (when present),
 * converted without pipelines (SPL with -O keywords=substring, so keywords
 * mean substrings as in Sigma; the default term rendering is counted
 * separately). Events: the real events of ../shared/reference/events/ and the
 * regression events against every rule; for each rule, events generated from
 * its resolved tree - one satisfying each choice of OR branches, the same
 * with the case of the values flipped (unless `cased`), with the values on a
 * line of a multi-line text, and near misses (a filter made true).
 * A rule that cannot meet Windows events (another product, or a category
 * or service without a product) is not compared on evtx_dump events: the
 * evaluator knows their log source, a query without a pipeline does not.
 *
 * CI runs every project rule, every 10th corpus rule and every 10th real
 * event; SIGMACC_ORACLE_FULL=1 (bench/oracle.sh) runs everything. Any
 * disagreement fails, naming the rule, the event and each engine's verdict;
 * so does a query the models cannot parse (a construct they do not know). */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <time.h>

#include "backend.h"
#include "oracle_models.h"

typedef struct ORule {
  const SgRule *r;
  char *path;
  OmQuery **spl, **spl2, **aql, **term; /* one query per condition (NULL: not converted) */
  size_t nspl, nspl2, naql, nterm;
  bool not_windows;
} ORule;

typedef struct Stats {
  size_t rules, pairs, generated, generated_pos, disagree, term_disagree, spl_skipped, spl2_skipped,
      aql_skipped;
  size_t reg_checked, reg_missed;
} Stats;

static Stats st;
static SgBuf report;
static size_t reported;

static bool full(void) { return getenv("SIGMACC_ORACLE_FULL") != NULL; }

/* ---- Queries ---------------------------------------------------------------------------- */

static void queries(SgUnit *u, const SgRule *r, const char *target, const SgOption *opts, size_t nopts,
                    OmQuery ***out, size_t *n, size_t *skipped) {
  const SgTarget *t = sg_target_find(target);
  SgConvCtx ctx = {.format = "default", .opts = opts, .nopts = nopts};
  SgPipelineSet none = {0};
  SgQueries q = {0};
  SgDiags d = {0};
  if (sg_convert_rule(t, &ctx, &none, u, r, &q, &d) != SG_OK) {
    (*skipped)++;
  } else {
    *out = calloc(q.n + 1, sizeof **out);
    for (size_t i = 0; i < q.n; i++) {
      char why[200];
      OmLang lang = !strcmp(target, "aql") ? OM_AQL : !strcmp(target, "splunk_spl2") ? OM_SPL2 : OM_SPL;
      OmQuery *m = om_parse(q.v[i].text, lang, why, sizeof why);
      if (!m)
        fail_msg("%s: the %s model does not know this query (%s):\n%s", u->path, target, why, q.v[i].text);
      (*out)[(*n)++] = m;
    }
  }
  sg_queries_free(&q);
  sg_diags_free(&d);
}

static bool any_match(OmQuery **q, size_t n, const SgJDoc *doc) {
  for (size_t i = 0; i < n; i++)
    if (om_matches(q[i], doc)) return true;
  return false;
}

/* ---- One comparison ------------------------------------------------------------------------ */

static void compare(const ORule *o, const SgJDoc *doc, bool eval_hit, const char *what, const char *event) {
  st.pairs++;
  bool spl = o->spl ? any_match(o->spl, o->nspl, doc) : eval_hit;
  bool spl2 = o->spl2 ? any_match(o->spl2, o->nspl2, doc) : eval_hit;
  bool aql = o->aql ? any_match(o->aql, o->naql, doc) : eval_hit;
  if (o->term && any_match(o->term, o->nterm, doc) != eval_hit) st.term_disagree++;
  if (spl == eval_hit && spl2 == eval_hit && aql == eval_hit) return;
  st.disagree++;
  if (reported++ < 10)
    sg_buf_catf(&report, "%s (%s): eval %s, SPL %s, SPL2 %s, AQL %s\n  event: %.400s\n", o->path, what,
                eval_hit ? "match" : "no", o->spl ? (spl ? "match" : "no") : "-",
                o->spl2 ? (spl2 ? "match" : "no") : "-", o->aql ? (aql ? "match" : "no") : "-", event);
}

/* ---- Generated events ---------------------------------------------------------------------- */

typedef struct Gen {
  SgBuf fields[64]; /* field name -> value text, as JSON members */
  const char *names[64];
  bool cased[64];
  size_t n, kw;
} Gen;

static SgBuf *slot(Gen *g, const char *name, bool cased) {
  for (size_t i = 0; i < g->n; i++)
    if (!strcmp(g->names[i], name)) return &g->fields[i];
  if (g->n == 64) return NULL;
  g->names[g->n] = name;
  g->cased[g->n] = cased;
  g->fields[g->n] = (SgBuf){0};
  return &g->fields[g->n++];
}

/* A string that satisfies the pattern: literals, '*' as nothing, '?' as x. */
static void render(SgBuf *b, const SgStr *s) {
  for (uint32_t i = 0; i < s->nparts; i++)
    if (s->parts[i].kind == SG_PART_LIT)
      sg_buf_catn(b, s->parts[i].s, s->parts[i].n);
    else if (s->parts[i].kind == SG_PART_QMARK)
      sg_buf_catc(b, 'x');
}

static void satisfy(Gen *g, const SgMatch *m) {
  static const char *const kwnames[] = {"kw0", "kw1", "kw2", "kw3", "kw4", "kw5", "kw6", "kw7"};
  const char *name = m->field ? m->field : kwnames[g->kw++ % 8];
  SgBuf *b = slot(g, name, m->cased);
  if (!b) return;
  const SgValue *v = &m->v;
  switch (m->op) {
  case SG_OP_EQ:
    if (v->kind == SG_V_STR)
      render(b, &v->str);
    else if (v->kind == SG_V_NUM && !b->len)
      sg_buf_cat(b, v->num.text);
    else if (v->kind == SG_V_BOOL && !b->len)
      sg_buf_cat(b, v->b ? "true" : "false");
    break;
  case SG_OP_RE: { /* a regex made only of literal characters is its own example */
    bool plain = true;
    for (size_t i = 0; i < v->re.len; i++)
      plain = plain && !strchr("\\^$.|?*+()[]{}", v->re.pat[i]);
    sg_buf_catn(b, plain ? v->re.pat : "x", plain ? v->re.len : 1);
    break;
  }
  case SG_OP_CIDR: {
    uint8_t a[16];
    memcpy(a, v->cidr.addr, 16);
    if (v->cidr.prefix < (v->cidr.family == 4 ? 32 : 128)) a[v->cidr.family == 4 ? 3 : 15] |= 1;
    char txt[64];
    inet_ntop(v->cidr.family == 4 ? AF_INET : AF_INET6, a, txt, sizeof txt);
    if (!b->len) sg_buf_cat(b, txt);
    break;
  }
  case SG_OP_LT:
  case SG_OP_LTE:
  case SG_OP_GT:
  case SG_OP_GTE:
    if (!b->len) sg_buf_catf(b, "%.17g", v->num.d + (m->op == SG_OP_LT ? -1 : m->op == SG_OP_GT ? 1 : 0));
    break;
  case SG_OP_EXISTS:
    if (!b->len && (v->kind != SG_V_BOOL || v->b)) sg_buf_cat(b, "x");
    break;
  default: /* field references: the two fields get the same value */
    if (!b->len) sg_buf_cat(b, "same");
    SgBuf *o = slot(g, v->str.parts[0].s, m->cased);
    if (o && !o->len) sg_buf_cat(o, "same");
    break;
  }
}

/* Make `n` true (want) or false, choosing OR branches (or the AND kid to
 * falsify) by `choice`. */
static void gen(Gen *g, const SgNode *n, bool want, unsigned choice, unsigned depth) {
  switch (n->kind) {
  case SG_N_TRUE:
  case SG_N_FALSE: return;
  case SG_N_NOT: gen(g, n->kids[0], !want, choice, depth + 1); return;
  case SG_N_MATCH:
    if (want) satisfy(g, &n->m);
    return; /* false: leave the field out */
  case SG_N_AND:
  case SG_N_OR: {
    bool all = (n->kind == SG_N_AND) == want;
    if (all) {
      for (uint32_t i = 0; i < n->nkids; i++)
        gen(g, n->kids[i], want, choice, depth + 1);
    } else {
      gen(g, n->kids[(choice + depth) % n->nkids], want, choice / (n->nkids ? n->nkids : 1), depth + 1);
    }
    return;
  }
  }
}

/* The values as generated, with the case flipped, on a line of a multi-line
 * text, or one value (the `which`th) ending in a line break: PCRE's and
 * Java's `$` also match before a final line break, which Sigma's values do
 * not end with. */
typedef enum Variant {
  V_AS_IS,
  V_FLIPPED,
  V_MULTILINE,
  V_END_LF,
  V_END_CRLF,
  V_END_CR,
  V_END_LS,
  V_LAST
} Variant;

static void event_text(const Gen *g, Variant v, size_t which, SgBuf *out) {
  static const char *const endings[] = {"\n", "\r\n", "\r", "\xe2\x80\xa8"};
  sg_buf_catc(out, '{');
  for (size_t i = 0; i < g->n; i++) {
    SgBuf val = {0};
    if (v == V_MULTILINE) sg_buf_cat(&val, "first line\n");
    const SgBuf *f = &g->fields[i];
    for (size_t k = 0; k < f->len; k++) {
      char c = f->data[k];
      if (v == V_FLIPPED && !g->cased[i] && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) c ^= 0x20;
      sg_buf_catc(&val, c);
    }
    if (v == V_MULTILINE) sg_buf_cat(&val, "\nlast line");
    if (v >= V_END_LF && i == which % g->n) sg_buf_cat(&val, endings[v - V_END_LF]);
    if (i) sg_buf_catc(out, ',');
    sg_json_str(out, g->names[i], strlen(g->names[i]));
    sg_buf_catc(out, ':');
    sg_json_str(out, sg_buf_cstr(&val), val.len);
    sg_buf_free(&val);
  }
  sg_buf_catc(out, '}');
}

/* The evaluator's verdict for one rule on one event. */
static bool eval_one(SgEvaluator *e, const SgJDoc *doc) {
  const SgEvalHit *h;
  size_t n;
  assert_int_equal(sg_eval_event(e, doc, &h, &n), SG_OK);
  return n > 0;
}

static void generated(const ORule *o) {
  SgEvaluator *e = sg_eval_new();
  SgDiags d = {0};
  if (sg_eval_add(e, o->r, &d) != SG_OK || sg_eval_prepare(e) != SG_OK) {
    sg_eval_free(e);
    sg_diags_free(&d);
    return;
  }
  SgJDoc doc = {0};
  for (size_t c = 0; c < o->r->nconds; c++) {
    const SgNode *root = o->r->conds[c].root;
    if (!root) continue;
    for (unsigned choice = 0; choice < 6; choice++)
      for (int want = 1; want >= 0; want--)
        for (int v = V_AS_IS; v < V_LAST; v++) {
          Gen g = {0};
          gen(&g, root, want, choice, 0);
          if (v >= V_END_LF && !g.n) continue;
          SgBuf text = {0};
          event_text(&g, (Variant)v, choice, &text);
          size_t off;
          const char *err;
          if (sg_json_parse(&doc, sg_buf_cstr(&text), text.len, &off, &err)) {
            bool hit = eval_one(e, &doc);
            st.generated++;
            st.generated_pos += hit;
            compare(o, &doc, hit, want ? "generated match" : "generated near miss", text.data);
          }
          sg_buf_free(&text);
          for (size_t i = 0; i < g.n; i++)
            sg_buf_free(&g.fields[i]);
        }
  }
  sg_jdoc_free(&doc);
  sg_eval_free(e);
  sg_diags_free(&d);
}

/* ---- The run ------------------------------------------------------------------------------ */

typedef struct Corpus {
  SgUnit *units;
  size_t nunits;
  ORule *rules;
  size_t n, cap;
} Corpus;

static void add_file(Corpus *c, const char *path) {
  SgDiags d = {0};
  char *src;
  size_t len;
  if (sg_read_file(path, &src, &len, &d) != SG_OK) {
    sg_diags_free(&d);
    return;
  }
  c->units = realloc(c->units, (c->nunits + 1) * sizeof *c->units);
  SgUnit *u = &c->units[c->nunits++];
  sg_compile_source(u, path, src, len, &d);
  sg_diags_free(&d);
  static const SgOption substring[] = {{"keywords", "substring"}};
  for (size_t i = 0; i < u->nrules; i++) {
    const SgRule *r = u->rules[i];
    if (r->failed || r->kind != SG_DOC_RULE || r->correlated) continue;
    if (c->n == c->cap) {
      c->cap = c->cap ? c->cap * 2 : 256;
      c->rules = realloc(c->rules, c->cap * sizeof *c->rules);
    }
    ORule *o = &c->rules[c->n++];
    memset(o, 0, sizeof *o);
    o->r = r;
    o->path = strdup(path);
    /* the evaluator's log-source model: a Windows event meets a rule for Windows, or without
     * a product whose category or service a loaded pipeline maps (none is loaded here), or
     * without a log source */
    const SgLogsource *ls = &r->logsource;
    o->not_windows =
        ls->product ? sg_ascii_casecmp(ls->product, "windows") != 0 : ls->category || ls->service;
    queries(u, r, "splunk", substring, 1, &o->spl, &o->nspl, &st.spl_skipped);
    queries(u, r, "splunk_spl2", NULL, 0, &o->spl2, &o->nspl2, &st.spl2_skipped);
    queries(u, r, "aql", NULL, 0, &o->aql, &o->naql, &st.aql_skipped);
    size_t ignored = 0;
    queries(u, r, "splunk", NULL, 0, &o->term, &o->nterm, &ignored);
  }
}

static void add_tree(Corpus *c, const char *dir, size_t every) {
  char *argv[] = {(char *)dir};
  SgPaths p = {0};
  SgDiags d = {0};
  sg_expand_paths(1, argv, &p, &d);
  for (size_t i = 0; i < p.n; i++)
    if (i % every == 0) add_file(c, p.v[i]);
  sg_paths_free(&p);
  sg_diags_free(&d);
}

/* Every rule against every event of `path` (every `every`-th), the evaluator
 * holding all rules at once. */
static void events_file(const Corpus *c, const char *path, size_t every) {
  FILE *f = fopen(path, "rb");
  if (!f) return;
  SgEvaluator *e = sg_eval_new();
  SgDiags d = {0};
  size_t *pos = calloc(c->n + 1, sizeof *pos), added = 0;
  for (size_t i = 0; i < c->n; i++)
    if (sg_eval_add(e, c->rules[i].r, &d) == SG_OK) pos[added++] = i;
  assert_int_equal(sg_eval_prepare(e), SG_OK);
  bool *hit = calloc(c->n + 1, sizeof *hit);
  SgEventIn in;
  sg_events_init(&in, f);
  const char *text, *msg;
  size_t len, line, k = 0;
  SgEvNext nx;
  while ((nx = sg_events_next(&in, &text, &len, &line, &msg)) != SG_EV_END) {
    if (nx != SG_EV_EVENT || k++ % every) continue;
    const SgEvalHit *h;
    size_t nh;
    assert_int_equal(sg_eval_event(e, &in.doc, &h, &nh), SG_OK);
    memset(hit, 0, (c->n + 1) * sizeof *hit);
    for (size_t i = 0; i < nh; i++)
      hit[pos[h[i].index]] = true;
    bool evtx = sg_jdoc_find(&in.doc, "Event.System.Channel", 20) != NULL;
    char where[1400];
    snprintf(where, sizeof where, "%s:%zu", path, line);
    for (size_t i = 0; i < c->n; i++)
      if (!(evtx && c->rules[i].not_windows)) compare(&c->rules[i], &in.doc, hit[i], where, text);
  }
  sg_events_free(&in);
  fclose(f);
  free(hit);
  free(pos);
  sg_eval_free(e);
  sg_diags_free(&d);
}

/* Each regression event fires its rule (named by the file) in all three engines. */
static void regression(const Corpus *c, const char *dir) {
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "find '%s' -name '*.json' 2>/dev/null | sort", dir);
  FILE *p = popen(cmd, "r");
  char path[1024];
  while (p && fgets(path, sizeof path, p)) {
    path[strcspn(path, "\n")] = '\0';
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (size_t i = 0; i < c->n; i++) {
      const ORule *o = &c->rules[i];
      if (!o->r->id || strncmp(base, o->r->id, strlen(o->r->id))) continue;
      FILE *f = fopen(path, "rb");
      SgEventIn in;
      sg_events_init(&in, f);
      const char *text, *msg;
      size_t len, line;
      bool eval = false, spl = false, spl2 = false, aql = false;
      SgEvaluator *e = sg_eval_new();
      SgPipelineSet set = {0};
      SgArena a;
      sg_arena_init(&a);
      SgDiags d = {0};
      /* the evaluator as eval runs it: with the evtx pipeline for Windows rules */
      SgPipelineState ps = {0};
      SgRule *proc;
      sg_pipeline_add(&a, &set, "evtx", &d);
      bool ok = sg_pipeline_apply(&a, &set, o->r, &proc, &ps, &d) == SG_OK &&
                sg_eval_add(e, proc, &d) == SG_OK && sg_eval_prepare(e) == SG_OK;
      while (ok && sg_events_next(&in, &text, &len, &line, &msg) == SG_EV_EVENT) {
        eval = eval || eval_one(e, &in.doc);
        spl = spl || (o->spl && any_match(o->spl, o->nspl, &in.doc));
        spl2 = spl2 || (o->spl2 && any_match(o->spl2, o->nspl2, &in.doc));
        aql = aql || (o->aql && any_match(o->aql, o->naql, &in.doc));
      }
      st.reg_checked++;
      if (!eval || (o->spl && !spl) || (o->spl2 && !spl2) || (o->aql && !aql)) {
        st.reg_missed++;
        sg_buf_catf(&report, "regression %s: eval %d, SPL %d, SPL2 %d, AQL %d\n", path, eval, spl, spl2, aql);
      }
      sg_events_free(&in);
      fclose(f);
      sg_eval_free(e);
      sg_arena_free(&a);
      sg_diags_free(&d);
    }
  }
  if (p) pclose(p);
}

static void test_oracle(void **state) {
  (void)state;
  const char *corpus = getenv("SIGMACC_CORPUS");
  char cdir[1024];
  snprintf(cdir, sizeof cdir, "%s", corpus ? corpus : SIGMACC_SOURCE_DIR "/../shared/sigmahq");
  Corpus c = {0};
  double t0 = (double)clock() / CLOCKS_PER_SEC;
  add_tree(&c, SIGMACC_SOURCE_DIR "/sigma-rules", 1);
  size_t own = c.n;
  static const char *const dirs[] = {"rules", "rules-emerging-threats", "rules-threat-hunting",
                                     "rules-compliance", "rules-placeholder"};
  char path[1200];
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    snprintf(path, sizeof path, "%s/%s", cdir, dirs[i]);
    struct stat sb;
    if (stat(path, &sb) == 0) add_tree(&c, path, full() ? 1 : 10);
  }
  st.rules = c.n;
  for (size_t i = 0; i < c.n; i++)
    generated(&c.rules[i]);
  snprintf(path, sizeof path, "%s/../reference/events/evtx-attack-samples.jsonl", cdir);
  events_file(&c, path, full() ? 1 : 10);
  snprintf(path, sizeof path, "%s/../reference/regression", cdir);
  regression(&c, path);
  double t1 = (double)clock() / CLOCKS_PER_SEC;
  printf(
      "oracle: %zu rules (%zu of the project), %zu rule x event verdicts compared (%zu on generated events, "
      "%zu of them matches), %zu regression events; not converted: SPL %zu, SPL2 %zu, AQL %zu; %.1f s\n"
      "oracle: %zu disagreements; SPL with keyword terms (the default) differs on %zu verdicts\n",
      st.rules, own, st.pairs, st.generated, st.generated_pos, st.reg_checked, st.spl_skipped,
      st.spl2_skipped, st.aql_skipped, t1 - t0, st.disagree + st.reg_missed, st.term_disagree);
  if (st.disagree || st.reg_missed) fail_msg("the engines disagree:\n%s", sg_buf_cstr(&report));
  sg_buf_free(&report);
  for (size_t i = 0; i < c.n; i++) {
    ORule *o = &c.rules[i];
    for (size_t k = 0; k < o->nspl; k++)
      om_free(o->spl[k]);
    for (size_t k = 0; k < o->nspl2; k++)
      om_free(o->spl2[k]);
    for (size_t k = 0; k < o->naql; k++)
      om_free(o->aql[k]);
    for (size_t k = 0; k < o->nterm; k++)
      om_free(o->term[k]);
    free(o->spl);
    free(o->spl2);
    free(o->aql);
    free(o->term);
    free(o->path);
  }
  free(c.rules);
  for (size_t i = 0; i < c.nunits; i++)
    sg_unit_free(&c.units[i]);
  free(c.units);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_oracle)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
