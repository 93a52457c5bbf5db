/* cli_eval.c - `sigmacc eval`: compile rules once, stream JSON events, print
 * one JSON line per match.
 *
 * Product windows rules get the built-in evtx pipeline unless
 * --without-pipeline. A malformed event is reported as file:line and skipped;
 * the run never stops on bad input. Exit: 0, or 1 when a rule could not be
 * loaded or compiled, 2 on usage or I/O errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../backends/eval/eval.h"
#include "cli.h"
#include "pipeline.h"

static const char eval_usage[] =
    "usage: sigmacc eval -r RULES [-r RULES]... [-p PIPELINE]... [--without-pipeline]\n"
    "                    [-s] [--fields F1,F2,...] [--stats] [EVENTS...]\n"
    "  -r, --rules        rule file or directory (repeatable)\n"
    "  -p, --pipeline     extra pipeline (built-in name, file or directory)\n"
    "  --without-pipeline do not apply the evtx pipeline to Windows rules\n"
    "  -s, --skip-unsupported  report rules that cannot be evaluated, run the rest, exit 0\n"
    "  --fields           print these event fields instead of the whole event\n"
    "  --stats            print events read, bytes, matches, skipped and events/s to stderr\n"
    "EVENTS are JSON lines, a JSON array or concatenated objects; none or '-' reads stdin.\n";

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The event as one JSON line: whitespace outside strings removed, newlines
 * inside strings (not valid JSON, but seen in the wild) escaped. */
static void minify(SgBuf *out, const char *s, size_t n) {
  size_t run = 0; /* start of the pending span to copy */
  bool str = false, esc = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') str = false;
      else if (c == '\n') {
        sg_buf_catn(out, s + run, i - run);
        sg_buf_cat(out, "\\n");
        run = i + 1;
      }
    } else if (c == '"') {
      str = true;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      sg_buf_catn(out, s + run, i - run);
      run = i + 1;
    }
  }
  sg_buf_catn(out, s + run, n - run);
}

static void json_opt(SgBuf *b, const char *key, const char *v, bool comma) {
  sg_buf_catf(b, "%s\"%s\":", comma ? "," : "", key);
  if (v)
    sg_json_str(b, v, strlen(v));
  else
    sg_buf_cat(b, "null");
}

typedef struct EvalArgs {
  char **rules, **events, **pipelines;
  int nrules, nevents, npipelines;
  const char *fields;
  bool stats, without_pipeline, skip;
} EvalArgs;

static int parse_eval_args(int argc, char **argv, EvalArgs *a) {
  a->rules = calloc((size_t)argc + 1, sizeof *a->rules);
  a->events = calloc((size_t)argc + 1, sizeof *a->events);
  a->pipelines = calloc((size_t)argc + 1, sizeof *a->pipelines);
  if (!a->rules || !a->events || !a->pipelines) return 2;
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    bool has_val = i + 1 < argc;
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
      fputs(eval_usage, stdout);
      return 0;
    } else if ((!strcmp(s, "-r") || !strcmp(s, "--rules")) && has_val) {
      a->rules[a->nrules++] = argv[++i];
    } else if ((!strcmp(s, "-p") || !strcmp(s, "--pipeline")) && has_val) {
      a->pipelines[a->npipelines++] = argv[++i];
    } else if (!strcmp(s, "--fields") && has_val) {
      a->fields = argv[++i];
    } else if (!strcmp(s, "-s") || !strcmp(s, "--skip-unsupported")) {
      a->skip = true;
    } else if (!strcmp(s, "--stats")) {
      a->stats = true;
    } else if (!strcmp(s, "--without-pipeline")) {
      a->without_pipeline = true;
    } else if (s[0] == '-' && s[1]) {
      fprintf(stderr, "sigmacc eval: unknown option or missing value '%s'\n%s", s, eval_usage);
      return 2;
    } else {
      a->events[a->nevents++] = argv[i];
    }
  }
  if (!a->nrules) {
    fputs(eval_usage, stderr);
    return 2;
  }
  return -1;
}

