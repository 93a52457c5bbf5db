/* jinja.c - the subset of Jinja2 that pySigma's `template` postprocessing and
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

#include "pipeline.h"

/* ==== Values ======================================================================== */

typedef enum JKind { J_UNDEF, J_NONE, J_STR, J_NUM, J_BOOL, J_LIST, J_OBJ, J_ERR /* s: why */ } JKind;

typedef struct JVal JVal;
typedef struct JObj JObj; /* a named object: rule, pipeline, loop, a level, a dict */

struct JVal {
  JKind k;
  const char *s; /* STR (arena or static) */
  double d;
  bool b;
  JVal *items; /* LIST */
  size_t n;
  const JObj *o; /* OBJ */
};

struct JObj {
  /* attribute lookup; dict objects also answer .get() and iterate their keys */
  JVal (*attr)(const JObj *o, SgArena *a, const char *name);
  const char *(*repr)(const JObj *o, SgArena *a); /* how {{ o }} renders */
  const void *p;
  const SgYNode *dict; /* a YAML mapping seen as a dict (state, custom attributes) */
  const char **keys;   /* or a dict of string keys and values (custom attributes) */
  const SgYNode **vals;
  size_t n;
  long idx, len;    /* loop */
  const char *text; /* level: its name */
};

static JVal jstr(const char *s) { return (JVal){.k = J_STR, .s = s ? s : ""}; }
static JVal jundef(void) { return (JVal){.k = J_UNDEF}; }

static JVal from_yaml(SgArena *a, const SgYNode *y);

/* Python's repr of a string: single quotes, as Jinja shows lists and dicts. */
static void py_repr_str(SgBuf *b, const char *s) {
  bool dq = strchr(s, '\'') && !strchr(s, '"');
  sg_buf_catc(b, dq ? '"' : '\'');
  for (; *s; s++) {
    if (*s == '\\' || (*s == '\'' && !dq)) sg_buf_catc(b, '\\');
    if (*s == '\n')
      sg_buf_cat(b, "\\n");
    else
      sg_buf_catc(b, *s);
  }
  sg_buf_catc(b, dq ? '"' : '\'');
}

static void render(SgBuf *b, SgArena *a, const JVal *v, bool repr);

static void render(SgBuf *b, SgArena *a, const JVal *v, bool repr) {
  char num[64];
  switch (v->k) {
  case J_UNDEF:
  case J_ERR: return;
  case J_NONE: sg_buf_cat(b, "None"); return;
  case J_BOOL: sg_buf_cat(b, v->b ? "True" : "False"); return;
  case J_NUM:
    if (v->d == (double)(long long)v->d)
      snprintf(num, sizeof num, "%lld", (long long)v->d);
    else
      snprintf(num, sizeof num, "%.17g", v->d);
    sg_buf_cat(b, num);
    return;
  case J_STR:
    if (repr)
      py_repr_str(b, v->s);
    else
      sg_buf_cat(b, v->s);
    return;
  case J_LIST:
    sg_buf_catc(b, '[');
    for (size_t i = 0; i < v->n; i++) {
      if (i) sg_buf_cat(b, ", ");
      render(b, a, &v->items[i], true);
    }
    sg_buf_catc(b, ']');
    return;
  case J_OBJ: sg_buf_cat(b, v->o->repr ? v->o->repr(v->o, a) : ""); return;
  }
}

static bool truthy(const JVal *v) {
  switch (v->k) {
  case J_STR: return v->s[0] != '\0';
  case J_NUM: return v->d != 0;
  case J_BOOL: return v->b;
  case J_LIST: return v->n > 0;
  case J_OBJ: return true;
  default: return false;
  }
}

static char *text_of(SgArena *a, const JVal *v) {
  SgBuf b = {0};
  render(&b, a, v, false);
  char *s = sg_pl_buf_dup(a, &b);
  sg_buf_free(&b);
  return s ? s : "";
}

/* ---- dicts: pipeline state, custom attributes ---- */

