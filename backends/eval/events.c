/* events.c - an input of events (SgEventIn): the reader's documents, each
 * parsed, or an EVTX file's records, each as evtx_dump's JSON and parsed; the
 * API's event stream (sigmacc.h) and what the tests and pages read samples
 * with. eval's own stream (runs/eval_stream.c) uses the same parts in blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"
#include "evtx_dom.h"

SgEventIn *sg_events_open(FILE *f) {
  SgEventIn *in = malloc(sizeof *in);
  if (in) sg_events_init(in, f);
  return in;
}

void sg_events_close(SgEventIn *in) {
  if (!in) return;
  sg_events_free(in);
  free(in);
}

const SgJDoc *sg_events_doc(const SgEventIn *in) { return &in->doc; }

void sg_events_init(SgEventIn *in, FILE *f) {
  memset(in, 0, sizeof *in);
  sg_jreader_init(&in->rd, f);
}

void sg_events_free(SgEventIn *in) {
  sg_evtx_split_free(in->split);
  sg_evtx_dec_free(in->dec);
  sg_buf_free(&in->json);
  sg_jreader_free(&in->rd);
  sg_jdoc_free(&in->doc);
}

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Line breaks in s[0..n): LF, CRLF (once) and a lone CR. */
static size_t breaks(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += s[i] == '\n' || (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n'));
  return k;
}

/* The next record of an EVTX input: unit after unit of the file, each
 * unit's records; damage is counted (in->corrupted) and reading goes on. */
static SgEvNext next_record(SgEventIn *in, const char **text, size_t *len, size_t *line, const char **msg) {
  if (!in->split) {
    if (in->done) return SG_EV_END;
    in->split = sg_evtx_split_new(&in->rd);
    if (!in->dec) in->dec = sg_evtx_dec_new();
    if (!in->split || !in->dec) {
      sg_evtx_split_free(in->split);
      in->split = NULL;
      in->done = true;
      *msg = "out of memory reading the EVTX file";
      return SG_EV_NOMEM;
    }
  }
  *msg = in->msg;
  for (;;) {
    if (!in->in_unit) {
      const uint8_t *bytes;
      size_t n;
      uint64_t off;
      const char *why;
      SgEvtxUnit u = sg_evtx_split_next(in->split, &bytes, &n, &off, &why);
      if (u == SG_EVTX_END || u == SG_EVTX_STOP) {
        in->corrupted = in->corrupted || u == SG_EVTX_STOP;
        sg_evtx_split_free(in->split);
        in->split = NULL;
        in->done = true;
        return SG_EV_END;
      }
      in->corrupted = in->corrupted || u == SG_EVTX_DAMAGE || u == SG_EVTX_FRAGMENT;
      if (u != SG_EVTX_CHUNK && u != SG_EVTX_FRAGMENT) continue;
      sg_evtx_dec_start(in->dec, bytes, n, off, u == SG_EVTX_CHUNK);
      in->in_unit = true;
    }
    uint64_t id;
    SgEvtxNext k = sg_evtx_dec_next(in->dec, &id, in->msg, sizeof in->msg);
    *line = (size_t)id;
    if (k == SG_EVTX_DONE) {
      in->in_unit = false;
      continue;
    }
    if (k == SG_EVTX_DAMAGED || k == SG_EVTX_RECOVERED) in->corrupted = true;
    if (k == SG_EVTX_DAMAGED) continue;
    if (k == SG_EVTX_NOMEM) return SG_EV_NOMEM;
    if (k == SG_EVTX_SKIP) {
      in->skipped++;
      return SG_EV_SKIP;
    }
    break;
  }
  sg_buf_reset(&in->json);
  sg_xdom_json(sg_evtx_dec_event(in->dec), &in->json);
  size_t eoff;
  const char *err = "out of memory";
  if (in->json.oom || !sg_json_parse(&in->doc, in->json.data, in->json.len, &eoff, &err)) {
    bool oom = !strcmp(err, "out of memory");
    snprintf(in->msg, sizeof in->msg, "%s", oom ? "out of memory reading this record" : err);
    in->skipped += !oom;
    return oom ? SG_EV_NOMEM : SG_EV_SKIP;
  }
  *text = in->json.data;
  *len = in->json.len;
  in->events++;
  return SG_EV_EVENT;
}

SgEvNext sg_events_next(SgEventIn *in, const char **text, size_t *len, size_t *line, const char **msg) {
  sg_jreader_start(&in->rd);
  if (in->rd.evtx) return next_record(in, text, len, line, msg);
  if (!in->nrest) {
    const char *doc;
    size_t n;
    SgJNext k = sg_jreader_next(&in->rd, &doc, &n, line, msg);
    if (k == SG_J_END) return SG_EV_END;
    if (k == SG_J_BAD) {
      in->skipped++;
      return SG_EV_SKIP;
    }
    sg_events_set(in, doc, n, *line);
  }
  return sg_events_parse(in, text, len, line, msg);
}

void sg_events_set(SgEventIn *in, const char *doc, size_t n, size_t line) {
  in->rest = doc;
  in->nrest = n;
  in->rest_line = line;
}

SgEvNext sg_events_parse(SgEventIn *in, const char **text, size_t *len, size_t *line, const char **msg) {
  if (!in->nrest) return SG_EV_END;
  const char *t = in->rest;
  size_t n = in->nrest, lead = 0, used, eoff;
  while (lead < n && blank(t[lead]))
    lead++;
  const char *err;
  if (!sg_json_parse_one(&in->doc, t, n, &used, &eoff, &err)) {
    /* the rest of the document (its line, for JSON lines) is skipped */
    *line = in->rest_line + breaks(t, eoff < n ? eoff : n);
    in->nrest = 0;
    if (!strcmp(err, "out of memory")) {
      *msg = "out of memory reading this document";
      return SG_EV_NOMEM;
    }
    snprintf(in->msg, sizeof in->msg, "malformed JSON event: %s", err);
    *msg = in->msg;
    in->skipped++;
    return SG_EV_SKIP;
  }
  size_t end = used;
  while (end > lead && blank(t[end - 1]))
    end--;
  *line = in->rest_line + breaks(t, lead);
  *text = t + lead;
  *len = end - lead;
  in->rest = t + used;
  in->nrest = n - used;
  if (in->nrest) in->rest_line = *line + breaks(t + lead, used - lead); /* another object follows */
  in->events++;
  return SG_EV_EVENT;
}
