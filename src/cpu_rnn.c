/* CPU recurrent layers over whole sequences (forward and backpropagation through time)
 * and the embedding lookup. Products go straight to OpenBLAS's cblas: the input
 * projection of all steps is one gemm; each step is one gemm with w_hh and one fused
 * pass over its B x H cells for the gate nonlinearities, whose float32 copy vectorizes.
 *
 * Legend as rnn.h: T steps, B batch, In inputs (I is complex.h's, via cblas.h), H hidden,
 * G gates, GH = G*H, R = T*B.
 * Sequence matrices (x, y, work, grad_gates) have R rows in the input's layout: the row
 * of step t, batch b is t*ts + b*bs, so the B rows of one step are a matrix with a row
 * stride of bs rows, which cblas takes as its leading dimension. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "parallel.h"
#include "rnn.h"
#include "vmath.h"

#define INLINE static inline __attribute__((always_inline))
/* A step's cell pass is split over threads only from this many gate values: below it
 * (W3: B*4H = 32768) the vectorized pass takes tens of microseconds, less than what a
 * fork/join costs on a busy machine, once per step. */
#define RNN_CELL_GRAIN (1 << 18)

INLINE double ld(const void *p, int64_t i, int f64) {
  return f64 ? ((const double *)p)[i] : ((const float *)p)[i];
}

INLINE void st(void *p, int64_t i, double v, int f64) {
  if (f64) ((double *)p)[i] = v;
  else ((float *)p)[i] = (float)v;
}

/* the address of element i of p (pointer arithmetic only) */
INLINE void *at(const void *p, int64_t i, int f64) {
  return (char *)p + i * (f64 ? (int64_t)sizeof(double) : (int64_t)sizeof(float));
}

INLINE double sigm_f64(double v) { return 1.0 / (1.0 + exp(-v)); }
INLINE float sigm_f32(float v) { return 1.0f / (1.0f + em_exp_f32(-v)); }
/* tanh(v) = 2 / (1 + e^(-2v)) - 1: absolute error about 1e-7 */
INLINE float tanh_f32(float v) { return 2.0f / (1.0f + em_exp_f32(-2.0f * v)) - 1.0f; }

/* c (m, n) := alpha * op(a) @ op(b) + beta * c, row-major with leading dims; ta, tb
 * transpose a (stored (k, m)) and b (stored (n, k)). */
static void gemm(int f64, int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha,
                 const void *a, int64_t lda, const void *b, int64_t ldb, double beta, void *c,
                 int64_t ldc) {
  enum CBLAS_TRANSPOSE oa = ta ? CblasTrans : CblasNoTrans, ob = tb ? CblasTrans : CblasNoTrans;
  if (f64)
    cblas_dgemm(CblasRowMajor, oa, ob, (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda,
                b, (blasint)ldb, beta, c, (blasint)ldc);
  else
    cblas_sgemm(CblasRowMajor, oa, ob, (blasint)m, (blasint)n, (blasint)k, (float)alpha, a,
                (blasint)lda, b, (blasint)ldb, (float)beta, c, (blasint)ldc);
}

/* v (n) += alpha * colsum(a (m, n)), through gemv with ones (m) */
static void colsum(int f64, int64_t m, int64_t n, double alpha, const void *a, const void *ones,
                   void *v) {
  if (f64)
    cblas_dgemv(CblasRowMajor, CblasTrans, (blasint)m, (blasint)n, alpha, a, (blasint)n, ones, 1,
                1.0, v, 1);
  else
    cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)m, (blasint)n, (float)alpha, a, (blasint)n,
                ones, 1, 1.0f, v, 1);
}

/* A scratch tensor of n elements in like's dtype; the caller releases it. */
static int scratch(em_tensor *t, const em_tensor *like, int64_t n) {
  em_tensor_init(t, like->ctx, like->dtype, like->device);
  return em_tensor_resize(t, 1, &n);
}

static void *data_or_null(const em_tensor *t) { return t ? em_tensor_data(t) : NULL; }

/* The geometry of one call, from a sequence (T, B, F) or (B, T, F) and H. */
typedef struct seq {
  int f64;
  em_rnn_mode mode;
  int64_t T, B, H, G, GH, R;
  int64_t ts, bs;          /* row of (t, b) = t*ts + b*bs */
} seq;

