/* Public linear algebra ops: each checks shapes, dtypes and devices once, shapes its
 * operands as 3-D views (B, n, k) @ (B, k, p), and hands them to the backend's one
 * batched gemm (dot has its own entry). Nothing here touches element data except
 * through em_tensor_copy and the backend. */
#include <math.h>
#include <string.h>

#include "blas.h"

typedef char shape_buf[96];

/* One product to run: r := beta * m + alpha * a @ b. */
typedef struct product {
  const char *op;
  const em_tensor *m;            /* the added term, or NULL */
  double beta, alpha;
  em_tensor a, b;                /* (B, n, k) and (B, k, p) views, owned */
  int ndim;                      /* the result's shape */
  int64_t size[EM_MAX_DIMS];
  int sum;                       /* addbmm: the B products summed into one (n, p) */
  em_precision prec;
  int borrowed;                  /* a and b are borrowed views (no storage reference) */
} product;

static void product_init(product *p, const char *op, const em_tensor *m, double beta,
                         double alpha, const em_tensor *like, em_precision prec) {
  p->op = op;
  p->prec = prec;
  p->m = m;
  p->beta = beta;
  p->alpha = alpha;
  em_tensor_init(&p->a, like->ctx, like->dtype, like->device);
  em_tensor_init(&p->b, like->ctx, like->dtype, like->device);
  p->ndim = 0;
  p->sum = 0;
  p->borrowed = 0;
}

static void product_release(product *p) {
  if (p->borrowed) return;
  em_tensor_release(&p->a);
  em_tensor_release(&p->b);
}

/* dst := t as a (1, rows, cols) view with strides (0, rs, cs), without taking a
 * reference to t's storage: valid while t is, and never released. The view the
 * unsqueezes below would build, made without their bookkeeping (the common 2-D and 1-D
 * products are mostly this overhead when they are small). */
static void borrow3(em_tensor *dst, const em_tensor *t, int64_t rows, int64_t cols, int64_t rs,
                    int64_t cs) {
  dst->storage = t->storage;
  dst->ctx = t->ctx;
  dst->offset = t->offset;
  dst->dtype = t->dtype;
  dst->device = t->device;
  dst->ndim = 3;
  dst->size[0] = 1, dst->size[1] = rows, dst->size[2] = cols;
  dst->stride[0] = 0, dst->stride[1] = rs, dst->stride[2] = cs;
}

static void set_shape(product *p, int ndim, const int64_t *size) {
  p->ndim = ndim;
  for (int i = 0; i < ndim; i++) p->size[i] = size[i];
}

static const char *dname(const em_tensor *t) { return em_dtype_info[t->dtype].name; }

static const char *shape_of(const em_tensor *t, shape_buf buf) {
  return em_tensor_shape_str(t, buf, sizeof(shape_buf));
}

static const char *shape_str(int ndim, const int64_t *size, shape_buf buf) {
  long long s[EM_MAX_DIMS];
  for (int i = 0; i < ndim; i++) s[i] = size[i];
  return em_format_sizes(buf, sizeof(shape_buf), ndim, s);
}

/* Do x and y share memory? (any views of one storage count) */
static int shares(const em_tensor *x, const em_tensor *y) {
  return x->storage && x->storage == y->storage;
}

static int same_view(const em_tensor *x, const em_tensor *y) {
  if (x == y) return 1;
  if (!shares(x, y) || x->offset != y->offset || !em_tensor_same_shape(x, y)) return 0;
  for (int i = 0; i < x->ndim; i++)
    if (x->size[i] > 1 && x->stride[i] != y->stride[i]) return 0;
  return 1;
}

/* The two multiplied operands: one dtype, one device, a dtype BLAS-like code handles,
 * and a precision that dtype takes. */
