/* evtx_dom.h - one Windows event as an element tree, and that tree written as
 * the JSON evtx_dump writes for it (evtx_json.c).
 *
 * The native EVTX reader (evtx.c) builds the tree from a record's binary XML;
 * the tests build it from the XML libevtx renders, to compare the two. Names,
 * attribute values and texts are ranges of one text buffer (`text`), so the
 * tree is built while that buffer grows.
 */
#ifndef SG_EVTX_DOM_H
#define SG_EVTX_DOM_H

#include "evaluator.h"

#define XDOM_NAMES 0x80000000u /* a name offset with this bit is into XDom.names */

typedef struct XAttr {
  uint32_t name, nlen, val, vlen; /* ranges of XDom.text (a name: or of XDom.names) */
} XAttr;

typedef struct XNode {
  uint32_t name, nlen;
  uint32_t text, tlen;  /* a leaf's text; tlen 0: none (null) */
  uint32_t attr, nattr; /* into XDom.attrs */
  int32_t first, last, next;
} XNode;

typedef struct XDom {
  XNode *nodes; /* nodes[0] is the root element */
  size_t n, cap;
  XAttr *attrs;
  size_t na, capa;
  const char *text;
  const char *names; /* names kept from record to record (the native reader's) */
} XDom;

static inline const char *sg_xdom_str(const XDom *d, uint32_t off) {
  return off & XDOM_NAMES ? d->names + (off & ~XDOM_NAMES) : d->text + off;
}

/* A new node, the last child of `parent` (-1: the root); -1 when memory ran out. */
int32_t sg_xdom_add(XDom *d, int32_t parent);
/* The tree as evtx_dump's JSON, appended to out; or as the document the JSON
 * parser would make of that JSON (false: out of memory). */
void sg_xdom_json(const XDom *d, SgBuf *out);
bool sg_xdom_doc(const XDom *d, SgJBuild *j, SgJDoc *doc);
void sg_xdom_free(XDom *d);

#endif
