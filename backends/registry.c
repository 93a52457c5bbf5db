/* registry.c - the list of conversion targets, query collections, options.
 *
 * Adding a target: define its SgTarget in its own file and list it here.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

extern const SgTarget sg_target_ast, sg_target_splunk, sg_target_splunk_spl2, sg_target_aql, sg_target_text;

static const SgTarget *const targets[] = {&sg_target_aql, &sg_target_splunk, &sg_target_splunk_spl2,
                                          &sg_target_text, &sg_target_ast};

const SgTarget *const *sg_target_list(size_t *n) {
  *n = sizeof targets / sizeof *targets;
  return targets;
}

const SgTarget *sg_target_find(const char *name) {
  for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
    if (!strcmp(targets[i]->name, name) || (targets[i]->alias && !strcmp(targets[i]->alias, name)))
      return targets[i];
  return NULL;
}

const char *sg_conv_opt(const SgConvCtx *c, const char *key, const char *def) {
  const char *v = def;
  for (size_t i = 0; i < c->nopts; i++)
    if (!strcmp(c->opts[i].key, key)) v = c->opts[i].value;
  return v;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Drop the queries from `n` on (a rule that failed leaves none behind). */
static void queries_truncate(SgQueries *q, size_t n) {
  for (size_t i = n; i < q->n; i++) {
    SgQuery *x = &q->v[i];
    free(x->text);
    free(x->id);
    free(x->title);
    free(x->level);
    free(x->description);
    free(x->meta);
    free(x->header);
    free(x->stanza);
  }
  if (n < q->n && (!n || q->v[n - 1].rule != q->v[n].rule)) q->rules--; /* its serial is free again */
  q->n = n < q->n ? n : q->n;
}

void sg_queries_free(SgQueries *q) {
  queries_truncate(q, 0);
  free(q->v);
  memset(q, 0, sizeof *q);
}

static void json_list(SgBuf *b, const char *key, const SgStrList *l) {
  sg_buf_catf(b, ",\"%s\":[", key);
  for (size_t i = 0; i < l->n; i++) {
    if (i) sg_buf_catc(b, ',');
    sg_json_str_or_null(b, l->v[i]);
  }
  sg_buf_catc(b, ']');
}

/* The rule's file, metadata (what pages and reports are built from), tags and
 * log source as JSON object members. */
static void rule_meta(SgBuf *b, const SgRule *r) {
  sg_buf_cat(b, "\"path\":");
  sg_json_str_or_null(b, r->loc.path);
  static const char *const keys[] = {"status", "description", "author", "date", "modified"};
  const char *const vals[] = {r->status, r->description, r->author, r->date, r->modified};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    sg_buf_catf(b, ",\"%s\":", keys[i]);
    sg_json_str_or_null(b, vals[i]);
  }
  json_list(b, "references", &r->references);
  json_list(b, "falsepositives", &r->falsepositives);
  json_list(b, "fields", &r->fields);
  json_list(b, "tags", &r->tags);
  sg_buf_cat(b, ",\"logsource\":{\"category\":");
  sg_json_str_or_null(b, r->logsource.category);
  sg_buf_cat(b, ",\"product\":");
  sg_json_str_or_null(b, r->logsource.product);
  sg_buf_cat(b, ",\"service\":");
  sg_json_str_or_null(b, r->logsource.service);
  sg_buf_catc(b, '}');
}

