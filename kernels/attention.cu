/* The attention family on the GPU: scaled-dot-product attention forward and backward
 * (the four products through cuBLAS strided-batched gemm over the heads, the masked
 * softmax and its gradient as warp-per-row kernels), GELU, and dropout masks from a
 * counter-based Philox4x32-10 generator keyed by one draw of the context's generator.
 * Semantics are those of src/attention.h and src/cpu_attention.c; dropout masks are
 * reproducible per seed but are not the CPU's values (src/sample.h's rule). In
 * bfloat16 precision (nn.autocast) each product reads bfloat16 copies of its operands
 * (from the pool) and writes float32, accumulating in float32; softmax stays float32.
 *
 * Legend: B batch, NH heads, Tq queries, Tk keys, HS head size (HSv for v), BH = B*NH.
 * A (b, h) slice of a 4-D view (B, NH, T, D) is a row-major T x D matrix with leading
 * dim stride[2] (the last stride is 1, ensured by attention.c). */
#include <cublas_v2.h>
#include <math.h>

#include "cuda_ops.cuh"

extern "C" {
#include "attention.h"
#include "random.h"
}

/* Rows per block of the row kernels: a warp each. */
#define EM_ATT_BLOCK 256
#define EM_ATT_ROWS (EM_ATT_BLOCK / EM_CUDA_WARP)

/* --- the masked softmax and its gradient, a warp per row of (BH*Tq, Tk) --- */

