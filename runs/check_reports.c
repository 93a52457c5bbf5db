/* check_reports.c - `check --sarif` and `check --junit`: the run's findings
 * (SgCheckResult.report, JSON lines) as SARIF 2.1.0, for GitHub code scanning
 * and GitLab, and as JUnit XML, for every CI's test view.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/evaluator.h"
#include "runs.h"

static const struct {
  const char *code, *text;
} diag_help[] = {
#define SG_DIAG(name, code, text) {code, text},
#include "sigmacc_diag.def"
#undef SG_DIAG
};

static const char *help_of(const char *rule) {
  for (size_t i = 0; i < sizeof diag_help / sizeof *diag_help; i++)
    if (!strcmp(diag_help[i].code, rule)) return diag_help[i].text;
  SgValidatorId v = sg_validator_find(rule);
  if (v != SG_V__COUNT) return sg_validator_info[v].description;
  return "a sigmacc diagnostic";
}

typedef struct Finding {
  char *path, *rule, *severity, *message;
  unsigned line, col;
  size_t file; /* the file checked it belongs to (its index), SIZE_MAX: the batch */
} Finding;

typedef struct Findings {
  Finding *v;
  size_t n, cap;
  char **files;
  size_t nfiles, capfiles;
} Findings;

static char *leaf_dup(const SgJDoc *d, const char *name) {
  const SgJLeaf *l = sg_jdoc_find(d, name, strlen(name));
  if (!l || l->type == SG_J_NULL) return NULL;
  char *s = malloc(l->vallen + 1);
  if (s) memcpy(s, d->text + l->val, l->vallen), s[l->vallen] = '\0';
  return s;
}

static void read_findings(const SgCheckResult *res, Findings *f) {
  SgJDoc d = {0};
  size_t file = SIZE_MAX; /* the findings before any file: setting up, a path that names nothing */
  for (const char *l = res->report.data ? res->report.data : ""; *l;) {
    const char *nl = strchr(l, '\n');
    size_t n = nl ? (size_t)(nl - l) : strlen(l), off;
    const char *err;
    if (n && sg_json_parse(&d, l, n, &off, &err)) {
      char *checked = leaf_dup(&d, "checked");
      if (checked) {
        char **slot = SG_PUSH_HEAP(f->files, f->nfiles, f->capfiles);
        if (slot)
          *slot = checked, file = f->nfiles - 1;
        else
          free(checked);
      } else if (sg_jdoc_find(&d, "across", 6)) {
        file = SIZE_MAX;
      } else {
        Finding *x = SG_PUSH_HEAP(f->v, f->n, f->cap);
        if (x) {
          char *line = leaf_dup(&d, "line"), *col = leaf_dup(&d, "col"),
               *validator = leaf_dup(&d, "validator");
          *x = (Finding){leaf_dup(&d, "path"),
                         validator ? validator : leaf_dup(&d, "code"),
                         leaf_dup(&d, "severity"),
                         leaf_dup(&d, "message"),
                         line ? (unsigned)atoi(line) : 0,
                         col ? (unsigned)atoi(col) : 0,
                         file};
          free(line);
          free(col);
        }
      }
    }
    l += n + (nl ? 1 : 0);
  }
  sg_jdoc_free(&d);
}

static void findings_free(Findings *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->v[i].path);
    free(f->v[i].rule);
    free(f->v[i].severity);
    free(f->v[i].message);
  }
  for (size_t i = 0; i < f->nfiles; i++)
    free(f->files[i]);
  free(f->v);
  free(f->files);
}

static void str_or(SgBuf *b, const char *s) { sg_json_str(b, s ? s : "", s ? strlen(s) : 0); }

