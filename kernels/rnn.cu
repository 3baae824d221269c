/* The rnn family on the GPU: recurrent layers (Elman RNN with tanh or ReLU, LSTM, GRU)
 * over whole sequences, forward and backpropagation through time, and the embedding
 * lookup. Semantics, layouts and the saved work are src/rnn.h's; the steps mirror
 * src/cpu_rnn.c: the input projection of all steps is one cuBLAS gemm, each step one
 * gemm with w_hh and one fused kernel over its B x H cells, and the parameter gradients
 * are gemms over all R rows at once. The recurrent ops never wait for the device; the
 * embedding ops read back one value each, to report an index out of range as rnn.h says.
 *
 * Why not cuDNN's RNN API: it keeps the activations in an opaque reserve space of its
 * own size and layout and wants the weights packed into its own weight space, while
 * rnn.h fixes `work` and `grad_gates` (Ember's layout, sized and checked by rnn.c, the
 * same on every backend, kept by the caller between backward_input and backward_params)
 * and the weights as PyTorch's separate tensors. Using it would mean a weight copy per
 * call and a work buffer the CPU cannot read. The products here are the same cuBLAS
 * gemms cuDNN's standard algorithm runs; what cuDNN adds is persistent kernels that keep
 * w_hh on chip across steps for small batches, a fast path to land with a benchmark.
 *
 * Legend as rnn.h: T steps, B batch, In inputs, H hidden, G gates, GH = G*H, R = T*B.
 * Sequence matrices (x, y, work, grad_gates) have R rows in the input's layout: the row
 * of step t, batch b is t*ts + b*bs, so the B rows of one step are a matrix whose rows
 * are bs rows apart, which cuBLAS takes as its leading dimension. */
#include <limits.h>

#include <cublas_v2.h>

#include "cuda_ops.cuh"

extern "C" {
#include "rnn.h"
}

/* --- cells: one step, a thread per (b, j) of B x H --- */

template <typename T>
static __device__ __forceinline__ T sigm(T v) { return (T)1 / ((T)1 + exp(-v)); }

/* b_ih[k] + b_hh[k], either may be missing */
template <typename T>
static __device__ __forceinline__ T bias2(const T *bi, const T *bh, int64_t k) {
  return (bi ? bi[k] : (T)0) + (bh ? bh[k] : (T)0);
}

/* One forward step. g: the step's pre-activations without biases (B rows ld_g apart),
 * replaced by the activations; e: the extra block (c for LSTM, W_hn h + b_hn for GRU);
 * y: h of this step (rows ld_h apart); hp, cp: h and c of the step before (rows ld_hp
 * apart; h_0, c_0 at t = 0); hh: GRU's h_{t-1} W_hh^T without b_hh (B, GH) dense;
 * hn, cn (B, H): the final states, written on the last step only (else NULL). */
template <typename T>
struct fwd_step {
  T *g, *e, *y, *hn, *cn;
  const T *hp, *cp, *hh;
  int64_t ld_g, ld_h, ld_hp;
};

