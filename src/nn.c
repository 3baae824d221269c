/* Public nn ops: argument checks with messages naming the op and the shapes, output
 * sizing, contiguous staging of inputs and outputs, then one call into the device's
 * nn backend. The kernels live in cpu_conv.c, cpu_pool.c, cpu_norm.c, cpu_loss.c. */
#include "nn.h"
#include "stage.h"

#define SHAPE_BUF 96


/* An op the device's backend lacks. */
static int missing(const char *op, const em_tensor *x) {
  return em_error("%s: not implemented for %s tensors on %s", op, em_dtype_info[x->dtype].name,
                  em_device_name(x->device));
}

/* *dst := a contiguous view of src with sizes (ndim, size) (ndim 0: src's own shape);
 * NULL when src is not given. */
static int in_view(em_stage *f, const em_tensor *src, int ndim, const int64_t *size,
                   const em_tensor **dst) {
  *dst = NULL;
  if (!em_given(src)) return EM_OK;
  em_tensor *t = em_stage_tmp(f, src, src->dtype);
  int st = em_tensor_contiguous(t, src);
  if (st == EM_OK && ndim > 0) st = em_tensor_view(t, t, ndim, size);
  *dst = t;
  return st;
}

/* Resizes out to (ndim, size) and sets *dst to the contiguous tensor of kernel shape
 * (kndim, ksize) that the kernel writes (copied back into out at frame_close when out
 * is a non-contiguous view). An out without storage takes dtype dt and like's device.
 * keep: the kernel reads out's values (an accumulator), so they are staged too. */
static int out_open(em_stage *f, const char *op, const char *name, em_tensor *out, em_dtype dt,
                    const em_tensor *like, int ndim, const int64_t *size, int kndim,
                    const int64_t *ksize, int keep, em_tensor **dst) {
  *dst = NULL;
  if (!out) return EM_OK;
  if (!out->storage) {
    out->dtype = dt;
    out->device = like->device;
    if (!out->ctx) out->ctx = like->ctx;
  } else if (out->dtype != dt) {
    return em_error("%s: %s is %s, expected %s", op, name, em_dtype_info[out->dtype].name,
                    em_dtype_info[dt].name);
  }
  int st = em_check_same_device(op, out, like);
  if (st == EM_OK) st = em_tensor_resize(out, ndim, size);
  if (st != EM_OK) return st;
  em_tensor *t = em_stage_tmp(f, out, dt);
  if (em_tensor_is_contiguous(out)) {
    em_tensor_set(t, out);
  } else {
    st = em_tensor_resize(t, ndim, size);
    if (st == EM_OK && keep) st = em_tensor_copy(t, out);
    f->back[f->n - 1] = out;
  }
  if (st == EM_OK) st = em_tensor_view(t, t, kndim, ksize);
  *dst = t;
  return st;
}

/* A parameter gradient to accumulate into: must have the parameter's shape, or be
 * empty (then it is sized and zeroed). */
static int acc_open(em_stage *f, const char *op, const char *name, em_tensor *g,
                    const em_tensor *like, int ndim, const int64_t *size, em_tensor **dst) {
  *dst = NULL;
  if (!g) return EM_OK;
  int fresh = !g->storage;
  if (!fresh) {
    int same = g->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = g->size[i] == size[i];
    if (!same) {
      char a[SHAPE_BUF], b[SHAPE_BUF];
      long long sz[EM_MAX_DIMS] = {0};
      for (int i = 0; i < ndim; i++) sz[i] = size[i];
      return em_error("%s: %s is %s, expected %s", op, name, em_tensor_shape_str(g, a, sizeof a),
                      em_format_sizes(b, sizeof b, ndim, sz));
    }
  }
  int st = out_open(f, op, name, g, like->dtype, like, ndim, size, ndim, size, !fresh, dst);
  if (st == EM_OK && fresh) st = em_tensor_fill(*dst, 0);
  return st;
}

/* A scratch tensor for the backend: the caller's (re-typed when needed) or a temporary. */
static em_tensor *work_open(em_stage *f, em_tensor *work, const em_tensor *like) {
  if (!work) return em_stage_tmp(f, like, like->dtype);
  if (work->dtype != like->dtype || work->device.type != like->device.type ||
      work->device.index != like->device.index) {
    em_tensor_release(work);
    work->dtype = like->dtype;
    work->device = like->device;
  }
  if (!work->ctx) work->ctx = like->ctx;
  return work;
}

/* The nn table of x's device, or NULL with an error recorded. */
static const struct em_nn_backend *nn_of(const char *op, const em_tensor *x) {
  const em_backend *be = em_backend_of(x->device);
  if (be && !be->nn) missing(op, x);
  return be ? be->nn : NULL;
}

/* --- argument checks --- */


/* t (when given) has x's dtype and device */
static int check_like(const char *op, const char *name, const em_tensor *t, const em_tensor *x) {
  if (!em_given(t)) return EM_OK;
  if (t->dtype != x->dtype)
    return em_error("%s: %s is %s, input is %s", op, name, em_dtype_info[t->dtype].name,
                    em_dtype_info[x->dtype].name);
  return em_check_same_device(op, t, x);
}

static int check_ndim(const char *op, const char *name, const em_tensor *t, int lo, int hi,
                      const char *layout) {
  if (!em_given(t)) return em_error("%s: %s is empty; expected %s", op, name, layout);
  if (t->ndim < lo || t->ndim > hi) {
    char s[SHAPE_BUF];
    return em_error("%s: %s is %s; expected %s", op, name, em_tensor_shape_str(t, s, sizeof s),
                    layout);
  }
  return EM_OK;
}

/* t is given and has exactly the sizes (ndim, size) */
static int check_shape(const char *op, const char *name, const em_tensor *t, int ndim,
                       const int64_t *size) {
  int same = em_given(t) && t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++) same = t->size[i] == size[i];
  if (same) return EM_OK;
  char a[SHAPE_BUF], b[SHAPE_BUF];
  long long sz[EM_MAX_DIMS] = {0};
  for (int i = 0; i < ndim; i++) sz[i] = size[i];
  return em_error("%s: %s is %s, expected %s", op, name,
                  em_given(t) ? em_tensor_shape_str(t, a, sizeof a) : "empty",
                  em_format_sizes(b, sizeof b, ndim, sz));
}

/* an optional per-channel vector: absent, or n elements in one dim */
static int check_vector(const char *op, const char *name, const em_tensor *t, int64_t n,
                        const em_tensor *x) {
  if (!em_given(t)) return EM_OK;
  int st = check_like(op, name, t, x);
  return st != EM_OK ? st : check_shape(op, name, t, 1, &n);
}

