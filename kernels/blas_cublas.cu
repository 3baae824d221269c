/* The CUDA blas family (src/blas.h) through cuBLAS: one strided batched gemm
 * (cublasGemmStridedBatchedEx) carries mm, bmm, addmm, baddbmm, mv, addr, matmul, with
 * transposed and sliced views passed as transpose flags and leading dims, not copied.
 * float32 computes in float32, or in TF32 on tensor cores when allowed
 * (em_cuda_set_tf32, process-wide, off by default as in PyTorch); float16 and bfloat16
 * run on tensor cores accumulating in float32 (CUBLAS_COMPUTE_32F); float64 in
 * float64. float32 in bfloat16 precision (nn.autocast) multiplies bfloat16 copies of
 * the operands (from the pool) on tensor cores into the float32 result, also
 * accumulating in float32. Integer dtypes and k == 0 take a plain kernel with
 * cpu_blas.c's arithmetic (exact int64, wrapping). dot is a two-pass reduction in
 * double (int64 for integers).
 *
 * Legend: n rows of a, k the contracted dim, p columns of b, B the batch. cuBLAS is
 * column-major: a row-major C (n, p) is computed as C^T = B^T A^T. */
#include <limits.h>

#include <atomic>

#include <cublas_v2.h>

#include "cuda_ops.cuh"

extern "C" {
#include "blas.h"
}

enum { DOT_BLOCKS = 1024 };   /* partial sums of a dot product (blocks of EM_CUDA_BLOCK_REDUCE) */

/* --- TF32 switch --- */

static std::atomic<int> allow_tf32(0);

/* Lets float32 products use TF32 tensor cores (10-bit mantissa inputs, float32
 * accumulation): torch.cuda.allowTF32(bool). */
extern "C" void em_cuda_set_tf32(int allow) { allow_tf32.store(allow != 0); }
extern "C" int em_cuda_get_tf32(void) { return allow_tf32.load(); }

/* --- kernels --- */

/* c := alpha * a @ b + beta * c one element per thread, in int64 (wrapping) for integer
 * dtypes and double for float ones; accumulate: c's batch stride is 0 and every
 * product is summed into it. Strides in elements. */
typedef struct plain_gemm {
  int64_t B, n, k, p;
  int64_t sa[3], sb[3], sc[3];
  int dt, es, accumulate;
  double alpha, beta;
} plain_gemm;

__global__ void plain_gemm_kernel(plain_gemm g, const char *a, const char *b, char *c) {
  int64_t nb = g.accumulate ? 1 : g.B;
  bool ints = g.dt > EM_BFLOAT16;
  EM_CUDA_LOOP(e, nb * g.n * g.p) {
    int64_t i = e / (g.n * g.p), r = e / g.p % g.n, j = e % g.p;
    char *z = c + (i * g.sc[0] + r * g.sc[1] + j * g.sc[2]) * g.es;
    int64_t i0 = g.accumulate ? 0 : i, i1 = g.accumulate ? g.B : i + 1;
    double facc = 0;
    uint64_t iacc = 0;
    for (int64_t q = i0; q < i1; q++)
      for (int64_t l = 0; l < g.k; l++) {
        const char *x = a + (q * g.sa[0] + r * g.sa[1] + l * g.sa[2]) * g.es;
        const char *y = b + (q * g.sb[0] + l * g.sb[1] + j * g.sb[2]) * g.es;
        if (ints) iacc += (uint64_t)em_load_i64(x, g.dt) * (uint64_t)em_load_i64(y, g.dt);
        else facc += em_load_f64(x, g.dt) * em_load_f64(y, g.dt);
      }
    if (ints) {
      uint64_t keep = g.beta != 0 ? (uint64_t)(int64_t)g.beta * (uint64_t)em_load_i64(z, g.dt) : 0;
      em_store_i64(z, g.dt, (int64_t)((uint64_t)(int64_t)g.alpha * iacc + keep));
    } else {
      em_store_f64(z, g.dt, g.alpha * facc + (g.beta != 0 ? g.beta * em_load_f64(z, g.dt) : 0));
    }
  }
}

