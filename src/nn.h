/* The nn op family: its backend table and public ops (placeholder until it lands). */
#ifndef EMBER_NN_H
#define EMBER_NN_H

#include "backend.h"

struct em_nn_backend {
  int placeholder;
};

extern const struct em_nn_backend em_cpu_nn;

#endif
