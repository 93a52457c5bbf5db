/* test_yaml.c - the located YAML tree: scalar typing, locations, duplicate
 * keys, anchors, depth, multi-document files. */
#include "testutil.h"

#include "failalloc.h"

#include "front.h"

typedef struct Loaded {
  SgArena a;
  SgDiags d;
  SgYDoc *docs;
  size_t ndocs;
  SgStatus st;
} Loaded;

static void load(Loaded *l, const char *src) {
  memset(l, 0, sizeof *l);
  sg_arena_init(&l->a);
  l->st = sg_yaml_load(&l->a, "y.yml", src, strlen(src), &l->docs, &l->ndocs, &l->d);
}

static void unload(Loaded *l) {
  sg_arena_free(&l->a);
  sg_diags_free(&l->d);
}

static void test_scalar_types(void **state) {
  (void)state;
  Loaded l;
  load(&l,
       "a: 12\nb: '12'\nc: 1.5\nd: true\ne: null\nf: ~\ng:\nh: hello\ni: -3\nj: 0x1F\nk: 1e3\nl: \"true\"\n"
       "m: False\nn: 1.2.3\no: .inf\n");
  assert_int_equal(l.st, SG_OK);
  const SgYNode *m = l.docs[0].root;
  struct {
    const char *k;
    SgYType t;
  } want[] = {{"a", SG_YT_INT},  {"b", SG_YT_STR},  {"c", SG_YT_FLOAT}, {"d", SG_YT_BOOL},
              {"e", SG_YT_NULL}, {"f", SG_YT_NULL}, {"g", SG_YT_NULL},  {"h", SG_YT_STR},
              {"i", SG_YT_INT},  {"j", SG_YT_INT},  {"k", SG_YT_FLOAT}, {"l", SG_YT_STR},
              {"m", SG_YT_BOOL}, {"n", SG_YT_STR},  {"o", SG_YT_FLOAT}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    const SgYNode *v = sg_ymap_get(m, want[i].k);
    assert_non_null(v);
    if (v->type != want[i].t) fail_msg("key %s: type %d, want %d", want[i].k, v->type, want[i].t);
  }
  assert_string_equal(sg_ymap_get(m, "b")->text, "12");
  assert_true(sg_ymap_get(m, "b")->quoted);
  assert_true(sg_ymap_get(m, "d")->bval);
  assert_false(sg_ymap_get(m, "m")->bval);
  unload(&l);
}

static void test_locations(void **state) {
  (void)state;
  Loaded l;
  load(&l, "title: x\ndetection:\n    sel:\n        Image: 'a'\n");
  assert_int_equal(l.st, SG_OK);
  const SgYNode *img = sg_ymap_get(sg_ymap_get(sg_ymap_get(l.docs[0].root, "detection"), "sel"), "Image");
  assert_int_equal(img->loc.line, 4);
  assert_int_equal(img->loc.col, 16);
  const SgYNode *det = sg_ymap_get(l.docs[0].root, "detection");
  assert_int_equal(det->keys[0]->loc.line, 3);
  assert_int_equal(det->keys[0]->loc.col, 5);
  unload(&l);
}

static void test_duplicate_keys(void **state) {
  (void)state;
  Loaded l;
  load(&l, "a: 1\nb: 2\na: 3\n");
  assert_int_equal(l.st, SG_ERR_PARSE);
  assert_int_equal(l.d.n, 1);
  assert_int_equal(l.d.items[0].code, SG_D_YAML_DUPKEY);
  assert_int_equal(l.d.items[0].loc.line, 3);
  assert_int_equal(l.d.items[0].loc.col, 1);
  unload(&l);
}

static void test_anchor_alias_rejected(void **state) {
  (void)state;
  Loaded l;
  load(&l, "a: &x 1\nb: *x\n");
  assert_int_equal(l.st, SG_ERR_PARSE);
  assert_int_equal(l.d.items[0].code, SG_D_YAML_ALIAS);
  assert_int_equal(l.d.items[0].loc.line, 1);
  unload(&l);
}

static void test_depth_limit(void **state) {
  (void)state;
  SgBuf b = {0};
  for (int i = 0; i < 100; i++)
    sg_buf_cat(&b, "[");
  for (int i = 0; i < 100; i++)
    sg_buf_cat(&b, "]");
  Loaded l;
  load(&l, sg_buf_cstr(&b));
  assert_int_equal(l.st, SG_ERR_PARSE);
  assert_int_equal(l.d.items[0].code, SG_D_YAML_DEPTH);
  assert_int_equal(l.d.items[0].loc.col, SG_MAX_YAML_DEPTH + 1);
  unload(&l);
  sg_buf_free(&b);
}

static void test_multi_document(void **state) {
  (void)state;
  Loaded l;
  load(&l, "a: 1\n---\nb: 2\n---\n");
  assert_int_equal(l.st, SG_OK);
  assert_int_equal(l.ndocs, 3);
  assert_non_null(sg_ymap_get(l.docs[1].root, "b"));
  /* a trailing "---" opens an empty document */
  assert_true(!l.docs[2].root || l.docs[2].root->type == SG_YT_NULL);
  unload(&l);
}

static void test_tab_indentation(void **state) {
  (void)state;
  Loaded l;
  load(&l, "a:\n\tb: 1\n");
  assert_int_equal(l.st, SG_ERR_PARSE);
  assert_int_equal(l.d.items[0].code, SG_D_YAML_SYNTAX);
  assert_int_equal(l.d.items[0].loc.line, 2);
  assert_int_equal(l.d.items[0].loc.col, 1);
  unload(&l);
}

static void test_invalid_utf8(void **state) {
  (void)state;
  Loaded l;
  load(&l, "a: 1\nb: \xC3\x28\n");
  assert_int_equal(l.st, SG_ERR_PARSE);
  assert_int_equal(l.d.items[0].code, SG_D_YAML_SYNTAX);
  assert_int_equal(l.d.items[0].loc.line, 2);
  assert_int_equal(l.d.items[0].loc.col, 5); /* the invalid trailing octet */
  assert_non_null(strstr(l.d.items[0].msg, "UTF-8"));
  unload(&l);
}

static void test_arena_failure_is_reported(void **state) {
  (void)state;
  /* every allocation failure point must end in SG_ERR_NOMEM, never a crash */
  const char *src =
      "title: t\nlogsource: {product: windows}\ndetection:\n  sel: {A|contains: x}\n  condition: sel\n";
  for (size_t fail = 1; fail < 400; fail++) {
    SgArena a;
    sg_arena_init(&a);
    SgDiags d = {0};
    SgYDoc *docs;
    size_t n;
    fa_start(fail);
    SgStatus st = sg_yaml_load(&a, "f.yml", src, strlen(src), &docs, &n, &d);
    if (st == SG_OK && n == 1) {
      SgRule *r;
      st = sg_rule_from_yaml(&a, docs[0].root, docs[0].loc, &r, &d);
    }
    bool failed = fa_failed();
    fa_stop();
    if (a.failed || (failed && !d.oom && !d.nerrors)) assert_int_not_equal(st, SG_OK);
    sg_arena_free(&a);
    sg_diags_free(&d);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalar_types),
      cmocka_unit_test(test_locations),
      cmocka_unit_test(test_duplicate_keys),
      cmocka_unit_test(test_anchor_alias_rejected),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_multi_document),
      cmocka_unit_test(test_tab_indentation),
      cmocka_unit_test(test_invalid_utf8),
      cmocka_unit_test(test_arena_failure_is_reported),
  };
  return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
