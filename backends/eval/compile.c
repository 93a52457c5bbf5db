/* compile.c - resolved rule trees -> matchers: patterns, regexes, field ids;
 * the evaluator's life (new, add, free). */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"

SgEvaluator *sg_eval_new(void) {
  SgEvaluator *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  sg_arena_init(&e->arena);
  e->cr.f_eventid = sg_ev_intern_add(&e->cr.fields, "EventID", 7);
  e->cr.f_channel = sg_ev_intern_add(&e->cr.fields, "Channel", 7);
  if (e->cr.f_eventid == UINT32_MAX || e->cr.f_channel == UINT32_MAX) {
    sg_eval_free(e);
    return NULL;
  }
  return e;
}

static void free_code(void *p) { pcre2_code_free(p); }

void sg_eval_free(SgEvaluator *e) {
  if (!e) return;
  /* the per-event state: its own in a fork too */
  free(e->ev.present.v);
  pcre2_match_data_free(e->ev.md);
  pcre2_match_context_free(e->ev.mctx);
  pcre2_jit_stack_free(e->ev.jit);
  free(e->res.undecided);
  free(e->res.hits);
  free(e->ev.field_gen);
  free(e->ev.field_first);
  free(e->ev.rule_stamp);
  free(e->ev.vals);
  free(e->ev.next);
  free(e->ev.ftext);
  free(e->ev.leaf_field);
  free(e->ev.hay);
  free(e->pf.lit_gen);
  free(e->pf.seen.v);
  if (!e->forked) { /* the compiled rules and indexes */
    sg_ev_intern_free(&e->cr.fields);
    sg_ev_intern_free(&e->ix.keys);
    sg_ev_intern_free(&e->cr.roots);
    for (size_t i = 0; i < e->ix.nby_key; i++)
      free(e->ix.by_key[i].v);
    free(e->ix.by_key);
    for (size_t i = 0; i < e->cr.fields.n && e->ix.by_field; i++)
      free(e->ix.by_field[i].v);
    free(e->ix.by_field);
    free(e->ix.always.v);
    for (size_t i = 0; i < e->pf.nlits; i++)
      free(e->pf.lits[i].rules.v);
    free(e->pf.lits);
    sg_ev_intern_free(&e->pf.lit_keys);
    for (int t = 0; t < 2; t++) {
      free(e->pf.tab[t].slots);
      free(e->pf.tab[t].keys);
      free(e->pf.tab[t].fields);
      free(e->pf.tab[t].bloom);
    }
    free(e->pf.field_lits);
    for (size_t i = 0; i < e->cr.nrules; i++)
      free(e->cr.rules[i].need);
    free(e->cr.rules);
    sg_arena_free(&e->arena);
  }
  free(e);
}

size_t sg_eval_rule_count(const SgEvaluator *e) { return e->cr.nrules; }

void sg_eval_set_logsources(SgEvaluator *e, const SgPipelineSet *pipelines, const SgLogsource *declared) {
  e->cr.known = pipelines;
  e->cr.declared = declared ? *declared : (SgLogsource){0};
}

/* ---- compiling ---------------------------------------------------------------------- */

static bool compile_pattern(SgEvaluator *e, const SgStr *s, bool cased, Pattern *p) {
  /* fold literal parts unless cased */
  SgPart *parts = sg_arena_alloc(&e->arena, (s->nparts + 1) * sizeof *parts);
  if (!parts) return false;
  for (uint32_t i = 0; i < s->nparts; i++) {
    parts[i] = s->parts[i];
    if (parts[i].kind == SG_PART_LIT && !cased) {
      char *f = sg_arena_alloc(&e->arena, parts[i].n + 1);
      if (!f) return false;
      sg_fold(f, parts[i].s, parts[i].n);
      parts[i].s = f;
    }
  }
  p->parts = parts;
  p->nparts = s->nparts;
  uint32_t n = s->nparts;
  bool lead = n && parts[0].kind == SG_PART_STAR, trail = n > 1 && parts[n - 1].kind == SG_PART_STAR;
  uint32_t inner = n - lead - trail;
  const SgPart *mid = &parts[lead];
  if (n == 0) {
    p->kind = P_EXACT;
    p->lit = "";
    p->litlen = 0;
  } else if (n == 1 && lead) {
    p->kind = P_ANY;
  } else if (inner == 1 && mid->kind == SG_PART_LIT) {
    p->kind = lead && trail ? P_CONTAINS : lead ? P_SUFFIX : trail ? P_PREFIX : P_EXACT;
    p->lit = mid->s;
    p->litlen = mid->n;
  } else {
    p->kind = P_GLOB;
  }
  return true;
}

