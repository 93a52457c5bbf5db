/* test_hostile.c - a property test that hunts for query injection and broken
 * framing. Generated hostile strings (quotes, backslashes, line breaks,
 * control characters, pipes, brackets, SQL and SPL syntax, Unicode
 * separators and look-alike quotes, long values) are put into every slot a
 * rule offers - each value modifier, field names, keywords, lists, title,
 * description, `fields:`, correlation names and group-by - between two
 * markers. Every rule is converted with every target and format, and each
 * output is read back by a small lexer of its format:
 *   - every string literal and quoted identifier closes;
 *   - the markers occur only inside literals, both in the same one (a value
 *     never becomes query syntax), unless the whole value is a plain name;
 *   - only the commands and clauses the backend writes appear;
 *   - the number of queries is the number the backend made (no value adds a
 *     query), savedsearches parses back to the same stanzas and keys, and
 *     json lines parse as JSON.
 * A conversion may fail with a located error; it may never crash or break
 * out. CI runs every string in every slot; SIGMACC_HOSTILE_FULL=1 adds every
 * pair of strings in the value slots. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include "backend.h"
#include "hostile.h"
#include "outcheck.h"

#define MARK "QZX"

/* ---- Rules with a hostile string in one slot ------------------------------------------- */

/* The value as the rule holds it: the hostile string between markers. */
static void marked(SgBuf *b, const char *h) {
  SgBuf v = {0};
  sg_buf_catf(&v, MARK "%s" MARK, h);
  yq(b, sg_buf_cstr(&v));
  sg_buf_free(&v);
}

typedef enum Slot {
  S_VALUE, /* with each modifier chain of `mods` */
  S_FIELD,
  S_KEYWORD,
  S_LIST,
  S_TITLE,
  S_DESCRIPTION,
  S_FIELDS,
  S_CORR_NAME,
  S_CORR_GROUP,
  S_CORR_ORDERED,  /* the rule's name in temporal_ordered's eventstats steps */
  S_CORR_VALUES,   /* value_count over two fields (json_array) and the correlation's fields (values) */
  S_CORR_TEMPORAL, /* the rule's name as the event_type its search tags (SPL2's union) */
  S_CORR_CHAIN,    /* an inner correlation's name, as SPL relabels its matches and selects them */
  S_COUNT
} Slot;

static bool is_corr(Slot s) { return s >= S_CORR_NAME && s <= S_CORR_CHAIN; }

static const char *const mods[] = {"",
                                   "|contains",
                                   "|startswith",
                                   "|endswith",
                                   "|contains|all",
                                   "|re",
                                   "|re|i|m|s",
                                   "|cased",
                                   "|windash",
                                   "|contains|cased",
                                   "|base64",
                                   "|base64offset|contains",
                                   "|utf16le|base64",
                                   "|fieldref",
                                   "|neq",
                                   "|exists",
                                   "|cidr"};

