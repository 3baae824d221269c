/* Binding for the data layer (src/data.h) as the table ember.core.data: file readers
 * and writers, the batch ops of the loader, and Generator, a private random stream so
 * that a loader's shuffling and augmentation replay from its seed whatever else draws
 * from torch's generator. lua/ember/data builds Dataset and DataLoader on top.
 *
 * Index arguments are 1-based LongTensors (converted here, once); labels keep their
 * values, with the base given by the caller. */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "data.h"
#include "index.h"
#include "lua_ember.h"
#include "sample.h"

#define CPU ((em_device){EM_CPU, 0})
#define GENERATOR_MT "ember.data.Generator"
#define HEADER_MT "ember.data.csvheader"
#define MAX_CHANNELS 64

/* --- Generator: an em_rng in a userdata --- */

static em_rng *check_generator(lua_State *L, int arg) {
  return luaL_checkudata(L, arg, GENERATOR_MT);
}

/* The generator at arg, or this state's (torch.manualSeed's) when arg is none/nil. */
static em_rng *opt_generator(lua_State *L, int arg) {
  return lua_isnoneornil(L, arg) ? &em_lua_ctx(L)->rng : check_generator(L, arg);
}

/* Generator(seed): a new stream; same seed, same draws, on every run and platform. */
static int d_generator(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1);
  em_rng *r = lua_newuserdatauv(L, sizeof *r, 0);
  em_rng_seed(r, (uint64_t)seed);
  luaL_setmetatable(L, GENERATOR_MT);
  return 1;
}

static int g_manual_seed(lua_State *L) {
  em_rng_seed(check_generator(L, 1), (uint64_t)luaL_checkinteger(L, 2));
  return 0;
}

/* gen:getState(): the stream's position as a string (for checkpoints on this build) */
static int g_get_state(lua_State *L) {
  em_rng *r = check_generator(L, 1);
  lua_pushlstring(L, (const char *)r, sizeof *r);
  return 1;
}

/* gen:setState(s): continues the stream from a getState() string; a string of the
 * wrong size or with an impossible position is refused and the generator unchanged. */
static int g_set_state(lua_State *L) {
  em_rng *r = check_generator(L, 1);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  em_rng tmp;
  if (n != sizeof tmp)
    return luaL_error(L, "setState: state of %d bytes, expected %d", (int)n, (int)sizeof tmp);
  memcpy(&tmp, s, sizeof tmp);
  if (tmp.next < 0 || tmp.next > EM_MT_N || (tmp.has_normal != 0 && tmp.has_normal != 1))
    return luaL_error(L, "setState: not a generator state");
  *r = tmp;
  return 0;
}

/* gen:randperm(n): a LongTensor permutation of 1..n */
static int g_randperm(lua_State *L) {
  em_rng *r = check_generator(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 0, 2, "must be non-negative");
  em_tensor *t = em_lua_newtensor(L, EM_INT64, CPU);
  em_lua_call(L, em_tensor_resize(t, 1, &(int64_t){n}));
  em_lua_call(L, em_tensor_randperm(t, r, n, 1));
  return 1;
}

/* gen:random(n): an integer uniform in 1..n */
static int g_random(lua_State *L) {
  em_rng *r = check_generator(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 1, 2, "must be positive");
  lua_pushinteger(L, (lua_Integer)em_rng_below(r, (uint64_t)n) + 1);
  return 1;
}

/* --- readers and writers --- */

/* readIDX(path [, labelLimit]): the tensor in an IDX file (.gz or plain); with
 * labelLimit every value must be in 0 .. labelLimit - 1 */
static int d_read_idx(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer limit = luaL_optinteger(L, 2, 0);
  em_tensor *t = em_lua_newtensor(L, EM_UINT8, CPU);
  em_lua_call(L, em_idx_read(t, em_lua_ctx(L), path, limit));
  return 1;
}

static int header_gc(lua_State *L) {
  em_csv_header_free(luaL_checkudata(L, 1, HEADER_MT));
  return 0;
}

/* readCSV(path, sep, header, fill, dtype) -> tensor, names (or nil). header: true,
 * false or nil (detect); fill: nil (missing values are errors) or a number. */
