/* CUDA reductions, max/min with positions, and scans (src/reduce.h), with the
 * semantics of src/cpu_reduce.c: every dtype accumulates in double (integer sum and
 * product exactly in int64, wrapping), var/std and logsumexp take two passes (the mean,
 * then squared deviations; the max, then exp(x - max)), max/min return the first best
 * element by the order-preserving key of cpu_sort.c (NaN wins), so values are x's own
 * bits. Median, kthvalue and mode, sort and topk are in sort.cu.
 *
 * Geometry: x is seen as nrows rows of n elements (row r starts where x0, x narrowed
 * to size 1 along dim, has its element r in row-major order; elements step by x's
 * stride along dim), or as one flat row of all elements in row-major order. Each row
 * is cut into nchunk chunks; a (row, chunk) item is folded by a warp (rows along the
 * fastest dim) or by one thread (rows along an outer dim, so neighbouring threads read
 * neighbouring memory). A second kernel combines each row's chunk results (warp
 * shuffles), and a third turns accumulators into the op's value in out's dtype. */
#include <stdlib.h>

#include <cub/block/block_scan.cuh>

#include "cuda_ops.cuh"

enum {
  TARGET_ITEMS = 8192,      /* (row, chunk) items worth launching: ~64 warps per SM */
  MIN_CHUNK_WARP = 1024,    /* elements a warp item folds at least */
  MIN_CHUNK_LANE = 256,     /* elements a thread item folds at least */
  SCAN_BLOCK = 256,         /* threads of a block that scans one row */
};

/* What each accumulator folds (as cpu_reduce.c's acc_op). */
enum acc_op {
  ACC_SUM, ACC_PROD, ACC_MAX, ACC_ABSSUM, ACC_SQSUM, ACC_POWSUM, ACC_ABSMAX, ACC_NONZERO,
  ACC_ALL, ACC_ANY, ACC_SQDEV, ACC_EXPDEV,
};

/* One pass: the fold, the norm order, and a per-row shift (times shift_scale). */
typedef struct pass {
  int op;
  double p;
  const double *shift;
  double shift_scale;
} pass;

/* Rows of x: see the header comment. it: over {out, x0}, or over {x} when flat. */
typedef struct rows_geo {
  em_cuda_iter it;
  int64_t nrows, n, xs;
  int64_t nchunk, chunk;
  int flat;
  int dt, es;
} rows_geo;

/* Element offset (in elements) of row r's start, and of element j of a row at base. */
static __device__ __forceinline__ int64_t row_base(const rows_geo &g, int64_t r) {
  return g.flat ? 0 : em_cuda_offset(g.it, 1, r);
}
static __device__ __forceinline__ int64_t elem_off(const rows_geo &g, int64_t base, int64_t j) {
  return g.flat ? em_cuda_offset(g.it, 0, j) : base + j * g.xs;
}

/* --- accumulators: double for every op, uint64 for exact integer sum and product --- */

static __device__ __forceinline__ double max_nan(double a, double v) { return (v > a || v != v) && a == a ? v : a; }

template <typename A> static __device__ __forceinline__ A identity(int op);
template <> __device__ __forceinline__ double identity<double>(int op) {
  return op == ACC_PROD || op == ACC_ALL ? 1.0 : op == ACC_MAX ? -INFINITY : 0.0;
}
template <> __device__ __forceinline__ uint64_t identity<uint64_t>(int op) { return op == ACC_PROD; }

template <typename A> static __device__ __forceinline__ A load_acc(const char *p, int dt);
template <> __device__ __forceinline__ double load_acc<double>(const char *p, int dt) { return em_load_f64(p, dt); }
template <> __device__ __forceinline__ uint64_t load_acc<uint64_t>(const char *p, int dt) { return (uint64_t)em_load_i64(p, dt); }

static __device__ __forceinline__ double fold(const pass &ps, double a, double v, double sh) {
  switch (ps.op) {
  case ACC_SUM: return a + v;
  case ACC_PROD: return a * v;
  case ACC_MAX: return max_nan(a, v);
  case ACC_ABSSUM: return a + fabs(v);
  case ACC_SQSUM: return a + v * v;
  case ACC_POWSUM: return a + pow(fabs(v), ps.p);
  case ACC_ABSMAX: return max_nan(a, fabs(v));
  case ACC_NONZERO: return a + (v != 0);
  case ACC_ALL: return v != 0 ? a : 0;
  case ACC_ANY: return v != 0 ? 1 : a;
  case ACC_SQDEV: return a + (v - sh) * (v - sh);
  default: return a + exp(v - sh);        /* ACC_EXPDEV */
  }
}
static __device__ __forceinline__ uint64_t fold(const pass &ps, uint64_t a, uint64_t v, double) {
  return ps.op == ACC_PROD ? a * v : a + v;
}

