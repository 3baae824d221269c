/* CPU class losses: negative log-likelihood with class weights, an ignored target and
 * none/mean/sum reduction, and cross entropy fused from log-softmax and nll. Also the
 * CPU nn table, which gathers the entry points of cpu_conv.c, cpu_pool.c, cpu_norm.c.
 *
 * Legend: x (N, K, S): N samples, K classes, S positions per sample (1 for plain
 * classification); t (N, S) int64 class numbers; cw (K) class weights. */
#include <math.h>
#include <string.h>

#include "nn.h"
#include "vmath.h"

#define INLINE static inline __attribute__((always_inline))

INLINE double ld(const void *p, int64_t i, int f64) {
  return f64 ? ((const double *)p)[i] : ((const float *)p)[i];
}

INLINE void st(void *p, int64_t i, double v, int f64) {
  if (f64) ((double *)p)[i] = v;
  else ((float *)p)[i] = (float)v;
}

/* Every target is ignore_index or a class in [base, base + K). */
static int check_targets(const char *op, const em_tensor *t, int64_t K, const em_nll_params *p) {
  const int64_t *td = em_tensor_data(t);
  int64_t n = em_tensor_numel(t);
  for (int64_t i = 0; i < n; i++) {
    if (td[i] == p->ignore_index) continue;
    if (td[i] - p->base < 0 || td[i] - p->base >= K)
      return em_error("%s: target %lld out of range for %lld classes", op, (long long)td[i],
                      (long long)K);
  }
  return EM_OK;
}

/* The weight of sample i's target (0 when ignored) and its class in *c. */
INLINE double target_weight(int f64, const int64_t *td, int64_t i, const void *cwd,
                            const em_nll_params *p, int64_t *c) {
  if (td[i] == p->ignore_index) { *c = -1; return 0.0; }
  *c = td[i] - p->base;
  return cwd ? ld(cwd, *c, f64) : 1.0;
}

/* loss (N, S) or (1) := -cw[t] * x[n, t, s], reduced; total (1) := sum of cw[t] */
INLINE void nll_fwd_t(int f64, em_tensor *loss, em_tensor *total, const em_tensor *x,
                      const em_tensor *t, const em_tensor *cw, const em_nll_params *p) {
  int64_t N = x->size[0], K = x->size[1], S = x->size[2];
  const void *xd = em_tensor_data(x), *cwd = cw ? em_tensor_data(cw) : NULL;
  const int64_t *td = em_tensor_data(t);
  void *ld_out = em_tensor_data(loss);
  double sum = 0, tw = 0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t s = 0; s < S; s++) {
      int64_t i = n * S + s, c;
      double w = target_weight(f64, td, i, cwd, p, &c);
      double l = c < 0 ? 0.0 : -w * ld(xd, (n * K + c) * S + s, f64);
      tw += w;
      if (p->reduction == EM_REDUCTION_NONE) st(ld_out, i, l, f64);
      else sum += l;
    }
  if (p->reduction == EM_REDUCTION_MEAN) st(ld_out, 0, sum / tw, f64);
  else if (p->reduction == EM_REDUCTION_SUM) st(ld_out, 0, sum, f64);
  st(em_tensor_data(total), 0, tw, f64);
}

static int nll_forward(em_tensor *loss, em_tensor *total, const em_tensor *x, const em_tensor *t,
                       const em_tensor *cw, const em_nll_params *p) {
  int rc = check_targets("nll", t, x->size[1], p);
  if (rc != EM_OK) return rc;
  if (x->dtype == EM_FLOAT64) nll_fwd_t(1, loss, total, x, t, cw, p);
  else nll_fwd_t(0, loss, total, x, t, cw, p);
  return EM_OK;
}

/* The factor of sample i's gradient: its weight times the incoming gradient, over the
 * total weight for a mean; 0 for an ignored target. */
INLINE double grad_coef(int f64, const int64_t *td, int64_t i, const void *cwd,
                        const void *gld, const void *totd, const em_nll_params *p, int64_t *c) {
  double w = target_weight(f64, td, i, cwd, p, c);
  if (*c < 0) return 0.0;
  double g = ld(gld, p->reduction == EM_REDUCTION_NONE ? i : 0, f64);
  if (p->reduction == EM_REDUCTION_MEAN) g /= ld(totd, 0, f64);
  return w * g;
}

/* gx (N, K, S) := -coef at each target, 0 elsewhere */
INLINE void nll_bwd_t(int f64, em_tensor *gx, const em_tensor *t, const em_tensor *gloss,
                      const em_tensor *cw, const em_tensor *total, const em_nll_params *p) {
  int64_t N = gx->size[0], K = gx->size[1], S = gx->size[2];
  const void *cwd = cw ? em_tensor_data(cw) : NULL, *gld = em_tensor_data(gloss);
  const void *totd = em_tensor_data(total);
  const int64_t *td = em_tensor_data(t);
  void *gxd = em_tensor_data(gx);
  memset(gxd, 0, (size_t)(N * K * S) * em_dtype_info[gx->dtype].size);
  for (int64_t n = 0; n < N; n++)
    for (int64_t s = 0; s < S; s++) {
      int64_t c;
      double coef = grad_coef(f64, td, n * S + s, cwd, gld, totd, p, &c);
      if (c >= 0) st(gxd, (n * K + c) * S + s, -coef, f64);
    }
}

