/* collection.c - legacy Sigma collections (`action: global|reset|repeat`,
 * still in SigmaHQ's unsupported/ folder), honoured as pySigma does: a global
 * document is deep-merged into every later document until a reset; repeat
 * merges a document into the one before it.
 */
#include <string.h>

#include "front.h"

/* Deep merge: maps merge key by key (b wins), anything else is replaced by b. */
static SgYNode *merge(SgArena *a, const SgYNode *base, const SgYNode *over) {
  if (!base) return (SgYNode *)over;
  if (base->kind != SG_Y_MAP || over->kind != SG_Y_MAP) return (SgYNode *)over;
  SgYNode *m = sg_arena_alloc(a, sizeof *m);
  size_t cap = base->n + over->n;
  if (!m) return NULL;
  *m = *over;
  m->keys = sg_arena_alloc(a, (cap + 1) * sizeof *m->keys);
  m->items = sg_arena_alloc(a, (cap + 1) * sizeof *m->items);
  if (!m->keys || !m->items) return NULL;
  m->n = 0;
  for (size_t i = 0; i < base->n; i++) {
    const SgYNode *o = sg_ymap_get(over, base->keys[i]->text);
    m->keys[m->n] = base->keys[i];
    m->items[m->n] = o ? merge(a, base->items[i], o) : base->items[i];
    if (!m->items[m->n++]) return NULL;
  }
  for (size_t i = 0; i < over->n; i++)
    if (!sg_ymap_get(base, over->keys[i]->text)) {
      m->keys[m->n] = over->keys[i];
      m->items[m->n++] = over->items[i];
    }
  return m;
}

/* A copy of map `m` without key `key`. */
static SgYNode *without(SgArena *a, const SgYNode *m, const char *key) {
  SgYNode *c = sg_arena_alloc(a, sizeof *c);
  if (!c) return NULL;
  *c = *m;
  c->keys = sg_arena_alloc(a, (m->n + 1) * sizeof *c->keys);
  c->items = sg_arena_alloc(a, (m->n + 1) * sizeof *c->items);
  if (!c->keys || !c->items) return NULL;
  c->n = 0;
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->keys[i]->text, key)) {
      c->keys[c->n] = m->keys[i];
      c->items[c->n++] = m->items[i];
    }
  return c;
}

SgStatus sg_collection_next(SgArena *a, SgCollection *c, const SgYNode *doc, const SgYNode **body,
                            SgDiags *d) {
  *body = NULL;
  const SgYNode *action = sg_ymap_get(doc, "action");
  const SgYNode *b = doc;
  if (action) {
    const char *act = action->kind == SG_Y_SCALAR ? action->text : "";
    b = without(a, doc, "action");
    if (!b) return SG_ERR_NOMEM;
    if (!strcmp(act, "global")) {
      c->global = merge(a, c->global, b);
      return c->global ? SG_OK : SG_ERR_NOMEM;
    }
    if (!strcmp(act, "reset")) {
      c->global = NULL;
      return SG_OK;
    }
    if (strcmp(act, "repeat")) {
      sg_diag(d, SG_D_LEGACY_ACTION, action->loc,
              "'action: %s' is not a collection action (global, reset or repeat)", act);
      return SG_ERR_PARSE;
    }
    if (!c->last) {
      sg_diag(d, SG_D_LEGACY_ACTION, action->loc, "'action: repeat' has no previous document to repeat");
      return SG_ERR_PARSE;
    }
    b = merge(a, c->last, b);
  } else if (c->global) {
    b = merge(a, c->global, b);
  }
  if (!b) return SG_ERR_NOMEM;
  c->last = *body = b;
  return SG_OK;
}

SgStatus sg_collection_finish(const SgCollection *c, size_t nrules, SgDiags *d) {
  if (nrules || !c->global) return SG_OK;
  sg_diag(d, SG_D_LEGACY_ACTION, c->global->loc, "'action: global' is not followed by any rule document");
  return SG_ERR_PARSE;
}
