/* oracle_tree.h - the parsed query the two halves of the oracle's models
 * share: oracle_models.c parses a query into it, oracle_eval.c evaluates it
 * on an event. */
#ifndef SG_ORACLE_TREE_H
#define SG_ORACLE_TREE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

#include "oracle_models.h"

typedef enum Kind {
  K_AND,
  K_OR,
  K_NOT,
  K_TRUE,
  K_FALSE,
  /* SPL search terms */
  K_S_EQ,  /* field = pattern (s: text, wildcard *), or number/bool */
  K_S_EX,  /* field=* */
  K_S_CMP, /* field < number ... */
  K_S_KW,  /* keyword term */
  /* expressions (SPL eval, AQL) */
  K_FIELD,
  K_RAW, /* _raw, UTF8(payload): the event's values */
  K_STR,
  K_NUM,
  K_CALL,  /* s: function name; kids: arguments */
  K_CMP,   /* s: operator; kids: left, right */
  K_LIKE,  /* s: pattern; ci; neg */
  K_MATCH, /* re; neg (AQL MATCHES: whole value) */
  K_IN,    /* kids: left, items...; neg */
  K_NULL,  /* IS NULL; neg */
} Kind;

typedef struct Node Node;
struct Node {
  Kind k;
  char *s, *field;
  double num;
  bool cased, neg, ci, isnum, isbool;
  bool lower_value; /* K_LIKE on lower(f): the value folded, the pattern as written (SPL2) */
  pcre2_code *re;
  Node **kids;
  size_t n;
};

typedef struct Stage {
  Node *where;    /* search expression or `| where`, or NULL */
  char *field;    /* `| regex field=` */
  pcre2_code *re; /* ... its pattern */
  bool neg;       /* `!=` */
} Stage;

struct OmQuery {
  OmLang lang;
  Stage *st;
  size_t n;
};

/* A number written whole ("12", "1.5"); false for anything else. */
static inline bool om_number(const char *s, double *d) {
  char *end;
  if (!*s) return false;
  *d = strtod(s, &end);
  return !*end;
}

/* A PCRE2 pattern as the models run it (UTF, invalid UTF matched as bytes); NULL when it does not compile. */
static inline pcre2_code *om_compile(const char *pat, uint32_t opts) {
  int err;
  PCRE2_SIZE off;
  return pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                       &err, &off, NULL);
}

#endif
