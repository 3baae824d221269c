/* Fused activation kernels for nn's element-wise modules (ReLU/Threshold, Tanh,
 * Sigmoid): one pass over contiguous float32/float64 CPU tensors instead of a chain of
 * element-wise ops. The plain path (the composed ops in the nn modules) stays the
 * reference; these run only when em_act_fusable says the operands allow it. */
#ifndef EMBER_ACT_H
#define EMBER_ACT_H

#include "tensor.h"

/* 1 when out can be computed from a (and b, or NULL) by one of the kernels below:
 * a and b contiguous CPU float32/float64 of one dtype and shape; out of that dtype on
 * the CPU, either exactly a or b or sharing memory with neither. Resizes out to a's
 * shape first (as the plain path does) and then requires it to be contiguous. */
int em_act_fusable(em_tensor *out, const em_tensor *a, const em_tensor *b);

/* out (like x) := x > threshold ? x : value */
void em_act_threshold_forward(em_tensor *out, const em_tensor *x, double threshold, double value);
/* gi (like x) := x > threshold ? go : 0 */
void em_act_threshold_backward(em_tensor *gi, const em_tensor *go, const em_tensor *x, double threshold);
/* gi (like y) := go * (1 - y^2), y = tanh(x) from the forward */
void em_act_tanh_backward(em_tensor *gi, const em_tensor *go, const em_tensor *y);
/* gi (like y) := go * (1 - y) * y, y = sigmoid(x) from the forward */
void em_act_sigmoid_backward(em_tensor *gi, const em_tensor *go, const em_tensor *y);

#endif
