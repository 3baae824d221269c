/* Status codes and the last error message. The core never exits, aborts or jumps:
 * a function that can fail returns EM_OK or a negative status and records a message
 * in a thread-local buffer that the caller (the Lua binding, a C host) reads. */
#ifndef EMBER_ERROR_H
#define EMBER_ERROR_H

enum {
  EM_OK = 0,
  EM_ERR = -1,     /* bad argument, shape, dtype, device, index... */
  EM_ENOMEM = -2,  /* an allocation was refused */
};

/* Records a printf-style message and returns EM_ERR. */
int em_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Records a message and returns EM_ENOMEM. */
int em_error_nomem(const char *what, unsigned long long nbytes);
/* The message of the last failure on this thread. */
const char *em_last_error(void);

/* Formats sizes as "3x4" (a scalar as "scalar") into buf; returns buf. */
char *em_format_sizes(char *buf, unsigned long bufsize, int ndim, const long long *sizes);

#endif
