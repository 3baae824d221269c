/* The rnn op family: recurrent layers (Elman RNN with tanh or ReLU, LSTM, GRU) over
 * whole sequences, one call per layer per direction of work, and the embedding lookup
 * (LookupTable) that feeds them. Public ops (rnn.c) check shapes, dtypes and devices,
 * size the outputs, stage non-contiguous tensors, then call em_backend_of(dev)->rnn.
 *
 * Legend: T timesteps, B batch, I input features, H hidden features, G gates per cell
 * (RNN 1, GRU 3, LSTM 4), R = T*B rows of a sequence. Embedding: V entries (rows of the
 * table), E features per entry, N indices.
 *
 * Layout: a sequence is (T, B, F) time-first, or (B, T, F) when batch_first is set; the
 * output, its gradient and the saved work follow the input's layout. States (h_0, c_0,
 * h_n, c_n and their gradients) are (B, H).
 *
 * Weights are PyTorch's, per layer: w_ih (G*H, I), w_hh (G*H, H), b_ih, b_hh (G*H),
 * the gate blocks stacked in PyTorch's order, so PyTorch's state dicts load unchanged:
 *   RNN:   h' = act(W_ih x + b_ih + W_hh h + b_hh),      act = tanh or relu
 *   LSTM:  i, f, g, o = sig, sig, tanh, sig of (W_ih x + b_ih + W_hh h + b_hh) blocks
 *          c' = f * c + i * g,  h' = o * tanh(c')
 *   GRU:   r, z = sig of the first two blocks of (W_ih x + b_ih + W_hh h + b_hh)
 *          n  = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
 *
 * Work: the forward saves what the backward needs in `work`, a vector of R*(G*H + E)
 * elements: the gate activations of every step (R, G*H), then the extra block (R, E),
 * E = H for LSTM (the cell states) and GRU (W_hn h + b_hn), 0 for RNN; rows in the
 * input's layout. The backward's first half (backward_input) saves the gradients of the
 * gate pre-activations in `grad_gates`, a vector of R*G*H elements (for GRU twice that:
 * the input-side then the hidden-side gradients, which differ in the n block), which
 * the second half (backward_params) turns into parameter gradients: Torch7's
 * updateGradInput / accGradParameters split, with BPTT done once. Callers keep both
 * tensors between the calls and need not look inside.
 *
 * Conventions as nn.h: outputs first, then inputs, then options. Every float tensor of
 * a call has one dtype, float32 or float64; indices are int64. Parameter gradients
 * ACCUMULATE, scaled (grad += scale * dL/dparam); other outputs are overwritten.
 * Optional tensors may be NULL or empty: a missing h_0 or c_0 is zeros, a missing bias
 * is no bias, a missing gradient input is zeros, a missing output is not computed. */
#ifndef EMBER_RNN_H
#define EMBER_RNN_H

#include "backend.h"

typedef enum em_rnn_mode {
  EM_RNN_TANH,
  EM_RNN_RELU,
  EM_RNN_LSTM,
  EM_RNN_GRU,
  EM_RNN_MODE_COUNT
} em_rnn_mode;

/* Gates per cell (G): 1, 1, 4, 3. */
int em_rnn_gates(em_rnn_mode mode);
/* Columns of the work's extra block per row (E): H for LSTM and GRU, else 0. */
int64_t em_rnn_extra(em_rnn_mode mode, int64_t H);

typedef struct em_rnn_params {
  em_rnn_mode mode;
  int batch_first;    /* sequences are (B, T, F) instead of (T, B, F) */
} em_rnn_params;

/* One layer's parameters: w_ih (G*H, I), w_hh (G*H, H), b_ih, b_hh (G*H) or NULL. */
typedef struct em_rnn_weights {
  const em_tensor *w_ih, *w_hh, *b_ih, *b_hh;
} em_rnn_weights;

/* Their gradients, accumulated; any may be NULL (not computed). */
typedef struct em_rnn_grads {
  em_tensor *w_ih, *w_hh, *b_ih, *b_hh;
} em_rnn_grads;

/* The backend table. Every tensor is contiguous, checked and sized (x, y, gx, gy in the
 * params' layout; work, grad_gates as above); h_0 and c_0 (LSTM) are always given
 * (zeros when the caller had none), as are y, work and grad_gates. */
