/* correlate.h - Sigma correlation rules over the evaluator's matches.
 *
 * A correlation keeps, for each group (its group-by values in the event), the
 * matches of its rules within the last timespan: the event's time comes from
 * the event (evtx_dump's System.TimeCreated, or @timestamp, UtcTime, ...),
 * events are taken in input order, and a match older than the newest one by
 * more than the timespan drops out. When the condition holds the correlation
 * fires once for that group, which then starts over. Memory follows the
 * groups alive in their window: a group whose newest match is older than the
 * newest event time minus the timespan (or that fired and is empty) is
 * dropped when the table has doubled since the last sweep, so at most about
 * twice the live groups (and SG_CORR_SWEEP_MIN) are kept. Thresholds are decided
 * as matches arrive, so only `gt`/`gte` conditions are accepted (a "fewer
 * than" condition would need the end of each window).
 */
#ifndef SG_CORRELATE_H
#define SG_CORRELATE_H

#include "json.h"

#include "eval.h"

typedef struct SgCorrelator SgCorrelator;

#define SG_CORR_SWEEP_MIN 1024 /* groups kept before the first sweep of expired ones */

typedef struct SgCorrHit {
  const SgRule *rule; /* the correlation */
  const char *group;  /* its group-by values as a JSON object */
  double value;       /* the aggregate that met the condition */
  double first, last; /* event times (epoch seconds) of the window's first and last match */
  size_t matches;     /* matches in the window */
} SgCorrHit;

SgCorrelator *sg_corr_new(void);
void sg_corr_free(SgCorrelator *c);
/* Track `corr`; refs[i] is the rule its rules.v[i] names, as given to
 * sg_eval_add (all must outlive `c`). SG_ERR_UNSUPPORTED with a located
 * diagnostic for what cannot be decided match by match. */
SgStatus sg_corr_add(SgCorrelator *c, const SgRule *corr, const SgRule *const *refs, SgDiags *d);
/* True when `r` is used by a correlation that does not `generate` it: its
 * matches are part of the correlation, not results of their own. */
bool sg_corr_hides(const SgCorrelator *c, const SgRule *r);
/* Feed one event's hits; the correlations they complete (owned by `c`,
 * valid until the next call). SG_ERR_NOMEM when memory ran out: the state
 * of the correlations is then incomplete (*out holds what fired before). */
SgStatus sg_corr_event(SgCorrelator *c, const SgJDoc *doc, const SgEvalHit *hits, size_t nhits,
                       const SgCorrHit **out, size_t *nout);
/* Matches of correlated rules that could not be used: the event had no time. */
size_t sg_corr_untimed(const SgCorrelator *c);
/* Groups held now (alive, or expired since the last sweep). */
size_t sg_corr_groups(const SgCorrelator *c);

#endif
