/* test_evtx.c - Windows event logs read with libevtx: record XML to
 * evtx_dump's JSON (crafted records), and with the shared reference data
 * (skipped without it): every EVTX-ATTACK-SAMPLES record equal to its JSON
 * line, damaged files reported, the regression .evtx files firing their
 * rules, and the corpus giving the same matches for both forms.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "eval/evaluator.h"

#include "testrun.h"

#define SHARED SIGMACC_SOURCE_DIR "/../shared"

static bool have_shared(void) {
  struct stat st;
  return stat(SHARED "/reference/evtx-attack-samples", &st) == 0;
}

static void convert(const char *xml, const char *want) {
  char *copy = strdup(xml);
  SgBuf out = {0};
  void *dom = NULL;
  const char *why = NULL;
  bool ok = sg_evtx_xml_to_json(copy, &out, &dom, &why);
  if (!want) {
    assert_false(ok);
    assert_non_null(why);
  } else {
    if (!ok) fail_msg("%s: %s", xml, why);
    assert_string_equal(sg_buf_cstr(&out), want);
  }
  sg_buf_free(&out);
  sg_evtx_dom_free(dom);
  free(copy);
}

/* The evtx_dump shape: attributes, numbers in System, EventData by name,
 * unnamed Data as a list, xmlns dropped below the root, entities, line
 * breaks and control characters as evtx_dump writes them. */
static void test_xml_to_json(void **state) {
  (void)state;
  convert(
      "<Event xmlns=\"ns\"><System><Provider Name=\"P\"/><EventID Qualifiers=\"16384\">3001</EventID>"
      "<Version>2</Version><Level>4</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x80</Keywords>"
      "<TimeCreated SystemTime=\"2019-04-27T15:57:25.868863200Z\"/><EventRecordID>6575</EventRecordID>"
      "<Correlation/><Channel>Security</Channel><Computer>PC</Computer></System>"
      "<EventData Name=\"TEMPLATE\"><Data Name=\"A\">a &amp; &lt;b&gt; &quot;c&quot; &#65;&#x42;</Data>"
      "<Data Name=\"Empty\"></Data><Data Name=\"Self\"/><Binary>00FF</Binary></EventData></Event>",
      "{\"Event\":{\"#attributes\":{\"xmlns\":\"ns\"},\"System\":{\"Provider\":{\"#attributes\":{\"Name\":"
      "\"P\"}},\"EventID\":{\"#attributes\":{\"Qualifiers\":\"16384\"},\"#text\":3001},\"Version\":2,"
      "\"Level\":4,\"Task\":0,\"Opcode\":0,\"Keywords\":\"0x80\",\"TimeCreated\":{\"#attributes\":{"
      "\"SystemTime\":\"2019-04-27T15:57:25.868863200Z\"}},\"EventRecordID\":6575,\"Correlation\":null,"
      "\"Channel\":\"Security\",\"Computer\":\"PC\"},\"EventData\":{\"A\":\"a & <b> \\\"c\\\" AB\","
      "\"Empty\":null,\"Self\":null,\"Binary\":\"00FF\"}}}");
  /* unnamed Data; a number-looking EventData value stays a string */
  convert(
      "<Event><System><EventID>1</EventID></System><EventData><Data>sa</Data><Data> why</Data>"
      "<Data/></EventData></Event>",
      "{\"Event\":{\"System\":{\"EventID\":1},\"EventData\":{\"Data\":{\"#text\":[\"sa\",\" why\",null]}}}}");
  /* an unnamed Data with another attribute is unnamed (found by fuzz_evtx) */
  convert("<Event><EventData><Data Foo=\"1\">x</Data></EventData></Event>",
          "{\"Event\":{\"EventData\":{\"Data\":{\"#text\":\"x\"}}}}");
  convert("<Event><EventData><Data>only</Data><Data Name=\"N\">7</Data></EventData></Event>",
          "{\"Event\":{\"EventData\":{\"N\":\"7\",\"Data\":{\"#text\":\"only\"}}}}");
  /* UserData: namespaces dropped, repeated elements an array, nested text */
  convert("<Event xmlns=\"e\"><UserData><EventXML xmlns:a=\"x\" xmlns=\"y\" Id=\"3\"><L>RDP</L><P>1</P>"
          "<P>2</P></EventXML></UserData></Event>",
          "{\"Event\":{\"#attributes\":{\"xmlns\":\"e\"},\"UserData\":{\"EventXML\":{\"#attributes\":{\"Id\":"
          "\"3\"},\"L\":\"RDP\",\"P\":[\"1\",\"2\"]}}}}");
  /* CRLF and a lone CR are LF; control characters are \xNN; a character
   * reference to CR stays CR; EventID that is not a number stays text */
  convert("<Event><System><EventID>12a</EventID></System><EventData><Data Name=\"L\">a\r\nb\rc&#13;\x02-"
          "</Data></EventData></Event>",
          "{\"Event\":{\"System\":{\"EventID\":\"12a\"},\"EventData\":{\"L\":\"a\\nb\\nc\\r\\\\x02-\"}}}");
  /* what libevtx never writes is an error, not a guess */
  convert("<Event><System></Event>", NULL);
  convert("<Event><A>&bogus;</A></Event>", NULL);
  convert("<Event><A x=1/></Event>", NULL);
  convert("<Event/><Event/>", NULL);
  convert("", NULL);
  char deep[2000] = "";
  for (int i = 0; i < 100; i++)
    strcat(deep, "<a>");
  convert(deep, NULL);
}

