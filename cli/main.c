/* main.c - the sigmacc command line: argument parsing, file walking, printing
 * and exit codes. All compiling is done by the library.
 *
 * Exit codes: 0 success, 1 a rule had errors (or a conversion failed),
 * 2 usage or I/O error.
 */
#define _DEFAULT_SOURCE /* DT_DIR */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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

void sg_render_diags(SgBuf *out, SgDiags *d, const char *src, size_t len, bool json) {
  char *text = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&text, &n);
  if (!f) return;
  sg_print_diags(f, d, 0, src, len, json);
  fclose(f);
  sg_buf_catn(out, text, n);
  free(text);
}

/* ---- check ----------------------------------------------------------------------- */

typedef struct CheckResult {
  SgBuf out; /* its diagnostics, rendered */
  size_t rules, errors, warnings;
  bool pipeline, io_error;
} CheckResult;

typedef struct Check {
  const SgPaths *paths;
  bool json;
  CheckResult *res;
} Check;

static void check_file(void *arg, size_t i) {
  Check *c = arg;
  CheckResult *r = &c->res[i];
  SgDiags d = {0};
  char *src;
  size_t len;
  if (sg_read_file(c->paths->v[i], &src, &len, &d) != SG_OK) {
    r->io_error = true;
    r->errors = d.nerrors;
    sg_render_diags(&r->out, &d, NULL, 0, c->json);
    sg_diags_free(&d);
    return;
  }
  SgUnit u;
  SgStatus st = sg_compile_source(&u, c->paths->v[i], src, len, &d);
  if (u.pipeline) { /* a pipeline file beside the rules: validate it as one */
    SgPipeline *p;
    char *copy = sg_arena_strndup(&u.arena, u.src, u.srclen);
    if (copy) sg_pipeline_load(&u.arena, c->paths->v[i], copy, u.srclen, &p, &d);
    r->pipeline = true;
  }
  r->io_error = st == SG_ERR_NOMEM;
  r->rules = u.nrules;
  r->errors = d.nerrors;
  r->warnings = d.nwarnings;
  sg_render_diags(&r->out, &d, u.src, u.srclen, c->json);
  sg_unit_free(&u);
  sg_diags_free(&d);
}

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
  Check c = {&paths, json, calloc(paths.n + 1, sizeof *c.res)};
  if (!c.res) return sg_paths_free(&paths), sg_diags_free(&d), 2;
  sg_parallel_for(paths.n, check_file, &c);
  size_t nrules = 0, npipelines = 0, nerrors = d.nerrors, nwarnings = d.nwarnings;
  bool io_error = !io_ok;
  for (size_t i = 0; i < paths.n; i++) { /* in path order */
    CheckResult *r = &c.res[i];
    if (r->out.len) fwrite(r->out.data, 1, r->out.len, stdout);
    nrules += r->rules;
    npipelines += r->pipeline;
    nerrors += r->errors;
    nwarnings += r->warnings;
    io_error |= r->io_error;
    sg_buf_free(&r->out);
  }
  free(c.res);
  char piped[64] = "";
  if (npipelines) snprintf(piped, sizeof piped, ", %zu pipeline%s", npipelines, npipelines == 1 ? "" : "s");
  fprintf(json ? stderr : stdout, "checked %zu file%s, %zu rule%s%s: %zu error%s, %zu warning%s\n", paths.n,
          paths.n == 1 ? "" : "s", nrules, nrules == 1 ? "" : "s", piped, nerrors, nerrors == 1 ? "" : "s",
          nwarnings, nwarnings == 1 ? "" : "s");
  int rc = io_error ? 2 : nerrors ? 1 : 0;
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
