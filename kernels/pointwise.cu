/* CUDA kernels of the element-wise family (src/pointwise.h): unary, binary, compare,
 * clamp, ternary, where and equal over strided and broadcast views, with the exact
 * semantics of src/cpu_pointwise.c (integer ops wrap and never trap; cmax/cmin
 * propagate nan; remainder takes the divisor's sign). Kernel dtypes are float32,
 * float64 and int64; where moves elements of any size. Contiguous float32 unary and
 * binary ops take a float4 path. */
#include <type_traits>

#include "cuda_ops.cuh"

extern "C" {
#include "pointwise.h"
}

enum { VEC = 4 };   /* float32 elements per vectorised access (16 bytes) */

/* --- scalar functions: the expressions of cpu_pointwise.c --- */

static __device__ __forceinline__ int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static __device__ __forceinline__ int64_t wsub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static __device__ __forceinline__ int64_t wmul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static __device__ __forceinline__ int64_t idiv(int64_t a, int64_t b) { return b == 0 ? 0 : b == -1 ? wsub(0, a) : a / b; }
static __device__ __forceinline__ int64_t ifmod(int64_t a, int64_t b) { return b == 0 || b == -1 ? 0 : a % b; }

static __device__ __forceinline__ int64_t irem(int64_t a, int64_t b) {
  int64_t r = ifmod(a, b);
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

static __device__ int64_t ipow(int64_t a, int64_t b) {
  if (b < 0) return a == 1 ? 1 : a == -1 ? (b % 2 ? -1 : 1) : 0;
  int64_t r = 1;
  while (b) {
    if (b & 1) r = wmul(r, a);
    a = wmul(a, a);
    b >>= 1;
  }
  return r;
}

template <typename T>
static __device__ __forceinline__ T unary_fn(int op, T x) {
  if constexpr (std::is_same<T, int64_t>::value) {
    switch (op) {
    case EM_ABS: return x < 0 ? wsub(0, x) : x;
    case EM_NEG: return wsub(0, x);
    case EM_SIGN: return (int64_t)((x > 0) - (x < 0));
    case EM_SQUARE: return wmul(x, x);
    case EM_FRAC: return 0;
    default: return x;                     /* floor, ceil, round, trunc */
    }
  } else {
    switch (op) {
    case EM_ABS: return fabs(x);
    case EM_NEG: return -x;
    case EM_SIGN: return x != x ? x : (T)((x > 0) - (x < 0));
    case EM_SQUARE: return x * x;
    case EM_FLOOR: return floor(x);
    case EM_CEIL: return ceil(x);
    case EM_ROUND: return round(x);
    case EM_TRUNC: return trunc(x);
    case EM_FRAC: return x - trunc(x);
    case EM_EXP: return exp(x);
    case EM_LOG: return log(x);
    case EM_LOG1P: return log1p(x);
    case EM_EXPM1: return expm1(x);
    case EM_LOG2: return log2(x);
    case EM_LOG10: return log10(x);
    case EM_SQRT: return sqrt(x);
    case EM_RSQRT: return (T)1 / sqrt(x);
    case EM_SIN: return sin(x);
    case EM_COS: return cos(x);
    case EM_TAN: return tan(x);
    case EM_ASIN: return asin(x);
    case EM_ACOS: return acos(x);
    case EM_ATAN: return atan(x);
    case EM_SINH: return sinh(x);
    case EM_COSH: return cosh(x);
    case EM_TANH: return tanh(x);
    case EM_SIGMOID: return (T)1 / ((T)1 + exp(-x));
    case EM_RECIPROCAL: return (T)1 / x;
    case EM_ERF: return erf(x);
    default: return x;
    }
  }
}

/* a op (alpha * b); square: pow with the scalar exponent 2 (x * x, as the CPU does) */
template <typename T>
static __device__ __forceinline__ T binary_fn(int op, T x, T y, T alpha, bool square) {
  if constexpr (std::is_same<T, int64_t>::value) {
    switch (op) {
    case EM_ADD: return alpha == 1 ? wadd(x, y) : wadd(x, wmul(alpha, y));
    case EM_SUB: return alpha == 1 ? wsub(x, y) : wsub(x, wmul(alpha, y));
    case EM_MUL: return wmul(x, y);
    case EM_DIV: return idiv(x, y);
    case EM_POW: return ipow(x, y);
    case EM_FMOD: return ifmod(x, y);
    case EM_REMAINDER: return irem(x, y);
    case EM_MAX: return x > y ? x : y;
    case EM_MIN: return x < y ? x : y;
    default: return 0;
    }
  } else {
    switch (op) {
    case EM_ADD: return alpha == 1 ? x + y : x + alpha * y;
    case EM_SUB: return alpha == 1 ? x - y : x - alpha * y;
    case EM_MUL: return x * y;
    case EM_DIV: return x / y;
    case EM_POW: return square ? x * x : pow(x, y);
    case EM_FMOD: return fmod(x, y);
    case EM_REMAINDER: {
      T r = fmod(x, y);
      return r != 0 && (r < 0) != (y < 0) ? r + y : r;
    }
    case EM_MAX: return (x > y || x != x) ? x : y;
    case EM_MIN: return (x < y || x != x) ? x : y;
    case EM_ATAN2: return atan2(x, y);
    default: return 0;
    }
  }
}

template <typename T>
static __device__ __forceinline__ uint8_t compare_fn(int op, T x, T y) {
  switch (op) {
  case EM_EQ: return x == y;
  case EM_NE: return x != y;
  case EM_LT: return x < y;
  case EM_LE: return x <= y;
  case EM_GT: return x > y;
  case EM_GE: return x >= y;
  case EM_LOGICAL_AND: return (x != 0) & (y != 0);
  case EM_LOGICAL_OR: return (x != 0) | (y != 0);
  default: return (x != 0) ^ (y != 0);     /* EM_LOGICAL_XOR */
  }
}

template <typename T>
static __device__ __forceinline__ T ternary_fn(int op, T x, T y, T z, T v) {
  if constexpr (std::is_same<T, int64_t>::value) {
    return wadd(x, wmul(wmul(v, y), z));   /* addcmul only */
  } else {
    switch (op) {
    case EM_ADDCMUL: return x + v * y * z;
    case EM_ADDCDIV: return x + v * y / z;
    default: return x + z * (y - x);       /* EM_LERP */
    }
  }
}

/* --- kernels: operand k of the iterator is at offset OFF(k, i); a NULL input pointer
 * stands for its scalar --- */

#define OFF(k, i) (Dense ? (i) : em_cuda_offset(it, (k), (i)))

template <typename T, bool Dense>
__global__ void unary_kernel(int op, T *o, const T *x, em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel) o[OFF(0, i)] = unary_fn<T>(op, x[OFF(1, i)]);
}

