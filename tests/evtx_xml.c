/* evtx_xml.c - see evtx_xml.h. The XML libevtx writes: elements, attributes,
 * text, the five entities and character references; line breaks as an XML
 * reader normalises them (CRLF and a lone CR are LF; a &#13; stays CR). */
#include <stdlib.h>
#include <string.h>

#include "evtx_xml.h"

static bool name_char(char c) {
  return c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '/' && c != '>' && c != '=' && c != '\0';
}

static void skip_ws(char **p) {
  while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
    (*p)++;
}

static void put_utf8(char *u, size_t *k, unsigned long cp) {
  if (cp < 0x80) {
    u[(*k)++] = (char)cp;
  } else if (cp < 0x800) {
    u[(*k)++] = (char)(0xC0 | cp >> 6);
    u[(*k)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    u[(*k)++] = (char)(0xE0 | cp >> 12);
    u[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[(*k)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    u[(*k)++] = (char)(0xF0 | cp >> 18);
    u[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[(*k)++] = (char)(0x80 | (cp & 0x3F));
  }
}

/* Decode s[0..n) in place; its decoded length, or false on a reference XML
 * does not know. */
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
      put_utf8(u, &k, cp);
      if (k > len) return false;
      memcpy(s + o, u, k);
      o += k;
    }
    i += len;
  }
  *out = o;
  return true;
}

#define XML_MAX_DEPTH 64

bool sg_test_xml_dom(XDom *d, char *s, const char **why) {
  d->n = d->na = 0;
  d->text = s;
  int32_t stack[XML_MAX_DEPTH];
  int depth = 0;
  char *p = s, *text = NULL;
  *why = "malformed record XML";
  for (;;) {
    char *lt = strchr(p, '<');
    if (!lt) break;
    if (depth > 0) text = p;
    if (lt[1] == '?' || lt[1] == '!') {
      char *gt = strchr(lt, '>');
      if (!gt) return false;
      p = gt + 1;
      continue;
    }
    if (lt[1] == '/') {
      if (depth == 0) return false;
      XNode *n = &d->nodes[stack[depth - 1]];
      char *gt = strchr(lt, '>');
      if (!gt || (size_t)(gt - lt - 2) != n->nlen || memcmp(lt + 2, s + n->name, n->nlen)) return false;
      if (n->first < 0 && text && lt > text) {
        size_t len;
        if (!decode(text, (size_t)(lt - text), &len)) return false;
        n->text = (uint32_t)(text - s);
        n->tlen = (uint32_t)len;
      }
      depth--;
      text = NULL;
      p = gt + 1;
      continue;
    }
    char *q = lt + 1;
    while (name_char(*q))
      q++;
    if (q == lt + 1 || depth == XML_MAX_DEPTH) return false;
    if (depth == 0 && d->n) return false; /* a second root */
    int32_t id = sg_xdom_add(d, depth ? stack[depth - 1] : -1);
    if (id < 0) return *why = "out of memory", false;
    d->nodes[id].name = (uint32_t)(lt + 1 - s);
    d->nodes[id].nlen = (uint32_t)(q - lt - 1);
    for (;;) {
      char *before = q;
      skip_ws(&q);
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
      *at = (XAttr){(uint32_t)(an - s), (uint32_t)anl, (uint32_t)(v - s), (uint32_t)vl};
      d->nodes[id].nattr++;
      q = end + 1;
    }
    p = q;
    text = NULL;
  }
  return depth == 0 && d->n > 0;
}
