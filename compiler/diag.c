/* diag.c - diagnostics: collect, render as text (with source line and caret)
 * or as JSON lines.
 *
 * Severity comes from the code's first letter in diag.def (E or W), so a code
 * can never be reported with two severities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigmacc.h"

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
  dg->msg = b.data ? b.data : NULL;
  if (!dg->msg) dg->msg = calloc(1, 1);
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

void sg_diag_render(SgBuf *out, const SgDiag *dg, const char *src, size_t srclen) {
  const char *path = dg->loc.path ? dg->loc.path : "<input>";
  if (dg->loc.line)
    sg_buf_catf(out, "%s:%u:%u: ", path, dg->loc.line, dg->loc.col);
  else
    sg_buf_catf(out, "%s: ", path);
  sg_buf_catf(out, "%s[%s%s%s]: %s\n", sev_name(dg->sev), sg_diag_code_str(dg->code),
              dg->validator ? " " : "", dg->validator ? dg->validator : "", dg->msg);
  const char *ls;
  size_t ln;
  if (!src || !dg->loc.line || !find_line(src, srclen, dg->loc.line, &ls, &ln)) return;
  if (ln > 200) ln = 200; /* keep huge lines readable */
  sg_buf_cat(out, "    ");
  for (size_t i = 0; i < ln; i++) {
    unsigned char c = (unsigned char)ls[i];
    sg_buf_catc(out, c == '\t' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : (char)c);
  }
  sg_buf_cat(out, "\n    ");
  /* caret under the column; count UTF-8 continuation bytes as nothing */
  for (uint32_t i = 0; i + 1 < dg->loc.col && i < ln; i++)
    if (((unsigned char)ls[i] & 0xC0) != 0x80) sg_buf_catc(out, ' ');
  sg_buf_cat(out, "^\n");
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

void sg_json_str_or_null(SgBuf *out, const char *s) {
  if (s)
    sg_json_str(out, s, strlen(s));
  else
    sg_buf_cat(out, "null");
}

void sg_json_str(SgBuf *out, const char *s, size_t n) {
  sg_buf_catc(out, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80) { /* valid UTF-8 is copied; an invalid byte becomes U+FFFD */
      size_t k = sg_utf8_len(s + i, n - i);
      if (k)
        sg_buf_catn(out, s + i, k), i += k - 1;
      else
        sg_buf_cat(out, "\\ufffd");
      continue;
    }
    switch (c) {
    case '"': sg_buf_cat(out, "\\\""); break;
    case '\\': sg_buf_cat(out, "\\\\"); break;
    case '\n': sg_buf_cat(out, "\\n"); break;
    case '\r': sg_buf_cat(out, "\\r"); break;
    case '\t': sg_buf_cat(out, "\\t"); break;
    default:
      if (c < 0x20 || c == 0x7f)
        sg_buf_catf(out, "\\u%04x", c);
      else
        sg_buf_catc(out, (char)c);
    }
  }
  sg_buf_catc(out, '"');
}

void sg_diag_render_json(SgBuf *out, const SgDiag *dg) {
  const char *path = dg->loc.path ? dg->loc.path : "";
  sg_buf_cat(out, "{\"path\":");
  sg_json_str(out, path, strlen(path));
  sg_buf_catf(out, ",\"line\":%u,\"col\":%u,\"severity\":\"%s\",\"code\":\"%s\",", dg->loc.line, dg->loc.col,
              sev_name(dg->sev), sg_diag_code_str(dg->code));
  if (dg->validator) sg_buf_catf(out, "\"validator\":\"%s\",", dg->validator);
  sg_buf_cat(out, "\"message\":");
  sg_json_str(out, dg->msg, strlen(dg->msg));
  sg_buf_cat(out, "}\n");
}
