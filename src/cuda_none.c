/* src/cuda_device.h for a build without the CUDA backend (the Makefile compiles this
 * file only then): no devices, and every device call says why. */
#include "cuda_device.h"

static int no_backend(void) { return em_error("cuda: this build of Ember has no CUDA backend"); }

int em_cuda_built(void) { return 0; }
int em_cuda_device_count(void) { return 0; }
const char *em_cuda_unavailable_reason(void) { return "this build of Ember has no CUDA backend"; }
int em_cuda_check_device(int index) { return no_backend(); }
int em_cuda_get_device(void) { return 0; }
int em_cuda_set_device(int index) { return no_backend(); }
int em_cuda_synchronize(int index) { return no_backend(); }
int em_cuda_properties(int index, em_cuda_props *out) { return no_backend(); }
int em_cuda_memory_stats(int index, em_cache_stats *out) { return no_backend(); }
int em_cuda_reset_memory_stats(int index) { return no_backend(); }
int em_cuda_empty_cache(int index) { return no_backend(); }
int em_cuda_pinned_storage(em_context *ctx, size_t nbytes, em_storage **out) { return no_backend(); }
int em_cuda_is_pinned(const em_storage *s) { return 0; }
void em_cuda_set_tf32(int allow) { (void)allow; }
int em_cuda_get_tf32(void) { return 0; }
