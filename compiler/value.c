/* value.c - Sigma values: wildcard strings, numbers, CIDR networks, and the
 * string encodings applied by value modifiers.
 *
 * A Sigma string is parsed once into parts (literal / `*` / `?` / placeholder)
 * with the escaping rule of the spec and pySigma: `\` escapes only `*`, `?`
 * and `\`; any other backslash is literal, and so is a trailing lone `\`.
 * After parsing, nothing downstream ever re-interprets backslashes.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"

/* ---- Part list builder ---------------------------------------------------------- */

/* Memory ran out in a heap scratch buffer: the arena carries the failure, so
 * the unit reports E090 and fails its rules (a status alone can end in a
 * rule that silently lost a value). */
static SgStatus lost(SgArena *a) {
  a->failed = true;
  return SG_ERR_NOMEM;
}

typedef struct PartBuf {
  SgArena *a;
  SgPart *parts;
  size_t n, cap;
  SgBuf lit; /* pending literal bytes */
  bool oom;
} PartBuf;

static void pb_flush(PartBuf *pb) {
  if (pb->lit.oom) pb->oom = true; /* a literal the buffer could not take: never an empty one */
  if (!pb->lit.len) return;
  SgPart *p = SG_PUSH(pb->a, pb->parts, pb->n, pb->cap);
  char *s = sg_arena_strndup(pb->a, pb->lit.data, pb->lit.len);
  if (!p || !s || pb->lit.oom) {
    pb->oom = true;
    return;
  }
  *p = (SgPart){SG_PART_LIT, s, pb->lit.len};
  sg_buf_reset(&pb->lit);
}

static void pb_add(PartBuf *pb, SgPartKind k, const char *s, size_t n) {
  if (k == SG_PART_LIT) {
    sg_buf_catn(&pb->lit, s, n);
    return;
  }
  pb_flush(pb);
  SgPart *p = SG_PUSH(pb->a, pb->parts, pb->n, pb->cap);
  if (!p) {
    pb->oom = true;
    return;
  }
  *p = (SgPart){k, s ? sg_arena_strndup(pb->a, s, n) : "", n};
}

static SgStatus pb_finish(PartBuf *pb, SgStr *out) {
  pb_flush(pb);
  sg_buf_free(&pb->lit);
  out->parts = pb->parts;
  out->nparts = (uint32_t)pb->n;
  return pb->oom ? lost(pb->a) : SG_OK;
}

/* The closing `%` of a placeholder starting at s[i] == '%', or 0 if none:
 * the name is non-empty and has no `%` or backslash. */
static size_t placeholder_end(const char *s, size_t n, size_t i) {
  for (size_t j = i + 1; j < n; j++) {
    if (s[j] == '%') return j > i + 1 ? j : 0;
    if (s[j] == '\\') return 0;
  }
  return 0;
}

/* Parsing writes into exact-size arena arrays: a first pass counts, the
 * second fills (`parts` NULL on the first). */
typedef struct Scan {
  SgPart *parts;
  char *lit; /* all literal bytes, parts point into it */
  size_t nparts, nlit;
  bool open; /* the last part is a literal being extended */
  bool star; /* the last part is a `*` (a run of them is one) */
} Scan;

static void scan_lit(Scan *sc, const char *c, size_t k) {
  if (!sc->open) {
    if (sc->parts) sc->parts[sc->nparts] = (SgPart){SG_PART_LIT, sc->lit + sc->nlit, 0};
    sc->nparts++;
    sc->open = true;
    sc->star = false;
  }
  if (sc->parts) {
    memcpy(sc->lit + sc->nlit, c, k);
    sc->parts[sc->nparts - 1].n += k;
  }
  sc->nlit += k;
}

static void scan_special(Scan *sc, SgPartKind kind, const char *name, size_t k) {
  if (kind == SG_PART_STAR && sc->star) return; /* `**` means `*` */
  sc->star = kind == SG_PART_STAR;
  if (sc->parts)
    sc->parts[sc->nparts] = (SgPart){kind, kind == SG_PART_PLACEHOLDER ? sc->lit + sc->nlit : "", 0};
  if (kind == SG_PART_PLACEHOLDER) { /* the name is stored with the literals */
    if (sc->parts) {
      memcpy(sc->lit + sc->nlit, name, k);
      sc->parts[sc->nparts].n = k;
    }
    sc->nlit += k;
  }
  sc->nparts++;
  sc->open = false;
}

