/* pipeline.c - pySigma processing pipelines: load, validate, apply.
 *
 * Loading turns YAML into typed processing items; every unknown key, unknown
 * transformation or condition type, and bad regex is a located error. Applying
 * works on a copy of the rule: node-level transformations walk every MATCH of
 * every condition tree (searches were copied per use by resolve.c, so each use
 * is rewritten once), rule-level ones edit the copy. Each item records its id
 * on what it touched, for processing_item_applied conditions.
 */
#define _POSIX_C_SOURCE 200809L
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "front.h"

/* ==== Types ================================================================== */

typedef enum PCondType {
  PC_LOGSOURCE,
  PC_CONTAINS_ITEM,
  PC_CONTAINS_FIELD,
  PC_IS_RULE,
  PC_IS_CORR,
  PC_RULE_ATTR,
  PC_TAG,
  PC_APPLIED,
  PC_STATE,
  PC_MATCH_STRING,
  PC_MATCH_VALUE,
  PC_CONTAINS_WILDCARD,
  PC_IS_NULL,
  PC_INCLUDE_FIELDS,
  PC_EXCLUDE_FIELDS,
} PCondType;

enum { L_RULE = 1, L_ITEM = 2, L_FIELD = 4, L_ALL = 7 };

/* Allowed parameters: space-separated, '!' marks a required one. */
static const struct {
  const char *name;
  PCondType t;
  unsigned levels;
  const char *params;
} cond_types[] = {
    {"logsource", PC_LOGSOURCE, L_RULE, "category product service"},
    {"contains_detection_item", PC_CONTAINS_ITEM, L_RULE, "!field value"},
    {"contains_field", PC_CONTAINS_FIELD, L_RULE, "!field"},
    {"is_sigma_rule", PC_IS_RULE, L_RULE, ""},
    {"is_sigma_correlation_rule", PC_IS_CORR, L_RULE, ""},
    {"rule_attribute", PC_RULE_ATTR, L_RULE, "!attribute !value op"},
    {"tag", PC_TAG, L_RULE, "!tag"},
    {"processing_item_applied", PC_APPLIED, L_ALL, "!processing_item_id"},
    {"processing_state", PC_STATE, L_ALL, "!key !val op"},
    {"match_string", PC_MATCH_STRING, L_ITEM, "!pattern cond negate"},
    {"match_value", PC_MATCH_VALUE, L_ITEM, "!value cond"},
    {"contains_wildcard", PC_CONTAINS_WILDCARD, L_ITEM, "cond"},
    {"is_null", PC_IS_NULL, L_ITEM, "cond"},
    {"include_fields", PC_INCLUDE_FIELDS, L_FIELD, "!fields mode"},
    {"exclude_fields", PC_EXCLUDE_FIELDS, L_FIELD, "!fields mode"},
};

typedef struct PCond {
  PCondType t;
  const char *name; /* for *_cond_expr */
  SgLoc loc;
  const char *category, *product, *service, *field, *attribute, *op, *tag, *id, *key;
  const SgYNode *value;
  pcre2_code *re; /* match_string */
  bool negate;
  SgStrList fields;
  pcre2_code **field_res; /* include/exclude with mode: re */
} PCond;

typedef struct CondSet {
  PCond *v;
  size_t n;
  bool or_op, negate;
  SgCondExpr *expr;
} CondSet;

typedef enum TType {
  T_FIELD_MAP,
  T_PREFIX_MAP,
  T_FIELD_PREFIX,
  T_FIELD_SUFFIX,
  T_DROP,
  T_ADD_COND,
  T_CHANGE_LS,
  T_ADD_FIELD,
  T_REMOVE_FIELD,
  T_SET_FIELD,
  T_REPLACE,
  T_MAP_STRING,
  T_SET_VALUE,
  T_CONVERT,
  T_CASE,
  T_REGEX,
  T_HASHES,
  T_VALUE_PH,
  T_WILDCARD_PH,
  T_QUERY_PH,
  T_SET_STATE,
  T_SET_ATTR,
  T_RULE_FAIL,
  T_ITEM_FAIL,
  T_STRICT,
  T_NEST,
  /* postprocessing */
  P_EMBED,
  P_TEMPLATE,
  P_REPLACE,
  P_NEST,
  /* finalizers */
  F_CONCAT,
  F_JSON,
} TType;

enum { K_TRANSFORM = 1, K_POST = 2, K_FINAL = 4 };

static const struct {
  const char *name;
  TType t;
  unsigned kind;
  const char *params;
} item_types[] = {
    {"field_name_mapping", T_FIELD_MAP, K_TRANSFORM, "!mapping"},
    {"field_name_prefix_mapping", T_PREFIX_MAP, K_TRANSFORM, "!mapping"},
    {"field_name_prefix", T_FIELD_PREFIX, K_TRANSFORM, "!prefix"},
    {"field_name_suffix", T_FIELD_SUFFIX, K_TRANSFORM, "!suffix"},
    {"drop_detection_item", T_DROP, K_TRANSFORM, ""},
    {"add_condition", T_ADD_COND, K_TRANSFORM, "!conditions name template negated"},
    {"change_logsource", T_CHANGE_LS, K_TRANSFORM, "category product service"},
    {"add_field", T_ADD_FIELD, K_TRANSFORM, "!field"},
    {"remove_field", T_REMOVE_FIELD, K_TRANSFORM, "!field"},
    {"set_field", T_SET_FIELD, K_TRANSFORM, "!fields"},
    {"replace_string", T_REPLACE, K_TRANSFORM, "!regex !replacement skip_special interpret_special"},
    {"map_string", T_MAP_STRING, K_TRANSFORM, "!mapping"},
    {"set_value", T_SET_VALUE, K_TRANSFORM, "!value force_type"},
    {"convert_type", T_CONVERT, K_TRANSFORM, "!target_type"},
    {"case", T_CASE, K_TRANSFORM, "method"},
    {"regex", T_REGEX, K_TRANSFORM, "method"},
    {"hashes_fields", T_HASHES, K_TRANSFORM, "valid_hash_algos field_prefix drop_algo_prefix field_to_parse"},
    {"value_placeholders", T_VALUE_PH, K_TRANSFORM, "include exclude"},
    {"wildcard_placeholders", T_WILDCARD_PH, K_TRANSFORM, "include exclude"},
    {"query_expression_placeholders", T_QUERY_PH, K_TRANSFORM, "!expression mapping include exclude"},
    {"set_state", T_SET_STATE, K_TRANSFORM, "!key !val"},
    {"set_custom_attribute", T_SET_ATTR, K_TRANSFORM, "!attribute !value"},
    {"rule_failure", T_RULE_FAIL, K_TRANSFORM, "!message"},
    {"detection_item_failure", T_ITEM_FAIL, K_TRANSFORM, "!message"},
    {"strict_field_mapping_failure", T_STRICT, K_TRANSFORM, ""},
    {"nest", T_NEST, K_TRANSFORM | K_POST, "!items"},
    {"embed", P_EMBED, K_POST, "prefix suffix"},
    {"simple_template", P_TEMPLATE, K_POST, "!template"},
    {"replace", P_REPLACE, K_POST, "!pattern !replacement"},
    {"concat", F_CONCAT, K_FINAL, "separator prefix suffix"},
    {"json", F_JSON, K_FINAL, "indent"},
};

/* Known pySigma types we deliberately refuse, with the reason. */
static const struct {
  const char *name, *why;
} refused_types[] = {
    {"file_placeholders", "external placeholder sources are not supported"},
    {"http_placeholders", "external placeholder sources are not supported"},
    {"command_placeholders", "external placeholder sources are not supported"},
    {"field_name_transform", "it takes a Python function"},
    {"template", "Jinja2 templates are not supported; use simple_template"},
    {"yaml", "the yaml finalizer is not supported; use json or concat"},
    {"nested", "nested finalizers are not supported"},
    {"extract_fields", "extract_fields is not supported"},
};

typedef enum ValueType { VT_AS_WRITTEN, VT_STR, VT_NUM } ValueType;
typedef enum CaseMethod { CASE_LOWER, CASE_UPPER, CASE_SNAKE } CaseMethod;
typedef enum RegexMethod { RX_PLAIN, RX_IGNORE_CASE_FLAG, RX_IGNORE_CASE_BRACKETS } RegexMethod;

typedef struct PItem PItem;
struct PItem {
  TType t;
  const char *id;
  SgLoc loc;
  CondSet rule_c, item_c, field_c;
  union { /* the parameters of each type, named as pySigma names them (load_params) */
    struct {
      const SgYNode *mapping;
    } map; /* field_name_mapping, field_name_prefix_mapping, map_string */
    struct {
      const char *text;
    } affix; /* field_name_prefix (prefix), field_name_suffix (suffix) */
    struct {
      const SgYNode *conditions;
      const char *name;
      bool templated, negated;
    } add_cond;
    struct {
      const char *category, *product, *service;
    } logsource; /* change_logsource */
    struct {
      SgStrList names;
    } fields; /* add_field, remove_field (field), set_field (fields) */
    struct {
      pcre2_code *re;
      const char *replacement;
      bool skip_special, interpret_special;
    } replace; /* replace_string (regex); the replace postprocessing (pattern) */
    struct {
      const SgYNode *value;
      ValueType force_type;
    } set_value;
    struct {
      ValueType target_type;
    } convert;
    struct {
      CaseMethod method;
    } casing;
    struct {
      RegexMethod method;
    } regex;
    struct {
      SgStrList valid_algos, fields_to_parse;
      const char *field_prefix;
      bool drop_algo_prefix;
    } hashes;
    struct {
      SgStrList include, exclude;
      const char *expression; /* query_expression_placeholders */
      const SgYNode *mapping; /* query_expression_placeholders: placeholder -> {id} */
    } placeholders;
    struct {
      const char *key;
      const SgYNode *value;
    } kv; /* set_state (key, val), set_custom_attribute (attribute, value) */
    struct {
      const char *message;
    } failure; /* rule_failure, detection_item_failure */
    struct {
      PItem *items;
      size_t n;
    } nest;
    struct {
      const char *prefix, *suffix;
    } embed;
    struct {
      const char *text;
    } tpl; /* simple_template */
    struct {
      const char *separator, *prefix, *suffix;
    } concat;
    struct {
      long indent; /* -1: none */
    } json;
  } p;
};

struct SgPipeline {
  const char *name, *path;
  long priority;
  SgStrList allowed;
  const SgYNode *vars;
  PItem *items, *post, *fin;
  size_t nitems, npost, nfin;
};

const char *sg_pipeline_name(const SgPipeline *p) { return p->name; }

const SgStrList *sg_pipeline_backends(const SgPipeline *p) { return &p->allowed; }

bool sg_pipeline_allows(const SgPipeline *p, const char *backend) {
  if (!p->allowed.n) return true;
  for (size_t i = 0; i < p->allowed.n; i++)
    if (!strcmp(p->allowed.v[i], backend)) return true;
  return false;
}

const SgYNode *sg_state_get(const SgPipelineState *s, const char *key) {
  const SgYNode *v = NULL;
  for (size_t i = 0; s && i < s->n; i++)
    if (!strcmp(s->kv[i].key, key)) v = s->kv[i].val;
  return v;
}

/* ==== Loading =================================================================== */

typedef struct Loader {
  SgArena *a;
  SgDiags *d;
  bool failed;
} Loader;

