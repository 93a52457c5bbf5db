/* report.c - what `sigmacc eval` writes for a match: a JSON line (the
 * default), a CSV row or a table row of the timeline (time, computer,
 * channel, event id, record id, level, rule, details); which matches are
 * shown (--min-level, --status, --tag); and the summary of a run (counts per
 * level, rule and computer).
 */
#define _DEFAULT_SOURCE /* struct tm's tm_gmtoff */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runs.h"

/* ---- levels, filters ------------------------------------------------------------------ */

static const char *const level_names[] = {"informational", "low", "medium", "high", "critical"};

int sg_level_rank(const char *level) {
  for (int i = 0; level && i < 5; i++)
    if (!sg_ascii_casecmp(level, level_names[i])) return i + 1;
  return 0;
}

unsigned sg_status_bit(const char *status) {
  static const char *const names[] = {"stable", "test", "experimental", "deprecated", "unsupported"};
  for (unsigned i = 0; status && i < 5; i++)
    if (!sg_ascii_casecmp(status, names[i])) return 1u << i;
  return 0;
}

static bool tag_matches(const char *tag, const char *want) {
  size_t n = strlen(want);
  return strlen(tag) >= n && !sg_ascii_ncasecmp(tag, want, n) && (tag[n] == '\0' || tag[n] == '.');
}

bool sg_report_shows(const SgEvReport *o, const SgRule *r) {
  if (o->min_level && sg_level_rank(r->level) < o->min_level) return false;
  if (o->statuses && !(sg_status_bit(r->status) & o->statuses)) return false;
  if (o->ntags) {
    bool ok = false;
    for (size_t i = 0; i < o->ntags && !ok; i++)
      for (size_t t = 0; t < r->tags.n && !ok; t++)
        ok = tag_matches(r->tags.v[t], o->tags[i]);
    if (!ok) return false;
  }
  return true;
}

/* ---- fields of the event -------------------------------------------------------------- */

static const SgJLeaf *leaf(const SgJDoc *doc, const char *name) {
  const SgJLeaf *l = sg_jdoc_find(doc, name, strlen(name));
  return l && l->type != SG_J_NULL ? l : NULL;
}

/* The time as ISO 8601 UTC with milliseconds. */
void sg_report_time(const SgEvReport *o, SgBuf *out, double t) {
  time_t sec = (time_t)t;
  if ((double)sec > t) sec--;               /* floor */
  int ms = (int)((t - (double)sec) * 1000); /* truncated, as times are */
  if (ms > 999) ms = 999;
  long off = o ? o->tz_offset : 0; /* seconds east of UTC */
  struct tm tm;
  if (o && o->tz_local) {
    localtime_r(&sec, &tm);
    off = tm.tm_gmtoff;
  } else {
    time_t shifted = sec + off;
    gmtime_r(&shifted, &tm);
  }
  sg_buf_catf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
              tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  if (!off && !(o && o->tz_local))
    sg_buf_catc(out, 'Z');
  else
    sg_buf_catf(out, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 3600, labs(off) / 60 % 60);
}

/* The telling fields of an event, by channel and event id (Sysmon, Security,
 * System, PowerShell, Defender, ...), as a responder reads them first. */
