/* Several host threads, each with its own lua_State, run the engine at once: every
 * thread's results must equal a single-threaded run with the same seed (no shared
 * generator, allocator or error message), and errors must name their own thread's op.
 *   host_threads [-L lua_dir] [threads] [iterations]      exit status 0 on success */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ember_host.h"

#define MAX_THREADS 64

/* Seeded tensor work; returns a checksum and the message of a failing mm whose sizes
 * depend on the seed. */
static const char *SCRIPT =
  "local seed, iters = ...\n"
  "torch.manualSeed(seed)\n"
  "local acc = 0\n"
  "for i = 1, iters do\n"
  "  local a, b = torch.randn(24, 32), torch.rand(32, 16)\n"
  "  acc = acc + torch.mm(a, b):add(1):sum() + torch.randperm(10)[1]\n"
  "  collectgarbage('step')\n"
  "end\n"
  "local ok, err = pcall(torch.mm, torch.zeros(seed, 3), torch.zeros(4, 5))\n"
  "return acc, tostring(err)\n";

typedef struct job {
  const char *lua_dir;
  int seed, iters;
  double checksum;
  char error[256];   /* the mm error message */
  int failed;
} job;

static void *run(void *arg) {
  job *j = arg;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  if (em_host_open(L, j->lua_dir) != 0 || luaL_loadstring(L, SCRIPT) != LUA_OK) goto fail;
  lua_pushinteger(L, j->seed);
  lua_pushinteger(L, j->iters);
  if (lua_pcall(L, 2, 2, 0) != LUA_OK) goto fail;
  j->checksum = lua_tonumber(L, -2);
  snprintf(j->error, sizeof j->error, "%s", lua_tostring(L, -1));
  lua_close(L);
  return NULL;
fail:
  fprintf(stderr, "host_threads: seed %d: %s\n", j->seed, lua_tostring(L, -1));
  j->failed = 1;
  lua_close(L);
  return NULL;
}

int main(int argc, char **argv) {
  const char *lua_dir = getenv("EMBER_LUA_DIR") ? getenv("EMBER_LUA_DIR") : "lua";
  int argi = 1;
  if (argc > 2 && strcmp(argv[1], "-L") == 0) { lua_dir = argv[2]; argi = 3; }
  int n = argc > argi ? atoi(argv[argi]) : 8;
  int iters = argc > argi + 1 ? atoi(argv[argi + 1]) : 100;
  if (n < 1 || n > MAX_THREADS) n = 8;

  static job alone[MAX_THREADS], together[MAX_THREADS];
  for (int i = 0; i < n; i++) {   /* the reference: one at a time */
    alone[i] = (job){lua_dir, i + 1, iters, 0, "", 0};
    run(&alone[i]);
  }
  pthread_t tid[MAX_THREADS];
  for (int i = 0; i < n; i++) {
    together[i] = (job){lua_dir, i + 1, iters, 0, "", 0};
    pthread_create(&tid[i], NULL, run, &together[i]);
  }
  for (int i = 0; i < n; i++) pthread_join(tid[i], NULL);

  int bad = 0;
  for (int i = 0; i < n; i++) {
    char want[32];
    snprintf(want, sizeof want, "%dx3", i + 1);
    int ok = !alone[i].failed && !together[i].failed && alone[i].checksum == together[i].checksum &&
             strcmp(alone[i].error, together[i].error) == 0 && strstr(together[i].error, want);
    if (i > 0 && alone[i].checksum == alone[0].checksum) ok = 0;   /* seeds must matter */
    if (!ok) {
      bad++;
      fprintf(stderr, "thread %d: alone %.17g \"%s\", together %.17g \"%s\"\n", i, alone[i].checksum,
              alone[i].error, together[i].checksum, together[i].error);
    }
  }
  printf("%d threads x %d iterations: %s\n", n, iters, bad ? "MISMATCH" : "all match the single-threaded runs");
  return bad ? 1 : 0;
}
