/* The CPU backend's entry points, one family per file (cpu_copy.c, cpu_math.c,
 * cpu_reduce.c, cpu_index.c, cpu_blas.c, cpu_random.c, cpu_nn*.c). Only
 * cpu_backend.c gathers them into the em_cpu_backend table. */
#ifndef EMBER_CPU_H
#define EMBER_CPU_H

#include "backend.h"

int em_cpu_copy(em_tensor *dst, const em_tensor *src);
int em_cpu_fill(em_tensor *dst, double value);

/* The bfloat16 product that cpu_blas.c, cpu_conv.c and cpu_attention.c share
 * (cpu_gemm_bf16.c): C (m, n) := alpha * op(A) op(B) + beta * C for row-major float32
 * matrices, A and B read as bfloat16 (rounded to nearest even) and the products summed
 * in float32. ta, tb: op(X) = X^T, X stored (k, m) / (n, k). beta == 0 never reads C.
 * Threads over blocks, or runs on the calling thread inside a parallel region. Returns
 * EM_OK, or EM_ENOMEM when its panels cannot be allocated (recorded on the calling
 * thread). */
int em_cpu_gemm_bf16(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                     float *C, int64_t ldc);
/* The kernel em_cpu_gemm_bf16 runs: "avx512bf16", or "portable" (bfloat16-rounded
 * operands through sgemm) on CPUs without AVX512_BF16 or with EMBER_BF16_GEMM=portable. */
const char *em_cpu_gemm_bf16_kernel(void);

#endif
