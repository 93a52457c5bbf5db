/* fs.c - the one directory walker: rule paths from the command line's
 * arguments (files as given, directories recursively, sorted by name so the
 * order never depends on the file system). What it cannot enter or skips
 * because of a limit is reported, never dropped silently.
 */
#define _DEFAULT_SOURCE /* DT_DIR */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sigmacc.h"

#define SG_MAX_DIR_DEPTH 32

/* ---- Path walking ---------------------------------------------------------- */

static bool has_rule_ext(const char *name) {
  size_t n = strlen(name);
  return (n > 4 && !strcmp(name + n - 4, ".yml")) || (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

/* Memory ran out while listing `what`: never a silently shorter list. */
static bool lost(SgDiags *d, const char *what) {
  sg_diag(d, SG_D_NOMEM, (SgLoc){what, 0, 0}, "out of memory listing the input; not read");
  return false;
}

/* Add path s (owned; NULL when its copy failed). */
static bool paths_push(SgPaths *p, char *s, size_t rel, const char *what, SgDiags *d) {
  if (!s) return lost(d, what);
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    char **v = realloc(p->v, cap * sizeof *v);
    if (v) p->v = v;
    size_t *r = realloc(p->rel, cap * sizeof *r);
    if (r) p->rel = r;
    if (!v || !r) {
      free(s);
      return lost(d, what);
    }
    p->cap = cap;
  }
  p->rel[p->n] = rel;
  p->v[p->n++] = s;
  return true;
}

void sg_paths_free(SgPaths *p) {
  for (size_t i = 0; i < p->n; i++)
    free(p->v[i]);
  free(p->v);
  free(p->rel);
  memset(p, 0, sizeof *p);
}

typedef struct Entry {
  char *name;
  unsigned char type; /* DT_DIR, DT_REG or DT_UNKNOWN (then stat decides) */
} Entry;

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const Entry *)a)->name, ((const Entry *)b)->name);
}

/* False when memory ran out (reported); other problems are reported too. */
static bool walk_dir(const char *dir, SgPaths *out, size_t rel, int depth, bool all, SgDiags *dg) {
  if (depth > SG_MAX_DIR_DEPTH) {
    sg_diag(dg, SG_D_IO, (SgLoc){dir, 0, 0}, "directory nested deeper than %d levels; not read",
            SG_MAX_DIR_DEPTH);
    return true;
  }
  DIR *d = opendir(dir);
  if (!d) {
    sg_diag(dg, SG_D_IO, (SgLoc){dir, 0, 0}, "cannot open the directory: %s", strerror(errno));
    return true;
  }
  bool ok = true;
  Entry *ents = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      Entry *v = realloc(ents, cap * sizeof *v);
      if (!v) {
        ok = lost(dg, dir);
        break;
      }
      ents = v;
    }
    ents[n].name = strdup(e->d_name);
    ents[n].type = e->d_type;
    if (!ents[n].name) {
      ok = lost(dg, dir);
      break;
    }
    n++;
  }
  closedir(d);
  if (n) qsort(ents, n, sizeof *ents, cmp_entry); /* sorted: output order never depends on the file system */
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(dir) + strlen(ents[i].name) + 2;
    char *full = malloc(len);
    if (!full) {
      ok = lost(dg, dir);
    } else {
      snprintf(full, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", ents[i].name);
      struct stat st;
      bool is_dir = ents[i].type == DT_DIR ||
                    (ents[i].type == DT_UNKNOWN && stat(full, &st) == 0 && S_ISDIR(st.st_mode));
      if (is_dir) {
        ok = walk_dir(full, out, rel, depth + 1, all, dg) && ok;
        free(full);
      } else if (all || has_rule_ext(ents[i].name)) {
        ok = paths_push(out, full, rel, dir, dg) && ok;
      } else {
        free(full);
      }
    }
    free(ents[i].name);
  }
  free(ents);
  return ok;
}

/* Expand arguments: files as given, directories recursively (sorted). A
 * directory without rule files is reported. Returns false on a missing path,
 * or when memory ran out (E090: the list would be incomplete). */
bool sg_expand_paths(int argc, char **argv, SgPaths *out, SgDiags *d) {
  bool ok = true;
  for (int i = 0; i < argc; i++) {
    struct stat st;
    if (!strcmp(argv[i], "-")) {
      ok = paths_push(out, strdup("-"), 0, "-", d) && ok;
    } else if (stat(argv[i], &st) != 0) {
      sg_diag(d, SG_D_IO, (SgLoc){argv[i], 0, 0}, "cannot open: %s", strerror(errno));
      ok = false;
    } else if (S_ISDIR(st.st_mode)) {
      size_t before = out->n;
      size_t len = strlen(argv[i]);
      if (!walk_dir(argv[i], out, len + (argv[i][len - 1] != '/'), 0, false, d)) {
        ok = false;
      } else if (out->n == before) {
        sg_diag(d, SG_D_IO, (SgLoc){argv[i], 0, 0}, "is a directory with no .yml or .yaml files");
        ok = false;
      }
    } else {
      const char *slash = strrchr(argv[i], '/');
      ok = paths_push(out, strdup(argv[i]), slash ? (size_t)(slash - argv[i]) + 1 : 0, argv[i], d) && ok;
    }
  }
  return ok;
}

bool sg_expand_dir_files(const char *dir, SgPaths *out, SgDiags *d) {
  size_t len = strlen(dir);
  return walk_dir(dir, out, len + (len && dir[len - 1] != '/'), 0, true, d);
}
