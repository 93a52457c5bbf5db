/* util.c - arena allocator, growable byte buffer, ASCII helpers, suggestions.
 *
 * The arena hands out zeroed memory from malloc'd chunks and frees them all at
 * once; it never frees single objects. SgBuf is a heap buffer for output text.
 * Invariant: an SgBuf that ran out of memory keeps what it had and sets `oom`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigmacc_int.h"

struct SgArenaChunk {
  SgArenaChunk *next;
  size_t used, cap;
  _Alignas(max_align_t) unsigned char mem[];
};

#define CHUNK_MIN (8u * 1024u)
#define CHUNK_MAX (1024u * 1024u)
#define ALIGN (sizeof(max_align_t))

void sg_arena_init(SgArena *a) { memset(a, 0, sizeof *a); }

struct SgArenaCleanup {
  SgArenaCleanup *next;
  void (*fn)(void *);
  void *p;
};

bool sg_arena_defer(SgArena *a, void (*fn)(void *), void *p) {
  SgArenaCleanup *c = sg_arena_alloc(a, sizeof *c);
  if (!c) {
    fn(p);
    return false;
  }
  *c = (SgArenaCleanup){a->cleanups, fn, p};
  a->cleanups = c;
  return true;
}

void sg_arena_free(SgArena *a) {
  for (SgArenaCleanup *k = a->cleanups; k; k = k->next)
    k->fn(k->p);
  a->cleanups = NULL;
  SgArenaChunk *c = a->head;
  while (c) {
    SgArenaChunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
}

void *sg_arena_alloc(SgArena *a, size_t n) {
  a->allocs++;
#ifdef SG_ARENA_DEBUG
  /* a chunk of exactly n bytes per allocation, so AddressSanitizer sees any
   * access past an object (cmake -DSIGMACC_ARENA_DEBUG=ON) */
  if (n == 0) n = 1;
  SgArenaChunk *c = NULL;
  size_t cap = n;
#else
  n = (n + ALIGN - 1) & ~(ALIGN - 1);
  if (n == 0) n = ALIGN;
  SgArenaChunk *c = a->head;
  /* chunks double from CHUNK_MIN up to CHUNK_MAX: small units stay small */
  size_t cap = c ? (c->cap * 2 > CHUNK_MAX ? CHUNK_MAX : c->cap * 2) : CHUNK_MIN;
  if (cap < n) cap = n;
#endif
  if (!c || c->cap - c->used < n) {
    c = malloc(sizeof *c + cap);
    if (!c) {
      a->failed = true;
      return NULL;
    }
    c->used = 0;
    c->cap = cap;
    a->bytes += cap;
    c->next = a->head;
    a->head = c;
  }
  void *p = c->mem + c->used;
  c->used += n;
  memset(p, 0, n);
  return p;
}

bool sg_grow(SgArena *a, void *arrp, size_t n, size_t *cap, size_t elem) {
  if (n < *cap) return true;
  size_t ncap = *cap ? *cap * 2 : 4;
  if (ncap > SIZE_MAX / elem) return false;
  void *old, *p = sg_arena_alloc(a, ncap * elem);
  if (!p) return false;
  memcpy(&old, arrp, sizeof old); /* arrp points at the caller's T * */
  if (n) memcpy(p, old, n * elem);
  memcpy(arrp, &p, sizeof p);
  *cap = ncap;
  return true;
}

bool sg_grow_heap(void *arrp, size_t n, size_t *cap, size_t elem) {
  if (n < *cap) return true;
  size_t ncap = *cap ? *cap * 2 : 16;
  if (ncap > SIZE_MAX / elem) return false;
  void *old, *p;
  memcpy(&old, arrp, sizeof old); /* arrp points at the caller's T * */
  if (!(p = realloc(old, ncap * elem))) return false;
  memcpy(arrp, &p, sizeof p);
  *cap = ncap;
  return true;
}