static seq seq_of(const em_tensor *s, int64_t H, const em_rnn_params *p) {
  seq q;
  q.f64 = s->dtype == EM_FLOAT64;
  q.mode = p->mode;
  q.T = s->size[p->batch_first ? 1 : 0];
  q.B = s->size[p->batch_first ? 0 : 1];
  q.H = H;
  q.G = em_rnn_gates(p->mode);
  q.GH = q.G * H;
  q.R = q.T * q.B;
  q.ts = p->batch_first ? 1 : q.B;
  q.bs = p->batch_first ? q.T : 1;
  return q;
}

/* Row r of a matrix with `cols` columns. */
INLINE void *row(const seq *q, const void *m, int64_t r, int64_t cols) {
  return at(m, r * cols, q->f64);
}

/* The B rows of one step t, for the cell passes: gates, extras (c or W_hn h + b_hn)
 * and h of step t (row strides ld_g, ld_h, ld_h); h and c of step t - 1 (h_0, c_0 at
 * t = 0; row stride ld_hp); and for the backward, the gradients (dh, dc (B, H) dense). */
typedef struct step {
  void *g, *e, *y;
  const void *hp, *cp;
  const void *bx, *bh, *hh;    /* forward: biases (GH), GRU's h_{t-1} W_hh^T (B, GH) */
  const void *gy;              /* backward: dL/dy_t or NULL */
  void *dh, *dc, *dg, *dgh;
  int64_t ld_g, ld_h, ld_hp;
} step;

/* --- cells: one batch row of one step, j over H. The same equations twice: float64
 * through libm (the reference) and float32 in float arithmetic with em_exp_f32
 * (vmath.h), so those loops vectorize; spec/nn/rnn_spec.lua checks that the two agree.
 * Pointers of one call never overlap. --- */

/* g (GH): the step's pre-activations without biases, replaced by the activations;
 * bx (GH): the biases added to them; h (H) := the new state. */
static void rnn_cell_f64(int relu, int64_t H, double *restrict g, const double *restrict bx,
                         double *restrict h) {
  for (int64_t j = 0; j < H; j++) {
    double v = g[j] + bx[j];
    h[j] = g[j] = relu ? (v > 0 ? v : 0) : tanh(v);
  }
}

static void rnn_cell_f32(int relu, int64_t H, float *restrict g, const float *restrict bx,
                         float *restrict h) {
  for (int64_t j = 0; j < H; j++) {
    float v = g[j] + bx[j];
    h[j] = g[j] = relu ? (v > 0 ? v : 0) : tanh_f32(v);
  }
}

/* c (H) := the new cell state from cprev (H) */
static void lstm_cell_f64(int64_t H, double *restrict g, const double *restrict bx,
                          const double *restrict cprev, double *restrict c, double *restrict h) {
  for (int64_t j = 0; j < H; j++) {
    double i = sigm_f64(g[j] + bx[j]), f = sigm_f64(g[H + j] + bx[H + j]);
    double gg = tanh(g[2 * H + j] + bx[2 * H + j]), o = sigm_f64(g[3 * H + j] + bx[3 * H + j]);
    g[j] = i, g[H + j] = f, g[2 * H + j] = gg, g[3 * H + j] = o;
    c[j] = f * cprev[j] + i * gg;
    h[j] = o * tanh(c[j]);
  }
}

static void lstm_cell_f32(int64_t H, float *restrict g, const float *restrict bx,
                          const float *restrict cprev, float *restrict c, float *restrict h) {
  for (int64_t j = 0; j < H; j++) {
    float i = sigm_f32(g[j] + bx[j]), f = sigm_f32(g[H + j] + bx[H + j]);
    float gg = tanh_f32(g[2 * H + j] + bx[2 * H + j]), o = sigm_f32(g[3 * H + j] + bx[3 * H + j]);
    g[j] = i, g[H + j] = f, g[2 * H + j] = gg, g[3 * H + j] = o;
    c[j] = f * cprev[j] + i * gg;
    h[j] = o * tanh_f32(c[j]);
  }
}

