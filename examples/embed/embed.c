/* A game-loop host for Ember: it owns its lua_State, runs a policy script that builds
 * a 64-64-4 MLP (policy.lua), and on every frame writes an observation straight into
 * the policy's input tensor, calls its step function and reads the action from the
 * output tensor's memory. It prints the per-frame latency (observation in to action
 * out: median and p99) and checks the actions against the same MLP computed in C.
 *
 *   embed [-L lua_dir] [-n frames] [script.lua]
 * lua_dir holds Ember's Lua files (default: $EMBER_LUA_DIR, else ./lua); the script
 * defaults to examples/embed/policy.lua. Exit status 0 when the actions match. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ember_host.h"

#define OBS 64
#define HIDDEN 64
#define ACTIONS 4
#define WARMUP_FRAMES 1000

/* The policy as the host sees it: pointers into tensor memory and the step function. */
typedef struct policy {
  float *obs;        /* (OBS), the input tensor's memory */
  float *action;     /* (ACTIONS), the output tensor's memory */
  int step_ref;      /* registry reference to step() */
  float w1[HIDDEN * OBS], b1[HIDDEN], w2[ACTIONS * HIDDEN], b2[ACTIONS];   /* for the check */
} policy;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int fail(lua_State *L, const char *what) {
  fprintf(stderr, "embed: %s: %s\n", what, lua_isstring(L, -1) ? lua_tostring(L, -1) : em_host_error());
  lua_close(L);
  return 1;
}

/* Reads field `name` of the table at idx as n floats into dst. */
static int read_param(lua_State *L, int idx, const char *name, float *dst, int64_t n) {
  lua_getfield(L, idx, name);
  int st = em_host_read_floats(L, -1, dst, n);
  lua_pop(L, 1);
  if (st != 0) fprintf(stderr, "embed: params.%s: %s\n", name, em_host_error());
  return st;
}

/* Loads the script (its return value is the policy table) and fills p. */
static int load_policy(lua_State *L, const char *script, policy *p) {
  if (luaL_loadfile(L, script) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) return -1;
  if (!lua_istable(L, -1)) { lua_pushstring(L, "the script must return the policy table"); return -1; }
  int t = lua_gettop(L);
  lua_getfield(L, t, "obs");
  lua_getfield(L, t, "action");
  int64_t nobs = 0, nact = 0;
  p->obs = em_host_floats(L, -2, &nobs);
  p->action = em_host_floats(L, -1, &nact);
  lua_pop(L, 2);
  if (!p->obs || !p->action || nobs != OBS || nact != ACTIONS) {
    lua_pushfstring(L, "obs and action must be float32 tensors of %d and %d elements (%s)", OBS, ACTIONS, em_host_error());
    return -1;
  }
  lua_getfield(L, t, "params");
  int pt = lua_gettop(L);
  if (read_param(L, pt, "W1", p->w1, HIDDEN * OBS) || read_param(L, pt, "b1", p->b1, HIDDEN) ||
      read_param(L, pt, "W2", p->w2, ACTIONS * HIDDEN) || read_param(L, pt, "b2", p->b2, ACTIONS)) {
    lua_pushliteral(L, "cannot read the parameters");
    return -1;
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "step");
  p->step_ref = luaL_ref(L, LUA_REGISTRYINDEX);   /* keeps the policy's closure alive */
  lua_setfield(L, LUA_REGISTRYINDEX, "embed.policy");   /* and its tensors */
  return 0;
}

/* The same forward pass in plain C: obs (OBS) -> action (ACTIONS). */
static void reference_forward(const policy *p, const float *obs, float *action) {
  float h[HIDDEN];
  for (int i = 0; i < HIDDEN; i++) {
    float s = p->b1[i];
    for (int j = 0; j < OBS; j++) s += p->w1[i * OBS + j] * obs[j];
    h[i] = s > 0 ? s : 0;
  }
  for (int i = 0; i < ACTIONS; i++) {
    float s = p->b2[i];
    for (int j = 0; j < HIDDEN; j++) s += p->w2[i * HIDDEN + j] * h[j];
    action[i] = s;
  }
}

/* A made-up observation for frame f. */
static void observe(long f, float *obs) {
  for (int i = 0; i < OBS; i++) obs[i] = sinf(0.01f * (float)f + 0.37f * (float)i);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const char *lua_dir = getenv("EMBER_LUA_DIR") ? getenv("EMBER_LUA_DIR") : "lua";
  const char *script = "examples/embed/policy.lua";
  long frames = 20000;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-L") == 0 && i + 1 < argc) lua_dir = argv[++i];
    else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) frames = atol(argv[++i]);
    else script = argv[i];
  }
  if (frames < 1) frames = 1;

  lua_State *L = luaL_newstate();
  if (!L) { fprintf(stderr, "embed: cannot create a Lua state\n"); return 1; }
  luaL_openlibs(L);
  if (em_host_open(L, lua_dir) != 0) return fail(L, "opening Ember");
  static policy p;
  if (load_policy(L, script, &p) != 0) return fail(L, script);

  double *lat = malloc(sizeof *lat * (size_t)frames);
  float obs[OBS], action[ACTIONS], expect[ACTIONS];
  double maxdiff = 0, checksum = 0;
  for (long f = -WARMUP_FRAMES; f < frames; f++) {
    observe(f, obs);                           /* the game produces an observation */
    double t0 = now_us();
    memcpy(p.obs, obs, sizeof obs);            /* in: straight into the tensor */
    lua_rawgeti(L, LUA_REGISTRYINDEX, p.step_ref);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) return fail(L, "step");
    memcpy(action, p.action, sizeof action);   /* out: straight from the tensor */
    double t1 = now_us();
    if (f < 0) continue;
    lat[f] = t1 - t0;
    int best = 0;                              /* the game acts on the argmax */
    for (int i = 1; i < ACTIONS; i++) if (action[i] > action[best]) best = i;
    checksum += best;
    if (f % 97 == 0) {                         /* spot checks against plain C */
      reference_forward(&p, obs, expect);
      for (int i = 0; i < ACTIONS; i++) maxdiff = fmax(maxdiff, fabs((double)action[i] - expect[i]));
    }
  }
  qsort(lat, (size_t)frames, sizeof *lat, cmp_double);
  printf("frames %ld  median %.2f us  p99 %.2f us  (64-64-4 MLP, C -> Lua -> C)\n", frames,
         lat[frames / 2], lat[(long)(frames * 0.99)]);
  printf("actions match the C reference: max |diff| %.3g  (argmax sum %.0f)\n", maxdiff, checksum);
  free(lat);
  luaL_unref(L, LUA_REGISTRYINDEX, p.step_ref);
  lua_close(L);
  return maxdiff < 1e-4 ? 0 : 1;
}
