/* oracle_models.c - the SPL and AQL models (see oracle_models.h for what they
 * assume about Splunk and QRadar): one tokenizer and two parsers (SPL search
 * syntax; an expression grammar for SPL `| where` and for AQL) into the tree
 * of oracle_tree.h, which oracle_eval.c evaluates over an event's JSON.
 */
#define _GNU_SOURCE /* memmem */
#include "oracle_tree.h"

#include <arpa/inet.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== Tokens ==================================================================== */

typedef enum Tk { TK_END, TK_WORD, TK_SQ, TK_DQ, TK_SYM, TK_RE } Tk;

typedef struct Tok {
  Tk t;
  char *s; /* decoded text (WORD, SQ, DQ) or the symbol */
  size_t n;
} Tok;

typedef struct Lexer {
  const char *p;
  bool spl;  /* SPL quoting: "string", 'field', backslash escapes (SPL and SPL2) */
  bool spl2; /* SPL2: /regex/ literals, LIKE, IN, IS NULL, bare booleans */
  Tok *v;
  size_t n, cap, i;
  char why[160];
} Lexer;

static bool fail(Lexer *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(Lexer *L, const char *fmt, ...) {
  if (L->why[0]) return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(L->why, sizeof L->why, fmt, ap);
  va_end(ap);
  return false;
}

static void push(Lexer *L, Tk t, const char *s, size_t n) {
  if (L->n == L->cap) {
    L->cap = L->cap ? L->cap * 2 : 64;
    L->v = realloc(L->v, L->cap * sizeof *L->v);
  }
  char *c = malloc(n + 1);
  memcpy(c, s, n);
  c[n] = '\0';
  L->v[L->n++] = (Tok){t, c, n};
}

/* SPL quotes with backslash escapes; AQL doubles the quote. */
static bool lex(Lexer *L) {
  const char *p = L->p;
  while (*p) {
    if (*p == ' ' || *p == '\n' || *p == '\t') {
      p++;
      continue;
    }
    if (*p == '"' || *p == '\'') {
      char q = *p++;
      SgBuf b = {0};
      for (;;) {
        if (!*p) return sg_buf_free(&b), fail(L, "a literal does not close");
        if (L->spl && *p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == '\'')) {
          sg_buf_catc(&b, p[1]);
          p += 2;
          continue;
        }
        if (*p == q) {
          if (!L->spl && p[1] == q) {
            sg_buf_catc(&b, q);
            p += 2;
            continue;
          }
          p++;
          break;
        }
        sg_buf_catc(&b, *p++);
      }
      push(L, q == '"' ? TK_DQ : TK_SQ, sg_buf_cstr(&b), b.len);
      sg_buf_free(&b);
      continue;
    }
    if (L->spl2 && *p == '/') { /* a regex literal: \/ is a slash, other escapes stay */
      SgBuf b = {0};
      for (p++; *p != '/'; p++) {
        if (!*p) return sg_buf_free(&b), fail(L, "a regex literal does not close");
        if (*p == '\\' && p[1]) {
          if (p[1] != '/') sg_buf_catc(&b, '\\');
          sg_buf_catc(&b, *++p);
          continue;
        }
        sg_buf_catc(&b, *p);
      }
      p++;
      push(L, TK_RE, sg_buf_cstr(&b), b.len);
      sg_buf_free(&b);
      continue;
    }
    static const char *const syms[] = {"!=", "<=", ">=", "<>", "(", ")", ",", "=", "<", ">", "|", "-"};
    bool sym = false;
    for (size_t k = 0; k < sizeof syms / sizeof *syms && !sym; k++)
      if (!strncmp(p, syms[k], strlen(syms[k]))) {
        push(L, TK_SYM, syms[k], strlen(syms[k]));
        p += strlen(syms[k]);
        sym = true;
      }
    if (sym) continue;
    const char *s = p;
    while (*p && !strchr(" \n\t\"'(),=<>!|", *p))
      p++;
    if (p == s) return fail(L, "unexpected character '%c'", *p);
    push(L, TK_WORD, s, (size_t)(p - s));
  }
  push(L, TK_END, "", 0);
  return true;
}