static int check_pair(const char *op, const em_tensor *a, const em_tensor *b, em_precision prec) {
  if (a->dtype != b->dtype) return em_error("%s: dtypes %s and %s differ", op, dname(a), dname(b));
  int st = em_check_same_device(op, a, b);
  if (st != EM_OK) return st;
  if (a->dtype == EM_BOOL) return em_error("%s: bool tensors cannot be multiplied", op);
  if (prec == EM_PRECISION_BF16 && a->dtype != EM_FLOAT32)
    return em_error("%s: bfloat16 products take float32 tensors, got %s", op, dname(a));
  if (prec != EM_PRECISION_FULL && prec != EM_PRECISION_BF16)
    return em_error("%s: unknown precision %d", op, (int)prec);
  return EM_OK;
}

/* The result r and the added term m against the operands (a) and the result shape:
 * dtypes, devices, integer scalars for integer dtypes, m broadcasting to the result,
 * and an in-place update (r is m) only when m already has the result's shape. */
static int check_output(const product *p, const em_tensor *r, const em_tensor *a) {
  shape_buf x, y;
  if (r->dtype != a->dtype)
    return em_error("%s: the result is %s but the inputs are %s", p->op, dname(r), dname(a));
  int st = em_check_same_device(p->op, r, a);
  if (st != EM_OK) return st;
  if (!em_dtype_info[a->dtype].is_float && (p->alpha != trunc(p->alpha) || p->beta != trunc(p->beta)))
    return em_error("%s: alpha and beta must be integers for %s tensors", p->op, dname(a));
  const em_tensor *m = p->m;
  if (!m) return EM_OK;
  if (m->dtype != a->dtype)
    return em_error("%s: the added tensor is %s but the inputs are %s", p->op, dname(m), dname(a));
  st = em_check_same_device(p->op, m, a);
  if (st != EM_OK) return st;
  int ok = m->ndim >= 1 && m->ndim <= p->ndim;
  for (int i = 0; ok && i < m->ndim; i++) {
    int64_t ms = m->size[m->ndim - 1 - i], want = p->size[p->ndim - 1 - i];
    ok = ms == want || ms == 1;
  }
  if (!ok)
    return em_error("%s: the added tensor of size %s does not broadcast to the result's size %s",
                    p->op, shape_of(m, x), shape_str(p->ndim, p->size, y));
  if (same_view(r, m) && !(m->ndim == p->ndim && !memcmp(m->size, p->size, sizeof(int64_t) * (size_t)p->ndim)))
    return em_error("%s: cannot update the added tensor of size %s in place with a result of size %s",
                    p->op, shape_of(m, x), shape_str(p->ndim, p->size, y));
  return EM_OK;
}

/* dst := t viewed as (B, n, p), or (1, n, p) expanded to B when summing. */
static int view3(em_tensor *dst, const em_tensor *t, const product *p) {
  int64_t B = p->a.size[0], n = p->a.size[1], cols = p->b.size[2];
  int64_t s[3] = {p->sum ? 1 : B, n, cols};
  int st = em_tensor_view(dst, t, 3, s);
  if (st == EM_OK && p->sum) {
    s[0] = B;
    st = em_tensor_expand(dst, dst, 3, s);
  }
  return st;
}

/* Runs a checked product into r. When r shares memory with an operand, or cannot be
 * viewed as (B, n, p), the product goes to a fresh tensor that is then copied into r. */
