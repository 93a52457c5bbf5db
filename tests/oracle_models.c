/* oracle_models.c - the SPL and AQL models (see oracle_models.h for what they
 * assume about Splunk and QRadar). One tokenizer, two parsers (SPL search
 * syntax; an expression grammar for SPL `| where` and for AQL), one
 * evaluator over an event's parsed JSON.
 */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "oracle_models.h"

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

static bool number(const char *s, double *d) {
  char *end;
  if (!*s) return false;
  *d = strtod(s, &end);
  return !*end;
}

static pcre2_code *compile_re(Lexer *L, const char *pat, uint32_t opts) {
  int err;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                 opts | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
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
    if (!is(L, TK_WORD, NULL) || !number(peek(L, 0)->s, &t->num)) return fail(L, "bad number"), NULL;
    t->num = -t->num;
    t->isnum = true;
    L->i++;
    return t;
  }
  if (is(L, TK_WORD, NULL) && number(peek(L, 0)->s, &t->num)) {
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
    if (t->t == TK_DQ || (t->t == TK_WORD && number(t->s, &(double){0}))) {
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
      if (!is(L, TK_WORD, NULL) || !number(peek(L, 0)->s, &e->num))
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
  if (number(t->s, &d)) {
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

/* ==== Evaluation ====================================================================== */

typedef enum Tri { NO = 0, YES = 1, UNKNOWN = 2 } Tri;

static Tri t_not(Tri a) { return a == UNKNOWN ? UNKNOWN : a == YES ? NO : YES; }

typedef struct Val { /* an eval / SQL value */
  enum { V_NULL, V_STR, V_NUM, V_BOOL } t;
  char *s; /* STR: heap */
  size_t n;
  double d;
  bool b;
} Val;

static void vfree(Val *v) {
  if (v->t == V_STR) free(v->s);
  v->t = V_NULL;
}

static Val vstr(const char *s, size_t n) {
  Val v = {V_STR, malloc(n + 1), n, 0, false};
  memcpy(v.s, s, n);
  v.s[n] = '\0';
  return v;
}

/* "Threat Name" is ThreatName to a rule: converters of Windows events drop
 * the spaces of EventData names (the evaluator reads them so, too). */
static bool tight_eq(const char *name, size_t nl, const char *f, size_t n) {
  if (!memchr(name, ' ', nl)) return false;
  size_t j = 0;
  for (size_t i = 0; i < nl; i++) {
    if (name[i] == ' ') continue;
    if (j == n || name[i] != f[j]) return false;
    j++;
  }
  return j == n;
}

/* Every value of a field (a multi-valued field matches when one value does,
 * as Splunk's search does and as Sigma means it). */
static size_t field_values(const SgJDoc *d, const char *f, const SgJLeaf **out, size_t max) {
  size_t n = strlen(f), k = 0;
  for (size_t i = 0; i < d->n && k < max; i++) {
    const SgJLeaf *l = &d->leaves[i];
    if (l->type == SG_J_NULL) continue;
    if ((l->namelen == n && !memcmp(d->text + l->name, f, n)) ||
        (l->pathlen == n && !memcmp(d->text + l->path, f, n)) ||
        tight_eq(d->text + l->name, l->namelen, f, n))
      out[k++] = l;
  }
  return k;
}

static const SgJLeaf *lookup(const SgJDoc *d, const char *f) {
  const SgJLeaf *l[1];
  return field_values(d, f, l, 1) ? l[0] : NULL;
}

static char *folded(const char *s, size_t n) {
  char *o = malloc(n + 1);
  sg_fold(o, s, n);
  o[n] = '\0';
  return o;
}

/* `*` wildcard match over s[0..n) (SPL search values; no escapes reach here). */
static bool glob_star(const char *p, const char *s, const char *end) {
  while (*p) {
    if (*p == '*') {
      while (*p == '*')
        p++;
      if (!*p) return true;
      for (; s <= end; s++)
        if (glob_star(p, s, end)) return true;
      return false;
    }
    if (s == end || *p != *s) return false;
    p++;
    s++;
  }
  return s == end;
}

/* LIKE: % any run, _ one UTF-8 character, the rest literal. */
static bool like(const char *p, const char *s, const char *end) {
  while (*p) {
    if (*p == '%') {
      while (*p == '%')
        p++;
      if (!*p) return true;
      for (; s <= end; s++)
        if (like(p, s, end)) return true;
      return false;
    }
    if (s == end) return false;
    if (*p == '_') {
      size_t k = sg_utf8_len(s, (size_t)(end - s));
      s += k ? k : 1;
      p++;
      continue;
    }
    if (*p != *s) return false;
    p++;
    s++;
  }
  return s == end;
}

static bool alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* A keyword term: `*...*` is a substring search; otherwise the term must
 * start and end at token boundaries of the value. */
static bool keyword(const char *pat, const char *s, size_t n) {
  size_t pl = strlen(pat);
  if (pl >= 2 && pat[0] == '*' && pat[pl - 1] == '*') return glob_star(pat, s, s + n);
  if (!strchr(pat, '*')) { /* a plain term: each occurrence, at token boundaries */
    for (const char *p = s; pl && (p = memmem(p, n - (size_t)(p - s), pat, pl)); p++) {
      bool left = p == s || !alnum((unsigned char)p[-1]) || !alnum((unsigned char)pat[0]);
      bool right = p + pl == s + n || !alnum((unsigned char)p[pl]) || !alnum((unsigned char)pat[pl - 1]);
      if (left && right) return true;
    }
    return !pl;
  }
  for (size_t i = 0; i <= n; i++) {
    if (i > 0 && alnum((unsigned char)s[i - 1]) && alnum((unsigned char)pat[0])) continue;
    for (size_t j = i; j <= n; j++) {
      if (j < n && alnum((unsigned char)s[j]) && pl && alnum((unsigned char)pat[pl - 1])) continue;
      char *seg = strndup(s + i, j - i);
      bool ok = glob_star(pat, seg, seg + (j - i));
      free(seg);
      if (ok) return true;
    }
  }
  return false;
}

static bool is_number(const char *s, size_t n, double *d) {
  char buf[64];
  if (!n || n >= sizeof buf) return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  return number(buf, d);
}

/* One SPL search value test on one field value. */
static bool ip_in(const char *cidr, const char *s, size_t n);

static bool s_value_ok(const Node *t, const char *s, size_t n) {
  SgCidr net;
  /* Splunk's search compares an IP field with a CIDR value by network */
  if (t->s && strchr(t->s, '/') && sg_cidr_parse(t->s, &net)) return ip_in(t->s, s, n);
  if (t->isnum) {
    double d;
    return is_number(s, n, &d) && d == t->num;
  }
  if (t->isbool) return n == strlen(t->s) && !sg_ascii_ncasecmp(s, t->s, n);
  if (t->cased) return glob_star(t->s, s, s + n);
  char *fs = folded(s, n), *fp = folded(t->s, strlen(t->s));
  bool ok = glob_star(fp, fs, fs + n);
  free(fs);
  free(fp);
  return ok;
}

static bool search(const Node *n, const SgJDoc *d) {
  switch (n->k) {
  case K_TRUE: return true;
  case K_FALSE: return false;
  case K_NOT: return !search(n->kids[0], d);
  case K_AND:
    for (size_t i = 0; i < n->n; i++)
      if (!search(n->kids[i], d)) return false;
    return true;
  case K_OR:
    for (size_t i = 0; i < n->n; i++)
      if (search(n->kids[i], d)) return true;
    return false;
  case K_S_EX: return lookup(d, n->field) != NULL;
  case K_S_EQ:
  case K_S_CMP: {
    const SgJLeaf *vals[64];
    size_t nv = field_values(d, n->field, vals, 64);
    for (size_t i = 0; i < nv; i++) {
      const char *s = d->text + vals[i]->val;
      double x;
      if (n->k == K_S_EQ ? s_value_ok(n, s, vals[i]->vallen)
                         : is_number(s, vals[i]->vallen, &x) && (!strcmp(n->s, "<")    ? x < n->num
                                                                 : !strcmp(n->s, "<=") ? x <= n->num
                                                                 : !strcmp(n->s, ">")  ? x > n->num
                                                                                       : x >= n->num))
        return true;
    }
    return false;
  }
  case K_S_KW:
    for (size_t i = 0; i < d->n; i++) {
      const SgJLeaf *l = &d->leaves[i];
      if (l->type != SG_J_STR && l->type != SG_J_NUM) continue;
      bool ok;
      if (n->cased) {
        ok = keyword(n->s, d->text + l->val, l->vallen);
      } else {
        char *fs = folded(d->text + l->val, l->vallen), *fp = folded(n->s, strlen(n->s));
        ok = keyword(fp, fs, l->vallen);
        free(fs);
        free(fp);
      }
      if (ok) return true;
    }
    return false;
  default: return false;
  }
}

static Val ev(const Node *n, const SgJDoc *d, Tri *t);

/* A predicate over the raw text: true when it holds for one value. */
static Tri over_raw(const Node *pred, const SgJDoc *d, bool (*test)(const Node *, const char *, size_t)) {
  for (size_t i = 0; i < d->n; i++) {
    const SgJLeaf *l = &d->leaves[i];
    if ((l->type == SG_J_STR || l->type == SG_J_NUM) && test(pred, d->text + l->val, l->vallen)) return YES;
  }
  return NO;
}

static bool like_ok(const Node *n, const char *s, size_t len) {
  if (n->lower_value) {
    char *fs = folded(s, len);
    bool ok = like(n->s, fs, fs + len);
    free(fs);
    return ok;
  }
  if (!n->ci) return like(n->s, s, s + len);
  char *fs = folded(s, len), *fp = folded(n->s, strlen(n->s));
  bool ok = like(fp, fs, fs + len);
  free(fs);
  free(fp);
  return ok;
}

static bool re_ok(const pcre2_code *re, const char *s, size_t len) {
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
  int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
  pcre2_match_data_free(md);
  return rc >= 0;
}

static bool matches_ok(const Node *n, const char *s, size_t len) { return re_ok(n->re, s, len); }

/* The value of a field or expression as text (NULL: absent). */
static Val text_of(const Node *n, const SgJDoc *d) {
  if (n->k == K_FIELD) {
    const SgJLeaf *l = lookup(d, n->s);
    if (!l) return (Val){V_NULL, NULL, 0, 0, false};
    return vstr(d->text + l->val, l->vallen);
  }
  Tri t;
  Val v = ev(n, d, &t);
  if (v.t == V_NUM) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v.d);
    return vstr(buf, strlen(buf));
  }
  if (v.t == V_BOOL) return (Val){V_NULL, NULL, 0, 0, false};
  return v;
}

static bool ip_in(const char *cidr, const char *s, size_t n) {
  SgCidr c;
  if (!sg_cidr_parse(cidr, &c)) return false;
  char buf[64];
  if (n >= sizeof buf) return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  uint8_t a[16];
  int fam = strchr(buf, ':') ? 6 : 4;
  if (fam != c.family || inet_pton(fam == 4 ? AF_INET : AF_INET6, buf, a) != 1) return false;
  for (int bit = 0; bit < c.prefix; bit++)
    if (((a[bit / 8] ^ c.addr[bit / 8]) >> (7 - bit % 8)) & 1) return false;
  return true;
}

/* Count UTF-8 characters. */
static size_t chars(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; k++) {
    size_t l = sg_utf8_len(s + i, n - i);
    i += l ? l : 1;
  }
  return k;
}

