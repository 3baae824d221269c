-- nn.Sigmoid: y = 1 / (1 + exp(-x)), elementwise.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Sigmoid = nn.class('nn.Sigmoid', nn.Module)

-- input (any) -> output (same shape)
function Sigmoid:updateOutput(input)
  torch.sigmoid(self.output:resizeAs(input), input)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * y * (1 - y), from the forward's y
function Sigmoid:updateGradInput(input, gradOutput)
  utils.checkForwarded(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  local y = self.output
  self.gradInput:resizeAs(y):copy(y):mul(-1):add(1):cmul(y):cmul(gradOutput)
  return self.gradInput
end

return Sigmoid
