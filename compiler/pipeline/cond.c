/* cond.c - the conditions of processing items: rule conditions, detection-item
 * conditions and field-name conditions, combined by _cond_op/_cond_not/_cond_expr. */
#define _POSIX_C_SOURCE 200809L
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline.h"

/* A string value as pySigma's str() writes it: wildcards as * and ?, a
 * literal * or ? escaped with a backslash (nothing else escaped), a
 * placeholder as %name%. */
static void plain_text(SgBuf *b, const SgStr *s) {
  for (uint32_t i = 0; i < s->nparts; i++) {
    const SgPart *p = &s->parts[i];
    if (p->kind == SG_PART_STAR)
      sg_buf_catc(b, '*');
    else if (p->kind == SG_PART_QMARK)
      sg_buf_catc(b, '?');
    else if (p->kind == SG_PART_PLACEHOLDER)
      sg_buf_catf(b, "%%%.*s%%", (int)p->n, p->s);
    else
      for (size_t j = 0; j < p->n; j++) {
        if (p->s[j] == '*' || p->s[j] == '?') sg_buf_catc(b, '\\');
        sg_buf_catc(b, p->s[j]);
      }
  }
}

/* ==== Applying: conditions ======================================================== */

static bool value_text_eq(const SgValue *v, const SgYNode *want) {
  if (!want || want->kind != SG_Y_SCALAR) return false;
  switch (v->kind) {
  case SG_V_STR:
    return v->str.nparts == 1 && v->str.parts[0].kind == SG_PART_LIT && v->str.parts[0].n == want->len &&
           !memcmp(v->str.parts[0].s, want->text, want->len);
  case SG_V_NUM: {
    SgNum n;
    return sg_num_parse(want->text, want->len, &n) && n.d == v->num.d;
  }
  case SG_V_BOOL: return want->type == SG_YT_BOOL && want->bval == v->b;
  case SG_V_NULL: return want->type == SG_YT_NULL;
  default: return false;
  }
}

static bool tree_has(const SgNode *n, const char *field, const SgYNode *value) {
  if (n->kind == SG_N_MATCH)
    return n->m.field && !strcmp(n->m.field, field) && (!value || value_text_eq(&n->m.v, value));
  for (uint32_t i = 0; i < n->nkids; i++)
    if (tree_has(n->kids[i], field, value)) return true;
  return false;
}

static int ordinal(const char *attr, const char *v) {
  static const char *const levels[] = {"informational", "low", "medium", "high", "critical", NULL};
  static const char *const statuses[] = {"unsupported", "deprecated", "experimental", "test", "stable", NULL};
  const char *const *set = !strcmp(attr, "level") ? levels : !strcmp(attr, "status") ? statuses : NULL;
  for (int i = 0; set && set[i]; i++)
    if (!sg_ascii_casecmp(set[i], v)) return i;
  return -1;
}

static bool compare(const char *attr, const char *have, const char *op, const SgYNode *want) {
  if (!want) return false;
  if (!have) return op && (!strcmp(op, "ne") || !strcmp(op, "not_in"));
  if (op && (!strcmp(op, "in") || !strcmp(op, "not_in"))) {
    bool in = false;
    for (size_t i = 0; want->kind == SG_Y_SEQ && i < want->n; i++)
      in |= !strcmp(want->items[i]->text, have);
    if (want->kind == SG_Y_SCALAR) in = !strcmp(want->text, have);
    return !strcmp(op, "in") ? in : !in;
  }
  if (want->kind != SG_Y_SCALAR) return false;
  int c, oh = ordinal(attr, have), ow = ordinal(attr, want->text);
  if (oh >= 0 && ow >= 0)
    c = oh - ow;
  else
    c = strcmp(have, want->text);
  if (!op || !strcmp(op, "eq")) return c == 0;
  if (!strcmp(op, "ne")) return c != 0;
  if (!strcmp(op, "gte")) return c >= 0;
  if (!strcmp(op, "gt")) return c > 0;
  if (!strcmp(op, "lte")) return c <= 0;
  return c < 0; /* lt */
}