/* Contiguous float32, 16-byte aligned: four elements per access, then the tail. */
__global__ void unary_vec_kernel(int op, float *o, const float *x, int64_t n) {
  int64_t nv = n / VEC;
  EM_CUDA_LOOP(i, nv) {
    float4 v = reinterpret_cast<const float4 *>(x)[i];
    v.x = unary_fn<float>(op, v.x);
    v.y = unary_fn<float>(op, v.y);
    v.z = unary_fn<float>(op, v.z);
    v.w = unary_fn<float>(op, v.w);
    reinterpret_cast<float4 *>(o)[i] = v;
  }
  EM_CUDA_LOOP(i, n - nv * VEC) o[nv * VEC + i] = unary_fn<float>(op, x[nv * VEC + i]);
}

template <typename T, bool Dense>
__global__ void binary_kernel(int op, T *o, const T *a, const T *b, T s, T alpha, bool square,
                              em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel) {
    T x = a ? a[OFF(1, i)] : s, y = b ? b[OFF(2, i)] : s;
    o[OFF(0, i)] = binary_fn<T>(op, x, y, alpha, square);
  }
}

__global__ void binary_vec_kernel(int op, float *o, const float *a, const float *b, float alpha,
                                  int64_t n) {
  int64_t nv = n / VEC;
  EM_CUDA_LOOP(i, nv) {
    float4 x = reinterpret_cast<const float4 *>(a)[i], y = reinterpret_cast<const float4 *>(b)[i];
    x.x = binary_fn<float>(op, x.x, y.x, alpha, false);
    x.y = binary_fn<float>(op, x.y, y.y, alpha, false);
    x.z = binary_fn<float>(op, x.z, y.z, alpha, false);
    x.w = binary_fn<float>(op, x.w, y.w, alpha, false);
    reinterpret_cast<float4 *>(o)[i] = x;
  }
  EM_CUDA_LOOP(i, n - nv * VEC) {
    int64_t j = nv * VEC + i;
    o[j] = binary_fn<float>(op, a[j], b[j], alpha, false);
  }
}

