/* What every kernels/ file shares: the core's C headers, the status-returning
 * error checks, named block sizes, the per-device stream and cuBLAS handle, pool
 * temporaries, and a strided-offset helper for kernels over views.
 *
 * A family file reads top-down: __global__ kernels, then host launchers that take the
 * stream as an argument and check the launch, then the extern "C" entry points that
 * call em_cuda_use() once and fill the family table declared below. */
#ifndef EMBER_CUDA_COMMON_CUH
#define EMBER_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "backend.h"
#include "cuda_device.h"
}

/* --- errors: never abort; record a message and return a status --- */

/* For host functions returning an Ember status: on a CUDA error, records
 * "cuda: <call> failed: <reason>" and returns EM_ERR (EM_ENOMEM for allocations). */
#define EM_CUDA_CHECK(call)                                                          \
  do {                                                                               \
    cudaError_t em_err_ = (call);                                                    \
    if (em_err_ != cudaSuccess) return em_cuda_fail(em_err_, #call, __FILE__, __LINE__); \
  } while (0)

/* After every kernel launch: launch-configuration errors and earlier asynchronous
 * faults surface here. */
#define EM_CUDA_CHECK_LAUNCH() EM_CUDA_CHECK(cudaGetLastError())

/* Records the message for err (clearing CUDA's sticky last error) and returns the
 * status that em_lua_call understands. */
static inline int em_cuda_fail(cudaError_t err, const char *what, const char *file, int line) {
  (void)cudaGetLastError();
  em_error("cuda: %s failed: %s (%s:%d)", what, cudaGetErrorString(err), file, line);
  return err == cudaErrorMemoryAllocation ? EM_ENOMEM : EM_ERR;
}

/* --- launch geometry --- */

enum {
  EM_CUDA_BLOCK = 256,          /* threads per block for element-wise kernels */
  EM_CUDA_BLOCK_REDUCE = 512,   /* threads per block for reductions */
  EM_CUDA_WARP = 32,
  EM_CUDA_MAX_GRID = 65536,     /* blocks of a grid-stride loop; more buys nothing */
};

/* Blocks for a grid-stride loop over n items. */
static inline unsigned em_cuda_grid(int64_t n, int block) {
  int64_t g = (n + block - 1) / block;
  int64_t cap = EM_CUDA_MAX_GRID;
  return (unsigned)(g < 1 ? 1 : g > cap ? cap : g);
}

/* --- device context (kernels/cuda_device.cu) --- */

/* Makes dev current on this thread and gives its stream (one per device, created on
 * first use). Every launch and async copy for dev goes to this stream, which is what
 * makes handing pool memory back right after a launch safe: the next user of the
 * block is queued behind the kernel that still reads it. */
extern "C" int em_cuda_use(em_device dev, cudaStream_t *stream);

/* The cuBLAS handle of dev, bound to dev's stream (created on first use). The type is
 * cublasHandle_t; declared here without cublas_v2.h so only BLAS files include it. */
struct cublasContext;
extern "C" int em_cuda_cublas(em_device dev, struct cublasContext **handle);

/* The allocator behind every storage on device index: its caching pool. */
extern "C" em_allocator em_cuda_device_allocator(int index);

/* A temporary device buffer from dev's caching pool: no cudaMalloc in steady state.
 * Release it as soon as the kernels that use it are queued (stream order keeps it
 * alive for them). */
typedef struct em_cuda_workspace {
  void *ptr;
  size_t nbytes;
  int device;
} em_cuda_workspace;

extern "C" int em_cuda_workspace_get(em_device dev, size_t nbytes, em_cuda_workspace *ws);
extern "C" void em_cuda_workspace_release(em_cuda_workspace *ws);

/* --- strided views on the device --- */

/* Up to EM_CUDA_MAX_OPERANDS tensors of one shape (broadcast views allowed), with dims
 * that are contiguous in all of them merged. Passed to kernels by value (~330 bytes).
 * Offsets are in elements, relative to each tensor's first element. */
#define EM_CUDA_MAX_OPERANDS 4

typedef struct em_cuda_iter {
  int ndim;                                          /* after merging; 0 for a scalar */
  int nops;
  int64_t numel;
  int64_t size[EM_MAX_DIMS];                         /* outermost first */
  int64_t stride[EM_CUDA_MAX_OPERANDS][EM_MAX_DIMS]; /* in elements */
} em_cuda_iter;

/* Builds the iterator over ts[0..n) (same shape: the caller broadcasts first). */
static inline void em_cuda_iter_init(em_cuda_iter *it, int n, const em_tensor *const *ts) {
  const em_tensor *t0 = ts[0];
  it->nops = n;
  it->ndim = 0;
  it->numel = em_tensor_numel(t0);
  for (int d = 0; d < t0->ndim; d++) {
    if (t0->size[d] == 1) continue;                  /* size-1 dims never move */
    int m = it->ndim;
    int merge = m > 0;                               /* into the previous kept dim? */
    for (int k = 0; merge && k < n; k++)
      merge = it->stride[k][m - 1] == ts[k]->stride[d] * t0->size[d];
    if (merge) {
      it->size[m - 1] *= t0->size[d];
      for (int k = 0; k < n; k++) it->stride[k][m - 1] = ts[k]->stride[d];
    } else {
      it->size[m] = t0->size[d];
      for (int k = 0; k < n; k++) it->stride[k][m] = ts[k]->stride[d];
      it->ndim = m + 1;
    }
  }
}

/* Element offset of linear index i (row-major over the merged shape) in operand k. */
__device__ __forceinline__ int64_t em_cuda_offset(const em_cuda_iter &it, int k, int64_t i) {
  int64_t off = 0;
  for (int d = it.ndim - 1; d >= 0; d--) {
    int64_t s = it.size[d];
    off += (i % s) * it.stride[k][d];
    i /= s;
  }
  return off;
}

/* Is operand k laid out densely in row-major order (offset == i)? */
static inline int em_cuda_iter_dense(const em_cuda_iter *it, int k) {
  return it->ndim <= 1 && (it->ndim == 0 || it->stride[k][0] == 1);
}

/* Device address of t's first element. */
static inline void *em_cuda_data(const em_tensor *t) {
  return t->storage ? (char *)t->storage->data + t->offset * (int64_t)em_dtype_info[t->dtype].size
                    : NULL;
}

/* --- the backend's family tables ---
 * Each family file defines one of these (kernels/pointwise.cu: em_cuda_math, reduce.cu:
 * em_cuda_reduce, index.cu and sort.cu: em_cuda_index, random.cu: em_cuda_random,
 * blas_cublas.cu: em_cuda_blas, rnn.cu: em_cuda_rnn, ...); cuda_backend.cu gathers them
 * into em_cuda_backend. An op a family table leaves NULL reports "not implemented". */
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

#endif
