/* CPU softmax / log-softmax along a dim, batch norm and layer norm, forward and
 * backward. Sums accumulate in double for both dtypes. Kernels are written once with
 * a constant f64 flag and inlined into one copy per dtype.
 *
 * Legend: softmax views x as (O, D, I): O outer rows, D the softmax dim, I inner.
 * Batch norm views x as (N, C, S), S the spatial positions; M = N*S values per channel.
 * Layer norm views x as (M, D): M rows normalised over D values each.
 * Float32 over a contiguous last dim (softmax with I = 1, layer norm) has its own loops
 * in float arithmetic (row sums in SIMD lanes, e^x from vmath.h) that vectorize; the
 * general kernels below convert every element to double and call libm, which made
 * W4's log-softmax and layer norms ~10x slower than these. */
#include <math.h>

#include "nn.h"
#include "parallel.h"
#include "vmath.h"

#define INLINE static inline __attribute__((always_inline))

INLINE double ld(const void *p, int64_t i, int f64) {
  return f64 ? ((const double *)p)[i] : ((const float *)p)[i];
}

INLINE void st(void *p, int64_t i, double v, int f64) {
  if (f64) ((double *)p)[i] = v;
  else ((float *)p)[i] = (float)v;
}

/* an optional vector's element, or dflt when absent */
INLINE double opt(const void *p, int64_t i, double dflt, int f64) {
  return p ? ld(p, i, f64) : dflt;
}

static void *data_or_null(const em_tensor *t) { return t ? em_tensor_data(t) : NULL; }

/* --- softmax --- */

/* x as (O, D, I) for a softmax over `dim` */
static void split_dim(const em_tensor *x, int dim, int64_t *O, int64_t *D, int64_t *I) {
  *O = 1;
  *I = 1;
  for (int i = 0; i < dim; i++) *O *= x->size[i];
  for (int i = dim + 1; i < x->ndim; i++) *I *= x->size[i];
  *D = x->size[dim];
}

INLINE void softmax_fwd_t(int f64, em_tensor *y, const em_tensor *x, int dim, int take_log) {
  int64_t O, D, I;
  split_dim(x, dim, &O, &D, &I);
  const void *xd = em_tensor_data(x);
  void *yd = em_tensor_data(y);
  #pragma omp parallel for collapse(2) schedule(static) if (O * D * I >= EM_PARALLEL_GRAIN)
  for (int64_t o = 0; o < O; o++)
    for (int64_t i = 0; i < I; i++) {
      int64_t base = o * D * I + i;
      double mx = -INFINITY, sum = 0;
      for (int64_t d = 0; d < D; d++) mx = fmax(mx, ld(xd, base + d * I, f64));
      for (int64_t d = 0; d < D; d++) sum += exp(ld(xd, base + d * I, f64) - mx);
      double lse = mx + log(sum);
      for (int64_t d = 0; d < D; d++) {
        double v = ld(xd, base + d * I, f64);
        st(yd, base + d * I, take_log ? v - lse : exp(v - mx) / sum, f64);
      }
    }
}

/* float32, softmax (or log-softmax) of one row of D */
static void softmax_row_f32(float *yr, const float *xr, int64_t D, int take_log) {
  float mx = -INFINITY, sum = 0;
  #pragma omp simd reduction(max : mx)
  for (int64_t d = 0; d < D; d++) mx = xr[d] > mx ? xr[d] : mx;   /* skips NaN, as fmax */
  #pragma omp simd reduction(+ : sum)
  for (int64_t d = 0; d < D; d++) sum += em_exp_f32(xr[d] - mx);
  if (take_log) {
    float lse = mx + logf(sum);
    #pragma omp simd
    for (int64_t d = 0; d < D; d++) yr[d] = xr[d] - lse;
  } else {
    float inv = 1.0f / sum;
    #pragma omp simd
    for (int64_t d = 0; d < D; d++) yr[d] = em_exp_f32(xr[d] - mx) * inv;
  }
}

/* float32, softmax over the last dim: x, y (O, D). The rows go to the pool behind a
 * plain if: small tensors never enter the OpenMP runtime (parallel.h). */
