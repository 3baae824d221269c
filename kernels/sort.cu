/* CUDA sort and topk along a dim, and the selections that need a sorted row (median,
 * kthvalue, mode), with the semantics of src/cpu_sort.c: every element becomes the
 * order-preserving int64 key of em_cpu_sort_key (NaN largest), rows are sorted
 * stably, and values are copied from x by position, so they keep their bits.
 *
 * All rows are sorted at once with two stable radix sorts (cub::DeviceRadixSort):
 * first every element by key (descending: by ~key, which reverses the order and keeps
 * ties in place), carrying its flat index r * n + j; then by row r, which groups the
 * rows again without disturbing the order inside each. Both sorts run over the whole
 * tensor, so one long row and many short rows both keep the GPU busy. */
#include <cub/device/device_radix_sort.cuh>

#include "cuda_ops.cuh"

/* Rows of x along dim: it walks {out0, x0} (out: values or indices, with size 1 along
 * dim); out's stride along dim is os. */
typedef struct sort_geo {
  em_cuda_iter it;
  int64_t nrows, n, xs, os;
  int dt, es;
} sort_geo;

/* --- kernels --- */

/* keys[i], flat[i] for i = r * n + j: the key of x's element j of row r, and i. */
__global__ void keys_kernel(sort_geo g, const char *x, int descending, int64_t *keys, int64_t *flat) {
  EM_CUDA_LOOP(i, g.nrows * g.n) {
    int64_t r = i / g.n, j = i % g.n;
    int64_t k = em_sort_key(x + (em_cuda_offset(g.it, 1, r) + j * g.xs) * g.es, g.dt, 1);
    keys[i] = descending ? ~k : k;
    flat[i] = i;
  }
}

/* rows[i] := the row of flat index flat[i] */
__global__ void rows_kernel(const int64_t *flat, int64_t n, int64_t total, uint64_t *rows) {
  EM_CUDA_LOOP(i, total) rows[i] = (uint64_t)(flat[i] / n);
}

/* values[r, t], indices[r, t] := x's element at sorted position t of row r and its
 * position + base, for t < cnt. */
__global__ void gather_sorted_kernel(sort_geo g, const char *x, const int64_t *sorted, int64_t cnt,
                                     char *values, int64_t *indices, int64_t base) {
  EM_CUDA_LOOP(i, g.nrows * cnt) {
    int64_t r = i / cnt, t = i % cnt;
    int64_t j = sorted[r * g.n + t] % g.n;
    int64_t o = em_cuda_offset(g.it, 0, r) + t * g.os;
    em_move_elem(values + o * g.es, x + (em_cuda_offset(g.it, 1, r) + j * g.xs) * g.es, g.es);
    indices[o] = j + base;
  }
}

/* One thread per row of the ascending sort: median, kthvalue or mode. */
__global__ void select_sorted_kernel(sort_geo g, const char *x, const int64_t *sorted, int op,
                                     int64_t k, int is_float, char *values, int64_t *indices,
                                     int64_t base) {
  EM_CUDA_LOOP(r, g.nrows) {
    const int64_t *row = sorted + r * g.n;
    int64_t xb = em_cuda_offset(g.it, 1, r);
#define KEY(t) em_sort_key(x + (xb + (row[t] % g.n) * g.xs) * g.es, g.dt, 1)
    int64_t pick;
    if (op == EM_SELECT_MODE) {
      int64_t best = 0, best_len = 0, run = 0, prev = 0;
      for (int64_t t = 0; t < g.n; t++) {
        int64_t key = KEY(t);
        run = t > 0 && key == prev ? run + 1 : 1;
        prev = key;
        bool run_ends = t + 1 == g.n || KEY(t + 1) != key;
        if (run_ends && run > best_len) { best_len = run; best = t; }   /* last of the run */
      }
      pick = best;
    } else {
      pick = op == EM_SELECT_MEDIAN ? (g.n - 1) / 2 : k;
      if (op == EM_SELECT_MEDIAN && is_float && KEY(g.n - 1) == INT64_MAX) {
        int64_t lo = 0, hi = g.n - 1;               /* the first NaN: NaNs sort last, stably */
        while (lo < hi) {
          int64_t mid = lo + (hi - lo) / 2;
          if (KEY(mid) == INT64_MAX) hi = mid; else lo = mid + 1;
        }
        pick = lo;
      }
    }
#undef KEY
    int64_t j = row[pick] % g.n, o = em_cuda_offset(g.it, 0, r);
    em_move_elem(values + o * g.es, x + (xb + j * g.xs) * g.es, g.es);
    indices[o] = j + base;
  }
}

/* --- launchers --- */

static sort_geo geo_of(const em_tensor *out, const em_tensor *x, int dim) {
  sort_geo g;
  em_tensor o0 = em_cuda_row_starts(out, dim), x0 = em_cuda_row_starts(x, dim);
  const em_tensor *ts[2] = {&o0, &x0};
  em_cuda_iter_init(&g.it, 2, ts);
  g.nrows = g.it.numel;
  g.n = x->size[dim];
  g.xs = x->stride[dim];
  g.os = out->stride[dim];
  g.dt = x->dtype;
  g.es = (int)em_dtype_info[x->dtype].size;
  return g;
}

