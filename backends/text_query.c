/* text_query.c - helpers shared by the SPL and AQL targets. */
#include "text_query.h"

#include <string.h>

bool sg_tq_is_in_list(const SgNode *n, bool (*ok)(const SgNode *kid, void *arg), void *arg) {
  if (n->kind != SG_N_OR || n->nkids < 2 || (n->flags & SG_NF_EXPANSION)) return false;
  const char *field = NULL;
  for (uint32_t i = 0; i < n->nkids; i++) {
    const SgNode *k = n->kids[i];
    if (k->kind != SG_N_MATCH || k->m.op != SG_OP_EQ || !k->m.field || k->m.tspart) return false;
    if (k->m.v.kind != SG_V_STR && k->m.v.kind != SG_V_NUM) return false;
    if (field && strcmp(field, k->m.field)) return false;
    field = k->m.field;
    if (ok && !ok(k, arg)) return false;
  }
  return true;
}

void sg_tq_str_regex(SgBuf *out, const SgStr *s, bool anchored) {
  if (anchored) sg_buf_catc(out, '^');
  for (uint32_t i = 0; i < s->nparts; i++) {
    const SgPart *p = &s->parts[i];
    switch (p->kind) {
    case SG_PART_STAR: sg_buf_cat(out, ".*"); break;
    case SG_PART_QMARK: sg_buf_catc(out, '.'); break;
    case SG_PART_PLACEHOLDER: break;
    case SG_PART_LIT:
      for (size_t j = 0; j < p->n; j++) {
        unsigned char c = (unsigned char)p->s[j];
        if (strchr("\\^$.|?*+()[]{}", c) && c) {
          sg_buf_catc(out, '\\');
          sg_buf_catc(out, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
          sg_buf_catf(out, "\\x%02X", c);
        } else {
          sg_buf_catc(out, (char)c);
        }
      }
      break;
    }
  }
  if (anchored) sg_buf_cat(out, "\\z"); /* end of the value: `$` also matches before a final line break */
}

bool sg_tq_str_has_literal(const SgStr *s, char c) {
  for (uint32_t i = 0; i < s->nparts; i++)
    if (s->parts[i].kind == SG_PART_LIT && memchr(s->parts[i].s, c, s->parts[i].n)) return true;
  return false;
}

bool sg_tq_str_has_kind(const SgStr *s, SgPartKind k) {
  for (uint32_t i = 0; i < s->nparts; i++)
    if (s->parts[i].kind == k) return true;
  return false;
}

size_t sg_tq_conjuncts(const SgNode *root, const SgNode **one, const SgNode *const **v) {
  if (root->kind == SG_N_AND) {
    *v = (const SgNode *const *)root->kids;
    return root->nkids;
  }
  *one = root;
  *v = one;
  return 1;
}

static void json_field(SgBuf *out, const char *key, const char *val, bool comma) {
  sg_buf_catf(out, "%s\"%s\":", comma ? "," : "", key);
  sg_json_str_or_null(out, val);
}

void sg_tq_finish_text(const SgConvCtx *c, const SgQueries *q, SgBuf *out) {
  for (size_t i = 0; i < q->n; i++) {
    if (i) sg_buf_catc(out, '\n');
    if (c->header && q->v[i].cond == 0) {
      sg_buf_cat(out, q->v[i].header);
      sg_buf_catc(out, '\n');
    }
    sg_buf_cat(out, q->v[i].text);
    sg_buf_catc(out, '\n');
  }
}

void sg_tq_finish_json(const SgQueries *q, SgBuf *out) {
  for (size_t i = 0; i < q->n; i++) {
    const SgQuery *r = &q->v[i];
    sg_buf_catc(out, '{');
    json_field(out, "id", r->id, false);
    json_field(out, "title", r->title, true);
    json_field(out, "level", r->level, true);
    sg_buf_catf(out, ",%s,\"condition\":%zu", r->meta, q->v[i].cond);
    json_field(out, "query", q->v[i].text, true);
    sg_buf_cat(out, "}\n");
  }
}

SgStatus sg_tq_unsupported(SgDiags *d, const SgNode *n, const char *target, const char *what) {
  sg_diag(d, SG_D_UNSUPPORTED, n->loc, "%s cannot express %s", target, what);
  return SG_ERR_UNSUPPORTED;
}

bool sg_tq_plain_name(const char *f) {
  if (!*f) return false;
  for (const char *p = f; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '.'))
      return false;
  return true;
}

