/* Image files: PNG through libpng's simplified API (png_image_*: no setjmp on our
 * side), PGM/PPM (P2, P3, P5, P6) by hand. Tensors are planar, C x H x W; files are
 * interleaved, so reading and writing transpose. */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

#define CPU ((em_device){EM_CPU, 0})

/* --- PNG --- */

/* out (C x H x W) := the PNG at path. 8-bit files come back as uint8, unchanged;
 * 16-bit files as int32 in 0..65535 (libpng's linear format, which premultiplies the
 * colour by alpha when there is an alpha channel). */
static int read_png(em_tensor *out, em_context *ctx, const char *path) {
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&im, path))
    return em_error("%s: PNG: %s", path, im.message);
  int wide = PNG_IMAGE_SAMPLE_COMPONENT_SIZE(im.format) == 2;
  png_uint_32 fmt = im.format & (PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA);
  if (wide) fmt |= PNG_FORMAT_FLAG_LINEAR;
  im.format = fmt;
  int64_t c = PNG_IMAGE_SAMPLE_CHANNELS(fmt), h = im.height, w = im.width;
  size_t n = (size_t)(c * h * w);
  void *buf = malloc(PNG_IMAGE_SIZE(im));
  if (!buf) {
    png_image_free(&im);
    return em_error_nomem("readImage", PNG_IMAGE_SIZE(im));
  }
  if (!png_image_finish_read(&im, NULL, buf, 0, NULL)) {
    free(buf);
    return em_error("%s: PNG: %s (truncated or corrupt file?)", path, im.message);
  }
  int64_t size[3] = {c, h, w};
  int st = em_tensor_empty(out, ctx, wide ? EM_INT32 : EM_UINT8, CPU, 3, size);
  if (st == EM_OK && wide) {
    const uint16_t *src = buf;
    int32_t *dst = em_tensor_data(out);
    for (size_t i = 0; i < n; i++) dst[(i % (size_t)c) * (size_t)(h * w) + i / (size_t)c] = src[i];
  } else if (st == EM_OK) {
    const uint8_t *src = buf;
    uint8_t *dst = em_tensor_data(out);
    for (size_t i = 0; i < n; i++) dst[(i % (size_t)c) * (size_t)(h * w) + i / (size_t)c] = src[i];
  }
  free(buf);
  return st;
}

/* img as C x H x W (a 2-D image gets C = 1); EM_OK when it is a uint8 host image
 * with 1..max_c channels. */
static int image_shape(const char *op, const em_tensor *img, int max_c, int64_t *c, int64_t *h,
                       int64_t *w) {
  char shape[64];
  if (img->device.type != EM_CPU || img->dtype != EM_UINT8 || (img->ndim != 2 && img->ndim != 3))
    return em_error("%s: expected a uint8 CPU image of C x H x W or H x W, got %s %s on %s", op,
                    em_dtype_info[img->dtype].name, em_tensor_shape_str(img, shape, sizeof shape),
                    em_device_name(img->device));
  *c = img->ndim == 3 ? img->size[0] : 1;
  *h = img->size[img->ndim - 2];
  *w = img->size[img->ndim - 1];
  if (*c < 1 || *c > max_c || *h < 1 || *w < 1 || *h > 0x7fffffff || *w > 0x7fffffff)
    return em_error("%s: cannot write an image of size %s", op,
                    em_tensor_shape_str(img, shape, sizeof shape));
  return EM_OK;
}

/* buf (H x W x C, malloc'd) := img (C x H x W or H x W), any strides. */
static uint8_t *interleave(const em_tensor *img, int64_t c, int64_t h, int64_t w) {
  uint8_t *buf = malloc((size_t)(c * h * w)), *o = buf;
  if (!buf) return NULL;
  const uint8_t *p = em_tensor_data(img);
  int three = img->ndim == 3;
  int64_t sc = three ? img->stride[0] : 0, sh = img->stride[three], sw = img->stride[three + 1];
  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++)
      for (int64_t k = 0; k < c; k++) *o++ = p[k * sc + y * sh + x * sw];
  return buf;
}

int em_image_write_png(const char *path, const em_tensor *img) {
  int64_t c = 0, h = 0, w = 0;
  int st = image_shape("writePNG", img, 4, &c, &h, &w);
  if (st != EM_OK) return st;
  static const png_uint_32 formats[5] = {0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB,
                                         PNG_FORMAT_RGBA};
  uint8_t *buf = interleave(img, c, h, w);
  if (!buf) return em_error_nomem("writePNG", (unsigned long long)(c * h * w));
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  im.width = (png_uint_32)w;
  im.height = (png_uint_32)h;
  im.format = formats[c];
  if (!png_image_write_to_file(&im, path, 0, buf, 0, NULL))
    st = em_error("%s: PNG: %s", path, im.message);
  free(buf);
  return st;
}

/* --- PGM / PPM --- */

typedef struct pnm {
  const char *path;
  const uint8_t *s;
  size_t n, at;          /* bytes and the read position */
} pnm;

static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* *v := the next decimal number, skipping whitespace and # comments. */
static int pnm_number(pnm *p, const char *what, long *v) {
  for (;;) {
    while (p->at < p->n && is_space(p->s[p->at])) p->at++;
    if (p->at < p->n && p->s[p->at] == '#')
      while (p->at < p->n && p->s[p->at] != '\n') p->at++;
    else break;
  }
  if (p->at >= p->n)
    return em_error("%s: truncated: the file ends at byte %zu, expecting %s", p->path, p->at, what);
  size_t start = p->at;
  long x = 0;
  while (p->at < p->n && p->s[p->at] >= '0' && p->s[p->at] <= '9' && x <= 100000000)
    x = x * 10 + (p->s[p->at++] - '0');
  if (p->at == start || (p->at < p->n && !is_space(p->s[p->at]) && p->s[p->at] != '#'))
    return em_error("%s: byte %zu: expected %s, got '%c'", p->path, p->at, what,
                    p->at < p->n && p->s[p->at] >= 32 && p->s[p->at] < 127 ? p->s[p->at] : '?');
  *v = x;
  return EM_OK;
}

