/* The attention op family: fused scaled-dot-product attention (forward and backward,
 * with causal and key-padding masks and optional dropout on the weights), GELU, and
 * dropout masks drawn from the context's generator. The kernels behind
 * nn.MultiheadAttention, nn.TransformerBlock, nn.GELU and nn.Dropout.
 *
 * Legend: B batch, NH heads, Tq query positions, Tk key positions (Tq = Tk = T for
 * self-attention), HS head size, C = NH * HS the model width.
 *
 * Attention, per batch b and head h (all row vectors):
 *   S = scale * Q K^T                                  (Tq, Tk)
 *   S[i][j] = -inf where causal and j > i, or where pad[b][j] is true
 *   A = softmax over j (max subtracted)                (Tq, Tk)  saved as `att`
 *   A' = A * dmask when dropout is on, else A
 *   Y = A' V                                           (Tq, HS)
 * A row whose keys are all masked has A = 0 and Y = 0 (and passes no gradient), where
 * PyTorch would give NaN. Softmax sums accumulate in the inputs' dtype's kernel type
 * (float for float32, double for float64) after subtracting the row's maximum.
 *
 * Conventions as nn.h: outputs first, then inputs, then options. q, k, v and the
 * outputs may be any views whose last dim has stride 1 (others are staged through
 * contiguous copies): nn.MultiheadAttention passes (B, T, 3C) projections viewed as
 * (B, NH, T, HS) and an output already shaped (B, NH, T, HS) over a (B, T, C) buffer,
 * whose strides are kept, so no transpose is ever copied. Every float tensor of a call
 * has one dtype, float32 or float64; pad is bool or uint8 (non-zero: ignore that key).
 * Optional tensors may be NULL or empty. */
#ifndef EMBER_ATTENTION_H
#define EMBER_ATTENTION_H

#include "backend.h"

typedef struct em_attention_params {
  double scale;   /* multiplies Q K^T; 1/sqrt(HS) is the usual choice */
  int causal;     /* mask key j > query i (top-left aligned when Tq != Tk, as PyTorch) */
  em_precision precision;   /* EM_PRECISION_BF16 (float32 only): the four products read
                             * their operands (q, k, v, the weights, gy, dS) as bfloat16
                             * and sum in float32; the softmax stays float32 */
} em_attention_params;

/* GELU's forms. float64 evaluates them with libm's erf/tanh; float32 with branch-free
 * float code (erfc and exp to a relative error of about 1e-7) that vectorises. */
typedef enum em_gelu_mode {
  EM_GELU_ERF,    /* x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)): PyTorch's default */
  EM_GELU_TANH,   /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
} em_gelu_mode;

/* The backend table. Tensors are checked and sized; q, k, v, y, gq, gk, gv have a
 * last-dim stride of 1 (other strides free); everything else is contiguous. */
struct em_attention_backend {
  /* y (B, NH, Tq, HS), att (B, NH, Tq, Tk) from q (B, NH, Tq, HS), k v (B, NH, Tk, HS),
   * pad (B, Tk) uint8 or NULL, dmask (B, NH, Tq, Tk) or NULL */
  int (*sdpa_forward)(em_tensor *y, em_tensor *att, const em_tensor *q, const em_tensor *k,
                      const em_tensor *v, const em_tensor *pad, const em_tensor *dmask,
                      const em_attention_params *p);
  /* gq gk gv (like q k v) := gradients, from gy (like y), att and dmask as in the
   * forward; work (B, NH, Tq, Tk) is scratch */
  int (*sdpa_backward)(em_tensor *gq, em_tensor *gk, em_tensor *gv, const em_tensor *gy,
                       const em_tensor *q, const em_tensor *k, const em_tensor *v,
                       const em_tensor *att, const em_tensor *dmask,
                       const em_attention_params *p, em_tensor *work);
  /* y := gelu(x); gx := gy * gelu'(x); all of one shape */
  int (*gelu_forward)(em_tensor *y, const em_tensor *x, em_gelu_mode mode);
  int (*gelu_backward)(em_tensor *gx, const em_tensor *gy, const em_tensor *x, em_gelu_mode mode);
  /* mask := 1/(1-p) with probability 1-p, else 0 (all 0 when p == 1), drawn in order
   * from r; y := x * mask when x is given. mask, y, x of one shape. */
  int (*dropout_forward)(em_tensor *y, em_tensor *mask, const em_tensor *x, double p,
                         em_rng *r);
};

extern const struct em_attention_backend em_cpu_attention;

/* --- scaled-dot-product attention ---
 * q (B, NH, Tq, HS), k v (B, NH, Tk, HS); pad (B, Tk) bool/uint8 or NULL (true:
 * ignore that key); dmask (B, NH, Tq, Tk) or NULL: the dropout mask (0 or 1/(1-p),
 * from em_dropout_forward) applied to the weights.
 * output (B, NH, Tq, HS): keeps its strides when it already has that shape;
 * att (B, NH, Tq, Tk): the weights (before dropout), kept for the backward. */
int em_attention_forward(em_tensor *output, em_tensor *att, const em_tensor *q,
                         const em_tensor *k, const em_tensor *v, const em_tensor *pad,
                         const em_tensor *dmask, const em_attention_params *p);
/* grad_q, grad_k, grad_v (like q, k, v; strides kept when already shaped) := dL/d of
 * each from grad_output (like output) and the forward's att and dmask. work: scratch
 * kept by the caller between calls (B, NH, Tq, Tk), or NULL. */
int em_attention_backward(em_tensor *grad_q, em_tensor *grad_k, em_tensor *grad_v,
                          const em_tensor *grad_output, const em_tensor *q, const em_tensor *k,
                          const em_tensor *v, const em_tensor *att, const em_tensor *dmask,
                          const em_attention_params *p, em_tensor *work);

/* --- GELU, element-wise on any shape: output (like input) --- */
int em_gelu_forward(em_tensor *output, const em_tensor *input, em_gelu_mode mode);
/* grad_input (like input) := grad_output * gelu'(input) */
int em_gelu_backward(em_tensor *grad_input, const em_tensor *grad_output,
                     const em_tensor *input, em_gelu_mode mode);

/* --- dropout: p in [0, 1] the probability of dropping ---
 * mask (like input, or of the given sizes when input is NULL) := 0 or 1/(1-p), one draw
 * per element from r in row-major order (reproducible by seed); output (like input)
 * := input * mask, skipped when input or output is NULL. The backward is
 * grad_input = grad_output * mask (a cmul). */
int em_dropout_forward(em_tensor *output, em_tensor *mask, const em_tensor *input, double p,
                       em_rng *r);

#endif
