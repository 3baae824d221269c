/* CPU attention family: fused scaled-dot-product attention (the products through
 * OpenBLAS's cblas, or em_cpu_gemm_bf16 in bfloat16 precision, one single-threaded call
 * per (batch, head) with the heads spread over the OpenMP pool; the masked softmax in
 * between, always in the data's dtype), GELU and dropout masks.
 * Kernels are written once with a constant f64 flag and inlined into one copy per dtype.
 *
 * Legend: B batch, NH heads, Tq queries, Tk keys, HS head size (HSv for v), BH = B*NH.
 * A (b, h) slice of a 4-D view (B, NH, T, D) is a row-major T x D matrix with leading
 * dim stride[2] (the last stride is 1, ensured by attention.c). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "cpu.h"
#include "parallel.h"
#include "vmath.h"

#define INLINE static inline __attribute__((always_inline))
/* Heads are spread over threads when a call does at least this many multiply-adds. */
#define ATTN_PARALLEL_GRAIN (1 << 16)
#define SQRT_2_OVER_PI 0.79788456080286535588
#define INV_SQRT_2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794
#define GELU_TANH_C 0.044715

INLINE double ld(const void *p, int64_t i, int f64) {
  return f64 ? ((const double *)p)[i] : ((const float *)p)[i];
}

INLINE void st(void *p, int64_t i, double v, int f64) {
  if (f64) ((double *)p)[i] = v;
  else ((float *)p)[i] = (float)v;
}


/* --- one (b, h) matrix of a 4-D view --- */

typedef struct mat {
  char *data;   /* element (0, 0) */
  blasint ld;   /* leading dim (row stride) */
} mat;

static mat slice(const em_tensor *t, int64_t b, int64_t h) {
  size_t es = em_dtype_info[t->dtype].size;
  int64_t off = b * t->stride[0] + h * t->stride[1];
  int64_t ld = t->size[2] > 1 ? t->stride[2] : t->size[3];
  return (mat){(char *)em_tensor_data(t) + off * (int64_t)es, (blasint)(ld > 1 ? ld : 1)};
}

/* c (m, n) := alpha * op(a) op(b) + beta * c, row-major, single-threaded inside a
 * parallel region (OpenBLAS's OpenMP build does not nest); float32 read as bfloat16
 * when bf16. Sets *failed when bf16's panels cannot be allocated. */
INLINE void gemm(int f64, int bf16, int *failed, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb,
                 blasint m, blasint n, blasint k, double alpha, mat a, mat b, double beta, mat c) {
  if (bf16) {
    if (em_cpu_gemm_bf16(ta == CblasTrans, tb == CblasTrans, m, n, k, (float)alpha,
                         (const float *)a.data, a.ld, (const float *)b.data, b.ld, (float)beta,
                         (float *)c.data, c.ld) != EM_OK) {
      #pragma omp atomic write
      *failed = 1;
    }
    return;
  }
  if (f64)
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, (const double *)a.data, a.ld,
                (const double *)b.data, b.ld, beta, (double *)c.data, c.ld);
  else
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, (float)alpha, (const float *)a.data, a.ld,
                (const float *)b.data, b.ld, (float)beta, (float *)c.data, c.ld);
}

/* Per-thread scratch for the dropped weights A' = A * mask (Tq, Tk) of the bfloat16
 * products with dropout (float32 only), one slice per thread of the pool; NULL when not
 * needed. Freed by the caller. */
static float *dropped_scratch(int need, int64_t Tq, int64_t Tk) {
  if (!need) return NULL;
  return malloc((size_t)omp_get_max_threads() * (size_t)(Tq * Tk) * sizeof(float));
}

/* dst (n) := a * m, the dropped weights of one head */
static void drop_weights(float *restrict dst, const float *a, const float *m, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = a[i] * m[i];
}

/* The status of a parallel loop over heads (only memory can fail): recorded again on
 * this thread, where the caller reads it. */
static int heads_status(int failed) {
  if (!failed) return EM_OK;
  em_error("attention: out of memory for the bfloat16 panels");
  return EM_ENOMEM;
}

/* --- scaled-dot-product attention --- */

