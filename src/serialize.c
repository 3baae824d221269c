/* The bounds-checked reader and the atomic writer behind torch.save / torch.load and
 * the safetensors functions (see serialize.h for the layouts). No Lua here. */
#include "serialize.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

#define TOKEN_MAX 64          /* longest ascii number token accepted */
#define SWAP_CHUNK 4096       /* elements byte-swapped at a time on big-endian hosts */
#define ASCII_CHUNK 8192      /* bytes formatted before each ascii write */

static int host_is_le(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

/* Reverses the bytes of each of n elements of width es, in place. */
static void swap_bytes(void *p, size_t es, size_t n) {
  uint8_t *b = p;
  for (size_t i = 0; i < n; i++, b += es)
    for (size_t j = 0; j < es / 2; j++) {
      uint8_t t = b[j];
      b[j] = b[es - 1 - j];
      b[es - 1 - j] = t;
    }
}

/* Element types whose ascii form is raw bytes, as Torch7's DiskFile writes them. */
static int ascii_raw(em_dtype dt) { return dt == EM_UINT8 || dt == EM_INT8 || dt == EM_BOOL; }

/* ------------------------------------------------------------------ reader */

int em_reader_open_file(em_reader *r, const char *path, int ascii) {
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", path);
  r->ascii = ascii;
  r->file = fopen(path, "rb");
  if (!r->file) return em_error("load: cannot open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(r->file), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(r->file);
    r->file = NULL;
    return em_error("load: %s is not a regular file", path);
  }
  r->size = (uint64_t)st.st_size;
  return EM_OK;
}

void em_reader_init_mem(em_reader *r, const void *data, uint64_t size, int ascii, const char *name) {
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  r->mem = data;
  r->size = size;
  r->ascii = ascii;
}

void em_reader_close(em_reader *r) {
  if (r->file) fclose(r->file);
  r->file = NULL;
  r->mem = NULL;
  r->size = r->pos = 0;
}

static int truncated(const em_reader *r, uint64_t need) {
  return em_error("load: %s: unexpected end of data at byte %" PRIu64 " (%" PRIu64
                  " bytes needed, %" PRIu64 " left)", r->name, r->pos, need, em_reader_left(r));
}

int em_reader_seek(em_reader *r, uint64_t pos) {
  if (pos > r->size)
    return em_error("load: %s: position %" PRIu64 " is past the end (%" PRIu64 " bytes)",
                    r->name, pos, r->size);
  if (r->file && fseeko(r->file, (off_t)pos, SEEK_SET) != 0)
    return em_error("load: %s: cannot seek to byte %" PRIu64 ": %s", r->name, pos, strerror(errno));
  r->pos = pos;
  return EM_OK;
}

int em_reader_bytes(em_reader *r, void *dst, uint64_t n) {
  if (n > em_reader_left(r)) return truncated(r, n);
  if (n == 0) return EM_OK;
  if (r->file) {
    if (fread(dst, 1, (size_t)n, r->file) != n)
      return em_error("load: %s: read error at byte %" PRIu64, r->name, r->pos);
  } else {
    memcpy(dst, r->mem + r->pos, (size_t)n);
  }
  r->pos += n;
  return EM_OK;
}

/* The next byte without consuming it, or -1 at the end. */
static int peek(em_reader *r) {
  if (r->pos >= r->size) return -1;
  if (!r->file) return r->mem[r->pos];
  int c = getc(r->file);
  if (c != EOF) ungetc(c, r->file);
  return c;
}

static void skip_byte(em_reader *r) {
  if (r->file) (void)getc(r->file);
  r->pos++;
}

static int is_space(int c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* The next whitespace-delimited ascii token, into tok (NUL-terminated). */
static int read_token(em_reader *r, char *tok, const char *what) {
  int c;
  while ((c = peek(r)) >= 0 && is_space(c)) skip_byte(r);
  int n = 0;
  while ((c = peek(r)) >= 0 && !is_space(c)) {
    if (n == TOKEN_MAX - 1)
      return em_error("load: %s: %s at byte %" PRIu64 " is too long", r->name, what, r->pos);
    tok[n++] = (char)c;
    skip_byte(r);
  }
  tok[n] = 0;
  if (n == 0) {
    if (c < 0) return truncated(r, 1);
    return em_error("load: %s: expected %s at byte %" PRIu64, r->name, what, r->pos);
  }
  return EM_OK;
}

static int ascii_integer(em_reader *r, int64_t lo, int64_t hi, int64_t *v) {
  char tok[TOKEN_MAX], *end;
  uint64_t at = r->pos;
  if (read_token(r, tok, "an integer") != EM_OK) return EM_ERR;
  errno = 0;
  long long x = strtoll(tok, &end, 10);
  if (*end || errno || x < lo || x > hi)
    return em_error("load: %s: '%s' at byte %" PRIu64 " is not an integer in [%" PRId64 ", %" PRId64 "]",
                    r->name, tok, at, lo, hi);
  *v = x;
  return EM_OK;
}

static int ascii_number(em_reader *r, double *v) {
  char tok[TOKEN_MAX], *end;
  uint64_t at = r->pos;
  if (read_token(r, tok, "a number") != EM_OK) return EM_ERR;
  *v = strtod(tok, &end);
  if (*end) return em_error("load: %s: '%s' at byte %" PRIu64 " is not a number", r->name, tok, at);
  return EM_OK;
}

/* A little-endian value of es bytes into dst (host order). */
static int binary_scalar(em_reader *r, void *dst, size_t es) {
  if (em_reader_bytes(r, dst, es) != EM_OK) return EM_ERR;
  if (!host_is_le()) swap_bytes(dst, es, 1);
  return EM_OK;
}

int em_reader_int(em_reader *r, int32_t *v) {
  if (!r->ascii) return binary_scalar(r, v, sizeof *v);
  int64_t x = 0;
  if (ascii_integer(r, INT32_MIN, INT32_MAX, &x) != EM_OK) return EM_ERR;
  *v = (int32_t)x;
  return EM_OK;
}

int em_reader_long(em_reader *r, int64_t *v) {
  if (!r->ascii) return binary_scalar(r, v, sizeof *v);
  return ascii_integer(r, INT64_MIN, INT64_MAX, v);
}

int em_reader_longs(em_reader *r, int64_t *v, int n) {
  for (int i = 0; i < n; i++)
    if (em_reader_long(r, &v[i]) != EM_OK) return EM_ERR;
  return EM_OK;
}

int em_reader_double(em_reader *r, double *v) {
  if (!r->ascii) return binary_scalar(r, v, sizeof *v);
  return ascii_number(r, v);
}

/* In ascii, the line break that ends a count before a raw payload (Torch7's
 * auto-spacing consumes exactly one). */
static void skip_newline(em_reader *r) {
  if (r->ascii && peek(r) == '\n') skip_byte(r);
}

int em_reader_string_length(em_reader *r, uint64_t *len) {
  int32_t n;
  uint64_t at = r->pos;
  if (em_reader_int(r, &n) != EM_OK) return EM_ERR;
  if (n < 0) return em_error("load: %s: negative string length %d at byte %" PRIu64, r->name, (int)n, at);
  if (n > 0) skip_newline(r);
  if ((uint64_t)n > em_reader_left(r)) return truncated(r, (uint64_t)n);
  *len = (uint64_t)n;
  return EM_OK;
}

int em_reader_check_count(em_reader *r, em_dtype dt, int64_t n, const char *what) {
  if (n < 0)
    return em_error("load: %s: negative %s %" PRId64 " at byte %" PRIu64, r->name, what, n, r->pos);
  uint64_t left = em_reader_left(r), need;
  if (!r->ascii) need = (uint64_t)n > left ? UINT64_MAX : (uint64_t)n * em_dtype_info[dt].size;
  else if (ascii_raw(dt)) need = (uint64_t)n;
  else need = n ? 2 * (uint64_t)n - 1 : 0;     /* one digit and one separator each */
  if (need > left)
    return em_error("load: %s: %s %" PRId64 " at byte %" PRIu64 " exceeds the %" PRIu64
                    " bytes left", r->name, what, n, r->pos, left);
  return EM_OK;
}

static int ascii_elements(em_reader *r, em_dtype dt, void *dst, int64_t n) {
  char *p = dst;
  size_t es = em_dtype_info[dt].size;
  for (int64_t i = 0; i < n; i++, p += es) {
    if (em_dtype_info[dt].is_float) {
      double x;
      if (ascii_number(r, &x) != EM_OK) return EM_ERR;
      em_dtype_set(dt, p, x);
    } else {
      int64_t x = 0, lo = INT64_MIN, hi = INT64_MAX;
      if (es < 8) {
        hi = ((int64_t)1 << (8 * es - 1)) - 1;
        lo = -hi - 1;
      }
      if (ascii_integer(r, lo, hi, &x) != EM_OK) return EM_ERR;
      em_dtype_set_i64(dt, p, x);
    }
  }
  return EM_OK;
}

int em_reader_elements(em_reader *r, em_dtype dt, void *dst, int64_t n) {
  if (em_reader_check_count(r, dt, n, "element count") != EM_OK) return EM_ERR;
  size_t es = em_dtype_info[dt].size;
  if (r->ascii && !ascii_raw(dt)) return ascii_elements(r, dt, dst, n);
  if (r->ascii && n > 0) skip_newline(r);
  if (em_reader_bytes(r, dst, (uint64_t)n * es) != EM_OK) return EM_ERR;
  if (es > 1 && !host_is_le()) swap_bytes(dst, es, (size_t)n);
  if (dt == EM_BOOL) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i++) b[i] = b[i] != 0;
  }
  return EM_OK;
}

