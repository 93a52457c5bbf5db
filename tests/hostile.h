/* hostile.h - hostile strings for the property tests (quotes, backslashes,
 * line breaks, C0 and C1 controls, terminal sequences, bidirectional
 * controls, pipes, brackets, SQL and SPL syntax, spreadsheet formulas,
 * Unicode separators and look-alike quotes), and YAML quoting for them. */
#ifndef SG_HOSTILE_H
#define SG_HOSTILE_H

#include "sigmacc_int.h"

static const char *const hostile[] = {
    "\"",
    "\\",
    "end\\",
    "\\\"",
    "'",
    "a'b",
    "''",
    "\r",
    "\n",
    "\n\n",
    "\r\n",
    "a\n\nSELECT * FROM events",
    "\t",
    "\x01\x1b\x7f",
    "|",
    "| delete",
    "\" | delete \"",
    "[x]",
    "]\n[evil]\nsearch = *",
    "(",
    ")",
    "`",
    "$x",
    "${x}",
    "%",
    "_",
    "%_%",
    "*",
    "?",
    "\\*",
    "\\?",
    "=",
    " OR 1=1",
    "' OR '1'='1",
    "\" OR \"1\"=\"1",
    "--",
    "/*",
    ";",
    "GROUP BY x LAST 3650 DAYS --",
    "QIDNAME(qid)",
    "{field}",
    "{query}",
    "{rule.title}",
    "#",
    "\xe2\x80\xa8",
    "\xe2\x80\xa9",
    "\xe2\x80\x9c\xe2\x80\x9d\xe2\x80\x98\xe2\x80\x99",
    "\xef\xbc\x82\xef\xbc\x87",
    "\xc2\xa0",
    "\xc2\x85",
    "\xc2\x9b"
    "31m",
    "\xc2\x9c\xc2\x9d",
    "\x1b[2J\x1b]0;title\x07",
    "\xe2\x80\xae"
    "evil",
    "\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8f",
    "=HYPERLINK(\"http://x.example\",\"y\")",
    "+1",
    "-2+3",
    "@SUM(1)",
    "plain_name",
    "a.b-c",
    "",
};

/* A YAML double-quoted scalar holding s exactly. */
static inline void yq(SgBuf *b, const char *s) {
  sg_buf_catc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      sg_buf_catf(b, "\\%c", *p);
    else if (*p == '\n')
      sg_buf_cat(b, "\\n");
    else if (*p == '\r')
      sg_buf_cat(b, "\\r");
    else if (*p == '\t')
      sg_buf_cat(b, "\\t");
    else if (*p < 0x20 || *p == 0x7f)
      sg_buf_catf(b, "\\x%02x", *p);
    else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) /* YAML line breaks */
      sg_buf_cat(b, p[2] == 0xa8 ? "\\L" : "\\P"), p += 2;
    else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) /* C1 controls: not printable in YAML */
      sg_buf_catf(b, "\\u%04x", p[1]), p++;
    else
      sg_buf_catc(b, (char)*p);
  }
  sg_buf_catc(b, '"');
}

#endif
