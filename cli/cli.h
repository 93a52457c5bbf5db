/* cli.h - the command line (cli/): main.c dispatches; convert.c, eval.c,
 * dump.c, check.c, analyze.c, list.c, pages.c are the commands (one file each), cli.c what
 * they share. */
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

/* -W SPEC into `w`; a usage error (2) naming the codes when SPEC names none, else -1. */
int sg_cli_warn_option(const char *cmd, SgWarnPolicy *w, const char *spec);
#define SG_CLI_WARN_HELP                                                                                     \
  "  -W, --warn SPEC    no-CODE switches warning CODE off (e.g. -W no-W071), CODE on again;\n"               \
  "                     error makes every warning an error (repeatable; sigmacc list warnings)\n"

/* Sinks of a run (SgEvalSink): standard output and standard error. */
void sg_cli_to_stdout(void *ctx, const char *s, size_t n);
void sg_cli_to_stderr(void *ctx, const char *s, size_t n);

/* Commands: argv[0] is the command's name; options as getopt_long reads
 * them (--opt=value, -ovalue, -- ends them). */
int sg_cli_convert(int argc, char **argv);
int sg_cli_eval(int argc, char **argv);
int sg_cli_check(int argc, char **argv);
int sg_cli_analyze(int argc, char **argv);
int sg_cli_list(int argc, char **argv);
int sg_cli_pages(int argc, char **argv);
int sg_cli_dump(int argc, char **argv);
int sg_cli_metrics(int argc, char **argv);
int sg_cli_logons(int argc, char **argv);
int sg_cli_search(int argc, char **argv);
int sg_cli_test(int argc, char **argv);

#endif