const char *sg_rule_attr(const SgRule *r, const char *attr) {
  static const char *const names[] = {"title",  "id",   "name",     "status",  "level",   "description",
                                      "author", "date", "modified", "license", "taxonomy"};
  const char *vals[] = {r->title,  r->id,   r->name,     r->status,  r->level,   r->description,
                        r->author, r->date, r->modified, r->license, r->taxonomy};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(names[i], attr)) return vals[i];
  for (size_t i = r->ncustom; i-- > 0;)
    if (!strcmp(r->custom[i].key, attr) && r->custom[i].val->kind == SG_Y_SCALAR)
      return r->custom[i].val->text;
  return NULL;
}

/* A condition attribute that is unset, or equal (first byte first: most
 * logsource conditions of a pipeline do not apply). */
static bool same_or_unset(const char *want, const char *have) {
  return !want || (have && want[0] == have[0] && !strcmp(want, have));
}

static bool eval_cond(Ctx *c, const PCond *pc, const SgNode *n) {
  const SgRule *r = c->r;
  switch (pc->t) {
  case PC_LOGSOURCE:
    if (r->kind == SG_DOC_CORRELATION) return false;
    return same_or_unset(pc->category, r->logsource.category) &&
           same_or_unset(pc->product, r->logsource.product) &&
           same_or_unset(pc->service, r->logsource.service);
  case PC_CONTAINS_ITEM:
  case PC_CONTAINS_FIELD:
    for (size_t i = 0; i < r->nconds; i++)
      if (r->conds[i].root &&
          tree_has(r->conds[i].root, pc->field, pc->t == PC_CONTAINS_ITEM ? pc->value : NULL))
        return true;
    return false;
  case PC_IS_RULE: return r->kind == SG_DOC_RULE;
  case PC_IS_CORR: return r->kind == SG_DOC_CORRELATION;
  case PC_RULE_ATTR: return compare(pc->attribute, sg_rule_attr(r, pc->attribute), pc->op, pc->value);
  case PC_TAG:
    for (size_t i = 0; i < r->tags.n; i++)
      if (!sg_ascii_casecmp(r->tags.v[i], pc->tag)) return true;
    return false;
  case PC_APPLIED:
    return n && n->kind == SG_N_MATCH ? sg_pl_has_id(n->m.applied, n->m.napplied, pc->id)
                                      : sg_pl_has_id(c->applied, c->napplied, pc->id);
  case PC_STATE: {
    const SgYNode *v = sg_state_get(c->state, pc->key);
    return compare(pc->key, v && v->kind == SG_Y_SCALAR ? v->text : NULL, pc->op, pc->value);
  }
  case PC_MATCH_STRING: { /* pySigma: re.match(str(value)), anchored at the start */
    if (!n || n->m.v.kind != SG_V_STR) return pc->negate;
    SgBuf text = {0};
    plain_text(&text, &n->m.v.str);
    if (text.oom) return c->oom = true, false;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(pc->re, NULL);
    int rc =
        md ? pcre2_match(pc->re, (PCRE2_SPTR)sg_buf_cstr(&text), text.len, 0, PCRE2_ANCHORED, md, NULL) : -1;
    pcre2_match_data_free(md);
    sg_buf_free(&text);
    if (!md) return c->oom = true, false;
    return (rc >= 0) != pc->negate;
  }
  case PC_MATCH_VALUE: return n && value_text_eq(&n->m.v, pc->value);
  case PC_CONTAINS_WILDCARD: return n && n->m.v.kind == SG_V_STR && sg_str_has_wildcard(&n->m.v.str);
  case PC_IS_NULL: return n && n->m.v.kind == SG_V_NULL;
  case PC_INCLUDE_FIELDS:
  case PC_EXCLUDE_FIELDS: {
    const char *f = n ? n->m.field : NULL;
    bool in = false;
    for (size_t i = 0; f && i < pc->fields.n && !in; i++) {
      if (pc->field_res) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(pc->field_res[i], NULL);
        in = md && pcre2_match(pc->field_res[i], (PCRE2_SPTR)f, strlen(f), 0, 0, md, NULL) >= 0;
        pcre2_match_data_free(md);
      } else {
        in = !strcmp(pc->fields.v[i], f);
      }
    }
    return pc->t == PC_INCLUDE_FIELDS ? in : !in;
  }
  }
  return false;
}

