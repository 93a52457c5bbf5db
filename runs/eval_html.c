/* eval_html.c - `eval --html FILE`: one self-contained page (no external
 * resource, no script) of a run's matches: the counts, a chart of matches
 * over time, the top rules and computers, the timeline per level, and each
 * rule's detail, linked from every row. Workers note each shown match
 * (sg_html_note); the calling thread adds them in input order; the page is
 * written at the end (sg_html_page). Every value is HTML-escaped.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runs.h"

typedef struct Match {
  const SgRule *rule;
  double time;
  bool has_time;
  size_t text; /* in SgHtml.text: computer \0 channel \0 event id \0 source \0 details \0 */
} Match;

struct SgHtml {
  Match *m;
  size_t n, cap;
  SgBuf text;
  size_t events;
};

SgHtml *sg_html_new(void) { return calloc(1, sizeof(SgHtml)); }

void sg_html_free(SgHtml *h) {
  if (!h) return;
  free(h->m);
  sg_buf_free(&h->text);
  free(h);
}

void sg_html_note(SgBuf *notes, const SgRule *r, bool has_time, double t, const char *computer, size_t nc,
                  const char *channel, size_t nch, const char *eventid, size_t nid, const char *source,
                  const char *details, size_t nd) {
  sg_buf_catn(notes, (const char *)&r, sizeof r);
  char has = has_time;
  sg_buf_catn(notes, &has, 1);
  sg_buf_catn(notes, (const char *)&t, sizeof t);
  const char *f[] = {computer, channel, eventid, source, details};
  size_t n[] = {nc, nch, nid, source ? strlen(source) : 0, nd};
  for (int i = 0; i < 5; i++) {
    /* a NUL inside a value ends it: the page shows text */
    size_t k = f[i] ? strnlen(f[i], n[i]) : 0;
    sg_buf_catn(notes, f[i] ? f[i] : "", k);
    sg_buf_catc(notes, '\0');
  }
}

void sg_html_add(SgHtml *h, const char *notes, size_t len) {
  for (const char *p = notes, *end = notes + len; p < end;) {
    Match *m = SG_PUSH_HEAP(h->m, h->n, h->cap);
    if (!m) {
      h->text.oom = true;
      return;
    }
    memcpy(&m->rule, p, sizeof m->rule);
    p += sizeof m->rule;
    m->has_time = *p++;
    memcpy(&m->time, p, sizeof m->time);
    p += sizeof m->time;
    m->text = h->text.len;
    const char *start = p;
    for (int i = 0; i < 5; i++)
      p += strlen(p) + 1;
    sg_buf_catn(&h->text, start, (size_t)(p - start));
  }
}

static const char *field(const SgHtml *h, const Match *m, int k) {
  const char *p = h->text.data + m->text;
  for (int i = 0; i < k; i++)
    p += strlen(p) + 1;
  return p;
}

typedef struct Count {
  const void *key; /* a rule, or a computer's text */
  size_t n;
} Count;

static int cmp_count(const void *a, const void *b) {
  const Count *x = a, *y = b;
  return x->n != y->n ? (x->n < y->n ? 1 : -1) : 0;
}

static int cmp_match(const void *a, const void *b) {
  const Match *x = a, *y = b;
  if (x->has_time != y->has_time) return x->has_time ? -1 : 1;
  if (x->has_time && x->time != y->time) return x->time < y->time ? -1 : 1;
  return x->text < y->text ? -1 : x->text > y->text;
}

/* The rules matched, in order of first appearance: their index in `rules`. */
static size_t rule_index(const SgRule **rules, size_t *n, const SgRule *r) {
  for (size_t i = 0; i < *n; i++)
    if (rules[i] == r) return i;
  rules[*n] = r;
  return (*n)++;
}

static const char *const levels[] = {"critical", "high", "medium", "low", "informational", NULL};

