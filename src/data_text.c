/* Raw files and text: a file's bytes as a uint8 tensor, and UTF-8 text to a character
 * vocabulary (sorted distinct code points) and back. Byte-level vocabularies need none
 * of this: a byte b is token b (+1 in Lua). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

#define CPU ((em_device){EM_CPU, 0})
#define UTF8_MAX_CP 0x10FFFF

int em_file_read_bytes(em_tensor *out, em_context *ctx, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return em_error("%s: cannot open: %s", path, strerror(errno));
  int st = EM_OK;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return em_error("%s: cannot determine the size (not a regular file?)", path);
  }
  int64_t size = n;
  st = em_tensor_empty(out, ctx, EM_UINT8, CPU, 1, &size);
  if (st == EM_OK && n > 0 && fread(em_tensor_data(out), 1, (size_t)n, f) != (size_t)n) {
    em_tensor_release(out);
    st = em_error("%s: read error: %s", path, ferror(f) ? strerror(errno) : "the file shrank");
  }
  fclose(f);
  return st;
}

/* Decodes the code point at s[*i..n) and advances *i; -1 when the bytes there are not
 * valid UTF-8 (overlong forms, surrogates and values past U+10FFFF included). */
static int32_t utf8_next(const uint8_t *s, size_t n, size_t *i) {
  uint8_t c = s[*i];
  if (c < 0x80) { (*i)++; return c; }
  int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (len == 0 || c > 0xF4 || *i + (size_t)len > n) return -1;
  int32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; k++) {
    uint8_t b = s[*i + (size_t)k];
    if ((b & 0xC0) != 0x80) return -1;
    cp = cp << 6 | (b & 0x3F);
  }
  static const int32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[len] || cp > UTF8_MAX_CP || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *i += (size_t)len;
  return cp;
}

/* Appends the UTF-8 bytes of cp to p; returns the count. */
static int utf8_put(char *p, int32_t cp) {
  if (cp < 0x80) { p[0] = (char)cp; return 1; }
  if (cp < 0x800) {
    p[0] = (char)(0xC0 | cp >> 6);
    p[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    p[0] = (char)(0xE0 | cp >> 12);
    p[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    p[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  p[0] = (char)(0xF0 | cp >> 18);
  p[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  p[2] = (char)(0x80 | (cp >> 6 & 0x3F));
  p[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static int bad_utf8(const char *name, size_t at) {
  return em_error("%s: invalid UTF-8 at byte %zu (use byte mode for binary data)", name, at);
}

int em_utf8_vocab(em_tensor *chars, em_context *ctx, const uint8_t *s, size_t n,
                  const char *name) {
  uint8_t *seen = calloc((UTF8_MAX_CP + 1) / 8 + 1, 1);   /* a bit per code point */
  if (!seen) return em_error_nomem("readText", (UTF8_MAX_CP + 1) / 8);
  int64_t count = 0;
  for (size_t i = 0; i < n;) {
    size_t at = i;
    int32_t cp = utf8_next(s, n, &i);
    if (cp < 0) {
      free(seen);
      return bad_utf8(name, at);
    }
    if (!(seen[cp >> 3] & 1u << (cp & 7))) {
      seen[cp >> 3] |= (uint8_t)(1u << (cp & 7));
      count++;
    }
  }
  int st = em_tensor_empty(chars, ctx, EM_INT32, CPU, 1, &count);
  if (st == EM_OK) {
    int32_t *out = em_tensor_data(chars);
    for (int32_t cp = 0; cp <= UTF8_MAX_CP; cp++)
      if (seen[cp >> 3] & 1u << (cp & 7)) *out++ = cp;
  }
  free(seen);
  return st;
}

/* Position of cp in the sorted v[0..n), or -1. */
static int64_t find_cp(const int32_t *v, int64_t n, int32_t cp) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (v[mid] < cp) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && v[lo] == cp ? lo : -1;
}

static int check_vocab(const char *op, const em_tensor *chars) {
  if (chars->dtype != EM_INT32 || chars->ndim != 1 || chars->device.type != EM_CPU ||
      !em_tensor_is_contiguous(chars))
    return em_error("%s: the vocabulary must be a contiguous 1-D int32 CPU tensor of code points", op);
  return EM_OK;
}

int em_utf8_encode(em_tensor *ids, em_context *ctx, const uint8_t *s, size_t n,
                   const char *name, const em_tensor *chars) {
  int st = check_vocab("encode", chars);
  if (st != EM_OK) return st;
  int64_t m = 0;
  for (size_t i = 0; i < n; m++) {
    size_t at = i;
    if (utf8_next(s, n, &i) < 0) return bad_utf8(name, at);
  }
  st = em_tensor_empty(ids, ctx, EM_INT64, CPU, 1, &m);
  if (st != EM_OK) return st;
  const int32_t *v = em_tensor_data(chars);
  int64_t nv = chars->size[0], *out = em_tensor_data(ids);
  for (size_t i = 0; i < n;) {
    size_t at = i;
    int32_t cp = utf8_next(s, n, &i);
    int64_t id = find_cp(v, nv, cp);
    if (id < 0) {
      em_tensor_release(ids);
      return em_error("%s: character U+%04X at byte %zu is not in the vocabulary", name,
                      (unsigned)cp, at);
    }
    *out++ = id;
  }
  return EM_OK;
}

int em_utf8_decode(char *buf, size_t cap, size_t *len, const em_tensor *ids, int64_t base,
                   const em_tensor *chars) {
  int st = check_vocab("decode", chars);
  if (st != EM_OK) return st;
  if (ids->device.type != EM_CPU || em_dtype_info[ids->dtype].is_float || ids->ndim > 1)
    return em_error("decode: ids must be a 1-D integer CPU tensor");
  int64_t n = em_tensor_numel(ids), nv = chars->size[0];
  if (cap < (size_t)n * 4) return em_error("decode: the buffer holds %zu bytes, need %lld", cap, (long long)n * 4);
  const int32_t *v = em_tensor_data(chars);
  const char *p = em_tensor_data(ids);
  size_t es = em_dtype_info[ids->dtype].size, k = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t id = em_dtype_get_i64(ids->dtype, p + i * ids->stride[0] * (int64_t)es) - base;
    if (id < 0 || id >= nv)
      return em_error("decode: id %lld at position %lld is out of range %lld..%lld",
                      (long long)(id + base), (long long)(i + 1), (long long)base,
                      (long long)(base + nv - 1));
    k += (size_t)utf8_put(buf + k, v[id]);
  }
  *len = k;
  return EM_OK;
}
