/* index.c - which rules an event can meet: each rule is indexed by a literal set
 * one of which it needs, by its EventID or Channel values, by a field it
 * requires, or else checked on every event. */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"

void sg_ev_num_key(char *out, size_t cap, double x) {
  if (x >= 0 && x < 1e15 && x == (double)(uint64_t)x) {
    char tmp[24];
    size_t n = 0;
    uint64_t v = (uint64_t)x;
    do
      tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    for (size_t i = 0; i < n; i++)
      out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return;
  }
  snprintf(out, cap, "%.17g", x);
}

typedef struct Keys {
  char buf[64][48];
  size_t n;
  bool overflow;
} Keys;

/* Does `c` imply that `field` takes one of a known set of plain values? */
static bool key_values(const CNode *c, uint32_t field, char tag, Keys *k) {
  switch (c->kind) {
  case C_MATCH: {
    if (c->field != field || c->op != SG_OP_EQ || c->tspart) return false;
    const Pattern *p = &c->pat;
    if ((c->vkind != SG_V_STR && c->vkind != SG_V_NUM) || p->kind != P_EXACT || (tag == 'c' && c->cased))
      return false;
    if (k->n == 64 || p->litlen > 40) return k->overflow = true, false;
    char *out = k->buf[k->n++];
    out[0] = tag;
    out[1] = ':';
    if (c->vkind == SG_V_NUM && !isnan(c->num))
      sg_ev_num_key(out + 2, 46, c->num);
    else
      memcpy(out + 2, p->lit, p->litlen), out[2 + p->litlen] = '\0';
    return true;
  }
  case C_OR:
    for (uint32_t i = 0; i < c->nkids; i++)
      if (!key_values(c->kids[i], field, tag, k)) return false;
    return c->nkids > 0;
  case C_AND:
    for (uint32_t i = 0; i < c->nkids; i++) {
      Keys save = *k;
      if (key_values(c->kids[i], field, tag, k)) return true;
      *k = save;
    }
    return false;
  default: return false;
  }
}

/* A field that must be present for `c` to match, or UINT32_MAX. */
static uint32_t required_field(const CNode *c) {
  switch (c->kind) {
  case C_MATCH:
    if (c->field == UINT32_MAX || (c->op == SG_OP_EQ && c->vkind == SG_V_NULL)) return UINT32_MAX;
    return c->field;
  case C_AND:
    for (uint32_t i = 0; i < c->nkids; i++) {
      uint32_t f = required_field(c->kids[i]);
      if (f != UINT32_MAX) return f;
    }
    return UINT32_MAX;
  case C_OR: {
    uint32_t f = UINT32_MAX;
    for (uint32_t i = 0; i < c->nkids; i++) {
      uint32_t g = required_field(c->kids[i]);
      if (g == UINT32_MAX || (i && g != f)) return UINT32_MAX;
      f = g;
    }
    return f;
  }
  default: return UINT32_MAX;
  }
}

/* The literal a positive string match needs, or -1. */
static int32_t match_lit(SgEvaluator *e, const CNode *c) {
  if (c->kind != C_MATCH || c->op != SG_OP_EQ || c->tspart || c->vkind != SG_V_STR) return -1;
  const SgPart *lit = sg_ev_longest_lit(&c->pat);
  return lit ? sg_ev_lit_add(e, c->field, lit->s, lit->n, c->cased) : -1;
}

/* Pass 1: count, per literal, the rules whose positive matches need it. */
static void count_popularity(SgEvaluator *e, const CNode *c, uint32_t ri) {
  if (c->kind == C_NOT) return;
  if (c->kind == C_MATCH) {
    int32_t id = match_lit(e, c);
    if (id >= 0 && e->pf.lits[id].last_rule != ri) {
      e->pf.lits[id].last_rule = ri;
      e->pf.lits[id].popularity++;
    }
    return;
  }
  for (uint32_t i = 0; i < c->nkids; i++)
    count_popularity(e, c->kids[i], ri);
}

/* Literals one of which must occur for `c` to be true (false: no such set).
 * AND picks the kid whose set is cheapest: the fewest rules share it. */
