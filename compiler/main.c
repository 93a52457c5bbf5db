/* main.c - the sigmacc command line: argument parsing, file walking, printing
 * and exit codes. All compiling is done by the library.
 *
 * Exit codes: 0 success, 1 a rule had errors (or a conversion failed),
 * 2 usage or I/O error.
 */
#define _DEFAULT_SOURCE /* DT_DIR */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "pipeline.h"

/* ---- Path walking ---------------------------------------------------------- */



static bool has_rule_ext(const char *name) {
  size_t n = strlen(name);
  return (n > 4 && !strcmp(name + n - 4, ".yml")) || (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

static void paths_push(SgPaths *p, char *s, size_t rel) {
  if (!s) return;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    char **v = realloc(p->v, cap * sizeof *v);
    if (v) p->v = v;
    size_t *r = realloc(p->rel, cap * sizeof *r);
    if (r) p->rel = r;
    if (!v || !r) {
      free(s);
      return;
    }
    p->cap = cap;
  }
  p->rel[p->n] = rel;
  p->v[p->n++] = s;
}

void sg_paths_free(SgPaths *p) {
  for (size_t i = 0; i < p->n; i++)
    free(p->v[i]);
  free(p->v);
  free(p->rel);
  memset(p, 0, sizeof *p);
}

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
      if (!v) return sg_diags_free(&mine), false;
      out->v = v;
      out->v[out->n++] = u->rules[i];
    }
  sg_diags_free(&mine);
  if (!quiet && out->n == before) {
    sg_diag(d, SG_D_MISSING, (SgLoc){path, 0, 0}, "--filter: the file holds no valid filter document");
    return false;
  }
  return true;
}

bool sg_filters_load(const char *const *files, size_t nfiles, const SgPaths *paths, SgFilters *out, SgDiags *d) {
  bool ok = true;
  for (size_t i = 0; i < nfiles + (paths ? paths->n : 0); i++) {
    bool quiet = i >= nfiles; /* an input file: its problems are reported when it is used */
    const char *path = quiet ? paths->v[i - nfiles] : files[i];
    SgDiags mine = {0};
    char *src;
    size_t len;
    if (sg_read_file(path, &src, &len, quiet ? &mine : d) != SG_OK) {
      ok = ok && quiet;
    } else {
      ok = sg_filters_add(out, path, src, len, quiet, d) && ok;
      free(src);
    }
    sg_diags_free(&mine);
  }
  return ok;
}

SgStatus sg_filters_apply(const SgFilters *f, SgUnit *u) {
  for (size_t i = 0; i < u->nrules; i++)
    for (size_t k = 0; k < f->n; k++)
      if (sg_filter_applies(f->v[k], u->rules[i]) && sg_filter_apply(&u->arena, u->rules[i], f->v[k]) != SG_OK)
        return SG_ERR_NOMEM;
  return SG_OK;
}

void sg_filters_free(SgFilters *f) {
  for (size_t i = 0; i < f->nunits; i++) {
    sg_unit_free(f->units[i]);
    free(f->units[i]);
  }
  free(f->units);
  free(f->v);
  memset(f, 0, sizeof *f);
}

typedef struct Entry {
  char *name;
  unsigned char type; /* DT_DIR, DT_REG or DT_UNKNOWN (then stat decides) */
} Entry;

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const Entry *)a)->name, ((const Entry *)b)->name);
}

static void walk_dir(const char *dir, SgPaths *out, size_t rel, int depth) {
  if (depth > 32) return;
  DIR *d = opendir(dir);
  if (!d) return;
  Entry *ents = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      Entry *v = realloc(ents, cap * sizeof *v);
      if (!v) break;
      ents = v;
    }
    ents[n].name = strdup(e->d_name);
    ents[n].type = e->d_type;
    if (ents[n].name) n++;
  }
  closedir(d);
  if (n) qsort(ents, n, sizeof *ents, cmp_entry); /* sorted: output order never depends on the file system */
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(dir) + strlen(ents[i].name) + 2;
    char *full = malloc(len);
    if (full) {
      snprintf(full, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", ents[i].name);
      struct stat st;
      bool is_dir = ents[i].type == DT_DIR ||
                    (ents[i].type == DT_UNKNOWN && stat(full, &st) == 0 && S_ISDIR(st.st_mode));
      if (is_dir) {
        walk_dir(full, out, rel, depth + 1);
        free(full);
      } else if (has_rule_ext(ents[i].name)) {
        paths_push(out, full, rel);
      } else {
        free(full);
      }
    }
    free(ents[i].name);
  }
  free(ents);
}

/* Expand arguments: files as given, directories recursively (sorted). A
 * directory without rule files is reported. Returns false on a missing path. */
bool sg_expand_paths(int argc, char **argv, SgPaths *out, SgDiags *d) {
  bool ok = true;
  for (int i = 0; i < argc; i++) {
    struct stat st;
    if (!strcmp(argv[i], "-")) {
      paths_push(out, strdup("-"), 0);
    } else if (stat(argv[i], &st) != 0) {
      sg_diag(d, SG_D_IO, (SgLoc){argv[i], 0, 0}, "cannot open: %s", strerror(errno));
      ok = false;
    } else if (S_ISDIR(st.st_mode)) {
      size_t before = out->n;
      size_t len = strlen(argv[i]);
      walk_dir(argv[i], out, len + (argv[i][len - 1] != '/'), 0);
      if (out->n == before) {
        sg_diag(d, SG_D_IO, (SgLoc){argv[i], 0, 0}, "is a directory with no .yml or .yaml files");
        ok = false;
      }
    } else {
      const char *slash = strrchr(argv[i], '/');
      paths_push(out, strdup(argv[i]), slash ? (size_t)(slash - argv[i]) + 1 : 0);
    }
  }
  return ok;
}

