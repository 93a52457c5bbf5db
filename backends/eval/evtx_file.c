/* evtx_file.c - an EVTX file as a stream of 64 KiB chunks (SgEvtxSplit),
 * read from an SgJReader (plain or gzip), never held whole: its header
 * checked, chunks handed out with their file offset, a second file header
 * (files joined together) and bytes that are no chunk said, reading that
 * stops (a read error, a gzip input cut off or corrupt, memory) said with the
 * offset. evtx.c decodes each chunk's records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"
#include "evtx_format.h"

#define SPLIT_WINDOW (8u * CHUNK) /* chunks read ahead (at least two: a chunk and the look-ahead) */

struct SgEvtxSplit {
  SgJReader *r;
  uint8_t *win; /* win[start, have) are the bytes [off, ...) of the file */
  size_t start, have, used;
  uint64_t off;
  size_t headers;
  char msg[320];
};

SgEvtxSplit *sg_evtx_split_new(SgJReader *r) {
  SgEvtxSplit *s = calloc(1, sizeof *s);
  if (s && !(s->win = malloc(SPLIT_WINDOW))) {
    free(s);
    return NULL;
  }
  if (s) s->r = r;
  return s;
}

void sg_evtx_split_restart(SgEvtxSplit *s, SgJReader *r) {
  uint8_t *win = s->win;
  *s = (SgEvtxSplit){.r = r, .win = win};
}

void sg_evtx_split_free(SgEvtxSplit *s) {
  if (!s) return;
  free(s->win);
  free(s);
}

/* Consume n bytes; read on so that two chunks are ahead (or the input's end). */
static void consume(SgEvtxSplit *s, size_t n) {
  s->start += n;
  s->off += n;
  if (s->have - s->start >= 2 * CHUNK) return;
  memmove(s->win, s->win + s->start, s->have - s->start);
  s->have -= s->start;
  s->start = 0;
  while (s->have < SPLIT_WINDOW) {
    size_t got = sg_jreader_read(s->r, s->win + s->have, SPLIT_WINDOW - s->have);
    if (!got) break;
    s->have += got;
  }
}

/* The first 512-byte aligned signature of a chunk or a file header in
 * w[from, to), or `to`. */
static size_t next_signature(const uint8_t *w, size_t from, size_t to) {
  for (size_t q = from; q + 8 <= to; q += CHUNK_HEADER)
    if (!memcmp(w + q, SIG_CHUNK, 8) || !memcmp(w + q, SIG_FILE, 8)) return q;
  return to;
}

SgEvtxUnit sg_evtx_split_next(SgEvtxSplit *s, const uint8_t **bytes, size_t *len, uint64_t *off,
                              const char **msg) {
  *msg = NULL;
  for (;;) {
    consume(s, s->used);
    s->used = 0;
    const uint8_t *w = s->win + s->start;
    size_t avail = s->have - s->start;
    *bytes = w;
    *off = s->off;
    if (!avail) {
      if (!s->r->ioerr && !s->r->nomem && !s->r->gz_error) return SG_EVTX_END;
      snprintf(s->msg, sizeof s->msg, "%s after offset %llu; the rest of the file was not read",
               s->r->nomem      ? "out of memory"
               : s->r->gz_error ? s->r->gz_error
                                : "read error",
               (unsigned long long)s->off);
      *msg = s->msg;
      return SG_EVTX_STOP;
    }
    if (avail >= 8 && !memcmp(w, SIG_FILE, 8)) {
      s->headers++;
      *msg = s->msg;
      if (avail < FILE_HEADER) {
        snprintf(s->msg, sizeof s->msg, "%s EVTX file header at offset %llu is cut off (%zu of %u bytes)",
                 s->headers == 1 ? "not a readable EVTX file: its" : "another", (unsigned long long)s->off,
                 avail, FILE_HEADER);
        s->used = avail;
        return s->headers == 1 ? SG_EVTX_STOP : SG_EVTX_DAMAGE;
      }
      s->used = FILE_HEADER;
      uint32_t want = le32(w + 124), got = crc(w, 120);
      if (s->headers > 1) {
        snprintf(s->msg, sizeof s->msg,
                 "another EVTX file header at offset %llu (files joined together?); the chunks after it "
                 "are read too",
                 (unsigned long long)s->off);
        return SG_EVTX_NOTE;
      }
      if (want != got) {
        snprintf(s->msg, sizeof s->msg,
                 "the file header's checksum does not match (stored 0x%08x, computed 0x%08x); the chunks are "
                 "read all the same",
                 (unsigned)want, (unsigned)got);
        return SG_EVTX_DAMAGE;
      }
      continue;
    }
    size_t n = avail < CHUNK ? avail : CHUNK;
    if (avail >= 8 && !memcmp(w, SIG_CHUNK, 8)) {
      *len = s->used = n;
      return SG_EVTX_CHUNK;
    }
    n = next_signature(w, CHUNK_HEADER, n);
    s->used = n;
    if (all_zero(w, n)) continue; /* space never written */
    *len = n;
    return SG_EVTX_FRAGMENT;
  }
}
