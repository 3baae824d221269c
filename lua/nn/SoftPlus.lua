-- nn.SoftPlus([beta = 1]): y = log(1 + exp(beta * x)) / beta, elementwise, as Torch7.
-- Computed without overflow as max(x, 0) + log1p(exp(-beta * |x|)) / beta, so Torch7's
-- threshold (y = x where beta * x > 20) is not needed: the two differ by under 3e-9 / beta
-- there. The gradient is sigmoid(beta * x).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SoftPlus, parent = nn.class('nn.SoftPlus', nn.Module)

function SoftPlus:__init(beta)
  parent.__init(self)
  self.beta = beta or 1
  assert(type(self.beta) == 'number' and self.beta > 0, 'nn.SoftPlus(beta): beta must be positive')
  self.buffer = torch.Tensor()   -- log1p(exp(-beta |x|)) / beta
end

-- input (any) -> output (same shape)
function SoftPlus:updateOutput(input)
  local b = self.beta
  self.buffer:resizeAs(input):copy(input):abs():mul(-b):exp():log1p():div(b)
  self.output:resizeAs(input):copy(input):clamp(0, math.huge):add(self.buffer)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * sigmoid(beta * x)
function SoftPlus:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  self.gradInput:resizeAs(input):copy(input):mul(self.beta):sigmoid():cmul(gradOutput)
  return self.gradInput
end

function SoftPlus:clearState()
  utils.clear(self, 'buffer')
  return parent.clearState(self)
end

-- nn.SoftPlus(1)
function SoftPlus:__tostring__()
  return ('%s(%g)'):format(torch.type(self), self.beta)
end

return SoftPlus
