/* aql.c - IBM QRadar AQL target: resolved boolean tree -> AQL WHERE clause,
 * wrapped by the output format (default SELECT, bare where, the detection
 * layout of the QRadar target query, json).
 *
 * Built-in Ariel columns and expressions are bare, every other property is
 * double-quoted. Sigma's case-insensitive default becomes ILIKE/IMATCHES
 * (LIKE/IN when a value has no letters, or is `cased`). NOT goes into single
 * predicates (NOT LIKE, NOT IN, IS NOT NULL); because SQL's NOT drops rows
 * where the property is NULL while Sigma's `not` keeps events without the
 * field, a negated predicate is guarded with `IS NULL OR` unless an AND
 * around it already requires the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigmacc_int.h"
#include "text_query.h"

typedef struct Aql {
  const SgConvCtx *c;
  const SgRule *r;
  SgDiags *d;
  SgStatus st;
} Aql;

/* Fields guaranteed non-NULL by the AND conjuncts around a node. */
typedef struct Guards {
  const char *v[64];
  size_t n;
} Guards;

/* ---- Names and literals --------------------------------------------------------- */

static const char *const builtin_columns[] = {"sourceip",
                                              "destinationip",
                                              "sourceport",
                                              "destinationport",
                                              "username",
                                              "starttime",
                                              "endtime",
                                              "devicetime",
                                              "devicetype",
                                              "logsourceid",
                                              "qid",
                                              "category",
                                              "highlevelcategory",
                                              "magnitude",
                                              "severity",
                                              "credibility",
                                              "relevance",
                                              "eventcount",
                                              "protocolid",
                                              "payload",
                                              "identityip",
                                              "identityhostname",
                                              "sourcemac",
                                              "destinationmac",
                                              "sourcev6",
                                              "destinationv6",
                                              "domainid",
                                              "eventdirection",
                                              "hasidentity",
                                              "hasoffense",
                                              "processorid",
                                              "postnatdestinationip",
                                              "postnatsourceip",
                                              "isCREevent",
                                              "creEventlist",
                                              "sourcebytes",
                                              "destinationbytes",
                                              "sourcepackets",
                                              "destinationpackets",
                                              "flowtype",
                                              "applicationid",
                                              NULL};

/* The bare spelling of `f`, or NULL when it must be a quoted identifier.
 * Bare are the built-in Ariel columns (identifiers) and what a site pipeline
 * declares with `set_state aql_columns` (columns or expressions such as
 * QIDNAME(qid)), written as the pipeline spells it. A field name from a rule
 * is data: anything else is quoted, so it can never become AQL syntax. */
static const char *bare_name(const Aql *a, const char *f) {
  for (int i = 0; builtin_columns[i]; i++)
    if (!sg_ascii_casecmp(builtin_columns[i], f)) return f;
  const SgYNode *cols = a->c->state ? sg_state_get(a->c->state, "aql_columns") : NULL;
  for (size_t i = 0; cols && i < (cols->kind == SG_Y_SEQ ? cols->n : 1); i++) {
    const SgYNode *x = cols->kind == SG_Y_SEQ ? cols->items[i] : cols;
    if (x->kind == SG_Y_SCALAR && !sg_ascii_casecmp(x->text, f)) return x->text;
  }
  return NULL;
}

static bool is_expression(const Aql *a, const char *f) {
  const char *bare = bare_name(a, f);
  return bare && strchr(bare, '(');
}

static void field(const Aql *a, SgBuf *b, const char *f) {
  const char *bare = bare_name(a, f);
  if (bare) {
    sg_buf_cat(b, bare);
    return;
  }
  sg_buf_catc(b, '"');
  for (const char *p = f; *p; p++) {
    if (*p == '"') sg_buf_catc(b, '"');
    sg_buf_catc(b, *p);
  }
  sg_buf_catc(b, '"');
}

static void quoted(SgBuf *b, const char *s, size_t n) {
  sg_buf_catc(b, '\'');
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\'') sg_buf_catc(b, '\'');
    sg_buf_catc(b, s[i]);
  }
  sg_buf_catc(b, '\'');
}

/* LIKE has no escape for literal % and _, and a literal holding a line break
 * would break the query's line: such values are an exact regex instead
 * (control characters as \xHH). */
static bool needs_regex(const SgStr *s) {
  return sg_tq_str_has_literal(s, '%') || sg_tq_str_has_literal(s, '_') || sg_tq_str_has_break(s);
}

/* LIKE pattern of a Sigma string: * -> %, ? -> _. */
static void like_pattern(SgBuf *b, const SgStr *s, bool fold) {
  SgBuf raw = {0};
  for (uint32_t i = 0; i < s->nparts; i++) {
    const SgPart *p = &s->parts[i];
    if (p->kind == SG_PART_STAR) {
      sg_buf_catc(&raw, '%');
    } else if (p->kind == SG_PART_QMARK) {
      sg_buf_catc(&raw, '_');
    } else if (p->kind == SG_PART_LIT) {
      size_t at = raw.len;
      sg_buf_catn(&raw, p->s, p->n);
      if (fold && raw.data) sg_fold(raw.data + at, raw.data + at, p->n);
    }
  }
  sg_buf_taint(b, &raw);
  quoted(b, raw.data ? raw.data : "", raw.len);
  sg_buf_free(&raw);
}

