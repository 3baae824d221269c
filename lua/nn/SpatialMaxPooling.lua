-- nn.SpatialMaxPooling(kW, kH [, dW = kW, dH = kH, padW = 0, padH = 0]): the maximum of
-- each kW x kH window of (N, C, H, W) or (C, H, W) images, as Torch7. :ceil() rounds the
-- output size up (the last window may hang over the edge), :floor() down (the default).
-- oH = floor_or_ceil((H + 2padH - kH) / dH) + 1. The argmax of each window is kept in
-- self.indices (int64, 0-based h*W + w per plane) for the backward.
-- Kernels: torch.nnops.maxpool2d_*.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SpatialMaxPooling, parent = nn.class('nn.SpatialMaxPooling', nn.Module)

local function positive(v) v = math.tointeger(v) return v and v > 0 end
local function nonNegative(v) v = math.tointeger(v) return v and v >= 0 end

function SpatialMaxPooling:__init(kW, kH, dW, dH, padW, padH)
  parent.__init(self)
  dW, dH, padW, padH = dW or kW, dH or kH, padW or 0, padH or 0
  assert(positive(kW) and positive(kH) and positive(dW) and positive(dH),
         'nn.SpatialMaxPooling(kW, kH, dW, dH): sizes and strides must be positive integers')
  assert(nonNegative(padW) and nonNegative(padH) and 2 * padW <= kW and 2 * padH <= kH,
         'nn.SpatialMaxPooling: paddings must be non-negative and at most half the kernel')
  self.kW, self.kH, self.dW, self.dH, self.padW, self.padH = kW, kH, dW, dH, padW, padH
  self.ceil_mode = false
  self.indices = torch.LongTensor()
end

function SpatialMaxPooling:ceil()
  self.ceil_mode = true
  return self
end

function SpatialMaxPooling:floor()
  self.ceil_mode = false
  return self
end

-- Errors unless input is (N, C, H, W) or (C, H, W).
local function checkInput(self, input)
  if input:dim() ~= 3 and input:dim() ~= 4 then
    error(('%s: expected an input (N, C, H, W) or (C, H, W), got size %s')
          :format(torch.type(self), utils.sizeStr(input)), 0)
  end
end
SpatialMaxPooling.checkInput = checkInput
SpatialMaxPooling.nnop = nn.SpatialConvolution.nnop

-- input (N, C, H, W) -> output (N, C, oH, oW); indices (N, C, oH, oW)
function SpatialMaxPooling:updateOutput(input)
  checkInput(self, input)
  self:nnop(torch.nnops.maxpool2d_forward, self.output, self.indices, input, self.kH, self.kW,
            self.dH, self.dW, self.padH, self.padW, 1, 1, self.ceil_mode)
  return self.output
end

-- gradOutput (N, C, oH, oW) -> gradInput (N, C, H, W): each gradient to its window's argmax
function SpatialMaxPooling:updateGradInput(input, gradOutput)
  checkInput(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  self:nnop(torch.nnops.maxpool2d_backward, self.gradInput, input, gradOutput, self.indices)
  return self.gradInput
end

function SpatialMaxPooling:clearState()
  utils.clear(self, 'indices')
  return parent.clearState(self)
end

-- nn.SpatialMaxPooling(2x2, 2,2) or, padded, nn.SpatialMaxPooling(3x3, 2,2, 1,1) (Torch7)
function SpatialMaxPooling:__tostring__()
  local s = ('%s(%dx%d, %d,%d'):format(torch.type(self), self.kW, self.kH, self.dW, self.dH)
  if self.padW ~= 0 or self.padH ~= 0 then s = s .. (', %d,%d'):format(self.padW, self.padH) end
  return s .. ')'
end

return SpatialMaxPooling
