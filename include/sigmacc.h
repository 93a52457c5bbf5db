/* sigmacc.h - the sigmacc library: the one public header. Types and entry
 * points of the front end, the pipelines, the backends, the evaluator and
 * the batch runs the command line is made of.
 *
 * Data flow, one way: bytes -> SgYNode tree (compiler/yaml_load.c) -> SgRule
 *   (rule.c, detection.c) -> condition AST (cond.c) -> one SgNode boolean tree per
 *   condition (resolve.c) -> pipelines (compiler/pipeline/) -> backends (SPL, AQL,
 *   the evaluator in backends/eval/) -> the command line (cli/), which only parses
 *   arguments and prints what the batch runs below return.
 * Memory: everything a compile unit makes lives in one SgArena and is freed at once.
 * Output buffers (SgBuf) and diagnostic lists (SgDiags) are owned by the caller.
 * Library code never prints, exits or aborts: it returns SgStatus and appends SgDiag.
 */
#ifndef SIGMACC_H
#define SIGMACC_H

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGMACC_VERSION "0.1.0"

typedef enum SgStatus {
  SG_OK = 0,
  SG_ERR_PARSE,       /* the input is malformed; diagnostics say where */
  SG_ERR_UNSUPPORTED, /* valid input the target cannot express */
  SG_ERR_IO,          /* a file could not be read or written */
  SG_ERR_NOMEM,       /* allocation failed */
  SG_ERR_USAGE,       /* bad arguments */
} SgStatus;

/* ---- Arena ---------------------------------------------------------------- */
typedef struct SgArenaChunk SgArenaChunk;
typedef struct SgArenaCleanup SgArenaCleanup;
typedef struct SgArena {
  SgArenaChunk *head;       /* newest chunk first */
  SgArenaCleanup *cleanups; /* run by sg_arena_free, newest first */
  size_t allocs;            /* allocations made so far */
  size_t bytes;             /* bytes of the chunks it holds (memory tests) */
  bool failed;              /* an allocation has failed; results are incomplete */
} SgArena;