static int run(product *p, em_tensor *r) {
  const em_backend *be = em_backend_of(p->a.device);
  if (!be) return EM_ERR;
  if (!be->blas || !be->blas->gemm)
    return em_error("%s: not implemented for %s tensors on %s", p->op, dname(&p->a), em_device_name(p->a.device));
  em_tensor tmp, r3;
  em_tensor_init(&tmp, r->ctx ? r->ctx : p->a.ctx, r->dtype, r->device);
  em_tensor_init(&r3, r->ctx, r->dtype, r->device);
  em_tensor *target = r;
  int in_place = p->m && same_view(r, p->m);
  int alias = shares(r, &p->a) || shares(r, &p->b) || (p->m && !in_place && shares(r, p->m));
  int st = EM_OK;
  int64_t count = 1;
  for (int i = 0; i < p->ndim; i++) count *= p->size[i];
  if (count == 0) return em_tensor_resize(r, p->ndim, p->size);   /* nothing to compute */
  em_tensor r3b;                         /* r as a borrowed (1, n, p) view: one product */
  int borrow_r = 0;
  if (!alias) {
    st = em_tensor_resize(r, p->ndim, p->size);
    if (st != EM_OK) goto done;
    int64_t n = p->a.size[1], cols = p->b.size[2];
    int plain = p->ndim == 2 ? p->size[0] == n && p->size[1] == cols
              : p->ndim == 1 && ((cols == 1 && p->size[0] == n) || (n == 1 && p->size[0] == cols));
    if (p->a.size[0] == 1 && !p->sum && plain) {
      int64_t rs = p->ndim == 2 ? r->stride[0] : cols == 1 ? r->stride[0] : 0;
      int64_t cs = p->ndim == 2 ? r->stride[1] : cols == 1 ? 0 : r->stride[0];
      borrow3(&r3b, r, n, cols, rs, cs);
      borrow_r = 1;
    } else {
      alias = view3(&r3, r, p) != EM_OK;   /* r's kept strides do not allow the view */
    }
  }
  if (alias) {
    target = &tmp;
    st = em_tensor_resize(&tmp, p->ndim, p->size);
    if (st == EM_OK) st = view3(&r3, &tmp, p);
    if (st != EM_OK) goto done;
  }
  double beta = p->m ? p->beta : 0;
  if (beta != 0 && !(in_place && target == r)) {
    em_tensor mx;
    em_tensor_init(&mx, p->m->ctx, p->m->dtype, p->m->device);
    st = em_tensor_expand(&mx, p->m, p->ndim, p->size);
    if (st == EM_OK) st = em_tensor_copy(target, &mx);
    em_tensor_release(&mx);
    if (st != EM_OK) goto done;
  }
  st = be->blas->gemm(borrow_r ? &r3b : &r3, &p->a, &p->b, p->alpha, beta, p->prec);
  if (st == EM_OK && target == &tmp) {
    st = em_tensor_resize(r, p->ndim, p->size);
    if (st == EM_OK) st = em_tensor_copy(r, &tmp);
  }
done:
  em_tensor_release(&r3);
  em_tensor_release(&tmp);
  return st;
}

/* Checks the output, then runs: the common tail of every op below. */
static int finish(product *p, em_tensor *r, const em_tensor *a, int st) {
  if (st == EM_OK) st = check_output(p, r, a);
  if (st == EM_OK) st = run(p, r);
  product_release(p);
  return st;
}

static int addmm_op(em_precision prec, const char *op, em_tensor *r, double beta,
                    const em_tensor *m, double alpha, const em_tensor *a, const em_tensor *b) {
  shape_buf x, y;
  int st = check_pair(op, a, b, prec);
  if (st != EM_OK) return st;
  if (a->ndim != 2 || b->ndim != 2)
    return em_error("%s: expected 2-D matrices, got sizes %s and %s", op, shape_of(a, x), shape_of(b, y));
  if (a->size[1] != b->size[0])
    return em_error("%s: sizes %s and %s cannot be multiplied", op, shape_of(a, x), shape_of(b, y));
  product p;
  product_init(&p, op, m, beta, alpha, a, prec);
  set_shape(&p, 2, (int64_t[]){a->size[0], b->size[1]});
  p.borrowed = 1;
  borrow3(&p.a, a, a->size[0], a->size[1], a->stride[0], a->stride[1]);   /* (1, n, k) */
  borrow3(&p.b, b, b->size[0], b->size[1], b->stride[0], b->stride[1]);   /* (1, k, p) */
  return finish(&p, r, a, st);
}

int em_addmm(em_tensor *r, double beta, const em_tensor *m, double alpha, const em_tensor *a,
             const em_tensor *b, em_precision prec) {
  return addmm_op(prec, "addmm", r, beta, m, alpha, a, b);
}

int em_mm(em_tensor *r, const em_tensor *a, const em_tensor *b, em_precision prec) {
  return addmm_op(prec, "mm", r, 0, NULL, 1, a, b);
}