template <typename T>
static __device__ __forceinline__ T warp_sum(T v) {
  for (int o = EM_CUDA_WARP / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

/* Row r = (bh, i) of s := the masked softmax of s; keys j > i (causal) or with pad set
 * get 0, and a row with no key left is all 0 (src/cpu_attention.c's softmax_row). */
template <typename T>
__global__ void masked_softmax_kernel(T *s, const uint8_t *pad, int64_t rows, int64_t NH,
                                      int64_t Tq, int64_t Tk, int causal) {
  int lane = threadIdx.x % EM_CUDA_WARP;
  int64_t r = blockIdx.x * (int64_t)EM_ATT_ROWS + threadIdx.x / EM_CUDA_WARP;
  if (r >= rows) return;
  int64_t i = r % Tq, b = r / (Tq * NH);
  int64_t jend = causal ? (i + 1 < Tk ? i + 1 : Tk) : Tk;
  const uint8_t *prow = pad ? pad + b * Tk : NULL;
  T *row = s + r * Tk;
  T mx = -INFINITY;
  for (int64_t j = lane; j < jend; j += EM_CUDA_WARP)
    if (!prow || !prow[j]) mx = fmax(mx, row[j]);
  for (int o = EM_CUDA_WARP / 2; o > 0; o /= 2) mx = fmax(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  if (mx == -INFINITY) {                       /* every key masked: a zero row */
    for (int64_t j = lane; j < Tk; j += EM_CUDA_WARP) row[j] = 0;
    return;
  }
  T sum = 0;
  for (int64_t j = lane; j < jend; j += EM_CUDA_WARP) {
    T e = (prow && prow[j]) ? (T)0 : exp(row[j] - mx);
    row[j] = e;
    sum += e;
  }
  T inv = (T)1 / warp_sum(sum);
  for (int64_t j = lane; j < Tk; j += EM_CUDA_WARP) row[j] = j < jend ? row[j] * inv : (T)0;
}

/* dS = scale * A * (dA - rowsum(A * dA)) in place over da; dA first times the mask */
template <typename T>
__global__ void softmax_grad_kernel(T *da, const T *a, const T *dm, int64_t rows, int64_t Tk,
                                    T scale) {
  int lane = threadIdx.x % EM_CUDA_WARP;
  int64_t r = blockIdx.x * (int64_t)EM_ATT_ROWS + threadIdx.x / EM_CUDA_WARP;
  if (r >= rows) return;
  T *drow = da + r * Tk;
  const T *arow = a + r * Tk;
  T dot = 0;
  for (int64_t j = lane; j < Tk; j += EM_CUDA_WARP) {
    T d = dm ? drow[j] * dm[r * Tk + j] : drow[j];
    drow[j] = d;
    dot += arow[j] * d;
  }
  dot = warp_sum(dot);
  for (int64_t j = lane; j < Tk; j += EM_CUDA_WARP) drow[j] = scale * arow[j] * (drow[j] - dot);
}

template <typename T>
__global__ void mul_kernel(T *out, const T *a, const T *b, int64_t n) {
  EM_CUDA_LOOP(i, n) out[i] = a[i] * b[i];
}

/* dst[i] := bfloat16(a[i] * m[i]), or of a[i] when m is NULL (round to nearest even) */
__global__ void to_bf16_kernel(__nv_bfloat16 *dst, const float *a, const float *m, int64_t n) {
  EM_CUDA_LOOP(i, n) dst[i] = __float2bfloat16_rn(m ? a[i] * m[i] : a[i]);
}

/* --- GELU --- */

#define SQRT_2_OVER_PI 0.79788456080286535588
#define INV_SQRT_2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794
#define GELU_TANH_C 0.044715

template <typename T>
static __device__ __forceinline__ T gelu(T x, int tanh_form) {
  if (tanh_form) return (T)0.5 * x * (1 + tanh((T)SQRT_2_OVER_PI * (x + (T)GELU_TANH_C * x * x * x)));
  return (T)0.5 * x * (1 + erf(x * (T)INV_SQRT_2));
}

template <typename T>
static __device__ __forceinline__ T gelu_grad(T x, int tanh_form) {
  if (tanh_form) {
    T t = tanh((T)SQRT_2_OVER_PI * (x + (T)GELU_TANH_C * x * x * x));
    return (T)0.5 * (1 + t) +
           (T)0.5 * x * (1 - t * t) * (T)SQRT_2_OVER_PI * (1 + 3 * (T)GELU_TANH_C * x * x);
  }
  return (T)0.5 * (1 + erf(x * (T)INV_SQRT_2)) + x * (T)INV_SQRT_2PI * exp((T)-0.5 * x * x);
}

template <typename T>
__global__ void gelu_fwd_kernel(T *y, const T *x, int64_t n, int tanh_form) {
  EM_CUDA_LOOP(i, n) y[i] = gelu(x[i], tanh_form);
}

template <typename T>
__global__ void gelu_bwd_kernel(T *gx, const T *gy, const T *x, int64_t n, int tanh_form) {
  EM_CUDA_LOOP(i, n) gx[i] = gy[i] * gelu_grad(x[i], tanh_form);
}

/* --- dropout: Philox4x32-10 (Salmon et al., SC'11), four draws per counter --- */

static __device__ __forceinline__ uint4 philox4x32(uint4 c, uint2 k) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; r++) {
    uint32_t hi0 = __umulhi(M0, c.x), lo0 = M0 * c.x;
    uint32_t hi1 = __umulhi(M1, c.z), lo1 = M1 * c.z;
    c = make_uint4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k.x += W0;
    k.y += W1;
  }
  return c;
}

/* mask[i] := scale when draw i < keep_below, else 0; y := x * mask when x is given */
template <typename T>
__global__ void dropout_kernel(T *y, T *mask, const T *x, int64_t n, uint2 key,
                               unsigned long long keep_below, T scale) {
  EM_CUDA_LOOP(g, (n + 3) / 4) {
    uint4 u = philox4x32(make_uint4((uint32_t)g, (uint32_t)(g >> 32), 0, 0), key);
    uint32_t draws[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int k = 0; k < 4; k++) {
      int64_t i = 4 * g + k;
      if (i >= n) break;
      T m = (unsigned long long)draws[k] < keep_below ? scale : (T)0;
      mask[i] = m;
      if (x) y[i] = x[i] * m;
    }
  }
}

/* --- products: row-major gemm over the heads of 4-D views, through cuBLAS --- */

/* A 4-D operand as seen by gemm: element (0, 0) of slice (b, h) is at
 * data + b*s0 + h*s1 (elements); rows are ld apart. */
typedef struct operand {
  char *data;
  int64_t s0, s1, ld;
} operand;

static operand view_operand(const em_tensor *t) {
  int64_t ld = t->size[2] > 1 ? t->stride[2] : t->size[3];
  return operand{(char *)em_cuda_data(t), t->stride[0], t->stride[1], ld > 1 ? ld : 1};
}

/* A contiguous (B, NH, rows, cols) buffer. */
static operand dense_operand(void *data, int64_t NH, int64_t rows, int64_t cols) {
  return operand{(char *)data, NH * rows * cols, rows * cols, cols > 1 ? cols : 1};
}

static cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                   int m, int n, int k, double alpha, const double *a, int64_t lda,
                                   int64_t sa, const double *b, int64_t ldb, int64_t sb, double beta,
                                   double *c, int64_t ldc, int64_t sc, int batch) {
  return cublasDgemmStridedBatched(h, ta, tb, m, n, k, &alpha, a, (int)lda, sa, b, (int)ldb, sb,
                                   &beta, c, (int)ldc, sc, batch);
}

