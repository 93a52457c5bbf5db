/* detection.c - search definitions (YAML) -> boolean trees of SgMatch.
 *
 * A map is an AND of its items, a list of maps an OR, a list of scalars an OR
 * of keywords. An item `field|mod1|mod2: values` applies its modifiers left to
 * right to every value; encodings (wide, base64, windash, ...) are applied
 * here, so backends only ever see operators and final values. One value gives
 * one MATCH node; several values are OR'ed (AND'ed under `all`), and an
 * expansion (windash, base64offset) is always an OR of its alternatives.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"

typedef enum ModKind { MK_TYPE, MK_LIST, MK_VALUE } ModKind;

typedef enum Mod {
#define SG_MOD(e, name, kind, help) M_##e,
#include "modifiers.def"
#undef SG_MOD
  M__COUNT
} Mod;

static const struct {
  const char *name;
  ModKind kind;
} mods[] = {
#define SG_MOD(e, name, kind, help) {name, MK_##kind},
#include "modifiers.def"
#undef SG_MOD
};

static const SgModInfo mod_info[] = {
#define SG_MOD(e, name, kind, help) {name, help},
#include "modifiers.def"
#undef SG_MOD
};

const SgModInfo *sg_modifier_list(size_t *n) {
  *n = sizeof mod_info / sizeof *mod_info;
  return mod_info;
}

/* A value being transformed by the modifier chain. */
typedef struct WVal {
  SgValue v;
  SgOp op;
  SgTsPart ts;
  bool cased;
} WVal;

typedef struct Item {
  SgArena *a;
  SgDiags *d;
  const SgYNode *key;
  const char *field; /* NULL for keywords */
  Mod mods[32];
  SgLoc modloc[32];
  size_t nmods;
  bool all, neq, expand, failed;
} Item;

/* Location of byte `off` inside a single-line scalar. */
static SgLoc sub_loc(const SgYNode *n, size_t off) {
  SgLoc l = n->loc;
  if (!n->multiline) l.col += (uint32_t)off + (n->quoted ? 1 : 0);
  return l;
}

