/* CPU reductions and scans. Elements are loaded in blocks of CHUNK into double (or,
 * for exact integer sums and products, int64) buffers with typed loops, and every op
 * works on those buffers, so dtypes cost one conversion loop each, not one kernel each.
 *
 * Geometry: for a reduction along dim, em_iter walks the output together with x
 * narrowed to size 1 along dim; each run is a line of m outputs whose inputs are m
 * "lanes" of n elements at byte stride rs. When the reduced dim is the smaller stride
 * (rows) each lane is folded on its own; otherwise (an outer dim, e.g. sum along dim
 * 0 of a row-major matrix) whole rows of up to CHUNK lanes are streamed into a block
 * of accumulators, so memory is read in order.
 *
 * Summation: blocked. Each block of CHUNK elements is summed in double with 8
 * interleaved accumulators and block sums are added in double; a float32 sum of 1e7
 * values is exact to about 1e-12 relative. Integer sums and products are exact in
 * int64 (wrapping on overflow). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "iter.h"
#include "parallel.h"
#include "reduce.h"

#define CHUNK 256          /* elements per conversion block; lanes per accumulator block */
#define ALL_CHUNK 16384    /* elements per work item when one long run is reduced */

/* What is folded into each accumulator. var, logsumexp and norm are built from these. */
typedef enum acc_op {
  ACC_SUM, ACC_PROD, ACC_MAX, ACC_MIN, ACC_ABSSUM, ACC_SQSUM, ACC_POWSUM, ACC_ABSMAX,
  ACC_NONZERO, ACC_ALL, ACC_ANY, ACC_SQDEV, ACC_EXPDEV,
} acc_op;

/* One pass of an accumulation: the op, its norm order, and an optional per-output
 * shift (the mean for SQDEV, the max for EXPDEV), laid out like the results. */
typedef struct pass {
  acc_op op;
  double p;
  const double *shift;
  int ints;               /* accumulate exactly in int64 (SUM and PROD only) */
} pass;

/* --- typed loads and stores --- */

/* buf[0..n) := n elements of dtype dt at p, byte stride s, as doubles */
static void load_f64(double *buf, const char *p, int64_t s, em_dtype dt, int64_t n) {
  switch (dt) {
  case EM_FLOAT32:
    if (s == 4) for (int64_t i = 0; i < n; i++) buf[i] = ((const float *)p)[i];
    else for (int64_t i = 0; i < n; i++) buf[i] = *(const float *)(p + i * s);
    break;
  case EM_FLOAT64:
    if (s == 8) memcpy(buf, p, (size_t)n * sizeof *buf);
    else for (int64_t i = 0; i < n; i++) buf[i] = *(const double *)(p + i * s);
    break;
  case EM_FLOAT16: for (int64_t i = 0; i < n; i++) buf[i] = em_half_to_float(*(const uint16_t *)(p + i * s)); break;
  case EM_BFLOAT16: for (int64_t i = 0; i < n; i++) buf[i] = em_bf16_to_float(*(const uint16_t *)(p + i * s)); break;
  case EM_INT64: for (int64_t i = 0; i < n; i++) buf[i] = (double)*(const int64_t *)(p + i * s); break;
  case EM_INT32: for (int64_t i = 0; i < n; i++) buf[i] = *(const int32_t *)(p + i * s); break;
  case EM_INT16: for (int64_t i = 0; i < n; i++) buf[i] = *(const int16_t *)(p + i * s); break;
  case EM_INT8: for (int64_t i = 0; i < n; i++) buf[i] = *(const int8_t *)(p + i * s); break;
  default: for (int64_t i = 0; i < n; i++) buf[i] = *(const uint8_t *)(p + i * s); break;
  }
}

/* buf[0..n) := n integer (or bool) elements at p, byte stride s, as int64 */
static void load_i64(int64_t *buf, const char *p, int64_t s, em_dtype dt, int64_t n) {
  switch (dt) {
  case EM_INT64: for (int64_t i = 0; i < n; i++) buf[i] = *(const int64_t *)(p + i * s); break;
  case EM_INT32: for (int64_t i = 0; i < n; i++) buf[i] = *(const int32_t *)(p + i * s); break;
  case EM_INT16: for (int64_t i = 0; i < n; i++) buf[i] = *(const int16_t *)(p + i * s); break;
  case EM_INT8: for (int64_t i = 0; i < n; i++) buf[i] = *(const int8_t *)(p + i * s); break;
  default: for (int64_t i = 0; i < n; i++) buf[i] = *(const uint8_t *)(p + i * s); break;
  }
}

