/* Binding for the nn kernels: `torch.nnops`, one function per C op, called by the nn
 * modules (the Lua side of Torch7's THNN). Calling convention, for every function:
 *
 *   outputs first, then inputs, then sizes and options, then an optional workspace;
 *   it returns its outputs. An output may be nil (a new tensor is made and returned),
 *   except the optional gradients (grad_bias, grad_weight of the norms, grad_input of
 *   batchnorm/layernorm), where nil means "do not compute". Optional inputs (bias,
 *   weights, running stats) may be nil. Parameter gradients accumulate scaled
 *   (grad_weight += scale * dL/dweight) as in accGradParameters; everything else is
 *   overwritten. Dims are 1-based (negative from the end); class targets are 1-based
 *   class numbers, as Torch7's labels; ignore_index compares with the raw target
 *   (default -100). Pool indices are 0-based flat offsets h*W + w in each plane.
 *
 *   conv2d_forward(output, input, weight, bias, sH, sW, pH, pW, dH, dW, groups [, work
 *                  [, precision]])
 *   conv2d_backward_input(grad_input, input, grad_output, weight, sH, sW, pH, pW, dH, dW,
 *                         groups [, work [, precision]])
 *   conv2d_backward_params(grad_weight, grad_bias, input, grad_output, sH, sW, pH, pW, dH,
 *                          dW, groups, scale [, work [, precision]])
 *   conv_transpose2d_forward(output, input, weight, bias, sH, sW, pH, pW, dH, dW, aH, aW,
 *                            groups [, work [, precision]])   (also _backward_input,
 *                            _backward_params with the conv2d argument order plus aH, aW
 *                            before groups)
 *     precision 'bfloat16': float32 products read as bfloat16, summed in float32
 *   maxpool2d_forward(output, indices, input, kH, kW, sH, sW, pH, pW, dH, dW, ceil_mode)
 *   maxpool2d_backward(grad_input, input, grad_output, indices)
 *   avgpool2d_forward(output, input, kH, kW, sH, sW, pH, pW, ceil_mode, count_include_pad)
 *   avgpool2d_backward(grad_input, input, grad_output, kH, kW, sH, sW, pH, pW, ceil_mode,
 *                      count_include_pad)
 *   adaptive_avgpool2d_forward(output, input, oH, oW)
 *   adaptive_avgpool2d_backward(grad_input, input, grad_output)
 *   softmax_forward(output, input [, dim = -1]),   softmax_backward(grad_input, grad_output,
 *                   output [, dim]); log_softmax_forward / log_softmax_backward alike
 *   batchnorm_forward(output, save_mean, save_invstd, input, weight, bias, running_mean,
 *                     running_var, train, momentum, eps)
 *   batchnorm_backward(grad_input, grad_weight, grad_bias, input, grad_output, weight,
 *                      save_mean, save_invstd, train, scale)
 *   layernorm_forward(output, save_mean, save_invstd, input, weight, bias, k, eps)
 *   layernorm_backward(grad_input, grad_weight, grad_bias, input, grad_output, weight,
 *                      save_mean, save_invstd, k, scale)
 *   nll_forward(output, total_weight, input, target, weight [, reduction, ignore_index])
 *   nll_backward(grad_input, input, target, grad_output, weight, total_weight
 *                [, reduction, ignore_index])
 *   cross_entropy_forward(output, total_weight, log_probs, input, target, weight
 *                         [, reduction, ignore_index])
 *   cross_entropy_backward(grad_input, log_probs, target, grad_output, weight, total_weight
 *                          [, reduction, ignore_index])
 * with reduction 'mean' (default), 'sum' or 'none'. */
#include <limits.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"
#include "nn.h"

#define DEFAULT_IGNORE_INDEX (-100)
#define LUA_TARGET_BASE 1   /* Torch7 class labels count from 1 */

/* --- argument helpers --- */

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

static int opt_int(lua_State *L, int arg, int dflt) {
  lua_Integer v = luaL_optinteger(L, arg, dflt);
  luaL_argcheck(L, v >= INT_MIN && v <= INT_MAX, arg, "out of range");
  return (int)v;
}