static void lerr(Loader *L, SgLoc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lerr(Loader *L, SgLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_vdiag(L->d, SG_D_PIPELINE, loc, fmt, ap);
  va_end(ap);
  L->failed = true;
}

static void free_code(void *p) { pcre2_code_free(p); }

/* The buffer's text in the arena; NULL when it ran out of memory (a
 * truncated text is never used as if it were whole). */
static char *buf_dup(SgArena *a, const SgBuf *b) {
  if (b->oom) return a->failed = true, NULL;
  return sg_arena_strndup(a, b->data ? b->data : "", b->len);
}

static pcre2_code *compile_re(Loader *L, const SgYNode *n, uint32_t opts) {
  int err;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)n->text, n->len, opts | PCRE2_UTF, &err, &off, NULL);
  if (!re) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    SgLoc loc = n->loc;
    if (!n->multiline) loc.col += (uint32_t)off + (n->quoted ? 1 : 0);
    lerr(L, loc, "invalid regular expression: %s", (const char *)msg);
    return NULL;
  }
  if (!sg_arena_defer(L->a, free_code, re)) return NULL; /* freed already; the arena reports it */
  return re;
}

/* Check `map` against "a !b c": unknown keys and missing required ones. */
static void check_keys(Loader *L, const SgYNode *map, const char *params, const char *common,
                       const char *what) {
  for (size_t i = 0; i < map->n; i++) {
    const char *k = map->keys[i]->text;
    size_t kl = strlen(k);
    bool ok = false;
    for (const char *lists[2] = {params, common}, **l = lists; l < lists + 2 && !ok; l++)
      for (const char *p = *l; p && *p && !ok;) {
        if (*p == '!') p++;
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        ok = n == kl && !strncmp(p, k, n);
        p = e ? e + 1 : p + n;
      }
    if (!ok) lerr(L, map->keys[i]->loc, "unknown key '%s' in %s", k, what);
  }
  for (const char *p = params; p && *p;) {
    const char *e = strchr(p, ' ');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (*p == '!') {
      char key[64];
      snprintf(key, sizeof key, "%.*s", (int)(n - 1), p + 1);
      if (!sg_ymap_get(map, key)) lerr(L, map->loc, "%s needs '%s'", what, key);
    }
    p = e ? e + 1 : p + n;
  }
}

static const char *lstr(Loader *L, const SgYNode *map, const char *key) {
  const SgYNode *v = sg_ymap_get(map, key);
  if (!v) return NULL;
  if (v->kind != SG_Y_SCALAR || v->type == SG_YT_NULL) {
    lerr(L, v->loc, "'%s' must be a string, not %s", key, sg_ytype_name(v));
    return NULL;
  }
  return v->text;
}

static bool lbool(Loader *L, const SgYNode *map, const char *key, bool def) {
  const SgYNode *v = sg_ymap_get(map, key);
  if (!v) return def;
  if (v->kind != SG_Y_SCALAR || v->type != SG_YT_BOOL) {
    lerr(L, v->loc, "'%s' must be true or false", key);
    return def;
  }
  return v->bval;
}

/* A string or a list of strings. */
static void llist(Loader *L, const SgYNode *map, const char *key, SgStrList *out) {
  const SgYNode *v = sg_ymap_get(map, key);
  if (!v) return;
  const SgYNode *const *items = (const SgYNode *const *)&v;
  size_t n = 1;
  if (v->kind == SG_Y_SEQ) {
    items = (const SgYNode *const *)v->items;
    n = v->n;
  }
  out->v = sg_arena_alloc(L->a, (n + 1) * sizeof *out->v);
  out->locs = sg_arena_alloc(L->a, (n + 1) * sizeof *out->locs);
  if (!out->v || !out->locs) return;
  for (size_t i = 0; i < n; i++) {
    if (items[i]->kind != SG_Y_SCALAR || items[i]->type == SG_YT_NULL) {
      lerr(L, items[i]->loc, "'%s' must be a string or a list of strings", key);
      continue;
    }
    out->locs[out->n] = items[i]->loc;
    out->v[out->n++] = items[i]->text;
  }
}

/* A mapping (or NULL when absent). */
static const SgYNode *lmap(Loader *L, const SgYNode *map, const char *key) {
  const SgYNode *v = sg_ymap_get(map, key);
  if (v && v->kind != SG_Y_MAP) lerr(L, v->loc, "'%s' must be a mapping", key);
  return v && v->kind == SG_Y_MAP ? v : NULL;
}

/* One of `names` (NULL-terminated), as its index; absent: the first. */
static int lenum(Loader *L, const SgYNode *map, const char *key, const char *const *names) {
  const char *v = lstr(L, map, key);
  for (int i = 0; v && names[i]; i++)
    if (!strcmp(names[i], v)) return i;
  if (v) {
    char all[160] = "";
    for (int i = 0; names[i]; i++)
      snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? (names[i + 1] ? ", " : " or ") : "",
               names[i]);
    lerr(L, map->loc, "'%s' must be %s", key, all);
  }
  return 0;
}

/* force_type / target_type: str or num. */
static ValueType lvaluetype(Loader *L, const SgYNode *map, const char *key) {
  static const char *const names[] = {"str", "num", NULL};
  return sg_ymap_get(map, key) ? (ValueType)(VT_STR + lenum(L, map, key, names)) : VT_AS_WRITTEN;
}

static void load_cond(Loader *L, const SgYNode *n, const char *name, unsigned level, PCond *c) {
  memset(c, 0, sizeof *c);
  c->name = name;
  c->loc = n->loc;
  if (n->kind != SG_Y_MAP) {
    lerr(L, n->loc, "a condition must be a mapping with a 'type'");
    return;
  }
  const char *type = lstr(L, n, "type");
  if (!type) {
    if (!sg_ymap_get(n, "type")) lerr(L, n->loc, "condition needs a 'type'");
    return;
  }
  size_t ti = sizeof cond_types / sizeof *cond_types;
  for (size_t i = 0; i < sizeof cond_types / sizeof *cond_types; i++)
    if (!strcmp(cond_types[i].name, type)) ti = i;
  if (ti == sizeof cond_types / sizeof *cond_types) {
    lerr(L, sg_ymap_get(n, "type")->loc, "unknown condition type '%s'", type);
    return;
  }
  if (!(cond_types[ti].levels & level)) {
    lerr(L, sg_ymap_get(n, "type")->loc, "condition '%s' cannot be used as a %s condition", type,
         level == L_RULE   ? "rule"
         : level == L_ITEM ? "detection item"
                           : "field name");
    return;
  }
  c->t = cond_types[ti].t;
  check_keys(L, n, cond_types[ti].params, "type", "condition");
  c->category = lstr(L, n, "category");
  c->product = lstr(L, n, "product");
  c->service = lstr(L, n, "service");
  c->field = lstr(L, n, "field");
  c->attribute = lstr(L, n, "attribute");
  c->op = lstr(L, n, "op");
  c->tag = lstr(L, n, "tag");
  c->id = lstr(L, n, "processing_item_id");
  c->key = lstr(L, n, "key");
  c->value = sg_ymap_get(n, c->t == PC_STATE ? "val" : "value");
  c->negate = lbool(L, n, "negate", false);
  const char *mode = lstr(L, n, "cond");
  if (mode && strcmp(mode, "any") && strcmp(mode, "all")) lerr(L, n->loc, "'cond' must be any or all");
  if (c->op) {
    static const char *const ops[] = {"eq", "ne", "gte", "gt", "lte", "lt", "in", "not_in"};
    bool ok = false;
    for (size_t i = 0; i < 8; i++)
      ok |= !strcmp(ops[i], c->op);
    if (!ok) lerr(L, sg_ymap_get(n, "op")->loc, "unknown operator '%s'", c->op);
  }
  if (c->t == PC_MATCH_STRING && sg_ymap_get(n, "pattern"))
    c->re = compile_re(L, sg_ymap_get(n, "pattern"), 0);
  if (c->t == PC_INCLUDE_FIELDS || c->t == PC_EXCLUDE_FIELDS) {
    llist(L, n, "fields", &c->fields);
    const char *fmode = lstr(L, n, "mode");
    if (fmode && !strcmp(fmode, "re")) {
      c->field_res = sg_arena_alloc(L->a, (c->fields.n + 1) * sizeof *c->field_res);
      const SgYNode *fl = sg_ymap_get(n, "fields");
      for (size_t i = 0; c->field_res && i < c->fields.n; i++)
        c->field_res[i] =
            compile_re(L, fl->kind == SG_Y_SEQ ? fl->items[i] : fl, PCRE2_ANCHORED | PCRE2_ENDANCHORED);
    } else if (fmode && strcmp(fmode, "plain")) {
      lerr(L, sg_ymap_get(n, "mode")->loc, "'mode' must be plain or re");
    }
  }
}

/* <prefix>_conditions (list, or named mapping for <prefix>_cond_expr), _cond_op, _cond_not, _cond_expr */
static void load_condset(Loader *L, const SgYNode *item, const char *prefix, unsigned level, CondSet *cs) {
  char k1[64], k2[64], k3[64], k4[64];
  snprintf(k1, sizeof k1, "%s_conditions", prefix);
  snprintf(k2, sizeof k2, "%s_cond_op", prefix);
  snprintf(k3, sizeof k3, "%s_cond_not", prefix);
  snprintf(k4, sizeof k4, "%s_cond_expr", prefix);
  const SgYNode *conds = sg_ymap_get(item, k1), *expr = sg_ymap_get(item, k4);
  const char *op = lstr(L, item, k2);
  if (op && strcmp(op, "and") && strcmp(op, "or"))
    lerr(L, sg_ymap_get(item, k2)->loc, "'%s' must be and or or", k2);
  cs->or_op = op && !strcmp(op, "or");
  cs->negate = lbool(L, item, k3, false);
  if (!conds) {
    if (expr) lerr(L, expr->loc, "'%s' needs named '%s'", k4, k1);
    return;
  }
  cs->v = sg_arena_alloc(L->a, (conds->n + 1) * sizeof *cs->v);
  if (!cs->v) return;
  if (conds->kind == SG_Y_SEQ) {
    for (size_t i = 0; i < conds->n; i++)
      load_cond(L, conds->items[i], NULL, level, &cs->v[cs->n++]);
  } else if (conds->kind == SG_Y_MAP) {
    for (size_t i = 0; i < conds->n; i++)
      load_cond(L, conds->items[i], conds->keys[i]->text, level, &cs->v[cs->n++]);
  } else {
    lerr(L, conds->loc, "'%s' must be a list or a mapping of named conditions", k1);
  }
  if (expr) {
    SgCondition c = {0};
    if (expr->kind != SG_Y_SCALAR || sg_cond_parse(L->a, &c, expr, L->d) != SG_OK) {
      L->failed = true;
      if (expr->kind != SG_Y_SCALAR) lerr(L, expr->loc, "'%s' must be a string", k4);
    }
    cs->expr = c.expr;
  }
}

static void load_items(Loader *L, const SgYNode *seq, unsigned kind, PItem **out, size_t *nout);

