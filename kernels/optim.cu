/* Fused optimizer updates on the GPU: one kernel per step over the flat parameter
 * vector (getParameters()), in the parameters' own precision. The formulas are those
 * of src/optim.h and src/cpu_optim.c; scalars that depend on the step (Adam's bias
 * corrections) are computed on the host, so a step never waits for the device. */
#include <math.h>

#include "cuda_ops.cuh"

extern "C" {
#include "optim.h"
}

/* --- kernels: x, g and the state buffers are dense vectors of n elements --- */

template <typename T>
__global__ void sgd_kernel(T *x, const T *g, T *buf, int64_t n, T lr, T mom, T keep, T wd,
                           int nesterov, int first) {
  EM_CUDA_LOOP(i, n) {
    T d = g[i] + wd * x[i];
    if (buf) {
      T b = first ? d : mom * buf[i] + keep * d;
      buf[i] = b;
      d = nesterov ? d + mom * b : b;
    }
    x[i] -= lr * d;
  }
}

template <typename T>
__global__ void adam_kernel(T *x, const T *g, T *m, T *v, int64_t n, T b1, T b2, T eps, T wd,
                            T shrink, T step) {
  EM_CUDA_LOOP(i, n) {
    T xi = x[i];
    T d = g[i] + wd * xi;
    T mi = b1 * m[i] + (1 - b1) * d;
    T vi = b2 * v[i] + (1 - b2) * d * d;
    m[i] = mi;
    v[i] = vi;
    x[i] = xi * shrink - step * mi / (sqrt(vi) + eps);
  }
}

template <typename T>
__global__ void rmsprop_kernel(T *x, const T *g, T *sq, int64_t n, T lr, T a, T eps, T wd) {
  EM_CUDA_LOOP(i, n) {
    T d = g[i] + wd * x[i];
    T s = a * sq[i] + (1 - a) * d * d;
    sq[i] = s;
    x[i] -= lr * d / (sqrt(s) + eps);
  }
}

template <typename T>
__global__ void adagrad_kernel(T *x, const T *g, T *sum, int64_t n, T lr, T eps, T wd) {
  EM_CUDA_LOOP(i, n) {
    T d = g[i] + wd * x[i];
    T s = sum[i] + d * d;
    sum[i] = s;
    x[i] -= lr * d / (sqrt(s) + eps);
  }
}

template <typename T>
__global__ void adadelta_kernel(T *x, const T *g, T *sq, T *acc, int64_t n, T lr, T rho, T eps,
                                T wd) {
  EM_CUDA_LOOP(i, n) {
    T d = g[i] + wd * x[i];
    T s = rho * sq[i] + (1 - rho) * d * d;
    sq[i] = s;
    T delta = sqrt(acc[i] + eps) / sqrt(s + eps) * d;
    x[i] -= lr * delta;
    acc[i] = rho * acc[i] + (1 - rho) * delta * delta;
  }
}

/* --- launchers --- */

