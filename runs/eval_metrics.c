/* eval_metrics.c - `sigmacc metrics`: what a pile of event logs holds, before
 * any rule: the events, their first and last time, and counts by channel, by
 * channel and event id, by computer and by provider (as Hayabusa's and
 * Chainsaw's metrics show); `sigmacc logons`: successful and failed logons
 * (Security 4624 and 4625) counted by user, computer, logon type, source
 * workstation and address (Hayabusa's logon-summary). Workers note each
 * event's keys in their block; the calling thread counts them in input
 * order, so every -j gives the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/evaluator.h"
#include "runs.h"

enum { M_CHANNEL, M_EVENTID, M_COMPUTER, M_PROVIDER, M_LOGON_OK, M_LOGON_FAILED, M_KINDS };

#define LOGON_FIELDS 6 /* user, domain, computer, logon type, source workstation, source address */
static const char *const logon_field[LOGON_FIELDS] = {"TargetUserName", "TargetDomainName", "Computer",
                                                      "LogonType",      "WorkstationName",  "IpAddress"};

struct SgMetrics {
  Intern names[M_KINDS];
  size_t *count[M_KINDS], cap[M_KINDS];
  size_t events, timed;
  double first, last;
  bool oom;
};

SgMetrics *sg_metrics_new(void) { return calloc(1, sizeof(SgMetrics)); }

void sg_metrics_free(SgMetrics *m) {
  if (!m) return;
  for (int k = 0; k < M_KINDS; k++) {
    sg_ev_intern_free(&m->names[k]);
    free(m->count[k]);
  }
  free(m);
}

static void put_leaf(SgBuf *keys, const SgJDoc *doc, const char *name) {
  const SgJLeaf *l = sg_jdoc_find(doc, name, strlen(name));
  if (l && l->type != SG_J_NULL) sg_buf_catn(keys, doc->text + l->val, l->vallen);
  sg_buf_catc(keys, '\0');
}

static void count(SgMetrics *m, int k, const char *s, size_t n);

static bool leaf_is(const SgJDoc *doc, const char *name, const char *want) {
  const SgJLeaf *l = sg_jdoc_find(doc, name, strlen(name));
  return l && l->vallen == strlen(want) && !memcmp(doc->text + l->val, want, l->vallen);
}

void sg_logons_note(SgBuf *keys, const SgJDoc *doc) {
  bool ok = leaf_is(doc, "EventID", "4624"), failed = leaf_is(doc, "EventID", "4625");
  if ((!ok && !failed) || !leaf_is(doc, "Channel", "Security")) return;
  sg_buf_catc(keys, ok ? 'S' : 'F');
  for (int i = 0; i < LOGON_FIELDS; i++) {
    const SgJLeaf *l = sg_jdoc_find(doc, logon_field[i], strlen(logon_field[i]));
    if (l && l->type != SG_J_NULL) sg_buf_catn(keys, doc->text + l->val, l->vallen);
    sg_buf_catc(keys, i + 1 < LOGON_FIELDS ? '\x1f' : '\0');
  }
}

void sg_logons_add(SgMetrics *m, const char *keys, size_t len) {
  for (const char *p = keys, *end = keys + len; p < end;) {
    size_t n = strlen(p);
    count(m, *p == 'S' ? M_LOGON_OK : M_LOGON_FAILED, p + 1, n - 1);
    m->events++;
    p += n + 1;
  }
}

void sg_metrics_note(SgBuf *keys, const SgJDoc *doc) {
  put_leaf(keys, doc, "Channel");
  put_leaf(keys, doc, "EventID");
  put_leaf(keys, doc, "Computer");
  const SgJLeaf *p = sg_jdoc_find(doc, "Provider_Name", 13);
  if (p && p->type != SG_J_NULL) sg_buf_catn(keys, doc->text + p->val, p->vallen);
  sg_buf_catc(keys, '\0');
  double t = 0;
  char has = sg_event_time(doc, &t);
  sg_buf_catn(keys, &has, 1);
  sg_buf_catn(keys, (const char *)&t, sizeof t);
}

