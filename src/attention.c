/* Public attention ops: argument checks with messages naming the op and the shapes,
 * output sizing, staging of inputs the kernels cannot read in place, then one call
 * into the device's attention backend (cpu_attention.c on the CPU). */
#include <stdint.h>

#include "attention.h"
#include "stage.h"

#define SHAPE_BUF 96


/* The attention table of x's device, or NULL with an error naming op, dtype, device. */
static const struct em_attention_backend *attention_of(const char *op, const em_tensor *x) {
  const em_backend *be = em_backend_of(x->device);
  if (be && !be->attention) {
    em_error("%s: not implemented for %s tensors on %s", op, em_dtype_info[x->dtype].name,
             em_device_name(x->device));
    return NULL;
  }
  return be ? be->attention : NULL;
}

/* --- argument checks --- */


/* t has x's dtype and device */
static int check_like(const char *op, const char *name, const em_tensor *t, const em_tensor *x) {
  if (t->dtype != x->dtype)
    return em_error("%s: %s is %s, %s", op, name, em_dtype_info[t->dtype].name,
                    x->dtype == EM_FLOAT32 ? "expected float32" : "expected float64");
  return em_check_same_device(op, t, x);
}

/* t is given and has exactly the sizes (ndim, size); layout names them in the message */
static int check_shape(const char *op, const char *name, const em_tensor *t, int ndim,
                       const int64_t *size, const char *layout) {
  int same = em_given(t) && t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++) same = t->size[i] == size[i];
  if (same) return EM_OK;
  char a[SHAPE_BUF], b[SHAPE_BUF];
  long long sz[EM_MAX_DIMS] = {0};
  for (int i = 0; i < ndim; i++) sz[i] = size[i];
  return em_error("%s: %s is %s, expected %s %s", op, name,
                  em_given(t) ? em_tensor_shape_str(t, a, sizeof a) : "empty",
                  em_format_sizes(b, sizeof b, ndim, sz), layout);
}

/* Can a kernel read t (B, NH, T, D) in place: unit stride along D, rows not overlapping,
 * and strides that fit BLAS's int leading dims? */
static int rows_readable(const em_tensor *t) {
  int64_t T = t->size[2], D = t->size[3];
  if (D > 1 && t->stride[3] != 1) return 0;
  if (T > 1 && (t->stride[2] < D || t->stride[2] > INT32_MAX)) return 0;
  return 1;
}

/* *dst := t when the kernel can read it in place, else a contiguous copy. */
static int in_rows(em_stage *f, const em_tensor *t, const em_tensor **dst) {
  *dst = t;
  if (rows_readable(t)) return EM_OK;
  em_tensor *c = em_stage_tmp(f, t, t->dtype);
  *dst = c;
  return em_tensor_contiguous(c, t);
}

/* *dst := a contiguous view of t (NULL when t is not given), converted to dt when
 * t has another dtype. */
static int in_contig(em_stage *f, const em_tensor *t, em_dtype dt, const em_tensor **dst) {
  *dst = NULL;
  if (!em_given(t)) return EM_OK;
  if (t->dtype == dt && em_tensor_is_contiguous(t)) {
    *dst = t;
    return EM_OK;
  }
  em_tensor *c = em_stage_tmp(f, t, dt);
  *dst = c;
  return em_tensor_clone_as(c, t, dt);
}

/* Sizes out to (4, size) in like's dtype and sets *dst to what the kernel writes: out
 * itself when its rows are writable in place (contiguous when rows_only is 0), else a
 * contiguous temporary copied back into out when the op succeeds. */
static int out_open(em_stage *f, const char *op, const char *name, em_tensor *out,
                    const em_tensor *like, int ndim, const int64_t *size, int rows_only,
                    em_tensor **dst) {
  if (!out->storage) {
    out->dtype = like->dtype;
    out->device = like->device;
    if (!out->ctx) out->ctx = like->ctx;
  }
  int st = check_like(op, name, out, like);
  if (st == EM_OK) st = em_tensor_resize(out, ndim, size);
  if (st != EM_OK) return st;
  if (rows_only ? rows_readable(out) : em_tensor_is_contiguous(out)) {
    *dst = out;
    return EM_OK;
  }
  em_tensor *t = em_stage_tmp(f, out, out->dtype);
  f->back[f->n - 1] = out;
  *dst = t;
  return em_tensor_resize(t, ndim, size);
}

/* q (B, NH, Tq, HS), k (B, NH, Tk, HS), v (B, NH, Tk, HSv), optional pad (B, Tk) and
 * dmask (B, NH, Tq, Tk): checked; the sizes of y and att returned. */
