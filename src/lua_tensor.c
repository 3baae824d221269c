/* The tensor userdata: creation, shape queries, views, conversions, element access
 * through t[i] / t[{...}], and the helpers every binding file shares. */
#include <string.h>

#include "backend.h"
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"

/* --- shared helpers --- */

em_tensor *em_lua_totensor(lua_State *L, int idx) {
  em_tensor *t = lua_touserdata(L, idx);
  if (!t || !lua_getmetatable(L, idx)) return NULL;
  int ok = lua_rawequal(L, -1, EM_UPV_MT);
  lua_pop(L, 1);
  return ok ? t : NULL;
}

em_tensor *em_lua_checktensor(lua_State *L, int idx) {
  em_tensor *t = em_lua_totensor(L, idx);
  if (!t) luaL_typeerror(L, idx, "torch.Tensor");
  return t;
}

em_tensor *em_lua_newtensor(lua_State *L, em_dtype dt, em_device dev) {
  em_tensor *t = lua_newuserdatauv(L, sizeof *t, 0);
  em_tensor_init(t, em_lua_ctx(L), dt, dev);
  lua_pushvalue(L, EM_UPV_MT);
  lua_setmetatable(L, -2);
  return t;
}

em_tensor *em_lua_pushview(lua_State *L, const em_tensor *src) {
  em_tensor *t = em_lua_newtensor(L, src->dtype, src->device);
  em_tensor_set(t, src);
  return t;
}

void em_lua_check(lua_State *L, int status) {
  if (status != EM_OK) luaL_error(L, "%s", em_last_error());
  em_context *ctx = em_lua_ctx(L);
  if (ctx->allocated_since_check >= EM_GC_REPORT_BYTES) {
    size_t kb = ctx->allocated_since_check / 1024;
    ctx->allocated_since_check = 0;
    lua_gc(L, LUA_GCSTEP, (int)(kb > 0x7fffffff ? 0x7fffffff : kb));
  }
}

int em_lua_checkdim(lua_State *L, int arg, const em_tensor *t, int allow_end) {
  lua_Integer d = luaL_checkinteger(L, arg);
  int n = t->ndim + (allow_end ? 1 : 0);
  if (d < 0) d += n + 1;
  if (d < 1 || d > n)
    luaL_argerror(L, arg, lua_pushfstring(L, "dimension %I out of range for a %d-dimensional tensor",
                                          luaL_checkinteger(L, arg), t->ndim));
  return (int)d - 1;
}

int64_t em_lua_checkindex(lua_State *L, int arg, int64_t n, const char *what) {
  lua_Integer i = luaL_checkinteger(L, arg);
  lua_Integer j = i < 0 ? i + n + 1 : i;
  if (j < 1 || j > n)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s: index %I out of range for a dimension of size %I",
                                          what, (lua_Integer)i, (lua_Integer)n));
  return (int64_t)j - 1;
}

