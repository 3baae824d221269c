/* Public element-wise ops: argument, device and shape checks, NumPy broadcasting, dtype
 * promotion (rules in pointwise.h) and output sizing, then one call into the device's
 * em_math_backend. Operands whose dtype is not the kernel dtype are converted into
 * temporaries; a result whose dtype differs from out's is computed into a temporary
 * and copied (cast) into out. */
#include "pointwise.h"

#include <math.h>
#include <string.h>

const char *const em_unary_names[EM_UNARY_COUNT] = {
  [EM_ABS] = "abs", [EM_NEG] = "neg", [EM_SIGN] = "sign", [EM_SQUARE] = "square",
  [EM_FLOOR] = "floor", [EM_CEIL] = "ceil", [EM_ROUND] = "round", [EM_TRUNC] = "trunc",
  [EM_FRAC] = "frac", [EM_EXP] = "exp", [EM_LOG] = "log", [EM_LOG1P] = "log1p",
  [EM_EXPM1] = "expm1", [EM_LOG2] = "log2", [EM_LOG10] = "log10", [EM_SQRT] = "sqrt",
  [EM_RSQRT] = "rsqrt", [EM_SIN] = "sin", [EM_COS] = "cos", [EM_TAN] = "tan",
  [EM_ASIN] = "asin", [EM_ACOS] = "acos", [EM_ATAN] = "atan", [EM_SINH] = "sinh",
  [EM_COSH] = "cosh", [EM_TANH] = "tanh", [EM_SIGMOID] = "sigmoid",
  [EM_RECIPROCAL] = "reciprocal", [EM_ERF] = "erf",
};

const char *const em_binary_names[EM_BINARY_COUNT] = {
  [EM_ADD] = "add", [EM_SUB] = "sub", [EM_MUL] = "mul", [EM_DIV] = "div", [EM_POW] = "pow",
  [EM_FMOD] = "fmod", [EM_REMAINDER] = "remainder", [EM_MAX] = "cmax", [EM_MIN] = "cmin",
  [EM_ATAN2] = "atan2",
};

const char *const em_compare_names[EM_COMPARE_COUNT] = {
  [EM_EQ] = "eq", [EM_NE] = "ne", [EM_LT] = "lt", [EM_LE] = "le", [EM_GT] = "gt",
  [EM_GE] = "ge", [EM_LOGICAL_AND] = "logicalAnd", [EM_LOGICAL_OR] = "logicalOr",
  [EM_LOGICAL_XOR] = "logicalXor",
};

const char *const em_ternary_names[EM_TERNARY_COUNT] = {
  [EM_ADDCMUL] = "addcmul", [EM_ADDCDIV] = "addcdiv", [EM_LERP] = "lerp",
};

/* --- dtype rules --- */

static int is_float(em_dtype d) { return em_dtype_info[d].is_float; }

/* computes in float32 (float16 and bfloat16 go through it) */
static int single(em_dtype d) { return d == EM_FLOAT32 || d == EM_FLOAT16 || d == EM_BFLOAT16; }

static int fractional(double v) { return !isfinite(v) || v != floor(v); }

static em_dtype default_float(const em_tensor *t) {
  em_dtype d = t && t->ctx ? t->ctx->default_dtype : EM_FLOAT32;
  return is_float(d) ? d : EM_FLOAT32;
}

/* The kernel dtype for a float result r computed from the given tensors. */
static em_dtype float_kernel(em_dtype r, const em_tensor *a, const em_tensor *b,
                             const em_tensor *c) {
  if (r == EM_FLOAT64 || (a && !single(a->dtype)) || (b && !single(b->dtype)) ||
      (c && !single(c->dtype)))
    return EM_FLOAT64;
  return EM_FLOAT32;
}

static int all_int(const em_tensor *a, const em_tensor *b, const em_tensor *c) {
  return (!a || !is_float(a->dtype)) && (!b || !is_float(b->dtype)) && (!c || !is_float(c->dtype));
}

static int int_preserving(em_unary_op op) { return op <= EM_FRAC; }

em_dtype em_unary_dtype(em_unary_op op, const em_tensor *x) {
  if (is_float(x->dtype)) return x->dtype;
  if (!int_preserving(op)) return default_float(x);
  return x->dtype == EM_BOOL ? EM_INT64 : x->dtype;
}