static const struct {
  const char *channel; /* the channel, case-insensitive */
  const char *ids;     /* event ids, comma-separated */
  const char *fields;  /* comma-separated */
} telling[] = {
    {"Microsoft-Windows-Sysmon/Operational", "1", "Image,CommandLine,ParentImage,ParentCommandLine,User"},
    {"Microsoft-Windows-Sysmon/Operational", "2",
     "Image,TargetFilename,CreationUtcTime,PreviousCreationUtcTime"},
    {"Microsoft-Windows-Sysmon/Operational", "3",
     "Image,Protocol,SourceIp,SourcePort,DestinationIp,DestinationPort,DestinationHostname,User"},
    {"Microsoft-Windows-Sysmon/Operational", "4,16", "State,Version,SchemaVersion,Configuration"},
    {"Microsoft-Windows-Sysmon/Operational", "5", "Image,ProcessId"},
    {"Microsoft-Windows-Sysmon/Operational", "6", "ImageLoaded,Signature,SignatureStatus"},
    {"Microsoft-Windows-Sysmon/Operational", "7", "Image,ImageLoaded,Signature,SignatureStatus"},
    {"Microsoft-Windows-Sysmon/Operational", "8", "SourceImage,TargetImage,StartAddress,StartFunction"},
    {"Microsoft-Windows-Sysmon/Operational", "9", "Image,Device"},
    {"Microsoft-Windows-Sysmon/Operational", "10", "SourceImage,TargetImage,GrantedAccess,CallTrace"},
    {"Microsoft-Windows-Sysmon/Operational", "11,23,26,27,28,29", "Image,TargetFilename"},
    {"Microsoft-Windows-Sysmon/Operational", "12,13,14", "EventType,Image,TargetObject,Details,NewName"},
    {"Microsoft-Windows-Sysmon/Operational", "15", "Image,TargetFilename,Hash,Contents"},
    {"Microsoft-Windows-Sysmon/Operational", "17,18", "EventType,Image,PipeName"},
    {"Microsoft-Windows-Sysmon/Operational", "19,20,21",
     "EventType,Operation,Name,Query,Destination,Consumer,Filter"},
    {"Microsoft-Windows-Sysmon/Operational", "22", "Image,QueryName,QueryResults"},
    {"Microsoft-Windows-Sysmon/Operational", "24", "Image,Hashes"},
    {"Microsoft-Windows-Sysmon/Operational", "25", "Image,Type"},
    {"Security", "4624", "TargetUserName,TargetDomainName,LogonType,IpAddress,WorkstationName,ProcessName"},
    {"Security", "4625",
     "TargetUserName,TargetDomainName,LogonType,IpAddress,WorkstationName,FailureReason,Status,SubStatus"},
    {"Security", "4648", "SubjectUserName,TargetUserName,TargetServerName,IpAddress,ProcessName"},
    {"Security", "4672", "SubjectUserName,SubjectDomainName,PrivilegeList"},
    {"Security", "4688", "NewProcessName,CommandLine,ParentProcessName,SubjectUserName,TokenElevationType"},
    {"Security", "4697", "ServiceName,ServiceFileName,ServiceType,ServiceStartType,SubjectUserName"},
    {"Security", "4698,4699,4700,4701,4702", "TaskName,SubjectUserName,TaskContent"},
    {"Security", "4720,4722,4725,4726", "TargetUserName,TargetDomainName,SubjectUserName"},
    {"Security", "4728,4732,4756", "MemberName,TargetUserName,SubjectUserName"},
    {"Security", "4768,4769,4771", "TargetUserName,ServiceName,IpAddress,TicketEncryptionType,Status"},
    {"Security", "5140", "SubjectUserName,IpAddress,ShareName,AccessMask"},
    {"Security", "5145", "SubjectUserName,IpAddress,ShareName,RelativeTargetName,AccessMask"},
    {"Security", "5156,5157", "Application,Direction,SourceAddress,SourcePort,DestAddress,DestPort,Protocol"},
    {"Security", "1102", "SubjectUserName,SubjectDomainName"},
    {"System", "7045", "ServiceName,ImagePath,ServiceType,StartType,AccountName"},
    {"System", "7036", "param1,param2"},
    {"System", "104", "SubjectUserName,Channel,BackupPath"},
    {"Microsoft-Windows-PowerShell/Operational", "4103", "Payload,ContextInfo"},
    {"Microsoft-Windows-PowerShell/Operational", "4104", "ScriptBlockText,Path"},
    {"Windows PowerShell", "400,403,600,800", "HostApplication,CommandLine,EngineVersion"},
    {"Microsoft-Windows-Windows Defender/Operational", "1116,1117,1118,1119",
     "Threat Name,Severity Name,Path,Process Name,Detection User,Action Name"},
    {"Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational", "1149",
     "Param1,Param2,Param3"},
    {"Microsoft-Windows-TaskScheduler/Operational", "106,140,141,200,201", "TaskName,UserName,ActionName"},
    {"Microsoft-Windows-Bits-Client/Operational", "59,60", "name,url,bytesTransferred"},
};

/* Fields shown as a match's details when the table has none for its event,
 * in this order. */
static const char *const default_details[] = {
    "CommandLine", "Image",          "ParentImage",     "TargetFilename",  "TargetObject", "Details",
    "ImageLoaded", "QueryName",      "DestinationIp",   "DestinationPort", "PipeName",     "ServiceName",
    "ImagePath",   "TargetUserName", "SubjectUserName", "IpAddress",       "LogonType",    "ScriptBlockText",
    NULL};

#define DETAILS_OWN 6 /* the event's own fields shown when nothing else is there */

static bool in_list(const char *list, const char *s, size_t n) {
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && !sg_ascii_ncasecmp(p, s, n)) return true;
    p += len + (p[len] == ',');
  }
  return false;
}

static void detail(SgBuf *out, bool *first, const char *name, size_t nlen, const SgJDoc *doc,
                   const SgJLeaf *l) {
  sg_buf_catf(out, "%s%.*s: ", *first ? "" : "; ", (int)nlen, name);
  sg_buf_catn(out, doc->text + l->val, l->vallen);
  *first = false;
}

