/* Convolutions on the GPU through cuDNN 9's legacy convolution API (cudnn_cnn: still
 * shipped and usable in v9, deprecated in favour of the graph API): conv2d forward,
 * backward data and backward filter, and the transposed convolution as the same three
 * calls with the roles swapped (src/cpu_conv.c does the same with im2col). The
 * algorithm of each problem (direction, dtype, shapes, geometry, device) is chosen once
 * by cudnnFind*Algorithm, which times the candidates, and cached; later calls queue
 * their work without waiting. Workspaces come from the device's caching pool.
 *
 * Legend: conv terms X (N, C, H, W) -> Y (N, F, oH, oW) with filter (F, C/G, kH, kW).
 * float32 runs with CUDNN_FMA_MATH (no TF32) so results agree with the CPU to float32
 * tolerance; float32 in bfloat16 precision (nn.autocast) runs bfloat16 copies on tensor
 * cores, accumulating in float (see run_bf16). */
#include <cudnn.h>
#include <pthread.h>
#include <string.h>

#include "cuda_nn.cuh"

extern "C" {
#include "pointwise.h"
}

#define EM_CUDNN_MAX_DEVICES 64
#define EM_CONV_CACHE_SIZE 512        /* problems remembered; the oldest is replaced */

/* On a cuDNN failure, records "cuda: <call> failed: <reason>" and returns EM_ERR. */
#define EM_CUDNN_CHECK(call)                                                          \
  do {                                                                                \
    cudnnStatus_t em_st_ = (call);                                                    \
    if (em_st_ != CUDNN_STATUS_SUCCESS) return cudnn_fail(em_st_, #call);             \
  } while (0)

static int cudnn_fail(cudnnStatus_t st, const char *what) {
  (void)cudaGetLastError();
  return em_error("cuda: %s failed: %s", what, cudnnGetErrorString(st));
}

/* --- one cuDNN handle per device, bound to the device's stream --- */

static cudnnHandle_t handles[EM_CUDNN_MAX_DEVICES];
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;

static int handle_of(em_device dev, cudnnHandle_t *out) {
  cudaStream_t stream;
  if (em_cuda_use(dev, &stream) != EM_OK) return EM_ERR;
  if (dev.index >= EM_CUDNN_MAX_DEVICES) return em_error("cuda: cuDNN supports %d devices", EM_CUDNN_MAX_DEVICES);
  pthread_mutex_lock(&handles_lock);
  cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
  if (!handles[dev.index]) {
    cudnnHandle_t h;
    st = cudnnCreate(&h);
    if (st == CUDNN_STATUS_SUCCESS) st = cudnnSetStream(h, stream);
    if (st == CUDNN_STATUS_SUCCESS) handles[dev.index] = h;
  }
  pthread_mutex_unlock(&handles_lock);
  if (st != CUDNN_STATUS_SUCCESS)
    return em_error("cuda: cannot create a cuDNN handle on %s: %s", em_device_name(dev),
                    cudnnGetErrorString(st));
  *out = handles[dev.index];
  return EM_OK;
}

/* --- a convolution problem: descriptors plus the key of its cached algorithm --- */

typedef enum direction { FWD, BWD_DATA, BWD_FILTER } direction;

typedef struct conv_key {
  int dir, dtype, device;
  int n, c, h, w, f, oh, ow, kh, kw;
  int sh, sw, ph, pw, dh, dw, groups;
} conv_key;

typedef struct conv_problem {
  conv_key key;
  cudnnDataType_t data;
  cudnnTensorDescriptor_t x, y;       /* X (N, C, H, W), Y (N, F, oH, oW) */
  cudnnFilterDescriptor_t w;          /* (F, C/G, kH, kW) */
  cudnnConvolutionDescriptor_t conv;
} conv_problem;

static void problem_free(conv_problem *pb) {
  if (pb->x) cudnnDestroyTensorDescriptor(pb->x);
  if (pb->y) cudnnDestroyTensorDescriptor(pb->y);
  if (pb->w) cudnnDestroyFilterDescriptor(pb->w);
  if (pb->conv) cudnnDestroyConvolutionDescriptor(pb->conv);
}

static cudnnDataType_t data_type(em_dtype dt) {
  switch (dt) {
  case EM_FLOAT64: return CUDNN_DATA_DOUBLE;
  case EM_BFLOAT16: return CUDNN_DATA_BFLOAT16;
  case EM_FLOAT16: return CUDNN_DATA_HALF;
  default: return CUDNN_DATA_FLOAT;
  }
}

/* Describes X -> Y with filter wt (sizes only). The caller frees pb even on failure. */
static int problem_init(conv_problem *pb, direction dir, const em_tensor *X, const em_tensor *Y,
                        const em_tensor *wt, const em_conv2d_params *p) {
  memset(pb, 0, sizeof *pb);
  conv_key *k = &pb->key;
  k->dir = dir;
  k->dtype = X->dtype;
  k->device = X->device.index;
  k->n = (int)X->size[0], k->c = (int)X->size[1], k->h = (int)X->size[2], k->w = (int)X->size[3];
  k->f = (int)Y->size[1], k->oh = (int)Y->size[2], k->ow = (int)Y->size[3];
  k->kh = (int)wt->size[2], k->kw = (int)wt->size[3];
  k->sh = p->sH, k->sw = p->sW, k->ph = p->pH, k->pw = p->pW, k->dh = p->dH, k->dw = p->dW;
  k->groups = p->groups;
  pb->data = data_type(X->dtype);
  cudnnDataType_t compute = pb->data == CUDNN_DATA_DOUBLE ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  cudnnMathType_t math = pb->data == CUDNN_DATA_FLOAT    ? CUDNN_FMA_MATH
                         : pb->data == CUDNN_DATA_DOUBLE ? CUDNN_DEFAULT_MATH
                                                         : CUDNN_TENSOR_OP_MATH;
  EM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&pb->x));
  EM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&pb->y));
  EM_CUDNN_CHECK(cudnnCreateFilterDescriptor(&pb->w));
  EM_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&pb->conv));
  EM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(pb->x, CUDNN_TENSOR_NCHW, pb->data, k->n, k->c, k->h, k->w));
  EM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(pb->y, CUDNN_TENSOR_NCHW, pb->data, k->n, k->f, k->oh, k->ow));
  EM_CUDNN_CHECK(cudnnSetFilter4dDescriptor(pb->w, pb->data, CUDNN_TENSOR_NCHW, k->f,
                                            k->c / k->groups, k->kh, k->kw));
  EM_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(pb->conv, k->ph, k->pw, k->sh, k->sw, k->dh,
                                                 k->dw, CUDNN_CROSS_CORRELATION, compute));
  EM_CUDNN_CHECK(cudnnSetConvolutionGroupCount(pb->conv, k->groups));
  EM_CUDNN_CHECK(cudnnSetConvolutionMathType(pb->conv, math));
  return EM_OK;
}

