/* json.h - streaming JSON event input for the evaluator.
 *
 * SgJReader splits a stream into documents without holding more than one
 * document (plus a read buffer) in memory: JSON lines, a top-level array of
 * objects, or objects concatenated (pretty-printed or not). sg_json_parse
 * turns one document into a flat list of leaves, each with its dotted path
 * and its short name (the last key; `X.#attributes.Y` -> `X_Y`, `X.#text`
 * -> `X`, array elements keep the array's name).
 */
#ifndef SG_JSON_H
#define SG_JSON_H

#include <stdio.h>

#include "sigma.h"

#define SG_JSON_MAX_DOC (64u << 20) /* one event larger than this is skipped */
#define SG_JSON_MAX_DEPTH 128

typedef struct SgJReader {
  FILE *f;
  char *buf;
  size_t len, cap, pos;
  size_t line;   /* 1-based line of pos */
  int mode;      /* 0 unknown, 1 lines, 2 multi-line objects */
  bool in_array; /* inside a top-level [ ... ] */
  bool eof;
  size_t bytes; /* total bytes consumed */
} SgJReader;

typedef enum SgJNext { SG_J_DOC, SG_J_END, SG_J_BAD } SgJNext;

void sg_jreader_init(SgJReader *r, FILE *f);
void sg_jreader_free(SgJReader *r);
/* The next document: *doc and *len point into the reader's buffer until the next
 * call; *line is where it starts. SG_J_BAD: *len bytes at *line were skipped
 * as not JSON (*msg says why). */
SgJNext sg_jreader_next(SgJReader *r, const char **doc, size_t *len, size_t *line, const char **msg);

typedef enum SgJType { SG_J_NULL, SG_J_BOOL, SG_J_NUM, SG_J_STR } SgJType;

typedef struct SgJLeaf {
  uint32_t path, pathlen; /* dotted path, offset into SgJDoc.text */
  uint32_t name, namelen; /* short name, offset into SgJDoc.text */
  uint32_t val, vallen;   /* value text (unescaped string, number as written, true/false) */
  SgJType type;
} SgJLeaf;

typedef struct SgJDoc {
  SgJLeaf *leaves;
  size_t n, cap;
  char *text; /* paths, names and values, NUL-separated */
  size_t tlen, tcap;
} SgJDoc;

void sg_jdoc_free(SgJDoc *d);
/* The first leaf whose short name or dotted path is f[0..n), or NULL. */
const SgJLeaf *sg_jdoc_find(const SgJDoc *d, const char *f, size_t n);
/* Parse one document; on error returns false with the offset and reason. */
bool sg_json_parse(SgJDoc *d, const char *s, size_t n, size_t *err_off, const char **err);

#endif