static void count(SgMetrics *m, int k, const char *s, size_t n) {
  uint32_t id = sg_ev_intern_add(&m->names[k], s, n);
  if (id == UINT32_MAX) {
    m->oom = true;
    return;
  }
  if (id >= m->cap[k]) {
    size_t cap = m->cap[k] ? m->cap[k] * 2 : 64;
    while (cap <= id)
      cap *= 2;
    size_t *v = realloc(m->count[k], cap * sizeof *v);
    if (!v) {
      m->oom = true;
      return;
    }
    memset(v + m->cap[k], 0, (cap - m->cap[k]) * sizeof *v);
    m->count[k] = v;
    m->cap[k] = cap;
  }
  m->count[k][id]++;
}

void sg_metrics_add(SgMetrics *m, const char *keys, size_t len) {
  for (const char *p = keys, *end = keys + len; p < end;) {
    const char *f[4];
    size_t n[4];
    for (int k = 0; k < 4; k++) {
      f[k] = p;
      n[k] = strlen(p);
      p += n[k] + 1;
    }
    char has = *p++;
    double t;
    memcpy(&t, p, sizeof t);
    p += sizeof t;
    m->events++;
    count(m, M_CHANNEL, f[0], n[0]);
    char key[512];
    int kn = snprintf(key, sizeof key, "%.*s\x1f%.*s", (int)(n[0] < 400 ? n[0] : 400), f[0],
                      (int)(n[1] < 100 ? n[1] : 100), f[1]);
    count(m, M_EVENTID, key, (size_t)kn);
    count(m, M_COMPUTER, f[2], n[2]);
    count(m, M_PROVIDER, f[3], n[3]);
    if (has) {
      if (!m->timed || t < m->first) m->first = t;
      if (!m->timed || t > m->last) m->last = t;
      m->timed++;
    }
  }
}

typedef struct Row {
  size_t n, id;
  const char *s;
  size_t len;
} Row;

static int cmp_row(const void *a, const void *b) {
  const Row *x = a, *y = b;
  if (x->n != y->n) return x->n < y->n ? 1 : -1;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->s, y->s, n);
  return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* The counts of kind k, most first (NULL: out of memory, said in out). */
