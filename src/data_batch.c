/* Batch assembly for data loaders, on host tensors: gathering rows by index into a
 * reused batch tensor with a dtype conversion and an affine map (uint8 pixels ->
 * float32 / 255 in one pass), one-hot labels, per-channel normalisation, and the
 * random crop and horizontal flip of image batches. */
#include <stdlib.h>
#include <string.h>

#include "data.h"

#define CPU ((em_device){EM_CPU, 0})
#define GATHER_CHUNK 256       /* elements converted through the double buffer at once */

static int check_host(const char *op, const em_tensor *t, const char *what) {
  if (t->device.type != EM_CPU)
    return em_error("%s: %s is on %s; data ops run on CPU tensors", op, what, em_device_name(t->device));
  return EM_OK;
}

/* --- element conversion: src (n, contiguous, st) -> dst (n, contiguous, dt) --- */

static void load_doubles(double *v, const void *src, em_dtype st, int64_t n) {
  switch (st) {
  case EM_UINT8: for (int64_t i = 0; i < n; i++) v[i] = ((const uint8_t *)src)[i]; break;
  case EM_FLOAT32: for (int64_t i = 0; i < n; i++) v[i] = ((const float *)src)[i]; break;
  case EM_FLOAT64: memcpy(v, src, (size_t)n * sizeof *v); break;
  case EM_INT64: for (int64_t i = 0; i < n; i++) v[i] = (double)((const int64_t *)src)[i]; break;
  case EM_INT32: for (int64_t i = 0; i < n; i++) v[i] = ((const int32_t *)src)[i]; break;
  default:
    for (int64_t i = 0; i < n; i++) v[i] = em_dtype_get(st, (const char *)src + i * (int64_t)em_dtype_info[st].size);
  }
}

static void store_doubles(void *dst, em_dtype dt, const double *v, int64_t n) {
  switch (dt) {
  case EM_FLOAT32: for (int64_t i = 0; i < n; i++) ((float *)dst)[i] = (float)v[i]; break;
  case EM_FLOAT64: memcpy(dst, v, (size_t)n * sizeof *v); break;
  case EM_INT64: for (int64_t i = 0; i < n; i++) ((int64_t *)dst)[i] = (int64_t)v[i]; break;
  default:
    for (int64_t i = 0; i < n; i++) em_dtype_set(dt, (char *)dst + i * (int64_t)em_dtype_info[dt].size, v[i]);
  }
}

/* dst := src * scale + shift, converting; the common uint8 -> float32 case directly. */
static void convert_row(void *dst, em_dtype dt, const void *src, em_dtype st, int64_t n,
                        double scale, double shift) {
  if (dt == st && scale == 1 && shift == 0) {
    memcpy(dst, src, (size_t)n * em_dtype_info[dt].size);
    return;
  }
  if (st == EM_UINT8 && dt == EM_FLOAT32) {
    float lut[256];                       /* exactly what the double path computes */
    for (int k = 0; k < 256; k++) lut[k] = (float)(k * scale + shift);
    for (int64_t i = 0; i < n; i++) ((float *)dst)[i] = lut[((const uint8_t *)src)[i]];
    return;
  }
  if (!em_dtype_info[dt].is_float && !em_dtype_info[st].is_float && scale == 1 &&
      shift == (double)(int64_t)shift) {  /* integers stay exact past 2^53 */
    size_t ss = em_dtype_info[st].size, ds = em_dtype_info[dt].size;
    for (int64_t i = 0; i < n; i++)
      em_dtype_set_i64(dt, (char *)dst + i * (int64_t)ds,
                       em_dtype_get_i64(st, (const char *)src + i * (int64_t)ss) + (int64_t)shift);
    return;
  }
  double v[GATHER_CHUNK];
  size_t ss = em_dtype_info[st].size, ds = em_dtype_info[dt].size;
  for (int64_t i = 0; i < n; i += GATHER_CHUNK) {
    int64_t m = n - i < GATHER_CHUNK ? n - i : GATHER_CHUNK;
    load_doubles(v, (const char *)src + i * (int64_t)ss, st, m);
    for (int64_t k = 0; k < m; k++) v[k] = v[k] * scale + shift;
    store_doubles((char *)dst + i * (int64_t)ds, dt, v, m);
  }
}