static em_dtype unary_kernel(em_unary_op op, em_dtype out, const em_tensor *x) {
  if (!is_float(x->dtype) && int_preserving(op) && !is_float(out)) return EM_INT64;
  em_dtype r = em_unary_dtype(op, x);
  return is_float(r) ? float_kernel(r, x, NULL, NULL) : EM_INT64;
}

static int scaled(em_binary_op op) { return op == EM_ADD || op == EM_SUB; }

em_dtype em_binary_dtype(em_binary_op op, const em_tensor *a, const em_tensor *b, double s,
                         double alpha) {
  const em_tensor *t = a ? a : b;
  if (!t) return EM_FLOAT32;
  em_dtype r = t->dtype;
  if (a && b) r = em_dtype_promote(a->dtype, b->dtype);
  if (is_float(r)) return r;
  if ((!(a && b) && fractional(s)) || (scaled(op) && fractional(alpha)) || op == EM_DIV ||
      op == EM_ATAN2)
    return default_float(t);
  if (r == EM_BOOL && op != EM_MAX && op != EM_MIN) return EM_INT64;
  return r;
}

static em_dtype binary_kernel(em_binary_op op, em_dtype out, const em_tensor *a,
                              const em_tensor *b, double s, double alpha) {
  int ints = all_int(a, b, NULL) && ((a && b) || !fractional(s)) &&
             !(scaled(op) && fractional(alpha));
  if (ints && !is_float(out) && op != EM_ATAN2) return EM_INT64;
  em_dtype r = em_binary_dtype(op, a, b, s, alpha);
  return is_float(r) ? float_kernel(r, a, b, NULL) : EM_INT64;
}

static em_dtype compare_kernel(const em_tensor *a, const em_tensor *b, double s) {
  em_dtype p = a->dtype;
  if (b) p = em_dtype_promote(a->dtype, b->dtype);
  else if (!is_float(p) && fractional(s)) return EM_FLOAT64;
  if (!is_float(p)) return EM_INT64;
  return p == EM_FLOAT64 ? EM_FLOAT64 : EM_FLOAT32;
}

em_dtype em_ternary_dtype(em_ternary_op op, const em_tensor *x, const em_tensor *a,
                          const em_tensor *b, double v) {
  em_dtype r = em_dtype_promote(x->dtype, a->dtype);
  if (b) r = em_dtype_promote(r, b->dtype);
  if (is_float(r)) return r;
  if (op != EM_ADDCMUL || fractional(v)) return default_float(x);
  return r == EM_BOOL ? EM_INT64 : r;
}

static em_dtype ternary_kernel(em_ternary_op op, em_dtype out, const em_tensor *x,
                               const em_tensor *a, const em_tensor *b, double v) {
  if (op == EM_ADDCMUL && all_int(x, a, b) && !fractional(v) && !is_float(out)) return EM_INT64;
  em_dtype r = em_ternary_dtype(op, x, a, b, v);
  if (!is_float(r)) return EM_INT64;
  return !all_int(x, a, b) ? float_kernel(r, x, a, b) : EM_FLOAT64;
}

/* --- dispatch --- */

/* The math table of dev, or NULL with an error recorded. */
static const struct em_math_backend *math_of(em_device dev) {
  const em_backend *be = em_backend_of(dev);
  if (!be) return NULL;
  if (!be->math) em_error("math: no element-wise ops on %s", em_device_name(dev));
  return be->math;
}

static int missing(const char *op, em_dtype dt, em_device dev) {
  return em_error("%s: not implemented for %s tensors on %s", op, em_dtype_info[dt].name,
                  em_device_name(dev));
}

/* Looks up the backend entry FIELD for out's device into m, or returns the error. */
#define NEED_ENTRY(m, field, op, dt, dev)                      \
  do {                                                         \
    (m) = math_of(dev);                                        \
    if (!(m)) return EM_ERR;                                   \
    if (!(m)->field) return missing((op), (dt), (dev));        \
  } while (0)

/* Would writing out while reading in (a different view of the same memory) corrupt in? */
static int overlaps(const em_tensor *out, const em_tensor *in) {
  if (!out->storage || out->storage != in->storage || out == in) return 0;
  return out->offset != in->offset || out->ndim != in->ndim || out->dtype != in->dtype ||
         memcmp(out->size, in->size, sizeof(int64_t) * (size_t)out->ndim) != 0 ||
         memcmp(out->stride, in->stride, sizeof(int64_t) * (size_t)out->ndim) != 0;
}

