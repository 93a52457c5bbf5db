/* jinja_parse.c - the parser of the subset of Jinja2 that pySigma's `template` postprocessing and
 * finalizer use in real pipelines: `{{ expression }}`, `{% if %}/{% elif %}/
 * {% else %}/{% endif %}`, `{% for x in list %}...{% endfor %}` with `loop`,
 * `{% set name = expression %}` (scoped as Jinja scopes it: a loop body is its
 * own scope, an if is not), `{# comments #}` and `-` whitespace control;
 * expressions with names, attributes, `[index]`, string/number/list literals,
 * `a if cond else b`, `==`, `!=`, `<`, `>`, `<=`, `>=`, `in`, `not in`, `and`,
 * `or`, `not`, the methods get, lower, upper, strip, startswith, endswith,
 * replace and a date's strftime (%Y %m %d %y %%), and the filters length,
 * count, upper, lower, trim, join, default, replace, first, last, string,
 * indent. Values render as Jinja renders Python values (lists and dicts as
 * their repr, dates as YYYY-MM-DD). Anything else is a located error when the
 * pipeline loads.
 * As Jinja's defaults: no trim_blocks, no lstrip_blocks, and one newline at
 * the end of the template is dropped.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"

/* ==== Templates ====================================================================== */

typedef struct JParser {
  SgArena *a;
  const char *s, *p;
  const char *err;
  const char *where;
  unsigned depth; /* of the parser's recursion */
  unsigned nest;  /* if/for blocks open */
  unsigned nsets; /* {% set %} statements */
} JParser;

static JNode *jnode(JParser *P, NKind k) {
  JNode *n = sg_arena_alloc(P->a, sizeof *n);
  if (n) n->k = k;
  if (!n) P->err = "out of memory";
  return n;
}

/* Arena arrays grow by doubling: a full array is one whose length is a power
 * of two (0 included), and it moves to twice the room. Appending n items
 * costs O(n) time and memory (copying on every append cost O(n^2): a 660 KB
 * template took 140 s and 14 GB). */
static bool full(size_t n) { return (n & (n - 1)) == 0; }

static void *grow(JParser *P, void *v, size_t n, size_t size) {
  if (!full(n)) return v;
  void *x = sg_arena_alloc(P->a, (n ? 2 * n : 1) * size);
  if (!x) {
    P->err = "out of memory";
    return NULL;
  }
  if (n) memcpy(x, v, n * size);
  return x;
}

static void jadd(JParser *P, JNode ***v, size_t *n, JNode *k) {
  JNode **x = grow(P, *v, *n, sizeof *x);
  if (!x) return;
  x[(*n)++] = k;
  *v = x;
}

/* One more branch body of an if (or the body of a for). */
static bool add_body(JParser *P, JNode *f, JNode **b, size_t nb) {
  JNode ***bodies = grow(P, f->bodies, f->nbodies, sizeof *bodies);
  size_t *nbody = bodies ? grow(P, f->nbody, f->nbodies, sizeof *nbody) : NULL;
  if (!nbody) return false;
  bodies[f->nbodies] = b;
  nbody[f->nbodies++] = nb;
  f->bodies = bodies;
  f->nbody = nbody;
  return true;
}

/* k becomes the last child of n; the tree may not grow deeper than the limit. */
static void kid(JParser *P, JNode *n, JNode *k) {
  if (k->depth + 1 > n->depth) n->depth = k->depth + 1;
  if (n->depth > MAX_EXPR_DEPTH) {
    P->err = "the expression is nested too deeply";
    return;
  }
  jadd(P, &n->kids, &n->n, k);
}

/* ---- expression tokens (inside {{ }} and {% %}) ---- */

typedef struct ETok {
  const char *p, *end;
} ETok;

static void ws(ETok *t) {
  while (t->p < t->end && strchr(" \t\r\n", *t->p))
    t->p++;
}

static bool word(ETok *t, const char *w) {
  ws(t);
  size_t n = strlen(w);
  if ((size_t)(t->end - t->p) < n || strncmp(t->p, w, n)) return false;
  char c = t->p + n < t->end ? t->p[n] : ' ';
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') return false;
  t->p += n;
  return true;
}

static bool sym(ETok *t, const char *w) {
  ws(t);
  size_t n = strlen(w);
  if ((size_t)(t->end - t->p) < n || strncmp(t->p, w, n)) return false;
  t->p += n;
  return true;
}

