-- nn.SpatialFullConvolution(nInputPlane, nOutputPlane, kW, kH [, dW = 1, dH = 1, padW = 0,
-- padH = 0, adjW = 0, adjH = 0]): the transposed convolution (the adjoint of
-- SpatialConvolution; "deconvolution"), as Torch7. weight (nInputPlane, nOutputPlane, kH,
-- kW), bias (nOutputPlane). oW = (W - 1)*dW - 2padW + kW + adjW; adjW < dW.
-- Dilation: the fields dilationW, dilationH (default 1; our extension), then adj < dW or
-- dilationW. Torch7's {input, target} table form is not supported: give adjW, adjH.
-- Kernels: torch.nnops.conv_transpose2d_*; the columns live in self.finput. Under
-- nn.autocast('bfloat16') the products read their operands as bfloat16 (nn/cuda.lua).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SpatialFullConvolution, parent = nn.class('nn.SpatialFullConvolution', nn.Module)

local function positive(v) v = math.tointeger(v) return v and v > 0 end
local function nonNegative(v) v = math.tointeger(v) return v and v >= 0 end

function SpatialFullConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH,
                                       adjW, adjH)
  parent.__init(self)
  local name = torch.type(self)
  dW, dH, padW, padH, adjW, adjH = dW or 1, dH or 1, padW or 0, padH or 0, adjW or 0, adjH or 0
  assert(positive(nInputPlane) and positive(nOutputPlane) and positive(kW) and positive(kH),
         name .. '(nInputPlane, nOutputPlane, kW, kH): sizes must be positive integers')
  assert(positive(dW) and positive(dH) and nonNegative(padW) and nonNegative(padH),
         name .. ': strides must be positive and paddings non-negative integers')
  assert(nonNegative(adjW) and nonNegative(adjH) and adjW < dW and adjH < dH,
         name .. ': adjW and adjH must be smaller than dW and dH')
  self.nInputPlane, self.nOutputPlane = nInputPlane, nOutputPlane
  self.kW, self.kH, self.dW, self.dH = kW, kH, dW, dH
  self.padW, self.padH, self.adjW, self.adjH = padW, padH, adjW, adjH
  self.dilationW, self.dilationH = 1, 1
  self.weight = torch.Tensor(nInputPlane, nOutputPlane, kH, kW)
  self.gradWeight = torch.zeros(nInputPlane, nOutputPlane, kH, kW)
  self.bias = torch.Tensor(nOutputPlane)
  self.gradBias = torch.zeros(nOutputPlane)
  self.finput = torch.Tensor()   -- col2im workspace
  self:reset()
end

function SpatialFullConvolution:noBias()
  self.bias, self.gradBias = nil, nil
  return self
end

-- Uniform in [-stdv, stdv], stdv = 1/sqrt(kW*kH*nInputPlane) unless given (then
-- stdv*sqrt(3)), Torch7's reset.
function SpatialFullConvolution:reset(stdv)
  if stdv then stdv = stdv * math.sqrt(3)
  else stdv = 1 / math.sqrt(self.kW * self.kH * self.nInputPlane) end
  self.weight:uniform(-stdv, stdv)
  if self.bias then self.bias:uniform(-stdv, stdv) end
  return self
end

SpatialFullConvolution.checkInput = nn.SpatialConvolution.checkInput
SpatialFullConvolution.nnop = nn.SpatialConvolution.nnop

-- input (N, C, H, W) -> output (N, F, oH, oW), oH = (H-1)*dH - 2padH + dilH*(kH-1) + adjH + 1
function SpatialFullConvolution:updateOutput(input)
  self:checkInput(input)
  self:nnop(torch.nnops.conv_transpose2d_forward, self.output, input, self.weight, self.bias,
            self.dH, self.dW, self.padH, self.padW, self.dilationH, self.dilationW, self.adjH,
            self.adjW, 1, self.finput, nn.autocastFor(self.weight))
  return self.output
end

-- gradOutput (N, F, oH, oW) -> gradInput (N, C, H, W)
function SpatialFullConvolution:updateGradInput(input, gradOutput)
  self:checkInput(input)
  self:nnop(torch.nnops.conv_transpose2d_backward_input, self.gradInput, input, gradOutput,
            self.weight, self.dH, self.dW, self.padH, self.padW, self.dilationH, self.dilationW,
            self.adjH, self.adjW, 1, self.finput, nn.autocastFor(self.weight))
  return self.gradInput
end

-- gradWeight (C, F, kH, kW) += scale dL/dweight; gradBias (F) += scale dL/dbias
function SpatialFullConvolution:accGradParameters(input, gradOutput, scale)
  self:checkInput(input)
  self:nnop(torch.nnops.conv_transpose2d_backward_params, self.gradWeight, self.gradBias, input,
            gradOutput, self.dH, self.dW, self.padH, self.padW, self.dilationH, self.dilationW,
            self.adjH, self.adjW, 1, scale or 1, self.finput, nn.autocastFor(self.weight))
end

function SpatialFullConvolution:clearState()
  utils.clear(self, 'finput')
  return parent.clearState(self)
end

-- nn.SpatialFullConvolution(16 -> 8, 3x3, 2,2, 1,1, 1,1), as Torch7
function SpatialFullConvolution:__tostring__()
  local s = ('%s(%d -> %d, %dx%d'):format(torch.type(self), self.nInputPlane, self.nOutputPlane,
                                          self.kW, self.kH)
  if self.dW ~= 1 or self.dH ~= 1 or self.padW ~= 0 or self.padH ~= 0 then
    s = s .. (', %d,%d'):format(self.dW, self.dH)
  end
  if self.padW ~= 0 or self.padH ~= 0 then s = s .. (', %d,%d'):format(self.padW, self.padH) end
  if self.adjW ~= 0 or self.adjH ~= 0 then s = s .. (', %d,%d'):format(self.adjW, self.adjH) end
  return s .. (self.bias and ')' or ') without bias')
end

return SpatialFullConvolution
