/* fuzz_rule.c - fuzz target: arbitrary bytes through the whole front end
 * (YAML, rule model, detection, conditions, resolution, AST dump), `check`'s
 * validators (they read the rule's YAML too) and every target in every
 * format (no pipeline), written out as a run writes them. The validators are
 * all of them, SigmaHQ's with small data files. Properties: every
 * line of a json format is strict JSON; the rendered diagnostics hold nothing
 * a terminal acts on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../outcheck.h"
#include "backend.h"
#include "sigmacc_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *src = malloc(size + 1);
  if (!src) return 0;
  if (size) memcpy(src, data, size);
  src[size] = '\0';
  SgUnit u;
  SgDiags d = {0};
  sg_compile_source(&u, "fuzz.yml", src, size, &d);
  static SgValidation *val;
  if (!val) { /* every validator, SigmaHQ's with the catalogue's data files */
    SgDiags vd = {0};
    if (!(val = sg_validation_new())) abort();
    sg_validation_sigmahq(val);
    if (sg_hq_data_load(val, SIGMACC_SOURCE_DIR "/golden/validators/sigmahq_data", &vd) != SG_OK) abort();
    sg_diags_free(&vd);
  }
  sg_validate_unit(val, &u, &d, 0);
  SgRuleKey *keys = NULL; /* the checks across files, over this file's rules */
  size_t nkeys = 0, capkeys = 0;
  if (sg_rule_keys(&u, &keys, &nkeys, &capkeys)) sg_validate_batch(val, keys, nkeys, &d);
  SgBuf out = {0};
  for (size_t i = 0; i < u.nrules; i++)
    sg_dump_rule(&out, u.rules[i]);
  size_t nt;
  const SgTarget *const *targets = sg_target_list(&nt);
  SgPipelineSet none = {0};
  for (size_t t = 0; t < nt; t++)
    for (size_t f = 0; targets[t]->formats[f].name; f++) {
      SgConvCtx ctx = {.format = targets[t]->formats[f].name};
      SgQueries q = {0};
      SgDiags fd = {0};
      for (size_t i = 0; i < u.nrules; i++)
        if (!u.rules[i]->failed) sg_convert_rule(targets[t], &ctx, &none, &u, u.rules[i], &q, &fd);
      SgBuf text = {0};
      sg_render_queries(targets[t], &ctx, &none, &q, &text, &fd);
      if (!strcmp(ctx.format, "json"))
        for (const char *l = sg_buf_cstr(&text), *nl; *l; l = nl + 1)
          if (!(nl = strchr(l, '\n')) || !oc_json_valid(l, (size_t)(nl - l))) abort();
      sg_buf_free(&text);
      sg_queries_free(&q);
      sg_diags_free(&fd);
    }
  size_t at = out.len;
  for (size_t i = 0; i < d.n; i++)
    sg_diag_render(&out, &d.items[i], u.src, u.srclen);
  if (oc_term_unsafe(sg_buf_cstr(&out) + at, out.len - at) != out.len - at) abort();
  sg_buf_free(&out);
  sg_rule_keys_free(keys, nkeys); /* after the diagnostics: their paths are the keys' */
  sg_unit_free(&u);
  sg_diags_free(&d);
  return 0;
}
