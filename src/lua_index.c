/* Binding for indexing by tensors and masks, joining and splitting: index/indexSelect,
 * indexCopy/Add/Fill, gather, scatter/scatterAdd, nonzero, masked*, cat, stack, split,
 * chunk, and t[key] / t[key] = v with tensor keys. Lua's 1-based index tensors become
 * 0-based here (em_index_shift), once; nonzero's positions go back to 1-based here. */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "index.h"
#include "lua_ember.h"

/* --- argument helpers --- */

/* A 1-based dim argument of op on t (negative from the end) to 0-based. */
static int check_dim(lua_State *L, int arg, const em_tensor *t, const char *op) {
  lua_Integer d = luaL_checkinteger(L, arg), n = t->ndim;
  lua_Integer j = d < 0 ? d + n + 1 : d;
  if (j < 1 || j > n)
    luaL_error(L, "%s: dimension %d out of range for a %d-dimensional tensor", op, (int)d, t->ndim);
  return (int)j - 1;
}

/* The 1-based index tensor at arg as a pushed, 0-based int64 tensor. */
static em_tensor *check_index(lua_State *L, int arg, const char *op) {
  em_tensor *idx = em_lua_totensor(L, arg);
  if (!idx) luaL_error(L, "%s: the index must be a LongTensor, got a %s", op, luaL_typename(L, arg));
  if (idx->dtype != EM_INT64 && idx->dtype != EM_INT32)
    luaL_error(L, "%s: indices must be a LongTensor (int64) or IntTensor (int32), got %s", op,
               em_dtype_info[idx->dtype].torch_name);
  em_tensor *z = em_lua_newtensor(L, EM_INT64, idx->device);
  em_lua_call(L, em_index_shift(z, idx, -1));
  return z;
}

static em_tensor *check_tensor(lua_State *L, int arg, const char *op, const char *what) {
  em_tensor *t = em_lua_totensor(L, arg);
  if (!t) luaL_error(L, "%s: %s must be a tensor, got a %s", op, what, luaL_typename(L, arg));
  return t;
}

/* Torch7's optional result first: f([res,] src, ...), told apart by a tensor at arg
 * `probe` (where the short form has none). Returns the index of src; *res is the
 * result tensor (pushed new when absent, with dtype dt or src's when dt < 0). */
static int result_and_source(lua_State *L, em_tensor **res, int dt, int probe) {
  int src_arg = em_lua_totensor(L, probe) ? 2 : 1;
  em_tensor *src = em_lua_checktensor(L, src_arg);
  if (src_arg == 2) {
    *res = em_lua_checktensor(L, 1);
    lua_pushvalue(L, 1);
  } else {
    *res = em_lua_newtensor(L, dt < 0 ? src->dtype : (em_dtype)dt, src->device);
  }
  return src_arg;
}

/* --- selecting by index tensors --- */

/* [res] index([res,] src, dim, idx) == indexSelect: src's slices idx along dim */
static int l_index_select(lua_State *L) {
  em_tensor *res;
  int s = result_and_source(L, &res, -1, 2);
  int ri = lua_gettop(L);
  em_tensor *src = em_lua_checktensor(L, s);
  int dim = check_dim(L, s + 1, src, "indexSelect");
  em_tensor *idx = check_index(L, s + 2, "indexSelect");
  em_lua_call(L, em_index_select(res, src, dim, idx));
  lua_pushvalue(L, ri);
  return 1;
}

/* self indexCopy(dim, idx, src) / indexAdd(dim, idx, src) */
static int index_copy(lua_State *L, const char *op, int accumulate) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int dim = check_dim(L, 2, t, op);
  em_tensor *src = check_tensor(L, 4, op, "the source");
  em_tensor *idx = check_index(L, 3, op);
  em_lua_call(L, accumulate ? em_index_add(t, dim, idx, src) : em_index_copy(t, dim, idx, src));
  lua_settop(L, 1);
  return 1;
}

static int l_index_copy(lua_State *L) { return index_copy(L, "indexCopy", 0); }
static int l_index_add(lua_State *L) { return index_copy(L, "indexAdd", 1); }

/* self indexFill(dim, idx, value) */
static int l_index_fill(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int dim = check_dim(L, 2, t, "indexFill");
  double v = em_lua_checkscalar(L, 4);
  em_tensor *idx = check_index(L, 3, "indexFill");
  em_lua_call(L, em_index_fill(t, dim, idx, v));
  lua_settop(L, 1);
  return 1;
}

