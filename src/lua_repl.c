/* A plain read-eval-print loop (line editing arrives with the REPL work): expressions
 * print their values, statements run, incomplete input continues on the next line. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_repl.h"

static int incomplete(lua_State *L, int status) {
  if (status != LUA_ERRSYNTAX) return 0;
  const char *msg = lua_tostring(L, -1);
  size_t n = strlen(msg), k = sizeof("<eof>") - 1;
  return n >= k && strcmp(msg + n - k, "<eof>") == 0;
}

static void print_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n == 0) return;
  lua_getglobal(L, "print");
  lua_insert(L, base + 1);
  ember_docall(L, n, 0);
}

void ember_repl(lua_State *L) {
  char line[4096];
  lua_pushliteral(L, "");
  int pending = lua_gettop(L);
  for (;;) {
    fputs(lua_rawlen(L, pending) ? ">> " : "> ", stdout);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) break;
    lua_pushvalue(L, pending);
    lua_pushstring(L, line);
    lua_concat(L, 2);
    lua_replace(L, pending);
    size_t len;
    const char *code = lua_tolstring(L, pending, &len);
    int base = lua_gettop(L);
    lua_pushfstring(L, "return %s", code);
    int status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin");
    lua_remove(L, -2);
    if (status != LUA_OK) {
      lua_pop(L, 1);
      status = luaL_loadbuffer(L, code, len, "=stdin");
    }
    if (incomplete(L, status)) { lua_pop(L, 1); continue; }
    lua_pushliteral(L, "");
    lua_replace(L, pending);
    if (status != LUA_OK) {
      fprintf(stderr, "%s\n", lua_tostring(L, -1));
      lua_pop(L, 1);
      continue;
    }
    if (ember_docall(L, 0, LUA_MULTRET) == LUA_OK) print_results(L, base);
    lua_settop(L, base);
  }
  fputs("\n", stdout);
  lua_pop(L, 1);
}
