/* compile.c - the front-end driver: file bytes -> SgUnit of resolved rules.
 *
 *   sg_yaml_load -> legacy collection actions (collection.c) -> sg_rule_from_yaml
 *                   (detection, conditions, resolution) per document
 */
#include <stdlib.h>
#include <string.h>

#include "front.h"

static SgStatus add_rule(SgUnit *u, const SgYNode *doc, SgLoc loc, size_t *cap, SgDiags *d) {
  SgRule *r = NULL;
  SgStatus st = sg_rule_from_yaml(&u->arena, doc, loc, &r, d);
  if (st == SG_ERR_NOMEM) return st;
  SgRule **slot = SG_PUSH(&u->arena, u->rules, u->nrules, *cap);
  if (!slot) return SG_ERR_NOMEM;
  *slot = r;
  return st;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool named(const char **names, size_t n, const char *s) {
  return s && bsearch(&s, names, n, sizeof *names, cmp_str);
}

/* Mark the rules that correlations use (by id or name) in O(n log n), so a
 * file of many documents converts in near-linear time. */
static SgStatus mark_correlated(SgUnit *u) {
  size_t n = 0;
  for (size_t i = 0; i < u->nrules; i++)
    if (u->rules[i]->corr && !u->rules[i]->corr->generate) n += u->rules[i]->corr->rules.n;
  if (!n) return SG_OK;
  const char **names = malloc(n * sizeof *names);
  if (!names) return SG_ERR_NOMEM;
  n = 0;
  for (size_t i = 0; i < u->nrules; i++) {
    const SgCorrelation *k = u->rules[i]->corr;
    for (size_t j = 0; k && !k->generate && j < k->rules.n; j++)
      names[n++] = k->rules.v[j];
  }
  qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < u->nrules; i++)
    u->rules[i]->correlated = named(names, n, u->rules[i]->id) || named(names, n, u->rules[i]->name);
  free(names);
  return SG_OK;
}

static SgStatus compile_unit(SgUnit *u, const char *path, char *src, size_t len, SgDiags *d);

/* Memory running out anywhere in a file (a status, or an allocation that
 * failed where only the arena's flag could say so) fails all of its rules
 * with one located E090: never a rule that silently lost a value. */
SgStatus sg_compile_source(SgUnit *u, const char *path, char *src, size_t len, SgDiags *d) {
  size_t mark = d->n;
  SgStatus st = compile_unit(u, path, src, len, d);
  if (st != SG_ERR_NOMEM && !u->arena.failed) return st;
  for (size_t i = 0; i < u->nrules; i++)
    u->rules[i]->failed = true;
  bool said = d->oom;
  for (size_t i = mark; i < d->n && !said; i++)
    said = d->items[i].code == SG_D_NOMEM;
  if (!said)
    sg_diag(d, SG_D_NOMEM, (SgLoc){path, 0, 0}, "out of memory compiling the file; its rules are not used");
  return SG_ERR_NOMEM;
}

/* A processing pipeline, not rules: no detection, correlation or filter, and
 * a pipeline's keys. */
static bool is_pipeline(const SgYNode *doc) {
  return !sg_ymap_get(doc, "detection") && !sg_ymap_get(doc, "correlation") && !sg_ymap_get(doc, "filter") &&
         (sg_ymap_get(doc, "transformations") || sg_ymap_get(doc, "postprocessing") ||
          sg_ymap_get(doc, "finalizers"));
}

static SgStatus compile_unit(SgUnit *u, const char *path, char *src, size_t len, SgDiags *d) {
  memset(u, 0, sizeof *u);
  sg_arena_init(&u->arena);
  u->path = path;
  u->src = src;
  u->srclen = len;
  SgYDoc *docs;
  size_t ndocs;
  SgStatus st = sg_yaml_load(&u->arena, path, src, len, &docs, &ndocs, d);
  if (st != SG_OK) return st;
  SgStatus worst = SG_OK;
  size_t cap = 0, nonempty = 0;
  SgCollection coll = {0};
  for (size_t i = 0; i < ndocs; i++) {
    const SgYNode *doc = docs[i].root, *body;
    if (!doc || (doc->kind == SG_Y_SCALAR && doc->type == SG_YT_NULL)) continue;
    nonempty++;
    if (ndocs == 1 && is_pipeline(doc)) { /* a pipeline file kept beside the rules */
      u->pipeline = doc;
      return SG_OK;
    }
    st = sg_collection_next(&u->arena, &coll, doc, &body, d);
    if (st == SG_OK && body) st = add_rule(u, body, docs[i].loc, &cap, d);
    if (st == SG_ERR_NOMEM) return st;
    if (st) worst = st;
  }
  if (nonempty == 0) {
    sg_diag(d, SG_D_YAML_EMPTY, (SgLoc){path, 1, 1}, "file contains no Sigma rule");
    return SG_ERR_PARSE;
  }
  if (mark_correlated(u)) return SG_ERR_NOMEM;
  return worst ? worst : sg_collection_finish(&coll, u->nrules, d);
}

