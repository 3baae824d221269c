/* The blas op family (Torch7's linear algebra): dot, mv, mm, bmm, the add* updates,
 * outer products and matmul. One strided batched gemm in the backend carries them all;
 * the public ops below check shapes, dtypes and devices once and shape the views.
 *
 * Legend: n rows of the left operand, k the contracted dim, p columns of the right
 * operand, B a batch. Every public op writes into r, resizing it to the result's shape
 * (an r of the right shape keeps its strides); r must already have the inputs' dtype.
 * beta == 0 means the added tensor is ignored (NaN in it does not propagate).
 * prec: EM_PRECISION_BF16 reads float32 operands as bfloat16 and sums in float32 (the
 * result and the added tensor stay float32; see dtype.h); any other dtype with it is
 * an error. The added tensor m is never rounded. */
#ifndef EMBER_BLAS_H
#define EMBER_BLAS_H

#include "backend.h"

struct em_blas_backend {
  /* c[i] := alpha * a[i] @ b[i] + beta * c[i], for i < B.
   *   a (B, n, k), b (B, k, p), c (B, n, p): 3-D views with any strides; a batch stride
   *   of 0 in a or b repeats one matrix. When c's batch stride is 0 and B > 1, the
   *   products are summed into one matrix: c := alpha * sum_i a[i] @ b[i] + beta * c.
   * All three share one dtype and device; c overlaps neither a nor b (the caller
   * ensures it); beta == 0 never reads c. prec EM_PRECISION_BF16 comes with float32
   * only: a and b are read as bfloat16, the products summed in float32. */
  int (*gemm)(em_tensor *c, const em_tensor *a, const em_tensor *b, double alpha, double beta,
              em_precision prec);
  /* out[0] := sum_i a[i] * b[i]; a and b 1-D of one length and dtype; out holds one
   * element of that dtype (on the same device). */
  int (*dot)(em_tensor *out, const em_tensor *a, const em_tensor *b);
};

extern const struct em_blas_backend em_cpu_blas;

/* out := a . b, as a 1-element tensor of the inputs' dtype. Any shapes with one number
 * of elements (Torch7 views both as vectors). */
int em_dot(em_tensor *out, const em_tensor *a, const em_tensor *b);

/* r (n) := beta * v + alpha * a @ x; a (n, k), x (k), v (n) or NULL. r may be v. */
int em_addmv(em_tensor *r, double beta, const em_tensor *v, double alpha,
             const em_tensor *a, const em_tensor *x, em_precision prec);
int em_mv(em_tensor *r, const em_tensor *a, const em_tensor *x, em_precision prec);

/* r (n, p) := beta * m + alpha * a @ b; a (n, k), b (k, p); m broadcastable to (n, p)
 * or NULL. r may be m (then m must be exactly n x p). */
int em_addmm(em_tensor *r, double beta, const em_tensor *m, double alpha,
             const em_tensor *a, const em_tensor *b, em_precision prec);
int em_mm(em_tensor *r, const em_tensor *a, const em_tensor *b, em_precision prec);

/* r (n, p) := beta * m + alpha * x y^T; x (n), y (p); m as in em_addmm. */
int em_addr(em_tensor *r, double beta, const em_tensor *m, double alpha,
            const em_tensor *x, const em_tensor *y, em_precision prec);
int em_ger(em_tensor *r, const em_tensor *x, const em_tensor *y, em_precision prec);

/* r (B, n, p) := beta * m + alpha * a[i] @ b[i]; a (B, n, k), b (B, k, p); m
 * broadcastable to (B, n, p) or NULL. */
int em_baddbmm(em_tensor *r, double beta, const em_tensor *m, double alpha,
               const em_tensor *a, const em_tensor *b, em_precision prec);
int em_bmm(em_tensor *r, const em_tensor *a, const em_tensor *b, em_precision prec);

/* r (n, p) := beta * m + alpha * sum_i a[i] @ b[i]; a (B, n, k), b (B, k, p). */
int em_addbmm(em_tensor *r, double beta, const em_tensor *m, double alpha,
              const em_tensor *a, const em_tensor *b, em_precision prec);

/* r := x @ w^T + bias (nn.Linear's forward): x (N, in) -> r (N, out), or x (in) ->
 * r (out); w (out, in); bias (out) or NULL. */
int em_linear(em_tensor *r, const em_tensor *x, const em_tensor *w, const em_tensor *bias,
              em_precision prec);

/* nn.Linear's parameter gradients in one call: gw (out, in) += scale * g^T x and, when
 * gb is given, gb (out) += scale * sum_N g, computed as g^T ones; x (N, in), g (N, out),
 * ones (N) a vector of ones on their device. prec applies to the weight product. */
int em_linear_acc_grad(em_tensor *gw, em_tensor *gb, const em_tensor *x, const em_tensor *g,
                       const em_tensor *ones, double scale, em_precision prec);

/* NumPy/PyTorch matmul: 1-D . 1-D is a dot (r gets size 1), 2-D . 1-D mv, 1-D . 2-D a
 * row times a matrix (size p), 2-D . 2-D mm, and higher ranks a batched product whose
 * leading (batch) dims broadcast: (..., n, k) @ (..., k, p) -> (..., n, p). A 1-D
 * operand in a batched product gains a dim of 1 that the result then drops. */
int em_matmul(em_tensor *r, const em_tensor *a, const em_tensor *b, em_precision prec);

#endif
