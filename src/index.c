/* Public ops of the index family: argument checks (dims, dtypes, devices, shapes, every
 * index value), output allocation, then one call into the device's backend. Nothing is
 * written before every check has passed. cat and stack are views plus em_tensor_copy,
 * so they work on any device that can copy. */
#include <string.h>

#include "index.h"

/* --- checks shared by the ops --- */

static int not_implemented(const char *op, const em_tensor *t) {
  return em_error("%s: not implemented for %s tensors on %s", op, em_dtype_info[t->dtype].name,
                  em_device_name(t->device));
}

/* The index backend of t's device, or NULL (error recorded). */
static const struct em_index_backend *family(const char *op, const em_tensor *t) {
  const em_backend *be = em_backend_of(t->device);
  if (!be) return NULL;
  if (!be->index) { not_implemented(op, t); return NULL; }
  return be->index;
}

static int check_index_dtype(const char *op, const em_tensor *idx) {
  if (idx->dtype != EM_INT64 && idx->dtype != EM_INT32)
    return em_error("%s: indices must be a LongTensor (int64) or IntTensor (int32), got %s", op,
                    em_dtype_info[idx->dtype].torch_name);
  return EM_OK;
}

static int check_dim(const char *op, const em_tensor *t, int dim) {
  if (dim < 0 || dim >= t->ndim)
    return em_error("%s: dimension %d out of range for a %d-dimensional tensor", op, dim + 1, t->ndim);
  return EM_OK;
}

static int check_same_dtype(const char *op, const em_tensor *dst, const em_tensor *src) {
  if (dst->dtype != src->dtype)
    return em_error("%s: source dtype %s differs from destination dtype %s", op,
                    em_dtype_info[src->dtype].name, em_dtype_info[dst->dtype].name);
  return EM_OK;
}

/* Every value of idx in [0, limit), else "op: index 7 out of range for dimension 1 of
 * size 5" (printed 1-based). */
static int check_range(const char *op, const struct em_index_backend *ib, const em_tensor *idx,
                       int64_t limit, int dim) {
  int64_t bad;
  if (em_tensor_numel(idx) == 0) return EM_OK;
  if (!ib->find_bad_index) return not_implemented(op, idx);
  if (ib->find_bad_index(idx, limit, &bad))
    return em_error("%s: index %lld out of range for dimension %d of size %lld", op,
                    (long long)bad + 1, dim + 1, (long long)limit);
  return EM_OK;
}

/* Checks of the 1-D index ops: dim in t, idx an int64/int32 vector on t's device,
 * every value in range. *n := its length. */
static int check_vector_index(const char *op, const struct em_index_backend *ib, const em_tensor *t,
                              int dim, const em_tensor *idx, int64_t *n) {
  char buf[64];
  int st = check_dim(op, t, dim);
  if (st == EM_OK) st = check_index_dtype(op, idx);
  if (st == EM_OK) st = em_check_same_device(op, t, idx);
  if (st != EM_OK) return st;
  if (idx->ndim > 1)
    return em_error("%s: the index must be 1-dimensional, got size %s", op,
                    em_tensor_shape_str(idx, buf, sizeof buf));
  *n = idx->ndim ? idx->size[0] : 0;
  return check_range(op, ib, idx, t->size[dim], dim);
}

/* Checks of gather/scatter: idx has t's ndim and, outside dim, at most t's sizes
 * (and at most other's sizes in every dim when other is given). */