/* "Name: value; Name: value": the --fields; else the telling fields of the
 * event's channel and id; else the usual ones; else the event's own first
 * EventData/UserData values. Never empty when the event has data. */
void sg_report_details(const SgEvReport *o, SgBuf *out, const SgJDoc *doc) {
  bool first = true;
  const char *list = o->fields;
  if (!list) {
    const SgJLeaf *ch = leaf(doc, "Channel"), *id = leaf(doc, "EventID");
    for (size_t i = 0; ch && id && !list && i < sizeof telling / sizeof *telling; i++)
      if (strlen(telling[i].channel) == ch->vallen &&
          !sg_ascii_ncasecmp(telling[i].channel, doc->text + ch->val, ch->vallen) &&
          in_list(telling[i].ids, doc->text + id->val, id->vallen))
        list = telling[i].fields;
  }
  for (const char *f = list; f && *f;) {
    size_t n = strcspn(f, ",");
    const SgJLeaf *l = sg_jdoc_find(doc, f, n);
    if (l && l->type != SG_J_NULL && (l->vallen || o->fields)) detail(out, &first, f, n, doc, l);
    f += n + (f[n] == ',');
  }
  if (o->fields || !first) return;
  for (size_t i = 0; default_details[i]; i++) {
    const SgJLeaf *l = leaf(doc, default_details[i]);
    if (l && l->vallen) detail(out, &first, default_details[i], strlen(default_details[i]), doc, l);
  }
  size_t own = 0;
  for (size_t i = 0; first && i < doc->n && own < DETAILS_OWN; i++) {
    const SgJLeaf *l = &doc->leaves[i];
    const char *p = doc->text + l->path;
    bool data = (l->pathlen > 16 && !memcmp(p, "Event.EventData.", 16)) ||
                (l->pathlen > 15 && !memcmp(p, "Event.UserData.", 15));
    if (data && l->type != SG_J_NULL && l->vallen) {
      sg_buf_catf(out, "%s%.*s: ", own ? "; " : "", (int)l->namelen, doc->text + l->name);
      sg_buf_catn(out, doc->text + l->val, l->vallen);
      own++;
    }
  }
}

/* ---- cells ------------------------------------------------------------------------------ */

/* A CSV cell (RFC 4180): quoted when it holds a comma, quote or line break.
 * A cell beginning with =, +, -, @, tab or CR is a formula to a spreadsheet
 * (=HYPERLINK(...) from an event): unless `exact`, a ' goes before it, as
 * OWASP advises against CSV injection, and the cell is quoted. */
static void csv_cell(SgBuf *out, const char *s, size_t n, bool last, bool exact) {
  bool formula = !exact && n && strchr("=+-@\t\r", s[0]);
  bool quote = formula;
  for (size_t i = 0; i < n && !quote; i++)
    quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
  if (quote) {
    sg_buf_catc(out, '"');
    if (formula) sg_buf_catc(out, '\'');
    for (size_t i = 0; i < n; i++) {
      if (s[i] == '"') sg_buf_catc(out, '"');
      sg_buf_catc(out, s[i]);
    }
    sg_buf_catc(out, '"');
  } else {
    sg_buf_catn(out, s, n);
  }
  sg_buf_catc(out, last ? '\n' : ',');
}

#define TABLE_CELL_MAX 160 /* columns of a table cell; the rest is cut (marked) */
#define FOLD_WIDTH 100     /* the timeline's details fold onto lines of this many columns ... */
#define FOLD_LINES 4       /* ... at most this many; the rest is cut (marked) */

/* A table cell: through sg_term_char (a value never moves the terminal's
 * cursor, changes its colours or reverses the row), at most TABLE_CELL_MAX
 * characters with a mark of what was cut; padded to `width`. */
static void table_cell(SgBuf *out, const char *s, size_t n, size_t width, bool last) {
  size_t room = last ? TABLE_CELL_MAX : width; /* a column keeps its width: the rows align */
  size_t shown = 0, i = 0;
  while (i < n) {
    size_t before = out->len, at = i;
    i += sg_term_char(out, s + i, n - i);
    size_t w = out->len - before; /* an escape takes its width; a character one column */
    w = w > 1 && out->data[before] == '\\' ? w : 1;
    if (!last && shown + w > room - 1 && i < n) { /* no room for it and the mark */
      out->len = before;
      i = at;
      break;
    }
    shown += w;
    if (last && shown >= room) break;
  }
  if (i < n && last) {
    sg_buf_catf(out, "...(%zu more bytes)", n - i);
    shown += 16;
  } else if (i < n) {
    sg_buf_cat(out, "\xe2\x80\xa6"); /* ... in one column */
    shown++;
  }
  if (last) {
    sg_buf_catc(out, '\n');
    return;
  }
  for (; shown < width; shown++)
    sg_buf_catc(out, ' ');
  sg_buf_cat(out, "  ");
}

