/* The element-wise math family: unary functions, binary arithmetic with NumPy
 * broadcasting, comparisons and logical ops, clamp, where, addcmul/addcdiv/lerp and
 * equal. Public ops (pointwise.c) check arguments, broadcast, promote dtypes and size
 * the output once, then call the backend's em_math_backend table.
 *
 * Calling convention: the caller sets out's dtype (to em_*_dtype(...) for a new tensor,
 * or leaves it as it is for an in-place or into-r call); out is resized to the result
 * shape unless it is one of the inputs. out may be an input (in place).
 *
 * Dtype rules (result dtype for a new tensor; "float" means the context's default
 * float dtype, float32 unless changed):
 *   - tensor op tensor: em_dtype_promote(a, b); bool operands of arithmetic give int64
 *     (cmax/cmin keep bool).
 *   - tensor op scalar: the tensor's dtype, except an integer/bool tensor with a
 *     fractional scalar (or inf/nan, or a fractional add/sub factor) gives float, and
 *     bool gives int64 for arithmetic. A scalar counts as fractional by value: 2.0 is
 *     integral.
 *   - div and atan2 of integer operands give float (Torch7's integer division is kept
 *     for an integer output: r:div(a, b) or x:div(2) on an integer tensor truncates
 *     toward zero).
 *   - unary: abs neg sign square floor ceil round trunc frac keep integer dtypes
 *     (bool -> int64); every other function of an integer tensor gives float.
 *   - comparisons and logical ops give bool (Torch7 gave ByteTensor); they compare in
 *     the promoted dtype (float64 for an integer tensor against a fractional scalar).
 *   - where: em_dtype_promote(a, b). clamp: the input's dtype. addcmul: the promotion
 *     of all three; addcdiv and lerp of integers give float.
 *   - into an existing output (in place, or into r) the result is computed as above and
 *     cast into the output's dtype (float to integer truncates toward zero and
 *     saturates, nan gives 0); when the output and every operand are integers, the
 *     arithmetic is exact int64 arithmetic (wrapping on overflow).
 *   - float16/bfloat16 compute through float32; integers narrower than int64 through
 *     int64; scalars are doubles (integers beyond 2^53 lose precision).
 * Integer edge cases (never a SIGFPE): x / 0, fmod(x, 0) and remainder(x, 0) are 0;
 * x / -1 wraps for INT64_MIN; pow(x, negative) is 1 for x == 1, +-1 for x == -1 and 0
 * otherwise (0 for x == 0 too). round is half away from zero (C's round, as Torch7).
 * cmax/cmin of floats propagate nan; remainder has the sign of the divisor (Lua's %),
 * fmod the sign of the dividend (C's fmod). */
#ifndef EMBER_POINTWISE_H
#define EMBER_POINTWISE_H

#include "backend.h"

typedef enum em_unary_op {
  EM_ABS, EM_NEG, EM_SIGN, EM_SQUARE, EM_FLOOR, EM_CEIL, EM_ROUND, EM_TRUNC, EM_FRAC,
  /* the ones above keep integer dtypes; the ones below are float functions */
  EM_EXP, EM_LOG, EM_LOG1P, EM_EXPM1, EM_LOG2, EM_LOG10, EM_SQRT, EM_RSQRT,
  EM_SIN, EM_COS, EM_TAN, EM_ASIN, EM_ACOS, EM_ATAN, EM_SINH, EM_COSH, EM_TANH,
  EM_SIGMOID, EM_RECIPROCAL, EM_ERF,
  EM_UNARY_COUNT
} em_unary_op;

typedef enum em_binary_op {
  EM_ADD, EM_SUB, EM_MUL, EM_DIV, EM_POW, EM_FMOD, EM_REMAINDER, EM_MAX, EM_MIN, EM_ATAN2,
  EM_BINARY_COUNT
} em_binary_op;

typedef enum em_compare_op {
  EM_EQ, EM_NE, EM_LT, EM_LE, EM_GT, EM_GE,
  EM_LOGICAL_AND, EM_LOGICAL_OR, EM_LOGICAL_XOR,   /* nonzero is true */
  EM_COMPARE_COUNT
} em_compare_op;

typedef enum em_ternary_op {
  EM_ADDCMUL,   /* out = x + v * a * b */
  EM_ADDCDIV,   /* out = x + v * a / b */
  EM_LERP,      /* out = x + w * (a - x), w = b (a tensor) or v when b is NULL */
  EM_TERNARY_COUNT
} em_ternary_op;