static int check_tensor_index(const char *op, const struct em_index_backend *ib, const em_tensor *t,
                              int dim, const em_tensor *idx, const em_tensor *other) {
  char a[64], b[64];
  int st = check_dim(op, t, dim);
  if (st == EM_OK) st = check_index_dtype(op, idx);
  if (st == EM_OK) st = em_check_same_device(op, t, idx);
  if (st == EM_OK && other) st = em_check_same_device(op, t, other);
  if (st != EM_OK) return st;
  if (idx->ndim != t->ndim)
    return em_error("%s: index of size %s must have as many dimensions as the tensor of size %s", op,
                    em_tensor_shape_str(idx, a, sizeof a), em_tensor_shape_str(t, b, sizeof b));
  for (int d = 0; d < t->ndim; d++) {
    if (d != dim && idx->size[d] > t->size[d])
      return em_error("%s: index of size %s is larger than the tensor of size %s in dimension %d", op,
                      em_tensor_shape_str(idx, a, sizeof a), em_tensor_shape_str(t, b, sizeof b), d + 1);
    if (other && (other->ndim != idx->ndim || idx->size[d] > other->size[d]))
      return em_error("%s: source of size %s is smaller than the index of size %s", op,
                      em_tensor_shape_str(other, a, sizeof a), em_tensor_shape_str(idx, b, sizeof b));
  }
  return check_range(op, ib, idx, t->size[dim], dim);
}

/* view := mask expanded to t's shape; mask must be bool/uint8 and broadcast to t. */
static int expand_mask(const char *op, em_tensor *view, const em_tensor *mask, const em_tensor *t) {
  char a[64], b[64];
  if (mask->dtype != EM_BOOL && mask->dtype != EM_UINT8)
    return em_error("%s: the mask must be a BoolTensor or ByteTensor, got %s", op,
                    em_dtype_info[mask->dtype].torch_name);
  int st = em_check_same_device(op, t, mask);
  if (st != EM_OK) return st;
  int ok = mask->ndim <= t->ndim && (mask->ndim > 0 || t->ndim == 0);
  for (int i = 1; ok && i <= mask->ndim; i++) {
    int64_t m = mask->size[mask->ndim - i];
    ok = m == t->size[t->ndim - i] || m == 1;
  }
  if (!ok)
    return em_error("%s: mask of size %s cannot broadcast to %s", op,
                    em_tensor_shape_str(mask, a, sizeof a), em_tensor_shape_str(t, b, sizeof b));
  if (t->ndim == 0) { em_tensor_set(view, mask); return EM_OK; }
  return em_tensor_expand(view, mask, t->ndim, t->size);
}

/* --- index conversion --- */

int em_index_shift(em_tensor *out, const em_tensor *idx, int64_t delta) {
  const struct em_index_backend *ib = family("index", idx);
  if (!ib) return EM_ERR;
  int st = check_index_dtype("index", idx);
  if (st != EM_OK) return st;
  if (!ib->shift_index) return not_implemented("index", idx);
  int (*fn)(em_tensor *, const em_tensor *, int64_t) = ib->shift_index;
  if (out == idx && idx->dtype == EM_INT64 && em_tensor_is_contiguous(idx))
    return em_tensor_numel(idx) ? fn(out, idx, delta) : EM_OK;
  em_tensor tmp;
  em_tensor_init(&tmp, idx->ctx, EM_INT64, idx->device);
  st = em_tensor_resize(&tmp, idx->ndim, idx->size);
  if (st == EM_OK && em_tensor_numel(idx)) st = fn(&tmp, idx, delta);
  if (st == EM_OK) em_tensor_set(out, &tmp);
  em_tensor_release(&tmp);
  return st;
}

/* --- 1-D index ops --- */

int em_index_select(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx) {
  const char *op = "indexSelect";
  const struct em_index_backend *ib = family(op, src);
  int64_t n = 0, size[EM_MAX_DIMS];
  if (!ib) return EM_ERR;
  int st = check_vector_index(op, ib, src, dim, idx, &n);
  if (st != EM_OK) return st;
  if (!ib->index_select) return not_implemented(op, src);
  if (out->dtype != src->dtype) return check_same_dtype(op, out, src);
  memcpy(size, src->size, sizeof size);
  size[dim] = n;
  st = em_tensor_resize(out, src->ndim, size);
  if (st != EM_OK || em_tensor_numel(out) == 0) return st;
  return ib->index_select(out, src, dim, idx);
}

