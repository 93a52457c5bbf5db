/* eval.c - compile resolved rule trees into matchers and run them on events.
 *
 * Field names used by any rule are interned; per event, each JSON leaf is
 * looked up once by its short name and by its dotted path and attached to
 * the field's value list. Strings compare case-insensitively (Unicode-aware
 * folding, once per value per event) unless `cased`; wildcards are compiled
 * to exact/prefix/suffix/contains tests where the pattern allows.
 */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigmacc.h"

/* ==== Compiled rules ================================================================ */

typedef enum PatKind { P_EXACT, P_PREFIX, P_SUFFIX, P_CONTAINS, P_ANY, P_GLOB } PatKind;

typedef struct Pattern {
  PatKind kind;
  const char *lit; /* EXACT/PREFIX/SUFFIX/CONTAINS: the literal */
  size_t litlen;
  SgPart *parts; /* GLOB */
  uint32_t nparts;
} Pattern;

enum { C_AND, C_OR, C_NOT, C_MATCH, C_TRUE, C_FALSE };

typedef struct CNode CNode;
struct CNode { /* what eval_node reads first is in the first 32 bytes */
  uint8_t kind;
  uint8_t op;    /* SgOp */
  uint8_t vkind; /* SgValKind */
  uint8_t tspart;
  bool cased;
  int32_t need;    /* a literal any matching value must contain (-1: none) */
  int32_t kw;      /* `*literal*` answered by the event's literal scan (-1: none) */
  uint32_t field;  /* interned id; UINT32_MAX = keyword */
  uint32_t field2; /* fieldref target */
  uint32_t nkids;
  CNode **kids;
  Pattern pat;
  pcre2_code *re;
  double num;
  bool b;
  SgCidr cidr;
};

typedef struct CRule {
  const SgRule *rule;
  bool not_windows; /* the rule's product is another than windows */
  CNode **conds;
  size_t nconds;
  uint64_t stamp; /* last event that evaluated this rule */
  uint32_t *need; /* indexed by another key: literals one of which must occur */
  size_t nneed;
} CRule;

/* string -> id hash table */
typedef struct Intern {
  char **names; /* binary-safe: lengths in lens */
  size_t *lens;
  size_t n, cap;
  uint32_t *slots; /* open addressing: id + 1, 0 = empty */
  size_t nslots;
} Intern;

typedef struct IdList {
  uint32_t *v;
  size_t n, cap;
} IdList;

typedef struct Val {
  const char *s; /* the value in the document text */
  uint32_t off;  /* its offset there (and in the folded copy) */
  uint32_t n;
  uint8_t type;  /* SgJType */
  uint8_t numst; /* 0: not parsed yet, 1: num holds it, 2: not a number */
  double num;
} Val;

/* Literal prefilter: case-folded literals of 4+ bytes that some pattern needs
 * in some field's values (or, for keywords, in any value), found in one pass
 * per event. A rule whose every condition needs one of a set of literals is
 * only evaluated when one of them occurs. */
#define KW_BITS 18
#define POPULAR_LITERAL 16 /* rules sharing a literal before it counts as unselective */
#define LIT_ANY UINT32_MAX
/* (field, first K bytes) -> chain of literals, behind a bloom filter */
typedef struct LitTable {
  uint32_t *slots; /* first literal + 1, 0 = empty */
  uint64_t *keys;
  uint32_t *fields;
  size_t nslots;
  uint64_t *bloom;
  uint64_t bigram[1024]; /* first two bytes of every anchor window */
  size_t width;          /* K: 4 */
  int which;             /* index into Lit.next */
} LitTable;

typedef struct Lit {
  const char *s; /* folded */
  size_t n;
  uint32_t field;      /* field id, or LIT_ANY */
  int32_t next[2];     /* next literal with the same (field, anchor window), per table */
  uint32_t anchor;     /* offset of the window it is found by (its rarest) */
  IdList rules;        /* rules indexed by this literal */
  uint32_t popularity; /* how many rules could use it (selectivity estimate) */
  uint32_t last_rule;  /* for counting each rule once */
  bool keyword;        /* a keyword node reads its result */
  bool windows;        /* a rule that applies to Windows events uses it */
} Lit;

/* The evaluator's state, in named parts. */
typedef struct EvRules { /* the compiled rules and the names they use */
  Intern fields;         /* field names any rule reads */
  CRule *rules;
  size_t nrules, caprules;
  uint32_t f_eventid, f_channel;
  Intern roots;           /* first components of dotted field names: only leaves under
                             one of them are looked up by their full path */
  bool compiling_windows; /* sg_eval_add: the rule applies to Windows events */
} EvRules;

typedef struct EvIndex { /* which rules an event can meet */
  Intern keys;           /* EventID / Channel values ("e:4688", "c:security") */
  IdList *by_key;        /* per key id: rule indexes */
  size_t nby_key;
  IdList *by_field; /* per field id: rule indexes (presence) */
  IdList always;
} EvIndex;

typedef struct EvPrefilter { /* literals found in one pass per event */
  Lit *lits;
  size_t nlits, caplits;
  Intern lit_keys;   /* "field id + literal" -> literal id */
  LitTable tab[2];   /* all literals; those Windows-applicable rules use */
  uint64_t *lit_gen; /* per literal: last event it occurred in */
  uint64_t lit_event;
  bool *field_lits;                /* per field: some literal is searched in it */
  bool any_lits, any_lits_windows; /* keyword literals; some a Windows-applicable rule reads */
  IdList seen;                     /* literals found in this event */
} EvPrefilter;

