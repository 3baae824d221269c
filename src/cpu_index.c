/* CPU kernels of the index family. The index ops (indexSelect/Copy/Add/Fill, gather,
 * scatter) are one strided walk, `remap`, over a domain shape; a contiguous-rows fast
 * path (memcpy per row) serves indexSelect and indexCopy. Mask ops walk with em_iter,
 * which keeps row-major order. Indices arrive validated (in range) and 0-based. */
#include <string.h>

#include "cpu.h"
#include "index.h"
#include "iter.h"
#include "parallel.h"

/* --- element helpers --- */

static inline int64_t load_index(const char *p, em_dtype dt) {
  if (dt == EM_INT32) { int32_t v; memcpy(&v, p, 4); return v; }
  int64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline void move_elem(char *d, const char *s, size_t es) {
  switch (es) {
  case 1: *d = *s; break;
  case 2: memcpy(d, s, 2); break;
  case 4: memcpy(d, s, 4); break;
  default: memcpy(d, s, 8); break;
  }
}

/* *d += *s in dtype dt (integers wrap; bool is logical or) */
#define ADD_AS(T, W) do { T x, y; memcpy(&x, d, sizeof x); memcpy(&y, s, sizeof y);   \
                          x = (T)((W)x + (W)y); memcpy(d, &x, sizeof x); } while (0)
static void add_elem(em_dtype dt, char *d, const char *s) {
  switch (dt) {
  case EM_FLOAT32: ADD_AS(float, float); break;
  case EM_FLOAT64: ADD_AS(double, double); break;
  case EM_INT64: ADD_AS(int64_t, uint64_t); break;
  case EM_INT32: ADD_AS(int32_t, int64_t); break;
  case EM_INT16: ADD_AS(int16_t, int32_t); break;
  case EM_INT8: ADD_AS(int8_t, int32_t); break;
  case EM_UINT8: ADD_AS(uint8_t, uint32_t); break;
  case EM_BOOL: *d = (char)(*d || *s); break;
  default: em_dtype_set(dt, d, em_dtype_get(dt, d) + em_dtype_get(dt, s)); break;  /* half types */
  }
}
#undef ADD_AS

static int is_nonzero(em_dtype dt, const char *p) {
  switch (dt) {
  case EM_FLOAT32: { float v; memcpy(&v, p, 4); return v != 0; }
  case EM_FLOAT64: { double v; memcpy(&v, p, 8); return v != 0; }
  case EM_FLOAT16:
  case EM_BFLOAT16: { uint16_t v; memcpy(&v, p, 2); return (v & 0x7fff) != 0; }  /* -0 is zero */
  default: {
    size_t es = em_dtype_info[dt].size;
    for (size_t i = 0; i < es; i++) if (p[i]) return 1;
    return 0;
  }
  }
}

/* --- index conversion --- */

static int cpu_find_bad_index(const em_tensor *idx, int64_t limit, int64_t *bad) {
  em_iter it;
  em_iter_init(&it, 1, (const em_tensor *[]){idx});
  for (int64_t r = 0; r < it.nruns; r++) {
    char *p[EM_ITER_MAX];
    em_iter_run(&it, r, p);
    for (int64_t i = 0; i < it.inner; i++) {
      int64_t k = load_index(p[0] + i * it.inner_stride[0], idx->dtype);
      if (k < 0 || k >= limit) { *bad = k; return 1; }
    }
  }
  return 0;
}

static int cpu_shift_index(em_tensor *out, const em_tensor *idx, int64_t delta) {
  em_iter it;
  em_iter_init(&it, 2, (const em_tensor *[]){out, idx});
  for (int64_t r = 0; r < it.nruns; r++) {
    char *p[EM_ITER_MAX];
    em_iter_run(&it, r, p);
    for (int64_t i = 0; i < it.inner; i++) {
      int64_t k = load_index(p[1] + i * it.inner_stride[1], idx->dtype) + delta;
      memcpy(p[0] + i * it.inner_stride[0], &k, 8);
    }
  }
  return EM_OK;
}

/* --- the remap walk --- */

typedef enum { REMAP_READ, REMAP_WRITE, REMAP_ADD, REMAP_FILL } remap_op;

/* For every position p of the domain (ndim, size): k = index at p (strides si), and
 * B = the element of b at p with coordinate `dim` replaced by k. Then
 *   READ: a[p] = B   WRITE: B = a[p]   ADD: B += a[p]   FILL: B = value.
 * Strides are in bytes; sb[dim] is 0 and bd is b's stride along dim. */
