/* apply.c - rule-level transformations (log source, fields, added conditions,
 * state, attributes, failures) and sg_pipeline_apply, which runs every item
 * of every pipeline of a set over a copy of the rule. */
#define _POSIX_C_SOURCE 200809L
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline.h"

/* ==== Applying: rule-level transformations =========================================== */

/* The targets of field `f` under a field-name item, or NULL when unchanged. */
static size_t field_targets(Ctx *c, const PItem *it, const char *f, const SgYNode **to, const char **rest) {
  *to = NULL;
  *rest = NULL;
  if (it->t == T_FIELD_MAP)
    *to = sg_ymap_get(it->p.map.mapping, f);
  else if (it->t == T_PREFIX_MAP && !(*rest = sg_pl_prefix_mapped(c, it, f, to)))
    *to = NULL;
  return *to && (*to)->kind == SG_Y_SEQ ? (*to)->n : 1;
}

static struct FieldIds *field_ids(Ctx *c, const char *name) {
  for (size_t i = c->nfield_ids; i-- > 0;)
    if (!strcmp(c->field_ids[i].name, name)) return &c->field_ids[i];
  return NULL;
}

/* `to` was made from `from` by item `id`: it carries from's ids and id
 * (pySigma's track_field_processing_items). */
static void track(Ctx *c, const char *from, const char *to, const char *id) {
  const struct FieldIds *src = field_ids(c, from);
  size_t n = (src ? src->n : 0) + (id != NULL);
  const char **ids = sg_arena_alloc(c->a, (n + 1) * sizeof *ids);
  if (!ids) {
    c->oom = true;
    return;
  }
  if (src && src->n) memcpy(ids, src->ids, src->n * sizeof *ids); /* before the push moves src */
  if (id) ids[n - 1] = id;
  struct FieldIds *slot = SG_PUSH(c->a, c->field_ids, c->nfield_ids, c->capfield_ids);
  if (!slot) {
    c->oom = true;
    return;
  }
  *slot = (struct FieldIds){to, ids, n};
}

/* Do the item's field-name conditions (its own and its nests') hold for a
 * name of `fields:`? Seen as a detection item of that field that the items
 * which made the name were applied to. */
static bool field_applies(Ctx *c, const PItem *it, const char *f) {
  const struct FieldIds *ids = field_ids(c, f);
  SgNode n = {.kind = SG_N_MATCH};
  n.m.field = f;
  n.m.applied = ids ? ids->ids : NULL;
  n.m.napplied = ids ? (uint32_t)ids->n : 0;
  for (size_t i = 0; i < c->nouter; i++)
    if (!sg_pl_eval_set(c, &c->outer[i]->field_c, &n)) return false;
  return sg_pl_eval_set(c, &it->field_c, &n);
}

/* Field names in `fields:` or correlation lists, through a field-name item. */
static void list_map(Ctx *c, SgStrList *l, const PItem *it) {
  size_t total = 0;
  for (size_t i = 0; i < l->n; i++) {
    const SgYNode *to;
    const char *rest;
    total += field_applies(c, it, l->v[i]) ? field_targets(c, it, l->v[i], &to, &rest) : 1;
  }
  SgStrList out = {0};
  out.v = sg_arena_alloc(c->a, (total + 1) * sizeof *out.v);
  out.locs = sg_arena_alloc(c->a, (total + 1) * sizeof *out.locs);
  out.from = sg_arena_alloc(c->a, (total + 1) * sizeof *out.from);
  if (!out.v || !out.locs || !out.from) {
    c->oom = true;
    return;
  }
  for (size_t i = 0; i < l->n; i++) {
    const char *f = l->v[i], *rest = NULL;
    const SgYNode *to = NULL;
    bool applies = field_applies(c, it, f);
    size_t count = applies ? field_targets(c, it, f, &to, &rest) : 1;
    for (size_t k = 0; k < count; k++) {
      const char *name = f;
      if (!applies) {
        /* unchanged */
      } else if (to) {
        const SgYNode *x = to->kind == SG_Y_SEQ ? to->items[k] : to;
        name = rest ? sg_arena_printf(c->a, "%s%s", x->text, rest) : x->text;
      } else if (it->t == T_FIELD_PREFIX) {
        name = sg_arena_printf(c->a, "%s%s", it->p.affix.text, f);
      } else if (it->t == T_FIELD_SUFFIX) {
        name = sg_arena_printf(c->a, "%s%s", f, it->p.affix.text);
      }
      if (!name) {
        c->oom = true;
        return;
      }
      if (name != f) track(c, f, name, it->id);
      out.locs[out.n] = l->locs ? l->locs[i] : (SgLoc){0};
      out.from[out.n] = l->from && l->from[i] ? l->from[i] : name != f ? f : NULL;
      out.v[out.n++] = name;
    }
  }
  *l = out;
}