void sg_check_sarif(const SgCheckResult *res, SgBuf *out) {
  Findings f = {0};
  read_findings(res, &f);
  sg_buf_cat(out, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
                  "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"sigmacc\",\"version\":\"" SIGMACC_VERSION "\","
                  "\"informationUri\":\"https://github.com/SigmaHQ/sigma-specification\",\"rules\":[");
  size_t nrules = 0;
  for (size_t i = 0; i < f.n; i++) { /* each rule once, in order of first finding */
    bool seen = false;
    for (size_t k = 0; k < i && !seen; k++)
      seen = f.v[k].rule && f.v[i].rule && !strcmp(f.v[k].rule, f.v[i].rule);
    if (seen || !f.v[i].rule) continue;
    const char *help = help_of(f.v[i].rule);
    sg_buf_cat(out, nrules++ ? ",{\"id\":" : "{\"id\":");
    str_or(out, f.v[i].rule);
    sg_buf_cat(out, ",\"shortDescription\":{\"text\":");
    str_or(out, help);
    sg_buf_cat(out, "},\"help\":{\"text\":");
    str_or(out, help);
    sg_buf_cat(out, "}}");
  }
  sg_buf_cat(out, "]}},\"results\":[");
  for (size_t i = 0; i < f.n; i++) {
    const Finding *x = &f.v[i];
    bool error = x->severity && !strcmp(x->severity, "error");
    sg_buf_cat(out, i ? ",{\"ruleId\":" : "{\"ruleId\":");
    str_or(out, x->rule);
    sg_buf_catf(out, ",\"level\":\"%s\",\"message\":{\"text\":", error ? "error" : "warning");
    str_or(out, x->message);
    sg_buf_cat(out, "},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
    str_or(out, x->path);
    sg_buf_catf(out, "},\"region\":{\"startLine\":%u,\"startColumn\":%u}}}]}", x->line ? x->line : 1,
                x->col ? x->col : 1);
  }
  sg_buf_cat(out, "]}]}\n");
  findings_free(&f);
}

void sg_check_junit(const SgCheckResult *res, bool fail_on_warning, SgBuf *out) {
  Findings f = {0};
  read_findings(res, &f);
  size_t failed = 0, tests = 0;
  SgBuf cases = {0};
  for (size_t i = 0; i <= f.nfiles; i++) { /* the files, then the checks across them */
    bool batch = i == f.nfiles;
    size_t n = 0;
    SgBuf why = {0};
    for (size_t k = 0; k < f.n; k++) {
      const Finding *x = &f.v[k];
      if (batch ? x->file != SIZE_MAX : x->file != i) continue;
      bool error = x->severity && !strcmp(x->severity, "error");
      if (!error && !fail_on_warning) continue;
      n++;
      sg_buf_catf(&why, "%s:%u:%u: %s[%s]: %s\n", x->path ? x->path : "", x->line, x->col,
                  error ? "error" : "warning", x->rule ? x->rule : "", x->message ? x->message : "");
    }
    if (batch && !n) break;
    failed += n > 0;
    tests++;
    sg_buf_cat(&cases, "    <testcase classname=\"sigmacc check\" name=\"");
    sg_xml_cstr(&cases, batch ? "rules across files" : f.files[i]);
    if (!n) {
      sg_buf_cat(&cases, "\"/>\n");
    } else {
      sg_buf_catf(&cases, "\">\n      <failure message=\"%zu finding%s\">", n, n == 1 ? "" : "s");
      sg_xml_cstr(&cases, sg_buf_cstr(&why));
      sg_buf_cat(&cases, "</failure>\n    </testcase>\n");
    }
    sg_buf_free(&why);
  }
  sg_buf_catf(
      out,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sigmacc check\" tests=\"%zu\" "
      "failures=\"%zu\">\n  <testsuite name=\"sigmacc check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
      "skipped=\"0\">\n",
      tests, failed, tests, failed);
  sg_buf_catn(out, cases.data ? cases.data : "", cases.len);
  sg_buf_cat(out, "  </testsuite>\n</testsuites>\n");
  sg_buf_free(&cases);
  findings_free(&f);
}