int em_lua_checksizes(lua_State *L, int arg, int64_t *size) {
  int n = 0;
  if (lua_istable(L, arg) && !em_lua_totensor(L, arg)) {
    n = (int)luaL_len(L, arg);
    if (n > EM_MAX_DIMS)
      luaL_argerror(L, arg, lua_pushfstring(L, "%d sizes given; at most %d dimensions", n, EM_MAX_DIMS));
    for (int i = 0; i < n; i++) {
      lua_geti(L, arg, i + 1);
      if (!lua_isinteger(L, -1) && !(lua_isnumber(L, -1) && lua_tonumber(L, -1) == (lua_Integer)lua_tonumber(L, -1)))
        luaL_argerror(L, arg, lua_pushfstring(L, "size %d is not an integer", i + 1));
      size[i] = (int64_t)lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
    return n;
  }
  em_tensor *t = em_lua_totensor(L, arg);
  if (t) {   /* a LongTensor of sizes, as x:size() returns */
    if (t->ndim != 1 || t->size[0] > EM_MAX_DIMS)
      luaL_argerror(L, arg, "sizes must be a 1-dimensional tensor of at most 8 entries");
    for (int64_t i = 0; i < t->size[0]; i++) size[n++] = (int64_t)em_tensor_get(t, &i);
    return n;
  }
  while (lua_type(L, arg + n) == LUA_TNUMBER) {
    if (n == EM_MAX_DIMS)
      luaL_argerror(L, arg + n, lua_pushfstring(L, "more than %d sizes given; at most %d dimensions", EM_MAX_DIMS, EM_MAX_DIMS));
    lua_Integer v;
    if (!lua_isinteger(L, arg + n)) {
      lua_Number x = lua_tonumber(L, arg + n);
      if (x != (lua_Number)(lua_Integer)x) luaL_argerror(L, arg + n, "size must be an integer");
      v = (lua_Integer)x;
    } else {
      v = lua_tointeger(L, arg + n);
    }
    size[n++] = v;
  }
  return n;
}

em_dtype em_lua_checkdtype(lua_State *L, int arg) {
  const char *name = luaL_checkstring(L, arg);
  int dt = em_dtype_from_name(name);
  if (dt < 0) luaL_argerror(L, arg, lua_pushfstring(L, "unknown dtype '%s'", name));
  return (em_dtype)dt;
}

em_precision em_lua_optprecision(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return EM_PRECISION_FULL;
  if (lua_type(L, arg) == LUA_TSTRING && strcmp(lua_tostring(L, arg), "bfloat16") == 0)
    return EM_PRECISION_BF16;
  const char *got = lua_type(L, arg) == LUA_TSTRING
                        ? lua_pushfstring(L, "'%s'", lua_tostring(L, arg))
                        : luaL_typename(L, arg);
  return (em_precision)luaL_argerror(
      L, arg, lua_pushfstring(L, "precision must be 'bfloat16' or nil, got %s", got));
}

double em_lua_checkscalar(lua_State *L, int arg) {
  if (lua_isboolean(L, arg)) return lua_toboolean(L, arg);
  return luaL_checknumber(L, arg);
}

void em_lua_setfuncs(lua_State *L, const luaL_Reg *l) {
  for (; l->name; l++) {
    lua_pushvalue(L, EM_UPV_CTX);
    lua_pushvalue(L, EM_UPV_MT);
    lua_pushcclosure(L, l->func, 2);
    lua_setfield(L, -2, l->name);
  }
}

/* Pushes element value p of dtype dt as a Lua value. */
static void push_elem(lua_State *L, em_dtype dt, const void *p) {
  if (dt == EM_BOOL) lua_pushboolean(L, *(const uint8_t *)p != 0);
  else if (em_dtype_info[dt].is_float) lua_pushnumber(L, em_dtype_get(dt, p));
  else lua_pushinteger(L, em_dtype_get_i64(dt, p));
}

static void store_elem(lua_State *L, em_dtype dt, void *p, int idx) {
  if (lua_isinteger(L, idx) && !em_dtype_info[dt].is_float)
    em_dtype_set_i64(dt, p, lua_tointeger(L, idx));
  else
    em_dtype_set(dt, p, em_lua_checkscalar(L, idx));
}

static void *elem_at(const em_tensor *t, const int64_t *idx) {
  int64_t off = t->offset;
  for (int i = 0; i < t->ndim; i++) off += idx[i] * t->stride[i];
  return (char *)t->storage->data + off * (int64_t)em_dtype_info[t->dtype].size;
}

/* Element i of a 1-D tensor. */
static void *elem_at1(const em_tensor *t, int64_t i) {
  return (char *)t->storage->data + (t->offset + i * t->stride[0]) * (int64_t)em_dtype_info[t->dtype].size;
}

static void check_host(lua_State *L, const em_tensor *t, const char *op) {
  if (t->device.type != EM_CPU)
    luaL_error(L, "%s: element access on a %s tensor; call :float() first", op, em_device_name(t->device));
}

/* --- creation --- */

/* Shape of a nested table of numbers: fills size, returns ndim; errors when ragged. */
static int table_shape(lua_State *L, int idx, int64_t *size) {
  int nd = 0;
  lua_pushvalue(L, idx);
  while (lua_istable(L, -1) && !em_lua_totensor(L, -1)) {
    if (nd == EM_MAX_DIMS) luaL_error(L, "Tensor: nested table deeper than %d", EM_MAX_DIMS);
    size[nd++] = (int64_t)luaL_len(L, -1);
    if (size[nd - 1] == 0) break;
    lua_geti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return nd;
}

static void fill_from_table(lua_State *L, int idx, em_tensor *t, int d, char *p) {
  int64_t n = (int64_t)luaL_len(L, idx);
  if (n != t->size[d])
    luaL_error(L, "Tensor: ragged nested table: a row at depth %d has %d elements, expected %d",
               d + 1, (int)n, (int)t->size[d]);
  size_t es = em_dtype_info[t->dtype].size;
  for (int64_t i = 0; i < n; i++) {
    lua_geti(L, idx, i + 1);
    char *q = p + i * t->stride[d] * (int64_t)es;
    if (d + 1 < t->ndim) {
      if (!lua_istable(L, -1))
        luaL_error(L, "Tensor: ragged nested table: expected a table at depth %d, got %s", d + 2, luaL_typename(L, -1));
      fill_from_table(L, lua_gettop(L), t, d + 1, q);
    } else {
      if (!lua_isnumber(L, -1) && !lua_isboolean(L, -1))
        luaL_error(L, "Tensor: expected numbers in the table, got %s", luaL_typename(L, -1));
      store_elem(L, t->dtype, q, -1);
    }
    lua_pop(L, 1);
  }
}

/* Sizes of a new tensor must be non-negative; the message names the creating function. */
static void check_new_sizes(lua_State *L, const char *fname, int nd, const int64_t *size) {
  for (int i = 0; i < nd; i++)
    if (size[i] < 0)
      luaL_error(L, "%s: size %d of dimension %d is negative", fname, (int)size[i], i + 1);
}

/* new(dtype, ...): torch.Tensor(), (sizes...), (nested table), (tensor: shares storage) */
static int tensor_new(lua_State *L) {
  em_context *ctx = em_lua_ctx(L);
  em_dtype dt = lua_isnoneornil(L, 1) ? ctx->default_dtype : em_lua_checkdtype(L, 1);
  em_device cpu = {EM_CPU, 0};
  int64_t size[EM_MAX_DIMS];
  em_tensor *src = em_lua_totensor(L, 2);
  if (src) {
    if (src->dtype != dt)
      luaL_error(L, "Tensor: cannot view a %s tensor as %s", em_dtype_info[src->dtype].torch_name, em_dtype_info[dt].torch_name);
    em_lua_pushview(L, src);
    return 1;
  }
  if (lua_istable(L, 2)) {
    int nd = table_shape(L, 2, size);
    em_tensor *t = em_lua_newtensor(L, dt, cpu);
    if (nd == 0 || size[0] == 0) return 1;
    em_lua_call(L, em_tensor_resize(t, nd, size));
    fill_from_table(L, 2, t, 0, em_tensor_data(t));
    return 1;
  }
  int nd = em_lua_checksizes(L, 2, size);
  if (!lua_isnoneornil(L, 2 + nd)) luaL_argerror(L, 2 + nd, "expected sizes, a table or a tensor");
  check_new_sizes(L, "Tensor", nd, size);
  em_tensor *t = em_lua_newtensor(L, dt, cpu);
  em_lua_call(L, em_tensor_resize(t, nd, size));
  return 1;
}

/* zeros/ones/full/empty(sizes... [, dtype]) */
static int make_filled(lua_State *L, const char *fname, int first, int has_value, double value) {
  em_context *ctx = em_lua_ctx(L);
  int64_t size[EM_MAX_DIMS];
  int nd = em_lua_checksizes(L, first, size);
  int after = lua_istable(L, first) || em_lua_totensor(L, first) ? first + 1 : first + nd;
  em_dtype dt = lua_isnoneornil(L, after) ? ctx->default_dtype : em_lua_checkdtype(L, after);
  check_new_sizes(L, fname, nd, size);
  em_tensor *t = em_lua_newtensor(L, dt, (em_device){EM_CPU, 0});
  em_lua_call(L, em_tensor_resize(t, nd, size));
  if (has_value) em_lua_call(L, em_tensor_fill(t, value));
  return 1;
}

static int tensor_zeros(lua_State *L) { return make_filled(L, "zeros", 1, 1, 0); }
static int tensor_ones(lua_State *L) { return make_filled(L, "ones", 1, 1, 1); }
static int tensor_empty(lua_State *L) { return make_filled(L, "empty", 1, 0, 0); }

/* full(sizes..., value [, dtype]) */
static int tensor_full(lua_State *L) {
  int64_t size[EM_MAX_DIMS];
  if (lua_istable(L, 1) || em_lua_totensor(L, 1)) {
    double v = em_lua_checkscalar(L, 2);
    lua_remove(L, 2);
    return make_filled(L, "full", 1, 1, v);
  }
  int nd = em_lua_checksizes(L, 1, size);
  if (nd < 2) luaL_error(L, "full: expected sizes then a value");
  double v = lua_tonumber(L, nd);
  lua_remove(L, nd);
  return make_filled(L, "full", 1, 1, v);
}

static int tensor_istensor(lua_State *L) {
  lua_pushboolean(L, em_lua_totensor(L, 1) != NULL);
  return 1;
}

static int set_default_dtype(lua_State *L) {
  em_lua_ctx(L)->default_dtype = em_lua_checkdtype(L, 1);
  return 0;
}

static int get_default_dtype(lua_State *L) {
  lua_pushstring(L, em_dtype_info[em_lua_ctx(L)->default_dtype].torch_name);
  return 1;
}

/* --- queries --- */

static int push_sizes_table(lua_State *L, int n, const int64_t *v) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* size([dim]): a number, or a LongTensor of sizes as in Torch7 (indexable, #-able) */
static int m_size(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  if (!lua_isnoneornil(L, 2)) {
    lua_pushinteger(L, t->size[em_lua_checkdim(L, 2, t, 0)]);
    return 1;
  }
  em_tensor *s = em_lua_newtensor(L, EM_INT64, (em_device){EM_CPU, 0});
  if (t->ndim == 0) return 1;
  int64_t n = t->ndim;
  em_lua_call(L, em_tensor_resize(s, 1, &n));
  memcpy(em_tensor_data(s), t->size, sizeof(int64_t) * (size_t)t->ndim);
  return 1;
}

static int m_stride(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  if (!lua_isnoneornil(L, 2)) {
    lua_pushinteger(L, t->stride[em_lua_checkdim(L, 2, t, 0)]);
    return 1;
  }
  em_tensor *s = em_lua_newtensor(L, EM_INT64, (em_device){EM_CPU, 0});
  if (t->ndim == 0) return 1;
  int64_t n = t->ndim;
  em_lua_call(L, em_tensor_resize(s, 1, &n));
  memcpy(em_tensor_data(s), t->stride, sizeof(int64_t) * (size_t)t->ndim);
  return 1;
}

static int m_sizetable(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  return push_sizes_table(L, t->ndim, t->size);
}

static int m_dim(lua_State *L) {
  lua_pushinteger(L, em_lua_checktensor(L, 1)->ndim);
  return 1;
}

static int m_numel(lua_State *L) {
  lua_pushinteger(L, em_tensor_numel(em_lua_checktensor(L, 1)));
  return 1;
}

static int m_len(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  lua_pushinteger(L, t->ndim ? t->size[0] : 0);
  return 1;
}

static int m_storage_offset(lua_State *L) {
  lua_pushinteger(L, em_lua_checktensor(L, 1)->offset + 1);
  return 1;
}

static int m_is_contiguous(lua_State *L) {
  lua_pushboolean(L, em_tensor_is_contiguous(em_lua_checktensor(L, 1)));
  return 1;
}

static int m_is_same_size_as(lua_State *L) {
  lua_pushboolean(L, em_tensor_same_shape(em_lua_checktensor(L, 1), em_lua_checktensor(L, 2)));
  return 1;
}

static int m_is_set_to(lua_State *L) {
  em_tensor *a = em_lua_checktensor(L, 1), *b = em_lua_checktensor(L, 2);
  int same = a->storage == b->storage && a->offset == b->offset && em_tensor_same_shape(a, b) &&
             memcmp(a->stride, b->stride, sizeof(int64_t) * (size_t)a->ndim) == 0;
  lua_pushboolean(L, same && a->storage);
  return 1;
}

static int m_type(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lua_pushstring(L, t->device.type == EM_CUDA && t->dtype == EM_FLOAT32
                          ? "torch.CudaTensor" : em_dtype_info[t->dtype].torch_name);
    return 1;
  }
  em_dtype dt = em_lua_checkdtype(L, 2);
  if (dt == t->dtype) { lua_settop(L, 1); return 1; }
  em_tensor *r = em_lua_newtensor(L, dt, t->device);
  em_lua_call(L, em_tensor_clone_as(r, t, dt));
  return 1;
}

static int m_dtype(lua_State *L) {
  lua_pushstring(L, em_dtype_info[em_lua_checktensor(L, 1)->dtype].name);
  return 1;
}

static int m_device(lua_State *L) {
  lua_pushstring(L, em_device_name(em_lua_checktensor(L, 1)->device));
  return 1;
}

static int m_element_size(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)em_dtype_info[em_lua_checktensor(L, 1)->dtype].size);
  return 1;
}

