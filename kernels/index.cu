/* CUDA kernels of the index family (src/index.h), with the semantics of
 * src/cpu_index.c: index ops are one strided "remap" over a domain shape; duplicate
 * indices in a copy or scatter leave the value of the last one in row-major order
 * (a first kernel elects, per destination, the largest position along dim, and only
 * that one writes), accumulating ops add atomically; mask ops and nonzero keep
 * row-major order through an exclusive scan (cub::DeviceScan) of the selection flags.
 *
 * Validation: the public ops (src/index.c) call find_bad_index, which reduces the
 * first out-of-range position on the device and reads it back before anything is
 * written, so a rejected index leaves every tensor unchanged, as on the CPU. What a
 * device cannot promise is the same for a fault after writing began (an illegal
 * address, a lost device): those are reported, and the destination may be partly
 * written; nothing Ember validates leads there. */
#include <string.h>

#include <cub/device/device_scan.cuh>

#include "cuda_ops.cuh"

extern "C" {
#include "index.h"
}

enum remap_op { REMAP_READ, REMAP_WRITE, REMAP_ADD, REMAP_FILL };

/* Who writes a destination of a WRITE: nobody elected (every position writes), the
 * largest j per index value (1-D index), or per (other coordinates, index value). */
enum { ELECT_NONE, ELECT_VECTOR, ELECT_TENSOR };

/* For every position p of the domain (ndim, size): k = index at p (strides si), and B
 * = b's element at p with coordinate dim replaced by k (sb[dim] = 0, bd: b's stride
 * along dim). READ: a[p] = B; WRITE: B = a[p]; ADD: B += a[p]; FILL: B = value.
 * Strides in elements. */
typedef struct remap {
  int op, ndim, dim, elect;
  int dt, es, idt;
  int64_t numel, limit;          /* limit: b's size along dim */
  int64_t size[EM_MAX_DIMS];
  int64_t sa[EM_MAX_DIMS], sb[EM_MAX_DIMS], si[EM_MAX_DIMS];
  int64_t bd;
  char *a, *b;
  const char *ix;
  int64_t *winner;               /* ELECT_*: the elected j per slot */
  unsigned char value[8];
} remap;

/* --- device helpers --- */

static __device__ __forceinline__ int64_t load_index(const char *p, int idt) {
  return idt == EM_INT32 ? (int64_t) * (const int32_t *)p : *(const int64_t *)p;
}

/* *d += *s for 1- and 2-byte dtypes, by compare-and-swap on the aligned 32-bit word
 * that holds *d (allocations are at least 256-byte granular, so the word exists). */
static __device__ void add_small(char *d, const char *s, int dt, int es) {
  unsigned int *w = (unsigned int *)((uintptr_t)d & ~(uintptr_t)3);
  unsigned shift = (unsigned)((uintptr_t)d & 3) * 8u, mask = es == 1 ? 0xffu : 0xffffu;
  unsigned old = *w, assumed;
  do {
    assumed = old;
    unsigned cur = (assumed >> shift) & mask, nv;
    switch (dt) {
    case EM_FLOAT16:
      nv = __half_as_ushort(__float2half_rn(em_half_f((uint16_t)cur) + em_half_f(*(const uint16_t *)s)));
      break;
    case EM_BFLOAT16:
      nv = __bfloat16_as_ushort(__float2bfloat16_rn(em_bf16_f((uint16_t)cur) + em_bf16_f(*(const uint16_t *)s)));
      break;
    case EM_BOOL: nv = cur || *(const uint8_t *)s; break;
    case EM_INT16: nv = (uint16_t)(cur + *(const uint16_t *)s); break;
    default: nv = (uint8_t)(cur + *(const uint8_t *)s); break;     /* int8, uint8 */
    }
    old = atomicCAS(w, assumed, (assumed & ~(mask << shift)) | ((nv & mask) << shift));
  } while (old != assumed);
}

/* *d += *s atomically in dtype dt (integers wrap; bool is logical or). */
static __device__ void add_atomic(char *d, const char *s, int dt, int es) {
  switch (dt) {
  case EM_FLOAT32: atomicAdd((float *)d, *(const float *)s); break;
  case EM_FLOAT64: atomicAdd((double *)d, *(const double *)s); break;
  case EM_INT64:
    atomicAdd((unsigned long long *)d, (unsigned long long)*(const int64_t *)s);
    break;
  case EM_INT32: atomicAdd((unsigned int *)d, (unsigned int)*(const int32_t *)s); break;
  default: add_small(d, s, dt, es); break;
  }
}

