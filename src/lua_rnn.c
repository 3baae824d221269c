/* Binding for the rnn family (placeholder until the family lands). */
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"

void em_lua_open_rnn(lua_State *L, int module, int methods) {
  (void)L; (void)module; (void)methods;
}