static void scan(Scan *sc, const char *s, size_t n, bool placeholders) {
  bool esc = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    size_t end;
    if (esc) {
      bool special = c == '*' || c == '?' || c == '\\' || (placeholders && c == '%');
      if (!special) scan_lit(sc, "\\", 1);
      scan_lit(sc, &c, 1);
      esc = false;
    } else if (placeholders && c == '%' && (end = placeholder_end(s, n, i))) {
      scan_special(sc, SG_PART_PLACEHOLDER, s + i + 1, end - i - 1);
      i = end;
    } else if (c == '\\') {
      esc = true;
    } else if (c == '*' || c == '?') {
      scan_special(sc, c == '*' ? SG_PART_STAR : SG_PART_QMARK, NULL, 0);
    } else { /* a run of ordinary bytes at once */
      size_t j = i + 1;
      while (j < n && s[j] != '\\' && s[j] != '*' && s[j] != '?' && !(placeholders && s[j] == '%'))
        j++;
      scan_lit(sc, s + i, j - i);
      i = j - 1;
    }
  }
  if (esc) scan_lit(sc, "\\", 1);
}

SgStatus sg_str_parse_ex(SgArena *a, const char *s, size_t n, bool placeholders, SgStr *out) {
  Scan count = {0};
  scan(&count, s, n, placeholders);
  Scan fill = {0};
  fill.parts = sg_arena_alloc(a, (count.nparts ? count.nparts : 1) * sizeof *fill.parts);
  fill.lit = sg_arena_alloc(a, count.nlit + 1);
  if (!fill.parts || !fill.lit) return SG_ERR_NOMEM;
  scan(&fill, s, n, placeholders);
  out->parts = fill.parts;
  out->nparts = (uint32_t)fill.nparts;
  return SG_OK;
}

SgStatus sg_str_parse(SgArena *a, const char *s, size_t n, SgStr *out) {
  return sg_str_parse_ex(a, s, n, false, out);
}

bool sg_str_has_wildcard(const SgStr *s) {
  for (uint32_t i = 0; i < s->nparts; i++)
    if (s->parts[i].kind == SG_PART_STAR || s->parts[i].kind == SG_PART_QMARK) return true;
  return false;
}

bool sg_str_is_plain(const SgStr *s) {
  for (uint32_t i = 0; i < s->nparts; i++)
    if (s->parts[i].kind != SG_PART_LIT) return false;
  return true;
}

char *sg_str_flat(SgArena *a, const SgStr *s, size_t *len) {
  size_t n = 0;
  for (uint32_t i = 0; i < s->nparts; i++)
    if (s->parts[i].kind == SG_PART_LIT) n += s->parts[i].n;
  char *p = sg_arena_alloc(a, n + 1);
  if (!p) return NULL;
  size_t off = 0;
  for (uint32_t i = 0; i < s->nparts; i++)
    if (s->parts[i].kind == SG_PART_LIT) {
      memcpy(p + off, s->parts[i].s, s->parts[i].n);
      off += s->parts[i].n;
    }
  if (len) *len = n;
  return p;
}

SgStatus sg_str_wrap(SgArena *a, const SgStr *in, bool lead, bool trail, SgStr *out) {
  bool has_lead = in->nparts && in->parts[0].kind == SG_PART_STAR;
  bool has_trail = in->nparts && in->parts[in->nparts - 1].kind == SG_PART_STAR;
  lead = lead && !has_lead;
  trail = trail && !has_trail && !(lead && in->nparts == 0);
  size_t n = in->nparts + lead + trail;
  SgPart *p = sg_arena_alloc(a, (n ? n : 1) * sizeof *p);
  if (!p) return SG_ERR_NOMEM;
  size_t k = 0;
  if (lead) p[k++] = (SgPart){SG_PART_STAR, "", 0};
  for (uint32_t i = 0; i < in->nparts; i++)
    p[k++] = in->parts[i];
  if (trail) p[k++] = (SgPart){SG_PART_STAR, "", 0};
  out->parts = p;
  out->nparts = (uint32_t)k;
  return SG_OK;
}

