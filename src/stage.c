/* The op stage and shared argument checks of src/stage.h. */
#include "stage.h"

em_tensor *em_stage_tmp(em_stage *s, const em_tensor *like, em_dtype dt) {
  em_tensor *t = &s->tmp[s->n];
  s->back[s->n++] = NULL;
  em_tensor_init(t, like->ctx, dt, like->device);
  return t;
}

int em_stage_close(em_stage *s, int st) {
  for (int i = 0; i < s->n; i++) {
    if (st == EM_OK && s->back[i]) st = em_tensor_copy(s->back[i], &s->tmp[i]);
    em_tensor_release(&s->tmp[i]);
  }
  s->n = 0;
  return st;
}

int em_given(const em_tensor *t) { return t && t->ndim > 0 && t->storage; }

int em_check_float(const char *op, const char *name, const em_tensor *t) {
  if (t->dtype != EM_FLOAT32 && t->dtype != EM_FLOAT64)
    return em_error("%s: %s is %s; expected float32 or float64", op, name,
                    em_dtype_info[t->dtype].name);
  return EM_OK;
}