static const Tok *peek(Lexer *L, size_t k) { return &L->v[L->i + k < L->n ? L->i + k : L->n - 1]; }
static bool is(Lexer *L, Tk t, const char *s) {
  return peek(L, 0)->t == t && (!s || !strcmp(peek(L, 0)->s, s));
}
static bool eat(Lexer *L, Tk t, const char *s) {
  if (!is(L, t, s)) return false;
  L->i++;
  return true;
}
static bool expect(Lexer *L, Tk t, const char *s) {
  return eat(L, t, s) || fail(L, "expected '%s' before '%s'", s ? s : "a literal", peek(L, 0)->s);
}

/* ==== Trees ====================================================================== */

static Node *node(Kind k) {
  Node *n = calloc(1, sizeof *n);
  n->k = k;
  return n;
}

static void add(Node *p, Node *k) {
  p->kids = realloc(p->kids, (p->n + 1) * sizeof *p->kids);
  p->kids[p->n++] = k;
}

static void free_node(Node *n) {
  if (!n) return;
  for (size_t i = 0; i < n->n; i++)
    free_node(n->kids[i]);
  free(n->kids);
  free(n->s);
  free(n->field);
  if (n->re) pcre2_code_free(n->re);
  free(n);
}

static pcre2_code *compile_re(Lexer *L, const char *pat, uint32_t opts) {
  pcre2_code *re = om_compile(pat, opts);
  if (!re) fail(L, "regex does not compile: %s", pat);
  return re;
}

/* A Java regex (QRadar [I]MATCHES) for PCRE2: Java's `$` (without MULTILINE)
 * matches at the end and before a final line terminator - \r\n, \n, \r,
 * U+0085, U+2028 or U+2029 - where PCRE's matches before a final \n only;
 * Java's `.` stops at those terminators (PCRE2_NEWLINE_ANY: also at VT and FF,
 * which no generated value holds). Escapes, \Q...\E and classes are copied. */
static pcre2_code *compile_java_re(Lexer *L, const char *pat, uint32_t opts) {
  SgBuf b = {0};
  bool cls = false;
  for (const char *p = pat; *p; p++) {
    if (p[0] == '\\' && p[1] == 'Q') {
      const char *e = strstr(p + 2, "\\E");
      size_t n = e ? (size_t)(e + 2 - p) : strlen(p);
      sg_buf_catn(&b, p, n);
      p += n - 1;
    } else if (p[0] == '\\' && p[1]) {
      sg_buf_catn(&b, p++, 2);
    } else if (cls) {
      cls = *p != ']';
      sg_buf_catc(&b, *p);
    } else if (*p == '[') {
      cls = true;
      sg_buf_catc(&b, *p);
      if (p[1] == '^') sg_buf_catc(&b, *++p);
      if (p[1] == ']') sg_buf_catc(&b, *++p); /* a leading ] is a member */
    } else if (*p == '$' && !strstr(pat, "(?m") && !(opts & PCRE2_MULTILINE)) {
      sg_buf_cat(&b, "(?=(?:\\r\\n|[\\n\\r\\x{85}\\x{2028}\\x{2029}])?\\z)");
    } else {
      sg_buf_catc(&b, *p);
    }
  }
  pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
  pcre2_set_newline(cc, PCRE2_NEWLINE_ANY);
  int err;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)sg_buf_cstr(&b), PCRE2_ZERO_TERMINATED,
                                 opts | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, cc);
  pcre2_compile_context_free(cc);
  if (!re) fail(L, "regex does not compile: %s", pat);
  sg_buf_free(&b);
  return re;
}

/* ==== SPL search syntax =========================================================== */

static Node *s_or(Lexer *L);

