/* testutil.h - helpers shared by the cmocka tests: compile YAML text and
 * look at the dump or the diagnostics. */
#ifndef SG_TESTUTIL_H
#define SG_TESTUTIL_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sigmacc_int.h"

typedef struct TUnit {
  SgUnit u;
  SgDiags d;
  SgStatus st;
  SgBuf dump;  /* sg_dump_rule of every rule */
  SgBuf diags; /* rendered diagnostics, without source lines */
} TUnit;

static inline void tu_compile(TUnit *t, const char *yaml, size_t len) {
  memset(t, 0, sizeof *t);
  char *src = malloc(len + 1);
  assert_non_null(src);
  memcpy(src, yaml, len);
  src[len] = '\0';
  t->st = sg_compile_source(&t->u, "t.yml", src, len, &t->d);
  for (size_t i = 0; i < t->u.nrules; i++)
    sg_dump_rule(&t->dump, t->u.rules[i]);
  for (size_t i = 0; i < t->d.n; i++)
    sg_diag_render(&t->diags, &t->d.items[i], NULL, 0);
  sg_buf_cstr(&t->dump);
  sg_buf_cstr(&t->diags);
}

static inline void tu_free(TUnit *t) {
  sg_unit_free(&t->u);
  sg_diags_free(&t->d);
  sg_buf_free(&t->dump);
  sg_buf_free(&t->diags);
}

/* Read a whole file into a NUL-terminated heap buffer. */
static inline char *tu_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  SgBuf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    sg_buf_catn(&b, chunk, n);
  fclose(f);
  sg_buf_cstr(&b);
  if (len) *len = b.len;
  return b.data;
}

/* Comment blocks of a table-driven test file: lines after "# expect:" (their
 * "# " stripped) into `want`, and each "# diag: X" line's X into `diags`. */
static inline void tu_expectations(const char *text, SgBuf *want, SgBuf *diags) {
  bool in_expect = false;
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    bool is_diag = n >= 8 && !strncmp(line, "# diag: ", 8);
    bool is_warn = n >= 8 && !strncmp(line, "# warn: ", 8); /* test_backend reads those itself */
    if (n >= 9 && !strncmp(line, "# expect:", 9)) {
      in_expect = true;
    } else if (in_expect && n >= 2 && !strncmp(line, "# ", 2) && !is_diag && !is_warn) {
      sg_buf_catn(want, line + 2, n - 2);
      sg_buf_catc(want, '\n');
    } else {
      in_expect = false;
    }
    if (is_diag) {
      sg_buf_catn(diags, line + 8, n - 8);
      sg_buf_catc(diags, '\n');
    }
    line = nl ? nl + 1 : NULL;
  }
  sg_buf_cstr(want);
  sg_buf_cstr(diags);
}

static int tu_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Run `fn` once per DIR/ *.yml file (sorted), each as its own cmocka test;
 * with `fn2`, a second pass runs fn2 over the same files. */
static inline int tu_run_dir(const char *group, const char *dir, CMUnitTestFunction fn,
                             CMUnitTestFunction fn2) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "cannot open %s\n", dir);
    return 1;
  }
  char **paths = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 4, ".yml")) continue;
    paths = realloc(paths, (n + 1) * sizeof *paths);
    paths[n] = malloc(strlen(dir) + l + 2);
    sprintf(paths[n++], "%s/%s", dir, e->d_name);
  }
  closedir(d);
  qsort(paths, n, sizeof *paths, tu_cmp_str);
  size_t passes = fn2 ? 2 : 1;
  struct CMUnitTest *tests = calloc(passes * n + 1, sizeof *tests);
  for (size_t i = 0; i < n; i++)
    for (size_t p = 0; p < passes; p++)
      tests[p * n + i] = (struct CMUnitTest){strrchr(paths[i], '/') + 1, p ? fn2 : fn, NULL, NULL, paths[i]};
  int rc = _cmocka_run_group_tests(group, tests, passes * n, NULL, NULL);
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
  free(tests);
  return rc;
}

#endif
