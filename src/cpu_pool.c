/* CPU 2-d pooling: max (with argmax indices), average (count_include_pad choice) and
 * adaptive average, forward and backward; OpenMP over the N*C planes.
 *
 * Legend: P = N*C planes, H W input size, oH oW output size. Every tensor here is
 * contiguous, x (P, H, W) and y (P, oH, oW) in memory. Kernels are written once with
 * a constant f64 flag and inlined into one copy per dtype. */
#include <math.h>
#include <string.h>

#include "nn.h"
#include "parallel.h"

#define INLINE static inline __attribute__((always_inline))

INLINE double ld(const void *p, int64_t i, int f64) {
  return f64 ? ((const double *)p)[i] : ((const float *)p)[i];
}

INLINE void st(void *p, int64_t i, double v, int f64) {
  if (f64) ((double *)p)[i] = v;
  else ((float *)p)[i] = (float)v;
}

INLINE void add(void *p, int64_t i, double v, int f64) {
  if (f64) ((double *)p)[i] += v;
  else ((float *)p)[i] += (float)v;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* --- max pooling ---
 * The argmax rule, shared by both paths: a window's first maximum in (h, w) order, or its
 * last NaN (NaN propagates). Updates are selects, not branches: on random data a branch
 * on the comparison mispredicts about half the time. */

/* One max-pooling call: x (P, H, W) planes -> y, idx (P, oH, oW) */
typedef struct mp_job {
  int64_t P, H, W, oH, oW;
  const em_pool2d_params *p;
  const void *xd;
  void *yd;
  int64_t *id;
} mp_job;

static mp_job mp_job_of(const em_tensor *x, em_tensor *y, em_tensor *idx,
                        const em_pool2d_params *p) {
  return (mp_job){x->size[0] * x->size[1], x->size[2], x->size[3], y->size[2], y->size[3], p,
                  em_tensor_data(x), em_tensor_data(y), em_tensor_data(idx)};
}

/* The plain path, plane pl: any window, stride, padding and dilation. */
INLINE void maxpool_plane(int f64, const mp_job *j, int64_t pl) {
  int64_t H = j->H, W = j->W, oH = j->oH, oW = j->oW;
  const int64_t kH = j->p->kH, kW = j->p->kW, sH = j->p->sH, sW = j->p->sW;
  const int64_t pH = j->p->pH, pW = j->p->pW, dH = j->p->dH, dW = j->p->dW;
  int64_t xo = pl * H * W, yo = pl * oH * oW;
  for (int64_t oh = 0; oh < oH; oh++) {
    int64_t hs = oh * sH - pH, he = min64(hs + (kH - 1) * dH + 1, H);
    while (hs < 0) hs += dH;
    for (int64_t ow = 0; ow < oW; ow++) {
      int64_t ws = ow * sW - pW, we = min64(ws + (kW - 1) * dW + 1, W);
      while (ws < 0) ws += dW;
      double best = -INFINITY;
      int64_t bi = hs * W + ws;
      for (int64_t h = hs; h < he; h += dH)
        for (int64_t w = ws; w < we; w += dW) {
          double v = ld(j->xd, xo + h * W + w, f64);
          int up = (v > best) | (v != v);
          best = up ? v : best;
          bi = up ? h * W + w : bi;
        }
      st(j->yd, yo + oh * oW + ow, best, f64);
      j->id[yo + oh * oW + ow] = bi;
    }
  }
}

static void maxpool_plane_f32(void *j, int64_t pl) { maxpool_plane(0, j, pl); }
static void maxpool_plane_f64(void *j, int64_t pl) { maxpool_plane(1, j, pl); }

/* The fast path: 2x2 windows, stride 2, no padding or dilation, every window inside the
 * plane (floor mode, or ceil mode where it rounds to the same size). Same rule as above,
 * in the element type: rows 2oh and 2oh+1 give candidates a b / c d. The outputs of all
 * planes, in memory order, go in chunks of MP_LANES through local arrays, so the selects
 * run as one fixed-length vectorised loop however short the rows are (oW = 5 in W2; a
 * scalar remainder loop compiled to branches). */
#define MP_LANES 16
#define MP_CHUNKS 64         /* chunks of MP_LANES outputs per work item */
#define MAXPOOL_2X2(T)                                                                   \
  int64_t H = job->H, W = job->W, oH = job->oH, oW = job->oW, total = job->P * oH * oW;  \
  const void *xd = job->xd;                                                              \
  void *yd = job->yd;                                                                    \
  int64_t *id = job->id;                                                                 \
  int64_t end = (item + 1) * MP_CHUNKS * MP_LANES;                                       \
  for (int64_t o0 = item * MP_CHUNKS * MP_LANES; o0 < total && o0 < end; o0 += MP_LANES) { \
    int64_t n = total - o0 < MP_LANES ? total - o0 : MP_LANES;                           \
    int64_t q = o0 / oW, ow = o0 - q * oW, pl = q / oH, oh = q - pl * oH;                \
    const T *plane = (const T *)xd + pl * H * W;                                         \
    int64_t e = 2 * oh * W + 2 * ow;   /* a's index in its plane */                      \
    T a[MP_LANES] = {0}, b[MP_LANES] = {0}, c[MP_LANES] = {0}, d[MP_LANES] = {0};        \
    int64_t at[MP_LANES] = {0};                                                          \
    for (int64_t l = 0; l < n; l++) {                                                    \
      a[l] = plane[e]; b[l] = plane[e + 1]; c[l] = plane[e + W]; d[l] = plane[e + W + 1]; \
      at[l] = e;                                                                         \
      e += 2;                                                                            \
      if (++ow == oW) {                                    /* next row pair */           \
        ow = 0;                                                                          \
        e += 2 * W - 2 * oW;                                                             \
        if (++oh == oH) { oh = 0; e = 0; plane += H * W; }   /* next plane */            \
      }                                                                                  \
    }                                                                                    \
    T m[MP_LANES];                                                                       \
    int64_t k[MP_LANES];                                                                 \
    for (int l = 0; l < MP_LANES; l++) {                                                 \
      T v = a[l];                                                                        \
      int64_t j = 0;                                                                     \
      int u = (b[l] > v) | (b[l] != b[l]);                                               \
      v = u ? b[l] : v; j = u ? 1 : j;                                                   \
      u = (c[l] > v) | (c[l] != c[l]);                                                   \
      v = u ? c[l] : v; j = u ? W : j;                                                   \
      u = (d[l] > v) | (d[l] != d[l]);                                                   \
      v = u ? d[l] : v; j = u ? W + 1 : j;                                               \
      m[l] = v;                                                                          \
      k[l] = at[l] + j;                                                                  \
    }                                                                                    \
    for (int64_t l = 0; l < n; l++) { ((T *)yd)[o0 + l] = m[l]; id[o0 + l] = k[l]; }     \
  }

/* Work item `item` of the 2x2 path: MP_CHUNKS chunks of outputs in memory order */
static void maxpool_2x2_f32(void *ctx, int64_t item) {
  const mp_job *job = ctx;
  MAXPOOL_2X2(float)
}

static void maxpool_2x2_f64(void *ctx, int64_t item) {
  const mp_job *job = ctx;
  MAXPOOL_2X2(double)
}

static int maxpool_is_2x2(const em_tensor *x, const em_tensor *y, const em_pool2d_params *p) {
  return p->kH == 2 && p->kW == 2 && p->sH == 2 && p->sW == 2 && p->pH == 0 && p->pW == 0 &&
         p->dH == 1 && p->dW == 1 && 2 * y->size[2] <= x->size[2] && 2 * y->size[3] <= x->size[3];
}

/* Planes (or chunks of outputs) go to the pool behind a plain if (parallel.h). */
int em_cpu_maxpool2d_forward(em_tensor *y, em_tensor *idx, const em_tensor *x,
                             const em_pool2d_params *p) {
  mp_job j = mp_job_of(x, y, idx, p);
  int f64 = x->dtype == EM_FLOAT64, big = j.P * j.H * j.W >= EM_PARALLEL_GRAIN;
  if (maxpool_is_2x2(x, y, p)) {
    int64_t total = j.P * j.oH * j.oW, per = MP_CHUNKS * MP_LANES;
    em_parallel_items((total + per - 1) / per, big, f64 ? maxpool_2x2_f64 : maxpool_2x2_f32, &j);
  } else {
    em_parallel_items(j.P, big, f64 ? maxpool_plane_f64 : maxpool_plane_f32, &j);
  }
  return EM_OK;
}

/* gx (P, H, W) := each gy (P, oH, oW) added at its window's argmax; an index outside
 * the plane (not written by the forward) is skipped */
#define MAXPOOL_BWD(T)                                                                   \
  _Pragma("omp parallel for schedule(static) if (P * HW >= EM_PARALLEL_GRAIN)")          \
  for (int64_t pl = 0; pl < P; pl++) {                                                   \
    T *g = (T *)gxd + pl * HW;                                                           \
    const T *d = (const T *)gyd + pl * oL;                                               \
    const int64_t *ip = id + pl * oL;                                                    \
    memset(g, 0, (size_t)HW * sizeof(T));                                                \
    for (int64_t o = 0; o < oL; o++)                                                     \
      if ((uint64_t)ip[o] < (uint64_t)HW) g[ip[o]] += d[o];                              \
  }

int em_cpu_maxpool2d_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *idx) {
  int64_t P = gx->size[0] * gx->size[1], HW = gx->size[2] * gx->size[3];
  int64_t oL = gy->size[2] * gy->size[3];
  void *gxd = em_tensor_data(gx);
  const void *gyd = em_tensor_data(gy);
  const int64_t *id = em_tensor_data(idx);
  if (gx->dtype == EM_FLOAT64) { MAXPOOL_BWD(double) }
  else { MAXPOOL_BWD(float) }
  return EM_OK;
}

