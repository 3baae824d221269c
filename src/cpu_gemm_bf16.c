/* The CPU's bfloat16 product (nn.autocast('bfloat16')): float32 matrices read as
 * bfloat16, products summed in float32. Debian's OpenBLAS 0.3.21 has no sbgemm, so this
 * is Ember's own GEMM: Goto/BLIS blocking (B block in L3, A block in L2, a B sliver in
 * L1), both operands packed straight from float32 into bfloat16 pairs, and an 8x48
 * microkernel on AVX512_BF16's dot product (vdpbf16ps: per float32 lane, acc += a0*b0 +
 * a1*b1). The AVX-512 code is compiled for that target function by function and chosen
 * at run time; other CPUs round the operands to bfloat16 and call sgemm (the same
 * numbers: exact products of bfloat16 values, summed in float32).
 *
 * Legend: C (m, n) := alpha * op(A) (m, k) op(B) (k, n) + beta * C, row-major. A pair is
 * two bfloat16 values along k in one 32-bit word (k even in the low half); a packed
 * panel of width w is [pairs][w] words, zero past the matrix's edge. */
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <immintrin.h>

#include "cpu.h"
#include "parallel.h"

#define MR 8     /* microkernel rows: 8 x 3 accumulators of 16 floats */
#define NR 48    /* microkernel columns */
#define KC 256   /* k per block (even): a B sliver of KC/2 x NR pairs is 24 KB (L1) */
#define MC 192   /* rows of A per packed block (a multiple of MR): 96 KB (L2) */
#define NC 3072  /* columns of B per packed block (a multiple of NR) */
/* Below this many multiply-adds a call stays on one thread. */
#define GEMM_BF16_GRAIN (1 << 18)

#define TARGET __attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl")))

/* --- kernel choice: AVX512_BF16 when the CPU has it, unless EMBER_BF16_GEMM=portable --- */

static int native;
static pthread_once_t native_once = PTHREAD_ONCE_INIT;

static void choose_kernel(void) {
  const char *env = getenv("EMBER_BF16_GEMM");
  __builtin_cpu_init();
  native = __builtin_cpu_supports("avx512bf16") && !(env && strcmp(env, "portable") == 0);
}

const char *em_cpu_gemm_bf16_kernel(void) {
  pthread_once(&native_once, choose_kernel);
  return native ? "avx512bf16" : "portable";
}

/* --- per-thread buffers, grown to the largest block seen, kept between calls and
 * freed when the thread ends --- */

typedef struct buffer {
  void *p;
  size_t n;
} buffer;

typedef struct buffers {
  buffer a, b;             /* packed A / B, or the rounded copies of the portable path */
} buffers;

static pthread_key_t buffers_key;
static pthread_once_t buffers_once = PTHREAD_ONCE_INIT;
static int buffers_key_ok;

static void buffers_free(void *p) {
  buffers *bs = p;
  free(bs->a.p);
  free(bs->b.p);
  free(bs);
}

static void make_key(void) { buffers_key_ok = pthread_key_create(&buffers_key, buffers_free) == 0; }

/* This thread's buffers, or NULL when they cannot be made. */
static buffers *thread_buffers(void) {
  pthread_once(&buffers_once, make_key);
  if (!buffers_key_ok) return NULL;
  buffers *bs = pthread_getspecific(buffers_key);
  if (bs) return bs;
  bs = calloc(1, sizeof *bs);
  if (bs && pthread_setspecific(buffers_key, bs) != 0) {
    free(bs);
    bs = NULL;
  }
  return bs;
}

/* b->p with at least n bytes (64-byte aligned), or NULL */
static void *grow(buffer *b, size_t n) {
  if (b->n >= n) return b->p;
  void *p = aligned_alloc(64, (n + 63) / 64 * 64);
  if (!p) return NULL;
  free(b->p);
  b->p = p;
  b->n = n;
  return p;
}

/* --- packing (AVX-512) --- */

/* The float32s of x rounded to nearest even: the bfloat16 is the high half of each
 * lane (em_float_to_bf16 exactly, NaN made quiet). */
