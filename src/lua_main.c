/* The `ember` executable: a Lua 5.4 interpreter (linked in whole, its API exported)
 * that loads the engine as stock lua5.4 does, `ember.core` through package.cpath.
 *   ember script.lua args...   run a script (arg table as in lua5.4)
 *   ember -e 'code'            run a string
 *   ember -i [script]          interactive after the script
 *   ember                      the REPL (lua_repl.c); with stdin not a terminal,
 *                              stdin runs as a script (as lua5.4 does)
 * package.path and package.cpath find Ember's files next to the binary (lua/ in the
 * build tree; share/lua/5.4 and lib/lua/5.4 when installed). Ctrl-C interrupts
 * running Lua code with an "interrupted!" error, as in lua.c. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_repl.h"

static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* --- Ctrl-C while Lua runs (the scheme of lua.c) ---
 * The handler cannot raise an error itself; it sets a hook on the running state that
 * raises "interrupted!" at the next call, return, line or instruction count. */
static lua_State *running_L;   /* the state ember_docall is running, for the handler */

static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

static void on_interrupt(int sig) {
  signal(sig, SIG_DFL);   /* a second Ctrl-C before the hook runs ends the process */
  lua_sethook(running_L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* Calls the function below nargs arguments with a traceback handler; prints errors.
 * Ctrl-C during the call raises "interrupted!" inside it. */
int ember_docall(lua_State *L, int nargs, int nres) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  struct sigaction on = {0}, old;
  on.sa_handler = on_interrupt;
  sigemptyset(&on.sa_mask);
  running_L = L;
  sigaction(SIGINT, &on, &old);
  int status = lua_pcall(L, nargs, nres, base);
  sigaction(SIGINT, &old, NULL);
  if (lua_gethook(L) == stop_hook) lua_sethook(L, NULL, 0, 0);   /* Ctrl-C came too late */
  lua_remove(L, base);
  if (status != LUA_OK) {
    fprintf(stderr, "ember: %s\n", lua_tostring(L, -1));
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

/* Prepends Ember's Lua directories (relative to the executable) to package.path, and
 * its C module folders (build/lua, or lib/lua/5.4 when installed) to package.cpath. */
static void set_paths(lua_State *L) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash) return;
  *slash = 0;                                   /* exe is now the binary's folder */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  const char *old = lua_tostring(L, -1);
  lua_pushfstring(L, "%s/../lua/?.lua;%s/../lua/?/init.lua;%s/../share/lua/5.4/?.lua;"
                     "%s/../share/lua/5.4/?/init.lua;%s",
                  exe, exe, exe, exe, old ? old : "");
  lua_setfield(L, -3, "path");
  lua_pop(L, 1);
  lua_getfield(L, -1, "cpath");                 /* C modules: ember/cuda.so (the GPU plugin) */
  old = lua_tostring(L, -1);
  lua_pushfstring(L, "%s/lua/?.so;%s/../lib/lua/5.4/?.so;%s", exe, exe, old ? old : "");
  lua_setfield(L, -3, "cpath");
  lua_pop(L, 2);
}

static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int run_script(lua_State *L, const char *path, char **argv, int argc, int script) {
  if (luaL_loadfile(L, strcmp(path, "-") == 0 ? NULL : path) != LUA_OK) {
    fprintf(stderr, "ember: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return LUA_ERRFILE;
  }
  int nargs = argc - script - 1;
  luaL_checkstack(L, nargs, "too many arguments to script");
  for (int i = script + 1; i < argc; i++) lua_pushstring(L, argv[i]);
  return ember_docall(L, nargs, 0);
}

static int run_string(lua_State *L, const char *code) {
  if (luaL_loadbuffer(L, code, strlen(code), "=(command line)") != LUA_OK) {
    fprintf(stderr, "ember: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return LUA_ERRSYNTAX;
  }
  return ember_docall(L, 0, 0);
}

static void usage(void) {
  fprintf(stderr, "usage: ember [options] [script [args]]\n"
                  "  -e code   run code\n"
                  "  -i        enter the REPL after running the script\n"
                  "  -v        show version\n"
                  "  --        stop handling options\n"
                  "  -         run stdin\n");
}

/* Idle OpenMP threads sleep instead of spinning, unless the user chose a policy: on a
 * machine with other work, spinning threads starved the busy ones (W2 ran 3-8x slower,
 * bench/README.md). libgomp reads its environment once, when it is loaded: with the
 * engine loaded by `require` (core.so brings libgomp and OpenBLAS), setting it here,
 * first thing, is in time. (When the engine was linked in, this took a re-execution,
 * which doubled the start-up.) */
static void prefer_passive_wait(void) {
  if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
}

int main(int argc, char **argv) {
  prefer_passive_wait();
  lua_State *L = luaL_newstate();
  if (!L) { fprintf(stderr, "ember: cannot create a Lua state\n"); return 1; }
  luaL_openlibs(L);
  set_paths(L);
  int interactive = 0, script = 0, status = LUA_OK, ran = 0;
  for (int i = 1; i < argc && !script; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) { if (i + 1 < argc) script = i + 1; break; }
    else if (strcmp(a, "-") == 0) { script = i; }
    else if (strcmp(a, "-i") == 0) { interactive = 1; }
    else if (strcmp(a, "-v") == 0) { printf("Ember 0.1 (%s)\n", LUA_RELEASE); ran = 1; }
    else if (strcmp(a, "-e") == 0) {
      if (++i >= argc) { usage(); lua_close(L); return 1; }
    } else if (a[0] == '-') { usage(); lua_close(L); return 1; }
    else script = i;
  }
  create_arg_table(L, argv, argc, script);
  for (int i = 1; i < argc && (script == 0 || i < script) && status == LUA_OK; i++) {
    if (strcmp(argv[i], "-e") == 0) { status = run_string(L, argv[++i]); ran = 1; }
  }
  if (status == LUA_OK && script) { status = run_script(L, argv[script], argv, argc, script); ran = 1; }
  if (status == LUA_OK && (interactive || !ran)) {
    if (interactive || isatty(STDIN_FILENO)) ember_repl(L);
    else status = run_script(L, "-", argv, argc, argc - 1);
  }
  lua_close(L);
  return status == LUA_OK ? 0 : 1;
}