/* Lines of every event of the files under dir, as the reader gives them. */
static char **read_dir(const char *dir, size_t *n, size_t *nfiles) {
  SgPaths files = {0};
  SgDiags d = {0};
  assert_true(sg_expand_dir_files(dir, &files, &d));
  *nfiles = 0;
  char **v = NULL;
  size_t cap = 0;
  *n = 0;
  for (size_t i = 0; i < files.n; i++) {
    size_t plen = strlen(files.v[i]);
    if (plen < 5 || strcmp(files.v[i] + plen - 5, ".evtx")) continue; /* its README and LICENSE */
    ++*nfiles;
    FILE *f = fopen(files.v[i], "rb");
    assert_non_null(f);
    SgEventIn in;
    sg_events_init(&in, f);
    const char *text, *msg;
    size_t len, line;
    SgEvNext k;
    while ((k = sg_events_next(&in, &text, &len, &line, &msg)) != SG_EV_END) {
      if (k != SG_EV_EVENT) fail_msg("%s: record %zu: %s", files.v[i], line, msg);
      if (*n == cap) v = realloc(v, (cap = cap ? cap * 2 : 1024) * sizeof *v);
      v[(*n)++] = strndup(text, len);
    }
    assert_true(in.rd.evtx);
    assert_false(in.corrupted);
    sg_events_free(&in);
    fclose(f);
  }
  sg_paths_free(&files);
  sg_diags_free(&d);
  return v;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every record of the 277 files equals the evtx_dump JSON line of the same
 * record, byte for byte (so field for field, with the same types). */
static void test_reference_events(void **state) {
  (void)state;
  if (!have_shared()) skip();
  size_t n, nfiles;
  char **ours = read_dir(SHARED "/reference/evtx-attack-samples", &n, &nfiles);
  FILE *f = fopen(SHARED "/reference/events/evtx-attack-samples.jsonl", "rb");
  assert_non_null(f);
  char **ref = NULL;
  size_t nref = 0, cap = 0, lcap = 0;
  char *line = NULL;
  ssize_t got;
  while ((got = getline(&line, &lcap, f)) > 0) {
    while (got && (line[got - 1] == '\n' || line[got - 1] == '\r'))
      line[--got] = '\0';
    if (nref == cap) ref = realloc(ref, (cap = cap ? cap * 2 : 1024) * sizeof *ref);
    ref[nref++] = strdup(line);
  }
  free(line);
  fclose(f);
  printf("evtx: %zu files, %zu records; %zu reference lines\n", nfiles, n, nref);
  assert_int_equal(nfiles, 277);
  assert_int_equal(n, 8255);
  assert_int_equal(nref, n);
  qsort(ours, n, sizeof *ours, cmp_str);
  qsort(ref, nref, sizeof *ref, cmp_str);
  size_t differ = 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(ours[i], ref[i]) && differ++ < 3) printf("ours: %.300s\nref:  %.300s\n", ours[i], ref[i]);
  assert_int_equal(differ, 0);
  for (size_t i = 0; i < n; i++) {
    free(ours[i]);
    free(ref[i]);
  }
  free(ours);
  free(ref);
}