/* Op names for messages ("exp", "add", "lt", "addcmul"). */
extern const char *const em_unary_names[EM_UNARY_COUNT];
extern const char *const em_binary_names[EM_BINARY_COUNT];
extern const char *const em_compare_names[EM_COMPARE_COUNT];
extern const char *const em_ternary_names[EM_TERNARY_COUNT];

/* A backend's element-wise kernels. The public ops guarantee: every tensor has out's
 * shape (inputs may be broadcast views with stride 0); out does not partly overlap an
 * input (it may be exactly an input); all tensors are on the backend's device. Dtypes:
 * out, x, a and b share one kernel dtype (float32, float64 or int64), except that
 * compare writes a bool out and where takes a bool cond and any one dtype for out, a
 * and b. An entry may be NULL (the op then fails naming op, dtype and device). */
struct em_math_backend {
  /* out := op(x) */
  int (*unary)(em_unary_op op, em_tensor *out, const em_tensor *x);
  /* out := a op b; a NULL a or b stands for the scalar s; add/sub scale b by alpha */
  int (*binary)(em_binary_op op, em_tensor *out, const em_tensor *a, const em_tensor *b,
                double s, double alpha);
  /* out (bool) := a op b; a NULL b stands for the scalar s */
  int (*compare)(em_compare_op op, em_tensor *out, const em_tensor *a, const em_tensor *b,
                 double s);
  /* out := min(max(x, lo), hi); a nan bound is no bound */
  int (*clamp)(em_tensor *out, const em_tensor *x, double lo, double hi);
  /* out := op(x, a, b, v) as listed in em_ternary_op */
  int (*ternary)(em_ternary_op op, em_tensor *out, const em_tensor *x, const em_tensor *a,
                 const em_tensor *b, double v);
  /* out := cond ? a : b */
  int (*where)(em_tensor *out, const em_tensor *cond, const em_tensor *a, const em_tensor *b);
  /* *result := every element of a equals the one of b (same shape and dtype; nan != nan) */
  int (*equal)(const em_tensor *a, const em_tensor *b, int *result);
};

extern const struct em_math_backend em_cpu_math;

/* --- public ops: EM_OK or an error naming the op; on failure the inputs are unchanged --- */

/* out := op(x). */
int em_unary(em_unary_op op, em_tensor *out, const em_tensor *x);
em_dtype em_unary_dtype(em_unary_op op, const em_tensor *x);

/* out := a op (alpha * b), broadcast. Exactly one of a and b may be NULL: it is then
 * the scalar s (torch.pow(2, x) is em_binary(EM_POW, out, NULL, x, 2, 1)). alpha is
 * only for EM_ADD and EM_SUB; other ops take 1. */
int em_binary(em_binary_op op, em_tensor *out, const em_tensor *a, const em_tensor *b,
              double s, double alpha);
em_dtype em_binary_dtype(em_binary_op op, const em_tensor *a, const em_tensor *b, double s,
                         double alpha);

/* out := a op b (b NULL: the scalar s), broadcast; a new out should be bool. */
int em_compare(em_compare_op op, em_tensor *out, const em_tensor *a, const em_tensor *b,
               double s);
/* out := !x (x nonzero is true). */
int em_logical_not(em_tensor *out, const em_tensor *x);

/* out := x clamped to [lo, hi]; nan for either bound means none on that side. */
int em_clamp(em_tensor *out, const em_tensor *x, double lo, double hi);

/* out := x + v*a*b, x + v*a/b, or lerp (b NULL: scalar weight v), broadcast. */
int em_ternary(em_ternary_op op, em_tensor *out, const em_tensor *x, const em_tensor *a,
               const em_tensor *b, double v);
em_dtype em_ternary_dtype(em_ternary_op op, const em_tensor *x, const em_tensor *a,
                          const em_tensor *b, double v);

/* out := cond ? a : b element-wise (cond nonzero is true), broadcast over all three. */
int em_where(em_tensor *out, const em_tensor *cond, const em_tensor *a, const em_tensor *b);

/* *result := a and b have the same shape and equal values (compared after promotion).
 * Different shapes are not an error: the result is 0. */
int em_equal(const em_tensor *a, const em_tensor *b, int *result);

#endif