static Node *s_value(Lexer *L, Node *t) {
  if (eat(L, TK_WORD, "*")) {
    t->k = K_S_EX;
    return t;
  }
  if (eat(L, TK_WORD, "CASE")) {
    t->cased = true;
    if (!expect(L, TK_SYM, "(")) return NULL;
    if (!is(L, TK_DQ, NULL)) return fail(L, "CASE() takes a string"), NULL;
    t->s = strdup(peek(L, 0)->s);
    L->i++;
    return expect(L, TK_SYM, ")") ? t : NULL;
  }
  if (is(L, TK_DQ, NULL)) {
    t->s = strdup(peek(L, 0)->s);
    L->i++;
    return t;
  }
  if (is(L, TK_WORD, "true") || is(L, TK_WORD, "false")) {
    t->isbool = true;
    t->s = strdup(peek(L, 0)->s);
    L->i++;
    return t;
  }
  if (eat(L, TK_SYM, "-")) { /* a negative number */
    if (!is(L, TK_WORD, NULL) || !om_number(peek(L, 0)->s, &t->num)) return fail(L, "bad number"), NULL;
    t->num = -t->num;
    t->isnum = true;
    L->i++;
    return t;
  }
  if (is(L, TK_WORD, NULL) && om_number(peek(L, 0)->s, &t->num)) {
    t->isnum = true;
    t->s = strdup(peek(L, 0)->s);
    L->i++;
    return t;
  }
  return fail(L, "unknown search value '%s'", peek(L, 0)->s), NULL;
}

static Node *s_atom(Lexer *L) {
  if (eat(L, TK_SYM, "(")) {
    Node *e = s_or(L);
    if (!e || !expect(L, TK_SYM, ")")) return free_node(e), NULL;
    return e;
  }
  if (eat(L, TK_WORD, "*")) return node(K_TRUE);
  if (is(L, TK_WORD, "CASE") && peek(L, 1)->t == TK_SYM && !strcmp(peek(L, 1)->s, "(")) {
    L->i += 2;
    if (!is(L, TK_DQ, NULL)) return fail(L, "CASE() takes a string"), NULL;
    Node *k = node(K_S_KW);
    k->s = strdup(peek(L, 0)->s);
    k->cased = true;
    L->i++;
    return expect(L, TK_SYM, ")") ? k : (free_node(k), NULL);
  }
  const Tok *t = peek(L, 0), *nx = peek(L, 1);
  bool field = (t->t == TK_WORD || t->t == TK_DQ) &&
               ((nx->t == TK_SYM && strchr("=<>!", nx->s[0])) || (nx->t == TK_WORD && !strcmp(nx->s, "IN")));
  if (!field) {
    if (t->t == TK_DQ || (t->t == TK_WORD && om_number(t->s, &(double){0}))) {
      Node *k = node(K_S_KW);
      k->s = strdup(t->s);
      L->i++;
      return k;
    }
    return fail(L, "unknown search term '%s'", t->s), NULL;
  }
  char *name = strdup(t->s);
  L->i++;
  Node *e = node(K_S_EQ);
  e->field = name;
  if (eat(L, TK_SYM, "=")) return s_value(L, e) ? e : (free_node(e), NULL);
  if (eat(L, TK_WORD, "IN")) {
    Node *o = node(K_OR);
    if (!expect(L, TK_SYM, "(")) return free_node(e), free_node(o), NULL;
    do {
      Node *v = node(K_S_EQ);
      v->field = strdup(name);
      if (!s_value(L, v)) return free_node(v), free_node(e), free_node(o), NULL;
      add(o, v);
    } while (eat(L, TK_SYM, ","));
    free_node(e);
    return expect(L, TK_SYM, ")") ? o : (free_node(o), NULL);
  }
  static const char *const ops[] = {"<=", ">=", "<", ">"};
  for (size_t i = 0; i < 4; i++)
    if (eat(L, TK_SYM, ops[i])) {
      e->k = K_S_CMP;
      e->s = strdup(ops[i]);
      bool minus = eat(L, TK_SYM, "-");
      if (!is(L, TK_WORD, NULL) || !om_number(peek(L, 0)->s, &e->num))
        return fail(L, "bad number"), free_node(e), NULL;
      if (minus) e->num = -e->num;
      L->i++;
      return e;
    }
  free_node(e);
  return fail(L, "unknown comparison after field '%s'", name), NULL;
}