static __device__ __forceinline__ double combine(int op, double a, double b) {
  switch (op) {
  case ACC_PROD: return a * b;
  case ACC_MAX: case ACC_ABSMAX: return max_nan(a, b);
  case ACC_ALL: return a != 0 && b != 0;
  case ACC_ANY: return a != 0 || b != 0;
  default: return a + b;
  }
}
static __device__ __forceinline__ uint64_t combine(int op, uint64_t a, uint64_t b) {
  return op == ACC_PROD ? a * b : a + b;
}

template <typename A>
static __device__ __forceinline__ A warp_combine(int op, A v) {
  for (int o = EM_CUDA_WARP / 2; o > 0; o /= 2) v = combine(op, v, __shfl_down_sync(0xffffffffu, v, o));
  return v;
}

/* --- (key, position) pairs for max/min: a larger key wins (keys are negated for min);
 * on equal keys the smaller position wins --- */

typedef struct best {
  int64_t key, pos;
} best;

static __device__ __forceinline__ best better(best a, best b) {
  return b.key > a.key || (b.key == a.key && b.pos < a.pos) ? b : a;
}

static __device__ __forceinline__ best warp_best(best v) {
  for (int o = EM_CUDA_WARP / 2; o > 0; o /= 2) {
    best w = {__shfl_down_sync(0xffffffffu, v.key, o), __shfl_down_sync(0xffffffffu, v.pos, o)};
    v = better(v, w);
  }
  return v;
}

/* max: key with NaN highest; min: the negated key with NaN lowest (~k keeps order reversed
 * and maps INT64_MIN to INT64_MAX, so the first NaN still wins). */
static __device__ __forceinline__ int64_t best_key(const char *p, int dt, int want_max) {
  return want_max ? em_sort_key(p, dt, 1) : ~em_sort_key(p, dt, 0);
}

/* --- kernels --- */

/* part[r * nchunk + c] := the fold of chunk c of row r. Warp: 32 lanes per item; else
 * one thread per item, consecutive threads on consecutive rows. */
template <typename A, bool Warp>
__global__ void reduce_part_kernel(pass ps, rows_geo g, const char *x, A *part) {
  int64_t nitems = g.nrows * g.nchunk;
  int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  int64_t step = (int64_t)gridDim.x * blockDim.x;
  int lane = Warp ? threadIdx.x % EM_CUDA_WARP : 0, width = Warp ? EM_CUDA_WARP : 1;
  for (int64_t w = t / width; w < nitems; w += step / width) {   /* uniform across a warp */
    int64_t r = Warp ? w / g.nchunk : w % g.nrows, c = Warp ? w % g.nchunk : w / g.nrows;
    int64_t base = row_base(g, r), lo = c * g.chunk;
    int64_t hi = lo + g.chunk < g.n ? lo + g.chunk : g.n;
    double sh = ps.shift ? ps.shift[g.flat ? 0 : r] * ps.shift_scale : 0;
    A a = identity<A>(ps.op);
    for (int64_t j = lo + lane; j < hi; j += width)
      a = fold(ps, a, load_acc<A>(x + elem_off(g, base, j) * g.es, g.dt), sh);
    if (Warp) a = warp_combine(ps.op, a);
    if (lane == 0) part[r * g.nchunk + c] = a;
  }
}

/* res[r] := the combination of row r's nchunk partial results (a warp per row). */
template <typename A>
__global__ void reduce_final_kernel(int op, const A *part, int64_t nrows, int64_t nchunk, A *res) {
  int lane = threadIdx.x % EM_CUDA_WARP;
  int64_t warps = (int64_t)gridDim.x * blockDim.x / EM_CUDA_WARP;
  for (int64_t r = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / EM_CUDA_WARP; r < nrows; r += warps) {
    A a = identity<A>(op);
    for (int64_t c = lane; c < nchunk; c += EM_CUDA_WARP) a = combine(op, a, part[r * nchunk + c]);
    a = warp_combine(op, a);
    if (lane == 0) res[r] = a;
  }
}

