/* The random number generator: Mersenne Twister (MT19937, as Torch7 used), one per
 * context (so one per Lua state), reproducible across runs and platforms. */
#ifndef EMBER_RANDOM_H
#define EMBER_RANDOM_H

#include <stdint.h>

#define EM_MT_N 624

typedef struct em_rng {
  uint64_t seed;
  uint32_t state[EM_MT_N];
  int next;              /* index of the next word in state */
  int has_normal;        /* Box-Muller gives two normals; the second is kept here */
  double next_normal;
} em_rng;

void em_rng_seed(em_rng *r, uint64_t seed);
uint32_t em_rng_u32(em_rng *r);
uint64_t em_rng_u64(em_rng *r);
double em_rng_uniform(em_rng *r);          /* [0, 1) with 53 random bits */
double em_rng_normal(em_rng *r);           /* standard normal */
/* A seed from the clock and address entropy, for torch.seed(). */
uint64_t em_rng_fresh_seed(void);

#endif