typedef struct remap {
  remap_op op;
  int ndim;
  int64_t size[EM_MAX_DIMS];
  int64_t sa[EM_MAX_DIMS], sb[EM_MAX_DIMS], si[EM_MAX_DIMS];
  int64_t bd;
  char *a, *b;
  const char *ix;
  em_dtype dt, idt;
  unsigned char value[8];          /* REMAP_FILL: the value in dt */
} remap;

static void remap_init(remap *m, remap_op op, int ndim, const int64_t *size, const em_tensor *a,
                       const em_tensor *b, int dim, const em_tensor *idx, int idx_is_vector) {
  int64_t es = (int64_t)em_dtype_info[b->dtype].size, ies = (int64_t)em_dtype_info[idx->dtype].size;
  memset(m, 0, sizeof *m);
  m->op = op;
  m->ndim = ndim;
  m->dt = b->dtype;
  m->idt = idx->dtype;
  m->a = a ? em_tensor_data(a) : NULL;
  m->b = em_tensor_data(b);
  m->ix = em_tensor_data(idx);
  m->bd = b->stride[dim] * es;
  for (int d = 0; d < ndim; d++) {
    m->size[d] = size[d];
    m->sa[d] = a ? a->stride[d] * es : 0;
    m->sb[d] = d == dim ? 0 : b->stride[d] * es;
    if (idx_is_vector) m->si[d] = d == dim ? idx->stride[0] * ies : 0;
    else m->si[d] = idx->stride[d] * ies;
  }
}

/* One run: the last domain dim at outer position r. */
static void remap_run(const remap *m, int64_t r) {
  int last = m->ndim - 1;
  char *a = m->a, *b = m->b;
  const char *ix = m->ix;
  for (int d = last - 1; d >= 0; d--) {
    int64_t i = r % m->size[d];
    r /= m->size[d];
    a += i * m->sa[d];
    b += i * m->sb[d];
    ix += i * m->si[d];
  }
  size_t es = em_dtype_info[m->dt].size;
  int64_t n = m->size[last], sa = m->sa[last], sb = m->sb[last], si = m->si[last];
  for (int64_t i = 0; i < n; i++) {
    char *pb = b + i * sb + load_index(ix + i * si, m->idt) * m->bd;
    switch (m->op) {
    case REMAP_READ: move_elem(a + i * sa, pb, es); break;
    case REMAP_WRITE: move_elem(pb, a + i * sa, es); break;
    case REMAP_ADD: add_elem(m->dt, pb, a + i * sa); break;
    case REMAP_FILL: move_elem(pb, (const char *)m->value, es); break;
    }
  }
}

static void remap_item(void *ctx, int64_t r) { remap_run(ctx, r); }

/* Runs the walk; reads (distinct destinations) share the runs out between threads,
 * writes stay in order so that the last of duplicate indices wins. */
static void remap_walk(const remap *m) {
  int64_t nruns = 1;
  for (int d = 0; d < m->ndim - 1; d++) nruns *= m->size[d];
  int64_t total = nruns * m->size[m->ndim - 1];
  em_parallel_items(nruns, m->op == REMAP_READ && total >= 4 * EM_PARALLEL_GRAIN, remap_item,
                    (void *)m);
}

/* --- contiguous rows: t viewed as (outer, size[dim], inner) --- */

static void rows_of(const em_tensor *t, int dim, int64_t *outer, int64_t *inner) {
  *outer = 1;
  *inner = 1;
  for (int d = 0; d < dim; d++) *outer *= t->size[d];
  for (int d = dim + 1; d < t->ndim; d++) *inner *= t->size[d];
}

/* --- the 1-D index ops --- */

/* index_select of contiguous rows: out row r := src row (r / n) * S + idx[r % n] */
typedef struct rows_job {
  char *o;
  const char *s, *ix;
  int64_t is;                /* idx's stride in bytes */
  em_dtype idt;
  int64_t n, S;
  size_t row;                /* bytes per row */
} rows_job;

static void select_row(void *ctx, int64_t r) {
  const rows_job *j = ctx;
  int64_t q = r / j->n, k = load_index(j->ix + (r % j->n) * j->is, j->idt);
  memcpy(j->o + (size_t)r * j->row, j->s + (size_t)(q * j->S + k) * j->row, j->row);
}