typedef struct EvScratch { /* the event being matched */
  uint64_t event;          /* its serial: per-field and per-literal stamps compare with it */
  const SgJDoc *doc;
  bool windows_event;    /* evtx shape (Event.System.Channel): only rules for windows or no product apply */
  uint64_t *field_gen;   /* per field: event that filled it */
  uint32_t *field_first; /* per field: first value index */
  size_t nfield_alloc;
  Val *vals;
  uint32_t *next; /* per value: next value of the same field */
  size_t nvals, capvals;
  IdList present;
  char *ftext; /* the document text, case-folded (same offsets), when needed */
  size_t fcap;
  uint64_t ftext_event;
  char *hay; /* folded string values of the event, NUL-separated */
  size_t hlen, hcap;
  uint64_t hay_event;
  uint32_t *leaf_field; /* per leaf of the event: its two field ids (name, path) */
  size_t nleaf_field;
  pcre2_match_data *md;
  pcre2_match_context *mctx;
  pcre2_jit_stack *jit;
  int re_error; /* PCRE2 error of a match in the condition being evaluated */
  bool failed;  /* an allocation failed (this event, or preparing the index) */
} EvScratch;

typedef struct EvResults { /* what the event gave */
  SgEvalHit *hits;
  size_t nhits, caphits;
  SgEvalHit *undecided; /* rules whose result a regex limit left unknown */
  size_t nundecided, capundecided;
} EvResults;

struct SgEvaluator {
  SgArena arena; /* compiled trees, patterns, regexes */
  EvRules cr;
  EvIndex ix;
  EvPrefilter pf;
  EvScratch ev;
  EvResults res;
};

static uint64_t hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static uint32_t intern_find(const Intern *t, const char *s, size_t n) {
  if (!t->nslots) return UINT32_MAX;
  for (size_t i = hash(s, n) & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
    uint32_t id = t->slots[i];
    if (!id) return UINT32_MAX;
    if (t->lens[id - 1] == n && !memcmp(t->names[id - 1], s, n)) return id - 1;
  }
}

static bool intern_grow(Intern *t) {
  size_t ns = t->nslots ? t->nslots * 2 : 256;
  uint32_t *slots = calloc(ns, sizeof *slots);
  if (!slots) return false;
  for (size_t id = 0; id < t->n; id++) {
    size_t i = hash(t->names[id], t->lens[id]) & (ns - 1);
    while (slots[i])
      i = (i + 1) & (ns - 1);
    slots[i] = (uint32_t)id + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = ns;
  return true;
}

static uint32_t intern_add(Intern *t, const char *s, size_t n) {
  uint32_t id = intern_find(t, s, n);
  if (id != UINT32_MAX) return id;
  if ((t->n + 1) * 2 > t->nslots && !intern_grow(t)) return UINT32_MAX;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    char **v = realloc(t->names, cap * sizeof *v);
    if (v) t->names = v;
    size_t *l = realloc(t->lens, cap * sizeof *l);
    if (l) t->lens = l;
    if (!v || !l) return UINT32_MAX;
    t->cap = cap;
  }
  char *copy = malloc(n + 1);
  if (!copy) return UINT32_MAX;
  memcpy(copy, s, n);
  copy[n] = '\0';
  t->names[t->n] = copy;
  t->lens[t->n] = n;
  size_t i = hash(s, n) & (t->nslots - 1);
  while (t->slots[i])
    i = (i + 1) & (t->nslots - 1);
  t->slots[i] = (uint32_t)t->n + 1;
  return (uint32_t)t->n++;
}

static void intern_free(Intern *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->names[i]);
  free(t->names);
  free(t->lens);
  free(t->slots);
}

static bool idlist_add(IdList *l, uint32_t id) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    uint32_t *v = realloc(l->v, cap * sizeof *v);
    if (!v) return false;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = id;
  return true;
}

SgEvaluator *sg_eval_new(void) {
  SgEvaluator *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  sg_arena_init(&e->arena);
  e->cr.f_eventid = intern_add(&e->cr.fields, "EventID", 7);
  e->cr.f_channel = intern_add(&e->cr.fields, "Channel", 7);
  if (e->cr.f_eventid == UINT32_MAX || e->cr.f_channel == UINT32_MAX) {
    sg_eval_free(e);
    return NULL;
  }
  return e;
}

static void free_code(void *p) { pcre2_code_free(p); }

void sg_eval_free(SgEvaluator *e) {
  if (!e) return;
  intern_free(&e->cr.fields);
  intern_free(&e->ix.keys);
  intern_free(&e->cr.roots);
  for (size_t i = 0; i < e->ix.nby_key; i++)
    free(e->ix.by_key[i].v);
  free(e->ix.by_key);
  for (size_t i = 0; i < e->cr.fields.n && e->ix.by_field; i++)
    free(e->ix.by_field[i].v);
  free(e->ix.by_field);
  free(e->ix.always.v);
  free(e->ev.present.v);
  pcre2_match_data_free(e->ev.md);
  pcre2_match_context_free(e->ev.mctx);
  pcre2_jit_stack_free(e->ev.jit);
  free(e->res.undecided);
  free(e->ev.field_gen);
  free(e->ev.field_first);
  free(e->ev.vals);
  free(e->ev.next);
  free(e->ev.ftext);
  for (size_t i = 0; i < e->pf.nlits; i++)
    free(e->pf.lits[i].rules.v);
  free(e->pf.lits);
  intern_free(&e->pf.lit_keys);
  for (int t = 0; t < 2; t++) {
    free(e->pf.tab[t].slots);
    free(e->pf.tab[t].keys);
    free(e->pf.tab[t].fields);
    free(e->pf.tab[t].bloom);
  }
  free(e->pf.lit_gen);
  free(e->pf.field_lits);
  free(e->pf.seen.v);
  free(e->ev.leaf_field);
  free(e->ev.hay);
  free(e->res.hits);
  for (size_t i = 0; i < e->cr.nrules; i++)
    free(e->cr.rules[i].need);
  free(e->cr.rules);
  sg_arena_free(&e->arena);
  free(e);
}

