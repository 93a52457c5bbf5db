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
 * Every value from a rule is HTML-escaped; controls and bidirectional
 * characters are shown, never obeyed. Output goes through the golden
 * writer: -o DIR writes, --check DIR compares, --update DIR rewrites.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "runs.h"

/* ---- configuration -------------------------------------------------------------------- */

typedef struct Platform {
  SgLoc loc; /* in the config */
  const char *name, *target, *format;
  const char **pipelines;
  size_t npipelines;
} Platform;

typedef struct Site {
  SgArena a;
  const char *title;
  Platform *platforms;
  size_t nplatforms;
} Site;

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
  size_t n = spec ? strlen(spec) : 0;
  bool file = spec && (strchr(spec, '/') || (n > 4 && !strcmp(spec + n - 4, ".yml")) ||
                       (n > 5 && !strcmp(spec + n - 5, ".yaml")));
  if (!file || spec[0] == '/' || !slash) return spec;
  return sg_arena_printf(&s->a, "%.*s/%s", (int)(slash - config), config, spec);
}

/* The --config file: title, targets: [{name, target, pipelines, format}]. */
static bool load_config(Site *s, const char *path, SgDiags *d) {
  char *src;
  size_t len;
  if (sg_read_file(path, &src, &len, d) != SG_OK) return false;
  SgYDoc *docs;
  size_t ndocs;
  char *kept = sg_arena_strndup(&s->a, src, len);
  free(src);
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

/* ---- HTML ------------------------------------------------------------------------------- */

/* Text for HTML: & < > " ' as references; a C0 control (not tab or line
 * break), DEL, a C1 or bidirectional control, a line separator or an invalid
 * byte shown as its escape in a marked span, never obeyed. */
static void html(SgBuf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    const char *ent = c == '&'    ? "&amp;"
                      : c == '<'  ? "&lt;"
                      : c == '>'  ? "&gt;"
                      : c == '"'  ? "&quot;"
                      : c == '\'' ? "&#39;"
                                  : NULL;
    if (ent) {
      sg_buf_cat(b, ent);
      i++;
    } else if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
      sg_buf_catc(b, (char)c);
      i++;
    } else {
      size_t mark = b->len;
      size_t k = sg_term_char(b, s + i, n - i);
      if (b->len - mark != k || memcmp(b->data + mark, s + i, k)) { /* escaped: mark it */
        SgBuf esc = {0};
        sg_buf_catn(&esc, b->data + mark, b->len - mark);
        b->len = mark;
        sg_buf_cat(b, "<span class=\"cc\">");
        sg_buf_catn(b, esc.data, esc.len);
        sg_buf_cat(b, "</span>");
        sg_buf_taint(b, &esc);
        sg_buf_free(&esc);
      }
      i += k;
    }
  }
}

static void htmls(SgBuf *b, const char *s) {
  if (s) html(b, s, strlen(s));
}

/* An http(s) reference as a link, anything else as text. */
static void link_or_text(SgBuf *b, const char *s) {
  if (!strncmp(s, "https://", 8) || !strncmp(s, "http://", 7)) {
    sg_buf_cat(b, "<a href=\"");
    htmls(b, s);
    sg_buf_cat(b, "\" rel=\"noopener noreferrer\">");
    htmls(b, s);
    sg_buf_cat(b, "</a>");
  } else {
    htmls(b, s);
  }
}