static const char *dict_repr(const JObj *o, SgArena *a) {
  SgBuf b = {0};
  sg_buf_catc(&b, '{');
  for (size_t i = 0; i < o->n; i++) {
    if (i) sg_buf_cat(&b, ", ");
    py_repr_str(&b, o->keys[i]);
    sg_buf_cat(&b, ": ");
    JVal v = from_yaml(a, o->vals[i]);
    render(&b, a, &v, true);
  }
  sg_buf_catc(&b, '}');
  char *s = sg_pl_buf_dup(a, &b);
  sg_buf_free(&b);
  return s ? s : "";
}

static JVal dict_attr(const JObj *o, SgArena *a, const char *name) {
  for (size_t i = o->n; i-- > 0;) /* the last value set wins */
    if (!strcmp(o->keys[i], name)) return from_yaml(a, o->vals[i]);
  return jundef();
}

static JVal from_yaml(SgArena *a, const SgYNode *y) {
  if (!y) return (JVal){.k = J_NONE};
  if (y->kind == SG_Y_SEQ) {
    JVal l = {.k = J_LIST, .items = sg_arena_alloc(a, (y->n + 1) * sizeof(JVal)), .n = y->n};
    for (size_t i = 0; l.items && i < y->n; i++)
      l.items[i] = from_yaml(a, y->items[i]);
    return l;
  }
  if (y->kind == SG_Y_MAP) {
    JObj *o = sg_arena_alloc(a, sizeof *o);
    if (!o) return jundef();
    o->attr = dict_attr;
    o->repr = dict_repr;
    o->n = y->n;
    o->keys = sg_arena_alloc(a, (y->n + 1) * sizeof *o->keys);
    o->vals = sg_arena_alloc(a, (y->n + 1) * sizeof *o->vals);
    for (size_t i = 0; o->keys && o->vals && i < y->n; i++) {
      o->keys[i] = y->keys[i]->text;
      o->vals[i] = y->items[i];
    }
    return (JVal){.k = J_OBJ, .o = o};
  }
  switch (y->type) {
  case SG_YT_NULL: return (JVal){.k = J_NONE};
  case SG_YT_BOOL: return (JVal){.k = J_BOOL, .b = y->bval};
  case SG_YT_INT:
  case SG_YT_FLOAT: return (JVal){.k = J_NUM, .d = strtod(y->text, NULL)};
  default: return jstr(y->text);
  }
}

/* ---- the rule ---- */

static const char *level_repr(const JObj *o, SgArena *a) {
  (void)a;
  return o->text;
}

static JVal level_attr(const JObj *o, SgArena *a, const char *name) {
  if (strcmp(name, "name")) return jundef();
  char *up = sg_arena_strdup(a, o->text);
  for (char *p = up; p && *p; p++)
    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
  return jstr(up);
}

/* A rule's date: pySigma's datetime.date, shown as YYYY-MM-DD (the rule may write YYYY/M/D). */
static const char *date_repr(const JObj *o, SgArena *a) {
  (void)a;
  return o->text;
}

static JVal date_attr(const JObj *o, SgArena *a, const char *name) {
  (void)a;
  int y, m, d;
  if (sscanf(o->text, "%d-%d-%d", &y, &m, &d) != 3) return jundef();
  double v = !strcmp(name, "year") ? y : !strcmp(name, "month") ? m : !strcmp(name, "day") ? d : -1;
  return v < 0 ? jundef() : (JVal){.k = J_NUM, .d = v};
}

static JVal date_of(SgArena *a, const char *s) {
  int y, m, d;
  char s1, s2;
  JObj *o = sg_arena_alloc(a, sizeof *o);
  if (!o || sscanf(s, "%4d%c%2d%c%2d", &y, &s1, &m, &s2, &d) != 5) return jundef();
  o->attr = date_attr;
  o->repr = date_repr;
  o->text = sg_arena_printf(a, "%04d-%02d-%02d", y, m, d);
  return o->text ? (JVal){.k = J_OBJ, .o = o} : jundef();
}

