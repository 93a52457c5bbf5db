/* test_corr_oracle.c - the semantic oracle for correlations: the SPL sigmacc
 * writes for a correlation must mean what the correlation says.
 *
 * Splunk counts a correlation in `bin _time` buckets (W071 says so at every
 * SPL correlation), so the verdict compared is per (bucket, group): which
 * ones fire, with which value. The SPL side runs the query on a model: each
 * search of its multisearch on the SPL model of oracle_models.c (the searches
 * of the rules), then the pipeline stages it writes (where/eval of a value
 * tuple, bin, eventstats of temporal_ordered, stats, search), read from the
 * query text. The reference side takes each event's rule matches from the
 * evaluator and computes the aggregate of the correlation's type over every
 * bucket and group from the rule's model (SgCorrelation). Scenarios: every
 * correlation type, thresholds of every operator, several value fields, a
 * rule expression; events drawn from a seeded generator (rules, groups,
 * values numeric or not, fields missing, times over several buckets).
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

#include "oracle_models.h"

#define NEV 600
#define SPAN 600 /* the scenarios' timespan: 10m */

typedef struct Ev {
  SgJDoc doc;
  double t;
  char text[256];
} Ev;

/* ---- a bucket's rows, as either side counts them ---------------------------------------- */

typedef struct Row {
  double bucket, t;
  size_t seq;     /* the order the rows stream in (event, then search) */
  char group[64]; /* the group-by values, joined */
  int rule;       /* which rule (index in the correlation's rules) */
  char val[96];   /* the aggregated value ("" when absent) */
} Row;

typedef struct Verdict {
  double bucket;
  char group[64];
  double value;
} Verdict;

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static const char *leaf(const SgJDoc *d, const char *f, size_t *n) {
  const SgJLeaf *l = sg_jdoc_find(d, f, strlen(f));
  if (!l || l->type == SG_J_NULL) return NULL;
  *n = l->vallen;
  return d->text + l->val;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The aggregate of rows[0..n) (one bucket and group) for correlation k: the
 * reference's reading of the Sigma correlation. False when it has none. */
static bool aggregate(const SgCorrelation *k, const Row *rows, size_t n, double *v) {
  *v = 0;
  if (k->type == SG_CORR_EVENT_COUNT) return (*v = (double)n), true;
  if (k->type == SG_CORR_TEMPORAL || k->type == SG_CORR_TEMPORAL_ORDERED) {
    double step = -INFINITY;
    for (size_t r = 0; r < k->rules.n; r++) {
      bool seen = false;
      double first = INFINITY;
      for (size_t i = 0; i < n; i++)
        if (rows[i].rule == (int)r && (k->type == SG_CORR_TEMPORAL || rows[i].t > step)) {
          seen = true;
          if (rows[i].t < first) first = rows[i].t;
        }
      if (k->type == SG_CORR_TEMPORAL_ORDERED) {
        if (!seen) break;
        step = first;
      }
      *v += seen;
    }
    return true;
  }
  double *x = malloc((n + 1) * sizeof *x);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!rows[i].val[0]) continue;
    if (k->type == SG_CORR_VALUE_COUNT) {
      bool dup = false;
      for (size_t j = 0; j < i && !dup; j++)
        dup = rows[j].val[0] && !strcmp(rows[j].val, rows[i].val);
      m += !dup;
      continue;
    }
    char *end;
    double d = strtod(rows[i].val, &end);
    if (end != rows[i].val && !*end) x[m++] = d;
  }
  bool ok = true;
  if (k->type == SG_CORR_VALUE_COUNT) {
    *v = (double)m;
  } else if (!m) {
    ok = false;
  } else if (k->type == SG_CORR_VALUE_SUM || k->type == SG_CORR_VALUE_AVG) {
    for (size_t i = 0; i < m; i++)
      *v += x[i];
    if (k->type == SG_CORR_VALUE_AVG) *v /= (double)m;
  } else { /* median, percentile: between the closest ranks */
    qsort(x, m, sizeof *x, cmp_double);
    double rank = (k->type == SG_CORR_VALUE_MEDIAN ? 50 : k->percentile) / 100.0 * (double)(m - 1);
    size_t lo = (size_t)rank, hi = lo + (lo + 1 < m);
    *v = x[lo] + (x[hi] - x[lo]) * (rank - (double)lo);
  }
  free(x);
  return ok;
}

static bool holds(const SgCorrelation *k, const SgCondExpr *e, const Row *rows, size_t n, double v) {
  if (e) { /* a rule expression over which rules occurred */
    if (e->kind == SG_C_ID) {
      for (size_t i = 0; i < n; i++)
        if (!strcmp(k->rules.v[rows[i].rule], e->name)) return true;
      return false;
    }
    if (e->kind == SG_C_NOT) return !holds(k, e->kids[0], rows, n, v);
    bool and = e->kind == SG_C_AND;
    for (uint32_t i = 0; i < e->n; i++)
      if (holds(k, e->kids[i], rows, n, v) != and) return !and;
    return and;
  }
  if (!k->nconds) return v >= (double)k->rules.n;
  for (size_t i = 0; i < k->nconds; i++) {
    const char *op = k->conds[i].op;
    double x = k->conds[i].value.d;
    bool ok = !strcmp(op, "gt")    ? v > x
              : !strcmp(op, "gte") ? v >= x
              : !strcmp(op, "lt")  ? v < x
              : !strcmp(op, "lte") ? v <= x
              : !strcmp(op, "eq")  ? v == x
                                   : v != x;
    if (!ok) return false;
  }
  return true;
}

static int cmp_row(const void *a, const void *b) {
  const Row *x = a, *y = b;
  if (x->bucket != y->bucket) return x->bucket < y->bucket ? -1 : 1;
  int c = strcmp(x->group, y->group);
  if (c) return c;
  if (x->t != y->t) return (x->t > y->t) - (x->t < y->t);
  return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The verdicts of rows (sorted by bucket and group) under `decide`. */
static size_t verdicts(Row *rows, size_t n, Verdict *out,
                       bool (*decide)(void *ctx, const Row *rows, size_t n, double *v), void *ctx) {
  qsort(rows, n, sizeof *rows, cmp_row);
  size_t nv = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && rows[j].bucket == rows[i].bucket && !strcmp(rows[j].group, rows[i].group))
      j++;
    double v;
    if (decide(ctx, rows + i, j - i, &v)) {
      out[nv].bucket = rows[i].bucket;
      snprintf(out[nv].group, sizeof out[nv].group, "%s", rows[i].group);
      out[nv++].value = v;
    }
    i = j;
  }
  return nv;
}

/* ---- the reference ------------------------------------------------------------------------ */

typedef struct Ref {
  const SgRule *corr;
} Ref;

static bool ref_decide(void *ctx, const Row *rows, size_t n, double *v) {
  const SgCorrelation *k = ((Ref *)ctx)->corr->corr;
  return aggregate(k, rows, n, v) && holds(k, k->expr ? k->expr->expr : NULL, rows, n, *v);
}

/* Row of event e for rule r of correlation k (false: no group, or no value to count). */
static bool ref_row(const SgCorrelation *k, const Ev *e, int r, Row *row) {
  *row = (Row){.bucket = floor(e->t / SPAN) * SPAN, .t = e->t, .rule = r};
  for (size_t g = 0; g < k->group_by.n; g++) {
    size_t n;
    const char *s = leaf(&e->doc, k->group_by.v[g], &n);
    if (!s) return false;
    snprintf(row->group + strlen(row->group), sizeof row->group - strlen(row->group), "%.*s|", (int)n, s);
  }
  for (size_t f = 0; f < k->fields.n; f++) {
    size_t n;
    const char *s = leaf(&e->doc, k->fields.v[f], &n);
    if (!s) { /* a missing value: no value (value_count of several fields: not counted) */
      row->val[0] = '\0';
      return k->type != SG_CORR_VALUE_COUNT || k->fields.n == 1 ? true : false;
    }
    snprintf(row->val + strlen(row->val), sizeof row->val - strlen(row->val), "%s%.*s",
             k->fields.n > 1 ? "\x1f" : "", (int)n, s);
  }
  return true;
}

/* ---- the SPL model -------------------------------------------------------------------------- */

