/* validate_sigmahq.c - SigmaHQ's validators (pySigma-validators-sigmaHQ), under
 * their identifiers, and the data files seven of them read.
 *
 * They check SigmaHQ's conventions (titles, file names, dates, tags, field
 * names per log source), so they run when asked for: `check --sigmahq`, or a
 * validation configuration naming them or `all` (SigmaHQ's own
 * tests/sigma_cli_conf.yml). Each follows the reference validator's rule, one
 * deliberate difference aside: a finding is located at the key, tag or value it
 * is about, and a rule-wide one at the rule.
 *
 * The taxonomy (field names per log source), the file-name prefixes and the
 * Windows categories' providers are SigmaHQ's data, published as three JSON
 * files in pySigma-validators-sigmaHQ's tools/ folder, which pySigma fetches at
 * run time; sigmacc reads them from a folder given with --sigmahq-data (or
 * ./validator_json, pySigma's place) and says when a validator that needs them
 * did not run for want of them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validators.h"

/* ---- the data files ------------------------------------------------------------------ */

typedef struct Load {
  SgArena *a;
  SgDiags *d;
  bool ok;
} Load;

static void bad(Load *l, const SgYNode *n, const char *what) {
  sg_diag(l->d, SG_D_TYPE, n->loc, "SigmaHQ data: %s", what);
  l->ok = false;
}

static const char *str_or_null(Load *l, const SgYNode *n) {
  if (!n || (n->kind == SG_Y_SCALAR && n->type == SG_YT_NULL)) return NULL;
  if (n->kind != SG_Y_SCALAR || n->type != SG_YT_STR) {
    bad(l, n, "a log source's product, category and service are strings or null");
    return NULL;
  }
  return n->text;
}

static SgHqSource source(Load *l, const SgYNode *entry) {
  const SgYNode *ls = entry->kind == SG_Y_MAP ? sg_ymap_get(entry, "logsource") : NULL;
  if (!ls || ls->kind != SG_Y_MAP) {
    bad(l, entry, "an entry has a logsource mapping");
    return (SgHqSource){0};
  }
  return (SgHqSource){str_or_null(l, sg_ymap_get(ls, "product")), str_or_null(l, sg_ymap_get(ls, "category")),
                      str_or_null(l, sg_ymap_get(ls, "service"))};
}

/* Append the strings of list n to out. */
static void read_names(Load *l, const SgYNode *n, SgHqNames *out) {
  if (!n || n->kind != SG_Y_SEQ) {
    if (n) bad(l, n, "expected a list of names");
    return;
  }
  const char **v = sg_arena_alloc(l->a, (out->n + n->n + 1) * sizeof *v);
  if (!v) {
    l->ok = false;
    return;
  }
  if (out->n) memcpy(v, out->v, out->n * sizeof *v);
  for (size_t i = 0; i < n->n; i++) {
    const SgYNode *it = n->items[i];
    if (it->kind != SG_Y_SCALAR || it->type != SG_YT_STR)
      bad(l, it, "a name is a string");
    else
      v[out->n++] = it->text;
  }
  out->v = v;
}

/* The mapping under `key` of the file's root, or NULL (reported). */
static const SgYNode *section(Load *l, const SgYDoc *docs, size_t ndocs, const char *path, const char *key,
                              SgYKind kind) {
  const SgYNode *root = ndocs ? docs[0].root : NULL;
  const SgYNode *n = root && root->kind == SG_Y_MAP ? sg_ymap_get(root, key) : NULL;
  if (!n || n->kind != kind) {
    sg_diag(l->d, SG_D_TYPE,
            n      ? n->loc
            : root ? root->loc
                   : (SgLoc){path, 1, 1},
            "SigmaHQ data: the file has no '%s' %s", key, kind == SG_Y_MAP ? "mapping" : "list");
    l->ok = false;
    return NULL;
  }
  return n;
}

static void load_taxonomy(Load *l, SgHqData *hq, const SgYNode *tax) {
  hq->tax = sg_arena_alloc(l->a, (tax->n + 1) * sizeof *hq->tax);
  if (!hq->tax) {
    l->ok = false;
    return;
  }
  for (size_t i = 0; i < tax->n; i++) {
    const SgYNode *e = tax->items[i];
    SgHqTaxon *t = &hq->tax[hq->ntax++];
    t->ls = source(l, e);
    const SgYNode *f = e->kind == SG_Y_MAP ? sg_ymap_get(e, "field") : NULL;
    if (!f || f->kind != SG_Y_MAP) {
      bad(l, e, "a taxonomy entry has a field mapping (native, custom, redundant)");
      continue;
    }
    read_names(l, sg_ymap_get(f, "native"), &t->fields);
    read_names(l, sg_ymap_get(f, "custom"), &t->fields);
    read_names(l, sg_ymap_get(f, "redundant"), &t->redundant);
  }
}