static Node *s_unary(Lexer *L) {
  if (eat(L, TK_WORD, "NOT")) {
    Node *k = s_unary(L);
    if (!k) return NULL;
    Node *n = node(K_NOT);
    add(n, k);
    return n;
  }
  return s_atom(L);
}

static bool s_stop(Lexer *L) {
  return is(L, TK_END, NULL) || is(L, TK_SYM, ")") || is(L, TK_SYM, "|") || is(L, TK_WORD, "OR");
}

static Node *s_and(Lexer *L) {
  Node *a = node(K_AND);
  while (!s_stop(L)) {
    Node *k = s_unary(L);
    if (!k) return free_node(a), NULL;
    add(a, k);
  }
  if (!a->n) return free_node(a), fail(L, "empty search"), NULL;
  return a;
}

static Node *s_or(Lexer *L) {
  Node *o = node(K_OR);
  do {
    Node *k = s_and(L);
    if (!k) return free_node(o), NULL;
    add(o, k);
  } while (eat(L, TK_WORD, "OR"));
  return o;
}

/* ==== Expressions: SPL eval (| where) and AQL ====================================== */

static Node *x_or(Lexer *L);

static Node *x_primary(Lexer *L) {
  const Tok *t = peek(L, 0);
  if (eat(L, TK_SYM, "(")) {
    Node *e = x_or(L);
    if (!e || !expect(L, TK_SYM, ")")) return free_node(e), NULL;
    return e;
  }
  if (eat(L, TK_SYM, "-")) {
    Node *n = node(K_CALL);
    n->s = strdup("neg");
    Node *k = x_primary(L);
    if (!k) return free_node(n), NULL;
    add(n, k);
    return n;
  }
  /* SPL: 'field' and "string"; AQL: "property" and 'string' */
  if (t->t == TK_SQ || t->t == TK_DQ || t->t == TK_RE) {
    bool fieldq = (t->t == TK_SQ) == L->spl && t->t != TK_RE;
    Node *n = node(fieldq ? K_FIELD : K_STR);
    n->s = strdup(t->s);
    L->i++;
    return n;
  }
  if (t->t != TK_WORD) return fail(L, "unexpected '%s'", t->s), NULL;
  double d;
  if (om_number(t->s, &d)) {
    Node *n = node(K_NUM);
    n->num = d;
    L->i++;
    return n;
  }
  if (peek(L, 1)->t == TK_SYM && !strcmp(peek(L, 1)->s, "(")) {
    static const char *const spl_fns[] = {"match",  "isnull", "isnotnull", "cidrmatch", "lower",
                                          "substr", "len",    "true",      "false",     NULL};
    static const char *const aql_fns[] = {"LOWER", "UTF8", "INCIDR", NULL};
    const char *const *fns = L->spl ? spl_fns : aql_fns;
    bool known = false;
    for (size_t i = 0; fns[i]; i++)
      known = known || !strcmp(fns[i], t->s);
    if (!known) return fail(L, "unknown function %s()", t->s), NULL;
    Node *n = node(K_CALL);
    n->s = strdup(t->s);
    L->i += 2;
    if (!eat(L, TK_SYM, ")")) {
      do {
        Node *a = x_or(L);
        if (!a) return free_node(n), NULL;
        add(n, a);
      } while (eat(L, TK_SYM, ","));
      if (!expect(L, TK_SYM, ")")) return free_node(n), NULL;
    }
    if (!strcmp(n->s, "UTF8")) { /* UTF8(payload): the raw text */
      if (n->n != 1 || n->kids[0]->k != K_FIELD || strcmp(n->kids[0]->s, "payload"))
        return free_node(n), fail(L, "UTF8() of something else than payload"), NULL;
      free_node(n);
      return node(K_RAW);
    }
    return n;
  }
  if (L->spl && !strcmp(t->s, "_raw")) {
    L->i++;
    return node(K_RAW);
  }
  if ((!L->spl || L->spl2) && (!strcmp(t->s, "true") || !strcmp(t->s, "false"))) { /* AQL, SPL2 */
    Node *n = node(K_STR);
    n->s = strdup(t->s);
    n->isbool = true;
    L->i++;
    return n;
  }
  if (L->spl2) { /* SPL2: a bare name is a field */
    static const char *const reserved[] = {"AND", "OR",   "NOT",  "IN",    "LIKE",
                                           "IS",  "NULL", "FROM", "WHERE", NULL};
    for (size_t i = 0; reserved[i]; i++)
      if (!strcmp(reserved[i], t->s)) return fail(L, "unexpected '%s'", t->s), NULL;
    Node *n = node(K_FIELD);
    n->s = strdup(t->s);
    L->i++;
    return n;
  }
  if (!L->spl) { /* a bare identifier: an Ariel column (sigmacc writes no other) */
    /* QRadar's built-in Ariel columns (identifiers are case-insensitive); the
     * model's own copy of backends/aql.c's list on purpose: the oracle takes
     * no fact from the backend it checks (a column the backend wrote bare and
     * this list lacks fails the test) */
    static const char *const cols[] = {"sourceip",
                                       "destinationip",
                                       "sourceport",
                                       "destinationport",
                                       "username",
                                       "starttime",
                                       "endtime",
                                       "devicetime",
                                       "devicetype",
                                       "logsourceid",
                                       "qid",
                                       "category",
                                       "highlevelcategory",
                                       "magnitude",
                                       "severity",
                                       "credibility",
                                       "relevance",
                                       "eventcount",
                                       "protocolid",
                                       "payload",
                                       "identityip",
                                       "identityhostname",
                                       "sourcemac",
                                       "destinationmac",
                                       "sourcev6",
                                       "destinationv6",
                                       "domainid",
                                       "eventdirection",
                                       "hasidentity",
                                       "hasoffense",
                                       "processorid",
                                       "postnatdestinationip",
                                       "postnatsourceip",
                                       "isCREevent",
                                       "creEventlist",
                                       "sourcebytes",
                                       "destinationbytes",
                                       "sourcepackets",
                                       "destinationpackets",
                                       "flowtype",
                                       "applicationid",
                                       NULL};
    for (size_t i = 0; cols[i]; i++)
      if (!sg_ascii_casecmp(cols[i], t->s)) {
        Node *n = node(K_FIELD);
        n->s = strdup(t->s);
        L->i++;
        return n;
      }
  }
  return fail(L, "unknown word '%s'", t->s), NULL;
}