typedef struct Spl {
  OmQuery *search[4];
  char etype[4][32];
  size_t nsearch;
  double span;
  char agg[32], field[64],
      name[32]; /* the stats aggregate: count, dc, sum, avg, median, exactpercN, values */
  char by[2][32];
  size_t nby;
  char fields[2][32]; /* json_array's fields */
  size_t nfields;
  char steps[4][32];  /* temporal_ordered: the rules of its eventstats, in order, */
  char step_op[4][3]; /* ... each with its comparison to the step before ("" for the first) */
  size_t nsteps;
  const char *cond; /* the | search line (SPL2's | where, its ANDs dropped, in condbuf) */
  char condbuf[256];
  bool sorted;  /* | sort 0 _time */
  bool sliding; /* | streamstats time_window=: each row's window ends at it */
  /* a chain: each inner correlation's stages, in the order written */
  struct Level {
    char refs[4][32]; /* the event_types it takes (eval sigma_xL=if(...)) */
    size_t nrefs;
    char value[32]; /* 1, event_type or a field */
    double span;    /* bin span=S _time as sigma_bL */
    char fn[8];     /* streamstats FN(sigma_xL) */
    char by[2][32]; /* ... by sigma_bL BY... */
    size_t nby;
    char op[3][3]; /* eval sigma_hL=if(isnotnull(sigma_xL) AND sigma_vL OP X..., 1, 0) */
    double x[3];
    size_t nconds;
    char label[32]; /* eval event_type=if(sigma_hL=1 AND sigma_nL=1, "LABEL", event_type) */
  } lv[3];
  size_t nlv;
  char outer[4][32]; /* | where event_type="..." OR ...: the names the outer correlation takes */
  size_t nouter;
} Spl;

/* The names rows are told apart by: what the outer correlation takes after a chain, else the
 * searches' event_types. */
static const char (*row_names(const Spl *m, size_t *n))[32] {
  *n = m->nouter ? m->nouter : m->nsearch;
  return m->nouter ? m->outer : m->etype;
}

static void unquote(const char *s, size_t n, char *out, size_t cap) {
  if (n >= 2 && (s[0] == '\'' || s[0] == '"')) s++, n -= 2;
  snprintf(out, cap, "%.*s", (int)n, s);
}

/* The quoted names of `event_type="a" OR event_type="b"` at p, into out. */
static size_t quoted_names(const char *p, char (*out)[32], size_t cap) {
  size_t n = 0;
  for (const char *q = p; (q = strstr(q, "event_type=\"")) && n < cap;) {
    q += 11;
    size_t l = strcspn(q + 1, "\"");
    unquote(q, l + 2, out[n++], 32);
    q += l + 2;
    if (strncmp(q, " OR ", 4)) break;
  }
  return n;
}

/* Parse the query's lines (the model knows the forms sigmacc writes; anything else fails). */
static void spl_parse(char *text, Spl *m) {
  char why[256];
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (!strcmp(line, "| multisearch")) continue;
    if (!strncmp(line, "| bin _time span=", 17)) {
      char *end;
      m->span = strtod(line + 17, &end);
      m->span *= *end == 'm' ? 60 : *end == 'h' ? 3600 : 1;
    } else if ((!strncmp(line, "| where", 7) && strncmp(line, "| where event_type=", 19)) ||
               !strcmp(line, "| eval sigma_time=_time")) {
      /* isnotnull of the tuple's fields (json_array below drops the same rows) */
    } else if (!strncmp(line, "| eval sigma_value=json_array(", 30)) {
      for (char *p = line + 30; *p && *p != ')';) {
        size_t n = strcspn(p, ",)");
        unquote(p, n, m->fields[m->nfields++], sizeof m->fields[0]);
        p += n + (p[n] == ',') + (p[n + 1] == ' ');
      }
    } else if (!strncmp(line, "| eventstats min(eval(if(event_type=\"", 37)) {
      size_t l = strcspn(line + 37, "\"");
      unquote(line + 36, l + 2, m->steps[m->nsteps], sizeof m->steps[0]);
      const char *cmp = line + 37 + l + 1; /* ` AND sigma_time>sigma_stepK` after the first */
      char prev[16];
      if (!strncmp(cmp, " AND sigma_time", 15)) {
        size_t ol = strspn(cmp + 15, "<>=!");
        snprintf(m->step_op[m->nsteps], sizeof m->step_op[0], "%.*s", (int)(ol < 2 ? ol : 2), cmp + 15);
        snprintf(prev, sizeof prev, "sigma_step%zu,", m->nsteps);
        if (strncmp(cmp + 15 + ol, prev, strlen(prev))) fail_msg("the SPL model cannot read '%s'", line);
      }
      m->nsteps++;
    } else if (!strcmp(line, "| sort 0 _time")) {
      m->sorted = true;
    } else if (!strncmp(line, "| eval sigma_x", 14)) { /* a chain's level: which events, what value */
      struct Level *L = &m->lv[m->nlv++];
      L->nrefs = quoted_names(strstr(line, "=if(") + 4, L->refs, 4);
      const char *v = strstr(line, ", null())"), *b = v - 1;
      while (b > line && strncmp(b, ", ", 2))
        b--;
      unquote(b + 2, (size_t)(v - b - 2), L->value, sizeof L->value);
    } else if (!strncmp(line, "| bin span=", 11)) {
      char *end;
      m->lv[m->nlv - 1].span = strtod(line + 11, &end) * (*end == 'm' ? 60 : *end == 'h' ? 3600 : 1);
    } else if (!strncmp(line, "| streamstats sum(sigma_h", 25)) {
      /* the crossings counted per bucket and group: the model counts them itself */
    } else if (!strncmp(line, "| streamstats ", 14) && strncmp(line, "| streamstats time_window=", 26)) {
      struct Level *L = &m->lv[m->nlv - 1];
      snprintf(L->fn, sizeof L->fn, "%.*s", (int)strcspn(line + 14, "("), line + 14);
      const char *g = strstr(line, " by sigma_b");
      for (g = g ? strchr(g + 11, ' ') : NULL; g && *g == ' ';) {
        g++;
        size_t n = strcspn(g, " ");
        unquote(g, n, L->by[L->nby++], sizeof L->by[0]);
        g += n;
      }
    } else if (!strncmp(line, "| eval sigma_h", 14)) {
      struct Level *L = &m->lv[m->nlv - 1];
      for (const char *c = strstr(line, " AND sigma_v"); c; c = strstr(c + 1, " AND sigma_v")) {
        const char *o = c + 12 + strspn(c + 12, "0123456789");
        size_t ol = strspn(o, "<>=");
        snprintf(L->op[L->nconds], sizeof L->op[0], "%.*s", (int)ol, o);
        L->x[L->nconds++] = strtod(o + ol, NULL);
      }
    } else if (!strncmp(line, "| eval event_type=if(", 21)) { /* the first row where it held, only */
      char form[64];
      snprintf(form, sizeof form, "| eval event_type=if(sigma_h%zu=1 AND sigma_n%zu=1, \"", m->nlv, m->nlv);
      if (strncmp(line, form, strlen(form))) fail_msg("the SPL model cannot read '%s'", line);
      const char *q = strchr(line, '"');
      unquote(q, strcspn(q + 1, "\"") + 2, m->lv[m->nlv - 1].label, sizeof m->lv[0].label);
    } else if (!strncmp(line, "| where event_type=", 19)) {
      m->nouter = quoted_names(line + 8, m->outer, 4);
    } else if (!strncmp(line, "| stats ", 8) || !strncmp(line, "| streamstats time_window=", 26)) {
      char *p = line + 8, *by = strstr(p, " by _time"), *groups = by ? by + 9 : NULL;
      if (!strncmp(line, "| streamstats", 13)) { /* its window instead of a bucket */
        char *end;
        m->span = strtod(line + 26, &end);
        m->span *= *end == 'm' ? 60 : *end == 'h' ? 3600 : 1;
        m->sliding = true;
        p = end + strcspn(end, " ") + 1;
        groups = (by = strstr(p, " by ")) ? by + 3 : NULL;
      }
      if (!strncmp(p, "max(eval(", 9)) {
        snprintf(m->agg, sizeof m->agg, "steps");
      } else {
        size_t a = strcspn(p, "( ");
        snprintf(m->agg, sizeof m->agg, "%.*s", (int)a, p);
        if (p[a] == '(') unquote(p + a + 1, strcspn(p + a + 1, ")"), m->field, sizeof m->field);
      }
      char *as = strstr(p, " as ");
      if (as) snprintf(m->name, sizeof m->name, "%.*s", (int)strcspn(as + 4, " "), as + 4);
      for (char *g = groups; g && *g == ' ';) {
        g++;
        size_t n = strcspn(g, " ");
        unquote(g, n, m->by[m->nby++], sizeof m->by[0]);
        g += n;
      }
    } else if (!strncmp(line, "| search ", 9)) {
      m->cond = line + 9;
    } else { /* a search: `[ search Q | eval event_type="N" ]` or the single one */
      char *q = line, *tag = strstr(line, " | eval event_type=\"");
      if (!strncmp(q, "[ search ", 9)) q += 9;
      char qt[256];
      snprintf(qt, sizeof qt, "%.*s", (int)(tag ? (size_t)(tag - q) : strcspn(q, "]")), q);
      if (tag) unquote(tag + 19, strcspn(tag + 20, "\"") + 2, m->etype[m->nsearch], sizeof m->etype[0]);
      if (!(m->search[m->nsearch++] = om_parse(qt, OM_SPL, why, sizeof why)))
        fail_msg("the SPL model cannot read '%s': %s", qt, why);
    }
  }
}

