/* regression.c - a rule's SigmaHQ regression tests, read once for `test`
 * (which counts them) and `pages` (which shows them): `regression_tests_path`
 * -> regression_data/.../info.yml, whose `rule_metadata` must name the rule and
 * whose `regression_tests_info` lists each test's name, `match_count` and path
 * under the repository's regression_data/ folder.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runs.h"

static const char prefix[] = "regression_data/";

char *sg_regression_root(const char *given, const char *rule_path) {
  if (given) return strdup(given);
  char *dir = strdup(rule_path);
  for (char *slash; dir && (slash = strrchr(dir, '/'));) {
    *slash = '\0';
    size_t n = strlen(dir) + sizeof "/regression_data";
    char *cand = malloc(n);
    struct stat st;
    if (cand) snprintf(cand, n, "%s/regression_data", dir);
    if (cand && stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
      free(dir);
      return cand;
    }
    free(cand);
  }
  free(dir);
  return NULL;
}

/* A path of info.yml under regression_data/, as the file it names under root; NULL when it is not one. */
static const char *under_root(SgArena *a, const char *root, const char *rel) {
  if (strncmp(rel, prefix, sizeof prefix - 1) || strstr(rel, "..")) return NULL;
  return sg_arena_printf(a, "%s/%s", root, rel + sizeof prefix - 1);
}

static bool problem(SgRegInfo *ri, const char *key, const char *why) {
  ri->key = key;
  ri->why = why ? why : "out of memory";
  return true;
}

bool sg_regression_read(SgArena *a, const char *root, const SgRule *rule, SgRegInfo *ri) {
  *ri = (SgRegInfo){0};
  const char *rel = sg_rule_attr(rule, "regression_tests_path");
  if (!rel) return false;
  ri->info = rel;
  if (strncmp(rel, prefix, sizeof prefix - 1) || strstr(rel, ".."))
    return problem(ri, "regression_tests_path", "it is not a path under regression_data/");
  if (!root)
    return problem(ri, "regression_tests_path",
                   "no regression_data/ folder above the rule (give --regression-data DIR)");
  const char *info = under_root(a, root, rel);
  if (!info) return problem(ri, "info.yml", NULL);
  ri->info = info;
  SgDiags d = {0};
  char *src;
  size_t len;
  SgYDoc *docs = NULL;
  size_t ndocs = 0;
  bool read = sg_read_file(info, &src, &len, &d) == SG_OK;
  if (read) {
    char *kept = sg_arena_strndup(a, src, len);
    free(src);
    if (kept) sg_yaml_load(a, info, kept, len, &docs, &ndocs, &d);
  }
  sg_diags_free(&d);
  if (!read) return problem(ri, "info.yml", sg_arena_printf(a, "%s is not there", info));
  const SgYNode *top = ndocs ? docs[0].root : NULL;
  const SgYNode *meta = top ? sg_ymap_get(top, "rule_metadata") : NULL;
  const SgYNode *tests = top ? sg_ymap_get(top, "regression_tests_info") : NULL;
  if (!tests || tests->kind != SG_Y_SEQ)
    return problem(ri, "info.yml", sg_arena_printf(a, "%s has no regression_tests_info list", info));
  bool named = false;
  for (size_t i = 0; meta && meta->kind == SG_Y_SEQ && i < meta->n && !named; i++) {
    const SgYNode *id = sg_ymap_get(meta->items[i], "id");
    named = id && id->kind == SG_Y_SCALAR && rule->id && !sg_ascii_casecmp(id->text, rule->id);
  }
  if (!named)
    return problem(ri, "info.yml",
                   sg_arena_printf(a, "%s names another rule, not %s", info,
                                   rule->id ? rule->id : "(a rule without an id)"));
  ri->tests = sg_arena_alloc(a, (tests->n + 1) * sizeof *ri->tests);
  if (!ri->tests) return problem(ri, "info.yml", NULL);
  for (size_t i = 0; i < tests->n; i++) {
    const SgYNode *t = tests->items[i];
    const SgYNode *name = sg_ymap_get(t, "name"), *path = sg_ymap_get(t, "path"),
                  *count = sg_ymap_get(t, "match_count");
    SgRegTest *rt = &ri->tests[ri->n++];
    *rt = (SgRegTest){.name = name && name->kind == SG_Y_SCALAR ? name->text : NULL,
                      .line = t->loc.line,
                      .match_count = -1};
    if (count && count->kind == SG_Y_SCALAR && count->type == SG_YT_INT) {
      rt->match_count = strtol(count->text, NULL, 10);
      rt->count_line = count->loc.line;
    }
    struct stat st;
    if (!path || path->kind != SG_Y_SCALAR || !(rt->file = under_root(a, root, path->text)))
      rt->why = "its path is not a file under regression_data/";
    else if (stat(rt->file, &st) != 0)
      rt->why = sg_arena_printf(a, "the data file %s is missing", rt->file);
  }
  return true;
}
