/* front.h - internals shared by the front-end stages (not part of the API).
 *
 * String transformations used by value modifiers; each takes an SgStr and
 * returns new arena memory, never modifying its input.
 */
#ifndef SG_FRONT_H
#define SG_FRONT_H

#include "sigmacc.h"

typedef enum SgUtf16 { SG_UTF16LE, SG_UTF16BE, SG_UTF16BOM } SgUtf16;

/* Add a leading and/or trailing wildcard unless one is already there. */
SgStatus sg_str_wrap(SgArena *a, const SgStr *in, bool lead, bool trail, SgStr *out);
/* Encode literal parts as UTF-16 (wildcards stay). `in` must be valid UTF-8. */
SgStatus sg_str_utf16(SgArena *a, const SgStr *in, SgUtf16 kind, SgStr *out);
/* Base64 of a plain string (caller checks for wildcards). */
SgStatus sg_str_base64(SgArena *a, const SgStr *in, SgStr *out);
/* The three shifted base64 encodings of a plain string. */
SgStatus sg_str_base64offset(SgArena *a, const SgStr *in, SgStr out[3]);
/* Windows dash variants: every dash/slash that starts an option, in each of
 * 5 spellings. *n is the count written to out (<= max); returns
 * SG_ERR_UNSUPPORTED when more than `max` would result. */
SgStatus sg_str_windash(SgArena *a, const SgStr *in, SgStr *out, size_t max, size_t *n);
/* sg_str_parse with |expand active: `%name%` is a placeholder part and `\%`
 * a literal percent sign. */
SgStatus sg_str_parse_ex(SgArena *a, const char *s, size_t n, bool placeholders, SgStr *out);
/* Render a number the way pySigma does (1.0 -> 1, 1.50 -> 1.5). */
const char *sg_num_text(SgArena *a, const SgNum *n);

/* Parsed condition (cond.c), resolved against the searches by resolve.c. */
typedef enum SgCondKind { SG_C_AND, SG_C_OR, SG_C_NOT, SG_C_ID, SG_C_ONE_OF, SG_C_ALL_OF } SgCondKind;

/* AND and OR are n-ary (`a or b or c` is one node with three operands), so a
 * long chain costs linear memory and no recursion depth; the depth of the
 * tree is bounded by the parentheses and `not`s (SG_MAX_COND_DEPTH). */
struct SgCondExpr {
  SgCondKind kind;
  SgLoc loc;
  SgCondExpr **kids; /* AND/OR: n >= 2 operands; NOT: kids[0] */
  uint32_t n;
  const char *name; /* ID: identifier; *_OF: pattern, "them" for all */
  bool them;
};

/* `*` matches any run of characters (condition patterns). */
bool sg_glob_match(const char *pat, const char *s);

/* ASCII case-insensitive comparison (locale-independent). */
static inline int strcasecmp_ascii(const char *a, const char *b) {
  for (;; a++, b++) {
    int ca = (*a >= 'A' && *a <= 'Z') ? *a + 32 : (unsigned char)*a;
    int cb = (*b >= 'A' && *b <= 'Z') ? *b + 32 : (unsigned char)*b;
    if (ca != cb || !ca) return ca - cb;
  }
}

static inline int strncasecmp_ascii(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int ca = (a[i] >= 'A' && a[i] <= 'Z') ? a[i] + 32 : (unsigned char)a[i];
    int cb = (b[i] >= 'A' && b[i] <= 'Z') ? b[i] + 32 : (unsigned char)b[i];
    if (ca != cb || !ca) return ca - cb;
  }
  return 0;
}

/* Growable arena array helper: ensure room for one more element. */
/* Growable arena array: make room for element n of *arrp (a T **), doubling
 * the capacity. On failure the array and its count are left as they were. */
bool sg_grow(SgArena *a, void *arrp, size_t n, size_t *cap, size_t elem);
/* A pointer to the new last element of arr (n is incremented), or NULL. */
#define SG_PUSH(a, arr, n, cap) (sg_grow((a), &(arr), (n), &(cap), sizeof *(arr)) ? &(arr)[(n)++] : NULL)

#endif