/* --- convolution --- */

/* The conv's geometry, from the input (3-d or 4-d), the weight and the params: the
 * input as (N, C, H, W) in x4, and the output sizes. */
typedef struct conv_shape {
  int64_t x4[4];          /* N, C, H, W */
  int64_t y4[4];          /* N, F, oH, oW */
  int batched;            /* input had a batch dim */
} conv_shape;

static int conv_check(const char *op, int transposed, const em_tensor *x, const em_tensor *w,
                      const em_tensor *b, const em_conv2d_params *p, conv_shape *cs) {
  char s[SHAPE_BUF], t[SHAPE_BUF];
  int st = check_ndim(op, "input", x, 3, 4, "(N, C, H, W) or (C, H, W)");
  if (st == EM_OK) st = check_ndim(op, "weight", w, 4, 4, transposed ? "(C, F/G, kH, kW)" : "(F, C/G, kH, kW)");
  if (st == EM_OK) st = em_check_float(op, "input", x);
  if (st == EM_OK) st = check_like(op, "weight", w, x);
  if (st != EM_OK) return st;
  if (p->precision == EM_PRECISION_BF16 && x->dtype != EM_FLOAT32)
    return em_error("%s: bfloat16 products take float32 tensors, got %s", op,
                    em_dtype_info[x->dtype].name);
  if (p->precision != EM_PRECISION_FULL && p->precision != EM_PRECISION_BF16)
    return em_error("%s: unknown precision %d", op, (int)p->precision);
  if (p->sH < 1 || p->sW < 1 || p->dH < 1 || p->dW < 1 || p->pH < 0 || p->pW < 0 || p->groups < 1 ||
      p->aH < 0 || p->aW < 0)
    return em_error("%s: stride %dx%d, dilation %dx%d, padding %dx%d, groups %d: strides, "
                    "dilations and groups must be positive, padding not negative",
                    op, p->sH, p->sW, p->dH, p->dW, p->pH, p->pW, p->groups);
  cs->batched = x->ndim == 4;
  cs->x4[0] = cs->batched ? x->size[0] : 1;
  cs->x4[1] = x->size[x->ndim - 3];
  cs->x4[2] = x->size[x->ndim - 2];
  cs->x4[3] = x->size[x->ndim - 1];
  int64_t C = cs->x4[1], H = cs->x4[2], W = cs->x4[3], G = p->groups;
  int64_t kH = w->size[2], kW = w->size[3];
  int64_t F = transposed ? w->size[1] * G : w->size[0];
  int64_t wC = transposed ? w->size[0] : w->size[1] * G;   /* input channels weight expects */
  if (C != wC)
    return em_error("%s: input has %lld channels, weight expects %lld", op, (long long)C,
                    (long long)wC);
  if ((transposed ? C : F) % G != 0 || (transposed ? C : F) < G)
    return em_error("%s: %lld %s channels are not divisible into %lld groups", op,
                    (long long)(transposed ? C : F), transposed ? "input" : "output", (long long)G);
  int64_t ekH = p->dH * (kH - 1) + 1, ekW = p->dW * (kW - 1) + 1;   /* dilated kernel */
  if (transposed) {
    if (p->aH >= p->sH && p->aH >= p->dH)
      return em_error("%s: output padding %dx%d must be smaller than the stride or the dilation",
                      op, p->aH, p->aW);
    if (p->aW >= p->sW && p->aW >= p->dW)
      return em_error("%s: output padding %dx%d must be smaller than the stride or the dilation",
                      op, p->aH, p->aW);
    cs->y4[2] = (H - 1) * p->sH - 2 * p->pH + ekH + p->aH;
    cs->y4[3] = (W - 1) * p->sW - 2 * p->pW + ekW + p->aW;
  } else {
    if (ekH > H + 2 * p->pH || ekW > W + 2 * p->pW)
      return em_error("%s: kernel %lldx%lld (dilated %lldx%lld) is larger than the padded input "
                      "%lldx%lld", op, (long long)kH, (long long)kW, (long long)ekH, (long long)ekW,
                      (long long)(H + 2 * p->pH), (long long)(W + 2 * p->pW));
    cs->y4[2] = (H + 2 * p->pH - ekH) / p->sH + 1;
    cs->y4[3] = (W + 2 * p->pW - ekW) / p->sW + 1;
  }
  if (cs->y4[2] < 1 || cs->y4[3] < 1)
    return em_error("%s: input %s with weight %s gives an empty output", op,
                    em_tensor_shape_str(x, s, sizeof s), em_tensor_shape_str(w, t, sizeof t));
  cs->y4[0] = cs->x4[0];
  cs->y4[1] = F;
  return check_vector(op, "bias", b, F, x);
}

/* sizes of the user-facing output: y4 without the batch dim when the input had none */
static int user_ndim(const conv_shape *cs) { return cs->batched ? 4 : 3; }
static const int64_t *user_size(const conv_shape *cs, const int64_t *s4) {
  return cs->batched ? s4 : s4 + 1;
}

typedef int (*conv_fwd_fn)(em_tensor *, const em_tensor *, const em_tensor *, const em_tensor *,
                           const em_conv2d_params *, em_tensor *);
typedef int (*conv_bwi_fn)(em_tensor *, const em_tensor *, const em_tensor *,
                           const em_conv2d_params *, em_tensor *);
typedef int (*conv_bwp_fn)(em_tensor *, em_tensor *, const em_tensor *, const em_tensor *,
                           const em_conv2d_params *, double, em_tensor *);

static int conv_forward(const char *op, int transposed, em_tensor *y, const em_tensor *x,
                        const em_tensor *w, const em_tensor *b, const em_conv2d_params *p,
                        em_tensor *work) {
  conv_shape cs;
  int st = conv_check(op, transposed, x, w, b, p, &cs);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, x);
  if (!be) return EM_ERR;
  conv_fwd_fn fn = transposed ? be->conv_transpose2d_forward : be->conv2d_forward;
  if (!fn) return missing(op, x);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL, *wc = NULL, *bc = NULL;
  em_tensor *yc = NULL;
  st = in_view(&f, x, 4, cs.x4, &xc);
  if (st == EM_OK) st = in_view(&f, w, 0, NULL, &wc);
  if (st == EM_OK) st = in_view(&f, b, 0, NULL, &bc);
  if (st == EM_OK)
    st = out_open(&f, op, "output", y, x->dtype, x, user_ndim(&cs), user_size(&cs, cs.y4), 4,
                  cs.y4, 0, &yc);
  em_tensor *wk = work_open(&f, work, x);
  if (st == EM_OK) st = fn(yc, xc, wc, bc, p, wk);
  return em_stage_close(&f, st);
}

