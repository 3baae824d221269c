-- nn.GRU(inputSize, hiddenSize [, numLayers = 1 [, batchFirst = false]]): gated recurrent
-- layers over whole sequences, PyTorch's equations and gate order (r, z, n):
--   r, z = sig of the first two blocks of W_ih x + b_ih + W_hh h + b_hh
--   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
-- Shapes, states and parameters as nn.RNN (G = 3): input (T, B, in) or (B, T, in) ->
-- output (T, B, H) or (B, T, H); forward({input, h0}); final state self.hN.
local nn = require 'nn'
require 'nn.RNN'

local GRU, parent = nn.class('nn.GRU', nn.RNN)

GRU.mode, GRU.gates = 'gru', 3

function GRU:__init(inputSize, hiddenSize, numLayers, batchFirst)
  parent.__init(self, inputSize, hiddenSize, numLayers, batchFirst)
end

return GRU