static const char *ident(JParser *P, ETok *t) {
  ws(t);
  const char *s = t->p;
  while (t->p < t->end && ((*t->p >= 'a' && *t->p <= 'z') || (*t->p >= 'A' && *t->p <= 'Z') || *t->p == '_' ||
                           (t->p > s && *t->p >= '0' && *t->p <= '9')))
    t->p++;
  return t->p > s ? sg_arena_strndup(P->a, s, (size_t)(t->p - s)) : NULL;
}

static JNode *expr(JParser *P, ETok *t);

static const char *const filters[] = {"length", "upper", "lower",  "trim",  "join",   "default", "replace",
                                      "first",  "last",  "string", "count", "indent", NULL};

static JNode *primary(JParser *P, ETok *t) {
  ws(t);
  if (t->p >= t->end) return P->err = "an expression ends early", NULL;
  char c = *t->p;
  if (c == '\'' || c == '"') {
    const char *s = ++t->p;
    while (t->p < t->end && *t->p != c)
      t->p++;
    if (t->p >= t->end) return P->err = "a string does not close", NULL;
    JNode *n = jnode(P, E_STR);
    if (n) n->text = sg_arena_strndup(P->a, s, (size_t)(t->p - s));
    t->p++;
    return n;
  }
  if ((c >= '0' && c <= '9') || c == '-') {
    char *end;
    double d = strtod(t->p, &end);
    if (end == t->p) return P->err = "a number is malformed", NULL;
    t->p = end;
    JNode *n = jnode(P, E_NUM);
    if (n) n->num = d;
    return n;
  }
  if (sym(t, "(")) {
    JNode *e = expr(P, t);
    if (e && !sym(t, ")")) return P->err = "')' expected", NULL;
    return e;
  }
  if (sym(t, "[")) {
    JNode *l = jnode(P, E_LIST);
    if (!l) return NULL;
    if (!sym(t, "]")) {
      do {
        JNode *e = expr(P, t);
        if (!e) return NULL;
        kid(P, l, e);
      } while (sym(t, ","));
      if (!sym(t, "]")) return P->err = "']' expected", NULL;
    }
    return l;
  }
  static const char *const consts[] = {"true", "True", "false", "False", "none", "None"};
  for (size_t i = 0; i < 6; i++)
    if (word(t, consts[i])) {
      JNode *n = jnode(P, E_CONST);
      if (n) {
        n->cval = i < 2;
        n->text = i >= 4 ? "none" : NULL;
      }
      return n;
    }
  const char *name = ident(P, t);
  if (!name) return P->err = "a name, string, number or list expected", NULL;
  JNode *n = jnode(P, E_NAME);
  if (n) n->name = name;
  return n;
}

/* The methods of the subset: name, fewest and most arguments. */
static const struct {
  const char *name;
  size_t min, max;
} methods[] = {{"get", 1, 2},        {"lower", 0, 0},    {"upper", 0, 0},   {"strip", 0, 0},
               {"startswith", 1, 1}, {"endswith", 1, 1}, {"replace", 2, 2}, {"strftime", 1, 1}};

/* strftime's directives we render; a literal format is checked as the template loads. */
static bool strftime_ok(const char *f) {
  for (; *f; f++)
    if (*f == '%' && !strchr("Ymdy%", *++f)) return false;
  return true;
}

/* obj.name(args), the '(' read */
static JNode *method(JParser *P, ETok *t, JNode *obj, const char *name) {
  size_t m = 0, nm = sizeof methods / sizeof *methods;
  while (m < nm && strcmp(methods[m].name, name))
    m++;
  if (m == nm)
    return P->err = sg_arena_printf(P->a,
                                    "method '%s' is not supported (get, lower, upper, strip, startswith, "
                                    "endswith, replace, strftime)",
                                    name),
           NULL;
  JNode *c = jnode(P, E_CALL);
  if (!c) return NULL;
  c->name = name;
  kid(P, c, obj);
  if (!sym(t, ")")) {
    do {
      JNode *e = expr(P, t);
      if (!e) return NULL;
      kid(P, c, e);
    } while (sym(t, ","));
    if (!sym(t, ")")) return P->err = "')' expected after the method's arguments", NULL;
  }
  if (c->n - 1 < methods[m].min || c->n - 1 > methods[m].max)
    return P->err =
               sg_arena_printf(P->a, "%s() takes %zu to %zu arguments", name, methods[m].min, methods[m].max),
           NULL;
  if (!strcmp(name, "strftime") && (c->kids[1]->k != E_STR || !strftime_ok(c->kids[1]->text)))
    return P->err = "strftime() takes a literal format of %Y, %m, %d, %y and %%", NULL;
  return c;
}

