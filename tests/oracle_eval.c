/* oracle_eval.c - the models' evaluator: a parsed query (oracle_tree.h) on
 * one event's parsed JSON, with SQL's and eval's three-valued logic.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle_tree.h"

/* ==== Evaluation ====================================================================== */

typedef enum Tri { NO = 0, YES = 1, UNKNOWN = 2 } Tri;

static Tri t_not(Tri a) { return a == UNKNOWN ? UNKNOWN : a == YES ? NO : YES; }

typedef struct Val { /* an eval / SQL value */
  enum { V_NULL, V_STR, V_NUM, V_BOOL } t;
  char *s; /* STR: heap */
  size_t n;
  double d;
  bool b;
} Val;

static void vfree(Val *v) {
  if (v->t == V_STR) free(v->s);
  v->t = V_NULL;
}

static Val vstr(const char *s, size_t n) {
  Val v = {V_STR, malloc(n + 1), n, 0, false};
  memcpy(v.s, s, n);
  v.s[n] = '\0';
  return v;
}

/* "Threat Name" is ThreatName to a rule: converters of Windows events drop
 * the spaces of EventData names (the evaluator reads them so, too). */
static bool tight_eq(const char *name, size_t nl, const char *f, size_t n) {
  if (!memchr(name, ' ', nl)) return false;
  size_t j = 0;
  for (size_t i = 0; i < nl; i++) {
    if (name[i] == ' ') continue;
    if (j == n || name[i] != f[j]) return false;
    j++;
  }
  return j == n;
}

/* Every value of a field (a multi-valued field matches when one value does,
 * as Splunk's search does and as Sigma means it). */
static size_t field_values(const SgJDoc *d, const char *f, const SgJLeaf **out, size_t max) {
  size_t n = strlen(f), k = 0;
  for (size_t i = 0; i < d->n && k < max; i++) {
    const SgJLeaf *l = &d->leaves[i];
    if (l->type == SG_J_NULL) continue;
    if ((l->namelen == n && !memcmp(d->text + l->name, f, n)) ||
        (l->pathlen == n && !memcmp(d->text + l->path, f, n)) ||
        tight_eq(d->text + l->name, l->namelen, f, n))
      out[k++] = l;
  }
  return k;
}

static const SgJLeaf *lookup(const SgJDoc *d, const char *f) {
  const SgJLeaf *l[1];
  return field_values(d, f, l, 1) ? l[0] : NULL;
}

static char *folded(const char *s, size_t n) {
  char *o = malloc(n + 1);
  sg_fold(o, s, n);
  o[n] = '\0';
  return o;
}

/* `*` wildcard match over s[0..n) (SPL search values; no escapes reach here). */
static bool glob_star(const char *p, const char *s, const char *end) {
  while (*p) {
    if (*p == '*') {
      while (*p == '*')
        p++;
      if (!*p) return true;
      for (; s <= end; s++)
        if (glob_star(p, s, end)) return true;
      return false;
    }
    if (s == end || *p != *s) return false;
    p++;
    s++;
  }
  return s == end;
}

/* LIKE: % any run, _ one UTF-8 character, the rest literal. */
static bool like(const char *p, const char *s, const char *end) {
  while (*p) {
    if (*p == '%') {
      while (*p == '%')
        p++;
      if (!*p) return true;
      for (; s <= end; s++)
        if (like(p, s, end)) return true;
      return false;
    }
    if (s == end) return false;
    if (*p == '_') {
      size_t k = sg_utf8_len(s, (size_t)(end - s));
      s += k ? k : 1;
      p++;
      continue;
    }
    if (*p != *s) return false;
    p++;
    s++;
  }
  return s == end;
}

static bool alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* A keyword term: `*...*` is a substring search; otherwise the term must
 * start and end at token boundaries of the value. */
static bool keyword(const char *pat, const char *s, size_t n) {
  size_t pl = strlen(pat);
  if (pl >= 2 && pat[0] == '*' && pat[pl - 1] == '*') return glob_star(pat, s, s + n);
  if (!strchr(pat, '*')) { /* a plain term: each occurrence, at token boundaries */
    for (const char *p = s; pl && (p = memmem(p, n - (size_t)(p - s), pat, pl)); p++) {
      bool left = p == s || !alnum((unsigned char)p[-1]) || !alnum((unsigned char)pat[0]);
      bool right = p + pl == s + n || !alnum((unsigned char)p[pl]) || !alnum((unsigned char)pat[pl - 1]);
      if (left && right) return true;
    }
    return !pl;
  }
  for (size_t i = 0; i <= n; i++) {
    if (i > 0 && alnum((unsigned char)s[i - 1]) && alnum((unsigned char)pat[0])) continue;
    for (size_t j = i; j <= n; j++) {
      if (j < n && alnum((unsigned char)s[j]) && pl && alnum((unsigned char)pat[pl - 1])) continue;
      char *seg = strndup(s + i, j - i);
      bool ok = glob_star(pat, seg, seg + (j - i));
      free(seg);
      if (ok) return true;
    }
  }
  return false;
}

