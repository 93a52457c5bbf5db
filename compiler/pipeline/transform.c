/* transform.c - node-level transformations: each walks every MATCH of every
 * condition tree of the rule copy (searches were copied per use by resolve.c,
 * so each use is rewritten once) and records its id on what it touched. */
#define _POSIX_C_SOURCE 200809L
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline.h"

/* ==== Applying: node-level transformations ========================================= */

void sg_pl_mark(Ctx *c, SgNode *n, const char *id) {
  if (!id) return;
  if (n->kind != SG_N_MATCH) {
    for (uint32_t i = 0; i < n->nkids; i++)
      sg_pl_mark(c, n->kids[i], id);
    return;
  }
  if (sg_pl_has_id(n->m.applied, n->m.napplied, id)) return;
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

const char *sg_pl_prefix_mapped(Ctx *c, const PItem *it, const char *f, const SgYNode **to_out) {
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
  const char *rest = sg_pl_prefix_mapped(c, it, n->m.field, &to);
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
  char *s = sg_pl_buf_dup(a, &b);
  sg_buf_free(&b);
  return s;
}

char *sg_pl_substitute(Ctx *c, pcre2_code *re, const char *repl, const char *s, size_t n, size_t *outlen) {
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
  char *r = sg_pl_buf_dup(a, &b);
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
      char *r = sg_pl_substitute(c, it->p.replace.re, it->p.replace.replacement, s->parts[i].s, s->parts[i].n,
                                 &len);
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
  char *r = text ? sg_pl_substitute(c, it->p.replace.re, it->p.replace.replacement, text, len, &rlen) : NULL;
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
    np[i].s = sg_pl_buf_dup(c->a, &b);
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
  const char *pat = sg_pl_buf_dup(c->a, &b);
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
      char *txt = sg_pl_buf_dup(c->a, &b);
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

/* The one field of every match under a detection item's node (NULL when
 * they differ, or one is a keyword or compares with another field), each
 * meeting the item's conditions. */
static const char *item_field(Ctx *c, const PItem *it, const SgNode *n, const char *f) {
  if (n->kind == SG_N_MATCH) {
    if (!n->m.field || (f && strcmp(f, n->m.field)) || n->m.op >= SG_OP_FIELDREF ||
        !sg_pl_node_conds(c, it, n))
      return NULL;
    return n->m.field;
  }
  if (n->kind != SG_N_AND && n->kind != SG_N_OR) return NULL;
  for (uint32_t i = 0; i < n->nkids; i++)
    if (!(f = item_field(c, it, n->kids[i], f))) return NULL;
  return f;
}

static void rename_all(SgNode *n, const char *field) {
  if (n->kind == SG_N_MATCH) {
    n->m.field = field;
    n->m.mapped = true;
    return;
  }
  for (uint32_t i = 0; i < n->nkids; i++)
    rename_all(n->kids[i], field);
}

static SgNode *make_item_copy(Ctx *c, const SgNode *n, size_t i, const void *arg) {
  const SgYNode *to = arg;
  SgNode *k = sg_node_clone(c->a, n);
  if (!k) return c->oom = true, NULL;
  k->flags &= (uint8_t)~SG_NF_ITEM;
  rename_all(k, to->items[i]->text);
  return k;
}

/* A detection item of several values whose field maps to several names: the
 * item as a whole once per name, ORed (pySigma maps the item, so
 * `f|contains|all` holds on one name), or NULL when this does not apply. */
static SgNode *map_item(Ctx *c, const PItem *it, SgNode *n) {
  if (it->t != T_FIELD_MAP || !(n->flags & SG_NF_ITEM)) return NULL;
  const char *f = item_field(c, it, n, NULL);
  const SgYNode *to = f ? map_lookup(it->p.map.mapping, f) : NULL;
  if (!to || to->kind != SG_Y_SEQ || to->n < 2) return NULL;
  SgNode *r = or_of(c, n, to->n, make_item_copy, to);
  if (r) sg_pl_mark(c, r, it->id);
  return r;
}

/* Rewrite a tree; NULL when everything under it was dropped. */
SgNode *sg_pl_walk(Ctx *c, const PItem *it, SgNode *n) {
  if (n->kind == SG_N_MATCH) {
    if (!sg_pl_node_conds(c, it, n)) return n;
    c->touched = false;
    SgNode *r = apply_node(c, it, n);
    if (r && c->touched) sg_pl_mark(c, r, it->id);
    return r;
  }
  if (n->kind == SG_N_TRUE || n->kind == SG_N_FALSE) return n;
  SgNode *item = map_item(c, it, n);
  if (item) return item;
  SgNode *copy = sg_node_new(c->a, n->kind, n->loc);
  if (!copy) return c->oom = true, n;
  copy->flags = n->flags;
  for (uint32_t i = 0; i < n->nkids; i++) {
    SgNode *k = sg_pl_walk(c, it, n->kids[i]);
    if (k && sg_node_join(c->a, copy, k)) return c->oom = true, n;
  }
  if (!copy->nkids) return NULL;
  return copy->nkids == 1 && copy->kind != SG_N_NOT ? copy->kids[0] : copy;
}
