/* The file-system calls behind Torch7's `paths` package (lua/paths/init.lua) that
 * plain Lua lacks: the working directory, directory listings, stat and mkdir/rmdir.
 * POSIX only. Registered as ember.core.fs; the Lua module builds the rest. */
#include <errno.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"

/* The expected-failure tier: nil, "path: reason", errno. */
static int push_failure(lua_State *L, const char *path) {
  int en = errno;
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", path, strerror(en));
  lua_pushinteger(L, en);
  return 3;
}

/* cwd() -> the absolute working directory, or nil, message, errno. */
static int l_cwd(lua_State *L) {
  char *s = getcwd(NULL, 0);   /* glibc allocates a buffer of the right size */
  if (!s) return push_failure(L, ".");
  lua_pushstring(L, s);
  free(s);
  return 1;
}

/* kind(path) -> 'file', 'directory', 'other', or nil when stat fails (follows links). */
static int l_kind(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  lua_pushstring(L, S_ISDIR(st.st_mode) ? "directory" : S_ISREG(st.st_mode) ? "file" : "other");
  return 1;
}

/* dir(path) -> a table of the entry names ('.' and '..' included, readdir's order), or
 * nil, message, errno when it cannot be opened. The names are collected into the table
 * as they are read; an error while pushing (out of memory) would leak the DIR, so the
 * table is created first and the stack kept small. */
static int l_dir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_newtable(L);
  DIR *d = opendir(path);
  if (!d) return push_failure(L, path);
  lua_Integer n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, -2, ++n);
  }
  closedir(d);
  return 1;
}

/* mkdir(path) -> true, or nil, message, errno (mode 0777 less the umask; no parents). */
static int l_mkdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (mkdir(path, 0777) != 0) return push_failure(L, path);
  lua_pushboolean(L, 1);
  return 1;
}

/* rmdir(path) -> true, or nil, message, errno (the directory must be empty). */
static int l_rmdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (rmdir(path) != 0) return push_failure(L, path);
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg paths_funcs[] = {
  {"cwd", l_cwd},
  {"dir", l_dir},
  {"kind", l_kind},
  {"mkdir", l_mkdir},
  {"rmdir", l_rmdir},
  {NULL, NULL}
};

void em_lua_open_paths(lua_State *L, int module, int methods) {
  (void)methods;
  lua_newtable(L);
  em_lua_setfuncs(L, paths_funcs);
  lua_setfield(L, module, "fs");
}
