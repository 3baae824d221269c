/* The data layer: readers for the files people train on (IDX, numeric CSV, raw text,
 * PNG/PGM/PPM images) and the batch operations a data loader needs (gathering rows
 * by index with a dtype conversion, one-hot, normalisation, random crop and flip).
 *
 *   em_tensor x; em_tensor_init(&x, ctx, EM_UINT8, cpu);
 *   if (em_idx_read(&x, ctx, "train-images-idx3-ubyte.gz", 0) != EM_OK)
 *     puts(em_last_error());   -- "train-images-idx3-ubyte.gz: truncated: ..."
 *
 * Every reader names the file and the position (line and field, byte offset, item)
 * in its error message. Outputs are host tensors; indices are 0-based here. Messages
 * print byte offsets from 0 (as a hex dump does), lines and fields from 1 (as an
 * editor does) and items and positions from 1 (as the Lua user counts them). */
#ifndef EMBER_DATA_H
#define EMBER_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/* --- IDX (data_idx.c): the MNIST format, plain or gzip-compressed --- */

/* out := the tensor stored in the IDX file at path (gzip read transparently), with the
 * file's dims and the dtype of its type code: 0x08 uint8, 0x09 int8, 0x0B int16,
 * 0x0C int32, 0x0D float32, 0x0E float64. When label_limit > 0 every value must lie
 * in [0, label_limit) (the error names the item). Checks the magic number, the dims
 * and that the payload has exactly the promised length. */
int em_idx_read(em_tensor *out, em_context *ctx, const char *path, int64_t label_limit);

/* --- raw files and text (data_text.c) --- */

/* out (n) uint8 := the bytes of the file at path. */
int em_file_read_bytes(em_tensor *out, em_context *ctx, const char *path);

/* chars (V) int32 := the sorted distinct code points of the UTF-8 text s[0..n); the
 * error for invalid UTF-8 names `name` and the byte offset. */
int em_utf8_vocab(em_tensor *chars, em_context *ctx, const uint8_t *s, size_t n,
                  const char *name);
/* ids (m) int64 := 0-based positions in chars (V, sorted int32) of the m code points of
 * s[0..n); a character outside the vocabulary is an error naming name and the byte. */
int em_utf8_encode(em_tensor *ids, em_context *ctx, const uint8_t *s, size_t n,
                   const char *name, const em_tensor *chars);
/* buf[0..*len) := the UTF-8 text of the code points chars[ids[i] - base] (ids (m),
 * any integer dtype); cap >= 4 * m. An id out of range is an error naming its position. */
int em_utf8_decode(char *buf, size_t cap, size_t *len, const em_tensor *ids, int64_t base,
                   const em_tensor *chars);

/* --- CSV (data_csv.c) --- */

typedef struct em_csv_options {
  char sep;            /* field separator, ',' by default */
  int header;          /* 1: the first row names the columns; 0: none; -1: detect */
  int has_fill;        /* missing values: an error unless has_fill, then := fill */
  double fill;
  em_dtype dtype;      /* EM_FLOAT32 or EM_FLOAT64 */
} em_csv_options;

/* Column names of a CSV header; ncols == 0 when the file had none. */
typedef struct em_csv_header {
  int ncols;
  char **names;        /* ncols strings, one allocation each */
} em_csv_header;

/* out (rows x cols) := the numbers of the CSV file at path. Fields may be quoted
 * ("1.5", "a ""name"""), not spanning lines; blank lines are skipped. Errors:
 * "f.csv:7:3: missing value", "f.csv:7:3: not a number: \"abc\"",
 * "f.csv:7: ragged row: line 7 has 3 fields, expected 4". header is filled when
 * non-NULL (free it with em_csv_header_free, also after an error). */
int em_csv_read(em_tensor *out, em_context *ctx, const char *path, const em_csv_options *opt,
                em_csv_header *header);
void em_csv_header_free(em_csv_header *h);

/* --- images (data_image.c) --- */

/* out (C x H x W) := the image at path, by its signature: PNG (8 or 16-bit gray, gray +
 * alpha, RGB, RGBA or palette; returned as 8-bit, C = 1, 2, 3 or 4), PGM/PPM (P2, P3,
 * P5, P6; C = 1 or 3). uint8 when the maximum sample value is at most 255, else int32. */
int em_image_read(em_tensor *out, em_context *ctx, const char *path);
/* Writes img (C x H x W or H x W, uint8, C in 1..4) as a PNG file. */
int em_image_write_png(const char *path, const em_tensor *img);
/* Writes img (1 x H x W or H x W: P5; 3 x H x W: P6; uint8) as a binary PGM/PPM file. */
int em_image_write_pnm(const char *path, const em_tensor *img);

/* --- batches (data_batch.c); host tensors --- */

/* out (n x S) := src[idx[j]] * scale + shift for the rows of src (N x S), converted to
 * out's dtype (any to any; integer outputs round toward zero after the affine map).
 * idx (n) int64, 0-based, every value checked before anything is written. out is
 * resized (keeping its storage when it is big enough, so a loader reuses it). */
int em_data_gather(em_tensor *out, const em_tensor *src, const em_tensor *idx, double scale,
                   double shift);
/* out (n x k) := one-hot rows of labels (n, any integer dtype) whose values run over
 * base .. base + k - 1; out keeps its dtype. A label out of range names its position. */
int em_data_one_hot(em_tensor *out, const em_tensor *labels, int64_t k, int64_t base);
/* x (N x C x ...) contiguous float, in place: x[:, c] := (x[:, c] - mean[c]) / std[c].
 * n is 1 (the same for every entry of dim 1) or C. */
int em_data_normalize(em_tensor *x, int n, const double *mean, const double *std);
/* x (N x C x H x W) contiguous, in place: each sample is shifted by (dy, dx), each drawn
 * uniformly from -pad .. pad (dy first), filling the uncovered border with zeros. This
 * is a random crop of the zero-padded image, as in the CIFAR recipes. */
int em_data_random_crop(em_tensor *x, int64_t pad, em_rng *r);
/* x (N x ... x W) contiguous, in place: each sample is mirrored along its last dim
 * with probability p (one uniform draw per sample). */
int em_data_random_hflip(em_tensor *x, double p, em_rng *r);

#endif