/* Offsets of domain position i: *a_off, *b_off (without the index), the index's
 * address, j (the coordinate along dim) and the slot of the winner table. */
static __device__ __forceinline__ void remap_at(const remap &m, int64_t i, int64_t *a_off,
                                                int64_t *b_off, const char **ixp, int64_t *j,
                                                int64_t *outer) {
  int64_t a = 0, b = 0, x = 0, o = 0, ostride = 1;
  for (int d = m.ndim - 1; d >= 0; d--) {
    int64_t c = i % m.size[d];
    i /= m.size[d];
    a += c * m.sa[d];
    b += c * m.sb[d];
    x += c * m.si[d];
    if (d == m.dim) {
      *j = c;
    } else {
      o += c * ostride;
      ostride *= m.size[d];
    }
  }
  *a_off = a;
  *b_off = b;
  *ixp = m.ix + x * (m.idt == EM_INT32 ? 4 : 8);
  *outer = o;
}

/* --- kernels --- */

/* winner[slot] := the largest j writing to that slot */
__global__ void elect_kernel(remap m) {
  EM_CUDA_LOOP(i, m.numel) {
    int64_t a, b, j, outer;
    const char *ixp;
    remap_at(m, i, &a, &b, &ixp, &j, &outer);
    int64_t k = load_index(ixp, m.idt);
    int64_t slot = m.elect == ELECT_VECTOR ? k : outer * m.limit + k;
    atomicMax((long long *)&m.winner[slot], (long long)j);
  }
}

__global__ void remap_kernel(remap m) {
  EM_CUDA_LOOP(i, m.numel) {
    int64_t a, b, j, outer;
    const char *ixp;
    remap_at(m, i, &a, &b, &ixp, &j, &outer);
    int64_t k = load_index(ixp, m.idt);
    char *pb = m.b + (b + k * m.bd) * m.es, *pa = m.a + a * m.es;
    switch (m.op) {
    case REMAP_READ: em_move_elem(pa, pb, m.es); break;
    case REMAP_WRITE:
      if (m.elect == ELECT_NONE || m.winner[m.elect == ELECT_VECTOR ? k : outer * m.limit + k] == j)
        em_move_elem(pb, pa, m.es);
      break;
    case REMAP_ADD: add_atomic(pb, pa, m.dt, m.es); break;
    default: em_move_elem(pb, (const char *)m.value, m.es); break;
    }
  }
}

/* *first := the smallest i whose index is outside [0, limit) (it: over idx) */
__global__ void bad_index_kernel(const char *ix, int idt, int64_t limit, em_cuda_iter it,
                                 unsigned long long *first) {
  EM_CUDA_LOOP(i, it.numel) {
    int64_t k = load_index(ix + em_cuda_offset(it, 0, i) * (idt == EM_INT32 ? 4 : 8), idt);
    if (k < 0 || k >= limit) atomicMin(first, (unsigned long long)i);
  }
}

/* found[1] := the index value at position found[0] (when one was found) */
__global__ void bad_value_kernel(const char *ix, int idt, em_cuda_iter it, int64_t *found) {
  if (found[0] != -1)
    found[1] = load_index(ix + em_cuda_offset(it, 0, found[0]) * (idt == EM_INT32 ? 4 : 8), idt);
}

__global__ void shift_kernel(int64_t *out, const char *ix, int idt, int64_t delta, em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel)
    out[em_cuda_offset(it, 0, i)] = load_index(ix + em_cuda_offset(it, 1, i) * (idt == EM_INT32 ? 4 : 8), idt) + delta;
}

/* *count += the nonzero elements of t (it: over t) */
__global__ void count_kernel(const char *t, int dt, int es, em_cuda_iter it, unsigned long long *count) {
  unsigned long long c = 0;
  EM_CUDA_LOOP(i, it.numel) c += em_nonzero(t + em_cuda_offset(it, 0, i) * es, dt);
  c = em_block_reduce(c, [](unsigned long long x, unsigned long long y) { return x + y; }, 0ull);
  if (threadIdx.x == 0 && c) atomicAdd(count, c);
}

