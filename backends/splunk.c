/* splunk.c - Splunk SPL target: resolved boolean tree -> SPL search.
 *
 * Top-level conjuncts that the `search` command can express exactly go into
 * the base search (as the reference renders them, but with OR-in-AND and
 * AND-in-OR always parenthesised). A conjunct it cannot express exactly -
 * a regex, a field reference, a `?` wildcard, a literal `*`, a wildcard under
 * `cased` - becomes `| regex` (a lone top-level regex, as the reference does)
 * or one `| where` holding the whole conjunct in eval syntax, so its meaning
 * is kept under NOT and inside OR. Deviations from the reference are listed
 * in the README ("Splunk: where sigmacc deliberately differs").
 *
 * Correlation rules become the referenced rules' searches (one, or a
 * `| multisearch` tagging each with its event_type), `| bin _time` and
 * `| stats ... by _time GROUP-BY`, and a `| search` on the aggregate.
 */
#include <stdlib.h>
#include <string.h>

#include "sigmacc_int.h"
#include "text_query.h"

typedef struct Spl {
  const SgConvCtx *c;
  const SgRule *r;
  SgDiags *d;
  SgStatus st;
  bool substring; /* -O keywords=substring: a keyword is "*kw*", a substring of _raw */
} Spl;

static SgStatus add_query(const SgConvCtx *c, SgQueries *out, const SgRule *r, size_t cond, const SgBuf *q);

static Spl spl_for(const SgConvCtx *c, const SgRule *r, SgDiags *d) {
  return (Spl){c, r, d, SG_OK, !strcmp(sg_conv_opt(c, "keywords", "term"), "substring")};
}

/* ---- Names and literals --------------------------------------------------------- */

/* A field in `search`: bare when [A-Za-z0-9_.]+, else double-quoted and escaped. */
static void search_field(SgBuf *b, const char *f) {
  if (sg_tq_plain_name(f)) {
    sg_buf_cat(b, f);
    return;
  }
  sg_buf_catc(b, '"');
  sg_tq_escaped(b, f, strlen(f), "\"");
  sg_buf_catc(b, '"');
}

/* A field in eval/where: single-quoted. */
static void eval_field(SgBuf *b, const char *f) {
  sg_buf_catc(b, '\'');
  sg_tq_escaped(b, f, strlen(f), "'");
  sg_buf_catc(b, '\'');
}

/* A Sigma string in `search`: "..." with * as the wildcard. */
static void search_string(SgBuf *b, const SgStr *s) {
  sg_buf_catc(b, '"');
  for (uint32_t i = 0; i < s->nparts; i++) {
    if (s->parts[i].kind == SG_PART_STAR)
      sg_buf_catc(b, '*');
    else if (s->parts[i].kind == SG_PART_LIT)
      sg_tq_escaped(b, s->parts[i].s, s->parts[i].n, "\"");
  }
  sg_buf_catc(b, '"');
}

static void quoted(SgBuf *b, const char *s, size_t n) {
  sg_buf_catc(b, '"');
  sg_tq_escaped(b, s, n, "\"");
  sg_buf_catc(b, '"');
}

static const char *cmp_op(SgOp op) {
  return op == SG_OP_LT ? "<" : op == SG_OP_LTE ? "<=" : op == SG_OP_GT ? ">" : ">=";
}

/* ---- What `search` can express exactly ------------------------------------------- */

static bool str_searchable(const SgMatch *m) {
  const SgStr *s = &m->v.str;
  if (sg_tq_str_has_kind(s, SG_PART_QMARK) || sg_tq_str_has_literal(s, '*')) return false;
  if (sg_tq_str_has_break(s)) return false; /* a line break is written as \x0A in a regex */
  if (m->cased && sg_tq_str_has_kind(s, SG_PART_STAR)) return false; /* CASE() takes no wildcards */
  return true;
}

static bool match_searchable(const Spl *s, const SgMatch *m) {
  if (!m->field && s->substring && m->cased) return false; /* CASE("*kw*") cannot be written */
  switch (m->op) {
  case SG_OP_EQ:
    if (m->v.kind == SG_V_STR) return str_searchable(m);
    return m->v.kind != SG_V_EXPR || m->field;
  case SG_OP_EXISTS:
  case SG_OP_CIDR:
  case SG_OP_LT:
  case SG_OP_LTE:
  case SG_OP_GT:
  case SG_OP_GTE: return m->field != NULL;
  default: return false;
  }
}

static bool searchable(const Spl *s, const SgNode *n) {
  if (n->kind == SG_N_MATCH) return !n->m.tspart && match_searchable(s, &n->m);
  for (uint32_t i = 0; i < n->nkids; i++)
    if (!searchable(s, n->kids[i])) return false;
  return true;
}

static bool in_ok(const SgNode *k, void *arg) {
  (void)arg;
  return !k->m.cased && (k->m.v.kind == SG_V_NUM || str_searchable(&k->m));
}

/* ---- search syntax ---------------------------------------------------------------------- */

static void search_expr(Spl *s, SgBuf *b, const SgNode *n);

/* A keyword as a substring of _raw: "*kw*". */
static void substring_term(SgBuf *b, const SgValue *v) {
  sg_buf_catc(b, '"');
  if (v->kind == SG_V_NUM) {
    sg_buf_catf(b, "*%s*\"", v->num.text);
    return;
  }
  const SgStr *s = &v->str;
  if (!s->nparts || s->parts[0].kind != SG_PART_STAR) sg_buf_catc(b, '*');
  for (uint32_t i = 0; i < s->nparts; i++) {
    if (s->parts[i].kind == SG_PART_STAR)
      sg_buf_catc(b, '*');
    else if (s->parts[i].kind == SG_PART_LIT)
      sg_tq_escaped(b, s->parts[i].s, s->parts[i].n, "\"");
  }
  if (!s->nparts || s->parts[s->nparts - 1].kind != SG_PART_STAR) sg_buf_catc(b, '*');
  sg_buf_catc(b, '"');
}

