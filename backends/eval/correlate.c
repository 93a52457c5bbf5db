/* correlate.c - Sigma correlation rules over the evaluator's matches (see
 * correlate.h for the semantics). Windows are kept per (correlation, group)
 * in an open-addressing table; each holds its matches in time order. */
#define _POSIX_C_SOURCE 200809L /* strdup, strndup */
#include <stdlib.h>
#include <string.h>

#include "sigmacc_int.h"

typedef struct Entry {
  double t;
  uint32_t ref; /* which of the correlation's rules matched */
  char *val;    /* condition.field's value (value_* types), or NULL */
} Entry;

/* A queue of match numbers (one per rule of a temporal correlation). */
typedef struct Seqs {
  uint64_t *v;
  size_t lo, n, cap; /* v[lo..n) live */
} Seqs;

/* value_count: distinct values with their number of matches in the window. */
typedef struct Distinct {
  char **key; /* owned */
  size_t *count;
  size_t n, cap; /* n live keys; cap a power of two (0: empty) */
} Distinct;

/* value_median: an order-statistic treap of the window's numbers, keyed by
 * (value, match number); nodes in an array, 0 is "none". */
typedef struct TNode {
  double x;
  uint64_t seq;
  uint32_t prio, size, l, r;
} TNode;

typedef struct Treap {
  TNode *v;
  uint32_t root, n, cap, free; /* free: a list through .l */
} Treap;

/* A group's window: its matches in time order (e[lo..n); match number
 * base + i for e[i]) and what each correlation type keeps up to date as
 * matches arrive and leave, so no decision rereads the window. */
typedef struct Group {
  size_t corr;
  char *key; /* the group-by values as a JSON object */
  Entry *e;
  size_t lo, n, cap;
  uint64_t base;
  Seqs *byref;       /* temporal types: the match numbers of each rule */
  Distinct distinct; /* value_count */
  double sum;        /* value_sum, value_avg: of the numbers among the values */
  size_t nums;       /* how many values are numbers */
  Treap med;         /* value_median */
} Group;

typedef struct Corr {
  const SgRule *rule;
  const SgRule *const *refs; /* refs[i] names rules.v[i] */
  size_t nrefs;
  bool *seen; /* 2 * nrefs: scratch of the temporal decisions (occurring) */
} Corr;

struct SgCorrelator {
  Corr *corrs;
  size_t ncorrs;
  Group *groups;
  size_t ngroups, nslots; /* nslots: a power of two, twice ngroups at least */
  SgCorrHit *hits;
  size_t nhits, caphits;
  SgBuf keys; /* this event's hit groups, NUL-separated */
  size_t untimed;
  double now;      /* the newest event time seen */
  size_t sweep_at; /* sweep out expired groups when there are this many */
};

/* ---- Window state --------------------------------------------------------------------------- */

static bool seqs_push(Seqs *q, uint64_t x) {
  if (q->n == q->cap) {
    if (q->lo > q->n / 2) { /* reuse the front */
      memmove(q->v, q->v + q->lo, (q->n - q->lo) * sizeof *q->v);
      q->n -= q->lo;
      q->lo = 0;
    } else {
      size_t cap = q->cap ? 2 * q->cap : 4;
      uint64_t *v = realloc(q->v, cap * sizeof *v);
      if (!v) return false;
      q->v = v;
      q->cap = cap;
    }
  }
  q->v[q->n++] = x;
  return true;
}

/* The first match number after `after` (UINT64_MAX: none), by binary search. */
static uint64_t seqs_after(const Seqs *q, uint64_t after) {
  size_t a = q->lo, b = q->n;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if (q->v[m] <= after)
      a = m + 1;
    else
      b = m;
  }
  return a < q->n ? q->v[a] : UINT64_MAX;
}

static uint64_t str_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The slot of `key` in d (linear probing), or the empty slot where it goes. */
static size_t distinct_slot(const Distinct *d, const char *key) {
  size_t s = str_hash(key) & (d->cap - 1);
  while (d->key[s] && strcmp(d->key[s], key))
    s = (s + 1) & (d->cap - 1);
  return s;
}