/* flags[i] := is element i (row-major) of operand k nonzero */
__global__ void flag_kernel(const char *t, int dt, int es, em_cuda_iter it, int k, int64_t *flags) {
  EM_CUDA_LOOP(i, it.numel) flags[i] = em_nonzero(t + em_cuda_offset(it, k, i) * es, dt);
}

/* Shape of src for nonzero's coordinates. */
typedef struct coords {
  int ndim;
  int64_t size[EM_MAX_DIMS];
} coords;

__global__ void nonzero_kernel(const int64_t *flags, const int64_t *pos, int64_t n, coords c,
                               int64_t *out, int64_t rs, int64_t cs, int64_t nout) {
  EM_CUDA_LOOP(i, n) {
    if (!flags[i] || pos[i] >= nout) continue;
    int64_t *row = out + pos[i] * rs, r = i;
    for (int d = c.ndim - 1; d >= 0; d--) {
      row[d * cs] = r % c.size[d];
      r /= c.size[d];
    }
  }
}

/* out[pos[i]] := src[i] where flags[i] (it: over {src, mask}) */
__global__ void masked_select_kernel(const int64_t *flags, const int64_t *pos, const char *src,
                                     int es, em_cuda_iter it, char *out) {
  EM_CUDA_LOOP(i, it.numel)
    if (flags[i]) em_move_elem(out + pos[i] * es, src + em_cuda_offset(it, 0, i) * es, es);
}

/* dst[i] := src[pos[i]] where flags[i] (it: over {dst, mask}) */
__global__ void masked_copy_kernel(const int64_t *flags, const int64_t *pos, const char *src,
                                   int es, em_cuda_iter it, char *dst) {
  EM_CUDA_LOOP(i, it.numel)
    if (flags[i]) em_move_elem(dst + em_cuda_offset(it, 0, i) * es, src + pos[i] * es, es);
}

template <typename E>
__global__ void masked_fill_kernel(E *dst, const uint8_t *mask, E value, em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel)
    if (mask[em_cuda_offset(it, 1, i)]) dst[em_cuda_offset(it, 0, i)] = value;
}

/* --- launchers --- */

static em_cuda_iter iter1(const em_tensor *t) {
  em_cuda_iter it;
  const em_tensor *ts[1] = {t};
  em_cuda_iter_init(&it, 1, ts);
  return it;
}

static em_cuda_iter iter2(const em_tensor *t, const em_tensor *u) {
  em_cuda_iter it;
  const em_tensor *ts[2] = {t, u};
  em_cuda_iter_init(&it, 2, ts);
  return it;
}

/* As cpu_index.c's remap_init; a may be NULL (FILL). */
static remap remap_of(int op, int ndim, const int64_t *size, const em_tensor *a, const em_tensor *b,
                      int dim, const em_tensor *idx, int idx_is_vector) {
  remap m;
  memset(&m, 0, sizeof m);
  m.op = op;
  m.ndim = ndim;
  m.dim = dim;
  m.dt = b->dtype;
  m.es = (int)em_dtype_info[b->dtype].size;
  m.idt = idx->dtype;
  m.limit = b->size[dim];
  m.a = a ? (char *)em_cuda_data(a) : NULL;
  m.b = (char *)em_cuda_data(b);
  m.ix = (const char *)em_cuda_data(idx);
  m.bd = b->stride[dim];
  m.numel = 1;
  for (int d = 0; d < ndim; d++) {
    m.size[d] = size[d];
    m.numel *= size[d];
    m.sa[d] = a ? a->stride[d] : 0;
    m.sb[d] = d == dim ? 0 : b->stride[d];
    m.si[d] = idx_is_vector ? (d == dim ? idx->stride[0] : 0) : idx->stride[d];
  }
  return m;
}