static void head(SgBuf *b, const Site *s, const char *title, const char *up) {
  sg_buf_cat(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
  htmls(b, title);
  sg_buf_cat(b, " - ");
  htmls(b, s->title);
  sg_buf_catf(
      b,
      "</title>\n<link rel=\"stylesheet\" href=\"%sstyle.css\">\n<script src=\"%ssite.js\" defer></script>\n"
      "</head>\n<body>\n<header class=\"site\"><a href=\"%sindex.html\">",
      up, up, up);
  htmls(b, s->title);
  sg_buf_cat(b, "</a><button type=\"button\" id=\"theme\" aria-label=\"Switch between light and dark theme\">"
                "Theme</button></header>\n<main>\n");
}

static void foot(SgBuf *b) { sg_buf_cat(b, "</main>\n</body>\n</html>\n"); }

/* ---- ATT&CK -------------------------------------------------------------------------- */

static const SgAttackTechnique *technique(const char *id) {
  size_t lo = 0, hi = sg_attack_ntechniques;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(sg_attack_techniques[mid].id, id);
    if (!c) return &sg_attack_techniques[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static const SgAttackTactic *tactic(const char *shortname) {
  for (size_t i = 0; i < sg_attack_ntactics; i++)
    if (!strcmp(sg_attack_tactics[i].shortname, shortname)) return &sg_attack_tactics[i];
  return NULL;
}

/* attack.t1036.001 -> "T1036.001" in buf; false for another tag. */
static bool technique_tag(const char *tag, char *buf, size_t size) {
  if (strncmp(tag, "attack.t", 8) || !(tag[8] >= '0' && tag[8] <= '9') || strlen(tag) - 7 >= size)
    return false;
  for (size_t i = 7; tag[i]; i++) {
    char c = tag[i];
    if (!((c >= '0' && c <= '9') || c == '.' || c == 't')) return false;
    buf[i - 7] = c == 't' ? 'T' : c;
  }
  buf[strlen(tag) - 7] = '\0';
  return true;
}

/* https://attack.mitre.org/techniques/T1036/001/ */
static void technique_url(SgBuf *b, const char *id) {
  const char *dot = strchr(id, '.');
  if (dot)
    sg_buf_catf(b, "https://attack.mitre.org/techniques/%.*s/%s/", (int)(dot - id), id, dot + 1);
  else
    sg_buf_catf(b, "https://attack.mitre.org/techniques/%s/", id);
}

/* ---- the pages' data ----------------------------------------------------------------- */

typedef struct Query {
  SgBuf text;  /* the queries as convert writes them, or the located reason */
  SgBuf words; /* the detection in words */
  bool failed;
} Query;

typedef struct Page {
  const char *path, *rel; /* the file, and as relative to its argument */
  char *slug;
  SgUnit unit;
  const SgRule *rule; /* the page's rule: the file's first rule or correlation */
  Query *queries;     /* one per platform */
  SgBuf evidence;     /* the sample events' verdicts, HTML */
  char **techniques;  /* "T1036.001", from the tags */
  size_t ntechniques;
} Page;

typedef struct Names {
  const char **v;
  size_t n, cap;
} Names;

typedef struct Pages {
  const SgPagesJob *job;
  Site *site;
  SgConverter *conv; /* per platform: its queries, then its words (the text target) */
  size_t nconv;
  Page *v;
  size_t n;
} Pages;

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The file name without its extension, [A-Za-z0-9_.-] kept, the rest '_'. */
static char *slug_of(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 4 && !strcmp(base + n - 4, ".yml"))
    n -= 4;
  else if (n > 5 && !strcmp(base + n - 5, ".yaml"))
    n -= 5;
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

/* The field names a condition reads. */
static bool collect_fields(const SgNode *n, Names *out) {
  if (n->kind == SG_N_MATCH) {
    const char **slot = n->m.field ? SG_PUSH_HEAP(out->v, out->n, out->cap) : NULL;
    if (slot) *slot = n->m.field;
    return !n->m.field || slot;
  }
  for (uint32_t i = 0; i < n->nkids; i++)
    if (!collect_fields(n->kids[i], out)) return false;
  return true;
}

/* ---- building a page: the queries, the words, the evidence ----------------------------- */

typedef struct Capture {
  SgBuf out, err;
} Capture;
static void cap_out(void *ctx, const char *s, size_t n) { sg_buf_catn(&((Capture *)ctx)->out, s, n); }
static void cap_err(void *ctx, const char *s, size_t n) { sg_buf_catn(&((Capture *)ctx)->err, s, n); }

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
  Capture c = {0};
  char *rules[] = {(char *)p->path}, *events[] = {(char *)file};
  SgEvalJob job = {.rules = rules,
                   .nrules = 1,
                   .events = events,
                   .nevents = 1,
                   .pipelines = ps->job->pipelines,
                   .npipelines = ps->job->npipelines,
                   .fields = fields,
                   .jobs = 1};
  SgEvalSink sink = {cap_out, cap_err, &c};
  int rc = sg_eval_run(&job, &sink);
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
          html(&rows, doc.text + f->path + 7, f->pathlen - 7);
          sg_buf_cat(&rows, "</code> = <code>");
          html(&rows, doc.text + f->val, f->vallen);
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
  if (label) htmls(b, label), sg_buf_cat(b, " ");
  sg_buf_cat(b, "<code>");
  htmls(b, name);
  sg_buf_cat(b, "</code>: ");
  if (rc != 0) {
    sg_buf_cat(b, "<strong>not checked</strong>: the evaluator stopped (exit ");
    sg_buf_catf(b, "%d).</p>\n<pre class=\"error\">", rc);
    html(b, c.err.data ? c.err.data : "", c.err.len);
    sg_buf_cat(b, "</pre>\n");
  } else if (expect >= 0) {
    sg_buf_catf(b, "expected %ld match%s, the evaluator found %zu: %s</p>\n", expect, expect == 1 ? "" : "es",
                matched, (size_t)expect == matched ? "passes" : "<strong class=\"bad\">fails</strong>");
    if (rows.len) sg_buf_catf(b, "<ul>\n%s</ul>\n", sg_buf_cstr(&rows));
  } else if (must_match) {
    sg_buf_catf(b, "the rule fires on <strong>%zu of %zu</strong> sample events%s</p>\n", matched, total,
                matched == total ? "." : " (the others are context).");
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
 * (regression_data/.../info.yml, found under --regression-data DIR), each
 * test's events through the evaluator against its match_count. */
static void regression(Pages *ps, Page *p, const char *fields) {
  const char *root = ps->job->regression_data, *rel = sg_rule_attr(p->rule, "regression_tests_path");
  static const char prefix[] = "regression_data/";
  if (!root || !rel || strncmp(rel, prefix, sizeof prefix - 1) || strstr(rel, "..")) return;
  SgArena a;
  sg_arena_init(&a);
  SgDiags d = {0};
  const char *info = sg_arena_printf(&a, "%s/%s", root, rel + sizeof prefix - 1);
  char *src;
  size_t len;
  SgYDoc *docs;
  size_t ndocs = 0;
  bool read = info && sg_read_file(info, &src, &len, &d) == SG_OK;
  if (read) {
    char *kept = sg_arena_strndup(&a, src, len);
    free(src);
    if (kept) sg_yaml_load(&a, info, kept, len, &docs, &ndocs, &d);
  }
  const SgYNode *tests = ndocs && docs[0].root ? sg_ymap_get(docs[0].root, "regression_tests_info") : NULL;
  if (!tests || tests->kind != SG_Y_SEQ) {
    sg_buf_cat(&p->evidence, "<p>Regression tests: <strong>not checked</strong>, ");
    htmls(&p->evidence, info ? info : rel);
    sg_buf_cat(&p->evidence, read ? " is not SigmaHQ's info.yml.</p>\n" : " is not there.</p>\n");
  }
  for (size_t i = 0; tests && tests->kind == SG_Y_SEQ && i < tests->n; i++) {
    const SgYNode *t = tests->items[i];
    const SgYNode *name = sg_ymap_get(t, "name"), *path = sg_ymap_get(t, "path"),
                  *count = sg_ymap_get(t, "match_count");
    if (!path || path->kind != SG_Y_SCALAR || strncmp(path->text, prefix, sizeof prefix - 1) ||
        strstr(path->text, "..") || !count || count->type != SG_YT_INT)
      continue;
    const char *file = sg_arena_printf(&a, "%s/%s", root, path->text + sizeof prefix - 1);
    if (file)
      verdict(ps, p, file, true, fields, strtol(count->text, NULL, 10),
              name && name->kind == SG_Y_SCALAR ? name->text : "Regression test");
  }
  sg_diags_free(&d);
  sg_arena_free(&a);
}

/* The rule file's queries on every platform, in words, and its evidence. */
static void build_page(void *arg, size_t i) {
  Pages *ps = arg;
  Page *p = &ps->v[i];
  for (size_t k = 0; k < ps->site->nplatforms; k++) {
    Query *q = &p->queries[k];
    SgDiags d = {0};
    if (sg_converter_text(&ps->conv[2 * k], p->path, p->unit.src, p->unit.srclen, &q->text, &d) != SG_OK) {
      q->failed = true;
      q->text.len = 0;
      sg_render_diags(&q->text, &d, 0, p->path, p->unit.src, p->unit.srclen, false);
    }
    sg_diags_free(&d);
    SgDiags dw = {0};
    if (!q->failed && sg_converter_text(&ps->conv[2 * k + 1], p->path, p->unit.src, p->unit.srclen, &q->words,
                                        &dw) != SG_OK)
      q->words.len = 0;
    sg_diags_free(&dw);
  }
  Names f = {0};
  for (size_t c = 0; c < p->rule->nconds; c++)
    if (p->rule->conds[c].root) collect_fields(p->rule->conds[c].root, &f);
  SgBuf fields = {0};
  if (f.n) qsort(f.v, f.n, sizeof *f.v, cmp_cstr);
  for (size_t k = 0; k < f.n; k++)
    if (!k || strcmp(f.v[k], f.v[k - 1])) sg_buf_catf(&fields, "%s%s", fields.len ? "," : "", f.v[k]);
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

/* ---- rendering ---------------------------------------------------------------------------- */

/* The data source in words for the common Sigma log sources. */
static const struct {
  const char *product, *category, *service, *words;
} sources[] = {
    {"windows", "process_creation", NULL,
     "Windows process creation: Sysmon Event ID 1, Security Event ID 4688"},
    {"windows", "image_load", NULL, "Sysmon Event ID 7: Image loaded"},
    {"windows", "network_connection", NULL, "Sysmon Event ID 3: Network connection"},
    {"windows", "file_event", NULL, "Sysmon Event ID 11: File created"},
    {"windows", "file_delete", NULL, "Sysmon Event ID 23 and 26: File deleted"},
    {"windows", "registry_set", NULL, "Sysmon Event ID 13: Registry value set"},
    {"windows", "registry_add", NULL, "Sysmon Event ID 12: Registry key created"},
    {"windows", "registry_delete", NULL, "Sysmon Event ID 12: Registry key deleted"},
    {"windows", "registry_event", NULL, "Sysmon Event ID 12, 13 and 14: Registry events"},
    {"windows", "dns_query", NULL, "Sysmon Event ID 22: DNS query"},
    {"windows", "pipe_created", NULL, "Sysmon Event ID 17 and 18: Pipe created and connected"},
    {"windows", "create_remote_thread", NULL, "Sysmon Event ID 8: Remote thread created"},
    {"windows", "process_access", NULL, "Sysmon Event ID 10: Process accessed"},
    {"windows", "driver_load", NULL, "Sysmon Event ID 6: Driver loaded"},
    {"windows", "ps_script", NULL, "PowerShell Event ID 4104: Script block logging"},
    {"windows", "ps_module", NULL, "PowerShell Event ID 4103: Module logging"},
    {"windows", NULL, "security", "the Windows Security event log"},
    {"windows", NULL, "system", "the Windows System event log"},
    {"windows", NULL, "sysmon", "the Sysmon event log"},
};

static bool same(const char *a, const char *b) { return !a || (b && !strcmp(a, b)); }

static void data_source(SgBuf *b, const SgLogsource *ls) {
  const char *words = NULL;
  for (size_t i = 0; i < sizeof sources / sizeof *sources && !words; i++)
    if (same(sources[i].product, ls->product) && same(sources[i].category, ls->category) &&
        same(sources[i].service, ls->service) && (sources[i].category || !ls->category))
      words = sources[i].words;
  if (words)
    sg_buf_catf(b, "<p>%s (Sigma log source: ", words);
  else
    sg_buf_cat(b, "<p>Sigma log source: ");
  const char *keys[] = {"product", "category", "service"}, *vals[] = {ls->product, ls->category, ls->service};
  bool any = false;
  for (int k = 0; k < 3; k++)
    if (vals[k]) {
      sg_buf_catf(b, "%s%s: <code>", any ? ", " : "", keys[k]);
      htmls(b, vals[k]);
      sg_buf_cat(b, "</code>");
      any = true;
    }
  if (!any) sg_buf_cat(b, "none");
  sg_buf_cat(b, words ? ")</p>\n" : "</p>\n");
  if (ls->definition) {
    sg_buf_cat(b, "<p>");
    htmls(b, ls->definition);
    sg_buf_cat(b, "</p>\n");
  }
}

/* The tables the queries read: in each query (a block of the output), the
 * word after its first FROM outside quotes - AQL's `SELECT ... FROM events`,
 * SPL2's `FROM main`; a value only comes later, after WHERE. */
static void tables(const char *q, Names *out) {
  for (size_t i = 0; q[i];) {
    if (q[i] == '\'' || q[i] == '"') {
      char c = q[i++];
      while (q[i] && q[i] != c)
        i += q[i] == '\\' && q[i + 1] ? 2 : 1;
      if (q[i]) i++;
      continue;
    }
    if (strncmp(q + i, "FROM ", 5) || (i && q[i - 1] != ' ' && q[i - 1] != '\n')) {
      i++;
      continue;
    }
    size_t s = i + 5, e = s;
    while ((q[e] >= 'a' && q[e] <= 'z') || (q[e] >= 'A' && q[e] <= 'Z') || (q[e] >= '0' && q[e] <= '9') ||
           q[e] == '_')
      e++;
    char *t = e > s ? strndup(q + s, e - s) : NULL;
    const char **slot = t ? SG_PUSH_HEAP(out->v, out->n, out->cap) : NULL;
    if (slot)
      *slot = t;
    else
      free(t);
    const char *next = strstr(q + e, "\n\n"); /* the next query */
    if (!next) return;
    i = (size_t)(next - q) + 2;
  }
}

static void level_badge(SgBuf *b, const char *level) {
  static const char *const known[] = {"informational", "low", "medium", "high", "critical"};
  const char *cls = "unknown";
  for (size_t i = 0; level && i < 5; i++)
    if (!strcmp(level, known[i])) cls = known[i];
  sg_buf_catf(b, "<span class=\"level level-%s\">", cls);
  htmls(b, level ? level : "no level");
  sg_buf_cat(b, "</span>");
}

static void list_section(SgBuf *b, const char *title, const SgStrList *l, bool links) {
  if (!l->n) return;
  sg_buf_catf(b, "<section>\n<h2>%s</h2>\n<ul>\n", title);
  for (size_t i = 0; i < l->n; i++) {
    sg_buf_cat(b, "<li>");
    if (links)
      link_or_text(b, l->v[i]);
    else
      htmls(b, l->v[i]);
    sg_buf_cat(b, "</li>\n");
  }
  sg_buf_cat(b, "</ul>\n</section>\n");
}

/* Sigma's `related:` (derived, obsolete, merged, renamed, similar): each id
 * linked to its page when the site has it. */
static void related(const Pages *ps, const SgRule *r, SgBuf *b) {
  if (!r->nrelated) return;
  sg_buf_cat(b, "<section>\n<h2>Related rules</h2>\n<ul>\n");
  for (size_t i = 0; i < r->nrelated; i++) {
    const SgRelated *x = &r->related[i];
    const Page *to = NULL;
    for (size_t k = 0; x->id && k < ps->n && !to; k++)
      if (ps->v[k].rule->id && !strcmp(ps->v[k].rule->id, x->id)) to = &ps->v[k];
    sg_buf_cat(b, "<li>");
    htmls(b, x->type ? x->type : "related");
    sg_buf_cat(b, ": ");
    if (to) {
      sg_buf_catf(b, "<a href=\"%s.html\">", to->slug);
      htmls(b, to->rule->title ? to->rule->title : to->slug);
      sg_buf_cat(b, "</a> (");
    }
    sg_buf_cat(b, "<code>");
    htmls(b, x->id ? x->id : "");
    sg_buf_cat(b, to ? "</code>)</li>\n" : "</code></li>\n");
  }
  sg_buf_cat(b, "</ul>\n</section>\n");
}

/* A rule's `simulation:` entries (Atomic Red Team tests to validate it with):
 * what should make it fire. Not run here, and the page says so. */
static void simulation(const SgRule *r, SgBuf *b) {
  const SgYNode *sim = NULL;
  for (size_t i = 0; i < r->ncustom && !sim; i++)
    if (!strcmp(r->custom[i].key, "simulation")) sim = r->custom[i].val;
  if (!sim || sim->kind != SG_Y_SEQ || !sim->n) return;
  sg_buf_cat(
      b, "<h3>Simulations</h3>\n<p>Tests that should make the rule fire (not run by sigmacc):</p>\n<ul>\n");
  for (size_t i = 0; i < sim->n; i++) {
    const SgYNode *e = sim->items[i];
    if (e->kind != SG_Y_MAP) continue;
    const SgYNode *type = sg_ymap_get(e, "type"), *name = sg_ymap_get(e, "name"),
                  *tech = sg_ymap_get(e, "technique"), *guid = sg_ymap_get(e, "atomic_guid");
    const char *t = tech && tech->kind == SG_Y_SCALAR ? tech->text : NULL;
    sg_buf_cat(b, "<li>");
    htmls(b, type && type->kind == SG_Y_SCALAR ? type->text : "simulation");
    sg_buf_cat(b, ": ");
    bool plain_id = t && t[0] == 'T';
    for (const char *c = t; plain_id && *c; c++)
      plain_id = (*c >= '0' && *c <= '9') || *c == '.' || c == t;
    if (plain_id && type && type->kind == SG_Y_SCALAR && !strcmp(type->text, "atomic-red-team"))
      sg_buf_catf(b,
                  "<a href=\"https://github.com/redcanaryco/atomic-red-team/blob/master/atomics/%s/%s.md\">",
                  t, t);
    htmls(b, name && name->kind == SG_Y_SCALAR ? name->text : "(unnamed)");
    if (plain_id && type && type->kind == SG_Y_SCALAR && !strcmp(type->text, "atomic-red-team"))
      sg_buf_cat(b, "</a>");
    if (t) sg_buf_cat(b, " (technique "), htmls(b, t), sg_buf_cat(b, ")");
    if (guid && guid->kind == SG_Y_SCALAR)
      sg_buf_cat(b, ", atomic GUID <code>"), htmls(b, guid->text), sg_buf_cat(b, "</code>");
    sg_buf_cat(b, "</li>\n");
  }
  sg_buf_cat(b, "</ul>\n");
}

/* The pages of a technique's rules, in page order. */
typedef struct Tech {
  const char *id;
  size_t *pages;
  size_t n, cap;
} Tech;

typedef struct Techs {
  Tech *v;
  size_t n, cap;
} Techs;

static Tech *tech_find(const Techs *t, const char *id) {
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->v[i].id, id)) return &t->v[i];
  return NULL;
}

static void technique_name(SgBuf *b, const char *id) {
  const SgAttackTechnique *t = technique(id);
  const char *dot = strchr(id, '.');
  if (t && dot) {
    char parent[16];
    snprintf(parent, sizeof parent, "%.*s", (int)(dot - id), id);
    const SgAttackTechnique *pt = technique(parent);
    if (pt) sg_buf_catf(b, "%s: ", pt->name);
  }
  sg_buf_cat(b, t ? t->name : "(newer than the bundled ATT&CK data)");
}

static void rule_page(const Pages *ps, const Techs *techs, size_t i, SgBuf *b) {
  const Page *p = &ps->v[i];
  const SgRule *r = p->rule;
  head(b, ps->site, r->title ? r->title : p->slug, "../");
  sg_buf_cat(b, "<h1>");
  htmls(b, r->title ? r->title : p->slug);
  sg_buf_cat(b, "</h1>\n<p class=\"meta\">");
  level_badge(b, r->level);
  const char *labels[] = {"status", "id", "author", "date", "modified", "confidence"};
  const char *vals[] = {r->status, r->id, r->author, r->date, r->modified, sg_rule_attr(r, "confidence")};
  for (int k = 0; k < 6; k++)
    if (vals[k]) {
      sg_buf_catf(b, " <span class=\"kv\">%s: ", labels[k]);
      htmls(b, vals[k]);
      sg_buf_cat(b, "</span>");
    }
  sg_buf_cat(b, "</p>\n");
  if (r->description) {
    sg_buf_cat(b, "<section>\n<h2>Description</h2>\n<p>");
    htmls(b, r->description);
    sg_buf_cat(b, "</p>\n</section>\n");
  }
  /* ATT&CK */
  SgBuf tac = {0};
  for (size_t t = 0; t < r->tags.n; t++) {
    const char *tag = r->tags.v[t];
    const SgAttackTactic *ta = !strncmp(tag, "attack.", 7) ? tactic(tag + 7) : NULL;
    if (ta)
      sg_buf_catf(&tac, "<li>Tactic: <a href=\"https://attack.mitre.org/tactics/%s/\">%s (%s)</a></li>\n",
                  ta->id, ta->name, ta->id);
  }
  if (tac.len || p->ntechniques) {
    sg_buf_cat(b, "<section>\n<h2>MITRE ATT&amp;CK</h2>\n<ul>\n");
    sg_buf_catn(b, tac.data ? tac.data : "", tac.len);
    for (size_t t = 0; t < p->ntechniques; t++) {
      const char *id = p->techniques[t];
      sg_buf_catf(b, "<li>Technique: <a href=\"../techniques/%s.html\">%s ", id, id);
      technique_name(b, id);
      sg_buf_cat(b, "</a> (<a href=\"");
      technique_url(b, id);
      sg_buf_cat(b, "\">attack.mitre.org</a>)</li>\n");
    }
    sg_buf_cat(b, "</ul>\n</section>\n");
  }
  sg_buf_free(&tac);
  sg_buf_cat(b, "<section>\n<h2>Data source</h2>\n");
  data_source(b, &r->logsource);
  Names tb = {0};
  for (size_t k = 0; k < ps->site->nplatforms; k++)
    if (!p->queries[k].failed) tables(sg_buf_cstr((SgBuf *)&p->queries[k].text), &tb);
  if (tb.n) {
    qsort(tb.v, tb.n, sizeof *tb.v, cmp_cstr);
    sg_buf_cat(b, "<p>Tables the queries read:");
    for (size_t k = 0; k < tb.n; k++)
      if (!k || strcmp(tb.v[k], tb.v[k - 1])) sg_buf_catf(b, "%s <code>%s</code>", k ? "," : "", tb.v[k]);
    sg_buf_cat(b, "</p>\n");
  }
  for (size_t k = 0; k < tb.n; k++)
    free((char *)tb.v[k]);
  free(tb.v);
  sg_buf_cat(b, "</section>\n<section>\n<h2>Detection</h2>\n");
  for (size_t k = 0; k < ps->site->nplatforms; k++) {
    const Platform *pl = &ps->site->platforms[k];
    const Query *q = &p->queries[k];
    sg_buf_cat(b, "<h3>");
    htmls(b, pl->name);
    sg_buf_cat(b, "</h3>\n");
    if (q->failed) {
      sg_buf_cat(b, "<p>This platform cannot run the rule:</p>\n<pre class=\"error\">");
      html(b, q->text.data ? q->text.data : "", q->text.len);
      sg_buf_cat(b, "</pre>\n");
      continue;
    }
    if (q->words.len) {
      sg_buf_cat(b, "<p class=\"words\">");
      html(b, q->words.data,
           q->words.len && q->words.data[q->words.len - 1] == '\n' ? q->words.len - 1 : q->words.len);
      sg_buf_cat(b, "</p>\n");
    }
    sg_buf_catf(
        b, "<div class=\"query\"><button type=\"button\" class=\"copy\" data-for=\"q%zu\">Copy</button>\n",
        k);
    sg_buf_catf(b, "<pre><code id=\"q%zu\">", k);
    html(b, q->text.data ? q->text.data : "", q->text.len);
    sg_buf_cat(b, "</code></pre></div>\n");
  }
  sg_buf_cat(b, "</section>\n");
  list_section(b, "False positives", &r->falsepositives, false);
  list_section(b, "References", &r->references, true);
  related(ps, r, b);
  sg_buf_cat(b, "<section>\n<h2>Test evidence</h2>\n");
  if (p->evidence.len)
    sg_buf_catn(b, p->evidence.data, p->evidence.len);
  else
    sg_buf_cat(b, "<p>No sample events come with this rule (<code>RULE.events.jsonl</code>, "
                  "<code>RULE.nomatch.jsonl</code>): nothing was checked.</p>\n");
  simulation(r, b);
  sg_buf_cat(b, "</section>\n<section>\n<h2>Portable Sigma rule</h2>\n");
  sg_buf_catf(b, "<p><a href=\"%s.yml\" download>Download %s.yml</a> (the rule file as written)</p>\n",
              p->slug, p->slug);
  sg_buf_cat(b, "<pre><code>");
  html(b, p->unit.src, p->unit.srclen);
  sg_buf_cat(b, "</code></pre>\n</section>\n");
  /* other rules of its techniques */
  SgBuf rel = {0};
  for (size_t t = 0; t < p->ntechniques; t++) {
    const Tech *te = tech_find(techs, p->techniques[t]);
    for (size_t k = 0, shown = 0; te && k < te->n; k++) {
      const Page *o = &ps->v[te->pages[k]];
      if (o == p) continue;
      if (shown++ == 10) { /* the technique's page has them all */
        sg_buf_catf(&rel, "<li>%s: <a href=\"../techniques/%s.html\">all %zu rules</a></li>\n", te->id,
                    te->id, te->n);
        break;
      }
      sg_buf_catf(&rel, "<li>%s: <a href=\"%s.html\">", te->id, o->slug);
      htmls(&rel, o->rule->title ? o->rule->title : o->slug);
      sg_buf_cat(&rel, "</a></li>\n");
    }
  }
  if (rel.len) {
    sg_buf_cat(b, "<section>\n<h2>Other rules for these techniques</h2>\n<ul>\n");
    sg_buf_catn(b, rel.data, rel.len);
    sg_buf_cat(b, "</ul>\n</section>\n");
  }
  sg_buf_taint(b, &rel);
  sg_buf_free(&rel);
  foot(b);
}

static void technique_page(const Pages *ps, const Tech *te, SgBuf *b) {
  SgBuf title = {0};
  sg_buf_catf(&title, "%s ", te->id);
  technique_name(&title, te->id);
  head(b, ps->site, sg_buf_cstr(&title), "../");
  sg_buf_cat(b, "<h1>");
  htmls(b, title.data);
  sg_buf_cat(b, "</h1>\n<p><a href=\"");
  technique_url(b, te->id);
  sg_buf_cat(b, "\">The technique on attack.mitre.org</a>");
  const SgAttackTechnique *t = technique(te->id);
  if (t && *t->tactics) {
    sg_buf_cat(b, "; tactics: ");
    htmls(b, t->tactics);
  }
  sg_buf_catf(
      b,
      "</p>\n<h2>%zu rule%s</h2>\n<table>\n<thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Level"
      "</th><th scope=\"col\">Platforms that run it</th></tr></thead>\n<tbody>\n",
      te->n, te->n == 1 ? "" : "s");
  for (size_t k = 0; k < te->n; k++) {
    const Page *p = &ps->v[te->pages[k]];
    sg_buf_catf(b, "<tr><td><a href=\"../rules/%s.html\">", p->slug);
    htmls(b, p->rule->title ? p->rule->title : p->slug);
    sg_buf_cat(b, "</a></td><td>");
    level_badge(b, p->rule->level);
    sg_buf_cat(b, "</td><td>");
    bool any = false;
    for (size_t q = 0; q < ps->site->nplatforms; q++)
      if (!p->queries[q].failed) {
        sg_buf_cat(b, any ? ", " : "");
        htmls(b, ps->site->platforms[q].name);
        any = true;
      }
    sg_buf_cat(b, any ? "</td></tr>\n" : "none</td></tr>\n");
  }
  sg_buf_cat(b, "</tbody>\n</table>\n");
  foot(b);
  sg_buf_taint(b, &title);
  sg_buf_free(&title);
}

/* The index: the ATT&CK matrix (tactics as columns, each technique with its
 * rule count, coloured by it), the search, every rule. */
static const char *const matrix_order[] = {
    "reconnaissance",       "resource-development", "initial-access",    "execution", "persistence",
    "privilege-escalation", "defense-evasion",      "credential-access", "discovery", "lateral-movement",
    "collection",           "command-and-control",  "exfiltration",      "impact"};

static bool in_tactic(const char *tactics, const char *shortname) {
  size_t n = strlen(shortname);
  for (const char *p = tactics; (p = strstr(p, shortname)); p += n)
    if ((p == tactics || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) return true;
  return false;
}

static void index_page(const Pages *ps, const Techs *techs, SgBuf *b) {
  head(b, ps->site, "Index", "");
  sg_buf_cat(b, "<h1>");
  htmls(b, ps->site->title);
  sg_buf_catf(b, "</h1>\n<p>%zu rules, %zu ATT&amp;CK techniques (ATT&amp;CK v%s), %zu platforms.</p>\n",
              ps->n, techs->n, sg_attack_version, ps->site->nplatforms);
  sg_buf_cat(b, "<section>\n<h2>Search</h2>\n<label for=\"q\">Title, id, tag or field name</label>\n"
                "<input type=\"search\" id=\"q\" autocomplete=\"off\">\n"
                "<ul id=\"results\" aria-live=\"polite\"></ul>\n<script src=\"search-index.js\"></script>\n"
                "</section>\n<section>\n<h2>ATT&amp;CK matrix</h2>\n<div class=\"matrix\">\n");
  size_t ncols = sizeof matrix_order / sizeof *matrix_order;
  for (size_t c = 0; c <= ncols; c++) {
    SgBuf col = {0};
    for (size_t i = 0; i < techs->n; i++) {
      const Tech *te = &techs->v[i];
      const SgAttackTechnique *t = technique(te->id);
      if (c < ncols ? !t || !in_tactic(t->tactics, matrix_order[c]) : t != NULL) continue;
      int heat = te->n >= 10 ? 4 : te->n >= 5 ? 3 : te->n >= 2 ? 2 : 1;
      sg_buf_catf(&col, "<li class=\"heat%d\"><a href=\"techniques/%s.html\">%s ", heat, te->id, te->id);
      technique_name(&col, te->id);
      sg_buf_catf(&col, "</a> <span class=\"count\">%zu</span></li>\n", te->n);
    }
    if (col.len) {
      const SgAttackTactic *ta = c < ncols ? tactic(matrix_order[c]) : NULL;
      sg_buf_catf(b, "<div class=\"tactic\">\n<h3>%s</h3>\n<ul>\n", ta ? ta->name : "Newer techniques");
      sg_buf_catn(b, col.data, col.len);
      sg_buf_cat(b, "</ul>\n</div>\n");
    }
    sg_buf_taint(b, &col);
    sg_buf_free(&col);
  }
  sg_buf_cat(b,
             "</div>\n</section>\n<section>\n<h2>Rules</h2>\n<table>\n<thead><tr><th scope=\"col\">Rule</th>"
             "<th scope=\"col\">Level</th><th scope=\"col\">Techniques</th></tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < ps->n; i++) {
    const Page *p = &ps->v[i];
    sg_buf_catf(b, "<tr><td><a href=\"rules/%s.html\">", p->slug);
    htmls(b, p->rule->title ? p->rule->title : p->slug);
    sg_buf_cat(b, "</a></td><td>");
    level_badge(b, p->rule->level);
    sg_buf_cat(b, "</td><td>");
    for (size_t t = 0; t < p->ntechniques; t++)
      sg_buf_catf(b, "%s<a href=\"techniques/%s.html\">%s</a>", t ? ", " : "", p->techniques[t],
                  p->techniques[t]);
    sg_buf_cat(b, "</td></tr>\n");
  }
  sg_buf_cat(b, "</tbody>\n</table>\n</section>\n");
  foot(b);
}

/* search-index.js: the rules' titles, ids, tags and field names as a script,
 * so the search runs from file:// without a server. */
static void search_index(const Pages *ps, SgBuf *b) {
  sg_buf_cat(b, "window.SG_INDEX = [\n");
  for (size_t i = 0; i < ps->n; i++) {
    const Page *p = &ps->v[i];
    const SgRule *r = p->rule;
    sg_buf_cat(b, "{\"t\":");
    sg_json_str_or_null(b, r->title);
    sg_buf_cat(b, ",\"i\":");
    sg_json_str_or_null(b, r->id);
    sg_buf_cat(b, ",\"l\":");
    sg_json_str_or_null(b, r->level);
    sg_buf_catf(b, ",\"u\":\"rules/%s.html\",\"g\":[", p->slug);
    for (size_t t = 0; t < r->tags.n; t++) {
      if (t) sg_buf_catc(b, ',');
      sg_json_str(b, r->tags.v[t], strlen(r->tags.v[t]));
    }
    sg_buf_cat(b, "],\"f\":[");
    Names f = {0};
    for (size_t c = 0; c < r->nconds; c++)
      if (r->conds[c].root) collect_fields(r->conds[c].root, &f);
    if (f.n) qsort(f.v, f.n, sizeof *f.v, cmp_cstr);
    for (size_t k = 0, w = 0; k < f.n; k++)
      if (!k || strcmp(f.v[k], f.v[k - 1])) {
        if (w++) sg_buf_catc(b, ',');
        sg_json_str(b, f.v[k], strlen(f.v[k]));
      }
    free(f.v);
    sg_buf_cat(b, i + 1 < ps->n ? "]},\n" : "]}\n");
  }
  sg_buf_cat(b, "];\n");
}

/* ---- the assets ---------------------------------------------------------------------------- */

static const char style_css[] =
    ":root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--code:#f6f8fa;--link:#0550ae;"
    "--h1:#dbeafe;--h2:#bfdbfe;--h3:#1d4ed8;--h4:#1e3a8a;--h4fg:#fff;--bad:#a40e26}\n"
    "[data-theme=dark]{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--code:#161b22;--link:#"
    "79c0ff;"
    "--h1:#0c2d6b;--h2:#1f4a8a;--h3:#58a6ff;--h4:#79c0ff;--h4fg:#0d1117;--bad:#ff7b72}\n"
    "@media "
    "(prefers-color-scheme:dark){:root:not([data-theme=light]){--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;"
    "--line:#30363d;--code:#161b22;--link:#79c0ff;--h1:#0c2d6b;--h2:#1f4a8a;--h3:#58a6ff;--h4:#79c0ff;--h4fg:"
    "#0d1117;"
    "--bad:#ff7b72}}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,sans-serif}\n"
    "main{max-width:70rem;margin:0 auto;padding:1rem}\n"
    "header.site{display:flex;justify-content:space-between;align-items:center;padding:.5rem 1rem;"
    "border-bottom:1px solid var(--line)}\n"
    "a{color:var(--link)}a:focus,button:focus,input:focus{outline:3px solid var(--h3);outline-offset:2px}\n"
    "pre{background:var(--code);border:1px solid "
    "var(--line);padding:.75rem;overflow-x:auto;white-space:pre-wrap;"
    "word-break:break-all}\n"
    "pre.error{border-color:var(--bad)}.bad{color:var(--bad)}\n"
    ".cc{unicode-bidi:isolate;border:1px dotted var(--bad);color:var(--bad)}\n"
    ".query{position:relative}.query pre{padding-top:2.5rem}.copy{position:absolute;right:.5rem;top:.5rem}\n"
    "button{font:inherit;padding:.2rem .6rem;border:1px solid "
    "var(--line);background:var(--code);color:var(--fg);"
    "border-radius:4px;cursor:pointer}\n"
    ".level{padding:.1rem .5rem;border-radius:4px;border:1px solid var(--line);font-weight:600}\n"
    ".level-critical,.level-high{color:var(--bad)}.kv{margin-left:1rem;color:var(--muted)}\n"
    ".words{font-style:italic}\n"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;border-bottom:1px solid var(--line);"
    "padding:.3rem}\n"
    ".matrix{display:flex;gap:.5rem;overflow-x:auto}.tactic{min-width:11rem;flex:1}.tactic "
    "h3{font-size:.95rem}\n"
    ".tactic ul{list-style:none;padding:0;margin:0}.tactic li{margin:.2rem 0;padding:.2rem .3rem;"
    "border-radius:3px;font-size:.85rem;display:flex;justify-content:space-between;gap:.3rem}\n"
    ".heat1{background:var(--h1)}.heat2{background:var(--h2)}.heat3{background:var(--h3)}"
    ".heat4{background:var(--h4)}.heat4 a{color:var(--h4fg)}.heat3 a{color:var(--h4fg)}\n"
    ".count{font-weight:600}\n"
    "input[type=search]{font:inherit;width:100%;max-width:30rem;padding:.3rem;display:block;margin:.3rem 0;"
    "background:var(--bg);color:var(--fg);border:1px solid var(--muted)}\n"
    "@media print{header.site,button,#q,label[for=q]{display:none}pre{white-space:pre-wrap}"
    "a{color:inherit}body{background:#fff;color:#000}}\n";

static const char site_js[] =
    "'use strict';\n"
    "(function () {\n"
    "  var root = document.documentElement, key = 'sigmacc-theme';\n"
    "  try { var t = localStorage.getItem(key); if (t) root.setAttribute('data-theme', t); } catch (e) {}\n"
    "  document.addEventListener('DOMContentLoaded', function () {\n"
    "    var b = document.getElementById('theme');\n"
    "    if (b) b.addEventListener('click', function () {\n"
    "      var dark = root.getAttribute('data-theme') === 'dark' ||\n"
    "        (!root.getAttribute('data-theme') && matchMedia('(prefers-color-scheme: dark)').matches);\n"
    "      root.setAttribute('data-theme', dark ? 'light' : 'dark');\n"
    "      try { localStorage.setItem(key, root.getAttribute('data-theme')); } catch (e) {}\n"
    "    });\n"
    "    document.querySelectorAll('button.copy').forEach(function (btn) {\n"
    "      btn.addEventListener('click', function () {\n"
    "        var code = document.getElementById(btn.getAttribute('data-for'));\n"
    "        var text = code.textContent, done = function () { btn.textContent = 'Copied'; };\n"
    "        if (navigator.clipboard && window.isSecureContext) {\n"
    "          navigator.clipboard.writeText(text).then(done, function () {});\n"
    "        } else {\n"
    "          var r = document.createRange(); r.selectNodeContents(code);\n"
    "          var s = getSelection(); s.removeAllRanges(); s.addRange(r);\n"
    "          try { if (document.execCommand('copy')) done(); } catch (e) {}\n"
    "        }\n"
    "      });\n"
    "    });\n"
    "    var q = document.getElementById('q'), out = document.getElementById('results');\n"
    "    if (!q || !out || !window.SG_INDEX) return;\n"
    "    var search = function () {\n"
    "      var terms = q.value.toLowerCase().split(/\\s+/).filter(Boolean);\n"
    "      out.textContent = '';\n"
    "      if (!terms.length) return;\n"
    "      var shown = 0;\n"
    "      for (var i = 0; i < SG_INDEX.length && shown < 50; i++) {\n"
    "        var r = SG_INDEX[i];\n"
    "        var hay = [r.t, r.i, r.l].concat(r.g, r.f).join(' ').toLowerCase();\n"
    "        if (!terms.every(function (t) { return hay.indexOf(t) >= 0; })) continue;\n"
    "        var li = document.createElement('li'), a = document.createElement('a');\n"
    "        a.href = r.u; a.textContent = r.t || r.u; li.appendChild(a);\n"
    "        out.appendChild(li); shown++;\n"
    "      }\n"
    "      if (!shown) { var none = document.createElement('li'); none.textContent = 'No rule matches.';\n"
    "        out.appendChild(none); }\n"
    "    };\n"
    "    q.addEventListener('input', search);\n"
    "    var m = /[?&]q=([^&]*)/.exec(location.search);\n"
    "    if (m) { q.value = decodeURIComponent(m[1].replace(/\\+/g, ' ')); search(); }\n"
    "  });\n"
    "})();\n";

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
    memcpy(specs, pl->pipelines, pl->npipelines * sizeof *specs);
    memcpy(specs + pl->npipelines, pj->pipelines, pj->npipelines * sizeof *specs);
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
    char id[32];
    if (!technique_tag(p->rule->tags.v[t], id, sizeof id)) continue;
    bool seen = false;
    for (size_t k = 0; k < p->ntechniques && !seen; k++)
      seen = !strcmp(p->techniques[k], id);
    if (seen) continue;
    char **slot = SG_PUSH_HEAP(p->techniques, p->ntechniques, cap);
    if (!slot || !(*slot = strdup(id))) return false;
  }
  if (p->ntechniques) qsort(p->techniques, p->ntechniques, sizeof *p->techniques, cmp_cstr);
  return true;
}

static bool index_techniques(const Pages *ps, Techs *t) {
  for (size_t i = 0; i < ps->n; i++)
    for (size_t k = 0; k < ps->v[i].ntechniques; k++) {
      const char *id = ps->v[i].techniques[k];
      Tech *te = tech_find(t, id);
      if (!te && (te = SG_PUSH_HEAP(t->v, t->n, t->cap))) *te = (Tech){.id = id};
      size_t *slot = te ? SG_PUSH_HEAP(te->pages, te->n, te->cap) : NULL;
      if (!slot) return false;
      *slot = i;
    }
  if (t->n) qsort(t->v, t->n, sizeof *t->v, cmp_cstr); /* Tech starts with its id */
  return true;
}

/* Load every rule file under the paths into ps; a file whose rules do not
 * all load gets no page (its diagnostics say why). */
static bool load_pages(Pages *ps, char *const *paths, size_t npaths, SgPaths *files, SgPagesResult *res,
                       SgDiags *d) {
  bool ok = sg_expand_paths((int)npaths, (char **)paths, files, d);
  sg_render_diags(&res->diags, d, 0, NULL, NULL, 0, false);
  ps->v = calloc(files->n + 1, sizeof *ps->v);
  if (!ps->v) return false;
  for (size_t i = 0; i < files->n; i++) {
    char *src;
    size_t len, mark = d->n;
    if (sg_read_file(files->v[i], &src, &len, d) != SG_OK) {
      sg_render_diags(&res->diags, d, mark, NULL, NULL, 0, false);
      ok = false;
      continue;
    }
    Page *p = &ps->v[ps->n];
    sg_compile_source(&p->unit, files->v[i], src, len, d);
    sg_render_diags(&res->diags, d, mark, p->unit.path, p->unit.src, p->unit.srclen, false);
    bool failed = false;
    for (size_t r = 0; r < p->unit.nrules; r++) {
      const SgRule *rule = p->unit.rules[r];
      failed = failed || rule->failed;
      if (!p->rule && (rule->kind == SG_DOC_RULE || rule->kind == SG_DOC_CORRELATION)) p->rule = rule;
    }
    if (failed) res->failed++;
    if (failed || !p->rule || p->unit.pipeline) {
      sg_unit_free(&p->unit);
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
  size_t mark = d.n;
  if (!index_techniques(&ps, &techs)) {
    sg_diag(&d, SG_D_NOMEM, (SgLoc){0}, "out of memory indexing the pages");
    res->exit_code = 1;
  }
  sg_parallel_for(ps.n, build_page, &ps);
  SgGolden g;
  sg_golden_init(&g, dir, NULL, job->golden ? job->update : true);
  SgBuf b = {0}, rel = {0};
  bool io = false;
  sg_buf_cat(&b, style_css);
  put(&g, "style.css", &b, &io);
  sg_buf_cat(&b, site_js);
  put(&g, "site.js", &b, &io);
  search_index(&ps, &b);
  put(&g, "search-index.js", &b, &io);
  index_page(&ps, &techs, &b);
  put(&g, "index.html", &b, &io);
  for (size_t i = 0; i < ps.n; i++) {
    rule_page(&ps, &techs, i, &b);
    rel.len = 0;
    sg_buf_catf(&rel, "rules/%s.html", ps.v[i].slug);
    put(&g, sg_buf_cstr(&rel), &b, &io);
    sg_buf_catn(&b, ps.v[i].unit.src, ps.v[i].unit.srclen);
    rel.len = 0;
    sg_buf_catf(&rel, "rules/%s.yml", ps.v[i].slug);
    put(&g, sg_buf_cstr(&rel), &b, &io);
  }
  for (size_t i = 0; i < techs.n; i++) {
    technique_page(&ps, &techs.v[i], &b);
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
    sg_unit_free(&p->unit);
  }
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
