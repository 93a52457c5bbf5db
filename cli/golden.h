/* cli_golden.h - golden-file check and update for `convert` and `eval`. */
#ifndef SG_CLI_GOLDEN_H
#define SG_CLI_GOLDEN_H

#include "sigma.h"

typedef struct SgGolden {
  const char *dir; /* DIR of --check/--update */
  const char *ext; /* output extension, e.g. ".aql" */
  bool update;
  char **seen; /* files produced this run */
  size_t nseen, capseen;
  size_t mismatches, missing, extra, written, errors;
  SgBuf report; /* diffs and listings, to print */
} SgGolden;

void sg_golden_init(SgGolden *g, const char *dir, const char *ext, bool update);
void sg_golden_free(SgGolden *g);
/* Compare (or write) DIR/<rel without .yml><ext>. 0 same/written, 1 differs, -1 error. */
int sg_golden_file(SgGolden *g, const char *rel, const char *got, size_t len);
/* List (or, updating, remove) files in DIR with EXT no rule produced.
 * Returns the exit code: 0 all equal, 1 differences, 2 write errors. */
int sg_golden_finish(SgGolden *g);

#endif
