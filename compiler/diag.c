/* diag.c - diagnostics: collect, render as text (with source line and caret)
 * or as JSON lines.
 *
 * Severity comes from the code's first letter in diag.def (E or W), so a code
 * can never be reported with two severities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigmacc_int.h"

static const char *const codes[] = {
#define SG_DIAG(name, code, text) code,
#include "sigmacc_diag.def"
#undef SG_DIAG
};

static const char *const meanings[] = {
#define SG_DIAG(name, code, text) text,
#include "sigmacc_diag.def"
#undef SG_DIAG
};

const char *sg_diag_code_str(SgDiagCode c) { return c < SG_D__COUNT ? codes[c] : "E000"; }

void sg_list_diagnostics(SgBuf *out, bool warnings_only) {
  for (int c = 0; c < SG_D__COUNT; c++)
    if (!warnings_only || codes[c][0] == 'W') sg_buf_catf(out, "%s  %s\n", codes[c], meanings[c]);
}

void sg_diags_free(SgDiags *d) {
  for (size_t i = 0; i < d->n; i++)
    free(d->items[i].msg);
  free(d->items);
  memset(d, 0, sizeof *d);
}

bool sg_warn_option(SgWarnPolicy *w, const char *arg) {
  bool on = strncmp(arg, "no-", 3) != 0;
  const char *name = on ? arg : arg + 3;
  if (!strcmp(name, "error")) {
    w->error = on;
    return true;
  }
  for (int c = 0; c < SG_D__COUNT; c++)
    if (!sg_ascii_casecmp(sg_diag_code_str((SgDiagCode)c), name) && name[0] != 'E' && name[0] != 'e') {
      w->off[c] = !on;
      return true;
    }
  return false;
}

void sg_vdiag(SgDiags *d, SgDiagCode code, SgLoc loc, const char *fmt, va_list ap) {
  bool warning = sg_diag_code_str(code)[0] == 'W';
  if (warning && d->policy && d->policy->off[code]) { /* counted, not shown */
    d->nsuppressed++;
    return;
  }
  if (warning && d->policy && d->policy->error) warning = false;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    SgDiag *p = realloc(d->items, cap * sizeof *p);
    if (!p) { /* the message is lost, not the fact: counts stay honest */
      d->oom = true;
      if (warning)
        d->nwarnings++;
      else
        d->nerrors++;
      return;
    }
    d->items = p;
    d->cap = cap;
  }
  SgBuf b = {0};
  sg_buf_vcatf(&b, fmt, ap);
  SgDiag *dg = &d->items[d->n++];
  dg->code = code;
  dg->sev = warning ? SG_SEV_WARNING : SG_SEV_ERROR;
  dg->loc = loc;
  dg->validator = NULL;
  dg->msg = b.data; /* NULL: the message was lost (rendered as such) */
  if (!dg->msg) d->oom = true;
  if (dg->sev == SG_SEV_ERROR)
    d->nerrors++;
  else
    d->nwarnings++;
}

void sg_diags_name(SgDiags *d, size_t from, const char *validator) {
  for (size_t i = from; i < d->n; i++)
    d->items[i].validator = validator;
}

void sg_diags_drop(SgDiags *d, size_t i) {
  if (d->items[i].sev == SG_SEV_ERROR)
    d->nerrors--;
  else
    d->nwarnings--;
  free(d->items[i].msg);
  memmove(d->items + i, d->items + i + 1, (d->n - i - 1) * sizeof *d->items);
  d->n--;
}

void sg_diag(SgDiags *d, SgDiagCode code, SgLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_vdiag(d, code, loc, fmt, ap);
  va_end(ap);
}

static const char *sev_name(SgSeverity s) {
  return s == SG_SEV_ERROR ? "error" : s == SG_SEV_WARNING ? "warning" : "note";
}

