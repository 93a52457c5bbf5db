/* golden.c - compare generated output with committed files (--check DIR)
 * or rewrite them (--update DIR), one file per rule file:
 * DIR/<rule path relative to its input root, extension replaced by EXT>.
 *
 * A mismatch prints a unified diff naming both files (under a changed line,
 * a "?" line with carets where it changed); files that should
 * exist but do not, and files in DIR that no rule produced, are listed.
 * Everything is sorted, so the report is byte-identical run to run.
 */
#define _POSIX_C_SOURCE 200809L
#include "sigmacc_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void sg_golden_init(SgGolden *g, const char *dir, const char *ext, bool update) {
  memset(g, 0, sizeof *g);
  g->dir = dir;
  g->ext = ext;
  g->update = update;
  struct stat st;
  g->fresh = update && stat(dir, &st) != 0 && errno == ENOENT;
}

void sg_golden_free(SgGolden *g) {
  for (size_t i = 0; i < g->nseen; i++)
    free(g->seen[i]);
  free(g->seen);
  sg_buf_free(&g->report);
  sg_buf_free(&g->cases);
}

/* ---- unified diff ------------------------------------------------------------------ */

typedef struct Lines {
  const char **s;
  size_t *n;
  size_t count;
} Lines;

static Lines split(const char *t, size_t len) {
  Lines l = {0};
  size_t cap = 0;
  for (size_t i = 0; i < len;) {
    const char *nl = memchr(t + i, '\n', len - i);
    size_t n = nl ? (size_t)(nl - t - i) : len - i;
    if (l.count == cap) {
      cap = cap ? cap * 2 : 64;
      l.s = realloc(l.s, cap * sizeof *l.s);
      l.n = realloc(l.n, cap * sizeof *l.n);
      if (!l.s || !l.n) return (Lines){0};
    }
    l.s[l.count] = t + i;
    l.n[l.count++] = n;
    i += n + 1;
  }
  return l;
}

static bool line_eq(const Lines *a, size_t i, const Lines *b, size_t j) {
  return a->n[i] == b->n[j] && !memcmp(a->s[i], b->s[j], a->n[i]);
}

static void emit(SgBuf *out, char tag, const Lines *l, size_t i) {
  sg_buf_catc(out, tag);
  sg_buf_catn(out, l->s[i], l->n[i]);
  sg_buf_catc(out, '\n');
}

/* Under a changed line, where it changed: "?" and carets under the bytes
 * that differ from the line it replaces (common prefix and suffix skipped),
 * counted in characters so they align on UTF-8 text. */
static void mark_change(SgBuf *out, const Lines *a, size_t i, const Lines *b, size_t j) {
  const char *x = a->s[i], *y = b->s[j];
  size_t xn = a->n[i], yn = b->n[j], p = 0, t = 0;
  while (p < xn && p < yn && x[p] == y[p])
    p++;
  while (p && ((unsigned char)y[p - 1] & 0xC0) == 0x80) /* not inside a character */
    p--;
  while (t < xn - p && t < yn - p && x[xn - 1 - t] == y[yn - 1 - t])
    t++;
  while (t && ((unsigned char)y[yn - t] & 0xC0) == 0x80)
    t--;
  sg_buf_catc(out, '?');
  for (size_t k = 0; k < p; k++)
    if (((unsigned char)y[k] & 0xC0) != 0x80) sg_buf_catc(out, ' ');
  size_t carets = 0;
  for (size_t k = p; k < yn - t; k++)
    if (((unsigned char)y[k] & 0xC0) != 0x80) carets++;
  for (size_t k = 0; k < (carets ? carets : 1); k++) /* a deletion: one caret where it was */
    sg_buf_catc(out, '^');
  sg_buf_catc(out, '\n');
}

/* LCS table diff with 3 lines of context; files too large for the table are
 * shown as all removed, then all added. */