static void load_item(Loader *L, const SgYNode *n, unsigned kind, PItem *it) {
  memset(it, 0, sizeof *it);
  it->loc = n->loc;
  if (n->kind != SG_Y_MAP) {
    lerr(L, n->loc, "a processing item must be a mapping with a 'type'");
    return;
  }
  const char *type = lstr(L, n, "type");
  if (!type) {
    if (!sg_ymap_get(n, "type")) lerr(L, n->loc, "processing item needs a 'type'");
    return;
  }
  SgLoc tloc = sg_ymap_get(n, "type")->loc;
  size_t ti = sizeof item_types / sizeof *item_types;
  for (size_t i = 0; i < sizeof item_types / sizeof *item_types; i++)
    if (!strcmp(item_types[i].name, type) && (item_types[i].kind & kind)) ti = i;
  if (ti == sizeof item_types / sizeof *item_types) {
    for (size_t i = 0; i < sizeof refused_types / sizeof *refused_types; i++)
      if (!strcmp(refused_types[i].name, type)) {
        sg_diag(L->d, SG_D_UNSUPPORTED, tloc, "'%s': %s", type, refused_types[i].why);
        L->failed = true;
        return;
      }
    lerr(L, tloc, "unknown %s type '%s'",
         kind == K_TRANSFORM ? "transformation"
         : kind == K_POST    ? "postprocessing"
                             : "finalizer",
         type);
    return;
  }
  it->t = item_types[ti].t;
  const char *common = kind == K_FINAL ? "type"
                       : kind == K_POST
                           ? "type id rule_conditions rule_cond_op rule_cond_not rule_cond_expr"
                           : "type id rule_conditions rule_cond_op rule_cond_not rule_cond_expr "
                             "detection_item_conditions detection_item_cond_op detection_item_cond_not "
                             "detection_item_cond_expr field_name_conditions field_name_cond_op "
                             "field_name_cond_not field_name_cond_expr";
  char what[96];
  snprintf(what, sizeof what, "'%s'", type);
  check_keys(L, n, item_types[ti].params, common, what);
  it->id = lstr(L, n, "id");
  load_condset(L, n, "rule", L_RULE, &it->rule_c);
  load_condset(L, n, "detection_item", L_ITEM, &it->item_c);
  load_condset(L, n, "field_name", L_FIELD, &it->field_c);
  switch (it->t) {
  case T_FIELD_MAP:
  case T_PREFIX_MAP:
  case T_MAP_STRING: it->p.map.mapping = lmap(L, n, "mapping"); break;
  case T_FIELD_PREFIX: it->p.affix.text = lstr(L, n, "prefix"); break;
  case T_FIELD_SUFFIX: it->p.affix.text = lstr(L, n, "suffix"); break;
  case T_ADD_COND: {
    const SgYNode *conds = sg_ymap_get(n, "conditions");
    if (conds) { /* a mapping (pySigma), or a list of mappings: an OR of them */
      bool ok = conds->kind == SG_Y_MAP || (conds->kind == SG_Y_SEQ && conds->n);
      for (size_t i = 0; ok && conds->kind == SG_Y_SEQ && i < conds->n; i++)
        ok = conds->items[i]->kind == SG_Y_MAP;
      if (!ok) lerr(L, conds->loc, "'conditions' must be a mapping of field: value, or a list of them");
    }
    it->p.add_cond.conditions = conds;
    it->p.add_cond.name = lstr(L, n, "name");
    it->p.add_cond.templated = lbool(L, n, "template", false);
    it->p.add_cond.negated = lbool(L, n, "negated", false);
    break;
  }
  case T_CHANGE_LS:
    it->p.logsource.category = lstr(L, n, "category");
    it->p.logsource.product = lstr(L, n, "product");
    it->p.logsource.service = lstr(L, n, "service");
    break;
  case T_ADD_FIELD:
  case T_REMOVE_FIELD: llist(L, n, "field", &it->p.fields.names); break;
  case T_SET_FIELD: llist(L, n, "fields", &it->p.fields.names); break;
  case T_REPLACE:
    if (sg_ymap_get(n, "regex")) it->p.replace.re = compile_re(L, sg_ymap_get(n, "regex"), 0);
    it->p.replace.replacement = lstr(L, n, "replacement");
    it->p.replace.skip_special = lbool(L, n, "skip_special", false);
    it->p.replace.interpret_special = lbool(L, n, "interpret_special", false);
    break;
  case T_SET_VALUE:
    it->p.set_value.value = sg_ymap_get(n, "value");
    it->p.set_value.force_type = lvaluetype(L, n, "force_type");
    if (it->p.set_value.value && it->p.set_value.value->kind != SG_Y_SCALAR)
      lerr(L, it->p.set_value.value->loc, "'value' must be a scalar");
    break;
  case T_CONVERT: it->p.convert.target_type = lvaluetype(L, n, "target_type"); break;
  case T_CASE: {
    static const char *const methods[] = {"lower", "upper", "snake_case", NULL};
    it->p.casing.method = (CaseMethod)lenum(L, n, "method", methods);
    break;
  }
  case T_REGEX: {
    static const char *const methods[] = {"plain", "ignore_case_flag", "ignore_case_brackets", NULL};
    it->p.regex.method = (RegexMethod)lenum(L, n, "method", methods);
    break;
  }
  case T_HASHES:
    llist(L, n, "valid_hash_algos", &it->p.hashes.valid_algos);
    llist(L, n, "field_to_parse", &it->p.hashes.fields_to_parse);
    it->p.hashes.field_prefix = lstr(L, n, "field_prefix");
    it->p.hashes.drop_algo_prefix = lbool(L, n, "drop_algo_prefix", false);
    break;
  case T_VALUE_PH:
  case T_WILDCARD_PH:
  case T_QUERY_PH:
    llist(L, n, "include", &it->p.placeholders.include);
    llist(L, n, "exclude", &it->p.placeholders.exclude);
    it->p.placeholders.expression = lstr(L, n, "expression");
    it->p.placeholders.mapping = lmap(L, n, "mapping");
    break;
  case T_SET_STATE:
    it->p.kv.key = lstr(L, n, "key");
    it->p.kv.value = sg_ymap_get(n, "val");
    break;
  case T_SET_ATTR:
    it->p.kv.key = lstr(L, n, "attribute");
    it->p.kv.value = sg_ymap_get(n, "value");
    break;
  case T_RULE_FAIL:
  case T_ITEM_FAIL: it->p.failure.message = lstr(L, n, "message"); break;
  case T_NEST:
  case P_NEST: {
    const SgYNode *items = sg_ymap_get(n, "items");
    if (items) load_items(L, items, kind, &it->p.nest.items, &it->p.nest.n);
    break;
  }
  case P_EMBED:
    it->p.embed.prefix = lstr(L, n, "prefix");
    it->p.embed.suffix = lstr(L, n, "suffix");
    break;
  case P_TEMPLATE: it->p.tpl.text = lstr(L, n, "template"); break;
  case P_REPLACE:
    if (sg_ymap_get(n, "pattern")) it->p.replace.re = compile_re(L, sg_ymap_get(n, "pattern"), 0);
    it->p.replace.replacement = lstr(L, n, "replacement");
    break;
  case F_CONCAT:
    it->p.concat.separator = lstr(L, n, "separator");
    it->p.concat.prefix = lstr(L, n, "prefix");
    it->p.concat.suffix = lstr(L, n, "suffix");
    break;
  case F_JSON: {
    const SgYNode *ind = sg_ymap_get(n, "indent");
    if (ind && (ind->kind != SG_Y_SCALAR || (ind->type != SG_YT_INT && ind->type != SG_YT_NULL)))
      lerr(L, ind->loc, "'indent' must be a number");
    it->p.json.indent = ind && ind->type == SG_YT_INT ? strtol(ind->text, NULL, 10) : -1;
    break;
  }
  default: break;
  }
}

static void load_items(Loader *L, const SgYNode *seq, unsigned kind, PItem **out, size_t *nout) {
  if (seq->kind != SG_Y_SEQ) {
    lerr(L, seq->loc, "expected a list of processing items, not %s", sg_ytype_name(seq));
    return;
  }
  *out = sg_arena_alloc(L->a, (seq->n + 1) * sizeof **out);
  if (!*out) return;
  for (size_t i = 0; i < seq->n; i++)
    load_item(L, seq->items[i], kind, &(*out)[(*nout)++]);
}

SgStatus sg_pipeline_load(SgArena *a, const char *path, const char *src, size_t len, SgPipeline **out,
                          SgDiags *d) {
  Loader L = {a, d, false};
  SgYDoc *docs;
  size_t ndocs;
  SgStatus st = sg_yaml_load(a, path, src, len, &docs, &ndocs, d);
  if (st) return st;
  const SgYNode *root = ndocs ? docs[0].root : NULL;
  if (!root || root->kind != SG_Y_MAP) {
    sg_diag(d, SG_D_PIPELINE, (SgLoc){path, 1, 1}, "a pipeline file must be a mapping");
    return SG_ERR_PARSE;
  }
  SgPipeline *p = sg_arena_alloc(a, sizeof *p);
  if (!p) return SG_ERR_NOMEM;
  p->path = path;
  check_keys(&L, root, "name priority allowed_backends vars transformations postprocessing finalizers", NULL,
             "pipeline");
  p->name = lstr(&L, root, "name");
  if (!p->name) p->name = path;
  const SgYNode *prio = sg_ymap_get(root, "priority");
  if (prio && (prio->kind != SG_Y_SCALAR || prio->type != SG_YT_INT))
    lerr(&L, prio->loc, "'priority' must be an integer");
  else if (prio)
    p->priority = strtol(prio->text, NULL, 10);
  llist(&L, root, "allowed_backends", &p->allowed);
  p->vars = sg_ymap_get(root, "vars");
  if (p->vars && p->vars->kind != SG_Y_MAP) lerr(&L, p->vars->loc, "'vars' must be a mapping");
  const SgYNode *t = sg_ymap_get(root, "transformations"), *pp = sg_ymap_get(root, "postprocessing"),
                *f = sg_ymap_get(root, "finalizers");
  if (t) load_items(&L, t, K_TRANSFORM, &p->items, &p->nitems);
  if (pp) load_items(&L, pp, K_POST, &p->post, &p->npost);
  if (f) load_items(&L, f, K_FINAL, &p->fin, &p->nfin);
  if (a->failed) return SG_ERR_NOMEM;
  if (L.failed) return SG_ERR_PARSE;
  *out = p;
  return SG_OK;
}

static bool has_id_list(const char *const *ids, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(ids[i], id)) return true;
  return false;
}

/* ==== Resolution of -p arguments ================================================== */

static SgStatus add_source(SgArena *a, SgPipelineSet *set, const char *path, const char *src, size_t len,
                           SgDiags *d) {
  SgPipeline *p;
  SgStatus st = sg_pipeline_load(a, path, src, len, &p, d);
  if (st) return st;
  SgPipeline **slot = SG_PUSH(a, set->v, set->n, set->cap);
  if (!slot) return SG_ERR_NOMEM;
  *slot = p;
  return SG_OK;
}

static int cmp_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static SgStatus add_path(SgArena *a, SgPipelineSet *set, const char *path, SgDiags *d, int depth) {
  struct stat st;
  if (stat(path, &st) != 0) return SG_ERR_IO;
  if (!S_ISDIR(st.st_mode)) {
    char *src;
    size_t len;
    SgStatus s = sg_read_file(path, &src, &len, d);
    if (s) return s;
    char *copy = sg_arena_strndup(a, src, len);
    free(src);
    if (!copy) return SG_ERR_NOMEM;
    return add_source(a, set, sg_arena_strdup(a, path), copy, len, d);
  }
  if (depth > 16) return SG_OK;
  DIR *dir = opendir(path);
  if (!dir) return SG_ERR_IO;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  SgStatus worst = SG_OK;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    char **slot = SG_PUSH(a, names, n, cap);
    if (!slot) {
      closedir(dir);
      return SG_ERR_NOMEM;
    }
    *slot = sg_arena_printf(a, "%s/%s", path, e->d_name);
  }
  closedir(dir);
  if (n) qsort(names, n, sizeof *names, cmp_name);
  for (size_t i = 0; i < n; i++) {
    size_t l = names[i] ? strlen(names[i]) : 0;
    struct stat s2;
    if (!l || stat(names[i], &s2) != 0) continue;
    bool yml = (l > 4 && !strcmp(names[i] + l - 4, ".yml")) || (l > 5 && !strcmp(names[i] + l - 5, ".yaml"));
    if (S_ISDIR(s2.st_mode) || yml) {
      SgStatus s = add_path(a, set, names[i], d, depth + 1);
      if (s) worst = s;
    }
  }
  return worst;
}

