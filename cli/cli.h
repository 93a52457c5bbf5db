/* cli.h - pieces of the command line shared by main.c and the command files. */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdio.h>

#include "sigma.h"

typedef struct SgPaths {
  char **v;
  size_t *rel; /* offset of the path relative to its argument (a directory, or the file's folder) */
  size_t n, cap;
} SgPaths;

bool sg_expand_paths(int argc, char **argv, SgPaths *out, SgDiags *d);
void sg_paths_free(SgPaths *p);
void sg_print_diags(FILE *f, SgDiags *d, size_t from, const char *src, size_t len, bool json);
/* The same, appended to a buffer (for output merged in order later). */
void sg_render_diags(SgBuf *out, SgDiags *d, const char *src, size_t len, bool json);

/* fn(arg, i) for every i < n, on every core (at most 8; one thread for few
 * items). The calls must be independent; the library keeps no global state. */
void sg_parallel_for(size_t n, void (*fn)(void *arg, size_t i), void *arg);

/* The Sigma filters of a run: those in --filter files and the filter
 * documents among the input files; as in pySigma, each applies to the whole
 * batch. */
typedef struct SgFilters {
  SgUnit **units; /* the files they came from */
  size_t nunits;
  const SgRule **v;
  size_t n;
  _Atomic size_t *used; /* per filter: rules it was applied to */
} SgFilters;

/* The filters of the --filter `files`. False when one fails to load or
 * holds no filter (reported in d). */
bool sg_filters_load(const char *const *files, size_t nfiles, SgFilters *out, SgDiags *d);
/* The filter documents of one file's text. `quiet`: an input file (read
 * once, before the run), compiled only when it has a top-level `filter:`
 * key, its problems reported when it is converted or evaluated. */
bool sg_filters_add(SgFilters *out, const char *path, const char *text, size_t len, bool quiet, SgDiags *d);
/* Apply every filter that applies to a rule of u (see sg_filter_applies). */
SgStatus sg_filters_apply(const SgFilters *f, SgUnit *u);
/* W072 for each filter that was applied to no rule of the run. */
void sg_filters_report_unused(const SgFilters *f, SgDiags *d);
void sg_filters_free(SgFilters *f);

int sg_cli_convert(int argc, char **argv);
int sg_cli_eval(int argc, char **argv);
int sg_cli_list_targets(void);
int sg_cli_list_formats(const char *target);
int sg_cli_list_pipelines(void);

#endif
