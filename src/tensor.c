/* Storage lifetime, tensor views and shape logic. No element loops here: copy and fill
 * dispatch to the tensor's backend. */
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

#define EM_ALIGN 64

static void *default_allocf(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud; (void)osize;
  if (nsize == 0) { free(ptr); return NULL; }
  return realloc(ptr, nsize);
}

void em_context_init(em_context *ctx, em_allocf allocf, void *alloc_ud) {
  memset(ctx, 0, sizeof *ctx);
  ctx->allocf = allocf ? allocf : default_allocf;
  ctx->alloc_ud = allocf ? alloc_ud : NULL;
  ctx->default_dtype = EM_FLOAT32;
  em_rng_seed(&ctx->rng, 0);
}

/* --- storage --- */

/* Storage headers live in host memory from the context's allocator (malloc without one). */
static void *host_alloc(em_context *ctx, size_t n) {
  return ctx ? ctx->allocf(ctx->alloc_ud, NULL, 0, n) : malloc(n);
}

static void host_free(em_context *ctx, void *p, size_t n) {
  if (ctx) ctx->allocf(ctx->alloc_ud, p, n, 0);
  else free(p);
}

/* Host blocks are over-allocated by EM_ALIGN so that data is 64-byte aligned. */
static void *block_data(em_device dev, void *block) {
  if (dev.type != EM_CPU || !block) return block;
  return (void *)(((uintptr_t)block + EM_ALIGN - 1) & ~(uintptr_t)(EM_ALIGN - 1));
}

static size_t block_size(em_device dev, size_t nbytes) {
  return dev.type == EM_CPU ? nbytes + EM_ALIGN : nbytes;
}

int em_storage_new(em_context *ctx, em_device dev, size_t nbytes, em_storage **out) {
  if (!ctx) return em_error("storage: no context to allocate from");
  const em_backend *be = em_backend_of(dev);
  if (!be) return EM_ERR;
  em_storage *s = host_alloc(ctx, sizeof *s);
  if (!s) return em_error_nomem("storage", sizeof *s);
  memset(s, 0, sizeof *s);
  s->allocator = be->allocator(ctx, dev);
  s->block_size = block_size(dev, nbytes);
  s->block = nbytes ? s->allocator.alloc(s->allocator.ud, s->block_size) : NULL;
  if (nbytes && !s->block) {
    host_free(ctx, s, sizeof *s);
    return em_error_nomem(dev.type == EM_CPU ? "tensor" : em_device_name(dev), nbytes);
  }
  s->data = block_data(dev, s->block);
  s->nbytes = nbytes;
  s->refcount = 1;
  s->device = dev;
  s->ctx = ctx;
  if (ctx) ctx->allocated_since_check += nbytes;
  *out = s;
  return EM_OK;
}

em_storage *em_storage_wrap(void *data, size_t nbytes, em_device dev) {
  em_storage *s = malloc(sizeof *s);
  if (!s) return NULL;
  memset(s, 0, sizeof *s);
  s->data = data;
  s->nbytes = nbytes;
  s->refcount = 1;
  s->device = dev;
  return s;
}

void em_storage_retain(em_storage *s) {
  if (s) s->refcount++;
}

void em_storage_release(em_storage *s) {
  if (!s || --s->refcount > 0) return;
  if (s->block) s->allocator.free(s->allocator.ud, s->block, s->block_size);
  host_free(s->ctx, s, sizeof *s);
}

