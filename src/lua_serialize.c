/* torch.serial: the reader and writer objects (src/serialize.c) that
 * lua/ember/serialize.lua and lua/ember/safetensors.lua drive, plus the two tensor
 * helpers they need: the identity of a tensor's storage, and a checked view into a
 * loaded storage. Storage payloads move between files and tensors here, in C; a GPU
 * tensor's elements are copied to the host on the way out. */
#include <stdarg.h>
#include <string.h>

#include "backend.h"
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"
#include "serialize.h"

#define READER_MT "ember.Reader"
#define WRITER_MT "ember.Writer"

typedef struct lreader {
  em_reader r;
  int open;
} lreader;

typedef struct lwriter {
  em_writer w;
  int open;              /* neither committed nor freed */
} lwriter;

/* Raises a message as it is: reader and writer errors already name the file and the
 * byte, so the Lua position of the caller would only add noise. */
static int fail(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

static void check(lua_State *L, int status) {
  if (status != EM_OK) fail(L, "%s", em_last_error());
}

static lreader *check_reader(lua_State *L) {
  lreader *r = luaL_checkudata(L, 1, READER_MT);
  if (!r->open) fail(L, "load: the reader is closed");
  return r;
}

static lwriter *check_writer(lua_State *L) {
  lwriter *w = luaL_checkudata(L, 1, WRITER_MT);
  if (!w->open) fail(L, "save: the writer is closed");
  return w;
}

/* The n elements of t's whole storage in host memory: the storage itself for a host
 * tensor; for a GPU tensor, a host copy of all of it (a new tensor left on the stack,
 * which keeps it alive), as cutorch's storage writer staged its elements. */
static const void *host_storage(lua_State *L, const em_tensor *t, int64_t n) {
  if (t->device.type == EM_CPU) return t->storage->data;
  em_tensor *whole = em_lua_pushview(L, t);   /* the storage from element 0, 1-D */
  whole->offset = 0;
  whole->ndim = 1;
  whole->size[0] = n;
  whole->stride[0] = 1;
  em_tensor *h = em_lua_newtensor(L, t->dtype, (em_device){EM_CPU, 0});
  em_lua_call(L, em_tensor_resize(h, 1, &n));
  em_lua_call(L, em_tensor_copy(h, whole));
  return em_tensor_data(h);
}

/* --- reader --- */

/* reader(source, ascii [, isString [, name]]): reads the file at path source, or the
 * bytes of the string source (kept alive as the reader's user value). */
static int reader_new(lua_State *L) {
  size_t len;
  const char *src = luaL_checklstring(L, 1, &len);
  int ascii = lua_toboolean(L, 2), is_string = lua_toboolean(L, 3);
  const char *name = luaL_optstring(L, 4, is_string ? "string" : src);
  lreader *r = lua_newuserdatauv(L, sizeof *r, 1);
  r->open = 0;
  luaL_setmetatable(L, READER_MT);
  if (is_string) {
    em_reader_init_mem(&r->r, src, len, ascii, name);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
  } else {
    check(L, em_reader_open_file(&r->r, src, ascii));
  }
  r->open = 1;
  return 1;
}

static int reader_close(lua_State *L) {
  lreader *r = luaL_checkudata(L, 1, READER_MT);
  if (r->open) em_reader_close(&r->r);
  r->open = 0;
  return 0;
}

static int r_int(lua_State *L) {
  int32_t v;
  check(L, em_reader_int(&check_reader(L)->r, &v));
  lua_pushinteger(L, v);
  return 1;
}

static int r_long(lua_State *L) {
  int64_t v;
  check(L, em_reader_long(&check_reader(L)->r, &v));
  lua_pushinteger(L, v);
  return 1;
}

static int r_double(lua_State *L) {
  double v;
  check(L, em_reader_double(&check_reader(L)->r, &v));
  lua_pushnumber(L, v);
  return 1;
}

static int r_string(lua_State *L) {
  lreader *r = check_reader(L);
  uint64_t len;
  check(L, em_reader_string_length(&r->r, &len));
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, (size_t)len);
  check(L, em_reader_bytes(&r->r, p, len));
  luaL_pushresultsize(&b, (size_t)len);
  return 1;
}

/* bytes(n): n raw bytes as a string (n checked against the bytes left first) */
static int r_bytes(lua_State *L) {
  lreader *r = check_reader(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < 0 || (uint64_t)n > em_reader_left(&r->r))
    fail(L, "load: %s: %I bytes wanted at byte %I but only %I left", r->r.name, n,
               (lua_Integer)r->r.pos, (lua_Integer)em_reader_left(&r->r));
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, (size_t)n);
  check(L, em_reader_bytes(&r->r, p, (uint64_t)n));
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