static void rule_yaml(SgBuf *b, Slot slot, const char *mod, const char *h) {
  sg_buf_cat(b, "title: ");
  if (slot == S_TITLE)
    marked(b, h);
  else
    sg_buf_cat(b, "t");
  if (is_corr(slot)) {
    sg_buf_cat(b, "\nname: ");
    if (slot == S_CORR_NAME || slot == S_CORR_ORDERED || slot == S_CORR_TEMPORAL)
      marked(b, h);
    else
      sg_buf_cat(b, "base");
  }
  sg_buf_cat(b, "\ndescription: ");
  if (slot == S_DESCRIPTION)
    marked(b, h);
  else
    sg_buf_cat(b, "d");
  sg_buf_cat(b, "\nlogsource: {product: windows}\ndetection:\n  sel:\n    ");
  switch (slot) {
  case S_VALUE:
    sg_buf_catf(b, "Image%s: ", mod);
    if (!strcmp(mod, "|exists"))
      sg_buf_cat(b, "true");
    else
      marked(b, h);
    break;
  case S_FIELD:
    marked(b, h);
    sg_buf_cat(b, ": x");
    break;
  case S_LIST:
    sg_buf_cat(b, "Image: [");
    marked(b, h);
    sg_buf_cat(b, ", other]");
    break;
  case S_KEYWORD:
    sg_buf_cat(b, "Image: x\n  keywords:\n    - ");
    marked(b, h);
    break;
  default: sg_buf_cat(b, "Image: x"); break;
  }
  sg_buf_cat(b, slot == S_KEYWORD ? "\n  condition: sel and keywords\n" : "\n  condition: sel\n");
  if (slot == S_FIELDS) {
    sg_buf_cat(b, "fields:\n  - ");
    marked(b, h);
    sg_buf_catc(b, '\n');
  }
  if (slot == S_CORR_CHAIN) { /* an inner correlation named h, over the rule */
    sg_buf_cat(b, "---\ntitle: i\nname: ");
    marked(b, h);
    sg_buf_cat(b, "\ncorrelation:\n  type: event_count\n  rules: [base]\n  group-by: [Host]\n  timespan: 5m\n"
                  "  condition: {gte: 3}\n");
  }
  if (is_corr(slot)) {
    sg_buf_catf(b, "---\ntitle: c\ncorrelation:\n  type: %s\n  rules:\n    - ",
                slot == S_CORR_ORDERED    ? "temporal_ordered"
                : slot == S_CORR_VALUES   ? "value_count"
                : slot == S_CORR_TEMPORAL ? "temporal"
                                          : "event_count");
    if (slot == S_CORR_NAME || slot == S_CORR_ORDERED || slot == S_CORR_TEMPORAL || slot == S_CORR_CHAIN)
      marked(b, h);
    else
      sg_buf_cat(b, "base");
    sg_buf_cat(b, "\n  group-by:\n    - ");
    if (slot == S_CORR_GROUP)
      marked(b, h);
    else
      sg_buf_cat(b, "Host");
    sg_buf_cat(b, "\n  timespan: 5m\n");
    if (slot == S_CORR_VALUES) {
      sg_buf_cat(b, "  condition:\n    gte: 3\n    field:\n      - ");
      marked(b, h);
      sg_buf_cat(b, "\n      - Host\nfields:\n  - ");
      marked(b, h);
      sg_buf_catc(b, '\n');
    } else if (slot != S_CORR_ORDERED && slot != S_CORR_TEMPORAL) {
      sg_buf_cat(b, "  condition: {gte: 3}\n");
    }
  }
}

/* ---- Conversion through the library, as the CLI does it -------------------------------- */

typedef struct Out {
  SgBuf text;
  size_t nqueries;
  bool converted; /* at least one query */
} Out;

static void convert(const char *yaml, const SgTarget *t, const char *format, Out *o) {
  size_t n = strlen(yaml);
  char *src = malloc(n + 1);
  assert_non_null(src);
  memcpy(src, yaml, n + 1);
  SgUnit u;
  SgDiags d = {0};
  sg_compile_source(&u, "h.yml", src, n, &d);
  SgPipelineSet set = {0};
  SgConvCtx ctx = {.format = format};
  SgQueries q = {0};
  for (size_t i = 0; i < u.nrules; i++) {
    const SgRule *r = u.rules[i];
    if (r->failed || r->kind == SG_DOC_FILTER || r->correlated) continue;
    sg_convert_rule(t, &ctx, &set, &u, r, &q, &d);
  }
  memset(o, 0, sizeof *o);
  t->finish(&ctx, &q, &o->text);
  sg_buf_cstr(&o->text);
  o->nqueries = q.n;
  o->converted = q.n > 0;
  /* every error is located */
  for (size_t i = 0; i < d.n; i++)
    if (d.items[i].sev == SG_SEV_ERROR && (!d.items[i].loc.path || !d.items[i].loc.line))
      fail_msg("unlocated error %s: %s\n%s", sg_diag_code_str(d.items[i].code), d.items[i].msg, yaml);
  sg_queries_free(&q);
  sg_unit_free(&u);
  sg_diags_free(&d);
}

/* ---- Lexers -------------------------------------------------------------------------------- */

typedef struct Lex {
  SgBuf outside;   /* the text outside literals (literals replaced by a space) */
  const char *why; /* the first problem, or NULL */
} Lex;