/* A truncated file: the records before the damage, then a located error and
 * exit 3; a damaged record: reported by number and skipped, the rest read. */
static void test_damaged_files(void **state) {
  (void)state;
  if (!have_shared()) skip();
  char cmd[4096];
  const char *src = SHARED "/reference/evtx-attack-samples/Command and Control/bits_openvpn.evtx";
  snprintf(cmd, sizeof cmd,
           "cd /tmp && d=$(mktemp -d) && cd $d && head -c 600000 '%s' > cut.evtx && cp '%s' bad.evtx && "
           "chmod u+w bad.evtx && printf '\\377\\377\\377\\377\\377\\377\\377\\377"
           "\\377\\377\\377\\377\\377\\377\\377\\377' | "
           "dd of=bad.evtx bs=1 seek=70232 conv=notrunc 2>/dev/null && "
           "printf 'title: t\\nlogsource: {product: windows}\\ndetection:\\n  s: {EventID: 3}\\n  "
           "condition: s\\n' > r.yml && "
           "'%s' eval -r r.yml --stats cut.evtx > out 2> err; echo \"rc=$?\"; cat err; "
           "'%s' eval -r r.yml --stats bad.evtx > out 2> err; echo \"rc=$?\"; cat err; cd /tmp && rm -rf $d",
           src, src, SIGMACC_BIN, SIGMACC_BIN);
  int rc;
  char *out = run(cmd, &rc);
  const char *want[] = {
      "rc=3\n",      "cut.evtx: error: the EVTX file is corrupt or truncated; 859 records were read",
      "events 859,", "bad.evtx: record 99: error: corrupt record: ",
      "; skipped",   "events 1439,",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (!strstr(out, want[i])) fail_msg("want \"%s\" in:\n%s", want[i], out);
  free(out);
}

/* Every regression .evtx fires the rule its info.yml names, read as EVTX. */
static void test_regression_evtx(void **state) {
  (void)state;
  if (!have_shared()) skip();
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && fail=0; n=0; "
           "'%s' eval -s -r sigmahq/rules -r sigmahq/rules-emerging-threats -r sigmahq/rules-threat-hunting "
           "-r sigmahq/rules-compliance -r sigmahq/rules-placeholder --fields EventID reference/regression "
           "> /tmp/sigmacc-regx-$$.out 2>/tmp/sigmacc-regx-$$.err; "
           "for info in $(find reference/regression -name info.yml | sort); do n=$((n+1)); "
           "id=$(sed -n 's/^ *- id: //p' $info | head -1); "
           "grep -q \"\\\"id\\\":\\\"$id\\\".*\\\\.evtx\\\"\" /tmp/sigmacc-regx-$$.out || "
           "{ echo MISSING $id; fail=$((fail+1)); }; done; "
           "echo \"events $n missing $fail evtx $(ls -R reference/regression | grep -c '\\.evtx$')\"; "
           "rm -f /tmp/sigmacc-regx-$$.*",
           SHARED, SIGMACC_BIN);
  int rc;
  char *out = run(cmd, &rc);
  unsigned n = 0, missing = 1, evtx = 0;
  const char *line = strstr(out, "events ");
  if (!line || sscanf(line, "events %u missing %u evtx %u", &n, &missing, &evtx) != 3) fail_msg("%s", out);
  printf("regression: %u rule folders, %u .evtx files, %u rules not fired from EVTX\n", n, evtx, missing);
  if (missing || n < 90 || evtx < n) fail_msg("%s", out);
  free(out);
}

