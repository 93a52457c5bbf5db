/* front.h - internals shared by the front-end stages (not part of the API).
 *
 * String transformations used by value modifiers; each takes an SgStr and
 * returns new arena memory, never modifying its input.
 */
#ifndef SG_FRONT_H
#define SG_FRONT_H

#include "sigmacc.h"

/* The front end's stages (called by sg_compile_source; tests call them too). */
SgStatus sg_rule_from_yaml(SgArena *a, const SgYNode *doc, SgLoc docloc, SgRule **out, SgDiags *d);
/* `det` is the detection (or filter) mapping; `key` its key, where problems
 * of the whole section are reported. */
SgStatus sg_detection_build(SgArena *a, SgRule *r, const SgYNode *key, const SgYNode *det, SgDiags *d);
/* One search definition (map, list or keywords) as a boolean tree. */
SgNode *sg_search_build(SgArena *a, const SgYNode *def, SgDiags *d, bool *failed);
SgStatus sg_cond_parse(SgArena *a, SgCondition *c, const SgYNode *src, SgDiags *d);
SgStatus sg_resolve(SgArena *a, SgRule *r, SgDiags *d);

/* sg_compile_source with the arena failing its `fail_after`-th allocation (tests). */
SgStatus sg_compile_source_failing(SgUnit *u, const char *path, char *src, size_t len, SgDiags *d,
                                   size_t fail_after);

typedef enum SgUtf16 { SG_UTF16LE, SG_UTF16BE, SG_UTF16BOM } SgUtf16;

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

/* `*` matches any run of characters (condition patterns). */
bool sg_glob_match(const char *pat, const char *s);

/* Growable arena array helper: ensure room for one more element. */
/* Growable arena array: make room for element n of *arrp (a T **), doubling
 * the capacity. On failure the array and its count are left as they were. */
bool sg_grow(SgArena *a, void *arrp, size_t n, size_t *cap, size_t elem);
/* A pointer to the new last element of arr (n is incremented), or NULL. */
#define SG_PUSH(a, arr, n, cap) (sg_grow((a), &(arr), (n), &(cap), sizeof *(arr)) ? &(arr)[(n)++] : NULL)

#endif
