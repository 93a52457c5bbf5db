/* load.c - pipeline YAML -> SgPipeline: every unknown key, type and bad regex is a
 * located error; -p arguments (built-in names, files, directories); set checks. */
#define _POSIX_C_SOURCE 200809L
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline.h"

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
    {"json", P_JSON, K_POST, "!json_template"},
    {"yaml", F_YAML, K_FINAL, "indent"},
    {"template", P_JINJA, K_POST, "!template"},
    {"template", F_TEMPLATE, K_FINAL, "!template"},
    {"nested", F_NESTED, K_FINAL, "!finalizers"},
};

/* Known pySigma types we deliberately refuse, with the reason. */
static const struct {
  const char *name, *why;
} refused_types[] = {
    {"file_placeholders", "external placeholder sources are not supported"},
    {"http_placeholders", "external placeholder sources are not supported"},
    {"command_placeholders", "external placeholder sources are not supported"},
    {"field_name_transform", "it takes a Python function"},
    {"extract_fields", "extract_fields is not supported"},
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
  const char *src; /* the file, to locate what is inside a block scalar */
  size_t len;
  const SgYNode *vars; /* the pipeline's, for templates */
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

/* Where byte `off` of a scalar's text is in the file: on its line for a
 * one-line scalar; for a block scalar (`|`), on the line after the indicator
 * plus the text's line breaks before it, after that line's indentation. */
static SgLoc text_loc(const Loader *L, const SgYNode *t, size_t off) {
  SgLoc loc = t->loc;
  if (!t->multiline) {
    loc.col += (uint32_t)off + (t->quoted ? 1 : 0);
    return loc;
  }
  size_t bol = 0;
  for (size_t i = 0; i < off && t->text[i]; i++)
    if (t->text[i] == '\n') loc.line++, bol = i + 1;
  loc.line++;
  const char *p = L->src, *end = L->src + L->len;
  for (uint32_t l = 1; p && l < loc.line; l++)
    p = memchr(p, '\n', (size_t)(end - p)), p = p ? p + 1 : NULL;
  uint32_t indent = 0;
  while (p && p + indent < end && p[indent] == ' ')
    indent++;
  loc.col = indent + 1 + (uint32_t)(off - bol);
  return loc;
}

/* The buffer's text in the arena; NULL when it ran out of memory (a
 * truncated text is never used as if it were whole). */
char *sg_pl_buf_dup(SgArena *a, const SgBuf *b) {
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
    if (ok) continue;
    SgSuggest sg; /* a key of either list, '!' (required) left off */
    sg_suggest_init(&sg, k, kl);
    char *names = sg_arena_printf(L->a, "%s %s", params ? params : "", common ? common : "");
    for (char *p = names, *save = NULL, *w; p && (w = strtok_r(p, " ", &save)); p = NULL)
      sg_suggest_add(&sg, w + (*w == '!'));
    char hint[96];
    lerr(L, map->keys[i]->loc, "unknown key '%s' in %s%s", k, what,
         sg_suggest_text(&sg, hint, sizeof hint, ""));
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
    SgSuggest sg;
    sg_suggest_init(&sg, type, strlen(type));
    for (size_t i = 0; i < sizeof cond_types / sizeof *cond_types; i++)
      sg_suggest_add(&sg, cond_types[i].name);
    char hint[96];
    lerr(L, sg_ymap_get(n, "type")->loc, "unknown condition type '%s'%s", type,
         sg_suggest_text(&sg, hint, sizeof hint, ""));
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
  if (op && strcmp(op, "and") && strcmp(op, "or")) /* pySigma ignores it: `and` applies */
    sg_diag(L->d, SG_D_PIPELINE_WARN, sg_ymap_get(item, k2)->loc,
            "'%s' is '%s', which is not and or or: it has no effect (and applies)", k2, op);
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
    if (expr->kind != SG_Y_SCALAR || sg_cond_parse(L->a, &c, expr, false, L->d) != SG_OK) {
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
    SgSuggest sg;
    sg_suggest_init(&sg, type, strlen(type));
    for (size_t i = 0; i < sizeof item_types / sizeof *item_types; i++)
      if (item_types[i].kind & kind) sg_suggest_add(&sg, item_types[i].name);
    char hint[96];
    lerr(L, tloc, "unknown %s type '%s'%s",
         kind == K_TRANSFORM ? "transformation"
         : kind == K_POST    ? "postprocessing"
                             : "finalizer",
         type, sg_suggest_text(&sg, hint, sizeof hint, ""));
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
  case P_JSON: {
    const SgYNode *t = sg_ymap_get(n, "json_template");
    const char *text = lstr(L, n, "json_template");
    SgYDoc *docs;
    size_t ndocs;
    if (text && (sg_yaml_load(L->a, "json_template", text, strlen(text), &docs, &ndocs, L->d) != SG_OK ||
                 ndocs != 1 || !docs[0].root))
      lerr(L, t->loc, "'json_template' is not a JSON value");
    else if (text)
      it->p.json_post.tree = docs[0].root;
    break;
  }
  case P_JINJA:
  case F_TEMPLATE: {
    const char *text = lstr(L, n, "template"), *err;
    size_t off;
    if (text && !(it->p.jinja.tpl = sg_jinja_parse(L->a, text, L->vars, &err, &off)))
      lerr(L, text_loc(L, sg_ymap_get(n, "template"), off), "template: %s", err);
    break;
  }
  case F_NESTED: {
    const SgYNode *items = sg_ymap_get(n, "finalizers");
    if (items) load_items(L, items, K_FINAL, &it->p.nest.items, &it->p.nest.n);
    break;
  }
  case F_YAML:
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

static SgStatus load_pipeline(SgArena *a, const char *path, const char *src, size_t len, SgPipeline **out,
                              SgDiags *d);

/* The file's diagnostics in line order (the loader reports a missing key
 * after the keys it read). Stable: insertion sort of the few new ones. */
SgStatus sg_pipeline_load(SgArena *a, const char *path, const char *src, size_t len, SgPipeline **out,
                          SgDiags *d) {
  size_t mark = d->n;
  SgStatus st = load_pipeline(a, path, src, len, out, d);
  for (size_t i = mark + 1; i < d->n; i++)
    for (size_t j = i; j > mark; j--) {
      SgLoc x = d->items[j - 1].loc, y = d->items[j].loc;
      if (x.line < y.line || (x.line == y.line && x.col <= y.col)) break;
      SgDiag t = d->items[j - 1];
      d->items[j - 1] = d->items[j];
      d->items[j] = t;
    }
  return st;
}

static SgStatus load_pipeline(SgArena *a, const char *path, const char *src, size_t len, SgPipeline **out,
                              SgDiags *d) {
  Loader L = {a, d, false, src, len, NULL};
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
  L.vars = p->vars;
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

bool sg_pl_has_id(const char *const *ids, size_t n, const char *id) {
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

/* One pipeline file. */
static SgStatus add_file(SgArena *a, SgPipelineSet *set, const char *path, SgDiags *d) {
  char *src;
  size_t len;
  SgStatus s = sg_read_file(path, &src, &len, d);
  if (s) return s;
  char *copy = sg_arena_strndup(a, src, len);
  free(src);
  if (!copy) return SG_ERR_NOMEM;
  return add_source(a, set, sg_arena_strdup(a, path), copy, len, d);
}

/* A pipeline file, or every .yml/.yaml under a folder, listed by the one
 * directory walker (sorted; what it cannot read or a folder nested too deep
 * is reported: the walker's diagnostics are located at paths it owns, so they
 * are copied into the arena before it is freed). */
static SgStatus add_path(SgArena *a, SgPipelineSet *set, const char *path, SgDiags *d) {
  struct stat st;
  if (stat(path, &st) != 0) return SG_ERR_IO;
  if (!S_ISDIR(st.st_mode)) return add_file(a, set, path, d);
  SgPaths files = {0};
  size_t mark = d->n;
  SgStatus worst = sg_expand_dir_files(path, &files, d) ? SG_OK : SG_ERR_NOMEM;
  for (size_t k = mark; k < d->n; k++) {
    if (d->items[k].sev == SG_SEV_ERROR && !worst) worst = SG_ERR_IO;
    const char *kept = d->items[k].loc.path ? sg_arena_strdup(a, d->items[k].loc.path) : NULL;
    if (d->items[k].loc.path && !kept) worst = SG_ERR_NOMEM;
    d->items[k].loc.path = kept;
  }
  for (size_t i = 0; i < files.n; i++) {
    bool yml = files.v[i][sg_rule_stem_len(files.v[i])] != '\0';
    SgStatus s = yml ? add_file(a, set, files.v[i], d) : SG_OK;
    if (s) worst = s;
  }
  sg_paths_free(&files);
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
  SgStatus st = add_path(a, set, spec, d);
  if (st == SG_ERR_IO && d->nerrors == 0) { /* -p names nothing: a usage error */
    SgSuggest sg;
    sg_suggest_init(&sg, spec, strlen(spec));
    for (size_t i = 0; i < n; i++)
      sg_suggest_add(&sg, b[i].name);
    char hint[96];
    sg_diag(d, SG_D_USAGE, (SgLoc){spec, 0, 0}, "no built-in pipeline, file or directory of that name%s",
            sg_suggest_text(&sg, hint, sizeof hint, " (see 'sigmacc list pipelines')"));
    return SG_ERR_USAGE;
  } else if (st == SG_ERR_IO)
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

/* A processing_item_applied condition on an id no item of the set defines is
 * false, as in pySigma: a warning, since it is most likely a typo. */
static void check_applied(const CondSet *cs, const char **ids, size_t nids, SgDiags *d) {
  for (size_t i = 0; i < cs->n; i++)
    if (cs->v[i].t == PC_APPLIED && cs->v[i].id && !sg_pl_has_id(ids, nids, cs->v[i].id))
      sg_diag(d, SG_D_PIPELINE_WARN, cs->v[i].loc,
              "processing_item_applied names '%s', which no processing item defines: the condition is false",
              cs->v[i].id);
}

static void check_items(const PItem *items, size_t n, const char **ids, size_t nids, SgDiags *d) {
  for (size_t i = 0; i < n; i++) {
    check_applied(&items[i].rule_c, ids, nids, d);
    check_applied(&items[i].item_c, ids, nids, d);
    check_applied(&items[i].field_c, ids, nids, d);
    if (items[i].t == T_NEST || items[i].t == P_NEST)
      check_items(items[i].p.nest.items, items[i].p.nest.n, ids, nids, d);
  }
}

static bool items_set_state(const PItem *items, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if ((items[i].t == T_SET_STATE && !strcmp(items[i].p.kv.key, key)) ||
        (items[i].t == T_NEST && items_set_state(items[i].p.nest.items, items[i].p.nest.n, key)))
      return true;
  return false;
}

bool sg_pipeline_sets_state(const SgPipelineSet *set, const char *key) {
  for (size_t p = 0; p < set->n; p++)
    if (items_set_state(set->v[p]->items, set->v[p]->nitems, key)) return true;
  return false;
}

SgStatus sg_pipeline_validate(SgArena *a, const SgPipelineSet *set, SgDiags *d) {
  const char **ids = NULL;
  size_t nids = 0, cap = 0;
  for (size_t p = 0; p < set->n; p++)
    collect_ids(set->v[p]->items, set->v[p]->nitems, &ids, &nids, &cap, a);
  for (size_t p = 0; p < set->n; p++) {
    check_items(set->v[p]->items, set->v[p]->nitems, ids, nids, d);
    check_items(set->v[p]->post, set->v[p]->npost, ids, nids, d);
  }
  return a->failed ? SG_ERR_NOMEM : SG_OK;
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
