/* Binding for the fused activation kernels (act.h): `torch.actops`. Each function
 * returns true when it computed its result, false when the operands need the plain
 * path (the caller then composes ordinary element-wise ops). */
#include <lauxlib.h>
#include <lua.h>

#include "act.h"
#include "lua_ember.h"

/* threshold_forward(out, x, threshold, value) */
static int threshold_forward(lua_State *L) {
  em_tensor *out = em_lua_checktensor(L, 1), *x = em_lua_checktensor(L, 2);
  double th = luaL_checknumber(L, 3), v = luaL_checknumber(L, 4);
  int ok = em_act_fusable(out, x, NULL);
  if (ok) em_act_threshold_forward(out, x, th, v);
  lua_pushboolean(L, ok);
  return 1;
}

/* threshold_backward(gradInput, gradOutput, x, threshold) */
static int threshold_backward(lua_State *L) {
  em_tensor *gi = em_lua_checktensor(L, 1), *go = em_lua_checktensor(L, 2);
  em_tensor *x = em_lua_checktensor(L, 3);
  double th = luaL_checknumber(L, 4);
  int ok = em_act_fusable(gi, x, go);
  if (ok) em_act_threshold_backward(gi, go, x, th);
  lua_pushboolean(L, ok);
  return 1;
}

/* tanh_backward(gradInput, gradOutput, y) and sigmoid_backward(...) */
static int output_backward(lua_State *L, void (*fn)(em_tensor *, const em_tensor *, const em_tensor *)) {
  em_tensor *gi = em_lua_checktensor(L, 1), *go = em_lua_checktensor(L, 2);
  em_tensor *y = em_lua_checktensor(L, 3);
  int ok = em_act_fusable(gi, y, go);
  if (ok) fn(gi, go, y);
  lua_pushboolean(L, ok);
  return 1;
}

static int tanh_backward(lua_State *L) { return output_backward(L, em_act_tanh_backward); }
static int sigmoid_backward(lua_State *L) { return output_backward(L, em_act_sigmoid_backward); }

static const luaL_Reg actops[] = {
  {"sigmoid_backward", sigmoid_backward},
  {"tanh_backward", tanh_backward},
  {"threshold_backward", threshold_backward},
  {"threshold_forward", threshold_forward},
  {NULL, NULL}
};

void em_lua_open_act(lua_State *L, int module, int methods) {
  (void)methods;
  lua_newtable(L);
  em_lua_setfuncs(L, actops);
  lua_setfield(L, module, "actops");
}