/* `event_types="a" NOT event_types="b"`, ORs and parentheses, over the bucket's rule names. */
static bool types_expr(const char **p, const Row *rows, size_t n, const Spl *m, int level);

static bool types_term(const char **p, const Row *rows, size_t n, const Spl *m) {
  if (!strncmp(*p, "NOT ", 4)) {
    *p += 4;
    return !types_term(p, rows, n, m);
  }
  if (**p == '(') {
    (*p)++;
    bool v = types_expr(p, rows, n, m, 0);
    if (**p == ')') (*p)++;
    return v;
  }
  if (strncmp(*p, "event_types=\"", 13)) fail_msg("the SPL model cannot read '%s'", *p);
  size_t nn;
  *p += 13;
  size_t l = strcspn(*p, "\"");
  bool seen = false;
  for (size_t i = 0; i < n && !seen; i++)
    seen = strlen(row_names(m, &nn)[rows[i].rule]) == l && !strncmp(row_names(m, &nn)[rows[i].rule], *p, l);
  *p += l + 1;
  return seen;
}

static bool types_expr(const char **p, const Row *rows, size_t n, const Spl *m, int level) {
  bool v = types_term(p, rows, n, m);
  while (**p == ' ') {
    if (!strncmp(*p, " OR ", 4)) {
      if (level > 0) return v;
      *p += 4;
      bool w = types_expr(p, rows, n, m, 1);
      v = v || w;
    } else {
      (*p)++;
      bool w = types_term(p, rows, n, m);
      v = v && w;
    }
  }
  return v;
}

/* SPL2's extended temporal condition over the per-rule flags: `isnotnull(sigma_rN)` (rule N's
 * events are in the bucket), NOT, AND and OR with SPL2's precedence (NOT, then AND, then OR). */
static bool flags_or(const char **p, const Row *rows, size_t n);

static bool flags_not(const char **p, const Row *rows, size_t n) {
  if (!strncmp(*p, "NOT ", 4)) {
    *p += 4;
    return !flags_not(p, rows, n);
  }
  if (**p == '(') {
    (*p)++;
    bool v = flags_or(p, rows, n);
    if (**p != ')') fail_msg("the SPL2 model cannot read '%s'", *p);
    (*p)++;
    return v;
  }
  int rule;
  int used = 0;
  if (sscanf(*p, "isnotnull(sigma_r%d)%n", &rule, &used) != 1 || !used)
    fail_msg("the SPL2 model cannot read '%s'", *p);
  *p += used;
  for (size_t i = 0; i < n; i++)
    if (rows[i].rule == rule - 1) return true;
  return false;
}

static bool flags_and(const char **p, const Row *rows, size_t n) {
  bool v = flags_not(p, rows, n);
  while (!strncmp(*p, " AND ", 5)) {
    *p += 5;
    bool w = flags_not(p, rows, n);
    v = v && w;
  }
  return v;
}

static bool flags_or(const char **p, const Row *rows, size_t n) {
  bool v = flags_and(p, rows, n);
  while (!strncmp(*p, " OR ", 4)) {
    *p += 4;
    bool w = flags_and(p, rows, n);
    v = v || w;
  }
  return v;
}

/* SPL2's correlation (the forms sigmacc writes; anything else fails) read into the SPL model's
 * terms: each part of a union is a search whose events carry its event_type, as multisearch's;
 * one FROM ... WHERE is one search; bin, the eventstats steps of temporal_ordered, stats, where. */
static void spl2_parse(char *text, Spl *m) {
  char why[256];
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (!strncmp(line, "FROM ", 5) || !strncmp(line, "| union [", 9) || !strncmp(line, "  [", 3)) {
      char q[512], *from = strstr(line, "FROM "), *tag = strstr(line, " | eval event_type=\"");
      size_t n = tag ? (size_t)(tag - from) : strlen(from);
      snprintf(q, sizeof q, "%.*s", (int)n, from);
      if (tag) unquote(tag + 19, strcspn(tag + 20, "\"") + 2, m->etype[m->nsearch], sizeof m->etype[0]);
      if (!(m->search[m->nsearch++] = om_parse(q, OM_SPL2, why, sizeof why)))
        fail_msg("the SPL2 model cannot read '%s': %s", q, why);
    } else if (!strcmp(line, "| eval sigma_time=_time") || !strncmp(line, "| eval sigma_steps=", 19) ||
               !strncmp(line, "| eventstats min(sigma_t", 24)) {
      /* the steps' times, their count: as the SPL model computes them from the step lines */
    } else if (!strncmp(line, "| bin _time span=", 17)) {
      char *end;
      m->span = strtod(line + 17, &end);
      m->span *= *end == 'm' ? 60 : *end == 'h' ? 3600 : 1;
    } else if (!strncmp(line, "| eval sigma_t", 14)) { /* a step: its rule, after the step before */
      const char *q = strstr(line, "event_type=\"");
      if (!q) fail_msg("the SPL2 model cannot read '%s'", line);
      size_t l = strcspn(q + 12, "\"");
      unquote(q + 11, l + 2, m->steps[m->nsteps], sizeof m->steps[0]);
      const char *cmp = q + 12 + l + 1;
      if (!strncmp(cmp, " AND sigma_time", 15)) {
        size_t ol = strspn(cmp + 15, "<>=!");
        snprintf(m->step_op[m->nsteps], sizeof m->step_op[0], "%.*s", (int)(ol < 2 ? ol : 2), cmp + 15);
      }
      m->nsteps++;
    } else if (!strncmp(line, "| stats ", 8)) {
      char *p = line + 8, *as = strstr(p, " AS "), *by = strstr(p, " BY _time");
      if (!strncmp(p, "max(sigma_steps)", 16)) {
        snprintf(m->agg, sizeof m->agg, "steps");
      } else if (!strncmp(p, "max(sigma_r", 11)) {
        snprintf(m->agg, sizeof m->agg, "flags");
      } else {
        size_t a = strcspn(p, "(");
        snprintf(m->agg, sizeof m->agg, "%.*s", (int)a, p);
        unquote(p + a + 1, strcspn(p + a + 1, ")"), m->field, sizeof m->field);
      }
      if (as) snprintf(m->name, sizeof m->name, "%.*s", (int)strcspn(as + 4, ", "), as + 4);
      for (char *g = by ? by + 9 : NULL; g && !strncmp(g, ", ", 2);) {
        g += 2;
        size_t n = strcspn(g, ",");
        unquote(g, n, m->by[m->nby++], sizeof m->by[0]);
        g += n;
      }
    } else if (!strncmp(line, "| where ", 8)) { /* `NAME OP N AND ...` as the SPL model reads it */
      const char *w = line + 8;
      if (!strcmp(m->agg, "flags")) {
        m->cond = w;
      } else {
        m->condbuf[0] = '\0';
        for (const char *p = w; *p;) {
          const char *and = strstr(p, " AND ");
          size_t n = and? (size_t)(and-p) : strlen(p);
          snprintf(m->condbuf + strlen(m->condbuf), sizeof m->condbuf - strlen(m->condbuf), "%s%.*s",
                   m->condbuf[0] ? " " : "", (int)n, p);
          p += n + (and? 5 : 0);
        }
        m->cond = m->condbuf;
      }
    } else {
      fail_msg("the SPL2 model cannot read '%s'", line);
    }
  }
}