static cublasStatus_t gemm_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                   int m, int n, int k, double alpha, const float *a, int64_t lda,
                                   int64_t sa, const float *b, int64_t ldb, int64_t sb, double beta,
                                   float *c, int64_t ldc, int64_t sc, int batch) {
  float fa = (float)alpha, fb = (float)beta;
  return cublasSgemmStridedBatched(h, ta, tb, m, n, k, &fa, a, (int)lda, sa, b, (int)ldb, sb, &fb,
                                   c, (int)ldc, sc, batch);
}

/* For every (b, h): C (m, n) := alpha * op(A) op(B) + beta * C, row-major (C^T = op(B)^T
 * op(A)^T in cuBLAS's column-major terms). One call batched over B*NH when every
 * operand's batch stride is NH times its head stride, else one per batch entry. */
template <typename T>
static int rgemm(cublasHandle_t h, int64_t B, int64_t NH, int ta, int tb, int64_t m, int64_t n,
                 int64_t k, double alpha, operand a, operand b, double beta, operand c) {
  cublasOperation_t oa = tb ? CUBLAS_OP_T : CUBLAS_OP_N, ob = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  int merged = a.s0 == NH * a.s1 && b.s0 == NH * b.s1 && c.s0 == NH * c.s1;
  int64_t calls = merged ? 1 : B, batch = merged ? B * NH : NH;
  for (int64_t i = 0; i < calls; i++) {
    cublasStatus_t st = gemm_batched(
        h, oa, ob, (int)n, (int)m, (int)k, alpha, (const T *)b.data + i * b.s0, b.ld, b.s1,
        (const T *)a.data + i * a.s0, a.ld, a.s1, beta, (T *)c.data + i * c.s0, c.ld, c.s1,
        (int)batch);
    if (st != CUBLAS_STATUS_SUCCESS)
      return em_error("cuda: attention gemm failed: %s", cublasGetStatusString(st));
  }
  return EM_OK;
}

/* rgemm for bfloat16 operands a and b and a float32 c (float32 accumulation). */
static int rgemm_bf16(cublasHandle_t h, int64_t B, int64_t NH, int ta, int tb, int64_t m,
                      int64_t n, int64_t k, double alpha, operand a, operand b, double beta,
                      operand c) {
  cublasOperation_t oa = tb ? CUBLAS_OP_T : CUBLAS_OP_N, ob = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  int merged = a.s0 == NH * a.s1 && b.s0 == NH * b.s1 && c.s0 == NH * c.s1;
  int64_t calls = merged ? 1 : B, batch = merged ? B * NH : NH;
  float fa = (float)alpha, fb = (float)beta;
  for (int64_t i = 0; i < calls; i++) {
    cublasStatus_t st = cublasGemmStridedBatchedEx(
        h, oa, ob, (int)n, (int)m, (int)k, &fa, (const __nv_bfloat16 *)b.data + i * b.s0,
        CUDA_R_16BF, (int)b.ld, b.s1, (const __nv_bfloat16 *)a.data + i * a.s0, CUDA_R_16BF,
        (int)a.ld, a.s1, &fb, (float *)c.data + i * c.s0, CUDA_R_32F, (int)c.ld, c.s1,
        (int)batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (st != CUBLAS_STATUS_SUCCESS)
      return em_error("cuda: attention gemm failed: %s", cublasGetStatusString(st));
  }
  return EM_OK;
}

static unsigned rows_grid(int64_t rows) { return (unsigned)((rows + EM_ATT_ROWS - 1) / EM_ATT_ROWS); }

/* --- launchers --- */

template <typename T>
static int sdpa_forward(em_tensor *y, em_tensor *att, const em_tensor *q, const em_tensor *k,
                        const em_tensor *v, const em_tensor *pad, const em_tensor *dmask,
                        const em_attention_params *p, cudaStream_t s, cublasHandle_t h) {
  int64_t B = q->size[0], NH = q->size[1], Tq = q->size[2], HS = q->size[3];
  int64_t Tk = k->size[2], HSv = v->size[3], rows = B * NH * Tq, n = rows * Tk;
  if (n == 0) return EM_OK;
  operand A = dense_operand(em_cuda_data(att), NH, Tq, Tk);
  int st = rgemm<T>(h, B, NH, 0, 1, Tq, Tk, HS, p->scale, view_operand(q), view_operand(k), 0, A);
  if (st != EM_OK) return st;
  const uint8_t *padd = pad && pad->storage ? (const uint8_t *)em_cuda_data(pad) : NULL;
  masked_softmax_kernel<T><<<rows_grid(rows), EM_ATT_BLOCK, 0, s>>>((T *)A.data, padd, rows, NH,
                                                                    Tq, Tk, p->causal);
  EM_CUDA_CHECK_LAUNCH();
  if (!dmask || !dmask->storage)
    return rgemm<T>(h, B, NH, 0, 0, Tq, HSv, Tk, 1, A, view_operand(v), 0, view_operand(y));
  em_cuda_workspace ws;                        /* A' = A * mask, kept apart from att */
  if (em_cuda_workspace_get(q->device, (size_t)n * sizeof(T), &ws) != EM_OK) return EM_ENOMEM;
  mul_kernel<T><<<em_cuda_grid(n, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      (T *)ws.ptr, (const T *)A.data, (const T *)em_cuda_data(dmask), n);
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess)
    st = rgemm<T>(h, B, NH, 0, 0, Tq, HSv, Tk, 1, dense_operand(ws.ptr, NH, Tq, Tk),
                  view_operand(v), 0, view_operand(y));
  em_cuda_workspace_release(&ws);
  if (err != cudaSuccess) return em_cuda_fail(err, "attention dropout", __FILE__, __LINE__);
  return st;
}