static bool eval_expr(Ctx *c, const CondSet *cs, const SgCondExpr *e, const SgNode *n) {
  switch (e->kind) {
  case SG_C_AND:
    for (uint32_t i = 0; i < e->n; i++)
      if (!eval_expr(c, cs, e->kids[i], n)) return false;
    return true;
  case SG_C_OR:
    for (uint32_t i = 0; i < e->n; i++)
      if (eval_expr(c, cs, e->kids[i], n)) return true;
    return false;
  case SG_C_NOT: return !eval_expr(c, cs, e->kids[0], n);
  case SG_C_ID:
    for (size_t i = 0; i < cs->n; i++)
      if (cs->v[i].name && !strcmp(cs->v[i].name, e->name)) return eval_cond(c, &cs->v[i], n);
    return false;
  case SG_C_ONE_OF:
  case SG_C_ALL_OF: {
    bool all = e->kind == SG_C_ALL_OF;
    for (size_t i = 0; i < cs->n; i++) {
      if (!e->them && !(cs->v[i].name && sg_glob_match(e->name, cs->v[i].name))) continue;
      bool r = eval_cond(c, &cs->v[i], n);
      if (all && !r) return false;
      if (!all && r) return true;
    }
    return all;
  }
  }
  return false;
}

bool sg_pl_eval_set(Ctx *c, const CondSet *cs, const SgNode *n) {
  if (!cs->n) return true;
  bool r;
  if (cs->expr) {
    r = eval_expr(c, cs, cs->expr, n);
  } else {
    r = !cs->or_op;
    for (size_t i = 0; i < cs->n; i++) {
      bool x = eval_cond(c, &cs->v[i], n);
      r = cs->or_op ? (r || x) : (r && x);
    }
  }
  return r != cs->negate;
}

/* Detection item and field name conditions of the item and of every
 * enclosing nest item. */
bool sg_pl_node_conds(Ctx *c, const PItem *it, const SgNode *n) {
  for (size_t i = 0; i < c->nouter; i++)
    if (!sg_pl_eval_set(c, &c->outer[i]->item_c, n) || !sg_pl_eval_set(c, &c->outer[i]->field_c, n))
      return false;
  return sg_pl_eval_set(c, &it->item_c, n) && sg_pl_eval_set(c, &it->field_c, n);
}

/* Whether an item of `set` is conditioned on the log source `ls` names (its
 * category or service, under its product or none): the log sources the
 * pipelines know how to find in `product`'s events. */
bool sg_pipeline_knows_logsource(const SgPipelineSet *set, const char *product, const SgLogsource *ls) {
  for (size_t p = 0; p < set->n; p++)
    for (size_t i = 0; i < set->v[p]->nitems; i++) {
      const CondSet *cs = &set->v[p]->items[i].rule_c;
      for (size_t k = 0; k < cs->n; k++) {
        const PCond *c = &cs->v[k];
        if (c->t != PC_LOGSOURCE || c->negate || (c->product && sg_ascii_casecmp(c->product, product)))
          continue;
        bool cat = !ls->category || (c->category && !sg_ascii_casecmp(c->category, ls->category));
        bool svc = !ls->service || (c->service && !sg_ascii_casecmp(c->service, ls->service));
        if (cat && svc && (c->category || c->service)) return true;
      }
    }
  return false;
}