/* out[r] (dtype odt) := the op's value from accumulator acc[r] (and shift, times
 * shift_scale); count: elements per row. */
__global__ void finish_kernel(int op, double arg, const double *acc, const double *shift,
                              int64_t nout, double count, char *out, int odt, int oes) {
  EM_CUDA_LOOP(i, nout) {
    double a = acc[i];
    switch (op) {
    case EM_REDUCE_MEAN: a /= count; break;
    case EM_REDUCE_VAR: a /= count - (arg != 0 ? 0 : 1); break;
    case EM_REDUCE_STD: a = sqrt(a / (count - (arg != 0 ? 0 : 1))); break;
    case EM_REDUCE_NORM:
      if (arg == 2) a = sqrt(a);
      else if (arg != 1 && arg != 0 && !isinf(arg)) a = pow(a, 1 / arg);
      break;
    case EM_REDUCE_LOGSUMEXP: a = isfinite(shift[i]) ? shift[i] + log(a) : shift[i]; break;
    default: break;
    }
    em_store_f64(out + i * oes, odt, a);
  }
}

template <bool Warp>
__global__ void best_part_kernel(rows_geo g, const char *x, int want_max, best *part) {
  int64_t nitems = g.nrows * g.nchunk;
  int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  int64_t step = (int64_t)gridDim.x * blockDim.x;
  int lane = Warp ? threadIdx.x % EM_CUDA_WARP : 0, width = Warp ? EM_CUDA_WARP : 1;
  for (int64_t w = t / width; w < nitems; w += step / width) {
    int64_t r = Warp ? w / g.nchunk : w % g.nrows, c = Warp ? w % g.nchunk : w / g.nrows;
    int64_t base = row_base(g, r), lo = c * g.chunk;
    int64_t hi = lo + g.chunk < g.n ? lo + g.chunk : g.n;
    best b = {INT64_MIN, INT64_MAX};
    for (int64_t j = lo + lane; j < hi; j += width) {
      best e = {best_key(x + elem_off(g, base, j) * g.es, g.dt, want_max), j};
      b = better(b, e);
    }
    if (Warp) b = warp_best(b);
    if (lane == 0) part[r * g.nchunk + c] = b;
  }
}

/* values[r] := row r's best element (x's bits), indices[r] := its position + base
 * (indices may be NULL). A warp per row. */
__global__ void best_final_kernel(rows_geo g, const char *x, const best *part, char *values,
                                  int64_t *indices, int64_t base_index) {
  int lane = threadIdx.x % EM_CUDA_WARP;
  int64_t warps = (int64_t)gridDim.x * blockDim.x / EM_CUDA_WARP;
  for (int64_t r = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / EM_CUDA_WARP; r < g.nrows; r += warps) {
    best b = {INT64_MIN, INT64_MAX};
    for (int64_t c = lane; c < g.nchunk; c += EM_CUDA_WARP) b = better(b, part[r * g.nchunk + c]);
    b = warp_best(b);
    if (lane == 0) {
      em_move_elem(values + r * g.es, x + elem_off(g, row_base(g, r), b.pos) * g.es, g.es);
      if (indices) indices[r] = b.pos + base_index;
    }
  }
}

/* --- scans: out (x's shape) := running sum or product along dim --- */

typedef struct scan_geo {
  em_cuda_iter it;            /* over {out0, x0}: row starts */
  int64_t nrows, n, xs, os;   /* os: out's stride along dim */
  int dt, es, odt, oes;
} scan_geo;

template <typename A>
struct scan_op {
  bool prod;
  __device__ __forceinline__ A operator()(const A &a, const A &b) const { return prod ? a * b : a + b; }
};

static __device__ __forceinline__ void store_acc(char *p, int odt, double v) { em_store_f64(p, odt, v); }
static __device__ __forceinline__ void store_acc(char *p, int, uint64_t v) { *(int64_t *)p = (int64_t)v; }

/* One thread per row, the elements in order (rows along an outer dim, or short rows). */
template <typename A>
__global__ void scan_lane_kernel(bool prod, scan_geo g, const char *x, char *out) {
  EM_CUDA_LOOP(r, g.nrows) {
    int64_t ob = em_cuda_offset(g.it, 0, r), xb = em_cuda_offset(g.it, 1, r);
    A a = prod ? (A)1 : (A)0;
    for (int64_t j = 0; j < g.n; j++) {
      A v = load_acc<A>(x + (xb + j * g.xs) * g.es, g.dt);
      a = prod ? a * v : a + v;
      store_acc(out + (ob + j * g.os) * g.oes, g.odt, a);
    }
  }
}

