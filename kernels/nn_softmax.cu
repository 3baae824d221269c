/* The softmax and log-softmax entries of the nn family on CUDA (src/nn.h), forward
 * and backward, with src/cpu_norm.c's arithmetic: the max, then sums in double.
 * kernels/nn_table.cu gathers them into em_cuda_nn (declared in cuda_nn.cuh).
 *
 * Legend: x viewed as (O, D, I): O outer rows, D the softmax dim, I inner. Rows with
 * I == 1 are contiguous: a block folds each one (block size fitted to D). With I > 1
 * neighbouring threads take neighbouring i, so reads along D stay coalesced. */
#include "cuda_nn.cuh"
#include "cuda_ops.cuh"

/* --- per-row math, shared by both layouts --- */

/* y := softmax or log-softmax of one row (D elements at stride s) */
template <typename T>
static __device__ __forceinline__ void softmax_finish(T *y, const T *x, int64_t D, int64_t s, int64_t d0,
                                                      int64_t step, T mx, double sum, int take_log) {
  double lse = (double)mx + log(sum);
  for (int64_t d = d0; d < D; d += step) {
    T v = x[d * s];
    y[d * s] = take_log ? (T)((double)v - lse) : (T)((double)exp(v - mx) / sum);
  }
}

/* gx := softmax: y * (gy - sum);  log-softmax: gy - exp(y) * sum */
template <typename T>
static __device__ __forceinline__ void backward_finish(T *gx, const T *gy, const T *y, int64_t D,
                                                       int64_t s, int64_t d0, int64_t step, double sum,
                                                       int take_log) {
  for (int64_t d = d0; d < D; d += step) {
    double g = gy[d * s], v = y[d * s];
    gx[d * s] = (T)(take_log ? g - exp(v) * sum : v * (g - sum));
  }
}

/* --- kernels --- */

/* I == 1: a block per row (grid-stride over rows) */
template <typename T>
__global__ void softmax_rows_kernel(T *y, const T *x, int64_t O, int64_t D, int take_log) {
  for (int64_t o = blockIdx.x; o < O; o += gridDim.x) {
    const T *xr = x + o * D;
    T mx = -INFINITY;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) mx = fmax(mx, xr[d]);
    mx = em_block_reduce(mx, [](T a, T b) { return fmax(a, b); }, (T)-INFINITY);
    __shared__ double shared[2];
    if (threadIdx.x == 0) shared[0] = mx;
    __syncthreads();
    mx = (T)shared[0];
    double sum = 0;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) sum += exp(xr[d] - mx);
    sum = em_block_reduce(sum, [](double a, double b) { return a + b; }, 0.0);
    if (threadIdx.x == 0) shared[1] = sum;
    __syncthreads();
    softmax_finish(y + o * D, xr, D, 1, threadIdx.x, blockDim.x, mx, shared[1], take_log);
    __syncthreads();                       /* shared is rewritten for the next row */
  }
}

/* I > 1: a thread per (o, i), walking D */
template <typename T>
__global__ void softmax_cols_kernel(T *y, const T *x, int64_t O, int64_t D, int64_t I, int take_log) {
  EM_CUDA_LOOP(t, O * I) {
    int64_t base = t / I * D * I + t % I;
    const T *xr = x + base;
    T mx = -INFINITY;
    for (int64_t d = 0; d < D; d++) mx = fmax(mx, xr[d * I]);
    double sum = 0;
    for (int64_t d = 0; d < D; d++) sum += exp(xr[d * I] - mx);
    softmax_finish(y + base, xr, D, I, 0, 1, mx, sum, take_log);
  }
}

template <typename T>
__global__ void backward_rows_kernel(T *gx, const T *gy, const T *y, int64_t O, int64_t D,
                                     int take_log) {
  for (int64_t o = blockIdx.x; o < O; o += gridDim.x) {
    const T *gr = gy + o * D, *yr = y + o * D;
    double s = 0;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += (double)gr[d] * (take_log ? 1.0 : (double)yr[d]);
    s = em_block_reduce(s, [](double a, double b) { return a + b; }, 0.0);
    __shared__ double shared;
    if (threadIdx.x == 0) shared = s;
    __syncthreads();
    backward_finish(gx + o * D, gr, yr, D, 1, threadIdx.x, blockDim.x, shared, take_log);
    __syncthreads();
  }
}