enum {
  COL_TIME,
  COL_COMPUTER,
  COL_CHANNEL,
  COL_EVENTID,
  COL_RECORD,
  COL_LEVEL,
  COL_TITLE,
  COL_ID,
  COL_SOURCE,
  COL_DETAILS,
  NCOLS
};
static const char *const col_names[NCOLS] = {"time",  "computer",   "channel", "event_id", "record_id",
                                             "level", "rule_title", "rule_id", "source",   "details"};
static const size_t col_width[NCOLS] = {24, 16, 20, 8, 9, 5, 40, 36, 30, 0};
static const bool table_col[NCOLS] = {true, true, true, true, false, true, true, false, true, true};

/* The table's last cell, folded: lines of FOLD_WIDTH columns, each after the
 * first indented to the cell's column, at most FOLD_LINES, then the mark. */
static void table_fold(SgBuf *out, const char *s, size_t n, size_t indent) {
  size_t i = 0;
  for (int line = 0; line < FOLD_LINES && i < n; line++) {
    if (line) {
      sg_buf_catc(out, '\n');
      for (size_t k = 0; k < indent; k++)
        sg_buf_catc(out, ' ');
    }
    for (size_t shown = 0; i < n && shown < FOLD_WIDTH;) {
      size_t before = out->len;
      i += sg_term_char(out, s + i, n - i);
      size_t w = out->len - before;
      shown += w > 1 && out->data[before] == '\\' ? w : 1;
    }
  }
  if (i < n) sg_buf_catf(out, "...(%zu more bytes)", n - i);
  sg_buf_catc(out, '\n');
}

static void cell(const SgEvReport *o, SgBuf *out, int col, const char *s, size_t n) {
  if (o->format == SG_EVAL_CSV) {
    csv_cell(out, s, n, col == NCOLS - 1, o->csv_exact);
  } else if (col == NCOLS - 1) {
    size_t indent = 0; /* the columns before it, and their gaps */
    for (int c = 0; c < col; c++)
      indent += table_col[c] ? col_width[c] + 2 : 0;
    table_fold(out, s, n, indent);
  } else if (table_col[col]) {
    table_cell(out, s, n, col_width[col], false);
  }
}

static void cell_leaf(const SgEvReport *o, SgBuf *out, int col, const SgJDoc *doc, const char *name) {
  const SgJLeaf *l = doc ? leaf(doc, name) : NULL;
  cell(o, out, col, l ? doc->text + l->val : "", l ? l->vallen : 0);
}

static void cell_str(const SgEvReport *o, SgBuf *out, int col, const char *s) {
  cell(o, out, col, s ? s : "", s ? strlen(s) : 0);
}

/* `search`'s csv and table: where an event is, and what in it matched. */
static const char *const found_cols[] = {"time", "computer", "channel", "event_id", "source", "matched"};

void sg_report_header(const SgEvReport *o, SgBuf *out) {
  if (o->summary || o->format == SG_EVAL_JSONL || o->metrics || o->logons || o->dump) return;
  if (o->search) {
    for (int c = 0; c < 6; c++)
      if (o->format == SG_EVAL_CSV)
        csv_cell(out, found_cols[c], strlen(found_cols[c]), c == 5, true);
      else
        table_cell(out, found_cols[c], strlen(found_cols[c]), c == 4 ? col_width[COL_SOURCE] : col_width[c],
                   c == 5);
    return;
  }
  bool split = o->fields && o->format == SG_EVAL_CSV; /* csv: a column per --fields field */
  for (int c = 0; c < NCOLS - split; c++)
    cell_str(o, out, c, col_names[c]);
  for (const char *f = split ? o->fields : ""; *f;) {
    size_t n = strcspn(f, ",");
    csv_cell(out, f, n, !f[n], true);
    f += n + (f[n] == ',');
  }
}

/* A channel as the table shows it: long Microsoft-Windows-* names without that prefix. */
static void short_channel(const SgEvReport *o, const char **s, size_t *n) {
  if (o->format == SG_EVAL_TABLE && *n > 30 && !memcmp(*s, "Microsoft-Windows-", 18)) *s += 18, *n -= 18;
}

/* The source of a match: csv the input's path and the line or record
 * (path:line); the table the file's name and it (which file to open). */
