/* validate.h - what the validators share: the configuration a run sets up
 * (validate.c), SigmaHQ's data files and set (validate_sigmahq.c), and the
 * state of one rule's walk with the finding it reports.
 */
#ifndef SIGMACC_VALIDATE_H
#define SIGMACC_VALIDATE_H

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

void sg_vfinding(V *x, SgValidatorId id, SgLoc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Where top-level key `key` of the rule is written (the rule's start when absent). */
SgLoc sg_vkey_loc(const SgRule *r, const char *key);

/* A technique in the run's ATT&CK data (compiled-in or --attack-data), or NULL. */
const SgAttackTechnique *sg_vtechnique(const SgValidation *v, const char *id);

/* SigmaHQ's set: the rule as a whole (after its detection items), and each detection item
 * (key NULL: keywords). */
void sg_hq_rule(V *x);
void sg_hq_item(V *x, const SgYNode *key, const SgYNode *vals, unsigned mods);
/* The rule's log source in the taxonomy, or NULL. */
const SgHqTaxon *sg_hq_taxon(const SgValidation *v, const SgLogsource *ls);

#endif
