/* src/cuda_device.h on the core's side: loads the CUDA plugin (ember/cuda.so, built
 * from kernels/) on the first device query and forwards every call to it. Without the
 * plugin (a build without CUDA, a missing file or library) there are no devices and
 * every device call says why; nothing here ever aborts. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cuda_device.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t path_lock = PTHREAD_MUTEX_INITIALIZER;
static const em_cuda_plugin *plugin;       /* NULL until loaded, or for good */
static char plugin_path[PATH_MAX];
static char reason[PATH_MAX + 256];         /* why there are no devices */

void em_cuda_set_plugin_path(const char *path) {
  pthread_mutex_lock(&path_lock);
  snprintf(plugin_path, sizeof plugin_path, "%s", path ? path : "");
  pthread_mutex_unlock(&path_lock);
}

#ifdef EMBER_CUDA
/* The plugin resolves the core's symbols (em_error, em_tensor_*, ...) in the global
 * scope: the `ember` executable exports them (-Wl,-E); a core.so that Lua opened with
 * RTLD_LOCAL is promoted to global here. dir: the folder of that file, for the
 * default path. */
static void promote_core(char *dir, size_t n) {
  Dl_info info;
  dir[0] = 0;
  if (!dladdr((void *)&em_cuda_set_plugin_path, &info) || !info.dli_fname) return;
  void *self = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_GLOBAL);
  if (self) dlclose(self);                  /* still loaded: Lua holds it */
  snprintf(dir, n, "%s", info.dli_fname);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  else snprintf(dir, n, ".");
}

static void load(void) {
  char dir[PATH_MAX], path[PATH_MAX + 16];
  promote_core(dir, sizeof dir);
  const char *env = getenv("EMBER_CUDA_PLUGIN");
  pthread_mutex_lock(&path_lock);
  if (env && *env) snprintf(path, sizeof path, "%s", env);
  else if (plugin_path[0]) snprintf(path, sizeof path, "%s", plugin_path);
  else snprintf(path, sizeof path, "%s/cuda.so", dir);
  pthread_mutex_unlock(&path_lock);
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!h) {
    const char *e = dlerror();
    snprintf(reason, sizeof reason, "the CUDA backend could not be loaded (%s)", e ? e : path);
    return;
  }
  em_cuda_plugin_entry_fn entry = (em_cuda_plugin_entry_fn)dlsym(h, EM_CUDA_PLUGIN_ENTRY);
  const em_cuda_plugin *p = entry ? entry() : NULL;
  if (!p || p->abi != EM_CUDA_PLUGIN_ABI) {
    snprintf(reason, sizeof reason, "%s is not a CUDA backend of this version of Ember", path);
    return;
  }
  pthread_mutex_lock(&path_lock);
  plugin = p;
  pthread_mutex_unlock(&path_lock);
}
#else
static void load(void) { snprintf(reason, sizeof reason, "this build of Ember has no CUDA backend"); }
#endif

/* The plugin, loaded on first call; NULL when there is none. */
static const em_cuda_plugin *get(void) {
  pthread_once(&load_once, load);
  return plugin;
}

/* The plugin if it is already loaded (loads nothing). */
static const em_cuda_plugin *loaded(void) {
  pthread_mutex_lock(&path_lock);
  const em_cuda_plugin *p = plugin;
  pthread_mutex_unlock(&path_lock);
  return p;
}

static int unavailable(void) { return em_error("cuda: %s", em_cuda_unavailable_reason()); }

int em_cuda_built(void) {
#ifdef EMBER_CUDA
  return 1;
#else
  return 0;
#endif
}

int em_cuda_device_count(void) { return get() ? plugin->device_count() : 0; }

const char *em_cuda_unavailable_reason(void) {
  return get() ? plugin->unavailable_reason() : reason;
}

int em_cuda_check_device(int index) {
  return get() ? plugin->check_device(index) : unavailable();
}

const em_backend *em_cuda_backend_for(int index) {
  if (!get()) {
    unavailable();
    return NULL;
  }
  int n = plugin->device_count();
  if (index < 0 || index >= n) {
    em_error("cuda: device %d does not exist (%d present)", index, n);
    return NULL;
  }
  return plugin->backend;
}

int em_cuda_get_device(void) {
  const em_cuda_plugin *p = loaded();   /* 0 until the plugin says otherwise */
  return p ? p->get_device() : 0;
}

int em_cuda_set_device(int index) { return get() ? plugin->set_device(index) : unavailable(); }
int em_cuda_synchronize(int index) { return get() ? plugin->synchronize(index) : unavailable(); }

int em_cuda_properties(int index, em_cuda_props *out) {
  return get() ? plugin->properties(index, out) : unavailable();
}

int em_cuda_memory_stats(int index, em_cache_stats *out) {
  return get() ? plugin->memory_stats(index, out) : unavailable();
}

int em_cuda_reset_memory_stats(int index) {
  return get() ? plugin->reset_memory_stats(index) : unavailable();
}

int em_cuda_empty_cache(int index) { return get() ? plugin->empty_cache(index) : unavailable(); }

int em_cuda_pinned_storage(em_context *ctx, size_t nbytes, em_storage **out) {
  return get() ? plugin->pinned_storage(ctx, nbytes, out) : unavailable();
}

int em_cuda_is_pinned(const em_storage *s) {
  const em_cuda_plugin *p = loaded();   /* only the plugin makes pinned storage */
  return p ? p->is_pinned(s) : 0;
}

void em_cuda_set_tf32(int allow) {
  if (get()) plugin->set_tf32(allow);
}

int em_cuda_get_tf32(void) { return get() ? plugin->get_tf32() : 0; }