static Row *sorted_rows(const SgMetrics *m, int k, SgBuf *out) {
  size_t n = m->names[k].n;
  Row *rows = calloc(n + 1, sizeof *rows);
  if (!rows) {
    out->oom = true;
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    rows[i] = (Row){m->count[k][i], i, m->names[k].names[i], m->names[k].lens[i]};
  qsort(rows, n, sizeof *rows, cmp_row);
  return rows;
}

static void section(const SgMetrics *m, int k, const SgEvReport *o, SgBuf *out) {
  static const char *const json_name[] = {"channels", "event_ids", "computers", "providers"};
  static const char *const head[] = {"channel", "channel / event id", "computer", "provider"};
  size_t n = m->names[k].n;
  Row *rows = sorted_rows(m, k, out);
  if (!rows) return;
  if (o->summary_table)
    sg_buf_catf(out, "\n  events  %s\n", head[k]);
  else
    sg_buf_catf(out, ",\"%s\":[", json_name[k]);
  for (size_t i = 0; i < n; i++) {
    const char *s = rows[i].s, *sep = k == M_EVENTID ? memchr(s, '\x1f', rows[i].len) : NULL;
    size_t len = sep ? (size_t)(sep - s) : rows[i].len;
    if (o->summary_table) {
      sg_buf_catf(out, "%8zu  ", rows[i].n);
      sg_term_str(out, len ? s : "-", len ? len : 1);
      if (sep) {
        sg_buf_cat(out, " / ");
        sg_term_str(out, sep + 1, rows[i].len - len - 1);
      }
      sg_buf_catc(out, '\n');
      continue;
    }
    sg_buf_cat(out, i ? ",{" : "{");
    sg_buf_cat(out, k == M_EVENTID ? "\"channel\":" : "\"name\":");
    sg_json_str(out, s, len);
    if (sep) {
      sg_buf_cat(out, ",\"event_id\":");
      sg_json_str(out, sep + 1, rows[i].len - len - 1);
    }
    sg_buf_catf(out, ",\"events\":%zu}", rows[i].n);
  }
  if (!o->summary_table) sg_buf_catc(out, ']');
  free(rows);
}

/* A logon table: count, then the fields (a key's parts split at \x1f). */
static void logon_section(const SgMetrics *m, int k, const SgEvReport *o, SgBuf *out) {
  size_t n = m->names[k].n;
  Row *rows = sorted_rows(m, k, out);
  if (!rows) return;
  if (o->summary_table)
    sg_buf_catf(out,
                "\n%s logons\n  logons  user / domain / computer / logon type / source workstation / source "
                "address\n",
                k == M_LOGON_OK ? "successful" : "failed");
  else
    sg_buf_cat(out, k == M_LOGON_OK ? ",\"successful\":[" : ",\"failed\":[");
  for (size_t i = 0; i < n; i++) {
    const char *p = rows[i].s, *end = p + rows[i].len;
    if (o->summary_table)
      sg_buf_catf(out, "%8zu  ", rows[i].n);
    else
      sg_buf_cat(out, i ? ",{" : "{");
    for (int f = 0; f < LOGON_FIELDS; f++) {
      const char *sep = memchr(p, '\x1f', (size_t)(end - p));
      size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
      if (o->summary_table) {
        if (f) sg_buf_cat(out, " / ");
        sg_term_str(out, len ? p : "-", len ? len : 1);
      } else {
        sg_json_str(out, logon_field[f], strlen(logon_field[f]));
        sg_buf_catc(out, ':');
        sg_json_str(out, p, len);
        sg_buf_catc(out, ',');
      }
      p = sep ? sep + 1 : end;
    }
    if (o->summary_table)
      sg_buf_catc(out, '\n');
    else
      sg_buf_catf(out, "\"logons\":%zu}", rows[i].n);
  }
  if (!o->summary_table) sg_buf_catc(out, ']');
  free(rows);
}

void sg_logons_print(const SgMetrics *m, const SgEvReport *o, SgBuf *out) {
  if (o->summary_table)
    sg_buf_catf(out, "%zu logon events (Security 4624, 4625)\n", m->events);
  else
    sg_buf_catf(out, "{\"logons\":%zu", m->events);
  logon_section(m, M_LOGON_OK, o, out);
  logon_section(m, M_LOGON_FAILED, o, out);
  if (!o->summary_table) sg_buf_cat(out, "}\n");
  if (m->oom) out->oom = true;
}

void sg_metrics_print(const SgMetrics *m, const SgEvReport *o, SgBuf *out) {
  if (o->summary_table) {
    sg_buf_catf(out, "%zu events", m->events);
    if (m->timed) {
      sg_buf_cat(out, ", from ");
      sg_report_time(o, out, m->first);
      sg_buf_cat(out, " to ");
      sg_report_time(o, out, m->last);
    }
    if (m->timed < m->events) sg_buf_catf(out, " (%zu without a time)", m->events - m->timed);
    sg_buf_catc(out, '\n');
  } else {
    sg_buf_catf(out, "{\"events\":%zu,\"untimed\":%zu,\"first\":", m->events, m->events - m->timed);
    for (int i = 0; i < 2; i++) {
      if (m->timed) {
        sg_buf_catc(out, '"');
        sg_report_time(o, out, i ? m->last : m->first);
        sg_buf_catc(out, '"');
      } else {
        sg_buf_cat(out, "null");
      }
      if (!i) sg_buf_cat(out, ",\"last\":");
    }
  }
  for (int k = 0; k <= M_PROVIDER; k++)
    section(m, k, o, out);
  if (!o->summary_table) sg_buf_cat(out, "}\n");
  if (m->oom) out->oom = true;
}
