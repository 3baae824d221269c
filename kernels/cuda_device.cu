/* Per-device state of the CUDA backend: presence (probed once, never fatal), the
 * thread's current device, one stream, one caching memory pool and one cuBLAS handle
 * per device, pool temporaries, and page-locked host storage. Implements
 * src/cuda_device.h and the device half of kernels/cuda_common.cuh. */
#include <cublas_v2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cuda_common.cuh"

#define EM_CUDA_MAX_DEVICES 64

typedef struct device_state {
  em_cache pool;              /* device memory, over cudaMalloc/cudaFree */
  cudaStream_t stream;        /* created on first use; NULL until then */
  cublasHandle_t blas;
} device_state;

static device_state devices[EM_CUDA_MAX_DEVICES];
static pthread_mutex_t devices_lock = PTHREAD_MUTEX_INITIALIZER;   /* streams, handles */
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int device_count;
static char unavailable_reason[256];
static thread_local int current_device;

static em_cache pinned_pool;  /* page-locked host memory, over cudaHostAlloc/cudaFreeHost */

/* --- presence --- */

/* Asks the runtime once. With no driver (or no GPU) the runtime reports an error
 * here, which means "no devices", not a failure. */
static void probe(void) {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    snprintf(unavailable_reason, sizeof unavailable_reason, "%s", cudaGetErrorString(err));
    n = 0;
  } else if (n == 0) {
    snprintf(unavailable_reason, sizeof unavailable_reason, "no device was found");
  }
  device_count = n < EM_CUDA_MAX_DEVICES ? n : EM_CUDA_MAX_DEVICES;
}

extern "C" int em_cuda_built(void) { return 1; }

extern "C" int em_cuda_device_count(void) {
  pthread_once(&probe_once, probe);
  return device_count;
}

extern "C" const char *em_cuda_unavailable_reason(void) {
  pthread_once(&probe_once, probe);
  return unavailable_reason;
}

extern "C" int em_cuda_check_device(int index) {
  int n = em_cuda_device_count();
  if (n == 0) return em_error("cuda: no CUDA device is available");
  if (index < 0 || index >= n) return em_error("cuda: device %d does not exist (%d present)", index, n);
  return EM_OK;
}

/* --- the memory pool of each device --- */

/* Raw device memory for the pool; ud is the device index. The previous current
 * device of the thread is restored. */
static void *raw_device_alloc(void *ud, size_t n) {
  int dev = (int)(intptr_t)ud, prev = 0;
  void *p = NULL;
  cudaGetDevice(&prev);
  if (cudaSetDevice(dev) != cudaSuccess || cudaMalloc(&p, n) != cudaSuccess) p = NULL;
  (void)cudaGetLastError();
  cudaSetDevice(prev);
  return p;
}

static void raw_device_free(void *ud, void *p, size_t n) {
  int dev = (int)(intptr_t)ud, prev = 0;
  cudaGetDevice(&prev);
  cudaSetDevice(dev);
  cudaFree(p);
  (void)cudaGetLastError();
  cudaSetDevice(prev);
}

/* pthread_once takes no argument: one init function per device index would be silly,
 * so the pools are all set up together on the first call for any device. */
static pthread_once_t pools_once = PTHREAD_ONCE_INIT;

static void init_pools(void) {
  for (int i = 0; i < EM_CUDA_MAX_DEVICES; i++)
    em_cache_init(&devices[i].pool, (em_allocator){raw_device_alloc, raw_device_free, (void *)(intptr_t)i});
}

static em_cache *pool_of(int index) {
  pthread_once(&pools_once, init_pools);
  return &devices[index].pool;
}

/* The allocator of cuda storages (the backend's allocator entry). */
extern "C" em_allocator em_cuda_device_allocator(int index) {
  return em_cache_allocator(pool_of(index));
}

