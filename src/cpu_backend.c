/* The CPU backend table. Host memory comes from the context's allocator, which is the
 * Lua state's own allocator when the engine runs inside Lua. */
#include "blas.h"
#include "cpu.h"
#include "index.h"
#include "pointwise.h"
#include "nn.h"
#include "optim.h"
#include "rnn.h"
#include "attention.h"
#include "reduce.h"
#include "sample.h"

static void *ctx_alloc(void *ud, size_t n) {
  em_context *ctx = ud;
  return ctx->allocf(ctx->alloc_ud, NULL, 0, n);
}

static void ctx_free(void *ud, void *p, size_t n) {
  em_context *ctx = ud;
  ctx->allocf(ctx->alloc_ud, p, n, 0);
}

static em_allocator cpu_allocator(em_context *ctx, em_device dev) {
  (void)dev;
  return (em_allocator){ctx_alloc, ctx_free, ctx};
}

const em_backend em_cpu_backend = {
  .name = "cpu",
  .allocator = cpu_allocator,
  .copy = em_cpu_copy,
  .fill = em_cpu_fill,
  .math = &em_cpu_math,
  .reduce = &em_cpu_reduce,
  .index = &em_cpu_index,
  .blas = &em_cpu_blas,
  .random = &em_cpu_random,
  .nn = &em_cpu_nn,
  .optim = &em_cpu_optim,
  .rnn = &em_cpu_rnn,
  .attention = &em_cpu_attention,
};
