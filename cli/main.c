/* main.c - the sigmacc command line: dispatch to one file per command
 * (cli/<command>.c), which parses its arguments and prints; everything else
 * is the library's (include/sigmacc.h). Standard output is checked here,
 * once, for every command.
 *
 * Exit codes (SG_CLI_EXIT_HELP): 0 success, 1 a rule or pipeline had errors
 * (or golden files differ), 2 usage or I/O error; eval adds 3.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: sigmacc <command> [options]\n"
    "\n"
    "Commands:\n"
    "  convert -t TARGET [-p PIPELINE]... [-f FORMAT] [-O key=value]... [-s] [-o OUT] PATH...\n"
    "                     convert Sigma rules to queries (targets: aql, splunk, splunk_spl2, text, ast)\n"
    "  check [--json] [--validation-config FILE] [-x VALIDATOR]... [--fail-on error|warning] PATH...\n"
    "                     validate rules; print located diagnostics and validator findings\n"
    "  eval -r RULES... [-p PIPELINE]... [-f jsonl|csv|table] [--summary] [-j N] [EVENTS...]\n"
    "                     match rules against EVTX files and JSON events (evtx_dump shape or flat)\n"
    "  dump [-j N] [--stats] [EVENTS...]\n"
    "                     every event as the JSON line eval's rules read (EVTX records as evtx_dump's)\n"
    "  metrics [-j N] [--json] [EVENTS...]\n"
    "                     what the events hold: counts by channel, event id, computer, provider\n"
    "  test [--regression-data DIR] [-p PIPELINE]... [--junit FILE] PATH...\n"
    "                     a rule repository's regression tests (SigmaHQ's info.yml, R.events.jsonl)\n"
    "  search [-i] [--field F] [-f FORMAT] (KEYWORD | -e REGEX) [EVENTS...]\n"
    "                     the events with a value holding a keyword or matching a regex\n"
    "  logons [-j N] [--json] [EVENTS...]\n"
    "                     successful and failed logons by user, computer, type, source\n"
    "  analyze logsources|attack|fields [options] PATH...\n"
    "                     rules per log source; an ATT&CK Navigator layer; the fields rules read\n"
    "  pages (-o DIR | --check DIR | --update DIR) [--config FILE] [-p PIPELINE]... PATH...\n"
    "                     detection pages: a static site of the rules, their queries and evidence\n"
    "  list targets|formats [TARGET]|pipelines|modifiers|diagnostics|warnings|validators\n"
    "\n"
    "  --help, --version\n"
    "Run 'sigmacc <command> --help' for the options of a command.\n" SG_CLI_EXIT_HELP
    "eval and dump also exit 3 when documents were skipped, an EVTX file is damaged or a result\n"
    "could not be decided.\n";

/* Standard output must have taken every byte: a full disk, a closed stdout
 * or a failing close is an error naming it (exit 2), never a silent exit 0. */
static int finish(const char *cmd, int rc) {
  bool failed = ferror(stdout) != 0;
  errno = 0;
  if (fclose(stdout) != 0) failed = true;
  if (!failed) return rc;
  fprintf(stderr, "sigmacc%s%s: error[E001]: cannot write standard output%s%s\n", *cmd ? " " : "", cmd,
          errno ? ": " : "", errno ? strerror(errno) : "");
  return 2;
}

static int dispatch(int argc, char **argv) {
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(usage, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("sigmacc %s\n", SIGMACC_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "check")) return sg_cli_check(argc - 1, argv + 1);
  if (!strcmp(cmd, "list")) return sg_cli_list(argc - 1, argv + 1);
  if (!strcmp(cmd, "analyze")) return sg_cli_analyze(argc - 1, argv + 1);
  if (!strcmp(cmd, "convert")) return sg_cli_convert(argc - 1, argv + 1);
  if (!strcmp(cmd, "eval")) return sg_cli_eval(argc - 1, argv + 1);
  if (!strcmp(cmd, "pages")) return sg_cli_pages(argc - 1, argv + 1);
  if (!strcmp(cmd, "dump")) return sg_cli_dump(argc - 1, argv + 1);
  if (!strcmp(cmd, "metrics")) return sg_cli_metrics(argc - 1, argv + 1);
  if (!strcmp(cmd, "logons")) return sg_cli_logons(argc - 1, argv + 1);
  if (!strcmp(cmd, "search")) return sg_cli_search(argc - 1, argv + 1);
  if (!strcmp(cmd, "test")) return sg_cli_test(argc - 1, argv + 1);
  fprintf(stderr, "sigmacc: unknown command '%s'\n\n%s", cmd, usage);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  return finish(argv[1][0] == '-' ? "" : argv[1], dispatch(argc, argv));
}
