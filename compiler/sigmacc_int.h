/* sigmacc_int.h - what the library's folders share beyond the public API
 * (include/sigmacc.h), as SQLite's sqliteInt.h sits beside sqlite3.h: the
 * helpers of the front end, the pipelines' internals, the validators, the
 * two-step event reader. Library files, the command line and the tests
 * include it; a program using the library includes sigmacc.h alone.
 */
#ifndef SIGMACC_INT_H
#define SIGMACC_INT_H

#include <string.h>

#include "sigmacc.h"

/* ---- Values and matches (the boolean tree's leaves) ------------------------ */
typedef enum SgPartKind {
  SG_PART_LIT,         /* literal bytes (may include NUL after UTF-16 encoding) */
  SG_PART_STAR,        /* wildcard: any sequence */
  SG_PART_QMARK,       /* wildcard: exactly one character */
  SG_PART_PLACEHOLDER, /* %name% from |expand; text is the name */
} SgPartKind;

typedef struct SgPart {
  SgPartKind kind;
  const char *s;
  size_t n;
} SgPart;

typedef struct SgStr {
  SgPart *parts;
  uint32_t nparts;
} SgStr;

typedef enum SgValKind {
  SG_V_STR,   /* str */
  SG_V_NUM,   /* num */
  SG_V_BOOL,  /* b */
  SG_V_NULL,  /* - */
  SG_V_RE,    /* re */
  SG_V_CIDR,  /* cidr */
  SG_V_FIELD, /* str: one literal part, the other field's name (fieldref) */
  SG_V_EXPR,  /* str: one literal part, a raw target expression with {field}
                 (from a pipeline's query_expression_placeholders) */
} SgValKind;

enum { SG_RE_I = 1, SG_RE_M = 2, SG_RE_S = 4 };

typedef struct SgCidr {
  const char *text; /* canonical "addr/prefix" as written (validated) */
  uint8_t addr[16]; /* network bytes, host bits cleared */
  uint8_t family;   /* 4 or 6 */
  uint8_t prefix;
} SgCidr;

typedef struct SgValue {
  SgValKind kind;
  union {      /* by kind */
    SgStr str; /* STR, FIELD, EXPR */
    SgNum num; /* NUM */
    bool b;    /* BOOL */
    struct {
      const char *pat; /* the pattern byte for byte */
      size_t len;
      unsigned flags; /* SG_RE_* */
    } re;             /* RE */
    SgCidr cidr;      /* CIDR */
  };
} SgValue;

/* Operators; the X-macro keeps names and the enum in step. */
#define SG_OP_LIST(X)                                                                                        \
  X(EQ, "eq")     /* string pattern, number, bool or null */                                                 \
  X(RE, "re")     /* regular expression (searches, unanchored) */                                            \
  X(CIDR, "cidr") /* IP address in network */                                                                \
  X(LT, "lt")                                                                                                \
  X(LTE, "lte")                                                                                              \
  X(GT, "gt")                                                                                                \
  X(GTE, "gte")           /* numeric compare */                                                              \
  X(EXISTS, "exists")     /* the field is present */                                                         \
  X(FIELDREF, "fieldref") /* equals another field */                                                         \
  X(FIELDREF_STARTS, "fieldref-startswith")                                                                  \
  X(FIELDREF_ENDS, "fieldref-endswith") X(FIELDREF_CONTAINS, "fieldref-contains")

typedef enum SgOp {
#define X(name, str) SG_OP_##name,
  SG_OP_LIST(X)
#undef X
} SgOp;

typedef enum SgTsPart {
  SG_TS_NONE,
  SG_TS_MINUTE,
  SG_TS_HOUR,
  SG_TS_DAY,
  SG_TS_WEEK,
  SG_TS_MONTH,
  SG_TS_YEAR
} SgTsPart;

