/* The random op family: its backend table and public ops (placeholder until it lands). */
#ifndef EMBER_SAMPLE_H
#define EMBER_SAMPLE_H

#include "backend.h"

struct em_random_backend {
  int placeholder;
};

extern const struct em_random_backend em_cpu_random;

#endif