/* hh (GH): h_prev W_hh^T without b_hh (bh); hn (H) := W_hn h_prev + b_hn, saved */
static void gru_cell_f64(int64_t H, double *restrict g, const double *restrict bx,
                         const double *restrict hh, const double *restrict bh,
                         const double *restrict hprev, double *restrict hn, double *restrict h) {
  for (int64_t j = 0; j < H; j++) {
    double r = sigm_f64(g[j] + bx[j] + hh[j] + bh[j]);
    double z = sigm_f64(g[H + j] + bx[H + j] + hh[H + j] + bh[H + j]);
    hn[j] = hh[2 * H + j] + bh[2 * H + j];
    double n = tanh(g[2 * H + j] + bx[2 * H + j] + r * hn[j]);
    g[j] = r, g[H + j] = z, g[2 * H + j] = n;
    h[j] = (1 - z) * n + z * hprev[j];
  }
}

static void gru_cell_f32(int64_t H, float *restrict g, const float *restrict bx,
                         const float *restrict hh, const float *restrict bh,
                         const float *restrict hprev, float *restrict hn, float *restrict h) {
  for (int64_t j = 0; j < H; j++) {
    float r = sigm_f32(g[j] + bx[j] + hh[j] + bh[j]);
    float z = sigm_f32(g[H + j] + bx[H + j] + hh[H + j] + bh[H + j]);
    hn[j] = hh[2 * H + j] + bh[2 * H + j];
    float n = tanh_f32(g[2 * H + j] + bx[2 * H + j] + r * hn[j]);
    g[j] = r, g[H + j] = z, g[2 * H + j] = n;
    h[j] = (1 - z) * n + z * hprev[j];
  }
}

/* --- forward --- */

/* Row b of step s. */
static void cell_forward(const seq *q, const step *s, int64_t b) {
  int f64 = q->f64;
  int64_t H = q->H;
  void *g = at(s->g, b * s->ld_g, f64), *h = at(s->y, b * s->ld_h, f64);
  switch (q->mode) {
  case EM_RNN_LSTM: {
    const void *cp = at(s->cp, b * s->ld_hp, f64);
    void *c = at(s->e, b * s->ld_h, f64);
    if (f64) lstm_cell_f64(H, g, s->bx, cp, c, h);
    else lstm_cell_f32(H, g, s->bx, cp, c, h);
    break;
  }
  case EM_RNN_GRU: {
    const void *hp = at(s->hp, b * s->ld_hp, f64), *hh = at(s->hh, b * q->GH, f64);
    void *hn = at(s->e, b * s->ld_h, f64);
    if (f64) gru_cell_f64(H, g, s->bx, hh, s->bh, hp, hn, h);
    else gru_cell_f32(H, g, s->bx, hh, s->bh, hp, hn, h);
    break;
  }
  default:
    if (f64) rnn_cell_f64(q->mode == EM_RNN_RELU, H, g, s->bx, h);
    else rnn_cell_f32(q->mode == EM_RNN_RELU, H, g, s->bx, h);
    break;
  }
}

/* The batch rows of one step; a plain if, not an OpenMP if clause, so a small batch never
 * enters the OpenMP runtime (parallel.h): this runs once per time step. */
static void cells_forward(const seq *q, const step *s) {
  if (q->B * q->GH >= RNN_CELL_GRAIN) {
    #pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < q->B; b++) cell_forward(q, s, b);
  } else {
    for (int64_t b = 0; b < q->B; b++) cell_forward(q, s, b);
  }
}

/* bx (GH) := b_ih (+ b_hh unless GRU), bh (GH) := b_hh; zeros for missing biases */
INLINE void bias_vectors(const seq *q, const em_rnn_weights *w, void *bx, void *bh) {
  const void *bi = data_or_null(w->b_ih), *bhh = data_or_null(w->b_hh);
  for (int64_t j = 0; j < q->GH; j++) {
    double vi = bi ? ld(bi, j, q->f64) : 0, vh = bhh ? ld(bhh, j, q->f64) : 0;
    st(bx, j, q->mode == EM_RNN_GRU ? vi : vi + vh, q->f64);
    st(bh, j, vh, q->f64);
  }
}

