/* Pooling and batch normalisation on the GPU, as hand kernels rather than cuDNN: the
 * nn contract (src/nn.h) asks for what cuDNN's pooling and batch-norm calls do not
 * give: max pooling's argmax indices (h*W + w, and a backward from them alone),
 * ceil_mode and PyTorch's average divisor (the padded window cut at H + pH), optional
 * affine parameters, eps below CUDNN_BN_MIN_EPSILON, and the eval-mode backward.
 * Semantics are those of src/cpu_pool.c and src/cpu_norm.c.
 *
 * Legend: P = N*C planes, H W input size, oH oW output size; batch norm views x as
 * (N, C, S), M = N*S values per channel. Backward passes gather (a thread per input
 * element) where the windows can be inverted, so they are deterministic; max
 * pooling's backward scatters through its indices with atomics. */
#include <math.h>

#include "cuda_nn.cuh"
#include "cuda_ops.cuh"

/* Threads of a block that owns one channel of batch norm. */
#define EM_BN_BLOCK 512

static __device__ __forceinline__ int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static __device__ __forceinline__ int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

/* --- max pooling: y idx (P, oH, oW) from x (P, H, W) --- */

template <typename T>
__global__ void maxpool_fwd_kernel(T *y, int64_t *idx, const T *x, int64_t P, int64_t H,
                                   int64_t W, int64_t oH, int64_t oW, em_pool2d_params p) {
  EM_CUDA_LOOP(o, P * oH * oW) {
    int64_t ow = o % oW, oh = (o / oW) % oH, pl = o / (oW * oH);
    int64_t hs = oh * p.sH - p.pH, he = imin(hs + (int64_t)(p.kH - 1) * p.dH + 1, H);
    int64_t ws = ow * p.sW - p.pW, we = imin(ws + (int64_t)(p.kW - 1) * p.dW + 1, W);
    while (hs < 0) hs += p.dH;
    while (ws < 0) ws += p.dW;
    const T *xp = x + pl * H * W;
    T best = -INFINITY;
    int64_t bi = hs * W + ws;
    for (int64_t h = hs; h < he; h += p.dH)
      for (int64_t w = ws; w < we; w += p.dW) {
        T v = xp[h * W + w];
        if (v > best || v != v) { best = v; bi = h * W + w; }   /* NaN propagates */
      }
    y[o] = best;
    idx[o] = bi;
  }
}

/* gx (P, HW), zeroed by the launcher, += gy at each window's argmax */
template <typename T>
__global__ void maxpool_bwd_kernel(T *gx, const T *gy, const int64_t *idx, int64_t P, int64_t HW,
                                   int64_t oL) {
  EM_CUDA_LOOP(o, P * oL) {
    int64_t i = idx[o];
    if (i >= 0 && i < HW) atomicAdd(gx + (o / oL) * HW + i, gy[o]);
  }
}

/* --- average pooling --- */

/* The clipped window [hs, he) x [ws, we) of output (oh, ow) and its divisor (0: empty). */
static __device__ __forceinline__ double avg_window(int64_t oh, int64_t ow, int64_t H, int64_t W,
                                                    const em_pool2d_params &p, int64_t *hs,
                                                    int64_t *he, int64_t *ws, int64_t *we) {
  int64_t h0 = oh * p.sH - p.pH, w0 = ow * p.sW - p.pW;
  int64_t h1 = imin(h0 + p.kH, H + p.pH), w1 = imin(w0 + p.kW, W + p.pW);
  int64_t padded = (h1 - h0) * (w1 - w0);
  *hs = imax(h0, 0);
  *ws = imax(w0, 0);
  *he = imin(h1, H);
  *we = imin(w1, W);
  if (*he <= *hs || *we <= *ws) return 0;
  return (double)(p.count_include_pad ? padded : (*he - *hs) * (*we - *ws));
}