int em_storage_grow(em_storage *s, size_t nbytes) {
  if (nbytes <= s->nbytes) return EM_OK;
  if (!s->block && s->data) return em_error("resize: cannot grow memory that Ember does not own");
  size_t bsize = block_size(s->device, nbytes);
  void *block = s->allocator.alloc ? s->allocator.alloc(s->allocator.ud, bsize) : NULL;
  if (!block) return em_error_nomem("resize", nbytes);
  if (s->nbytes) {
    /* copy the old bytes through the backend, as uint8 tensors over both blocks */
    em_storage fresh = *s;
    fresh.block = block;
    fresh.data = block_data(s->device, block);
    fresh.nbytes = nbytes;
    em_tensor dst, src;
    em_tensor_init(&dst, s->ctx, EM_UINT8, s->device);
    em_tensor_init(&src, s->ctx, EM_UINT8, s->device);
    dst.storage = &fresh; src.storage = s;
    dst.ndim = src.ndim = 1;
    dst.size[0] = src.size[0] = (int64_t)s->nbytes;
    dst.stride[0] = src.stride[0] = 1;
    int st = em_backend_of(s->device)->copy(&dst, &src);
    if (st != EM_OK) { s->allocator.free(s->allocator.ud, block, bsize); return st; }
  }
  if (s->block) s->allocator.free(s->allocator.ud, s->block, s->block_size);
  if (s->ctx) s->ctx->allocated_since_check += nbytes - s->nbytes;
  s->block = block;
  s->block_size = bsize;
  s->data = block_data(s->device, block);
  s->nbytes = nbytes;
  return EM_OK;
}

/* --- lifetime --- */

void em_tensor_init(em_tensor *t, em_context *ctx, em_dtype dt, em_device dev) {
  memset(t, 0, sizeof *t);
  t->ctx = ctx;
  t->dtype = dt;
  t->device = dev;
}

void em_tensor_release(em_tensor *t) {
  em_storage *s = t->storage;
  t->storage = NULL;
  t->ndim = 0;
  t->offset = 0;
  em_storage_release(s);
}

void em_tensor_set(em_tensor *dst, const em_tensor *src) {
  if (dst == src) return;
  em_storage_retain(src->storage);
  em_storage *old = dst->storage;
  em_context *ctx = dst->ctx ? dst->ctx : src->ctx;
  *dst = *src;
  dst->ctx = ctx;
  em_storage_release(old);
}

static int64_t numel_of(int ndim, const int64_t *size) {
  if (ndim == 0) return 0;
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= size[i];
  return n;
}

static int check_sizes(const char *op, int ndim, const int64_t *size) {
  if (ndim < 0 || ndim > EM_MAX_DIMS)
    return em_error("%s: %d dimensions (at most %d are supported)", op, ndim, EM_MAX_DIMS);
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (size[i] < 0) return em_error("%s: size %lld of dimension %d is negative", op, (long long)size[i], i + 1);
    if (size[i] && n > INT64_MAX / 16 / size[i]) return em_error("%s: too many elements", op);
    n *= size[i];
  }
  return EM_OK;
}

int em_tensor_resize(em_tensor *t, int ndim, const int64_t *size) {
  int st = check_sizes("resize", ndim, size);
  if (st != EM_OK) return st;
  int same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++) same = t->size[i] == size[i];
  if (same && (t->storage || numel_of(ndim, size) == 0)) return EM_OK;
  int64_t n = numel_of(ndim, size);
  size_t es = em_dtype_info[t->dtype].size;
  size_t need = (size_t)(t->offset + n) * es;
  if (n > 0) {
    if (!t->storage) {
      em_storage *s;
      if (!t->ctx) return em_error("resize: tensor has no context to allocate from");
      st = em_storage_new(t->ctx, t->device, (size_t)n * es, &s);
      if (st != EM_OK) return st;
      t->storage = s;
      t->offset = 0;
    } else if (need > t->storage->nbytes) {
      st = em_storage_grow(t->storage, need);
      if (st != EM_OK) return st;
    }
  }
  t->ndim = ndim;
  int64_t stride = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    t->size[i] = size[i];
    t->stride[i] = stride;
    stride *= size[i] > 0 ? size[i] : 1;
  }
  return EM_OK;
}

int em_tensor_resize_as(em_tensor *t, const em_tensor *like) {
  return em_tensor_resize(t, like->ndim, like->size);
}

int em_tensor_empty(em_tensor *dst, em_context *ctx, em_dtype dt, em_device dev,
                    int ndim, const int64_t *size) {
  em_tensor t;
  em_tensor_init(&t, ctx, dt, dev);
  int st = em_tensor_resize(&t, ndim, size);
  if (st != EM_OK) return st;
  em_tensor_release(dst);
  *dst = t;
  return EM_OK;
}

