/* outcheck.h - properties of what sigmacc writes, shared by the output
 * property tests and the fuzz targets: a strict JSON (RFC 8259) validator,
 * and the terminal check (no byte a terminal acts on or reorders text by). */
#ifndef SG_OUTCHECK_H
#define SG_OUTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "sigmacc_int.h"

typedef struct OcJson {
  const char *s;
  size_t i, n;
  int depth;
} OcJson;

static inline void oc_ws(OcJson *j) {
  while (j->i < j->n && strchr(" \t\r\n", j->s[j->i]) && j->s[j->i])
    j->i++;
}

static inline bool oc_digits(OcJson *j) {
  size_t at = j->i;
  while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
    j->i++;
  return j->i > at;
}

static inline bool oc_value(OcJson *j);

static inline bool oc_string(OcJson *j) {
  if (j->i >= j->n || j->s[j->i] != '"') return false;
  for (j->i++; j->i < j->n;) {
    unsigned char c = (unsigned char)j->s[j->i];
    if (c == '"') return j->i++, true;
    if (c < 0x20) return false;
    if (c == '\\') {
      if (j->i + 1 >= j->n) return false;
      char e = j->s[j->i + 1];
      if (e == 'u') {
        for (int k = 2; k < 6; k++)
          if (j->i + (size_t)k >= j->n || !strchr("0123456789abcdefABCDEF", j->s[j->i + (size_t)k]) ||
              !j->s[j->i + (size_t)k])
            return false;
        j->i += 6;
      } else if (strchr("\"\\/bfnrt", e) && e) {
        j->i += 2;
      } else {
        return false;
      }
      continue;
    }
    size_t k = c < 0x80 ? 1 : sg_utf8_len(j->s + j->i, j->n - j->i);
    if (!k) return false;
    j->i += k;
  }
  return false;
}

static inline bool oc_value(OcJson *j) {
  oc_ws(j);
  if (j->i >= j->n || ++j->depth > 1000) return false;
  char c = j->s[j->i];
  bool ok = false;
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    j->i++;
    oc_ws(j);
    if (j->i < j->n && j->s[j->i] == close) {
      j->i++;
      ok = true;
    } else {
      for (;;) {
        if (c == '{') {
          oc_ws(j);
          if (!oc_string(j)) break;
          oc_ws(j);
          if (j->i >= j->n || j->s[j->i++] != ':') break;
        }
        if (!oc_value(j)) break;
        oc_ws(j);
        if (j->i < j->n && j->s[j->i] == ',') {
          j->i++;
          continue;
        }
        ok = j->i < j->n && j->s[j->i++] == close;
        break;
      }
    }
  } else if (c == '"') {
    ok = oc_string(j);
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    if (c == '-') j->i++;
    if (j->i < j->n && j->s[j->i] == '0')
      j->i++;
    else if (!oc_digits(j))
      return false;
    ok = true;
    if (j->i < j->n && j->s[j->i] == '.') j->i++, ok = oc_digits(j);
    if (ok && j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
      j->i++;
      if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-')) j->i++;
      ok = oc_digits(j);
    }
  } else {
    static const char *const words[] = {"true", "false", "null"};
    for (int w = 0; w < 3 && !ok; w++) {
      size_t l = strlen(words[w]);
      if (j->n - j->i >= l && !memcmp(j->s + j->i, words[w], l)) j->i += l, ok = true;
    }
  }
  j->depth--;
  return ok;
}

/* Is s[0..n) exactly one JSON value (whitespace around it allowed)? */
static inline bool oc_json_valid(const char *s, size_t n) {
  OcJson j = {s, 0, n, 0};
  if (!oc_value(&j)) return false;
  oc_ws(&j);
  return j.i == n;
}

/* The offset of the first thing in s[0..n) a terminal would act on: a C0
 * control other than \n, DEL, a C1 control, a bidirectional control or a
 * line/paragraph separator, an invalid UTF-8 byte; n when there is none. */
static inline size_t oc_term_unsafe(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != '\n') || c == 0x7f) return i;
    size_t k = c < 0x80 ? 1 : sg_utf8_len(s + i, n - i);
    if (!k) return i;
    if (k == 2 && c == 0xc2 && (unsigned char)s[i + 1] < 0xa0) return i;  /* U+0080-U+009F */
    if (k == 2 && c == 0xd8 && (unsigned char)s[i + 1] == 0x9c) return i; /* U+061C */
    if (k == 3 && c == 0xe2 && (unsigned char)s[i + 1] == 0x80) {
      unsigned char d = (unsigned char)s[i + 2];
      if (d == 0x8e || d == 0x8f || (d >= 0xa8 && d <= 0xae)) return i; /* U+200E/F, U+2028-U+202E */
    }
    if (k == 3 && c == 0xe2 && (unsigned char)s[i + 1] == 0x81) {
      unsigned char d = (unsigned char)s[i + 2];
      if (d >= 0xa6 && d <= 0xa9) return i; /* U+2066-U+2069 */
    }
    i += k;
  }
  return n;
}

/* Two documents with the same leaves (path, name, type, value), in order. */
static inline bool oc_same_doc(const SgJDoc *a, const SgJDoc *b) {
  if (a->n != b->n) return false;
  for (size_t i = 0; i < a->n; i++) {
    const SgJLeaf *x = &a->leaves[i], *y = &b->leaves[i];
    if (x->type != y->type || x->pathlen != y->pathlen || x->namelen != y->namelen ||
        x->vallen != y->vallen || memcmp(a->text + x->path, b->text + y->path, x->pathlen) ||
        memcmp(a->text + x->name, b->text + y->name, x->namelen) ||
        memcmp(a->text + x->val, b->text + y->val, x->vallen))
      return false;
  }
  return true;
}

#endif