/* A Sigma string as an exact AQL (Java) regex: anchored, with `.` matching
 * line breaks as Sigma's `*` must (DOTALL), control characters as \xHH. */
static void exact_regex(SgBuf *b, const SgStr *s) {
  SgBuf re = {0};
  sg_buf_cat(&re, "(?s)");
  sg_tq_str_regex(&re, s, true);
  sg_buf_taint(b, &re);
  quoted(b, sg_buf_cstr(&re), re.len);
  sg_buf_free(&re);
}

/* A Sigma regex searches; AQL MATCHES must match the whole value. */
static void search_regex(SgBuf *b, const char *pat, size_t n, unsigned flags) {
  SgBuf re = {0};
  sg_buf_cat(&re, "[\\s\\S]*(?");
  if (flags & SG_RE_M) sg_buf_catc(&re, 'm');
  if (flags & SG_RE_S) sg_buf_catc(&re, 's');
  sg_buf_catc(&re, ':');
  sg_buf_catn(&re, pat, n);
  sg_buf_cat(&re, ")[\\s\\S]*");
  sg_buf_taint(b, &re);
  quoted(b, sg_buf_cstr(&re), re.len);
  sg_buf_free(&re);
}

/* ---- Predicates ---------------------------------------------------------------------- */

/* IP-typed Ariel columns: QRadar compares them as addresses, not text. */
static bool ip_column(const Aql *a, const char *f) {
  static const char *const cols[] = {"sourceip",        "destinationip",        "identityip",
                                     "postnatsourceip", "postnatdestinationip", NULL};
  const char *bare = f ? bare_name(a, f) : NULL;
  for (int i = 0; bare && cols[i]; i++)
    if (!sg_ascii_casecmp(cols[i], bare)) return true;
  return false;
}

/* `startswith` on an IP column as a network: "10.1.*" -> "10.1.0.0/16" (whole
 * octets only; IBM's backend does the same for its host fields). */
