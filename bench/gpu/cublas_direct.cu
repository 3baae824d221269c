/* cuBLAS alone: the reference for bench/gpu's matrix products, as bench/gemm_direct.c is
 * for OpenBLAS. The products of bench/gpu/micro.lua called straight on cuBLAS
 * (cublasGemmEx; cublasGemmStridedBatchedEx for bmm) with the compute types Ember's
 * kernels/blas_cublas.cu asks for (float32, TF32, float16/bfloat16 accumulating in
 * float32), timed as micro.lua times Ember: a synchronised loop on the monotonic clock
 * after warm-up calls, per-call seconds, median of runs. Also the device's copy
 * bandwidth (cudaMemcpyAsync device to device, bytes read + written).
 * Build: nvcc -O3 -o cublas_direct bench/gpu/cublas_direct.cu -lcublas   (run.sh does)
 * Usage: cublas_direct [--quick] [--runs N] [--seconds S] [--mm-sizes LIST] [--mem-exps LIST]
 * -> one JSON line per case, as micro.lua prints them, with "side": "cublas".
 * Errors go to stderr and the exit status is 1; a case that fails prints an "error" line. */
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

enum { BLOCK = 256 };   /* threads per block of the fill kernel */

/* --- fill kernel --- */

/* x[i] := a hash of i in [-0.5, 0.5), converted to T (any values do for timing; not
 * zeros, which some tensor cores run faster on). */
template <typename T>
__global__ void fill_kernel(T *x, size_t n, unsigned seed) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  for (; i < n; i += (size_t)gridDim.x * blockDim.x) {
    unsigned h = (unsigned)i * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    x[i] = (T)((float)(h & 0xffffff) / 16777216.0f - 0.5f);
  }
}

/* --- host side --- */

struct options {
  int runs = 5;
  double seconds = 0.25;
  bool quick = false;
  std::vector<int> sizes, exps;
};

static double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static bool cuda_ok(cudaError_t e, const char *what, std::string *err) {
  if (e == cudaSuccess) return true;
  *err = std::string(what) + ": " + cudaGetErrorString(e);
  return false;
}

static bool blas_ok(cublasStatus_t s, const char *what, std::string *err) {
  if (s == CUBLAS_STATUS_SUCCESS) return true;
  *err = std::string(what) + ": " + cublasGetStatusString(s);
  return false;
}

/* A device buffer of n elements of T, filled; freed by its destructor. */
struct buffer {
  void *p = nullptr;
  ~buffer() { if (p) cudaFree(p); }
};

template <typename T>
static bool make(buffer *b, size_t n, unsigned seed, cudaStream_t s, std::string *err) {
  if (!cuda_ok(cudaMalloc(&b->p, n * sizeof(T)), "cudaMalloc", err)) return false;
  fill_kernel<T><<<1024, BLOCK, 0, s>>>((T *)b->p, n, seed);
  return cuda_ok(cudaGetLastError(), "fill_kernel", err);
}

/* Per-call seconds of fn, one figure per run, as micro.lua's perCall. fn returns false
 * (with *err set) when a call fails. */
template <typename F>
static bool per_call(F fn, cudaStream_t s, const options &o, std::vector<double> *out, int *reps,
                     std::string *err) {
  for (int i = 0; i < 3; i++)
    if (!fn()) return false;
  if (!cuda_ok(cudaStreamSynchronize(s), "warm-up", err)) return false;
  double t0 = now();
  if (!fn() || !cuda_ok(cudaStreamSynchronize(s), "sizing call", err)) return false;
  *reps = (int)std::min(20000.0, std::max(3.0, std::ceil(o.seconds / std::max(now() - t0, 1e-6))));
  for (int r = 0; r < o.runs; r++) {
    double t = now();
    for (int i = 0; i < *reps; i++)
      if (!fn()) return false;
    if (!cuda_ok(cudaStreamSynchronize(s), "timed loop", err)) return false;
    out->push_back((now() - t) / *reps);
  }
  return true;
}

static void emit(const char *name, const char *unit, const std::vector<double> &rates, int reps) {
  printf("{\"side\": \"cublas\", \"name\": \"%s\", \"unit\": \"%s\", \"runs\": [", name, unit);
  for (size_t i = 0; i < rates.size(); i++) printf("%s%.6g", i ? ", " : "", rates[i]);
  printf("], \"reps\": %d}\n", reps);
  fflush(stdout);
}

static void emit_error(const char *name, const char *unit, const std::string &err) {
  fprintf(stderr, "%s: %s\n", name, err.c_str());
  printf("{\"side\": \"cublas\", \"name\": \"%s\", \"unit\": \"%s\", \"error\": \"%s\"}\n", name, unit,
         err.c_str());
  fflush(stdout);
}

