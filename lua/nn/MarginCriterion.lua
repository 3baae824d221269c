-- nn.MarginCriterion([margin = 1 [, reduction]]): the two-class hinge loss of Torch7,
-- loss = mean (or sum) of max(0, margin - target * input), targets +1 or -1.
-- reduction: 'mean' (default), 'sum', 'none', or Torch7's sizeAverage boolean.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local MarginCriterion, parent = nn.class('nn.MarginCriterion', nn.Criterion)

function MarginCriterion:__init(margin, reduction)
  parent.__init(self)
  margin = margin or 1
  if type(margin) ~= 'number' then
    error(('nn.MarginCriterion: margin must be a number, got %s'):format(type(margin)), 2)
  end
  self.margin = margin
  self:setReduction(reduction)
end

-- input (any), target (same size, +-1) -> a number, or (like input) for 'none'
function MarginCriterion:updateOutput(input, target)
  utils.checkSameSize(self, 'target', target, input)
  local loss = torch.cmul(target, input):neg():add(self.margin):cmax(0)
  local reduction = self:getReduction()
  if reduction == 'none' then self.output = loss
  else self.output = loss:sum() / (reduction == 'mean' and input:nElement() or 1) end
  return self.output
end

-- input, target [, gradOutput for 'none'] -> gradInput = -target where the margin is
-- violated (target * input < margin), else 0 [/ n]
function MarginCriterion:updateGradInput(input, target, gradOutput)
  utils.checkSameSize(self, 'target', target, input)
  local violated = torch.lt(torch.cmul(target, input), self.margin)
  local gi = self.gradInput:resizeAs(input):copy(target):neg()
  gi:cmul(violated:type(input:type()))
  local reduction = self:getReduction()
  if reduction == 'mean' then gi:div(input:nElement()) end
  if reduction == 'none' and gradOutput then gi:cmul(gradOutput) end
  return gi
end

function MarginCriterion:__tostring__()
  return ('%s(margin %g)'):format(torch.type(self), self.margin)
end

return MarginCriterion