static JVal strlist(SgArena *a, const SgStrList *l) {
  JVal v = {.k = J_LIST, .items = sg_arena_alloc(a, (l->n + 1) * sizeof(JVal)), .n = l->n};
  for (size_t i = 0; v.items && i < l->n; i++)
    v.items[i] = jstr(l->v[i]);
  return v;
}

static JVal opt_str(const char *s) { return s ? jstr(s) : (JVal){.k = J_NONE}; }

static JVal logsource_attr(const JObj *o, SgArena *a, const char *name) {
  (void)a;
  const SgLogsource *l = o->p;
  if (!strcmp(name, "category")) return opt_str(l->category);
  if (!strcmp(name, "product")) return opt_str(l->product);
  if (!strcmp(name, "service")) return opt_str(l->service);
  if (!strcmp(name, "definition")) return opt_str(l->definition);
  return jundef();
}

static JVal rule_attr(const JObj *o, SgArena *a, const char *name) {
  const SgRule *r = o->p;
  if (!strcmp(name, "logsource")) {
    JObj *l = sg_arena_alloc(a, sizeof *l); /* no repr: rendered whole it is an error */
    if (!l) return jundef();
    l->attr = logsource_attr;
    l->p = &r->logsource;
    return (JVal){.k = J_OBJ, .o = l};
  }
  static const char *const unmodelled[] = {"related", "scope", "detection", "source", "errors", NULL};
  for (size_t i = 0; unmodelled[i]; i++)
    if (!strcmp(name, unmodelled[i]))
      return (JVal){.k = J_ERR, .s = sg_arena_printf(a, "rule.%s is not supported in templates", name)};
  if (!strcmp(name, "level") || !strcmp(name, "status")) {
    const char *t = !strcmp(name, "level") ? r->level : r->status;
    if (!t) return (JVal){.k = J_NONE};
    JObj *lv = sg_arena_alloc(a, sizeof *lv);
    if (!lv) return jundef();
    lv->attr = level_attr;
    lv->repr = level_repr;
    lv->text = t;
    return (JVal){.k = J_OBJ, .o = lv};
  }
  if (!strcmp(name, "date") || !strcmp(name, "modified")) {
    const char *d = name[0] == 'd' ? r->date : r->modified; /* validated when the rule loaded */
    return d ? date_of(a, d) : (JVal){.k = J_NONE};
  }
  if (!strcmp(name, "tags")) return strlist(a, &r->tags);
  if (!strcmp(name, "fields")) return strlist(a, &r->fields);
  if (!strcmp(name, "falsepositives")) return strlist(a, &r->falsepositives);
  if (!strcmp(name, "references")) return strlist(a, &r->references);
  if (!strcmp(name, "custom_attributes")) {
    JObj *d = sg_arena_alloc(a, sizeof *d);
    if (!d) return jundef();
    d->attr = dict_attr;
    d->repr = dict_repr;
    d->n = r->ncustom;
    d->keys = sg_arena_alloc(a, (r->ncustom + 1) * sizeof *d->keys);
    d->vals = sg_arena_alloc(a, (r->ncustom + 1) * sizeof *d->vals);
    for (size_t i = 0; d->keys && d->vals && i < r->ncustom; i++) {
      d->keys[i] = r->custom[i].key;
      d->vals[i] = r->custom[i].val;
    }
    return (JVal){.k = J_OBJ, .o = d};
  }
  const char *s = sg_rule_attr(r, name);
  if (!s) return (JVal){.k = J_NONE};
  char *flat = sg_arena_strdup(a, s); /* a rule's text is data: it cannot add a line */
  for (char *p = flat; p && *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
  return jstr(flat ? flat : "");
}

static const char *rule_repr(const JObj *o, SgArena *a) {
  (void)a;
  const SgRule *r = o->p;
  return r->title ? r->title : "";
}

/* ==== Templates ====================================================================== */

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

struct SgJinja {
  JNode **body;
  size_t n;
  const SgYNode *vars; /* the pipeline's */
};

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

/* ==== Rendering ======================================================================== */

/* Variables: the template's scope, and one per loop iteration (Jinja: a
 * {% set %} in a loop body does not outlive the iteration; in an if it does). */
typedef struct Var {
  const char *name;
  JVal v;
  struct Var *next;
} Var;

/* One rendering: its first error (Jinja raises where it is set) and the work
 * done, bounded (loops may nest and strings may grow with each iteration). */
typedef struct Render {
  const char *err;
  size_t steps;
} Render;

enum { MAX_STEPS = 1000000 };
#define MAX_OUTPUT ((size_t)64 << 20)
#define MAX_MEMORY ((size_t)64 << 20)

typedef struct Scope {
  Var *vars;
  const struct Scope *up;
  Render *rn;
} Scope;

static JVal fail(const Scope *sc, const char *why) {
  if (!sc->rn->err) sc->rn->err = why ? why : "out of memory";
  return jundef();
}

/* Within the budget with `more` bytes being built (a filter's result)?
 * Past a limit, an error that names it. Every byte a filter makes counts,
 * before it is made: a chain of replace() cannot grow past the limit. */
static bool within(SgArena *a, const Scope *sc, const SgBuf *out, size_t more) {
  if (sc->rn->err) return false;
  const char *why = sc->rn->steps > MAX_STEPS          ? "the template takes more than 1,000,000 steps"
                    : out && out->len > MAX_OUTPUT     ? "the template writes more than 64 MiB"
                    : a->bytes + more > MAX_MEMORY     ? "the template's values take more than 64 MiB of memory"
                                                       : NULL;
  if (why) fail(sc, why);
  return !why;
}

/* One more step of rendering; false (an error) once past a limit. */
static bool step(SgArena *a, const Scope *sc, const SgBuf *out) {
  ++sc->rn->steps;
  return within(a, sc, out, 0);
}

static void bind(SgArena *a, Scope *sc, const char *name, JVal v) {
  for (Var *x = sc->vars; x; x = x->next)
    if (!strcmp(x->name, name)) {
      x->v = v;
      return;
    }
  Var *x = sg_arena_alloc(a, sizeof *x); /* out of memory: the arena fails the render */
  if (!x) return;
  *x = (Var){name, v, sc->vars};
  sc->vars = x;
}

static JVal eval(SgArena *a, const JNode *n, const Scope *sc);

static JVal attr_of(SgArena *a, const JVal *v, const char *name) {
  if (v->k == J_OBJ && v->o->attr) return v->o->attr(v->o, a, name);
  return jundef();
}

static bool equal(const JVal *x, const JVal *y) {
  if (x->k == J_NUM && y->k == J_NUM) return x->d == y->d;
  if ((x->k == J_STR || x->k == J_OBJ) && (y->k == J_STR || y->k == J_OBJ)) {
    if (x->k == J_OBJ || y->k == J_OBJ) return false; /* an enum is not its name */
    return !strcmp(x->s, y->s);
  }
  if (x->k == J_BOOL && y->k == J_BOOL) return x->b == y->b;
  if (x->k == J_NONE && y->k == J_NONE) return true;
  return false;
}

/* Where f[0..fl) (fl > 0) first occurs in s[0..n), or n: memchr then memcmp,
 * never rereading the rest of s (strstr may, and a sanitizer's strstr measures
 * all of s at each call: quadratic over a long text). */
static size_t find(const char *s, size_t n, const char *f, size_t fl) {
  for (const char *p = s, *end = s + n; (size_t)(end - p) >= fl && (p = memchr(p, f[0], (size_t)(end - p) - fl + 1));
       p++)
    if (!memcmp(p, f, fl)) return (size_t)(p - s);
  return n;
}

static JVal filter(SgArena *a, const JNode *n, const Scope *sc) {
  JVal v = eval(a, n->kids[0], sc);
  const char *f = n->name;
  JVal arg1 = n->n > 1 ? eval(a, n->kids[1], sc) : jundef(),
       arg2 = n->n > 2 ? eval(a, n->kids[2], sc) : jundef();
  if (!strcmp(f, "length") || !strcmp(f, "count")) {
    double len = v.k == J_LIST  ? (double)v.n
                 : v.k == J_STR ? (double)strlen(v.s)
                 : v.k == J_OBJ ? (double)v.o->n
                                : 0;
    return (JVal){.k = J_NUM, .d = len};
  }
  if (!strcmp(f, "default")) return v.k == J_UNDEF ? arg1 : v;
  if (!strcmp(f, "first") || !strcmp(f, "last")) {
    if (v.k != J_LIST || !v.n) return jundef();
    return v.items[!strcmp(f, "first") ? 0 : v.n - 1];
  }
  if (!strcmp(f, "join")) {
    SgBuf b = {0};
    const char *sep = arg1.k == J_STR ? arg1.s : "";
    for (size_t i = 0; v.k == J_LIST && i < v.n && within(a, sc, NULL, b.len); i++) {
      if (i) sg_buf_cat(&b, sep);
      render(&b, a, &v.items[i], false);
    }
    char *s = sg_pl_buf_dup(a, &b);
    sg_buf_free(&b);
    return jstr(s);
  }
  char *s = text_of(a, &v);
  if (!strcmp(f, "string")) return jstr(s);
  if (!strcmp(f, "indent")) { /* indent(width=4, first=False, blank=False): lines after the first */
    JVal blank = n->n > 3 ? eval(a, n->kids[3], sc) : jundef();
    int width = arg1.k == J_NUM && arg1.d >= 0 && arg1.d <= 1000 ? (int)arg1.d : arg1.k == J_STR ? -1 : 4;
    SgBuf b = {0};
    bool first = true;
    if (truthy(&arg2)) {
      if (width < 0)
        sg_buf_cat(&b, arg1.s);
      else
        sg_buf_catf(&b, "%*s", width, "");
    }
    for (const char *p = s;; p = strchr(p, '\n') + 1) { /* (s + "\n").splitlines() is s.split("\n") */
      const char *e = strchr(p, '\n');
      size_t len = e ? (size_t)(e - p) : strlen(p);
      if (!first) {
        sg_buf_catc(&b, '\n');
        if (len || truthy(&blank)) {
          if (width < 0)
            sg_buf_cat(&b, arg1.s);
          else
            sg_buf_catf(&b, "%*s", width, "");
        }
      }
      sg_buf_catn(&b, p, len);
      first = false;
      if (!e || !within(a, sc, NULL, b.len)) break;
    }
    char *r = sg_pl_buf_dup(a, &b);
    sg_buf_free(&b);
    return jstr(r);
  }
  if (!strcmp(f, "upper") || !strcmp(f, "lower")) {
    char *o = sg_arena_strdup(a, s);
    for (char *p = o; p && *p; p++)
      if (!strcmp(f, "upper") && *p >= 'a' && *p <= 'z')
        *p = (char)(*p - 32);
      else if (!strcmp(f, "lower") && *p >= 'A' && *p <= 'Z')
        *p = (char)(*p + 32);
    return jstr(o);
  }
  if (!strcmp(f, "trim")) {
    while (*s && strchr(" \t\r\n", *s))
      s++;
    size_t l = strlen(s);
    while (l && strchr(" \t\r\n", s[l - 1]))
      l--;
    return jstr(sg_arena_strndup(a, s, l));
  }
  /* replace(old, new) */
  const char *from = arg1.k == J_STR ? arg1.s : "", *to = arg2.k == J_STR ? arg2.s : "";
  if (!*from) return jstr(s);
  SgBuf b = {0};
  size_t fl = strlen(from), tl = strlen(to), sl = strlen(s);
  for (size_t i = 0; i < sl && within(a, sc, NULL, b.len);) {
    size_t m = i + find(s + i, sl - i, from, fl);
    sg_buf_catn(&b, s + i, m - i);
    if (m == sl) break;
    sg_buf_catn(&b, to, tl);
    i = m + fl;
  }
  char *r = sg_pl_buf_dup(a, &b);
  sg_buf_free(&b);
  return jstr(r);
}

/* Python's str methods, dict.get and date.strftime; on a value of another
 * type it is an error, as in Jinja. */
static JVal call(SgArena *a, const JNode *n, const Scope *sc) {
  JVal v = eval(a, n->kids[0], sc), arg1 = n->n > 1 ? eval(a, n->kids[1], sc) : jundef();
  const char *m = n->name;
  bool date = v.k == J_OBJ && v.o->repr == date_repr, dict = v.k == J_OBJ && v.o->repr == dict_repr;
  if (!strcmp(m, "get") ? !dict : !strcmp(m, "strftime") ? !date : v.k != J_STR)
    return fail(sc, sg_arena_printf(a, "%s() called on a value that has no such method", m));
  if (!strcmp(m, "get")) {
    JVal r = arg1.k == J_STR ? attr_of(a, &v, arg1.s) : jundef();
    if (r.k == J_UNDEF) return n->n > 2 ? eval(a, n->kids[2], sc) : (JVal){.k = J_NONE};
    return r;
  }
  if (!strcmp(m, "strftime")) {
    SgBuf b = {0};
    for (const char *f = arg1.s; *f; f++) { /* the format was checked: %Y %m %d %y %% */
      if (*f != '%') {
        sg_buf_catc(&b, *f);
        continue;
      }
      f++;
      if (*f == '%')
        sg_buf_catc(&b, '%');
      else if (*f == 'y')
        sg_buf_catn(&b, v.o->text + 2, 2);
      else
        sg_buf_catn(&b, v.o->text + (*f == 'Y' ? 0 : *f == 'm' ? 5 : 8), *f == 'Y' ? 4 : 2);
    }
    char *r = sg_pl_buf_dup(a, &b);
    sg_buf_free(&b);
    return jstr(r);
  }
  if (!strcmp(m, "startswith") || !strcmp(m, "endswith")) {
    size_t l = strlen(v.s), k = arg1.k == J_STR ? strlen(arg1.s) : l + 1;
    bool r = k <= l && !strncmp(m[0] == 's' ? v.s : v.s + l - k, arg1.s, k);
    return (JVal){.k = J_BOOL, .b = r};
  }
  /* lower, upper, strip, replace: as the filters lower, upper, trim, replace */
  JNode f = *n;
  f.name = !strcmp(m, "strip") ? "trim" : m;
  return filter(a, &f, sc);
}

static JVal eval(SgArena *a, const JNode *n, const Scope *sc) {
  switch (n->k) {
  case E_STR: return jstr(n->text);
  case E_NUM: return (JVal){.k = J_NUM, .d = n->num};
  case E_CONST:
    if (n->text) return (JVal){.k = J_NONE};
    return (JVal){.k = J_BOOL, .b = n->cval};
  case E_NAME:
    for (const Scope *s = sc; s; s = s->up)
      for (const Var *x = s->vars; x; x = x->next)
        if (!strcmp(x->name, n->name)) return x->v;
    return jundef();
  case E_LIST: {
    JVal l = {.k = J_LIST, .items = sg_arena_alloc(a, (n->n + 1) * sizeof(JVal)), .n = n->n};
    for (size_t i = 0; l.items && i < n->n; i++)
      l.items[i] = eval(a, n->kids[i], sc);
    return l;
  }
  case E_ATTR: {
    JVal v = eval(a, n->kids[0], sc);
    if (v.k == J_UNDEF) return fail(sc, sg_arena_printf(a, "'%s' of an undefined value", n->name));
    JVal r = attr_of(a, &v, n->name);
    return r.k == J_ERR ? fail(sc, r.s) : r;
  }
  case E_INDEX: {
    JVal v = eval(a, n->kids[0], sc), i = eval(a, n->kids[1], sc);
    if (v.k == J_UNDEF) return fail(sc, "an index into an undefined value");
    if (v.k == J_LIST && i.k == J_NUM) {
      long k = (long)i.d;
      if (k < 0) k += (long)v.n;
      return k >= 0 && (size_t)k < v.n ? v.items[k] : jundef();
    }
    if (i.k != J_STR) return jundef();
    JVal r = attr_of(a, &v, i.s);
    return r.k == J_ERR ? fail(sc, r.s) : r;
  }
  case E_CALL: return call(a, n, sc);
  case E_COND: {
    JVal c = eval(a, n->kids[1], sc);
    if (truthy(&c)) return eval(a, n->kids[0], sc);
    return n->n > 2 ? eval(a, n->kids[2], sc) : jundef();
  }
  case E_FILTER: return filter(a, n, sc);
  case E_NOT: {
    JVal v = eval(a, n->kids[0], sc);
    return (JVal){.k = J_BOOL, .b = !truthy(&v)};
  }
  case E_AND:
  case E_OR: {
    JVal l = eval(a, n->kids[0], sc);
    if (truthy(&l) == (n->k == E_OR)) return l;
    return eval(a, n->kids[1], sc);
  }
  case E_CMP: {
    JVal l = eval(a, n->kids[0], sc), r = eval(a, n->kids[1], sc);
    const char *op = n->name;
    bool res = false;
    if (!strcmp(op, "in") || !strcmp(op, "not in")) {
      if (r.k == J_LIST)
        for (size_t i = 0; i < r.n && !res; i++)
          res = equal(&l, &r.items[i]);
      else if (r.k == J_STR && l.k == J_STR)
        res = strstr(r.s, l.s) != NULL;
      else if (r.k == J_OBJ && l.k == J_STR)
        res = attr_of(a, &r, l.s).k != J_UNDEF;
      if (!strcmp(op, "not in")) res = !res;
    } else if (!strcmp(op, "==")) {
      res = equal(&l, &r);
    } else if (!strcmp(op, "!=")) {
      res = !equal(&l, &r);
    } else if (l.k == J_NUM && r.k == J_NUM) {
      res = !strcmp(op, "<")    ? l.d < r.d
            : !strcmp(op, ">")  ? l.d > r.d
            : !strcmp(op, "<=") ? l.d <= r.d
                                : l.d >= r.d;
    } else if (l.k == J_STR && r.k == J_STR) {
      int c = strcmp(l.s, r.s);
      res = !strcmp(op, "<") ? c < 0 : !strcmp(op, ">") ? c > 0 : !strcmp(op, "<=") ? c <= 0 : c >= 0;
    }
    return (JVal){.k = J_BOOL, .b = res};
  }
  default: return jundef();
  }
}

static const char *loop_repr(const JObj *o, SgArena *a) {
  (void)o;
  (void)a;
  return "<LoopContext>";
}

static JVal loop_attr(const JObj *o, SgArena *a, const char *name) {
  (void)a;
  if (!strcmp(name, "index")) return (JVal){.k = J_NUM, .d = (double)(o->idx + 1)};
  if (!strcmp(name, "index0")) return (JVal){.k = J_NUM, .d = (double)o->idx};
  if (!strcmp(name, "revindex")) return (JVal){.k = J_NUM, .d = (double)(o->len - o->idx)};
  if (!strcmp(name, "length")) return (JVal){.k = J_NUM, .d = (double)o->len};
  if (!strcmp(name, "first")) return (JVal){.k = J_BOOL, .b = o->idx == 0};
  if (!strcmp(name, "last")) return (JVal){.k = J_BOOL, .b = o->idx == o->len - 1};
  return jundef();
}

static void run(SgArena *a, JNode *const *body, size_t n, Scope *sc, SgBuf *out) {
  for (size_t i = 0; i < n && step(a, sc, out); i++) {
    const JNode *x = body[i];
    switch (x->k) {
    case N_TEXT: sg_buf_catn(out, x->text, x->len); break;
    case N_OUT: {
      JVal v = eval(a, x->kids[0], sc);
      if (v.k == J_OBJ && !v.o->repr) fail(sc, "this object cannot be written out (write its attributes)");
      render(out, a, &v, false);
      break;
    }
    case N_IF: {
      size_t b = 0;
      for (; b < x->n; b++) {
        JVal c = eval(a, x->kids[b], sc);
        if (truthy(&c)) break;
      }
      if (b < x->nbodies) run(a, x->bodies[b], x->nbody[b], sc, out);
      break;
    }
    case N_FOR: {
      JVal l = eval(a, x->kids[0], sc);
      if (l.k == J_STR) { /* a string iterates over its characters */
        size_t len = strlen(l.s);
        JVal *items = sg_arena_alloc(a, (len + 1) * sizeof *items);
        for (size_t k = 0; items && k < len; k++)
          items[k] = jstr(sg_arena_strndup(a, l.s + k, 1));
        l = (JVal){.k = J_LIST, .items = items, .n = items ? len : 0};
      }
      if (l.k != J_LIST) break;
      JObj loop = {.attr = loop_attr, .repr = loop_repr, .len = (long)l.n};
      for (size_t k = 0; k < l.n && step(a, sc, out); k++) {
        loop.idx = (long)k;
        Scope it = {.up = sc, .rn = sc->rn};
        bind(a, &it, "loop", (JVal){.k = J_OBJ, .o = &loop});
        bind(a, &it, x->var, l.items[k]);
        run(a, x->bodies[0], x->nbody[0], &it, out);
      }
      break;
    }
    case N_SET: bind(a, sc, x->var, eval(a, x->kids[0], sc)); break;
    default: break;
    }
  }
}

static JVal pipeline_attr(const JObj *o, SgArena *a, const char *name) {
  const SgPipelineState *st = o->p;
  if (!strcmp(name, "vars")) return o->dict ? from_yaml(a, o->dict) : from_yaml(a, NULL);
  if (strcmp(name, "state")) return jundef();
  JObj *d = sg_arena_alloc(a, sizeof *d);
  if (!d) return jundef();
  d->attr = dict_attr;
  d->repr = dict_repr;
  d->n = st ? st->n : 0;
  d->keys = sg_arena_alloc(a, (d->n + 1) * sizeof *d->keys);
  d->vals = sg_arena_alloc(a, (d->n + 1) * sizeof *d->vals);
  for (size_t i = 0; d->keys && d->vals && i < d->n; i++) {
    d->keys[i] = st->kv[i].key;
    d->vals[i] = st->kv[i].val;
  }
  return (JVal){.k = J_OBJ, .o = d};
}

static const char *pipeline_repr(const JObj *o, SgArena *a) {
  (void)o;
  (void)a;
  return "<ProcessingPipeline>";
}

bool sg_jinja_render(const SgJinja *j, const SgRule *rule, const SgPipelineState *state, const char *query,
                     const char *const *queries, size_t nqueries, bool joined, SgBuf *out, char *err,
                     size_t errsize) {
  SgArena a;
  sg_arena_init(&a);
  JObj robj = {.attr = rule_attr, .repr = rule_repr, .p = rule};
  JObj pobj = {.attr = pipeline_attr, .repr = pipeline_repr, .p = state, .dict = j->vars};
  JVal qs;
  if (joined) {
    qs = jstr(nqueries ? queries[0] : "");
  } else {
    qs = (JVal){.k = J_LIST, .items = sg_arena_alloc(&a, (nqueries + 1) * sizeof(JVal)), .n = nqueries};
    for (size_t i = 0; qs.items && i < nqueries; i++)
      qs.items[i] = jstr(queries[i]);
  }
  Render rn = {0};
  Scope top = {.rn = &rn};
  bind(&a, &top, "pipeline", (JVal){.k = J_OBJ, .o = &pobj});
  if (rule) bind(&a, &top, "rule", (JVal){.k = J_OBJ, .o = &robj});
  if (query) bind(&a, &top, "query", jstr(query));
  if (queries) bind(&a, &top, "queries", qs);
  run(&a, j->body, j->n, &top, out);
  within(&a, &top, out, 0); /* the last step's output counts too */
  if (a.failed) out->oom = true;
  bool ok = !rn.err && !out->oom;
  if (!ok) snprintf(err, errsize, "%s", out->oom ? "out of memory" : rn.err);
  sg_arena_free(&a);
  return ok;
}
