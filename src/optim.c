/* Public optim ops: argument checks once, then the device backend's fused update. */
#include "optim.h"

/* t must be a contiguous float32/float64 tensor like x (dtype, device, numel). */
static int check_like(const char *op, const char *what, const em_tensor *x, const em_tensor *t) {
  if (!em_tensor_is_contiguous(t))
    return em_error("%s: %s must be contiguous (a flat vector from getParameters())", op, what);
  if (t->dtype != x->dtype)
    return em_error("%s: %s is %s, parameters are %s", op, what, em_dtype_info[t->dtype].name,
                    em_dtype_info[x->dtype].name);
  if (em_check_same_device(op, x, t) != EM_OK) return EM_ERR;
  if (em_tensor_numel(t) != em_tensor_numel(x))
    return em_error("%s: %s has %lld elements, parameters %lld", op, what,
                    (long long)em_tensor_numel(t), (long long)em_tensor_numel(x));
  return EM_OK;
}

static int missing(const char *op, const em_tensor *x) {
  return em_error("%s: not implemented for %s on %s", op, em_dtype_info[x->dtype].name,
                  em_device_name(x->device));
}

/* Checks x and every other tensor; returns the backend's optim table or NULL (error set). */
static const struct em_optim_backend *prepare(const char *op, const em_tensor *x, int n,
                                              const em_tensor *const *ts, const char *const *names) {
  if (x->dtype != EM_FLOAT32 && x->dtype != EM_FLOAT64) {
    em_error("%s: parameters are %s; expected float32 or float64", op, em_dtype_info[x->dtype].name);
    return NULL;
  }
  if (!em_tensor_is_contiguous(x)) {
    em_error("%s: parameters must be contiguous (a flat vector from getParameters())", op);
    return NULL;
  }
  for (int i = 0; i < n; i++)
    if (check_like(op, names[i], x, ts[i]) != EM_OK) return NULL;
  const em_backend *be = em_backend_of(x->device);
  if (!be) return NULL;
  if (!be->optim) {
    missing(op, x);
    return NULL;
  }
  return be->optim;
}

int em_optim_sgd(em_tensor *x, const em_tensor *g, em_tensor *buf, const em_sgd_options *o) {
  if (o->nesterov && (o->momentum <= 0 || o->dampening != 0))
    return em_error("sgd: Nesterov momentum needs a momentum > 0 and zero dampening");
  if (o->momentum != 0 && !buf) return em_error("sgd: momentum needs a state buffer");
  const em_tensor *ts[] = {g, buf};
  const char *names[] = {"gradient", "momentum buffer"};
  const struct em_optim_backend *ob = prepare("sgd", x, o->momentum != 0 ? 2 : 1, ts, names);
  if (!ob) return EM_ERR;
  if (!ob->sgd) return missing("sgd", x);
  return em_tensor_numel(x) ? ob->sgd(x, g, o->momentum != 0 ? buf : NULL, o) : EM_OK;
}

int em_optim_adam(em_tensor *x, const em_tensor *g, em_tensor *m, em_tensor *v,
                  const em_adam_options *o) {
  const char *op = o->decoupled ? "adamw" : "adam";
  if (o->step < 1) return em_error("%s: step must be at least 1, got %lld", op, (long long)o->step);
  if (!(o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1))
    return em_error("%s: betas must lie in [0, 1), got %g and %g", op, o->beta1, o->beta2);
  const em_tensor *ts[] = {g, m, v};
  const char *names[] = {"gradient", "first moment", "second moment"};
  const struct em_optim_backend *ob = prepare(op, x, 3, ts, names);
  if (!ob) return EM_ERR;
  if (!ob->adam) return missing(op, x);
  return em_tensor_numel(x) ? ob->adam(x, g, m, v, o) : EM_OK;
}

int em_optim_rmsprop(em_tensor *x, const em_tensor *g, em_tensor *sq,
                     const em_rmsprop_options *o) {
  const em_tensor *ts[] = {g, sq};
  const char *names[] = {"gradient", "mean square"};
  const struct em_optim_backend *ob = prepare("rmsprop", x, 2, ts, names);
  if (!ob) return EM_ERR;
  if (!ob->rmsprop) return missing("rmsprop", x);
  return em_tensor_numel(x) ? ob->rmsprop(x, g, sq, o) : EM_OK;
}

int em_optim_adagrad(em_tensor *x, const em_tensor *g, em_tensor *sum,
                     const em_adagrad_options *o) {
  const em_tensor *ts[] = {g, sum};
  const char *names[] = {"gradient", "square sum"};
  const struct em_optim_backend *ob = prepare("adagrad", x, 2, ts, names);
  if (!ob) return EM_ERR;
  if (!ob->adagrad) return missing("adagrad", x);
  return em_tensor_numel(x) ? ob->adagrad(x, g, sum, o) : EM_OK;
}

int em_optim_adadelta(em_tensor *x, const em_tensor *g, em_tensor *sq, em_tensor *acc,
                      const em_adadelta_options *o) {
  if (!(o->rho >= 0 && o->rho <= 1))
    return em_error("adadelta: rho must lie in [0, 1], got %g", o->rho);
  if (!(o->eps > 0)) return em_error("adadelta: epsilon must be positive, got %g", o->eps);
  const em_tensor *ts[] = {g, sq, acc};
  const char *names[] = {"gradient", "mean square", "mean square update"};
  const struct em_optim_backend *ob = prepare("adadelta", x, 3, ts, names);
  if (!ob) return EM_ERR;
  if (!ob->adadelta) return missing("adadelta", x);
  return em_tensor_numel(x) ? ob->adadelta(x, g, sq, acc, o) : EM_OK;
}
