/* evtx_format.h - the EVTX layout the reader (evtx.c) and the chunk stream
 * (evtx_file.c) share: sizes, signatures, little-endian fields, checksums. */
#ifndef SG_EVTX_FORMAT_H
#define SG_EVTX_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#define FILE_HEADER 4096u
#define CHUNK 65536u
#define CHUNK_HEADER 512u

static const char SIG_FILE[8] = "ElfFile", SIG_CHUNK[8] = "ElfChnk";

static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static inline uint32_t crc(const uint8_t *p, size_t n) { return (uint32_t)crc32(0L, p, (uInt)n); }

static inline bool all_zero(const uint8_t *p, size_t n) { return !n || (!p[0] && !memcmp(p, p + 1, n - 1)); }

#endif
