/* Binding for the rnn family: `torch.rnnops`, one function per C op, called by
 * nn.RNN / nn.LSTM / nn.GRU (one layer per call) and nn.LookupTable. Conventions as
 * torch.nnops: outputs first, then inputs, then options; each returns its outputs. An
 * output given as nil is made (in the input's dtype) and returned; c_n and grad_c0
 * only for 'lstm'. Parameter gradients accumulate scaled; nil bias gradients are not
 * computed. Optional inputs (h_0, c_0, biases, gradients of outputs) may be nil.
 * mode is 'rnn_tanh', 'rnn_relu', 'lstm' or 'gru'; batch_first (default false) says
 * sequences are (B, T, F) instead of (T, B, F). Indices are 1-based (Torch7's).
 *
 *   forward(output, h_n, c_n, work, input, h_0, c_0, w_ih, w_hh, b_ih, b_hh, mode
 *           [, batch_first])                       -> output, h_n, c_n, work
 *   backward_input(grad_input, grad_h0, grad_c0, grad_gates, input, output, work, h_0,
 *                  c_0, w_ih, w_hh, grad_output, grad_hn, grad_cn, mode [, batch_first])
 *                                                  -> grad_input, grad_h0, grad_c0, grad_gates
 *   backward_params(grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh, input, output, h_0,
 *                   grad_gates, mode [, batch_first [, scale = 1]])  -> the four gradients
 *   embedding_forward(output, indices, weight)     -> output
 *   embedding_backward(grad_weight, indices, grad_output [, padding_idx [, scale = 1]])
 *                                                  -> grad_weight
 * Shapes and equations: src/rnn.h. */
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"
#include "rnn.h"

#define LUA_INDEX_BASE 1   /* Torch7 indices count from 1 */

static em_tensor *opt_tensor(lua_State *L, int arg) {
  return lua_isnoneornil(L, arg) ? NULL : em_lua_checktensor(L, arg);
}

/* An output: the tensor at arg, or (when wanted) a new empty one like `like` put in its
 * place; NULL when nil and not wanted. */
static em_tensor *out_tensor(lua_State *L, int arg, const em_tensor *like, int wanted) {
  if (!lua_isnoneornil(L, arg)) return em_lua_checktensor(L, arg);
  if (!wanted) return NULL;
  em_tensor *t = em_lua_newtensor(L, like->dtype, like->device);
  lua_replace(L, arg);
  return t;
}

static em_rnn_params check_params(lua_State *L, int arg) {
  static const char *const names[] = {"rnn_tanh", "rnn_relu", "lstm", "gru", NULL};
  static const em_rnn_mode modes[] = {EM_RNN_TANH, EM_RNN_RELU, EM_RNN_LSTM, EM_RNN_GRU};
  em_rnn_params p;
  p.mode = modes[luaL_checkoption(L, arg, NULL, names)];
  p.batch_first = lua_toboolean(L, arg + 1);
  return p;
}

/* returns the values at args 1..n (the outputs) */
static int ret(lua_State *L, int n) {
  for (int i = 1; i <= n; i++) lua_pushvalue(L, i);
  return n;
}

static int forward(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 5);
  em_rnn_params p = check_params(L, 12);
  int lstm = p.mode == EM_RNN_LSTM;
  em_tensor *y = out_tensor(L, 1, x, 1), *hn = out_tensor(L, 2, x, 1);
  em_tensor *cn = out_tensor(L, 3, x, lstm), *work = out_tensor(L, 4, x, 1);
  em_tensor *h0 = opt_tensor(L, 6), *c0 = opt_tensor(L, 7);
  em_rnn_weights w = {em_lua_checktensor(L, 8), em_lua_checktensor(L, 9), opt_tensor(L, 10),
                      opt_tensor(L, 11)};
  em_lua_call(L, em_rnn_forward(y, hn, cn, work, x, h0, c0, &w, &p));
  return ret(L, 4);
}

static int backward_input(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 5);
  em_rnn_params p = check_params(L, 15);
  em_tensor *gx = out_tensor(L, 1, x, 1), *gh0 = out_tensor(L, 2, x, 1);
  em_tensor *gc0 = out_tensor(L, 3, x, p.mode == EM_RNN_LSTM), *gg = out_tensor(L, 4, x, 1);
  em_tensor *y = em_lua_checktensor(L, 6), *work = em_lua_checktensor(L, 7);
  em_tensor *h0 = opt_tensor(L, 8), *c0 = opt_tensor(L, 9);
  em_rnn_weights w = {em_lua_checktensor(L, 10), em_lua_checktensor(L, 11), NULL, NULL};
  em_tensor *gy = opt_tensor(L, 12), *ghn = opt_tensor(L, 13), *gcn = opt_tensor(L, 14);
  em_lua_call(L, em_rnn_backward_input(gx, gh0, gc0, gg, x, y, work, h0, c0, &w, gy, ghn, gcn, &p));
  return ret(L, 4);
}

static int backward_params(lua_State *L) {
  em_rnn_grads g = {em_lua_checktensor(L, 1), em_lua_checktensor(L, 2), opt_tensor(L, 3),
                    opt_tensor(L, 4)};
  em_tensor *x = em_lua_checktensor(L, 5), *y = em_lua_checktensor(L, 6);
  em_tensor *h0 = opt_tensor(L, 7), *gg = em_lua_checktensor(L, 8);
  em_rnn_params p = check_params(L, 9);
  double scale = luaL_optnumber(L, 11, 1.0);
  em_lua_call(L, em_rnn_backward_params(&g, x, y, h0, gg, &p, scale));
  return ret(L, 4);
}

static int embedding_forward(lua_State *L) {
  em_tensor *idx = em_lua_checktensor(L, 2), *w = em_lua_checktensor(L, 3);
  em_tensor *y = out_tensor(L, 1, w, 1);
  em_lua_call(L, em_embedding_forward(y, idx, w, LUA_INDEX_BASE));
  return ret(L, 1);
}

static int embedding_backward(lua_State *L) {
  em_tensor *gw = em_lua_checktensor(L, 1), *idx = em_lua_checktensor(L, 2);
  em_tensor *gy = em_lua_checktensor(L, 3);
  lua_Integer padding = luaL_optinteger(L, 4, LUA_INDEX_BASE - 1);
  double scale = luaL_optnumber(L, 5, 1.0);
  em_lua_call(L, em_embedding_backward(gw, idx, gy, padding, LUA_INDEX_BASE, scale));
  return ret(L, 1);
}

static const luaL_Reg rnnops[] = {
  {"backward_input", backward_input},
  {"backward_params", backward_params},
  {"embedding_backward", embedding_backward},
  {"embedding_forward", embedding_forward},
  {"forward", forward},
  {NULL, NULL}
};

void em_lua_open_rnn(lua_State *L, int module, int methods) {
  (void)methods;
  lua_newtable(L);
  em_lua_setfuncs(L, rnnops);
  lua_setfield(L, module, "rnnops");
}
