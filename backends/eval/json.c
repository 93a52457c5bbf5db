/* json.c - split a JSON stream into documents and flatten one document into
 * leaves (see json.h). Never reads the whole input: the reader keeps one
 * document plus a read-ahead buffer; an oversized document is skipped.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "evaluator.h"

/* ==== Reader ===================================================================== */

void sg_jreader_init(SgJReader *r, FILE *f) {
  memset(r, 0, sizeof *r);
  r->f = f;
  r->line = 1;
  r->eol = '\n';
  r->max_doc = SG_JSON_MAX_DOC;
}

void sg_jreader_free(SgJReader *r) {
  free(r->buf);
  r->buf = NULL;
  if (r->gz) inflateEnd(r->gz);
  free(r->gz);
  free(r->zin);
  r->gz = NULL;
  r->zin = NULL;
}

enum { ZCHUNK = 1 << 16 };

/* Up to n bytes of the input: the file's, or inflated from it when it is
 * gzip (members one after another, as gzip -c a b writes them). */
static size_t raw_read(SgJReader *r, char *dst, size_t n) {
  if (!r->gz) return fread(dst, 1, n, r->f);
  z_stream *z = r->gz;
  z->next_out = (unsigned char *)dst;
  z->avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
  uInt want = z->avail_out;
  while (z->avail_out == want) {
    if (!z->avail_in) {
      size_t got = fread(r->zin, 1, ZCHUNK, r->f);
      if (!got) {
        if (!ferror(r->f) && !r->gz_done) r->gz_error = "the gzip input is truncated";
        break;
      }
      z->next_in = r->zin;
      z->avail_in = (uInt)got;
    }
    int rc = inflate(z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) { /* a member ends; another may follow */
      r->gz_done = true;
      inflateReset(z);
      continue;
    }
    r->gz_done = false;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      r->gz_error = "the gzip input is corrupt";
      break;
    }
  }
  return want - z->avail_out;
}

/* Make at least one more byte available past `end`; false at end of input
 * (or on a read error, kept in r->ioerr). */
static bool fill(SgJReader *r, size_t end) {
  if (end < r->len) return true;
  if (r->eof) return false;
  if (r->pos > 0 && r->pos >= r->cap / 2) { /* drop consumed bytes */
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    end -= r->pos;
    r->pos = 0;
  }
  if (r->len == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 1 << 16;
    char *b = realloc(r->buf, cap);
    if (!b) {
      r->eof = r->nomem = true;
      return false;
    }
    r->buf = b;
    r->cap = cap;
  }
  size_t n = raw_read(r, r->buf + r->len, r->cap - r->len);
  if (n == 0) {
    r->eof = true;
    r->ioerr = ferror(r->f) != 0 || r->gz_error;
    return end < r->len;
  }
  r->len += n;
  r->bytes += n;
  return end < r->len;
}

/* Count a line break: LF, CRLF (once) or a lone CR. */
static void count_eol(SgJReader *r, char c) {
  if (c == '\n') {
    if (!r->cr) r->line++;
    r->cr = false;
  } else {
    r->cr = c == '\r';
    if (r->cr) r->line++;
  }
}

/* Consume the rest of the current line. */
static size_t skip_line(SgJReader *r) {
  size_t skipped = 0;
  while (fill(r, r->pos)) {
    char c = r->buf[r->pos++];
    skipped++;
    if (c == '\n' || c == '\r') {
      count_eol(r, c);
      if (c == '\r' && fill(r, r->pos) && r->buf[r->pos] == '\n') count_eol(r, r->buf[r->pos++]);
      break;
    }
  }
  return skipped;
}

/* The input's kind, from its first bytes: gzip is inflated as it is read;
 * EVTX is read by SgEventIn; other binary files are not events (nothing is
 * read from them); a UTF-8 byte order mark is not part of the text. */
