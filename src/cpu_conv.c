/* CPU convolutions: conv2d and its transpose through im2col/col2im and BLAS gemm,
 * with OpenMP over the batch (each thread owns a slice of the caller's workspace and
 * BLAS runs single-threaded inside the parallel region); one image runs serially with
 * threaded BLAS instead. float32 uses sgemm, float64 dgemm, float32 in bfloat16
 * precision em_cpu_gemm_bf16 (which packs the float32 columns into bfloat16 itself).
 *
 * Legend: N batch, C input channels, H W input size, F output channels, G groups,
 * kH kW kernel, oH oW output size, L = oH*oW, Cg = C/G, Fg = F/G,
 * Kg = Cg*kH*kW (rows of one group's columns), Kc = C*kH*kW (rows of all columns).
 * Column row (c, kh, kw) holds, for each output position, the input element the
 * kernel tap (kh, kw) of channel c sees there (zero in the padding). */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "cpu.h"
#include "nn.h"
#include "parallel.h"

/* The geometry of one convolution seen as conv2d: `in` (N, C, H, W) -> `out` (N, F, oH, oW).
 * The transposed conv runs the same machinery with the roles of its tensors swapped. */
typedef struct geom {
  int64_t N, C, H, W;
  int64_t F, oH, oW;
  int64_t kH, kW, G;
  int64_t sH, sW, pH, pW, dH, dW;
  int bf16;               /* float32 products read as bfloat16 */
} geom;

static geom geom_of(const em_tensor *in, const em_tensor *out, const em_tensor *w,
                    const em_conv2d_params *p) {
  geom g = {
    .N = in->size[0], .C = in->size[1], .H = in->size[2], .W = in->size[3],
    .F = out->size[1], .oH = out->size[2], .oW = out->size[3],
    .kH = w->size[2], .kW = w->size[3], .G = p->groups,
    .sH = p->sH, .sW = p->sW, .pH = p->pH, .pW = p->pW, .dH = p->dH, .dW = p->dW,
    .bf16 = p->precision == EM_PRECISION_BF16,
  };
  return g;
}

/* A 1x1 kernel with stride 1 and no padding: the columns are the image itself. */
static int is_pointwise(const geom *g) {
  return g->kH == 1 && g->kW == 1 && g->sH == 1 && g->sW == 1 && g->pH == 0 && g->pW == 0;
}

/* Threads to share the batch among: all of them for a batch, none for one image. */
static int batch_threads(int64_t N) {
  int t = omp_get_max_threads();
  return N < 2 ? 1 : (int)(N < t ? N : t);
}

/* C (m x n) := alpha * op(A) op(B) + beta * C, row-major, in the dtype f64 selects, or
 * float32 read as bfloat16 (bf16). Returns EM_OK or EM_ENOMEM (bf16's panels). */