static int cpu_forward(em_tensor *y, em_tensor *h_n, em_tensor *c_n, em_tensor *work,
                       const em_tensor *x, const em_tensor *h_0, const em_tensor *c_0,
                       const em_rnn_weights *w, const em_rnn_params *p) {
  seq q = seq_of(y, w->w_hh->size[1], p);
  int f64 = q.f64;
  int64_t H = q.H, GH = q.GH, B = q.B, In = w->w_ih->size[1];
  em_tensor tmp;
  int status = scratch(&tmp, x, 2 * GH + B * GH);
  if (status != EM_OK) return status;
  void *bx = em_tensor_data(&tmp), *bh = at(bx, GH, f64), *hh = at(bx, 2 * GH, f64);
  bias_vectors(&q, w, bx, bh);
  void *gates = em_tensor_data(work), *ext = at(gates, q.R * GH, f64), *yd = em_tensor_data(y);
  const void *wih = em_tensor_data(w->w_ih), *whh = em_tensor_data(w->w_hh);
  const void *h0 = em_tensor_data(h_0), *c0 = data_or_null(c_0);
  /* gates (R, GH) := x (R, In) @ w_ih^T, all steps at once */
  gemm(f64, 0, 1, q.R, GH, In, 1, em_tensor_data(x), In, wih, In, 0, gates, GH);
  for (int64_t t = 0; t < q.T; t++) {
    /* the step's B rows: gates and extras of step t, h and c of step t - 1 */
    void *gt = row(&q, gates, t * q.ts, GH), *et = row(&q, ext, t * q.ts, H);
    void *yt = row(&q, yd, t * q.ts, H);
    const void *hp = t ? row(&q, yd, (t - 1) * q.ts, H) : h0;
    const void *cp = t ? row(&q, ext, (t - 1) * q.ts, H) : c0;
    int64_t ld_g = q.bs * GH, ld_h = q.bs * H, ld_hp = t ? ld_h : H;
    if (q.mode == EM_RNN_GRU)   /* hh (B, GH) := h_{t-1} @ w_hh^T */
      gemm(f64, 0, 1, B, GH, H, 1, hp, ld_hp, whh, H, 0, hh, GH);
    else                        /* gates_t (B, GH) += h_{t-1} @ w_hh^T */
      gemm(f64, 0, 1, B, GH, H, 1, hp, ld_hp, whh, H, 1, gt, ld_g);
    step s = {.g = gt, .e = et, .y = yt, .hp = hp, .cp = cp, .bx = bx, .bh = bh, .hh = hh,
              .ld_g = ld_g, .ld_h = ld_h, .ld_hp = ld_hp};
    cells_forward(&q, &s);
  }
  /* final states: the rows of the last step */
  for (int64_t b = 0; b < B; b++) {
    int64_t r = (q.T - 1) * q.ts + b * q.bs;
    size_t n = (size_t)H * (f64 ? sizeof(double) : sizeof(float));
    if (h_n) memcpy(at(em_tensor_data(h_n), b * H, f64), row(&q, yd, r, H), n);
    if (c_n) memcpy(at(em_tensor_data(c_n), b * H, f64), row(&q, ext, r, H), n);
  }
  em_tensor_release(&tmp);
  return EM_OK;
}

/* --- backward cells: dh (H) holds dL/dh_t (dL/dy_t already added) and leaves the part
 * of dL/dh_{t-1} that does not go through w_hh; dg, dgh (GH) := the gradients of the
 * input-side and hidden-side pre-activations (the same for all but GRU) --- */

/* h (H): the step's output */
static void rnn_cell_back_f64(int relu, int64_t H, const double *restrict h,
                              double *restrict dh, double *restrict dg) {
  for (int64_t j = 0; j < H; j++) {
    dg[j] = relu ? (h[j] > 0 ? dh[j] : 0) : dh[j] * (1 - h[j] * h[j]);
    dh[j] = 0;
  }
}

static void rnn_cell_back_f32(int relu, int64_t H, const float *restrict h,
                              float *restrict dh, float *restrict dg) {
  for (int64_t j = 0; j < H; j++) {
    dg[j] = relu ? (h[j] > 0 ? dh[j] : 0) : dh[j] * (1 - h[j] * h[j]);
    dh[j] = 0;
  }
}

/* g (GH): the activations i, f, g, o; c, cprev (H): the cell states; dc (H): dL/dc_t
 * in, dL/dc_{t-1} out */
static void lstm_cell_back_f64(int64_t H, const double *restrict g, const double *restrict c,
                               const double *restrict cprev, double *restrict dh,
                               double *restrict dc, double *restrict dg) {
  for (int64_t j = 0; j < H; j++) {
    double i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j], tc = tanh(c[j]);
    double dcv = dc[j] + dh[j] * o * (1 - tc * tc);
    dg[j] = dcv * gg * i * (1 - i);
    dg[H + j] = dcv * cprev[j] * f * (1 - f);
    dg[2 * H + j] = dcv * i * (1 - gg * gg);
    dg[3 * H + j] = dh[j] * tc * o * (1 - o);
    dc[j] = dcv * f;
    dh[j] = 0;
  }
}