static void start(SgJReader *r) {
  r->started = true;
  fill(r, 1);
  if (r->len >= 2 && (unsigned char)r->buf[0] == 0x1f && (unsigned char)r->buf[1] == 0x8b) {
    z_stream *z = calloc(1, sizeof *z);
    r->zin = malloc(r->len > ZCHUNK ? r->len : ZCHUNK);
    if (!z || !r->zin || inflateInit2(z, 16 + MAX_WBITS) != Z_OK) { /* 16: the gzip wrapper */
      free(z);
      r->eof = r->nomem = true;
      return;
    }
    memcpy(r->zin, r->buf, r->len); /* what was read is the compressed stream's start */
    z->next_in = r->zin;
    z->avail_in = (uInt)r->len;
    r->gz = z;
    r->len = r->bytes = 0;
    r->eof = false;
    fill(r, 1);
  }
  if (r->len >= 8 && !memcmp(r->buf, "ElfFile\0", 8)) {
    r->evtx = true;
    return;
  } else {
    size_t probe = r->len < 4096 ? r->len : 4096;
    if (probe && memchr(r->buf, '\0', probe))
      r->not_events = "a binary file, not events (neither EVTX, JSON lines, a JSON array nor gzip of them)";
  }
  if (r->not_events) {
    r->eof = true;
    r->pos = r->len;
    return;
  }
  if (fill(r, 2) && !memcmp(r->buf, "\xEF\xBB\xBF", 3)) r->pos = 3;
  if (r->json_only) { /* a file found in a directory: JSON events or not events at all */
    size_t i = r->pos;
    while (fill(r, i) && (r->buf[i] == ' ' || r->buf[i] == '\t' || r->buf[i] == '\n' || r->buf[i] == '\r'))
      i++;
    if (fill(r, i) && r->buf[i] != '{' && r->buf[i] != '[') {
      r->not_events = "not events (neither EVTX nor JSON: its text does not start with { or [)";
      r->eof = true;
      r->pos = r->len;
    }
  }
}

/* Up to n more bytes of the input (fewer only at its end, or when reading
 * failed: r->ioerr, r->gz_error). */
static size_t read_bytes(SgJReader *r, void *dst, size_t n) {
  size_t k = r->len - r->pos < n ? r->len - r->pos : n;
  if (k) memcpy(dst, r->buf + r->pos, k);
  r->pos += k;
  while (k < n && !r->eof) {
    size_t got = raw_read(r, (char *)dst + k, n - k);
    if (!got) {
      r->eof = true;
      r->ioerr = ferror(r->f) != 0 || r->gz_error;
    }
    k += got;
    r->bytes += got;
  }
  return k;
}

static SgJNext bad(SgJReader *r, const char *why, size_t n, size_t *len, const char **msg) {
  *msg = why;
  *len = n;
  (void)r;
  return SG_J_BAD;
}

/* JSON lines: the document is the line (LF, CRLF, or CR where the input
 * ends its lines with CR alone). */
static SgJNext next_line(SgJReader *r, const char **doc, size_t *len, const char **msg) {
  size_t off = 0;
  const char *nl;
  while (!(nl = memchr(r->buf + r->pos + off, r->eol, r->len - r->pos - off))) {
    off = r->len - r->pos;
    if (off > r->max_doc)
      return bad(r, "event is larger than the limit and was skipped", skip_line(r), len, msg);
    if (!fill(r, r->len)) break;
  }
  size_t end = nl ? (size_t)(nl - r->buf) : r->len;
  size_t start = r->pos;
  while (end > start && (r->buf[end - 1] == '\r' || r->buf[end - 1] == ' ' || r->buf[end - 1] == '\t'))
    end--;
  if (end - start > r->max_doc)
    return bad(r, "event is larger than the limit and was skipped", skip_line(r), len, msg);
  r->pos = nl ? (size_t)(nl - r->buf) + 1 : r->len;
  if (nl) count_eol(r, r->eol);
  *doc = r->buf + start;
  *len = end - start;
  return SG_J_DOC;
}

