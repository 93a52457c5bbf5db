/* pipeline.h - pySigma-compatible processing pipelines.
 *
 * A pipeline YAML file (name, priority, allowed_backends, vars,
 * transformations, postprocessing, finalizers) is loaded into an SgPipeline
 * with every key validated. A set of pipelines, sorted by (priority, name),
 * rewrites a processed copy of a rule: field names, values, log source,
 * added conditions, `fields:`, state for the backend. Postprocessing edits
 * each query; finalizers join all queries.
 */
#ifndef SG_PIPELINE_H
#define SG_PIPELINE_H

#include "sigmacc.h"

typedef struct SgPipeline SgPipeline;

typedef struct SgPipelineSet {
  SgPipeline **v;
  size_t n, cap;
} SgPipelineSet;

/* State set by set_state, read by backends (e.g. the Splunk data model). */
typedef struct SgPipelineState {
  SgKV *kv; /* the last value set for a key wins */
  size_t n, cap;
} SgPipelineState;

const SgYNode *sg_state_get(const SgPipelineState *s, const char *key);

/* Load a pipeline from YAML bytes (kept by the caller for the arena's life). */
SgStatus sg_pipeline_load(SgArena *a, const char *path, const char *src, size_t len, SgPipeline **out,
                          SgDiags *d);
/* Add pipelines named by `spec`: a built-in name, a YAML file, or a directory
 * of YAML files (recursively). Sources live in the arena. */
SgStatus sg_pipeline_add(SgArena *a, SgPipelineSet *set, const char *spec, SgDiags *d);
/* Set-level checks: every processing_item_applied condition names an item
 * id that some pipeline of the set defines. */
SgStatus sg_pipeline_validate(SgArena *a, const SgPipelineSet *set, SgDiags *d);
/* Sort by (priority, name), as pySigma resolves -p arguments. */
void sg_pipeline_sort(SgPipelineSet *set);
/* Append `more` after `set` without sorting (backend and format pipelines). */
SgStatus sg_pipeline_append(SgArena *a, SgPipelineSet *set, const SgPipelineSet *more);

const char *sg_pipeline_name(const SgPipeline *p);
/* allowed_backends (empty: any backend). */
const SgStrList *sg_pipeline_backends(const SgPipeline *p);
/* True when the pipeline may be used with `backend` (no allowed_backends = any). */
bool sg_pipeline_allows(const SgPipeline *p, const char *backend);

/* Apply every transformation to a copy of `in` (allocated in `a`). The copy's
 * conditions, log source, fields and custom attributes are rewritten; `in`
 * is not modified. Returns SG_ERR_PARSE/SG_ERR_UNSUPPORTED with diagnostics
 * when a transformation rejects the rule. */
SgStatus sg_pipeline_apply(SgArena *a, const SgPipelineSet *set, const SgRule *in, SgRule **out,
                           SgPipelineState *state, SgDiags *d);

/* Postprocessing of one query in place. */
SgStatus sg_pipeline_postprocess(const SgPipelineSet *set, const SgRule *r, SgBuf *query, SgDiags *d);
/* Finalizers: join `n` queries into `out`. Returns false when the set has no
 * finalizer (the target's own joining applies). */
bool sg_pipeline_finalize(const SgPipelineSet *set, const char *const *queries, size_t n, SgBuf *out);

/* Built-in pipelines, embedded at build time from pipelines/ *.yml. */
typedef struct SgBuiltinPipeline {
  const char *name;
  const char *text;
  size_t len;
} SgBuiltinPipeline;
const SgBuiltinPipeline *sg_builtin_pipelines(size_t *n);

#endif
