/* fuzz_pages.c - fuzz target: arbitrary bytes as a `sigmacc pages --config`
 * file (title, targets: name, target, pipelines, format), then each platform
 * it names prepared as pages prepares it (its target and the text target with
 * its pipelines) and a rule converted with it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "site.h"

static const char rule[] = "title: t\nstatus: test\nlevel: high\ntags: [attack.t1036.001]\n"
                           "logsource: {product: windows, category: image_load}\n"
                           "detection:\n  sel:\n    SignatureStatus|cased: [Invalid, Expired]\n"
                           "    Signature|exists: true\n  condition: sel\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Site site = {0};
  sg_arena_init(&site.a);
  SgDiags d = {0};
  if (sg_site_config(&site, "fuzz.yml", (const char *)data, size, &d))
    for (size_t k = 0; k < site.nplatforms; k++) {
      const Platform *pl = &site.platforms[k];
      SgConvertJob job = {.target = pl->target,
                          .format = pl->format,
                          .pipelines = pl->pipelines,
                          .npipelines = pl->npipelines};
      for (int words = 0; words < 2; words++) {
        if (words) job.target = "text", job.format = NULL;
        SgConverter c;
        if (sg_converter_init(&c, &job, &d) != SG_OK) continue;
        SgBuf out = {0};
        sg_converter_text(&c, "rule.yml", rule, sizeof rule - 1, &out, &d);
        sg_buf_free(&out);
        sg_converter_free(&c);
      }
    }
  sg_diags_free(&d);
  sg_arena_free(&site.a);
  return 0;
}
