/* A host that gives Lua a memory-limited allocator (lua_newstate(alloc, ud)): tensor
 * memory comes from it too, and a refused tensor allocation must be a Lua error the
 * host catches, never a crash; the state stays usable and lua_close returns every byte.
 *   host_memlimit [-L lua_dir]      prints one line per check; exit status 0 on success */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ember_host.h"

#define LIMIT (64u << 20)   /* bytes */

typedef struct budget {
  size_t used, limit;
} budget;

/* A lua_Alloc that refuses to go past b->limit. */
static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  budget *b = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    b->used -= old;
    return NULL;
  }
  if (nsize > old && b->used + (nsize - old) > b->limit) return NULL;
  void *p = realloc(ptr, nsize);
  if (p) b->used = b->used - old + nsize;
  return p;
}

static int failures;

static void check(int ok, const char *what, const char *detail) {
  printf("%s: %s%s%s\n", ok ? "ok" : "FAILED", what, detail ? " -- " : "", detail ? detail : "");
  if (!ok) failures++;
}

/* Runs code; returns the Lua status, leaving one result (or the message) on the stack. */
static int run(lua_State *L, const char *code) {
  int st = luaL_loadstring(L, code);
  if (st == LUA_OK) st = lua_pcall(L, 0, 1, 0);
  return st;
}

static void exercise(lua_State *L, budget *b) {
  /* caught inside Lua */
  run(L, "local ok, err = pcall(torch.zeros, 100000, 100000) return ok and 'no error' or err");
  check(strstr(lua_tostring(L, -1), "out of memory") != NULL, "pcall(torch.zeros(1e5, 1e5)) fails", lua_tostring(L, -1));
  lua_pop(L, 1);
  /* raised to the host */
  int st = run(L, "local x = torch.ones(20000, 20000) return x:sum()");
  check(st != LUA_OK && strstr(lua_tostring(L, -1), "out of memory"), "lua_pcall of a 1.6 GB tensor returns an error",
        lua_tostring(L, -1));
  lua_pop(L, 1);
  /* the host API reports it without raising */
  static float big[1];
  int64_t size[2] = {20000, 20000};
  int top = lua_gettop(L);
  check(em_host_push_floats(L, big, 2, size) == -1 && lua_gettop(L) == top &&
        strstr(em_host_error(), "out of memory"), "em_host_push_floats of 1.6 GB returns -1", em_host_error());
  /* still usable; dropped tensors are collected before the limit refuses new ones */
  st = run(L, "for i = 1, 100 do local x = torch.zeros(1000, 1000) end return torch.ones(10):sum()");
  check(st == LUA_OK && lua_tonumber(L, -1) == 10, "the state still works: 400 MB of 4 MB tensors under a 64 MB limit",
        st == LUA_OK ? NULL : lua_tostring(L, -1));
  lua_pop(L, 1);
  check(b->used <= b->limit, "usage stayed under the limit", NULL);
}

int main(int argc, char **argv) {
  const char *lua_dir = argc > 2 && strcmp(argv[1], "-L") == 0 ? argv[2] : "lua";
  for (int lazy = 0; lazy <= 1; lazy++) {
    budget b = {0, LIMIT};
    lua_State *L = lua_newstate(limited_alloc, &b);
    luaL_openlibs(L);
    printf("-- %s opening\n", lazy ? "lazy (package.preload)" : "eager (em_host_open)");
    int st = lazy ? em_host_preload(L, lua_dir) || run(L, "torch = require 'torch'") : em_host_open(L, lua_dir);
    if (lazy && st == LUA_OK) lua_pop(L, 1);
    check(st == LUA_OK, "the engine opens", st == LUA_OK ? NULL : lua_tostring(L, -1));
    if (st == LUA_OK) exercise(L, &b);
    lua_close(L);
    char used[64];
    snprintf(used, sizeof used, "%zu bytes left", b.used);
    check(b.used == 0, "lua_close returns every byte", used);
  }
  return failures ? 1 : 0;
}
