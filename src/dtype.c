/* The dtype traits table, name lookup, promotion and half/bfloat16 conversions. */
#include "dtype.h"

#include <math.h>
#include <string.h>

const em_dtype_traits em_dtype_info[EM_DTYPE_COUNT] = {
  [EM_FLOAT32]  = {"float32",  "torch.FloatTensor",  "torch.FloatStorage",  4, 1, 1},
  [EM_FLOAT64]  = {"float64",  "torch.DoubleTensor", "torch.DoubleStorage", 8, 1, 1},
  [EM_FLOAT16]  = {"float16",  "torch.HalfTensor",   "torch.HalfStorage",   2, 1, 1},
  [EM_BFLOAT16] = {"bfloat16", "torch.BFloat16Tensor", "torch.BFloat16Storage", 2, 1, 1},
  [EM_INT64]    = {"int64",    "torch.LongTensor",   "torch.LongStorage",   8, 0, 1},
  [EM_INT32]    = {"int32",    "torch.IntTensor",    "torch.IntStorage",    4, 0, 1},
  [EM_INT16]    = {"int16",    "torch.ShortTensor",  "torch.ShortStorage",  2, 0, 1},
  [EM_INT8]     = {"int8",     "torch.CharTensor",   "torch.CharStorage",   1, 0, 1},
  [EM_UINT8]    = {"uint8",    "torch.ByteTensor",   "torch.ByteStorage",   1, 0, 0},
  [EM_BOOL]     = {"bool",     "torch.BoolTensor",   "torch.BoolStorage",   1, 0, 0},
};

_Static_assert(sizeof em_dtype_info / sizeof em_dtype_info[0] == EM_DTYPE_COUNT,
               "one traits entry per dtype");

static const struct { const char *alias; em_dtype dt; } aliases[] = {
  {"float", EM_FLOAT32}, {"double", EM_FLOAT64}, {"half", EM_FLOAT16},
  {"long", EM_INT64}, {"int", EM_INT32}, {"short", EM_INT16}, {"char", EM_INT8},
  {"byte", EM_UINT8}, {"boolean", EM_BOOL},
};

static int strip_eq(const char *name, const char *full) {
  /* "FloatTensor" matches "torch.FloatTensor" */
  const char *dot = strchr(full, '.');
  return strcmp(name, full) == 0 || (dot && strcmp(name, dot + 1) == 0);
}

int em_dtype_from_name(const char *name) {
  for (int i = 0; i < EM_DTYPE_COUNT; i++) {
    const em_dtype_traits *t = &em_dtype_info[i];
    if (strcmp(name, t->name) == 0 || strip_eq(name, t->torch_name) ||
        strip_eq(name, t->storage_name))
      return i;
  }
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp(name, aliases[i].alias) == 0) return aliases[i].dt;
  return -1;
}

/* Promotion rank: bool < uint8 < int8 < int16 < int32 < int64 < float16/bf16 < float32 < float64.
 * Mixed float16 and bfloat16 go to float32; uint8 with int8 goes to int16. */
static int rank(em_dtype d) {
  switch (d) {
  case EM_BOOL: return 0;
  case EM_UINT8: return 1;
  case EM_INT8: return 2;
  case EM_INT16: return 3;
  case EM_INT32: return 4;
  case EM_INT64: return 5;
  case EM_FLOAT16: case EM_BFLOAT16: return 6;
  case EM_FLOAT32: return 7;
  case EM_FLOAT64: return 8;
  default: return 0;
  }
}

em_dtype em_dtype_promote(em_dtype a, em_dtype b) {
  if (a == b) return a;
  if ((a == EM_FLOAT16 && b == EM_BFLOAT16) || (a == EM_BFLOAT16 && b == EM_FLOAT16))
    return EM_FLOAT32;
  if ((a == EM_UINT8 && b == EM_INT8) || (a == EM_INT8 && b == EM_UINT8)) return EM_INT16;
  return rank(a) >= rank(b) ? a : b;
}

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

