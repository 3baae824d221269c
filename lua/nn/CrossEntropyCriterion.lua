-- nn.CrossEntropyCriterion([weights, reduction, ignoreIndex]): nn.LogSoftMax followed
-- by nn.ClassNLLCriterion on raw scores, fused (torch.nnops.cross_entropy_*).
-- input (N, K) or (K) scores, target and options as nn.ClassNLLCriterion.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local CrossEntropyCriterion, parent = nn.class('nn.CrossEntropyCriterion', nn.Criterion)

function CrossEntropyCriterion:__init(weights, reduction, ignoreIndex)
  parent.__init(self)
  self:setReduction(reduction)
  assert(weights == nil or (torch.isTensor(weights) and weights:dim() == 1),
         'nn.CrossEntropyCriterion: weights must be a 1-dimensional tensor')
  self.weights = weights
  self.ignoreIndex = ignoreIndex or -100
  self.logProbs = torch.Tensor()
  self.totalWeight = torch.Tensor()
  self.lossBuffer = torch.Tensor()
  self.gradOutputOne = torch.Tensor()
end

-- input (N, K) scores, target (N) -> a number, or (N) losses for 'none'
function CrossEntropyCriterion:updateOutput(input, target)
  local reduction = self:getReduction()
  local loss = utils.call(self, torch.nnops.cross_entropy_forward, self.lossBuffer,
                          self.totalWeight, self.logProbs, input,
                          utils.classTargets(self, target, input), self.weights, reduction,
                          self.ignoreIndex)
  self.output = reduction == 'none' and loss or loss[1]
  return self.output
end

-- input, target [, gradOutput (N) for 'none'] -> gradInput (like input), from the
-- forward's log-probabilities
function CrossEntropyCriterion:updateGradInput(input, target, gradOutput)
  if not self.logProbs:isSameSizeAs(input) then
    error(('%s: backward called before forward on an input of size %s')
          :format(torch.type(self), utils.sizeStr(input)), 0)
  end
  local reduction = self:getReduction()
  if reduction ~= 'none' or not gradOutput then gradOutput = utils.gradOne(self, input) end
  if reduction == 'none' and gradOutput:nElement() == 1 then
    gradOutput = gradOutput:expand(input:dim() == 1 and 1 or input:size(1))
  end
  utils.call(self, torch.nnops.cross_entropy_backward, self.gradInput, self.logProbs,
             utils.classTargets(self, target, input), gradOutput, self.weights,
             self.totalWeight, reduction, self.ignoreIndex)
  return self.gradInput
end

return CrossEntropyCriterion