template <typename T, bool Dense>
__global__ void compare_kernel(int op, uint8_t *o, const T *a, const T *b, T s, em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel) {
    T y = b ? b[OFF(2, i)] : s;
    o[OFF(0, i)] = compare_fn<T>(op, a[OFF(1, i)], y);
  }
}

template <typename T, bool Dense>
__global__ void clamp_kernel(T *o, const T *x, T lo, T hi, bool has_lo, bool has_hi,
                             em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel) {
    T v = x[OFF(1, i)];
    if (has_lo) v = v < lo ? lo : v;
    if (has_hi) v = v > hi ? hi : v;
    o[OFF(0, i)] = v;
  }
}

template <typename T, bool Dense>
__global__ void ternary_kernel(int op, T *o, const T *x, const T *a, const T *b, T v,
                               em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel) {
    T z = b ? b[OFF(3, i)] : v;
    o[OFF(0, i)] = ternary_fn<T>(op, x[OFF(1, i)], a[OFF(2, i)], z, v);
  }
}

/* E is an unsigned type of the element size */
template <typename E, bool Dense>
__global__ void where_kernel(E *o, const uint8_t *cond, const E *a, const E *b, em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel) o[OFF(0, i)] = cond[OFF(1, i)] ? a[OFF(2, i)] : b[OFF(3, i)];
}

/* *differs := 1 when some a[i] != b[i] (nan != nan) */
template <typename T, bool Dense>
__global__ void equal_kernel(int *differs, const T *a, const T *b, em_cuda_iter it) {
  EM_CUDA_LOOP(i, it.numel)
    if (!(a[OFF(0, i)] == b[OFF(1, i)])) *differs = 1;
}

#undef OFF

/* --- launchers --- */

/* The iterator over out and n - 1 inputs; a NULL input takes out's place (never read). */
static em_cuda_iter iter_of(int n, const em_tensor *out, const em_tensor *x,
                            const em_tensor *y = NULL, const em_tensor *z = NULL) {
  const em_tensor *ts[EM_CUDA_MAX_OPERANDS] = {out, x, y, z}, *live[EM_CUDA_MAX_OPERANDS];
  for (int k = 0; k < n; k++) live[k] = ts[k] ? ts[k] : out;
  em_cuda_iter it;
  em_cuda_iter_init(&it, n, live);
  return it;
}

static bool all_dense(const em_cuda_iter *it) {
  for (int k = 0; k < it->nops; k++)
    if (!em_cuda_iter_dense(it, k)) return false;
  return true;
}

static bool aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

/* Template for a launch in both layouts: KERNEL<ARGS..., Dense>. */
#define LAUNCH(KERNEL, TARGS, it, stream, ...)                                              \
  do {                                                                                     \
    unsigned grid_ = em_cuda_grid((it).numel, EM_CUDA_BLOCK);                              \
    if (all_dense(&(it))) KERNEL<TARGS, true><<<grid_, EM_CUDA_BLOCK, 0, stream>>>(__VA_ARGS__); \
    else KERNEL<TARGS, false><<<grid_, EM_CUDA_BLOCK, 0, stream>>>(__VA_ARGS__);           \
    EM_CUDA_CHECK_LAUNCH();                                                                \
  } while (0)

#define PTR(T, t) ((t) ? (T *)em_cuda_data(t) : (T *)NULL)

template <typename T> static T to_scalar(double s);
template <> float to_scalar<float>(double s) { return (float)s; }
template <> double to_scalar<double>(double s) { return s; }
template <> int64_t to_scalar<int64_t>(double s) {
  if (s != s) return 0;
  if (s >= 9223372036854775807.0) return INT64_MAX;
  if (s <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)s;
}

template <typename T>
static int launch_unary(int op, em_tensor *out, const em_tensor *x, cudaStream_t stream) {
  em_cuda_iter it = iter_of(2, out, x);
  T *o = PTR(T, out);
  const T *xp = PTR(const T, x);
  if (std::is_same<T, float>::value && all_dense(&it) && aligned16(o) && aligned16(xp)) {
    unary_vec_kernel<<<em_cuda_grid(it.numel / VEC + 1, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        op, (float *)o, (const float *)xp, it.numel);
    EM_CUDA_CHECK_LAUNCH();
    return EM_OK;
  }
  LAUNCH(unary_kernel, T, it, stream, op, o, xp, it);
  return EM_OK;
}