static int conv_backward_input(const char *op, int transposed, em_tensor *gx, const em_tensor *x,
                               const em_tensor *gy, const em_tensor *w, const em_conv2d_params *p,
                               em_tensor *work) {
  conv_shape cs;
  int st = conv_check(op, transposed, x, w, NULL, p, &cs);
  if (st == EM_OK) st = check_like(op, "grad_output", gy, x);
  if (st == EM_OK) st = check_shape(op, "grad_output", gy, user_ndim(&cs), user_size(&cs, cs.y4));
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, x);
  if (!be) return EM_ERR;
  conv_bwi_fn fn = transposed ? be->conv_transpose2d_backward_input : be->conv2d_backward_input;
  if (!fn) return missing(op, x);
  em_stage f = {.n = 0};
  const em_tensor *gyc = NULL, *wc = NULL;
  em_tensor *gxc = NULL;
  st = in_view(&f, gy, 4, cs.y4, &gyc);
  if (st == EM_OK) st = in_view(&f, w, 0, NULL, &wc);
  if (st == EM_OK)
    st = out_open(&f, op, "grad_input", gx, x->dtype, x, x->ndim, x->size, 4, cs.x4, 0, &gxc);
  em_tensor *wk = work_open(&f, work, x);
  if (st == EM_OK) st = fn(gxc, gyc, wc, p, wk);
  return em_stage_close(&f, st);
}

static int conv_backward_params(const char *op, int transposed, em_tensor *gw, em_tensor *gb,
                                const em_tensor *x, const em_tensor *gy,
                                const em_conv2d_params *p, double scale, em_tensor *work) {
  if (!em_given(gw))
    return em_error("%s: grad_weight must be given with the weight's shape", op);
  conv_shape cs;
  int st = conv_check(op, transposed, x, gw, NULL, p, &cs);
  if (st == EM_OK) st = check_like(op, "grad_output", gy, x);
  if (st == EM_OK) st = check_shape(op, "grad_output", gy, user_ndim(&cs), user_size(&cs, cs.y4));
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, x);
  if (!be) return EM_ERR;
  conv_bwp_fn fn = transposed ? be->conv_transpose2d_backward_params : be->conv2d_backward_params;
  if (!fn) return missing(op, x);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL, *gyc = NULL;
  em_tensor *gwc = NULL, *gbc = NULL;
  st = in_view(&f, x, 4, cs.x4, &xc);
  if (st == EM_OK) st = in_view(&f, gy, 4, cs.y4, &gyc);
  if (st == EM_OK) st = acc_open(&f, op, "grad_weight", gw, x, gw->ndim, gw->size, &gwc);
  if (st == EM_OK) st = acc_open(&f, op, "grad_bias", gb, x, 1, &cs.y4[1], &gbc);
  em_tensor *wk = work_open(&f, work, x);
  if (st == EM_OK) st = fn(gwc, gbc, xc, gyc, p, scale, wk);
  return em_stage_close(&f, st);
}

int em_nn_conv2d_forward(em_tensor *output, const em_tensor *input, const em_tensor *weight,
                         const em_tensor *bias, const em_conv2d_params *p, em_tensor *work) {
  return conv_forward("conv2d", 0, output, input, weight, bias, p, work);
}

int em_nn_conv2d_backward_input(em_tensor *grad_input, const em_tensor *input,
                                const em_tensor *grad_output, const em_tensor *weight,
                                const em_conv2d_params *p, em_tensor *work) {
  return conv_backward_input("conv2d", 0, grad_input, input, grad_output, weight, p, work);
}

int em_nn_conv2d_backward_params(em_tensor *grad_weight, em_tensor *grad_bias,
                                 const em_tensor *input, const em_tensor *grad_output,
                                 const em_conv2d_params *p, double scale, em_tensor *work) {
  return conv_backward_params("conv2d", 0, grad_weight, grad_bias, input, grad_output, p, scale,
                              work);
}

int em_nn_conv_transpose2d_forward(em_tensor *output, const em_tensor *input,
                                   const em_tensor *weight, const em_tensor *bias,
                                   const em_conv2d_params *p, em_tensor *work) {
  return conv_forward("conv_transpose2d", 1, output, input, weight, bias, p, work);
}

int em_nn_conv_transpose2d_backward_input(em_tensor *grad_input, const em_tensor *input,
                                          const em_tensor *grad_output, const em_tensor *weight,
                                          const em_conv2d_params *p, em_tensor *work) {
  return conv_backward_input("conv_transpose2d", 1, grad_input, input, grad_output, weight, p,
                             work);
}

int em_nn_conv_transpose2d_backward_params(em_tensor *grad_weight, em_tensor *grad_bias,
                                           const em_tensor *input, const em_tensor *grad_output,
                                           const em_conv2d_params *p, double scale,
                                           em_tensor *work) {
  return conv_backward_params("conv_transpose2d", 1, grad_weight, grad_bias, input, grad_output,
                              p, scale, work);
}

/* --- pooling --- */

/* pooled size of one dim (PyTorch's rule: with ceil_mode the last window must start
 * inside the input or its left padding) */
static int64_t pool_out(int64_t in, int k, int s, int pad, int d, int ceil_mode) {
  int64_t span = in + 2 * pad - (int64_t)d * (k - 1) - 1;
  if (span < 0) return 0;
  int64_t o = (span + (ceil_mode ? s - 1 : 0)) / s + 1;
  if (ceil_mode && (o - 1) * s >= in + pad) o--;
  return o;
}

typedef struct pool_shape {
  int64_t x4[4], y4[4];
  int batched;
} pool_shape;