static void item_err(Item *it, SgDiagCode code, SgLoc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void item_err(Item *it, SgDiagCode code, SgLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_vdiag(it->d, code, loc, fmt, ap);
  va_end(ap);
  if (sg_diag_code_str(code)[0] == 'E') it->failed = true;
}

static const char *wkind_name(const WVal *w) {
  switch (w->v.kind) {
  case SG_V_STR: return "a string";
  case SG_V_NUM: return "a number";
  case SG_V_BOOL: return "a boolean";
  case SG_V_NULL: return "null";
  case SG_V_RE: return "a regular expression";
  case SG_V_CIDR: return "a CIDR network";
  case SG_V_FIELD: return "a field reference";
  case SG_V_EXPR: return "an expression";
  }
  return "a value";
}

/* ---- Parsing the key ------------------------------------------------------------ */

/* Sigma 2.2's rules of the road for modifiers: contains, startswith and
 * endswith exclude each other (startswith|endswith silently became contains);
 * `all` comes last; exists, the comparisons, cidr and the time parts stand
 * alone but for the list modifiers, and a time part followed by a comparison
 * (`ts|hour|gte: 22`: the part is a number to compare). */
static bool is_time_part(Mod m) {
  return m == M_MINUTE || m == M_HOUR || m == M_DAY || m == M_WEEK || m == M_MONTH || m == M_YEAR;
}

static bool is_comparison(Mod m) { return m == M_GT || m == M_GTE || m == M_LT || m == M_LTE; }

static bool stands_alone(Mod m) {
  return m == M_EXISTS || m == M_CIDR || is_comparison(m) || is_time_part(m);
}

static void sigma22_rules(Item *it) {
  int where = -1; /* the first of contains, startswith, endswith */
  for (size_t i = 0; i < it->nmods; i++) {
    Mod m = it->mods[i];
    if (m == M_CONTAINS || m == M_STARTSWITH || m == M_ENDSWITH) {
      if (where >= 0 && it->mods[where] != m)
        item_err(it, SG_D_MOD_COMBO, it->modloc[i], "modifiers '%s' and '%s' cannot be combined (Sigma 2.2)",
                 mods[it->mods[where]].name, mods[m].name);
      else if (where < 0)
        where = (int)i;
    }
    if (m == M_ALL && i + 1 < it->nmods)
      item_err(it, SG_D_MOD_ORDER, it->modloc[i], "modifier 'all' must come last (Sigma 2.2)");
    if (stands_alone(m))
      for (size_t j = 0; j < it->nmods; j++) {
        Mod o = it->mods[j];
        bool part_then_cmp =
            (j < i && is_time_part(o) && is_comparison(m)) || (i < j && is_time_part(m) && is_comparison(o));
        bool both_types = mods[o].kind == MK_TYPE && mods[m].kind == MK_TYPE; /* reported above */
        if (j != i && mods[o].kind != MK_LIST && !part_then_cmp && !both_types && !(stands_alone(o) && j < i))
          item_err(it, SG_D_MOD_COMBO, it->modloc[j],
                   "modifier '%s' cannot be combined with '%s' (Sigma 2.2)", mods[o].name, mods[m].name);
      }
  }
}

/* Modifiers that compare a field's value as a whole: a keyword (no field)
 * has no value to compare. */
static bool needs_field(int mod) {
  switch (mod) {
  case M_EXISTS:
  case M_FIELDREF:
  case M_CIDR:
  case M_GT:
  case M_GTE:
  case M_LT:
  case M_LTE:
  case M_MINUTE:
  case M_HOUR:
  case M_DAY:
  case M_WEEK:
  case M_MONTH:
  case M_YEAR: return true;
  default: return false;
  }
}

static bool parse_key(Item *it) {
  const SgYNode *k = it->key;
  const char *s = k->text, *bar = memchr(s, '|', k->len);
  size_t flen = bar ? (size_t)(bar - s) : k->len;
  it->field = flen ? sg_arena_strndup(it->a, s, flen) : NULL;
  while (bar) {
    const char *name = bar + 1;
    bar = memchr(name, '|', k->len - (size_t)(name - s));
    size_t nlen = bar ? (size_t)(bar - name) : k->len - (size_t)(name - s);
    SgLoc loc = sub_loc(k, (size_t)(name - s));
    Mod m = M__COUNT;
    for (int i = 0; i < M__COUNT; i++)
      if (strlen(mods[i].name) == nlen && !memcmp(mods[i].name, name, nlen)) m = (Mod)i;
    if (m == M__COUNT) {
      SgSuggest sg;
      sg_suggest_init(&sg, name, nlen);
      for (int i = 0; i < M__COUNT; i++)
        sg_suggest_add(&sg, mods[i].name);
      char hint[96];
      item_err(it, SG_D_MOD_UNKNOWN, loc, "unknown modifier '%.*s'%s", (int)nlen, name,
               sg_suggest_text(&sg, hint, sizeof hint, " (see 'sigmacc list modifiers')"));
      continue;
    }
    if (it->nmods == sizeof it->mods / sizeof *it->mods) {
      item_err(it, SG_D_MOD_COMBO, loc, "too many modifiers");
      return false;
    }
    for (size_t i = 0; i < it->nmods; i++)
      if (it->mods[i] == m && m != M_BASE64) { /* pySigma: invalid_modifier_combinations */
        size_t mark = it->d->n;
        sg_diag(it->d, SG_D_MOD_REDUNDANT, loc, "modifier '%s' is applied twice", mods[m].name);
        sg_diags_name(it->d, mark, "invalid_modifier_combinations");
      }
    it->modloc[it->nmods] = loc;
    it->mods[it->nmods++] = m;
    if (m == M_ALL) it->all = true;
    if (m == M_NEQ) it->neq = true;
    if (m == M_EXPAND) it->expand = true;
  }
  /* TYPE modifiers come first (after list modifiers only) */
  bool seen_value = false;
  for (size_t i = 0; i < it->nmods; i++) {
    ModKind mk = mods[it->mods[i]].kind;
    if (mk == MK_TYPE && seen_value)
      item_err(it, SG_D_MOD_ORDER, it->modloc[i], "modifier '%s' must come before any value modifier",
               mods[it->mods[i]].name);
    if (mk == MK_VALUE) seen_value = true;
    for (size_t j = 0; j < i; j++)
      if (mk == MK_TYPE && mods[it->mods[j]].kind == MK_TYPE)
        item_err(it, SG_D_MOD_COMBO, it->modloc[i], "modifiers '%s' and '%s' cannot be combined",
                 mods[it->mods[j]].name, mods[it->mods[i]].name);
  }
  sigma22_rules(it);
  if (!it->field)
    for (size_t i = 0; i < it->nmods; i++)
      if (needs_field(it->mods[i]))
        item_err(it, SG_D_MOD_COMBO, it->modloc[i], "modifier '%s' needs a field name",
                 mods[it->mods[i]].name);
  return !it->failed;
}

/* ---- Regex validation ------------------------------------------------------------- */

static void check_regex(Item *it, const SgYNode *vn, const WVal *w) {
  uint32_t opts = PCRE2_UTF;
  if (w->v.re.flags & SG_RE_I) opts |= PCRE2_CASELESS;
  if (w->v.re.flags & SG_RE_M) opts |= PCRE2_MULTILINE;
  if (w->v.re.flags & SG_RE_S) opts |= PCRE2_DOTALL;
  int err;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)w->v.re.pat, w->v.re.len, opts, &err, &off, NULL);
  if (re) {
    pcre2_code_free(re);
    return;
  }
  PCRE2_UCHAR msg[256];
  pcre2_get_error_message(err, msg, sizeof msg);
  item_err(it, SG_D_BAD_REGEX, sub_loc(vn, off), "invalid regular expression: %s (at offset %zu)",
           (const char *)msg, (size_t)off);
}

