-- nn.LayerNorm(normalizedShape [, eps = 1e-5] [, affine = true]): PyTorch's LayerNorm.
-- Normalises over the last k dims, k = #normalizedShape (a number means one dim):
-- y = (x - mean) / sqrt(var + eps) * weight + bias, var biased. weight starts at ones
-- and bias at zeros, both of shape normalizedShape; input (*, normalizedShape).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local LayerNorm, parent = nn.class('nn.LayerNorm', nn.Module)

local nnops = torch.nnops

function LayerNorm:__init(normalizedShape, eps, affine)
  parent.__init(self)
  local shape = type(normalizedShape) == 'table' and normalizedShape or { normalizedShape }
  for _, n in ipairs(shape) do
    assert(math.tointeger(n) and n > 0, 'nn.LayerNorm(normalizedShape): sizes must be positive integers')
  end
  assert(#shape > 0, 'nn.LayerNorm(normalizedShape): give at least one size')
  self.normalizedShape = shape
  self.eps = eps or 1e-5
  if affine ~= false then
    self.weight = torch.Tensor(table.unpack(shape))
    self.bias = torch.Tensor(table.unpack(shape))
    self.gradWeight = torch.zeros(table.unpack(shape))
    self.gradBias = torch.zeros(table.unpack(shape))
  end
  self.saveMean, self.saveInvstd = torch.Tensor(), torch.Tensor()
  self:reset()
end

function LayerNorm:reset()
  if self.weight then
    self.weight:fill(1)
    self.bias:zero()
  end
  return self
end

-- input (*, normalizedShape) -> output (same shape)
function LayerNorm:updateOutput(input)
  nnops.layernorm_forward(self.output, self.saveMean, self.saveInvstd, input, self.weight,
                          self.bias, #self.normalizedShape, self.eps)
  return self.output
end

local function checkBackward(self, input, gradOutput)
  utils.checkForwarded(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
end

-- gradOutput (like input) -> gradInput (like input)
function LayerNorm:updateGradInput(input, gradOutput)
  checkBackward(self, input, gradOutput)
  nnops.layernorm_backward(self.gradInput, nil, nil, input, gradOutput, self.weight,
                           self.saveMean, self.saveInvstd, #self.normalizedShape, 1)
  return self.gradInput
end

-- gradWeight, gradBias (normalizedShape) += scale * their gradients
function LayerNorm:accGradParameters(input, gradOutput, scale)
  if not self.weight then return end
  checkBackward(self, input, gradOutput)
  nnops.layernorm_backward(nil, self.gradWeight, self.gradBias, input, gradOutput, self.weight,
                           self.saveMean, self.saveInvstd, #self.normalizedShape, scale or 1)
end

-- Both in one pass over the input.
function LayerNorm:backward(input, gradOutput, scale)
  checkBackward(self, input, gradOutput)
  nnops.layernorm_backward(self.gradInput, self.gradWeight, self.gradBias, input, gradOutput,
                           self.weight, self.saveMean, self.saveInvstd, #self.normalizedShape,
                           scale or 1)
  return self.gradInput
end

function LayerNorm:clearState()
  utils.clear(self, 'saveMean', 'saveInvstd')
  return parent.clearState(self)
end

-- nn.LayerNorm(128), nn.LayerNorm(4x5, eps 1e-06) without affine
function LayerNorm:__tostring__()
  local s = ('%s(%s'):format(torch.type(self), table.concat(self.normalizedShape, 'x'))
  if self.eps ~= 1e-5 then s = s .. (', eps %g'):format(self.eps) end
  return s .. ')' .. (self.weight and '' or ' without affine')
end

return LayerNorm