extern "C" int em_cuda_memory_stats(int index, em_cache_stats *out) {
  if (em_cuda_check_device(index) != EM_OK) return EM_ERR;
  *out = em_cache_get_stats(pool_of(index));
  return EM_OK;
}

extern "C" int em_cuda_reset_memory_stats(int index) {
  if (em_cuda_check_device(index) != EM_OK) return EM_ERR;
  em_cache_reset_stats(pool_of(index));
  return EM_OK;
}

static pthread_once_t pinned_once = PTHREAD_ONCE_INIT;
static void init_pinned(void);

extern "C" int em_cuda_empty_cache(int index) {
  if (em_cuda_check_device(index) != EM_OK) return EM_ERR;
  em_cache_empty(pool_of(index));
  pthread_once(&pinned_once, init_pinned);
  em_cache_empty(&pinned_pool);
  return EM_OK;
}

extern "C" int em_cuda_workspace_get(em_device dev, size_t nbytes, em_cuda_workspace *ws) {
  if (em_cuda_check_device(dev.index) != EM_OK) return EM_ERR;
  em_cache *pool = pool_of(dev.index);
  ws->ptr = em_cache_alloc(pool, nbytes);
  ws->nbytes = nbytes;
  ws->device = dev.index;
  if (!ws->ptr) {
    em_cache_stats s = em_cache_get_stats(pool);
    em_error("%s: out of memory allocating a %zu-byte workspace (%zu bytes in use)",
             em_device_name(dev), nbytes, s.allocated_bytes);
    return EM_ENOMEM;
  }
  return EM_OK;
}

extern "C" void em_cuda_workspace_release(em_cuda_workspace *ws) {
  if (ws->ptr) em_cache_release(pool_of(ws->device), ws->ptr, ws->nbytes);
  ws->ptr = NULL;
}

/* --- selection, streams, handles --- */

extern "C" int em_cuda_get_device(void) { return current_device; }

extern "C" int em_cuda_set_device(int index) {
  if (em_cuda_check_device(index) != EM_OK) return EM_ERR;
  EM_CUDA_CHECK(cudaSetDevice(index));
  current_device = index;
  return EM_OK;
}

/* Creates the device's stream once (under devices_lock). */
static int ensure_stream(int index) {
  if (devices[index].stream) return EM_OK;
  pthread_mutex_lock(&devices_lock);
  cudaError_t err = cudaSuccess;
  if (!devices[index].stream) {
    cudaStream_t s;
    err = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    if (err == cudaSuccess) devices[index].stream = s;
  }
  pthread_mutex_unlock(&devices_lock);
  EM_CUDA_CHECK(err);
  return EM_OK;
}

extern "C" int em_cuda_use(em_device dev, cudaStream_t *stream) {
  if (em_cuda_check_device(dev.index) != EM_OK) return EM_ERR;
  EM_CUDA_CHECK(cudaSetDevice(dev.index));
  if (ensure_stream(dev.index) != EM_OK) return EM_ERR;
  *stream = devices[dev.index].stream;
  return EM_OK;
}

extern "C" int em_cuda_cublas(em_device dev, struct cublasContext **handle) {
  cudaStream_t stream;
  if (em_cuda_use(dev, &stream) != EM_OK) return EM_ERR;
  device_state *d = &devices[dev.index];
  pthread_mutex_lock(&devices_lock);
  cublasStatus_t st = CUBLAS_STATUS_SUCCESS;
  if (!d->blas) {
    cublasHandle_t h;
    st = cublasCreate(&h);
    if (st == CUBLAS_STATUS_SUCCESS) st = cublasSetStream(h, stream);
    if (st == CUBLAS_STATUS_SUCCESS) d->blas = h;
  }
  pthread_mutex_unlock(&devices_lock);
  if (st != CUBLAS_STATUS_SUCCESS)
    return em_error("cuda: cannot create a cuBLAS handle on %s: %s", em_device_name(dev),
                    cublasGetStatusString(st));
  *handle = d->blas;
  return EM_OK;
}

