/* Public rnn ops: argument checks with messages naming the op and the shapes, output
 * sizing, contiguous staging of inputs and outputs, zero initial states, then one call
 * into the device's rnn backend (cpu_rnn.c). Layouts and equations: rnn.h. */
#include <string.h>

#include "rnn.h"
#include "stage.h"

#define SHAPE_BUF 96

int em_rnn_gates(em_rnn_mode mode) {
  static const int gates[EM_RNN_MODE_COUNT] = {1, 1, 4, 3};
  return mode >= 0 && mode < EM_RNN_MODE_COUNT ? gates[mode] : 0;
}

int64_t em_rnn_extra(em_rnn_mode mode, int64_t H) {
  return mode == EM_RNN_LSTM || mode == EM_RNN_GRU ? H : 0;
}


/* *dst := src, or a contiguous copy of it; NULL when src is not given. */
static int stage_in(em_stage *s, const em_tensor *src, const em_tensor **dst) {
  *dst = NULL;
  if (!em_given(src)) return EM_OK;
  if (em_tensor_is_contiguous(src)) {
    *dst = src;
    return EM_OK;
  }
  em_tensor *t = em_stage_tmp(s, src, src->dtype);
  *dst = t;
  return em_tensor_contiguous(t, src);
}

/* A zero tensor (n, h) like x: the missing initial state. */
static int stage_zeros(em_stage *s, const em_tensor *x, int64_t n, int64_t h, const em_tensor **dst) {
  em_tensor *t = em_stage_tmp(s, x, x->dtype);
  int64_t size[2] = {n, h};
  *dst = t;
  int st = em_tensor_resize(t, 2, size);
  return st == EM_OK ? em_tensor_fill(t, 0) : st;
}

/* Resizes out to (ndim, size) in like's dtype and sets *dst to a contiguous tensor the
 * kernel writes (a staged copy when out is a non-contiguous view). keep: the kernel
 * reads out's values (an accumulator), so they are staged too. */
static int stage_out(em_stage *s, const char *op, const char *name, em_tensor *out,
                     const em_tensor *like, int ndim, const int64_t *size, int keep,
                     em_tensor **dst) {
  *dst = NULL;
  if (!out) return EM_OK;
  if (!out->storage) {
    out->dtype = like->dtype;
    out->device = like->device;
    if (!out->ctx) out->ctx = like->ctx;
  } else if (out->dtype != like->dtype) {
    return em_error("%s: %s is %s, expected %s", op, name, em_dtype_info[out->dtype].name,
                    em_dtype_info[like->dtype].name);
  }
  int st = em_check_same_device(op, out, like);
  if (st == EM_OK) st = em_tensor_resize(out, ndim, size);
  if (st != EM_OK) return st;
  if (em_tensor_is_contiguous(out)) {
    *dst = out;
    return EM_OK;
  }
  em_tensor *t = em_stage_tmp(s, out, out->dtype);
  s->back[s->n - 1] = out;
  *dst = t;
  st = em_tensor_resize(t, ndim, size);
  return st == EM_OK && keep ? em_tensor_copy(t, out) : st;
}

/* A gradient to accumulate into (read and written), or NULL when not given. */
static int stage_acc(em_stage *s, const char *op, const char *name, em_tensor *g,
                     const em_tensor *like, int ndim, const int64_t *size, em_tensor **dst) {
  return stage_out(s, op, name, em_given(g) ? g : NULL, like, ndim, size, 1, dst);
}