static int sdpa_check(const char *op, const em_tensor *q, const em_tensor *k,
                      const em_tensor *v, const em_tensor *pad, const em_tensor *dmask,
                      const em_attention_params *p, int64_t *ysize, int64_t *asize) {
  char s[SHAPE_BUF];
  static const char *const names[3] = {"q", "k", "v"};
  const em_tensor *in[3] = {q, k, v};
  for (int i = 0; i < 3; i++) {
    if (!em_given(in[i]) || in[i]->ndim != 4)
      return em_error("%s: %s is %s; expected (B, NH, T, HS)", op, names[i],
                      em_given(in[i]) ? em_tensor_shape_str(in[i], s, sizeof s) : "empty");
    int st = i == 0 ? em_check_float(op, "q", q) : check_like(op, names[i], in[i], q);
    if (st != EM_OK) return st;
  }
  int64_t B = q->size[0], NH = q->size[1], Tq = q->size[2], HS = q->size[3];
  int64_t Tk = k->size[2];
  int64_t ks[4] = {B, NH, Tk, HS}, vs[4] = {B, NH, Tk, v->size[3]};
  int st = check_shape(op, "k", k, 4, ks, "(B, NH, Tk, HS) to match q");
  if (st == EM_OK) st = check_shape(op, "v", v, 4, vs, "(B, NH, Tk, HSv) to match k");
  if (st != EM_OK) return st;
  if (!(p->scale == p->scale)) return em_error("%s: scale is NaN", op);
  if (p->precision == EM_PRECISION_BF16 && q->dtype != EM_FLOAT32)
    return em_error("%s: bfloat16 products take float32 tensors, got %s", op,
                    em_dtype_info[q->dtype].name);
  if (p->precision != EM_PRECISION_FULL && p->precision != EM_PRECISION_BF16)
    return em_error("%s: unknown precision %d", op, (int)p->precision);
  ysize[0] = B, ysize[1] = NH, ysize[2] = Tq, ysize[3] = v->size[3];
  asize[0] = B, asize[1] = NH, asize[2] = Tq, asize[3] = Tk;
  if (em_given(pad)) {
    if (pad->dtype != EM_BOOL && pad->dtype != EM_UINT8)
      return em_error("%s: key padding mask is %s; expected bool or uint8", op,
                      em_dtype_info[pad->dtype].name);
    int64_t ps[2] = {B, Tk};
    st = check_shape(op, "key padding mask", pad, 2, ps, "(B, Tk)");
    if (st == EM_OK) st = em_check_same_device(op, pad, q);
    if (st != EM_OK) return st;
  }
  if (em_given(dmask)) {
    st = check_like(op, "dropout mask", dmask, q);
    if (st == EM_OK) st = check_shape(op, "dropout mask", dmask, 4, asize, "(B, NH, Tq, Tk)");
  }
  return st;
}

int em_attention_forward(em_tensor *output, em_tensor *att, const em_tensor *q,
                         const em_tensor *k, const em_tensor *v, const em_tensor *pad,
                         const em_tensor *dmask, const em_attention_params *p) {
  const char *op = "attention";
  int64_t ys[4], as[4];
  int st = sdpa_check(op, q, k, v, pad, dmask, p, ys, as);
  if (st != EM_OK) return st;
  const struct em_attention_backend *be = attention_of(op, q);
  if (!be) return EM_ERR;
  em_stage f = {.n = 0};
  const em_tensor *qc, *kc, *vc, *padc = NULL, *dc = NULL;
  em_tensor *yc = NULL, *ac = NULL;
  em_tensor *att_out = att ? att : em_stage_tmp(&f, q, q->dtype);
  st = in_rows(&f, q, &qc);
  if (st == EM_OK) st = in_rows(&f, k, &kc);
  if (st == EM_OK) st = in_rows(&f, v, &vc);
  if (st == EM_OK) st = in_contig(&f, pad, EM_UINT8, &padc);
  if (st == EM_OK) st = in_contig(&f, dmask, q->dtype, &dc);
  if (st == EM_OK) st = out_open(&f, op, "output", output, q, 4, ys, 1, &yc);
  if (st == EM_OK) st = out_open(&f, op, "att", att_out, q, 4, as, 0, &ac);
  if (st == EM_OK) st = be->sdpa_forward(yc, ac, qc, kc, vc, padc, dc, p);
  return em_stage_close(&f, st);
}