/* --- average pooling --- */

/* The clipped window of output (oh, ow) and its divisor (PyTorch's rule: the padded
 * window is cut at H + pH before the padding is dropped). 0 when the window is empty. */
typedef struct window {
  int64_t hs, he, ws, we;
  double divisor;
} window;

static window avg_window(int64_t oh, int64_t ow, int64_t H, int64_t W, const em_pool2d_params *p) {
  window w;
  int64_t hs = oh * p->sH - p->pH, ws = ow * p->sW - p->pW;
  int64_t he = min64(hs + p->kH, H + p->pH), we = min64(ws + p->kW, W + p->pW);
  int64_t padded = (he - hs) * (we - ws);
  w.hs = max64(hs, 0);
  w.ws = max64(ws, 0);
  w.he = min64(he, H);
  w.we = min64(we, W);
  int64_t inner = (w.he - w.hs) * (w.we - w.ws);
  w.divisor = w.he <= w.hs || w.we <= w.ws ? 0.0 : (double)(p->count_include_pad ? padded : inner);
  return w;
}

/* One average or adaptive pooling forward: x (P, H, W) planes -> y (P, oH, oW) */
typedef struct ap_job {
  int64_t H, W, oH, oW;
  const em_pool2d_params *p;   /* NULL for adaptive pooling */
  const void *xd;
  void *yd;
} ap_job;

