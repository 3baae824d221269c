-- nn.Sigmoid: y = 1 / (1 + exp(-x)), elementwise.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Sigmoid = nn.class('nn.Sigmoid', nn.Module)

local sigmoid, sigmoid_backward = torch.sigmoid, torch.actops.sigmoid_backward

-- input (any) -> output (same shape)
function Sigmoid:updateOutput(input)
  sigmoid(self.output, input)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * y * (1 - y), from the forward's y:
-- one fused pass for contiguous float tensors, else the plain composition
function Sigmoid:updateGradInput(input, gradOutput)
  local y = self.output
  if not sigmoid_backward(self.gradInput, gradOutput, y) then
    utils.checkForwarded(self, input)
    utils.checkSameSize(self, 'gradOutput', gradOutput, input)
    self.gradInput:resizeAs(y):copy(y):mul(-1):add(1):cmul(y):cmul(gradOutput)
  end
  return self.gradInput
end

return Sigmoid
