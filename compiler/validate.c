/* validate.c - the validators of `sigmacc check`: pySigma's core validators
 * under their identifiers (sigmacc_validators.def), sigma-cli's validation
 * configuration, and the ATT&CK data the tag validators read.
 *
 * Validators read the rule as the front end built it and, for what that
 * model no longer shows (a value as written, its modifiers, whether it was
 * quoted), the rule's YAML; every finding is located at the key, tag or
 * value it is about.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "validators.h"

const SgValidatorInfo sg_validator_info[SG_V__COUNT] = {
#define SG_VALIDATOR(name, id, severity, set, text) {id, severity, SG_VSET_##set, text},
#include "sigmacc_validators.def"
#undef SG_VALIDATOR
};

SgValidatorId sg_validator_find(const char *id) {
  for (int v = 0; v < SG_V__COUNT; v++)
    if (!sg_ascii_casecmp(sg_validator_info[v].id, id)) return (SgValidatorId)v;
  return SG_V__COUNT;
}

void sg_list_validators(SgBuf *out) {
  static const char *const sets[] = {"pysigma", "sigmacc", "sigmahq"};
  for (int v = 0; v < SG_V__COUNT; v++)
    sg_buf_catf(out, "%-41s %-7s %-6s  %s\n", sg_validator_info[v].id, sets[sg_validator_info[v].set],
                sg_validator_info[v].severity, sg_validator_info[v].description);
}

/* ---- configuration ------------------------------------------------------------------ */

SgValidation *sg_validation_new(void) {
  SgValidation *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  sg_arena_init(&v->arena);
  for (int k = 0; k < SG_V__COUNT; k++) /* SigmaHQ's conventions: asked for by name or --sigmahq */
    v->off[k] = sg_validator_info[k].set == SG_VSET_SIGMAHQ;
  v->off[SG_V_TLPV1_TAG] = v->off[SG_V_TLPV2_TAG] = true; /* tlptag accepts both versions */
  v->today = (long long)(time(NULL) / 86400);
  v->filename_min = 10;
  v->filename_max = 90;
  v->tech = sg_attack_techniques;
  v->ntech = sg_attack_ntechniques;
  v->presplit = sg_attack_presplit(v);
  return v;
}

void sg_validation_free(SgValidation *v) {
  if (!v) return;
  for (size_t i = 0; i < v->nexcl; i++)
    free(v->excl[i].rule_id);
  free(v->excl);
  sg_arena_free(&v->arena);
  free(v);
}

void sg_validation_sigmahq(SgValidation *v) {
  for (int k = 0; k < SG_V__COUNT; k++)
    if (sg_validator_info[k].set == SG_VSET_SIGMAHQ) v->off[k] = false;
}

void sg_validation_today(SgValidation *v, long long days) { v->today = days; }

bool sg_validation_exclude(SgValidation *v, const char *name) {
  SgValidatorId id = sg_validator_find(name);
  if (id == SG_V__COUNT) return false;
  v->off[id] = true;
  return true;
}

static const Exclusion *exclusion(const SgValidation *v, const char *id);

/* The validator a config names at node n, or SG_V__COUNT (reported). */
static SgValidatorId config_name(const SgYNode *n, SgDiags *d) {
  if (n->kind != SG_Y_SCALAR || n->type != SG_YT_STR) {
    sg_diag(d, SG_D_TYPE, n->loc, "a validator name is a string");
    return SG_V__COUNT;
  }
  SgValidatorId id = sg_validator_find(n->text);
  if (id == SG_V__COUNT) {
    SgSuggest sug;
    sg_suggest_init(&sug, n->text, strlen(n->text));
    for (int k = 0; k < SG_V__COUNT; k++)
      sg_suggest_add(&sug, sg_validator_info[k].id);
    char hint[96];
    sg_diag(d, SG_D_BAD_VALUE, n->loc, "unknown validator '%s'%s (sigmacc list validators)", n->text,
            sg_suggest_text(&sug, hint, sizeof hint, ""));
  }
  return id;
}

static bool config_size(const SgYNode *n, size_t *out, SgDiags *d) {
  if (n->kind != SG_Y_SCALAR || n->type != SG_YT_INT || n->text[0] == '-') {
    sg_diag(d, SG_D_TYPE, n->loc, "a file name length is a whole number");
    return false;
  }
  *out = strtoul(n->text, NULL, 10);
  return true;
}

