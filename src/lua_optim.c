/* Binding for the optim family: the fused updates as torch._optim.*, called by
 * the lua/optim modules (which own the config tables, defaults, schedules and state).
 * Arguments are positional; each function updates x and its state in place and
 * returns x:
 *
 *   sgd_step(x, g, buf|nil, lr, momentum, dampening, weightDecay, nesterov, first)
 *   adam_step(x, g, m, v, lr, beta1, beta2, epsilon, weightDecay, step, decoupled)
 *   rmsprop_step(x, g, sq, lr, alpha, epsilon, weightDecay)
 *   adagrad_step(x, g, sum, lr, epsilon, weightDecay)
 *   adadelta_step(x, g, sq, acc, lr, rho, epsilon, weightDecay)
 *
 * x, g and the state tensors are contiguous float32/float64 vectors of one length
 * (optim.h); lr is this step's learning rate after decay; step counts from 1. */
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"
#include "optim.h"

static int sgd_step(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 1), *g = em_lua_checktensor(L, 2);
  em_tensor *buf = lua_isnoneornil(L, 3) ? NULL : em_lua_checktensor(L, 3);
  em_sgd_options o = {
    .lr = luaL_checknumber(L, 4),
    .momentum = luaL_optnumber(L, 5, 0),
    .dampening = luaL_optnumber(L, 6, 0),
    .weight_decay = luaL_optnumber(L, 7, 0),
    .nesterov = lua_toboolean(L, 8),
    .first = lua_toboolean(L, 9),
  };
  em_lua_check(L, em_optim_sgd(x, g, buf, &o));
  lua_settop(L, 1);
  return 1;
}

static int adam_step(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 1), *g = em_lua_checktensor(L, 2);
  em_tensor *m = em_lua_checktensor(L, 3), *v = em_lua_checktensor(L, 4);
  em_adam_options o = {
    .lr = luaL_checknumber(L, 5),
    .beta1 = luaL_checknumber(L, 6),
    .beta2 = luaL_checknumber(L, 7),
    .eps = luaL_checknumber(L, 8),
    .weight_decay = luaL_optnumber(L, 9, 0),
    .step = luaL_checkinteger(L, 10),
    .decoupled = lua_toboolean(L, 11),
  };
  em_lua_check(L, em_optim_adam(x, g, m, v, &o));
  lua_settop(L, 1);
  return 1;
}

static int rmsprop_step(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 1), *g = em_lua_checktensor(L, 2);
  em_tensor *sq = em_lua_checktensor(L, 3);
  em_rmsprop_options o = {
    .lr = luaL_checknumber(L, 4),
    .alpha = luaL_checknumber(L, 5),
    .eps = luaL_checknumber(L, 6),
    .weight_decay = luaL_optnumber(L, 7, 0),
  };
  em_lua_check(L, em_optim_rmsprop(x, g, sq, &o));
  lua_settop(L, 1);
  return 1;
}

static int adagrad_step(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 1), *g = em_lua_checktensor(L, 2);
  em_tensor *sum = em_lua_checktensor(L, 3);
  em_adagrad_options o = {
    .lr = luaL_checknumber(L, 4),
    .eps = luaL_checknumber(L, 5),
    .weight_decay = luaL_optnumber(L, 6, 0),
  };
  em_lua_check(L, em_optim_adagrad(x, g, sum, &o));
  lua_settop(L, 1);
  return 1;
}

static int adadelta_step(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 1), *g = em_lua_checktensor(L, 2);
  em_tensor *sq = em_lua_checktensor(L, 3), *acc = em_lua_checktensor(L, 4);
  em_adadelta_options o = {
    .lr = luaL_checknumber(L, 5),
    .rho = luaL_checknumber(L, 6),
    .eps = luaL_checknumber(L, 7),
    .weight_decay = luaL_optnumber(L, 8, 0),
  };
  em_lua_check(L, em_optim_adadelta(x, g, sq, acc, &o));
  lua_settop(L, 1);
  return 1;
}

static const luaL_Reg functions[] = {
  {"adadelta_step", adadelta_step},
  {"adagrad_step", adagrad_step},
  {"adam_step", adam_step},
  {"rmsprop_step", rmsprop_step},
  {"sgd_step", sgd_step},
  {NULL, NULL}
};

void em_lua_open_optim(lua_State *L, int module, int methods) {
  (void)methods;
  lua_newtable(L);
  em_lua_setfuncs(L, functions);
  lua_setfield(L, module, "_optim");
}
