/* pipeline.h - the processing pipelines' internals, shared by the files of
 * compiler/pipeline/ (not part of the API): condition and item types, the
 * loaded items with their named parameters, and the context of one
 * application to a rule.
 *
 *   load.c       YAML -> SgPipeline (every key validated), -p resolution, set checks
 *   cond.c       rule, detection-item and field-name conditions
 *   transform.c  node-level transformations (every MATCH of every condition tree)
 *   apply.c      rule-level transformations and sg_pipeline_apply
 *   post.c       postprocessing of each query, finalizers
 *   jinja_parse.c, jinja_render.c: the Jinja subset of `template` (jinja.h)
 */
#ifndef SG_PIPELINE_INT_H
#define SG_PIPELINE_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "front.h"

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
  P_JSON,
  P_JINJA,
  /* finalizers */
  F_CONCAT,
  F_JSON,
  F_YAML,
  F_NESTED,
  F_TEMPLATE,
} TType;

enum { K_TRANSFORM = 1, K_POST = 2, K_FINAL = 4 };

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
    } json;        /* the json and yaml finalizers */
    struct {
      const SgYNode *tree; /* the parsed json_template; "%QUERY%" strings become the query */
    } json_post;
    struct {
      struct SgJinja *tpl;
    } jinja; /* the template postprocessing and finalizer (jinja.c) */
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
  /* the ids of the field-name items that made each name of `fields:` and the
   * correlation lists (pySigma's field_name_applied_ids) */
  struct FieldIds {
    const char *name;
    const char **ids;
    size_t n;
  } * field_ids;
  size_t nfield_ids, capfield_ids;
  bool failed, unsupported, oom;
} Ctx;

/* Jinja templates (jinja.c): parsed when the pipeline loads (NULL with the
 * reason and its byte offset for what the subset lacks), rendered with
 * `rule`, `query` and `pipeline` (its vars and state) in postprocessing, or
 * `queries` (a finalizer: the list, or the text of the finalizer before when
 * `joined`) and `pipeline` (its vars). */
typedef struct SgJinja SgJinja;
SgJinja *sg_jinja_parse(SgArena *a, const char *src, const SgYNode *vars, const char **err, size_t *err_off);
bool sg_jinja_render(const SgJinja *j, const SgRule *rule, const SgPipelineState *state, const char *query,
                     const char *const *queries, size_t nqueries, bool joined, SgBuf *out, char *err,
                     size_t errsize); /* false: the reason in err; out->oom when memory ran out */

/* Shared by the files of compiler/pipeline/ */
char *sg_pl_buf_dup(SgArena *a, const SgBuf *b); /* NULL when b ran out of memory */
bool sg_pl_has_id(const char *const *ids, size_t n, const char *id);
const char *sg_pl_rule_attr(const SgRule *r, const char *attr);
bool sg_pl_eval_set(Ctx *c, const CondSet *cs, const SgNode *n); /* a condition set holds */
bool sg_pl_node_conds(Ctx *c, const PItem *it, const SgNode *n); /* an item's node conditions */
void sg_pl_mark(Ctx *c, SgNode *n, const char *id);              /* record an applied item id */
SgNode *sg_pl_walk(Ctx *c, const PItem *it, SgNode *n);          /* a node transformation over a tree */
const char *sg_pl_prefix_mapped(Ctx *c, const PItem *it, const char *f, const SgYNode **to_out);
/* regex replacement with Python-style group references */
char *sg_pl_substitute(Ctx *c, pcre2_code *re, const char *repl, const char *s, size_t n, size_t *outlen);

#endif