SgStatus sg_validation_config(SgValidation *v, const char *path, SgDiags *d) {
  char *src;
  size_t len;
  if (sg_read_file(path, &src, &len, d) != SG_OK) return SG_ERR_IO;
  SgArena a;
  sg_arena_init(&a);
  SgYDoc *docs;
  size_t ndocs;
  size_t errors = d->nerrors;
  SgStatus st = sg_yaml_load_config(&a, path, src, len, &docs, &ndocs, d);
  const SgYNode *root = st == SG_OK && ndocs ? docs[0].root : NULL;
  if (st == SG_OK && (!root || root->kind != SG_Y_MAP))
    sg_diag(d, SG_D_TYPE, root ? root->loc : (SgLoc){path, 1, 1},
            "a validation configuration is a mapping (validators, exclusions, config)");
  bool set[SG_V__COUNT] = {0}, listed = false;
  for (size_t i = 0; root && root->kind == SG_Y_MAP && i < root->n; i++) {
    const char *key = root->keys[i]->text;
    const SgYNode *val = root->items[i];
    if (!strcmp(key, "validators")) {
      listed = true;
      if (val->kind != SG_Y_SEQ) {
        sg_diag(d, SG_D_TYPE, val->loc, "'validators' is a list of names, 'all' and '-name'");
        continue;
      }
      for (size_t k = 0; k < val->n; k++) {
        const SgYNode *it = val->items[k];
        if (it->kind == SG_Y_SCALAR && !strcmp(it->text, "all")) { /* what sigma-cli has: not sigmacc's own */
          for (int x = 0; x < SG_V__COUNT; x++)
            set[x] = set[x] || sg_validator_info[x].set != SG_VSET_SIGMACC;
          continue;
        }
        bool minus = it->kind == SG_Y_SCALAR && it->text[0] == '-';
        SgYNode name = *it;
        if (minus) name.text++;
        SgValidatorId id = config_name(&name, d);
        if (id == SG_V__COUNT) continue;
        if (minus && !set[id])
          sg_diag(d, SG_D_BAD_VALUE, it->loc, "'%s' is not in the set to leave it out (pySigma refuses this)",
                  name.text);
        set[id] = !minus;
      }
    } else if (!strcmp(key, "exclusions")) {
      if (val->kind != SG_Y_MAP) {
        sg_diag(d, SG_D_TYPE, val->loc, "'exclusions' maps rule ids to validator names");
        continue;
      }
      for (size_t k = 0; k < val->n; k++) {
        Exclusion *x = (Exclusion *)exclusion(v, val->keys[k]->text); /* a repeated id adds to its entry */
        if (!x && (x = SG_PUSH_HEAP(v->excl, v->nexcl, v->capexcl)))
          *x = (Exclusion){.rule_id = strdup(val->keys[k]->text)};
        if (!x || !x->rule_id) {
          if (x) v->nexcl--;
          sg_diag(d, SG_D_NOMEM, val->keys[k]->loc, "out of memory reading the exclusions");
          break;
        }
        const SgYNode *names = val->items[k];
        size_t nn = names->kind == SG_Y_SEQ ? names->n : 1;
        for (size_t j = 0; j < nn; j++) {
          SgValidatorId id = config_name(names->kind == SG_Y_SEQ ? names->items[j] : names, d);
          if (id != SG_V__COUNT) x->off[id] = true;
        }
      }
    } else if (!strcmp(key, "config")) {
      if (val->kind != SG_Y_MAP && !(val->kind == SG_Y_SCALAR && val->type == SG_YT_NULL))
        sg_diag(d, SG_D_TYPE, val->loc, "'config' maps validator names to their settings, not %s",
                sg_ytype_name(val));
      for (size_t k = 0; val->kind == SG_Y_MAP && k < val->n; k++) {
        SgValidatorId id = config_name(val->keys[k], d);
        const SgYNode *params = val->items[k];
        if (id == SG_V__COUNT) continue;
        if (id != SG_V_FILENAME_LENGTH || params->kind != SG_Y_MAP) {
          sg_diag(d, SG_D_BAD_VALUE, val->keys[k]->loc,
                  "sigmacc's '%s' has no settings (only filename_length: min_size, max_size)",
                  val->keys[k]->text);
          continue;
        }
        for (size_t j = 0; j < params->n; j++) {
          const char *pk = params->keys[j]->text;
          if (!strcmp(pk, "min_size"))
            config_size(params->items[j], &v->filename_min, d);
          else if (!strcmp(pk, "max_size"))
            config_size(params->items[j], &v->filename_max, d);
          else
            sg_diag(d, SG_D_BAD_VALUE, params->keys[j]->loc,
                    "filename_length has min_size and max_size, not '%s'", pk);
        }
      }
    } else {
      sg_diag(d, SG_D_BAD_VALUE, root->keys[i]->loc,
              "a validation configuration has validators, exclusions and config, not '%s'", key);
    }
  }
  if (listed)
    for (int x = 0; x < SG_V__COUNT; x++)
      v->off[x] = !set[x];
  sg_arena_free(&a);
  free(src);
  return d->nerrors > errors ? SG_ERR_PARSE : st;
}

