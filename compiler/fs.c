/* fs.c - the file system: reading a file whole (with its size limit), and
 * the one directory walker: rule paths from the command line's arguments
 * (files as given, directories recursively, sorted by name so the order
 * never depends on the file system). What it cannot enter or skips because
 * of a limit is reported, never dropped silently.
 */
#define _DEFAULT_SOURCE /* DT_DIR */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sigmacc_int.h"

#define SG_MAX_DIR_DEPTH 32

/* ---- Files ------------------------------------------------------------------ */

SgStatus sg_read_file(const char *path, char **data, size_t *len, SgDiags *d) {
  SgLoc loc = {path, 0, 0};
  bool is_stdin = strcmp(path, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    sg_diag(d, SG_D_IO, loc, "cannot open: %s", strerror(errno));
    return SG_ERR_IO;
  }
  SgBuf b = {0};
  char chunk[65536];
  size_t n;
  bool too_big = false;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (b.len + n > SG_MAX_FILE_BYTES) {
      too_big = true;
      break;
    }
    sg_buf_catn(&b, chunk, n);
  }
  int err = ferror(f) ? errno : 0;
  if (!is_stdin) fclose(f);
  if (too_big) {
    sg_buf_free(&b);
    sg_diag(d, SG_D_YAML_TOO_BIG, loc, "file is larger than %u bytes", SG_MAX_FILE_BYTES);
    return SG_ERR_IO;
  }
  if (err) {
    sg_buf_free(&b);
    sg_diag(d, SG_D_IO, loc, "cannot read: %s", strerror(err));
    return SG_ERR_IO;
  }
  if (b.oom) {
    sg_buf_free(&b);
    sg_diag(d, SG_D_NOMEM, loc, "out of memory reading the file");
    return SG_ERR_NOMEM;
  }
  sg_buf_cstr(&b);
  *data = b.data;
  *len = b.len;
  return SG_OK;
}

/* ---- Path walking ---------------------------------------------------------- */

size_t sg_rule_stem_len(const char *path) {
  size_t n = strlen(path);
  if (n > 4 && !strcmp(path + n - 4, ".yml")) return n - 4;
  if (n > 5 && !strcmp(path + n - 5, ".yaml")) return n - 5;
  return n;
}

static bool has_rule_ext(const char *name) { return name[sg_rule_stem_len(name)] != '\0'; }

/* Memory ran out while listing `what` (an argument: it outlives the
 * diagnostics): never a silently shorter list. */
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

/* Keep `path` (owned) as long as the list: a diagnostic is located at it. */
static const char *hold(SgPaths *p, char *path) {
  char **v = realloc(p->held, (p->nheld + 1) * sizeof *v);
  if (!v) {
    free(path);
    return NULL;
  }
  p->held = v;
  return p->held[p->nheld++] = path;
}

void sg_paths_free(SgPaths *p) {
  for (size_t i = 0; i < p->n; i++)
    free(p->v[i]);
  for (size_t i = 0; i < p->nheld; i++)
    free(p->held[i]);
  free(p->v);
  free(p->rel);
  free(p->held);
  memset(p, 0, sizeof *p);
}

typedef struct Entry {
  char *name;
  unsigned char type; /* DT_DIR, DT_REG, ... or DT_UNKNOWN (then stat decides) */
} Entry;

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const Entry *)a)->name, ((const Entry *)b)->name);
}

/* Report a problem with `path` (owned: the list keeps it for the diagnostic). */
static bool report(SgPaths *out, char *path, const char *root, SgDiags *dg, SgDiagCode code, const char *fmt,
                   const char *arg) {
  const char *kept = hold(out, path);
  if (!kept) return lost(dg, root);
  sg_diag(dg, code, (SgLoc){kept, 0, 0}, fmt, arg);
  return true;
}

/* Walk `dir` (owned when depth > 0), under the argument `root`. False when
 * memory ran out (reported); other problems are reported too. Only regular
 * files are listed: a FIFO or a device would block its reader forever. */
static bool walk_dir(char *dir, const char *root, SgPaths *out, size_t rel, int depth, bool all,
                     SgDiags *dg) {
  char limit[64];
  snprintf(limit, sizeof limit, "%d", SG_MAX_DIR_DEPTH);
  if (depth > SG_MAX_DIR_DEPTH)
    return report(out, dir, root, dg, SG_D_IO, "directory nested deeper than %s levels; not read", limit);
  DIR *d = opendir(dir);
  if (!d) {
    int err = errno;
    if (!depth) {
      sg_diag(dg, SG_D_IO, (SgLoc){root, 0, 0}, "cannot open the directory: %s", strerror(err));
      return true;
    }
    return report(out, dir, root, dg, SG_D_IO, "cannot open the directory: %s", strerror(err));
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
        ok = lost(dg, root);
        break;
      }
      ents = v;
    }
    ents[n].name = strdup(e->d_name);
    ents[n].type = e->d_type;
    if (!ents[n].name) {
      ok = lost(dg, root);
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
      ok = lost(dg, root);
    } else {
      snprintf(full, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", ents[i].name);
      struct stat st;
      unsigned char type = ents[i].type;
      if (type == DT_UNKNOWN || type == DT_LNK) /* a link is what it points to */
        type = stat(full, &st)       ? DT_UNKNOWN
               : S_ISDIR(st.st_mode) ? DT_DIR
               : S_ISREG(st.st_mode) ? DT_REG
                                     : DT_FIFO;
      if (type == DT_DIR) {
        ok = walk_dir(full, root, out, rel, depth + 1, all, dg) && ok;
      } else if (!all && !has_rule_ext(ents[i].name)) {
        free(full);
      } else if (type == DT_REG) {
        ok = paths_push(out, full, rel, root, dg) && ok;
      } else if (type == DT_UNKNOWN) { /* a dangling link */
        ok = report(out, full, root, dg, SG_D_IO, "cannot open: %s", strerror(errno)) && ok;
      } else {
        ok = report(out, full, root, dg, SG_D_NOT_FILE, "%s", "not a regular file; passed over") && ok;
      }
    }
    free(ents[i].name);
  }
  free(ents);
  if (depth) free(dir);
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
      if (!walk_dir(argv[i], argv[i], out, len + (argv[i][len - 1] != '/'), 0, false, d)) {
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
  return walk_dir((char *)dir, dir, out, len + (len && dir[len - 1] != '/'), 0, true, d);
}