static int pool_check(const char *op, const em_tensor *x, const em_pool2d_params *p,
                      pool_shape *ps) {
  int st = check_ndim(op, "input", x, 3, 4, "(N, C, H, W) or (C, H, W)");
  if (st == EM_OK) st = em_check_float(op, "input", x);
  if (st != EM_OK) return st;
  if (p->kH < 1 || p->kW < 1 || p->sH < 1 || p->sW < 1 || p->dH < 1 || p->dW < 1)
    return em_error("%s: kernel %dx%d, stride %dx%d, dilation %dx%d must be positive", op, p->kH,
                    p->kW, p->sH, p->sW, p->dH, p->dW);
  if (p->pH < 0 || p->pW < 0 || p->pH > p->kH / 2 || p->pW > p->kW / 2)
    return em_error("%s: padding %dx%d must be at most half of the kernel %dx%d", op, p->pH,
                    p->pW, p->kH, p->kW);
  ps->batched = x->ndim == 4;
  ps->x4[0] = ps->batched ? x->size[0] : 1;
  for (int i = 1; i < 4; i++) ps->x4[i] = x->size[x->ndim - 4 + i];
  ps->y4[0] = ps->x4[0];
  ps->y4[1] = ps->x4[1];
  ps->y4[2] = pool_out(ps->x4[2], p->kH, p->sH, p->pH, p->dH, p->ceil_mode);
  ps->y4[3] = pool_out(ps->x4[3], p->kW, p->sW, p->pW, p->dW, p->ceil_mode);
  if (ps->y4[2] < 1 || ps->y4[3] < 1) {
    char s[SHAPE_BUF];
    return em_error("%s: kernel %dx%d (dilation %dx%d, padding %dx%d) does not fit input %s", op,
                    p->kH, p->kW, p->dH, p->dW, p->pH, p->pW, em_tensor_shape_str(x, s, sizeof s));
  }
  return EM_OK;
}

static int pool_ndim(const pool_shape *ps) { return ps->batched ? 4 : 3; }
static const int64_t *pool_user(const pool_shape *ps, const int64_t *s4) {
  return ps->batched ? s4 : s4 + 1;
}

int em_nn_maxpool2d_forward(em_tensor *output, em_tensor *indices, const em_tensor *input,
                            const em_pool2d_params *p) {
  const char *op = "maxpool2d";
  pool_shape ps;
  int st = pool_check(op, input, p, &ps);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->maxpool2d_forward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL;
  em_tensor *yc = NULL, *ic = NULL;
  int nd = pool_ndim(&ps);
  st = in_view(&f, input, 4, ps.x4, &xc);
  if (st == EM_OK)
    st = out_open(&f, op, "output", output, input->dtype, input, nd, pool_user(&ps, ps.y4), 4,
                  ps.y4, 0, &yc);
  if (st == EM_OK)
    st = out_open(&f, op, "indices", indices, EM_INT64, input, nd, pool_user(&ps, ps.y4), 4,
                  ps.y4, 0, &ic);
  if (st == EM_OK) st = be->maxpool2d_forward(yc, ic, xc, p);
  return em_stage_close(&f, st);
}

/* grad_output and (for max) indices match the pooled shape of input */
/* Stages a pooling backward: grad_output in as (N, C, oH, oW), grad_input out as
 * (N, C, H, W) in the input's dtype (copied back to the caller's tensor on success). */
static int pool_grads_open(em_stage *f, const char *op, em_tensor *grad_input,
                           const em_tensor *input, const em_tensor *grad_output,
                           const pool_shape *ps, const em_tensor **gyc, em_tensor **gxc) {
  int st = in_view(f, grad_output, 4, ps->y4, gyc);
  if (st != EM_OK) return st;
  return out_open(f, op, "grad_input", grad_input, input->dtype, input, input->ndim, input->size,
                  4, ps->x4, 0, gxc);
}

static int pool_backward_check(const char *op, const em_tensor *x, const em_tensor *gy,
                               const em_tensor *idx, pool_shape *ps) {
  int st = check_like(op, "grad_output", gy, x);
  if (st == EM_OK) st = check_shape(op, "grad_output", gy, pool_ndim(ps), pool_user(ps, ps->y4));
  if (st == EM_OK && idx) {
    st = check_shape(op, "indices", idx, pool_ndim(ps), pool_user(ps, ps->y4));
    if (st == EM_OK && idx->dtype != EM_INT64)
      st = em_error("%s: indices are %s, expected int64", op, em_dtype_info[idx->dtype].name);
  }
  return st;
}

int em_nn_maxpool2d_backward(em_tensor *grad_input, const em_tensor *input,
                             const em_tensor *grad_output, const em_tensor *indices) {
  const char *op = "maxpool2d";
  int st = check_ndim(op, "input", input, 3, 4, "(N, C, H, W) or (C, H, W)");
  if (st == EM_OK) st = em_check_float(op, "input", input);
  if (st == EM_OK) st = check_ndim(op, "grad_output", grad_output, input->ndim, input->ndim, "the pooled shape");
  if (st != EM_OK) return st;
  pool_shape ps;
  ps.batched = input->ndim == 4;
  for (int i = 0; i < 4; i++) {
    int d = input->ndim - 4 + i;
    ps.x4[i] = d < 0 ? 1 : input->size[d];
    ps.y4[i] = d < 0 ? 1 : grad_output->size[d];
  }
  ps.y4[0] = ps.x4[0];
  ps.y4[1] = ps.x4[1];
  st = pool_backward_check(op, input, grad_output, indices, &ps);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->maxpool2d_backward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *gyc = NULL, *ic = NULL;
  em_tensor *gxc = NULL;
  st = pool_grads_open(&f, op, grad_input, input, grad_output, &ps, &gyc, &gxc);
  if (st == EM_OK) st = in_view(&f, indices, 4, ps.y4, &ic);
  if (st == EM_OK) st = be->maxpool2d_backward(gxc, gyc, ic);
  return em_stage_close(&f, st);
}

static int avg_check(const char *op, const em_tensor *x, const em_pool2d_params *p,
                     pool_shape *ps) {
  if (p->dH != 1 || p->dW != 1)
    return em_error("%s: dilation %dx%d is not supported (must be 1x1)", op, p->dH, p->dW);
  return pool_check(op, x, p, ps);
}

int em_nn_avgpool2d_forward(em_tensor *output, const em_tensor *input, const em_pool2d_params *p) {
  const char *op = "avgpool2d";
  pool_shape ps;
  int st = avg_check(op, input, p, &ps);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->avgpool2d_forward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL;
  em_tensor *yc = NULL;
  st = in_view(&f, input, 4, ps.x4, &xc);
  if (st == EM_OK)
    st = out_open(&f, op, "output", output, input->dtype, input, pool_ndim(&ps),
                  pool_user(&ps, ps.y4), 4, ps.y4, 0, &yc);
  if (st == EM_OK) st = be->avgpool2d_forward(yc, xc, p);
  return em_stage_close(&f, st);
}