TARGET static inline __m512i round_bf16(__m512 x) {
  __m512i b = _mm512_castps_si512(x);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_add_epi32(b, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(b, _mm512_set1_epi32(0x7fffffff)),
                                          _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_or_epi32(r, nan, b, _mm512_set1_epi32(0x00400000));
}

/* Pairs from two rows along k: lane t = (row0[t], row1[t]) */
TARGET static inline __m512i pair_rows(__m512 row0, __m512 row1) {
  __m512i lo = _mm512_srli_epi32(round_bf16(row0), 16);
  __m512i hi = _mm512_and_si512(round_bf16(row1), _mm512_set1_epi32((int)0xffff0000u));
  return _mm512_or_si512(lo, hi);
}

/* Pairs from 32 consecutive values along k: lane i = (x[2i], x[2i+1]), x0 = x[0..15],
 * x1 = x[16..31] */
TARGET static inline __m512i pair_run(__m512 x0, __m512 x1) {
  const __m512i high_words = _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41,
                                              39, 37, 35, 33, 31, 29, 27, 25, 23, 21, 19, 17,
                                              15, 13, 11, 9, 7, 5, 3, 1);
  return _mm512_permutex2var_epi16(round_bf16(x0), high_words, round_bf16(x1));
}

/* r[i] := column i of the 16x16 matrix of 32-bit words whose rows are r[0..15] */
TARGET static inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int h = 0; h < 16; h += 8)
    for (int i = 0; i < 4; i++) {
      t[h + i] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0xdd);
    }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
  }
}

/* a mask of the first n of 16 lanes (n may be <= 0 or > 16) */
static __mmask16 first(int64_t n) {
  return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n > 0 ? n : 0)) - 1);
}

/* One packed panel of width w (MR or NR): dst[p][t] := the pair (x(2p, t), x(2p+1, t))
 * for p < ceil(kc/2), t < w, where x(l, t) is src[t*ld + l] when kcontig (runs along k)
 * else src[l*ld + t] (rows along k), zero for l >= kc or t >= tw. */
TARGET static void pack_panel(uint32_t *dst, const float *src, int64_t ld, int kcontig,
                              int64_t kc, int64_t tw, int w) {
  int64_t np = (kc + 1) / 2;
  if (!kcontig) {
    for (int64_t p = 0; p < np; p++) {
      const float *r0 = src + 2 * p * ld, *r1 = r0 + ld;
      int two = 2 * p + 1 < kc;
      for (int t = 0; t < w; t += 16) {
        __mmask16 m = first(tw - t), keep = first(w - t);
        __m512 x0 = _mm512_maskz_loadu_ps(m, r0 + t);
        __m512 x1 = two ? _mm512_maskz_loadu_ps(m, r1 + t) : _mm512_setzero_ps();
        _mm512_mask_storeu_epi32(dst + p * w + t, keep, pair_rows(x0, x1));
      }
    }
    return;
  }
  for (int t = 0; t < w; t += 16)              /* 16 indices ... */
    for (int64_t p0 = 0; p0 < np; p0 += 16) {  /* ... by 16 pairs: convert, transpose */
      __m512i v[16];
      __mmask16 m0 = first(kc - 2 * p0), m1 = first(kc - 2 * p0 - 16);
      for (int i = 0; i < 16; i++) {
        if (t + i >= tw) {
          v[i] = _mm512_setzero_si512();
          continue;
        }
        const float *s = src + (t + i) * ld + 2 * p0;
        v[i] = pair_run(_mm512_maskz_loadu_ps(m0, s), _mm512_maskz_loadu_ps(m1, s + 16));
      }
      transpose16(v);
      __mmask16 keep = first(w - t);
      int64_t pn = np - p0 < 16 ? np - p0 : 16;
      for (int64_t p = 0; p < pn; p++) _mm512_mask_storeu_epi32(dst + (p0 + p) * w + t, keep, v[p]);
    }
}

/* --- the microkernel --- */

/* C (mr, nr) := alpha * a (np pairs x MR) . b (np pairs x 16*nv) + beta * C, mr <= MR,
 * nr <= 16*nv; beta == 0 never reads C. nv (1 to 3 vectors of columns) is a constant
 * in each copy below: a narrow B (n <= 32) computes no padding columns. */
