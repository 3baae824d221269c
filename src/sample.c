/* Public random ops: parameter and dtype checks, then dispatch to the backend of the
 * destination's device. randperm is one algorithm for every device (Fisher-Yates on
 * the host, then a copy). */
#include "sample.h"

#include <math.h>

/* The error for an op that dst's backend lacks: names op, dtype and device. */
static int missing(const char *op, const em_tensor *dst) {
  return em_error("%s: not implemented for %s on %s", op, em_dtype_info[dst->dtype].torch_name,
                  em_device_name(dst->device));
}

/* The random table of dst's backend, or NULL with the error recorded. */
static const struct em_random_backend *random_of(const char *op, const em_tensor *dst) {
  const em_backend *be = em_backend_of(dst->device);
  if (be && !be->random) missing(op, dst);
  return be ? be->random : NULL;
}

static int check_float(const char *op, const em_tensor *dst) {
  if (!em_dtype_info[dst->dtype].is_float)
    return em_error("%s: %s is not a floating-point type", op, em_dtype_info[dst->dtype].torch_name);
  return EM_OK;
}

/* Common prologue: EM_OK to go on, 1 when dst is empty (nothing to do), else an error. */
static int prologue(const char *op, const em_tensor *dst, int needs_float,
                    const struct em_random_backend **rb) {
  if (needs_float && check_float(op, dst) != EM_OK) return EM_ERR;
  if (em_tensor_numel(dst) == 0) return 1;
  *rb = random_of(op, dst);
  return *rb ? EM_OK : EM_ERR;
}

void em_dtype_int_range(em_dtype dt, int64_t *min, int64_t *max) {
  switch (dt) {
  case EM_FLOAT64: *min = -(INT64_C(1) << 53); *max = INT64_C(1) << 53; break;
  case EM_FLOAT32: *min = -(INT64_C(1) << 24); *max = INT64_C(1) << 24; break;
  case EM_FLOAT16: *min = -(INT64_C(1) << 11); *max = INT64_C(1) << 11; break;
  case EM_BFLOAT16: *min = -(INT64_C(1) << 8); *max = INT64_C(1) << 8; break;
  case EM_INT64: *min = INT64_MIN; *max = INT64_MAX; break;
  case EM_INT32: *min = INT32_MIN; *max = INT32_MAX; break;
  case EM_INT16: *min = INT16_MIN; *max = INT16_MAX; break;
  case EM_INT8: *min = INT8_MIN; *max = INT8_MAX; break;
  case EM_UINT8: *min = 0; *max = UINT8_MAX; break;
  default: *min = 0; *max = 1; break;   /* bool */
  }
}

int em_tensor_uniform(em_tensor *dst, em_rng *r, double a, double b) {
  const struct em_random_backend *rb = NULL;
  if (!(a <= b) || !isfinite(b - a))
    return em_error("uniform: expected finite bounds a <= b, got [%g, %g)", a, b);
  int st = prologue("uniform", dst, 1, &rb);
  if (st) return st == 1 ? EM_OK : st;
  if (a == b) return em_tensor_fill(dst, a);
  return rb->uniform ? rb->uniform(dst, r, a, b) : missing("uniform", dst);
}

int em_tensor_normal(em_tensor *dst, em_rng *r, double mean, double std) {
  const struct em_random_backend *rb = NULL;
  if (!isfinite(mean) || !(std >= 0) || !isfinite(std))
    return em_error("normal: expected a finite mean and std >= 0, got mean %g, std %g", mean, std);
  int st = prologue("normal", dst, 1, &rb);
  if (st) return st == 1 ? EM_OK : st;
  return rb->normal ? rb->normal(dst, r, mean, std) : missing("normal", dst);
}

int em_tensor_random(em_tensor *dst, em_rng *r, int64_t lo, int64_t hi) {
  const struct em_random_backend *rb = NULL;
  int64_t min, max;
  if (lo > hi)
    return em_error("random: lower bound %lld is greater than upper bound %lld", (long long)lo, (long long)hi);
  em_dtype_int_range(dst->dtype, &min, &max);
  if (lo < min || hi > max)
    return em_error("random: range [%lld, %lld] does not fit %s (it holds [%lld, %lld])",
                    (long long)lo, (long long)hi, em_dtype_info[dst->dtype].torch_name,
                    (long long)min, (long long)max);
  int st = prologue("random", dst, 0, &rb);
  if (st) return st == 1 ? EM_OK : st;
  return rb->random ? rb->random(dst, r, lo, hi) : missing("random", dst);
}

int em_tensor_bernoulli(em_tensor *dst, em_rng *r, double p) {
  const struct em_random_backend *rb = NULL;
  if (!(p >= 0 && p <= 1)) return em_error("bernoulli: probability %g is outside [0, 1]", p);
  int st = prologue("bernoulli", dst, 0, &rb);
  if (st) return st == 1 ? EM_OK : st;
  return rb->bernoulli ? rb->bernoulli(dst, r, p) : missing("bernoulli", dst);
}

int em_tensor_bernoulli_tensor(em_tensor *dst, em_rng *r, const em_tensor *p) {
  const struct em_random_backend *rb = NULL;
  char b1[64], b2[64];
  if (em_tensor_numel(p) != em_tensor_numel(dst))
    return em_error("bernoulli: probabilities of size %s for a tensor of size %s",
                    em_tensor_shape_str(p, b1, sizeof b1), em_tensor_shape_str(dst, b2, sizeof b2));
  int st = em_check_same_device("bernoulli", dst, p);
  if (st != EM_OK) return st;
  st = prologue("bernoulli", dst, 0, &rb);
  if (st) return st == 1 ? EM_OK : st;
  if (!rb->bernoulli_tensor) return missing("bernoulli", dst);
  if (em_tensor_same_shape(dst, p)) return rb->bernoulli_tensor(dst, r, p);
  em_tensor q;                       /* p reshaped to dst's shape */
  em_tensor_init(&q, p->ctx, p->dtype, p->device);
  st = em_tensor_contiguous(&q, p);
  if (st == EM_OK) st = em_tensor_view(&q, &q, dst->ndim, dst->size);
  if (st == EM_OK) st = rb->bernoulli_tensor(dst, r, &q);
  em_tensor_release(&q);
  return st;
}

