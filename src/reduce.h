/* The reduce op family: reductions (sum, prod, mean, var, std, norm, logsumexp, all,
 * any, max, min), selections with positions (max/min/median/kthvalue/mode along a
 * dim), scans (cumsum, cumprod), sort and topk. Its backend table and public ops.
 *
 * Kept dimensions (Torch7's rule): a reduction or selection along dim keeps that dim
 * with size 1, so summing a 3x4 tensor along dim 1 gives 3x1 and along dim 0 gives
 * 1x4; a 1-dimensional tensor of n reduces to a 1-element tensor of size 1. Scans
 * and sort keep x's shape; topk gives size k along dim. Reductions over all elements
 * (dim EM_REDUCE_ALL_DIMS) produce one value.
 *
 * Positions (indices outputs) are int64 tensors holding 0-based positions along dim
 * plus `base`: the C API passes 0, the Lua binding passes 1 (Torch7's 1-based
 * positions), so no separate pass is needed to convert them.
 *
 * Result dtypes (em_reduce_dtype): sum, prod, cumsum and cumprod of integer or bool
 * tensors are int64 (exact, wrapping on overflow); mean, var, std, norm and logsumexp
 * of integer or bool tensors use the context's default float dtype; float tensors
 * keep their dtype (float16 and bfloat16 accumulate in double and round once); max,
 * min, median, kthvalue, mode, sort and topk keep x's dtype; all and any give bool.
 *
 * Outputs: every op computes into a fresh tensor and then either moves it into the
 * output (when the output has no storage yet and the same dtype) or resizes the
 * output and copies into it (Torch7's `torch.sum(r, x, 2)`), so an output may alias
 * x, and a failed op leaves x and the outputs as they were.
 *
 * NaN: max, min, median and logsumexp return NaN when a NaN takes part; sort and
 * topk treat NaN as larger than every number (last ascending, first descending). */
#ifndef EMBER_REDUCE_H
#define EMBER_REDUCE_H

#include "backend.h"

#define EM_REDUCE_ALL_DIMS (-1)   /* dim value meaning "over all elements" */

typedef enum em_reduce_op {
  EM_REDUCE_SUM,
  EM_REDUCE_PROD,
  EM_REDUCE_MEAN,
  EM_REDUCE_VAR,        /* arg: 0 unbiased (n - 1), 1 biased (n) */
  EM_REDUCE_STD,        /* arg as for VAR */
  EM_REDUCE_NORM,       /* arg: p >= 0 or INFINITY; p = 0 counts nonzeros */
  EM_REDUCE_LOGSUMEXP,
  EM_REDUCE_ALL,
  EM_REDUCE_ANY,
  EM_REDUCE_MAX,        /* values only; em_select gives positions */
  EM_REDUCE_MIN,
  EM_REDUCE_OP_COUNT
} em_reduce_op;

typedef enum em_select_op {
  EM_SELECT_MAX,        /* first largest (or first NaN) */
  EM_SELECT_MIN,        /* first smallest (or first NaN) */
  EM_SELECT_MEDIAN,     /* lower median, rank (n - 1) / 2; NaN when a NaN is present */
  EM_SELECT_KTHVALUE,   /* k-th smallest, k 0-based, in sort order (NaN largest) */
  EM_SELECT_MODE,       /* most frequent value; ties go to the smallest value */
  EM_SELECT_OP_COUNT
} em_select_op;

typedef enum em_scan_op { EM_SCAN_CUMSUM, EM_SCAN_CUMPROD, EM_SCAN_OP_COUNT } em_scan_op;

/* Op names for messages: "sum", "max", "cumsum", ... */
extern const char *const em_reduce_op_name[EM_REDUCE_OP_COUNT];
extern const char *const em_select_op_name[EM_SELECT_OP_COUNT];
extern const char *const em_scan_op_name[EM_SCAN_OP_COUNT];

/* A reduction's result over all elements. i is exact for integer and bool results. */
typedef struct em_value {
  em_dtype dtype;
  double f;
  int64_t i;
} em_value;

/* Backend entry points. The public ops below have checked every argument and
 * allocated contiguous outputs of the documented shape and dtype on x's device;
 * backends only compute. */
