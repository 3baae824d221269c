/* Ctrl-C as a flag, isatty and a wall clock: the process facts a training loop needs
 * that plain Lua cannot get (os.clock is CPU time, os.time whole seconds). torch.catchInterrupt(true) makes SIGINT set a flag instead of
 * stopping the script; the loop polls torch.interrupted() between batches, saves and
 * returns; torch.catchInterrupt(false) puts the previous handler back. Works the same
 * under the `ember` executable and stock lua5.4 (both install their own handler while
 * a chunk runs; it is saved and restored here). The flag is per process. */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_ember.h"

static volatile sig_atomic_t interrupted;   /* a SIGINT arrived since the last poll */
static int catching;                        /* our handler is installed */
static struct sigaction previous;           /* the handler it replaced */

/* First Ctrl-C: set the flag. A second one before the loop has polled means the user
 * insists: the previous handler is put back and the signal delivered to it (on return
 * from this handler, since SIGINT is blocked while it runs). */
static void on_sigint(int sig) {
  if (interrupted) {
    sigaction(SIGINT, &previous, NULL);
    catching = 0;
    raise(sig);
    return;
  }
  interrupted = 1;
}

/* torch.catchInterrupt(on) -> whether it was catching before. on = true installs the
 * flag-setting handler (idempotent) and clears the flag; false restores the handler
 * that was there before. */
static int l_catch_interrupt(lua_State *L) {
  int on = lua_toboolean(L, 1);
  lua_pushboolean(L, catching);
  if (on && !catching) {
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    if (sigaction(SIGINT, &sa, &previous) != 0) return luaL_error(L, "catchInterrupt: sigaction failed");
    catching = 1;
  } else if (!on && catching) {
    sigaction(SIGINT, &previous, NULL);
    catching = 0;
  }
  return 1;
}

/* torch.interrupted() -> true once per SIGINT caught since the last call (the flag is
 * read and cleared). */
static int l_interrupted(lua_State *L) {
  lua_pushboolean(L, interrupted != 0);
  interrupted = 0;
  return 1;
}

/* torch._raiseInterrupt(): sets the flag as a caught SIGINT would (for tests). */
static int l_raise_interrupt(lua_State *L) {
  (void)L;
  interrupted = 1;
  return 0;
}

/* torch.isatty(f) -> whether f is a terminal; f is a file descriptor (1 = stdout) or
 * a Lua file handle (io.stdout). */
static int l_isatty(lua_State *L) {
  int fd;
  luaL_Stream *s = luaL_testudata(L, 1, LUA_FILEHANDLE);
  if (s) {
    luaL_argcheck(L, s->closef != NULL && s->f != NULL, 1, "closed file");
    fd = fileno(s->f);
  } else {
    fd = (int)luaL_checkinteger(L, 1);
  }
  lua_pushboolean(L, fd >= 0 && isatty(fd));
  return 1;
}

/* torch.clock() -> seconds (float) on the monotonic clock, from an arbitrary start:
 * differences measure wall time. */
static int l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

static const luaL_Reg signal_funcs[] = {
  {"_raiseInterrupt", l_raise_interrupt},
  {"catchInterrupt", l_catch_interrupt},
  {"clock", l_clock},
  {"interrupted", l_interrupted},
  {"isatty", l_isatty},
  {NULL, NULL}
};

void em_lua_open_signal(lua_State *L, int module, int methods) {
  (void)methods;
  lua_pushvalue(L, module);
  em_lua_setfuncs(L, signal_funcs);
  lua_pop(L, 1);
}