/* [res] gather([res,] src, dim, idx): res[i][j] = src[idx[i][j]][j] for dim 1 */
static int l_gather(lua_State *L) {
  em_tensor *res;
  int s = result_and_source(L, &res, -1, 2);
  int ri = lua_gettop(L);
  em_tensor *src = em_lua_checktensor(L, s);
  int dim = check_dim(L, s + 1, src, "gather");
  em_tensor *idx = check_index(L, s + 2, "gather");
  em_lua_call(L, em_gather(res, src, dim, idx));
  lua_pushvalue(L, ri);
  return 1;
}

/* self scatter(dim, idx, src or value): self[idx[i][j]][j] = src[i][j] for dim 1 */
static int l_scatter(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int dim = check_dim(L, 2, t, "scatter");
  em_tensor *src = em_lua_totensor(L, 4);
  double v = src ? 0 : em_lua_checkscalar(L, 4);
  em_tensor *idx = check_index(L, 3, "scatter");
  em_lua_call(L, src ? em_scatter(t, dim, idx, src) : em_scatter_fill(t, dim, idx, v));
  lua_settop(L, 1);
  return 1;
}

static int l_scatter_add(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int dim = check_dim(L, 2, t, "scatterAdd");
  em_tensor *src = check_tensor(L, 4, "scatterAdd", "the source");
  em_tensor *idx = check_index(L, 3, "scatterAdd");
  em_lua_call(L, em_scatter_add(t, dim, idx, src));
  lua_settop(L, 1);
  return 1;
}

/* --- masks --- */

/* [res] nonzero([res,] src): N x ndim LongTensor of 1-based positions */
static int l_nonzero(lua_State *L) {
  em_tensor *res;
  int s = result_and_source(L, &res, EM_INT64, 2);
  em_tensor *src = em_lua_checktensor(L, s);
  if (res->dtype != EM_INT64) luaL_error(L, "nonzero: the result must be a LongTensor");
  em_lua_call(L, em_nonzero(res, src));
  em_lua_call(L, em_index_shift(res, res, 1));
  return 1;
}

/* [res] maskedSelect([res,] src, mask): 1-D, src's elements where mask, row-major */
static int l_masked_select(lua_State *L) {
  em_tensor *res;
  int s = result_and_source(L, &res, -1, 3);
  em_tensor *src = em_lua_checktensor(L, s);
  em_tensor *mask = check_tensor(L, s + 1, "maskedSelect", "the mask");
  em_lua_call(L, em_masked_select(res, src, mask));
  return 1;
}

static int l_masked_fill(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_tensor *mask = check_tensor(L, 2, "maskedFill", "the mask");
  em_lua_call(L, em_masked_fill(t, mask, em_lua_checkscalar(L, 3)));
  lua_settop(L, 1);
  return 1;
}

static int l_masked_copy(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_tensor *mask = check_tensor(L, 2, "maskedCopy", "the mask");
  em_tensor *src = check_tensor(L, 3, "maskedCopy", "the source");
  em_lua_call(L, em_masked_copy(t, mask, src));
  lua_settop(L, 1);
  return 1;
}

/* --- joining and splitting --- */

/* The tensors of the table at arg, as a pushed array of n pointers. */
static const em_tensor **table_tensors(lua_State *L, int arg, const char *op, int *n) {
  *n = (int)luaL_len(L, arg);
  const em_tensor **xs = lua_newuserdatauv(L, sizeof *xs * (size_t)(*n > 0 ? *n : 1), 0);
  for (int i = 0; i < *n; i++) {
    lua_geti(L, arg, i + 1);
    xs[i] = em_lua_totensor(L, -1);
    if (!xs[i]) luaL_error(L, "%s: entry %d of the table is a %s, expected a tensor", op, i + 1, luaL_typename(L, -1));
    lua_pop(L, 1);   /* the table keeps it alive */
  }
  return xs;
}

/* [res] cat([res,] x1, x2, [dim]) or cat([res,] {x1, x2, ...}, [dim]). The default
 * dim (absent or -1) is Torch7's: the last dim of the input with the most dims. As in
 * Torch7, three leading tensors mean (res, x1, x2). */
