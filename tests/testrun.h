/* testrun.h - run a shell command from the source tree and capture its output
 * (needs _POSIX_C_SOURCE for popen; include after testutil.h). */
#ifndef SG_TESTRUN_H
#define SG_TESTRUN_H

#include <sys/wait.h>

#include "testutil.h"

/* Run a shell command in the source tree; capture stdout (and stderr if asked). */
static inline char *run(const char *cmd, int *rc) {
  SgBuf c = {0};
  sg_buf_catf(&c, "cd '%s' && %s", SIGMACC_SOURCE_DIR, cmd);
  FILE *p = popen(c.data, "r");
  assert_non_null(p);
  SgBuf out = {0};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    sg_buf_catn(&out, buf, n);
  int st = pclose(p);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  sg_buf_free(&c);
  sg_buf_cstr(&out);
  return out.data;
}

#endif