/* Carries the running total of a row from one tile to the next. */
template <typename A>
struct scan_carry {
  A total;
  bool prod;
  __device__ A operator()(A tile_total) {
    A before = total;
    total = prod ? total * tile_total : total + tile_total;
    return before;
  }
};

/* One block per row, SCAN_BLOCK elements per tile. */
template <typename A>
__global__ void scan_block_kernel(bool prod, scan_geo g, const char *x, char *out) {
  typedef cub::BlockScan<A, SCAN_BLOCK> block_scan;
  __shared__ typename block_scan::TempStorage tmp;
  for (int64_t r = blockIdx.x; r < g.nrows; r += gridDim.x) {
    int64_t ob = em_cuda_offset(g.it, 0, r), xb = em_cuda_offset(g.it, 1, r);
    scan_carry<A> carry = {prod ? (A)1 : (A)0, prod};
    for (int64_t lo = 0; lo < g.n; lo += SCAN_BLOCK) {
      int64_t j = lo + threadIdx.x;
      A v = j < g.n ? load_acc<A>(x + (xb + j * g.xs) * g.es, g.dt) : (prod ? (A)1 : (A)0);
      block_scan(tmp).InclusiveScan(v, v, scan_op<A>{prod}, carry);
      __syncthreads();                      /* tmp is reused by the next tile */
      if (j < g.n) store_acc(out + (ob + j * g.os) * g.oes, g.odt, v);
    }
  }
}

/* --- launchers --- */

/* Rows of x along dim (EM_REDUCE_ALL_DIMS or one output: one flat row); *warp: fold
 * each item with a warp rather than a thread. */
static rows_geo geo_of(const em_tensor *x, const em_tensor *out, int dim, int64_t nout, bool *warp) {
  rows_geo g;
  g.dt = x->dtype;
  g.es = (int)em_dtype_info[x->dtype].size;
  g.flat = dim == EM_REDUCE_ALL_DIMS || nout == 1;
  if (g.flat) {
    const em_tensor *ts[1] = {x};
    em_cuda_iter_init(&g.it, 1, ts);
    g.nrows = 1;
    g.n = em_tensor_numel(x);
    g.xs = 1;
  } else {
    em_tensor x0 = em_cuda_row_starts(x, dim), o0 = em_cuda_row_starts(out, dim);
    const em_tensor *ts[2] = {&o0, &x0};
    em_cuda_iter_init(&g.it, 2, ts);
    g.nrows = nout;
    g.n = x->size[dim];
    g.xs = x->stride[dim];
  }
  int64_t inner = !g.flat && g.it.ndim > 0 ? g.it.stride[1][g.it.ndim - 1] : 0;
  *warp = g.flat || g.nrows < EM_CUDA_WARP || llabs(g.xs) <= llabs(inner);
  int64_t min_chunk = *warp ? MIN_CHUNK_WARP : MIN_CHUNK_LANE;
  int64_t want = (TARGET_ITEMS * (*warp ? 1 : EM_CUDA_WARP) + g.nrows - 1) / g.nrows;
  int64_t most = (g.n + min_chunk - 1) / min_chunk;
  g.nchunk = want < most ? want : most;
  if (g.nchunk < 1) g.nchunk = 1;
  g.chunk = (g.n + g.nchunk - 1) / g.nchunk;
  return g;
}

static unsigned items_grid(const rows_geo &g, bool warp) {
  return em_cuda_grid(g.nrows * g.nchunk * (warp ? EM_CUDA_WARP : 1), EM_CUDA_BLOCK);
}

