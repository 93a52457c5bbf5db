/* pages.c - `sigmacc pages`: a static site of detection pages, one per rule
 * file, like the QRadar page the project began from.
 *
 * Per rule file: title, description, level, status, author, dates; its
 * ATT&CK tactics and techniques by name and id (compiled-in data, canonical
 * links); the data source in words; per configured platform the detection in
 * words (the text target) and the query exactly as `convert` writes it, or
 * the located reason it cannot be converted; the tables the queries read;
 * false positives; references; the rule's own sample events
 * (R.events.jsonl, R.nomatch.jsonl) with the evaluator's verdict; the
 * portable rule, byte-identical, for download; the other rules of its
 * techniques. Then a page per technique, an index laid out as the ATT&CK
 * matrix and a search that runs from file:// (its data is a script).
 *
 * This file: the configuration, each page's data (its conversions, prepared
 * once per platform; its words; its evidence through the evaluator) and the
 * run; pages_html.c writes the HTML, where every value from a rule is
 * escaped and controls and bidirectional characters are shown, never
 * obeyed. Output goes through the golden writer: -o DIR writes, --check DIR
 * compares, --update DIR rewrites.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "site.h"

/* ---- configuration -------------------------------------------------------------------- */

static const char *const default_qradar[] = {"qradar"}, *const default_splunk[] = {"sysmon",
                                                                                   "splunk_windows"};
static const Platform default_platforms[] = {
    {{0}, "IBM QRadar (AQL)", "aql", NULL, (const char **)default_qradar, 1},
    {{0}, "Splunk (SPL)", "splunk", NULL, (const char **)default_splunk, 2},
    {{0}, "Splunk (SPL2)", "splunk_spl2", NULL, (const char **)default_splunk, 2},
};

static const char *scalar(const SgYNode *n, const char *what, SgDiags *d) {
  if (n && n->kind == SG_Y_SCALAR) return n->text;
  sg_diag(d, SG_D_TYPE, n ? n->loc : (SgLoc){0}, "pages config: %s must be a string", what);
  return NULL;
}

/* A pipeline file named in the config is found beside it (a relative path
 * is relative to the config's folder); a built-in name (no '/', no .yml)
 * stays a name. */
static const char *beside(Site *s, const char *config, const char *spec) {
  const char *slash = strrchr(config, '/');
  bool file = spec && (strchr(spec, '/') || spec[sg_rule_stem_len(spec)]);
  if (!file || spec[0] == '/' || !slash) return spec;
  return sg_arena_printf(&s->a, "%.*s/%s", (int)(slash - config), config, spec);
}

/* The --config file's bytes (named `path` in the diagnostics): title, targets: [{name, target, pipelines,
 * format}]. */
bool sg_site_config(Site *s, const char *path, const char *src, size_t len, SgDiags *d) {
  SgYDoc *docs;
  size_t ndocs;
  char *kept = sg_arena_strndup(&s->a, src, len);
  if (!kept || sg_yaml_load(&s->a, path, kept, len, &docs, &ndocs, d) != SG_OK) return false;
  const SgYNode *root = ndocs ? docs[0].root : NULL;
  if (!root || root->kind != SG_Y_MAP) {
    sg_diag(d, SG_D_TYPE, (SgLoc){path, 1, 1}, "pages config: a mapping with title and targets");
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < root->n; i++) {
    const char *k = root->keys[i]->text;
    const SgYNode *v = root->items[i];
    if (!strcmp(k, "title")) {
      ok = (s->title = scalar(v, "title", d)) && ok;
    } else if (!strcmp(k, "targets") && v->kind == SG_Y_SEQ && v->n) {
      s->platforms = sg_arena_alloc(&s->a, v->n * sizeof *s->platforms);
      s->nplatforms = 0;
      if (!s->platforms) return false;
      for (size_t t = 0; t < v->n; t++) {
        const SgYNode *e = v->items[t];
        Platform *p = &s->platforms[s->nplatforms++];
        p->loc = e->kind == SG_Y_MAP && e->n ? e->keys[0]->loc
                                             : e->loc; /* a mapping is located at its first key */
        if (e->kind != SG_Y_MAP) {
          sg_diag(d, SG_D_TYPE, e->loc,
                  "pages config: a target is a mapping (name, target, pipelines, format)");
          ok = false;
          continue;
        }
        for (size_t j = 0; j < e->n; j++) {
          const char *ek = e->keys[j]->text;
          const SgYNode *ev = e->items[j];
          if (!strcmp(ek, "name"))
            ok = (p->name = scalar(ev, "name", d)) && ok;
          else if (!strcmp(ek, "target"))
            ok = (p->target = scalar(ev, "target", d)) && ok;
          else if (!strcmp(ek, "format"))
            ok = (p->format = scalar(ev, "format", d)) && ok;
          else if (!strcmp(ek, "pipelines") && ev->kind == SG_Y_SEQ) {
            p->pipelines = sg_arena_alloc(&s->a, (ev->n + 1) * sizeof *p->pipelines);
            if (!p->pipelines) return false;
            for (size_t q = 0; q < ev->n; q++)
              ok = (p->pipelines[p->npipelines++] = beside(s, path, scalar(ev->items[q], "a pipeline", d))) &&
                   ok;
          } else {
            sg_diag(d, SG_D_BAD_VALUE, e->keys[j]->loc,
                    "pages config: unknown target key '%s' (name, target, pipelines as a list, format)", ek);
            ok = false;
          }
        }
        if (!p->target) {
          sg_diag(d, SG_D_MISSING, e->loc, "pages config: a target needs `target:` (sigmacc list targets)");
          ok = false;
        }
        if (!p->name) p->name = p->target;
      }
    } else {
      sg_diag(d, SG_D_BAD_VALUE, root->keys[i]->loc,
              "pages config: unknown key '%s' (title, targets as a non-empty list)", k);
      ok = false;
    }
  }
  return ok;
}