static bool is_number(const char *s, size_t n, double *d) {
  char buf[64];
  if (!n || n >= sizeof buf) return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  return om_number(buf, d);
}

/* One SPL search value test on one field value. */
static bool ip_in(const char *cidr, const char *s, size_t n);

static bool s_value_ok(const Node *t, const char *s, size_t n) {
  SgCidr net;
  /* Splunk's search compares an IP field with a CIDR value by network */
  if (t->s && strchr(t->s, '/') && sg_cidr_parse(t->s, &net)) return ip_in(t->s, s, n);
  if (t->isnum) {
    double d;
    return is_number(s, n, &d) && d == t->num;
  }
  if (t->isbool) return n == strlen(t->s) && !sg_ascii_ncasecmp(s, t->s, n);
  if (t->cased) return glob_star(t->s, s, s + n);
  char *fs = folded(s, n), *fp = folded(t->s, strlen(t->s));
  bool ok = glob_star(fp, fs, fs + n);
  free(fs);
  free(fp);
  return ok;
}

static bool search(const Node *n, const SgJDoc *d) {
  switch (n->k) {
  case K_TRUE: return true;
  case K_FALSE: return false;
  case K_NOT: return !search(n->kids[0], d);
  case K_AND:
    for (size_t i = 0; i < n->n; i++)
      if (!search(n->kids[i], d)) return false;
    return true;
  case K_OR:
    for (size_t i = 0; i < n->n; i++)
      if (search(n->kids[i], d)) return true;
    return false;
  case K_S_EX: return lookup(d, n->field) != NULL;
  case K_S_EQ:
  case K_S_CMP: {
    const SgJLeaf *vals[64];
    size_t nv = field_values(d, n->field, vals, 64);
    for (size_t i = 0; i < nv; i++) {
      const char *s = d->text + vals[i]->val;
      double x;
      if (n->k == K_S_EQ ? s_value_ok(n, s, vals[i]->vallen)
                         : is_number(s, vals[i]->vallen, &x) && (!strcmp(n->s, "<")    ? x < n->num
                                                                 : !strcmp(n->s, "<=") ? x <= n->num
                                                                 : !strcmp(n->s, ">")  ? x > n->num
                                                                                       : x >= n->num))
        return true;
    }
    return false;
  }
  case K_S_KW:
    for (size_t i = 0; i < d->n; i++) {
      const SgJLeaf *l = &d->leaves[i];
      if (l->type != SG_J_STR && l->type != SG_J_NUM) continue;
      bool ok;
      if (n->cased) {
        ok = keyword(n->s, d->text + l->val, l->vallen);
      } else {
        char *fs = folded(d->text + l->val, l->vallen), *fp = folded(n->s, strlen(n->s));
        ok = keyword(fp, fs, l->vallen);
        free(fs);
        free(fp);
      }
      if (ok) return true;
    }
    return false;
  default: return false;
  }
}

static Val ev(const Node *n, const SgJDoc *d, Tri *t);

/* A predicate over the raw text: true when it holds for one value. */
static Tri over_raw(const Node *pred, const SgJDoc *d, bool (*test)(const Node *, const char *, size_t)) {
  for (size_t i = 0; i < d->n; i++) {
    const SgJLeaf *l = &d->leaves[i];
    if ((l->type == SG_J_STR || l->type == SG_J_NUM) && test(pred, d->text + l->val, l->vallen)) return YES;
  }
  return NO;
}

static bool like_ok(const Node *n, const char *s, size_t len) {
  if (n->lower_value) {
    char *fs = folded(s, len);
    bool ok = like(n->s, fs, fs + len);
    free(fs);
    return ok;
  }
  if (!n->ci) return like(n->s, s, s + len);
  char *fs = folded(s, len), *fp = folded(n->s, strlen(n->s));
  bool ok = like(fp, fs, fs + len);
  free(fs);
  free(fp);
  return ok;
}

static bool re_ok(const pcre2_code *re, const char *s, size_t len) {
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
  int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
  pcre2_match_data_free(md);
  return rc >= 0;
}

static bool matches_ok(const Node *n, const char *s, size_t len) { return re_ok(n->re, s, len); }