/* A number as an index key: "%.17g", with integers (event ids) written
 * directly, since snprintf would dominate a per-event lookup. */
static SgStatus unsupported(SgDiags *d, const SgNode *n, const char *what) {
  sg_diag(d, SG_D_UNSUPPORTED, n->loc, "the evaluator cannot match %s", what);
  return SG_ERR_UNSUPPORTED;
}

static SgStatus compile(SgEvaluator *e, const SgNode *n, CNode **out, SgDiags *d) {
  CNode *c = sg_arena_alloc(&e->arena, sizeof *c);
  if (!c) return SG_ERR_NOMEM;
  *out = c;
  c->need = c->kw = -1;
  switch (n->kind) {
  case SG_N_TRUE: c->kind = C_TRUE; return SG_OK;
  case SG_N_FALSE: c->kind = C_FALSE; return SG_OK;
  case SG_N_AND:
  case SG_N_OR:
  case SG_N_NOT:
    c->kind = n->kind == SG_N_AND ? C_AND : n->kind == SG_N_OR ? C_OR : C_NOT;
    c->nkids = n->nkids;
    c->kids = sg_arena_alloc(&e->arena, (n->nkids + 1) * sizeof *c->kids);
    if (!c->kids) return SG_ERR_NOMEM;
    for (uint32_t i = 0; i < n->nkids; i++) {
      SgStatus st = compile(e, n->kids[i], &c->kids[i], d);
      if (st) return st;
    }
    return SG_OK;
  case SG_N_MATCH: break;
  }
  const SgMatch *m = &n->m;
  c->kind = C_MATCH;
  c->kw = -1;
  c->need = -1;
  c->op = (uint8_t)m->op;
  c->vkind = (uint8_t)m->v.kind;
  c->tspart = (uint8_t)m->tspart;
  c->cased = m->cased;
  c->field = m->field ? sg_ev_intern_add(&e->cr.fields, m->field, strlen(m->field)) : UINT32_MAX;
  if (m->field && c->field == UINT32_MAX) return SG_ERR_NOMEM;
  const char *dot = m->field ? strchr(m->field, '.') : NULL;
  if (dot && sg_ev_intern_add(&e->cr.roots, m->field, (size_t)(dot - m->field)) == UINT32_MAX)
    return SG_ERR_NOMEM;
  const SgPart *ph = NULL;
  for (uint32_t i = 0; m->v.kind == SG_V_STR && i < m->v.str.nparts; i++)
    if (m->v.str.parts[i].kind == SG_PART_PLACEHOLDER) ph = &m->v.str.parts[i];
  if (ph) return sg_placeholder_error(d, n->loc, ph);
  switch (m->v.kind) {
  case SG_V_EXPR: return unsupported(d, n, "a query expression placeholder");
  case SG_V_STR:
    if (!m->field) { /* keywords: the value occurs anywhere in a string */
      SgStr w;
      if (sg_str_wrap(&e->arena, &m->v.str, true, true, &w)) return SG_ERR_NOMEM;
      if (!compile_pattern(e, &w, m->cased, &c->pat)) return SG_ERR_NOMEM;
      return sg_ev_add_keyword(e, c) ? SG_OK : SG_ERR_NOMEM;
    }
    if (!compile_pattern(e, &m->v.str, m->cased, &c->pat)) return SG_ERR_NOMEM;
    if (m->op == SG_OP_EQ && !m->tspart) {
      /* the per-event literal scan answers `*literal*` outright, and lets
       * other patterns fail without looking at the values */
      const SgPart *lit = sg_ev_longest_lit(&c->pat);
      int32_t id = lit ? sg_ev_lit_add(e, c->field, lit->s, lit->n, m->cased) : -1;
      if (lit && id < 0) return SG_ERR_NOMEM;
      if (id >= 0) {
        e->pf.lits[id].keyword = true;
        e->pf.lits[id].windows |= e->cr.compiling_windows;
        c->need = id;
        if (!m->cased && c->pat.kind == P_CONTAINS) c->kw = id;
      }
    }
    return SG_OK;
  case SG_V_NUM: {
    c->num = m->v.num.d;
    SgStr s;
    if (sg_str_parse(&e->arena, m->v.num.text, strlen(m->v.num.text), &s)) return SG_ERR_NOMEM;
    if (!m->field && sg_str_wrap(&e->arena, &s, true, true, &s)) return SG_ERR_NOMEM;
    if (!compile_pattern(e, &s, true, &c->pat)) return SG_ERR_NOMEM;
    return m->field || sg_ev_add_keyword(e, c) ? SG_OK : SG_ERR_NOMEM;
  }
  case SG_V_BOOL: c->b = m->v.b; return SG_OK;
  case SG_V_NULL: return SG_OK;
  case SG_V_CIDR: c->cidr = m->v.cidr; return SG_OK;
  case SG_V_FIELD:
    c->field2 = sg_ev_intern_add(&e->cr.fields, m->v.str.parts[0].s, m->v.str.parts[0].n);
    return c->field2 == UINT32_MAX ? SG_ERR_NOMEM : SG_OK;
  case SG_V_RE: {
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (m->v.re.flags & SG_RE_I) opts |= PCRE2_CASELESS;
    if (m->v.re.flags & SG_RE_M) opts |= PCRE2_MULTILINE;
    if (m->v.re.flags & SG_RE_S) opts |= PCRE2_DOTALL;
    int err;
    PCRE2_SIZE off;
    c->re = pcre2_compile((PCRE2_SPTR)m->v.re.pat, m->v.re.len, opts, &err, &off, NULL);
    if (!c->re) return unsupported(d, n, "this regular expression");
    pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE);
    if (!sg_arena_defer(&e->arena, free_code, c->re)) return c->re = NULL, SG_ERR_NOMEM; /* freed already */
    return SG_OK;
  }
  }
  return SG_OK;
}

