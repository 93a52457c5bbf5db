/* spl2.c - Splunk SPL2 target: resolved boolean tree -> `FROM dataset WHERE expr`.
 *
 * The WHERE clause is an eval expression: `=`, LIKE, IN and match() compare
 * case-sensitively there, and AND binds tighter than OR. Sigma's meaning is
 * kept by writing
 *  - case-insensitive strings (no `cased`) as `lower(f)` against a lowered
 *    literal (an ASCII literal is lowered here, any other as `lower("...")`,
 *    so both sides fold alike), regexes with the rule's own flags only;
 *  - wildcards as LIKE's `%` and `_` (`?` is one character, as in Sigma),
 *    but only where the pattern has no literal `%`, `_` or `\`: SPL2
 *    documents no escape character for LIKE (SQL dialects differ on whether
 *    `\` is one), so such a value is an anchored regex literal instead,
 *    whose meaning is certain;
 *  - a predicate under NOT guarded by `f IS NOT NULL AND ...`, as the eval
 *    expression is NULL (not false) for a missing field;
 *  - every OR inside AND, and AND inside OR, in parentheses.
 * Deviations from the reference backend are listed in the README
 * ("Splunk SPL2: where sigmacc differs").
 *
 * Correlations become `| bin _time`, `| stats ... BY` and a `| where` on the
 * aggregate, over the rules' events: an OR of their conditions where the rules
 * are counted together, a `| union` of one search per rule where they must be
 * told apart (temporal, aliases).
 */
#include <stdlib.h>
#include <string.h>

#include "sigmacc_int.h"
#include "text_query.h"

typedef struct Spl2 {
  const SgConvCtx *c;
  const SgRule *r;
  SgDiags *d;
  SgStatus st;
} Spl2;

static const char target[] = "Splunk SPL2";

/* ---- Names and literals ------------------------------------------------------------------ */

/* `q` quoted, with the quote and the backslash escaped by a backslash. */
static void quoted(SgBuf *b, char q, const char *s, size_t n) {
  sg_buf_catc(b, q);
  sg_tq_escaped(b, s, n, (char[]){q, '\0'});
  sg_buf_catc(b, q);
}

/* A name SPL2 reads as a field when written bare: [A-Za-z_][A-Za-z0-9_]*
 * (Splunk's SPL2 quotation rules: a dot, a leading digit, ... need quotes)
 * and not a word of the language (`NOT IS NULL`, `lower(null)` broke). */
