/* The nn family on the GPU is spread over several files (cuDNN convolution, pooling
 * and batch norm, fused losses and layer norm, softmax); this header declares the
 * entry points each lends to kernels/nn_table.cu, which gathers them into em_cuda_nn.
 * Contracts are those of the em_nn_backend entries of the same name (src/nn.h). */
#ifndef EMBER_CUDA_NN_CUH
#define EMBER_CUDA_NN_CUH

#include "cuda_common.cuh"

extern "C" {
#include "nn.h"

/* kernels/cudnn_conv.cu */
int em_cuda_conv2d_forward(em_tensor *y, const em_tensor *x, const em_tensor *w,
                           const em_tensor *b, const em_conv2d_params *p, em_tensor *work);
int em_cuda_conv2d_backward_input(em_tensor *gx, const em_tensor *gy, const em_tensor *w,
                                  const em_conv2d_params *p, em_tensor *work);
int em_cuda_conv2d_backward_params(em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                   const em_tensor *gy, const em_conv2d_params *p, double scale,
                                   em_tensor *work);
int em_cuda_conv_transpose2d_forward(em_tensor *y, const em_tensor *x, const em_tensor *w,
                                     const em_tensor *b, const em_conv2d_params *p,
                                     em_tensor *work);
int em_cuda_conv_transpose2d_backward_input(em_tensor *gx, const em_tensor *gy,
                                            const em_tensor *w, const em_conv2d_params *p,
                                            em_tensor *work);
int em_cuda_conv_transpose2d_backward_params(em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                             const em_tensor *gy, const em_conv2d_params *p,
                                             double scale, em_tensor *work);

/* kernels/cudnn_pool_bn.cu */
int em_cuda_maxpool2d_forward(em_tensor *y, em_tensor *idx, const em_tensor *x,
                              const em_pool2d_params *p);
int em_cuda_maxpool2d_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *idx);
int em_cuda_avgpool2d_forward(em_tensor *y, const em_tensor *x, const em_pool2d_params *p);
int em_cuda_avgpool2d_backward(em_tensor *gx, const em_tensor *gy, const em_pool2d_params *p);
int em_cuda_adaptive_avgpool2d_forward(em_tensor *y, const em_tensor *x);
int em_cuda_adaptive_avgpool2d_backward(em_tensor *gx, const em_tensor *gy);
int em_cuda_batchnorm_forward(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                              const em_tensor *x, const em_tensor *w, const em_tensor *b,
                              em_tensor *rm, em_tensor *rv, int train, double momentum,
                              double eps);
int em_cuda_batchnorm_backward(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                               const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                               const em_tensor *invstd, int train, double scale);

/* kernels/nn_fused.cu */
int em_cuda_layernorm_forward(em_tensor *y, em_tensor *mean, em_tensor *invstd,
                              const em_tensor *x, const em_tensor *w, const em_tensor *b,
                              double eps);
int em_cuda_layernorm_backward(em_tensor *gx, em_tensor *gw, em_tensor *gb, const em_tensor *x,
                               const em_tensor *gy, const em_tensor *w, const em_tensor *mean,
                               const em_tensor *invstd, double scale);
int em_cuda_nll_forward(em_tensor *loss, em_tensor *total, const em_tensor *x, const em_tensor *t,
                        const em_tensor *cw, const em_nll_params *p);
int em_cuda_nll_backward(em_tensor *gx, const em_tensor *t, const em_tensor *gloss,
                         const em_tensor *cw, const em_tensor *total, const em_nll_params *p);
int em_cuda_cross_entropy_forward(em_tensor *loss, em_tensor *total, em_tensor *logp,
                                  const em_tensor *x, const em_tensor *t, const em_tensor *cw,
                                  const em_nll_params *p);
int em_cuda_cross_entropy_backward(em_tensor *gx, const em_tensor *logp, const em_tensor *t,
                                   const em_tensor *gloss, const em_tensor *cw,
                                   const em_tensor *total, const em_nll_params *p);

/* kernels/nn_softmax.cu (another file's; softmax over dim of x, log when take_log) */
int em_cuda_softmax_forward(em_tensor *y, const em_tensor *x, int dim, int take_log);
int em_cuda_softmax_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *y, int dim,
                             int take_log);
}

#endif