template <typename T>
static int sdpa_backward(em_tensor *gq, em_tensor *gk, em_tensor *gv, const em_tensor *gy,
                         const em_tensor *q, const em_tensor *k, const em_tensor *v,
                         const em_tensor *att, const em_tensor *dmask,
                         const em_attention_params *p, em_tensor *work, cudaStream_t s,
                         cublasHandle_t h) {
  int64_t B = q->size[0], NH = q->size[1], Tq = q->size[2], HS = q->size[3];
  int64_t Tk = k->size[2], HSv = v->size[3], rows = B * NH * Tq, n = rows * Tk;
  if (n == 0) return EM_OK;
  if (em_tensor_resize(work, 4, att->size) != EM_OK) return EM_ENOMEM;
  const T *dm = dmask && dmask->storage ? (const T *)em_cuda_data(dmask) : NULL;
  operand A = dense_operand(em_cuda_data(att), NH, Tq, Tk);
  operand dA = dense_operand(em_cuda_data(work), NH, Tq, Tk);
  /* dA' = gY V^T */
  int st = rgemm<T>(h, B, NH, 0, 1, Tq, Tk, HSv, 1, view_operand(gy), view_operand(v), 0, dA);
  if (st != EM_OK) return st;
  /* gV = A'^T gY, A' = A * mask */
  if (!dm) {
    st = rgemm<T>(h, B, NH, 1, 0, Tk, HSv, Tq, 1, A, view_operand(gy), 0, view_operand(gv));
  } else {
    em_cuda_workspace ws;
    if (em_cuda_workspace_get(q->device, (size_t)n * sizeof(T), &ws) != EM_OK) return EM_ENOMEM;
    mul_kernel<T><<<em_cuda_grid(n, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>((T *)ws.ptr,
                                                                         (const T *)A.data, dm, n);
    cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess)
      st = rgemm<T>(h, B, NH, 1, 0, Tk, HSv, Tq, 1, dense_operand(ws.ptr, NH, Tq, Tk),
                    view_operand(gy), 0, view_operand(gv));
    em_cuda_workspace_release(&ws);
    if (err != cudaSuccess) return em_cuda_fail(err, "attention dropout", __FILE__, __LINE__);
  }
  if (st != EM_OK) return st;
  softmax_grad_kernel<T><<<rows_grid(rows), EM_ATT_BLOCK, 0, s>>>((T *)dA.data, (const T *)A.data,
                                                                  dm, rows, Tk, (T)p->scale);
  EM_CUDA_CHECK_LAUNCH();
  /* gQ = dS K, gK = dS^T Q */
  st = rgemm<T>(h, B, NH, 0, 0, Tq, HS, Tk, 1, dA, view_operand(k), 0, view_operand(gq));
  if (st == EM_OK)
    st = rgemm<T>(h, B, NH, 1, 0, Tk, HS, Tq, 1, dA, view_operand(q), 0, view_operand(gk));
  return st;
}

