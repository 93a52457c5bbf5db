/* search.c - `sigmacc search`: the events with a value holding a keyword (or
 * matching a regular expression), in any field or in one, printed with what
 * matched where; sg_eval_run without rules.
 */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char search_usage[] =
    "usage: sigmacc search [-i] [--field F] [-f jsonl|csv|table] [-j N] (KEYWORD | -e REGEX) [EVENTS...]\n"
    "  -e, --regex REGEX  a PCRE2 regular expression instead of a keyword\n"
    "  -i, --ignore-case  case-insensitive (Unicode case folding)\n"
    "  --field F          only this field's values (a name such as CommandLine, or a dotted path)\n"
    "  -f, --format       jsonl (when the output is not a terminal): the event with the fields that\n"
    "                     matched; table (on a terminal) or csv: time, computer, channel, event id,\n"
    "                     source and the fields that matched, sorted by time\n"
    "  -j, --jobs N       threads reading events (default: one per core); the output is the same for every "
    "N\n"
    "Every value of every event is searched (EVTX records as evtx_dump writes them, JSON events as\n"
    "they are). EVENTS are as for eval. Exit status: 0 success (whether or not an event matched);\n"
    "2 usage error (a bad regular expression too) or unreadable input; 3 as for eval.\n";

static const struct option longopts[] = {
    {"regex", required_argument, NULL, 'e'},
    {"ignore-case", no_argument, NULL, 'i'},
    {"field", required_argument, NULL, 'F'},
    {"format", required_argument, NULL, 'f'},
    {"jobs", required_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int sg_cli_search(int argc, char **argv) {
  bool terminal = isatty(1);
  SgEvalJob job = {.progress = isatty(2), .format = terminal ? SG_EVAL_TABLE : SG_EVAL_JSONL};
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, ":e:if:j:h", longopts, NULL)) != -1;) {
    switch (c) {
    case 'h': fputs(search_usage, stdout); return 0;
    case 'e':
      job.search = optarg;
      job.search_regex = true;
      break;
    case 'i': job.search_caseless = true; break;
    case 'F': job.search_field = optarg; break;
    case 'f':
      if (!strcmp(optarg, "jsonl"))
        job.format = SG_EVAL_JSONL;
      else if (!strcmp(optarg, "csv"))
        job.format = SG_EVAL_CSV;
      else if (!strcmp(optarg, "table"))
        job.format = SG_EVAL_TABLE;
      else
        return sg_cli_usage_error("search", "--format is jsonl, csv or table, not '%s'", optarg);
      break;
    case 'j': {
      char *end;
      long n = strtol(optarg, &end, 10);
      if (*end || n < 1 || n > 1024)
        return sg_cli_usage_error("search", "-j takes a number of threads from 1 to 1024");
      job.jobs = (size_t)n;
      break;
    }
    default: return sg_cli_option_error("search", c, argv, longopts);
    }
  }
  if (!job.search) {
    if (optind >= argc) return sg_cli_usage_error("search", "give a KEYWORD or -e REGEX");
    job.search = argv[optind++];
  }
  if (!*job.search) return sg_cli_usage_error("search", "the keyword is empty");
  job.events = argv + optind;
  job.nevents = (size_t)(argc - optind);
  SgEvalSink sink = {sg_cli_to_stdout, sg_cli_to_stderr, NULL, NULL};
  return sg_eval_run(&job, &sink);
}