/* ---- the validators ---------------------------------------------------------------- */

static void check_tags(V *x) {
  static const char *const namespaces[] = {"attack", "car", "cve", "d3fend", "detection", "stp", "tlp"};
  static const char *const tlp1[] = {"white", "green", "amber", "red"};
  static const char *const tlp2[] = {"clear", "green", "amber", "amber-strict", "red"};
  const SgStrList *t = &x->r->tags;
  for (size_t i = 0; i < t->n; i++) {
    const char *tag = t->v[i];
    SgLoc loc = t->locs ? t->locs[i] : x->r->loc;
    const char *dot = strchr(tag, '.'); /* tag_format: W015, given by the front end */
    if (!dot) continue;
    size_t nl = (size_t)(dot - tag);
    const char *name = dot + 1;
    bool known_ns = false;
    for (size_t k = 0; k < sizeof namespaces / sizeof *namespaces; k++)
      known_ns = known_ns || (strlen(namespaces[k]) == nl && !strncmp(tag, namespaces[k], nl));
    if (!known_ns)
      sg_vfinding(x, SG_V_NAMESPACE_TAG, loc, "tag namespace '%.*s' is not a Sigma one", (int)nl, tag);
    if (nl == 6 && !strncmp(tag, "attack", 6)) {
      const SgAttackTechnique *tech;
      if (!sg_attack_name_known(x->cfg, name, &tech))
        sg_vfinding(
            x, SG_V_ATTACK_TAG, loc,
            "'%s' is no ATT&CK tactic, technique, group, software, mitigation or data source (ATT&CK %s "
            "data)",
            tag, sg_attack_data_version(x->cfg));
      else if (tech && tech->status != SG_ATTACK_ACTIVE)
        sg_vfinding(x, SG_V_ATTACK_DEPRECATED, loc, "ATT&CK %s marks technique %s %s",
                    sg_attack_data_version(x->cfg), tech->id,
                    tech->status == SG_ATTACK_DEPRECATED ? "deprecated" : "revoked");
    } else if (nl == 3 && !strncmp(tag, "tlp", 3)) {
      bool v1 = false, v2 = false;
      for (size_t k = 0; k < 4; k++)
        v1 = v1 || !strcmp(name, tlp1[k]);
      for (size_t k = 0; k < 5; k++)
        v2 = v2 || !strcmp(name, tlp2[k]);
      if (!v1) sg_vfinding(x, SG_V_TLPV1_TAG, loc, "'%s' is not a TLP 1.0 label", tag);
      if (!v2) sg_vfinding(x, SG_V_TLPV2_TAG, loc, "'%s' is not a TLP 2.0 label", tag);
      if (!v1 && !v2) sg_vfinding(x, SG_V_TLP_TAG, loc, "'%s' is not a TLP label", tag);
    } else if (nl == 3 && !strncmp(tag, "car", 3)) {
      size_t n = strlen(name); /* \d{4}-\d{2}-\d{3}$ */
      if (!(n == 11 && sg_digits(name, 4) && name[4] == '-' && sg_digits(name + 5, 2) && name[7] == '-' &&
            sg_digits(name + 8, 3)))
        sg_vfinding(x, SG_V_CAR_TAG, loc, "'%s' is not car.YYYY-MM-NNN", tag);
    } else if (nl == 3 && !strncmp(tag, "cve", 3)) {
      const char *dash = strchr(name, '-'); /* ^\d+-\d+$ */
      bool ok = dash && dash > name && dash[1] && sg_digits(name, (size_t)(dash - name));
      for (const char *p = dash ? dash + 1 : ""; ok && *p; p++)
        ok = isdigit((unsigned char)*p);
      if (!ok) sg_vfinding(x, SG_V_CVE_TAG, loc, "'%s' is not cve.YYYY-NNNN", tag);
    } else if (nl == 9 && !strncmp(tag, "detection", 9)) {
      if (strncmp(name, "dfir", 4) && strncmp(name, "emerging-threats", 16) &&
          strncmp(name, "threat-hunting", 14))
        sg_vfinding(x, SG_V_DETECTION_TAG, loc,
                    "'%s' is not detection.dfir, emerging-threats or threat-hunting", tag);
    } else if (nl == 3 && !strncmp(tag, "stp", 3)) {
      size_t n = strlen(name);
      if (!(n >= 1 && n <= 2 && name[0] >= '1' && name[0] <= '5' && (n == 1 || strchr("auk", name[1]))))
        sg_vfinding(x, SG_V_STP_TAG, loc, "'%s' is not stp.1 to stp.5 with an optional a, u or k", tag);
    } else if (nl == 6 && !strncmp(tag, "d3fend", 6)) {
      size_t n = strlen(name); /* D3FEND ids (d3-xxx) and tactics (model, harden, ...) */
      static const char *const d3tactics[] = {"model",   "harden", "detect", "isolate",
                                              "deceive", "evict",  "restore"};
      bool ok = n > 3 && !strncmp(name, "d3-", 3);
      for (size_t k = 0; !ok && k < sizeof d3tactics / sizeof *d3tactics; k++)
        ok = !strcmp(name, d3tactics[k]);
      if (!ok) sg_vfinding(x, SG_V_D3FEND_TAG, loc, "'%s' is no D3FEND identifier (d3-xxx) or tactic", tag);
    }
  }
}

