/* Binding for the reduce family: sum prod mean var std norm logsumexp all any, max min
 * argmax argmin median mode kthvalue, cumsum cumprod, sort topk.
 *
 * Torch7's call forms: x:sum(2), torch.sum(x, 2), and torch.sum(r, x, 2) into r; the
 * ops with positions also take torch.max(v, i, x, 2). Without a dim an op reduces
 * every element and returns a Lua value (an integer for integer results, a boolean for
 * all/any). Kept dimensions, as in Torch7: along dim d the result keeps d with size 1
 * (x:sum(2) of a 3x4 tensor is 3x1, x:max(1) gives 1x4 values and 1x4 indices).
 * Positions are 1-based LongTensors. Dims are 1-based, negatives count from the end.
 * Defaults follow Torch7: cumsum/cumprod along dim 1; sort, kthvalue and topk along
 * the last dim; sort ascending; topk returns the k smallest unless `largest` is true. */
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"
#include "reduce.h"

/* Leading tensors: when the first nout + 1 arguments are tensors they are the outputs
 * and x (Torch7's result form); else x is argument 1. Returns x's index. */
static int leading(lua_State *L, int nout) {
  for (int i = 1; i <= nout + 1; i++)
    if (!em_lua_totensor(L, i)) {
      em_lua_checktensor(L, 1);
      return 1;
    }
  return nout + 1;
}

/* A 1-based dim argument (negatives from the end) as a 0-based dim of x; the error
 * names the op. */
static int check_dim(lua_State *L, int arg, const em_tensor *x, const char *op) {
  lua_Integer d = luaL_checkinteger(L, arg);
  lua_Integer d0 = d < 0 ? d + x->ndim : d - 1;
  if (d0 < 0 || d0 >= x->ndim)
    luaL_error(L, "%s: dimension %d out of range for a %d-dimensional tensor", op, (int)d, x->ndim);
  return (int)d0;
}

/* An optional dim: absent or nil gives def (which may be -1: "over all"). */
static int opt_dim(lua_State *L, int arg, const em_tensor *x, const char *op, int def) {
  return lua_isnoneornil(L, arg) ? def : check_dim(L, arg, x, op);
}

static void push_value(lua_State *L, const em_value *v) {
  if (v->dtype == EM_BOOL) lua_pushboolean(L, v->i != 0);
  else if (em_dtype_info[v->dtype].is_float) lua_pushnumber(L, v->f);
  else lua_pushinteger(L, (lua_Integer)v->i);
}

/* Shared body of the plain reductions: [r,] x [, dim] with the op's argument arg.
 * dim_arg: where the dim is, relative to x. */
static int reduce(lua_State *L, em_reduce_op op, double arg, int dim_arg) {
  int xi = leading(L, 1);
  em_tensor *x = em_lua_checktensor(L, xi);
  const char *name = em_reduce_op_name[op];
  int dim = opt_dim(L, xi + dim_arg, x, name, -1);
  if (dim < 0) {
    if (xi > 1) luaL_error(L, "%s: a result tensor needs a dimension", name);
    em_value v;
    em_lua_call(L, em_reduce_all(op, x, arg, &v));
    push_value(L, &v);
    return 1;
  }
  em_tensor *r;
  if (xi > 1) {
    r = em_lua_checktensor(L, 1);
    lua_pushvalue(L, 1);
  } else {
    em_dtype dt = em_reduce_dtype(op, x->dtype, em_lua_ctx(L)->default_dtype);
    r = em_lua_newtensor(L, dt, x->device);
  }
  em_lua_call(L, em_reduce(op, r, x, dim, arg));
  return 1;
}

static int l_sum(lua_State *L) { return reduce(L, EM_REDUCE_SUM, 0, 1); }
static int l_prod(lua_State *L) { return reduce(L, EM_REDUCE_PROD, 0, 1); }
static int l_mean(lua_State *L) { return reduce(L, EM_REDUCE_MEAN, 0, 1); }
static int l_all(lua_State *L) { return reduce(L, EM_REDUCE_ALL, 0, 1); }
static int l_any(lua_State *L) { return reduce(L, EM_REDUCE_ANY, 0, 1); }
static int l_logsumexp(lua_State *L) { return reduce(L, EM_REDUCE_LOGSUMEXP, 0, 1); }

/* var/std([r,] x [, dim] [, biased]): biased (Torch7's flag) divides by n, else n - 1.
 * x:var(true) is the biased variance of all elements. */
