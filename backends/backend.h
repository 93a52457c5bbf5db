/* backend.h - the interface every conversion target implements, and the
 * registry that lists them: registry.c (the targets, sg_convert_rule,
 * `list`), text_query.c (what the text targets share), splunk.c, spl2.c,
 * aql.c; the evaluator in eval/ (eval/evaluator.h).
 *
 * A target turns each condition of a (pipeline-processed) rule into one query
 * string in the requested output format. Queries are collected by the caller;
 * `finish` may wrap the whole collection (e.g. savedsearches.conf defaults).
 * A target that cannot express a construct reports SG_D_UNSUPPORTED at the
 * construct's location and returns SG_ERR_UNSUPPORTED; it never emits a
 * narrower or broader query silently.
 */
#ifndef SG_BACKEND_H
#define SG_BACKEND_H

#include "sigmacc_int.h"

typedef struct SgConvCtx {
  const char *format;   /* output format name, validated against the target */
  const SgOption *opts; /* -O key=value, in command-line order */
  size_t nopts;
  const struct SgPipelineState *state; /* pipeline state (set_state), may be NULL */
  /* A correlation's referenced rules, processed by the pipelines, in the
   * order of its `rules` (set by sg_convert_rule; NULL when not found). */
  const SgRule *const *refs;
  const struct SgPipelineState *ref_states; /* each referenced rule's pipeline state */
  size_t nrefs;
  /* A referenced correlation's own references (a chain), NULL for a rule. */
  const struct SgConvCtx *const *ref_ctx;
  const SgRuleIndex *batch; /* the run's files, for references across them (NULL: one file) */
  bool header;              /* --header: a comment line naming each rule before its queries (text formats) */
} SgConvCtx;

/* The last value given for `key`, or `def`. */
const char *sg_conv_opt(const SgConvCtx *c, const char *key, const char *def);
/* The context for referenced rule i of a correlation: the run's, with that rule's own pipeline
 * state (its log source types, its field mapping's state). */
static inline SgConvCtx sg_conv_ref(const SgConvCtx *c, size_t i) {
  SgConvCtx rc = *c;
  rc.state = c->ref_states ? &c->ref_states[i] : NULL;
  return rc;
}

/* One query, with the rule metadata output formats need (copied, so the
 * rule's unit can be freed once its file is converted). */
typedef struct SgQuery {
  size_t rule; /* serial of the rule in this run */
  size_t cond; /* index of the condition */
  size_t nconds;
  char *text;                             /* the query in the output format */
  char *id, *title, *level, *description; /* NULL when the rule has none */
  char *meta;                             /* JSON members "path", "tags", "logsource" (the json formats) */
  char *header; /* "# PATH:LINE ID TITLE" (--header), control characters as spaces */
  char *stanza; /* savedsearches: this rule's -O stanza.KEY lines, its attributes filled in (or NULL) */
} SgQuery;

typedef struct SgQueries {
  SgQuery *v;
  size_t n, cap;
  size_t rules; /* rule serials handed out */
} SgQueries;

void sg_queries_free(SgQueries *q);
SgStatus sg_queries_add(SgQueries *q, const SgRule *r, size_t cond, const char *text, size_t len);

/* An output format of a target: everything about it in one place. */
typedef struct SgFormat {
  const char *name;
  const char *help;    /* one line for `sigmacc list formats` */
  const char *options; /* the -O keys it takes (space-separated; "prefix." takes any key with that prefix) */
  const char *ext;     /* file extension for --check/--update */
  const char *state;   /* pipeline state it needs (NULL: none) */
  const char *state_from; /* the built-in pipeline that sets it */
} SgFormat;

typedef struct SgTarget {
  const char *name;
  const char *alias; /* or NULL */
  const char *description;
  const SgFormat *formats;      /* ended by one without a name; formats[0] is the default */
  const char *default_pipeline; /* built-in pipeline applied by default, or NULL */
  const char *needs_mapping;    /* the built-in pipelines that map Sigma's field names to the
                                   target's (the target refuses to run without a pipeline
                                   unless --without-pipeline says raw names are meant), or NULL */
  bool any_pipeline;            /* skip the allowed_backends check (debug targets) */
  bool dump;                    /* output is a debug dump, not queries framed by blank lines */
  /* The -O values, checked once before any rule (NULL: nothing to check). */
  SgStatus (*check_options)(const SgConvCtx *c, SgDiags *d);
  /* Convert every condition of `r`; append one SgQuery per condition. */
  SgStatus (*convert)(const SgConvCtx *c, const SgRule *r, SgQueries *out, SgDiags *d);
  /* Join the queries into the final output. NULL: queries separated by a
   * blank line, each ending in a newline. */
  void (*finish)(const SgConvCtx *c, const SgQueries *q, SgBuf *out);
} SgTarget;

/* The queries as plain text, one per line with a blank line between them,
 * each rule's first one after its --header line when asked. */
void sg_tq_finish_text(const SgConvCtx *c, const SgQueries *q, SgBuf *out);

/* Reject -O keys the format does not know (an unknown option is never ignored). */
SgStatus sg_check_options(const SgConvCtx *c, const char *target, const char *known, SgDiags *d);

const SgTarget *sg_target_find(const char *name);

const SgTarget *const *sg_target_list(size_t *n);

/* Convert one rule of `u`: apply the pipelines (the processed rule lives in
 * u's arena), render every condition with `t`, postprocess each query. A
 * correlation's referenced rules are looked up in `u` (by id, then name). */
struct SgPipelineSet;
SgStatus sg_convert_rule(const SgTarget *t, SgConvCtx *ctx, const struct SgPipelineSet *set, SgUnit *u,
                         const SgRule *rule, SgQueries *q, SgDiags *d);

/* Queries as the pipelines' finalizer or else the target's format joins them
 * (a finalizer's failure is an error in `d`). */
void sg_render_queries(const SgTarget *t, const SgConvCtx *ctx, const struct SgPipelineSet *set,
                       const SgQueries *q, SgBuf *out, SgDiags *d);

#endif
