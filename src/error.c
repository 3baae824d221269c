/* Thread-local last-error message, so that Lua states in different threads never
 * see each other's errors. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[512];

int em_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return EM_ERR;
}

int em_error_nomem(const char *what, unsigned long long nbytes) {
  snprintf(last_error, sizeof last_error, "%s: out of memory allocating %llu bytes", what, nbytes);
  return EM_ENOMEM;
}

const char *em_last_error(void) { return last_error; }

char *em_format_sizes(char *buf, unsigned long bufsize, int ndim, const long long *sizes) {
  if (ndim == 0) { snprintf(buf, bufsize, "scalar"); return buf; }
  unsigned long n = 0;
  buf[0] = 0;
  for (int i = 0; i < ndim && n < bufsize; i++)
    n += (unsigned long)snprintf(buf + n, bufsize - n, i ? "x%lld" : "%lld", sizes[i]);
  return buf;
}