size_t sg_eval_rule_count(const SgEvaluator *e) { return e->cr.nrules; }

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
static void num_key(char *out, size_t cap, double x) {
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

static size_t utf8_len(unsigned char c) {
  return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
}

static bool glob(const SgPart *p, uint32_t np, const char *s, size_t n) {
  while (np) {
    if (p->kind == SG_PART_STAR) {
      if (np == 1) return true;
      for (size_t i = 0; i <= n; i++)
        if (glob(p + 1, np - 1, s + i, n - i)) return true;
      return false;
    }
    if (p->kind == SG_PART_QMARK) {
      if (!n) return false;
      size_t l = utf8_len((unsigned char)*s);
      if (l > n) l = n;
      s += l;
      n -= l;
    } else {
      if (p->n > n || memcmp(p->s, s, p->n)) return false;
      s += p->n;
      n -= p->n;
    }
    p++;
    np--;
  }
  return n == 0;
}

/* memmem, with short needles (those the literal index cannot take, 1-3
 * bytes) found by memchr on their first byte: no call setup per value. */
static inline bool contains(const char *s, size_t n, const char *lit, size_t m) {
  if (m == 0) return true;
  if (n < m) return false;
  if (m > 3) return memmem(s, n, lit, m) != NULL;
  const char *end = s + n - m + 1;
  for (const char *q = s; q < end && (q = memchr(q, lit[0], (size_t)(end - q))); q++)
    if (m == 1 || (q[1] == lit[1] && (m == 2 || q[2] == lit[2]))) return true;
  return false;
}

static bool pattern_match(const Pattern *p, const char *s, size_t n) {
  switch (p->kind) {
  case P_EXACT: return n == p->litlen && !memcmp(s, p->lit, n);
  case P_PREFIX: return n >= p->litlen && !memcmp(s, p->lit, p->litlen);
  case P_SUFFIX: return n >= p->litlen && !memcmp(s + n - p->litlen, p->lit, p->litlen);
  case P_CONTAINS: return contains(s, n, p->lit, p->litlen);
  case P_ANY: return true;
  case P_GLOB: return glob(p->parts, p->nparts, s, n);
  }
  return false;
}

/* The case-folded document text, made once per event on first use; folding
 * keeps lengths, so a value's folded form sits at the same offset. */
static const char *folded_text(SgEvaluator *e) {
  if (e->ev.ftext_event != e->ev.event) { /* values only: paths and names are never compared */
    const SgJDoc *d = e->ev.doc;
    for (size_t i = 0; i < d->n; i++)
      sg_fold(e->ev.ftext + d->leaves[i].val, d->text + d->leaves[i].val, d->leaves[i].vallen);
    e->ev.ftext_event = e->ev.event;
  }
  return e->ev.ftext;
}

/* The literal id of (field, folded text), added when new; -1 when out of memory. */
static int32_t lit_add(SgEvaluator *e, uint32_t field, const char *s, size_t n, bool fold) {
  char stack[256];
  char *key = n + 4 <= sizeof stack ? stack : malloc(n + 4);
  if (!key) return -1;
  memcpy(key, &field, 4);
  if (fold)
    sg_fold(key + 4, s, n);
  else
    memcpy(key + 4, s, n);
  uint32_t found = intern_find(&e->pf.lit_keys, key, n + 4);
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
    if (e->pf.nlits < e->pf.caplits && (found = intern_add(&e->pf.lit_keys, key, n + 4)) != UINT32_MAX) {
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
static const SgPart *longest_lit(const Pattern *p) {
  const SgPart *best = NULL;
  for (uint32_t i = 0; i < p->nparts; i++)
    if (p->parts[i].kind == SG_PART_LIT && p->parts[i].n >= 4 && (!best || p->parts[i].n > best->n))
      best = &p->parts[i];
  return best;
}

/* A `*literal*` keyword of 4+ bytes is answered by the prefilter. */
static bool add_keyword(SgEvaluator *e, CNode *c) {
  if (c->pat.kind != P_CONTAINS || c->pat.litlen < 4 || (c->cased && c->vkind == SG_V_STR)) return true;
  c->kw = lit_add(e, LIT_ANY, c->pat.lit, c->pat.litlen, false);
  if (c->kw >= 0) e->pf.lits[c->kw].keyword = true;
  if (c->kw >= 0 && e->cr.compiling_windows) e->pf.lits[c->kw].windows = true;
  return c->kw >= 0;
}

static uint32_t lit_hash(uint64_t w, uint32_t field) {
  uint64_t h = (w ^ ((uint64_t)field * 0x9E3779B97F4A7C15ull)) * 0xD6E8FEB86659FD93ull;
  return (uint32_t)(h >> (64 - KW_BITS));
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
  unsigned bg = (unsigned char)l->s[l->anchor] | (unsigned)(unsigned char)l->s[l->anchor + 1] << 8;
  t->bigram[bg >> 6] |= 1ull << (bg & 63);
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

static bool build_prefilter(SgEvaluator *e) {
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
      if (!idlist_add(&e->pf.seen, (uint32_t)k)) e->ev.failed = true;
    }
  }
}

/* One pass over a value for all the keys (fields, ANY) it is searched under;
 * a bigram bitmap in L1 rejects most positions before any hashing. */
static void scan_value(SgEvaluator *e, const LitTable *t, const char *h, size_t n, const uint32_t *keys,
                       size_t nkeys) {
  for (size_t i = 0; i + 4 <= n; i++) {
    unsigned b = (unsigned char)h[i] | (unsigned)(unsigned char)h[i + 1] << 8;
    if (!(t->bigram[b >> 6] & (1ull << (b & 63)))) continue;
    uint64_t w = load_key(h + i, 4);
    for (size_t k = 0; k < nkeys; k++)
      probe(e, t, h, n, i, w, keys[k]);
  }
}

/* Find every literal that occurs in this event, once. */
static void lit_scan(SgEvaluator *e) {
  e->pf.lit_event = e->ev.event;
  e->pf.seen.n = 0;
  if (!e->pf.nlits) return;
  const char *f = folded_text(e);
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
  c->field = m->field ? intern_add(&e->cr.fields, m->field, strlen(m->field)) : UINT32_MAX;
  if (m->field && c->field == UINT32_MAX) return SG_ERR_NOMEM;
  const char *dot = m->field ? strchr(m->field, '.') : NULL;
  if (dot && intern_add(&e->cr.roots, m->field, (size_t)(dot - m->field)) == UINT32_MAX) return SG_ERR_NOMEM;
  const SgPart *ph = NULL;
  for (uint32_t i = 0; m->v.kind == SG_V_STR && i < m->v.str.nparts; i++)
    if (m->v.str.parts[i].kind == SG_PART_PLACEHOLDER) ph = &m->v.str.parts[i];
  if (ph) {
    sg_diag(d, SG_D_UNSUPPORTED, n->loc,
            "placeholder %%%.*s%% is not resolved (use a value_placeholders pipeline)", (int)ph->n, ph->s);
    return SG_ERR_UNSUPPORTED;
  }
  switch (m->v.kind) {
  case SG_V_EXPR: return unsupported(d, n, "a query expression placeholder");
  case SG_V_STR:
    if (!m->field) { /* keywords: the value occurs anywhere in a string */
      SgStr w;
      if (sg_str_wrap(&e->arena, &m->v.str, true, true, &w)) return SG_ERR_NOMEM;
      if (!compile_pattern(e, &w, m->cased, &c->pat)) return SG_ERR_NOMEM;
      return add_keyword(e, c) ? SG_OK : SG_ERR_NOMEM;
    }
    if (!compile_pattern(e, &m->v.str, m->cased, &c->pat)) return SG_ERR_NOMEM;
    if (m->op == SG_OP_EQ && !m->tspart) {
      /* the per-event literal scan answers `*literal*` outright, and lets
       * other patterns fail without looking at the values */
      const SgPart *lit = longest_lit(&c->pat);
      int32_t id = lit ? lit_add(e, c->field, lit->s, lit->n, m->cased) : -1;
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
    return m->field || add_keyword(e, c) ? SG_OK : SG_ERR_NOMEM;
  }
  case SG_V_BOOL: c->b = m->v.b; return SG_OK;
  case SG_V_NULL: return SG_OK;
  case SG_V_CIDR: c->cidr = m->v.cidr; return SG_OK;
  case SG_V_FIELD:
    c->field2 = intern_add(&e->cr.fields, m->v.str.parts[0].s, m->v.str.parts[0].n);
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
  cr.not_windows = r->logsource.product && sg_ascii_casecmp(r->logsource.product, "windows");
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
      num_key(out + 2, 46, c->num);
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
  const SgPart *lit = longest_lit(&c->pat);
  return lit ? lit_add(e, c->field, lit->s, lit->n, c->cased) : -1;
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
    if (!idlist_add(out, (uint32_t)id)) return e->ev.failed = true, false;
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
      ok = idlist_add(out, best.v[j]);
    free(best.v);
    if (!ok) e->ev.failed = true; /* a partial set would be narrower than the rule */
    return ok;
  }
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
      if (!idlist_add(&e->pf.lits[need.v[i]].rules, ri)) return free(need.v), false;
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
      uint32_t id = intern_add(&e->ix.keys, k.buf[i], strlen(k.buf[i]));
      if (id == UINT32_MAX) return false;
      if (id >= e->ix.nby_key) {
        size_t cap = e->ix.keys.cap;
        IdList *v = realloc(e->ix.by_key, cap * sizeof *v);
        if (!v) return false;
        memset(v + e->ix.nby_key, 0, (cap - e->ix.nby_key) * sizeof *v);
        e->ix.by_key = v;
        e->ix.nby_key = cap;
      }
      if (!idlist_add(&e->ix.by_key[id], ri)) return false;
    }
    return true;
  }
  uint32_t f = required_field(r->conds[0]);
  for (size_t c = 1; c < r->nconds && f != UINT32_MAX; c++)
    if (required_field(r->conds[c]) != f) f = UINT32_MAX;
  if (f == UINT32_MAX) return idlist_add(&e->ix.always, ri);
  return idlist_add(&e->ix.by_field[f], ri);
}

