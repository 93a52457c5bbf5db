/* text.c - the `text` target: each condition of a rule as a reader would say
 * it, for detection pages and reviews: "process creations (product windows)
 * where Image ends with "\whoami.exe" and CommandLine contains all of "/c"
 * and "whoami"". One sentence per condition; values are quoted, with control
 * characters, quotes and backslashes escaped, so a value never reads as part
 * of the sentence. A correlation: what must happen within its timespan.
 */
#include <string.h>

#include "backend.h"
#include "text_query.h"

/* The characters of a value inside its quotes: \" and \\, the rest as a
 * terminal may show it (sg_term_char: controls, bidi and invalid UTF-8
 * escaped). `wild`: a literal * or ? as \* and \?, for a pattern whose
 * wildcards are bare. */
static void chars(SgBuf *b, const char *s, size_t n, bool wild) {
  for (size_t i = 0; i < n;) {
    if (s[i] == '"' || s[i] == '\\' || (wild && (s[i] == '*' || s[i] == '?')))
      sg_buf_catc(b, '\\'), sg_buf_catc(b, s[i++]);
    else
      i += sg_term_char(b, s + i, n - i);
  }
}

/* A value as written in the sentence, between double quotes. */
static void quoted(SgBuf *b, const char *s, size_t n) {
  sg_buf_catc(b, '"');
  chars(b, s, n, false);
  sg_buf_catc(b, '"');
}

/* A field or logsource name: bare when it is a plain word (letters, digits,
 * _ . - :), else quoted, so a name never reads as part of the sentence. */
static bool plain_word(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr("_.-:", *s)))
      return false;
  return true;
}

static void name(SgBuf *b, const char *s) {
  if (plain_word(s))
    sg_buf_cat(b, s);
  else
    quoted(b, s, strlen(s));
}

/* A Sigma string with its wildcards as the reader sees them: * and ? (a
 * literal one then as \* and \?), a placeholder as %name%, said after. */
static void str_value(SgBuf *b, const SgStr *s) {
  bool wild = sg_tq_str_has_kind(s, SG_PART_STAR) || sg_tq_str_has_kind(s, SG_PART_QMARK);
  sg_buf_catc(b, '"');
  for (uint32_t i = 0; i < s->nparts; i++) {
    const SgPart *p = &s->parts[i];
    if (p->kind == SG_PART_STAR)
      sg_buf_catc(b, '*');
    else if (p->kind == SG_PART_QMARK)
      sg_buf_catc(b, '?');
    else if (p->kind == SG_PART_PLACEHOLDER)
      sg_buf_catc(b, '%'), chars(b, p->s, p->n, false), sg_buf_catc(b, '%');
    else
      chars(b, p->s, p->n, wild);
  }
  sg_buf_catc(b, '"');
  if (sg_tq_str_has_kind(s, SG_PART_PLACEHOLDER)) sg_buf_cat(b, " (with placeholders)");
}

/* The literal between a leading and/or trailing `*` (contains, startswith,
 * endswith), when that is all the pattern has. */
static bool core(const SgStr *s, bool *lead, bool *trail, SgStr *mid) {
  uint32_t n = s->nparts;
  *lead = n && s->parts[0].kind == SG_PART_STAR;
  *trail = n > 1 && s->parts[n - 1].kind == SG_PART_STAR;
  *mid = (SgStr){s->parts + *lead, n - *lead - *trail};
  for (uint32_t i = 0; i < mid->nparts; i++)
    if (mid->parts[i].kind != SG_PART_LIT) return false;
  return *lead || *trail;
}

/* A comparison, or (neg) its negation: not less than is at least. */
static const char *cmp_words(SgOp op, bool neg) {
  if (neg)
    op = op == SG_OP_LT ? SG_OP_GTE : op == SG_OP_LTE ? SG_OP_GT : op == SG_OP_GT ? SG_OP_LTE : SG_OP_LT;
  return op == SG_OP_LT    ? "is less than"
         : op == SG_OP_LTE ? "is at most"
         : op == SG_OP_GT  ? "is greater than"
                           : "is at least";
}

static const char *part_name(SgTsPart p) {
  static const char *const names[] = {"", "minute", "hour", "day", "week", "month", "year"};
  return names[p];
}

