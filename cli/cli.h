/* cli.h - the command entry points of the command line (cli/). */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdio.h>

#include "sigmacc.h"

/* Print diagnostics d->items[from..] to f (sg_render_diags). */
void sg_print_diags(FILE *f, const SgDiags *d, size_t from, bool json);

int sg_cli_convert(int argc, char **argv);
int sg_cli_eval(int argc, char **argv);

#endif
