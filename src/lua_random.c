/* Binding for the random family: the per-state generator (manualSeed, seed,
 * initialSeed, get/setRNGState), Torch7's scalar draws (torch.uniform(), ...), the
 * sampling constructors (rand, randn, randint, randperm, bernoulli, multinomial) and
 * the in-place fills (x:uniform(a, b), x:normal(m, s), x:random(a, b), ...).
 *
 * Integer ranges: x:random(a, b) and torch.random(a, b) include both ends (Torch7);
 * torch.randint(low, high, ...) excludes high (PyTorch). Indices from randperm and
 * multinomial are 1-based. */
#include <lauxlib.h>
#include <lua.h>

#include "lua_ember.h"
#include "sample.h"

#define CPU ((em_device){EM_CPU, 0})

static em_rng *rng_of(lua_State *L) { return &em_lua_ctx(L)->rng; }

/* The optional dtype name at arg (none or nil: dflt). */
static em_dtype opt_dtype(lua_State *L, int arg, em_dtype dflt) {
  return lua_isnoneornil(L, arg) ? dflt : em_lua_checkdtype(L, arg);
}

/* sizes... [, dtype] from arg on: pushes a new tensor of those sizes and dtype
 * (default dflt) and returns it. */
static em_tensor *new_sized(lua_State *L, int arg, em_dtype dflt, em_dtype *dt) {
  int64_t size[EM_MAX_DIMS];
  int nd = em_lua_checksizes(L, arg, size);
  int after = lua_istable(L, arg) || em_lua_totensor(L, arg) ? arg + 1 : arg + nd;
  *dt = opt_dtype(L, after, dflt);
  if (!lua_isnone(L, after + 1)) luaL_argerror(L, after + 1, "unexpected argument after the dtype");
  em_tensor *t = em_lua_newtensor(L, *dt, CPU);
  em_lua_call(L, em_tensor_resize(t, nd, size));
  return t;
}

static void check_float_dtype(lua_State *L, const char *fn, em_dtype dt) {
  if (!em_dtype_info[dt].is_float)
    luaL_error(L, "%s: %s is not a floating-point type", fn, em_dtype_info[dt].torch_name);
}

/* --- the generator --- */

static int r_manual_seed(lua_State *L) {
  em_rng_seed(rng_of(L), (uint64_t)luaL_checkinteger(L, 1));
  return 0;
}

static int r_seed(lua_State *L) {
  uint64_t s = em_rng_fresh_seed();
  em_rng_seed(rng_of(L), s);
  lua_pushinteger(L, (lua_Integer)s);
  return 1;
}

static int r_initial_seed(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)rng_of(L)->seed);
  return 1;
}

/* getRNGState(): a ByteTensor snapshot of the whole generator */
static int r_get_state(lua_State *L) {
  int64_t n = EM_RNG_STATE_BYTES;
  em_tensor *t = em_lua_newtensor(L, EM_UINT8, CPU);
  em_lua_call(L, em_tensor_resize(t, 1, &n));
  em_rng_get_state(rng_of(L), em_tensor_data(t));
  return 1;
}

/* setRNGState(state): state from getRNGState; anything else is an error */
static int r_set_state(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  if (t->dtype != EM_UINT8 || t->device.type != EM_CPU)
    luaL_error(L, "setRNGState: expected a CPU torch.ByteTensor from getRNGState, got %s on %s",
               em_dtype_info[t->dtype].torch_name, em_device_name(t->device));
  em_tensor flat;
  em_tensor_init(&flat, t->ctx, EM_UINT8, CPU);
  int st = em_tensor_contiguous(&flat, t);
  if (st == EM_OK)
    st = em_rng_set_state(rng_of(L), em_tensor_data(&flat), (size_t)em_tensor_numel(&flat));
  em_tensor_release(&flat);
  em_lua_check(L, st);
  return 0;
}

/* --- Torch7's scalar draws: one element drawn through the tensor op --- */

typedef int (*op2_fn)(em_tensor *, em_rng *, double, double);
typedef int (*op1_fn)(em_tensor *, em_rng *, double);

/* Pushes one float64 draw made by op2 (or op1 when op2 is NULL). */
static int push_draw(lua_State *L, op2_fn op2, op1_fn op1, double a, double b) {
  em_tensor t;
  int64_t one = 1;
  em_tensor_init(&t, em_lua_ctx(L), EM_FLOAT64, CPU);
  int st = em_tensor_resize(&t, 1, &one);
  if (st == EM_OK) st = op2 ? op2(&t, rng_of(L), a, b) : op1(&t, rng_of(L), a);
  double v = st == EM_OK ? *(double *)em_tensor_data(&t) : 0;
  em_tensor_release(&t);
  em_lua_check(L, st);
  lua_pushnumber(L, v);
  return 1;
}

