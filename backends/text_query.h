/* text_query.h - helpers shared by the text query targets (SPL, AQL):
 * IN-list detection, Sigma strings as regular expressions, conjunct lists,
 * and the common output formats (json lines).
 */
#ifndef SG_TEXT_QUERY_H
#define SG_TEXT_QUERY_H

#include "backend.h"

/* An OR of >= 2 MATCH kids, all EQ on one (non-keyword) field with string or
 * number values, each accepted by `ok` (the target's own limits). */
bool sg_tq_is_in_list(const SgNode *n, bool (*ok)(const SgNode *kid, void *arg), void *arg);

/* A Sigma string as a PCRE pattern: literal text escaped, `*` -> `.*`, `?` -> `.`;
 * wrapped in ^...\z when `anchored` (\z, not $: PCRE's and Java's $ also match before a final line break).
 * Placeholders must be resolved before. */
void sg_tq_str_regex(SgBuf *out, const SgStr *s, bool anchored);

/* True when a literal (not wildcard) part contains byte c. */
bool sg_tq_str_has_literal(const SgStr *s, char c);
bool sg_tq_str_has_kind(const SgStr *s, SgPartKind k);

/* The top-level conjuncts of a tree: an AND's kids, or just `root` (kept in
 * *one). Returns their count. */
size_t sg_tq_conjuncts(const SgNode *root, const SgNode **one, const SgNode *const **v);

/* One JSON object per query: {"id", "title", "level", "query"}, one per line. */
void sg_tq_finish_json(const SgQueries *q, SgBuf *out);

/* Report an unsupported construct at the node and return SG_ERR_UNSUPPORTED. */
SgStatus sg_tq_unsupported(SgDiags *d, const SgNode *n, const char *target, const char *what);

/* The first unresolved placeholder of a string value, or NULL. */
const SgPart *sg_tq_placeholder(const SgValue *v);

/* Splunk names (SPL search and SPL2 fields): [A-Za-z0-9_.]+, written bare. */
bool sg_tq_plain_name(const char *f);

/* s[0..n) with a backslash before every backslash and every byte of `esc`
 * (Splunk's quoted strings and names). */
void sg_tq_escaped(SgBuf *b, const char *s, size_t n, const char *esc);

/* Splunk correlations (SPL, SPL2): the correlation's timespan as Splunk writes a
 * span (a month as "mon"); "\n| bin _time span=TIMESPAN" and the warning that
 * fixed buckets are not a sliding window. */
void sg_tq_span(SgBuf *out, const SgRule *r);
void sg_tq_bin_time(SgBuf *q, const SgRule *r, const char *target, SgDiags *d);

/* A regex's SG_RE_* flags as PCRE inline flag letters ("ims") in buf. */
const char *sg_tq_re_flags(unsigned f, char buf[4]);

/* A located error for the first unresolved placeholder under `n`. */
SgStatus sg_tq_check_placeholders(SgDiags *d, const SgNode *n);

/* True when a literal part holds a letter (or a byte outside ASCII, which may
 * be one): without one, case cannot matter. */
bool sg_tq_str_has_letters(const SgStr *s);

/* Correlations: the conditions as `AGGREGATE OP VALUE` joined by `sep`,
 * `neq` being the target's not-equal operator. */
void sg_tq_corr_conds(SgBuf *b, const SgCorrelation *k, const char *neq, const char *sep);

/* Names a text query cannot hold: a field name, `fields:` entry or
 * correlation name with a control character, or a regex with a raw line
 * break (a query is one line of its output format). Each is a located
 * SG_D_UNSUPPORTED; values are never refused for this (they are escaped or
 * written as a regular expression). */
SgStatus sg_tq_check_names(const SgRule *r, const char *target, SgDiags *d);

/* True when a literal part holds CR or LF: such a value cannot be written as
 * a plain quoted literal on one line; targets write it as a regex with \x0A. */
bool sg_tq_str_has_break(const SgStr *s);

#endif