static bool spl_decide(void *ctx, const Row *rows, size_t n, double *v) {
  const Spl *m = ctx;
  SgCorrelation k = {0};
  if (!strcmp(m->agg, "values")) {
    const char *p = m->cond;
    *v = 0;
    return types_expr(&p, rows, n, m, 0);
  }
  if (!strcmp(m->agg, "flags")) {
    const char *p = m->cond;
    *v = 0;
    bool held = flags_or(&p, rows, n);
    if (*p) fail_msg("the SPL2 model cannot read '%s'", p);
    return held;
  }
  /* the aggregate as Splunk defines its functions */
  if (!strcmp(m->agg, "count")) {
    k.type = SG_CORR_EVENT_COUNT;
  } else if (!strcmp(m->agg, "dc")) {
    k.type = strcmp(m->field, "event_type") ? SG_CORR_VALUE_COUNT : SG_CORR_TEMPORAL;
  } else if (!strcmp(m->agg, "steps")) { /* each step as its eventstats says, then how many have a time */
    double step[4];
    *v = 0;
    for (size_t st = 0; st < m->nsteps; st++) {
      step[st] = NAN;
      for (size_t i = 0; i < n; i++) {
        const char *op = m->step_op[st];
        double t = rows[i].t, p = st ? step[st - 1] : NAN; /* a comparison with null is false */
        bool after = !st || (!isnan(p) && (!strcmp(op, ">")    ? t > p
                                           : !strcmp(op, ">=") ? t >= p
                                           : !strcmp(op, "<")  ? t < p
                                                               : t <= p));
        if (rows[i].rule == (int)st && after && (isnan(step[st]) || t < step[st])) step[st] = t;
      }
      *v += !isnan(step[st]);
    }
    k.type = SG_CORR_EVENT_COUNT; /* only for the comparisons below */
  } else if (!strcmp(m->agg, "sum") || !strcmp(m->agg, "avg") || !strcmp(m->agg, "median")) {
    k.type = m->agg[0] == 's'   ? SG_CORR_VALUE_SUM
             : m->agg[0] == 'a' ? SG_CORR_VALUE_AVG
                                : SG_CORR_VALUE_MEDIAN;
  } else if (!strncmp(m->agg, "exactperc", 9)) {
    k.type = SG_CORR_VALUE_PERCENTILE;
    k.percentile = atoi(m->agg + 9);
  } else {
    fail_msg("the SPL model does not know the aggregate '%s'", m->agg);
  }
  const char *rule_names[4];
  size_t nn;
  const char(*names)[32] = row_names(m, &nn);
  for (size_t i = 0; i < nn; i++)
    rule_names[i] = names[i];
  k.rules = (SgStrList){.v = rule_names, .n = nn};
  if (strcmp(m->agg, "steps") && !aggregate(&k, rows, n, v)) return false;
  /* `NAME OP N NAME OP N`: all hold */
  for (const char *p = m->cond; *p;) {
    size_t nl = strlen(m->name);
    if (strncmp(p, m->name, nl) || p[nl] != ' ') fail_msg("the SPL model cannot read '%s'", p);
    p += nl + 1;
    char op[4] = {0};
    size_t ol = strcspn(p, " ");
    snprintf(op, sizeof op, "%.*s", (int)ol, p);
    p += ol + 1;
    char *end;
    double x = strtod(p, &end);
    p = *end ? end + 1 : end;
    bool ok = !strcmp(op, ">")    ? *v > x
              : !strcmp(op, ">=") ? *v >= x
              : !strcmp(op, "<")  ? *v < x
              : !strcmp(op, "<=") ? *v <= x
              : !strcmp(op, "=")  ? *v == x
                                  : *v != x;
    if (!ok) return false;
  }
  return true;
}

typedef struct SRow {
  size_t e, seq;
  char name[32];
  bool h; /* the level's condition held at this row */
} SRow;

/* A value of row r for level L: "1", its event_type or the field (NULL: none). */
static const char *level_value(const struct Level *L, const SRow *r, Ev *evs, size_t *n) {
  if (!strcmp(L->value, "1")) return *n = 1, "1";
  if (!strcmp(L->value, "event_type")) return *n = strlen(r->name), r->name;
  return leaf(&evs[r->e].doc, L->value, n);
}

/* Row r's bucket and group for level L, or false when it has no value or no group. */
static bool level_key(const struct Level *L, const SRow *r, Ev *evs, char *key, size_t cap) {
  bool in = false;
  for (size_t i = 0; i < L->nrefs; i++)
    in |= !strcmp(L->refs[i], r->name);
  size_t n;
  if (!in || !level_value(L, r, evs, &n)) return false;
  snprintf(key, cap, "%.0f|", floor(evs[r->e].t / L->span));
  for (size_t g = 0; g < L->nby; g++) {
    const char *v = leaf(&evs[r->e].doc, L->by[g], &n);
    if (!v) return false;
    snprintf(key + strlen(key), cap - strlen(key), "%.*s|", (int)n, v);
  }
  return true;
}

/* One level of a chain over the stream (time order), as its stages say: each row's running
 * aggregate in its bucket and group (streamstats FN), whether the condition holds there, and the
 * first row of the bucket and group where it held takes the level's label. */
static void run_level(const struct Level *L, SRow *sr, size_t n, Ev *evs) {
  char ki[96], kj[96];
  for (size_t i = 0; i < n; i++) {
    sr[i].h = false;
    if (!level_key(L, &sr[i], evs, ki, sizeof ki)) continue;
    double v = 0, cnt = 0;
    char seen[64][32];
    size_t nseen = 0;
    for (size_t j = 0; j <= i; j++) {
      if (!level_key(L, &sr[j], evs, kj, sizeof kj) || strcmp(ki, kj)) continue;
      size_t l;
      const char *x = level_value(L, &sr[j], evs, &l);
      char *end, buf[32];
      snprintf(buf, sizeof buf, "%.*s", (int)l, x);
      if (!strcmp(L->fn, "count")) {
        v++;
      } else if (!strcmp(L->fn, "dc")) {
        bool dup = false;
        for (size_t k = 0; k < nseen && !dup; k++)
          dup = !strcmp(seen[k], buf);
        if (!dup && nseen < 64) snprintf(seen[nseen++], 32, "%s", buf), v++;
      } else { /* sum, avg: the numbers */
        double d = strtod(buf, &end);
        if (end != buf && !*end) v += d, cnt++;
      }
    }
    if (!strcmp(L->fn, "avg")) v = cnt ? v / cnt : NAN;
    if ((!strcmp(L->fn, "sum") || !strcmp(L->fn, "avg")) && !cnt) continue; /* null: no comparison holds */
    bool h = true;
    for (size_t c = 0; c < L->nconds; c++)
      h &= !strcmp(L->op[c], ">=") ? v >= L->x[c] : !strcmp(L->op[c], ">") ? v > L->x[c] : false;
    sr[i].h = h;
  }
  bool *first = calloc(n + 1, sizeof *first); /* streamstats sum(sigma_h): the first where it held */
  for (size_t i = 0; i < n; i++) {
    if (!sr[i].h || !level_key(L, &sr[i], evs, ki, sizeof ki)) continue;
    first[i] = true;
    for (size_t j = 0; j < i && first[i]; j++)
      first[i] = !(sr[j].h && level_key(L, &sr[j], evs, kj, sizeof kj) && !strcmp(ki, kj));
  }
  for (size_t i = 0; i < n; i++) /* then eval event_type=if(sigma_h=1 AND sigma_n=1, ...) */
    if (first[i]) snprintf(sr[i].name, sizeof sr[i].name, "%s", L->label);
  free(first);
}

/* The rows of the SPL model: each search's events (an event in several searches is several
 * rows, as multisearch gives), through the chain's levels and the outer `where` when there are
 * some, with their event_type, bucket, group and value. */