static void unified_diff(SgBuf *out, const char *want_name, const char *want, size_t wl, const char *got_name,
                         const char *got, size_t gl) {
  Lines a = split(want, wl), b = split(got, gl);
  sg_buf_catf(out, "--- %s\n+++ %s\n", want_name, got_name);
  size_t n = a.count, m = b.count;
  /* ops: 0 keep, 1 delete a[i], 2 insert b[j] */
  unsigned char *ops = malloc(n + m + 1);
  size_t nops = 0;
  uint32_t *t = (n + 1) * (m + 1) <= 16u * 1024 * 1024 ? calloc((n + 1) * (m + 1), sizeof *t) : NULL;
  if (t && ops) {
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        t[i * (m + 1) + j] = line_eq(&a, i, &b, j) ? t[(i + 1) * (m + 1) + j + 1] + 1
                             : t[(i + 1) * (m + 1) + j] > t[i * (m + 1) + j + 1] ? t[(i + 1) * (m + 1) + j]
                                                                                 : t[i * (m + 1) + j + 1];
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && line_eq(&a, i, &b, j)) {
        ops[nops++] = 0;
        i++, j++;
      } else if (i < n && (j == m || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1])) {
        ops[nops++] = 1; /* removals before additions, as diff prints them */
        i++;
      } else {
        ops[nops++] = 2;
        j++;
      }
    }
  } else if (ops) {
    for (size_t i = 0; i < n; i++)
      ops[nops++] = 1;
    for (size_t j = 0; j < m; j++)
      ops[nops++] = 2;
  }
  /* hunks */
  size_t k = 0, ai = 0, bj = 0;
  while (ops && k < nops) {
    if (ops[k] == 0) {
      k++, ai++, bj++;
      continue;
    }
    size_t start = k, ctx = 0;
    while (start > 0 && ops[start - 1] == 0 && ctx < 3)
      start--, ctx++;
    size_t end = k;
    for (;;) {
      while (end < nops && ops[end] != 0)
        end++;
      size_t run = 0;
      while (end + run < nops && ops[end + run] == 0)
        run++;
      if (end + run < nops && run <= 6) {
        end += run;
        continue;
      }
      end += run < 3 ? run : 3;
      break;
    }
    size_t a0 = ai - ctx, b0 = bj - ctx, alen = 0, blen = 0;
    for (size_t q = start; q < end; q++) {
      if (ops[q] != 2) alen++;
      if (ops[q] != 1) blen++;
    }
    sg_buf_catf(out, "@@ -%zu,%zu +%zu,%zu @@\n", a0 + (alen > 0), alen, b0 + (blen > 0), blen);
    size_t x = a0, y = b0;
    for (size_t q = start; q < end;) {
      if (ops[q] == 0) {
        emit(out, ' ', &a, x++);
        y++;
        q++;
        continue;
      }
      /* a change: r lines removed, then s added; the i-th added line is
       * marked against the i-th removed one */
      size_t r = 0, s = 0;
      while (q + r < end && ops[q + r] == 1)
        r++;
      while (q + r + s < end && ops[q + r + s] == 2)
        s++;
      for (size_t i = 0; i < r; i++)
        emit(out, '-', &a, x + i);
      for (size_t i = 0; i < s; i++) {
        emit(out, '+', &b, y + i);
        if (i < r) mark_change(out, &a, x + i, &b, y + i);
      }
      x += r;
      y += s;
      q += r + s;
    }
    ai = x;
    bj = y;
    k = end;
  }
  if (wl && want[wl - 1] != '\n') sg_buf_cat(out, "\\ No newline at end of expected file\n");
  free(t);
  free(ops);
  free(a.s);
  free(a.n);
  free(b.s);
  free(b.n);
}

/* ---- files ---------------------------------------------------------------------- */

/* DIR/rel with the rule's extension replaced by EXT; without EXT, DIR/rel. */
static char *out_path(const SgGolden *g, const char *rel) {
  size_t rl = g->ext ? sg_rule_stem_len(rel) : strlen(rel);
  const char *ext = g->ext ? g->ext : "";
  size_t n = strlen(g->dir) + rl + strlen(ext) + 3;
  char *p = malloc(n);
  size_t dl = strlen(g->dir); /* joined as the walker joins: one slash */
  if (p) snprintf(p, n, "%s%s%.*s%s", g->dir, dl && g->dir[dl - 1] == '/' ? "" : "/", (int)rl, rel, ext);
  return p;
}

static bool mkdirs(const char *path) {
  char *tmp = strdup(path);
  if (!tmp) return false;
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        free(tmp);
        return false;
      }
      *p = '/';
    }
  free(tmp);
  return true;
}

/* A testcase for the file `path`: passed, or failed with `why` (and the detail, a diff). */
static void junit_case(SgGolden *g, const char *path, const char *why, const char *detail, size_t ndetail) {
  if (g->update) return;
  g->ncases++;
  sg_buf_cat(&g->cases, "    <testcase classname=\"golden\" name=\"");
  sg_xml_str(&g->cases, path, strlen(path));
  if (!why) {
    sg_buf_cat(&g->cases, "\"/>\n");
    return;
  }
  g->nfailed++;
  sg_buf_cat(&g->cases, "\">\n      <failure message=\"");
  sg_xml_str(&g->cases, why, strlen(why));
  sg_buf_cat(&g->cases, "\">");
  sg_xml_str(&g->cases, detail ? detail : why, detail ? ndetail : strlen(why));
  sg_buf_cat(&g->cases, "</failure>\n    </testcase>\n");
}

