/* jinja_render.c - renders a parsed template (jinja.h): Python values (lists
 * and dicts as their repr, dates as YYYY-MM-DD), the rule, the pipeline state
 * and the queries as objects, the filters and methods of the subset, every
 * step and every byte a filter makes counted against a budget (steps, output,
 * memory), the limit hit named. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"

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

/* A list of n items to fill; empty when memory ran out (the arena's failure
 * fails the rendering), never n items behind a NULL. */
static JVal jlist(SgArena *a, size_t n) {
  JVal *items = sg_arena_alloc(a, (n + 1) * sizeof *items);
  return (JVal){.k = J_LIST, .items = items, .n = items ? n : 0};
}

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
    JVal l = jlist(a, y->n);
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
  JVal v = jlist(a, l->n);
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
  const char *why = sc->rn->steps > MAX_STEPS      ? "the template takes more than 1,000,000 steps"
                    : out && out->len > MAX_OUTPUT ? "the template writes more than 64 MiB"
                    : a->bytes + more > MAX_MEMORY ? "the template's values take more than 64 MiB of memory"
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
  for (const char *p = s, *end = s + n;
       (size_t)(end - p) >= fl && (p = memchr(p, f[0], (size_t)(end - p) - fl + 1)); p++)
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
    JVal l = jlist(a, n->n);
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
    qs = jlist(&a, nqueries);
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
