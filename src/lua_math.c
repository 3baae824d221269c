/* Binding for the element-wise family: Torch7's three call forms per op (x:op(...) in
 * place on x, torch.op(x, ...) into a new tensor, torch.op(r, x, ...) into r), the
 * arithmetic metamethods, comparisons (bool results), where and equal. Methods and
 * module functions are distinct C functions; the op is a third upvalue. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pointwise.h"
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"

#define UPV_OP lua_upvalueindex(3)
#define UPV_NAME lua_upvalueindex(4)   /* the Lua name (cmul, csub, cinv...) */

static int op_of(lua_State *L) { return (int)lua_tointeger(L, UPV_OP); }

/* The name the user called (ops registered by set_ops), else the core's name. */
static const char *name_of(lua_State *L, const char *canonical) {
  const char *s = lua_tostring(L, UPV_NAME);
  return s ? s : canonical;
}

/* Raises a failed core call's message, naming the Lua function called (the core says
 * "mul: ..." for cmul). */
static void raise_named(lua_State *L, const char *canonical) {
  const char *msg = em_last_error(), *name = name_of(L, canonical);
  size_t n = strlen(canonical);
  if (strncmp(msg, canonical, n) == 0 && msg[n] == ':') luaL_error(L, "%s%s", name, msg + n);
}

/* em_lua_call, with the message naming the Lua function */
#define CALL(L, canonical, call)                               \
  do {                                                         \
    int st_ = (call);                                          \
    if (st_ == EM_ENOMEM) {                                    \
      lua_gc((L), LUA_GCCOLLECT);                              \
      st_ = (call);                                            \
    }                                                          \
    if (st_ != EM_OK) raise_named((L), (canonical));           \
    em_lua_check((L), st_);                                    \
  } while (0)

/* Number of arguments, trailing nils dropped. */
static int nargs(lua_State *L) {
  int n = lua_gettop(L);
  while (n > 0 && lua_isnil(L, n)) n--;
  return n;
}

static int is_number(lua_State *L, int i) { return lua_type(L, i) == LUA_TNUMBER; }

/* Raises "op: expected USAGE, got (tensor, string)". */
static int usage_error(lua_State *L, const char *op, const char *usage) {
  char got[160];
  size_t k = 0;
  int n = lua_gettop(L);
  got[0] = 0;
  for (int i = 1; i <= n && k < sizeof got - 16; i++)
    k += (size_t)snprintf(got + k, sizeof got - k, "%s%s", i > 1 ? ", " : "",
                          em_lua_totensor(L, i) ? "tensor" : luaL_typename(L, i));
  return luaL_error(L, "%s: expected %s, got (%s)", op, usage, got);
}

/* A tensor or a number at i into *t / *s; 0 when it is neither. */
static int operand(lua_State *L, int i, const em_tensor **t, double *s) {
  *t = em_lua_totensor(L, i);
  if (*t) return 1;
  if (!is_number(L, i)) return 0;
  *s = lua_tonumber(L, i);
  return 1;
}

/* --- unary --- */

static const char unary_usage[] = "(tensor) or (result, tensor)";

/* x:op() in place; y:op(x) puts op(x) into y */
static int m_unary(lua_State *L) {
  em_unary_op op = (em_unary_op)op_of(L);
  int n = nargs(L);
  em_tensor *self = em_lua_totensor(L, 1);
  em_tensor *x = n == 1 ? self : em_lua_totensor(L, 2);
  if (!self || !x || n > 2) return usage_error(L, name_of(L, em_unary_names[op]), unary_usage);
  CALL(L, em_unary_names[op], em_unary(op, self, x));
  lua_settop(L, 1);
  return 1;
}

/* torch.op(x) -> new; torch.op(r, x) -> r */
static int f_unary(lua_State *L) {
  em_unary_op op = (em_unary_op)op_of(L);
  int n = nargs(L);
  em_tensor *a = em_lua_totensor(L, 1), *b = em_lua_totensor(L, 2);
  if (a && b && n == 2) {
    CALL(L, em_unary_names[op], em_unary(op, a, b));
    lua_settop(L, 1);
    return 1;
  }
  if (!a || n != 1) return usage_error(L, name_of(L, em_unary_names[op]), unary_usage);
  em_tensor *r = em_lua_newtensor(L, em_unary_dtype(op, a), a->device);
  CALL(L, em_unary_names[op], em_unary(op, r, a));
  return 1;
}

/* --- binary arithmetic --- */

