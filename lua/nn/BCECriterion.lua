-- nn.BCECriterion([weights [, reduction]]): binary cross-entropy of probabilities input
-- against targets in [0, 1] (Torch7's), loss = -w (t log x + (1 - t) log(1 - x)); the
-- logs are clamped at -100 as PyTorch does, so x = 0 or 1 gives a finite loss.
-- weights: a tensor like input, or (K) for input (N, K) (broadcast over the batch).
-- reduction: 'mean' (default), 'sum', 'none', or Torch7's sizeAverage boolean.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local BCECriterion, parent = nn.class('nn.BCECriterion', nn.Criterion)

local EPS = 1e-12   -- floor of x (1 - x) in the gradient, as PyTorch

function BCECriterion:__init(weights, reduction)
  parent.__init(self)
  if weights ~= nil and not torch.isTensor(weights) then
    error(('nn.BCECriterion: weights must be a tensor, got %s'):format(type(weights)), 2)
  end
  self.weights = weights
  self:setReduction(reduction)
end

-- weights expanded to input's size (a view), or nil
local function expandedWeights(self, input)
  local w = self.weights
  if not w then return nil end
  if w:isSameSizeAs(input) then return w end
  local ok = w:dim() == 1 and input:dim() >= 1 and w:size(1) == input:size(input:dim())
  if not ok then
    error(('%s: weights have size %s, expected %s or %d'):format(torch.type(self),
          utils.sizeStr(w), utils.sizeStr(input), input:size(input:dim())), 0)
  end
  local shape = {}
  for d = 1, input:dim() - 1 do shape[d] = 1 end
  shape[input:dim()] = w:size(1)
  return w:view(table.unpack(shape)):expandAs(input)
end

-- input (any) probabilities, target (same size) -> a number, or (like input) for 'none'
function BCECriterion:updateOutput(input, target)
  utils.checkSameSize(self, 'target', target, input)
  if input:nElement() > 0 and (input:min() < 0 or input:max() > 1) then
    error(('%s: input must hold probabilities in [0, 1], got values in [%g, %g]')
          :format(torch.type(self), input:min(), input:max()), 0)
  end
  local logx = torch.log(input):cmax(-100)
  local log1mx = torch.mul(input, -1):add(1):log():cmax(-100)
  -- -(t log x + (1 - t) log(1 - x))
  local loss = log1mx:add(torch.add(logx, -1, log1mx):cmul(target)):neg()
  local w = expandedWeights(self, input)
  if w then loss:cmul(w) end
  local reduction = self:getReduction()
  if reduction == 'none' then self.output = loss
  else self.output = loss:sum() / (reduction == 'mean' and input:nElement() or 1) end
  return self.output
end

-- input, target [, gradOutput for 'none'] -> gradInput = w (x - t) / max(x (1 - x), 1e-12) [/ n]
function BCECriterion:updateGradInput(input, target, gradOutput)
  utils.checkSameSize(self, 'target', target, input)
  local denom = torch.mul(input, -1):add(1):cmul(input):cmax(EPS)
  local gi = self.gradInput:resizeAs(input):copy(input):add(-1, target):cdiv(denom)
  local w = expandedWeights(self, input)
  if w then gi:cmul(w) end
  local reduction = self:getReduction()
  if reduction == 'mean' then gi:div(input:nElement()) end
  if reduction == 'none' and gradOutput then gi:cmul(gradOutput) end
  return gi
end

return BCECriterion