char *sg_arena_strndup(SgArena *a, const char *s, size_t n) {
  char *p = sg_arena_alloc(a, n + 1);
  if (p && n) memcpy(p, s, n);
  return p;
}

char *sg_arena_strdup(SgArena *a, const char *s) { return sg_arena_strndup(a, s, strlen(s)); }

char *sg_arena_printf(SgArena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *p = sg_arena_alloc(a, (size_t)n + 1);
  if (!p) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

/* ---- SgBuf ----------------------------------------------------------------- */

bool sg_buf_reserve(SgBuf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap && !b->oom) return true;
  if (b->oom) return false;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

void sg_buf_free(SgBuf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void sg_buf_catn(SgBuf *b, const char *s, size_t n) {
  if (!sg_buf_reserve(b, n)) return;
  if (n) memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void sg_buf_cat(SgBuf *b, const char *s) { sg_buf_catn(b, s, strlen(s)); }

void sg_buf_catc(SgBuf *b, char c) {
  if (!sg_buf_reserve(b, 1)) return;
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
}

void sg_buf_vcatf(SgBuf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0 || !sg_buf_reserve(b, (size_t)n)) return;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void sg_buf_catf(SgBuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_buf_vcatf(b, fmt, ap);
  va_end(ap);
}

const char *sg_buf_cstr(SgBuf *b) {
  if (!b->data && sg_buf_reserve(b, 0)) b->data[0] = '\0';
  return b->data ? b->data : "";
}

void sg_buf_reset(SgBuf *b) {
  b->len = 0;
  b->oom = false; /* empty again: the next append may succeed */
  if (b->data) b->data[0] = '\0';
}

/* ---- ASCII ------------------------------------------------------------------ */

int sg_ascii_casecmp(const char *a, const char *b) {
  for (;; a++, b++) {
    int ca = (*a >= 'A' && *a <= 'Z') ? *a + 32 : (unsigned char)*a;
    int cb = (*b >= 'A' && *b <= 'Z') ? *b + 32 : (unsigned char)*b;
    if (ca != cb || !ca) return ca - cb;
  }
}

/* ---- Did you mean ---------------------------------------------------------------- */

enum { SUGGEST_MAX = 64 }; /* longer words get no suggestion */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Optimal string alignment distance, or SIZE_MAX past the length limit. */
static size_t edit_distance(const char *a, size_t n, const char *b, size_t m) {
  if (n > SUGGEST_MAX || m > SUGGEST_MAX) return SIZE_MAX;
  size_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
  for (size_t i = 0; i <= n; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= m; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++) {
      size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
      size_t best = d[i - 1][j - 1] + cost;
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]) &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[n][m];
}

void sg_suggest_init(SgSuggest *s, const char *word, size_t len) {
  *s = (SgSuggest){word, len, NULL, SIZE_MAX};
}

void sg_suggest_add(SgSuggest *s, const char *candidate) {
  size_t d = edit_distance(s->word, s->len, candidate, strlen(candidate));
  if (d < s->dist) {
    s->dist = d;
    s->best = candidate;
  }
}

const char *sg_suggest_best(const SgSuggest *s) {
  size_t limit = s->len / 3 ? s->len / 3 : 1;
  return s->best && s->dist <= limit ? s->best : NULL;
}

const char *sg_suggest_text(const SgSuggest *s, char *buf, size_t size, const char *otherwise) {
  const char *best = sg_suggest_best(s);
  if (!best) return otherwise;
  snprintf(buf, size, " (did you mean '%s'?)", best);
  return buf;
}

int sg_ascii_ncasecmp(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int ca = (a[i] >= 'A' && a[i] <= 'Z') ? a[i] + 32 : (unsigned char)a[i];
    int cb = (b[i] >= 'A' && b[i] <= 'Z') ? b[i] + 32 : (unsigned char)b[i];
    if (ca != cb || !ca) return ca - cb;
  }
  return 0;
}

long sg_days_from_civil(long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long)doe - 719468;
}
