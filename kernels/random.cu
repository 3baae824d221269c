/* The CUDA random backend (src/sample.h): a counter-based generator, Philox4x32-10
 * (Salmon et al., SC'11). Each call draws a 64-bit key from the context's generator
 * (em_rng_u64), so a seed reproduces every GPU tensor and consecutive calls differ;
 * element i (row-major in dst, whatever its strides) uses the counter (i, attempt), so
 * values do not depend on the launch geometry. The distributions are cpu_sample.c's
 * formulas (uniform below b after rounding to the dtype, Box-Muller normals, inversion
 * for exponential, Cauchy and geometric); the values differ from the CPU's stream.
 * multinomial draws on the host from the same generator (the probabilities come over,
 * the indices go back), so it equals the CPU's result for the same seed. */
#include <math.h>
#include <string.h>

#include "cuda_ops.cuh"

extern "C" {
#include "sample.h"
}

/* What one element draws. */
enum dist {
  DIST_UNIFORM, DIST_NORMAL, DIST_BERNOULLI, DIST_EXPONENTIAL, DIST_CAUCHY, DIST_LOG_NORMAL,
  DIST_GEOMETRIC, DIST_RANDOM,
};

/* A draw's parameters. Uniform: [a, b) and top, the largest value of the dtype below
 * b (as a double); random: lo = a_i and range (0: all 2^64 values). */
typedef struct draw {
  int dist;
  double a, b, top;
  int64_t lo;
  uint64_t range;
  uint32_t key0, key1;
} draw;

/* --- Philox4x32-10 --- */

static __device__ __forceinline__ uint4 philox(uint32_t k0, uint32_t k1, uint4 c) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
#pragma unroll
  for (int r = 0; r < 10; r++) {
    uint32_t hi0 = __umulhi(M0, c.x), lo0 = M0 * c.x;
    uint32_t hi1 = __umulhi(M1, c.z), lo1 = M1 * c.z;
    c = make_uint4(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0);
    k0 += W0;
    k1 += W1;
  }
  return c;
}

/* 128 random bits for element i, attempt t. */
static __device__ __forceinline__ uint4 bits(const draw &d, int64_t i, uint32_t t) {
  return philox(d.key0, d.key1, make_uint4((uint32_t)i, (uint32_t)((uint64_t)i >> 32), t, 0));
}

