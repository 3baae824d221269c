/* Binding for indexing by tensors (placeholder until the family lands). */
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"

void em_lua_open_index(lua_State *L, int module, int methods) {
  (void)L; (void)module; (void)methods;
}

int em_lua_index_get_tensor(lua_State *L, em_tensor *t, em_tensor *key) {
  (void)t; (void)key;
  return luaL_error(L, "index: tensor keys are not supported yet");
}

void em_lua_index_set_tensor(lua_State *L, em_tensor *t, em_tensor *key, int value_idx) {
  (void)t; (void)key; (void)value_idx;
  luaL_error(L, "index: tensor keys are not supported yet");
}
