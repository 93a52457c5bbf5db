/* pages_html.c - the detection pages as HTML (site.h): text escaped for
 * HTML, the ATT&CK names and links, the rule page, the technique page, the
 * index with its matrix and the search's data, and the one CSS and one
 * JavaScript file they share. Every value from a rule goes through sg_html.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "site.h"

/* ---- HTML ------------------------------------------------------------------------------- */

/* Text for HTML: & < > " ' as references; a C0 control (not tab or line
 * break), DEL, a C1 or bidirectional control, a line separator or an invalid
 * byte shown as its escape in a marked span, never obeyed. */
void sg_html(SgBuf *b, const char *s, size_t n) {
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

void sg_html_str(SgBuf *b, const char *s) {
  if (s) sg_html(b, s, strlen(s));
}

/* An http(s) reference as a link, anything else as text. */
static void link_or_text(SgBuf *b, const char *s) {
  if (!strncmp(s, "https://", 8) || !strncmp(s, "http://", 7)) {
    sg_buf_cat(b, "<a href=\"");
    sg_html_str(b, s);
    sg_buf_cat(b, "\" rel=\"noopener noreferrer\">");
    sg_html_str(b, s);
    sg_buf_cat(b, "</a>");
  } else {
    sg_html_str(b, s);
  }
}

static void head(SgBuf *b, const Site *s, const char *title, const char *up) {
  sg_buf_cat(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
  sg_html_str(b, title);
  sg_buf_cat(b, " - ");
  sg_html_str(b, s->title);
  sg_buf_catf(
      b,
      "</title>\n<link rel=\"stylesheet\" href=\"%sstyle.css\">\n<script src=\"%ssite.js\" defer></script>\n"
      "</head>\n<body>\n<header class=\"site\"><a href=\"%sindex.html\">",
      up, up, up);
  sg_html_str(b, s->title);
  sg_buf_cat(b, "</a><button type=\"button\" id=\"theme\" aria-label=\"Switch between light and dark theme\">"
                "Theme</button></header>\n<main>\n");
}

static void foot(SgBuf *b) { sg_buf_cat(b, "</main>\n</body>\n</html>\n"); }

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

bool sg_pages_fields(const SgRule *r, Names *out) {
  for (size_t c = 0; c < r->nconds; c++)
    if (r->conds[c].root && !collect_fields(r->conds[c].root, out)) return false;
  if (!out->n) return true;
  qsort(out->v, out->n, sizeof *out->v, sg_pages_cmp_str);
  size_t w = 1;
  for (size_t k = 1; k < out->n; k++)
    if (strcmp(out->v[k], out->v[w - 1])) out->v[w++] = out->v[k];
  out->n = w;
  return true;
}

/* ---- ATT&CK -------------------------------------------------------------------------- */

/* https://attack.mitre.org/techniques/T1036/001/ */
static void technique_url(SgBuf *b, const char *id) {
  const char *dot = strchr(id, '.');
  if (dot)
    sg_buf_catf(b, "https://attack.mitre.org/techniques/%.*s/%s/", (int)(dot - id), id, dot + 1);
  else
    sg_buf_catf(b, "https://attack.mitre.org/techniques/%s/", id);
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
      sg_html_str(b, vals[k]);
      sg_buf_cat(b, "</code>");
      any = true;
    }
  if (!any) sg_buf_cat(b, "none");
  sg_buf_cat(b, words ? ")</p>\n" : "</p>\n");
  if (ls->definition) {
    sg_buf_cat(b, "<p>");
    sg_html_str(b, ls->definition);
    sg_buf_cat(b, "</p>\n");
  }
}

/* The QRadar log source types (devicetype, LOGSOURCETYPEID) an AQL query
 * tests, outside its literals: `devicetype = 12`, `LOGSOURCETYPEID IN (65, 1263)`. */
static void qradar_types(const char *q, SgBuf *out) {
  for (size_t i = 0; q[i];) {
    if (q[i] == '\'' || q[i] == '"') {
      char c = q[i++];
      while (q[i] && q[i] != c)
        i++;
      if (q[i]) i++;
      continue;
    }
    size_t k = !strncmp(q + i, "devicetype ", 11) ? 11 : !strncmp(q + i, "LOGSOURCETYPEID ", 16) ? 16 : 0;
    if (!k || (i && q[i - 1] != ' ' && q[i - 1] != '(' && q[i - 1] != '\n')) {
      i++;
      continue;
    }
    const char *p = q + i + k;
    bool list = !strncmp(p, "IN (", 4);
    if (!list && strncmp(p, "= ", 2)) {
      i += k;
      continue;
    }
    p += list ? 4 : 2;
    for (;;) {
      const char *d = p;
      while (*p >= '0' && *p <= '9')
        p++;
      if (p == d) break;
      char id[24]; /* the list is ",12,65," */
      snprintf(id, sizeof id, ",%.*s,", (int)(p - d < 20 ? p - d : 20), d);
      if (!out->len) sg_buf_catc(out, ',');
      if (!strstr(sg_buf_cstr(out), id)) sg_buf_cat(out, id + 1);
      if (!list || strncmp(p, ", ", 2)) break;
      p += 2;
    }
    i = (size_t)(p - q);
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
  sg_html_str(b, level ? level : "no level");
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
      sg_html_str(b, l->v[i]);
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
    sg_html_str(b, x->type ? x->type : "related");
    sg_buf_cat(b, ": ");
    if (to) {
      sg_buf_catf(b, "<a href=\"%s.html\">", to->slug);
      sg_html_str(b, to->rule->title ? to->rule->title : to->slug);
      sg_buf_cat(b, "</a> (");
    }
    sg_buf_cat(b, "<code>");
    sg_html_str(b, x->id ? x->id : "");
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
    sg_html_str(b, type && type->kind == SG_Y_SCALAR ? type->text : "simulation");
    sg_buf_cat(b, ": ");
    bool plain_id = t && t[0] == 'T';
    for (const char *c = t; plain_id && *c; c++)
      plain_id = (*c >= '0' && *c <= '9') || *c == '.' || c == t;
    if (plain_id && type && type->kind == SG_Y_SCALAR && !strcmp(type->text, "atomic-red-team"))
      sg_buf_catf(b,
                  "<a href=\"https://github.com/redcanaryco/atomic-red-team/blob/master/atomics/%s/%s.md\">",
                  t, t);
    sg_html_str(b, name && name->kind == SG_Y_SCALAR ? name->text : "(unnamed)");
    if (plain_id && type && type->kind == SG_Y_SCALAR && !strcmp(type->text, "atomic-red-team"))
      sg_buf_cat(b, "</a>");
    if (t) sg_buf_cat(b, " (technique "), sg_html_str(b, t), sg_buf_cat(b, ")");
    if (guid && guid->kind == SG_Y_SCALAR)
      sg_buf_cat(b, ", atomic GUID <code>"), sg_html_str(b, guid->text), sg_buf_cat(b, "</code>");
    sg_buf_cat(b, "</li>\n");
  }
  sg_buf_cat(b, "</ul>\n");
}

/* The pages of a technique's rules, in page order. */

static void technique_name(SgBuf *b, const char *id) {
  const SgAttackTechnique *t = sg_attack_technique(id);
  const char *dot = strchr(id, '.');
  if (t && dot) {
    char parent[16];
    snprintf(parent, sizeof parent, "%.*s", (int)(dot - id), id);
    const SgAttackTechnique *pt = sg_attack_technique(parent);
    if (pt) sg_buf_catf(b, "%s: ", pt->name);
  }
  sg_buf_cat(b, t ? t->name : "(newer than the bundled ATT&CK data)");
}

void sg_pages_rule(const Pages *ps, const Techs *techs, size_t i, SgBuf *b) {
  const Page *p = &ps->v[i];
  const SgRule *r = p->rule;
  head(b, ps->site, r->title ? r->title : p->slug, "../");
  sg_buf_cat(b, "<h1>");
  sg_html_str(b, r->title ? r->title : p->slug);
  sg_buf_cat(b, "</h1>\n<p class=\"meta\">");
  level_badge(b, r->level);
  const char *labels[] = {"status", "id", "author", "date", "modified", "confidence"};
  const char *vals[] = {r->status, r->id, r->author, r->date, r->modified, sg_rule_attr(r, "confidence")};
  for (int k = 0; k < 6; k++)
    if (vals[k]) {
      sg_buf_catf(b, " <span class=\"kv\">%s: ", labels[k]);
      sg_html_str(b, vals[k]);
      sg_buf_cat(b, "</span>");
    }
  sg_buf_cat(b, "</p>\n");
  if (r->description) {
    sg_buf_cat(b, "<section>\n<h2>Description</h2>\n<p>");
    sg_html_str(b, r->description);
    sg_buf_cat(b, "</p>\n</section>\n");
  }
  /* ATT&CK */
  SgBuf tac = {0};
  for (size_t t = 0; t < r->tags.n; t++) {
    const char *tag = r->tags.v[t];
    const SgAttackTactic *ta = !strncmp(tag, "attack.", 7) ? sg_attack_tactic(tag + 7) : NULL;
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
    qsort(tb.v, tb.n, sizeof *tb.v, sg_pages_cmp_str);
    sg_buf_cat(b, "<p>Tables the queries read:");
    for (size_t k = 0; k < tb.n; k++)
      if (!k || strcmp(tb.v[k], tb.v[k - 1])) sg_buf_catf(b, "%s <code>%s</code>", k ? "," : "", tb.v[k]);
    sg_buf_cat(b, "</p>\n");
  }
  for (size_t k = 0; k < tb.n; k++)
    free((char *)tb.v[k]);
  free(tb.v);
  SgBuf types = {0};
  for (size_t k = 0; k < ps->site->nplatforms; k++)
    if (!p->queries[k].failed && !strcmp(ps->site->platforms[k].target, "aql"))
      qradar_types(sg_buf_cstr((SgBuf *)&p->queries[k].text), &types);
  if (types.len) { /* 12: the Microsoft Windows Security Event Log DSM (pipelines/qradar.yml) */
    sg_buf_cat(b, "<p>QRadar log source types:");
    for (const char *t = types.data + 1; *t;) {
      size_t n = strcspn(t, ",");
      sg_buf_catf(b, "%s %.*s%s", t == types.data + 1 ? "" : ",", (int)n, t,
                  n == 2 && !strncmp(t, "12", 2) ? " (Microsoft Windows Security Event Log)" : "");
      t += n + (t[n] == ',');
    }
    sg_buf_cat(b, "</p>\n");
  }
  sg_buf_taint(b, &types);
  sg_buf_free(&types);
  sg_buf_cat(b, "</section>\n<section>\n<h2>Detection</h2>\n");
  for (size_t k = 0; k < ps->site->nplatforms; k++) {
    const Platform *pl = &ps->site->platforms[k];
    const Query *q = &p->queries[k];
    sg_buf_cat(b, "<h3>");
    sg_html_str(b, pl->name);
    sg_buf_cat(b, "</h3>\n");
    if (q->failed) {
      sg_buf_cat(b, "<p>This platform cannot run the rule:</p>\n<pre class=\"error\">");
      sg_html(b, q->text.data ? q->text.data : "", q->text.len);
      sg_buf_cat(b, "</pre>\n");
      continue;
    }
    if (q->words.len) {
      sg_buf_cat(b, "<p class=\"words\">");
      sg_html(b, q->words.data,
              q->words.len && q->words.data[q->words.len - 1] == '\n' ? q->words.len - 1 : q->words.len);
      sg_buf_cat(b, "</p>\n");
    }
    sg_buf_catf(
        b, "<div class=\"query\"><button type=\"button\" class=\"copy\" data-for=\"q%zu\">Copy</button>\n",
        k);
    sg_buf_catf(b, "<pre><code id=\"q%zu\">", k);
    sg_html(b, q->text.data ? q->text.data : "", q->text.len);
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
  sg_html(b, p->unit->src, p->unit->srclen);
  sg_buf_cat(b, "</code></pre>\n</section>\n");
  /* other rules of its techniques */
  SgBuf rel = {0};
  for (size_t t = 0; t < p->ntechniques; t++) {
    const Tech *te = sg_pages_tech_find(techs, p->techniques[t]);
    for (size_t k = 0, shown = 0; te && k < te->n; k++) {
      const Page *o = &ps->v[te->pages[k]];
      if (o == p) continue;
      if (shown++ == 10) { /* the technique's page has them all */
        sg_buf_catf(&rel, "<li>%s: <a href=\"../techniques/%s.html\">all %zu rules</a></li>\n", te->id,
                    te->id, te->n);
        break;
      }
      sg_buf_catf(&rel, "<li>%s: <a href=\"%s.html\">", te->id, o->slug);
      sg_html_str(&rel, o->rule->title ? o->rule->title : o->slug);
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

void sg_pages_technique(const Pages *ps, const Tech *te, SgBuf *b) {
  SgBuf title = {0};
  sg_buf_catf(&title, "%s ", te->id);
  technique_name(&title, te->id);
  head(b, ps->site, sg_buf_cstr(&title), "../");
  sg_buf_cat(b, "<h1>");
  sg_html_str(b, title.data);
  sg_buf_cat(b, "</h1>\n<p><a href=\"");
  technique_url(b, te->id);
  sg_buf_cat(b, "\">The technique on attack.mitre.org</a>");
  const SgAttackTechnique *t = sg_attack_technique(te->id);
  if (t && *t->tactics) {
    sg_buf_cat(b, "; tactics: ");
    sg_html_str(b, t->tactics);
  }
  sg_buf_catf(
      b,
      "</p>\n<h2>%zu rule%s</h2>\n<table>\n<thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Level"
      "</th><th scope=\"col\">Platforms that run it</th></tr></thead>\n<tbody>\n",
      te->n, te->n == 1 ? "" : "s");
  for (size_t k = 0; k < te->n; k++) {
    const Page *p = &ps->v[te->pages[k]];
    sg_buf_catf(b, "<tr><td><a href=\"../rules/%s.html\">", p->slug);
    sg_html_str(b, p->rule->title ? p->rule->title : p->slug);
    sg_buf_cat(b, "</a></td><td>");
    level_badge(b, p->rule->level);
    sg_buf_cat(b, "</td><td>");
    bool any = false;
    for (size_t q = 0; q < ps->site->nplatforms; q++)
      if (!p->queries[q].failed) {
        sg_buf_cat(b, any ? ", " : "");
        sg_html_str(b, ps->site->platforms[q].name);
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

void sg_pages_index(const Pages *ps, const Techs *techs, SgBuf *b) {
  head(b, ps->site, "Index", "");
  sg_buf_cat(b, "<h1>");
  sg_html_str(b, ps->site->title);
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
      const SgAttackTechnique *t = sg_attack_technique(te->id);
      if (c < ncols ? !t || !sg_attack_in_tactics(t->tactics, matrix_order[c]) : t != NULL) continue;
      int heat = te->n >= 10 ? 4 : te->n >= 5 ? 3 : te->n >= 2 ? 2 : 1;
      sg_buf_catf(&col, "<li class=\"heat%d\"><a href=\"techniques/%s.html\">%s ", heat, te->id, te->id);
      technique_name(&col, te->id);
      sg_buf_catf(&col, "</a> <span class=\"count\">%zu</span></li>\n", te->n);
    }
    if (col.len) {
      const SgAttackTactic *ta = c < ncols ? sg_attack_tactic(matrix_order[c]) : NULL;
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
    sg_html_str(b, p->rule->title ? p->rule->title : p->slug);
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
void sg_pages_search_index(const Pages *ps, SgBuf *b) {
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
    if (!sg_pages_fields(r, &f)) b->oom = true;
    for (size_t k = 0; k < f.n; k++) {
      if (k) sg_buf_catc(b, ',');
      sg_json_str(b, f.v[k], strlen(f.v[k]));
    }
    free(f.v);
    sg_buf_cat(b, i + 1 < ps->n ? "]},\n" : "]}\n");
  }
  sg_buf_cat(b, "];\n");
}

/* ---- the assets ---------------------------------------------------------------------------- */

const char sg_pages_css[] =
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

const char sg_pages_js[] =
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