/* --- the algorithm cache --- */

typedef struct choice {
  int algo;
  size_t workspace;
} choice;

typedef struct cache_entry {
  conv_key key;
  choice pick;
} cache_entry;

static cache_entry cache[EM_CONV_CACHE_SIZE];
static int cache_used, cache_next;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int cache_find(const conv_key *k, choice *out) {
  int found = 0;
  pthread_mutex_lock(&cache_lock);
  for (int i = 0; i < cache_used && !found; i++)
    if (memcmp(&cache[i].key, k, sizeof *k) == 0) {
      *out = cache[i].pick;
      found = 1;
    }
  pthread_mutex_unlock(&cache_lock);
  return found;
}

static void cache_put(const conv_key *k, choice c) {
  pthread_mutex_lock(&cache_lock);
  int i = cache_used < EM_CONV_CACHE_SIZE ? cache_used++ : cache_next++ % EM_CONV_CACHE_SIZE;
  cache[i].key = *k;
  cache[i].pick = c;
  pthread_mutex_unlock(&cache_lock);
}

/* The fastest algorithm that ran, from cudnnFind* (timed, once per problem), else from
 * the heuristics of cudnnGet*_v7 (when Find itself fails, e.g. short of memory). Each
 * perf type has the fields algo, status, memory. */
template <typename Perf>
static int pick_from(const Perf *perf, int n, choice *out) {
  for (int i = 0; i < n; i++)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) {
      out->algo = (int)perf[i].algo;
      out->workspace = perf[i].memory;
      return 1;
    }
  return 0;
}

