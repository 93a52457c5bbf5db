/* eval.h - the native evaluator: match compiled Sigma rules against events.
 *
 * Rules (already processed by their pipelines) are compiled once into
 * matcher trees over interned field ids; an index by EventID, Channel or a
 * required field means an event only meets rules that can apply to it.
 * Each event's field values are collected once and case-folded at most once.
 */
#ifndef SG_EVAL_H
#define SG_EVAL_H

#include "json.h"

typedef struct SgEvaluator SgEvaluator;

/* The JIT stack's largest size: enough for the backtracking real rules do on
 * long values; a match that still runs out is reported, never a non-match. */
#define SG_EVAL_JIT_STACK (8u << 20)

typedef struct SgEvalHit {
  const SgRule *rule;
  size_t cond;  /* the first condition that matched (undecided: that condition) */
  size_t index; /* the rule's position in load order */
  int error;    /* undecided: the PCRE2 error code (a limit was hit) */
} SgEvalHit;

SgEvaluator *sg_eval_new(void);
void sg_eval_free(SgEvaluator *e);
/* Compile every condition of `r` (kept by pointer: it must outlive `e`).
 * SG_ERR_UNSUPPORTED with a located diagnostic for what cannot be evaluated. */
SgStatus sg_eval_add(SgEvaluator *e, const SgRule *r, SgDiags *d);
/* Build the indexes; call once after the last sg_eval_add. */
SgStatus sg_eval_prepare(SgEvaluator *e);
/* Match one parsed event: the hits (owned by `e`, valid until the next
 * call), in rule order. SG_ERR_NOMEM when memory ran out: the event's result
 * is unknown, never narrower. */
SgStatus sg_eval_event(SgEvaluator *e, const SgJDoc *doc, const SgEvalHit **hits, size_t *nhits);
/* The rules whose result for the last event is unknown because a regex hit
 * a PCRE2 limit (each with its condition and error code). */
size_t sg_eval_undecided(const SgEvaluator *e, const SgEvalHit **v);
/* The text of an undecided hit's error code. */
void sg_eval_error_text(int error, char *buf, size_t n);
size_t sg_eval_rule_count(const SgEvaluator *e);

#endif