/* res[0..nrows) := the pass folded over every row (part: nrows * nchunk scratch). */
template <typename A>
static int run_pass(const pass &ps, const rows_geo &g, bool warp, const char *x, A *part, A *res,
                    cudaStream_t stream) {
  if (warp) reduce_part_kernel<A, true><<<items_grid(g, true), EM_CUDA_BLOCK, 0, stream>>>(ps, g, x, part);
  else reduce_part_kernel<A, false><<<items_grid(g, false), EM_CUDA_BLOCK, 0, stream>>>(ps, g, x, part);
  EM_CUDA_CHECK_LAUNCH();
  reduce_final_kernel<A><<<em_cuda_grid(g.nrows * EM_CUDA_WARP, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
      ps.op, part, g.nrows, g.nchunk, res);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* values, indices (indices may be NULL): the first max or min of every row. */
static int run_best(const rows_geo &g, bool warp, const char *x, int want_max, char *values,
                    int64_t *indices, int64_t base, em_device dev, cudaStream_t stream) {
  em_cuda_workspace ws;
  int st = em_cuda_workspace_get(dev, (size_t)(g.nrows * g.nchunk) * sizeof(best), &ws);
  if (st != EM_OK) return st;
  best *part = (best *)ws.ptr;
  if (warp) best_part_kernel<true><<<items_grid(g, true), EM_CUDA_BLOCK, 0, stream>>>(g, x, want_max, part);
  else best_part_kernel<false><<<items_grid(g, false), EM_CUDA_BLOCK, 0, stream>>>(g, x, want_max, part);
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) {
    best_final_kernel<<<em_cuda_grid(g.nrows * EM_CUDA_WARP, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        g, x, part, values, indices, base);
    err = cudaGetLastError();
  }
  em_cuda_workspace_release(&ws);
  return err == cudaSuccess ? EM_OK : em_cuda_fail(err, "best_kernel launch", __FILE__, __LINE__);
}

static int first_pass(em_reduce_op op, double arg) {
  switch (op) {
  case EM_REDUCE_PROD: return ACC_PROD;
  case EM_REDUCE_ALL: return ACC_ALL;
  case EM_REDUCE_ANY: return ACC_ANY;
  case EM_REDUCE_LOGSUMEXP: return ACC_MAX;
  case EM_REDUCE_NORM:
    if (isinf(arg)) return ACC_ABSMAX;
    if (arg == 0) return ACC_NONZERO;
    if (arg == 1) return ACC_ABSSUM;
    if (arg == 2) return ACC_SQSUM;
    return ACC_POWSUM;
  default: return ACC_SUM;
  }
}

/* The double-accumulator ops: one or two passes into acc, then finish into out. */
static int reduce_f64(em_reduce_op op, em_tensor *out, const em_tensor *x, const rows_geo &g,
                      bool warp, double arg, cudaStream_t stream) {
  em_cuda_workspace ws;
  size_t nout = (size_t)g.nrows, npart = (size_t)(g.nrows * g.nchunk);
  int st = em_cuda_workspace_get(out->device, (2 * nout + npart) * sizeof(double), &ws);
  if (st != EM_OK) return st;
  double *acc = (double *)ws.ptr, *shift = acc + nout, *part = shift + nout;
  const char *xp = (const char *)em_cuda_data(x);
  double count = (double)g.n;
  bool two = op == EM_REDUCE_VAR || op == EM_REDUCE_STD || op == EM_REDUCE_LOGSUMEXP;
  pass ps = {first_pass(op, arg), arg, NULL, 1};
  st = run_pass<double>(ps, g, warp, xp, part, two ? shift : acc, stream);
  if (st == EM_OK && two) {
    pass second = {op == EM_REDUCE_LOGSUMEXP ? ACC_EXPDEV : ACC_SQDEV, arg, shift,
                   op == EM_REDUCE_LOGSUMEXP ? 1 : 1 / count};
    st = run_pass<double>(second, g, warp, xp, part, acc, stream);
  }
  if (st == EM_OK) {
    finish_kernel<<<em_cuda_grid((int64_t)nout, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        op, arg, acc, shift, (int64_t)nout, count, (char *)em_cuda_data(out), out->dtype,
        (int)em_dtype_info[out->dtype].size);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) st = em_cuda_fail(err, "finish_kernel launch", __FILE__, __LINE__);
  }
  em_cuda_workspace_release(&ws);
  return st;
}

/* --- entry points --- */

