/* Threading policy for CPU kernels: one OpenMP pool (shared with OpenBLAS's OpenMP
 * build), used only when a loop is big enough to pay for waking the threads. */
#ifndef EMBER_PARALLEL_H
#define EMBER_PARALLEL_H

#include <stdint.h>

/* Below this many elements an element-wise loop stays on one thread. */
#define EM_PARALLEL_GRAIN 32768

void em_set_num_threads(int n);
int em_get_num_threads(void);

#endif