template <typename T>
__global__ void cell_fwd_kernel(fwd_step<T> s, const T *bi, const T *bh, int mode, int64_t B,
                                int64_t H) {
  EM_CUDA_LOOP(i, B * H) {
    int64_t b = i / H, j = i % H;
    T *g = s.g + b * s.ld_g;
    T h, c = 0;
    switch (mode) {
    case EM_RNN_LSTM: {
      T ig = sigm(g[j] + bias2(bi, bh, j)), fg = sigm(g[H + j] + bias2(bi, bh, H + j));
      T gg = tanh(g[2 * H + j] + bias2(bi, bh, 2 * H + j));
      T og = sigm(g[3 * H + j] + bias2(bi, bh, 3 * H + j));
      g[j] = ig, g[H + j] = fg, g[2 * H + j] = gg, g[3 * H + j] = og;
      c = fg * s.cp[b * s.ld_hp + j] + ig * gg;
      s.e[b * s.ld_h + j] = c;
      h = og * tanh(c);
      break;
    }
    case EM_RNN_GRU: {
      const T *hh = s.hh + b * 3 * H;
      T r = sigm(g[j] + (bi ? bi[j] : (T)0) + hh[j] + (bh ? bh[j] : (T)0));
      T z = sigm(g[H + j] + (bi ? bi[H + j] : (T)0) + hh[H + j] + (bh ? bh[H + j] : (T)0));
      T hn = hh[2 * H + j] + (bh ? bh[2 * H + j] : (T)0);
      T n = tanh(g[2 * H + j] + (bi ? bi[2 * H + j] : (T)0) + r * hn);
      g[j] = r, g[H + j] = z, g[2 * H + j] = n;
      s.e[b * s.ld_h + j] = hn;
      h = (1 - z) * n + z * s.hp[b * s.ld_hp + j];
      break;
    }
    default: {
      T v = g[j] + bias2(bi, bh, j);
      h = mode == EM_RNN_RELU ? (v > 0 ? v : (T)0) : tanh(v);
      g[j] = h;
      break;
    }
    }
    s.y[b * s.ld_h + j] = h;
    if (s.hn) s.hn[i] = h;
    if (s.cn) s.cn[i] = c;
  }
}

/* One backward step. dh (B, H): dL/dh_t without dL/dy_t in, the part of dL/dh_{t-1}
 * that does not go through w_hh out; dc (B, H): dL/dc_t in, dL/dc_{t-1} out (LSTM);
 * gy: dL/dy_t (rows ld_h apart) or NULL; dg, dgh: the gradients of the input-side and
 * hidden-side pre-activations (rows ld_g apart; the same array but for GRU). g, e, y,
 * hp, cp as the forward left them. */
template <typename T>
struct bwd_step {
  const T *g, *e, *y, *hp, *cp, *gy;
  T *dh, *dc, *dg, *dgh;
  int64_t ld_g, ld_h, ld_hp;
};

template <typename T>
__global__ void cell_bwd_kernel(bwd_step<T> s, int mode, int64_t B, int64_t H) {
  EM_CUDA_LOOP(i, B * H) {
    int64_t b = i / H, j = i % H;
    const T *g = s.g + b * s.ld_g;
    T *dg = s.dg + b * s.ld_g;
    T dh = s.dh[i] + (s.gy ? s.gy[b * s.ld_h + j] : (T)0);
    switch (mode) {
    case EM_RNN_LSTM: {
      T ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j];
      T tc = tanh(s.e[b * s.ld_h + j]);
      T dcv = s.dc[i] + dh * og * (1 - tc * tc);
      dg[j] = dcv * gg * ig * (1 - ig);
      dg[H + j] = dcv * s.cp[b * s.ld_hp + j] * fg * (1 - fg);
      dg[2 * H + j] = dcv * ig * (1 - gg * gg);
      dg[3 * H + j] = dh * tc * og * (1 - og);
      s.dc[i] = dcv * fg;
      s.dh[i] = 0;
      break;
    }
    case EM_RNN_GRU: {
      T *dgh = s.dgh + b * s.ld_g;
      T r = g[j], z = g[H + j], n = g[2 * H + j];
      T dn = dh * (1 - z) * (1 - n * n);
      dgh[j] = dg[j] = dn * s.e[b * s.ld_h + j] * r * (1 - r);
      dgh[H + j] = dg[H + j] = dh * (s.hp[b * s.ld_hp + j] - n) * z * (1 - z);
      dg[2 * H + j] = dn;
      dgh[2 * H + j] = dn * r;
      s.dh[i] = dh * z;
      break;
    }
    default: {
      T h = s.y[b * s.ld_h + j];
      dg[j] = mode == EM_RNN_RELU ? (h > 0 ? dh : (T)0) : dh * (1 - h * h);
      s.dh[i] = 0;
      break;
    }
    }
  }
}

