/* post.c - postprocessing of each query (embed, simple_template, replace,
 * nest) and finalizers that join all queries (concat, json). */
#define _POSIX_C_SOURCE 200809L
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline.h"

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
      val = sg_rule_attr(c.r, attr);
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

/* A JSON string as Python's json.dumps writes it (ensure_ascii: every
 * non-ASCII character as \uXXXX, a surrogate pair beyond the BMP). */
static void py_json_str(SgBuf *b, const char *s, size_t n) {
  sg_buf_catc(b, '"');
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      if (c == '"' || c == '\\')
        sg_buf_catf(b, "\\%c", c);
      else if (c == '\n')
        sg_buf_cat(b, "\\n");
      else if (c == '\r')
        sg_buf_cat(b, "\\r");
      else if (c == '\t')
        sg_buf_cat(b, "\\t");
      else if (c < 0x20 || c == 0x7f)
        sg_buf_catf(b, "\\u%04x", c);
      else
        sg_buf_catc(b, (char)c);
      i++;
      continue;
    }
    size_t k = sg_utf8_len(s + i, n - i);
    uint32_t cp = 0xFFFD;
    if (k == 2) cp = (uint32_t)(c & 0x1F) << 6 | (s[i + 1] & 0x3F);
    if (k == 3) cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
    if (k == 4)
      cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3F) << 12 | (uint32_t)(s[i + 2] & 0x3F) << 6 |
           (s[i + 3] & 0x3F);
    if (cp >= 0x10000)
      sg_buf_catf(b, "\\u%04x\\u%04x", 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF));
    else
      sg_buf_catf(b, "\\u%04x", cp);
    i += k ? k : 1;
  }
  sg_buf_catc(b, '"');
}

/* The json postprocessing: the template as json.dumps writes it, each
 * "%QUERY%" string replaced by the query. */
static void py_json(SgBuf *b, const SgYNode *n, const char *query) {
  if (!n) return;
  if (n->kind == SG_Y_MAP || n->kind == SG_Y_SEQ) {
    bool map = n->kind == SG_Y_MAP;
    sg_buf_catc(b, map ? '{' : '[');
    for (size_t i = 0; i < n->n; i++) {
      if (i) sg_buf_cat(b, ", ");
      if (map) {
        py_json_str(b, n->keys[i]->text, n->keys[i]->len);
        sg_buf_cat(b, ": ");
      }
      py_json(b, n->items[i], query);
    }
    sg_buf_catc(b, map ? '}' : ']');
    return;
  }
  switch (n->type) {
  case SG_YT_NULL: sg_buf_cat(b, "null"); break;
  case SG_YT_BOOL: sg_buf_cat(b, n->bval ? "true" : "false"); break;
  case SG_YT_INT:
  case SG_YT_FLOAT: sg_buf_cat(b, n->text); break;
  default:
    if (!strcmp(n->text, "%QUERY%"))
      py_json_str(b, query, strlen(query));
    else
      py_json_str(b, n->text, n->len);
  }
}