static int nll_backward(em_tensor *gx, const em_tensor *t, const em_tensor *gloss,
                        const em_tensor *cw, const em_tensor *total, const em_nll_params *p) {
  int rc = check_targets("nll", t, gx->size[1], p);
  if (rc != EM_OK) return rc;
  if (gx->dtype == EM_FLOAT64) nll_bwd_t(1, gx, t, gloss, cw, total, p);
  else nll_bwd_t(0, gx, t, gloss, cw, total, p);
  return EM_OK;
}

/* --- cross entropy: logp := log_softmax(x) over K, then nll on logp --- */

static int cross_entropy_forward(em_tensor *loss, em_tensor *total, em_tensor *logp,
                                 const em_tensor *x, const em_tensor *t, const em_tensor *cw,
                                 const em_nll_params *p) {
  int rc = check_targets("cross_entropy", t, x->size[1], p);
  if (rc == EM_OK) rc = em_cpu_softmax_forward(logp, x, 1, 1);
  if (rc != EM_OK) return rc;
  if (x->dtype == EM_FLOAT64) nll_fwd_t(1, loss, total, logp, t, cw, p);
  else nll_fwd_t(0, loss, total, logp, t, cw, p);
  return EM_OK;
}

/* gx (N, K, S) := coef * (softmax - onehot(t)) */
INLINE void cross_entropy_bwd_t(int f64, em_tensor *gx, const em_tensor *logp,
                                const em_tensor *t, const em_tensor *gloss, const em_tensor *cw,
                                const em_tensor *total, const em_nll_params *p) {
  int64_t N = gx->size[0], K = gx->size[1], S = gx->size[2];
  const void *lpd = em_tensor_data(logp), *cwd = cw ? em_tensor_data(cw) : NULL;
  const void *gld = em_tensor_data(gloss), *totd = em_tensor_data(total);
  const int64_t *td = em_tensor_data(t);
  void *gxd = em_tensor_data(gx);
  for (int64_t n = 0; n < N; n++)
    for (int64_t s = 0; s < S; s++) {
      int64_t c;
      double coef = grad_coef(f64, td, n * S + s, cwd, gld, totd, p, &c);
      if (!f64 && S == 1) {   /* float32 rows: e^x from vmath.h, so the loop vectorizes */
        const float *lp = (const float *)lpd + n * K;
        float *g = (float *)gxd + n * K, fc = (float)coef;
        #pragma omp simd
        for (int64_t k = 0; k < K; k++) g[k] = fc * em_exp_f32(lp[k]);
        if (c >= 0 && c < K) g[c] -= fc;
        continue;
      }
      for (int64_t k = 0; k < K; k++) {
        int64_t i = (n * K + k) * S + s;
        st(gxd, i, coef * (exp(ld(lpd, i, f64)) - (k == c ? 1.0 : 0.0)), f64);
      }
    }
}

static int cross_entropy_backward(em_tensor *gx, const em_tensor *logp, const em_tensor *t,
                                  const em_tensor *gloss, const em_tensor *cw,
                                  const em_tensor *total, const em_nll_params *p) {
  int rc = check_targets("cross_entropy", t, gx->size[1], p);
  if (rc != EM_OK) return rc;
  if (gx->dtype == EM_FLOAT64) cross_entropy_bwd_t(1, gx, logp, t, gloss, cw, total, p);
  else cross_entropy_bwd_t(0, gx, logp, t, gloss, cw, total, p);
  return EM_OK;
}

const struct em_nn_backend em_cpu_nn = {
  .conv2d_forward = em_cpu_conv2d_forward,
  .conv2d_backward_input = em_cpu_conv2d_backward_input,
  .conv2d_backward_params = em_cpu_conv2d_backward_params,
  .conv_transpose2d_forward = em_cpu_conv_transpose2d_forward,
  .conv_transpose2d_backward_input = em_cpu_conv_transpose2d_backward_input,
  .conv_transpose2d_backward_params = em_cpu_conv_transpose2d_backward_params,
  .maxpool2d_forward = em_cpu_maxpool2d_forward,
  .maxpool2d_backward = em_cpu_maxpool2d_backward,
  .avgpool2d_forward = em_cpu_avgpool2d_forward,
  .avgpool2d_backward = em_cpu_avgpool2d_backward,
  .adaptive_avgpool2d_forward = em_cpu_adaptive_avgpool2d_forward,
  .adaptive_avgpool2d_backward = em_cpu_adaptive_avgpool2d_backward,
  .softmax_forward = em_cpu_softmax_forward,
  .softmax_backward = em_cpu_softmax_backward,
  .batchnorm_forward = em_cpu_batchnorm_forward,
  .batchnorm_backward = em_cpu_batchnorm_backward,
  .layernorm_forward = em_cpu_layernorm_forward,
  .layernorm_backward = em_cpu_layernorm_backward,
  .nll_forward = nll_forward,
  .nll_backward = nll_backward,
  .cross_entropy_forward = cross_entropy_forward,
  .cross_entropy_backward = cross_entropy_backward,
};