SgStatus sg_pipeline_add(SgArena *a, SgPipelineSet *set, const char *spec, SgDiags *d) {
  size_t n;
  const SgBuiltinPipeline *b = sg_builtin_pipelines(&n);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(b[i].name, spec)) {
      char *path = sg_arena_printf(a, "<builtin>/%s.yml", spec);
      return path ? add_source(a, set, path, b[i].text, b[i].len, d) : SG_ERR_NOMEM;
    }
  SgStatus st = add_path(a, set, spec, d, 0);
  if (st == SG_ERR_IO && d->nerrors == 0)
    sg_diag(d, SG_D_PIPELINE, (SgLoc){spec, 0, 0},
            "no built-in pipeline, file or directory of that name (see 'sigmacc list pipelines')");
  else if (st == SG_ERR_IO)
    sg_diag(d, SG_D_PIPELINE, (SgLoc){spec, 0, 0}, "cannot read the pipeline");
  return st;
}

static void collect_ids(const PItem *items, size_t n, const char ***ids, size_t *nids, size_t *cap,
                        SgArena *a) {
  for (size_t i = 0; i < n; i++) {
    if (items[i].id) {
      const char **slot = SG_PUSH(a, *ids, *nids, *cap);
      if (slot) *slot = items[i].id;
    }
    if (items[i].t == T_NEST || items[i].t == P_NEST)
      collect_ids(items[i].p.nest.items, items[i].p.nest.n, ids, nids, cap, a);
  }
}

static void check_applied(const CondSet *cs, const char **ids, size_t nids, SgDiags *d, bool *ok) {
  for (size_t i = 0; i < cs->n; i++)
    if (cs->v[i].t == PC_APPLIED && cs->v[i].id && !has_id_list(ids, nids, cs->v[i].id)) {
      sg_diag(d, SG_D_PIPELINE, cs->v[i].loc,
              "processing_item_applied names '%s', which no processing item defines", cs->v[i].id);
      *ok = false;
    }
}

static void check_items(const PItem *items, size_t n, const char **ids, size_t nids, SgDiags *d, bool *ok) {
  for (size_t i = 0; i < n; i++) {
    check_applied(&items[i].rule_c, ids, nids, d, ok);
    check_applied(&items[i].item_c, ids, nids, d, ok);
    check_applied(&items[i].field_c, ids, nids, d, ok);
    if (items[i].t == T_NEST || items[i].t == P_NEST)
      check_items(items[i].p.nest.items, items[i].p.nest.n, ids, nids, d, ok);
  }
}

SgStatus sg_pipeline_validate(SgArena *a, const SgPipelineSet *set, SgDiags *d) {
  const char **ids = NULL;
  size_t nids = 0, cap = 0;
  for (size_t p = 0; p < set->n; p++)
    collect_ids(set->v[p]->items, set->v[p]->nitems, &ids, &nids, &cap, a);
  bool ok = true;
  for (size_t p = 0; p < set->n; p++) {
    check_items(set->v[p]->items, set->v[p]->nitems, ids, nids, d, &ok);
    check_items(set->v[p]->post, set->v[p]->npost, ids, nids, d, &ok);
  }
  return ok ? SG_OK : SG_ERR_PARSE;
}

static int cmp_pipeline(const void *x, const void *y) {
  const SgPipeline *a = *(SgPipeline *const *)x, *b = *(SgPipeline *const *)y;
  if (a->priority != b->priority) return a->priority < b->priority ? -1 : 1;
  return strcmp(a->name, b->name);
}

void sg_pipeline_sort(SgPipelineSet *set) {
  if (set->n > 1) qsort(set->v, set->n, sizeof *set->v, cmp_pipeline);
}

SgStatus sg_pipeline_append(SgArena *a, SgPipelineSet *set, const SgPipelineSet *more) {
  for (size_t i = 0; i < more->n; i++) {
    SgPipeline **slot = SG_PUSH(a, set->v, set->n, set->cap);
    if (!slot) return SG_ERR_NOMEM;
    *slot = more->v[i];
  }
  return SG_OK;
}

/* ==== Applying: conditions ======================================================== */

typedef struct Ctx {
  SgArena *a;
  SgDiags *d;
  SgRule *r;
  SgPipelineState *state;
  const SgPipeline *p;
  const PItem *outer[8]; /* enclosing nest items, whose node conditions also apply */
  size_t nouter;
  bool touched;         /* the current node transformation changed the node */
  const char **applied; /* rule-level applied item ids */
  size_t napplied, capplied;
  bool failed, unsupported, oom;
} Ctx;

static bool value_text_eq(const SgValue *v, const SgYNode *want) {
  if (!want || want->kind != SG_Y_SCALAR) return false;
  switch (v->kind) {
  case SG_V_STR:
    return v->str.nparts == 1 && v->str.parts[0].kind == SG_PART_LIT && v->str.parts[0].n == want->len &&
           !memcmp(v->str.parts[0].s, want->text, want->len);
  case SG_V_NUM: {
    SgNum n;
    return sg_num_parse(want->text, want->len, &n) && n.d == v->num.d;
  }
  case SG_V_BOOL: return want->type == SG_YT_BOOL && want->bval == v->b;
  case SG_V_NULL: return want->type == SG_YT_NULL;
  default: return false;
  }
}

static bool tree_has(const SgNode *n, const char *field, const SgYNode *value) {
  if (n->kind == SG_N_MATCH)
    return n->m.field && !strcmp(n->m.field, field) && (!value || value_text_eq(&n->m.v, value));
  for (uint32_t i = 0; i < n->nkids; i++)
    if (tree_has(n->kids[i], field, value)) return true;
  return false;
}

static int ordinal(const char *attr, const char *v) {
  static const char *const levels[] = {"informational", "low", "medium", "high", "critical", NULL};
  static const char *const statuses[] = {"unsupported", "deprecated", "experimental", "test", "stable", NULL};
  const char *const *set = !strcmp(attr, "level") ? levels : !strcmp(attr, "status") ? statuses : NULL;
  for (int i = 0; set && set[i]; i++)
    if (!sg_ascii_casecmp(set[i], v)) return i;
  return -1;
}

static bool compare(const char *attr, const char *have, const char *op, const SgYNode *want) {
  if (!want) return false;
  if (!have) return op && (!strcmp(op, "ne") || !strcmp(op, "not_in"));
  if (op && (!strcmp(op, "in") || !strcmp(op, "not_in"))) {
    bool in = false;
    for (size_t i = 0; want->kind == SG_Y_SEQ && i < want->n; i++)
      in |= !strcmp(want->items[i]->text, have);
    if (want->kind == SG_Y_SCALAR) in = !strcmp(want->text, have);
    return !strcmp(op, "in") ? in : !in;
  }
  if (want->kind != SG_Y_SCALAR) return false;
  int c, oh = ordinal(attr, have), ow = ordinal(attr, want->text);
  if (oh >= 0 && ow >= 0)
    c = oh - ow;
  else
    c = strcmp(have, want->text);
  if (!op || !strcmp(op, "eq")) return c == 0;
  if (!strcmp(op, "ne")) return c != 0;
  if (!strcmp(op, "gte")) return c >= 0;
  if (!strcmp(op, "gt")) return c > 0;
  if (!strcmp(op, "lte")) return c <= 0;
  return c < 0; /* lt */
}

static const char *rule_attr(const SgRule *r, const char *attr) {
  static const char *const names[] = {"title",  "id",   "name",     "status",  "level",   "description",
                                      "author", "date", "modified", "license", "taxonomy"};
  const char *vals[] = {r->title,  r->id,   r->name,     r->status,  r->level,   r->description,
                        r->author, r->date, r->modified, r->license, r->taxonomy};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(names[i], attr)) return vals[i];
  for (size_t i = r->ncustom; i-- > 0;)
    if (!strcmp(r->custom[i].key, attr) && r->custom[i].val->kind == SG_Y_SCALAR)
      return r->custom[i].val->text;
  return NULL;
}

/* A condition attribute that is unset, or equal (first byte first: most
 * logsource conditions of a pipeline do not apply). */
static bool same_or_unset(const char *want, const char *have) {
  return !want || (have && want[0] == have[0] && !strcmp(want, have));
}

static bool eval_cond(Ctx *c, const PCond *pc, const SgNode *n) {
  const SgRule *r = c->r;
  switch (pc->t) {
  case PC_LOGSOURCE:
    if (r->kind == SG_DOC_CORRELATION) return false;
    return same_or_unset(pc->category, r->logsource.category) &&
           same_or_unset(pc->product, r->logsource.product) &&
           same_or_unset(pc->service, r->logsource.service);
  case PC_CONTAINS_ITEM:
  case PC_CONTAINS_FIELD:
    for (size_t i = 0; i < r->nconds; i++)
      if (r->conds[i].root &&
          tree_has(r->conds[i].root, pc->field, pc->t == PC_CONTAINS_ITEM ? pc->value : NULL))
        return true;
    return false;
  case PC_IS_RULE: return r->kind == SG_DOC_RULE;
  case PC_IS_CORR: return r->kind == SG_DOC_CORRELATION;
  case PC_RULE_ATTR: return compare(pc->attribute, rule_attr(r, pc->attribute), pc->op, pc->value);
  case PC_TAG:
    for (size_t i = 0; i < r->tags.n; i++)
      if (!sg_ascii_casecmp(r->tags.v[i], pc->tag)) return true;
    return false;
  case PC_APPLIED:
    return n && n->kind == SG_N_MATCH ? has_id_list(n->m.applied, n->m.napplied, pc->id)
                                      : has_id_list(c->applied, c->napplied, pc->id);
  case PC_STATE: {
    const SgYNode *v = sg_state_get(c->state, pc->key);
    return compare(pc->key, v && v->kind == SG_Y_SCALAR ? v->text : NULL, pc->op, pc->value);
  }
  case PC_MATCH_STRING: {
    if (!n || n->m.v.kind != SG_V_STR) return pc->negate;
    size_t len;
    char *flat = sg_str_flat(c->a, &n->m.v.str, &len);
    if (!flat) return false;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(pc->re, NULL);
    int rc = md ? pcre2_match(pc->re, (PCRE2_SPTR)flat, len, 0, 0, md, NULL) : -1;
    pcre2_match_data_free(md);
    return (rc >= 0) != pc->negate;
  }
  case PC_MATCH_VALUE: return n && value_text_eq(&n->m.v, pc->value);
  case PC_CONTAINS_WILDCARD: return n && n->m.v.kind == SG_V_STR && sg_str_has_wildcard(&n->m.v.str);
  case PC_IS_NULL: return n && n->m.v.kind == SG_V_NULL;
  case PC_INCLUDE_FIELDS:
  case PC_EXCLUDE_FIELDS: {
    const char *f = n ? n->m.field : NULL;
    bool in = false;
    for (size_t i = 0; f && i < pc->fields.n && !in; i++) {
      if (pc->field_res) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(pc->field_res[i], NULL);
        in = md && pcre2_match(pc->field_res[i], (PCRE2_SPTR)f, strlen(f), 0, 0, md, NULL) >= 0;
        pcre2_match_data_free(md);
      } else {
        in = !strcmp(pc->fields.v[i], f);
      }
    }
    return pc->t == PC_INCLUDE_FIELDS ? in : !in;
  }
  }
  return false;
}

static bool eval_expr(Ctx *c, const CondSet *cs, const SgCondExpr *e, const SgNode *n) {
  switch (e->kind) {
  case SG_C_AND:
    for (uint32_t i = 0; i < e->n; i++)
      if (!eval_expr(c, cs, e->kids[i], n)) return false;
    return true;
  case SG_C_OR:
    for (uint32_t i = 0; i < e->n; i++)
      if (eval_expr(c, cs, e->kids[i], n)) return true;
    return false;
  case SG_C_NOT: return !eval_expr(c, cs, e->kids[0], n);
  case SG_C_ID:
    for (size_t i = 0; i < cs->n; i++)
      if (cs->v[i].name && !strcmp(cs->v[i].name, e->name)) return eval_cond(c, &cs->v[i], n);
    return false;
  case SG_C_ONE_OF:
  case SG_C_ALL_OF: {
    bool all = e->kind == SG_C_ALL_OF;
    for (size_t i = 0; i < cs->n; i++) {
      if (!e->them && !(cs->v[i].name && sg_glob_match(e->name, cs->v[i].name))) continue;
      bool r = eval_cond(c, &cs->v[i], n);
      if (all && !r) return false;
      if (!all && r) return true;
    }
    return all;
  }
  }
  return false;
}

