/* correlate.c - Sigma correlation rules over the evaluator's matches (see
 * correlate.h for the semantics). Windows are kept per (correlation, group)
 * in an open-addressing table; each holds its matches in time order. */
#define _POSIX_C_SOURCE 200809L /* strdup, strndup */
#include <stdlib.h>
#include <string.h>

#include "sigmacc.h"

typedef struct Entry {
  double t;
  uint32_t ref; /* which of the correlation's rules matched */
  char *val;    /* condition.field's value (value_* types), or NULL */
} Entry;

typedef struct Group {
  size_t corr;
  char *key; /* the group-by values as a JSON object */
  Entry *e;
  size_t n, cap;
} Group;

typedef struct Corr {
  const SgRule *rule;
  const SgRule *const *refs; /* refs[i] names rules.v[i] */
  size_t nrefs;
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

SgCorrelator *sg_corr_new(void) {
  SgCorrelator *c = calloc(1, sizeof(SgCorrelator));
  if (c) c->sweep_at = SG_CORR_SWEEP_MIN;
  return c;
}

static void clear(Group *g) {
  for (size_t i = 0; i < g->n; i++)
    free(g->e[i].val);
  g->n = 0;
}

void sg_corr_free(SgCorrelator *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nslots; i++)
    if (c->groups[i].key) {
      clear(&c->groups[i]);
      free(c->groups[i].e);
      free(c->groups[i].key);
    }
  free(c->groups);
  free(c->corrs);
  free(c->hits);
  sg_buf_free(&c->keys);
  free(c);
}

