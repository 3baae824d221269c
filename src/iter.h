/* Strided iteration for CPU kernels. Up to EM_ITER_MAX tensors of one shape are walked
 * together; dims that are contiguous in all of them are merged, so the common case is
 * one long inner run. A kernel asks for the number of runs and, per run, the start
 * pointers; runs are independent, so an OpenMP loop can share them out.
 *
 *   em_iter it; em_iter_init(&it, 2, (const em_tensor *[]){out, x});
 *   for (int64_t r = 0; r < it.nruns; r++) {
 *     char *p[EM_ITER_MAX]; em_iter_run(&it, r, p);
 *     kernel(p[0], p[1], it.inner, it.inner_stride[0], it.inner_stride[1]);
 *   }
 */
#ifndef EMBER_ITER_H
#define EMBER_ITER_H

#include "tensor.h"

#define EM_ITER_MAX 4

typedef struct em_iter {
  int ntensors;
  int ndim;                                   /* outer dims after merging */
  int64_t size[EM_MAX_DIMS];                  /* outer sizes */
  int64_t stride[EM_ITER_MAX][EM_MAX_DIMS];   /* outer strides, in bytes */
  char *base[EM_ITER_MAX];
  int64_t inner;                              /* elements per run */
  int64_t inner_stride[EM_ITER_MAX];          /* in bytes */
  int64_t nruns;
} em_iter;

/* All tensors must have the same shape (broadcast views are fine). */
void em_iter_init(em_iter *it, int n, const em_tensor *const *ts);
/* Start pointers of run r (0 <= r < nruns). */
void em_iter_run(const em_iter *it, int64_t r, char **ptrs);

#endif
