/* The index op family: selecting and writing by index tensors (indexSelect, gather,
 * scatter, ...), by masks (maskedSelect, maskedFill, maskedCopy, nonzero), and
 * joining/splitting (cat, stack). Public ops check shapes, dtypes and devices and
 * validate every index before anything is written; backends do the element work.
 *
 * Indices are 0-based int64 (or int32) tensors here; error messages print them and
 * dims 1-based, as the Lua user wrote them. Masks are bool or uint8 tensors and
 * broadcast to the shape of the tensor they select from. */
#ifndef EMBER_INDEX_H
#define EMBER_INDEX_H

#include "backend.h"

/* What a backend implements. Every tensor argument is on the backend's device and has
 * been checked by the public op: shapes agree, indices are in range, outputs are
 * allocated. `idx` is int64 or int32. Shapes below use: S (src/dst sizes), n (index
 * length), d (the dim), S[d:=n] (S with size n at d). */
struct em_index_backend {
  /* *bad := the first value of idx outside [0, limit), returns 1; 0 when all fit. */
  int (*find_bad_index)(const em_tensor *idx, int64_t limit, int64_t *bad);
  /* out (idx's shape, int64, contiguous) := idx + delta. out may be idx. */
  int (*shift_index)(em_tensor *out, const em_tensor *idx, int64_t delta);
  /* out S[d:=n] := src S, out[.., j, ..] = src[.., idx[j], ..]; idx (n) */
  int (*index_select)(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx);
  /* dst S: dst[.., idx[j], ..] = src[.., j, ..] (accumulate: +=); src S[d:=n] */
  int (*index_copy)(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src,
                    int accumulate);
  /* dst S: dst[.., idx[j], ..] = value */
  int (*index_fill)(em_tensor *dst, int dim, const em_tensor *idx, double value);
  /* out (idx's shape) := src[i.., idx[i..], ..i] along dim */
  int (*gather)(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx);
  /* dst[i.., idx[i..], ..i] = src[i..] (accumulate: +=); src at least idx's shape */
  int (*scatter)(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src,
                 int accumulate);
  int (*scatter_fill)(em_tensor *dst, int dim, const em_tensor *idx, double value);
  /* *n := number of non-zero elements of t (any dtype) */
  int (*count_nonzero)(const em_tensor *t, int64_t *n);
  /* out (N x ndim, int64) := positions of the N non-zeros of src, row-major order */
  int (*nonzero)(em_tensor *out, const em_tensor *src);
  /* out (N, contiguous) := src where mask, row-major; mask already expanded to src */
  int (*masked_select)(em_tensor *out, const em_tensor *src, const em_tensor *mask);
  int (*masked_fill)(em_tensor *dst, const em_tensor *mask, double value);
  /* dst where mask := the first N elements of src (contiguous, >= N elements) */
  int (*masked_copy)(em_tensor *dst, const em_tensor *mask, const em_tensor *src);
};

extern const struct em_index_backend em_cpu_index;

/* out := idx + delta as a contiguous int64 tensor (the binding's 1-based -> 0-based
 * conversion, and back for nonzero). out may be idx. */
int em_index_shift(em_tensor *out, const em_tensor *idx, int64_t delta);

/* out S[d:=n] := src S selected along dim by idx (n). out is resized; it must not
 * share storage with src. */
int em_index_select(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx);
/* dst S: dst[.., idx[j], ..] := src[.., j, ..]; src S[d:=n], dst's dtype. Duplicate
 * indices: the last one wins. */
int em_index_copy(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src);
/* as em_index_copy, accumulating (duplicates add up) */
int em_index_add(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src);
int em_index_fill(em_tensor *dst, int dim, const em_tensor *idx, double value);

/* out (idx's shape) := src gathered along dim. idx has src's ndim and, in every other
 * dim, at most src's size. */
int em_gather(em_tensor *out, const em_tensor *src, int dim, const em_tensor *idx);
/* dst[.., idx[i..], ..] := src[i..]; idx has dst's ndim, at most dst's size in the
 * other dims and at most src's size in every dim. */
int em_scatter(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src);
int em_scatter_add(em_tensor *dst, int dim, const em_tensor *idx, const em_tensor *src);
int em_scatter_fill(em_tensor *dst, int dim, const em_tensor *idx, double value);

/* out (N x ndim, int64) := 0-based positions of src's non-zeros, row-major. With no
 * non-zeros out is 0 x ndim. */
int em_nonzero(em_tensor *out, const em_tensor *src);
/* out (N) := src's elements where mask is true, in row-major order. */
int em_masked_select(em_tensor *out, const em_tensor *src, const em_tensor *mask);
int em_masked_fill(em_tensor *dst, const em_tensor *mask, double value);
/* dst's elements where mask is true := src's first N elements (row-major); src has
 * dst's dtype and at least N elements. */
int em_masked_copy(em_tensor *dst, const em_tensor *mask, const em_tensor *src);

/* out := xs[0..n) concatenated along dim. Empty (0-dimensional) inputs are skipped;
 * the others share ndim, dtype and the sizes of every other dim. dim -1 is Torch7's
 * default: the last dim of the input with the most dims (0 when all are empty).
 * out keeps its own dtype (the inputs are converted into it); it must not share
 * storage with an input. */
int em_cat(em_tensor *out, int n, const em_tensor *const *xs, int dim);
/* out := xs[0..n) (all of one shape) stacked along a new dim (0..ndim). */
int em_stack(em_tensor *out, int n, const em_tensor *const *xs, int dim);

#endif