/* n doubles into elements of dtype dt at p, byte stride s */
static void store_f64(char *p, int64_t s, em_dtype dt, const double *buf, int64_t n) {
  switch (dt) {
  case EM_FLOAT32: for (int64_t i = 0; i < n; i++) *(float *)(p + i * s) = (float)buf[i]; break;
  case EM_FLOAT64: for (int64_t i = 0; i < n; i++) *(double *)(p + i * s) = buf[i]; break;
  default: for (int64_t i = 0; i < n; i++) em_dtype_set(dt, p + i * s, buf[i]); break;
  }
}

/* --- folds over one buffer --- */

static double identity(acc_op op) {
  switch (op) {
  case ACC_PROD: case ACC_ALL: return 1;
  case ACC_MAX: return -INFINITY;
  case ACC_MIN: return INFINITY;
  default: return 0;
  }
}

/* NaN-propagating max and min */
static inline double max_nan(double a, double v) { return (v > a || v != v) && a == a ? v : a; }
static inline double min_nan(double a, double v) { return (v < a || v != v) && a == a ? v : a; }

/* Sum of buf[0..n) with 8 interleaved accumulators (vectorizes without reassociation). */
static double block_sum(const double *buf, int64_t n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) s[k] += buf[i + k];
  for (; i < n; i++) s[0] += buf[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* Applies EXPR to every element v of buf, folding into a. */
#define FOLD(EXPR) for (int64_t i = 0; i < n; i++) { double v = buf[i]; a = (EXPR); } break

/* a := fold of a with buf[0..n) under ps (shift: this output's shift) */
static double fold(const pass *ps, double a, double *buf, int64_t n, double shift) {
  double p = ps->p;
  switch (ps->op) {
  case ACC_SUM: return a + block_sum(buf, n);
  case ACC_ABSSUM: for (int64_t i = 0; i < n; i++) buf[i] = fabs(buf[i]); return a + block_sum(buf, n);
  case ACC_SQSUM: for (int64_t i = 0; i < n; i++) buf[i] *= buf[i]; return a + block_sum(buf, n);
  case ACC_SQDEV:
    for (int64_t i = 0; i < n; i++) buf[i] = (buf[i] - shift) * (buf[i] - shift);
    return a + block_sum(buf, n);
  case ACC_EXPDEV: for (int64_t i = 0; i < n; i++) buf[i] = exp(buf[i] - shift); return a + block_sum(buf, n);
  case ACC_POWSUM: for (int64_t i = 0; i < n; i++) buf[i] = pow(fabs(buf[i]), p); return a + block_sum(buf, n);
  case ACC_PROD: FOLD(a * v);
  case ACC_MAX: FOLD(max_nan(a, v));
  case ACC_MIN: FOLD(min_nan(a, v));
  case ACC_ABSMAX: FOLD(max_nan(a, fabs(v)));
  case ACC_NONZERO: FOLD(a + (v != 0));
  case ACC_ALL: FOLD(v != 0 ? a : 0);
  case ACC_ANY: FOLD(v != 0 ? 1 : a);
  }
  return a;
}

/* Applies EXPR to every lane: acc[i] := EXPR(a = acc[i], v = buf[i], sh = shift[i]). */
#define LANES(EXPR)                                                   \
  for (int64_t i = 0; i < m; i++) {                                   \
    double a = acc[i], v = buf[i], sh = shift ? shift[i] : 0;         \
    (void)sh;                                                         \
    acc[i] = (EXPR);                                                  \
  }                                                                   \
  break

/* acc[0..m) := fold of each lane with buf[0..m) (one row of lanes) */
static void fold_lanes(const pass *ps, double *acc, const double *buf, int64_t m,
                       const double *shift) {
  double p = ps->p;
  switch (ps->op) {
  case ACC_SUM: LANES(a + v);
  case ACC_ABSSUM: LANES(a + fabs(v));
  case ACC_SQSUM: LANES(a + v * v);
  case ACC_SQDEV: LANES(a + (v - sh) * (v - sh));
  case ACC_EXPDEV: LANES(a + exp(v - sh));
  case ACC_POWSUM: LANES(a + pow(fabs(v), p));
  case ACC_PROD: LANES(a * v);
  case ACC_MAX: LANES(max_nan(a, v));
  case ACC_MIN: LANES(min_nan(a, v));
  case ACC_ABSMAX: LANES(max_nan(a, fabs(v)));
  case ACC_NONZERO: LANES(a + (v != 0));
  case ACC_ALL: LANES(v != 0 ? a : 0);
  case ACC_ANY: LANES(v != 0 ? 1 : a);
  }
}

/* a := a combined with a partial result b of the same pass */
static double combine(acc_op op, double a, double b) {
  switch (op) {
  case ACC_PROD: return a * b;
  case ACC_MAX: case ACC_ABSMAX: return max_nan(a, b);
  case ACC_MIN: return min_nan(a, b);
  case ACC_ALL: return a != 0 && b != 0;
  case ACC_ANY: return a != 0 || b != 0;
  default: return a + b;
  }
}

/* --- one lane, or a block of lanes --- */

/* Fold of n elements at p (byte stride s) into one accumulator. */
static double lane_f64(const pass *ps, const char *p, int64_t s, em_dtype dt, int64_t n,
                       double shift) {
  double buf[CHUNK], a = identity(ps->op);
  for (int64_t j = 0; j < n; j += CHUNK) {
    int64_t c = n - j < CHUNK ? n - j : CHUNK;
    load_f64(buf, p + j * s, s, dt, c);
    a = fold(ps, a, buf, c, shift);
  }
  return a;
}

static int64_t lane_i64(const pass *ps, const char *p, int64_t s, em_dtype dt, int64_t n) {
  int64_t buf[CHUNK];
  uint64_t a = ps->op == ACC_PROD ? 1 : 0;   /* unsigned: overflow wraps */
  for (int64_t j = 0; j < n; j += CHUNK) {
    int64_t c = n - j < CHUNK ? n - j : CHUNK;
    load_i64(buf, p + j * s, s, dt, c);
    if (ps->op == ACC_PROD) for (int64_t i = 0; i < c; i++) a *= (uint64_t)buf[i];
    else for (int64_t i = 0; i < c; i++) a += (uint64_t)buf[i];
  }
  return (int64_t)a;
}

/* Folds m lanes (lane stride s, row stride rs, n rows) starting at p into m results at
 * r (byte stride rstride; int64 when ps->ints, else double). */
static void lanes_block(const pass *ps, char *r, int64_t rstride, const char *p, int64_t s,
                        int64_t rs, int64_t n, em_dtype dt, int64_t m, const double *shift,
                        int rowwise) {
  if (rowwise) {
    for (int64_t i = 0; i < m; i++) {
      if (ps->ints) *(int64_t *)(r + i * rstride) = lane_i64(ps, p + i * s, rs, dt, n);
      else *(double *)(r + i * rstride) = lane_f64(ps, p + i * s, rs, dt, n,
                                                   shift ? *(const double *)((const char *)shift + i * rstride) : 0);
    }
    return;
  }
  if (ps->ints) {
    int64_t buf[CHUNK];
    uint64_t acc[CHUNK];
    for (int64_t i = 0; i < m; i++) acc[i] = ps->op == ACC_PROD ? 1 : 0;
    for (int64_t j = 0; j < n; j++) {
      load_i64(buf, p + j * rs, s, dt, m);
      if (ps->op == ACC_PROD) for (int64_t i = 0; i < m; i++) acc[i] *= (uint64_t)buf[i];
      else for (int64_t i = 0; i < m; i++) acc[i] += (uint64_t)buf[i];
    }
    for (int64_t i = 0; i < m; i++) *(int64_t *)(r + i * rstride) = (int64_t)acc[i];
    return;
  }
  double buf[CHUNK], acc[CHUNK], sh[CHUNK];
  if (shift)
    for (int64_t i = 0; i < m; i++) sh[i] = *(const double *)((const char *)shift + i * rstride);
  for (int64_t i = 0; i < m; i++) acc[i] = identity(ps->op);
  for (int64_t j = 0; j < n; j++) {
    load_f64(buf, p + j * rs, s, dt, m);
    fold_lanes(ps, acc, buf, m, shift ? sh : NULL);
  }
  for (int64_t i = 0; i < m; i++) *(double *)(r + i * rstride) = acc[i];
}

/* --- drivers --- */

/* A contiguous host tensor over caller memory (no reference counting: s lives on the
 * caller's stack and outlives t's use). */
static void wrap(em_tensor *t, em_storage *s, void *data, em_dtype dt, const em_tensor *like) {
  memset(s, 0, sizeof *s);
  s->data = data;
  s->refcount = 1;
  em_tensor_init(t, NULL, dt, (em_device){EM_CPU, 0});
  t->storage = s;
  t->ndim = like->ndim;
  int64_t stride = 1;
  for (int i = like->ndim - 1; i >= 0; i--) {
    t->size[i] = like->size[i];
    t->stride[i] = stride;
    stride *= like->size[i] > 0 ? like->size[i] : 1;
  }
}

/* *res (int64 when ps->ints, else double) := the pass over all elements of x.
 * Partial results of fixed-size work items are combined in order, so the result does
 * not depend on the number of threads. */
typedef struct all_job {
  const pass *ps;
  em_iter it;
  em_dtype dt;
  int one_run;
  double shift;
  double *part;
} all_job;

/* Work item w of reduce_all: a chunk of the one run, or run w. */
static void all_item(void *ctx, int64_t w) {
  const all_job *j = ctx;
  char *p[EM_ITER_MAX];
  int64_t n = j->it.inner;
  if (j->one_run) {
    em_iter_run(&j->it, 0, p);
    p[0] += w * ALL_CHUNK * j->it.inner_stride[0];
    n = j->it.inner - w * ALL_CHUNK < ALL_CHUNK ? j->it.inner - w * ALL_CHUNK : ALL_CHUNK;
  } else {
    em_iter_run(&j->it, w, p);
  }
  if (j->ps->ints) {
    int64_t v = lane_i64(j->ps, p[0], j->it.inner_stride[0], j->dt, n);
    memcpy(&j->part[w], &v, sizeof v);
  } else {
    j->part[w] = lane_f64(j->ps, p[0], j->it.inner_stride[0], j->dt, n, j->shift);
  }
}

static int reduce_all(const pass *ps, const em_tensor *x, void *res, double shift) {
  all_job j = {.ps = ps, .dt = x->dtype, .shift = shift};
  em_iter_init(&j.it, 1, (const em_tensor *[]){x});
  j.one_run = j.it.nruns == 1 && j.it.inner > ALL_CHUNK;
  int64_t nitems = j.one_run ? (j.it.inner + ALL_CHUNK - 1) / ALL_CHUNK : j.it.nruns;
  int64_t total = j.it.nruns * j.it.inner;
  double one, *part = nitems <= 1 ? &one : malloc((size_t)nitems * sizeof *part);
  if (!part) return em_error_nomem("reduce", (unsigned long long)nitems * sizeof *part);
  j.part = part;
  em_parallel_items(nitems, total >= EM_PARALLEL_GRAIN, all_item, &j);
  if (ps->ints) {
    uint64_t a = ps->op == ACC_PROD ? 1 : 0;
    for (int64_t w = 0; w < nitems; w++) {
      int64_t v;
      memcpy(&v, &part[w], sizeof v);
      a = ps->op == ACC_PROD ? a * (uint64_t)v : a + (uint64_t)v;
    }
    *(int64_t *)res = (int64_t)a;
  } else {
    double a = identity(ps->op);
    for (int64_t w = 0; w < nitems; w++) a = combine(ps->op, a, part[w]);
    *(double *)res = a;
  }
  if (part != &one) free(part);
  return EM_OK;
}

/* Blocks of CHUNK lanes in each run of it. */
static int64_t nblocks_of(const em_iter *it) { return (it->inner + CHUNK - 1) / CHUNK; }

/* Work item w of a pass in blocks: run w / nblocks, from lane *lo, *m lanes; p as
 * em_iter_run sets it for that run. */
static void block_of(const em_iter *it, int64_t nblocks, int64_t w, char **p, int64_t *lo,
                     int64_t *m) {
  *lo = (w % nblocks) * CHUNK;
  *m = it->inner - *lo < CHUNK ? it->inner - *lo : CHUNK;
  em_iter_run(it, w / nblocks, p);
}

typedef struct dim_job {
  const pass *ps;
  const em_iter *it;
  void *res;
  int64_t s, rs, n;          /* x's lane stride, reduced stride (bytes), reduced length */
  em_dtype dt;
  int64_t nblocks;
  int rowwise;
} dim_job;

/* Work item w of reduce_dim: block w % nblocks of run w / nblocks. */
static void dim_item(void *ctx, int64_t w) {
  const dim_job *j = ctx;
  char *p[EM_ITER_MAX];
  int64_t lo, m;
  block_of(j->it, j->nblocks, w, p, &lo, &m);
  char *rp = p[0] + lo * j->it->inner_stride[0];
  const double *sh = j->ps->shift ? (const double *)((const char *)j->ps->shift + (rp - (char *)j->res)) : NULL;
  lanes_block(j->ps, rp, j->it->inner_stride[0], p[1] + lo * j->s, j->s, j->rs, j->n, j->dt, m, sh,
              j->rowwise);
}

/* res (contiguous, x's shape with size[dim] = 1; int64 when ps->ints, else double)
 * := the pass along dim of x. */
static int reduce_dim(const pass *ps, const em_tensor *x, int dim, void *res) {
  em_tensor x0 = *x, r;
  em_storage rs_storage;
  x0.size[dim] = 1;
  wrap(&r, &rs_storage, res, ps->ints ? EM_INT64 : EM_FLOAT64, &x0);
  if (em_tensor_numel(&x0) == 1)
    return reduce_all(ps, x, res, ps->shift ? ps->shift[0] : 0);
  em_iter it;
  em_iter_init(&it, 2, (const em_tensor *[]){&r, &x0});
  int64_t es = (int64_t)em_dtype_info[x->dtype].size;
  int64_t n = x->size[dim], rs = x->stride[dim] * es, s = it.inner_stride[1];
  dim_job j = {ps, &it, res, s, rs, n, x->dtype, nblocks_of(&it), llabs(rs) <= llabs(s) || it.inner == 1};
  int64_t nitems = it.nruns * j.nblocks, total = it.nruns * it.inner * n;
  em_parallel_items(nitems, total >= EM_PARALLEL_GRAIN, dim_item, &j);
  return EM_OK;
}

/* Runs the pass along dim, or over everything when dim is EM_REDUCE_ALL_DIMS. */
static int run_pass(const pass *ps, const em_tensor *x, int dim, void *res) {
  if (dim == EM_REDUCE_ALL_DIMS) return reduce_all(ps, x, res, ps->shift ? ps->shift[0] : 0);
  return reduce_dim(ps, x, dim, res);
}

/* --- ops --- */

/* MAX / MIN values: along a dim through em_cpu_select; over all of x on a flat view. */
static int reduce_maxmin(em_reduce_op op, em_tensor *out, const em_tensor *x, int dim) {
  em_select_op sop = op == EM_REDUCE_MAX ? EM_SELECT_MAX : EM_SELECT_MIN;
  em_tensor flat, ix, v;
  em_tensor_init(&flat, x->ctx, x->dtype, x->device);
  em_tensor_init(&ix, x->ctx, EM_INT64, x->device);
  em_tensor_init(&v, NULL, out->dtype, out->device);
  int st = EM_OK;
  const em_tensor *src = x;
  if (dim == EM_REDUCE_ALL_DIMS) {
    int64_t n = em_tensor_numel(x);
    st = em_tensor_contiguous(&flat, x);
    if (st == EM_OK) st = em_tensor_view(&flat, &flat, 1, &n);
    src = &flat;
    dim = 0;
  }
  int64_t size[EM_MAX_DIMS];
  for (int i = 0; i < src->ndim; i++) size[i] = i == dim ? 1 : src->size[i];
  if (st == EM_OK) st = em_tensor_empty(&ix, x->ctx, EM_INT64, x->device, src->ndim, size);
  if (st == EM_OK) {   /* v: out's memory in src's kept shape */
    em_tensor_set(&v, out);
    st = em_tensor_view(&v, &v, src->ndim, size);
  }
  if (st == EM_OK) st = em_cpu_select(sop, &v, &ix, src, dim, 0, 0);
  em_tensor_release(&v);
  em_tensor_release(&ix);
  em_tensor_release(&flat);
  return st;
}

/* res[i] := the op's final value from accumulators acc (and shift), for n outputs;
 * count: elements per output. */
static void finish(em_reduce_op op, double arg, double *acc, const double *shift, int64_t nout,
                   int64_t count) {
  for (int64_t i = 0; i < nout; i++) {
    double a = acc[i];
    switch (op) {
    case EM_REDUCE_MEAN: a /= (double)count; break;
    case EM_REDUCE_VAR: a /= (double)count - (arg != 0 ? 0 : 1); break;
    case EM_REDUCE_STD: a = sqrt(a / ((double)count - (arg != 0 ? 0 : 1))); break;
    case EM_REDUCE_NORM:
      if (arg == 2) a = sqrt(a);
      else if (arg != 1 && arg != 0 && !isinf(arg)) a = pow(a, 1 / arg);
      break;
    case EM_REDUCE_LOGSUMEXP: a = isfinite(shift[i]) ? shift[i] + log(a) : shift[i]; break;
    default: break;
    }
    acc[i] = a;
  }
}

static acc_op first_pass(em_reduce_op op, double arg) {
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
  default: return ACC_SUM;   /* sum, mean; var and std start with the mean */
  }
}

