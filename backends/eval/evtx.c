/* evtx.c - Windows event log files (.evtx) read with libevtx, each record
 * turned into the JSON evtx_dump writes for it, so that a rule sees the same
 * event whether it reads the .evtx or its JSON lines.
 *
 * libevtx renders a record as XML; that XML is parsed here (elements,
 * attributes, text and the five entities plus character references: all
 * libevtx writes) and written as evtx_dump's JSON:
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
 * The whole file is held in memory (libevtx reads it through a libbfio
 * memory range), so gzip-compressed EVTX and EVTX on stdin read the same way.
 */
#include <libbfio.h>
#include <libevtx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"

/* ==== XML -> evtx_dump JSON ========================================================== */

typedef struct XAttr {
  const char *name, *val;
  size_t nlen, vlen;
} XAttr;

typedef struct XNode {
  const char *name, *text; /* text: decoded in place; NULL when the element has none */
  size_t nlen, tlen;
  uint32_t attr, nattr; /* into XDom.attrs */
  int32_t first, last, next;
} XNode;

typedef struct XDom {
  XNode *nodes;
  size_t n, cap;
  XAttr *attrs;
  size_t na, capa;
} XDom;

static bool name_char(char c) {
  return c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '/' && c != '>' && c != '=' && c != '\0';
}

static void skip_ws(const char **p) {
  while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
    (*p)++;
}

/* Decode entities of s[0..n) in place, line breaks normalised as XML's
 * (CRLF and a lone CR are LF; evtx_dump writes them so); the decoded length.
 * False on a reference that is not one of XML's. */
static bool decode(char *s, size_t n, size_t *out) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    if (s[i] == '\r') {
      s[o++] = '\n';
      i += i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
      continue;
    }
    if (s[i] != '&') {
      s[o++] = s[i++];
      continue;
    }
    char *semi = memchr(s + i, ';', n - i);
    if (!semi) return false;
    size_t len = (size_t)(semi - (s + i)) + 1;
    static const struct {
      const char *ent;
      char c;
    } named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool done = false;
    for (size_t k = 0; k < sizeof named / sizeof *named && !done; k++)
      if (len == strlen(named[k].ent) && !memcmp(s + i, named[k].ent, len)) {
        s[o++] = named[k].c;
        done = true;
      }
    if (!done) {
      if (len < 4 || s[i + 1] != '#') return false;
      bool hex = s[i + 2] == 'x' || s[i + 2] == 'X';
      unsigned long cp = 0;
      for (size_t k = i + 2 + hex; k < i + len - 1; k++) {
        int v = s[k] >= '0' && s[k] <= '9'          ? s[k] - '0'
                : hex && s[k] >= 'a' && s[k] <= 'f' ? s[k] - 'a' + 10
                : hex && s[k] >= 'A' && s[k] <= 'F' ? s[k] - 'A' + 10
                                                    : -1;
        if (v < 0 || cp > 0x10FFFF) return false;
        cp = cp * (hex ? 16 : 10) + (unsigned long)v;
      }
      if (cp > 0x10FFFF) return false;
      char u[4];
      size_t k = 0;
      if (cp < 0x80) {
        u[k++] = (char)cp;
      } else if (cp < 0x800) {
        u[k++] = (char)(0xC0 | cp >> 6);
        u[k++] = (char)(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        u[k++] = (char)(0xE0 | cp >> 12);
        u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[k++] = (char)(0x80 | (cp & 0x3F));
      } else {
        u[k++] = (char)(0xF0 | cp >> 18);
        u[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[k++] = (char)(0x80 | (cp & 0x3F));
      }
      if (k > len) return false; /* never: a reference is longer than its character */
      memcpy(s + o, u, k);
      o += k;
    }
    i += len;
  }
  *out = o;
  return true;
}

static int32_t add_node(XDom *d) {
  XNode *n = SG_PUSH_HEAP(d->nodes, d->n, d->cap);
  if (!n) return -1;
  *n = (XNode){.first = -1, .last = -1, .next = -1};
  return (int32_t)(d->n - 1);
}

#define XML_MAX_DEPTH 64