/* random(): a raw 32-bit word; random(b): [1, b]; random(a, b): [a, b] */
static int r_random(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_pushinteger(L, em_rng_u32(rng_of(L)));
    return 1;
  }
  lua_Integer a = 1, b = luaL_checkinteger(L, 1);
  if (!lua_isnoneornil(L, 2)) a = b, b = luaL_checkinteger(L, 2);
  if (a > b) luaL_error(L, "random: lower bound %I is greater than upper bound %I", a, b);
  lua_pushinteger(L, (lua_Integer)((uint64_t)a + em_rng_below(rng_of(L), (uint64_t)b - (uint64_t)a + 1)));
  return 1;
}

static int r_uniform(lua_State *L) {
  return push_draw(L, em_tensor_uniform, NULL, luaL_optnumber(L, 1, 0), luaL_optnumber(L, 2, 1));
}

static int r_normal(lua_State *L) {
  return push_draw(L, em_tensor_normal, NULL, luaL_optnumber(L, 1, 0), luaL_optnumber(L, 2, 1));
}

static int r_exponential(lua_State *L) {
  return push_draw(L, NULL, em_tensor_exponential, luaL_optnumber(L, 1, 1), 0);
}

static int r_cauchy(lua_State *L) {
  return push_draw(L, em_tensor_cauchy, NULL, luaL_optnumber(L, 1, 0), luaL_optnumber(L, 2, 1));
}

static int r_log_normal(lua_State *L) {
  return push_draw(L, em_tensor_log_normal, NULL, luaL_optnumber(L, 1, 1), luaL_optnumber(L, 2, 2));
}

static int r_geometric(lua_State *L) {
  push_draw(L, NULL, em_tensor_geometric, luaL_checknumber(L, 1), 0);
  lua_pushinteger(L, (lua_Integer)lua_tonumber(L, -1));
  return 1;
}

/* bernoulli([p = 0.5]): 0 or 1 (Torch7); bernoulli(p-tensor): a tensor of p's dtype and
 * shape with 1 where a draw fell below p (PyTorch) */
static int r_bernoulli(lua_State *L) {
  em_tensor *p = em_lua_totensor(L, 1);
  if (p) {
    em_tensor *t = em_lua_newtensor(L, p->dtype, p->device);
    em_lua_call(L, em_tensor_resize(t, p->ndim, p->size));
    em_lua_call(L, em_tensor_bernoulli_tensor(t, rng_of(L), p));
    return 1;
  }
  push_draw(L, NULL, em_tensor_bernoulli, luaL_optnumber(L, 1, 0.5), 0);
  lua_pushinteger(L, (lua_Integer)lua_tonumber(L, -1));
  return 1;
}

/* --- sampling constructors --- */

/* rand(sizes... [, dtype]): uniform in [0, 1) */
static int r_rand(lua_State *L) {
  em_dtype dt;
  em_tensor *t = new_sized(L, 1, em_lua_ctx(L)->default_dtype, &dt);
  check_float_dtype(L, "rand", dt);
  em_lua_call(L, em_tensor_uniform(t, rng_of(L), 0, 1));
  return 1;
}

/* randn(sizes... [, dtype]): standard normal */
static int r_randn(lua_State *L) {
  em_dtype dt;
  em_tensor *t = new_sized(L, 1, em_lua_ctx(L)->default_dtype, &dt);
  check_float_dtype(L, "randn", dt);
  em_lua_call(L, em_tensor_normal(t, rng_of(L), 0, 1));
  return 1;
}

/* randint(low, high, sizes... [, dtype]) or randint(high, {sizes} [, dtype]): integers
 * in [low, high), high excluded as in PyTorch; int64 unless a dtype is given. */
static int r_randint(lua_State *L) {
  lua_Integer low = 0, high;
  int sizes_at;
  if (lua_type(L, 2) == LUA_TNUMBER) {
    low = luaL_checkinteger(L, 1);
    high = luaL_checkinteger(L, 2);
    sizes_at = 3;
  } else {
    high = luaL_checkinteger(L, 1);
    sizes_at = 2;
  }
  if (lua_type(L, sizes_at) != LUA_TNUMBER && !lua_istable(L, sizes_at) && !em_lua_totensor(L, sizes_at))
    luaL_error(L, "randint: expected (low, high, sizes...) or (high, {sizes}), sizes missing");
  if (low >= high) luaL_error(L, "randint: low (%I) must be less than high (%I)", low, high);
  em_dtype dt;
  em_tensor *t = new_sized(L, sizes_at, EM_INT64, &dt);
  em_lua_call(L, em_tensor_random(t, rng_of(L), low, high - 1));
  return 1;
}

