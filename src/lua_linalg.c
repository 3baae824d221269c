/* Binding for the linalg family (blas.h) and the thread count: Torch7's dot, mv, mm,
 * bmm, ger/outer, the add* updates with their optional scalars, and PyTorch's matmul.
 *
 * Call forms, as in Torch7: torch.mm(a, b) makes a new result, torch.mm(r, a, b) and
 * r:mm(a, b) write into r (a:mm(b), two tensors, is a new a @ b). The add* functions
 * take ([res,] [v1,] M, [v2,] x, y); as methods, self is the result and, when M is
 * left out, also M: M:addmm(a, b) is M += a @ b, M:addmm(v1, v2, a, b), and with one
 * scalar r:addmv(s, a, x) is r += s * a @ x (Torch7's maths.md).
 *
 * Every product but dot takes a last optional string, the precision: 'bfloat16' reads
 * float32 operands as bfloat16 and sums in float32 (nn.autocast), as in
 * torch.mm(a, b, 'bfloat16') or r:addmm(a, b, 'bfloat16'). */
#include <lauxlib.h>
#include <lua.h>

#include "blas.h"
#include "cpu.h"
#include "lua_ember.h"
#include "parallel.h"

typedef int (*product_fn)(em_tensor *r, const em_tensor *a, const em_tensor *b,
                          em_precision prec);
typedef int (*add_fn)(em_tensor *r, double beta, const em_tensor *m, double alpha,
                      const em_tensor *x, const em_tensor *y, em_precision prec);

/* The precision given as the last argument (a string, or nil for full precision: what
 * nn.autocastFor returns), removed from the stack; full precision when the last argument
 * is a tensor or a number. */
static em_precision pop_precision(lua_State *L) {
  int top = lua_gettop(L);
  if (top > 0 && lua_isnil(L, top)) {
    lua_settop(L, top - 1);
    return EM_PRECISION_FULL;
  }
  if (top == 0 || lua_type(L, top) != LUA_TSTRING) return EM_PRECISION_FULL;
  em_precision prec = em_lua_optprecision(L, top);
  lua_settop(L, top - 1);
  return prec;
}

/* The single element of t, read to the host: *d for float dtypes, else *i. */
static int read_element(const em_tensor *t, double *d, int64_t *i) {
  em_tensor host;
  em_tensor_init(&host, t->ctx, t->dtype, (em_device){EM_CPU, 0});
  int st = EM_OK;
  if (t->device.type == EM_CPU) {
    em_tensor_set(&host, t);
  } else {
    int64_t one = 1;
    st = em_tensor_resize(&host, 1, &one);
    if (st == EM_OK) st = em_tensor_copy(&host, t);
  }
  if (st == EM_OK) {
    const void *p = em_tensor_data(&host);
    if (em_dtype_info[t->dtype].is_float) *d = em_dtype_get(t->dtype, p);
    else *i = em_dtype_get_i64(t->dtype, p);
  }
  em_tensor_release(&host);
  return st;
}

/* Pushes the element read by read_element as a Lua number (an integer for integer
 * dtypes). */
static void push_read(lua_State *L, em_dtype dt, double d, int64_t i) {
  if (em_dtype_info[dt].is_float) lua_pushnumber(L, d);
  else lua_pushinteger(L, i);
}

/* Pushes the single element of t as a Lua number (an integer for integer dtypes). */
static void push_element(lua_State *L, const em_tensor *t) {
  double d = 0;
  int64_t i = 0;
  em_lua_check(L, read_element(t, &d, &i));
  push_read(L, t->dtype, d, i);
}

/* [res,] a, b [, precision]: two tensors give a new result, three write into the
 * first. Returns the result's stack index. */
static int call_product(lua_State *L, product_fn fn, em_precision prec) {
  em_tensor *r;
  int ri;
  if (lua_isnoneornil(L, 3)) {
    em_tensor *a = em_lua_checktensor(L, 1), *b = em_lua_checktensor(L, 2);
    r = em_lua_newtensor(L, a->dtype, a->device);
    ri = lua_gettop(L);
    em_lua_call(L, fn(r, a, b, prec));
  } else {
    r = em_lua_checktensor(L, 1);
    em_tensor *a = em_lua_checktensor(L, 2), *b = em_lua_checktensor(L, 3);
    ri = 1;
    em_lua_call(L, fn(r, a, b, prec));
  }
  return ri;
}

static int product(lua_State *L, product_fn fn) {
  em_precision prec = pop_precision(L);
  lua_pushvalue(L, call_product(L, fn, prec));
  return 1;
}

static int l_mm(lua_State *L) { return product(L, em_mm); }
static int l_mv(lua_State *L) { return product(L, em_mv); }
static int l_bmm(lua_State *L) { return product(L, em_bmm); }
static int l_ger(lua_State *L) { return product(L, em_ger); }

