/* test_oom.c - out-of-memory sweep over the library: pipelines, conversion
 * and evaluation. The allocator is wrapped at link time (--wrap): a first
 * run counts the allocations of a job, then the job is run again once per
 * allocation with that one failing. Each run must either report the failure
 * (a non-OK status, an `oom` buffer or an E090 diagnostic) or give exactly
 * the output of the run without failures: never a crash, a leak (the
 * sanitizer build checks) or a silently narrower result. */
#define _GNU_SOURCE /* fmemopen, strndup */
#include "testutil.h"

#include "backend.h"

#include "failalloc.h"

static const char rules[] =
    "title: Suspicious Shell\nid: 5d1c6b1e-1d2a-4c39-9e6b-1f0c6d1e2a3b\nstatus: test\nlevel: high\n"
    "description: \"two\\nlines\"\ntags: [attack.t1059]\n"
    "logsource: {product: windows, category: process_creation}\n"
    "detection:\n  sel:\n    Image|endswith: ['\\cmd.exe', '\\powershell.exe']\n"
    "    CommandLine|contains|all: [' /c ', 'whoami']\n    User|re: '^adm'\n  filter:\n"
    "    ParentImage|startswith: 'C:\\Windows\\'\n    Ip|cidr: 10.0.0.0/8\n  kw: [evil]\n"
    "  condition: sel and not filter or kw\nfields: [Image, CommandLine]\n"
    "---\ntitle: Burst\ncorrelation:\n  type: event_count\n  rules: [5d1c6b1e-1d2a-4c39-9e6b-1f0c6d1e2a3b]\n"
    "  group-by: [User]\n  timespan: 5m\n  condition: {gte: 2}\n  generate: true\n";

static const char events[] =
    "{\"Image\":\"C:\\\\x\\\\cmd.exe\",\"CommandLine\":\"cmd /c "
    "whoami\",\"User\":\"admin\",\"ParentImage\":\"D:\\\\p\","
    "\"@timestamp\":\"2026-01-01T00:00:00Z\"}\n"
    "{\"Image\":\"C:\\\\x\\\\cmd.exe\",\"CommandLine\":\"cmd /c "
    "whoami\",\"User\":\"admin\",\"ParentImage\":\"D:\\\\p\","
    "\"@timestamp\":\"2026-01-01T00:01:00Z\"}\n{\"Message\":\"an evil thing\"}\n{\"broken\":\n";

static const char pipeline[] = "name: oom\n"
                               "priority: 10\n"
                               "transformations:\n"
                               "  - id: map\n"
                               "    type: field_name_mapping\n"
                               "    mapping: {Image: [NewImage, ProcessImage], User: UserName}\n"
                               "  - type: field_name_prefix\n"
                               "    prefix: 'x.'\n"
                               "    field_name_conditions: [{type: include_fields, fields: [CommandLine]}]\n"
                               "  - type: replace_string\n"
                               "    regex: 'cmd'\n"
                               "    replacement: 'CMD'\n"
                               "  - type: add_condition\n"
                               "    conditions: {Source: sysmon}\n"
                               "    rule_conditions: [{type: logsource, product: windows}]\n"
                               "  - type: set_state\n"
                               "    key: k\n"
                               "    val: v\n"
                               "  - type: change_logsource\n"
                               "    product: changed\n"
                               "postprocessing:\n"
                               "  - type: simple_template\n"
                               "    template: 'Q({query}) {rule.title}'\n"
                               "  - type: replace\n"
                               "    pattern: 'Q'\n"
                               "    replacement: 'q'\n"
                               "finalizers:\n"
                               "  - type: concat\n"
                               "    separator: \" || \"\n";

typedef struct Result {
  SgBuf out;
  bool failed; /* the job reported a failure */
} Result;

static void note_diags(Result *r, const SgDiags *d) {
  if (d->oom) r->failed = true;
  for (size_t i = 0; i < d->n; i++)
    if (d->items[i].code == SG_D_NOMEM) r->failed = true;
}

/* The rules into u (the unit owns their text). */
static void compile_rules(Result *r, SgUnit *u, SgDiags *d) {
  char *src = malloc(sizeof rules);
  if (!src) {
    r->failed = true;
    return;
  }
  memcpy(src, rules, sizeof rules);
  if (sg_compile_source(u, "r.yml", src, sizeof rules - 1, d) != SG_OK) r->failed = true;
}

/* Every rule of u converted with t; a rule that fails otherwise than by
 * running out of memory is part of the output (it must fail the same way). */