static void load_filename(Load *l, SgHqData *hq, const SgYNode *pat) {
  hq->prefix = sg_arena_alloc(l->a, (pat->n + 1) * sizeof *hq->prefix);
  if (!hq->prefix) {
    l->ok = false;
    return;
  }
  for (size_t i = 0; i < pat->n; i++) {
    const SgYNode *e = pat->items[i], *p = e->kind == SG_Y_MAP ? sg_ymap_get(e, "prefix") : NULL;
    if (!p || p->kind != SG_Y_SCALAR || p->type != SG_YT_STR) {
      bad(l, e, "a file-name pattern has a prefix string");
      continue;
    }
    hq->prefix[hq->nprefix++] = (SgHqPrefix){source(l, e), p->text};
  }
}

static void load_windows(Load *l, SgHqData *hq, const SgYNode *noid, const SgYNode *prov) {
  read_names(l, noid, &hq->no_eventid);
  hq->prov = sg_arena_alloc(l->a, (prov->n + 1) * sizeof *hq->prov);
  if (!hq->prov) {
    l->ok = false;
    return;
  }
  for (size_t i = 0; i < prov->n; i++) {
    SgHqProviders *p = &hq->prov[hq->nprov++];
    p->category = prov->keys[i]->text;
    read_names(l, prov->items[i], &p->names);
  }
}

SgStatus sg_hq_data_load(SgValidation *v, const char *dir, SgDiags *d) {
  static const char *const files[] = {"sigmahq_taxonomy.json", "sigmahq_filename.json",
                                      "sigmahq_windows_validator.json"};
  Load l = {&v->arena, d, true};
  SgHqData hq = {.dir = sg_arena_strdup(&v->arena, dir)};
  for (size_t f = 0; f < 3; f++) {
    char *path = sg_arena_alloc(&v->arena, strlen(dir) + strlen(files[f]) + 2);
    if (!path || !hq.dir) return SG_ERR_NOMEM;
    sprintf(path, "%s/%s", dir, files[f]);
    char *src;
    size_t len;
    if (sg_read_file(path, &src, &len, d) != SG_OK) return SG_ERR_IO;
    SgYDoc *docs;
    size_t ndocs;
    if (sg_yaml_load(&v->arena, path, src, len, &docs, &ndocs, d) != SG_OK) {
      free(src);
      return SG_ERR_PARSE;
    }
    free(src);
    if (f == 0) {
      const SgYNode *tax = section(&l, docs, ndocs, path, "taxonomy", SG_Y_MAP);
      if (tax) load_taxonomy(&l, &hq, tax);
    } else if (f == 1) {
      const SgYNode *pat = section(&l, docs, ndocs, path, "pattern", SG_Y_MAP);
      if (pat) load_filename(&l, &hq, pat);
    } else {
      const SgYNode *noid = section(&l, docs, ndocs, path, "category_no_eventid", SG_Y_SEQ);
      const SgYNode *prov = section(&l, docs, ndocs, path, "category_provider_name", SG_Y_MAP);
      if (noid && prov) load_windows(&l, &hq, noid, prov);
    }
  }
  if (!l.ok) return SG_ERR_PARSE;
  v->hq = hq;
  return SG_OK;
}

/* Validators that read the data, in catalogue order. */
static const SgValidatorId needs_data[] = {
    SG_V_HQ_CATEGORY_EVENTID, SG_V_HQ_CATEGORY_PROVIDER, SG_V_HQ_FIELDNAME_CAST,   SG_V_HQ_INVALID_FIELDNAME,
    SG_V_HQ_REDUNDANT_FIELD,  SG_V_HQ_FILENAME_PREFIX,   SG_V_HQ_LOGSOURCE_UNKNOWN};

void sg_hq_unready(const SgValidation *v, SgDiags *d) {
  if (v->hq.dir) return;
  SgBuf names = {0};
  size_t n = 0;
  for (size_t i = 0; i < sizeof needs_data / sizeof *needs_data; i++)
    if (!v->off[needs_data[i]])
      sg_buf_catf(&names, "%s%s", n++ ? ", " : "", sg_validator_info[needs_data[i]].id);
  if (n)
    sg_diag(
        d, SG_D_NO_DATA, (SgLoc){0},
        "%s need%s SigmaHQ's data (--sigmahq-data DIR with sigmahq_taxonomy.json, sigmahq_filename.json and "
        "sigmahq_windows_validator.json from pySigma-validators-sigmaHQ's tools/ folder): not run",
        sg_buf_cstr(&names), n == 1 ? "s" : "");
  sg_buf_free(&names);
}

/* ---- helpers ------------------------------------------------------------------------- */

static bool same(const char *a, const char *b) { return a ? b && !strcmp(a, b) : !b; }

static bool same_source(const SgHqSource *s, const char *product, const char *category, const char *service) {
  return same(s->product, product) && same(s->category, category) && same(s->service, service);
}

