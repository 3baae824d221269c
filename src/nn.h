/* The nn op family: the kernels behind the nn modules (convolution, pooling,
 * normalisation, softmax, losses), one call per module step, as Torch7's THNN.
 * Public ops (nn.c) check shapes, dtypes and devices, allocate outputs, then call
 * em_backend_of(dev)->nn->op with contiguous inputs.
 *
 * Legend: N batch, C input channels (planes), F output channels, G groups,
 * H W input height/width, kH kW kernel, oH oW output height/width, L = oH*oW,
 * D the size of a softmax dim, M rows of a norm, K classes, S spatial positions.
 *
 * Conventions: outputs come first, then inputs, then options. Outputs are resized
 * here (their storage is reused when big enough). Inputs may be any view; they are
 * made contiguous internally. Every float tensor of one call has one dtype, float32
 * or float64; indices and class targets are int64. A failed op changes no input.
 * Backward ops for parameters ACCUMULATE, scaled: grad_weight += scale * dL/dweight
 * (Torch7's accGradParameters); the other outputs are overwritten. Optional tensors
 * (bias, class weights, affine weight/bias, running stats, work) may be NULL or empty. */
#ifndef EMBER_NN_H
#define EMBER_NN_H

#include "backend.h"

/* Convolution geometry. For conv2d:           oH = (H + 2pH - dH*(kH-1) - 1) / sH + 1.
 * For the transposed conv (SpatialFullConvolution):
 *                                 oH = (H - 1)*sH - 2pH + dH*(kH-1) + aH + 1. */
typedef struct em_conv2d_params {
  int sH, sW;     /* stride */
  int pH, pW;     /* zero padding on each side */
  int dH, dW;     /* dilation (1: dense kernel) */
  int aH, aW;     /* extra output rows/cols of a transposed conv (< stride or dilation) */
  int groups;     /* C and F both divisible by it */
  em_precision precision;   /* EM_PRECISION_BF16: float32 data, products in bfloat16
                             * with float32 sums (dtype.h); results stay float32 */
} em_conv2d_params;

/* Pooling geometry: oH = (H + 2pH - dH*(kH-1) - 1 [+ sH-1 when ceil_mode]) / sH + 1,
 * and with ceil_mode the last window must start inside the input or left padding. */
typedef struct em_pool2d_params {
  int kH, kW;
  int sH, sW;
  int pH, pW;             /* at most half the kernel */
  int dH, dW;             /* dilation; max pooling only (average pooling needs 1) */
  int ceil_mode;
  int count_include_pad;  /* average pooling: divide by the padded window size */
} em_pool2d_params;

typedef enum em_reduction {
  EM_REDUCTION_NONE,      /* one loss per sample */
  EM_REDUCTION_MEAN,      /* sum / total weight of the counted samples */
  EM_REDUCTION_SUM,
} em_reduction;

/* Class-target losses. Targets are class numbers counted from `base` (0 from C; the
 * Lua binding passes 1, Torch7's labels); a target equal to ignore_index (compared
 * before the base is removed) contributes nothing. */
typedef struct em_nll_params {
  em_reduction reduction;
  int64_t ignore_index;
  int64_t base;
} em_nll_params;

/* The backend table. Every tensor an entry receives is contiguous and checked;
 * outputs are already sized. `work` is never NULL: a scratch tensor the entry may
 * resize (its storage is kept by the caller across calls). */