typedef struct SgMatch {
  const char *field; /* NULL: keyword search over the whole event */
  SgOp op;
  SgTsPart tspart; /* compare a part of a timestamp field instead of the value */
  bool cased;      /* case-sensitive string comparison */
  SgValue v;
  const char **applied; /* ids of pipeline items applied to this match */
  uint32_t napplied;
  bool mapped; /* a pipeline field mapping covered the field */
} SgMatch;

/* ---- Boolean AST ---------------------------------------------------------- */
typedef enum SgNodeKind { SG_N_AND, SG_N_OR, SG_N_NOT, SG_N_MATCH, SG_N_TRUE, SG_N_FALSE } SgNodeKind;

struct SgNode {
  SgNodeKind kind;
  uint8_t flags; /* SG_NF_* (sigmacc_int.h): how the front end built it */
  SgLoc loc;     /* where the construct was written */
  SgNode **kids; /* AND, OR: >= 1 child; NOT: exactly 1 */
  uint32_t nkids;
  SgMatch m; /* MATCH */
};

/* ---- Buffers --------------------------------------------------------------- */
/* Carry a scratch buffer's out-of-memory state into the buffer it is copied
 * into, so a truncated piece never makes a shorter result that looks whole. */
static inline void sg_buf_taint(SgBuf *b, const SgBuf *from) { b->oom = b->oom || from->oom; }
/* Room for `extra` more bytes (and the NUL) at b->data + b->len; false: out of memory (b->oom). */
bool sg_buf_reserve(SgBuf *b, size_t extra);
/* sg_buf_catc and sg_buf_catn inline where the room is there (hot loops). */
static inline void sg_buf_putc(SgBuf *b, char c) {
  if (b->len + 2 <= b->cap && !b->oom) {
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
  } else {
    sg_buf_catc(b, c);
  }
}
static inline void sg_buf_put(SgBuf *b, const char *s, size_t n) {
  if (b->len + n + 1 <= b->cap && !b->oom) {
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
  } else {
    sg_buf_catn(b, s, n);
  }
}
#define SG_BUF_PUT_LIT(b, lit) sg_buf_put(b, lit, sizeof lit - 1)
/* Room for element n of the heap array *arrp (a T **, cap elements of elem
 * bytes), doubling it; false when memory ran out (the array is unchanged).
 * The heap twin of the arena's sg_grow. */
bool sg_grow_heap(void *arrp, size_t n, size_t *cap, size_t elem);
/* A pointer to the new last element of the heap array arr (n is incremented), or NULL. */
#define SG_PUSH_HEAP(arr, n, cap) (sg_grow_heap(&(arr), (n), &(cap), sizeof *(arr)) ? &(arr)[(n)++] : NULL)

/* ---- Diagnostics ----------------------------------------------------------- */
void sg_vdiag(SgDiags *d, SgDiagCode code, SgLoc loc, const char *fmt, va_list ap);
/* Name the validator of the diagnostics d->items[from..] (a static string). */
void sg_diags_name(SgDiags *d, size_t from, const char *validator);
/* Remove d->items[i] (its count too). */
void sg_diags_drop(SgDiags *d, size_t i);

/* ---- Text for JSON and terminals ------------------------------------------- */
/* A JSON string literal; invalid UTF-8 bytes become U+FFFD, so the output is
 * always valid JSON. */
void sg_json_str(SgBuf *out, const char *s, size_t n);
/* s[0..n) as XML (and HTML) text or attribute value: & < > " ' escaped, a C0
 * control other than tab and LF as U+FFFD (XML 1.0 has none). */
void sg_xml_str(SgBuf *out, const char *s, size_t n);
void sg_xml_cstr(SgBuf *out, const char *s); /* s, or nothing when NULL */
/* s as a JSON string, or null when s is NULL. */
void sg_json_str_or_null(SgBuf *out, const char *s);
/* The length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
size_t sg_utf8_len(const char *s, size_t n);
/* The characters of s[0..n): bytes that do not continue a UTF-8 sequence (a broken byte is one). */
size_t sg_utf8_chars(const char *s, size_t n);
/* Text from files and events for a terminal: C0 controls and DEL as \xNN
 * (\n, \r, \t as such), C1 controls, bidirectional controls and the line
 * and paragraph separators as \u{XXXX}, invalid UTF-8 bytes as \xNN; the
 * rest as it is. A log line can then neither move the cursor, change colours
 * nor reverse what a row shows. sg_term_char writes the character at s[0..n)
 * (n > 0) and returns the bytes it took. */
