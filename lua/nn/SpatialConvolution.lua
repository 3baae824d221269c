-- nn.SpatialConvolution(nInputPlane, nOutputPlane, kW, kH [, dW = 1, dH = 1, padW = 0,
-- padH = padW, groups = 1]): 2-d convolution of (N, C, H, W) or (C, H, W) images, as
-- Torch7. weight (nOutputPlane, nInputPlane/groups, kH, kW), bias (nOutputPlane).
-- Extensions: `groups` is the 9th argument (as cudnn.SpatialConvolution); dilation is
-- the fields dilationW, dilationH (default 1), set with :setDilation(dilationW, dilationH)
-- or through nn.SpatialDilatedConvolution. Kernels: torch.nnops.conv2d_*; the im2col
-- columns live in self.finput between calls. Under nn.autocast('bfloat16') the three
-- products read their operands as bfloat16 (nn/cuda.lua).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SpatialConvolution, parent = nn.class('nn.SpatialConvolution', nn.Module)

local function positive(v) v = math.tointeger(v) return v and v > 0 end
local function nonNegative(v) v = math.tointeger(v) return v and v >= 0 end

function SpatialConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH, groups)
  parent.__init(self)
  local name = torch.type(self)
  dW, dH, padW, groups = dW or 1, dH or 1, padW or 0, groups or 1
  padH = padH or padW
  assert(positive(nInputPlane) and positive(nOutputPlane) and positive(kW) and positive(kH),
         name .. '(nInputPlane, nOutputPlane, kW, kH): sizes must be positive integers')
  assert(positive(dW) and positive(dH) and nonNegative(padW) and nonNegative(padH),
         name .. ': strides must be positive and paddings non-negative integers')
  assert(positive(groups) and nInputPlane % groups == 0 and nOutputPlane % groups == 0,
         name .. ': groups must divide nInputPlane and nOutputPlane')
  self.nInputPlane, self.nOutputPlane = nInputPlane, nOutputPlane
  self.kW, self.kH, self.dW, self.dH = kW, kH, dW, dH
  self.padW, self.padH = padW, padH
  self.dilationW, self.dilationH = 1, 1
  self.groups = groups
  self.weight = torch.Tensor(nOutputPlane, nInputPlane // groups, kH, kW)
  self.gradWeight = torch.zeros(nOutputPlane, nInputPlane // groups, kH, kW)
  self.bias = torch.Tensor(nOutputPlane)
  self.gradBias = torch.zeros(nOutputPlane)
  self.finput = torch.Tensor()   -- im2col workspace
  self:reset()
end

function SpatialConvolution:setDilation(dilationW, dilationH)
  dilationH = dilationH or dilationW
  assert(positive(dilationW) and positive(dilationH),
         torch.type(self) .. ':setDilation(dilationW, dilationH): positive integers')
  self.dilationW, self.dilationH = dilationW, dilationH
  return self
end

function SpatialConvolution:noBias()
  self.bias, self.gradBias = nil, nil
  return self
end

-- Uniform in [-stdv, stdv], stdv = 1/sqrt(kW*kH*nInputPlane/groups) unless given (then
-- stdv*sqrt(3)), Torch7's reset.
function SpatialConvolution:reset(stdv)
  if stdv then stdv = stdv * math.sqrt(3)
  else stdv = 1 / math.sqrt(self.kW * self.kH * self.nInputPlane // self.groups) end
  self.weight:uniform(-stdv, stdv)
  if self.bias then self.bias:uniform(-stdv, stdv) end
  return self
end

-- Errors unless input is (N, C, H, W) or (C, H, W) with C = nInputPlane.
function SpatialConvolution:checkInput(input)
  local d = input:dim()
  if d ~= 3 and d ~= 4 then
    error(('%s: expected an input (N, %d, H, W) or (%d, H, W), got size %s')
          :format(torch.type(self), self.nInputPlane, self.nInputPlane, utils.sizeStr(input)), 0)
  end
  if input:size(d - 2) ~= self.nInputPlane then
    error(('%s: input has %d channels, expected %d'):format(torch.type(self), input:size(d - 2),
          self.nInputPlane), 0)
  end
end

-- Calls an nnops function, naming this module in its error.
function SpatialConvolution:nnop(f, ...)
  local ok, a, b = pcall(f, ...)
  if not ok then error(('%s: %s'):format(torch.type(self), tostring(a)), 0) end
  return a, b
end

-- input (N, C, H, W) -> output (N, F, oH, oW), oH = (H + 2padH - dilH*(kH-1) - 1)/dH + 1
function SpatialConvolution:updateOutput(input)
  self:checkInput(input)
  self:nnop(torch.nnops.conv2d_forward, self.output, input, self.weight, self.bias,
            self.dH, self.dW, self.padH, self.padW, self.dilationH, self.dilationW, self.groups,
            self.finput, nn.autocastFor(self.weight))
  return self.output
end

-- gradOutput (N, F, oH, oW) -> gradInput (N, C, H, W). As Torch7, a first layer may set
-- self.gradInput = nil to skip this (the gradient of the data is rarely needed).
function SpatialConvolution:updateGradInput(input, gradOutput)
  if not self.gradInput then return nil end
  self:checkInput(input)
  self:nnop(torch.nnops.conv2d_backward_input, self.gradInput, input, gradOutput, self.weight,
            self.dH, self.dW, self.padH, self.padW, self.dilationH, self.dilationW, self.groups,
            self.finput, nn.autocastFor(self.weight))
  return self.gradInput
end

-- gradWeight (F, C/G, kH, kW) += scale dL/dweight; gradBias (F) += scale dL/dbias
function SpatialConvolution:accGradParameters(input, gradOutput, scale)
  self:checkInput(input)
  self:nnop(torch.nnops.conv2d_backward_params, self.gradWeight, self.gradBias, input,
            gradOutput, self.dH, self.dW, self.padH, self.padW, self.dilationH, self.dilationW,
            self.groups, scale or 1, self.finput, nn.autocastFor(self.weight))
end

function SpatialConvolution:clearState()
  utils.clear(self, 'finput')
  return parent.clearState(self)
end

-- nn.SpatialConvolution(1 -> 32, 3x3), then ", dW,dH" and ", padW,padH" when not the
-- defaults (Torch7), then our extensions: dilation and groups.
function SpatialConvolution:__tostring__()
  local s = ('%s(%d -> %d, %dx%d'):format(torch.type(self), self.nInputPlane, self.nOutputPlane,
                                          self.kW, self.kH)
  if self.dW ~= 1 or self.dH ~= 1 or self.padW ~= 0 or self.padH ~= 0 then
    s = s .. (', %d,%d'):format(self.dW, self.dH)
  end
  if self.padW ~= 0 or self.padH ~= 0 then s = s .. (', %d,%d'):format(self.padW, self.padH) end
  if self.dilationW ~= 1 or self.dilationH ~= 1 then
    s = s .. (', dilation %d,%d'):format(self.dilationW, self.dilationH)
  end
  if self.groups ~= 1 then s = s .. (', groups %d'):format(self.groups) end
  return s .. (self.bias and ')' or ') without bias')
end

return SpatialConvolution