template <typename T>
__global__ void avgpool_fwd_kernel(T *y, const T *x, int64_t P, int64_t H, int64_t W, int64_t oH,
                                   int64_t oW, em_pool2d_params p) {
  EM_CUDA_LOOP(o, P * oH * oW) {
    int64_t ow = o % oW, oh = (o / oW) % oH, pl = o / (oW * oH), hs, he, ws, we;
    double div = avg_window(oh, ow, H, W, p, &hs, &he, &ws, &we);
    const T *xp = x + pl * H * W;
    T s = 0;
    for (int64_t h = hs; h < he; h++)
      for (int64_t w = ws; w < we; w++) s += xp[h * W + w];
    y[o] = div > 0 ? (T)(s / div) : (T)0;
  }
}

/* gx (P, H, W): each input element gathers gy / divisor from the windows holding it */
template <typename T>
__global__ void avgpool_bwd_kernel(T *gx, const T *gy, int64_t P, int64_t H, int64_t W,
                                   int64_t oH, int64_t oW, em_pool2d_params p) {
  EM_CUDA_LOOP(i, P * H * W) {
    int64_t w = i % W, h = (i / W) % H, pl = i / (W * H);
    /* windows starting at oh*sH - pH in (h - kH, h] */
    int64_t oh0 = imax(0, (h + p.pH - p.kH + p.sH) / p.sH), oh1 = imin(oH - 1, (h + p.pH) / p.sH);
    int64_t ow0 = imax(0, (w + p.pW - p.kW + p.sW) / p.sW), ow1 = imin(oW - 1, (w + p.pW) / p.sW);
    if (h + p.pH - p.kH + p.sH < 0) oh0 = 0;
    if (w + p.pW - p.kW + p.sW < 0) ow0 = 0;
    const T *gyp = gy + pl * oH * oW;
    T s = 0;
    for (int64_t oh = oh0; oh <= oh1; oh++)
      for (int64_t ow = ow0; ow <= ow1; ow++) {
        int64_t hs, he, ws, we;
        double div = avg_window(oh, ow, H, W, p, &hs, &he, &ws, &we);
        if (div > 0 && h >= hs && h < he && w >= ws && w < we) s += (T)(gyp[oh * oW + ow] / div);
      }
    gx[i] = s;
  }
}

/* --- adaptive average pooling: output i of n pools [floor(i*in/n), ceil((i+1)*in/n)) --- */

static __device__ __forceinline__ int64_t ada_start(int64_t i, int64_t n, int64_t in) { return i * in / n; }
static __device__ __forceinline__ int64_t ada_end(int64_t i, int64_t n, int64_t in) {
  return ((i + 1) * in + n - 1) / n;
}

template <typename T>
__global__ void adaptive_fwd_kernel(T *y, const T *x, int64_t P, int64_t H, int64_t W, int64_t oH,
                                    int64_t oW) {
  EM_CUDA_LOOP(o, P * oH * oW) {
    int64_t ow = o % oW, oh = (o / oW) % oH, pl = o / (oW * oH);
    int64_t hs = ada_start(oh, oH, H), he = ada_end(oh, oH, H);
    int64_t ws = ada_start(ow, oW, W), we = ada_end(ow, oW, W);
    const T *xp = x + pl * H * W;
    T s = 0;
    for (int64_t h = hs; h < he; h++)
      for (int64_t w = ws; w < we; w++) s += xp[h * W + w];
    y[o] = s / (T)((he - hs) * (we - ws));
  }
}

/* each input element gathers from the (at most a few) windows holding it */
template <typename T>
__global__ void adaptive_bwd_kernel(T *gx, const T *gy, int64_t P, int64_t H, int64_t W,
                                    int64_t oH, int64_t oW) {
  EM_CUDA_LOOP(i, P * H * W) {
    int64_t w = i % W, h = (i / W) % H, pl = i / (W * H);
    int64_t oh0 = imax(0, h * oH / H - 1), oh1 = imin(oH - 1, (h + 1) * oH / H + 1);
    int64_t ow0 = imax(0, w * oW / W - 1), ow1 = imin(oW - 1, (w + 1) * oW / W + 1);
    const T *gyp = gy + pl * oH * oW;
    T s = 0;
    for (int64_t oh = oh0; oh <= oh1; oh++) {
      int64_t hs = ada_start(oh, oH, H), he = ada_end(oh, oH, H);
      if (h < hs || h >= he) continue;
      for (int64_t ow = ow0; ow <= ow1; ow++) {
        int64_t ws = ada_start(ow, oW, W), we = ada_end(ow, oW, W);
        if (w >= ws && w < we) s += gyp[oh * oW + ow] / (T)((he - hs) * (we - ws));
      }
    }
    gx[i] = s;
  }
}