/* The value of a field or expression as text (NULL: absent). */
static Val text_of(const Node *n, const SgJDoc *d) {
  if (n->k == K_FIELD) {
    const SgJLeaf *l = lookup(d, n->s);
    if (!l) return (Val){V_NULL, NULL, 0, 0, false};
    return vstr(d->text + l->val, l->vallen);
  }
  Tri t;
  Val v = ev(n, d, &t);
  if (v.t == V_NUM) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v.d);
    return vstr(buf, strlen(buf));
  }
  if (v.t == V_BOOL) return (Val){V_NULL, NULL, 0, 0, false};
  return v;
}

static bool ip_in(const char *cidr, const char *s, size_t n) {
  SgCidr c;
  if (!sg_cidr_parse(cidr, &c)) return false;
  char buf[64];
  if (n >= sizeof buf) return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  uint8_t a[16];
  int fam = strchr(buf, ':') ? 6 : 4;
  if (fam != c.family || inet_pton(fam == 4 ? AF_INET : AF_INET6, buf, a) != 1) return false;
  for (int bit = 0; bit < c.prefix; bit++)
    if (((a[bit / 8] ^ c.addr[bit / 8]) >> (7 - bit % 8)) & 1) return false;
  return true;
}

/* Count UTF-8 characters. */
static size_t chars(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; k++) {
    size_t l = sg_utf8_len(s + i, n - i);
    i += l ? l : 1;
  }
  return k;
}

static size_t char_off(const char *s, size_t n, size_t c) { /* byte offset of character c */
  size_t i = 0;
  while (c-- && i < n) {
    size_t l = sg_utf8_len(s + i, n - i);
    i += l ? l : 1;
  }
  return i;
}

static Val call(const Node *n, const SgJDoc *d, Tri *t) {
  Val none = {V_NULL, NULL, 0, 0, false};
  const char *f = n->s;
  if (!strcmp(f, "true") || !strcmp(f, "false")) return (Val){V_BOOL, NULL, 0, 0, !strcmp(f, "true")};
  if (!strcmp(f, "isnull") || !strcmp(f, "isnotnull")) {
    Val v = text_of(n->kids[0], d);
    bool null = v.t == V_NULL;
    vfree(&v);
    return (Val){V_BOOL, NULL, 0, 0, null == !strcmp(f, "isnull")};
  }
  if (!strcmp(f, "match")) {
    Val p = ev(n->kids[1], d, t);
    pcre2_code *re = p.t == V_STR ? om_compile(p.s, 0) : NULL;
    vfree(&p);
    if (!re) return none;
    Val r = none;
    if (n->kids[0]->k == K_RAW) {
      Node tmp = {.re = re};
      r = (Val){V_BOOL, NULL, 0, 0, over_raw(&tmp, d, matches_ok) == YES};
    } else if (n->kids[0]->k == K_FIELD) { /* any value */
      const SgJLeaf *vals[64];
      size_t nv = field_values(d, n->kids[0]->s, vals, 64);
      if (nv) r = (Val){V_BOOL, NULL, 0, 0, false};
      for (size_t i = 0; i < nv && !r.b; i++)
        r.b = re_ok(re, d->text + vals[i]->val, vals[i]->vallen);
    } else {
      Val v = text_of(n->kids[0], d);
      if (v.t != V_NULL) r = (Val){V_BOOL, NULL, 0, 0, re_ok(re, v.s, v.n)};
      vfree(&v);
    }
    pcre2_code_free(re);
    return r;
  }
  if (!strcmp(f, "cidrmatch") || !strcmp(f, "INCIDR")) {
    Val c = ev(n->kids[0], d, t), v = text_of(n->kids[1], d);
    Val r = c.t == V_STR && v.t != V_NULL ? (Val){V_BOOL, NULL, 0, 0, ip_in(c.s, v.s, v.n)} : none;
    vfree(&c);
    vfree(&v);
    return r;
  }
  if (!strcmp(f, "lower") || !strcmp(f, "LOWER")) {
    Val v = text_of(n->kids[0], d);
    if (v.t == V_STR) sg_fold(v.s, v.s, v.n);
    return v;
  }
  if (!strcmp(f, "len")) {
    Val v = text_of(n->kids[0], d);
    Val r = v.t == V_STR ? (Val){V_NUM, NULL, 0, (double)chars(v.s, v.n), false} : none;
    vfree(&v);
    return r;
  }
  if (!strcmp(f, "neg")) {
    Val v = ev(n->kids[0], d, t);
    if (v.t == V_NUM) v.d = -v.d;
    return v;
  }
  if (!strcmp(f, "substr")) {
    Val s = text_of(n->kids[0], d), st = ev(n->kids[1], d, t), ln = {V_NULL, NULL, 0, 0, false};
    if (n->n > 2) ln = ev(n->kids[2], d, t);
    Val r = none;
    if (s.t == V_STR && st.t == V_NUM && (n->n < 3 || ln.t == V_NUM)) {
      long nc = (long)chars(s.s, s.n), from = (long)st.d;
      from = from < 0 ? nc + from : from - 1; /* Splunk: 1-based; negative counts from the end */
      if (from < 0) from = 0;
      long cnt = n->n > 2 ? (long)ln.d : nc - from;
      if (from > nc) from = nc;
      if (cnt < 0) cnt = 0;
      if (from + cnt > nc) cnt = nc - from;
      size_t a = char_off(s.s, s.n, (size_t)from), b = char_off(s.s, s.n, (size_t)(from + cnt));
      r = vstr(s.s + a, b - a);
    }
    vfree(&s);
    vfree(&st);
    vfree(&ln);
    return r;
  }
  return none;
}