void sg_tq_escaped(SgBuf *b, const char *s, size_t n, const char *esc) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\\' || strchr(esc, s[i])) sg_buf_catc(b, '\\');
    sg_buf_catc(b, s[i]);
  }
}

void sg_tq_span(SgBuf *out, const SgRule *r) {
  const char *t = r->corr->timespan;
  size_t tl = strlen(t);
  if (tl && t[tl - 1] == 'M') /* Splunk's month is "mon"; "M" is not a unit */
    sg_buf_catf(out, "%.*smon", (int)(tl - 1), t);
  else
    sg_buf_cat(out, t);
}

void sg_tq_bin_time(SgBuf *q, const SgRule *r, const char *target, SgDiags *d) {
  sg_buf_cat(q, "\n| bin _time span=");
  size_t at = q->len;
  sg_tq_span(q, r);
  sg_diag(d, SG_D_LOSSY, r->loc,
          "%s target: `| bin _time span=%s` counts in fixed time buckets, not a sliding window: events that "
          "straddle a bucket boundary are not correlated",
          target, q->oom ? "" : q->data + at);
}

const char *sg_tq_re_flags(unsigned f, char buf[4]) {
  size_t k = 0;
  if (f & SG_RE_I) buf[k++] = 'i';
  if (f & SG_RE_M) buf[k++] = 'm';
  if (f & SG_RE_S) buf[k++] = 's';
  buf[k] = '\0';
  return buf;
}

bool sg_tq_str_has_letters(const SgStr *s) {
  for (uint32_t i = 0; i < s->nparts; i++)
    for (size_t j = 0; s->parts[i].kind == SG_PART_LIT && j < s->parts[i].n; j++) {
      unsigned char c = (unsigned char)s->parts[i].s[j];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80) return true;
    }
  return false;
}

SgStatus sg_tq_check_placeholders(SgDiags *d, const SgNode *n) {
  if (n->kind == SG_N_MATCH) {
    const SgPart *p = sg_tq_placeholder(&n->m.v);
    return p ? sg_placeholder_error(d, n->loc, p) : SG_OK;
  }
  for (uint32_t i = 0; i < n->nkids; i++)
    if (sg_tq_check_placeholders(d, n->kids[i])) return SG_ERR_UNSUPPORTED;
  return SG_OK;
}

const SgPart *sg_tq_placeholder(const SgValue *v) {
  if (v->kind != SG_V_STR) return NULL;
  for (uint32_t i = 0; i < v->str.nparts; i++)
    if (v->str.parts[i].kind == SG_PART_PLACEHOLDER) return &v->str.parts[i];
  return NULL;
}

SgStatus sg_check_options(const SgConvCtx *c, const char *target, const char *known, SgDiags *d) {
  SgStatus st = SG_OK;
  for (size_t i = 0; i < c->nopts; i++) {
    const char *k = c->opts[i].key;
    size_t kl = strlen(k);
    bool ok = false;
    for (const char *p = known; *p && !ok;) {
      const char *e = strchr(p, ' ');
      size_t n = e ? (size_t)(e - p) : strlen(p);
      /* "prefix." in `known` accepts any key with that prefix */
      ok = (n == kl && !strncmp(p, k, n)) || (n && p[n - 1] == '.' && kl > n && !strncmp(p, k, n));
      p = e ? e + 1 : p + n;
    }
    if (!ok) {
      sg_diag(d, SG_D_USAGE, (SgLoc){0}, "-O: target %s (format %s) has no option '%s'; known: %s", target,
              c->format, k, *known ? known : "none");
      st = SG_ERR_USAGE;
    }
  }
  return st;
}