template <typename T>
static int launch_binary(int op, em_tensor *out, const em_tensor *a, const em_tensor *b,
                         double s, double alpha, cudaStream_t stream) {
  em_cuda_iter it = iter_of(3, out, a, b);
  T *o = PTR(T, out);
  const T *ap = PTR(const T, a), *bp = PTR(const T, b);
  T sv = to_scalar<T>(s), al = to_scalar<T>(alpha);
  bool square = op == EM_POW && !b && sv == 2;
  if (std::is_same<T, float>::value && ap && bp && all_dense(&it) && aligned16(o) &&
      aligned16(ap) && aligned16(bp)) {
    binary_vec_kernel<<<em_cuda_grid(it.numel / VEC + 1, EM_CUDA_BLOCK), EM_CUDA_BLOCK, 0, stream>>>(
        op, (float *)o, (const float *)ap, (const float *)bp, (float)al, it.numel);
    EM_CUDA_CHECK_LAUNCH();
    return EM_OK;
  }
  LAUNCH(binary_kernel, T, it, stream, op, o, ap, bp, sv, al, square, it);
  return EM_OK;
}

template <typename T>
static int launch_compare(int op, em_tensor *out, const em_tensor *a, const em_tensor *b,
                          double s, cudaStream_t stream) {
  em_cuda_iter it = iter_of(3, out, a, b);
  LAUNCH(compare_kernel, T, it, stream, op, PTR(uint8_t, out), PTR(const T, a), PTR(const T, b),
         to_scalar<T>(s), it);
  return EM_OK;
}

template <typename T>
static int launch_clamp(em_tensor *out, const em_tensor *x, double lo, double hi,
                        cudaStream_t stream) {
  em_cuda_iter it = iter_of(2, out, x);
  LAUNCH(clamp_kernel, T, it, stream, PTR(T, out), PTR(const T, x), to_scalar<T>(lo),
         to_scalar<T>(hi), lo == lo, hi == hi, it);
  return EM_OK;
}

template <typename T>
static int launch_ternary(int op, em_tensor *out, const em_tensor *x, const em_tensor *a,
                          const em_tensor *b, double v, cudaStream_t stream) {
  em_cuda_iter it = iter_of(4, out, x, a, b);
  LAUNCH(ternary_kernel, T, it, stream, op, PTR(T, out), PTR(const T, x), PTR(const T, a),
         PTR(const T, b), to_scalar<T>(v), it);
  return EM_OK;
}

template <typename E>
static int launch_where(em_tensor *out, const em_tensor *cond, const em_tensor *a,
                        const em_tensor *b, cudaStream_t stream) {
  em_cuda_iter it = iter_of(4, out, cond, a, b);
  LAUNCH(where_kernel, E, it, stream, PTR(E, out), PTR(const uint8_t, cond), PTR(const E, a),
         PTR(const E, b), it);
  return EM_OK;
}

template <typename T>
static int launch_equal(int *flag, const em_tensor *a, const em_tensor *b, cudaStream_t stream) {
  em_cuda_iter it = iter_of(2, a, b);
  LAUNCH(equal_kernel, T, it, stream, flag, PTR(const T, a), PTR(const T, b), it);
  return EM_OK;
}

/* --- entry points --- */

static int kernel_dtype(const char *op, em_dtype dt) {
  if (dt == EM_FLOAT32 || dt == EM_FLOAT64 || dt == EM_INT64) return EM_OK;
  return em_error("%s: the CUDA kernels take float32, float64 or int64, not %s", op,
                  em_dtype_info[dt].name);
}

/* Calls FN<float|double|int64_t>(ARGS) for dtype DT. */
#define BY_DTYPE(DT, FN, ...)                                                           \
  ((DT) == EM_FLOAT32 ? FN<float>(__VA_ARGS__)                                        \
   : (DT) == EM_FLOAT64 ? FN<double>(__VA_ARGS__) : FN<int64_t>(__VA_ARGS__))

static int cuda_unary(em_unary_op op, em_tensor *out, const em_tensor *x) {
  if (kernel_dtype(em_unary_names[op], out->dtype) != EM_OK) return EM_ERR;
  if (out->dtype == EM_INT64 && op > EM_FRAC)
    return em_error("%s: not defined for int64 kernels", em_unary_names[op]);
  cudaStream_t stream;
  if (em_cuda_use(out->device, &stream) != EM_OK) return EM_ERR;
  return BY_DTYPE(out->dtype, launch_unary, op, out, x, stream);
}

