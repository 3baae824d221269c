/* Tensors: a refcounted storage (bytes on one device, freed by its allocator) plus a
 * view (offset, sizes, strides in elements, dtype). Views share storage; nothing here
 * copies element data except em_tensor_copy and em_tensor_contiguous.
 *
 * All dims are 0-based here; the Lua binding converts from 1-based exactly once.
 * A tensor with ndim == 0 is Torch7's empty tensor: it has no elements. */
#ifndef EMBER_TENSOR_H
#define EMBER_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "error.h"
#include "random.h"

#define EM_MAX_DIMS 8

typedef enum em_device_type { EM_CPU, EM_CUDA, EM_DEVICE_TYPE_COUNT } em_device_type;

typedef struct em_device {
  em_device_type type;
  int index;             /* which GPU; 0 for the CPU */
} em_device;

/* Raw memory for storages. alloc returns NULL when it refuses. */
typedef struct em_allocator {
  void *(*alloc)(void *ud, size_t nbytes);
  void (*free)(void *ud, void *ptr, size_t nbytes);
  void *ud;
} em_allocator;

/* A lua_Alloc-compatible function: the host allocator can be Lua's own, so a host's
 * memory limit also limits tensors. */
typedef void *(*em_allocf)(void *ud, void *ptr, size_t osize, size_t nsize);

/* Per-owner state (one per Lua state): how host memory is obtained, the generator,
 * and how many bytes were allocated since the owner last looked (GC pressure). */
typedef struct em_context {
  em_allocf allocf;
  void *alloc_ud;
  em_rng rng;
  size_t allocated_since_check;
  em_dtype default_dtype;
} em_context;

/* Sets up a context; allocf NULL means malloc/free. */
void em_context_init(em_context *ctx, em_allocf allocf, void *alloc_ud);

typedef struct em_storage {
  void *data;            /* 64-byte aligned start of the elements */
  size_t nbytes;
  int refcount;          /* not atomic: a storage belongs to one context/thread */
  em_device device;
  em_allocator allocator;
  void *block;           /* what the allocator returned (data is inside it) */
  size_t block_size;
  em_context *ctx;       /* for growth and GC accounting; may be NULL for wrapped memory */
} em_storage;

typedef struct em_tensor {
  em_storage *storage;         /* NULL until the tensor has elements */
  em_context *ctx;             /* allocates this tensor's storage when it needs one */
  int64_t offset;              /* in elements, from storage->data */
  int64_t size[EM_MAX_DIMS];
  int64_t stride[EM_MAX_DIMS]; /* in elements; 0 along expanded (broadcast) dims */
  int ndim;
  em_dtype dtype;
  em_device device;
} em_tensor;

/* --- storage --- */
/* A new storage of nbytes (uninitialised) on t's device, refcount 1. */
int em_storage_new(em_context *ctx, em_device dev, size_t nbytes, em_storage **out);
/* Wraps memory the caller owns (no copy, never freed by Ember). */
em_storage *em_storage_wrap(void *data, size_t nbytes, em_device dev);
void em_storage_retain(em_storage *s);
void em_storage_release(em_storage *s);
/* Grows s to at least nbytes, keeping its contents (all views see the new memory). */
int em_storage_grow(em_storage *s, size_t nbytes);

/* --- lifetime --- */
void em_tensor_init(em_tensor *t, em_context *ctx, em_dtype dt, em_device dev);
/* Drops the storage reference; t becomes empty. Idempotent. */
void em_tensor_release(em_tensor *t);
/* Makes dst a view of src (shares storage); dst's old storage is released. */
void em_tensor_set(em_tensor *dst, const em_tensor *src);
/* Makes t a contiguous tensor of the given sizes, keeping its storage when it is big
 * enough and its shape is unchanged (then its strides are kept too, as in Torch7). */
int em_tensor_resize(em_tensor *t, int ndim, const int64_t *size);
int em_tensor_resize_as(em_tensor *t, const em_tensor *like);
/* dst := a new contiguous tensor (uninitialised) with the given dtype and sizes. */
int em_tensor_empty(em_tensor *dst, em_context *ctx, em_dtype dt, em_device dev,
                    int ndim, const int64_t *size);

/* --- queries --- */
int64_t em_tensor_numel(const em_tensor *t);
int em_tensor_is_contiguous(const em_tensor *t);
int em_tensor_same_shape(const em_tensor *a, const em_tensor *b);
/* Pointer to the first element (host tensors). */
static inline void *em_tensor_data(const em_tensor *t) {
  return t->storage ? (char *)t->storage->data + t->offset * (int64_t)em_dtype_info[t->dtype].size
                    : NULL;
}
/* "3x4" (or "empty"), into buf. */
const char *em_tensor_shape_str(const em_tensor *t, char *buf, size_t n);
/* Element at a 0-based multi-index, as a double (slow path). */
double em_tensor_get(const em_tensor *t, const int64_t *idx);
void em_tensor_put(em_tensor *t, const int64_t *idx, double v);

/* --- views: dst becomes a view of src; dst may be src. 0-based dims. --- */
int em_tensor_narrow(em_tensor *dst, const em_tensor *src, int dim, int64_t start, int64_t len);
int em_tensor_select(em_tensor *dst, const em_tensor *src, int dim, int64_t index);
int em_tensor_transpose(em_tensor *dst, const em_tensor *src, int d0, int d1);
int em_tensor_permute(em_tensor *dst, const em_tensor *src, const int *perm);
int em_tensor_unsqueeze(em_tensor *dst, const em_tensor *src, int dim);
int em_tensor_squeeze(em_tensor *dst, const em_tensor *src, int dim); /* dim -1: all */
/* New sizes over the same elements; one size may be -1. Fails when strides do not allow it. */
int em_tensor_view(em_tensor *dst, const em_tensor *src, int ndim, const int64_t *size);
/* A view when the strides allow it, else a view of a contiguous copy. */
int em_tensor_reshape(em_tensor *dst, const em_tensor *src, int ndim, const int64_t *size);
/* Size-1 dims to n (stride 0); new leading dims are added. -1 keeps a size. */
int em_tensor_expand(em_tensor *dst, const em_tensor *src, int ndim, const int64_t *size);
int em_tensor_unfold(em_tensor *dst, const em_tensor *src, int dim, int64_t size, int64_t step);
/* Shape two tensors broadcast to (NumPy rules), or an error naming op and both shapes. */
int em_broadcast_shape(const char *op, const em_tensor *a, const em_tensor *b,
                       int *ndim, int64_t *size);

/* EM_OK when a and b are on one device, else an error naming op and both devices. */
int em_check_same_device(const char *op, const em_tensor *a, const em_tensor *b);

/* --- element data (dispatched to the tensor's backend) --- */
/* dst := src, converting dtypes; same number of elements (shapes may differ, as in Torch7). */
int em_tensor_copy(em_tensor *dst, const em_tensor *src);
int em_tensor_fill(em_tensor *dst, double value);
/* dst := src when contiguous (a view), else a contiguous copy. */
int em_tensor_contiguous(em_tensor *dst, const em_tensor *src);
/* dst := a new contiguous copy of src in dtype dt. */
int em_tensor_clone_as(em_tensor *dst, const em_tensor *src, em_dtype dt);

#endif