/* Parse the record's XML (modified in place: entities decoded). Node 0 is
 * the root element. False with *why on XML libevtx does not write. */
static bool parse_xml(XDom *d, char *s, const char **why) {
  d->n = d->na = 0;
  int32_t stack[XML_MAX_DEPTH];
  int depth = 0;
  char *p = s, *text = NULL;
  *why = "malformed record XML";
  for (;;) {
    char *lt = strchr(p, '<');
    if (!lt) break;
    if (depth > 0) text = p;            /* the text before this tag, if the element ends here */
    if (lt[1] == '?' || lt[1] == '!') { /* declaration or comment: libevtx writes none */
      char *gt = strchr(lt, '>');
      if (!gt) return false;
      p = gt + 1;
      continue;
    }
    if (lt[1] == '/') { /* end tag */
      if (depth == 0) return false;
      XNode *n = &d->nodes[stack[depth - 1]];
      char *gt = strchr(lt, '>');
      if (!gt || (size_t)(gt - lt - 2) != n->nlen || memcmp(lt + 2, n->name, n->nlen)) return false;
      if (n->first < 0 && text && lt > text) { /* a leaf's text */
        size_t len;
        if (!decode(text, (size_t)(lt - text), &len)) return false;
        n->text = text;
        n->tlen = len;
      }
      depth--;
      text = NULL;
      p = gt + 1;
      continue;
    }
    const char *name = lt + 1;
    char *q = lt + 1;
    while (name_char(*q))
      q++;
    if (q == name || depth == XML_MAX_DEPTH)
      return *why = depth ? "record XML nested too deeply" : *why, false;
    int32_t id = add_node(d);
    if (id < 0) return *why = "out of memory", false;
    XNode *n = &d->nodes[id];
    n->name = name;
    n->nlen = (size_t)(q - name);
    n->attr = (uint32_t)d->na;
    if (depth > 0) {
      XNode *parent = &d->nodes[stack[depth - 1]];
      if (parent->last >= 0)
        d->nodes[parent->last].next = id;
      else
        parent->first = id;
      parent->last = id;
    } else if (id != 0) {
      return false; /* a second root */
    }
    for (;;) {
      const char *before = q;
      skip_ws((const char **)&q);
      if (*q == '/' && q[1] == '>') {
        q += 2;
        break;
      }
      if (*q == '>') {
        q++;
        stack[depth++] = id;
        break;
      }
      if (q == before) return false;
      char *an = q;
      while (name_char(*q))
        q++;
      size_t anl = (size_t)(q - an);
      if (!anl || *q != '=' || (q[1] != '"' && q[1] != '\'')) return false;
      char quote = q[1];
      char *v = q + 2, *end = strchr(v, quote);
      if (!end) return false;
      size_t vl;
      if (!decode(v, (size_t)(end - v), &vl)) return false;
      XAttr *at = SG_PUSH_HEAP(d->attrs, d->na, d->capa);
      if (!at) return *why = "out of memory", false;
      *at = (XAttr){an, v, anl, vl};
      d->nodes[id].nattr++;
      q = end + 1;
    }
    p = q;
    text = NULL;
  }
  return depth == 0 && d->n > 0;
}

static bool is(const char *s, size_t n, const char *word) { return n == strlen(word) && !memcmp(s, word, n); }

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
      sg_buf_catc(&t, s[i]);
  sg_json_str(b, t.data, t.len);
  sg_buf_taint(b, &t);
  sg_buf_free(&t);
}

static void emit_text(SgBuf *b, const char *s, size_t n, bool number) {
  if (number && digits(s, n))
    sg_buf_catn(b, s, n);
  else
    str(b, s, n);
}

static bool ns_attr(const XAttr *a) {
  return is(a->name, a->nlen < 5 ? a->nlen : 5, "xmlns") && (a->nlen == 5 || a->name[5] == ':');
}

static void emit(SgBuf *b, const XDom *d, int32_t id, Ctx cx, bool root);

