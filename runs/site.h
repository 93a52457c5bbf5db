/* site.h - what the detection pages' two files share: pages.c (the
 * configuration, each page's data - its conversions, its words, its evidence -
 * and the run) and pages_html.c (the HTML, CSS and JavaScript), which pages.c
 * calls and which calls nothing back.
 */
#ifndef SG_SITE_H
#define SG_SITE_H

#include <string.h>

#include "runs.h"

typedef struct Platform {
  SgLoc loc; /* in the config */
  const char *name, *target, *format;
  const char **pipelines;
  size_t npipelines;
} Platform;

typedef struct Site {
  SgArena a;
  const char *title;
  Platform *platforms;
  size_t nplatforms;
} Site;

typedef struct Query {
  SgBuf text;  /* the queries as convert writes them, or the located reason */
  SgBuf words; /* the detection in words */
  bool failed;
} Query;

typedef struct Page {
  const char *path, *rel; /* the file, and as relative to its argument */
  char *slug;
  SgUnit *unit;       /* in Pages.units */
  const SgRule *rule; /* the page's rule: the file's first rule or correlation */
  Query *queries;     /* one per platform */
  SgBuf evidence;     /* the sample events' verdicts, HTML */
  char **techniques;  /* "T1036.001", from the tags */
  size_t ntechniques;
} Page;

typedef struct Names {
  const char **v;
  size_t n, cap;
} Names;

typedef struct Pages {
  const SgPagesJob *job;
  Site *site;
  SgConverter *conv; /* per platform: its queries, then its words (the text target) */
  size_t nconv;
  Page *v;
  size_t n;
  SgUnit *units; /* every file's, by path (the failed freed): correlations name rules of any */
  SgRuleIndex index;
  const SgPaths *files; /* the site's rule files */
} Pages;

typedef struct Tech {
  const char *id;
  size_t *pages;
  size_t n, cap;
} Tech;

typedef struct Techs {
  Tech *v;
  size_t n, cap;
} Techs;

static inline int sg_pages_cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline Tech *sg_pages_tech_find(const Techs *t, const char *id) {
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->v[i].id, id)) return &t->v[i];
  return NULL;
}

/* pages.c: a --config file's bytes into the site (title, platforms; pipeline
 * files relative to `path`); false with located diagnostics. */
bool sg_site_config(Site *s, const char *path, const char *src, size_t len, SgDiags *d);

/* pages_html.c */
bool sg_pages_fields(const SgRule *r, Names *out); /* the fields a rule's conditions read, sorted, unique */
void sg_html(SgBuf *b, const char *s, size_t n);   /* text for HTML, controls and bidi shown, never obeyed */
void sg_html_str(SgBuf *b, const char *s);         /* the same for a string; nothing for NULL */
void sg_pages_rule(const Pages *ps, const Techs *techs, size_t i, SgBuf *b);
void sg_pages_technique(const Pages *ps, const Tech *te, SgBuf *b);
void sg_pages_index(const Pages *ps, const Techs *techs, SgBuf *b);
void sg_pages_search_index(const Pages *ps, SgBuf *b); /* search-index.js */
extern const char sg_pages_css[], sg_pages_js[];

#endif
