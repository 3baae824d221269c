/* The blas op family: its backend table and public ops (placeholder until it lands). */
#ifndef EMBER_BLAS_H
#define EMBER_BLAS_H

#include "backend.h"

struct em_blas_backend {
  int placeholder;
};

extern const struct em_blas_backend em_cpu_blas;

#endif