SgStatus sg_queries_add(SgQueries *q, const SgRule *r, size_t cond, const char *text, size_t len) {
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 16;
    SgQuery *v = realloc(q->v, cap * sizeof *v);
    if (!v) return SG_ERR_NOMEM;
    q->v = v;
    q->cap = cap;
  }
  /* a new rule gets a new serial; its further conditions share it */
  if (!q->n || cond == 0) q->rules++;
  SgBuf meta = {0}, header = {0};
  rule_meta(&meta, r);
  sg_buf_catf(&header, "# %s:%u %s %s", r->loc.path ? r->loc.path : "-", r->loc.line, r->id ? r->id : "-",
              r->title ? r->title : "");
  for (size_t k = 0; k < header.len; k++) /* one line, whatever the file name and title hold */
    if ((unsigned char)header.data[k] < 0x20 || header.data[k] == 0x7f) header.data[k] = ' ';
  SgQuery x = {.rule = q->rules,
               .cond = cond,
               .nconds = r->nconds,
               .text = malloc(len + 1),
               .id = dup_or_null(r->id),
               .title = dup_or_null(r->title),
               .level = dup_or_null(r->level),
               .description = dup_or_null(r->description),
               .meta = meta.oom ? NULL : meta.data,
               .header = header.oom ? NULL : header.data};
  if (!x.text || (r->id && !x.id) || (r->title && !x.title) || (r->level && !x.level) ||
      (r->description && !x.description) || !x.meta || !x.header) {
    free(x.text);
    free(x.id);
    free(x.title);
    free(x.level);
    free(x.description);
    sg_buf_free(&meta);
    sg_buf_free(&header);
    return SG_ERR_NOMEM;
  }
  memcpy(x.text, text, len);
  x.text[len] = '\0';
  q->v[q->n++] = x;
  return SG_OK;
}

/* ---- the `ast` target: the resolved tree, for tests and debugging ----------- */

static SgStatus ast_convert(const SgConvCtx *c, const SgRule *r, SgQueries *out, SgDiags *d) {
  (void)c;
  (void)d;
  SgBuf b = {0};
  sg_dump_rule(&b, r);
  SgStatus st = b.oom ? SG_ERR_NOMEM : sg_queries_add(out, r, 0, b.data ? b.data : "", b.len);
  sg_buf_free(&b);
  return st;
}

static void ast_finish(const SgConvCtx *c, const SgQueries *q, SgBuf *out) {
  (void)c;
  for (size_t i = 0; i < q->n; i++)
    sg_buf_cat(out, q->v[i].text);
}

static const SgFormat ast_formats[] = {
    {"default", "one node per line, two spaces of indent per level", "", ".ast", NULL, NULL},
    {0},
};

const SgTarget sg_target_ast = {
    .name = "ast",
    .description = "the resolved boolean tree of each condition (debugging and tests)",
    .formats = ast_formats,
    .any_pipeline = true,
    .dump = true,
    .convert = ast_convert,
    .finish = ast_finish,
};

static SgStatus process(const SgPipelineSet *set, SgUnit *u, const SgRule *rule, const SgRule **out,
                        SgPipelineState *state, SgDiags *d) {
  *out = rule;
  if (!set->n) return SG_OK;
  SgRule *processed;
  SgStatus st = sg_pipeline_apply(&u->arena, set, rule, &processed, state, d);
  if (st == SG_OK) *out = processed;
  return st;
}

/* The referenced rules of correlation `corr` (of unit `home`, whose file is searched first),
 * each processed as it would be alone; a referenced correlation's own, likewise, in its
 * ref_ctx (a chain). `chain` holds the correlations being expanded, to refuse a cycle. */
enum { MAX_CHAIN = 16 }; /* correlations in a chain a query is written for */