struct em_nn_backend {
  /* conv2d: x (N, C, H, W), w (F, C/G, kH, kW), b (F) or NULL, y (N, F, oH, oW) */
  int (*conv2d_forward)(em_tensor *y, const em_tensor *x, const em_tensor *w,
                        const em_tensor *b, const em_conv2d_params *p, em_tensor *work);
  int (*conv2d_backward_input)(em_tensor *gx, const em_tensor *gy, const em_tensor *w,
                               const em_conv2d_params *p, em_tensor *work);
  int (*conv2d_backward_params)(em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                const em_tensor *gy, const em_conv2d_params *p,
                                double scale, em_tensor *work);
  /* transposed: x (N, C, H, W), w (C, F/G, kH, kW), b (F) or NULL, y (N, F, oH, oW) */
  int (*conv_transpose2d_forward)(em_tensor *y, const em_tensor *x, const em_tensor *w,
                                  const em_tensor *b, const em_conv2d_params *p, em_tensor *work);
  int (*conv_transpose2d_backward_input)(em_tensor *gx, const em_tensor *gy, const em_tensor *w,
                                         const em_conv2d_params *p, em_tensor *work);
  int (*conv_transpose2d_backward_params)(em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                          const em_tensor *gy, const em_conv2d_params *p,
                                          double scale, em_tensor *work);
  /* pools: x (N, C, H, W), y and idx (N, C, oH, oW); idx holds h*W + w per plane */
  int (*maxpool2d_forward)(em_tensor *y, em_tensor *idx, const em_tensor *x,
                           const em_pool2d_params *p);
  int (*maxpool2d_backward)(em_tensor *gx, const em_tensor *gy, const em_tensor *idx);
  int (*avgpool2d_forward)(em_tensor *y, const em_tensor *x, const em_pool2d_params *p);
  int (*avgpool2d_backward)(em_tensor *gx, const em_tensor *gy, const em_pool2d_params *p);
  int (*adaptive_avgpool2d_forward)(em_tensor *y, const em_tensor *x);
  int (*adaptive_avgpool2d_backward)(em_tensor *gx, const em_tensor *gy);
  /* softmax over dim of x; log selects log-softmax; y has x's shape */
  int (*softmax_forward)(em_tensor *y, const em_tensor *x, int dim, int take_log);
  int (*softmax_backward)(em_tensor *gx, const em_tensor *gy, const em_tensor *y, int dim,
                          int take_log);
  /* batch norm: x (N, C, *); per channel: w b rm rv mean invstd (C) */
  int (*batchnorm_forward)(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                           const em_tensor *x, const em_tensor *w, const em_tensor *b,
                           em_tensor *rm, em_tensor *rv, int train, double momentum,
                           double eps);
  int (*batchnorm_backward)(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                            const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                            const em_tensor *invstd, int train, double scale);
  /* layer norm: x (M, D) viewed; w b (D); mean invstd (M) */
  int (*layernorm_forward)(em_tensor *y, em_tensor *mean, em_tensor *invstd, const em_tensor *x,
                           const em_tensor *w, const em_tensor *b, double eps);
  int (*layernorm_backward)(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                            const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                            const em_tensor *invstd, double scale);
  /* losses: x (N, K, S) (log-probabilities or scores), t (N, S) int64 checked in range,
   * cw (K) or NULL; loss (N, S) or (1); total (1): the summed weight of counted samples */
  int (*nll_forward)(em_tensor *loss, em_tensor *total, const em_tensor *x, const em_tensor *t,
                     const em_tensor *cw, const em_nll_params *p);
  int (*nll_backward)(em_tensor *gx, const em_tensor *t, const em_tensor *gloss,
                      const em_tensor *cw, const em_tensor *total, const em_nll_params *p);
  /* fused log-softmax over dim 1 + nll; logp (N, K, S) is saved for the backward */
  int (*cross_entropy_forward)(em_tensor *loss, em_tensor *total, em_tensor *logp,
                               const em_tensor *x, const em_tensor *t, const em_tensor *cw,
                               const em_nll_params *p);
  int (*cross_entropy_backward)(em_tensor *gx, const em_tensor *logp, const em_tensor *t,
                                const em_tensor *gloss, const em_tensor *cw,
                                const em_tensor *total, const em_nll_params *p);
};

extern const struct em_nn_backend em_cpu_nn;

/* --- convolution ---
 * input (N, C, H, W) or (C, H, W) (then the output has no batch dim either);
 * weight (F, C/G, kH, kW); bias (F) or NULL; output (N, F, oH, oW).
 * A 1-d convolution (TemporalConvolution) is this with H = kH = 1.
 * work: scratch kept by the caller between calls (the im2col columns), or NULL. */
int em_nn_conv2d_forward(em_tensor *output, const em_tensor *input, const em_tensor *weight,
                         const em_tensor *bias, const em_conv2d_params *p, em_tensor *work);
/* grad_input (like input) := dL/dinput, from grad_output (like output) */
int em_nn_conv2d_backward_input(em_tensor *grad_input, const em_tensor *input,
                                const em_tensor *grad_output, const em_tensor *weight,
                                const em_conv2d_params *p, em_tensor *work);
/* grad_weight (like weight) += scale * dL/dweight; grad_bias (F) += scale * dL/dbias
 * (either may be NULL) */
int em_nn_conv2d_backward_params(em_tensor *grad_weight, em_tensor *grad_bias,
                                 const em_tensor *input, const em_tensor *grad_output,
                                 const em_conv2d_params *p, double scale, em_tensor *work);