SgStatus sg_eval_prepare(SgEvaluator *e) {
  e->ix.by_field = calloc(e->cr.fields.n + 1, sizeof *e->ix.by_field);
  e->ev.field_gen = calloc(e->cr.fields.n + 1, sizeof *e->ev.field_gen);
  e->ev.field_first = calloc(e->cr.fields.n + 1, sizeof *e->ev.field_first);
  e->ev.md = pcre2_match_data_create(32, NULL);
  /* a JIT stack for real rules: `(.){200,}` on a 2,000-character command line
   * needs far more than PCRE2's 32 KiB default */
  e->ev.mctx = pcre2_match_context_create(NULL);
  e->ev.jit = pcre2_jit_stack_create(32 * 1024, SG_EVAL_JIT_STACK, NULL);
  if (!e->ix.by_field || !e->ev.field_gen || !e->ev.field_first || !e->ev.md || !e->ev.mctx || !e->ev.jit)
    return SG_ERR_NOMEM;
  pcre2_jit_stack_assign(e->ev.mctx, NULL, e->ev.jit);
  e->ev.nfield_alloc = e->cr.fields.n;
  for (uint32_t i = 0; i < e->cr.nrules; i++)
    for (size_t c = 0; c < e->cr.rules[i].nconds; c++)
      count_popularity(e, e->cr.rules[i].conds[c], i);
  e->ev.failed = false;
  for (uint32_t i = 0; i < e->cr.nrules; i++)
    if (!index_rule(e, i)) return SG_ERR_NOMEM;
  if (!build_prefilter(e) || e->ev.failed) return SG_ERR_NOMEM;
  return SG_OK;
}