static void source_text(const SgEvReport *o, SgBuf *b, const SgReportWhere *w) {
  if (!w || !w->shown) return;
  const char *name = w->shown, *slash = strrchr(name, '/');
  if (o->format == SG_EVAL_TABLE && slash && slash[1]) name = slash + 1;
  char at[32];
  int atn = snprintf(at, sizeof at, ":%zu", w->line);
  size_t keep = strlen(name), room = col_width[COL_SOURCE];
  if (o->format == SG_EVAL_TABLE && keep + (size_t)atn > room) { /* the name cut, its record kept */
    keep = room - (size_t)atn - 1;
    while (keep && ((unsigned char)name[keep] & 0xC0) == 0x80) /* not inside a character */
      keep--;
    sg_buf_catf(b, "%.*s\xe2\x80\xa6%s", (int)keep, name, at);
  } else {
    sg_buf_catf(b, "%s%s", name, at);
  }
}

static void source(const SgEvReport *o, SgBuf *out, const SgReportWhere *w) {
  SgBuf b = {0};
  source_text(o, &b, w);
  cell(o, out, COL_SOURCE, b.data ? b.data : "", b.len);
  sg_buf_taint(out, &b);
  sg_buf_free(&b);
}

/* The timeline row of a match (time, event, rule, details). */
static void row(const SgEvReport *o, SgBuf *out, const SgRule *r, const SgJDoc *doc, bool has_time, double t,
                const SgReportWhere *w, const char *detail, size_t detail_len) {
  SgBuf tb = {0};
  if (has_time) sg_report_time(o, &tb, t);
  cell(o, out, COL_TIME, tb.data ? tb.data : "", tb.len);
  sg_buf_taint(out, &tb);
  sg_buf_free(&tb);
  cell_leaf(o, out, COL_COMPUTER, doc, "Computer");
  const SgJLeaf *ch = doc ? leaf(doc, "Channel") : NULL;
  const char *chs = ch ? doc->text + ch->val : "";
  size_t chn = ch ? ch->vallen : 0;
  short_channel(o, &chs, &chn);
  cell(o, out, COL_CHANNEL, chs, chn);
  cell_leaf(o, out, COL_EVENTID, doc, "EventID");
  cell_leaf(o, out, COL_RECORD, doc, "EventRecordID");
  const char *colour = NULL; /* a terminal's table: the level in colour (never a value of the event) */
  if (o->colour && o->format == SG_EVAL_TABLE) {
    static const char *const by_rank[] = {NULL, NULL, "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1;31m"};
    colour = by_rank[sg_level_rank(r->level)];
  }
  if (colour) sg_buf_cat(out, colour);
  static const char *const short_level[] = {NULL, "info", "low", "med", "high", "crit"};
  const char *lv = r->level; /* the table: short, as Hayabusa shows them */
  if (o->format == SG_EVAL_TABLE && sg_level_rank(lv)) lv = short_level[sg_level_rank(lv)];
  cell_str(o, out, COL_LEVEL, lv);
  if (colour) sg_buf_cat(out, "\x1b[0m");
  cell_str(o, out, COL_TITLE, r->title);
  cell_str(o, out, COL_ID, r->id);
  source(o, out, w);
  if (!(o->fields && o->format == SG_EVAL_CSV)) {
    cell(o, out, COL_DETAILS, detail, detail_len);
    return;
  }
  for (const char *f = o->fields; *f;) { /* csv: each --fields field in its own column */
    size_t n = strcspn(f, ",");
    const SgJLeaf *l = doc ? sg_jdoc_find(doc, f, n) : NULL;
    bool has = l && l->type != SG_J_NULL;
    if (!doc && f == o->fields) /* a correlation: its details in the first */
      csv_cell(out, detail, detail_len, !f[n], o->csv_exact);
    else
      csv_cell(out, has ? doc->text + l->val : "", has ? l->vallen : 0, !f[n], o->csv_exact);
    f += n + (f[n] == ',');
  }
}

static void json_opt(SgBuf *b, const char *key, const char *v, bool comma) {
  sg_buf_catf(b, "%s\"%s\":", comma ? "," : "", key);
  sg_json_str_or_null(b, v);
}

/* "id":...,"title":...,"level":... of a rule (each a string or null). */
static void json_rule(SgBuf *b, const SgRule *r) {
  json_opt(b, "id", r->id, false);
  json_opt(b, "title", r->title, true);
  json_opt(b, "level", r->level, true);
}

/* A number of the event as JSON: as written, unless it has a leading zero
 * (`0123`, `-007`), which the event parser accepts and JSON does not: then
 * its text as a string, so every line parses and no digit is lost. */