/* ---- values, as written ---- */

/* The modifiers of a detection key "field|m1|m2", as flags; M_RAW for
 * those whose values are not Sigma strings (re, cidr, comparisons, ...). */
static unsigned key_mods(V *x, const SgYNode *key) {
  unsigned m = 0;
  const char *p = strchr(key->text, '|');
  while (p) {
    const char *s = p + 1;
    p = strchr(s, '|');
    size_t n = p ? (size_t)(p - s) : strlen(s);
    char mod[24];
    snprintf(mod, sizeof mod, "%.*s", (int)(n < 23 ? n : 23), s);
    if (!strcmp(mod, "contains"))
      m |= M_CONTAINS;
    else if (!strcmp(mod, "startswith"))
      m |= M_STARTSWITH;
    else if (!strcmp(mod, "endswith"))
      m |= M_ENDSWITH;
    else if (!strcmp(mod, "all"))
      m |= M_ALL;
    else if (!strcmp(mod, "base64offset"))
      m |= M_B64OFFSET;
    else if (!strcmp(mod, "windash"))
      m |= M_WINDASH;
    else if (!strcmp(mod, "re"))
      m |= M_RE | M_RAW;
    else if (!strcmp(mod, "base64"))
      m |= M_B64;
    else if (!strcmp(mod, "cased"))
      m |= M_CASED;
    else if (strcmp(mod, "wide") && strcmp(mod, "utf16") && strcmp(mod, "utf16le") && strcmp(mod, "utf16be"))
      m |= M_RAW; /* re, cidr, gt..., exists, fieldref, expand, timestamp parts */
  }
  bool field = key->text[0] != '|';
  if (field && (m & M_ALL) && !(m & M_CONTAINS))
    sg_vfinding(x, SG_V_MODIFIER_COMBINATIONS, key->loc, "'all' without 'contains' in '%s'", key->text);
  if ((m & M_B64OFFSET) && !(m & M_CONTAINS))
    sg_vfinding(x, SG_V_MODIFIER_COMBINATIONS, key->loc, "'base64offset' without 'contains' in '%s'",
                key->text);
  if ((m & M_WINDASH) && (m & M_ALL))
    sg_vfinding(x, SG_V_MODIFIER_COMBINATIONS, key->loc, "'windash' with 'all' in '%s'", key->text);
  return m;
}

/* A string value as Sigma reads it: escapes (\* \? \\) and wildcards. */
typedef struct Str {
  size_t len;                          /* characters, a wildcard counting one */
  bool lead_star, trail_star;          /* an unescaped * first / last */
  bool spec_mid, spec_tail, spec_head; /* a wildcard in [1, len-1), [1, len), [0, len-1) */
  bool escaped_wildcard, double_star, control;
} Str;

static Str scan(const char *s, size_t n) {
  Str r = {0};
  size_t first_special = SIZE_MAX, last_special = SIZE_MAX, nspecial = 0;
  bool prev_star = false;
  for (size_t i = 0; i < n; i++, r.len++) {
    char c = s[i];
    bool star = false, special = false;
    if (c == '\\' && i + 1 < n && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
      r.escaped_wildcard = r.escaped_wildcard || s[i + 1] != '\\';
      i++;
    } else if (c == '*' || c == '?') {
      special = true;
      star = c == '*';
    } else if ((unsigned char)c < 0x20) {
      r.control = true;
    }
    r.double_star = r.double_star || (star && prev_star);
    prev_star = star;
    if (special) {
      if (first_special == SIZE_MAX) first_special = r.len;
      last_special = r.len;
      nspecial++;
      if (r.len == 0) r.lead_star = star;
    }
    r.trail_star = star;
  }
  if (nspecial) {
    size_t last = r.len - 1;
    bool at0 = first_special == 0, atlast = last_special == last;
    r.spec_mid = nspecial > (size_t)at0 + (atlast && last != 0);
    r.spec_tail = nspecial > (size_t)at0;    /* one in [1, len) */
    r.spec_head = nspecial > (size_t)atlast; /* one in [0, len-1) */
  }
  return r;
}

