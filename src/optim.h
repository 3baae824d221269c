/* The optim op family: fused optimizer updates. Each op is one pass over a flat
 * parameter vector x (n), its gradient g (n) and the optimizer's state buffers (n each),
 * all contiguous, float32 or float64, of one dtype and on one device; getParameters()
 * gives nn's parameters this shape. The gradient is read, never written. Learning-rate
 * schedules and step counters live in Lua (lua/optim); these ops see the values of
 * this step. */
#ifndef EMBER_OPTIM_H
#define EMBER_OPTIM_H

#include "backend.h"

/* SGD (Torch7 optim.sgd):  d = g + weight_decay * x
 *   momentum != 0:  buf = first ? d : momentum * buf + (1 - dampening) * d
 *                   d   = nesterov ? d + momentum * buf : buf
 *   x -= lr * d */
typedef struct em_sgd_options {
  double lr;             /* this step's (decayed) learning rate */
  double momentum, dampening, weight_decay;
  int nesterov;          /* needs momentum > 0 and dampening == 0 */
  int first;             /* first step: the momentum buffer starts as d */
} em_sgd_options;

/* Adam (Torch7 optim.adam), and AdamW when decoupled:
 *   coupled:    d = g + weight_decay * x        decoupled:  x *= 1 - lr * weight_decay; d = g
 *   m = beta1 * m + (1 - beta1) * d;  v = beta2 * v + (1 - beta2) * d^2
 *   x -= lr * sqrt(1 - beta2^step) / (1 - beta1^step) * m / (sqrt(v) + eps) */
typedef struct em_adam_options {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;          /* 1 on the first update */
  int decoupled;
} em_adam_options;

/* RMSProp (Torch7 optim.rmsprop):  d = g + weight_decay * x
 *   sq = alpha * sq + (1 - alpha) * d^2;  x -= lr * d / (sqrt(sq) + eps) */
typedef struct em_rmsprop_options {
  double lr, alpha, eps, weight_decay;
} em_rmsprop_options;

/* Adagrad (Torch7 optim.adagrad):  d = g + weight_decay * x
 *   sum += d^2;  x -= lr * d / (sqrt(sum) + eps) */
typedef struct em_adagrad_options {
  double lr, eps, weight_decay;
} em_adagrad_options;

/* Adadelta (Zeiler, 2012; Torch7 optim.adadelta, with PyTorch's lr):  d = g + weight_decay * x
 *   sq = rho * sq + (1 - rho) * d^2;  delta = sqrt(acc + eps) / sqrt(sq + eps) * d
 *   x -= lr * delta;  acc = rho * acc + (1 - rho) * delta^2 */
typedef struct em_adadelta_options {
  double lr, rho, eps, weight_decay;
} em_adadelta_options;

/* A backend's fused updates; checks are done by the public ops below. n = numel(x). */
struct em_optim_backend {
  int (*sgd)(em_tensor *x, const em_tensor *g, em_tensor *buf, const em_sgd_options *o);
  int (*adam)(em_tensor *x, const em_tensor *g, em_tensor *m, em_tensor *v,
              const em_adam_options *o);
  int (*rmsprop)(em_tensor *x, const em_tensor *g, em_tensor *sq, const em_rmsprop_options *o);
  int (*adagrad)(em_tensor *x, const em_tensor *g, em_tensor *sum, const em_adagrad_options *o);
  int (*adadelta)(em_tensor *x, const em_tensor *g, em_tensor *sq, em_tensor *acc,
                  const em_adadelta_options *o);
};

extern const struct em_optim_backend em_cpu_optim;

/* Public ops: check, then dispatch to em_backend_of(x->device)->optim. buf may be NULL
 * when momentum is 0. Errors name the op and the offending tensor ("sgd: gradient has
 * 5 elements, parameters 6"). */
int em_optim_sgd(em_tensor *x, const em_tensor *g, em_tensor *buf, const em_sgd_options *o);
int em_optim_adam(em_tensor *x, const em_tensor *g, em_tensor *m, em_tensor *v,
                  const em_adam_options *o);
int em_optim_rmsprop(em_tensor *x, const em_tensor *g, em_tensor *sq,
                     const em_rmsprop_options *o);
int em_optim_adagrad(em_tensor *x, const em_tensor *g, em_tensor *sum,
                     const em_adagrad_options *o);
int em_optim_adadelta(em_tensor *x, const em_tensor *g, em_tensor *sq, em_tensor *acc,
                      const em_adadelta_options *o);

#endif