static JNode *postfix(JParser *P, ETok *t) {
  JNode *n = primary(P, t);
  while (n) {
    if (sym(t, ".")) {
      const char *name = ident(P, t);
      if (!name) return P->err = "an attribute name expected after '.'", NULL;
      if (sym(t, "(")) {
        n = method(P, t, n, name);
        continue;
      }
      JNode *at = jnode(P, E_ATTR);
      if (!at) return NULL;
      at->name = name;
      kid(P, at, n);
      n = at;
    } else if (sym(t, "[")) {
      JNode *ix = jnode(P, E_INDEX);
      JNode *e = ix ? expr(P, t) : NULL;
      if (!e || !sym(t, "]")) return P->err = P->err ? P->err : "']' expected", NULL;
      kid(P, ix, n);
      kid(P, ix, e);
      n = ix;
    } else if (sym(t, "(")) {
      return P->err = "function calls are not supported (methods are)", NULL;
    } else {
      break;
    }
  }
  return n;
}

static JNode *filtered(JParser *P, ETok *t) {
  JNode *n = postfix(P, t);
  while (n) {
    ws(t);
    if (t->p < t->end && *t->p == '|' && !(t->p + 1 < t->end && t->p[1] == '|')) {
      t->p++;
      const char *name = ident(P, t);
      bool known = false;
      for (size_t i = 0; name && filters[i]; i++)
        known = known || !strcmp(filters[i], name);
      if (!known) {
        P->err = sg_arena_printf(P->a,
                                 "filter '%s' is not supported (supported: length, upper, lower, trim, join, "
                                 "default, replace, first, last, string, count, indent)",
                                 name ? name : "?");
        return NULL;
      }
      JNode *f = jnode(P, E_FILTER);
      if (!f) return NULL;
      f->name = name;
      kid(P, f, n);
      if (sym(t, "(") && !sym(t, ")")) {
        do {
          JNode *e = expr(P, t);
          if (!e) return NULL;
          kid(P, f, e);
        } while (sym(t, ","));
        if (!sym(t, ")")) return P->err = "')' expected after the filter's arguments", NULL;
      }
      n = f;
      continue;
    }
    break;
  }
  return n;
}

static JNode *comparison(JParser *P, ETok *t) {
  JNode *l = filtered(P, t);
  if (!l) return NULL;
  static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">", NULL};
  const char *op = NULL;
  for (size_t i = 0; ops[i] && !op; i++)
    if (sym(t, ops[i])) op = ops[i];
  if (!op) {
    const char *save = t->p;
    if (word(t, "not") && word(t, "in"))
      op = "not in";
    else if ((t->p = save, word(t, "in")))
      op = "in";
    else
      t->p = save;
  }
  if (!op) return l;
  JNode *r = filtered(P, t), *c = r ? jnode(P, E_CMP) : NULL;
  if (!c) return NULL;
  c->name = op;
  kid(P, c, l);
  kid(P, c, r);
  return c;
}

static JNode *not_expr(JParser *P, ETok *t) {
  if (word(t, "not")) {
    if (++P->depth > MAX_EXPR_DEPTH) return P->err = "the expression is nested too deeply", NULL;
    JNode *k = not_expr(P, t), *n = k ? jnode(P, E_NOT) : NULL;
    P->depth--;
    if (n) kid(P, n, k);
    return P->err ? NULL : n;
  }
  return comparison(P, t);
}

static JNode *chain(JParser *P, ETok *t, const char *kw, NKind k, JNode *(*sub)(JParser *, ETok *)) {
  JNode *l = sub(P, t);
  while (l && word(t, kw)) {
    JNode *r = sub(P, t), *n = r ? jnode(P, k) : NULL;
    if (!n) return NULL;
    kid(P, n, l);
    kid(P, n, r);
    l = n;
  }
  return l;
}
static JNode *and_expr(JParser *P, ETok *t) { return chain(P, t, "and", E_AND, not_expr); }
static JNode *or_expr(JParser *P, ETok *t) { return chain(P, t, "or", E_OR, and_expr); }