static void convert_all(Result *r, const SgTarget *t, SgConvCtx *ctx, const SgPipelineSet *set, SgUnit *u,
                        SgQueries *q, SgDiags *d) {
  for (size_t i = 0; i < u->nrules; i++) {
    SgStatus st = sg_convert_rule(t, ctx, set, u, u->rules[i], q, d);
    if (st == SG_ERR_NOMEM)
      r->failed = true;
    else if (st != SG_OK)
      sg_buf_catf(&r->out, "[rule %zu: status %d]\n", i, st);
  }
}

/* Pipelines + conversion: every target and format with sysmon. */
static void job_convert(Result *r) {
  SgArena pa;
  sg_arena_init(&pa);
  SgDiags d = {0};
  SgPipelineSet set = {0};
  if (sg_pipeline_add(&pa, &set, "sysmon", &d) != SG_OK || sg_pipeline_validate(&pa, &set, &d) != SG_OK)
    r->failed = true;
  SgUnit u = {0};
  compile_rules(r, &u, &d);
  size_t nt;
  const SgTarget *const *targets = sg_target_list(&nt);
  for (size_t t = 0; !r->failed && t < nt; t++)
    for (size_t f = 0; targets[t]->formats[f].name; f++) {
      if (!strcmp(targets[t]->formats[f].name, "data_model")) continue; /* needs splunk_cim */
      SgConvCtx ctx = {.format = targets[t]->formats[f].name};
      SgQueries q = {0};
      convert_all(r, targets[t], &ctx, &set, &u, &q, &d);
      SgBuf o = {0};
      targets[t]->finish(&ctx, &q, &o);
      if (o.oom) r->failed = true;
      sg_buf_catf(&r->out, "== %s %s\n%s", targets[t]->name, targets[t]->formats[f].name, sg_buf_cstr(&o));
      sg_buf_free(&o);
      sg_queries_free(&q);
    }
  note_diags(r, &d);
  if (u.arena.failed || pa.failed || r->out.oom) r->failed = true;
  sg_unit_free(&u);
  sg_diags_free(&d);
  sg_arena_free(&pa);
}

/* Evaluation: the rule (no pipeline: the events are flat), events, the correlation. */
static void job_eval(Result *r) {
  SgArena pa;
  sg_arena_init(&pa);
  SgDiags d = {0};
  SgPipelineSet set = {0};
  SgEvaluator *e = sg_eval_new();
  SgCorrelator *co = sg_corr_new();
  SgUnit u = {0};
  if (!e || !co) r->failed = true;
  compile_rules(r, &u, &d);
  const SgRule *refs[1] = {NULL};
  if (!r->failed) {
    SgPipelineState st = {0};
    SgRule *p; /* no pipeline: the events are flat */
    if (sg_pipeline_apply(&u.arena, &set, u.rules[0], &p, &st, &d) != SG_OK ||
        sg_eval_add(e, p, &d) != SG_OK || sg_eval_prepare(e) != SG_OK ||
        sg_corr_add(co, u.rules[1], (refs[0] = p, refs), &d) != SG_OK)
      r->failed = true;
  }
  FILE *f = r->failed ? NULL : fmemopen((void *)events, sizeof events - 1, "r");
  if (!r->failed && !f) r->failed = true;
  if (f) {
    SgEventIn in;
    sg_events_init(&in, f);
    const char *text, *msg;
    size_t len, line;
    SgEvNext k;
    while ((k = sg_events_next(&in, &text, &len, &line, &msg)) != SG_EV_END) {
      if (k == SG_EV_SKIP) {
        sg_buf_catf(&r->out, "skip %zu: %s\n", line, msg);
        continue;
      }
      if (k == SG_EV_NOMEM) {
        r->failed = true;
        continue;
      }
      const SgEvalHit *hits;
      size_t nh;
      if (sg_eval_event(e, &in.doc, &hits, &nh) != SG_OK) {
        r->failed = true;
        continue;
      }
      for (size_t i = 0; i < nh; i++)
        sg_buf_catf(&r->out, "hit %zu: %s\n", line, hits[i].rule->title);
      const SgCorrHit *ch;
      size_t nc;
      if (sg_corr_event(co, &in.doc, hits, nh, &ch, &nc) != SG_OK) r->failed = true;
      for (size_t i = 0; i < nc; i++)
        sg_buf_catf(&r->out, "corr %zu: %s %s %zu\n", line, ch[i].rule->title, ch[i].group, ch[i].matches);
    }
    if (in.rd.nomem || in.rd.ioerr) r->failed = true;
    sg_events_free(&in);
    fclose(f);
  }
  note_diags(r, &d);
  if (u.arena.failed || pa.failed || r->out.oom) r->failed = true;
  sg_corr_free(co);
  sg_eval_free(e);
  sg_unit_free(&u);
  sg_diags_free(&d);
  sg_arena_free(&pa);
}

