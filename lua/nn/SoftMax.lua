-- nn.SoftMax([dim]): y = exp(x) / sum(exp(x)) along the class dim (chosen as in
-- nn.LogSoftMax: dim 2 of (N, K), dim 1 of (K)). Kernels: torch.nnops.softmax_*.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SoftMax, parent = nn.class('nn.SoftMax', nn.Module)

function SoftMax:__init(dim)
  parent.__init(self)
  self.dim = dim
end

-- input (N, K) -> output (N, K), each row a probability distribution
function SoftMax:updateOutput(input)
  torch.nnops.softmax_forward(self.output, input, utils.classDim(self, input))
  return self.output
end

-- gradOutput (N, K) -> gradInput = y * (gradOutput - sum(gradOutput * y)) along the dim
function SoftMax:updateGradInput(input, gradOutput)
  utils.checkForwarded(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  torch.nnops.softmax_backward(self.gradInput, gradOutput, self.output, utils.classDim(self, input))
  return self.gradInput
end

return SoftMax