void sg_term_str(SgBuf *out, const char *s, size_t n);
size_t sg_term_char(SgBuf *out, const char *s, size_t n);

/* ---- Boolean AST ----------------------------------------------------------- */
SgNode *sg_node_new(SgArena *a, SgNodeKind k, SgLoc loc);
SgStatus sg_node_add(SgArena *a, SgNode *parent, SgNode *kid);
SgNode *sg_node_clone(SgArena *a, const SgNode *n);
/* Add kid to parent; an AND kid of an AND (OR of an OR) is spliced in,
 * unless it carries SG_NF_* flags. */
SgStatus sg_node_join(SgArena *a, SgNode *parent, SgNode *kid);

/* ---- Filters --------------------------------------------------------------- */
/* Sigma filters: `filter` applies to `rule` when the rule is a detection rule
 * with every log source attribute the filter names, and the filter lists it
 * (by id or name) or says `rules: any`. Applying it makes each condition
 * `(condition) and (filter condition)`, built in `a` (the rule's arena). */
bool sg_filter_applies(const SgRule *filter, const SgRule *rule);
SgStatus sg_filter_apply(SgArena *a, SgRule *rule, const SgRule *filter);

/* ---- Values ---------------------------------------------------------------- */
/* Values (value.c) */
SgStatus sg_str_parse(SgArena *a, const char *s, size_t n, SgStr *out);
bool sg_str_is_plain(const SgStr *s); /* no wildcard or placeholder */
bool sg_str_has_wildcard(const SgStr *s);
char *sg_str_flat(SgArena *a, const SgStr *s, size_t *len); /* literal bytes only */
bool sg_cidr_parse(const char *s, SgCidr *out);
/* The one error for a %placeholder% no pipeline resolved (every target and
 * the evaluator): E070 at loc; returns SG_ERR_UNSUPPORTED. */
SgStatus sg_placeholder_error(SgDiags *d, SgLoc loc, const SgPart *ph);
/* Add a leading and/or trailing wildcard unless one is already there. */
SgStatus sg_str_wrap(SgArena *a, const SgStr *in, bool lead, bool trail, SgStr *out);
/* ASCII case-insensitive comparison (locale-independent). */
int sg_ascii_casecmp(const char *a, const char *b);
int sg_ascii_ncasecmp(const char *a, const char *b, size_t n);
/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
long sg_days_from_civil(long y, unsigned m, unsigned d);
/* Unicode-aware case folding: ASCII, Latin-1, Latin Extended-A, Greek and
 * Cyrillic letters to lower case; `out` holds `n` bytes (folding never
 * changes the length; out may be s). */
void sg_fold(char *out, const char *s, size_t n);
bool sg_num_parse(const char *s, size_t n, SgNum *out);

/* ---- Dumps ----------------------------------------------------------------- */
void sg_dump_node(SgBuf *out, const SgNode *n, int indent);
void sg_dump_value(SgBuf *out, const SgValue *v);
const char *sg_op_name(SgOp op);

/* ---- Modifiers ------------------------------------------------------------- */
/* Modifiers (modifiers.c): the names for `sigmacc list modifiers`. */
typedef struct SgModInfo {
  const char *name;
  const char *help;
} SgModInfo;
const SgModInfo *sg_modifier_list(size_t *n);

/* ---- Pipelines ------------------------------------------------------------- */
/* State set by set_state, read by backends (e.g. the Splunk data model). */
typedef struct SgPipelineState {
  SgKV *kv; /* the last value set for a key wins */
  size_t n, cap;
} SgPipelineState;

const SgYNode *sg_state_get(const SgPipelineState *s, const char *key);