static void search_match(const Spl *sp, SgBuf *b, const SgMatch *m) {
  const SgValue *v = &m->v;
  if (v->kind == SG_V_EXPR) {
    for (const char *p = v->str.parts[0].s; *p; p++) {
      if (!strncmp(p, "{field}", 7)) {
        search_field(b, m->field);
        p += 6;
      } else {
        sg_buf_catc(b, *p);
      }
    }
    return;
  }
  if (!m->field && sp->substring) {
    substring_term(b, v);
    return;
  }
  if (!m->field) { /* keyword: a term or phrase in _raw (Splunk matches it at token boundaries) */
    if (v->kind == SG_V_NUM) {
      sg_buf_cat(b, v->num.text);
    } else if (m->cased) {
      sg_buf_cat(b, "CASE(");
      search_string(b, &v->str);
      sg_buf_catc(b, ')');
    } else {
      search_string(b, &v->str);
    }
    return;
  }
  if (m->op == SG_OP_EQ && v->kind == SG_V_NULL) sg_buf_cat(b, "NOT ");
  search_field(b, m->field);
  switch (m->op) {
  case SG_OP_EXISTS: sg_buf_cat(b, "=*"); return;
  case SG_OP_CIDR:
    sg_buf_catc(b, '=');
    quoted(b, v->cidr.text, strlen(v->cidr.text));
    return;
  case SG_OP_LT:
  case SG_OP_LTE:
  case SG_OP_GT:
  case SG_OP_GTE:
    sg_buf_cat(b, cmp_op(m->op));
    sg_buf_cat(b, v->num.text);
    return;
  default: break;
  }
  sg_buf_catc(b, '=');
  switch (v->kind) {
  case SG_V_NULL: sg_buf_catc(b, '*'); break;
  case SG_V_NUM: sg_buf_cat(b, v->num.text); break;
  case SG_V_BOOL: sg_buf_cat(b, v->b ? "true" : "false"); break;
  default:
    if (m->cased) sg_buf_cat(b, "CASE(");
    search_string(b, &v->str);
    if (m->cased) sg_buf_catc(b, ')');
  }
}

static void search_kid(Spl *s, SgBuf *b, const SgNode *kid, SgNodeKind parent) {
  /* an IN list is one term, except under NOT, where the reference groups it */
  bool paren = (kid->kind == SG_N_AND || kid->kind == SG_N_OR) && kid->kind != parent &&
               (parent == SG_N_NOT || !sg_tq_is_in_list(kid, in_ok, NULL));
  if (paren) sg_buf_catc(b, '(');
  search_expr(s, b, kid);
  if (paren) sg_buf_catc(b, ')');
}

static void search_expr(Spl *s, SgBuf *b, const SgNode *n) {
  switch (n->kind) {
  case SG_N_MATCH: search_match(s, b, &n->m); return;
  case SG_N_TRUE: sg_buf_catc(b, '*'); return;
  case SG_N_FALSE: sg_buf_cat(b, "NOT *"); return;
  case SG_N_NOT:
    sg_buf_cat(b, "NOT ");
    search_kid(s, b, n->kids[0], SG_N_NOT);
    return;
  case SG_N_OR:
    if (sg_tq_is_in_list(n, in_ok, NULL)) {
      search_field(b, n->kids[0]->m.field);
      sg_buf_cat(b, " IN (");
      for (uint32_t i = 0; i < n->nkids; i++) {
        if (i) sg_buf_cat(b, ", ");
        const SgValue *v = &n->kids[i]->m.v;
        if (v->kind == SG_V_NUM)
          sg_buf_cat(b, v->num.text);
        else
          search_string(b, &v->str);
      }
      sg_buf_catc(b, ')');
      return;
    }
    /* fall through */
  case SG_N_AND:
    for (uint32_t i = 0; i < n->nkids; i++) {
      if (i) sg_buf_cat(b, n->kind == SG_N_AND ? " " : " OR ");
      search_kid(s, b, n->kids[i], n->kind);
    }
    return;
  }
}

/* ---- eval syntax (| where) ---------------------------------------------------------------- */

static void regex_literal(SgBuf *b, const char *flags, const char *pat, size_t n) {
  SgBuf re = {0};
  if (flags && *flags) sg_buf_catf(&re, "(?%s)", flags);
  sg_buf_catn(&re, pat, n);
  sg_buf_taint(b, &re);
  quoted(b, sg_buf_cstr(&re), re.len);
  sg_buf_free(&re);
}

/* One predicate in eval syntax; `negated` when under a NOT, where a missing
 * field must make the predicate false rather than null. */