static void lstm_cell_back_f32(int64_t H, const float *restrict g, const float *restrict c,
                               const float *restrict cprev, float *restrict dh,
                               float *restrict dc, float *restrict dg) {
  for (int64_t j = 0; j < H; j++) {
    float i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j], tc = tanh_f32(c[j]);
    float dcv = dc[j] + dh[j] * o * (1 - tc * tc);
    dg[j] = dcv * gg * i * (1 - i);
    dg[H + j] = dcv * cprev[j] * f * (1 - f);
    dg[2 * H + j] = dcv * i * (1 - gg * gg);
    dg[3 * H + j] = dh[j] * tc * o * (1 - o);
    dc[j] = dcv * f;
    dh[j] = 0;
  }
}

/* g (GH): the activations r, z, n; hn (H): W_hn h_{t-1} + b_hn */
static void gru_cell_back_f64(int64_t H, const double *restrict g, const double *restrict hn,
                              const double *restrict hprev, double *restrict dh,
                              double *restrict dg, double *restrict dgh) {
  for (int64_t j = 0; j < H; j++) {
    double r = g[j], z = g[H + j], n = g[2 * H + j];
    double dn = dh[j] * (1 - z) * (1 - n * n);
    dgh[j] = dg[j] = dn * hn[j] * r * (1 - r);
    dgh[H + j] = dg[H + j] = dh[j] * (hprev[j] - n) * z * (1 - z);
    dg[2 * H + j] = dn;
    dgh[2 * H + j] = dn * r;
    dh[j] *= z;
  }
}

static void gru_cell_back_f32(int64_t H, const float *restrict g, const float *restrict hn,
                              const float *restrict hprev, float *restrict dh,
                              float *restrict dg, float *restrict dgh) {
  for (int64_t j = 0; j < H; j++) {
    float r = g[j], z = g[H + j], n = g[2 * H + j];
    float dn = dh[j] * (1 - z) * (1 - n * n);
    dgh[j] = dg[j] = dn * hn[j] * r * (1 - r);
    dgh[H + j] = dg[H + j] = dh[j] * (hprev[j] - n) * z * (1 - z);
    dg[2 * H + j] = dn;
    dgh[2 * H + j] = dn * r;
    dh[j] *= z;
  }
}

/* Row b of step s: dh += dL/dy_t, then the cell. */
static void cell_backward(const seq *q, const step *s, int64_t b) {
  int f64 = q->f64;
  int64_t H = q->H;
  void *dh = at(s->dh, b * H, f64), *dg = at(s->dg, b * s->ld_g, f64);
  const void *g = at(s->g, b * s->ld_g, f64), *y = at(s->y, b * s->ld_h, f64);
  if (s->gy) {
    const void *gy = at(s->gy, b * s->ld_h, f64);
    for (int64_t j = 0; j < H; j++) st(dh, j, ld(dh, j, f64) + ld(gy, j, f64), f64);
  }
  switch (q->mode) {
  case EM_RNN_LSTM: {
    const void *c = at(s->e, b * s->ld_h, f64), *cp = at(s->cp, b * s->ld_hp, f64);
    void *dc = at(s->dc, b * H, f64);
    if (f64) lstm_cell_back_f64(H, g, c, cp, dh, dc, dg);
    else lstm_cell_back_f32(H, g, c, cp, dh, dc, dg);
    break;
  }
  case EM_RNN_GRU: {
    const void *hn = at(s->e, b * s->ld_h, f64), *hp = at(s->hp, b * s->ld_hp, f64);
    void *dgh = at(s->dgh, b * s->ld_g, f64);
    if (f64) gru_cell_back_f64(H, g, hn, hp, dh, dg, dgh);
    else gru_cell_back_f32(H, g, hn, hp, dh, dg, dgh);
    break;
  }
  default:
    if (f64) rnn_cell_back_f64(q->mode == EM_RNN_RELU, H, y, dh, dg);
    else rnn_cell_back_f32(q->mode == EM_RNN_RELU, H, y, dh, dg);
    break;
  }
}