/* SPL2's LIKE pattern: "text", or lower("text") (folded as lower() folds). */
static char *like_pattern(Lexer *L) {
  bool low = is(L, TK_WORD, "lower") && peek(L, 1)->t == TK_SYM && !strcmp(peek(L, 1)->s, "(");
  if (low) L->i += 2;
  if (!is(L, TK_DQ, NULL)) return fail(L, "LIKE takes a string"), NULL;
  char *s = strdup(peek(L, 0)->s);
  L->i++;
  if (low) sg_fold(s, s, strlen(s));
  return !low || expect(L, TK_SYM, ")") ? s : (free(s), NULL);
}

static Node *x_cmp(Lexer *L) {
  Node *l = x_primary(L);
  if (!l) return NULL;
  bool neg = false, sql = !L->spl || L->spl2; /* AQL and SPL2 have LIKE, IN and IS NULL */
  if (!L->spl && is(L, TK_WORD, "NOT") && peek(L, 1)->t == TK_WORD) {
    const char *w = peek(L, 1)->s;
    if (!strcmp(w, "LIKE") || !strcmp(w, "ILIKE") || !strcmp(w, "MATCHES") || !strcmp(w, "IMATCHES") ||
        !strcmp(w, "IN")) {
      neg = true;
      L->i++;
    }
  }
  if (L->spl2 && eat(L, TK_WORD, "LIKE")) {
    Node *n = node(K_LIKE);
    add(n, l);
    return (n->s = like_pattern(L)) ? n : (free_node(n), NULL);
  }
  if (!L->spl && (is(L, TK_WORD, "LIKE") || is(L, TK_WORD, "ILIKE"))) {
    Node *n = node(K_LIKE);
    n->ci = is(L, TK_WORD, "ILIKE");
    n->neg = neg;
    L->i++;
    if (!is(L, TK_SQ, NULL)) return free_node(l), free_node(n), fail(L, "LIKE takes a string"), NULL;
    n->s = strdup(peek(L, 0)->s);
    L->i++;
    add(n, l);
    return n;
  }
  if (!L->spl && (is(L, TK_WORD, "MATCHES") || is(L, TK_WORD, "IMATCHES"))) {
    Node *n = node(K_MATCH);
    n->ci = is(L, TK_WORD, "IMATCHES");
    n->neg = neg;
    L->i++;
    if (!is(L, TK_SQ, NULL)) return free_node(l), free_node(n), fail(L, "MATCHES takes a string"), NULL;
    n->re =
        compile_java_re(L, peek(L, 0)->s, PCRE2_ANCHORED | PCRE2_ENDANCHORED | (n->ci ? PCRE2_CASELESS : 0));
    L->i++;
    add(n, l);
    return n->re ? n : (free_node(n), NULL);
  }
  if (sql && is(L, TK_WORD, "IN")) {
    Node *n = node(K_IN);
    n->neg = neg;
    L->i++;
    add(n, l);
    if (!expect(L, TK_SYM, "(")) return free_node(n), NULL;
    do {
      Node *v = x_primary(L);
      if (!v) return free_node(n), NULL;
      add(n, v);
    } while (eat(L, TK_SYM, ","));
    return expect(L, TK_SYM, ")") ? n : (free_node(n), NULL);
  }
  if (sql && eat(L, TK_WORD, "IS")) {
    Node *n = node(K_NULL);
    n->neg = eat(L, TK_WORD, "NOT");
    add(n, l);
    return expect(L, TK_WORD, "NULL") ? n : (free_node(n), NULL);
  }
  static const char *const ops[] = {"!=", "<>", "<=", ">=", "=", "<", ">"};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (is(L, TK_SYM, ops[i])) {
      L->i++;
      Node *r = x_primary(L);
      if (!r) return free_node(l), NULL;
      Node *n = node(K_CMP);
      n->s = strdup(ops[i]);
      add(n, l);
      add(n, r);
      return n;
    }
  return l;
}