/* part[block] := the block's share of sum a[i] * b[i] (double, or int64 bits for ints) */
__global__ void dot_part_kernel(const char *a, int64_t sa, const char *b, int64_t sb, int64_t n,
                                int dt, int es, double *part) {
  bool ints = dt > EM_BFLOAT16;
  double f = 0;
  uint64_t u = 0;
  EM_CUDA_LOOP(i, n) {
    if (ints) u += (uint64_t)em_load_i64(a + i * sa * es, dt) * (uint64_t)em_load_i64(b + i * sb * es, dt);
    else f += em_load_f64(a + i * sa * es, dt) * em_load_f64(b + i * sb * es, dt);
  }
  if (ints) {
    u = em_block_reduce(u, [](uint64_t x, uint64_t y) { return x + y; }, (uint64_t)0);
    if (threadIdx.x == 0) part[blockIdx.x] = __longlong_as_double((long long)u);
  } else {
    f = em_block_reduce(f, [](double x, double y) { return x + y; }, 0.0);
    if (threadIdx.x == 0) part[blockIdx.x] = f;
  }
}

/* *out := the sum of nparts partial sums, stored in dt (one block) */
__global__ void dot_final_kernel(const double *part, int nparts, int dt, char *out) {
  bool ints = dt > EM_BFLOAT16;
  double f = 0;
  uint64_t u = 0;
  for (int i = threadIdx.x; i < nparts; i += blockDim.x) {
    if (ints) u += (uint64_t)__double_as_longlong(part[i]);
    else f += part[i];
  }
  if (ints) {
    u = em_block_reduce(u, [](uint64_t x, uint64_t y) { return x + y; }, (uint64_t)0);
    if (threadIdx.x == 0) em_store_i64(out, dt, (int64_t)u);
  } else {
    f = em_block_reduce(f, [](double x, double y) { return x + y; }, 0.0);
    if (threadIdx.x == 0) em_store_f64(out, dt, f);
  }
}

/* --- cuBLAS operands --- */

/* How cuBLAS reads one matrix of a batch. */
typedef struct operand {
  const char *data;       /* matrix 0 */
  long long bstride;      /* elements from one matrix to the next (0: one matrix repeated) */
  bool row_major;         /* row-major with leading dim ld, else column-major */
  int ld;
} operand;

static int64_t max1(int64_t x) { return x > 1 ? x : 1; }

/* As cpu_blas.c's layout(): a rows x cols matrix with element strides (rs, cs) is
 * row-major (cs == 1) or column-major (rs == 1) with an int leading dim; 0 when
 * cuBLAS cannot read it in place. */
static int layout(operand *o, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  int64_t r1 = rows == 1 ? max1(cols) : rs, c1 = cols == 1 ? 1 : cs;
  int64_t r2 = rows == 1 ? 1 : rs, c2 = cols == 1 ? max1(rows) : cs;
  if (c1 == 1 && r1 >= max1(cols) && r1 <= INT_MAX) {
    o->row_major = true;
    o->ld = (int)r1;
    return 1;
  }
  if (r2 == 1 && c2 >= max1(rows) && c2 <= INT_MAX) {
    o->row_major = false;
    o->ld = (int)c2;
    return 1;
  }
  return 0;
}

static cudaDataType_t cuda_type(em_dtype dt) {
  switch (dt) {
  case EM_FLOAT64: return CUDA_R_64F;
  case EM_FLOAT16: return CUDA_R_16F;
  case EM_BFLOAT16: return CUDA_R_16BF;
  default: return CUDA_R_32F;
  }
}

static int blas_fail(cublasStatus_t s, const char *what) {
  return em_error("cuda: %s failed: %s", what, cublasGetStatusString(s));
}