/* A pipeline file with transformations, postprocessing and a finalizer,
 * loaded and applied to the rules for both text targets. */
static void job_pipeline(Result *r) {
  SgArena pa;
  sg_arena_init(&pa);
  SgDiags d = {0};
  SgPipeline *p = NULL;
  if (sg_pipeline_load(&pa, "p.yml", pipeline, sizeof pipeline - 1, &p, &d) != SG_OK) r->failed = true;
  SgPipeline *one[] = {p};
  SgPipelineSet set = {one, 1, 1};
  SgUnit u = {0};
  compile_rules(r, &u, &d);
  static const char *const names[] = {"splunk", "aql"};
  for (size_t t = 0; !r->failed && t < 2; t++) {
    const SgTarget *tg = sg_target_find(names[t]);
    SgConvCtx ctx = {.format = "default"};
    SgQueries q = {0};
    convert_all(r, tg, &ctx, &set, &u, &q, &d);
    const char **texts = calloc(q.n + 1, sizeof *texts);
    if (!texts) r->failed = true;
    for (size_t i = 0; texts && i < q.n; i++)
      texts[i] = q.v[i].text;
    SgBuf o = {0};
    if (texts && !sg_pipeline_finalize(&set, texts, q.n, &o, &d)) sg_buf_cat(&r->out, "[no finalizer]\n");
    if (o.oom) r->failed = true;
    sg_buf_catf(&r->out, "== %s\n%s", names[t], sg_buf_cstr(&o));
    sg_buf_free(&o);
    free(texts);
    sg_queries_free(&q);
  }
  note_diags(r, &d);
  if (u.arena.failed || pa.failed || r->out.oom) r->failed = true;
  sg_unit_free(&u);
  sg_diags_free(&d);
  sg_arena_free(&pa);
}

/* `sigmacc eval` as a library call (sg_eval_run, one job): the rules and
 * events above from files, matched and written as a CSV timeline, then as a
 * summary. A failure is reported when stderr names it (E090, out of memory). */
static char eval_dir[64];

static void to_out(void *ctx, const char *s, size_t n) { sg_buf_catn(&((Result *)ctx)[0].out, s, n); }
static void to_err(void *ctx, const char *s, size_t n) { sg_buf_catn(&((Result *)ctx)[1].out, s, n); }

static void job_eval_run(Result *r) {
  char rules_path[96], events_path[96];
  snprintf(rules_path, sizeof rules_path, "%s/r.yml", eval_dir);
  snprintf(events_path, sizeof events_path, "%s/e.jsonl", eval_dir);
  char *rule_args[] = {rules_path}, *event_args[] = {events_path};
  for (int pass = 0; pass < 2; pass++) {
    Result io[2];
    memset(io, 0, sizeof io);
    SgEvalJob job = {.rules = rule_args,
                     .nrules = 1,
                     .events = event_args,
                     .nevents = 1,
                     .without_pipeline = true,
                     .format = SG_EVAL_CSV,
                     .summary = pass == 1,
                     .jobs = 1};
    SgEvalSink sink = {to_out, to_err, io, NULL};
    int rc = sg_eval_run(&job, &sink);
    const char *err = sg_buf_cstr(&io[1].out);
    if (getenv("SIGMACC_OOM_AT")) fprintf(stderr, "stderr of pass %d:\n%s", pass, err); /* for a debugger */
    if (io[0].out.oom || io[1].out.oom || strstr(err, "E090") || strstr(err, "out of memory"))
      r->failed = true;
    sg_buf_catf(&r->out, "exit %d\n%s", rc, sg_buf_cstr(&io[0].out));
    sg_buf_free(&io[0].out);
    sg_buf_free(&io[1].out);
  }
  if (r->out.oom) r->failed = true;
}

/* `sigmacc convert` as a library call (sg_convert_run): the rules above
 * through the pipeline above (and a Jinja template) to SPL and to AQL. A
 * failure is reported when the diagnostics name it (E090, out of memory):
 * an exit 1 with nothing said was how running out of memory looked. */