int em_nn_avgpool2d_backward(em_tensor *grad_input, const em_tensor *input,
                             const em_tensor *grad_output, const em_pool2d_params *p) {
  const char *op = "avgpool2d";
  pool_shape ps;
  int st = avg_check(op, input, p, &ps);
  if (st == EM_OK) st = pool_backward_check(op, input, grad_output, NULL, &ps);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->avgpool2d_backward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *gyc = NULL;
  em_tensor *gxc = NULL;
  st = pool_grads_open(&f, op, grad_input, input, grad_output, &ps, &gyc, &gxc);
  if (st == EM_OK) st = be->avgpool2d_backward(gxc, gyc, p);
  return em_stage_close(&f, st);
}

static int adaptive_shape(const char *op, const em_tensor *x, int64_t oH, int64_t oW,
                          pool_shape *ps) {
  int st = check_ndim(op, "input", x, 3, 4, "(N, C, H, W) or (C, H, W)");
  if (st == EM_OK) st = em_check_float(op, "input", x);
  if (st != EM_OK) return st;
  if (oH < 1 || oW < 1)
    return em_error("%s: output size %lldx%lld must be positive", op, (long long)oH, (long long)oW);
  ps->batched = x->ndim == 4;
  ps->x4[0] = ps->batched ? x->size[0] : 1;
  for (int i = 1; i < 4; i++) ps->x4[i] = x->size[x->ndim - 4 + i];
  ps->y4[0] = ps->x4[0];
  ps->y4[1] = ps->x4[1];
  ps->y4[2] = oH;
  ps->y4[3] = oW;
  return EM_OK;
}

int em_nn_adaptive_avgpool2d_forward(em_tensor *output, const em_tensor *input, int64_t oH,
                                     int64_t oW) {
  const char *op = "adaptive_avgpool2d";
  pool_shape ps;
  int st = adaptive_shape(op, input, oH, oW, &ps);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->adaptive_avgpool2d_forward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL;
  em_tensor *yc = NULL;
  st = in_view(&f, input, 4, ps.x4, &xc);
  if (st == EM_OK)
    st = out_open(&f, op, "output", output, input->dtype, input, pool_ndim(&ps),
                  pool_user(&ps, ps.y4), 4, ps.y4, 0, &yc);
  if (st == EM_OK) st = be->adaptive_avgpool2d_forward(yc, xc);
  return em_stage_close(&f, st);
}

int em_nn_adaptive_avgpool2d_backward(em_tensor *grad_input, const em_tensor *input,
                                      const em_tensor *grad_output) {
  const char *op = "adaptive_avgpool2d";
  int st = check_ndim(op, "grad_output", grad_output, 3, 4, "(N, C, oH, oW) or (C, oH, oW)");
  if (st != EM_OK) return st;
  pool_shape ps;
  int nd = grad_output->ndim;
  st = adaptive_shape(op, input, grad_output->size[nd - 2], grad_output->size[nd - 1], &ps);
  if (st == EM_OK) st = pool_backward_check(op, input, grad_output, NULL, &ps);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->adaptive_avgpool2d_backward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *gyc = NULL;
  em_tensor *gxc = NULL;
  st = pool_grads_open(&f, op, grad_input, input, grad_output, &ps, &gyc, &gxc);
  if (st == EM_OK) st = be->adaptive_avgpool2d_backward(gxc, gyc);
  return em_stage_close(&f, st);
}

/* --- softmax --- */

static int softmax_fwd(const char *op, int take_log, em_tensor *y, const em_tensor *x, int dim) {
  int st = check_ndim(op, "input", x, 1, EM_MAX_DIMS, "a non-empty tensor");
  if (st == EM_OK) st = em_check_float(op, "input", x);
  if (st != EM_OK) return st;
  if (dim < 0 || dim >= x->ndim)
    return em_error("%s: dim %d out of range for a %d-dimensional input", op, dim + 1, x->ndim);
  const struct em_nn_backend *be = nn_of(op, x);
  if (!be) return EM_ERR;
  if (!be->softmax_forward) return missing(op, x);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL;
  em_tensor *yc = NULL;
  st = in_view(&f, x, 0, NULL, &xc);
  if (st == EM_OK)
    st = out_open(&f, op, "output", y, x->dtype, x, x->ndim, x->size, x->ndim, x->size, 0, &yc);
  if (st == EM_OK) st = be->softmax_forward(yc, xc, dim, take_log);
  return em_stage_close(&f, st);
}

static int softmax_bwd(const char *op, int take_log, em_tensor *gx, const em_tensor *gy,
                       const em_tensor *y, int dim) {
  int st = check_ndim(op, "output", y, 1, EM_MAX_DIMS, "a non-empty tensor");
  if (st == EM_OK) st = em_check_float(op, "output", y);
  if (st == EM_OK) st = check_like(op, "grad_output", gy, y);
  if (st == EM_OK) st = check_shape(op, "grad_output", gy, y->ndim, y->size);
  if (st != EM_OK) return st;
  if (dim < 0 || dim >= y->ndim)
    return em_error("%s: dim %d out of range for a %d-dimensional input", op, dim + 1, y->ndim);
  const struct em_nn_backend *be = nn_of(op, y);
  if (!be) return EM_ERR;
  if (!be->softmax_backward) return missing(op, y);
  em_stage f = {.n = 0};
  const em_tensor *gyc = NULL, *yc = NULL;
  em_tensor *gxc = NULL;
  st = in_view(&f, gy, 0, NULL, &gyc);
  if (st == EM_OK) st = in_view(&f, y, 0, NULL, &yc);
  if (st == EM_OK)
    st = out_open(&f, op, "grad_input", gx, y->dtype, y, y->ndim, y->size, y->ndim, y->size, 0,
                  &gxc);
  if (st == EM_OK) st = be->softmax_backward(gxc, gyc, yc, dim, take_log);
  return em_stage_close(&f, st);
}

int em_nn_softmax_forward(em_tensor *output, const em_tensor *input, int dim) {
  return softmax_fwd("softmax", 0, output, input, dim);
}

int em_nn_softmax_backward(em_tensor *grad_input, const em_tensor *grad_output,
                           const em_tensor *output, int dim) {
  return softmax_bwd("softmax", 0, grad_input, grad_output, output, dim);
}

int em_nn_log_softmax_forward(em_tensor *output, const em_tensor *input, int dim) {
  return softmax_fwd("log_softmax", 1, output, input, dim);
}

int em_nn_log_softmax_backward(em_tensor *grad_input, const em_tensor *grad_output,
                               const em_tensor *output, int dim) {
  return softmax_bwd("log_softmax", 1, grad_input, grad_output, output, dim);
}

