-- nn.DistKLDivCriterion([reduction]): the Kullback-Leibler divergence of target from the
-- distribution whose log-probabilities are input (Torch7's): loss = sum target *
-- (log target - input), entries with target 0 counting 0. 'mean' (the default, Torch7's
-- sizeAverage) divides by the number of elements, as PyTorch's kl_div 'mean'.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local DistKLDivCriterion, parent = nn.class('nn.DistKLDivCriterion', nn.Criterion)

function DistKLDivCriterion:__init(reduction)
  parent.__init(self)
  self:setReduction(reduction)
end

-- input (any) log-probabilities, target (same size) probabilities -> a number, or
-- (like input) for 'none'
function DistKLDivCriterion:updateOutput(input, target)
  utils.checkSameSize(self, 'target', target, input)
  local positive = torch.gt(target, 0)
  local logt = torch.where(positive, target, torch.ones_like(target)):log()   -- log 1 = 0
  local loss = logt:add(-1, input):cmul(target)
  local reduction = self:getReduction()
  if reduction == 'none' then self.output = loss
  else self.output = loss:sum() / (reduction == 'mean' and input:nElement() or 1) end
  return self.output
end

-- input, target [, gradOutput for 'none'] -> gradInput = -target [/ n]
function DistKLDivCriterion:updateGradInput(input, target, gradOutput)
  utils.checkSameSize(self, 'target', target, input)
  local reduction = self:getReduction()
  local gi = self.gradInput:resizeAs(input):copy(target):neg()
  if reduction == 'mean' then gi:div(input:nElement()) end
  if reduction == 'none' and gradOutput then gi:cmul(gradOutput) end
  return gi
end

return DistKLDivCriterion
