/* fuzz_evtx.c - fuzz target: arbitrary bytes as an EVTX file (read as eval
 * reads it, through the stream of chunks) and as one chunk on its own.
 * Properties: every record read is one valid JSON object (the evaluator's
 * parser reads it back), the document built straight from the record equals
 * the one parsed from its JSON, leaf for leaf; every other step says why; the
 * reading ends. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/evaluator.h"
#include "eval/evtx_dom.h"
#include "../outcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void chunk(const uint8_t *data, size_t size, bool whole) {
  SgEvtxDec *d = sg_evtx_dec_new();
  SgJBuild *jb = sg_jbuild_new();
  if (!d || !jb) {
    sg_evtx_dec_free(d);
    sg_jbuild_free(jb);
    return;
  }
  SgBuf json = {0};
  SgJDoc doc = {0}, built = {0};
  char msg[640];
  uint64_t id;
  sg_evtx_dec_start(d, data, size, 0, whole);
  for (size_t steps = 0;; steps++) {
    if (steps > size + 16) abort(); /* every step moves on */
    msg[0] = '\0';
    SgEvtxNext k = sg_evtx_dec_next(d, &id, msg, sizeof msg);
    if (k == SG_EVTX_DONE) break;
    if (k == SG_EVTX_RECORD || k == SG_EVTX_RECOVERED) {
      size_t off;
      const char *err;
      sg_buf_reset(&json);
      sg_xdom_json(sg_evtx_dec_event(d), &json);
      if (json.oom) continue;
      if (!sg_json_parse(&doc, json.data, json.len, &off, &err)) {
        if (strcmp(err, "out of memory")) abort();
        continue;
      }
      if (sg_xdom_doc(sg_evtx_dec_event(d), jb, &built) && !oc_same_doc(&doc, &built)) abort();
    }
    if (k != SG_EVTX_RECORD && !msg[0]) abort(); /* what is not a record is said */
  }
  sg_jdoc_free(&doc);
  sg_jdoc_free(&built);
  sg_buf_free(&json);
  sg_evtx_dec_free(d);
  sg_jbuild_free(jb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  chunk(data, size, true);
  chunk(data, size, false);
  /* as a file: the bytes after a file header when they carry none */
  uint8_t *file = malloc(size + 4096);
  if (!file) return 0;
  size_t n = size;
  if (size >= 8 && !memcmp(data, "ElfFile", 8)) {
    memcpy(file, data, size);
  } else {
    memset(file, 0, 4096);
    memcpy(file, "ElfFile", 8);
    memcpy(file + 4096, data, size);
    n += 4096;
  }
  FILE *f = fmemopen(file, n, "rb");
  if (f) {
    SgEventIn in;
    sg_events_init(&in, f);
    const char *text, *msg;
    size_t len, line;
    SgEvNext k;
    while ((k = sg_events_next(&in, &text, &len, &line, &msg)) != SG_EV_END)
      if (k == SG_EV_EVENT && (!len || text[0] != '{')) abort();
    sg_events_free(&in);
    fclose(f);
  }
  free(file);
  return 0;
}