static void softmax_fwd_f32(float *y, const float *x, int64_t O, int64_t D, int take_log) {
  if (O * D >= EM_PARALLEL_GRAIN) {
    #pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < O; o++) softmax_row_f32(y + o * D, x + o * D, D, take_log);
  } else {
    for (int64_t o = 0; o < O; o++) softmax_row_f32(y + o * D, x + o * D, D, take_log);
  }
}

/* float32, one row: softmax gx = y * (gy - sum(gy * y)), log-softmax gx = gy - exp(y) *
 * sum(gy) */
static void softmax_grad_row_f32(float *xr, const float *gr, const float *yr, int64_t D,
                                 int take_log) {
  float s = 0;
  if (take_log) {
    #pragma omp simd reduction(+ : s)
    for (int64_t d = 0; d < D; d++) s += gr[d];
    #pragma omp simd
    for (int64_t d = 0; d < D; d++) xr[d] = gr[d] - em_exp_f32(yr[d]) * s;
  } else {
    #pragma omp simd reduction(+ : s)
    for (int64_t d = 0; d < D; d++) s += gr[d] * yr[d];
    #pragma omp simd
    for (int64_t d = 0; d < D; d++) xr[d] = yr[d] * (gr[d] - s);
  }
}

/* float32 over the last dim: gx, gy, y (O, D) */
static void softmax_bwd_f32(float *gx, const float *gy, const float *y, int64_t O, int64_t D,
                            int take_log) {
  if (O * D >= EM_PARALLEL_GRAIN) {
    #pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < O; o++)
      softmax_grad_row_f32(gx + o * D, gy + o * D, y + o * D, D, take_log);
  } else {
    for (int64_t o = 0; o < O; o++)
      softmax_grad_row_f32(gx + o * D, gy + o * D, y + o * D, D, take_log);
  }
}

int em_cpu_softmax_forward(em_tensor *y, const em_tensor *x, int dim, int take_log) {
  int64_t O, D, I;
  split_dim(x, dim, &O, &D, &I);
  if (x->dtype == EM_FLOAT32 && I == 1)
    softmax_fwd_f32(em_tensor_data(y), em_tensor_data(x), O, D, take_log);
  else if (x->dtype == EM_FLOAT64) softmax_fwd_t(1, y, x, dim, take_log);
  else softmax_fwd_t(0, y, x, dim, take_log);
  return EM_OK;
}

/* softmax: gx = y * (gy - sum(gy * y));  log-softmax: gx = gy - exp(y) * sum(gy) */
INLINE void softmax_bwd_t(int f64, em_tensor *gx, const em_tensor *gy, const em_tensor *y,
                          int dim, int take_log) {
  int64_t O, D, I;
  split_dim(y, dim, &O, &D, &I);
  const void *yd = em_tensor_data(y), *gyd = em_tensor_data(gy);
  void *gxd = em_tensor_data(gx);
  #pragma omp parallel for collapse(2) schedule(static) if (O * D * I >= EM_PARALLEL_GRAIN)
  for (int64_t o = 0; o < O; o++)
    for (int64_t i = 0; i < I; i++) {
      int64_t base = o * D * I + i;
      double s = 0;
      for (int64_t d = 0; d < D; d++)
        s += ld(gyd, base + d * I, f64) * (take_log ? 1.0 : ld(yd, base + d * I, f64));
      for (int64_t d = 0; d < D; d++) {
        double g = ld(gyd, base + d * I, f64), v = ld(yd, base + d * I, f64);
        st(gxd, base + d * I, take_log ? g - exp(v) * s : v * (g - s), f64);
      }
    }
}

int em_cpu_softmax_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *y, int dim,
                            int take_log) {
  int64_t O, D, I;
  split_dim(y, dim, &O, &D, &I);
  if (y->dtype == EM_FLOAT32 && I == 1)
    softmax_bwd_f32(em_tensor_data(gx), em_tensor_data(gy), em_tensor_data(y), O, D, take_log);
  else if (y->dtype == EM_FLOAT64) softmax_bwd_t(1, gx, gy, y, dim, take_log);
  else softmax_bwd_t(0, gx, gy, y, dim, take_log);
  return EM_OK;
}