void sg_html_page(SgHtml *h, const SgEvReport *o, SgBuf *out, size_t events, size_t files) {
  qsort(h->m, h->n, sizeof *h->m, cmp_match); /* stable: text offsets are in input order */
  const SgRule **rules = calloc(h->n + 1, sizeof *rules);
  Count *rc = calloc(h->n + 1, sizeof *rc), *cc = calloc(h->n + 1, sizeof *cc);
  if (!rules || !rc || !cc) {
    out->oom = true;
    free(rules), free(rc), free(cc);
    return;
  }
  size_t nr = 0, ncomp = 0, per_level[6] = {0};
  for (size_t i = 0; i < h->n; i++) {
    size_t ri = rule_index(rules, &nr, h->m[i].rule);
    rc[ri].key = h->m[i].rule;
    rc[ri].n++;
    const char *c = field(h, &h->m[i], 0);
    size_t k = 0;
    while (k < ncomp && strcmp(cc[k].key, c))
      k++;
    if (k == ncomp) cc[ncomp++].key = c;
    cc[k].n++;
    int lv = sg_level_rank(h->m[i].rule->level);
    per_level[lv ? 5 - lv : 5]++;
  }
  Count *rs = malloc((nr + 1) * sizeof *rs);
  if (rs) memcpy(rs, rc, nr * sizeof *rs);
  if (rs) qsort(rs, nr, sizeof *rs, cmp_count);
  qsort(cc, ncomp, sizeof *cc, cmp_count);
  sg_buf_cat(
      out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>sigmacc eval report</title>\n<style>\n"
           "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#111;background:#fff}\n"
           "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .5em;"
           "text-align:left;vertical-align:top}th{background:#eee}\n"
           "td.d{font-family:monospace;white-space:pre-wrap;word-break:break-all;max-width:60em}\n"
           ".critical{color:#fff;background:#8b0000}.high{color:#fff;background:#c62828}"
           ".medium{background:#f9a825}.low{background:#9ccc65}.informational{background:#e0e0e0}\n"
           "svg rect{fill:#1565c0}svg text{font-size:10px;fill:#333}\n"
           "@media (prefers-color-scheme: dark){body{color:#eee;background:#121212}th{background:#333}"
           "td,th{border-color:#555}svg text{fill:#ccc}}\n"
           "</style>\n</head>\n<body>\n<h1>sigmacc eval report</h1>\n");
  sg_buf_catf(out, "<p>%zu event%s read from %zu file%s; %zu match%s of %zu rule%s.</p>\n", events,
              events == 1 ? "" : "s", files, files == 1 ? "" : "s", h->n, h->n == 1 ? "" : "es", nr,
              nr == 1 ? "" : "s");
  sg_buf_cat(out, "<table><tr><th>level</th><th>matches</th></tr>\n");
  for (int l = 0; l < 6; l++)
    if (per_level[l])
      sg_buf_catf(out, "<tr><td class=\"%s\">%s</td><td>%zu</td></tr>\n", levels[l] ? levels[l] : "",
                  levels[l] ? levels[l] : "no level", per_level[l]);
  sg_buf_cat(out, "</table>\n");
  /* the chart: matches per day (per hour within two days), bars in an inline SVG */
  size_t timed = 0;
  double t0 = 0, t1 = 0;
  for (size_t i = 0; i < h->n; i++)
    if (h->m[i].has_time) {
      if (!timed || h->m[i].time < t0) t0 = h->m[i].time;
      if (!timed || h->m[i].time > t1) t1 = h->m[i].time;
      timed++;
    }
  if (timed) {
    double step = t1 - t0 < 2 * 86400.0 ? 3600.0 : 86400.0;
    double base = (double)(long long)(t0 / step) * step;
    size_t nb = (size_t)((t1 - base) / step) + 1;
    if (nb > 400) step *= (double)(nb / 400 + 1), nb = (size_t)((t1 - base) / step) + 1;
    size_t *bars = calloc(nb, sizeof *bars), top = 1;
    if (bars) {
      for (size_t i = 0; i < h->n; i++)
        if (h->m[i].has_time) {
          size_t k = (size_t)((h->m[i].time - base) / step);
          if (++bars[k < nb ? k : nb - 1] > top) top = bars[k < nb ? k : nb - 1];
        }
      sg_buf_catf(out, "<h2>Matches over time</h2>\n<p>Each bar: %s from ",
                  step == 3600.0 ? "an hour" : "a period");
      sg_report_time(o, out, base);
      sg_buf_catf(out, " (%zu bar%s; most in one: %zu).</p>\n", nb, nb == 1 ? "" : "s", top);
      size_t slot = nb * 6 < 600 ? 600 / nb : 6, w = nb * slot + 10; /* at least 600 px wide */
      sg_buf_catf(out, "<svg width=\"%zu\" height=\"130\" role=\"img\" aria-label=\"matches over time\">\n",
                  w);
      for (size_t k = 0; k < nb; k++)
        if (bars[k]) {
          size_t hgt = bars[k] * 100 / top + 1;
          sg_buf_catf(out,
                      "<rect x=\"%zu\" y=\"%zu\" width=\"%zu\" height=\"%zu\"><title>%zu</title></rect>\n",
                      5 + k * slot, 110 - hgt, slot - 1, hgt, bars[k]);
        }
      sg_buf_cat(out, "<text x=\"5\" y=\"125\">");
      sg_report_time(o, out, base);
      sg_buf_cat(out, "</text></svg>\n");
      free(bars);
    }
  }
  sg_buf_cat(out, "<h2>Top rules</h2>\n<table><tr><th>matches</th><th>level</th><th>rule</th></tr>\n");
  for (size_t i = 0; rs && i < nr && i < 50; i++) {
    const SgRule *r = rs[i].key;
    size_t ri = rule_index(rules, &nr, r);
    sg_buf_catf(out, "<tr><td>%zu</td><td class=\"%s\">", rs[i].n, sg_level_rank(r->level) ? r->level : "");
    sg_xml_cstr(out, r->level);
    sg_buf_catf(out, "</td><td><a href=\"#rule-%zu\">", ri);
    sg_xml_cstr(out, r->title);
    sg_buf_cat(out, "</a></td></tr>\n");
  }
  sg_buf_cat(out, "</table>\n<h2>Top computers</h2>\n<table><tr><th>matches</th><th>computer</th></tr>\n");
  for (size_t i = 0; i < ncomp && i < 50; i++) {
    sg_buf_catf(out, "<tr><td>%zu</td><td>", cc[i].n);
    sg_xml_cstr(out, *(const char *)cc[i].key ? cc[i].key : "-");
    sg_buf_cat(out, "</td></tr>\n");
  }
  sg_buf_cat(out, "</table>\n");
  for (int l = 0; l < 6; l++) {
    if (!per_level[l]) continue;
    sg_buf_catf(out, "<h2 id=\"level-%s\">Timeline: %s (%zu)</h2>\n", levels[l] ? levels[l] : "none",
                levels[l] ? levels[l] : "no level", per_level[l]);
    sg_buf_cat(out, "<table><tr><th>time</th><th>computer</th><th>channel</th><th>event id</th><th>rule</th>"
                    "<th>source</th><th>details</th></tr>\n");
    for (size_t i = 0; i < h->n; i++) {
      const Match *m = &h->m[i];
      int lv = sg_level_rank(m->rule->level);
      if ((lv ? 5 - lv : 5) != l) continue;
      sg_buf_cat(out, "<tr><td>");
      if (m->has_time) sg_report_time(o, out, m->time);
      for (int k = 0; k < 3; k++) {
        sg_buf_cat(out, "</td><td>");
        sg_xml_cstr(out, field(h, m, k));
      }
      sg_buf_catf(out, "</td><td><a href=\"#rule-%zu\">", rule_index(rules, &nr, m->rule));
      sg_xml_cstr(out, m->rule->title);
      sg_buf_cat(out, "</a></td><td>");
      sg_xml_cstr(out, field(h, m, 3));
      sg_buf_cat(out, "</td><td class=\"d\">");
      sg_xml_cstr(out, field(h, m, 4));
      sg_buf_cat(out, "</td></tr>\n");
    }
    sg_buf_cat(out, "</table>\n");
  }
  sg_buf_cat(out, "<h2>Rules</h2>\n");
  for (size_t i = 0; i < nr; i++) {
    const SgRule *r = rules[i];
    sg_buf_catf(out, "<h3 id=\"rule-%zu\">", i);
    sg_xml_cstr(out, r->title);
    sg_buf_catf(out, "</h3>\n<table><tr><th>matches</th><td>%zu</td></tr>\n<tr><th>level</th><td>", rc[i].n);
    sg_xml_cstr(out, r->level);
    const char *const keys[] = {"id", "status", "author", "description"};
    const char *const vals[] = {r->id, r->status, r->author, r->description};
    for (int k = 0; k < 4; k++) {
      if (!vals[k]) continue;
      sg_buf_catf(out, "</td></tr>\n<tr><th>%s</th><td>", keys[k]);
      sg_xml_cstr(out, vals[k]);
    }
    const SgStrList *lists[] = {&r->tags, &r->falsepositives, &r->references};
    const char *const lnames[] = {"tags", "false positives", "references"};
    for (int k = 0; k < 3; k++) {
      if (!lists[k]->n) continue;
      sg_buf_catf(out, "</td></tr>\n<tr><th>%s</th><td>", lnames[k]);
      for (size_t j = 0; j < lists[k]->n; j++) {
        if (j) sg_buf_cat(out, "<br>");
        sg_xml_cstr(out, lists[k]->v[j]);
      }
    }
    sg_buf_cat(out, "</td></tr>\n<tr><th>file</th><td>");
    sg_xml_cstr(out, r->loc.path);
    sg_buf_cat(out, "</td></tr></table>\n");
  }
  sg_buf_cat(out, "</body>\n</html>\n");
  if (h->text.oom) out->oom = true;
  free(rules), free(rc), free(cc), free(rs);
}
