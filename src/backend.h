/* The one dispatch point. A backend is a table of function pointers, grouped by op
 * family; each family's table type is declared in that family's header (math.h,
 * reduce.h, index.h, blas.h, ...). Public ops check shapes, dtypes and devices once,
 * then call em_backend_of(device)->family->op. A NULL entry means "not implemented
 * on this device", reported by the caller with the op, dtype and device. */
#ifndef EMBER_BACKEND_H
#define EMBER_BACKEND_H

#include "tensor.h"

struct em_math_backend;
struct em_reduce_backend;
struct em_index_backend;
struct em_blas_backend;
struct em_random_backend;
struct em_nn_backend;
struct em_optim_backend;
struct em_rnn_backend;
struct em_attention_backend;

typedef struct em_backend {
  const char *name;                                  /* "cpu", "cuda" */
  /* Memory for a new storage on dev. */
  em_allocator (*allocator)(em_context *ctx, em_device dev);
  /* dst := src elementwise; same shape; any dtypes; src may be on the CPU or this device. */
  int (*copy)(em_tensor *dst, const em_tensor *src);
  int (*fill)(em_tensor *dst, double value);
  const struct em_math_backend *math;
  const struct em_reduce_backend *reduce;
  const struct em_index_backend *index;
  const struct em_blas_backend *blas;
  const struct em_random_backend *random;
  const struct em_nn_backend *nn;
  const struct em_optim_backend *optim;
  const struct em_rnn_backend *rnn;
  const struct em_attention_backend *attention;
} em_backend;

/* The backend for a device, or NULL when it was not built in (error recorded). */
const em_backend *em_backend_of(em_device dev);
/* Is a device type built in and present? */
int em_device_available(em_device_type type);
const char *em_device_name(em_device dev);   /* "cpu", "cuda:0" (static buffer per thread) */

extern const em_backend em_cpu_backend;

#endif
