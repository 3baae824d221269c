/* Public ops of the reduce family: argument checks, result dtypes, output allocation
 * and the dispatch to em_backend_of(x->device)->reduce. No element is touched here. */
#include "reduce.h"

const char *const em_reduce_op_name[EM_REDUCE_OP_COUNT] = {
  "sum", "prod", "mean", "var", "std", "norm", "logsumexp", "all", "any", "max", "min",
};
const char *const em_select_op_name[EM_SELECT_OP_COUNT] = {
  "max", "min", "median", "kthvalue", "mode",
};
const char *const em_scan_op_name[EM_SCAN_OP_COUNT] = {"cumsum", "cumprod"};

static int is_float(em_dtype dt) { return em_dtype_info[dt].is_float; }

em_dtype em_reduce_dtype(em_reduce_op op, em_dtype dt, em_dtype default_float) {
  switch (op) {
  case EM_REDUCE_SUM:
  case EM_REDUCE_PROD: return is_float(dt) ? dt : EM_INT64;
  case EM_REDUCE_ALL:
  case EM_REDUCE_ANY: return EM_BOOL;
  case EM_REDUCE_MAX:
  case EM_REDUCE_MIN: return dt;
  default: return is_float(dt) ? dt : (is_float(default_float) ? default_float : EM_FLOAT32);
  }
}

em_dtype em_scan_dtype(em_dtype dt) { return is_float(dt) ? dt : EM_INT64; }

static const struct em_reduce_backend *backend_of(const em_tensor *x) {
  const em_backend *be = em_backend_of(x->device);
  return be ? be->reduce : NULL;
}

/* The "not implemented" error for op on x's dtype and device. */
static int missing(const char *op, const em_tensor *x) {
  return em_error("%s: not implemented for %s tensors on %s", op, em_dtype_info[x->dtype].name,
                  em_device_name(x->device));
}

static int check_dim(const char *op, const em_tensor *x, int dim) {
  if (dim < 0 || dim >= x->ndim)
    return em_error("%s: dimension %d out of range for a %d-dimensional tensor", op, dim + 1,
                    x->ndim);
  return EM_OK;
}

static int check_float_arg(const char *op, em_reduce_op rop, double arg) {
  if (rop == EM_REDUCE_NORM && !(arg >= 0))
    return em_error("%s: p must be >= 0 (or inf), got %g", op, arg);
  return EM_OK;
}

static int has_identity(em_reduce_op op) {
  return op == EM_REDUCE_SUM || op == EM_REDUCE_PROD || op == EM_REDUCE_NORM ||
         op == EM_REDUCE_ALL || op == EM_REDUCE_ANY;
}

static em_dtype default_float(const em_tensor *x) {
  return x->ctx ? x->ctx->default_dtype : EM_FLOAT32;
}

/* Size of x with size[dim] replaced by n. */
static void kept_size(const em_tensor *x, int dim, int64_t n, int64_t *size) {
  for (int i = 0; i < x->ndim; i++) size[i] = x->size[i];
  size[dim] = n;
}

/* out := tmp. Moves tmp when out has no storage and tmp's dtype (the common case:
 * a fresh result), else resizes out and copies (converting dtypes). tmp is released. */
static int deliver(em_tensor *out, em_tensor *tmp) {
  int st;
  if (!out->storage && out->dtype == tmp->dtype && out->device.type == tmp->device.type &&
      out->device.index == tmp->device.index) {
    em_context *ctx = out->ctx;
    *out = *tmp;
    if (ctx) out->ctx = ctx;
    return EM_OK;
  }
  st = em_tensor_resize(out, tmp->ndim, tmp->size);
  if (st == EM_OK) st = em_tensor_copy(out, tmp);
  em_tensor_release(tmp);
  return st;
}

int em_reduce(em_reduce_op op, em_tensor *out, const em_tensor *x, int dim, double arg) {
  const char *name = em_reduce_op_name[op];
  char buf[128];
  if (check_dim(name, x, dim) != EM_OK || check_float_arg(name, op, arg) != EM_OK) return EM_ERR;
  if (x->size[dim] == 0 && !has_identity(op))
    return em_error("%s: cannot reduce dimension %d of size 0 (tensor of size %s)", name, dim + 1,
                    em_tensor_shape_str(x, buf, sizeof buf));
  const struct em_reduce_backend *be = backend_of(x);
  if (!be) return EM_ERR;
  if (!be->reduce) return missing(name, x);
  int64_t size[EM_MAX_DIMS];
  kept_size(x, dim, 1, size);
  em_tensor tmp;
  em_tensor_init(&tmp, x->ctx, EM_FLOAT32, x->device);
  int st = em_tensor_empty(&tmp, x->ctx, em_reduce_dtype(op, x->dtype, default_float(x)),
                           x->device, x->ndim, size);
  if (st == EM_OK) st = be->reduce(op, &tmp, x, dim, arg);
  if (st != EM_OK) { em_tensor_release(&tmp); return st; }
  return deliver(out, &tmp);
}