static int index_copy(const char *op, em_tensor *dst, int dim, const em_tensor *idx,
                      const em_tensor *src, int accumulate) {
  const struct em_index_backend *ib = family(op, dst);
  char a[64], b[64];
  int64_t n = 0;
  if (!ib) return EM_ERR;
  int st = check_vector_index(op, ib, dst, dim, idx, &n);
  if (st == EM_OK) st = em_check_same_device(op, dst, src);
  if (st == EM_OK) st = check_same_dtype(op, dst, src);
  if (st != EM_OK) return st;
  int ok = src->ndim == dst->ndim;
  for (int d = 0; ok && d < dst->ndim; d++) ok = src->size[d] == (d == dim ? n : dst->size[d]);
  if (!ok)
    return em_error("%s: source of size %s does not match the destination of size %s with %lld "
                    "indices in dimension %d", op, em_tensor_shape_str(src, a, sizeof a),
                    em_tensor_shape_str(dst, b, sizeof b), (long long)n, dim + 1);
  if (!ib->index_copy) return not_implemented(op, dst);
  if (em_tensor_numel(src) == 0) return EM_OK;
  return ib->index_copy(dst, dim, idx, src, accumulate);
}

int em_index_copy(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src) {
  return index_copy("indexCopy", dst, dim, idx, src, 0);
}

int em_index_add(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src) {
  return index_copy("indexAdd", dst, dim, idx, src, 1);
}

int em_index_fill(em_tensor *dst, int dim, const em_tensor *idx, double value) {
  const char *op = "indexFill";
  const struct em_index_backend *ib = family(op, dst);
  int64_t n = 0;
  if (!ib) return EM_ERR;
  int st = check_vector_index(op, ib, dst, dim, idx, &n);
  if (st != EM_OK) return st;
  if (!ib->index_fill) return not_implemented(op, dst);
  if (n == 0 || em_tensor_numel(dst) == 0) return EM_OK;
  return ib->index_fill(dst, dim, idx, value);
}

/* --- gather / scatter --- */

int em_gather(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx) {
  const char *op = "gather";
  const struct em_index_backend *ib = family(op, src);
  if (!ib) return EM_ERR;
  int st = check_tensor_index(op, ib, src, dim, idx, NULL);
  if (st == EM_OK) st = check_same_dtype(op, out, src);
  if (st != EM_OK) return st;
  if (!ib->gather) return not_implemented(op, src);
  st = em_tensor_resize(out, idx->ndim, idx->size);
  if (st != EM_OK || em_tensor_numel(out) == 0) return st;
  return ib->gather(out, src, dim, idx);
}

static int scatter(const char *op, em_tensor *dst, int dim, const em_tensor *idx,
                   const em_tensor *src, int accumulate) {
  const struct em_index_backend *ib = family(op, dst);
  if (!ib) return EM_ERR;
  int st = check_tensor_index(op, ib, dst, dim, idx, src);
  if (st == EM_OK) st = check_same_dtype(op, dst, src);
  if (st != EM_OK) return st;
  if (!ib->scatter) return not_implemented(op, dst);
  if (em_tensor_numel(idx) == 0) return EM_OK;
  return ib->scatter(dst, dim, idx, src, accumulate);
}

int em_scatter(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src) {
  return scatter("scatter", dst, dim, idx, src, 0);
}

int em_scatter_add(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src) {
  return scatter("scatterAdd", dst, dim, idx, src, 1);
}

int em_scatter_fill(em_tensor *dst, int dim, const em_tensor *idx, double value) {
  const char *op = "scatter";
  const struct em_index_backend *ib = family(op, dst);
  if (!ib) return EM_ERR;
  int st = check_tensor_index(op, ib, dst, dim, idx, NULL);
  if (st != EM_OK) return st;
  if (!ib->scatter_fill) return not_implemented(op, dst);
  if (em_tensor_numel(idx) == 0) return EM_OK;
  return ib->scatter_fill(dst, dim, idx, value);
}

/* --- masks --- */

