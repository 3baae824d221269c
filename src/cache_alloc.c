/* The caching allocator: size classes, one free list per class, empty-and-retry when
 * the raw allocator refuses. Knows nothing of CUDA (see cache_alloc.h). */
#include "cache_alloc.h"

#include <stdlib.h>
#include <string.h>

/* Class of n: 512 for n <= 512; otherwise with 2^e < n <= 2^(e+1), n rounded up to a
 * multiple of 2^(e-3), i.e. one of 9/8, 10/8, ..., 16/8 of 2^e. */
int em_cache_class_index(size_t nbytes) {
  if (nbytes <= EM_CACHE_MIN_BLOCK) return 0;
  size_t m = nbytes - 1;
  int e = 63 - __builtin_clzll((unsigned long long)m);        /* 2^e <= m, e >= 9 */
  size_t q = (m >> (e - 3)) + 1;                                /* 9..16 */
  return 1 + (e - 9) * 8 + (int)(q - 9);
}

size_t em_cache_class_size(size_t nbytes) {
  if (nbytes <= EM_CACHE_MIN_BLOCK) return EM_CACHE_MIN_BLOCK;
  size_t m = nbytes - 1;
  int e = 63 - __builtin_clzll((unsigned long long)m);
  return ((m >> (e - 3)) + 1) << (e - 3);
}

/* The class size of index i (the inverse of em_cache_class_index). */
static size_t index_size(int i) {
  if (i == 0) return EM_CACHE_MIN_BLOCK;
  return (size_t)(9 + (i - 1) % 8) << (9 + (i - 1) / 8 - 3);
}

void em_cache_init(em_cache *c, em_allocator raw) {
  memset(c, 0, sizeof *c);
  c->raw = raw;
  pthread_mutex_init(&c->lock, NULL);
}

/* Frees every cached block through raw; the caller holds the lock. */
static size_t empty_locked(em_cache *c) {
  size_t freed = 0;
  for (int i = 0; i < EM_CACHE_CLASSES; i++) {
    em_cache_bin *b = &c->bins[i];
    if (!b->n) continue;
    size_t size = index_size(i);
    for (size_t k = 0; k < b->n; k++) c->raw.free(c->raw.ud, b->ptrs[k], size);
    c->stats.raw_frees += b->n;
    freed += b->n * size;
    b->n = 0;
  }
  c->stats.cached_bytes -= freed;
  c->stats.reserved_bytes -= freed;
  c->stats.empty_calls++;
  return freed;
}

void em_cache_free(em_cache *c) {
  pthread_mutex_lock(&c->lock);
  empty_locked(c);
  for (int i = 0; i < EM_CACHE_CLASSES; i++) {
    free(c->bins[i].ptrs);
    c->bins[i].ptrs = NULL;
    c->bins[i].cap = 0;
  }
  pthread_mutex_unlock(&c->lock);
  pthread_mutex_destroy(&c->lock);
}

static void note_handed_out(em_cache *c, size_t nbytes, size_t size) {
  em_cache_stats *s = &c->stats;
  s->allocs++;
  s->requested_bytes += nbytes;
  s->allocated_bytes += size;
  if (s->allocated_bytes > s->peak_allocated_bytes) s->peak_allocated_bytes = s->allocated_bytes;
  if (s->reserved_bytes > s->peak_reserved_bytes) s->peak_reserved_bytes = s->reserved_bytes;
}

void *em_cache_alloc(em_cache *c, size_t nbytes) {
  if (nbytes > EM_CACHE_MAX_REQUEST) {
    pthread_mutex_lock(&c->lock);
    c->stats.ooms++;
    pthread_mutex_unlock(&c->lock);
    return NULL;
  }
  int idx = em_cache_class_index(nbytes);
  size_t size = em_cache_class_size(nbytes);
  pthread_mutex_lock(&c->lock);
  em_cache_bin *b = &c->bins[idx];
  void *p = NULL;
  if (b->n) {                                   /* reuse */
    p = b->ptrs[--b->n];
    c->stats.cache_hits++;
    c->stats.cached_bytes -= size;
  } else {
    p = c->raw.alloc(c->raw.ud, size);
    if (!p && c->stats.cached_bytes) {          /* give the cache back and retry */
      empty_locked(c);
      p = c->raw.alloc(c->raw.ud, size);
      if (p) c->stats.oom_retries++;
    }
    if (!p) {
      c->stats.ooms++;
      pthread_mutex_unlock(&c->lock);
      return NULL;
    }
    c->stats.raw_allocs++;
    c->stats.reserved_bytes += size;
  }
  note_handed_out(c, nbytes, size);
  pthread_mutex_unlock(&c->lock);
  return p;
}

void em_cache_release(em_cache *c, void *ptr, size_t nbytes) {
  if (!ptr) return;
  int idx = em_cache_class_index(nbytes);
  size_t size = em_cache_class_size(nbytes);
  pthread_mutex_lock(&c->lock);
  em_cache_bin *b = &c->bins[idx];
  c->stats.releases++;
  c->stats.requested_bytes -= nbytes;
  c->stats.allocated_bytes -= size;
  if (b->n == b->cap) {                         /* grow the free list; if that fails, free */
    size_t cap = b->cap ? 2 * b->cap : 8;
    void **ptrs = realloc(b->ptrs, cap * sizeof *ptrs);
    if (!ptrs) {
      c->raw.free(c->raw.ud, ptr, size);
      c->stats.raw_frees++;
      c->stats.reserved_bytes -= size;
      pthread_mutex_unlock(&c->lock);
      return;
    }
    b->ptrs = ptrs;
    b->cap = cap;
  }
  b->ptrs[b->n++] = ptr;
  c->stats.cached_bytes += size;
  pthread_mutex_unlock(&c->lock);
}

size_t em_cache_empty(em_cache *c) {
  pthread_mutex_lock(&c->lock);
  size_t freed = empty_locked(c);
  pthread_mutex_unlock(&c->lock);
  return freed;
}

em_cache_stats em_cache_get_stats(em_cache *c) {
  pthread_mutex_lock(&c->lock);
  em_cache_stats s = c->stats;
  pthread_mutex_unlock(&c->lock);
  return s;
}

void em_cache_reset_stats(em_cache *c) {
  pthread_mutex_lock(&c->lock);
  em_cache_stats *s = &c->stats;
  s->peak_allocated_bytes = s->allocated_bytes;
  s->peak_reserved_bytes = s->reserved_bytes;
  s->allocs = s->releases = s->cache_hits = s->raw_allocs = s->raw_frees = 0;
  s->oom_retries = s->ooms = s->empty_calls = 0;
  pthread_mutex_unlock(&c->lock);
}

static void *cache_alloc_cb(void *ud, size_t n) { return em_cache_alloc(ud, n); }
static void cache_free_cb(void *ud, void *p, size_t n) { em_cache_release(ud, p, n); }

em_allocator em_cache_allocator(em_cache *c) {
  return (em_allocator){cache_alloc_cb, cache_free_cb, c};
}
