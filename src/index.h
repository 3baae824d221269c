/* The index op family: its backend table and public ops (placeholder until it lands). */
#ifndef EMBER_INDEX_H
#define EMBER_INDEX_H

#include "backend.h"

struct em_index_backend {
  int placeholder;
};

extern const struct em_index_backend em_cpu_index;

#endif
