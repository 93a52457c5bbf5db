/* cli_convert.c - `sigmacc convert` and the target listings.
 *
 * Reads every rule, runs the front end, the pipelines and the target, prints
 * diagnostics to stderr and the queries to stdout (or -o). A rule that fails
 * is reported and the batch goes on; with -s such failures do not change the
 * exit code.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cli.h"
#include "golden.h"
#include "pipeline.h"

static const char convert_usage[] =
    "usage: sigmacc convert -t TARGET [-p PIPELINE]... [--without-pipeline] [-f FORMAT]\n"
    "                       [-O key=value]... [-s] [-o OUT] PATH...\n"
    "  -t, --target       aql (alias qradar), splunk, ast\n"
    "  -p, --pipeline     built-in pipeline name, pipeline YAML file or directory (repeatable)\n"
    "  --without-pipeline do not apply the target's default pipeline\n"
    "  -f, --format       output format (see 'sigmacc list formats TARGET')\n"
    "  -O, --option       backend option key=value (repeatable)\n"
    "  --filter FILE      apply the Sigma filters in FILE (repeatable); filter documents among\n"
    "                     the PATHs apply to the whole batch too\n"
    "  -s, --skip-unsupported  report rules that cannot be converted, convert the rest, exit 0\n"
    "  -o, --output       write the output to a file instead of stdout\n"
    "  --check DIR        compare each rule file's output with DIR/<relative path>.<ext>;\n"
    "                     print a diff for each difference, list missing and extra files, exit 1\n"
    "  --update DIR       write those files instead (the explicit golden update)\n"
    "  --json-diagnostics diagnostics as JSON lines on stderr\n";

int sg_cli_list_targets(void) {
  size_t n;
  const SgTarget *const *t = sg_target_list(&n);
  for (size_t i = 0; i < n; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s%s%s", t[i]->name, t[i]->alias ? ", " : "",
             t[i]->alias ? t[i]->alias : "");
    printf("%-14s %s\n", name, t[i]->description);
  }
  return 0;
}

int sg_cli_list_formats(const char *target) {
  size_t n;
  const SgTarget *const *t = sg_target_list(&n);
  for (size_t i = 0; i < n; i++) {
    if (target && strcmp(t[i]->name, target) && !(t[i]->alias && !strcmp(t[i]->alias, target))) continue;
    for (size_t f = 0; t[i]->formats[f]; f++)
      printf("%-8s %-14s %s\n", t[i]->name, t[i]->formats[f], t[i]->format_help[f]);
  }
  return 0;
}

int sg_cli_list_pipelines(void) {
  size_t n;
  const SgBuiltinPipeline *b = sg_builtin_pipelines(&n);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    SgArena a;
    sg_arena_init(&a);
    SgDiags d = {0};
    SgPipelineSet set = {0};
    if (sg_pipeline_add(&a, &set, b[i].name, &d) == SG_OK && set.n == 1) {
      SgBuf backends = {0};
      const SgStrList *l = sg_pipeline_backends(set.v[0]);
      for (size_t k = 0; k < l->n; k++)
        sg_buf_catf(&backends, "%s%s", k ? "," : "", l->v[k]);
      /* the first comment line of the file is its description */
      const char *desc = b[i].text, *nl = strchr(desc, '\n');
      if (!strncmp(desc, "# ", 2)) desc += 2;
      const char *dash = strstr(desc, " - ");
      if (dash && (!nl || dash < nl)) desc = dash + 3;
      printf("%-28s %-10s %.*s\n", b[i].name, l->n ? backends.data : "any",
             nl ? (int)(nl - desc) : (int)strlen(desc), desc);
      sg_buf_free(&backends);
    } else {
      rc = 1; /* a built-in pipeline that does not load is a bug */
      sg_print_diags(stderr, &d, 0, NULL, 0, false);
    }
    sg_diags_free(&d);
    sg_arena_free(&a);
  }
  return rc;
}

typedef struct ConvArgs {
  const char *target, *format, *output, *golden;
  bool update;
  const char **pipelines, **filters;
  size_t npipelines, nfilters;
  SgOption *opts;
  size_t nopts;
  char **paths;
  int npaths;
  bool skip, without_pipeline, json;
} ConvArgs;