static size_t char_off(const char *s, size_t n, size_t c) { /* byte offset of character c */
  size_t i = 0;
  while (c-- && i < n) {
    size_t l = sg_utf8_len(s + i, n - i);
    i += l ? l : 1;
  }
  return i;
}

static Val call(const Node *n, const SgJDoc *d, Tri *t) {
  Val none = {V_NULL, NULL, 0, 0, false};
  const char *f = n->s;
  if (!strcmp(f, "true") || !strcmp(f, "false")) return (Val){V_BOOL, NULL, 0, 0, !strcmp(f, "true")};
  if (!strcmp(f, "isnull") || !strcmp(f, "isnotnull")) {
    Val v = text_of(n->kids[0], d);
    bool null = v.t == V_NULL;
    vfree(&v);
    return (Val){V_BOOL, NULL, 0, 0, null == !strcmp(f, "isnull")};
  }
  if (!strcmp(f, "match")) {
    Lexer L = {0};
    Val p = ev(n->kids[1], d, t);
    pcre2_code *re = p.t == V_STR ? compile_re(&L, p.s, 0) : NULL;
    vfree(&p);
    if (!re) return none;
    Val r = none;
    if (n->kids[0]->k == K_RAW) {
      Node tmp = {.re = re};
      r = (Val){V_BOOL, NULL, 0, 0, over_raw(&tmp, d, matches_ok) == YES};
    } else if (n->kids[0]->k == K_FIELD) { /* any value */
      const SgJLeaf *vals[64];
      size_t nv = field_values(d, n->kids[0]->s, vals, 64);
      if (nv) r = (Val){V_BOOL, NULL, 0, 0, false};
      for (size_t i = 0; i < nv && !r.b; i++)
        r.b = re_ok(re, d->text + vals[i]->val, vals[i]->vallen);
    } else {
      Val v = text_of(n->kids[0], d);
      if (v.t != V_NULL) r = (Val){V_BOOL, NULL, 0, 0, re_ok(re, v.s, v.n)};
      vfree(&v);
    }
    pcre2_code_free(re);
    return r;
  }
  if (!strcmp(f, "cidrmatch") || !strcmp(f, "INCIDR")) {
    Val c = ev(n->kids[0], d, t), v = text_of(n->kids[1], d);
    Val r = c.t == V_STR && v.t != V_NULL ? (Val){V_BOOL, NULL, 0, 0, ip_in(c.s, v.s, v.n)} : none;
    vfree(&c);
    vfree(&v);
    return r;
  }
  if (!strcmp(f, "lower") || !strcmp(f, "LOWER")) {
    Val v = text_of(n->kids[0], d);
    if (v.t == V_STR) sg_fold(v.s, v.s, v.n);
    return v;
  }
  if (!strcmp(f, "len")) {
    Val v = text_of(n->kids[0], d);
    Val r = v.t == V_STR ? (Val){V_NUM, NULL, 0, (double)chars(v.s, v.n), false} : none;
    vfree(&v);
    return r;
  }
  if (!strcmp(f, "neg")) {
    Val v = ev(n->kids[0], d, t);
    if (v.t == V_NUM) v.d = -v.d;
    return v;
  }
  if (!strcmp(f, "substr")) {
    Val s = text_of(n->kids[0], d), st = ev(n->kids[1], d, t), ln = {V_NULL, NULL, 0, 0, false};
    if (n->n > 2) ln = ev(n->kids[2], d, t);
    Val r = none;
    if (s.t == V_STR && st.t == V_NUM && (n->n < 3 || ln.t == V_NUM)) {
      long nc = (long)chars(s.s, s.n), from = (long)st.d;
      from = from < 0 ? nc + from : from - 1; /* Splunk: 1-based; negative counts from the end */
      if (from < 0) from = 0;
      long cnt = n->n > 2 ? (long)ln.d : nc - from;
      if (from > nc) from = nc;
      if (cnt < 0) cnt = 0;
      if (from + cnt > nc) cnt = nc - from;
      size_t a = char_off(s.s, s.n, (size_t)from), b = char_off(s.s, s.n, (size_t)(from + cnt));
      r = vstr(s.s + a, b - a);
    }
    vfree(&s);
    vfree(&st);
    vfree(&ln);
    return r;
  }
  return none;
}

