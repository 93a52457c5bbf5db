/* test_value.c - Sigma string escaping, encodings, numbers and CIDR. */
#include "front.h"
#include "testutil.h"

#include "failalloc.h"

/* Render parts compactly: literal text, W = `*`, Q = `?`, {name} = placeholder. */
static const char *show(SgArena *a, const SgStr *s) {
  SgBuf b = {0};
  for (uint32_t i = 0; i < s->nparts; i++) {
    const SgPart *p = &s->parts[i];
    switch (p->kind) {
    case SG_PART_LIT:
      sg_buf_catc(&b, '[');
      sg_buf_catn(&b, p->s, p->n);
      sg_buf_catc(&b, ']');
      break;
    case SG_PART_STAR: sg_buf_cat(&b, "W"); break;
    case SG_PART_QMARK: sg_buf_cat(&b, "Q"); break;
    case SG_PART_PLACEHOLDER: sg_buf_catf(&b, "{%.*s}", (int)p->n, p->s); break;
    }
  }
  char *r = sg_arena_strdup(a, sg_buf_cstr(&b));
  sg_buf_free(&b);
  return r;
}

static void test_escaping(void **state) {
  (void)state;
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"C:\\Windows\\x.exe", "[C:\\Windows\\x.exe]"},
      {"a\\\\b", "[a\\b]"},
      {"a\\*b", "[a*b]"},
      {"a\\?", "[a?]"},
      {"a\\\\*b", "[a\\]W[b]"},
      {"a\\\\\\*b", "[a\\*b]"},
      {"a\\\\\\b", "[a\\\\b]"},
      {"a\\\\\\\\b", "[a\\\\b]"},
      {"abc\\", "[abc\\]"},
      {"*foo?bar*", "W[foo]Q[bar]W"},
      {"%name%", "[%name%]"},
      {"", ""},
      {"\\", "[\\]"},
      {"**", "W"}, /* a run of `*` is one wildcard */
      {"a**?**b", "[a]WQW[b]"},
      {"*\\**", "W[*]W"},
  };
  SgArena a;
  sg_arena_init(&a);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    SgStr s;
    assert_int_equal(sg_str_parse(&a, cases[i].in, strlen(cases[i].in), &s), SG_OK);
    const char *got = show(&a, &s);
    if (strcmp(got, cases[i].want)) fail_msg("'%s': got %s, want %s", cases[i].in, got, cases[i].want);
  }
  sg_arena_free(&a);
}

static void test_wrap_trailing_backslash(void **state) {
  (void)state;
  SgArena a;
  sg_arena_init(&a);
  SgStr s;
  sg_str_parse(&a, "\\Desktop\\", 9, &s);
  sg_str_wrap(&a, &s, true, true, &s);
  assert_string_equal(show(&a, &s), "W[\\Desktop\\]W");
  sg_str_parse(&a, "*x*", 3, &s); /* already wrapped: nothing added */
  sg_str_wrap(&a, &s, true, true, &s);
  assert_string_equal(show(&a, &s), "W[x]W");
  sg_arena_free(&a);
}

static void test_utf16(void **state) {
  (void)state;
  SgArena a;
  sg_arena_init(&a);
  SgStr s, o;
  sg_str_parse(&a, "cmd", 3, &s);
  sg_str_utf16(&a, &s, SG_UTF16LE, &o);
  assert_int_equal(o.nparts, 1);
  assert_int_equal(o.parts[0].n, 6);
  assert_memory_equal(o.parts[0].s, "c\0m\0d\0", 6);
  sg_str_utf16(&a, &s, SG_UTF16BOM, &o);
  assert_memory_equal(o.parts[0].s,
                      "\xFF\xFE"
                      "c\0m\0d\0",
                      8);
  sg_str_base64(&a, &o, &o);
  assert_string_equal(show(&a, &o), "[//5jAG0AZAA=]");
  /* non-ASCII and a surrogate pair: real UTF-16 */
  sg_str_parse(&a, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9, &s);
  sg_str_utf16(&a, &s, SG_UTF16LE, &o);
  assert_int_equal(o.parts[0].n, 8);
  assert_memory_equal(o.parts[0].s, "\xE9\x00\xAC\x20\x3D\xD8\x00\xDE", 8);
  sg_str_utf16(&a, &s, SG_UTF16BE, &o);
  assert_memory_equal(o.parts[0].s, "\x00\xE9\x20\xAC\xD8\x3D\xDE\x00", 8);
  sg_arena_free(&a);
}

