/* What the op-family kernels share beyond cuda_common.cuh: element loads and stores of
 * every dtype (the rules of src/dtype.c: floats into integers saturate, nan gives 0,
 * integer stores wrap, bool is "not zero"), the order-preserving sort key of
 * src/cpu_sort.c, warp and block reductions, and the entry points that one family file
 * lends another (sort.cu's selections, used by reduce.cu's table). */
#ifndef EMBER_CUDA_OPS_CUH
#define EMBER_CUDA_OPS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda_common.cuh"

extern "C" {
#include "reduce.h"
}

/* A grid-stride loop over [0, n). */
#define EM_CUDA_LOOP(i, n)                                                            \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);          \
       i += (int64_t)gridDim.x * blockDim.x)

/* --- element access by dtype (device) --- */

static __device__ __forceinline__ float em_half_f(uint16_t h) { return __half2float(__ushort_as_half(h)); }
static __device__ __forceinline__ float em_bf16_f(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }

static __device__ __forceinline__ double em_load_f64(const char *p, int dt) {
  switch (dt) {
  case EM_FLOAT32: return *(const float *)p;
  case EM_FLOAT64: return *(const double *)p;
  case EM_FLOAT16: return em_half_f(*(const uint16_t *)p);
  case EM_BFLOAT16: return em_bf16_f(*(const uint16_t *)p);
  case EM_INT64: return (double)*(const int64_t *)p;
  case EM_INT32: return *(const int32_t *)p;
  case EM_INT16: return *(const int16_t *)p;
  case EM_INT8: return *(const int8_t *)p;
  default: return *(const uint8_t *)p;
  }
}

/* Integer and bool elements as int64 (exact); floats through em_load_f64, truncated. */
static __device__ __forceinline__ int64_t em_load_i64(const char *p, int dt) {
  switch (dt) {
  case EM_INT64: return *(const int64_t *)p;
  case EM_INT32: return *(const int32_t *)p;
  case EM_INT16: return *(const int16_t *)p;
  case EM_INT8: return *(const int8_t *)p;
  case EM_UINT8: case EM_BOOL: return *(const uint8_t *)p;
  default: return (int64_t)em_load_f64(p, dt);
  }
}

static __device__ __forceinline__ int64_t em_sat_i64(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}

/* *p (dtype dt) := v wrapped to the width of dt (em_dtype_set_i64). */
static __device__ __forceinline__ void em_store_i64(char *p, int dt, int64_t v) {
  switch (dt) {
  case EM_INT64: *(int64_t *)p = v; return;
  case EM_INT32: *(int32_t *)p = (int32_t)(uint32_t)v; return;
  case EM_INT16: *(int16_t *)p = (int16_t)(uint16_t)v; return;
  case EM_INT8: *(int8_t *)p = (int8_t)(uint8_t)v; return;
  case EM_BOOL: *(uint8_t *)p = v != 0; return;
  case EM_FLOAT32: *(float *)p = (float)v; return;
  case EM_FLOAT64: *(double *)p = (double)v; return;
  case EM_FLOAT16: *(uint16_t *)p = __half_as_ushort(__float2half_rn((float)v)); return;
  case EM_BFLOAT16: *(uint16_t *)p = __bfloat16_as_ushort(__float2bfloat16_rn((float)v)); return;
  default: *(uint8_t *)p = (uint8_t)v; return;
  }
}

/* *p (dtype dt) := v, as em_dtype_set: half types round through float32. */
static __device__ __forceinline__ void em_store_f64(char *p, int dt, double v) {
  switch (dt) {
  case EM_FLOAT32: *(float *)p = (float)v; return;
  case EM_FLOAT64: *(double *)p = v; return;
  case EM_FLOAT16: *(uint16_t *)p = __half_as_ushort(__float2half_rn((float)v)); return;
  case EM_BFLOAT16: *(uint16_t *)p = __bfloat16_as_ushort(__float2bfloat16_rn((float)v)); return;
  case EM_BOOL: *(uint8_t *)p = v != 0; return;
  default: em_store_i64(p, dt, em_sat_i64(v)); return;
  }
}