static ap_job ap_job_of(const em_tensor *x, em_tensor *y, const em_pool2d_params *p) {
  return (ap_job){x->size[2], x->size[3], y->size[2], y->size[3], p, em_tensor_data(x),
                  em_tensor_data(y)};
}

/* Runs item over the P planes of x, on the pool when they are large (parallel.h) */
static void each_plane(const em_tensor *x, em_item_fn item, ap_job *j) {
  int64_t P = x->size[0] * x->size[1];
  em_parallel_items(P, P * j->H * j->W >= EM_PARALLEL_GRAIN, item, j);
}

/* Plane pl of an average pooling forward */
INLINE void avgpool_plane(int f64, const ap_job *j, int64_t pl) {
  int64_t H = j->H, W = j->W, oH = j->oH, oW = j->oW, xo = pl * H * W, yo = pl * oH * oW;
  for (int64_t oh = 0; oh < oH; oh++)
    for (int64_t ow = 0; ow < oW; ow++) {
      window w = avg_window(oh, ow, H, W, j->p);
      double s = 0;
      for (int64_t h = w.hs; h < w.he; h++)
        for (int64_t c = w.ws; c < w.we; c++) s += ld(j->xd, xo + h * W + c, f64);
      st(j->yd, yo + oh * oW + ow, w.divisor > 0 ? s / w.divisor : 0.0, f64);
    }
}

static void avgpool_plane_f32(void *j, int64_t pl) { avgpool_plane(0, j, pl); }
static void avgpool_plane_f64(void *j, int64_t pl) { avgpool_plane(1, j, pl); }

int em_cpu_avgpool2d_forward(em_tensor *y, const em_tensor *x, const em_pool2d_params *p) {
  ap_job j = ap_job_of(x, y, p);
  each_plane(x, x->dtype == EM_FLOAT64 ? avgpool_plane_f64 : avgpool_plane_f32, &j);
  return EM_OK;
}