int em_cpu_reduce_op(em_reduce_op op, em_tensor *out, const em_tensor *x, int dim, double arg) {
  if (op == EM_REDUCE_MAX || op == EM_REDUCE_MIN) return reduce_maxmin(op, out, x, dim);
  int64_t nout = em_tensor_numel(out);
  int64_t count = dim == EM_REDUCE_ALL_DIMS ? em_tensor_numel(x) : x->size[dim];
  int ints = (op == EM_REDUCE_SUM || op == EM_REDUCE_PROD) && !em_dtype_info[x->dtype].is_float;
  pass ps = {first_pass(op, arg), arg, NULL, ints};
  if (ints) return run_pass(&ps, x, dim, em_tensor_data(out));   /* out is int64 */
  double *acc = malloc((size_t)nout * 2 * sizeof *acc);
  if (!acc) return em_error_nomem(em_reduce_op_name[op], (unsigned long long)nout * 2 * sizeof *acc);
  double *shift = acc + nout;
  int st = run_pass(&ps, x, dim, acc);
  if (st == EM_OK && (op == EM_REDUCE_VAR || op == EM_REDUCE_STD || op == EM_REDUCE_LOGSUMEXP)) {
    /* second pass: squared deviations from the mean, or exp(x - max) */
    for (int64_t i = 0; i < nout; i++)
      shift[i] = op == EM_REDUCE_LOGSUMEXP ? acc[i] : acc[i] / (double)count;
    pass second = {op == EM_REDUCE_LOGSUMEXP ? ACC_EXPDEV : ACC_SQDEV, arg, shift, 0};
    st = run_pass(&second, x, dim, acc);
  }
  if (st == EM_OK) {
    finish(op, arg, acc, shift, nout, count);
    store_f64(em_tensor_data(out), (int64_t)em_dtype_info[out->dtype].size, out->dtype, acc, nout);
  }
  free(acc);
  return st;
}