TARGET static inline __attribute__((always_inline)) void
kernel_t(int nv, int64_t np, const uint32_t *a, const uint32_t *b, float *c, int64_t ldc, int mr,
         int nr, float alpha, float beta) {
  __m512 acc[MR][3];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < nv; v++) acc[r][v] = _mm512_setzero_ps();
  for (int64_t p = 0; p < np; p++, a += MR, b += 16 * nv) {
    __m512bh bv[3];
    for (int v = 0; v < nv; v++) bv[v] = (__m512bh)_mm512_load_si512(b + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      __m512bh ar = (__m512bh)_mm512_set1_epi32((int)a[r]);
      for (int v = 0; v < nv; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], ar, bv[v]);
    }
  }
  __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  __mmask16 m[3] = {first(nr), first(nr - 16), first(nr - 32)};
  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++) {
      float *cr = c + r * ldc + 16 * v;
      __m512 y = _mm512_mul_ps(va, acc[r][v]);
      if (beta != 0) y = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m[v], cr), y);
      _mm512_mask_storeu_ps(cr, m[v], y);
    }
}

typedef void (*kernel_fn)(int64_t np, const uint32_t *a, const uint32_t *b, float *c, int64_t ldc,
                          int mr, int nr, float alpha, float beta);

#define KERNEL(NV)                                                                          \
  TARGET static void kernel##NV(int64_t np, const uint32_t *a, const uint32_t *b, float *c,   \
                                int64_t ldc, int mr, int nr, float alpha, float beta) {       \
    kernel_t(NV, np, a, b, c, ldc, mr, nr, alpha, beta);                                      \
  }
KERNEL(1)
KERNEL(2)
KERNEL(3)
#undef KERNEL

/* --- the blocked product (generic code: threads and blocks, calls into the kernels) --- */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* One product: operands, shapes and the blocking chosen for it. */
typedef struct job {
  int ta, tb;
  int64_t m, n, k, kc;     /* kc: k per block, even, the blocks as equal as can be */
  int nr;                  /* columns per B sliver: 16, 32 or 48 */
  kernel_fn kernel;
  float alpha, beta;
  const float *A, *B;
  float *C;
  int64_t lda, ldb, ldc;
} job;

/* C[i0:i1, c0:c1] of the product j, on the calling thread with its own panels: the
 * Goto/BLIS loops (B block, A block, then tiles by B sliver and A sliver, so that the
 * B sliver stays in L1). Returns EM_OK or EM_ENOMEM (recorded on this thread). */
static int run_stripe(const job *j, int64_t i0, int64_t i1, int64_t c0, int64_t c1) {
  const int nr = j->nr;
  size_t na = (size_t)(j->kc / 2 * round_up(min64(i1 - i0, MC), MR)) * 4;
  size_t nb = (size_t)(j->kc / 2 * round_up(min64(c1 - c0, NC), nr)) * 4;
  buffers *bs = thread_buffers();
  uint32_t *ap = bs ? grow(&bs->a, na) : NULL, *bp = bs ? grow(&bs->b, nb) : NULL;
  if (!ap || !bp) return em_error_nomem("bfloat16 gemm panels", na + nb);
  for (int64_t jc = c0; jc < c1; jc += NC) {
    int64_t nc = min64(NC, c1 - jc), nsl = (nc + nr - 1) / nr;
    for (int64_t pc = 0; pc < j->k; pc += j->kc) {
      int64_t kc = min64(j->kc, j->k - pc), np = (kc + 1) / 2;
      float b_eff = pc == 0 ? j->beta : 1.0f;
      /* B block (kc, nc): B[l][c] at B[l*ldb + c], or B[c*ldb + l] when transposed */
      for (int64_t s = 0; s < nsl; s++) {
        int64_t c = jc + s * nr;
        const float *src = j->tb ? j->B + c * j->ldb + pc : j->B + pc * j->ldb + c;
        pack_panel(bp + s * np * nr, src, j->ldb, j->tb, kc, min64(nr, nc - s * nr), nr);
      }
      for (int64_t ic = i0; ic < i1; ic += MC) {
        int64_t mc = min64(MC, i1 - ic), msl = (mc + MR - 1) / MR;
        /* A block (mc, kc): A[i][l] at A[i*lda + l], or A[l*lda + i] when transposed */
        for (int64_t s = 0; s < msl; s++) {
          int64_t i = ic + s * MR;
          const float *src = j->ta ? j->A + pc * j->lda + i : j->A + i * j->lda + pc;
          pack_panel(ap + s * np * MR, src, j->lda, !j->ta, kc, min64(MR, mc - s * MR), MR);
        }
        for (int64_t js = 0; js < nsl; js++)
          for (int64_t is = 0; is < msl; is++)
            j->kernel(np, ap + is * np * MR, bp + js * np * nr,
                      j->C + (ic + is * MR) * j->ldc + jc + js * nr, j->ldc,
                      (int)min64(MR, mc - is * MR), (int)min64(nr, nc - js * nr), j->alpha, b_eff);
      }
    }
  }
  return EM_OK;
}