/* matmul([res,] a, b): a new 1-D . 1-D product is returned as a number, like dot. */
static int l_matmul(lua_State *L) {
  em_precision prec = pop_precision(L);
  int new_result = lua_isnoneornil(L, 3);
  int ri = call_product(L, em_matmul, prec);
  em_tensor *a = em_lua_checktensor(L, new_result ? 1 : 2), *b = em_lua_checktensor(L, new_result ? 2 : 3);
  if (new_result && a->ndim == 1 && b->ndim == 1) push_element(L, em_lua_checktensor(L, ri));
  else lua_pushvalue(L, ri);
  return 1;
}

/* dot(a, b): a number (an integer for integer dtypes). The sum goes through a C-side
 * scalar, released before any error is raised: no userdata per call. */
static int l_dot(lua_State *L) {
  em_tensor *a = em_lua_checktensor(L, 1), *b = em_lua_checktensor(L, 2);
  em_tensor out;
  em_tensor_init(&out, a->ctx, a->dtype, a->device);
  double d = 0;
  int64_t i = 0;
  int st = em_dot(&out, a, b);
  if (st == EM_OK) st = read_element(&out, &d, &i);
  em_tensor_release(&out);
  em_lua_check(L, st);
  push_read(L, a->dtype, d, i);
  return 1;
}

/* linear(out, input, weight [, bias [, precision]]) -> out := input @ weight^T + bias,
 * nn.Linear's forward in one call: input (N, in) or (in), weight (out, in), bias (out). */
static int l_linear(lua_State *L) {
  em_tensor *r = em_lua_checktensor(L, 1), *x = em_lua_checktensor(L, 2);
  em_tensor *w = em_lua_checktensor(L, 3);
  em_tensor *b = lua_isnoneornil(L, 4) ? NULL : em_lua_checktensor(L, 4);
  em_precision prec = em_lua_optprecision(L, 5);
  em_lua_call(L, em_linear(r, x, w, b, prec));
  lua_settop(L, 1);
  return 1;
}

/* linearAccGrad(gradWeight, gradBias|nil, input, gradOutput, ones|nil, scale [, precision]):
 * nn.Linear's accGradParameters for a batch in one call, input (N, in), gradOutput
 * (N, out): gradWeight += scale gradOutput^T input, gradBias += scale gradOutput^T ones. */
static int l_linear_acc_grad(lua_State *L) {
  em_tensor *gw = em_lua_checktensor(L, 1);
  em_tensor *gb = lua_isnoneornil(L, 2) ? NULL : em_lua_checktensor(L, 2);
  em_tensor *x = em_lua_checktensor(L, 3), *g = em_lua_checktensor(L, 4);
  em_tensor *ones = lua_isnoneornil(L, 5) ? NULL : em_lua_checktensor(L, 5);
  double scale = luaL_checknumber(L, 6);
  em_precision prec = em_lua_optprecision(L, 7);
  em_lua_call(L, em_linear_acc_grad(gw, gb, x, g, ones, scale, prec));
  return 0;
}

/* The operands of an add* call after Torch7's rules (see the header). */
typedef struct add_args {
  int r;                   /* stack index of the result, 0 for a new one */
  em_tensor *m, *x, *y;
  double beta, alpha;
} add_args;

static void parse_add(lua_State *L, int method, const char *op, const char *usage, add_args *out) {
  int top = lua_gettop(L), nt = 0;
  int tensor_at[4];
  int nums[5] = {0}, num_at[5][2];     /* numbers just before tensor i (slot 4: after the last) */
  for (int i = 1; i <= top; i++) {
    if (em_lua_totensor(L, i)) {
      if (nt == 4) luaL_error(L, "%s: too many tensors; expected (%s)", op, usage);
      tensor_at[nt++] = i;
    } else if (lua_type(L, i) == LUA_TNUMBER) {
      if (nums[nt] == 2) luaL_error(L, "%s: too many numbers in a row; expected (%s)", op, usage);
      num_at[nt][nums[nt]++] = i;
    } else {
      luaL_error(L, "%s: argument %d is a %s; expected (%s)", op, i, luaL_typename(L, i), usage);
    }
  }
  /* M is tensor mi, x tensor xi; v1 may stand just before M, v2 just before x */
  int mi = nt == 4 ? 1 : 0, xi = mi + 1;
  int self_m = method && nt == 3;       /* M:op([v1,] [v2,] x, y): two numbers before x */
  int bad = nt < 3;
  for (int s = 0; s <= nt && !bad; s++) {
    int allowed = s == xi ? (self_m ? 2 : 1) : s == mi && !self_m ? 1 : 0;
    bad = nums[s] > allowed;
  }
  if (bad) luaL_error(L, "%s: expected (%s)", op, usage);
  double v1 = 1, v2 = 1;
  if (!self_m && nums[mi] == 1) v1 = lua_tonumber(L, num_at[mi][0]);
  if (nums[xi] == 1) v2 = lua_tonumber(L, num_at[xi][0]);
  if (nums[xi] == 2) {
    v1 = lua_tonumber(L, num_at[xi][0]);
    v2 = lua_tonumber(L, num_at[xi][1]);
  }
  out->r = method || nt == 4 ? tensor_at[0] : 0;
  out->m = em_lua_totensor(L, tensor_at[mi]);
  out->x = em_lua_totensor(L, tensor_at[xi]);
  out->y = em_lua_totensor(L, tensor_at[xi + 1]);
  out->beta = v1;
  out->alpha = v2;
}

