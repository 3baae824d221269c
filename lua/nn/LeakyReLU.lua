-- nn.LeakyReLU([negval = 0.01]): y = x for x > 0, negval * x otherwise, elementwise, as
-- Torch7 (its in-place flag is not supported). Computed as max(x, 0) + negval * min(x, 0).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local LeakyReLU, parent = nn.class('nn.LeakyReLU', nn.Module)

function LeakyReLU:__init(negval)
  parent.__init(self)
  assert(negval == nil or type(negval) == 'number', 'nn.LeakyReLU(negval): negval must be a number')
  self.negval = negval or 1 / 100
  self.buffer = torch.Tensor()   -- min(x, 0), then the slope mask
end

-- input (any) -> output (same shape)
function LeakyReLU:updateOutput(input)
  self.buffer:resizeAs(input):copy(input):clamp(-math.huge, 0)
  self.output:resizeAs(input):copy(input):clamp(0, math.huge):add(self.negval, self.buffer)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * (1 where x > 0, else negval)
function LeakyReLU:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  local slope = torch.sign(self.buffer:resizeAs(input), input):clamp(0, 1)   -- x > 0: 1, else 0
  slope:mul(1 - self.negval):add(self.negval)
  self.gradInput:resizeAs(input):copy(gradOutput):cmul(slope)
  return self.gradInput
end

function LeakyReLU:clearState()
  utils.clear(self, 'buffer')
  return parent.clearState(self)
end

-- nn.LeakyReLU(0.01)
function LeakyReLU:__tostring__()
  return ('%s(%g)'):format(torch.type(self), self.negval)
end

return LeakyReLU