/* ==== Matching ============================================================================ */

/* A regex search. A match PCRE2 cannot finish (match, depth or heap limit,
 * JIT stack) is not a non-match: it is kept in e->ev.re_error and the rule's
 * result for the event is reported as undecided. */
static bool re_match(SgEvaluator *e, const CNode *c, const char *s, size_t n) {
  int rc = pcre2_match(c->re, (PCRE2_SPTR)s, n, 0, 0, e->ev.md, e->ev.mctx);
  if (rc >= 0) return true;
  if (rc != PCRE2_ERROR_NOMATCH) e->ev.re_error = rc;
  return false;
}

static void attach(SgEvaluator *e, uint32_t f, const SgJLeaf *l) {
  if (e->ev.nvals == e->ev.capvals) {
    size_t cap = e->ev.capvals ? e->ev.capvals * 2 : 256;
    Val *v = realloc(e->ev.vals, cap * sizeof *v);
    uint32_t *nx = realloc(e->ev.next, cap * sizeof *nx);
    if (v) e->ev.vals = v;
    if (nx) e->ev.next = nx;
    if (!v || !nx) {
      e->ev.failed = true;
      return;
    }
    e->ev.capvals = cap;
  }
  uint32_t vi = (uint32_t)e->ev.nvals++;
  e->ev.vals[vi] = (Val){e->ev.doc->text + l->val, l->val, l->vallen, (uint8_t)l->type, 0, 0};
  e->ev.next[vi] = UINT32_MAX;
  if (e->ev.field_gen[f] != e->ev.event) {
    e->ev.field_gen[f] = e->ev.event;
    e->ev.field_first[f] = vi;
    if (!idlist_add(&e->ev.present, f)) e->ev.failed = true;
    return;
  }
  uint32_t *p = &e->ev.field_first[f];
  while (*p != UINT32_MAX)
    p = &e->ev.next[*p]; /* keep document order */
  *p = vi;
}

static const char *vfolded(SgEvaluator *e, const Val *v) { return folded_text(e) + v->off; }

static bool parse_num(const Val *v, double *d);

/* A value as a number, parsed at most once per event. */
static bool to_num(const Val *cv, double *d) {
  Val *v = (Val *)cv;
  if (!v->numst) v->numst = parse_num(v, &v->num) ? 1 : 2;
  *d = v->num;
  return v->numst == 1;
}

static bool parse_num(const Val *v, double *d) {
  if (v->type != SG_J_NUM && v->type != SG_J_STR) return false;
  if (!v->n || v->n > 63) return false;
  char tmp[64];
  memcpy(tmp, v->s, v->n);
  tmp[v->n] = '\0';
  char *end;
  const char *start = tmp;
  while (*start == ' ')
    start++;
  if (!*start) return false;
  if (start[0] == '0' && (start[1] == 'x' || start[1] == 'X')) {
    *d = (double)strtoull(start + 2, &end, 16);
    return *end == '\0' && end != start + 2;
  }
  *d = strtod(start, &end);
  return *end == '\0';
}

static bool ip_in(const SgCidr *c, const Val *v) {
  if (v->type != SG_J_STR || v->n >= 64) return false;
  char tmp[64];
  memcpy(tmp, v->s, v->n);
  tmp[v->n] = '\0';
  unsigned char addr[16];
  int fam = c->family == 4 ? AF_INET : AF_INET6;
  if (inet_pton(fam, tmp, addr) != 1) {
    /* an IPv4-mapped IPv6 address matches an IPv4 network */
    if (c->family != 4 || inet_pton(AF_INET6, tmp, addr) != 1) return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, mapped, 12)) return false;
    memmove(addr, addr + 12, 4);
  }
  for (int bit = 0; bit < c->prefix; bit++) {
    unsigned char m = (unsigned char)(0x80 >> (bit % 8));
    if ((addr[bit / 8] & m) != (c->addr[bit / 8] & m)) return false;
  }
  return true;
}

