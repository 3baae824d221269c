/* CPU linear algebra: float32/float64 through OpenBLAS's cblas (gemm, gemv, dot) with
 * transposed and sliced views passed as transpose flags and leading dims, not copied;
 * float32 in bfloat16 precision through cpu_gemm_bf16.c, read the same way;
 * float16/bfloat16 through float32 temporaries; integer dtypes through a plain loop. */
#include <cblas.h>
#include <limits.h>

#include "blas.h"
#include "cpu.h"
#include "parallel.h"

/* A batch of matrices smaller than this (multiply-adds each) runs one matrix per
 * thread, each BLAS call single-threaded, instead of threading inside every call. */
#define EM_BLAS_BATCH_GRAIN (64 * 64 * 64)

/* How BLAS reads one matrix of a batch. */
typedef struct operand {
  char *data;             /* matrix 0 */
  int64_t bstride;        /* bytes from one matrix to the next (0: one matrix repeated) */
  CBLAS_TRANSPOSE trans;  /* NoTrans: the matrix is row-major; Trans: its transpose is */
  blasint ld;
} operand;

static int64_t max1(int64_t x) { return x > 1 ? x : 1; }

/* Fills o->trans and o->ld for a rows x cols matrix with element strides (rs, cs);
 * the stride of a size-1 dim does not matter. Returns 0 when BLAS cannot read it in
 * place: neither stride is 1, rows overlap (stride 0), or ld overflows BLAS's int. */
static int layout(operand *o, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  int64_t r1 = rows == 1 ? max1(cols) : rs, c1 = cols == 1 ? 1 : cs;
  int64_t r2 = rows == 1 ? 1 : rs, c2 = cols == 1 ? max1(rows) : cs;
  if (c1 == 1 && r1 >= max1(cols) && r1 <= INT_MAX) {
    o->trans = CblasNoTrans;
    o->ld = (blasint)r1;
    return 1;
  }
  if (r2 == 1 && c2 >= max1(rows) && c2 <= INT_MAX) {
    o->trans = CblasTrans;
    o->ld = (blasint)c2;
    return 1;
  }
  return 0;
}

static CBLAS_TRANSPOSE flip(CBLAS_TRANSPOSE t) { return t == CblasNoTrans ? CblasTrans : CblasNoTrans; }