static const char *take(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "sigmacc convert: option '%s' needs a value\n", argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

static int parse_args(int argc, char **argv, ConvArgs *a) {
  a->pipelines = calloc((size_t)argc + 1, sizeof *a->pipelines);
  a->filters = calloc((size_t)argc + 1, sizeof *a->filters);
  a->opts = calloc((size_t)argc + 1, sizeof *a->opts);
  a->paths = calloc((size_t)argc + 1, sizeof *a->paths);
  if (!a->pipelines || !a->filters || !a->opts || !a->paths) return 2;
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i], *v;
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
      fputs(convert_usage, stdout);
      return 0;
    } else if (!strcmp(s, "-t") || !strcmp(s, "--target")) {
      if (!(a->target = take(argc, argv, &i))) return 2;
    } else if (!strcmp(s, "-f") || !strcmp(s, "--format")) {
      if (!(a->format = take(argc, argv, &i))) return 2;
    } else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
      if (!(a->output = take(argc, argv, &i))) return 2;
    } else if (!strcmp(s, "-p") || !strcmp(s, "--pipeline")) {
      if (!(v = take(argc, argv, &i))) return 2;
      a->pipelines[a->npipelines++] = v;
    } else if (!strcmp(s, "--filter")) {
      if (!(v = take(argc, argv, &i))) return 2;
      a->filters[a->nfilters++] = v;
    } else if (!strcmp(s, "-O") || !strcmp(s, "--option") || !strcmp(s, "--backend-option")) {
      if (!(v = take(argc, argv, &i))) return 2;
      const char *eq = strchr(v, '=');
      if (!eq || eq == v) {
        fprintf(stderr, "sigmacc convert: option '%s' is not key=value\n", v);
        return 2;
      }
      a->opts[a->nopts].key = strndup(v, (size_t)(eq - v));
      a->opts[a->nopts++].value = eq + 1;
    } else if (!strcmp(s, "--check") || !strcmp(s, "--update")) {
      if (a->golden) {
        fprintf(stderr, "sigmacc convert: give one --check or --update\n");
        return 2;
      }
      a->update = !strcmp(s, "--update");
      if (!(a->golden = take(argc, argv, &i))) return 2;
    } else if (!strcmp(s, "-s") || !strcmp(s, "--skip-unsupported")) {
      a->skip = true;
    } else if (!strcmp(s, "--without-pipeline")) {
      a->without_pipeline = true;
    } else if (!strcmp(s, "--json-diagnostics")) {
      a->json = true;
    } else if (s[0] == '-' && s[1]) {
      fprintf(stderr, "sigmacc convert: unknown option '%s'\n%s", s, convert_usage);
      return 2;
    } else {
      a->paths[a->npaths++] = argv[i];
    }
  }
  if (!a->target || !a->npaths) {
    fputs(convert_usage, stderr);
    return 2;
  }
  return -1; /* go on */
}

static void free_args(ConvArgs *a) {
  for (size_t i = 0; i < a->nopts; i++)
    free((char *)a->opts[i].key);
  free(a->pipelines);
  free(a->filters);
  free(a->opts);
  free(a->paths);
}

/* Pipelines for this run: user ones sorted by (priority, name), then the
 * target's default ones unless --without-pipeline. */
static bool load_pipelines(const ConvArgs *args, const SgTarget *t, SgArena *a, SgPipelineSet *set,
                           SgDiags *d) {
  bool ok = true;
  for (size_t i = 0; i < args->npipelines; i++)
    if (sg_pipeline_add(a, set, args->pipelines[i], d) != SG_OK) ok = false;
  sg_pipeline_sort(set);
  if (!args->without_pipeline && t->default_pipeline) {
    SgPipelineSet def = {0};
    if (sg_pipeline_add(a, &def, t->default_pipeline, d) != SG_OK ||
        sg_pipeline_append(a, set, &def) != SG_OK)
      ok = false;
  }
  if (ok && sg_pipeline_validate(a, set, d) != SG_OK) ok = false;
  for (size_t i = 0; ok && !t->any_pipeline && i < set->n; i++)
    if (!sg_pipeline_allows(set->v[i], t->name)) {
      sg_diag(d, SG_D_PIPELINE, (SgLoc){sg_pipeline_name(set->v[i]), 0, 0},
              "pipeline is not meant for target '%s' (see its allowed_backends)", t->name);
      ok = false;
    }
  return ok;
}

/* Queries as the output format and the pipelines' finalizers join them. */
static void render(const SgTarget *t, const SgConvCtx *ctx, const SgPipelineSet *set, const SgQueries *q,
                   SgBuf *out) {
  const char **texts = calloc(q->n + 1, sizeof *texts);
  for (size_t i = 0; texts && i < q->n; i++)
    texts[i] = q->v[i].text;
  if (!texts || !sg_pipeline_finalize(set, texts, q->n, out)) {
    if (t->finish) {
      t->finish(ctx, q, out);
    } else {
      for (size_t i = 0; i < q->n; i++) {
        if (i) sg_buf_catc(out, '\n');
        sg_buf_cat(out, q->v[i].text);
        sg_buf_catc(out, '\n');
      }
    }
  }
  free(texts);
}

/* ---- One file, and the files in parallel ------------------------------------------------ */

/* What converting one file produced; merged in path order, so the output is
 * the same whatever the number of threads. */