/* --- queries --- */

int64_t em_tensor_numel(const em_tensor *t) { return numel_of(t->ndim, t->size); }

int em_tensor_is_contiguous(const em_tensor *t) {
  int64_t stride = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->size[i] == 1) continue;
    if (t->stride[i] != stride) return 0;
    stride *= t->size[i];
  }
  return 1;
}

int em_tensor_same_shape(const em_tensor *a, const em_tensor *b) {
  if (a->ndim != b->ndim) return 0;
  for (int i = 0; i < a->ndim; i++)
    if (a->size[i] != b->size[i]) return 0;
  return 1;
}

const char *em_tensor_shape_str(const em_tensor *t, char *buf, size_t n) {
  if (t->ndim == 0) { snprintf(buf, n, "empty"); return buf; }
  long long sz[EM_MAX_DIMS];
  for (int i = 0; i < t->ndim; i++) sz[i] = t->size[i];
  return em_format_sizes(buf, n, t->ndim, sz);
}

static void *elem_ptr(const em_tensor *t, const int64_t *idx) {
  int64_t off = t->offset;
  for (int i = 0; i < t->ndim; i++) off += idx[i] * t->stride[i];
  return (char *)t->storage->data + off * (int64_t)em_dtype_info[t->dtype].size;
}

double em_tensor_get(const em_tensor *t, const int64_t *idx) {
  return em_dtype_get(t->dtype, elem_ptr(t, idx));
}

void em_tensor_put(em_tensor *t, const int64_t *idx, double v) {
  em_dtype_set(t->dtype, elem_ptr(t, idx), v);
}

/* --- views --- */

static int check_dim(const char *op, const em_tensor *t, int dim) {
  if (dim < 0 || dim >= t->ndim)
    return em_error("%s: dimension %d out of range for a %d-dimensional tensor", op, dim + 1, t->ndim);
  return EM_OK;
}

int em_tensor_narrow(em_tensor *dst, const em_tensor *src, int dim, int64_t start, int64_t len) {
  if (check_dim("narrow", src, dim) != EM_OK) return EM_ERR;
  if (start < 0 || len < 0 || start > src->size[dim] || len > src->size[dim] - start)
    return em_error("narrow: range [%lld, %lld] out of bounds for dimension %d of size %lld",
                    (long long)start + 1, (long long)(start + len), dim + 1, (long long)src->size[dim]);
  em_tensor_set(dst, src);
  dst->offset += start * src->stride[dim];
  dst->size[dim] = len;
  return EM_OK;
}

int em_tensor_select(em_tensor *dst, const em_tensor *src, int dim, int64_t index) {
  if (check_dim("select", src, dim) != EM_OK) return EM_ERR;
  if (src->ndim == 1) return em_error("select: cannot select on a 1-dimensional tensor (it would have no dimensions)");
  if (index < 0 || index >= src->size[dim])
    return em_error("select: index %lld out of range for dimension %d of size %lld",
                    (long long)index + 1, dim + 1, (long long)src->size[dim]);
  em_tensor_set(dst, src);
  dst->offset += index * src->stride[dim];
  for (int i = dim; i < dst->ndim - 1; i++) {
    dst->size[i] = dst->size[i + 1];
    dst->stride[i] = dst->stride[i + 1];
  }
  dst->ndim--;
  return EM_OK;
}

int em_tensor_transpose(em_tensor *dst, const em_tensor *src, int d0, int d1) {
  if (check_dim("transpose", src, d0) != EM_OK || check_dim("transpose", src, d1) != EM_OK)
    return EM_ERR;
  em_tensor_set(dst, src);
  int64_t s = dst->size[d0], st = dst->stride[d0];
  dst->size[d0] = dst->size[d1]; dst->stride[d0] = dst->stride[d1];
  dst->size[d1] = s; dst->stride[d1] = st;
  return EM_OK;
}

