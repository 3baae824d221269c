/* The nn family table of the CUDA backend: gathers the entry points of
 * kernels/cudnn_conv.cu (convolutions), kernels/cudnn_pool_bn.cu (pooling, batch norm),
 * kernels/nn_fused.cu (layer norm, losses) and kernels/nn_softmax.cu (softmax). */
#include "cuda_nn.cuh"

/* Softmax entries come from kernels/nn_softmax.cu. */
extern "C" int em_cuda_softmax_forward(em_tensor *y, const em_tensor *x, int dim, int take_log);
extern "C" int em_cuda_softmax_backward(em_tensor *gx, const em_tensor *gy, const em_tensor *y,
                                        int dim, int take_log);

extern "C" const struct em_nn_backend em_cuda_nn = {
  em_cuda_conv2d_forward,
  em_cuda_conv2d_backward_input,
  em_cuda_conv2d_backward_params,
  em_cuda_conv_transpose2d_forward,
  em_cuda_conv_transpose2d_backward_input,
  em_cuda_conv_transpose2d_backward_params,
  em_cuda_maxpool2d_forward,
  em_cuda_maxpool2d_backward,
  em_cuda_avgpool2d_forward,
  em_cuda_avgpool2d_backward,
  em_cuda_adaptive_avgpool2d_forward,
  em_cuda_adaptive_avgpool2d_backward,
  em_cuda_softmax_forward,
  em_cuda_softmax_backward,
  em_cuda_batchnorm_forward,
  em_cuda_batchnorm_backward,
  em_cuda_layernorm_forward,
  em_cuda_layernorm_backward,
  em_cuda_nll_forward,
  em_cuda_nll_backward,
  em_cuda_cross_entropy_forward,
  em_cuda_cross_entropy_backward,
};
