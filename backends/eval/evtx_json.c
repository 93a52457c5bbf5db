/* evtx_json.c - an event's element tree (evtx_dom.h) as the JSON evtx_dump
 * writes for it, or straight as the evaluator's document (the leaves the JSON
 * parser would make of that JSON: one walk, two outputs, so they agree):
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

#define OUT_DEPTH 256 /* objects and arrays open at once: the tree's depth is bounded below this */

/* Where the walk goes: JSON text (b), or a document's leaves (j). */
typedef struct Out {
  SgBuf *b;
  SgJBuild *j;
  bool ok; /* the document could be built (memory) */
  int depth;
  bool first[OUT_DEPTH]; /* no member or element written yet at this depth */
  bool array[OUT_DEPTH];
  SgBuf tmp;
} Out;

static void sep(Out *o) {
  if (!o->depth || o->depth > OUT_DEPTH) return;
  if (!o->first[o->depth - 1]) sg_buf_putc(o->b, ',');
  o->first[o->depth - 1] = false;
}

/* A value starts: the separator before an array's element. */
static void value_start(Out *o) {
  if (o->b && o->depth && o->depth <= OUT_DEPTH && o->array[o->depth - 1]) sep(o);
}

static void o_open(Out *o, bool array) {
  if (o->b) {
    value_start(o);
    sg_buf_putc(o->b, array ? '[' : '{');
  }
  if (o->depth < OUT_DEPTH) {
    o->first[o->depth] = true;
    o->array[o->depth] = array;
  }
  o->depth++;
}

static void o_close(Out *o) {
  o->depth--;
  if (o->b) sg_buf_putc(o->b, o->depth < OUT_DEPTH && o->array[o->depth] ? ']' : '}');
}

static void key(Out *o, const char *k, size_t n) {
  if (o->b) {
    sep(o);
    sg_json_str(o->b, k, n);
    sg_buf_putc(o->b, ':');
  } else if (o->ok && !sg_jbuild_key(o->j, k, n)) {
    o->ok = false;
  }
}

static void key_end(Out *o) {
  if (!o->b && o->ok) sg_jbuild_pop(o->j);
}

static void leaf(Out *o, SgJType t, const char *s, size_t n) {
  if (o->ok && !sg_jbuild_leaf(o->j, t, s, n)) o->ok = false;
}

static void null(Out *o) {
  if (!o->b) {
    leaf(o, SG_J_NULL, "", 0);
    return;
  }
  value_start(o);
  SG_BUF_PUT_LIT(o->b, "null");
}

