/* intern.c - intern tables: a string -> a dense id (field names, index keys,
 * prefilter literals), open addressing over the ids; sg_ev_intern_find (in
 * evaluator.h) looks one up, sg_ev_intern_add adds it when new. */
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"

static bool intern_grow(Intern *t) {
  size_t ns = t->nslots ? t->nslots * 2 : 256;
  uint32_t *slots = calloc(ns, sizeof *slots);
  if (!slots) return false;
  for (size_t id = 0; id < t->n; id++) {
    size_t i = sg_ev_hash(t->names[id], t->lens[id]) & (ns - 1);
    while (slots[i])
      i = (i + 1) & (ns - 1);
    slots[i] = (uint32_t)id + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = ns;
  return true;
}

uint32_t sg_ev_intern_add(Intern *t, const char *s, size_t n) {
  uint32_t id = sg_ev_intern_find(t, s, n);
  if (id != UINT32_MAX) return id;
  if ((t->n + 1) * 2 > t->nslots && !intern_grow(t)) return UINT32_MAX;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    char **v = realloc(t->names, cap * sizeof *v);
    if (v) t->names = v;
    size_t *l = realloc(t->lens, cap * sizeof *l);
    if (l) t->lens = l;
    if (!v || !l) return UINT32_MAX;
    t->cap = cap;
  }
  char *copy = malloc(n + 1);
  if (!copy) return UINT32_MAX;
  memcpy(copy, s, n);
  copy[n] = '\0';
  t->names[t->n] = copy;
  t->lens[t->n] = n;
  size_t i = sg_ev_hash(s, n) & (t->nslots - 1);
  while (t->slots[i])
    i = (i + 1) & (t->nslots - 1);
  t->slots[i] = (uint32_t)t->n + 1;
  return (uint32_t)t->n++;
}

void sg_ev_intern_free(Intern *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->names[i]);
  free(t->names);
  free(t->lens);
  free(t->slots);
}
