/* validators.h - what the validators share: the configuration a run sets up
 * (validate.c), SigmaHQ's data files and set (validate_sigmahq.c), and the
 * state of one rule's walk with the finding it reports.
 */
#ifndef SIGMACC_VALIDATORS_H
#define SIGMACC_VALIDATORS_H

#include <stdarg.h>

#include "front.h"

typedef struct Exclusion {
  char *rule_id;
  bool off[SG_V__COUNT];
} Exclusion;

/* ---- SigmaHQ's data: pySigma-validators-sigmaHQ's JSON files (its tools/ folder) ---- */

typedef struct SgHqSource {
  const char *product, *category, *service; /* NULL when absent */
} SgHqSource;

typedef struct SgHqNames {
  const char **v;
  size_t n;
} SgHqNames;

typedef struct SgHqTaxon { /* sigmahq_taxonomy.json */
  SgHqSource ls;
  SgHqNames fields;    /* native and custom: the names a rule of this source may use */
  SgHqNames redundant; /* fields the log source already implies */
} SgHqTaxon;

typedef struct SgHqPrefix { /* sigmahq_filename.json */
  SgHqSource ls;
  const char *prefix;
} SgHqPrefix;

typedef struct SgHqProviders { /* sigmahq_windows_validator.json */
  const char *category;
  SgHqNames names;
} SgHqProviders;

typedef struct SgHqData {
  SgHqTaxon *tax;
  size_t ntax;
  SgHqPrefix *prefix;
  size_t nprefix;
  SgHqNames no_eventid; /* Windows categories that imply their event ids */
  SgHqProviders *prov;
  size_t nprov;
  const char *dir; /* where they were read; NULL: none given */
} SgHqData;

struct SgValidation {
  bool off[SG_V__COUNT];
  Exclusion *excl;
  size_t nexcl, capexcl;
  size_t filename_min, filename_max;
  /* ATT&CK: the compiled-in data, or a file's */
  const SgAttackTechnique *tech;
  size_t ntech;
  char *version;
  SgHqData hq;
  bool presplit;   /* the ATT&CK data predates v19's split of defense-evasion (no stealth tactic) */
  long long today; /* days since 1970-01-01, for sigmahq_status_to_high */
  SgArena arena;   /* a loaded file's strings */
};

/* ---- one rule's walk ---- */

typedef struct V {
  const SgValidation *cfg;
  const SgUnit *u;
  const SgRule *r;
  SgDiags *d;
  const SgHqTaxon *tax; /* the rule's log source in SigmaHQ's taxonomy, or NULL */
  bool eventid;         /* a detection item on field EventID */
  bool hq;              /* some validator of SigmaHQ's set is on */
} V;

/* The modifiers of a detection key, as flags (validate.c key_mods). */
enum {
  M_CONTAINS = 1,
  M_STARTSWITH = 2,
  M_ENDSWITH = 4,
  M_ALL = 8,
  M_B64OFFSET = 16,
  M_WINDASH = 32,
  M_RAW = 64, /* values are not Sigma strings: re, cidr, comparisons, ... */
  M_RE = 128,
  M_B64 = 256,
  M_CASED = 512
};

/* A finding of validator `id` (nothing when it is off), named with it. */
static inline void sg_vfinding(V *x, SgValidatorId id, SgLoc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline void sg_vfinding(V *x, SgValidatorId id, SgLoc loc, const char *fmt, ...) {
  if (x->cfg->off[id]) return;
  size_t mark = x->d->n;
  va_list ap;
  va_start(ap, fmt);
  sg_vdiag(x->d, SG_D_VALIDATOR, loc, fmt, ap);
  va_end(ap);
  sg_diags_name(x->d, mark, sg_validator_info[id].id);
}

/* Where top-level key `key` of the rule is written (the rule's start when absent). */
static inline SgLoc sg_vkey_loc(const SgRule *r, const char *key) {
  const SgYNode *n = r->yaml ? sg_ymap_get(r->yaml, key) : NULL;
  if (!n || !r->yaml) return r->loc;
  for (size_t i = 0; i < r->yaml->n; i++)
    if (r->yaml->items[i] == n) return r->yaml->keys[i]->loc;
  return n->loc;
}

/* s[0..n) are all ASCII digits. */
static inline bool sg_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

/* ---- attack.c: the run's ATT&CK data (compiled-in or --attack-data) ---- */
/* A technique by id, or NULL. */
const SgAttackTechnique *sg_vtechnique(const SgValidation *v, const char *id);
/* An attack.* tag name pySigma accepts: a tactic, a technique of the data (or one
 * newer than all of it), a group, software, mitigation or data source id; *tech
 * the technique when it is one of the data. */
bool sg_attack_name_known(const SgValidation *v, const char *name, const SgAttackTechnique **tech);
/* The data predates ATT&CK v19's split of defense-evasion (it has no stealth tactic). */
bool sg_attack_presplit(const SgValidation *v);

/* SigmaHQ's set: the rule as a whole (after its detection items), and each detection item
 * (key NULL: keywords). */
void sg_hq_rule(V *x);
void sg_hq_item(V *x, const SgYNode *key, const SgYNode *vals, unsigned mods);
/* The rule's log source in the taxonomy, or NULL. */
const SgHqTaxon *sg_hq_taxon(const SgValidation *v, const SgLogsource *ls);

#endif