const SgHqTaxon *sg_hq_taxon(const SgValidation *v, const SgLogsource *ls) {
  for (size_t i = 0; i < v->hq.ntax; i++)
    if (same_source(&v->hq.tax[i].ls, ls->product, ls->category, ls->service)) return &v->hq.tax[i];
  return NULL;
}

static bool in_names(const SgHqNames *names, const char *s, size_t n, bool casefold) {
  for (size_t i = 0; i < names->n; i++)
    if (strlen(names->v[i]) == n &&
        (casefold ? !sg_ascii_ncasecmp(names->v[i], s, n) : !strncmp(names->v[i], s, n)))
      return true;
  return false;
}

/* ASCII case-insensitive substring. */
static bool has_ci(const char *s, const char *word) {
  for (size_t n = strlen(word); *s; s++)
    if (!sg_ascii_ncasecmp(s, word, n)) return true;
  return false;
}

/* Days since 1970-01-01 of "YYYY-MM-DD" (or YYYY/M/D), -1 when not a date. */
static long long days_of(const char *s) {
  if (!s) return -1;
  char *e;
  long y = strtol(s, &e, 10), m, d;
  if (e != s + 4 || (*e != '-' && *e != '/')) return -1;
  m = strtol(e + 1, &e, 10);
  if (*e != '-' && *e != '/') return -1;
  d = strtol(e + 1, &e, 10);
  if (*e || m < 1 || m > 12 || d < 1 || d > 31) return -1;
  return sg_days_from_civil(y, (unsigned)m, (unsigned)d);
}

/* A code point that Python's str.upper() changes: a lowercase letter. ASCII,
 * Latin-1 and Latin Extended-A (even code points upper, odd lower, in its
 * regular runs); other scripts count as uncased. */
static bool lower_cp(unsigned cp) {
  if (cp >= 'a' && cp <= 'z') return true;
  if (cp >= 0xDF && cp <= 0xFF) return cp != 0xF7;
  if (cp >= 0x100 && cp <= 0x137) return cp & 1;
  if (cp >= 0x139 && cp <= 0x148) return !(cp & 1);
  if (cp >= 0x14A && cp <= 0x177) return cp & 1;
  return false;
}

static bool upper_cp(unsigned cp) {
  if (cp >= 'A' && cp <= 'Z') return true;
  if (cp >= 0xC0 && cp <= 0xDE) return cp != 0xD7;
  if (cp >= 0x100 && cp <= 0x137) return !(cp & 1);
  if (cp >= 0x139 && cp <= 0x148) return cp & 1;
  if (cp >= 0x14A && cp <= 0x177) return !(cp & 1);
  return cp == 0x178;
}

/* The code point at *p (advanced past it); a broken sequence is its first byte. */
static unsigned next_cp(const char **p, const char *end) {
  const unsigned char *s = (const unsigned char *)*p;
  unsigned c = *s;
  int n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  if ((const char *)s + n >= end) n = 0;
  for (int i = 1; i <= n; i++)
    if ((s[i] & 0xC0) != 0x80) n = 0;
  if (n) c &= 0x3F >> n;
  for (int i = 1; i <= n; i++)
    c = c << 6 | (s[i] & 0x3F);
  *p += n + 1;
  return c;
}

/* Python's str.islower() of s[0..n): a lowercase letter and no uppercase one. */
static bool is_lower_word(const char *s, size_t n) {
  bool lower = false;
  for (const char *p = s, *end = s + n; p < end;) {
    unsigned cp = next_cp(&p, end);
    if (upper_cp(cp)) return false;
    lower = lower || lower_cp(cp);
  }
  return lower;
}

static bool pyspace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == '\x1c' || c == '\x1d' || c == '\x1e' || c == '\x1f';
}

/* Python's \s+ at p: its length (0: none). */
static size_t spaces(const char *p) {
  size_t n = 0;
  while (p[n] && pyspace(p[n]))
    n++;
  return n;
}

/* The reference's "(\d+|all)\s+of\s+NAME" (anchor true) or "\s+of\s+NAME"
 * (anchor false) searched from *p; NAME runs to a space (or ')' when
 * stop_paren). Returns NAME's start and length, and moves *p past it. */
static const char *next_of(const char **p, bool anchor, bool stop_paren, size_t *len) {
  for (const char *s = *p; *s; s++) {
    const char *q = s;
    if (anchor) {
      if (isdigit((unsigned char)*q))
        while (isdigit((unsigned char)*q))
          q++;
      else if (!strncmp(q, "all", 3))
        q += 3;
      else
        continue;
    }
    size_t w = spaces(q);
    if (!w || strncmp(q + w, "of", 2)) continue;
    q += w + 2;
    if (!(w = spaces(q))) continue;
    q += w;
    size_t n = 0;
    while (q[n] && !pyspace(q[n]) && !(stop_paren && q[n] == ')'))
      n++;
    if (!n) continue;
    *len = n;
    *p = q + n;
    return q;
  }
  return NULL;
}

/* ---- the rule as a whole ------------------------------------------------------------- */