/* One value of a detection item: the string validators. */
static void check_value(V *x, const SgYNode *val, unsigned mods) {
  if (val->kind != SG_Y_SCALAR || val->type != SG_YT_STR || (mods & M_RAW)) return;
  Str s = scan(val->text, val->len);
  if (s.control)
    sg_vfinding(
        x, SG_V_CONTROL_CHARACTER, val->loc,
        "the value holds a control character (a single backslash before t, n or r in double quotes?)");
  if (s.escaped_wildcard)
    sg_vfinding(x, SG_V_ESCAPED_WILDCARD, val->loc,
                "the value has an escaped wildcard: make sure it is meant literally");
  /* contains, startswith and endswith add no * where one is (pySigma's modifiers neither) */
  if (s.double_star)
    sg_vfinding(x, SG_V_DOUBLE_WILDCARD, val->loc, "the value has ** (one * means the same)");
  if (val->quoted && !(mods & ~(unsigned)M_ALL) && val->len && !strchr(val->text, ' ')) {
    const char *p = val->text + (val->text[0] == '-' || val->text[0] == '+');
    if (*p && sg_digits(p, strlen(p)))
      sg_vfinding(x, SG_V_NUMBER_AS_STRING, val->loc, "'%s' is a number written as a string", val->text);
  }
}

/* wildcards_instead_of_modifiers: every value of the item is '*x*' (or '*x',
 * 'x*') with nothing special inside, and the modifier is missing. */
static void check_item_wildcards(V *x, const SgYNode *key, const SgYNode *vals, unsigned mods) {
  if (mods & M_RAW) return;
  size_t n = vals->kind == SG_Y_SEQ ? vals->n : 1;
  bool all_contains = n > 0, all_ends = n > 0, all_starts = n > 0;
  for (size_t i = 0; i < n; i++) {
    const SgYNode *v = vals->kind == SG_Y_SEQ ? vals->items[i] : vals;
    if (v->kind != SG_Y_SCALAR || v->type != SG_YT_STR) return;
    Str s = scan(v->text, v->len);
    bool ok = s.len > 1; /* a lone '*' waits for the exists modifier */
    all_contains = all_contains && ok && s.lead_star && s.trail_star && !s.spec_mid;
    all_ends = all_ends && ok && s.lead_star && !s.spec_tail;
    all_starts = all_starts && ok && s.trail_star && !s.spec_head;
  }
  SgLoc loc = key ? key->loc : vals->loc;
  const char *what = key ? key->text : "keywords";
  if (all_contains && !(mods & M_CONTAINS))
    sg_vfinding(x, SG_V_WILDCARDS_INSTEAD_OF_MODIFIERS, loc,
                "'%s': '*value*' where the contains modifier belongs", what);
  else if (all_ends && !all_contains && !(mods & M_ENDSWITH))
    sg_vfinding(x, SG_V_WILDCARDS_INSTEAD_OF_MODIFIERS, loc,
                "'%s': '*value' where the endswith modifier belongs", what);
  else if (all_starts && !all_contains && !(mods & M_STARTSWITH))
    sg_vfinding(x, SG_V_WILDCARDS_INSTEAD_OF_MODIFIERS, loc,
                "'%s': 'value*' where the startswith modifier belongs", what);
}

/* specific_instead_of_generic_logsource: the Sysmon / Security EventIDs of a generic category. */
static const char *generic_category(const SgLogsource *ls, long id) {
  if (!ls->product || strcmp(ls->product, "windows") || ls->category || !ls->service) return NULL;
  if (!strcmp(ls->service, "security")) return id == 4688 ? "process_creation" : NULL;
  if (strcmp(ls->service, "sysmon")) return NULL;
  static const struct {
    long id;
    const char *cat;
  } sysmon[] = {{1, "process_creation"},
                {2, "file_change"},
                {3, "network_connection"},
                {4, "sysmon_status"},
                {5, "process_termination"},
                {6, "driver_load"},
                {7, "image_load"},
                {8, "create_remote_thread"},
                {9, "raw_access_thread"},
                {10, "process_access"},
                {11, "file_event"},
                {12, "registry_event"},
                {13, "registry_event"},
                {14, "registry_event"},
                {15, "create_stream_hash"},
                {16, "sysmon_status"},
                {17, "pipe_created"},
                {18, "pipe_created"},
                {19, "wmi_event"},
                {20, "wmi_event"},
                {21, "wmi_event"},
                {22, "dns_query"},
                {23, "file_delete"},
                {24, "clipboard_change"},
                {25, "process_tampering"},
                {26, "file_delete_detected"},
                {27, "file_block_executable"},
                {28, "file_block_shredding"},
                {29, "file_executable_detected"},
                {255, "sysmon_error"}};
  for (size_t i = 0; i < sizeof sysmon / sizeof *sysmon; i++)
    if (sysmon[i].id == id) return sysmon[i].cat;
  return NULL;
}