static SgStatus correlated(const SgPipelineSet *set, SgUnit *u, SgUnit *home, const SgRule *corr,
                           SgConvCtx *ctx, const SgRule **chain, size_t depth, SgDiags *d) {
  size_t n = corr->corr->rules.n;
  SgRuleRef *found;
  const SgRule **refs = sg_arena_alloc(&u->arena, (n + 1) * sizeof *refs);
  SgPipelineState *states = sg_arena_alloc(&u->arena, (n + 1) * sizeof *states);
  const SgConvCtx **subs = sg_arena_alloc(&u->arena, (n + 1) * sizeof *subs);
  if (!refs || !states || !subs) return SG_ERR_NOMEM;
  chain[depth] = corr;
  SgStatus st = sg_corr_resolve(&u->arena, home, corr, ctx->batch, &found, d);
  for (size_t i = 0; st == SG_OK && i < n; i++) {
    SgLoc at = corr->corr->rules.locs ? corr->corr->rules.locs[i] : corr->loc;
    if (found[i].rule->failed) { /* its errors are reported with it; the correlation's is said here */
      sg_diag(d, SG_D_UNSUPPORTED, at, "rule '%s' (%s:%u) did not load, so the correlation is not converted",
              corr->corr->rules.v[i], found[i].unit->path, found[i].rule->loc.line);
      return SG_ERR_UNSUPPORTED;
    }
    st = process(set, u, found[i].rule, &refs[i], &states[i], d);
    subs[i] = NULL;
    if (st || found[i].rule->kind != SG_DOC_CORRELATION || !found[i].rule->corr) continue;
    for (size_t k = 0; k <= depth; k++)
      if (chain[k] == found[i].rule) {
        sg_diag(d, SG_D_CORR, at, "correlation '%s' comes back to itself through this chain",
                corr->corr->rules.v[i]);
        return SG_ERR_UNSUPPORTED;
      }
    if (depth + 1 == MAX_CHAIN) {
      sg_diag(d, SG_D_UNSUPPORTED, at, "a chain of more than %d correlations", MAX_CHAIN);
      return SG_ERR_UNSUPPORTED;
    }
    SgConvCtx *sub = sg_arena_alloc(&u->arena, sizeof *sub);
    if (!sub) return SG_ERR_NOMEM;
    *sub = (SgConvCtx){.format = ctx->format, .opts = ctx->opts, .nopts = ctx->nopts, .batch = ctx->batch};
    st = correlated(set, u, found[i].unit, found[i].rule, sub, chain, depth + 1, d);
    subs[i] = sub;
  }
  ctx->refs = refs;
  ctx->ref_states = states;
  ctx->ref_ctx = subs;
  ctx->nrefs = n;
  return st;
}

/* Queries are separated by blank lines in the text formats: a target's query
 * never holds a blank line or a CR (the targets escape what a rule contains;
 * this is the last line of defence). Postprocessing is the site's own
 * configuration and may shape its output as it likes; the rule attributes it
 * embeds cannot add a line. */
static SgStatus framed(const char *q, const SgRule *r, SgDiags *d) {
  size_t n = strlen(q);
  if (!strchr(q, '\r') && !strstr(q, "\n\n") && (!n || (q[0] != '\n' && q[n - 1] != '\n'))) return SG_OK;
  sg_diag(d, SG_D_UNSUPPORTED, r->loc,
          "the query would contain a blank line or a carriage return, which would split it in the output");
  return SG_ERR_UNSUPPORTED;
}

static SgStatus convert_rule(const SgTarget *t, SgConvCtx *ctx, const SgPipelineSet *set, SgUnit *u,
                             const SgRule *rule, SgQueries *q, SgDiags *d) {
  SgPipelineState state = {0};
  const SgRule *r;
  SgStatus st = process(set, u, rule, &r, &state, d);
  const SgRule *chain[MAX_CHAIN];
  if (st == SG_OK && rule->kind == SG_DOC_CORRELATION && rule->corr)
    st = correlated(set, u, u, rule, ctx, chain, 0, d);
  if (st) return st;
  ctx->state = &state;
  size_t first = q->n;
  st = t->convert(ctx, r, q, d);
  ctx->state = NULL;
  ctx->refs = NULL;
  ctx->ref_states = NULL;
  ctx->ref_ctx = NULL;
  ctx->nrefs = 0;
  for (size_t i = first; st == SG_OK && i < q->n; i++) {
    if (!t->dump) st = framed(q->v[i].text, r, d);
    if (st) break;
    SgBuf b = {0};
    sg_buf_cat(&b, q->v[i].text);
    st = sg_pipeline_postprocess(set, r, &state, &b, d);
    if (st == SG_OK && b.oom) st = SG_ERR_NOMEM;
    if (st == SG_OK) {
      free(q->v[i].text);
      q->v[i].text = b.data ? b.data : calloc(1, 1);
      if (!q->v[i].text) st = SG_ERR_NOMEM;
    } else {
      sg_buf_free(&b);
    }
  }
  if (st) queries_truncate(q, first); /* a rule converts whole or not at all */
  return st;
}