static void json_number(SgBuf *out, const char *s, size_t n) {
  size_t i = n && s[0] == '-';
  if (i + 1 < n && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
    sg_json_str(out, s, n);
  else
    sg_buf_catn(out, s, n);
}

/* The event as one JSON line: whitespace outside strings removed; invalid
 * UTF-8 inside strings becomes \ufffd and numbers go through json_number, so
 * the line is always valid JSON (the event was parsed, so it holds no raw
 * control characters). */
static void minify(SgBuf *out, const char *s, size_t n) {
  size_t run = 0; /* start of the pending span to copy */
  bool str = false, esc = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (str) {
      if (esc) {
        esc = false;
      } else if (c == '\\') {
        esc = true;
      } else if (c == '"') {
        str = false;
      } else if ((unsigned char)c >= 0x80) {
        size_t k = sg_utf8_len(s + i, n - i);
        if (k) {
          i += k - 1;
        } else {
          sg_buf_catn(out, s + run, i - run);
          sg_buf_cat(out, "\\ufffd");
          run = i + 1;
        }
      }
    } else if (c == '"') {
      str = true;
    } else if (c == '-' || (c >= '0' && c <= '9')) { /* a number: digits occur outside strings only there */
      size_t e = i + 1;
      while (e < n && strchr("0123456789.eE+-", s[e]) && s[e])
        e++;
      sg_buf_catn(out, s + run, i - run);
      json_number(out, s + i, e - i);
      run = e;
      i = e - 1;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      sg_buf_catn(out, s + run, i - run);
      run = i + 1;
    }
  }
  sg_buf_catn(out, s + run, n - run);
}

static void json_fields(SgBuf *out, const SgJDoc *doc, const char *fields) {
  sg_buf_cat(out, ",\"fields\":{");
  bool first = true;
  for (const char *f = fields; *f;) {
    const char *comma = strchr(f, ',');
    size_t n = comma ? (size_t)(comma - f) : strlen(f);
    const SgJLeaf *l = sg_jdoc_find(doc, f, n);
    if (l) {
      if (!first) sg_buf_catc(out, ',');
      first = false;
      sg_json_str(out, f, n);
      sg_buf_catc(out, ':');
      if (l->type == SG_J_STR)
        sg_json_str(out, doc->text + l->val, l->vallen);
      else if (l->type == SG_J_NULL)
        sg_buf_cat(out, "null");
      else if (l->type == SG_J_NUM)
        json_number(out, doc->text + l->val, l->vallen);
      else
        sg_buf_catn(out, doc->text + l->val, l->vallen);
    }
    f = comma ? comma + 1 : f + n;
  }
  sg_buf_catc(out, '}');
}

void sg_report_match(const SgEvReport *o, SgBuf *out, const SgRule *r, size_t cond, const SgJDoc *doc,
                     const char *text, size_t len, const SgReportWhere *w) {
  if (o->format != SG_EVAL_JSONL) {
    SgBuf d = {0};
    sg_report_details(o, &d, doc);
    row(o, out, r, doc, w->has_time, w->time, w, d.data ? d.data : "", d.len);
    sg_buf_taint(out, &d);
    sg_buf_free(&d);
    return;
  }
  sg_buf_cat(out, "{\"rule\":{");
  json_rule(out, r);
  sg_buf_cat(out, ",\"tags\":[");
  for (size_t t = 0; t < r->tags.n; t++) {
    if (t) sg_buf_catc(out, ',');
    sg_json_str(out, r->tags.v[t], strlen(r->tags.v[t]));
  }
  sg_buf_catf(out, "],\"condition\":%zu},\"time\":", cond);
  if (w->has_time) {
    sg_buf_catc(out, '"');
    sg_report_time(o, out, w->time);
    sg_buf_catc(out, '"');
  } else {
    sg_buf_cat(out, "null");
  }
  sg_buf_catc(out, ',');
  json_opt(out, "path", w->shown, false);
  sg_buf_catf(out, ",\"%s\":%zu", w->unit, w->line);
  if (o->fields) {
    json_fields(out, doc, o->fields);
  } else {
    sg_buf_cat(out, ",\"event\":");
    minify(out, text, len);
  }
  sg_buf_cat(out, "}\n");
}

void sg_report_corr_details(const SgEvReport *o, SgBuf *d, const SgCorrHit *h) {
  sg_buf_catf(d, "%s: group %s, value %.17g, %zu matches from ", sg_corr_type_name(h->rule->corr->type),
              h->group, h->value, h->matches);
  sg_report_time(o, d, h->first);
}