/* Whether an item of `set` is conditioned on the category or service of `ls`
 * (under `product` or no product): the pipelines know where `product`'s
 * events of that log source are. */
bool sg_pipeline_knows_logsource(const SgPipelineSet *set, const char *product, const SgLogsource *ls);
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
SgStatus sg_pipeline_postprocess(const SgPipelineSet *set, const SgRule *r, const SgPipelineState *state,
                                 SgBuf *query, SgDiags *d);
/* Does an item of the set (nests included) set state `key`? */
bool sg_pipeline_sets_state(const SgPipelineSet *set, const char *key);
/* Finalizers: join `n` queries into `out`. Returns false when the set has no
 * finalizer (the target's own joining applies). A template that fails is an
 * error in `d` and nothing is written. */
bool sg_pipeline_finalize(const SgPipelineSet *set, const char *const *queries, size_t n, SgBuf *out,
                          SgDiags *d);

/* Built-in pipelines, embedded at build time from pipelines/ *.yml. */
typedef struct SgBuiltinPipeline {
  const char *name;
  const char *text;
  size_t len;
} SgBuiltinPipeline;
const SgBuiltinPipeline *sg_builtin_pipelines(size_t *n);

/* ---- Validators ------------------------------------------------------------ */
typedef struct SgValidation SgValidation; /* what runs; exclusions; ATT&CK data */
SgValidation *sg_validation_new(void);    /* every validator but tlpv1_tag and tlpv2_tag */
void sg_validation_free(SgValidation *v);
/* sigma-cli's validation configuration (YAML): `validators` (names to run,
 * `all`, `-name` to leave out, in order), `exclusions` (rule id -> a name or a
 * list of names), `config` (filename_length: min_size, max_size). */
SgStatus sg_validation_config(SgValidation *v, const char *path, SgDiags *d);
/* -x NAME: leave this validator out. False when it names none. */
bool sg_validation_exclude(SgValidation *v, const char *name);
/* --attack-data FILE: ATT&CK techniques as tab-separated id, name, tactics,
 * status (MITRE's techniques.tsv layout) instead of the compiled-in data. */
SgStatus sg_attack_load(SgValidation *v, const char *path, SgDiags *d);
const char *sg_attack_data_version(const SgValidation *v);
/* --sigmahq: switch SigmaHQ's validators on (pySigma-validators-sigmaHQ). */
void sg_validation_sigmahq(SgValidation *v);
/* The day sigmahq_status_to_high counts from (days since 1970-01-01; the clock's by default). */
void sg_validation_today(SgValidation *v, long long days);
/* --sigmahq-data DIR: SigmaHQ's data files (sigmahq_taxonomy.json,
 * sigmahq_filename.json, sigmahq_windows_validator.json, as
 * pySigma-validators-sigmaHQ publishes them in its tools/ folder). */
SgStatus sg_hq_data_load(SgValidation *v, const char *dir, SgDiags *d);
/* Warning W101 naming the validators that are on but need SigmaHQ's data it was not given. */
void sg_hq_unready(const SgValidation *v, SgDiags *d);
/* Run the validators on every rule of `u`, then drop from d->items[from..]
 * the findings (W100, and the diagnostics a validator names) of validators
 * that are off, or excluded for the rule they are in. */
void sg_validate_unit(const SgValidation *v, const SgUnit *u, SgDiags *d, size_t from);
/* What the checks across files need of one rule (strings owned by the caller). */
/* The ids and names the correlations of units[which[..]] reference (sorted, once each), and
 * which of them they hide (a rule of another file, named without `generate`): what a run over
 * many files keeps of its other files. */
typedef struct SgCorrNames {
  const char **v;
  bool *hidden;
  size_t n;
} SgCorrNames;
bool sg_corr_names(SgCorrNames *out, const SgUnit *units, const size_t *which, size_t nwhich);
/* Mark `correlated` the rules of u that the correlations hide; true when u has a rule they name. */
bool sg_corr_names_mark(const SgCorrNames *c, SgUnit *u);
void sg_corr_names_free(SgCorrNames *c);

