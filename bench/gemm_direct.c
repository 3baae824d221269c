/* The direct-OpenBLAS baseline for W0: cblas_sgemm on square row-major float32
 * matrices, timed exactly as bench/run.lua times Ember's torch.mm (reps calls per run,
 * wall clock, after warm-up calls), so the two figures compare only Ember's overhead.
 * Usage: gemm_direct N REPS RUNS   -> one "GFLOP/s <value>" line per run.
 * Thread count: OpenBLAS's own (OMP_NUM_THREADS for the OpenMP build). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s N REPS RUNS\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]), reps = atoi(argv[2]), runs = atoi(argv[3]);
  size_t nn = (size_t)n * (size_t)n;
  float *a = aligned_alloc(64, nn * sizeof(float));   /* (n, n) each */
  float *b = aligned_alloc(64, nn * sizeof(float));
  float *c = aligned_alloc(64, nn * sizeof(float));
  if (!a || !b || !c || n <= 0 || reps <= 0 || runs <= 0) return 1;
  srand(1);
  for (size_t i = 0; i < nn; i++) {
    a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    b[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  }
  for (int i = 0; i < 3; i++)   /* warm-up: thread pool, page faults */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
  double flop = 2.0 * n * (double)n * (double)n * reps;
  for (int r = 0; r < runs; r++) {
    double t0 = now();
    for (int i = 0; i < reps; i++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    printf("GFLOP/s %.3f\n", flop / (now() - t0) / 1e9);
  }
  free(a);
  free(b);
  free(c);
  return 0;
}