static bool eval_set(Ctx *c, const CondSet *cs, const SgNode *n) {
  if (!cs->n) return true;
  bool r;
  if (cs->expr) {
    r = eval_expr(c, cs, cs->expr, n);
  } else {
    r = !cs->or_op;
    for (size_t i = 0; i < cs->n; i++) {
      bool x = eval_cond(c, &cs->v[i], n);
      r = cs->or_op ? (r || x) : (r && x);
    }
  }
  return r != cs->negate;
}

/* Detection item and field name conditions of the item and of every
 * enclosing nest item. */
static bool node_conds(Ctx *c, const PItem *it, const SgNode *n) {
  for (size_t i = 0; i < c->nouter; i++)
    if (!eval_set(c, &c->outer[i]->item_c, n) || !eval_set(c, &c->outer[i]->field_c, n)) return false;
  return eval_set(c, &it->item_c, n) && eval_set(c, &it->field_c, n);
}

/* ==== Applying: node-level transformations ========================================= */

static void mark(Ctx *c, SgNode *n, const char *id) {
  if (!id) return;
  if (n->kind != SG_N_MATCH) {
    for (uint32_t i = 0; i < n->nkids; i++)
      mark(c, n->kids[i], id);
    return;
  }
  if (has_id_list(n->m.applied, n->m.napplied, id)) return;
  const char **ids = sg_arena_alloc(c->a, (n->m.napplied + 1) * sizeof *ids);
  if (!ids) {
    c->oom = true;
    return;
  }
  if (n->m.napplied) memcpy(ids, n->m.applied, n->m.napplied * sizeof *ids);
  ids[n->m.napplied++] = id;
  n->m.applied = ids;
}

static SgNode *clone_with_field(Ctx *c, const SgNode *n, const char *field) {
  SgNode *k = sg_node_clone(c->a, n);
  if (!k) {
    c->oom = true;
    return NULL;
  }
  k->m.field = field;
  k->m.mapped = true;
  return k;
}

/* An OR of one node per alternative, made by `make(alt)`. */
static SgNode *or_of(Ctx *c, const SgNode *n, size_t count,
                     SgNode *(*make)(Ctx *, const SgNode *, size_t, const void *), const void *arg) {
  if (count == 1) return make(c, n, 0, arg);
  SgNode * or = sg_node_new(c->a, SG_N_OR, n->loc);
  for (size_t i = 0; or &&i < count; i++) {
    SgNode *k = make(c, n, i, arg);
    if (!k || sg_node_join(c->a, or, k)) return NULL;
  }
  if (! or) c->oom = true;
  return or ;
}

static SgNode *make_mapped(Ctx *c, const SgNode *n, size_t i, const void *arg) {
  const SgYNode *to = arg;
  return clone_with_field(c, n, to->kind == SG_Y_SEQ ? to->items[i]->text : to->text);
}

/* Keyword mapped to a field: the keyword matched anywhere, so wrap it in `*`. */
static void keyword_to_field(Ctx *c, SgNode *n) {
  SgValue *v = &n->m.v;
  if (v->kind == SG_V_NUM) {
    SgStr s;
    if (sg_str_parse(c->a, v->num.text, strlen(v->num.text), &s)) c->oom = true;
    v->kind = SG_V_STR;
    v->str = s;
  }
  if (v->kind == SG_V_STR && n->m.op == SG_OP_EQ && sg_str_wrap(c->a, &v->str, true, true, &v->str))
    c->oom = true;
}

static const SgYNode *map_lookup(const SgYNode *mapping, const char *field) {
  return sg_ymap_get(mapping, field ? field : "~");
}

/* The field of a match through the mapping (one-to-many: an OR). */
static SgNode *map_field_only(Ctx *c, const PItem *it, SgNode *n) {
  const SgYNode *to = map_lookup(it->p.map.mapping, n->m.field);
  if (!to) return n;
  c->touched = true;
  if (to->kind == SG_Y_MAP || (to->kind == SG_Y_SEQ && to->n == 0)) {
    sg_diag(c->d, SG_D_PIPELINE, to->loc, "a field maps to a name or a list of names");
    c->failed = true;
    return n;
  }
  if (!n->m.field) keyword_to_field(c, n);
  return or_of(c, n, to->kind == SG_Y_SEQ ? to->n : 1, make_mapped, to);
}

static SgNode *make_mapped_ref(Ctx *c, const SgNode *n, size_t i, const void *arg) {
  const SgYNode *to = arg;
  const char *name = to->kind == SG_Y_SEQ ? to->items[i]->text : to->text;
  SgNode *k = sg_node_clone(c->a, n);
  SgPart *p = sg_arena_alloc(c->a, sizeof *p);
  if (!k || !p) return c->oom = true, NULL;
  *p = (SgPart){SG_PART_LIT, name, strlen(name)};
  k->m.v.str = (SgStr){p, 1};
  return k;
}

static SgNode *t_field_map(Ctx *c, const PItem *it, SgNode *n) {
  /* the referenced field of a fieldref is a field name too; mapped to several
   * names, the reference compares with any of them (an OR) */
  if (n->m.v.kind == SG_V_FIELD) {
    const SgYNode *ref = map_lookup(it->p.map.mapping, n->m.v.str.parts[0].s);
    if (ref && (ref->kind == SG_Y_MAP || (ref->kind == SG_Y_SEQ && ref->n == 0))) {
      sg_diag(c->d, SG_D_PIPELINE, ref->loc, "a field maps to a name or a list of names");
      c->failed = true;
      return n;
    }
    if (ref) {
      c->touched = true;
      SgNode *r = or_of(c, n, ref->kind == SG_Y_SEQ ? ref->n : 1, make_mapped_ref, ref);
      if (!r) return n;
      if (r->kind == SG_N_OR) { /* map each alternative's own field */
        for (uint32_t i = 0; i < r->nkids; i++) {
          SgNode *k = map_field_only(c, it, r->kids[i]);
          if (!k) return n;
          r->kids[i] = k;
        }
        return r;
      }
      n = r;
    }
  }
  return map_field_only(c, it, n);
}

static const char *prefix_mapped(Ctx *c, const PItem *it, const char *f, const SgYNode **to_out) {
  for (size_t i = 0; f && i < it->p.map.mapping->n; i++) {
    const char *pre = it->p.map.mapping->keys[i]->text;
    size_t pl = strlen(pre);
    if (strncmp(f, pre, pl)) continue;
    *to_out = it->p.map.mapping->items[i];
    return f + pl;
  }
  (void)c;
  return NULL;
}

static SgNode *make_prefixed(Ctx *c, const SgNode *n, size_t i, const void *arg) {
  const SgYNode *to = ((const SgYNode *const *)arg)[0];
  const char *rest = ((const char *const *)arg)[1];
  const char *pre = to->kind == SG_Y_SEQ ? to->items[i]->text : to->text;
  return clone_with_field(c, n, sg_arena_printf(c->a, "%s%s", pre, rest));
}

static SgNode *t_prefix_map(Ctx *c, const PItem *it, SgNode *n) {
  const SgYNode *to = NULL;
  const char *rest = prefix_mapped(c, it, n->m.field, &to);
  if (!rest) return n;
  c->touched = true;
  const void *arg[2] = {to, rest};
  return or_of(c, n, to->kind == SG_Y_SEQ ? to->n : 1, make_prefixed, arg);
}

static SgNode *t_affix(Ctx *c, const PItem *it, SgNode *n) {
  if (!n->m.field) return n;
  c->touched = true;
  n->m.field = it->t == T_FIELD_PREFIX ? sg_arena_printf(c->a, "%s%s", it->p.affix.text, n->m.field)
                                       : sg_arena_printf(c->a, "%s%s", n->m.field, it->p.affix.text);
  if (!n->m.field) c->oom = true;
  return n;
}

/* Python-style replacement (\1, \g<1>) -> PCRE2 ($1, ${1}); `$` -> `$$`. */
static char *pcre_replacement(SgArena *a, const char *r) {
  SgBuf b = {0};
  for (const char *p = r; *p; p++) {
    if (*p == '$') {
      sg_buf_cat(&b, "$$");
    } else if (*p == '\\' && p[1] >= '0' && p[1] <= '9') {
      sg_buf_catf(&b, "${%c}", *++p);
    } else if (*p == '\\' && p[1] == 'g' && p[2] == '<') {
      const char *e = strchr(p, '>');
      if (!e) {
        sg_buf_catc(&b, *p);
        continue;
      }
      sg_buf_catf(&b, "${%.*s}", (int)(e - p - 3), p + 3);
      p = e;
    } else if (*p == '\\' && p[1] == '\\') {
      sg_buf_catc(&b, '\\');
      p++;
    } else {
      sg_buf_catc(&b, *p);
    }
  }
  char *s = buf_dup(a, &b);
  sg_buf_free(&b);
  return s;
}

static char *substitute(Ctx *c, pcre2_code *re, const char *repl, const char *s, size_t n, size_t *outlen) {
  char *pr = pcre_replacement(c->a, repl);
  if (!pr) return NULL;
  PCRE2_SIZE cap = n * 2 + strlen(repl) * 4 + 64;
  for (int tries = 0; tries < 8; tries++) {
    PCRE2_UCHAR *out = sg_arena_alloc(c->a, cap);
    if (!out) return NULL;
    PCRE2_SIZE len = cap;
    int rc =
        pcre2_substitute(re, (PCRE2_SPTR)s, n, 0, PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
                         NULL, NULL, (PCRE2_SPTR)pr, PCRE2_ZERO_TERMINATED, out, &len);
    if (rc >= 0) {
      *outlen = len;
      return (char *)out;
    }
    if (rc != PCRE2_ERROR_NOMEMORY) return NULL;
    cap = len + 1;
  }
  return NULL;
}

/* Text of a string value as pySigma's str() gives it (wildcards as * and ?),
 * escaped only where sg_str_parse needs it to read it back: literal * and ?,
 * and a literal backslash that comes before a special character. */
static char *escaped_text(SgArena *a, const SgStr *s, size_t *len) {
  SgBuf b = {0};
  for (uint32_t i = 0; i < s->nparts; i++) {
    const SgPart *p = &s->parts[i];
    if (p->kind == SG_PART_STAR)
      sg_buf_catc(&b, '*');
    else if (p->kind == SG_PART_QMARK)
      sg_buf_catc(&b, '?');
    else if (p->kind == SG_PART_PLACEHOLDER)
      sg_buf_catf(&b, "%%%.*s%%", (int)p->n, p->s);
    else
      for (size_t j = 0; j < p->n; j++) {
        char ch = p->s[j];
        bool before_special = j + 1 < p->n ? strchr("*?\\", p->s[j + 1]) != NULL
                                           : i + 1 < s->nparts && s->parts[i + 1].kind != SG_PART_PLACEHOLDER;
        if (ch == '*' || ch == '?' || (ch == '\\' && before_special)) sg_buf_catc(&b, '\\');
        sg_buf_catc(&b, ch);
      }
  }
  char *r = buf_dup(a, &b);
  *len = b.len;
  sg_buf_free(&b);
  return r;
}

