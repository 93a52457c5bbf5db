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

int sg_cli_convert(int argc, char **argv);
int sg_cli_eval(int argc, char **argv);
int sg_cli_list_targets(void);
int sg_cli_list_formats(const char *target);
int sg_cli_list_pipelines(void);

#endif
