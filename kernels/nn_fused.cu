/* Fused nn kernels where cuDNN does not serve: layer norm forward and backward, the
 * negative log-likelihood with class weights, an ignored target and none/mean/sum
 * reduction, and cross entropy (log-softmax over the classes fused with the nll).
 * Semantics are those of src/cpu_norm.c and src/cpu_loss.c.
 *
 * Legend: layer norm views x as (M, D), M rows of D values. Losses view x as (N, K, S):
 * N samples, K classes, S positions per sample; t (N, S) int64; cw (K) class weights.
 * Sums accumulate in the element type (float for float32, double for float64), in
 * per-thread partials combined by a tree, which is more accurate than the serial sum. */
#include <math.h>

#include "cuda_nn.cuh"
#include "cuda_ops.cuh"

/* Threads of a block that owns one row (a layer-norm row). */
#define EM_ROW_BLOCK 256
/* Rows (samples) per block of the log-softmax: one warp each. */
#define EM_ROWS_PER_BLOCK (EM_ROW_BLOCK / EM_CUDA_WARP)

struct sum_op {
  template <typename T> __device__ T operator()(T a, T b) const { return a + b; }
};

/* The block's sum, given to every thread. */
template <typename T>
static __device__ T block_sum(T v) {
  __shared__ T total;
  v = em_block_reduce(v, sum_op(), (T)0);
  if (threadIdx.x == 0) total = v;
  __syncthreads();
  T r = total;
  __syncthreads();                             /* total may be rewritten by the next call */
  return r;
}

/* --- layer norm: x, y (M, D); w b (D) or NULL; mean invstd (M) --- */

template <typename T>
__global__ void layernorm_fwd_kernel(T *y, T *mean, T *invstd, const T *x, const T *w,
                                     const T *b, int64_t D, T eps) {
  const T *xr = x + blockIdx.x * D;
  T *yr = y + blockIdx.x * D;
  T s = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += xr[d];
  T mu = block_sum(s) / (T)D;
  T sq = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    T v = xr[d] - mu;
    sq += v * v;
  }
  T is = (T)1 / sqrt(block_sum(sq) / (T)D + eps);
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = mu;
    invstd[blockIdx.x] = is;
  }
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x)
    yr[d] = (xr[d] - mu) * is * (w ? w[d] : (T)1) + (b ? b[d] : (T)0);
}

/* gx = invstd * (g - mean(g) - xhat * mean(g * xhat)), g = gy * w; one block per row */
template <typename T>
__global__ void layernorm_bwd_input_kernel(T *gx, const T *x, const T *gy, const T *w,
                                           const T *mean, const T *invstd, int64_t D) {
  int64_t o = blockIdx.x * D;
  T mu = mean[blockIdx.x], is = invstd[blockIdx.x], sg = 0, sgx = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    T g = gy[o + d] * (w ? w[d] : (T)1);
    sg += g;
    sgx += g * (x[o + d] - mu) * is;
  }
  sg = block_sum(sg);
  sgx = block_sum(sgx);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    T g = gy[o + d] * (w ? w[d] : (T)1);
    T xhat = (x[o + d] - mu) * is;
    gx[o + d] = is * (g - sg / (T)D - xhat * sgx / (T)D);
  }
}

/* gw[d] += scale * sum over rows of gy * xhat; gb[d] += scale * sum of gy; a thread per
 * column, so the rows' reads are coalesced across the warp */
template <typename T>
__global__ void layernorm_bwd_params_kernel(T *gw, T *gb, const T *x, const T *gy,
                                            const T *mean, const T *invstd, int64_t M,
                                            int64_t D, T scale) {
  EM_CUDA_LOOP(d, D) {
    T sw = 0, sb = 0;
    for (int64_t m = 0; m < M; m++) {
      T g = gy[m * D + d];
      sw += g * (x[m * D + d] - mean[m]) * invstd[m];
      sb += g;
    }
    if (gw) gw[d] += scale * sw;
    if (gb) gb[d] += scale * sb;
  }
}

/* --- class losses --- */

/* The weight of target i (0 when ignored or out of range) and its class in *c (-1). */
template <typename T>
static __device__ __forceinline__ T target_weight(const int64_t *t, int64_t i, const T *cw,
                                                  int64_t K, int64_t ignore, int64_t base,
                                                  int64_t *c) {
  int64_t v = t[i];
  *c = -1;
  if (v == ignore || v - base < 0 || v - base >= K) return 0;
  *c = v - base;
  return cw ? cw[*c] : (T)1;
}

/* loss (N*S) or (1) := -cw[t] x[n, t, s], reduced; total := sum of the weights; bad :=
 * the smallest index of a target out of range (left alone when there is none).
 * One block: the reduction stays in one place and in one order. */