extern "C" int em_cuda_synchronize(int index) {
  cudaStream_t stream;
  em_device dev = {EM_CUDA, index};
  if (em_cuda_use(dev, &stream) != EM_OK) return EM_ERR;
  EM_CUDA_CHECK(cudaStreamSynchronize(stream));
  return EM_OK;
}

extern "C" int em_cuda_properties(int index, em_cuda_props *out) {
  if (em_cuda_check_device(index) != EM_OK) return EM_ERR;
  cudaDeviceProp p;
  EM_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", p.name);
  out->major = p.major;
  out->minor = p.minor;
  out->multiprocessors = p.multiProcessorCount;
  int prev = 0;
  EM_CUDA_CHECK(cudaGetDevice(&prev));
  EM_CUDA_CHECK(cudaSetDevice(index));
  cudaError_t err = cudaMemGetInfo(&out->free_bytes, &out->total_bytes);
  cudaSetDevice(prev);
  EM_CUDA_CHECK(err);
  return EM_OK;
}

/* --- page-locked host storage --- */

static void *raw_pinned_alloc(void *ud, size_t n) {
  void *p = NULL;
  if (cudaHostAlloc(&p, n, cudaHostAllocPortable) != cudaSuccess) p = NULL;
  (void)cudaGetLastError();
  return p;
}

static void raw_pinned_free(void *ud, void *p, size_t n) {
  cudaFreeHost(p);
  (void)cudaGetLastError();
}

static void init_pinned(void) {
  em_cache_init(&pinned_pool, (em_allocator){raw_pinned_alloc, raw_pinned_free, NULL});
}

/* The storage header comes from the context's allocator (as em_storage_new's do), so
 * em_storage_release frees it the usual way; the block goes back to the pinned pool. */
extern "C" int em_cuda_pinned_storage(em_context *ctx, size_t nbytes, em_storage **out) {
  if (em_cuda_check_device(em_cuda_get_device()) != EM_OK) return EM_ERR;
  pthread_once(&pinned_once, init_pinned);
  em_storage *s = (em_storage *)ctx->allocf(ctx->alloc_ud, NULL, 0, sizeof *s);
  if (!s) return em_error_nomem("pinMemory", sizeof *s);
  memset(s, 0, sizeof *s);
  s->allocator = em_cache_allocator(&pinned_pool);
  s->block_size = nbytes ? nbytes : 1;
  s->block = em_cache_alloc(&pinned_pool, s->block_size);
  if (!s->block) {
    ctx->allocf(ctx->alloc_ud, s, sizeof *s, 0);
    return em_error_nomem("pinMemory (page-locked host memory)", nbytes);
  }
  s->data = s->block;                 /* page-aligned */
  s->nbytes = nbytes;
  s->refcount = 1;
  s->device.type = EM_CPU;
  s->device.index = 0;
  s->ctx = ctx;
  ctx->allocated_since_check += nbytes;
  *out = s;
  return EM_OK;
}

extern "C" int em_cuda_is_pinned(const em_storage *s) {
  return s && s->allocator.ud == (void *)&pinned_pool;
}

/* --- the plugin's one export (src/cuda_device.h): everything else is hidden --- */

extern "C" const em_backend em_cuda_backend;

static const em_cuda_plugin plugin_table = {
  EM_CUDA_PLUGIN_ABI,       &em_cuda_backend,         em_cuda_device_count,
  em_cuda_unavailable_reason, em_cuda_check_device,   em_cuda_get_device,
  em_cuda_set_device,       em_cuda_synchronize,      em_cuda_properties,
  em_cuda_memory_stats,     em_cuda_reset_memory_stats, em_cuda_empty_cache,
  em_cuda_pinned_storage,   em_cuda_is_pinned,        em_cuda_set_tf32,
  em_cuda_get_tf32,
};

extern "C" __attribute__((visibility("default"))) const em_cuda_plugin *em_cuda_plugin_entry(void) {
  return &plugin_table;
}