static int r_pos(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_reader(L)->r.pos);
  return 1;
}

static int r_left(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)em_reader_left(&check_reader(L)->r));
  return 1;
}

static int r_name(lua_State *L) {
  lua_pushstring(L, check_reader(L)->r.name);
  return 1;
}

static int r_seek(lua_State *L) {
  lreader *r = check_reader(L);
  lua_Integer pos = luaL_checkinteger(L, 2);
  if (pos < 0) luaL_argerror(L, 2, "negative position");
  check(L, em_reader_seek(&r->r, (uint64_t)pos));
  return 0;
}

/* count(dtype, n, what): raises unless n elements of dtype can still be in the input */
static int r_count(lua_State *L) {
  lreader *r = check_reader(L);
  em_dtype dt = em_lua_checkdtype(L, 2);
  check(L, em_reader_check_count(&r->r, dt, luaL_checkinteger(L, 3), luaL_checkstring(L, 4)));
  return 0;
}

static int push_longs(lua_State *L, const int64_t *v, int n) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* tensorHeader() -> sizes, strides, storageOffset (1-based): a Torch7 tensor payload
 * up to its storage. Dims are 0..8, sizes and strides non-negative, offset >= 1. */
static int r_tensor_header(lua_State *L) {
  lreader *r = check_reader(L);
  uint64_t at = r->r.pos;
  int32_t nd;
  int64_t size[EM_MAX_DIMS], stride[EM_MAX_DIMS], offset;
  check(L, em_reader_int(&r->r, &nd));
  if (nd < 0 || nd > EM_MAX_DIMS)
    fail(L, "load: %s: tensor at byte %I has %d dimensions (at most %d)", r->r.name,
               (lua_Integer)at, (int)nd, EM_MAX_DIMS);
  check(L, em_reader_longs(&r->r, size, nd));
  check(L, em_reader_longs(&r->r, stride, nd));
  check(L, em_reader_long(&r->r, &offset));
  for (int i = 0; i < nd; i++)
    if (size[i] < 0 || stride[i] < 0)
      fail(L, "load: %s: tensor at byte %I has size %I and stride %I in dimension %d",
                 r->r.name, (lua_Integer)at, (lua_Integer)size[i], (lua_Integer)stride[i], i + 1);
  if (offset < 1)
    fail(L, "load: %s: tensor at byte %I has storage offset %I (1-based)", r->r.name,
               (lua_Integer)at, (lua_Integer)offset);
  push_longs(L, size, nd);
  push_longs(L, stride, nd);
  lua_pushinteger(L, offset);
  return 3;
}

/* storage(dtype) -> tensor: a storage payload (int64 n, n elements) as a 1-D tensor
 * (an empty one when n is 0). The count is checked before anything is allocated. */
static int r_storage(lua_State *L) {
  lreader *r = check_reader(L);
  em_dtype dt = em_lua_checkdtype(L, 2);
  int64_t n;
  check(L, em_reader_long(&r->r, &n));
  check(L, em_reader_check_count(&r->r, dt, n, "storage size"));
  em_tensor *t = em_lua_newtensor(L, dt, (em_device){EM_CPU, 0});
  if (n == 0) return 1;
  em_lua_call(L, em_tensor_resize(t, 1, &n));
  check(L, em_reader_elements(&r->r, dt, em_tensor_data(t), n));
  return 1;
}

/* raw(dtype, sizes) -> contiguous tensor of the next numel * elementSize raw bytes */
static int r_raw(lua_State *L) {
  lreader *r = check_reader(L);
  em_dtype dt = em_lua_checkdtype(L, 2);
  int64_t size[EM_MAX_DIMS], n = 1;
  int nd = em_lua_checksizes(L, 3, size);
  for (int i = 0; i < nd; i++) {
    if (size[i] < 0) fail(L, "load: %s: negative size %I", r->r.name, (lua_Integer)size[i]);
    if (size[i] && n > INT64_MAX / size[i]) fail(L, "load: %s: %d-dimensional size overflows", r->r.name, nd);
    n *= size[i];
  }
  check(L, em_reader_check_count(&r->r, dt, n, "element count"));
  em_tensor *t = em_lua_newtensor(L, dt, (em_device){EM_CPU, 0});
  em_lua_call(L, em_tensor_resize(t, nd, size));
  check(L, em_reader_elements(&r->r, dt, em_tensor_data(t), n));
  return 1;
}

