-- nn.SpatialAveragePooling(kW, kH [, dW = 1, dH = 1, padW = 0, padH = 0]): the mean of each
-- kW x kH window of (N, C, H, W) or (C, H, W) images, as Torch7 (whose default stride is
-- 1, not the kernel size). :ceil() / :floor() choose the rounding of the output size.
-- count_include_pad (default true, Torch7): divide by kW*kH even where the window covers
-- padding; :setCountExcludePad() divides by the number of input elements covered
-- instead, :setCountIncludePad() restores the default. Kernels: torch.nnops.avgpool2d_*.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SpatialAveragePooling, parent = nn.class('nn.SpatialAveragePooling', nn.Module)

local function positive(v) v = math.tointeger(v) return v and v > 0 end
local function nonNegative(v) v = math.tointeger(v) return v and v >= 0 end

function SpatialAveragePooling:__init(kW, kH, dW, dH, padW, padH)
  parent.__init(self)
  dW, dH, padW, padH = dW or 1, dH or 1, padW or 0, padH or 0
  assert(positive(kW) and positive(kH) and positive(dW) and positive(dH),
         'nn.SpatialAveragePooling(kW, kH, dW, dH): sizes and strides must be positive integers')
  assert(nonNegative(padW) and nonNegative(padH) and 2 * padW <= kW and 2 * padH <= kH,
         'nn.SpatialAveragePooling: paddings must be non-negative and at most half the kernel')
  self.kW, self.kH, self.dW, self.dH, self.padW, self.padH = kW, kH, dW, dH, padW, padH
  self.ceil_mode = false
  self.count_include_pad = true
end

function SpatialAveragePooling:ceil()
  self.ceil_mode = true
  return self
end

function SpatialAveragePooling:floor()
  self.ceil_mode = false
  return self
end

function SpatialAveragePooling:setCountIncludePad()
  self.count_include_pad = true
  return self
end

function SpatialAveragePooling:setCountExcludePad()
  self.count_include_pad = false
  return self
end

SpatialAveragePooling.checkInput = nn.SpatialMaxPooling.checkInput
SpatialAveragePooling.nnop = nn.SpatialConvolution.nnop

-- input (N, C, H, W) -> output (N, C, oH, oW), oH = floor_or_ceil((H + 2padH - kH)/dH) + 1
function SpatialAveragePooling:updateOutput(input)
  self:checkInput(input)
  self:nnop(torch.nnops.avgpool2d_forward, self.output, input, self.kH, self.kW, self.dH,
            self.dW, self.padH, self.padW, self.ceil_mode, self.count_include_pad)
  return self.output
end

-- gradOutput (N, C, oH, oW) -> gradInput (N, C, H, W): each gradient spread over its window
function SpatialAveragePooling:updateGradInput(input, gradOutput)
  self:checkInput(input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  self:nnop(torch.nnops.avgpool2d_backward, self.gradInput, input, gradOutput, self.kH, self.kW,
            self.dH, self.dW, self.padH, self.padW, self.ceil_mode, self.count_include_pad)
  return self.gradInput
end

-- nn.SpatialAveragePooling(2x2, 2,2) or, padded, nn.SpatialAveragePooling(3x3, 1,1, 1,1)
function SpatialAveragePooling:__tostring__()
  local s = ('%s(%dx%d, %d,%d'):format(torch.type(self), self.kW, self.kH, self.dW, self.dH)
  if self.padW ~= 0 or self.padH ~= 0 then s = s .. (', %d,%d'):format(self.padW, self.padH) end
  return s .. ')'
end

return SpatialAveragePooling