int em_data_gather(em_tensor *out, const em_tensor *src, const em_tensor *idx, double scale,
                   double shift) {
  const char *op = "gather";
  char a[64];
  int st = check_host(op, src, "the source");
  if (st == EM_OK) st = check_host(op, out, "the batch");
  if (st == EM_OK) st = check_host(op, idx, "the index");
  if (st != EM_OK) return st;
  if (src->ndim < 1)
    return em_error("%s: the source is empty", op);
  if (idx->dtype != EM_INT64 || idx->ndim != 1)
    return em_error("%s: the index must be a 1-D int64 tensor, got %s %s", op,
                    em_dtype_info[idx->dtype].name, em_tensor_shape_str(idx, a, sizeof a));
  int64_t n = idx->size[0], rows = src->size[0];
  const int64_t *ix = em_tensor_data(idx);
  for (int64_t j = 0; j < n; j++) {
    int64_t i = ix[j * idx->stride[0]];
    if (i < 0 || i >= rows)
      return em_error("%s: index %lld at position %lld is out of range 1..%lld", op,
                      (long long)(i + 1), (long long)(j + 1), (long long)rows);
  }
  int64_t size[EM_MAX_DIMS];
  memcpy(size, src->size, sizeof size);
  size[0] = n;
  st = em_tensor_resize(out, src->ndim, size);
  if (st != EM_OK) return st;
  if (!em_tensor_is_contiguous(out))
    return em_error("%s: the batch tensor must be contiguous", op);
  if (out->storage && src->storage && out->storage == src->storage)
    return em_error("%s: the batch tensor shares storage with the source", op);
  int64_t row = 1;
  for (int d = 1; d < src->ndim; d++) row *= src->size[d];
  if (n == 0 || row == 0) return EM_OK;
  /* packed: each row of the source is contiguous (converted in place); else each row
   * is first copied out */
  int64_t stride = 1, packed = 1;
  for (int d = src->ndim - 1; d >= 1; d--) {
    if (src->size[d] != 1 && src->stride[d] != stride) packed = 0;
    stride *= src->size[d];
  }
  size_t ss = em_dtype_info[src->dtype].size, ds = em_dtype_info[out->dtype].size;
  char *o = em_tensor_data(out);
  em_tensor s_row, tmp;
  em_tensor_init(&s_row, src->ctx, src->dtype, CPU);
  em_tensor_init(&tmp, src->ctx, src->dtype, CPU);
  for (int64_t j = 0; j < n && st == EM_OK; j++) {
    int64_t i = ix[j * idx->stride[0]];
    if (packed) {
      const char *s = (const char *)em_tensor_data(src) + i * src->stride[0] * (int64_t)ss;
      convert_row(o + j * row * (int64_t)ds, out->dtype, s, src->dtype, row, scale, shift);
      continue;
    }
    st = em_tensor_select(&s_row, src, 0, i);  /* ndim >= 2 here: 1-D rows are packed */
    if (st == EM_OK) st = em_tensor_clone_as(&tmp, &s_row, src->dtype);
    if (st == EM_OK)
      convert_row(o + j * row * (int64_t)ds, out->dtype, em_tensor_data(&tmp), src->dtype, row,
                  scale, shift);
  }
  em_tensor_release(&s_row);
  em_tensor_release(&tmp);
  return st;
}

int em_data_one_hot(em_tensor *out, const em_tensor *labels, int64_t k, int64_t base) {
  const char *op = "oneHot";
  char a[64];
  int st = check_host(op, labels, "the labels");
  if (st == EM_OK) st = check_host(op, out, "the output");
  if (st != EM_OK) return st;
  if (labels->ndim != 1 || em_dtype_info[labels->dtype].is_float)
    return em_error("%s: labels must be a 1-D integer tensor, got %s %s", op,
                    em_dtype_info[labels->dtype].name, em_tensor_shape_str(labels, a, sizeof a));
  if (k < 1) return em_error("%s: the number of classes must be positive, got %lld", op, (long long)k);
  int64_t n = labels->size[0], size[2] = {n, k};
  const char *p = em_tensor_data(labels);
  size_t ls = em_dtype_info[labels->dtype].size;
  for (int64_t j = 0; j < n; j++) {
    int64_t v = em_dtype_get_i64(labels->dtype, p + j * labels->stride[0] * (int64_t)ls);
    if (v < base || v >= base + k)
      return em_error("%s: label %lld at position %lld is out of range %lld..%lld", op,
                      (long long)v, (long long)(j + 1), (long long)base, (long long)(base + k - 1));
  }
  st = em_tensor_resize(out, 2, size);
  if (st == EM_OK && !em_tensor_is_contiguous(out)) st = em_error("%s: the output must be contiguous", op);
  if (st == EM_OK) st = em_tensor_fill(out, 0);
  if (st != EM_OK || n == 0) return st;
  char *o = em_tensor_data(out);
  size_t os = em_dtype_info[out->dtype].size;
  for (int64_t j = 0; j < n; j++) {
    int64_t v = em_dtype_get_i64(labels->dtype, p + j * labels->stride[0] * (int64_t)ls);
    em_dtype_set(out->dtype, o + (j * k + v - base) * (int64_t)os, 1.0);
  }
  return EM_OK;
}

/* EM_OK when x is a contiguous host tensor of at least min_dim dims (and float when
 * want_float). */
static int check_batch(const char *op, const em_tensor *x, int min_dim, int want_float) {
  char a[64];
  int st = check_host(op, x, "the batch");
  if (st != EM_OK) return st;
  if (x->ndim < min_dim || !em_tensor_is_contiguous(x) || (want_float && !em_dtype_info[x->dtype].is_float))
    return em_error("%s: expected a contiguous %s batch of at least %d dims, got %s %s%s", op,
                    want_float ? "floating-point" : "", min_dim, em_dtype_info[x->dtype].name,
                    em_tensor_shape_str(x, a, sizeof a), em_tensor_is_contiguous(x) ? "" : " (strided)");
  return EM_OK;
}