/* --- scans --- */

/* Running sum / product of m lanes (lane stride s, row stride rs, n rows) at p into
 * the lanes at o (lane stride os, row stride ors) of dtype odt. */
static void scan_lanes(em_scan_op op, char *o, int64_t os, int64_t ors, em_dtype odt, const char *p,
                       int64_t s, int64_t rs, em_dtype dt, int64_t n, int64_t m) {
  int prod = op == EM_SCAN_CUMPROD;
  if (odt == EM_INT64) {   /* integer input: exact, wrapping */
    int64_t buf[CHUNK];
    uint64_t acc[CHUNK];
    for (int64_t i = 0; i < m; i++) acc[i] = prod;
    for (int64_t j = 0; j < n; j++) {
      load_i64(buf, p + j * rs, s, dt, m);
      for (int64_t i = 0; i < m; i++) {
        acc[i] = prod ? acc[i] * (uint64_t)buf[i] : acc[i] + (uint64_t)buf[i];
        *(int64_t *)(o + j * ors + i * os) = (int64_t)acc[i];
      }
    }
    return;
  }
  double buf[CHUNK], acc[CHUNK];
  for (int64_t i = 0; i < m; i++) acc[i] = prod;
  for (int64_t j = 0; j < n; j++) {
    load_f64(buf, p + j * rs, s, dt, m);
    if (prod) for (int64_t i = 0; i < m; i++) buf[i] = acc[i] = acc[i] * buf[i];
    else for (int64_t i = 0; i < m; i++) buf[i] = acc[i] = acc[i] + buf[i];
    store_f64(o + j * ors, os, odt, buf, m);
  }
}