static void eval_match(Spl *s, SgBuf *b, const SgNode *n, bool negated) {
  const SgMatch *m = &n->m;
  const SgValue *v = &m->v;
  if (m->tspart || v->kind == SG_V_EXPR || m->op == SG_OP_FIELDREF_CONTAINS) {
    s->st = sg_tq_unsupported(s->d, n, "Splunk",
                              m->tspart ? "a timestamp part comparison"
                              : m->op == SG_OP_FIELDREF_CONTAINS
                                  ? "'fieldref|contains' (no substring test between fields in eval)"
                                  : "a query expression placeholder inside OR, NOT or a regex");
    return;
  }
  char fl[4];
  if (!m->field && m->op == SG_OP_RE) { /* a regex keyword searches the raw event */
    sg_buf_cat(b, "match(_raw, ");
    regex_literal(b, sg_tq_re_flags(v->re.flags, fl), v->re.pat, v->re.len);
    sg_buf_catc(b, ')');
    return;
  }
  if (!m->field) { /* keyword: substring of the raw event */
    SgBuf re = {0};
    if (v->kind == SG_V_NUM)
      sg_tq_str_regex(&re, &(SgStr){&(SgPart){SG_PART_LIT, v->num.text, strlen(v->num.text)}, 1}, false);
    else
      sg_tq_str_regex(&re, &v->str, false);
    sg_buf_cat(b, "match(_raw, ");
    sg_buf_taint(b, &re);
    regex_literal(b, m->cased ? "s" : "is", re.data ? re.data : "", re.len);
    sg_buf_catc(b, ')');
    sg_buf_free(&re);
    return;
  }
  bool guard = negated && m->op != SG_OP_EXISTS && !(m->op == SG_OP_EQ && v->kind == SG_V_NULL);
  if (guard) {
    sg_buf_cat(b, "(isnotnull(");
    eval_field(b, m->field);
    sg_buf_cat(b, ") AND ");
    if (m->op >= SG_OP_FIELDREF) { /* the other field too: a missing one makes the comparison null */
      sg_buf_cat(b, "isnotnull(");
      eval_field(b, v->str.parts[0].s);
      sg_buf_cat(b, ") AND ");
    }
  }
  switch (m->op) {
  case SG_OP_EXISTS:
    sg_buf_cat(b, "isnotnull(");
    eval_field(b, m->field);
    sg_buf_catc(b, ')');
    break;
  case SG_OP_RE:
    sg_buf_cat(b, "match(");
    eval_field(b, m->field);
    sg_buf_cat(b, ", ");
    regex_literal(b, sg_tq_re_flags(v->re.flags, fl), v->re.pat, v->re.len);
    sg_buf_catc(b, ')');
    break;
  case SG_OP_CIDR:
    sg_buf_cat(b, "cidrmatch(");
    quoted(b, v->cidr.text, strlen(v->cidr.text));
    sg_buf_cat(b, ", ");
    eval_field(b, m->field);
    sg_buf_catc(b, ')');
    break;
  case SG_OP_LT:
  case SG_OP_LTE:
  case SG_OP_GT:
  case SG_OP_GTE:
    eval_field(b, m->field);
    sg_buf_cat(b, cmp_op(m->op));
    sg_buf_cat(b, v->num.text);
    break;
  case SG_OP_FIELDREF:
  case SG_OP_FIELDREF_STARTS:
  case SG_OP_FIELDREF_ENDS: {
    const char *other = v->str.parts[0].s;
    const char *wrap = m->cased ? "" : "lower(";
    const char *close = m->cased ? "" : ")";
    if (m->op == SG_OP_FIELDREF) {
      sg_buf_cat(b, wrap);
      eval_field(b, m->field);
      sg_buf_cat(b, close);
    } else {
      sg_buf_catf(b, "substr(%s", wrap);
      eval_field(b, m->field);
      sg_buf_catf(b, "%s, %s", close, m->op == SG_OP_FIELDREF_STARTS ? "1, len(" : "-len(");
      eval_field(b, other);
      sg_buf_catc(b, ')');
      sg_buf_catc(b, ')');
    }
    sg_buf_catc(b, '=');
    sg_buf_cat(b, wrap);
    eval_field(b, other);
    sg_buf_cat(b, close);
    break;
  }
  case SG_OP_EQ:
    if (v->kind == SG_V_NULL) {
      sg_buf_cat(b, "isnull(");
      eval_field(b, m->field);
      sg_buf_catc(b, ')');
    } else if (v->kind == SG_V_NUM) {
      eval_field(b, m->field);
      sg_buf_catc(b, '=');
      sg_buf_cat(b, v->num.text);
    } else {
      SgBuf re = {0};
      if (v->kind == SG_V_BOOL)
        sg_buf_cat(&re, v->b ? "^true\\z" : "^false\\z");
      else
        sg_tq_str_regex(&re, &v->str, true);
      sg_buf_cat(b, "match(");
      eval_field(b, m->field);
      sg_buf_cat(b, ", ");
      sg_buf_taint(b, &re);
      regex_literal(b, m->cased ? "s" : "is", re.data ? re.data : "", re.len);
      sg_buf_catc(b, ')');
      sg_buf_free(&re);
    }
    break;
  default: break;
  }
  if (guard) sg_buf_catc(b, ')');
}

static void eval_expr(Spl *s, SgBuf *b, const SgNode *n, bool negated) {
  switch (n->kind) {
  case SG_N_MATCH: eval_match(s, b, n, negated); return;
  case SG_N_TRUE: sg_buf_cat(b, "true()"); return;
  case SG_N_FALSE: sg_buf_cat(b, "false()"); return;
  case SG_N_NOT:
    sg_buf_cat(b, "NOT (");
    eval_expr(s, b, n->kids[0], !negated);
    sg_buf_catc(b, ')');
    return;
  case SG_N_AND:
  case SG_N_OR:
    for (uint32_t i = 0; i < n->nkids; i++) {
      const SgNode *k = n->kids[i];
      if (i) sg_buf_cat(b, n->kind == SG_N_AND ? " AND " : " OR ");
      bool paren = (k->kind == SG_N_AND || k->kind == SG_N_OR) && k->kind != n->kind;
      if (paren) sg_buf_catc(b, '(');
      eval_expr(s, b, k, negated);
      if (paren) sg_buf_catc(b, ')');
    }
    return;
  }
}

/* ---- One query ---------------------------------------------------------------------------- */

/* Field names the regex command takes bare (the reference also passes `-`). */
static bool regex_field(const char *f) {
  for (const char *p = f; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr("_.-", *p)))
      return false;
  return *f != '\0';
}

/* A lone regex conjunct (optionally negated) on a plain field: `| regex`. */
static const SgNode *lone_regex(const SgNode *n, bool *neg) {
  *neg = n->kind == SG_N_NOT;
  if (*neg) n = n->kids[0];
  return n->kind == SG_N_MATCH && n->m.op == SG_OP_RE && n->m.field && regex_field(n->m.field) ? n : NULL;
}

static const char *table_fields(SgBuf *b, const SgRule *r) {
  for (size_t i = 0; i < r->fields.n; i++) {
    if (i) sg_buf_catc(b, ',');
    search_field(b, r->fields.v[i]);
  }
  return sg_buf_cstr(b);
}

/* base search + deferred pipes for one condition tree */
static void render_query(Spl *s, const SgNode *root, SgBuf *base, SgBuf *deferred) {
  const SgNode *one, *const *conj;
  size_t n = sg_tq_conjuncts(root, &one, &conj);
  for (size_t i = 0; i < n; i++) {
    const SgNode *k = conj[i];
    bool neg;
    const SgNode *re;
    if (searchable(s, k)) {
      if (base->len) sg_buf_catc(base, ' ');
      search_kid(s, base, k, n == 1 ? k->kind : SG_N_AND);
    } else if ((re = lone_regex(k, &neg))) {
      char fl[4];
      sg_buf_catf(deferred, "\n| regex %s%s=", re->m.field, neg ? "!" : "");
      regex_literal(deferred, sg_tq_re_flags(re->m.v.re.flags, fl), re->m.v.re.pat, re->m.v.re.len);
    } else {
      sg_buf_cat(deferred, "\n| where ");
      eval_expr(s, deferred, k, false);
    }
  }
}

