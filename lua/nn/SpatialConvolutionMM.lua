-- nn.SpatialConvolutionMM(nInputPlane, nOutputPlane, kW, kH [, dW = 1, dH = 1, padW = 0,
-- padH = padW]): Torch7's name for its im2col-and-GEMM convolution, which is how Ember's
-- nn.SpatialConvolution works: this is that class under Torch7's name (torch.type and
-- .t7 files say nn.SpatialConvolutionMM), same arguments, shapes and kernels.
-- Torch7 kept the weight as a matrix (nOutputPlane, nInputPlane*kH*kW); a module loaded
-- from such a file gets weight and gradWeight viewed as (nOutputPlane, nInputPlane, kH,
-- kW) (the same memory) on first use, and an old file's `padding` becomes padW, padH.
local nn = require 'nn'
require 'nn.SpatialConvolution'

local SpatialConvolutionMM, parent = nn.class('nn.SpatialConvolutionMM', nn.SpatialConvolution)

-- Fields as nn.SpatialConvolution expects them, from a module Torch7 wrote.
local function adopt(self)
  if self.padding then
    self.padW, self.padH, self.padding = self.padding, self.padding, nil
  end
  self.dilationW, self.dilationH = self.dilationW or 1, self.dilationH or 1
  self.groups = self.groups or 1
  local F, C, kH, kW = self.nOutputPlane, self.nInputPlane // self.groups, self.kH, self.kW
  if self.weight:dim() == 2 then self.weight = self.weight:view(F, C, kH, kW) end
  if self.gradWeight and self.gradWeight:dim() == 2 then
    self.gradWeight = self.gradWeight:view(F, C, kH, kW)
  end
end

-- Every forward and backward step checks its input here first.
function SpatialConvolutionMM:checkInput(input)
  if self.weight:dim() ~= 4 or not self.groups then adopt(self) end
  return parent.checkInput(self, input)
end

return SpatialConvolutionMM