/* The children of `id`, grouped by name in order of first appearance. */
static void emit_children(SgBuf *b, const XDom *d, int32_t id, Ctx cx, bool *comma) {
  for (int32_t c = d->nodes[id].first; c >= 0; c = d->nodes[c].next) {
    const XNode *k = &d->nodes[c];
    bool dup = false; /* written with its first sibling of the same name */
    for (int32_t e = d->nodes[id].first; e != c && !dup; e = d->nodes[e].next)
      dup = d->nodes[e].nlen == k->nlen && !memcmp(d->nodes[e].name, k->name, k->nlen);
    if (dup) continue;
    size_t count = 0;
    for (int32_t e = c; e >= 0; e = d->nodes[e].next)
      count += d->nodes[e].nlen == k->nlen && !memcmp(d->nodes[e].name, k->name, k->nlen);
    if (*comma) sg_buf_catc(b, ',');
    *comma = true;
    sg_json_str(b, k->name, k->nlen);
    sg_buf_catc(b, ':');
    Ctx kcx = CX_ANY;
    if (cx == CX_SYSTEM) {
      static const char *const numeric[] = {"EventID", "Version", "Level", "Task", "Opcode", "EventRecordID"};
      for (size_t i = 0; i < sizeof numeric / sizeof *numeric; i++)
        if (is(k->name, k->nlen, numeric[i])) kcx = CX_NUMBER;
    }
    if (count > 1) sg_buf_catc(b, '[');
    bool first = true;
    for (int32_t e = c; e >= 0; e = d->nodes[e].next)
      if (d->nodes[e].nlen == k->nlen && !memcmp(d->nodes[e].name, k->name, k->nlen)) {
        if (!first) sg_buf_catc(b, ',');
        first = false;
        emit(b, d, e, kcx, false);
      }
    if (count > 1) sg_buf_catc(b, ']');
  }
}

/* The Name attribute of a node, or NULL. */
static const XAttr *name_attr(const XDom *d, const XNode *k) {
  const XAttr *name = NULL;
  for (uint32_t a = 0; a < k->nattr; a++)
    if (is(d->attrs[k->attr + a].name, d->attrs[k->attr + a].nlen, "Name")) name = &d->attrs[k->attr + a];
  return name;
}

/* EventData: named Data elements by their names, unnamed ones as a list. */
static void emit_eventdata(SgBuf *b, const XDom *d, int32_t id) {
  sg_buf_catc(b, '{');
  bool comma = false;
  size_t unnamed = 0;
  for (int32_t c = d->nodes[id].first; c >= 0; c = d->nodes[c].next) {
    const XNode *k = &d->nodes[c];
    const XAttr *name = name_attr(d, k);
    if (is(k->name, k->nlen, "Data") && !name) {
      unnamed++;
      continue;
    }
    if (comma) sg_buf_catc(b, ',');
    comma = true;
    if (name && is(k->name, k->nlen, "Data") && k->first < 0) {
      sg_json_str(b, name->val, name->vlen);
      sg_buf_catc(b, ':');
      if (k->tlen)
        str(b, k->text, k->tlen);
      else
        sg_buf_cat(b, "null");
    } else {
      sg_json_str(b, k->name, k->nlen);
      sg_buf_catc(b, ':');
      emit(b, d, c, CX_ANY, false);
    }
  }
  if (unnamed) {
    if (comma) sg_buf_catc(b, ',');
    sg_buf_cat(b, "\"Data\":{\"#text\":");
    if (unnamed > 1) sg_buf_catc(b, '[');
    bool first = true;
    for (int32_t c = d->nodes[id].first; c >= 0; c = d->nodes[c].next) {
      const XNode *k = &d->nodes[c];
      if (!is(k->name, k->nlen, "Data") || name_attr(d, k)) continue;
      if (!first) sg_buf_catc(b, ',');
      first = false;
      if (k->tlen)
        str(b, k->text, k->tlen);
      else
        sg_buf_cat(b, "null");
    }
    if (unnamed > 1) sg_buf_catc(b, ']');
    sg_buf_catc(b, '}');
  }
  sg_buf_catc(b, '}');
}