static void check_dates(V *x) {
  const SgRule *r = x->r;
  long long date = days_of(r->date), modified = days_of(r->modified);
  if (!r->date) sg_vfinding(x, SG_V_HQ_DATE, sg_vkey_loc(r, "title"), "the rule has no date");
  if (r->modified && !r->date)
    sg_vfinding(x, SG_V_HQ_MODIFIED_NO_DATE, sg_vkey_loc(r, "modified"),
                "modified without date: a new rule has a date only");
  if (date >= 0 && modified >= 0 && modified < date)
    sg_vfinding(x, SG_V_HQ_MODIFIED_ORDER, sg_vkey_loc(r, "modified"), "modified %s is older than date %s",
                r->modified, r->date);
  if (date >= 0 && date == modified)
    sg_vfinding(x, SG_V_HQ_REDUNDANT_MODIFIED, sg_vkey_loc(r, "modified"),
                "modified is the rule's date: leave it out");
  bool tested = false;
  for (size_t i = 0; i < r->ncustom; i++)
    tested = tested || !strcmp(r->custom[i].key, "regression_tests_path");
  if (date >= 0 && r->status && (!strcmp(r->status, "test") || !strcmp(r->status, "stable")) && !tested &&
      x->cfg->today - date <= 60)
    sg_vfinding(x, SG_V_HQ_STATUS_TO_HIGH, sg_vkey_loc(r, "status"),
                "status %s on a rule dated %s, 60 days ago or less, without regression tests: experimental",
                r->status, r->date);
}

static void check_text(V *x) {
  const SgRule *r = x->r;
  SgLoc title = sg_vkey_loc(r, "title");
  if (!r->author) sg_vfinding(x, SG_V_HQ_AUTHOR, title, "the rule has no author");
  if (!r->level) sg_vfinding(x, SG_V_HQ_LEVEL, title, "the rule has no level");
  if (!r->status) sg_vfinding(x, SG_V_HQ_STATUS_EXISTENCE, title, "the rule has no status");
  if (r->status && (!strcmp(r->status, "deprecated") || !strcmp(r->status, "unsupported")))
    sg_vfinding(x, SG_V_HQ_STATUS, sg_vkey_loc(r, "status"),
                "status %s: such a rule belongs in SigmaHQ's %s/ folder, outside the checked rules",
                r->status, r->status);
  if (!r->description) {
    sg_vfinding(x, SG_V_HQ_DESCRIPTION, title, "the rule has no description");
  } else {
    SgLoc loc = sg_vkey_loc(r, "description");
    if (sg_utf8_chars(r->description, strlen(r->description)) < 16)
      sg_vfinding(x, SG_V_HQ_DESCRIPTION_LENGTH, loc, "the description has fewer than 16 characters");
    static const char *const links[] = {"http://", "https://", "internal research"};
    for (size_t i = 0; !r->references.n && i < 3; i++)
      if (has_ci(r->description, links[i])) {
        sg_vfinding(x, SG_V_HQ_LINK_IN_DESCRIPTION, loc,
                    "the description has '%s' and the rule no references: links belong in references",
                    links[i]);
        break;
      }
  }
  if (r->fields.n) sg_vfinding(x, SG_V_HQ_FIELDS, sg_vkey_loc(r, "fields"), "'fields' is deprecated");
  for (size_t i = 0; i < r->ncustom; i++)
    if (strcmp(r->custom[i].key, "regression_tests_path") && strcmp(r->custom[i].key, "simulation"))
      sg_vfinding(x, SG_V_HQ_UNKNOWN_FIELD, sg_vkey_loc(r, r->custom[i].key),
                  "'%s' is neither a Sigma key nor regression_tests_path or simulation", r->custom[i].key);
  if (!r->title) return;
  size_t tl = strlen(r->title);
  if (sg_utf8_chars(r->title, tl) > 120)
    sg_vfinding(x, SG_V_HQ_TITLE_LENGTH, title, "the title is longer than 120 characters");
  if (!strncmp(r->title, "Detect ", 7) || !strncmp(r->title, "Detects ", 8))
    sg_vfinding(x, SG_V_HQ_TITLE_START, title, "the title starts with 'Detect': say what happens");
  if (tl && r->title[tl - 1] == '.') sg_vfinding(x, SG_V_HQ_TITLE_END, title, "the title ends with a dot");
  static const char *const small[] = {"a",    "an",      "and", "as",  "at",   "by",     "for",
                                      "from", "in",      "new", "of",  "on",   "or",     "over",
                                      "the",  "through", "to",  "via", "with", "without"};
  for (const char *w = r->title; *w;) {
    size_t n = strcspn(w, " ");
    bool listed = false;
    for (size_t k = 0; k < sizeof small / sizeof *small; k++)
      listed = listed || (strlen(small[k]) == n && !sg_ascii_ncasecmp(small[k], w, n));
    if (n && is_lower_word(w, n) && !listed && !memchr(w, '.', n) && !memchr(w, '/', n) &&
        !memchr(w, '_', n) && !isdigit((unsigned char)w[0]))
      sg_vfinding(x, SG_V_HQ_TITLE_CASE, title, "'%.*s' in the title is lowercase (title case)", (int)n, w);
    w += n + (w[n] == ' ');
  }
}

