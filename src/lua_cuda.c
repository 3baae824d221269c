/* GPU tensors from Lua: the torch.cuda table, x:cuda() / x:to() / x:cudaDouble() ...,
 * torch.CudaTensor and the other torch.Cuda*Tensor constructors, x:type() with the
 * Cuda type names, page-locked host tensors, and torch._testAllocator (the caching
 * allocator over a fake device, for spec/tensor/cache_alloc_spec.lua). Compiles with
 * or without the CUDA backend: without it, torch.cuda.isAvailable() is false and
 * every move to the GPU raises "cuda: this build of Ember has no CUDA backend".
 *
 * Device numbers: torch.cuda.setDevice/getDevice count from 1, as cutorch did; device
 * strings count from 0, as x:device() prints them ('cuda:0'). */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "backend.h"
#include "cache_alloc.h"
#include "cuda_device.h"
#include "lua_ember.h"

#define EM_TEST_ALLOCATOR_MT "ember.TestAllocator"

static em_device cpu_device(void) { return (em_device){EM_CPU, 0}; }
static em_device cuda_device(int index) { return (em_device){EM_CUDA, index}; }

/* Raises the reason when cuda:index cannot be used. */
static void check_cuda(lua_State *L, int index) {
  if (em_cuda_check_device(index) != EM_OK) luaL_error(L, "%s", em_last_error());
}

/* --- moving tensors --- */

/* Pushes t (at idx) as dtype dt on dev: t itself when both already match, else a new
 * contiguous copy. */
static int push_moved(lua_State *L, int idx, em_dtype dt, em_device dev) {
  em_tensor *t = em_lua_checktensor(L, idx);
  if (dev.type == EM_CUDA) check_cuda(L, dev.index);
  if (t->dtype == dt && t->device.type == dev.type && t->device.index == dev.index) {
    lua_pushvalue(L, idx);
    return 1;
  }
  em_tensor *r = em_lua_newtensor(L, dt, dev);
  em_lua_call(L, em_tensor_resize(r, t->ndim, t->size));
  em_lua_call(L, em_tensor_copy(r, t));
  return 1;
}

/* 'cpu', 'cuda' (the current device) or 'cuda:N'; returns 0 when s names no device. */
static int parse_device(lua_State *L, const char *s, em_device *dev) {
  if (strcmp(s, "cpu") == 0) { *dev = cpu_device(); return 1; }
  if (strcmp(s, "cuda") == 0) { *dev = cuda_device(em_cuda_get_device()); return 1; }
  if (strncmp(s, "cuda:", 5) == 0) {
    char *end;
    long n = strtol(s + 5, &end, 10);
    if (end == s + 5 || *end || n < 0) luaL_error(L, "to: bad device '%s' (expected 'cuda:N', N from 0)", s);
    *dev = cuda_device((int)n);
    return 1;
  }
  return 0;
}

/* x:cuda(): Torch7's torch.CudaTensor, i.e. float32 on the current device. */
static int m_cuda(lua_State *L) {
  return push_moved(L, 1, EM_FLOAT32, cuda_device(em_cuda_get_device()));
}

/* x:cudaDouble(), x:cudaLong(), ...: the dtype is upvalue 3. */
static int m_cuda_as(lua_State *L) {
  em_dtype dt = (em_dtype)lua_tointeger(L, lua_upvalueindex(3));
  return push_moved(L, 1, dt, cuda_device(em_cuda_get_device()));
}

/* x:to(device [, dtype]), x:to(dtype), x:to(other): device 'cpu' | 'cuda' | 'cuda:N';
 * the device and dtype that are not given stay as they are. */
static int m_to(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_tensor *like = em_lua_totensor(L, 2);
  if (like) return push_moved(L, 1, like->dtype, like->device);
  const char *s = luaL_checkstring(L, 2);
  em_device dev;
  if (parse_device(L, s, &dev)) {
    em_dtype dt = lua_isnoneornil(L, 3) ? t->dtype : em_lua_checkdtype(L, 3);
    return push_moved(L, 1, dt, dev);
  }
  return push_moved(L, 1, em_lua_checkdtype(L, 2), t->device);
}

/* "torch.CudaTensor" for float32, else "torch.Cuda" + the CPU class ("DoubleTensor"). */
static void push_cuda_type_name(lua_State *L, em_dtype dt) {
  if (dt == EM_FLOAT32) { lua_pushliteral(L, "torch.CudaTensor"); return; }
  lua_pushfstring(L, "torch.Cuda%s", em_dtype_info[dt].torch_name + strlen("torch."));
}