/* Reads the one element of t (any device) into *res. */
static int read_value(const em_tensor *t, em_value *res) {
  em_tensor host;
  em_tensor_init(&host, t->ctx, t->dtype, (em_device){EM_CPU, 0});
  int st = EM_OK;
  const em_tensor *src = t;
  if (t->device.type != EM_CPU) {
    st = em_tensor_empty(&host, t->ctx, t->dtype, host.device, t->ndim, t->size);
    if (st == EM_OK) st = em_tensor_copy(&host, t);
    src = &host;
  }
  if (st == EM_OK) {
    const void *p = em_tensor_data(src);
    res->dtype = t->dtype;
    res->f = em_dtype_get(t->dtype, p);
    res->i = is_float(t->dtype) ? (int64_t)0 : em_dtype_get_i64(t->dtype, p);
  }
  em_tensor_release(&host);
  return st;
}

int em_reduce_all(em_reduce_op op, const em_tensor *x, double arg, em_value *res) {
  const char *name = em_reduce_op_name[op];
  if (check_float_arg(name, op, arg) != EM_OK) return EM_ERR;
  if (em_tensor_numel(x) == 0 && !has_identity(op)) {
    char buf[128];
    return em_error("%s: tensor of size %s has no elements", name,
                    em_tensor_shape_str(x, buf, sizeof buf));
  }
  const struct em_reduce_backend *be = backend_of(x);
  if (!be) return EM_ERR;
  if (!be->reduce) return missing(name, x);
  int64_t one = 1;
  em_tensor tmp;
  em_tensor_init(&tmp, x->ctx, EM_FLOAT32, x->device);
  int st = em_tensor_empty(&tmp, x->ctx, em_reduce_dtype(op, x->dtype, default_float(x)),
                           x->device, 1, &one);
  if (st == EM_OK) st = be->reduce(op, &tmp, x, EM_REDUCE_ALL_DIMS, arg);
  if (st == EM_OK) st = read_value(&tmp, res);
  em_tensor_release(&tmp);
  return st;
}

static int check_rows(const char *op, const em_tensor *x, int dim) {
  char buf[128];
  if (check_dim(op, x, dim) != EM_OK) return EM_ERR;
  if (x->size[dim] == 0)
    return em_error("%s: cannot reduce dimension %d of size 0 (tensor of size %s)", op, dim + 1,
                    em_tensor_shape_str(x, buf, sizeof buf));
  return EM_OK;
}

static int check_k(const char *op, const em_tensor *x, int dim, int64_t k, int64_t lo, int64_t hi,
                   int64_t shown) {
  if (k < lo || k > hi)
    return em_error("%s: k %lld out of range for dimension %d of size %lld", op,
                    (long long)shown, dim + 1, (long long)x->size[dim]);
  return EM_OK;
}

/* values, indices := fresh outputs of x's dtype / int64 with size n along dim. */
static int pair_empty(em_tensor *v, em_tensor *ix, const em_tensor *x, int dim, int64_t n) {
  int64_t size[EM_MAX_DIMS];
  kept_size(x, dim, n, size);
  em_tensor_init(v, x->ctx, x->dtype, x->device);
  em_tensor_init(ix, x->ctx, EM_INT64, x->device);
  int st = em_tensor_empty(v, x->ctx, x->dtype, x->device, x->ndim, size);
  if (st == EM_OK) st = em_tensor_empty(ix, x->ctx, EM_INT64, x->device, x->ndim, size);
  return st;
}

/* Delivers both results, or releases both when st is an error. */
static int pair_deliver(int st, em_tensor *values, em_tensor *indices, em_tensor *v, em_tensor *ix) {
  if (st != EM_OK) {
    em_tensor_release(v);
    em_tensor_release(ix);
    return st;
  }
  st = deliver(values, v);
  if (st != EM_OK) { em_tensor_release(ix); return st; }
  return deliver(indices, ix);
}