static const char binary_usage[] =
    "(tensor, tensor|number), (result, tensor|number, tensor|number) or, for add/csub, "
    "(tensor, number, tensor) and (result, tensor, number, tensor)";

/* out := a op alpha*b, where a and b are the operands at ia and ib */
static void binary_into(lua_State *L, em_binary_op op, em_tensor *out, int ia, int ib,
                        double alpha) {
  const em_tensor *a = NULL, *b = NULL;
  double sa = 0, sb = 0;
  if (!operand(L, ia, &a, &sa) || !operand(L, ib, &b, &sb) || (!a && !b))
    usage_error(L, name_of(L, em_binary_names[op]), binary_usage);
  CALL(L, em_binary_names[op], em_binary(op, out, a, b, a ? sb : sa, alpha));
}

/* a new tensor := a op alpha*b (operands at ia, ib), left on the stack */
static int binary_new(lua_State *L, em_binary_op op, int ia, int ib, double alpha) {
  const em_tensor *a = NULL, *b = NULL;
  double sa = 0, sb = 0;
  if (!operand(L, ia, &a, &sa) || !operand(L, ib, &b, &sb) || (!a && !b))
    return usage_error(L, name_of(L, em_binary_names[op]), binary_usage);
  double s = a ? sb : sa;
  em_tensor *r = em_lua_newtensor(L, em_binary_dtype(op, a, b, s, alpha), (a ? a : b)->device);
  CALL(L, em_binary_names[op], em_binary(op, r, a, b, s, alpha));
  return 1;
}

/* x:op(y|v) in place; z:op(x, y|v) into z; add/csub also x:add(v, y) (x += v*y) and
 * z:add(x, v, y) (z := x + v*y) */
static int m_binary(lua_State *L) {
  em_binary_op op = (em_binary_op)op_of(L);
  em_tensor *self = em_lua_totensor(L, 1);
  int n = nargs(L), scaled = op == EM_ADD || op == EM_SUB;
  if (self && n == 3) {
    em_tensor *a = em_lua_totensor(L, 2), *b = em_lua_totensor(L, 3);
    if (a && b) {                                  /* z:add(x, y): the fast call */
      CALL(L, em_binary_names[op], em_binary(op, self, a, b, 0, 1));
    } else if (a) {
      binary_into(L, op, self, 2, 3, 1);
    } else if (scaled && b && is_number(L, 2)) {
      CALL(L, em_binary_names[op], em_binary(op, self, self, b, 0, lua_tonumber(L, 2)));
    } else {
      return usage_error(L, name_of(L, em_binary_names[op]), binary_usage);
    }
  } else if (self && n == 2) {
    binary_into(L, op, self, 1, 2, 1);
  } else if (self && n == 4 && scaled && em_lua_totensor(L, 2) && is_number(L, 3) &&
             em_lua_totensor(L, 4)) {
    CALL(L, em_binary_names[op], em_binary(op, self, em_lua_totensor(L, 2), em_lua_totensor(L, 4), 0,
                             lua_tonumber(L, 3)));
  } else {
    return usage_error(L, name_of(L, em_binary_names[op]), binary_usage);
  }
  lua_settop(L, 1);
  return 1;
}

/* torch.op(x, y|v) -> new; torch.op(r, x, y|v) -> r; torch.add(x, v, y) -> new;
 * torch.add(r, x, v, y) -> r. A number may stand first: torch.pow(2, x). */
static int f_binary(lua_State *L) {
  em_binary_op op = (em_binary_op)op_of(L);
  int n = nargs(L), scaled = op == EM_ADD || op == EM_SUB;
  em_tensor *first = em_lua_totensor(L, 1);
  if (n == 2) return binary_new(L, op, 1, 2, 1);
  if (n == 3 && scaled && first && is_number(L, 2) && em_lua_totensor(L, 3))
    return binary_new(L, op, 1, 3, lua_tonumber(L, 2));
  if (n == 3 && first) {
    binary_into(L, op, first, 2, 3, 1);
  } else if (n == 4 && scaled && first && em_lua_totensor(L, 2) && is_number(L, 3) &&
             em_lua_totensor(L, 4)) {
    CALL(L, em_binary_names[op], em_binary(op, first, em_lua_totensor(L, 2), em_lua_totensor(L, 4), 0,
                             lua_tonumber(L, 3)));
  } else {
    return usage_error(L, name_of(L, em_binary_names[op]), binary_usage);
  }
  lua_settop(L, 1);
  return 1;
}

/* --- comparisons and logical ops: bool results --- */