/* x:type() and x:type(name), replacing lua_tensor.c's version (registered before this
 * file) with one that knows devices, as Torch7 did: a Cuda class name
 * ('torch.CudaTensor', 'torch.CudaLongTensor', 'CudaTensor') moves to the GPU (the
 * tensor's own, or the current one); any other name means the CPU, so x:float() on a
 * GPU tensor brings it back. */
static int m_type(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) {
    if (t->device.type == EM_CUDA) push_cuda_type_name(L, t->dtype);
    else lua_pushstring(L, em_dtype_info[t->dtype].torch_name);
    return 1;
  }
  const char *name = luaL_checkstring(L, 2);
  const char *bare = strncmp(name, "torch.", 6) == 0 ? name + 6 : name;
  if (strncmp(bare, "Cuda", 4) == 0) {
    const char *rest = bare + 4;
    int dt = strcmp(rest, "Tensor") == 0 ? EM_FLOAT32 : em_dtype_from_name(rest);
    if (dt < 0)
      luaL_argerror(L, 2, lua_pushfstring(L, "unknown type '%s'", name));
    em_device dev = t->device.type == EM_CUDA ? t->device : cuda_device(em_cuda_get_device());
    return push_moved(L, 1, (em_dtype)dt, dev);
  }
  return push_moved(L, 1, em_lua_checkdtype(L, 2), cpu_device());
}

/* torch.CudaTensor(sizes...), (nested table), (tensor): upvalue 3 is the dtype, 4 the
 * CPU constructor `new`. Sizes allocate on the device directly; data goes through
 * the CPU constructor and is copied over. */
static int cuda_tensor_new(lua_State *L) {
  em_dtype dt = (em_dtype)lua_tointeger(L, lua_upvalueindex(3));
  em_device dev = cuda_device(em_cuda_get_device());
  check_cuda(L, dev.index);
  int nargs = lua_gettop(L);
  if (nargs >= 1 && em_lua_totensor(L, 1)) return push_moved(L, 1, dt, dev);
  if (nargs == 0 || lua_type(L, 1) == LUA_TNUMBER) {
    int64_t size[EM_MAX_DIMS];
    int nd = em_lua_checksizes(L, 1, size);
    for (int i = 0; i < nd; i++)
      if (size[i] < 0) luaL_error(L, "CudaTensor: size %d of dimension %d is negative", (int)size[i], i + 1);
    em_tensor *r = em_lua_newtensor(L, dt, dev);
    em_lua_call(L, em_tensor_resize(r, nd, size));
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(4));
  lua_pushstring(L, em_dtype_info[dt].name);
  for (int i = 1; i <= nargs; i++) lua_pushvalue(L, i);
  lua_call(L, nargs + 1, 1);
  return push_moved(L, lua_gettop(L), dt, dev);
}

/* --- page-locked host tensors --- */

/* x:pinMemory(): a copy of a CPU tensor in page-locked memory (x itself when it is
 * already), so transfers to and from the GPU are direct DMA. */
static int m_pin_memory(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  if (t->device.type != EM_CPU) luaL_error(L, "pinMemory: the tensor is on %s, not the CPU", em_device_name(t->device));
  if (em_cuda_is_pinned(t->storage)) { lua_settop(L, 1); return 1; }
  em_tensor *r = em_lua_newtensor(L, t->dtype, cpu_device());
  size_t nbytes = (size_t)em_tensor_numel(t) * em_dtype_info[t->dtype].size;
  em_storage *s;
  em_lua_call(L, em_cuda_pinned_storage(em_lua_ctx(L), nbytes, &s));
  r->storage = s;
  em_lua_call(L, em_tensor_resize(r, t->ndim, t->size));
  em_lua_call(L, em_tensor_copy(r, t));
  return 1;
}

static int m_is_pinned(lua_State *L) {
  lua_pushboolean(L, em_cuda_is_pinned(em_lua_checktensor(L, 1)->storage));
  return 1;
}

/* --- torch.cuda --- */

/* An optional 1-based device argument (default: the current device), 0-based. */
static int opt_device(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return em_cuda_get_device();
  lua_Integer n = luaL_checkinteger(L, arg);
  int count = em_cuda_device_count();
  if (count == 0) check_cuda(L, 0);
  luaL_argcheck(L, n >= 1 && n <= count, arg,
                lua_pushfstring(L, "device %I does not exist (%d present, numbered from 1)", n, count));
  return (int)n - 1;
}

static int cuda_is_available(lua_State *L) {
  int ok = em_cuda_device_count() > 0;
  lua_pushboolean(L, ok);
  if (ok) return 1;
  lua_pushstring(L, em_cuda_unavailable_reason());
  return 2;
}