static size_t spl_rows(const Spl *m, Ev *evs, size_t nev, Row *rows) {
  SRow *sr = malloc(4 * nev * sizeof *sr);
  size_t ns = 0, nn;
  for (size_t e = 0; e < nev; e++)
    for (size_t s = 0; s < m->nsearch; s++)
      if (om_matches(m->search[s], &evs[e].doc)) {
        sr[ns] = (SRow){.e = e, .seq = e * 4 + s};
        snprintf(sr[ns++].name, sizeof sr[0].name, "%s", m->etype[s]);
      }
  for (size_t l = 0; l < m->nlv; l++)
    run_level(&m->lv[l], sr, ns, evs);
  const char(*names)[32] = row_names(m, &nn);
  size_t n = 0;
  for (size_t i = 0; i < ns; i++) {
    size_t e = sr[i].e;
    int rule = -1;
    for (size_t k = 0; k < nn; k++)
      if (!strcmp(names[k], sr[i].name)) rule = (int)k;
    if (rule < 0 && m->nouter) continue; /* | where event_type=...: not the outer's */
    if (rule < 0) rule = (int)(sr[i].seq % 4);
    Row row = {.bucket = m->sliding ? 0 : floor(evs[e].t / m->span) * m->span,
               .t = evs[e].t,
               .seq = sr[i].seq,
               .rule = rule};
    bool keep = true;
    for (size_t g = 0; g < m->nby && keep; g++) {
      size_t l;
      const char *v = leaf(&evs[e].doc, m->by[g], &l);
      if (!v)
        keep = false; /* stats by drops a row without a by-field */
      else
        snprintf(row.group + strlen(row.group), sizeof row.group - strlen(row.group), "%.*s|", (int)l, v);
    }
    for (size_t f = 0; f < m->nfields && keep; f++) { /* | where isnotnull(...) */
      size_t l;
      const char *v = leaf(&evs[e].doc, m->fields[f], &l);
      if (!v)
        keep = false;
      else
        snprintf(row.val + strlen(row.val), sizeof row.val - strlen(row.val), "\x1f%.*s", (int)l, v);
    }
    if (!m->nfields && m->field[0] && strcmp(m->field, "event_type")) {
      size_t l;
      const char *v = leaf(&evs[e].doc, m->field, &l);
      if (v) snprintf(row.val, sizeof row.val, "%.*s", (int)l, v);
    }
    if (m->nsteps) /* eventstats steps by rule name: the rows of step s are those named so */
      for (size_t st = 0; st < m->nsteps; st++)
        if (!strcmp(m->steps[st], sr[i].name)) row.rule = (int)st;
    if (keep) rows[n++] = row;
  }
  free(sr);
  return n;
}

/* ---- the sliding window (-O correlation_window=sliding) ----------------------------------- */

static int cmp_stream(const void *a, const void *b) {
  const Row *x = a, *y = b;
  int c = strcmp(x->group, y->group);
  return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* streamstats time_window: at each row, the rows of its group streamed up to it whose time is
 * within the span before its own (eval's window: a match as old as the newest minus the timespan
 * still counts); a verdict (at the row's time) wherever the condition holds on that window. */
static size_t sliding_verdicts(Row *rows, size_t n, const Spl *m, Verdict *out) {
  qsort(rows, n, sizeof *rows, cmp_stream);
  size_t nv = 0;
  for (size_t i = 0; i < n; i++) {
    size_t lo = i;
    while (lo > 0 && !strcmp(rows[lo - 1].group, rows[i].group) && rows[lo - 1].t >= rows[i].t - m->span)
      lo--;
    double v;
    if (spl_decide((void *)m, rows + lo, i + 1 - lo, &v)) {
      out[nv] = (Verdict){.bucket = rows[i].t, .value = v};
      snprintf(out[nv++].group, sizeof out[0].group, "%s", rows[i].group);
    }
  }
  return nv;
}

/* The first verdict of `group` in v[0..n) (by time), or NAN. */
static double first_in(const Verdict *v, size_t n, const char *group) {
  double t = NAN;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i].group, group) && (isnan(t) || v[i].bucket < t)) t = v[i].bucket;
  return t;
}

/* ---- the AQL model ------------------------------------------------------------------------ */

/* `SELECT cols, AGG AS name FROM events WHERE w GROUP BY cols HAVING name OP N [AND ...] LAST n
 * MINUTES`: over the events of the last timespan (to the newest event), each kept by the WHERE
 * (on the AQL model) once, grouped by the columns (a NULL is a group of its own, as GROUP BY
 * makes one), then HAVING. Returns the verdicts, or SIZE_MAX when the model cannot read it. */
static size_t aql_verdicts(const char *q, Ev *evs, size_t nev, Row *rows, Verdict *out) {
  const char *from = strstr(q, " FROM events WHERE "), *gb = strstr(q, " GROUP BY "),
             *hv = strstr(q, " HAVING "), *last = strstr(q, " LAST ");
  if (!from || !gb || !hv || !last || strncmp(q, "SELECT ", 7)) fail_msg("the AQL model cannot read '%s'", q);
  char where[512], why[256];
  snprintf(where, sizeof where, "SELECT * FROM events WHERE %.*s", (int)(gb - from - 19), from + 19);
  OmQuery *w = om_parse(where, OM_AQL, why, sizeof why);
  if (!w) fail_msg("the AQL model cannot read '%s': %s", where, why);
  /* the aggregate: the last column before FROM */
  const char *agg = from;
  while (agg > q && strncmp(agg, ", ", 2))
    agg--;
  agg += 2;
  char fn[16] = "", field[64] = "", name[32] = "";
  size_t fl = strcspn(agg, "(");
  snprintf(fn, sizeof fn, "%.*s", (int)fl, agg);
  unquote(agg + fl + 1, strcspn(agg + fl + 1, ")"), field, sizeof field);
  const char *as = strstr(agg, " AS ");
  snprintf(name, sizeof name, "%.*s", (int)strcspn(as + 4, " "), as + 4);
  char by[2][32];
  size_t nby = 0;
  for (const char *g = gb + 10; g < hv && nby < 2;) {
    size_t n = strcspn(g, ", ");
    if (g + n > hv) n = (size_t)(hv - g);
    unquote(g, n, by[nby++], sizeof by[0]);
    g += n;
    while (g < hv && (*g == ',' || *g == ' '))
      g++;
  }
  char *end;
  double span = strtod(last + 6, &end);
  span *= !strncmp(end, " MINUTES", 8) ? 60 : !strncmp(end, " HOURS", 6) ? 3600 : 86400;
  double now = evs[nev - 1].t;
  size_t n = 0;
  for (size_t e = 0; e < nev; e++) {
    if (evs[e].t <= now - span || !om_matches(w, &evs[e].doc)) continue;
    Row row = {.bucket = 0, .t = evs[e].t};
    for (size_t g = 0; g < nby; g++) {
      size_t l;
      const char *v = leaf(&evs[e].doc, by[g], &l);
      snprintf(row.group + strlen(row.group), sizeof row.group - strlen(row.group), "%.*s|", v ? (int)l : 4,
               v ? v : "NULL");
    }
    size_t l;
    const char *v = field[0] && strcmp(field, "*") ? leaf(&evs[e].doc, field, &l) : NULL;
    if (v) snprintf(row.val, sizeof row.val, "%.*s", (int)l, v);
    rows[n++] = row;
  }
  om_free(w);
  SgCorrelation k = {.type = !strcmp(fn, "COUNT")         ? SG_CORR_EVENT_COUNT
                             : !strcmp(fn, "UNIQUECOUNT") ? SG_CORR_VALUE_COUNT
                             : !strcmp(fn, "SUM")         ? SG_CORR_VALUE_SUM
                                                          : SG_CORR_VALUE_AVG};
  SgCorrCond conds[4];
  for (const char *p = hv + 8; p < last && k.nconds < 4;) { /* name OP N [AND ...] */
    p += strlen(name) + 1;
    size_t ol = strcspn(p, " ");
    static const char *const ops[][2] = {{">=", "gte"}, {">", "gt"}, {"<=", "lte"},
                                         {"<", "lt"},   {"=", "eq"}, {"<>", "neq"}};
    conds[k.nconds].op = NULL;
    for (size_t i = 0; i < 6; i++)
      if (strlen(ops[i][0]) == ol && !strncmp(p, ops[i][0], ol)) conds[k.nconds].op = ops[i][1];
    if (!conds[k.nconds].op) fail_msg("the AQL model cannot read the HAVING of '%s'", q);
    conds[k.nconds++].value.d = strtod(p + ol + 1, &end);
    p = end;
    if (!strncmp(p, " AND ", 5)) p += 5;
  }
  k.conds = conds;
  Ref ref = {&(SgRule){.corr = &k}};
  return verdicts(rows, n, out, ref_decide, &ref);
}

/* The reference over the last timespan only, as AQL's LAST reads: rows of the newest window. */
static size_t last_window(Row *rows, size_t n, double now, double span) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (rows[i].t > now - span) {
      rows[m] = rows[i];
      rows[m++].bucket = 0;
    }
  return m;
}

