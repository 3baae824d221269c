/* CPU selections with positions (max, min, median, kthvalue, mode along a dim), sort
 * and topk. Every element becomes an order-preserving int64 key (em_cpu_sort_key), so
 * comparisons are exact for every dtype (int64 included) and NaN has a fixed place;
 * values are then copied from x by position, so they keep their dtype bit for bit.
 *
 * Rows along dim are independent: they are shared out over OpenMP threads, each with
 * its own scratch buffer of (key, position) items. Sorting is a stable bottom-up merge
 * sort (insertion sort on runs of INSERTION_RUN first). */
#include <stdlib.h>
#include <string.h>

#include "iter.h"
#include "parallel.h"
#include "reduce.h"

#define INSERTION_RUN 32
#define KEY_CHUNK 256

typedef struct item {
  int64_t key;
  int64_t pos;
} item;

static inline int64_t float_key(double d, int nan_high) {
  if (d != d) return nan_high ? INT64_MAX : INT64_MIN;
  if (d == 0) return 0;                       /* -0.0 and 0.0 compare equal */
  int64_t b;
  memcpy(&b, &d, sizeof b);
  return b < 0 ? b ^ INT64_MAX : b;           /* negatives: larger magnitude, smaller key */
}

int64_t em_cpu_sort_key(em_dtype dt, const void *p, int nan_high) {
  switch (dt) {
  case EM_FLOAT32: return float_key(*(const float *)p, nan_high);
  case EM_FLOAT64: return float_key(*(const double *)p, nan_high);
  case EM_FLOAT16: return float_key(em_half_to_float(*(const uint16_t *)p), nan_high);
  case EM_BFLOAT16: return float_key(em_bf16_to_float(*(const uint16_t *)p), nan_high);
  case EM_INT64: return *(const int64_t *)p;
  case EM_INT32: return *(const int32_t *)p;
  case EM_INT16: return *(const int16_t *)p;
  case EM_INT8: return *(const int8_t *)p;
  default: return *(const uint8_t *)p;
  }
}

/* k[0..n) := keys of n elements at p, byte stride s */
static void load_keys(int64_t *k, const char *p, int64_t s, em_dtype dt, int64_t n, int nan_high) {
  switch (dt) {
  case EM_FLOAT32: for (int64_t i = 0; i < n; i++) k[i] = float_key(*(const float *)(p + i * s), nan_high); break;
  case EM_FLOAT64: for (int64_t i = 0; i < n; i++) k[i] = float_key(*(const double *)(p + i * s), nan_high); break;
  case EM_INT64: for (int64_t i = 0; i < n; i++) k[i] = *(const int64_t *)(p + i * s); break;
  case EM_INT32: for (int64_t i = 0; i < n; i++) k[i] = *(const int32_t *)(p + i * s); break;
  default: for (int64_t i = 0; i < n; i++) k[i] = em_cpu_sort_key(dt, p + i * s, nan_high); break;
  }
}

/* --- stable merge sort of (key, pos) items --- */

/* Does b go before a? (strictly: ties keep their order) */
static inline int before(const item *b, const item *a, int desc) {
  return desc ? b->key > a->key : b->key < a->key;
}

static void insertion_sort(item *a, int64_t n, int desc) {
  for (int64_t i = 1; i < n; i++) {
    item t = a[i];
    int64_t j = i;
    for (; j > 0 && before(&t, &a[j - 1], desc); j--) a[j] = a[j - 1];
    a[j] = t;
  }
}

/* Sorts a[0..n) stably, ascending by key (descending when desc); tmp holds n items. */
static void sort_items(item *a, item *tmp, int64_t n, int desc) {
  for (int64_t lo = 0; lo < n; lo += INSERTION_RUN)
    insertion_sort(a + lo, n - lo < INSERTION_RUN ? n - lo : INSERTION_RUN, desc);
  item *src = a, *dst = tmp;
  for (int64_t w = INSERTION_RUN; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t i = lo, j = mid, o = lo;
      while (i < mid && j < hi) dst[o++] = before(&src[j], &src[i], desc) ? src[j++] : src[i++];
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
    }
    item *t = src; src = dst; dst = t;
  }
  if (src != a) memcpy(a, src, (size_t)n * sizeof *a);
}

/* --- rows along dim --- */

/* The rows of x along dim, walked together with the rows of the outputs v and ix. */
typedef struct rows {
  em_iter it;                 /* over v, ix, x narrowed to size 1 along dim */
  int64_t n;                  /* elements per x row */
  int64_t rsx, rsv, rsi;      /* byte strides along dim of x, v, ix */
  em_dtype dt;
  size_t es;
} rows;