static int addmv_op(em_precision prec, const char *op, em_tensor *r, double beta,
                    const em_tensor *v, double alpha, const em_tensor *a, const em_tensor *x) {
  shape_buf s1, s2;
  int st = check_pair(op, a, x, prec);
  if (st != EM_OK) return st;
  if (a->ndim != 2 || x->ndim != 1)
    return em_error("%s: expected a matrix and a vector, got sizes %s and %s", op, shape_of(a, s1), shape_of(x, s2));
  if (a->size[1] != x->size[0])
    return em_error("%s: sizes %s and %s cannot be multiplied", op, shape_of(a, s1), shape_of(x, s2));
  product p;
  product_init(&p, op, v, beta, alpha, a, prec);
  set_shape(&p, 1, &a->size[0]);
  p.borrowed = 1;
  borrow3(&p.a, a, a->size[0], a->size[1], a->stride[0], a->stride[1]);   /* (1, n, k) */
  borrow3(&p.b, x, x->size[0], 1, x->stride[0], 0);                       /* (1, k, 1) */
  return finish(&p, r, a, st);
}

int em_addmv(em_tensor *r, double beta, const em_tensor *v, double alpha, const em_tensor *a,
             const em_tensor *x, em_precision prec) {
  return addmv_op(prec, "addmv", r, beta, v, alpha, a, x);
}

int em_mv(em_tensor *r, const em_tensor *a, const em_tensor *x, em_precision prec) {
  return addmv_op(prec, "mv", r, 0, NULL, 1, a, x);
}

static int addr_op(em_precision prec, const char *op, em_tensor *r, double beta,
                   const em_tensor *m, double alpha, const em_tensor *x, const em_tensor *y) {
  shape_buf s1, s2;
  int st = check_pair(op, x, y, prec);
  if (st != EM_OK) return st;
  if (x->ndim != 1 || y->ndim != 1)
    return em_error("%s: expected two vectors, got sizes %s and %s", op, shape_of(x, s1), shape_of(y, s2));
  product p;
  product_init(&p, op, m, beta, alpha, x, prec);
  set_shape(&p, 2, (int64_t[]){x->size[0], y->size[0]});
  p.borrowed = 1;
  borrow3(&p.a, x, x->size[0], 1, x->stride[0], 0);       /* (1, n, 1) */
  borrow3(&p.b, y, 1, y->size[0], 0, y->stride[0]);       /* (1, 1, p) */
  return finish(&p, r, x, st);
}

int em_addr(em_tensor *r, double beta, const em_tensor *m, double alpha, const em_tensor *x,
            const em_tensor *y, em_precision prec) {
  return addr_op(prec, "addr", r, beta, m, alpha, x, y);
}

int em_ger(em_tensor *r, const em_tensor *x, const em_tensor *y, em_precision prec) {
  return addr_op(prec, "ger", r, 0, NULL, 1, x, y);
}

/* baddbmm (sum 0) and addbmm (sum 1). */
static int batch_op(em_precision prec, const char *op, int sum, em_tensor *r, double beta,
                    const em_tensor *m, double alpha, const em_tensor *a, const em_tensor *b) {
  shape_buf x, y;
  int st = check_pair(op, a, b, prec);
  if (st != EM_OK) return st;
  if (a->ndim != 3 || b->ndim != 3)
    return em_error("%s: expected 3-D batches of matrices, got sizes %s and %s", op, shape_of(a, x), shape_of(b, y));
  if (a->size[0] != b->size[0])
    return em_error("%s: batches of sizes %s and %s hold different numbers of matrices", op, shape_of(a, x), shape_of(b, y));
  if (a->size[2] != b->size[1])
    return em_error("%s: sizes %s and %s cannot be multiplied", op, shape_of(a, x), shape_of(b, y));
  product p;
  product_init(&p, op, m, beta, alpha, a, prec);
  p.sum = sum;
  if (sum) set_shape(&p, 2, (int64_t[]){a->size[1], b->size[2]});
  else set_shape(&p, 3, (int64_t[]){a->size[0], a->size[1], b->size[2]});
  em_tensor_set(&p.a, a);
  em_tensor_set(&p.b, b);
  return finish(&p, r, a, EM_OK);
}

