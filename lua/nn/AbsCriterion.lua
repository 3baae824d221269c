-- nn.AbsCriterion([reduction]): loss = mean (or sum) of |input - target| (Torch7's).
-- reduction: 'mean' (default), 'sum', 'none', or Torch7's sizeAverage boolean.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local AbsCriterion, parent = nn.class('nn.AbsCriterion', nn.Criterion)

function AbsCriterion:__init(reduction)
  parent.__init(self)
  self:setReduction(reduction)
end

-- input (any), target (same size) -> a number, or (like input) for 'none'
function AbsCriterion:updateOutput(input, target)
  utils.checkSameSize(self, 'target', target, input)
  local loss = torch.add(input, -1, target):abs()
  local reduction = self:getReduction()
  if reduction == 'none' then self.output = loss
  else self.output = loss:sum() / (reduction == 'mean' and input:nElement() or 1) end
  return self.output
end

-- input, target [, gradOutput for 'none'] -> gradInput = sign(input - target) [/ n]
function AbsCriterion:updateGradInput(input, target, gradOutput)
  utils.checkSameSize(self, 'target', target, input)
  local reduction = self:getReduction()
  local gi = self.gradInput:resizeAs(input):copy(input):add(-1, target):sign()
  if reduction == 'mean' then gi:div(input:nElement()) end
  if reduction == 'none' and gradOutput then gi:cmul(gradOutput) end
  return gi
end

return AbsCriterion
