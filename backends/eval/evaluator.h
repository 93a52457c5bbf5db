/* evaluator.h - the evaluator's internals, shared by the files of
 * backends/eval/ that build and run it (not part of the API).
 *
 * Field names used by any rule are interned; per event, each JSON leaf is
 * looked up once by its short name and by its dotted path and attached to
 * the field's value list. Strings compare case-insensitively (Unicode-aware
 * folding, once per value per event) unless `cased`; wildcards are compiled
 * to exact/prefix/suffix/contains tests where the pattern allows.
 *
 *   json.c       the event reader (SgJReader), the JSON parser, SgJBuild
 *   events.c     an input of events (SgEventIn): documents parsed, or EVTX records
 *   evtx.c       EVTX read natively: a chunk's records as element trees (evtx_dom.h)
 *   evtx_file.c  an EVTX file as a stream of chunks (evtx_format.h: the layout)
 *   evtx_json.c  an event's element tree (evtx_dom.h) as evtx_dump's JSON
 *   intern.c     string -> id tables (field names, index keys, literals)
 *   compile.c    rule trees -> matchers (CNode), sg_eval_add, sg_eval_fork
 *   index.c      which rules an event can meet: EventID/Channel keys, required
 *                fields, literal sets; sg_eval_prepare
 *   prefilter.c  the literal prefilter: every needed literal found in one pass
 *   match.c      one event: values attached to fields, matchers, sg_eval_event
 *   correlate.c  correlation windows and their aggregates (sg_corr_*)
 */
#ifndef SG_EVALUATOR_H
#define SG_EVALUATOR_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "sigmacc_int.h"

typedef enum PatKind { P_EXACT, P_PREFIX, P_SUFFIX, P_CONTAINS, P_ANY, P_GLOB } PatKind;

typedef struct Pattern {
  PatKind kind;
  const char *lit; /* EXACT/PREFIX/SUFFIX/CONTAINS: the literal */
  size_t litlen;
  SgPart *parts; /* GLOB */
  uint32_t nparts;
} Pattern;

enum { C_AND, C_OR, C_NOT, C_MATCH, C_TRUE, C_FALSE };

typedef struct CNode CNode;
struct CNode { /* what eval_node reads first is in the first 32 bytes */
  uint8_t kind;
  uint8_t op;    /* SgOp */
  uint8_t vkind; /* SgValKind */
  uint8_t tspart;
  bool cased;
  int32_t need;    /* a literal any matching value must contain (-1: none) */
  int32_t kw;      /* `*literal*` answered by the event's literal scan (-1: none) */
  uint32_t field;  /* interned id; UINT32_MAX = keyword */
  uint32_t field2; /* fieldref target */
  uint32_t nkids;
  CNode **kids;
  Pattern pat;
  pcre2_code *re;
  double num;
  bool b;
  SgCidr cidr;
};

typedef struct CRule {
  const SgRule *rule;
  bool not_windows;  /* the rule cannot apply to Windows events (see sg_eval_set_logsources) */
  bool not_declared; /* the rule cannot apply to events of the declared log source */
  CNode **conds;
  size_t nconds;
  uint32_t *need; /* indexed by another key: literals one of which must occur */
  size_t nneed;
  bool nonascii; /* it can only match a value with a byte >= 0x80 (a non-ASCII literal) */
} CRule;

/* string -> id hash table */
typedef struct Intern {
  char **names; /* binary-safe: lengths in lens */
  size_t *lens;
  size_t n, cap;
  uint32_t *slots; /* open addressing: id + 1, 0 = empty */
  size_t nslots;
} Intern;

typedef struct IdList {
  uint32_t *v;
  size_t n, cap;
} IdList;

typedef struct Val {
  const char *s; /* the value in the document text */
  uint32_t off;  /* its offset there (and in the folded copy) */
  uint32_t n;
  uint8_t type;  /* SgJType */
  uint8_t numst; /* 0: not parsed yet, 1: num holds it, 2: not a number */
  double num;
} Val;

/* Literal prefilter: case-folded literals of 4+ bytes that some pattern needs
 * in some field's values (or, for keywords, in any value), found in one pass
 * per event. A rule whose every condition needs one of a set of literals is
 * only evaluated when one of them occurs. */
#define KW_BITS 18
#define GRAM4_BITS 16      /* the first-level filter: 64 Kbit, 8 KiB */
#define POPULAR_LITERAL 16 /* rules sharing a literal before it counts as unselective */
#define LIT_ANY UINT32_MAX
/* (field, first K bytes) -> chain of literals, behind a bloom filter */
typedef struct LitTable {
  uint32_t *slots; /* first literal + 1, 0 = empty */
  uint64_t *keys;
  uint32_t *fields;
  size_t nslots;
  uint64_t *bloom;
  uint64_t gram4[1u << (GRAM4_BITS - 6)]; /* a hash bit of every anchor window (4 bytes) */
  size_t width;                           /* K: 4 */
  int which;                              /* index into Lit.next */
} LitTable;