template <typename T>
__global__ void backward_cols_kernel(T *gx, const T *gy, const T *y, int64_t O, int64_t D,
                                     int64_t I, int take_log) {
  EM_CUDA_LOOP(t, O * I) {
    int64_t base = t / I * D * I + t % I;
    double s = 0;
    for (int64_t d = 0; d < D; d++)
      s += (double)gy[base + d * I] * (take_log ? 1.0 : (double)y[base + d * I]);
    backward_finish(gx + base, gy + base, y + base, D, I, 0, 1, s, take_log);
  }
}

/* --- launchers --- */

static void split_dim(const em_tensor *x, int dim, int64_t *O, int64_t *D, int64_t *I) {
  *O = 1;
  *I = 1;
  for (int i = 0; i < dim; i++) *O *= x->size[i];
  for (int i = dim + 1; i < x->ndim; i++) *I *= x->size[i];
  *D = x->size[dim];
}

/* Threads of a block that folds a row of D: a warp for short rows, up to EM_CUDA_BLOCK_REDUCE. */
static int row_block(int64_t D) {
  int b = EM_CUDA_WARP;
  while (b < EM_CUDA_BLOCK_REDUCE && b < D) b *= 2;
  return b;
}

template <typename T>
static int launch_forward(em_tensor *y, const em_tensor *x, int dim, int take_log, cudaStream_t stream) {
  int64_t O, D, I;
  split_dim(x, dim, &O, &D, &I);
  if (O * D * I == 0) return EM_OK;
  T *yp = (T *)em_cuda_data(y);
  const T *xp = (const T *)em_cuda_data(x);
  if (I == 1) {
    int block = row_block(D);
    softmax_rows_kernel<T><<<em_cuda_grid(O, 1), block, 0, stream>>>(yp, xp, O, D, take_log);
  } else {
    softmax_cols_kernel<T><<<em_cuda_grid(O * I, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        yp, xp, O, D, I, take_log);
  }
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int launch_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *y, int dim,
                           int take_log, cudaStream_t stream) {
  int64_t O, D, I;
  split_dim(y, dim, &O, &D, &I);
  if (O * D * I == 0) return EM_OK;
  T *gxp = (T *)em_cuda_data(gx);
  const T *gyp = (const T *)em_cuda_data(gy), *yp = (const T *)em_cuda_data(y);
  if (I == 1) {
    int block = row_block(D);
    backward_rows_kernel<T><<<em_cuda_grid(O, 1), block, 0, stream>>>(gxp, gyp, yp, O, D, take_log);
  } else {
    backward_cols_kernel<T><<<em_cuda_grid(O * I, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        gxp, gyp, yp, O, D, I, take_log);
  }
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* --- entry points --- */

static int check_dtype(const em_tensor *t) {
  if (t->dtype == EM_FLOAT32 || t->dtype == EM_FLOAT64) return EM_OK;
  return em_error("softmax: the CUDA kernels take float32 or float64, not %s", em_dtype_info[t->dtype].name);
}

extern "C" int em_cuda_softmax_forward(em_tensor *y, const em_tensor *x, int dim, int take_log) {
  if (check_dtype(x) != EM_OK) return EM_ERR;
  cudaStream_t stream;
  if (em_cuda_use(x->device, &stream) != EM_OK) return EM_ERR;
  if (x->dtype == EM_FLOAT64) return launch_forward<double>(y, x, dim, take_log, stream);
  return launch_forward<float>(y, x, dim, take_log, stream);
}

extern "C" int em_cuda_softmax_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *y,
                                        int dim, int take_log) {
  if (check_dtype(y) != EM_OK) return EM_ERR;
  cudaStream_t stream;
  if (em_cuda_use(y->device, &stream) != EM_OK) return EM_ERR;
  if (y->dtype == EM_FLOAT64) return launch_backward<double>(gx, gy, y, dim, take_log, stream);
  return launch_backward<float>(gx, gy, y, dim, take_log, stream);
}