static int cuda_is_built(lua_State *L) {
  lua_pushboolean(L, em_cuda_built());
  return 1;
}

static int cuda_device_count(lua_State *L) {
  lua_pushinteger(L, em_cuda_device_count());
  return 1;
}

static int cuda_get_device(lua_State *L) {
  check_cuda(L, em_cuda_get_device());
  lua_pushinteger(L, em_cuda_get_device() + 1);
  return 1;
}

static int cuda_set_device(lua_State *L) {
  int index = opt_device(L, 1);
  em_lua_check(L, em_cuda_set_device(index));
  return 0;
}

static int cuda_synchronize(lua_State *L) {
  em_lua_check(L, em_cuda_synchronize(opt_device(L, 1)));
  return 0;
}

static void set_int(lua_State *L, const char *key, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, key);
}

/* The pool's statistics as a table (torch.cuda.memoryStats and the fake device). */
static void push_stats(lua_State *L, const em_cache_stats *s) {
  lua_createtable(L, 0, 14);
  set_int(L, "requestedBytes", (lua_Integer)s->requested_bytes);
  set_int(L, "allocatedBytes", (lua_Integer)s->allocated_bytes);
  set_int(L, "cachedBytes", (lua_Integer)s->cached_bytes);
  set_int(L, "reservedBytes", (lua_Integer)s->reserved_bytes);
  set_int(L, "peakAllocatedBytes", (lua_Integer)s->peak_allocated_bytes);
  set_int(L, "peakReservedBytes", (lua_Integer)s->peak_reserved_bytes);
  set_int(L, "allocs", (lua_Integer)s->allocs);
  set_int(L, "releases", (lua_Integer)s->releases);
  set_int(L, "cacheHits", (lua_Integer)s->cache_hits);
  set_int(L, "rawAllocs", (lua_Integer)s->raw_allocs);
  set_int(L, "rawFrees", (lua_Integer)s->raw_frees);
  set_int(L, "oomRetries", (lua_Integer)s->oom_retries);
  set_int(L, "ooms", (lua_Integer)s->ooms);
  set_int(L, "emptyCacheCalls", (lua_Integer)s->empty_calls);
}

static int cuda_memory_stats(lua_State *L) {
  em_cache_stats s;
  em_lua_check(L, em_cuda_memory_stats(opt_device(L, 1), &s));
  push_stats(L, &s);
  return 1;
}

static int cuda_reset_memory_stats(lua_State *L) {
  em_lua_check(L, em_cuda_reset_memory_stats(opt_device(L, 1)));
  return 0;
}

/* torch.cuda.emptyCache([device]): collects garbage first, so that tensors nobody
 * holds give their blocks back before the cache is emptied. */
static int cuda_empty_cache(lua_State *L) {
  int index = opt_device(L, 1);
  lua_gc(L, LUA_GCCOLLECT);
  em_lua_check(L, em_cuda_empty_cache(index));
  return 0;
}

static int cuda_get_memory_usage(lua_State *L) {
  em_cuda_props p;
  em_lua_check(L, em_cuda_properties(opt_device(L, 1), &p));
  lua_pushinteger(L, (lua_Integer)p.free_bytes);
  lua_pushinteger(L, (lua_Integer)p.total_bytes);
  return 2;
}

static int cuda_get_device_properties(lua_State *L) {
  em_cuda_props p;
  em_lua_check(L, em_cuda_properties(opt_device(L, 1), &p));
  lua_createtable(L, 0, 6);
  lua_pushstring(L, p.name);
  lua_setfield(L, -2, "name");
  set_int(L, "major", p.major);
  set_int(L, "minor", p.minor);
  set_int(L, "multiProcessorCount", p.multiprocessors);
  set_int(L, "totalGlobalMem", (lua_Integer)p.total_bytes);
  set_int(L, "freeGlobalMem", (lua_Integer)p.free_bytes);
  return 1;
}

/* --- the caching allocator over a fake device (tests only) --- */

/* malloc-backed "device memory" with a byte budget and injected refusals. */
typedef struct fake_device {
  em_cache cache;
  size_t capacity, used;       /* raw bytes */
  int fail_next;               /* raw allocations still to refuse */
  lua_Integer refused;         /* raw allocations refused */
  int open;
} fake_device;

static void *fake_raw_alloc(void *ud, size_t n) {
  fake_device *f = ud;
  if (f->fail_next > 0 || f->used > f->capacity || n > f->capacity - f->used) {
    if (f->fail_next > 0) f->fail_next--;
    f->refused++;
    return NULL;
  }
  void *p = malloc(n);
  if (p) f->used += n;
  return p;
}