int em_tensor_permute(em_tensor *dst, const em_tensor *src, const int *perm) {
  int seen[EM_MAX_DIMS] = {0};
  for (int i = 0; i < src->ndim; i++) {
    if (perm[i] < 0 || perm[i] >= src->ndim || seen[perm[i]])
      return em_error("permute: not a permutation of %d dimensions (entry %d is %d)", src->ndim, i + 1, perm[i] + 1);
    seen[perm[i]] = 1;
  }
  em_tensor t = *src;
  for (int i = 0; i < src->ndim; i++) {
    t.size[i] = src->size[perm[i]];
    t.stride[i] = src->stride[perm[i]];
  }
  em_tensor_set(dst, &t);   /* t borrows src's storage reference; set retains it */
  return EM_OK;
}

int em_tensor_unsqueeze(em_tensor *dst, const em_tensor *src, int dim) {
  if (dim < 0 || dim > src->ndim)
    return em_error("unsqueeze: dimension %d out of range for a %d-dimensional tensor", dim + 1, src->ndim);
  if (src->ndim == EM_MAX_DIMS) return em_error("unsqueeze: a tensor has at most %d dimensions", EM_MAX_DIMS);
  em_tensor t = *src;
  for (int i = src->ndim; i > dim; i--) {
    t.size[i] = src->size[i - 1];
    t.stride[i] = src->stride[i - 1];
  }
  t.size[dim] = 1;
  t.stride[dim] = dim < src->ndim ? src->size[dim] * src->stride[dim] : 1;
  t.ndim = src->ndim + 1;
  em_tensor_set(dst, &t);
  return EM_OK;
}

int em_tensor_squeeze(em_tensor *dst, const em_tensor *src, int dim) {
  em_tensor t = *src;
  if (dim >= 0) {
    if (check_dim("squeeze", src, dim) != EM_OK) return EM_ERR;
    if (src->size[dim] != 1 || src->ndim == 1) { em_tensor_set(dst, src); return EM_OK; }
  }
  int m = 0;
  for (int i = 0; i < src->ndim; i++) {
    if (src->size[i] == 1 && (dim < 0 || dim == i)) continue;
    t.size[m] = src->size[i];
    t.stride[m] = src->stride[i];
    m++;
  }
  if (m == 0 && src->ndim > 0) { t.size[0] = 1; t.stride[0] = 1; m = 1; }  /* Torch7 keeps one dim */
  t.ndim = m;
  em_tensor_set(dst, &t);
  return EM_OK;
}

static const char *sizes_str(char *buf, size_t n, int ndim, const int64_t *size) {
  long long sz[EM_MAX_DIMS];
  for (int i = 0; i < ndim && i < EM_MAX_DIMS; i++) sz[i] = size[i];
  return em_format_sizes(buf, n, ndim < EM_MAX_DIMS ? ndim : EM_MAX_DIMS, sz);
}

