/* stream.c - the events of a run, matched on every core, written in input
 * order.
 *
 * The calling thread reads: it splits JSON input into documents (without
 * parsing them) and EVTX files into ranges of records, in blocks. Workers,
 * each with a fork of the evaluator, parse and match a block and write its
 * matches into the block's own buffers. The calling thread then takes the
 * blocks back in input order: it writes their output and diagnostics, feeds
 * their matches to the correlations (which see events in input order), and
 * counts. So the output is the same, byte for byte, whatever the number of
 * workers; with one job there are no threads at all.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/evtx_dom.h"
#include "runs.h"

#define BLOCK_DOCS 2048            /* JSON documents per block ... */
#define BLOCK_BYTES (4u << 20)     /* ... or this much text */
#define BLOCK_CHUNKS 32            /* EVTX chunks (64 KiB each) per block */
#define INFLIGHT_PER_WORKER 32     /* blocks read ahead per worker ... */
#define INFLIGHT_BYTES (32u << 20) /* ... and their input, per worker */
#define SPARE_TEXTS 8              /* block input buffers kept for the next blocks (not mapped again) */

typedef enum DocKind {
  DOC_JSON,     /* JSON text */
  DOC_CHUNK,    /* an EVTX chunk */
  DOC_FRAGMENT, /* EVTX bytes that are no chunk */
  DOC_NOTE,     /* what the EVTX reader found about the file: a note ... */
  DOC_DAMAGE    /* ... or damage (the text) */
} DocKind;

typedef struct Doc {
  size_t off, len, line; /* in Block.text; line: JSON's line, or the EVTX unit's offset in the file */
  const char *bad;       /* the reader skipped this document: why (no text) */
  DocKind kind;
} Doc;

typedef struct EvtxFile { /* one EVTX file, shared by its blocks (all on the calling thread) */
  size_t events, refs;    /* refs: its blocks not yet written */
  bool damaged, reading;
} EvtxFile;

static void file_drop(EvtxFile *f) {
  if (f && !f->refs && !f->reading) free(f);
}

typedef struct Rec { /* an event that matched a rule */
  size_t out_end;    /* the block's output up to here is of the events up to this one */
  size_t hit, nhits; /* into Block.hits */
  size_t line;
  size_t computer, ncomputer; /* into Block.strs; SIZE_MAX: none */
  SgJDoc doc;                 /* a copy, when there are correlations to feed */
  bool has_time;              /* the event's time, for a timeline sorted by it */
  double time;
  uint64_t digest;    /* --dedup: of the event's fields and values */
  size_t html, nhtml; /* --html: its notes in Block.html */
} Rec;

typedef struct Sorted { /* a match's output, kept to be written in time order */
  double time;
  bool has_time;
  size_t seq, off, len; /* input order; the text in SgEvStream.sorted_text */
} Sorted;

typedef struct Block Block;
struct Block {
  Block *qnext, *onext; /* the work queue; input order */
  char *name;           /* the input's path, as named and as printed (a suffix of it) */
  const char *shown;
  /* input */
  bool evtx;
  SgBuf text; /* JSON: the documents */
  Doc *docs;
  size_t ndocs, capdocs;
  EvtxFile *file; /* EVTX: the file of the chunks in `docs` */
  bool last_of_file, file_damaged;
  SgBuf tail; /* said after the block (the end of its input) */
  /* results */
  SgBuf out, err, strs;
  SgBuf metrics; /* `metrics`: the events' keys (sg_metrics_note) */
  SgBuf html;    /* --html: the matches' notes (sg_html_note) */
  Rec *recs;
  size_t nrecs, caprecs;
  SgEvalHit *hits;
  size_t nhits, caphits;
  SgEvCounts n;
  bool done;
};

typedef struct Worker {
  SgEvStream *s;
  SgEvaluator *ev;
  SgEventIn in;         /* its document parser */
  SgEvtxDec *dec;       /* EVTX: the chunks' reader, ... */
  SgJBuild *jb;         /* ... the record's document built, ... */
  SgBuf json;           /* ... and its JSON when it is written */
  pcre2_match_data *md; /* search */
  uint32_t *found;      /* search: the leaves that matched */
  size_t capfound;
  pthread_t thread;
} Worker;

struct SgEvStream {
  const SgEvReport *o;
  SgEvaluator *ev;
  SgCorrelator *co;
  const SgEvalSink *sink;
  bool progress;
  double last_progress, started;
  bool progress_line; /* the progress line is on the terminal: cleared before any other message */
  size_t files;
  SgEvCounts n;
  SgSummary *sum;
  Worker inline_w; /* -j 1: the calling thread matches */
  Worker *w;
  size_t nworkers;
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  Block *qhead, *qtail, *ohead, *otail;
  size_t inflight, inflight_bytes; /* blocks read and not yet written; their input */
  bool stop;
  SgEvtxSplit *split; /* EVTX files: the chunk stream (the calling thread's) */
  SgMetrics *metrics; /* o->metrics: the counts */
  SgHtml *html;       /* o->html: the report's matches */
  SgBuf spare[SPARE_TEXTS];
  size_t nspare;
  uint64_t *seen; /* --dedup: digests of the events shown (open addressing) */
  size_t nseen, capseen;
  Sorted *sorted; /* o->sort: the matches' output, written in time order at the end */
  size_t nsorted, capsorted;
  SgBuf sorted_text;
};

