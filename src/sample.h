/* The random op family: filling tensors from distributions, permutations and
 * multinomial draws, all from a caller-given generator (one per Lua state).
 *
 * Each backend implements em_random_backend. The CPU one draws every element from the
 * MT19937 stream in row-major order of the destination, so a seed gives the same
 * tensor whatever its strides. A GPU backend is expected to draw a key from the stream
 * (em_rng_u64) per call and run a counter-based generator from it: reproducible per
 * seed, though not equal to the CPU's values.
 *
 * Public ops check dtypes and parameters once, then dispatch on dst's device. */
#ifndef EMBER_SAMPLE_H
#define EMBER_SAMPLE_H

#include "backend.h"

/* Every function fills all of dst (any shape and strides) and returns EM_OK or an
 * error. Parameters arrive checked. Floating distributions get a floating dst. */
struct em_random_backend {
  /* dst := uniform in [a, b) as represented in dst's dtype (a < b) */
  int (*uniform)(em_tensor *dst, em_rng *r, double a, double b);
  /* dst := mean + std * N(0, 1) */
  int (*normal)(em_tensor *dst, em_rng *r, double mean, double std);
  /* dst := integers uniform in [lo, hi], both inclusive and representable in dst */
  int (*random)(em_tensor *dst, em_rng *r, int64_t lo, int64_t hi);
  /* dst := 1 with probability p, else 0 (any dtype) */
  int (*bernoulli)(em_tensor *dst, em_rng *r, double p);
  /* dst := 1 with probability p[i], else 0; p has dst's shape, any dtype; errors
   * (before drawing) when a probability is outside [0, 1] */
  int (*bernoulli_tensor)(em_tensor *dst, em_rng *r, const em_tensor *p);
  int (*exponential)(em_tensor *dst, em_rng *r, double lambda);
  int (*cauchy)(em_tensor *dst, em_rng *r, double median, double sigma);
  int (*log_normal)(em_tensor *dst, em_rng *r, double mean, double std);
  int (*geometric)(em_tensor *dst, em_rng *r, double p);     /* any dtype */
  /* dst (rows, n) int64 := category indices + base drawn from each row of probs
   * (rows, k), with or without replacement; errors for negative, infinite or NaN
   * probabilities, an all-zero row, or too few non-zero categories. */
  int (*multinomial)(em_tensor *dst, em_rng *r, const em_tensor *probs, int64_t n,
                     int replacement, int64_t base);
};

extern const struct em_random_backend em_cpu_random;

/* --- public ops: fills keep dst's shape (an empty dst is left alone); multinomial and
 * randperm resize dst --- */
int em_tensor_uniform(em_tensor *dst, em_rng *r, double a, double b);
int em_tensor_normal(em_tensor *dst, em_rng *r, double mean, double std);
/* Integers in [lo, hi], both inclusive (Torch7's x:random(a, b)). */
int em_tensor_random(em_tensor *dst, em_rng *r, int64_t lo, int64_t hi);
int em_tensor_bernoulli(em_tensor *dst, em_rng *r, double p);
/* p: as many elements as dst (any shape, any dtype). */
int em_tensor_bernoulli_tensor(em_tensor *dst, em_rng *r, const em_tensor *p);
int em_tensor_exponential(em_tensor *dst, em_rng *r, double lambda);
int em_tensor_cauchy(em_tensor *dst, em_rng *r, double median, double sigma);
/* Torch7's parameterisation: mean and std of the log-normal values themselves. */
int em_tensor_log_normal(em_tensor *dst, em_rng *r, double mean, double std);
/* Number of trials up to the first success (1, 2, ...), success probability p. */
int em_tensor_geometric(em_tensor *dst, em_rng *r, double p);
/* dst := int64 (n) for probs (k), or (rows, n) for probs (rows, k): indices + base. */
int em_tensor_multinomial(em_tensor *dst, em_rng *r, const em_tensor *probs, int64_t n,
                          int replacement, int64_t base);
/* dst := a random permutation of base .. base + n - 1 (n >= 0), in dst's dtype (which
 * must hold n + base); made on the CPU and copied when dst lives elsewhere. */
int em_tensor_randperm(em_tensor *dst, em_rng *r, int64_t n, int64_t base);

/* The integers a dtype holds exactly, which is also Torch7's x:random() range:
 * [0, 2^mantissa] for floats, [0, max] for integers, [0, 1] for bool. min is the
 * smallest integer it holds exactly (-2^mantissa for floats). */
void em_dtype_int_range(em_dtype dt, int64_t *min, int64_t *max);

#endif
