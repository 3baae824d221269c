/* CPU fused optimizer updates: one loop per step over the flat parameter vector, in the
 * parameters' own precision, on all threads when the vector is large. The formulas are
 * in optim.h; em_optim_* has checked that every tensor is contiguous and alike. */
#include <math.h>
#include <omp.h>

#include "optim.h"
#include "parallel.h"

/* Each *_LOOP(T) is the update of elements [lo, hi) for element type T; it is expanded
 * once for float and once for double in the *_block functions below. Scalars arrive as
 * double and are narrowed to T once, before the loop. */

/* This thread's share [*lo, *hi) of n elements inside a parallel region. */
static void thread_block(int64_t n, int64_t *lo, int64_t *hi) {
  int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
  *lo = n * t / nt;
  *hi = n * (t + 1) / nt;
}

/* Runs block(args, lo, hi) over [0, n): split over the pool when n is large, else on
 * this thread. A plain if, not an OpenMP if clause: a small vector never enters the
 * OpenMP runtime (an if(0) region still cost ~1.5 us per step). */
#define RUN_BLOCKS(n, BLOCK, ...)                                                     \
  do {                                                                             \
    if ((n) < EM_PARALLEL_GRAIN) {                                                 \
      BLOCK(__VA_ARGS__, 0, (n));                                                  \
    } else {                                                                       \
      _Pragma("omp parallel")                                                      \
      {                                                                            \
        int64_t lo_, hi_;                                                          \
        thread_block((n), &lo_, &hi_);                                             \
        BLOCK(__VA_ARGS__, lo_, hi_);                                              \
      }                                                                            \
    }                                                                              \
  } while (0)

#define SGD_LOOP(T)                                                                  \
  do {                                                                             \
    T *x = em_tensor_data(xt), *b = buf ? em_tensor_data(buf) : NULL;              \
    const T *g = em_tensor_data(gt);                                               \
    const T lr = (T)o->lr, mom = (T)o->momentum, wd = (T)o->weight_decay;          \
    const T keep = (T)(1 - o->dampening);                                          \
    const int nesterov = o->nesterov, first = o->first;                            \
    for (int64_t i = lo; i < hi; i++) {                                            \
      T d = g[i] + wd * x[i];                                                      \
      if (b) {                                                                     \
        b[i] = first ? d : mom * b[i] + keep * d;                                  \
        d = nesterov ? d + mom * b[i] : b[i];                                      \
      }                                                                            \
      x[i] -= lr * d;                                                              \
    }                                                                              \
  } while (0)

static void sgd_block(em_tensor *xt, const em_tensor *gt, em_tensor *buf,
                      const em_sgd_options *o, int64_t lo, int64_t hi) {
  if (xt->dtype == EM_FLOAT32) SGD_LOOP(float);
  else SGD_LOOP(double);
}

static int cpu_sgd(em_tensor *xt, const em_tensor *gt, em_tensor *buf, const em_sgd_options *o) {
  RUN_BLOCKS(em_tensor_numel(xt), sgd_block, xt, gt, buf, o);
  return EM_OK;
}

#define ADAM_LOOP(T, SQRT)                                                           \
  do {                                                                             \
    T *x = em_tensor_data(xt), *m = em_tensor_data(mt), *v = em_tensor_data(vt);   \
    const T *g = em_tensor_data(gt);                                               \
    const T b1 = (T)o->beta1, b2 = (T)o->beta2, eps = (T)o->eps;                   \
    const T wd = (T)(o->decoupled ? 0 : o->weight_decay);                          \
    const T shrink = (T)(o->decoupled ? 1 - o->lr * o->weight_decay : 1);          \
    const T step = (T)step_size;                                                   \
    for (int64_t i = lo; i < hi; i++) {                                            \
      T xi = x[i] * shrink;                                                        \
      T d = g[i] + wd * x[i];                                                      \
      m[i] = b1 * m[i] + (1 - b1) * d;                                             \
      v[i] = b2 * v[i] + (1 - b2) * d * d;                                         \
      x[i] = xi - step * m[i] / (SQRT(v[i]) + eps);                                \
    }                                                                              \
  } while (0)

static void adam_block(em_tensor *xt, const em_tensor *gt, em_tensor *mt, em_tensor *vt,
                       const em_adam_options *o, double step_size, int64_t lo, int64_t hi) {
  if (xt->dtype == EM_FLOAT32) ADAM_LOOP(float, sqrtf);
  else ADAM_LOOP(double, sqrt);
}