/* --- bfloat16 precision: the launchers above with bfloat16 copies of every operand --- */

/* dst := a contiguous bfloat16 copy of the (B, NH, T, D) view t (from the pool); *o its
 * operand. dst is initialised here and released by the caller. */
static int bf16_view(em_tensor *dst, const em_tensor *t, operand *o) {
  em_tensor_init(dst, t->ctx, EM_BFLOAT16, t->device);
  int st = em_tensor_clone_as(dst, t, EM_BFLOAT16);
  if (st == EM_OK) *o = view_operand(dst);
  return st;
}

/* ws := bfloat16(a * m) (m may be NULL) for the dense (B, NH, rows, cols) float32 a, in
 * a pool workspace the caller releases; *o its operand. */
static int bf16_dense(em_device dev, cudaStream_t s, const float *a, const float *m, int64_t NH,
                      int64_t rows, int64_t cols, int64_t n, em_cuda_workspace *ws, operand *o) {
  if (em_cuda_workspace_get(dev, (size_t)n * sizeof(__nv_bfloat16), ws) != EM_OK) return EM_ENOMEM;
  to_bf16_kernel<<<em_cuda_grid(n, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      (__nv_bfloat16 *)ws->ptr, a, m, n);
  EM_CUDA_CHECK_LAUNCH();
  *o = dense_operand(ws->ptr, NH, rows, cols);
  return EM_OK;
}

/* sdpa_forward<float> with the products in bfloat16 */
static int sdpa_forward_bf16(em_tensor *y, em_tensor *att, const em_tensor *q, const em_tensor *k,
                             const em_tensor *v, const em_tensor *pad, const em_tensor *dmask,
                             const em_attention_params *p, cudaStream_t s, cublasHandle_t h) {
  int64_t B = q->size[0], NH = q->size[1], Tq = q->size[2], HS = q->size[3];
  int64_t Tk = k->size[2], HSv = v->size[3], rows = B * NH * Tq, n = rows * Tk;
  if (n == 0) return EM_OK;
  em_tensor qb, kb, vb;
  em_cuda_workspace wa = {NULL, 0, q->device.index};
  operand Q, K, V, Ab, A = dense_operand(em_cuda_data(att), NH, Tq, Tk);
  const float *dm = dmask && dmask->storage ? (const float *)em_cuda_data(dmask) : NULL;
  const uint8_t *padd = pad && pad->storage ? (const uint8_t *)em_cuda_data(pad) : NULL;
  int st = bf16_view(&qb, q, &Q);
  int st2 = bf16_view(&kb, k, &K), st3 = bf16_view(&vb, v, &V);
  if (st == EM_OK) st = st2 != EM_OK ? st2 : st3;
  /* S = scale Q K^T; A = softmax(S) in float32 */
  if (st == EM_OK) st = rgemm_bf16(h, B, NH, 0, 1, Tq, Tk, HS, p->scale, Q, K, 0, A);
  if (st == EM_OK) {
    masked_softmax_kernel<float><<<rows_grid(rows), EM_ATT_BLOCK, 0, s>>>(
        (float *)A.data, padd, rows, NH, Tq, Tk, p->causal);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) st = em_cuda_fail(err, "attention softmax", __FILE__, __LINE__);
  }
  /* Y = A' V, A' = A * mask rounded to bfloat16 */
  if (st == EM_OK)
    st = bf16_dense(q->device, s, (const float *)A.data, dm, NH, Tq, Tk, n, &wa, &Ab);
  if (st == EM_OK) st = rgemm_bf16(h, B, NH, 0, 0, Tq, HSv, Tk, 1, Ab, V, 0, view_operand(y));
  em_cuda_workspace_release(&wa);              /* queued work keeps it in stream order */
  em_tensor_release(&qb);
  em_tensor_release(&kb);
  em_tensor_release(&vb);
  return st;
}