static bool distinct_add(Distinct *d, const char *key) {
  if (2 * (d->n + 1) > d->cap) {
    Distinct t = {calloc(d->cap ? 2 * d->cap : 16, sizeof(char *)),
                  calloc(d->cap ? 2 * d->cap : 16, sizeof(size_t)), d->n, d->cap ? 2 * d->cap : 16};
    if (!t.key || !t.count) return free(t.key), free(t.count), false;
    for (size_t i = 0; i < d->cap; i++)
      if (d->key[i]) {
        size_t s = distinct_slot(&t, d->key[i]);
        t.key[s] = d->key[i];
        t.count[s] = d->count[i];
      }
    free(d->key);
    free(d->count);
    *d = t;
  }
  size_t s = distinct_slot(d, key);
  if (!d->key[s]) {
    if (!(d->key[s] = strdup(key))) return false;
    d->count[s] = 0; /* a slot emptied by a removal keeps the count it had */
    d->n++;
  }
  d->count[s]++;
  return true;
}

/* One match of `key` left the window; a key without matches leaves the
 * table (backward-shift deletion keeps every probe sequence unbroken). */
static void distinct_remove(Distinct *d, const char *key) {
  size_t s = distinct_slot(d, key);
  if (!d->key[s] || --d->count[s]) return;
  free(d->key[s]);
  d->key[s] = NULL;
  d->n--;
  for (size_t j = (s + 1) & (d->cap - 1); d->key[j]; j = (j + 1) & (d->cap - 1)) {
    size_t home = str_hash(d->key[j]) & (d->cap - 1);
    bool movable = s <= j ? (home <= s || home > j) : (home <= s && home > j);
    if (movable) {
      d->key[s] = d->key[j];
      d->count[s] = d->count[j];
      d->key[j] = NULL;
      s = j;
    }
  }
}

static void distinct_free(Distinct *d) {
  for (size_t i = 0; i < d->cap; i++)
    free(d->key[i]);
  free(d->key);
  free(d->count);
  memset(d, 0, sizeof *d);
}

/* ---- the treap: expected depth O(log n), priorities from the match number */

static uint32_t tsize(const Treap *t, uint32_t i) { return i ? t->v[i].size : 0; }

static void tfix(Treap *t, uint32_t i) { t->v[i].size = 1 + tsize(t, t->v[i].l) + tsize(t, t->v[i].r); }

static bool tless(const TNode *a, double x, uint64_t seq) { return a->x < x || (a->x == x && a->seq < seq); }

/* Split subtree i into keys < (x, seq) and the rest. */
static void tsplit(Treap *t, uint32_t i, double x, uint64_t seq, uint32_t *a, uint32_t *b) {
  if (!i) {
    *a = *b = 0;
  } else if (tless(&t->v[i], x, seq)) {
    tsplit(t, t->v[i].r, x, seq, &t->v[i].r, b);
    tfix(t, i);
    *a = i;
  } else {
    tsplit(t, t->v[i].l, x, seq, a, &t->v[i].l);
    tfix(t, i);
    *b = i;
  }
}

static uint32_t tmerge(Treap *t, uint32_t a, uint32_t b) {
  if (!a || !b) return a ? a : b;
  if (t->v[a].prio > t->v[b].prio) {
    t->v[a].r = tmerge(t, t->v[a].r, b);
    tfix(t, a);
    return a;
  }
  t->v[b].l = tmerge(t, a, t->v[b].l);
  tfix(t, b);
  return b;
}

static bool treap_add(Treap *t, double x, uint64_t seq) {
  uint32_t i = t->free;
  if (i) {
    t->free = t->v[i].l;
  } else {
    if (t->n + 1 >= t->cap) {
      uint32_t cap = t->cap ? 2 * t->cap : 16;
      TNode *v = realloc(t->v, cap * sizeof *v);
      if (!v) return false;
      t->v = v;
      t->cap = cap;
    }
    i = ++t->n; /* node 0 is "none" */
  }
  uint64_t h = (seq + 1) * 0x9E3779B97F4A7C15ull;
  t->v[i] = (TNode){x, seq, (uint32_t)(h >> 32), 1, 0, 0};
  uint32_t a, b;
  tsplit(t, t->root, x, seq, &a, &b);
  t->root = tmerge(t, tmerge(t, a, i), b);
  return true;
}

