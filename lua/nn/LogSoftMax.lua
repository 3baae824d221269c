-- nn.LogSoftMax([dim]): y = x - log(sum(exp(x))) along the class dim: dim 1 of a
-- vector (K), dim 2 of a batch (N, K); as Torch7, dim 1 of (K, H, W) and dim 2 of
-- (N, K, H, W). A given dim (1-based) overrides. Kernels: torch.nnops.log_softmax_*.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local LogSoftMax, parent = nn.class('nn.LogSoftMax', nn.Module)

function LogSoftMax:__init(dim)
  parent.__init(self)
  self.dim = dim
end

-- input (N, K) -> output (N, K), each row's log-probabilities
function LogSoftMax:updateOutput(input)
  torch.nnops.log_softmax_forward(self.output, input, utils.classDim(self, input))
  return self.output
end

-- gradOutput (N, K) -> gradInput = gradOutput - exp(y) * sum(gradOutput) along the dim
function LogSoftMax:updateGradInput(input, gradOutput)
  utils.checkForwarded(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  torch.nnops.log_softmax_backward(self.gradInput, gradOutput, self.output,
                                   utils.classDim(self, input))
  return self.gradInput
end

return LogSoftMax