/* ---- Output formats ---------------------------------------------------------------------------- */

static const SgYNode *state(const SgConvCtx *c, const char *key) {
  return c->state ? sg_state_get(c->state, key) : NULL;
}

static SgStatus data_model(Spl *s, const SgBuf *base, const SgBuf *deferred, SgBuf *out) {
  const SgYNode *dm = state(s->c, "data_model_set"), *fields = state(s->c, "fields");
  if (!dm || dm->kind != SG_Y_SCALAR) {
    sg_diag(
        s->d, SG_D_UNSUPPORTED, s->r->loc,
        "the data_model format needs the splunk_cim pipeline (-p splunk_cim), which names the data model");
    return SG_ERR_UNSUPPORTED;
  }
  sg_buf_cat(out, "| tstats summariesonly=false allow_old_summaries=true fillnull_value=\"null\" count "
                  "min(_time) as firstTime max(_time) as lastTime from datamodel=");
  sg_buf_cat(out, dm->text);
  sg_buf_cat(out, " where ");
  sg_buf_cat(out, base->len ? base->data : "*");
  sg_buf_cat(out, " by");
  const char *object = NULL;
  for (size_t i = 0; fields && i < (fields->kind == SG_Y_SEQ ? fields->n : 1); i++) {
    const SgYNode *f = fields->kind == SG_Y_SEQ ? fields->items[i] : fields;
    sg_buf_catc(out, ' ');
    search_field(out, f->text);
    if (!object) object = f->text;
  }
  /* the macro strips the prefix the fields really have (Web.url -> Web) */
  size_t olen = object && strchr(object, '.') ? (size_t)(strchr(object, '.') - object) : 0;
  if (!olen) {
    object = strchr(dm->text, '.') ? strchr(dm->text, '.') + 1 : dm->text;
    olen = strlen(object);
  }
  for (const char *p = deferred->data; p && *p; p++)
    sg_buf_catc(out, *p == '\n' ? ' ' : *p);
  sg_buf_catf(out, " | `drop_dm_object_name(%.*s)`", (int)olen, object);
  sg_buf_cat(out, " | convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime(firstTime)"
                  " | convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime(lastTime)");
  return SG_OK;
}

/* ---- Correlation rules ------------------------------------------------------------------ */

static SgStatus corr_unsupported(SgDiags *d, const SgRule *r, const char *what) {
  sg_diag(d, SG_D_UNSUPPORTED, r->loc, "Splunk target: %s", what);
  return SG_ERR_UNSUPPORTED;
}

/* ` | eval event_type="NAME"`: which rule an event came from. */
static void tag_event(SgBuf *b, const char *name) {
  sg_buf_cat(b, " | eval event_type=\"");
  sg_tq_escaped(b, name, strlen(name), "\"");
  sg_buf_catc(b, '"');
}

/* `| rename FIELD as ALIAS` for each alias the rule named `name` takes part in. */
static void renames(SgBuf *b, const SgCorrelation *k, const char *name) {
  for (size_t i = 0; i < k->naliases; i++)
    for (size_t j = 0; j < k->aliases[i].n; j++)
      if (!strcmp(k->aliases[i].map[j].key, name)) {
        sg_buf_cat(b, " | rename ");
        search_field(b, k->aliases[i].map[j].val->text);
        sg_buf_cat(b, " as ");
        search_field(b, k->aliases[i].name);
      }
}

/* The searches of the rules under correlation context `c` (whose correlation is `k`), each
 * tagged with the name `k` gives it and renamed by `k`'s aliases; a referenced correlation's
 * own rules (a chain) likewise, under it. */
static SgStatus leaf_searches(Spl *s, const SgConvCtx *c, const SgCorrelation *k, SgBuf *out, SgBuf *one,
                              size_t *nq, const char **name) {
  for (size_t i = 0; i < c->nrefs; i++) {
    const SgRule *ref = c->refs[i];
    if (c->ref_ctx && c->ref_ctx[i]) {
      SgStatus st = leaf_searches(s, c->ref_ctx[i], ref->corr, out, one, nq, name);
      if (st) return st;
      continue;
    }
    if (ref->kind != SG_DOC_RULE) return corr_unsupported(s->d, s->r, "a correlation of correlations");
    SgConvCtx rc = sg_conv_ref(c, i);
    Spl rs = spl_for(&rc, ref, s->d);
    if (sg_tq_check_names(ref, "Splunk", s->d)) return SG_ERR_UNSUPPORTED;
    for (size_t q = 0; q < ref->nconds; q++) {
      if (!ref->conds[q].root || sg_tq_check_placeholders(rs.d, ref->conds[q].root))
        return SG_ERR_UNSUPPORTED;
      SgBuf base = {0}, deferred = {0};
      render_query(&rs, ref->conds[q].root, &base, &deferred);
      sg_buf_cat(out, (*nq)++ ? "\n[ search " : "| multisearch\n[ search ");
      one->len = 0;
      sg_buf_cat(one, base.len ? base.data : "*");
      for (const char *p = deferred.data; p && *p; p++)
        sg_buf_catc(one, *p == '\n' ? ' ' : *p);
      sg_buf_taint(one, &base);
      sg_buf_taint(one, &deferred);
      sg_buf_taint(out, one);
      sg_buf_cat(out, sg_buf_cstr(one));
      tag_event(out, k->rules.v[i]);
      renames(out, k, k->rules.v[i]);
      sg_buf_cat(out, " ]");
      sg_buf_free(&base);
      sg_buf_free(&deferred);
      *name = k->rules.v[i]; /* the search's name, for one search alone */
      if (rs.st) return rs.st;
    }
  }
  return SG_OK;
}

/* The searches of the referenced rules: one query as it is, else a
 * multisearch in which each query tags its events with the rule's name. */
static SgStatus corr_search(Spl *s, const SgCorrelation *k, bool tag, SgBuf *out) {
  SgBuf one = {0};
  size_t nq = 0;
  const char *name = NULL;
  SgStatus st = leaf_searches(s, s->c, k, out, &one, &nq, &name);
  if (st == SG_OK && nq == 1) { /* a single search needs no multisearch */
    out->len = 0;
    sg_buf_cat(out, sg_buf_cstr(&one));
    if (tag) tag_event(out, name);
    renames(out, k, name);
  }
  sg_buf_free(&one);
  return st;
}