static const char compare_usage[] = "(tensor, tensor|number) or (result, tensor, tensor|number)";

static void compare_into(lua_State *L, em_compare_op op, em_tensor *out, int ia, int ib) {
  em_tensor *a = em_lua_totensor(L, ia);
  const em_tensor *b = NULL;
  double s = 0;
  if (!a || !operand(L, ib, &b, &s)) usage_error(L, name_of(L, em_compare_names[op]), compare_usage);
  CALL(L, em_compare_names[op], em_compare(op, out, a, b, s));
}

/* pushes a new bool tensor := (operand ia) op (operand ib) */
static int compare_new(lua_State *L, em_compare_op op, int ia, int ib) {
  em_tensor *a = em_lua_totensor(L, ia);
  if (!a) return usage_error(L, name_of(L, em_compare_names[op]), compare_usage);
  em_tensor *r = em_lua_newtensor(L, EM_BOOL, a->device);
  compare_into(L, op, r, ia, ib);
  return 1;
}

/* x:lt(y|v) -> new bool tensor (as Torch7's x:lt(v) gave a new mask); r:lt(a, b) -> r */
static int m_compare(lua_State *L) {
  em_compare_op op = (em_compare_op)op_of(L);
  int n = nargs(L);
  em_tensor *self = em_lua_totensor(L, 1);
  if (!self || n < 2 || n > 3) return usage_error(L, name_of(L, em_compare_names[op]), compare_usage);
  if (n == 2) return compare_new(L, op, 1, 2);
  compare_into(L, op, self, 2, 3);
  lua_settop(L, 1);
  return 1;
}

/* torch.lt(a, b) -> new; torch.lt(r, a, b) -> r */
static int f_compare(lua_State *L) {
  em_compare_op op = (em_compare_op)op_of(L);
  int n = nargs(L);
  em_tensor *first = em_lua_totensor(L, 1);
  if (n == 2) return compare_new(L, op, 1, 2);
  if (n != 3 || !first) return usage_error(L, name_of(L, em_compare_names[op]), compare_usage);
  compare_into(L, op, first, 2, 3);
  lua_settop(L, 1);
  return 1;
}

/* x:logicalNot() -> new; r:logicalNot(x) -> r; torch.logicalNot([r,] x) likewise */
static int logical_not(lua_State *L) {
  int n = nargs(L);
  em_tensor *a = em_lua_totensor(L, 1), *b = em_lua_totensor(L, 2);
  if (a && b && n == 2) {
    em_lua_call(L, em_logical_not(a, b));
    lua_settop(L, 1);
    return 1;
  }
  if (!a || n != 1) return usage_error(L, "logicalNot", unary_usage);
  em_tensor *r = em_lua_newtensor(L, EM_BOOL, a->device);
  em_lua_call(L, em_logical_not(r, a));
  return 1;
}

/* --- clamp --- */

static double opt_bound(lua_State *L, int i) {
  return lua_isnoneornil(L, i) ? NAN : luaL_checknumber(L, i);
}

/* out := clamp(x, bounds at b, b+1) */
static void clamp_into(lua_State *L, em_tensor *out, const em_tensor *x, int b) {
  double lo = opt_bound(L, b), hi = opt_bound(L, b + 1);
  if (lo != lo && hi != hi) luaL_error(L, "clamp: expected a lower or an upper bound (or both)");
  em_lua_call(L, em_clamp(out, x, lo, hi));
}

/* x:clamp(lo, hi) in place; y:clamp(x, lo, hi) into y; a nil bound is no bound */
static int m_clamp(lua_State *L) {
  em_tensor *self = em_lua_checktensor(L, 1), *x = em_lua_totensor(L, 2);
  if (x) clamp_into(L, self, x, 3);
  else clamp_into(L, self, self, 2);
  lua_settop(L, 1);
  return 1;
}

/* torch.clamp(x, lo, hi) -> new; torch.clamp(r, x, lo, hi) -> r */
static int f_clamp(lua_State *L) {
  em_tensor *first = em_lua_checktensor(L, 1), *x = em_lua_totensor(L, 2);
  if (x) {
    clamp_into(L, first, x, 3);
    lua_settop(L, 1);
    return 1;
  }
  lua_settop(L, 3);
  em_tensor *r = em_lua_newtensor(L, first->dtype, first->device);
  clamp_into(L, r, first, 2);
  return 1;
}

/* --- addcmul, addcdiv, lerp --- */

static const char ternary_usage[] = "([result,] tensor, [number,] tensor, tensor)";