double sg_ev_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- matching one event (a worker) ---------------------------------------------------- */

static bool copy_doc(SgJDoc *dst, const SgJDoc *src) {
  *dst = (SgJDoc){0};
  dst->leaves = malloc((src->n + 1) * sizeof *dst->leaves);
  dst->text = malloc(src->tlen + 1);
  if (!dst->leaves || !dst->text) return false;
  memcpy(dst->leaves, src->leaves, src->n * sizeof *src->leaves);
  memcpy(dst->text, src->text, src->tlen);
  dst->n = dst->cap = src->n;
  dst->tlen = dst->tcap = src->tlen;
  return true;
}

/* FNV-1a over an event's leaves (path, type, value): the same event read twice
 * (one log in two files) has the same digest. */
static uint64_t digest(const SgJDoc *doc) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < doc->n; i++) {
    const SgJLeaf *l = &doc->leaves[i];
    const char *parts[2] = {doc->text + l->path, doc->text + l->val};
    size_t lens[2] = {l->pathlen, l->vallen};
    for (int k = 0; k < 2; k++) {
      for (size_t j = 0; j < lens[k]; j++)
        h = (h ^ (unsigned char)parts[k][j]) * 0x100000001b3ull;
      h = (h ^ (0x100u + (unsigned)l->type * 2 + (unsigned)k)) * 0x100000001b3ull;
    }
  }
  return h | 1; /* never 0: an empty slot */
}

/* The event's JSON text: an EVTX record gets its own only when it is written
 * (its document is built without it); NULL when memory ran out. */
static const char *event_text(Worker *w, const char *text, size_t *len) {
  if (text) return text;
  sg_buf_reset(&w->json);
  sg_xdom_json(sg_evtx_dec_event(w->dec), &w->json);
  *len = w->json.len;
  return w->json.oom ? NULL : sg_buf_cstr(&w->json);
}

/* `search`: the event's values the pattern matches (in the field asked for, if
 * any); the event is written when one does. */
static void search(Worker *w, Block *b, const SgJDoc *doc, const char *text, size_t len,
                   SgReportWhere *where) {
  const SgEvReport *o = w->s->o;
  if (!w->md && !(w->md = pcre2_match_data_create_from_pattern(o->search, NULL))) {
    b->n.unknown++;
    return;
  }
  if (doc->n > w->capfound) {
    uint32_t *v = realloc(w->found, doc->n * sizeof *v);
    if (!v) {
      b->n.unknown++;
      return;
    }
    w->found = v;
    w->capfound = doc->n;
  }
  size_t n = 0, fl = o->search_field ? strlen(o->search_field) : 0;
  for (size_t i = 0; i < doc->n; i++) {
    const SgJLeaf *l = &doc->leaves[i];
    if (l->type == SG_J_NULL) continue;
    if (o->search_field && !(l->namelen == fl && !memcmp(doc->text + l->name, o->search_field, fl)) &&
        !(l->pathlen == fl && !memcmp(doc->text + l->path, o->search_field, fl)))
      continue;
    int rc = pcre2_match(o->search, (PCRE2_SPTR)(doc->text + l->val), l->vallen, 0, 0, w->md, NULL);
    if (rc >= 0) w->found[n++] = (uint32_t)i;
    if (rc < PCRE2_ERROR_NOMATCH) b->n.unknown++; /* a limit: said at the end, never a silent no */
  }
  if (!n) return;
  if (!(text = event_text(w, text, &len))) {
    b->n.lost_output = true;
    return;
  }
  Rec *rec = SG_PUSH_HEAP(b->recs, b->nrecs, b->caprecs);
  if (!rec) {
    b->n.lost_output = true;
    return;
  }
  where->has_time = sg_event_time(doc, &where->time);
  *rec = (Rec){.line = where->line, .computer = SIZE_MAX, .has_time = where->has_time, .time = where->time};
  sg_report_found(o, &b->out, doc, w->found, n, text, len, where);
  rec->out_end = b->out.len;
  b->n.matches++;
}

