/* The reduce op family: its backend table and public ops (placeholder until it lands). */
#ifndef EMBER_REDUCE_H
#define EMBER_REDUCE_H

#include "backend.h"

struct em_reduce_backend {
  int placeholder;
};

extern const struct em_reduce_backend em_cpu_reduce;

#endif