/* Find line `line` (1-based) in src; returns its start and length. */
static bool find_line(const char *src, size_t len, uint32_t line, const char **start, size_t *n) {
  const char *p = src, *end = src + len;
  for (uint32_t l = 1; l < line; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return false;
    p = nl + 1;
  }
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  *start = p;
  *n = (size_t)((nl ? nl : end) - p);
  if (*n && p[*n - 1] == '\r') (*n)--;
  return true;
}

/* The path, the message and the source line come from files and rules
 * (strangers' text): they reach the terminal through sg_term_str. */
void sg_diag_render(SgBuf *out, const SgDiag *dg, const char *src, size_t srclen) {
  const char *path = dg->loc.path ? dg->loc.path : "sigmacc"; /* a usage error names its option itself */
  sg_term_str(out, path, strlen(path));
  if (dg->loc.line) sg_buf_catf(out, ":%u:%u", dg->loc.line, dg->loc.col);
  sg_buf_catf(out, ": %s[%s%s%s]: ", sev_name(dg->sev), sg_diag_code_str(dg->code), dg->validator ? " " : "",
              dg->validator ? dg->validator : "");
  const char *msg = dg->msg ? dg->msg : "(out of memory: the message was lost)";
  sg_term_str(out, msg, strlen(msg));
  sg_buf_catc(out, '\n');
  const char *ls;
  size_t ln;
  if (!src || !dg->loc.line || !find_line(src, srclen, dg->loc.line, &ls, &ln)) return;
  if (ln > 200) ln = 200; /* keep huge lines readable */
  sg_buf_cat(out, "    ");
  size_t caret = 0; /* characters written for the bytes before the column */
  for (size_t i = 0; i < ln;) {
    size_t at = i, before = out->len;
    if (ls[i] == '\t') { /* one column, as the caret line counts it */
      sg_buf_catc(out, ' ');
      i++;
    } else {
      i += sg_term_char(out, ls + i, ln - i);
    }
    if (at + 1 < dg->loc.col) caret += sg_utf8_chars(out->data + before, out->len - before); /* not bytes */
  }
  sg_buf_cat(out, "\n    ");
  for (size_t i = 0; i < caret; i++)
    sg_buf_catc(out, ' ');
  sg_buf_cat(out, "^\n");
}

size_t sg_utf8_chars(const char *s, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}

size_t sg_utf8_len(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  if (!n) return 0;
  if (u[0] < 0x80) return 1;
  size_t k = u[0] >= 0xC2 && u[0] <= 0xDF   ? 2
             : u[0] >= 0xE0 && u[0] <= 0xEF ? 3
             : u[0] >= 0xF0 && u[0] <= 0xF4 ? 4
                                            : 0;
  if (!k || k > n) return 0;
  for (size_t i = 1; i < k; i++)
    if ((u[i] & 0xC0) != 0x80) return 0;
  /* no overlong forms, surrogates or code points past U+10FFFF */
  if ((u[0] == 0xE0 && u[1] < 0xA0) || (u[0] == 0xED && u[1] >= 0xA0) || (u[0] == 0xF0 && u[1] < 0x90) ||
      (u[0] == 0xF4 && u[1] >= 0x90))
    return 0;
  return k;
}

/* Characters a terminal acts on or reorders: C1 controls (U+0080-U+009F:
 * NEL, CSI, ST, OSC), the bidirectional marks, embeddings, overrides and
 * isolates (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069) and the
 * line and paragraph separators (U+2028, U+2029). */