static void rows_init(rows *g, const em_tensor *v, const em_tensor *ix, const em_tensor *x, int dim) {
  em_tensor v0 = *v, i0 = *ix, x0 = *x;
  v0.size[dim] = i0.size[dim] = x0.size[dim] = 1;
  em_iter_init(&g->it, 3, (const em_tensor *[]){&v0, &i0, &x0});
  g->dt = x->dtype;
  g->es = em_dtype_info[x->dtype].size;
  g->n = x->size[dim];
  g->rsx = x->stride[dim] * (int64_t)g->es;
  g->rsv = v->stride[dim] * (int64_t)g->es;
  g->rsi = ix->stride[dim] * (int64_t)sizeof(int64_t);
}

/* Loads the keys and positions of the x row at p. */
static void load_row(const rows *g, item *a, const char *p, int nan_high) {
  int64_t k[KEY_CHUNK];
  for (int64_t j = 0; j < g->n; j += KEY_CHUNK) {
    int64_t c = g->n - j < KEY_CHUNK ? g->n - j : KEY_CHUNK;
    load_keys(k, p + j * g->rsx, g->rsx, g->dt, c, nan_high);
    for (int64_t i = 0; i < c; i++) a[j + i] = (item){k[i], j + i};
  }
}

/* Writes the first cnt items as values (copied from the x row at p) and positions. */
static void write_row(const rows *g, char *v, char *ix, const char *p, const item *a, int64_t cnt,
                      int64_t base) {
  for (int64_t i = 0; i < cnt; i++) {
    memcpy(v + i * g->rsv, p + a[i].pos * g->rsx, g->es);
    *(int64_t *)(ix + i * g->rsi) = a[i].pos + base;
  }
}

/* What one row computes: the op and its parameters. */
typedef struct row_job {
  int kind;                   /* JOB_SORT, JOB_TOPK, JOB_SELECT */
  em_select_op sop;
  int64_t k;                  /* topk count or kthvalue rank */
  int desc;
  int64_t base;
} row_job;

enum { JOB_SORT, JOB_TOPK, JOB_SELECT };

/* One row: a holds 2n items of scratch. */
static void do_row(const rows *g, const row_job *job, char *v, char *ix, const char *p, item *a) {
  item *tmp = a + g->n;
  int64_t n = g->n;
  if (job->kind == JOB_SORT || job->kind == JOB_TOPK) {
    load_row(g, a, p, 1);
    sort_items(a, tmp, n, job->desc);
    write_row(g, v, ix, p, a, job->kind == JOB_SORT ? n : job->k, job->base);
    return;
  }
  load_row(g, a, p, 1);
  if (job->sop == EM_SELECT_MEDIAN && em_dtype_info[g->dt].is_float) {
    for (int64_t i = 0; i < n; i++)
      if (a[i].key == INT64_MAX) { write_row(g, v, ix, p, &a[i], 1, job->base); return; }
  }
  sort_items(a, tmp, n, 0);
  if (job->sop == EM_SELECT_MODE) {
    int64_t best = 0, best_len = 0;
    for (int64_t i = 0, j; i < n; i = j) {
      for (j = i + 1; j < n && a[j].key == a[i].key; j++) {}
      if (j - i > best_len) { best_len = j - i; best = j - 1; }   /* last position of the run */
    }
    write_row(g, v, ix, p, &a[best], 1, job->base);
    return;
  }
  int64_t r = job->sop == EM_SELECT_MEDIAN ? (n - 1) / 2 : job->k;
  write_row(g, v, ix, p, &a[r], 1, job->base);
}

/* Row r of g through job, with a (2n items) as scratch */
static void one_row(const rows *g, const row_job *job, int64_t r, item *a) {
  char *p[EM_ITER_MAX];
  int64_t run = r / g->it.inner, i = r % g->it.inner;
  em_iter_run(&g->it, run, p);
  do_row(g, job, p[0] + i * g->it.inner_stride[0], p[1] + i * g->it.inner_stride[1],
         p[2] + i * g->it.inner_stride[2], a);
}

/* Runs job on every row, in parallel when there is enough work; a plain if, not an
 * OpenMP if clause, so small tensors never enter the OpenMP runtime (parallel.h). */
static int for_each_row(const rows *g, const row_job *job, const char *op) {
  int64_t nrows = g->it.nruns * g->it.inner, total = nrows * g->n;
  size_t need = (size_t)(2 * g->n) * sizeof(item);
  int failed = 0;
  if (total >= EM_PARALLEL_GRAIN && nrows > 1) {
    #pragma omp parallel
    {
      item *a = malloc(need);
      #pragma omp for schedule(dynamic, 16)
      for (int64_t r = 0; r < nrows; r++) {
        if (!a) { failed = 1; continue; }
        one_row(g, job, r, a);
      }
      free(a);
    }
  } else {
    item *a = malloc(need);
    for (int64_t r = 0; r < nrows && a; r++) one_row(g, job, r, a);
    failed = !a;
    free(a);
  }
  return failed ? em_error_nomem(op, (unsigned long long)need) : EM_OK;
}

/* --- max / min with positions: a lane at a time, or whole rows of lanes --- */