/* --- batch norm --- */

/* input as (N, C, S) */
static int bn_shape(const char *op, const em_tensor *x, int64_t *x3) {
  int st = check_ndim(op, "input", x, 2, EM_MAX_DIMS, "(N, C) or (N, C, *)");
  if (st == EM_OK) st = em_check_float(op, "input", x);
  if (st != EM_OK) return st;
  x3[0] = x->size[0];
  x3[1] = x->size[1];
  x3[2] = 1;
  for (int i = 2; i < x->ndim; i++) x3[2] *= x->size[i];
  return EM_OK;
}

int em_nn_batchnorm_forward(em_tensor *output, em_tensor *save_mean, em_tensor *save_invstd,
                            const em_tensor *input, const em_tensor *weight,
                            const em_tensor *bias, em_tensor *running_mean,
                            em_tensor *running_var, int train, double momentum, double eps) {
  const char *op = "batchnorm";
  int64_t x3[3];
  int st = bn_shape(op, input, x3);
  int64_t C = x3[1];
  if (st == EM_OK) st = check_vector(op, "weight", weight, C, input);
  if (st == EM_OK) st = check_vector(op, "bias", bias, C, input);
  if (st == EM_OK) st = check_vector(op, "running_mean", running_mean, C, input);
  if (st == EM_OK) st = check_vector(op, "running_var", running_var, C, input);
  if (st != EM_OK) return st;
  if (em_given(running_mean) != em_given(running_var))
    return em_error("%s: running_mean and running_var must be given together", op);
  if (!train && !em_given(running_mean))
    return em_error("%s: evaluation needs running_mean and running_var", op);
  if (train && x3[0] * x3[2] < 2) {
    char s[SHAPE_BUF];
    return em_error("%s: training needs more than one value per channel, input is %s", op,
                    em_tensor_shape_str(input, s, sizeof s));
  }
  if (eps < 0) return em_error("%s: eps %g must not be negative", op, eps);
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->batchnorm_forward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL, *wc = NULL, *bc = NULL;
  em_tensor *yc = NULL, *mc = NULL, *ic = NULL, *rmc = NULL, *rvc = NULL;
  st = in_view(&f, input, 3, x3, &xc);
  if (st == EM_OK) st = in_view(&f, weight, 0, NULL, &wc);
  if (st == EM_OK) st = in_view(&f, bias, 0, NULL, &bc);
  if (st == EM_OK)
    st = out_open(&f, op, "output", output, input->dtype, input, input->ndim, input->size, 3, x3,
                  0, &yc);
  em_tensor *mean_out = save_mean ? save_mean : em_stage_tmp(&f, input, input->dtype);
  em_tensor *invstd_out = save_invstd ? save_invstd : em_stage_tmp(&f, input, input->dtype);
  if (st == EM_OK) st = out_open(&f, op, "save_mean", mean_out, input->dtype, input, 1, &C, 1, &C, 0, &mc);
  if (st == EM_OK) st = out_open(&f, op, "save_invstd", invstd_out, input->dtype, input, 1, &C, 1, &C, 0, &ic);
  if (st == EM_OK && em_given(running_mean))
    st = out_open(&f, op, "running_mean", running_mean, input->dtype, input, 1, &C, 1, &C, 1, &rmc);
  if (st == EM_OK && em_given(running_var))
    st = out_open(&f, op, "running_var", running_var, input->dtype, input, 1, &C, 1, &C, 1, &rvc);
  if (st == EM_OK)
    st = be->batchnorm_forward(yc, mc, ic, xc, wc, bc, rmc, rvc, train, momentum, eps);
  return em_stage_close(&f, st);
}

int em_nn_batchnorm_backward(em_tensor *grad_input, em_tensor *grad_weight,
                             em_tensor *grad_bias, const em_tensor *input,
                             const em_tensor *grad_output, const em_tensor *weight,
                             const em_tensor *save_mean, const em_tensor *save_invstd, int train,
                             double scale) {
  const char *op = "batchnorm";
  int64_t x3[3];
  int st = bn_shape(op, input, x3);
  int64_t C = x3[1];
  if (st == EM_OK) st = check_like(op, "grad_output", grad_output, input);
  if (st == EM_OK) st = check_shape(op, "grad_output", grad_output, input->ndim, input->size);
  if (st == EM_OK) st = check_vector(op, "weight", weight, C, input);
  if (st == EM_OK) st = check_like(op, "save_mean", save_mean, input);
  if (st == EM_OK) st = check_shape(op, "save_mean", save_mean, 1, &C);
  if (st == EM_OK) st = check_like(op, "save_invstd", save_invstd, input);
  if (st == EM_OK) st = check_shape(op, "save_invstd", save_invstd, 1, &C);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->batchnorm_backward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL, *gyc = NULL, *wc = NULL, *mc = NULL, *ic = NULL;
  em_tensor *gxc = NULL, *gwc = NULL, *gbc = NULL;
  st = in_view(&f, input, 3, x3, &xc);
  if (st == EM_OK) st = in_view(&f, grad_output, 3, x3, &gyc);
  if (st == EM_OK) st = in_view(&f, weight, 0, NULL, &wc);
  if (st == EM_OK) st = in_view(&f, save_mean, 0, NULL, &mc);
  if (st == EM_OK) st = in_view(&f, save_invstd, 0, NULL, &ic);
  if (st == EM_OK)
    st = out_open(&f, op, "grad_input", grad_input, input->dtype, input, input->ndim, input->size,
                  3, x3, 0, &gxc);
  if (st == EM_OK) st = acc_open(&f, op, "grad_weight", grad_weight, input, 1, &C, &gwc);
  if (st == EM_OK) st = acc_open(&f, op, "grad_bias", grad_bias, input, 1, &C, &gbc);
  if (st == EM_OK)
    st = be->batchnorm_backward(gxc, gwc, gbc, xc, gyc, wc, mc, ic, train, scale);
  return em_stage_close(&f, st);
}

/* --- layer norm --- */