static size_t count(const char *s, size_t n, const char *needle) {
  size_t k = 0, l = strlen(needle);
  for (size_t i = 0; i + l <= n; i++)
    if (!memcmp(s + i, needle, l)) k++, i += l - 1;
  return k;
}

typedef enum Lang { L_SPL, L_AQL, L_SPL2, L_TEXT } Lang;

/* Literals: SPL "..." and '...' with backslash escapes (SPL2 also /regex/);
 * AQL '...' and "..." with the quote doubled; the text target's sentences
 * "..." with backslash escapes. Each literal must close and
 * hold an even number of markers (a value's two markers stay together). */
static void lex(const char *s, Lang lang, Lex *L) {
  memset(L, 0, sizeof *L);
  bool doubling = lang == L_AQL;
  for (size_t i = 0; s[i];) {
    char q = s[i];
    if (q != '"' && (q != '\'' || lang == L_TEXT) && !(lang == L_SPL2 && q == '/')) {
      sg_buf_catc(&L->outside, s[i++]);
      continue;
    }
    size_t start = ++i;
    for (;;) {
      if (!s[i]) {
        L->why = "a literal does not close";
        return;
      }
      if (!doubling && s[i] == '\\' && s[i + 1]) {
        i += 2;
        continue;
      }
      if (s[i] == q) {
        if (doubling && s[i + 1] == q) {
          i += 2;
          continue;
        }
        break;
      }
      i++;
    }
    if (count(s + start, i - start, MARK) % 2) L->why = "a value's markers are in different literals";
    i++;
    sg_buf_catc(&L->outside, ' ');
  }
  sg_buf_cstr(&L->outside);
}

static bool plain_name(const char *h) {
  for (const char *p = h; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '.' || *p == '-'))
      return false;
  return true;
}

/* Every `|` starts one of the commands the SPL (SPL2) backend writes; an SPL2 query is one
 * FROM ... WHERE, or a union of them, each in its brackets. */
static const char *spl_commands(const char *outside, bool spl2) {
  static const char *const spl[] = {"table ",      "bin ",         "stats ",      "where ",
                                    "rename ",     "search ",      "regex ",      "multisearch",
                                    "eval ",       "tstats ",      "convert ",    "`drop_dm_object_name(",
                                    "eventstats ", "sort 0 _time", "streamstats "},
                           *const spl2_cmds[] = {"table ",  "bin ",  "stats ", "where ",
                                                 "rename ", "eval ", "union ", "eventstats "};
  const char *const *cmds = spl2 ? spl2_cmds : spl;
  size_t ncmds = spl2 ? sizeof spl2_cmds / sizeof *spl2_cmds : sizeof spl / sizeof *spl;
  if (spl2) {
    if (strchr(outside, ';') || strchr(outside, '`')) return "a ';' or '`' in SPL2";
    if (!strncmp(outside, "| union [", 9)) {
      int depth = 0;
      for (const char *p = outside; *p; p++) {
        if (*p == '[' && (depth++ || strncmp(p + 1, "FROM ", 5))) return "a union part that is not one FROM";
        if (*p == ']' && --depth < 0) return "a ']' that closes nothing";
      }
      if (depth) return "a union part that does not close";
    } else if (strncmp(outside, "FROM ", 5) || strchr(outside, '[')) {
      return "an SPL2 query that is not one FROM ... WHERE";
    }
  }
  for (const char *p = strchr(outside, '|'); p; p = strchr(p + 1, '|')) {
    const char *c = p + 1;
    while (*c == ' ')
      c++;
    bool ok = false;
    for (size_t i = 0; i < ncmds; i++)
      ok = ok || !strncmp(c, cmds[i], strlen(cmds[i]));
    if (!ok) return "a '|' starts a command the backend does not write";
  }
  return NULL;
}

static const char *aql_clauses(const char *outside) {
  if (strstr(outside, "--") || strchr(outside, ';') || strstr(outside, "/*"))
    return "a comment or ';' in AQL";
  if (count(outside, strlen(outside), "SELECT ") > 1 || count(outside, strlen(outside), " FROM ") > 1)
    return "a second SELECT or FROM";
  const char *last = strstr(outside, "LAST ");
  if (strstr(outside, "GROUP BY") || (last && strcmp(last, "LAST 24 HOURS")))
    return "an aggregate clause in a detection query (only the detection format's window ends one)";
  return NULL;
}