/* --- batch norm: x, y (N, C, S); w b rm rv mean invstd (C) --- */

/* One batch-norm forward call: x, y (N, C, S); w b rm rv mean invstd (C) */
typedef struct bn_job {
  int64_t N, C, S;
  const void *xd, *wd, *bd;
  void *yd, *md, *id, *rmd, *rvd;
  int train;
  double momentum, eps;
} bn_job;

/* Channel c of a batch-norm forward */
INLINE void batchnorm_fwd_channel(int f64, const bn_job *j, int64_t c) {
  int64_t N = j->N, C = j->C, S = j->S, M = N * S;
  const void *xd = j->xd;
  double mu, is;
  if (j->train) {
    double sum = 0, sq = 0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t s = 0; s < S; s++) sum += ld(xd, (n * C + c) * S + s, f64);
    mu = sum / (double)M;
    for (int64_t n = 0; n < N; n++)
      for (int64_t s = 0; s < S; s++) {
        double d = ld(xd, (n * C + c) * S + s, f64) - mu;
        sq += d * d;
      }
    double var = sq / (double)M;
    is = 1.0 / sqrt(var + j->eps);
    if (j->rmd) {
      st(j->rmd, c, (1 - j->momentum) * ld(j->rmd, c, f64) + j->momentum * mu, f64);
      st(j->rvd, c, (1 - j->momentum) * ld(j->rvd, c, f64) + j->momentum * sq / (double)(M - 1), f64);
    }
  } else {
    mu = ld(j->rmd, c, f64);
    is = 1.0 / sqrt(ld(j->rvd, c, f64) + j->eps);
  }
  st(j->md, c, mu, f64);
  st(j->id, c, is, f64);
  double a = opt(j->wd, c, 1.0, f64) * is, bias = opt(j->bd, c, 0.0, f64);
  for (int64_t n = 0; n < N; n++)
    for (int64_t s = 0; s < S; s++) {
      int64_t i = (n * C + c) * S + s;
      st(j->yd, i, (ld(xd, i, f64) - mu) * a + bias, f64);
    }
}

static void batchnorm_fwd_f32(void *j, int64_t c) { batchnorm_fwd_channel(0, j, c); }
static void batchnorm_fwd_f64(void *j, int64_t c) { batchnorm_fwd_channel(1, j, c); }

int em_cpu_batchnorm_forward(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                             const em_tensor *x, const em_tensor *w, const em_tensor *b,
                             em_tensor *rm, em_tensor *rv, int train, double momentum,
                             double eps) {
  bn_job j = {x->size[0], x->size[1], x->size[2], em_tensor_data(x), data_or_null(w),
              data_or_null(b), em_tensor_data(y), em_tensor_data(mean), em_tensor_data(invstd),
              data_or_null(rm), data_or_null(rv), train, momentum, eps};
  em_parallel_items(j.C, j.N * j.C * j.S >= EM_PARALLEL_GRAIN,
                    x->dtype == EM_FLOAT64 ? batchnorm_fwd_f64 : batchnorm_fwd_f32, &j);
  return EM_OK;
}

/* With xhat = (x - mean) * invstd, per channel:
 *   train: gx = w * invstd * (gy - sum(gy)/M - xhat * sum(gy * xhat)/M)
 *   eval:  gx = w * invstd * gy
 *   gw += scale * sum(gy * xhat);  gb += scale * sum(gy) */