static Tri truth(const Val *v) { return v->t == V_BOOL ? (v->b ? YES : NO) : UNKNOWN; }

/* Compare two values with `op` (SQL / eval): NULL when either is absent; a
 * string and a number compare as numbers when the string is one. */
static Tri compare(const char *op, Val *a, Val *b) {
  if (a->t == V_NULL || b->t == V_NULL) return UNKNOWN;
  int c;
  if (a->t == V_NUM || b->t == V_NUM) {
    double x = a->d, y = b->d;
    if (a->t == V_STR && !is_number(a->s, a->n, &x)) return NO;
    if (b->t == V_STR && !is_number(b->s, b->n, &y)) return NO;
    c = x < y ? -1 : x > y;
  } else if (a->t == V_STR && b->t == V_STR) {
    size_t m = a->n < b->n ? a->n : b->n;
    c = memcmp(a->s, b->s, m);
    if (!c) c = a->n < b->n ? -1 : a->n > b->n;
  } else if (a->t == V_BOOL || b->t == V_BOOL) { /* a boolean property: its text is true or false */
    const Val *s = a->t == V_STR ? a : b, *x = a->t == V_BOOL ? a : b;
    if (s->t != V_STR) return UNKNOWN;
    const char *w = x->b ? "true" : "false";
    c = !(s->n == strlen(w) && !sg_ascii_ncasecmp(s->s, w, s->n));
  } else {
    return UNKNOWN;
  }
  if (!strcmp(op, "=")) return c == 0 ? YES : NO;
  if (!strcmp(op, "!=") || !strcmp(op, "<>")) return c != 0 ? YES : NO;
  if (!strcmp(op, "<")) return c < 0 ? YES : NO;
  if (!strcmp(op, "<=")) return c <= 0 ? YES : NO;
  if (!strcmp(op, ">")) return c > 0 ? YES : NO;
  return c >= 0 ? YES : NO;
}