static void fake_raw_free(void *ud, void *p, size_t n) {
  fake_device *f = ud;
  f->used -= n;
  free(p);
}

static fake_device *check_fake(lua_State *L) {
  fake_device *f = luaL_checkudata(L, 1, EM_TEST_ALLOCATOR_MT);
  if (!f->open) luaL_error(L, "test allocator is closed");
  return f;
}

/* torch._testAllocator([capacity]): a fresh cache over a fake device of capacity bytes
 * (unlimited by default). */
static int test_allocator_new(lua_State *L) {
  lua_Integer cap = luaL_optinteger(L, 1, LUA_MAXINTEGER);
  luaL_argcheck(L, cap >= 0, 1, "capacity must be non-negative");
  fake_device *f = lua_newuserdatauv(L, sizeof *f, 0);
  memset(f, 0, sizeof *f);
  luaL_setmetatable(L, EM_TEST_ALLOCATOR_MT);
  f->capacity = (size_t)cap;
  em_cache_init(&f->cache, (em_allocator){fake_raw_alloc, fake_raw_free, f});
  f->open = 1;
  return 1;
}

/* A:alloc(n) -> address (an integer), or nil and a message. The block is written to
 * end to end, so a block smaller than asked would show up under a memory checker. */
static int fake_alloc(lua_State *L) {
  fake_device *f = check_fake(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 0, 2, "size must be non-negative");
  void *p = em_cache_alloc(&f->cache, (size_t)n);
  if (!p) {
    luaL_pushfail(L);
    lua_pushfstring(L, "fake device: out of memory allocating %I bytes", n);
    return 2;
  }
  memset(p, 0xab, (size_t)n);
  lua_pushinteger(L, (lua_Integer)(intptr_t)p);
  return 1;
}

static int fake_release(lua_State *L) {
  fake_device *f = check_fake(L);
  void *p = (void *)(intptr_t)luaL_checkinteger(L, 2);
  em_cache_release(&f->cache, p, (size_t)luaL_checkinteger(L, 3));
  return 0;
}

static int fake_empty_cache(lua_State *L) {
  fake_device *f = check_fake(L);
  lua_pushinteger(L, (lua_Integer)em_cache_empty(&f->cache));
  return 1;
}

/* A:stats(): the pool's statistics plus the fake's rawBytes (held now) and refused. */
static int fake_stats(lua_State *L) {
  fake_device *f = check_fake(L);
  em_cache_stats s = em_cache_get_stats(&f->cache);
  push_stats(L, &s);
  set_int(L, "rawBytes", (lua_Integer)f->used);
  set_int(L, "refused", f->refused);
  return 1;
}

static int fake_reset_stats(lua_State *L) {
  em_cache_reset_stats(&check_fake(L)->cache);
  return 0;
}

/* A:failNext(k): the next k raw allocations are refused whatever the budget. */
static int fake_fail_next(lua_State *L) {
  fake_device *f = check_fake(L);
  f->fail_next = (int)luaL_checkinteger(L, 2);
  return 0;
}

static int fake_set_capacity(lua_State *L) {
  fake_device *f = check_fake(L);
  lua_Integer cap = luaL_checkinteger(L, 2);
  luaL_argcheck(L, cap >= 0, 2, "capacity must be non-negative");
  f->capacity = (size_t)cap;
  return 0;
}

/* __gc and __close: cached blocks go back to the fake (blocks still out are leaked,
 * which a memory checker reports). */
static int fake_close(lua_State *L) {
  fake_device *f = luaL_checkudata(L, 1, EM_TEST_ALLOCATOR_MT);
  if (f->open) em_cache_free(&f->cache);
  f->open = 0;
  return 0;
}

static int cache_class_size(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0, 1, "size must be non-negative");
  lua_pushinteger(L, (lua_Integer)em_cache_class_size((size_t)n));
  return 1;
}

/* allowTF32([bool]): sets TF32 for float32 matrix products when given; returns the setting */
static int cuda_allow_tf32(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) em_cuda_set_tf32(lua_toboolean(L, 1));
  lua_pushboolean(L, em_cuda_get_tf32());
  return 1;
}

/* --- registration --- */