void sg_arena_init(SgArena *a);
void sg_arena_free(SgArena *a);
void *sg_arena_alloc(SgArena *a, size_t n); /* zeroed; NULL on failure */
char *sg_arena_strndup(SgArena *a, const char *s, size_t n);
char *sg_arena_strdup(SgArena *a, const char *s);
char *sg_arena_printf(SgArena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Call fn(p) when the arena is freed (for objects owned elsewhere, e.g. PCRE2
 * codes). On allocation failure fn(p) runs at once and false is returned. */
bool sg_arena_defer(SgArena *a, void (*fn)(void *), void *p);

/* ---- Growable byte buffer (heap; caller frees with sg_buf_free) ----------- */
typedef struct SgBuf {
  char *data; /* always NUL-terminated when len > 0 or after sg_buf_cstr */
  size_t len;
  size_t cap;
  bool oom; /* an append failed; contents are truncated */
} SgBuf;

void sg_buf_free(SgBuf *b);
void sg_buf_catn(SgBuf *b, const char *s, size_t n);
void sg_buf_cat(SgBuf *b, const char *s);
void sg_buf_catc(SgBuf *b, char c);
void sg_buf_catf(SgBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sg_buf_vcatf(SgBuf *b, const char *fmt, va_list ap);
const char *sg_buf_cstr(SgBuf *b);
void sg_buf_reset(SgBuf *b); /* empty, and no longer out of memory */

/* ---- Source locations and diagnostics ------------------------------------- */
typedef struct SgLoc {
  const char *path; /* file as given by the user; NULL when unknown */
  uint32_t line;    /* 1-based; 0 = whole file */
  uint32_t col;     /* 1-based, in bytes */
} SgLoc;

typedef enum SgDiagCode {
#define SG_DIAG(name, code, text) SG_D_##name,
#include "sigmacc_diag.def"
#undef SG_DIAG
  SG_D__COUNT
} SgDiagCode;

typedef enum SgSeverity { SG_SEV_ERROR, SG_SEV_WARNING, SG_SEV_NOTE } SgSeverity;

typedef struct SgDiag {
  SgSeverity sev;
  SgDiagCode code;
  SgLoc loc;
  char *msg;             /* heap, owned by the SgDiags; NULL when memory ran out */
  const char *validator; /* the `check` validator that names this finding (static), or NULL */
} SgDiag;

/* What to do with warnings (-W): switch codes off, or make them errors. */
typedef struct SgWarnPolicy {
  bool off[SG_D__COUNT]; /* -W no-CODE */
  bool error;            /* -W error: every warning (still on) is an error */
} SgWarnPolicy;
/* Apply one -W argument: "no-W071", "W071" (on again), "error", "no-error".
 * False when it names no warning code. */
bool sg_warn_option(SgWarnPolicy *w, const char *arg);

typedef struct SgDiags {
  SgDiag *items;
  size_t n, cap;
  size_t nerrors, nwarnings;  /* all reported, even those whose message was lost (oom) */
  size_t nsuppressed;         /* warnings switched off by the policy */
  bool oom;                   /* a diagnostic could not be stored */
  const SgWarnPolicy *policy; /* NULL: warnings as they are */
} SgDiags;

const char *sg_diag_code_str(SgDiagCode c); /* "E012" */
void sg_diags_free(SgDiags *d);
void sg_diag(SgDiags *d, SgDiagCode code, SgLoc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Render one diagnostic as "path:line:col: error[E012]: msg", then the source
 * line and a caret when `src` (the file's bytes) is given. */
void sg_diag_render(SgBuf *out, const SgDiag *dg, const char *src, size_t srclen);
void sg_diag_render_json(SgBuf *out, const SgDiag *dg);

/* ---- YAML tree ------------------------------------------------------------ */
typedef enum SgYKind { SG_Y_SCALAR, SG_Y_SEQ, SG_Y_MAP } SgYKind;
typedef enum SgYType { SG_YT_STR, SG_YT_INT, SG_YT_FLOAT, SG_YT_BOOL, SG_YT_NULL } SgYType;

typedef struct SgYNode SgYNode;
struct SgYNode {
  SgYKind kind;
  SgLoc loc;
  /* SCALAR */
  const char *text; /* NUL-terminated (embedded NULs impossible: libyaml rejects them) */
  size_t len;
  SgYType type;   /* resolved from plain scalars; quoted ones are always STR */
  bool quoted;    /* single- or double-quoted, literal or folded */
  bool multiline; /* the source spans lines: token columns are approximate */
  bool bval;      /* BOOL */
  /* SEQ: items; MAP: keys[i] -> items[i] (keys are SCALAR STR) */
  SgYNode **items;
  SgYNode **keys;
  size_t n;
};

/* ---- Numbers and the boolean tree ------------------------------------------ */
typedef struct SgNum {
  const char *text; /* as written; "1.0" is normalised to "1" as pySigma does */
  double d;
  int64_t i;
  bool is_int;
} SgNum;

/* A rule's boolean tree: AND, OR, NOT and matches (field, operator, value);
 * its layout and the value model are in sigmacc_int.h, for the library's
 * folders; sg_dump_rule writes it as text. */
typedef struct SgNode SgNode;

/* ---- Rules ---------------------------------------------------------------- */
typedef enum SgDocKind { SG_DOC_RULE, SG_DOC_CORRELATION, SG_DOC_FILTER } SgDocKind;

typedef struct SgStrList {
  const char **v;
  SgLoc *locs;
  const char **from; /* names before a pipeline mapping (NULL: unchanged) */
  size_t n;
} SgStrList;

typedef struct SgKV {
  const char *key;
  const SgYNode *val; /* kept as YAML so backends and pipelines can read it */
} SgKV;

typedef struct SgLogsource {
  const char *category, *product, *service, *definition; /* NULL when absent */
  SgKV *custom;
  size_t ncustom;
  SgLoc loc;
} SgLogsource;

typedef struct SgSearch {
  const char *name;
  SgLoc loc;
  SgNode *node; /* the search as a boolean tree */
  bool used;    /* referenced by some condition */
} SgSearch;

/* A parsed condition (cond.c), resolved against the searches by resolve.c;
 * also the extended condition of temporal correlations. */
typedef struct SgCondExpr SgCondExpr; /* a condition as parsed (sigmacc_int.h); `root` is what it means */

typedef struct SgCondition {
  const char *text;
  SgLoc loc;
  SgCondExpr *expr; /* parsed */
  SgNode *root;     /* resolved: the rule's boolean tree for this condition */
} SgCondition;

/* Correlation types: X(ENUM, "type as written", "the aggregate its condition
 * compares, as the backends name it"). Every table indexed by SgCorrType is
 * checked against SG_CORR__COUNT at compile time. */
#define SG_CORR_LIST(X)                                                                                      \
  X(EVENT_COUNT, "event_count", "event_count")                                                               \
  X(VALUE_COUNT, "value_count", "value_count")                                                               \
  X(TEMPORAL, "temporal", "event_type_count")                                                                \
  X(TEMPORAL_ORDERED, "temporal_ordered", "event_type_count")                                                \
  X(VALUE_SUM, "value_sum", "value_sum")                                                                     \
  X(VALUE_AVG, "value_avg", "value_avg")                                                                     \
  X(VALUE_PERCENTILE, "value_percentile", "value_percentile")                                                \
  X(VALUE_MEDIAN, "value_median", "value_median")

typedef enum SgCorrType {
#define X(name, type, aggregate) SG_CORR_##name,
  SG_CORR_LIST(X)
#undef X
      SG_CORR__COUNT
} SgCorrType;

const char *sg_corr_type_name(SgCorrType t);      /* "event_count", ...; "" when out of range */
const char *sg_corr_aggregate_name(SgCorrType t); /* "event_type_count" for temporal, ... */

typedef struct SgCorrCond {
  const char *op; /* gt gte lt lte eq neq */
  SgNum value;
} SgCorrCond;

typedef struct SgCorrAlias {
  const char *name;
  SgKV *map; /* rule name -> field (val is a scalar) */
  size_t n;
} SgCorrAlias;

typedef struct SgCorrelation {
  SgCorrType type;
  SgStrList rules;
  SgStrList group_by;
  const char *timespan;
  uint64_t timespan_s;
  SgCorrCond *conds;
  size_t nconds;
  SgStrList fields;       /* condition.field for value_* types */
  const char *expression; /* extended temporal condition, or NULL */
  SgCondition *expr;      /* ... parsed; its identifiers are `rules` */
  SgCorrAlias *aliases;
  size_t naliases;
  int percentile; /* value_percentile: condition.percentile, 1 to 100 (pySigma's form) */
  bool generate;
} SgCorrelation;
/* A condition with lt, lte, eq or neq: decided when a window ends (a count below 5 holds after
 * the first match already), where gt and gte are decided as matches arrive. */
bool sg_corr_at_window_end(const SgCorrelation *c);

typedef struct SgFilterDef {
  SgStrList rules; /* empty: any rule with a matching log source */
  bool any;
} SgFilterDef;

typedef struct SgRelated {
  const char *id, *type;
} SgRelated;

typedef struct SgRule {
  SgDocKind kind;
  SgLoc loc;
  const SgYNode *yaml; /* the document */
  const char *title, *id, *name, *status, *description, *license, *author;
  const char *date, *modified, *level, *taxonomy;
  SgRelated *related;
  size_t nrelated;
  SgStrList references, tags, falsepositives, fields, scope;
  SgKV *custom; /* unknown top-level keys, in file order */
  size_t ncustom;
  SgLogsource logsource;
  SgSearch *searches;
  size_t nsearches;
  SgCondition *conds;
  size_t nconds;
  SgCorrelation *corr; /* SG_DOC_CORRELATION */
  SgFilterDef *filter; /* SG_DOC_FILTER */
  bool failed;         /* an error was reported for this rule */
  bool correlated;     /* used by a correlation of its unit that does not `generate` it: part of
                          that correlation's query, not a query of its own */
} SgRule;

/* A file's worth of rules. */
typedef struct SgUnit {
  SgArena arena;
  const char *path;
  char *src; /* file bytes (owned) */
  size_t srclen;
  SgRule **rules;
  size_t nrules;
  const SgYNode *pipeline; /* the file is a processing pipeline, not rules */
} SgUnit;

/* A rule attribute by name: title, id, name, status, level, description,
 * author, date, modified, license, taxonomy, or a custom top-level key with a
 * scalar value; NULL when unset. */
const char *sg_rule_attr(const SgRule *r, const char *attr);

/* ---- Entry points --------------------------------------------------------- */
/* Read a file (path "-" is stdin). On failure appends E001 and returns SG_ERR_IO. */
SgStatus sg_read_file(const char *path, char **data, size_t *len, SgDiags *d);

/* Whole front end over one file's bytes: YAML, rule model, detection,
 * conditions, resolution. `src` is taken over by the unit. Rules with errors
 * are kept with failed=true; the unit is always valid to free. */
SgStatus sg_compile_source(SgUnit *u, const char *path, char *src, size_t len, SgDiags *d);
void sg_unit_free(SgUnit *u);
/* The rules of a run's files by id and name: a correlation references rules
 * of the whole collection, as the specification and pySigma resolve them
 * (SigmaHQ keeps correlations in files of their own). */
typedef struct SgIndexEntry SgIndexEntry;
typedef struct SgRuleIndex {
  SgIndexEntry *v;
  size_t n;
  SgUnit *units; /* the run's files, in path order */
  size_t nunits;
  size_t *base; /* each file's first rule, numbering the rules of all files */
  bool *cycle;  /* by that number: a correlation on a cycle of references (found once, at build) */
} SgRuleIndex;
SgStatus sg_rule_index_build(SgRuleIndex *ix, SgUnit *units, size_t n);
/* Mark `correlated` the rules that correlations of other files use without `generate`
 * (a file's own are marked when it is compiled). */
void sg_rule_index_mark(const SgRuleIndex *ix);
/* The correlations of the index that reach themselves through the correlations they
 * reference (a cycle can never be met, and would hide itself): error E050 at each, marked
 * failed; those of file `only` (one of the index's), or of every file (NULL); how many. */
size_t sg_corr_cycles(const SgRuleIndex *ix, const SgUnit *only, SgDiags *d);
void sg_rule_index_free(SgRuleIndex *ix);

/* The rule of u with this id, else with this name: its index, or u->nrules. */
size_t sg_unit_rule(const SgUnit *u, const char *name);
/* Whether one of u's documents is a correlation. */
bool sg_unit_correlates(const SgUnit *u);
/* A rule a correlation references: the rule, its file and its index there. */
typedef struct SgRuleRef {
  const SgRule *rule;
  SgUnit *unit;
  size_t index;
} SgRuleRef;
/* The rules correlation `corr` of `u` names (by id, else by name), in the
 * order of its `rules` (allocated in `a`, the caller's: u may be another
 * thread's): u's own first, then the run's files through `batch` (NULL: u
 * alone). A name no rule has, or rules of several files have, is error E052
 * and SG_ERR_UNSUPPORTED. */
SgStatus sg_corr_resolve(SgArena *a, SgUnit *u, const SgRule *corr, const SgRuleIndex *batch,
                         SgRuleRef **refs, SgDiags *d);

/* "Did you mean": offer candidates one by one; the closest (edit distance,
 * ASCII case ignored, a swap of neighbours counts one) is the suggestion
 * when it is close enough to be a typo (at most a third of the word, at
 * least one edit), else NULL. */
typedef struct SgSuggest {
  const char *word;
  size_t len;
  const char *best;
  size_t dist;
} SgSuggest;
void sg_suggest_init(SgSuggest *s, const char *word, size_t len);
void sg_suggest_add(SgSuggest *s, const char *candidate);
const char *sg_suggest_best(const SgSuggest *s);
/* " (did you mean 'X'?)" in buf, or `otherwise` when there is no suggestion. */
const char *sg_suggest_text(const SgSuggest *s, char *buf, size_t size, const char *otherwise);

/* Debug dump of a rule and its boolean trees, one node per line (`convert -t ast`). */
void sg_dump_rule(SgBuf *out, const SgRule *r);

/* ---- Processing pipelines (compiler/pipeline/) ---------------------------------
 * pySigma-compatible pipeline YAML (name, priority, allowed_backends, vars,
 * transformations, postprocessing, finalizers), loaded with every key
 * validated. A set of pipelines, sorted by (priority, name), rewrites a
 * processed copy of a rule: field names, values, log source, added
 * conditions, `fields:`, state for the backend. Postprocessing edits each
 * query; finalizers join all queries. */
typedef struct SgPipeline SgPipeline;

typedef struct SgPipelineSet {
  SgPipeline **v;
  size_t n, cap;
} SgPipelineSet;

/* Load a pipeline from YAML bytes (kept by the caller for the arena's life). */
SgStatus sg_pipeline_load(SgArena *a, const char *path, const char *src, size_t len, SgPipeline **out,
                          SgDiags *d);
/* Add pipelines named by `spec`: a built-in name, a YAML file, or a directory
 * of YAML files (recursively). Sources live in the arena. SG_ERR_USAGE when
 * `spec` names nothing, SG_ERR_IO when it cannot be read, SG_ERR_PARSE when a
 * pipeline is invalid. */
SgStatus sg_pipeline_add(SgArena *a, SgPipelineSet *set, const char *spec, SgDiags *d);
/* Set-level checks: a processing_item_applied condition naming an item id
 * that no pipeline of the set defines gets warning W062 (it is false). */
SgStatus sg_pipeline_validate(SgArena *a, const SgPipelineSet *set, SgDiags *d);

/* ---- Validators (compiler/validate.c) ------------------------------------------
 * `check` runs pySigma's validators (same identifiers, sigmacc_validators.def)
 * over each rule, and on request SigmaHQ's (pySigma-validators-sigmaHQ); a
 * finding is warning W100 naming its validator. Which run, and for which rules
 * not, follows sigma-cli's validation configuration. */
typedef enum SgValidatorId {
#define SG_VALIDATOR(name, id, severity, set, text) SG_V_##name,
#include "sigmacc_validators.def"
#undef SG_VALIDATOR
  SG_V__COUNT
} SgValidatorId;

typedef enum SgValidatorSet { SG_VSET_PYSIGMA, SG_VSET_SIGMACC, SG_VSET_SIGMAHQ } SgValidatorSet;
typedef struct SgValidatorInfo {
  const char *id, *severity;
  SgValidatorSet set;
  const char *description;
} SgValidatorInfo;
extern const SgValidatorInfo sg_validator_info[SG_V__COUNT];
/* The validator with this identifier (case-insensitive), or SG_V__COUNT. */
SgValidatorId sg_validator_find(const char *id);
void sg_list_validators(SgBuf *out);

/* ---- Events (backends/eval/json.c) ---------------------------------------------
 * The reader splits a stream into documents without holding more than one
 * document (plus a read buffer) in memory: JSON lines, a top-level array of
 * objects, or objects concatenated (pretty-printed or not). sg_json_parse
 * turns one document into a flat list of leaves, each with its dotted path
 * and its short name (the last key; `X.#attributes.Y` -> `X_Y`, `X.#text`
 * -> `X`, array elements keep the array's name). */
typedef enum SgJType { SG_J_NULL, SG_J_BOOL, SG_J_NUM, SG_J_STR } SgJType;

typedef struct SgJLeaf {
  uint32_t path, pathlen; /* dotted path, offset into SgJDoc.text */
  uint32_t name, namelen; /* short name, offset into SgJDoc.text */
  uint32_t val, vallen;   /* value text (unescaped string, number as written, true/false) */
  SgJType type;
} SgJLeaf;

typedef struct SgJDoc {
  SgJLeaf *leaves;
  size_t n, cap;
  char *text; /* paths, names and values, NUL-separated */
  size_t tlen, tcap;
} SgJDoc;

void sg_jdoc_free(SgJDoc *d);
/* The first leaf whose short name or dotted path is f[0..n), or NULL. */
const SgJLeaf *sg_jdoc_find(const SgJDoc *d, const char *f, size_t n);
/* Parse one document (a JSON object, nothing after it); on error returns
 * false with the offset and reason. */
bool sg_json_parse(SgJDoc *d, const char *s, size_t n, size_t *err_off, const char **err);
/* The events of one input: the reader's documents, each parsed; one line of
 * JSON lines may hold several objects. A document that is not a valid event
 * is skipped and reported (SG_EV_SKIP), and reading goes on after it: the
 * next line for JSON lines, the next object otherwise. */
typedef struct SgEventIn SgEventIn; /* an input of events: a FILE as documents, each parsed */

typedef enum SgEvNext { SG_EV_EVENT, SG_EV_SKIP, SG_EV_NOMEM, SG_EV_END } SgEvNext;

/* An input of events read from f (the caller keeps f open until the end):
 * JSON lines, a JSON array, concatenated objects, plain or gzip, or EVTX,
 * told from its first bytes. NULL when memory ran out. */
SgEventIn *sg_events_open(FILE *f);
void sg_events_close(SgEventIn *in);
/* The event sg_events_next returned last. */
const SgJDoc *sg_events_doc(const SgEventIn *in);
/* SG_EV_EVENT: sg_events_doc(in) is the event, text[0..len) its JSON, *line
 * where it starts (for EVTX input: the record's EventRecordID, or its
 * position in the file when the record cannot be read). SG_EV_SKIP: a
 * document at *line was skipped because of *msg. SG_EV_NOMEM: memory ran out
 * reading the document at *line (not evaluated). SG_EV_END: the input is
 * done (a read error or running out of memory is said as SG_EV_SKIP first). */
SgEvNext sg_events_next(SgEventIn *in, const char **text, size_t *len, size_t *line, const char **msg);

/* ---- The evaluator (backends/eval/: compile, index, prefilter, match) ----------
 * Rules (already processed by their pipelines) are compiled once into
 * matcher trees over interned field ids; an index by EventID, Channel or a
 * required field means an event only meets rules that can apply to it. Each
 * event's field values are collected once and case-folded at most once. */
typedef struct SgEvaluator SgEvaluator;

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
/* The log-source model (call before sg_eval_add): an event in evtx_dump's
 * shape (Event.System.Channel) is a Windows event, and a rule applies to it
 * when its product is windows, or it has no product and `pipelines` map its
 * category or service for Windows (sg_pipeline_knows_logsource), or it has no
 * log source at all. Any other event is of the `declared` log source (none:
 * every rule applies), and a rule applies when no attribute both set differs. */
void sg_eval_set_logsources(SgEvaluator *e, const SgPipelineSet *pipelines, const SgLogsource *declared);
/* Whether the last event had a log source (its own, or the declared one). */
bool sg_eval_logsource_known(const SgEvaluator *e);
/* Build the indexes; call once after the last sg_eval_add. */
SgStatus sg_eval_prepare(SgEvaluator *e);
/* A second evaluator of the same rules for another thread: it shares the
 * prepared rules and indexes of `e` (read only; `e` must outlive it and not
 * change) and has its own per-event state. NULL when memory ran out. */
SgEvaluator *sg_eval_fork(const SgEvaluator *e);
/* Match one parsed event: the hits (owned by `e`, valid until the next
 * call), in rule order. SG_ERR_NOMEM when memory ran out: the event's result
 * is unknown, never narrower. */
SgStatus sg_eval_event(SgEvaluator *e, const SgJDoc *doc, const SgEvalHit **hits, size_t *nhits);
/* The rules whose result for the last event is unknown because a regex hit
 * a PCRE2 limit (each with its condition and error code). */
size_t sg_eval_undecided(const SgEvaluator *e, const SgEvalHit **v);
/* The text of an undecided hit's error code. */

/* ---- Correlations (backends/eval/correlate.c) ----------------------------------
 * A correlation keeps, for each group (its group-by values in the event), the
 * matches of its rules within the last timespan: the event's time comes from
 * the event (evtx_dump's System.TimeCreated, or @timestamp, UtcTime, ...),
 * events are taken in input order, and a match older than the newest one by
 * more than the timespan drops out. When the condition holds the correlation
 * fires once for that group, which then starts over. Memory follows the
 * groups alive in their window: a group whose newest match is older than the
 * newest event time minus the timespan (or that fired and is empty) is
 * dropped when the table has doubled since the last sweep, so at most about
 * twice the live groups (and at least 1,024) are kept. `gt`/`gte` thresholds
 * are decided as matches arrive; `lt`, `lte`, `eq` and `neq` when a group's
 * window ends (see sg_corr_finish). temporal_ordered
 * with a condition expression: the rules it names outside `not` count when
 * they matched in the order `rules` lists them (each after the last such rule
 * before it that counts), those under `not` when they matched at all. Each
 * window keeps its aggregate up to date as matches arrive and leave (distinct
 * values in a hash table, the median in an order-statistic tree, each rule's
 * matches in a queue): O(log n) a match, whatever the window holds. */
typedef struct SgCorrelator SgCorrelator;

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
 * sg_eval_add, or the correlation it names, as given to sg_corr_add (a
 * chain: that one firing is a match of this one); all must outlive `c`. SG_ERR_UNSUPPORTED with a located
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
/* The end of the input: the windows still open of correlations decided when
 * their window ends (a condition with lt, lte, eq or neq; the window runs the
 * timespan from a group's first match and ends at the group's next match after
 * it, or here), in the order they began. */
SgStatus sg_corr_finish(SgCorrelator *c, const SgCorrHit **out, size_t *nout);
/* After every correlation was added: drop (with a located error each) those
 * naming a correlation that was not added, as a chain of them would never
 * fire; how many were dropped. */
size_t sg_corr_check(SgCorrelator *c, SgDiags *d);
/* Matches of correlated rules that could not be used: the event had no time. */
size_t sg_corr_untimed(const SgCorrelator *c);
size_t sg_corr_count(const SgCorrelator *c); /* correlations added */
/* sg_corr_hides and sg_corr_count read only what sg_corr_add set: other
 * threads may call them while one thread feeds sg_corr_event. */

/* ---- Runs: the commands as library calls (runs/) --------------------------- */
/* Diagnostics d->items[from..] rendered into `out` (with the source line and
 * a caret when `src`, the text of file `path`, is given and the diagnostic is
 * located in that file), or as JSON lines. */
void sg_render_diags(SgBuf *out, const SgDiags *d, size_t from, const char *path, const char *src, size_t len,
                     bool json);

/* `sigmacc check` (runs/check.c): load every file under the paths (rules,
 * and pipeline files among them), every diagnostic in path order. */
typedef struct SgCheckResult {
  SgBuf out;     /* diagnostics, rendered (or JSON lines) */
  SgBuf summary; /* "checked N files, N rules: N errors, N warnings" */
  SgBuf report;  /* job->reports: each file checked ({"checked":path}) then its diagnostics, JSON lines */
  size_t files, rules, pipelines, errors, warnings;
  size_t findings[SG_V__COUNT]; /* per validator */
  int exit_code; /* 0 clean; 1 errors (or warnings with fail_on_warning); 2 unreadable input or usage */
} SgCheckResult;
typedef struct SgCheckJob {
  char *const *paths;
  size_t npaths;
  bool json;
  const SgWarnPolicy *warnings;
  const char *validation_config; /* sigma-cli's YAML (sg_validation_config), or NULL */
  const char *const *exclude;    /* -x: validators left out */
  size_t nexclude;
  const char *attack_data;  /* --attack-data: a techniques.tsv, or NULL */
  bool sigmahq;             /* --sigmahq: SigmaHQ's validators too */
  const char *sigmahq_data; /* --sigmahq-data: the folder of SigmaHQ's data files, or NULL */
  long long today;          /* days since 1970-01-01 for sigmahq_status_to_high; 0: the clock's */
  bool fail_on_warning;     /* --fail-on warning: a warning fails the check too (exit 1) */
  bool reports;             /* res->report too, for sg_check_sarif and sg_check_junit */
} SgCheckJob;
void sg_check_run(const SgCheckJob *job, SgCheckResult *res);
void sg_check_result_free(SgCheckResult *res);
/* A run's findings (job.reports) as SARIF 2.1.0 (the tool, a rule per
 * diagnostic code or validator with its help text, a result per finding with
 * its file, line and column), or as JUnit XML (a testcase per file checked,
 * failed by its errors, or its warnings with fail_on_warning). */
void sg_check_sarif(const SgCheckResult *res, SgBuf *out);
void sg_check_junit(const SgCheckResult *res, bool fail_on_warning, SgBuf *out);

/* `sigmacc analyze`: facts about the rules under `paths`. */
typedef struct SgAnalyzeResult {
  SgBuf out;     /* the analysis: a table, or JSON */
  SgBuf diags;   /* diagnostics of the rules that did not load, rendered */
  SgBuf summary; /* "analyzed N files, N rules, N log sources; N rules not loaded" */
  size_t rules;
  int exit_code; /* 0; 1 some rules did not load; 2 unreadable input */
} SgAnalyzeResult;
/* How many rules use each (product, category, service), most used first. */
void sg_analyze_logsources(char *const *paths, size_t npaths, bool json, SgAnalyzeResult *res);
/* An ATT&CK Navigator layer (JSON) scoring each tagged technique by its
 * number of rules, or (by_level) by the highest level of its rules. */
void sg_analyze_attack(char *const *paths, size_t npaths, bool by_level, SgAnalyzeResult *res);
void sg_analyze_result_free(SgAnalyzeResult *res);

/* ---- Conversion runs (runs/convert.c) ---------------------------------------- */
typedef struct SgOption {
  const char *key, *value;
} SgOption;

/* One run of `sigmacc convert`: every field as the command line sets it. */
typedef struct SgConvertJob {
  const char *target;   /* name or alias (sigmacc list targets) */
  const char *format;   /* NULL: the target's default format */
  const SgOption *opts; /* -O key=value, in command-line order */
  size_t nopts;
  const char *const *pipelines; /* built-in names, files or directories */
  size_t npipelines;
  bool without_pipeline;      /* no target default pipeline */
  const char *const *filters; /* --filter files */
  size_t nfilters;
  bool skip_unsupported;        /* -s: unsupported rules are reported, not errors */
  bool json_diagnostics;        /* diagnostics as JSON lines */
  const char *golden;           /* --check/--update DIR, or NULL */
  bool update;                  /* --update */
  const SgWarnPolicy *warnings; /* -W; NULL: as they are */
  bool header; /* --header: "# PATH:LINE ID TITLE" before each rule's queries (text formats) */
  int fields;  /* analyze fields: 1 list each rule's field names after the pipelines instead of
                  converting ("PATH:LINE: TITLE: f1, f2"), 2 the same as JSON lines */
} SgConvertJob;

typedef struct SgConvertResult {
  SgBuf out;   /* the queries in the output format, or the golden report */
  SgBuf junit; /* --check: the comparison as JUnit XML, a testcase per golden file */
  SgBuf diags; /* every diagnostic of the run, rendered, in path order */
  size_t failed, skipped, errors;
  int exit_code; /* 0 success; 1 a rule or pipeline failed, or golden drift; 2 usage or I/O */
} SgConvertResult;

/* Convert the rules under `paths` (files, directories, `-`). Never prints:
 * the caller writes res->out and res->diags. */
void sg_convert_run(const SgConvertJob *job, char *const *paths, size_t npaths, SgConvertResult *res);
void sg_convert_result_free(SgConvertResult *res);
/* One rule (or one file's documents) as text: `src`, named `path` in the
 * diagnostics, converted with the job's target, format, options and
 * pipelines; the queries into `out` as convert writes them, diagnostics into
 * `d`. SG_OK, SG_ERR_USAGE (target, format, option, pipeline name), or the
 * status of the first rule that failed (its queries are not written). */
SgStatus sg_convert_text(const SgConvertJob *job, const char *path, const char *src, size_t len, SgBuf *out,
                         SgDiags *d);

/* ---- Evaluation runs (runs/eval.c) ------------------------------------------- */
typedef enum SgEvalFormat { SG_EVAL_JSONL, SG_EVAL_CSV, SG_EVAL_TABLE } SgEvalFormat;
/* A rule level's rank, 1 informational ... 5 critical (ASCII case ignored),
 * 0 for another word; a rule status's bit for SgEvalJob.statuses (stable,
 * test, experimental, deprecated, unsupported), 0 for another word. */
int sg_level_rank(const char *level);
unsigned sg_status_bit(const char *status);
/* "YYYY-MM-DD[T ]hh:mm:ss[.f...][Z|+hh:mm|-hh:mm]" (UTC without an offset) as
 * epoch seconds; false when s[0..n) is not such a time. */
bool sg_parse_time(const char *s, size_t n, double *t);
/* One run of `sigmacc eval`: every field as the command line sets it. */
typedef struct SgEvalJob {
  char *const *rules; /* rule files or directories */
  size_t nrules;
  /* Rule files whose rules only a correlation of `rules` may name (a rule
   * repository's other files): read and indexed, not evaluated on their own,
   * their diagnostics not said (a file also among `rules` is one of those);
   * read only when a file of `rules` mentions a correlation. */
  char *const *context;
  size_t ncontext;
  char *const *events; /* event files; none: stdin */
  size_t nevents;
  const char *const *pipelines;
  size_t npipelines;
  const char *const *filters;
  size_t nfilters;
  const char *fields; /* F1,F2,...: print these instead of the event */
  const char *golden; /* --check/--update DIR: rules' sample events R.events.jsonl */
  bool update;
  bool stats;            /* the counts and events/s to the error sink */
  bool without_pipeline; /* no evtx pipeline for Windows rules */
  bool skip_unsupported;
  bool progress;                /* a progress line on the error sink (a terminal) */
  const SgWarnPolicy *warnings; /* -W; NULL: as they are */
  const SgLogsource *declared;  /* the log source of events without their own, or NULL */
  SgEvalFormat format;          /* how a match is written */
  bool summary;                 /* counts per level, rule and computer instead of the matches */
  bool summary_after;           /* ... after the matches (a terminal's default view) */
  bool input_order;             /* csv and table: matches as read (else sorted by event time) */
  bool dedup;                   /* an event read again (the same log in two files) shows no match again */
  bool colour;                  /* table: levels in colour (for a terminal) */
  bool html;                    /* an HTML report of the matches to SgEvalSink.html too */
  bool tz_local;                /* times in local time, else at tz_offset seconds east of UTC (0: Z) */
  long tz_offset;
  bool summary_table;      /* the summary as a table (else JSON; a table with SG_EVAL_TABLE) */
  bool csv_exact;          /* csv cells as they are: no ' before a leading =, +, -, @, tab or CR */
  int min_level;           /* show matches of rules of this level or above (sg_level_rank; 0: any) */
  unsigned statuses;       /* of rules with one of these statuses (sg_status_bit; 0: any) */
  const char *const *tags; /* of rules with one of these tags (or one under it) */
  size_t ntags;
  bool from_set, to_set; /* of events in the time window [from, to] (to_excl: [from, to)), epoch seconds */
  bool to_excl;
  double from, to;
  size_t jobs;  /* threads matching events; 0: one per core */
  bool dump;    /* no rules: every event as the JSON line the rules would read (sigmacc dump) */
  bool metrics; /* no rules: the events counted by channel, event id, computer, provider (metrics) */
  bool logons;  /* no rules: successful and failed logons counted by user, source, type (logons) */
  /* search: no rules; the events with a value holding this keyword (or
   * matching it as a PCRE2 regex), in any field or in search_field alone. */
  const char *search;
  bool search_regex, search_caseless;
  const char *search_field;
  /* Rules left out (and counted on the error sink): deprecated and unsupported
   * ones (by status, or in a deprecated/ or unsupported/ folder) unless
   * included (or asked for with `statuses`), those with these statuses, those
   * with one of these tags (or one under it), those listed in the file
   * exclude_rules (rule ids or paths, one per line, # comments). */
  bool include_deprecated, include_unsupported;
  unsigned exclude_statuses;
  const char *const *exclude_tags;
  size_t nexclude_tags;
  const char *exclude_rules;
} SgEvalJob;

/* Where a run writes: matches (JSON lines) and golden reports to `out`,
 * diagnostics, progress and statistics to `err`. */
typedef struct SgEvalSink {
  void (*out)(void *ctx, const char *s, size_t n);
  void (*err)(void *ctx, const char *s, size_t n);
  void *ctx;
  void (*html)(void *ctx, const char *s, size_t n); /* SgEvalJob.html: the report page, at the end */
} SgEvalSink;

/* Evaluate; returns the exit code: 0 ok; 1 a rule had an error; 2 usage or
 * an unreadable input; 3 documents skipped as malformed, no event read, or a
 * result that could not be decided. */
int sg_eval_run(const SgEvalJob *job, const SgEvalSink *sink);

/* ---- Detection pages (runs/pages.c) ------------------------------------------ */
/* One run of `sigmacc pages`: a static site, a page per rule file (its
 * queries per platform, in words, its ATT&CK techniques, its sample events'
 * verdicts, the portable rule), a page per technique and an index. */
typedef struct SgPagesJob {
  const char *outdir;           /* -o DIR: write the site */
  const char *golden;           /* --check/--update DIR instead: compare with (rewrite) a committed site */
  bool update;                  /* --update */
  const char *config;           /* --config FILE: title and platforms; NULL: AQL, SPL, SPL2 */
  const char *const *pipelines; /* -p: added to every platform's pipelines and to the evaluator's */
  size_t npipelines;
  const char *regression_data; /* --regression-data DIR: SigmaHQ's regression_data/ (regression_tests_path) */
  const SgWarnPolicy *warnings; /* -W; NULL: as they are */
} SgPagesJob;

typedef struct SgPagesResult {
  SgBuf out;   /* the golden report (--check/--update) */
  SgBuf diags; /* every diagnostic of the run, rendered */
  size_t pages, techniques, failed;
  int exit_code; /* 0 success; 1 a rule failed to load, or the site differs; 2 usage, config or I/O */
} SgPagesResult;

void sg_pages_run(const SgPagesJob *job, char *const *paths, size_t npaths, SgPagesResult *res);
void sg_pages_result_free(SgPagesResult *res);

/* ---- Regression tests (runs/test.c) -------------------------------------------- */

/* `sigmacc test`: every rule's SigmaHQ regression tests (regression_tests_path
 * -> info.yml -> each file and its match_count) and its R.events.jsonl /
 * R.nomatch.jsonl, each rule alone through the evaluator. */
typedef struct SgTestJob {
  const char *regression_data;  /* regression_data/ itself; NULL: the one found above each rule */
  const char *const *pipelines; /* -p: the evaluator's */
  size_t npipelines;
} SgTestJob;

typedef struct SgTestResult {
  SgBuf out;                               /* a line per test (PASS/FAIL, what and where), then the counts */
  SgBuf diags;                             /* rule files that could not be read */
  SgBuf junit;                             /* the same as JUnit XML: one testcase per test */
  SgBuf cases;                             /* (the testcases, while they are gathered) */
  size_t rules, untested, tests, failures; /* rules read, those without a test; tests, failed */
  int exit_code;                           /* 0 all passed; 1 a test failed; 2 usage or I/O */
} SgTestResult;

void sg_test_run(const SgTestJob *job, char *const *paths, size_t npaths, SgTestResult *res);
void sg_test_result_free(SgTestResult *res);

/* `sigmacc list`: targets, formats (of one target or all), built-in
 * pipelines, modifiers, as text lines. False when a built-in pipeline does
 * not load (a bug; diagnostics in d). */
void sg_list_targets(SgBuf *out);
void sg_list_formats(SgBuf *out, const char *target);
bool sg_list_pipelines(SgBuf *out, SgDiags *d);
void sg_list_modifiers(SgBuf *out);
/* Every diagnostic code with its meaning (or the warnings only, for -W). */
void sg_list_diagnostics(SgBuf *out, bool warnings_only);

#endif