static void xgemm(em_dtype dt, CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m,
                  blasint n, blasint k, double alpha, const void *a, blasint lda, const void *b,
                  blasint ldb, double beta, void *c, blasint ldc) {
  if (dt == EM_FLOAT32)
    cblas_sgemm(order, ta, tb, m, n, k, (float)alpha, a, lda, b, ldb, (float)beta, c, ldc);
  else
    cblas_dgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void xgemv(em_dtype dt, CBLAS_TRANSPOSE ta, blasint m, blasint n, double alpha, const void *a,
                  blasint lda, const void *x, blasint incx, double beta, void *y, blasint incy) {
  if (dt == EM_FLOAT32)
    cblas_sgemv(CblasRowMajor, ta, m, n, (float)alpha, a, lda, x, incx, (float)beta, y, incy);
  else
    cblas_dgemv(CblasRowMajor, ta, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

/* c := alpha * a @ b + beta * c for one (n x k) @ (k x p) product in float32/float64,
 * or float32 read as bfloat16 (bf16). A single column or a single row goes to gemv; a
 * column-major c to a column-major gemm (which reads each operand with its transpose
 * flag flipped), or for bf16 to c^T = b^T a^T. */
static int gemm_one(em_dtype dt, int bf16, blasint n, blasint k, blasint p, double alpha,
                    const operand *A, const char *a, const operand *B, const char *b, double beta,
                    const operand *C, char *c) {
  if (bf16 && C->trans == CblasNoTrans)
    return em_cpu_gemm_bf16(A->trans == CblasTrans, B->trans == CblasTrans, n, p, k, (float)alpha,
                            (const float *)a, A->ld, (const float *)b, B->ld, (float)beta,
                            (float *)c, C->ld);
  if (bf16)                           /* c^T (p, n) := b^T a^T, c^T row-major */
    return em_cpu_gemm_bf16(B->trans == CblasNoTrans, A->trans == CblasNoTrans, p, n, k,
                            (float)alpha, (const float *)b, B->ld, (const float *)a, A->ld,
                            (float)beta, (float *)c, C->ld);
  if (p == 1) {                       /* c (n) := alpha * A b + beta * c */
    blasint incx = B->trans == CblasNoTrans ? B->ld : 1, incy = C->trans == CblasNoTrans ? C->ld : 1;
    if (A->trans == CblasNoTrans) xgemv(dt, CblasNoTrans, n, k, alpha, a, A->ld, b, incx, beta, c, incy);
    else xgemv(dt, CblasTrans, k, n, alpha, a, A->ld, b, incx, beta, c, incy);
  } else if (n == 1) {                /* c^T (p) := alpha * B^T a^T + beta * c^T */
    blasint incx = A->trans == CblasNoTrans ? 1 : A->ld, incy = C->trans == CblasNoTrans ? 1 : C->ld;
    if (B->trans == CblasNoTrans) xgemv(dt, CblasTrans, k, p, alpha, b, B->ld, a, incx, beta, c, incy);
    else xgemv(dt, CblasNoTrans, p, k, alpha, b, B->ld, a, incx, beta, c, incy);
  } else if (C->trans == CblasNoTrans) {
    xgemm(dt, CblasRowMajor, A->trans, B->trans, n, p, k, alpha, a, A->ld, b, B->ld, beta, c, C->ld);
  } else {
    xgemm(dt, CblasColMajor, flip(A->trans), flip(B->trans), n, p, k, alpha, a, A->ld, b, B->ld,
          beta, c, C->ld);
  }
  return EM_OK;
}

/* dst := c, or only its first matrix when c sums a batch (batch stride 0). */
static int result_view(em_tensor *dst, const em_tensor *c, int accumulate) {
  if (accumulate) return em_tensor_narrow(dst, c, 0, 0, 1);
  em_tensor_set(dst, c);
  return EM_OK;
}

/* The plain product, one element at a time, in int64 arithmetic for integer dtypes and
 * double for float ones: the path for dtypes BLAS lacks and for k == 0. Same contract
 * as em_blas_backend.gemm. */
static void ref_gemm(em_tensor *c, const em_tensor *a, const em_tensor *b, double alpha, double beta) {
  int64_t B = a->size[0], n = a->size[1], k = a->size[2], p = b->size[2];
  int accumulate = B > 1 && c->stride[0] == 0;
  em_dtype dt = c->dtype;
  int64_t es = (int64_t)em_dtype_info[dt].size;
  const char *pa = em_tensor_data(a), *pb = em_tensor_data(b);
  char *pc = em_tensor_data(c);
  for (int64_t i = 0; i < B; i++) {
    double bi = accumulate && i > 0 ? 1 : beta;
    for (int64_t r = 0; r < n; r++) {
      for (int64_t j = 0; j < p; j++) {
        const char *x = pa + (i * a->stride[0] + r * a->stride[1]) * es;
        const char *y = pb + (i * b->stride[0] + j * b->stride[2]) * es;
        char *z = pc + (i * c->stride[0] + r * c->stride[1] + j * c->stride[2]) * es;
        if (em_dtype_info[dt].is_float) {
          double acc = 0;
          for (int64_t l = 0; l < k; l++)
            acc += em_dtype_get(dt, x + l * a->stride[2] * es) * em_dtype_get(dt, y + l * b->stride[1] * es);
          em_dtype_set(dt, z, alpha * acc + (bi != 0 ? bi * em_dtype_get(dt, z) : 0));
        } else {
          int64_t acc = 0;
          for (int64_t l = 0; l < k; l++)
            acc += em_dtype_get_i64(dt, x + l * a->stride[2] * es) * em_dtype_get_i64(dt, y + l * b->stride[1] * es);
          int64_t keep = bi != 0 ? (int64_t)bi * em_dtype_get_i64(dt, z) : 0;
          em_dtype_set_i64(dt, z, (int64_t)alpha * acc + keep);
        }
      }
    }
  }
}

/* The B products of laid-out operands (A, Bo, C read a, b, c), one BLAS call each. */
static int run_batch(em_dtype dt, int bf16, double alpha, double beta, operand *A,
                     const em_tensor *a, operand *Bo, const em_tensor *b, operand *C,
                     const em_tensor *c, int accumulate, int64_t B, int64_t n, int64_t k,
                     int64_t p) {
  int64_t es = (int64_t)em_dtype_info[dt].size;
  A->data = em_tensor_data(a);
  A->bstride = a->stride[0] * es;
  Bo->data = em_tensor_data(b);
  Bo->bstride = b->stride[0] * es;
  C->data = em_tensor_data(c);
  C->bstride = c->stride[0] * es;
  int st = EM_OK;
  if (B == 1) {
    st = gemm_one(dt, bf16, (blasint)n, (blasint)k, (blasint)p, alpha, A, A->data, Bo, Bo->data,
                  beta, C, C->data);
  } else if (!accumulate && n * k * p <= EM_BLAS_BATCH_GRAIN && em_get_num_threads() > 1) {
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < B; i++) {
      int s = gemm_one(dt, bf16, (blasint)n, (blasint)k, (blasint)p, alpha, A,
                       A->data + i * A->bstride, Bo, Bo->data + i * Bo->bstride, beta, C,
                       C->data + i * C->bstride);
      if (s != EM_OK) {
        #pragma omp atomic write
        st = s;
      }
    }
    if (st != EM_OK) {                 /* a worker's message is on the worker's thread */
      em_error("gemm: out of memory for the bfloat16 panels");
      st = EM_ENOMEM;
    }
  } else {
    for (int64_t i = 0; i < B && st == EM_OK; i++)
      st = gemm_one(dt, bf16, (blasint)n, (blasint)k, (blasint)p, alpha, A,
                    A->data + i * A->bstride, Bo, Bo->data + i * Bo->bstride,
                    accumulate && i > 0 ? 1 : beta, C, C->data + i * C->bstride);
  }
  return st;
}

/* float32/float64 gemm (the backend contract), float32 read as bfloat16 when bf16. An
 * operand BLAS cannot read in place is copied to a contiguous temporary; a c it cannot
 * write is computed in one and copied back. */
static int blas_gemm(em_tensor *c, const em_tensor *a, const em_tensor *b, double alpha,
                     double beta, int bf16) {
  int64_t B = a->size[0], n = a->size[1], k = a->size[2], p = b->size[2];
  int accumulate = B > 1 && c->stride[0] == 0;
  if (n > INT_MAX || k > INT_MAX || p > INT_MAX)
    return em_error("gemm: a %lldx%lld by %lldx%lld product is too large for BLAS's 32-bit sizes",
                    (long long)n, (long long)k, (long long)k, (long long)p);
  operand A, Bo, C;
  if (layout(&A, n, k, a->stride[1], a->stride[2]) && layout(&Bo, k, p, b->stride[1], b->stride[2]) &&
      layout(&C, n, p, c->stride[1], c->stride[2])) {   /* every operand in place: no temporaries */
    return run_batch(c->dtype, bf16, alpha, beta, &A, a, &Bo, b, &C, c, accumulate, B, n, k, p);
  }
  em_tensor ac, bc, cc, cview;
  em_tensor_init(&ac, a->ctx, a->dtype, a->device);
  em_tensor_init(&bc, b->ctx, b->dtype, b->device);
  em_tensor_init(&cc, c->ctx, c->dtype, c->device);
  em_tensor_init(&cview, c->ctx, c->dtype, c->device);
  const em_tensor *ua = a, *ub = b;
  em_tensor *uc = c;
  int st = EM_OK;
  if (!layout(&A, n, k, a->stride[1], a->stride[2])) {
    st = em_tensor_clone_as(&ac, a, a->dtype);
    ua = &ac;
    if (st == EM_OK && !layout(&A, n, k, ac.stride[1], ac.stride[2])) st = em_error("gemm: matrix too large for BLAS");
  }
  if (st == EM_OK && !layout(&Bo, k, p, b->stride[1], b->stride[2])) {
    st = em_tensor_clone_as(&bc, b, b->dtype);
    ub = &bc;
    if (st == EM_OK && !layout(&Bo, k, p, bc.stride[1], bc.stride[2])) st = em_error("gemm: matrix too large for BLAS");
  }
  if (st == EM_OK && !layout(&C, n, p, c->stride[1], c->stride[2])) {
    /* compute into a contiguous cc (one matrix when accumulating), copy back below */
    st = result_view(&cview, c, accumulate);
    if (st == EM_OK && beta != 0) st = em_tensor_clone_as(&cc, &cview, c->dtype);
    else if (st == EM_OK) st = em_tensor_resize(&cc, 3, cview.size);
    if (st == EM_OK && accumulate) st = em_tensor_expand(&cc, &cc, 3, c->size);
    uc = &cc;
    if (st == EM_OK && !layout(&C, n, p, cc.stride[1], cc.stride[2])) st = em_error("gemm: matrix too large for BLAS");
  }
  if (st != EM_OK) goto done;
  st = run_batch(c->dtype, bf16, alpha, beta, &A, ua, &Bo, ub, &C, uc, accumulate, B, n, k, p);
  if (st == EM_OK && uc == &cc) {
    if (accumulate) st = em_tensor_narrow(&cc, &cc, 0, 0, 1);
    if (st == EM_OK) st = em_tensor_copy(&cview, &cc);
  }
done:
  em_tensor_release(&ac);
  em_tensor_release(&bc);
  em_tensor_release(&cc);
  em_tensor_release(&cview);
  return st;
}

/* float16/bfloat16: the product of float32 copies, rounded back into c. */
static int half_gemm(em_tensor *c, const em_tensor *a, const em_tensor *b, double alpha, double beta) {
  int accumulate = a->size[0] > 1 && c->stride[0] == 0;
  em_tensor af, bf, cf, cview;
  em_tensor_init(&af, a->ctx, EM_FLOAT32, a->device);
  em_tensor_init(&bf, b->ctx, EM_FLOAT32, b->device);
  em_tensor_init(&cf, c->ctx, EM_FLOAT32, c->device);
  em_tensor_init(&cview, c->ctx, c->dtype, c->device);
  int st = em_tensor_clone_as(&af, a, EM_FLOAT32);
  if (st == EM_OK) st = em_tensor_clone_as(&bf, b, EM_FLOAT32);
  if (st == EM_OK) st = result_view(&cview, c, accumulate);
  if (st == EM_OK) st = beta != 0 ? em_tensor_clone_as(&cf, &cview, EM_FLOAT32) : em_tensor_resize(&cf, 3, cview.size);
  if (st == EM_OK && accumulate) st = em_tensor_expand(&cf, &cf, 3, c->size);
  if (st == EM_OK) st = blas_gemm(&cf, &af, &bf, alpha, beta, 0);
  if (st == EM_OK && accumulate) st = em_tensor_narrow(&cf, &cf, 0, 0, 1);
  if (st == EM_OK) st = em_tensor_copy(&cview, &cf);
  em_tensor_release(&af);
  em_tensor_release(&bf);
  em_tensor_release(&cf);
  em_tensor_release(&cview);
  return st;
}

static int cpu_gemm(em_tensor *c, const em_tensor *a, const em_tensor *b, double alpha, double beta,
                    em_precision prec) {
  if (a->size[1] == 0 || b->size[2] == 0 || a->size[0] == 0) return EM_OK;
  switch (c->dtype) {
  case EM_FLOAT32:
  case EM_FLOAT64:
    if (a->size[2] == 0) break;
    return blas_gemm(c, a, b, alpha, beta, prec == EM_PRECISION_BF16);
  case EM_FLOAT16:
  case EM_BFLOAT16:
    if (a->size[2] == 0) break;
    return half_gemm(c, a, b, alpha, beta);
  default:
    break;
  }
  ref_gemm(c, a, b, alpha, beta);
  return EM_OK;
}

static int cpu_dot(em_tensor *out, const em_tensor *a, const em_tensor *b) {
  int64_t n = a->size[0], sa = a->stride[0], sb = b->stride[0];
  em_dtype dt = a->dtype;
  int64_t es = (int64_t)em_dtype_info[dt].size;
  const char *pa = em_tensor_data(a), *pb = em_tensor_data(b);
  void *o = em_tensor_data(out);
  int blas_ok = n <= INT_MAX && sa > 0 && sb > 0 && sa <= INT_MAX && sb <= INT_MAX;
  if (dt == EM_FLOAT32 && blas_ok) {
    *(float *)o = cblas_sdot((blasint)n, (const float *)pa, (blasint)sa, (const float *)pb, (blasint)sb);
  } else if (dt == EM_FLOAT64 && blas_ok) {
    *(double *)o = cblas_ddot((blasint)n, (const double *)pa, (blasint)sa, (const double *)pb, (blasint)sb);
  } else if (em_dtype_info[dt].is_float) {
    double acc = 0;
    for (int64_t i = 0; i < n; i++) acc += em_dtype_get(dt, pa + i * sa * es) * em_dtype_get(dt, pb + i * sb * es);
    em_dtype_set(dt, o, acc);
  } else {
    int64_t acc = 0;
    for (int64_t i = 0; i < n; i++) acc += em_dtype_get_i64(dt, pa + i * sa * es) * em_dtype_get_i64(dt, pb + i * sb * es);
    em_dtype_set_i64(dt, o, acc);
  }
  return EM_OK;
}

const struct em_blas_backend em_cpu_blas = {
  .gemm = cpu_gemm,
  .dot = cpu_dot,
};