static bool term_unsafe(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

static uint32_t utf8_cp(const unsigned char *u, size_t k) {
  if (k == 1) return u[0];
  uint32_t cp = u[0] & (0xff >> (k + 1));
  for (size_t i = 1; i < k; i++)
    cp = (cp << 6) | (u[i] & 0x3f);
  return cp;
}

size_t sg_term_char(SgBuf *out, const char *s, size_t n) {
  unsigned char c = (unsigned char)s[0];
  size_t k = c < 0x80 ? 1 : sg_utf8_len(s, n);
  if (!k) {
    sg_buf_catf(out, "\\x%02x", c);
    return 1;
  }
  uint32_t cp = utf8_cp((const unsigned char *)s, k);
  if (cp == '\n')
    sg_buf_cat(out, "\\n");
  else if (cp == '\r')
    sg_buf_cat(out, "\\r");
  else if (cp == '\t')
    sg_buf_cat(out, "\\t");
  else if (cp < 0x20 || cp == 0x7f)
    sg_buf_catf(out, "\\x%02x", (unsigned)cp);
  else if (term_unsafe(cp))
    sg_buf_catf(out, "\\u{%04X}", (unsigned)cp);
  else
    sg_buf_catn(out, s, k);
  return k;
}

void sg_term_str(SgBuf *out, const char *s, size_t n) {
  for (size_t i = 0; i < n;)
    i += sg_term_char(out, s + i, n - i);
}

void sg_json_str_or_null(SgBuf *out, const char *s) {
  if (s)
    sg_json_str(out, s, strlen(s));
  else
    sg_buf_cat(out, "null");
}

void sg_json_str(SgBuf *out, const char *s, size_t n) {
  sg_buf_putc(out, '"');
  size_t run = 0; /* s[run..i) is copied as it is */
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      for (i++;
           i < n && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f && s[i] != '"' && s[i] != '\\';)
        i++;
      continue;
    }
    size_t k = c >= 0x80 ? sg_utf8_len(s + i, n - i) : 0;
    if (k) { /* valid UTF-8 is copied */
      i += k;
      continue;
    }
    sg_buf_put(out, s + run, i - run);
    switch (c) {
    case '"': sg_buf_cat(out, "\\\""); break;
    case '\\': sg_buf_cat(out, "\\\\"); break;
    case '\n': sg_buf_cat(out, "\\n"); break;
    case '\r': sg_buf_cat(out, "\\r"); break;
    case '\t': sg_buf_cat(out, "\\t"); break;
    default:
      if (c >= 0x80) /* an invalid byte becomes U+FFFD */
        sg_buf_cat(out, "\\ufffd");
      else
        sg_buf_catf(out, "\\u%04x", c);
    }
    run = ++i;
  }
  sg_buf_put(out, s + run, n - run);
  sg_buf_putc(out, '"');
}

void sg_xml_str(SgBuf *out, const char *s, size_t n) {
  size_t run = 0; /* s[run..i) is copied as it is */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *r = c == '&'                             ? "&amp;"
                    : c == '<'                           ? "&lt;"
                    : c == '>'                           ? "&gt;"
                    : c == '"'                           ? "&quot;"
                    : c == '\''                          ? "&#39;"
                    : c < 0x20 && c != '\t' && c != '\n' ? "\xef\xbf\xbd" /* XML 1.0 has no such character */
                                                         : NULL;
    if (!r) continue;
    sg_buf_catn(out, s + run, i - run);
    sg_buf_cat(out, r);
    run = i + 1;
  }
  sg_buf_catn(out, s + run, n - run);
}

void sg_xml_cstr(SgBuf *out, const char *s) { sg_xml_str(out, s ? s : "", s ? strlen(s) : 0); }

void sg_diag_render_json(SgBuf *out, const SgDiag *dg) {
  const char *path = dg->loc.path ? dg->loc.path : "";
  sg_buf_cat(out, "{\"path\":");
  sg_json_str(out, path, strlen(path));
  sg_buf_catf(out, ",\"line\":%u,\"col\":%u,\"severity\":\"%s\",\"code\":\"%s\",", dg->loc.line, dg->loc.col,
              sev_name(dg->sev), sg_diag_code_str(dg->code));
  if (dg->validator) sg_buf_catf(out, "\"validator\":\"%s\",", dg->validator);
  sg_buf_cat(out, "\"message\":");
  sg_json_str_or_null(out, dg->msg);
  sg_buf_cat(out, "}\n");
}
