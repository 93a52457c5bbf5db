/* evtx_read.c - libevtx alone: open each EVTX file named and render every
 * record as XML the way sigmacc asks libevtx for it (straight into a 64 KiB
 * buffer, sized first only when it does not fit), nothing else.
 * bench/evtx.sh compiles it against Debian's libevtx. */
#include <libevtx.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  size_t records = 0, bytes = 0;
  size_t cap = 64 << 10;
  uint8_t *xml = malloc(cap);
  if (!xml) return 1;
  for (int a = 1; a < argc; a++) {
    libevtx_file_t *f = NULL;
    int n = 0;
    if (libevtx_file_initialize(&f, NULL) != 1 ||
        libevtx_file_open(f, argv[a], LIBEVTX_OPEN_READ, NULL) != 1 ||
        libevtx_file_get_number_of_records(f, &n, NULL) != 1) {
      fprintf(stderr, "%s: cannot open\n", argv[a]);
      return 1;
    }
    for (int i = 0; i < n; i++) {
      libevtx_record_t *r = NULL;
      size_t size = 0;
      if (libevtx_file_get_record_by_index(f, i, &r, NULL) != 1) continue;
      if (libevtx_record_get_utf8_xml_string(r, xml, cap, NULL) == 1) {
        records++;
        bytes += strlen((char *)xml);
      } else if (libevtx_record_get_utf8_xml_string_size(r, &size, NULL) == 1 && size) {
        if (size > cap && !(xml = realloc(xml, cap = size))) return 1;
        if (libevtx_record_get_utf8_xml_string(r, xml, cap, NULL) == 1) records++, bytes += size;
      }
      libevtx_record_free(&r, NULL);
    }
    libevtx_file_close(f, NULL);
    libevtx_file_free(&f, NULL);
  }
  free(xml);
  printf("%zu records, %zu bytes of XML\n", records, bytes);
  return 0;
}
