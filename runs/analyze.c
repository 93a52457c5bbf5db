/* analyze.c - `sigmacc analyze`: facts about a rule collection.
 *
 * logsources: how many rules use each (product, category, service) triple,
 * most used first (then by name), as a table or a JSON array.
 * attack: an ATT&CK Navigator layer (layer format 4.5, enterprise-attack)
 * scoring each technique tagged by the rules (attack.tNNNN[.NNN]) by the
 * number of rules, or by the highest rule level; the titles in the comment. Files are
 * compiled like `check` does; rules that fail to load are counted, not
 * analysed, and their diagnostics returned.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "front.h"

typedef struct Source {
  const char *v[3]; /* product, category, service; NULL when unset */
  size_t rules;
} Source;

static int same(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static int cmp_str(const char *a, const char *b) { return a && b ? strcmp(a, b) : (a != NULL) - (b != NULL); }

static int by_count(const void *x, const void *y) {
  const Source *a = x, *b = y;
  if (a->rules != b->rules) return a->rules < b->rules ? 1 : -1;
  for (int k = 0; k < 3; k++) {
    int c = cmp_str(a->v[k], b->v[k]);
    if (c) return c;
  }
  return 0;
}

/* Compile every file under `paths` like `check` does and call fn for each
 * detection rule that loaded; rules that did not are counted in *failed and
 * their diagnostics go to res->diags. False when an input could not be read. */
typedef void (*RuleFn)(void *ctx, const SgRule *r);
static bool each_rule(char *const *paths, size_t npaths, SgAnalyzeResult *res, size_t *nfiles, size_t *failed,
                      RuleFn fn, void *ctx) {
  SgDiags d = {0};
  SgPaths files = {0};
  bool io_ok = sg_expand_paths((int)npaths, (char **)paths, &files, &d);
  sg_render_diags(&res->diags, &d, 0, NULL, NULL, 0, false);
  for (size_t i = 0; i < files.n; i++) {
    char *src;
    size_t len, mark = d.n;
    if (sg_read_file(files.v[i], &src, &len, &d) != SG_OK) {
      sg_render_diags(&res->diags, &d, mark, NULL, NULL, 0, false);
      io_ok = false;
      continue;
    }
    SgUnit u;
    sg_compile_source(&u, files.v[i], src, len, &d);
    for (size_t r = 0; r < u.nrules; r++) {
      const SgRule *rule = u.rules[r];
      if (rule->failed) {
        (*failed)++;
        continue;
      }
      if (rule->kind != SG_DOC_RULE)
        continue; /* correlations and filters: no log source, no tags of their own */
      fn(ctx, rule);
      res->rules++;
    }
    sg_render_diags(&res->diags, &d, mark, u.path, u.src, u.srclen, false);
    sg_unit_free(&u);
  }
  *nfiles = files.n;
  sg_paths_free(&files);
  sg_diags_free(&d);
  return io_ok;
}

typedef struct Sources {
  SgArena names; /* the triples outlive their units */
  Source *v;
  size_t n, cap;
  bool oom;
} Sources;

static void add_source(void *ctx, const SgRule *rule) {
  Sources *s = ctx;
  const char *t[3] = {rule->logsource.product, rule->logsource.category, rule->logsource.service};
  size_t k = 0;
  while (k < s->n && !(same(s->v[k].v[0], t[0]) && same(s->v[k].v[1], t[1]) && same(s->v[k].v[2], t[2])))
    k++;
  if (k == s->n) {
    Source *x = SG_PUSH_HEAP(s->v, s->n, s->cap);
    if (!x) {
      s->oom = true;
      return;
    }
    for (int j = 0; j < 3; j++)
      x->v[j] = t[j] ? sg_arena_strdup(&s->names, t[j]) : NULL;
    x->rules = 0;
  }
  s->v[k].rules++;
}

/* A rule's text in a column of the text table, through sg_term_str, padded
 * to `width` characters (none for the last column). */
static void term_cell(SgBuf *out, const char *s, size_t width) {
  size_t at = out->len;
  sg_term_str(out, s ? s : "-", strlen(s ? s : "-"));
  for (size_t chars = sg_utf8_chars(out->data + at, out->len - at); chars < width; chars++)
    sg_buf_catc(out, ' ');
  sg_buf_cat(out, width ? " " : "\n");
}

void sg_analyze_logsources(char *const *paths, size_t npaths, bool json, SgAnalyzeResult *res) {
  memset(res, 0, sizeof *res);
  Sources s = {0};
  sg_arena_init(&s.names);
  size_t nfiles = 0, failed = 0;
  bool io_ok = each_rule(paths, npaths, res, &nfiles, &failed, add_source, &s);
  Source *v = s.v;
  size_t n = s.n;
  if (v) qsort(v, n, sizeof *v, by_count);
  if (json) {
    sg_buf_catc(&res->out, '[');
    for (size_t k = 0; k < n; k++) {
      sg_buf_cat(&res->out, k ? ",\n {\"product\":" : "{\"product\":");
      sg_json_str_or_null(&res->out, v[k].v[0]);
      sg_buf_cat(&res->out, ",\"category\":");
      sg_json_str_or_null(&res->out, v[k].v[1]);
      sg_buf_cat(&res->out, ",\"service\":");
      sg_json_str_or_null(&res->out, v[k].v[2]);
      sg_buf_catf(&res->out, ",\"rules\":%zu}", v[k].rules);
    }
    sg_buf_cat(&res->out, "]\n");
  } else {
    sg_buf_catf(&res->out, "%6s  %-16s %-28s %s\n", "rules", "product", "category", "service");
    for (size_t k = 0; k < n; k++) {
      sg_buf_catf(&res->out, "%6zu  ", v[k].rules);
      term_cell(&res->out, v[k].v[0], 16);
      term_cell(&res->out, v[k].v[1], 28);
      term_cell(&res->out, v[k].v[2], 0);
    }
  }
  sg_buf_catf(&res->summary, "analyzed %zu file%s, %zu rule%s, %zu log source%s; %zu rule%s not loaded\n",
              nfiles, nfiles == 1 ? "" : "s", res->rules, res->rules == 1 ? "" : "s", n, n == 1 ? "" : "s",
              failed, failed == 1 ? "" : "s");
  res->exit_code = !io_ok || res->out.oom || s.oom || s.names.failed ? 2 : failed ? 1 : 0;
  free(v);
  sg_arena_free(&s.names);
}

/* ---- attack: an ATT&CK Navigator layer ---- */

typedef struct Tech {
  char id[16]; /* T1036.001 */
  size_t rules;
  int max_level;
  char **titles;
  size_t ntitles, cap;
} Tech;

typedef struct Layer {
  Tech *v;
  size_t n, cap;
  bool oom;
} Layer;

static int level_of(const char *l) {
  static const char *const levels[] = {"informational", "low", "medium", "high", "critical"};
  for (int i = 0; l && i < 5; i++)
    if (!strcmp(l, levels[i])) return i + 1;
  return 0;
}

static void add_techniques(void *ctx, const SgRule *rule) {
  Layer *L = ctx;
  for (size_t t = 0; t < rule->tags.n; t++) {
    const char *tag = rule->tags.v[t];
    char id[16];
    if (!sg_attack_technique_tag(tag, id)) continue;
    bool dup = false; /* a rule counts once per technique */
    for (size_t u = 0; u < t; u++)
      dup = dup || !strcmp(rule->tags.v[u], tag);
    if (dup) continue;
    size_t k = 0;
    while (k < L->n && strcmp(L->v[k].id, id))
      k++;
    if (k == L->n) {
      Tech *fresh = SG_PUSH_HEAP(L->v, L->n, L->cap);
      if (!fresh) {
        L->oom = true;
        return;
      }
      *fresh = (Tech){.rules = 0};
      snprintf(fresh->id, sizeof fresh->id, "%s", id);
    }
    Tech *x = &L->v[k];
    x->rules++;
    if (level_of(rule->level) > x->max_level) x->max_level = level_of(rule->level);
    char **slot = SG_PUSH_HEAP(x->titles, x->ntitles, x->cap);
    if (!slot || !(*slot = strdup(rule->title ? rule->title : "(untitled)"))) {
      if (slot) x->ntitles--;
      L->oom = true;
      return;
    }
  }
}

static int by_id(const void *a, const void *b) {
  return strcmp(((const Tech *)a)->id, ((const Tech *)b)->id);
}
static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void sg_analyze_attack(char *const *paths, size_t npaths, bool by_level, SgAnalyzeResult *res) {
  memset(res, 0, sizeof *res);
  Layer L = {0};
  size_t nfiles = 0, failed = 0;
  bool io_ok = each_rule(paths, npaths, res, &nfiles, &failed, add_techniques, &L);
  if (L.v) qsort(L.v, L.n, sizeof *L.v, by_id);
  size_t max = 0;
  for (size_t k = 0; k < L.n; k++) {
    size_t score = by_level ? (size_t)L.v[k].max_level : L.v[k].rules;
    if (score > max) max = score;
  }
  SgBuf *o = &res->out;
  sg_buf_catf(o,
              "{\"name\":\"Sigma "
              "rules\",\"versions\":{\"attack\":\"%.2s\",\"navigator\":\"5.1.0\",\"layer\":\"4.5\"},"
              "\"domain\":\"enterprise-attack\",\"description\":\"%zu Sigma rules; score: %s (sigmacc "
              "analyze attack)\",\"sorting\":3,\"hideDisabled\":false,\"techniques\":[",
              sg_attack_version, res->rules,
              by_level ? "the highest rule level (1 informational to 5 critical)" : "the number of rules");
  for (size_t k = 0; k < L.n; k++) {
    Tech *x = &L.v[k];
    qsort(x->titles, x->ntitles, sizeof *x->titles, by_text);
    SgBuf comment = {0};
    for (size_t i = 0; i < x->ntitles; i++)
      sg_buf_catf(&comment, "%s%s", i ? "\n" : "", x->titles[i]);
    sg_buf_catf(o, "%s\n {\"techniqueID\":\"%s\",\"score\":%zu,\"enabled\":true,\"comment\":", k ? "," : "",
                x->id, by_level ? (size_t)x->max_level : x->rules);
    sg_json_str(o, comment.data ? comment.data : "", comment.len);
    sg_buf_taint(o, &comment);
    sg_buf_free(&comment);
    sg_buf_catf(o, ",\"metadata\":[{\"name\":\"rules\",\"value\":\"%zu\"}]}", x->rules);
  }
  sg_buf_catf(o,
              "],\"gradient\":{\"colors\":[\"#ffffffff\",\"#ff6666ff\"],\"minValue\":0,\"maxValue\":%zu},"
              "\"legendItems\":[],\"metadata\":[],\"links\":[],\"showTacticRowBackground\":false,"
              "\"tacticRowBackground\":\"#dddddd\",\"selectTechniquesAcrossTactics\":true,"
              "\"selectSubtechniquesWithParent\":false,\"selectVisibleTechniques\":false}\n",
              max ? max : 1);
  sg_buf_catf(&res->summary, "analyzed %zu file%s, %zu rule%s, %zu technique%s; %zu rule%s not loaded\n",
              nfiles, nfiles == 1 ? "" : "s", res->rules, res->rules == 1 ? "" : "s", L.n,
              L.n == 1 ? "" : "s", failed, failed == 1 ? "" : "s");
  res->exit_code = !io_ok || o->oom || L.oom ? 2 : failed ? 1 : 0;
  for (size_t k = 0; k < L.n; k++) {
    for (size_t i = 0; i < L.v[k].ntitles; i++)
      free(L.v[k].titles[i]);
    free(L.v[k].titles);
  }
  free(L.v);
}

void sg_analyze_result_free(SgAnalyzeResult *res) {
  sg_buf_free(&res->out);
  sg_buf_free(&res->summary);
  sg_buf_free(&res->diags);
}