/* hprev (R, H) := the state each row's step started from: y's row of the step before,
 * h_0's row b for step 0; ones (R) := 1 (for the bias gradients' column sums) */
template <typename T>
__global__ void hprev_kernel(T *hprev, T *ones, const T *y, const T *h0, int64_t T_, int64_t B,
                             int64_t H, int batch_first) {
  EM_CUDA_LOOP(i, T_ * B * H) {
    int64_t r = i / H, j = i % H;
    int64_t t = batch_first ? r % T_ : r / B, b = batch_first ? r / T_ : r % B;
    int64_t ts = batch_first ? 1 : B;
    hprev[i] = t ? y[(r - ts) * H + j] : h0[b * H + j];
    if (j == 0) ones[r] = 1;
  }
}

/* --- embedding: idx (N) int64, w / gw (V, E), y / gy (N, E) --- */

/* y := the rows of w at idx - base; a row whose index is out of [0, V) gets zeros and
 * *first := the smallest such position */
template <typename T>
__global__ void embedding_fwd_kernel(T *y, const int64_t *idx, const T *w, int64_t N, int64_t V,
                                     int64_t E, int64_t base, unsigned long long *first) {
  EM_CUDA_LOOP(i, N * E) {
    int64_t k = i / E, r = idx[k] - base;
    if (r < 0 || r >= V) {
      y[i] = 0;
      if (i % E == 0) atomicMin(first, (unsigned long long)k);
    } else {
      y[i] = w[r * E + i % E];
    }
  }
}

/* *first := the smallest position whose index - base is out of [0, V) */
__global__ void bad_index_kernel(const int64_t *idx, int64_t N, int64_t V, int64_t base,
                                 unsigned long long *first) {
  EM_CUDA_LOOP(k, N) {
    int64_t r = idx[k] - base;
    if (r < 0 || r >= V) atomicMin(first, (unsigned long long)k);
  }
}

/* gw rows at idx - base += scale * gy's rows, skipping idx == padding; repeated indices
 * meet in atomicAdd (the order of a row's sum is not fixed). Writes nothing when
 * bad_index_kernel found a bad index. */
template <typename T>
__global__ void embedding_bwd_kernel(T *gw, const int64_t *idx, const T *gy, int64_t N,
                                     int64_t E, int64_t padding, int64_t base, T scale,
                                     const unsigned long long *first) {
  if (*first != ~0ull) return;
  EM_CUDA_LOOP(i, N * E) {
    int64_t k = i / E;
    if (idx[k] == padding) continue;
    atomicAdd(&gw[(idx[k] - base) * E + i % E], scale * gy[i]);
  }
}

/* --- products: row-major gemm through cuBLAS --- */

/* c (m, n) := alpha * op(a) @ op(b) + beta * c, row-major with leading dims, as
 * cpu_rnn.c's gemm: ta, tb transpose a (stored (k, m)) and b (stored (n, k)). cuBLAS
 * is column-major, so it computes c^T = op(b)^T op(a)^T. float32 runs in TF32 when
 * torch.cuda.allowTF32 is on, as every other float32 product (blas_cublas.cu). */
static cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t oa, cublasOperation_t ob,
                                int m, int n, int k, double alpha, const double *a, int lda,
                                const double *b, int ldb, double beta, double *c, int ldc) {
  return cublasDgemm(h, oa, ob, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}

static cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t oa, cublasOperation_t ob,
                                int m, int n, int k, double alpha, const float *a, int lda,
                                const float *b, int ldb, double beta, float *c, int ldc) {
  float fa = (float)alpha, fb = (float)beta;
  cublasComputeType_t ct = em_cuda_get_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  return cublasGemmEx(h, oa, ob, m, n, k, &fa, a, CUDA_R_32F, lda, b, CUDA_R_32F, ldb, &fb, c,
                      CUDA_R_32F, ldc, ct, CUBLAS_GEMM_DEFAULT);
}

