/* luaopen_ember_core: the C module that stock lua5.4 loads as `ember.core` (it never
 * links liblua) and that the ember executable preloads. Lua code in lua/ember builds
 * the public `ember` / `torch` API on top of it. */
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"
#include "parallel.h"

#define EM_CONTEXT_KEY "ember.context"

static int open_all(lua_State *L) {
  lua_newtable(L);                        /* module */
  int module = lua_gettop(L);
  lua_newtable(L);                        /* tensor methods */
  int methods = lua_gettop(L);
  em_lua_open_tensor(L, module, methods);
  em_lua_open_math(L, module, methods);
  em_lua_open_reduce(L, module, methods);
  em_lua_open_index(L, module, methods);
  em_lua_open_linalg(L, module, methods);
  em_lua_open_random(L, module, methods);
  em_lua_open_create(L, module, methods);
  em_lua_open_nn(L, module, methods);
  em_lua_open_optim(L, module, methods);
  em_lua_open_rnn(L, module, methods);
  em_lua_open_attention(L, module, methods);
  em_lua_open_data(L, module, methods);
  em_lua_open_serialize(L, module, methods);
  em_lua_open_signal(L, module, methods);
  em_lua_open_paths(L, module, methods);
  em_lua_open_act(L, module, methods);
  em_lua_open_cuda(L, module, methods);   /* last: it replaces x:type() */
  lua_pushvalue(L, methods);
  lua_setfield(L, module, "methods");
  lua_pushvalue(L, EM_UPV_MT);
  lua_setfield(L, module, "metatable");
  lua_pushvalue(L, module);
  return 1;
}

int luaopen_ember_core(lua_State *L);

int luaopen_ember_core(lua_State *L) {
  /* one context per Lua state: Lua's allocator (so host memory limits apply to tensors)
   * and this state's generator. It is a userdata without __gc, anchored in the
   * registry, so it outlives every tensor finalised at lua_close. */
  if (lua_getfield(L, LUA_REGISTRYINDEX, EM_CONTEXT_KEY) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    em_context *ctx = lua_newuserdatauv(L, sizeof *ctx, 0);
    void *ud;
    lua_Alloc f = lua_getallocf(L, &ud);
    em_context_init(ctx, (em_allocf)f, ud);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, EM_CONTEXT_KEY);
  }
  luaL_newmetatable(L, EM_TENSOR_MT);
  lua_pushcclosure(L, open_all, 2);
  lua_call(L, 0, 1);
  return 1;
}