/* --- data --- */

static int m_copy(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1), *s = em_lua_checktensor(L, 2);
  em_lua_call(L, em_tensor_copy(t, s));
  lua_settop(L, 1);
  return 1;
}

static int m_fill(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_lua_call(L, em_tensor_fill(t, em_lua_checkscalar(L, 2)));
  lua_settop(L, 1);
  return 1;
}

static int m_zero(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_lua_call(L, em_tensor_fill(t, 0));
  lua_settop(L, 1);
  return 1;
}

static int m_clone(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_clone_as(r, t, t->dtype));
  return 1;
}

static int m_contiguous(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  if (em_tensor_is_contiguous(t)) { lua_settop(L, 1); return 1; }
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_clone_as(r, t, t->dtype));
  return 1;
}

static int m_item(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  char buf[64];
  if (em_tensor_numel(t) != 1)
    luaL_error(L, "item: tensor of size %s has %d elements, expected 1",
               em_tensor_shape_str(t, buf, sizeof buf), (int)em_tensor_numel(t));
  check_host(L, t, "item");
  push_elem(L, t->dtype, em_tensor_data(t));
  return 1;
}

static void push_table_rec(lua_State *L, const em_tensor *t, int d, int64_t *idx) {
  lua_createtable(L, (int)t->size[d], 0);
  for (int64_t i = 0; i < t->size[d]; i++) {
    idx[d] = i;
    if (d + 1 < t->ndim) push_table_rec(L, t, d + 1, idx);
    else push_elem(L, t->dtype, elem_at(t, idx));
    lua_rawseti(L, -2, i + 1);
  }
}