template <typename T>
static int gemm(cublasHandle_t h, int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha,
                const T *a, int64_t lda, const T *b, int64_t ldb, double beta, T *c, int64_t ldc) {
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX)
    return em_error("rnn: a %lldx%lld by %lldx%lld product is too large for cuBLAS's 32-bit sizes",
                    (long long)m, (long long)k, (long long)k, (long long)n);
  if (m == 0 || n == 0) return EM_OK;
  cublasStatus_t st = gemm_call(h, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                (int)n, (int)m, (int)k, alpha, b, (int)ldb, a, (int)lda, beta, c,
                                (int)ldc);
  if (st != CUBLAS_STATUS_SUCCESS)
    return em_error("cuda: rnn gemm failed: %s", cublasGetStatusString(st));
  return EM_OK;
}

/* v (n) += alpha * colsum(a (m, n)), as a gemv with ones (m) */
static cublasStatus_t colsum_call(cublasHandle_t h, int m, int n, double alpha, const double *a,
                                  const double *ones, double *v) {
  double one = 1;
  return cublasDgemv(h, CUBLAS_OP_N, n, m, &alpha, a, n, ones, 1, &one, v, 1);
}

static cublasStatus_t colsum_call(cublasHandle_t h, int m, int n, double alpha, const float *a,
                                  const float *ones, float *v) {
  float fa = (float)alpha, one = 1;
  return cublasSgemv(h, CUBLAS_OP_N, n, m, &fa, a, n, ones, 1, &one, v, 1);
}

template <typename T>
static int colsum(cublasHandle_t h, int64_t m, int64_t n, double alpha, const T *a, const T *ones,
                  T *v) {
  if (m > INT_MAX || n > INT_MAX)
    return em_error("rnn: a %lldx%lld column sum is too large for cuBLAS's 32-bit sizes",
                    (long long)m, (long long)n);
  cublasStatus_t st = colsum_call(h, (int)m, (int)n, alpha, a, ones, v);
  if (st != CUBLAS_STATUS_SUCCESS)
    return em_error("cuda: rnn gemv failed: %s", cublasGetStatusString(st));
  return EM_OK;
}

/* --- launchers --- */

/* The geometry of one call (cpu_rnn.c's seq), from a sequence (T, B, F) or (B, T, F). */
typedef struct seq {
  int mode, batch_first;
  int64_t T, B, H, GH, R, In;
  int64_t ts, bs;          /* row of (t, b) = t*ts + b*bs */
} seq;

static seq seq_of(const em_tensor *s, const em_tensor *w_ih, int64_t H, const em_rnn_params *p) {
  seq q;
  q.mode = p->mode;
  q.batch_first = p->batch_first;
  q.T = s->size[p->batch_first ? 1 : 0];
  q.B = s->size[p->batch_first ? 0 : 1];
  q.H = H;
  q.GH = em_rnn_gates(p->mode) * H;
  q.R = q.T * q.B;
  q.In = w_ih->size[1];
  q.ts = p->batch_first ? 1 : q.B;
  q.bs = p->batch_first ? q.T : 1;
  return q;
}

template <typename T>
static T *ptr(const em_tensor *t) {
  return t && t->storage ? (T *)em_cuda_data(t) : NULL;
}

