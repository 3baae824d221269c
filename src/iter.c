/* Dimension merging and run addressing for em_iter. */
#include "iter.h"

void em_iter_init(em_iter *it, int n, const em_tensor *const *ts) {
  const em_tensor *t0 = ts[0];
  int nd = t0->ndim;
  int64_t size[EM_MAX_DIMS], stride[EM_ITER_MAX][EM_MAX_DIMS];
  int m = 0;
  it->ntensors = n;
  for (int k = 0; k < n; k++) it->base[k] = (char *)em_tensor_data(ts[k]);
  /* drop size-1 dims, then merge dim d into the previous one when every tensor has
   * stride[prev] == stride[d] * size[d] */
  for (int d = 0; d < nd; d++) {
    if (t0->size[d] == 1) continue;
    int merge = m > 0;
    for (int k = 0; k < n && merge; k++) {
      int64_t es = (int64_t)em_dtype_info[ts[k]->dtype].size;
      merge = stride[k][m - 1] == ts[k]->stride[d] * es * t0->size[d];
    }
    if (merge) {
      size[m - 1] *= t0->size[d];
      for (int k = 0; k < n; k++)
        stride[k][m - 1] = ts[k]->stride[d] * (int64_t)em_dtype_info[ts[k]->dtype].size;
    } else {
      size[m] = t0->size[d];
      for (int k = 0; k < n; k++)
        stride[k][m] = ts[k]->stride[d] * (int64_t)em_dtype_info[ts[k]->dtype].size;
      m++;
    }
  }
  int64_t numel = em_tensor_numel(t0);
  if (m == 0) {                      /* one element, or none */
    it->ndim = 0;
    it->inner = numel;
    for (int k = 0; k < n; k++) it->inner_stride[k] = 0;
    it->nruns = numel > 0 ? 1 : 0;
    return;
  }
  it->inner = size[m - 1];
  for (int k = 0; k < n; k++) it->inner_stride[k] = stride[k][m - 1];
  it->ndim = m - 1;
  it->nruns = 1;
  for (int d = 0; d < m - 1; d++) {
    it->size[d] = size[d];
    it->nruns *= size[d];
    for (int k = 0; k < n; k++) it->stride[k][d] = stride[k][d];
  }
  if (numel == 0) it->nruns = 0;
}

void em_iter_run(const em_iter *it, int64_t r, char **ptrs) {
  for (int k = 0; k < it->ntensors; k++) ptrs[k] = it->base[k];
  for (int d = it->ndim - 1; d >= 0; d--) {
    int64_t i = r % it->size[d];
    r /= it->size[d];
    for (int k = 0; k < it->ntensors; k++) ptrs[k] += i * it->stride[k][d];
  }
}