static void cells_backward(const seq *q, const step *s) {
  if (q->B * q->GH >= RNN_CELL_GRAIN) {
    #pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < q->B; b++) cell_backward(q, s, b);
  } else {
    for (int64_t b = 0; b < q->B; b++) cell_backward(q, s, b);
  }
}

static int cpu_backward_input(em_tensor *gx, em_tensor *gh_0, em_tensor *gc_0,
                              em_tensor *grad_gates, const em_tensor *y, const em_tensor *work,
                              const em_tensor *h_0, const em_tensor *c_0,
                              const em_rnn_weights *w, const em_tensor *gy,
                              const em_tensor *g_hn, const em_tensor *g_cn,
                              const em_rnn_params *p) {
  seq q = seq_of(y, w->w_hh->size[1], p);
  int f64 = q.f64;
  int64_t H = q.H, GH = q.GH, B = q.B, In = w->w_ih->size[1];
  int gru = q.mode == EM_RNN_GRU, lstm = q.mode == EM_RNN_LSTM;
  em_tensor tmp;
  int status = scratch(&tmp, y, 2 * B * H);
  if (status != EM_OK) return status;
  void *dh = em_tensor_data(&tmp), *dc = at(dh, B * H, f64);
  size_t nbh = (size_t)(B * H) * (f64 ? sizeof(double) : sizeof(float));
  if (g_hn) memcpy(dh, em_tensor_data(g_hn), nbh);
  else memset(dh, 0, nbh);
  if (g_cn) memcpy(dc, em_tensor_data(g_cn), nbh);
  else memset(dc, 0, nbh);
  void *gates = em_tensor_data(work), *ext = at(gates, q.R * GH, f64), *yd = em_tensor_data(y);
  const void *gyd = data_or_null(gy);
  const void *h0 = em_tensor_data(h_0), *c0 = data_or_null(c_0);
  void *dg = em_tensor_data(grad_gates), *dgh = gru ? at(dg, q.R * GH, f64) : dg;
  int64_t ld_g = q.bs * GH, ld_h = q.bs * H;
  for (int64_t t = q.T - 1; t >= 0; t--) {
    int64_t r0 = t * q.ts;
    const void *hp = t ? row(&q, yd, r0 - q.ts, H) : h0;
    const void *cp = t ? row(&q, ext, r0 - q.ts, H) : c0;
    void *dght = row(&q, dgh, r0, GH);
    step s = {.g = row(&q, gates, r0, GH), .e = row(&q, ext, r0, H), .y = row(&q, yd, r0, H),
              .hp = hp, .cp = cp, .gy = gyd ? row(&q, gyd, r0, H) : NULL, .dh = dh, .dc = dc,
              .dg = row(&q, dg, r0, GH), .dgh = dght, .ld_g = ld_g, .ld_h = ld_h,
              .ld_hp = t ? ld_h : H};
    cells_backward(&q, &s);
    /* dh (B, H) += dgh_t (B, GH) @ w_hh: the gradient flowing to h_{t-1} */
    if (t > 0 || gh_0)
      gemm(f64, 0, 0, B, H, GH, 1, dght, ld_g, em_tensor_data(w->w_hh), H, 1, dh, H);
  }
  if (gh_0) memcpy(em_tensor_data(gh_0), dh, nbh);
  if (gc_0 && lstm) memcpy(em_tensor_data(gc_0), dc, nbh);
  /* gx (R, In) := dg (R, GH) @ w_ih, all steps at once */
  if (gx)
    gemm(f64, 0, 0, q.R, In, GH, 1, dg, GH, em_tensor_data(w->w_ih), In, 0, em_tensor_data(gx), In);
  em_tensor_release(&tmp);
  return EM_OK;
}

/* --- parameter gradients: each a gemm (or gemv) over all R rows at once --- */