/* --- the general path: broadcast, size out, convert operands --- */

#define MAX_IN 3

typedef struct plan {
  em_tensor tmp[MAX_IN + 1];   /* converted/expanded inputs, and the target when needed */
  const em_tensor *in[MAX_IN]; /* what the kernel reads; NULL where the op has a scalar */
  em_tensor *target;           /* what the kernel writes: out, or tmp[MAX_IN] */
  int nd;
  int64_t size[EM_MAX_DIMS];   /* the broadcast shape */
} plan;

static int bad_broadcast(const char *op, const em_tensor *a, const em_tensor *b) {
  char x[128], y[128];
  return em_error("%s: sizes %s and %s cannot broadcast", op, em_tensor_shape_str(a, x, sizeof x),
                  em_tensor_shape_str(b, y, sizeof y));
}

/* The broadcast shape of the inputs (NULL entries skipped) into p. */
static int plan_shape(plan *p, const char *op, int n, const em_tensor *const *ins) {
  const em_tensor *first = NULL;
  for (int i = 0; i < n; i++) {
    const em_tensor *t = ins[i];
    if (!t) continue;
    if (!first) {
      first = t;
      p->nd = t->ndim;
      memcpy(p->size, t->size, sizeof(int64_t) * (size_t)t->ndim);
      continue;
    }
    if ((first->ndim == 0) != (t->ndim == 0)) return bad_broadcast(op, first, t);
    em_tensor acc;
    memset(&acc, 0, sizeof acc);
    acc.ndim = p->nd;
    memcpy(acc.size, p->size, sizeof acc.size);
    int st = em_broadcast_shape(op, &acc, t, &p->nd, p->size);
    if (st != EM_OK) return st;
  }
  return EM_OK;
}

/* Makes out hold the broadcast shape; an input cannot be resized under the kernel. */
static int plan_out(plan *p, const char *op, em_tensor *out, int n, const em_tensor *const *ins) {
  int same = out->ndim == p->nd &&
             memcmp(out->size, p->size, sizeof(int64_t) * (size_t)p->nd) == 0;
  if (same && (out->storage || em_tensor_numel(out) == 0)) return EM_OK;
  for (int i = 0; i < n; i++) {
    if (ins[i] && (ins[i] == out || (out->storage && ins[i]->storage == out->storage))) {
      char x[128], y[128];
      long long sz[EM_MAX_DIMS];
      for (int d = 0; d < p->nd; d++) sz[d] = p->size[d];
      return em_error("%s: the result (size %s) is an input and cannot take the broadcast size %s",
                      op, em_tensor_shape_str(out, x, sizeof x),
                      p->nd ? em_format_sizes(y, sizeof y, p->nd, sz) : "empty");
    }
  }
  return em_tensor_resize(out, p->nd, p->size);
}

/* An input as the kernel reads it: in dtype dt, expanded to the broadcast shape, and
 * copied when it shares memory with the target in a different layout. */
static int plan_input(plan *p, int i, const em_tensor *src, em_dtype dt) {
  em_tensor *t = &p->tmp[i];
  int same_shape = src->ndim == p->nd &&
                   memcmp(src->size, p->size, sizeof(int64_t) * (size_t)p->nd) == 0;
  int clash = overlaps(p->target, src);
  if (src->dtype == dt && same_shape && !clash) { p->in[i] = src; return EM_OK; }
  int st;
  if (src->dtype != dt || clash) {
    t->ctx = src->ctx ? src->ctx : t->ctx;
    st = em_tensor_clone_as(t, src, dt);
  } else {
    em_tensor_set(t, src);
    st = EM_OK;
  }
  if (st == EM_OK && !same_shape) st = em_tensor_expand(t, t, p->nd, p->size);
  p->in[i] = t;
  return st;
}

/* Checks devices, broadcasts ins, sizes out and prepares the target (dtype kout) and
 * inputs (input i in dtype kin[i]). plan_done must follow, whatever this returns. */
