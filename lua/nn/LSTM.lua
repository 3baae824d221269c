-- nn.LSTM(inputSize, hiddenSize [, numLayers = 1 [, batchFirst = false]]): long short-term
-- memory layers over whole sequences, PyTorch's equations and gate order (i, f, g, o):
--   i, f, g, o = sig, sig, tanh, sig of the blocks of W_ih x + b_ih + W_hh h + b_hh
--   c' = f * c + i * g,  h' = o * tanh(c')
-- Shapes, states and parameters as nn.RNN (G = 4): input (T, B, in) or (B, T, in) ->
-- output (T, B, H) or (B, T, H); forward({input, h0, c0}); final states self.hN, self.cN.
local torch = require 'torch'
local nn = require 'nn'
require 'nn.RNN'

local LSTM, parent = nn.class('nn.LSTM', nn.RNN)

LSTM.mode, LSTM.gates = 'lstm', 4

function LSTM:__init(inputSize, hiddenSize, numLayers, batchFirst)
  parent.__init(self, inputSize, hiddenSize, numLayers, batchFirst)
  self.cN = torch.Tensor()
end

return LSTM