/* Runs m on b's device; a WRITE with elect != ELECT_NONE first elects the writers. */
static int run_remap(remap *m, const em_tensor *b, int elect) {
  if (m->numel == 0) return EM_OK;
  cudaStream_t stream;
  if (em_cuda_use(b->device, &stream) != EM_OK) return EM_ERR;
  em_cuda_workspace ws = {NULL, 0, 0};
  unsigned grid = em_cuda_grid(m->numel, EM_CUDA_BLOCK);
  int st = EM_OK;
  m->elect = m->op == REMAP_WRITE ? elect : ELECT_NONE;
  if (m->elect != ELECT_NONE) {
    int64_t slots = m->limit;
    if (m->elect == ELECT_TENSOR) slots *= m->numel / m->size[m->dim];
    st = em_cuda_workspace_get(b->device, (size_t)slots * sizeof(int64_t), &ws);
    if (st != EM_OK) return st;
    m->winner = (int64_t *)ws.ptr;
    cudaError_t err = cudaMemsetAsync(ws.ptr, 0xff, (size_t)slots * sizeof(int64_t), stream);   /* -1 */
    if (err == cudaSuccess) {
      elect_kernel<<<grid, EM_CUDA_BLOCK, 0, stream>>>(*m);
      err = cudaGetLastError();
    }
    if (err != cudaSuccess) st = em_cuda_fail(err, "elect_kernel", __FILE__, __LINE__);
  }
  if (st == EM_OK) {
    remap_kernel<<<grid, EM_CUDA_BLOCK, 0, stream>>>(*m);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) st = em_cuda_fail(err, "remap_kernel launch", __FILE__, __LINE__);
  }
  em_cuda_workspace_release(&ws);
  return st;
}

/* Exclusive scan of flags into pos over n items (cub, temporaries from the pool). */
static int scan_flags(const int64_t *flags, int64_t *pos, int64_t n, em_device dev, cudaStream_t stream) {
  size_t tmp = 0;
  EM_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(NULL, tmp, flags, pos, n, stream));
  em_cuda_workspace ws;
  int st = em_cuda_workspace_get(dev, tmp, &ws);
  if (st != EM_OK) return st;
  cudaError_t err = cub::DeviceScan::ExclusiveSum(ws.ptr, tmp, flags, pos, n, stream);
  em_cuda_workspace_release(&ws);
  if (err != cudaSuccess) return em_cuda_fail(err, "cub::DeviceScan::ExclusiveSum", __FILE__, __LINE__);
  return EM_OK;
}

/* flags, pos (n each, in one workspace) := the nonzero flags of operand k of it over
 * t's elements, and their exclusive scan. */
static int flags_and_positions(const em_tensor *t, const em_cuda_iter &it, int k, em_device dev,
                               cudaStream_t stream, em_cuda_workspace *ws) {
  int64_t n = it.numel;
  int st = em_cuda_workspace_get(dev, 2 * (size_t)n * sizeof(int64_t), ws);
  if (st != EM_OK) return st;
  int64_t *flags = (int64_t *)ws->ptr, *pos = flags + n;
  flag_kernel<<<em_cuda_grid(n, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
      (const char *)em_cuda_data(t), t->dtype, (int)em_dtype_info[t->dtype].size, it, k, flags);
  EM_CUDA_CHECK_LAUNCH();
  return scan_flags(flags, pos, n, dev, stream);
}

/* --- entry points --- */

/* The table's contract has no error status: when the check itself cannot run, the
 * index is reported bad (*bad = -1), so that nothing is written. */
static int cuda_find_bad_index(const em_tensor *idx, int64_t limit, int64_t *bad) {
  cudaStream_t stream;
  em_cuda_workspace ws;
  *bad = -1;
  if (em_cuda_use(idx->device, &stream) != EM_OK) return 1;
  if (em_cuda_workspace_get(idx->device, 2 * sizeof(int64_t), &ws) != EM_OK) return 1;
  em_cuda_iter it = iter1(idx);
  int64_t found[2] = {-1, 0};
  const char *ix = (const char *)em_cuda_data(idx);
  cudaError_t err = cudaMemsetAsync(ws.ptr, 0xff, 2 * sizeof(int64_t), stream);
  if (err == cudaSuccess) {
    bad_index_kernel<<<em_cuda_grid(it.numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        ix, idx->dtype, limit, it, (unsigned long long *)ws.ptr);
    err = cudaGetLastError();
  }
  if (err == cudaSuccess) {
    bad_value_kernel<<<1, 1, 0, stream>>>(ix, idx->dtype, it, (int64_t *)ws.ptr);
    err = cudaGetLastError();
  }
  if (err == cudaSuccess) err = cudaMemcpyAsync(found, ws.ptr, sizeof found, cudaMemcpyDeviceToHost, stream);
  if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
  em_cuda_workspace_release(&ws);
  if (err != cudaSuccess) {
    em_cuda_fail(err, "find_bad_index", __FILE__, __LINE__);
    return 1;
  }
  if (found[0] == -1) return 0;
  *bad = found[1];
  return 1;
}

