/* The CPU backend's entry points, one family per file (cpu_copy.c, cpu_math.c,
 * cpu_reduce.c, cpu_index.c, cpu_blas.c, cpu_random.c, cpu_nn*.c). Only
 * cpu_backend.c gathers them into the em_cpu_backend table. */
#ifndef EMBER_CPU_H
#define EMBER_CPU_H

#include "backend.h"

int em_cpu_copy(em_tensor *dst, const em_tensor *src);
int em_cpu_fill(em_tensor *dst, double value);

#endif
