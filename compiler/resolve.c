/* resolve.c - condition expression + searches -> one boolean SgNode tree per
 * condition; plus the node helpers every stage uses.
 *
 * Identifiers are replaced by a copy of their search (copies, so a pipeline
 * may rewrite each use independently). `1 of p*` / `all of them` expand to
 * OR / AND over matching searches; identifiers starting with `_` are left out
 * unless the pattern itself starts with `_` (pySigma). A pattern that matches
 * nothing warns and drops out of its parent, as pySigma does, instead of
 * vanishing silently. Nested AND-in-AND and OR-in-OR are flattened.
 */
#include <string.h>

#include "front.h"

SgNode *sg_node_new(SgArena *a, SgNodeKind k, SgLoc loc) {
  SgNode *n = sg_arena_alloc(a, sizeof *n);
  if (n) {
    n->kind = k;
    n->loc = loc;
  }
  return n;
}

SgStatus sg_node_add(SgArena *a, SgNode *parent, SgNode *kid) {
  /* capacity is the next power of two >= nkids */
  uint32_t n = parent->nkids;
  if ((n & (n - 1)) == 0) {
    SgNode **k = sg_arena_alloc(a, (n ? n * 2 : 1) * sizeof *k);
    if (!k) return SG_ERR_NOMEM;
    if (n) memcpy(k, parent->kids, n * sizeof *k);
    parent->kids = k;
  }
  parent->kids[parent->nkids++] = kid;
  return SG_OK;
}

SgNode *sg_node_clone(SgArena *a, const SgNode *n) {
  SgNode *c = sg_node_new(a, n->kind, n->loc);
  if (!c) return NULL;
  c->flags = n->flags;
  c->m = n->m;
  for (uint32_t i = 0; i < n->nkids; i++) {
    SgNode *k = sg_node_clone(a, n->kids[i]);
    if (!k || sg_node_add(a, c, k)) return NULL;
  }
  return c;
}

typedef struct Resolver {
  SgArena *a;
  SgDiags *d;
  SgRule *r;
  bool failed, oom;
} Resolver;

bool sg_glob_match(const char *pat, const char *s) {
  while (*pat) {
    if (*pat == '*') {
      while (*pat == '*')
        pat++;
      if (!*pat) return true;
      for (; *s; s++)
        if (sg_glob_match(pat, s)) return true;
      return false;
    }
    if (*pat != *s) return false;
    pat++;
    s++;
  }
  return !*s;
}

SgStatus sg_node_join(SgArena *a, SgNode *parent, SgNode *kid) {
  if (kid->kind == parent->kind && (kid->kind == SG_N_AND || kid->kind == SG_N_OR) && !kid->flags) {
    for (uint32_t i = 0; i < kid->nkids; i++)
      if (sg_node_add(a, parent, kid->kids[i])) return SG_ERR_NOMEM;
    return SG_OK;
  }
  return sg_node_add(a, parent, kid);
}

static void join(Resolver *R, SgNode *parent, SgNode *kid) {
  if (sg_node_join(R->a, parent, kid)) R->oom = true;
}

static SgNode *use_search(Resolver *R, SgSearch *s) {
  s->used = true;
  if (!s->node) return NULL; /* the search itself had errors */
  SgNode *c = sg_node_clone(R->a, s->node);
  if (!c) R->oom = true;
  return c;
}

static const char *const keywords[] = {"and", "or", "not", "of", "them", "all", "any"};

