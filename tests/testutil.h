/* testutil.h - helpers shared by the cmocka tests: compile YAML text and
 * look at the dump or the diagnostics. */
#ifndef SG_TESTUTIL_H
#define SG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sigma.h"

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

#endif