static int view_impl(const char *op, em_tensor *dst, const em_tensor *src, int ndim,
                     const int64_t *size_in) {
  int64_t size[EM_MAX_DIMS];
  if (ndim < 1 || ndim > EM_MAX_DIMS) return em_error("%s: %d dimensions (1 to %d allowed)", op, ndim, EM_MAX_DIMS);
  int64_t n = em_tensor_numel(src), known = 1;
  int infer = -1;
  char a[128], b[128];
  for (int i = 0; i < ndim; i++) {
    size[i] = size_in[i];
    if (size[i] == -1) {
      if (infer >= 0) return em_error("%s: only one size may be -1", op);
      infer = i;
    } else if (size[i] < 0) {
      return em_error("%s: size %lld is invalid", op, (long long)size[i]);
    } else if (size[i] && known > INT64_MAX / size[i]) {
      return em_error("%s: too many elements in the requested shape", op);
    } else {
      known *= size[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      return em_error("%s: cannot infer size -1 for %lld elements (shape %s)", op, (long long)n,
                      em_tensor_shape_str(src, a, sizeof a));
    size[infer] = n / known;
    known *= size[infer];
  }
  if (known != n) {
    return em_error("%s: shape %s has %lld elements, the tensor (%s) has %lld", op,
                    sizes_str(b, sizeof b, ndim, size), (long long)known,
                    em_tensor_shape_str(src, a, sizeof a), (long long)n);
  }
  /* Compute strides for the new shape over src's strides (PyTorch's algorithm): walk
   * chunks of src dims that are contiguous with each other, matching new dims to them. */
  int64_t stride[EM_MAX_DIMS];
  int view_d = ndim - 1;
  int64_t chunk_base = src->ndim ? src->stride[src->ndim - 1] : 1;
  int64_t tensor_numel = 1, view_numel = 1;
  for (int d = src->ndim - 1; d >= 0; d--) {
    tensor_numel *= src->size[d];
    if (d == 0 || (src->size[d - 1] != 1 && src->stride[d - 1] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || size[view_d] == 1)) {
        stride[view_d] = view_numel * chunk_base;
        view_numel *= size[view_d];
        view_d--;
      }
      if (view_numel != tensor_numel)
        return em_error("%s: shape %s is not compatible with the strides of a non-contiguous %s "
                        "tensor; call contiguous() first", op, sizes_str(b, sizeof b, ndim, size),
                        em_tensor_shape_str(src, a, sizeof a));
      if (d > 0) {
        chunk_base = src->stride[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  while (view_d >= 0) { stride[view_d] = 1; view_d--; }
  em_tensor t = *src;
  t.ndim = ndim;
  for (int i = 0; i < ndim; i++) { t.size[i] = size[i]; t.stride[i] = stride[i]; }
  em_tensor_set(dst, &t);
  return EM_OK;
}

int em_tensor_view(em_tensor *dst, const em_tensor *src, int ndim, const int64_t *size) {
  return view_impl("view", dst, src, ndim, size);
}

int em_tensor_reshape(em_tensor *dst, const em_tensor *src, int ndim, const int64_t *size) {
  int st = view_impl("reshape", dst, src, ndim, size);
  if (st == EM_OK || em_tensor_is_contiguous(src)) return st;   /* a contiguous source failed on counts */
  em_tensor t;
  em_tensor_init(&t, src->ctx, src->dtype, src->device);
  st = em_tensor_clone_as(&t, src, src->dtype);
  if (st == EM_OK) st = view_impl("reshape", dst, &t, ndim, size);
  em_tensor_release(&t);
  return st;
}

int em_tensor_expand(em_tensor *dst, const em_tensor *src, int ndim, const int64_t *size) {
  char a[128], b[128];
  if (ndim < src->ndim || ndim > EM_MAX_DIMS) goto bad;
  em_tensor t = *src;
  int lead = ndim - src->ndim;
  for (int i = ndim - 1; i >= 0; i--) {
    int j = i - lead;
    int64_t want = size[i];
    if (j >= 0) {
      if (want == -1) want = src->size[j];
      if (src->size[j] == want) { t.size[i] = want; t.stride[i] = src->stride[j]; }
      else if (src->size[j] == 1 && want >= 0) { t.size[i] = want; t.stride[i] = 0; }
      else goto bad;
    } else {
      if (want < 0) goto bad;
      t.size[i] = want; t.stride[i] = 0;
    }
  }
  t.ndim = ndim;
  em_tensor_set(dst, &t);
  return EM_OK;
bad:
  return em_error("expand: cannot expand a %s tensor to %s", em_tensor_shape_str(src, a, sizeof a),
                  sizes_str(b, sizeof b, ndim, size));
}

int em_tensor_unfold(em_tensor *dst, const em_tensor *src, int dim, int64_t size, int64_t step) {
  if (check_dim("unfold", src, dim) != EM_OK) return EM_ERR;
  if (src->ndim == EM_MAX_DIMS) return em_error("unfold: a tensor has at most %d dimensions", EM_MAX_DIMS);
  if (size < 0 || size > src->size[dim] || step <= 0)
    return em_error("unfold: size %lld and step %lld invalid for dimension %d of size %lld",
                    (long long)size, (long long)step, dim + 1, (long long)src->size[dim]);
  em_tensor t = *src;
  t.size[dim] = (src->size[dim] - size) / step + 1;
  t.stride[dim] = src->stride[dim] * step;
  t.size[src->ndim] = size;
  t.stride[src->ndim] = src->stride[dim];
  t.ndim = src->ndim + 1;
  em_tensor_set(dst, &t);
  return EM_OK;
}

int em_broadcast_shape(const char *op, const em_tensor *a, const em_tensor *b,
                       int *ndim, int64_t *size) {
  int n = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int i = 0; i < n; i++) {
    int ia = i - (n - a->ndim), ib = i - (n - b->ndim);
    int64_t sa = ia >= 0 ? a->size[ia] : 1, sb = ib >= 0 ? b->size[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      char x[128], y[128];
      return em_error("%s: sizes %s and %s cannot broadcast", op, em_tensor_shape_str(a, x, sizeof x),
                      em_tensor_shape_str(b, y, sizeof y));
    }
    size[i] = sa == 1 ? sb : sa;
  }
  *ndim = n;
  return EM_OK;
}

/* --- element data --- */

int em_check_same_device(const char *op, const em_tensor *a, const em_tensor *b) {
  if (a->device.type == b->device.type && a->device.index == b->device.index) return EM_OK;
  char x[32];
  snprintf(x, sizeof x, "%s", em_device_name(a->device));
  return em_error("%s: tensors on different devices (%s and %s)", op, x, em_device_name(b->device));
}

int em_tensor_copy(em_tensor *dst, const em_tensor *src) {
  int64_t n = em_tensor_numel(dst);
  if (n != em_tensor_numel(src)) {
    char a[128], b[128];
    return em_error("copy: sizes %s and %s have different numbers of elements (%lld and %lld)",
                    em_tensor_shape_str(dst, a, sizeof a), em_tensor_shape_str(src, b, sizeof b),
                    (long long)n, (long long)em_tensor_numel(src));
  }
  if (n == 0) return EM_OK;
  /* copies across devices go to the device backend, which knows both sides */
  const em_backend *be = em_backend_of(dst->device.type != EM_CPU ? dst->device : src->device);
  if (!be) return EM_ERR;
  if (em_tensor_same_shape(dst, src)) return be->copy(dst, src);
  /* same count, different shapes: view one side in the other's shape */
  em_tensor view;
  em_tensor_init(&view, src->ctx, src->dtype, src->device);
  int st;
  if (em_tensor_is_contiguous(src)) {
    st = em_tensor_view(&view, src, dst->ndim, dst->size);
    if (st == EM_OK) st = be->copy(dst, &view);
  } else if (em_tensor_is_contiguous(dst)) {
    em_tensor dview;
    em_tensor_init(&dview, dst->ctx, dst->dtype, dst->device);
    st = em_tensor_view(&dview, dst, src->ndim, src->size);
    if (st == EM_OK) st = be->copy(&dview, src);
    em_tensor_release(&dview);
  } else {
    st = em_tensor_contiguous(&view, src);
    if (st == EM_OK) st = em_tensor_view(&view, &view, dst->ndim, dst->size);
    if (st == EM_OK) st = be->copy(dst, &view);
  }
  em_tensor_release(&view);
  return st;
}

int em_tensor_fill(em_tensor *dst, double value) {
  if (em_tensor_numel(dst) == 0) return EM_OK;
  const em_backend *be = em_backend_of(dst->device);
  return be ? be->fill(dst, value) : EM_ERR;
}

int em_tensor_clone_as(em_tensor *dst, const em_tensor *src, em_dtype dt) {
  em_tensor t;
  em_tensor_init(&t, src->ctx, dt, src->device);
  int st = em_tensor_resize(&t, src->ndim, src->size);
  if (st == EM_OK) st = em_tensor_copy(&t, src);
  if (st != EM_OK) { em_tensor_release(&t); return st; }
  em_context *ctx = dst->ctx ? dst->ctx : src->ctx;
  em_tensor_release(dst);
  *dst = t;
  dst->ctx = ctx;
  return EM_OK;
}

int em_tensor_contiguous(em_tensor *dst, const em_tensor *src) {
  if (em_tensor_is_contiguous(src)) { em_tensor_set(dst, src); return EM_OK; }
  return em_tensor_clone_as(dst, src, src->dtype);
}