INLINE void batchnorm_bwd_t(int f64, em_tensor *gx, em_tensor *gw, em_tensor *gb,
                            const em_tensor *x, const em_tensor *gy, const em_tensor *w,
                            const em_tensor *mean, const em_tensor *invstd, int train,
                            double scale) {
  int64_t N = x->size[0], C = x->size[1], S = x->size[2], M = N * S;
  const void *xd = em_tensor_data(x), *gyd = em_tensor_data(gy), *wd = data_or_null(w);
  const void *md = em_tensor_data(mean), *id = em_tensor_data(invstd);
  void *gxd = data_or_null(gx), *gwd = data_or_null(gw), *gbd = data_or_null(gb);
  #pragma omp parallel for schedule(static) if (N * C * S >= EM_PARALLEL_GRAIN)
  for (int64_t c = 0; c < C; c++) {
    double mu = ld(md, c, f64), is = ld(id, c, f64), sg = 0, sgx = 0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t s = 0; s < S; s++) {
        int64_t i = (n * C + c) * S + s;
        double g = ld(gyd, i, f64);
        sg += g;
        sgx += g * (ld(xd, i, f64) - mu) * is;
      }
    if (gwd) st(gwd, c, ld(gwd, c, f64) + scale * sgx, f64);
    if (gbd) st(gbd, c, ld(gbd, c, f64) + scale * sg, f64);
    if (!gxd) continue;
    double a = opt(wd, c, 1.0, f64) * is;
    for (int64_t n = 0; n < N; n++)
      for (int64_t s = 0; s < S; s++) {
        int64_t i = (n * C + c) * S + s;
        double g = ld(gyd, i, f64);
        if (train) g -= (sg + (ld(xd, i, f64) - mu) * is * sgx) / (double)M;
        st(gxd, i, a * g, f64);
      }
  }
}

int em_cpu_batchnorm_backward(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                              const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                              const em_tensor *invstd, int train, double scale) {
  if (x->dtype == EM_FLOAT64) batchnorm_bwd_t(1, gx, gw, gb, x, gy, w, mean, invstd, train, scale);
  else batchnorm_bwd_t(0, gx, gw, gb, x, gy, w, mean, invstd, train, scale);
  return EM_OK;
}

/* --- layer norm: x, y (M, D); w b (D); mean invstd (M) --- */

/* The float64 kernels (float32 has its own, below them). Sums in NL independent lanes
 * (then added up), so that a row reduction vectorises and is not one chain of dependent
 * adds. EXPR is the d-th term. */
#define NL 8
#define LANE_SUM(out, D, EXPR)                                                           \
  do {                                                                                   \
    double acc_[NL] = {0};                                                               \
    int64_t d = 0;                                                                       \
    for (; d + NL <= (D); d += NL)                                                       \
      for (int k_ = 0; k_ < NL; k_++) { int64_t dd = d + k_; acc_[k_] += (EXPR(dd)); }   \
    for (; d < (D); d++) acc_[0] += (EXPR(d));                                           \
    out = 0;                                                                             \
    for (int k_ = 0; k_ < NL; k_++) out += acc_[k_];                                     \
  } while (0)

INLINE void layernorm_fwd_t(int f64, em_tensor *y, em_tensor *mean, em_tensor *invstd,
                            const em_tensor *x, const em_tensor *w, const em_tensor *b,
                            double eps) {
  int64_t M = x->size[0], D = x->size[1];
  const void *xd = em_tensor_data(x), *wd = data_or_null(w), *bd = data_or_null(b);
  void *yd = em_tensor_data(y), *md = em_tensor_data(mean), *id = em_tensor_data(invstd);
  #pragma omp parallel for schedule(static) if (M * D >= EM_PARALLEL_GRAIN)
  for (int64_t m = 0; m < M; m++) {
    double sum, sq;
#define X_(d) ld(xd, m * D + (d), f64)
#define SQ_(d) ((X_(d) - mu) * (X_(d) - mu))
    LANE_SUM(sum, D, X_);
    double mu = sum / (double)D;
    LANE_SUM(sq, D, SQ_);
#undef SQ_
#undef X_
    double is = 1.0 / sqrt(sq / (double)D + eps);
    st(md, m, mu, f64);
    st(id, m, is, f64);
    for (int64_t d = 0; d < D; d++) {
      double xhat = (ld(xd, m * D + d, f64) - mu) * is;
      st(yd, m * D + d, xhat * opt(wd, d, 1.0, f64) + opt(bd, d, 0.0, f64), f64);
    }
  }
}