static bool needs(SgEvaluator *e, const CNode *c, IdList *out) {
  switch (c->kind) {
  case C_MATCH: {
    int32_t id = match_lit(e, c);
    if (id < 0) return false;
    if (!sg_ev_idlist_add(out, (uint32_t)id)) return e->ev.failed = true, false;
    return true;
  }
  case C_OR:
    for (uint32_t i = 0; i < c->nkids; i++)
      if (!needs(e, c->kids[i], out)) return false;
    return c->nkids > 0;
  case C_AND: {
    IdList best = {0};
    size_t best_cost = 0;
    for (uint32_t i = 0; i < c->nkids; i++) {
      IdList k = {0};
      if (needs(e, c->kids[i], &k) && k.n) {
        size_t cost = 0;
        for (size_t j = 0; j < k.n; j++)
          cost += e->pf.lits[k.v[j]].popularity;
        if (!best.v || cost < best_cost) {
          free(best.v);
          best = k;
          best_cost = cost;
          continue;
        }
      }
      free(k.v);
    }
    if (!best.v) return false;
    bool ok = true;
    for (size_t j = 0; j < best.n && ok; j++)
      ok = sg_ev_idlist_add(out, best.v[j]);
    free(best.v);
    if (!ok) e->ev.failed = true; /* a partial set would be narrower than the rule */
    return ok;
  }
  default: return false;
  }
}

static bool high_byte(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] >= 0x80) return true;
  return false;
}

/* Whether `c` can only be true on a value holding a non-ASCII byte: a string
 * match whose literal has one (case folding keeps ASCII and the rest apart),
 * an OR of such, an AND with one. A pure-ASCII event then skips the rule. */
static bool needs_nonascii(const CNode *c) {
  switch (c->kind) {
  case C_MATCH:
    if (c->op != SG_OP_EQ || c->tspart || c->vkind != SG_V_STR || c->re) return false;
    if (c->pat.kind == P_GLOB) {
      for (uint32_t i = 0; i < c->pat.nparts; i++)
        if (c->pat.parts[i].kind == SG_PART_LIT && high_byte(c->pat.parts[i].s, c->pat.parts[i].n))
          return true;
      return false;
    }
    return c->pat.kind != P_ANY && high_byte(c->pat.lit, c->pat.litlen);
  case C_OR:
    for (uint32_t i = 0; i < c->nkids; i++)
      if (!needs_nonascii(c->kids[i])) return false;
    return c->nkids > 0;
  case C_AND:
    for (uint32_t i = 0; i < c->nkids; i++)
      if (needs_nonascii(c->kids[i])) return true;
    return false;
  default: return false;
  }
}

static bool index_rule(SgEvaluator *e, uint32_t ri) {
  const CRule *r = &e->cr.rules[ri];
  IdList need = {0};
  bool covered = true;
  for (size_t c = 0; c < r->nconds && covered; c++)
    covered = needs(e, r->conds[c], &need);
  /* a literal many rules share (a Channel name, say) selects less than an
   * EventID: then the EventID index is used instead */
  uint32_t popular = 0;
  for (size_t i = 0; covered && i < need.n; i++)
    if (e->pf.lits[need.v[i]].popularity > popular) popular = e->pf.lits[need.v[i]].popularity;
  if (covered && popular > POPULAR_LITERAL) {
    Keys k = {0};
    bool by_id = true;
    for (size_t c = 0; c < r->nconds && by_id; c++)
      by_id = key_values(r->conds[c], e->cr.f_eventid, 'e', &k);
    if (by_id && !k.overflow) {
      covered = false;
      e->cr.rules[ri].need = need.v; /* still a cheap test before the tree */
      e->cr.rules[ri].nneed = need.n;
      need.v = NULL;
    }
  }
  if (covered && need.n) {
    for (size_t i = 0; i < need.n; i++) {
      if (!sg_ev_idlist_add(&e->pf.lits[need.v[i]].rules, ri)) return free(need.v), false;
      if (!r->not_windows) e->pf.lits[need.v[i]].windows = true;
    }
    free(need.v);
    return true;
  }
  free(need.v);
  /* every condition must be covered by the same kind of key, else "always" */
  static const struct {
    char tag;
    bool channel;
  } kinds[] = {{'e', false}, {'c', true}};
  for (size_t kk = 0; kk < 2; kk++) {
    Keys k = {0};
    bool all = true;
    for (size_t c = 0; c < r->nconds && all; c++)
      all = key_values(r->conds[c], kinds[kk].channel ? e->cr.f_channel : e->cr.f_eventid, kinds[kk].tag, &k);
    if (!all || k.overflow) continue;
    for (size_t i = 0; i < k.n; i++) {
      if (kinds[kk].channel) sg_fold(k.buf[i] + 2, k.buf[i] + 2, strlen(k.buf[i] + 2));
      uint32_t id = sg_ev_intern_add(&e->ix.keys, k.buf[i], strlen(k.buf[i]));
      if (id == UINT32_MAX) return false;
      if (id >= e->ix.nby_key) {
        size_t cap = e->ix.keys.cap;
        IdList *v = realloc(e->ix.by_key, cap * sizeof *v);
        if (!v) return false;
        memset(v + e->ix.nby_key, 0, (cap - e->ix.nby_key) * sizeof *v);
        e->ix.by_key = v;
        e->ix.nby_key = cap;
      }
      if (!sg_ev_idlist_add(&e->ix.by_key[id], ri)) return false;
    }
    return true;
  }
  uint32_t f = required_field(r->conds[0]);
  for (size_t c = 1; c < r->nconds && f != UINT32_MAX; c++)
    if (required_field(r->conds[c]) != f) f = UINT32_MAX;
  if (f == UINT32_MAX) return sg_ev_idlist_add(&e->ix.always, ri);
  return sg_ev_idlist_add(&e->ix.by_field[f], ri);
}

