/* The CPU random backend: every element is drawn from the context's MT19937 stream in
 * row-major order of the destination, on one thread (the stream is sequential), so a
 * seed gives the same values whatever the tensor's strides. Floating values are drawn
 * in double, except uniforms for float32 and the half types (24 random bits). */
#include <math.h>

#include "iter.h"
#include "sample.h"

/* One draw of a distribution with parameters a and b. */
typedef double (*draw_fn)(em_rng *r, double a, double b);

/* dst := draw(r, a, b) for every element, in row-major order. */
static void fill_draws(em_tensor *dst, em_rng *r, draw_fn draw, double a, double b) {
  em_iter it;
  em_iter_init(&it, 1, (const em_tensor *[]){dst});
  em_dtype dt = dst->dtype;
  for (int64_t run = 0; run < it.nruns; run++) {
    char *p[EM_ITER_MAX];
    em_iter_run(&it, run, p);
    int64_t s = it.inner_stride[0];
    switch (dt) {
    case EM_FLOAT32:
      for (int64_t i = 0; i < it.inner; i++) *(float *)(p[0] + i * s) = (float)draw(r, a, b);
      break;
    case EM_FLOAT64:
      for (int64_t i = 0; i < it.inner; i++) *(double *)(p[0] + i * s) = draw(r, a, b);
      break;
    default:
      for (int64_t i = 0; i < it.inner; i++) em_dtype_set(dt, p[0] + i * s, draw(r, a, b));
      break;
    }
  }
}

static double draw_normal(em_rng *r, double mean, double std) { return mean + std * em_rng_normal(r); }
static double draw_bernoulli(em_rng *r, double p, double unused) { (void)unused; return em_rng_bernoulli(r, p); }
static double draw_exponential(em_rng *r, double lambda, double unused) { (void)unused; return em_rng_exponential(r, lambda); }
static double draw_cauchy(em_rng *r, double median, double sigma) { return em_rng_cauchy(r, median, sigma); }
static double draw_log_normal(em_rng *r, double mean, double std) { return em_rng_log_normal(r, mean, std); }
static double draw_geometric(em_rng *r, double p, double unused) { (void)unused; return em_rng_geometric(r, p); }

static int cpu_normal(em_tensor *dst, em_rng *r, double mean, double std) {
  fill_draws(dst, r, draw_normal, mean, std);
  return EM_OK;
}

static int cpu_bernoulli(em_tensor *dst, em_rng *r, double p) {
  fill_draws(dst, r, draw_bernoulli, p, 0);
  return EM_OK;
}

static int cpu_exponential(em_tensor *dst, em_rng *r, double lambda) {
  fill_draws(dst, r, draw_exponential, lambda, 0);
  return EM_OK;
}

static int cpu_cauchy(em_tensor *dst, em_rng *r, double median, double sigma) {
  fill_draws(dst, r, draw_cauchy, median, sigma);
  return EM_OK;
}

static int cpu_log_normal(em_tensor *dst, em_rng *r, double mean, double std) {
  fill_draws(dst, r, draw_log_normal, mean, std);
  return EM_OK;
}

static int cpu_geometric(em_tensor *dst, em_rng *r, double p) {
  fill_draws(dst, r, draw_geometric, p, 0);
  return EM_OK;
}

/* --- uniform: values must stay below b after rounding to the dtype --- */

/* The 16-bit pattern (float16 or bfloat16) just below h, towards -inf. */
static uint16_t half_below(uint16_t h) {
  if ((h & 0x7fffu) == 0) return 0x8001u;     /* +-0 -> smallest negative */
  return (h & 0x8000u) ? (uint16_t)(h + 1) : (uint16_t)(h - 1);
}

static double half_value(em_dtype dt, uint16_t h) {
  return dt == EM_FLOAT16 ? em_half_to_float(h) : em_bf16_to_float(h);
}

