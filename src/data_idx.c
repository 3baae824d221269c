/* IDX reader (the MNIST / Fashion-MNIST format): a 4-byte magic number 0x0000TTDD
 * (TT the element type, DD the number of dims), DD big-endian uint32 sizes, then the
 * elements, big-endian, row-major. Read through zlib, so .gz files are inflated on the
 * fly and plain files pass through unchanged. */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "data.h"

#define IDX_CHUNK (1u << 30)       /* gzread takes an unsigned length */
#define IDX_BUFFER (1u << 18)      /* zlib's input buffer: fewer read() calls */

/* IDX type codes and the dtypes they become. */
static int idx_dtype(int code, em_dtype *dt) {
  switch (code) {
  case 0x08: *dt = EM_UINT8; return 1;
  case 0x09: *dt = EM_INT8; return 1;
  case 0x0B: *dt = EM_INT16; return 1;
  case 0x0C: *dt = EM_INT32; return 1;
  case 0x0D: *dt = EM_FLOAT32; return 1;
  case 0x0E: *dt = EM_FLOAT64; return 1;
  default: return 0;
  }
}

/* zlib's message without the "path: " it starts with. */
static const char *gz_message(gzFile f) {
  int errnum;
  const char *msg = gzerror(f, &errnum), *colon = strstr(msg, ": ");
  return colon ? colon + 2 : msg;
}

/* Reads up to n bytes; returns how many, or -1 on a zlib error (message in *why). */
static int64_t read_full(gzFile f, void *buf, uint64_t n, const char **why) {
  uint64_t got = 0;
  while (got < n) {
    unsigned want = n - got > IDX_CHUNK ? IDX_CHUNK : (unsigned)(n - got);
    int r = gzread(f, (char *)buf + got, want);
    if (r < 0) {
      *why = gz_message(f);
      return -1;
    }
    if (r == 0) break;
    got += (uint64_t)r;
  }
  /* a truncated gzip stream ends with data and a pending "unexpected end of file" */
  int errnum;
  gzerror(f, &errnum);
  if (got < n && errnum != Z_OK && errnum != Z_STREAM_END) *why = gz_message(f);
  return (int64_t)got;
}

/* Big-endian elements to host order, in place. */
static void swap_elements(void *data, int64_t n, size_t es) {
  uint8_t *p = data;
  for (int64_t i = 0; i < n; i++, p += es)
    for (size_t a = 0, b = es - 1; a < b; a++, b--) {
      uint8_t t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

static int is_little_endian(void) {
  uint16_t one = 1;
  return *(uint8_t *)&one == 1;
}

/* EM_OK when every value of t (integer) is in [0, limit); else an error naming the
 * item (1-based) and its byte offset in the (inflated) file. */
static int check_labels(const em_tensor *t, const char *path, int64_t limit, int64_t header) {
  int64_t n = em_tensor_numel(t);
  const char *p = em_tensor_data(t);
  size_t es = em_dtype_info[t->dtype].size;
  for (int64_t i = 0; i < n; i++) {
    int64_t v = em_dtype_get_i64(t->dtype, p + i * (int64_t)es);
    if (v < 0 || v >= limit)
      return em_error("%s: label %lld at item %lld (byte %lld) is out of range 0..%lld", path,
                      (long long)v, (long long)(i + 1), (long long)(header + i * (int64_t)es),
                      (long long)(limit - 1));
  }
  return EM_OK;
}

static int read_idx(em_tensor *out, em_context *ctx, gzFile f, const char *path,
                    int64_t label_limit) {
  const char *why = NULL;
  uint8_t head[4];
  int64_t got = read_full(f, head, 4, &why);
  if (got < 0) return em_error("%s: gzip error at byte 0: %s", path, why);
  if (got < 4)
    return em_error("%s: truncated: the file ends at byte %lld, inside the 4-byte magic number",
                    path, (long long)got);
  uint32_t magic = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
  em_dtype dt;
  if (head[0] != 0 || head[1] != 0 || !idx_dtype(head[2], &dt))
    return em_error("%s: wrong magic number 0x%08x at byte 0: not an IDX file (expected "
                    "0x000008dd, e.g. 0x00000801 for labels, 0x00000803 for images)", path, magic);
  int ndim = head[3];
  if (ndim < 1 || ndim > EM_MAX_DIMS)
    return em_error("%s: magic number 0x%08x at byte 0 gives %d dims; expected 1 to %d",
                    path, magic, ndim, EM_MAX_DIMS);
  uint8_t dims[4 * EM_MAX_DIMS];
  got = read_full(f, dims, 4 * (uint64_t)ndim, &why);
  if (got < 0) return em_error("%s: gzip error in the header: %s", path, why);
  if (got < 4 * ndim)
    return em_error("%s: truncated: the file ends at byte %lld, inside the sizes of %d dims "
                    "(header of %d bytes)", path, (long long)(4 + got), ndim, 4 + 4 * ndim);
  int64_t size[EM_MAX_DIMS], numel = 1;
  size_t es = em_dtype_info[dt].size;
  for (int d = 0; d < ndim; d++) {
    const uint8_t *b = dims + 4 * d;
    size[d] = (int64_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
    if (size[d] && numel > INT64_MAX / 16 / size[d])
      return em_error("%s: sizes in the header (byte 4) overflow", path);
    numel *= size[d];
  }
  int64_t header = 4 + 4 * ndim;
  int st = em_tensor_empty(out, ctx, dt, (em_device){EM_CPU, 0}, ndim, size);
  if (st != EM_OK) return st;
  uint64_t nbytes = (uint64_t)numel * es;
  got = nbytes ? read_full(f, em_tensor_data(out), nbytes, &why) : 0;
  char shape[128];
  if (got < 0 || (uint64_t)got < nbytes) {
    em_tensor_shape_str(out, shape, sizeof shape);
    em_tensor_release(out);
    if (got < 0) return em_error("%s: gzip error in the data: %s", path, why);
    return em_error("%s: truncated: the header promises %llu bytes of %s data (%s), the file "
                    "ends after %lld of them (at byte %lld)%s%s", path, (unsigned long long)nbytes,
                    em_dtype_info[dt].name, shape, (long long)got, (long long)(header + got),
                    why ? ": " : "", why ? why : "");
  }
  uint8_t extra;
  if (read_full(f, &extra, 1, &why) > 0) {
    em_tensor_release(out);
    return em_error("%s: extra data at byte %lld, after the %llu bytes the header promises",
                    path, (long long)(header + (int64_t)nbytes), (unsigned long long)nbytes);
  }
  if (es > 1 && is_little_endian()) swap_elements(em_tensor_data(out), numel, es);
  if (label_limit > 0 && !em_dtype_info[dt].is_float) {
    st = check_labels(out, path, label_limit, header);
    if (st != EM_OK) em_tensor_release(out);
  }
  return st;
}

int em_idx_read(em_tensor *out, em_context *ctx, const char *path, int64_t label_limit) {
  gzFile f = gzopen(path, "rb");
  if (!f) return em_error("%s: cannot open: %s", path, strerror(errno ? errno : ENOMEM));
  gzbuffer(f, IDX_BUFFER);
  int st = read_idx(out, ctx, f, path, label_limit);
  gzclose(f);
  return st;
}
