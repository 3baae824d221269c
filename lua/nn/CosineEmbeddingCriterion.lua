-- nn.CosineEmbeddingCriterion([margin = 0 [, reduction]]): for input {x1, x2} and
-- targets y = +1 or -1 (Torch7's), loss = 1 - cos(x1, x2) where y = 1 and
-- max(0, cos(x1, x2) - margin) where y = -1, with cos = x1.x2 / sqrt((|x1|^2 + eps)
-- (|x2|^2 + eps)), eps = 1e-12, as PyTorch. reduction: 'mean' over samples (default),
-- 'sum', 'none' (a loss per sample), or Torch7's sizeAverage boolean.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local CosineEmbeddingCriterion, parent = nn.class('nn.CosineEmbeddingCriterion', nn.Criterion)

local EPS = 1e-12

function CosineEmbeddingCriterion:__init(margin, reduction)
  parent.__init(self)
  margin = margin or 0
  if type(margin) ~= 'number' then
    error(('nn.CosineEmbeddingCriterion: margin must be a number, got %s'):format(type(margin)), 2)
  end
  self.margin = margin
  self:setReduction(reduction)
  self.gradInput = { torch.Tensor(), torch.Tensor() }
end

-- x1, x2 as (N, D) and target as (N, 1) in their dtype
local function batch(self, input, target)
  if type(input) ~= 'table' or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
    error(('%s: input must be a table {x1, x2} of two tensors'):format(torch.type(self)), 0)
  end
  local x1, x2 = input[1], input[2]
  utils.checkSameSize(self, 'input[2]', x2, x1)
  if x1:dim() ~= 1 and x1:dim() ~= 2 then
    error(('%s: expected inputs (N, D) or (D), got size %s'):format(torch.type(self),
          utils.sizeStr(x1)), 0)
  end
  if x1:dim() == 1 then x1, x2 = x1:view(1, -1), x2:view(1, -1) end
  if type(target) == 'number' then target = torch.Tensor({ target }) end
  if not torch.isTensor(target) or target:nElement() ~= x1:size(1) then
    error(('%s: expected %d targets of +1 or -1'):format(torch.type(self), x1:size(1)), 0)
  end
  return x1, x2, target:type(x1:type()):contiguous():view(-1, 1)
end

-- cos (N, 1), |x1|^2 + eps and |x2|^2 + eps (N, 1), and sqrt of their product
local function cosine(x1, x2)
  local m1 = torch.cmul(x1, x1):sum(2):add(EPS)
  local m2 = torch.cmul(x2, x2):sum(2):add(EPS)
  local denom = torch.cmul(m1, m2):sqrt()
  return torch.cmul(x1, x2):sum(2):cdiv(denom), m1, m2, denom
end

-- input {x1 (N, D), x2 (N, D)} or {(D), (D)}, target (N) of +-1 or a number -> a number,
-- or (N) losses for 'none'
function CosineEmbeddingCriterion:updateOutput(input, target)
  local x1, x2, y = batch(self, input, target)
  local cos = cosine(x1, x2)
  local loss = torch.where(torch.eq(y, 1), torch.mul(cos, -1):add(1),
                           torch.where(torch.eq(y, -1), torch.add(cos, -self.margin):cmax(0), 0))
  local reduction = self:getReduction()
  if reduction == 'none' then self.output = loss:view(-1)
  else self.output = loss:sum() / (reduction == 'mean' and x1:size(1) or 1) end
  return self.output
end

-- input, target [, gradOutput (N) for 'none'] -> gradInput {g1, g2} like the inputs:
-- dcos/dx1 = x2 / denom - cos x1 / (|x1|^2 + eps), times -1 (y = 1), 1 (y = -1 and
-- cos > margin) or 0
function CosineEmbeddingCriterion:updateGradInput(input, target, gradOutput)
  local x1, x2, y = batch(self, input, target)
  local cos, m1, m2, denom = cosine(x1, x2)
  local active = torch.eq(y, -1):logicalAnd(torch.gt(cos, self.margin)):type(x1:type())
  local coef = active:add(-1, torch.eq(y, 1):type(x1:type()))
  local reduction = self:getReduction()
  if reduction == 'mean' then coef:div(x1:size(1)) end
  if reduction == 'none' and gradOutput then coef:cmul(gradOutput:contiguous():view(-1, 1)) end
  local scale = torch.cdiv(coef, denom):expandAs(x1)
  local g1 = torch.cmul(x2, scale):add(-1, torch.cmul(x1, torch.cmul(coef, cos):cdiv(m1):expandAs(x1)))
  local g2 = torch.cmul(x1, scale):add(-1, torch.cmul(x2, torch.cmul(coef, cos):cdiv(m2):expandAs(x2)))
  self.gradInput[1]:resizeAs(input[1]):copy(g1:viewAs(input[1]))
  self.gradInput[2]:resizeAs(input[2]):copy(g2:viewAs(input[2]))
  return self.gradInput
end

function CosineEmbeddingCriterion:__tostring__()
  return ('%s(margin %g)'):format(torch.type(self), self.margin)
end

return CosineEmbeddingCriterion