static int cpu_uniform(em_tensor *dst, em_rng *r, double a, double b) {
  em_dtype dt = dst->dtype;
  double w = b - a;
  /* the largest value of the dtype below b (a when none is above a) */
  double top64 = nextafter(b, -INFINITY);
  float top32 = (float)b;
  while ((double)top32 >= b) top32 = nextafterf(top32, -INFINITY);
  if ((double)top32 < a) top32 = (float)a;
  uint16_t top16 = 0;
  if (dt == EM_FLOAT16 || dt == EM_BFLOAT16) {
    em_dtype_set(dt, &top16, b);
    while (half_value(dt, top16) >= b) top16 = half_below(top16);
    if (half_value(dt, top16) < a) em_dtype_set(dt, &top16, a);
  }
  em_iter it;
  em_iter_init(&it, 1, (const em_tensor *[]){dst});
  for (int64_t run = 0; run < it.nruns; run++) {
    char *p[EM_ITER_MAX];
    em_iter_run(&it, run, p);
    int64_t s = it.inner_stride[0];
    for (int64_t i = 0; i < it.inner; i++) {
      char *q = p[0] + i * s;
      if (dt == EM_FLOAT64) {
        double v = a + w * em_rng_uniform(r);
        *(double *)q = v < b ? v : top64;
      } else if (dt == EM_FLOAT32) {
        float v = (float)(a + w * (double)em_rng_uniform_float(r));
        *(float *)q = (double)v < b ? v : top32;
      } else {
        uint16_t h;
        em_dtype_set(dt, &h, a + w * (double)em_rng_uniform_float(r));
        *(uint16_t *)q = half_value(dt, h) < b ? h : top16;
      }
    }
  }
  return EM_OK;
}

/* --- integers --- */

static int cpu_random(em_tensor *dst, em_rng *r, int64_t lo, int64_t hi) {
  em_dtype dt = dst->dtype;
  uint64_t range = (uint64_t)hi - (uint64_t)lo + 1;   /* 0 means all 2^64 values */
  int is_float = em_dtype_info[dt].is_float;
  em_iter it;
  em_iter_init(&it, 1, (const em_tensor *[]){dst});
  for (int64_t run = 0; run < it.nruns; run++) {
    char *p[EM_ITER_MAX];
    em_iter_run(&it, run, p);
    int64_t s = it.inner_stride[0];
    for (int64_t i = 0; i < it.inner; i++) {
      int64_t v = (int64_t)((uint64_t)lo + em_rng_below(r, range));
      char *q = p[0] + i * s;
      if (dt == EM_INT64) *(int64_t *)q = v;
      else if (dt == EM_INT32) *(int32_t *)q = (int32_t)v;
      else if (is_float) em_dtype_set(dt, q, (double)v);
      else em_dtype_set_i64(dt, q, v);
    }
  }
  return EM_OK;
}

/* --- bernoulli with a tensor of probabilities --- */

static int cpu_bernoulli_tensor(em_tensor *dst, em_rng *r, const em_tensor *p) {
  em_iter it;
  em_dtype pt = p->dtype, dt = dst->dtype;
  em_iter_init(&it, 1, (const em_tensor *[]){p});
  for (int64_t run = 0; run < it.nruns; run++) {   /* check every probability first */
    char *q[EM_ITER_MAX];
    em_iter_run(&it, run, q);
    for (int64_t i = 0; i < it.inner; i++) {
      double v = em_dtype_get(pt, q[0] + i * it.inner_stride[0]);
      if (!(v >= 0 && v <= 1)) return em_error("bernoulli: probability %g is outside [0, 1]", v);
    }
  }
  em_iter_init(&it, 2, (const em_tensor *[]){dst, p});
  for (int64_t run = 0; run < it.nruns; run++) {
    char *q[EM_ITER_MAX];
    em_iter_run(&it, run, q);
    for (int64_t i = 0; i < it.inner; i++) {
      double prob = em_dtype_get(pt, q[1] + i * it.inner_stride[1]);
      em_dtype_set(dt, q[0] + i * it.inner_stride[0], em_rng_bernoulli(r, prob));
    }
  }
  return EM_OK;
}

/* --- multinomial --- */

