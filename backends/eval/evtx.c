/* evtx.c - Windows event log files (.evtx) read natively: each record's
 * binary XML goes straight to an element tree (evtx_dom.h) and from there to
 * the JSON evtx_dump writes for it, so that a rule sees the same event whether
 * it reads the .evtx or its JSON lines.
 *
 * A file is read as a stream (SgEvtxSplit, evtx_file.c): its 4 KiB header, then 64 KiB
 * chunks, each of which holds its own string and template tables, so each is
 * decoded on its own (SgEvtxDec), on any thread, and a file is never held
 * whole. Damage is found and said, never skipped over in silence:
 *   - the file header's and each chunk's checksums (header and records) are
 *     verified; a mismatch is reported and the records are read all the same;
 *   - records are walked by their size fields; where a field lies, the next
 *     record is found by its signature and the damaged one is read from its
 *     true extent when its binary XML is whole, or reported as lost;
 *   - a second file header (files joined together), bytes that are no chunk
 *     and a file that ends inside a chunk are reported with their offsets.
 * Strings keep every code point: UTF-16 surrogate pairs are joined and a lone
 * surrogate is U+FFFD. A record's expansion (templates whose substitutions are
 * themselves binary XML) is bounded in depth, elements and text.
 *
 * The layout: libyal's "Windows XML Event Log (EVTX)" format documentation
 * and MS-EVEN6 (binary XML), checked against the evtx crate's reader and, in
 * the tests, record for record against libevtx.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtx_dom.h"
#include "evtx_format.h"

#define RECORD_HEADER 24u
#define RECORD_MIN (RECORD_HEADER + 4u)
#define MAX_DEPTH 64         /* nested elements, templates and fragments in a record */
#define MAX_NODES 200000u    /* elements of one record, templates expanded */
#define MAX_TEXT (32u << 20) /* bytes of names and values of one record */
#define NAME_SLOTS 1024u     /* a chunk's names kept as UTF-8 (more are converted each time) */

static const uint8_t SIG_RECORD[4] = {0x2a, 0x2a, 0, 0};

/* ==== A chunk's records ============================================================== */

typedef struct SubVal {
  uint32_t off; /* in the chunk */
  uint16_t size;
  uint8_t type;
} SubVal;

typedef struct Elem {           /* the element being read */
  long sel;                     /* which item of an array it shows; -1: the first reading, item 0 */
  size_t items;                 /* the longest array met in its own attributes and text */
  bool empty_optional, content; /* its content: an optional substitution without a value; anything else */
} Elem;

struct SgEvtxDec {
  const uint8_t *c; /* the chunk (or fragment) */
  size_t clen;
  uint64_t coff; /* its offset in the file */
  bool chunk;    /* a chunk with a valid signature (else a fragment: records scanned for) */
  int stage;     /* see sg_evtx_dec_next */
  size_t pos, end;
  /* the chunk's names, UTF-8, by their offset in the chunk */
  SgBuf names;
  struct {
    uint32_t at, off, len; /* at 0: a free slot (no name is at offset 0, the chunk's signature) */
  } name_slot[NAME_SLOTS];
  size_t nnames;
  /* one record */
  XDom dom;
  SgBuf text;
  SubVal *vals;
  size_t nvals, capvals;
  size_t nodes;
  const char *err;
  char errbuf[200];
};

SgEvtxDec *sg_evtx_dec_new(void) { return calloc(1, sizeof(SgEvtxDec)); }

void sg_evtx_dec_free(SgEvtxDec *d) {
  if (!d) return;
  sg_buf_free(&d->names);
  sg_xdom_free(&d->dom);
  sg_buf_free(&d->text);
  free(d->vals);
  free(d);
}

void sg_evtx_dec_start(SgEvtxDec *d, const uint8_t *bytes, size_t len, uint64_t off, bool chunk) {
  d->c = bytes;
  d->clen = len;
  d->coff = off;
  d->chunk = chunk;
  d->stage = 0;
  d->pos = CHUNK_HEADER;
  d->end = len;
  sg_buf_reset(&d->names);
  memset(d->name_slot, 0, sizeof d->name_slot);
  d->nnames = 0;
}

static bool fail(SgEvtxDec *d, const char *fmt, size_t at) {
  if (!d->err) {
    snprintf(d->errbuf, sizeof d->errbuf, fmt, (unsigned long long)(d->coff + at));
    d->err = d->errbuf;
  }
  return false;
}

#define NEED(d, p, n, end, what)                                                                             \
  if ((n) > (end) || (p) > (end) - (n)) return fail(d, what " runs past its end at offset %llu", p)

/* ---- text ---------------------------------------------------------------------------- */

