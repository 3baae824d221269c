/* The CUDA backend table: storages from the device's caching pool, copy (host to
 * device, device to host, device to device, across devices; any dtypes; any strides)
 * and fill. Element conversions are bit-for-bit those of src/dtype.c and
 * src/cpu_copy.c, so a round trip through the device changes nothing. */
#include <string.h>

#include "cuda_common.cuh"

/* --- element conversion on the device (mirrors dtype.c) --- */

__device__ __forceinline__ uint16_t float_to_half(float f) {
  uint32_t x = __float_as_uint(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);
  if (ax < 0x38800000u) return (uint16_t)(sign | (uint32_t)__float2int_rn(__uint_as_float(ax) * 16777216.0f));
  ax += 0xc8000fffu + ((ax >> 13) & 1u);
  return (uint16_t)(sign | (ax >> 13));
}

__device__ __forceinline__ float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {
    float v = (float)mant / 16777216.0f;
    return sign ? -v : v;
  }
  if (exp == 31) return __uint_as_float(sign | 0x7f800000u | (mant << 13));
  return __uint_as_float(sign | ((exp + 112) << 23) | (mant << 13));
}

__device__ __forceinline__ uint16_t float_to_bf16(float f) {
  uint32_t x = __float_as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

__device__ __forceinline__ float bf16_to_float(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }

__device__ __forceinline__ double load_f64(const char *p, int dt) {
  switch (dt) {
  case EM_FLOAT32: return *(const float *)p;
  case EM_FLOAT64: return *(const double *)p;
  case EM_FLOAT16: return half_to_float(*(const uint16_t *)p);
  case EM_BFLOAT16: return bf16_to_float(*(const uint16_t *)p);
  case EM_INT64: return (double)*(const int64_t *)p;
  case EM_INT32: return *(const int32_t *)p;
  case EM_INT16: return *(const int16_t *)p;
  case EM_INT8: return *(const int8_t *)p;
  case EM_UINT8: return *(const uint8_t *)p;
  default: return *(const uint8_t *)p != 0;
  }
}

/* Truncates toward zero, saturates, nan gives 0 (dtype.c's sat_i64). */
__device__ __forceinline__ int64_t sat_i64(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}

__device__ __forceinline__ int64_t load_i64(const char *p, int dt) {
  switch (dt) {
  case EM_INT64: return *(const int64_t *)p;
  case EM_INT32: return *(const int32_t *)p;
  case EM_INT16: return *(const int16_t *)p;
  case EM_INT8: return *(const int8_t *)p;
  case EM_UINT8: case EM_BOOL: return *(const uint8_t *)p;
  default: return sat_i64(load_f64(p, dt));
  }
}

/* float32 straight from the source type (int64 -> float rounds once, as in C). */
__device__ __forceinline__ float load_f32(const char *p, int dt) {
  switch (dt) {
  case EM_FLOAT32: return *(const float *)p;
  case EM_INT64: return (float)*(const int64_t *)p;
  case EM_INT32: return (float)*(const int32_t *)p;
  default: return (float)load_f64(p, dt);
  }
}

/* *d (dtype dt) := *s (dtype st), with dtype.c's rules: integer stores wrap, floats
 * into integers saturate, bool is "not zero". */
__device__ __forceinline__ void convert(char *d, int dt, const char *s, int st) {
  int src_int = st >= EM_INT64;                 /* EM_INT64 .. EM_BOOL are integers */
  switch (dt) {
  case EM_FLOAT32: *(float *)d = load_f32(s, st); return;
  case EM_FLOAT64: *(double *)d = load_f64(s, st); return;
  case EM_FLOAT16: *(uint16_t *)d = float_to_half(load_f32(s, st)); return;
  case EM_BFLOAT16: *(uint16_t *)d = float_to_bf16(load_f32(s, st)); return;
  case EM_BOOL: *(uint8_t *)d = src_int ? load_i64(s, st) != 0 : load_f64(s, st) != 0; return;
  default: break;
  }
  int64_t v = src_int ? load_i64(s, st) : sat_i64(load_f64(s, st));
  switch (dt) {
  case EM_INT64: *(int64_t *)d = v; return;
  case EM_INT32: *(int32_t *)d = (int32_t)(uint32_t)v; return;
  case EM_INT16: *(int16_t *)d = (int16_t)(uint16_t)v; return;
  case EM_INT8: *(int8_t *)d = (int8_t)(uint8_t)v; return;
  default: *(uint8_t *)d = (uint8_t)v; return;
  }
}

/* --- kernels --- */

/* dst[i] := convert(src[i]) over a view pair; Dense: both row-major contiguous. */
template <bool Dense>
__global__ void copy_kernel(char *dst, int dt, int dsize, const char *src, int st, int ssize,
                            em_cuda_iter it) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < it.numel;
       i += (int64_t)gridDim.x * blockDim.x) {
    int64_t od = Dense ? i : em_cuda_offset(it, 0, i);
    int64_t os = Dense ? i : em_cuda_offset(it, 1, i);
    convert(dst + od * dsize, dt, src + os * ssize, st);
  }
}