static void treap_remove(Treap *t, double x, uint64_t seq) {
  uint32_t a, b, m, c;
  tsplit(t, t->root, x, seq, &a, &b);
  tsplit(t, b, x, seq + 1, &m, &c); /* m: the one node (x, seq) */
  if (m) {
    t->v[m].l = t->free;
    t->free = m;
  }
  t->root = tmerge(t, a, c);
}

/* The k-th smallest value (0-based, k < size). */
static double treap_kth(const Treap *t, uint32_t k) {
  uint32_t i = t->root;
  for (;;) {
    uint32_t ls = tsize(t, t->v[i].l);
    if (k < ls) {
      i = t->v[i].l;
    } else if (k == ls) {
      return t->v[i].x;
    } else {
      k -= ls + 1;
      i = t->v[i].r;
    }
  }
}

/* A value as a number (value_sum, _avg, _median take only those). */
static bool as_number(const char *s, double *d) {
  char *end;
  *d = strtod(s, &end);
  return end != s && !*end && *d == *d; /* not NaN: the treap needs an order */
}

/* Match i of g (e[i]) enters or leaves what its correlation type keeps. */
static bool track(Group *g, SgCorrType type, size_t i, bool enter) {
  const Entry *e = &g->e[i];
  uint64_t seq = g->base + i;
  double d;
  if (!e->val && type != SG_CORR_TEMPORAL && type != SG_CORR_TEMPORAL_ORDERED) return true;
  switch (type) {
  case SG_CORR_TEMPORAL:
  case SG_CORR_TEMPORAL_ORDERED:
    if (enter) return seqs_push(&g->byref[e->ref], seq);
    g->byref[e->ref].lo++; /* matches leave in the order they came */
    return true;
  case SG_CORR_VALUE_COUNT:
    if (enter) return distinct_add(&g->distinct, e->val);
    distinct_remove(&g->distinct, e->val);
    return true;
  case SG_CORR_VALUE_SUM:
  case SG_CORR_VALUE_AVG:
  case SG_CORR_VALUE_MEDIAN:
  case SG_CORR_VALUE_PERCENTILE:
    if (!as_number(e->val, &d)) return true;
    g->sum += enter ? d : -d;
    g->nums += enter ? 1 : (size_t)-1;
    if (type != SG_CORR_VALUE_MEDIAN && type != SG_CORR_VALUE_PERCENTILE) return true;
    if (enter) return treap_add(&g->med, d, seq);
    treap_remove(&g->med, d, seq);
    return true;
  default: return true;
  }
}

/* Empty the window (the group fired, or is dropped). */
static void clear(Group *g, size_t nrefs) {
  for (size_t i = g->lo; i < g->n; i++)
    free(g->e[i].val);
  g->base += g->n;
  g->lo = g->n = 0;
  for (size_t r = 0; g->byref && r < nrefs; r++)
    g->byref[r].lo = g->byref[r].n = 0;
  distinct_free(&g->distinct);
  g->sum = 0;
  g->nums = 0;
  g->med.root = 0;
  g->med.n = 0;
  g->med.free = 0;
}

static void group_free(Group *g, size_t nrefs) {
  clear(g, nrefs);
  for (size_t r = 0; g->byref && r < nrefs; r++)
    free(g->byref[r].v);
  free(g->byref);
  free(g->med.v);
  free(g->e);
  free(g->key);
}

SgCorrelator *sg_corr_new(void) {
  SgCorrelator *c = calloc(1, sizeof(SgCorrelator));
  if (c) c->sweep_at = SG_CORR_SWEEP_MIN;
  return c;
}

void sg_corr_free(SgCorrelator *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nslots; i++)
    if (c->groups[i].key) group_free(&c->groups[i], c->corrs[c->groups[i].corr].nrefs);
  free(c->groups);
  for (size_t i = 0; i < c->ncorrs; i++)
    free(c->corrs[i].seen);
  free(c->corrs);
  free(c->hits);
  sg_buf_free(&c->keys);
  free(c);
}