/* input as (M, D) for its last k dims; weight/bias (when given) shaped like those dims */
static int ln_shape(const char *op, const em_tensor *x, const em_tensor *w, const em_tensor *b,
                    int k, int64_t *x2) {
  int st = check_ndim(op, "input", x, 1, EM_MAX_DIMS, "a non-empty tensor");
  if (st == EM_OK) st = em_check_float(op, "input", x);
  if (st != EM_OK) return st;
  if (k < 1 || k > x->ndim)
    return em_error("%s: %d normalised dims for a %d-dimensional input", op, k, x->ndim);
  x2[0] = 1;
  x2[1] = 1;
  for (int i = 0; i < x->ndim; i++) x2[i < x->ndim - k ? 0 : 1] *= x->size[i];
  const int64_t *dsize = x->size + x->ndim - k;
  if (em_given(w)) st = check_like(op, "weight", w, x);
  if (st == EM_OK && em_given(w)) st = check_shape(op, "weight", w, k, dsize);
  if (st == EM_OK && em_given(b)) st = check_like(op, "bias", b, x);
  if (st == EM_OK && em_given(b)) st = check_shape(op, "bias", b, k, dsize);
  return st;
}

int em_nn_layernorm_forward(em_tensor *output, em_tensor *save_mean, em_tensor *save_invstd,
                            const em_tensor *input, const em_tensor *weight,
                            const em_tensor *bias, int k, double eps) {
  const char *op = "layernorm";
  int64_t x2[2];
  int st = ln_shape(op, input, weight, bias, k, x2);
  if (st != EM_OK) return st;
  if (eps < 0) return em_error("%s: eps %g must not be negative", op, eps);
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->layernorm_forward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL, *wc = NULL, *bc = NULL;
  em_tensor *yc = NULL, *mc = NULL, *ic = NULL;
  st = in_view(&f, input, 2, x2, &xc);
  if (st == EM_OK) st = in_view(&f, weight, 1, &x2[1], &wc);
  if (st == EM_OK) st = in_view(&f, bias, 1, &x2[1], &bc);
  if (st == EM_OK)
    st = out_open(&f, op, "output", output, input->dtype, input, input->ndim, input->size, 2, x2,
                  0, &yc);
  em_tensor *mean_out = save_mean ? save_mean : em_stage_tmp(&f, input, input->dtype);
  em_tensor *invstd_out = save_invstd ? save_invstd : em_stage_tmp(&f, input, input->dtype);
  if (st == EM_OK)
    st = out_open(&f, op, "save_mean", mean_out, input->dtype, input, 1, x2, 1, x2, 0, &mc);
  if (st == EM_OK)
    st = out_open(&f, op, "save_invstd", invstd_out, input->dtype, input, 1, x2, 1, x2, 0, &ic);
  if (st == EM_OK) st = be->layernorm_forward(yc, mc, ic, xc, wc, bc, eps);
  return em_stage_close(&f, st);
}

int em_nn_layernorm_backward(em_tensor *grad_input, em_tensor *grad_weight,
                             em_tensor *grad_bias, const em_tensor *input,
                             const em_tensor *grad_output, const em_tensor *weight,
                             const em_tensor *save_mean, const em_tensor *save_invstd, int k,
                             double scale) {
  const char *op = "layernorm";
  int64_t x2[2];
  int st = ln_shape(op, input, weight, NULL, k, x2);
  if (st == EM_OK) st = check_like(op, "grad_output", grad_output, input);
  if (st == EM_OK) st = check_shape(op, "grad_output", grad_output, input->ndim, input->size);
  if (st == EM_OK) st = check_like(op, "save_mean", save_mean, input);
  if (st == EM_OK) st = check_shape(op, "save_mean", save_mean, 1, x2);
  if (st == EM_OK) st = check_like(op, "save_invstd", save_invstd, input);
  if (st == EM_OK) st = check_shape(op, "save_invstd", save_invstd, 1, x2);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, input);
  if (!be) return EM_ERR;
  if (!be->layernorm_backward) return missing(op, input);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL, *gyc = NULL, *wc = NULL, *mc = NULL, *ic = NULL;
  em_tensor *gxc = NULL, *gwc = NULL, *gbc = NULL;
  const int64_t *dsize = input->size + input->ndim - k;
  st = in_view(&f, input, 2, x2, &xc);
  if (st == EM_OK) st = in_view(&f, grad_output, 2, x2, &gyc);
  if (st == EM_OK) st = in_view(&f, weight, 1, &x2[1], &wc);
  if (st == EM_OK) st = in_view(&f, save_mean, 0, NULL, &mc);
  if (st == EM_OK) st = in_view(&f, save_invstd, 0, NULL, &ic);
  if (st == EM_OK)
    st = out_open(&f, op, "grad_input", grad_input, input->dtype, input, input->ndim, input->size,
                  2, x2, 0, &gxc);
  if (st == EM_OK) st = acc_open(&f, op, "grad_weight", grad_weight, input, k, dsize, &gwc);
  if (st == EM_OK) st = acc_open(&f, op, "grad_bias", grad_bias, input, k, dsize, &gbc);
  if (st == EM_OK && gwc) st = em_tensor_view(gwc, gwc, 1, &x2[1]);
  if (st == EM_OK && gbc) st = em_tensor_view(gbc, gbc, 1, &x2[1]);
  if (st == EM_OK)
    st = be->layernorm_backward(gxc, gwc, gbc, xc, gyc, wc, mc, ic, scale);
  return em_stage_close(&f, st);
}

/* --- class losses --- */

/* input as (N, K, S) and target as (N, S); class_weight (K) when given */
static int loss_shape(const char *op, const em_tensor *x, const em_tensor *t,
                      const em_tensor *cw, const em_nll_params *p, int64_t *x3, int64_t *t2) {
  int st = check_ndim(op, "input", x, 1, EM_MAX_DIMS, "(K), (N, K) or (N, K, d1, ...)");
  if (st == EM_OK) st = em_check_float(op, "input", x);
  if (st == EM_OK) st = check_ndim(op, "target", t, 1, EM_MAX_DIMS, "class numbers");
  if (st == EM_OK) st = em_check_same_device(op, t, x);
  if (st != EM_OK) return st;
  if (t->dtype != EM_INT64)
    return em_error("%s: target is %s, expected int64 class numbers", op,
                    em_dtype_info[t->dtype].name);
  if (p->reduction != EM_REDUCTION_NONE && p->reduction != EM_REDUCTION_MEAN &&
      p->reduction != EM_REDUCTION_SUM)
    return em_error("%s: unknown reduction %d", op, (int)p->reduction);
  int batched = x->ndim >= 2;
  x3[0] = batched ? x->size[0] : 1;
  x3[1] = x->size[batched ? 1 : 0];
  x3[2] = 1;
  for (int i = 2; i < x->ndim; i++) x3[2] *= x->size[i];
  int match = batched ? t->ndim == x->ndim - 1 : em_tensor_numel(t) == 1;
  for (int i = 0; batched && match && i < t->ndim; i++)
    match = t->size[i] == x->size[i == 0 ? 0 : i + 1];
  if (!match) {
    char a[SHAPE_BUF], b[SHAPE_BUF];
    return em_error("%s: target %s does not match input %s", op,
                    em_tensor_shape_str(t, a, sizeof a), em_tensor_shape_str(x, b, sizeof b));
  }
  t2[0] = x3[0];
  t2[1] = x3[2];
  return check_vector(op, "class_weight", cw, x3[1], x);
}

