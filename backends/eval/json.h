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

#include "sigmacc.h"

#define SG_JSON_MAX_DOC (64u << 20) /* one event larger than this is skipped */
#define SG_JSON_MAX_DEPTH 128

typedef struct SgJReader {
  FILE *f;
  char *buf;
  size_t len, cap, pos;
  size_t line;   /* 1-based line of pos (LF, CRLF and a lone CR each end a line) */
  int mode;      /* 0 unknown, 1 lines, 2 multi-line objects */
  char eol;      /* what ends a JSON line: '\n', or '\r' in CR-only input */
  bool cr;       /* the last byte counted was a CR (its LF is not a new line) */
  bool in_array; /* inside a top-level [ ... ] */
  bool started;  /* the byte order mark check is done */
  bool eof;
  bool ioerr;     /* reading failed (not the end of the input) */
  bool nomem;     /* the buffer could not grow */
  size_t bytes;   /* total bytes consumed */
  size_t max_doc; /* a larger document is skipped (SG_JSON_MAX_DOC; tests lower it) */
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
/* Parse one document (a JSON object, nothing after it); on error returns
 * false with the offset and reason. */
bool sg_json_parse(SgJDoc *d, const char *s, size_t n, size_t *err_off, const char **err);
/* Parse the object at the start of s[0..n) (after white space); *used is
 * where the next one may start (white space after it skipped). */
bool sg_json_parse_one(SgJDoc *d, const char *s, size_t n, size_t *used, size_t *err_off, const char **err);

/* The events of one input: the reader's documents, each parsed; one line of
 * JSON lines may hold several objects. A document that is not a valid event
 * is skipped and reported (SG_EV_SKIP), and reading goes on after it: the
 * next line for JSON lines, the next object otherwise. */
typedef struct SgEventIn {
  SgJReader rd;
  SgJDoc doc;       /* the current event, parsed */
  const char *rest; /* the unread part of the reader's current document */
  size_t nrest, rest_line;
  size_t events, skipped;
  char msg[96];
} SgEventIn;

typedef enum SgEvNext { SG_EV_EVENT, SG_EV_SKIP, SG_EV_NOMEM, SG_EV_END } SgEvNext;

void sg_events_init(SgEventIn *in, FILE *f);
void sg_events_free(SgEventIn *in);
/* SG_EV_EVENT: in->doc is the event, text[0..len) its JSON, *line where it
 * starts. SG_EV_SKIP: a document at *line was skipped because of *msg.
 * SG_EV_NOMEM: memory ran out reading the document at *line (not evaluated).
 * SG_EV_END: the input is done; in->rd.ioerr or in->rd.nomem say whether it
 * ended early. */
SgEvNext sg_events_next(SgEventIn *in, const char **text, size_t *len, size_t *line, const char **msg);

#endif