static int m_totable(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int64_t idx[EM_MAX_DIMS] = {0};
  check_host(L, t, "totable");
  if (t->ndim == 0) { lua_newtable(L); return 1; }
  push_table_rec(L, t, 0, idx);
  return 1;
}

/* --- shape changes and views --- */

static int m_resize(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int64_t size[EM_MAX_DIMS];
  int nd = em_lua_checksizes(L, 2, size);
  em_lua_call(L, em_tensor_resize(t, nd, size));
  lua_settop(L, 1);
  return 1;
}

static int m_resize_as(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1), *o = em_lua_checktensor(L, 2);
  em_lua_call(L, em_tensor_resize_as(t, o));
  lua_settop(L, 1);
  return 1;
}

static int m_set(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) { em_tensor_release(t); lua_settop(L, 1); return 1; }
  em_tensor *s = em_lua_checktensor(L, 2);
  if (s->dtype != t->dtype) luaL_error(L, "set: dtypes %s and %s differ", em_dtype_info[t->dtype].name, em_dtype_info[s->dtype].name);
  em_tensor_set(t, s);
  lua_settop(L, 1);
  return 1;
}

static int m_view(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int64_t size[EM_MAX_DIMS];
  int nd = em_lua_checksizes(L, 2, size);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_view(r, t, nd, size));
  return 1;
}