static int cpu_adam(em_tensor *xt, const em_tensor *gt, em_tensor *mt, em_tensor *vt,
                    const em_adam_options *o) {
  double bc1 = 1 - pow(o->beta1, (double)o->step), bc2 = 1 - pow(o->beta2, (double)o->step);
  RUN_BLOCKS(em_tensor_numel(xt), adam_block, xt, gt, mt, vt, o, o->lr * sqrt(bc2) / bc1);
  return EM_OK;
}

#define RMSPROP_LOOP(T, SQRT)                                                        \
  do {                                                                             \
    T *x = em_tensor_data(xt), *sq = em_tensor_data(st);                           \
    const T *g = em_tensor_data(gt);                                               \
    const T lr = (T)o->lr, a = (T)o->alpha, eps = (T)o->eps;                       \
    const T wd = (T)o->weight_decay;                                               \
    for (int64_t i = lo; i < hi; i++) {                                            \
      T d = g[i] + wd * x[i];                                                      \
      sq[i] = a * sq[i] + (1 - a) * d * d;                                         \
      x[i] -= lr * d / (SQRT(sq[i]) + eps);                                        \
    }                                                                              \
  } while (0)

static void rmsprop_block(em_tensor *xt, const em_tensor *gt, em_tensor *st,
                          const em_rmsprop_options *o, int64_t lo, int64_t hi) {
  if (xt->dtype == EM_FLOAT32) RMSPROP_LOOP(float, sqrtf);
  else RMSPROP_LOOP(double, sqrt);
}

static int cpu_rmsprop(em_tensor *xt, const em_tensor *gt, em_tensor *st,
                       const em_rmsprop_options *o) {
  RUN_BLOCKS(em_tensor_numel(xt), rmsprop_block, xt, gt, st, o);
  return EM_OK;
}

#define ADAGRAD_LOOP(T, SQRT)                                                        \
  do {                                                                             \
    T *x = em_tensor_data(xt), *sum = em_tensor_data(st);                          \
    const T *g = em_tensor_data(gt);                                               \
    const T lr = (T)o->lr, eps = (T)o->eps, wd = (T)o->weight_decay;               \
    for (int64_t i = lo; i < hi; i++) {                                            \
      T d = g[i] + wd * x[i];                                                      \
      sum[i] += d * d;                                                             \
      x[i] -= lr * d / (SQRT(sum[i]) + eps);                                       \
    }                                                                              \
  } while (0)

static void adagrad_block(em_tensor *xt, const em_tensor *gt, em_tensor *st,
                          const em_adagrad_options *o, int64_t lo, int64_t hi) {
  if (xt->dtype == EM_FLOAT32) ADAGRAD_LOOP(float, sqrtf);
  else ADAGRAD_LOOP(double, sqrt);
}

static int cpu_adagrad(em_tensor *xt, const em_tensor *gt, em_tensor *st,
                       const em_adagrad_options *o) {
  RUN_BLOCKS(em_tensor_numel(xt), adagrad_block, xt, gt, st, o);
  return EM_OK;
}

#define ADADELTA_LOOP(T, SQRT)                                                       \
  do {                                                                             \
    T *x = em_tensor_data(xt), *sq = em_tensor_data(st), *acc = em_tensor_data(at); \
    const T *g = em_tensor_data(gt);                                               \
    const T lr = (T)o->lr, rho = (T)o->rho, eps = (T)o->eps;                       \
    const T wd = (T)o->weight_decay;                                               \
    for (int64_t i = lo; i < hi; i++) {                                            \
      T d = g[i] + wd * x[i];                                                      \
      sq[i] = rho * sq[i] + (1 - rho) * d * d;                                     \
      T delta = SQRT(acc[i] + eps) / SQRT(sq[i] + eps) * d;                        \
      x[i] -= lr * delta;                                                          \
      acc[i] = rho * acc[i] + (1 - rho) * delta * delta;                           \
    }                                                                              \
  } while (0)

static void adadelta_block(em_tensor *xt, const em_tensor *gt, em_tensor *st, em_tensor *at,
                           const em_adadelta_options *o, int64_t lo, int64_t hi) {
  if (xt->dtype == EM_FLOAT32) ADADELTA_LOOP(float, sqrtf);
  else ADADELTA_LOOP(double, sqrt);
}

static int cpu_adadelta(em_tensor *xt, const em_tensor *gt, em_tensor *st, em_tensor *at,
                        const em_adadelta_options *o) {
  RUN_BLOCKS(em_tensor_numel(xt), adadelta_block, xt, gt, st, at, o);
  return EM_OK;
}

const struct em_optim_backend em_cpu_optim = {
  .sgd = cpu_sgd,
  .adam = cpu_adam,
  .rmsprop = cpu_rmsprop,
  .adagrad = cpu_adagrad,
  .adadelta = cpu_adadelta,
};