static void fields_edit(Ctx *c, const PItem *it) {
  SgStrList *f = &c->r->fields;
  if (it->t == T_SET_FIELD) {
    *f = it->p.fields.names;
    return;
  }
  SgStrList out = {0};
  out.v = sg_arena_alloc(c->a, (f->n + it->p.fields.names.n + 1) * sizeof *out.v);
  out.locs = sg_arena_alloc(c->a, (f->n + it->p.fields.names.n + 1) * sizeof *out.locs);
  out.from = sg_arena_alloc(c->a, (f->n + it->p.fields.names.n + 1) * sizeof *out.from);
  if (!out.v || !out.locs || !out.from) {
    c->oom = true;
    return;
  }
  for (size_t i = 0; i < f->n; i++) {
    bool removed = false;
    for (size_t k = 0; it->t == T_REMOVE_FIELD && k < it->p.fields.names.n; k++)
      removed |= !strcmp(it->p.fields.names.v[k], f->v[i]);
    if (removed) continue;
    out.locs[out.n] = f->locs ? f->locs[i] : (SgLoc){0};
    out.from[out.n] = f->from ? f->from[i] : NULL;
    out.v[out.n++] = f->v[i];
  }
  for (size_t k = 0; it->t == T_ADD_FIELD && k < it->p.fields.names.n; k++) {
    bool have = false;
    for (size_t i = 0; i < out.n; i++)
      have |= !strcmp(out.v[i], it->p.fields.names.v[k]);
    if (!have) {
      out.locs[out.n] = it->p.fields.names.locs[k];
      out.v[out.n++] = it->p.fields.names.v[k];
    }
  }
  *f = out;
}

static bool id_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* $category / $product / $service (or ${...}) in add_condition values
 * (template: true), as Python's string.Template.safe_substitute: $$ is $,
 * another name stays as written. A placeholder the rule's logsource leaves
 * unset becomes empty with warning W063 (pySigma writes "None"). */
static const SgYNode *templated(Ctx *c, const SgYNode *n) {
  if (n->kind == SG_Y_SCALAR) {
    if (!strchr(n->text, '$')) return n;
    SgBuf b = {0};
    static const char *const names[] = {"category", "product", "service"};
    const char *vals[] = {c->r->logsource.category, c->r->logsource.product, c->r->logsource.service};
    for (const char *p = n->text; *p; p++) {
      bool done = false;
      if (p[0] == '$' && p[1] == '$') {
        sg_buf_catc(&b, '$');
        p++;
        continue;
      }
      for (int k = 0; k < 3 && !done && *p == '$'; k++) {
        size_t l = strlen(names[k]);
        bool braced = p[1] == '{';
        const char *name = p + 1 + braced;
        if (strncmp(name, names[k], l) || (braced ? name[l] != '}' : id_char(name[l]))) continue;
        if (!vals[k])
          sg_diag(c->d, SG_D_PIPELINE_UNSET, n->loc,
                  "add_condition: the rule's logsource has no %s; $%s is empty (pySigma writes None)",
                  names[k], names[k]);
        sg_buf_cat(&b, vals[k] ? vals[k] : "");
        p = name + l - !braced;
        done = true;
      }
      if (!done) sg_buf_catc(&b, *p);
    }
    SgYNode *x = sg_arena_alloc(c->a, sizeof *x);
    if (!x) return c->oom = true, n;
    *x = *n;
    x->text = sg_pl_buf_dup(c->a, &b);
    x->len = b.len;
    x->type = SG_YT_STR;
    sg_buf_free(&b);
    if (!x->text) return c->oom = true, n;
    return x;
  }
  SgYNode *x = sg_arena_alloc(c->a, sizeof *x);
  if (!x) return c->oom = true, n;
  *x = *n;
  x->items = sg_arena_alloc(c->a, (n->n + 1) * sizeof *x->items);
  if (!x->items) return c->oom = true, n;
  for (size_t i = 0; i < n->n; i++)
    x->items[i] = (SgYNode *)templated(c, n->items[i]);
  return x;
}

