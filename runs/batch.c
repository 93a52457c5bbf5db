/* batch.c - what a run over many files shares: the Sigma filters of the
 * batch, the parallel runner, and diagnostics rendered for printing.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sigmacc_int.h"

/* ---- Sigma filters -------------------------------------------------------------------------- */

/* A top-level `filter:` key: only such files are compiled ahead of the run. */
static bool has_filter_key(const char *src, size_t len) {
  if (len >= 7 && !memcmp(src, "filter:", 7)) return true;
  for (const char *p = src; (p = memchr(p, '\n', len - (size_t)(p - src))) && p + 8 <= src + len; p++)
    if (!memcmp(p + 1, "filter:", 7)) return true;
  return false;
}

bool sg_filters_add(SgFilters *out, const char *path, const char *text, size_t len, bool quiet, SgDiags *d) {
  if (quiet && !has_filter_key(text, len)) return true;
  SgDiags mine = {0};
  char *src = malloc(len + 1); /* the unit owns its copy */
  SgUnit **units = realloc(out->units, (out->nunits + 1) * sizeof *units);
  SgUnit *u = malloc(sizeof *u);
  if (units) out->units = units;
  if (!src || !units || !u) return free(src), free(u), false;
  memcpy(src, text, len);
  src[len] = '\0';
  out->units[out->nunits++] = u;
  size_t before = out->n;
  sg_compile_source(u, path, src, len, quiet ? &mine : d);
  for (size_t i = 0; i < u->nrules; i++)
    if (u->rules[i]->kind == SG_DOC_FILTER && !u->rules[i]->failed) {
      const SgRule **v = realloc(out->v, (out->n + 1) * sizeof *v);
      if (v) out->v = v;
      _Atomic size_t *used = realloc(out->used, (out->n + 1) * sizeof *used);
      if (used) out->used = used;
      if (!v || !used) return sg_diags_free(&mine), false;
      atomic_init(&out->used[out->n], 0);
      out->v[out->n++] = u->rules[i];
    }
  sg_diags_free(&mine);
  if (!quiet && out->n == before) {
    sg_diag(d, SG_D_MISSING, (SgLoc){path, 0, 0}, "--filter: the file holds no valid filter document");
    return false;
  }
  return true;
}

bool sg_filters_load(const char *const *files, size_t nfiles, SgFilters *out, SgDiags *d) {
  bool ok = true;
  for (size_t i = 0; i < nfiles; i++) {
    char *src;
    size_t len;
    if (sg_read_file(files[i], &src, &len, d) != SG_OK) {
      ok = false;
      continue;
    }
    ok = sg_filters_add(out, files[i], src, len, false, d) && ok;
    free(src);
  }
  return ok;
}

SgStatus sg_filters_apply(const SgFilters *f, SgUnit *u) {
  for (size_t i = 0; i < u->nrules; i++)
    for (size_t k = 0; k < f->n; k++)
      if (sg_filter_applies(f->v[k], u->rules[i])) {
        if (sg_filter_apply(&u->arena, u->rules[i], f->v[k]) != SG_OK) return SG_ERR_NOMEM;
        atomic_fetch_add(&f->used[k], 1);
      }
  return SG_OK;
}

void sg_filters_report_unused(const SgFilters *f, SgDiags *d) {
  for (size_t k = 0; k < f->n; k++)
    if (!atomic_load(&f->used[k]))
      sg_diag(d, SG_D_FILTER_UNUSED, f->v[k]->loc,
              "filter '%s' was applied to no rule: none of the inputs is a rule it names with its log source",
              f->v[k]->title ? f->v[k]->title : "");
}

void sg_filters_free(SgFilters *f) {
  for (size_t i = 0; i < f->nunits; i++) {
    sg_unit_free(f->units[i]);
    free(f->units[i]);
  }
  free(f->units);
  free(f->v);
  free(f->used);
  memset(f, 0, sizeof *f);
}

/* ---- Parallel work ------------------------------------------------------------------- */