/* The product on nt threads: C cut into nt stripes of whole slivers, across the
 * dimension with more of them; each thread packs its own panels (the other operand
 * once per thread, a small share of its work when the cut dimension is long), so the
 * threads never wait for each other. Inside another parallel region (a convolution's
 * images, attention's heads) or for a small product, one thread. */
static int gemm_native(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                       float *C, int64_t ldc) {
  job j = {.ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta,
           .A = A, .B = B, .C = C, .lda = lda, .ldb = ldb, .ldc = ldc};
  int64_t blocks = (k + KC - 1) / KC;
  j.kc = round_up((k + blocks - 1) / blocks, 2);
  j.nr = n <= 16 ? 16 : n <= 32 ? 32 : NR;
  j.kernel = j.nr == 16 ? kernel1 : j.nr == 32 ? kernel2 : kernel3;
  int nt = omp_in_parallel() || m * n * k < GEMM_BF16_GRAIN ? 1 : em_get_num_threads();
  if (nt == 1) return run_stripe(&j, 0, m, 0, n);
  int64_t msl = (m + MR - 1) / MR, nsl = (n + j.nr - 1) / j.nr;
  int by_cols = nsl >= msl, failed = 0;
  #pragma omp parallel num_threads(nt)
  {
    int tid = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t sl = by_cols ? nsl : msl, lo = sl * tid / T, hi = sl * (tid + 1) / T;
    int st = EM_OK;
    if (lo < hi && by_cols) st = run_stripe(&j, 0, m, lo * j.nr, min64(n, hi * j.nr));
    else if (lo < hi) st = run_stripe(&j, lo * MR, min64(m, hi * MR), 0, n);
    if (st != EM_OK) {
      #pragma omp atomic write
      failed = 1;
    }
  }
  if (!failed) return EM_OK;
  em_error("gemm: out of memory for the bfloat16 panels");   /* on this thread */
  return EM_ENOMEM;
}

/* --- other CPUs: operands rounded to bfloat16 values in float32, then sgemm --- */

static float round_to_bf16(float x) { return em_bf16_to_float(em_float_to_bf16(x)); }

static int gemm_portable(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                         float *C, int64_t ldc) {
  size_t na = (size_t)(m * k) * sizeof(float), nb = (size_t)(k * n) * sizeof(float);
  buffers *bs = thread_buffers();
  float *ar = bs ? grow(&bs->a, na) : NULL;   /* (m, k) */
  float *br = bs ? grow(&bs->b, nb) : NULL;   /* (k, n) */
  if (!ar || !br) return em_error_nomem("bfloat16 gemm operands", na + nb);
  for (int64_t i = 0; i < m; i++)
    for (int64_t l = 0; l < k; l++)
      ar[i * k + l] = round_to_bf16(ta ? A[l * lda + i] : A[i * lda + l]);
  for (int64_t l = 0; l < k; l++)
    for (int64_t j = 0; j < n; j++)
      br[l * n + j] = round_to_bf16(tb ? B[j * ldb + l] : B[l * ldb + j]);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, alpha,
              ar, (blasint)k, br, (blasint)n, beta, C, (blasint)ldc);
  return EM_OK;
}

int em_cpu_gemm_bf16(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                     float *C, int64_t ldc) {
  if (m <= 0 || n <= 0) return EM_OK;
  if (k <= 0) {                      /* no products: C := beta * C */
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) C[i * ldc + j] = beta == 0 ? 0.0f : beta * C[i * ldc + j];
    return EM_OK;
  }
  pthread_once(&native_once, choose_kernel);
  if (native) return gemm_native(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  return gemm_portable(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