/* First best position along the lane at p (byte stride s, n elements). */
static int64_t lane_best(const char *p, int64_t s, em_dtype dt, int64_t n, int want_max) {
  int64_t k[KEY_CHUNK], best = 0, bk = 0;
  for (int64_t j = 0; j < n; j += KEY_CHUNK) {
    int64_t c = n - j < KEY_CHUNK ? n - j : KEY_CHUNK;
    load_keys(k, p + j * s, s, dt, c, want_max);
    if (j == 0) bk = k[0];
    if (want_max) { for (int64_t i = 0; i < c; i++) if (k[i] > bk) { bk = k[i]; best = j + i; } }
    else { for (int64_t i = 0; i < c; i++) if (k[i] < bk) { bk = k[i]; best = j + i; } }
  }
  return best;
}

/* pos[0..m) := first best positions of m lanes (lane stride s) over n rows (stride rs). */
static void lanes_best(int64_t *pos, const char *p, int64_t s, int64_t rs, em_dtype dt, int64_t n,
                       int64_t m, int want_max) {
  int64_t k[KEY_CHUNK], bk[KEY_CHUNK];
  load_keys(bk, p, s, dt, m, want_max);
  for (int64_t i = 0; i < m; i++) pos[i] = 0;
  for (int64_t j = 1; j < n; j++) {
    load_keys(k, p + j * rs, s, dt, m, want_max);
    if (want_max) { for (int64_t i = 0; i < m; i++) if (k[i] > bk[i]) { bk[i] = k[i]; pos[i] = j; } }
    else { for (int64_t i = 0; i < m; i++) if (k[i] < bk[i]) { bk[i] = k[i]; pos[i] = j; } }
  }
}

typedef struct best_job {
  const rows *g;
  int want_max, rowwise;
  int64_t base, nblocks;
} best_job;

/* Work item w of select_maxmin: block w % nblocks of run w / nblocks. */
static void best_item(void *ctx, int64_t w) {
  const best_job *j = ctx;
  const rows *g = j->g;
  const em_iter *it = &g->it;
  int64_t sx = it->inner_stride[2];
  char *p[EM_ITER_MAX];
  int64_t pos[KEY_CHUNK];
  int64_t run = w / j->nblocks, lo = (w % j->nblocks) * KEY_CHUNK;
  int64_t m = it->inner - lo < KEY_CHUNK ? it->inner - lo : KEY_CHUNK;
  em_iter_run(it, run, p);
  const char *xp = p[2] + lo * sx;
  if (j->rowwise)
    for (int64_t i = 0; i < m; i++) pos[i] = lane_best(xp + i * sx, g->rsx, g->dt, g->n, j->want_max);
  else
    lanes_best(pos, xp, sx, g->rsx, g->dt, g->n, m, j->want_max);
  for (int64_t i = 0; i < m; i++) {
    memcpy(p[0] + (lo + i) * it->inner_stride[0], xp + i * sx + pos[i] * g->rsx, g->es);
    *(int64_t *)(p[1] + (lo + i) * it->inner_stride[1]) = pos[i] + j->base;
  }
}

static int select_maxmin(const rows *g, int want_max, int64_t base) {
  const em_iter *it = &g->it;
  best_job j = {g, want_max, llabs(g->rsx) <= llabs(it->inner_stride[2]) || it->inner == 1, base,
                (it->inner + KEY_CHUNK - 1) / KEY_CHUNK};
  int64_t nitems = it->nruns * j.nblocks, total = it->nruns * it->inner * g->n;
  em_parallel_items(nitems, total >= EM_PARALLEL_GRAIN, best_item, &j);
  return EM_OK;
}

/* --- entry points --- */

int em_cpu_select(em_select_op op, em_tensor *values, em_tensor *indices, const em_tensor *x,
                  int dim, int64_t k, int64_t base) {
  rows g;
  rows_init(&g, values, indices, x, dim);
  if (op == EM_SELECT_MAX || op == EM_SELECT_MIN) return select_maxmin(&g, op == EM_SELECT_MAX, base);
  row_job job = {JOB_SELECT, op, k, 0, base};
  return for_each_row(&g, &job, em_select_op_name[op]);
}

int em_cpu_sort(em_tensor *values, em_tensor *indices, const em_tensor *x, int dim,
                int descending, int64_t base) {
  rows g;
  rows_init(&g, values, indices, x, dim);
  row_job job = {JOB_SORT, EM_SELECT_MAX, 0, descending != 0, base};
  return for_each_row(&g, &job, "sort");
}

int em_cpu_topk(em_tensor *values, em_tensor *indices, const em_tensor *x, int64_t k, int dim,
                int largest, int sorted, int64_t base) {
  (void)sorted;   /* always sorted: the rows are fully sorted first */
  rows g;
  rows_init(&g, values, indices, x, dim);
  row_job job = {JOB_TOPK, EM_SELECT_MAX, k, largest != 0, base};
  return for_each_row(&g, &job, "topk");
}