/* ---- the scenarios ------------------------------------------------------------------------ */

static const char *const scenarios[] = {
    "type: event_count\n  rules: [a]\n  group-by: [G]\n  condition: {gte: 6}",
    "type: event_count\n  rules: [a, b]\n  group-by: [G]\n  condition: {gt: 3, lte: 12}",
    "type: event_count\n  rules: [a]\n  group-by: [G, H]\n  condition: {lt: 3}",
    "type: event_count\n  rules: [b]\n  group-by: [G]\n  condition: {eq: 4}",
    "type: event_count\n  rules: [c]\n  group-by: [G]\n  condition: {neq: 2}",
    "type: value_count\n  rules: [a]\n  group-by: [G]\n  condition: {field: V, gte: 4}",
    "type: value_count\n  rules: [a, c]\n  group-by: [G]\n  condition: {field: [V, W], gte: 5}",
    "type: temporal\n  rules: [a, b, c]\n  group-by: [G]",
    "type: temporal\n  rules: [a, b]\n  group-by: [G]\n  condition: {gte: 1}",
    "type: temporal\n  rules: [a, c]\n  group-by: [G]\n  condition: a and not c",
    "type: temporal\n  rules: [a, b, c]\n  group-by: [G]\n  condition: (a or b) and not c",
    "type: temporal_ordered\n  rules: [a, b]\n  group-by: [G]",
    "type: temporal_ordered\n  rules: [b, a, c]\n  group-by: [G]",
    "type: value_sum\n  rules: [a]\n  group-by: [G]\n  condition: {field: V, gte: 20}",
    "type: value_avg\n  rules: [a, b]\n  group-by: [G]\n  condition: {field: V, gt: 3.5}",
    "type: value_median\n  rules: [c]\n  group-by: [G]\n  condition: {field: V, lte: 2}",
    "type: value_percentile\n  rules: [a]\n  group-by: [G]\n  condition: {field: V, percentile: 90, gte: 6}",
};

static void make_events(Ev *evs, size_t n) {
  static const char *const rs[] = {"a", "b", "c", "z"}, *const gs[] = {"g1", "g2", "g3"},
                           *const vs[] = {"1", "2", "3", "5", "8", "x", "2.5"};
  double t = 1798761600; /* 2027-01-01T00:00:00Z */
  for (size_t i = 0; i < n; i++) {
    t += (double)(next_rand() % 40);
    char g[32] = "", h[32] = "", v[32] = "", w[32] = "";
    if (next_rand() % 12) snprintf(g, sizeof g, ",\"G\":\"%s\"", gs[next_rand() % 3]);
    if (next_rand() % 3) snprintf(h, sizeof h, ",\"H\":\"h%d\"", (int)(next_rand() % 2));
    if (next_rand() % 6) snprintf(v, sizeof v, ",\"V\":\"%s\"", vs[next_rand() % 7]);
    if (next_rand() % 4) snprintf(w, sizeof w, ",\"W\":\"w%d\"", (int)(next_rand() % 3));
    time_t sec = (time_t)t;
    struct tm tm;
    gmtime_r(&sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(evs[i].text, sizeof evs[i].text, "{\"R\":\"%s\"%s%s%s%s,\"@timestamp\":\"%s\"}",
             rs[next_rand() % 4], g, h, v, w, ts);
    evs[i].t = t;
    size_t off;
    const char *err;
    if (!sg_json_parse(&evs[i].doc, evs[i].text, strlen(evs[i].text), &off, &err))
      fail_msg("event %s", evs[i].text);
  }
}

/* ---- what every run shares ---------------------------------------------------------------- */

/* Rules a, b and c (R is their name), then `corr`, a correlation's documents. */
static void scenario_source(SgBuf *src, const char *corr) {
  static const char *const names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++)
    sg_buf_catf(
        src, "title: %s\nname: %s\nlogsource: {product: x}\ndetection:\n  s: {R: %s}\n  condition: s\n---\n",
        names[i], names[i], names[i]);
  sg_buf_cat(src, corr);
}

/* The query of `src` in `target` (with opts), or NULL when it is refused (*d says why); *last is the
 * correlation's query in the returned copy: the last (the rules it does not name have their own). */
static char *query_of(const char *target, const SgBuf *src, const SgOption *opts, size_t nopts, SgBuf *spl,
                      SgDiags *d, char **last) {
  SgConvertJob job = {.target = target, .without_pipeline = true, .opts = opts, .nopts = nopts};
  if (sg_convert_text(&job, "k.yml", src->data, src->len, spl, d) != SG_OK) return NULL;
  char *text = strdup(sg_buf_cstr(spl));
  *last = text;
  for (char *p = text; (p = strstr(p, "\n\n")); p += 2)
    *last = p + 2;
  return text;
}

/* The two sides' verdicts agree (values too, unless `values`), or the test fails saying how. */
static void agree(const char *what, size_t sc, const Verdict *want, size_t nwant, const Verdict *got,
                  size_t ngot, bool values, const char *query) {
  bool same = nwant == ngot;
  for (size_t i = 0; same && i < nwant; i++)
    same = want[i].bucket == got[i].bucket && !strcmp(want[i].group, got[i].group) &&
           (!values || fabs(want[i].value - got[i].value) < 1e-9);
  if (same) return;
  for (size_t i = 0; i < nwant || i < ngot; i++)
    fprintf(stderr, "  reference %.0f %s %g | SPL %.0f %s %g\n", i < nwant ? want[i].bucket : 0,
            i < nwant ? want[i].group : "-", i < nwant ? want[i].value : 0, i < ngot ? got[i].bucket : 0,
            i < ngot ? got[i].group : "-", i < ngot ? got[i].value : 0);
  fail_msg("%s %zu: the reference fires %zu (bucket, group), the SPL model %zu:\n%s", what, sc, nwant, ngot,
           query);
}