typedef struct SgRuleKey {
  char *id, *title, *path;
  SgLoc loc, id_loc, title_loc;
} SgRuleKey;
/* The keys of the rules of `u`, appended to *keys (heap). False on OOM. */
bool sg_rule_keys(const SgUnit *u, SgRuleKey **keys, size_t *n, size_t *cap);
void sg_rule_keys_free(SgRuleKey *keys, size_t n);
/* identifier_uniqueness, duplicate_title, duplicate_filename over a batch
 * (the diagnostics' paths are the keys' strings: free the keys after them). */
void sg_validate_batch(const SgValidation *v, SgRuleKey *keys, size_t n, SgDiags *d);

/* ---- Batches: paths, filters, the parallel runner, golden files ------------ */
/* Rule paths from arguments (compiler/fs.c): files as given, directories
 * walked recursively in sorted order; `-` is stdin. */
typedef struct SgPaths {
  char **v;
  size_t *rel; /* offset of the path relative to its argument (a directory, or the file's folder) */
  size_t n, cap;
  char **held; /* paths the walker's diagnostics are located at (owned) */
  size_t nheld;
} SgPaths;

bool sg_expand_paths(int argc, char **argv, SgPaths *out, SgDiags *d);
void sg_paths_free(SgPaths *p);
/* Every file under `dir` (hidden ones excepted), recursively and sorted:
 * the event files of a directory. False when memory ran out. */
bool sg_expand_dir_files(const char *dir, SgPaths *out, SgDiags *d);
/* The length of `path` without its rule file extension (.yml, .yaml);
 * strlen(path) when it has neither. */
size_t sg_rule_stem_len(const char *path);
/* fn(arg, i) for every i < n, on every core (at most 8; one thread for few
 * items). The calls must be independent; the library keeps no global state. */
void sg_parallel_for(size_t n, void (*fn)(void *arg, size_t i), void *arg);

/* The Sigma filters of a run: those in --filter files and the filter
 * documents among the input files; as in pySigma, each applies to the whole
 * batch. */
typedef struct SgFilters {
  SgUnit **units; /* the files they came from */
  size_t nunits;
  const SgRule **v;
  size_t n;
  _Atomic size_t *used; /* per filter: rules it was applied to */
} SgFilters;

/* The filters of the --filter `files`. False when one fails to load or
 * holds no filter (reported in d). */
bool sg_filters_load(const char *const *files, size_t nfiles, SgFilters *out, SgDiags *d);
/* The filter documents of one file's text. `quiet`: an input file (read
 * once, before the run), compiled only when it has a top-level `filter:`
 * key, its problems reported when it is converted or evaluated. */
bool sg_filters_add(SgFilters *out, const char *path, const char *text, size_t len, bool quiet, SgDiags *d);
/* Apply every filter that applies to a rule of u (see sg_filter_applies). */
SgStatus sg_filters_apply(const SgFilters *f, SgUnit *u);
/* W072 for each filter that was applied to no rule of the run. */
void sg_filters_report_unused(const SgFilters *f, SgDiags *d);
void sg_filters_free(SgFilters *f);
/* Golden files (runs/golden.c): compare generated output with committed
 * files (--check DIR) or rewrite them (--update DIR), one file per rule file,
 * or (ext NULL) files named as they are: a generated site (pages). */
typedef struct SgGolden {
  const char *dir; /* DIR of --check/--update */
  const char *ext; /* output extension, e.g. ".aql"; NULL: rel as it is, every file in DIR ours */
  bool update;
  bool fresh;  /* DIR did not exist: nothing to compare before writing */
  char **seen; /* files produced this run */
  size_t nseen, capseen;
  size_t mismatches, missing, extra, written, errors;
  SgBuf report; /* diffs and listings, to print */
  SgBuf cases;  /* --check: a JUnit testcase per file compared, missing or extra */
  size_t ncases, nfailed;
} SgGolden;

