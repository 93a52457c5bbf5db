/* fuzz_cond.c - fuzz target: arbitrary bytes as a condition string, parsed
 * and resolved against searches named a, b, sel1, sel2, filter_x, _hidden. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "sigmacc_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const names[] = {"a", "b", "sel1", "sel2", "filter_x", "_hidden"};
  SgArena a;
  sg_arena_init(&a);
  SgDiags d = {0};
  SgRule r = {0};
  SgSearch searches[6];
  for (int i = 0; i < 6; i++) {
    SgNode *m = sg_node_new(&a, SG_N_MATCH, (SgLoc){0});
    if (!m) goto out;
    m->m.field = names[i];
    m->m.v.kind = SG_V_NUM;
    m->m.v.num.text = "1";
    searches[i] = (SgSearch){.name = names[i], .node = m};
  }
  r.searches = searches;
  r.nsearches = 6;
  SgYNode src = {.kind = SG_Y_SCALAR, .loc = {"fuzz", 1, 1}};
  char *text = sg_arena_strndup(&a, (const char *)data, size);
  if (!text) goto out;
  src.text = text;
  src.len = size;
  SgCondition c = {0};
  r.conds = &c;
  r.nconds = 1;
  if (sg_cond_parse(&a, &c, &src, size && (data[0] & 1), &d) == SG_OK) { /* both keyword modes */
    sg_resolve(&a, &r, &d);
    SgBuf b = {0};
    if (c.root) sg_dump_node(&b, c.root, 0);
    sg_buf_free(&b);
  }
out:
  sg_diags_free(&d);
  sg_arena_free(&a);
  return 0;
}