/* randperm(n [, dtype]): a permutation of 1..n, int64 unless a dtype is given */
static int r_randperm(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  em_dtype dt = opt_dtype(L, 2, EM_INT64);
  em_tensor *t = em_lua_newtensor(L, dt, CPU);
  em_lua_call(L, em_tensor_randperm(t, rng_of(L), n, 1));
  return 1;
}

/* multinomial(probs, n [, replacement = false]): 1-based category indices, (n) for
 * probs (k), (rows, n) for probs (rows, k); probs need not sum to one */
static int r_multinomial(lua_State *L) {
  em_tensor *p = em_lua_checktensor(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  int replacement = lua_toboolean(L, 3);
  em_tensor *t = em_lua_newtensor(L, EM_INT64, p->device);
  em_lua_call(L, em_tensor_multinomial(t, rng_of(L), p, n, replacement, 1));
  return 1;
}

/* --- in-place fills: each returns the tensor --- */

static int m_uniform(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_lua_call(L, em_tensor_uniform(t, rng_of(L), luaL_optnumber(L, 2, 0), luaL_optnumber(L, 3, 1)));
  lua_settop(L, 1);
  return 1;
}

static int m_normal(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_lua_call(L, em_tensor_normal(t, rng_of(L), luaL_optnumber(L, 2, 0), luaL_optnumber(L, 3, 1)));
  lua_settop(L, 1);
  return 1;
}

/* x:random(): Torch7's full range for the dtype ([0, 2^mantissa] for floats, [0, max]
 * for integers); x:random(b): [1, b]; x:random(a, b): [a, b] */
static int m_random(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  int64_t lo, hi;
  em_dtype_int_range(t->dtype, &lo, &hi);
  lo = 0;
  if (!lua_isnoneornil(L, 2)) lo = 1, hi = luaL_checkinteger(L, 2);
  if (!lua_isnoneornil(L, 3)) lo = hi, hi = luaL_checkinteger(L, 3);
  em_lua_call(L, em_tensor_random(t, rng_of(L), lo, hi));
  lua_settop(L, 1);
  return 1;
}

/* x:bernoulli([p = 0.5]) or x:bernoulli(p-tensor with as many elements) */
static int m_bernoulli(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1), *p = em_lua_totensor(L, 2);
  if (p) em_lua_call(L, em_tensor_bernoulli_tensor(t, rng_of(L), p));
  else em_lua_call(L, em_tensor_bernoulli(t, rng_of(L), luaL_optnumber(L, 2, 0.5)));
  lua_settop(L, 1);
  return 1;
}

static int m_exponential(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_lua_call(L, em_tensor_exponential(t, rng_of(L), luaL_optnumber(L, 2, 1)));
  lua_settop(L, 1);
  return 1;
}

static int m_cauchy(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_lua_call(L, em_tensor_cauchy(t, rng_of(L), luaL_optnumber(L, 2, 0), luaL_optnumber(L, 3, 1)));
  lua_settop(L, 1);
  return 1;
}

static int m_log_normal(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_lua_call(L, em_tensor_log_normal(t, rng_of(L), luaL_optnumber(L, 2, 1), luaL_optnumber(L, 3, 2)));
  lua_settop(L, 1);
  return 1;
}

static int m_geometric(lua_State *L) {
  em_tensor *t = em_lua_checktensor(L, 1);
  em_lua_call(L, em_tensor_geometric(t, rng_of(L), luaL_checknumber(L, 2)));
  lua_settop(L, 1);
  return 1;
}

static const luaL_Reg functions[] = {
  {"bernoulli", r_bernoulli},
  {"cauchy", r_cauchy},
  {"exponential", r_exponential},
  {"geometric", r_geometric},
  {"getRNGState", r_get_state},
  {"initialSeed", r_initial_seed},
  {"logNormal", r_log_normal},
  {"manualSeed", r_manual_seed},
  {"multinomial", r_multinomial},
  {"normal", r_normal},
  {"rand", r_rand},
  {"randint", r_randint},
  {"randn", r_randn},
  {"random", r_random},
  {"randperm", r_randperm},
  {"seed", r_seed},
  {"setRNGState", r_set_state},
  {"uniform", r_uniform},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"bernoulli", m_bernoulli},
  {"cauchy", m_cauchy},
  {"exponential", m_exponential},
  {"geometric", m_geometric},
  {"logNormal", m_log_normal},
  {"multinomial", r_multinomial},
  {"normal", m_normal},
  {"random", m_random},
  {"uniform", m_uniform},
  {NULL, NULL}
};

void em_lua_open_random(lua_State *L, int module, int methods_idx) {
  lua_pushvalue(L, module);
  em_lua_setfuncs(L, functions);
  lua_pushvalue(L, methods_idx);
  em_lua_setfuncs(L, methods);
  lua_pop(L, 2);
}
