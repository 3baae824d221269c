-- nn.Tanh: y = tanh(x), elementwise.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Tanh = nn.class('nn.Tanh', nn.Module)

-- input (any) -> output (same shape)
function Tanh:updateOutput(input)
  torch.tanh(self.output:resizeAs(input), input)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * (1 - y^2), from the forward's y
function Tanh:updateGradInput(input, gradOutput)
  utils.checkForwarded(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  local y = self.output
  self.gradInput:resizeAs(y):copy(y):cmul(y):mul(-1):add(1):cmul(gradOutput)
  return self.gradInput
end

return Tanh
