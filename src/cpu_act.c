/* CPU fused activation kernels (act.h): one loop per op and dtype over contiguous
 * memory, split across the OpenMP pool only when the tensor is large enough to pay
 * for waking it (a tiny tensor never enters a parallel region). */
#include "act.h"
#include "parallel.h"

static int is_float(em_dtype dt) { return dt == EM_FLOAT32 || dt == EM_FLOAT64; }

static int shares(const em_tensor *x, const em_tensor *y) {
  return x->storage && x->storage == y->storage;
}

static int same_data(const em_tensor *x, const em_tensor *y) {
  return em_tensor_data(x) == em_tensor_data(y);
}

int em_act_fusable(em_tensor *out, const em_tensor *a, const em_tensor *b) {
  if (!is_float(a->dtype) || a->device.type != EM_CPU || !em_tensor_is_contiguous(a)) return 0;
  if (b && (b->dtype != a->dtype || b->device.type != EM_CPU || !em_tensor_same_shape(a, b) ||
            !em_tensor_is_contiguous(b)))
    return 0;
  if (out->dtype != a->dtype || out->device.type != EM_CPU) return 0;
  if (out != a && out != b) {
    if (shares(out, a) || (b && shares(out, b))) return 0;   /* views of the inputs: plain path */
    if (em_tensor_resize(out, a->ndim, a->size) != EM_OK) return 0;
  }
  if (!em_tensor_is_contiguous(out)) return 0;
  if (out == a || out == b) {            /* in place: the other input must not overlap it */
    const em_tensor *other = out == a ? b : a;
    if (other && other != out && shares(out, other) && !same_data(out, other)) return 0;
  }
  return 1;
}

/* Runs BODY for i in [0, n): in parallel only above the pool's grain. */
#define ACT_LOOP(n, BODY)                                              \
  do {                                                                 \
    if ((n) >= 4 * EM_PARALLEL_GRAIN && em_get_num_threads() > 1) {    \
      _Pragma("omp parallel for schedule(static)")                     \
      for (int64_t i = 0; i < (n); i++) BODY;                          \
    } else {                                                           \
      for (int64_t i = 0; i < (n); i++) BODY;                          \
    }                                                                  \
  } while (0)

void em_act_threshold_forward(em_tensor *out, const em_tensor *x, double threshold, double value) {
  int64_t n = em_tensor_numel(x);
  if (x->dtype == EM_FLOAT32) {
    float *y = em_tensor_data(out), th = (float)threshold, v = (float)value;
    const float *p = em_tensor_data(x);
    ACT_LOOP(n, y[i] = p[i] > th ? p[i] : v);
  } else {
    double *y = em_tensor_data(out);
    const double *p = em_tensor_data(x);
    ACT_LOOP(n, y[i] = p[i] > threshold ? p[i] : value);
  }
}

void em_act_threshold_backward(em_tensor *gi, const em_tensor *go, const em_tensor *x, double threshold) {
  int64_t n = em_tensor_numel(x);
  if (x->dtype == EM_FLOAT32) {
    float *g = em_tensor_data(gi), th = (float)threshold;
    const float *d = em_tensor_data(go), *p = em_tensor_data(x);
    ACT_LOOP(n, g[i] = p[i] > th ? d[i] : 0.0f);
  } else {
    double *g = em_tensor_data(gi);
    const double *d = em_tensor_data(go), *p = em_tensor_data(x);
    ACT_LOOP(n, g[i] = p[i] > threshold ? d[i] : 0.0);
  }
}

void em_act_tanh_backward(em_tensor *gi, const em_tensor *go, const em_tensor *y) {
  int64_t n = em_tensor_numel(y);
  if (y->dtype == EM_FLOAT32) {
    float *g = em_tensor_data(gi);
    const float *d = em_tensor_data(go), *v = em_tensor_data(y);
    ACT_LOOP(n, g[i] = (1.0f - v[i] * v[i]) * d[i]);
  } else {
    double *g = em_tensor_data(gi);
    const double *d = em_tensor_data(go), *v = em_tensor_data(y);
    ACT_LOOP(n, g[i] = (1.0 - v[i] * v[i]) * d[i]);
  }
}

void em_act_sigmoid_backward(em_tensor *gi, const em_tensor *go, const em_tensor *y) {
  int64_t n = em_tensor_numel(y);
  if (y->dtype == EM_FLOAT32) {
    float *g = em_tensor_data(gi);
    const float *d = em_tensor_data(go), *v = em_tensor_data(y);
    ACT_LOOP(n, g[i] = (1.0f - v[i]) * v[i] * d[i]);
  } else {
    double *g = em_tensor_data(gi);
    const double *d = em_tensor_data(go), *v = em_tensor_data(y);
    ACT_LOOP(n, g[i] = (1.0 - v[i]) * v[i] * d[i]);
  }
}