/* Row i of s (Tk) := the masked softmax of s in place; keys j > i (causal) or with
 * pad[j] set get 0, and a row with no key left is all 0. Float32 without padding (the
 * common case) has its own loops, which vectorize (e^x from vmath.h). */
INLINE void softmax_row(int f64, void *s, int64_t Tk, int64_t jend, const uint8_t *pad) {
  if (!f64 && !pad) {
    float *r = s, mx = -INFINITY, sum = 0;
    #pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < jend; j++) mx = r[j] > mx ? r[j] : mx;   /* skips NaN, as fmax */
    if (mx == -INFINITY) {
      memset(r, 0, (size_t)Tk * sizeof *r);
      return;
    }
    #pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < jend; j++) {
      r[j] = em_exp_f32(r[j] - mx);
      sum += r[j];
    }
    float inv = 1.0f / sum;
    #pragma omp simd
    for (int64_t j = 0; j < jend; j++) r[j] *= inv;
    if (jend < Tk) memset(r + jend, 0, (size_t)(Tk - jend) * sizeof *r);
    return;
  }
  double mx = -INFINITY;
  for (int64_t j = 0; j < jend; j++)
    if (!pad || !pad[j]) {
      double v = ld(s, j, f64);
      mx = v > mx ? v : mx;   /* fmax without the libm call (a NaN is skipped, as fmax) */
    }
  if (mx == -INFINITY) {                       /* every key masked: a zero row */
    for (int64_t j = 0; j < Tk; j++) st(s, j, 0, f64);
    return;
  }
  double sum = 0;
  if (f64) {
    double *r = s;
    for (int64_t j = 0; j < jend; j++) {
      double e = (pad && pad[j]) ? 0 : exp(r[j] - mx);
      r[j] = e;
      sum += e;
    }
    for (int64_t j = 0; j < jend; j++) r[j] /= sum;
  } else {
    float *r = s, fmx = (float)mx, fsum = 0;
    for (int64_t j = 0; j < jend; j++) {
      float e = pad[j] ? 0.0f : em_exp_f32(r[j] - fmx);
      r[j] = e;
      fsum += e;
    }
    float inv = 1.0f / fsum;
    for (int64_t j = 0; j < jend; j++) r[j] *= inv;
  }
  for (int64_t j = jend; j < Tk; j++) st(s, j, 0, f64);
}

/* The last key query i may see, plus one. */
static int64_t key_end(int64_t i, int64_t Tk, int causal) {
  return causal ? (i + 1 < Tk ? i + 1 : Tk) : Tk;
}