/* Static cost of evaluating a node, for ordering AND kids: a match gated by
 * the literal scan is answered in O(1), a plain comparison is cheap, a
 * regex, glob or keyword scan is dear. */
static int node_cost(const CNode *c) {
  if (c->kind != C_MATCH) return c->kind == C_TRUE || c->kind == C_FALSE ? 0 : 2;
  if (c->need >= 0) return 0;
  if (c->field == UINT32_MAX || c->op == SG_OP_RE || c->pat.kind == P_GLOB) return 3;
  return 1;
}

static void order_ands(CNode *c) {
  for (uint32_t i = 0; i < c->nkids; i++)
    order_ands(c->kids[i]);
  if (c->kind != C_AND) return;
  for (uint32_t i = 1; i < c->nkids; i++) { /* stable insertion sort: keeps the rule's order among equals */
    CNode *k = c->kids[i];
    int cost = node_cost(k);
    uint32_t j = i;
    while (j > 0 && node_cost(c->kids[j - 1]) > cost) {
      c->kids[j] = c->kids[j - 1];
      j--;
    }
    c->kids[j] = k;
  }
}

SgStatus sg_eval_add(SgEvaluator *e, const SgRule *r, SgDiags *d) {
  CRule cr = {.rule = r};
  const SgLogsource *ls = &r->logsource, *dl = &e->cr.declared;
  if (ls->product)
    cr.not_windows = sg_ascii_casecmp(ls->product, "windows") != 0;
  else if (ls->category || ls->service) /* a log source with no product: Windows if a pipeline maps it */
    cr.not_windows = !e->cr.known || !sg_pipeline_knows_logsource(e->cr.known, "windows", ls);
  cr.not_declared = (ls->product && dl->product && sg_ascii_casecmp(ls->product, dl->product)) ||
                    (ls->category && dl->category && sg_ascii_casecmp(ls->category, dl->category)) ||
                    (ls->service && dl->service && sg_ascii_casecmp(ls->service, dl->service));
  e->cr.compiling_windows = !cr.not_windows;
  cr.conds = sg_arena_alloc(&e->arena, (r->nconds + 1) * sizeof *cr.conds);
  if (!cr.conds) return SG_ERR_NOMEM;
  for (size_t i = 0; i < r->nconds; i++) {
    if (!r->conds[i].root) continue;
    SgStatus st = compile(e, r->conds[i].root, &cr.conds[cr.nconds], d);
    if (st) return st;
    order_ands(cr.conds[cr.nconds]); /* AND has no side effects: cheap kids first */
    cr.nconds++;
  }
  if (!cr.nconds) return SG_OK;
  if (e->cr.nrules == e->cr.caprules) {
    size_t cap = e->cr.caprules ? e->cr.caprules * 2 : 256;
    CRule *v = realloc(e->cr.rules, cap * sizeof *v);
    if (!v) return SG_ERR_NOMEM;
    e->cr.rules = v;
    e->cr.caprules = cap;
  }
  e->cr.rules[e->cr.nrules++] = cr;
  return SG_OK;
}

/* ---- indexing ------------------------------------------------------------------------- */
