/* match.c - matching one event: its values attached to fields, every candidate
 * rule's matchers, hits in load order. */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"

/* One character of s[0..n), n > 0: a well-formed UTF-8 sequence, else one byte. */
static size_t char_len(const char *s, size_t n) {
  size_t l = sg_utf8_len(s, n);
  return l ? l : 1;
}

/* The star-free parts p[0..np) matched at the start of s[0..n): the offset
 * where the match ends, or SIZE_MAX. */
static size_t seg_at(const SgPart *p, uint32_t np, const char *s, size_t n) {
  size_t i = 0;
  for (; np; p++, np--) {
    if (p->kind == SG_PART_QMARK) {
      if (i == n) return SIZE_MAX;
      i += char_len(s + i, n - i);
    } else {
      if (p->n > n - i || memcmp(p->s, s + i, p->n)) return SIZE_MAX;
      i += p->n;
    }
  }
  return i;
}

/* Where the segment p[0..np) first matches in s[from..n) (its start in *at),
 * the offset of its end, or SIZE_MAX. A segment beginning with a literal is
 * looked for with memmem; one beginning with `?` tries each character. */
static size_t seg_find(const SgPart *p, uint32_t np, const char *s, size_t n, size_t from, size_t *at) {
  for (size_t i = from; i <= n;) {
    if (p->kind != SG_PART_QMARK) {
      const char *q = p->n ? memmem(s + i, n - i, p->s, p->n) : s + i;
      if (!q) return SIZE_MAX;
      i = (size_t)(q - s);
    }
    size_t end = seg_at(p, np, s + i, n - i);
    if (end != SIZE_MAX) {
      *at = i;
      return i + end;
    }
    if (i == n) break;
    i += p->kind == SG_PART_QMARK ? char_len(s + i, n - i) : 1;
  }
  return SIZE_MAX;
}

/* A wildcard pattern against s[0..n), without recursion: the first segment
 * (up to the first `*`) at the start, every middle segment at its leftmost
 * place after the one before (any later place leaves less room for the rest),
 * the last segment ending at n. Time O(n * longest segment), memory O(1):
 * an event value cannot stall the run, a rule value cannot exhaust the stack. */
static bool glob(const SgPart *p, uint32_t np, const char *s, size_t n) {
  uint32_t k = 0;
  while (k < np && p[k].kind != SG_PART_STAR)
    k++;
  size_t pos = seg_at(p, k, s, n);
  if (pos == SIZE_MAX) return false;
  if (k == np) return pos == n;
  for (;;) {
    while (k < np && p[k].kind == SG_PART_STAR)
      k++;
    if (k == np) return true;
    uint32_t j = k;
    while (j < np && p[j].kind != SG_PART_STAR)
      j++;
    size_t at;
    if (j < np) { /* a middle segment */
      pos = seg_find(p + k, j - k, s, n, pos, &at);
      if (pos == SIZE_MAX) return false;
      k = j;
      continue;
    }
    /* the last segment: it must end at n, starting at or after pos */
    size_t len = 0;
    bool fixed = true;
    for (uint32_t i = k; i < j; i++) {
      fixed = fixed && p[i].kind != SG_PART_QMARK;
      len += p[i].n;
    }
    if (fixed) return n - pos >= len && seg_at(p + k, j - k, s + n - len, len) == len;
    for (size_t from = pos;;) {
      size_t end = seg_find(p + k, j - k, s, n, from, &at);
      if (end == SIZE_MAX) return false;
      if (end == n) return true;
      from = at + (p[k].kind == SG_PART_QMARK ? char_len(s + at, n - at) : 1);
      if (from > n) return false;
    }
  }
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
    if (!sg_ev_idlist_add(&e->ev.present, f)) e->ev.failed = true;
    return;
  }
  uint32_t *p = &e->ev.field_first[f];
  while (*p != UINT32_MAX)
    p = &e->ev.next[*p]; /* keep document order */
  *p = vi;
}

static const char *vfolded(SgEvaluator *e, const Val *v) { return sg_ev_folded_text(e) + v->off; }

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
    const char *f = sg_ev_folded_text(e);
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
    if (e->pf.lit_event != e->ev.event) sg_ev_lit_scan(e);
    return e->pf.lit_gen[c->kw] == e->ev.event;
  }
  if (c->op == SG_OP_EQ && c->pat.kind == P_CONTAINS && !c->cased &&
      !memchr(c->pat.lit, '\0', c->pat.litlen)) {
    size_t n;
    const char *h = haystack(e, &n);
    return c->pat.litlen == 0 || memmem(h, n, c->pat.lit, c->pat.litlen) != NULL;
  }
  const SgJDoc *d = e->ev.doc;
  const char *ft = c->cased ? NULL : sg_ev_folded_text(e);
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
  if (e->ev.rule_stamp[ri] == e->ev.event) return;
  e->ev.rule_stamp[ri] = e->ev.event;
  if (e->ev.windows_event ? r->not_windows : r->not_declared) return; /* a log source this event is not */
  if (r->nonascii && !e->ev.nonascii) return;                         /* its literals are not in ASCII */
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
    sg_ev_num_key(key + 2, sizeof key - 2, x);
  } else {
    if (v->n > 40 || v->type != SG_J_STR) return;
    sg_fold(key + 2, v->s, v->n);
    key[2 + v->n] = '\0';
  }
  uint32_t id = sg_ev_intern_find(&e->ix.keys, key, strlen(key));
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
    uint32_t f = sg_ev_intern_find(&e->cr.fields, doc->text + l->name, l->namelen), g = UINT32_MAX;
    if (f == UINT32_MAX && memchr(doc->text + l->name, ' ', l->namelen) && l->namelen < 128) {
      /* "Threat Name" is ThreatName to Sigma rules (evtx converters drop the spaces) */
      char tight[128];
      size_t k = 0;
      for (size_t q = 0; q < l->namelen; q++)
        if (doc->text[l->name + q] != ' ') tight[k++] = doc->text[l->name + q];
      f = sg_ev_intern_find(&e->cr.fields, tight, k);
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
        last_known = sg_ev_intern_find(&e->cr.roots, path, rl) != UINT32_MAX;
      }
    }
    if (dot && last_known) {
      g = sg_ev_intern_find(&e->cr.fields, doc->text + l->path, l->pathlen);
      if (g >= e->ev.nfield_alloc || g == f) g = UINT32_MAX;
      if (g != UINT32_MAX) attach(e, g, l);
    }
    e->ev.leaf_field[2 * i] = f;
    e->ev.leaf_field[2 * i + 1] = g;
  }
  e->ev.nonascii = false; /* a byte >= 0x80 anywhere in the event, eight at a time */
  for (size_t i = 0; i < doc->tlen && !e->ev.nonascii; i += 8) {
    uint64_t w = 0;
    memcpy(&w, doc->text + i, doc->tlen - i < 8 ? doc->tlen - i : 8);
    e->ev.nonascii = (w & 0x8080808080808080ull) != 0;
  }
  sg_ev_lit_scan(e);
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

bool sg_eval_logsource_known(const SgEvaluator *e) {
  return e->ev.windows_event || e->cr.declared.product || e->cr.declared.category || e->cr.declared.service;
}

size_t sg_eval_undecided(const SgEvaluator *e, const SgEvalHit **v) {
  *v = e->res.undecided;
  return e->res.nundecided;
}