static Tri truth(const Val *v) { return v->t == V_BOOL ? (v->b ? YES : NO) : UNKNOWN; }

/* Compare two values with `op` (SQL / eval): NULL when either is absent; a
 * string and a number compare as numbers when the string is one. */
static Tri compare(const char *op, Val *a, Val *b) {
  if (a->t == V_NULL || b->t == V_NULL) return UNKNOWN;
  int c;
  if (a->t == V_NUM || b->t == V_NUM) {
    double x = a->d, y = b->d;
    if (a->t == V_STR && !is_number(a->s, a->n, &x)) return NO;
    if (b->t == V_STR && !is_number(b->s, b->n, &y)) return NO;
    c = x < y ? -1 : x > y;
  } else if (a->t == V_STR && b->t == V_STR) {
    size_t m = a->n < b->n ? a->n : b->n;
    c = memcmp(a->s, b->s, m);
    if (!c) c = a->n < b->n ? -1 : a->n > b->n;
  } else if (a->t == V_BOOL || b->t == V_BOOL) { /* a boolean property: its text is true or false */
    const Val *s = a->t == V_STR ? a : b, *x = a->t == V_BOOL ? a : b;
    if (s->t != V_STR) return UNKNOWN;
    const char *w = x->b ? "true" : "false";
    c = !(s->n == strlen(w) && !sg_ascii_ncasecmp(s->s, w, s->n));
  } else {
    return UNKNOWN;
  }
  if (!strcmp(op, "=")) return c == 0 ? YES : NO;
  if (!strcmp(op, "!=") || !strcmp(op, "<>")) return c != 0 ? YES : NO;
  if (!strcmp(op, "<")) return c < 0 ? YES : NO;
  if (!strcmp(op, "<=")) return c <= 0 ? YES : NO;
  if (!strcmp(op, ">")) return c > 0 ? YES : NO;
  return c >= 0 ? YES : NO;
}

