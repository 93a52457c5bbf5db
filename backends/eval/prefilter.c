/* prefilter.c - the literal prefilter: case-folded literals of 4+ bytes that some
 * pattern needs, found in one pass over the event's values. */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"

/* The literal id of (field, folded text), added when new; -1 when out of memory. */
int32_t sg_ev_lit_add(SgEvaluator *e, uint32_t field, const char *s, size_t n, bool fold) {
  char stack[256];
  char *key = n + 4 <= sizeof stack ? stack : malloc(n + 4);
  if (!key) return -1;
  memcpy(key, &field, 4);
  if (fold)
    sg_fold(key + 4, s, n);
  else
    memcpy(key + 4, s, n);
  uint32_t found = sg_ev_intern_find(&e->pf.lit_keys, key, n + 4);
  int32_t id = -1;
  if (found != UINT32_MAX) {
    id = (int32_t)found;
  } else {
    /* room first: an interned key's id is its literal's index */
    if (e->pf.nlits == e->pf.caplits) {
      size_t cap = e->pf.caplits ? e->pf.caplits * 2 : 256;
      Lit *v = realloc(e->pf.lits, cap * sizeof *v);
      if (v) {
        e->pf.lits = v;
        e->pf.caplits = cap;
      }
    }
    if (e->pf.nlits < e->pf.caplits &&
        (found = sg_ev_intern_add(&e->pf.lit_keys, key, n + 4)) != UINT32_MAX) {
      /* interned keys may contain NUL bytes; the literal is the tail of the stored key */
      e->pf.lits[e->pf.nlits] =
          (Lit){e->pf.lit_keys.names[found] + 4, n, field, {-1, -1}, 0, {0}, 0, UINT32_MAX, false, false};
      id = (int32_t)e->pf.nlits++;
    }
  }
  if (key != stack) free(key);
  return id;
}

/* The longest literal part of a pattern, if it has 4+ bytes. */
const SgPart *sg_ev_longest_lit(const Pattern *p) {
  const SgPart *best = NULL;
  for (uint32_t i = 0; i < p->nparts; i++)
    if (p->parts[i].kind == SG_PART_LIT && p->parts[i].n >= 4 && (!best || p->parts[i].n > best->n))
      best = &p->parts[i];
  return best;
}

/* A `*literal*` keyword of 4+ bytes is answered by the prefilter. */
bool sg_ev_add_keyword(SgEvaluator *e, CNode *c) {
  if (c->pat.kind != P_CONTAINS || c->pat.litlen < 4 || (c->cased && c->vkind == SG_V_STR)) return true;
  c->kw = sg_ev_lit_add(e, LIT_ANY, c->pat.lit, c->pat.litlen, false);
  if (c->kw >= 0) e->pf.lits[c->kw].keyword = true;
  if (c->kw >= 0 && e->cr.compiling_windows) e->pf.lits[c->kw].windows = true;
  return c->kw >= 0;
}

static uint32_t lit_hash(uint64_t w, uint32_t field) {
  uint64_t h = (w ^ ((uint64_t)field * 0x9E3779B97F4A7C15ull)) * 0xD6E8FEB86659FD93ull;
  return (uint32_t)(h >> (64 - KW_BITS));
}

/* A 4-byte window's bit in the first-level filter (whatever the field). */
static inline uint32_t gram4(uint64_t w) {
  return (uint32_t)((uint32_t)w * 0x9E3779B1u) >> (32 - GRAM4_BITS);
}

static uint64_t load_key(const char *s, size_t width) {
  uint64_t w = 0;
  memcpy(&w, s, width);
  return w;
}

static bool table_init(LitTable *t, size_t width, size_t n, int which) {
  t->which = which;
  size_t ns = 64;
  while (ns < n * 2)
    ns *= 2;
  t->width = width;
  t->nslots = ns;
  t->slots = calloc(ns, sizeof *t->slots);
  t->keys = calloc(ns, sizeof *t->keys);
  t->fields = calloc(ns, sizeof *t->fields);
  t->bloom = calloc((1u << KW_BITS) / 64, sizeof *t->bloom);
  return t->slots && t->keys && t->fields && t->bloom;
}

static void table_add(SgEvaluator *e, LitTable *t, uint32_t id) {
  Lit *l = &e->pf.lits[id];
  uint64_t w = load_key(l->s + l->anchor, t->width);
  uint32_t h = lit_hash(w, l->field);
  t->bloom[h >> 6] |= 1ull << (h & 63);
  size_t slot = h & (t->nslots - 1);
  while (t->slots[slot] && (t->keys[slot] != w || t->fields[slot] != l->field))
    slot = (slot + 1) & (t->nslots - 1);
  if (t->slots[slot]) l->next[t->which] = (int32_t)t->slots[slot] - 1;
  t->keys[slot] = w;
  t->fields[slot] = l->field;
  t->slots[slot] = id + 1;
  uint32_t g = gram4(w);
  t->gram4[g >> 6] |= 1ull << (g & 63);
}

/* Anchor each literal at its rarest window (fewest literals share it), so
 * the chains the scan walks stay short even when many literals share a
 * prefix such as "c:\\windows\\". */