static int read_pnm(em_tensor *out, em_context *ctx, pnm *p) {
  int kind = p->s[1] - '0';                /* 2, 3: ascii; 5, 6: binary */
  int64_t c = kind == 3 || kind == 6 ? 3 : 1;
  long w, h, maxval;
  p->at = 2;
  int st = pnm_number(p, "the width", &w);
  if (st == EM_OK) st = pnm_number(p, "the height", &h);
  if (st == EM_OK) st = pnm_number(p, "the maximum value", &maxval);
  if (st != EM_OK) return st;
  if (w < 1 || h < 1 || w > 1000000 || h > 1000000 || (int64_t)w * h > (int64_t)1 << 32)
    return em_error("%s: byte %zu: unsupported image size %ld x %ld", p->path, p->at, w, h);
  if (maxval < 1 || maxval > 65535)
    return em_error("%s: byte %zu: maximum value %ld is outside 1..65535", p->path, p->at, maxval);
  int64_t size[3] = {c, h, w}, plane = (int64_t)h * w, n = c * plane;
  int wide = maxval > 255;
  st = em_tensor_empty(out, ctx, wide ? EM_INT32 : EM_UINT8, CPU, 3, size);
  if (st != EM_OK) return st;
  uint8_t *d8 = em_tensor_data(out);
  int32_t *d32 = em_tensor_data(out);
  int bytes = wide ? 2 : 1;
  if (kind >= 5) {
    size_t start = ++p->at;                /* one whitespace byte ends the header */
    size_t need = (size_t)n * (size_t)bytes, have = start <= p->n ? p->n - start : 0;
    if (have < need) {
      em_tensor_release(out);
      return em_error("%s: truncated: expected %zu bytes of pixels from byte %zu, the file has %zu",
                      p->path, need, start, have);
    }
    const uint8_t *s = p->s + start;
    for (int64_t i = 0; i < n; i++) {
      long v = wide ? (long)s[2 * i] << 8 | s[2 * i + 1] : s[i];
      if (v > maxval) {
        em_tensor_release(out);
        return em_error("%s: byte %zu: sample %ld exceeds the maximum value %ld", p->path,
                        start + (size_t)(i * bytes), v, maxval);
      }
      int64_t k = (i % c) * plane + i / c;
      if (wide) d32[k] = (int32_t)v;
      else d8[k] = (uint8_t)v;
    }
    return EM_OK;
  }
  for (int64_t i = 0; i < n; i++) {
    long v;
    size_t at = p->at;
    st = pnm_number(p, "a sample", &v);
    if (st == EM_OK && v > maxval)
      st = em_error("%s: byte %zu: sample %ld exceeds the maximum value %ld", p->path, at, v, maxval);
    if (st != EM_OK) {
      em_tensor_release(out);
      return st;
    }
    int64_t k = (i % c) * plane + i / c;
    if (wide) d32[k] = (int32_t)v;
    else d8[k] = (uint8_t)v;
  }
  return EM_OK;
}

int em_image_write_pnm(const char *path, const em_tensor *img) {
  int64_t c = 0, h = 0, w = 0;
  int st = image_shape("writePNM", img, 3, &c, &h, &w);
  if (st == EM_OK && c == 2) st = em_error("writePNM: 2-channel images have no PGM/PPM form; use PNG");
  if (st != EM_OK) return st;
  uint8_t *buf = interleave(img, c, h, w);
  if (!buf) return em_error_nomem("writePNM", (unsigned long long)(c * h * w));
  FILE *f = fopen(path, "wb");
  if (!f) st = em_error("%s: cannot open for writing: %s", path, strerror(errno));
  else {
    size_t n = (size_t)(c * h * w);
    int ok = fprintf(f, "P%c\n%lld %lld\n255\n", c == 3 ? '6' : '5', (long long)w, (long long)h) > 0 &&
             fwrite(buf, 1, n, f) == n;
    if (fclose(f) != 0 || !ok) st = em_error("%s: write error: %s", path, strerror(errno));
  }
  free(buf);
  return st;
}

/* --- dispatch --- */

int em_image_read(em_tensor *out, em_context *ctx, const char *path) {
  em_tensor bytes;
  em_tensor_init(&bytes, ctx, EM_UINT8, CPU);
  int st = em_file_read_bytes(&bytes, ctx, path);
  if (st != EM_OK) return st;
  const uint8_t *s = em_tensor_data(&bytes);
  size_t n = (size_t)em_tensor_numel(&bytes);
  if (n >= 8 && png_sig_cmp(s, 0, 8) == 0) {
    em_tensor_release(&bytes);           /* libpng reads the file itself */
    return read_png(out, ctx, path);
  }
  if (n >= 2 && s[0] == 'P' && (s[1] == '2' || s[1] == '3' || s[1] == '5' || s[1] == '6')) {
    pnm p = {path, s, n, 0};
    st = read_pnm(out, ctx, &p);
  } else if (n >= 2 && s[0] == 'P' && (s[1] == '1' || s[1] == '4')) {
    st = em_error("%s: P%c bitmaps are not supported (only P2, P3, P5, P6)", path, s[1]);
  } else {
    st = em_error("%s: not a PNG, PGM or PPM file (it starts with 0x%02x 0x%02x)", path,
                  n > 0 ? s[0] : 0, n > 1 ? s[1] : 0);
  }
  em_tensor_release(&bytes);
  return st;
}