INLINE int sdpa_forward_t(int f64, em_tensor *y, em_tensor *att, const em_tensor *q,
                          const em_tensor *k, const em_tensor *v, const em_tensor *pad,
                          const em_tensor *dmask, const em_attention_params *p) {
  int bf16 = p->precision == EM_PRECISION_BF16, failed = 0;
  int64_t B = q->size[0], NH = q->size[1], Tq = q->size[2], HS = q->size[3];
  int64_t Tk = k->size[2], HSv = v->size[3], BH = B * NH;
  size_t es = f64 ? sizeof(double) : sizeof(float);
  const uint8_t *padd = pad ? em_tensor_data(pad) : NULL;
  const char *dm = dmask ? em_tensor_data(dmask) : NULL;
  char *ad = em_tensor_data(att);
  int64_t flops = BH * Tq * Tk * (HS + HSv);
  float *scratch = dropped_scratch(bf16 && dm, Tq, Tk);
  if (bf16 && dm && !scratch)
    return em_error_nomem("attention", (unsigned long long)(Tq * Tk * 4));
  #pragma omp parallel for schedule(static) if (BH > 1 && flops >= ATTN_PARALLEL_GRAIN)
  for (int64_t bh = 0; bh < BH; bh++) {
    int64_t b = bh / NH, h = bh % NH;
    mat qm = slice(q, b, h), km = slice(k, b, h), vm = slice(v, b, h), ym = slice(y, b, h);
    mat am = {ad + bh * Tq * Tk * es, (blasint)Tk};
    const uint8_t *prow = padd ? padd + b * Tk : NULL;
    gemm(f64, bf16, &failed, CblasNoTrans, CblasTrans, (blasint)Tq, (blasint)Tk, (blasint)HS,
         p->scale, qm, km, 0, am);
    for (int64_t i = 0; i < Tq; i++)
      softmax_row(f64, am.data + i * Tk * es, Tk, key_end(i, Tk, p->causal), prow);
    if (!dm) {
      gemm(f64, bf16, &failed, CblasNoTrans, CblasNoTrans, (blasint)Tq, (blasint)HSv,
           (blasint)Tk, 1, am, vm, 0, ym);
      continue;
    }
    /* with dropout: y_i = sum_j a_ij d_ij v_j, att keeps the undropped weights */
    const char *dbh = dm + bh * Tq * Tk * es;
    if (bf16) {                           /* Y = A' V, A' in this thread's scratch */
      float *aw = scratch + (int64_t)omp_get_thread_num() * Tq * Tk;
      drop_weights(aw, (const float *)am.data, (const float *)dbh, Tq * Tk);
      gemm(f64, bf16, &failed, CblasNoTrans, CblasNoTrans, (blasint)Tq, (blasint)HSv,
           (blasint)Tk, 1, (mat){(char *)aw, (blasint)Tk}, vm, 0, ym);
      continue;
    }
    for (int64_t i = 0; i < Tq; i++) {
      char *yrow = ym.data + i * ym.ld * es;
      for (int64_t c = 0; c < HSv; c++) st(yrow, c, 0, f64);
      for (int64_t j = 0; j < Tk; j++) {
        double w = ld(am.data, i * Tk + j, f64) * ld(dbh, i * Tk + j, f64);
        if (w == 0) continue;
        const char *vrow = vm.data + j * vm.ld * es;
        for (int64_t c = 0; c < HSv; c++) st(yrow, c, ld(yrow, c, f64) + w * ld(vrow, c, f64), f64);
      }
    }
  }
  free(scratch);
  return heads_status(failed);
}

static int cpu_sdpa_forward(em_tensor *y, em_tensor *att, const em_tensor *q, const em_tensor *k,
                            const em_tensor *v, const em_tensor *pad, const em_tensor *dmask,
                            const em_attention_params *p) {
  if (q->dtype == EM_FLOAT64) return sdpa_forward_t(1, y, att, q, k, v, pad, dmask, p);
  return sdpa_forward_t(0, y, att, q, k, v, pad, dmask, p);
}

/* dS = A * (dA - rowsum(A * dA)) * scale, in place over dA (Tq, Tk); with dropout dA
 * is first multiplied by the mask. */
INLINE void softmax_grad(int f64, char *da, const char *a, const char *dm, int64_t Tq,
                         int64_t Tk, double scale) {
  for (int64_t i = 0; i < Tq; i++) {
    int64_t o = i * Tk;
    if (dm)
      for (int64_t j = 0; j < Tk; j++) st(da, o + j, ld(da, o + j, f64) * ld(dm, o + j, f64), f64);
    if (!f64) {   /* float32 in float arithmetic, so the loops vectorize */
      float *g = (float *)da + o, fdot = 0, fs = (float)scale;
      const float *ar = (const float *)a + o;
      #pragma omp simd reduction(+ : fdot)
      for (int64_t j = 0; j < Tk; j++) fdot += ar[j] * g[j];
      #pragma omp simd
      for (int64_t j = 0; j < Tk; j++) g[j] = fs * ar[j] * (g[j] - fdot);
      continue;
    }
    double dot = 0;
    for (int64_t j = 0; j < Tk; j++) dot += ld(a, o + j, f64) * ld(da, o + j, f64);
    for (int64_t j = 0; j < Tk; j++)
      st(da, o + j, scale * ld(a, o + j, f64) * (ld(da, o + j, f64) - dot), f64);
  }
}