/* ---- Encodings ----------------------------------------------------------------- */

/* Decode one UTF-8 sequence; input was validated by libyaml. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i) {
  unsigned char c = s[*i];
  uint32_t cp;
  int extra;
  if (c < 0x80) {
    cp = c;
    extra = 0;
  } else if ((c & 0xE0) == 0xC0) {
    cp = c & 0x1F;
    extra = 1;
  } else if ((c & 0xF0) == 0xE0) {
    cp = c & 0x0F;
    extra = 2;
  } else {
    cp = c & 0x07;
    extra = 3;
  }
  (*i)++;
  for (int k = 0; k < extra && *i < n; k++)
    cp = (cp << 6) | (s[(*i)++] & 0x3F);
  return cp;
}

static void put16(SgBuf *b, uint16_t u, bool be) {
  char two[2] = {(char)(be ? u >> 8 : u & 0xFF), (char)(be ? u & 0xFF : u >> 8)};
  sg_buf_catn(b, two, 2);
}

SgStatus sg_str_utf16(SgArena *a, const SgStr *in, SgUtf16 kind, SgStr *out) {
  PartBuf pb = {.a = a};
  bool be = kind == SG_UTF16BE;
  if (kind == SG_UTF16BOM) sg_buf_catn(&pb.lit, "\xFF\xFE", 2);
  for (uint32_t i = 0; i < in->nparts; i++) {
    const SgPart *p = &in->parts[i];
    if (p->kind != SG_PART_LIT) {
      pb_add(&pb, p->kind, p->s, p->n);
      continue;
    }
    const unsigned char *s = (const unsigned char *)p->s;
    for (size_t j = 0; j < p->n;) {
      uint32_t cp = utf8_next(s, p->n, &j);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        put16(&pb.lit, (uint16_t)(0xD800 | (cp >> 10)), be);
        put16(&pb.lit, (uint16_t)(0xDC00 | (cp & 0x3FF)), be);
      } else {
        put16(&pb.lit, (uint16_t)cp, be);
      }
    }
  }
  return pb_finish(&pb, out);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64(SgBuf *out, const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16;
    if (i + 1 < n) v |= (uint32_t)s[i + 1] << 8;
    if (i + 2 < n) v |= s[i + 2];
    char q[4] = {b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
                 i + 1 < n ? b64chars[(v >> 6) & 63] : '=', i + 2 < n ? b64chars[v & 63] : '='};
    sg_buf_catn(out, q, 4);
  }
}

static SgStatus lit_str(SgArena *a, const char *s, size_t n, SgStr *out) {
  SgPart *p = sg_arena_alloc(a, sizeof *p);
  char *c = sg_arena_strndup(a, s, n);
  if (!p || !c) return SG_ERR_NOMEM;
  *p = (SgPart){SG_PART_LIT, c, n};
  out->parts = p;
  out->nparts = n ? 1 : 0;
  return SG_OK;
}

SgStatus sg_str_base64(SgArena *a, const SgStr *in, SgStr *out) {
  size_t n;
  char *flat = sg_str_flat(a, in, &n);
  if (!flat) return SG_ERR_NOMEM;
  SgBuf b = {0};
  b64(&b, (const unsigned char *)flat, n);
  SgStatus st = b.oom ? lost(a) : lit_str(a, b.data ? b.data : "", b.len, out);
  sg_buf_free(&b);
  return st;
}

/* pySigma: b64(i*b" " + val)[start[i] : end[(len+i) % 3]], start = (0,2,3),
 * end = (None,-3,-2): drop the characters that depend on unknown neighbours. */