/* float32, one row of D: sums in float SIMD lanes (D = 128 in W4: 8 terms a lane). */
static void layernorm_row_f32(float *yr, float *mean, float *invstd, const float *xr,
                              const float *w, const float *b, int64_t D, float eps) {
  float sum = 0, sq = 0;
  #pragma omp simd reduction(+ : sum)
  for (int64_t d = 0; d < D; d++) sum += xr[d];
  float mu = sum / (float)D;
  #pragma omp simd reduction(+ : sq)
  for (int64_t d = 0; d < D; d++) sq += (xr[d] - mu) * (xr[d] - mu);
  float is = 1.0f / sqrtf(sq / (float)D + eps);
  *mean = mu;
  *invstd = is;
  if (w && b) {
    #pragma omp simd
    for (int64_t d = 0; d < D; d++) yr[d] = (xr[d] - mu) * is * w[d] + b[d];
  } else {
    for (int64_t d = 0; d < D; d++) yr[d] = (xr[d] - mu) * is * (w ? w[d] : 1) + (b ? b[d] : 0);
  }
}

/* float32: y, x (M, D), mean and invstd (M); the rows behind a plain if (parallel.h) */
static void layernorm_fwd_f32(float *y, float *mean, float *invstd, const float *x,
                              const float *w, const float *b, int64_t M, int64_t D, float eps) {
  if (M * D >= EM_PARALLEL_GRAIN) {
    #pragma omp parallel for schedule(static)
    for (int64_t m = 0; m < M; m++)
      layernorm_row_f32(y + m * D, mean + m, invstd + m, x + m * D, w, b, D, eps);
  } else {
    for (int64_t m = 0; m < M; m++)
      layernorm_row_f32(y + m * D, mean + m, invstd + m, x + m * D, w, b, D, eps);
  }
}

int em_cpu_layernorm_forward(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                             const em_tensor *x, const em_tensor *w, const em_tensor *b,
                             double eps) {
  if (x->dtype == EM_FLOAT32)
    layernorm_fwd_f32(em_tensor_data(y), em_tensor_data(mean), em_tensor_data(invstd),
                      em_tensor_data(x), data_or_null(w), data_or_null(b), x->size[0],
                      x->size[1], (float)eps);
  else
    layernorm_fwd_t(1, y, mean, invstd, x, w, b, eps);
  return EM_OK;
}

/* With g = gy * w and xhat per row: gx = invstd * (g - mean(g) - xhat * mean(g * xhat));
 * gw[d] += scale * sum over rows of gy * xhat;  gb[d] += scale * sum of gy. */
INLINE void layernorm_bwd_t(int f64, em_tensor *gx, em_tensor *gw, em_tensor *gb,
                            const em_tensor *x, const em_tensor *gy, const em_tensor *w,
                            const em_tensor *mean, const em_tensor *invstd, double scale) {
  int64_t M = x->size[0], D = x->size[1];
  const void *xd = em_tensor_data(x), *gyd = em_tensor_data(gy), *wd = data_or_null(w);
  const void *md = em_tensor_data(mean), *id = em_tensor_data(invstd);
  void *gxd = data_or_null(gx), *gwd = data_or_null(gw), *gbd = data_or_null(gb);
  if (gxd) {
    #pragma omp parallel for schedule(static) if (M * D >= EM_PARALLEL_GRAIN)
    for (int64_t m = 0; m < M; m++) {
      double mu = ld(md, m, f64), is = ld(id, m, f64), sg, sgx;
#define G_(d) (ld(gyd, m * D + (d), f64) * opt(wd, (d), 1.0, f64))
#define GX_(d) (G_(d) * (ld(xd, m * D + (d), f64) - mu) * is)
      LANE_SUM(sg, D, G_);
      LANE_SUM(sgx, D, GX_);
#undef GX_
#undef G_
      for (int64_t d = 0; d < D; d++) {
        double g = ld(gyd, m * D + d, f64) * opt(wd, d, 1.0, f64);
        double xhat = (ld(xd, m * D + d, f64) - mu) * is;
        st(gxd, m * D + d, is * (g - sg / (double)D - xhat * sgx / (double)D), f64);
      }
    }
  }
  if (!gwd && !gbd) return;
  /* columns in blocks of LN_COLS, rows outer: the inner loop runs along a row */
  enum { LN_COLS = 64 };
  int64_t nblk = (D + LN_COLS - 1) / LN_COLS;
  #pragma omp parallel for schedule(static) if (M * D >= EM_PARALLEL_GRAIN)
  for (int64_t blk = 0; blk < nblk; blk++) {
    int64_t d0 = blk * LN_COLS, n = D - d0 < LN_COLS ? D - d0 : LN_COLS;
    double sw[LN_COLS] = {0}, sb[LN_COLS] = {0};
    for (int64_t m = 0; m < M; m++) {
      double mu = ld(md, m, f64), is = ld(id, m, f64);
      for (int64_t j = 0; j < n; j++) {
        double g = ld(gyd, m * D + d0 + j, f64);
        sw[j] += g * (ld(xd, m * D + d0 + j, f64) - mu) * is;
        sb[j] += g;
      }
    }
    for (int64_t j = 0; j < n; j++) {
      if (gwd) st(gwd, d0 + j, ld(gwd, d0 + j, f64) + scale * sw[j], f64);
      if (gbd) st(gbd, d0 + j, ld(gbd, d0 + j, f64) + scale * sb[j], f64);
    }
  }
}