/* One product case: batch products of n x n matrices, C := A B + beta C. */
static void gemm_case(cublasHandle_t h, cudaStream_t s, const options &o, const char *prec, int n,
                      int batch, bool strided, float beta, const char *name) {
  bool half = !strcmp(prec, "float16"), bf = !strcmp(prec, "bfloat16");
  cudaDataType_t t = half ? CUDA_R_16F : bf ? CUDA_R_16BF : CUDA_R_32F;
  cublasComputeType_t ct = !strcmp(prec, "tf32") ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  size_t nn = (size_t)n * n, count = nn * batch;
  buffer a, b, c;
  std::string err;
  bool ok = true;
  if (half) ok = make<__half>(&a, count, 1, s, &err) && make<__half>(&b, count, 2, s, &err) &&
                 make<__half>(&c, count, 3, s, &err);
  else if (bf) ok = make<__nv_bfloat16>(&a, count, 1, s, &err) && make<__nv_bfloat16>(&b, count, 2, s, &err) &&
                    make<__nv_bfloat16>(&c, count, 3, s, &err);
  else ok = make<float>(&a, count, 1, s, &err) && make<float>(&b, count, 2, s, &err) &&
            make<float>(&c, count, 3, s, &err);
  float alpha = 1;
  /* row-major C = A B is column-major C^T = B^T A^T: pass B first, as Ember does */
  auto call = [&]() {
    cublasStatus_t st = strided
        ? cublasGemmStridedBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, b.p, t, n, nn, a.p, t, n,
                                     nn, &beta, c.p, t, n, nn, batch, ct, CUBLAS_GEMM_DEFAULT)
        : cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, b.p, t, n, a.p, t, n, &beta, c.p, t, n,
                       ct, CUBLAS_GEMM_DEFAULT);
    return blas_ok(st, strided ? "cublasGemmStridedBatchedEx" : "cublasGemmEx", &err);
  };
  std::vector<double> secs;
  int reps = 0;
  if (ok) ok = per_call(call, s, o, &secs, &reps, &err);
  if (!ok) return emit_error(name, "TFLOP/s", err);
  std::vector<double> rates;
  for (double x : secs) rates.push_back(2.0 * n * (double)n * (double)n * batch / x / 1e12);
  emit(name, "TFLOP/s", rates, reps);
}

/* The device's bandwidth: cudaMemcpyAsync of 2^e floats, counting read + written bytes. */
static void bandwidth_case(cudaStream_t s, const options &o, int e) {
  char name[64];
  snprintf(name, sizeof name, "bandwidth 2^%d", e);
  size_t n = (size_t)1 << e;
  buffer a, b;
  std::string err;
  bool ok = make<float>(&a, n, 1, s, &err) && make<float>(&b, n, 2, s, &err);
  auto call = [&]() {
    return cuda_ok(cudaMemcpyAsync(b.p, a.p, n * sizeof(float), cudaMemcpyDeviceToDevice, s), "cudaMemcpyAsync", &err);
  };
  std::vector<double> secs;
  int reps = 0;
  if (ok) ok = per_call(call, s, o, &secs, &reps, &err);
  if (!ok) return emit_error(name, "GB/s", err);
  std::vector<double> rates;
  for (double x : secs) rates.push_back(8.0 * (double)n / x / 1e9);
  emit(name, "GB/s", rates, reps);
}

static std::vector<int> parse_list(const char *s) {
  std::vector<int> v;
  for (const char *p = s; *p;) {
    v.push_back(atoi(p));
    const char *q = strchr(p, ',');
    if (!q) break;
    p = q + 1;
  }
  return v;
}

int main(int argc, char **argv) {
  options o;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (!strcmp(a, "--quick")) o.quick = true;
    else if (!strcmp(a, "--runs") && v) o.runs = atoi(argv[++i]);
    else if (!strcmp(a, "--seconds") && v) o.seconds = atof(argv[++i]);
    else if (!strcmp(a, "--mm-sizes") && v) o.sizes = parse_list(argv[++i]);
    else if (!strcmp(a, "--mem-exps") && v) o.exps = parse_list(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--quick] [--runs N] [--seconds S] [--mm-sizes LIST] [--mem-exps LIST]\n", argv[0]);
      return 2;
    }
  }
  if (o.runs < 1 || o.seconds <= 0) {
    fprintf(stderr, "cublas_direct: --runs and --seconds must be positive\n");
    return 2;
  }
  if (o.sizes.empty()) o.sizes = o.quick ? std::vector<int>{1024, 4096} : std::vector<int>{1024, 2048, 4096, 8192};
  int bw_exp = o.exps.empty() ? 28 : *std::max_element(o.exps.begin(), o.exps.end());

  int devices = 0;
  cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    fprintf(stderr, "cublas_direct: no GPU to benchmark: %s\n", e != cudaSuccess ? cudaGetErrorString(e) : "no device");
    return 1;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  int cublas_version = 0;
  cudaStream_t s;
  cublasHandle_t h;
  if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) != cudaSuccess || cublasCreate(&h) != CUBLAS_STATUS_SUCCESS ||
      cublasSetStream(h, s) != CUBLAS_STATUS_SUCCESS) {
    fprintf(stderr, "cublas_direct: cannot set up a stream and a cuBLAS handle\n");
    return 1;
  }
  cublasGetVersion(h, &cublas_version);
  printf("{\"side\": \"cublas\", \"info\": \"%s, cuBLAS %d\"}\n", prop.name, cublas_version);

  char name[64];
  for (const char *prec : {"float32", "tf32", "bfloat16", "float16"})
    for (int n : o.sizes) {
      snprintf(name, sizeof name, "mm %s %d", prec, n);
      gemm_case(h, s, o, prec, n, 1, false, 0, name);
    }
  for (int n : o.sizes) {
    int batch = std::max(2, 16 * 1024 / n);
    snprintf(name, sizeof name, "bmm float32 %dx%d", batch, n);
    gemm_case(h, s, o, "float32", n, batch, true, 0, name);
    snprintf(name, sizeof name, "addmm float32 %d", n);
    gemm_case(h, s, o, "float32", n, 1, false, 1, name);
  }
  bandwidth_case(s, o, bw_exp);
  cublasDestroy(h);
  cudaStreamDestroy(s);
  return 0;
}