/* One lane of n elements, run along its own (contiguous or smaller) stride. */
static void scan_row(em_scan_op op, char *o, int64_t ors, em_dtype odt, const char *p, int64_t rs,
                     em_dtype dt, int64_t n) {
  int prod = op == EM_SCAN_CUMPROD;
  if (odt == EM_INT64) {
    int64_t buf[CHUNK];
    uint64_t a = prod;
    for (int64_t j = 0; j < n; j += CHUNK) {
      int64_t c = n - j < CHUNK ? n - j : CHUNK;
      load_i64(buf, p + j * rs, rs, dt, c);
      for (int64_t i = 0; i < c; i++) {
        a = prod ? a * (uint64_t)buf[i] : a + (uint64_t)buf[i];
        *(int64_t *)(o + (j + i) * ors) = (int64_t)a;
      }
    }
    return;
  }
  double buf[CHUNK], a = prod;
  for (int64_t j = 0; j < n; j += CHUNK) {
    int64_t c = n - j < CHUNK ? n - j : CHUNK;
    load_f64(buf, p + j * rs, rs, dt, c);
    if (prod) for (int64_t i = 0; i < c; i++) buf[i] = a = a * buf[i];
    else for (int64_t i = 0; i < c; i++) buf[i] = a = a + buf[i];
    store_f64(o + j * ors, ors, odt, buf, c);
  }
}

