/* Binding for the attention family (placeholder until the family lands). */
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"

void em_lua_open_attention(lua_State *L, int module, int methods) {
  (void)L; (void)module; (void)methods;
}