static bool spl2_bare_name(const char *f) {
  static const char *const words[] = {"and",    "as",     "between", "by",   "false", "from",   "group",
                                      "having", "in",     "is",      "join", "like",  "limit",  "not",
                                      "null",   "offset", "on",      "or",   "order", "search", "select",
                                      "true",   "union",  "where",   "with", "xor"};
  if (!((*f >= 'a' && *f <= 'z') || (*f >= 'A' && *f <= 'Z') || *f == '_')) return false;
  for (const char *p = f; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return false;
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if (!sg_ascii_casecmp(f, words[i])) return false;
  return true;
}

/* A field: bare when spl2_bare_name, else single-quoted. */
static void field(SgBuf *b, const char *f) {
  if (spl2_bare_name(f))
    sg_buf_cat(b, f);
  else
    quoted(b, '\'', f, strlen(f));
}

/* A regex literal /pattern/ with (?flags): an unescaped `/` is escaped; what
 * follows a backslash stays as it is. */
static void regex_literal(SgBuf *b, const char *flags, const char *pat, size_t n) {
  sg_buf_catc(b, '/');
  if (flags && *flags) sg_buf_catf(b, "(?%s)", flags);
  for (size_t i = 0; i < n; i++) {
    if (pat[i] == '\\' && i + 1 < n) {
      sg_buf_catn(b, pat + i, 2);
      i++;
      continue;
    }
    if (pat[i] == '/' || pat[i] == '\\') sg_buf_catc(b, '\\'); /* a trailing backslash: itself */
    sg_buf_catc(b, pat[i]);
  }
  sg_buf_catc(b, '/');
}

/* Does a Sigma string hold letters outside ASCII (which lower() folds, and
 * sigmacc leaves to it)? */
static bool non_ascii(const SgStr *s) {
  for (uint32_t i = 0; i < s->nparts; i++)
    for (size_t j = 0; s->parts[i].kind == SG_PART_LIT && j < s->parts[i].n; j++)
      if ((unsigned char)s->parts[i].s[j] >= 0x80) return true;
  return false;
}

/* The text of a Sigma string as a LIKE pattern (`like`: * -> %, ? -> _) or
 * as plain text, ASCII letters lowered when `fold`. */
static void text_of(SgBuf *t, const SgStr *s, bool like, bool fold) {
  for (uint32_t i = 0; i < s->nparts; i++) {
    const SgPart *p = &s->parts[i];
    if (p->kind == SG_PART_STAR && like) {
      sg_buf_catc(t, '%');
    } else if (p->kind == SG_PART_QMARK && like) {
      sg_buf_catc(t, '_');
    } else if (p->kind == SG_PART_LIT) {
      for (size_t j = 0; j < p->n; j++) {
        char c = p->s[j];
        sg_buf_catc(t, fold && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
      }
    }
  }
}

/* A string literal of `s` (a LIKE pattern when `like`), lowered unless
 * `cased`: ASCII here, anything else by lower() in Splunk. */
static void string_literal(SgBuf *b, const SgStr *s, bool like, bool cased) {
  SgBuf t = {0};
  bool wrap = !cased && non_ascii(s);
  text_of(&t, s, like, !cased);
  sg_buf_taint(b, &t);
  if (wrap) sg_buf_cat(b, "lower(");
  quoted(b, '"', sg_buf_cstr(&t), t.len);
  if (wrap) sg_buf_catc(b, ')');
  sg_buf_free(&t);
}

/* LIKE takes this pattern as it is: SPL2 documents no escape character for
 * it, and SQL dialects differ on whether `\` escapes; a pattern with a
 * literal %, _ or \ is written as a regex. A line break cannot be written in
 * a one-line query: a regex has \x0A. */
static bool like_safe(const SgStr *s) {
  return !sg_tq_str_has_literal(s, '%') && !sg_tq_str_has_literal(s, '_') &&
         !sg_tq_str_has_literal(s, '\\') && !sg_tq_str_has_break(s);
}

/* `lhs` (a field, written) compared with a Sigma string: `lower(lhs)="v"`,
 * `lower(lhs) LIKE "p"` (no lower() when cased or without letters), or
 * match() with an anchored regex literal. */
static void string_match(SgBuf *b, const char *lhs, const SgStr *s, bool cased) {
  cased = cased || !sg_tq_str_has_letters(s);
  bool wild = sg_tq_str_has_kind(s, SG_PART_STAR) || sg_tq_str_has_kind(s, SG_PART_QMARK);
  bool exact = !wild && !sg_tq_str_has_break(s);
  if (exact || (wild && like_safe(s))) {
    if (cased)
      sg_buf_cat(b, lhs);
    else
      sg_buf_catf(b, "lower(%s)", lhs);
    sg_buf_cat(b, exact ? "=" : " LIKE ");
    string_literal(b, s, !exact, cased);
    return;
  }
  SgBuf re = {0};
  sg_tq_str_regex(&re, s, true);
  sg_buf_taint(b, &re);
  sg_buf_catf(b, "match(%s, ", lhs);
  regex_literal(b, cased ? "s" : "is", sg_buf_cstr(&re), re.len);
  sg_buf_catc(b, ')');
  sg_buf_free(&re);
}

static const char *cmp_op(SgOp op) {
  return op == SG_OP_LT ? "<" : op == SG_OP_LTE ? "<=" : op == SG_OP_GT ? ">" : ">=";
}

/* ---- Expressions -------------------------------------------------------------------------- */

/* One predicate; `negated` when under a NOT, where a missing field must make
 * the predicate false rather than NULL. */
static void predicate(Spl2 *s, SgBuf *b, const SgNode *n, bool negated) {
  const SgMatch *m = &n->m;
  const SgValue *v = &m->v;
  if (m->tspart || m->op == SG_OP_FIELDREF_CONTAINS) {
    s->st = sg_tq_unsupported(s->d, n, target,
                              m->tspart ? "a timestamp part comparison"
                                        : "'fieldref|contains' (no substring test between fields in eval)");
    return;
  }
  SgBuf f = {0};
  field(&f, m->field ? m->field : "_raw");
  sg_buf_taint(b, &f);
  const char *lhs = sg_buf_cstr(&f);
  if (v->kind == SG_V_EXPR) { /* a query expression placeholder, in the site's own SPL2 */
    sg_buf_catc(b, '(');
    for (const char *p = v->str.parts[0].s; *p; p++) {
      if (!strncmp(p, "{field}", 7)) {
        sg_buf_cat(b, lhs);
        p += 6;
      } else {
        sg_buf_catc(b, *p);
      }
    }
    sg_buf_catc(b, ')');
    sg_buf_free(&f);
    return;
  }
  bool nullness = m->op == SG_OP_EXISTS || (m->op == SG_OP_EQ && v->kind == SG_V_NULL);
  bool guard = negated && m->field && !nullness;
  bool guard2 = guard && m->op >= SG_OP_FIELDREF; /* the other field too */
  if (guard) sg_buf_catf(b, "(%s IS NOT NULL AND ", lhs);
  if (guard2) {
    field(b, v->str.parts[0].s);
    sg_buf_cat(b, " IS NOT NULL AND ");
  }
  char fl[4];
  switch (m->op) {
  case SG_OP_EXISTS: sg_buf_catf(b, "%s IS NOT NULL", lhs); break;
  case SG_OP_RE:
    sg_buf_catf(b, "match(%s, ", lhs);
    regex_literal(b, sg_tq_re_flags(v->re.flags, fl), v->re.pat, v->re.len);
    sg_buf_catc(b, ')');
    break;
  case SG_OP_CIDR:
    sg_buf_cat(b, "cidrmatch(");
    quoted(b, '"', v->cidr.text, strlen(v->cidr.text));
    sg_buf_catf(b, ", %s)", lhs);
    break;
  case SG_OP_LT:
  case SG_OP_LTE:
  case SG_OP_GT:
  case SG_OP_GTE: sg_buf_catf(b, "%s%s%s", lhs, cmp_op(m->op), v->num.text); break;
  case SG_OP_FIELDREF:
  case SG_OP_FIELDREF_STARTS:
  case SG_OP_FIELDREF_ENDS: {
    SgBuf o = {0};
    field(&o, v->str.parts[0].s);
    sg_buf_taint(b, &o);
    const char *other = sg_buf_cstr(&o), *wrap = m->cased ? "" : "lower(", *close = m->cased ? "" : ")";
    if (m->op == SG_OP_FIELDREF)
      sg_buf_catf(b, "%s%s%s", wrap, lhs, close);
    else if (m->op == SG_OP_FIELDREF_STARTS)
      sg_buf_catf(b, "substr(%s%s%s, 1, len(%s))", wrap, lhs, close, other);
    else
      sg_buf_catf(b, "substr(%s%s%s, -len(%s))", wrap, lhs, close, other);
    sg_buf_catf(b, "=%s%s%s", wrap, other, close);
    sg_buf_free(&o);
    break;
  }
  case SG_OP_EQ:
    if (v->kind == SG_V_NULL) {
      sg_buf_catf(b, "%s IS NULL", lhs);
    } else if (v->kind == SG_V_NUM && m->field) {
      sg_buf_catf(b, "%s=%s", lhs, v->num.text);
    } else if (v->kind == SG_V_BOOL) {
      sg_buf_catf(b, "lower(%s)=\"%s\"", lhs, v->b ? "true" : "false");
    } else if (!m->field) { /* keyword: anywhere in the raw event */
      SgPart digits;
      SgStr str = v->str, w;
      if (v->kind == SG_V_NUM) {
        digits = (SgPart){SG_PART_LIT, v->num.text, strlen(v->num.text)};
        str = (SgStr){&digits, 1};
      }
      SgArena tmp;
      sg_arena_init(&tmp);
      if (sg_str_wrap(&tmp, &str, true, true, &w) == SG_OK)
        string_match(b, lhs, &w, m->cased);
      else
        b->oom = true;
      sg_arena_free(&tmp);
    } else {
      string_match(b, lhs, &v->str, m->cased);
    }
    break;
  default: break;
  }
  if (guard) sg_buf_catc(b, ')');
  sg_buf_free(&f);
}

/* An OR of exact values of one field: `f IN (...)`, strings lowered unless
 * every one is `cased` (each kid is checked by in_ok). */
static bool in_ok(const SgNode *k, void *arg) {
  const SgNode *first = arg;
  const SgMatch *m = &k->m, *m0 = &first->m;
  if (m->v.kind != m0->v.kind || m->cased != m0->cased) return false;
  if (m->v.kind == SG_V_NUM) return true;
  const SgStr *s = &m->v.str;
  return !sg_tq_str_has_kind(s, SG_PART_STAR) && !sg_tq_str_has_kind(s, SG_PART_QMARK) &&
         !sg_tq_str_has_break(s);
}

static bool in_list(const SgNode *n) {
  return n->kind == SG_N_OR && n->nkids >= 2 && n->kids[0]->kind == SG_N_MATCH &&
         sg_tq_is_in_list(n, in_ok, (void *)n->kids[0]);
}

static void write_in(SgBuf *b, const SgNode *n, bool negated) {
  const SgMatch *m0 = &n->kids[0]->m;
  bool str = m0->v.kind == SG_V_STR, lower = false;
  for (uint32_t i = 0; str && i < n->nkids && !m0->cased; i++)
    lower = lower || sg_tq_str_has_letters(&n->kids[i]->m.v.str);
  if (negated) {
    sg_buf_catc(b, '(');
    field(b, m0->field);
    sg_buf_cat(b, " IS NOT NULL AND ");
  }
  if (lower) sg_buf_cat(b, "lower(");
  field(b, m0->field);
  if (lower) sg_buf_catc(b, ')');
  sg_buf_cat(b, " IN (");
  for (uint32_t i = 0; i < n->nkids; i++) {
    if (i) sg_buf_cat(b, ", ");
    const SgValue *v = &n->kids[i]->m.v;
    if (str)
      string_literal(b, &v->str, false, !lower);
    else
      sg_buf_cat(b, v->num.text);
  }
  sg_buf_catc(b, ')');
  if (negated) sg_buf_catc(b, ')');
}

static void expr(Spl2 *s, SgBuf *b, const SgNode *n, bool negated) {
  switch (n->kind) {
  case SG_N_MATCH: predicate(s, b, n, negated); return;
  case SG_N_TRUE: sg_buf_cat(b, "true"); return;
  case SG_N_FALSE: sg_buf_cat(b, "false"); return;
  case SG_N_NOT:
    sg_buf_cat(b, "NOT (");
    expr(s, b, n->kids[0], !negated);
    sg_buf_catc(b, ')');
    return;
  case SG_N_AND:
  case SG_N_OR:
    if (in_list(n)) {
      write_in(b, n, negated);
      return;
    }
    for (uint32_t i = 0; i < n->nkids; i++) {
      const SgNode *k = n->kids[i];
      if (i) sg_buf_cat(b, n->kind == SG_N_AND ? " AND " : " OR ");
      bool paren = (k->kind == SG_N_AND || k->kind == SG_N_OR) && k->kind != n->kind && !in_list(k);
      if (paren) sg_buf_catc(b, '(');
      expr(s, b, k, negated);
      if (paren) sg_buf_catc(b, ')');
    }
    return;
  }
}

/* `FROM dataset WHERE ` (-O dataset). */
static void from(const Spl2 *s, SgBuf *q) {
  sg_buf_cat(q, "FROM ");
  field(q, sg_conv_opt(s->c, "dataset", "main"));
  sg_buf_cat(q, " WHERE ");
}

/* `FROM dataset WHERE expr` of one condition tree. */
static SgStatus from_where(Spl2 *s, const SgNode *root, SgBuf *q) {
  if (!root || sg_tq_check_placeholders(s->d, root)) return SG_ERR_UNSUPPORTED;
  from(s, q);
  expr(s, q, root, false);
  return s->st;
}

/* ---- Correlation rules ------------------------------------------------------------------ */

static SgStatus corr_unsupported(Spl2 *s, const char *what) {
  sg_diag(s->d, SG_D_UNSUPPORTED, s->r->loc, "%s target: %s", target, what);
  return SG_ERR_UNSUPPORTED;
}

/* The condition of the correlation's rule i (with its own pipeline state): each of its
 * conditions, ORed (each in parentheses when `paren`). */
static SgStatus rule_conds(Spl2 *s, size_t i, bool paren, SgBuf *q) {
  const SgRule *ref = s->c->refs[i];
  if (ref->kind != SG_DOC_RULE)
    return corr_unsupported(s,
                            "a correlation of correlations (a query cannot hold one aggregate over another)");
  if (sg_tq_check_names(ref, target, s->d)) return SG_ERR_UNSUPPORTED;
  SgConvCtx rc = sg_conv_ref(s->c, i);
  Spl2 rs = {&rc, ref, s->d, SG_OK};
  for (size_t c = 0; c < ref->nconds; c++) {
    const SgNode *root = ref->conds[c].root;
    if (!root || sg_tq_check_placeholders(s->d, root)) return SG_ERR_UNSUPPORTED;
    if (c) sg_buf_cat(q, " OR ");
    if (paren) sg_buf_catc(q, '(');
    expr(&rs, q, root, false);
    if (paren) sg_buf_catc(q, ')');
    if (rs.st) return rs.st;
  }
  return SG_OK;
}

/* `SEP| rename FIELD AS ALIAS` for each alias the rule named `name` takes part in. */
static void renames(SgBuf *q, const SgCorrelation *k, const char *name, const char *sep) {
  for (size_t i = 0; i < k->naliases; i++)
    for (size_t j = 0; j < k->aliases[i].n; j++)
      if (!strcmp(k->aliases[i].map[j].key, name)) {
        sg_buf_cat(q, sep);
        sg_buf_cat(q, "| rename ");
        field(q, k->aliases[i].map[j].val->text);
        sg_buf_cat(q, " AS ");
        field(q, k->aliases[i].name);
      }
}

/* The rules' events told apart: `| union [FROM ds WHERE c | eval event_type="NAME",
 * sigma_rI=1 | rename ...], ...` (an event two rules match is a row of each, as in
 * Splunk's multisearch); one rule's search as it is, tagged the same way. */
static SgStatus union_of_rules(Spl2 *s, const SgCorrelation *k, SgBuf *q) {
  bool one = s->c->nrefs == 1; /* the search itself, no union */
  if (!one) sg_buf_cat(q, "| union ");
  for (size_t i = 0; i < s->c->nrefs; i++) {
    if (!one) sg_buf_cat(q, i ? ",\n  [" : "[");
    from(s, q);
    SgStatus st = rule_conds(s, i, s->c->refs[i]->nconds > 1, q);
    if (st) return st;
    sg_buf_cat(q, " | eval event_type=");
    quoted(q, '"', k->rules.v[i], strlen(k->rules.v[i]));
    sg_buf_catf(q, ", sigma_r%zu=1", i + 1);
    renames(q, k, k->rules.v[i], " ");
    if (!one) sg_buf_catc(q, ']');
  }
  return SG_OK;
}

/* An extended temporal condition over which rules occurred (sigma_rI, set by each rule's
 * part of the union), with SPL2's precedence: NOT, AND, OR. */
static void temporal_expr(SgBuf *q, const SgCorrelation *k, const SgCondExpr *e, int parent) {
  if (e->kind == SG_C_ID) {
    for (size_t i = 0; i < k->rules.n; i++)
      if (!strcmp(k->rules.v[i], e->name)) sg_buf_catf(q, "isnotnull(sigma_r%zu)", i + 1);
    return;
  }
  if (e->kind == SG_C_NOT) {
    sg_buf_cat(q, "NOT ");
    temporal_expr(q, k, e->kids[0], SG_C_NOT);
    return;
  }
  bool paren = parent >= 0 && parent != (int)e->kind;
  if (paren) sg_buf_catc(q, '(');
  for (uint32_t i = 0; i < e->n; i++) {
    if (i) sg_buf_cat(q, e->kind == SG_C_OR ? " OR " : " AND ");
    temporal_expr(q, k, e->kids[i], (int)e->kind);
  }
  if (paren) sg_buf_catc(q, ')');
}

/* " BY _time, GROUP-BY..." */
static void by_groups(SgBuf *q, const SgCorrelation *k) {
  sg_buf_cat(q, " BY _time");
  for (size_t i = 0; i < k->group_by.n; i++) {
    sg_buf_cat(q, ", ");
    field(q, k->group_by.v[i]);
  }
}

/* temporal_ordered, as SPL writes it with its eval expressions made fields first (SPL2's
 * statistical functions take fields): with each event's own time kept in sigma_time before
 * `bin`, step i is the earliest time of rule i's events after step i-1 in the bucket and group
 * (one eventstats each); sigma_steps is how many steps have a time. */
static void ordered_steps(SgBuf *q, const SgCorrelation *k) {
  for (size_t i = 0; i < k->rules.n; i++) {
    sg_buf_catf(q, "\n| eval sigma_t%zu=if(event_type=", i + 1);
    quoted(q, '"', k->rules.v[i], strlen(k->rules.v[i]));
    if (i) sg_buf_catf(q, " AND sigma_time>sigma_step%zu", i);
    sg_buf_catf(q, ", sigma_time, null())\n| eventstats min(sigma_t%zu) AS sigma_step%zu", i + 1, i + 1);
    by_groups(q, k);
  }
  sg_buf_cat(q, "\n| eval sigma_steps=");
  for (size_t i = 0; i < k->rules.n; i++)
    sg_buf_catf(q, "%sif(isnotnull(sigma_step%zu), 1, 0)", i ? "+" : "", i + 1);
}

static SgStatus correlation(Spl2 *s, SgBuf *q) {
  const SgCorrelation *k = s->r->corr;
  static const char *const aggs[] = {"count()", "dc(%s)", "dc(event_type)", "max(sigma_steps)", "sum(%s)",
                                     "avg(%s)", NULL,     "median(%s)"};
  _Static_assert(sizeof aggs / sizeof *aggs == SG_CORR__COUNT, "one SPL2 aggregate per correlation type");
  if (!aggs[k->type])
    return corr_unsupported(s, "value_percentile correlations (SPL2 documents no exact percentile function; "
                               "convert with -t splunk)");
  bool ordered = k->type == SG_CORR_TEMPORAL_ORDERED;
  if (ordered && k->expr)
    return corr_unsupported(s, "a temporal_ordered correlation with a condition expression");
  if (k->fields.n > 1) return corr_unsupported(s, "a correlation over several condition fields");
  bool temporal = k->type == SG_CORR_TEMPORAL || ordered;
  SgStatus st = SG_OK;
  if (temporal || (s->c->nrefs > 1 && k->naliases)) { /* each rule's events told apart */
    st = union_of_rules(s, k, q);
  } else { /* the events of every rule, counted together: an OR of their conditions */
    from(s, q);
    size_t nc = 0;
    for (size_t i = 0; i < s->c->nrefs; i++)
      nc += s->c->refs[i]->nconds;
    for (size_t i = 0; i < s->c->nrefs && !st; i++) {
      if (i) sg_buf_cat(q, " OR ");
      st = rule_conds(s, i, nc > 1, q);
    }
    if (!st && s->c->nrefs == 1) renames(q, k, k->rules.v[0], "\n"); /* the one rule's own field */
  }
  if (st) return st;
  SgBuf f = {0};
  if (ordered) sg_buf_cat(q, "\n| eval sigma_time=_time");
  sg_tq_bin_time(q, s->r, target, s->d);
  if (ordered) ordered_steps(q, k);
  sg_buf_cat(q, "\n| stats ");
  if (temporal && k->expr) {
    for (size_t i = 0; i < k->rules.n; i++)
      sg_buf_catf(q, "%smax(sigma_r%zu) AS sigma_r%zu", i ? ", " : "", i + 1, i + 1);
  } else {
    if (k->fields.n) field(&f, k->fields.v[0]);
    sg_buf_taint(q, &f);
    sg_buf_catf(q, aggs[k->type], sg_buf_cstr(&f));
    sg_buf_catf(q, " AS %s", sg_corr_aggregate_name(k->type));
  }
  for (size_t i = 0; i < s->r->fields.n; i++) { /* the rule's fields, for whoever reads the result */
    sg_buf_cat(q, ", values(");
    field(q, s->r->fields.v[i]);
    sg_buf_cat(q, ") AS ");
    field(q, s->r->fields.v[i]);
  }
  by_groups(q, k);
  sg_buf_cat(q, "\n| where ");
  if (temporal && k->expr)
    temporal_expr(q, k, k->expr->expr, -1);
  else if (!k->nconds) /* temporal: every rule */
    sg_buf_catf(q, "%s >= %zu", sg_corr_aggregate_name(k->type), k->rules.n);
  else
    sg_tq_corr_conds(q, k, "!=", " AND ");
  sg_buf_free(&f);
  return SG_OK;
}

/* ---- Rules ---------------------------------------------------------------------------------- */

static SgStatus spl2_check_options(const SgConvCtx *c, SgDiags *d) {
  if (*sg_conv_opt(c, "dataset", "main")) return SG_OK;
  sg_diag(d, SG_D_USAGE, (SgLoc){0}, "-O: dataset must name a dataset, not be empty");
  return SG_ERR_USAGE;
}

static SgStatus spl2_convert(const SgConvCtx *c, const SgRule *r, SgQueries *out, SgDiags *d) {
  if (sg_tq_check_names(r, target, d)) return SG_ERR_UNSUPPORTED;
  Spl2 s = {c, r, d, SG_OK};
  for (size_t i = 0; i < (r->kind == SG_DOC_CORRELATION ? 1 : r->nconds); i++) {
    SgBuf q = {0};
    SgStatus st = r->kind == SG_DOC_CORRELATION ? correlation(&s, &q) : from_where(&s, r->conds[i].root, &q);
    if (st == SG_OK && r->fields.n &&
        r->kind != SG_DOC_CORRELATION) { /* a correlation: its stats keeps them */
      sg_buf_cat(&q, " | table ");
      for (size_t k = 0; k < r->fields.n; k++) {
        if (k) sg_buf_cat(&q, ", ");
        field(&q, r->fields.v[k]);
      }
    }
    if (st == SG_OK) st = q.oom ? SG_ERR_NOMEM : sg_queries_add(out, r, i, sg_buf_cstr(&q), q.len);
    sg_buf_free(&q);
    if (st) return st;
  }
  return SG_OK;
}

/* ---- Output formats ---------------------------------------------------------------------- */

/* module: `$name = QUERY;` per query. A search name is `$`, a lowercase
 * letter, then [a-z0-9_], unique in the module: the rule's title lowered,
 * every other run of characters one `_` (so a title's name never holds `__`),
 * `rule_` in front when it would not start with a letter; a further
 * condition adds `__cN`, the k-th use of a name `__k`. */
static char *statement_name(const SgQuery *q) {
  SgBuf n = {0};
  for (const char *p = q->title ? q->title : ""; *p && n.len < 60; p++) {
    char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      sg_buf_catc(&n, c);
    else if (n.len && n.data[n.len - 1] != '_')
      sg_buf_catc(&n, '_');
  }
  while (n.len && n.data[n.len - 1] == '_')
    n.len--;
  SgBuf name = {0};
  sg_buf_catc(&name, '$');
  if (!n.len || n.data[0] < 'a') sg_buf_cat(&name, n.len ? "rule_" : "rule"); /* a digit first, or no name */
  sg_buf_catn(&name, n.data ? n.data : "", n.len);
  if (q->nconds > 1) sg_buf_catf(&name, "__c%zu", q->cond + 1);
  sg_buf_taint(&name, &n);
  sg_buf_free(&n);
  if (name.oom) sg_buf_free(&name);
  return name.oom ? NULL : name.data;
}

typedef struct Named {
  char *name;
  size_t i;
} Named;

static int cmp_named(const void *a, const void *b) {
  const Named *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

static void module(const SgConvCtx *c, const SgQueries *q, SgBuf *out) {
  Named *v = calloc(q->n + 1, sizeof *v);
  char **names = calloc(q->n + 1, sizeof *names);
  bool ok = v && names;
  for (size_t i = 0; ok && i < q->n; i++)
    ok = (v[i] = (Named){statement_name(&q->v[i]), i}).name != NULL;
  if (ok) {
    qsort(v, q->n, sizeof *v, cmp_named);
    for (size_t i = 0, k = 1; ok && i < q->n; i++) {
      k = i && !strcmp(v[i].name, v[i - 1].name) ? k + 1 : 1;
      SgBuf t = {0};
      sg_buf_cat(&t, v[i].name);
      if (k > 1) sg_buf_catf(&t, "__%zu", k);
      ok = !t.oom;
      names[v[i].i] = t.data;
    }
  }
  for (size_t i = 0; ok && i < q->n; i++) {
    if (i) sg_buf_catc(out, '\n');
    if (c->header && q->v[i].cond == 0) {
      sg_buf_cat(out, q->v[i].header);
      sg_buf_catc(out, '\n');
    }
    sg_buf_catf(out, "%s = %s;\n", names[i], q->v[i].text);
  }
  if (!ok) out->oom = true;
  for (size_t i = 0; i < q->n; i++) {
    free(v ? v[i].name : NULL);
    free(names ? names[i] : NULL);
  }
  free(v);
  free(names);
}

static void spl2_finish(const SgConvCtx *c, const SgQueries *q, SgBuf *out) {
  if (!strcmp(c->format, "module"))
    module(c, q, out);
  else if (!strcmp(c->format, "json"))
    sg_tq_finish_json(q, out);
  else
    sg_tq_finish_text(c, q, out);
}

static const SgFormat formats[] = {
    {"default", "plain SPL2, one `FROM dataset WHERE ...` per condition (-O dataset=NAME, default main)",
     "dataset", ".spl2", NULL, NULL},
    {"module", "an SPL2 module: one `$name = FROM ...;` search statement per query, named after the rule",
     "dataset", ".spl2", NULL, NULL},
    {"json", "one JSON object per query: id, title, level, path, tags, logsource, condition, query",
     "dataset", ".jsonl", NULL, NULL},
    {0},
};

const SgTarget sg_target_splunk_spl2 = {
    .name = "splunk_spl2",
    .alias = "spl2",
    .description = "Splunk SPL2 (FROM dataset WHERE ..., LIKE, match(), modules)",
    .formats = formats,
    .check_options = spl2_check_options,
    .convert = spl2_convert,
    .finish = spl2_finish,
};