static bool load_config(Site *s, const char *path, SgDiags *d) {
  char *src;
  size_t len;
  if (sg_read_file(path, &src, &len, d) != SG_OK) return false;
  bool ok = sg_site_config(s, path, src, len, d);
  free(src);
  return ok;
}

/* ---- the pages' data ----------------------------------------------------------------- */

/* The file name without its extension, [A-Za-z0-9_-] kept, the rest '_'. */
static char *slug_of(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = sg_rule_stem_len(base);
  char *s = malloc(n + 16);
  if (!s) return NULL;
  for (size_t i = 0; i < n; i++) {
    char c = base[i];
    s[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
               ? c
               : '_';
  }
  s[n] = '\0';
  if (!n || s[0] == '.') s[0] = '_';
  return s;
}

/* ---- building a page: the queries, the words, the evidence ----------------------------- */

/* Non-blank lines of a JSON-lines file: its events. */
static size_t count_events(const char *path) {
  char *src;
  size_t len, n = 0;
  SgDiags d = {0};
  if (sg_read_file(path, &src, &len, &d) == SG_OK) {
    for (size_t i = 0; i < len;) {
      size_t e = i;
      bool blank = true;
      while (e < len && src[e] != '\n')
        blank = blank && (src[e] == ' ' || src[e] == '\t' || src[e] == '\r'), e++;
      n += !blank;
      i = e + 1;
    }
    free(src);
  }
  sg_diags_free(&d);
  return n;
}

/* One file of events through the evaluator, as `sigmacc eval -r RULE FILE --fields F` runs
 * it; its verdict as HTML. A sample (`expect` < 0): R.events.jsonl when `must_match`, else
 * R.nomatch.jsonl; a regression test (`expect` matches, its name `label`): an EVTX file. */
static void verdict(Pages *ps, Page *p, const char *file, bool must_match, const char *fields, long expect,
                    const char *label) {
  SgCapture c = {0};
  int rc = sg_eval_sample(p->path, ps->files, file, ps->job->pipelines, ps->job->npipelines, fields, &c);
  SgBuf out = c.out;
  size_t total = expect < 0 ? count_events(file) : 0, matched = 0;
  SgBuf rows = {0};
  SgJDoc doc = {0};
  for (const char *l = out.data ? out.data : ""; *l;) {
    const char *nl = strchr(l, '\n');
    size_t n = nl ? (size_t)(nl - l) : strlen(l);
    size_t off;
    const char *why;
    if (n && l[0] == '{' && sg_json_parse(&doc, l, n, &off, &why)) {
      const SgJLeaf *line = sg_jdoc_find(&doc, "line", 4), *rec = sg_jdoc_find(&doc, "record", 6);
      matched++;
      sg_buf_cat(&rows, "<li>");
      if (line) sg_buf_catf(&rows, "event on line %.*s", (int)line->vallen, doc.text + line->val);
      if (!line && rec) sg_buf_catf(&rows, "record %.*s", (int)rec->vallen, doc.text + rec->val);
      bool first = true;
      for (size_t k = 0; k < doc.n; k++) {
        const SgJLeaf *f = &doc.leaves[k];
        if (f->pathlen > 7 && !memcmp(doc.text + f->path, "fields.", 7)) {
          sg_buf_cat(&rows, first ? ": " : ", ");
          first = false;
          sg_buf_cat(&rows, "<code>");
          sg_html(&rows, doc.text + f->path + 7, f->pathlen - 7);
          sg_buf_cat(&rows, "</code> = <code>");
          sg_html(&rows, doc.text + f->val, f->vallen);
          sg_buf_cat(&rows, "</code>");
        }
      }
      sg_buf_cat(&rows, "</li>\n");
    }
    l += n + (nl ? 1 : 0);
  }
  sg_jdoc_free(&doc);
  const char *name = strrchr(file, '/');
  name = name ? name + 1 : file;
  SgBuf *b = &p->evidence;
  sg_buf_cat(b, "<p>");
  if (label) sg_html_str(b, label), sg_buf_cat(b, " ");
  sg_buf_cat(b, "<code>");
  sg_html_str(b, name);
  sg_buf_cat(b, "</code>: ");
  if (rc != 0) {
    sg_buf_cat(b, "<strong>not checked</strong>: the evaluator stopped (exit ");
    sg_buf_catf(b, "%d).</p>\n<pre class=\"error\">", rc);
    sg_html(b, c.err.data ? c.err.data : "", c.err.len);
    sg_buf_cat(b, "</pre>\n");
  } else if (expect >= 0) {
    sg_buf_catf(
        b, "expected %ld match%s, the evaluator found %zu: %s</p>\n", expect, expect == 1 ? "" : "es",
        matched,
        (size_t)expect == matched ? "passes"
        : (size_t)expect < matched
            ? "passes, with more matches than its match_count (SigmaHQ's runner warns: consider updating it)"
            : "<strong class=\"bad\">fails</strong>");
    if (rows.len) sg_buf_catf(b, "<ul>\n%s</ul>\n", sg_buf_cstr(&rows));
  } else if (must_match) {
    sg_buf_catf(b, "the rule fires on <strong>%zu of %zu</strong> sample events.</p>\n", matched, total);
    if (rows.len) sg_buf_catf(b, "<ul>\n%s</ul>\n", sg_buf_cstr(&rows));
  } else {
    sg_buf_catf(b, "%s of the %zu events the rule must not match.</p>\n",
                matched ? "<strong class=\"bad\">the rule matches some</strong>" : "the rule matches none",
                total);
    if (rows.len) sg_buf_catf(b, "<ul>\n%s</ul>\n", sg_buf_cstr(&rows));
  }
  sg_buf_free(&rows);
  sg_buf_free(&c.out);
  sg_buf_free(&c.err);
}

/* SigmaHQ's regression tests: the rule's `regression_tests_path`
 * (regression_data/.../info.yml, found under --regression-data DIR or above
 * the rule), each test with a match_count through the evaluator. */
static void regression(Pages *ps, Page *p, const char *fields) {
  SgArena a;
  sg_arena_init(&a);
  SgRegInfo ri;
  char *root = sg_regression_root(ps->job->regression_data, p->path);
  if (sg_regression_read(&a, root, p->rule, &ri) && ri.why) {
    sg_buf_cat(&p->evidence, "<p>Regression tests: <strong>not checked</strong>, ");
    sg_html_str(&p->evidence, ri.why);
    sg_buf_cat(&p->evidence, ".</p>\n");
  }
  for (size_t i = 0; !ri.why && i < ri.n; i++)
    if (!ri.tests[i].why && ri.tests[i].match_count >= 0)
      verdict(ps, p, ri.tests[i].file, true, fields, ri.tests[i].match_count,
              ri.tests[i].name ? ri.tests[i].name : "Regression test");
  sg_arena_free(&a);
  free(root);
}

/* The rule file's queries on every platform, in words, and its evidence. */
static void build_page(void *arg, size_t i) {
  Pages *ps = arg;
  Page *p = &ps->v[i];
  for (size_t k = 0; k < ps->site->nplatforms; k++) {
    Query *q = &p->queries[k];
    SgDiags d = {0};
    if (sg_converter_text(&ps->conv[2 * k], p->path, p->unit->src, p->unit->srclen, &q->text, &d) != SG_OK) {
      q->failed = true;
      q->text.len = 0;
      sg_render_diags(&q->text, &d, 0, p->path, p->unit->src, p->unit->srclen, false);
    }
    sg_diags_free(&d);
    SgDiags dw = {0};
    if (!q->failed && sg_converter_text(&ps->conv[2 * k + 1], p->path, p->unit->src, p->unit->srclen,
                                        &q->words, &dw) != SG_OK)
      q->words.len = 0;
    sg_diags_free(&dw);
  }
  Names f = {0};
  SgBuf fields = {0};
  if (!sg_pages_fields(p->rule, &f)) fields.oom = true;
  for (size_t k = 0; k < f.n; k++)
    sg_buf_catf(&fields, "%s%s", k ? "," : "", f.v[k]);
  free(f.v);
  char *ev = sg_sample_events(p->path, ".events.jsonl"), *nm = sg_sample_events(p->path, ".nomatch.jsonl");
  const char *fl = fields.len ? sg_buf_cstr(&fields) : NULL;
  if (ev) verdict(ps, p, ev, true, fl, -1, NULL);
  if (nm) verdict(ps, p, nm, false, fl, -1, NULL);
  regression(ps, p, fl);
  free(ev);
  free(nm);
  sg_buf_free(&fields);
}

/* ---- the run -------------------------------------------------------------------------------- */

/* Each platform's conversions, prepared once: its target with its pipelines
 * and -p's, and the text target with the same pipelines. */
static bool converters(Pages *ps, SgDiags *d) {
  const Site *s = ps->site;
  const SgPagesJob *pj = ps->job;
  ps->conv = calloc(2 * s->nplatforms + 1, sizeof *ps->conv);
  if (!ps->conv) return false;
  for (size_t k = 0; k < s->nplatforms; k++) {
    const Platform *pl = &s->platforms[k];
    const char **specs = calloc(pl->npipelines + pj->npipelines + 1, sizeof *specs);
    if (!specs) return false;
    if (pl->npipelines) memcpy(specs, pl->pipelines, pl->npipelines * sizeof *specs);
    if (pj->npipelines) memcpy(specs + pl->npipelines, pj->pipelines, pj->npipelines * sizeof *specs);
    SgConvertJob job = {.target = pl->target,
                        .format = pl->format,
                        .pipelines = specs,
                        .npipelines = pl->npipelines + pj->npipelines,
                        .warnings = pj->warnings};
    bool ok = sg_converter_init(&ps->conv[ps->nconv], &job, d) == SG_OK;
    ps->nconv += ok;
    job.target = "text";
    job.format = NULL;
    ok = ok && sg_converter_init(&ps->conv[ps->nconv], &job, d) == SG_OK;
    ps->nconv += ok;
    free(specs);
    if (!ok) {
      sg_diag(d, SG_D_USAGE, pl->loc, "pages: the platform '%s' cannot convert (above)", pl->name);
      return false;
    }
  }
  return true;
}

/* The page's techniques from its rule's tags, sorted and unique. */
static bool page_techniques(Page *p) {
  size_t cap = 0;
  for (size_t t = 0; t < p->rule->tags.n; t++) {
    char id[16];
    if (!sg_attack_technique_tag(p->rule->tags.v[t], id)) continue;
    bool seen = false;
    for (size_t k = 0; k < p->ntechniques && !seen; k++)
      seen = !strcmp(p->techniques[k], id);
    if (seen) continue;
    char **slot = SG_PUSH_HEAP(p->techniques, p->ntechniques, cap);
    if (!slot || !(*slot = strdup(id))) return false;
  }
  if (p->ntechniques) qsort(p->techniques, p->ntechniques, sizeof *p->techniques, sg_pages_cmp_str);
  return true;
}

static bool index_techniques(const Pages *ps, Techs *t) {
  for (size_t i = 0; i < ps->n; i++)
    for (size_t k = 0; k < ps->v[i].ntechniques; k++) {
      const char *id = ps->v[i].techniques[k];
      Tech *te = sg_pages_tech_find(t, id);
      if (!te && (te = SG_PUSH_HEAP(t->v, t->n, t->cap))) *te = (Tech){.id = id};
      size_t *slot = te ? SG_PUSH_HEAP(te->pages, te->n, te->cap) : NULL;
      if (!slot) return false;
      *slot = i;
    }
  if (t->n) qsort(t->v, t->n, sizeof *t->v, sg_pages_cmp_str); /* Tech starts with its id */
  return true;
}

/* Load every rule file under the paths into ps; a file whose rules do not
 * all load gets no page (its diagnostics say why). */
static bool load_pages(Pages *ps, char *const *paths, size_t npaths, SgPaths *files, SgPagesResult *res,
                       SgDiags *d) {
  bool ok = sg_expand_paths((int)npaths, (char **)paths, files, d);
  sg_render_diags(&res->diags, d, 0, NULL, NULL, 0, false);
  ps->v = calloc(files->n + 1, sizeof *ps->v);
  ps->units = calloc(files->n + 1, sizeof *ps->units);
  if (!ps->v || !ps->units) return false;
  for (size_t i = 0; i < files->n; i++) {
    char *src;
    size_t len, mark = d->n;
    if (sg_read_file(files->v[i], &src, &len, d) != SG_OK) {
      sg_render_diags(&res->diags, d, mark, NULL, NULL, 0, false);
      ok = false;
      continue;
    }
    Page *p = &ps->v[ps->n];
    p->unit = &ps->units[i];
    sg_compile_source(p->unit, files->v[i], src, len, d);
    sg_render_diags(&res->diags, d, mark, p->unit->path, p->unit->src, p->unit->srclen, false);
    bool failed = false;
    for (size_t r = 0; r < p->unit->nrules; r++) {
      const SgRule *rule = p->unit->rules[r];
      failed = failed || rule->failed;
      if (!p->rule && (rule->kind == SG_DOC_RULE || rule->kind == SG_DOC_CORRELATION)) p->rule = rule;
    }
    if (failed) res->failed++;
    if (failed || !p->rule || p->unit->pipeline) {
      sg_unit_free(p->unit);
      memset(p, 0, sizeof *p);
      continue;
    }
    p->path = files->v[i];
    p->rel = files->v[i] + files->rel[i];
    p->slug = slug_of(p->rel);
    p->queries = calloc(ps->site->nplatforms + 1, sizeof *p->queries);
    if (!p->slug || !p->queries || !page_techniques(p)) return false;
    for (size_t k = 0; k < ps->n; k++) /* a name twice: -2, -3, ... */
      if (!strcmp(ps->v[k].slug, p->slug)) {
        size_t l = strlen(p->slug);
        char *s = realloc(p->slug, l + 24);
        if (!s) return false;
        snprintf(s + l, 24, "-%zu", ps->n + 1);
        p->slug = s;
        break;
      }
    ps->n++;
  }
  return ok;
}

static void put(SgGolden *g, const char *rel, SgBuf *b, bool *io) {
  if (b->oom || sg_golden_file(g, rel, b->data ? b->data : "", b->len) < 0) *io = true;
  b->len = 0;
}

void sg_pages_run(const SgPagesJob *job, char *const *paths, size_t npaths, SgPagesResult *res) {
  memset(res, 0, sizeof *res);
  Site site = {.title = "Detections",
               .platforms = (Platform *)default_platforms,
               .nplatforms = sizeof default_platforms / sizeof *default_platforms};
  sg_arena_init(&site.a);
  SgDiags d = {.policy = job->warnings};
  Pages ps = {.job = job, .site = &site};
  SgPaths files = {0};
  Techs techs = {0};
  const char *dir = job->golden ? job->golden : job->outdir;
  if (!dir) {
    sg_diag(&d, SG_D_USAGE, (SgLoc){0},
            "pages: the site needs a folder: -o DIR, --check DIR or --update DIR");
    res->exit_code = 2;
  } else if (job->config && !load_config(&site, job->config, &d)) {
    res->exit_code = 2;
  }
  if (!res->exit_code && !converters(&ps, &d)) res->exit_code = 2;
  if (res->exit_code) {
    sg_render_diags(&res->diags, &d, 0, job->config, NULL, 0, false);
    goto out;
  }
  bool io_ok = load_pages(&ps, paths, npaths, &files, res, &d);
  ps.files = &files;
  size_t mark = d.n;
  if (ps.units && sg_rule_index_build(&ps.index, ps.units, files.n) != SG_OK) {
    sg_diag(&d, SG_D_NOMEM, (SgLoc){0}, "out of memory indexing the rules");
    res->exit_code = 1;
  }
  for (size_t i = 0; i < ps.nconv; i++) /* a correlation's rules: in any file of the site */
    ps.conv[i].ctx.batch = &ps.index;
  for (size_t i = 0; i < ps.n; i++) { /* each page's references, said once (each platform says it too) */
    SgUnit *u = ps.v[i].unit;
    size_t from = d.n;
    for (size_t k = 0; k < u->nrules; k++) {
      SgRuleRef *refs;
      if (u->rules[k]->corr && sg_corr_resolve(&u->arena, u, u->rules[k], &ps.index, &refs, &d))
        res->exit_code = 1; /* its page says so on every platform */
    }
    if (sg_corr_cycles(&ps.index, u, &d)) res->exit_code = 1;
    sg_render_diags(&res->diags, &d, from, u->path, u->src, u->srclen, false);
  }
  mark = d.n;
  if (!index_techniques(&ps, &techs)) {
    sg_diag(&d, SG_D_NOMEM, (SgLoc){0}, "out of memory indexing the pages");
    res->exit_code = 1;
  }
  sg_parallel_for(ps.n, build_page, &ps);
  SgGolden g;
  sg_golden_init(&g, dir, NULL, job->golden ? job->update : true);
  SgBuf b = {0}, rel = {0};
  bool io = false;
  sg_buf_cat(&b, sg_pages_css);
  put(&g, "style.css", &b, &io);
  sg_buf_cat(&b, sg_pages_js);
  put(&g, "site.js", &b, &io);
  sg_pages_search_index(&ps, &b);
  put(&g, "search-index.js", &b, &io);
  sg_pages_index(&ps, &techs, &b);
  put(&g, "index.html", &b, &io);
  for (size_t i = 0; i < ps.n; i++) {
    sg_pages_rule(&ps, &techs, i, &b);
    rel.len = 0;
    sg_buf_catf(&rel, "rules/%s.html", ps.v[i].slug);
    put(&g, sg_buf_cstr(&rel), &b, &io);
    sg_buf_catn(&b, ps.v[i].unit->src, ps.v[i].unit->srclen);
    rel.len = 0;
    sg_buf_catf(&rel, "rules/%s.yml", ps.v[i].slug);
    put(&g, sg_buf_cstr(&rel), &b, &io);
  }
  for (size_t i = 0; i < techs.n; i++) {
    sg_pages_technique(&ps, &techs.v[i], &b);
    rel.len = 0;
    sg_buf_catf(&rel, "techniques/%s.html", techs.v[i].id);
    put(&g, sg_buf_cstr(&rel), &b, &io);
  }
  int golden_rc = job->golden ? sg_golden_finish(&g) : 0;
  if (job->golden) sg_buf_catn(&res->out, g.report.data ? g.report.data : "", g.report.len);
  res->pages = ps.n;
  res->techniques = techs.n;
  if (job->golden && !job->update)
    sg_buf_catf(&res->out, "pages: %zu rule pages, %zu technique pages, %zu files: %s\n", ps.n, techs.n,
                g.nseen, golden_rc ? "the site differs from DIR" : "as committed");
  if (io || g.errors || !io_ok)
    res->exit_code = 2;
  else if (golden_rc || res->failed || res->exit_code)
    res->exit_code = 1;
  sg_buf_free(&b);
  sg_buf_free(&rel);
  sg_golden_free(&g);
  sg_render_diags(&res->diags, &d, mark, NULL, NULL, 0, false);
out:
  for (size_t i = 0; i < ps.n; i++) {
    Page *p = &ps.v[i];
    for (size_t k = 0; k < site.nplatforms; k++)
      sg_buf_free(&p->queries[k].text), sg_buf_free(&p->queries[k].words);
    for (size_t k = 0; k < p->ntechniques; k++)
      free(p->techniques[k]);
    free(p->techniques);
    free(p->queries);
    free(p->slug);
    sg_buf_free(&p->evidence);
  }
  for (size_t i = 0; ps.units && i < files.n; i++)
    sg_unit_free(&ps.units[i]);
  free(ps.units);
  sg_rule_index_free(&ps.index);
  free(ps.v);
  for (size_t i = 0; i < ps.nconv; i++)
    sg_converter_free(&ps.conv[i]);
  free(ps.conv);
  for (size_t i = 0; i < techs.n; i++)
    free(techs.v[i].pages);
  free(techs.v);
  sg_paths_free(&files);
  sg_diags_free(&d);
  sg_arena_free(&site.a);
}

void sg_pages_result_free(SgPagesResult *res) {
  sg_buf_free(&res->out);
  sg_buf_free(&res->diags);
}