/* One match, `neg` when it is negated. */
static void match(SgBuf *b, const SgMatch *m, bool neg) {
  const SgValue *v = &m->v;
  if (!m->field) {
    sg_buf_cat(b, neg ? "the event does not contain " : "the event contains ");
    if (v->kind == SG_V_RE)
      sg_buf_cat(b, "a match of the regular expression "), quoted(b, v->re.pat, v->re.len);
    else if (v->kind == SG_V_NUM)
      quoted(b, v->num.text, strlen(v->num.text));
    else
      str_value(b, &v->str);
    return;
  }
  if (m->tspart) sg_buf_catf(b, "the %s of ", part_name(m->tspart));
  name(b, m->field);
  sg_buf_catc(b, ' ');
  const char *not = neg ? "not " : "";
  switch (m->op) {
  case SG_OP_EXISTS: sg_buf_cat(b, (v->b != neg) ? "is present" : "is absent"); return;
  case SG_OP_RE:
    sg_buf_cat(b, neg ? "does not match the regular expression " : "matches the regular expression ");
    quoted(b, v->re.pat, v->re.len);
    if (v->re.flags) {
      char fl[4];
      sg_buf_catf(b, " (flags %s)", sg_tq_re_flags(v->re.flags, fl));
    }
    return;
  case SG_OP_CIDR: sg_buf_catf(b, "is %sin the network %s", not, v->cidr.text); return;
  case SG_OP_LT:
  case SG_OP_LTE:
  case SG_OP_GT:
  case SG_OP_GTE: sg_buf_catf(b, "%s %s", cmp_words(m->op, neg), v->num.text); return;
  case SG_OP_FIELDREF:
  case SG_OP_FIELDREF_STARTS:
  case SG_OP_FIELDREF_ENDS:
  case SG_OP_FIELDREF_CONTAINS: {
    const char *how = m->op == SG_OP_FIELDREF_STARTS     ? (neg ? "does not start with" : "starts with")
                      : m->op == SG_OP_FIELDREF_ENDS     ? (neg ? "does not end with" : "ends with")
                      : m->op == SG_OP_FIELDREF_CONTAINS ? (neg ? "does not contain" : "contains")
                                                         : (neg ? "differs from" : "equals");
    sg_buf_catf(b, "%s the value of the field ", how);
    quoted(b, v->str.parts[0].s, v->str.parts[0].n);
    return;
  }
  case SG_OP_EQ: break;
  }
  switch (v->kind) {
  case SG_V_NULL: sg_buf_cat(b, neg ? "is present and not null" : "is absent or null"); return;
  case SG_V_BOOL: sg_buf_catf(b, "is %s%s", not, v->b ? "true" : "false"); return;
  case SG_V_NUM: sg_buf_catf(b, "is %s%s", not, v->num.text); return;
  case SG_V_EXPR:
    sg_buf_cat(b, neg ? "does not match the query expression " : "matches the query expression ");
    break;
  default: break;
  }
  if (v->kind == SG_V_EXPR) {
    str_value(b, &v->str);
    return;
  }
  bool lead, trail;
  SgStr mid;
  const char *cased = m->cased ? " (case-sensitive)" : "";
  if (!v->str.nparts) {
    sg_buf_catf(b, "is %sempty", not );
  } else if (core(&v->str, &lead, &trail, &mid)) {
    const char *verb = lead && trail ? (neg ? "does not contain " : "contains ")
                       : lead        ? (neg ? "does not end with " : "ends with ")
                                     : (neg ? "does not start with " : "starts with ");
    sg_buf_cat(b, verb);
    str_value(b, &mid);
  } else if (sg_tq_str_has_kind(&v->str, SG_PART_STAR) || sg_tq_str_has_kind(&v->str, SG_PART_QMARK)) {
    sg_buf_cat(b, neg ? "does not match the pattern " : "matches the pattern ");
    str_value(b, &v->str);
  } else {
    sg_buf_catf(b, "is %s", not );
    str_value(b, &v->str);
  }
  sg_buf_cat(b, cased);
}

static void expr(SgBuf *b, const SgNode *n, bool neg, bool top);

