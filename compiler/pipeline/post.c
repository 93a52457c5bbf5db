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
      val = sg_pl_rule_attr(c.r, attr);
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