/* One event: doc, and its text[0..len) (NULL: an EVTX record, see event_text). */
static void event(Worker *w, Block *b, const SgJDoc *doc, const char *text, size_t len, size_t line) {
  const SgEvReport *o = w->s->o;
  const char *sep = b->evtx ? ": record " : ":";
  SgReportWhere where = {b->shown, b->evtx ? "record" : "line", line, false, 0};
  b->n.events++;
  if (o->from_set || o->to_set) {
    where.has_time = sg_event_time(doc, &where.time);
    if (!where.has_time) {
      b->n.untimed++;
      return;
    }
    double t = where.time;
    if ((o->from_set && t < o->from) || (o->to_set && (o->to_excl ? t >= o->to : t > o->to))) {
      b->n.outside++;
      return;
    }
  }
  if (o->search) {
    search(w, b, doc, text, len, &where);
    return;
  }
  if (o->metrics || o->logons) {
    (o->logons ? sg_logons_note : sg_metrics_note)(&b->metrics, doc);
    return;
  }
  if (o->dump) {
    if (!(text = event_text(w, text, &len))) b->n.lost_output = true;
    sg_buf_catn(&b->out, text ? text : "", text ? len : 0);
    sg_buf_catc(&b->out, '\n');
    return;
  }
  const SgEvalHit *hits, *und;
  size_t nh;
  if (sg_eval_event(w->ev, doc, &hits, &nh) != SG_OK) {
    sg_buf_catf(&b->err, "%s%s%zu: error[E090]: out of memory matching this event; its matches are unknown\n",
                b->name, sep, line);
    b->n.unknown++;
    return;
  }
  size_t nu = sg_eval_undecided(w->ev, &und);
  for (size_t u = 0; u < nu; u++) {
    char why[128];
    sg_eval_error_text(und[u].error, why, sizeof why);
    const SgRule *r = und[u].rule;
    sg_buf_catf(
        &b->err,
        "%s%s%zu: error: rule '%s' (%s:%u), condition %zu: a regular expression could not be decided (%s); "
        "the rule's result for this event is unknown\n",
        b->name, sep, line, r->title ? r->title : "?", r->loc.path ? r->loc.path : "?", r->loc.line,
        und[u].cond, why);
  }
  b->n.unknown += nu;
  b->n.unsourced += !sg_eval_logsource_known(w->ev);
  if (!nh) return;
  if (!o->from_set && !o->to_set) where.has_time = sg_event_time(doc, &where.time);
  Rec *rec = SG_PUSH_HEAP(b->recs, b->nrecs, b->caprecs);
  size_t need = b->nhits + nh;
  if (rec && need > b->caphits) {
    size_t cap = b->caphits ? b->caphits * 2 : 64;
    while (cap < need)
      cap *= 2;
    SgEvalHit *v = realloc(b->hits, cap * sizeof *v);
    if (v) b->hits = v, b->caphits = cap;
  }
  if (!rec || need > b->caphits) {
    if (rec) b->nrecs--;
    sg_buf_catf(&b->err,
                "%s%s%zu: error[E090]: out of memory keeping this event's matches; they are unknown\n",
                b->name, sep, line);
    b->n.unknown++;
    return;
  }
  *rec = (Rec){.hit = b->nhits,
               .nhits = nh,
               .line = line,
               .computer = SIZE_MAX,
               .has_time = where.has_time,
               .time = where.time,
               .digest = o->dedup ? digest(doc) : 0};
  memcpy(b->hits + b->nhits, hits, nh * sizeof *hits);
  b->nhits += nh;
  const SgJLeaf *c = sg_jdoc_find(doc, "Computer", 8);
  if (c && c->type == SG_J_STR) {
    rec->computer = b->strs.len;
    rec->ncomputer = c->vallen;
    sg_buf_catn(&b->strs, doc->text + c->val, c->vallen);
  }
  if (sg_corr_count(w->s->co) && !copy_doc(&rec->doc, doc)) {
    sg_buf_catf(
        &b->err,
        "%s%s%zu: error[E090]: out of memory keeping this event for the correlations; they may miss it\n",
        b->name, sep, line);
    b->n.unknown++;
    sg_jdoc_free(&rec->doc);
  }
  rec->html = b->html.len;
  for (size_t h = 0; h < nh && o->html; h++)
    if (!sg_corr_hides(w->s->co, hits[h].rule) && sg_report_shows(o, hits[h].rule)) {
      SgBuf d = {0}, src = {0};
      sg_report_details(o, &d, doc);
      sg_buf_catf(&src, "%s:%zu", b->shown, line);
      const SgJLeaf *ch = sg_jdoc_find(doc, "Channel", 7), *id = sg_jdoc_find(doc, "EventID", 7);
      sg_html_note(&b->html, hits[h].rule, where.has_time, where.time,
                   rec->computer == SIZE_MAX ? NULL : b->strs.data + rec->computer, rec->ncomputer,
                   ch && ch->type != SG_J_NULL ? doc->text + ch->val : NULL, ch ? ch->vallen : 0,
                   id && id->type != SG_J_NULL ? doc->text + id->val : NULL, id ? id->vallen : 0,
                   sg_buf_cstr(&src), d.data, d.len);
      if (d.oom || src.oom) b->n.lost_output = true;
      sg_buf_free(&d);
      sg_buf_free(&src);
    }
  rec->nhtml = b->html.len - rec->html;
  for (size_t h = 0; h < nh && !o->summary; h++)
    if (!sg_corr_hides(w->s->co, hits[h].rule) && sg_report_shows(o, hits[h].rule)) {
      if (!(text = event_text(w, text, &len))) {
        b->n.lost_output = true;
        break;
      }
      sg_report_match(o, &b->out, hits[h].rule, hits[h].cond, doc, text, len, &where);
    }
  rec->out_end = b->out.len;
}

static void match_json(Worker *w, Block *b) {
  for (size_t i = 0; i < b->ndocs; i++) {
    const Doc *d = &b->docs[i];
    if (d->bad) {
      sg_buf_catf(&b->err, "%s:%zu: error: %s; skipped\n", b->name, d->line, d->bad);
      b->n.skipped++;
      continue;
    }
    sg_events_set(&w->in, b->text.data + d->off, d->len, d->line);
    const char *text, *msg;
    size_t len, line;
    SgEvNext k;
    while ((k = sg_events_parse(&w->in, &text, &len, &line, &msg)) != SG_EV_END) {
      if (k == SG_EV_EVENT) {
        event(w, b, &w->in.doc, text, len, line);
      } else if (k == SG_EV_SKIP) {
        sg_buf_catf(&b->err, "%s:%zu: error: %s; skipped\n", b->name, line, msg);
        b->n.skipped++;
      } else {
        sg_buf_catf(&b->err, "%s:%zu: error[E090]: %s; its matches are unknown\n", b->name, line, msg);
        b->n.unknown++;
      }
    }
  }
}