/* minute/hour/day/week/month/year of an ISO-8601-like timestamp */
static bool ts_part(const Val *v, int part, double *out) {
  if (v->type != SG_J_STR || v->n < 10) return false;
  int y, mo, d, h = 0, mi = 0;
  char sep = 0;
  int got = sscanf(v->s, "%4d-%2d-%2d%c%2d:%2d", &y, &mo, &d, &sep, &h, &mi);
  if (got < 3 || mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  if (got < 6) h = mi = 0;
  switch (part) {
  case SG_TS_MINUTE: *out = mi; return got == 6;
  case SG_TS_HOUR: *out = h; return got == 6;
  case SG_TS_DAY: *out = d; return true;
  case SG_TS_MONTH: *out = mo; return true;
  case SG_TS_YEAR: *out = y; return true;
  case SG_TS_WEEK: {
    /* ISO week number (Sakamoto's weekday, Monday = 1) */
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    int yy = y - (mo < 3);
    int wd = (yy + yy / 4 - yy / 100 + yy / 400 + t[mo - 1] + d) % 7;
    if (wd == 0) wd = 7;
    static const int cum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    bool leap = (y % 4 == 0 && y % 100) || y % 400 == 0;
    int yday = cum[mo - 1] + d + (leap && mo > 2);
    int w = (yday - wd + 10) / 7;
    if (w < 1) w = 52;
    if (w > 52) w = 52; /* the spec knows weeks 1-52 */
    *out = w;
    return true;
  }
  }
  return false;
}

static bool cmp_num(SgOp op, double a, double b) {
  switch (op) {
  case SG_OP_LT: return a < b;
  case SG_OP_LTE: return a <= b;
  case SG_OP_GT: return a > b;
  case SG_OP_GTE: return a >= b;
  default: return a == b;
  }
}

static bool str_match(SgEvaluator *e, const CNode *c, Val *v) {
  if (v->type == SG_J_NULL) return false;
  if (c->cased) return pattern_match(&c->pat, v->s, v->n);
  return pattern_match(&c->pat, vfolded(e, v), v->n);
}

static bool value_match(SgEvaluator *e, const CNode *c, Val *v) {
  if (c->tspart) {
    double x;
    return ts_part(v, c->tspart, &x) && cmp_num(c->op, x, c->num);
  }
  switch (c->op) {
  case SG_OP_EQ:
    switch (c->vkind) {
    case SG_V_NULL: return v->type == SG_J_NULL;
    case SG_V_BOOL:
      if (v->type == SG_J_BOOL || v->type == SG_J_STR) {
        const char *w = c->b ? "true" : "false";
        return v->n == strlen(w) && !strncmp(vfolded(e, v), w, v->n);
      }
      return false;
    case SG_V_NUM: {
      double x;
      if (to_num(v, &x)) return x == c->num;
      return v->type == SG_J_STR && pattern_match(&c->pat, v->s, v->n);
    }
    default: return str_match(e, c, v);
    }
  case SG_OP_RE: {
    if (v->type == SG_J_NULL) return false;
    return re_match(e, c, v->s, v->n);
  }
  case SG_OP_CIDR: return ip_in(&c->cidr, v);
  case SG_OP_LT:
  case SG_OP_LTE:
  case SG_OP_GT:
  case SG_OP_GTE: {
    double x;
    return to_num(v, &x) && cmp_num(c->op, x, c->num);
  }
  default: return false;
  }
}

static bool fieldref_match(SgEvaluator *e, const CNode *c) {
  if (e->ev.field_gen[c->field] != e->ev.event || e->ev.field_gen[c->field2] != e->ev.event) return false;
  for (uint32_t a = e->ev.field_first[c->field]; a != UINT32_MAX; a = e->ev.next[a])
    for (uint32_t b = e->ev.field_first[c->field2]; b != UINT32_MAX; b = e->ev.next[b]) {
      Val *va = &e->ev.vals[a], *vb = &e->ev.vals[b];
      if (va->type == SG_J_NULL || vb->type == SG_J_NULL) continue;
      const char *sa = c->cased ? va->s : vfolded(e, va), *sb = c->cased ? vb->s : vfolded(e, vb);
      bool ok = false;
      switch (c->op) {
      case SG_OP_FIELDREF: ok = va->n == vb->n && !memcmp(sa, sb, va->n); break;
      case SG_OP_FIELDREF_STARTS: ok = va->n >= vb->n && !memcmp(sa, sb, vb->n); break;
      case SG_OP_FIELDREF_ENDS: ok = va->n >= vb->n && !memcmp(sa + va->n - vb->n, sb, vb->n); break;
      default: ok = vb->n == 0 || (va->n >= vb->n && memmem(sa, va->n, sb, vb->n)); break;
      }
      if (ok) return true;
    }
  return false;
}

/* All folded string and number values of the event, NUL-separated: one
 * memmem finds a short keyword in any of them (no match spans two values). */
static const char *haystack(SgEvaluator *e, size_t *n) {
  if (e->ev.hay_event != e->ev.event) {
    e->ev.hay_event = e->ev.event;
    e->ev.hlen = 0;
    if (e->ev.hcap < e->ev.doc->tlen + 1) {
      char *h = realloc(e->ev.hay, e->ev.doc->tlen + 1);
      if (!h) return e->ev.failed = true, *n = 0, "";
      e->ev.hay = h;
      e->ev.hcap = e->ev.doc->tlen + 1;
    }
    const char *f = folded_text(e);
    for (size_t i = 0; i < e->ev.doc->n; i++) {
      const SgJLeaf *l = &e->ev.doc->leaves[i];
      if (l->type != SG_J_STR && l->type != SG_J_NUM) continue;
      memcpy(e->ev.hay + e->ev.hlen, f + l->val, l->vallen);
      e->ev.hlen += l->vallen;
      e->ev.hay[e->ev.hlen++] = '\0';
    }
  }
  *n = e->ev.hlen;
  return e->ev.hay;
}

static bool keyword_match(SgEvaluator *e, const CNode *c) {
  if (c->kw >= 0) {
    if (e->pf.lit_event != e->ev.event) lit_scan(e);
    return e->pf.lit_gen[c->kw] == e->ev.event;
  }
  if (c->op == SG_OP_EQ && c->pat.kind == P_CONTAINS && !c->cased &&
      !memchr(c->pat.lit, '\0', c->pat.litlen)) {
    size_t n;
    const char *h = haystack(e, &n);
    return c->pat.litlen == 0 || memmem(h, n, c->pat.lit, c->pat.litlen) != NULL;
  }
  const SgJDoc *d = e->ev.doc;
  const char *ft = c->cased ? NULL : folded_text(e);
  for (size_t i = 0; i < d->n; i++) {
    const SgJLeaf *l = &d->leaves[i];
    if (l->type != SG_J_STR && l->type != SG_J_NUM) continue;
    const char *s = d->text + l->val;
    if (c->op == SG_OP_RE) {
      if (re_match(e, c, s, l->vallen)) return true;
      continue;
    }
    if (pattern_match(&c->pat, c->cased ? s : ft + l->val, l->vallen)) return true;
  }
  return false;
}

/* A match whose required literal is not in this event is false: most leaves
 * are decided by that one load, without a call. */
static inline bool lacks_literal(const SgEvaluator *e, const CNode *c) {
  return c->need >= 0 && e->pf.lit_gen[c->need] != e->ev.event;
}

static bool eval_node(SgEvaluator *e, const CNode *c) {
  switch (c->kind) {
  case C_TRUE: return true;
  case C_FALSE: return false;
  case C_NOT: return !eval_node(e, c->kids[0]);
  case C_AND:
    for (uint32_t i = 0; i < c->nkids; i++)
      if (lacks_literal(e, c->kids[i]) || !eval_node(e, c->kids[i])) return false;
    return true;
  case C_OR:
    for (uint32_t i = 0; i < c->nkids; i++)
      if (!lacks_literal(e, c->kids[i]) && eval_node(e, c->kids[i])) return true;
    return false;
  default: break;
  }
  if (c->field == UINT32_MAX) return keyword_match(e, c);
  if (c->op >= SG_OP_FIELDREF) return fieldref_match(e, c);
  if (lacks_literal(e, c)) return false; /* no value has the literal */
  bool present = e->ev.field_gen[c->field] == e->ev.event;
  if (c->op == SG_OP_EXISTS) return present;
  if (c->kw >= 0) return true;                                     /* `*literal*`: it is there */
  if (!present) return c->op == SG_OP_EQ && c->vkind == SG_V_NULL; /* missing is null */
  for (uint32_t vi = e->ev.field_first[c->field]; vi != UINT32_MAX; vi = e->ev.next[vi])
    if (value_match(e, c, &e->ev.vals[vi])) return true;
  return false;
}

static bool hit_add(SgEvalHit **v, size_t *n, size_t *cap, SgEvalHit h) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 16;
    SgEvalHit *x = realloc(*v, c * sizeof *x);
    if (!x) return false;
    *v = x;
    *cap = c;
  }
  (*v)[(*n)++] = h;
  return true;
}