/* sdpa_backward<float> with the products in bfloat16 */
static int sdpa_backward_bf16(em_tensor *gq, em_tensor *gk, em_tensor *gv, const em_tensor *gy,
                              const em_tensor *q, const em_tensor *k, const em_tensor *v,
                              const em_tensor *att, const em_tensor *dmask,
                              const em_attention_params *p, em_tensor *work, cudaStream_t s,
                              cublasHandle_t h) {
  int64_t B = q->size[0], NH = q->size[1], Tq = q->size[2], HS = q->size[3];
  int64_t Tk = k->size[2], HSv = v->size[3], rows = B * NH * Tq, n = rows * Tk;
  if (n == 0) return EM_OK;
  if (em_tensor_resize(work, 4, att->size) != EM_OK) return EM_ENOMEM;
  const float *dm = dmask && dmask->storage ? (const float *)em_cuda_data(dmask) : NULL;
  operand A = dense_operand(em_cuda_data(att), NH, Tq, Tk);
  operand dA = dense_operand(em_cuda_data(work), NH, Tq, Tk);
  em_tensor qb, kb, vb, gyb;
  em_cuda_workspace wa = {NULL, 0, q->device.index}, ws = {NULL, 0, q->device.index};
  operand Q, K, V, GY, Ab, dSb;
  int st = bf16_view(&qb, q, &Q);
  int st2 = bf16_view(&kb, k, &K), st3 = bf16_view(&vb, v, &V), st4 = bf16_view(&gyb, gy, &GY);
  if (st == EM_OK) st = st2 != EM_OK ? st2 : st3 != EM_OK ? st3 : st4;
  /* dA' = gY V^T; gV = A'^T gY, A' = A * mask */
  if (st == EM_OK) st = rgemm_bf16(h, B, NH, 0, 1, Tq, Tk, HSv, 1, GY, V, 0, dA);
  if (st == EM_OK)
    st = bf16_dense(q->device, s, (const float *)A.data, dm, NH, Tq, Tk, n, &wa, &Ab);
  if (st == EM_OK) st = rgemm_bf16(h, B, NH, 1, 0, Tk, HSv, Tq, 1, Ab, GY, 0, view_operand(gv));
  /* dS = softmax'(dA') in float32, then gQ = dS K, gK = dS^T Q */
  if (st == EM_OK) {
    softmax_grad_kernel<float><<<rows_grid(rows), EM_ATT_BLOCK, 0, s>>>(
        (float *)dA.data, (const float *)A.data, dm, rows, Tk, (float)p->scale);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess)
      st = em_cuda_fail(err, "attention softmax backward", __FILE__, __LINE__);
  }
  if (st == EM_OK)
    st = bf16_dense(q->device, s, (const float *)dA.data, NULL, NH, Tq, Tk, n, &ws, &dSb);
  if (st == EM_OK) st = rgemm_bf16(h, B, NH, 0, 0, Tq, HS, Tk, 1, dSb, K, 0, view_operand(gq));
  if (st == EM_OK) st = rgemm_bf16(h, B, NH, 1, 0, Tk, HS, Tq, 1, dSb, Q, 0, view_operand(gk));
  em_cuda_workspace_release(&wa);
  em_cuda_workspace_release(&ws);
  em_tensor_release(&qb);
  em_tensor_release(&kb);
  em_tensor_release(&vb);
  em_tensor_release(&gyb);
  return st;
}

/* --- the table --- */

/* The stream and the cuBLAS handle of t's device. */
static int device_of(const em_tensor *t, cudaStream_t *s, cublasHandle_t *h) {
  if (em_cuda_use(t->device, s) != EM_OK) return EM_ERR;
  return h ? em_cuda_cublas(t->device, h) : EM_OK;
}

static int cuda_sdpa_forward(em_tensor *y, em_tensor *att, const em_tensor *q, const em_tensor *k,
                             const em_tensor *v, const em_tensor *pad, const em_tensor *dmask,
                             const em_attention_params *p) {
  cudaStream_t s;
  cublasHandle_t h;
  if (device_of(q, &s, &h) != EM_OK) return EM_ERR;
  if (p->precision == EM_PRECISION_BF16)
    return sdpa_forward_bf16(y, att, q, k, v, pad, dmask, p, s, h);
  return q->dtype == EM_FLOAT64 ? sdpa_forward<double>(y, att, q, k, v, pad, dmask, p, s, h)
                                : sdpa_forward<float>(y, att, q, k, v, pad, dmask, p, s, h);
}