/* a if cond [else b] */
static JNode *cond_expr(JParser *P, ETok *t);

static JNode *expr(JParser *P, ETok *t) {
  if (++P->depth > MAX_EXPR_DEPTH) return P->err = "the expression is nested too deeply", NULL;
  JNode *n = cond_expr(P, t);
  P->depth--;
  return P->err ? NULL : n;
}

static JNode *cond_expr(JParser *P, ETok *t) {
  JNode *n = or_expr(P, t);
  while (n && word(t, "if")) {
    JNode *c = jnode(P, E_COND), *cond = c ? or_expr(P, t) : NULL;
    if (!cond) return NULL;
    kid(P, c, n);
    kid(P, c, cond);
    if (word(t, "else")) {
      JNode *e = or_expr(P, t);
      if (!e) return NULL;
      kid(P, c, e);
    }
    n = c;
  }
  return n;
}

static JNode *whole_expr(JParser *P, const char *s, const char *e) {
  ETok t = {s, e};
  JNode *n = expr(P, &t);
  ws(&t);
  if (P->err) return NULL;
  if (n && t.p < t.end)
    return P->err = sg_arena_printf(P->a, "unexpected '%.*s'", (int)(t.end - t.p), t.p), NULL;
  return n;
}

/* ---- blocks ---- */

typedef struct Tag {
  char kind;               /* '{' expression, '%' statement, '#' comment, 0 end */
  const char *start, *end; /* inside the delimiters, '-' markers excluded */
  const char *after;       /* the text after the tag */
  bool trim_before, trim_after;
} Tag;

/* The next tag at or after p; the text before it is [p, tag.start - delimiter). */
static const char *next_tag(const char *p, Tag *tag) {
  for (const char *q = p; *q; q++) {
    if (q[0] != '{' || (q[1] != '{' && q[1] != '%' && q[1] != '#')) continue;
    char open = q[1];
    const char *close = open == '{' ? "}}" : open == '%' ? "%}" : "#}";
    const char *e = strstr(q + 2, close);
    if (!e) return NULL;
    tag->kind = open;
    tag->start = q + 2;
    tag->end = e;
    tag->trim_before = *tag->start == '-';
    if (tag->trim_before) tag->start++;
    tag->trim_after = tag->end > tag->start && tag->end[-1] == '-';
    if (tag->trim_after) tag->end--;
    tag->after = e + 2;
    return q;
  }
  tag->kind = 0;
  return p + strlen(p);
}

static JNode **block(JParser *P, size_t *n, const char **stop);

/* The body of an if or a for. */
static JNode **nested_block(JParser *P, size_t *n, const char **stop) {
  if (++P->nest > MAX_BLOCK_DEPTH) return P->err = "if and for are nested too deeply", NULL;
  JNode **b = block(P, n, stop);
  P->nest--;
  return b;
}

static void text_node(JParser *P, JNode ***v, size_t *n, const char *s, size_t len) {
  if (!len) return;
  JNode *t = jnode(P, N_TEXT);
  if (!t) return;
  t->text = s;
  t->len = len;
  jadd(P, v, n, t);
}