SgStatus sg_str_base64offset(SgArena *a, const SgStr *in, SgStr out[3]) {
  static const int start[3] = {0, 2, 3}, end[3] = {0, -3, -2};
  size_t n;
  char *flat = sg_str_flat(a, in, &n);
  if (!flat) return SG_ERR_NOMEM;
  for (int i = 0; i < 3; i++) {
    SgBuf raw = {0}, enc = {0};
    sg_buf_catn(&raw, "  ", (size_t)i);
    sg_buf_catn(&raw, flat, n);
    b64(&enc, (const unsigned char *)raw.data, raw.len);
    long s = start[i], e = (long)enc.len + end[(n + (size_t)i) % 3];
    if (e < s) e = s;
    SgStatus st =
        (raw.oom || enc.oom) ? lost(a) : lit_str(a, enc.data ? enc.data + s : "", (size_t)(e - s), &out[i]);
    sg_buf_free(&raw);
    sg_buf_free(&enc);
    if (st) return st;
  }
  return SG_OK;
}

/* ---- windash --------------------------------------------------------------------- */

static bool is_word(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80;
}

static const char *const dashes[5] = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95"};

/* Positions matched by \B[-/]\b within one literal part (part start = string start). */
static bool windash_at(const SgPart *p, size_t j) {
  unsigned char c = (unsigned char)p->s[j];
  if (c != '-' && c != '/') return false;
  bool prev_word = j > 0 && is_word((unsigned char)p->s[j - 1]);
  bool next_word = j + 1 < p->n && is_word((unsigned char)p->s[j + 1]);
  return !prev_word && next_word;
}

SgStatus sg_str_windash(SgArena *a, const SgStr *in, SgStr *out, size_t max, size_t *nout) {
  size_t sites = 0;
  for (uint32_t i = 0; i < in->nparts; i++)
    if (in->parts[i].kind == SG_PART_LIT)
      for (size_t j = 0; j < in->parts[i].n; j++)
        sites += windash_at(&in->parts[i], j);
  size_t total = 1;
  for (size_t k = 0; k < sites; k++) {
    total *= 5;
    if (total > max) return SG_ERR_UNSUPPORTED;
  }
  for (size_t v = 0; v < total; v++) {
    PartBuf pb = {.a = a};
    size_t code = v, site = 0;
    (void)site;
    /* digit k of v in base 5 (most significant first) picks the k-th site's dash */
    size_t div = total;
    for (uint32_t i = 0; i < in->nparts; i++) {
      const SgPart *p = &in->parts[i];
      if (p->kind != SG_PART_LIT) {
        pb_add(&pb, p->kind, p->s, p->n);
        continue;
      }
      for (size_t j = 0; j < p->n; j++) {
        if (windash_at(p, j)) {
          div /= 5;
          const char *d = dashes[(code / div) % 5];
          pb_add(&pb, SG_PART_LIT, d, strlen(d));
        } else {
          pb_add(&pb, SG_PART_LIT, p->s + j, 1);
        }
      }
    }
    if (pb_finish(&pb, &out[v])) return SG_ERR_NOMEM;
  }
  *nout = total;
  return SG_OK;
}

/* ---- Case folding ------------------------------------------------------------------ */

static uint32_t fold_cp(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE) return c == 0xD7 ? c : c + 32;
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
    if (c == 0x178) return 0xFF;
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    return odd_upper ? (c % 2 ? c + 1 : c) : (c % 2 ? c : c + 1);
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF)) return c % 2 ? c : c + 1;
  return c;
}

void sg_fold(char *out, const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    if (i + 8 <= n) { /* eight ASCII bytes at once */
      uint64_t x;
      memcpy(&x, s + i, 8);
      if (!(x & 0x8080808080808080ull)) {
        uint64_t ge_a = x + 0x0101010101010101ull * (0x80 - 'A');
        uint64_t gt_z = x + 0x0101010101010101ull * (0x80 - 'Z' - 1);
        x |= ((ge_a ^ gt_z) & 0x8080808080808080ull) >> 2;
        memcpy(out + i, &x, 8);
        i += 8;
        continue;
      }
    }
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
      i++;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < n && ((unsigned char)s[i + 1] & 0xC0) == 0x80) {
      uint32_t cp = ((uint32_t)(c & 0x1F) << 6) | ((unsigned char)s[i + 1] & 0x3F);
      uint32_t f = fold_cp(cp); /* stays in the 2-byte range */
      out[i] = (char)(0xC0 | (f >> 6));
      out[i + 1] = (char)(0x80 | (f & 0x3F));
      i += 2;
    } else {
      out[i] = (char)c;
      i++;
    }
  }
}

