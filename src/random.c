/* MT19937 (Matsumoto and Nishimura), seeded as in the reference implementation, so a
 * seed gives the same stream on every platform. Normals by Box-Muller. */
#include "random.h"

#include <math.h>
#include <stdint.h>
#include <time.h>

#define MT_M 397

void em_rng_seed(em_rng *r, uint64_t seed) {
  r->seed = seed;
  r->state[0] = (uint32_t)(seed & 0xffffffffu);
  for (int i = 1; i < EM_MT_N; i++)
    r->state[i] = 1812433253u * (r->state[i - 1] ^ (r->state[i - 1] >> 30)) + (uint32_t)i;
  r->next = EM_MT_N;
  r->has_normal = 0;
  r->next_normal = 0;
}

static void regenerate(em_rng *r) {
  uint32_t *mt = r->state;
  for (int i = 0; i < EM_MT_N; i++) {
    uint32_t y = (mt[i] & 0x80000000u) | (mt[(i + 1) % EM_MT_N] & 0x7fffffffu);
    mt[i] = mt[(i + MT_M) % EM_MT_N] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
  }
  r->next = 0;
}

uint32_t em_rng_u32(em_rng *r) {
  if (r->next >= EM_MT_N) regenerate(r);
  uint32_t y = r->state[r->next++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint64_t em_rng_u64(em_rng *r) {
  uint64_t hi = em_rng_u32(r);
  return (hi << 32) | em_rng_u32(r);
}

double em_rng_uniform(em_rng *r) {
  return (double)(em_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double em_rng_normal(em_rng *r) {
  if (r->has_normal) { r->has_normal = 0; return r->next_normal; }
  double u1 = em_rng_uniform(r), u2 = em_rng_uniform(r);
  double rad = sqrt(-2.0 * log(1.0 - u1));   /* 1 - u1 is in (0, 1] */
  double th = 2.0 * 3.14159265358979323846 * u2;
  r->next_normal = rad * sin(th);
  r->has_normal = 1;
  return rad * cos(th);
}

uint64_t em_rng_fresh_seed(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts;
  x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33;   /* mix */
  return x;
}
