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

local add, mul, dot = torch.add, torch.mul, torch.dot

-- input (any), target (same size) -> a number, or (like input) for 'none'
function MSECriterion:updateOutput(input, target)
  utils.checkSameSize(self, 'target', target, input)
  local diff = add(self.diff, input, -1, target)
  local reduction = self:getReduction()
  if reduction == 'none' then
    self.output = diff:clone():cmul(diff)
  else
    local s = dot(diff, diff)
    self.output = reduction == 'mean' and s / diff:nElement() or s
  end
  return self.output
end

-- input, target [, gradOutput for 'none'] -> gradInput = 2 (input - target) [/ n]
function MSECriterion:updateGradInput(input, target, gradOutput)
  utils.checkSameSize(self, 'target', target, input)
  local reduction = self:getReduction()
  local gi = add(self.gradInput, input, -1, target)
  mul(gi, gi, reduction == 'mean' and 2 / gi:nElement() or 2)
  if reduction == 'none' and gradOutput then gi:cmul(gradOutput) end
  return gi
end

return MSECriterion