int em_attention_backward(em_tensor *grad_q, em_tensor *grad_k, em_tensor *grad_v,
                          const em_tensor *grad_output, const em_tensor *q, const em_tensor *k,
                          const em_tensor *v, const em_tensor *att, const em_tensor *dmask,
                          const em_attention_params *p, em_tensor *work) {
  const char *op = "attention backward";
  int64_t ys[4], as[4];
  int st = sdpa_check(op, q, k, v, NULL, dmask, p, ys, as);
  if (st == EM_OK) st = check_like(op, "grad_output", grad_output, q);
  if (st == EM_OK) st = check_shape(op, "grad_output", grad_output, 4, ys, "(B, NH, Tq, HSv)");
  if (st == EM_OK) st = check_like(op, "att", att, q);
  if (st == EM_OK) st = check_shape(op, "att", att, 4, as, "(B, NH, Tq, Tk) from the forward");
  if (st != EM_OK) return st;
  if (!grad_q || !grad_k || !grad_v)
    return em_error("%s: grad_q, grad_k and grad_v are all required", op);
  const struct em_attention_backend *be = attention_of(op, q);
  if (!be) return EM_ERR;
  em_stage f = {.n = 0};
  const em_tensor *qc, *kc, *vc, *gyc, *ac, *dc = NULL;
  em_tensor *gqc = NULL, *gkc = NULL, *gvc = NULL;
  em_tensor *wk = work ? work : em_stage_tmp(&f, q, q->dtype);
  if (work && work->storage && (work->dtype != q->dtype || work->device.type != q->device.type)) {
    em_tensor_release(work);
    work->dtype = q->dtype;
    work->device = q->device;
  }
  if (!wk->ctx) wk->ctx = q->ctx;
  st = in_rows(&f, q, &qc);
  if (st == EM_OK) st = in_rows(&f, k, &kc);
  if (st == EM_OK) st = in_rows(&f, v, &vc);
  if (st == EM_OK) st = in_rows(&f, grad_output, &gyc);
  if (st == EM_OK) st = in_contig(&f, att, q->dtype, &ac);
  if (st == EM_OK) st = in_contig(&f, dmask, q->dtype, &dc);
  if (st == EM_OK) st = out_open(&f, op, "grad_q", grad_q, q, 4, q->size, 1, &gqc);
  if (st == EM_OK) st = out_open(&f, op, "grad_k", grad_k, q, 4, k->size, 1, &gkc);
  if (st == EM_OK) st = out_open(&f, op, "grad_v", grad_v, q, 4, v->size, 1, &gvc);
  if (st == EM_OK) st = em_tensor_resize(wk, 4, as);
  if (st == EM_OK) st = be->sdpa_backward(gqc, gkc, gvc, gyc, qc, kc, vc, ac, dc, p, wk);
  return em_stage_close(&f, st);
}

/* --- GELU --- */

static int check_gelu(const char *op, const em_tensor *x, em_gelu_mode mode) {
  if (!em_given(x)) return em_error("%s: input is empty", op);
  if (mode != EM_GELU_ERF && mode != EM_GELU_TANH)
    return em_error("%s: unknown approximation %d", op, (int)mode);
  return em_check_float(op, "input", x);
}

int em_gelu_forward(em_tensor *output, const em_tensor *input, em_gelu_mode mode) {
  const char *op = "gelu";
  int st = check_gelu(op, input, mode);
  if (st != EM_OK) return st;
  const struct em_attention_backend *be = attention_of(op, input);
  if (!be) return EM_ERR;
  em_stage f = {.n = 0};
  const em_tensor *xc;
  em_tensor *yc = NULL;
  st = in_contig(&f, input, input->dtype, &xc);
  if (st == EM_OK) st = out_open(&f, op, "output", output, input, input->ndim, input->size, 0, &yc);
  if (st == EM_OK) st = be->gelu_forward(yc, xc, mode);
  return em_stage_close(&f, st);
}

int em_gelu_backward(em_tensor *grad_input, const em_tensor *grad_output,
                     const em_tensor *input, em_gelu_mode mode) {
  const char *op = "gelu backward";
  int st = check_gelu(op, input, mode);
  if (st == EM_OK) st = check_like(op, "grad_output", grad_output, input);
  if (st == EM_OK)
    st = check_shape(op, "grad_output", grad_output, input->ndim, input->size, "(like input)");
  if (st != EM_OK) return st;
  const struct em_attention_backend *be = attention_of(op, input);
  if (!be) return EM_ERR;
  em_stage f = {.n = 0};
  const em_tensor *xc, *gyc;
  em_tensor *gxc = NULL;
  st = in_contig(&f, input, input->dtype, &xc);
  if (st == EM_OK) st = in_contig(&f, grad_output, input->dtype, &gyc);
  if (st == EM_OK)
    st = out_open(&f, op, "grad_input", grad_input, input, input->ndim, input->size, 0, &gxc);
  if (st == EM_OK) st = be->gelu_backward(gxc, gyc, xc, mode);
  return em_stage_close(&f, st);
}

/* --- dropout --- */

int em_dropout_forward(em_tensor *output, em_tensor *mask, const em_tensor *input, double p,
                       em_rng *r) {
  const char *op = "dropout";
  if (!(p >= 0 && p <= 1)) return em_error("%s: probability %g is not in [0, 1]", op, p);
  if (!mask) return em_error("%s: a mask tensor is required", op);
  const em_tensor *like = em_given(input) ? input : mask;
  if (!em_given(like)) return em_error("%s: input and mask are both empty", op);
  int st = em_check_float(op, em_given(input) ? "input" : "mask", like);
  if (st != EM_OK) return st;
  const struct em_attention_backend *be = attention_of(op, like);
  if (!be) return EM_ERR;
  em_stage f = {.n = 0};
  const em_tensor *xc = NULL;
  em_tensor *mc = NULL, *yc = NULL;
  int apply = em_given(input) && output;
  st = in_contig(&f, input, like->dtype, &xc);
  if (st == EM_OK) st = out_open(&f, op, "mask", mask, like, like->ndim, like->size, 0, &mc);
  if (st == EM_OK && apply)
    st = out_open(&f, op, "output", output, like, like->ndim, like->size, 0, &yc);
  if (st == EM_OK) st = be->dropout_forward(yc, mc, apply ? xc : NULL, p, r);
  return em_stage_close(&f, st);
}