static int cuda_sdpa_backward(em_tensor *gq, em_tensor *gk, em_tensor *gv, const em_tensor *gy,
                              const em_tensor *q, const em_tensor *k, const em_tensor *v,
                              const em_tensor *att, const em_tensor *dmask,
                              const em_attention_params *p, em_tensor *work) {
  cudaStream_t s;
  cublasHandle_t h;
  if (device_of(q, &s, &h) != EM_OK) return EM_ERR;
  if (p->precision == EM_PRECISION_BF16)
    return sdpa_backward_bf16(gq, gk, gv, gy, q, k, v, att, dmask, p, work, s, h);
  return q->dtype == EM_FLOAT64
             ? sdpa_backward<double>(gq, gk, gv, gy, q, k, v, att, dmask, p, work, s, h)
             : sdpa_backward<float>(gq, gk, gv, gy, q, k, v, att, dmask, p, work, s, h);
}

static int cuda_gelu_forward(em_tensor *y, const em_tensor *x, em_gelu_mode mode) {
  cudaStream_t s;
  int64_t n = em_tensor_numel(x);
  if (n == 0) return EM_OK;
  if (device_of(x, &s, NULL) != EM_OK) return EM_ERR;
  unsigned g = em_cuda_grid(n, EM_CUDA_BLOCK);
  int t = mode == EM_GELU_TANH;
  if (x->dtype == EM_FLOAT64)
    gelu_fwd_kernel<double><<<g, EM_CUDA_BLOCK, 0, s>>>((double *)em_cuda_data(y),
                                                        (const double *)em_cuda_data(x), n, t);
  else
    gelu_fwd_kernel<float><<<g, EM_CUDA_BLOCK, 0, s>>>((float *)em_cuda_data(y),
                                                       (const float *)em_cuda_data(x), n, t);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

static int cuda_gelu_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *x,
                              em_gelu_mode mode) {
  cudaStream_t s;
  int64_t n = em_tensor_numel(x);
  if (n == 0) return EM_OK;
  if (device_of(x, &s, NULL) != EM_OK) return EM_ERR;
  unsigned g = em_cuda_grid(n, EM_CUDA_BLOCK);
  int t = mode == EM_GELU_TANH;
  if (x->dtype == EM_FLOAT64)
    gelu_bwd_kernel<double><<<g, EM_CUDA_BLOCK, 0, s>>>(
        (double *)em_cuda_data(gx), (const double *)em_cuda_data(gy),
        (const double *)em_cuda_data(x), n, t);
  else
    gelu_bwd_kernel<float><<<g, EM_CUDA_BLOCK, 0, s>>>((float *)em_cuda_data(gx),
                                                       (const float *)em_cuda_data(gy),
                                                       (const float *)em_cuda_data(x), n, t);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* One 64-bit draw from r keys the whole mask, so a step queues it without waiting. */
static int cuda_dropout_forward(em_tensor *y, em_tensor *mask, const em_tensor *x, double p,
                                em_rng *r) {
  cudaStream_t s;
  int64_t n = em_tensor_numel(mask);
  uint64_t seed = em_rng_u64(r);
  if (n == 0) return EM_OK;
  if (device_of(mask, &s, NULL) != EM_OK) return EM_ERR;
  uint2 key = make_uint2((uint32_t)seed, (uint32_t)(seed >> 32));
  unsigned long long keep_below = (unsigned long long)((1 - p) * 4294967296.0);
  double scale = p < 1 ? 1 / (1 - p) : 0;
  unsigned g = em_cuda_grid((n + 3) / 4, EM_CUDA_BLOCK);
  int with_x = x && x->storage;
  if (mask->dtype == EM_FLOAT64)
    dropout_kernel<double><<<g, EM_CUDA_BLOCK, 0, s>>>(
        with_x ? (double *)em_cuda_data(y) : NULL, (double *)em_cuda_data(mask),
        with_x ? (const double *)em_cuda_data(x) : NULL, n, key, keep_below, scale);
  else
    dropout_kernel<float><<<g, EM_CUDA_BLOCK, 0, s>>>(
        with_x ? (float *)em_cuda_data(y) : NULL, (float *)em_cuda_data(mask),
        with_x ? (const float *)em_cuda_data(x) : NULL, n, key, keep_below, (float)scale);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

extern "C" const struct em_attention_backend em_cuda_attention = {
  cuda_sdpa_forward,
  cuda_sdpa_backward,
  cuda_gelu_forward,
  cuda_gelu_backward,
  cuda_dropout_forward,
};
