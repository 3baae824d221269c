-- nn.ELU([alpha = 1]): y = x for x > 0, alpha * (exp(x) - 1) otherwise, elementwise, as
-- Torch7 (Clevert et al., 2015). Computed as max(x, 0) + alpha * expm1(min(x, 0)).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local ELU, parent = nn.class('nn.ELU', nn.Module)

function ELU:__init(alpha)
  parent.__init(self)
  assert(alpha == nil or type(alpha) == 'number', 'nn.ELU(alpha): alpha must be a number')
  self.alpha = alpha or 1
  self.buffer = torch.Tensor()   -- alpha * expm1(min(x, 0)), then a mask
end

-- input (any) -> output (same shape)
function ELU:updateOutput(input)
  self.buffer:resizeAs(input):copy(input):clamp(-math.huge, 0):expm1():mul(self.alpha)
  self.output:resizeAs(input):copy(input):clamp(0, math.huge):add(self.buffer)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * (1 where x > 0, else alpha * exp(x))
function ELU:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  local g = self.gradInput:resizeAs(input):copy(input):clamp(-math.huge, 0):exp():mul(self.alpha)
  local positive = torch.sign(self.buffer:resizeAs(input), input):clamp(0, 1)   -- x > 0: 1, else 0
  g:add(1 - self.alpha, positive)                                               -- alpha -> 1 at x > 0
  g:cmul(gradOutput)
  return self.gradInput
end

function ELU:clearState()
  utils.clear(self, 'buffer')
  return parent.clearState(self)
end

-- nn.ELU (alpha:1.000000), as Torch7
function ELU:__tostring__()
  return ('%s (alpha:%f)'):format(torch.type(self), self.alpha)
end

return ELU