/* ---- Chains: a correlation over correlations ---------------------------------------------- */

/* Why the chain under `c` (correlation `k`) cannot be written, or NULL; `names` collects every
 * name the chain references, which must be distinct (an event is one row: it cannot count for
 * two references). */
static const char *chain_refusal(const SgConvCtx *c, const SgCorrelation *k, bool inner, SgStrList *names,
                                 size_t *cap) {
  if (inner) {
    if (k->type != SG_CORR_EVENT_COUNT && k->type != SG_CORR_VALUE_COUNT && k->type != SG_CORR_TEMPORAL &&
        k->type != SG_CORR_VALUE_SUM && k->type != SG_CORR_VALUE_AVG)
      return "a temporal_ordered, value_median or value_percentile correlation inside a chain (its running "
             "value at each event is not written)";
    if (k->expr || k->fields.n > 1) return "a condition expression or several fields inside a chain";
    if (sg_corr_at_window_end(k))
      return "a lt, lte, eq or neq condition inside a chain (it is decided when a window ends, and the "
             "correlation over it needs the event at which it held)";
  }
  if (k->naliases) return "aliases in a chain of correlations";
  for (size_t i = 0; i < c->nrefs; i++) {
    for (size_t j = 0; j < names->n; j++)
      if (!strcmp(names->v[j], k->rules.v[i]))
        return "a chain that references one rule or correlation twice (an event would have to count for "
               "both)";
    if (names->n == *cap) {
      *cap = *cap ? 2 * *cap : 8;
      const char **v = realloc((void *)names->v, *cap * sizeof *v);
      if (!v) return "out of memory";
      names->v = v;
    }
    names->v[names->n++] = k->rules.v[i];
    const char *why =
        c->ref_ctx && c->ref_ctx[i] ? chain_refusal(c->ref_ctx[i], c->refs[i]->corr, true, names, cap) : NULL;
    if (why) return why;
  }
  return NULL;
}

/* ` OR `-joined `event_type="NAME"` for every name correlation `k` references. */
static void is_ref(SgBuf *q, const SgCorrelation *k) {
  for (size_t i = 0; i < k->rules.n; i++) {
    sg_buf_cat(q, i ? " OR event_type=\"" : "event_type=\"");
    sg_tq_escaped(q, k->rules.v[i], strlen(k->rules.v[i]), "\"");
    sg_buf_catc(q, '"');
  }
}

/* " by [BUCKET ]GROUP-BY..." (BUCKET: _time after bin, a chain level's sigma_bN; NULL: a
 * sliding window has none) */
static void by_groups(SgBuf *q, const SgCorrelation *k, const char *bucket) {
  sg_buf_cat(q, " by");
  if (bucket) sg_buf_catf(q, " %s", bucket);
  for (size_t i = 0; i < k->group_by.n; i++) {
    sg_buf_catc(q, ' ');
    search_field(q, k->group_by.v[i]);
  }
}

/* The inner correlations under `c`, deepest first: each, in its bucket and group, finds the
 * event at which its running aggregate first meets its condition (events in time order), and
 * that event becomes a match of it (event_type its name) for the correlation above. */
static void chain_levels(SgBuf *q, const SgConvCtx *c, const SgCorrelation *k, size_t *level) {
  for (size_t i = 0; i < c->nrefs; i++) {
    if (!c->ref_ctx || !c->ref_ctx[i]) continue;
    const SgCorrelation *in = c->refs[i]->corr;
    chain_levels(q, c->ref_ctx[i], in, level);
    size_t l = ++*level;
    sg_buf_catf(q, "\n| eval sigma_x%zu=if(", l);
    is_ref(q, in);
    sg_buf_cat(q, ", ");
    if (in->type == SG_CORR_EVENT_COUNT)
      sg_buf_cat(q, "1");
    else if (in->type == SG_CORR_TEMPORAL)
      sg_buf_cat(q, "event_type");
    else
      eval_field(q, in->fields.v[0]);
    sg_buf_cat(q, ", null())");
    char bucket[32];
    snprintf(bucket, sizeof bucket, "sigma_b%zu", l);
    sg_buf_cat(q, "\n| bin span=");
    sg_tq_span(q, c->refs[i]);
    sg_buf_catf(q, " _time as %s\n| streamstats %s(sigma_x%zu) as sigma_v%zu", bucket,
                in->type == SG_CORR_EVENT_COUNT                                   ? "count"
                : in->type == SG_CORR_VALUE_COUNT || in->type == SG_CORR_TEMPORAL ? "dc"
                : in->type == SG_CORR_VALUE_SUM                                   ? "sum"
                                                                                  : "avg",
                l, l);
    by_groups(q, in, bucket);
    sg_buf_catf(q, "\n| eval sigma_h%zu=if(isnotnull(sigma_x%zu)", l, l);
    if (!in->nconds) sg_buf_catf(q, " AND sigma_v%zu>=%zu", l, in->rules.n); /* temporal: every rule */
    for (size_t j = 0; j < in->nconds; j++)
      sg_buf_catf(q, " AND sigma_v%zu%s%s", l, strcmp(in->conds[j].op, "gt") ? ">=" : ">",
                  in->conds[j].value.text);
    sg_buf_catf(q, ", 1, 0)\n| streamstats sum(sigma_h%zu) as sigma_n%zu", l, l);
    by_groups(q, in, bucket);
    sg_buf_catf(q, "\n| eval event_type=if(sigma_h%zu=1 AND sigma_n%zu=1, \"", l, l);
    sg_tq_escaped(q, k->rules.v[i], strlen(k->rules.v[i]), "\"");
    sg_buf_cat(q, "\", event_type)");
  }
}

/* An extended temporal condition over the `event_types` values, with the
 * parentheses `search` needs (it binds NOT, then OR, then AND). */