static int cpu_backward_params(const em_rnn_grads *g, const em_tensor *x, const em_tensor *y,
                               const em_tensor *h_0, const em_tensor *grad_gates,
                               const em_rnn_params *p, double scale) {
  seq q = seq_of(y, g->w_hh->size[1], p);
  int f64 = q.f64;
  int64_t H = q.H, GH = q.GH, In = g->w_ih->size[1];
  const void *dg = em_tensor_data(grad_gates);
  const void *dgh = q.mode == EM_RNN_GRU ? at(dg, q.R * GH, f64) : dg;
  em_tensor tmp;
  int status = scratch(&tmp, y, q.R * H + q.R);
  if (status != EM_OK) return status;
  void *hprev = em_tensor_data(&tmp), *ones = at(hprev, q.R * H, f64);
  /* hprev (R, H): the state each row's step started from (h_0 for step 0) */
  const void *yd = em_tensor_data(y), *h0 = em_tensor_data(h_0);
  size_t nh = (size_t)H * (f64 ? sizeof(double) : sizeof(float));
  for (int64_t t = 0; t < q.T; t++)
    for (int64_t b = 0; b < q.B; b++) {
      int64_t r = t * q.ts + b * q.bs;
      memcpy(row(&q, hprev, r, H), t ? row(&q, yd, r - q.ts, H) : at(h0, b * H, f64), nh);
    }
  for (int64_t r = 0; r < q.R; r++) st(ones, r, 1, f64);
  /* w_ih (GH, In) += scale * dg^T (GH, R) @ x (R, In); w_hh likewise with hprev */
  gemm(f64, 1, 0, GH, In, q.R, scale, dg, GH, em_tensor_data(x), In, 1, em_tensor_data(g->w_ih), In);
  gemm(f64, 1, 0, GH, H, q.R, scale, dgh, GH, hprev, H, 1, em_tensor_data(g->w_hh), H);
  if (g->b_ih) colsum(f64, q.R, GH, scale, dg, ones, em_tensor_data(g->b_ih));
  if (g->b_hh) colsum(f64, q.R, GH, scale, dgh, ones, em_tensor_data(g->b_hh));
  em_tensor_release(&tmp);
  return EM_OK;
}

/* --- embedding: idx (N) int64, w / gw (V, E), y / gy (N, E) --- */

/* EM_OK when every index - base is in [0, V). */
static int check_indices(const char *op, const int64_t *idx, int64_t N, int64_t V, int64_t base) {
  for (int64_t n = 0; n < N; n++) {
    int64_t i = idx[n] - base;
    if (i < 0 || i >= V)
      return em_error("%s: index %lld out of range for %lld entries", op, (long long)idx[n],
                      (long long)V);
  }
  return EM_OK;
}

static int cpu_embedding_forward(em_tensor *y, const em_tensor *idx, const em_tensor *w,
                                 int64_t base) {
  const int64_t *id = em_tensor_data(idx);
  int64_t N = idx->size[0], V = w->size[0], E = w->size[1];
  int f64 = w->dtype == EM_FLOAT64;
  int status = check_indices("embedding_forward", id, N, V, base);
  if (status != EM_OK) return status;
  size_t n = (size_t)E * (f64 ? sizeof(double) : sizeof(float));
  for (int64_t k = 0; k < N; k++)
    memcpy(at(em_tensor_data(y), k * E, f64), at(em_tensor_data(w), (id[k] - base) * E, f64), n);
  return EM_OK;
}

INLINE void embedding_backward_t(int f64, em_tensor *gw, const int64_t *id, const em_tensor *gy,
                                 int64_t padding, int64_t base, double scale) {
  int64_t N = gy->size[0], E = gy->size[1];
  void *gwd = em_tensor_data(gw);
  const void *gyd = em_tensor_data(gy);
  for (int64_t k = 0; k < N; k++) {
    if (id[k] == padding) continue;
    void *dst = at(gwd, (id[k] - base) * E, f64);
    const void *src = at(gyd, k * E, f64);
    for (int64_t e = 0; e < E; e++) st(dst, e, ld(dst, e, f64) + scale * ld(src, e, f64), f64);
  }
}

static int cpu_embedding_backward(em_tensor *gw, const em_tensor *idx, const em_tensor *gy,
                                  int64_t padding, int64_t base, double scale) {
  const int64_t *id = em_tensor_data(idx);
  int status = check_indices("embedding_backward", id, idx->size[0], gw->size[0], base);
  if (status != EM_OK) return status;
  if (gw->dtype == EM_FLOAT64) embedding_backward_t(1, gw, id, gy, padding, base, scale);
  else embedding_backward_t(0, gw, id, gy, padding, base, scale);
  return EM_OK;
}

const struct em_rnn_backend em_cpu_rnn = {
  .forward = cpu_forward,
  .backward_input = cpu_backward_input,
  .backward_params = cpu_backward_params,
  .embedding_forward = cpu_embedding_forward,
  .embedding_backward = cpu_embedding_backward,
};