/* One query's text in its language. */
static const char *check_query(const char *q, Lang lang, const char *h, bool correlation) {
  Lex L;
  bool aql = lang == L_AQL;
  lex(q, lang, &L);
  const char *why = L.why;
  if (!why && strstr(L.outside.data, MARK) && !plain_name(h)) why = "a value is outside every literal";
  if (!why && strstr(q, "\n\n")) why = "a blank line inside a query";
  if (!why && strchr(q, '\r')) why = "a CR inside a query";
  if (!why && lang == L_TEXT) /* one sentence, which a terminal shows as it is */
    why = strchr(q, '\n')                            ? "a line break inside a sentence"
          : oc_term_unsafe(q, strlen(q)) < strlen(q) ? "a character a terminal acts on"
                                                     : NULL;
  else if (!why)
    why = aql ? (correlation ? NULL : aql_clauses(L.outside.data))
              : spl_commands(L.outside.data, lang == L_SPL2);
  sg_buf_free(&L.outside);
  return why;
}

/* SPL2 module: `$name = QUERY;`, each name `$` + [a-z][a-z0-9_]* and unique;
 * the query is checked without its frame. */
static const char *module_statement(SgBuf *q, SgStrList *names) {
  const char *s = sg_buf_cstr(q), *eq = strstr(s, " = ");
  if (s[0] != '$' || !eq || !(s[1] >= 'a' && s[1] <= 'z') || q->len < 2 || s[q->len - 1] != ';')
    return "not a `$name = ...;` statement";
  for (const char *p = s + 1; p < eq; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return "a search name with another character";
  for (size_t i = 0; i < names->n; i++)
    if (strlen(names->v[i]) == (size_t)(eq - s) && !strncmp(names->v[i], s, (size_t)(eq - s)))
      return "a search name twice";
  names->v = realloc((void *)names->v, (names->n + 1) * sizeof *names->v);
  names->v[names->n++] = strndup(s, (size_t)(eq - s));
  size_t skip = (size_t)(eq - s) + 3;
  memmove(q->data, q->data + skip, q->len - skip - 1);
  q->len -= skip + 1;
  q->data[q->len] = '\0';
  return NULL;
}

/* The text formats: queries (module statements) separated by one blank line. */
static const char *check_blocks(const Out *o, Lang lang, bool module, const char *h, bool correlation) {
  SgStrList names = {0};
  size_t blocks = 0;
  const char *s = o->text.data;
  SgBuf q = {0};
  while (*s) {
    const char *end = strstr(s, "\n\n");
    size_t n = end ? (size_t)(end - s) + 1 : strlen(s);
    q.len = 0;
    sg_buf_catn(&q, s, n && s[n - 1] == '\n' ? n - 1 : n);
    const char *why = module ? module_statement(&q, &names) : NULL;
    if (!why) why = check_query(sg_buf_cstr(&q), lang, h, correlation);
    if (why) break;
    blocks++;
    s += n + (end ? 1 : 0);
  }
  sg_buf_free(&q);
  for (size_t i = 0; i < names.n; i++)
    free((char *)names.v[i]);
  free((void *)names.v);
  if (*s) return module ? "a module statement is not well formed, or a value broke out" : "a query broke out";
  return blocks == o->nqueries ? NULL : "a value added or removed a query";
}

/* savedsearches.conf read back as Splunk reads it: a line ending in a
 * backslash continues; `[name]` starts a stanza; `key = value`. */
static const char *check_conf(const Out *o, const char *h) {
  size_t stanzas = 0, searches = 0, descriptions = 0;
  SgBuf value = {0};
  const char *key = NULL;
  char keybuf[64];
  for (const char *line = o->text.data; *line;) {
    const char *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    bool cont = n && line[n - 1] == '\\';
    if (!key) {
      if (n && line[0] == '[') {
        if (line[n - 1] != ']') return sg_buf_free(&value), "a stanza header does not end in ']'";
        stanzas++;
      } else if (n) {
        const char *eq = memchr(line, '=', n);
        if (!eq || eq == line) return sg_buf_free(&value), "a line is neither a stanza nor a key";
        snprintf(keybuf, sizeof keybuf, "%.*s", (int)(eq - line - 1), line);
        key = keybuf;
        value.len = 0;
        sg_buf_catn(&value, eq + 2, (size_t)(line + n - eq - 2));
      }
    } else {
      sg_buf_catc(&value, '\n');
      sg_buf_catn(&value, line, n);
    }
    if (key && !cont) {
      sg_buf_cstr(&value);
      if (!strcmp(key, "search")) {
        searches++;
        /* the continuations are Splunk's line breaks inside the search */
        SgBuf s = {0};
        for (const char *p = value.data; *p; p++)
          if (!(p[0] == ' ' && p[1] == '\\' && p[2] == '\n'))
            sg_buf_catc(&s, *p);
          else
            p += 1;
        const char *why = check_query(sg_buf_cstr(&s), L_SPL, h, false);
        sg_buf_free(&s);
        if (why) return sg_buf_free(&value), why;
      } else if (!strcmp(key, "description")) {
        descriptions++;
      } else if (strncmp(key, "dispatch.", 9)) {
        return sg_buf_free(&value), "an unexpected key";
      }
      key = NULL;
    }
    line += n + (nl ? 1 : 0);
  }
  sg_buf_free(&value);
  if (stanzas != o->nqueries + 1 || searches != o->nqueries || descriptions != o->nqueries)
    return "the stanzas or keys do not match the queries";
  return NULL;
}

static const char *check_json(const Out *o) {
  size_t lines = 0;
  for (const char *line = o->text.data; *line;) {
    const char *nl = strchr(line, '\n');
    if (!nl) return "a JSON line does not end";
    for (const char *p = line; p < nl; p++)
      if ((unsigned char)*p >= 0x80) {
        size_t k = sg_utf8_len(p, (size_t)(nl - p));
        if (!k) return "invalid UTF-8 in JSON";
        p += k - 1;
      }
    if (*line != '{' || nl[-1] != '}') return "a line is not a JSON object";
    Lex L;
    lex(line, L_SPL, &L); /* JSON strings use backslash escapes like SPL's */
    const char *why = L.why;
    if (!why && strstr(L.outside.data, MARK)) why = "a value is outside the JSON strings";
    sg_buf_free(&L.outside);
    if (why) return why;
    lines++;
    line = nl + 1;
  }
  return lines == o->nqueries ? NULL : "a value added a JSON line";
}

/* ---- The property -------------------------------------------------------------------------- */

static const struct {
  const char *target, *format;
} outputs[] = {{"splunk", "default"},     {"splunk", "savedsearches"},
               {"splunk", "json"},        {"splunk_spl2", "default"},
               {"splunk_spl2", "module"}, {"splunk_spl2", "json"},
               {"aql", "default"},        {"aql", "where"},
               {"aql", "detection"},      {"aql", "json"},
               {"text", "default"}};

static size_t checked, converted;

static void check_rule(const char *yaml, const char *h, bool correlation) {
  for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++) {
    const SgTarget *t = sg_target_find(outputs[i].target);
    assert_non_null(t);
    Out o;
    convert(yaml, t, outputs[i].format, &o);
    const char *why = NULL;
    Lang lang = !strcmp(t->name, "aql")           ? L_AQL
                : !strcmp(t->name, "splunk_spl2") ? L_SPL2
                : !strcmp(t->name, "text")        ? L_TEXT
                                                  : L_SPL;
    if (!strcmp(outputs[i].format, "savedsearches"))
      why = check_conf(&o, h);
    else if (!strcmp(outputs[i].format, "json"))
      why = check_json(&o);
    else
      why = check_blocks(&o, lang, !strcmp(outputs[i].format, "module"), h, correlation);
    if (why)
      fail_msg("%s -f %s: %s\n--- rule:\n%s--- output:\n%s", outputs[i].target, outputs[i].format, why, yaml,
               o.text.data);
    checked++;
    converted += o.converted;
    sg_buf_free(&o.text);
  }
}