template <typename T>
static int launch_sgd(em_tensor *x, const em_tensor *g, em_tensor *buf, const em_sgd_options *o,
                      cudaStream_t s) {
  int64_t n = em_tensor_numel(x);
  T *b = buf && buf->storage ? (T *)em_cuda_data(buf) : NULL;   /* as cpu_optim.c */
  sgd_kernel<T><<<em_cuda_grid(n, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      (T *)em_cuda_data(x), (const T *)em_cuda_data(g), b, n, (T)o->lr, (T)o->momentum,
      (T)(1 - o->dampening), (T)o->weight_decay, o->nesterov, o->first);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int launch_adam(em_tensor *x, const em_tensor *g, em_tensor *m, em_tensor *v,
                       const em_adam_options *o, cudaStream_t s) {
  int64_t n = em_tensor_numel(x);
  double bc1 = 1 - pow(o->beta1, (double)o->step), bc2 = 1 - pow(o->beta2, (double)o->step);
  double step = o->lr * sqrt(bc2) / bc1;
  T wd = (T)(o->decoupled ? 0 : o->weight_decay);
  T shrink = (T)(o->decoupled ? 1 - o->lr * o->weight_decay : 1);
  adam_kernel<T><<<em_cuda_grid(n, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      (T *)em_cuda_data(x), (const T *)em_cuda_data(g), (T *)em_cuda_data(m),
      (T *)em_cuda_data(v), n, (T)o->beta1, (T)o->beta2, (T)o->eps, wd, shrink, (T)step);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int launch_rmsprop(em_tensor *x, const em_tensor *g, em_tensor *sq,
                          const em_rmsprop_options *o, cudaStream_t s) {
  int64_t n = em_tensor_numel(x);
  rmsprop_kernel<T><<<em_cuda_grid(n, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      (T *)em_cuda_data(x), (const T *)em_cuda_data(g), (T *)em_cuda_data(sq), n, (T)o->lr,
      (T)o->alpha, (T)o->eps, (T)o->weight_decay);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int launch_adagrad(em_tensor *x, const em_tensor *g, em_tensor *sum,
                          const em_adagrad_options *o, cudaStream_t s) {
  int64_t n = em_tensor_numel(x);
  adagrad_kernel<T><<<em_cuda_grid(n, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      (T *)em_cuda_data(x), (const T *)em_cuda_data(g), (T *)em_cuda_data(sum), n, (T)o->lr,
      (T)o->eps, (T)o->weight_decay);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

template <typename T>
static int launch_adadelta(em_tensor *x, const em_tensor *g, em_tensor *sq, em_tensor *acc,
                           const em_adadelta_options *o, cudaStream_t s) {
  int64_t n = em_tensor_numel(x);
  adadelta_kernel<T><<<em_cuda_grid(n, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, s>>>(
      (T *)em_cuda_data(x), (const T *)em_cuda_data(g), (T *)em_cuda_data(sq),
      (T *)em_cuda_data(acc), n, (T)o->lr, (T)o->rho, (T)o->eps, (T)o->weight_decay);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

/* --- the table: an empty vector is a no-op; everything else was checked by em_optim_* --- */

static int cuda_sgd(em_tensor *x, const em_tensor *g, em_tensor *buf, const em_sgd_options *o) {
  cudaStream_t s;
  if (em_tensor_numel(x) == 0) return EM_OK;
  if (em_cuda_use(x->device, &s) != EM_OK) return EM_ERR;
  return x->dtype == EM_FLOAT64 ? launch_sgd<double>(x, g, buf, o, s)
                                : launch_sgd<float>(x, g, buf, o, s);
}

static int cuda_adam(em_tensor *x, const em_tensor *g, em_tensor *m, em_tensor *v,
                     const em_adam_options *o) {
  cudaStream_t s;
  if (em_tensor_numel(x) == 0) return EM_OK;
  if (em_cuda_use(x->device, &s) != EM_OK) return EM_ERR;
  return x->dtype == EM_FLOAT64 ? launch_adam<double>(x, g, m, v, o, s)
                                : launch_adam<float>(x, g, m, v, o, s);
}

static int cuda_rmsprop(em_tensor *x, const em_tensor *g, em_tensor *sq,
                        const em_rmsprop_options *o) {
  cudaStream_t s;
  if (em_tensor_numel(x) == 0) return EM_OK;
  if (em_cuda_use(x->device, &s) != EM_OK) return EM_ERR;
  return x->dtype == EM_FLOAT64 ? launch_rmsprop<double>(x, g, sq, o, s)
                                : launch_rmsprop<float>(x, g, sq, o, s);
}

static int cuda_adagrad(em_tensor *x, const em_tensor *g, em_tensor *sum,
                        const em_adagrad_options *o) {
  cudaStream_t s;
  if (em_tensor_numel(x) == 0) return EM_OK;
  if (em_cuda_use(x->device, &s) != EM_OK) return EM_ERR;
  return x->dtype == EM_FLOAT64 ? launch_adagrad<double>(x, g, sum, o, s)
                                : launch_adagrad<float>(x, g, sum, o, s);
}

static int cuda_adadelta(em_tensor *x, const em_tensor *g, em_tensor *sq, em_tensor *acc,
                         const em_adadelta_options *o) {
  cudaStream_t s;
  if (em_tensor_numel(x) == 0) return EM_OK;
  if (em_cuda_use(x->device, &s) != EM_OK) return EM_ERR;
  return x->dtype == EM_FLOAT64 ? launch_adadelta<double>(x, g, sq, acc, o, s)
                                : launch_adadelta<float>(x, g, sq, acc, o, s);
}

extern "C" const struct em_optim_backend em_cuda_optim = {
  cuda_sgd,
  cuda_adam,
  cuda_rmsprop,
  cuda_adagrad,
  cuda_adadelta,
};