/* An expression's value; *t is its truth (three-valued) for boolean contexts. */
static Val ev(const Node *n, const SgJDoc *d, Tri *t) {
  Val none = {V_NULL, NULL, 0, 0, false};
  *t = UNKNOWN;
  switch (n->k) {
  case K_STR:
    if (n->isbool) return (Val){V_BOOL, NULL, 0, 0, !strcmp(n->s, "true")};
    return vstr(n->s, strlen(n->s));
  case K_NUM: return (Val){V_NUM, NULL, 0, n->num, false};
  case K_FIELD: return text_of(n, d);
  case K_RAW: return none;
  case K_CALL: {
    Val v = call(n, d, t);
    *t = truth(&v);
    return v;
  }
  case K_NOT: {
    Tri k;
    Val v = ev(n->kids[0], d, &k);
    vfree(&v);
    *t = t_not(k);
    return none;
  }
  case K_AND:
  case K_OR: {
    bool and = n->k == K_AND;
    Tri r = and? YES : NO;
    for (size_t i = 0; i < n->n; i++) {
      Tri k;
      Val v = ev(n->kids[i], d, &k);
      vfree(&v);
      if (and&&k == NO) r = NO;
      if (!and&&k == YES) r = YES;
      if (k == UNKNOWN && r != (and? NO : YES)) r = UNKNOWN;
    }
    *t = r;
    return none;
  }
  case K_CMP: {
    Tri ta, tb;
    if (n->kids[0]->k == K_FIELD && n->kids[1]->k != K_FIELD) { /* any value; <> and != negate = */
      bool ne = !strcmp(n->s, "<>") || !strcmp(n->s, "!=");
      const SgJLeaf *vals[64];
      size_t nv = field_values(d, n->kids[0]->s, vals, 64);
      Val b = ev(n->kids[1], d, &tb);
      *t = nv ? NO : UNKNOWN;
      for (size_t i = 0; i < nv && *t != YES; i++) {
        Val a = vstr(d->text + vals[i]->val, vals[i]->vallen);
        if (compare(ne ? "=" : n->s, &a, &b) == YES) *t = YES;
        vfree(&a);
      }
      vfree(&b);
      if (ne) *t = t_not(*t);
      return none;
    }
    Val a = ev(n->kids[0], d, &ta), b = ev(n->kids[1], d, &tb);
    *t = compare(n->s, &a, &b);
    vfree(&a);
    vfree(&b);
    return none;
  }
  case K_LIKE:
  case K_MATCH: {
    bool (*test)(const Node *, const char *, size_t) = n->k == K_LIKE ? like_ok : matches_ok;
    const Node *x = n->kids[0];
    Node lowered = *n; /* lower(f) LIKE: each value of f folded */
    if (n->k == K_LIKE && x->k == K_CALL && !strcmp(x->s, "lower") &&
        (x->kids[0]->k == K_RAW || x->kids[0]->k == K_FIELD)) {
      x = x->kids[0];
      lowered.lower_value = true;
      n = &lowered;
    }
    if (x->k == K_RAW) {
      *t = over_raw(n, d, test);
    } else if (x->k == K_FIELD) {
      const SgJLeaf *vals[64];
      size_t nv = field_values(d, x->s, vals, 64);
      *t = nv ? NO : UNKNOWN;
      for (size_t i = 0; i < nv && *t != YES; i++)
        if (test(n, d->text + vals[i]->val, vals[i]->vallen)) *t = YES;
    } else {
      Val v = text_of(n->kids[0], d);
      *t = v.t == V_NULL ? UNKNOWN : test(n, v.s, v.n) ? YES : NO;
      vfree(&v);
    }
    if (n->neg) *t = t_not(*t);
    return none;
  }
  case K_IN: { /* any value of the left side equals an item */
    const SgJLeaf *vals[64];
    Val one[64];
    size_t nv = 0;
    if (n->kids[0]->k == K_FIELD) {
      nv = field_values(d, n->kids[0]->s, vals, 64);
      for (size_t i = 0; i < nv; i++)
        one[i] = vstr(d->text + vals[i]->val, vals[i]->vallen);
    } else if (n->kids[0]->k == K_CALL && !sg_ascii_casecmp(n->kids[0]->s, "lower") &&
               n->kids[0]->kids[0]->k == K_FIELD) {
      nv = field_values(d, n->kids[0]->kids[0]->s, vals, 64);
      for (size_t i = 0; i < nv; i++) {
        one[i] = vstr(d->text + vals[i]->val, vals[i]->vallen);
        sg_fold(one[i].s, one[i].s, one[i].n);
      }
    } else {
      Tri ta;
      one[0] = ev(n->kids[0], d, &ta);
      nv = one[0].t != V_NULL;
    }
    Tri r = nv ? NO : UNKNOWN;
    for (size_t v = 0; v < nv; v++) {
      for (size_t i = 1; r != YES && i < n->n; i++) {
        Tri tb;
        Val b = ev(n->kids[i], d, &tb);
        if (compare("=", &one[v], &b) == YES) r = YES;
        vfree(&b);
      }
      vfree(&one[v]);
    }
    *t = n->neg ? t_not(r) : r;
    return none;
  }
  case K_NULL: {
    Val v = text_of(n->kids[0], d);
    *t = (v.t == V_NULL) != n->neg ? YES : NO;
    vfree(&v);
    return none;
  }
  default: return none;
  }
}

bool om_matches(const OmQuery *q, const SgJDoc *doc) {
  for (size_t i = 0; i < q->n; i++) {
    const Stage *s = &q->st[i];
    if (s->re) {
      const SgJLeaf *vals[64];
      size_t nv = field_values(doc, s->field, vals, 64);
      bool hit = false;
      for (size_t v = 0; v < nv && !hit; v++)
        hit = re_ok(s->re, doc->text + vals[v]->val, vals[v]->vallen);
      if (s->neg ? hit : !hit) return false;
      continue;
    }
    if (q->lang == OM_SPL && i == 0) {
      if (!search(s->where, doc)) return false;
      continue;
    }
    Tri t;
    Val v = ev(s->where, doc, &t);
    vfree(&v);
    if (t != YES) return false;
  }
  return true;
}