static void test_correlation_oracle(void **state) {
  (void)state;
  Ev *evs = calloc(NEV, sizeof *evs);
  assert_non_null(evs);
  make_events(evs, NEV);
  Row *rows = malloc(4 * NEV * sizeof *rows), *ref_rows = malloc(4 * NEV * sizeof *ref_rows);
  size_t aql_fired = 0, aql_checked = 0;
  Verdict *want = malloc(4 * NEV * sizeof *want), *got = malloc(4 * NEV * sizeof *got);
  assert_true(rows && ref_rows && want && got);
  size_t fired = 0, buckets = 0, slid_scenarios = 0, slid_hits = 0, slid_rows = 0, spl2_checked = 0;
  Verdict *evh = malloc(NEV * sizeof *evh);
  assert_non_null(evh);
  for (size_t sc = 0; sc < sizeof scenarios / sizeof *scenarios; sc++) {
    SgBuf src = {0}, body = {0};
    sg_buf_catf(&body, "title: k\ncorrelation:\n  %s\n  timespan: 10m\n", scenarios[sc]);
    scenario_source(&src, body.data);
    sg_buf_free(&body);
    /* the SPL */
    SgBuf spl = {0};
    SgDiags d = {0};
    char *last, *text = query_of("splunk", &src, NULL, 0, &spl, &d, &last);
    if (!text) fail_msg("scenario %zu does not convert:\n%s", sc, src.data);
    sg_diags_free(&d);
    Spl m = {0};
    spl_parse(last, &m);
    if (m.span != SPAN || m.sliding) fail_msg("scenario %zu: bin span %g", sc, m.span);
    /* the SPL with -O correlation_window=sliding, where it has one */
    SgBuf sspl = {0};
    SgDiags sd = {0};
    Spl ms = {0};
    char *slast, *stext = query_of("splunk", &src, &(SgOption){"correlation_window", "sliding"}, 1, &sspl,
                                   &sd, &slast);
    bool sliding = stext != NULL;
    if (sliding) {
      spl_parse(slast, &ms);
      if (!ms.sliding || !ms.sorted || ms.span != SPAN)
        fail_msg("scenario %zu: not a sliding window:\n%s", sc, slast);
    }
    /* the reference: the evaluator's matches, the correlation's meaning */
    SgUnit u;
    SgDiags cd = {0};
    char *owned = strdup(src.data);
    if (sg_compile_source(&u, "k.yml", owned, src.len, &cd) != SG_OK || cd.nerrors)
      fail_msg("scenario %zu", sc);
    SgEvaluator *e = sg_eval_new();
    for (int i = 0; i < 3; i++)
      assert_int_equal(sg_eval_add(e, u.rules[i], &cd), SG_OK);
    assert_int_equal(sg_eval_prepare(e), SG_OK);
    const SgRule *corr = u.rules[3];
    bool refusable = corr->corr->type == SG_CORR_TEMPORAL_ORDERED; /* sliding: a located error */
    for (size_t i = 0; i < corr->corr->nconds; i++)
      refusable |= strcmp(corr->corr->conds[i].op, "gt") && strcmp(corr->corr->conds[i].op, "gte");
    bool named = false; /* the refusal names the option */
    for (size_t i = 0; i < sd.n; i++)
      named |= sd.items[i].sev == SG_SEV_ERROR && sd.items[i].msg && strstr(sd.items[i].msg, "=sliding");
    if (sliding == refusable || sliding == named)
      fail_msg("scenario %zu: the sliding window is %s", sc, sliding ? "written" : "refused");
    SgCorrelator *cr = sg_corr_new();
    const SgRule *refs[3];
    for (size_t r = 0; r < corr->corr->rules.n; r++)
      refs[r] = u.rules[corr->corr->rules.v[r][0] - 'a'];
    assert_int_equal(sg_corr_add(cr, corr, refs, &cd), SG_OK);
    size_t nevh = 0; /* eval's own hits: (time, group) */
    size_t nr = 0;
    for (size_t i = 0; i < NEV; i++) {
      const SgEvalHit *hits;
      size_t nh;
      assert_int_equal(sg_eval_event(e, &evs[i].doc, &hits, &nh), SG_OK);
      const SgCorrHit *ch;
      size_t nch;
      assert_int_equal(sg_corr_event(cr, &evs[i].doc, hits, nh, &ch, &nch), SG_OK);
      for (size_t h = 0; h < nch; h++) {
        Row g;
        ref_row(corr->corr, &evs[i], 0, &g);
        evh[nevh] = (Verdict){.bucket = evs[i].t, .value = ch[h].value};
        snprintf(evh[nevh++].group, sizeof evh[0].group, "%s", g.group);
      }
      for (size_t h = 0; h < nh; h++)
        for (size_t r = 0; r < corr->corr->rules.n; r++)
          if (!strcmp(hits[h].rule->name, corr->corr->rules.v[r]) &&
              ref_row(corr->corr, &evs[i], (int)r, &rows[nr]))
            nr++;
    }
    Ref ref = {corr};
    memcpy(ref_rows, rows, nr * sizeof *rows);
    size_t nwant = verdicts(rows, nr, want, ref_decide, &ref);
    size_t ngot = verdicts(rows, spl_rows(&m, evs, NEV, rows), got, spl_decide, &m);
    agree("scenario", sc, want, nwant, got, ngot, !strstr(m.agg, "values"), spl.data);
    fired += nwant;
    buckets += nr;
    /* SPL2, where it has the type: the same buckets, on the SPL model read from SPL2's forms */
    SgBuf s2 = {0};
    SgDiags s2d = {0};
    char *s2last, *s2text = query_of("splunk_spl2", &src, NULL, 0, &s2, &s2d, &s2last);
    if (s2text) {
      Spl m2 = {0};
      spl2_parse(s2last, &m2);
      if (m2.span != SPAN) fail_msg("scenario %zu: SPL2 bin span %g", sc, m2.span);
      memcpy(rows, ref_rows, nr * sizeof *rows);
      size_t nw2 = verdicts(rows, nr, want, ref_decide, &ref);
      size_t ng2 = verdicts(rows, spl_rows(&m2, evs, NEV, rows), got, spl_decide, &m2);
      agree("scenario (SPL2)", sc, want, nw2, got, ng2, strcmp(m2.agg, "flags"), s2.data);
      spl2_checked++;
      for (size_t i = 0; i < m2.nsearch; i++)
        om_free(m2.search[i]);
      free(s2text);
    } else if (corr->corr->type != SG_CORR_VALUE_PERCENTILE &&
               corr->corr->fields.n < 2) { /* refused, located */
      fail_msg("scenario %zu: SPL2 refuses it:\n%s", sc, s2d.n ? s2d.items[0].msg : "");
    }
    sg_buf_free(&s2);
    sg_diags_free(&s2d);
    /* sliding: each group's first result is at eval's first hit; where the aggregate only grows
     * with the window (count, distinct count, a sum of values >= 0), every eval hit is a result */
    if (sliding) {
      size_t ngs = sliding_verdicts(rows, spl_rows(&ms, evs, NEV, rows), &ms, got);
      bool monotone = !strcmp(ms.agg, "count") || !strcmp(ms.agg, "dc") || !strcmp(ms.agg, "sum");
      for (size_t i = 0; i < nevh + ngs; i++) {
        const char *g = i < nevh ? evh[i].group : got[i - nevh].group;
        double a = first_in(evh, nevh, g), b = first_in(got, ngs, g);
        if (!(a == b || (isnan(a) && isnan(b))))
          fail_msg("scenario %zu (sliding): group %s first fires at %.0f in eval, %.0f in the SPL model:\n%s",
                   sc, g, a, b, sspl.data);
        bool found = i >= nevh || !monotone;
        for (size_t j = 0; !found && j < ngs; j++)
          found = got[j].bucket == evh[i].bucket && !strcmp(got[j].group, g);
        if (!found)
          fail_msg("scenario %zu (sliding): eval's hit at %.0f in %s is no SPL result", sc, evh[i].bucket, g);
      }
      slid_scenarios++;
      slid_hits += nevh;
      slid_rows += ngs;
    }
    for (size_t i = 0; i < ms.nsearch; i++)
      om_free(ms.search[i]);
    free(stext);
    sg_buf_free(&sspl);
    sg_diags_free(&sd);
    sg_corr_free(cr);
    /* AQL, where the target has the type: the newest window */
    SgConvertJob job = {.target = "aql", .without_pipeline = true};
    SgBuf aql = {0};
    SgDiags ad = {0};
    if (sg_convert_text(&job, "k.yml", src.data, src.len, &aql, &ad) == SG_OK) {
      const char *aq = strstr(sg_buf_cstr(&aql), "SELECT \"G\"");
      if (!aq) fail_msg("scenario %zu: no AQL correlation in\n%s", sc, aql.data);
      char *line = strndup(aq, strcspn(aq, "\n"));
      size_t nref = last_window(ref_rows, nr, evs[NEV - 1].t, SPAN);
      size_t na = verdicts(ref_rows, nref, want, ref_decide, &ref);
      size_t ng = aql_verdicts(line, evs, NEV, rows, got);
      bool agree = na == ng;
      for (size_t i = 0; agree && i < na; i++)
        agree = !strcmp(want[i].group, got[i].group) && fabs(want[i].value - got[i].value) < 1e-9;
      if (!agree)
        fail_msg("scenario %zu: AQL '%s': the reference fires %zu groups, the AQL model %zu", sc, line, na,
                 ng);
      aql_fired += na;
      aql_checked++;
      free(line);
    }
    sg_diags_free(&ad);
    sg_buf_free(&aql);
    for (size_t i = 0; i < m.nsearch; i++)
      om_free(m.search[i]);
    free(text);
    sg_eval_free(e);
    sg_unit_free(&u);
    sg_diags_free(&cd);
    sg_buf_free(&spl);
    sg_buf_free(&src);
  }
  printf(
      "correlation oracle: %zu scenarios, %d events, %zu rule matches, %zu (bucket, group) verdicts fired; "
      "SPL and the reference agree on all\n",
      sizeof scenarios / sizeof *scenarios, NEV, buckets, fired);
  printf(
      "correlation oracle, AQL: %zu scenarios of its types, the newest window: %zu groups fire; AQL and the "
      "reference agree on all\n",
      aql_checked, aql_fired);
  printf("correlation oracle, SPL2: %zu scenarios of its types, the same (bucket, group) verdicts\n",
         spl2_checked);
  printf("correlation oracle, sliding: %zu scenarios, eval fires %zu times, the SPL model gives %zu results; "
         "each "
         "group's first agrees\n",
         slid_scenarios, slid_hits, slid_rows);
  assert_true(fired > 10 && aql_checked >= 7 && aql_fired > 3 && slid_scenarios >= 9 && slid_hits > 10 &&
              spl2_checked >= 15);
  free(evh);
  free(ref_rows);
  for (size_t i = 0; i < NEV; i++)
    sg_jdoc_free(&evs[i].doc);
  free(evs);
  free(rows);
  free(want);
  free(got);
}