static void match_evtx(Worker *w, Block *b) {
  char msg[640];
  if (!w->jb) w->jb = sg_jbuild_new();
  if (!w->dec) w->dec = sg_evtx_dec_new();
  if (!w->dec || !w->jb) {
    sg_buf_catf(
        &b->err,
        "%s: error[E090]: out of memory reading the EVTX file; the matches of %zu chunks are unknown\n",
        b->name, b->ndocs);
    b->n.unknown++;
    return;
  }
  for (size_t i = 0; i < b->ndocs; i++) {
    const Doc *d = &b->docs[i];
    if (d->kind == DOC_NOTE || d->kind == DOC_DAMAGE) {
      sg_buf_catf(&b->err, "%s: %s: %.*s\n", b->name, d->kind == DOC_NOTE ? "note" : "error", (int)d->len,
                  b->text.data + d->off);
      b->file_damaged = b->file_damaged || d->kind == DOC_DAMAGE;
      continue;
    }
    sg_evtx_dec_start(w->dec, (const uint8_t *)b->text.data + d->off, d->len, d->line, d->kind == DOC_CHUNK);
    for (;;) {
      uint64_t id;
      SgEvtxNext k = sg_evtx_dec_next(w->dec, &id, msg, sizeof msg);
      if (k == SG_EVTX_DONE) break;
      size_t record = (size_t)id;
      if (k == SG_EVTX_DAMAGED) {
        sg_buf_catf(&b->err, "%s: error: %s\n", b->name, msg);
        b->file_damaged = true;
        continue;
      }
      if (k == SG_EVTX_RECOVERED) {
        sg_buf_catf(&b->err, "%s: record %zu: warning: %s\n", b->name, record, msg);
        b->file_damaged = true;
      }
      if (k == SG_EVTX_RECORD || k == SG_EVTX_RECOVERED) {
        if (sg_xdom_doc(sg_evtx_dec_event(w->dec), w->jb, &w->in.doc)) {
          event(w, b, &w->in.doc, NULL, 0, record);
          continue;
        }
        k = SG_EVTX_NOMEM;
        snprintf(msg, sizeof msg, "out of memory reading this record");
      }
      if (k == SG_EVTX_SKIP) {
        sg_buf_catf(&b->err, "%s: record %zu: error: %s; skipped\n", b->name, record, msg);
        b->n.skipped++;
        b->file_damaged = true;
      } else {
        sg_buf_catf(&b->err, "%s: record %zu: error[E090]: %s; its matches are unknown\n", b->name, record,
                    msg);
        b->n.unknown++;
      }
    }
  }
}

static void match_block(Worker *w, Block *b) {
  if (b->evtx)
    match_evtx(w, b);
  else
    match_json(w, b);
  if (b->out.oom || b->err.oom || b->strs.oom) b->n.unknown++, b->n.lost_output = true;
}

static void *worker_main(void *arg) {
  Worker *w = arg;
  SgEvStream *s = w->s;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->qhead && !s->stop)
      pthread_cond_wait(&s->work, &s->mu);
    if (!s->qhead) break;
    Block *b = s->qhead;
    s->qhead = b->qnext;
    if (!s->qhead) s->qtail = NULL;
    pthread_mutex_unlock(&s->mu);
    match_block(w, b);
    pthread_mutex_lock(&s->mu);
    b->done = true;
    pthread_cond_broadcast(&s->done);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* ---- writing a block (the calling thread, in input order) ----------------------------- */

/* A block's input buffer back to the stream's spares (or freed). */
static void text_done(SgEvStream *s, SgBuf *t) {
  if (s && s->nspare < SPARE_TEXTS && t->data) {
    sg_buf_reset(t);
    s->spare[s->nspare++] = *t;
  } else {
    sg_buf_free(t);
  }
  *t = (SgBuf){0};
}

static void block_free(SgEvStream *s, Block *b) {
  free(b->name);
  text_done(s, &b->text);
  free(b->docs);
  sg_buf_free(&b->tail);
  sg_buf_free(&b->out);
  sg_buf_free(&b->err);
  sg_buf_free(&b->strs);
  sg_buf_free(&b->metrics);
  sg_buf_free(&b->html);
  for (size_t i = 0; i < b->nrecs; i++)
    sg_jdoc_free(&b->recs[i].doc);
  free(b->recs);
  free(b->hits);
  free(b);
}

/* b[from..to) to a sink function (nothing when empty: b may hold no data). */
static void write_part(void (*fn)(void *, const char *, size_t), void *ctx, const SgBuf *b, size_t from,
                       size_t to) {
  if (to > from) fn(ctx, b->data + from, to - from);
}

static void write_buf(void (*fn)(void *, const char *, size_t), void *ctx, const SgBuf *b) {
  write_part(fn, ctx, b, 0, b->len);
}