struct em_rnn_backend {
  /* y (T, B, H), h_n, c_n (B, H) or NULL, work (R*(G*H + E)) from x (T, B, I) */
  int (*forward)(em_tensor *y, em_tensor *h_n, em_tensor *c_n, em_tensor *work,
                 const em_tensor *x, const em_tensor *h_0, const em_tensor *c_0,
                 const em_rnn_weights *w, const em_rnn_params *p);
  /* gx (T, B, I), gh_0, gc_0 (B, H) or NULL; grad_gates written; gy (T, B, H), g_hn,
   * g_cn (B, H) or NULL */
  int (*backward_input)(em_tensor *gx, em_tensor *gh_0, em_tensor *gc_0, em_tensor *grad_gates,
                        const em_tensor *y, const em_tensor *work, const em_tensor *h_0,
                        const em_tensor *c_0, const em_rnn_weights *w, const em_tensor *gy,
                        const em_tensor *g_hn, const em_tensor *g_cn, const em_rnn_params *p);
  int (*backward_params)(const em_rnn_grads *g, const em_tensor *x, const em_tensor *y,
                         const em_tensor *h_0, const em_tensor *grad_gates,
                         const em_rnn_params *p, double scale);
  /* y (N, E) := rows of w (V, E) at idx (N) - base; an index out of [0, V) is an error */
  int (*embedding_forward)(em_tensor *y, const em_tensor *idx, const em_tensor *w, int64_t base);
  /* gw (V, E) += scale * gy (N, E) rows at idx (N) - base, skipping idx == padding */
  int (*embedding_backward)(em_tensor *gw, const em_tensor *idx, const em_tensor *gy,
                            int64_t padding, int64_t base, double scale);
};

extern const struct em_rnn_backend em_cpu_rnn;

/* --- one recurrent layer over a sequence ---
 * input (T, B, I); h_0 (B, H), c_0 (B, H) for LSTM only (NULL: zeros).
 * output (T, B, H): the hidden state of every step; h_n, c_n (B, H): the final states
 * (either may be NULL); work: resized to R*(G*H + E) elements and kept for the backward
 * (NULL when no backward follows). */
int em_rnn_forward(em_tensor *output, em_tensor *h_n, em_tensor *c_n, em_tensor *work,
                   const em_tensor *input, const em_tensor *h_0, const em_tensor *c_0,
                   const em_rnn_weights *w, const em_rnn_params *p);

/* Backpropagation through time, from the forward's input, output and work:
 * grad_input (T, B, I), grad_h0, grad_c0 (B, H) := dL/d of each (any may be NULL);
 * grad_gates := the gate gradients for em_rnn_backward_params (required).
 * grad_output (T, B, H), grad_hn, grad_cn (B, H): dL/d of the forward's outputs (NULL:
 * zeros). */
int em_rnn_backward_input(em_tensor *grad_input, em_tensor *grad_h0, em_tensor *grad_c0,
                          em_tensor *grad_gates, const em_tensor *input,
                          const em_tensor *output, const em_tensor *work, const em_tensor *h_0,
                          const em_tensor *c_0, const em_rnn_weights *w,
                          const em_tensor *grad_output, const em_tensor *grad_hn,
                          const em_tensor *grad_cn, const em_rnn_params *p);

/* g->w_ih, w_hh (like the weights), b_ih, b_hh (G*H) += scale * dL/d of each, from the
 * forward's input, output, h_0 and backward_input's grad_gates. */
int em_rnn_backward_params(const em_rnn_grads *g, const em_tensor *input,
                           const em_tensor *output, const em_tensor *h_0,
                           const em_tensor *grad_gates, const em_rnn_params *p, double scale);

/* --- embedding (LookupTable) ---
 * indices (N) or (B, T), int64, counted from base (the Lua binding passes 1); weight
 * (V, E); output (N, E) or (B, T, E). An index outside [base, base + V) is an error. */
int em_embedding_forward(em_tensor *output, const em_tensor *indices, const em_tensor *weight,
                         int64_t base);
/* grad_weight (V, E) += scale * the rows of grad_output (like output) at indices
 * (index add; repeated indices sum); an index equal to padding (compared before the
 * base is removed; pass base - 1 for none) gets nothing. */
int em_embedding_backward(em_tensor *grad_weight, const em_tensor *indices,
                          const em_tensor *grad_output, int64_t padding, int64_t base,
                          double scale);

#endif