/* count products: C[i] := alpha * A[i] @ B[i] + beta * C[i], i < count, through one
 * cublasGemmStridedBatchedEx; A and B hold dtype in (dt, or bfloat16 for a float32 C),
 * C dtype dt. */
static int gemm_batched(cublasHandle_t h, em_dtype in, em_dtype dt, int n, int k, int p,
                        double alpha, const operand &A, const operand &Bo, double beta,
                        const operand &C, int count) {
  cudaDataType_t t = cuda_type(in), tc = cuda_type(dt);
  cublasComputeType_t ct = dt == EM_FLOAT64 ? CUBLAS_COMPUTE_64F
                           : in == EM_FLOAT32 && em_cuda_get_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                                     : CUBLAS_COMPUTE_32F;
  float falpha = (float)alpha, fbeta = (float)beta;
  const void *pa = dt == EM_FLOAT64 ? (const void *)&alpha : (const void *)&falpha;
  const void *pb = dt == EM_FLOAT64 ? (const void *)&beta : (const void *)&fbeta;
  cublasStatus_t s;
  if (C.row_major) {   /* C^T (p x n) := B^T (p x k) A^T (k x n), column-major */
    s = cublasGemmStridedBatchedEx(h, Bo.row_major ? CUBLAS_OP_N : CUBLAS_OP_T,
                                   A.row_major ? CUBLAS_OP_N : CUBLAS_OP_T, p, n, k, pa, Bo.data, t,
                                   Bo.ld, Bo.bstride, A.data, t, A.ld, A.bstride, pb, (void *)C.data,
                                   tc, C.ld, C.bstride, count, ct, CUBLAS_GEMM_DEFAULT);
  } else {             /* C (n x p) := A (n x k) B (k x p), column-major */
    s = cublasGemmStridedBatchedEx(h, A.row_major ? CUBLAS_OP_T : CUBLAS_OP_N,
                                   Bo.row_major ? CUBLAS_OP_T : CUBLAS_OP_N, n, p, k, pa, A.data, t,
                                   A.ld, A.bstride, Bo.data, t, Bo.ld, Bo.bstride, pb, (void *)C.data,
                                   tc, C.ld, C.bstride, count, ct, CUBLAS_GEMM_DEFAULT);
  }
  return s == CUBLAS_STATUS_SUCCESS ? EM_OK : blas_fail(s, "cublasGemmStridedBatchedEx");
}

/* dst := c, or its first matrix when c sums a batch (batch stride 0). */
static int result_view(em_tensor *dst, const em_tensor *c, int accumulate) {
  if (accumulate) return em_tensor_narrow(dst, c, 0, 0, 1);
  em_tensor_set(dst, c);
  return EM_OK;
}

/* dst := a (B, n, k) as a contiguous bfloat16 copy (from the pool); a batch stride of 0
 * (one matrix repeated) is kept, and only that matrix copied. */
static int bf16_copy(em_tensor *dst, const em_tensor *a) {
  int repeated = a->size[0] > 1 && a->stride[0] == 0;
  em_tensor one;
  em_tensor_init(&one, a->ctx, a->dtype, a->device);
  int st = EM_OK;
  if (repeated) st = em_tensor_narrow(&one, a, 0, 0, 1);
  else em_tensor_set(&one, a);
  if (st == EM_OK) st = em_tensor_clone_as(dst, &one, EM_BFLOAT16);
  if (st == EM_OK && repeated) st = em_tensor_expand(dst, dst, 3, a->size);
  em_tensor_release(&one);
  return st;
}

/* The float gemm through cuBLAS; a and b may be bfloat16 copies for a float32 c. An
 * operand cuBLAS cannot read in place is copied to a contiguous temporary (from the
 * pool); a c it cannot write is computed in one and copied back (cpu_blas.c's
 * blas_gemm, step for step). */