static int l_cat(lua_State *L) {
  int n, list, res_arg = 0, dim_arg;
  const em_tensor *pair[2], **xs = pair;
  if (lua_istable(L, 1) && !em_lua_totensor(L, 1)) {
    list = 1;
  } else if (em_lua_totensor(L, 1) && lua_istable(L, 2) && !em_lua_totensor(L, 2)) {
    res_arg = 1;
    list = 2;
  } else {
    list = 0;
    res_arg = em_lua_totensor(L, 3) ? 1 : 0;
    pair[0] = check_tensor(L, res_arg + 1, "cat", "argument 1");
    pair[1] = check_tensor(L, res_arg + 2, "cat", "argument 2");
    n = 2;
  }
  dim_arg = list ? list + 1 : res_arg + 3;
  lua_Integer d = luaL_optinteger(L, dim_arg, -1);
  if (d < 1 && d != -1) luaL_error(L, "cat: dimension %d out of range", (int)d);
  if (list) xs = table_tensors(L, list, "cat", &n);
  em_tensor *res;
  if (res_arg) {
    res = em_lua_checktensor(L, res_arg);
    lua_pushvalue(L, res_arg);
  } else {
    const em_tensor *like = n > 0 ? xs[0] : NULL;
    for (int i = 0; i < n; i++) if (xs[i]->ndim > 0) { like = xs[i]; break; }
    res = em_lua_newtensor(L, like ? like->dtype : em_lua_ctx(L)->default_dtype,
                           like ? like->device : (em_device){EM_CPU, 0});
  }
  em_lua_call(L, em_cat(res, n, xs, d == -1 ? -1 : (int)d - 1));
  return 1;
}

/* [res] stack([res,] {x1, x2, ...}, [dim]): a new dim (default 1) indexes the inputs */
static int l_stack(lua_State *L) {
  int res_arg = em_lua_totensor(L, 1) ? 1 : 0, list = res_arg + 1, n;
  luaL_checktype(L, list, LUA_TTABLE);
  lua_Integer d = luaL_optinteger(L, list + 1, 1);
  const em_tensor **xs = table_tensors(L, list, "stack", &n);
  int nd = n > 0 ? xs[0]->ndim : 0;
  lua_Integer j = d < 0 ? d + nd + 2 : d;
  if (j < 1 || j > nd + 1)
    luaL_error(L, "stack: dimension %d out of range for %d-dimensional tensors", (int)d, nd);
  int dim = (int)j - 1;
  em_tensor *res;
  if (res_arg) {
    res = em_lua_checktensor(L, 1);
    lua_pushvalue(L, 1);
  } else {
    res = em_lua_newtensor(L, n > 0 ? xs[0]->dtype : em_lua_ctx(L)->default_dtype,
                           n > 0 ? xs[0]->device : (em_device){EM_CPU, 0});
  }
  em_lua_call(L, em_stack(res, n, xs, dim));
  return 1;
}

/* Pushes the views of t along dim in pieces of `size` (the last may be shorter) into
 * the table at tbl, after emptying it. */
static void push_splits(lua_State *L, int tbl, const em_tensor *t, int dim, int64_t size) {
  lua_pushnil(L);
  while (lua_next(L, tbl)) {       /* Torch7 empties a given result table */
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, tbl);
  }
  int64_t n = t->size[dim];
  for (int64_t start = 0, i = 1; start < n; start += size, i++) {
    em_tensor *v = em_lua_newtensor(L, t->dtype, t->device);
    em_lua_call(L, em_tensor_narrow(v, t, dim, start, n - start < size ? n - start : size));
    lua_rawseti(L, tbl, i);
  }
}

/* split/chunk([result,] x, k, [dim]): k is the piece size (split) or count (chunk) */
static int split_or_chunk(lua_State *L, const char *op, int is_chunk) {
  int s = lua_istable(L, 1) && !em_lua_totensor(L, 1) ? 2 : 1;
  em_tensor *t = em_lua_checktensor(L, s);
  lua_Integer k = luaL_checkinteger(L, s + 1);
  int dim = lua_isnoneornil(L, s + 2) ? 0 : check_dim(L, s + 2, t, op);
  if (t->ndim == 0) luaL_error(L, "%s: cannot split an empty tensor", op);
  if (k < 1) luaL_error(L, "%s: %s must be positive, got %d", op, is_chunk ? "the number of chunks" : "the size", (int)k);
  int64_t size = is_chunk ? (t->size[dim] + k - 1) / k : k;
  if (size < 1) size = 1;
  if (s == 1) lua_newtable(L);
  else lua_pushvalue(L, 1);
  push_splits(L, lua_gettop(L), t, dim, size);
  return 1;
}

static int l_split(lua_State *L) { return split_or_chunk(L, "split", 0); }
static int l_chunk(lua_State *L) { return split_or_chunk(L, "chunk", 1); }

/* --- t[key] and t[key] = v with tensor keys --- */

static int is_mask(const em_tensor *k) { return k->dtype == EM_BOOL || k->dtype == EM_UINT8; }
static int is_index(const em_tensor *k) { return k->dtype == EM_INT64 || k->dtype == EM_INT32; }

