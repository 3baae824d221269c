/* Binding for range-style creation: torch.range (Torch7: end included), torch.arange
 * (PyTorch: end excluded), torch.linspace, torch.logspace and torch.eye. Each takes an
 * optional trailing dtype name and makes a new contiguous CPU tensor; a result with no
 * elements is the empty tensor (no dimension), as in Torch7. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"
#include "sample.h"

#define CPU ((em_device){EM_CPU, 0})
/* More elements than this is an error, not an allocation attempt. */
#define MAX_ELEMS 9007199254740992.0   /* 2^53 */

/* luaL_error with C's printf formats (lua_pushfstring has no %g). */
static int errorf(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int errorf(lua_State *L, const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return luaL_error(L, "%s", buf);
}

/* Number of leading numeric arguments, at most max. */
static int count_numbers(lua_State *L, int max) {
  int n = 0;
  while (n < max && lua_type(L, n + 1) == LUA_TNUMBER) n++;
  return n;
}

/* The dtype name after the numbers (none: dflt); anything else there is an error. */
static em_dtype trailing_dtype(lua_State *L, const char *fn, int arg, em_dtype dflt) {
  if (lua_isnoneornil(L, arg)) return dflt;
  if (lua_type(L, arg) != LUA_TSTRING)
    luaL_error(L, "%s: argument %d is a %s; expected a number or a dtype name", fn, arg, luaL_typename(L, arg));
  em_dtype dt = em_lua_checkdtype(L, arg);
  if (!lua_isnone(L, arg + 1)) luaL_error(L, "%s: unexpected argument %d after the dtype", fn, arg + 1);
  return dt;
}

static double check_finite(lua_State *L, const char *fn, int arg, const char *what) {
  double v = luaL_checknumber(L, arg);
  if (!isfinite(v)) errorf(L, "%s: %s must be finite, got %f", fn, what, v);
  return v;
}

/* Pushes a new 1-D tensor of n elements (the empty tensor when n is 0) and returns
 * its first element. */
static char *push_vector(lua_State *L, const char *fn, em_dtype dt, double n) {
  if (n > MAX_ELEMS) errorf(L, "%s: %g elements are too many", fn, n);
  em_tensor *t = em_lua_newtensor(L, dt, CPU);
  int64_t size = (int64_t)n;
  if (size > 0) em_lua_call(L, em_tensor_resize(t, 1, &size));
  return em_tensor_data(t);
}

/* Integer dtypes must hold every value from first to last. */
static void check_fits(lua_State *L, const char *fn, em_dtype dt, double first, double last) {
  int64_t min, max;
  if (em_dtype_info[dt].is_float) return;
  em_dtype_int_range(dt, &min, &max);
  double lo = fmin(first, last), hi = fmax(first, last);
  if (lo < (double)min || hi > (double)max)
    errorf(L, "%s: values from %g to %g do not fit %s", fn, first, last, em_dtype_info[dt].torch_name);
}

/* Arguments 1 .. nargs are all Lua integers small enough for exact arithmetic. */
static int int_args(lua_State *L, int nargs) {
  for (int i = 1; i <= nargs; i++) {
    lua_Integer v = lua_isinteger(L, i) ? lua_tointeger(L, i) : INT64_MAX;
    if (v > (INT64_C(1) << 61) || v < -(INT64_C(1) << 61)) return 0;
  }
  return 1;
}

/* Shared by range and arange: pushes n elements start, start + step, ... In an integer
 * dtype with integer arguments they are computed exactly (istart, istep), else in
 * double and then rounded to dt. */
static int push_affine(lua_State *L, const char *fn, em_dtype dt, double n, double start,
                       double step, int exact, lua_Integer istart, lua_Integer istep) {
  if (n > 0) check_fits(L, fn, dt, start, start + (n - 1) * step);
  char *p = push_vector(L, fn, dt, n);
  size_t es = em_dtype_info[dt].size;
  for (int64_t i = 0; i < (int64_t)n; i++) {
    if (exact) em_dtype_set_i64(dt, p + i * es, istart + i * istep);
    else em_dtype_set(dt, p + i * es, start + (double)i * step);
  }
  return 1;
}

/* range(a, b [, step = 1] [, dtype]): a, a + step, ... up to and including b (Torch7:
 * floor((b - a) / step) + 1 elements); default dtype */
static int c_range(lua_State *L) {
  int nargs = count_numbers(L, 3);
  double a = check_finite(L, "range", 1, "start"), b = check_finite(L, "range", 2, "end");
  double step = nargs >= 3 ? check_finite(L, "range", 3, "step") : 1;
  em_dtype dt = trailing_dtype(L, "range", nargs + 1, em_lua_ctx(L)->default_dtype);
  if (step == 0) luaL_error(L, "range: step must not be zero");
  if ((step > 0 && b < a) || (step < 0 && b > a))
    errorf(L, "range: end %g cannot be reached from start %g with step %g", b, a, step);
  if (!em_dtype_info[dt].is_float && int_args(L, nargs)) {
    lua_Integer ia = lua_tointeger(L, 1), ib = lua_tointeger(L, 2), is = nargs >= 3 ? lua_tointeger(L, 3) : 1;
    return push_affine(L, "range", dt, (double)((ib - ia) / is + 1), a, step, 1, ia, is);
  }
  return push_affine(L, "range", dt, floor((b - a) / step) + 1, a, step, 0, 0, 0);
}

/* arange(n) = 0 .. n - 1; arange(a, b [, step = 1]) [, dtype]: a, a + step, ... below b
 * (PyTorch: ceil((b - a) / step) elements). int64 when every number given is an
 * integer, else the default dtype. */
static int c_arange(lua_State *L) {
  int nargs = count_numbers(L, 3);
  double a = 0, b, step = 1;
  if (nargs == 0) luaL_error(L, "arange: expected (end), (start, end) or (start, end, step)");
  if (nargs == 1) {
    b = check_finite(L, "arange", 1, "end");
  } else {
    a = check_finite(L, "arange", 1, "start");
    b = check_finite(L, "arange", 2, "end");
  }
  if (nargs == 3) step = check_finite(L, "arange", 3, "step");
  int all_int = 1;   /* PyTorch's dtype inference */
  for (int i = 1; i <= nargs; i++) all_int = all_int && lua_isinteger(L, i);
  em_dtype dt = trailing_dtype(L, "arange", nargs + 1, all_int ? EM_INT64 : em_lua_ctx(L)->default_dtype);
  if (step == 0) luaL_error(L, "arange: step must not be zero");
  if ((step > 0 && b < a) || (step < 0 && b > a))
    errorf(L, "arange: end %g cannot be reached from start %g with step %g", b, a, step);
  if (!em_dtype_info[dt].is_float && int_args(L, nargs)) {
    lua_Integer ia = nargs >= 2 ? lua_tointeger(L, 1) : 0, ib = lua_tointeger(L, nargs >= 2 ? 2 : 1);
    lua_Integer is = nargs >= 3 ? lua_tointeger(L, 3) : 1;
    lua_Integer n = (ib - ia) / is + ((ib - ia) % is != 0);   /* same signs: ceil */
    return push_affine(L, "arange", dt, (double)n, a, step, 1, ia, is);
  }
  return push_affine(L, "arange", dt, ceil((b - a) / step), a, step, 0, 0, 0);
}

/* n points from a to b, both included; the halves are computed from their own end so
 * that both ends are exact. */
static double lin_point(double a, double b, int64_t n, int64_t i) {
  if (n == 1) return a;
  double step = (b - a) / (double)(n - 1);
  return i < n / 2 ? a + (double)i * step : b - (double)(n - 1 - i) * step;
}

/* linspace / logspace: (a, b [, n = 100] [, base]) [, dtype] */
static int push_space(lua_State *L, const char *fn, int is_log) {
  int nargs = count_numbers(L, is_log ? 4 : 3);
  double a = check_finite(L, fn, 1, "start"), b = check_finite(L, fn, 2, "end");
  lua_Integer n = nargs >= 3 ? luaL_checkinteger(L, 3) : 100;
  double base = nargs >= 4 ? check_finite(L, fn, 4, "base") : 10;
  em_dtype dt = trailing_dtype(L, fn, nargs + 1, em_lua_ctx(L)->default_dtype);
  if (n < 0) luaL_error(L, "%s: number of points must be non-negative, got %I", fn, n);
  if (is_log && !(base > 0)) errorf(L, "logspace: base must be positive, got %g", base);
  if (!is_log) check_fits(L, fn, dt, a, b);
  char *p = push_vector(L, fn, dt, (double)n);
  size_t es = em_dtype_info[dt].size;
  for (int64_t i = 0; i < n; i++) {
    double v = lin_point(a, b, n, i);
    em_dtype_set(dt, p + i * es, is_log ? pow(base, v) : v);
  }
  return 1;
}

static int c_linspace(lua_State *L) { return push_space(L, "linspace", 0); }
static int c_logspace(lua_State *L) { return push_space(L, "logspace", 1); }

/* eye(n [, m = n]) [, dtype]: ones on the diagonal */
static int c_eye(lua_State *L) {
  int nargs = count_numbers(L, 2);
  lua_Integer n = luaL_checkinteger(L, 1), m = nargs >= 2 ? luaL_checkinteger(L, 2) : n;
  em_dtype dt = trailing_dtype(L, "eye", nargs + 1, em_lua_ctx(L)->default_dtype);
  if (n < 0 || m < 0) luaL_error(L, "eye: sizes must be non-negative, got %I x %I", n, m);
  if ((double)n * (double)m > MAX_ELEMS) luaL_error(L, "eye: %I x %I elements are too many", n, m);
  em_tensor *t = em_lua_newtensor(L, dt, CPU);
  if (n == 0 || m == 0) return 1;
  int64_t size[2] = {n, m};
  em_lua_call(L, em_tensor_resize(t, 2, size));
  em_lua_call(L, em_tensor_fill(t, 0));
  char *p = em_tensor_data(t);
  size_t es = em_dtype_info[dt].size;
  for (int64_t i = 0; i < (n < m ? n : m); i++) em_dtype_set(dt, p + (size_t)(i * (m + 1)) * es, 1);
  return 1;
}

static const luaL_Reg functions[] = {
  {"arange", c_arange},
  {"eye", c_eye},
  {"linspace", c_linspace},
  {"logspace", c_logspace},
  {"range", c_range},
  {NULL, NULL}
};

void em_lua_open_create(lua_State *L, int module, int methods) {
  (void)methods;
  lua_pushvalue(L, module);
  em_lua_setfuncs(L, functions);
  lua_pop(L, 1);
}
