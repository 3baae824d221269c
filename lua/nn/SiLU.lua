-- nn.SiLU: y = x * sigmoid(x), elementwise (the "swish" of Ramachandran et al.; not in
-- Torch7; PyTorch's nn.SiLU). sigmoid(x) is kept in self.buffer for the backward.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SiLU, parent = nn.class('nn.SiLU', nn.Module)

function SiLU:__init()
  parent.__init(self)
  self.buffer = torch.Tensor()   -- sigmoid(x)
end

-- input (any) -> output (same shape)
function SiLU:updateOutput(input)
  torch.sigmoid(self.buffer:resizeAs(input), input)
  self.output:resizeAs(input):copy(input):cmul(self.buffer)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * s * (1 + x * (1 - s)), s = sigmoid(x)
function SiLU:updateGradInput(input, gradOutput)
  utils.checkForwarded(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  local s = self.buffer
  self.gradInput:resizeAs(input):copy(s):mul(-1):add(1):cmul(input):add(1):cmul(s):cmul(gradOutput)
  return self.gradInput
end

function SiLU:clearState()
  utils.clear(self, 'buffer')
  return parent.clearState(self)
end

return SiLU