static int cuda_reduce(em_reduce_op op, em_tensor *out, const em_tensor *x, int dim, double arg) {
  int64_t nout = em_tensor_numel(out);
  if (nout == 0) return EM_OK;
  cudaStream_t stream;
  if (em_cuda_use(x->device, &stream) != EM_OK) return EM_ERR;
  bool warp;
  rows_geo g = geo_of(x, out, dim, nout, &warp);
  if (op == EM_REDUCE_MAX || op == EM_REDUCE_MIN)
    return run_best(g, warp, (const char *)em_cuda_data(x), op == EM_REDUCE_MAX,
                    (char *)em_cuda_data(out), NULL, 0, x->device, stream);
  if ((op == EM_REDUCE_SUM || op == EM_REDUCE_PROD) && !em_dtype_info[x->dtype].is_float) {
    em_cuda_workspace ws;               /* exact: uint64 straight into the int64 out */
    int st = em_cuda_workspace_get(x->device, (size_t)(g.nrows * g.nchunk) * sizeof(uint64_t), &ws);
    if (st != EM_OK) return st;
    pass ps = {op == EM_REDUCE_PROD ? ACC_PROD : ACC_SUM, 0, NULL, 1};
    st = run_pass<uint64_t>(ps, g, warp, (const char *)em_cuda_data(x), (uint64_t *)ws.ptr,
                            (uint64_t *)em_cuda_data(out), stream);
    em_cuda_workspace_release(&ws);
    return st;
  }
  return reduce_f64(op, out, x, g, warp, arg, stream);
}

static int cuda_select(em_select_op op, em_tensor *values, em_tensor *indices, const em_tensor *x,
                       int dim, int64_t k, int64_t base) {
  if (op != EM_SELECT_MAX && op != EM_SELECT_MIN)
    return em_cuda_select_sorted(op, values, indices, x, dim, k, base);
  int64_t nout = em_tensor_numel(values);
  if (nout == 0) return EM_OK;
  cudaStream_t stream;
  if (em_cuda_use(x->device, &stream) != EM_OK) return EM_ERR;
  bool warp;
  rows_geo g = geo_of(x, values, dim, nout, &warp);   /* one output: the row is all of x */
  return run_best(g, warp, (const char *)em_cuda_data(x), op == EM_SELECT_MAX,
                  (char *)em_cuda_data(values), (int64_t *)em_cuda_data(indices), base,
                  x->device, stream);
}

static int cuda_scan(em_scan_op op, em_tensor *out, const em_tensor *x, int dim) {
  cudaStream_t stream;
  if (em_cuda_use(x->device, &stream) != EM_OK) return EM_ERR;
  scan_geo g;
  em_tensor x0 = em_cuda_row_starts(x, dim), o0 = em_cuda_row_starts(out, dim);
  const em_tensor *ts[2] = {&o0, &x0};
  em_cuda_iter_init(&g.it, 2, ts);
  g.nrows = g.it.numel;
  g.n = x->size[dim];
  g.xs = x->stride[dim];
  g.os = out->stride[dim];
  g.dt = x->dtype;
  g.es = (int)em_dtype_info[x->dtype].size;
  g.odt = out->dtype;
  g.oes = (int)em_dtype_info[out->dtype].size;
  if (g.nrows == 0 || g.n == 0) return EM_OK;
  bool prod = op == EM_SCAN_CUMPROD, ints = out->dtype == EM_INT64 && !em_dtype_info[x->dtype].is_float;
  int64_t inner = g.it.ndim > 0 ? g.it.stride[1][g.it.ndim - 1] : 0;
  bool rowwise = g.nrows == 1 || llabs(g.xs) <= llabs(inner);
  char *o = (char *)em_cuda_data(out);
  const char *xp = (const char *)em_cuda_data(x);
  if (rowwise && g.n > 2 * EM_CUDA_WARP) {
    unsigned grid = em_cuda_grid(g.nrows, 1);   /* a block per row */
    if (ints) scan_block_kernel<uint64_t><<<grid, SCAN_BLOCK, 0, stream>>>(prod, g, xp, o);
    else scan_block_kernel<double><<<grid, SCAN_BLOCK, 0, stream>>>(prod, g, xp, o);
  } else {
    unsigned grid = em_cuda_grid(g.nrows, EM_CUDA_BLOCK);
    if (ints) scan_lane_kernel<uint64_t><<<grid, EM_CUDA_BLOCK, 0, stream>>>(prod, g, xp, o);
    else scan_lane_kernel<double><<<grid, EM_CUDA_BLOCK, 0, stream>>>(prod, g, xp, o);
  }
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

extern "C" const struct em_reduce_backend em_cuda_reduce = {
  cuda_reduce,
  cuda_select,
  cuda_scan,
  em_cuda_sort,
  em_cuda_topk,
};