/* A regex value: inline flags, which Sigma 2.2 deprecates for re|i, re|m
 * and re|s, and lookaround or atomic groups, outside Sigma's regex subset
 * (SigmaHQ's sigmahq_unsupported_regex_group_construct). Escapes and
 * character classes are skipped. */
static void check_regex(V *x, const SgYNode *val) {
  if (val->kind != SG_Y_SCALAR || val->type != SG_YT_STR) return;
  const char *p = val->text, *end = p + val->len;
  bool cls = false, flags = false, group = false;
  for (; p < end; p++) {
    if (*p == '\\') {
      p++;
    } else if (cls) {
      cls = *p != ']';
    } else if (*p == '[') {
      cls = true;
      if (p + 1 < end && p[1] == '^') p++;
      if (p + 1 < end && p[1] == ']') p++;
    } else if (*p == '(' && end - p > 2 && p[1] == '?') {
      const char *q = p + 2;
      if (*q == '=' || *q == '!' || *q == '>' || (*q == '<' && end - q > 1 && (q[1] == '=' || q[1] == '!'))) {
        group = true;
        continue;
      }
      while (q < end && strchr("imsxnU-", *q) && *q)
        q++;
      flags = flags || (q > p + 2 && q < end && (*q == ')' || *q == ':'));
    }
  }
  if (flags)
    sg_vfinding(
        x, SG_V_RE_INLINE_FLAGS, val->loc,
        "the regex sets flags inline ((?i), (?m), (?s)): Sigma 2.2 deprecates them for re|i, re|m, re|s");
  if (group)
    sg_vfinding(
        x, SG_V_RE_GROUP_CONSTRUCT, val->loc,
        "the regex has a lookaround or atomic group, outside Sigma's regex subset: not every target has "
        "them");
}

static void check_item(V *x, const SgYNode *key, const SgYNode *vals) {
  unsigned mods = key ? key_mods(x, key) : 0;
  size_t n = vals->kind == SG_Y_SEQ ? vals->n : 1;
  for (size_t i = 0; i < n; i++) {
    const SgYNode *v = vals->kind == SG_Y_SEQ ? vals->items[i] : vals;
    check_value(x, v, mods);
    if (mods & M_RE) check_regex(x, v);
    if (key && !mods && !strcmp(key->text, "EventID") && v->kind == SG_Y_SCALAR && v->type == SG_YT_INT) {
      const char *cat = generic_category(&x->r->logsource, strtol(v->text, NULL, 10));
      if (cat)
        sg_vfinding(x, SG_V_SPECIFIC_LOGSOURCE, v->loc,
                    "EventID %s of service %s is category %s (a generic log source)", v->text,
                    x->r->logsource.service, cat);
    }
  }
  if (vals->kind == SG_Y_SCALAR || vals->kind == SG_Y_SEQ) check_item_wildcards(x, key, vals, mods);
  if (x->hq) sg_hq_item(x, key, vals, mods);
}

static void check_search(V *x, const SgYNode *s, int depth) {
  if (depth > 2) return;
  if (s->kind == SG_Y_MAP) {
    for (size_t i = 0; i < s->n; i++)
      check_item(x, s->keys[i], s->items[i]);
  } else if (s->kind == SG_Y_SEQ) {
    bool maps = false;
    for (size_t i = 0; i < s->n; i++)
      maps = maps || s->items[i]->kind == SG_Y_MAP;
    if (maps)
      for (size_t i = 0; i < s->n; i++)
        check_search(x, s->items[i], depth + 1);
    else
      check_item(x, NULL, s); /* keywords */
  } else {
    check_item(x, NULL, s);
  }
}

/* "them" and "all of them" in the conditions as written */
static void check_conditions(V *x, const SgYNode *det) {
  const SgYNode *c = sg_ymap_get(det, "condition");
  size_t nsearch = 0;
  for (size_t i = 0; i < det->n; i++)
    nsearch += strcmp(det->keys[i]->text, "condition") && strcmp(det->keys[i]->text, "timeframe");
  size_t n = c && c->kind == SG_Y_SEQ ? c->n : c ? 1 : 0;
  for (size_t i = 0; i < n; i++) {
    const SgYNode *cond = c->kind == SG_Y_SEQ ? c->items[i] : c;
    if (cond->kind != SG_Y_SCALAR) continue;
    const char *t = cond->text, *p = t;
    bool them = false, all_them = false;
    while ((p = strstr(p, "them"))) {
      bool word = (p == t || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[4]) && p[4] != '_';
      if (word) {
        them = true;
        const char *q = p;
        while (q > t && isspace((unsigned char)q[-1]))
          q--;
        if (q - t >= 2 && !strncmp(q - 2, "of", 2)) {
          const char *r = q - 2;
          while (r > t && isspace((unsigned char)r[-1]))
            r--;
          if (r - t >= 3 && !strncmp(r - 3, "all", 3) && r < q - 2) all_them = true;
        }
      }
      p += 4;
    }
    if (them && nsearch == 1)
      sg_vfinding(x, SG_V_THEM_SINGLE, cond->loc,
                  "the condition says 'them' but the detection has one search");
    if (all_them)
      sg_vfinding(x, SG_V_ALL_OF_THEM, cond->loc,
                  "'all of them': use 'all of selection*' (or name the searches)");
  }
}