/* float32: the row pass (gx) and the column pass (gw, gb; double accumulators, M terms
 * each) in one parallel region, so the threads are woken once. */
static void layernorm_bwd_f32(float *gx, float *gw, float *gb, const float *x, const float *gy,
                              const float *w, const float *mean, const float *invstd,
                              int64_t M, int64_t D, double scale) {
  enum { LN_COLS = 64 };
  int64_t nblk = (gw || gb) ? (D + LN_COLS - 1) / LN_COLS : 0;
  #pragma omp parallel if (M * D >= EM_PARALLEL_GRAIN)
  {
    if (gx) {
      #pragma omp for schedule(static) nowait
      for (int64_t m = 0; m < M; m++) {
        const float *xr = x + m * D, *gr = gy + m * D;
        float *out = gx + m * D, mu = mean[m], is = invstd[m], sg = 0, sgx = 0;
        #pragma omp simd reduction(+ : sg, sgx)
        for (int64_t d = 0; d < D; d++) {
          float g = gr[d] * (w ? w[d] : 1.0f);
          sg += g;
          sgx += g * (xr[d] - mu) * is;
        }
        sg /= (float)D;
        sgx /= (float)D;
        #pragma omp simd
        for (int64_t d = 0; d < D; d++)
          out[d] = is * (gr[d] * (w ? w[d] : 1.0f) - sg - (xr[d] - mu) * is * sgx);
      }
    }
    #pragma omp for schedule(static)
    for (int64_t blk = 0; blk < nblk; blk++) {
      int64_t d0 = blk * LN_COLS, n = D - d0 < LN_COLS ? D - d0 : LN_COLS;
      double sw[LN_COLS] = {0}, sb[LN_COLS] = {0};
      for (int64_t m = 0; m < M; m++) {
        const float *xr = x + m * D + d0, *gr = gy + m * D + d0;
        float mu = mean[m], is = invstd[m];
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) {
          sw[j] += (double)(gr[j] * (xr[j] - mu) * is);
          sb[j] += (double)gr[j];
        }
      }
      for (int64_t j = 0; j < n; j++) {
        if (gw) gw[d0 + j] += (float)(scale * sw[j]);
        if (gb) gb[d0 + j] += (float)(scale * sb[j]);
      }
    }
  }
}

int em_cpu_layernorm_backward(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                              const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                              const em_tensor *invstd, double scale) {
  if (x->dtype == EM_FLOAT32)
    layernorm_bwd_f32(data_or_null(gx), data_or_null(gw), data_or_null(gb), em_tensor_data(x),
                      em_tensor_data(gy), data_or_null(w), em_tensor_data(mean),
                      em_tensor_data(invstd), x->size[0], x->size[1], scale);
  else
    layernorm_bwd_t(1, gx, gw, gb, x, gy, w, mean, invstd, scale);
  return EM_OK;
}