/* out := x + v * a (*|/) b with x, v, a, b at ix, iv (0: v = 1), ia, ia + 1 */
static void ternary_into(lua_State *L, em_ternary_op op, em_tensor *out, int ix, int iv, int ia) {
  em_tensor *x = em_lua_totensor(L, ix), *a = em_lua_totensor(L, ia), *b = em_lua_totensor(L, ia + 1);
  if (!x || !a || !b || (iv && !is_number(L, iv)))
    usage_error(L, name_of(L, em_ternary_names[op]), ternary_usage);
  CALL(L, em_ternary_names[op], em_ternary(op, out, x, a, b, iv ? lua_tonumber(L, iv) : 1));
}

/* x:addcmul([v,] a, b) in place; z:addcmul(x, [v,] a, b) into z */
static int m_ternary(lua_State *L) {
  em_ternary_op op = (em_ternary_op)op_of(L);
  int n = nargs(L);
  em_tensor *self = em_lua_totensor(L, 1);
  if (!self || n < 3 || n > 5) return usage_error(L, name_of(L, em_ternary_names[op]), ternary_usage);
  int x_given = em_lua_totensor(L, 2) && (n == 5 || (n == 4 && !is_number(L, 3)));
  if (x_given) ternary_into(L, op, self, 2, n == 5 ? 3 : 0, n == 5 ? 4 : 3);
  else ternary_into(L, op, self, 1, n == 4 ? 2 : 0, n == 4 ? 3 : 2);
  lua_settop(L, 1);
  return 1;
}

/* torch.addcmul(x, [v,] a, b) -> new; torch.addcmul(r, x, [v,] a, b) -> r */
static int f_ternary(lua_State *L) {
  em_ternary_op op = (em_ternary_op)op_of(L);
  int n = nargs(L);
  em_tensor *first = em_lua_totensor(L, 1);
  int into = first && em_lua_totensor(L, 2) && (n == 5 || (n == 4 && !is_number(L, 3) && em_lua_totensor(L, 3)));
  if (!first || n < 3 || n > 5)
    return usage_error(L, name_of(L, em_ternary_names[op]), ternary_usage);
  if (into) {
    ternary_into(L, op, first, 2, n == 5 ? 3 : 0, n == 5 ? 4 : 3);
    lua_settop(L, 1);
    return 1;
  }
  int iv = n == 4 ? 2 : 0, ia = n == 4 ? 3 : 2;
  em_tensor *a = em_lua_totensor(L, ia), *b = em_lua_totensor(L, ia + 1);
  double v = iv && is_number(L, iv) ? lua_tonumber(L, iv) : 1;
  if (!a || !b || (iv && !is_number(L, iv)))
    return usage_error(L, name_of(L, em_ternary_names[op]), ternary_usage);
  em_tensor *r = em_lua_newtensor(L, em_ternary_dtype(op, first, a, b, v), first->device);
  ternary_into(L, op, r, 1, iv, ia);
  return 1;
}

/* out := lerp(x at ix, y at ix+1, weight at ix+2 (number or tensor)) */
static void lerp_into(lua_State *L, em_tensor *out, int ix, int n) {
  em_tensor *x = em_lua_totensor(L, ix), *y = em_lua_totensor(L, ix + 1);
  const em_tensor *w = NULL;
  double s = 0;
  if (!x || !y || !operand(L, ix + 2, &w, &s) || n != ix + 2)
    usage_error(L, "lerp", "([result,] tensor, tensor, number|tensor)");
  em_lua_call(L, em_ternary(EM_LERP, out, x, y, w, s));
}

/* x:lerp(y, w) in place; z:lerp(x, y, w) into z */
static int m_lerp(lua_State *L) {
  em_tensor *self = em_lua_checktensor(L, 1);
  int n = nargs(L);
  lerp_into(L, self, n == 4 ? 2 : 1, n);
  lua_settop(L, 1);
  return 1;
}

/* torch.lerp(x, y, w) -> new; torch.lerp(r, x, y, w) -> r */
static int f_lerp(lua_State *L) {
  em_tensor *first = em_lua_checktensor(L, 1);
  int n = nargs(L);
  if (n == 4) {
    lerp_into(L, first, 2, n);
    lua_settop(L, 1);
    return 1;
  }
  em_tensor *y = em_lua_totensor(L, 2), *w = em_lua_totensor(L, 3);
  em_dtype dt = em_ternary_dtype(EM_LERP, first, y ? y : first, w, is_number(L, 3) ? lua_tonumber(L, 3) : 0.5);
  em_tensor *r = em_lua_newtensor(L, dt, first->device);
  lerp_into(L, r, 1, n);
  return 1;
}