static int d_read_csv(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  size_t seplen;
  const char *sep = luaL_optlstring(L, 2, ",", &seplen);
  luaL_argcheck(L, seplen == 1, 2, "the separator must be one character");
  em_csv_options opt = {sep[0], lua_isnoneornil(L, 3) ? -1 : lua_toboolean(L, 3), 0, 0, EM_FLOAT32};
  if (!lua_isnoneornil(L, 4)) {
    opt.has_fill = 1;
    opt.fill = luaL_checknumber(L, 4);
  }
  if (!lua_isnoneornil(L, 5)) opt.dtype = em_lua_checkdtype(L, 5);
  em_csv_header *h = lua_newuserdatauv(L, sizeof *h, 0);   /* freed by __gc, even on error */
  h->ncols = 0;
  h->names = NULL;
  luaL_setmetatable(L, HEADER_MT);
  em_tensor *t = em_lua_newtensor(L, opt.dtype, CPU);
  em_lua_call(L, em_csv_read(t, em_lua_ctx(L), path, &opt, h));
  if (h->ncols == 0) {
    lua_pushnil(L);
    return 2;
  }
  lua_createtable(L, h->ncols, 0);
  for (int i = 0; i < h->ncols; i++) {
    lua_pushstring(L, h->names[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 2;
}

/* readBytes(path): a ByteTensor of the file's bytes */
static int d_read_bytes(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  em_tensor *t = em_lua_newtensor(L, EM_UINT8, CPU);
  em_lua_call(L, em_file_read_bytes(t, em_lua_ctx(L), path));
  return 1;
}

/* Text at arg: a Lua string or a contiguous ByteTensor. */
static const uint8_t *check_text(lua_State *L, int arg, size_t *n) {
  if (lua_type(L, arg) == LUA_TSTRING) return (const uint8_t *)lua_tolstring(L, arg, n);
  em_tensor *t = em_lua_checktensor(L, arg);
  if (t->dtype != EM_UINT8 || t->device.type != EM_CPU || t->ndim > 1 || !em_tensor_is_contiguous(t))
    luaL_argerror(L, arg, "expected a string or a contiguous 1-D CPU ByteTensor");
  *n = (size_t)em_tensor_numel(t);
  return em_tensor_data(t);
}

/* textVocab(text [, name]): IntTensor of the sorted distinct code points */
static int d_text_vocab(lua_State *L) {
  size_t n;
  const uint8_t *s = check_text(L, 1, &n);
  const char *name = luaL_optstring(L, 2, "text");
  em_tensor *chars = em_lua_newtensor(L, EM_INT32, CPU);
  em_lua_call(L, em_utf8_vocab(chars, em_lua_ctx(L), s, n, name));
  return 1;
}

/* textEncode(text, chars [, name]): LongTensor of 1-based ids into chars */
static int d_text_encode(lua_State *L) {
  size_t n;
  const uint8_t *s = check_text(L, 1, &n);
  em_tensor *chars = em_lua_checktensor(L, 2);
  const char *name = luaL_optstring(L, 3, "text");
  em_tensor *ids = em_lua_newtensor(L, EM_INT64, CPU);
  em_lua_call(L, em_utf8_encode(ids, em_lua_ctx(L), s, n, name, chars));
  em_lua_call(L, em_index_shift(ids, ids, 1));
  return 1;
}

/* textDecode(ids, chars): the string of 1-based ids */
static int d_text_decode(lua_State *L) {
  em_tensor *ids = em_lua_checktensor(L, 1);
  em_tensor *chars = em_lua_checktensor(L, 2);
  size_t cap = (size_t)em_tensor_numel(ids) * 4, n = 0;
  luaL_Buffer b;
  char *buf = luaL_buffinitsize(L, &b, cap ? cap : 1);
  em_lua_check(L, em_utf8_decode(buf, cap, &n, ids, 1, chars));
  luaL_pushresultsize(&b, n);
  return 1;
}

static int d_read_image(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  em_tensor *t = em_lua_newtensor(L, EM_UINT8, CPU);
  em_lua_call(L, em_image_read(t, em_lua_ctx(L), path));
  return 1;
}

static int d_write_png(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  em_lua_check(L, em_image_write_png(path, em_lua_checktensor(L, 2)));
  return 0;
}

static int d_write_pnm(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  em_lua_check(L, em_image_write_pnm(path, em_lua_checktensor(L, 2)));
  return 0;
}

/* --- batch ops --- */

/* gather(out, src, idx [, scale, shift]): out := src[idx] * scale + shift in out's
 * dtype; idx a LongTensor of 1-based row numbers. Returns out. */
static int d_gather(lua_State *L) {
  em_tensor *out = em_lua_checktensor(L, 1);
  em_tensor *src = em_lua_checktensor(L, 2);
  em_tensor *idx = em_lua_checktensor(L, 3);
  double scale = luaL_optnumber(L, 4, 1), shift = luaL_optnumber(L, 5, 0);
  em_tensor *zero_based = em_lua_newtensor(L, EM_INT64, CPU);
  em_lua_call(L, em_index_shift(zero_based, idx, -1));
  em_lua_call(L, em_data_gather(out, src, zero_based, scale, shift));
  lua_pushvalue(L, 1);
  return 1;
}

/* oneHot(out, labels, k [, base = 1]): out (n x k) rows of labels in base .. base+k-1 */
static int d_one_hot(lua_State *L) {
  em_tensor *out = em_lua_checktensor(L, 1);
  em_tensor *labels = em_lua_checktensor(L, 2);
  lua_Integer k = luaL_checkinteger(L, 3), base = luaL_optinteger(L, 4, 1);
  em_lua_call(L, em_data_one_hot(out, labels, k, base));
  lua_pushvalue(L, 1);
  return 1;
}

/* A number or a table of numbers at arg into v (at most MAX_CHANNELS); the count. */
static int check_numbers(lua_State *L, int arg, double *v) {
  if (lua_type(L, arg) == LUA_TNUMBER) {
    v[0] = lua_tonumber(L, arg);
    return 1;
  }
  luaL_checktype(L, arg, LUA_TTABLE);
  int n = (int)luaL_len(L, arg);
  luaL_argcheck(L, n >= 1 && n <= MAX_CHANNELS, arg, "expected 1 to 64 numbers");
  for (int i = 0; i < n; i++) {
    lua_geti(L, arg, i + 1);
    if (!lua_isnumber(L, -1)) luaL_argerror(L, arg, "expected numbers");
    v[i] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  return n;
}

/* normalize(x, mean, std): in place, per entry of dim 2 (a number or a table each) */
static int d_normalize(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 1);
  double mean[MAX_CHANNELS], std[MAX_CHANNELS];
  int nm = check_numbers(L, 2, mean), ns = check_numbers(L, 3, std);
  if (nm != ns) luaL_error(L, "normalize: %d means but %d stds", nm, ns);
  em_lua_check(L, em_data_normalize(x, nm, mean, std));
  lua_pushvalue(L, 1);
  return 1;
}

/* randomCrop(x, pad [, gen]): in place on N x C x H x W */
static int d_random_crop(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 1);
  lua_Integer pad = luaL_checkinteger(L, 2);
  em_lua_call(L, em_data_random_crop(x, pad, opt_generator(L, 3)));
  lua_pushvalue(L, 1);
  return 1;
}

/* randomFlip(x [, p = 0.5, gen]): in place, mirrors samples along the last dim */
static int d_random_flip(lua_State *L) {
  em_tensor *x = em_lua_checktensor(L, 1);
  double p = luaL_optnumber(L, 2, 0.5);
  em_lua_check(L, em_data_random_hflip(x, p, opt_generator(L, 3)));
  lua_pushvalue(L, 1);
  return 1;
}

static const luaL_Reg functions[] = {
  {"Generator", d_generator},
  {"gather", d_gather},
  {"normalize", d_normalize},
  {"oneHot", d_one_hot},
  {"randomCrop", d_random_crop},
  {"randomFlip", d_random_flip},
  {"readBytes", d_read_bytes},
  {"readCSV", d_read_csv},
  {"readIDX", d_read_idx},
  {"readImage", d_read_image},
  {"textDecode", d_text_decode},
  {"textEncode", d_text_encode},
  {"textVocab", d_text_vocab},
  {"writePNG", d_write_png},
  {"writePNM", d_write_pnm},
  {NULL, NULL}
};

static const luaL_Reg generator_methods[] = {
  {"getState", g_get_state},
  {"manualSeed", g_manual_seed},
  {"random", g_random},
  {"randperm", g_randperm},
  {"setState", g_set_state},
  {NULL, NULL}
};

void em_lua_open_data(lua_State *L, int module, int methods) {
  luaL_newmetatable(L, GENERATOR_MT);
  lua_newtable(L);
  em_lua_setfuncs(L, generator_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, HEADER_MT);
  lua_pushcfunction(L, header_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_newtable(L);
  em_lua_setfuncs(L, functions);
  lua_setfield(L, module, "data");
}
