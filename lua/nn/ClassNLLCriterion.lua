-- nn.ClassNLLCriterion([weights, reduction, ignoreIndex]): the negative log-likelihood
-- of 1-based class targets, loss = -sum_i w[t_i] x[i][t_i] / sum_i w[t_i] (mean).
-- input (N, K) log-probabilities (or (K) for one sample), target (N) LongTensor of
-- classes in 1..K (or a number); weights (K) per class (default all 1); targets equal
-- to ignoreIndex (default -100) count for nothing. reduction: 'mean' (default), 'sum',
-- 'none' (a loss per sample), or Torch7's sizeAverage boolean. Kernels: torch.nnops.nll_*.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local ClassNLLCriterion, parent = nn.class('nn.ClassNLLCriterion', nn.Criterion)

function ClassNLLCriterion:__init(weights, reduction, ignoreIndex)
  parent.__init(self)
  self:setReduction(reduction)
  assert(weights == nil or (torch.isTensor(weights) and weights:dim() == 1),
         'nn.ClassNLLCriterion: weights must be a 1-dimensional tensor')
  self.weights = weights
  self.ignoreIndex = ignoreIndex or -100
  self.totalWeight = torch.Tensor()
  self.lossBuffer = torch.Tensor()
  self.gradOutputOne = torch.Tensor()
end

-- input (N, K) or (K), target (N) -> a number, or (N) losses for 'none'
function ClassNLLCriterion:updateOutput(input, target)
  local reduction = self:getReduction()
  local loss = utils.call(self, torch.nnops.nll_forward, self.lossBuffer, self.totalWeight,
                          input, utils.classTargets(self, target, input), self.weights,
                          reduction, self.ignoreIndex)
  self.output = reduction == 'none' and loss or loss[1]
  return self.output
end

-- input, target [, gradOutput (N) for 'none'] -> gradInput (like input)
function ClassNLLCriterion:updateGradInput(input, target, gradOutput)
  if self.totalWeight:nElement() == 0 then
    error(('%s: backward called before forward'):format(torch.type(self)), 0)
  end
  local reduction = self:getReduction()
  if reduction ~= 'none' or not gradOutput then gradOutput = utils.gradOne(self, input) end
  if reduction == 'none' and gradOutput:nElement() == 1 then
    gradOutput = gradOutput:expand(input:dim() == 1 and 1 or input:size(1))
  end
  utils.call(self, torch.nnops.nll_backward, self.gradInput, input,
             utils.classTargets(self, target, input), gradOutput, self.weights,
             self.totalWeight, reduction, self.ignoreIndex)
  return self.gradInput
end

return ClassNLLCriterion