SgJNext sg_jreader_next(SgJReader *r, const char **doc, size_t *len, size_t *line, const char **msg) {
  if (!r->started) start(r);
  for (;;) {
    while (fill(r, r->pos)) {
      char c = r->buf[r->pos];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
      if (c == '\r' && r->mode != 2 && fill(r, r->pos + 1) && r->buf[r->pos + 1] != '\n') r->eol = '\r';
      count_eol(r, c);
      r->pos++;
    }
    if (!fill(r, r->pos)) return SG_J_END;
    char c = r->buf[r->pos];
    if (c == '[' && !r->in_array) {
      r->in_array = true;
      r->pos++;
      continue;
    }
    if (r->in_array && (c == ',' || c == ']')) {
      r->in_array = c == ',';
      r->pos++;
      continue;
    }
    *line = r->line;
    if (c != '{') return bad(r, "not a JSON object", skip_line(r), len, msg);
    if (r->mode == 1 && !r->in_array) return next_line(r, doc, len, msg);
    /* scan to the matching brace; offsets are relative to r->pos because
     * fill() may move the buffer. A `{` at the start of a line inside an
     * unclosed object starts the next document: the broken one ends there,
     * so one bad object never swallows the rest of the input. */
    size_t off = 0, depth = 0, skipped = 0, line0 = r->line;
    bool str = false, esc = false, big = false;
    for (;; off++) {
      if (r->pos + off >= r->len && !fill(r, r->pos + off)) {
        r->pos = r->len;
        return bad(r, "JSON object is not closed at the end of the input", skipped + off, len, msg);
      }
      if (off > (1u << 20) && skipped + off > r->max_doc) { /* keep memory flat: forget the scanned part */
        big = true;
        skipped += off;
        r->pos += off;
        off = 0;
      }
      char ch = r->buf[r->pos + off];
      if (str) { /* the common case: skip string bytes quickly */
        if (esc) {
          esc = false;
        } else if (ch == '\\') {
          esc = true;
        } else if (ch == '"') {
          str = false;
        } else if (ch == '\n' || ch == '\r') {
          goto newline;
        }
        continue;
      }
      if (ch == '"') {
        str = true;
      } else if (ch == '{' || ch == '[') {
        depth++;
      } else if ((ch == '}' || ch == ']') && --depth == 0) {
        break;
      } else if (ch == '\n' || ch == '\r') {
      newline:
        count_eol(r, ch);
        if (r->mode == 1) { /* JSON lines: a document never spans lines */
          r->pos += off;
          return bad(r, "JSON object is not closed at the end of the line", skipped + off, len, msg);
        }
        if (fill(r, r->pos + off + 1) && r->buf[r->pos + off + 1] == '{') {
          r->pos += off + 1;
          return bad(r, "JSON object is not closed before the next object", skipped + off + 1, len, msg);
        }
      }
    }
    size_t start = r->pos;
    r->pos += off + 1;
    if (r->mode == 0) r->mode = r->line != line0 ? 2 : 1;
    if (big || skipped + off + 1 > r->max_doc)
      return bad(r, "event is larger than the limit and was skipped", skipped + off + 1, len, msg);
    *doc = r->buf + start;
    *len = off + 1;
    return SG_J_DOC;
  }
}

/* ==== Parser ===================================================================== */

static const char oom_msg[] = "out of memory"; /* compared by address: not a malformed event */

const SgJLeaf *sg_jdoc_find(const SgJDoc *d, const char *f, size_t n) {
  for (size_t i = 0; i < d->n; i++) {
    const SgJLeaf *l = &d->leaves[i];
    if ((l->namelen == n && !memcmp(d->text + l->name, f, n)) ||
        (l->pathlen == n && !memcmp(d->text + l->path, f, n)))
      return l;
  }
  return NULL;
}

void sg_jdoc_free(SgJDoc *d) {
  free(d->leaves);
  free(d->text);
  memset(d, 0, sizeof *d);
}

typedef struct P {
  SgJDoc *d;
  const char *s;
  size_t n, i;
  const char *err;
  /* the key path: offsets/lengths of each key inside `keys` */
  char *keys;
  size_t klen, kcap;
  uint32_t koff[SG_JSON_MAX_DEPTH + 2], kl[SG_JSON_MAX_DEPTH + 2];
  int depth; /* keys on the path */
  int nest;  /* open objects and arrays: bounded, so no input can exhaust the stack */
} P;

static bool text_reserve(SgJDoc *d, size_t extra) {
  if (d->tlen + extra <= d->tcap) return true;
  size_t cap = d->tcap ? d->tcap : 4096;
  while (cap < d->tlen + extra)
    cap *= 2;
  char *t = realloc(d->text, cap);
  if (!t) return false;
  d->text = t;
  d->tcap = cap;
  return true;
}