uint16_t em_float_to_half(float f) {
  uint32_t x = f2u(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u)                        /* inf or nan */
    return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  /* overflow to inf */
  if (ax < 0x38800000u) {                       /* subnormal half or zero */
    float v = u2f(ax) * 16777216.0f;            /* scale by 2^24: now an integer count */
    return (uint16_t)(sign | (uint32_t)lrintf(v));
  }
  uint32_t mant_odd = (ax >> 13) & 1u;
  ax += 0xc8000fffu + mant_odd;                 /* rebias exponent, round to nearest even */
  return (uint16_t)(sign | (ax >> 13));
}

float em_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {
    float v = (float)mant / 16777216.0f;        /* mant * 2^-24 */
    return sign ? -v : v;
  }
  if (exp == 31) return u2f(sign | 0x7f800000u | (mant << 13));
  return u2f(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t em_float_to_bf16(float f) {
  uint32_t x = f2u(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);  /* quiet nan */
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

float em_bf16_to_float(uint16_t h) { return u2f((uint32_t)h << 16); }

double em_dtype_get(em_dtype dt, const void *p) {
  switch (dt) {
  case EM_FLOAT32: return *(const float *)p;
  case EM_FLOAT64: return *(const double *)p;
  case EM_FLOAT16: return em_half_to_float(*(const uint16_t *)p);
  case EM_BFLOAT16: return em_bf16_to_float(*(const uint16_t *)p);
  case EM_INT64: return (double)*(const int64_t *)p;
  case EM_INT32: return *(const int32_t *)p;
  case EM_INT16: return *(const int16_t *)p;
  case EM_INT8: return *(const int8_t *)p;
  case EM_UINT8: return *(const uint8_t *)p;
  case EM_BOOL: return *(const uint8_t *)p != 0;
  default: return 0;
  }
}

/* Float to integer conversion that never invokes undefined behaviour:
 * truncates toward zero, saturates out-of-range values, maps nan to 0. */
static int64_t sat_i64(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}

void em_dtype_set(em_dtype dt, void *p, double v) {
  switch (dt) {
  case EM_FLOAT32: *(float *)p = (float)v; break;
  case EM_FLOAT64: *(double *)p = v; break;
  case EM_FLOAT16: *(uint16_t *)p = em_float_to_half((float)v); break;
  case EM_BFLOAT16: *(uint16_t *)p = em_float_to_bf16((float)v); break;
  case EM_BOOL: *(uint8_t *)p = v != 0; break;
  default: em_dtype_set_i64(dt, p, sat_i64(v)); break;
  }
}

int64_t em_dtype_get_i64(em_dtype dt, const void *p) {
  switch (dt) {
  case EM_INT64: return *(const int64_t *)p;
  case EM_INT32: return *(const int32_t *)p;
  case EM_INT16: return *(const int16_t *)p;
  case EM_INT8: return *(const int8_t *)p;
  case EM_UINT8: case EM_BOOL: return *(const uint8_t *)p;
  default: return sat_i64(em_dtype_get(dt, p));
  }
}

/* Integer stores wrap modulo 2^bits, as C's conversions to narrower types do in practice. */
void em_dtype_set_i64(em_dtype dt, void *p, int64_t v) {
  switch (dt) {
  case EM_INT64: *(int64_t *)p = v; break;
  case EM_INT32: *(int32_t *)p = (int32_t)(uint32_t)v; break;
  case EM_INT16: *(int16_t *)p = (int16_t)(uint16_t)v; break;
  case EM_INT8: *(int8_t *)p = (int8_t)(uint8_t)v; break;
  case EM_UINT8: *(uint8_t *)p = (uint8_t)v; break;
  case EM_BOOL: *(uint8_t *)p = v != 0; break;
  default: em_dtype_set(dt, p, (double)v); break;
  }
}