static void add_condition(Ctx *c, const PItem *it) {
  const SgYNode *conds =
      it->p.add_cond.templated ? templated(c, it->p.add_cond.conditions) : it->p.add_cond.conditions;
  bool failed = false;
  SgNode *added = sg_search_build(c->a, conds, c->d, &failed);
  if (failed || !added) {
    c->failed = true;
    return;
  }
  sg_pl_mark(c, added, it->id);
  for (size_t i = 0; i < c->r->nconds; i++) {
    SgCondition *cd = &c->r->conds[i];
    if (!cd->root) continue;
    SgNode *cl = sg_node_clone(c->a, added);
    SgNode *and = sg_node_new(c->a, SG_N_AND, cd->root->loc);
    if (!cl || !and) {
      c->oom = true;
      return;
    }
    if (it->p.add_cond.negated) {
      SgNode *not = sg_node_new(c->a, SG_N_NOT, cl->loc);
      if (!not || sg_node_add(c->a, not, cl)) {
        c->oom = true;
        return;
      }
      cl = not ;
    }
    if (sg_node_join(c->a, and, cl) || sg_node_join(c->a, and, cd->root)) {
      c->oom = true;
      return;
    }
    cd->root = and;
  }
}

static void set_kv(Ctx *c, SgKV **kv, size_t *n, size_t *cap, const char *key, const SgYNode *val) {
  SgKV *slot = SG_PUSH(c->a, *kv, *n, *cap);
  if (!slot) {
    c->oom = true;
    return;
  }
  *slot = (SgKV){key, val};
}

static void strict_check(Ctx *c, const SgNode *n) {
  if (n->kind == SG_N_MATCH) {
    if (n->m.field && !n->m.mapped) {
      sg_diag(c->d, SG_D_PIPELINE_FAIL, n->loc, "field '%s' is not mapped by the pipeline", n->m.field);
      c->failed = true;
    }
    return;
  }
  for (uint32_t i = 0; i < n->nkids; i++)
    strict_check(c, n->kids[i]);
}

static void corr_map(Ctx *c, const PItem *it) {
  SgCorrelation *k = c->r->corr;
  if (!k ||
      (it->t != T_FIELD_MAP && it->t != T_PREFIX_MAP && it->t != T_FIELD_PREFIX && it->t != T_FIELD_SUFFIX))
    return;
  SgCorrelation *copy = sg_arena_alloc(c->a, sizeof *copy);
  if (!copy) {
    c->oom = true;
    return;
  }
  *copy = *k;
  list_map(c, &copy->group_by, it);
  list_map(c, &copy->fields, it);
  c->r->corr = copy;
}

static void apply_item(Ctx *c, const PItem *it);

static void mark_rule(Ctx *c, const char *id) {
  if (!id || sg_pl_has_id(c->applied, c->napplied, id)) return;
  const char **slot = SG_PUSH(c->a, c->applied, c->napplied, c->capplied);
  if (!slot) {
    c->oom = true;
    return;
  }
  *slot = id;
}