/* ---- Applying modifiers to one value ------------------------------------------------- */

/* The first step: YAML scalar -> typed value, honouring a TYPE modifier. */
static bool initial_value(Item *it, const SgYNode *vn, WVal *w) {
  memset(w, 0, sizeof *w);
  w->op = SG_OP_EQ;
  Mod tm = M__COUNT;
  for (size_t i = 0; i < it->nmods; i++)
    if (mods[it->mods[i]].kind == MK_TYPE) tm = it->mods[i];
  if (vn->kind != SG_Y_SCALAR) {
    item_err(it, SG_D_BAD_SEARCH, vn->loc, "a value must be a scalar, not %s", sg_ytype_name(vn));
    return false;
  }
  switch (tm) {
  case M_EXISTS:
    if (vn->type != SG_YT_BOOL) {
      item_err(it, SG_D_MOD_TYPE, vn->loc, "'exists' needs true or false, not %s", sg_ytype_name(vn));
      return false;
    }
    w->op = SG_OP_EXISTS;
    w->v.kind = SG_V_BOOL;
    w->v.b = vn->bval;
    return true;
  case M_RE:
    if (vn->type == SG_YT_NULL || vn->type == SG_YT_BOOL) {
      item_err(it, SG_D_MOD_TYPE, vn->loc, "'re' needs a string, not %s", sg_ytype_name(vn));
      return false;
    }
    w->op = SG_OP_RE;
    w->v.kind = SG_V_RE;
    w->v.re.pat = vn->text;
    w->v.re.len = vn->len;
    return true;
  case M_CIDR:
    if (vn->type != SG_YT_STR || !sg_cidr_parse(vn->text, &w->v.cidr)) {
      item_err(it, SG_D_BAD_CIDR, vn->loc, "'%s' is not a valid IPv4 or IPv6 network", vn->text);
      return false;
    }
    w->op = SG_OP_CIDR;
    w->v.kind = SG_V_CIDR;
    return true;
  case M_FIELDREF: {
    if (vn->type != SG_YT_STR || vn->len == 0) {
      item_err(it, SG_D_MOD_TYPE, vn->loc, "'fieldref' needs a field name, not %s", sg_ytype_name(vn));
      return false;
    }
    w->op = SG_OP_FIELDREF;
    w->v.kind = SG_V_FIELD;
    SgPart *p = sg_arena_alloc(it->a, sizeof *p);
    if (!p) return false;
    *p = (SgPart){SG_PART_LIT, vn->text, vn->len};
    w->v.str = (SgStr){p, 1};
    return true;
  }
  default: break;
  }
  switch (vn->type) {
  case SG_YT_NULL: w->v.kind = SG_V_NULL; return true;
  case SG_YT_BOOL:
    w->v.kind = SG_V_BOOL;
    w->v.b = vn->bval;
    return true;
  case SG_YT_INT:
  case SG_YT_FLOAT:
    if (sg_num_parse(vn->text, vn->len, &w->v.num)) {
      w->v.kind = SG_V_NUM;
      w->v.num.text = sg_num_text(it->a, &w->v.num);
      return true;
    }
    break; /* unparseable number text: keep it as a string */
  case SG_YT_STR: break;
  }
  w->v.kind = SG_V_STR;
  return sg_str_parse_ex(it->a, vn->text, vn->len, it->expand, &w->v.str) == SG_OK;
}