static const luaL_Reg cuda_functions[] = {
  {"allowTF32", cuda_allow_tf32},
  {"deviceCount", cuda_device_count},
  {"emptyCache", cuda_empty_cache},
  {"getDevice", cuda_get_device},
  {"getDeviceProperties", cuda_get_device_properties},
  {"getMemoryUsage", cuda_get_memory_usage},
  {"isAvailable", cuda_is_available},
  {"isBuilt", cuda_is_built},
  {"memoryStats", cuda_memory_stats},
  {"resetMemoryStats", cuda_reset_memory_stats},
  {"setDevice", cuda_set_device},
  {"synchronize", cuda_synchronize},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"cuda", m_cuda},
  {"isPinned", m_is_pinned},
  {"pinMemory", m_pin_memory},
  {"to", m_to},
  {"type", m_type},
  {NULL, NULL}
};

static const luaL_Reg test_allocator_methods[] = {
  {"alloc", fake_alloc},
  {"emptyCache", fake_empty_cache},
  {"failNext", fake_fail_next},
  {"release", fake_release},
  {"resetStats", fake_reset_stats},
  {"setCapacity", fake_set_capacity},
  {"stats", fake_stats},
  {NULL, NULL}
};

/* cutorch's per-dtype moves and torch's per-dtype GPU classes */
static const struct { const char *method, *ctor; em_dtype dt; } cuda_kinds[] = {
  {NULL, "CudaTensor", EM_FLOAT32},
  {"cudaDouble", "CudaDoubleTensor", EM_FLOAT64},
  {"cudaHalf", "CudaHalfTensor", EM_FLOAT16},
  {"cudaBFloat16", "CudaBFloat16Tensor", EM_BFLOAT16},
  {"cudaLong", "CudaLongTensor", EM_INT64},
  {"cudaInt", "CudaIntTensor", EM_INT32},
  {"cudaShort", "CudaShortTensor", EM_INT16},
  {"cudaChar", "CudaCharTensor", EM_INT8},
  {"cudaByte", "CudaByteTensor", EM_UINT8},
  {"cudaBool", "CudaBoolTensor", EM_BOOL},
};

/* Pushes f as a closure with the two binding upvalues, the dtype and (when extra is
 * not 0) the value at stack index extra. */
static void push_dtype_closure(lua_State *L, lua_CFunction f, em_dtype dt, int extra) {
  lua_pushvalue(L, EM_UPV_CTX);
  lua_pushvalue(L, EM_UPV_MT);
  lua_pushinteger(L, dt);
  if (extra) lua_pushvalue(L, extra);
  lua_pushcclosure(L, f, extra ? 4 : 3);
}

/* Tells the core where the CUDA plugin is: package.searchpath('ember.cuda',
 * package.cpath), looked up now (a few stat calls) and loaded at the first device
 * query (src/cuda_plugin.c). */
static void find_plugin(lua_State *L) {
  if (!em_cuda_built()) return;
  int top = lua_gettop(L);
  if (lua_getglobal(L, "package") == LUA_TTABLE && lua_getfield(L, -1, "searchpath") == LUA_TFUNCTION) {
    lua_pushliteral(L, "ember.cuda");
    lua_getfield(L, -3, "cpath");
    if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_isstring(L, -1))
      em_cuda_set_plugin_path(lua_tostring(L, -1));
  }
  lua_settop(L, top);
}

void em_lua_open_cuda(lua_State *L, int module, int methods_idx) {
  find_plugin(L);
  lua_pushvalue(L, methods_idx);
  em_lua_setfuncs(L, methods);
  lua_pop(L, 1);
  lua_getfield(L, module, "new");                  /* the CPU constructor */
  int cpu_new = lua_gettop(L);
  for (size_t i = 0; i < sizeof cuda_kinds / sizeof cuda_kinds[0]; i++) {
    push_dtype_closure(L, cuda_tensor_new, cuda_kinds[i].dt, cpu_new);
    lua_setfield(L, module, cuda_kinds[i].ctor);
    if (!cuda_kinds[i].method) continue;
    push_dtype_closure(L, m_cuda_as, cuda_kinds[i].dt, 0);
    lua_setfield(L, methods_idx, cuda_kinds[i].method);
  }
  lua_pop(L, 1);
  lua_newtable(L);                                 /* torch.cuda */
  em_lua_setfuncs(L, cuda_functions);
  lua_setfield(L, module, "cuda");

  lua_pushvalue(L, module);
  em_lua_setfuncs(L, (const luaL_Reg[]){{"_cacheClassSize", cache_class_size},
                                        {"_testAllocator", test_allocator_new},
                                        {NULL, NULL}});
  lua_pop(L, 1);
  luaL_newmetatable(L, EM_TEST_ALLOCATOR_MT);
  luaL_newlib(L, test_allocator_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, fake_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, fake_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}