/* --- where, equal --- */

/* The operand at i as a tensor: a number becomes a one-element tensor of dtype dt. */
static const em_tensor *where_operand(lua_State *L, int i, em_dtype dt, em_device dev) {
  em_tensor *t = em_lua_totensor(L, i);
  if (t) return t;
  if (!is_number(L, i)) usage_error(L, "where", "([result,] tensor, tensor|number, tensor|number)");
  int64_t one = 1;
  t = em_lua_newtensor(L, dt, dev);
  em_lua_call(L, em_tensor_resize(t, 1, &one));
  em_lua_call(L, em_tensor_fill(t, lua_tonumber(L, i)));
  return t;
}

/* dtype of where's result for operands at ia, ib */
static em_dtype where_dtype(lua_State *L, int ia, int ib) {
  em_tensor *a = em_lua_totensor(L, ia), *b = em_lua_totensor(L, ib);
  em_dtype fl = em_lua_ctx(L)->default_dtype;
  if (a && b) return em_dtype_promote(a->dtype, b->dtype);
  em_tensor *t = a ? a : b;
  int other = a ? ib : ia;
  if (!t) return fl;
  if (em_dtype_info[t->dtype].is_float || !is_number(L, other)) return t->dtype;
  double v = lua_tonumber(L, other);
  return v == floor(v) ? t->dtype : fl;
}

/* torch.where(cond, a, b) -> new; torch.where(r, cond, a, b) -> r */
static int f_where(lua_State *L) {
  int n = nargs(L), ic = n == 4 ? 2 : 1;
  em_tensor *cond = em_lua_totensor(L, ic), *r = n == 4 ? em_lua_totensor(L, 1) : NULL;
  if (!cond || (n != 3 && n != 4) || (n == 4 && !r))
    return usage_error(L, "where", "([result,] tensor, tensor|number, tensor|number)");
  lua_settop(L, n);
  if (!r) r = em_lua_newtensor(L, where_dtype(L, ic + 1, ic + 2), cond->device);
  int ir = n == 4 ? 1 : lua_gettop(L);
  const em_tensor *a = where_operand(L, ic + 1, r->dtype, cond->device);
  const em_tensor *b = where_operand(L, ic + 2, r->dtype, cond->device);
  em_lua_call(L, em_where(r, cond, a, b));
  lua_pushvalue(L, ir);
  return 1;
}

/* torch.equal(a, b) / a:equal(b): same shape and values -> boolean */
static int f_equal(lua_State *L) {
  em_tensor *a = em_lua_totensor(L, 1), *b = em_lua_totensor(L, 2);
  if (!a || !b) return usage_error(L, "equal", "(tensor, tensor)");
  int eq;
  em_lua_call(L, em_equal(a, b, &eq));
  lua_pushboolean(L, eq);
  return 1;
}

/* --- metamethods: new tensors; a number may stand on either side --- */

static int arith_mm(lua_State *L, em_binary_op op) {
  lua_settop(L, 2);
  return binary_new(L, op, 1, 2, 1);
}

static int mm_add(lua_State *L) { return arith_mm(L, EM_ADD); }
static int mm_sub(lua_State *L) { return arith_mm(L, EM_SUB); }
static int mm_div(lua_State *L) { return arith_mm(L, EM_DIV); }
static int mm_pow(lua_State *L) { return arith_mm(L, EM_POW); }
static int mm_mod(lua_State *L) { return arith_mm(L, EM_REMAINDER); }

/* tensor * number scales; tensor * tensor is the integrator's matmul (routed in Lua) */
static int mm_mul(lua_State *L) {
  if (em_lua_totensor(L, 1) && em_lua_totensor(L, 2))
    return luaL_error(L, "mul: use torch.matmul or cmul");
  return arith_mm(L, EM_MUL);
}

static int mm_unm(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 1);
  em_tensor *r = em_lua_newtensor(L, em_unary_dtype(EM_NEG, x), x->device);
  em_lua_call(L, em_unary(EM_NEG, r, x));
  return 1;
}

/* --- registration --- */

typedef struct op_reg {
  const char *name;
  int op;
} op_reg;