/* Transposed convolution (SpatialFullConvolution, ConvTranspose2d), the adjoint of
 * conv2d: input (N, C, H, W) or (C, H, W); weight (C, F/G, kH, kW); bias (F) or NULL;
 * output (N, F, oH, oW). The same three steps as conv2d. */
int em_nn_conv_transpose2d_forward(em_tensor *output, const em_tensor *input,
                                   const em_tensor *weight, const em_tensor *bias,
                                   const em_conv2d_params *p, em_tensor *work);
int em_nn_conv_transpose2d_backward_input(em_tensor *grad_input, const em_tensor *input,
                                          const em_tensor *grad_output, const em_tensor *weight,
                                          const em_conv2d_params *p, em_tensor *work);
int em_nn_conv_transpose2d_backward_params(em_tensor *grad_weight, em_tensor *grad_bias,
                                           const em_tensor *input, const em_tensor *grad_output,
                                           const em_conv2d_params *p, double scale,
                                           em_tensor *work);

/* --- pooling: input (N, C, H, W) or (C, H, W); output (N, C, oH, oW) --- */
/* indices (like output, int64): the argmax of each window as h*W + w in its plane */
int em_nn_maxpool2d_forward(em_tensor *output, em_tensor *indices, const em_tensor *input,
                            const em_pool2d_params *p);
int em_nn_maxpool2d_backward(em_tensor *grad_input, const em_tensor *input,
                             const em_tensor *grad_output, const em_tensor *indices);
int em_nn_avgpool2d_forward(em_tensor *output, const em_tensor *input, const em_pool2d_params *p);
int em_nn_avgpool2d_backward(em_tensor *grad_input, const em_tensor *input,
                             const em_tensor *grad_output, const em_pool2d_params *p);
/* Output (N, C, oH, oW); window i spans [floor(i*H/oH), ceil((i+1)*H/oH)). */
int em_nn_adaptive_avgpool2d_forward(em_tensor *output, const em_tensor *input, int64_t oH,
                                     int64_t oW);
int em_nn_adaptive_avgpool2d_backward(em_tensor *grad_input, const em_tensor *input,
                                      const em_tensor *grad_output);

/* --- softmax over a 0-based dim; output has input's shape --- */
int em_nn_softmax_forward(em_tensor *output, const em_tensor *input, int dim);
/* grad_input := dL/dinput, given the forward's output */
int em_nn_softmax_backward(em_tensor *grad_input, const em_tensor *grad_output,
                           const em_tensor *output, int dim);
int em_nn_log_softmax_forward(em_tensor *output, const em_tensor *input, int dim);
int em_nn_log_softmax_backward(em_tensor *grad_input, const em_tensor *grad_output,
                               const em_tensor *output, int dim);

/* --- batch norm: input (N, C) or (N, C, *), statistics per channel C ---
 * train: normalise with the batch mean and biased variance, save them as save_mean and
 * save_invstd (C) = 1/sqrt(var + eps), and when running stats are given update
 * running := (1 - momentum) * running + momentum * batch (the variance unbiased).
 * eval: normalise with running_mean/running_var (required); save_* := those stats. */
int em_nn_batchnorm_forward(em_tensor *output, em_tensor *save_mean, em_tensor *save_invstd,
                            const em_tensor *input, const em_tensor *weight,
                            const em_tensor *bias, em_tensor *running_mean,
                            em_tensor *running_var, int train, double momentum, double eps);
/* From the forward's save_mean/save_invstd and its train flag: grad_input := dL/dinput
 * (in train mode through the batch statistics); grad_weight, grad_bias (C) += scale *
 * their gradients. Any of the three outputs may be NULL. */
int em_nn_batchnorm_backward(em_tensor *grad_input, em_tensor *grad_weight,
                             em_tensor *grad_bias, const em_tensor *input,
                             const em_tensor *grad_output, const em_tensor *weight,
                             const em_tensor *save_mean, const em_tensor *save_invstd, int train,
                             double scale);

/* --- layer norm over the last k dims of input (*, D...): weight, bias of shape (D...)
 * or NULL; save_mean, save_invstd (M) for M rows of prod(D...) elements. --- */
int em_nn_layernorm_forward(em_tensor *output, em_tensor *save_mean, em_tensor *save_invstd,
                            const em_tensor *input, const em_tensor *weight,
                            const em_tensor *bias, int k, double eps);
