/* The rnn op family: its backend table and public ops (placeholder until it lands). */
#ifndef EMBER_RNN_H
#define EMBER_RNN_H

#include "backend.h"

struct em_rnn_backend {
  int placeholder;
};

extern const struct em_rnn_backend em_cpu_rnn;

#endif