static int reader_gc(lua_State *L) { return reader_close(L); }

/* --- writer --- */

/* writer([path [, ascii]]): into a temporary file next to path (renamed onto it at
 * commit), or into memory when path is nil */
static int writer_new(lua_State *L) {
  const char *path = luaL_optstring(L, 1, NULL);
  int ascii = lua_toboolean(L, 2);
  lwriter *w = lua_newuserdatauv(L, sizeof *w, 0);
  w->open = 0;
  luaL_setmetatable(L, WRITER_MT);
  if (path) check(L, em_writer_open_file(&w->w, path, ascii));
  else em_writer_init_mem(&w->w, ascii);
  w->open = 1;
  return 1;
}

/* abort(): drops everything written; a file target is left as it was */
static int writer_abort(lua_State *L) {
  lwriter *w = luaL_checkudata(L, 1, WRITER_MT);
  em_writer_free(&w->w);
  w->open = 0;
  return 0;
}

/* commit() -> the bytes (memory writer) or true (file writer, now renamed in place) */
static int w_commit(lua_State *L) {
  lwriter *w = check_writer(L);
  if (!w->w.path) lua_pushlstring(L, (const char *)w->w.mem, w->w.len);
  else lua_pushboolean(L, 1);
  int st = em_writer_commit(&w->w);
  em_writer_free(&w->w);
  w->open = 0;
  check(L, st);
  return 1;
}

static int w_int(lua_State *L) {
  lwriter *w = check_writer(L);
  lua_Integer v = luaL_checkinteger(L, 2);
  luaL_argcheck(L, v >= INT32_MIN && v <= INT32_MAX, 2, "out of the int32 range");
  check(L, em_writer_int(&w->w, (int32_t)v));
  return 0;
}

static int w_long(lua_State *L) {
  lwriter *w = check_writer(L);
  check(L, em_writer_long(&w->w, luaL_checkinteger(L, 2)));
  return 0;
}

static int w_double(lua_State *L) {
  lwriter *w = check_writer(L);
  check(L, em_writer_double(&w->w, luaL_checknumber(L, 2)));
  return 0;
}