static int cpu_index_select(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx) {
  int64_t n = out->size[dim];
  if (em_tensor_is_contiguous(out) && em_tensor_is_contiguous(src)) {
    /* out (outer, n, inner), src (outer, S, inner): whole rows by memcpy */
    int64_t outer, inner, S = src->size[dim];
    size_t row = 0;
    rows_of(src, dim, &outer, &inner);
    row = (size_t)inner * em_dtype_info[src->dtype].size;
    rows_job j = {em_tensor_data(out), em_tensor_data(src), em_tensor_data(idx),
                  idx->stride[0] * (int64_t)em_dtype_info[idx->dtype].size, idx->dtype, n, S, row};
    em_parallel_items(outer * n, outer * n * inner >= 4 * EM_PARALLEL_GRAIN, select_row, &j);
    return EM_OK;
  }
  remap m;
  remap_init(&m, REMAP_READ, out->ndim, out->size, out, src, dim, idx, 1);
  remap_walk(&m);
  return EM_OK;
}

static int cpu_index_copy(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src,
                          int accumulate) {
  if (!accumulate && em_tensor_is_contiguous(dst) && em_tensor_is_contiguous(src)) {
    int64_t outer, inner, S = dst->size[dim], n = src->size[dim];
    rows_of(dst, dim, &outer, &inner);
    size_t row = (size_t)inner * em_dtype_info[dst->dtype].size;
    char *d = em_tensor_data(dst);
    const char *s = em_tensor_data(src), *ix = em_tensor_data(idx);
    int64_t is = idx->stride[0] * (int64_t)em_dtype_info[idx->dtype].size;
    for (int64_t r = 0; r < outer * n; r++) {
      int64_t q = r / n, j = r % n, k = load_index(ix + j * is, idx->dtype);
      memmove(d + (size_t)(q * S + k) * row, s + (size_t)r * row, row);
    }
    return EM_OK;
  }
  remap m;
  remap_init(&m, accumulate ? REMAP_ADD : REMAP_WRITE, src->ndim, src->size, src, dst, dim, idx, 1);
  remap_walk(&m);
  return EM_OK;
}

static int cpu_index_fill(em_tensor *dst, int dim, const em_tensor *idx, double value) {
  int64_t size[EM_MAX_DIMS];
  memcpy(size, dst->size, sizeof size);
  size[dim] = idx->size[0];
  remap m;
  remap_init(&m, REMAP_FILL, dst->ndim, size, NULL, dst, dim, idx, 1);
  em_dtype_set(dst->dtype, m.value, value);
  remap_walk(&m);
  return EM_OK;
}

/* --- gather / scatter: the domain is the index's shape --- */

static int cpu_gather(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx) {
  remap m;
  remap_init(&m, REMAP_READ, idx->ndim, idx->size, out, src, dim, idx, 0);
  remap_walk(&m);
  return EM_OK;
}

static int cpu_scatter(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src,
                       int accumulate) {
  remap m;
  remap_init(&m, accumulate ? REMAP_ADD : REMAP_WRITE, idx->ndim, idx->size, src, dst, dim, idx, 0);
  remap_walk(&m);
  return EM_OK;
}

static int cpu_scatter_fill(em_tensor *dst, int dim, const em_tensor *idx, double value) {
  remap m;
  remap_init(&m, REMAP_FILL, idx->ndim, idx->size, NULL, dst, dim, idx, 0);
  em_dtype_set(dst->dtype, m.value, value);
  remap_walk(&m);
  return EM_OK;
}

/* --- masks and non-zeros --- */

/* The non-zero elements of run r of it. */
static int64_t count_run(const em_iter *it, int64_t r, em_dtype dt) {
  char *p[EM_ITER_MAX];
  int64_t count = 0;
  em_iter_run(it, r, p);
  for (int64_t i = 0; i < it->inner; i++) count += is_nonzero(dt, p[0] + i * it->inner_stride[0]);
  return count;
}

static int cpu_count_nonzero(const em_tensor *t, int64_t *n) {
  em_iter it;
  em_iter_init(&it, 1, (const em_tensor *[]){t});
  int64_t count = 0;
  if (it.nruns * it.inner >= 4 * EM_PARALLEL_GRAIN && it.nruns > 1) {   /* plain if: parallel.h */
    #pragma omp parallel for schedule(static) reduction(+ : count)
    for (int64_t r = 0; r < it.nruns; r++) count += count_run(&it, r, t->dtype);
  } else {
    for (int64_t r = 0; r < it.nruns; r++) count += count_run(&it, r, t->dtype);
  }
  *n = count;
  return EM_OK;
}