static void run_slots(const char *h) {
  for (int slot = 0; slot < S_COUNT; slot++) {
    size_t nm = slot == S_VALUE ? sizeof mods / sizeof *mods : 1;
    for (size_t m = 0; m < nm; m++) {
      SgBuf y = {0};
      rule_yaml(&y, (Slot)slot, mods[m], h);
      check_rule(sg_buf_cstr(&y), h, is_corr((Slot)slot));
      sg_buf_free(&y);
    }
  }
}

static void test_every_slot(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++)
    run_slots(hostile[i]);
  /* a long value of every hostile character */
  SgBuf big = {0};
  for (int k = 0; k < 200; k++)
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++)
      sg_buf_cat(&big, hostile[i]);
  run_slots(sg_buf_cstr(&big));
  sg_buf_free(&big);
  if (getenv("SIGMACC_HOSTILE_FULL")) /* every pair, in the value slot with every modifier */
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++)
      for (size_t j = 0; j < sizeof hostile / sizeof *hostile; j++) {
        SgBuf h = {0}, y = {0};
        sg_buf_catf(&h, "%s%s", hostile[i], hostile[j]);
        for (size_t m = 0; m < sizeof mods / sizeof *mods; m++) {
          y.len = 0;
          rule_yaml(&y, S_VALUE, mods[m], sg_buf_cstr(&h));
          check_rule(sg_buf_cstr(&y), h.data, false);
        }
        sg_buf_free(&h);
        sg_buf_free(&y);
      }
  printf("hostile: %zu conversions checked, %zu converted, 0 breakouts\n", checked, converted);
  /* most hostile rules convert: the test must not pass by refusing everything */
  assert_true(converted * 2 > checked);
}