static void check_falsepositives(V *x) {
  const SgStrList *fp = &x->r->falsepositives;
  static const char *const banned[] = {"none", "pentest", "penetration"};
  static const char *const typos[] = {"unkown", "ligitimate", "legitimeate"};
  for (size_t i = 0; i < fp->n; i++) {
    const char *s = fp->v[i], *end = s + strlen(s);
    SgLoc loc = fp->locs ? fp->locs[i] : x->r->loc;
    const char *p = s;
    if (*s && lower_cp(next_cp(&p, end)))
      sg_vfinding(x, SG_V_HQ_FP_CAPITAL, loc, "'%.*s' starts with a lowercase letter", (int)strcspn(s, " "),
                  s);
    for (const char *w = s; *w;) {
      size_t n = strcspn(w, " "), a = 0, b = n;
      while (a < b && pyspace(w[a]))
        a++;
      while (b > a && pyspace(w[b - 1]))
        b--;
      for (size_t k = 0; k < 3; k++) {
        if (strlen(banned[k]) == b - a && !sg_ascii_ncasecmp(w + a, banned[k], b - a))
          sg_vfinding(x, SG_V_HQ_FP_BANNED, loc, "'%.*s' is a banned word in falsepositives", (int)n, w);
        if (strlen(typos[k]) == b - a && !sg_ascii_ncasecmp(w + a, typos[k], b - a))
          sg_vfinding(x, SG_V_HQ_FP_TYPO, loc, "'%.*s' is misspelt", (int)n, w);
      }
      w += n + (w[n] == ' ');
    }
  }
}

static void check_references(V *x) {
  const SgStrList *refs = &x->r->references;
  for (size_t i = 0; i < refs->n; i++) {
    const char *link = refs->v[i];
    SgLoc loc = refs->locs ? refs->locs[i] : x->r->loc;
    if (!strncmp(link, "https://attack.mitre.org/", 25))
      sg_vfinding(x, SG_V_HQ_MITRE_LINK, loc, "a link to ATT&CK: use an attack.* tag");
    if (strncmp(link, "https://github.com/", 19) || strchr(link, '\n')) continue;
    /* a file (".ext" of 1 to 3 word characters at the end) on a branch: no 40-character commit segment */
    size_t n = strlen(link), k = 0;
    while (k < n && k < 4 && (isalnum((unsigned char)link[n - 1 - k]) || link[n - 1 - k] == '_'))
      k++;
    if (k < 1 || k > 3 || n < k + 1 || link[n - 1 - k] != '.') continue;
    bool commit = false;
    for (const char *s = strchr(link, '/'); s && !commit; s = strchr(s + 1, '/')) {
      size_t m = strspn(s + 1, "0123456789abcdefghijklmnopqrstuvwxyz");
      commit = m == 40 && s[1 + m] == '/';
    }
    if (!commit)
      sg_vfinding(x, SG_V_HQ_GITHUB_LINK, loc,
                  "a GitHub file on a branch: link a commit (github.com/ORG/REPO/blob/COMMIT/PATH)");
  }
}

/* The active technique an attack.tNNNN tag names in the run's ATT&CK data, or NULL. */
static const SgAttackTechnique *technique_of(V *x, const char *tag) {
  char id[16];
  const SgAttackTechnique *t = sg_attack_technique_tag(tag, id) ? sg_vtechnique(x->cfg, id) : NULL;
  return t && t->status == SG_ATTACK_ACTIVE ? t : NULL;
}

/* ATT&CK v19 split defense-evasion into stealth and defense-impairment and
 * reassigned the techniques it had: T1548 is privilege-escalation alone now,
 * T1574.001 execution and stealth. With data older than the split (the
 * compiled-in v18.1), which the SigmaHQ corpus already follows, a technique
 * that had defense-evasion is asked for one of the three tactics when that was
 * its only tactic, and for nothing otherwise (its v19 tactics are unknown);
 * --attack-data with v19 data checks it exactly. */
static bool technique_presplit(V *x, const SgAttackTechnique *tech) {
  return x->cfg->presplit && sg_attack_in_tactics(tech->tactics, "defense-evasion");
}

static bool split_successor(const char *tag) {
  return !strcmp(tag, "attack.stealth") || !strcmp(tag, "attack.defense-impairment");
}