/* Numbers become strings when a string modifier needs them (`|contains: 1337`). */
static bool want_string(Item *it, const SgYNode *vn, WVal *w, size_t mi) {
  if (w->v.kind == SG_V_STR) return true;
  if (w->v.kind == SG_V_NUM) {
    w->v.kind = SG_V_STR;
    return sg_str_parse_ex(it->a, vn->text, vn->len, it->expand, &w->v.str) == SG_OK;
  }
  item_err(it, SG_D_MOD_TYPE, it->modloc[mi], "modifier '%s' does not apply to %s", mods[it->mods[mi]].name,
           wkind_name(w));
  return false;
}

/* A value's alternatives while modifiers apply: heap scratch, freed once
 * the value's matches are built (only the strings live in the arena). */
typedef struct Alts {
  WVal *v;
  size_t n, cap;
} Alts;

static bool alts_push(Item *it, Alts *al, const WVal *w) {
  if (al->n == al->cap) {
    size_t cap = al->cap ? al->cap * 2 : 2;
    WVal *v = realloc(al->v, cap * sizeof *v);
    if (!v) return it->a->failed = true, false; /* the unit reports out-of-memory */
    al->v = v;
    al->cap = cap;
  }
  al->v[al->n++] = *w;
  return true;
}

/* Apply modifier `mi` to every alternative in `al`, into `outp`. */
static bool apply_mod_into(Item *it, const SgYNode *vn, const Alts *al, size_t mi, Alts *outp) {
  Mod m = it->mods[mi];
  SgLoc loc = it->modloc[mi];
  for (size_t k = 0; k < al->n; k++) {
    WVal w = al->v[k];
    switch (m) {
    case M_ALL:
    case M_NEQ:
    case M_EXISTS:
    case M_RE:
    case M_CIDR:
    case M_FIELDREF: break;
    case M_CONTAINS:
    case M_STARTSWITH:
    case M_ENDSWITH: {
      bool lead = m != M_STARTSWITH, trail = m != M_ENDSWITH;
      if (w.v.kind == SG_V_RE) {
        /* pySigma: pad with .* unless anchored or already padded */
        const char *p = w.v.re.pat;
        size_t n = w.v.re.len;
        bool add_l = lead && !(n && p[0] == '^') && !(n >= 2 && !memcmp(p, ".*", 2));
        bool add_r = trail && !(n && p[n - 1] == '$' && !(n >= 2 && p[n - 2] == '\\')) &&
                     !(n >= 2 && !memcmp(p + n - 2, ".*", 2));
        char *np = sg_arena_printf(it->a, "%s%.*s%s", add_l ? ".*" : "", (int)n, p, add_r ? ".*" : "");
        if (!np) return false;
        w.v.re.pat = np;
        w.v.re.len = strlen(np);
      } else if (w.v.kind == SG_V_FIELD) {
        if (w.op != SG_OP_FIELDREF) {
          item_err(it, SG_D_MOD_COMBO, loc,
                   "only one of contains/startswith/endswith applies to a field reference");
          return false;
        }
        w.op = m == M_CONTAINS     ? SG_OP_FIELDREF_CONTAINS
               : m == M_STARTSWITH ? SG_OP_FIELDREF_STARTS
                                   : SG_OP_FIELDREF_ENDS;
      } else {
        if (!want_string(it, vn, &w, mi)) return false;
        if (sg_str_wrap(it->a, &w.v.str, lead, trail, &w.v.str)) return false;
      }
      break;
    }
    case M_CASED:
      if (w.v.kind == SG_V_FIELD) {
        w.cased = true;
        break;
      }
      if (w.v.kind == SG_V_RE) {
        item_err(it, SG_D_MOD_COMBO, loc, "'cased' does not apply to a regular expression (use no 'i' flag)");
        return false;
      }
      if (!want_string(it, vn, &w, mi)) return false;
      w.cased = true;
      break;
    case M_WINDASH: {
      if (!want_string(it, vn, &w, mi)) return false;
      SgStr *vars = malloc(SG_MAX_EXPANSION * sizeof *vars); /* scratch: the parts live in the arena */
      size_t nv = 0;
      if (!vars) return it->a->failed = true, false;
      SgStatus st = sg_str_windash(it->a, &w.v.str, vars, SG_MAX_EXPANSION, &nv);
      if (st == SG_ERR_UNSUPPORTED)
        item_err(it, SG_D_EXPANSION, loc, "'windash' would expand this value into more than %d alternatives",
                 SG_MAX_EXPANSION);
      for (size_t j = 0; st == SG_OK && j < nv; j++) {
        WVal x = w;
        x.v.str = vars[j];
        if (!alts_push(it, outp, &x)) st = SG_ERR_NOMEM;
      }
      free(vars);
      if (st) return false;
      continue;
    }
    case M_RE_I:
    case M_RE_IGNORECASE:
    case M_RE_M:
    case M_RE_MULTILINE:
    case M_RE_S:
    case M_RE_DOTALL:
      if (w.v.kind != SG_V_RE) {
        item_err(it, SG_D_MOD_TYPE, loc, "regex flag '%s' needs the 're' modifier first", mods[m].name);
        return false;
      }
      w.v.re.flags |= (m == M_RE_I || m == M_RE_IGNORECASE)  ? SG_RE_I
                      : (m == M_RE_M || m == M_RE_MULTILINE) ? SG_RE_M
                                                             : SG_RE_S;
      break;
    case M_BASE64:
    case M_BASE64OFFSET: {
      if (!want_string(it, vn, &w, mi)) return false;
      if (!sg_str_is_plain(&w.v.str)) {
        item_err(it, SG_D_WILDCARD_ENCODE, loc,
                 "'%s' cannot encode wildcards or placeholders (put contains/startswith/endswith after it)",
                 mods[m].name);
        return false;
      }
      if (m == M_BASE64) {
        if (sg_str_base64(it->a, &w.v.str, &w.v.str)) return false;
        break;
      }
      SgStr three[3];
      if (sg_str_base64offset(it->a, &w.v.str, three)) return false;
      for (int j = 0; j < 3; j++) {
        WVal x = w;
        x.v.str = three[j];
        if (!alts_push(it, outp, &x)) return false;
      }
      continue;
    }
    case M_UTF16LE:
    case M_WIDE:
    case M_UTF16BE:
    case M_UTF16:
      if (!want_string(it, vn, &w, mi)) return false;
      if (sg_str_utf16(it->a, &w.v.str,
                       m == M_UTF16BE ? SG_UTF16BE
                       : m == M_UTF16 ? SG_UTF16BOM
                                      : SG_UTF16LE,
                       &w.v.str))
        return false;
      break;
    case M_EXPAND: /* placeholders were parsed with the value (initial_value) */
      if (!want_string(it, vn, &w, mi)) return false;
      break;
    case M_GT:
    case M_GTE:
    case M_LT:
    case M_LTE:
      if (w.v.kind != SG_V_NUM || (w.op != SG_OP_EQ)) {
        item_err(it, SG_D_MOD_TYPE, loc, "'%s' compares numbers; the value is %s%s", mods[m].name,
                 w.op != SG_OP_EQ ? "already a comparison" : wkind_name(&w),
                 w.v.kind == SG_V_STR && vn->quoted ? " (remove the quotes)" : "");
        return false;
      }
      w.op = m == M_GT ? SG_OP_GT : m == M_GTE ? SG_OP_GTE : m == M_LT ? SG_OP_LT : SG_OP_LTE;
      break;
    case M_MINUTE:
    case M_HOUR:
    case M_DAY:
    case M_WEEK:
    case M_MONTH:
    case M_YEAR:
      if (w.v.kind != SG_V_NUM || !w.v.num.is_int || w.ts != SG_TS_NONE || w.op != SG_OP_EQ) {
        item_err(it, SG_D_MOD_TYPE, loc, "'%s' needs an integer value before any comparison modifier",
                 mods[m].name);
        return false;
      }
      w.ts = (SgTsPart)(SG_TS_MINUTE + (m - M_MINUTE));
      break;
    case M__COUNT: break;
    }
    if (!alts_push(it, outp, &w)) return false;
    if (outp->n > SG_MAX_EXPANSION) {
      item_err(it, SG_D_EXPANSION, loc, "value expands into more than %d alternatives", SG_MAX_EXPANSION);
      return false;
    }
  }
  return true;
}