/* All corpus rules give the same matches for the EVTX files as for their
 * JSON lines (rule, computer, channel, record), the same output with 1 and 3
 * threads, and no rule whose log source
 * is not Windows fires on them (every rule file not saying product: windows:
 * other products, and categories such as database with no product). */
static void test_same_matches(void **state) {
  (void)state;
  if (!have_shared()) skip();
  char cmd[8192];
  snprintf(
      cmd, sizeof cmd,
      "cd '%s' && t=$(mktemp -d) && R='-r sigmahq/rules -r sigmahq/rules-emerging-threats "
      "-r sigmahq/rules-threat-hunting -r sigmahq/rules-placeholder' && "
      "keys() { sed 's/\\(\"id\":\"[^\"]*\"\\).*\"fields\":/\\1 /' | sort; } && "
      "'%s' eval -s $R --fields Computer,Channel,EventRecordID reference/evtx-attack-samples "
      "2>/dev/null | keys > $t/evtx; "
      "'%s' eval -s $R --fields Computer,Channel,EventRecordID reference/events/evtx-attack-samples.jsonl "
      "2>/dev/null | keys > $t/json; "
      "echo \"matches $(wc -l < $t/evtx) $(wc -l < $t/json) differ $(diff $t/evtx $t/json | grep -c "
      "'^[<>]')\"; "
      "for j in 1 3; do for in in reference/evtx-attack-samples reference/events/evtx-attack-samples.jsonl; "
      "do "
      "'%s' eval -s -j $j $R $in > $t/j$j-$(basename $in) 2>/dev/null; done; done; "
      "echo \"jobs $(cat $t/j1-* | wc -l) $(cat $t/j1-* | md5sum | cut -c1-32) $(cat $t/j3-* | md5sum | cut "
      "-c1-32)\"; "
      "grep -rL --include='*.yml' 'product: windows' sigmahq/rules* | sort | sed 's/^/-r /' > $t/other; "
      "echo \"other $(wc -l < $t/other) rules fire $('%s' eval -s $(cat $t/other) "
      "reference/evtx-attack-samples 2>/dev/null | wc -l) $('%s' eval -s $(cat $t/other) "
      "reference/events/evtx-attack-samples.jsonl 2>/dev/null | wc -l)\"; "
      "rm -rf $t",
      SHARED, SIGMACC_BIN, SIGMACC_BIN, SIGMACC_BIN, SIGMACC_BIN, SIGMACC_BIN);
  int rc;
  char *out = run(cmd, &rc);
  unsigned ne = 0, nj = 0, differ = 1, other = 0, fe = 1, fj = 1, lines = 0;
  char sum1[40] = "", sum3[40] = "-";
  const char *m = strstr(out, "matches "), *o = strstr(out, "other "), *jb = strstr(out, "jobs ");
  if (!jb || sscanf(jb, "jobs %u %39s %39s", &lines, sum1, sum3) != 3) fail_msg("%s", out);
  printf("-j 1 and -j 3: %u match lines, %s\n", lines, strcmp(sum1, sum3) ? "different" : "identical");
  assert_true(lines > 2000);
  assert_string_equal(sum1, sum3);
  if (!m || !o || sscanf(m, "matches %u %u differ %u", &ne, &nj, &differ) != 3 ||
      sscanf(o, "other %u rules fire %u %u", &other, &fe, &fj) != 3)
    fail_msg("%s", out);
  printf("corpus on EVTX-ATTACK-SAMPLES: %u matches from EVTX, %u from JSON lines, %u differ; "
         "%u rule files without product: windows fire %u (EVTX) and %u (JSON) times\n",
         ne, nj, differ, other, fe, fj);
  assert_true(ne > 1000);
  assert_int_equal(ne, nj);
  assert_int_equal(differ, 0);
  assert_true(other > 500);
  assert_int_equal(fe, 0);
  assert_int_equal(fj, 0);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_xml_to_json),   cmocka_unit_test(test_reference_events),
      cmocka_unit_test(test_damaged_files), cmocka_unit_test(test_regression_evtx),
      cmocka_unit_test(test_same_matches),
  };
  return cmocka_run_group_tests_name("evtx", tests, NULL, NULL);
}