void sg_report_correlation(const SgEvReport *o, SgBuf *out, const SgCorrHit *h, const SgReportWhere *w) {
  const SgRule *r = h->rule;
  if (o->format != SG_EVAL_JSONL) {
    SgBuf d = {0};
    sg_report_corr_details(o, &d, h);
    row(o, out, r, NULL, true, h->last, NULL, d.data ? d.data : "", d.len);
    sg_buf_taint(out, &d);
    sg_buf_free(&d);
    return;
  }
  sg_buf_cat(out, "{\"correlation\":{");
  json_rule(out, r);
  json_opt(out, "type", sg_corr_type_name(r->corr->type), true);
  sg_buf_catf(out, "},\"group\":%s,\"value\":%.17g,\"matches\":%zu,\"first\":\"", h->group, h->value,
              h->matches);
  sg_report_time(o, out, h->first);
  sg_buf_cat(out, "\",\"last\":\"");
  sg_report_time(o, out, h->last);
  sg_buf_cat(out, "\",");
  json_opt(out, "path", w->shown, false);
  sg_buf_catf(out, ",\"%s\":%zu}\n", w->unit, w->line);
}

/* `search`: an event some of whose values matched: leaves[0..n). */
void sg_report_found(const SgEvReport *o, SgBuf *out, const SgJDoc *doc, const uint32_t *leaves, size_t n,
                     const char *text, size_t len, const SgReportWhere *w) {
  if (o->format == SG_EVAL_JSONL) {
    sg_buf_cat(out, "{\"time\":");
    if (w->has_time) {
      sg_buf_catc(out, '"');
      sg_report_time(o, out, w->time);
      sg_buf_catc(out, '"');
    } else {
      sg_buf_cat(out, "null");
    }
    json_opt(out, "path", w->shown, true);
    sg_buf_catf(out, ",\"%s\":%zu,\"matched\":[", w->unit, w->line);
    for (size_t i = 0; i < n; i++) {
      const SgJLeaf *l = &doc->leaves[leaves[i]];
      sg_buf_cat(out, i ? ",{\"field\":" : "{\"field\":");
      sg_json_str(out, doc->text + l->path, l->pathlen);
      sg_buf_cat(out, ",\"value\":");
      sg_json_str(out, doc->text + l->val, l->vallen);
      sg_buf_catc(out, '}');
    }
    sg_buf_cat(out, "],\"event\":");
    minify(out, text, len);
    sg_buf_cat(out, "}\n");
    return;
  }
  SgBuf c = {0};
  if (w->has_time) sg_report_time(o, &c, w->time);
  const char *const leafs[] = {"Computer", "Channel", "EventID"};
  for (int k = 0; k < 5; k++) {
    const char *v = c.data ? c.data : "";
    size_t vn = c.len;
    const SgJLeaf *l = k >= 1 && k <= 3 ? leaf(doc, leafs[k - 1]) : NULL;
    if (k >= 1 && k <= 3) v = l ? doc->text + l->val : "", vn = l ? l->vallen : 0;
    if (k == 2) short_channel(o, &v, &vn);
    if (k == 4) {
      sg_buf_reset(&c);
      source_text(o, &c, w);
      v = c.data ? c.data : "";
      vn = c.len;
    }
    if (o->format == SG_EVAL_CSV)
      csv_cell(out, v, vn, false, o->csv_exact);
    else
      table_cell(out, v, vn, k == 4 ? col_width[COL_SOURCE] : col_width[k], false);
  }
  sg_buf_reset(&c);
  for (size_t i = 0; i < n; i++) {
    const SgJLeaf *l = &doc->leaves[leaves[i]];
    sg_buf_catf(&c, "%s%.*s: ", i ? "; " : "", (int)l->pathlen, doc->text + l->path);
    sg_buf_catn(&c, doc->text + l->val, l->vallen);
  }
  if (o->format == SG_EVAL_CSV)
    csv_cell(out, c.data ? c.data : "", c.len, true, o->csv_exact);
  else
    table_cell(out, c.data ? c.data : "", c.len, 0, true);
  sg_buf_taint(out, &c);
  sg_buf_free(&c);
}

/* ---- summary ------------------------------------------------------------------------------ */

typedef struct Tally {
  const SgRule *rule; /* NULL for a computer */
  size_t n;
} Tally;

struct SgSummary {
  Intern rules, computers; /* rules by their SgRule pointer; computers by name */
  Tally *rule, *computer;  /* per id */
  size_t caprule, capcomputer;
  size_t levels[6]; /* unknown, informational ... critical */
  size_t matches;
};

SgSummary *sg_summary_new(void) { return calloc(1, sizeof(SgSummary)); }

void sg_summary_free(SgSummary *s) {
  if (!s) return;
  sg_ev_intern_free(&s->rules);
  sg_ev_intern_free(&s->computers);
  free(s->rule);
  free(s->computer);
  free(s);
}

