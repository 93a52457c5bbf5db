/* test_api.c - the library as another program uses it: this file includes
 * only sigmacc.h (and the C library) and is built against the library's
 * public include directory alone. It does the three jobs of the command line
 * - convert rules to SPL and AQL with a pipeline and a filter (and one rule's
 * text to one string, the target query), evaluate
 * rules on events, run a golden check - and compares each result with what
 * the sigmacc executable prints for the same arguments, byte for byte. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sigmacc.h"

static int failures;

#define CHECK(cond, ...)                                                                                     \
  do {                                                                                                       \
    if (!(cond)) {                                                                                           \
      fprintf(stderr, "test_api: line %d: ", __LINE__);                                                      \
      fprintf(stderr, __VA_ARGS__);                                                                          \
      fputc('\n', stderr);                                                                                   \
      failures++;                                                                                            \
    }                                                                                                        \
  } while (0)

/* The output of a shell command (run in the source tree) and its exit code. */
static char *capture(const char *cmd, int *rc) {
  FILE *p = popen(cmd, "r");
  SgBuf out = {0};
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0)
    sg_buf_catn(&out, buf, n);
  int st = p ? pclose(p) : -1;
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  sg_buf_cstr(&out);
  return out.data;
}

/* The CLI's stdout and stderr for `sigmacc ARGS`, and its exit code. */
static void cli(const char *args, char **out, char **err, int *rc) {
  char cmd[2048];
  int rc_err;
  snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", SIGMACC_BIN, args);
  *out = capture(cmd, rc);
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1 >/dev/null", SIGMACC_BIN, args);
  *err = capture(cmd, &rc_err);
}

/* Convert through the library and through the CLI: the same output,
 * diagnostics and exit code. */
static void same_convert(const SgConvertJob *job, const char *args, char *const *paths, size_t npaths,
                         const char *must_hold) {
  SgConvertResult res;
  sg_convert_run(job, paths, npaths, &res);
  char *out, *err;
  int rc;
  cli(args, &out, &err, &rc);
  CHECK(!strcmp(out, sg_buf_cstr(&res.out)), "%s: stdout differs:\n%s--- library:\n%s", args, out,
        res.out.data);
  CHECK(!strcmp(err, sg_buf_cstr(&res.diags)), "%s: stderr differs:\n%s--- library:\n%s", args, err,
        res.diags.data);
  CHECK(rc == res.exit_code, "%s: exit %d, library %d", args, rc, res.exit_code);
  CHECK(strstr(res.out.data, must_hold) != NULL, "%s: the output lacks %s:\n%s", args, must_hold,
        res.out.data);
  free(out);
  free(err);
  sg_convert_result_free(&res);
}

/* The eval sink: matches and diagnostics into separate buffers. */
typedef struct Streams {
  SgBuf out, err;
} Streams;
static void to_out(void *ctx, const char *s, size_t n) { sg_buf_catn(&((Streams *)ctx)->out, s, n); }
static void to_err(void *ctx, const char *s, size_t n) { sg_buf_catn(&((Streams *)ctx)->err, s, n); }

