-- nn.SpatialAdaptiveAveragePooling(W [, H = W]): average pooling to a fixed output size
-- H x W whatever the input size, as Torch7 (fields W, H): output cell (i, j) averages the
-- input rows [floor(i*iH/H), ceil((i+1)*iH/H)) and the columns likewise. (1, 1) is the
-- global average pooling that ends a ResNet. Kernels: torch.nnops.adaptive_avgpool2d_*.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SpatialAdaptiveAveragePooling, parent = nn.class('nn.SpatialAdaptiveAveragePooling',
                                                       nn.Module)

function SpatialAdaptiveAveragePooling:__init(W, H)
  parent.__init(self)
  H = H or W
  local w, h = math.tointeger(W), math.tointeger(H)
  assert(w and h and w > 0 and h > 0,
         'nn.SpatialAdaptiveAveragePooling(W, H): output sizes must be positive integers')
  self.W, self.H = w, h
end

SpatialAdaptiveAveragePooling.checkInput = nn.SpatialMaxPooling.checkInput
SpatialAdaptiveAveragePooling.nnop = nn.SpatialConvolution.nnop

-- input (N, C, iH, iW) -> output (N, C, H, W)
function SpatialAdaptiveAveragePooling:updateOutput(input)
  self:checkInput(input)
  self:nnop(torch.nnops.adaptive_avgpool2d_forward, self.output, input, self.H, self.W)
  return self.output
end

-- gradOutput (N, C, H, W) -> gradInput (N, C, iH, iW)
function SpatialAdaptiveAveragePooling:updateGradInput(input, gradOutput)
  self:checkInput(input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  self:nnop(torch.nnops.adaptive_avgpool2d_backward, self.gradInput, input, gradOutput)
  return self.gradInput
end

-- nn.SpatialAdaptiveAveragePooling(1x1): output width x height
function SpatialAdaptiveAveragePooling:__tostring__()
  return ('%s(%dx%d)'):format(torch.type(self), self.W, self.H)
end

return SpatialAdaptiveAveragePooling