static void corr_expr(SgBuf *b, const SgCondExpr *e, int parent) {
  if (e->kind == SG_C_ID) {
    sg_buf_cat(b, "event_types=\"");
    sg_tq_escaped(b, e->name, strlen(e->name), "\"");
    sg_buf_catc(b, '"');
    return;
  }
  if (e->kind == SG_C_NOT) {
    sg_buf_cat(b, "NOT ");
    corr_expr(b, e->kids[0], SG_C_NOT);
    return;
  }
  bool paren = parent >= 0 && parent != (int)e->kind;
  if (paren) sg_buf_catc(b, '(');
  for (uint32_t i = 0; i < e->n; i++) {
    if (i) sg_buf_cat(b, e->kind == SG_C_OR ? " OR " : " ");
    corr_expr(b, e->kids[i], (int)e->kind);
  }
  if (paren) sg_buf_catc(b, ')');
}

/* temporal_ordered: with each event's own time kept in sigma_time before `bin`, step i is
 * the earliest time of rule i's events after step i-1 in the bucket and group (one
 * eventstats each); the rules occurred in order when every step has a time, and the
 * aggregate is how many steps have one (the order's prefix, as eval counts it). */
static void ordered_steps(SgBuf *q, const SgCorrelation *k) {
  for (size_t i = 0; i < k->rules.n; i++) {
    sg_buf_cat(q, "\n| eventstats min(eval(if(event_type=\"");
    sg_tq_escaped(q, k->rules.v[i], strlen(k->rules.v[i]), "\"");
    sg_buf_catc(q, '"');
    if (i) sg_buf_catf(q, " AND sigma_time>sigma_step%zu", i);
    sg_buf_catf(q, ", sigma_time, null()))) as sigma_step%zu", i + 1);
    by_groups(q, k, "_time");
  }
  sg_buf_cat(q, "\n| stats max(eval(");
  for (size_t i = 0; i < k->rules.n; i++)
    sg_buf_catf(q, "%sif(isnotnull(sigma_step%zu), 1, 0)", i ? "+" : "", i + 1);
  sg_buf_cat(q, ")) as event_type_count");
}

/* The value a value_* correlation aggregates: its field, or (several fields, Sigma 2.1) the
 * tuple of their values as a JSON array, so two tuples are equal only when every value is. */
static void corr_value(SgBuf *q, SgBuf *f, const SgCorrelation *k) {
  if (k->fields.n == 1) {
    search_field(f, k->fields.v[0]);
    return;
  }
  sg_buf_cat(q, "\n| where");
  for (size_t i = 0; i < k->fields.n; i++) {
    sg_buf_cat(q, i ? " AND isnotnull(" : " isnotnull(");
    eval_field(q, k->fields.v[i]);
    sg_buf_catc(q, ')');
  }
  sg_buf_cat(q, "\n| eval sigma_value=json_array(");
  for (size_t i = 0; i < k->fields.n; i++) {
    if (i) sg_buf_cat(q, ", ");
    eval_field(q, k->fields.v[i]);
  }
  sg_buf_catc(q, ')');
  sg_buf_cat(f, "sigma_value");
}

/* -O correlation_window=sliding: why the correlation cannot be written so, or NULL. */
static const char *sliding_refusal(const SgCorrelation *k) {
  if (k->type == SG_CORR_TEMPORAL_ORDERED)
    return "temporal_ordered with -O correlation_window=sliding (its order is checked per bucket; convert "
           "without the option)";
  if (sg_corr_at_window_end(k))
    return "a lt, lte, eq or neq condition with -O correlation_window=sliding (it is decided when a window "
           "ends, and streamstats marks no end; convert without the option)";
  return NULL;
}

static SgStatus spl_correlation(Spl *s, SgQueries *out) {
  const SgRule *r = s->r;
  const SgCorrelation *k = r->corr;
  if (!strcmp(s->c->format, "data_model"))
    return corr_unsupported(s->d, r, "no data_model form for correlation rules");
  static const char *const aggs[] = {"count",   "dc(%s)", "dc(event_type)", NULL, "sum(%s)",
                                     "avg(%s)", NULL,     "median(%s)"};
  _Static_assert(sizeof aggs / sizeof *aggs == SG_CORR__COUNT, "one SPL aggregate per correlation type");
  bool ordered = k->type == SG_CORR_TEMPORAL_ORDERED;
  bool sliding = !strcmp(sg_conv_opt(s->c, "correlation_window", "buckets"), "sliding");
  const char *refusal = sliding ? sliding_refusal(k) : NULL;
  if (refusal) return corr_unsupported(s->d, r, refusal);
  if (ordered && k->expr)
    return corr_unsupported(s->d, r, "a temporal_ordered correlation with a condition expression");
  bool chain = false;
  for (size_t i = 0; s->c->ref_ctx && i < s->c->nrefs; i++)
    chain |= s->c->ref_ctx[i] != NULL;
  if (chain) {
    SgStrList names = {0};
    size_t cap = 0;
    const char *why = sliding ? "a chain of correlations with -O correlation_window=sliding"
                              : chain_refusal(s->c, k, false, &names, &cap);
    free((void *)names.v);
    if (why) return corr_unsupported(s->d, r, why);
  }
  if (k->fields.n > 1 && k->type != SG_CORR_VALUE_COUNT)
    return corr_unsupported(s->d, r, "several condition fields outside value_count");
  SgBuf q = {0}, f = {0};
  bool temporal = k->type == SG_CORR_TEMPORAL || ordered;
  SgStatus st = corr_search(s, k, temporal || chain, &q);
  if (st) {
    sg_buf_free(&q);
    return st;
  }
  if (chain) { /* the inner correlations' matches, then only what this one references */
    sg_diag(
        s->d, SG_D_LOSSY, r->loc,
        "Splunk target: the correlations inside the chain are met in fixed time buckets too (`bin span=... "
        "_time as sigma_bN`, once each per bucket and group), and streamstats counts at most "
        "max_stream_window events of a group (limits.conf, 10,000 by default)");
    size_t level = 0;
    sg_buf_cat(&q, "\n| sort 0 _time");
    chain_levels(&q, s->c, k, &level);
    sg_buf_cat(&q, "\n| where ");
    is_ref(&q, k);
  }
  if (k->fields.n) corr_value(&q, &f, k);
  if (sliding) { /* each event: the window of the timespan that ends at it, in its group */
    sg_buf_cat(&q, "\n| sort 0 _time\n| streamstats time_window=");
    size_t at = q.len;
    sg_tq_span(&q, r);
    sg_diag(
        s->d, SG_D_LOSSY, r->loc,
        "Splunk target: `| streamstats time_window=%s` gives a result at every event at which the window "
        "ending there meets the condition (eval reports a group once and starts it over), and holds at most "
        "max_stream_window events (limits.conf, 10,000 by default)",
        q.oom ? "" : q.data + at);
    sg_buf_catc(&q, ' ');
  } else {
    if (ordered) sg_buf_cat(&q, "\n| eval sigma_time=_time");
    sg_tq_bin_time(&q, r, "Splunk", s->d);
    if (!ordered) sg_buf_cat(&q, "\n| stats "); /* temporal_ordered's steps end in their own stats */
  }
  if (ordered) {
    ordered_steps(&q, k);
  } else if (temporal && k->expr) {
    sg_buf_cat(&q, "values(event_type) as event_types");
  } else {
    if (k->type == SG_CORR_VALUE_PERCENTILE)
      sg_buf_catf(&q, "exactperc%d(%s)", k->percentile, sg_buf_cstr(&f));
    else
      sg_buf_catf(&q, aggs[k->type], sg_buf_cstr(&f));
    sg_buf_catf(&q, " as %s", sg_corr_aggregate_name(k->type));
  }
  for (size_t i = 0; i < r->fields.n; i++) { /* the rule's fields, for whoever reads the result */
    sg_buf_cat(&q, " values(");
    search_field(&q, r->fields.v[i]);
    sg_buf_cat(&q, ") as ");
    search_field(&q, r->fields.v[i]);
  }
  by_groups(&q, k, sliding ? NULL : "_time");
  sg_buf_cat(&q, "\n| search ");
  if (temporal && k->expr) {
    corr_expr(&q, k->expr->expr, -1);
  } else if (!k->nconds) { /* temporal: every rule */
    sg_buf_catf(&q, "%s >= %zu", sg_corr_aggregate_name(k->type), k->rules.n);
  } else {
    sg_tq_corr_conds(&q, k, "!=", " ");
  }
  st = f.oom ? SG_ERR_NOMEM : add_query(s->c, out, r, 0, &q);
  sg_buf_free(&q);
  sg_buf_free(&f);
  return st;
}

