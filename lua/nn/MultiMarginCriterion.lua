-- nn.MultiMarginCriterion([p = 1 [, weights [, margin = 1 [, reduction]]]]): the multi-class
-- hinge loss of Torch7 and PyTorch. For a sample x (K) of class y (1-based),
-- loss = sum_{i ~= y} w[y] max(0, margin - x[y] + x[i])^p / K, p = 1 or 2; weights (K)
-- per class (default 1). reduction: 'mean' over samples (default), 'sum', 'none' (a loss
-- per sample), or Torch7's sizeAverage boolean.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local MultiMarginCriterion, parent = nn.class('nn.MultiMarginCriterion', nn.Criterion)

function MultiMarginCriterion:__init(p, weights, margin, reduction)
  parent.__init(self)
  p = p or 1
  if p ~= 1 and p ~= 2 then
    error(('nn.MultiMarginCriterion: p must be 1 or 2, got %s'):format(tostring(p)), 2)
  end
  if weights ~= nil and not (torch.isTensor(weights) and weights:dim() == 1) then
    error('nn.MultiMarginCriterion: weights must be a 1-dimensional tensor', 2)
  end
  margin = margin or 1
  if type(margin) ~= 'number' then
    error(('nn.MultiMarginCriterion: margin must be a number, got %s'):format(type(margin)), 2)
  end
  self.p, self.weights, self.margin = p, weights, margin
  self:setReduction(reduction)
end

-- input as a batch x (N, K) and the targets as a (N, 1) LongTensor, checked
local function batch(self, input, target)
  if input:dim() ~= 1 and input:dim() ~= 2 then
    error(('%s: expected input (N, K) or (K), got size %s'):format(torch.type(self),
          utils.sizeStr(input)), 0)
  end
  local x = input:dim() == 1 and input:view(1, input:size(1)) or input
  local t = utils.classTargets(self, target, input)
  local n, k = x:size(1), x:size(2)
  if t:nElement() ~= n then
    error(('%s: %d targets for %d samples'):format(torch.type(self), t:nElement(), n), 0)
  end
  if n > 0 and (t:min() < 1 or t:max() > k) then
    error(('%s: targets must lie in 1..%d, got values in [%d, %d]'):format(torch.type(self), k,
          t:min(), t:max()), 0)
  end
  if self.weights and self.weights:nElement() ~= k then
    error(('%s: %d weights for %d classes'):format(torch.type(self), self.weights:nElement(), k), 0)
  end
  return x, t:contiguous():view(n, 1)
end

-- h (N, K) = max(0, margin - x[y] + x), 0 in the target column; w (N, 1) the weight of each
-- sample's class (nil without weights)
local function hinge(self, x, t)
  local h = torch.add(x, -1, x:gather(2, t):expandAs(x)):add(self.margin):cmax(0)
  h:scatter(2, t, 0)
  local w = self.weights and self.weights:index(1, t:view(-1)):view(-1, 1) or nil
  return h, w
end

-- input (N, K) or (K), target (N) LongTensor of classes or a number -> a number, or (N)
-- losses for 'none'
function MultiMarginCriterion:updateOutput(input, target)
  local x, t = batch(self, input, target)
  local h, w = hinge(self, x, t)
  if self.p == 2 then h:cmul(h) end
  local loss = h:sum(2):div(x:size(2))   -- (N, 1)
  if w then loss:cmul(w) end
  local reduction = self:getReduction()
  if reduction == 'none' then self.output = loss:view(-1)
  else self.output = loss:sum() / (reduction == 'mean' and x:size(1) or 1) end
  return self.output
end

-- input, target [, gradOutput (N) for 'none'] -> gradInput (like input): for i ~= y,
-- p h^(p-1) w[y] / K where h > 0; for y, minus their sum
function MultiMarginCriterion:updateGradInput(input, target, gradOutput)
  local x, t = batch(self, input, target)
  local h, w = hinge(self, x, t)
  local g = self.p == 2 and h:mul(2) or torch.gt(h, 0):type(x:type())
  g:div(x:size(2))
  if w then g:cmul(w:expandAs(g)) end
  local reduction = self:getReduction()
  if reduction == 'mean' then g:div(x:size(1)) end
  if reduction == 'none' and gradOutput then g:cmul(gradOutput:contiguous():view(-1, 1):expandAs(g)) end
  g:scatter(2, t, g:sum(2):neg())
  self.gradInput:resizeAs(input):copy(g:viewAs(input))
  return self.gradInput
end

function MultiMarginCriterion:__tostring__()
  return ('%s(p %d, margin %g)'):format(torch.type(self), self.p, self.margin)
end

return MultiMarginCriterion