/* ---- Diagnostics output -------------------------------------------------------- */

void sg_print_diags(FILE *f, SgDiags *d, size_t from, const char *src, size_t len, bool json) {
  SgBuf b = {0};
  for (size_t i = from; i < d->n; i++) {
    if (json)
      sg_diag_render_json(&b, &d->items[i]);
    else
      sg_diag_render(&b, &d->items[i], src, len);
  }
  if (b.len) fwrite(b.data, 1, b.len, f);
  sg_buf_free(&b);
}

/* ---- check ----------------------------------------------------------------------- */

static int cmd_check(int argc, char **argv) {
  bool json = false;
  int nfiles = 0;
  char **files = calloc((size_t)argc + 1, sizeof *files);
  if (!files) return 2;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--json"))
      json = true;
    else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      free(files);
      printf("usage: sigmacc check [--json] PATH...\n");
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "sigmacc check: unknown option '%s'\n", argv[i]);
      free(files);
      return 2;
    } else
      files[nfiles++] = argv[i];
  }
  if (!nfiles) {
    fprintf(stderr, "usage: sigmacc check [--json] PATH...\n");
    free(files);
    return 2;
  }
  SgDiags d = {0};
  SgPaths paths = {0};
  bool io_ok = sg_expand_paths(nfiles, files, &paths, &d);
  free(files);
  sg_print_diags(stdout, &d, 0, NULL, 0, json);
  size_t nrules = 0, bad_files = 0, npipelines = 0;
  bool io_error = !io_ok;
  for (size_t i = 0; i < paths.n; i++) {
    size_t mark = d.n, errs = d.nerrors;
    char *src;
    size_t len;
    if (sg_read_file(paths.v[i], &src, &len, &d) != SG_OK) {
      io_error = true;
      sg_print_diags(stdout, &d, mark, NULL, 0, json);
      continue;
    }
    SgUnit u;
    SgStatus st = sg_compile_source(&u, paths.v[i], src, len, &d);
    if (u.pipeline) { /* a pipeline file beside the rules: validate it as one */
      SgPipeline *p;
      char *copy = sg_arena_strndup(&u.arena, u.src, u.srclen);
      if (copy) sg_pipeline_load(&u.arena, paths.v[i], copy, u.srclen, &p, &d);
      npipelines++;
    }
    if (st == SG_ERR_NOMEM) io_error = true;
    nrules += u.nrules;
    if (d.nerrors > errs) bad_files++;
    sg_print_diags(stdout, &d, mark, u.src, u.srclen, json);
    sg_unit_free(&u);
  }
  char piped[64] = "";
  if (npipelines) snprintf(piped, sizeof piped, ", %zu pipeline%s", npipelines, npipelines == 1 ? "" : "s");
  fprintf(json ? stderr : stdout, "checked %zu file%s, %zu rule%s%s: %zu error%s, %zu warning%s\n", paths.n,
          paths.n == 1 ? "" : "s", nrules, nrules == 1 ? "" : "s", piped, d.nerrors, d.nerrors == 1 ? "" : "s",
          d.nwarnings, d.nwarnings == 1 ? "" : "s");
  (void)bad_files;
  int rc = io_error ? 2 : d.nerrors ? 1 : 0;
  sg_paths_free(&paths);
  sg_diags_free(&d);
  return rc;
}

/* ---- list -------------------------------------------------------------------------- */

static int cmd_list(int argc, char **argv) {
  const char *what = argc ? argv[0] : "";
  if (!strcmp(what, "modifiers")) {
    size_t n;
    const SgModInfo *m = sg_modifier_list(&n);
    for (size_t i = 0; i < n; i++)
      printf("%-14s %s\n", m[i].name, m[i].help);
    return 0;
  }
  if (!strcmp(what, "targets")) return sg_cli_list_targets();
  if (!strcmp(what, "formats")) return sg_cli_list_formats(argc > 1 ? argv[1] : NULL);
  if (!strcmp(what, "pipelines")) return sg_cli_list_pipelines();
  fprintf(stderr, "usage: sigmacc list targets|formats [TARGET]|pipelines|modifiers\n");
  return 2;
}

static const char usage[] =
    "usage: sigmacc <command> [options]\n"
    "\n"
    "Commands:\n"
    "  convert -t TARGET [-p PIPELINE]... [-f FORMAT] [-O key=value]... [-s] [-o OUT] PATH...\n"
    "                     convert Sigma rules to queries (targets: aql, splunk, ast)\n"
    "  check [--json] PATH...\n"
    "                     validate rules; print located diagnostics\n"
    "  eval -r RULES... [-p PIPELINE]... [--fields F,...] [--stats] [EVENTS...]\n"
    "                     match rules against JSON events (evtx_dump shape or flat)\n"
    "  list targets|formats [TARGET]|pipelines|modifiers\n"
    "\n"
    "  --help, --version\n"
    "Run 'sigmacc <command> --help' for the options of a command.\n";

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(usage, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("sigmacc %s\n", SIGMACC_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "check")) return cmd_check(argc - 2, argv + 2);
  if (!strcmp(cmd, "list")) return cmd_list(argc - 2, argv + 2);
  if (!strcmp(cmd, "convert")) return sg_cli_convert(argc - 2, argv + 2);
  if (!strcmp(cmd, "eval")) return sg_cli_eval(argc - 2, argv + 2);
  fprintf(stderr, "sigmacc: unknown command '%s'\n\n%s", cmd, usage);
  return 2;
}
