/* fuzz_evtx.c - fuzz target: arbitrary bytes as the XML libevtx renders for
 * an EVTX record, turned into evtx_dump's JSON. Property: whatever is
 * converted is one valid JSON object (the evaluator's parser reads it back). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval/evaluator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *xml = malloc(size + 1);
  if (!xml) return 0;
  memcpy(xml, data, size);
  xml[size] = '\0';
  SgBuf out = {0};
  void *dom = NULL;
  const char *why;
  if (sg_evtx_xml_to_json(xml, &out, &dom, &why)) {
    SgJDoc doc = {0};
    size_t off;
    const char *err;
    if (!sg_json_parse(&doc, out.data, out.len, &off, &err) && strcmp(err, "out of memory")) abort();
    sg_jdoc_free(&doc);
  }
  sg_evtx_dom_free(dom);
  sg_buf_free(&out);
  free(xml);
  return 0;
}