INLINE int sdpa_backward_t(int f64, em_tensor *gq, em_tensor *gk, em_tensor *gv,
                           const em_tensor *gy, const em_tensor *q, const em_tensor *k,
                           const em_tensor *v, const em_tensor *att, const em_tensor *dmask,
                           const em_attention_params *p, em_tensor *work) {
  int bf16 = p->precision == EM_PRECISION_BF16, failed = 0;
  int64_t B = q->size[0], NH = q->size[1], Tq = q->size[2], HS = q->size[3];
  int64_t Tk = k->size[2], HSv = v->size[3], BH = B * NH;
  size_t es = f64 ? sizeof(double) : sizeof(float);
  const char *ad = em_tensor_data(att), *dm = dmask ? em_tensor_data(dmask) : NULL;
  char *wd = em_tensor_data(work);
  int64_t flops = 2 * BH * Tq * Tk * (HS + HSv);
  float *scratch = dropped_scratch(bf16 && dm, Tq, Tk);
  if (bf16 && dm && !scratch)
    return em_error_nomem("attention backward", (unsigned long long)(Tq * Tk * 4));
  #pragma omp parallel for schedule(static) if (BH > 1 && flops >= ATTN_PARALLEL_GRAIN)
  for (int64_t bh = 0; bh < BH; bh++) {
    int64_t b = bh / NH, h = bh % NH;
    mat qm = slice(q, b, h), km = slice(k, b, h), vm = slice(v, b, h), gym = slice(gy, b, h);
    mat gqm = slice(gq, b, h), gkm = slice(gk, b, h), gvm = slice(gv, b, h);
    mat am = {(char *)ad + bh * Tq * Tk * es, (blasint)Tk};
    mat wm = {wd + bh * Tq * Tk * es, (blasint)Tk};
    const char *dbh = dm ? dm + bh * Tq * Tk * es : NULL;
    /* dA' = gY V^T */
    gemm(f64, bf16, &failed, CblasNoTrans, CblasTrans, (blasint)Tq, (blasint)Tk, (blasint)HSv, 1,
         gym, vm, 0, wm);
    /* gV = A'^T gY */
    if (!dbh) {
      gemm(f64, bf16, &failed, CblasTrans, CblasNoTrans, (blasint)Tk, (blasint)HSv, (blasint)Tq,
           1, am, gym, 0, gvm);
    } else if (bf16) {                    /* gV = A'^T gY, A' in this thread's scratch */
      float *aw = scratch + (int64_t)omp_get_thread_num() * Tq * Tk;
      drop_weights(aw, (const float *)am.data, (const float *)dbh, Tq * Tk);
      gemm(f64, bf16, &failed, CblasTrans, CblasNoTrans, (blasint)Tk, (blasint)HSv, (blasint)Tq,
           1, (mat){(char *)aw, (blasint)Tk}, gym, 0, gvm);
    } else {
      for (int64_t j = 0; j < Tk; j++)
        for (int64_t c = 0; c < HSv; c++) st(gvm.data + j * gvm.ld * es, c, 0, f64);
      for (int64_t i = 0; i < Tq; i++) {
        const char *gyrow = gym.data + i * gym.ld * es;
        for (int64_t j = 0; j < Tk; j++) {
          double w = ld(am.data, i * Tk + j, f64) * ld(dbh, i * Tk + j, f64);
          if (w == 0) continue;
          char *gvrow = gvm.data + j * gvm.ld * es;
          for (int64_t c = 0; c < HSv; c++)
            st(gvrow, c, ld(gvrow, c, f64) + w * ld(gyrow, c, f64), f64);
        }
      }
    }
    softmax_grad(f64, wm.data, am.data, dbh, Tq, Tk, p->scale);
    /* gQ = dS K, gK = dS^T Q */
    gemm(f64, bf16, &failed, CblasNoTrans, CblasNoTrans, (blasint)Tq, (blasint)HS, (blasint)Tk,
         1, wm, km, 0, gqm);
    gemm(f64, bf16, &failed, CblasTrans, CblasNoTrans, (blasint)Tk, (blasint)HS, (blasint)Tq, 1,
         wm, qm, 0, gkm);
  }
  free(scratch);
  return heads_status(failed);
}

static int cpu_sdpa_backward(em_tensor *gq, em_tensor *gk, em_tensor *gv, const em_tensor *gy,
                             const em_tensor *q, const em_tensor *k, const em_tensor *v,
                             const em_tensor *att, const em_tensor *dmask,
                             const em_attention_params *p, em_tensor *work) {
  if (q->dtype == EM_FLOAT64)
    return sdpa_backward_t(1, gq, gk, gv, gy, q, k, v, att, dmask, p, work);
  return sdpa_backward_t(0, gq, gk, gv, gy, q, k, v, att, dmask, p, work);
}

