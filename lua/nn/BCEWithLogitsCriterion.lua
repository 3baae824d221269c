-- nn.BCEWithLogitsCriterion([weights [, posWeight [, reduction]]]): binary cross-entropy
-- of sigmoid(input) against targets t in [0, 1], computed from the logits x without
-- overflow: loss = w ((1 - t) x + (1 + (pw - 1) t) softplus(-x)), softplus(-x) =
-- log1p(exp(-|x|)) + max(-x, 0) (PyTorch's BCEWithLogitsLoss).
-- weights: a tensor like input or (K) for input (N, K); posWeight (K): the weight of the
-- positive term for each class (the last dimension). reduction: 'mean' (default), 'sum',
-- 'none', or Torch7's sizeAverage boolean.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local BCEWithLogitsCriterion, parent = nn.class('nn.BCEWithLogitsCriterion', nn.Criterion)

function BCEWithLogitsCriterion:__init(weights, posWeight, reduction)
  parent.__init(self)
  for name, t in pairs { weights = weights or false, posWeight = posWeight or false } do
    if t and not torch.isTensor(t) then
      error(('nn.BCEWithLogitsCriterion: %s must be a tensor, got %s'):format(name, type(t)), 2)
    end
  end
  self.weights, self.posWeight = weights, posWeight
  self:setReduction(reduction)
end

-- t expanded to input's size: t like input, or (K) along input's last dimension
local function expand(self, what, t, input)
  if t:isSameSizeAs(input) then return t end
  local n = input:dim()
  if not (t:dim() == 1 and n >= 1 and t:size(1) == input:size(n)) then
    error(('%s: %s has size %s, expected %s or %d'):format(torch.type(self), what,
          utils.sizeStr(t), utils.sizeStr(input), n >= 1 and input:size(n) or 0), 0)
  end
  local shape = {}
  for d = 1, n - 1 do shape[d] = 1 end
  shape[n] = t:size(1)
  return t:view(table.unpack(shape)):expandAs(input)
end

-- 1 + (pw - 1) t, the factor of the positive term, or nil without posWeight
local function logWeight(self, input, target)
  if not self.posWeight then return nil end
  return expand(self, 'posWeight', self.posWeight, input):clone():add(-1):cmul(target):add(1)
end

-- input (any) logits, target (same size) -> a number, or (like input) for 'none'
function BCEWithLogitsCriterion:updateOutput(input, target)
  utils.checkSameSize(self, 'target', target, input)
  local softplus = torch.abs(input):neg():exp():log1p():add(torch.neg(input):cmax(0))
  local lw = logWeight(self, input, target)
  if lw then softplus:cmul(lw) end
  local loss = torch.mul(target, -1):add(1):cmul(input):add(softplus)
  if self.weights then loss:cmul(expand(self, 'weights', self.weights, input)) end
  local reduction = self:getReduction()
  if reduction == 'none' then self.output = loss
  else self.output = loss:sum() / (reduction == 'mean' and input:nElement() or 1) end
  return self.output
end

-- input, target [, gradOutput for 'none'] -> gradInput = w ((1 - t) - lw sigmoid(-x)) [/ n]
function BCEWithLogitsCriterion:updateGradInput(input, target, gradOutput)
  utils.checkSameSize(self, 'target', target, input)
  local s = torch.neg(input):sigmoid()
  local lw = logWeight(self, input, target)
  if lw then s:cmul(lw) end
  local gi = self.gradInput:resizeAs(input):copy(target):mul(-1):add(1):add(-1, s)
  if self.weights then gi:cmul(expand(self, 'weights', self.weights, input)) end
  local reduction = self:getReduction()
  if reduction == 'mean' then gi:div(input:nElement()) end
  if reduction == 'none' and gradOutput then gi:cmul(gradOutput) end
  return gi
end

return BCEWithLogitsCriterion