static const op_reg unary_ops[] = {
  {"abs", EM_ABS}, {"acos", EM_ACOS}, {"asin", EM_ASIN}, {"atan", EM_ATAN},
  {"ceil", EM_CEIL}, {"cinv", EM_RECIPROCAL}, {"cos", EM_COS}, {"cosh", EM_COSH},
  {"erf", EM_ERF}, {"exp", EM_EXP}, {"expm1", EM_EXPM1}, {"floor", EM_FLOOR},
  {"frac", EM_FRAC}, {"log", EM_LOG}, {"log10", EM_LOG10}, {"log1p", EM_LOG1P},
  {"log2", EM_LOG2}, {"neg", EM_NEG}, {"reciprocal", EM_RECIPROCAL}, {"round", EM_ROUND},
  {"rsqrt", EM_RSQRT}, {"sigmoid", EM_SIGMOID}, {"sign", EM_SIGN}, {"sin", EM_SIN},
  {"sinh", EM_SINH}, {"sqrt", EM_SQRT}, {"square", EM_SQUARE}, {"tan", EM_TAN},
  {"tanh", EM_TANH}, {"trunc", EM_TRUNC}, {NULL, 0}
};

/* `sub` is Torch7's view method (lua_tensor.c): subtraction is csub, as in Torch7 */
static const op_reg binary_ops[] = {
  {"add", EM_ADD}, {"atan2", EM_ATAN2}, {"cdiv", EM_DIV}, {"cfmod", EM_FMOD},
  {"cmax", EM_MAX}, {"cmin", EM_MIN}, {"cmul", EM_MUL}, {"cpow", EM_POW},
  {"cremainder", EM_REMAINDER}, {"csub", EM_SUB}, {"div", EM_DIV}, {"fmod", EM_FMOD},
  {"mul", EM_MUL}, {"pow", EM_POW}, {"remainder", EM_REMAINDER}, {NULL, 0}
};

static const op_reg compare_ops[] = {
  {"eq", EM_EQ}, {"ge", EM_GE}, {"gt", EM_GT}, {"le", EM_LE},
  {"logicalAnd", EM_LOGICAL_AND}, {"logicalOr", EM_LOGICAL_OR},
  {"logicalXor", EM_LOGICAL_XOR}, {"lt", EM_LT}, {"ne", EM_NE}, {NULL, 0}
};

static const op_reg ternary_ops[] = {
  {"addcdiv", EM_ADDCDIV}, {"addcmul", EM_ADDCMUL}, {NULL, 0}
};

static const luaL_Reg functions[] = {
  {"clamp", f_clamp},
  {"equal", f_equal},
  {"lerp", f_lerp},
  {"logicalNot", logical_not},
  {"where", f_where},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"clamp", m_clamp},
  {"equal", f_equal},
  {"lerp", m_lerp},
  {"logicalNot", logical_not},
  {NULL, NULL}
};

static const luaL_Reg metamethods[] = {
  {"__add", mm_add},
  {"__div", mm_div},
  {"__eq", f_equal},
  {"__mod", mm_mod},
  {"__mul", mm_mul},
  {"__pow", mm_pow},
  {"__sub", mm_sub},
  {"__unm", mm_unm},
  {NULL, NULL}
};

/* Registers f under each name of ops into the table on top, with the op and the name
 * as upvalues 3 and 4. */
static void set_ops(lua_State *L, const op_reg *ops, lua_CFunction f) {
  for (; ops->name; ops++) {
    lua_pushvalue(L, EM_UPV_CTX);
    lua_pushvalue(L, EM_UPV_MT);
    lua_pushinteger(L, ops->op);
    lua_pushstring(L, ops->name);
    lua_pushcclosure(L, f, 4);
    lua_setfield(L, -2, ops->name);
  }
}

void em_lua_open_math(lua_State *L, int module, int methods_idx) {
  lua_pushvalue(L, module);
  em_lua_setfuncs(L, functions);
  set_ops(L, unary_ops, f_unary);
  set_ops(L, binary_ops, f_binary);
  set_ops(L, compare_ops, f_compare);
  set_ops(L, ternary_ops, f_ternary);
  lua_pop(L, 1);
  lua_pushvalue(L, methods_idx);
  em_lua_setfuncs(L, methods);
  set_ops(L, unary_ops, m_unary);
  set_ops(L, binary_ops, m_binary);
  set_ops(L, compare_ops, m_compare);
  set_ops(L, ternary_ops, m_ternary);
  lua_pop(L, 1);
  lua_pushvalue(L, EM_UPV_MT);
  em_lua_setfuncs(L, metamethods);
  lua_pop(L, 1);
}