/* --- GELU ---
 * float64 uses libm's erf and tanh. float32 uses vectorisable float code: Phi(x) =
 * erfc(-x/sqrt 2) / 2 with Numerical Recipes' erfc (relative error < 1.2e-7 everywhere,
 * so the negative tail keeps its precision) and vmath.h's e^x (relative error ~2e-7);
 * tanh(u) = 1 - 2 / (exp(2u) + 1). */

/* if_neg when v's sign bit is set, else if_pos (a bitwise blend, no branch) */
INLINE float select_neg(float v, float if_neg, float if_pos) {
  int32_t m, a, b;
  memcpy(&m, &v, sizeof m);
  memcpy(&a, &if_neg, sizeof a);
  memcpy(&b, &if_pos, sizeof b);
  m >>= 31;
  int32_t r = (a & m) | (b & ~m);
  float f;
  memcpy(&f, &r, sizeof f);
  return f;
}

/* Phi(v), the standard normal CDF, from erfc(|v|/sqrt 2) = t exp(-z^2 + P(t)),
 * t = 1 / (1 + z/2) (NR's erfcc), as one e^x. */
INLINE float normal_cdf_f(float v) {
  float z = fabsf(v) * (float)INV_SQRT_2;
  float t = 1.0f / (1.0f + 0.5f * z);
  float poly = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
               t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f +
               t * (-0.82215223f + t * 0.17087277f))))))));
  float h = 0.5f * t * em_exp_f32(poly - 0.5f * v * v);   /* Phi(-|v|); z^2 = v^2/2 */
  return select_neg(v, h, 1.0f - h);
}

INLINE float tanh_f(float u) { return 1.0f - 2.0f / (em_exp_f32(2.0f * u) + 1.0f); }

/* gelu(v) for float32 */
INLINE float gelu_f(float v, em_gelu_mode mode) {
  const float k0 = (float)SQRT_2_OVER_PI, k1 = (float)GELU_TANH_C;
  if (mode == EM_GELU_TANH) return 0.5f * v * (1.0f + tanh_f(k0 * (v + k1 * v * v * v)));
  return v * normal_cdf_f(v);
}

/* gelu'(v) = Phi(v) + v phi(v) for float32 */
INLINE float gelu_grad_f(float v, em_gelu_mode mode) {
  const float k0 = (float)SQRT_2_OVER_PI, k1 = (float)GELU_TANH_C;
  if (mode == EM_GELU_TANH) {
    float t = tanh_f(k0 * (v + k1 * v * v * v));
    return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * k0 * (1.0f + 3.0f * k1 * v * v);
  }
  float e = em_exp_f32(-0.5f * v * v);
  return normal_cdf_f(v) + v * (float)INV_SQRT_2PI * e;
}

/* The float32 loops, in blocks spread over the threads; each block's loop vectorises. */
#define GELU_BLOCK 4096

INLINE void gelu_f32_block(float *restrict y, float *restrict gx, const float *restrict gy,
                           const float *restrict x, int64_t n, em_gelu_mode mode) {
  if (y)
    for (int64_t i = 0; i < n; i++) y[i] = gelu_f(x[i], mode);
  else
    for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * gelu_grad_f(x[i], mode);
}

typedef struct gelu_job {
  float *y, *gx;
  const float *gy, *x;
  int64_t n;
  em_gelu_mode mode;
} gelu_job;

/* Block b of GELU_BLOCK elements of a gelu_job (the mode a constant in each call, so
 * each copy of the block loop vectorizes). */
static void gelu_item(void *ctx, int64_t b) {
  const gelu_job *j = ctx;
  int64_t o = b * GELU_BLOCK, len = j->n - o < GELU_BLOCK ? j->n - o : GELU_BLOCK;
  float *y = j->y ? j->y + o : NULL, *gx = j->gx ? j->gx + o : NULL;
  const float *gy = j->gy ? j->gy + o : NULL;
  if (j->mode == EM_GELU_TANH) gelu_f32_block(y, gx, gy, j->x + o, len, EM_GELU_TANH);
  else gelu_f32_block(y, gx, gy, j->x + o, len, EM_GELU_ERF);
}