/* ---- chains: a correlation over correlations ------------------------------------------------- */

/* The matches of the reference `name` in the bucket reading (event indexes, in stream order): a
 * rule's are its events (hit[e][r]); a correlation's, in each of its buckets and groups, the
 * event at which its aggregate over the matches so far first meets its condition. */
static size_t ref_matches(const SgUnit *u, const char *name, const bool (*hit)[3], Ev *evs, size_t *out) {
  size_t n = 0;
  if (strlen(name) == 1 && name[0] >= 'a' && name[0] <= 'c') {
    for (size_t e = 0; e < NEV; e++)
      if (hit[e][name[0] - 'a']) out[n++] = e;
    return n;
  }
  const SgRule *r = NULL;
  for (size_t i = 0; i < u->nrules; i++)
    if (u->rules[i]->name && !strcmp(u->rules[i]->name, name)) r = u->rules[i];
  if (!r || !r->corr) fail_msg("no correlation '%s'", name);
  const SgCorrelation *k = r->corr;
  Row *rows = malloc(4 * NEV * sizeof *rows);
  size_t *sub = malloc(NEV * sizeof *sub), nr = 0;
  for (size_t j = 0; j < k->rules.n; j++) {
    size_t ns = ref_matches(u, k->rules.v[j], hit, evs, sub);
    for (size_t i = 0; i < ns; i++)
      if (ref_row(k, &evs[sub[i]], (int)j, &rows[nr])) rows[nr++].seq = sub[i] * 4 + j;
  }
  qsort(rows, nr, sizeof *rows, cmp_row);
  for (size_t lo = 0; lo < nr;) {
    size_t hi = lo + 1;
    while (hi < nr && rows[hi].bucket == rows[lo].bucket && !strcmp(rows[hi].group, rows[lo].group))
      hi++;
    for (size_t i = lo; i < hi; i++) {
      double v;
      if (aggregate(k, rows + lo, i - lo + 1, &v) && holds(k, NULL, rows + lo, i - lo + 1, v)) {
        out[n++] = rows[i].seq / 4;
        break;
      }
    }
    lo = hi;
  }
  free(rows);
  free(sub);
  qsort(out, n, sizeof *out, cmp_size);
  return n;
}

static const struct {
  const char *inner; /* the correlations under the outer one, each a document body */
  const char *outer;
} chains[] = {
    {"name: i1\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [G, H]\n  condition: {gte: 3}",
     "type: temporal_ordered\n  rules: [i1, b]\n  group-by: [G]"},
    {"name: i1\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [G]\n  condition: {field: V, "
     "gte: 3}",
     "type: event_count\n  rules: [i1, c]\n  group-by: [G]\n  condition: {gte: 2}"},
    {"name: i1\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  group-by: [G]",
     "type: temporal\n  rules: [i1, c]\n  group-by: [G]"},
    {"name: i1\ncorrelation:\n  type: value_sum\n  rules: [c]\n  group-by: [G]\n  condition: {field: V, gte: "
     "10}",
     "type: event_count\n  rules: [i1]\n  group-by: [G]\n  condition: {gte: 1}"},
    {"name: i1\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [G]\n  condition: {gte: 2}\n"
     "  timespan: 10m\n---\ntitle: i2\n"
     "name: i2\ncorrelation:\n  type: event_count\n  rules: [i1, b]\n  group-by: [G]\n  condition: {gt: 1}",
     "type: temporal\n  rules: [i2, c]\n  group-by: [G]"},
    {"name: i1\ncorrelation:\n  type: value_avg\n  rules: [b]\n  group-by: [G]\n  condition: {field: V, gt: "
     "3}",
     "type: temporal_ordered\n  rules: [c, i1]\n  group-by: [G]"},
};

/* A chain's SPL (each inner correlation's crossing event by streamstats, relabelled, then the
 * outer's stages) on the SPL model, against the reference's bucket reading of the chain: each
 * correlation, in its bucket and group, is matched at the event where its condition first holds. */
static void test_chain_oracle(void **state) {
  (void)state;
  Ev *evs = calloc(NEV, sizeof *evs);
  bool(*hit)[3] = calloc(NEV, sizeof *hit);
  Row *rows = malloc(4 * NEV * sizeof *rows);
  Verdict *want = malloc(4 * NEV * sizeof *want), *got = malloc(4 * NEV * sizeof *got);
  size_t *m1 = malloc(NEV * sizeof *m1);
  assert_true(evs && hit && rows && want && got && m1);
  make_events(evs, NEV);
  size_t fired = 0, inner_hits = 0;
  for (size_t sc = 0; sc < sizeof chains / sizeof *chains; sc++) {
    SgBuf src = {0}, body = {0};
    sg_buf_catf(&body, "title: i\n%s\n  timespan: 10m\n---\ntitle: k\ncorrelation:\n  %s\n  timespan: 10m\n",
                chains[sc].inner, chains[sc].outer);
    scenario_source(&src, body.data);
    sg_buf_free(&body);
    SgBuf spl = {0};
    SgDiags d = {0};
    char *last, *text = query_of("splunk", &src, NULL, 0, &spl, &d, &last);
    if (!text) fail_msg("chain %zu does not convert:\n%s", sc, src.data);
    Spl m = {0};
    spl_parse(last, &m);
    if (m.span != SPAN || !m.nlv || !m.nouter || !m.sorted)
      fail_msg("chain %zu: not read as a chain:\n%s", sc, spl.data);
    SgUnit u;
    SgDiags cd = {0};
    char *owned = strdup(src.data);
    if (sg_compile_source(&u, "k.yml", owned, src.len, &cd) != SG_OK || cd.nerrors) fail_msg("chain %zu", sc);
    SgEvaluator *e = sg_eval_new();
    for (int i = 0; i < 3; i++)
      assert_int_equal(sg_eval_add(e, u.rules[i], &cd), SG_OK);
    assert_int_equal(sg_eval_prepare(e), SG_OK);
    for (size_t i = 0; i < NEV; i++) {
      const SgEvalHit *hits;
      size_t nh;
      assert_int_equal(sg_eval_event(e, &evs[i].doc, &hits, &nh), SG_OK);
      memset(hit[i], 0, sizeof hit[i]);
      for (size_t h = 0; h < nh; h++)
        hit[i][hits[h].rule->name[0] - 'a'] = true;
    }
    const SgRule *outer = u.rules[u.nrules - 1];
    const SgCorrelation *k = outer->corr;
    size_t nr = 0;
    for (size_t j = 0; j < k->rules.n; j++) {
      size_t nm = ref_matches(&u, k->rules.v[j], (const bool(*)[3])hit, evs, m1);
      if (k->rules.v[j][0] == 'i') inner_hits += nm;
      for (size_t i = 0; i < nm; i++)
        if (ref_row(k, &evs[m1[i]], (int)j, &rows[nr])) rows[nr++].seq = m1[i] * 4 + j;
    }
    Ref ref = {outer};
    size_t nwant = verdicts(rows, nr, want, ref_decide, &ref);
    size_t ngot = verdicts(rows, spl_rows(&m, evs, NEV, rows), got, spl_decide, &m);
    agree("chain", sc, want, nwant, got, ngot, true, spl.data);
    fired += nwant;
    for (size_t i = 0; i < m.nsearch; i++)
      om_free(m.search[i]);
    free(text);
    sg_eval_free(e);
    sg_unit_free(&u);
    sg_diags_free(&cd);
    sg_diags_free(&d);
    sg_buf_free(&spl);
    sg_buf_free(&src);
  }
  printf("correlation oracle, chains: %zu chains, %zu inner matches, %zu (bucket, group) verdicts fired; SPL "
         "and "
         "the reference agree on all\n",
         sizeof chains / sizeof *chains, inner_hits, fired);
  assert_true(fired > 5 && inner_hits > 20);
  for (size_t i = 0; i < NEV; i++)
    sg_jdoc_free(&evs[i].doc);
  free(evs);
  free(hit);
  free(rows);
  free(want);
  free(got);
  free(m1);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_correlation_oracle),
                                     cmocka_unit_test(test_chain_oracle)};
  return cmocka_run_group_tests_name("corr_oracle", tests, NULL, NULL);
}
