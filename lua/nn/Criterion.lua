-- nn.Criterion: the base of every loss. forward(input, target) returns the loss (a
-- number); backward(input, target) returns gradInput = dloss/dinput (like input).
-- Losses reduce with `reduction`: 'mean' (Torch7's sizeAverage = true, the default),
-- 'sum' (sizeAverage = false) or 'none' (output is then a tensor of per-sample losses,
-- and backward takes its gradient as a third argument, ones when omitted).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Criterion = nn.class('nn.Criterion')

local reductions = { mean = true, sum = true, none = true }

function Criterion:__init()
  self.gradInput = torch.Tensor()
  self.output = 0
  self.sizeAverage = true
end

-- Sets the reduction from a `reduction` string or Torch7's sizeAverage boolean.
function Criterion:setReduction(reduction)
  if type(reduction) == 'boolean' then reduction = reduction and 'mean' or 'sum' end
  reduction = reduction or 'mean'
  if not reductions[reduction] then
    error(("%s: reduction must be 'mean', 'sum' or 'none', got %s")
          :format(torch.type(self), tostring(reduction)), 3)
  end
  self.reduction = reduction
  self.sizeAverage = reduction == 'mean'
  return self
end

-- The reduction in force: sizeAverage set after construction (Torch7 style) wins.
function Criterion:getReduction()
  if self.reduction == 'none' then return 'none' end
  return self.sizeAverage and 'mean' or 'sum'
end

-- input, target -> loss
function Criterion:forward(input, target) return self:updateOutput(input, target) end

function Criterion:updateOutput(input, target) return self.output end

-- input, target -> gradInput (like input)
function Criterion:backward(input, target, gradOutput)
  return self:updateGradInput(input, target, gradOutput)
end

function Criterion:updateGradInput(input, target, gradOutput) return self.gradInput end

function Criterion:clone() return utils.deepcopy(self) end

function Criterion:type(typename, cache)
  if not typename then return self._type end
  cache = cache or {}
  for k, v in pairs(self) do self[k] = utils.recursiveType(v, typename, cache) end
  self._type = typename
  return self
end

function Criterion:float() return self:type('torch.FloatTensor') end

function Criterion:double() return self:type('torch.DoubleTensor') end

function Criterion:clearState() return utils.clear(self, 'gradInput') end

function Criterion:__tostring__() return torch.type(self) end

return Criterion