static int check_int(lua_State *L, int arg) {
  lua_Integer v = luaL_checkinteger(L, arg);
  luaL_argcheck(L, v >= INT_MIN && v <= INT_MAX, arg, "out of range");
  return (int)v;
}

/* sH, sW, pH, pW, dH, dW [, aH, aW], groups from arg on; returns the next arg */
static int check_conv(lua_State *L, int arg, int transposed, em_conv2d_params *p) {
  p->sH = opt_int(L, arg, 1);
  p->sW = opt_int(L, arg + 1, 1);
  p->pH = opt_int(L, arg + 2, 0);
  p->pW = opt_int(L, arg + 3, 0);
  p->dH = opt_int(L, arg + 4, 1);
  p->dW = opt_int(L, arg + 5, 1);
  arg += 6;
  p->aH = transposed ? opt_int(L, arg++, 0) : 0;
  p->aW = transposed ? opt_int(L, arg++, 0) : 0;
  p->groups = opt_int(L, arg++, 1);
  p->precision = EM_PRECISION_FULL;
  return arg;
}

/* kH, kW, sH, sW, pH, pW from arg on */
static void check_pool(lua_State *L, int arg, em_pool2d_params *p) {
  p->kH = check_int(L, arg);
  p->kW = check_int(L, arg + 1);
  p->sH = opt_int(L, arg + 2, p->kH);
  p->sW = opt_int(L, arg + 3, p->kW);
  p->pH = opt_int(L, arg + 4, 0);
  p->pW = opt_int(L, arg + 5, 0);
  p->dH = 1;
  p->dW = 1;
  p->ceil_mode = 0;
  p->count_include_pad = 1;
}

/* [reduction, ignore_index] at arg */
static em_nll_params check_nll(lua_State *L, int arg) {
  static const char *const names[] = {"none", "mean", "sum", NULL};
  static const em_reduction values[] = {EM_REDUCTION_NONE, EM_REDUCTION_MEAN, EM_REDUCTION_SUM};
  em_nll_params p;
  p.reduction = values[luaL_checkoption(L, arg, "mean", names)];
  p.ignore_index = luaL_optinteger(L, arg + 1, DEFAULT_IGNORE_INDEX);
  p.base = LUA_TARGET_BASE;
  return p;
}

/* returns the values at args 1..n (the outputs) */
static int ret(lua_State *L, int n) {
  for (int i = 1; i <= n; i++) lua_pushvalue(L, i);
  return n;
}

/* --- convolution --- */

static int conv_forward(lua_State *L, int transposed) {
  em_tensor *y = out_tensor(L, 1);
  em_tensor *x = em_lua_checktensor(L, 2), *w = em_lua_checktensor(L, 3), *b = opt_tensor(L, 4);
  em_conv2d_params p;
  int arg = check_conv(L, 5, transposed, &p);
  em_tensor *work = opt_tensor(L, arg);
  p.precision = em_lua_optprecision(L, arg + 1);
  if (transposed) em_lua_call(L, em_nn_conv_transpose2d_forward(y, x, w, b, &p, work));
  else em_lua_call(L, em_nn_conv2d_forward(y, x, w, b, &p, work));
  return ret(L, 1);
}

static int conv_backward_input(lua_State *L, int transposed) {
  em_tensor *gx = out_tensor(L, 1);
  em_tensor *x = em_lua_checktensor(L, 2), *gy = em_lua_checktensor(L, 3);
  em_tensor *w = em_lua_checktensor(L, 4);
  em_conv2d_params p;
  int arg = check_conv(L, 5, transposed, &p);
  em_tensor *work = opt_tensor(L, arg);
  p.precision = em_lua_optprecision(L, arg + 1);
  if (transposed) em_lua_call(L, em_nn_conv_transpose2d_backward_input(gx, x, gy, w, &p, work));
  else em_lua_call(L, em_nn_conv2d_backward_input(gx, x, gy, w, &p, work));
  return ret(L, 1);
}

