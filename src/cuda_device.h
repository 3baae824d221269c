/* The CUDA devices as seen from C: presence, selection, synchronisation, the memory
 * pool of each device and page-locked host storage. kernels/cuda_device.cu implements
 * it in a CUDA build; src/cuda_none.c (no devices, every call an error) otherwise, so
 * callers need no #ifdef. Device indices here are 0-based ("cuda:0"). */
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

#ifdef __cplusplus
}
#endif

#endif