int em_nonzero(em_tensor *out, const em_tensor *src) {
  const char *op = "nonzero";
  const struct em_index_backend *ib = family(op, src);
  int64_t n = 0;
  if (!ib) return EM_ERR;
  if (out->dtype != EM_INT64) return em_error("nonzero: the result must be a LongTensor");
  if (!ib->count_nonzero || !ib->nonzero) return not_implemented(op, src);
  int st = em_tensor_numel(src) ? ib->count_nonzero(src, &n) : EM_OK;
  if (st != EM_OK) return st;
  int64_t size[2] = {n, src->ndim};
  st = em_tensor_resize(out, 2, size);
  if (st != EM_OK || n == 0 || src->ndim == 0) return st;
  return ib->nonzero(out, src);
}

int em_masked_select(em_tensor *out, const em_tensor *src, const em_tensor *mask) {
  const char *op = "maskedSelect";
  const struct em_index_backend *ib = family(op, src);
  em_tensor m;
  int64_t n = 0;
  if (!ib) return EM_ERR;
  if (out->dtype != src->dtype) return check_same_dtype(op, out, src);
  if (!ib->count_nonzero || !ib->masked_select) return not_implemented(op, src);
  em_tensor_init(&m, src->ctx, mask->dtype, mask->device);
  int st = expand_mask(op, &m, mask, src);
  if (st == EM_OK && em_tensor_numel(src)) st = ib->count_nonzero(&m, &n);
  if (st == EM_OK) st = em_tensor_resize(out, 1, &n);
  if (st == EM_OK && n > 0) st = ib->masked_select(out, src, &m);
  em_tensor_release(&m);
  return st;
}

int em_masked_fill(em_tensor *dst, const em_tensor *mask, double value) {
  const char *op = "maskedFill";
  const struct em_index_backend *ib = family(op, dst);
  em_tensor m;
  if (!ib) return EM_ERR;
  if (!ib->masked_fill) return not_implemented(op, dst);
  em_tensor_init(&m, dst->ctx, mask->dtype, mask->device);
  int st = expand_mask(op, &m, mask, dst);
  if (st == EM_OK && em_tensor_numel(dst)) st = ib->masked_fill(dst, &m, value);
  em_tensor_release(&m);
  return st;
}

int em_masked_copy(em_tensor *dst, const em_tensor *mask, const em_tensor *src) {
  const char *op = "maskedCopy";
  const struct em_index_backend *ib = family(op, dst);
  em_tensor m, s;
  int64_t n = 0;
  if (!ib) return EM_ERR;
  int st = check_same_dtype(op, dst, src);
  if (st == EM_OK) st = em_check_same_device(op, dst, src);
  if (st != EM_OK) return st;
  if (!ib->count_nonzero || !ib->masked_copy) return not_implemented(op, dst);
  em_tensor_init(&m, dst->ctx, mask->dtype, mask->device);
  em_tensor_init(&s, src->ctx, src->dtype, src->device);
  st = expand_mask(op, &m, mask, dst);
  if (st == EM_OK && em_tensor_numel(dst)) st = ib->count_nonzero(&m, &n);
  if (st == EM_OK && em_tensor_numel(src) < n)
    st = em_error("maskedCopy: the mask selects %lld elements but the source has only %lld",
                  (long long)n, (long long)em_tensor_numel(src));
  if (st == EM_OK && n > 0) st = em_tensor_contiguous(&s, src);
  if (st == EM_OK && n > 0) st = ib->masked_copy(dst, &m, &s);
  em_tensor_release(&m);
  em_tensor_release(&s);
  return st;
}

/* --- joining --- */