static int m_view_as(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1), *o = em_lua_checktensor(L, 2);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_view(r, t, o->ndim, o->size));
  return 1;
}

/* reshape: a view when the strides allow it, else a contiguous copy */
static int m_reshape(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int64_t size[EM_MAX_DIMS];
  int nd = em_lua_checksizes(L, 2, size);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_reshape(r, t, nd, size));
  return 1;
}

static int m_narrow(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int d = em_lua_checkdim(L, 2, t, 0);
  lua_Integer start = luaL_checkinteger(L, 3), len = luaL_checkinteger(L, 4);
  if (start < 0) start += t->size[d] + 1;
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_narrow(r, t, d, start - 1, len));
  return 1;
}

static int m_select(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int d = em_lua_checkdim(L, 2, t, 0);
  int64_t i = em_lua_checkindex(L, 3, t->size[d], "select");
  (void)0;
  if (t->ndim == 1) {   /* Torch7 returns the number */
    check_host(L, t, "select");
    push_elem(L, t->dtype, elem_at1(t, i));
    return 1;
  }
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_select(r, t, d, i));
  return 1;
}

/* sub(s1, e1 [, s2, e2 ...]): inclusive ranges per dim, negatives from the end */
static int m_sub(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int nargs = lua_gettop(L) - 1;
  if (nargs % 2 || nargs / 2 > t->ndim) luaL_error(L, "sub: expected start/end pairs for at most %d dimensions", t->ndim);
  em_tensor *r = em_lua_pushview(L, t);
  for (int d = 0; d < nargs / 2; d++) {
    lua_Integer s = luaL_checkinteger(L, 2 + 2 * d), e = luaL_checkinteger(L, 3 + 2 * d);
    if (s < 0) s += t->size[d] + 1;
    if (e < 0) e += t->size[d] + 1;
    if (s < 1 || e < s - 1 || e > t->size[d])
      luaL_error(L, "sub: range [%d, %d] out of bounds for dimension %d of size %d",
                 (int)lua_tointeger(L, 2 + 2 * d), (int)lua_tointeger(L, 3 + 2 * d), d + 1, (int)t->size[d]);
    em_lua_call(L, em_tensor_narrow(r, r, d, s - 1, e - s + 1));
  }
  return 1;
}