static SgStatus spl_check_options(const SgConvCtx *c, SgDiags *d) {
  const char *kw = sg_conv_opt(c, "keywords", "term"), *win = sg_conv_opt(c, "correlation_window", "buckets");
  if (strcmp(kw, "term") && strcmp(kw, "substring")) {
    sg_diag(d, SG_D_USAGE, (SgLoc){0}, "-O: keywords must be term or substring, not '%s'", kw);
    return SG_ERR_USAGE;
  }
  if (strcmp(win, "buckets") && strcmp(win, "sliding")) {
    sg_diag(d, SG_D_USAGE, (SgLoc){0}, "-O: correlation_window must be buckets or sliding, not '%s'", win);
    return SG_ERR_USAGE;
  }
  return SG_OK;
}

static SgStatus spl_convert(const SgConvCtx *c, const SgRule *r, SgQueries *out, SgDiags *d) {
  Spl s = spl_for(c, r, d);
  if (sg_tq_check_names(r, "Splunk", d)) return SG_ERR_UNSUPPORTED;
  if (r->kind == SG_DOC_CORRELATION) return spl_correlation(&s, out);
  bool dm = !strcmp(c->format, "data_model");
  for (size_t i = 0; i < r->nconds; i++) {
    const SgNode *root = r->conds[i].root;
    if (!root || sg_tq_check_placeholders(s.d, root)) return SG_ERR_UNSUPPORTED;
    SgBuf base = {0}, deferred = {0}, q = {0};
    render_query(&s, root, &base, &deferred);
    sg_buf_taint(&q, &base);
    sg_buf_taint(&q, &deferred);
    if (s.st == SG_OK && dm) {
      s.st = data_model(&s, &base, &deferred, &q);
    } else if (s.st == SG_OK) {
      sg_buf_cat(&q, base.len ? base.data : "*");
      if (deferred.len) sg_buf_cat(&q, deferred.data);
      if (r->fields.n) {
        SgBuf t = {0};
        sg_buf_cat(&q, " | table ");
        sg_buf_cat(&q, table_fields(&t, r));
        sg_buf_taint(&q, &t);
        sg_buf_free(&t);
      }
    }
    if (s.st == SG_OK) s.st = add_query(c, out, r, i, &q);
    sg_buf_free(&base);
    sg_buf_free(&deferred);
    sg_buf_free(&q);
    if (s.st) return s.st;
  }
  return SG_OK;
}

/* savedsearches.conf: a conf value continues on the next line after a
 * trailing backslash. Every line break (LF, CRLF or a lone CR) becomes
 * " \" + LF, so a value keeps its lines and can never start a key or a
 * stanza; trailing white space is dropped and a value that ends in a
 * backslash gets a space after it, so it cannot swallow the next key. */
