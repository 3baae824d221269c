/* The math (element-wise) op family: its backend table and public ops (placeholder until it lands). */
#ifndef EMBER_POINTWISE_H
#define EMBER_POINTWISE_H

#include "backend.h"

struct em_math_backend {
  int placeholder;
};

extern const struct em_math_backend em_cpu_math;

#endif