typedef struct Lit {
  const char *s; /* folded */
  size_t n;
  uint32_t field;      /* field id, or LIT_ANY */
  int32_t next[2];     /* next literal with the same (field, anchor window), per table */
  uint32_t anchor;     /* offset of the window it is found by (its rarest) */
  IdList rules;        /* rules indexed by this literal */
  uint32_t popularity; /* how many rules could use it (selectivity estimate) */
  uint32_t last_rule;  /* for counting each rule once */
  bool keyword;        /* a keyword node reads its result */
  bool windows;        /* a rule that applies to Windows events uses it */
} Lit;

/* The evaluator's state, in named parts. */
typedef struct EvRules { /* the compiled rules and the names they use */
  Intern fields;         /* field names any rule reads */
  CRule *rules;
  size_t nrules, caprules;
  uint32_t f_eventid, f_channel;
  Intern roots;               /* first components of dotted field names: only leaves under
                                 one of them are looked up by their full path */
  bool compiling_windows;     /* sg_eval_add: the rule applies to Windows events */
  const SgPipelineSet *known; /* the log sources these pipelines map are Windows ones */
  SgLogsource declared;       /* the log source of events without their own (all NULL: none) */
} EvRules;

typedef struct EvIndex { /* which rules an event can meet */
  Intern keys;           /* EventID / Channel values ("e:4688", "c:security") */
  IdList *by_key;        /* per key id: rule indexes */
  size_t nby_key;
  IdList *by_field; /* per field id: rule indexes (presence) */
  IdList always;
} EvIndex;

typedef struct EvPrefilter { /* literals found in one pass per event */
  Lit *lits;
  size_t nlits, caplits;
  Intern lit_keys;   /* "field id + literal" -> literal id */
  LitTable tab[2];   /* all literals; those Windows-applicable rules use */
  uint64_t *lit_gen; /* per literal: last event it occurred in */
  uint64_t lit_event;
  bool *field_lits;                /* per field: some literal is searched in it */
  bool any_lits, any_lits_windows; /* keyword literals; some a Windows-applicable rule reads */
  IdList seen;                     /* literals found in this event */
} EvPrefilter;

typedef struct EvScratch { /* the event being matched */
  uint64_t event;          /* its serial: per-field and per-literal stamps compare with it */
  bool nonascii;           /* its text has a byte >= 0x80 */
  uint64_t *rule_stamp;    /* per rule: last event that evaluated it */
  const SgJDoc *doc;
  bool windows_event;    /* evtx shape (Event.System.Channel): only rules for windows or no product apply */
  uint64_t *field_gen;   /* per field: event that filled it */
  uint32_t *field_first; /* per field: first value index */
  size_t nfield_alloc;
  Val *vals;
  uint32_t *next; /* per value: next value of the same field */
  size_t nvals, capvals;
  IdList present;
  char *ftext; /* the document text, case-folded (same offsets), when needed */
  size_t fcap;
  uint64_t ftext_event;
  char *hay; /* folded string values of the event, NUL-separated */
  size_t hlen, hcap;
  uint64_t hay_event;
  uint32_t *leaf_field; /* per leaf of the event: its two field ids (name, path) */
  size_t nleaf_field;
  pcre2_match_data *md;
  pcre2_match_context *mctx;
  pcre2_jit_stack *jit;
  int re_error; /* PCRE2 error of a match in the condition being evaluated */
  bool failed;  /* an allocation failed (this event, or preparing the index) */
} EvScratch;

typedef struct EvResults { /* what the event gave */
  SgEvalHit *hits;
  size_t nhits, caphits;
  SgEvalHit *undecided; /* rules whose result a regex limit left unknown */
  size_t nundecided, capundecided;
} EvResults;

/* A fork (sg_eval_fork) shares cr, ix and pf's tables with the evaluator it
 * was made from, read only; ev, res and pf's per-event parts are its own. */
struct SgEvaluator {
  bool forked;
  SgArena arena; /* compiled trees, patterns, regexes */
  EvRules cr;
  EvIndex ix;
  EvPrefilter pf;
  EvScratch ev;
  EvResults res;
};

uint32_t sg_ev_intern_add(Intern *t, const char *s, size_t n);
void sg_ev_intern_free(Intern *t);
void sg_ev_num_key(char *out, size_t cap, double x);
const SgPart *sg_ev_longest_lit(const Pattern *p);
/* json.c: a document built leaf by leaf, as the parser builds it from JSON
 * text: keys pushed and popped around each member's value, arrays transparent
 * (their elements keep the array's key path). */