static bool apply_mod(Item *it, const SgYNode *vn, Alts *al, size_t mi) {
  Alts out = {0};
  bool ok = apply_mod_into(it, vn, al, mi, &out);
  free(ok ? al->v : out.v);
  if (ok) *al = out;
  return ok;
}

static SgNode *match_node(Item *it, const SgYNode *vn, const WVal *w) {
  SgNode *n = sg_node_new(it->a, SG_N_MATCH, vn->loc);
  if (!n) return NULL;
  n->m.field = it->field;
  n->m.op = w->op;
  n->m.tspart = w->ts;
  n->m.cased = w->cased;
  n->m.v = w->v;
  if (w->op == SG_OP_EXISTS && !w->v.b) { /* exists: false */
    n->m.v.b = true;
    SgNode *not = sg_node_new(it->a, SG_N_NOT, vn->loc);
    if (!not || sg_node_add(it->a, not, n)) return NULL;
    return not ;
  }
  return n;
}

/* Add `kid` to `parent`, creating `parent` lazily with kind k. */
static bool add_kid(SgArena *a, SgNode **parent, SgNodeKind k, SgLoc loc, SgNode *kid) {
  if (!*parent && !(*parent = sg_node_new(a, k, loc))) return false;
  return sg_node_join(a, *parent, kid) == SG_OK;
}

