/* CPU copy with dtype conversion, and fill. Same-dtype runs are memcpy or a strided
 * move; conversions into float/double and between integers are typed loops; the rest
 * (into integers from floats, into bool, float16/bfloat16) go through the exact
 * scalar converters in dtype.c. */
#include <string.h>

#include "cpu.h"
#include "iter.h"
#include "parallel.h"

/* Typed conversion loop for one run: D and S are C types. */
#define CONVERT_RUN(D, S)                                                          \
  for (int64_t i = 0; i < n; i++)                                                  \
    *(D *)(d + i * sd) = (D) * (const S *)(s + i * ss)

static int plain_type(em_dtype dt) {
  return dt == EM_FLOAT32 || dt == EM_FLOAT64 || dt == EM_INT64 || dt == EM_INT32 ||
         dt == EM_INT16 || dt == EM_INT8 || dt == EM_UINT8;
}

/* Any plain type into bool: nonzero is true (nan is nonzero, as in C). */
#define TO_BOOL_RUN(S)                                                             \
  for (int64_t i = 0; i < n; i++)                                                  \
    *(uint8_t *)(d + i * sd) = *(const S *)(s + i * ss) != 0

static int to_bool(char *d, int64_t sd, const char *s, em_dtype st, int64_t ss, int64_t n) {
  switch (st) {
  case EM_FLOAT32: TO_BOOL_RUN(float); return 1;
  case EM_FLOAT64: TO_BOOL_RUN(double); return 1;
  case EM_INT64: TO_BOOL_RUN(int64_t); return 1;
  case EM_INT32: TO_BOOL_RUN(int32_t); return 1;
  case EM_INT16: TO_BOOL_RUN(int16_t); return 1;
  case EM_INT8: TO_BOOL_RUN(int8_t); return 1;
  case EM_UINT8: TO_BOOL_RUN(uint8_t); return 1;
  default: return 0;
  }
}

/* src type dispatch for a fixed destination type D */
#define FROM_ANY(D)                                                                \
  switch (st) {                                                                    \
  case EM_FLOAT32: CONVERT_RUN(D, float); break;                                   \
  case EM_FLOAT64: CONVERT_RUN(D, double); break;                                  \
  case EM_INT64: CONVERT_RUN(D, int64_t); break;                                   \
  case EM_INT32: CONVERT_RUN(D, int32_t); break;                                   \
  case EM_INT16: CONVERT_RUN(D, int16_t); break;                                   \
  case EM_INT8: CONVERT_RUN(D, int8_t); break;                                     \
  case EM_UINT8: CONVERT_RUN(D, uint8_t); break;                                   \
  default: return 0;                                                               \
  }                                                                                \
  return 1

/* Fast conversions; returns 0 when the pair needs the exact scalar path. */
static int convert_fast(char *d, em_dtype dt, int64_t sd, const char *s, em_dtype st,
                        int64_t ss, int64_t n) {
  if (st == EM_BOOL) st = EM_UINT8;          /* bool bytes are 0 or 1 */
  if (dt == EM_BOOL) return to_bool(d, sd, s, st, ss, n);
  if (!plain_type(dt) || !plain_type(st)) return 0;
  int src_float = st == EM_FLOAT32 || st == EM_FLOAT64;
  switch (dt) {
  case EM_FLOAT32: FROM_ANY(float);
  case EM_FLOAT64: FROM_ANY(double);
  default: break;
  }
  if (src_float) return 0;          /* float -> int must saturate: scalar path */
  switch (dt) {
  case EM_INT64: FROM_ANY(int64_t);
  case EM_INT32: FROM_ANY(int32_t);
  case EM_INT16: FROM_ANY(int16_t);
  case EM_INT8: FROM_ANY(int8_t);
  case EM_UINT8: FROM_ANY(uint8_t);
  default: return 0;
  }
}

static void half_runs(char *d, em_dtype dt, int64_t sd, const char *s, em_dtype st, int64_t ss,
                      int64_t n) {
  if (dt == EM_FLOAT32 && st == EM_FLOAT16) {
    for (int64_t i = 0; i < n; i++) *(float *)(d + i * sd) = em_half_to_float(*(const uint16_t *)(s + i * ss));
  } else if (dt == EM_FLOAT16 && st == EM_FLOAT32) {
    for (int64_t i = 0; i < n; i++) *(uint16_t *)(d + i * sd) = em_float_to_half(*(const float *)(s + i * ss));
  } else if (dt == EM_FLOAT32 && st == EM_BFLOAT16) {
    for (int64_t i = 0; i < n; i++) *(float *)(d + i * sd) = em_bf16_to_float(*(const uint16_t *)(s + i * ss));
  } else if (dt == EM_BFLOAT16 && st == EM_FLOAT32) {
    for (int64_t i = 0; i < n; i++) *(uint16_t *)(d + i * sd) = em_float_to_bf16(*(const float *)(s + i * ss));
  } else if (!em_dtype_info[dt].is_float && !em_dtype_info[st].is_float) {
    for (int64_t i = 0; i < n; i++) em_dtype_set_i64(dt, d + i * sd, em_dtype_get_i64(st, s + i * ss));
  } else {
    for (int64_t i = 0; i < n; i++) em_dtype_set(dt, d + i * sd, em_dtype_get(st, s + i * ss));
  }
}