/* ---- references across the files of a run ---- */

typedef struct SgIndexEntry {
  const char *key; /* an id or a name */
  size_t unit, rule;
} SgIndexEntry;

static int cmp_entry(const void *a, const void *b) {
  const SgIndexEntry *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : x->unit < y->unit ? -1 : x->unit > y->unit;
}

/* The first entry for key (the lowest unit), or NULL; *others: entries of other units for it. */
static const SgIndexEntry *index_find(const SgRuleIndex *ix, const char *key, size_t *others) {
  size_t lo = 0, hi = ix->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(ix->v[mid].key, key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == ix->n || strcmp(ix->v[lo].key, key)) return NULL;
  *others = 0;
  for (size_t k = lo + 1; k < ix->n && !strcmp(ix->v[k].key, key); k++)
    *others += ix->v[k].unit != ix->v[lo].unit;
  return &ix->v[lo];
}

size_t sg_unit_rule(const SgUnit *u, const char *name) {
  size_t at = 0;
  while (at < u->nrules && !(u->rules[at]->id && !strcmp(u->rules[at]->id, name)))
    at++;
  if (at == u->nrules)
    for (at = 0; at < u->nrules && !(u->rules[at]->name && !strcmp(u->rules[at]->name, name));)
      at++;
  return at;
}

bool sg_unit_correlates(const SgUnit *u) {
  for (size_t k = 0; k < u->nrules; k++)
    if (u->rules[k]->kind == SG_DOC_CORRELATION) return true;
  return false;
}

/* The rule `name` names from a correlation of file u (one of the index's), as sg_corr_resolve
 * finds it: u's own first, then the one file of the index that has it. *in: its file; *at: its
 * number among all the index's rules (ix->base). NULL: none, or several. */
static SgRule *referenced(const SgRuleIndex *ix, const SgUnit *u, const char *name, const SgUnit **in,
                          size_t *at) {
  size_t k = sg_unit_rule(u, name), others = 0;
  if (k < u->nrules) return *in = u, *at = ix->base[u - ix->units] + k, u->rules[k];
  const SgIndexEntry *e = index_find(ix, name, &others);
  if (!e || others) return NULL;
  *in = &ix->units[e->unit];
  *at = ix->base[e->unit] + e->rule;
  return ix->units[e->unit].rules[e->rule];
}

/* ix->cycle: the correlations on a cycle of references (Tarjan's strongly connected
 * components, iterative: a chain may be long), each reference resolved once. False when memory
 * ran out. */