static void run_rule(SgEvaluator *e, uint32_t ri) {
  CRule *r = &e->cr.rules[ri];
  if (r->stamp == e->ev.event) return;
  r->stamp = e->ev.event;
  if (r->not_windows && e->ev.windows_event) return; /* a log source this event is not */
  if (r->nneed) {
    size_t i = 0;
    while (i < r->nneed && e->pf.lit_gen[r->need[i]] != e->ev.event)
      i++;
    if (i == r->nneed) return;
  }
  for (size_t c = 0; c < r->nconds; c++) {
    e->ev.re_error = 0;
    bool hit = eval_node(e, r->conds[c]);
    if (e->ev.re_error) { /* neither a match nor a non-match */
      if (!hit_add(&e->res.undecided, &e->res.nundecided, &e->res.capundecided,
                   (SgEvalHit){r->rule, c, ri, e->ev.re_error}))
        e->ev.failed = true;
      continue;
    }
    if (hit) {
      if (!hit_add(&e->res.hits, &e->res.nhits, &e->res.caphits, (SgEvalHit){r->rule, c, ri, 0}))
        e->ev.failed = true;
      return;
    }
  }
}

static void run_key(SgEvaluator *e, char tag, const Val *v) {
  char key[48];
  key[0] = tag;
  key[1] = ':';
  if (tag == 'e') {
    double x;
    if (!to_num(v, &x)) return;
    num_key(key + 2, sizeof key - 2, x);
  } else {
    if (v->n > 40 || v->type != SG_J_STR) return;
    sg_fold(key + 2, v->s, v->n);
    key[2 + v->n] = '\0';
  }
  uint32_t id = intern_find(&e->ix.keys, key, strlen(key));
  if (id == UINT32_MAX || id >= e->ix.nby_key) return;
  for (size_t i = 0; i < e->ix.by_key[id].n; i++)
    run_rule(e, e->ix.by_key[id].v[i]);
}

