/* Backend registry: the only place that knows which devices are built in. */
#include "backend.h"

#include <stdio.h>

#include "cuda_device.h"

const em_backend *em_backend_of(em_device dev) {
  switch (dev.type) {
  case EM_CPU: return &em_cpu_backend;
  case EM_CUDA:
    if (em_cuda_built()) return em_cuda_backend_for(dev.index);   /* loads the plugin */
    break;
  default:
    break;
  }
  em_error("%s: this build of Ember has no backend for that device", em_device_name(dev));
  return NULL;
}

int em_device_available(em_device_type type) {
  if (type == EM_CPU) return 1;
  if (type == EM_CUDA) return em_cuda_device_count() > 0;
  return 0;
}

const char *em_device_name(em_device dev) {
  static _Thread_local char buf[32];
  if (dev.type == EM_CPU) return "cpu";
  snprintf(buf, sizeof buf, "cuda:%d", dev.index);
  return buf;
}