/* ---- Numbers ------------------------------------------------------------------------ */

bool sg_num_parse(const char *s, size_t n, SgNum *out) {
  char tmp[64];
  if (n == 0 || n >= sizeof tmp) return false;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  memset(out, 0, sizeof *out);
  char *end;
  errno = 0;
  const char *digits = tmp;
  int base = 10;
  bool neg = false;
  if (*digits == '-' || *digits == '+') neg = *digits++ == '-';
  if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
    base = digits[1] == 'x' ? 16 : 8;
    digits += 2;
  }
  if (*digits >= '0' && *digits <= '9' && !strpbrk(digits, ".eEinIN")) {
    long long v = strtoll(digits, &end, base);
    if (*end == '\0' && errno == 0) {
      out->is_int = true;
      out->i = neg ? -v : v;
      out->d = (double)out->i;
      out->text = NULL;
      return true;
    }
  }
  errno = 0;
  double d = strtod(tmp, &end);
  if (*end != '\0' || (errno && !isinf(d))) {
    /* YAML spellings of infinity and NaN */
    const char *t = tmp + (tmp[0] == '-' || tmp[0] == '+');
    if (!strcmp(t, ".inf") || !strcmp(t, ".Inf") || !strcmp(t, ".INF"))
      d = tmp[0] == '-' ? -INFINITY : INFINITY;
    else if (!strcmp(t, ".nan") || !strcmp(t, ".NaN") || !strcmp(t, ".NAN"))
      d = NAN;
    else
      return false;
  }
  out->d = d;
  if (isfinite(d) && d == floor(d) && fabs(d) < 9.0e15) {
    out->is_int = true;
    out->i = (int64_t)d;
  }
  return true;
}

const char *sg_num_text(SgArena *a, const SgNum *n) {
  if (n->is_int) return sg_arena_printf(a, "%lld", (long long)n->i);
  if (isnan(n->d)) return "nan";
  if (isinf(n->d)) return n->d < 0 ? "-inf" : "inf";
  char buf[64];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, n->d);
    if (strtod(buf, NULL) == n->d) break;
  }
  return sg_arena_strdup(a, buf);
}

/* ---- CIDR ------------------------------------------------------------------------------ */

bool sg_cidr_parse(const char *s, SgCidr *out) {
  char addr[64];
  const char *slash = strchr(s, '/');
  size_t alen = slash ? (size_t)(slash - s) : strlen(s);
  if (alen == 0 || alen >= sizeof addr) return false;
  memcpy(addr, s, alen);
  addr[alen] = '\0';
  memset(out, 0, sizeof *out);
  out->text = s;
  int maxp;
  if (strchr(addr, ':')) {
    if (inet_pton(AF_INET6, addr, out->addr) != 1) return false;
    out->family = 6;
    maxp = 128;
  } else {
    if (inet_pton(AF_INET, addr, out->addr) != 1) return false;
    out->family = 4;
    maxp = 32;
  }
  long prefix = maxp;
  if (slash) {
    const char *p = slash + 1;
    if (!*p || strlen(p) > 3) return false;
    for (const char *q = p; *q; q++)
      if (*q < '0' || *q > '9') return false;
    prefix = strtol(p, NULL, 10);
    if (prefix > maxp) return false;
  }
  out->prefix = (uint8_t)prefix;
  for (int bit = (int)prefix; bit < maxp; bit++)
    out->addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
  return true;
}

SgStatus sg_placeholder_error(SgDiags *d, SgLoc loc, const SgPart *ph) {
  sg_diag(d, SG_D_UNSUPPORTED, loc,
          "placeholder %%%.*s%% is not resolved (add a value_placeholders, wildcard_placeholders or "
          "query_expression_placeholders pipeline)",
          (int)ph->n, ph->s);
  return SG_ERR_UNSUPPORTED;
}
