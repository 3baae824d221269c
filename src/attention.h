/* The attention op family: its backend table and public ops (placeholder until it lands). */
#ifndef EMBER_ATTENTION_H
#define EMBER_ATTENTION_H

#include "backend.h"

struct em_attention_backend {
  int placeholder;
};

extern const struct em_attention_backend em_cpu_attention;

#endif