static void check_hq_tags(V *x) {
  const SgStrList *t = &x->r->tags;
  size_t ndetection = 0, ntlp = 0;
  for (size_t i = 0; i < t->n; i++) {
    SgLoc loc = t->locs ? t->locs[i] : x->r->loc;
    if (!strncmp(t->v[i], "detection.", 10) && ++ndetection == 2)
      sg_vfinding(x, SG_V_HQ_TAGS_UNIQUE_DETECTION, loc, "a second detection.* tag");
    if (!strncmp(t->v[i], "tlp.", 4)) {
      if (++ntlp == 2) sg_vfinding(x, SG_V_HQ_TAGS_UNIQUE_TLP, loc, "a second tlp.* tag");
      if (strcmp(t->v[i] + 4, "clear"))
        sg_vfinding(x, SG_V_HQ_TAGS_TLP, loc, "'%s': SigmaHQ's rules are tlp.clear", t->v[i]);
    }
  }
  static const char *const folders[] = {"dfir", "emerging-threats", "threat-hunting"};
  for (size_t f = 0; f < 3; f++) {
    char dir[32], tag[32];
    snprintf(dir, sizeof dir, "rules-%s", folders[f]);
    snprintf(tag, sizeof tag, "detection.%s", folders[f]);
    if (!strstr(x->u->path, dir)) continue;
    bool found = false;
    for (size_t i = 0; i < t->n; i++)
      found = found || !strcmp(t->v[i], tag);
    if (!found)
      sg_vfinding(x, SG_V_HQ_TAGS_DETECTION, sg_vkey_loc(x->r, "tags"), "a rule under %s/ has no %s tag", dir,
                  tag);
    break;
  }
  /* each technique's tactics, as the run's ATT&CK data names them, tagged too */
  for (size_t i = 0; i < t->n; i++) {
    const SgAttackTechnique *tech = technique_of(x, t->v[i]);
    for (const char *p = tech ? tech->tactics : ""; *p;) {
      size_t n = strcspn(p, ",");
      char tactic[64];
      snprintf(tactic, sizeof tactic, "attack.%.*s", (int)(n < 48 ? n : 48), p);
      bool split = technique_presplit(x, tech), tagged = split && strchr(tech->tactics, ','), said = false;
      for (size_t k = 0; k < t->n; k++)
        tagged = tagged || !strcmp(t->v[k], tactic) || (split && split_successor(t->v[k]));
      for (size_t k = 0; k < i && !tagged && !said;
           k++) { /* said at an earlier technique of the same tactic */
        const SgAttackTechnique *kt = technique_of(x, t->v[k]);
        said = kt && sg_attack_in_tactics(kt->tactics, tactic + 7);
      }
      if (!tagged && !said)
        sg_vfinding(x, SG_V_HQ_TECHNIQUE_TACTIC, t->locs ? t->locs[i] : x->r->loc,
                    "'%s' is a technique of tactic %s, which the tags lack", t->v[i], tactic);
      p += n + (p[n] == ',');
    }
  }
}

