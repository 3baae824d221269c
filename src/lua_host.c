/* The embedding API of ember_host.h: opening the engine in a host's lua_State and
 * moving float buffers in and out of tensors. Nothing here raises a Lua error into
 * the host: work that can raise runs under lua_pcall. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "backend.h"
#include "ember_host.h"
#include "lua_ember.h"

/* The tensor at idx, or NULL with a message recorded. */
static em_tensor *host_tensor(lua_State *L, int idx, const char *what) {
  em_tensor *t = luaL_testudata(L, idx, EM_TENSOR_MT);
  if (!t) em_error("%s: value at stack index %d is a %s, not a tensor", what, idx, luaL_typename(L, idx));
  else if (t->device.type != EM_CPU) { em_error("%s: the tensor is on %s; the host API takes CPU tensors", what, em_device_name(t->device)); t = NULL; }
  return t;
}

/* Runs f with one light userdata argument under lua_pcall, keeping nres results. On
 * an error, records the message and pops it. */
static int protected(lua_State *L, lua_CFunction f, void *arg, int nres) {
  lua_pushcfunction(L, f);
  lua_pushlightuserdata(L, arg);
  int status = lua_pcall(L, 1, nres, 0);
  if (status != LUA_OK) {
    em_error("%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error object is not a string");
    lua_pop(L, 1);
  }
  return status;
}

/* --- opening --- */

static int preload(lua_State *L) {
  const char *lua_dir = lua_touserdata(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_ember_core);
  lua_setfield(L, -2, "ember.core");
  if (!lua_dir) return 0;
  lua_getglobal(L, "package");
  if (!lua_istable(L, -1)) return luaL_error(L, "em_host_preload: open the package library first (luaL_openlibs)");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", lua_dir, lua_dir, lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
  lua_setfield(L, -3, "path");
  return 0;
}

static int open_torch(lua_State *L) {
  preload(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "torch");
  lua_call(L, 1, 0);
  return 0;
}

int em_host_preload(lua_State *L, const char *lua_dir) {
  lua_pushcfunction(L, preload);
  lua_pushlightuserdata(L, (void *)lua_dir);
  return lua_pcall(L, 1, 0, 0);
}

int em_host_open(lua_State *L, const char *lua_dir) {
  lua_pushcfunction(L, open_torch);
  lua_pushlightuserdata(L, (void *)lua_dir);
  return lua_pcall(L, 1, 0, 0);
}

/* --- float buffers --- */

float *em_host_floats(lua_State *L, int idx, int64_t *numel) {
  em_tensor *t = host_tensor(L, idx, "em_host_floats");
  if (!t) return NULL;
  if (t->dtype != EM_FLOAT32 || !em_tensor_is_contiguous(t)) {
    char shape[64];
    em_error("em_host_floats: the tensor (%s, %s) is not a contiguous float32 tensor",
             em_dtype_info[t->dtype].name, em_tensor_shape_str(t, shape, sizeof shape));
    return NULL;
  }
  if (numel) *numel = em_tensor_numel(t);
  return em_tensor_data(t);
}

typedef struct push_args {
  const float *data;
  int ndim;
  const int64_t *size;
} push_args;

/* torch.empty(sizes..., 'float32') through the binding, then one copy. */
static int push_floats(lua_State *L) {
  const push_args *a = lua_touserdata(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "ember.core") != LUA_TTABLE)
    return luaL_error(L, "em_host_push_floats: the engine is not open (em_host_open)");
  lua_getfield(L, -1, "empty");
  for (int i = 0; i < a->ndim; i++) lua_pushinteger(L, a->size[i]);
  lua_pushliteral(L, "float32");
  lua_call(L, a->ndim + 1, 1);
  int64_t n;
  float *dst = em_host_floats(L, -1, &n);
  if (!dst) return luaL_error(L, "%s", em_last_error());
  if (n) memcpy(dst, a->data, sizeof(float) * (size_t)n);
  return 1;
}

int em_host_push_floats(lua_State *L, const float *data, int ndim, const int64_t *size) {
  if (ndim < 1 || ndim > EM_MAX_DIMS) return em_error("em_host_push_floats: %d dimensions (1 to %d)", ndim, EM_MAX_DIMS);
  for (int i = 0; i < ndim; i++)
    if (size[i] < 0) return em_error("em_host_push_floats: size %d is negative", i + 1);
  push_args a = {data, ndim, size};
  return protected(L, push_floats, &a, 1) == LUA_OK ? 0 : -1;
}

/* A 1-D float32 tensor over n floats of host memory, on the caller's stack: it is
 * never retained beyond the copy, so it is never released. */
static void wrap_host(em_tensor *v, em_storage *s, float *p, int64_t n) {
  memset(s, 0, sizeof *s);
  s->data = p;
  s->nbytes = sizeof(float) * (size_t)n;
  s->refcount = 1;
  s->device = (em_device){EM_CPU, 0};
  em_tensor_init(v, NULL, EM_FLOAT32, s->device);
  v->storage = s;
  v->ndim = 1;
  v->size[0] = n;
  v->stride[0] = 1;
}

/* Copies between host memory and the tensor at idx: to_host picks the direction. */
static int transfer(lua_State *L, int idx, float *host, int64_t n, int to_host, const char *what) {
  em_tensor *t = host_tensor(L, idx, what);
  if (!t) return -1;
  if (em_tensor_numel(t) != n) {
    char shape[64];
    return em_error("%s: the tensor (%s) has %lld elements, the buffer %lld", what,
                    em_tensor_shape_str(t, shape, sizeof shape), (long long)em_tensor_numel(t), (long long)n);
  }
  if (n == 0) return 0;
  if (t->dtype == EM_FLOAT32 && em_tensor_is_contiguous(t)) {
    float *p = em_tensor_data(t);
    if (to_host) memcpy(host, p, sizeof(float) * (size_t)n);
    else memcpy(p, host, sizeof(float) * (size_t)n);
    return 0;
  }
  em_tensor v;
  em_storage s;
  wrap_host(&v, &s, host, n);
  int st = to_host ? em_tensor_copy(&v, t) : em_tensor_copy(t, &v);
  return st == EM_OK ? 0 : -1;
}

int em_host_read_floats(lua_State *L, int idx, float *dst, int64_t n) {
  return transfer(L, idx, dst, n, 1, "em_host_read_floats");
}

int em_host_write_floats(lua_State *L, int idx, const float *src, int64_t n) {
  /* the tensor only reads from src in this direction */
  return transfer(L, idx, (float *)src, n, 0, "em_host_write_floats");
}

const char *em_host_error(void) { return em_last_error(); }