INLINE void avgpool_bwd_t(int f64, em_tensor *gx, const em_tensor *gy, const em_pool2d_params *p) {
  int64_t P = gx->size[0] * gx->size[1], H = gx->size[2], W = gx->size[3];
  int64_t oH = gy->size[2], oW = gy->size[3];
  void *gxd = em_tensor_data(gx);
  const void *gyd = em_tensor_data(gy);
  #pragma omp parallel for schedule(static) if (P * H * W >= EM_PARALLEL_GRAIN)
  for (int64_t pl = 0; pl < P; pl++) {
    int64_t xo = pl * H * W, yo = pl * oH * oW;
    for (int64_t i = 0; i < H * W; i++) st(gxd, xo + i, 0.0, f64);
    for (int64_t oh = 0; oh < oH; oh++)
      for (int64_t ow = 0; ow < oW; ow++) {
        window w = avg_window(oh, ow, H, W, p);
        if (w.divisor == 0) continue;
        double g = ld(gyd, yo + oh * oW + ow, f64) / w.divisor;
        for (int64_t h = w.hs; h < w.he; h++)
          for (int64_t c = w.ws; c < w.we; c++) add(gxd, xo + h * W + c, g, f64);
      }
  }
}

int em_cpu_avgpool2d_backward(em_tensor *gx, const em_tensor *gy, const em_pool2d_params *p) {
  if (gx->dtype == EM_FLOAT64) avgpool_bwd_t(1, gx, gy, p);
  else avgpool_bwd_t(0, gx, gy, p);
  return EM_OK;
}

/* --- adaptive average pooling: output i of n pools [floor(i*in/n), ceil((i+1)*in/n)) --- */

static int64_t ada_start(int64_t i, int64_t n, int64_t in) { return i * in / n; }
static int64_t ada_end(int64_t i, int64_t n, int64_t in) { return ((i + 1) * in + n - 1) / n; }

/* Plane pl of an adaptive average pooling forward */
INLINE void adaptive_plane(int f64, const ap_job *j, int64_t pl) {
  int64_t H = j->H, W = j->W, oH = j->oH, oW = j->oW, xo = pl * H * W, yo = pl * oH * oW;
  for (int64_t oh = 0; oh < oH; oh++) {
    int64_t hs = ada_start(oh, oH, H), he = ada_end(oh, oH, H);
    for (int64_t ow = 0; ow < oW; ow++) {
      int64_t ws = ada_start(ow, oW, W), we = ada_end(ow, oW, W);
      double s = 0;
      for (int64_t h = hs; h < he; h++)
        for (int64_t c = ws; c < we; c++) s += ld(j->xd, xo + h * W + c, f64);
      st(j->yd, yo + oh * oW + ow, s / (double)((he - hs) * (we - ws)), f64);
    }
  }
}

static void adaptive_plane_f32(void *j, int64_t pl) { adaptive_plane(0, j, pl); }
static void adaptive_plane_f64(void *j, int64_t pl) { adaptive_plane(1, j, pl); }

int em_cpu_adaptive_avgpool2d_forward(em_tensor *y, const em_tensor *x) {
  ap_job j = ap_job_of(x, y, NULL);
  each_plane(x, x->dtype == EM_FLOAT64 ? adaptive_plane_f64 : adaptive_plane_f32, &j);
  return EM_OK;
}

INLINE void adaptive_bwd_t(int f64, em_tensor *gx, const em_tensor *gy) {
  int64_t P = gx->size[0] * gx->size[1], H = gx->size[2], W = gx->size[3];
  int64_t oH = gy->size[2], oW = gy->size[3];
  void *gxd = em_tensor_data(gx);
  const void *gyd = em_tensor_data(gy);
  #pragma omp parallel for schedule(static) if (P * H * W >= EM_PARALLEL_GRAIN)
  for (int64_t pl = 0; pl < P; pl++) {
    int64_t xo = pl * H * W, yo = pl * oH * oW;
    for (int64_t i = 0; i < H * W; i++) st(gxd, xo + i, 0.0, f64);
    for (int64_t oh = 0; oh < oH; oh++) {
      int64_t hs = ada_start(oh, oH, H), he = ada_end(oh, oH, H);
      for (int64_t ow = 0; ow < oW; ow++) {
        int64_t ws = ada_start(ow, oW, W), we = ada_end(ow, oW, W);
        double g = ld(gyd, yo + oh * oW + ow, f64) / (double)((he - hs) * (we - ws));
        for (int64_t h = hs; h < he; h++)
          for (int64_t c = ws; c < we; c++) add(gxd, xo + h * W + c, g, f64);
      }
    }
  }
}

int em_cpu_adaptive_avgpool2d_backward(em_tensor *gx, const em_tensor *gy) {
  if (gx->dtype == EM_FLOAT64) adaptive_bwd_t(1, gx, gy);
  else adaptive_bwd_t(0, gx, gy);
  return EM_OK;
}
