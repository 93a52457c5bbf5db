/* cond.c - condition string -> SgCondExpr tree (lexer and recursive-descent parser).
 *
 * Grammar (precedence or < and < not < x of; binary operators left-associative):
 *   cond    = or_expr EOF
 *   or_expr = and_expr ("or" and_expr)*
 *   and_expr= not_expr ("and" not_expr)*
 *   not_expr= "not" not_expr | primary
 *   primary = "(" or_expr ")" | quant "of" pattern | IDENT
 *   quant   = "1" | "any" | "all"
 *   pattern = "them" | IDENT-with-*
 * Keywords are lowercase, as in pySigma. A `|` is legacy aggregation syntax
 * and gets its own error pointing at correlation rules.
 */
#include <string.h>

#include "front.h"

typedef enum Tok { T_EOF, T_LP, T_RP, T_WORD, T_PIPE, T_BAD } Tok;

typedef struct Parser {
  SgArena *a;
  SgDiags *d;
  const SgYNode *src;
  const char *s;
  size_t n, pos;
  Tok tok;
  size_t tstart, tlen;
  int depth;
  bool failed;
  bool caseless; /* and, or, not in any case (a correlation's condition) */
} Parser;

static SgLoc loc_at(const Parser *p, size_t off) {
  SgLoc l = p->src->loc;
  if (!p->src->multiline) l.col += (uint32_t)off + (p->src->quoted ? 1 : 0);
  return l;
}

static bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '*' || c == '.';
}