typedef struct FileResult {
  char *src; /* the file's text, read in the first pass (then owned by its unit) */
  size_t len;
  SgQueries q; /* its queries, rule serials from 1 */
  SgBuf diags; /* its diagnostics, rendered */
  SgBuf file;  /* --check/--update: its golden file */
  bool golden; /* `file` is meant for the golden directory (not a pipeline file) */
  bool io_error;
  size_t failed, skipped, errors;
} FileResult;

typedef struct Work {
  const ConvArgs *args;
  const SgTarget *t;
  const SgConvCtx *ctx;
  const SgPipelineSet *set;
  const SgPaths *paths;
  const SgFilters *filters;
  FileResult *res; /* one per path */
  size_t n;        /* paths to convert */
} Work;

static void read_file(void *arg, size_t i) {
  const Work *w = arg;
  FileResult *r = &w->res[i];
  SgDiags d = {0};
  if (sg_read_file(w->paths->v[i], &r->src, &r->len, &d) != SG_OK) {
    r->io_error = true;
    r->src = NULL;
    sg_render_diags(&r->diags, &d, NULL, 0, w->args->json);
  }
  sg_diags_free(&d);
}

static void convert_file(void *arg, size_t i) {
  const Work *w = arg;
  FileResult *r = &w->res[i];
  const ConvArgs *args = w->args;
  SgConvCtx ctx = *w->ctx; /* sg_convert_rule sets ctx.state */
  SgDiags d = {0};
  if (!r->src) return; /* not read: reported */
  SgUnit unit, *u = &unit;
  sg_compile_source(u, w->paths->v[i], r->src, r->len, &d);
  r->src = NULL;
  if (sg_filters_apply(w->filters, u) != SG_OK) r->io_error = true;
  for (size_t k = 0; k < u->nrules; k++) {
    const SgRule *rule = u->rules[k];
    if (rule->failed) {
      r->failed++;
      continue;
    }
    if (rule->kind == SG_DOC_FILTER) continue; /* applied to other rules, not converted */
    if (rule->correlated) continue;            /* converted as part of its correlation */
    size_t errs = d.nerrors;
    SgStatus st = sg_convert_rule(w->t, &ctx, w->set, u, rule, &r->q, &d);
    if (st == SG_ERR_UNSUPPORTED && args->skip) {
      r->skipped++;
      d.nerrors = errs; /* reported, but not an error with -s */
    } else if (st != SG_OK) {
      r->failed++;
    }
  }
  r->errors = d.nerrors;
  sg_render_diags(&r->diags, &d, u->src, u->srclen, args->json);
  if (args->golden && !u->pipeline) { /* this file's queries, compared with (or written to) its golden file */
    r->golden = true;
    render(w->t, &ctx, w->set, &r->q, &r->file);
    /* what could not be converted is recorded in the file too, located by
     * line and column only, so the file is the same from any directory */
    const char *title = u->nrules && u->rules[0]->title ? u->rules[0]->title : "";
    for (size_t k = 0; k < d.n; k++)
      if (d.items[k].sev == SG_SEV_ERROR)
        sg_buf_catf(&r->file, "# error[%s] %u:%u: %s (in \"%s\")\n", sg_diag_code_str(d.items[k].code),
                    d.items[k].loc.line, d.items[k].loc.col, d.items[k].msg, title);
    r->errors = 0; /* recorded and reviewed, not a failure of the check */
    r->failed = 0;
  }
  sg_unit_free(u);
  sg_diags_free(&d);
}

/* Move a file's queries to the end of `all`, continuing the rule serials. */
static bool append_queries(SgQueries *all, SgQueries *file) {
  if (all->n + file->n > all->cap) {
    size_t cap = all->cap ? all->cap : 64;
    while (cap < all->n + file->n)
      cap *= 2;
    SgQuery *v = realloc(all->v, cap * sizeof *v);
    if (!v) {
      sg_queries_free(file);
      return false;
    }
    all->v = v;
    all->cap = cap;
  }
  for (size_t k = 0; k < file->n; k++) {
    file->v[k].rule += all->rules;
    all->v[all->n++] = file->v[k];
  }
  all->rules += file->rules;
  free(file->v);
  *file = (SgQueries){0};
  return true;
}