/* A list of the same field's equal values: "F is one of "a", "b" or "c"". */
static bool value_list(SgBuf *b, const SgNode *n, bool neg) {
  if (n->kind != SG_N_OR || n->nkids < 2) return false;
  const char *f = NULL;
  bool cased = n->kids[0]->kind == SG_N_MATCH && n->kids[0]->m.cased;
  for (uint32_t i = 0; i < n->nkids; i++) {
    const SgNode *k = n->kids[i];
    if (k->kind != SG_N_MATCH || !k->m.field || k->m.op != SG_OP_EQ || k->m.tspart || k->m.cased != cased)
      return false;
    if (k->m.v.kind != SG_V_NUM && (k->m.v.kind != SG_V_STR || !sg_str_is_plain(&k->m.v.str))) return false;
    if (f && strcmp(f, k->m.field)) return false;
    f = k->m.field;
  }
  name(b, f);
  sg_buf_catf(b, " is %sone of ", neg ? "not " : "");
  for (uint32_t i = 0; i < n->nkids; i++) {
    const SgValue *v = &n->kids[i]->m.v;
    if (i) sg_buf_cat(b, i + 1 == n->nkids ? " or " : ", ");
    if (v->kind == SG_V_NUM)
      sg_buf_cat(b, v->num.text);
    else
      str_value(b, &v->str);
  }
  if (cased) sg_buf_cat(b, " (case-sensitive)");
  return true;
}

/* `f|contains|all`: "F contains all of "a", "b" and "c"". */
static bool all_list(SgBuf *b, const SgNode *n, bool neg) {
  if (n->kind != SG_N_AND || n->nkids < 2 || neg) return false;
  const char *f = NULL;
  bool lead, trail;
  SgStr mid;
  for (uint32_t i = 0; i < n->nkids; i++) {
    const SgNode *k = n->kids[i];
    if (k->kind != SG_N_MATCH || !k->m.field || k->m.op != SG_OP_EQ || k->m.tspart || k->m.cased ||
        k->m.v.kind != SG_V_STR || !core(&k->m.v.str, &lead, &trail, &mid) || !lead || !trail)
      return false;
    if (f && strcmp(f, k->m.field)) return false;
    f = k->m.field;
  }
  name(b, f);
  sg_buf_cat(b, " contains all of ");
  for (uint32_t i = 0; i < n->nkids; i++) {
    core(&n->kids[i]->m.v.str, &lead, &trail, &mid);
    if (i) sg_buf_cat(b, i + 1 == n->nkids ? " and " : ", ");
    str_value(b, &mid);
  }
  return true;
}

/* n with polarity neg: NOT pushed to the leaves as a reader says it (not (a
 * or b) = neither: "not a and not b"), AND as "and", OR as "or"; a group
 * inside another is parenthesised. */
static void expr(SgBuf *b, const SgNode *n, bool neg, bool top) {
  switch (n->kind) {
  case SG_N_TRUE: sg_buf_cat(b, neg ? "never" : "always"); return;
  case SG_N_FALSE: sg_buf_cat(b, neg ? "always" : "never"); return;
  case SG_N_NOT: expr(b, n->kids[0], !neg, top); return;
  case SG_N_MATCH: match(b, &n->m, neg); return;
  case SG_N_AND:
  case SG_N_OR: {
    if (value_list(b, n, neg) || all_list(b, n, neg)) return;
    bool and = (n->kind == SG_N_AND) != neg; /* De Morgan */
    if (n->nkids == 1) {
      expr(b, n->kids[0], neg, top);
      return;
    }
    if (!top) sg_buf_catc(b, '(');
    for (uint32_t i = 0; i < n->nkids; i++) {
      if (i) sg_buf_cat(b, and? " and " : " or ");
      expr(b, n->kids[i], neg, false);
    }
    if (!top) sg_buf_catc(b, ')');
    return;
  }
  }
}

/* The log source in words: the category as events ("process creations"),
 * then product and service. */
static void logsource(SgBuf *b, const SgLogsource *ls) {
  if (ls->category && plain_word(ls->category)) {
    /* process_creation: "process creation events"; file_event: "file events" */
    size_t n = strlen(ls->category);
    if (n > 6 && !strcmp(ls->category + n - 6, "_event")) n -= 6;
    for (size_t i = 0; i < n; i++)
      sg_buf_catc(b, ls->category[i] == '_' ? ' ' : ls->category[i]);
    sg_buf_cat(b, " events");
  } else if (ls->category) {
    name(b, ls->category);
    sg_buf_cat(b, " events");
  } else {
    sg_buf_cat(b, "events");
  }
  if (ls->product || ls->service) {
    sg_buf_cat(b, " (");
    if (ls->product) sg_buf_cat(b, "product "), name(b, ls->product);
    if (ls->service) sg_buf_cat(b, ls->product ? ", service " : "service "), name(b, ls->service);
    sg_buf_catc(b, ')');
  }
}