static int choose(cudnnHandle_t h, const conv_problem *pb, choice *out) {
  if (cache_find(&pb->key, out)) return EM_OK;
  int n = 0, ok = 0;
  switch ((direction)pb->key.dir) {
  case FWD: {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    if (cudnnFindConvolutionForwardAlgorithm(h, pb->x, pb->w, pb->conv, pb->y,
                                             CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf) ==
        CUDNN_STATUS_SUCCESS)
      ok = pick_from(perf, n, out);
    if (!ok)
      EM_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
          h, pb->x, pb->w, pb->conv, pb->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    if (!ok) ok = pick_from(perf, n, out);
    if (ok)
      EM_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(
          h, pb->x, pb->w, pb->conv, pb->y, (cudnnConvolutionFwdAlgo_t)out->algo, &out->workspace));
    break;
  }
  case BWD_DATA: {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    if (cudnnFindConvolutionBackwardDataAlgorithm(h, pb->w, pb->y, pb->conv, pb->x,
                                                  CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n,
                                                  perf) == CUDNN_STATUS_SUCCESS)
      ok = pick_from(perf, n, out);
    if (!ok)
      EM_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          h, pb->w, pb->y, pb->conv, pb->x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
    if (!ok) ok = pick_from(perf, n, out);
    if (ok)
      EM_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
          h, pb->w, pb->y, pb->conv, pb->x, (cudnnConvolutionBwdDataAlgo_t)out->algo,
          &out->workspace));
    break;
  }
  case BWD_FILTER: {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    if (cudnnFindConvolutionBackwardFilterAlgorithm(h, pb->x, pb->y, pb->conv, pb->w,
                                                    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n,
                                                    perf) == CUDNN_STATUS_SUCCESS)
      ok = pick_from(perf, n, out);
    if (!ok)
      EM_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          h, pb->x, pb->y, pb->conv, pb->w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
    if (!ok) ok = pick_from(perf, n, out);
    if (ok)
      EM_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
          h, pb->x, pb->y, pb->conv, pb->w, (cudnnConvolutionBwdFilterAlgo_t)out->algo,
          &out->workspace));
    break;
  }
  }
  (void)cudaGetLastError();                    /* Find may leave a failed try behind */
  if (!ok) return em_error("cuda: cuDNN has no convolution algorithm for this problem");
  cache_put(&pb->key, *out);
  return EM_OK;
}

/* --- running one direction --- */

/* alpha and beta in the type cuDNN expects for the data type (double for double). */
typedef struct scaling {
  double d[2];
  float f[2];
} scaling;

static scaling scaling_of(double alpha, double beta) {
  scaling s = {{alpha, beta}, {(float)alpha, (float)beta}};
  return s;
}

static const void *alpha_of(const scaling *s, cudnnDataType_t t) {
  return t == CUDNN_DATA_DOUBLE ? (const void *)&s->d[0] : (const void *)&s->f[0];
}

static const void *beta_of(const scaling *s, cudnnDataType_t t) {
  return t == CUDNN_DATA_DOUBLE ? (const void *)&s->d[1] : (const void *)&s->f[1];
}

/* One direction of the problem X -> Y with filter wt, on device memory, all of one
 * dtype:
 *   FWD:        Y := alpha * conv(X, wt) + beta * Y
 *   BWD_DATA:   X := alpha * conv^T(Y, wt) + beta * X
 *   BWD_FILTER: wt := alpha * dL/dwt(X, Y) + beta * wt */
static int run_direct(direction dir, const em_tensor *X, const em_tensor *Y, const em_tensor *wt,
                      const em_conv2d_params *p, double alpha, double beta) {
  if (em_tensor_numel(X) == 0 || em_tensor_numel(Y) == 0 || em_tensor_numel(wt) == 0) {
    /* nothing to sum: an output that is overwritten becomes beta times itself (0) */
    if (dir == BWD_FILTER || beta != 0) return EM_OK;
    const em_tensor *out = dir == FWD ? Y : X;
    if (em_tensor_numel(out) == 0) return EM_OK;
    cudaStream_t s;
    if (em_cuda_use(out->device, &s) != EM_OK) return EM_ERR;
    EM_CUDA_CHECK(cudaMemsetAsync(em_cuda_data(out), 0,
                                  (size_t)em_tensor_numel(out) * em_dtype_info[out->dtype].size, s));
    return EM_OK;
  }
  cudnnHandle_t h;
  if (handle_of(X->device, &h) != EM_OK) return EM_ERR;
  conv_problem pb;
  int st = problem_init(&pb, dir, X, Y, wt, p);
  choice c;
  if (st == EM_OK) st = choose(h, &pb, &c);
  em_cuda_workspace ws = {NULL, 0, X->device.index};
  if (st == EM_OK && c.workspace) st = em_cuda_workspace_get(X->device, c.workspace, &ws);
  if (st == EM_OK) {
    scaling sc = scaling_of(alpha, beta);
    const void *a = alpha_of(&sc, pb.data), *b = beta_of(&sc, pb.data);
    cudnnStatus_t cs;
    const char *what;
    switch (dir) {
    case FWD:
      what = "cudnnConvolutionForward";
      cs = cudnnConvolutionForward(h, a, pb.x, em_cuda_data(X), pb.w, em_cuda_data(wt), pb.conv,
                                   (cudnnConvolutionFwdAlgo_t)c.algo, ws.ptr, c.workspace, b, pb.y,
                                   em_cuda_data(Y));
      break;
    case BWD_DATA:
      what = "cudnnConvolutionBackwardData";
      cs = cudnnConvolutionBackwardData(h, a, pb.w, em_cuda_data(wt), pb.y, em_cuda_data(Y),
                                        pb.conv, (cudnnConvolutionBwdDataAlgo_t)c.algo, ws.ptr,
                                        c.workspace, b, pb.x, em_cuda_data(X));
      break;
    default:
      what = "cudnnConvolutionBackwardFilter";
      cs = cudnnConvolutionBackwardFilter(h, a, pb.x, em_cuda_data(X), pb.y, em_cuda_data(Y),
                                          pb.conv, (cudnnConvolutionBwdFilterAlgo_t)c.algo, ws.ptr,
                                          c.workspace, b, pb.w, em_cuda_data(wt));
      break;
    }
    if (cs != CUDNN_STATUS_SUCCESS) st = cudnn_fail(cs, what);
  }
  em_cuda_workspace_release(&ws);              /* queued work keeps it in stream order */
  problem_free(&pb);
  return st;
}

