-- nn.SmoothL1Criterion([reduction [, beta = 1]]): the Huber-like loss of d = input - target,
-- 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (beta = 0 is the L1 loss), as
-- Torch7 (beta 1) and PyTorch. reduction: 'mean' (default), 'sum', 'none' or sizeAverage.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SmoothL1Criterion, parent = nn.class('nn.SmoothL1Criterion', nn.Criterion)

function SmoothL1Criterion:__init(reduction, beta)
  parent.__init(self)
  self:setReduction(reduction)
  beta = beta or 1
  if type(beta) ~= 'number' or beta < 0 then
    error(('nn.SmoothL1Criterion: beta must be a non-negative number, got %s')
          :format(tostring(beta)), 2)
  end
  self.beta = beta
end

-- input (any), target (same size) -> a number, or (like input) for 'none'
function SmoothL1Criterion:updateOutput(input, target)
  utils.checkSameSize(self, 'target', target, input)
  local beta = self.beta
  local d = torch.add(input, -1, target):abs()
  local loss = d
  if beta > 0 then
    local inner = torch.lt(d, beta)
    loss = torch.where(inner, torch.cmul(d, d):mul(0.5 / beta), torch.add(d, -0.5 * beta))
  end
  local reduction = self:getReduction()
  if reduction == 'none' then self.output = loss
  else self.output = loss:sum() / (reduction == 'mean' and input:nElement() or 1) end
  return self.output
end

-- input, target [, gradOutput for 'none'] -> gradInput = d / beta where |d| < beta,
-- sign(d) elsewhere [/ n]
function SmoothL1Criterion:updateGradInput(input, target, gradOutput)
  utils.checkSameSize(self, 'target', target, input)
  local d = torch.add(input, -1, target)
  local gi = self.gradInput:resizeAs(input):copy(d):sign()
  if self.beta > 0 then
    gi:copy(torch.where(torch.lt(torch.abs(d), self.beta), d:div(self.beta), gi))
  end
  local reduction = self:getReduction()
  if reduction == 'mean' then gi:div(input:nElement()) end
  if reduction == 'none' and gradOutput then gi:cmul(gradOutput) end
  return gi
end

function SmoothL1Criterion:__tostring__()
  return ('%s(beta %g)'):format(torch.type(self), self.beta)
end

return SmoothL1Criterion