SgStatus sg_corr_add(SgCorrelator *c, const SgRule *corr, const SgRule *const *refs, SgDiags *d) {
  const SgCorrelation *k = corr->corr;
  if (k->fields.n > 1 && k->type != SG_CORR_VALUE_COUNT) {
    sg_diag(d, SG_D_UNSUPPORTED, corr->loc, "several condition fields are for value_count, not %s",
            sg_corr_type_name(k->type));
    return SG_ERR_UNSUPPORTED;
  }
  Corr *v = realloc(c->corrs, (c->ncorrs + 1) * sizeof *v);
  if (!v) return SG_ERR_NOMEM;
  c->corrs = v;
  bool *seen = calloc(2 * k->rules.n + 1, sizeof *seen);
  if (!seen) return SG_ERR_NOMEM;
  c->corrs[c->ncorrs++] = (Corr){corr, refs, k->rules.n, seen};
  return SG_OK;
}

bool sg_corr_hides(const SgCorrelator *c, const SgRule *r) {
  for (size_t i = 0; i < c->ncorrs; i++)
    for (size_t j = 0; !c->corrs[i].rule->corr->generate && j < c->corrs[i].nrefs; j++)
      if (c->corrs[i].refs[j] == r) return true;
  return false;
}

size_t sg_corr_untimed(const SgCorrelator *c) { return c->untimed; }
size_t sg_corr_count(const SgCorrelator *c) { return c->ncorrs; }

size_t sg_corr_groups(const SgCorrelator *c) { return c->ngroups; }

/* ---- The event: its time and fields -------------------------------------------------------- */

static bool digits(const char *s, size_t n, long *out) {
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

/* "YYYY-MM-DD[T ]hh:mm:ss[.fff...][Z|+hh:mm|-hh:mm]" -> epoch seconds. */
bool sg_parse_time(const char *s, size_t n, double *t) {
  long y, mo, d, h, mi, se;
  if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
      !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se) || mo < 1 || mo > 12 ||
      d < 1 || d > 31)
    return false;
  double frac = 0, scale = 0.1;
  size_t i = 19;
  if (i < n && s[i] == '.')
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
      frac += (s[i] - '0') * scale;
  long off = 0;
  if (i + 6 <= n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    long oh, om;
    if (!digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om)) return false;
    off = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  }
  *t = (double)(sg_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off) +
       frac;
  return true;
}

bool sg_event_time(const SgJDoc *doc, double *t) {
  static const char *const names[] = {
      "TimeCreated_SystemTime", "@timestamp", "timestamp", "UtcTime", "EventTime", "_time", "time", NULL};
  for (size_t k = 0; names[k]; k++) {
    size_t nl = strlen(names[k]);
    for (size_t i = 0; i < doc->n; i++) {
      const SgJLeaf *l = &doc->leaves[i];
      if (l->type == SG_J_STR && l->namelen == nl && !memcmp(doc->text + l->name, names[k], nl) &&
          sg_parse_time(doc->text + l->val, l->vallen, t))
        return true;
    }
  }
  return false;
}

/* A field of the event by short name or dotted path (NULL when absent or null). */
static const SgJLeaf *field(const SgJDoc *doc, const char *f) {
  const SgJLeaf *l = sg_jdoc_find(doc, f, strlen(f));
  return l && l->type != SG_J_NULL ? l : NULL;
}

/* The field a group-by name stands for in the rule named `name`: an alias
 * maps it per rule, else it is the field itself. */
static const char *group_field(const SgCorrelation *k, const char *g, const char *name) {
  for (size_t i = 0; i < k->naliases; i++)
    if (!strcmp(k->aliases[i].name, g))
      for (size_t j = 0; j < k->aliases[i].n; j++)
        if (!strcmp(k->aliases[i].map[j].key, name)) return k->aliases[i].map[j].val->text;
  return g;
}

/* {"group-by":"value",...}; false when a group-by field is missing (as in
 * Splunk's `stats ... by`, such an event belongs to no group). */
static bool group_key(const SgJDoc *doc, const SgCorrelation *k, const char *name, SgBuf *out) {
  sg_buf_catc(out, '{');
  for (size_t i = 0; i < k->group_by.n; i++) {
    const SgJLeaf *l = field(doc, group_field(k, k->group_by.v[i], name));
    if (!l) return false;
    if (i) sg_buf_catc(out, ',');
    sg_json_str(out, k->group_by.v[i], strlen(k->group_by.v[i]));
    sg_buf_catc(out, ':');
    sg_json_str(out, doc->text + l->val, l->vallen);
  }
  sg_buf_catc(out, '}');
  return true;
}