/* Is the element nonzero? (-0.0 is zero; NaN is nonzero) */
static __device__ __forceinline__ int em_nonzero(const char *p, int dt) {
  switch (dt) {
  case EM_FLOAT32: return *(const float *)p != 0;
  case EM_FLOAT64: return *(const double *)p != 0;
  case EM_FLOAT16: case EM_BFLOAT16: return (*(const uint16_t *)p & 0x7fff) != 0;
  case EM_INT64: return *(const int64_t *)p != 0;
  case EM_INT32: return *(const int32_t *)p != 0;
  case EM_INT16: return *(const int16_t *)p != 0;
  default: return *(const uint8_t *)p != 0;
  }
}

/* em_cpu_sort_key: integer order of keys is the numeric order of values; NaN is
 * INT64_MAX (nan_high) or INT64_MIN; -0.0 and 0.0 share key 0. */
static __device__ __forceinline__ int64_t em_float_key(double d, int nan_high) {
  if (d != d) return nan_high ? INT64_MAX : INT64_MIN;
  if (d == 0) return 0;
  int64_t b = __double_as_longlong(d);
  return b < 0 ? b ^ INT64_MAX : b;
}

static __device__ __forceinline__ int64_t em_sort_key(const char *p, int dt, int nan_high) {
  if (dt <= EM_BFLOAT16) return em_float_key(em_load_f64(p, dt), nan_high);
  return em_load_i64(p, dt);
}

/* Moves one element of es bytes. */
static __device__ __forceinline__ void em_move_elem(char *d, const char *s, int es) {
  switch (es) {
  case 1: *(uint8_t *)d = *(const uint8_t *)s; break;
  case 2: *(uint16_t *)d = *(const uint16_t *)s; break;
  case 4: *(uint32_t *)d = *(const uint32_t *)s; break;
  default: *(uint64_t *)d = *(const uint64_t *)s; break;
  }
}

/* --- reductions within a warp and a block --- */

template <typename T, typename Op>
static __device__ __forceinline__ T em_warp_reduce(T v, Op op) {
  for (int o = EM_CUDA_WARP / 2; o > 0; o /= 2) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
  return v;
}

/* The block's combined value, valid in thread 0. blockDim.x is a multiple of 32 and
 * at most 1024; every thread calls it. */
template <typename T, typename Op>
static __device__ T em_block_reduce(T v, Op op, T identity) {
  __shared__ T part[32];
  int lane = threadIdx.x % EM_CUDA_WARP, warp = threadIdx.x / EM_CUDA_WARP;
  v = em_warp_reduce(v, op);
  __syncthreads();                         /* part may still be read by a previous call */
  if (lane == 0) part[warp] = v;
  __syncthreads();
  int nwarps = blockDim.x / EM_CUDA_WARP;
  v = threadIdx.x < nwarps ? part[threadIdx.x] : identity;
  if (warp == 0) v = em_warp_reduce(v, op);
  return v;
}

/* --- host helpers --- */

/* dst := t with size[dim] = 1 (the row starts of a reduction along dim). */
static inline em_tensor em_cuda_row_starts(const em_tensor *t, int dim) {
  em_tensor r = *t;
  r.size[dim] = 1;
  return r;
}

/* Reads n bytes of device memory into host memory, waiting for the stream. */
static inline int em_cuda_read_back(void *host, const void *dev, size_t n, cudaStream_t stream) {
  EM_CUDA_CHECK(cudaMemcpyAsync(host, dev, n, cudaMemcpyDeviceToHost, stream));
  EM_CUDA_CHECK(cudaStreamSynchronize(stream));
  return EM_OK;
}

/* --- entry points lent between family files --- */

/* sort.cu: median, kthvalue and mode along dim (em_reduce_backend.select's contract) */
int em_cuda_select_sorted(em_select_op op, em_tensor *values, em_tensor *indices,
                          const em_tensor *x, int dim, int64_t k, int64_t base);
int em_cuda_sort(em_tensor *values, em_tensor *indices, const em_tensor *x, int dim,
                 int descending, int64_t base);
int em_cuda_topk(em_tensor *values, em_tensor *indices, const em_tensor *x, int64_t k, int dim,
                 int largest, int sorted, int64_t base);

#endif