static void emit(SgBuf *b, const XDom *d, int32_t id, Ctx cx, bool root) {
  const XNode *n = &d->nodes[id];
  size_t nattr = 0;
  for (uint32_t a = 0; a < n->nattr; a++)
    nattr += root || !ns_attr(&d->attrs[n->attr + a]);
  if (cx == CX_EVENTDATA && n->first >= 0) {
    emit_eventdata(b, d, id);
    return;
  }
  if (!nattr && n->first < 0) {
    if (n->tlen)
      emit_text(b, n->text, n->tlen, cx == CX_NUMBER);
    else
      sg_buf_cat(b, "null");
    return;
  }
  sg_buf_catc(b, '{');
  bool comma = false;
  if (nattr) {
    sg_buf_cat(b, "\"#attributes\":{");
    for (uint32_t a = 0; a < n->nattr; a++) {
      const XAttr *at = &d->attrs[n->attr + a];
      if (!root && ns_attr(at)) continue;
      if (comma) sg_buf_catc(b, ',');
      comma = true;
      sg_json_str(b, at->name, at->nlen);
      sg_buf_catc(b, ':');
      str(b, at->val, at->vlen);
    }
    sg_buf_catc(b, '}');
  }
  if (n->first >= 0) {
    if (root) { /* Event: System's numbers, EventData's names */
      for (int32_t c = n->first; c >= 0; c = d->nodes[c].next) {
        const XNode *k = &d->nodes[c];
        if (comma) sg_buf_catc(b, ',');
        comma = true;
        sg_json_str(b, k->name, k->nlen);
        sg_buf_catc(b, ':');
        emit(b, d, c,
             is(k->name, k->nlen, "System")      ? CX_SYSTEM
             : is(k->name, k->nlen, "EventData") ? CX_EVENTDATA
                                                 : CX_ANY,
             false);
      }
    } else if (cx == CX_SYSTEM) {
      emit_children(b, d, id, CX_SYSTEM, &comma);
    } else {
      emit_children(b, d, id, CX_ANY, &comma);
    }
  } else if (n->tlen) {
    if (comma) sg_buf_catc(b, ',');
    sg_buf_cat(b, "\"#text\":");
    emit_text(b, n->text, n->tlen, cx == CX_NUMBER);
  }
  sg_buf_catc(b, '}');
}

bool sg_evtx_xml_to_json(char *xml, SgBuf *out, void **dom, const char **why) {
  XDom *d = *dom;
  if (!d && !(d = *dom = calloc(1, sizeof *d))) return *why = "out of memory", false;
  if (!parse_xml(d, xml, why)) return false;
  sg_buf_catc(out, '{');
  sg_json_str(out, d->nodes[0].name, d->nodes[0].nlen);
  sg_buf_catc(out, ':');
  emit(out, d, 0, CX_ANY, true);
  sg_buf_catc(out, '}');
  if (out->oom) return *why = "out of memory", false;
  return true;
}

void sg_evtx_dom_free(void *dom) {
  XDom *d = dom;
  if (!d) return;
  free(d->nodes);
  free(d->attrs);
  free(d);
}

/* ==== Files ============================================================================ */

struct SgEvtx {
  libevtx_file_t *file;
  libbfio_handle_t *io;
  char *data; /* the whole file (freed with it when `own`) */
  bool own;
  size_t size;
  int nrecords, next;
  char *xml;
  size_t xcap;
  void *dom;
};

static void error_text(libevtx_error_t **e, char *msg, size_t cap, const char *what) {
  char detail[512] = "";
  if (*e) {
    libevtx_error_sprint(*e, detail, sizeof detail);
    libevtx_error_free(e);
  }
  /* libevtx's message is several lines, the last the most specific */
  char *nl;
  while ((nl = strrchr(detail, '\n')) && nl[1] == '\0')
    *nl = '\0';
  const char *last = strrchr(detail, '\n');
  snprintf(msg, cap, "%s%s%s", what, *detail ? ": " : "", last ? last + 1 : detail);
}

