/* oracle_models.h - executable models of the SPL and AQL that sigmacc writes,
 * for the semantic oracle (test_oracle.c). Each model parses a query text as
 * the backend emits it - any construct it does not know is a parse error,
 * so a backend that starts writing something new fails the test until the
 * model learns it - and evaluates it on one event (SgJDoc).
 *
 * What the models assume about the targets (README, "What the queries mean"):
 *  - Fields. An event's field is looked up by its short name or its dotted
 *    path, as the evaluator does (Splunk's JSON extraction and a QRadar
 *    property of that name are assumed to hold the same value); the first
 *    value counts. A field that is absent is NULL.
 *  - Raw text. Splunk's _raw and QRadar's UTF8(payload) are the event's
 *    values: a keyword or payload pattern matches when it matches one value
 *    (a match across two values is not modelled).
 *  - SPL search: `field=value` compares case-insensitively (Unicode folding as
 *    sg_fold), `*` matches any run of characters, `CASE("...")` compares
 *    exactly; a number matches the same number written as a string; an absent
 *    field matches no term, and `NOT term` matches it. A bare or quoted
 *    keyword term matches at token boundaries of the raw text (Splunk
 *    indexes terms at breakers), and `"*kw*"` matches a substring.
 *  - SPL `| regex f="re"` keeps events whose f has a PCRE match; `f!="re"`
 *    keeps the others, including those without f. `| where` is eval: three-
 *    valued logic (NULL for an absent field; the event is kept only when the
 *    expression is true), match() is a PCRE search, lower/substr/len/
 *    cidrmatch/isnull/isnotnull as documented by Splunk.
 *  - SPL2 `FROM dataset WHERE expr`: the expression is eval (as `| where`),
 *    with LIKE (case-sensitive, `%` any run, `_` one character, no escape
 *    character), IN, IS [NOT] NULL, the bare booleans true and false, and
 *    /regex/ literals (`\/` is a slash; other escapes go to PCRE as written).
 *  - AQL: SQL three-valued logic; LIKE/ILIKE match the whole value with `%`
 *    (any run) and `_` (one character) and no escape character; [I]MATCHES
 *    match the whole value with a Java regex, modelled by PCRE2 (the
 *    patterns sigmacc writes use the common subset); INCIDR tests an IPv4
 *    or IPv6 address; LOWER folds like sg_fold; a string compared with a
 *    number is converted when it is a number.
 */
#ifndef SG_ORACLE_MODELS_H
#define SG_ORACLE_MODELS_H

#include <stdbool.h>
#include <stddef.h>

#include "sigmacc_int.h"

typedef struct OmQuery OmQuery;

typedef enum OmLang { OM_SPL, OM_SPL2, OM_AQL } OmLang;

/* Parse a query as the backend wrote it. NULL with a message in `why` when
 * the model does not know a construct. */
OmQuery *om_parse(const char *text, OmLang lang, char *why, size_t whylen);
/* Does the query keep the event? */
bool om_matches(const OmQuery *q, const SgJDoc *doc);
void om_free(OmQuery *q);

#endif