static void validate_rule(V *x) {
  const SgRule *r = x->r;
  if (r->kind == SG_DOC_FILTER) return;
  if (!r->id) sg_vfinding(x, SG_V_ID_EXISTENCE, sg_vkey_loc(r, "title"), "the rule has no id");
  static const char *const misspelt[] = {"realted", "relatde", "relted", "rlated", "reference"};
  for (size_t i = 0; i < r->ncustom; i++)
    for (size_t k = 0; k < sizeof misspelt / sizeof *misspelt; k++)
      if (!strcmp(r->custom[i].key, misspelt[k]))
        sg_vfinding(x, SG_V_CUSTOM_ATTRIBUTES, sg_vkey_loc(r, r->custom[i].key),
                    "'%s' looks like a misspelt standard key", r->custom[i].key);
  for (size_t i = 0; i < r->logsource.ncustom; i++)
    sg_vfinding(x, SG_V_FIELDNAME_LOGSOURCE,
                r->logsource.custom[i].val ? r->logsource.custom[i].val->loc : r->logsource.loc,
                "logsource key '%s' is none of category, product, service, definition",
                r->logsource.custom[i].key);
  const char *slash = strrchr(x->u->path, '/');
  const char *base = slash ? slash + 1 : x->u->path;
  size_t bl = strlen(base);
  if (strcmp(x->u->path, "-") && (bl < x->cfg->filename_min || bl > x->cfg->filename_max) &&
      r == x->u->rules[0])
    sg_vfinding(x, SG_V_FILENAME_LENGTH, (SgLoc){x->u->path, 0, 0},
                "file name '%s' has %zu characters (not %zu to %zu)", base, bl, x->cfg->filename_min,
                x->cfg->filename_max);
  check_tags(x);
  const SgYNode *det = r->yaml && r->kind == SG_DOC_RULE ? sg_ymap_get(r->yaml, "detection") : NULL;
  if (det && det->kind == SG_Y_MAP) {
    x->tax = x->hq ? sg_hq_taxon(x->cfg, &r->logsource) : NULL;
    for (size_t i = 0; i < det->n; i++) {
      const char *k = det->keys[i]->text;
      if (strcmp(k, "condition") && strcmp(k, "timeframe")) check_search(x, det->items[i], 0);
    }
    check_conditions(x, det);
  }
  if (x->hq) sg_hq_rule(x);
}

/* The rule of `u` a diagnostic at `line` is in: the last one starting at or before it. */
static const SgRule *rule_at(const SgUnit *u, uint32_t line) {
  const SgRule *best = NULL;
  for (size_t i = 0; i < u->nrules; i++)
    if (u->rules[i]->loc.line <= line) best = u->rules[i];
  return best;
}

static const Exclusion *exclusion(const SgValidation *v, const char *id) {
  for (size_t i = 0; id && i < v->nexcl; i++)
    if (!sg_ascii_casecmp(v->excl[i].rule_id, id)) return &v->excl[i];
  return NULL;
}

void sg_validate_unit(const SgValidation *v, const SgUnit *u, SgDiags *d, size_t from) {
  bool hq = false;
  for (int k = 0; k < SG_V__COUNT && !hq; k++)
    hq = sg_validator_info[k].set == SG_VSET_SIGMAHQ && !v->off[k] && k != SG_V_RE_GROUP_CONSTRUCT;
  for (size_t i = 0; i < u->nrules; i++) {
    V x = {v, u, u->rules[i], d, NULL, false, hq};
    validate_rule(&x);
  }
  for (size_t i = d->n; i-- > from;) {
    const SgDiag *g = &d->items[i];
    if (!g->validator || g->sev == SG_SEV_ERROR) continue; /* an error stays one */
    SgValidatorId id = sg_validator_find(g->validator);
    const SgRule *r =
        g->loc.path && u->path && !strcmp(g->loc.path, u->path) ? rule_at(u, g->loc.line) : NULL;
    const Exclusion *e = r ? exclusion(v, r->id) : NULL;
    if (id != SG_V__COUNT && (v->off[id] || (e && e->off[id]))) sg_diags_drop(d, i);
  }
}

/* ---- across files ------------------------------------------------------------------ */