static int var_std(lua_State *L, em_reduce_op op) {
  int xi = leading(L, 1);
  int flag = xi + 2;
  if (lua_isboolean(L, xi + 1)) {   /* no dim: flag in its place */
    flag = xi + 1;
    if (!lua_isnoneornil(L, xi + 2)) luaL_error(L, "%s: expected ([dim] [, biased])", em_reduce_op_name[op]);
  }
  int biased = lua_toboolean(L, flag);
  if (flag == xi + 1) {
    lua_settop(L, xi);
    lua_pushnil(L);
  }
  return reduce(L, op, biased, 1);
}

static int l_var(lua_State *L) { return var_std(L, EM_REDUCE_VAR); }
static int l_std(lua_State *L) { return var_std(L, EM_REDUCE_STD); }

/* norm([r,] x [, p [, dim]]): p-norm, p = 2 by default, math.huge for the max norm. */
static int l_norm(lua_State *L) {
  int xi = leading(L, 1);
  double p = luaL_optnumber(L, xi + 1, 2);
  if (!(p >= 0)) luaL_error(L, "norm: p must be >= 0 (or math.huge), got %f", p);
  return reduce(L, EM_REDUCE_NORM, p, 2);
}

/* Shared body of the selections with positions: [v, i,] x [, k] [, dim]. Without a
 * dim (def_dim -1) returns the value only (argmax: the flat 1-based position). */
static int select_op(lua_State *L, em_select_op op, int64_t k, int dim_arg, int def_dim,
                     int positions_only) {
  int xi = leading(L, 2);
  em_tensor *x = em_lua_checktensor(L, xi);
  const char *name = positions_only ? (op == EM_SELECT_MAX ? "argmax" : "argmin") : em_select_op_name[op];
  if (def_dim == -2) def_dim = x->ndim - 1;   /* last dim */
  int dim = opt_dim(L, xi + dim_arg, x, name, def_dim);
  if (dim < 0) {
    if (xi > 1) luaL_error(L, "%s: result tensors need a dimension", name);
    if (positions_only && em_tensor_numel(x) == 0) luaL_error(L, "%s: tensor has no elements", name);
    em_value v;
    int64_t pos;
    em_lua_call(L, em_select_all(op, x, k, 1, &v, &pos));
    if (positions_only) lua_pushinteger(L, (lua_Integer)pos);
    else push_value(L, &v);
    return 1;
  }
  em_tensor *v, *ix;
  if (xi > 1) {
    v = em_lua_checktensor(L, 1);
    ix = em_lua_checktensor(L, 2);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
  } else {
    v = em_lua_newtensor(L, x->dtype, x->device);
    ix = em_lua_newtensor(L, EM_INT64, x->device);
  }
  em_lua_call(L, em_select(op, v, ix, x, dim, k, 1));
  if (!positions_only) return 2;
  lua_remove(L, -2);   /* argmax/argmin: the positions only */
  return 1;
}

/* max/min(x) -> number; max/min([v, i,] x, dim) -> values, indices. torch.max(a, b)
 * with two tensors and no dim is cmax, which belongs to the math family. */
static int max_min(lua_State *L, em_select_op op) {
  if (em_lua_totensor(L, 1) && em_lua_totensor(L, 2) && !em_lua_totensor(L, 3))
    luaL_error(L, "%s: two tensors given; use torch.c%s(a, b) for the element-wise %s",
               em_select_op_name[op], em_select_op_name[op], em_select_op_name[op]);
  return select_op(L, op, 0, 1, -1, 0);
}

static int l_max(lua_State *L) { return max_min(L, EM_SELECT_MAX); }
static int l_min(lua_State *L) { return max_min(L, EM_SELECT_MIN); }
static int l_argmax(lua_State *L) { return select_op(L, EM_SELECT_MAX, 0, 1, -1, 1); }
static int l_argmin(lua_State *L) { return select_op(L, EM_SELECT_MIN, 0, 1, -1, 1); }
static int l_median(lua_State *L) { return select_op(L, EM_SELECT_MEDIAN, 0, 1, -1, 0); }
static int l_mode(lua_State *L) { return select_op(L, EM_SELECT_MODE, 0, 1, -1, 0); }

/* kthvalue([v, i,] x, k [, dim]): the k-th smallest (1-based k) along dim (default last). */
static int l_kthvalue(lua_State *L) {
  int xi = leading(L, 2);
  em_tensor *x = em_lua_checktensor(L, xi);
  lua_Integer k = luaL_checkinteger(L, xi + 1);
  int dim = opt_dim(L, xi + 2, x, "kthvalue", x->ndim - 1);
  if (dim < 0) luaL_error(L, "kthvalue: tensor has no dimensions (it is empty)");
  if (k < 1 || k > x->size[dim])
    luaL_error(L, "kthvalue: k %d out of range for dimension %d of size %d", (int)k, dim + 1,
               (int)x->size[dim]);
  return select_op(L, EM_SELECT_KTHVALUE, (int64_t)k - 1, 2, x->ndim - 1, 0);
}