/* The lexers catch what they are meant to catch (a test of the test). */
static void test_lexers_catch(void **state) {
  (void)state;
  Out o = {.nqueries = 1};
  sg_buf_cat(&o.text, "Image=\"" MARK "x" MARK "\" | delete\n");
  assert_non_null(check_blocks(&o, L_SPL, false, "x\" | delete \"", false));
  o.text.len = 0;
  sg_buf_cat(&o.text, "Image=\"" MARK "x\" OR \"" MARK "\"\n");
  assert_non_null(check_blocks(&o, L_SPL, false, "x\" OR \"", false));
  o.text.len = 0;
  sg_buf_cat(&o.text, "SELECT * FROM events WHERE \"a\" = 'x' OR " MARK "(qid) " MARK " ILIKE 'y'\n");
  assert_non_null(check_blocks(&o, L_AQL, false, "(qid) ", false));
  o.text.len = 0;
  sg_buf_cat(&o.text, "A=\"" MARK "a\n\nb" MARK "\"\n");
  assert_non_null(check_blocks(&o, L_SPL, false, "a\n\nb", false));
  o.text.len = 0;
  sg_buf_cat(&o.text, "FROM main WHERE match(a, /" MARK "x/) OR b=\"" MARK "\"\n");
  assert_non_null(check_blocks(&o, L_SPL2, false, "x/) OR b=\"", false));
  o.text.len = 0;
  sg_buf_cat(&o.text, "$a = FROM main WHERE a=1;\n\n$a = FROM main WHERE a=2;\n");
  o.nqueries = 2;
  assert_non_null(check_blocks(&o, L_SPL2, true, "", false)); /* a name twice */
  o.text.len = 0;
  sg_buf_cat(&o.text, "$a = FROM main WHERE a=1; | delete\n");
  o.nqueries = 1;
  assert_non_null(check_blocks(&o, L_SPL2, true, "", false));
  o.text.len = 0;
  sg_buf_cat(&o.text, "events where a is \"" MARK "x\" or b is \"" MARK "\"\n");
  assert_non_null(check_blocks(&o, L_TEXT, false, "x\" or b is \"", false));
  o.text.len = 0;
  sg_buf_cat(&o.text, "events where a is \"" MARK "\u202ex" MARK "\"\n"); /* a bidi control shown raw */
  assert_non_null(check_blocks(&o, L_TEXT, false, "\u202ex", false));
  o.text.len = 0;
  sg_buf_cat(&o.text, "[default]\n\n[t]\ndescription = " MARK "\\\nsearch = *\n");
  assert_non_null(check_conf(&o, "\\"));
  sg_buf_free(&o.text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lexers_catch),
      cmocka_unit_test(test_every_slot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