/* --- batch norm: one block per channel c; sums in double as src/cpu_norm.c --- */

struct dsum {
  __device__ double operator()(double a, double b) const { return a + b; }
};

template <typename T>
__global__ void batchnorm_fwd_kernel(T *y, T *mean, T *invstd, const T *x, const T *w,
                                     const T *b, T *rm, T *rv, int64_t N, int64_t C, int64_t S,
                                     int train, double momentum, double eps) {
  __shared__ double stat[2];
  int64_t c = blockIdx.x, M = N * S;
  double mu, is;
  if (train) {
    double s = 0;
    for (int64_t j = threadIdx.x; j < M; j += blockDim.x) s += x[((j / S) * C + c) * S + j % S];
    s = em_block_reduce(s, dsum(), 0.0);
    if (threadIdx.x == 0) stat[0] = s / (double)M;
    __syncthreads();
    mu = stat[0];
    double sq = 0;
    for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
      double d = x[((j / S) * C + c) * S + j % S] - mu;
      sq += d * d;
    }
    sq = em_block_reduce(sq, dsum(), 0.0);
    if (threadIdx.x == 0) {
      stat[1] = 1.0 / sqrt(sq / (double)M + eps);
      if (rm) {
        rm[c] = (T)((1 - momentum) * (double)rm[c] + momentum * mu);
        rv[c] = (T)((1 - momentum) * (double)rv[c] + momentum * sq / (double)(M - 1));
      }
    }
    __syncthreads();
    is = stat[1];
  } else {
    mu = rm[c];
    is = 1.0 / sqrt((double)rv[c] + eps);
  }
  if (threadIdx.x == 0) {
    mean[c] = (T)mu;
    invstd[c] = (T)is;
  }
  double a = (w ? (double)w[c] : 1.0) * is, bias = b ? (double)b[c] : 0.0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    int64_t i = ((j / S) * C + c) * S + j % S;
    y[i] = (T)((x[i] - mu) * a + bias);
  }
}

/* train: gx = w*invstd*(gy - sum(gy)/M - xhat*sum(gy*xhat)/M); eval: gx = w*invstd*gy;
 * gw += scale*sum(gy*xhat); gb += scale*sum(gy) */
template <typename T>
__global__ void batchnorm_bwd_kernel(T *gx, T *gw, T *gb, const T *x, const T *gy, const T *w,
                                     const T *mean, const T *invstd, int64_t N, int64_t C,
                                     int64_t S, int train, double scale) {
  __shared__ double stat[2];
  int64_t c = blockIdx.x, M = N * S;
  double mu = mean[c], is = invstd[c], sg = 0, sgx = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    int64_t i = ((j / S) * C + c) * S + j % S;
    double g = gy[i];
    sg += g;
    sgx += g * (x[i] - mu) * is;
  }
  sg = em_block_reduce(sg, dsum(), 0.0);
  if (threadIdx.x == 0) stat[0] = sg;
  sgx = em_block_reduce(sgx, dsum(), 0.0);
  if (threadIdx.x == 0) {
    stat[1] = sgx;
    if (gw) gw[c] = (T)((double)gw[c] + scale * sgx);
    if (gb) gb[c] = (T)((double)gb[c] + scale * sg);
  }
  __syncthreads();
  if (!gx) return;
  sg = stat[0];
  sgx = stat[1];
  double a = (w ? (double)w[c] : 1.0) * is;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    int64_t i = ((j / S) * C + c) * S + j % S;
    double g = gy[i];
    if (train) g -= (sg + (x[i] - mu) * is * sgx) / (double)M;
    gx[i] = (T)(a * g);
  }
}

/* --- launchers --- */

static void *data_or_null(const em_tensor *t) { return t && t->storage ? em_cuda_data(t) : NULL; }

