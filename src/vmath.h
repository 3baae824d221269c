/* Float32 math that vectorizes: inline, branch-free functions a compiler turns into
 * SIMD code inside a loop, where a call to libm's expf would keep the loop scalar.
 * Used by the float32 paths of the recurrent cells, softmax, cross entropy and
 * attention; float64 paths keep libm as the reference. */
#ifndef EMBER_VMATH_H
#define EMBER_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* e^x: Cephes' expf. Round x / ln 2 to n by the 1.5 * 2^23 trick (n is read from the
 * sum's low mantissa bits, no float-to-int conversion), reduce by ln 2 in two parts, a
 * degree-6 polynomial, 2^n put in the exponent bits. Relative error about 2e-7 on
 * [-87.3, 88.3]; 0 below (where e^x is denormal), e^88.3 up to 88.72 (the end of the
 * float range), inf above; NaN stays NaN (both clamps let it through). */
static inline float em_exp_f32(float x) {
  const float magic = 12582912.0f;                 /* 1.5 * 2^23 */
  float xc = x < -87.3f ? -87.3f : x;
  xc = xc > 88.3f ? 88.3f : xc;
  float t = xc * 1.44269504088896341f + magic;
  float n = t - magic;                             /* round(xc / ln 2) */
  int32_t tb, mb;
  memcpy(&tb, &t, sizeof tb);
  memcpy(&mb, &magic, sizeof mb);
  float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  uint32_t bits = (uint32_t)(tb - mb + 127) << 23;  /* 2^n, n in [-126, 127] */
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  float e = y * scale;
  e = x > 88.72f ? (float)INFINITY : e;
  return x < -87.3f ? 0.0f : e;
}

#endif