static int conv_backward_params(lua_State *L, int transposed) {
  em_tensor *gw = em_lua_checktensor(L, 1), *gb = opt_tensor(L, 2);
  em_tensor *x = em_lua_checktensor(L, 3), *gy = em_lua_checktensor(L, 4);
  em_conv2d_params p;
  int arg = check_conv(L, 5, transposed, &p);
  double scale = luaL_optnumber(L, arg, 1.0);
  em_tensor *work = opt_tensor(L, arg + 1);
  p.precision = em_lua_optprecision(L, arg + 2);
  if (transposed)
    em_lua_call(L, em_nn_conv_transpose2d_backward_params(gw, gb, x, gy, &p, scale, work));
  else
    em_lua_call(L, em_nn_conv2d_backward_params(gw, gb, x, gy, &p, scale, work));
  return ret(L, 2);
}

static int conv2d_forward(lua_State *L) { return conv_forward(L, 0); }
static int conv2d_backward_input(lua_State *L) { return conv_backward_input(L, 0); }
static int conv2d_backward_params(lua_State *L) { return conv_backward_params(L, 0); }
static int conv_transpose2d_forward(lua_State *L) { return conv_forward(L, 1); }
static int conv_transpose2d_backward_input(lua_State *L) { return conv_backward_input(L, 1); }
static int conv_transpose2d_backward_params(lua_State *L) { return conv_backward_params(L, 1); }

/* --- pooling --- */

static int maxpool2d_forward(lua_State *L) {
  em_tensor *y = out_tensor(L, 1), *idx = out_tensor(L, 2);
  em_tensor *x = em_lua_checktensor(L, 3);
  em_pool2d_params p;
  check_pool(L, 4, &p);
  p.dH = opt_int(L, 10, 1);
  p.dW = opt_int(L, 11, 1);
  p.ceil_mode = lua_toboolean(L, 12);
  em_lua_call(L, em_nn_maxpool2d_forward(y, idx, x, &p));
  return ret(L, 2);
}

static int maxpool2d_backward(lua_State *L) {
  em_tensor *gx = out_tensor(L, 1);
  em_tensor *x = em_lua_checktensor(L, 2), *gy = em_lua_checktensor(L, 3);
  em_tensor *idx = em_lua_checktensor(L, 4);
  em_lua_call(L, em_nn_maxpool2d_backward(gx, x, gy, idx));
  return ret(L, 1);
}

/* ceil_mode, count_include_pad (default true) at arg */
static void check_avg(lua_State *L, int arg, em_pool2d_params *p) {
  p->ceil_mode = lua_toboolean(L, arg);
  p->count_include_pad = lua_isnoneornil(L, arg + 1) ? 1 : lua_toboolean(L, arg + 1);
}

static int avgpool2d_forward(lua_State *L) {
  em_tensor *y = out_tensor(L, 1), *x = em_lua_checktensor(L, 2);
  em_pool2d_params p;
  check_pool(L, 3, &p);
  check_avg(L, 9, &p);
  em_lua_call(L, em_nn_avgpool2d_forward(y, x, &p));
  return ret(L, 1);
}

static int avgpool2d_backward(lua_State *L) {
  em_tensor *gx = out_tensor(L, 1);
  em_tensor *x = em_lua_checktensor(L, 2), *gy = em_lua_checktensor(L, 3);
  em_pool2d_params p;
  check_pool(L, 4, &p);
  check_avg(L, 10, &p);
  em_lua_call(L, em_nn_avgpool2d_backward(gx, x, gy, &p));
  return ret(L, 1);
}

static int adaptive_avgpool2d_forward(lua_State *L) {
  em_tensor *y = out_tensor(L, 1), *x = em_lua_checktensor(L, 2);
  int64_t oH = luaL_checkinteger(L, 3), oW = luaL_optinteger(L, 4, oH);
  em_lua_call(L, em_nn_adaptive_avgpool2d_forward(y, x, oH, oW));
  return ret(L, 1);
}

static int adaptive_avgpool2d_backward(lua_State *L) {
  em_tensor *gx = out_tensor(L, 1);
  em_tensor *x = em_lua_checktensor(L, 2), *gy = em_lua_checktensor(L, 3);
  em_lua_call(L, em_nn_adaptive_avgpool2d_backward(gx, x, gy));
  return ret(L, 1);
}