static void conf_value(SgBuf *b, const char *v) {
  size_t n = strlen(v);
  while (n && (v[n - 1] == '\n' || v[n - 1] == '\r' || v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  for (size_t i = 0; i < n; i++) {
    if (v[i] == '\r' && i + 1 < n && v[i + 1] == '\n') continue; /* CRLF: one break */
    if (v[i] == '\n' || v[i] == '\r')
      sg_buf_cat(b, " \\\n");
    else
      sg_buf_catc(b, v[i]);
  }
  if (n && v[n - 1] == '\\') sg_buf_catc(b, ' ');
}

/* A -O value with {rule.ATTR} replaced by the rule's attribute (empty when
 * unset; {rule.tags}: its tags, comma-separated); other text as it is. */
static void fill_rule_attrs(SgBuf *out, const char *v, const SgRule *r) {
  for (const char *p = v; *p;) {
    const char *open = strstr(p, "{rule."), *close = open ? strchr(open, '}') : NULL;
    if (!close) {
      sg_buf_cat(out, p);
      return;
    }
    sg_buf_catn(out, p, (size_t)(open - p));
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(close - open - 6 < 63 ? close - open - 6 : 63), open + 6);
    if (!strcmp(name, "tags")) {
      for (size_t i = 0; i < r->tags.n; i++)
        sg_buf_catf(out, "%s%s", i ? "," : "", r->tags.v[i]);
    } else {
      const char *a = sg_rule_attr(r, name);
      if (a) sg_buf_cat(out, a);
    }
    p = close + 1;
  }
}

/* savedsearches: the -O stanza.KEY=VALUE lines for rule r (heap; NULL: none
 * or out of memory, in *oom). */
static char *stanza_lines(const SgConvCtx *c, const SgRule *r, bool *oom) {
  SgBuf out = {0};
  for (size_t i = 0; i < c->nopts; i++)
    if (!strncmp(c->opts[i].key, "stanza.", 7)) {
      SgBuf v = {0};
      fill_rule_attrs(&v, c->opts[i].value, r);
      sg_buf_catf(&out, "%s = ", c->opts[i].key + 7);
      conf_value(&out, sg_buf_cstr(&v));
      sg_buf_catc(&out, '\n');
      sg_buf_taint(&out, &v);
      sg_buf_free(&v);
    }
  if (out.oom) *oom = true, sg_buf_free(&out);
  return out.oom ? NULL : out.data;
}

/* Add a query of r; for savedsearches with its stanza lines. */
static SgStatus add_query(const SgConvCtx *c, SgQueries *out, const SgRule *r, size_t cond, const SgBuf *q) {
  if (q->oom) return SG_ERR_NOMEM;
  SgStatus st = sg_queries_add(out, r, cond, sg_buf_cstr((SgBuf *)q), q->len);
  if (st != SG_OK || strcmp(c->format, "savedsearches")) return st;
  bool oom = false;
  out->v[out->n - 1].stanza = stanza_lines(c, r, &oom);
  return oom ? SG_ERR_NOMEM : SG_OK;
}

static void conf_options(SgBuf *out, const SgConvCtx *c, const char *prefix) {
  size_t pl = strlen(prefix);
  for (size_t i = 0; i < c->nopts; i++)
    if (!strncmp(c->opts[i].key, prefix, pl)) {
      sg_buf_catf(out, "%s = ", c->opts[i].key + pl);
      conf_value(out, c->opts[i].value);
      sg_buf_catc(out, '\n');
    }
}

static int cmp_title(const void *a, const void *b) {
  const SgQuery *x = *(const SgQuery *const *)a, *y = *(const SgQuery *const *)b;
  int c = strcmp(x->title, y->title);
  return c ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

/* Stanza names must be unique: the k-th rule with a title gets " (k)".
 * Per rule serial, in O(n log n); NULL when out of memory (no counters). */
static size_t *title_counters(const SgQueries *q) {
  size_t *dups = calloc(q->rules + 1, sizeof *dups);
  const SgQuery **v = malloc((q->n + 1) * sizeof *v);
  size_t n = 0;
  if (!dups || !v) return free(dups), free(v), NULL;
  for (size_t i = 0; i < q->n; i++)
    if (q->v[i].cond == 0 && q->v[i].title) v[n++] = &q->v[i];
  qsort(v, n, sizeof *v, cmp_title);
  for (size_t i = 0; i < q->rules + 1; i++)
    dups[i] = 1;
  for (size_t i = 1; i < n; i++)
    if (!strcmp(v[i]->title, v[i - 1]->title)) dups[v[i]->rule] = dups[v[i - 1]->rule] + 1;
  free(v);
  return dups;
}

static void spl_finish(const SgConvCtx *c, const SgQueries *q, SgBuf *out) {
  if (!strcmp(c->format, "json")) {
    sg_tq_finish_json(q, out);
    return;
  }
  if (strcmp(c->format, "savedsearches")) {
    sg_tq_finish_text(c, q, out);
    return;
  }
  sg_buf_cat(out, "[default]\n");
  sg_buf_cat(out, "dispatch.earliest_time = ");
  conf_value(out, sg_conv_opt(c, "min_time", "-30d"));
  sg_buf_cat(out, "\ndispatch.latest_time = ");
  conf_value(out, sg_conv_opt(c, "max_time", "now"));
  sg_buf_catc(out, '\n');
  conf_options(out, c, "default.");
  size_t *dups = title_counters(q);
  if (!dups) out->oom = true; /* the stanza names could not be made unique */
  for (size_t i = 0; i < q->n; i++) {
    const SgQuery *r = &q->v[i];
    SgBuf name = {0};
    for (const char *p = r->title ? r->title : "untitled"; *p; p++)
      if (*p != '[' && *p != ']') sg_buf_catc(&name, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
    if (r->nconds > 1) sg_buf_catf(&name, " (condition %zu)", r->cond + 1);
    size_t dup = dups ? dups[r->rule] : 1;
    if (dup > 1) sg_buf_catf(&name, " (%zu)", dup);
    sg_buf_taint(out, &name);
    sg_buf_catf(out, "\n[%s]\n", sg_buf_cstr(&name));
    sg_buf_free(&name);
    if (r->stanza) sg_buf_cat(out, r->stanza);
    sg_buf_cat(out, "description = ");
    conf_value(out, r->description ? r->description : "");
    sg_buf_cat(out, "\nsearch = ");
    conf_value(out, q->v[i].text);
    sg_buf_catc(out, '\n');
  }
  free(dups);
}

static const SgFormat formats[] = {
    {"default", "plain SPL, one query per condition; keywords match terms (-O keywords=substring: \"*kw*\")",
     "keywords correlation_window", ".spl", NULL, NULL},
    {"savedsearches",
     "savedsearches.conf stanzas (-O min_time, max_time, default.KEY, stanza.KEY=...{rule.ATTR}...)",
     "keywords correlation_window min_time max_time default. stanza.", ".conf", NULL, NULL},
    {"data_model", "tstats over a CIM data model (needs -p splunk_cim)", "keywords", ".spl", "data_model_set",
     "splunk_cim"},
    {"json", "one JSON object per query: id, title, level, path, tags, logsource, condition, query",
     "keywords correlation_window", ".jsonl", NULL, NULL},
    {0},
};

const SgTarget sg_target_splunk = {
    .name = "splunk",
    .description = "Splunk SPL (search, | regex, | where, tstats)",
    .formats = formats,
    .check_options = spl_check_options,
    .convert = spl_convert,
    .finish = spl_finish,
};