static int cuda_shift_index(em_tensor *out, const em_tensor *idx, int64_t delta) {
  cudaStream_t stream;
  if (em_cuda_use(idx->device, &stream) != EM_OK) return EM_ERR;
  em_cuda_iter it = iter2(out, idx);
  if (it.numel == 0) return EM_OK;
  shift_kernel<<<em_cuda_grid(it.numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
      (int64_t *)em_cuda_data(out), (const char *)em_cuda_data(idx), idx->dtype, delta, it);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

static int cuda_index_select(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx) {
  remap m = remap_of(REMAP_READ, out->ndim, out->size, out, src, dim, idx, 1);
  return run_remap(&m, src, ELECT_NONE);
}

static int cuda_index_copy(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src,
                           int accumulate) {
  remap m = remap_of(accumulate ? REMAP_ADD : REMAP_WRITE, src->ndim, src->size, src, dst, dim, idx, 1);
  return run_remap(&m, dst, ELECT_VECTOR);
}

static int cuda_index_fill(em_tensor *dst, int dim, const em_tensor *idx, double value) {
  int64_t size[EM_MAX_DIMS];
  memcpy(size, dst->size, sizeof size);
  size[dim] = idx->size[0];
  remap m = remap_of(REMAP_FILL, dst->ndim, size, NULL, dst, dim, idx, 1);
  em_dtype_set(dst->dtype, m.value, value);
  return run_remap(&m, dst, ELECT_NONE);
}

static int cuda_gather(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx) {
  remap m = remap_of(REMAP_READ, idx->ndim, idx->size, out, src, dim, idx, 0);
  return run_remap(&m, src, ELECT_NONE);
}

static int cuda_scatter(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src,
                        int accumulate) {
  remap m = remap_of(accumulate ? REMAP_ADD : REMAP_WRITE, idx->ndim, idx->size, src, dst, dim, idx, 0);
  return run_remap(&m, dst, ELECT_TENSOR);
}

static int cuda_scatter_fill(em_tensor *dst, int dim, const em_tensor *idx, double value) {
  remap m = remap_of(REMAP_FILL, idx->ndim, idx->size, NULL, dst, dim, idx, 0);
  em_dtype_set(dst->dtype, m.value, value);
  return run_remap(&m, dst, ELECT_NONE);
}

static int cuda_count_nonzero(const em_tensor *t, int64_t *n) {
  *n = 0;
  cudaStream_t stream;
  if (em_cuda_use(t->device, &stream) != EM_OK) return EM_ERR;
  em_cuda_iter it = iter1(t);
  if (it.numel == 0) return EM_OK;
  em_cuda_workspace ws;
  int st = em_cuda_workspace_get(t->device, sizeof(unsigned long long), &ws);
  if (st != EM_OK) return st;
  unsigned long long count = 0;
  cudaError_t err = cudaMemsetAsync(ws.ptr, 0, sizeof count, stream);
  if (err == cudaSuccess) {
    count_kernel<<<em_cuda_grid(it.numel, EM_CUDA_BLOCK_REDUCE), EM_CUDA_BLOCK_REDUCE, 0, stream>>>(
        (const char *)em_cuda_data(t), t->dtype, (int)em_dtype_info[t->dtype].size, it,
        (unsigned long long *)ws.ptr);
    err = cudaGetLastError();
  }
  if (err == cudaSuccess) st = em_cuda_read_back(&count, ws.ptr, sizeof count, stream);
  else st = em_cuda_fail(err, "count_kernel launch", __FILE__, __LINE__);
  em_cuda_workspace_release(&ws);
  *n = (int64_t)count;
  return st;
}

static int cuda_nonzero(em_tensor *out, const em_tensor *src) {
  cudaStream_t stream;
  if (em_cuda_use(src->device, &stream) != EM_OK) return EM_ERR;
  em_cuda_iter it = iter1(src);
  em_cuda_workspace ws = {NULL, 0, 0};
  int st = flags_and_positions(src, it, 0, src->device, stream, &ws);
  if (st == EM_OK) {
    coords c;
    c.ndim = src->ndim;
    memcpy(c.size, src->size, sizeof c.size);
    const int64_t *flags = (const int64_t *)ws.ptr;
    nonzero_kernel<<<em_cuda_grid(it.numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        flags, flags + it.numel, it.numel, c, (int64_t *)em_cuda_data(out), out->stride[0],
        out->stride[1], out->size[0]);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) st = em_cuda_fail(err, "nonzero_kernel launch", __FILE__, __LINE__);
  }
  em_cuda_workspace_release(&ws);
  return st;
}