/* A string; control characters as evtx_dump writes them (`\x02`). */
static void str(Out *o, const char *s, size_t n) {
  size_t i = 0;
  while (i < n && ((unsigned char)s[i] >= 0x20 || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  if (i < n) {
    sg_buf_reset(&o->tmp);
    for (i = 0; i < n; i++)
      if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
        sg_buf_catf(&o->tmp, "\\x%02x", (unsigned)s[i]);
      else
        sg_buf_putc(&o->tmp, s[i]);
    if (o->tmp.oom) o->ok = false;
    s = o->tmp.data;
    n = o->tmp.len;
  }
  if (!o->b) {
    leaf(o, SG_J_STR, s, n);
    return;
  }
  value_start(o);
  sg_json_str(o->b, s, n);
}

static void text(Out *o, const XDom *d, const XNode *n, bool number) {
  const char *s = d->text + n->text;
  if (!n->tlen) {
    null(o);
  } else if (number && digits(s, n->tlen)) {
    if (!o->b) {
      leaf(o, SG_J_NUM, s, n->tlen);
      return;
    }
    value_start(o);
    sg_buf_put(o->b, s, n->tlen);
  } else {
    str(o, s, n->tlen);
  }
}

static bool ns_attr(const XDom *d, const XAttr *a) {
  const char *s = sg_xdom_str(d, a->name);
  return a->nlen >= 5 && !memcmp(s, "xmlns", 5) && (a->nlen == 5 || s[5] == ':');
}

static void emit(Out *o, const XDom *d, int32_t id, Ctx cx, bool root);

/* The children of `id`, grouped by name in order of first appearance. */
static void emit_children(Out *o, const XDom *d, int32_t id, Ctx cx) {
  for (int32_t c = d->nodes[id].first; c >= 0; c = d->nodes[c].next) {
    const XNode *k = &d->nodes[c];
    bool dup = false; /* written with its first sibling of the same name */
    for (int32_t e = d->nodes[id].first; e != c && !dup; e = d->nodes[e].next)
      dup = same_name(d, &d->nodes[e], k);
    if (dup) continue;
    size_t count = 0;
    for (int32_t e = c; e >= 0; e = d->nodes[e].next)
      count += same_name(d, &d->nodes[e], k);
    key(o, NAME(d, k), k->nlen);
    Ctx kcx = CX_ANY;
    if (cx == CX_SYSTEM) {
      static const char *const numeric[] = {"EventID", "Version", "Level", "Task", "Opcode", "EventRecordID"};
      for (size_t i = 0; i < sizeof numeric / sizeof *numeric; i++)
        if (is(NAME(d, k), k->nlen, numeric[i])) kcx = CX_NUMBER;
    }
    if (count > 1) o_open(o, true);
    for (int32_t e = c; e >= 0; e = d->nodes[e].next)
      if (same_name(d, &d->nodes[e], k)) emit(o, d, e, kcx, false);
    if (count > 1) o_close(o);
    key_end(o);
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

static void leaf_text(Out *o, const XDom *d, const XNode *k) {
  if (k->tlen)
    str(o, d->text + k->text, k->tlen);
  else
    null(o);
}

/* EventData: named Data elements by their names, unnamed ones as a list. */
static void emit_eventdata(Out *o, const XDom *d, int32_t id) {
  o_open(o, false);
  size_t unnamed = 0;
  for (int32_t c = d->nodes[id].first; c >= 0; c = d->nodes[c].next) {
    const XNode *k = &d->nodes[c];
    const XAttr *name = name_attr(d, k);
    if (is_data(d, k) && !name) {
      unnamed++;
      continue;
    }
    if (name && is_data(d, k) && k->first < 0) {
      key(o, d->text + name->val, name->vlen);
      leaf_text(o, d, k);
    } else {
      key(o, NAME(d, k), k->nlen);
      emit(o, d, c, CX_ANY, false);
    }
    key_end(o);
  }
  if (unnamed) {
    key(o, "Data", 4);
    o_open(o, false);
    key(o, "#text", 5);
    if (unnamed > 1) o_open(o, true);
    for (int32_t c = d->nodes[id].first; c >= 0; c = d->nodes[c].next) {
      const XNode *k = &d->nodes[c];
      if (is_data(d, k) && !name_attr(d, k)) leaf_text(o, d, k);
    }
    if (unnamed > 1) o_close(o);
    key_end(o);
    o_close(o);
    key_end(o);
  }
  o_close(o);
}

static void emit(Out *o, const XDom *d, int32_t id, Ctx cx, bool root) {
  const XNode *n = &d->nodes[id];
  size_t nattr = 0;
  for (uint32_t a = 0; a < n->nattr; a++)
    nattr += root || !ns_attr(d, &d->attrs[n->attr + a]);
  if (cx == CX_EVENTDATA && n->first >= 0) {
    emit_eventdata(o, d, id);
    return;
  }
  if (!nattr && n->first < 0) {
    text(o, d, n, cx == CX_NUMBER);
    return;
  }
  o_open(o, false);
  if (nattr) {
    key(o, "#attributes", 11);
    o_open(o, false);
    for (uint32_t a = 0; a < n->nattr; a++) {
      const XAttr *at = &d->attrs[n->attr + a];
      if (!root && ns_attr(d, at)) continue;
      key(o, sg_xdom_str(d, at->name), at->nlen);
      str(o, d->text + at->val, at->vlen);
      key_end(o);
    }
    o_close(o);
    key_end(o);
  }
  if (n->first >= 0) {
    if (root) { /* Event: System's numbers, EventData's names */
      for (int32_t c = n->first; c >= 0; c = d->nodes[c].next) {
        const XNode *k = &d->nodes[c];
        key(o, NAME(d, k), k->nlen);
        emit(o, d, c,
             is(NAME(d, k), k->nlen, "System")      ? CX_SYSTEM
             : is(NAME(d, k), k->nlen, "EventData") ? CX_EVENTDATA
                                                    : CX_ANY,
             false);
        key_end(o);
      }
    } else {
      emit_children(o, d, id, cx == CX_SYSTEM ? CX_SYSTEM : CX_ANY);
    }
  } else if (n->tlen) {
    key(o, "#text", 5);
    text(o, d, n, cx == CX_NUMBER);
    key_end(o);
  }
  o_close(o);
}

static bool walk(const XDom *d, SgBuf *b, SgJBuild *j) {
  Out out = {.b = b, .j = j, .ok = true}, *o = &out;
  o_open(o, false);
  key(o, NAME(d, &d->nodes[0]), d->nodes[0].nlen);
  emit(o, d, 0, CX_ANY, true);
  key_end(o);
  o_close(o);
  bool ok = o->ok && !o->tmp.oom;
  sg_buf_free(&o->tmp);
  return ok;
}

void sg_xdom_json(const XDom *d, SgBuf *out) {
  if (!walk(d, out, NULL)) out->oom = true;
}

bool sg_xdom_doc(const XDom *d, SgJBuild *j, SgJDoc *doc) {
  sg_jbuild_start(j, doc);
  return walk(d, NULL, j);
}