static bool on_cycles(const SgRuleIndex *ix, size_t nrules) {
  size_t *first = malloc((nrules + 1) * sizeof *first), *to = NULL, nedges = 0, cap = 0;
  bool ok = first != NULL;
  for (size_t i = 0; ok && i < ix->nunits; i++)
    for (size_t k = 0; ok && k < ix->units[i].nrules; k++) {
      const SgRule *c = ix->units[i].rules[k];
      first[ix->base[i] + k] = nedges;
      for (size_t j = 0; ok && c->corr && j < c->corr->rules.n; j++) {
        const SgUnit *w;
        size_t at;
        const SgRule *r = referenced(ix, &ix->units[i], c->corr->rules.v[j], &w, &at);
        if (!r || !r->corr) continue;
        size_t *slot = SG_PUSH_HEAP(to, nedges, cap);
        if (slot)
          *slot = at;
        else
          ok = false;
      }
    }
  if (ok) first[nrules] = nedges;
  size_t *index = malloc((nrules + 1) * sizeof *index), *low = malloc((nrules + 1) * sizeof *low);
  size_t *stack = malloc((nrules + 1) * sizeof *stack), *calls = malloc((nrules + 1) * sizeof *calls);
  size_t *next = malloc((nrules + 1) * sizeof *next);
  bool *held = calloc(nrules + 1, 1);
  ok = ok && index && low && stack && calls && next && held;
  size_t counter = 0, ns = 0;
  for (size_t v = 0; ok && v < nrules; v++)
    index[v] = SIZE_MAX;
  for (size_t root = 0; ok && root < nrules; root++) {
    if (index[root] != SIZE_MAX || first[root] == first[root + 1]) continue;
    size_t nc = 0;
    calls[nc++] = root, next[root] = first[root];
    index[root] = low[root] = counter++, stack[ns++] = root, held[root] = true;
    while (nc) {
      size_t v = calls[nc - 1];
      if (next[v] < first[v + 1]) { /* v's next reference */
        size_t w = to[next[v]++];
        if (index[w] == SIZE_MAX) {
          index[w] = low[w] = counter++, stack[ns++] = w, held[w] = true;
          calls[nc++] = w, next[w] = first[w];
        } else if (held[w] && index[w] < low[v]) {
          low[v] = index[w];
        }
        continue;
      }
      if (--nc && low[v] < low[calls[nc - 1]]) low[calls[nc - 1]] = low[v];
      if (low[v] != index[v]) continue;
      size_t from = ns; /* v's component: the stack down to v */
      while (stack[--from] != v)
        ;
      bool self = false;
      for (size_t e = first[v]; e < first[v + 1]; e++)
        self |= to[e] == v;
      for (size_t m = from; m < ns; m++) {
        held[stack[m]] = false;
        ix->cycle[stack[m]] = ns - from > 1 || self;
      }
      ns = from;
    }
  }
  free(index), free(low), free(stack), free(calls), free(next), free(held), free(to), free(first);
  return ok;
}

SgStatus sg_rule_index_build(SgRuleIndex *ix, SgUnit *units, size_t n) {
  *ix = (SgRuleIndex){.units = units, .nunits = n};
  size_t cap = 0;
  for (size_t i = 0; i < n; i++)
    cap += 2 * units[i].nrules;
  ix->v = malloc((cap + 1) * sizeof *ix->v);
  if (!ix->v) return SG_ERR_NOMEM;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < units[i].nrules; k++) {
      const SgRule *r = units[i].rules[k];
      if (r->kind == SG_DOC_FILTER) continue;
      if (r->id) ix->v[ix->n++] = (SgIndexEntry){r->id, i, k};
      if (r->name && (!r->id || strcmp(r->name, r->id))) ix->v[ix->n++] = (SgIndexEntry){r->name, i, k};
    }
  qsort(ix->v, ix->n, sizeof *ix->v, cmp_entry);
  size_t nrules = 0;
  ix->base = malloc((n + 1) * sizeof *ix->base);
  for (size_t i = 0; ix->base && i < n; i++)
    ix->base[i] = nrules, nrules += units[i].nrules;
  ix->cycle = ix->base ? calloc(nrules + 1, 1) : NULL;
  if (!ix->cycle || !on_cycles(ix, nrules)) {
    sg_rule_index_free(ix);
    return SG_ERR_NOMEM;
  }
  return SG_OK;
}

void sg_rule_index_free(SgRuleIndex *ix) {
  free(ix->v);
  free(ix->base);
  free(ix->cycle);
  memset(ix, 0, sizeof *ix);
}

void sg_rule_index_mark(const SgRuleIndex *ix) {
  for (size_t i = 0; i < ix->nunits; i++)
    for (size_t k = 0; k < ix->units[i].nrules; k++) {
      const SgCorrelation *c = ix->units[i].rules[k]->corr;
      for (size_t j = 0; c && !c->generate && j < c->rules.n; j++) {
        const SgUnit *in;
        size_t at;
        SgRule *r = referenced(ix, &ix->units[i], c->rules.v[j], &in, &at);
        if (r && in != &ix->units[i]) r->correlated = true; /* a file's own: marked when compiled */
      }
    }
}

