/* MT19937 (Matsumoto and Nishimura), seeded as in the reference implementation, so a
 * seed gives the same stream on every platform. Normals by Box-Muller; the other
 * distributions by inversion, as Torch7's THRandom.c. */
#include "random.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "error.h"

#define MT_M 397
#define PI 3.14159265358979323846

static void init_genrand(em_rng *r, uint32_t s) {
  r->state[0] = s;
  for (int i = 1; i < EM_MT_N; i++)
    r->state[i] = 1812433253u * (r->state[i - 1] ^ (r->state[i - 1] >> 30)) + (uint32_t)i;
}

/* The reference init_by_array, for a key of n words. */
static void init_by_array(em_rng *r, const uint32_t *key, int n) {
  uint32_t *mt = r->state;
  int i = 1, j = 0;
  init_genrand(r, 19650218u);
  for (int k = EM_MT_N > n ? EM_MT_N : n; k; k--) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
    i++, j++;
    if (i >= EM_MT_N) { mt[0] = mt[EM_MT_N - 1]; i = 1; }
    if (j >= n) j = 0;
  }
  for (int k = EM_MT_N - 1; k; k--) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
    i++;
    if (i >= EM_MT_N) { mt[0] = mt[EM_MT_N - 1]; i = 1; }
  }
  mt[0] = 0x80000000u;   /* non-zero initial state */
}

void em_rng_seed(em_rng *r, uint64_t seed) {
  r->seed = seed;
  if (seed >> 32) {
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    init_by_array(r, key, 2);
  } else {
    init_genrand(r, (uint32_t)seed);
  }
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

uint64_t em_rng_below(em_rng *r, uint64_t n) {
  if (n == 0) return em_rng_u64(r);
  if (n <= 0xffffffffu) {
    uint32_t m = (uint32_t)n, floor = (uint32_t)(0u - m) % m;   /* 2^32 mod m */
    uint32_t x;
    do x = em_rng_u32(r); while (x < floor);
    return x % m;
  }
  uint64_t floor = (0u - n) % n, x;                              /* 2^64 mod n */
  do x = em_rng_u64(r); while (x < floor);
  return x % n;
}

double em_rng_uniform(em_rng *r) {
  return (double)(em_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

float em_rng_uniform_float(em_rng *r) {
  return (float)(em_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

double em_rng_normal(em_rng *r) {
  if (r->has_normal) { r->has_normal = 0; return r->next_normal; }
  double u1 = em_rng_uniform(r), u2 = em_rng_uniform(r);
  double rad = sqrt(-2.0 * log(1.0 - u1));   /* 1 - u1 is in (0, 1] */
  double th = 2.0 * PI * u2;
  r->next_normal = rad * sin(th);
  r->has_normal = 1;
  return rad * cos(th);
}

int em_rng_bernoulli(em_rng *r, double p) {
  return em_rng_uniform(r) < p;
}

double em_rng_exponential(em_rng *r, double lambda) {
  return -log(1.0 - em_rng_uniform(r)) / lambda;
}

double em_rng_cauchy(em_rng *r, double median, double sigma) {
  return median + sigma * tan(PI * (em_rng_uniform(r) - 0.5));
}

double em_rng_log_normal(em_rng *r, double mean, double std) {
  double zm = mean * mean, zs = std * std;
  double mu = log(zm / sqrt(zs + zm)), sigma = sqrt(log(zs / zm + 1));
  return exp(mu + sigma * em_rng_normal(r));
}

double em_rng_geometric(em_rng *r, double p) {
  if (p >= 1) { em_rng_uniform(r); return 1; }   /* same draws for every p */
  /* inversion: P(X > k) = (1 - p)^k; 1 - u is in (0, 1] */
  double k = ceil(log(1.0 - em_rng_uniform(r)) / log1p(-p));
  return k < 1 ? 1 : k;
}

/* --- snapshots --- */

static void put_u32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *b, uint64_t v) {
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *b) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | b[i];
  return v;
}

static uint64_t get_u64(const uint8_t *b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
  return v;
}

void em_rng_get_state(const em_rng *r, uint8_t *buf) {
  uint64_t bits;
  put_u64(buf, r->seed);
  buf += 8;
  for (int i = 0; i < EM_MT_N; i++, buf += 4) put_u32(buf, r->state[i]);
  put_u32(buf, (uint32_t)r->next);
  put_u32(buf + 4, (uint32_t)r->has_normal);
  memcpy(&bits, &r->next_normal, 8);
  put_u64(buf + 8, bits);
}

int em_rng_set_state(em_rng *r, const uint8_t *buf, size_t nbytes) {
  if (nbytes != EM_RNG_STATE_BYTES)
    return em_error("setRNGState: expected a state of %d bytes, got %zu", EM_RNG_STATE_BYTES, nbytes);
  const uint8_t *words = buf + 8, *tail = words + 4 * EM_MT_N;
  uint32_t next = get_u32(tail), has_normal = get_u32(tail + 4), any = 0;
  if (next > EM_MT_N)
    return em_error("setRNGState: invalid state (position %u is past %d)", next, EM_MT_N);
  if (has_normal > 1)
    return em_error("setRNGState: invalid state (normal flag %u is not 0 or 1)", has_normal);
  /* MT19937 never reaches a state whose 19937 significant bits are all zero */
  any = get_u32(words) & 0x80000000u;
  for (int i = 1; i < EM_MT_N && !any; i++) any = get_u32(words + 4 * i);
  if (!any) return em_error("setRNGState: invalid state (all zero)");
  uint64_t bits = get_u64(tail + 8);
  r->seed = get_u64(buf);
  for (int i = 0; i < EM_MT_N; i++) r->state[i] = get_u32(words + 4 * i);
  r->next = (int)next;
  r->has_normal = (int)has_normal;
  memcpy(&r->next_normal, &bits, 8);
  return EM_OK;
}

uint64_t em_rng_fresh_seed(void) {
  static _Thread_local uint64_t calls;   /* two calls in one clock tick still differ */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts;
  x += 0x9e3779b97f4a7c15ull * ++calls;
  x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33;   /* mix */
  return x >> 1;
}