void sg_golden_junit(const SgGolden *g, const char *suite, SgBuf *out) {
  sg_buf_catf(
      out,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"%s\" tests=\"%zu\" failures=\"%zu\">\n"
      "  <testsuite name=\"%s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\">\n",
      suite, g->ncases, g->nfailed, suite, g->ncases, g->nfailed);
  sg_buf_catn(out, g->cases.data ? g->cases.data : "", g->cases.len);
  sg_buf_cat(out, "  </testsuite>\n</testsuites>\n");
}

int sg_golden_file(SgGolden *g, const char *rel, const char *got, size_t len) {
  char *path = out_path(g, rel);
  if (!path) return -1;
  if (g->nseen == g->capseen) {
    g->capseen = g->capseen ? g->capseen * 2 : 64;
    g->seen = realloc(g->seen, g->capseen * sizeof *g->seen);
    if (!g->seen) return free(path), -1;
  }
  g->seen[g->nseen++] = path;
  char *want = NULL;
  size_t wl = 0;
  SgDiags d = {0};
  bool exists = !g->fresh && sg_read_file(path, &want, &wl, &d) == SG_OK; /* a new folder holds nothing */
  sg_diags_free(&d);
  if (exists && wl == len && !memcmp(want, got, len)) {
    free(want);
    junit_case(g, path, NULL, NULL, 0);
    return 0;
  }
  if (g->update) {
    FILE *f = fopen(path, "wb"); /* its folder made only when it is not there yet */
    if (!f && errno == ENOENT && mkdirs(path)) f = fopen(path, "wb");
    bool ok = f && fwrite(got, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    if (ok) {
      g->written++;
      sg_buf_catf(&g->report, "%s %s\n", exists ? "updated" : "created", path);
    } else {
      sg_buf_catf(&g->report, "cannot write %s\n", path);
      g->errors++;
    }
    free(exists ? want : NULL);
    return ok ? 0 : -1;
  }
  if (!exists) {
    g->missing++;
    sg_buf_catf(&g->report, "missing: %s (run with --update to create it)\n", path);
    junit_case(g, path, "missing (run with --update to create it)", NULL, 0);
    return 1;
  }
  g->mismatches++;
  char label[4096];
  snprintf(label, sizeof label, "%s (generated)", path);
  size_t from = g->report.len;
  unified_diff(&g->report, path, want, wl, label, got, len);
  junit_case(g, path, "differs from the golden file", g->report.data + from, g->report.len - from);
  free(want);
  return 1;
}

/* Files in DIR with EXT that no rule produced, listed by the one directory
 * walker (sorted; what it cannot read, or a folder nested too deep, is
 * reported, never passed over in silence). */
static void find_extra(SgGolden *g) {
  struct stat st;
  if (stat(g->dir, &st) != 0) return; /* nothing written yet: no extra file */
  SgPaths files = {0};
  SgDiags d = {0};
  if (!sg_expand_dir_files(g->dir, &files, &d)) g->errors++;
  g->errors += d.nerrors;
  sg_render_diags(&g->report, &d, 0, NULL, NULL, 0, false);
  size_t el = g->ext ? strlen(g->ext) : 0;
  for (size_t i = 0; i < files.n; i++) {
    const char *name = files.v[i];
    size_t l = strlen(name);
    bool ours = !g->ext || (l > el && !strcmp(name + l - el, g->ext));
    bool seen = false;
    for (size_t k = 0; ours && k < g->nseen && !seen; k++)
      seen = !strcmp(g->seen[k], name);
    if (!ours || seen) continue;
    g->extra++;
    junit_case(g, name, "extra: no rule produces it", NULL, 0);
    if (!g->update)
      sg_buf_catf(&g->report, "extra: %s (no rule produces it)\n", name);
    else if (remove(name) == 0)
      sg_buf_catf(&g->report, "removed %s (no rule produces it)\n", name);
    else
      g->errors++;
  }
  sg_paths_free(&files);
  sg_diags_free(&d);
}

int sg_golden_finish(SgGolden *g) {
  find_extra(g);
  if (g->update) return g->errors ? 2 : 0;
  return g->mismatches || g->missing || g->extra ? 1 : 0;
}