static int cuda_masked_select(em_tensor *out, const em_tensor *src, const em_tensor *mask) {
  cudaStream_t stream;
  if (em_cuda_use(src->device, &stream) != EM_OK) return EM_ERR;
  em_cuda_iter it = iter2(src, mask);
  em_cuda_workspace ws = {NULL, 0, 0};
  int st = flags_and_positions(mask, it, 1, src->device, stream, &ws);
  if (st == EM_OK) {
    const int64_t *flags = (const int64_t *)ws.ptr;
    masked_select_kernel<<<em_cuda_grid(it.numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        flags, flags + it.numel, (const char *)em_cuda_data(src), (int)em_dtype_info[src->dtype].size,
        it, (char *)em_cuda_data(out));
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) st = em_cuda_fail(err, "masked_select_kernel launch", __FILE__, __LINE__);
  }
  em_cuda_workspace_release(&ws);
  return st;
}

template <typename E>
static int launch_masked_fill(em_tensor *dst, const em_tensor *mask, const unsigned char *v,
                              cudaStream_t stream) {
  em_cuda_iter it = iter2(dst, mask);
  E value;
  memcpy(&value, v, sizeof value);
  masked_fill_kernel<E><<<em_cuda_grid(it.numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
      (E *)em_cuda_data(dst), (const uint8_t *)em_cuda_data(mask), value, it);
  EM_CUDA_CHECK_LAUNCH();
  return EM_OK;
}

static int cuda_masked_fill(em_tensor *dst, const em_tensor *mask, double value) {
  cudaStream_t stream;
  if (em_cuda_use(dst->device, &stream) != EM_OK) return EM_ERR;
  unsigned char v[8] = {0};
  em_dtype_set(dst->dtype, v, value);
  switch (em_dtype_info[dst->dtype].size) {
  case 1: return launch_masked_fill<uint8_t>(dst, mask, v, stream);
  case 2: return launch_masked_fill<uint16_t>(dst, mask, v, stream);
  case 4: return launch_masked_fill<uint32_t>(dst, mask, v, stream);
  default: return launch_masked_fill<uint64_t>(dst, mask, v, stream);
  }
}

static int cuda_masked_copy(em_tensor *dst, const em_tensor *mask, const em_tensor *src) {
  cudaStream_t stream;
  if (em_cuda_use(dst->device, &stream) != EM_OK) return EM_ERR;
  em_cuda_iter it = iter2(dst, mask);
  em_cuda_workspace ws = {NULL, 0, 0};
  int st = flags_and_positions(mask, it, 1, dst->device, stream, &ws);
  if (st == EM_OK) {
    const int64_t *flags = (const int64_t *)ws.ptr;
    masked_copy_kernel<<<em_cuda_grid(it.numel, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        flags, flags + it.numel, (const char *)em_cuda_data(src), (int)em_dtype_info[dst->dtype].size,
        it, (char *)em_cuda_data(dst));
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) st = em_cuda_fail(err, "masked_copy_kernel launch", __FILE__, __LINE__);
  }
  em_cuda_workspace_release(&ws);
  return st;
}

extern "C" const struct em_index_backend em_cuda_index = {
  cuda_find_bad_index,
  cuda_shift_index,
  cuda_index_select,
  cuda_index_copy,
  cuda_index_fill,
  cuda_gather,
  cuda_scatter,
  cuda_scatter_fill,
  cuda_count_nonzero,
  cuda_nonzero,
  cuda_masked_select,
  cuda_masked_fill,
  cuda_masked_copy,
};
