/* yaml_load.c - YAML bytes -> located SgYNode tree, via libyaml's event API.
 *
 * Each event is turned into a node and deleted right away. Plain scalars are
 * typed here (YAML 1.2 core schema: int, float, bool, null, else string);
 * quoted and block scalars are always strings; the original text is kept.
 * Enforced here: no duplicate keys, no anchors/aliases, depth and size limits,
 * and only the core schema's tags (an unknown tag is an error, never ignored).
 * libyaml marks are 0-based; mark_loc() is the one place that adds 1.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sigmacc_int.h"

typedef struct Frame {
  SgYNode *node;
  SgYNode **items, **keys;
  size_t n, cap;
  SgYNode *pending_key; /* MAP: key waiting for its value */
} Frame;

typedef struct Loader {
  SgArena *a;
  SgDiags *d;
  const char *path;
  const char *src;
  size_t srclen;
  Frame *stack;
  size_t depth, cap;
  SgYDoc *docs;
  size_t ndocs, doccap;
  bool failed;
  bool dups_kept; /* duplicate keys: a warning, every entry kept (sg_yaml_load_config) */
} Loader;

static SgLoc mark_loc(const Loader *L, yaml_mark_t m) {
  SgLoc loc = {L->path, (uint32_t)m.line + 1, (uint32_t)m.column + 1};
  return loc;
}

/* ---- Plain scalar typing ----------------------------------------------------- */

static bool all_digits(const char *s, size_t n, const char *set) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++)
    if (!strchr(set, s[i]) || s[i] == '\0') return false;
  return true;
}

static bool is_float_text(const char *s, size_t n) {
  size_t i = 0, digits = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) i++;
  if (n - i == 4 && (!strncmp(s + i, ".inf", 4) || !strncmp(s + i, ".Inf", 4) || !strncmp(s + i, ".INF", 4)))
    return true;
  if (n == 4 && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))) return true;
  while (i < n && s[i] >= '0' && s[i] <= '9')
    i++, digits++;
  bool dot = false;
  if (i < n && s[i] == '.') {
    dot = true;
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++, digits++;
  }
  if (!digits) return false;
  bool exp = false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    exp = true;
    i++;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    if (!all_digits(s + i, n - i, "0123456789")) return false;
    i = n;
  }
  return i == n && (dot || exp);
}

static void type_plain(SgYNode *n) {
  const char *s = n->text;
  size_t len = n->len;
  n->type = SG_YT_STR;
  if (len == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")) {
    n->type = SG_YT_NULL;
  } else if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
    n->type = SG_YT_BOOL;
    n->bval = true;
  } else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
    n->type = SG_YT_BOOL;
  } else {
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (all_digits(s + i, len - i, "0123456789") ||
        (len > 2 && s[0] == '0' && (s[1] == 'x') && all_digits(s + 2, len - 2, "0123456789abcdefABCDEF")) ||
        (len > 2 && s[0] == '0' && (s[1] == 'o') && all_digits(s + 2, len - 2, "01234567")))
      n->type = SG_YT_INT;
    else if (is_float_text(s, len))
      n->type = SG_YT_FLOAT;
  }
}

/* ---- Tree building ------------------------------------------------------------ */

static void fail(Loader *L, SgDiagCode code, SgLoc loc, const char *msg, const char *arg) {
  sg_diag(L->d, code, loc, msg, arg);
  L->failed = true;
}

static bool frame_push_item(Frame *f, SgYNode *item, SgYNode *key) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 8;
    SgYNode **it = realloc(f->items, cap * sizeof *it);
    if (!it) return false;
    f->items = it;
    if (f->node->kind == SG_Y_MAP) {
      SgYNode **k = realloc(f->keys, cap * sizeof *k);
      if (!k) return false;
      f->keys = k;
    }
    f->cap = cap;
  }
  if (key) f->keys[f->n] = key;
  f->items[f->n++] = item;
  return true;
}

typedef struct KeyRef {
  const SgYNode *key;
  size_t idx;
} KeyRef;