template <typename T>
__global__ void nll_fwd_kernel(T *loss, T *total, unsigned long long *bad, const T *x,
                               const int64_t *t, const T *cw, int64_t N, int64_t K, int64_t S,
                               int reduction, int64_t ignore, int64_t base) {
  T sum = 0, tw = 0;
  for (int64_t i = threadIdx.x; i < N * S; i += blockDim.x) {
    int64_t n = i / S, s = i % S, c;
    T w = target_weight(t, i, cw, K, ignore, base, &c);
    if (c < 0 && t[i] != ignore) atomicMin(bad, (unsigned long long)i);
    T l = c < 0 ? (T)0 : -w * x[(n * K + c) * S + s];
    tw += w;
    if (reduction == EM_REDUCTION_NONE) loss[i] = l;
    else sum += l;
  }
  sum = block_sum(sum);
  tw = block_sum(tw);
  if (threadIdx.x != 0) return;
  if (reduction == EM_REDUCTION_MEAN) loss[0] = sum / tw;
  else if (reduction == EM_REDUCTION_SUM) loss[0] = sum;
  total[0] = tw;
}

/* The factor of target i's gradient: weight * incoming gradient (/ total for a mean). */
template <typename T>
static __device__ __forceinline__ T grad_coef(const int64_t *t, int64_t i, const T *cw,
                                              const T *gloss, const T *total, int64_t K,
                                              int reduction, int64_t ignore, int64_t base,
                                              int64_t *c) {
  T w = target_weight(t, i, cw, K, ignore, base, c);
  if (*c < 0) return 0;
  T g = gloss[reduction == EM_REDUCTION_NONE ? i : 0];
  if (reduction == EM_REDUCTION_MEAN) g /= total[0];
  return w * g;
}

/* gx (N, K, S), zeroed by the launcher, := -coef at each target */
template <typename T>
__global__ void nll_bwd_kernel(T *gx, const int64_t *t, const T *gloss, const T *cw,
                               const T *total, int64_t N, int64_t K, int64_t S, int reduction,
                               int64_t ignore, int64_t base) {
  EM_CUDA_LOOP(i, N * S) {
    int64_t c;
    T coef = grad_coef(t, i, cw, gloss, total, K, reduction, ignore, base, &c);
    if (c >= 0) gx[((i / S) * K + c) * S + i % S] = -coef;
  }
}