static int cmp_hit(const void *a, const void *b) {
  const SgEvalHit *x = a, *y = b;
  return x->index < y->index ? -1 : x->index > y->index;
}

SgStatus sg_eval_event(SgEvaluator *e, const SgJDoc *doc, const SgEvalHit **hits, size_t *nhits) {
  *hits = NULL;
  *nhits = 0;
  e->res.nundecided = 0;
  if (doc->tlen + 1 > e->ev.fcap) { /* the folded copy fits the text */
    char *f = realloc(e->ev.ftext, doc->tlen + 1);
    if (!f) return SG_ERR_NOMEM;
    e->ev.ftext = f;
    e->ev.fcap = doc->tlen + 1;
  }
  e->ev.failed = false;
  e->ev.event++;
  e->ev.doc = doc;
  e->ev.nvals = 0;
  e->ev.windows_event = false;
  e->res.nhits = 0;
  e->ev.present.n = 0;
  if (doc->n * 2 > e->ev.nleaf_field) {
    uint32_t *lf = realloc(e->ev.leaf_field, doc->n * 2 * sizeof *lf);
    if (!lf) return SG_ERR_NOMEM;
    e->ev.leaf_field = lf;
    e->ev.nleaf_field = doc->n * 2;
  }
  const char *last_root = NULL; /* leaves come grouped by root: cache the lookup */
  size_t last_rlen = 0;
  bool last_known = false;
  for (size_t i = 0; i < doc->n; i++) {
    const SgJLeaf *l = &doc->leaves[i];
    uint32_t f = intern_find(&e->cr.fields, doc->text + l->name, l->namelen), g = UINT32_MAX;
    if (f == UINT32_MAX && memchr(doc->text + l->name, ' ', l->namelen) && l->namelen < 128) {
      /* "Threat Name" is ThreatName to Sigma rules (evtx converters drop the spaces) */
      char tight[128];
      size_t k = 0;
      for (size_t q = 0; q < l->namelen; q++)
        if (doc->text[l->name + q] != ' ') tight[k++] = doc->text[l->name + q];
      f = intern_find(&e->cr.fields, tight, k);
    }
    if (f >= e->ev.nfield_alloc) f = UINT32_MAX;
    if (f == e->cr.f_channel && l->pathlen == 20 && !memcmp(doc->text + l->path, "Event.System.Channel", 20))
      e->ev.windows_event = true;
    if (f != UINT32_MAX) attach(e, f, l);
    const char *path = doc->text + l->path, *dot = memchr(path, '.', l->pathlen);
    if (dot) {
      size_t rl = (size_t)(dot - path);
      if (!last_root || rl != last_rlen || memcmp(last_root, path, rl)) {
        last_root = path;
        last_rlen = rl;
        last_known = intern_find(&e->cr.roots, path, rl) != UINT32_MAX;
      }
    }
    if (dot && last_known) {
      g = intern_find(&e->cr.fields, doc->text + l->path, l->pathlen);
      if (g >= e->ev.nfield_alloc || g == f) g = UINT32_MAX;
      if (g != UINT32_MAX) attach(e, g, l);
    }
    e->ev.leaf_field[2 * i] = f;
    e->ev.leaf_field[2 * i + 1] = g;
  }
  lit_scan(e);
  for (size_t i = 0; i < e->pf.seen.n; i++) {
    const IdList *l = &e->pf.lits[e->pf.seen.v[i]].rules;

    for (size_t k = 0; k < l->n; k++)
      run_rule(e, l->v[k]);
  }
  if (e->ev.field_gen[e->cr.f_eventid] == e->ev.event)
    for (uint32_t vi = e->ev.field_first[e->cr.f_eventid]; vi != UINT32_MAX; vi = e->ev.next[vi])
      run_key(e, 'e', &e->ev.vals[vi]);
  if (e->ev.field_gen[e->cr.f_channel] == e->ev.event)
    for (uint32_t vi = e->ev.field_first[e->cr.f_channel]; vi != UINT32_MAX; vi = e->ev.next[vi])
      run_key(e, 'c', &e->ev.vals[vi]);
  for (size_t i = 0; i < e->ev.present.n; i++) {
    const IdList *l = &e->ix.by_field[e->ev.present.v[i]];
    for (size_t k = 0; k < l->n; k++)
      run_rule(e, l->v[k]);
  }
  for (size_t i = 0; i < e->ix.always.n; i++)
    run_rule(e, e->ix.always.v[i]);
  /* report in load order, whatever index found them */
  if (e->ev.failed) return SG_ERR_NOMEM; /* never a narrower result */
  if (e->res.nhits > 1) qsort(e->res.hits, e->res.nhits, sizeof *e->res.hits, cmp_hit);
  *hits = e->res.hits;
  *nhits = e->res.nhits;
  return SG_OK;
}

void sg_eval_error_text(int error, char *buf, size_t n) {
  if (pcre2_get_error_message(error, (PCRE2_UCHAR *)buf, n) < 0) snprintf(buf, n, "PCRE2 error %d", error);
}

size_t sg_eval_undecided(const SgEvaluator *e, const SgEvalHit **v) {
  *v = e->res.undecided;
  return e->res.nundecided;
}