static int call_add(lua_State *L, int method, const char *op, const char *usage, add_fn fn) {
  em_precision prec = pop_precision(L);
  add_args a;
  parse_add(L, method, op, usage, &a);
  em_tensor *r;
  if (a.r) {
    r = em_lua_totensor(L, a.r);
    lua_pushvalue(L, a.r);
  } else {
    r = em_lua_newtensor(L, a.x->dtype, a.x->device);
  }
  em_lua_call(L, fn(r, a.beta, a.m, a.alpha, a.x, a.y, prec));
  return 1;
}

#define MM_USAGE "[res,] [v1,] M, [v2,] mat1, mat2"
#define MV_USAGE "[res,] [v1,] vec1, [v2,] mat, vec2"
#define R_USAGE "[res,] [v1,] M, [v2,] vec1, vec2"
#define BMM_USAGE "[res,] [v1,] M, [v2,] batch1, batch2"

static int f_addmm(lua_State *L) { return call_add(L, 0, "addmm", MM_USAGE, em_addmm); }
static int m_addmm(lua_State *L) { return call_add(L, 1, "addmm", MM_USAGE, em_addmm); }
static int f_addmv(lua_State *L) { return call_add(L, 0, "addmv", MV_USAGE, em_addmv); }
static int m_addmv(lua_State *L) { return call_add(L, 1, "addmv", MV_USAGE, em_addmv); }
static int f_addr(lua_State *L) { return call_add(L, 0, "addr", R_USAGE, em_addr); }
static int m_addr(lua_State *L) { return call_add(L, 1, "addr", R_USAGE, em_addr); }
static int f_addbmm(lua_State *L) { return call_add(L, 0, "addbmm", BMM_USAGE, em_addbmm); }
static int m_addbmm(lua_State *L) { return call_add(L, 1, "addbmm", BMM_USAGE, em_addbmm); }
static int f_baddbmm(lua_State *L) { return call_add(L, 0, "baddbmm", BMM_USAGE, em_baddbmm); }
static int m_baddbmm(lua_State *L) { return call_add(L, 1, "baddbmm", BMM_USAGE, em_baddbmm); }

/* setnumthreads(n): the OpenMP pool and OpenBLAS's; getnumthreads(). */
static int l_setnumthreads(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 1 && n <= 1024, 1, "thread count must be between 1 and 1024");
  em_set_num_threads((int)n);
  return 0;
}

static int l_getnumthreads(lua_State *L) {
  lua_pushinteger(L, em_get_num_threads());
  return 1;
}

/* bf16Kernel(): the CPU's bfloat16 product, "avx512bf16" or "portable" (cpu.h). */
static int l_bf16kernel(lua_State *L) {
  lua_pushstring(L, em_cpu_gemm_bf16_kernel());
  return 1;
}

static const luaL_Reg functions[] = {
  {"addbmm", f_addbmm},
  {"addmm", f_addmm},
  {"addmv", f_addmv},
  {"addr", f_addr},
  {"baddbmm", f_baddbmm},
  {"bf16Kernel", l_bf16kernel},
  {"bmm", l_bmm},
  {"dot", l_dot},
  {"ger", l_ger},
  {"getnumthreads", l_getnumthreads},
  {"linear", l_linear},
  {"linearAccGrad", l_linear_acc_grad},
  {"matmul", l_matmul},
  {"mm", l_mm},
  {"mv", l_mv},
  {"outer", l_ger},
  {"setnumthreads", l_setnumthreads},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"addbmm", m_addbmm},
  {"addmm", m_addmm},
  {"addmv", m_addmv},
  {"addr", m_addr},
  {"baddbmm", m_baddbmm},
  {"bmm", l_bmm},
  {"dot", l_dot},
  {"ger", l_ger},
  {"matmul", l_matmul},
  {"mm", l_mm},
  {"mv", l_mv},
  {"outer", l_ger},
  {NULL, NULL}
};

void em_lua_open_linalg(lua_State *L, int module, int methods_idx) {
  lua_pushvalue(L, module);
  em_lua_setfuncs(L, functions);
  lua_pushvalue(L, methods_idx);
  em_lua_setfuncs(L, methods);
  lua_pop(L, 2);
}