/* out (N x ndim): positions counted row-major with a multi-index counter */
static int cpu_nonzero(em_tensor *out, const em_tensor *src) {
  int nd = src->ndim;
  int64_t pos[EM_MAX_DIMS] = {0}, total = em_tensor_numel(src), off = 0, nout = out->size[0];
  int64_t es = (int64_t)em_dtype_info[src->dtype].size;
  const char *s = em_tensor_data(src);
  int64_t *o = em_tensor_data(out), row = 0;
  for (int64_t e = 0; e < total && row < nout; e++) {
    if (is_nonzero(src->dtype, s + off * es)) {
      memcpy(o + row * out->stride[0], pos, sizeof(int64_t) * (size_t)nd);
      row++;
    }
    for (int d = nd - 1; d >= 0; d--) {          /* next position */
      off += src->stride[d];
      if (++pos[d] < src->size[d]) break;
      off -= pos[d] * src->stride[d];
      pos[d] = 0;
    }
  }
  return EM_OK;
}

static int cpu_masked_select(em_tensor *out, const em_tensor *src, const em_tensor *mask) {
  em_iter it;
  em_iter_init(&it, 2, (const em_tensor *[]){src, mask});
  size_t es = em_dtype_info[src->dtype].size;
  char *o = em_tensor_data(out);
  for (int64_t r = 0; r < it.nruns; r++) {
    char *p[EM_ITER_MAX];
    em_iter_run(&it, r, p);
    for (int64_t i = 0; i < it.inner; i++)
      if (p[1][i * it.inner_stride[1]]) { move_elem(o, p[0] + i * it.inner_stride[0], es); o += es; }
  }
  return EM_OK;
}

typedef struct fill_job {
  em_iter it;                /* dst, mask */
  const unsigned char *v;    /* the value's bytes */
  size_t es;
} fill_job;

/* Run r of masked_fill: dst := v where mask is set. */
static void fill_masked_run(void *ctx, int64_t r) {
  const fill_job *j = ctx;
  char *p[EM_ITER_MAX];
  em_iter_run(&j->it, r, p);
  for (int64_t i = 0; i < j->it.inner; i++)
    if (p[1][i * j->it.inner_stride[1]]) move_elem(p[0] + i * j->it.inner_stride[0], (const char *)j->v, j->es);
}

static int cpu_masked_fill(em_tensor *dst, const em_tensor *mask, double value) {
  unsigned char v[8];
  size_t es = em_dtype_info[dst->dtype].size;
  em_dtype_set(dst->dtype, v, value);
  fill_job j = {.v = v, .es = es};
  em_iter_init(&j.it, 2, (const em_tensor *[]){dst, mask});
  em_parallel_items(j.it.nruns, j.it.nruns * j.it.inner >= 4 * EM_PARALLEL_GRAIN, fill_masked_run, &j);
  return EM_OK;
}

static int cpu_masked_copy(em_tensor *dst, const em_tensor *mask, const em_tensor *src) {
  em_iter it;
  em_iter_init(&it, 2, (const em_tensor *[]){dst, mask});
  size_t es = em_dtype_info[dst->dtype].size;
  const char *s = em_tensor_data(src);
  for (int64_t r = 0; r < it.nruns; r++) {
    char *p[EM_ITER_MAX];
    em_iter_run(&it, r, p);
    for (int64_t i = 0; i < it.inner; i++)
      if (p[1][i * it.inner_stride[1]]) { move_elem(p[0] + i * it.inner_stride[0], s, es); s += es; }
  }
  return EM_OK;
}

const struct em_index_backend em_cpu_index = {
  .find_bad_index = cpu_find_bad_index,
  .shift_index = cpu_shift_index,
  .index_select = cpu_index_select,
  .index_copy = cpu_index_copy,
  .index_fill = cpu_index_fill,
  .gather = cpu_gather,
  .scatter = cpu_scatter,
  .scatter_fill = cpu_scatter_fill,
  .count_nonzero = cpu_count_nonzero,
  .nonzero = cpu_nonzero,
  .masked_select = cpu_masked_select,
  .masked_fill = cpu_masked_fill,
  .masked_copy = cpu_masked_copy,
};