/* run_direct for float32 tensors in bfloat16 precision, beta 0 or 1 (what the entry
 * points pass). cuDNN's bfloat16 convolutions (PSEUDO_BFLOAT16_CONFIG) take X, W and Y
 * all in bfloat16 and compute in float: the direction's two operands are rounded into
 * bfloat16 copies (from the pool), its result computed into a bfloat16 temporary and
 * widened into the float32 output. Unlike the CPU, whose sums stay float32, each
 * result is thus rounded to bfloat16 once more before it is widened. */
static int run_bf16(direction dir, const em_tensor *X, const em_tensor *Y, const em_tensor *wt,
                    const em_conv2d_params *p, double alpha, double beta) {
  const em_tensor *in[3] = {X, Y, wt};
  int out = dir == FWD ? 1 : dir == BWD_DATA ? 0 : 2;   /* which of the three is written */
  em_tensor t[3], wide;
  for (int i = 0; i < 3; i++) em_tensor_init(&t[i], in[i]->ctx, EM_BFLOAT16, in[i]->device);
  em_tensor_init(&wide, in[out]->ctx, EM_FLOAT32, in[out]->device);
  int st = EM_OK;
  for (int i = 0; i < 3 && st == EM_OK; i++)
    st = i == out ? em_tensor_resize(&t[i], in[i]->ndim, in[i]->size)
                  : em_tensor_clone_as(&t[i], in[i], EM_BFLOAT16);
  if (st == EM_OK) st = run_direct(dir, &t[0], &t[1], &t[2], p, 1.0, 0.0);
  em_tensor *o = (em_tensor *)in[out];
  if (st == EM_OK && beta == 0 && alpha == 1) {
    st = em_tensor_copy(o, &t[out]);
  } else if (st == EM_OK) {
    st = em_tensor_clone_as(&wide, &t[out], EM_FLOAT32);
    if (st == EM_OK && beta == 0) st = em_binary(EM_MUL, o, &wide, NULL, alpha, 1);
    else if (st == EM_OK) st = em_binary(EM_ADD, o, o, &wide, 0, alpha);   /* beta == 1 */
  }
  for (int i = 0; i < 3; i++) em_tensor_release(&t[i]);
  em_tensor_release(&wide);
  return st;
}

/* One direction, in the precision p asks for. */
static int run(direction dir, const em_tensor *X, const em_tensor *Y, const em_tensor *wt,
               const em_conv2d_params *p, double alpha, double beta) {
  if (p->precision == EM_PRECISION_BF16) return run_bf16(dir, X, Y, wt, p, alpha, beta);
  return run_direct(dir, X, Y, wt, p, alpha, beta);
}