static void print_fields(SgBuf *out, const SgJDoc *doc, const char *fields) {
  sg_buf_cat(out, ",\"fields\":{");
  bool first = true;
  for (const char *f = fields; *f;) {
    const char *comma = strchr(f, ',');
    size_t n = comma ? (size_t)(comma - f) : strlen(f);
    for (size_t i = 0; i < doc->n; i++) {
      const SgJLeaf *l = &doc->leaves[i];
      bool hit = (l->namelen == n && !memcmp(doc->text + l->name, f, n)) ||
                 (l->pathlen == n && !memcmp(doc->text + l->path, f, n));
      if (!hit) continue;
      if (!first) sg_buf_catc(out, ',');
      first = false;
      sg_json_str(out, f, n);
      sg_buf_catc(out, ':');
      if (l->type == SG_J_STR)
        sg_json_str(out, doc->text + l->val, l->vallen);
      else if (l->type == SG_J_NULL)
        sg_buf_cat(out, "null");
      else
        sg_buf_catn(out, doc->text + l->val, l->vallen);
      break;
    }
    f = comma ? comma + 1 : f + n;
  }
  sg_buf_catc(out, '}');
}

int sg_cli_eval(int argc, char **argv) {
  EvalArgs args = {0};
  int rc = parse_eval_args(argc, argv, &args);
  if (rc >= 0) {
    free(args.rules);
    free(args.events);
    free(args.pipelines);
    return rc;
  }
  SgDiags d = {0};
  SgArena pa;
  sg_arena_init(&pa);
  SgPipelineSet user = {0}, set = {0};
  bool rule_errors = false, io_error = false, setup_failed = false;
  for (int i = 0; i < args.npipelines; i++)
    if (sg_pipeline_add(&pa, &user, args.pipelines[i], &d) != SG_OK) setup_failed = true;
  if (!args.without_pipeline && sg_pipeline_add(&pa, &user, "evtx", &d) != SG_OK) setup_failed = true;
  sg_pipeline_sort(&user);
  sg_pipeline_append(&pa, &set, &user);
  if (!setup_failed && sg_pipeline_validate(&pa, &set, &d) != SG_OK) setup_failed = true;
  sg_print_diags(stderr, &d, 0, NULL, 0, false);
  SgPaths paths = {0};
  size_t mark = d.n;
  if (!setup_failed && !sg_expand_paths(args.nrules, args.rules, &paths, &d)) io_error = true;
  sg_print_diags(stderr, &d, mark, NULL, 0, false);
  SgUnit *units = calloc(paths.n + 1, sizeof *units);
  SgEvaluator *ev = sg_eval_new();
  size_t skipped = 0;
  if (!units || !ev) setup_failed = true;
  for (size_t i = 0; !setup_failed && i < paths.n; i++) {
    mark = d.n;
    char *src;
    size_t len;
    if (sg_read_file(paths.v[i], &src, &len, &d) != SG_OK) {
      io_error = true;
      sg_print_diags(stderr, &d, mark, NULL, 0, false);
      continue;
    }
    SgUnit *u = &units[i];
    sg_compile_source(u, paths.v[i], src, len, &d);
    for (size_t r = 0; r < u->nrules; r++) {
      const SgRule *rule = u->rules[r];
      if (rule->failed || rule->kind != SG_DOC_RULE) {
        if (rule->failed) rule_errors = true;
        continue;
      }
      SgPipelineState st = {0};
      SgRule *processed;
      SgStatus rs = sg_pipeline_apply(&u->arena, &set, rule, &processed, &st, &d);
      if (rs == SG_OK) rs = sg_eval_add(ev, processed, &d);
      if (rs == SG_ERR_UNSUPPORTED && args.skip)
        skipped++;
      else if (rs != SG_OK)
        rule_errors = true;
    }
    sg_print_diags(stderr, &d, mark, u->src, u->srclen, false);
  }
  if (ev && !setup_failed && sg_eval_prepare(ev) != SG_OK) setup_failed = true;
  if (skipped) fprintf(stderr, "sigmacc eval: %zu rule%s skipped as unsupported\n", skipped, skipped == 1 ? "" : "s");
  if (setup_failed) {
    sg_eval_free(ev);
    ev = NULL; /* no events are read: the rules were not all loaded */
  }

  /* stream the events */
  size_t nevents = 0, nmatches = 0, nskipped = 0, nbytes = 0;
  double t0 = now_s(), last_progress = t0;
  bool progress = isatty(2);
  SgJDoc doc = {0};
  SgBuf out = {0};
  char *stdin_name = "-";
  char **inputs = args.nevents ? args.events : &stdin_name;
  int ninputs = args.nevents ? args.nevents : 1;
  for (int i = 0; ev && i < ninputs; i++) {
    bool is_stdin = !strcmp(inputs[i], "-");
    FILE *f = is_stdin ? stdin : fopen(inputs[i], "rb");
    if (!f) {
      fprintf(stderr, "%s: error[E001]: cannot open the events file\n", inputs[i]);
      io_error = true;
      continue;
    }
    SgJReader rd;
    sg_jreader_init(&rd, f);
    const char *text, *msg;
    size_t len, line;
    SgJNext k;
    while ((k = sg_jreader_next(&rd, &text, &len, &line, &msg)) != SG_J_END) {
      if (k == SG_J_BAD) {
        fprintf(stderr, "%s:%zu: error: %s; skipped\n", inputs[i], line, msg);
        nskipped++;
        continue;
      }
      size_t eoff;
      const char *err;
      if (!sg_json_parse(&doc, text, len, &eoff, &err)) {
        size_t l = line;
        for (size_t q = 0; q < eoff && q < len; q++) l += text[q] == '\n';
        fprintf(stderr, "%s:%zu: error: malformed JSON event: %s; skipped\n", inputs[i], l, err);
        nskipped++;
        continue;
      }
      nevents++;
      const SgEvalHit *hits;
      size_t nh = sg_eval_event(ev, &doc, &hits);
      for (size_t h = 0; h < nh; h++) {
        const SgRule *r = hits[h].rule;
        sg_buf_reset(&out);
        sg_buf_cat(&out, "{\"rule\":{");
        json_opt(&out, "id", r->id, false);
        json_opt(&out, "title", r->title, true);
        json_opt(&out, "level", r->level, true);
        sg_buf_cat(&out, ",\"tags\":[");
        for (size_t t = 0; t < r->tags.n; t++) {
          if (t) sg_buf_catc(&out, ',');
          sg_json_str(&out, r->tags.v[t], strlen(r->tags.v[t]));
        }
        sg_buf_catf(&out, "],\"condition\":%zu},", hits[h].cond);
        json_opt(&out, "path", inputs[i], false);
        sg_buf_catf(&out, ",\"line\":%zu", line);
        if (args.fields) {
          print_fields(&out, &doc, args.fields);
        } else {
          sg_buf_cat(&out, ",\"event\":");
          minify(&out, text, len);
        }
        sg_buf_cat(&out, "}\n");
        fwrite(out.data, 1, out.len, stdout);
      }
      nmatches += nh;
      if (progress && (nevents & 0x3fff) == 0) {
        double t = now_s();
        if (t - last_progress > 1.0) {
          fprintf(stderr, "\r%zu events, %zu matches", nevents, nmatches);
          last_progress = t;
        }
      }
    }
    nbytes += rd.bytes;
    if (!is_stdin) fclose(f);
    sg_jreader_free(&rd);
  }
  if (progress && last_progress != t0) fputc('\n', stderr);
  double el = now_s() - t0;
  if (args.stats)
    fprintf(stderr, "events %zu, bytes %zu, matches %zu, skipped %zu, rules %zu, %.3f s, %.0f events/s\n", nevents,
            nbytes, nmatches, nskipped, ev ? sg_eval_rule_count(ev) : 0, el, el > 0 ? nevents / el : 0.0);
  sg_buf_free(&out);
  sg_jdoc_free(&doc);
  sg_eval_free(ev);
  for (size_t i = 0; units && i < paths.n; i++) sg_unit_free(&units[i]);
  free(units);
  sg_paths_free(&paths);
  sg_diags_free(&d);
  sg_arena_free(&pa);
  free(args.rules);
  free(args.events);
  free(args.pipelines);
  return io_error ? 2 : (rule_errors || setup_failed) ? 1 : 0;
}