static int cublas_gemm(em_tensor *c, const em_tensor *a, const em_tensor *b, double alpha,
                       double beta) {
  int64_t B = a->size[0], n = a->size[1], k = a->size[2], p = b->size[2];
  int accumulate = B > 1 && c->stride[0] == 0;
  if (n > INT_MAX || k > INT_MAX || p > INT_MAX || B > INT_MAX)
    return em_error("gemm: a %lldx%lld by %lldx%lld product is too large for cuBLAS's 32-bit sizes",
                    (long long)n, (long long)k, (long long)k, (long long)p);
  cublasContext *h;
  if (em_cuda_cublas(c->device, &h) != EM_OK) return EM_ERR;
  em_tensor ac, bc, cc, cview;
  em_tensor_init(&ac, a->ctx, a->dtype, a->device);
  em_tensor_init(&bc, b->ctx, b->dtype, b->device);
  em_tensor_init(&cc, c->ctx, c->dtype, c->device);
  em_tensor_init(&cview, c->ctx, c->dtype, c->device);
  const em_tensor *ua = a, *ub = b;
  em_tensor *uc = c;
  operand A, Bo, C;
  int st = EM_OK;
  if (!layout(&A, n, k, a->stride[1], a->stride[2])) {
    st = em_tensor_clone_as(&ac, a, a->dtype);
    ua = &ac;
    if (st == EM_OK && !layout(&A, n, k, ac.stride[1], ac.stride[2])) st = em_error("gemm: matrix too large for cuBLAS");
  }
  if (st == EM_OK && !layout(&Bo, k, p, b->stride[1], b->stride[2])) {
    st = em_tensor_clone_as(&bc, b, b->dtype);
    ub = &bc;
    if (st == EM_OK && !layout(&Bo, k, p, bc.stride[1], bc.stride[2])) st = em_error("gemm: matrix too large for cuBLAS");
  }
  if (st == EM_OK && !layout(&C, n, p, c->stride[1], c->stride[2])) {
    st = result_view(&cview, c, accumulate);
    if (st == EM_OK && beta != 0) st = em_tensor_clone_as(&cc, &cview, c->dtype);
    else if (st == EM_OK) st = em_tensor_resize(&cc, 3, cview.size);
    if (st == EM_OK && accumulate) st = em_tensor_expand(&cc, &cc, 3, c->size);
    uc = &cc;
    if (st == EM_OK && !layout(&C, n, p, cc.stride[1], cc.stride[2])) st = em_error("gemm: matrix too large for cuBLAS");
  }
  if (st == EM_OK) {
    int64_t es = (int64_t)em_dtype_info[a->dtype].size;   /* a's and b's */
    A.data = (const char *)em_cuda_data(ua);
    A.bstride = ua->stride[0];
    Bo.data = (const char *)em_cuda_data(ub);
    Bo.bstride = ub->stride[0];
    C.data = (const char *)em_cuda_data(uc);
    C.bstride = uc->stride[0];
    if (!accumulate) {
      st = gemm_batched(h, a->dtype, c->dtype, (int)n, (int)k, (int)p, alpha, A, Bo, beta, C,
                        (int)B);
    } else {           /* one product at a time into the same matrix, in stream order */
      for (int64_t i = 0; i < B && st == EM_OK; i++) {
        operand Ai = A, Bi = Bo;
        Ai.data += i * A.bstride * es;
        Bi.data += i * Bo.bstride * es;
        st = gemm_batched(h, a->dtype, c->dtype, (int)n, (int)k, (int)p, alpha, Ai, Bi,
                          i > 0 ? 1 : beta, C, 1);
      }
    }
  }
  if (st == EM_OK && uc == &cc) {
    if (accumulate) st = em_tensor_narrow(&cc, &cc, 0, 0, 1);
    if (st == EM_OK) st = em_tensor_copy(&cview, &cc);
  }
  em_tensor_release(&ac);
  em_tensor_release(&bc);
  em_tensor_release(&cc);
  em_tensor_release(&cview);
  return st;
}

