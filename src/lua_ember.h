/* Shared helpers of the Lua binding files (src/lua_*.c), the only files that include
 * lua.h. Every binding function is registered with em_lua_setfuncs, which gives it
 * two upvalues: the state's em_context and the tensor metatable, so the helpers below
 * find both without a registry lookup.
 *
 * Conventions: Lua indices and dims are 1-based and converted here, once; a failed
 * core call raises its message with em_lua_check; outputs are created (as empty
 * tensors) before the core call that fills them. */
#ifndef EMBER_LUA_EMBER_H
#define EMBER_LUA_EMBER_H

/* Include after <lua.h> and <lauxlib.h>: only src/lua_*.c files include Lua's headers. */
#include "tensor.h"

#define EM_TENSOR_MT "torch.Tensor"
/* Bytes allocated between two reports to Lua's garbage collector. */
#define EM_GC_REPORT_BYTES (1u << 20)

/* registered upvalues (valid inside any em_lua_setfuncs function) */
#define EM_UPV_CTX lua_upvalueindex(1)
#define EM_UPV_MT lua_upvalueindex(2)

static inline em_context *em_lua_ctx(lua_State *L) {
  return (em_context *)lua_touserdata(L, EM_UPV_CTX);
}

/* The tensor at idx, or NULL when it is not one. */
em_tensor *em_lua_totensor(lua_State *L, int idx);
/* The tensor at idx, or a "bad argument" error naming the function. */
em_tensor *em_lua_checktensor(lua_State *L, int idx);
/* Pushes a new empty tensor (no storage yet) and returns it. */
em_tensor *em_lua_newtensor(lua_State *L, em_dtype dt, em_device dev);
/* Pushes a new tensor sharing src's storage (a view to be adjusted by the caller). */
em_tensor *em_lua_pushview(lua_State *L, const em_tensor *src);

/* Raises the last core error when status is not EM_OK; otherwise reports allocated
 * bytes to the garbage collector when enough have accumulated. */
void em_lua_check(lua_State *L, int status);
/* Runs a core call; on out-of-memory collects garbage and runs it once more. */
#define em_lua_call(L, call)                                   \
  do {                                                         \
    int em_st_ = (call);                                       \
    if (em_st_ == EM_ENOMEM) {                                 \
      lua_gc((L), LUA_GCCOLLECT);                              \
      em_st_ = (call);                                         \
    }                                                          \
    em_lua_check((L), em_st_);                                 \
  } while (0)

/* A 1-based dim argument (negative counts from the end) to a 0-based dim of t. */
int em_lua_checkdim(lua_State *L, int arg, const em_tensor *t, int allow_end);
/* A 1-based index (negative from the end) into a dimension of size n, 0-based result. */
int64_t em_lua_checkindex(lua_State *L, int arg, int64_t n, const char *what);
/* Sizes from varargs starting at arg (numbers, a table, or a LongTensor / LongStorage
 * style table); returns the number of dims. */
int em_lua_checksizes(lua_State *L, int arg, int64_t *size);
/* A dtype from a name ("float32", "torch.FloatTensor", ...) or error. */
em_dtype em_lua_checkdtype(lua_State *L, int arg);
/* An optional product precision (dtype.h): nil -> EM_PRECISION_FULL, 'bfloat16' ->
 * EM_PRECISION_BF16; anything else is a "bad argument" error. */
em_precision em_lua_optprecision(lua_State *L, int arg);
/* Number or boolean at idx as a double (booleans are 0/1); error otherwise. */
double em_lua_checkscalar(lua_State *L, int arg);

/* Registers l into the table on top, each function with the two upvalues. */
void em_lua_setfuncs(lua_State *L, const luaL_Reg *l);

/* Each binding file opens into the module table and the method table (both given as
 * absolute stack indices). */
void em_lua_open_tensor(lua_State *L, int module, int methods);
void em_lua_open_math(lua_State *L, int module, int methods);
void em_lua_open_reduce(lua_State *L, int module, int methods);
void em_lua_open_index(lua_State *L, int module, int methods);
void em_lua_open_linalg(lua_State *L, int module, int methods);
void em_lua_open_random(lua_State *L, int module, int methods);
void em_lua_open_create(lua_State *L, int module, int methods);
void em_lua_open_nn(lua_State *L, int module, int methods);
void em_lua_open_optim(lua_State *L, int module, int methods);
void em_lua_open_rnn(lua_State *L, int module, int methods);
void em_lua_open_attention(lua_State *L, int module, int methods);
void em_lua_open_data(lua_State *L, int module, int methods);
void em_lua_open_serialize(lua_State *L, int module, int methods);
void em_lua_open_signal(lua_State *L, int module, int methods);
void em_lua_open_paths(lua_State *L, int module, int methods);
void em_lua_open_act(lua_State *L, int module, int methods);
void em_lua_open_cuda(lua_State *L, int module, int methods);

/* Tensor keys in t[key] and t[key] = v (masks, index tensors): lua_index.c.
 * Return the number of results pushed. */
int em_lua_index_get_tensor(lua_State *L, em_tensor *t, em_tensor *key);
void em_lua_index_set_tensor(lua_State *L, em_tensor *t, em_tensor *key, int value_idx);

#endif
