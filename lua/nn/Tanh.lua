-- nn.Tanh: y = tanh(x), elementwise.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Tanh = nn.class('nn.Tanh', nn.Module)

local tanh, tanh_backward = torch.tanh, torch.actops.tanh_backward

-- input (any) -> output (same shape)
function Tanh:updateOutput(input)
  tanh(self.output, input)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * (1 - y^2), from the forward's y:
-- one fused pass for contiguous float tensors, else the plain composition
function Tanh:updateGradInput(input, gradOutput)
  local y = self.output
  if not tanh_backward(self.gradInput, gradOutput, y) then
    utils.checkForwarded(self, input)
    utils.checkSameSize(self, 'gradOutput', gradOutput, input)
    self.gradInput:resizeAs(y):copy(y):cmul(y):mul(-1):add(1):cmul(gradOutput)
  end
  return self.gradInput
end

return Tanh
