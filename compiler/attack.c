/* attack.c - the ATT&CK data the tag validators read: the compiled-in
 * techniques and tactics (attack_data.c) or a techniques.tsv given with
 * --attack-data, looked up by id, and what a tag names.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validators.h"

const char *sg_attack_data_version(const SgValidation *v) {
  return v->version ? v->version : sg_attack_version;
}

static int cmp_tech(const void *a, const void *b) {
  return sg_ascii_casecmp(((const SgAttackTechnique *)a)->id, ((const SgAttackTechnique *)b)->id);
}

SgStatus sg_attack_load(SgValidation *v, const char *path, SgDiags *d) {
  char *src;
  size_t len;
  if (sg_read_file(path, &src, &len, d) != SG_OK) return SG_ERR_IO;
  SgAttackTechnique *t = NULL;
  size_t n = 0, cap = 0, line = 0;
  SgStatus st = SG_OK;
  for (char *p = src, *end = src + len; p < end && st == SG_OK;) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *e = nl ? nl : end;
    line++;
    if (e > p && e[-1] == '\r') e[-1] = '\0';
    *e = '\0';
    char *cols[4] = {p, NULL, NULL, NULL};
    for (int c = 1; c < 4 && cols[c - 1]; c++) {
      char *tab = strchr(cols[c - 1], '\t');
      if (tab) *tab = '\0', cols[c] = tab + 1;
    }
    p = nl ? nl + 1 : end;
    if (line == 1 && !strcmp(cols[0], "id")) continue; /* the header */
    if (!*cols[0]) continue;
    if (!cols[3] || (cols[0][0] != 'T' && cols[0][0] != 't')) {
      sg_diag(d, SG_D_BAD_VALUE, (SgLoc){path, (uint32_t)line, 1},
              "an ATT&CK technique line is id, name, tactics, status (tab-separated)");
      st = SG_ERR_PARSE;
      break;
    }
    SgAttackTechnique *slot = SG_PUSH(&v->arena, t, n, cap);
    const char *id = sg_arena_strdup(&v->arena, cols[0]), *name = sg_arena_strdup(&v->arena, cols[1]),
               *tactics = sg_arena_strdup(&v->arena, cols[2]);
    if (!slot || !id || !name || !tactics) {
      st = SG_ERR_NOMEM;
      sg_diag(d, SG_D_NOMEM, (SgLoc){path, 0, 0}, "out of memory reading the ATT&CK data");
      break;
    }
    *slot = (SgAttackTechnique){id, name, tactics,
                                !strcmp(cols[3], "active")       ? SG_ATTACK_ACTIVE
                                : !strcmp(cols[3], "deprecated") ? SG_ATTACK_DEPRECATED
                                                                 : SG_ATTACK_REVOKED};
  }
  free(src);
  if (st != SG_OK) return st;
  if (!n) {
    sg_diag(d, SG_D_BAD_VALUE, (SgLoc){path, 0, 0}, "no ATT&CK technique in the file");
    return SG_ERR_PARSE;
  }
  qsort(t, n, sizeof *t, cmp_tech);
  v->tech = t;
  v->ntech = n;
  v->presplit = sg_attack_presplit(v);
  v->version = sg_arena_strdup(&v->arena, path);
  return SG_OK;
}

static const SgAttackTechnique *lookup(const SgAttackTechnique *tech, size_t n, const char *id) {
  SgAttackTechnique key = {id, NULL, NULL, SG_ATTACK_ACTIVE};
  return n ? bsearch(&key, tech, n, sizeof key, cmp_tech) : NULL;
}

const SgAttackTechnique *sg_vtechnique(const SgValidation *v, const char *id) {
  return lookup(v->tech, v->ntech, id);
}

const SgAttackTechnique *sg_attack_technique(const char *id) {
  return lookup(sg_attack_techniques, sg_attack_ntechniques, id);
}

const SgAttackTactic *sg_attack_tactic(const char *shortname) {
  for (size_t i = 0; i < sg_attack_ntactics; i++)
    if (!strcmp(sg_attack_tactics[i].shortname, shortname)) return &sg_attack_tactics[i];
  return NULL;
}

bool sg_attack_in_tactics(const char *tactics, const char *shortname) {
  size_t n = strlen(shortname);
  for (const char *p = tactics; (p = strstr(p, shortname)); p += n)
    if ((p == tactics || p[-1] == ',' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ',')) return true;
  return false;
}

/* ATT&CK v19 (April 2026) tactics, newer than the compiled-in v18.1 data and
 * already used by the SigmaHQ corpus. */
static const char *const newer_tactics[] = {"stealth", "defense-impairment"};

/* Some technique of the run's ATT&CK data belongs to tactic `name` (a shortname). */
static bool knows_tactic(const SgValidation *v, const char *name) {
  for (size_t i = 0; i < v->ntech; i++)
    if (sg_attack_in_tactics(v->tech[i].tactics, name)) return true;
  return false;
}

static bool is_tactic(const SgValidation *v, const char *name) {
  if (sg_attack_tactic(name)) return true;
  for (size_t i = 0; i < sizeof newer_tactics / sizeof *newer_tactics; i++)
    if (!strcmp(newer_tactics[i], name)) return true;
  for (size_t i = 0; v->version && i < v->ntech; i++) /* a loaded file: the tactics its techniques name */
    if (sg_attack_in_tactics(v->tech[i].tactics, name)) return true;
  return false;
}

/* tNNNN or tNNNN.NNN */
static bool technique_form(const char *s) {
  size_t n = strlen(s);
  return (n == 5 || n == 9) && s[0] == 't' && sg_digits(s + 1, 4) &&
         (n == 5 || (s[5] == '.' && sg_digits(s + 6, 3)));
}

bool sg_attack_technique_tag(const char *tag, char id[16]) {
  if (strncmp(tag, "attack.", 7) || !technique_form(tag + 7)) return false;
  snprintf(id, 16, "T%s", tag + 8);
  return true;
}

/* An attack.* tag name pySigma accepts: a tactic, a technique of the data (or
 * one newer than all of it), a group, software, mitigation or data source id. */
bool sg_attack_name_known(const SgValidation *v, const char *name, const SgAttackTechnique **tech) {
  *tech = NULL;
  if (is_tactic(v, name)) return true;
  if (technique_form(name)) {
    char up[16];
    snprintf(up, sizeof up, "T%s", name + 1);
    if ((*tech = sg_vtechnique(v, up))) return true;
    /* newer than the data: its highest technique id */
    return v->ntech && sg_ascii_ncasecmp(up, v->tech[v->ntech - 1].id, 5) > 0;
  }
  size_t n = strlen(name);
  if (n == 5 && (name[0] == 'g' || name[0] == 's' || name[0] == 'm') && sg_digits(name + 1, 4)) return true;
  return n == 6 && name[0] == 'd' && name[1] == 's' && sg_digits(name + 2, 4);
}

bool sg_attack_presplit(const SgValidation *v) { return !knows_tactic(v, "stealth"); }