/* A scratch output (work, grad_gates): retyped to like's dtype and device if needed. */
static int stage_work(em_stage *s, em_tensor *work, const em_tensor *like, int64_t n,
                      em_tensor **dst) {
  if (!work) work = em_stage_tmp(s, like, like->dtype);
  if (work->dtype != like->dtype || work->device.type != like->device.type ||
      work->device.index != like->device.index) {
    em_tensor_release(work);
    work->dtype = like->dtype;
    work->device = like->device;
  }
  if (!work->ctx) work->ctx = like->ctx;
  *dst = work;
  int st = em_tensor_resize(work, 1, &n);
  if (st == EM_OK && !em_tensor_is_contiguous(work)) {
    em_tensor_release(work);
    st = em_tensor_resize(work, 1, &n);
  }
  return st;
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

/* t (when given, or always when required) has exactly the sizes (ndim, size) */
static int check_shape(const char *op, const char *name, const em_tensor *t, int required,
                       int ndim, const int64_t *size) {
  if (!em_given(t) && !required) return EM_OK;
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

static const struct em_rnn_backend *rnn_of(const char *op, const em_tensor *x) {
  const em_backend *be = em_backend_of(x->device);
  if (be && !be->rnn)
    em_error("%s: not implemented for %s tensors on %s", op, em_dtype_info[x->dtype].name,
             em_device_name(x->device));
  return be ? be->rnn : NULL;
}

/* The geometry of one layer call, from the input and the weights. */
typedef struct geom {
  int64_t T, B, I, H, G;
  int64_t seq[3];         /* the input's layout with F = H: the output's sizes */
} geom;

/* Checks input (3-D, float), the weights against each other and against the input,
 * and the mode; fills g. */
static int check_layer(const char *op, const em_tensor *x, const em_rnn_weights *w,
                       const em_rnn_params *p, geom *g) {
  char s[SHAPE_BUF];
  g->G = em_rnn_gates(p->mode);
  if (!g->G) return em_error("%s: unknown mode %d", op, (int)p->mode);
  if (!em_given(x) || x->ndim != 3)
    return em_error("%s: input is %s; expected %s", op,
                    em_given(x) ? em_tensor_shape_str(x, s, sizeof s) : "empty",
                    p->batch_first ? "(B, T, I)" : "(T, B, I)");
  int st = em_check_float(op, "input", x);
  if (st != EM_OK) return st;
  if (!em_given(w->w_ih) || w->w_ih->ndim != 2 || !em_given(w->w_hh) || w->w_hh->ndim != 2)
    return em_error("%s: weights must be matrices w_ih (G*H, I) and w_hh (G*H, H)", op);
  g->H = w->w_hh->size[1];
  g->I = w->w_ih->size[1];
  int64_t gh = g->G * g->H;
  int64_t s_ih[2] = {gh, g->I}, s_hh[2] = {gh, g->H};
  st = check_like(op, "w_ih", w->w_ih, x);
  if (st == EM_OK) st = check_like(op, "w_hh", w->w_hh, x);
  if (st == EM_OK) st = check_like(op, "b_ih", w->b_ih, x);
  if (st == EM_OK) st = check_like(op, "b_hh", w->b_hh, x);
  if (st == EM_OK) st = check_shape(op, "w_hh", w->w_hh, 1, 2, s_hh);
  if (st == EM_OK) st = check_shape(op, "w_ih", w->w_ih, 1, 2, s_ih);
  if (st == EM_OK) st = check_shape(op, "b_ih", w->b_ih, 0, 1, &gh);
  if (st == EM_OK) st = check_shape(op, "b_hh", w->b_hh, 0, 1, &gh);
  if (st != EM_OK) return st;
  g->T = x->size[p->batch_first ? 1 : 0];
  g->B = x->size[p->batch_first ? 0 : 1];
  if (x->size[2] != g->I)
    return em_error("%s: input is %s, expected %d features (the size of w_ih's dim 2)", op,
                    em_tensor_shape_str(x, s, sizeof s), (int)g->I);
  g->seq[0] = x->size[0];
  g->seq[1] = x->size[1];
  g->seq[2] = g->H;
  return EM_OK;
}

/* Checks the initial states against the geometry: h_0 (B, H), c_0 only for LSTM. */
static int check_states(const char *op, const char *h, const em_tensor *h_0, const char *c,
                        const em_tensor *c_0, const em_tensor *x, const em_rnn_params *p,
                        const geom *g) {
  int64_t bh[2] = {g->B, g->H};
  if (em_given(c_0) && p->mode != EM_RNN_LSTM)
    return em_error("%s: %s is only for LSTM", op, c);
  int st = check_like(op, h, h_0, x);
  if (st == EM_OK) st = check_like(op, c, c_0, x);
  if (st == EM_OK) st = check_shape(op, h, h_0, 0, 2, bh);
  if (st == EM_OK) st = check_shape(op, c, c_0, 0, 2, bh);
  return st;
}

static int64_t work_cols(const em_rnn_params *p, const geom *g) {
  return g->G * g->H + em_rnn_extra(p->mode, g->H);
}

static int64_t grad_gates_cols(const em_rnn_params *p, const geom *g) {
  return g->G * g->H * (p->mode == EM_RNN_GRU ? 2 : 1);
}

/* --- recurrent layers --- */

/* Stages the weights (contiguous) into sw. */
static int stage_weights(em_stage *s, const em_rnn_weights *w, em_rnn_weights *sw) {
  int st = stage_in(s, w->w_ih, &sw->w_ih);
  if (st == EM_OK) st = stage_in(s, w->w_hh, &sw->w_hh);
  if (st == EM_OK) st = stage_in(s, w->b_ih, &sw->b_ih);
  if (st == EM_OK) st = stage_in(s, w->b_hh, &sw->b_hh);
  return st;
}

/* Stages the initial states, zeros for missing ones (c_0 only for LSTM). */
static int stage_states(em_stage *s, const em_tensor *h_0, const em_tensor *c_0,
                        const em_tensor *x, const em_rnn_params *p, const geom *g,
                        const em_tensor **h, const em_tensor **c) {
  int st = stage_in(s, h_0, h);
  if (st == EM_OK && !*h) st = stage_zeros(s, x, g->B, g->H, h);
  *c = NULL;
  if (st == EM_OK && p->mode == EM_RNN_LSTM) {
    st = stage_in(s, c_0, c);
    if (st == EM_OK && !*c) st = stage_zeros(s, x, g->B, g->H, c);
  }
  return st;
}

int em_rnn_forward(em_tensor *output, em_tensor *h_n, em_tensor *c_n, em_tensor *work,
                   const em_tensor *input, const em_tensor *h_0, const em_tensor *c_0,
                   const em_rnn_weights *w, const em_rnn_params *p) {
  const char *op = "rnn_forward";
  geom g;
  int st = check_layer(op, input, w, p, &g);
  if (st == EM_OK) st = check_states(op, "h_0", h_0, "c_0", c_0, input, p, &g);
  if (st == EM_OK && !output) st = em_error("%s: output is required", op);
  if (st == EM_OK && c_n && p->mode != EM_RNN_LSTM) st = em_error("%s: c_n is only for LSTM", op);
  const struct em_rnn_backend *be = st == EM_OK ? rnn_of(op, input) : NULL;
  if (!be) return EM_ERR;
  em_stage s = {.n = 0};
  const em_tensor *x, *h, *c;
  em_rnn_weights sw;
  em_tensor *y, *hn, *cn, *wk;
  int64_t bh[2] = {g.B, g.H};
  st = stage_in(&s, input, &x);
  if (st == EM_OK) st = stage_weights(&s, w, &sw);
  if (st == EM_OK) st = stage_states(&s, h_0, c_0, input, p, &g, &h, &c);
  if (st == EM_OK) st = stage_out(&s, op, "output", output, input, 3, g.seq, 0, &y);
  if (st == EM_OK) st = stage_out(&s, op, "h_n", h_n, input, 2, bh, 0, &hn);
  if (st == EM_OK) st = stage_out(&s, op, "c_n", c_n, input, 2, bh, 0, &cn);
  if (st == EM_OK) st = stage_work(&s, work, input, g.T * g.B * work_cols(p, &g), &wk);
  if (st == EM_OK && g.T * g.B > 0) st = be->forward(y, hn, cn, wk, x, h, c, &sw, p);
  return em_stage_close(&s, st);
}

int em_rnn_backward_input(em_tensor *grad_input, em_tensor *grad_h0, em_tensor *grad_c0,
                          em_tensor *grad_gates, const em_tensor *input,
                          const em_tensor *output, const em_tensor *work, const em_tensor *h_0,
                          const em_tensor *c_0, const em_rnn_weights *w,
                          const em_tensor *grad_output, const em_tensor *grad_hn,
                          const em_tensor *grad_cn, const em_rnn_params *p) {
  const char *op = "rnn_backward_input";
  geom g;
  int st = check_layer(op, input, w, p, &g);
  if (st == EM_OK) st = check_states(op, "h_0", h_0, "c_0", c_0, input, p, &g);
  if (st == EM_OK) st = check_states(op, "grad_hn", grad_hn, "grad_cn", grad_cn, input, p, &g);
  if (st == EM_OK) st = check_like(op, "output", output, input);
  if (st == EM_OK) st = check_shape(op, "output", output, 1, 3, g.seq);
  if (st == EM_OK) st = check_like(op, "grad_output", grad_output, input);
  if (st == EM_OK) st = check_shape(op, "grad_output", grad_output, 0, 3, g.seq);
  if (st == EM_OK && (!em_given(work) || work->dtype != input->dtype ||
                      em_tensor_numel(work) != g.T * g.B * work_cols(p, &g)))
    st = em_error("%s: work does not match this input (run rnn_forward on it first)", op);
  if (st == EM_OK && !grad_gates) st = em_error("%s: grad_gates is required", op);
  if (st == EM_OK && grad_c0 && p->mode != EM_RNN_LSTM)
    st = em_error("%s: grad_c0 is only for LSTM", op);
  const struct em_rnn_backend *be = st == EM_OK ? rnn_of(op, input) : NULL;
  if (!be) return EM_ERR;
  int64_t bh[2] = {g.B, g.H};
  em_stage s = {.n = 0};
  const em_tensor *y, *wk, *h, *c, *gy, *ghn, *gcn;
  em_rnn_weights sw;
  em_tensor *gx, *gh, *gc, *gg;
  st = stage_in(&s, output, &y);
  if (st == EM_OK) st = stage_in(&s, work, &wk);
  if (st == EM_OK) st = stage_weights(&s, w, &sw);
  if (st == EM_OK) st = stage_states(&s, h_0, c_0, input, p, &g, &h, &c);
  if (st == EM_OK) st = stage_in(&s, grad_output, &gy);
  if (st == EM_OK) st = stage_in(&s, grad_hn, &ghn);
  if (st == EM_OK) st = stage_in(&s, grad_cn, &gcn);
  if (st == EM_OK) st = stage_out(&s, op, "grad_input", grad_input, input, 3, input->size, 0, &gx);
  if (st == EM_OK) st = stage_out(&s, op, "grad_h0", grad_h0, input, 2, bh, 0, &gh);
  if (st == EM_OK) st = stage_out(&s, op, "grad_c0", grad_c0, input, 2, bh, 0, &gc);
  if (st == EM_OK)
    st = stage_work(&s, grad_gates, input, g.T * g.B * grad_gates_cols(p, &g), &gg);
  if (st == EM_OK && g.T * g.B == 0) {   /* an empty sequence passes the state through */
    if (gh) st = ghn ? em_tensor_copy(gh, ghn) : em_tensor_fill(gh, 0);
    if (st == EM_OK && gc) st = gcn ? em_tensor_copy(gc, gcn) : em_tensor_fill(gc, 0);
  } else if (st == EM_OK) {
    st = be->backward_input(gx, gh, gc, gg, y, wk, h, c, &sw, gy, ghn, gcn, p);
  }
  return em_stage_close(&s, st);
}

int em_rnn_backward_params(const em_rnn_grads *g, const em_tensor *input,
                           const em_tensor *output, const em_tensor *h_0,
                           const em_tensor *grad_gates, const em_rnn_params *p, double scale) {
  const char *op = "rnn_backward_params";
  geom ge;
  em_rnn_weights w = {g->w_ih, g->w_hh, NULL, NULL};
  int st = em_given(g->w_ih) && em_given(g->w_hh)
               ? check_layer(op, input, &w, p, &ge)
               : em_error("%s: grad_w_ih and grad_w_hh must be sized like the weights", op);
  if (st == EM_OK) st = check_states(op, "h_0", h_0, "c_0", NULL, input, p, &ge);
  if (st == EM_OK) st = check_like(op, "output", output, input);
  if (st == EM_OK) st = check_shape(op, "output", output, 1, 3, ge.seq);
  if (st == EM_OK) st = check_like(op, "grad_b_ih", g->b_ih, input);
  if (st == EM_OK) st = check_like(op, "grad_b_hh", g->b_hh, input);
  if (st == EM_OK && (!em_given(grad_gates) || grad_gates->dtype != input->dtype ||
                      em_tensor_numel(grad_gates) != ge.T * ge.B * grad_gates_cols(p, &ge)))
    st = em_error("%s: grad_gates does not match this input (run rnn_backward_input first)", op);
  const struct em_rnn_backend *be = st == EM_OK ? rnn_of(op, input) : NULL;
  if (!be) return EM_ERR;
  int64_t gh = ge.G * ge.H;
  em_stage s = {.n = 0};
  const em_tensor *x, *y, *h, *c, *gg;
  em_rnn_grads sg;
  st = stage_in(&s, input, &x);
  if (st == EM_OK) st = stage_in(&s, output, &y);
  if (st == EM_OK) st = stage_states(&s, h_0, NULL, input, p, &ge, &h, &c);
  if (st == EM_OK) st = stage_in(&s, grad_gates, &gg);
  if (st == EM_OK) st = stage_acc(&s, op, "grad_w_ih", g->w_ih, input, 2, g->w_ih->size, &sg.w_ih);
  if (st == EM_OK) st = stage_acc(&s, op, "grad_w_hh", g->w_hh, input, 2, g->w_hh->size, &sg.w_hh);
  if (st == EM_OK) st = stage_acc(&s, op, "grad_b_ih", g->b_ih, input, 1, &gh, &sg.b_ih);
  if (st == EM_OK) st = stage_acc(&s, op, "grad_b_hh", g->b_hh, input, 1, &gh, &sg.b_hh);
  if (st == EM_OK && ge.T * ge.B > 0) st = be->backward_params(&sg, x, y, h, gg, p, scale);
  return em_stage_close(&s, st);
}

/* --- embedding --- */

static int check_embedding(const char *op, const em_tensor *idx, const em_tensor *w,
                           const char *wname, int64_t out[3], int *ndim) {
  char s[SHAPE_BUF];
  if (!em_given(w) || w->ndim != 2)
    return em_error("%s: %s is %s; expected (V, E)", op, wname,
                    em_given(w) ? em_tensor_shape_str(w, s, sizeof s) : "empty");
  int st = em_check_float(op, wname, w);
  if (st != EM_OK) return st;
  if (!em_given(idx) || idx->ndim > 2)
    return em_error("%s: indices are %s; expected (N) or (B, T)", op,
                    em_given(idx) ? em_tensor_shape_str(idx, s, sizeof s) : "empty");
  if (idx->dtype != EM_INT64)
    return em_error("%s: indices are %s, expected int64", op, em_dtype_info[idx->dtype].name);
  st = em_check_same_device(op, idx, w);
  if (st != EM_OK) return st;
  *ndim = idx->ndim + 1;
  for (int i = 0; i < idx->ndim; i++) out[i] = idx->size[i];
  out[idx->ndim] = w->size[1];
  return EM_OK;
}

int em_embedding_forward(em_tensor *output, const em_tensor *indices, const em_tensor *weight,
                         int64_t base) {
  const char *op = "embedding_forward";
  int64_t size[3];
  int ndim;
  int st = check_embedding(op, indices, weight, "weight", size, &ndim);
  if (st == EM_OK && !output) st = em_error("%s: output is required", op);
  const struct em_rnn_backend *be = st == EM_OK ? rnn_of(op, weight) : NULL;
  if (!be) return EM_ERR;
  em_stage s = {.n = 0};
  const em_tensor *idx, *w;
  em_tensor *y;
  st = stage_in(&s, indices, &idx);
  if (st == EM_OK) st = stage_in(&s, weight, &w);
  if (st == EM_OK) st = stage_out(&s, op, "output", output, weight, ndim, size, 0, &y);
  if (st == EM_OK) {
    int64_t ne[2] = {em_tensor_numel(idx), weight->size[1]};
    em_tensor flat_i, flat_y;
    em_tensor_init(&flat_i, idx->ctx, idx->dtype, idx->device);
    em_tensor_init(&flat_y, y->ctx, y->dtype, y->device);
    st = em_tensor_view(&flat_i, idx, 1, ne);
    if (st == EM_OK) st = em_tensor_view(&flat_y, y, 2, ne);
    if (st == EM_OK) st = be->embedding_forward(&flat_y, &flat_i, w, base);
    em_tensor_release(&flat_i);
    em_tensor_release(&flat_y);
  }
  return em_stage_close(&s, st);
}

int em_embedding_backward(em_tensor *grad_weight, const em_tensor *indices,
                          const em_tensor *grad_output, int64_t padding, int64_t base,
                          double scale) {
  const char *op = "embedding_backward";
  int64_t size[3];
  int ndim;
  int st = check_embedding(op, indices, grad_weight, "grad_weight", size, &ndim);
  if (st == EM_OK) st = check_like(op, "grad_output", grad_output, grad_weight);
  if (st == EM_OK) st = check_shape(op, "grad_output", grad_output, 1, ndim, size);
  const struct em_rnn_backend *be = st == EM_OK ? rnn_of(op, grad_weight) : NULL;
  if (!be) return EM_ERR;
  em_stage s = {.n = 0};
  const em_tensor *idx, *gy;
  em_tensor *gw;
  st = stage_in(&s, indices, &idx);
  if (st == EM_OK) st = stage_in(&s, grad_output, &gy);
  if (st == EM_OK)
    st = stage_out(&s, op, "grad_weight", grad_weight, grad_weight, 2, grad_weight->size, 1, &gw);
  if (st == EM_OK) {
    int64_t ne[2] = {em_tensor_numel(idx), grad_weight->size[1]};
    em_tensor flat_i, flat_g;
    em_tensor_init(&flat_i, idx->ctx, idx->dtype, idx->device);
    em_tensor_init(&flat_g, gy->ctx, gy->dtype, gy->device);
    st = em_tensor_view(&flat_i, idx, 1, ne);
    if (st == EM_OK) st = em_tensor_view(&flat_g, gy, 2, ne);
    if (st == EM_OK) st = be->embedding_backward(gw, &flat_i, &flat_g, padding, base, scale);
    em_tensor_release(&flat_i);
    em_tensor_release(&flat_g);
  }
  return em_stage_close(&s, st);
}