int em_baddbmm(em_tensor *r, double beta, const em_tensor *m, double alpha, const em_tensor *a,
               const em_tensor *b, em_precision prec) {
  return batch_op(prec, "baddbmm", 0, r, beta, m, alpha, a, b);
}

int em_bmm(em_tensor *r, const em_tensor *a, const em_tensor *b, em_precision prec) {
  return batch_op(prec, "bmm", 0, r, 0, NULL, 1, a, b);
}

int em_addbmm(em_tensor *r, double beta, const em_tensor *m, double alpha, const em_tensor *a,
              const em_tensor *b, em_precision prec) {
  return batch_op(prec, "addbmm", 1, r, beta, m, alpha, a, b);
}

/* dst := t as a 1-D view, or a contiguous 1-D copy when its strides do not allow one. */
static int flatten(em_tensor *dst, const em_tensor *t) {
  int64_t n = em_tensor_numel(t);
  if (t->ndim == 1) { em_tensor_set(dst, t); return EM_OK; }
  if (em_tensor_view(dst, t, 1, &n) == EM_OK) return EM_OK;
  int st = em_tensor_clone_as(dst, t, t->dtype);
  return st == EM_OK ? em_tensor_view(dst, dst, 1, &n) : st;
}

static int dot_op(const char *op, em_tensor *out, const em_tensor *a, const em_tensor *b) {
  shape_buf x, y;
  int st = check_pair(op, a, b, EM_PRECISION_FULL);
  if (st != EM_OK) return st;
  int64_t n = em_tensor_numel(a);
  if (n != em_tensor_numel(b))
    return em_error("%s: sizes %s and %s have different numbers of elements", op, shape_of(a, x), shape_of(b, y));
  if (out->dtype != a->dtype)
    return em_error("%s: the result is %s but the inputs are %s", op, dname(out), dname(a));
  st = em_check_same_device(op, out, a);
  if (st != EM_OK) return st;
  const em_backend *be = em_backend_of(a->device);
  if (!be) return EM_ERR;
  if (!be->blas || !be->blas->dot)
    return em_error("%s: not implemented for %s tensors on %s", op, dname(a), em_device_name(a->device));
  int64_t one = 1;
  st = em_tensor_resize(out, 1, &one);
  if (st != EM_OK || n == 0) return st != EM_OK ? st : em_tensor_fill(out, 0);
  em_tensor av, bv;
  em_tensor_init(&av, a->ctx, a->dtype, a->device);
  em_tensor_init(&bv, b->ctx, b->dtype, b->device);
  st = flatten(&av, a);
  if (st == EM_OK) st = flatten(&bv, b);
  if (st == EM_OK) st = be->blas->dot(out, &av, &bv);
  em_tensor_release(&av);
  em_tensor_release(&bv);
  return st;
}

int em_dot(em_tensor *out, const em_tensor *a, const em_tensor *b) {
  return dot_op("dot", out, a, b);
}

/* matmul's row vector times a matrix: r (p) := x (k) @ b (k, p). */
static int vecmat_op(em_precision prec, const char *op, em_tensor *r, const em_tensor *x,
                     const em_tensor *b) {
  shape_buf s1, s2;
  if (x->size[0] != b->size[0])
    return em_error("%s: sizes %s and %s cannot be multiplied", op, shape_of(x, s1), shape_of(b, s2));
  product p;
  product_init(&p, op, NULL, 0, 1, x, prec);
  set_shape(&p, 1, &b->size[1]);
  p.borrowed = 1;
  borrow3(&p.a, x, 1, x->size[0], 0, x->stride[0]);                       /* (1, 1, k) */
  borrow3(&p.b, b, b->size[0], b->size[1], b->stride[0], b->stride[1]);   /* (1, k, p) */
  return finish(&p, r, x, EM_OK);
}

/* r := x @ w^T + bias (nn.Linear): x (N, in) -> r (N, out), or x (in) -> r (out);
 * w (out, in); bias (out) or NULL. */