typedef struct scan_job {
  em_scan_op op;
  const em_iter *it;
  em_dtype odt, xdt;
  int64_t s, os, rs, ors, n;   /* lane strides of x and out, scan strides (bytes), length */
  int64_t nblocks;
  int rowwise;
} scan_job;

/* Work item w of em_cpu_scan: block w % nblocks of run w / nblocks. */
static void scan_item(void *ctx, int64_t w) {
  const scan_job *j = ctx;
  char *p[EM_ITER_MAX];
  int64_t lo, m;
  block_of(j->it, j->nblocks, w, p, &lo, &m);
  char *o = p[0] + lo * j->os;
  const char *xp = p[1] + lo * j->s;
  if (j->rowwise)
    for (int64_t i = 0; i < m; i++)
      scan_row(j->op, o + i * j->os, j->ors, j->odt, xp + i * j->s, j->rs, j->xdt, j->n);
  else
    scan_lanes(j->op, o, j->os, j->ors, j->odt, xp, j->s, j->rs, j->xdt, j->n, m);
}

int em_cpu_scan(em_scan_op op, em_tensor *out, const em_tensor *x, int dim) {
  em_tensor x0 = *x, o0 = *out;
  x0.size[dim] = 1;
  o0.size[dim] = 1;
  em_iter it;
  em_iter_init(&it, 2, (const em_tensor *[]){&o0, &x0});
  int64_t es = (int64_t)em_dtype_info[x->dtype].size, oes = (int64_t)em_dtype_info[out->dtype].size;
  int64_t n = x->size[dim], rs = x->stride[dim] * es, ors = out->stride[dim] * oes;
  int64_t s = it.inner_stride[1], os = it.inner_stride[0];
  scan_job j = {op, &it, out->dtype, x->dtype, s, os, rs, ors, n, nblocks_of(&it),
                llabs(rs) <= llabs(s) || it.inner == 1};
  int64_t nitems = it.nruns * j.nblocks, total = it.nruns * it.inner * n;
  em_parallel_items(nitems, total >= EM_PARALLEL_GRAIN, scan_item, &j);
  return EM_OK;
}

const struct em_reduce_backend em_cpu_reduce = {
  .reduce = em_cpu_reduce_op,
  .select = em_cpu_select,
  .scan = em_cpu_scan,
  .sort = em_cpu_sort,
  .topk = em_cpu_topk,
};