static int plan_init(plan *p, const char *op, em_tensor *out, int n, const em_tensor *const *ins,
                     const em_dtype *kin, em_dtype kout) {
  for (int i = 0; i <= MAX_IN; i++) em_tensor_init(&p->tmp[i], out->ctx, EM_FLOAT32, out->device);
  p->target = out;
  for (int i = 0; i < MAX_IN; i++) p->in[i] = NULL;
  for (int i = 0; i < n; i++) {
    if (!ins[i]) continue;
    int st = em_check_same_device(op, out, ins[i]);
    if (st != EM_OK) return st;
  }
  int st = plan_shape(p, op, n, ins);
  if (st == EM_OK) st = plan_out(p, op, out, n, ins);
  if (st != EM_OK) return st;
  if (out->dtype != kout) {
    p->target = &p->tmp[MAX_IN];
    p->target->dtype = kout;
    st = em_tensor_resize(p->target, p->nd, p->size);
    if (st != EM_OK) return st;
  }
  for (int i = 0; i < n && st == EM_OK; i++)
    if (ins[i]) st = plan_input(p, i, ins[i], kin[i]);
  return st;
}

/* Casts the target into out when they differ, and releases the temporaries. */
static int plan_done(plan *p, em_tensor *out, int st) {
  if (st == EM_OK && p->target != out) st = em_tensor_copy(out, p->target);
  for (int i = 0; i <= MAX_IN; i++) em_tensor_release(&p->tmp[i]);
  return st;
}

/* --- public ops --- */

int em_unary(em_unary_op op, em_tensor *out, const em_tensor *x) {
  if ((unsigned)op >= EM_UNARY_COUNT) return em_error("unary: unknown op %d", (int)op);
  const char *name = em_unary_names[op];
  em_dtype k = unary_kernel(op, out->dtype, x);
  const struct em_math_backend *m;
  NEED_ENTRY(m, unary, name, k, out->device);
  plan p;
  em_dtype kin[1] = {k};
  int st = plan_init(&p, name, out, 1, (const em_tensor *[]){x}, kin, k);
  if (st == EM_OK && p.nd) st = m->unary(op, p.target, p.in[0]);
  return plan_done(&p, out, st);
}

int em_binary(em_binary_op op, em_tensor *out, const em_tensor *a, const em_tensor *b,
              double s, double alpha) {
  if ((unsigned)op >= EM_BINARY_COUNT) return em_error("binary: unknown op %d", (int)op);
  const char *name = em_binary_names[op];
  if (!a && !b) return em_error("%s: expected a tensor operand", name);
  if (!scaled(op) && alpha != 1) return em_error("%s: a scale factor applies only to add and sub", name);
  /* fast path: one float dtype, one shape, out already sized, no overlap */
  em_dtype dt = out->dtype;
  if (a && b && a->dtype == dt && b->dtype == dt && (dt == EM_FLOAT32 || dt == EM_FLOAT64) &&
      a->ndim && em_tensor_same_shape(a, b) && em_tensor_same_shape(out, a) && out->storage &&
      a->device.type == EM_CPU && b->device.type == EM_CPU && out->device.type == EM_CPU &&
      !overlaps(out, a) && !overlaps(out, b))
    return em_cpu_backend.math->binary(op, out, a, b, s, alpha);
  em_dtype k = binary_kernel(op, dt, a, b, s, alpha);
  const struct em_math_backend *m;
  NEED_ENTRY(m, binary, name, k, out->device);
  plan p;
  em_dtype kin[2] = {k, k};
  int st = plan_init(&p, name, out, 2, (const em_tensor *[]){a, b}, kin, k);
  if (st == EM_OK && p.nd) st = m->binary(op, p.target, p.in[0], p.in[1], s, alpha);
  return plan_done(&p, out, st);
}

int em_compare(em_compare_op op, em_tensor *out, const em_tensor *a, const em_tensor *b,
               double s) {
  if ((unsigned)op >= EM_COMPARE_COUNT) return em_error("compare: unknown op %d", (int)op);
  const char *name = em_compare_names[op];
  if (!a) return em_error("%s: expected a tensor operand", name);
  em_dtype k = compare_kernel(a, b, s);
  const struct em_math_backend *m;
  NEED_ENTRY(m, compare, name, k, out->device);
  plan p;
  em_dtype kin[2] = {k, k};
  int st = plan_init(&p, name, out, 2, (const em_tensor *[]){a, b}, kin, EM_BOOL);
  if (st == EM_OK && p.nd) st = m->compare(op, p.target, p.in[0], p.in[1], s);
  return plan_done(&p, out, st);
}

