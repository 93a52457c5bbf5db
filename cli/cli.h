/* cli.h - the command entry points of the command line (cli/). */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdio.h>

#include "sigmacc.h"

/* Print diagnostics d->items[from..] to f (sg_render_diags). */
void sg_print_diags(FILE *f, const SgDiags *d, size_t from, bool json);

/* The exit status every command shares (eval adds 3), in each --help. */
#define SG_CLI_EXIT_HELP                                                                                     \
  "Exit status: 0 success; 1 a rule or pipeline had an error (or golden files differ);\n"                    \
  "2 usage error, or an input or output that cannot be read or written.\n"

/* A usage error of `cmd`: the message, a pointer to --help; returns 2. */
int sg_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getopt_long's error for the option at argv[optind - 1] ('?' unknown, ':'
 * missing value), with the closest of `opts` for a mistyped one; 2. */
struct option;
int sg_cli_option_error(const char *cmd, int code, char **argv, const struct option *opts);

/* Commands: argv[0] is the command's name; options as getopt_long reads
 * them (--opt=value, -ovalue, -- ends them). */
int sg_cli_convert(int argc, char **argv);
int sg_cli_eval(int argc, char **argv);

#endif