struct em_reduce_backend {
  /* out := op over dim of x. out: x's shape with size[dim] = 1, or one element when
   * dim is EM_REDUCE_ALL_DIMS; dtype em_reduce_dtype(op, ...). x has elements, or the
   * op has an identity (sum, prod, norm, all, any). */
  int (*reduce)(em_reduce_op op, em_tensor *out, const em_tensor *x, int dim, double arg);
  /* values (x's dtype), indices (int64), both x's shape with size[dim] = 1: the
   * selected element of each row along dim and its position + base. k: KTHVALUE's
   * 0-based rank. size[dim] > 0. */
  int (*select)(em_select_op op, em_tensor *values, em_tensor *indices, const em_tensor *x,
                int dim, int64_t k, int64_t base);
  /* out (x's shape; dtype em_scan_dtype) := running sum / product along dim. */
  int (*scan)(em_scan_op op, em_tensor *out, const em_tensor *x, int dim);
  /* values, indices (x's shape): each row along dim stably sorted. */
  int (*sort)(em_tensor *values, em_tensor *indices, const em_tensor *x, int dim,
              int descending, int64_t base);
  /* values, indices (x's shape with size[dim] = k): the k largest (or smallest),
   * in order when sorted is set. 0 <= k <= size[dim]. */
  int (*topk)(em_tensor *values, em_tensor *indices, const em_tensor *x, int64_t k, int dim,
              int largest, int sorted, int64_t base);
};

extern const struct em_reduce_backend em_cpu_reduce;

/* --- public ops (all dims 0-based) --- */

/* The dtype op produces for input dtype dt (default_float: for integer inputs of
 * float-valued ops). */
em_dtype em_reduce_dtype(em_reduce_op op, em_dtype dt, em_dtype default_float);
em_dtype em_scan_dtype(em_dtype dt);

/* out := op along dim of x (kept dim, size 1). x must have elements unless op has an
 * identity (sum 0, prod 1, norm 0, all true, any false). */
int em_reduce(em_reduce_op op, em_tensor *out, const em_tensor *x, int dim, double arg);
/* *res := op over all elements of x. */
int em_reduce_all(em_reduce_op op, const em_tensor *x, double arg, em_value *res);
/* values, indices := op along dim of x (kept dim, size 1). k is KTHVALUE's 0-based rank. */
int em_select(em_select_op op, em_tensor *values, em_tensor *indices, const em_tensor *x,
              int dim, int64_t k, int64_t base);
/* *value, *index := op over all elements of x in row-major order (index: flat
 * position + base). k as for em_select. */
int em_select_all(em_select_op op, const em_tensor *x, int64_t k, int64_t base, em_value *value,
                  int64_t *index);
/* out := running sum / product of x along dim (x's shape). */
int em_scan(em_scan_op op, em_tensor *out, const em_tensor *x, int dim);
/* values, indices := x stably sorted along dim (ascending unless descending). */
int em_sort(em_tensor *values, em_tensor *indices, const em_tensor *x, int dim, int descending,
            int64_t base);
/* values, indices := the k largest (largest != 0) or smallest entries along dim. */
int em_topk(em_tensor *values, em_tensor *indices, const em_tensor *x, int64_t k, int dim,
            int largest, int sorted, int64_t base);

/* --- CPU entry points gathered into em_cpu_reduce (cpu_reduce.c, cpu_sort.c) --- */
int em_cpu_reduce_op(em_reduce_op op, em_tensor *out, const em_tensor *x, int dim, double arg);
int em_cpu_select(em_select_op op, em_tensor *values, em_tensor *indices, const em_tensor *x,
                  int dim, int64_t k, int64_t base);
int em_cpu_scan(em_scan_op op, em_tensor *out, const em_tensor *x, int dim);
int em_cpu_sort(em_tensor *values, em_tensor *indices, const em_tensor *x, int dim,
                int descending, int64_t base);
int em_cpu_topk(em_tensor *values, em_tensor *indices, const em_tensor *x, int64_t k, int dim,
                int largest, int sorted, int64_t base);
/* Order-preserving int64 key of element p of dtype dt: integer order of keys is the
 * numeric order of values; NaN maps to INT64_MAX (nan_high) or INT64_MIN. */
int64_t em_cpu_sort_key(em_dtype dt, const void *p, int nan_high);

#endif