static void apply_item(Ctx *c, const PItem *it) {
  if (!sg_pl_eval_set(c, &it->rule_c, NULL)) return;
  switch (it->t) {
  case T_ADD_COND: add_condition(c, it); break;
  case T_CHANGE_LS:
    c->r->logsource.category = it->p.logsource.category;
    c->r->logsource.product = it->p.logsource.product;
    c->r->logsource.service = it->p.logsource.service;
    break;
  case T_ADD_FIELD:
  case T_REMOVE_FIELD:
  case T_SET_FIELD: fields_edit(c, it); break;
  case T_SET_STATE:
    set_kv(c, &c->state->kv, &c->state->n, &c->state->cap, it->p.kv.key, it->p.kv.value);
    break;
  case T_SET_ATTR: {
    size_t cap = c->r->ncustom;
    SgKV *copy = sg_arena_alloc(c->a, (cap + 1) * sizeof *copy);
    if (!copy) {
      c->oom = true;
      return;
    }
    if (cap) memcpy(copy, c->r->custom, cap * sizeof *copy);
    c->r->custom = copy;
    c->r->custom[c->r->ncustom++] = (SgKV){it->p.kv.key, it->p.kv.value};
    break;
  }
  case T_RULE_FAIL:
    sg_diag(c->d, SG_D_PIPELINE_FAIL, c->r->loc, "%s", it->p.failure.message);
    c->failed = true;
    break;
  case T_STRICT:
    for (size_t i = 0; i < c->r->nconds; i++)
      if (c->r->conds[i].root) strict_check(c, c->r->conds[i].root);
    break;
  case T_NEST:
    if (c->nouter == sizeof c->outer / sizeof *c->outer) {
      sg_diag(c->d, SG_D_PIPELINE, it->loc, "nest items are nested too deeply");
      c->failed = true;
      break;
    }
    c->outer[c->nouter++] = it;
    for (size_t i = 0; i < it->p.nest.n; i++)
      apply_item(c, &it->p.nest.items[i]);
    c->nouter--;
    break;
  default:
    for (size_t i = 0; i < c->r->nconds; i++) {
      SgCondition *cd = &c->r->conds[i];
      if (!cd->root) continue;
      cd->root = sg_pl_walk(c, it, cd->root);
      if (!cd->root) {
        sg_diag(c->d, SG_D_PIPELINE_FAIL, cd->loc,
                "the pipeline removed every detection item of this condition");
        c->failed = true;
      }
    }
    if (it->t == T_FIELD_MAP || it->t == T_PREFIX_MAP || it->t == T_FIELD_PREFIX || it->t == T_FIELD_SUFFIX) {
      list_map(c, &c->r->fields, it);
      corr_map(c, it);
    }
    break;
  }
  mark_rule(c, it->id);
}

SgStatus sg_pipeline_apply(SgArena *a, const SgPipelineSet *set, const SgRule *in, SgRule **out,
                           SgPipelineState *state, SgDiags *d) {
  SgRule *r = sg_arena_alloc(a, sizeof *r);
  if (!r) return SG_ERR_NOMEM;
  *r = *in;
  r->conds = sg_arena_alloc(a, (in->nconds + 1) * sizeof *r->conds);
  if (!r->conds) return SG_ERR_NOMEM;
  for (size_t i = 0; i < in->nconds; i++) {
    r->conds[i] = in->conds[i];
    if (in->conds[i].root && !(r->conds[i].root = sg_node_clone(a, in->conds[i].root))) return SG_ERR_NOMEM;
  }
  *out = r;
  Ctx c = {.a = a, .d = d, .r = r, .state = state};
  for (size_t p = 0; p < set->n && !c.oom; p++) {
    c.p = set->v[p];
    for (size_t i = 0; i < set->v[p]->nitems && !c.oom; i++)
      apply_item(&c, &set->v[p]->items[i]);
  }
  if (c.oom || a->failed) return SG_ERR_NOMEM;
  if (c.failed) r->failed = true;
  return c.failed ? SG_ERR_UNSUPPORTED : SG_OK;
}
