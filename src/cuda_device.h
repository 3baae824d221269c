/* The CUDA devices as seen from C: presence, selection, synchronisation, the memory
 * pool of each device and page-locked host storage. Device indices here are 0-based
 * ("cuda:0"); callers need no #ifdef.
 *
 * The CUDA backend (kernels/, linked to cudart, cuBLAS and cuDNN) is a plugin,
 * ember/cuda.so, that src/cuda_plugin.c loads with dlopen the first time a device is
 * asked for: a process that never touches the GPU never maps those libraries (their
 * start-up costs ~0.9 s and ~150 MB of memory). Until then, and in a build without
 * the backend or where the plugin cannot be loaded, there are no devices and every
 * device call says why. */
#ifndef EMBER_CUDA_DEVICE_H
#define EMBER_CUDA_DEVICE_H

#include "cache_alloc.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this build has the CUDA backend. */
int em_cuda_built(void);
/* Devices present; 0 when the build, the driver or the device is missing (never
 * fails, never aborts). */
int em_cuda_device_count(void);
/* Why there are no devices ("" when there are some). */
const char *em_cuda_unavailable_reason(void);
/* EM_OK when cuda:index can be used, else the error every CUDA entry point reports:
 * "cuda: no CUDA device is available", "cuda: device 3 does not exist (2 present)",
 * "cuda: this build of Ember has no CUDA backend". */
int em_cuda_check_device(int index);

/* The device that x:cuda() uses on this thread (0 until set). */
int em_cuda_get_device(void);
int em_cuda_set_device(int index);
/* Waits for every queued operation on the device. */
int em_cuda_synchronize(int index);
/* Device name, compute capability, multiprocessors, memory free and total. */
typedef struct em_cuda_props {
  char name[256];
  int major, minor, multiprocessors;
  size_t free_bytes, total_bytes;
} em_cuda_props;
int em_cuda_properties(int index, em_cuda_props *out);

/* The caching pool of device memory behind every cuda storage. */
int em_cuda_memory_stats(int index, em_cache_stats *out);
int em_cuda_reset_memory_stats(int index);
/* Hands the device's cached blocks (and cached pinned host blocks) back to the driver. */
int em_cuda_empty_cache(int index);

/* A CPU storage of nbytes in page-locked memory (from a caching pool), so copies to
 * and from the device are direct DMA. */
int em_cuda_pinned_storage(em_context *ctx, size_t nbytes, em_storage **out);
int em_cuda_is_pinned(const em_storage *s);
/* TF32 tensor-core math for float32 matrix products (process-wide, off by default). */
void em_cuda_set_tf32(int allow);
int em_cuda_get_tf32(void);

/* Where the plugin is (the Lua binding passes package.searchpath('ember.cuda',
 * package.cpath)); used at the first device query only. Without it, or when
 * EMBER_CUDA_PLUGIN names another file, that is used; last, cuda.so beside the file
 * that holds this code (core.so). */
void em_cuda_set_plugin_path(const char *path);
/* The CUDA backend for device index, loading the plugin if needed; NULL with the
 * error recorded when there is no such device. */
const struct em_backend *em_cuda_backend_for(int index);

/* What the plugin hands the core: the backend and this header's calls. */
#define EM_CUDA_PLUGIN_ABI 1
typedef struct em_cuda_plugin {
  int abi;                                /* EM_CUDA_PLUGIN_ABI */
  const struct em_backend *backend;
  int (*device_count)(void);
  const char *(*unavailable_reason)(void);
  int (*check_device)(int index);
  int (*get_device)(void);
  int (*set_device)(int index);
  int (*synchronize)(int index);
  int (*properties)(int index, em_cuda_props *out);
  int (*memory_stats)(int index, em_cache_stats *out);
  int (*reset_memory_stats)(int index);
  int (*empty_cache)(int index);
  int (*pinned_storage)(em_context *ctx, size_t nbytes, em_storage **out);
  int (*is_pinned)(const em_storage *s);
  void (*set_tf32)(int allow);
  int (*get_tf32)(void);
} em_cuda_plugin;
/* The one symbol the plugin exports. */
typedef const em_cuda_plugin *(*em_cuda_plugin_entry_fn)(void);
#define EM_CUDA_PLUGIN_ENTRY "em_cuda_plugin_entry"

#ifdef __cplusplus
}
#endif

#endif