/* The forward of rnn.h, hh: GRU's (B, GH) scratch (NULL for the other cells). */
template <typename T>
static int rnn_forward(const seq &q, em_tensor *y, em_tensor *h_n, em_tensor *c_n,
                       em_tensor *work, const em_tensor *x, const em_tensor *h_0,
                       const em_tensor *c_0, const em_rnn_weights *w, T *hh, cudaStream_t s,
                       cublasHandle_t h) {
  int64_t H = q.H, GH = q.GH, B = q.B;
  T *gates = ptr<T>(work), *ext = gates + q.R * GH, *yd = ptr<T>(y);
  const T *whh = ptr<T>(w->w_hh), *bi = ptr<T>(w->b_ih), *bh = ptr<T>(w->b_hh);
  /* gates (R, GH) := x (R, In) @ w_ih^T, all steps at once */
  int st = gemm<T>(h, 0, 1, q.R, GH, q.In, 1, ptr<T>(x), q.In, ptr<T>(w->w_ih), q.In, 0, gates, GH);
  for (int64_t t = 0; st == EM_OK && t < q.T; t++) {
    int64_t r0 = t * q.ts, ld_g = q.bs * GH, ld_h = q.bs * H, ld_hp = t ? ld_h : H;
    int last = t == q.T - 1;
    fwd_step<T> c = {gates + r0 * GH, ext + r0 * H, yd + r0 * H, last ? ptr<T>(h_n) : NULL,
                     last ? ptr<T>(c_n) : NULL, t ? yd + (r0 - q.ts) * H : ptr<T>(h_0),
                     t ? ext + (r0 - q.ts) * H : ptr<T>(c_0), hh, ld_g, ld_h, ld_hp};
    if (q.mode == EM_RNN_GRU)   /* hh (B, GH) := h_{t-1} @ w_hh^T */
      st = gemm<T>(h, 0, 1, B, GH, H, 1, c.hp, ld_hp, whh, H, 0, hh, GH);
    else                        /* gates_t (B, GH) += h_{t-1} @ w_hh^T */
      st = gemm<T>(h, 0, 1, B, GH, H, 1, c.hp, ld_hp, whh, H, 1, c.g, ld_g);
    if (st != EM_OK) break;
    cell_fwd_kernel<T><<<em_cuda_grid(B * H, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(c, bi, bh,
                                                                               q.mode, B, H);
    EM_CUDA_CHECK_LAUNCH();
  }
  return st;
}

/* Backpropagation through time; dh, dc (B, H): the running state gradients, which may
 * be gh_0's and gc_0's own memory. */
template <typename T>
static int rnn_backward_input(const seq &q, em_tensor *gx, em_tensor *gh_0, em_tensor *grad_gates,
                              const em_tensor *y, const em_tensor *work, const em_tensor *h_0,
                              const em_tensor *c_0, const em_rnn_weights *w, const em_tensor *gy,
                              const em_tensor *g_hn, const em_tensor *g_cn, T *dh, T *dc,
                              cudaStream_t s, cublasHandle_t h) {
  int64_t H = q.H, GH = q.GH, B = q.B;
  size_t nbh = (size_t)(B * H) * sizeof(T);
  const T *ghn = ptr<T>(g_hn), *gcn = ptr<T>(g_cn);
  if (ghn && ghn != dh) EM_CUDA_CHECK(cudaMemcpyAsync(dh, ghn, nbh, cudaMemcpyDeviceToDevice, s));
  if (!ghn) EM_CUDA_CHECK(cudaMemsetAsync(dh, 0, nbh, s));
  if (dc && gcn && gcn != dc)
    EM_CUDA_CHECK(cudaMemcpyAsync(dc, gcn, nbh, cudaMemcpyDeviceToDevice, s));
  if (dc && !gcn) EM_CUDA_CHECK(cudaMemsetAsync(dc, 0, nbh, s));
  const T *gates = ptr<T>(work), *ext = gates + q.R * GH, *yd = ptr<T>(y), *gyd = ptr<T>(gy);
  T *dg = ptr<T>(grad_gates), *dgh = q.mode == EM_RNN_GRU ? dg + q.R * GH : dg;
  int64_t ld_g = q.bs * GH, ld_h = q.bs * H;
  int st = EM_OK;
  for (int64_t t = q.T - 1; st == EM_OK && t >= 0; t--) {
    int64_t r0 = t * q.ts;
    bwd_step<T> c = {gates + r0 * GH, ext + r0 * H, yd + r0 * H,
                     t ? yd + (r0 - q.ts) * H : ptr<T>(h_0), t ? ext + (r0 - q.ts) * H : ptr<T>(c_0),
                     gyd ? gyd + r0 * H : NULL, dh, dc, dg + r0 * GH, dgh + r0 * GH, ld_g, ld_h,
                     t ? ld_h : H};
    cell_bwd_kernel<T><<<em_cuda_grid(B * H, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(c, q.mode, B, H);
    EM_CUDA_CHECK_LAUNCH();
    /* dh (B, H) += dgh_t (B, GH) @ w_hh: the gradient flowing to h_{t-1} */
    if (t > 0 || gh_0) st = gemm<T>(h, 0, 0, B, H, GH, 1, c.dgh, ld_g, ptr<T>(w->w_hh), H, 1, dh, H);
  }
  /* gx (R, In) := dg (R, GH) @ w_ih, all steps at once */
  if (st == EM_OK && gx)
    st = gemm<T>(h, 0, 0, q.R, q.In, GH, 1, dg, GH, ptr<T>(w->w_ih), q.In, 0, ptr<T>(gx), q.In);
  return st;
}

/* Parameter gradients; hprev (R, H) and ones (R): scratch. */
template <typename T>
static int rnn_backward_params(const seq &q, const em_rnn_grads *g, const em_tensor *x,
                               const em_tensor *y, const em_tensor *h_0,
                               const em_tensor *grad_gates, double scale, T *hprev, T *ones,
                               cudaStream_t s, cublasHandle_t h) {
  int64_t H = q.H, GH = q.GH;
  const T *dg = ptr<T>(grad_gates), *dgh = q.mode == EM_RNN_GRU ? dg + q.R * GH : dg;
  hprev_kernel<T><<<em_cuda_grid(q.R * H, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      hprev, ones, ptr<T>(y), ptr<T>(h_0), q.T, q.B, H, q.batch_first);
  EM_CUDA_CHECK_LAUNCH();
  /* w_ih (GH, In) += scale * dg^T (GH, R) @ x (R, In); w_hh likewise with hprev */
  int st = gemm<T>(h, 1, 0, GH, q.In, q.R, scale, dg, GH, ptr<T>(x), q.In, 1, ptr<T>(g->w_ih), q.In);
  if (st == EM_OK) st = gemm<T>(h, 1, 0, GH, H, q.R, scale, dgh, GH, hprev, H, 1, ptr<T>(g->w_hh), H);
  if (st == EM_OK && ptr<T>(g->b_ih)) st = colsum<T>(h, q.R, GH, scale, dg, ones, ptr<T>(g->b_ih));
  if (st == EM_OK && ptr<T>(g->b_hh)) st = colsum<T>(h, q.R, GH, scale, dgh, ones, ptr<T>(g->b_hh));
  return st;
}

/* EM_OK when *first (device) was left at ~0, else the error naming the bad index, as
 * cpu_rnn.c's check_indices; the one wait of the embedding ops. */
static int report_bad_index(const char *op, const unsigned long long *first, const em_tensor *idx,
                            int64_t V, cudaStream_t s) {
  unsigned long long k = 0;
  if (em_cuda_read_back(&k, first, sizeof k, s) != EM_OK) return EM_ERR;
  if (k == ~0ull) return EM_OK;
  int64_t v = 0;
  const int64_t *at = (const int64_t *)em_cuda_data(idx) + k;
  if (em_cuda_read_back(&v, at, sizeof v, s) != EM_OK) return EM_ERR;
  return em_error("%s: index %lld out of range for %lld entries", op, (long long)v, (long long)V);
}

template <typename T>
static int embedding_forward(em_tensor *y, const em_tensor *idx, const em_tensor *w, int64_t base,
                             unsigned long long *first, cudaStream_t s) {
  int64_t N = idx->size[0], V = w->size[0], E = w->size[1];
  EM_CUDA_CHECK(cudaMemsetAsync(first, 0xff, sizeof *first, s));
  if (N * E > 0) {
    embedding_fwd_kernel<T><<<em_cuda_grid(N * E, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
        ptr<T>(y), ptr<int64_t>(idx), ptr<T>(w), N, V, E, base, first);
    EM_CUDA_CHECK_LAUNCH();
  }
  return report_bad_index("embedding_forward", first, idx, V, s);
}

template <typename T>
static int embedding_backward(em_tensor *gw, const em_tensor *idx, const em_tensor *gy,
                              int64_t padding, int64_t base, double scale,
                              unsigned long long *first, cudaStream_t s) {
  int64_t N = idx->size[0], V = gw->size[0], E = gw->size[1];
  EM_CUDA_CHECK(cudaMemsetAsync(first, 0xff, sizeof *first, s));
  if (N > 0) {
    bad_index_kernel<<<em_cuda_grid(N, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
        ptr<int64_t>(idx), N, V, base, first);
    EM_CUDA_CHECK_LAUNCH();
  }
  if (N * E > 0) {
    embedding_bwd_kernel<T><<<em_cuda_grid(N * E, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
        ptr<T>(gw), ptr<int64_t>(idx), ptr<T>(gy), N, E, padding, base, (T)scale, first);
    EM_CUDA_CHECK_LAUNCH();
  }
  return report_bad_index("embedding_backward", first, idx, V, s);
}

/* --- the table: each entry takes the stream, the cuBLAS handle and its scratch from
 * the pool (released once the kernels that use it are queued), then dispatches on the
 * dtype (float32 or float64, checked by rnn.c) --- */

static int device_of(const em_tensor *t, cudaStream_t *s, cublasHandle_t *h) {
  if (em_cuda_use(t->device, s) != EM_OK) return EM_ERR;
  return h ? em_cuda_cublas(t->device, h) : EM_OK;
}

static int cuda_forward(em_tensor *y, em_tensor *h_n, em_tensor *c_n, em_tensor *work,
                        const em_tensor *x, const em_tensor *h_0, const em_tensor *c_0,
                        const em_rnn_weights *w, const em_rnn_params *p) {
  cudaStream_t s;
  cublasHandle_t h;
  if (device_of(x, &s, &h) != EM_OK) return EM_ERR;
  seq q = seq_of(y, w->w_ih, w->w_hh->size[1], p);
  int f64 = x->dtype == EM_FLOAT64;
  size_t es = f64 ? sizeof(double) : sizeof(float);
  em_cuda_workspace ws = {NULL, 0, 0};
  if (q.mode == EM_RNN_GRU &&
      em_cuda_workspace_get(x->device, (size_t)(q.B * q.GH) * es, &ws) != EM_OK)
    return EM_ENOMEM;
  int st = f64 ? rnn_forward<double>(q, y, h_n, c_n, work, x, h_0, c_0, w, (double *)ws.ptr, s, h)
               : rnn_forward<float>(q, y, h_n, c_n, work, x, h_0, c_0, w, (float *)ws.ptr, s, h);
  if (ws.ptr) em_cuda_workspace_release(&ws);
  return st;
}

static int cuda_backward_input(em_tensor *gx, em_tensor *gh_0, em_tensor *gc_0,
                               em_tensor *grad_gates, const em_tensor *y, const em_tensor *work,
                               const em_tensor *h_0, const em_tensor *c_0, const em_rnn_weights *w,
                               const em_tensor *gy, const em_tensor *g_hn, const em_tensor *g_cn,
                               const em_rnn_params *p) {
  cudaStream_t s;
  cublasHandle_t h;
  if (device_of(y, &s, &h) != EM_OK) return EM_ERR;
  seq q = seq_of(y, w->w_ih, w->w_hh->size[1], p);
  int f64 = y->dtype == EM_FLOAT64, lstm = q.mode == EM_RNN_LSTM;
  size_t nbh = (size_t)(q.B * q.H) * (f64 ? sizeof(double) : sizeof(float));
  /* dh and dc run in gh_0's and gc_0's memory when they are wanted, else in scratch */
  void *dh = gh_0 ? em_cuda_data(gh_0) : NULL, *dc = lstm && gc_0 ? em_cuda_data(gc_0) : NULL;
  size_t need = (dh ? 0 : nbh) + (lstm && !dc ? nbh : 0);
  em_cuda_workspace ws = {NULL, 0, 0};
  if (need && em_cuda_workspace_get(y->device, need, &ws) != EM_OK) return EM_ENOMEM;
  char *next = (char *)ws.ptr;
  if (!dh) {
    dh = next;
    next += nbh;
  }
  if (lstm && !dc) dc = next;
  int st = f64 ? rnn_backward_input<double>(q, gx, gh_0, grad_gates, y, work, h_0, c_0, w, gy,
                                            g_hn, g_cn, (double *)dh, (double *)dc, s, h)
               : rnn_backward_input<float>(q, gx, gh_0, grad_gates, y, work, h_0, c_0, w, gy,
                                           g_hn, g_cn, (float *)dh, (float *)dc, s, h);
  if (ws.ptr) em_cuda_workspace_release(&ws);
  return st;
}

static int cuda_backward_params(const em_rnn_grads *g, const em_tensor *x, const em_tensor *y,
                                const em_tensor *h_0, const em_tensor *grad_gates,
                                const em_rnn_params *p, double scale) {
  cudaStream_t s;
  cublasHandle_t h;
  if (device_of(y, &s, &h) != EM_OK) return EM_ERR;
  seq q = seq_of(y, g->w_ih, g->w_hh->size[1], p);
  int f64 = y->dtype == EM_FLOAT64;
  size_t es = f64 ? sizeof(double) : sizeof(float);
  em_cuda_workspace ws;
  if (em_cuda_workspace_get(y->device, (size_t)(q.R * q.H + q.R) * es, &ws) != EM_OK)
    return EM_ENOMEM;
  int st = f64 ? rnn_backward_params<double>(q, g, x, y, h_0, grad_gates, scale, (double *)ws.ptr,
                                             (double *)ws.ptr + q.R * q.H, s, h)
               : rnn_backward_params<float>(q, g, x, y, h_0, grad_gates, scale, (float *)ws.ptr,
                                            (float *)ws.ptr + q.R * q.H, s, h);
  em_cuda_workspace_release(&ws);
  return st;
}

static int cuda_embedding_forward(em_tensor *y, const em_tensor *idx, const em_tensor *w,
                                  int64_t base) {
  cudaStream_t s;
  em_cuda_workspace ws;
  if (device_of(w, &s, NULL) != EM_OK) return EM_ERR;
  if (em_cuda_workspace_get(w->device, sizeof(unsigned long long), &ws) != EM_OK) return EM_ENOMEM;
  unsigned long long *first = (unsigned long long *)ws.ptr;
  int st = w->dtype == EM_FLOAT64 ? embedding_forward<double>(y, idx, w, base, first, s)
                                  : embedding_forward<float>(y, idx, w, base, first, s);
  em_cuda_workspace_release(&ws);
  return st;
}

static int cuda_embedding_backward(em_tensor *gw, const em_tensor *idx, const em_tensor *gy,
                                   int64_t padding, int64_t base, double scale) {
  cudaStream_t s;
  em_cuda_workspace ws;
  if (device_of(gw, &s, NULL) != EM_OK) return EM_ERR;
  if (em_cuda_workspace_get(gw->device, sizeof(unsigned long long), &ws) != EM_OK) return EM_ENOMEM;
  unsigned long long *first = (unsigned long long *)ws.ptr;
  int st = gw->dtype == EM_FLOAT64
               ? embedding_backward<double>(gw, idx, gy, padding, base, scale, first, s)
               : embedding_backward<float>(gw, idx, gy, padding, base, scale, first, s);
  em_cuda_workspace_release(&ws);
  return st;
}

extern "C" const struct em_rnn_backend em_cuda_rnn = {
  cuda_forward,
  cuda_backward_input,
  cuda_backward_params,
  cuda_embedding_forward,
  cuda_embedding_backward,
};
