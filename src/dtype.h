/* Element types: an enum plus a traits table (name, Torch7 name, size, kind).
 * Per-dtype code switches on the enum; nothing here is generated. */
#ifndef EMBER_DTYPE_H
#define EMBER_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum em_dtype {
  EM_FLOAT32,   /* the default */
  EM_FLOAT64,
  EM_FLOAT16,   /* IEEE half, stored; arithmetic goes through float32 */
  EM_BFLOAT16,  /* brain float, stored; arithmetic goes through float32 */
  EM_INT64,
  EM_INT32,
  EM_INT16,
  EM_INT8,
  EM_UINT8,
  EM_BOOL,
  EM_DTYPE_COUNT
} em_dtype;

typedef struct em_dtype_traits {
  const char *name;        /* "float32" */
  const char *torch_name;  /* "torch.FloatTensor" */
  const char *storage_name;/* "torch.FloatStorage" */
  size_t size;             /* bytes per element */
  int is_float;            /* floating point (float16/bfloat16 included) */
  int is_signed;
} em_dtype_traits;

extern const em_dtype_traits em_dtype_info[EM_DTYPE_COUNT];

/* Name lookups; return -1 when the name is unknown. Accepts "float32", "float",
 * "torch.FloatTensor", "FloatTensor", "torch.FloatStorage". */
int em_dtype_from_name(const char *name);

/* The dtype that a binary op of a and b computes in (NumPy-like promotion). */
em_dtype em_dtype_promote(em_dtype a, em_dtype b);

/* How a float32 product (gemm, convolution, attention) reads its operands:
 * EM_PRECISION_FULL as they are; EM_PRECISION_BF16 rounded to bfloat16 (to nearest
 * even), the products of those summed in float32 into a float32 result: the operand
 * rounding of nn.autocast('bfloat16'), with weights and outputs kept float32. Other
 * dtypes take EM_PRECISION_FULL only. */
typedef enum em_precision {
  EM_PRECISION_FULL,
  EM_PRECISION_BF16,
} em_precision;

/* float16 / bfloat16 <-> float32, round to nearest even. */
uint16_t em_float_to_half(float f);
float em_half_to_float(uint16_t h);
uint16_t em_float_to_bf16(float f);
float em_bf16_to_float(uint16_t h);

/* Read element i of a typed buffer as double / write a double into it
 * (slow paths: printing, scalar access, conversions in tests). */
double em_dtype_get(em_dtype dt, const void *p);
void em_dtype_set(em_dtype dt, void *p, double v);
/* Exact integer access for int64 (doubles lose precision past 2^53). */
int64_t em_dtype_get_i64(em_dtype dt, const void *p);
void em_dtype_set_i64(em_dtype dt, void *p, int64_t v);

#endif
