/* fuzz_pipeline.c - fuzz target: arbitrary bytes as a processing pipeline
 * (loader, set validation), applied to rules that use every kind of detection
 * item, then converted with every target and format, postprocessed and
 * finalized. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "sigmacc_int.h"

static const char rules[] =
    "title: t\nid: 5d1c6b1e-1d2a-4c39-9e6b-1f0c6d1e2a3b\nstatus: test\nlevel: high\ntags: [attack.t1059]\n"
    "logsource: {product: windows, category: process_creation, service: security}\n"
    "detection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains|all: [a, b]\n"
    "    EventID: [1, 4688]\n    User|re: '^adm'\n    Ip|cidr: 10.0.0.0/8\n    Parent|fieldref: Image\n"
    "    Hash|exists: true\n  kw: [evil, 5]\n  condition: sel and not kw\nfields: [Image, CommandLine]\n"
    "---\ntitle: c\ncorrelation:\n  type: event_count\n  rules: [5d1c6b1e-1d2a-4c39-9e6b-1f0c6d1e2a3b]\n"
    "  group-by: [User]\n  timespan: 5m\n  condition: {gte: 2}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *src = malloc(size + 1);
  if (!src) return 0;
  if (size) memcpy(src, data, size);
  src[size] = '\0';
  SgArena pa;
  sg_arena_init(&pa);
  SgDiags d = {0};
  SgPipeline *p = NULL;
  SgPipelineSet set = {0};
  if (sg_pipeline_load(&pa, "fuzz.yml", src, size, &p, &d) == SG_OK && p) {
    SgPipeline *one[] = {p};
    set = (SgPipelineSet){one, 1, 1};
    if (sg_pipeline_validate(&pa, &set, &d) == SG_OK) {
      char *rsrc = malloc(sizeof rules);
      SgUnit u;
      if (rsrc) {
        memcpy(rsrc, rules, sizeof rules);
        sg_compile_source(&u, "rules.yml", rsrc, sizeof rules - 1, &d);
        size_t nt;
        const SgTarget *const *targets = sg_target_list(&nt);
        for (size_t t = 0; t < nt; t++)
          for (size_t f = 0; targets[t]->formats[f].name; f++) {
            SgConvCtx ctx = {.format = targets[t]->formats[f].name};
            SgQueries q = {0};
            for (size_t i = 0; i < u.nrules; i++)
              if (!u.rules[i]->failed && !u.rules[i]->correlated)
                sg_convert_rule(targets[t], &ctx, &set, &u, u.rules[i], &q, &d);
            const char **texts = calloc(q.n + 1, sizeof *texts);
            SgBuf out = {0};
            for (size_t i = 0; texts && i < q.n; i++)
              texts[i] = q.v[i].text;
            if (texts && !sg_pipeline_finalize(&set, texts, q.n, &out, &d))
              targets[t]->finish(&ctx, &q, &out);
            free(texts);
            sg_buf_free(&out);
            sg_queries_free(&q);
          }
        sg_unit_free(&u);
      }
    }
  }
  SgBuf out = {0};
  for (size_t i = 0; i < d.n; i++)
    sg_diag_render(&out, &d.items[i], src, size);
  sg_buf_free(&out);
  sg_diags_free(&d);
  sg_arena_free(&pa);
  free(src);
  return 0;
}