SgStatus sg_corr_resolve(SgArena *a, SgUnit *u, const SgRule *corr, const SgRuleIndex *batch,
                         SgRuleRef **refs, SgDiags *d) {
  const SgStrList *names = &corr->corr->rules;
  SgRuleRef *v = sg_arena_alloc(a, (names->n + 1) * sizeof *v);
  if (!v) return SG_ERR_NOMEM;
  for (size_t i = 0; i < names->n; i++) {
    SgLoc loc = names->locs ? names->locs[i] : corr->loc;
    size_t at = sg_unit_rule(u, names->v[i]), others = 0;
    if (at < u->nrules) {
      v[i] = (SgRuleRef){u->rules[at], u, at};
      continue;
    }
    const SgIndexEntry *e = batch ? index_find(batch, names->v[i], &others) : NULL;
    if (!e) {
      sg_diag(d, SG_D_REF_UNKNOWN, loc, "no rule has the id or name '%s' %s", names->v[i],
              batch ? "in the files of this run"
                    : "in this file (give the files of the rules it references too)");
      return SG_ERR_UNSUPPORTED;
    }
    SgUnit *o = &batch->units[e->unit];
    if (others) {
      sg_diag(d, SG_D_REF_UNKNOWN, loc, "'%s' names rules in %zu files (%s:%u first): which one is meant?",
              names->v[i], others + 1, o->path, o->rules[e->rule]->loc.line);
      return SG_ERR_UNSUPPORTED;
    }
    v[i] = (SgRuleRef){o->rules[e->rule], o, e->rule};
  }
  *refs = v;
  return SG_OK;
}

size_t sg_corr_cycles(const SgRuleIndex *ix, const SgUnit *only, SgDiags *d) {
  size_t found = 0, from = only ? (size_t)(only - ix->units) : 0, to = only ? from + 1 : ix->nunits;
  if (!ix->cycle) return 0; /* the index was not built */
  for (size_t i = from; i < to; i++)
    for (size_t k = 0; k < ix->units[i].nrules; k++) {
      SgRule *c = ix->units[i].rules[k];
      if (!ix->cycle[ix->base[i] + k] || c->failed) continue;
      sg_diag(d, SG_D_CORR, c->loc,
              "correlation '%s' references itself through a chain of correlations: it can never be met",
              c->name    ? c->name
              : c->title ? c->title
                         : "");
      c->failed = true;
      found++;
    }
  return found;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool sg_corr_names(SgCorrNames *out, const SgUnit *units, const size_t *which, size_t nwhich) {
  memset(out, 0, sizeof *out);
  size_t n = 0;
  for (size_t j = 0; j < nwhich; j++)
    for (size_t k = 0; k < units[which[j]].nrules; k++) {
      const SgCorrelation *c = units[which[j]].rules[k]->corr;
      n += c ? c->rules.n : 0;
    }
  out->v = malloc((n + 1) * sizeof *out->v);
  out->hidden = calloc(n + 1, sizeof *out->hidden);
  if (!out->v || !out->hidden) return false;
  n = 0;
  for (size_t j = 0; j < nwhich; j++)
    for (size_t k = 0; k < units[which[j]].nrules; k++) {
      const SgCorrelation *c = units[which[j]].rules[k]->corr;
      for (size_t i = 0; c && i < c->rules.n; i++)
        out->v[n++] = c->rules.v[i];
    }
  qsort(out->v, n, sizeof *out->v, cmp_name);
  for (size_t i = 0; i < n; i++)
    if (!out->n || strcmp(out->v[out->n - 1], out->v[i])) out->v[out->n++] = out->v[i];
  for (size_t j = 0; j < nwhich; j++) {
    const SgUnit *u = &units[which[j]];
    for (size_t k = 0; k < u->nrules; k++) {
      const SgCorrelation *c = u->rules[k]->corr;
      for (size_t i = 0; c && !c->generate && i < c->rules.n; i++) {
        const char **at = bsearch(&c->rules.v[i], out->v, out->n, sizeof *out->v, cmp_name);
        if (at && sg_unit_rule(u, c->rules.v[i]) == u->nrules) out->hidden[at - out->v] = true;
      }
    }
  }
  return true;
}

bool sg_corr_names_mark(const SgCorrNames *c, SgUnit *u) {
  bool any = false;
  for (size_t k = 0; k < u->nrules; k++) {
    SgRule *r = u->rules[k];
    const char *keys[2] = {r->id, r->name};
    for (int x = 0; x < 2; x++) {
      const char **at = keys[x] ? bsearch(&keys[x], c->v, c->n, sizeof *c->v, cmp_name) : NULL;
      any = any || at;
      if (at && c->hidden[at - c->v]) r->correlated = true;
    }
  }
  return any;
}

void sg_corr_names_free(SgCorrNames *c) {
  free(c->v);
  free(c->hidden);
  memset(c, 0, sizeof *c);
}

void sg_unit_free(SgUnit *u) {
  sg_arena_free(&u->arena);
  free(u->src);
  memset(u, 0, sizeof *u);
}
