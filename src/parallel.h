/* Threading policy for CPU kernels: one OpenMP pool (shared with OpenBLAS's OpenMP
 * build), used only when a loop is big enough to pay for waking the threads.
 *
 * Waiting: libgomp's idle threads spin between parallel regions unless the process starts
 * with OMP_WAIT_POLICY=passive (or a small GOMP_SPINCOUNT). libgomp reads these once, in
 * its constructor, before any Ember code runs, so a setenv here would be ignored (checked:
 * setenv at the top of main() changes nothing). With another process on one of the two
 * cores, W2 on 2 threads ran at 382 samples/s spinning and 3222 passive; the launcher, not
 * the library, has to choose. */
#ifndef EMBER_PARALLEL_H
#define EMBER_PARALLEL_H

#include <stdint.h>

/* Below this many elements an element-wise loop stays on one thread. */
#define EM_PARALLEL_GRAIN 32768

/* Runs item(ctx, w) for every w in [0, n): spread over the pool when parallel is set,
 * else in a plain loop on this thread. A plain if, not an OpenMP if clause: a region
 * whose if clause is false still enters libgomp, which cost ~1.5-2 us per call here
 * (a 32-element sum took 2.6 us, 0.2 us without it). */
typedef void (*em_item_fn)(void *ctx, int64_t w);
void em_parallel_items(int64_t n, int parallel, em_item_fn item, void *ctx);

void em_set_num_threads(int n);
int em_get_num_threads(void);

#endif