static SgStatus post_items(const PItem *items, size_t n, const SgRule *r, const SgPipelineState *state,
                           SgBuf *q, SgDiags *d) {
  if (q->oom) return SG_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    const PItem *it = &items[i];
    Ctx c = {.r = (SgRule *)r};
    if (!sg_pl_eval_set(&c, &it->rule_c, NULL)) continue;
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
    case P_JSON: py_json(&out, it->p.json_post.tree, query); break;
    case P_JINJA: {
      char err[256];
      if (!sg_jinja_render(it->p.jinja.tpl, r, state, query, NULL, 0, false, &out, err, sizeof err) &&
          !out.oom) {
        sg_diag(d, SG_D_PIPELINE_FAIL, it->loc, "template: %s", err);
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
      char *res = sg_pl_substitute(&rc, it->p.replace.re, it->p.replace.replacement, query, q->len, &len);
      if (res) sg_buf_catn(&out, res, len);
      sg_arena_free(&a);
      if (!res) {
        sg_buf_free(&out);
        return SG_ERR_NOMEM;
      }
      break;
    }
    case P_NEST: {
      SgStatus st = post_items(it->p.nest.items, it->p.nest.n, r, state, q, d);
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

SgStatus sg_pipeline_postprocess(const SgPipelineSet *set, const SgRule *r, const SgPipelineState *state,
                                 SgBuf *query, SgDiags *d) {
  for (size_t p = 0; p < set->n; p++) {
    SgStatus st = post_items(set->v[p]->post, set->v[p]->npost, r, state, query, d);
    if (st) return st;
  }
  return SG_OK;
}

/* What finalizers pass on: the queries, or one text once a finalizer has
 * joined them (pySigma's list, then str). */
typedef struct FinVal {
  const char *const *list;
  size_t n;
  SgBuf text;
  bool joined;
  bool failed; /* a template failed (reported): nothing is written */
  SgDiags *d;
} FinVal;

/* A YAML scalar as PyYAML's safe_dump writes a string: plain when it reads
 * back as the same string, else single-quoted, else (line breaks, control
 * characters) double-quoted with escapes; true when plain. (PyYAML also
 * folds a long line at a space after column 80; we do not: the YAML reads
 * back as the same strings.) */
static bool yaml_scalar(SgBuf *b, const char *s) {
  size_t n = strlen(s);
  bool plain = n && !strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) && s[0] != ' ' && s[n - 1] != ' ' &&
               !strstr(s, ": ") && !strstr(s, " #") && s[n - 1] != ':';
  bool quote_ok = true;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) plain = quote_ok = false;
  static const char *const typed[] = {"true", "false", "null", "yes", "no", "on", "off", "~", NULL};
  for (size_t i = 0; plain && typed[i]; i++)
    if (!sg_ascii_casecmp(s, typed[i])) plain = false;
  SgNum num;
  if (plain && sg_num_parse(s, n, &num)) plain = false;
  if (plain) {
    sg_buf_cat(b, s);
  } else if (quote_ok) {
    sg_buf_catc(b, '\'');
    for (size_t i = 0; i < n; i++) {
      if (s[i] == '\'') sg_buf_catc(b, '\'');
      sg_buf_catc(b, s[i]);
    }
    sg_buf_catc(b, '\'');
  } else {
    sg_json_str(b, s, n); /* a JSON string is a YAML double-quoted scalar */
  }
  return plain;
}

static void fin_apply(const PItem *f, FinVal *v) {
  if (v->failed) return;
  const char *one[1];
  const char *const *list = v->list;
  size_t n = v->n;
  if (v->joined) { /* a finalizer after another sees one text */
    one[0] = sg_buf_cstr(&v->text);
    list = one;
    n = 1;
  }
  SgBuf out = {0};
  switch (f->t) {
  case F_CONCAT:
    sg_buf_cat(&out, f->p.concat.prefix ? f->p.concat.prefix : "");
    for (size_t i = 0; i < n; i++) {
      if (i) sg_buf_cat(&out, f->p.concat.separator ? f->p.concat.separator : "\n");
      sg_buf_cat(&out, list[i]);
    }
    sg_buf_cat(&out, f->p.concat.suffix ? f->p.concat.suffix : "");
    break;
  case F_JSON: /* json.dumps(queries): an array, or the one text as a string */
    if (v->joined) {
      sg_json_str(&out, list[0], strlen(list[0]));
      break;
    }
    sg_buf_catc(&out, '[');
    for (size_t i = 0; i < n; i++) {
      if (i) sg_buf_catc(&out, ',');
      if (f->p.json.indent >= 0) {
        sg_buf_catc(&out, '\n');
        for (long k = 0; k < f->p.json.indent; k++)
          sg_buf_catc(&out, ' ');
      } else if (i) {
        sg_buf_catc(&out, ' ');
      }
      sg_json_str(&out, list[i], strlen(list[i]));
    }
    if (f->p.json.indent >= 0 && n) sg_buf_catc(&out, '\n');
    sg_buf_catc(&out, ']');
    break;
  case F_YAML: /* yaml.safe_dump: a sequence, or the one text as a scalar (a plain one ends its document) */
    for (size_t i = 0; i < n; i++) {
      if (!v->joined) sg_buf_cat(&out, "- ");
      if (yaml_scalar(&out, list[i]) && v->joined) sg_buf_cat(&out, "\n...");
      if (i + 1 < n) sg_buf_catc(&out, '\n');
    }
    break;
  case F_NESTED:
    for (size_t i = 0; i < f->p.nest.n; i++)
      fin_apply(&f->p.nest.items[i], v);
    return;
  case F_TEMPLATE: {
    char err[256];
    if (!sg_jinja_render(f->p.jinja.tpl, NULL, NULL, NULL, list, n, v->joined, &out, err, sizeof err) &&
        !out.oom) {
      sg_diag(v->d, SG_D_PIPELINE_FAIL, f->loc, "template: %s", err);
      v->failed = true;
    }
    break;
  }
  default: return;
  }
  sg_buf_taint(&out, &v->text);
  sg_buf_free(&v->text);
  v->text = out;
  v->joined = true;
}

/* Every finalizer of every pipeline, in order, each on what the one before
 * produced (pySigma's ProcessingPipeline.finalize). */
bool sg_pipeline_finalize(const SgPipelineSet *set, const char *const *queries, size_t n, SgBuf *out,
                          SgDiags *d) {
  FinVal v = {queries, n, {0}, false, false, d};
  bool any = false;
  for (size_t p = 0; p < set->n; p++)
    for (size_t i = 0; i < set->v[p]->nfin; i++) {
      fin_apply(&set->v[p]->fin[i], &v);
      any = true;
    }
  if (!any) return false;
  if (v.failed) {
    sg_buf_free(&v.text);
    return true;
  }
  sg_buf_taint(out, &v.text);
  sg_buf_cat(out, sg_buf_cstr(&v.text));
  sg_buf_catc(out, '\n');
  sg_buf_free(&v.text);
  return true;
}