SgStatus sg_corr_add(SgCorrelator *c, const SgRule *corr, const SgRule *const *refs, SgDiags *d) {
  const SgCorrelation *k = corr->corr;
  for (size_t i = 0; i < k->nconds; i++)
    if (strcmp(k->conds[i].op, "gt") && strcmp(k->conds[i].op, "gte")) {
      sg_diag(
          d, SG_D_UNSUPPORTED, corr->loc,
          "the evaluator decides a correlation as matches arrive: only 'gt' and 'gte' thresholds, not '%s'",
          k->conds[i].op);
      return SG_ERR_UNSUPPORTED;
    }
  if (k->type == SG_CORR_VALUE_PERCENTILE) {
    sg_diag(d, SG_D_UNSUPPORTED, corr->loc,
            "the evaluator cannot tell which percentile value_percentile means");
    return SG_ERR_UNSUPPORTED;
  }
  Corr *v = realloc(c->corrs, (c->ncorrs + 1) * sizeof *v);
  if (!v) return SG_ERR_NOMEM;
  c->corrs = v;
  c->corrs[c->ncorrs++] = (Corr){corr, refs, k->rules.n};
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

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long days_from_civil(long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long)doe - 719468;
}

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
  *t = (double)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off) + frac;
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
static void sweep(SgCorrelator *c) {
  size_t live = 0;
  for (size_t i = 0; i < c->nslots; i++) {
    Group *g = &c->groups[i];
    if (g->key && g->n && g->e[g->n - 1].t >= c->now - (double)c->corrs[g->corr].rule->corr->timespan_s)
      live++;
  }
  size_t ns = 64;
  while (ns < 4 * live)
    ns *= 2;
  Group *t = calloc(ns, sizeof *t);
  if (!t) return; /* keep them all: correct, only larger */
  for (size_t i = 0; i < c->nslots; i++) {
    Group *g = &c->groups[i];
    if (!g->key) continue;
    if (g->n && g->e[g->n - 1].t >= c->now - (double)c->corrs[g->corr].rule->corr->timespan_s) {
      size_t s = hash(g->corr, g->key) & (ns - 1);
      while (t[s].key)
        s = (s + 1) & (ns - 1);
      t[s] = *g;
    } else {
      clear(g);
      free(g->e);
      free(g->key);
    }
  }
  free(c->groups);
  c->groups = t;
  c->nslots = ns;
  c->ngroups = live;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Is the rule named `name` among the window's matches? (temporal conditions) */
static bool has_ref(const Group *g, const Corr *k, const char *name) {
  for (size_t i = 0; i < g->n; i++)
    if (!strcmp(k->rule->corr->rules.v[g->e[i].ref], name)) return true;
  return false;
}

static bool expr_holds(const SgCondExpr *e, const Group *g, const Corr *k) {
  switch (e->kind) {
  case SG_C_AND:
    for (uint32_t i = 0; i < e->n; i++)
      if (!expr_holds(e->kids[i], g, k)) return false;
    return true;
  case SG_C_OR:
    for (uint32_t i = 0; i < e->n; i++)
      if (expr_holds(e->kids[i], g, k)) return true;
    return false;
  case SG_C_NOT: return !expr_holds(e->kids[0], g, k);
  default: return has_ref(g, k, e->name);
  }
}

/* The aggregate the condition compares; false when it cannot be computed. */
static bool aggregate(const Group *g, const Corr *k, double *v) {
  const SgCorrelation *c = k->rule->corr;
  size_t distinct = 0;
  *v = 0;
  switch (c->type) {
  case SG_CORR_EVENT_COUNT: *v = (double)g->n; return true;
  case SG_CORR_VALUE_COUNT:
    for (size_t i = 0; i < g->n; i++) {
      size_t j = 0;
      while (j < i && strcmp(g->e[j].val, g->e[i].val))
        j++;
      distinct += j == i;
    }
    *v = (double)distinct;
    return true;
  case SG_CORR_TEMPORAL:
    for (size_t r = 0; r < k->nrefs; r++)
      for (size_t i = 0; i < g->n; i++)
        if (g->e[i].ref == r) {
          distinct++;
          break;
        }
    *v = (double)distinct;
    return true;
  case SG_CORR_TEMPORAL_ORDERED: { /* rules seen in the listed order */
    size_t next = 0;
    for (size_t i = 0; i < g->n && next < k->nrefs; i++)
      if (g->e[i].ref == next) next++;
    *v = (double)next;
    return true;
  }
  default: break;
  }
  double *x = malloc((g->n + 1) * sizeof *x), sum = 0;
  if (!x) return false;
  size_t n = 0;
  for (size_t i = 0; i < g->n; i++) {
    char *end;
    double d = strtod(g->e[i].val, &end);
    if (end != g->e[i].val && !*end) x[n++] = d, sum += d;
  }
  bool ok = n > 0;
  if (ok && c->type == SG_CORR_VALUE_SUM) *v = sum;
  if (ok && c->type == SG_CORR_VALUE_AVG) *v = sum / (double)n;
  if (ok && c->type == SG_CORR_VALUE_MEDIAN) {
    qsort(x, n, sizeof *x, cmp_double);
    *v = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
  }
  free(x);
  return ok;
}

static bool holds(const Group *g, const Corr *k, double *v) {
  const SgCorrelation *c = k->rule->corr;
  bool temporal = c->type == SG_CORR_TEMPORAL || c->type == SG_CORR_TEMPORAL_ORDERED;
  if (!aggregate(g, k, v)) return false;
  if (temporal && c->expr) return expr_holds(c->expr->expr, g, k);
  if (!c->nconds) return *v >= (double)k->nrefs; /* temporal: every rule */
  for (size_t i = 0; i < c->nconds; i++)
    if (!(strcmp(c->conds[i].op, "gt") ? *v >= c->conds[i].value.d : *v > c->conds[i].value.d)) return false;
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
  Group *g = group(c, ci, sg_buf_cstr(key));
  if (!g) return false;
  size_t old = 0; /* matches older than the timespan drop out */
  while (old < g->n && g->e[old].t < t - (double)cr->timespan_s)
    free(g->e[old++].val);
  if (old) {
    memmove(g->e, g->e + old, (g->n - old) * sizeof *g->e);
    g->n -= old;
  }
  if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 8;
    Entry *e = realloc(g->e, cap * sizeof *e);
    if (!e) return false;
    g->e = e;
    g->cap = cap;
  }
  char *val = vf ? strndup(doc->text + vf->val, vf->vallen) : NULL;
  if (vf && !val) return false;
  g->e[g->n++] = (Entry){t, ref, val};
  double v = 0;
  if (!holds(g, k, &v)) return true;
  if (c->nhits == c->caphits) {
    size_t cap = c->caphits ? 2 * c->caphits : 8;
    SgCorrHit *h = realloc(c->hits, cap * sizeof *h);
    if (!h) return false;
    c->hits = h;
    c->caphits = cap;
  }
  c->hits[c->nhits++] = (SgCorrHit){k->rule, g->key, v, g->e[0].t, t, g->n};
  clear(g); /* fired: the group starts over */
  return true;
}

SgStatus sg_corr_event(SgCorrelator *c, const SgJDoc *doc, const SgEvalHit *hits, size_t nhits,
                       const SgCorrHit **out, size_t *nout) {
  c->nhits = 0;
  if (c->ngroups >= c->sweep_at) {
    sweep(c);
    c->sweep_at = 2 * c->ngroups > SG_CORR_SWEEP_MIN ? 2 * c->ngroups : SG_CORR_SWEEP_MIN;
  }
  bool timed = false, have_time = false;
  double t = 0;
  for (size_t h = 0; h < nhits; h++)
    for (size_t ci = 0; ci < c->ncorrs; ci++)
      for (uint32_t r = 0; r < c->corrs[ci].nrefs; r++) {
        if (c->corrs[ci].refs[r] != hits[h].rule) continue;
        if (!timed) {
          timed = true;
          have_time = sg_event_time(doc, &t);
        }
        if (!have_time) {
          c->untimed++;
          continue;
        }
        if (t > c->now) c->now = t;
        if (!feed(c, ci, r, doc, t, &c->keys)) { /* out of memory: what fired so far, and the error */
          *out = c->hits;
          *nout = c->nhits;
          return SG_ERR_NOMEM;
        }
      }
  *out = c->hits;
  *nout = c->nhits;
  return SG_OK;
}