static const char *corr_what(SgCorrType t) {
  switch (t) {
  case SG_CORR_EVENT_COUNT: return "the number of matches";
  case SG_CORR_VALUE_COUNT: return "the number of distinct values of";
  case SG_CORR_TEMPORAL: return "the number of the rules that matched";
  case SG_CORR_TEMPORAL_ORDERED: return "the number of the rules that matched in their order";
  case SG_CORR_VALUE_SUM: return "the sum of";
  case SG_CORR_VALUE_AVG: return "the average of";
  case SG_CORR_VALUE_PERCENTILE: return "a percentile of";
  case SG_CORR_VALUE_MEDIAN: return "the median of";
  default: return "the aggregate of";
  }
}

static SgStatus correlation(const SgConvCtx *c, const SgRule *r, SgQueries *out) {
  const SgCorrelation *k = r->corr;
  SgBuf b = {0};
  sg_buf_cat(&b, "within ");
  if (k->timespan)
    name(&b, k->timespan);
  else
    sg_buf_cat(&b, "its timespan");
  if (k->group_by.n) {
    sg_buf_cat(&b, " for the same ");
    for (size_t i = 0; i < k->group_by.n; i++)
      sg_buf_cat(&b, i ? (i + 1 == k->group_by.n ? " and " : ", ") : ""), name(&b, k->group_by.v[i]);
  }
  sg_buf_cat(&b, k->rules.n == 1 ? ", of the rule " : ", of the rules ");
  for (size_t i = 0; i < k->rules.n; i++) {
    if (i) sg_buf_cat(&b, i + 1 == k->rules.n ? " and " : ", ");
    quoted(&b, k->rules.v[i], strlen(k->rules.v[i]));
    if (i < c->nrefs && c->refs[i]->kind == SG_DOC_CORRELATION) sg_buf_cat(&b, " (a correlation)");
  }
  sg_buf_catf(&b, ": %s", corr_what(k->type));
  if (k->fields.n) sg_buf_catc(&b, ' '), name(&b, k->fields.v[0]);
  if (k->expression) {
    sg_buf_cat(&b, " holds for the condition ");
    quoted(&b, k->expression, strlen(k->expression));
  }
  static const char *const ops[][2] = {{"gt", "more than"}, {"gte", "at least"}, {"lt", "fewer than"},
                                       {"lte", "at most"},  {"eq", "exactly"},   {"neq", "other than"}};
  for (size_t i = 0; i < k->nconds; i++) {
    const char *w = k->conds[i].op;
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
      if (!strcmp(ops[o][0], w)) w = ops[o][1];
    sg_buf_catf(&b, "%s is %s %s", i ? " and" : "", w, k->conds[i].value.text);
  }
  if (!k->nconds && !k->expression) sg_buf_cat(&b, " is all of them");
  SgStatus st = b.oom ? SG_ERR_NOMEM : sg_queries_add(out, r, 0, sg_buf_cstr(&b), b.len);
  sg_buf_free(&b);
  return st;
}

static SgStatus text_convert(const SgConvCtx *c, const SgRule *r, SgQueries *out, SgDiags *d) {
  (void)d;
  if (r->kind == SG_DOC_CORRELATION && r->corr) return correlation(c, r, out);
  for (size_t i = 0; i < r->nconds; i++) {
    if (!r->conds[i].root) continue;
    SgBuf b = {0};
    logsource(&b, &r->logsource);
    sg_buf_cat(&b, " where ");
    expr(&b, r->conds[i].root, false, true);
    SgStatus st = b.oom ? SG_ERR_NOMEM : sg_queries_add(out, r, i, sg_buf_cstr(&b), b.len);
    sg_buf_free(&b);
    if (st) return st;
  }
  return SG_OK;
}

static const SgFormat formats[] = {
    {"default", "each condition as a sentence (detection pages, reviews)", "", ".txt", NULL, NULL},
    {0},
};

const SgTarget sg_target_text = {
    .name = "text",
    .description = "each condition in words, as a reader would say it",
    .formats = formats,
    .any_pipeline = true,
    .convert = text_convert,
    .finish = sg_tq_finish_text,
};