int em_tensor_exponential(em_tensor *dst, em_rng *r, double lambda) {
  const struct em_random_backend *rb = NULL;
  if (!(lambda > 0) || !isfinite(lambda))
    return em_error("exponential: rate lambda must be positive and finite, got %g", lambda);
  int st = prologue("exponential", dst, 1, &rb);
  if (st) return st == 1 ? EM_OK : st;
  return rb->exponential ? rb->exponential(dst, r, lambda) : missing("exponential", dst);
}

int em_tensor_cauchy(em_tensor *dst, em_rng *r, double median, double sigma) {
  const struct em_random_backend *rb = NULL;
  if (!isfinite(median) || !(sigma > 0) || !isfinite(sigma))
    return em_error("cauchy: expected a finite median and sigma > 0, got median %g, sigma %g", median, sigma);
  int st = prologue("cauchy", dst, 1, &rb);
  if (st) return st == 1 ? EM_OK : st;
  return rb->cauchy ? rb->cauchy(dst, r, median, sigma) : missing("cauchy", dst);
}

int em_tensor_log_normal(em_tensor *dst, em_rng *r, double mean, double std) {
  const struct em_random_backend *rb = NULL;
  if (!(mean > 0) || !(std > 0) || !isfinite(mean) || !isfinite(std))
    return em_error("logNormal: expected mean > 0 and std > 0, got mean %g, std %g", mean, std);
  int st = prologue("logNormal", dst, 1, &rb);
  if (st) return st == 1 ? EM_OK : st;
  return rb->log_normal ? rb->log_normal(dst, r, mean, std) : missing("logNormal", dst);
}

int em_tensor_geometric(em_tensor *dst, em_rng *r, double p) {
  const struct em_random_backend *rb = NULL;
  if (!(p > 0 && p <= 1)) return em_error("geometric: success probability %g is outside (0, 1]", p);
  int st = prologue("geometric", dst, 0, &rb);
  if (st) return st == 1 ? EM_OK : st;
  return rb->geometric ? rb->geometric(dst, r, p) : missing("geometric", dst);
}

int em_tensor_multinomial(em_tensor *dst, em_rng *r, const em_tensor *probs, int64_t n,
                          int replacement, int64_t base) {
  char buf[64];
  if (probs->ndim != 1 && probs->ndim != 2)
    return em_error("multinomial: expected probabilities of 1 or 2 dimensions, got size %s",
                    em_tensor_shape_str(probs, buf, sizeof buf));
  if (!em_dtype_info[probs->dtype].is_float)
    return em_error("multinomial: probabilities must be floating point, got %s", em_dtype_info[probs->dtype].torch_name);
  int64_t k = probs->size[probs->ndim - 1];
  if (k == 0) return em_error("multinomial: no categories to draw from");
  if (n < 0) return em_error("multinomial: number of samples must be non-negative, got %lld", (long long)n);
  if (!replacement && n > k)
    return em_error("multinomial: cannot draw %lld samples without replacement from %lld categories",
                    (long long)n, (long long)k);
  if (dst->dtype != EM_INT64)
    return em_error("multinomial: result must be torch.LongTensor, got %s", em_dtype_info[dst->dtype].torch_name);
  int st = em_check_same_device("multinomial", dst, probs);
  if (st != EM_OK) return st;
  int64_t size[2] = {probs->size[0], n};
  st = probs->ndim == 1 ? em_tensor_resize(dst, 1, &n) : em_tensor_resize(dst, 2, size);
  if (st != EM_OK || n == 0) return st;
  const struct em_random_backend *rb = random_of("multinomial", dst);
  if (!rb) return EM_ERR;
  if (!rb->multinomial) return missing("multinomial", dst);
  return rb->multinomial(dst, r, probs, n, replacement, base);
}

int em_tensor_randperm(em_tensor *dst, em_rng *r, int64_t n, int64_t base) {
  int64_t min, max;
  if (n < 0) return em_error("randperm: n must be non-negative, got %lld", (long long)n);
  em_dtype_int_range(dst->dtype, &min, &max);
  if (dst->dtype == EM_BOOL || (n > 0 && (base < min || n - 1 > max - base)))
    return em_error("randperm: %s cannot hold %lld .. %lld", em_dtype_info[dst->dtype].torch_name,
                    (long long)base, (long long)(base + n - 1));
  if (n == 0) { em_tensor_release(dst); return EM_OK; }
  em_tensor perm;
  em_tensor_init(&perm, dst->ctx, EM_INT64, (em_device){EM_CPU, 0});
  int st = em_tensor_resize(&perm, 1, &n);
  if (st == EM_OK) {
    int64_t *p = em_tensor_data(&perm);
    for (int64_t i = 0; i < n; i++) p[i] = base + i;
    for (int64_t i = n - 1; i > 0; i--) {   /* Fisher-Yates */
      int64_t j = (int64_t)em_rng_below(r, (uint64_t)i + 1), t = p[i];
      p[i] = p[j], p[j] = t;
    }
    st = em_tensor_resize(dst, 1, &n);
  }
  if (st == EM_OK) st = em_tensor_copy(dst, &perm);
  em_tensor_release(&perm);
  return st;
}