int em_cat(em_tensor *out, int n, const em_tensor *const *xs, int dim) {
  char a[64], b[64];
  const em_tensor *first = NULL;
  int maxdim = 0;
  for (int i = 0; i < n; i++) {
    if (xs[i]->ndim > maxdim) maxdim = xs[i]->ndim;
    if (!first && xs[i]->ndim > 0) first = xs[i];
  }
  if (!first) { em_tensor_release(out); return EM_OK; }   /* only empty inputs */
  for (int i = 0; i < n; i++) {
    const em_tensor *x = xs[i];
    if (x->ndim == 0) continue;
    int st = em_check_same_device("cat", first, x);
    if (st != EM_OK) return st;
    if (x->dtype != first->dtype)
      return em_error("cat: dtypes %s and %s differ", em_dtype_info[first->dtype].name,
                      em_dtype_info[x->dtype].name);
    if (x->ndim != first->ndim)
      return em_error("cat: sizes %s and %s have different numbers of dimensions",
                      em_tensor_shape_str(first, a, sizeof a), em_tensor_shape_str(x, b, sizeof b));
  }
  if (dim == -1) dim = maxdim - 1;
  if (dim < 0 || dim >= first->ndim)
    return em_error("cat: dimension %d out of range for %d-dimensional tensors", dim + 1, first->ndim);
  int64_t size[EM_MAX_DIMS];
  memcpy(size, first->size, sizeof size);
  size[dim] = 0;
  for (int i = 0; i < n; i++) {
    const em_tensor *x = xs[i];
    if (x->ndim == 0) continue;
    for (int d = 0; d < x->ndim; d++)
      if (d != dim && x->size[d] != first->size[d])
        return em_error("cat: sizes %s and %s differ in dimension %d (concatenating along dimension %d)",
                        em_tensor_shape_str(first, a, sizeof a), em_tensor_shape_str(x, b, sizeof b),
                        d + 1, dim + 1);
    size[dim] += x->size[dim];
  }
  for (int i = 0; out->storage && i < n; i++)
    if (xs[i]->storage == out->storage)
      return em_error("cat: the result shares memory with input %d", i + 1);
  int st = em_check_same_device("cat", out, first);
  if (st == EM_OK) st = em_tensor_resize(out, first->ndim, size);
  int64_t at = 0;
  em_tensor part;
  em_tensor_init(&part, out->ctx, out->dtype, out->device);
  for (int i = 0; st == EM_OK && i < n; i++) {
    if (xs[i]->ndim == 0 || xs[i]->size[dim] == 0) continue;
    st = em_tensor_narrow(&part, out, dim, at, xs[i]->size[dim]);
    if (st == EM_OK) st = em_tensor_copy(&part, xs[i]);
    at += xs[i]->size[dim];
  }
  em_tensor_release(&part);
  return st;
}

int em_stack(em_tensor *out, int n, const em_tensor *const *xs, int dim) {
  char a[64], b[64];
  if (n == 0) { em_tensor_release(out); return EM_OK; }
  const em_tensor *x0 = xs[0];
  for (int i = 1; i < n; i++) {
    int st = em_check_same_device("stack", x0, xs[i]);
    if (st != EM_OK) return st;
    if (!em_tensor_same_shape(x0, xs[i]))
      return em_error("stack: sizes %s and %s differ", em_tensor_shape_str(x0, a, sizeof a),
                      em_tensor_shape_str(xs[i], b, sizeof b));
    if (xs[i]->dtype != x0->dtype)
      return em_error("stack: dtypes %s and %s differ", em_dtype_info[x0->dtype].name,
                      em_dtype_info[xs[i]->dtype].name);
  }
  if (x0->ndim == 0) return em_error("stack: cannot stack empty tensors");
  if (dim < 0 || dim > x0->ndim)
    return em_error("stack: dimension %d out of range for %d-dimensional tensors", dim + 1, x0->ndim);
  if (x0->ndim == EM_MAX_DIMS) return em_error("stack: a tensor has at most %d dimensions", EM_MAX_DIMS);
  int st = em_check_same_device("stack", out, x0);
  if (st != EM_OK) return st;
  int64_t size[EM_MAX_DIMS];
  for (int d = 0, s = 0; d <= x0->ndim; d++) size[d] = d == dim ? n : x0->size[s++];
  st = em_tensor_resize(out, x0->ndim + 1, size);
  em_tensor part;                      /* out's slice i along dim has x0's shape */
  em_tensor_init(&part, out->ctx, out->dtype, out->device);
  for (int i = 0; st == EM_OK && i < n; i++) {
    st = em_tensor_select(&part, out, dim, i);
    if (st == EM_OK) st = em_tensor_copy(&part, xs[i]);
  }
  em_tensor_release(&part);
  return st;
}