/* Same dtype, strided: a plain move of T-sized elements. */
template <typename T>
__global__ void move_kernel(T *dst, const T *src, em_cuda_iter it) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < it.numel;
       i += (int64_t)gridDim.x * blockDim.x)
    dst[em_cuda_offset(it, 0, i)] = src[em_cuda_offset(it, 1, i)];
}

template <typename T, bool Dense>
__global__ void fill_kernel(T *dst, T value, em_cuda_iter it) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < it.numel;
       i += (int64_t)gridDim.x * blockDim.x)
    dst[Dense ? i : em_cuda_offset(it, 0, i)] = value;
}

/* --- launchers --- */

template <typename T>
static int launch_move(void *dst, const void *src, const em_cuda_iter *it, cudaStream_t stream) {
  move_kernel<T><<<em_cuda_grid(it->numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
      (T *)dst, (const T *)src, *it);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

static int launch_copy(em_tensor *dst, const em_tensor *src, cudaStream_t stream) {
  const em_tensor *ts[2] = {dst, src};
  em_cuda_iter it;
  em_cuda_iter_init(&it, 2, ts);
  int dt = dst->dtype, st = src->dtype;
  size_t es = em_dtype_info[dt].size;
  int same = dt == st || (dt == EM_UINT8 && st == EM_BOOL);
  int dense = em_cuda_iter_dense(&it, 0) && em_cuda_iter_dense(&it, 1);
  if (same && dense) {
    EM_CUDA_CHECK(cudaMemcpyAsync(em_cuda_data(dst), em_cuda_data(src), (size_t)it.numel * es,
                                  cudaMemcpyDeviceToDevice, stream));
    return EM_OK;
  }
  if (same) {
    switch (es) {
    case 1: return launch_move<uint8_t>(em_cuda_data(dst), em_cuda_data(src), &it, stream);
    case 2: return launch_move<uint16_t>(em_cuda_data(dst), em_cuda_data(src), &it, stream);
    case 4: return launch_move<uint32_t>(em_cuda_data(dst), em_cuda_data(src), &it, stream);
    default: return launch_move<uint64_t>(em_cuda_data(dst), em_cuda_data(src), &it, stream);
    }
  }
  unsigned grid = em_cuda_grid(it.numel, EM_CUDA_BLOCK);
  int ds = (int)es, ss = (int)em_dtype_info[st].size;
  if (dense)
    copy_kernel<true><<<grid, EM_CUDA_BLOCK, 0, stream>>>((char *)em_cuda_data(dst), dt, ds,
                                                          (const char *)em_cuda_data(src), st, ss, it);
  else
    copy_kernel<false><<<grid, EM_CUDA_BLOCK, 0, stream>>>((char *)em_cuda_data(dst), dt, ds,
                                                           (const char *)em_cuda_data(src), st, ss, it);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int launch_fill(em_tensor *dst, const unsigned char *pattern, cudaStream_t stream) {
  const em_tensor *ts[1] = {dst};
  em_cuda_iter it;
  em_cuda_iter_init(&it, 1, ts);
  T v;
  memcpy(&v, pattern, sizeof v);
  unsigned grid = em_cuda_grid(it.numel, EM_CUDA_BLOCK);
  if (em_cuda_iter_dense(&it, 0))
    fill_kernel<T, true><<<grid, EM_CUDA_BLOCK, 0, stream>>>((T *)em_cuda_data(dst), v, it);
  else
    fill_kernel<T, false><<<grid, EM_CUDA_BLOCK, 0, stream>>>((T *)em_cuda_data(dst), v, it);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* --- copy between places --- */

static int same_bytes(const em_tensor *dst, const em_tensor *src) {
  return dst->dtype == src->dtype || (dst->dtype == EM_UINT8 && src->dtype == EM_BOOL);
}

static size_t nbytes_of(const em_tensor *t) {
  return (size_t)em_tensor_numel(t) * em_dtype_info[t->dtype].size;
}

/* A new contiguous tensor shaped like like, of dtype dt on dev (from dev's pool when
 * dev is a GPU). */
static int temp_like(em_tensor *t, const em_tensor *like, em_dtype dt, em_device dev) {
  em_tensor_init(t, like->ctx, dt, dev);
  return em_tensor_resize(t, like->ndim, like->size);
}

/* Do two views of one storage overlap so that a parallel copy could race? */
static int overlaps(const em_tensor *a, const em_tensor *b) {
  if (!a->storage || a->storage != b->storage) return 0;
  return a->offset != b->offset || a->dtype != b->dtype || memcmp(a->stride, b->stride, sizeof a->stride);
}

static int copy_on_device(em_tensor *dst, const em_tensor *src) {
  if (dst->storage == src->storage && !overlaps(dst, src)) return EM_OK;   /* onto itself */
  if (overlaps(dst, src)) {               /* through a temporary from the pool */
    em_tensor tmp;
    int st = temp_like(&tmp, src, src->dtype, src->device);
    if (st == EM_OK) st = copy_on_device(&tmp, src);
    if (st == EM_OK) st = copy_on_device(dst, &tmp);
    em_tensor_release(&tmp);
    return st;
  }
  cudaStream_t stream;
  if (em_cuda_use(dst->device, &stream) != EM_OK) return EM_ERR;
  return launch_copy(dst, src, stream);
}

/* Host to device: the host side is made contiguous in its own dtype, its bytes go over
 * (direct DMA when they are page-locked), and the device converts and scatters. */
static int copy_to_device(em_tensor *dst, const em_tensor *src) {
  em_tensor host, staged;
  em_tensor_init(&host, src->ctx, src->dtype, src->device);
  em_tensor_init(&staged, dst->ctx, src->dtype, dst->device);
  int st = em_tensor_contiguous(&host, src);
  int direct = same_bytes(dst, src) && em_tensor_is_contiguous(dst);
  if (st == EM_OK && !direct) st = temp_like(&staged, src, src->dtype, dst->device);
  cudaStream_t stream;
  if (st == EM_OK) st = em_cuda_use(dst->device, &stream);
  if (st == EM_OK) {
    void *to = direct ? em_cuda_data(dst) : em_cuda_data(&staged);
    cudaError_t err = cudaMemcpyAsync(to, em_tensor_data(&host), nbytes_of(src), cudaMemcpyHostToDevice, stream);
    /* a page-locked source is read asynchronously: wait before the host may reuse it */
    if (err == cudaSuccess && em_cuda_is_pinned(host.storage)) err = cudaStreamSynchronize(stream);
    if (err != cudaSuccess) st = em_cuda_fail(err, "cudaMemcpyAsync (host to device)", __FILE__, __LINE__);
  }
  if (st == EM_OK && !direct) st = launch_copy(dst, &staged, stream);
  em_tensor_release(&staged);
  em_tensor_release(&host);
  return st;
}

/* Device to host: the device converts into a contiguous buffer of dst's dtype, the
 * bytes come back, and the host scatters them when dst is a strided view. */
static int copy_to_host(em_tensor *dst, const em_tensor *src) {
  em_tensor packed, host;
  em_tensor_init(&packed, src->ctx, dst->dtype, src->device);
  em_tensor_init(&host, dst->ctx, dst->dtype, dst->device);
  int st = EM_OK;
  const em_tensor *from = src;
  if (!same_bytes(dst, src) || !em_tensor_is_contiguous(src)) {
    st = temp_like(&packed, src, dst->dtype, src->device);
    if (st == EM_OK) st = copy_on_device(&packed, src);
    from = &packed;
  }
  int direct = em_tensor_is_contiguous(dst);
  if (st == EM_OK && !direct) st = temp_like(&host, dst, dst->dtype, dst->device);
  cudaStream_t stream;
  if (st == EM_OK) st = em_cuda_use(src->device, &stream);
  if (st == EM_OK) {
    void *to = direct ? em_tensor_data(dst) : em_tensor_data(&host);
    cudaError_t err = cudaMemcpyAsync(to, em_cuda_data(from), nbytes_of(dst), cudaMemcpyDeviceToHost, stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
    if (err != cudaSuccess) st = em_cuda_fail(err, "cudaMemcpyAsync (device to host)", __FILE__, __LINE__);
  }
  if (st == EM_OK && !direct) st = em_cpu_backend.copy(dst, &host);
  em_tensor_release(&host);
  em_tensor_release(&packed);
  return st;
}

/* Between two GPUs: contiguous on the source device, a peer copy into a temporary on
 * the destination device, then the destination converts and scatters. */
static int copy_across_devices(em_tensor *dst, const em_tensor *src) {
  em_tensor packed, staged;
  em_tensor_init(&packed, src->ctx, src->dtype, src->device);
  em_tensor_init(&staged, dst->ctx, src->dtype, dst->device);
  int st = em_tensor_contiguous(&packed, src);
  if (st == EM_OK) st = temp_like(&staged, src, src->dtype, dst->device);
  cudaStream_t from_stream, to_stream;
  if (st == EM_OK) st = em_cuda_use(src->device, &from_stream);
  if (st == EM_OK) st = em_cuda_use(dst->device, &to_stream);
  if (st == EM_OK) {
    cudaError_t err = cudaStreamSynchronize(from_stream);
    if (err == cudaSuccess)
      err = cudaMemcpyPeerAsync(em_cuda_data(&staged), dst->device.index, em_cuda_data(&packed),
                                src->device.index, nbytes_of(src), to_stream);
    /* packed returns to the source pool below: the peer copy must be done with it */
    if (err == cudaSuccess) err = cudaStreamSynchronize(to_stream);
    if (err != cudaSuccess) st = em_cuda_fail(err, "cudaMemcpyPeerAsync", __FILE__, __LINE__);
  }
  if (st == EM_OK) st = launch_copy(dst, &staged, to_stream);
  em_tensor_release(&staged);
  em_tensor_release(&packed);
  return st;
}

/* dst := src, same shape, any dtypes; at least one of them is on a GPU. */
static int cuda_copy(em_tensor *dst, const em_tensor *src) {
  int d_gpu = dst->device.type == EM_CUDA, s_gpu = src->device.type == EM_CUDA;
  if (d_gpu && s_gpu) {
    if (dst->device.index == src->device.index) return copy_on_device(dst, src);
    return copy_across_devices(dst, src);
  }
  if (d_gpu) return copy_to_device(dst, src);
  return copy_to_host(dst, src);
}

static int cuda_fill(em_tensor *dst, double value) {
  unsigned char pattern[8] = {0};
  size_t es = em_dtype_info[dst->dtype].size;
  em_dtype_set(dst->dtype, pattern, value);       /* the host's exact conversion */
  cudaStream_t stream;
  if (em_cuda_use(dst->device, &stream) != EM_OK) return EM_ERR;
  int zero = 1;
  for (size_t i = 0; i < es; i++) zero &= pattern[i] == 0;
  if ((zero || es == 1) && em_tensor_is_contiguous(dst)) {
    EM_CUDA_CHECK(cudaMemsetAsync(em_cuda_data(dst), pattern[0], nbytes_of(dst), stream));
    return EM_OK;
  }
  switch (es) {
  case 1: return launch_fill<uint8_t>(dst, pattern, stream);
  case 2: return launch_fill<uint16_t>(dst, pattern, stream);
  case 4: return launch_fill<uint32_t>(dst, pattern, stream);
  default: return launch_fill<uint64_t>(dst, pattern, stream);
  }
}

static em_allocator cuda_allocator(em_context *ctx, em_device dev) {
  return em_cuda_device_allocator(dev.index);
}

/* --- the table --- */

/* The family tables, one kernels/<family>.cu each (the nn family gathered by
 * nn_table.cu, the recurrent one in rnn.cu). */
extern "C" {
extern const struct em_math_backend em_cuda_math;
extern const struct em_reduce_backend em_cuda_reduce;
extern const struct em_index_backend em_cuda_index;
extern const struct em_blas_backend em_cuda_blas;
extern const struct em_random_backend em_cuda_random;
extern const struct em_nn_backend em_cuda_nn;
extern const struct em_optim_backend em_cuda_optim;
extern const struct em_rnn_backend em_cuda_rnn;
extern const struct em_attention_backend em_cuda_attention;
}

extern "C" const em_backend em_cuda_backend = {
  "cuda",
  cuda_allocator,
  cuda_copy,
  cuda_fill,
  &em_cuda_math,
  &em_cuda_reduce,
  &em_cuda_index,
  &em_cuda_blas,
  &em_cuda_random,
  &em_cuda_nn,
  &em_cuda_optim,
  &em_cuda_rnn,
  &em_cuda_attention,
};