/* ------------------------------------------------------------------ writer */

int em_writer_open_file(em_writer *w, const char *path, int ascii) {
  memset(w, 0, sizeof *w);
  w->ascii = ascii;
  size_t n = strlen(path);
  w->path = malloc(n + 1);
  w->tmp_path = malloc(n + 16);
  if (!w->path || !w->tmp_path) {
    em_writer_free(w);
    return em_error_nomem("save", n + 16);
  }
  memcpy(w->path, path, n + 1);
  snprintf(w->tmp_path, n + 16, "%s.tmp-XXXXXX", path);
  int fd = mkstemp(w->tmp_path);
  if (fd < 0) {
    int e = errno;
    free(w->tmp_path);
    w->tmp_path = NULL;
    em_writer_free(w);
    return em_error("save: cannot create a temporary file next to %s: %s", path, strerror(e));
  }
  struct stat st;
  mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 0777) : 0644;
  (void)fchmod(fd, mode);   /* mkstemp makes it 0600; keep the target's mode */
  w->file = fdopen(fd, "wb");
  if (!w->file) {
    close(fd);
    em_writer_free(w);
    return em_error("save: cannot open %s: %s", path, strerror(errno));
  }
  return EM_OK;
}

void em_writer_init_mem(em_writer *w, int ascii) {
  memset(w, 0, sizeof *w);
  w->ascii = ascii;
}