static void job_convert_run(Result *r) {
  char rules_path[96], pipe_path[96], tpl_path[96];
  snprintf(rules_path, sizeof rules_path, "%s/r.yml", eval_dir);
  snprintf(pipe_path, sizeof pipe_path, "%s/p.yml", eval_dir);
  snprintf(tpl_path, sizeof tpl_path, "%s/t.yml", eval_dir);
  char *paths[] = {rules_path};
  const char *const pipes[] = {pipe_path, tpl_path};
  static const char *const targets[] = {"splunk", "aql"};
  for (int t = 0; t < 2; t++) {
    SgConvertJob job = {.target = targets[t], .pipelines = pipes, .npipelines = 2, .without_pipeline = true};
    SgConvertResult res;
    sg_convert_run(&job, paths, 1, &res);
    const char *err = sg_buf_cstr(&res.diags);
    if (getenv("SIGMACC_OOM_AT")) fprintf(stderr, "diags (exit %d):\n%s", res.exit_code, err);
    if (res.out.oom || res.diags.oom || strstr(err, "E090") || strstr(err, "out of memory")) r->failed = true;
    sg_buf_catf(&r->out, "exit %d\n%s", res.exit_code, sg_buf_cstr(&res.out));
    sg_convert_result_free(&res);
  }
  if (r->out.oom) r->failed = true;
}

/* The directory walker over the project's rules: a path it could not list
 * is reported, never a silently shorter list. */
static void job_paths(Result *r) {
  char *args[] = {SIGMACC_SOURCE_DIR "/sigma-rules", SIGMACC_SOURCE_DIR "/tests/ast/01_map_and.yml", "-"};
  SgPaths p = {0};
  SgDiags d = {0};
  sg_expand_paths(3, args, &p, &d);
  for (size_t i = 0; i < p.n; i++)
    sg_buf_catf(&r->out, "%s %zu\n", p.v[i], p.rel[i]);
  note_diags(r, &d);
  if (r->out.oom) r->failed = true;
  sg_paths_free(&p);
  sg_diags_free(&d);
}

static void sweep(void (*job)(Result *), const char *name) {
  Result want = {0};
  fa_start(0);
  job(&want);
  size_t total = fa_allocs;
  assert_false(want.failed);
  assert_true(want.out.len > 0);
  /* SIGMACC_OOM_AT=NAME:K runs only that job with only allocation K failing (for a debugger) */
  const char *only_at = getenv("SIGMACC_OOM_AT");
  size_t reported = 0, only = 0, nl = strlen(name);
  if (only_at && !strncmp(only_at, name, nl) && only_at[nl] == ':') {
    only = strtoul(only_at + nl + 1, NULL, 10);
  } else if (only_at) {
    sg_buf_free(&want.out);
    return;
  }
  for (size_t k = only ? only : 1; k <= (only ? only : total); k++) {
    Result got = {0};
    fa_start(k);
    job(&got);
    fa_stop();
    if (got.failed)
      reported++;
    else if (strcmp(sg_buf_cstr(&got.out), sg_buf_cstr(&want.out))) {
      size_t at = 0;
      while (got.out.data[at] == want.out.data[at])
        at++;
      size_t from = at > 200 ? at - 200 : 0;
      fail_msg(
          "%s: allocation %zu of %zu failed, no failure was reported, and the output differs at byte %zu:\n"
          "--- want:\n%.400s\n--- got:\n%.400s",
          name, k, total, at, want.out.data + from, got.out.data + from);
    }
    sg_buf_free(&got.out);
  }
  printf("%s: %zu allocations, each failed once: %zu reported, %zu absorbed with the same output\n", name,
         total, reported, total - reported);
  sg_buf_free(&want.out);
}

static void test_convert(void **state) {
  (void)state;
  sweep(job_convert, "convert");
}

static void test_pipeline(void **state) {
  (void)state;
  sweep(job_pipeline, "pipeline");
}

static void test_eval_run(void **state) {
  (void)state;
  snprintf(eval_dir, sizeof eval_dir, "/tmp/sigmacc-oom-XXXXXX");
  assert_non_null(mkdtemp(eval_dir));
  char path[96];
  snprintf(path, sizeof path, "%s/r.yml", eval_dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(rules, f);
  fclose(f);
  snprintf(path, sizeof path, "%s/e.jsonl", eval_dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(events, f);
  fclose(f);
  sweep(job_eval_run, "eval_run");
  snprintf(path, sizeof path, "%s/p.yml", eval_dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(pipeline, f);
  fclose(f);
  snprintf(path, sizeof path, "%s/t.yml", eval_dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(
      "name: tpl\npriority: 20\npostprocessing:\n  - type: template\n"
      "    template: \"{% for x in ['a', 'b'] %}{{ x|upper }}{% endfor %} {{ query|replace('x', 'y') }}\"\n",
      f);
  fclose(f);
  sweep(job_convert_run, "convert_run");
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", eval_dir);
  assert_int_equal(system(cmd), 0);
}

static void test_paths(void **state) {
  (void)state;
  sweep(job_paths, "paths");
}

static void test_eval(void **state) {
  (void)state;
  sweep(job_eval, "eval");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_convert),  cmocka_unit_test(test_pipeline), cmocka_unit_test(test_eval),
      cmocka_unit_test(test_eval_run), cmocka_unit_test(test_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