/* grad_output matches the forward's output: target's shape for none, one value else */
static int loss_grad_check(const char *op, const em_tensor *t, const em_tensor *gy,
                           const em_tensor *total, const em_tensor *x, const em_nll_params *p) {
  int st = check_like(op, "grad_output", gy, x);
  if (st != EM_OK) return st;
  int64_t one = 1;
  int64_t want = p->reduction == EM_REDUCTION_NONE ? em_tensor_numel(t) : one;
  if (!em_given(gy) || em_tensor_numel(gy) != want) {
    char s[SHAPE_BUF];
    return em_error("%s: grad_output is %s, expected %lld values", op,
                    em_given(gy) ? em_tensor_shape_str(gy, s, sizeof s) : "empty", (long long)want);
  }
  st = check_like(op, "total_weight", total, x);
  return st == EM_OK ? check_shape(op, "total_weight", total, 1, &one) : st;
}

/* forward of nll (log_probs NULL) or cross entropy (log_probs filled) */
static int loss_forward(const char *op, em_tensor *y, em_tensor *total, em_tensor *logp,
                        const em_tensor *x, const em_tensor *t, const em_tensor *cw,
                        const em_nll_params *p) {
  int64_t x3[3], t2[2], one = 1;
  int st = loss_shape(op, x, t, cw, p, x3, t2);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, x);
  if (!be) return EM_ERR;
  if (!(logp ? be->cross_entropy_forward != NULL : be->nll_forward != NULL)) return missing(op, x);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL, *tc = NULL, *cwc = NULL;
  em_tensor *yc = NULL, *totc = NULL, *lpc = NULL;
  int none = p->reduction == EM_REDUCTION_NONE;
  st = in_view(&f, x, 3, x3, &xc);
  if (st == EM_OK) st = in_view(&f, t, 2, t2, &tc);
  if (st == EM_OK) st = in_view(&f, cw, 0, NULL, &cwc);
  if (st == EM_OK)
    st = out_open(&f, op, "output", y, x->dtype, x, none ? t->ndim : 1, none ? t->size : &one,
                  none ? 2 : 1, none ? t2 : &one, 0, &yc);
  em_tensor *total_out = total ? total : em_stage_tmp(&f, x, x->dtype);
  if (st == EM_OK)
    st = out_open(&f, op, "total_weight", total_out, x->dtype, x, 1, &one, 1, &one, 0, &totc);
  if (st == EM_OK && logp)
    st = out_open(&f, op, "log_probs", logp, x->dtype, x, x->ndim, x->size, 3, x3, 0, &lpc);
  if (st == EM_OK)
    st = logp ? be->cross_entropy_forward(yc, totc, lpc, xc, tc, cwc, p)
              : be->nll_forward(yc, totc, xc, tc, cwc, p);
  return em_stage_close(&f, st);
}

/* backward of nll (x: the input) or cross entropy (x: the saved log_probs) */
static int loss_backward(const char *op, int fused, em_tensor *gx, const em_tensor *x,
                         const em_tensor *t, const em_tensor *gy, const em_tensor *cw,
                         const em_tensor *total, const em_nll_params *p) {
  int64_t x3[3], t2[2];
  int st = loss_shape(op, x, t, cw, p, x3, t2);
  if (st == EM_OK) st = loss_grad_check(op, t, gy, total, x, p);
  if (st != EM_OK) return st;
  const struct em_nn_backend *be = nn_of(op, x);
  if (!be) return EM_ERR;
  if (!(fused ? be->cross_entropy_backward != NULL : be->nll_backward != NULL))
    return missing(op, x);
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL, *tc = NULL, *gyc = NULL, *cwc = NULL, *totc = NULL;
  em_tensor *gxc = NULL;
  int64_t gsize = em_tensor_numel(gy);
  st = in_view(&f, t, 2, t2, &tc);
  if (st == EM_OK && fused) st = in_view(&f, x, 3, x3, &xc);
  if (st == EM_OK) st = in_view(&f, gy, 1, &gsize, &gyc);
  if (st == EM_OK) st = in_view(&f, cw, 0, NULL, &cwc);
  if (st == EM_OK) st = in_view(&f, total, 0, NULL, &totc);
  if (st == EM_OK)
    st = out_open(&f, op, "grad_input", gx, x->dtype, x, x->ndim, x->size, 3, x3, 0, &gxc);
  if (st == EM_OK)
    st = fused ? be->cross_entropy_backward(gxc, xc, tc, gyc, cwc, totc, p)
               : be->nll_backward(gxc, tc, gyc, cwc, totc, p);
  return em_stage_close(&f, st);
}

int em_nn_nll_forward(em_tensor *output, em_tensor *total_weight, const em_tensor *input,
                      const em_tensor *target, const em_tensor *class_weight,
                      const em_nll_params *p) {
  return loss_forward("nll", output, total_weight, NULL, input, target, class_weight, p);
}

int em_nn_nll_backward(em_tensor *grad_input, const em_tensor *input, const em_tensor *target,
                       const em_tensor *grad_output, const em_tensor *class_weight,
                       const em_tensor *total_weight, const em_nll_params *p) {
  return loss_backward("nll", 0, grad_input, input, target, grad_output, class_weight,
                       total_weight, p);
}

int em_nn_cross_entropy_forward(em_tensor *output, em_tensor *total_weight,
                                em_tensor *log_probs, const em_tensor *input,
                                const em_tensor *target, const em_tensor *class_weight,
                                const em_nll_params *p) {
  if (!log_probs) return em_error("cross_entropy: log_probs must be given");
  return loss_forward("cross_entropy", output, total_weight, log_probs, input, target,
                      class_weight, p);
}

int em_nn_cross_entropy_backward(em_tensor *grad_input, const em_tensor *log_probs,
                                 const em_tensor *target, const em_tensor *grad_output,
                                 const em_tensor *class_weight, const em_tensor *total_weight,
                                 const em_nll_params *p) {
  return loss_backward("cross_entropy", 1, grad_input, log_probs, target, grad_output,
                       class_weight, total_weight, p);
}