void sg_golden_init(SgGolden *g, const char *dir, const char *ext, bool update);
void sg_golden_free(SgGolden *g);
/* Compare (or write) DIR/<rel without .yml><ext>. 0 same/written, 1 differs, -1 error. */
int sg_golden_file(SgGolden *g, const char *rel, const char *got, size_t len);
/* List (or, updating, remove) files in DIR with EXT no rule produced.
 * Returns the exit code: 0 all equal, 1 differences, 2 write errors. */
int sg_golden_finish(SgGolden *g);
/* The comparison as JUnit XML (after sg_golden_finish): a testcase per file. */
void sg_golden_junit(const SgGolden *g, const char *suite, SgBuf *out);

/* ---- YAML loader ----------------------------------------------------------- */
typedef struct SgYDoc {
  SgYNode *root; /* NULL for an empty document */
  SgLoc loc;
} SgYDoc;

/* Parse `len` bytes into documents. Diagnostics carry `path`. Returns SG_OK or
 * SG_ERR_PARSE; documents parsed before an error are kept. */
SgStatus sg_yaml_load(SgArena *a, const char *path, const char *src, size_t len, SgYDoc **docs, size_t *ndocs,
                      SgDiags *d);
/* The same for a configuration (sigma-cli's validation config): a duplicate
 * key is warning W017 and every entry is kept, where PyYAML keeps the last. */
SgStatus sg_yaml_load_config(SgArena *a, const char *path, const char *src, size_t len, SgYDoc **docs,
                             size_t *ndocs, SgDiags *d);
SgYNode *sg_ymap_get(const SgYNode *map, const char *key);
const char *sg_ytype_name(const SgYNode *n);

/* ---- Evaluator ------------------------------------------------------------- */
/* The JIT stack's largest size: enough for the backtracking real rules do on
 * long values; a match that still runs out is reported, never a non-match. */
#define SG_EVAL_JIT_STACK (8u << 20)
void sg_eval_error_text(int error, char *buf, size_t n);
size_t sg_eval_rule_count(const SgEvaluator *e);

/* ---- Correlations ---------------------------------------------------------- */
/* The event's time: the first of TimeCreated_SystemTime (evtx_dump),
 * @timestamp, timestamp, UtcTime, EventTime, _time, time that is a time. */
bool sg_event_time(const SgJDoc *doc, double *t);
/* Groups held now (alive, or expired since the last sweep). */
size_t sg_corr_groups(const SgCorrelator *c);

/* ---- The event reader's parts (backends/eval/json.c) ------------------------- */
#define SG_JSON_MAX_DOC (64u << 20) /* one event larger than this is skipped */
#define SG_JSON_MAX_DEPTH 128

typedef struct SgJReader {
  FILE *f;
  char *buf;
  size_t len, cap, pos;
  size_t line;   /* 1-based line of pos (LF, CRLF and a lone CR each end a line) */
  int mode;      /* 0 unknown, 1 lines, 2 multi-line objects */
  char eol;      /* what ends a JSON line: '\n', or '\r' in CR-only input */
  bool cr;       /* the last byte counted was a CR (its LF is not a new line) */
  bool in_array; /* inside a top-level [ ... ] */
  bool started;  /* the byte order mark check is done */
  bool eof;
  bool ioerr;     /* reading failed (not the end of the input) */
  bool nomem;     /* the buffer could not grow */
  size_t bytes;   /* total bytes consumed (decompressed) */
  size_t max_doc; /* a larger document is skipped (SG_JSON_MAX_DOC; tests lower it) */
  void *gz;       /* the zlib stream when the input is gzip (detected from its bytes) */
  unsigned char *zin;
  bool gz_done;           /* the last gzip member ended */
  const char *gz_error;   /* a corrupt or truncated gzip input (reading stopped there) */
  const char *not_events; /* the input is not events (binary): why; nothing read */
  bool evtx;              /* the input is an EVTX file (read with evtx.c) */
  bool json_only;         /* set by the caller: a text input not starting with { or [ is not events */
} SgJReader;