/* Diagnostics to the error sink, never onto the progress line. */
static void say_err(SgEvStream *s, const SgBuf *b) {
  if (!b->len) return;
  if (s->progress_line) {
    s->sink->err(s->sink->ctx, "\r\x1b[K", 4);
    s->progress_line = false;
  }
  s->sink->err(s->sink->ctx, b->data, b->len);
}

/* A match's output: written now, or kept for the time order. */
static void out_match(SgEvStream *s, const char *text, size_t len, bool has_time, double t) {
  if (!len) return;
  if (!s->o->sort) {
    s->sink->out(s->sink->ctx, text, len);
    return;
  }
  Sorted *e = SG_PUSH_HEAP(s->sorted, s->nsorted, s->capsorted);
  if (!e) {
    s->n.lost_output = true;
    return;
  }
  *e = (Sorted){t, has_time, s->nsorted, s->sorted_text.len, len};
  sg_buf_catn(&s->sorted_text, text, len);
  if (s->sorted_text.oom) { /* not kept: said at the end (lost_output) */
    s->nsorted--;
    s->n.lost_output = true;
  }
}

/* Correlation hits, found at `where` (the event that completed them; none at the end of the input). */
static void report_corr(SgEvStream *s, const SgCorrHit *ch, size_t nc, const SgReportWhere *where,
                        SgEvCounts *n, SgBuf *corr) {
  const SgEvReport *o = s->o;
  for (size_t h = 0; h < nc; h++) {
    if (sg_corr_hides(s->co, ch[h].rule) || !sg_report_shows(o, ch[h].rule))
      continue; /* a chain's inner one */
    n->matches++;
    if ((o->summary || o->summary_after) && !sg_summary_add(s->sum, ch[h].rule, NULL, 0))
      n->lost_output = true;
    if (s->html) { /* on the page too: a row of its own, its source where it was decided */
      SgBuf d = {0}, notes = {0};
      char src[512] = "the end of the input";
      if (where->shown) snprintf(src, sizeof src, "%s:%zu", where->shown, where->line);
      sg_report_corr_details(o, &d, &ch[h]);
      sg_html_note(&notes, ch[h].rule, true, ch[h].last, NULL, 0, NULL, 0, NULL, 0, src, d.data ? d.data : "",
                   d.len);
      sg_html_add(s->html, notes.data ? notes.data : "", notes.len);
      if (d.oom || notes.oom) n->lost_output = true;
      sg_buf_free(&d);
      sg_buf_free(&notes);
    }
    if (o->summary) continue;
    sg_report_correlation(o, corr, &ch[h], where);
    if (corr->oom) n->lost_output = true;
    out_match(s, corr->data, corr->len, true, where->has_time ? where->time : ch[h].last);
    sg_buf_reset(corr);
  }
}

