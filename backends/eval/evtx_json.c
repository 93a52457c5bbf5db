/* evtx_json.c - an event's element tree (evtx_dom.h) as the JSON evtx_dump
 * writes for it:
 *   - an element with attributes or child elements is an object; its
 *     attributes under "#attributes" (strings), its children by name (a
 *     repeated name becomes an array), its text under "#text";
 *   - an element with only text is that text; an empty one is null;
 *   - System's EventID, Version, Level, Task, Opcode and EventRecordID are
 *     numbers (evtx_dump keeps their binary XML integer type);
 *   - EventData's <Data Name="N">v</Data> is "N": "v" (a string, or null when
 *     empty); unnamed Data elements are "Data": {"#text": [...]};
 *   - namespace declarations (xmlns, xmlns:*) are dropped below the root, and
 *     so are EventData's own attributes;
 *   - a control character other than tab, LF and CR is the text `\xNN`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtx_dom.h"

int32_t sg_xdom_add(XDom *d, int32_t parent) {
  XNode *n = SG_PUSH_HEAP(d->nodes, d->n, d->cap);
  if (!n || d->n > INT32_MAX) return -1;
  *n = (XNode){.attr = (uint32_t)d->na, .first = -1, .last = -1, .next = -1};
  int32_t id = (int32_t)(d->n - 1);
  if (parent >= 0) {
    XNode *p = &d->nodes[parent];
    if (p->last >= 0)
      d->nodes[p->last].next = id;
    else
      p->first = id;
    p->last = id;
  }
  return id;
}

void sg_xdom_free(XDom *d) {
  free(d->nodes);
  free(d->attrs);
  *d = (XDom){0};
}

static bool is(const char *s, size_t n, const char *word) { return n == strlen(word) && !memcmp(s, word, n); }

#define NAME(d, k) sg_xdom_str(d, (k)->name)

static bool same_name(const XDom *d, const XNode *a, const XNode *b) {
  return a->nlen == b->nlen && (a->name == b->name || !memcmp(NAME(d, a), NAME(d, b), a->nlen));
}

static bool digits(const char *s, size_t n) {
  if (!n || n > 19) return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

typedef enum Ctx { CX_ANY, CX_SYSTEM, CX_NUMBER, CX_EVENTDATA } Ctx;

/* A JSON string; control characters as evtx_dump writes them (`\x02`). */
static void str(SgBuf *b, const char *s, size_t n) {
  size_t i = 0;
  while (i < n && ((unsigned char)s[i] >= 0x20 || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  if (i == n) {
    sg_json_str(b, s, n);
    return;
  }
  SgBuf t = {0};
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
      sg_buf_catf(&t, "\\x%02x", (unsigned)s[i]);
    else
      sg_buf_putc(&t, s[i]);
  sg_json_str(b, t.data, t.len);
  sg_buf_taint(b, &t);
  sg_buf_free(&t);
}

static void text(SgBuf *b, const XDom *d, const XNode *n, bool number) {
  const char *s = d->text + n->text;
  if (!n->tlen)
    SG_BUF_PUT_LIT(b, "null");
  else if (number && digits(s, n->tlen))
    sg_buf_put(b, s, n->tlen);
  else
    str(b, s, n->tlen);
}

static bool ns_attr(const XDom *d, const XAttr *a) {
  const char *s = sg_xdom_str(d, a->name);
  return a->nlen >= 5 && !memcmp(s, "xmlns", 5) && (a->nlen == 5 || s[5] == ':');
}

static void emit(SgBuf *b, const XDom *d, int32_t id, Ctx cx, bool root);

/* The children of `id`, grouped by name in order of first appearance. */
static void emit_children(SgBuf *b, const XDom *d, int32_t id, Ctx cx, bool *comma) {
  for (int32_t c = d->nodes[id].first; c >= 0; c = d->nodes[c].next) {
    const XNode *k = &d->nodes[c];
    bool dup = false; /* written with its first sibling of the same name */
    for (int32_t e = d->nodes[id].first; e != c && !dup; e = d->nodes[e].next)
      dup = same_name(d, &d->nodes[e], k);
    if (dup) continue;
    size_t count = 0;
    for (int32_t e = c; e >= 0; e = d->nodes[e].next)
      count += same_name(d, &d->nodes[e], k);
    if (*comma) sg_buf_putc(b, ',');
    *comma = true;
    sg_json_str(b, NAME(d, k), k->nlen);
    sg_buf_putc(b, ':');
    Ctx kcx = CX_ANY;
    if (cx == CX_SYSTEM) {
      static const char *const numeric[] = {"EventID", "Version", "Level", "Task", "Opcode", "EventRecordID"};
      for (size_t i = 0; i < sizeof numeric / sizeof *numeric; i++)
        if (is(NAME(d, k), k->nlen, numeric[i])) kcx = CX_NUMBER;
    }
    if (count > 1) sg_buf_putc(b, '[');
    bool first = true;
    for (int32_t e = c; e >= 0; e = d->nodes[e].next)
      if (same_name(d, &d->nodes[e], k)) {
        if (!first) sg_buf_putc(b, ',');
        first = false;
        emit(b, d, e, kcx, false);
      }
    if (count > 1) sg_buf_putc(b, ']');
  }
}

/* The Name attribute of a node, or NULL. */
static const XAttr *name_attr(const XDom *d, const XNode *k) {
  const XAttr *name = NULL;
  for (uint32_t a = 0; a < k->nattr; a++)
    if (is(sg_xdom_str(d, d->attrs[k->attr + a].name), d->attrs[k->attr + a].nlen, "Name"))
      name = &d->attrs[k->attr + a];
  return name;
}

static bool is_data(const XDom *d, const XNode *k) { return is(NAME(d, k), k->nlen, "Data"); }

/* EventData: named Data elements by their names, unnamed ones as a list. */
static void emit_eventdata(SgBuf *b, const XDom *d, int32_t id) {
  sg_buf_putc(b, '{');
  bool comma = false;
  size_t unnamed = 0;
  for (int32_t c = d->nodes[id].first; c >= 0; c = d->nodes[c].next) {
    const XNode *k = &d->nodes[c];
    const XAttr *name = name_attr(d, k);
    if (is_data(d, k) && !name) {
      unnamed++;
      continue;
    }
    if (comma) sg_buf_putc(b, ',');
    comma = true;
    if (name && is_data(d, k) && k->first < 0) {
      sg_json_str(b, d->text + name->val, name->vlen);
      sg_buf_putc(b, ':');
      if (k->tlen)
        str(b, d->text + k->text, k->tlen);
      else
        SG_BUF_PUT_LIT(b, "null");
    } else {
      sg_json_str(b, NAME(d, k), k->nlen);
      sg_buf_putc(b, ':');
      emit(b, d, c, CX_ANY, false);
    }
  }
  if (unnamed) {
    if (comma) sg_buf_putc(b, ',');
    sg_buf_cat(b, "\"Data\":{\"#text\":");
    if (unnamed > 1) sg_buf_putc(b, '[');
    bool first = true;
    for (int32_t c = d->nodes[id].first; c >= 0; c = d->nodes[c].next) {
      const XNode *k = &d->nodes[c];
      if (!is_data(d, k) || name_attr(d, k)) continue;
      if (!first) sg_buf_putc(b, ',');
      first = false;
      if (k->tlen)
        str(b, d->text + k->text, k->tlen);
      else
        SG_BUF_PUT_LIT(b, "null");
    }
    if (unnamed > 1) sg_buf_putc(b, ']');
    sg_buf_putc(b, '}');
  }
  sg_buf_putc(b, '}');
}

static void emit(SgBuf *b, const XDom *d, int32_t id, Ctx cx, bool root) {
  const XNode *n = &d->nodes[id];
  size_t nattr = 0;
  for (uint32_t a = 0; a < n->nattr; a++)
    nattr += root || !ns_attr(d, &d->attrs[n->attr + a]);
  if (cx == CX_EVENTDATA && n->first >= 0) {
    emit_eventdata(b, d, id);
    return;
  }
  if (!nattr && n->first < 0) {
    text(b, d, n, cx == CX_NUMBER);
    return;
  }
  sg_buf_putc(b, '{');
  bool comma = false;
  if (nattr) {
    sg_buf_cat(b, "\"#attributes\":{");
    for (uint32_t a = 0; a < n->nattr; a++) {
      const XAttr *at = &d->attrs[n->attr + a];
      if (!root && ns_attr(d, at)) continue;
      if (comma) sg_buf_putc(b, ',');
      comma = true;
      sg_json_str(b, sg_xdom_str(d, at->name), at->nlen);
      sg_buf_putc(b, ':');
      str(b, d->text + at->val, at->vlen);
    }
    sg_buf_putc(b, '}');
  }
  if (n->first >= 0) {
    if (root) { /* Event: System's numbers, EventData's names */
      for (int32_t c = n->first; c >= 0; c = d->nodes[c].next) {
        const XNode *k = &d->nodes[c];
        if (comma) sg_buf_putc(b, ',');
        comma = true;
        sg_json_str(b, NAME(d, k), k->nlen);
        sg_buf_putc(b, ':');
        emit(b, d, c,
             is(NAME(d, k), k->nlen, "System")      ? CX_SYSTEM
             : is(NAME(d, k), k->nlen, "EventData") ? CX_EVENTDATA
                                                    : CX_ANY,
             false);
      }
    } else {
      emit_children(b, d, id, cx == CX_SYSTEM ? CX_SYSTEM : CX_ANY, &comma);
    }
  } else if (n->tlen) {
    if (comma) sg_buf_putc(b, ',');
    sg_buf_cat(b, "\"#text\":");
    text(b, d, n, cx == CX_NUMBER);
  }
  sg_buf_putc(b, '}');
}

void sg_xdom_json(const XDom *d, SgBuf *out) {
  sg_buf_putc(out, '{');
  sg_json_str(out, NAME(d, &d->nodes[0]), d->nodes[0].nlen);
  sg_buf_putc(out, ':');
  emit(out, d, 0, CX_ANY, true);
  sg_buf_putc(out, '}');
}