static int keyref_cmp(const void *x, const void *y) {
  const KeyRef *a = x, *b = y;
  size_t n = a->key->len < b->key->len ? a->key->len : b->key->len;
  int c = memcmp(a->key->text, b->key->text, n);
  if (c) return c;
  if (a->key->len != b->key->len) return a->key->len < b->key->len ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Duplicate keys: sort once (O(n log n)) instead of a scan per key. */
static bool check_duplicates(Loader *L, SgYNode *map) {
  if (map->n < 2) return true;
  KeyRef *refs = malloc(map->n * sizeof *refs);
  if (!refs) return false;
  for (size_t i = 0; i < map->n; i++)
    refs[i] = (KeyRef){map->keys[i], i};
  qsort(refs, map->n, sizeof *refs, keyref_cmp);
  for (size_t i = 1; i < map->n; i++)
    if (refs[i].key->len == refs[i - 1].key->len &&
        !memcmp(refs[i].key->text, refs[i - 1].key->text, refs[i].key->len)) {
      if (L->dups_kept)
        sg_diag(L->d, SG_D_YAML_DUPKEY_KEPT, refs[i].key->loc,
                "duplicate key '%s': both entries apply (PyYAML would keep only the last)",
                refs[i].key->text);
      else
        fail(L, SG_D_YAML_DUPKEY, refs[i].key->loc, "duplicate key '%s' in mapping", refs[i].key->text);
    }
  free(refs);
  return true;
}

/* Attach a finished node to the open container, or make it the document root. */
static bool attach(Loader *L, SgYNode *node) {
  if (L->depth == 0) {
    L->docs[L->ndocs - 1].root = node;
    return true;
  }
  Frame *f = &L->stack[L->depth - 1];
  if (f->node->kind == SG_Y_SEQ) return frame_push_item(f, node, NULL);
  if (!f->pending_key) {
    if (node->kind != SG_Y_SCALAR) {
      fail(L, SG_D_YAML_KEY, node->loc, "mapping key is %s, not a string", sg_ytype_name(node));
      return false;
    }
    if (node->type != SG_YT_NULL) node->type = SG_YT_STR; /* a null key (`~:`) stays null */
    f->pending_key = node;
    return true;
  }
  SgYNode *key = f->pending_key;
  f->pending_key = NULL;
  return frame_push_item(f, node, key);
}

static bool open_container(Loader *L, SgYKind kind, SgLoc loc) {
  if (L->depth >= SG_MAX_YAML_DEPTH) {
    sg_diag(L->d, SG_D_YAML_DEPTH, loc, "YAML nesting deeper than %d levels", SG_MAX_YAML_DEPTH);
    L->failed = true;
    return false;
  }
  if (L->depth == L->cap) {
    size_t cap = L->cap ? L->cap * 2 : 16;
    Frame *s = realloc(L->stack, cap * sizeof *s);
    if (!s) return false;
    L->stack = s;
    L->cap = cap;
  }
  SgYNode *n = sg_arena_alloc(L->a, sizeof *n);
  if (!n) return false;
  n->kind = kind;
  n->loc = loc;
  L->stack[L->depth++] = (Frame){.node = n};
  return true;
}

static bool close_container(Loader *L) {
  Frame f = L->stack[--L->depth];
  SgYNode *n = f.node;
  bool ok = true;
  n->n = f.n;
  if (f.n) {
    n->items = sg_arena_alloc(L->a, f.n * sizeof *n->items);
    ok = n->items != NULL;
    if (ok) memcpy(n->items, f.items, f.n * sizeof *n->items);
    if (ok && n->kind == SG_Y_MAP) {
      n->keys = sg_arena_alloc(L->a, f.n * sizeof *n->keys);
      ok = n->keys != NULL;
      if (ok) memcpy(n->keys, f.keys, f.n * sizeof *n->keys);
    }
  }
  free(f.items);
  free(f.keys);
  if (!ok) return false;
  if (n->kind == SG_Y_MAP && !check_duplicates(L, n)) return false;
  return attach(L, n);
}

/* The tags a Sigma document may carry: the core schema's, written `!!str`
 * etc., and the non-specific `!`. A scalar tag must agree with the value. */
static bool tag_ok(Loader *L, const yaml_char_t *tag, SgYKind kind, SgYNode *scalar, SgLoc loc) {
  static const char core[] = "tag:yaml.org,2002:";
  const char *t = (const char *)tag;
  if (!t) return true;
  if (!strcmp(t, "!")) { /* non-specific: a quoted or plain scalar is a string */
    if (scalar) scalar->type = SG_YT_STR;
    return true;
  }
  const char *name = strncmp(t, core, sizeof core - 1) ? NULL : t + sizeof core - 1;
  static const char *const scalars[] = {"str", "int", "float", "bool", "null"};
  if (name && kind != SG_Y_SCALAR && !strcmp(name, kind == SG_Y_SEQ ? "seq" : "map")) return true;
  for (size_t i = 0; name && kind == SG_Y_SCALAR && i < sizeof scalars / sizeof *scalars; i++)
    if (!strcmp(name, scalars[i])) {
      if (i == 0) return scalar->type = SG_YT_STR, true;
      if (!scalar->quoted && scalar->type == (SgYType)(SG_YT_STR + i)) return true;
      sg_diag(L->d, SG_D_YAML_TAG, loc, "'%s' is not a valid !!%s value", scalar->text, name);
      L->failed = true;
      return false;
    }
  sg_diag(L->d, SG_D_YAML_TAG, loc,
          "YAML tag '%s%s' is not supported here (Sigma is plain YAML; the core tags !!str, !!int, !!float, "
          "!!bool, !!null, !!seq and !!map are accepted where they fit)",
          name ? "!!" : "", name ? name : t);
  L->failed = true;
  return false;
}

static bool on_scalar(Loader *L, yaml_event_t *ev) {
  SgLoc loc = mark_loc(L, ev->start_mark);
  size_t len = ev->data.scalar.length;
  if (len > SG_MAX_SCALAR_BYTES) {
    sg_diag(L->d, SG_D_YAML_TOO_BIG, loc, "scalar of %zu bytes exceeds the limit of %u bytes", len,
            SG_MAX_SCALAR_BYTES);
    L->failed = true;
    return false;
  }
  SgYNode *n = sg_arena_alloc(L->a, sizeof *n);
  if (!n) return false;
  n->kind = SG_Y_SCALAR;
  n->loc = loc;
  n->text = sg_arena_strndup(L->a, (const char *)ev->data.scalar.value, len);
  if (!n->text) return false;
  n->len = len;
  n->multiline = ev->end_mark.line != ev->start_mark.line;
  n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
  if (n->quoted)
    n->type = SG_YT_STR;
  else
    type_plain(n);
  if (!tag_ok(L, ev->data.scalar.tag, SG_Y_SCALAR, n, loc)) return true; /* reported */
  return attach(L, n);
}

static bool new_doc(Loader *L, SgLoc loc) {
  if (L->ndocs == L->doccap) {
    size_t cap = L->doccap ? L->doccap * 2 : 4;
    SgYDoc *d = realloc(L->docs, cap * sizeof *d);
    if (!d) return false;
    L->docs = d;
    L->doccap = cap;
  }
  L->docs[L->ndocs++] = (SgYDoc){NULL, loc};
  return true;
}

static SgLoc offset_loc(const Loader *L, size_t off) {
  SgLoc loc = {L->path, 1, 1};
  for (size_t i = 0; i < off && i < L->srclen; i++) {
    if (L->src[i] == '\n') {
      loc.line++;
      loc.col = 1;
    } else {
      loc.col++;
    }
  }
  return loc;
}

static void report_parser_error(Loader *L, yaml_parser_t *p) {
  SgLoc loc = mark_loc(L, p->problem_mark);
  const char *problem = p->problem ? p->problem : "malformed YAML";
  if (p->error == YAML_READER_ERROR) {
    /* reader errors carry a byte offset, not a mark: count lines ourselves */
    loc = offset_loc(L, p->problem_offset);
    if (p->problem_value != -1)
      sg_diag(L->d, SG_D_YAML_SYNTAX, loc, "%s (byte 0x%02X)", problem, p->problem_value & 0xFF);
    else
      sg_diag(L->d, SG_D_YAML_SYNTAX, loc, "%s", problem);
  } else if (p->context && (p->context_mark.line != p->problem_mark.line ||
                            p->context_mark.column != p->problem_mark.column)) {
    SgLoc c = mark_loc(L, p->context_mark);
    sg_diag(L->d, SG_D_YAML_SYNTAX, loc, "%s %s (which starts at %u:%u)", problem, p->context, c.line, c.col);
  } else if (p->context) {
    sg_diag(L->d, SG_D_YAML_SYNTAX, loc, "%s %s", problem, p->context);
  } else {
    sg_diag(L->d, SG_D_YAML_SYNTAX, loc, "%s", problem);
  }
  L->failed = true;
}

static SgStatus load(Loader L, SgYDoc **docs, size_t *ndocs);

SgStatus sg_yaml_load(SgArena *a, const char *path, const char *src, size_t len, SgYDoc **docs, size_t *ndocs,
                      SgDiags *d) {
  return load((Loader){.a = a, .d = d, .path = path, .src = src, .srclen = len}, docs, ndocs);
}

SgStatus sg_yaml_load_config(SgArena *a, const char *path, const char *src, size_t len, SgYDoc **docs,
                             size_t *ndocs, SgDiags *d) {
  return load((Loader){.a = a, .d = d, .path = path, .src = src, .srclen = len, .dups_kept = true}, docs,
              ndocs);
}

static SgStatus load(Loader L, SgYDoc **docs, size_t *ndocs) {
  const char *src = L.src;
  size_t len = L.srclen;
  yaml_parser_t p;
  *docs = NULL;
  *ndocs = 0;
  if (!yaml_parser_initialize(&p)) return SG_ERR_NOMEM;
  yaml_parser_set_input_string(&p, (const unsigned char *)src, len);
  bool done = false, oom = false;
  while (!done && !L.failed && !oom) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      report_parser_error(&L, &p);
      break;
    }
    SgLoc loc = mark_loc(&L, ev.start_mark);
    bool ok = true;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = true; break;
    case YAML_DOCUMENT_START_EVENT: ok = new_doc(&L, loc); break;
    case YAML_SCALAR_EVENT:
      if (ev.data.scalar.anchor)
        fail(&L, SG_D_YAML_ALIAS, loc, "anchor '&%s' is not allowed", (const char *)ev.data.scalar.anchor);
      else
        ok = on_scalar(&L, &ev);
      break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
      const yaml_char_t *anchor =
          ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor;
      const yaml_char_t *tag =
          ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.tag : ev.data.mapping_start.tag;
      if (anchor)
        fail(&L, SG_D_YAML_ALIAS, loc, "anchor '&%s' is not allowed", (const char *)anchor);
      else if (!tag_ok(&L, tag, ev.type == YAML_SEQUENCE_START_EVENT ? SG_Y_SEQ : SG_Y_MAP, NULL, loc))
        ;
      else
        ok = open_container(&L, ev.type == YAML_SEQUENCE_START_EVENT ? SG_Y_SEQ : SG_Y_MAP, loc);
      break;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: ok = close_container(&L); break;
    case YAML_ALIAS_EVENT:
      fail(&L, SG_D_YAML_ALIAS, loc, "alias '*%s' is not allowed", (const char *)ev.data.alias.anchor);
      break;
    default: break;
    }
    if (!ok && !L.failed) oom = true;
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  while (L.depth) { /* unwind after an error */
    Frame *f = &L.stack[--L.depth];
    free(f->items);
    free(f->keys);
  }
  free(L.stack);
  if (L.ndocs) {
    *docs = sg_arena_alloc(L.a, L.ndocs * sizeof **docs);
    if (*docs) {
      memcpy(*docs, L.docs, L.ndocs * sizeof **docs);
      *ndocs = L.ndocs;
    } else {
      oom = true;
    }
  }
  free(L.docs);
  if (oom) {
    sg_diag(L.d, SG_D_NOMEM, (SgLoc){L.path, 0, 0}, "out of memory while loading YAML");
    return SG_ERR_NOMEM;
  }
  return L.failed ? SG_ERR_PARSE : SG_OK;
}

SgYNode *sg_ymap_get(const SgYNode *map, const char *key) {
  if (!map || map->kind != SG_Y_MAP) return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (!strcmp(map->keys[i]->text, key)) return map->items[i];
  return NULL;
}

const char *sg_ytype_name(const SgYNode *n) {
  if (!n) return "nothing";
  switch (n->kind) {
  case SG_Y_SEQ: return "a list";
  case SG_Y_MAP: return "a mapping";
  case SG_Y_SCALAR: break;
  }
  switch (n->type) {
  case SG_YT_STR: return "a string";
  case SG_YT_INT: return "an integer";
  case SG_YT_FLOAT: return "a number";
  case SG_YT_BOOL: return "a boolean";
  case SG_YT_NULL: return "null";
  }
  return "a value";
}