/* Events with a time first, by it; then those without; input order within. */
static int cmp_sorted(const void *a, const void *b) {
  const Sorted *x = a, *y = b;
  if (x->has_time != y->has_time) return x->has_time ? -1 : 1;
  if (x->has_time && x->time != y->time) return x->time < y->time ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* --dedup: whether an event with this digest was shown before (it is now). */
static bool seen_before(SgEvStream *s, uint64_t d) {
  if (2 * (s->nseen + 1) > s->capseen) {
    size_t cap = s->capseen ? 2 * s->capseen : 1024;
    uint64_t *v = calloc(cap, sizeof *v);
    if (!v) return false; /* shown again rather than lost */
    for (size_t i = 0; i < s->capseen; i++)
      if (s->seen[i])
        for (size_t k = s->seen[i] & (cap - 1);; k = (k + 1) & (cap - 1))
          if (!v[k]) {
            v[k] = s->seen[i];
            break;
          }
    free(s->seen);
    s->seen = v;
    s->capseen = cap;
  }
  for (size_t k = d & (s->capseen - 1);; k = (k + 1) & (s->capseen - 1)) {
    if (s->seen[k] == d) return true;
    if (!s->seen[k]) {
      s->seen[k] = d;
      s->nseen++;
      return false;
    }
  }
}

static void emit(SgEvStream *s, Block *b) {
  const SgEvalSink *k = s->sink;
  const SgEvReport *o = s->o;
  say_err(s, &b->err);
  size_t written = 0;
  SgBuf corr = {0};
  for (size_t i = 0; i < b->nrecs; i++) {
    Rec *r = &b->recs[i];
    bool dup = o->dedup && seen_before(s, r->digest);
    if (dup)
      b->n.duplicates++;
    else
      out_match(s, b->out.data ? b->out.data + written : "", r->out_end - written, r->has_time, r->time);
    written = r->out_end;
    if (dup) continue; /* its matches were counted and correlated the first time */
    if (s->html && r->nhtml) sg_html_add(s->html, b->html.data + r->html, r->nhtml);
    const char *comp = r->computer == SIZE_MAX ? NULL : r->ncomputer ? b->strs.data + r->computer : "";
    for (size_t h = 0; h < r->nhits; h++) {
      const SgRule *rule = b->hits[r->hit + h].rule;
      if (sg_corr_hides(s->co, rule) || !sg_report_shows(o, rule)) continue;
      b->n.matches++;
      if ((o->summary || o->summary_after) && !sg_summary_add(s->sum, rule, comp, r->ncomputer))
        b->n.lost_output = true;
    }
    if (!r->doc.leaves) continue; /* no correlations, or the event could not be kept */
    const SgCorrHit *ch;
    size_t nc;
    if (sg_corr_event(s->co, &r->doc, b->hits + r->hit, r->nhits, &ch, &nc) != SG_OK) {
      sg_buf_catf(&corr,
                  "%s%s%zu: error[E090]: out of memory correlating this event; correlations may miss it\n",
                  b->name, b->evtx ? ": record " : ":", r->line);
      b->n.unknown++;
      say_err(s, &corr);
      sg_buf_reset(&corr);
    }
    SgReportWhere where = {b->shown, b->evtx ? "record" : "line", r->line, r->has_time, r->time};
    report_corr(s, ch, nc, &where, &b->n, &corr);
  }
  sg_buf_free(&corr);
  write_part(k->out, k->ctx, &b->out, written, b->out.len);
  if (s->metrics) (o->logons ? sg_logons_add : sg_metrics_add)(s->metrics, b->metrics.data, b->metrics.len);
  if (b->metrics.oom) b->n.lost_output = true;
  if (b->file) {
    b->file->events += b->n.events;
    b->file->damaged = b->file->damaged || b->file_damaged;
    if (b->last_of_file && b->file->damaged) { /* what was found is said above; the file's verdict here */
      sg_buf_catf(&b->tail, "%s: error: the EVTX file is damaged (see above); %zu records were read\n",
                  b->name, b->file->events);
      b->n.damaged++;
    }
    b->file->refs--;
    file_drop(b->file);
  }
  say_err(s, &b->tail);
  if (b->tail.oom || b->err.oom) b->n.lost_output = true;
  sg_ev_counts_add(&s->n, &b->n);
  if (s->progress) {
    double t = sg_ev_now();
    if (t - s->last_progress > 1.0) {
      SgBuf p = {0};
      sg_buf_catf(&p, "\r\x1b[K%zu file%s, %zu events, %.0f events/s, %zu matches", s->files,
                  s->files == 1 ? "" : "s", s->n.events, s->n.events / (t - s->started), s->n.matches);
      k->err(k->ctx, p.data ? p.data : "", p.len);
      sg_buf_free(&p);
      s->last_progress = t;
      s->progress_line = true;
    }
  }
  block_free(s, b);
}

/* Write the finished blocks at the head of the input order; with `all`,
 * wait for every block. */
static void drain(SgEvStream *s, bool all) {
  pthread_mutex_lock(&s->mu);
  for (;;) {
    Block *b = s->ohead;
    if (!b) break;
    if (!b->done) {
      if (!all && s->inflight < (s->nworkers + 1) * INFLIGHT_PER_WORKER &&
          s->inflight_bytes < (s->nworkers + 1) * INFLIGHT_BYTES)
        break;
      Block *q = s->qhead;
      if (q) { /* rather than wait, the calling thread matches a block too */
        s->qhead = q->qnext;
        if (!s->qhead) s->qtail = NULL;
        pthread_mutex_unlock(&s->mu);
        match_block(&s->inline_w, q);
        pthread_mutex_lock(&s->mu);
        q->done = true;
      } else {
        pthread_cond_wait(&s->done, &s->mu);
      }
      continue;
    }
    s->ohead = b->onext;
    if (!s->ohead) s->otail = NULL;
    s->inflight--;
    s->inflight_bytes -= b->text.len;
    pthread_mutex_unlock(&s->mu);
    emit(s, b);
    pthread_mutex_lock(&s->mu);
  }
  pthread_mutex_unlock(&s->mu);
}

static void submit(SgEvStream *s, Block *b) {
  if (!s->nworkers) {
    match_block(&s->inline_w, b);
    emit(s, b);
    return;
  }
  pthread_mutex_lock(&s->mu);
  if (s->qtail)
    s->qtail->qnext = b;
  else
    s->qhead = b;
  s->qtail = b;
  if (s->otail)
    s->otail->onext = b;
  else
    s->ohead = b;
  s->otail = b;
  s->inflight++;
  s->inflight_bytes += b->text.len;
  pthread_cond_signal(&s->work);
  pthread_mutex_unlock(&s->mu);
  drain(s, false);
}

/* ---- reading (the calling thread) ---------------------------------------------------------- */

/* A block of the input `name` (copied: a block outlives the caller's path),
 * printed as `shown`, a suffix of it. */
static Block *block_new(SgEvStream *s, const char *name, const char *shown) {
  Block *b = calloc(1, sizeof *b);
  if (!b || !(b->name = strdup(name))) {
    free(b);
    return NULL;
  }
  if (s->nspare) b->text = s->spare[--s->nspare];
  b->shown = b->name + (shown - name);
  return b;
}

static bool add_doc(Block *b, const char *text, size_t len, size_t line, const char *bad) {
  Doc *d = SG_PUSH_HEAP(b->docs, b->ndocs, b->capdocs);
  if (!d) return false;
  *d = (Doc){b->text.len, len, line, bad, DOC_JSON};
  sg_buf_catn(&b->text, text, len);
  if (!b->text.oom) return true;
  b->ndocs--; /* not kept: the reading stops here, and says so */
  return false;
}

/* A unit of an EVTX file into the block (its bytes, or the reader's text). */
static bool add_unit(Block *b, DocKind kind, const void *bytes, size_t len, uint64_t off) {
  Doc *d = SG_PUSH_HEAP(b->docs, b->ndocs, b->capdocs);
  if (!d) return false;
  *d = (Doc){.off = b->text.len, .len = len, .line = (size_t)off, .kind = kind};
  sg_buf_catn(&b->text, bytes, len);
  if (!b->text.oom) return true;
  b->ndocs--;
  return false;
}

/* An EVTX file: its chunks, read as a stream, in blocks. */
static bool read_evtx(SgEvStream *s, SgJReader *r, const char *name, const char *shown) {
  EvtxFile *file = calloc(1, sizeof *file);
  if (s->split) /* one for the run: its 512 KiB window is not mapped again for every file */
    sg_evtx_split_restart(s->split, r);
  else
    s->split = sg_evtx_split_new(r);
  SgEvtxSplit *sp = s->split;
  Block *b = NULL;
  bool ok = file && sp, end = false;
  if (file) file->reading = true;
  for (size_t chunks = 0; ok && !end;) {
    const uint8_t *bytes;
    size_t len = 0;
    uint64_t off;
    const char *msg;
    SgEvtxUnit u = sg_evtx_split_next(sp, &bytes, &len, &off, &msg);
    if (!b && (b = block_new(s, name, shown))) {
      b->evtx = true;
      b->file = file;
      file->refs++;
    }
    if (!b) {
      ok = false;
    } else if (u == SG_EVTX_END || u == SG_EVTX_STOP) {
      if (u == SG_EVTX_STOP) {
        sg_buf_catf(&b->tail, "%s: error[E001]: %s\n", name, msg);
        b->n.ioerr = true;
        b->file_damaged = true;
      }
      b->last_of_file = end = true;
    } else if (u == SG_EVTX_NOTE || u == SG_EVTX_DAMAGE) {
      ok = add_unit(b, u == SG_EVTX_NOTE ? DOC_NOTE : DOC_DAMAGE, msg, strlen(msg), off);
    } else {
      ok = add_unit(b, u == SG_EVTX_CHUNK ? DOC_CHUNK : DOC_FRAGMENT, bytes, len, off);
      chunks++;
    }
    if (ok && (end || chunks >= BLOCK_CHUNKS)) {
      submit(s, b); /* b may be freed now */
      b = NULL;
      chunks = 0;
    }
  }
  s->n.bytes += r->bytes;
  if (b) {
    file->refs--;
    block_free(s, b);
  }
  if (file) file->reading = false;
  file_drop(file);
  return ok;
}

bool sg_evs_file(SgEvStream *s, FILE *f, const char *name, const char *shown, bool in_dir) {
  s->files++;
  SgJReader r;
  sg_jreader_init(&r, f);
  r.json_only = in_dir;
  sg_jreader_start(&r);
  bool ok = true;
  if (r.evtx) {
    if (!read_evtx(s, &r, name, shown)) ok = false;
  } else if (!r.not_events) {
    Block *b = block_new(s, name, shown);
    const char *doc, *msg;
    size_t len, line;
    SgJNext k;
    while (b && (k = sg_jreader_next(&r, &doc, &len, &line, &msg)) != SG_J_END) {
      if (!add_doc(b, k == SG_J_DOC ? doc : "", k == SG_J_DOC ? len : 0, line, k == SG_J_DOC ? NULL : msg)) {
        ok = false;
        break;
      }
      if (b->ndocs >= BLOCK_DOCS || b->text.len >= BLOCK_BYTES) {
        submit(s, b);
        b = block_new(s, name, shown);
      }
    }
    if (!b) {
      ok = false;
    } else {
      s->n.bytes += r.bytes;
      if (r.ioerr || r.nomem || !ok) {
        sg_buf_catf(&b->tail, "%s: error[E001]: %s; the events after line %zu were not read\n", name,
                    r.nomem || !ok ? "out of memory"
                    : r.gz_error   ? r.gz_error
                                   : "read error",
                    r.line);
        s->n.ioerr = true;
        ok = true; /* reported */
      }
      submit(s, b);
    }
  }
  if (r.not_events) {
    SgBuf e = {0};
    if (in_dir) {
      sg_buf_catf(&e, "%s: note: %s; passed over\n", name, r.not_events);
    } else {
      sg_buf_catf(&e, "%s: error[E001]: %s; not read\n", name, r.not_events);
      s->n.ioerr = true;
    }
    say_err(s, &e);
    s->n.lost_output = s->n.lost_output || e.oom;
    sg_buf_free(&e);
  }
  if (!ok) {
    SgBuf e = {0};
    sg_buf_catf(&e, "%s: error[E090]: out of memory reading the events; the rest of the file was not read\n",
                name);
    say_err(s, &e);
    s->n.lost_output = s->n.lost_output || e.oom;
    sg_buf_free(&e);
    s->n.ioerr = true;
  }
  sg_jreader_free(&r);
  return true;
}

/* ---- the stream ------------------------------------------------------------------------------- */

SgEvStream *sg_evs_new(SgEvaluator *ev, SgCorrelator *co, const SgEvReport *o, const SgEvalSink *sink,
                       size_t jobs, bool progress) {
  SgEvStream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  *s = (SgEvStream){
      .o = o, .ev = ev, .co = co, .sink = sink, .progress = progress, .last_progress = sg_ev_now()};
  s->started = s->last_progress;
  s->inline_w = (Worker){.s = s, .ev = ev};
  if (((o->metrics || o->logons) && !(s->metrics = sg_metrics_new())) ||
      (o->html && !(s->html = sg_html_new())) ||
      ((o->summary || o->summary_after) && !(s->sum = sg_summary_new()))) {
    sg_metrics_free(s->metrics);
    sg_html_free(s->html);
    free(s);
    return NULL;
  }
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->work, NULL);
  pthread_cond_init(&s->done, NULL);
  /* jobs - 1 workers: the calling thread, between reading and writing, is the last */
  if (jobs > 1 && (s->w = calloc(jobs - 1, sizeof *s->w))) {
    for (size_t i = 0; i + 1 < jobs; i++) {
      Worker *w = &s->w[s->nworkers];
      *w = (Worker){.s = s, .ev = sg_eval_fork(ev)};
      if (!w->ev) break;
      if (pthread_create(&w->thread, NULL, worker_main, w)) {
        sg_eval_free(w->ev);
        break;
      }
      s->nworkers++;
    }
  }
  SgBuf h = {0};
  sg_report_header(o, &h);
  s->n.lost_output = h.oom;
  write_buf(sink->out, sink->ctx, &h);
  sg_buf_free(&h);
  return s;
}