/* The per-event state of an evaluator (or of a fork). */
static bool scratch_new(SgEvaluator *e) {
  e->ev.field_gen = calloc(e->cr.fields.n + 1, sizeof *e->ev.field_gen);
  e->ev.field_first = calloc(e->cr.fields.n + 1, sizeof *e->ev.field_first);
  e->ev.rule_stamp = calloc(e->cr.nrules + 1, sizeof *e->ev.rule_stamp);
  e->ev.md = pcre2_match_data_create(32, NULL);
  /* a JIT stack for real rules: `(.){200,}` on a 2,000-character command line
   * needs far more than PCRE2's 32 KiB default */
  e->ev.mctx = pcre2_match_context_create(NULL);
  e->ev.jit = pcre2_jit_stack_create(32 * 1024, SG_EVAL_JIT_STACK, NULL);
  if (!e->ev.field_gen || !e->ev.field_first || !e->ev.rule_stamp || !e->ev.md || !e->ev.mctx || !e->ev.jit)
    return false;
  pcre2_jit_stack_assign(e->ev.mctx, NULL, e->ev.jit);
  e->ev.nfield_alloc = e->cr.fields.n;
  return true;
}

SgEvaluator *sg_eval_fork(const SgEvaluator *base) {
  SgEvaluator *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->forked = true;
  e->cr = base->cr;
  e->ix = base->ix;
  e->pf = base->pf;
  e->pf.seen = (IdList){0};
  e->pf.lit_event = 0;
  e->pf.lit_gen = calloc(base->pf.nlits + 1, sizeof *e->pf.lit_gen);
  if (!e->pf.lit_gen || !scratch_new(e)) {
    sg_eval_free(e);
    return NULL;
  }
  return e;
}

SgStatus sg_eval_prepare(SgEvaluator *e) {
  e->ix.by_field = calloc(e->cr.fields.n + 1, sizeof *e->ix.by_field);
  if (!e->ix.by_field || !scratch_new(e)) return SG_ERR_NOMEM;
  for (uint32_t i = 0; i < e->cr.nrules; i++)
    for (size_t c = 0; c < e->cr.rules[i].nconds; c++)
      count_popularity(e, e->cr.rules[i].conds[c], i);
  e->ev.failed = false;
  for (uint32_t i = 0; i < e->cr.nrules; i++) {
    if (!index_rule(e, i)) return SG_ERR_NOMEM;
    CRule *r = &e->cr.rules[i];
    r->nonascii = r->nconds > 0;
    for (size_t c = 0; c < r->nconds && r->nonascii; c++)
      r->nonascii = needs_nonascii(r->conds[c]);
  }
  if (!sg_ev_build_prefilter(e) || e->ev.failed) return SG_ERR_NOMEM;
  return SG_OK;
}
