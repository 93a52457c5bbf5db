/* failalloc.h - fail one allocation of the test's choosing: the allocator is
 * wrapped at link time (-Wl,--wrap=malloc,... in tests/CMakeLists.txt, see
 * sg_test_failalloc). fa_fail_at = k fails the k-th call counted from the last
 * fa_start(); 0 fails none. Include it in exactly one file of a test. */
#ifndef SG_FAILALLOC_H
#define SG_FAILALLOC_H

#include <stdbool.h>
#include <stddef.h>

static size_t fa_fail_at, fa_allocs;

/* Count from zero, failing allocation k (0: none). */
static inline void fa_start(size_t k) {
  fa_fail_at = k;
  fa_allocs = 0;
}

/* Fail none from now on; the count stays (fa_allocs: the calls so far). */
static inline void fa_stop(void) { fa_fail_at = 0; }

/* Did the allocation chosen to fail happen? */
static inline bool fa_failed(void) { return fa_fail_at && fa_allocs >= fa_fail_at; }

static inline bool fa_fail_now(void) { return ++fa_allocs == fa_fail_at; }

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n) { return fa_fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return fa_fail_now() ? NULL : __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return fa_fail_now() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fa_fail_now() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return fa_fail_now() ? NULL : __real_strndup(s, n); }

#endif