static SgNode *simplify1(SgNode *n) {
  return n && n->kind != SG_N_NOT && n->kind != SG_N_MATCH && n->nkids == 1 ? n->kids[0] : n;
}

static SgNode *build_item(SgArena *a, const SgYNode *key, const SgYNode *val, SgDiags *d, bool *failed) {
  Item it = {.a = a, .d = d, .key = key};
  if (!parse_key(&it)) {
    *failed = true;
    return NULL;
  }
  const SgYNode *const *vals = (const SgYNode *const *)&val;
  size_t nvals = 1;
  if (val->kind == SG_Y_SEQ) {
    vals = (const SgYNode *const *)val->items;
    nvals = val->n;
    if (nvals == 0) { /* pySigma: an empty list means null */
      SgYNode *nn = sg_arena_alloc(a, sizeof *nn);
      const SgYNode **one = sg_arena_alloc(a, sizeof *one);
      if (!nn || !one) return NULL;
      *nn = (SgYNode){.kind = SG_Y_SCALAR, .loc = val->loc, .text = "", .type = SG_YT_NULL};
      one[0] = nn;
      vals = one;
      nvals = 1;
    }
  } else if (val->kind == SG_Y_MAP) {
    item_err(&it, SG_D_BAD_SEARCH, val->loc, "the value of '%s' cannot be a mapping", key->text);
    *failed = true;
    return NULL;
  }
  if (it.all && nvals == 1 && val->kind != SG_Y_SEQ)
    sg_diag(d, SG_D_MOD_REDUNDANT, it.modloc[0], "'all' on a single value has no effect");
  SgNode *group = NULL; /* OR of everything, or AND of per-value groups under `all` */
  for (size_t i = 0; i < nvals; i++) {
    const SgYNode *vn = vals[i];
    if (vn->kind == SG_Y_SCALAR && vn->type == SG_YT_NULL && nvals > 1) {
      item_err(&it, SG_D_NULL_IN_LIST, vn->loc,
               "null cannot be one of several values (Sigma spec); use a separate search");
      continue;
    }
    Alts al = {0};
    WVal w;
    bool ok = initial_value(&it, vn, &w) && alts_push(&it, &al, &w);
    for (size_t mi = 0; mi < it.nmods && ok; mi++)
      ok = apply_mod(&it, vn, &al, mi);
    if (ok && al.v[0].op == SG_OP_RE) check_regex(&it, vn, &al.v[0]);
    if (ok && (al.v[0].v.kind == SG_V_NULL || al.v[0].v.kind == SG_V_BOOL) && !it.field) {
      item_err(&it, SG_D_BAD_SEARCH, vn->loc, "a keyword cannot be %s", wkind_name(&al.v[0]));
      ok = false;
    }
    SgNode *vg = NULL; /* this value's alternatives */
    for (size_t k = 0; ok && k < al.n; k++) {
      SgNode *mn = match_node(&it, vn, &al.v[k]);
      if (!mn || !add_kid(a, &vg, SG_N_OR, vn->loc, mn)) ok = false, it.failed = true;
    }
    free(al.v);
    if (!ok) continue;
    vg = simplify1(vg);
    if (vg->kind == SG_N_OR) vg->flags |= SG_NF_EXPANSION;
    if (!add_kid(a, &group, it.all ? SG_N_AND : SG_N_OR, key->loc, vg)) return NULL;
  }
  if (it.failed || !group) {
    *failed = true;
    return NULL;
  }
  group = simplify1(group);
  if (group->kind == SG_N_OR && !it.all && !group->flags) group->flags |= SG_NF_VALUES;
  if (it.field && (group->kind == SG_N_AND || group->kind == SG_N_OR)) group->flags |= SG_NF_ITEM;
  if (it.neq) {
    SgNode *not = sg_node_new(a, SG_N_NOT, key->loc);
    if (!not || sg_node_add(a, not, group)) return NULL;
    group = not ;
  }
  return group;
}