static uint32_t text_add(SgJDoc *d, const char *s, size_t n) {
  if (!text_reserve(d, n + 1)) return UINT32_MAX;
  uint32_t off = (uint32_t)d->tlen;
  if (n) memcpy(d->text + d->tlen, s, n);
  d->text[d->tlen + n] = '\0';
  d->tlen += n + 1;
  return off;
}

static void ws(P *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
    p->i++;
}

static void put_utf8(char *o, size_t *k, uint32_t cp) {
  if (cp < 0x80) {
    o[(*k)++] = (char)cp;
  } else if (cp < 0x800) {
    o[(*k)++] = (char)(0xC0 | (cp >> 6));
    o[(*k)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    o[(*k)++] = (char)(0xE0 | (cp >> 12));
    o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[(*k)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    o[(*k)++] = (char)(0xF0 | (cp >> 18));
    o[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[(*k)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static int hex4(const char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      return -1;
  }
  return v;
}

/* A string at p->i (after the quote); unescaped into d->text. */
static bool string(P *p, uint32_t *off, uint32_t *len) {
  size_t start = p->i, end = start;
  bool has_esc = false;
  /* skip eight plain bytes at a time: no quote, backslash or control byte */
  while (end + 8 <= p->n) {
    uint64_t x;
    memcpy(&x, p->s + end, 8);
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t special = ((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x);
    if (special & highs) break;
    end += 8;
  }
  while (end < p->n && p->s[end] != '"') {
    if (p->s[end] == '\\') {
      has_esc = true;
      end++;
    } else if ((unsigned char)p->s[end] < 0x20) {
      p->i = end;
      p->err = "control character in a string";
      return false;
    }
    end++;
  }
  if (end >= p->n) {
    p->err = "string is not closed";
    return false;
  }
  if (!text_reserve(p->d, end - start + 1)) return p->err = oom_msg, false;
  char *o = p->d->text + p->d->tlen;
  size_t k = 0;
  if (!has_esc) {
    memcpy(o, p->s + start, end - start);
    k = end - start;
  } else {
    for (size_t i = start; i < end; i++) {
      char c = p->s[i];
      if (c != '\\') {
        o[k++] = c;
        continue;
      }
      c = p->s[++i];
      switch (c) {
      case 'n': o[k++] = '\n'; break;
      case 't': o[k++] = '\t'; break;
      case 'r': o[k++] = '\r'; break;
      case 'b': o[k++] = '\b'; break;
      case 'f': o[k++] = '\f'; break;
      case '"':
      case '\\':
      case '/': o[k++] = c; break;
      case 'u': {
        int v = i + 4 < end + 1 ? hex4(p->s + i + 1) : -1;
        if (v < 0) {
          p->i = i;
          p->err = "bad \\u escape";
          return false;
        }
        i += 4;
        uint32_t cp = (uint32_t)v;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < end + 1 && p->s[i + 1] == '\\' && p->s[i + 2] == 'u') {
          int lo = hex4(p->s + i + 3);
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD; /* lone surrogate */
        put_utf8(o, &k, cp);
        break;
      }
      default:
        p->i = i;
        p->err = "bad escape in a string";
        return false;
      }
    }
  }
  o[k] = '\0';
  *off = (uint32_t)p->d->tlen;
  *len = (uint32_t)k;
  p->d->tlen += k + 1;
  p->i = end + 1;
  return true;
}

/* The leaf's short name from the key path. */
static void short_name(P *p, const char **s, size_t *n, char *tmp, size_t tmpcap) {
  int d = p->depth;
  const char *k = p->keys + p->koff[d];
  size_t l = p->kl[d];
  if (d >= 1 && l == 5 && !memcmp(k, "#text", 5)) {
    *s = p->keys + p->koff[d - 1];
    *n = p->kl[d - 1];
    return;
  }
  if (d >= 2 && p->kl[d - 1] == 11 && !memcmp(p->keys + p->koff[d - 1], "#attributes", 11)) {
    size_t pl = p->kl[d - 2];
    if (pl + 1 + l < tmpcap) {
      memcpy(tmp, p->keys + p->koff[d - 2], pl);
      tmp[pl] = '_';
      memcpy(tmp + pl + 1, k, l);
      *s = tmp;
      *n = pl + 1 + l;
      return;
    }
  }
  *s = k;
  *n = l;
}

static bool leaf(P *p, SgJType t, uint32_t val, uint32_t vallen) {
  SgJDoc *d = p->d;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 64;
    SgJLeaf *l = realloc(d->leaves, cap * sizeof *l);
    if (!l) return p->err = oom_msg, false;
    d->leaves = l;
    d->cap = cap;
  }
  /* dotted path: keys joined by '.', skipping array levels (no key) */
  size_t plen = 0;
  for (int i = 1; i <= p->depth; i++)
    plen += p->kl[i] + 1;
  if (!text_reserve(d, plen + 1)) return p->err = oom_msg, false;
  uint32_t path = (uint32_t)d->tlen;
  char *o = d->text + d->tlen;
  size_t k = 0;
  for (int i = 1; i <= p->depth; i++) {
    if (k) o[k++] = '.';
    memcpy(o + k, p->keys + p->koff[i], p->kl[i]);
    k += p->kl[i];
  }
  o[k] = '\0';
  d->tlen += k + 1;
  char tmp[256];
  const char *ns;
  size_t nn;
  short_name(p, &ns, &nn, tmp, sizeof tmp);
  uint32_t name = text_add(d, ns, nn);
  if (name == UINT32_MAX) return p->err = oom_msg, false;
  d->leaves[d->n++] = (SgJLeaf){path, (uint32_t)k, name, (uint32_t)nn, val, vallen, t};
  return true;
}

static bool value(P *p);

static bool push_key(P *p, const char *k, size_t n) {
  if (p->depth >= SG_JSON_MAX_DEPTH) return p->err = "nesting too deep", false;
  if (p->klen + n + 1 > p->kcap) {
    size_t cap = p->kcap ? p->kcap * 2 : 1024;
    while (cap < p->klen + n + 1)
      cap *= 2;
    char *kk = realloc(p->keys, cap);
    if (!kk) return p->err = oom_msg, false;
    p->keys = kk;
    p->kcap = cap;
  }
  memcpy(p->keys + p->klen, k, n);
  p->depth++;
  p->koff[p->depth] = (uint32_t)p->klen;
  p->kl[p->depth] = (uint32_t)n;
  p->klen += n;
  return true;
}

static void pop_key(P *p) {
  p->klen = p->koff[p->depth];
  p->depth--;
}

static bool object(P *p) {
  p->i++; /* { */
  ws(p);
  if (p->i < p->n && p->s[p->i] == '}') {
    p->i++;
    return true;
  }
  for (;;) {
    ws(p);
    if (p->i >= p->n || p->s[p->i] != '"') return p->err = "expected a key", false;
    p->i++;
    uint32_t off, len;
    size_t mark = p->d->tlen;
    if (!string(p, &off, &len)) return false;
    bool ok = push_key(p, p->d->text + off, len);
    p->d->tlen = mark; /* the key text lives in p->keys */
    if (!ok) return false;
    ws(p);
    if (p->i >= p->n || p->s[p->i] != ':') return p->err = "expected ':'", false;
    p->i++;
    if (!value(p)) return false;
    pop_key(p);
    ws(p);
    if (p->i < p->n && p->s[p->i] == ',') {
      p->i++;
      continue;
    }
    if (p->i < p->n && p->s[p->i] == '}') {
      p->i++;
      return true;
    }
    return p->err = "expected ',' or '}'", false;
  }
}

static bool array(P *p) {
  p->i++; /* [ */
  ws(p);
  if (p->i < p->n && p->s[p->i] == ']') {
    p->i++;
    return true;
  }
  for (;;) {
    if (!value(p)) return false; /* elements keep the array's key path */
    ws(p);
    if (p->i < p->n && p->s[p->i] == ',') {
      p->i++;
      continue;
    }
    if (p->i < p->n && p->s[p->i] == ']') {
      p->i++;
      return true;
    }
    return p->err = "expected ',' or ']'", false;
  }
}

static bool number(P *p) {
  size_t i = p->i;
  if (i < p->n && p->s[i] == '-') i++;
  size_t digits = i;
  while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
    i++;
  if (i == digits) return p->err = "bad number", false;
  if (i < p->n && p->s[i] == '.') {
    size_t f = ++i;
    while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
      i++;
    if (i == f) return p->err = "bad number", false;
  }
  if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
    i++;
    if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) i++;
    size_t e = i;
    while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
      i++;
    if (i == e) return p->err = "bad number", false;
  }
  uint32_t off = text_add(p->d, p->s + p->i, i - p->i);
  if (off == UINT32_MAX) return p->err = oom_msg, false;
  bool ok = leaf(p, SG_J_NUM, off, (uint32_t)(i - p->i));
  p->i = i;
  return ok;
}

static bool literal(P *p, const char *word, SgJType t) {
  size_t n = strlen(word);
  if (p->n - p->i < n || memcmp(p->s + p->i, word, n)) return p->err = "unexpected token", false;
  uint32_t off = text_add(p->d, word, t == SG_J_NULL ? 0 : n);
  if (off == UINT32_MAX) return p->err = oom_msg, false;
  p->i += n;
  return leaf(p, t, off, t == SG_J_NULL ? 0 : (uint32_t)n);
}

static bool value(P *p) {
  ws(p);
  if (p->i >= p->n) return p->err = "unexpected end of the event", false;
  switch (p->s[p->i]) {
  case '{':
  case '[': {
    if (p->nest >= SG_JSON_MAX_DEPTH) return p->err = "nesting too deep", false;
    p->nest++;
    bool ok = p->s[p->i] == '{' ? object(p) : array(p);
    p->nest--;
    return ok;
  }
  case '"': {
    p->i++;
    uint32_t off, len;
    return string(p, &off, &len) && leaf(p, SG_J_STR, off, len);
  }
  case 't': return literal(p, "true", SG_J_BOOL);
  case 'f': return literal(p, "false", SG_J_BOOL);
  case 'n': return literal(p, "null", SG_J_NULL);
  default: return number(p);
  }
}

/* ---- A document built without JSON text (the EVTX reader's), leaf by leaf ---- */

struct SgJBuild {
  P p;
};

SgJBuild *sg_jbuild_new(void) { return calloc(1, sizeof(SgJBuild)); }

void sg_jbuild_free(SgJBuild *b) {
  if (!b) return;
  free(b->p.keys);
  free(b);
}

void sg_jbuild_start(SgJBuild *b, SgJDoc *d) {
  char *keys = b->p.keys;
  size_t kcap = b->p.kcap;
  b->p = (P){.d = d, .keys = keys, .kcap = kcap};
  d->n = 0;
  d->tlen = 0;
}

bool sg_jbuild_key(SgJBuild *b, const char *k, size_t n) { return push_key(&b->p, k, n); }

void sg_jbuild_pop(SgJBuild *b) { pop_key(&b->p); }

bool sg_jbuild_leaf(SgJBuild *b, SgJType t, const char *v, size_t n) {
  uint32_t off = text_add(b->p.d, v, n);
  return off != UINT32_MAX && leaf(&b->p, t, off, (uint32_t)n);
}

bool sg_json_parse_one(SgJDoc *d, const char *s, size_t n, size_t *used, size_t *err_off, const char **err) {
  d->n = 0;
  d->tlen = 0;
  P p = {.d = d, .s = s, .n = n};
  ws(&p);
  bool ok = p.i < n && s[p.i] == '{';
  if (!ok) p.err = "not a JSON object";
  ok = ok && value(&p);
  ws(&p);
  free(p.keys);
  if (!ok) {
    *err_off = p.i;
    *err = p.err ? p.err : "malformed JSON";
  }
  *used = p.i;
  return ok;
}

bool sg_json_parse(SgJDoc *d, const char *s, size_t n, size_t *err_off, const char **err) {
  size_t used;
  if (!sg_json_parse_one(d, s, n, &used, err_off, err)) return false;
  if (used == n) return true;
  *err_off = used;
  *err = "extra text after the event";
  return false;
}

void sg_jreader_start(SgJReader *r) {
  if (!r->started) start(r);
}

size_t sg_jreader_read(SgJReader *r, void *dst, size_t n) { return read_bytes(r, dst, n); }