/* Bits needed for values below n (at least 1). */
static int bits_for(int64_t n) {
  int b = 1;
  while (b < 63 && ((int64_t)1 << b) < n) b++;
  return b;
}

/* Sorts every row of x; *sorted points at nrows * n flat indices in sorted order (in
 * ws, which the caller releases after queuing its last kernel). */
static int sort_rows(const sort_geo &g, const char *x, int descending, em_device dev,
                     cudaStream_t stream, em_cuda_workspace *ws, const int64_t **sorted) {
  int64_t total = g.nrows * g.n;
  size_t tmp_a = 0, tmp_b = 0;
  EM_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(NULL, tmp_a, (int64_t *)NULL, (int64_t *)NULL,
                                                (int64_t *)NULL, (int64_t *)NULL, total, 0, 64, stream));
  EM_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(NULL, tmp_b, (uint64_t *)NULL, (uint64_t *)NULL,
                                                (int64_t *)NULL, (int64_t *)NULL, total, 0,
                                                bits_for(g.nrows), stream));
  size_t tmp = tmp_a > tmp_b ? tmp_a : tmp_b;
  size_t arr = ((size_t)total * 8 + 255) & ~(size_t)255;
  int st = em_cuda_workspace_get(dev, 4 * arr + tmp, ws);
  if (st != EM_OK) return st;
  char *p = (char *)ws->ptr;
  int64_t *keys_a = (int64_t *)p, *keys_b = (int64_t *)(p + arr);
  int64_t *flat_a = (int64_t *)(p + 2 * arr), *flat_b = (int64_t *)(p + 3 * arr);
  void *temp = p + 4 * arr;
  keys_kernel<<<em_cuda_grid(total, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(g, x, descending,
                                                                               keys_a, flat_a);
  EM_CUDA_CHECK_LAUNCH();
  EM_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, tmp, keys_a, keys_b, flat_a, flat_b, total,
                                                0, 64, stream));
  *sorted = flat_b;
  if (g.nrows == 1) return EM_OK;
  uint64_t *rows_a = (uint64_t *)keys_a, *rows_b = (uint64_t *)keys_b;   /* keys are done */
  rows_kernel<<<em_cuda_grid(total, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(flat_b, g.n, total, rows_a);
  EM_CUDA_CHECK_LAUNCH();
  EM_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, tmp, rows_a, rows_b, flat_b, flat_a, total,
                                                0, bits_for(g.nrows), stream));
  *sorted = flat_a;
  return EM_OK;
}

/* values, indices (x's shape with cnt along dim) := the first cnt of each sorted row. */
static int sort_take(em_tensor *values, em_tensor *indices, const em_tensor *x, int dim,
                     int descending, int64_t cnt, int64_t base) {
  cudaStream_t stream;
  if (em_cuda_use(x->device, &stream) != EM_OK) return EM_ERR;
  sort_geo g = geo_of(values, x, dim);
  if (g.nrows == 0 || g.n == 0 || cnt == 0) return EM_OK;
  em_cuda_workspace ws = {NULL, 0, 0};
  const int64_t *sorted = NULL;
  int st = sort_rows(g, (const char *)em_cuda_data(x), descending, x->device, stream, &ws, &sorted);
  if (st == EM_OK) {
    gather_sorted_kernel<<<em_cuda_grid(g.nrows * cnt, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        g, (const char *)em_cuda_data(x), sorted, cnt, (char *)em_cuda_data(values),
        (int64_t *)em_cuda_data(indices), base);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) st = em_cuda_fail(err, "gather_sorted_kernel launch", __FILE__, __LINE__);
  }
  em_cuda_workspace_release(&ws);
  return st;
}

/* --- entry points (the reduce family's table is in reduce.cu) --- */

int em_cuda_sort(em_tensor *values, em_tensor *indices, const em_tensor *x, int dim,
                 int descending, int64_t base) {
  return sort_take(values, indices, x, dim, descending != 0, x->size[dim], base);
}

/* Always sorted, as on the CPU. */
int em_cuda_topk(em_tensor *values, em_tensor *indices, const em_tensor *x, int64_t k, int dim,
                 int largest, int sorted, int64_t base) {
  return sort_take(values, indices, x, dim, largest != 0, k, base);
}

int em_cuda_select_sorted(em_select_op op, em_tensor *values, em_tensor *indices,
                          const em_tensor *x, int dim, int64_t k, int64_t base) {
  cudaStream_t stream;
  if (em_cuda_use(x->device, &stream) != EM_OK) return EM_ERR;
  sort_geo g = geo_of(values, x, dim);
  if (g.nrows == 0) return EM_OK;
  em_cuda_workspace ws = {NULL, 0, 0};
  const int64_t *sorted = NULL;
  const char *xp = (const char *)em_cuda_data(x);
  int st = sort_rows(g, xp, 0, x->device, stream, &ws, &sorted);
  if (st == EM_OK) {
    select_sorted_kernel<<<em_cuda_grid(g.nrows, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        g, xp, sorted, op, k, em_dtype_info[x->dtype].is_float, (char *)em_cuda_data(values),
        (int64_t *)em_cuda_data(indices), base);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) st = em_cuda_fail(err, "select_sorted_kernel launch", __FILE__, __LINE__);
  }
  em_cuda_workspace_release(&ws);
  return st;
}
