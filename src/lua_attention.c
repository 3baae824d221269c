/* Binding for the attention kernels: `torch.attnops`, one function per C op, called by
 * nn.MultiheadAttention, nn.GELU and nn.Dropout. Calling convention as torch.nnops:
 * outputs first (nil: a new tensor is made), then inputs, then options; it returns its
 * outputs. Layouts are those of src/attention.h: q, k, v (B, NH, T, HS), weights
 * (B, NH, Tq, Tk), key padding mask (B, Tk) bool/uint8 with true = ignore.
 *
 *   attention_forward(output, att, q, k, v, pad, dmask, scale, causal [, precision])
 *                                                                -> output, att
 *   attention_backward(grad_q, grad_k, grad_v, grad_output, q, k, v, att, dmask, scale,
 *                      causal [, work [, precision]])            -> grad_q, grad_k, grad_v
 *     precision 'bfloat16': the products read float32 operands as bfloat16
 *   gelu_forward(output, input [, approximate = 'none' | 'tanh'])        -> output
 *   gelu_backward(grad_input, grad_output, input [, approximate])        -> grad_input
 *   dropout_forward(output, mask, input, p)                              -> output, mask
 *     mask := 0 or 1/(1-p) from torch's generator; output := input * mask. With input
 *     nil only the mask (already sized) is drawn, and output is ignored. */
#include <lauxlib.h>
#include <lua.h>

#include "attention.h"
#include "lua_ember.h"

static em_tensor *opt_tensor(lua_State *L, int arg) {
  return lua_isnoneornil(L, arg) ? NULL : em_lua_checktensor(L, arg);
}

/* A required output: the tensor at arg, or a new empty one put in its place. */
static em_tensor *out_tensor(lua_State *L, int arg) {
  if (!lua_isnoneornil(L, arg)) return em_lua_checktensor(L, arg);
  em_tensor *t = em_lua_newtensor(L, em_lua_ctx(L)->default_dtype, (em_device){EM_CPU, 0});
  lua_replace(L, arg);
  return t;
}

/* returns the values at args 1..n (the outputs) */
static int ret(lua_State *L, int n) {
  for (int i = 1; i <= n; i++) lua_pushvalue(L, i);
  return n;
}

static em_attention_params check_params(lua_State *L, int arg) {
  em_attention_params p;
  p.scale = luaL_checknumber(L, arg);
  p.causal = lua_toboolean(L, arg + 1);
  p.precision = EM_PRECISION_FULL;
  return p;
}

static em_gelu_mode check_gelu_mode(lua_State *L, int arg) {
  static const char *const names[] = {"none", "tanh", NULL};
  static const em_gelu_mode values[] = {EM_GELU_ERF, EM_GELU_TANH};
  return values[luaL_checkoption(L, arg, "none", names)];
}

static int attention_forward(lua_State *L) {
  em_tensor *y = out_tensor(L, 1), *att = out_tensor(L, 2);
  em_tensor *q = em_lua_checktensor(L, 3), *k = em_lua_checktensor(L, 4);
  em_tensor *v = em_lua_checktensor(L, 5), *pad = opt_tensor(L, 6), *dmask = opt_tensor(L, 7);
  em_attention_params p = check_params(L, 8);
  p.precision = em_lua_optprecision(L, 10);
  em_lua_call(L, em_attention_forward(y, att, q, k, v, pad, dmask, &p));
  return ret(L, 2);
}

static int attention_backward(lua_State *L) {
  em_tensor *gq = out_tensor(L, 1), *gk = out_tensor(L, 2), *gv = out_tensor(L, 3);
  em_tensor *gy = em_lua_checktensor(L, 4), *q = em_lua_checktensor(L, 5);
  em_tensor *k = em_lua_checktensor(L, 6), *v = em_lua_checktensor(L, 7);
  em_tensor *att = em_lua_checktensor(L, 8), *dmask = opt_tensor(L, 9);
  em_attention_params p = check_params(L, 10);
  em_tensor *work = opt_tensor(L, 12);
  p.precision = em_lua_optprecision(L, 13);
  em_lua_call(L, em_attention_backward(gq, gk, gv, gy, q, k, v, att, dmask, &p, work));
  return ret(L, 3);
}

static int gelu_forward(lua_State *L) {
  em_tensor *y = out_tensor(L, 1), *x = em_lua_checktensor(L, 2);
  em_gelu_mode mode = check_gelu_mode(L, 3);
  em_lua_call(L, em_gelu_forward(y, x, mode));
  return ret(L, 1);
}

static int gelu_backward(lua_State *L) {
  em_tensor *gx = out_tensor(L, 1);
  em_tensor *gy = em_lua_checktensor(L, 2), *x = em_lua_checktensor(L, 3);
  em_gelu_mode mode = check_gelu_mode(L, 4);
  em_lua_call(L, em_gelu_backward(gx, gy, x, mode));
  return ret(L, 1);
}

static int dropout_forward(lua_State *L) {
  em_tensor *x = opt_tensor(L, 3);
  em_tensor *y = x ? out_tensor(L, 1) : NULL, *mask = out_tensor(L, 2);
  double p = luaL_checknumber(L, 4);
  luaL_argcheck(L, p >= 0 && p <= 1, 4, "probability must be in [0, 1]");
  em_lua_call(L, em_dropout_forward(y, mask, x, p, &em_lua_ctx(L)->rng));
  return ret(L, 2);
}

static const luaL_Reg attnops[] = {
  {"attention_backward", attention_backward},
  {"attention_forward", attention_forward},
  {"dropout_forward", dropout_forward},
  {"gelu_backward", gelu_backward},
  {"gelu_forward", gelu_forward},
  {NULL, NULL}
};

void em_lua_open_attention(lua_State *L, int module, int methods) {
  (void)methods;
  lua_newtable(L);
  em_lua_setfuncs(L, attnops);
  lua_setfield(L, module, "attnops");
}