/* An expression's value; *t is its truth (three-valued) for boolean contexts. */
static Val ev(const Node *n, const SgJDoc *d, Tri *t) {
  Val none = {V_NULL, NULL, 0, 0, false};
  *t = UNKNOWN;
  switch (n->k) {
  case K_STR:
    if (n->isbool) return (Val){V_BOOL, NULL, 0, 0, !strcmp(n->s, "true")};
    return vstr(n->s, strlen(n->s));
  case K_NUM: return (Val){V_NUM, NULL, 0, n->num, false};
  case K_FIELD: return text_of(n, d);
  case K_RAW: return none;
  case K_CALL: {
    Val v = call(n, d, t);
    *t = truth(&v);
    return v;
  }
  case K_NOT: {
    Tri k;
    Val v = ev(n->kids[0], d, &k);
    vfree(&v);
    *t = t_not(k);
    return none;
  }
  case K_AND:
  case K_OR: {
    bool and = n->k == K_AND;
    Tri r = and? YES : NO;
    for (size_t i = 0; i < n->n; i++) {
      Tri k;
      Val v = ev(n->kids[i], d, &k);
      vfree(&v);
      if (and&&k == NO) r = NO;
      if (!and&&k == YES) r = YES;
      if (k == UNKNOWN && r != (and? NO : YES)) r = UNKNOWN;
    }
    *t = r;
    return none;
  }
  case K_CMP: {
    Tri ta, tb;
    if (n->kids[0]->k == K_FIELD && n->kids[1]->k != K_FIELD) { /* any value; <> and != negate = */
      bool ne = !strcmp(n->s, "<>") || !strcmp(n->s, "!=");
      const SgJLeaf *vals[64];
      size_t nv = field_values(d, n->kids[0]->s, vals, 64);
      Val b = ev(n->kids[1], d, &tb);
      *t = nv ? NO : UNKNOWN;
      for (size_t i = 0; i < nv && *t != YES; i++) {
        Val a = vstr(d->text + vals[i]->val, vals[i]->vallen);
        if (compare(ne ? "=" : n->s, &a, &b) == YES) *t = YES;
        vfree(&a);
      }
      vfree(&b);
      if (ne) *t = t_not(*t);
      return none;
    }
    Val a = ev(n->kids[0], d, &ta), b = ev(n->kids[1], d, &tb);
    *t = compare(n->s, &a, &b);
    vfree(&a);
    vfree(&b);
    return none;
  }
  case K_LIKE:
  case K_MATCH: {
    bool (*test)(const Node *, const char *, size_t) = n->k == K_LIKE ? like_ok : matches_ok;
    const Node *x = n->kids[0];
    Node lowered = *n; /* lower(f) LIKE: each value of f folded */
    if (n->k == K_LIKE && x->k == K_CALL && !strcmp(x->s, "lower") &&
        (x->kids[0]->k == K_RAW || x->kids[0]->k == K_FIELD)) {
      x = x->kids[0];
      lowered.lower_value = true;
      n = &lowered;
    }
    if (x->k == K_RAW) {
      *t = over_raw(n, d, test);
    } else if (x->k == K_FIELD) {
      const SgJLeaf *vals[64];
      size_t nv = field_values(d, x->s, vals, 64);
      *t = nv ? NO : UNKNOWN;
      for (size_t i = 0; i < nv && *t != YES; i++)
        if (test(n, d->text + vals[i]->val, vals[i]->vallen)) *t = YES;
    } else {
      Val v = text_of(n->kids[0], d);
      *t = v.t == V_NULL ? UNKNOWN : test(n, v.s, v.n) ? YES : NO;
      vfree(&v);
    }
    if (n->neg) *t = t_not(*t);
    return none;
  }
  case K_IN: { /* any value of the left side equals an item */
    const SgJLeaf *vals[64];
    Val one[64];
    size_t nv = 0;
    if (n->kids[0]->k == K_FIELD) {
      nv = field_values(d, n->kids[0]->s, vals, 64);
      for (size_t i = 0; i < nv; i++)
        one[i] = vstr(d->text + vals[i]->val, vals[i]->vallen);
    } else if (n->kids[0]->k == K_CALL && !sg_ascii_casecmp(n->kids[0]->s, "lower") &&
               n->kids[0]->kids[0]->k == K_FIELD) {
      nv = field_values(d, n->kids[0]->kids[0]->s, vals, 64);
      for (size_t i = 0; i < nv; i++) {
        one[i] = vstr(d->text + vals[i]->val, vals[i]->vallen);
        sg_fold(one[i].s, one[i].s, one[i].n);
      }
    } else {
      Tri ta;
      one[0] = ev(n->kids[0], d, &ta);
      nv = one[0].t != V_NULL;
    }
    Tri r = nv ? NO : UNKNOWN;
    for (size_t v = 0; v < nv; v++) {
      for (size_t i = 1; r != YES && i < n->n; i++) {
        Tri tb;
        Val b = ev(n->kids[i], d, &tb);
        if (compare("=", &one[v], &b) == YES) r = YES;
        vfree(&b);
      }
      vfree(&one[v]);
    }
    *t = n->neg ? t_not(r) : r;
    return none;
  }
  case K_NULL: {
    Val v = text_of(n->kids[0], d);
    *t = (v.t == V_NULL) != n->neg ? YES : NO;
    vfree(&v);
    return none;
  }
  default: return none;
  }
}

bool om_matches(const OmQuery *q, const SgJDoc *doc) {
  for (size_t i = 0; i < q->n; i++) {
    const Stage *s = &q->st[i];
    if (s->re) {
      const SgJLeaf *vals[64];
      size_t nv = field_values(doc, s->field, vals, 64);
      bool hit = false;
      for (size_t v = 0; v < nv && !hit; v++)
        hit = re_ok(s->re, doc->text + vals[v]->val, vals[v]->vallen);
      if (s->neg ? hit : !hit) return false;
      continue;
    }
    if (q->lang == OM_SPL && i == 0) {
      if (!search(s->where, doc)) return false;
      continue;
    }
    Tri t;
    Val v = ev(s->where, doc, &t);
    vfree(&v);
    if (t != YES) return false;
  }
  return true;
}
