-- nn.BatchNormalization(nOutput [, eps = 1e-5, momentum = 0.1, affine = true]): batch
-- normalisation of (N, C) inputs, as Torch7: y = (x - mean) / sqrt(var + eps) * weight + bias
-- per feature C. weight, bias (C) when affine (Torch7's init: weight uniform in [0, 1],
-- bias 0). In training mode the batch's mean and biased variance normalise, and the
-- running estimates are updated: running_mean := (1 - momentum) * running_mean +
-- momentum * mean, running_var likewise with the unbiased variance (Torch7's and
-- PyTorch's convention). In evaluate mode running_mean / running_var normalise.
-- save_mean / save_std (C) keep the statistics used (save_std holds 1/sqrt(var + eps), as
-- THNN's) for the backward. Kernels: torch.nnops.batchnorm_*.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local BN, parent = nn.class('nn.BatchNormalization', nn.Module)

BN.nDim = 2   -- the input's dims: (N, C); SpatialBatchNormalization: (N, C, H, W)

function BN:__init(nOutput, eps, momentum, affine)
  parent.__init(self)
  local n = math.tointeger(nOutput)
  assert(n and n > 0, torch.type(self) .. '(nOutput, eps, momentum, affine): nOutput must be a '
         .. 'positive integer (affine = false for no weight and bias)')
  assert(affine == nil or type(affine) == 'boolean', torch.type(self) .. ': affine must be a boolean')
  self.affine = affine ~= false
  self.eps = eps or 1e-5
  self.momentum = momentum or 0.1
  self.running_mean = torch.zeros(n)
  self.running_var = torch.ones(n)
  if self.affine then
    self.weight = torch.Tensor(n)
    self.bias = torch.Tensor(n)
    self.gradWeight = torch.zeros(n)
    self.gradBias = torch.zeros(n)
  end
  self.save_mean = torch.Tensor()
  self.save_std = torch.Tensor()
  self:reset()
end

-- weight uniform in [0, 1], bias 0, running statistics to (0, 1): Torch7's reset
function BN:reset()
  if self.weight then self.weight:uniform() end
  if self.bias then self.bias:zero() end
  self.running_mean:zero()
  self.running_var:fill(1)
  return self
end

-- Errors unless input has nDim dims and C = nOutput features.
function BN:checkInput(input, what)
  local c = self.running_mean:nElement()
  if input:dim() ~= self.nDim then
    local want = self.nDim == 2 and ('(N, %d)'):format(c) or ('(N, %d, H, W)'):format(c)
    error(('%s: expected %s %s, got size %s'):format(torch.type(self), what or 'an input', want,
          utils.sizeStr(input)), 0)
  end
  if input:size(2) ~= c then
    error(('%s: %s has %d %s, expected %d'):format(torch.type(self), what or 'input',
          input:size(2), self.nDim == 2 and 'features' or 'channels', c), 0)
  end
end

-- input (N, C[, H, W]) -> output (same shape)
function BN:updateOutput(input)
  self:checkInput(input)
  local ok, err = pcall(torch.nnops.batchnorm_forward, self.output, self.save_mean,
                        self.save_std, input, self.weight, self.bias, self.running_mean,
                        self.running_var, self.train ~= false, self.momentum, self.eps)
  if not ok then error(torch.type(self) .. ': ' .. tostring(err), 0) end
  return self.output
end

-- the backward from the forward's statistics: any of gradInput, gradWeight, gradBias
local function backward(self, input, gradOutput, scale, gradInput, gradWeight, gradBias)
  self:checkInput(input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  if self.save_mean:nElement() ~= input:size(2) then
    error(('%s: backward called before forward'):format(torch.type(self)), 0)
  end
  local ok, err = pcall(torch.nnops.batchnorm_backward, gradInput, gradWeight, gradBias, input,
                        gradOutput, self.weight, self.save_mean, self.save_std,
                        self.train ~= false, scale or 1)
  if not ok then error(torch.type(self) .. ': ' .. tostring(err), 0) end
  return self.gradInput
end

-- gradOutput (like input) -> gradInput (like input); gradWeight, gradBias (C) += scale * theirs
function BN:backward(input, gradOutput, scale)
  return backward(self, input, gradOutput, scale, self.gradInput, self.gradWeight, self.gradBias)
end

-- gradOutput (like input) -> gradInput (like input), through the batch statistics in training
function BN:updateGradInput(input, gradOutput)
  return backward(self, input, gradOutput, 1, self.gradInput)
end

-- gradWeight (C) += scale sum(gradOutput * xhat); gradBias (C) += scale sum(gradOutput)
function BN:accGradParameters(input, gradOutput, scale)
  if self.affine then backward(self, input, gradOutput, scale, nil, self.gradWeight, self.gradBias) end
end

function BN:clearState()
  utils.clear(self, 'save_mean', 'save_std')
  return parent.clearState(self)
end

-- nn.BatchNormalization (2D) (4), nn.SpatialBatchNormalization (4D) (64) (Torch7)
function BN:__tostring__()
  return ('%s (%dD) (%d)'):format(torch.type(self), self.nDim, self.running_mean:nElement())
end

return BN