static int m_transpose(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int a = em_lua_checkdim(L, 2, t, 0), b = em_lua_checkdim(L, 3, t, 0);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_transpose(r, t, a, b));
  return 1;
}

static int m_t(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  char buf[64];
  if (t->ndim != 2) luaL_error(L, "t: expected a 2-dimensional tensor, got %s", em_tensor_shape_str(t, buf, sizeof buf));
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_transpose(r, t, 0, 1));
  return 1;
}

static int m_permute(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int perm[EM_MAX_DIMS];
  int64_t p[EM_MAX_DIMS];
  int n = em_lua_checksizes(L, 2, p);
  if (n != t->ndim) luaL_error(L, "permute: %d dimensions given for a %d-dimensional tensor", n, t->ndim);
  for (int i = 0; i < n; i++) perm[i] = (int)(p[i] < 0 ? p[i] + n : p[i] - 1);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_permute(r, t, perm));
  return 1;
}

static int m_squeeze(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int d = lua_isnoneornil(L, 2) ? -1 : em_lua_checkdim(L, 2, t, 0);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_squeeze(r, t, d));
  return 1;
}

static int m_unsqueeze(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int d = em_lua_checkdim(L, 2, t, 1);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_unsqueeze(r, t, d));
  return 1;
}

static int m_expand(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int64_t size[EM_MAX_DIMS];
  int nd = em_lua_checksizes(L, 2, size);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_expand(r, t, nd, size));
  return 1;
}

static int m_expand_as(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1), *o = em_lua_checktensor(L, 2);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_expand(r, t, o->ndim, o->size));
  return 1;
}

static int m_unfold(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int d = em_lua_checkdim(L, 2, t, 0);
  lua_Integer size = luaL_checkinteger(L, 3), step = luaL_checkinteger(L, 4);
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_tensor_unfold(r, t, d, size, step));
  return 1;
}

/* --- t[key] and t[key] = v --- */

/* Applies a table key {i, {a,b}, {}, ...} to view v (in place). Returns 1 when every
 * dim was selected by a number, with the element's multi-index in idx (v unchanged). */
