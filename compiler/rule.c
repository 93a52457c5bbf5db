/* rule.c - one YAML document -> SgRule (metadata, logsource, detection,
 * correlation or filter), with type and format checks on every field of the
 * Sigma v2.1 specification.
 *
 * Unknown top-level keys are kept as custom attributes, in file order. Every
 * problem is reported (not only the first); r->failed is set by any error.
 */
#include <stdlib.h>
#include <string.h>

#include "front.h"

typedef struct RB {
  SgArena *a;
  SgDiags *d;
  SgRule *r;
} RB;

static void err(RB *b, SgDiagCode code, SgLoc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err(RB *b, SgDiagCode code, SgLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_vdiag(b->d, code, loc, fmt, ap);
  va_end(ap);
  if (sg_diag_code_str(code)[0] == 'E') b->r->failed = true;
}

/* A scalar used as text. Numbers and booleans keep their written form. */
static const char *want_str(RB *b, const SgYNode *v, const char *key) {
  if (v->kind != SG_Y_SCALAR || v->type == SG_YT_NULL) {
    err(b, SG_D_TYPE, v->loc, "'%s' must be a string, not %s", key, sg_ytype_name(v));
    return NULL;
  }
  return v->text;
}

static void want_list(RB *b, const SgYNode *v, const char *key, SgStrList *out, bool single_ok) {
  if (single_ok && v->kind == SG_Y_SCALAR && v->type != SG_YT_NULL) {
    out->v = sg_arena_alloc(b->a, sizeof *out->v);
    out->locs = sg_arena_alloc(b->a, sizeof *out->locs);
    if (!out->v || !out->locs) return;
    out->v[0] = v->text;
    out->locs[0] = v->loc;
    out->n = 1;
    return;
  }
  if (v->kind != SG_Y_SEQ) {
    err(b, SG_D_TYPE, v->loc, "'%s' must be a list, not %s", key, sg_ytype_name(v));
    return;
  }
  out->v = sg_arena_alloc(b->a, (v->n + 1) * sizeof *out->v);
  out->locs = sg_arena_alloc(b->a, (v->n + 1) * sizeof *out->locs);
  if (!out->v || !out->locs) return;
  for (size_t i = 0; i < v->n; i++) {
    const char *s = want_str(b, v->items[i], key);
    if (!s) continue;
    for (size_t j = 0; j < out->n; j++)
      if (!strcmp(out->v[j], s)) {
        size_t mark = b->d->n;
        err(b, SG_D_DUP_LIST, v->items[i]->loc, "'%s' lists '%s' twice", key, s);
        if (!strcmp(key, "tags") || !strcmp(key, "references")) /* pySigma's validators for these */
          sg_diags_name(b->d, mark, key[0] == 't' ? "duplicate_tag" : "duplicate_references");
        break;
      }
    out->locs[out->n] = v->items[i]->loc;
    out->v[out->n++] = s;
  }
}

static bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Python's UUID(): 32 hex digits, hyphens anywhere, optional {} or urn:uuid:. */
static bool valid_uuid(const char *s) {
  size_t n = strlen(s);
  if (n > 9 && !strncmp(s, "urn:uuid:", 9)) s += 9, n -= 9;
  if (n >= 2 && s[0] == '{' && s[n - 1] == '}') s++, n -= 2;
  if (n == 36) {
    for (size_t i = 0; i < 36; i++) {
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return true;
  }
  if (n != 32) return false;
  for (size_t i = 0; i < 32; i++)
    if (!is_hex(s[i])) return false;
  return true;
}

/* YYYY-MM-DD (spec) or YYYY/M/D (pySigma still accepts it). */
static bool valid_date(const char *s) {
  int y = 0, m = 0, d = 0, i = 0;
  for (; i < 4; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    y = y * 10 + s[i] - '0';
  }
  char sep = s[i++];
  if (sep != '-' && sep != '/') return false;
  int digits = 0;
  for (; s[i] >= '0' && s[i] <= '9' && digits <= 2; i++, digits++) /* a third digit already fails */
    m = m * 10 + s[i] - '0';
  if (digits < 1 || digits > 2 || (sep == '-' && digits != 2) || s[i++] != sep) return false;
  digits = 0;
  for (; s[i] >= '0' && s[i] <= '9' && digits <= 2; i++, digits++)
    d = d * 10 + s[i] - '0';
  if (digits < 1 || digits > 2 || (sep == '-' && digits != 2) || s[i]) return false;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1000 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(m == 2 && d == 29 && !leap);
}

static bool valid_tag(const char *s) {
  const char *dot = strchr(s, '.');
  if (!dot || dot == s || !dot[1]) return false;
  for (const char *p = s; *p; p++) {
    bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
              (p > dot && *p == '.');
    if (!ok && p != dot) return false;
  }
  return true;
}

static bool one_of(const char *s, const char *const *set, bool nocase) {
  for (; *set; set++)
    if (nocase ? !sg_ascii_casecmp(s, *set) : !strcmp(s, *set)) return true;
  return false;
}

static void parse_logsource(RB *b, const SgYNode *key, const SgYNode *v) {
  SgLogsource *ls = &b->r->logsource;
  ls->loc = v->loc;
  if (v->kind != SG_Y_MAP) {
    err(b, SG_D_TYPE, v->loc, "'logsource' must be a mapping, not %s", sg_ytype_name(v));
    return;
  }
  size_t cap = 0;
  for (size_t i = 0; i < v->n; i++) {
    const char *k = v->keys[i]->text;
    const SgYNode *x = v->items[i];
    const char **slot = !strcmp(k, "category")     ? &ls->category
                        : !strcmp(k, "product")    ? &ls->product
                        : !strcmp(k, "service")    ? &ls->service
                        : !strcmp(k, "definition") ? &ls->definition
                                                   : NULL;
    if (slot) {
      *slot = want_str(b, x, k);
      continue;
    }
    SgKV *kv = SG_PUSH(b->a, ls->custom, ls->ncustom, cap);
    if (kv) *kv = (SgKV){k, x};
  }
  if (!ls->category && !ls->product && !ls->service)
    err(b, SG_D_MISSING, key->loc, "'logsource' needs at least one of category, product or service");
}

static void parse_related(RB *b, const SgYNode *v) {
  static const char *const types[] = {"derived", "obsolete",    "merged", "renamed",
                                      "similar", "correlation", NULL};
  if (v->kind != SG_Y_SEQ) {
    err(b, SG_D_TYPE, v->loc, "'related' must be a list, not %s", sg_ytype_name(v));
    return;
  }
  b->r->related = sg_arena_alloc(b->a, (v->n + 1) * sizeof *b->r->related);
  if (!b->r->related) return;
  for (size_t i = 0; i < v->n; i++) {
    const SgYNode *x = v->items[i];
    if (x->kind != SG_Y_MAP) {
      err(b, SG_D_TYPE, x->loc, "a 'related' entry must be a mapping with id and type");
      continue;
    }
    const SgYNode *id = sg_ymap_get(x, "id"), *type = sg_ymap_get(x, "type");
    if (!id || !type) {
      err(b, SG_D_MISSING, x->loc, "a 'related' entry needs both 'id' and 'type'");
      continue;
    }
    SgRelated *rel = &b->r->related[b->r->nrelated++];
    rel->id = want_str(b, id, "id");
    rel->type = want_str(b, type, "type");
    if (rel->id && !valid_uuid(rel->id))
      err(b, SG_D_BAD_UUID, id->loc, "related id '%s' is not a UUID", rel->id);
    if (rel->type && !one_of(rel->type, types, false))
      err(b, SG_D_BAD_VALUE, type->loc,
          "related type '%s' is not one of derived, obsolete, merged, renamed, similar", rel->type);
  }
}

/* ---- correlation: ------------------------------------------------------------------ */

static const char *const corr_types[] = {
#define X(name, type, aggregate) type,
    SG_CORR_LIST(X)
#undef X
        NULL};

const char *sg_corr_type_name(SgCorrType t) { return (size_t)t < SG_CORR__COUNT ? corr_types[t] : ""; }

const char *sg_corr_aggregate_name(SgCorrType t) {
  static const char *const names[] = {
#define X(name, type, aggregate) aggregate,
      SG_CORR_LIST(X)
#undef X
  };
  return (size_t)t < SG_CORR__COUNT ? names[t] : "";
}

bool sg_corr_at_window_end(const SgCorrelation *c) {
  for (size_t i = 0; i < c->nconds; i++)
    if (strcmp(c->conds[i].op, "gt") && strcmp(c->conds[i].op, "gte")) return true;
  return false;
}

/* "event_count, value_count, ..." */
static const char *corr_type_names(void) {
  static const char names[] =
#define X(name, type, aggregate) ", " type
      SG_CORR_LIST(X)
#undef X
      ;
  return names + 2;
}

static bool parse_timespan(const char *s, uint64_t *secs) {
  uint64_t n = 0;
  const char *p = s;
  if (*p < '0' || *p > '9') return false;
  for (; *p >= '0' && *p <= '9'; p++) {
    n = n * 10 + (uint64_t)(*p - '0');
    if (n > 100000000ull) return false;
  }
  static const char units[] = "smhdwMy";
  static const uint64_t mult[] = {1, 60, 3600, 86400, 604800, 2629746, 31556952};
  const char *u = *p ? strchr(units, *p) : NULL;
  if (!u || p[1]) return false;
  *secs = n * mult[u - units];
  return true;
}

/* The rule names of an extended temporal condition, once each, in order. */
static bool expr_names(RB *b, const SgCondExpr *e, SgStrList *out, size_t *cap) {
  switch (e->kind) {
  case SG_C_AND:
  case SG_C_OR:
  case SG_C_NOT:
    for (uint32_t i = 0; i < e->n; i++)
      if (!expr_names(b, e->kids[i], out, cap)) return false;
    return true;
  case SG_C_ID:
    for (size_t i = 0; i < out->n; i++)
      if (!strcmp(out->v[i], e->name)) return true;
    if (out->n == *cap) {
      *cap = *cap ? 2 * *cap : 8;
      const char **v = sg_arena_alloc(b->a, *cap * sizeof *v);
      SgLoc *l = sg_arena_alloc(b->a, *cap * sizeof *l);
      if (!v || !l) return false;
      if (out->n) memcpy(v, out->v, out->n * sizeof *v), memcpy(l, out->locs, out->n * sizeof *l);
      out->v = v;
      out->locs = l;
    }
    out->locs[out->n] = e->loc;
    out->v[out->n++] = e->name;
    return true;
  default:
    err(b, SG_D_CORR, e->loc,
        "a temporal condition names rules with and, or, not and parentheses; "
        "'1 of' and 'all of' are not allowed");
    return false;
  }
}

/* An extended temporal condition (`rule_a and not rule_b`) is parsed like a
 * detection condition; its identifiers are the referenced rules, so `rules`
 * may be omitted, and when given must name the same rules. */
static void corr_expression(RB *b, const SgYNode *cond, SgCorrelation *c) {
  SgCondition *e = sg_arena_alloc(b->a, sizeof *e);
  if (!e) return;
  if (sg_cond_parse(b->a, e, cond, true, b->d) != SG_OK) { /* AND, OR, NOT as the specification writes them */
    b->r->failed = true;
    return;
  }
  SgStrList names = {0};
  size_t cap = 0;
  if (!expr_names(b, e->expr, &names, &cap)) return;
  c->expr = e;
  if (!c->rules.n) {
    c->rules = names;
    return;
  }
  for (size_t i = 0; i < c->rules.n; i++) {
    size_t j = 0;
    while (j < names.n && strcmp(names.v[j], c->rules.v[i]))
      j++;
    if (j == names.n)
      err(b, SG_D_CORR, c->rules.locs[i], "rule '%s' is listed in 'rules' but not used in the condition",
          c->rules.v[i]);
  }
  for (size_t j = 0; j < names.n; j++) {
    size_t i = 0;
    while (i < c->rules.n && strcmp(names.v[j], c->rules.v[i]))
      i++;
    if (i == c->rules.n)
      err(b, SG_D_CORR, names.locs[j], "the condition uses rule '%s', which 'rules' does not list",
          names.v[j]);
  }
}

static void parse_correlation(RB *b, const SgYNode *key, const SgYNode *v) {
  SgCorrelation *c = sg_arena_alloc(b->a, sizeof *c);
  if (!c) return;
  b->r->corr = c;
  if (v->kind != SG_Y_MAP) {
    err(b, SG_D_TYPE, v->loc, "'correlation' must be a mapping, not %s", sg_ytype_name(v));
    return;
  }
  const SgYNode *type = NULL, *cond = NULL, *timespan = NULL, *rules = NULL;
  for (size_t i = 0; i < v->n; i++) {
    const char *k = v->keys[i]->text;
    const SgYNode *x = v->items[i];
    if (!strcmp(k, "type"))
      type = x;
    else if (!strcmp(k, "rules"))
      want_list(b, rules = x, k, &c->rules, true);
    else if (!strcmp(k, "group-by"))
      want_list(b, x, k, &c->group_by, true);
    else if (!strcmp(k, "timespan") || !strcmp(k, "timeframe"))
      timespan = x;
    else if (!strcmp(k, "condition"))
      cond = x;
    else if (!strcmp(k, "generate")) {
      if (x->kind != SG_Y_SCALAR || x->type != SG_YT_BOOL)
        err(b, SG_D_TYPE, x->loc, "'generate' must be true or false");
      else
        c->generate = x->bval;
    } else if (!strcmp(k, "aliases")) {
      if (x->kind != SG_Y_MAP) {
        err(b, SG_D_TYPE, x->loc, "'aliases' must be a mapping of alias -> {rule: field}");
        continue;
      }
      c->aliases = sg_arena_alloc(b->a, (x->n + 1) * sizeof *c->aliases);
      if (!c->aliases) return;
      for (size_t j = 0; j < x->n; j++) {
        const SgYNode *m = x->items[j];
        if (m->kind != SG_Y_MAP) {
          err(b, SG_D_TYPE, m->loc, "alias '%s' must map rule names to fields", x->keys[j]->text);
          continue;
        }
        SgCorrAlias *al = &c->aliases[c->naliases++];
        al->name = x->keys[j]->text;
        al->map = sg_arena_alloc(b->a, (m->n + 1) * sizeof *al->map);
        if (!al->map) return;
        for (size_t q = 0; q < m->n; q++)
          if (want_str(b, m->items[q], "alias field"))
            al->map[al->n++] = (SgKV){m->keys[q]->text, m->items[q]};
      }
    } else {
      err(b, SG_D_CORR, v->keys[i]->loc, "unknown key '%s' in correlation", k);
    }
  }
  const char *t = type ? want_str(b, type, "type") : NULL;
  if (!type)
    err(b, SG_D_MISSING, key->loc, "correlation needs a 'type'");
  else if (t && !one_of(t, corr_types, false))
    err(b, SG_D_CORR, type->loc, "correlation type '%s' is not one of %s", t, corr_type_names());
  else if (t)
    for (int i = 0; corr_types[i]; i++)
      if (!strcmp(corr_types[i], t)) c->type = (SgCorrType)i;
  if (!timespan)
    err(b, SG_D_MISSING, key->loc, "correlation needs a 'timespan'");
  else if ((c->timespan = want_str(b, timespan, "timespan")) && !parse_timespan(c->timespan, &c->timespan_s))
    err(b, SG_D_CORR, timespan->loc, "timespan '%s' must be a number followed by s, m, h, d, w, M or y",
        c->timespan);
  bool temporal = t && (c->type == SG_CORR_TEMPORAL || c->type == SG_CORR_TEMPORAL_ORDERED);
  if (cond && cond->kind == SG_Y_SCALAR && temporal) {
    c->expression = want_str(b, cond, "condition");
  } else if (cond && cond->kind == SG_Y_MAP) {
    static const char *const ops[] = {"gt", "gte", "lt", "lte", "eq", "neq", NULL};
    c->conds = sg_arena_alloc(b->a, (cond->n + 1) * sizeof *c->conds);
    if (!c->conds) return;
    for (size_t i = 0; i < cond->n; i++) {
      const char *k = cond->keys[i]->text;
      const SgYNode *x = cond->items[i];
      if (!strcmp(k, "field")) {
        want_list(b, x, k, &c->fields, true);
      } else if (!strcmp(k, "percentile")) {
        long p = x->kind == SG_Y_SCALAR && x->type == SG_YT_INT ? strtol(x->text, NULL, 10) : 0;
        if (p < 1 || p > 100)
          err(b, SG_D_CORR, x->loc, "'percentile' is a whole number from 1 to 100");
        else
          c->percentile = (int)p;
      } else if (one_of(k, ops, false)) {
        SgCorrCond *cc = &c->conds[c->nconds++];
        cc->op = k;
        if (x->kind != SG_Y_SCALAR || (x->type != SG_YT_INT && x->type != SG_YT_FLOAT) ||
            !sg_num_parse(x->text, x->len, &cc->value))
          err(b, SG_D_CORR, x->loc, "the '%s' threshold must be a number", k);
        else
          cc->value.text = x->text;
      } else {
        err(b, SG_D_CORR, cond->keys[i]->loc,
            "unknown condition operator '%s' (gt, gte, lt, lte, eq, neq, field, percentile)", k);
      }
    }
    if (!c->nconds)
      err(b, SG_D_CORR, cond->loc, "correlation condition needs a comparison such as 'gte: 10'");
  } else if (cond) {
    err(b, SG_D_CORR, cond->loc, "correlation 'condition' must be a mapping%s",
        temporal ? " or a rule expression" : "");
  } else if (!temporal && t) {
    err(b, SG_D_MISSING, key->loc, "correlation type '%s' needs a 'condition'", t);
  }
  bool needs_field = t && (c->type == SG_CORR_VALUE_COUNT || c->type >= SG_CORR_VALUE_SUM);
  if (needs_field && !c->fields.n)
    err(b, SG_D_CORR, cond ? cond->loc : key->loc, "correlation type '%s' needs 'condition.field'", t);
  if (t && c->type == SG_CORR_VALUE_PERCENTILE && !c->percentile && cond && cond->kind == SG_Y_MAP)
    err(b, SG_D_CORR, cond->loc,
        "value_percentile needs 'condition.percentile' (1 to 100): which percentile");
  else if (c->percentile && t && c->type != SG_CORR_VALUE_PERCENTILE)
    err(b, SG_D_CORR, cond->loc, "'percentile' belongs to value_percentile, not %s", t);
  if (!rules && !c->expression) err(b, SG_D_MISSING, key->loc, "correlation needs 'rules'");
  if (c->expression) corr_expression(b, cond, c);
}

static void parse_filter(RB *b, const SgYNode *key, const SgYNode *v) {
  SgFilterDef *f = sg_arena_alloc(b->a, sizeof *f);
  if (!f) return;
  b->r->filter = f;
  if (v->kind != SG_Y_MAP) {
    err(b, SG_D_TYPE, v->loc, "'filter' must be a mapping, not %s", sg_ytype_name(v));
    return;
  }
  const SgYNode *rules = sg_ymap_get(v, "rules");
  if (!rules) {
    err(b, SG_D_MISSING, key->loc, "filter needs 'rules' (rule ids or names, or 'any')");
  } else if (rules->kind == SG_Y_SCALAR && !strcmp(rules->text, "any")) {
    f->any = true;
  } else if (rules->kind == SG_Y_SEQ && rules->n == 0) {
    f->any = true;
  } else {
    want_list(b, rules, "rules", &f->rules, true);
  }
  if (sg_detection_build(b->a, b->r, key, v, b->d) != SG_OK) b->r->failed = true;
  if (b->r->nconds > 1) err(b, SG_D_FILTER, v->loc, "a filter has exactly one condition");
}

/* ---- the document -------------------------------------------------------------------- */

SgStatus sg_rule_from_yaml(SgArena *a, const SgYNode *doc, SgLoc docloc, SgRule **out, SgDiags *d) {
  static const char *const statuses[] = {"stable", "test", "experimental", "deprecated", "unsupported", NULL};
  static const char *const levels[] = {"informational", "low", "medium", "high", "critical", NULL};
  SgRule *r = sg_arena_alloc(a, sizeof *r);
  if (!r) return SG_ERR_NOMEM;
  *out = r;
  RB b = {a, d, r};
  r->loc = docloc;
  r->yaml = doc;
  if (doc->kind != SG_Y_MAP) {
    err(&b, SG_D_TYPE, doc->loc, "a Sigma rule must be a mapping, not %s", sg_ytype_name(doc));
    return SG_ERR_PARSE;
  }
  r->loc = doc->loc;
  const SgYNode *det = NULL, *corr = NULL, *filter = NULL, *logsource = NULL;
  const SgYNode *det_key = NULL, *corr_key = NULL, *filter_key = NULL, *logsource_key = NULL;
  size_t ccap = 0;
  for (size_t i = 0; i < doc->n; i++) {
    const char *k = doc->keys[i]->text;
    const SgYNode *v = doc->items[i];
    SgLoc kl = doc->keys[i]->loc;
    if (!strcmp(k, "title")) {
      if ((r->title = want_str(&b, v, k)) && strlen(r->title) > 256)
        err(&b, SG_D_BAD_VALUE, v->loc, "title is longer than 256 characters");
    } else if (!strcmp(k, "id")) {
      if ((r->id = want_str(&b, v, k)) && !valid_uuid(r->id))
        err(&b, SG_D_BAD_UUID, v->loc, "id '%s' is not a UUID", r->id);
    } else if (!strcmp(k, "name")) {
      if ((r->name = want_str(&b, v, k)) && !*r->name) err(&b, SG_D_BAD_VALUE, v->loc, "name is empty");
    } else if (!strcmp(k, "taxonomy")) {
      if ((r->taxonomy = want_str(&b, v, k)) && !*r->taxonomy)
        err(&b, SG_D_BAD_VALUE, v->loc, "taxonomy is empty");
    } else if (!strcmp(k, "status")) {
      if ((r->status = want_str(&b, v, k)) && !one_of(r->status, statuses, true))
        err(&b, SG_D_BAD_VALUE, v->loc,
            "status '%s' is not one of stable, test, experimental, deprecated, unsupported", r->status);
    } else if (!strcmp(k, "level")) {
      if ((r->level = want_str(&b, v, k)) && !one_of(r->level, levels, true))
        err(&b, SG_D_BAD_VALUE, v->loc, "level '%s' is not one of informational, low, medium, high, critical",
            r->level);
    } else if (!strcmp(k, "description")) {
      r->description = want_str(&b, v, k);
    } else if (!strcmp(k, "license")) {
      r->license = want_str(&b, v, k);
    } else if (!strcmp(k, "author")) {
      r->author = want_str(&b, v, k);
    } else if (!strcmp(k, "date") || !strcmp(k, "modified")) {
      const char *s = want_str(&b, v, k);
      if (s && !valid_date(s)) err(&b, SG_D_BAD_DATE, v->loc, "%s '%s' is not a date (YYYY-MM-DD)", k, s);
      *(k[0] == 'd' ? &r->date : &r->modified) = s;
    } else if (!strcmp(k, "references")) {
      want_list(&b, v, k, &r->references, false);
    } else if (!strcmp(k, "tags")) {
      want_list(&b, v, k, &r->tags, false);
      for (size_t j = 0; j < r->tags.n; j++)
        if (!valid_tag(r->tags.v[j])) { /* pySigma's tag_format validator */
          size_t mark = b.d->n;
          err(&b, SG_D_BAD_TAG, r->tags.locs[j], "tag '%s' should be lowercase namespace.name", r->tags.v[j]);
          sg_diags_name(b.d, mark, "tag_format");
        }
    } else if (!strcmp(k, "falsepositives")) {
      want_list(&b, v, k, &r->falsepositives, true);
    } else if (!strcmp(k, "fields")) {
      want_list(&b, v, k, &r->fields, false);
    } else if (!strcmp(k, "scope")) {
      want_list(&b, v, k, &r->scope, false);
    } else if (!strcmp(k, "related")) {
      parse_related(&b, v);
    } else if (!strcmp(k, "logsource")) {
      logsource = v;
      logsource_key = doc->keys[i];
    } else if (!strcmp(k, "detection")) {
      det = v;
      det_key = doc->keys[i];
    } else if (!strcmp(k, "correlation")) {
      corr = v;
      corr_key = doc->keys[i];
    } else if (!strcmp(k, "filter")) {
      filter = v;
      filter_key = doc->keys[i];
    } else if (!strcmp(k, "condition")) {
      err(&b, SG_D_COND_MISPLACED, kl, "'condition' is at the top level; it belongs under 'detection'");
    } else {
      SgKV *kv = SG_PUSH(a, r->custom, r->ncustom, ccap);
      if (!kv) return SG_ERR_NOMEM;
      *kv = (SgKV){k, v};
    }
  }
  r->kind = corr ? SG_DOC_CORRELATION : filter ? SG_DOC_FILTER : SG_DOC_RULE;
  if (corr && (filter || det))
    err(&b, SG_D_CORR, corr->loc, "a correlation rule has no 'detection' or 'filter'");
  if (filter && det) err(&b, SG_D_FILTER, filter->loc, "a filter has no 'detection'");
  if (!r->title) {
    if (!sg_ymap_get(doc, "title")) err(&b, SG_D_MISSING, doc->loc, "rule has no 'title'");
  }
  if (logsource)
    parse_logsource(&b, logsource_key, logsource);
  else if (r->kind != SG_DOC_CORRELATION)
    err(&b, SG_D_MISSING, doc->loc, "rule has no 'logsource'");
  switch (r->kind) {
  case SG_DOC_RULE:
    if (!det) {
      err(&b, SG_D_MISSING, doc->loc, "rule has no 'detection'");
    } else if (det->kind != SG_Y_MAP) {
      err(&b, SG_D_TYPE, det->loc, "'detection' must be a mapping, not %s", sg_ytype_name(det));
    } else {
      SgStatus st = sg_detection_build(a, r, det_key, det, d);
      if (st == SG_ERR_NOMEM) return st;
      if (st) r->failed = true;
    }
    break;
  case SG_DOC_CORRELATION: parse_correlation(&b, corr_key, corr); break;
  case SG_DOC_FILTER: parse_filter(&b, filter_key, filter); break;
  }
  if (r->nconds) {
    SgStatus st = sg_resolve(a, r, d);
    if (st == SG_ERR_NOMEM) return st;
  }
  if (a->failed) return SG_ERR_NOMEM;
  return r->failed ? SG_ERR_PARSE : SG_OK;
}