int em_select(em_select_op op, em_tensor *values, em_tensor *indices, const em_tensor *x,
              int dim, int64_t k, int64_t base) {
  const char *name = em_select_op_name[op];
  if (check_rows(name, x, dim) != EM_OK) return EM_ERR;
  if (op == EM_SELECT_KTHVALUE && check_k(name, x, dim, k, 0, x->size[dim] - 1, k + 1) != EM_OK)
    return EM_ERR;
  const struct em_reduce_backend *be = backend_of(x);
  if (!be) return EM_ERR;
  if (!be->select) return missing(name, x);
  em_tensor v, ix;
  int st = pair_empty(&v, &ix, x, dim, 1);
  if (st == EM_OK) st = be->select(op, &v, &ix, x, dim, k, base);
  return pair_deliver(st, values, indices, &v, &ix);
}

int em_select_all(em_select_op op, const em_tensor *x, int64_t k, int64_t base, em_value *value,
                  int64_t *index) {
  const char *name = em_select_op_name[op];
  int64_t n = em_tensor_numel(x);
  char buf[128];
  if (n == 0)
    return em_error("%s: tensor of size %s has no elements", name,
                    em_tensor_shape_str(x, buf, sizeof buf));
  em_tensor flat, vals, idxs;
  em_tensor_init(&flat, x->ctx, x->dtype, x->device);
  em_tensor_init(&vals, x->ctx, x->dtype, x->device);
  em_tensor_init(&idxs, x->ctx, EM_INT64, x->device);
  int st = em_tensor_contiguous(&flat, x);
  if (st == EM_OK) st = em_tensor_view(&flat, &flat, 1, &n);
  if (st == EM_OK) st = em_select(op, &vals, &idxs, &flat, 0, k, base);
  if (st == EM_OK) st = read_value(&vals, value);
  if (st == EM_OK) {
    em_value iv;
    st = read_value(&idxs, &iv);
    *index = iv.i;
  }
  em_tensor_release(&flat);
  em_tensor_release(&vals);
  em_tensor_release(&idxs);
  return st;
}

int em_scan(em_scan_op op, em_tensor *out, const em_tensor *x, int dim) {
  const char *name = em_scan_op_name[op];
  if (check_dim(name, x, dim) != EM_OK) return EM_ERR;
  const struct em_reduce_backend *be = backend_of(x);
  if (!be) return EM_ERR;
  if (!be->scan) return missing(name, x);
  em_tensor tmp;
  em_tensor_init(&tmp, x->ctx, EM_FLOAT32, x->device);
  int st = em_tensor_empty(&tmp, x->ctx, em_scan_dtype(x->dtype), x->device, x->ndim, x->size);
  if (st == EM_OK && em_tensor_numel(x) > 0) st = be->scan(op, &tmp, x, dim);
  if (st != EM_OK) { em_tensor_release(&tmp); return st; }
  return deliver(out, &tmp);
}

int em_sort(em_tensor *values, em_tensor *indices, const em_tensor *x, int dim, int descending,
            int64_t base) {
  if (check_dim("sort", x, dim) != EM_OK) return EM_ERR;
  const struct em_reduce_backend *be = backend_of(x);
  if (!be) return EM_ERR;
  if (!be->sort) return missing("sort", x);
  em_tensor v, ix;
  int st = pair_empty(&v, &ix, x, dim, x->size[dim]);
  if (st == EM_OK && em_tensor_numel(x) > 0) st = be->sort(&v, &ix, x, dim, descending, base);
  return pair_deliver(st, values, indices, &v, &ix);
}

int em_topk(em_tensor *values, em_tensor *indices, const em_tensor *x, int64_t k, int dim,
            int largest, int sorted, int64_t base) {
  if (check_dim("topk", x, dim) != EM_OK) return EM_ERR;
  if (check_k("topk", x, dim, k, 0, x->size[dim], k) != EM_OK) return EM_ERR;
  const struct em_reduce_backend *be = backend_of(x);
  if (!be) return EM_ERR;
  if (!be->topk) return missing("topk", x);
  em_tensor v, ix;
  int st = pair_empty(&v, &ix, x, dim, k);
  if (st == EM_OK && k > 0 && em_tensor_numel(x) > 0)
    st = be->topk(&v, &ix, x, k, dim, largest, sorted, base);
  return pair_deliver(st, values, indices, &v, &ix);
}
