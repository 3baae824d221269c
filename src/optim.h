/* The optim op family (fused optimizer updates): its backend table and public ops (placeholder until it lands). */
#ifndef EMBER_OPTIM_H
#define EMBER_OPTIM_H

#include "backend.h"

struct em_optim_backend {
  int placeholder;
};

extern const struct em_optim_backend em_cpu_optim;

#endif