static SgNode *t_replace(Ctx *c, const PItem *it, SgNode *n) {
  if (n->m.v.kind != SG_V_STR) return n;
  c->touched = true;
  SgStr *s = &n->m.v.str;
  if (it->p.replace.skip_special) { /* skip_special: literal parts only */
    for (uint32_t i = 0; i < s->nparts; i++) {
      if (s->parts[i].kind != SG_PART_LIT) continue;
      size_t len;
      char *r =
          substitute(c, it->p.replace.re, it->p.replace.replacement, s->parts[i].s, s->parts[i].n, &len);
      if (!r) return c->oom = true, n;
      SgPart *np = sg_arena_alloc(c->a, s->nparts * sizeof *np);
      if (!np) return c->oom = true, n;
      memcpy(np, s->parts, s->nparts * sizeof *np);
      np[i] = (SgPart){SG_PART_LIT, r, len};
      s->parts = np;
    }
    return n;
  }
  size_t len, rlen;
  char *text = escaped_text(c->a, s, &len);
  char *r = text ? substitute(c, it->p.replace.re, it->p.replace.replacement, text, len, &rlen) : NULL;
  if (!r || sg_str_parse(c->a, r, rlen, s)) c->oom = true;
  return n;
}

static SgNode *make_mapped_string(Ctx *c, const SgNode *n, size_t i, const void *arg) {
  const SgYNode *to = arg;
  const SgYNode *v = to->kind == SG_Y_SEQ ? to->items[i] : to;
  SgNode *k = sg_node_clone(c->a, n);
  if (!k || sg_str_parse(c->a, v->text, v->len, &k->m.v.str)) {
    c->oom = true;
    return NULL;
  }
  return k;
}

static SgNode *t_map_string(Ctx *c, const PItem *it, SgNode *n) {
  if (n->m.v.kind != SG_V_STR || !sg_str_is_plain(&n->m.v.str)) return n;
  size_t len;
  char *flat = sg_str_flat(c->a, &n->m.v.str, &len);
  if (!flat) return c->oom = true, n;
  const SgYNode *to = sg_ymap_get(it->p.map.mapping, flat);
  if (!to) return n;
  c->touched = true;
  return or_of(c, n, to->kind == SG_Y_SEQ ? to->n : 1, make_mapped_string, to);
}

static bool set_from_yaml(Ctx *c, SgValue *v, const SgYNode *y, ValueType force) {
  memset(v, 0, sizeof *v);
  bool num = force ? force == VT_NUM : (y->type == SG_YT_INT || y->type == SG_YT_FLOAT);
  if (!force && y->type == SG_YT_BOOL) {
    v->kind = SG_V_BOOL;
    v->b = y->bval;
    return true;
  }
  if (!force && y->type == SG_YT_NULL) {
    v->kind = SG_V_NULL;
    return true;
  }
  if (num) {
    if (!sg_num_parse(y->text, y->len, &v->num)) return false;
    v->kind = SG_V_NUM;
    v->num.text = sg_num_text(c->a, &v->num);
    return true;
  }
  v->kind = SG_V_STR;
  return sg_str_parse(c->a, y->text, y->len, &v->str) == SG_OK;
}

static SgNode *t_set_value(Ctx *c, const PItem *it, SgNode *n) {
  c->touched = true;
  if (!set_from_yaml(c, &n->m.v, it->p.set_value.value, it->p.set_value.force_type)) {
    sg_diag(c->d, SG_D_PIPELINE_FAIL, it->p.set_value.value->loc, "'%s' is not a number",
            it->p.set_value.value->text);
    c->failed = true;
  }
  n->m.op = SG_OP_EQ;
  return n;
}

static SgNode *t_convert(Ctx *c, const PItem *it, SgNode *n) {
  SgValue *v = &n->m.v;
  if (it->p.convert.target_type == VT_STR && v->kind == SG_V_NUM) {
    c->touched = true;
    v->kind = SG_V_STR;
    if (sg_str_parse(c->a, v->num.text, strlen(v->num.text), &v->str)) c->oom = true;
  } else if (it->p.convert.target_type == VT_NUM && v->kind == SG_V_STR) {
    size_t len;
    char *flat = sg_str_flat(c->a, &v->str, &len);
    SgNum num;
    if (!flat || !sg_str_is_plain(&v->str) || !sg_num_parse(flat, len, &num)) {
      sg_diag(c->d, SG_D_PIPELINE_FAIL, n->loc, "convert_type: value of '%s' is not a number",
              n->m.field ? n->m.field : "keyword");
      c->failed = true;
      return n;
    }
    c->touched = true;
    v->kind = SG_V_NUM;
    v->num = num;
    v->num.text = sg_num_text(c->a, &num);
  }
  return n;
}

static SgNode *t_case(Ctx *c, const PItem *it, SgNode *n) {
  if (n->m.v.kind != SG_V_STR) return n;
  c->touched = true;
  SgStr *s = &n->m.v.str;
  bool upper = it->p.casing.method == CASE_UPPER, snake = it->p.casing.method == CASE_SNAKE;
  SgPart *np = sg_arena_alloc(c->a, (s->nparts + 1) * sizeof *np);
  if (!np) return c->oom = true, n;
  for (uint32_t i = 0; i < s->nparts; i++) {
    np[i] = s->parts[i];
    if (np[i].kind != SG_PART_LIT) continue;
    SgBuf b = {0};
    for (size_t j = 0; j < np[i].n; j++) {
      char ch = np[i].s[j];
      if (upper && ch >= 'a' && ch <= 'z')
        ch = (char)(ch - 32);
      else if (!upper && ch >= 'A' && ch <= 'Z') {
        if (snake && j > 0 && np[i].s[j - 1] >= 'a' && np[i].s[j - 1] <= 'z') sg_buf_catc(&b, '_');
        ch = (char)(ch + 32);
      } else if (snake && (ch == ' ' || ch == '-'))
        ch = '_';
      sg_buf_catc(&b, ch);
    }
    np[i].s = buf_dup(c->a, &b);
    np[i].n = b.len;
    sg_buf_free(&b);
    if (!np[i].s) return c->oom = true, n;
  }
  s->parts = np;
  return n;
}

static SgNode *t_regex(Ctx *c, const PItem *it, SgNode *n) {
  if (n->m.v.kind != SG_V_STR || n->m.op != SG_OP_EQ) return n;
  c->touched = true;
  SgBuf b = {0};
  bool brackets = it->p.regex.method == RX_IGNORE_CASE_BRACKETS;
  sg_buf_catc(&b, '^');
  for (uint32_t i = 0; i < n->m.v.str.nparts; i++) {
    const SgPart *p = &n->m.v.str.parts[i];
    if (p->kind == SG_PART_STAR)
      sg_buf_cat(&b, ".*");
    else if (p->kind == SG_PART_QMARK)
      sg_buf_catc(&b, '.');
    else
      for (size_t j = 0; j < p->n; j++) {
        char ch = p->s[j];
        bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (brackets && alpha && !n->m.cased) {
          char lo = (char)(ch | 0x20), up = (char)(lo - 32);
          sg_buf_catf(&b, "[%c%c]", lo, up);
        } else {
          if (strchr("\\^$.|?*+()[]{}/-", ch)) sg_buf_catc(&b, '\\');
          sg_buf_catc(&b, ch);
        }
      }
  }
  sg_buf_catc(&b, '$');
  SgValue *v = &n->m.v;
  const char *pat = buf_dup(c->a, &b);
  size_t plen = b.len;
  sg_buf_free(&b);
  if (!pat) return c->oom = true, n;
  memset(v, 0, sizeof *v);
  v->kind = SG_V_RE;
  v->re.pat = pat;
  v->re.len = plen;
  v->re.flags = it->p.regex.method == RX_IGNORE_CASE_FLAG && !n->m.cased ? SG_RE_I : 0;
  n->m.op = SG_OP_RE;
  n->m.cased = false;
  return n;
}

/* hashes_fields: Hashes: 'MD5=..,SHA256=..' -> OR of <prefix><ALGO> = hash */
static SgNode *t_hashes(Ctx *c, const PItem *it, SgNode *n) {
  static const char *const def_fields[] = {"Hashes", "Hash"};
  bool target = false;
  for (size_t i = 0; i < (it->p.hashes.fields_to_parse.n ? it->p.hashes.fields_to_parse.n : 2); i++)
    if (n->m.field && !strcmp(n->m.field, it->p.hashes.fields_to_parse.n ? it->p.hashes.fields_to_parse.v[i]
                                                                         : def_fields[i]))
      target = true;
  if (!target || n->m.v.kind != SG_V_STR) return n;
  c->touched = true;
  size_t len;
  char *flat = sg_str_flat(c->a, &n->m.v.str, &len);
  if (!flat) return c->oom = true, n;
  SgNode * or = sg_node_new(c->a, SG_N_OR, n->loc);
  if (! or) return c->oom = true, n;
  for (char *tok = flat, *end; tok && *tok; tok = end) {
    end = strchr(tok, ',');
    if (end) *end++ = '\0';
    char *eq = strchr(tok, '=');
    const char *algo, *hash = eq ? eq + 1 : tok;
    if (eq) {
      *eq = '\0';
      algo = tok;
    } else {
      size_t hl = strlen(hash);
      algo = hl == 32 ? "MD5" : hl == 40 ? "SHA1" : hl == 64 ? "SHA256" : hl == 128 ? "SHA512" : NULL;
    }
    bool valid = algo != NULL;
    if (valid && it->p.hashes.valid_algos.n) {
      valid = false;
      for (size_t i = 0; i < it->p.hashes.valid_algos.n; i++)
        valid |= !sg_ascii_casecmp(it->p.hashes.valid_algos.v[i], algo);
    }
    if (!valid) {
      sg_diag(c->d, SG_D_PIPELINE_FAIL, n->loc, "hashes_fields: '%s' has no valid hash algorithm", tok);
      c->failed = true;
      return n;
    }
    char up[16];
    size_t k = 0;
    for (; algo[k] && k < sizeof up - 1; k++)
      up[k] = (char)(algo[k] >= 'a' && algo[k] <= 'z' ? algo[k] - 32 : algo[k]);
    up[k] = '\0';
    SgNode *m = sg_node_clone(c->a, n);
    if (!m) return c->oom = true, n;
    m->m.field =
        sg_arena_printf(c->a, "%s%s", it->p.hashes.field_prefix ? it->p.hashes.field_prefix : "", up);
    if (sg_str_parse(c->a, hash, strlen(hash), &m->m.v.str) || sg_node_join(c->a, or, m))
      return c->oom = true, n;
  }
  return or->nkids == 1 ? or->kids[0] : or->nkids ? or : n;
}

static bool ph_selected(const PItem *it, const char *name, size_t n) {
  for (size_t i = 0; i < it->p.placeholders.exclude.n; i++)
    if (strlen(it->p.placeholders.exclude.v[i]) == n && !strncmp(it->p.placeholders.exclude.v[i], name, n))
      return false;
  if (!it->p.placeholders.include.n) return true;
  for (size_t i = 0; i < it->p.placeholders.include.n; i++)
    if (strlen(it->p.placeholders.include.v[i]) == n && !strncmp(it->p.placeholders.include.v[i], name, n))
      return true;
  return false;
}

static int first_placeholder(const SgNode *n, const PItem *it) {
  if (n->m.v.kind != SG_V_STR) return -1;
  for (uint32_t i = 0; i < n->m.v.str.nparts; i++) {
    const SgPart *p = &n->m.v.str.parts[i];
    if (p->kind == SG_PART_PLACEHOLDER && ph_selected(it, p->s, p->n)) return (int)i;
  }
  return -1;
}

typedef struct PhArg {
  uint32_t part;
  const SgYNode *vals;
} PhArg;

static SgNode *make_ph_value(Ctx *c, const SgNode *n, size_t i, const void *arg) {
  const PhArg *pa = arg;
  const SgYNode *v = pa->vals->kind == SG_Y_SEQ ? pa->vals->items[i] : pa->vals;
  SgNode *k = sg_node_clone(c->a, n);
  SgStr rep;
  if (!k || sg_str_parse(c->a, v->text, v->len, &rep)) return c->oom = true, NULL;
  const SgStr *s = &n->m.v.str;
  SgPart *np = sg_arena_alloc(c->a, (s->nparts + rep.nparts + 1) * sizeof *np);
  if (!np) return c->oom = true, NULL;
  size_t m = 0;
  for (uint32_t j = 0; j < s->nparts; j++) {
    if (j == pa->part)
      for (uint32_t q = 0; q < rep.nparts; q++)
        np[m++] = rep.parts[q];
    else
      np[m++] = s->parts[j];
  }
  k->m.v.str = (SgStr){np, (uint32_t)m};
  return k;
}