/* NULL result: either an error (R->failed) or "empty" (dropped by the parent). */
static SgNode *resolve(Resolver *R, const SgCondExpr *e) {
  switch (e->kind) {
  case SG_C_ID: {
    for (size_t i = 0; i < R->r->nsearches; i++)
      if (!strcmp(R->r->searches[i].name, e->name)) {
        SgNode *n = use_search(R, &R->r->searches[i]);
        if (!n) R->failed = true;
        return n;
      }
    const char *hint = "";
    for (size_t k = 0; k < sizeof keywords / sizeof *keywords; k++)
      if (!sg_ascii_casecmp(e->name, keywords[k])) hint = " (condition keywords are lowercase)";
    size_t mark = R->d->n;
    sg_diag(R->d, SG_D_COND_UNKNOWN_ID, e->loc, "search identifier '%s' is not defined in detection%s",
            e->name, hint);
    sg_diags_name(R->d, mark, "dangling_condition");
    R->failed = true;
    return NULL;
  }
  case SG_C_ONE_OF:
  case SG_C_ALL_OF: {
    SgNode *n = sg_node_new(R->a, e->kind == SG_C_ALL_OF ? SG_N_AND : SG_N_OR, e->loc);
    if (!n) {
      R->oom = true;
      return NULL;
    }
    bool under = e->name[0] == '_';
    for (size_t i = 0; i < R->r->nsearches; i++) {
      SgSearch *s = &R->r->searches[i];
      if (s->name[0] == '_' && !under) continue;
      if (!e->them && !sg_glob_match(e->name, s->name)) continue;
      SgNode *k = use_search(R, s);
      if (k)
        join(R, n, k);
      else
        R->failed = true;
    }
    if (R->failed) return NULL;
    if (n->nkids == 0) {
      sg_diag(R->d, SG_D_COND_EMPTY_PATTERN, e->loc,
              "'%s of %s' matches no search identifier; it is left out of the condition",
              e->kind == SG_C_ALL_OF ? "all" : "1", e->name);
      return NULL;
    }
    return n->nkids == 1 ? n->kids[0] : n;
  }
  case SG_C_NOT: {
    SgNode *k = resolve(R, e->kids[0]);
    if (!k) return NULL;
    SgNode *n = sg_node_new(R->a, SG_N_NOT, e->loc);
    if (!n || sg_node_add(R->a, n, k)) {
      R->oom = true;
      return NULL;
    }
    return n;
  }
  case SG_C_AND:
  case SG_C_OR: {
    SgNode *n = sg_node_new(R->a, e->kind == SG_C_AND ? SG_N_AND : SG_N_OR, e->loc);
    if (!n) {
      R->oom = true;
      return NULL;
    }
    for (uint32_t i = 0; i < e->n; i++) {
      SgNode *k = resolve(R, e->kids[i]);
      if (k) join(R, n, k); /* NULL: an error, or an empty pattern that drops out */
    }
    if (R->failed || n->nkids == 0) return NULL;
    return n->nkids == 1 ? n->kids[0] : n;
  }
  }
  return NULL;
}

SgStatus sg_resolve(SgArena *a, SgRule *r, SgDiags *d) {
  Resolver R = {.a = a, .d = d, .r = r};
  for (size_t i = 0; i < r->nconds; i++) {
    SgCondition *c = &r->conds[i];
    if (!c->expr) continue;
    R.failed = false;
    c->root = resolve(&R, c->expr);
    if (!c->root && !R.failed && !R.oom) {
      sg_diag(d, SG_D_COND_SYNTAX, c->loc,
              "condition is empty once patterns that match nothing are left out");
      R.failed = true;
    }
    if (R.failed) r->failed = true;
  }
  if (!r->failed)
    for (size_t i = 0; i < r->nsearches; i++)
      if (!r->searches[i].used) {
        size_t mark = d->n;
        sg_diag(d, SG_D_COND_UNUSED, r->searches[i].loc, "search '%s' is not used by any condition",
                r->searches[i].name);
        sg_diags_name(d, mark, "dangling_detection");
      }
  if (R.oom) {
    sg_diag(d, SG_D_NOMEM, r->loc, "out of memory resolving conditions");
    return SG_ERR_NOMEM;
  }
  return r->failed ? SG_ERR_PARSE : SG_OK;
}

/* ---- Sigma filters ------------------------------------------------------------------------ */

static bool same_attr(const char *want, const char *have) {
  return !want || (have && !sg_ascii_casecmp(want, have));
}

bool sg_filter_applies(const SgRule *filter, const SgRule *rule) {
  if (filter->kind != SG_DOC_FILTER || !filter->filter || rule->kind != SG_DOC_RULE || rule->failed)
    return false;
  const SgLogsource *f = &filter->logsource, *r = &rule->logsource;
  if (!same_attr(f->category, r->category) || !same_attr(f->product, r->product) ||
      !same_attr(f->service, r->service))
    return false;
  if (filter->filter->any) return true;
  const SgStrList *l = &filter->filter->rules;
  for (size_t i = 0; i < l->n; i++)
    if ((rule->id && !strcmp(l->v[i], rule->id)) || (rule->name && !strcmp(l->v[i], rule->name))) return true;
  return false;
}

SgStatus sg_filter_apply(SgArena *a, SgRule *rule, const SgRule *filter) {
  for (size_t i = 0; i < rule->nconds; i++) {
    SgCondition *c = &rule->conds[i];
    if (!c->root) continue;
    SgNode *and = sg_node_new(a, SG_N_AND, c->root->loc);
    if (!and || sg_node_join(a, and, c->root)) return SG_ERR_NOMEM;
    for (size_t k = 0; k < filter->nconds; k++) {
      SgNode *keep = filter->conds[k].root ? sg_node_clone(a, filter->conds[k].root) : NULL;
      if (filter->conds[k].root && (!keep || sg_node_join(a, and, keep))) return SG_ERR_NOMEM;
    }
    c->root = and;
  }
  return SG_OK;
}
