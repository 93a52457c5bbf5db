/* dump.c - `sigmacc dump` (every event as the JSON line eval's rules read,
 * EVTX records as evtx_dump writes them) and `sigmacc metrics` (the events
 * counted by channel, event id, computer and provider): sg_eval_run without
 * rules.
 */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char dump_usage[] =
    "usage: sigmacc dump [-j N] [--stats] [EVENTS...]\n"
    "  -j, --jobs N  threads reading events (default: one per core); the output is the same for every N\n"
    "  --stats       print events read, bytes and events/s to stderr\n"
    "Every event as one JSON line, as eval's rules see it: an EVTX record as evtx_dump writes it,\n"
    "a JSON event as it is (one line). EVENTS are as for eval: EVTX files, JSON lines, a JSON array\n"
    "or concatenated objects, plain or gzip; a directory: every file under it; none or '-' reads stdin.\n"
    "Damage in an EVTX file (checksums, records that cannot be read, a cut-off end) is reported with\n"
    "its offset, and the records around it are read.\n"
    "Exit status: 0 success; 2 usage error or unreadable input; 3 documents were skipped as malformed,\n"
    "an EVTX file is damaged, or no event was read.\n";

static const char metrics_usage[] =
    "usage: sigmacc metrics [-j N] [--json] [EVENTS...]\n"
    "  -j, --jobs N  threads reading events (default: one per core); the output is the same for every N\n"
    "  --json        JSON even on a terminal (the default when the output is not one)\n"
    "What the events hold before any rule: how many, their first and last time, and counts by\n"
    "channel, by channel and event id, by computer and by provider (most first). EVENTS are as for\n"
    "eval. Exit status as for dump.\n";

static const char logons_usage[] =
    "usage: sigmacc logons [-j N] [--json] [EVENTS...]\n"
    "  -j, --jobs N  threads reading events (default: one per core); the output is the same for every N\n"
    "  --json        JSON even on a terminal (the default when the output is not one)\n"
    "Successful and failed logons (Security 4624 and 4625) counted by user, domain, computer, logon\n"
    "type, source workstation and source address, most first. EVENTS are as for eval. Exit status\n"
    "as for dump.\n";

static const struct option longopts[] = {
    {"jobs", required_argument, NULL, 'j'},
    {"stats", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, 'J'},
    {NULL, 0, NULL, 0},
};

typedef enum Mode { DUMP, METRICS, LOGONS } Mode;

static int run(int argc, char **argv, Mode mode) {
  static const char *const names[] = {"dump", "metrics", "logons"};
  const char *cmd = names[mode];
  bool metrics = mode != DUMP;
  SgEvalJob job = {.dump = mode == DUMP,
                   .metrics = mode == METRICS,
                   .logons = mode == LOGONS,
                   .progress = isatty(2),
                   .summary_table = isatty(1)};
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, ":j:h", longopts, NULL)) != -1;) {
    switch (c) {
    case 'h': fputs(mode == LOGONS ? logons_usage : metrics ? metrics_usage : dump_usage, stdout); return 0;
    case 's':
      if (metrics) return sg_cli_option_error(cmd, '?', argv, longopts);
      job.stats = true;
      break;
    case 'J':
      if (!metrics) return sg_cli_option_error(cmd, '?', argv, longopts);
      job.summary_table = false;
      break;
    case 'j': {
      char *end;
      long n = strtol(optarg, &end, 10);
      if (*end || n < 1 || n > 1024)
        return sg_cli_usage_error(cmd, "-j takes a number of threads from 1 to 1024");
      job.jobs = (size_t)n;
      break;
    }
    default: return sg_cli_option_error(cmd, c, argv, longopts);
    }
  }
  job.events = argv + optind;
  job.nevents = (size_t)(argc - optind);
  SgEvalSink sink = {sg_cli_to_stdout, sg_cli_to_stderr, NULL, NULL};
  return sg_eval_run(&job, &sink);
}

int sg_cli_dump(int argc, char **argv) { return run(argc, argv, DUMP); }

int sg_cli_metrics(int argc, char **argv) { return run(argc, argv, METRICS); }

int sg_cli_logons(int argc, char **argv) { return run(argc, argv, LOGONS); }