static int plain(em_tensor *c, const em_tensor *a, const em_tensor *b, double alpha, double beta) {
  cudaStream_t stream;
  if (em_cuda_use(c->device, &stream) != EM_OK) return EM_ERR;
  plain_gemm g;
  g.B = a->size[0];
  g.n = a->size[1];
  g.k = a->size[2];
  g.p = b->size[2];
  for (int d = 0; d < 3; d++) {
    g.sa[d] = a->stride[d];
    g.sb[d] = b->stride[d];
    g.sc[d] = c->stride[d];
  }
  g.dt = c->dtype;
  g.es = (int)em_dtype_info[c->dtype].size;
  g.accumulate = g.B > 1 && c->stride[0] == 0;
  g.alpha = alpha;
  g.beta = beta;
  int64_t nout = (g.accumulate ? 1 : g.B) * g.n * g.p;
  plain_gemm_kernel<<<em_cuda_grid(nout, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
      g, (const char *)em_cuda_data(a), (const char *)em_cuda_data(b), (char *)em_cuda_data(c));
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* --- entry points --- */

/* float32 read as bfloat16: the product of bfloat16 copies into c */
static int bf16_gemm(em_tensor *c, const em_tensor *a, const em_tensor *b, double alpha,
                     double beta) {
  em_tensor ab, bb;
  em_tensor_init(&ab, a->ctx, EM_BFLOAT16, a->device);
  em_tensor_init(&bb, b->ctx, EM_BFLOAT16, b->device);
  int st = bf16_copy(&ab, a);
  if (st == EM_OK) st = bf16_copy(&bb, b);
  if (st == EM_OK) st = cublas_gemm(c, &ab, &bb, alpha, beta);
  em_tensor_release(&ab);
  em_tensor_release(&bb);
  return st;
}

static int cuda_gemm(em_tensor *c, const em_tensor *a, const em_tensor *b, double alpha,
                     double beta, em_precision prec) {
  if (a->size[1] == 0 || b->size[2] == 0 || a->size[0] == 0) return EM_OK;
  if (prec == EM_PRECISION_BF16 && a->size[2] > 0) return bf16_gemm(c, a, b, alpha, beta);
  if (em_dtype_info[c->dtype].is_float && a->size[2] > 0) return cublas_gemm(c, a, b, alpha, beta);
  return plain(c, a, b, alpha, beta);
}

static int cuda_dot(em_tensor *out, const em_tensor *a, const em_tensor *b) {
  cudaStream_t stream;
  if (em_cuda_use(out->device, &stream) != EM_OK) return EM_ERR;
  int64_t n = a->size[0];
  em_cuda_workspace ws;
  int st = em_cuda_workspace_get(out->device, DOT_BLOCKS * sizeof(double), &ws);
  if (st != EM_OK) return st;
  unsigned blocks = em_cuda_grid(n, EM_CUDA_BLOCK_REDUCE);
  if (blocks > DOT_BLOCKS) blocks = DOT_BLOCKS;
  int dt = a->dtype, es = (int)em_dtype_info[dt].size;
  dot_part_kernel<<<blocks, EM_CUDA_BLOCK_REDUCE, 0, stream>>>(
      (const char *)em_cuda_data(a), a->stride[0], (const char *)em_cuda_data(b), b->stride[0], n, dt,
      es, (double *)ws.ptr);
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) {
    dot_final_kernel<<<1, EM_CUDA_BLOCK_REDUCE, 0, stream>>>((const double *)ws.ptr, (int)blocks, dt,
                                                              (char *)em_cuda_data(out));
    err = cudaGetLastError();
  }
  em_cuda_workspace_release(&ws);
  return err == cudaSuccess ? EM_OK : em_cuda_fail(err, "dot kernel launch", __FILE__, __LINE__);
}

extern "C" const struct em_blas_backend em_cuda_blas = {
  cuda_gemm,
  cuda_dot,
};