bool sg_rule_keys(const SgUnit *u, SgRuleKey **keys, size_t *n, size_t *cap) {
  for (size_t i = 0; i < u->nrules; i++) {
    const SgRule *r = u->rules[i];
    if (r->kind == SG_DOC_FILTER) continue;
    if (!sg_grow_heap(keys, *n, cap, sizeof **keys)) return false;
    SgRuleKey k = {r->id ? strdup(r->id) : NULL,
                   r->title ? strdup(r->title) : NULL,
                   strdup(u->path),
                   r->loc,
                   sg_vkey_loc(r, "id"),
                   sg_vkey_loc(r, "title")};
    if ((r->id && !k.id) || (r->title && !k.title) || !k.path) {
      free(k.id), free(k.title), free(k.path);
      return false;
    }
    k.loc.path = k.id_loc.path = k.title_loc.path = k.path;
    (*keys)[(*n)++] = k;
  }
  return true;
}

void sg_rule_keys_free(SgRuleKey *keys, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(keys[i].id), free(keys[i].title), free(keys[i].path);
  free(keys);
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

typedef enum Field { K_ID, K_TITLE, K_FILE } Field;

static const char *field_of(const SgRuleKey *k, Field f) {
  return f == K_ID ? k->id : f == K_TITLE ? k->title : base_name(k->path);
}

/* A rule's key with the field being compared, so the comparison needs no
 * state beside its arguments (qsort passes none: a file-scope "which field"
 * would race between threads). */
typedef struct Keyed {
  const char *field;
  const SgRuleKey *k;
  bool ci; /* ids compare case-insensitively */
} Keyed;

static int cmp_field(const Keyed *x, const Keyed *y) {
  return x->ci ? sg_ascii_casecmp(x->field, y->field) : strcmp(x->field, y->field);
}

static int cmp_key(const void *a, const void *b) {
  const Keyed *x = a, *y = b;
  int c = cmp_field(x, y);
  if (c) return c;
  c = strcmp(x->k->path, y->k->path);
  return c ? c : (x->k->loc.line > y->k->loc.line) - (x->k->loc.line < y->k->loc.line);
}

void sg_validate_batch(const SgValidation *v, SgRuleKey *keys, size_t n, SgDiags *d) {
  Keyed *by = malloc((n + 1) * sizeof *by);
  if (!by) {
    sg_diag(d, SG_D_NOMEM, (SgLoc){0}, "out of memory checking ids, titles and file names across files");
    return;
  }
  static const struct {
    Field f;
    SgValidatorId id;
    const char *what;
  } checks[] = {{K_ID, SG_V_ID_UNIQUENESS, "id"},
                {K_TITLE, SG_V_DUP_TITLE, "title"},
                {K_FILE, SG_V_DUP_FILENAME, "file name"}};
  for (size_t c = 0; c < sizeof checks / sizeof *checks; c++) {
    if (v->off[checks[c].id]) continue;
    size_t m = 0;
    Field f = checks[c].f;
    for (size_t i = 0; i < n; i++)
      if (field_of(&keys[i], f)) by[m++] = (Keyed){field_of(&keys[i], f), &keys[i], f == K_ID};
    qsort(by, m, sizeof *by, cmp_key);
    for (size_t i = 0; i < m;) {
      size_t j = i + 1;
      while (j < m && !cmp_field(&by[i], &by[j]))
        j++;
      bool distinct_files = false; /* duplicate_filename: the same name in two folders */
      for (size_t k = i + 1; k < j; k++)
        distinct_files = distinct_files || strcmp(by[k].k->path, by[i].k->path);
      if (j - i > 1 && (f != K_FILE || distinct_files))
        for (size_t k = i; k < j; k++) {
          const SgRuleKey *key = by[k].k, *other = by[k == i ? i + 1 : i].k;
          if (f == K_FILE && (k > i && !strcmp(key->path, by[k - 1].k->path))) continue;
          const Exclusion *e = exclusion(v, key->id);
          if (e && e->off[checks[c].id]) continue;
          SgLoc loc = f == K_ID ? key->id_loc : f == K_TITLE ? key->title_loc : (SgLoc){key->path, 0, 0};
          size_t mark = d->n;
          if (f == K_FILE)
            sg_diag(d, SG_D_VALIDATOR, loc, "file name '%s' is also %s's%s", by[k].field, other->path,
                    j - i > 2 ? " (and others')" : "");
          else
            sg_diag(d, SG_D_VALIDATOR, loc, "%s '%s' is also the %s of the rule at %s:%u%s", checks[c].what,
                    by[k].field, checks[c].what, other->path, other->loc.line,
                    j - i > 2 ? " (and others)" : "");
          sg_diags_name(d, mark, sg_validator_info[checks[c].id].id);
        }
      i = j;
    }
  }
  free(by);
}