int em_data_normalize(em_tensor *x, int n, const double *mean, const double *std) {
  const char *op = "normalize";
  int st = check_batch(op, x, 2, 1);
  if (st != EM_OK) return st;
  if (n != 1 && n != x->size[1])
    return em_error("%s: %d means and stds for %lld channels", op, n, (long long)x->size[1]);
  for (int c = 0; c < n; c++)
    if (!(std[c] != 0)) return em_error("%s: std %d is %g", op, c + 1, std[c]);
  int64_t inner = 1, nc = x->size[1], nb = x->size[0];
  for (int d = 2; d < x->ndim; d++) inner *= x->size[d];
  double v[GATHER_CHUNK];
  char *p = em_tensor_data(x);
  size_t es = em_dtype_info[x->dtype].size;
  for (int64_t b = 0; b < nb; b++)
    for (int64_t c = 0; c < nc; c++) {
      double m = mean[n == 1 ? 0 : c], s = 1.0 / std[n == 1 ? 0 : c];
      char *q = p + (b * nc + c) * inner * (int64_t)es;
      if (x->dtype == EM_FLOAT32) {          /* the common case, without the round trip */
        float *f = (float *)q, fm = (float)m, fs = (float)s;
        for (int64_t i = 0; i < inner; i++) f[i] = (f[i] - fm) * fs;
        continue;
      }
      for (int64_t i = 0; i < inner; i += GATHER_CHUNK) {
        int64_t k = inner - i < GATHER_CHUNK ? inner - i : GATHER_CHUNK;
        load_doubles(v, q + i * (int64_t)es, x->dtype, k);
        for (int64_t e = 0; e < k; e++) v[e] = (v[e] - m) * s;
        store_doubles(q + i * (int64_t)es, x->dtype, v, k);
      }
    }
  return EM_OK;
}

int em_data_random_crop(em_tensor *x, int64_t pad, em_rng *r) {
  const char *op = "randomCrop";
  int st = check_batch(op, x, 4, 0);
  if (st != EM_OK) return st;
  if (x->ndim != 4) return em_error("%s: expected an N x C x H x W batch, got %d dims", op, x->ndim);
  if (pad < 0) return em_error("%s: padding must be non-negative, got %lld", op, (long long)pad);
  int64_t nb = x->size[0], nc = x->size[1], h = x->size[2], w = x->size[3];
  size_t es = em_dtype_info[x->dtype].size, sample = (size_t)(nc * h * w) * es;
  if (pad == 0 || sample == 0) return EM_OK;
  char *tmp = malloc(sample), *p = em_tensor_data(x);
  if (!tmp) return em_error_nomem(op, sample);
  for (int64_t b = 0; b < nb; b++) {
    int64_t dy = (int64_t)em_rng_below(r, (uint64_t)(2 * pad + 1)) - pad;
    int64_t dx = (int64_t)em_rng_below(r, (uint64_t)(2 * pad + 1)) - pad;
    char *s = p + (size_t)b * sample;
    memcpy(tmp, s, sample);
    memset(s, 0, sample);                    /* all-zero bytes are 0 in every dtype */
    int64_t x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? w - dx : w;   /* output columns kept */
    if (x1 <= x0) continue;
    for (int64_t c = 0; c < nc; c++)
      for (int64_t y = 0; y < h; y++) {
        int64_t sy = y + dy;
        if (sy < 0 || sy >= h) continue;
        memcpy(s + ((c * h + y) * w + x0) * (int64_t)es, tmp + ((c * h + sy) * w + x0 + dx) * (int64_t)es,
               (size_t)(x1 - x0) * es);
      }
  }
  free(tmp);
  return EM_OK;
}

int em_data_random_hflip(em_tensor *x, double p, em_rng *r) {
  const char *op = "randomFlip";
  int st = check_batch(op, x, 2, 0);
  if (st != EM_OK) return st;
  if (!(p >= 0 && p <= 1)) return em_error("%s: probability %g is outside [0, 1]", op, p);
  int64_t nb = x->size[0], w = x->size[x->ndim - 1], lines = em_tensor_numel(x) / (nb ? nb : 1) / (w ? w : 1);
  size_t es = em_dtype_info[x->dtype].size;
  char *d = em_tensor_data(x), t[16];
  for (int64_t b = 0; b < nb; b++) {
    if (!(em_rng_uniform(r) < p)) continue;
    for (int64_t l = 0; l < lines; l++) {
      char *row = d + ((b * lines + l) * w) * (int64_t)es;
      if (es == 4) {                          /* float32, int32: a typed swap */
        uint32_t *r4 = (uint32_t *)row;
        for (int64_t i = 0, j = w - 1; i < j; i++, j--) {
          uint32_t v = r4[i];
          r4[i] = r4[j];
          r4[j] = v;
        }
        continue;
      }
      for (int64_t i = 0, j = w - 1; i < j; i++, j--) {
        memcpy(t, row + i * (int64_t)es, es);
        memcpy(row + i * (int64_t)es, row + j * (int64_t)es, es);
        memcpy(row + j * (int64_t)es, t, es);
      }
    }
  }
  return EM_OK;
}