typedef struct ParJob {
  size_t n;
  atomic_size_t next; /* the next item to take */
  void (*fn)(void *arg, size_t i);
  void *arg;
} ParJob;

static void *par_worker(void *p) {
  ParJob *j = p;
  for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->n;)
    j->fn(j->arg, i);
  return NULL;
}

void sg_parallel_for(size_t n, void (*fn)(void *arg, size_t i), void *arg) {
  ParJob j = {n, 0, fn, arg};
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  size_t threads = cores < 1 ? 1 : cores > 8 ? 8 : (size_t)cores, started = 0;
  if (n < 16) threads = 1;
  pthread_t th[8];
  for (; started + 1 < threads; started++)
    if (pthread_create(&th[started], NULL, par_worker, &j)) break; /* fewer threads, same result */
  par_worker(&j);
  for (size_t k = 0; k < started; k++)
    pthread_join(th[k], NULL);
}

/* ---- Diagnostics rendered ---------------------------------------------------------- */

/* The text of a regular file for an excerpt (not stdin, not a directory). */
static char *excerpt_source(const char *path, size_t *len) {
  struct stat st;
  char *data = NULL;
  if (!strcmp(path, "-") || stat(path, &st) || !S_ISREG(st.st_mode) || st.st_size > SG_MAX_FILE_BYTES)
    return NULL;
  SgDiags scratch = {0};
  if (sg_read_file(path, &data, len, &scratch) != SG_OK) data = NULL;
  sg_diags_free(&scratch);
  return data;
}

void sg_render_diags(SgBuf *out, const SgDiags *d, size_t from, const char *path, const char *src, size_t len,
                     bool json) {
  char *other = NULL; /* another file's text (a pipeline's), read once per run of its diagnostics */
  const char *other_path = NULL;
  size_t other_len = 0;
  for (size_t i = from; i < d->n; i++) {
    const SgDiag *x = &d->items[i];
    if (json) {
      sg_diag_render_json(out, x);
      continue;
    }
    bool here = src && path && x->loc.path && !strcmp(x->loc.path, path);
    if (!here && x->loc.path && x->loc.line && (!other_path || strcmp(other_path, x->loc.path))) {
      free(other);
      other_path = x->loc.path;
      other = excerpt_source(other_path, &other_len);
    }
    if (here)
      sg_diag_render(out, x, src, len);
    else if (x->loc.path && x->loc.line && other)
      sg_diag_render(out, x, other, other_len);
    else
      sg_diag_render(out, x, NULL, 0);
  }
  free(other);
  if (d->oom) /* diagnostics that could not be stored: never a silent failure */
    sg_buf_cat(out, json ? "{\"path\":\"\",\"line\":0,\"col\":0,\"severity\":\"error\",\"code\":\"E090\","
                           "\"message\":\"out of memory: diagnostics were lost\"}\n"
                         : "sigmacc: error[E090]: out of memory: diagnostics were lost\n");
}

/* ---- The pipelines of a run ------------------------------------------------------- */

/* st, with an E090 naming `what` when it says memory ran out (a status
 * alone would end the run with exit 1 and nothing said). */
static SgStatus said(SgStatus st, SgDiags *d, const char *what) {
  if (st == SG_ERR_NOMEM) sg_diag(d, SG_D_NOMEM, (SgLoc){what, 0, 0}, "out of memory");
  return st;
}

bool sg_run_pipelines(SgArena *a, const char *const *specs, size_t n, const char *def, SgPipelineSet *set,
                      SgDiags *d, bool *usage) {
  bool ok = true;
  for (size_t i = 0; i <= n; i++) {
    const char *spec = i < n ? specs[i] : def;
    if (!spec) continue;
    SgStatus st = said(sg_pipeline_add(a, set, spec, d), d, spec);
    ok = ok && st == SG_OK;
    *usage =
        *usage || (i < n && (st == SG_ERR_USAGE || st == SG_ERR_IO)); /* -p names nothing, or is unreadable */
  }
  sg_pipeline_sort(set);
  return ok && said(sg_pipeline_validate(a, set, d), d, "pipelines") == SG_OK;
}