SgEvtx *sg_evtx_open(char *data, size_t size, bool own, char *msg, size_t cap) {
  SgEvtx *x = calloc(1, sizeof *x);
  libevtx_error_t *e = NULL;
  libbfio_error_t *be = NULL;
  if (!x) {
    if (own) free(data);
    snprintf(msg, cap, "out of memory");
    return NULL;
  }
  x->data = data;
  x->size = size;
  x->own = own;
  if (libbfio_memory_range_initialize(&x->io, &be) != 1 ||
      libbfio_memory_range_set(x->io, (uint8_t *)data, size, &be) != 1 ||
      libevtx_file_initialize(&x->file, &e) != 1 ||
      libevtx_file_open_file_io_handle(x->file, x->io, LIBEVTX_OPEN_READ, &e) != 1 ||
      libevtx_file_get_number_of_records(x->file, &x->nrecords, &e) != 1) {
    if (be) libbfio_error_free(&be);
    error_text(&e, msg, cap, "not a readable EVTX file");
    sg_evtx_free(x);
    return NULL;
  }
  return x;
}

void sg_evtx_free(SgEvtx *x) {
  if (!x) return;
  if (x->file) {
    libevtx_file_close(x->file, NULL);
    libevtx_file_free(&x->file, NULL);
  }
  if (x->io) libbfio_handle_free(&x->io, NULL);
  if (x->own) free(x->data);
  free(x->xml);
  sg_evtx_dom_free(x->dom);
  free(x);
}

size_t sg_evtx_count(const SgEvtx *x) { return (size_t)x->nrecords; }

void sg_evtx_seek(SgEvtx *x, size_t index) {
  x->next = index < (size_t)x->nrecords ? (int)index : x->nrecords;
}

bool sg_evtx_corrupted(SgEvtx *x) { return libevtx_file_is_corrupted(x->file, NULL) == 1; }

#define XML_BUFFER (64u << 10) /* the first size of the XML buffer */

/* The record's XML into x->xml, NUL-terminated: 1, 0 (libevtx failed, *e
 * says why) or -1 (out of memory). Rendered straight into the buffer when it
 * is large enough: libevtx renders a record once more only to size it. */
static int record_xml(SgEvtx *x, libevtx_record_t *r, libevtx_error_t **e) {
  if (!x->xml && !(x->xml = malloc(XML_BUFFER))) return -1;
  if (x->xcap < XML_BUFFER) x->xcap = XML_BUFFER;
  if (libevtx_record_get_utf8_xml_string(r, (uint8_t *)x->xml, x->xcap, NULL) != 1) {
    size_t n = 0;
    if (libevtx_record_get_utf8_xml_string_size(r, &n, e) != 1 || !n) return 0;
    if (n > x->xcap) {
      char *b = malloc(n);
      if (!b) return -1;
      free(x->xml);
      x->xml = b;
      x->xcap = n;
    }
    if (libevtx_record_get_utf8_xml_string(r, (uint8_t *)x->xml, x->xcap, e) != 1) return 0;
  }
  x->xml[x->xcap - 1] = '\0';
  return 1;
}

SgEvNext sg_evtx_next(SgEvtx *x, SgBuf *json, size_t *record, char *msg, size_t cap) {
  if (x->next >= x->nrecords) return SG_EV_END;
  int i = x->next++;
  *record = (size_t)i + 1; /* its position, until its identifier is read */
  libevtx_error_t *e = NULL;
  libevtx_record_t *r = NULL;
  if (libevtx_file_get_record_by_index(x->file, i, &r, &e) != 1) {
    error_text(&e, msg, cap, "corrupt record");
    return SG_EV_SKIP;
  }
  uint64_t id;
  if (libevtx_record_get_identifier(r, &id, NULL) == 1) *record = (size_t)id;
  SgEvNext k = SG_EV_SKIP;
  int got = record_xml(x, r, &e);
  if (got < 0) {
    snprintf(msg, cap, "out of memory reading this record");
    k = SG_EV_NOMEM;
  } else if (!got) {
    error_text(&e, msg, cap, "corrupt record");
  } else {
    const char *why;
    sg_buf_reset(json);
    if (sg_evtx_xml_to_json(x->xml, json, &x->dom, &why))
      k = SG_EV_EVENT;
    else
      snprintf(msg, cap, "%s", why);
    if (k != SG_EV_EVENT && !strcmp(why, "out of memory")) k = SG_EV_NOMEM;
  }
  libevtx_record_free(&r, NULL);
  return k;
}