static void test_base64offset(void **state) {
  (void)state;
  static const struct {
    const char *in, *w0, *w1, *w2;
  } cases[] = {
      {"powershell", "cG93ZXJzaGVsb", "Bvd2Vyc2hlbG", "wb3dlcnNoZWxs"},
      {"ab", "YW", "Fi", "hY"},
      {"abc", "YWJj", "FiY", "hYm"},
  };
  SgArena a;
  sg_arena_init(&a);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    SgStr s, o[3];
    sg_str_parse(&a, cases[i].in, strlen(cases[i].in), &s);
    assert_int_equal(sg_str_base64offset(&a, &s, o), SG_OK);
    assert_string_equal(sg_str_flat(&a, &o[0], NULL), cases[i].w0);
    assert_string_equal(sg_str_flat(&a, &o[1], NULL), cases[i].w1);
    assert_string_equal(sg_str_flat(&a, &o[2], NULL), cases[i].w2);
  }
  sg_arena_free(&a);
}

static void test_windash(void **state) {
  (void)state;
  SgArena a;
  sg_arena_init(&a);
  SgStr s, out[32];
  size_t n;
  sg_str_parse(&a, " -enc /c a-b", 12, &s);
  assert_int_equal(sg_str_windash(&a, &s, out, 32, &n), SG_OK);
  assert_int_equal(n, 25); /* two option sites, 5 spellings each; "a-b" is not an option */
  assert_string_equal(show(&a, &out[0]), "[ -enc -c a-b]");
  assert_string_equal(show(&a, &out[1]), "[ -enc /c a-b]");
  assert_string_equal(show(&a, &out[5]), "[ /enc -c a-b]");
  assert_string_equal(show(&a, &out[24]), "[ \xE2\x80\x95"
                                          "enc \xE2\x80\x95"
                                          "c a-b]");
  assert_int_equal(sg_str_windash(&a, &s, out, 24, &n), SG_ERR_UNSUPPORTED);
  sg_arena_free(&a);
}

static void test_expand(void **state) {
  (void)state;
  SgArena a;
  sg_arena_init(&a);
  SgStr s;
  sg_str_parse_ex(&a, "%Admins%\\%x*", 12, true, &s);
  assert_string_equal(show(&a, &s), "{Admins}[%x]W");
  assert_int_equal(strlen("C:\\\\%temp%"), 10);
  sg_str_parse_ex(&a, "C:\\\\%temp%", 10, true, &s); /* escaped backslash, then a placeholder */
  assert_string_equal(show(&a, &s), "[C:\\]{temp}");
  sg_str_parse_ex(&a, "100%", 4, true, &s); /* unclosed: literal */
  assert_string_equal(show(&a, &s), "[100%]");
  sg_str_parse(&a, "%Admins%", 8, &s); /* without expand: literal */
  assert_string_equal(show(&a, &s), "[%Admins%]");
  sg_arena_free(&a);
}

static void test_numbers(void **state) {
  (void)state;
  SgArena a;
  sg_arena_init(&a);
  SgNum n;
  assert_true(sg_num_parse("4688", 4, &n));
  assert_true(n.is_int);
  assert_int_equal(n.i, 4688);
  assert_true(sg_num_parse("1.0", 3, &n));
  assert_string_equal(sg_num_text(&a, &n), "1");
  assert_true(sg_num_parse("1.50", 4, &n));
  assert_false(n.is_int);
  assert_string_equal(sg_num_text(&a, &n), "1.5");
  assert_true(sg_num_parse("-3", 2, &n));
  assert_int_equal(n.i, -3);
  assert_true(sg_num_parse("0x1F", 4, &n));
  assert_int_equal(n.i, 31);
  assert_false(sg_num_parse("abc", 3, &n));
  sg_arena_free(&a);
}