/* y = gelu(x) when y is given, else gx = gy * gelu'(x). */
static void gelu_f32(float *y, float *gx, const float *gy, const float *x, int64_t n,
                     em_gelu_mode mode) {
  gelu_job j = {y, gx, gy, x, n, mode};
  em_parallel_items((n + GELU_BLOCK - 1) / GELU_BLOCK, n >= EM_PARALLEL_GRAIN / 8, gelu_item, &j);
}

static double gelu(double x, em_gelu_mode mode) {
  if (mode == EM_GELU_TANH)
    return 0.5 * x * (1 + tanh(SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x)));
  return 0.5 * x * (1 + erf(x * INV_SQRT_2));
}

static double gelu_grad(double x, em_gelu_mode mode) {
  if (mode == EM_GELU_TANH) {
    double t = tanh(SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * x * x);
  }
  return 0.5 * (1 + erf(x * INV_SQRT_2)) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
}

static int cpu_gelu_forward(em_tensor *y, const em_tensor *x, em_gelu_mode mode) {
  int64_t n = em_tensor_numel(x);
  if (x->dtype == EM_FLOAT32) {
    gelu_f32(em_tensor_data(y), NULL, NULL, em_tensor_data(x), n, mode);
    return EM_OK;
  }
  const double *xd = em_tensor_data(x);
  double *yd = em_tensor_data(y);
  if (n >= EM_PARALLEL_GRAIN / 8) {   /* a plain if: small tensors skip OpenMP (parallel.h) */
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) yd[i] = gelu(xd[i], mode);
  } else {
    for (int64_t i = 0; i < n; i++) yd[i] = gelu(xd[i], mode);
  }
  return EM_OK;
}

static int cpu_gelu_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *x,
                             em_gelu_mode mode) {
  int64_t n = em_tensor_numel(x);
  if (x->dtype == EM_FLOAT32) {
    gelu_f32(NULL, em_tensor_data(gx), em_tensor_data(gy), em_tensor_data(x), n, mode);
    return EM_OK;
  }
  const double *xd = em_tensor_data(x), *gyd = em_tensor_data(gy);
  double *gxd = em_tensor_data(gx);
  if (n >= EM_PARALLEL_GRAIN / 8) {
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) gxd[i] = gyd[i] * gelu_grad(xd[i], mode);
  } else {
    for (int64_t i = 0; i < n; i++) gxd[i] = gyd[i] * gelu_grad(xd[i], mode);
  }
  return EM_OK;
}

/* --- dropout --- */

/* One 32-bit draw per element, in order: kept when it falls below (1-p) * 2^32. */
INLINE void dropout_t(int f64, em_tensor *y, em_tensor *mask, const em_tensor *x, double p,
                      em_rng *r) {
  int64_t n = em_tensor_numel(mask);
  uint64_t keep_below = (uint64_t)((1 - p) * 4294967296.0);
  double scale = p < 1 ? 1 / (1 - p) : 0;
  void *md = em_tensor_data(mask);
  for (int64_t i = 0; i < n; i++) st(md, i, (uint64_t)em_rng_u32(r) < keep_below ? scale : 0, f64);
  if (!x) return;
  const void *xd = em_tensor_data(x);
  void *yd = em_tensor_data(y);
  for (int64_t i = 0; i < n; i++) st(yd, i, ld(xd, i, f64) * ld(md, i, f64), f64);
}

static int cpu_dropout_forward(em_tensor *y, em_tensor *mask, const em_tensor *x, double p,
                               em_rng *r) {
  if (mask->dtype == EM_FLOAT64) dropout_t(1, y, mask, x, p, r);
  else dropout_t(0, y, mask, x, p, r);
  return EM_OK;
}

const struct em_attention_backend em_cpu_attention = {
  .sdpa_forward = cpu_sdpa_forward,
  .sdpa_backward = cpu_sdpa_backward,
  .gelu_forward = cpu_gelu_forward,
  .gelu_backward = cpu_gelu_backward,
  .dropout_forward = cpu_dropout_forward,
};