int sg_cli_convert(int argc, char **argv) {
  ConvArgs args = {0};
  int rc = parse_args(argc, argv, &args);
  if (rc >= 0) {
    free_args(&args);
    return rc;
  }
  const SgTarget *t = sg_target_find(args.target);
  if (!t) {
    fprintf(stderr, "sigmacc convert: unknown target '%s' (see 'sigmacc list targets')\n", args.target);
    free_args(&args);
    return 2;
  }
  const char *format = args.format ? args.format : t->formats[0];
  size_t fi = 0;
  while (t->formats[fi] && strcmp(t->formats[fi], format))
    fi++;
  if (!t->formats[fi]) {
    fprintf(stderr, "sigmacc convert: target '%s' has no format '%s' (see 'sigmacc list formats %s')\n",
            t->name, format, t->name);
    free_args(&args);
    return 2;
  }
  SgConvCtx ctx = {.format = format, .opts = args.opts, .nopts = args.nopts};
  SgDiags d = {0};
  if (sg_check_options(&ctx, t->name, t->format_options[fi], &d) != SG_OK) {
    sg_print_diags(stderr, &d, 0, NULL, 0, args.json);
    sg_diags_free(&d);
    free_args(&args);
    return 2;
  }
  SgArena parena;
  sg_arena_init(&parena);
  SgPipelineSet set = {0};
  if (!load_pipelines(&args, t, &parena, &set, &d)) {
    sg_print_diags(stderr, &d, 0, NULL, 0, args.json);
    sg_diags_free(&d);
    sg_arena_free(&parena);
    free_args(&args);
    return 1;
  }
  SgPaths paths = {0};
  bool io_error = !sg_expand_paths(args.npaths, args.paths, &paths, &d);
  SgFilters filters = {0};
  Work w = {&args, t, &ctx, &set, &paths, &filters, calloc(paths.n + 1, sizeof *w.res), paths.n};
  if (!w.res) {
    fprintf(stderr, "sigmacc convert: out of memory\n");
    io_error = true;
    w.n = 0;
  }
  sg_parallel_for(w.n, read_file, &w); /* read every file, then take the filter documents among them */
  bool filters_ok = sg_filters_load(args.filters, args.nfilters, &filters, &d);
  for (size_t i = 0; i < w.n; i++)
    if (w.res[i].src && !sg_filters_add(&filters, paths.v[i], w.res[i].src, w.res[i].len, true, &d))
      filters_ok = false;
  sg_print_diags(stderr, &d, 0, NULL, 0, args.json);
  if (filters_ok) sg_parallel_for(w.n, convert_file, &w); /* a --filter that does not load: convert nothing */
  /* in path order: diagnostics, queries (rule serials continue), golden files */
  SgQueries q = {0};
  size_t failed = 0, skipped = 0, errors = 0;
  SgGolden golden;
  if (args.golden) sg_golden_init(&golden, args.golden, t->format_ext[fi], args.update);
  for (size_t i = 0; i < w.n; i++) {
    FileResult *r = &w.res[i];
    if (r->diags.len) fwrite(r->diags.data, 1, r->diags.len, stderr);
    io_error |= r->io_error;
    failed += r->failed;
    skipped += r->skipped;
    errors += r->errors;
    if (args.golden && r->golden &&
        sg_golden_file(&golden, paths.v[i] + paths.rel[i], r->file.data ? r->file.data : "", r->file.len) < 0)
      io_error = true;
    if (!append_queries(&q, &r->q)) io_error = true;
    sg_buf_free(&r->diags);
    sg_buf_free(&r->file);
    free(r->src); /* not converted */
  }
  free(w.res);
  if (filters_ok) {
    size_t mark = d.n;
    sg_filters_report_unused(&filters, &d);
    sg_print_diags(stderr, &d, mark, NULL, 0, args.json);
  }
  SgBuf out = {0};
  int golden_rc = 0;
  if (args.golden) {
    golden_rc = sg_golden_finish(&golden);
    sg_buf_cat(&out, sg_buf_cstr(&golden.report));
    size_t n = golden.nseen;
    if (args.update)
      sg_buf_catf(&out, "golden: %zu file%s, %zu written, %zu removed\n", n, n == 1 ? "" : "s",
                  golden.written, golden.extra);
    else
      sg_buf_catf(&out, "golden: %zu file%s, %zu differ, %zu missing, %zu extra\n", n, n == 1 ? "" : "s",
                  golden.mismatches, golden.missing, golden.extra);
    sg_golden_free(&golden);
  } else {
    render(t, &ctx, &set, &q, &out);
  }
  FILE *f = args.output ? fopen(args.output, "wb") : stdout;
  if (!f) {
    fprintf(stderr, "sigmacc convert: cannot write '%s'\n", args.output);
    io_error = true;
  } else {
    if (out.len && fwrite(out.data, 1, out.len, f) != out.len) io_error = true;
    if (args.output && fclose(f) != 0) io_error = true;
  }
  if (skipped)
    fprintf(stderr, "sigmacc convert: %zu rule%s skipped as unsupported\n", skipped, skipped == 1 ? "" : "s");
  rc = io_error || golden_rc == 2 ? 2 : (failed || errors || d.nerrors || golden_rc) ? 1 : 0;
  sg_buf_free(&out);
  sg_queries_free(&q);
  sg_paths_free(&paths);
  sg_filters_free(&filters);
  sg_diags_free(&d);
  sg_arena_free(&parena);
  free_args(&args);
  return rc;
}