static int apply_table_key(lua_State *L, em_tensor *v, int key, int64_t *idx) {
  int n = (int)luaL_len(L, key);
  if (n > v->ndim) luaL_error(L, "index: %d indices for a %d-dimensional tensor", n, v->ndim);
  int all_numbers = n == v->ndim;
  for (int i = 1; i <= n && all_numbers; i++) {
    lua_geti(L, key, i);
    all_numbers = lua_type(L, -1) == LUA_TNUMBER;
    lua_pop(L, 1);
  }
  int d = 0;
  for (int i = 1; i <= n; i++) {
    int ty = lua_geti(L, key, i);
    int arg = lua_gettop(L);
    if (ty == LUA_TNUMBER) {
      int64_t j = em_lua_checkindex(L, arg, v->size[d], "index");
      if (all_numbers) idx[i - 1] = j, d++;
      else em_lua_call(L, em_tensor_select(v, v, d, j));
    } else if (ty == LUA_TTABLE) {
      int m = (int)luaL_len(L, arg);
      int64_t sz = v->size[d], a = 1, b = sz;
      if (m >= 1) { lua_geti(L, arg, 1); a = luaL_checkinteger(L, -1); lua_pop(L, 1); }
      b = a;
      if (m >= 2) { lua_geti(L, arg, 2); b = luaL_checkinteger(L, -1); lua_pop(L, 1); }
      if (m == 0) { a = 1; b = sz; }
      int64_t a0 = a < 0 ? a + sz + 1 : a, b0 = b < 0 ? b + sz + 1 : b;
      if (a0 < 1 || b0 > sz || b0 < a0 - 1)
        luaL_error(L, "index: range {%d, %d} out of bounds for dimension %d of size %d", (int)a, (int)b, i, (int)sz);
      em_lua_call(L, em_tensor_narrow(v, v, d, a0 - 1, b0 - a0 + 1));
      d++;
    } else {
      luaL_error(L, "index: entry %d of the index table is a %s (expected a number or a {first, last} table)", i, luaL_typename(L, arg));
    }
    lua_pop(L, 1);
  }
  return all_numbers;
}