/* logp := log_softmax(x) over K for each of the N*S rows; a warp per row */
template <typename T>
__global__ void log_softmax_kernel(T *logp, const T *x, int64_t N, int64_t K, int64_t S) {
  int lane = threadIdx.x % EM_CUDA_WARP;
  int64_t row = blockIdx.x * (int64_t)EM_ROWS_PER_BLOCK + threadIdx.x / EM_CUDA_WARP;
  if (row >= N * S) return;                    /* whole warps leave together */
  int64_t o = (row / S) * K * S + row % S;
  T mx = -INFINITY, sum = 0;
  for (int64_t k = lane; k < K; k += EM_CUDA_WARP) mx = fmax(mx, x[o + k * S]);
  for (int off = EM_CUDA_WARP / 2; off > 0; off /= 2)
    mx = fmax(mx, __shfl_xor_sync(0xffffffffu, mx, off));
  for (int64_t k = lane; k < K; k += EM_CUDA_WARP) sum += exp(x[o + k * S] - mx);
  for (int off = EM_CUDA_WARP / 2; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  T lse = mx + log(sum);
  for (int64_t k = lane; k < K; k += EM_CUDA_WARP) logp[o + k * S] = x[o + k * S] - lse;
}

/* gx (N, K, S) := coef * (exp(logp) - onehot(t)) */
template <typename T>
__global__ void cross_entropy_bwd_kernel(T *gx, const T *logp, const int64_t *t, const T *gloss,
                                         const T *cw, const T *total, int64_t N, int64_t K,
                                         int64_t S, int reduction, int64_t ignore, int64_t base) {
  EM_CUDA_LOOP(i, N * K * S) {
    int64_t n = i / (K * S), k = (i / S) % K, s = i % S, c;
    T coef = grad_coef(t, n * S + s, cw, gloss, total, K, reduction, ignore, base, &c);
    gx[i] = coef * (exp(logp[i]) - (k == c ? (T)1 : (T)0));
  }
}

/* --- launchers --- */

static const void *data_or_null(const em_tensor *t) {
  return t && t->storage ? em_cuda_data(t) : NULL;
}

template <typename T>
static int launch_layernorm_fwd(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                                const em_tensor *x, const em_tensor *w, const em_tensor *b,
                                double eps, cudaStream_t s) {
  int64_t M = x->size[0], D = x->size[1];
  if (M == 0) return EM_OK;
  layernorm_fwd_kernel<T><<<(unsigned)M, EM_ROW_BLOCK, 0, s>>>(
      (T *)em_cuda_data(y), (T *)em_cuda_data(mean), (T *)em_cuda_data(invstd),
      (const T *)em_cuda_data(x), (const T *)data_or_null(w), (const T *)data_or_null(b), D, (T)eps);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int launch_layernorm_bwd(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                                const em_tensor *invstd, double scale, cudaStream_t s) {
  int64_t M = x->size[0], D = x->size[1];
  const T *xd = (const T *)em_cuda_data(x), *gyd = (const T *)em_cuda_data(gy);
  const T *md = (const T *)em_cuda_data(mean), *id = (const T *)em_cuda_data(invstd);
  if (M == 0) return EM_OK;
  if (gx && gx->storage) {
    layernorm_bwd_input_kernel<T><<<(unsigned)M, EM_ROW_BLOCK, 0, s>>>(
        (T *)em_cuda_data(gx), xd, gyd, (const T *)data_or_null(w), md, id, D);
    EM_CUDA_CHECK_LAUNCH();
  }
  T *gwd = (T *)data_or_null(gw), *gbd = (T *)data_or_null(gb);
  if (!gwd && !gbd) return EM_OK;
  layernorm_bwd_params_kernel<T><<<em_cuda_grid(D, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      gwd, gbd, xd, gyd, md, id, M, D, (T)scale);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* Runs the nll forward over x (log-probabilities) and checks the targets: the one
 * read back of the family, the moment the criterion hands its loss to Lua anyway. */
template <typename T>
static int launch_nll_fwd(const char *op, em_tensor *loss, em_tensor *total, const em_tensor *x,
                          const em_tensor *t, const em_tensor *cw, const em_nll_params *p,
                          cudaStream_t s) {
  int64_t N = x->size[0], K = x->size[1], S = x->size[2];
  em_cuda_workspace ws;
  if (em_cuda_workspace_get(x->device, sizeof(unsigned long long), &ws) != EM_OK) return EM_ENOMEM;
  unsigned long long *bad = (unsigned long long *)ws.ptr, first = 0;
  cudaError_t err = cudaMemsetAsync(bad, 0xff, sizeof *bad, s);
  if (err == cudaSuccess) {
    nll_fwd_kernel<T><<<1, EM_CUDA_BLOCK_REDUCE, 0, s>>>(
        (T *)em_cuda_data(loss), (T *)em_cuda_data(total), bad, (const T *)em_cuda_data(x),
        (const int64_t *)em_cuda_data(t), (const T *)data_or_null(cw), N, K, S, (int)p->reduction,
        p->ignore_index, p->base);
    err = cudaGetLastError();
  }
  if (err == cudaSuccess) err = cudaMemcpyAsync(&first, bad, sizeof first, cudaMemcpyDeviceToHost, s);
  if (err == cudaSuccess) err = cudaStreamSynchronize(s);
  em_cuda_workspace_release(&ws);
  if (err != cudaSuccess) return em_cuda_fail(err, "nll forward", __FILE__, __LINE__);
  if (first == ~0ull) return EM_OK;
  int64_t v = 0;
  const int64_t *td = (const int64_t *)em_cuda_data(t);
  if (em_cuda_read_back(&v, td + first, sizeof v, s) != EM_OK) return EM_ERR;
  return em_error("%s: target %lld out of range for %lld classes", op, (long long)v, (long long)K);
}

template <typename T>
static int launch_nll_bwd(em_tensor *gx, const em_tensor *t, const em_tensor *gloss,
                          const em_tensor *cw, const em_tensor *total, const em_nll_params *p,
                          cudaStream_t s) {
  int64_t N = gx->size[0], K = gx->size[1], S = gx->size[2];
  EM_CUDA_CHECK(cudaMemsetAsync(em_cuda_data(gx), 0, (size_t)(N * K * S) * sizeof(T), s));
  if (N * S == 0) return EM_OK;
  nll_bwd_kernel<T><<<em_cuda_grid(N * S, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      (T *)em_cuda_data(gx), (const int64_t *)em_cuda_data(t), (const T *)em_cuda_data(gloss),
      (const T *)data_or_null(cw), (const T *)em_cuda_data(total), N, K, S, (int)p->reduction,
      p->ignore_index, p->base);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int launch_log_softmax(em_tensor *logp, const em_tensor *x, cudaStream_t s) {
  int64_t N = x->size[0], K = x->size[1], S = x->size[2], rows = N * S;
  if (rows == 0 || K == 0) return EM_OK;
  int64_t blocks = (rows + EM_ROWS_PER_BLOCK - 1) / EM_ROWS_PER_BLOCK;
  log_softmax_kernel<T><<<(unsigned)blocks, EM_ROW_BLOCK, 0, s>>>(
      (T *)em_cuda_data(logp), (const T *)em_cuda_data(x), N, K, S);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int launch_cross_entropy_bwd(em_tensor *gx, const em_tensor *logp, const em_tensor *t,
                                    const em_tensor *gloss, const em_tensor *cw,
                                    const em_tensor *total, const em_nll_params *p,
                                    cudaStream_t s) {
  int64_t N = gx->size[0], K = gx->size[1], S = gx->size[2];
  if (N * K * S == 0) return EM_OK;
  cross_entropy_bwd_kernel<T><<<em_cuda_grid(N * K * S, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      (T *)em_cuda_data(gx), (const T *)em_cuda_data(logp), (const int64_t *)em_cuda_data(t),
      (const T *)em_cuda_data(gloss), (const T *)data_or_null(cw), (const T *)em_cuda_data(total),
      N, K, S, (int)p->reduction, p->ignore_index, p->base);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* --- entry points (kernels/nn_table.cu gathers them into em_cuda_nn) --- */

extern "C" int em_cuda_layernorm_forward(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                                         const em_tensor *x, const em_tensor *w,
                                         const em_tensor *b, double eps) {
  cudaStream_t s;
  if (em_cuda_use(x->device, &s) != EM_OK) return EM_ERR;
  return x->dtype == EM_FLOAT64 ? launch_layernorm_fwd<double>(y, mean, invstd, x, w, b, eps, s)
                                : launch_layernorm_fwd<float>(y, mean, invstd, x, w, b, eps, s);
}

extern "C" int em_cuda_layernorm_backward(em_tensor *gx, em_tensor *gw, em_tensor *gb,
                                          const em_tensor *x, const em_tensor *gy,
                                          const em_tensor *w, const em_tensor *mean,
                                          const em_tensor *invstd, double scale) {
  cudaStream_t s;
  if (em_cuda_use(x->device, &s) != EM_OK) return EM_ERR;
  return x->dtype == EM_FLOAT64
             ? launch_layernorm_bwd<double>(gx, gw, gb, x, gy, w, mean, invstd, scale, s)
             : launch_layernorm_bwd<float>(gx, gw, gb, x, gy, w, mean, invstd, scale, s);
}

extern "C" int em_cuda_nll_forward(em_tensor *loss, em_tensor *total, const em_tensor *x,
                                   const em_tensor *t, const em_tensor *cw,
                                   const em_nll_params *p) {
  cudaStream_t s;
  if (em_cuda_use(x->device, &s) != EM_OK) return EM_ERR;
  return x->dtype == EM_FLOAT64 ? launch_nll_fwd<double>("nll", loss, total, x, t, cw, p, s)
                                : launch_nll_fwd<float>("nll", loss, total, x, t, cw, p, s);
}

extern "C" int em_cuda_nll_backward(em_tensor *gx, const em_tensor *t, const em_tensor *gloss,
                                    const em_tensor *cw, const em_tensor *total,
                                    const em_nll_params *p) {
  cudaStream_t s;
  if (em_cuda_use(gx->device, &s) != EM_OK) return EM_ERR;
  return gx->dtype == EM_FLOAT64 ? launch_nll_bwd<double>(gx, t, gloss, cw, total, p, s)
                                 : launch_nll_bwd<float>(gx, t, gloss, cw, total, p, s);
}

extern "C" int em_cuda_cross_entropy_forward(em_tensor *loss, em_tensor *total, em_tensor *logp,
                                             const em_tensor *x, const em_tensor *t,
                                             const em_tensor *cw, const em_nll_params *p) {
  cudaStream_t s;
  if (em_cuda_use(x->device, &s) != EM_OK) return EM_ERR;
  int f64 = x->dtype == EM_FLOAT64;
  int st = f64 ? launch_log_softmax<double>(logp, x, s) : launch_log_softmax<float>(logp, x, s);
  if (st != EM_OK) return st;
  return f64 ? launch_nll_fwd<double>("cross_entropy", loss, total, logp, t, cw, p, s)
             : launch_nll_fwd<float>("cross_entropy", loss, total, logp, t, cw, p, s);
}

extern "C" int em_cuda_cross_entropy_backward(em_tensor *gx, const em_tensor *logp,
                                              const em_tensor *t, const em_tensor *gloss,
                                              const em_tensor *cw, const em_tensor *total,
                                              const em_nll_params *p) {
  cudaStream_t s;
  if (em_cuda_use(gx->device, &s) != EM_OK) return EM_ERR;
  return gx->dtype == EM_FLOAT64
             ? launch_cross_entropy_bwd<double>(gx, logp, t, gloss, cw, total, p, s)
             : launch_cross_entropy_bwd<float>(gx, logp, t, gloss, cw, total, p, s);
}