typedef enum SgJNext { SG_J_DOC, SG_J_END, SG_J_BAD } SgJNext;

void sg_jreader_init(SgJReader *r, FILE *f);
void sg_jreader_free(SgJReader *r);
/* The next document: *doc and *len point into the reader's buffer until the next
 * call; *line is where it starts. SG_J_BAD: *len bytes at *line were skipped
 * as not JSON (*msg says why). */
SgJNext sg_jreader_next(SgJReader *r, const char **doc, size_t *len, size_t *line, const char **msg);

/* Parse the object at the start of s[0..n) (after white space); *used is
 * where the next one may start (white space after it skipped). */
bool sg_json_parse_one(SgJDoc *d, const char *s, size_t n, size_t *used, size_t *err_off, const char **err);

typedef struct SgEvtxSplit SgEvtxSplit; /* an EVTX file as a stream of chunks (backends/eval/evtx.c) */
typedef struct SgEvtxDec SgEvtxDec;     /* a chunk's records */

typedef struct SgEventIn {
  SgJReader rd;
  SgJDoc doc;       /* the current event, parsed */
  const char *rest; /* the unread part of the reader's current document */
  size_t nrest, rest_line;
  size_t events, skipped;
  char msg[640];
  SgEvtxSplit *split; /* EVTX input: its units, and the current one's records, each as evtx_dump's */
  SgEvtxDec *dec;     /* JSON in `json` */
  bool in_unit, done;
  SgBuf json;
  bool corrupted; /* EVTX: the file is damaged (see evtx.c; some records may be missing) */
} SgEventIn;

void sg_events_init(SgEventIn *in, FILE *f); /* an SgEventIn in the caller's memory */
void sg_events_free(SgEventIn *in);
/* The same in two steps, for a caller that splits the input itself: the
 * document text doc[0..n) starting at `line` (kept by pointer), then its
 * events one by one (SG_EV_END when it is done). */
void sg_events_set(SgEventIn *in, const char *doc, size_t n, size_t line);
SgEvNext sg_events_parse(SgEventIn *in, const char **text, size_t *len, size_t *line, const char **msg);
/* The input's kind from its first bytes (r->evtx, r->not_events, gzip), and
 * then up to n more bytes of it (fewer only at its end or when reading failed:
 * r->ioerr, r->gz_error). */
void sg_jreader_start(SgJReader *r);
size_t sg_jreader_read(SgJReader *r, void *dst, size_t n);

/* ---- Conditions as parsed (compiler/cond.c) ---------------------------------- */
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

/* ---- Limits (one place, with reasons) -------------------------------------- */
#define SG_MAX_FILE_BYTES (32u << 20)  /* largest SigmaHQ rule is ~30 KB; room for big collections */
#define SG_MAX_SCALAR_BYTES (1u << 20) /* a 1 MB value is a mistake, not a rule */
#define SG_MAX_YAML_DEPTH 64           /* real rules nest 4-5 levels */
#define SG_MAX_COND_DEPTH 200          /* parenthesis / not nesting in conditions */
#define SG_MAX_EXPANSION 4096          /* windash/base64offset alternatives per value */

/* ---- Node flags (SgNode.flags) --------------------------------------------- */
/* Node flags: an OR built by the front end for one detection item keeps its
 * shape (targets render a value list as one IN list, as the reference does;
 * an expansion's alternatives are never an IN list). Such nodes are not
 * spliced into a parent of the same kind. SG_NF_ITEM marks the AND/OR of one
 * detection item's values (a field mapped to several names maps the item
 * as a whole: `f|contains|all` stays on one name at a time, as in pySigma). */
enum { SG_NF_VALUES = 1, SG_NF_EXPANSION = 2, SG_NF_ITEM = 4 };

/* ---- Correlator memory ----------------------------------------------------- */
#define SG_CORR_SWEEP_MIN 1024 /* groups kept before the first sweep of expired ones */

#endif