int em_linear(em_tensor *r, const em_tensor *x, const em_tensor *w, const em_tensor *bias,
              em_precision prec) {
  shape_buf s1, s2;
  const char *op = "linear";
  int st = check_pair(op, x, w, prec);
  if (st != EM_OK) return st;
  if (w->ndim != 2 || (x->ndim != 1 && x->ndim != 2) || x->size[x->ndim - 1] != w->size[1])
    return em_error("%s: input of size %s does not fit a weight of size %s", op, shape_of(x, s1), shape_of(w, s2));
  if (bias && (bias->ndim != 1 || bias->size[0] != w->size[0]))
    return em_error("%s: bias of size %s does not fit a weight of size %s", op, shape_of(bias, s1), shape_of(w, s2));
  if (x->ndim == 1) return addmv_op(prec, op, r, 1, bias, 1, w, x);
  em_tensor wt = *w;                     /* w^T (in, out), borrowed */
  wt.size[0] = w->size[1], wt.size[1] = w->size[0];
  wt.stride[0] = w->stride[1], wt.stride[1] = w->stride[0];
  return addmm_op(prec, op, r, 1, bias, 1, x, &wt);
}

/* nn.Linear's parameter gradients: gw (out, in) += scale * g^T x, and gb (out) += scale *
 * g^T ones (the sum over the batch as one gemv); x (N, in), g (N, out), ones (N). Every
 * size is checked before gw or gb is written. */
int em_linear_acc_grad(em_tensor *gw, em_tensor *gb, const em_tensor *x, const em_tensor *g,
                       const em_tensor *ones, double scale, em_precision prec) {
  shape_buf s1, s2, s3;
  const char *op = "linear backward";
  int st = check_pair(op, g, x, prec);
  if (st != EM_OK) return st;
  if (x->ndim != 2 || g->ndim != 2 || x->size[0] != g->size[0] || gw->ndim != 2 ||
      gw->size[0] != g->size[1] || gw->size[1] != x->size[1])
    return em_error("%s: gradOutput of size %s and input of size %s do not fit a weight gradient of size %s",
                    op, shape_of(g, s1), shape_of(x, s2), shape_of(gw, s3));
  if (gb && (gb->ndim != 1 || gb->size[0] != g->size[1] || !ones || ones->ndim != 1 ||
             ones->size[0] != g->size[0]))
    return em_error("%s: bias gradient of size %s or ones of size %s do not fit gradOutput of size %s",
                    op, shape_of(gb, s1), ones ? shape_of(ones, s2) : "none", shape_of(g, s3));
  em_tensor gt = *g;                     /* g^T (out, N), borrowed */
  gt.size[0] = g->size[1], gt.size[1] = g->size[0];
  gt.stride[0] = g->stride[1], gt.stride[1] = g->stride[0];
  st = addmm_op(prec, op, gw, 1, gw, scale, &gt, x);
  if (st == EM_OK && gb) st = addmv_op(EM_PRECISION_FULL, op, gb, 1, gb, scale, &gt, ones);
  return st;
}

/* The batched case of matmul: a (..., n, k) or (k), b (..., k, p) or (k), at least one
 * of them with 3 or more dims. */
