/* jinja.h - the Jinja subset's parsed form, shared by its two stages:
 * jinja_parse.c (template text -> JNode trees, every construct checked when
 * the pipeline loads) and jinja_render.c (a tree, the rule, the pipeline
 * state and the queries -> text, within a budget). The language: see
 * jinja_parse.c.
 */
#ifndef SG_JINJA_H
#define SG_JINJA_H

#include "pipeline.h"

typedef enum NKind {
  N_TEXT,
  N_OUT,
  N_IF,
  N_FOR,
  N_SET, /* var = kids[0] */
  /* expressions */
  E_STR,
  E_NUM,
  E_NAME,
  E_LIST,
  E_ATTR,   /* kids[0].name */
  E_INDEX,  /* kids[0][kids[1]] */
  E_CALL,   /* kids[0].name(kids[1..]) */
  E_FILTER, /* kids[0] | name(kids[1..]) */
  E_NOT,
  E_AND,
  E_OR,
  E_CMP,  /* name: the operator */
  E_COND, /* kids[0] if kids[1] else kids[2]? */
  E_CONST,
} NKind;

typedef struct JNode JNode;
struct JNode {
  NKind k;
  const char *text, *name;
  size_t len;
  double num;
  JNode **kids; /* expressions; IF: condition list; FOR: [iterable] */
  size_t n;
  JNode ***bodies; /* IF: one body per branch (+ else); FOR: body */
  size_t *nbody, nbodies;
  const char *var; /* FOR */
  bool cval;       /* CONST */
  unsigned depth;  /* of the expression tree below: rendering recurses that deep */
};

/* Nesting limits (the parser and the renderer recurse): parentheses, lists,
 * `not`s and operator chains in an expression; if/for in a template. */
enum { MAX_EXPR_DEPTH = 200, MAX_BLOCK_DEPTH = 64 };
/* Variables are found by a linear search of their scope: the number of
 * {% set %} statements is bounded, so a rendering step costs at most that. */
enum { MAX_SETS = 256 };

struct SgJinja {
  JNode **body;
  size_t n;
  const SgYNode *vars; /* the pipeline's */
};

#endif
