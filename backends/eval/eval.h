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

typedef struct SgEvalHit {
  const SgRule *rule;
  size_t cond;  /* the first condition that matched */
  size_t index; /* the rule's position in load order */
} SgEvalHit;

SgEvaluator *sg_eval_new(void);
void sg_eval_free(SgEvaluator *e);
/* Compile every condition of `r` (kept by pointer: it must outlive `e`).
 * SG_ERR_UNSUPPORTED with a located diagnostic for what cannot be evaluated. */
SgStatus sg_eval_add(SgEvaluator *e, const SgRule *r, SgDiags *d);
/* Build the indexes; call once after the last sg_eval_add. */
SgStatus sg_eval_prepare(SgEvaluator *e);
/* Match one parsed event. Returns the number of hits in *hits (owned by `e`,
 * valid until the next call), in rule order. */
size_t sg_eval_event(SgEvaluator *e, const SgJDoc *doc, const SgEvalHit **hits);
size_t sg_eval_rule_count(const SgEvaluator *e);

#endif