static int cuda_binary(em_binary_op op, em_tensor *out, const em_tensor *a, const em_tensor *b,
                       double s, double alpha) {
  em_dtype dt = out->dtype;
  if (kernel_dtype(em_binary_names[op], dt) != EM_OK) return EM_ERR;
  if (dt == EM_INT64 && op == EM_ATAN2) return em_error("atan2: not defined for int64 kernels");
  cudaStream_t stream;
  if (em_cuda_use(out->device, &stream) != EM_OK) return EM_ERR;
  return BY_DTYPE(dt, launch_binary, op, out, a, b, s, alpha, stream);
}

static int cuda_compare(em_compare_op op, em_tensor *out, const em_tensor *a, const em_tensor *b,
                        double s) {
  em_dtype dt = a->dtype;
  if (kernel_dtype(em_compare_names[op], dt) != EM_OK) return EM_ERR;
  if (out->dtype != EM_BOOL)
    return em_error("%s: the CUDA kernel writes bool, not %s", em_compare_names[op],
                    em_dtype_info[out->dtype].name);
  cudaStream_t stream;
  if (em_cuda_use(out->device, &stream) != EM_OK) return EM_ERR;
  return BY_DTYPE(dt, launch_compare, op, out, a, b, s, stream);
}

static int cuda_clamp(em_tensor *out, const em_tensor *x, double lo, double hi) {
  if (kernel_dtype("clamp", out->dtype) != EM_OK) return EM_ERR;
  cudaStream_t stream;
  if (em_cuda_use(out->device, &stream) != EM_OK) return EM_ERR;
  return BY_DTYPE(out->dtype, launch_clamp, out, x, lo, hi, stream);
}

static int cuda_ternary(em_ternary_op op, em_tensor *out, const em_tensor *x, const em_tensor *a,
                        const em_tensor *b, double v) {
  em_dtype dt = out->dtype;
  if (kernel_dtype(em_ternary_names[op], dt) != EM_OK) return EM_ERR;
  if (dt == EM_INT64 && op != EM_ADDCMUL)
    return em_error("%s: not defined for int64 kernels", em_ternary_names[op]);
  cudaStream_t stream;
  if (em_cuda_use(out->device, &stream) != EM_OK) return EM_ERR;
  return BY_DTYPE(dt, launch_ternary, op, out, x, a, b, v, stream);
}

static int cuda_where(em_tensor *out, const em_tensor *cond, const em_tensor *a,
                      const em_tensor *b) {
  if (cond->dtype != EM_BOOL || a->dtype != out->dtype || b->dtype != out->dtype)
    return em_error("where: the CUDA kernel takes a bool condition and operands of the output's dtype");
  cudaStream_t stream;
  if (em_cuda_use(out->device, &stream) != EM_OK) return EM_ERR;
  switch (em_dtype_info[out->dtype].size) {
  case 1: return launch_where<uint8_t>(out, cond, a, b, stream);
  case 2: return launch_where<uint16_t>(out, cond, a, b, stream);
  case 4: return launch_where<uint32_t>(out, cond, a, b, stream);
  default: return launch_where<uint64_t>(out, cond, a, b, stream);
  }
}

/* One flag in pool memory, cleared, set by the kernel on a difference, read back. */
static int cuda_equal(const em_tensor *a, const em_tensor *b, int *result) {
  *result = 0;
  if (kernel_dtype("equal", a->dtype) != EM_OK) return EM_ERR;
  if (b->dtype != a->dtype) return em_error("equal: the CUDA kernel compares one dtype");
  cudaStream_t stream;
  if (em_cuda_use(a->device, &stream) != EM_OK) return EM_ERR;
  em_cuda_workspace ws;
  int st = em_cuda_workspace_get(a->device, sizeof(int), &ws);
  if (st != EM_OK) return st;
  int differs = 1;
  cudaError_t err = cudaMemsetAsync(ws.ptr, 0, sizeof(int), stream);
  if (err != cudaSuccess) st = em_cuda_fail(err, "cudaMemsetAsync", __FILE__, __LINE__);
  if (st == EM_OK) st = BY_DTYPE(a->dtype, launch_equal, (int *)ws.ptr, a, b, stream);
  if (st == EM_OK) st = em_cuda_read_back(&differs, ws.ptr, sizeof differs, stream);
  em_cuda_workspace_release(&ws);
  *result = st == EM_OK && !differs;
  return st;
}

extern "C" const struct em_math_backend em_cuda_math = {
  cuda_unary,
  cuda_binary,
  cuda_compare,
  cuda_clamp,
  cuda_ternary,
  cuda_where,
  cuda_equal,
};