static __device__ __forceinline__ double u53(uint32_t hi, uint32_t lo) {   /* [0, 1) */
  return (double)((((uint64_t)hi << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

static __device__ __forceinline__ float u24(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

static __device__ __forceinline__ double std_normal(uint4 r) {
  double u1 = 1.0 - u53(r.x, r.y), u2 = u53(r.z, r.w);   /* u1 in (0, 1] */
  return sqrt(-2.0 * log(u1)) * cospi(2.0 * u2);
}

/* --- kernels --- */

/* dst[i] := one draw, for every element (it: over dst) */
__global__ void draw_kernel(draw d, char *dst, int dt, int es, em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel) {
    char *q = dst + em_cuda_offset(it, 0, i) * es;
    uint4 r = bits(d, i, 0);
    double u = u53(r.x, r.y), v;
    switch (d.dist) {
    case DIST_UNIFORM:
      if (dt == EM_FLOAT64) {
        v = d.a + (d.b - d.a) * u;
        *(double *)q = v < d.b ? v : d.top;
      } else {
        float f = (float)(d.a + (d.b - d.a) * (double)u24(r.x));
        if (dt == EM_FLOAT32) {
          *(float *)q = (double)f < d.b ? f : (float)d.top;
        } else {
          em_store_f64(q, dt, f);
          if (em_load_f64(q, dt) >= d.b) em_store_f64(q, dt, d.top);
        }
      }
      continue;
    case DIST_RANDOM: {
      uint64_t x = ((uint64_t)r.x << 32) | r.y;
      if (d.range) {                       /* reject the low 2^64 mod range values */
        uint64_t threshold = (0 - d.range) % d.range;
        for (uint32_t t = 1; x < threshold; t++) {
          uint4 s = bits(d, i, t);
          x = ((uint64_t)s.x << 32) | s.y;
        }
        x %= d.range;
      }
      int64_t k = (int64_t)((uint64_t)d.lo + x);
      if (dt <= EM_BFLOAT16) em_store_f64(q, dt, (double)k);
      else em_store_i64(q, dt, k);
      continue;
    }
    case DIST_NORMAL: v = d.a + d.b * std_normal(r); break;
    case DIST_BERNOULLI: v = u < d.a; break;
    case DIST_EXPONENTIAL: v = -log(1.0 - u) / d.a; break;
    case DIST_CAUCHY: v = d.a + d.b * tan(3.14159265358979323846 * (u - 0.5)); break;
    case DIST_LOG_NORMAL: v = exp(d.a + d.b * std_normal(r)); break;
    default:                               /* DIST_GEOMETRIC */
      if (d.a >= 1) v = 1;
      else {
        v = ceil(log(1.0 - u) / log1p(-d.a));
        v = v < 1 ? 1 : v;
      }
      break;
    }
    em_store_f64(q, dt, v);
  }
}

/* *first := the smallest i whose probability is outside [0, 1] (it: over p) */
__global__ void check_probs_kernel(const char *p, int pt, int pes, em_cuda_iter it,
                                   unsigned long long *first) {
  EM_CUDA_LOOP(i, it.numel) {
    double v = em_load_f64(p + em_cuda_offset(it, 0, i) * pes, pt);
    if (!(v >= 0 && v <= 1)) atomicMin(first, (unsigned long long)i);
  }
}

/* dst[i] := 1 with probability p[i] (it: over {dst, p}) */
__global__ void bernoulli_tensor_kernel(draw d, char *dst, int dt, int es, const char *p, int pt,
                                        int pes, em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel) {
    uint4 r = bits(d, i, 0);
    double prob = em_load_f64(p + em_cuda_offset(it, 1, i) * pes, pt);
    em_store_f64(dst + em_cuda_offset(it, 0, i) * es, dt, u53(r.x, r.y) < prob);
  }
}

/* --- launchers --- */

static draw draw_of(int dist, em_rng *r, double a, double b) {
  draw d;
  memset(&d, 0, sizeof d);
  d.dist = dist;
  d.a = a;
  d.b = b;
  uint64_t key = em_rng_u64(r);
  d.key0 = (uint32_t)key;
  d.key1 = (uint32_t)(key >> 32);
  return d;
}

static int launch_draw(em_tensor *dst, const draw &d) {
  cudaStream_t stream;
  if (em_cuda_use(dst->device, &stream) != EM_OK) return EM_ERR;
  em_cuda_iter it;
  const em_tensor *ts[1] = {dst};
  em_cuda_iter_init(&it, 1, ts);
  if (it.numel == 0) return EM_OK;
  draw_kernel<<<em_cuda_grid(it.numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
      d, (char *)em_cuda_data(dst), dst->dtype, (int)em_dtype_info[dst->dtype].size, it);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* The 16-bit pattern (float16 or bfloat16) just below h, towards -inf. */
static uint16_t half_below(uint16_t h) {
  if ((h & 0x7fffu) == 0) return 0x8001u;
  return (h & 0x8000u) ? (uint16_t)(h + 1) : (uint16_t)(h - 1);
}

/* The largest value of dt below b (a when none is above a), as cpu_uniform finds it. */
static double top_below(em_dtype dt, double a, double b) {
  if (dt == EM_FLOAT64) return nextafter(b, -INFINITY);
  if (dt == EM_FLOAT32) {
    float top = (float)b;
    while ((double)top >= b) top = nextafterf(top, -INFINITY);
    return (double)top < a ? (double)(float)a : (double)top;
  }
  uint16_t h;
  em_dtype_set(dt, &h, b);
  while (em_dtype_get(dt, &h) >= b) h = half_below(h);
  if (em_dtype_get(dt, &h) < a) em_dtype_set(dt, &h, a);
  return em_dtype_get(dt, &h);
}

/* --- entry points --- */

static int cuda_uniform(em_tensor *dst, em_rng *r, double a, double b) {
  draw d = draw_of(DIST_UNIFORM, r, a, b);
  d.top = top_below(dst->dtype, a, b);
  return launch_draw(dst, d);
}

static int cuda_normal(em_tensor *dst, em_rng *r, double mean, double std) {
  return launch_draw(dst, draw_of(DIST_NORMAL, r, mean, std));
}

static int cuda_random(em_tensor *dst, em_rng *r, int64_t lo, int64_t hi) {
  draw d = draw_of(DIST_RANDOM, r, 0, 0);
  d.lo = lo;
  d.range = (uint64_t)hi - (uint64_t)lo + 1;
  return launch_draw(dst, d);
}

static int cuda_bernoulli(em_tensor *dst, em_rng *r, double p) {
  return launch_draw(dst, draw_of(DIST_BERNOULLI, r, p, 0));
}

static int cuda_exponential(em_tensor *dst, em_rng *r, double lambda) {
  return launch_draw(dst, draw_of(DIST_EXPONENTIAL, r, lambda, 0));
}

static int cuda_cauchy(em_tensor *dst, em_rng *r, double median, double sigma) {
  return launch_draw(dst, draw_of(DIST_CAUCHY, r, median, sigma));
}

/* em_rng_log_normal's parameterisation: the underlying normal's mu and sigma. */
static int cuda_log_normal(em_tensor *dst, em_rng *r, double mean, double std) {
  double zm = mean * mean, zs = std * std;
  double mu = log(zm / sqrt(zs + zm)), sigma = sqrt(log(zs / zm + 1));
  return launch_draw(dst, draw_of(DIST_LOG_NORMAL, r, mu, sigma));
}

static int cuda_geometric(em_tensor *dst, em_rng *r, double p) {
  return launch_draw(dst, draw_of(DIST_GEOMETRIC, r, p, 0));
}

/* Checks every probability on the device (the first bad one is read back and named,
 * before anything is drawn or written), then draws. */
static int cuda_bernoulli_tensor(em_tensor *dst, em_rng *r, const em_tensor *p) {
  cudaStream_t stream;
  if (em_cuda_use(dst->device, &stream) != EM_OK) return EM_ERR;
  em_cuda_iter ip, it;
  const em_tensor *tp[1] = {p}, *tt[2] = {dst, p};
  em_cuda_iter_init(&ip, 1, tp);
  em_cuda_iter_init(&it, 2, tt);
  if (it.numel == 0) return EM_OK;
  const char *pp = (const char *)em_cuda_data(p);
  int pes = (int)em_dtype_info[p->dtype].size;
  em_cuda_workspace ws;
  int st = em_cuda_workspace_get(dst->device, sizeof(unsigned long long), &ws);
  if (st != EM_OK) return st;
  unsigned long long first = 0;
  cudaError_t err = cudaMemsetAsync(ws.ptr, 0xff, sizeof first, stream);
  if (err == cudaSuccess) {
    check_probs_kernel<<<em_cuda_grid(ip.numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        pp, p->dtype, pes, ip, (unsigned long long *)ws.ptr);
    err = cudaGetLastError();
  }
  if (err == cudaSuccess) st = em_cuda_read_back(&first, ws.ptr, sizeof first, stream);
  else st = em_cuda_fail(err, "check_probs_kernel launch", __FILE__, __LINE__);
  em_cuda_workspace_release(&ws);
  if (st != EM_OK) return st;
  if (first != ~0ull) {                    /* the offending value, for the message */
    em_tensor flat, one, host;
    int64_t n = em_tensor_numel(p), i = (int64_t)first, k = 1;
    em_tensor_init(&flat, p->ctx, p->dtype, p->device);
    em_tensor_init(&one, p->ctx, p->dtype, p->device);
    em_tensor_init(&host, p->ctx, p->dtype, (em_device){EM_CPU, 0});
    st = em_tensor_contiguous(&flat, p);
    if (st == EM_OK) st = em_tensor_view(&flat, &flat, 1, &n);
    if (st == EM_OK) st = em_tensor_narrow(&one, &flat, 0, i, 1);
    if (st == EM_OK) st = em_tensor_resize(&host, 1, &k);
    if (st == EM_OK) st = em_tensor_copy(&host, &one);
    double v = st == EM_OK ? em_dtype_get(p->dtype, em_tensor_data(&host)) : NAN;
    em_tensor_release(&flat);
    em_tensor_release(&one);
    em_tensor_release(&host);
    if (st != EM_OK) return st;
    return em_error("bernoulli: probability %g is outside [0, 1]", v);
  }
  draw d = draw_of(DIST_BERNOULLI, r, 0, 0);
  bernoulli_tensor_kernel<<<em_cuda_grid(it.numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
      d, (char *)em_cuda_data(dst), dst->dtype, (int)em_dtype_info[dst->dtype].size, pp, p->dtype,
      pes, it);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* On the host: probs come over, em_cpu_random draws (same generator, same checks and
 * messages), the indices go back. */
static int cuda_multinomial(em_tensor *dst, em_rng *r, const em_tensor *probs, int64_t n,
                            int replacement, int64_t base) {
  em_device cpu = {EM_CPU, 0};
  em_tensor hp, hd;
  em_tensor_init(&hp, probs->ctx, probs->dtype, cpu);
  em_tensor_init(&hd, dst->ctx, EM_INT64, cpu);
  int st = em_tensor_resize(&hp, probs->ndim, probs->size);
  if (st == EM_OK) st = em_tensor_copy(&hp, probs);
  if (st == EM_OK) st = em_tensor_resize(&hd, dst->ndim, dst->size);
  if (st == EM_OK) st = em_cpu_random.multinomial(&hd, r, &hp, n, replacement, base);
  if (st == EM_OK) st = em_tensor_copy(dst, &hd);
  em_tensor_release(&hp);
  em_tensor_release(&hd);
  return st;
}

extern "C" const struct em_random_backend em_cuda_random = {
  cuda_uniform,
  cuda_normal,
  cuda_random,
  cuda_bernoulli,
  cuda_bernoulli_tensor,
  cuda_exponential,
  cuda_cauchy,
  cuda_log_normal,
  cuda_geometric,
  cuda_multinomial,
};