static const char *base_of(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static void check_filename(V *x) {
  const SgRule *r = x->r;
  if (!strcmp(x->u->path, "-")) return; /* stdin: no file name */
  const char *name = base_of(x->u->path);
  SgLoc at = {x->u->path, 0, 0};
  size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_");
  /* the reference matches [a-z0-9_]{10,90}\.yml at the start of the name */
  bool ok = n >= 10 && n <= 90 && !strncmp(name + n, ".yml", 4) && strchr(name, '_');
  if (!ok && r == x->u->rules[0])
    sg_vfinding(x, SG_V_HQ_FILENAME, at,
                "file name '%s' is not 10 to 90 of a-z, 0-9 and _ (one _ at least) then .yml", name);
  if (r->kind == SG_DOC_CORRELATION && strncmp(name, "correlation_", 12))
    sg_vfinding(x, SG_V_HQ_CORR_FILENAME, at,
                "file name '%s' of a correlation does not start with correlation_", name);
  if (r->kind != SG_DOC_RULE || !x->cfg->hq.dir) return;
  /* a file of rules and their correlation has several log sources: no prefix */
  const char *src = x->u->src ? x->u->src : "";
  if ((strstr(src, "\n---\n") || !strncmp(src, "---\n", 4)) && strstr(src, "correlation:") &&
      strstr(src, "logsource:"))
    return;
  const SgLogsource *ls = &r->logsource;
  const SgHqPrefix *want = NULL;
  for (size_t i = 0; i < x->cfg->hq.nprefix && !want; i++)
    if (same_source(&x->cfg->hq.prefix[i].ls, ls->product, ls->category, ls->service))
      want = &x->cfg->hq.prefix[i];
  for (size_t i = 0; i < x->cfg->hq.nprefix && !want && ls->product; i++)
    if (same_source(&x->cfg->hq.prefix[i].ls, ls->product, NULL, NULL)) want = &x->cfg->hq.prefix[i];
  if (want && strncmp(name, want->prefix, strlen(want->prefix)))
    sg_vfinding(x, SG_V_HQ_FILENAME_PREFIX, at, "file name '%s' lacks its log source's prefix '%s'", name,
                want->prefix);
}

static void check_conditions(V *x) {
  const SgRule *r = x->r;
  for (size_t i = 0; i < r->nconds; i++) {
    const char *c = r->conds[i].text, *p, *name;
    SgLoc loc = r->conds[i].loc;
    size_t n;
    for (p = c; r->nsearches == 1 && (name = next_of(&p, false, false, &n));)
      if (n >= 4 && !strncmp(name, "them", 4)) {
        sg_vfinding(x, SG_V_HQ_OFTHEM, loc, "'of them' with a single search: name it");
        break;
      }
    for (p = c; (name = next_of(&p, true, false, &n));) {
      if (n < 2 || strncmp(name + n - 2, "_*", 2)) continue;
      if (!strncmp(name, "filter_", 7) || !strncmp(name, "selection_", 10)) continue;
      size_t matching = 0; /* the reference reads the pattern as a regex: its stem, then _* */
      for (size_t k = 0; k < r->nsearches; k++)
        matching += !strncmp(r->searches[k].name, name, n - 2);
      if (matching < 2) {
        sg_vfinding(x, SG_V_HQ_OFSELECTION, loc, "'%.*s' selects %zu search%s: name it", (int)n, name,
                    matching, matching == 1 ? "" : "es");
        break;
      }
    }
    for (p = c; (name = next_of(&p, false, true, &n));)
      if (!(n == 4 && !strncmp(name, "them", 4)) && name[n - 1] != '*') {
        sg_vfinding(x, SG_V_HQ_MISSING_ASTERISK, loc, "'of %.*s' without an asterisk: a pattern or the name",
                    (int)n, name);
        break;
      }
  }
}

void sg_hq_rule(V *x) {
  const SgRule *r = x->r;
  check_dates(x);
  check_text(x);
  check_falsepositives(x);
  check_references(x);
  check_hq_tags(x);
  check_filename(x);
  if (r->kind == SG_DOC_CORRELATION && r->corr) {
    const SgCorrelation *c = r->corr;
    SgLoc loc = sg_vkey_loc(r, "correlation");
    if ((c->type == SG_CORR_TEMPORAL || c->type == SG_CORR_TEMPORAL_ORDERED) && c->rules.n < 2)
      sg_vfinding(x, SG_V_HQ_CORR_RULES_MIN, loc, "correlation type %s over %zu rule: it needs two at least",
                  sg_corr_type_name(c->type), c->rules.n);
    if (c->type <= SG_CORR_TEMPORAL_ORDERED && !c->group_by.n)
      sg_vfinding(x, SG_V_HQ_CORR_GROUP_BY, loc, "correlation type %s without group-by",
                  sg_corr_type_name(c->type));
    return;
  }
  if (r->kind != SG_DOC_RULE) return;
  check_conditions(x);
  const SgLogsource *ls = &r->logsource;
  if (x->cfg->hq.dir && !x->tax)
    sg_vfinding(x, SG_V_HQ_LOGSOURCE_UNKNOWN, ls->loc,
                "log source (product %s, category %s, service %s) is not in SigmaHQ's taxonomy",
                ls->product ? ls->product : "none", ls->category ? ls->category : "none",
                ls->service ? ls->service : "none");
  if (ls->service && !strcmp(ls->service, "sysmon") && !x->eventid)
    sg_vfinding(x, SG_V_HQ_SYSMON_EVENTID, ls->loc,
                "service sysmon without an EventID field: use its category");
}

/* ---- detection items ----------------------------------------------------------------- */

/* The value at i of an item's values (a scalar, or a list). */
static const SgYNode *value_at(const SgYNode *vals, size_t i) {
  return vals->kind == SG_Y_SEQ ? vals->items[i] : vals;
}

/* sigmahq_invalid_hash_kv: each plain part of a Hashes value is ALGO=HEX of the algorithm's length. */
static void check_hash(V *x, const SgYNode *v, unsigned mods) {
  if (v->kind != SG_Y_SCALAR || v->type != SG_YT_STR || (mods & M_RAW)) {
    sg_vfinding(x, SG_V_HQ_INVALID_HASH_KV, v->loc, "'%s' is no ALGO=HASH string",
                v->kind == SG_Y_SCALAR ? v->text : "");
    return;
  }
  char part[256];
  size_t pn = 0;
  for (size_t i = 0; i <= v->len; i++) {
    char c = i < v->len ? v->text[i] : '\0';
    if (c == '\\' && i + 1 < v->len && strchr("*?\\", v->text[i + 1])) {
      c = v->text[++i];
    } else if (c == '*' || c == '?' || !c) {
      if (pn) {
        part[pn] = '\0';
        char *eq = strchr(part, '=');
        const char *why = NULL;
        if (!eq || strchr(eq + 1, '=')) {
          why = part;
        } else {
          *eq = '\0';
          const char *hex = eq + 1;
          size_t want = !strcmp(part, "MD5") || !strcmp(part, "IMPHASH") ? 32
                        : !strcmp(part, "SHA1")                          ? 40
                        : !strcmp(part, "SHA256")                        ? 64
                                                                         : 0;
          if (!want)
            why = part;
          else if (strlen(hex) != want || strspn(hex, "0123456789abcdefABCDEF") != want)
            why = hex;
        }
        if (why)
          sg_vfinding(x, SG_V_HQ_INVALID_HASH_KV, v->loc,
                      "'%s' is not MD5=, SHA1=, SHA256= or IMPHASH= with its hash", why);
      }
      pn = 0;
      continue;
    }
    if (pn < sizeof part - 1) part[pn++] = c;
  }
}

void sg_hq_item(V *x, const SgYNode *key, const SgYNode *vals, unsigned mods) {
  if (x->r->kind != SG_DOC_RULE || !key) return; /* keywords have no field */
  const char *field = key->text;
  size_t fn = strcspn(field, "|");
  if (!fn) return;
  SgLoc loc = key->loc;
  size_t n = vals->kind == SG_Y_SEQ ? vals->n : 1;
  bool eventid = fn == 7 && !strncmp(field, "EventID", 7);
  x->eventid = x->eventid || eventid;
  if (memchr(field, ' ', fn))
    sg_vfinding(x, SG_V_HQ_SPACE_FIELD, loc, "field '%.*s' has a space: SigmaHQ writes _", (int)fn, field);
  const SgHqTaxon *t = x->tax;
  if (t && t->fields.n && !in_names(&t->fields, field, fn, false)) {
    sg_vfinding(x, SG_V_HQ_INVALID_FIELDNAME, loc, "field '%.*s' is not in the taxonomy of this log source",
                (int)fn, field);
    if (in_names(&t->fields, field, fn, true))
      sg_vfinding(x, SG_V_HQ_FIELDNAME_CAST, loc, "field '%.*s' is the taxonomy's in another case", (int)fn,
                  field);
  }
  if (t && in_names(&t->redundant, field, fn, false))
    sg_vfinding(x, SG_V_HQ_REDUNDANT_FIELD, loc, "field '%.*s' is implied by the log source", (int)fn, field);
  const SgLogsource *ls = &x->r->logsource;
  bool windows = ls->product && !strcmp(ls->product, "windows");
  if (eventid && windows && ls->category &&
      in_names(&x->cfg->hq.no_eventid, ls->category, strlen(ls->category), false))
    sg_vfinding(x, SG_V_HQ_CATEGORY_EVENTID, loc, "category %s implies its event ids: no EventID",
                ls->category);
  if (fn == 13 && !strncmp(field, "Provider_Name", 13) && windows && ls->category && !ls->service &&
      !ls->definition)
    for (size_t i = 0; i < x->cfg->hq.nprov; i++)
      if (!strcmp(x->cfg->hq.prov[i].category, ls->category))
        for (size_t k = 0; k < n; k++) {
          const SgYNode *v = value_at(vals, k);
          if (v->kind == SG_Y_SCALAR && in_names(&x->cfg->hq.prov[i].names, v->text, v->len, false)) {
            sg_vfinding(x, SG_V_HQ_CATEGORY_PROVIDER, v->loc, "category %s implies provider %s", ls->category,
                        v->text);
            k = n;
          }
        }
  if ((mods & M_ALL) && n < 2) sg_vfinding(x, SG_V_HQ_INVALID_ALL, loc, "'all' with a single value");
  bool cased = mods & (M_B64 | M_B64OFFSET | M_RE | M_CASED);
  for (size_t i = 1; i < n; i++) { /* the first value seen twice */
    const SgYNode *v = value_at(vals, i);
    bool dup = false;
    for (size_t k = 0; k < i && !dup && v->kind == SG_Y_SCALAR; k++) {
      const SgYNode *w = value_at(vals, k);
      dup = w->kind == SG_Y_SCALAR && w->len == v->len &&
            (cased ? !memcmp(w->text, v->text, v->len) : !sg_ascii_ncasecmp(w->text, v->text, v->len));
    }
    if (dup) {
      sg_vfinding(x, SG_V_HQ_FIELD_DUP_VALUE, v->loc, "'%s' is listed twice under %.*s", v->text, (int)fn,
                  field);
      break;
    }
  }
  bool user = false;
  for (size_t i = 0; i + 4 <= fn && !user; i++)
    user = !sg_ascii_ncasecmp(field + i, "user", 4);
  const SgYNode *v0 = n == 1 ? value_at(vals, 0) : NULL;
  if (user && v0 && v0->kind == SG_Y_SCALAR && (strstr(v0->text, "AUTORI") || strstr(v0->text, "AUTHORI")))
    sg_vfinding(x, SG_V_HQ_FIELD_USER, v0->loc, "'%s' is a localized name: match the SID or both spellings",
                v0->text);
  if ((fn == 6 && !strncmp(field, "Hashes", 6)) || (fn == 4 && !strncmp(field, "Hash", 4)))
    for (size_t i = 0; i < n; i++)
      check_hash(x, value_at(vals, i), mods);
}