static Node *x_not(Lexer *L) {
  if (eat(L, TK_WORD, "NOT")) {
    Node *k = x_not(L);
    if (!k) return NULL;
    Node *n = node(K_NOT);
    add(n, k);
    return n;
  }
  return x_cmp(L);
}

static Node *x_chain(Lexer *L, const char *kw, Kind k, Node *(*sub)(Lexer *)) {
  Node *n = node(k);
  do {
    Node *c = sub(L);
    if (!c) return free_node(n), NULL;
    add(n, c);
  } while (eat(L, TK_WORD, kw));
  if (n->n == 1) { /* a single operand is itself */
    Node *only = n->kids[0];
    n->n = 0;
    free_node(n);
    return only;
  }
  return n;
}
static Node *x_and(Lexer *L) { return x_chain(L, "AND", K_AND, x_not); }
static Node *x_or(Lexer *L) { return x_chain(L, "OR", K_OR, x_and); }

/* ==== Queries ======================================================================= */

void om_free(OmQuery *q) {
  if (!q) return;
  for (size_t i = 0; i < q->n; i++) {
    free_node(q->st[i].where);
    free(q->st[i].field);
    if (q->st[i].re) pcre2_code_free(q->st[i].re);
  }
  free(q->st);
  free(q);
}

static void stage(OmQuery *q, Stage s) {
  q->st = realloc(q->st, (q->n + 1) * sizeof *q->st);
  q->st[q->n++] = s;
}