static int m_index(lua_State *L) {
  int kt = lua_type(L, 2);
  if (kt == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(3));
    return 1;
  }
  em_tensor *t = em_lua_checktensor(L, 1);
  if (kt == LUA_TNUMBER) {
    if (t->ndim == 0) luaL_error(L, "index: indexing an empty tensor");
    int64_t i = em_lua_checkindex(L, 2, t->size[0], "index");
    if (t->ndim == 1) {
      check_host(L, t, "index");
      push_elem(L, t->dtype, elem_at1(t, i));
      return 1;
    }
    em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
    em_lua_call(L, em_tensor_select(r, t, 0, i));
    return 1;
  }
  if (kt == LUA_TTABLE || kt == LUA_TUSERDATA) {
    em_tensor *key = em_lua_totensor(L, 2);
    if (key) return em_lua_index_get_tensor(L, t, key);
    if (kt != LUA_TTABLE) return luaL_error(L, "index: a %s cannot index a tensor", luaL_typename(L, 2));
    em_tensor *r = em_lua_pushview(L, t);
    int64_t idx[EM_MAX_DIMS] = {0};
    if (apply_table_key(L, r, 2, idx)) {
      check_host(L, t, "index");
      push_elem(L, t->dtype, elem_at(t, idx));
    }
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

/* v := value at vi (a number fills, a tensor copies) */
static void assign(lua_State *L, em_tensor *v, int vi) {
  em_tensor *src = em_lua_totensor(L, vi);
  if (src) em_lua_call(L, em_tensor_copy(v, src));
  else em_lua_call(L, em_tensor_fill(v, em_lua_checkscalar(L, vi)));
}

static int m_newindex(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int kt = lua_type(L, 2);
  if (kt == LUA_TNUMBER) {
    if (t->ndim == 0) luaL_error(L, "index: indexing an empty tensor");
    int64_t i = em_lua_checkindex(L, 2, t->size[0], "index");
    if (t->ndim == 1 && !em_lua_totensor(L, 3)) {
      check_host(L, t, "index");
      store_elem(L, t->dtype, elem_at1(t, i), 3);
      return 0;
    }
    em_tensor *r = em_lua_pushview(L, t);
    if (t->ndim == 1) em_lua_call(L, em_tensor_narrow(r, t, 0, i, 1));
    else em_lua_call(L, em_tensor_select(r, t, 0, i));
    assign(L, r, 3);
    return 0;
  }
  em_tensor *key = em_lua_totensor(L, 2);
  if (key) { em_lua_index_set_tensor(L, t, key, 3); return 0; }
  if (kt != LUA_TTABLE) return luaL_error(L, "index: cannot assign through a %s key", luaL_typename(L, 2));
  em_tensor *r = em_lua_pushview(L, t);
  int64_t idx[EM_MAX_DIMS] = {0};
  if (apply_table_key(L, r, 2, idx)) {
    check_host(L, t, "index");
    if (em_lua_totensor(L, 3)) {
      int64_t one = 1;
      for (int d = 0; d < t->ndim; d++) em_lua_call(L, em_tensor_narrow(r, r, d, idx[d], one));
      assign(L, r, 3);
    } else {
      store_elem(L, t->dtype, elem_at(t, idx), 3);
    }
    return 0;
  }
  assign(L, r, 3);
  return 0;
}

static int m_gc(lua_State *L) {
  em_tensor *t = lua_touserdata(L, 1);
  if (t) em_tensor_release(t);
  return 0;
}

/* Raw first element address, for the embedding API and tests of sharing. */
static int m_data_ptr(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  lua_pushlightuserdata(L, em_tensor_data(t));
  return 1;
}

static const luaL_Reg functions[] = {
  {"empty", tensor_empty},
  {"full", tensor_full},
  {"getdefaulttensortype", get_default_dtype},
  {"isTensor", tensor_istensor},
  {"new", tensor_new},
  {"ones", tensor_ones},
  {"setdefaultdtype", set_default_dtype},
  {"zeros", tensor_zeros},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"clone", m_clone},
  {"contiguous", m_contiguous},
  {"copy", m_copy},
  {"dataPtr", m_data_ptr},
  {"device", m_device},
  {"dim", m_dim},
  {"dtype", m_dtype},
  {"elementSize", m_element_size},
  {"expand", m_expand},
  {"expandAs", m_expand_as},
  {"fill", m_fill},
  {"isContiguous", m_is_contiguous},
  {"isSameSizeAs", m_is_same_size_as},
  {"isSetTo", m_is_set_to},
  {"item", m_item},
  {"nDimension", m_dim},
  {"nElement", m_numel},
  {"narrow", m_narrow},
  {"numel", m_numel},
  {"permute", m_permute},
  {"reshape", m_reshape},
  {"resize", m_resize},
  {"resizeAs", m_resize_as},
  {"select", m_select},
  {"set", m_set},
  {"size", m_size},
  {"sizeTable", m_sizetable},
  {"squeeze", m_squeeze},
  {"storageOffset", m_storage_offset},
  {"stride", m_stride},
  {"sub", m_sub},
  {"t", m_t},
  {"totable", m_totable},
  {"transpose", m_transpose},
  {"type", m_type},
  {"unfold", m_unfold},
  {"unsqueeze", m_unsqueeze},
  {"view", m_view},
  {"viewAs", m_view_as},
  {"zero", m_zero},
  {NULL, NULL}
};

static const luaL_Reg metamethods[] = {
  {"__close", m_gc},
  {"__gc", m_gc},
  {"__len", m_len},
  {"__newindex", m_newindex},
  {NULL, NULL}
};

void em_lua_open_tensor(lua_State *L, int module, int methods_idx) {
  lua_pushvalue(L, module);
  em_lua_setfuncs(L, functions);
  lua_pop(L, 1);
  lua_pushvalue(L, methods_idx);
  em_lua_setfuncs(L, methods);
  lua_pop(L, 1);
  lua_pushvalue(L, EM_UPV_MT);
  em_lua_setfuncs(L, metamethods);
  /* __index: methods by name, elements and views by number or table */
  lua_pushvalue(L, EM_UPV_CTX);
  lua_pushvalue(L, EM_UPV_MT);
  lua_pushvalue(L, methods_idx);
  lua_pushcclosure(L, m_index, 3);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