static void copy_run(char *d, em_dtype dt, int64_t sd, const char *s, em_dtype st, int64_t ss,
                     int64_t n) {
  size_t es = em_dtype_info[dt].size;
  if (dt == st || (dt == EM_UINT8 && st == EM_BOOL)) {   /* bool bytes are 0 or 1 */
    if (sd == (int64_t)es && ss == (int64_t)es) { memmove(d, s, (size_t)n * es); return; }
    switch (es) {
    case 1: for (int64_t i = 0; i < n; i++) d[i * sd] = s[i * ss]; return;
    case 2: for (int64_t i = 0; i < n; i++) *(uint16_t *)(d + i * sd) = *(const uint16_t *)(s + i * ss); return;
    case 4: for (int64_t i = 0; i < n; i++) *(uint32_t *)(d + i * sd) = *(const uint32_t *)(s + i * ss); return;
    default: for (int64_t i = 0; i < n; i++) *(uint64_t *)(d + i * sd) = *(const uint64_t *)(s + i * ss); return;
    }
  }
  if (!convert_fast(d, dt, sd, s, st, ss, n)) half_runs(d, dt, sd, s, st, ss, n);
}

/* Do two views of memory overlap in a way that a forward copy could corrupt? */
static int overlaps(const em_tensor *a, const em_tensor *b) {
  if (!a->storage || a->storage != b->storage) return 0;
  return a->offset != b->offset || a->dtype != b->dtype || memcmp(a->stride, b->stride, sizeof a->stride);
}

static void copy_iter_run(const em_iter *it, int64_t r, em_dtype dt, em_dtype sdt) {
  char *p[EM_ITER_MAX];
  em_iter_run(it, r, p);
  copy_run(p[0], dt, it->inner_stride[0], p[1], sdt, it->inner_stride[1], it->inner);
}

int em_cpu_copy(em_tensor *dst, const em_tensor *src) {
  if (src->device.type != EM_CPU || dst->device.type != EM_CPU)
    return em_error("copy: the CPU backend cannot reach %s memory", em_device_name(src->device.type != EM_CPU ? src->device : dst->device));
  em_tensor tmp;
  int st;
  if (overlaps(dst, src)) {         /* copy through a temporary */
    em_tensor_init(&tmp, src->ctx, src->dtype, src->device);
    st = em_tensor_clone_as(&tmp, src, src->dtype);
    if (st == EM_OK) st = em_cpu_copy(dst, &tmp);
    em_tensor_release(&tmp);
    return st;
  }
  em_iter it;
  em_iter_init(&it, 2, (const em_tensor *[]){dst, src});
  em_dtype dt = dst->dtype, sdt = src->dtype;
  int64_t total = it.nruns * it.inner;
  if (it.nruns == 1 && total >= 4 * EM_PARALLEL_GRAIN) {
    /* one long run: split it into chunks */
    int64_t chunk = EM_PARALLEL_GRAIN, nchunks = (it.inner + chunk - 1) / chunk;
    char *p[EM_ITER_MAX];
    em_iter_run(&it, 0, p);
    #pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < nchunks; c++) {
      int64_t lo = c * chunk, n = it.inner - lo < chunk ? it.inner - lo : chunk;
      copy_run(p[0] + lo * it.inner_stride[0], dt, it.inner_stride[0],
               p[1] + lo * it.inner_stride[1], sdt, it.inner_stride[1], n);
    }
    return EM_OK;
  }
  /* a plain if, not an OpenMP if clause: small copies never enter the runtime */
  if (total >= 4 * EM_PARALLEL_GRAIN) {
    #pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < it.nruns; r++) copy_iter_run(&it, r, dt, sdt);
  } else {
    for (int64_t r = 0; r < it.nruns; r++) copy_iter_run(&it, r, dt, sdt);
  }
  return EM_OK;
}

/* Run r of it := the element pattern (es bytes). */
static void fill_iter_run(const em_iter *it, int64_t r, const unsigned char *pattern, size_t es) {
  char *p[EM_ITER_MAX];
  em_iter_run(it, r, p);
  char *d = p[0];
  int64_t sd = it->inner_stride[0], n = it->inner;
  if (es == 1 && sd == 1) { memset(d, pattern[0], (size_t)n); return; }
  switch (es) {
  case 2: { uint16_t v; memcpy(&v, pattern, 2); for (int64_t i = 0; i < n; i++) *(uint16_t *)(d + i * sd) = v; break; }
  case 4: { uint32_t v; memcpy(&v, pattern, 4); for (int64_t i = 0; i < n; i++) *(uint32_t *)(d + i * sd) = v; break; }
  case 8: { uint64_t v; memcpy(&v, pattern, 8); for (int64_t i = 0; i < n; i++) *(uint64_t *)(d + i * sd) = v; break; }
  default: for (int64_t i = 0; i < n; i++) d[i * sd] = (char)pattern[0]; break;
  }
}

int em_cpu_fill(em_tensor *dst, double value) {
  unsigned char pattern[8];
  em_dtype dt = dst->dtype;
  size_t es = em_dtype_info[dt].size;
  em_dtype_set(dt, pattern, value);
  em_iter it;
  em_iter_init(&it, 1, (const em_tensor *[]){dst});
  int64_t total = it.nruns * it.inner;
  if (total >= 4 * EM_PARALLEL_GRAIN && it.nruns > 1) {
    #pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < it.nruns; r++) fill_iter_run(&it, r, pattern, es);
  } else {
    for (int64_t r = 0; r < it.nruns; r++) fill_iter_run(&it, r, pattern, es);
  }
  return EM_OK;
}