static bool choose_anchors(SgEvaluator *e) {
  size_t total = 0;
  for (size_t i = 0; i < e->pf.nlits; i++) {
    const Lit *l = &e->pf.lits[i];
    if (l->rules.n || l->keyword) total += l->n - 4 + 1;
  }
  size_t ns = 64;
  while (ns < total * 2)
    ns *= 2;
  uint64_t *keys = calloc(ns, sizeof *keys);
  uint32_t *fields = calloc(ns, sizeof *fields), *counts = calloc(ns, sizeof *counts);
  if (!keys || !fields || !counts) {
    free(keys);
    free(fields);
    free(counts);
    return false;
  }
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < e->pf.nlits; i++) {
      Lit *l = &e->pf.lits[i];
      if (!l->rules.n && !l->keyword) continue;
      size_t width = 4;
      uint32_t best = UINT32_MAX;
      for (size_t o = 0; o + width <= l->n; o++) {
        uint64_t w = load_key(l->s + o, width) ^ width; /* 4- and 8-byte windows apart */
        size_t slot = lit_hash(w, l->field) & (ns - 1);
        while (counts[slot] && (keys[slot] != w || fields[slot] != l->field))
          slot = (slot + 1) & (ns - 1);
        if (pass == 0) {
          keys[slot] = w;
          fields[slot] = l->field;
          counts[slot]++;
        } else if (counts[slot] < best) {
          best = counts[slot];
          l->anchor = (uint32_t)o;
        }
      }
    }
  free(keys);
  free(fields);
  free(counts);
  return true;
}

bool sg_ev_build_prefilter(SgEvaluator *e) {
  e->pf.field_lits = calloc(e->cr.fields.n + 1, sizeof *e->pf.field_lits);
  e->pf.lit_gen = calloc(e->pf.nlits + 1, sizeof *e->pf.lit_gen);
  if (!e->pf.field_lits || !e->pf.lit_gen) return false;
  size_t n4 = 0, n8 = 0;
  for (size_t i = 0; i < e->pf.nlits; i++)
    if (e->pf.lits[i].rules.n || e->pf.lits[i].keyword) {
      if (e->pf.lits[i].n >= 8)
        n8++;
      else
        n4++;
    }
  if (!table_init(&e->pf.tab[0], 4, n4 + n8, 0) || !table_init(&e->pf.tab[1], 4, n4 + n8, 1)) return false;
  if (!choose_anchors(e)) return false;
  for (size_t i = 0; i < e->pf.nlits; i++) {
    Lit *l = &e->pf.lits[i];
    if (!l->rules.n && !l->keyword) continue; /* a candidate no rule was indexed by */
    table_add(e, &e->pf.tab[0], (uint32_t)i);
    if (l->windows) table_add(e, &e->pf.tab[1], (uint32_t)i);
    if (l->field == LIT_ANY) {
      e->pf.any_lits = true;
      e->pf.any_lits_windows |= l->windows;
    } else
      e->pf.field_lits[l->field] = true;
  }
  return true;
}

/* Literals anchored at h[i..i+4) for `field`. */
static void probe(SgEvaluator *e, const LitTable *t, const char *h, size_t n, size_t i, uint64_t w,
                  uint32_t field) {
  uint32_t hh = lit_hash(w, field);
  if (!(t->bloom[hh >> 6] & (1ull << (hh & 63)))) return;
  size_t slot = hh & (t->nslots - 1);
  while (t->slots[slot] && (t->keys[slot] != w || t->fields[slot] != field))
    slot = (slot + 1) & (t->nslots - 1);
  if (!t->slots[slot]) return;
  for (int32_t k = (int32_t)t->slots[slot] - 1; k >= 0; k = e->pf.lits[k].next[t->which]) {
    const Lit *l = &e->pf.lits[k];
    if (e->pf.lit_gen[k] == e->ev.event || i < l->anchor) continue;
    size_t start = i - l->anchor;
    if (start + l->n <= n && !memcmp(h + start, l->s, l->n)) {
      e->pf.lit_gen[k] = e->ev.event;
      if (!sg_ev_idlist_add(&e->pf.seen, (uint32_t)k)) e->ev.failed = true;
    }
  }
}

/* One pass over a value for all the keys (fields, ANY) it is searched under;
 * a bitmap of the anchors' 4-byte windows, in L1, rejects most positions
 * before the per-field tables are looked at. */
static void scan_value(SgEvaluator *e, const LitTable *t, const char *h, size_t n, const uint32_t *keys,
                       size_t nkeys) {
  for (size_t i = 0; i + 4 <= n; i++) {
    uint64_t w = load_key(h + i, 4);
    uint32_t g = gram4(w);
    if (!(t->gram4[g >> 6] & (1ull << (g & 63)))) continue;
    for (size_t k = 0; k < nkeys; k++)
      probe(e, t, h, n, i, w, keys[k]);
  }
}

/* Find every literal that occurs in this event, once. */
void sg_ev_lit_scan(SgEvaluator *e) {
  e->pf.lit_event = e->ev.event;
  e->pf.seen.n = 0;
  if (!e->pf.nlits) return;
  const char *f = sg_ev_folded_text(e);
  /* rules for other products never run on a Windows event: skip their keywords */
  bool any = e->ev.windows_event ? e->pf.any_lits_windows : e->pf.any_lits;
  const LitTable *t = &e->pf.tab[e->ev.windows_event];
  for (size_t i = 0; i < e->ev.doc->n; i++) {
    const SgJLeaf *l = &e->ev.doc->leaves[i];
    if (l->type == SG_J_NULL) continue;
    uint32_t keys[3], nk = 0, a = e->ev.leaf_field[2 * i], b = e->ev.leaf_field[2 * i + 1];
    if (a != UINT32_MAX && e->pf.field_lits[a]) keys[nk++] = a;
    if (b != UINT32_MAX && b != a && e->pf.field_lits[b]) keys[nk++] = b;
    if (any && (l->type == SG_J_STR || l->type == SG_J_NUM)) keys[nk++] = LIT_ANY;
    if (nk) scan_value(e, t, f + l->val, l->vallen, keys, nk);
  }
}