/* A (1, F, 1, 1) descriptor for a bias of F elements, and Y's descriptor. */
static int bias_descs(const em_tensor *Y, cudnnTensorDescriptor_t *bd, cudnnTensorDescriptor_t *yd) {
  cudnnDataType_t t = data_type(Y->dtype);
  *bd = *yd = NULL;
  EM_CUDNN_CHECK(cudnnCreateTensorDescriptor(bd));
  EM_CUDNN_CHECK(cudnnCreateTensorDescriptor(yd));
  EM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(*bd, CUDNN_TENSOR_NCHW, t, 1, (int)Y->size[1], 1, 1));
  EM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(*yd, CUDNN_TENSOR_NCHW, t, (int)Y->size[0],
                                            (int)Y->size[1], (int)Y->size[2], (int)Y->size[3]));
  return EM_OK;
}

/* Y (N, F, oH, oW) += b (F) broadcast (grad = 0), or gb (F) += scale * sum of Y over
 * N, oH, oW (grad = 1). */
static int bias(const em_tensor *Y, em_tensor *b, int grad, double scale) {
  if (!b || !b->storage || em_tensor_numel(Y) == 0) return EM_OK;
  cudnnHandle_t h;
  if (handle_of(Y->device, &h) != EM_OK) return EM_ERR;
  cudnnTensorDescriptor_t bd, yd;
  int st = bias_descs(Y, &bd, &yd);
  if (st == EM_OK) {
    cudnnDataType_t t = data_type(Y->dtype);
    scaling sc = scaling_of(grad ? scale : 1.0, 1.0);
    cudnnStatus_t cs =
        grad ? cudnnConvolutionBackwardBias(h, alpha_of(&sc, t), yd, em_cuda_data(Y),
                                            beta_of(&sc, t), bd, em_cuda_data(b))
             : cudnnAddTensor(h, alpha_of(&sc, t), bd, em_cuda_data(b), beta_of(&sc, t), yd,
                              em_cuda_data(Y));
    if (cs != CUDNN_STATUS_SUCCESS)
      st = cudnn_fail(cs, grad ? "cudnnConvolutionBackwardBias" : "cudnnAddTensor");
  }
  if (bd) cudnnDestroyTensorDescriptor(bd);
  if (yd) cudnnDestroyTensorDescriptor(yd);
  return st;
}

/* --- entry points (kernels/nn_table.cu gathers them into em_cuda_nn) --- */

/* conv2d: x (N, C, H, W) -> y (N, F, oH, oW), w (F, C/G, kH, kW) */
extern "C" int em_cuda_conv2d_forward(em_tensor *y, const em_tensor *x, const em_tensor *w,
                                      const em_tensor *b, const em_conv2d_params *p,
                                      em_tensor *work) {
  int st = run(FWD, x, y, w, p, 1.0, 0.0);
  return st == EM_OK ? bias(y, (em_tensor *)b, 0, 1.0) : st;
}

extern "C" int em_cuda_conv2d_backward_input(em_tensor *gx, const em_tensor *gy,
                                             const em_tensor *w, const em_conv2d_params *p,
                                             em_tensor *work) {
  return run(BWD_DATA, gx, gy, w, p, 1.0, 0.0);
}

extern "C" int em_cuda_conv2d_backward_params(em_tensor *gw, em_tensor *gb, const em_tensor *x,
                                              const em_tensor *gy, const em_conv2d_params *p,
                                              double scale, em_tensor *work) {
  int st = bias(gy, gb, 1, scale);
  return st == EM_OK ? run(BWD_FILTER, x, gy, gw, p, scale, 1.0) : st;
}

/* transposed: x (N, C, H, W) -> y (N, F, oH, oW), w (C, F/G, kH, kW); as a conv2d, y is
 * X (F channels) and x is Y (C channels) */
extern "C" int em_cuda_conv_transpose2d_forward(em_tensor *y, const em_tensor *x,
                                                const em_tensor *w, const em_tensor *b,
                                                const em_conv2d_params *p, em_tensor *work) {
  int st = run(BWD_DATA, y, x, w, p, 1.0, 0.0);
  return st == EM_OK ? bias(y, (em_tensor *)b, 0, 1.0) : st;
}

extern "C" int em_cuda_conv_transpose2d_backward_input(em_tensor *gx, const em_tensor *gy,
                                                       const em_tensor *w,
                                                       const em_conv2d_params *p,
                                                       em_tensor *work) {
  return run(FWD, gy, gx, w, p, 1.0, 0.0);
}

extern "C" int em_cuda_conv_transpose2d_backward_params(em_tensor *gw, em_tensor *gb,
                                                        const em_tensor *x, const em_tensor *gy,
                                                        const em_conv2d_params *p, double scale,
                                                        em_tensor *work) {
  int st = bias(gy, gb, 1, scale);
  return st == EM_OK ? run(BWD_FILTER, gy, x, gw, p, scale, 1.0) : st;
}
