/* Ember inside a C host (a game, a tool): open the engine in a lua_State the host
 * owns, and pass float buffers between host memory and tensors copying at most once.
 *
 * A tour (examples/embed/embed.c is the whole program):
 *
 *   lua_State *L = luaL_newstate();      // or lua_newstate(alloc, ud): tensor memory then
 *   luaL_openlibs(L);                    //   comes from alloc too, and a refusal becomes
 *                                        //   a Lua error ("... out of memory ...")
 *   if (em_host_open(L, "/opt/game/lua") != 0)       // require 'torch' now; or
 *     fprintf(stderr, "%s\n", lua_tostring(L, -1));  //   em_host_preload: on first require
 *   luaL_dofile(L, "policy.lua");        // leaves {obs = tensor, action = tensor, step = fn}
 *   lua_getfield(L, -1, "obs");
 *   float *obs = em_host_floats(L, -1, NULL);   // the tensor's own memory: write into it
 *   ... each frame: fill obs, call step with lua_pcall, read the action tensor ...
 *
 * Threads: each host thread may run its own lua_State. Ember keeps no shared mutable
 * state: the allocator, generator (torch.manualSeed) and error message belong to a
 * state or a thread. One lua_State must not be used by two threads at once.
 *
 * This header does not include lua.h; the host includes its own Lua 5.4 headers.
 * Link with libember.a (or libember.so), Lua 5.4 and -lm -fopenmp (see the Makefile). */
#ifndef EMBER_HOST_H
#define EMBER_HOST_H

#include <stdint.h>

typedef struct lua_State lua_State;

/* The C module's opener, as `require 'ember.core'` calls it; usable with
 * luaL_requiref(L, "ember.core", luaopen_ember_core, 0). */
int luaopen_ember_core(lua_State *L);

/* Lazy opening: registers package.preload['ember.core'], so the engine opens when a
 * script first runs `require 'torch'`. When lua_dir is not NULL, lua_dir/?.lua and
 * lua_dir/?/init.lua are put first in package.path (that folder holds torch/, ember/,
 * nn/, optim/). Returns 0, or a Lua status with the message on the stack. */
int em_host_preload(lua_State *L, const char *lua_dir);

/* Eager opening: em_host_preload, then `require 'torch'` (which sets the global
 * `torch`). Returns 0 with the stack as it was, or a Lua status (not 0) with the
 * error message pushed, as lua_pcall does. */
int em_host_open(lua_State *L, const char *lua_dir);

/* The elements of the tensor at stack index idx when it is a contiguous float32 CPU
 * tensor: its own memory (no copy), so host writes are what Lua sees. The pointer
 * stays valid while the tensor is alive and not resized. Stores the element count
 * in *numel when numel is not NULL. NULL (message in em_host_error) otherwise. */
float *em_host_floats(lua_State *L, int idx, int64_t *numel);

/* Pushes a new float32 tensor of the given sizes (0 < ndim <= 8) holding a copy of
 * data. Returns 0, or -1 with nothing pushed (message in em_host_error) when the
 * sizes are bad or the allocation is refused. Does not raise Lua errors. */
int em_host_push_floats(lua_State *L, const float *data, int ndim, const int64_t *size);

/* Copies the n elements of the tensor at idx (any dtype, any strides, CPU) into
 * dst, converting to float: one pass. Returns 0, or -1 (message in em_host_error)
 * when idx is not a tensor of exactly n elements. */
int em_host_read_floats(lua_State *L, int idx, float *dst, int64_t n);

/* Copies src[0..n) into the tensor at idx (any dtype, any strides, CPU; exactly n
 * elements), converting from float. Returns 0 or -1 as em_host_read_floats. */
int em_host_write_floats(lua_State *L, int idx, const float *src, int64_t n);

/* The message of the last failed em_host_* call on this thread. */
const char *em_host_error(void);

#endif