static int matmul_batched(em_tensor *r, const em_tensor *a, const em_tensor *b,
                          em_precision prec) {
  shape_buf x, y;
  const char *op = "matmul";
  product p;
  product_init(&p, op, NULL, 0, 1, a, prec);
  em_tensor *a1 = &p.a, *b1 = &p.b;       /* the operands as matrices, then as batches */
  em_tensor_set(a1, a);
  em_tensor_set(b1, b);
  int st = a->ndim == 1 ? em_tensor_unsqueeze(a1, a, 0) : EM_OK;    /* (1, k) */
  if (st == EM_OK && b->ndim == 1) st = em_tensor_unsqueeze(b1, b, 1);   /* (k, 1) */
  if (st != EM_OK) goto fail;
  int an = a1->ndim, bn = b1->ndim;
  int64_t n = a1->size[an - 2], k = a1->size[an - 1], cols = b1->size[bn - 1];
  if (k != b1->size[bn - 2]) {
    st = em_error("%s: sizes %s and %s cannot be multiplied", op, shape_of(a, x), shape_of(b, y));
    goto fail;
  }
  /* broadcast the batch dims (all but the last two) */
  int nb = (an > bn ? an : bn) - 2;
  int64_t size[EM_MAX_DIMS], batch = 1;
  for (int i = 0; i < nb; i++) {
    int ia = i - (nb - (an - 2)), ib = i - (nb - (bn - 2));
    int64_t sa = ia >= 0 ? a1->size[ia] : 1, sb = ib >= 0 ? b1->size[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      st = em_error("%s: the batch dimensions of sizes %s and %s cannot broadcast", op, shape_of(a, x), shape_of(b, y));
      goto fail;
    }
    size[i] = sa == 1 ? sb : sa;
    batch *= size[i];
  }
  int nd = nb;
  if (a->ndim > 1) size[nd++] = n;
  if (b->ndim > 1) size[nd++] = cols;
  set_shape(&p, nd, size);
  int64_t s3[3] = {1, batch * n, k};
  if (b->ndim == 2 && em_tensor_view(a1, a1, 3, s3) == EM_OK) {
    /* (..., n, k) @ (k, p) is one (B*n, k) @ (k, p) product */
    st = em_tensor_unsqueeze(b1, b1, 0);
  } else {
    int64_t full[EM_MAX_DIMS];
    for (int i = 0; i < nb; i++) full[i] = size[i];
    full[nb] = n, full[nb + 1] = k;
    st = em_tensor_expand(a1, a1, nb + 2, full);
    full[nb] = k, full[nb + 1] = cols;
    if (st == EM_OK) st = em_tensor_expand(b1, b1, nb + 2, full);
    em_tensor *ops[2] = {a1, b1};
    for (int i = 0; i < 2 && st == EM_OK; i++) {
      int64_t v[3] = {batch, ops[i]->size[nb], ops[i]->size[nb + 1]};
      if (em_tensor_view(ops[i], ops[i], 3, v) == EM_OK) continue;
      st = em_tensor_clone_as(ops[i], ops[i], ops[i]->dtype);   /* batch dims that do not merge */
      if (st == EM_OK) st = em_tensor_view(ops[i], ops[i], 3, v);
    }
  }
  return finish(&p, r, a, st);
fail:
  product_release(&p);
  return st;
}

int em_matmul(em_tensor *r, const em_tensor *a, const em_tensor *b, em_precision prec) {
  shape_buf x, y;
  const char *op = "matmul";
  int st = check_pair(op, a, b, prec);
  if (st != EM_OK) return st;
  if (a->ndim == 0 || b->ndim == 0)
    return em_error("%s: expected tensors with at least one dimension, got sizes %s and %s", op, shape_of(a, x), shape_of(b, y));
  if (a->ndim == 1 && b->ndim == 1) {
    if (a->size[0] != b->size[0])
      return em_error("%s: sizes %s and %s cannot be multiplied", op, shape_of(a, x), shape_of(b, y));
    if (prec == EM_PRECISION_FULL) return dot_op(op, r, a, b);
    em_tensor a2 = *a;                   /* a as a (1, k) row, borrowed: gemm rounds */
    a2.ndim = 2;
    a2.size[0] = 1, a2.size[1] = a->size[0];
    a2.stride[0] = a->size[0] * a->stride[0], a2.stride[1] = a->stride[0];
    return addmv_op(prec, op, r, 0, NULL, 1, &a2, b);
  }
  if (a->ndim == 2 && b->ndim == 2) return addmm_op(prec, op, r, 0, NULL, 1, a, b);
  if (a->ndim == 2 && b->ndim == 1) return addmv_op(prec, op, r, 0, NULL, 1, a, b);
  if (a->ndim == 1 && b->ndim == 2) return vecmat_op(prec, op, r, a, b);
  return matmul_batched(r, a, b, prec);
}