static int gemm(int f64, int bf16, int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha,
                const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C,
                int64_t ldc) {
  enum CBLAS_TRANSPOSE a = ta ? CblasTrans : CblasNoTrans, b = tb ? CblasTrans : CblasNoTrans;
  if (bf16)
    return em_cpu_gemm_bf16(ta, tb, m, n, k, (float)alpha, A, lda, B, ldb, (float)beta, C, ldc);
  if (f64)
    cblas_dgemm(CblasRowMajor, a, b, (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb,
                beta, C, (int)ldc);
  else
    cblas_sgemm(CblasRowMajor, a, b, (int)m, (int)n, (int)k, (float)alpha, A, (int)lda, B,
                (int)ldb, (float)beta, C, (int)ldc);
  return EM_OK;
}

/* The status of a parallel loop whose iterations may fail (only for want of memory):
 * a worker's message is on its own thread, so it is recorded again on this one. */
static int loop_status(int failed) {
  if (!failed) return EM_OK;
  em_error("conv: out of memory for the bfloat16 panels");
  return EM_ENOMEM;
}

/* --- im2col / col2im; `always_inline` with a constant f64 gives one specialised copy
 * per dtype. The rows are short (oW = 11 in W2's second convolution),
 * so the copies are plain loops the compiler vectorises, not memcpy/memset calls. --- */

/* One output row of column row (c, kh, kw): dst[ow] = src[ow * sW + shift] for lo <= ow
 * < hi, 0 elsewhere (the padding). */
#define IM2COL_ROW(T, COPY_ROW)                                                          \
  do {                                                                                   \
    T *d_ = (T *)col + o;                                                                \
    const T *s_ = (const T *)img + src;                                                  \
    for (int64_t ow = 0; ow < lo; ow++) d_[ow] = 0;                                      \
    if (g->sW == 1)                                                                      \
      COPY_ROW(d_ + lo, s_ + lo + shift, hi - lo);                                       \
    else                                                                                 \
      for (int64_t ow = lo; ow < hi; ow++) d_[ow] = s_[ow * g->sW + shift];              \
    for (int64_t ow = hi; ow < g->oW; ow++) d_[ow] = 0;                                  \
  } while (0)

/* Copies a short row in 32-byte moves, the last one overlapping the one before (a
 * plain loop becomes a memmove call, which costs more than an 11-float row). */
static inline void copy_row(void *restrict d, const void *restrict s, size_t bytes) {
  if (bytes < 32) { memcpy(d, s, bytes); return; }
  for (size_t i = 0; i + 32 <= bytes; i += 32) memcpy((char *)d + i, (const char *)s + i, 32);
  memcpy((char *)d + bytes - 32, (const char *)s + bytes - 32, 32);
}
static inline void copy_row_f32(float *d, const float *s, int64_t n) {
  copy_row(d, s, (size_t)n * sizeof *d);
}
static inline void copy_row_f64(double *d, const double *s, int64_t n) {
  copy_row(d, s, (size_t)n * sizeof *d);
}

/* The outputs ow whose tap (kh, kw) lands inside the row: lo <= ow < hi; iw = ow * sW +
 * shift. */
static inline void tap_range(const geom *g, int64_t kw, int64_t *shift, int64_t *lo, int64_t *hi) {
  *shift = kw * g->dW - g->pW;
  if (g->sW == 1) {   /* no division (it showed in profiles: one per column row) */
    *lo = *shift >= 0 ? 0 : -*shift;
    *hi = g->W - *shift <= 0 ? 0 : g->W - *shift;
  } else {
    *lo = *shift >= 0 ? 0 : (-*shift + g->sW - 1) / g->sW;
    *hi = g->W - *shift <= 0 ? 0 : (g->W - *shift + g->sW - 1) / g->sW;
  }
  if (*hi > g->oW) *hi = g->oW;
  if (*lo > *hi) *lo = *hi;
}

static inline __attribute__((always_inline)) void
im2col_t(int f64, const void *img, const geom *g, void *col) {
  /* img (C, H, W) -> col (Kc, L) */
  const int64_t L = g->oH * g->oW;
  const size_t es = f64 ? sizeof(double) : sizeof(float);
  for (int64_t c = 0; c < g->C; c++)
    for (int64_t kh = 0; kh < g->kH; kh++)
      for (int64_t kw = 0; kw < g->kW; kw++) {
        int64_t row = (c * g->kH + kh) * g->kW + kw, shift, lo, hi;
        tap_range(g, kw, &shift, &lo, &hi);
        for (int64_t oh = 0; oh < g->oH; oh++) {
          int64_t ih = oh * g->sH - g->pH + kh * g->dH;
          int64_t o = row * L + oh * g->oW, src = (c * g->H + ih) * g->W;
          if (ih < 0 || ih >= g->H) {   /* the whole row is padding */
            memset((char *)col + (size_t)o * es, 0, (size_t)g->oW * es);
            continue;
          }
          if (f64) IM2COL_ROW(double, copy_row_f64);
          else IM2COL_ROW(float, copy_row_f32);
        }
      }
}

/* d[i] += s[i] for i < n: separate functions so that the row loop gets its own
 * registers (inlined into the loop nest it spilled) and no aliasing checks */
static void add_row_f32(float *restrict d, const float *restrict s, int64_t n) {
  for (int64_t i = 0; i < n; i++) d[i] += s[i];
}
static void add_row_f64(double *restrict d, const double *restrict s, int64_t n) {
  for (int64_t i = 0; i < n; i++) d[i] += s[i];
}

/* col2im's row: img[ow * sW + shift] += col[ow] for lo <= ow < hi */
#define COL2IM_ROW(T, ADD_ROW)                                                           \
  do {                                                                                   \
    T *d_ = (T *)img + dst;                                                              \
    const T *s_ = (const T *)col + o;                                                    \
    if (g->sW == 1)                                                                      \
      ADD_ROW(d_ + lo + shift, s_ + lo, hi - lo);                                        \
    else                                                                                 \
      for (int64_t ow = lo; ow < hi; ow++) d_[ow * g->sW + shift] += s_[ow];             \
  } while (0)

static inline __attribute__((always_inline)) void
col2im_t(int f64, const void *col, const geom *g, void *img) {
  /* col (Kc, L) summed into img (C, H, W), which the caller zeroed */
  const int64_t L = g->oH * g->oW;
  for (int64_t c = 0; c < g->C; c++)
    for (int64_t kh = 0; kh < g->kH; kh++)
      for (int64_t kw = 0; kw < g->kW; kw++) {
        int64_t row = (c * g->kH + kh) * g->kW + kw, shift, lo, hi;
        tap_range(g, kw, &shift, &lo, &hi);
        for (int64_t oh = 0; oh < g->oH; oh++) {
          int64_t ih = oh * g->sH - g->pH + kh * g->dH;
          if (ih < 0 || ih >= g->H) continue;
          int64_t o = row * L + oh * g->oW, dst = (c * g->H + ih) * g->W;
          if (f64) COL2IM_ROW(double, add_row_f64);
          else COL2IM_ROW(float, add_row_f32);
        }
      }
}

static void im2col(int f64, const void *img, const geom *g, void *col) {
  if (f64) im2col_t(1, img, g, col);
  else im2col_t(0, img, g, col);
}

static void col2im(int f64, const void *col, const geom *g, void *img) {
  if (f64) col2im_t(1, col, g, img);
  else col2im_t(0, col, g, img);
}

/* Sizes the workspace to nthreads slices of `per` elements; NULL on failure. */
static char *work_slices(em_tensor *work, int nthreads, int64_t per) {
  int64_t n = per * nthreads;
  if (n == 0) n = 1;
  if (em_tensor_resize(work, 1, &n) != EM_OK) return NULL;
  return em_tensor_data(work);
}

/* --- the three steps of a convolution in `geom` terms --- */

/* One forward or data-backward call, image by image: the operands, the geometry, and
 * the im2col workspace (a slice per thread; NULL for a pointwise kernel). */
typedef struct conv_job {
  const geom *g;
  int f64, pointwise;
  size_t es;
  int64_t L, Fg, Kg;             /* oH * oW, filters and K per group */
  const char *x, *w, *bias;      /* forward: in, weight, bias; data backward: gout, weight */
  char *y, *ws;                  /* forward: out; data backward: gin */
} conv_job;

static conv_job conv_job_of(const em_tensor *t, const geom *g, char *ws) {
  return (conv_job){.g = g, .f64 = t->dtype == EM_FLOAT64, .pointwise = is_pointwise(g),
                    .es = em_dtype_info[t->dtype].size, .L = g->oH * g->oW, .Fg = g->F / g->G,
                    .Kg = g->C / g->G * g->kH * g->kW, .ws = ws};
}

/* This thread's im2col slice of the workspace */
static char *my_columns(const conv_job *j) {
  return j->ws + (size_t)(omp_get_thread_num() * j->g->C * j->g->kH * j->g->kW * j->L) * j->es;
}

/* Image n of the forward: yn (F, L) := bias, then yn[gr] += w[gr] . cols[gr]. Returns
 * nonzero when a bfloat16 product could not get its panels. */
static int conv_fwd_image(const conv_job *j, int64_t n) {
  const geom *g = j->g;
  size_t es = j->es;
  int64_t L = j->L, Fg = j->Fg, Kg = j->Kg;
  const char *xn = j->x + (size_t)(n * g->C * g->H * g->W) * es;
  char *yn = j->y + (size_t)(n * g->F * L) * es;
  const char *cols = xn;
  if (!j->pointwise) {
    char *mine = my_columns(j);
    im2col(j->f64, xn, g, mine);
    cols = mine;
  }
  for (int64_t f = 0; f < g->F; f++)
    for (int64_t l = 0; l < L; l++) {
      double v = j->bias ? (j->f64 ? ((const double *)j->bias)[f] : ((const float *)j->bias)[f]) : 0.0;
      if (j->f64) ((double *)yn)[f * L + l] = v;
      else ((float *)yn)[f * L + l] = (float)v;
    }
  int failed = 0;
  for (int64_t gr = 0; gr < g->G; gr++)   /* yn[gr] (Fg, L) += w[gr] (Fg, Kg) . cols[gr] (Kg, L) */
    failed |= gemm(j->f64, g->bf16, 0, 0, Fg, L, Kg, 1.0, j->w + (size_t)(gr * Fg * Kg) * es, Kg,
                   cols + (size_t)(gr * Kg * L) * es, L, 1.0, yn + (size_t)(gr * Fg * L) * es, L);
  return failed;
}

/* Image n of the data backward: cols[gr] := w[gr]^T . gyn[gr], then col2im into gxn */
static int conv_bwd_data_image(const conv_job *j, int64_t n) {
  const geom *g = j->g;
  size_t es = j->es;
  int64_t L = j->L, Fg = j->Fg, Kg = j->Kg;
  const char *gyn = j->x + (size_t)(n * g->F * L) * es;
  char *gxn = j->y + (size_t)(n * g->C * g->H * g->W) * es;
  char *cols = j->pointwise ? gxn : my_columns(j);
  int failed = 0;
  for (int64_t gr = 0; gr < g->G; gr++)   /* cols[gr] (Kg, L) := w[gr]^T (Kg, Fg) . gyn[gr] (Fg, L) */
    failed |= gemm(j->f64, g->bf16, 1, 0, Kg, L, Fg, 1.0, j->w + (size_t)(gr * Fg * Kg) * es, Kg,
                   gyn + (size_t)(gr * Fg * L) * es, L, 0.0, cols + (size_t)(gr * Kg * L) * es, L);
  if (!j->pointwise) {
    memset(gxn, 0, (size_t)(g->C * g->H * g->W) * es);
    col2im(j->f64, cols, g, gxn);
  }
  return failed;
}

/* Runs image(j, n) for the batch: on T threads when T > 1, else on this thread without
 * entering the OpenMP runtime (parallel.h); one image still gets OpenBLAS's threads. */
static int each_image(const conv_job *j, int T, int (*image)(const conv_job *, int64_t)) {
  int failed = 0;
  if (T > 1) {
    #pragma omp parallel for num_threads(T) schedule(static) reduction(| : failed)
    for (int64_t n = 0; n < j->g->N; n++) failed |= image(j, n);
  } else {
    for (int64_t n = 0; n < j->g->N; n++) failed |= image(j, n);
  }
  return loop_status(failed);
}

/* out (N, F, oH, oW) := conv(in (N, C, H, W), w (F, Cg, kH, kW)) + b (F) or 0 */
static int conv_fwd(em_tensor *out, const em_tensor *in, const em_tensor *w, const em_tensor *b,
                    const geom *g, em_tensor *work) {
  int T = batch_threads(g->N);
  char *ws = is_pointwise(g) ? NULL : work_slices(work, T, g->C * g->kH * g->kW * g->oH * g->oW);
  if (!is_pointwise(g) && !ws) return EM_ENOMEM;
  conv_job j = conv_job_of(in, g, ws);
  j.x = em_tensor_data(in);
  j.w = em_tensor_data(w);
  j.bias = b ? em_tensor_data(b) : NULL;
  j.y = em_tensor_data(out);
  return each_image(&j, T, conv_fwd_image);
}

/* gin (N, C, H, W) := conv^T(gout (N, F, oH, oW)) with w (F, Cg, kH, kW) */
static int conv_bwd_data(em_tensor *gin, const em_tensor *gout, const em_tensor *w,
                         const geom *g, em_tensor *work) {
  int T = batch_threads(g->N);
  char *ws = is_pointwise(g) ? NULL : work_slices(work, T, g->C * g->kH * g->kW * g->oH * g->oW);
  if (!is_pointwise(g) && !ws) return EM_ENOMEM;
  conv_job j = conv_job_of(gin, g, ws);
  j.x = em_tensor_data(gout);
  j.w = em_tensor_data(w);
  j.y = em_tensor_data(gin);
  return each_image(&j, T, conv_bwd_data_image);
}

/* gw (F, Cg, kH, kW) += scale * dL/dw for in (N, C, H, W) and gout (N, F, oH, oW).
 * With several threads each sums its images into its own slice, then the slices are
 * added into gw. */
static int conv_bwd_weight(em_tensor *gw, const em_tensor *in, const em_tensor *gout,
                           const geom *g, double scale, em_tensor *work) {
  int f64 = in->dtype == EM_FLOAT64;
  size_t es = em_dtype_info[in->dtype].size;
  int64_t L = g->oH * g->oW, Cg = g->C / g->G, Fg = g->F / g->G, Kg = Cg * g->kH * g->kW;
  int64_t ncols = is_pointwise(g) ? 0 : g->C * g->kH * g->kW * L, nw = g->F * Kg;
  int T = batch_threads(g->N);
  int64_t per = ncols + (T > 1 ? nw : 0);
  char *ws = work_slices(work, T, per);
  if (!ws) return EM_ENOMEM;
  const char *x = em_tensor_data(in), *gy = em_tensor_data(gout);
  char *gwd = em_tensor_data(gw);
  int failed = 0;
  #pragma omp parallel num_threads(T) if (T > 1)
  {
    int tid = omp_get_thread_num();
    char *mine = ws + (size_t)(tid * per) * es;
    char *acc = T > 1 ? mine + (size_t)ncols * es : gwd;
    double alpha = T > 1 ? 1.0 : scale;
    if (T > 1) memset(acc, 0, (size_t)nw * es);
    #pragma omp for schedule(static)
    for (int64_t n = 0; n < g->N; n++) {
      const char *xn = x + (size_t)(n * g->C * g->H * g->W) * es;
      const char *gyn = gy + (size_t)(n * g->F * L) * es;
      const char *cols = xn;
      if (ncols) {
        im2col(f64, xn, g, mine);
        cols = mine;
      }
      for (int64_t gr = 0; gr < g->G; gr++)   /* acc[gr] (Fg, Kg) += gyn[gr] (Fg, L) . cols[gr]^T (L, Kg) */
        if (gemm(f64, g->bf16, 0, 1, Fg, Kg, L, alpha, gyn + (size_t)(gr * Fg * L) * es, L,
                 cols + (size_t)(gr * Kg * L) * es, L, 1.0, acc + (size_t)(gr * Fg * Kg) * es, Kg)) {
          #pragma omp atomic write
          failed = 1;
        }
    }
  }
  if (failed) return loop_status(failed);
  if (T > 1) {   /* gw += scale * sum of the slices */
    #pragma omp parallel for schedule(static) if (nw >= EM_PARALLEL_GRAIN)
    for (int64_t i = 0; i < nw; i++) {
      double s = 0;
      for (int t = 0; t < T; t++) {
        const char *acc = ws + (size_t)(t * per + ncols) * es;
        s += f64 ? ((const double *)acc)[i] : ((const float *)acc)[i];
      }
      if (f64) ((double *)gwd)[i] += scale * s;
      else ((float *)gwd)[i] += (float)(scale * s);
    }
  }
  return EM_OK;
}

/* gb (F) += scale * sum of gout (N, F, L) over N and L: per block of up to 256
 * positions the images are added column-wise in the element type (vertical adds
 * vectorise; one running sum would not), then the block is summed in double */
#define BIAS_BLOCK 256
#define BIAS_GRAD(T)                                                                     \
  _Pragma("omp parallel for schedule(static) if (N * F * L >= EM_PARALLEL_GRAIN)")       \
  for (int64_t f = 0; f < F; f++) {                                                      \
    double s = 0;                                                                        \
    for (int64_t l0 = 0; l0 < L; l0 += BIAS_BLOCK) {                                     \
      int64_t m = L - l0 < BIAS_BLOCK ? L - l0 : BIAS_BLOCK;                             \
      T acc[BIAS_BLOCK];                                                                 \
      for (int64_t l = 0; l < m; l++) acc[l] = 0;                                        \
      for (int64_t n = 0; n < N; n++) {                                                  \
        const T *r = (const T *)gy + (n * F + f) * L + l0;                               \
        for (int64_t l = 0; l < m; l++) acc[l] += r[l];                                  \
      }                                                                                  \
      for (int64_t l = 0; l < m; l++) s += acc[l];                                       \
    }                                                                                    \
    ((T *)gbd)[f] += (T)(scale * s);                                                     \
  }

static void bias_grad(em_tensor *gb, const em_tensor *gout, double scale) {
  int64_t N = gout->size[0], F = gout->size[1], L = gout->size[2] * gout->size[3];
  const void *gy = em_tensor_data(gout);
  void *gbd = em_tensor_data(gb);
  if (gout->dtype == EM_FLOAT64) { BIAS_GRAD(double) }
  else { BIAS_GRAD(float) }
}

/* adds b (F) to every position of out (N, F, oH, oW) */
static void add_bias(em_tensor *out, const em_tensor *b) {
  int f64 = out->dtype == EM_FLOAT64;
  int64_t N = out->size[0], F = out->size[1], L = out->size[2] * out->size[3];
  void *y = em_tensor_data(out);
  const void *bd = em_tensor_data(b);
  #pragma omp parallel for collapse(2) schedule(static) if (N * F * L >= EM_PARALLEL_GRAIN)
  for (int64_t n = 0; n < N; n++)
    for (int64_t f = 0; f < F; f++) {
      int64_t o = (n * F + f) * L;
      if (f64) for (int64_t l = 0; l < L; l++) ((double *)y)[o + l] += ((const double *)bd)[f];
      else for (int64_t l = 0; l < L; l++) ((float *)y)[o + l] += ((const float *)bd)[f];
    }
}

/* --- conv2d: x (N, C, H, W), w (F, Cg, kH, kW), y (N, F, oH, oW) --- */

int em_cpu_conv2d_forward(em_tensor *y, const em_tensor *x, const em_tensor *w,
                          const em_tensor *b, const em_conv2d_params *p, em_tensor *work) {
  geom g = geom_of(x, y, w, p);
  return conv_fwd(y, x, w, b, &g, work);
}

int em_cpu_conv2d_backward_input(em_tensor *gx, const em_tensor *gy, const em_tensor *w,
                                 const em_conv2d_params *p, em_tensor *work) {
  geom g = geom_of(gx, gy, w, p);
  return conv_bwd_data(gx, gy, w, &g, work);
}

int em_cpu_conv2d_backward_params(em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                  const em_tensor *gy, const em_conv2d_params *p, double scale,
                                  em_tensor *work) {
  geom g = geom_of(x, gy, gw, p);
  if (gb) bias_grad(gb, gy, scale);
  return conv_bwd_weight(gw, x, gy, &g, scale, work);
}

/* --- transposed: x (N, C, H, W), w (C, Fg, kH, kW), y (N, F, oH, oW). As a conv2d, y is
 * the input and x the output, so forward is conv2d's backward-data and back again. --- */

int em_cpu_conv_transpose2d_forward(em_tensor *y, const em_tensor *x, const em_tensor *w,
                                    const em_tensor *b, const em_conv2d_params *p,
                                    em_tensor *work) {
  geom g = geom_of(y, x, w, p);
  int st = conv_bwd_data(y, x, w, &g, work);
  if (st == EM_OK && b) add_bias(y, b);
  return st;
}

int em_cpu_conv_transpose2d_backward_input(em_tensor *gx, const em_tensor *gy,
                                           const em_tensor *w, const em_conv2d_params *p,
                                           em_tensor *work) {
  geom g = geom_of(gy, gx, w, p);
  return conv_fwd(gx, gy, w, NULL, &g, work);
}

int em_cpu_conv_transpose2d_backward_params(em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                            const em_tensor *gy, const em_conv2d_params *p,
                                            double scale, em_tensor *work) {
  geom g = geom_of(gy, x, gw, p);
  if (gb) bias_grad(gb, gy, scale);
  return conv_bwd_weight(gw, gy, x, &g, scale, work);
}