/* ---- Windows ------------------------------------------------------------------------------- */

static uint64_t hash(size_t corr, const char *key) {
  uint64_t h = 1469598103934665603ull ^ corr;
  for (const char *p = key; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return h;
}

static Group *group(SgCorrelator *c, size_t corr, const char *key) {
  if (2 * (c->ngroups + 1) > c->nslots) { /* grow and rehash */
    size_t ns = c->nslots ? 2 * c->nslots : 64;
    Group *g = calloc(ns, sizeof *g);
    if (!g) return NULL;
    for (size_t i = 0; i < c->nslots; i++)
      if (c->groups[i].key) {
        size_t s = hash(c->groups[i].corr, c->groups[i].key) & (ns - 1);
        while (g[s].key)
          s = (s + 1) & (ns - 1);
        g[s] = c->groups[i];
      }
    free(c->groups);
    c->groups = g;
    c->nslots = ns;
  }
  size_t s = hash(corr, key) & (c->nslots - 1);
  while (c->groups[s].key && (c->groups[s].corr != corr || strcmp(c->groups[s].key, key)))
    s = (s + 1) & (c->nslots - 1);
  if (!c->groups[s].key) {
    if (!(c->groups[s].key = strdup(key))) return NULL;
    c->groups[s].corr = corr;
    c->ngroups++;
  }
  return &c->groups[s];
}

/* Drop the groups whose matches have all left their window (or that fired
 * and hold none), and rehash the rest: the table then holds the groups alive
 * at the newest event time. Run between events (hits point at group keys),
 * when the table has doubled since the last sweep: amortised O(1) per group. */

/* A group that must stay: its window holds recent matches, or is undecided (a
 * correlation decided when its window ends keeps it until then). */
static bool live_group(const SgCorrelator *c, const Group *g) {
  const SgCorrelation *k = c->corrs[g->corr].rule->corr;
  return g->n > g->lo && (g->e[g->n - 1].t >= c->now - (double)k->timespan_s || sg_corr_at_window_end(k));
}

static void sweep(SgCorrelator *c) {
  size_t live = 0;
  for (size_t i = 0; i < c->nslots; i++)
    live += c->groups[i].key && live_group(c, &c->groups[i]);
  size_t ns = 64;
  while (ns < 4 * live)
    ns *= 2;
  Group *t = calloc(ns, sizeof *t);
  if (!t) return; /* keep them all: correct, only larger */
  for (size_t i = 0; i < c->nslots; i++) {
    Group *g = &c->groups[i];
    if (!g->key) continue;
    if (live_group(c, g)) {
      size_t s = hash(g->corr, g->key) & (ns - 1);
      while (t[s].key)
        s = (s + 1) & (ns - 1);
      t[s] = *g;
    } else {
      group_free(g, c->corrs[g->corr].nrefs);
    }
  }
  free(c->groups);
  c->groups = t;
  c->nslots = ns;
  c->ngroups = live;
}

/* ---- Deciding --------------------------------------------------------------------------------- */

/* Mark the rules the expression names outside a `not` (they must occur, in
 * order for temporal_ordered); the others must be absent. */
static void mark_positive(const SgCondExpr *e, const Corr *k, bool neg, bool *pos) {
  switch (e->kind) {
  case SG_C_AND:
  case SG_C_OR:
    for (uint32_t i = 0; i < e->n; i++)
      mark_positive(e->kids[i], k, neg, pos);
    return;
  case SG_C_NOT: mark_positive(e->kids[0], k, !neg, pos); return;
  default:
    for (size_t r = 0; r < k->nrefs; r++)
      if (!neg && !strcmp(k->rule->corr->rules.v[r], e->name)) pos[r] = true;
  }
}

static bool expr_holds(const SgCondExpr *e, const Corr *k, const bool *seen) {
  switch (e->kind) {
  case SG_C_AND:
    for (uint32_t i = 0; i < e->n; i++)
      if (!expr_holds(e->kids[i], k, seen)) return false;
    return true;
  case SG_C_OR:
    for (uint32_t i = 0; i < e->n; i++)
      if (expr_holds(e->kids[i], k, seen)) return true;
    return false;
  case SG_C_NOT: return !expr_holds(e->kids[0], k, seen);
  default:
    for (size_t r = 0; r < k->nrefs; r++)
      if (!strcmp(k->rule->corr->rules.v[r], e->name)) return seen[r];
    return false;
  }
}

/* Which rules occur (k->seen): for temporal_ordered, a rule the condition
 * names positively counts when it matched after the last such rule before it
 * in `rules` that counts (the earliest chain: each found by binary search in
 * its rule's queue); the others count when they matched at all. Returns how
 * many rules from the first count without a gap (temporal_ordered's aggregate). */
static size_t occurring(const Group *g, const Corr *k, bool ordered) {
  const SgCorrelation *c = k->rule->corr;
  bool *seen = k->seen, *pos = k->seen + k->nrefs;
  memset(pos, !c->expr, k->nrefs); /* without a condition expression every rule is positive */
  if (c->expr) mark_positive(c->expr->expr, k, false, pos);
  uint64_t after = 0;
  bool any = false;
  size_t prefix = 0;
  bool gap = false;
  for (size_t r = 0; r < k->nrefs; r++) {
    const Seqs *q = &g->byref[r];
    if (ordered && pos[r]) {
      uint64_t s = any ? seqs_after(q, after) : q->lo < q->n ? q->v[q->lo] : UINT64_MAX;
      seen[r] = s != UINT64_MAX;
      if (seen[r]) after = s, any = true;
    } else {
      seen[r] = q->lo < q->n;
    }
    gap = gap || !seen[r];
    prefix += !gap;
  }
  return prefix;
}

/* The aggregate the condition compares; false when it cannot be computed. */
static bool aggregate(const Group *g, const Corr *k, double *v) {
  const SgCorrelation *c = k->rule->corr;
  *v = 0;
  switch (c->type) {
  case SG_CORR_EVENT_COUNT: *v = (double)(g->n - g->lo); return true;
  case SG_CORR_VALUE_COUNT: *v = (double)g->distinct.n; return true;
  case SG_CORR_TEMPORAL: {
    occurring(g, k, false);
    for (size_t r = 0; r < k->nrefs; r++)
      *v += k->seen[r];
    return true;
  }
  case SG_CORR_TEMPORAL_ORDERED: *v = (double)occurring(g, k, true); return true;
  case SG_CORR_VALUE_SUM: *v = g->sum; return g->nums > 0;
  case SG_CORR_VALUE_AVG: *v = g->sum / (double)g->nums; return g->nums > 0;
  case SG_CORR_VALUE_MEDIAN:
  case SG_CORR_VALUE_PERCENTILE: { /* between the closest ranks, linearly (the median: of the middle two) */
    uint32_t n = (uint32_t)g->nums;
    if (!n) return false;
    double rank = (c->type == SG_CORR_VALUE_MEDIAN ? 50 : c->percentile) / 100.0 * (n - 1);
    uint32_t lo = (uint32_t)rank, hi = lo + (lo + 1 < n);
    double a = treap_kth(&g->med, lo), b = treap_kth(&g->med, hi);
    *v = a + (b - a) * (rank - lo);
    return true;
  }
  default: return false;
  }
}

static bool holds(const Group *g, const Corr *k, double *v) {
  const SgCorrelation *c = k->rule->corr;
  bool temporal = c->type == SG_CORR_TEMPORAL || c->type == SG_CORR_TEMPORAL_ORDERED;
  if (!aggregate(g, k, v)) return false;
  if (temporal && c->expr) return expr_holds(c->expr->expr, k, k->seen); /* seen: set by aggregate */
  if (!c->nconds) return *v >= (double)k->nrefs;                         /* temporal: every rule */
  for (size_t i = 0; i < c->nconds; i++) {
    const char *op = c->conds[i].op;
    double x = c->conds[i].value.d;
    bool ok = !strcmp(op, "gt")    ? *v > x
              : !strcmp(op, "gte") ? *v >= x
              : !strcmp(op, "lt")  ? *v < x
              : !strcmp(op, "lte") ? *v <= x
              : !strcmp(op, "eq")  ? *v == x
                                   : *v != x;
    if (!ok) return false;
  }
  return true;
}

/* Group g's window fired with aggregate v: a hit, and the group starts over. */
static bool fire(SgCorrelator *c, Group *g, double v) {
  const Corr *k = &c->corrs[g->corr];
  if (c->nhits == c->caphits) {
    size_t cap = c->caphits ? 2 * c->caphits : 8;
    SgCorrHit *h = realloc(c->hits, cap * sizeof *h);
    if (!h) return false;
    c->hits = h;
    c->caphits = cap;
  }
  c->hits[c->nhits++] = (SgCorrHit){k->rule, g->key, v, g->e[g->lo].t, g->e[g->n - 1].t, g->n - g->lo};
  clear(g, k->nrefs);
  return true;
}

/* Decide group g's window (it ended): a hit when the condition holds; the group starts over. */
static bool close_window(SgCorrelator *c, Group *g) {
  double v = 0;
  if (g->n > g->lo && holds(g, &c->corrs[g->corr], &v)) return fire(c, g, v);
  clear(g, c->corrs[g->corr].nrefs);
  return true;
}

/* One match of rule `ref` of correlation `ci` at time `t`. */
static bool feed(SgCorrelator *c, size_t ci, uint32_t ref, const SgJDoc *doc, double t, SgBuf *key) {
  const Corr *k = &c->corrs[ci];
  const SgCorrelation *cr = k->rule->corr;
  sg_buf_reset(key);
  if (!group_key(doc, cr, cr->rules.v[ref], key)) return !key->oom;
  if (key->oom) return false;
  const SgJLeaf *vf = NULL;
  if (cr->fields.n && !(vf = field(doc, group_field(cr, cr->fields.v[0], cr->rules.v[ref])))) return true;
  SgBuf tuple = {0}; /* value_count over several fields (Sigma 2.1): their values as a JSON array */
  for (size_t i = 0; cr->fields.n > 1 && i < cr->fields.n; i++) {
    const SgJLeaf *l = field(doc, group_field(cr, cr->fields.v[i], cr->rules.v[ref]));
    if (!l) return sg_buf_free(&tuple), true; /* a field missing: no value to count */
    sg_buf_catc(&tuple, i ? ',' : '[');
    sg_json_str(&tuple, doc->text + l->val, l->vallen);
  }
  if (tuple.len) sg_buf_catc(&tuple, ']');
  if (tuple.oom) return false;
  Group *g = group(c, ci, sg_buf_cstr(key));
  bool temporal = cr->type == SG_CORR_TEMPORAL || cr->type == SG_CORR_TEMPORAL_ORDERED;
  if (!g || (temporal && !g->byref && !(g->byref = calloc(k->nrefs, sizeof *g->byref))))
    return sg_buf_free(&tuple), false;
  bool at_end = sg_corr_at_window_end(cr);
  if (at_end && g->lo < g->n && g->e[g->lo].t < t - (double)cr->timespan_s && !close_window(c, g))
    return sg_buf_free(&tuple), false; /* the window from its first match ended: decided, then a new one */
  while (!at_end && g->lo < g->n && g->e[g->lo].t < t - (double)cr->timespan_s) { /* older: out */
    track(g, cr->type, g->lo, false);
    free(g->e[g->lo++].val);
  }
  if (g->n == g->cap) {
    if (g->lo > g->n / 2) { /* reuse the front: amortised O(1) a match */
      memmove(g->e, g->e + g->lo, (g->n - g->lo) * sizeof *g->e);
      g->base += g->lo;
      g->n -= g->lo;
      g->lo = 0;
    } else {
      size_t cap = g->cap ? 2 * g->cap : 8;
      Entry *e = realloc(g->e, cap * sizeof *e);
      if (!e) return sg_buf_free(&tuple), false;
      g->e = e;
      g->cap = cap;
    }
  }
  char *val = tuple.len ? tuple.data : vf ? strndup(doc->text + vf->val, vf->vallen) : NULL;
  if (vf && !val) return false;
  g->e[g->n++] = (Entry){t, ref, val};
  if (!track(g, cr->type, g->n - 1, true)) return false;
  double v = 0;
  return at_end || !holds(g, k, &v) || fire(c, g, v);
}

/* Feed a match of `rule` at this event to every correlation that names it. */
static bool feed_all(SgCorrelator *c, const SgRule *rule, const SgJDoc *doc, bool *timed, bool *have_time,
                     double *t) {
  for (size_t ci = 0; ci < c->ncorrs; ci++)
    for (uint32_t r = 0; r < c->corrs[ci].nrefs; r++) {
      if (c->corrs[ci].refs[r] != rule) continue;
      if (!*timed) {
        *timed = true;
        *have_time = sg_event_time(doc, t);
      }
      if (!*have_time) {
        c->untimed++;
        continue;
      }
      if (*t > c->now) c->now = *t;
      if (!feed(c, ci, r, doc, *t, &c->keys)) return false;
    }
  return true;
}

SgStatus sg_corr_event(SgCorrelator *c, const SgJDoc *doc, const SgEvalHit *hits, size_t nhits,
                       const SgCorrHit **out, size_t *nout) {
  c->nhits = 0;
  if (c->ngroups >= c->sweep_at) {
    sweep(c);
    c->sweep_at = 2 * c->ngroups > SG_CORR_SWEEP_MIN ? 2 * c->ngroups : SG_CORR_SWEEP_MIN;
  }
  bool timed = false, have_time = false, ok = true;
  double t = 0;
  for (size_t h = 0; ok && h < nhits; h++)
    ok = feed_all(c, hits[h].rule, doc, &timed, &have_time, &t);
  /* a correlation that fired is a match of the correlations over it (chained), at this event;
   * each round is one level of the chain, so a cycle ends after as many rounds as correlations */
  for (size_t from = 0, round = 0; ok && from < c->nhits && round < c->ncorrs; round++) {
    size_t to = c->nhits;
    for (size_t h = from; ok && h < to; h++)
      ok = feed_all(c, c->hits[h].rule, doc, &timed, &have_time, &t);
    from = to;
  }
  *out = c->hits; /* out of memory: what fired so far, and the error */
  *nout = c->nhits;
  return ok ? SG_OK : SG_ERR_NOMEM;
}

static int cmp_window(const void *a, const void *b) {
  const Group *x = *(const Group *const *)a, *y = *(const Group *const *)b;
  double tx = x->e[x->lo].t, ty = y->e[y->lo].t;
  if (tx != ty) return tx < ty ? -1 : 1;
  if (x->corr != y->corr) return x->corr < y->corr ? -1 : 1;
  return strcmp(x->key, y->key);
}

SgStatus sg_corr_finish(SgCorrelator *c, const SgCorrHit **out, size_t *nout) {
  c->nhits = 0;
  size_t n = 0;
  Group **open = malloc((c->ngroups + 1) * sizeof *open);
  for (size_t i = 0; open && i < c->nslots; i++) {
    Group *g = &c->groups[i];
    if (g->key && g->n > g->lo && sg_corr_at_window_end(c->corrs[g->corr].rule->corr)) open[n++] = g;
  }
  bool ok = open != NULL;
  if (ok) qsort(open, n, sizeof *open, cmp_window); /* in the order the windows began */
  for (size_t i = 0; ok && i < n; i++)
    ok = close_window(c, open[i]);
  free(open);
  *out = c->hits;
  *nout = c->nhits;
  return ok ? SG_OK : SG_ERR_NOMEM;
}

size_t sg_corr_check(SgCorrelator *c, SgDiags *d) {
  size_t dropped = 0;
  for (bool again = true; again;) {
    again = false;
    for (size_t ci = 0; ci < c->ncorrs; ci++)
      for (size_t r = 0; r < c->corrs[ci].nrefs; r++) {
        const SgRule *ref = c->corrs[ci].refs[r];
        bool added = ref->kind != SG_DOC_CORRELATION;
        for (size_t k = 0; !added && k < c->ncorrs; k++)
          added = c->corrs[k].rule == ref;
        if (added) continue;
        const SgRule *corr = c->corrs[ci].rule;
        sg_diag(d, SG_D_UNSUPPORTED, corr->corr->rules.locs ? corr->corr->rules.locs[r] : corr->loc,
                "correlation '%s' is not evaluated, so neither is this one", corr->corr->rules.v[r]);
        free(c->corrs[ci].seen);
        c->corrs[ci] = c->corrs[--c->ncorrs];
        dropped++;
        again = true;
        break;
      }
  }
  return dropped;
}