int em_logical_not(em_tensor *out, const em_tensor *x) {
  em_dtype k = compare_kernel(x, NULL, 0);
  const struct em_math_backend *m;
  NEED_ENTRY(m, compare, "logicalNot", k, out->device);
  plan p;
  em_dtype kin[1] = {k};
  int st = plan_init(&p, "logicalNot", out, 1, (const em_tensor *[]){x}, kin, EM_BOOL);
  if (st == EM_OK && p.nd) st = m->compare(EM_EQ, p.target, p.in[0], NULL, 0);
  return plan_done(&p, out, st);
}

int em_clamp(em_tensor *out, const em_tensor *x, double lo, double hi) {
  em_dtype k = is_float(x->dtype) ? float_kernel(x->dtype, x, NULL, NULL)
               : is_float(out->dtype) ? EM_FLOAT64 : EM_INT64;
  const struct em_math_backend *m;
  NEED_ENTRY(m, clamp, "clamp", k, out->device);
  if (k == EM_INT64) {   /* integer bounds that keep the same set of integers */
    lo = ceil(lo);
    hi = floor(hi);
  }
  plan p;
  em_dtype kin[1] = {k};
  int st = plan_init(&p, "clamp", out, 1, (const em_tensor *[]){x}, kin, k);
  if (st == EM_OK && p.nd) st = m->clamp(p.target, p.in[0], lo, hi);
  return plan_done(&p, out, st);
}

int em_ternary(em_ternary_op op, em_tensor *out, const em_tensor *x, const em_tensor *a,
               const em_tensor *b, double v) {
  if ((unsigned)op >= EM_TERNARY_COUNT) return em_error("ternary: unknown op %d", (int)op);
  const char *name = em_ternary_names[op];
  if (!x || !a || (!b && op != EM_LERP)) return em_error("%s: expected tensor operands", name);
  em_dtype k = ternary_kernel(op, out->dtype, x, a, b, v);
  const struct em_math_backend *m;
  NEED_ENTRY(m, ternary, name, k, out->device);
  plan p;
  em_dtype kin[3] = {k, k, k};
  int st = plan_init(&p, name, out, 3, (const em_tensor *[]){x, a, b}, kin, k);
  if (st == EM_OK && p.nd) st = m->ternary(op, p.target, p.in[0], p.in[1], p.in[2], v);
  return plan_done(&p, out, st);
}

int em_where(em_tensor *out, const em_tensor *cond, const em_tensor *a, const em_tensor *b) {
  if (!cond || !a || !b) return em_error("where: expected three tensors");
  const struct em_math_backend *m;
  NEED_ENTRY(m, where, "where", out->dtype, out->device);
  plan p;
  em_dtype kin[3] = {EM_BOOL, out->dtype, out->dtype};
  int st = plan_init(&p, "where", out, 3, (const em_tensor *[]){cond, a, b}, kin, out->dtype);
  if (st == EM_OK && p.nd) st = m->where(p.target, p.in[0], p.in[1], p.in[2]);
  return plan_done(&p, out, st);
}

int em_equal(const em_tensor *a, const em_tensor *b, int *result) {
  *result = 0;
  int st = em_check_same_device("equal", a, b);
  if (st != EM_OK) return st;
  if (!em_tensor_same_shape(a, b)) return EM_OK;
  if (em_tensor_numel(a) == 0) { *result = 1; return EM_OK; }
  em_dtype k = compare_kernel(a, b, 0);
  const struct em_math_backend *m;
  NEED_ENTRY(m, equal, "equal", k, a->device);
  em_tensor ta, tb;
  em_tensor_init(&ta, a->ctx, k, a->device);
  em_tensor_init(&tb, b->ctx, k, b->device);
  const em_tensor *x = a, *y = b;
  if (a->dtype != k) { st = em_tensor_clone_as(&ta, a, k); x = &ta; }
  if (st == EM_OK && b->dtype != k) { st = em_tensor_clone_as(&tb, b, k); y = &tb; }
  if (st == EM_OK) st = m->equal(x, y, result);
  em_tensor_release(&ta);
  em_tensor_release(&tb);
  return st;
}