/* cumsum/cumprod([r,] x [, dim]): running sum / product along dim (default 1). */
static int scan(lua_State *L, em_scan_op op) {
  int xi = leading(L, 1);
  em_tensor *x = em_lua_checktensor(L, xi);
  const char *name = em_scan_op_name[op];
  int dim = opt_dim(L, xi + 1, x, name, 0);
  if (x->ndim == 0) luaL_error(L, "%s: tensor is empty (it has no dimensions)", name);
  em_tensor *r;
  if (xi > 1) {
    r = em_lua_checktensor(L, 1);
    lua_pushvalue(L, 1);
  } else {
    r = em_lua_newtensor(L, em_scan_dtype(x->dtype), x->device);
  }
  em_lua_call(L, em_scan(op, r, x, dim));
  return 1;
}

static int l_cumsum(lua_State *L) { return scan(L, EM_SCAN_CUMSUM); }
static int l_cumprod(lua_State *L) { return scan(L, EM_SCAN_CUMPROD); }

/* The outputs of sort/topk: given (xi > 1) or new. */
static void pair_outputs(lua_State *L, int xi, const em_tensor *x, em_tensor **v, em_tensor **ix) {
  if (xi > 1) {
    *v = em_lua_checktensor(L, 1);
    *ix = em_lua_checktensor(L, 2);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
  } else {
    *v = em_lua_newtensor(L, x->dtype, x->device);
    *ix = em_lua_newtensor(L, EM_INT64, x->device);
  }
}

/* sort([v, i,] x [, dim] [, descending]) -> values, indices; stable; dim default last. */
static int l_sort(lua_State *L) {
  int xi = leading(L, 2);
  em_tensor *x = em_lua_checktensor(L, xi);
  int desc_arg = xi + 2;
  if (lua_isboolean(L, xi + 1)) desc_arg = xi + 1;   /* sort(x, true) */
  int dim = desc_arg == xi + 1 ? x->ndim - 1 : opt_dim(L, xi + 1, x, "sort", x->ndim - 1);
  if (dim < 0) luaL_error(L, "sort: tensor is empty (it has no dimensions)");
  int desc = lua_toboolean(L, desc_arg);
  em_tensor *v, *ix;
  pair_outputs(L, xi, x, &v, &ix);
  em_lua_call(L, em_sort(v, ix, x, dim, desc, 1));
  return 2;
}

/* topk([v, i,] x, k [, dim [, largest [, sorted]]]) -> values, indices along dim
 * (default last): the k smallest unless largest (Torch7's dir flag); sorted by default. */
static int l_topk(lua_State *L) {
  int xi = leading(L, 2);
  em_tensor *x = em_lua_checktensor(L, xi);
  lua_Integer k = luaL_checkinteger(L, xi + 1);
  int dim = opt_dim(L, xi + 2, x, "topk", x->ndim - 1);
  if (dim < 0) luaL_error(L, "topk: tensor is empty (it has no dimensions)");
  int largest = lua_toboolean(L, xi + 3);
  int sorted = lua_isnoneornil(L, xi + 4) ? 1 : lua_toboolean(L, xi + 4);
  if (k < 0 || k > x->size[dim])
    luaL_error(L, "topk: k %d out of range for dimension %d of size %d", (int)k, dim + 1,
               (int)x->size[dim]);
  em_tensor *v, *ix;
  pair_outputs(L, xi, x, &v, &ix);
  em_lua_call(L, em_topk(v, ix, x, (int64_t)k, dim, largest, sorted, 1));
  return 2;
}

static const luaL_Reg functions[] = {
  {"all", l_all},
  {"any", l_any},
  {"argmax", l_argmax},
  {"argmin", l_argmin},
  {"cumprod", l_cumprod},
  {"cumsum", l_cumsum},
  {"kthvalue", l_kthvalue},
  {"logsumexp", l_logsumexp},
  {"max", l_max},
  {"mean", l_mean},
  {"median", l_median},
  {"min", l_min},
  {"mode", l_mode},
  {"norm", l_norm},
  {"prod", l_prod},
  {"sort", l_sort},
  {"std", l_std},
  {"sum", l_sum},
  {"topk", l_topk},
  {"var", l_var},
  {NULL, NULL}
};

/* The same functions serve torch.sum(x, ...) and x:sum(...). */
void em_lua_open_reduce(lua_State *L, int module, int methods) {
  lua_pushvalue(L, module);
  em_lua_setfuncs(L, functions);
  lua_pop(L, 1);
  lua_pushvalue(L, methods);
  em_lua_setfuncs(L, functions);
  lua_pop(L, 1);
}
