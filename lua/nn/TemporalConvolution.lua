-- nn.TemporalConvolution(inputFrameSize, outputFrameSize, kW [, dW = 1]): 1-d convolution
-- over sequences of frames, as Torch7: input (N, T, inputFrameSize) or (T, inputFrameSize)
-- -> output (N, T', outputFrameSize), T' = (T - kW)/dW + 1. weight (outputFrameSize,
-- kW*inputFrameSize) (a window of kW frames, flattened frame by frame), bias
-- (outputFrameSize). Runs as conv2d of a one-plane (T, inputFrameSize) image with a
-- (kW, inputFrameSize) kernel, so the weight is used as it is (a view) and the columns
-- live in self.finput; the output and gradOutput are transposed through buffers. Under
-- nn.autocast('bfloat16') the products read their operands as bfloat16 (nn/cuda.lua).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local TemporalConvolution, parent = nn.class('nn.TemporalConvolution', nn.Module)

local function positive(v) v = math.tointeger(v) return v and v > 0 end

function TemporalConvolution:__init(inputFrameSize, outputFrameSize, kW, dW)
  parent.__init(self)
  dW = dW or 1
  assert(positive(inputFrameSize) and positive(outputFrameSize) and positive(kW) and positive(dW),
         'nn.TemporalConvolution(inputFrameSize, outputFrameSize, kW, dW): positive integers')
  self.inputFrameSize, self.outputFrameSize, self.kW, self.dW = inputFrameSize, outputFrameSize, kW, dW
  self.weight = torch.Tensor(outputFrameSize, inputFrameSize * kW)
  self.gradWeight = torch.zeros(outputFrameSize, inputFrameSize * kW)
  self.bias = torch.Tensor(outputFrameSize)
  self.gradBias = torch.zeros(outputFrameSize)
  self.finput = torch.Tensor()        -- im2col workspace
  self.convOutput = torch.Tensor()    -- (N, F, T', 1)
  self.convGradOutput = torch.Tensor() -- (N, F, T', 1)
  self:reset()
end

-- Uniform in [-stdv, stdv], stdv = 1/sqrt(kW*inputFrameSize) unless given (then
-- stdv*sqrt(3)), Torch7's reset.
function TemporalConvolution:reset(stdv)
  if stdv then stdv = stdv * math.sqrt(3)
  else stdv = 1 / math.sqrt(self.kW * self.inputFrameSize) end
  self.weight:uniform(-stdv, stdv)
  self.bias:uniform(-stdv, stdv)
  return self
end

-- N (1 for a (T, C) input) and T, after checking the input
local function geometry(self, input)
  local d = input:dim()
  if d ~= 2 and d ~= 3 then
    error(('nn.TemporalConvolution: expected an input (N, T, %d) or (T, %d), got size %s')
          :format(self.inputFrameSize, self.inputFrameSize, utils.sizeStr(input)), 0)
  end
  if input:size(d) ~= self.inputFrameSize then
    error(('nn.TemporalConvolution: input has %d features per frame, expected %d')
          :format(input:size(d), self.inputFrameSize), 0)
  end
  if input:size(d - 1) < self.kW then
    error(('nn.TemporalConvolution: input has %d frames, the kernel needs %d')
          :format(input:size(d - 1), self.kW), 0)
  end
  return d == 3 and input:size(1) or 1, input:size(d - 1)
end

-- the input as a batch of one-plane images (N, 1, T, C), and the weight as (F, 1, kW, C)
local function asImages(self, input)
  local n, t = geometry(self, input)
  return input:reshape(n, 1, t, self.inputFrameSize),
         self.weight:view(self.outputFrameSize, 1, self.kW, self.inputFrameSize), n, t
end

local nnop = nn.SpatialConvolution.nnop

-- input (N, T, C) -> output (N, T', F)
function TemporalConvolution:updateOutput(input)
  local x, w, n = asImages(self, input)
  nnop(self, torch.nnops.conv2d_forward, self.convOutput, x, w, self.bias, self.dW, 1, 0, 0, 1,
       1, 1, self.finput, nn.autocastFor(self.weight))
  local t2, f = self.convOutput:size(3), self.outputFrameSize
  local y = self.convOutput:view(n, f, t2):transpose(2, 3)
  if input:dim() == 2 then self.output:resize(t2, f):copy(y[1])
  else self.output:resize(n, t2, f):copy(y) end
  return self.output
end

-- gradOutput (N, T', F) as (N, F, T', 1) in convGradOutput
local function convGradOutput(self, input, gradOutput, n)
  if self.convOutput:dim() ~= 4 or self.convOutput:size(1) ~= n then
    error(('nn.TemporalConvolution: backward called before forward on an input of size %s')
          :format(utils.sizeStr(input)), 0)
  end
  local t2 = self.convOutput:size(3)
  local want = input:dim() == 2 and { t2, self.outputFrameSize } or { n, t2, self.outputFrameSize }
  if table.concat(gradOutput:sizeTable(), 'x') ~= table.concat(want, 'x') then
    error(('nn.TemporalConvolution: gradOutput has size %s, expected %s')
          :format(utils.sizeStr(gradOutput), table.concat(want, 'x')), 0)
  end
  local g = self.convGradOutput:resize(n, self.outputFrameSize, t2, 1)
  if gradOutput:dim() == 2 then g:view(self.outputFrameSize, t2):copy(gradOutput:t())
  else g:view(n, self.outputFrameSize, t2):copy(gradOutput:transpose(2, 3)) end
  return g
end

-- gradOutput (N, T', F) -> gradInput (N, T, C)
function TemporalConvolution:updateGradInput(input, gradOutput)
  local x, w, n = asImages(self, input)
  local g = convGradOutput(self, input, gradOutput, n)
  nnop(self, torch.nnops.conv2d_backward_input, self.gradInput, x, g, w, self.dW, 1, 0, 0, 1, 1,
       1, self.finput, nn.autocastFor(self.weight))
  self.gradInput:resize(input:size())
  return self.gradInput
end

-- gradWeight (F, kW*C) += scale dL/dweight; gradBias (F) += scale dL/dbias
function TemporalConvolution:accGradParameters(input, gradOutput, scale)
  local x, _, n = asImages(self, input)
  local g = convGradOutput(self, input, gradOutput, n)
  local gw = self.gradWeight:view(self.outputFrameSize, 1, self.kW, self.inputFrameSize)
  nnop(self, torch.nnops.conv2d_backward_params, gw, self.gradBias, x, g, self.dW, 1, 0, 0, 1,
       1, 1, scale or 1, self.finput, nn.autocastFor(self.weight))
end

function TemporalConvolution:clearState()
  utils.clear(self, 'finput', 'convOutput', 'convGradOutput')
  return parent.clearState(self)
end

-- nn.TemporalConvolution(16 -> 32, 3) or, with a stride, nn.TemporalConvolution(16 -> 32, 3, 2)
function TemporalConvolution:__tostring__()
  local s = ('%s(%d -> %d, %d'):format(torch.type(self), self.inputFrameSize,
                                       self.outputFrameSize, self.kW)
  if self.dW ~= 1 then s = s .. (', %d'):format(self.dW) end
  return s .. ')'
end

return TemporalConvolution
