-- nn.MSECriterion([reduction]): loss = mean (or sum) of (input - target)^2.
-- reduction: 'mean' (default), 'sum', 'none', or Torch7's sizeAverage boolean.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local MSECriterion, parent = nn.class('nn.MSECriterion', nn.Criterion)

function MSECriterion:__init(reduction)
  parent.__init(self)
  self:setReduction(reduction)
  self.diff = torch.Tensor()
end

-- input (any), target (same size) -> a number, or (like input) for 'none'
function MSECriterion:updateOutput(input, target)
  utils.checkSameSize(self, 'target', target, input)
  local diff = self.diff:resizeAs(input):copy(input):add(-1, target)
  local reduction = self:getReduction()
  if reduction == 'none' then
    self.output = diff:clone():cmul(diff)
  else
    local s = diff:dot(diff)
    self.output = reduction == 'mean' and s / input:nElement() or s
  end
  return self.output
end

-- input, target [, gradOutput for 'none'] -> gradInput = 2 (input - target) [/ n]
function MSECriterion:updateGradInput(input, target, gradOutput)
  utils.checkSameSize(self, 'target', target, input)
  local reduction = self:getReduction()
  local gi = self.gradInput:resizeAs(input):copy(input):add(-1, target)
  if reduction == 'mean' then gi:mul(2 / input:nElement())
  else gi:mul(2) end
  if reduction == 'none' and gradOutput then gi:cmul(gradOutput) end
  return gi
end

return MSECriterion