static SgNode *build_keyword(SgArena *a, const SgYNode *vn, SgDiags *d, bool *failed) {
  static const SgYNode empty_key = {.kind = SG_Y_SCALAR, .text = "", .len = 0};
  SgYNode *key = sg_arena_alloc(a, sizeof *key);
  if (!key) return NULL;
  *key = empty_key;
  key->loc = vn->loc;
  return build_item(a, key, vn, d, failed);
}

static SgNode *build_search(SgArena *a, const SgYNode *def, SgDiags *d, bool *failed, int depth);

static SgNode *build_map(SgArena *a, const SgYNode *def, SgDiags *d, bool *failed) {
  if (def->n == 0) {
    sg_diag(d, SG_D_BAD_SEARCH, def->loc, "empty search definition");
    *failed = true;
    return NULL;
  }
  SgNode *and = NULL;
  for (size_t i = 0; i < def->n; i++) {
    /* a null key (`~: value`, pySigma's None field) is a keyword item */
    const SgYNode *k = def->keys[i];
    SgNode *kid = k->type == SG_YT_NULL ? build_keyword(a, def->items[i], d, failed)
                                        : build_item(a, k, def->items[i], d, failed);
    if (kid && !add_kid(a, &and, SG_N_AND, def->loc, kid)) return NULL;
  }
  return simplify1(and);
}

static SgNode *build_search(SgArena *a, const SgYNode *def, SgDiags *d, bool *failed, int depth) {
  if (depth > 4) {
    sg_diag(d, SG_D_BAD_SEARCH, def->loc, "search definitions nest lists too deeply");
    *failed = true;
    return NULL;
  }
  switch (def->kind) {
  case SG_Y_MAP: return build_map(a, def, d, failed);
  case SG_Y_SCALAR:
    if (def->type == SG_YT_NULL) {
      sg_diag(d, SG_D_BAD_SEARCH, def->loc, "empty search definition");
      *failed = true;
      return NULL;
    }
    return build_keyword(a, def, d, failed);
  case SG_Y_SEQ: break;
  }
  if (def->n == 0) {
    sg_diag(d, SG_D_BAD_SEARCH, def->loc, "empty search definition");
    *failed = true;
    return NULL;
  }
  /* consecutive scalars form one keyword item (one IN-able OR group) */
  SgNode * or = NULL;
  size_t i = 0;
  while (i < def->n) {
    const SgYNode *x = def->items[i];
    SgNode *kid;
    if (x->kind == SG_Y_SCALAR) {
      size_t j = i;
      while (j < def->n && def->items[j]->kind == SG_Y_SCALAR)
        j++;
      SgYNode *run = sg_arena_alloc(a, sizeof *run);
      if (!run) return NULL;
      *run = (SgYNode){.kind = SG_Y_SEQ, .loc = x->loc, .items = def->items + i, .n = j - i};
      kid = build_keyword(a, run, d, failed);
      i = j;
    } else {
      kid = build_search(a, x, d, failed, depth + 1);
      i++;
    }
    if (kid && !add_kid(a, & or, SG_N_OR, def->loc, kid)) return NULL;
  }
  return simplify1(or);
}