int em_writer_bytes(em_writer *w, const void *p, size_t n) {
  if (n == 0) return EM_OK;
  if (w->file) {
    if (fwrite(p, 1, n, w->file) != n)
      return em_error("save: write to %s failed: %s", w->path, strerror(errno));
    return EM_OK;
  }
  if (w->path) return em_error("save: the writer is closed");
  if (w->cap - w->len < n) {
    if (n > SIZE_MAX / 2 - w->len) return em_error_nomem("save", n);
    size_t cap = w->cap ? w->cap : 4096;
    while (cap - w->len < n) cap *= 2;
    uint8_t *m = realloc(w->mem, cap);
    if (!m) return em_error_nomem("save", cap);
    w->mem = m;
    w->cap = cap;
  }
  memcpy(w->mem + w->len, p, n);
  w->len += n;
  return EM_OK;
}

static int binary_put(em_writer *w, const void *v, size_t es) {
  uint8_t b[8];
  memcpy(b, v, es);
  if (!host_is_le()) swap_bytes(b, es, 1);
  return em_writer_bytes(w, b, es);
}

static int ascii_put(em_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ascii_put(em_writer *w, const char *fmt, ...) {
  char buf[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return em_writer_bytes(w, buf, (size_t)n);
}

int em_writer_int(em_writer *w, int32_t v) {
  return w->ascii ? ascii_put(w, "%d\n", (int)v) : binary_put(w, &v, sizeof v);
}

int em_writer_long(em_writer *w, int64_t v) {
  return w->ascii ? ascii_put(w, "%" PRId64 "\n", v) : binary_put(w, &v, sizeof v);
}

int em_writer_longs(em_writer *w, const int64_t *v, int n) {
  for (int i = 0; i < n; i++) {
    int st = w->ascii ? ascii_put(w, i + 1 < n ? "%" PRId64 " " : "%" PRId64 "\n", v[i])
                      : binary_put(w, &v[i], sizeof v[i]);
    if (st != EM_OK) return st;
  }
  return EM_OK;
}

int em_writer_double(em_writer *w, double v) {
  return w->ascii ? ascii_put(w, "%.17g\n", v) : binary_put(w, &v, sizeof v);
}

int em_writer_string(em_writer *w, const char *s, size_t len) {
  if (len > INT32_MAX) return em_error("save: a string of %zu bytes is longer than the format allows", len);
  int st = em_writer_int(w, (int32_t)len);
  if (st == EM_OK) st = em_writer_bytes(w, s, len);
  if (st == EM_OK && w->ascii && len > 0) st = em_writer_bytes(w, "\n", 1);
  return st;
}

/* Numbers separated by spaces, a line break after the last (Torch7's ascii arrays). */
static int ascii_elements_out(em_writer *w, em_dtype dt, const char *p, int64_t n) {
  char buf[ASCII_CHUNK];
  size_t used = 0, es = em_dtype_info[dt].size;
  for (int64_t i = 0; i < n; i++, p += es) {
    char sep = i + 1 < n ? ' ' : '\n';
    int k;
    if (dt == EM_FLOAT64) k = snprintf(buf + used, 40, "%.17g%c", em_dtype_get(dt, p), sep);
    else if (em_dtype_info[dt].is_float) k = snprintf(buf + used, 40, "%.9g%c", em_dtype_get(dt, p), sep);
    else k = snprintf(buf + used, 40, "%" PRId64 "%c", em_dtype_get_i64(dt, p), sep);
    used += (size_t)k;
    if (used > ASCII_CHUNK - 40) {
      if (em_writer_bytes(w, buf, used) != EM_OK) return EM_ERR;
      used = 0;
    }
  }
  return em_writer_bytes(w, buf, used);
}

int em_writer_elements(em_writer *w, em_dtype dt, const void *src, int64_t n) {
  size_t es = em_dtype_info[dt].size;
  if (n <= 0) return EM_OK;
  if (w->ascii && !ascii_raw(dt)) return ascii_elements_out(w, dt, src, n);
  int st = EM_OK;
  if (es == 1 || host_is_le()) {
    st = em_writer_bytes(w, src, (size_t)n * es);
  } else {
    uint8_t tmp[SWAP_CHUNK * 8];
    for (int64_t i = 0; i < n && st == EM_OK; i += SWAP_CHUNK) {
      size_t k = (size_t)(n - i < SWAP_CHUNK ? n - i : SWAP_CHUNK);
      memcpy(tmp, (const char *)src + (size_t)i * es, k * es);
      swap_bytes(tmp, es, k);
      st = em_writer_bytes(w, tmp, k * es);
    }
  }
  if (st == EM_OK && w->ascii) st = em_writer_bytes(w, "\n", 1);
  return st;
}

/* fsync of the directory holding path, so the rename itself is durable. */
static void sync_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[PATH_MAX];
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == path) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)fsync(fd);   /* best effort: some file systems refuse fsync on directories */
    close(fd);
  }
}

int em_writer_commit(em_writer *w) {
  if (!w->file) return EM_OK;
  FILE *f = w->file;
  w->file = NULL;
  int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
  int e = errno;
  if (fclose(f) != 0 && !bad) bad = 1, e = errno;
  if (bad) return em_error("save: writing %s failed: %s", w->path, strerror(e));
  if (rename(w->tmp_path, w->path) != 0)
    return em_error("save: cannot rename %s to %s: %s", w->tmp_path, w->path, strerror(errno));
  free(w->tmp_path);
  w->tmp_path = NULL;   /* nothing left to remove */
  sync_dir(w->path);
  return EM_OK;
}

void em_writer_free(em_writer *w) {
  if (w->file) fclose(w->file);
  if (w->tmp_path) unlink(w->tmp_path);
  free(w->tmp_path);
  free(w->path);
  free(w->mem);
  memset(w, 0, sizeof *w);
}
