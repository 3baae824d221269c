/* What the public ops of the nn, attention and recurrent families share: a stage for
 * the temporaries of one op call (inputs made contiguous, outputs computed aside and
 * copied back only when the op succeeds, so a failed op leaves its outputs unchanged),
 * and the argument checks whose messages are the same in every family. */
#ifndef EMBER_STAGE_H
#define EMBER_STAGE_H

#include "tensor.h"

#define EM_STAGE_MAX 16   /* temporaries one op may stage */

typedef struct em_stage {
  em_tensor tmp[EM_STAGE_MAX];
  em_tensor *back[EM_STAGE_MAX];  /* non-NULL: copy tmp[i] into it when the op succeeds */
  int n;
} em_stage;

/* A new empty temporary of dtype dt on like's device, released by em_stage_close. */
em_tensor *em_stage_tmp(em_stage *s, const em_tensor *like, em_dtype dt);
/* Copies staged outputs back (when st is EM_OK) and releases every temporary;
 * returns st, or the status of a failed copy. */
int em_stage_close(em_stage *s, int st);

/* Is an optional tensor argument present (non-NULL, with elements)? */
int em_given(const em_tensor *t);
/* EM_OK for float32 or float64 tensors, else "op: name is int64; expected ...". */
int em_check_float(const char *op, const char *name, const em_tensor *t);

#endif