static bool parse_spl(Lexer *L, OmQuery *q) {
  Node *s = s_or(L);
  if (!s) return false;
  stage(q, (Stage){.where = s});
  while (eat(L, TK_SYM, "|")) {
    if (eat(L, TK_WORD, "where")) {
      Node *w = x_or(L);
      if (!w) return false;
      stage(q, (Stage){.where = w});
    } else if (eat(L, TK_WORD, "regex")) {
      if (!is(L, TK_WORD, NULL)) return fail(L, "regex needs a field");
      char *f = strdup(peek(L, 0)->s);
      L->i++;
      bool neg = eat(L, TK_SYM, "!=");
      if ((!neg && !expect(L, TK_SYM, "=")) || !is(L, TK_DQ, NULL)) return free(f), fail(L, "bad | regex");
      pcre2_code *re = compile_re(L, peek(L, 0)->s, 0);
      L->i++;
      if (!re) return free(f), false;
      stage(q, (Stage){.field = f, .re = re, .neg = neg});
    } else if (eat(L, TK_WORD, "table")) {
      while (!is(L, TK_END, NULL) && !is(L, TK_SYM, "|"))
        L->i++;
    } else {
      return fail(L, "unknown command '| %s'", peek(L, 0)->s);
    }
  }
  return is(L, TK_END, NULL) || fail(L, "text after the query: '%s'", peek(L, 0)->s);
}

static bool parse_spl2(Lexer *L, OmQuery *q) {
  if (!eat(L, TK_WORD, "FROM") || !(eat(L, TK_WORD, NULL) || eat(L, TK_SQ, NULL)) ||
      !eat(L, TK_WORD, "WHERE"))
    return fail(L, "not FROM dataset WHERE ...");
  Node *w = x_or(L);
  if (!w) return false;
  stage(q, (Stage){.where = w});
  if (eat(L, TK_SYM, "|") &&
      eat(L, TK_WORD, "table")) /* the rule's fields: they select, they do not filter */
    while (!is(L, TK_END, NULL))
      L->i++;
  return is(L, TK_END, NULL) || fail(L, "text after the condition: '%s'", peek(L, 0)->s);
}

static bool parse_aql(Lexer *L, OmQuery *q) {
  if (!eat(L, TK_WORD, "SELECT") || !eat(L, TK_WORD, "*")) return fail(L, "not SELECT * ...");
  while (eat(L, TK_SYM, ",")) { /* the rule's fields as columns: they select, they do not filter */
    int depth = 0;
    while (!is(L, TK_END, NULL) && !(depth == 0 && (is(L, TK_SYM, ",") || is(L, TK_WORD, "FROM")))) {
      depth += is(L, TK_SYM, "(") - is(L, TK_SYM, ")");
      L->i++;
    }
  }
  if (!eat(L, TK_WORD, "FROM") || !(eat(L, TK_WORD, "events") || eat(L, TK_WORD, "flows")) ||
      !eat(L, TK_WORD, "WHERE"))
    return fail(L, "not SELECT *[, columns] FROM events WHERE ...");
  Node *w = x_or(L);
  if (!w) return false;
  stage(q, (Stage){.where = w});
  return is(L, TK_END, NULL) || fail(L, "text after the condition: '%s'", peek(L, 0)->s);
}

OmQuery *om_parse(const char *text, OmLang lang, char *why, size_t whylen) {
  Lexer L = {.p = text, .spl = lang != OM_AQL, .spl2 = lang == OM_SPL2};
  OmQuery *q = calloc(1, sizeof *q);
  q->lang = lang;
  bool ok = lex(&L) && (lang == OM_SPL    ? parse_spl(&L, q)
                        : lang == OM_SPL2 ? parse_spl2(&L, q)
                                          : parse_aql(&L, q));
  for (size_t i = 0; i < L.n; i++)
    free(L.v[i].s);
  free(L.v);
  if (!ok) {
    snprintf(why, whylen, "%s", L.why[0] ? L.why : "cannot parse");
    om_free(q);
    return NULL;
  }
  return q;
}