static SgNode *t_placeholders(Ctx *c, const PItem *it, SgNode *n) {
  int pi;
  while ((pi = first_placeholder(n, it)) >= 0) {
    c->touched = true;
    const SgPart *p = &n->m.v.str.parts[pi];
    char *name = sg_arena_strndup(c->a, p->s, p->n);
    if (!name) return c->oom = true, n;
    if (it->t == T_WILDCARD_PH) {
      SgPart *np = sg_arena_alloc(c->a, n->m.v.str.nparts * sizeof *np);
      if (!np) return c->oom = true, n;
      memcpy(np, n->m.v.str.parts, n->m.v.str.nparts * sizeof *np);
      np[pi] = (SgPart){SG_PART_STAR, "", 0};
      n->m.v.str.parts = np;
      continue;
    }
    if (it->t == T_QUERY_PH) {
      if (n->m.v.str.nparts != 1) {
        sg_diag(c->d, SG_D_PIPELINE_FAIL, n->loc,
                "query_expression_placeholders: placeholder %%%s%% must be the whole value", name);
        c->failed = true;
        return n;
      }
      const SgYNode *id = it->p.placeholders.mapping ? sg_ymap_get(it->p.placeholders.mapping, name) : NULL;
      SgBuf b = {0};
      for (const char *q = it->p.placeholders.expression; *q; q++) { /* {id} now; {field} is the backend's */
        if (!strncmp(q, "{id}", 4)) {
          sg_buf_cat(&b, id ? id->text : name);
          q += 3;
        } else {
          sg_buf_catc(&b, *q);
        }
      }
      SgPart *np = sg_arena_alloc(c->a, sizeof *np);
      char *txt = buf_dup(c->a, &b);
      size_t tl = b.len;
      sg_buf_free(&b);
      if (!np || !txt) return c->oom = true, n;
      *np = (SgPart){SG_PART_LIT, txt, tl};
      n->m.v.kind = SG_V_EXPR;
      n->m.v.str = (SgStr){np, 1};
      return n;
    }
    const SgYNode *vals = c->p->vars ? sg_ymap_get(c->p->vars, name) : NULL;
    if (!vals || vals->kind == SG_Y_MAP || (vals->kind == SG_Y_SEQ && vals->n == 0)) {
      sg_diag(c->d, SG_D_PIPELINE_FAIL, n->loc, "placeholder %%%s%% has no values in the pipeline's vars",
              name);
      c->failed = true;
      return n;
    }
    PhArg pa = {(uint32_t)pi, vals};
    SgNode *r = or_of(c, n, vals->kind == SG_Y_SEQ ? vals->n : 1, make_ph_value, &pa);
    if (!r) return n;
    if (r->kind == SG_N_MATCH) {
      n = r;
      continue;
    }
    for (uint32_t i = 0; i < r->nkids; i++)
      r->kids[i] = t_placeholders(c, it, r->kids[i]);
    return r;
  }
  return n;
}

static SgNode *t_item_fail(Ctx *c, const PItem *it, SgNode *n) {
  c->touched = true;
  if (n->m.field)
    sg_diag(c->d, SG_D_PIPELINE_FAIL, n->loc, "%s (field '%s')", it->p.failure.message, n->m.field);
  else
    sg_diag(c->d, SG_D_PIPELINE_FAIL, n->loc, "%s (keyword)", it->p.failure.message);
  c->failed = true;
  return n;
}

static SgNode *apply_node(Ctx *c, const PItem *it, SgNode *n) {
  switch (it->t) {
  case T_FIELD_MAP: return t_field_map(c, it, n);
  case T_PREFIX_MAP: return t_prefix_map(c, it, n);
  case T_FIELD_PREFIX:
  case T_FIELD_SUFFIX: return t_affix(c, it, n);
  case T_DROP: return NULL;
  case T_REPLACE: return t_replace(c, it, n);
  case T_MAP_STRING: return t_map_string(c, it, n);
  case T_SET_VALUE: return t_set_value(c, it, n);
  case T_CONVERT: return t_convert(c, it, n);
  case T_CASE: return t_case(c, it, n);
  case T_REGEX: return t_regex(c, it, n);
  case T_HASHES: return t_hashes(c, it, n);
  case T_VALUE_PH:
  case T_WILDCARD_PH:
  case T_QUERY_PH: return t_placeholders(c, it, n);
  case T_ITEM_FAIL: return t_item_fail(c, it, n);
  default: return n;
  }
}

/* Rewrite a tree; NULL when everything under it was dropped. */
static SgNode *walk(Ctx *c, const PItem *it, SgNode *n) {
  if (n->kind == SG_N_MATCH) {
    if (!node_conds(c, it, n)) return n;
    c->touched = false;
    SgNode *r = apply_node(c, it, n);
    if (r && c->touched) mark(c, r, it->id);
    return r;
  }
  if (n->kind == SG_N_TRUE || n->kind == SG_N_FALSE) return n;
  SgNode *copy = sg_node_new(c->a, n->kind, n->loc);
  if (!copy) return c->oom = true, n;
  copy->flags = n->flags;
  for (uint32_t i = 0; i < n->nkids; i++) {
    SgNode *k = walk(c, it, n->kids[i]);
    if (k && sg_node_join(c->a, copy, k)) return c->oom = true, n;
  }
  if (!copy->nkids) return NULL;
  return copy->nkids == 1 && copy->kind != SG_N_NOT ? copy->kids[0] : copy;
}

/* ==== Applying: rule-level transformations =========================================== */

/* The targets of field `f` under a field-name item, or NULL when unchanged. */
static size_t field_targets(Ctx *c, const PItem *it, const char *f, const SgYNode **to, const char **rest) {
  *to = NULL;
  *rest = NULL;
  if (it->t == T_FIELD_MAP)
    *to = sg_ymap_get(it->p.map.mapping, f);
  else if (it->t == T_PREFIX_MAP && !(*rest = prefix_mapped(c, it, f, to)))
    *to = NULL;
  return *to && (*to)->kind == SG_Y_SEQ ? (*to)->n : 1;
}

/* Field names in `fields:` or correlation lists, through a field-name item. */
static void list_map(Ctx *c, SgStrList *l, const PItem *it) {
  size_t total = 0;
  for (size_t i = 0; i < l->n; i++) {
    const SgYNode *to;
    const char *rest;
    total += field_targets(c, it, l->v[i], &to, &rest);
  }
  SgStrList out = {0};
  out.v = sg_arena_alloc(c->a, (total + 1) * sizeof *out.v);
  out.locs = sg_arena_alloc(c->a, (total + 1) * sizeof *out.locs);
  out.from = sg_arena_alloc(c->a, (total + 1) * sizeof *out.from);
  if (!out.v || !out.locs || !out.from) {
    c->oom = true;
    return;
  }
  for (size_t i = 0; i < l->n; i++) {
    const char *f = l->v[i], *rest;
    const SgYNode *to;
    size_t count = field_targets(c, it, f, &to, &rest);
    for (size_t k = 0; k < count; k++) {
      const char *name = f;
      if (to) {
        const SgYNode *x = to->kind == SG_Y_SEQ ? to->items[k] : to;
        name = rest ? sg_arena_printf(c->a, "%s%s", x->text, rest) : x->text;
      } else if (it->t == T_FIELD_PREFIX) {
        name = sg_arena_printf(c->a, "%s%s", it->p.affix.text, f);
      } else if (it->t == T_FIELD_SUFFIX) {
        name = sg_arena_printf(c->a, "%s%s", f, it->p.affix.text);
      }
      if (!name) {
        c->oom = true;
        return;
      }
      out.locs[out.n] = l->locs ? l->locs[i] : (SgLoc){0};
      out.from[out.n] = l->from && l->from[i] ? l->from[i] : name != f ? f : NULL;
      out.v[out.n++] = name;
    }
  }
  *l = out;
}

static void fields_edit(Ctx *c, const PItem *it) {
  SgStrList *f = &c->r->fields;
  if (it->t == T_SET_FIELD) {
    *f = it->p.fields.names;
    return;
  }
  SgStrList out = {0};
  out.v = sg_arena_alloc(c->a, (f->n + it->p.fields.names.n + 1) * sizeof *out.v);
  out.locs = sg_arena_alloc(c->a, (f->n + it->p.fields.names.n + 1) * sizeof *out.locs);
  out.from = sg_arena_alloc(c->a, (f->n + it->p.fields.names.n + 1) * sizeof *out.from);
  if (!out.v || !out.locs || !out.from) {
    c->oom = true;
    return;
  }
  for (size_t i = 0; i < f->n; i++) {
    bool removed = false;
    for (size_t k = 0; it->t == T_REMOVE_FIELD && k < it->p.fields.names.n; k++)
      removed |= !strcmp(it->p.fields.names.v[k], f->v[i]);
    if (removed) continue;
    out.locs[out.n] = f->locs ? f->locs[i] : (SgLoc){0};
    out.from[out.n] = f->from ? f->from[i] : NULL;
    out.v[out.n++] = f->v[i];
  }
  for (size_t k = 0; it->t == T_ADD_FIELD && k < it->p.fields.names.n; k++) {
    bool have = false;
    for (size_t i = 0; i < out.n; i++)
      have |= !strcmp(out.v[i], it->p.fields.names.v[k]);
    if (!have) {
      out.locs[out.n] = it->p.fields.names.locs[k];
      out.v[out.n++] = it->p.fields.names.v[k];
    }
  }
  *f = out;
}

/* $category / $product / $service in add_condition values (template: true). */
static const SgYNode *templated(Ctx *c, const SgYNode *n) {
  if (n->kind == SG_Y_SCALAR) {
    if (!strchr(n->text, '$')) return n;
    SgBuf b = {0};
    for (const char *p = n->text; *p; p++) {
      const char *names[] = {"category", "product", "service"};
      const char *vals[] = {c->r->logsource.category, c->r->logsource.product, c->r->logsource.service};
      bool done = false;
      for (int k = 0; k < 3 && !done; k++) {
        size_t l = strlen(names[k]);
        if (*p == '$' && !strncmp(p + 1, names[k], l)) {
          sg_buf_cat(&b, vals[k] ? vals[k] : "");
          p += l;
          done = true;
        } else if (*p == '$' && p[1] == '{' && !strncmp(p + 2, names[k], l) && p[2 + l] == '}') {
          sg_buf_cat(&b, vals[k] ? vals[k] : "");
          p += l + 2;
          done = true;
        }
      }
      if (!done) sg_buf_catc(&b, *p);
    }
    SgYNode *x = sg_arena_alloc(c->a, sizeof *x);
    if (!x) return c->oom = true, n;
    *x = *n;
    x->text = buf_dup(c->a, &b);
    x->len = b.len;
    x->type = SG_YT_STR;
    sg_buf_free(&b);
    if (!x->text) return c->oom = true, n;
    return x;
  }
  SgYNode *x = sg_arena_alloc(c->a, sizeof *x);
  if (!x) return c->oom = true, n;
  *x = *n;
  x->items = sg_arena_alloc(c->a, (n->n + 1) * sizeof *x->items);
  if (!x->items) return c->oom = true, n;
  for (size_t i = 0; i < n->n; i++)
    x->items[i] = (SgYNode *)templated(c, n->items[i]);
  return x;
}

