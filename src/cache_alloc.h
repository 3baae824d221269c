/* A caching allocator in plain C over any raw alloc/free pair: the CUDA backend puts
 * it over cudaMalloc/cudaFree (device memory) and cudaHostAlloc/cudaFreeHost (pinned
 * host memory); the specs put it over a malloc-backed fake device.
 *
 * Requests are rounded up to size classes (512 bytes, then 8 steps per power of two,
 * so at most 12.5% is wasted); a released block goes to its class's free list and the
 * next request of that class reuses it, so a loop that allocates the same sizes on
 * every step stops calling the raw allocator after its first step. When the raw
 * allocator refuses, every cached block is handed back to it and the request is tried
 * once more. Thread-safe (one mutex per cache).
 *
 *   em_cache c; em_cache_init(&c, (em_allocator){raw_alloc, raw_free, dev});
 *   void *p = em_cache_alloc(&c, 1000);     -- a 1024-byte block
 *   em_cache_release(&c, p, 1000);          -- cached, not freed
 *   em_cache_empty(&c);                     -- cached blocks go back to raw_free
 *   em_cache_free(&c);
 */
#ifndef EMBER_CACHE_ALLOC_H
#define EMBER_CACHE_ALLOC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

#define EM_CACHE_MIN_BLOCK 512
#define EM_CACHE_CLASSES 441          /* 1 + 55 powers of two x 8 steps */
#define EM_CACHE_MAX_REQUEST ((size_t)1 << 48)

typedef struct em_cache_stats {
  size_t requested_bytes;       /* bytes asked for by the blocks now handed out */
  size_t allocated_bytes;       /* their class sizes */
  size_t cached_bytes;          /* free blocks kept for reuse */
  size_t reserved_bytes;        /* allocated + cached: all memory taken from raw */
  size_t peak_allocated_bytes;
  size_t peak_reserved_bytes;
  uint64_t allocs, releases;    /* em_cache_alloc calls that succeeded, em_cache_release calls */
  uint64_t cache_hits;          /* allocations served from a free list */
  uint64_t raw_allocs, raw_frees;
  uint64_t oom_retries;         /* raw refused, cache emptied, retry succeeded */
  uint64_t ooms;                /* refused even after emptying the cache */
  uint64_t empty_calls;         /* em_cache_empty calls (explicit or on a refusal) */
} em_cache_stats;

typedef struct em_cache_bin {   /* the free blocks of one size class */
  void **ptrs;
  size_t n, cap;
} em_cache_bin;

typedef struct em_cache {
  em_allocator raw;             /* alloc returns NULL when it refuses */
  pthread_mutex_t lock;
  em_cache_stats stats;
  em_cache_bin bins[EM_CACHE_CLASSES];
} em_cache;

void em_cache_init(em_cache *c, em_allocator raw);
/* Hands every cached block back to raw. Blocks still handed out are the caller's. */
void em_cache_free(em_cache *c);

/* A block of at least nbytes (its class size), or NULL when the raw allocator refuses
 * even after the cache was emptied (stats.ooms counts it) or nbytes is absurd. */
void *em_cache_alloc(em_cache *c, size_t nbytes);
/* Gives back a block from em_cache_alloc; nbytes is the size that was asked for. */
void em_cache_release(em_cache *c, void *ptr, size_t nbytes);
/* Hands every cached block back to raw; returns the bytes freed. */
size_t em_cache_empty(em_cache *c);
em_cache_stats em_cache_get_stats(em_cache *c);
/* Resets the peaks to the current values and the counters to zero. */
void em_cache_reset_stats(em_cache *c);

/* The size class of a request (the bytes actually taken), and its index. */
size_t em_cache_class_size(size_t nbytes);
int em_cache_class_index(size_t nbytes);

/* An em_allocator for storages that draws from c. */
em_allocator em_cache_allocator(em_cache *c);

#endif