/* ---- detection: --------------------------------------------------------------------- */

static bool is_search_name(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
          *s == '-' || *s == '.'))
      return false;
  return true;
}

static const SgYNode *find_misplaced_condition(const SgYNode *det) {
  for (size_t i = 0; i < det->n; i++) {
    const SgYNode *v = det->items[i];
    const SgYNode *c = sg_ymap_get(v, "condition");
    if (c) return det->keys[i];
    if (v->kind == SG_Y_SEQ)
      for (size_t j = 0; j < v->n; j++)
        if (sg_ymap_get(v->items[j], "condition")) return det->keys[i];
  }
  return NULL;
}

SgStatus sg_detection_build(SgArena *a, SgRule *r, const SgYNode *key, const SgYNode *det, SgDiags *d) {
  size_t cap = 0, ccap = 0;
  bool failed = false;
  const SgYNode *cond = NULL;
  for (size_t i = 0; i < det->n; i++) {
    const SgYNode *k = det->keys[i], *v = det->items[i];
    if (!strcmp(k->text, "condition")) {
      cond = v;
      continue;
    }
    if (!strcmp(k->text, "timeframe") || (r->kind == SG_DOC_FILTER && !strcmp(k->text, "rules"))) continue;
    if (!is_search_name(k->text))
      sg_diag(d, SG_D_ODD_SEARCH_NAME, k->loc,
              "search identifier '%s' has characters other than letters, digits, '_', '-' and '.'; "
              "only a pattern can select it%s",
              k->text, strchr(k->text, '|') ? ", and its '|' modifiers have no effect" : "");
    SgNode *n = NULL;
    if (v->kind == SG_Y_SCALAR && v->type == SG_YT_NULL) {
      sg_diag(d, SG_D_BAD_SEARCH, k->loc, "search '%s' is empty", k->text);
      failed = true;
    } else {
      n = build_search(a, v, d, &failed, 0);
    }
    SgSearch *s = SG_PUSH(a, r->searches, r->nsearches, cap);
    if (!s) return SG_ERR_NOMEM;
    *s = (SgSearch){.name = k->text, .loc = k->loc, .node = n};
  }
  if (r->nsearches == 0) {
    sg_diag(d, SG_D_NO_SEARCH, key->loc, "'%s' defines no search identifier", key->text);
    failed = true;
  }
  if (!cond) {
    const SgYNode *where = find_misplaced_condition(det);
    if (where)
      sg_diag(
          d, SG_D_COND_MISPLACED, where->loc,
          "'condition' is inside search '%s'; it must be directly under 'detection' (check the indentation)",
          where->text);
    else
      sg_diag(d, SG_D_NO_CONDITION, key->loc, "'%s' has no 'condition'", key->text);
    return SG_ERR_PARSE;
  }
  const SgYNode *const *cs = (const SgYNode *const *)&cond;
  size_t ncs = 1;
  if (cond->kind == SG_Y_SEQ) {
    cs = (const SgYNode *const *)cond->items;
    ncs = cond->n;
    if (!ncs) {
      sg_diag(d, SG_D_NO_CONDITION, cond->loc, "'condition' is an empty list");
      return SG_ERR_PARSE;
    }
  }
  for (size_t i = 0; i < ncs; i++) {
    if (cs[i]->kind != SG_Y_SCALAR || cs[i]->type == SG_YT_NULL) {
      sg_diag(d, SG_D_TYPE, cs[i]->loc, "a condition must be a string, not %s", sg_ytype_name(cs[i]));
      failed = true;
      continue;
    }
    SgCondition *c = SG_PUSH(a, r->conds, r->nconds, ccap);
    if (!c) return SG_ERR_NOMEM;
    if (sg_cond_parse(a, c, cs[i], false, d) != SG_OK) failed = true;
  }
  return failed ? SG_ERR_PARSE : SG_OK;
}

SgNode *sg_search_build(SgArena *a, const SgYNode *def, SgDiags *d, bool *failed) {
  return build_search(a, def, d, failed, 0);
}