/* A rule that ran out of memory anywhere in its conversion says so (E090 at
 * the rule) unless a stage already did: a status alone is an exit 1 with
 * nothing said. */
SgStatus sg_convert_rule(const SgTarget *t, SgConvCtx *ctx, const SgPipelineSet *set, SgUnit *u,
                         const SgRule *rule, SgQueries *q, SgDiags *d) {
  size_t mark = d->n;
  SgStatus st = convert_rule(t, ctx, set, u, rule, q, d);
  if (st != SG_ERR_NOMEM) return st;
  for (size_t i = mark; i < d->n; i++)
    if (d->items[i].code == SG_D_NOMEM) return st;
  sg_diag(d, SG_D_NOMEM, rule->loc, "out of memory converting the rule");
  return st;
}

/* ---- `sigmacc list` ------------------------------------------------------------------ */

void sg_list_targets(SgBuf *out) {
  size_t n;
  const SgTarget *const *t = sg_target_list(&n);
  for (size_t i = 0; i < n; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s%s%s", t[i]->name, t[i]->alias ? ", " : "",
             t[i]->alias ? t[i]->alias : "");
    sg_buf_catf(out, "%-18s %s\n", name, t[i]->description);
  }
}

void sg_list_formats(SgBuf *out, const char *target) {
  size_t n;
  const SgTarget *const *t = sg_target_list(&n);
  for (size_t i = 0; i < n; i++) {
    if (target && strcmp(t[i]->name, target) && !(t[i]->alias && !strcmp(t[i]->alias, target))) continue;
    for (const SgFormat *f = t[i]->formats; f->name; f++)
      sg_buf_catf(out, "%-11s %-14s %s\n", t[i]->name, f->name, f->help);
  }
}

bool sg_list_pipelines(SgBuf *out, SgDiags *d) {
  size_t n;
  const SgBuiltinPipeline *b = sg_builtin_pipelines(&n);
  bool ok = true;
  for (size_t i = 0; i < n; i++) {
    SgArena a;
    sg_arena_init(&a);
    SgPipelineSet set = {0};
    if (sg_pipeline_add(&a, &set, b[i].name, d) == SG_OK && set.n == 1) {
      SgBuf backends = {0};
      const SgStrList *l = sg_pipeline_backends(set.v[0]);
      for (size_t k = 0; k < l->n; k++)
        sg_buf_catf(&backends, "%s%s", k ? "," : "", l->v[k]);
      /* the first comment line of the file is its description */
      const char *desc = b[i].text, *nl = strchr(desc, '\n');
      if (!strncmp(desc, "# ", 2)) desc += 2;
      const char *dash = strstr(desc, " - ");
      if (dash && (!nl || dash < nl)) desc = dash + 3;
      sg_buf_catf(out, "%-28s %-18s %.*s\n", b[i].name, l->n ? backends.data : "any",
                  nl ? (int)(nl - desc) : (int)strlen(desc), desc);
      sg_buf_free(&backends);
    } else {
      ok = false; /* a built-in pipeline that does not load is a bug */
    }
    sg_arena_free(&a);
  }
  return ok;
}

void sg_list_modifiers(SgBuf *out) {
  size_t n;
  const SgModInfo *m = sg_modifier_list(&n);
  for (size_t i = 0; i < n; i++)
    sg_buf_catf(out, "%-14s %s\n", m[i].name, m[i].help);
}