/* Checks every row of probs (rows, k); returns EM_OK or an error naming the row. */
static int check_probs(const char *pd, em_dtype pt, int64_t rows, int64_t k, int64_t rs,
                       int64_t cs, int64_t n, int replacement) {
  for (int64_t row = 0; row < rows; row++) {
    int64_t nonzero = 0;
    for (int64_t j = 0; j < k; j++) {
      double w = em_dtype_get(pt, pd + row * rs + j * cs);
      if (!(w >= 0) || isinf(w))
        return em_error("multinomial: invalid probability %g in row %lld (negative, infinite or NaN)",
                        w, (long long)row + 1);
      nonzero += w > 0;
    }
    if (nonzero == 0)
      return em_error("multinomial: row %lld has no non-zero probability", (long long)row + 1);
    if (!replacement && n > nonzero)
      return em_error("multinomial: cannot draw %lld samples without replacement: row %lld has "
                      "%lld non-zero categories", (long long)n, (long long)row + 1, (long long)nonzero);
  }
  return EM_OK;
}

/* Draws with a sum tree: leaves (leaves .. 2 * leaves - 1) hold the weights, node i
 * the sum of its children 2i and 2i + 1. Sums are recomputed, never subtracted, and a
 * descent never enters a subtree whose sum is zero, so a removed category is never
 * drawn again. */
static int cpu_multinomial(em_tensor *dst, em_rng *r, const em_tensor *probs, int64_t n,
                           int replacement, int64_t base) {
  int two = probs->ndim == 2;
  int64_t rows = two ? probs->size[0] : 1, k = probs->size[probs->ndim - 1];
  int64_t es = (int64_t)em_dtype_info[probs->dtype].size;
  int64_t rs = two ? probs->stride[0] * es : 0, cs = probs->stride[probs->ndim - 1] * es;
  int64_t ds_row = two ? dst->stride[0] : 0, ds = dst->stride[dst->ndim - 1];
  const char *pd = em_tensor_data(probs);
  int64_t *out = em_tensor_data(dst);
  int st = check_probs(pd, probs->dtype, rows, k, rs, cs, n, replacement);
  if (st != EM_OK) return st;
  int64_t leaves = 1;
  while (leaves < k) leaves <<= 1;
  em_tensor tree_t;
  int64_t tree_n = 2 * leaves;
  em_tensor_init(&tree_t, dst->ctx, EM_FLOAT64, (em_device){EM_CPU, 0});
  st = em_tensor_resize(&tree_t, 1, &tree_n);
  if (st != EM_OK) return st;
  double *tree = em_tensor_data(&tree_t);
  for (int64_t row = 0; row < rows; row++) {
    double wmax = 0;
    for (int64_t j = 0; j < k; j++) wmax = fmax(wmax, em_dtype_get(probs->dtype, pd + row * rs + j * cs));
    for (int64_t j = 0; j < leaves; j++)   /* scaled by the largest weight: sums stay finite */
      tree[leaves + j] = j < k ? em_dtype_get(probs->dtype, pd + row * rs + j * cs) / wmax : 0;
    for (int64_t i = leaves - 1; i >= 1; i--) tree[i] = tree[2 * i] + tree[2 * i + 1];
    for (int64_t s = 0; s < n; s++) {
      double u = em_rng_uniform(r) * tree[1];
      int64_t i = 1;
      while (i < leaves) {
        if (u < tree[2 * i] || !(tree[2 * i + 1] > 0)) {
          i = 2 * i;
        } else {
          u -= tree[2 * i];
          i = 2 * i + 1;
        }
      }
      out[row * ds_row + s * ds] = i - leaves + base;
      if (!replacement) {
        tree[i] = 0;
        for (i >>= 1; i >= 1; i >>= 1) tree[i] = tree[2 * i] + tree[2 * i + 1];
      }
    }
  }
  em_tensor_release(&tree_t);
  return EM_OK;
}

const struct em_random_backend em_cpu_random = {
  .uniform = cpu_uniform,
  .normal = cpu_normal,
  .random = cpu_random,
  .bernoulli = cpu_bernoulli,
  .bernoulli_tensor = cpu_bernoulli_tensor,
  .exponential = cpu_exponential,
  .cauchy = cpu_cauchy,
  .log_normal = cpu_log_normal,
  .geometric = cpu_geometric,
  .multinomial = cpu_multinomial,
};