static void put_utf8(SgBuf *b, uint32_t cp) {
  char u[4];
  size_t k = 0;
  if (cp < 0x80) {
    u[k++] = (char)cp;
  } else if (cp < 0x800) {
    u[k++] = (char)(0xC0 | cp >> 6);
    u[k++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    u[k++] = (char)(0xE0 | cp >> 12);
    u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[k++] = (char)(0x80 | (cp & 0x3F));
  } else {
    u[k++] = (char)(0xF0 | cp >> 18);
    u[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[k++] = (char)(0x80 | (cp & 0x3F));
  }
  sg_buf_catn(b, u, k);
}

/* UTF-16LE s[0..n units) up to its first NUL, as UTF-8: pairs joined, a lone
 * surrogate U+FFFD. */
static void utf16(SgBuf *b, const uint8_t *s, size_t n) {
  if (!sg_buf_reserve(b, 3 * n)) return; /* a unit is at most 3 bytes of UTF-8, a pair 4 */
  char *o = b->data + b->len;
  for (size_t i = 0; i < n;) {
    uint32_t u = le16(s + 2 * i++);
    if (u < 0x80) {
      if (!u) break;
      *o++ = (char)u;
      continue;
    }
    if (u >= 0xD800 && u < 0xDC00 && i < n && le16(s + 2 * i) >= 0xDC00 && le16(s + 2 * i) < 0xE000)
      u = 0x10000 + ((u - 0xD800) << 10) + (le16(s + 2 * i++) - 0xDC00u);
    else if (u >= 0xD800 && u < 0xE000)
      u = 0xFFFD;
    if (u < 0x800) {
      *o++ = (char)(0xC0 | u >> 6);
    } else if (u < 0x10000) {
      *o++ = (char)(0xE0 | u >> 12);
      *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
    } else {
      *o++ = (char)(0xF0 | u >> 18);
      *o++ = (char)(0x80 | ((u >> 12) & 0x3F));
      *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
    }
    *o++ = (char)(0x80 | (u & 0x3F));
  }
  b->len = (size_t)(o - b->data);
  b->data[b->len] = '\0';
}

/* Windows-1252, the code page of ANSI strings, to UTF-8, up to a NUL. */
static void ansi(SgBuf *b, const uint8_t *s, size_t n) {
  static const uint16_t c1[32] = {0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                                  0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
  for (size_t i = 0; i < n && s[i]; i++)
    put_utf8(b, s[i] >= 0x80 && s[i] < 0xA0 ? c1[s[i] - 0x80] : s[i]);
}

/* Line breaks in b[from..) as an XML reader sees them: CRLF and a lone CR are LF. */
static void xml_breaks(SgBuf *b, size_t from) {
  if (!b->data || !memchr(b->data + from, '\r', b->len - from)) return;
  size_t o = from;
  for (size_t i = from; i < b->len; i++) {
    if (b->data[i] == '\r') {
      b->data[o++] = '\n';
      if (i + 1 < b->len && b->data[i + 1] == '\n') i++;
    } else {
      b->data[o++] = b->data[i];
    }
  }
  b->len = o;
  b->data[o] = '\0';
}

static void dec(SgBuf *b, uint64_t v, bool neg) {
  char t[24];
  size_t k = sizeof t;
  do
    t[--k] = (char)('0' + v % 10);
  while (v /= 10);
  if (neg) t[--k] = '-';
  sg_buf_catn(b, t + k, sizeof t - k);
}

static void sdec(SgBuf *b, int64_t v) { dec(b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0); }

/* 0x and `digits` lower-case hex digits. */
static void hexnum(SgBuf *b, uint64_t v, int digits) {
  char t[18] = "0x";
  for (int i = digits - 1; i >= 0; i--, v >>= 4)
    t[2 + i] = "0123456789abcdef"[v & 15];
  sg_buf_catn(b, t, 2 + (size_t)digits);
}

/* Bytes as upper-case hex digits. */
static void hex(SgBuf *b, const uint8_t *p, size_t n) {
  static const char digit[] = "0123456789ABCDEF";
  if (!sg_buf_reserve(b, 2 * n)) return;
  char *o = b->data + b->len;
  for (size_t i = 0; i < n; i++) {
    *o++ = digit[p[i] >> 4];
    *o++ = digit[p[i] & 15];
  }
  b->len += 2 * n;
  b->data[b->len] = '\0';
}

/* Days since 1970-01-01 as a civil date (Howard Hinnant's algorithm). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *dd) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned)(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *dd = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void filetime(SgBuf *b, uint64_t ft) {
  uint64_t secs = ft / 10000000u, frac = ft % 10000000u;
  int64_t unix = (int64_t)secs - INT64_C(11644473600);
  int64_t days = unix >= 0 ? unix / 86400 : (unix - 86399) / 86400, rem = unix - days * 86400;
  int64_t y;
  unsigned m, dd;
  civil(days, &y, &m, &dd);
  if (y < 0 || y > 9999) {
    sg_buf_catf(b, "%04lld-%02u-%02uT%02u:%02u:%02u.%07llu00Z", (long long)y, m, dd, (unsigned)(rem / 3600),
                (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), (unsigned long long)frac);
    return;
  }
  char t[] = "YYYY-MM-DDThh:mm:ss.fffffff00Z";
  const uint64_t parts[][2] = {
      {(uint64_t)y, 0},         {m, 5},    {dd, 8}, {(uint64_t)rem / 3600, 11}, {(uint64_t)rem / 60 % 60, 14},
      {(uint64_t)rem % 60, 17}, {frac, 20}};
  const int width[] = {4, 2, 2, 2, 2, 2, 7};
  for (size_t i = 0; i < 7; i++) {
    uint64_t v = parts[i][0];
    for (int k = width[i] - 1; k >= 0; k--, v /= 10)
      t[parts[i][1] + (size_t)k] = (char)('0' + v % 10);
  }
  sg_buf_catn(b, t, sizeof t - 1);
}

/* ---- values -------------------------------------------------------------------------- */

enum {
  T_NULL = 0x00,
  T_STRING = 0x01,
  T_ANSI = 0x02,
  T_I8 = 0x03,
  T_U8,
  T_I16,
  T_U16,
  T_I32,
  T_U32,
  T_I64,
  T_U64,
  T_R32,
  T_R64,
  T_BOOL,
  T_BINARY,
  T_GUID,
  T_SIZET,
  T_FILETIME,
  T_SYSTIME,
  T_SID,
  T_HEX32,
  T_HEX64,
  T_BINXML = 0x21,
  T_ARRAY = 0x80
};

/* The size of one item of a fixed-size type; 0 for the others. */
static size_t item_size(uint8_t t) {
  switch (t) {
  case T_I8:
  case T_U8: return 1;
  case T_I16:
  case T_U16: return 2;
  case T_I32:
  case T_U32:
  case T_R32:
  case T_BOOL:
  case T_HEX32: return 4;
  case T_I64:
  case T_U64:
  case T_R64:
  case T_FILETIME:
  case T_HEX64: return 8;
  case T_GUID:
  case T_SYSTIME: return 16;
  default: return 0;
  }
}

/* One value p[0..n) of type t as text, appended to d->text. */
static bool render(SgEvtxDec *d, uint8_t t, const uint8_t *p, size_t n, size_t at) {
  SgBuf *b = &d->text;
  size_t from = b->len;
  size_t want = item_size(t);
  if (want && n < want) return fail(d, "a value shorter than its type at offset %llu", at);
  if (t == T_SIZET && n != 4 && n != 8) return fail(d, "a size_t value of an odd size at offset %llu", at);
  switch (t) {
  case T_STRING:
    utf16(b, p, n / 2);
    xml_breaks(b, from);
    break;
  case T_ANSI:
    ansi(b, p, n);
    xml_breaks(b, from);
    break;
  case T_I8: sdec(b, (int8_t)p[0]); break;
  case T_U8: dec(b, p[0], false); break;
  case T_I16: sdec(b, (int16_t)le16(p)); break;
  case T_U16: dec(b, le16(p), false); break;
  case T_I32: sdec(b, (int32_t)le32(p)); break;
  case T_U32: dec(b, le32(p), false); break;
  case T_I64: sdec(b, (int64_t)le64(p)); break;
  case T_U64: dec(b, le64(p), false); break;
  case T_R32: {
    uint32_t u = le32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    sg_buf_catf(b, "%.9g", (double)f);
    break;
  }
  case T_R64: {
    uint64_t u = le64(p);
    double f;
    memcpy(&f, &u, sizeof f);
    sg_buf_catf(b, "%.17g", f);
    break;
  }
  case T_BOOL: sg_buf_cat(b, le32(p) ? "true" : "false"); break;
  case T_BINARY: hex(b, p, n); break;
  case T_GUID: { /* {data1-data2-data3-data4}: the first three little-endian */
    const uint8_t first[8] = {p[3], p[2], p[1], p[0], p[5], p[4], p[7], p[6]};
    sg_buf_catc(b, '{');
    hex(b, first, 4);
    sg_buf_catc(b, '-');
    hex(b, first + 4, 2);
    sg_buf_catc(b, '-');
    hex(b, first + 6, 2);
    sg_buf_catc(b, '-');
    hex(b, p + 8, 2);
    sg_buf_catc(b, '-');
    hex(b, p + 10, 6);
    sg_buf_catc(b, '}');
    break;
  }
  case T_SIZET: hexnum(b, n == 4 ? le32(p) : le64(p), n == 4 ? 8 : 16); break;
  case T_FILETIME: filetime(b, le64(p)); break;
  case T_SYSTIME:
    sg_buf_catf(b, "%04u-%02u-%02uT%02u:%02u:%02u.%03u000000Z", le16(p), le16(p + 2), le16(p + 6),
                le16(p + 8), le16(p + 10), le16(p + 12), le16(p + 14));
    break;
  case T_SID: {
    if (n < 8 || n < 8 + 4u * p[1])
      return fail(d, "a SID shorter than its count of parts at offset %llu", at);
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++)
      auth = auth << 8 | p[i];
    sg_buf_cat(b, "S-");
    dec(b, p[0], false);
    sg_buf_catc(b, '-');
    dec(b, auth, false);
    for (unsigned i = 0; i < p[1]; i++) {
      sg_buf_catc(b, '-');
      dec(b, le32(p + 8 + 4 * i), false);
    }
    break;
  }
  case T_HEX32: hexnum(b, le32(p), 8); break;
  case T_HEX64: hexnum(b, le64(p), 16); break;
  default: return fail(d, "a value of an unknown type at offset %llu", at);
  }
  if (b->len > MAX_TEXT) return fail(d, "the record's text grows past 32 MiB at offset %llu", at);
  return true;
}

/* Item `sel` of the array value v as text; *items: how many it holds. */
static bool render_item(SgEvtxDec *d, const SubVal *v, size_t sel, size_t *items) {
  uint8_t t = (uint8_t)(v->type & ~T_ARRAY);
  const uint8_t *p = d->c + v->off;
  if (t == T_STRING) { /* NUL-terminated strings one after another */
    size_t nunits = v->size / 2, k = 0, start = 0;
    *items = 0;
    for (size_t i = 0; i <= nunits; i++) {
      if (i < nunits && le16(p + 2 * i)) continue;
      if (i == nunits && i == start) break; /* no unterminated last item */
      if (k == sel) {
        size_t from = d->text.len;
        utf16(&d->text, p + 2 * start, i - start);
        xml_breaks(&d->text, from);
      }
      k++;
      start = i + 1;
    }
    *items = k;
    return true;
  }
  size_t w = item_size(t);
  if (!w) return fail(d, "an array of a type without a fixed size at offset %llu", v->off);
  *items = v->size / w;
  return sel < *items ? render(d, t, p + sel * w, w, v->off + sel * w) : true;
}

/* ---- binary XML ---------------------------------------------------------------------- */

/* The name at chunk offset `no`: *off (with XDOM_NAMES: in d->names, kept
 * for the chunk; else in d->text), *len. */
static bool name_at(SgEvtxDec *d, uint32_t no, uint32_t *off, uint32_t *len) {
  size_t h = (no * 2654435761u) % NAME_SLOTS;
  while (d->name_slot[h].at && d->name_slot[h].at != no)
    h = (h + 1) % NAME_SLOTS;
  if (d->name_slot[h].at) {
    *off = d->name_slot[h].off | XDOM_NAMES;
    *len = d->name_slot[h].len;
    return true;
  }
  NEED(d, (size_t)no, 8, d->clen, "a name");
  size_t n = le16(d->c + no + 6);
  NEED(d, (size_t)no + 8, 2 * n, d->clen, "a name");
  bool keep = d->nnames < NAME_SLOTS * 3 / 4 && d->names.len < XDOM_NAMES / 2;
  SgBuf *b = keep ? &d->names : &d->text;
  size_t from = b->len;
  utf16(b, d->c + no + 8, n);
  if (b->oom) return fail(d, "out of memory at offset %llu", no);
  *off = (uint32_t)from;
  *len = (uint32_t)(b->len - from);
  if (keep) {
    d->name_slot[h].at = no;
    d->name_slot[h].off = *off;
    d->name_slot[h].len = *len;
    d->nnames++;
    *off |= XDOM_NAMES;
  }
  return true;
}

/* A name reference at *p: an offset into the chunk, the name itself right
 * here when the offset is this position. */
static bool name_ref(SgEvtxDec *d, size_t *p, size_t end, uint32_t *off, uint32_t *len) {
  NEED(d, *p, 4, end, "a name reference");
  uint32_t no = le32(d->c + *p);
  *p += 4;
  if (no == *p) { /* defined here: skip it */
    NEED(d, *p, 8, end, "a name");
    size_t n = le16(d->c + *p + 6);
    NEED(d, *p + 8, 2 * n + 2, end, "a name");
    *p += 8 + 2 * n + 2;
  }
  return name_at(d, no, off, len);
}

static bool stream(SgEvtxDec *d, size_t p, size_t end, int32_t parent, size_t vbase, size_t nv, bool dep,
                   int depth);

/* Make node `id`'s text the end of d->text, so that more can be appended to it. */
static bool text_open(SgEvtxDec *d, int32_t id) {
  XNode *n = &d->dom.nodes[id];
  if (n->tlen && n->text + n->tlen != d->text.len) { /* mixed content: moved to the end */
    if (!sg_buf_reserve(&d->text, n->tlen)) return false;
    memcpy(d->text.data + d->text.len, d->text.data + n->text, n->tlen); /* before the end: apart */
    n->text = (uint32_t)d->text.len;
    d->text.len += n->tlen;
    d->text.data[d->text.len] = '\0';
  } else if (!n->tlen) {
    n->text = (uint32_t)d->text.len;
  }
  return true;
}

static void text_close(SgEvtxDec *d, int32_t id) {
  XNode *n = &d->dom.nodes[id];
  n->tlen = (uint32_t)(d->text.len - n->text);
}

/* A length-prefixed UTF-16 string at *p (value, CDATA, PI data) as text, or skipped. */
static bool counted_string(SgEvtxDec *d, size_t *p, size_t end, bool keep) {
  NEED(d, *p, 2, end, "a string");
  size_t n = le16(d->c + *p);
  NEED(d, *p + 2, 2 * n, end, "a string");
  if (keep) {
    size_t from = d->text.len;
    utf16(&d->text, d->c + *p + 2, n);
    xml_breaks(&d->text, from);
  }
  *p += 2 + 2 * n;
  return true;
}

/* One piece of an attribute's value or an element's text at *p (a value,
 * substitution, character or entity reference), appended to d->text (and to
 * the element's text when `elem` is not -1); a substitution of binary XML
 * becomes children of the element. *is_piece: false when the token at *p is
 * no such piece. */
static bool piece(SgEvtxDec *d, size_t *p, size_t end, int32_t elem, size_t vbase, size_t nv, Elem *e,
                  int depth, bool *is_piece) {
  uint8_t t = d->c[*p];
  *is_piece = true;
  SubVal v = {0};
  switch (t & 0xBF) {
  case 0x05:
  case 0x08:
  case 0x09: e->content = true; break;
  case 0x0d:
  case 0x0e: { /* a substitution: normal or optional */
    NEED(d, *p, 4, end, "a substitution");
    size_t i = le16(d->c + *p + 1);
    *p += 4;
    if (i >= nv) return fail(d, "a substitution beyond the template's values at offset %llu", *p - 4);
    v = d->vals[vbase + i];
    if (v.type == T_NULL || !v.size) {
      e->empty_optional = e->empty_optional || (t & 0xBF) == 0x0e;
      return true;
    }
    e->content = true;
    if (v.type == T_BINXML) {
      if (elem < 0) return fail(d, "binary XML in an attribute's value at offset %llu", v.off);
      return stream(d, v.off, (size_t)v.off + v.size, elem, 0, 0, false, depth + 1);
    }
    break;
  }
  default: *is_piece = false; return true;
  }
  if (elem >= 0 && !text_open(d, elem)) return fail(d, "out of memory at offset %llu", *p);
  bool ok = true;
  if (v.size && (v.type & T_ARRAY)) {
    size_t items = 0;
    ok = render_item(d, &v, e->sel < 0 ? 0 : (size_t)e->sel, &items);
    if (items > e->items) e->items = items;
  } else if (v.size) {
    ok = render(d, v.type, d->c + v.off, v.size, v.off);
  } else if ((t & 0xBF) == 0x05) { /* a value: a string */
    NEED(d, *p, 2, end, "a value");
    if (d->c[*p + 1] != T_STRING) return fail(d, "a value token that is not a string at offset %llu", *p);
    *p += 2;
    ok = counted_string(d, p, end, true);
  } else if ((t & 0xBF) == 0x08) { /* a character reference: kept as it is, a CR too */
    NEED(d, *p, 3, end, "a character reference");
    uint32_t u = le16(d->c + *p + 1);
    put_utf8(&d->text, u >= 0xD800 && u < 0xE000 ? 0xFFFD : u);
    *p += 3;
  } else { /* an entity reference */
    static const struct {
      const char *name;
      char c;
    } ent[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    size_t at = (*p)++, from = d->text.len;
    uint32_t off, len;
    if (!name_ref(d, p, end, &off, &len)) return false;
    char name[8] = "";
    if (len < sizeof name)
      memcpy(name, off & XDOM_NAMES ? d->names.data + (off & ~XDOM_NAMES) : d->text.data + off, len);
    d->text.len = from;
    ok = false;
    for (size_t i = 0; i < sizeof ent / sizeof *ent && !ok; i++)
      if (len == strlen(ent[i].name) && !memcmp(name, ent[i].name, len)) {
        sg_buf_catc(&d->text, ent[i].c);
        ok = true;
      }
    if (!ok) return fail(d, "an entity reference other than XML's five at offset %llu", at);
  }
  if (elem >= 0) text_close(d, elem);
  return ok;
}

static bool element(SgEvtxDec *d, size_t *p, size_t end, int32_t parent, size_t vbase, size_t nv, bool dep,
                    long sel, int depth);
static bool instance(SgEvtxDec *d, size_t *p, size_t end, int32_t parent, int depth);

/* An element's content up to its end tag. */
static bool content(SgEvtxDec *d, size_t *p, size_t end, int32_t id, size_t vbase, size_t nv, bool dep,
                    Elem *e, int depth) {
  while (*p < end) {
    uint8_t t = d->c[*p];
    bool ok = true, is_piece = true;
    if (t == 0x04) { /* the end tag */
      (*p)++;
      return true;
    }
    if ((t & 0xBF) == 0x01) {
      ok = element(d, p, end, id, vbase, nv, dep, -1, depth + 1);
    } else if (t == 0x0c) {
      ok = instance(d, p, end, id, depth + 1);
    } else if (t == 0x0f) {
      *p += 4;
    } else if ((t & 0xBF) == 0x07) { /* CDATA */
      (*p)++;
      ok = text_open(d, id) && counted_string(d, p, end, true);
      text_close(d, id);
    } else if (t == 0x0a) { /* a processing instruction's target, then its data: no text */
      (*p)++;
      uint32_t off, len;
      size_t keep = d->text.len;
      ok = name_ref(d, p, end, &off, &len);
      d->text.len = keep;
    } else if (t == 0x0b) {
      (*p)++;
      ok = counted_string(d, p, end, false);
    } else {
      ok = piece(d, p, end, id, vbase, nv, e, depth, &is_piece);
    }
    if (!ok) return false;
    if (!is_piece) return fail(d, "an unexpected binary XML token at offset %llu", *p);
  }
  return fail(d, "the binary XML ends inside an element at offset %llu", *p);
}

/* An element at *p: its start tag, attributes, content and end tag. An array
 * value in its attributes or text repeats it once per item (libevtx and the
 * evtx crate do so; MS-EVEN6 3.1.4.7.5). */
static bool element(SgEvtxDec *d, size_t *p, size_t end, int32_t parent, size_t vbase, size_t nv, bool dep,
                    long sel, int depth) {
  if (depth > MAX_DEPTH) return fail(d, "elements nested too deeply at offset %llu", *p);
  if (++d->nodes > MAX_NODES) return fail(d, "the record expands to too many elements at offset %llu", *p);
  if (parent < 0 && d->dom.n) return fail(d, "a second root element at offset %llu", *p);
  size_t start = *p;
  uint8_t t = d->c[*p];
  size_t head = 1 + (dep ? 2 : 0) + 4;
  NEED(d, *p, head, end, "an element");
  *p += head;
  uint32_t noff, nlen;
  if (!name_ref(d, p, end, &noff, &nlen)) return false;
  if (t & 0x40) {
    NEED(d, *p, 4, end, "an element");
    *p += 4;
  }
  int32_t id = sg_xdom_add(&d->dom, parent);
  if (id < 0) return fail(d, "out of memory at offset %llu", start);
  d->dom.nodes[id].name = noff;
  d->dom.nodes[id].nlen = nlen;
  Elem e = {sel, 0, false, false};
  while (*p < end && (d->c[*p] & 0xBF) == 0x06) { /* attributes */
    (*p)++;
    uint32_t aoff, alen;
    if (!name_ref(d, p, end, &aoff, &alen)) return false;
    size_t val = d->text.len;
    bool is_piece = true;
    while (*p < end && is_piece)
      if (!piece(d, p, end, -1, vbase, nv, &e, depth, &is_piece)) return false;
    if (d->text.len == val) continue; /* an empty value: libevtx writes no attribute */
    XAttr *a = SG_PUSH_HEAP(d->dom.attrs, d->dom.na, d->dom.capa);
    if (!a) return fail(d, "out of memory at offset %llu", *p);
    *a = (XAttr){aoff, alen, (uint32_t)val, (uint32_t)(d->text.len - val)};
    d->dom.nodes[id].nattr++;
  }
  NEED(d, *p, 1, end, "an element");
  uint8_t close = d->c[(*p)++];
  if (close == 0x02) {
    size_t attrs = d->dom.na;
    e.content = false;
    if (!content(d, p, end, id, vbase, nv, dep, &e, depth)) return false;
    XNode *n = &d->dom.nodes[id];
    if (e.empty_optional && !e.content && !n->nattr && n->first < 0 && parent >= 0 &&
        (size_t)id == d->dom.n - 1 &&
        attrs == d->dom.na) { /* only an absent optional value: no element (libevtx) */
      XNode *up = &d->dom.nodes[parent];
      int32_t prev = -1;
      for (int32_t c = up->first; c >= 0 && c != id; c = d->dom.nodes[c].next)
        prev = c;
      if (prev >= 0)
        d->dom.nodes[prev].next = -1;
      else
        up->first = -1;
      up->last = prev;
      d->dom.n--;
    }
  } else if (close != 0x03) {
    return fail(d, "an element's start tag without its end at offset %llu", *p - 1);
  }
  if (sel < 0) /* the array's other items: the element again */
    for (size_t i = 1; i < e.items; i++) {
      size_t q = start;
      if (!element(d, &q, end, parent, vbase, nv, dep, (long)i, depth)) return false;
    }
  return true;
}

/* A template instance at *p: its definition (here or earlier in the chunk),
 * its values, then the definition read with them. */
static bool instance(SgEvtxDec *d, size_t *p, size_t end, int32_t parent, int depth) {
  if (++d->nodes > MAX_NODES) return fail(d, "the record expands to too many templates at offset %llu", *p);
  NEED(d, *p, 10, end, "a template instance");
  uint32_t def = le32(d->c + *p + 6);
  *p += 10;
  NEED(d, (size_t)def, 24, d->clen, "a template definition");
  uint32_t dsize = le32(d->c + def + 20);
  NEED(d, (size_t)def + 24, (size_t)dsize, d->clen, "a template definition");
  if (def == *p) *p += 24 + (size_t)dsize; /* defined right here */
  NEED(d, *p, 4, end, "a template instance");
  size_t n = le32(d->c + *p);
  *p += 4;
  if (n > (end - *p) / 4)
    return fail(d, "a template instance with more values than bytes at offset %llu", *p);
  size_t vbase = d->nvals, off = *p + 4 * n;
  for (size_t i = 0; i < n; i++) {
    SubVal *v = SG_PUSH_HEAP(d->vals, d->nvals, d->capvals);
    if (!v) return fail(d, "out of memory at offset %llu", *p);
    *v = (SubVal){(uint32_t)off, le16(d->c + *p + 4 * i), d->c[*p + 4 * i + 2]};
    NEED(d, off, (size_t)v->size, end, "a template value");
    off += v->size;
  }
  *p = off;
  bool ok = stream(d, (size_t)def + 24, (size_t)def + 24 + dsize, parent, vbase, n, true, depth + 1);
  d->nvals = vbase;
  return ok;
}

/* A binary XML stream [p, end): fragment headers, template instances and
 * elements up to its end token, children of `parent` (-1: the record's root). */
static bool stream(SgEvtxDec *d, size_t p, size_t end, int32_t parent, size_t vbase, size_t nv, bool dep,
                   int depth) {
  if (depth > MAX_DEPTH) return fail(d, "binary XML nested too deeply at offset %llu", p);
  while (p < end) {
    uint8_t t = d->c[p];
    if (t == 0x00) return true;
    if (t == 0x0f) {
      p += 4;
    } else if (t == 0x0c) {
      if (!instance(d, &p, end, parent, depth)) return false;
    } else if ((t & 0xBF) == 0x01) {
      if (!element(d, &p, end, parent, vbase, nv, dep, -1, depth + 1)) return false;
    } else {
      return fail(d, "an unexpected binary XML token at offset %llu", p);
    }
  }
  return true;
}

/* ---- records ------------------------------------------------------------------------- */

/* A record at chunk offset p whose header is sound: its signature, a size
 * that fits, and the same size repeated at its end. */
static bool record_sound(const SgEvtxDec *d, size_t p, size_t end) {
  if (p + RECORD_MIN > end || memcmp(d->c + p, SIG_RECORD, 4)) return false;
  size_t n = le32(d->c + p + 4);
  return n >= RECORD_MIN && n <= end - p && le32(d->c + p + n - 4) == n;
}

static bool sig_at(const SgEvtxDec *d, size_t q, size_t end) {
  return q + RECORD_MIN <= end && !memcmp(d->c + q, SIG_RECORD, 4);
}

/* The next record signature at or after p, or `end`. */
static size_t next_sig(const SgEvtxDec *d, size_t p, size_t end) {
  while (p + RECORD_MIN <= end) {
    const uint8_t *q = memchr(d->c + p, 0x2a, end - p - RECORD_MIN + 1);
    if (!q) break;
    p = (size_t)(q - d->c);
    if (sig_at(d, p, end)) return p;
    p++;
  }
  return end;
}

#define EXTENT_TRIES 64 /* signatures tried as the end of a record whose size field lies */

/* The true extent of the record at p whose size field lies: up to the next
 * record signature (or the end of the records) where the size it repeats at
 * its end agrees; 0 when none does among the first EXTENT_TRIES. */
static size_t extent(const SgEvtxDec *d, size_t p, size_t end) {
  size_t q = p + RECORD_MIN;
  for (int tries = 0; tries < EXTENT_TRIES && q <= end; tries++, q++) {
    q = next_sig(d, q, end);
    if (le32(d->c + q - 4) == q - p) return q - p;
    if (q == end) break;
  }
  return 0;
}

/* The next record at or after p: a signature with a sound header, or whose
 * size repeated at its end shows where it ends. */
static size_t next_record(const SgEvtxDec *d, size_t p, size_t end) {
  for (int tries = 0; p < end && tries < EXTENT_TRIES; p++, tries++) {
    p = next_sig(d, p, end);
    if (p == end || record_sound(d, p, end) || extent(d, p, end)) return p;
  }
  return next_sig(d, p, end);
}

/* The record at p, n bytes, as its element tree. */
static bool decode(SgEvtxDec *d, size_t p, size_t n) {
  d->err = NULL;
  d->dom.n = d->dom.na = 0;
  d->nodes = d->nvals = 0;
  sg_buf_reset(&d->text);
  if (!stream(d, p + RECORD_HEADER, p + n - 4, -1, 0, 0, false, 0)) return false;
  if (!d->dom.n) return fail(d, "a record without an element at offset %llu", p);
  if (d->text.oom) return fail(d, "out of memory at offset %llu", p);
  d->dom.text = d->text.data ? d->text.data : ""; /* a record of names alone has no text buffer yet */
  d->dom.names = d->names.data ? d->names.data : "";
  return true;
}

static SgEvtxNext say(char *msg, size_t cap, SgEvtxNext k, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, cap, fmt, ap);
  va_end(ap);
  return k;
}

/* What is wrong with the chunk, one finding per call: the file's end inside
 * it, its checksums, where its records end. Where the header is sound, its
 * records end where it says: the bytes after them are slack, and may hold
 * old records of the chunk's earlier use, which are not events of this log. */
static bool check(SgEvtxDec *d, char *msg, size_t cap) {
  unsigned long long at = (unsigned long long)d->coff;
  switch (d->stage++) {
  case 0:
    if (!d->chunk) {
      d->pos = 0;
      d->stage = 3;
      say(msg, cap, 0,
          "%zu bytes at offset %llu are not an EVTX chunk (no chunk signature); records are searched for in "
          "them",
          d->clen, at);
      return true;
    }
    if (d->clen < CHUNK) {
      say(msg, cap, 0, "the file ends inside the chunk at offset %llu (%zu of %u bytes)", at, d->clen, CHUNK);
      return true;
    }
    return check(d, msg, cap);
  case 1:
    if (d->clen < CHUNK_HEADER) {
      d->stage = 3;
      return false;
    }
    uint32_t want = le32(d->c + 124), got = (uint32_t)crc32(crc(d->c, 120), d->c + 128, CHUNK_HEADER - 128);
    if (want != got) {
      d->stage = 3; /* its records are where their signatures are */
      say(msg, cap, 0,
          "the header checksum of the chunk at offset %llu does not match (stored 0x%08x, computed 0x%08x); "
          "its "
          "records are searched for in all of it",
          at, (unsigned)want, (unsigned)got);
      return true;
    }
    return check(d, msg, cap);
  case 2: {
    uint32_t free_at = le32(d->c + 48);
    if (free_at < CHUNK_HEADER || free_at > CHUNK) {
      d->stage = 3;
      say(msg, cap, 0,
          "the chunk at offset %llu says its records end at %lu, outside it; they are searched for", at,
          (unsigned long)free_at);
      return true;
    }
    if (free_at > d->clen) return check(d, msg, cap); /* cut off: said above */
    d->end = free_at;
    uint32_t want2 = le32(d->c + 52), got2 = crc(d->c + CHUNK_HEADER, free_at - CHUNK_HEADER);
    if (want2 != got2) {
      say(msg, cap, 0,
          "the records checksum of the chunk at offset %llu does not match (stored 0x%08x, computed 0x%08x); "
          "its "
          "records are read all the same",
          at, (unsigned)want2, (unsigned)got2);
      return true;
    }
    return check(d, msg, cap);
  }
  default: d->stage = 3; return false;
  }
}

/* stage: 0-2 the chunk's checks, then 3 its records, 4 done. */
const XDom *sg_evtx_dec_event(const SgEvtxDec *d) { return &d->dom; }

SgEvtxNext sg_evtx_dec_next(SgEvtxDec *d, uint64_t *record, char *msg, size_t cap) {
  *record = 0;
  if (d->stage < 3 && check(d, msg, cap)) return SG_EVTX_DAMAGED;
  for (;;) {
    if (d->stage >= 4 || d->pos + RECORD_MIN > d->end) {
      d->stage = 4;
      return SG_EVTX_DONE;
    }
    size_t p = d->pos, at = (size_t)d->coff + p;
    if (record_sound(d, p, d->end)) {
      size_t n = le32(d->c + p + 4);
      d->pos = p + n;
      *record = le64(d->c + p + 8);
      if (decode(d, p, n)) return SG_EVTX_RECORD;
      if (d->text.oom || !strncmp(d->err, "out of memory", 13))
        return say(msg, cap, SG_EVTX_NOMEM, "out of memory reading this record");
      return say(msg, cap, SG_EVTX_SKIP, "%s (the record at offset %zu)", d->err, at);
    }
    if (sig_at(d, p, d->end)) { /* a record whose size field lies: its end found another way */
      size_t n = extent(d, p, d->end), q = n ? p + n : next_record(d, p + 1, d->end);
      unsigned long size = le32(d->c + p + 4);
      d->pos = q;
      *record = le64(d->c + p + 8);
      if (decode(d, p, q - p))
        return say(msg, cap, SG_EVTX_RECOVERED,
                   "the record at offset %zu says it is %lu bytes long; it is %zu (%s) and was read", at,
                   size, q - p, n ? "the size repeated at its end" : "up to the next record");
      return say(msg, cap, SG_EVTX_SKIP,
                 "the record at offset %zu says it is %lu bytes long and cannot be read%s%s", at, size,
                 d->err ? ": " : "", d->err ? d->err : "");
    }
    size_t q = next_record(d, p + 1, d->end);
    d->pos = q;
    if (all_zero(d->c + p, q - p)) continue; /* space never written */
    return say(msg, cap, SG_EVTX_DAMAGED,
               "%zu bytes at offset %zu are not records; any record in them is lost", q - p, at);
  }
}
