/* dump.c - readable, deterministic dump of resolved rules (`convert -t ast`).
 *
 * One node per line, two spaces of indent per level:
 *   and / or / not, then a match as  FIELD OP[/FLAGS][ TSPART][ cased] VALUE
 * Strings are printed in Sigma's own escaping (`*` `?` are wildcards, `\*`
 * `\?` `\\` literals) inside double quotes, placeholders as %{name}; bytes
 * outside printable ASCII as \xNN, so the dump is unambiguous and byte-stable.
 */
#include <string.h>

#include "front.h"

const char *sg_op_name(SgOp op) {
  static const char *const names[] = {
#define X(name, str) str,
      SG_OP_LIST(X)
#undef X
  };
  return names[op];
}

static const char *const tsparts[] = {"", "minute", "hour", "day", "week", "month", "year"};

static void dump_bytes(SgBuf *out, const char *s, size_t n, bool sigma_escapes) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || (sigma_escapes && (c == '*' || c == '?' || c == '\\')) || (!sigma_escapes && c == '\\')) {
      sg_buf_catc(out, '\\');
      sg_buf_catc(out, (char)c);
    } else if (c < 0x20 || c >= 0x7f) {
      sg_buf_catf(out, "\\x%02X", c);
    } else {
      sg_buf_catc(out, (char)c);
    }
  }
}

static void dump_field(SgBuf *out, const char *f) {
  bool plain = *f != '\0';
  for (const char *p = f; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr("_.-@/:", *p)))
      plain = false;
  if (plain) {
    sg_buf_cat(out, f);
  } else {
    sg_buf_catc(out, '"');
    dump_bytes(out, f, strlen(f), false);
    sg_buf_catc(out, '"');
  }
}

void sg_dump_value(SgBuf *out, const SgValue *v) {
  switch (v->kind) {
  case SG_V_STR:
    sg_buf_catc(out, '"');
    for (uint32_t i = 0; i < v->str.nparts; i++) {
      const SgPart *p = &v->str.parts[i];
      switch (p->kind) {
      case SG_PART_LIT: dump_bytes(out, p->s, p->n, true); break;
      case SG_PART_STAR: sg_buf_catc(out, '*'); break;
      case SG_PART_QMARK: sg_buf_catc(out, '?'); break;
      case SG_PART_PLACEHOLDER: sg_buf_catf(out, "%%{%.*s}", (int)p->n, p->s); break;
      }
    }
    sg_buf_catc(out, '"');
    break;
  case SG_V_NUM: sg_buf_cat(out, v->num.text); break;
  case SG_V_BOOL: sg_buf_cat(out, v->b ? "true" : "false"); break;
  case SG_V_NULL: sg_buf_cat(out, "null"); break;
  case SG_V_RE:
    sg_buf_catc(out, '"');
    dump_bytes(out, v->re.pat, v->re.len, false);
    sg_buf_catc(out, '"');
    break;
  case SG_V_CIDR: sg_buf_cat(out, v->cidr.text); break;
  case SG_V_FIELD: dump_field(out, v->str.parts[0].s); break;
  case SG_V_EXPR:
    sg_buf_cat(out, "expr \"");
    dump_bytes(out, v->str.parts[0].s, v->str.parts[0].n, false);
    sg_buf_catc(out, '"');
    break;
  }
}

void sg_dump_node(SgBuf *out, const SgNode *n, int indent) {
  for (int i = 0; i < indent; i++)
    sg_buf_cat(out, "  ");
  switch (n->kind) {
  case SG_N_AND:
  case SG_N_OR:
  case SG_N_NOT:
    sg_buf_cat(out, n->kind == SG_N_AND ? "and\n" : n->kind == SG_N_OR ? "or\n" : "not\n");
    for (uint32_t i = 0; i < n->nkids; i++)
      sg_dump_node(out, n->kids[i], indent + 1);
    return;
  case SG_N_TRUE: sg_buf_cat(out, "true\n"); return;
  case SG_N_FALSE: sg_buf_cat(out, "false\n"); return;
  case SG_N_MATCH: break;
  }
  const SgMatch *m = &n->m;
  if (m->field)
    dump_field(out, m->field);
  else
    sg_buf_cat(out, "keyword");
  sg_buf_catc(out, ' ');
  sg_buf_cat(out, sg_op_name(m->op));
  if (m->op == SG_OP_RE && m->v.re.flags) {
    sg_buf_catc(out, '/');
    if (m->v.re.flags & SG_RE_I) sg_buf_catc(out, 'i');
    if (m->v.re.flags & SG_RE_M) sg_buf_catc(out, 'm');
    if (m->v.re.flags & SG_RE_S) sg_buf_catc(out, 's');
  }
  if (m->tspart) sg_buf_catf(out, " %s", tsparts[m->tspart]);
  if (m->cased) sg_buf_cat(out, " cased");
  if (m->op != SG_OP_EXISTS) {
    sg_buf_catc(out, ' ');
    sg_dump_value(out, &m->v);
  }
  sg_buf_catc(out, '\n');
}

void sg_dump_rule(SgBuf *out, const SgRule *r) {
  static const char *const kinds[] = {"rule", "correlation", "filter"};
  sg_buf_catf(out, "%s ", kinds[r->kind]);
  sg_json_str(out, r->title ? r->title : "", r->title ? strlen(r->title) : 0);
  sg_buf_catc(out, '\n');
  for (size_t i = 0; i < r->nconds; i++) {
    const SgCondition *c = &r->conds[i];
    sg_buf_cat(out, "condition ");
    sg_json_str(out, c->text, strlen(c->text));
    sg_buf_catc(out, '\n');
    if (c->root) sg_dump_node(out, c->root, 1);
  }
}