static void add_condition(Ctx *c, const PItem *it) {
  const SgYNode *conds =
      it->p.add_cond.templated ? templated(c, it->p.add_cond.conditions) : it->p.add_cond.conditions;
  bool failed = false;
  SgNode *added = sg_search_build(c->a, conds, c->d, &failed);
  if (failed || !added) {
    c->failed = true;
    return;
  }
  mark(c, added, it->id);
  for (size_t i = 0; i < c->r->nconds; i++) {
    SgCondition *cd = &c->r->conds[i];
    if (!cd->root) continue;
    SgNode *cl = sg_node_clone(c->a, added);
    SgNode *and = sg_node_new(c->a, SG_N_AND, cd->root->loc);
    if (!cl || !and) {
      c->oom = true;
      return;
    }
    if (it->p.add_cond.negated) {
      SgNode *not = sg_node_new(c->a, SG_N_NOT, cl->loc);
      if (!not || sg_node_add(c->a, not, cl)) {
        c->oom = true;
        return;
      }
      cl = not ;
    }
    if (sg_node_join(c->a, and, cl) || sg_node_join(c->a, and, cd->root)) {
      c->oom = true;
      return;
    }
    cd->root = and;
  }
}

static void set_kv(Ctx *c, SgKV **kv, size_t *n, size_t *cap, const char *key, const SgYNode *val) {
  SgKV *slot = SG_PUSH(c->a, *kv, *n, *cap);
  if (!slot) {
    c->oom = true;
    return;
  }
  *slot = (SgKV){key, val};
}

static void strict_check(Ctx *c, const SgNode *n) {
  if (n->kind == SG_N_MATCH) {
    if (n->m.field && !n->m.mapped) {
      sg_diag(c->d, SG_D_PIPELINE_FAIL, n->loc, "field '%s' is not mapped by the pipeline", n->m.field);
      c->failed = true;
    }
    return;
  }
  for (uint32_t i = 0; i < n->nkids; i++)
    strict_check(c, n->kids[i]);
}

static void corr_map(Ctx *c, const PItem *it) {
  SgCorrelation *k = c->r->corr;
  if (!k ||
      (it->t != T_FIELD_MAP && it->t != T_PREFIX_MAP && it->t != T_FIELD_PREFIX && it->t != T_FIELD_SUFFIX))
    return;
  SgCorrelation *copy = sg_arena_alloc(c->a, sizeof *copy);
  if (!copy) {
    c->oom = true;
    return;
  }
  *copy = *k;
  list_map(c, &copy->group_by, it);
  list_map(c, &copy->fields, it);
  c->r->corr = copy;
}

static void apply_item(Ctx *c, const PItem *it);

static void mark_rule(Ctx *c, const char *id) {
  if (!id || has_id_list(c->applied, c->napplied, id)) return;
  const char **slot = SG_PUSH(c->a, c->applied, c->napplied, c->capplied);
  if (!slot) {
    c->oom = true;
    return;
  }
  *slot = id;
}

static void apply_item(Ctx *c, const PItem *it) {
  if (!eval_set(c, &it->rule_c, NULL)) return;
  switch (it->t) {
  case T_ADD_COND: add_condition(c, it); break;
  case T_CHANGE_LS:
    c->r->logsource.category = it->p.logsource.category;
    c->r->logsource.product = it->p.logsource.product;
    c->r->logsource.service = it->p.logsource.service;
    break;
  case T_ADD_FIELD:
  case T_REMOVE_FIELD:
  case T_SET_FIELD: fields_edit(c, it); break;
  case T_SET_STATE:
    set_kv(c, &c->state->kv, &c->state->n, &c->state->cap, it->p.kv.key, it->p.kv.value);
    break;
  case T_SET_ATTR: {
    size_t cap = c->r->ncustom;
    SgKV *copy = sg_arena_alloc(c->a, (cap + 1) * sizeof *copy);
    if (!copy) {
      c->oom = true;
      return;
    }
    if (cap) memcpy(copy, c->r->custom, cap * sizeof *copy);
    c->r->custom = copy;
    c->r->custom[c->r->ncustom++] = (SgKV){it->p.kv.key, it->p.kv.value};
    break;
  }
  case T_RULE_FAIL:
    sg_diag(c->d, SG_D_PIPELINE_FAIL, c->r->loc, "%s", it->p.failure.message);
    c->failed = true;
    break;
  case T_STRICT:
    for (size_t i = 0; i < c->r->nconds; i++)
      if (c->r->conds[i].root) strict_check(c, c->r->conds[i].root);
    break;
  case T_NEST:
    if (c->nouter == sizeof c->outer / sizeof *c->outer) {
      sg_diag(c->d, SG_D_PIPELINE, it->loc, "nest items are nested too deeply");
      c->failed = true;
      break;
    }
    c->outer[c->nouter++] = it;
    for (size_t i = 0; i < it->p.nest.n; i++)
      apply_item(c, &it->p.nest.items[i]);
    c->nouter--;
    break;
  default:
    for (size_t i = 0; i < c->r->nconds; i++) {
      SgCondition *cd = &c->r->conds[i];
      if (!cd->root) continue;
      cd->root = walk(c, it, cd->root);
      if (!cd->root) {
        sg_diag(c->d, SG_D_PIPELINE_FAIL, cd->loc,
                "the pipeline removed every detection item of this condition");
        c->failed = true;
      }
    }
    if (it->t == T_FIELD_MAP || it->t == T_PREFIX_MAP || it->t == T_FIELD_PREFIX || it->t == T_FIELD_SUFFIX) {
      list_map(c, &c->r->fields, it);
      corr_map(c, it);
    }
    break;
  }
  mark_rule(c, it->id);
}

SgStatus sg_pipeline_apply(SgArena *a, const SgPipelineSet *set, const SgRule *in, SgRule **out,
                           SgPipelineState *state, SgDiags *d) {
  SgRule *r = sg_arena_alloc(a, sizeof *r);
  if (!r) return SG_ERR_NOMEM;
  *r = *in;
  r->conds = sg_arena_alloc(a, (in->nconds + 1) * sizeof *r->conds);
  if (!r->conds) return SG_ERR_NOMEM;
  for (size_t i = 0; i < in->nconds; i++) {
    r->conds[i] = in->conds[i];
    if (in->conds[i].root && !(r->conds[i].root = sg_node_clone(a, in->conds[i].root))) return SG_ERR_NOMEM;
  }
  *out = r;
  Ctx c = {.a = a, .d = d, .r = r, .state = state};
  for (size_t p = 0; p < set->n && !c.oom; p++) {
    c.p = set->v[p];
    for (size_t i = 0; i < set->v[p]->nitems && !c.oom; i++)
      apply_item(&c, &set->v[p]->items[i]);
  }
  if (c.oom || a->failed) return SG_ERR_NOMEM;
  if (c.failed) r->failed = true;
  return c.failed ? SG_ERR_UNSUPPORTED : SG_OK;
}

/* ==== Postprocessing and finalizers ================================================= */

static bool template_apply(const char *tpl, const SgRule *r, const char *query, SgBuf *out,
                           const char **bad) {
  for (const char *p = tpl; *p; p++) {
    if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
      sg_buf_catc(out, *p++);
      continue;
    }
    if (*p != '{') {
      sg_buf_catc(out, *p);
      continue;
    }
    const char *e = strchr(p, '}');
    if (!e) return *bad = p, false;
    size_t n = (size_t)(e - p - 1);
    const char *val = NULL;
    if (n == 5 && !strncmp(p + 1, "query", 5)) {
      val = query;
    } else if (n > 5 && !strncmp(p + 1, "rule.", 5)) {
      char attr[64];
      snprintf(attr, sizeof attr, "%.*s", (int)(n - 5), p + 6);
      Ctx c = {.r = (SgRule *)r};
      val = rule_attr(c.r, attr);
      if (!val) val = "";
      /* a rule's text is data: it cannot add a line to the query */
      for (const char *v = val; *v; v++)
        sg_buf_catc(out, (unsigned char)*v < 0x20 || *v == 0x7f ? ' ' : *v);
      p = e;
      continue;
    } else {
      return *bad = p, false;
    }
    sg_buf_cat(out, val);
    p = e;
  }
  return true;
}

static SgStatus post_items(const PItem *items, size_t n, const SgRule *r, SgBuf *q, SgDiags *d) {
  if (q->oom) return SG_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    const PItem *it = &items[i];
    Ctx c = {.r = (SgRule *)r};
    if (!eval_set(&c, &it->rule_c, NULL)) continue;
    SgBuf out = {0};
    const char *query = sg_buf_cstr(q);
    switch (it->t) {
    case P_EMBED:
      sg_buf_cat(&out, it->p.embed.prefix ? it->p.embed.prefix : "");
      sg_buf_cat(&out, query);
      sg_buf_cat(&out, it->p.embed.suffix ? it->p.embed.suffix : "");
      break;
    case P_TEMPLATE: {
      const char *bad = NULL;
      if (!template_apply(it->p.tpl.text, r, query, &out, &bad)) {
        sg_diag(d, SG_D_PIPELINE, it->loc,
                "simple_template: unknown placeholder at '%.20s' (use {query} or {rule.ATTR})", bad);
        sg_buf_free(&out);
        return SG_ERR_PARSE;
      }
      break;
    }
    case P_REPLACE: {
      SgArena a;
      sg_arena_init(&a);
      Ctx rc = {.a = &a};
      size_t len;
      char *res = substitute(&rc, it->p.replace.re, it->p.replace.replacement, query, q->len, &len);
      if (res) sg_buf_catn(&out, res, len);
      sg_arena_free(&a);
      if (!res) {
        sg_buf_free(&out);
        return SG_ERR_NOMEM;
      }
      break;
    }
    case P_NEST: {
      SgStatus st = post_items(it->p.nest.items, it->p.nest.n, r, q, d);
      if (st) return st;
      continue;
    }
    default: continue;
    }
    if (out.oom) {
      sg_buf_free(&out);
      return SG_ERR_NOMEM;
    }
    sg_buf_reset(q);
    sg_buf_catn(q, sg_buf_cstr(&out), out.len);
    sg_buf_free(&out);
    if (q->oom) return SG_ERR_NOMEM;
  }
  return SG_OK;
}

SgStatus sg_pipeline_postprocess(const SgPipelineSet *set, const SgRule *r, SgBuf *query, SgDiags *d) {
  for (size_t p = 0; p < set->n; p++) {
    SgStatus st = post_items(set->v[p]->post, set->v[p]->npost, r, query, d);
    if (st) return st;
  }
  return SG_OK;
}

bool sg_pipeline_finalize(const SgPipelineSet *set, const char *const *queries, size_t n, SgBuf *out) {
  const PItem *fin = NULL;
  for (size_t p = 0; p < set->n; p++)
    if (set->v[p]->nfin) fin = &set->v[p]->fin[set->v[p]->nfin - 1];
  if (!fin) return false;
  if (fin->t == F_CONCAT) {
    sg_buf_cat(out, fin->p.concat.prefix ? fin->p.concat.prefix : "");
    for (size_t i = 0; i < n; i++) {
      if (i) sg_buf_cat(out, fin->p.concat.separator ? fin->p.concat.separator : "\n");
      sg_buf_cat(out, queries[i]);
    }
    sg_buf_cat(out, fin->p.concat.suffix ? fin->p.concat.suffix : "");
    sg_buf_catc(out, '\n');
    return true;
  }
  /* json: an array of query strings */
  sg_buf_catc(out, '[');
  for (size_t i = 0; i < n; i++) {
    if (i) sg_buf_catc(out, ',');
    if (fin->p.json.indent >= 0) {
      sg_buf_catc(out, '\n');
      for (long k = 0; k < fin->p.json.indent; k++)
        sg_buf_catc(out, ' ');
    } else if (i) {
      sg_buf_catc(out, ' ');
    }
    sg_json_str(out, queries[i], strlen(queries[i]));
  }
  if (fin->p.json.indent >= 0 && n) sg_buf_catc(out, '\n');
  sg_buf_cat(out, "]\n");
  return true;
}
