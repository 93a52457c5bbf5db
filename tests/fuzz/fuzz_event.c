/* fuzz_event.c - fuzz target: arbitrary bytes as an events input (reader,
 * JSON parser) matched by rules that use every operator, through the evtx
 * pipeline, with correlations of every type the evaluator decides (a chain, a
 * threshold decided when its window ends, at the end of each input). Each
 * event is also written as a match in every format: a JSON line must be
 * strict JSON, a table row must hold nothing a terminal acts on. */
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../outcheck.h"
#include "runs.h"
#include "sigmacc_int.h"

static const char rules[] =
    "title: a\nname: a\nlogsource: {product: windows, service: security}\ndetection:\n"
    "  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains|all: [a, b]\n    EventID: [1, 4688]\n"
    "  other:\n    User|re|i: '^adm.*$'\n    Ip|cidr: [10.0.0.0/8, 'fe80::/10']\n    Count|gt: 3\n"
    "  ref:\n    Parent|fieldref|endswith: Image\n    Hash|exists: true\n    Nothing: null\n"
    "  kw: ['evil', 5, 'a*b?c']\n  condition: sel or other or (ref and not kw) or 1 of k*\n"
    "---\ntitle: b\nname: b\nlogsource: {product: linux}\ndetection:\n  s:\n    A|cased: X\n    B|windash: "
    "'-x'\n"
    "    T|minute: 5\n  k: {'|re': 'x+y'}\n  condition: s or k\n"
    "---\ntitle: c1\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [User]\n  timespan: 5m\n"
    "  condition: {gte: 2}\n"
    "---\ntitle: c2\ncorrelation:\n  type: value_count\n  rules: [a, b]\n  group-by: [Host]\n  timespan: 1h\n"
    "  condition: {gt: 1, field: Ip}\n"
    "---\ntitle: c3\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  group-by: [Host]\n  timespan: 1h\n"
    "---\ntitle: c4\nname: c4\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [User]\n"
    "  timespan: 10m\n  condition: {lt: 3, field: [Ip, Host]}\n"
    "---\ntitle: c5\ncorrelation:\n  type: temporal_ordered\n  rules: [c4, b]\n  group-by: [User]\n"
    "  timespan: 1h\n"
    "---\ntitle: c6\ncorrelation:\n  type: value_percentile\n  rules: [a, b]\n  group-by: [Host]\n"
    "  timespan: 1h\n  condition: {gte: 3, field: Count, percentile: 75}\n";

static SgUnit unit;
static SgArena pa;
static SgEvaluator *ev;
static SgCorrelator *co;

static void setup(void) {
  SgDiags d = {0};
  char *src = malloc(sizeof rules);
  if (!src) abort();
  memcpy(src, rules, sizeof rules);
  sg_compile_source(&unit, "rules.yml", src, sizeof rules - 1, &d);
  sg_arena_init(&pa);
  SgPipelineSet set = {0};
  ev = sg_eval_new();
  co = sg_corr_new();
  if (sg_pipeline_add(&pa, &set, "evtx", &d) != SG_OK || !ev || !co) abort();
  const SgRule *added[16] = {0};
  for (size_t i = 0; i < unit.nrules && i < 16; i++) {
    SgRule *r = unit.rules[i];
    if (r->failed) abort(); /* the rules above must compile */
    if (r->kind != SG_DOC_RULE) continue;
    SgPipelineState st = {0};
    SgRule *p;
    if (sg_pipeline_apply(&unit.arena, &set, r, &p, &st, &d) != SG_OK || sg_eval_add(ev, p, &d) != SG_OK)
      abort();
    added[i] = p;
  }
  for (size_t i = 0; i < unit.nrules; i++) {
    SgRule *r = unit.rules[i];
    SgRuleRef *found;
    const SgRule **refs = sg_arena_alloc(&unit.arena, 4 * sizeof *refs);
    if (r->kind != SG_DOC_CORRELATION) continue;
    if (!refs || sg_corr_resolve(&unit.arena, &unit, r, NULL, &found, &d) != SG_OK) abort();
    for (size_t k = 0; k < r->corr->rules.n; k++) /* a rule as the evaluator has it; a correlation itself */
      refs[k] = found[k].rule->kind == SG_DOC_CORRELATION ? found[k].rule : added[found[k].index];
    if (sg_corr_add(co, r, refs, &d) != SG_OK) abort();
  }
  if (sg_corr_check(co, &d)) abort();
  if (sg_eval_prepare(ev) != SG_OK) abort();
  sg_diags_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ev) setup();
  if (!size) return 0;
  FILE *f = fmemopen((void *)data, size, "r");
  if (!f) return 0;
  SgEventIn in;
  sg_events_init(&in, f);
  const char *text, *msg;
  size_t len, line;
  SgEvNext k;
  SgBuf out = {0};
  while ((k = sg_events_next(&in, &text, &len, &line, &msg)) != SG_EV_END) {
    if (k != SG_EV_EVENT) continue;
    const SgEvalHit *hits;
    size_t nh;
    if (sg_eval_event(ev, &in.doc, &hits, &nh) != SG_OK) continue;
    const SgCorrHit *ch;
    size_t nc;
    sg_corr_event(co, &in.doc, hits, nh, &ch, &nc);
    for (size_t i = 0; i < nc; i++)
      sg_buf_cat(&out, ch[i].group);
    for (size_t i = 0; i < in.doc.n; i++)
      sg_json_str(&out, in.doc.text + in.doc.leaves[i].val, in.doc.leaves[i].vallen);
    sg_buf_reset(&out);
    static const SgEvReport formats[] = {
        {.format = SG_EVAL_JSONL}, {.format = SG_EVAL_TABLE}, {.format = SG_EVAL_CSV}};
    SgReportWhere w = {"in", "line", line, false, 0};
    for (size_t fmt = 0; fmt < 3; fmt++) {
      sg_report_match(&formats[fmt], &out, unit.rules[0], 0, &in.doc, text, len, &w);
      if (fmt == 0 && !oc_json_valid(out.data, out.len)) abort();
      if (fmt == 1 && oc_term_unsafe(out.data, out.len) != out.len) abort();
      sg_buf_reset(&out);
    }
  }
  const SgCorrHit *ch; /* the end of the input: windows decided when they end */
  size_t nc;
  if (sg_corr_finish(co, &ch, &nc) == SG_OK)
    for (size_t i = 0; i < nc; i++)
      if (!oc_json_valid(ch[i].group, strlen(ch[i].group))) abort();
  sg_buf_free(&out);
  sg_events_free(&in);
  fclose(f);
  return 0;
}
