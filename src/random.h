/* The random number generator: Mersenne Twister (MT19937, as Torch7 used), one per
 * context (so one per Lua state), reproducible across runs and platforms: every
 * integer-valued draw (random, randperm, bernoulli, multinomial) uses integer and
 * comparison arithmetic only; uniforms are built from the raw bits.
 *
 *   em_rng r; em_rng_seed(&r, 5489);
 *   em_rng_u32(&r);              -- 3499211612, the reference implementation's first output
 *   em_rng_below(&r, 6) + 1;     -- a fair die
 */
#ifndef EMBER_RANDOM_H
#define EMBER_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#define EM_MT_N 624
/* Bytes of em_rng_get_state's portable snapshot: seed (8), state (624 * 4), next (4),
 * has_normal (4), next_normal (8), all little-endian. */
#define EM_RNG_STATE_BYTES (8 + 4 * EM_MT_N + 4 + 4 + 8)

typedef struct em_rng {
  uint64_t seed;
  uint32_t state[EM_MT_N];
  int next;              /* index of the next word in state */
  int has_normal;        /* Box-Muller gives two normals; the second is kept here */
  double next_normal;
} em_rng;

/* Seeds below 2^32 use the reference init_genrand (so 5489 replays the published
 * sequence); larger seeds use init_by_array on their two 32-bit halves (low first), as
 * CPython's random.seed does, so that no two 64-bit seeds share a stream. */
void em_rng_seed(em_rng *r, uint64_t seed);
uint32_t em_rng_u32(em_rng *r);
uint64_t em_rng_u64(em_rng *r);            /* two words, the first one high */
/* Uniform integer in [0, n), unbiased (rejection); n == 0 means [0, 2^64). Uses one
 * word per try when n <= 2^32, else two. */
uint64_t em_rng_below(em_rng *r, uint64_t n);
double em_rng_uniform(em_rng *r);          /* [0, 1) with 53 random bits (two words) */
float em_rng_uniform_float(em_rng *r);     /* [0, 1) with 24 random bits (one word) */
double em_rng_normal(em_rng *r);           /* standard normal (Box-Muller) */

/* Torch7's scalar distributions (parameters are checked by the callers). */
int em_rng_bernoulli(em_rng *r, double p);                   /* 1 with probability p */
double em_rng_exponential(em_rng *r, double lambda);         /* mean 1 / lambda */
double em_rng_cauchy(em_rng *r, double median, double sigma);
/* Log-normal with the given mean and standard deviation of the result itself (Torch7's
 * parameterisation, not those of the underlying normal); mean > 0, std > 0. */
double em_rng_log_normal(em_rng *r, double mean, double std);
/* Trials up to and including the first success, success probability p in (0, 1]:
 * 1, 2, 3, ... with mean 1 / p. */
double em_rng_geometric(em_rng *r, double p);

/* A portable snapshot of the whole generator (EM_RNG_STATE_BYTES bytes). set_state
 * validates the snapshot and leaves r unchanged (returning EM_ERR) when it is not one. */
void em_rng_get_state(const em_rng *r, uint8_t *buf);
int em_rng_set_state(em_rng *r, const uint8_t *buf, size_t nbytes);

/* A seed from the clock and address entropy, for torch.seed(); below 2^63 so that it
 * is a positive Lua integer. */
uint64_t em_rng_fresh_seed(void);

#endif