int em_nn_layernorm_backward(em_tensor *grad_input, em_tensor *grad_weight,
                             em_tensor *grad_bias, const em_tensor *input,
                             const em_tensor *grad_output, const em_tensor *weight,
                             const em_tensor *save_mean, const em_tensor *save_invstd, int k,
                             double scale);

/* --- class losses: input (N, K), (K) or (N, K, d1, ...); target (N), (1) or (N, d1, ...)
 * int64; class_weight (K) or NULL. output: (1) for mean/sum, target's shape for none;
 * total_weight (1): sum of the weights of the counted targets (the mean's divisor). --- */
int em_nn_nll_forward(em_tensor *output, em_tensor *total_weight, const em_tensor *input,
                      const em_tensor *target, const em_tensor *class_weight,
                      const em_nll_params *p);
/* grad_input (like input) := dL/dinput; grad_output like the forward's output */
int em_nn_nll_backward(em_tensor *grad_input, const em_tensor *input, const em_tensor *target,
                       const em_tensor *grad_output, const em_tensor *class_weight,
                       const em_tensor *total_weight, const em_nll_params *p);
/* cross entropy = log-softmax over the class dim + nll, fused; log_probs (like input)
 * is filled for the backward. */
int em_nn_cross_entropy_forward(em_tensor *output, em_tensor *total_weight,
                                em_tensor *log_probs, const em_tensor *input,
                                const em_tensor *target, const em_tensor *class_weight,
                                const em_nll_params *p);
int em_nn_cross_entropy_backward(em_tensor *grad_input, const em_tensor *log_probs,
                                 const em_tensor *target, const em_tensor *grad_output,
                                 const em_tensor *class_weight, const em_tensor *total_weight,
                                 const em_nll_params *p);

/* --- CPU entry points (cpu_conv.c, cpu_pool.c, cpu_norm.c, cpu_loss.c), gathered
 * into em_cpu_nn in cpu_loss.c; same contracts as the table's entries --- */
int em_cpu_conv2d_forward(em_tensor *y, const em_tensor *x, const em_tensor *w,
                          const em_tensor *b, const em_conv2d_params *p, em_tensor *work);
int em_cpu_conv2d_backward_input(em_tensor *gx, const em_tensor *gy, const em_tensor *w,
                                 const em_conv2d_params *p, em_tensor *work);
int em_cpu_conv2d_backward_params(em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                  const em_tensor *gy, const em_conv2d_params *p, double scale,
                                  em_tensor *work);
int em_cpu_conv_transpose2d_forward(em_tensor *y, const em_tensor *x, const em_tensor *w,
                                    const em_tensor *b, const em_conv2d_params *p,
                                    em_tensor *work);
int em_cpu_conv_transpose2d_backward_input(em_tensor *gx, const em_tensor *gy,
                                           const em_tensor *w, const em_conv2d_params *p,
                                           em_tensor *work);
int em_cpu_conv_transpose2d_backward_params(em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                            const em_tensor *gy, const em_conv2d_params *p,
                                            double scale, em_tensor *work);
int em_cpu_maxpool2d_forward(em_tensor *y, em_tensor *idx, const em_tensor *x,
                             const em_pool2d_params *p);
int em_cpu_maxpool2d_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *idx);
int em_cpu_avgpool2d_forward(em_tensor *y, const em_tensor *x, const em_pool2d_params *p);
int em_cpu_avgpool2d_backward(em_tensor *gx, const em_tensor *gy, const em_pool2d_params *p);
int em_cpu_adaptive_avgpool2d_forward(em_tensor *y, const em_tensor *x);
int em_cpu_adaptive_avgpool2d_backward(em_tensor *gx, const em_tensor *gy);
int em_cpu_softmax_forward(em_tensor *y, const em_tensor *x, int dim, int take_log);
int em_cpu_softmax_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *y, int dim,
                            int take_log);
int em_cpu_batchnorm_forward(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                             const em_tensor *x, const em_tensor *w, const em_tensor *b,
                             em_tensor *rm, em_tensor *rv, int train, double momentum,
                             double eps);
int em_cpu_batchnorm_backward(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                              const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                              const em_tensor *invstd, int train, double scale);
int em_cpu_layernorm_forward(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                             const em_tensor *x, const em_tensor *w, const em_tensor *b,
                             double eps);
int em_cpu_layernorm_backward(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                              const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                              const em_tensor *invstd, double scale);

#endif