/* Parse until a statement among `stop` ("elif", "else", "endif", "endfor"); *stop is set to it. */
static JNode **block(JParser *P, size_t *n, const char **stop) {
  JNode **v = NULL;
  *n = 0;
  while (!P->err) {
    Tag tag;
    const char *at = next_tag(P->p, &tag);
    if (!at) return P->err = "a tag does not close", NULL;
    size_t len = (size_t)(at - P->p);
    if (tag.kind && tag.trim_before)
      while (len && strchr(" \t\r\n", P->p[len - 1]))
        len--;
    text_node(P, &v, n, P->p, len);
    if (!tag.kind) {
      P->p = at;
      if (stop) *stop = NULL;
      return v;
    }
    P->p = tag.after;
    if (tag.trim_after)
      while (*P->p && strchr(" \t\r\n", *P->p))
        P->p++;
    P->where = at;
    if (tag.kind == '#') continue;
    if (tag.kind == '{') {
      JNode *o = jnode(P, N_OUT), *e = o ? whole_expr(P, tag.start, tag.end) : NULL;
      if (!e) return NULL;
      kid(P, o, e);
      jadd(P, &v, n, o);
      continue;
    }
    ETok t = {tag.start, tag.end};
    if (word(&t, "if")) {
      JNode *f = jnode(P, N_IF);
      if (!f) return NULL;
      const char *cond_s = t.p, *end = tag.end, *st = NULL;
      for (;;) {
        JNode *c = cond_s ? whole_expr(P, cond_s, end) : NULL;
        if (cond_s && !c) return NULL;
        if (c) kid(P, f, c);
        size_t nb;
        JNode **b = nested_block(P, &nb, &st);
        if (P->err) return NULL;
        if (!add_body(P, f, b, nb)) return NULL;
        if (!st) return P->err = "{% if %} without {% endif %}", NULL;
        if (!strncmp(st, "endif", 5)) break;
        if (!cond_s) return P->err = "{% else %} is followed by another branch", NULL;
        if (!strncmp(st, "elif", 4)) {
          cond_s = st + 4;
          end = st + strlen(st);
        } else if (!strncmp(st, "else", 4)) {
          cond_s = NULL;
        } else {
          return P->err = sg_arena_printf(P->a, "{%% %s %%} inside {%% if %%}", st), NULL;
        }
      }
      jadd(P, &v, n, f);
      continue;
    }
    if (word(&t, "for")) {
      JNode *f = jnode(P, N_FOR);
      if (!f) return NULL;
      f->var = ident(P, &t);
      if (!f->var || !word(&t, "in")) return P->err = "{% for NAME in LIST %} expected", NULL;
      JNode *it = whole_expr(P, t.p, tag.end);
      if (!it) return NULL;
      kid(P, f, it);
      const char *st = NULL;
      size_t nb;
      JNode **b = nested_block(P, &nb, &st);
      if (P->err) return NULL;
      if (!st || strncmp(st, "endfor", 6)) return P->err = "{% for %} without {% endfor %}", NULL;
      if (!add_body(P, f, b, nb)) return NULL;
      jadd(P, &v, n, f);
      continue;
    }
    if (word(&t, "set")) {
      if (++P->nsets > MAX_SETS) return P->err = "more than 256 {% set %} statements", NULL;
      JNode *st = jnode(P, N_SET);
      if (!st) return NULL;
      st->var = ident(P, &t);
      if (!st->var || !sym(&t, "=")) return P->err = "{% set NAME = EXPRESSION %} expected", NULL;
      JNode *e = whole_expr(P, t.p, tag.end);
      if (!e) return NULL;
      kid(P, st, e);
      jadd(P, &v, n, st);
      continue;
    }
    static const char *const ends[] = {"elif", "else", "endif", "endfor", NULL};
    for (size_t i = 0; ends[i]; i++)
      if (word(&t, ends[i])) {
        if (!stop) return P->err = sg_arena_printf(P->a, "{%% %s %%} without its opening tag", ends[i]), NULL;
        *stop = sg_arena_strndup(P->a, t.p - strlen(ends[i]), (size_t)(tag.end - t.p) + strlen(ends[i]));
        return v;
      }
    ws(&t);
    return P->err =
               sg_arena_printf(P->a, "statement '{%% %.*s %%}' is not supported (if, elif, else, for, set)",
                               (int)(tag.end - t.p), t.p),
           NULL;
  }
  return NULL;
}

SgJinja *sg_jinja_parse(SgArena *a, const char *src, const SgYNode *vars, const char **err, size_t *err_off) {
  size_t len = strlen(src);
  char *s =
      sg_arena_strndup(a, src, len && src[len - 1] == '\n' ? len - 1 : len); /* keep_trailing_newline=False */
  SgJinja *j = sg_arena_alloc(a, sizeof *j);
  if (!s || !j) {
    *err = "out of memory";
    *err_off = 0;
    return NULL;
  }
  j->vars = vars;
  JParser P = {.a = a, .s = s, .p = s};
  const char *stop = NULL;
  j->body = block(&P, &j->n, &stop);
  if (!P.err && stop) P.err = sg_arena_printf(a, "{%% %s %%} without its opening tag", stop);
  if (P.err) {
    *err = P.err;
    *err_off = P.where ? (size_t)(P.where - s) : 0;
    return NULL;
  }
  return j;
}