void sg_tq_corr_conds(SgBuf *b, const SgCorrelation *k, const char *neq, const char *sep) {
  static const char *const ops[][2] = {{"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="}, {"eq", "="}};
  for (size_t i = 0; i < k->nconds; i++) {
    const char *op = neq;
    for (size_t j = 0; j < sizeof ops / sizeof *ops; j++)
      if (!strcmp(ops[j][0], k->conds[i].op)) op = ops[j][1];
    sg_buf_catf(b, "%s%s %s %s", i ? sep : "", sg_corr_aggregate_name(k->type), op, k->conds[i].value.text);
  }
}

/* ---- Names and framing ------------------------------------------------------------ */

static const char *control_char(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return s;
  return NULL;
}

static void check_name(SgDiags *d, SgLoc loc, const char *what, const char *name, const char *target,
                       SgStatus *st) {
  const char *c = name ? control_char(name) : NULL;
  if (!c) return;
  sg_diag(d, SG_D_UNSUPPORTED, loc,
          "%s '%.*s...' contains the control character U+%04X, which %s cannot write in a name", what,
          (int)(c - name), name, (unsigned char)*c, target);
  *st = SG_ERR_UNSUPPORTED;
}

static void check_list(SgDiags *d, SgLoc loc, const char *what, const SgStrList *l, const char *target,
                       SgStatus *st) {
  for (size_t i = 0; i < l->n; i++)
    check_name(d, l->locs ? l->locs[i] : loc, what, l->v[i], target, st);
}

static void check_node(SgDiags *d, const SgNode *n, const char *target, SgStatus *st) {
  for (uint32_t i = 0; i < n->nkids; i++)
    check_node(d, n->kids[i], target, st);
  if (n->kind != SG_N_MATCH) return;
  const SgMatch *m = &n->m;
  check_name(d, n->loc, "field name", m->field, target, st);
  if (m->v.kind == SG_V_FIELD) check_name(d, n->loc, "field name", m->v.str.parts[0].s, target, st);
  if (m->v.kind == SG_V_RE &&
      (memchr(m->v.re.pat, '\n', m->v.re.len) || memchr(m->v.re.pat, '\r', m->v.re.len))) {
    sg_diag(d, SG_D_UNSUPPORTED, n->loc,
            "the regular expression contains a raw line break, which %s cannot write inside one query line; "
            "write it as \\n or \\r",
            target);
    *st = SG_ERR_UNSUPPORTED;
  }
}

SgStatus sg_tq_check_names(const SgRule *r, const char *target, SgDiags *d) {
  SgStatus st = SG_OK;
  for (size_t i = 0; i < r->nconds; i++)
    if (r->conds[i].root) check_node(d, r->conds[i].root, target, &st);
  check_list(d, r->loc, "field", &r->fields, target, &st);
  const SgCorrelation *k = r->corr;
  if (k) {
    check_list(d, r->loc, "rule name", &k->rules, target, &st);
    check_list(d, r->loc, "group-by field", &k->group_by, target, &st);
    check_list(d, r->loc, "condition field", &k->fields, target, &st);
    for (size_t i = 0; i < k->naliases; i++) {
      check_name(d, r->loc, "alias", k->aliases[i].name, target, &st);
      for (size_t j = 0; j < k->aliases[i].n; j++)
        if (k->aliases[i].map[j].val->kind == SG_Y_SCALAR)
          check_name(d, k->aliases[i].map[j].val->loc, "alias field", k->aliases[i].map[j].val->text, target,
                     &st);
    }
  }
  return st;
}

bool sg_tq_str_has_break(const SgStr *s) {
  return sg_tq_str_has_literal(s, '\n') || sg_tq_str_has_literal(s, '\r');
}
