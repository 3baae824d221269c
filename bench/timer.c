/* bench_timer: a monotonic wall clock for the benchmarks (stock Lua has none finer than
 * a second). Built by bench/run.lua into the build folder; not part of the engine. */
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

int luaopen_bench_timer(lua_State *L);

/* now() -> seconds since an arbitrary origin, as a float */
static int timer_now(lua_State *L) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  lua_pushnumber(L, (lua_Number)t.tv_sec + 1e-9 * (lua_Number)t.tv_nsec);
  return 1;
}

int luaopen_bench_timer(lua_State *L) {
  static const luaL_Reg funcs[] = {{"now", timer_now}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
