-- nn.SpatialDilatedConvolution(nInputPlane, nOutputPlane, kW, kH [, dW = 1, dH = 1,
-- padW = 0, padH = padW, dilationW = 1, dilationH = 1, groups = 1]): Torch7's name for a
-- SpatialConvolution with a dilated kernel (taps dilationW apart); the same module with
-- its dilation given at construction. groups (11th argument) is our extension.
local torch = require 'torch'
local nn = require 'nn'

local SpatialDilatedConvolution, parent =
  nn.class('nn.SpatialDilatedConvolution', nn.SpatialConvolution)

function SpatialDilatedConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH,
                                          dilationW, dilationH, groups)
  parent.__init(self, nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH, groups)
  self:setDilation(dilationW or 1, dilationH or 1)
end

-- nn.SpatialDilatedConvolution(3 -> 8, 3x3, 1,1, 2,2, 2,2): Torch7's format, which
-- always ends with the dilation
function SpatialDilatedConvolution:__tostring__()
  local s = ('%s(%d -> %d, %dx%d'):format(torch.type(self), self.nInputPlane, self.nOutputPlane,
                                          self.kW, self.kH)
  if self.dW ~= 1 or self.dH ~= 1 or self.padW ~= 0 or self.padH ~= 0 then
    s = s .. (', %d,%d'):format(self.dW, self.dH)
  end
  if self.padW ~= 0 or self.padH ~= 0 then s = s .. (', %d,%d'):format(self.padW, self.padH) end
  s = s .. (', %d,%d'):format(self.dilationW, self.dilationH)
  if self.groups ~= 1 then s = s .. (', groups %d'):format(self.groups) end
  return s .. (self.bias and ')' or ') without bias')
end

return SpatialDilatedConvolution