/* --- softmax --- */

/* the optional 1-based dim at arg (default: the last) as 0-based */
static int opt_dim(lua_State *L, int arg, const em_tensor *t) {
  return lua_isnoneornil(L, arg) ? t->ndim - 1 : em_lua_checkdim(L, arg, t, 0);
}

static int softmax_forward_(lua_State *L, int take_log) {
  em_tensor *y = out_tensor(L, 1), *x = em_lua_checktensor(L, 2);
  int dim = opt_dim(L, 3, x);
  em_lua_call(L, take_log ? em_nn_log_softmax_forward(y, x, dim) : em_nn_softmax_forward(y, x, dim));
  return ret(L, 1);
}

static int softmax_backward_(lua_State *L, int take_log) {
  em_tensor *gx = out_tensor(L, 1);
  em_tensor *gy = em_lua_checktensor(L, 2), *y = em_lua_checktensor(L, 3);
  int dim = opt_dim(L, 4, y);
  em_lua_call(L, take_log ? em_nn_log_softmax_backward(gx, gy, y, dim)
                          : em_nn_softmax_backward(gx, gy, y, dim));
  return ret(L, 1);
}

static int softmax_forward(lua_State *L) { return softmax_forward_(L, 0); }
static int softmax_backward(lua_State *L) { return softmax_backward_(L, 0); }
static int log_softmax_forward(lua_State *L) { return softmax_forward_(L, 1); }
static int log_softmax_backward(lua_State *L) { return softmax_backward_(L, 1); }

/* --- normalisation --- */

static int batchnorm_forward(lua_State *L) {
  em_tensor *y = out_tensor(L, 1), *mean = out_tensor(L, 2), *invstd = out_tensor(L, 3);
  em_tensor *x = em_lua_checktensor(L, 4), *w = opt_tensor(L, 5), *b = opt_tensor(L, 6);
  em_tensor *rm = opt_tensor(L, 7), *rv = opt_tensor(L, 8);
  int train = lua_toboolean(L, 9);
  double momentum = luaL_optnumber(L, 10, 0.1), eps = luaL_optnumber(L, 11, 1e-5);
  em_lua_call(L, em_nn_batchnorm_forward(y, mean, invstd, x, w, b, rm, rv, train, momentum, eps));
  return ret(L, 3);
}

static int batchnorm_backward(lua_State *L) {
  em_tensor *gx = opt_tensor(L, 1), *gw = opt_tensor(L, 2), *gb = opt_tensor(L, 3);
  em_tensor *x = em_lua_checktensor(L, 4), *gy = em_lua_checktensor(L, 5), *w = opt_tensor(L, 6);
  em_tensor *mean = em_lua_checktensor(L, 7), *invstd = em_lua_checktensor(L, 8);
  int train = lua_toboolean(L, 9);
  double scale = luaL_optnumber(L, 10, 1.0);
  em_lua_call(L, em_nn_batchnorm_backward(gx, gw, gb, x, gy, w, mean, invstd, train, scale));
  return ret(L, 3);
}

static int layernorm_forward(lua_State *L) {
  em_tensor *y = out_tensor(L, 1), *mean = out_tensor(L, 2), *invstd = out_tensor(L, 3);
  em_tensor *x = em_lua_checktensor(L, 4), *w = opt_tensor(L, 5), *b = opt_tensor(L, 6);
  int k = opt_int(L, 7, 1);
  double eps = luaL_optnumber(L, 8, 1e-5);
  em_lua_call(L, em_nn_layernorm_forward(y, mean, invstd, x, w, b, k, eps));
  return ret(L, 3);
}

static int layernorm_backward(lua_State *L) {
  em_tensor *gx = opt_tensor(L, 1), *gw = opt_tensor(L, 2), *gb = opt_tensor(L, 3);
  em_tensor *x = em_lua_checktensor(L, 4), *gy = em_lua_checktensor(L, 5), *w = opt_tensor(L, 6);
  em_tensor *mean = em_lua_checktensor(L, 7), *invstd = em_lua_checktensor(L, 8);
  int k = opt_int(L, 9, 1);
  double scale = luaL_optnumber(L, 10, 1.0);
  em_lua_call(L, em_nn_layernorm_backward(gx, gw, gb, x, gy, w, mean, invstd, k, scale));
  return ret(L, 3);
}