int main(void) {
  if (chdir(SIGMACC_SOURCE_DIR) != 0) return 2;
  static char *rules[] = {"sigma-rules/windows"};
  const char *const pipelines[] = {"sysmon", "splunk_windows", "sigma-rules/pipelines/placeholders.yml"};
  const char *const filters[] = {"tests/backend/filters/not_admins.yml"};

  /* 1. convert with pipelines and a filter, to SPL and to AQL */
  SgConvertJob spl = {.target = "splunk",
                      .pipelines = pipelines,
                      .npipelines = 3,
                      .filters = filters,
                      .nfilters = 1,
                      .skip_unsupported = true};
  same_convert(&spl,
               "convert -t splunk -p sysmon -p splunk_windows -p sigma-rules/pipelines/placeholders.yml "
               "--filter tests/backend/filters/not_admins.yml -s sigma-rules/windows",
               rules, 1, "source=\"WinEventLog:");
  const char *const qradar[] = {"qradar", "sigma-rules/pipelines/placeholders.yml"};
  SgConvertJob aql = {.target = "aql",
                      .pipelines = qradar,
                      .npipelines = 2,
                      .filters = filters,
                      .nfilters = 1,
                      .skip_unsupported = true};
  same_convert(&aql,
               "convert -t aql -p qradar -p sigma-rules/pipelines/placeholders.yml "
               "--filter tests/backend/filters/not_admins.yml -s sigma-rules/windows",
               rules, 1, "SELECT * FROM events WHERE devicetype = 12");

  /* 1b. one rule's text to one string: the target query, byte for byte */
  {
    static const char rule_path[] =
        "sigma-rules/windows/image_load/image_load_win_invalid_code_signature.yml";
    char *src;
    size_t len;
    SgDiags d = {0};
    CHECK(sg_read_file(rule_path, &src, &len, &d) == SG_OK, "cannot read %s", rule_path);
    const char *const site[] = {"sigma-rules/pipelines/qradar-site.yml"};
    SgConvertJob one = {.target = "aql", .format = "detection", .pipelines = site, .npipelines = 1};
    SgBuf q = {0};
    SgStatus st = sg_convert_text(&one, rule_path, src, len, &q, &d);
    char *cout, *cerr;
    int crc;
    cli("convert -t aql -p sigma-rules/pipelines/qradar-site.yml -f detection "
        "sigma-rules/windows/image_load/image_load_win_invalid_code_signature.yml",
        &cout, &cerr, &crc);
    CHECK(st == SG_OK && crc == 0, "sg_convert_text: status %d, the CLI's exit %d", st, crc);
    CHECK(!strcmp(cout, sg_buf_cstr(&q)), "sg_convert_text differs from the CLI:\n%s--- CLI:\n%s", q.data,
          cout);
    CHECK(strstr(cout, "AND starttime > (NOW() - 86400000)") != NULL, "not the target query:\n%s", cout);
    free(cout);
    free(cerr);
    free(src);
    sg_buf_free(&q);
    sg_diags_free(&d);
  }

  /* 2. evaluate rules on events */
  static char *eval_rules[] = {"sigma-rules"};
  static char *events[] = {
      "sigma-rules/windows/image_load/image_load_win_invalid_code_signature.events.jsonl"};
  const char *const placeholders[] = {"sigma-rules/pipelines/placeholders.yml"};
  SgEvalJob ev = {.rules = eval_rules,
                  .nrules = 1,
                  .events = events,
                  .nevents = 1,
                  .pipelines = placeholders,
                  .npipelines = 1,
                  .fields = "EventRecordID,SignatureStatus"};
  Streams io = {{0}, {0}};
  SgEvalSink sink = {to_out, to_err, &io, NULL};
  int rc = sg_eval_run(&ev, &sink);
  char *cout, *cerr;
  int crc;
  cli("eval -r sigma-rules -p sigma-rules/pipelines/placeholders.yml --fields EventRecordID,SignatureStatus "
      "sigma-rules/windows/image_load/image_load_win_invalid_code_signature.events.jsonl",
      &cout, &cerr, &crc);
  CHECK(!strcmp(cout, sg_buf_cstr(&io.out)), "eval: stdout differs:\n%s--- library:\n%s", cout, io.out.data);
  CHECK(!strcmp(cerr, sg_buf_cstr(&io.err)), "eval: stderr differs:\n%s--- library:\n%s", cerr, io.err.data);
  CHECK(crc == rc, "eval: exit %d, library %d", crc, rc);
  CHECK(strstr(cout, "\"SignatureStatus\":\"Expired\"") != NULL, "eval: the expected match is missing:\n%s",
        cout);
  free(cout);
  free(cerr);
  sg_buf_free(&io.out);
  sg_buf_free(&io.err);

  /* 3. a golden check */
  const char *const golden_pipes[] = {"sysmon", "splunk_windows", "sigma-rules/pipelines/placeholders.yml"};
  static char *golden_rules[] = {"sigma-rules"};
  SgConvertJob golden = {
      .target = "splunk", .pipelines = golden_pipes, .npipelines = 3, .golden = "golden/splunk/default"};
  same_convert(&golden,
               "convert -t splunk -p sysmon -p splunk_windows -p sigma-rules/pipelines/placeholders.yml "
               "--check golden/splunk/default sigma-rules",
               golden_rules, 1, " 0 differ, 0 missing, 0 extra");

  printf("test_api: convert (SPL, AQL), eval and golden check through sigmacc.h: %s\n",
         failures ? "FAILED" : "same as the CLI");
  return failures ? 1 : 0;
}