static void test_cidr(void **state) {
  (void)state;
  SgCidr c;
  assert_true(sg_cidr_parse("10.0.0.0/8", &c));
  assert_int_equal(c.family, 4);
  assert_int_equal(c.prefix, 8);
  assert_true(sg_cidr_parse("10.1.2.3/8", &c)); /* host bits are cleared */
  assert_int_equal(c.addr[1], 0);
  assert_true(sg_cidr_parse("2001:db8::/32", &c));
  assert_int_equal(c.family, 6);
  assert_int_equal(c.prefix, 32);
  assert_true(sg_cidr_parse("fe80::1", &c));
  assert_int_equal(c.prefix, 128);
  assert_false(sg_cidr_parse("10.0.0.0/33", &c));
  assert_false(sg_cidr_parse("300.0.0.0/8", &c));
  assert_false(sg_cidr_parse("10.0.0/8", &c));
  assert_false(sg_cidr_parse("::1/129", &c));
  assert_false(sg_cidr_parse("10.0.0.0/", &c));
  assert_false(sg_cidr_parse("10.0.0.0/8x", &c));
}

/* SG_PUSH on a failed allocation leaves the array and its count as they
 * were, and the arena says it failed; the next push may succeed. */
static void test_push_failure(void **state) {
  (void)state;
  SgArena a;
  sg_arena_init(&a);
  int *v = NULL;
  size_t n = 0, cap = 0;
  fa_start(1); /* the first push's grow needs the arena's first chunk: it fails */
  assert_null(SG_PUSH(&a, v, n, cap));
  fa_stop();
  assert_null(v);
  assert_int_equal(n, 0);
  assert_int_equal(cap, 0);
  assert_true(a.failed);
  for (int i = 0; i < 5; i++)
    *SG_PUSH(&a, v, n, cap) = i;
  assert_int_equal(n, 5);
  assert_int_equal(v[4], 4);
  sg_arena_free(&a);
}

/* A condition chain of any length costs linear memory (it was quadratic:
 * each `or` copied the operands before it). */
static void test_long_condition(void **state) {
  (void)state;
  size_t bytes[2];
  for (int k = 0; k < 2; k++) {
    size_t terms = k ? 40000 : 20000;
    SgBuf y = {0};
    sg_buf_cat(&y, "title: t\nlogsource: {product: x}\ndetection:\n  sel: {A: x}\n  condition: sel");
    for (size_t i = 1; i < terms; i++)
      sg_buf_cat(&y, i % 2 ? " or sel" : " and not sel");
    sg_buf_catc(&y, '\n');
    TUnit t;
    tu_compile(&t, y.data, y.len);
    assert_int_equal(t.d.nerrors, 0);
    assert_non_null(t.u.rules[0]->conds[0].root);
    bytes[k] = t.u.arena.bytes;
    tu_free(&t);
    sg_buf_free(&y);
  }
  /* twice the terms, about twice the memory (quadratic growth would be 4x) */
  if (bytes[1] > 3 * bytes[0] || bytes[1] > (64u << 20))
    fail_msg("20,000 terms: %zu bytes; 40,000 terms: %zu bytes", bytes[0], bytes[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escaping),     cmocka_unit_test(test_wrap_trailing_backslash),
      cmocka_unit_test(test_utf16),        cmocka_unit_test(test_base64offset),
      cmocka_unit_test(test_windash),      cmocka_unit_test(test_expand),
      cmocka_unit_test(test_numbers),      cmocka_unit_test(test_cidr),
      cmocka_unit_test(test_push_failure), cmocka_unit_test(test_long_condition),
  };
  return cmocka_run_group_tests_name("value", tests, NULL, NULL);
}