static void next(Parser *p) {
  while (p->pos < p->n &&
         (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
    p->pos++;
  p->tstart = p->pos;
  p->tlen = 1;
  if (p->pos >= p->n) {
    p->tok = T_EOF;
    p->tlen = 0;
    return;
  }
  char c = p->s[p->pos];
  if (c == '(' || c == ')' || c == '|') {
    p->tok = c == '(' ? T_LP : c == ')' ? T_RP : T_PIPE;
    p->pos++;
    return;
  }
  if (!word_char(c)) {
    p->tok = T_BAD;
    return;
  }
  while (p->pos < p->n && word_char(p->s[p->pos]))
    p->pos++;
  p->tok = T_WORD;
  p->tlen = p->pos - p->tstart;
}

static bool is_kw(const Parser *p, const char *kw) {
  return p->tok == T_WORD && strlen(kw) == p->tlen &&
         (p->caseless ? !sg_ascii_ncasecmp(p->s + p->tstart, kw, p->tlen)
                      : !memcmp(p->s + p->tstart, kw, p->tlen));
}

static void error_here(Parser *p, const char *what) {
  if (p->failed) return;
  p->failed = true;
  SgLoc l = loc_at(p, p->tstart);
  if (p->tok == T_PIPE) {
    sg_diag(p->d, SG_D_COND_LEGACY, l,
            "legacy aggregation syntax ('| count() ...', '| near ...') was removed in Sigma 2.0; "
            "express it as a correlation rule");
  } else if (p->tok == T_EOF) {
    sg_diag(p->d, SG_D_COND_SYNTAX, l, "condition ends early: expected %s", what);
  } else {
    static const char *const kws[] = {"and", "or", "not", "of", "them", "any", "all"};
    const char *hint = "";
    for (size_t i = 0; i < sizeof kws / sizeof *kws; i++)
      if (strlen(kws[i]) == p->tlen && !sg_ascii_ncasecmp(p->s + p->tstart, kws[i], p->tlen))
        hint = " (condition keywords are lowercase)";
    sg_diag(p->d, SG_D_COND_SYNTAX, l, "unexpected '%.*s': expected %s%s", (int)p->tlen, p->s + p->tstart,
            what, hint);
  }
}

static SgCondExpr *mk(Parser *p, SgCondKind k, size_t off) {
  SgCondExpr *e = sg_arena_alloc(p->a, sizeof *e);
  if (e) {
    e->kind = k;
    e->loc = loc_at(p, off);
  }
  return e;
}

static SgCondExpr *or_expr(Parser *p);

/* primary = "(" or_expr ")" | quant "of" pattern | IDENT */
static SgCondExpr *primary(Parser *p) {
  size_t start = p->tstart;
  if (p->tok == T_LP) {
    if (++p->depth > SG_MAX_COND_DEPTH) {
      sg_diag(p->d, SG_D_COND_DEPTH, loc_at(p, start), "condition nested deeper than %d levels",
              SG_MAX_COND_DEPTH);
      p->failed = true;
      return NULL;
    }
    next(p);
    SgCondExpr *e = or_expr(p);
    if (!e) return NULL;
    if (p->tok != T_RP) {
      error_here(p, "')'");
      return NULL;
    }
    p->depth--;
    next(p);
    return e;
  }
  if (p->tok != T_WORD) {
    error_here(p, "a search identifier, '(' , 'not', '1 of' or 'all of'");
    return NULL;
  }
  if (is_kw(p, "1") || is_kw(p, "any") || is_kw(p, "all")) {
    bool all = is_kw(p, "all");
    next(p);
    if (!is_kw(p, "of")) {
      error_here(p, "'of' after the quantifier");
      return NULL;
    }
    next(p);
    if (p->tok != T_WORD || is_kw(p, "and") || is_kw(p, "or") || is_kw(p, "not")) {
      error_here(p, "'them' or an identifier pattern after 'of'");
      return NULL;
    }
    SgCondExpr *e = mk(p, all ? SG_C_ALL_OF : SG_C_ONE_OF, start);
    if (!e) return NULL;
    e->them = is_kw(p, "them");
    e->name = sg_arena_strndup(p->a, p->s + p->tstart, p->tlen);
    if (!e->name) return NULL;
    next(p);
    return e;
  }
  if (is_kw(p, "and") || is_kw(p, "or") || is_kw(p, "of") || is_kw(p, "them")) {
    error_here(p, "a search identifier");
    return NULL;
  }
  if (p->tlen && p->s[p->tstart] >= '0' && p->s[p->tstart] <= '9') {
    /* "2 of x" is a quantifier Sigma does not have */
    size_t save = p->pos;
    Tok t = p->tok;
    size_t ts = p->tstart, tl = p->tlen;
    next(p);
    if (is_kw(p, "of")) {
      p->tstart = ts;
      p->tlen = tl;
      p->tok = t;
      sg_diag(p->d, SG_D_COND_SYNTAX, loc_at(p, ts),
              "quantifier '%.*s of' is not Sigma: use '1 of', 'any of' or 'all of'", (int)tl, p->s + ts);
      p->failed = true;
      return NULL;
    }
    p->pos = save;
    p->tok = t;
    p->tstart = ts;
    p->tlen = tl;
  }
  static const char *const aggs[] = {"count", "min", "max", "avg", "sum"};
  for (size_t i = 0; i < sizeof aggs / sizeof *aggs; i++)
    if (strlen(aggs[i]) == p->tlen && !memcmp(p->s + p->tstart, aggs[i], p->tlen) && p->pos < p->n &&
        p->s[p->pos] == '(') {
      p->tok = T_PIPE; /* an aggregation without the pipe is still legacy syntax */
      error_here(p, "");
      return NULL;
    }
  SgCondExpr *e = mk(p, SG_C_ID, start);
  if (!e) return NULL;
  e->name = sg_arena_strndup(p->a, p->s + p->tstart, p->tlen);
  if (!e->name) return NULL;
  if (memchr(e->name, '*', p->tlen)) {
    sg_diag(p->d, SG_D_COND_SYNTAX, e->loc, "pattern '%s' needs a quantifier: '1 of %s' or 'all of %s'",
            e->name, e->name, e->name);
    p->failed = true;
    return NULL;
  }
  next(p);
  return e;
}

/* not_expr = "not" not_expr | primary */
static SgCondExpr *not_expr(Parser *p) {
  if (!is_kw(p, "not")) return primary(p);
  size_t start = p->tstart;
  if (++p->depth > SG_MAX_COND_DEPTH) {
    sg_diag(p->d, SG_D_COND_DEPTH, loc_at(p, start), "condition nested deeper than %d levels",
            SG_MAX_COND_DEPTH);
    p->failed = true;
    return NULL;
  }
  next(p);
  SgCondExpr *e = mk(p, SG_C_NOT, start);
  if (!e || !(e->kids = sg_arena_alloc(p->a, sizeof *e->kids)) || !(e->kids[0] = not_expr(p))) return NULL;
  e->n = 1;
  p->depth--;
  return e;
}

/* operand (kw operand)*: one n-ary node, located at the first operator */
static SgCondExpr *binary(Parser *p, const char *kw, SgCondKind k, SgCondExpr *(*sub)(Parser *)) {
  SgCondExpr *first = sub(p);
  if (!first || !is_kw(p, kw)) return first;
  SgCondExpr *e = mk(p, k, p->tstart), *r = first, **slot;
  size_t cap = 0;
  if (!e) return NULL;
  for (;;) {
    if (!(slot = SG_PUSH(p->a, e->kids, e->n, cap))) return NULL;
    *slot = r;
    if (!is_kw(p, kw)) return e;
    next(p);
    if (!(r = sub(p))) return NULL;
  }
}

/* and_expr = not_expr ("and" not_expr)* */
static SgCondExpr *and_expr(Parser *p) { return binary(p, "and", SG_C_AND, not_expr); }
/* or_expr = and_expr ("or" and_expr)* */
static SgCondExpr *or_expr(Parser *p) { return binary(p, "or", SG_C_OR, and_expr); }

SgStatus sg_cond_parse(SgArena *a, SgCondition *c, const SgYNode *src, bool caseless, SgDiags *d) {
  Parser p = {.a = a, .d = d, .src = src, .s = src->text, .n = src->len, .caseless = caseless};
  c->text = src->text;
  c->loc = src->loc;
  /* a pipe anywhere is legacy syntax, even after an otherwise valid expression */
  const char *pipe = memchr(src->text, '|', src->len);
  if (pipe) {
    p.tok = T_PIPE;
    p.tstart = (size_t)(pipe - src->text);
    error_here(&p, "");
    return SG_ERR_PARSE;
  }
  next(&p);
  SgCondExpr *e = or_expr(&p);
  if (e && p.tok != T_EOF) error_here(&p, "'and', 'or' or the end of the condition");
  if (p.failed || !e) {
    if (!p.failed) sg_diag(d, SG_D_NOMEM, src->loc, "out of memory parsing the condition");
    return SG_ERR_PARSE;
  }
  c->expr = e;
  return SG_OK;
}
