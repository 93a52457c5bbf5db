/* analyze.c - `sigmacc analyze`: facts about a rule collection.
 *
 * logsources: how many rules use each (product, category, service) triple,
 * most used first (then by name), as a table or a JSON array. Files are
 * compiled like `check` does; rules that fail to load are counted, not
 * analysed, and their diagnostics returned.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "sigmacc.h"

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

void sg_analyze_logsources(char *const *paths, size_t npaths, bool json, SgAnalyzeResult *res) {
  memset(res, 0, sizeof *res);
  SgDiags d = {0};
  SgPaths files = {0};
  bool io_ok = sg_expand_paths((int)npaths, (char **)paths, &files, &d);
  sg_render_diags(&res->diags, &d, 0, NULL, NULL, 0, false);
  SgArena names; /* the triples outlive their units */
  sg_arena_init(&names);
  Source *v = NULL;
  size_t n = 0, cap = 0, failed = 0;
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
        failed++;
        continue;
      }
      if (rule->kind != SG_DOC_RULE) continue; /* correlations and filters have no log source of their own */
      const char *t[3] = {rule->logsource.product, rule->logsource.category, rule->logsource.service};
      size_t k = 0;
      while (k < n && !(same(v[k].v[0], t[0]) && same(v[k].v[1], t[1]) && same(v[k].v[2], t[2])))
        k++;
      if (k == n) {
        if (n == cap) {
          cap = cap ? cap * 2 : 64;
          Source *g = realloc(v, cap * sizeof *v);
          if (!g) {
            res->out.oom = true;
            break;
          }
          v = g;
        }
        for (int j = 0; j < 3; j++)
          v[n].v[j] = t[j] ? sg_arena_strdup(&names, t[j]) : NULL;
        v[n++].rules = 0;
      }
      v[k].rules++;
      res->rules++;
    }
    sg_render_diags(&res->diags, &d, mark, u.path, u.src, u.srclen, false);
    sg_unit_free(&u);
  }
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
    for (size_t k = 0; k < n; k++)
      sg_buf_catf(&res->out, "%6zu  %-16s %-28s %s\n", v[k].rules, v[k].v[0] ? v[k].v[0] : "-",
                  v[k].v[1] ? v[k].v[1] : "-", v[k].v[2] ? v[k].v[2] : "-");
  }
  sg_buf_catf(&res->summary, "analyzed %zu file%s, %zu rule%s, %zu log source%s; %zu rule%s not loaded\n",
              files.n, files.n == 1 ? "" : "s", res->rules, res->rules == 1 ? "" : "s", n, n == 1 ? "" : "s",
              failed, failed == 1 ? "" : "s");
  res->exit_code = !io_ok || res->out.oom || names.failed ? 2 : failed ? 1 : 0;
  free(v);
  sg_arena_free(&names);
  sg_paths_free(&files);
  sg_diags_free(&d);
}

void sg_analyze_result_free(SgAnalyzeResult *res) {
  sg_buf_free(&res->out);
  sg_buf_free(&res->summary);
  sg_buf_free(&res->diags);
}
