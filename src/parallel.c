/* The thread count, shared by our OpenMP loops and OpenBLAS (OpenMP build). */
#include "parallel.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void openblas_set_num_threads(int n);

void em_set_num_threads(int n) {
  if (n < 1) n = 1;
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  openblas_set_num_threads(n);
}

int em_get_num_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void em_parallel_items(int64_t n, int parallel, em_item_fn item, void *ctx) {
  if (parallel && n > 1) {
    #pragma omp parallel for schedule(static)
    for (int64_t w = 0; w < n; w++) item(ctx, w);
  } else {
    for (int64_t w = 0; w < n; w++) item(ctx, w);
  }
}