/* The tally of id in *v (zeroed when new); NULL when memory ran out. */
static Tally *tally(Tally **v, size_t *cap, uint32_t id) {
  if (id == UINT32_MAX) return NULL;
  if (id >= *cap) {
    size_t c = *cap ? *cap * 2 : 64;
    while (c <= id)
      c *= 2;
    Tally *x = realloc(*v, c * sizeof *x);
    if (!x) return NULL;
    memset(x + *cap, 0, (c - *cap) * sizeof *x);
    *v = x;
    *cap = c;
  }
  return &(*v)[id];
}

bool sg_summary_add(SgSummary *s, const SgRule *r, const char *computer, size_t n) {
  Tally *t = tally(&s->rule, &s->caprule, sg_ev_intern_add(&s->rules, (const char *)&r, sizeof r));
  if (!t) return false;
  t->rule = r;
  t->n++;
  s->levels[sg_level_rank(r->level)]++;
  s->matches++;
  if (computer) {
    Tally *c = tally(&s->computer, &s->capcomputer, sg_ev_intern_add(&s->computers, computer, n));
    if (!c) return false;
    c->n++;
  }
  return true;
}

typedef struct Ranked {
  size_t n;
  const char *key, *key2; /* sorted by n (descending), then key, key2 */
  size_t id;
} Ranked;

static int cmp_ranked(const void *a, const void *b) {
  const Ranked *x = a, *y = b;
  if (x->n != y->n) return x->n < y->n ? 1 : -1;
  int c = strcmp(x->key, y->key);
  return c ? c : strcmp(x->key2, y->key2);
}

void sg_summary_print(const SgSummary *s, const SgEvReport *o, SgBuf *out, size_t events) {
  size_t nr = s->rules.n, nc = s->computers.n;
  Ranked *rr = calloc(nr + 1, sizeof *rr), *cc = calloc(nc + 1, sizeof *cc);
  if (!rr || !cc) {
    out->oom = true;
    free(rr);
    free(cc);
    return;
  }
  for (size_t i = 0; i < nr; i++) {
    const SgRule *r = s->rule[i].rule;
    rr[i] = (Ranked){s->rule[i].n, r->title ? r->title : "", r->id ? r->id : "", i};
  }
  for (size_t i = 0; i < nc; i++)
    cc[i] = (Ranked){s->computer[i].n, s->computers.names[i], "", i};
  qsort(rr, nr, sizeof *rr, cmp_ranked);
  qsort(cc, nc, sizeof *cc, cmp_ranked);
  if (!o->summary_table) {
    sg_buf_catf(out, "{\"events\":%zu,\"matches\":%zu,\"levels\":{", events, s->matches);
    for (int l = 5; l >= 0; l--)
      sg_buf_catf(out, "\"%s\":%zu%s", l ? level_names[l - 1] : "unknown", s->levels[l], l ? "," : "");
    sg_buf_cat(out, "},\"rules\":[");
    for (size_t i = 0; i < nr; i++) {
      const SgRule *r = s->rule[rr[i].id].rule;
      sg_buf_cat(out, i ? ",{" : "{");
      json_rule(out, r);
      sg_buf_catf(out, ",\"matches\":%zu}", rr[i].n);
    }
    sg_buf_cat(out, "],\"computers\":[");
    for (size_t i = 0; i < nc; i++) {
      sg_buf_cat(out, i ? ",{\"computer\":" : "{\"computer\":");
      sg_json_str(out, s->computers.names[cc[i].id], s->computers.lens[cc[i].id]);
      sg_buf_catf(out, ",\"matches\":%zu}", cc[i].n);
    }
    sg_buf_cat(out, "]}\n");
  } else {
    sg_buf_catf(out, "%zu events, %zu matches\n\nlevel          matches\n", events, s->matches);
    for (int l = 5; l >= 0; l--)
      if (s->levels[l]) sg_buf_catf(out, "%-13s  %7zu\n", l ? level_names[l - 1] : "unknown", s->levels[l]);
    sg_buf_cat(out, "\nmatches  level          rule\n");
    for (size_t i = 0; i < nr; i++) {
      const SgRule *r = s->rule[rr[i].id].rule;
      sg_buf_catf(out, "%7zu  %-13s  ", rr[i].n, r->level ? r->level : "-");
      table_cell(out, rr[i].key, strlen(rr[i].key), 0, true);
    }
    sg_buf_cat(out, "\nmatches  computer\n");
    for (size_t i = 0; i < nc; i++) {
      sg_buf_catf(out, "%7zu  ", cc[i].n);
      table_cell(out, s->computers.names[cc[i].id], s->computers.lens[cc[i].id], 0, true);
    }
  }
  free(rr);
  free(cc);
}