size_t sg_evs_workers(const SgEvStream *s) { return s->nworkers + 1; }

void sg_evs_finish(SgEvStream *s, SgEvCounts *n) {
  drain(s, true);
  const SgCorrHit *ch; /* windows still open at the end: the correlations decided when they end */
  size_t nc;
  if (s->co && sg_corr_count(s->co)) {
    SgBuf corr = {0};
    if (sg_corr_finish(s->co, &ch, &nc) != SG_OK) {
      sg_buf_cat(
          &corr,
          "sigmacc eval: error[E090]: out of memory deciding the correlations at the end of the input\n");
      s->n.unknown++;
      say_err(s, &corr);
      sg_buf_reset(&corr);
    }
    SgReportWhere where = {NULL, "line", 0, false, 0};
    report_corr(s, ch, nc, &where, &s->n, &corr);
    sg_buf_free(&corr);
  }
  if (s->progress_line) s->sink->err(s->sink->ctx, "\r\x1b[K", 4); /* the line goes: the results follow */
  pthread_mutex_lock(&s->mu);
  s->stop = true;
  pthread_cond_broadcast(&s->work);
  pthread_mutex_unlock(&s->mu);
  for (size_t i = 0; i < s->nworkers; i++) {
    pthread_join(s->w[i].thread, NULL);
    sg_eval_free(s->w[i].ev);
    sg_events_free(&s->w[i].in);
    sg_buf_free(&s->w[i].json);
    sg_evtx_dec_free(s->w[i].dec);
    sg_jbuild_free(s->w[i].jb);
    pcre2_match_data_free(s->w[i].md);
    free(s->w[i].found);
  }
  sg_events_free(&s->inline_w.in);
  sg_buf_free(&s->inline_w.json);
  sg_evtx_dec_free(s->inline_w.dec);
  sg_jbuild_free(s->inline_w.jb);
  pcre2_match_data_free(s->inline_w.md);
  free(s->inline_w.found);
  if (s->nsorted) {
    qsort(s->sorted, s->nsorted, sizeof *s->sorted, cmp_sorted);
    for (size_t i = 0; i < s->nsorted; i++)
      s->sink->out(s->sink->ctx, s->sorted_text.data + s->sorted[i].off, s->sorted[i].len);
  }
  free(s->sorted);
  sg_buf_free(&s->sorted_text);
  free(s->seen);
  if (s->html) {
    SgBuf b = {0};
    sg_html_page(s->html, s->o, &b, s->n.events, s->files);
    if (b.oom) s->n.lost_output = true;
    if (s->sink->html) s->sink->html(s->sink->ctx, b.data ? b.data : "", b.len);
    sg_buf_free(&b);
    sg_html_free(s->html);
  }
  if (s->metrics) {
    SgBuf b = {0};
    (s->o->logons ? sg_logons_print : sg_metrics_print)(s->metrics, s->o, &b);
    if (b.oom) s->n.lost_output = true;
    write_buf(s->sink->out, s->sink->ctx, &b);
    sg_buf_free(&b);
    sg_metrics_free(s->metrics);
  }
  if (s->sum) {
    SgBuf b = {0};
    if (s->o->summary_after) sg_buf_catc(&b, '\n');
    sg_summary_print(s->sum, s->o, &b, s->n.events);
    if (b.oom) s->n.lost_output = true;
    write_buf(s->sink->out, s->sink->ctx, &b);
    sg_buf_free(&b);
  }
  *n = s->n;
  sg_evtx_split_free(s->split);
  for (size_t i = 0; i < s->nspare; i++)
    sg_buf_free(&s->spare[i]);
  free(s->w);
  sg_summary_free(s->sum);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->work);
  pthread_cond_destroy(&s->done);
  free(s);
}
