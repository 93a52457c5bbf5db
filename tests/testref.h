/* testref.h - the reference tools' output files (../shared/reference/splunk/,
 * ../shared/reference/qradar/): one JSON object per line, `rule`, `status`,
 * `queries` or `error`. Shared by test_spl_reference.c and test_aql_reference.c. */
#ifndef SG_TESTREF_H
#define SG_TESTREF_H

#include "testutil.h"

#include "backend.h"

/* ---- The reference file: one JSON object per line ----------------------------------------- */

/* A JSON string at *p (which points at its opening quote) into `out`. */
static inline const char *json_string(const char *p, SgBuf *out) {
  assert_int_equal(*p, '"');
  for (p++; *p && *p != '"'; p++) {
    if (*p != '\\') {
      sg_buf_catc(out, *p);
      continue;
    }
    p++;
    switch (*p) {
    case 'n': sg_buf_catc(out, '\n'); break;
    case 't': sg_buf_catc(out, '\t'); break;
    case 'r': sg_buf_catc(out, '\r'); break;
    case 'b': sg_buf_catc(out, '\b'); break;
    case 'f': sg_buf_catc(out, '\f'); break;
    case 'u': {
      unsigned long c = strtoul((char[5]){p[1], p[2], p[3], p[4], 0}, NULL, 16);
      p += 4;
      if (c >= 0xd800 && c < 0xdc00 && p[1] == '\\' && p[2] == 'u') {
        unsigned long lo = strtoul((char[5]){p[3], p[4], p[5], p[6], 0}, NULL, 16);
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
      }
      if (c < 0x80) {
        sg_buf_catc(out, (char)c);
      } else if (c < 0x800) {
        sg_buf_catc(out, (char)(0xc0 | c >> 6));
        sg_buf_catc(out, (char)(0x80 | (c & 0x3f)));
      } else if (c < 0x10000) {
        sg_buf_catc(out, (char)(0xe0 | c >> 12));
        sg_buf_catc(out, (char)(0x80 | (c >> 6 & 0x3f)));
        sg_buf_catc(out, (char)(0x80 | (c & 0x3f)));
      } else {
        sg_buf_catc(out, (char)(0xf0 | c >> 18));
        sg_buf_catc(out, (char)(0x80 | (c >> 12 & 0x3f)));
        sg_buf_catc(out, (char)(0x80 | (c >> 6 & 0x3f)));
        sg_buf_catc(out, (char)(0x80 | (c & 0x3f)));
      }
      break;
    }
    default: sg_buf_catc(out, *p); /* \" \\ \/ */
    }
  }
  assert_int_equal(*p, '"');
  sg_buf_cstr(out);
  return p + 1;
}

typedef struct Ref {
  char *rule; /* path relative to the shared folder */
  bool ok;    /* status "ok" */
  char **q;   /* its queries */
  size_t nq;
} Ref;

static inline void ref_parse(const char *line, Ref *r) {
  memset(r, 0, sizeof *r);
  SgBuf b = {0};
  const char *p = strstr(line, "\"rule\": ");
  assert_non_null(p);
  json_string(p + 8, &b);
  r->rule = b.data;
  p = strstr(line, "\"status\": \"");
  assert_non_null(p);
  r->ok = !strncmp(p + 11, "ok\"", 3);
  p = strstr(line, "\"queries\": [");
  if (!r->ok || !p) return;
  for (p += 12; *p == '"';) {
    SgBuf q = {0};
    p = json_string(p, &q);
    r->q = realloc(r->q, (r->nq + 1) * sizeof *r->q);
    r->q[r->nq++] = q.data ? q.data : calloc(1, 1);
    while (*p == ',' || *p == ' ')
      p++;
  }
}

static inline void ref_free(Ref *r) {
  for (size_t i = 0; i < r->nq; i++)
    free(r->q[i]);
  free(r->q);
  free(r->rule);
}

/* The reference file ../shared/reference/DIR/JSONL (the corpus's parent:
 * ../shared, or $SIGMACC_CORPUS/..), that folder in `shared`; NULL when it or
 * the corpus's rules are absent (the test skips). */
static inline char *ref_load(const char *dir, const char *jsonl, char shared[2048]) {
  const char *corpus_env = getenv("SIGMACC_CORPUS");
  char path[4096];
  snprintf(shared, 2048, "%s/..", corpus_env ? corpus_env : SIGMACC_SOURCE_DIR "/../shared/sigmahq");
  snprintf(path, sizeof path, "%s/sigmahq/rules", shared);
  DIR *corpus = opendir(path);
  if (!corpus) return NULL;
  closedir(corpus);
  snprintf(path, sizeof path, "%s/reference/%s/%s", shared, dir, jsonl);
  return tu_slurp(path, NULL);
}

/* Convert the reference's rule (`rule`, relative to `shared`) with `t` and
 * `set` as `convert` does; false when it does not convert whole. */
static inline bool ref_convert(const char *shared, const char *rule, const SgTarget *t,
                               const SgPipelineSet *set, SgUnit *u, SgQueries *q, SgDiags *d) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", shared, rule);
  char *src;
  size_t len;
  memset(u, 0, sizeof *u);
  if (sg_read_file(path, &src, &len, d) != SG_OK || sg_compile_source(u, path, src, len, d) != SG_OK)
    return false;
  bool converted = true;
  SgConvCtx ctx = {.format = "default"};
  for (size_t i = 0; i < u->nrules; i++)
    if (sg_convert_rule(t, &ctx, set, u, u->rules[i], q, d) != SG_OK) converted = false;
  return converted;
}

#endif