/* --- losses --- */

static int nll_forward(lua_State *L) {
  em_tensor *y = out_tensor(L, 1), *total = out_tensor(L, 2);
  em_tensor *x = em_lua_checktensor(L, 3), *t = em_lua_checktensor(L, 4), *cw = opt_tensor(L, 5);
  em_nll_params p = check_nll(L, 6);
  em_lua_call(L, em_nn_nll_forward(y, total, x, t, cw, &p));
  return ret(L, 2);
}

static int nll_backward(lua_State *L) {
  em_tensor *gx = out_tensor(L, 1);
  em_tensor *x = em_lua_checktensor(L, 2), *t = em_lua_checktensor(L, 3);
  em_tensor *gy = em_lua_checktensor(L, 4), *cw = opt_tensor(L, 5);
  em_tensor *total = em_lua_checktensor(L, 6);
  em_nll_params p = check_nll(L, 7);
  em_lua_call(L, em_nn_nll_backward(gx, x, t, gy, cw, total, &p));
  return ret(L, 1);
}

static int cross_entropy_forward(lua_State *L) {
  em_tensor *y = out_tensor(L, 1), *total = out_tensor(L, 2), *logp = out_tensor(L, 3);
  em_tensor *x = em_lua_checktensor(L, 4), *t = em_lua_checktensor(L, 5), *cw = opt_tensor(L, 6);
  em_nll_params p = check_nll(L, 7);
  em_lua_call(L, em_nn_cross_entropy_forward(y, total, logp, x, t, cw, &p));
  return ret(L, 3);
}

static int cross_entropy_backward(lua_State *L) {
  em_tensor *gx = out_tensor(L, 1);
  em_tensor *logp = em_lua_checktensor(L, 2), *t = em_lua_checktensor(L, 3);
  em_tensor *gy = em_lua_checktensor(L, 4), *cw = opt_tensor(L, 5);
  em_tensor *total = em_lua_checktensor(L, 6);
  em_nll_params p = check_nll(L, 7);
  em_lua_call(L, em_nn_cross_entropy_backward(gx, logp, t, gy, cw, total, &p));
  return ret(L, 1);
}

static const luaL_Reg nnops[] = {
  {"adaptive_avgpool2d_backward", adaptive_avgpool2d_backward},
  {"adaptive_avgpool2d_forward", adaptive_avgpool2d_forward},
  {"avgpool2d_backward", avgpool2d_backward},
  {"avgpool2d_forward", avgpool2d_forward},
  {"batchnorm_backward", batchnorm_backward},
  {"batchnorm_forward", batchnorm_forward},
  {"conv2d_backward_input", conv2d_backward_input},
  {"conv2d_backward_params", conv2d_backward_params},
  {"conv2d_forward", conv2d_forward},
  {"conv_transpose2d_backward_input", conv_transpose2d_backward_input},
  {"conv_transpose2d_backward_params", conv_transpose2d_backward_params},
  {"conv_transpose2d_forward", conv_transpose2d_forward},
  {"cross_entropy_backward", cross_entropy_backward},
  {"cross_entropy_forward", cross_entropy_forward},
  {"layernorm_backward", layernorm_backward},
  {"layernorm_forward", layernorm_forward},
  {"log_softmax_backward", log_softmax_backward},
  {"log_softmax_forward", log_softmax_forward},
  {"maxpool2d_backward", maxpool2d_backward},
  {"maxpool2d_forward", maxpool2d_forward},
  {"nll_backward", nll_backward},
  {"nll_forward", nll_forward},
  {"softmax_backward", softmax_backward},
  {"softmax_forward", softmax_forward},
  {NULL, NULL}
};

void em_lua_open_nn(lua_State *L, int module, int methods) {
  (void)methods;
  lua_newtable(L);
  em_lua_setfuncs(L, nnops);
  lua_setfield(L, module, "nnops");
}