static int w_string(lua_State *L) {
  lwriter *w = check_writer(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  check(L, em_writer_string(&w->w, s, len));
  return 0;
}

/* bytes(s): s as raw bytes, no length */
static int w_bytes(lua_State *L) {
  lwriter *w = check_writer(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  check(L, em_writer_bytes(&w->w, s, len));
  return 0;
}

/* tensorHeader(t): nDimension, sizes, strides, storageOffset (1-based) */
static int w_tensor_header(lua_State *L) {
  lwriter *w = check_writer(L);
  em_tensor *t = em_lua_checktensor(L, 2);
  int st = em_writer_int(&w->w, t->ndim);
  if (st == EM_OK) st = em_writer_longs(&w->w, t->size, t->ndim);
  if (st == EM_OK) st = em_writer_longs(&w->w, t->stride, t->ndim);
  if (st == EM_OK) st = em_writer_long(&w->w, t->offset + 1);
  check(L, st);
  return 0;
}

/* storage(t): the payload of t's whole storage (int64 n, then its n elements); a GPU
 * tensor's storage is copied to the host first, so the payload is the same either way */
static int w_storage(lua_State *L) {
  lwriter *w = check_writer(L);
  em_tensor *t = em_lua_checktensor(L, 2);
  int64_t n = t->storage ? (int64_t)(t->storage->nbytes / em_dtype_info[t->dtype].size) : 0;
  int st = em_writer_long(&w->w, n);
  if (st == EM_OK && n > 0) st = em_writer_elements(&w->w, t->dtype, host_storage(L, t, n), n);
  check(L, st);
  return 0;
}

/* raw(t): t's elements in row-major order, raw little endian (a GPU tensor's are
 * copied to the host first) */
static int w_raw(lua_State *L) {
  lwriter *w = check_writer(L);
  em_tensor *t = em_lua_checktensor(L, 2);
  em_tensor *c = em_lua_newtensor(L, t->dtype, (em_device){EM_CPU, 0});   /* kept on the stack */
  if (t->device.type == EM_CPU) {
    em_lua_call(L, em_tensor_contiguous(c, t));
  } else if (t->ndim > 0) {
    em_lua_call(L, em_tensor_resize(c, t->ndim, t->size));
    em_lua_call(L, em_tensor_copy(c, t));
  }
  int64_t n = em_tensor_numel(c);
  if (n > 0 && c->ndim > 0) check(L, em_writer_elements(&w->w, c->dtype, em_tensor_data(c), n));
  return 0;
}

static int writer_gc(lua_State *L) { return writer_abort(L); }

/* --- tensor helpers --- */

/* storageKey(t) -> a light userdata naming t's storage (nil without one) */
static int storage_key(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  if (t->storage) lua_pushlightuserdata(L, t->storage);
  else lua_pushnil(L);
  return 1;
}

/* view(storage, offset, sizes, strides) -> a tensor viewing storage (a 1-D tensor from
 * reader:storage) at 1-based offset. Every element it can reach must lie inside the
 * storage; a view without elements gets contiguous strides and no storage. */
static int make_view(lua_State *L) {
  em_tensor *s = em_lua_checktensor(L, 1);
  lua_Integer offset = luaL_checkinteger(L, 2) - 1;
  int64_t size[EM_MAX_DIMS], stride[EM_MAX_DIMS];
  int nd = em_lua_checksizes(L, 3, size);
  if (em_lua_checksizes(L, 4, stride) != nd) fail(L, "view: %d sizes but a different number of strides", nd);
  int64_t have = s->ndim ? em_tensor_numel(s) : 0, numel = 1, last = offset;
  int64_t es = (int64_t)em_dtype_info[s->dtype].size;
  for (int i = 0; i < nd; i++) {
    if (size[i] < 0 || stride[i] < 0) fail(L, "view: negative size or stride in dimension %d", i + 1);
    if (size[i] == 0) numel = 0;
    else if (numel && numel > INT64_MAX / es / size[i]) fail(L, "view: %d-dimensional size overflows", nd);
    else numel *= size[i];
  }
  if (numel == 0) {
    em_tensor *t = em_lua_newtensor(L, s->dtype, s->device);
    if (nd > 0) em_lua_call(L, em_tensor_resize(t, nd, size));
    return 1;
  }
  if (offset < 0 || offset >= have)
    fail(L, "view: storage offset %I outside a storage of %I elements", offset + 1, (lua_Integer)have);
  for (int i = 0; i < nd; i++) {   /* last reachable element, checked against have */
    if (stride[i] > 0 && size[i] - 1 > (have - 1 - last) / stride[i])
      fail(L, "view: dimension %d (size %I, stride %I) reaches past a storage of %I elements",
                 i + 1, (lua_Integer)size[i], (lua_Integer)stride[i], (lua_Integer)have);
    last += (size[i] - 1) * stride[i];
  }
  em_tensor *t = em_lua_pushview(L, s);
  t->offset = s->offset + offset;
  t->ndim = nd;
  memcpy(t->size, size, sizeof(int64_t) * (size_t)nd);
  memcpy(t->stride, stride, sizeof(int64_t) * (size_t)nd);
  return 1;
}

static const luaL_Reg functions[] = {
  {"reader", reader_new},
  {"storageKey", storage_key},
  {"view", make_view},
  {"writer", writer_new},
  {NULL, NULL}
};

static const luaL_Reg reader_methods[] = {
  {"bytes", r_bytes},
  {"close", reader_close},
  {"count", r_count},
  {"double", r_double},
  {"int", r_int},
  {"left", r_left},
  {"long", r_long},
  {"name", r_name},
  {"pos", r_pos},
  {"raw", r_raw},
  {"seek", r_seek},
  {"storage", r_storage},
  {"string", r_string},
  {"tensorHeader", r_tensor_header},
  {NULL, NULL}
};

static const luaL_Reg writer_methods[] = {
  {"abort", writer_abort},
  {"bytes", w_bytes},
  {"commit", w_commit},
  {"double", w_double},
  {"int", w_int},
  {"long", w_long},
  {"raw", w_raw},
  {"storage", w_storage},
  {"string", w_string},
  {"tensorHeader", w_tensor_header},
  {NULL, NULL}
};

/* A metatable named name with __index = methods and __gc = __close = gc. */
static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  em_lua_setfuncs(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}

void em_lua_open_serialize(lua_State *L, int module, int methods) {
  (void)methods;
  new_class(L, READER_MT, reader_methods, reader_gc);
  new_class(L, WRITER_MT, writer_methods, writer_gc);
  lua_newtable(L);
  em_lua_setfuncs(L, functions);
  lua_setfield(L, module, "serial");
}