typedef struct SgJBuild SgJBuild;
SgJBuild *sg_jbuild_new(void);
void sg_jbuild_start(SgJBuild *b, SgJDoc *d);
bool sg_jbuild_key(SgJBuild *b, const char *k, size_t n);
void sg_jbuild_pop(SgJBuild *b);
bool sg_jbuild_leaf(SgJBuild *b, SgJType t, const char *v, size_t n);
void sg_jbuild_free(SgJBuild *b);
/* evtx.c: EVTX read natively. A file is a stream of units (SgEvtxSplit,
 * reading from an SgJReader that found "ElfFile"): 64 KiB chunks, bytes that
 * are no chunk (records are searched for in them) and findings about the file
 * (a bad header checksum, a second file header, the end of the input inside
 * it). The bytes of a unit stay valid until the next call. */
typedef enum SgEvtxUnit {
  SG_EVTX_CHUNK,    /* bytes[0..len) at file offset off: a chunk (shorter at a cut-off end) */
  SG_EVTX_FRAGMENT, /* bytes[0..len) at off: no chunk signature */
  SG_EVTX_NOTE,     /* msg: a fact about the file, nothing lost */
  SG_EVTX_DAMAGE,   /* msg: damage */
  SG_EVTX_STOP,     /* msg: reading stopped (read error, corrupt or truncated gzip, memory) */
  SG_EVTX_END
} SgEvtxUnit;
typedef struct SgEvtxSplit SgEvtxSplit;
SgEvtxSplit *sg_evtx_split_new(SgJReader *r);
void sg_evtx_split_restart(SgEvtxSplit *s, SgJReader *r); /* another file, the same buffers */
SgEvtxUnit sg_evtx_split_next(SgEvtxSplit *s, const uint8_t **bytes, size_t *len, uint64_t *off,
                              const char **msg);
void sg_evtx_split_free(SgEvtxSplit *s);
/* A unit's records, one at a time, each as its element tree
 * (sg_evtx_dec_event, evtx_dom.h; valid until the next call): to the
 * evaluator's document or evtx_dump's JSON from there. One decoder per thread,
 * reused from unit to unit. */
typedef enum SgEvtxNext {
  SG_EVTX_RECORD,    /* the record *record was read */
  SG_EVTX_RECOVERED, /* the record *record was read past damage msg says */
  SG_EVTX_SKIP,      /* the record *record (0: unknown) could not be read: msg */
  SG_EVTX_DAMAGED,   /* msg: damage in the unit, records may be lost */
  SG_EVTX_NOMEM,
  SG_EVTX_DONE
} SgEvtxNext;
typedef struct SgEvtxDec SgEvtxDec;
SgEvtxDec *sg_evtx_dec_new(void);
void sg_evtx_dec_start(SgEvtxDec *d, const uint8_t *bytes, size_t len, uint64_t off, bool chunk);
SgEvtxNext sg_evtx_dec_next(SgEvtxDec *d, uint64_t *record, char *msg, size_t cap);
struct XDom;
const struct XDom *sg_evtx_dec_event(const SgEvtxDec *d);
void sg_evtx_dec_free(SgEvtxDec *d);
int32_t sg_ev_lit_add(SgEvaluator *e, uint32_t field, const char *s, size_t n, bool fold);
void sg_ev_lit_scan(SgEvaluator *e);
bool sg_ev_build_prefilter(SgEvaluator *e);
bool sg_ev_add_keyword(SgEvaluator *e, CNode *c);

/* Hot helpers of the per-event path, inline in every file that uses them. */
static inline uint64_t sg_ev_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

/* The id of s[0..n) in t, or UINT32_MAX. */
static inline uint32_t sg_ev_intern_find(const Intern *t, const char *s, size_t n) {
  if (!t->nslots) return UINT32_MAX;
  for (size_t i = sg_ev_hash(s, n) & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
    uint32_t id = t->slots[i];
    if (!id) return UINT32_MAX;
    if (t->lens[id - 1] == n && !memcmp(t->names[id - 1], s, n)) return id - 1;
  }
}

static inline bool sg_ev_idlist_add(IdList *l, uint32_t id) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    uint32_t *v = realloc(l->v, cap * sizeof *v);
    if (!v) return false;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = id;
  return true;
}

/* The event's document text, case-folded (same offsets), made once per event. */
static inline const char *sg_ev_folded_text(SgEvaluator *e) {
  if (e->ev.ftext_event != e->ev.event) { /* values only: paths and names are never compared */
    const SgJDoc *d = e->ev.doc;
    for (size_t i = 0; i < d->n; i++)
      sg_fold(e->ev.ftext + d->leaves[i].val, d->text + d->leaves[i].val, d->leaves[i].vallen);
    e->ev.ftext_event = e->ev.event;
  }
  return e->ev.ftext;
}

#endif