/* The planes and sizes of a 4-D pooling pair. */
typedef struct pool_dims {
  int64_t P, H, W, oH, oW;
} pool_dims;

static pool_dims dims_of(const em_tensor *in, const em_tensor *out) {
  pool_dims d = {in->size[0] * in->size[1], in->size[2], in->size[3], out->size[2], out->size[3]};
  return d;
}

#define GRID(n) em_cuda_grid((n), EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s

template <typename T>
static int maxpool_fwd(em_tensor *y, em_tensor *idx, const em_tensor *x, const em_pool2d_params *p,
                       cudaStream_t s) {
  pool_dims d = dims_of(x, y);
  int64_t n = d.P * d.oH * d.oW;
  if (n == 0) return EM_OK;
  maxpool_fwd_kernel<T><<<GRID(n)>>>((T *)em_cuda_data(y), (int64_t *)em_cuda_data(idx),
                                     (const T *)em_cuda_data(x), d.P, d.H, d.W, d.oH, d.oW, *p);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int maxpool_bwd(em_tensor *gx, const em_tensor *gy, const em_tensor *idx, cudaStream_t s) {
  pool_dims d = dims_of(gx, gy);
  EM_CUDA_CHECK(cudaMemsetAsync(em_cuda_data(gx), 0, (size_t)(d.P * d.H * d.W) * sizeof(T), s));
  int64_t n = d.P * d.oH * d.oW;
  if (n == 0) return EM_OK;
  maxpool_bwd_kernel<T><<<GRID(n)>>>((T *)em_cuda_data(gx), (const T *)em_cuda_data(gy),
                                     (const int64_t *)em_cuda_data(idx), d.P, d.H * d.W, d.oH * d.oW);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int avgpool_fwd(em_tensor *y, const em_tensor *x, const em_pool2d_params *p, cudaStream_t s) {
  pool_dims d = dims_of(x, y);
  int64_t n = d.P * d.oH * d.oW;
  if (n == 0) return EM_OK;
  avgpool_fwd_kernel<T><<<GRID(n)>>>((T *)em_cuda_data(y), (const T *)em_cuda_data(x), d.P, d.H,
                                     d.W, d.oH, d.oW, *p);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int avgpool_bwd(em_tensor *gx, const em_tensor *gy, const em_pool2d_params *p, cudaStream_t s) {
  pool_dims d = dims_of(gx, gy);
  int64_t n = d.P * d.H * d.W;
  if (n == 0) return EM_OK;
  avgpool_bwd_kernel<T><<<GRID(n)>>>((T *)em_cuda_data(gx), (const T *)em_cuda_data(gy), d.P, d.H,
                                     d.W, d.oH, d.oW, *p);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int adaptive_fwd(em_tensor *y, const em_tensor *x, cudaStream_t s) {
  pool_dims d = dims_of(x, y);
  int64_t n = d.P * d.oH * d.oW;
  if (n == 0) return EM_OK;
  adaptive_fwd_kernel<T><<<GRID(n)>>>((T *)em_cuda_data(y), (const T *)em_cuda_data(x), d.P, d.H,
                                      d.W, d.oH, d.oW);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int adaptive_bwd(em_tensor *gx, const em_tensor *gy, cudaStream_t s) {
  pool_dims d = dims_of(gx, gy);
  int64_t n = d.P * d.H * d.W;
  if (n == 0) return EM_OK;
  adaptive_bwd_kernel<T><<<GRID(n)>>>((T *)em_cuda_data(gx), (const T *)em_cuda_data(gy), d.P, d.H,
                                      d.W, d.oH, d.oW);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int batchnorm_fwd(em_tensor *y, em_tensor *mean, em_tensor *invstd, const em_tensor *x,
                         const em_tensor *w, const em_tensor *b, em_tensor *rm, em_tensor *rv,
                         int train, double momentum, double eps, cudaStream_t s) {
  int64_t N = x->size[0], C = x->size[1], S = x->size[2];
  if (C == 0) return EM_OK;
  batchnorm_fwd_kernel<T><<<(unsigned)C, EM_BN_BLOCK, 0, s>>>(
      (T *)em_cuda_data(y), (T *)em_cuda_data(mean), (T *)em_cuda_data(invstd),
      (const T *)em_cuda_data(x), (const T *)data_or_null(w), (const T *)data_or_null(b),
      (T *)data_or_null(rm), (T *)data_or_null(rv), N, C, S, train, momentum, eps);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int batchnorm_bwd(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                         const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                         const em_tensor *invstd, int train, double scale, cudaStream_t s) {
  int64_t N = x->size[0], C = x->size[1], S = x->size[2];
  if (C == 0) return EM_OK;
  batchnorm_bwd_kernel<T><<<(unsigned)C, EM_BN_BLOCK, 0, s>>>(
      (T *)data_or_null(gx), (T *)data_or_null(gw), (T *)data_or_null(gb),
      (const T *)em_cuda_data(x), (const T *)em_cuda_data(gy), (const T *)data_or_null(w),
      (const T *)em_cuda_data(mean), (const T *)em_cuda_data(invstd), N, C, S, train, scale);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* --- entry points (kernels/nn_table.cu gathers them into em_cuda_nn) --- */

#define ON_STREAM(t)                                                                   \
  cudaStream_t s;                                                                      \
  if (em_cuda_use((t)->device, &s) != EM_OK) return EM_ERR;                            \
  const int f64 = (t)->dtype == EM_FLOAT64

extern "C" int em_cuda_maxpool2d_forward(em_tensor *y, em_tensor *idx, const em_tensor *x,
                                         const em_pool2d_params *p) {
  ON_STREAM(x);
  return f64 ? maxpool_fwd<double>(y, idx, x, p, s) : maxpool_fwd<float>(y, idx, x, p, s);
}

extern "C" int em_cuda_maxpool2d_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *idx) {
  ON_STREAM(gx);
  return f64 ? maxpool_bwd<double>(gx, gy, idx, s) : maxpool_bwd<float>(gx, gy, idx, s);
}

extern "C" int em_cuda_avgpool2d_forward(em_tensor *y, const em_tensor *x, const em_pool2d_params *p) {
  ON_STREAM(x);
  return f64 ? avgpool_fwd<double>(y, x, p, s) : avgpool_fwd<float>(y, x, p, s);
}

extern "C" int em_cuda_avgpool2d_backward(em_tensor *gx, const em_tensor *gy,
                                          const em_pool2d_params *p) {
  ON_STREAM(gx);
  return f64 ? avgpool_bwd<double>(gx, gy, p, s) : avgpool_bwd<float>(gx, gy, p, s);
}

extern "C" int em_cuda_adaptive_avgpool2d_forward(em_tensor *y, const em_tensor *x) {
  ON_STREAM(x);
  return f64 ? adaptive_fwd<double>(y, x, s) : adaptive_fwd<float>(y, x, s);
}

extern "C" int em_cuda_adaptive_avgpool2d_backward(em_tensor *gx, const em_tensor *gy) {
  ON_STREAM(gx);
  return f64 ? adaptive_bwd<double>(gx, gy, s) : adaptive_bwd<float>(gx, gy, s);
}

extern "C" int em_cuda_batchnorm_forward(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                                         const em_tensor *x, const em_tensor *w,
                                         const em_tensor *b, em_tensor *rm, em_tensor *rv,
                                         int train, double momentum, double eps) {
  ON_STREAM(x);
  return f64 ? batchnorm_fwd<double>(y, mean, invstd, x, w, b, rm, rv, train, momentum, eps, s)
             : batchnorm_fwd<float>(y, mean, invstd, x, w, b, rm, rv, train, momentum, eps, s);
}

extern "C" int em_cuda_batchnorm_backward(em_tensor *gx, em_tensor *gw, em_tensor *gb,
                                          const em_tensor *x, const em_tensor *gy,
                                          const em_tensor *w, const em_tensor *mean,
                                          const em_tensor *invstd, int train, double scale) {
  ON_STREAM(x);
  return f64 ? batchnorm_bwd<double>(gx, gw, gb, x, gy, w, mean, invstd, train, scale, s)
             : batchnorm_bwd<float>(gx, gw, gb, x, gy, w, mean, invstd, train, scale, s);
}