static void bad_key(lua_State *L, const em_tensor *key) {
  luaL_error(L, "index: a %s cannot index a tensor (use a LongTensor of indices or a "
             "BoolTensor/ByteTensor mask)", em_dtype_info[key->dtype].torch_name);
}

/* t[mask] -> maskedSelect; t[LongTensor] -> indexSelect along dim 1 */
int em_lua_index_get_tensor(lua_State *L, em_tensor *t, em_tensor *key) {
  if (is_mask(key)) {
    em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
    em_lua_call(L, em_masked_select(r, t, key));
    return 1;
  }
  if (!is_index(key)) bad_key(L, key);
  em_tensor *z = em_lua_newtensor(L, EM_INT64, key->device);
  em_lua_call(L, em_index_shift(z, key, -1));
  em_tensor *r = em_lua_newtensor(L, t->dtype, t->device);
  em_lua_call(L, em_index_select(r, t, 0, z));
  return 1;
}

/* The value at vi as a tensor of t's dtype (converted when it differs), pushed. */
static em_tensor *value_as(lua_State *L, em_tensor *t, em_tensor *v) {
  if (v->dtype == t->dtype) return em_lua_pushview(L, v);
  em_tensor *c = em_lua_newtensor(L, t->dtype, v->device);
  em_lua_call(L, em_tensor_clone_as(c, v, t->dtype));
  return c;
}

/* t[mask] = v -> maskedFill / maskedCopy; t[LongTensor] = v -> indexFill / indexCopy
 * along dim 1 (a tensor v broadcasts to the selected rows' shape). */
void em_lua_index_set_tensor(lua_State *L, em_tensor *t, em_tensor *key, int value_idx) {
  em_tensor *v = em_lua_totensor(L, value_idx);
  double x = v ? 0 : em_lua_checkscalar(L, value_idx);
  if (is_mask(key)) {
    if (!v) { em_lua_call(L, em_masked_fill(t, key, x)); return; }
    em_lua_call(L, em_masked_copy(t, key, value_as(L, t, v)));
    return;
  }
  if (!is_index(key)) bad_key(L, key);
  if (t->ndim == 0) luaL_error(L, "index: indexing an empty tensor");
  em_tensor *z = em_lua_newtensor(L, EM_INT64, key->device);
  em_lua_call(L, em_index_shift(z, key, -1));
  if (!v) { em_lua_call(L, em_index_fill(t, 0, z, x)); return; }
  em_tensor *src = value_as(L, t, v);
  int64_t size[EM_MAX_DIMS];
  for (int d = 0; d < t->ndim; d++) size[d] = d == 0 ? (z->ndim ? z->size[0] : 0) : t->size[d];
  if (src->ndim != t->ndim || memcmp(src->size, size, sizeof(int64_t) * (size_t)t->ndim) != 0) {
    em_tensor *e = em_lua_newtensor(L, src->dtype, src->device);
    if (em_tensor_expand(e, src, t->ndim, size) == EM_OK) src = e;   /* else indexCopy names the sizes */
  }
  em_lua_call(L, em_index_copy(t, 0, z, src));
}

static const luaL_Reg functions[] = {
  {"cat", l_cat},
  {"chunk", l_chunk},
  {"gather", l_gather},
  {"index", l_index_select},
  {"indexAdd", l_index_add},
  {"indexCopy", l_index_copy},
  {"indexFill", l_index_fill},
  {"indexSelect", l_index_select},
  {"maskedCopy", l_masked_copy},
  {"maskedFill", l_masked_fill},
  {"maskedSelect", l_masked_select},
  {"nonzero", l_nonzero},
  {"scatter", l_scatter},
  {"scatterAdd", l_scatter_add},
  {"split", l_split},
  {"stack", l_stack},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"cat", l_cat},
  {"chunk", l_chunk},
  {"gather", l_gather},
  {"index", l_index_select},
  {"indexAdd", l_index_add},
  {"indexCopy", l_index_copy},
  {"indexFill", l_index_fill},
  {"indexSelect", l_index_select},
  {"maskedCopy", l_masked_copy},
  {"maskedFill", l_masked_fill},
  {"maskedSelect", l_masked_select},
  {"nonzero", l_nonzero},
  {"scatter", l_scatter},
  {"scatterAdd", l_scatter_add},
  {"split", l_split},
  {NULL, NULL}
};

void em_lua_open_index(lua_State *L, int module, int methods_idx) {
  lua_pushvalue(L, module);
  em_lua_setfuncs(L, functions);
  lua_pushvalue(L, methods_idx);
  em_lua_setfuncs(L, methods);
  lua_pop(L, 2);
}