static bool ip_prefix(const SgStr *s, char out[32]) {
  if (s->nparts != 2 || s->parts[0].kind != SG_PART_LIT || s->parts[1].kind != SG_PART_STAR) return false;
  const char *p = s->parts[0].s, *end = p + s->parts[0].n;
  unsigned oct[4] = {0}, n = 0;
  while (p < end && n < 3) {
    unsigned v = 0, digits = 0;
    for (; p < end && *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
      v = v * 10 + (unsigned)(*p - '0');
    if (!digits || digits > 3 || v > 255 || p == end || *p != '.') return false;
    oct[n++] = v;
    p++;
  }
  if (p != end || !n) return false;
  snprintf(out, 32, "%u.%u.%u.%u/%u", oct[0], oct[1], oct[2], oct[3], 8 * n);
  return true;
}

/* The pipelines' choice for a field no mapping covered: state
 * aql_unmapped_fields = payload searches its value in UTF8(payload). */
static bool unmapped_to_payload(const Aql *a, const SgMatch *m) {
  const SgYNode *v = a->c->state ? sg_state_get(a->c->state, "aql_unmapped_fields") : NULL;
  return m->field && !m->mapped && v && v->kind == SG_Y_SCALAR && !strcmp(v->text, "payload");
}

static bool guarded(const Guards *g, const char *f) {
  for (size_t i = 0; f && i < g->n; i++)
    if (!strcmp(g->v[i], f)) return true;
  return false;
}

static void lhs(const Aql *a, SgBuf *b, const SgMatch *m) {
  if (m->field)
    field(a, b, m->field);
  else
    sg_buf_cat(b, "UTF8(payload)");
}

/* `LHS [NOT] [I]LIKE 'pattern'`, or [I]MATCHES an exact regex where LIKE
 * cannot say it (see needs_regex). Case-insensitive unless `cased` or the
 * value has no letters. */
static void string_predicate(Aql *a, SgBuf *b, const SgMatch *m, const SgStr *s, bool neg) {
  bool ci = !m->cased && sg_tq_str_has_letters(s);
  lhs(a, b, m);
  sg_buf_cat(b, neg ? " NOT " : " ");
  if (needs_regex(s)) {
    sg_buf_cat(b, ci ? "IMATCHES " : "MATCHES ");
    exact_regex(b, s);
  } else {
    sg_buf_cat(b, ci ? "ILIKE " : "LIKE ");
    like_pattern(b, s, false);
  }
}

/* `neg` renders the predicate's negation (NOT pushed in). */
static void predicate(Aql *a, SgBuf *b, const SgNode *n, bool neg, const Guards *g) {
  const SgMatch *m = &n->m;
  const SgValue *v = &m->v;
  if (m->tspart) {
    a->st = sg_tq_unsupported(a->d, n, "QRadar AQL", "a timestamp part comparison");
    return;
  }
  const SgPart *ph = sg_tq_placeholder(v);
  if (ph) {
    a->st = sg_placeholder_error(a->d, n->loc, ph);
    return;
  }
  if (unmapped_to_payload(a, m)) { /* the value anywhere in the payload: a keyword */
    bool str = v->kind == SG_V_STR;
    bool empty = str && v->str.nparts == 0; /* '' would search for the field's name alone */
    if (m->op != SG_OP_EQ || (!str && v->kind != SG_V_NUM) || empty) {
      sg_diag(a->d, SG_D_UNSUPPORTED, n->loc,
              "field '%s' is not mapped, so its value is searched in UTF8(payload), which cannot test %s",
              m->field,
              v->kind == SG_V_NULL   ? "null"
              : v->kind == SG_V_BOOL ? "a boolean"
              : empty                ? "an empty value"
                                     : sg_op_name(m->op));
      a->st = SG_ERR_UNSUPPORTED;
      return;
    }
    /* a number, or any value without letters, says little anywhere in a payload:
     * the field's name goes first (`Flags%8388608`), as IBM writes it */
    SgStr val = str ? v->str : (SgStr){&(SgPart){SG_PART_LIT, v->num.text, strlen(v->num.text)}, 1};
    bool named = !sg_tq_str_has_letters(&val);
    SgPart *parts = malloc((val.nparts + 2) * sizeof *parts);
    if (!parts) {
      b->oom = true;
      return;
    }
    uint32_t k = 0;
    if (named) {
      parts[k++] = (SgPart){SG_PART_LIT, m->field, strlen(m->field)};
      parts[k++] = (SgPart){SG_PART_STAR, "", 0};
    }
    for (uint32_t i = 0; i < val.nparts; i++)
      if (!(named && i == 0 && val.parts[0].kind == SG_PART_STAR)) parts[k++] = val.parts[i];
    SgNode kw = *n; /* a keyword: no field, so no second payload search */
    kw.m.field = NULL;
    kw.m.v = (SgValue){.kind = SG_V_STR, .str = {parts, k}};
    predicate(a, b, &kw, neg, g);
    free(parts);
    return;
  }
  if (v->kind == SG_V_EXPR) {
    if (neg) sg_buf_cat(b, "NOT (");
    for (const char *p = v->str.parts[0].s; *p; p++) {
      if (!strncmp(p, "{field}", 7)) {
        lhs(a, b, m);
        p += 6;
      } else {
        sg_buf_catc(b, *p);
      }
    }
    if (neg) sg_buf_catc(b, ')');
    return;
  }
  /* null-ness tests need no guard */
  if ((m->op == SG_OP_EQ && v->kind == SG_V_NULL) || m->op == SG_OP_EXISTS) {
    bool is_null = (m->op == SG_OP_EQ) != neg;
    lhs(a, b, m);
    sg_buf_cat(b, is_null ? " IS NULL" : " IS NOT NULL");
    return;
  }
  bool guard = neg && m->field && !guarded(g, m->field);
  /* a field reference compares two properties: NULL when either is missing,
   * where Sigma's `not (a == b)` holds */
  bool guard2 = neg && m->op == SG_OP_FIELDREF && !guarded(g, v->str.parts[0].s);
  if (guard || guard2) sg_buf_catc(b, '(');
  if (guard) {
    field(a, b, m->field);
    sg_buf_cat(b, " IS NULL OR ");
  }
  if (guard2) {
    field(a, b, v->str.parts[0].s);
    sg_buf_cat(b, " IS NULL OR ");
  }
  char net[32];
  switch (m->op) {
  case SG_OP_EQ:
    if (!m->field && v->kind == SG_V_NUM) { /* a number keyword: its digits anywhere in the payload */
      SgBuf pat = {0};
      sg_buf_catf(&pat, "%%%s%%", v->num.text);
      lhs(a, b, m);
      sg_buf_cat(b, neg ? " NOT LIKE " : " LIKE ");
      sg_buf_taint(b, &pat);
      quoted(b, sg_buf_cstr(&pat), pat.len);
      sg_buf_free(&pat);
    } else if (v->kind == SG_V_NUM || v->kind == SG_V_BOOL) {
      lhs(a, b, m);
      sg_buf_cat(b, neg ? " <> " : " = ");
      sg_buf_cat(b, v->kind == SG_V_NUM ? v->num.text : v->b ? "true" : "false");
    } else if (m->field && ip_column(a, m->field) && ip_prefix(&v->str, net)) {
      sg_buf_cat(b, neg ? "NOT INCIDR(" : "INCIDR(");
      quoted(b, net, strlen(net));
      sg_buf_cat(b, ", ");
      field(a, b, m->field);
      sg_buf_catc(b, ')');
    } else if (m->field) {
      string_predicate(a, b, m, &v->str, neg);
    } else { /* keyword: anywhere in the payload */
      SgStr w;
      SgArena tmp;
      sg_arena_init(&tmp);
      if (sg_str_wrap(&tmp, &v->str, true, true, &w) == SG_OK) {
        string_predicate(a, b, m, &w, neg);
      } else {
        b->oom = true;
      }
      sg_arena_free(&tmp);
    }
    break;
  case SG_OP_RE:
    lhs(a, b, m);
    sg_buf_cat(b, neg ? " NOT " : " ");
    sg_buf_cat(b, (v->re.flags & SG_RE_I) ? "IMATCHES " : "MATCHES ");
    search_regex(b, v->re.pat, v->re.len, v->re.flags);
    break;
  case SG_OP_CIDR:
    if (neg) sg_buf_cat(b, "NOT ");
    sg_buf_cat(b, "INCIDR(");
    quoted(b, v->cidr.text, strlen(v->cidr.text));
    sg_buf_cat(b, ", ");
    field(a, b, m->field);
    sg_buf_catc(b, ')');
    break;
  case SG_OP_LT:
  case SG_OP_LTE:
  case SG_OP_GT:
  case SG_OP_GTE: {
    static const char *const ops[] = {" < ", " <= ", " > ", " >= "}, *const nops[] = {" >= ", " > ",
                                                                                      " <= ", " < "};
    int i = m->op - SG_OP_LT;
    field(a, b, m->field);
    sg_buf_cat(b, neg ? nops[i] : ops[i]);
    sg_buf_cat(b, v->num.text);
    break;
  }
  case SG_OP_FIELDREF: {
    const char *other = v->str.parts[0].s;
    if (!m->cased) sg_buf_cat(b, "LOWER(");
    field(a, b, m->field);
    if (!m->cased) sg_buf_catc(b, ')');
    sg_buf_cat(b, neg ? " <> " : " = ");
    if (!m->cased) sg_buf_cat(b, "LOWER(");
    field(a, b, other);
    if (!m->cased) sg_buf_catc(b, ')');
    break;
  }
  default:
    a->st = sg_tq_unsupported(
        a->d, n, "QRadar AQL",
        "'fieldref' with contains, startswith or endswith (AQL has no substring test between "
        "two properties)");
    break;
  }
  if (guard || guard2) sg_buf_catc(b, ')');
}

/* IN list: exact values; case-insensitive strings compare LOWER(field). */
static bool in_ok(const SgNode *k, void *arg) {
  if (unmapped_to_payload(arg, &k->m)) return false; /* each value searched in the payload */
  if (k->m.v.kind == SG_V_NUM) return true;
  const SgStr *s = &k->m.v.str;
  return sg_str_is_plain(s) && !sg_tq_str_has_break(s);
}

static void in_list(Aql *a, SgBuf *b, const SgNode *n, bool neg, const Guards *g) {
  bool ci = false;
  for (uint32_t i = 0; i < n->nkids; i++) {
    const SgMatch *m = &n->kids[i]->m;
    if (m->v.kind == SG_V_STR && !m->cased && sg_tq_str_has_letters(&m->v.str)) ci = true;
  }
  const char *f = n->kids[0]->m.field;
  bool guard = neg && !guarded(g, f);
  if (guard) {
    sg_buf_catc(b, '(');
    field(a, b, f);
    sg_buf_cat(b, " IS NULL OR ");
  }
  if (ci) sg_buf_cat(b, "LOWER(");
  field(a, b, f);
  if (ci) sg_buf_catc(b, ')');
  sg_buf_cat(b, neg ? " NOT IN (" : " IN (");
  for (uint32_t i = 0; i < n->nkids; i++) {
    const SgValue *v = &n->kids[i]->m.v;
    if (i) sg_buf_cat(b, ", ");
    if (v->kind == SG_V_NUM && ci)
      quoted(b, v->num.text, strlen(v->num.text)); /* compared with LOWER(...): a string */
    else if (v->kind == SG_V_NUM)
      sg_buf_cat(b, v->num.text);
    else
      like_pattern(b, &v->str, ci);
  }
  sg_buf_catc(b, ')');
  if (guard) sg_buf_catc(b, ')');
}

/* ---- Boolean structure --------------------------------------------------------------- */

static void expr(Aql *a, SgBuf *b, const SgNode *n, bool neg, const Guards *g);

/* Fields the kids of a conjunction (rendered with polarity `neg`) require to
 * be non-NULL: a positive predicate, or a negated null test. */
static void add_guards(const SgNode *and, bool neg, Guards *g) {
  for (uint32_t i = 0; i < and->nkids && g->n < 64; i++) {
    const SgNode *k = and->kids[i];
    bool kneg = neg;
    while (k->kind == SG_N_NOT) {
      kneg = !kneg;
      k = k->kids[0];
    }
    if (k->kind != SG_N_MATCH || !k->m.field || k->m.v.kind == SG_V_EXPR) continue;
    bool null_test = (k->m.op == SG_OP_EQ && k->m.v.kind == SG_V_NULL);
    bool exists = k->m.op == SG_OP_EXISTS;
    if ((null_test && kneg) || (exists && !kneg) || (!null_test && !exists && !kneg))
      g->v[g->n++] = k->m.field;
  }
}

static bool in_list_node(const Aql *a, const SgNode *n) { return sg_tq_is_in_list(n, in_ok, (void *)a); }

/* A kid of a `parent` conjunction/disjunction, parenthesised when it renders
 * as the other connective. */
static void group(Aql *a, SgBuf *b, const SgNode *kid, bool neg, const Guards *g, SgNodeKind parent) {
  const SgNode *k = kid;
  bool kneg = neg;
  while (k->kind == SG_N_NOT) {
    kneg = !kneg;
    k = k->kids[0];
  }
  SgNodeKind as = k->kind == SG_N_AND || k->kind == SG_N_OR
                      ? ((k->kind == SG_N_AND) != kneg ? SG_N_AND : SG_N_OR)
                      : k->kind;
  bool paren = (as == SG_N_AND || as == SG_N_OR) && !in_list_node(a, k) && as != parent;
  if (paren) sg_buf_catc(b, '(');
  expr(a, b, kid, neg, g);
  if (paren) sg_buf_catc(b, ')');
}

static void expr(Aql *a, SgBuf *b, const SgNode *n, bool neg, const Guards *g) {
  switch (n->kind) {
  case SG_N_MATCH: predicate(a, b, n, neg, g); return;
  case SG_N_TRUE: sg_buf_cat(b, neg ? "1 = 0" : "1 = 1"); return;
  case SG_N_FALSE: sg_buf_cat(b, neg ? "1 = 1" : "1 = 0"); return;
  case SG_N_NOT: expr(a, b, n->kids[0], !neg, g); return;
  case SG_N_OR:
    if (in_list_node(a, n)) {
      in_list(a, b, n, neg, g);
      return;
    }
    /* fall through */
  case SG_N_AND: {
    /* NOT goes down to the predicates (De Morgan), where each one is guarded
     * against NULL: a NOT over a group would turn a missing field into NULL */
    SgNodeKind k = (n->kind == SG_N_AND) != neg ? SG_N_AND : SG_N_OR;
    Guards inner = *g;
    if (k == SG_N_AND) add_guards(n, neg, &inner);
    for (uint32_t i = 0; i < n->nkids; i++) {
      if (i) sg_buf_cat(b, k == SG_N_AND ? " AND " : " OR ");
      group(a, b, n->kids[i], neg, &inner, k);
    }
    return;
  }
  }
}

typedef struct NodeList {
  SgNode **v;
  size_t n, cap;
  bool oom;
} NodeList;

static void flatten(const SgNode *x, NodeList *l) {
  if (x->kind == SG_N_AND) {
    for (uint32_t i = 0; i < x->nkids; i++)
      flatten(x->kids[i], l);
    return;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    SgNode **v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      l->oom = true;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (SgNode *)x;
}

static void free_list(char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static int cmp_long(const void *x, const void *y) {
  long a = *(const long *)x, b = *(const long *)y;
  return (a > b) - (a < b);
}

/* A test a pipeline made of a log source type (IBM's eventSource values):
 * devicetype = N, or an OR of them (a list); as a required conjunct its ids
 * join the rule's union below. */
static bool devicetype_test(const SgNode *n) {
  if (n->kind == SG_N_OR) {
    for (uint32_t i = 0; i < n->nkids; i++)
      if (!devicetype_test(n->kids[i])) return false;
    return n->nkids > 0;
  }
  return n->kind == SG_N_MATCH && n->m.field && !strcmp(n->m.field, "devicetype") && n->m.op == SG_OP_EQ &&
         n->m.v.kind == SG_V_NUM && n->m.v.num.d >= 0 && n->m.v.num.d == (double)(long)n->m.v.num.d;
}

static void devicetype_ids(const SgNode *n, long *ids, size_t *k, size_t cap) {
  if (n->kind == SG_N_OR)
    for (uint32_t i = 0; i < n->nkids; i++)
      devicetype_ids(n->kids[i], ids, k, cap);
  else if (*k < cap)
    ids[(*k)++] = (long)n->m.v.num.d;
}

/* The log source types the pipelines named: every value set for state
 * aql_devicetypes (an id or a list of ids) and the required devicetype tests
 * among the rule's conjuncts (l), their union, as IBM's backend takes a
 * rule's product, service and eventSource ids; "" when none. A devicetype
 * test under `not` or `or` stays where it is, a test of its own. */
static SgStatus devicetypes(Aql *a, const NodeList *l, SgBuf *b) {
  long ids[256];
  size_t n = 0;
  for (size_t i = 0; i < l->n; i++)
    if (devicetype_test(l->v[i])) devicetype_ids(l->v[i], ids, &n, sizeof ids / sizeof *ids);
  for (size_t i = 0; a->c->state && i < a->c->state->n; i++) {
    const SgKV *kv = &a->c->state->kv[i];
    if (strcmp(kv->key, "aql_devicetypes")) continue;
    const SgYNode *v = kv->val;
    for (size_t k = 0; k < (v->kind == SG_Y_SEQ ? v->n : 1); k++) {
      const SgYNode *x = v->kind == SG_Y_SEQ ? v->items[k] : v;
      char *end = NULL;
      long id = x->kind == SG_Y_SCALAR ? strtol(x->text, &end, 10) : -1;
      if (!end || *end || id < 0 || n == sizeof ids / sizeof *ids) {
        sg_diag(a->d, SG_D_PIPELINE, x->loc, "aql_devicetypes takes log source type ids (at most %zu)",
                sizeof ids / sizeof *ids);
        return SG_ERR_UNSUPPORTED;
      }
      ids[n++] = id;
    }
  }
  qsort(ids, n, sizeof *ids, cmp_long);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (!u || ids[u - 1] != ids[i]) ids[u++] = ids[i];
  if (u == 1) sg_buf_catf(b, "devicetype = %ld", ids[0]);
  for (size_t i = 0; u > 1 && i < u; i++)
    sg_buf_catf(b, "%s%ld%s", i ? ", " : "devicetype IN (", ids[i], i + 1 == u ? ")" : "");
  return SG_OK;
}

/* The top-level conjuncts (nested ANDs flattened), each rendered; the
 * pipelines' devicetype test first. */
static SgStatus conjuncts(Aql *a, const SgNode *root, char ***out, size_t *n) {
  NodeList l = {0};
  flatten(root, &l);
  *out = calloc(l.n + 2, sizeof **out);
  *n = 0;
  if (l.oom || !*out) {
    free(l.v);
    free(*out);
    return SG_ERR_NOMEM;
  }
  SgBuf dt = {0};
  SgStatus st = devicetypes(a, &l, &dt);
  if (st || dt.oom) {
    sg_buf_free(&dt);
    free(l.v);
    free(*out);
    return st ? (a->st = st) : SG_ERR_NOMEM;
  }
  if (dt.len) (*out)[(*n)++] = dt.data;
  SgNode all = {.kind = SG_N_AND, .kids = l.v, .nkids = (uint32_t)l.n};
  Guards g = {.n = 0};
  add_guards(&all, false, &g);
  for (size_t i = 0; i < l.n; i++) {
    if (devicetype_test(l.v[i])) continue; /* in the union above */
    SgBuf b = {0};
    group(a, &b, l.v[i], false, &g, SG_N_AND);
    sg_buf_cstr(&b);
    if (b.oom || !b.data) {
      sg_buf_free(&b);
      free_list(*out, *n);
      free(l.v);
      return SG_ERR_NOMEM;
    }
    (*out)[(*n)++] = b.data;
  }
  free(l.v);
  return SG_OK;
}

/* ---- Output formats ------------------------------------------------------------------- */

static const char *table(const Aql *a) {
  const char *t = sg_conv_opt(a->c, "table", NULL);
  if (t) return t;
  const SgLogsource *ls = &a->r->logsource;
  bool flows = (ls->product && (!strcmp(ls->product, "qflow") || !strcmp(ls->product, "ipfix"))) ||
               (ls->service && !strcmp(ls->service, "netflow")) ||
               (ls->category && !strcmp(ls->category, "flow"));
  return flows ? "flows" : "events";
}

/* A string the pipelines set (set_state key), or NULL. */
static const char *state_text(const Aql *a, const char *key) {
  const SgYNode *v = a->c->state ? sg_state_get(a->c->state, key) : NULL;
  return v && v->kind == SG_Y_SCALAR ? v->text : NULL;
}

/* "24h" -> milliseconds; plain digits are milliseconds. 0 = invalid. */
static unsigned long long window_ms(const char *w) {
  char *end;
  unsigned long long v = strtoull(w, &end, 10);
  if (end == w) return 0;
  switch (*end) {
  case '\0': return v;
  case 's': v *= 1000ull; break;
  case 'm': v *= 60000ull; break;
  case 'h': v *= 3600000ull; break;
  case 'd': v *= 86400000ull; break;
  default: return 0;
  }
  return end[1] ? 0 : v;
}

/* -O window once, before any rule: a duration or none (whether LAST can
 * take it depends on the pipelines' state, so each rule checks that). */
static SgStatus aql_check_options(const SgConvCtx *c, SgDiags *d) {
  const char *w = sg_conv_opt(c, "window", "24h");
  if (!*w || !strcmp(w, "none") || window_ms(w)) return SG_OK;
  sg_diag(d, SG_D_USAGE, (SgLoc){0}, "-O: window '%s' is not a duration such as 24h, 30m or 7d", w);
  return SG_ERR_USAGE;
}

/* The rule's `fields:` as columns, mapped and quoted like any field; an
 * expression (a pipeline may map a field to one) gets the rule's name for it
 * as its alias. `first` goes before the first column, `sep` between. */
static void columns(Aql *a, SgBuf *q, const char *first, const char *sep) {
  const SgStrList *fl = &a->r->fields;
  for (size_t i = 0; i < fl->n; i++) {
    sg_buf_cat(q, i ? sep : first);
    const char *f = fl->v[i], *orig = fl->from ? fl->from[i] : NULL;
    field(a, q, f);
    if (is_expression(a, f)) {
      const char *alias = orig ? orig : f;
      bool ident = (*alias >= 'A' && *alias <= 'Z') || (*alias >= 'a' && *alias <= 'z') || *alias == '_';
      for (const char *p = alias; *p && ident; p++)
        ident = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
      sg_buf_cat(q, " AS ");
      if (ident)
        sg_buf_cat(q, alias); /* an alias is bare, or single-quoted when it is not an identifier */
      else
        quoted(q, alias, strlen(alias));
    }
  }
}

/* The detection layout. Its defaults are QRadar's right ones: the calendar
 * year `yyyy` (Java's YYYY is the week-based year: 29-31 December print the
 * next year) and the window as the search's own time range, `LAST 24 HOURS`
 * after LIMIT (a `starttime > NOW() - ...` filter does not widen QRadar's
 * default five minutes). -O time_column and window override them; so do the
 * pipelines' state aql_time_column and aql_window_filter = now (the filter
 * form), which is how sigma-rules/pipelines/qradar-site.yml keeps the target
 * query's text. */
static void detection(Aql *a, char **conj, size_t n, SgBuf *q) {
  const char *site_time = state_text(a, "aql_time_column"), *site_filter = state_text(a, "aql_window_filter");
  const char *time_col =
      sg_conv_opt(a->c, "time_column",
                  site_time ? site_time : "DATEFORMAT(starttime, 'yyyy-MM-dd HH:mm:ss') AS EventTime");
  const char *window = sg_conv_opt(a->c, "window", "24h");
  bool as_filter = site_filter && !strcmp(site_filter, "now");
  const char *order = sg_conv_opt(a->c, "order_by", "starttime DESC");
  const char *limit = sg_conv_opt(a->c, "limit", "500");
  const SgStrList *fl = &a->r->fields;
  sg_buf_cat(q, "SELECT ");
  size_t cols = 0;
  if (*time_col) {
    sg_buf_cat(q, time_col);
    cols++;
  }
  if (!fl->n) {
    sg_buf_cat(q, cols ? ",\n       *" : "*");
    cols++;
  }
  columns(a, q, cols ? ",\n       " : "", ",\n       ");
  sg_buf_catf(q, "\nFROM %s", table(a));
  for (size_t i = 0; i < n; i++)
    sg_buf_catf(q, "%s%s", i ? "\n  AND " : "\nWHERE ", conj[i]);
  bool windowed = *window && strcmp(window, "none");
  unsigned long long ms = windowed ? window_ms(window) : 0;
  if (windowed && (!ms || (!as_filter && ms % 60000))) {
    sg_diag(a->d, SG_D_USAGE, (SgLoc){0}, "-O: window '%s' is not a duration such as 24h, 30m or 7d%s",
            window, as_filter ? "" : " (LAST takes whole minutes)");
    a->st = SG_ERR_USAGE;
    return;
  }
  if (windowed && as_filter) sg_buf_catf(q, "%sstarttime > (NOW() - %llu)", n ? "\n  AND " : "\nWHERE ", ms);
  if (*order && strcmp(order, "none")) sg_buf_catf(q, "\nORDER BY %s", order);
  if (*limit && strcmp(limit, "none")) sg_buf_catf(q, "\nLIMIT %s", limit);
  if (windowed && !as_filter) { /* the time clause comes last, after LIMIT, in the unit the window names */
    char u = window[strlen(window) - 1];
    unsigned long long per = u == 'd' ? 86400000ull : u == 'h' ? 3600000ull : 60000ull;
    if (ms % per) per = 60000ull;
    sg_buf_catf(q, "\nLAST %llu %s", ms / per,
                per == 86400000ull  ? "DAYS"
                : per == 3600000ull ? "HOURS"
                                    : "MINUTES");
  }
}

/* ---- Correlation rules: GROUP BY + HAVING over the last timespan --------------------------- */

static SgStatus corr_unsupported(Aql *a, const char *what) {
  sg_diag(a->d, SG_D_UNSUPPORTED, a->r->loc, "QRadar AQL target: %s", what);
  return SG_ERR_UNSUPPORTED;
}

/* The WHERE of every condition of every referenced rule, ORed (*nq of them). */
static SgStatus corr_where(Aql *a, SgBuf *w, size_t *nqp) {
  size_t nq = 0;
  SgBuf all = {0};
  for (size_t i = 0; i < a->c->nrefs; i++) {
    const SgRule *ref = a->c->refs[i];
    if (ref->kind != SG_DOC_RULE)
      return sg_buf_free(&all), corr_unsupported(a, "a correlation of correlations (one AQL aggregate cannot "
                                                    "count the results of another)");
    SgConvCtx rc = sg_conv_ref(a->c, i);
    Aql ra = {&rc, ref, a->d, SG_OK};
    if (sg_tq_check_names(ref, "QRadar AQL", a->d)) return sg_buf_free(&all), SG_ERR_UNSUPPORTED;
    for (size_t c = 0; c < ref->nconds; c++) {
      if (!ref->conds[c].root) continue;
      char **conj;
      size_t n;
      SgStatus st = conjuncts(&ra, ref->conds[c].root, &conj, &n);
      if (st) return sg_buf_free(&all), st;
      sg_buf_cat(&all, nq++ ? ") OR (" : "(");
      for (size_t k = 0; k < n; k++)
        sg_buf_catf(&all, "%s%s", k ? " AND " : "", conj[k]);
      free_list(conj, n);
    }
    if (ra.st) return sg_buf_free(&all), ra.st;
  }
  sg_buf_catc(&all, ')');
  if (all.oom) return sg_buf_free(&all), SG_ERR_NOMEM;
  *nqp = nq;
  /* one condition needs no parentheses of its own */
  if (nq == 0)
    sg_buf_cat(w, "1 = 1");
  else if (nq == 1)
    sg_buf_catn(w, all.data + 1, all.len - 2);
  else
    sg_buf_cat(w, sg_buf_cstr(&all));
  sg_buf_free(&all);
  return SG_OK;
}

static SgStatus aql_correlation(Aql *a, SgQueries *out) {
  const SgRule *r = a->r;
  const SgCorrelation *k = r->corr;
  if (strcmp(a->c->format, "default") && strcmp(a->c->format, "json"))
    return corr_unsupported(a, "correlation rules have the default and json formats only");
  static const char *const aggs[] = {"COUNT(*)", "UNIQUECOUNT(%s)", NULL, NULL,
                                     "SUM(%s)",  "AVG(%s)",         NULL, NULL};
  _Static_assert(sizeof aggs / sizeof *aggs == SG_CORR__COUNT, "one AQL aggregate per correlation type");
  if (!aggs[k->type])
    return corr_unsupported(a,
                            k->type == SG_CORR_TEMPORAL || k->type == SG_CORR_TEMPORAL_ORDERED
                                ? "temporal correlations (an AQL aggregate cannot tell which rule an event "
                                  "matched)"
                                : "value_median and value_percentile correlations (AQL documents no median "
                                  "or percentile aggregate)");
  if (k->naliases)
    return corr_unsupported(a, "correlation aliases (AQL groups all events by the same columns)");
  if (!k->group_by.n) return corr_unsupported(a, "a correlation without group-by (HAVING needs GROUP BY)");
  if (k->fields.n > 1) return corr_unsupported(a, "a correlation over several condition fields");
  /* LAST takes whole minutes, hours or days */
  uint64_t s = k->timespan_s;
  const char *unit = s % 86400 == 0 ? "DAYS" : s % 3600 == 0 ? "HOURS" : s % 60 == 0 ? "MINUTES" : NULL;
  if (!unit || !s) {
    sg_diag(a->d, SG_D_UNSUPPORTED, a->r->loc,
            "QRadar AQL target: timespan %s is not a whole number of minutes (LAST counts minutes, hours or "
            "days)",
            k->timespan);
    return SG_ERR_UNSUPPORTED;
  }
  uint64_t n = s / (!strcmp(unit, "DAYS") ? 86400 : !strcmp(unit, "HOURS") ? 3600 : 60);
  SgBuf q = {0}, g = {0}, f = {0};
  for (size_t i = 0; i < k->group_by.n; i++) {
    if (i) sg_buf_cat(&g, ", ");
    field(a, &g, k->group_by.v[i]);
  }
  if (k->fields.n) field(a, &f, k->fields.v[0]);
  sg_buf_catf(&q, "SELECT %s, ", sg_buf_cstr(&g));
  sg_buf_catf(&q, aggs[k->type], sg_buf_cstr(&f));
  sg_buf_catf(&q, " AS %s FROM %s WHERE ", sg_corr_aggregate_name(k->type), table(a));
  /* GROUP BY makes a group of the events without a group-by field (NULL); a correlation's group
   * is of events that have its fields, as eval and Splunk's stats ... by count them */
  SgBuf w = {0};
  size_t nq = 0;
  SgStatus st = corr_where(a, &w, &nq);
  sg_buf_catf(&q, nq > 1 ? "(%s)" : "%s", sg_buf_cstr(&w));
  sg_buf_taint(&q, &w);
  sg_buf_free(&w);
  for (size_t i = 0; i < k->group_by.n; i++) {
    sg_buf_cat(&q, " AND ");
    field(a, &q, k->group_by.v[i]);
    sg_buf_cat(&q, " IS NOT NULL");
  }
  sg_buf_catf(&q, " GROUP BY %s HAVING ", sg_buf_cstr(&g));
  sg_tq_corr_conds(&q, k, "<>", " AND ");
  sg_buf_catf(&q, " LAST %llu %s", (unsigned long long)n, unit);
  if (st == SG_OK)
    st = q.oom || g.oom || f.oom ? SG_ERR_NOMEM : sg_queries_add(out, r, 0, sg_buf_cstr(&q), q.len);
  sg_buf_free(&q);
  sg_buf_free(&g);
  sg_buf_free(&f);
  return st;
}

static SgStatus aql_convert(const SgConvCtx *c, const SgRule *r, SgQueries *out, SgDiags *d) {
  Aql a = {c, r, d, SG_OK};
  if (sg_tq_check_names(r, "QRadar AQL", d)) return SG_ERR_UNSUPPORTED;
  if (r->kind == SG_DOC_CORRELATION) return aql_correlation(&a, out);
  for (size_t i = 0; i < r->nconds && a.st == SG_OK; i++) {
    if (!r->conds[i].root) continue;
    char **conj;
    size_t n;
    SgStatus st = conjuncts(&a, r->conds[i].root, &conj, &n);
    if (st) return st;
    SgBuf q = {0};
    if (!strcmp(c->format, "detection")) {
      detection(&a, conj, n, &q);
    } else {
      bool where = !strcmp(c->format, "where");
      if (!where) { /* the rule's fields: after *, as IBM's backend selects them */
        sg_buf_cat(&q, "SELECT *");
        columns(&a, &q, ", ", ", ");
        sg_buf_catf(&q, " FROM %s WHERE ", table(&a));
      }
      for (size_t k = 0; k < n; k++)
        sg_buf_catf(&q, "%s%s", k ? " AND " : "", conj[k]);
    }
    free_list(conj, n);
    if (a.st == SG_OK) a.st = q.oom ? SG_ERR_NOMEM : sg_queries_add(out, r, i, sg_buf_cstr(&q), q.len);
    sg_buf_free(&q);
  }
  return a.st;
}

static void aql_finish(const SgConvCtx *c, const SgQueries *q, SgBuf *out) {
  if (!strcmp(c->format, "json")) {
    sg_tq_finish_json(q, out);
    return;
  }
  sg_tq_finish_text(c, q, out);
}

static const SgFormat formats[] = {
    {"default", "SELECT *[, the rule's fields:] FROM events|flows WHERE ...", "table", ".aql", NULL, NULL},
    {"where", "the WHERE condition only (QRadar rule tests, building blocks)", "", ".aql", NULL, NULL},
    {"detection",
     "target-query layout: columns, window, ORDER BY, LIMIT (-O time_column, window, order_by, limit)",
     "table time_column window order_by limit", ".aql", NULL, NULL},
    {"json", "one JSON object per query: id, title, level, path, tags, logsource, condition, query", "table",
     ".jsonl", NULL, NULL},
    {0},
};

const SgTarget sg_target_aql = {
    .name = "aql",
    .alias = "qradar",
    .description = "IBM QRadar AQL (Ariel Query Language)",
    .formats = formats,
    .needs_mapping = "qradar, qradar-aql-fields, qradar-aql-payload",
    .check_options = aql_check_options,
    .convert = aql_convert,
    .finish = aql_finish,
};
