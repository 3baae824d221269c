-- nn.Linear(inputSize, outputSize [, bias = true]): y = x W^T + b.
-- weight (out, in), bias (out), as Torch7; input (N, in) or (in). Under
-- nn.autocast('bfloat16') the three products read their operands as bfloat16 (nn/cuda.lua).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Linear, parent = nn.class('nn.Linear', nn.Module)

function Linear:__init(inputSize, outputSize, bias)
  parent.__init(self)
  inputSize, outputSize = math.tointeger(inputSize), math.tointeger(outputSize)
  assert(inputSize and outputSize and inputSize > 0 and outputSize > 0,
         'nn.Linear(inputSize, outputSize): sizes must be positive integers')
  self.weight = torch.Tensor(outputSize, inputSize)
  self.gradWeight = torch.zeros(outputSize, inputSize)
  if bias ~= false then
    self.bias = torch.Tensor(outputSize)
    self.gradBias = torch.zeros(outputSize)
  end
  self:reset()
end

function Linear:noBias()
  self.bias, self.gradBias = nil, nil
  return self
end

-- Uniform in [-stdv, stdv], stdv = 1/sqrt(inputSize) unless given (Torch7's reset).
function Linear:reset(stdv)
  stdv = stdv or 1 / math.sqrt(self.weight:size(2))
  self.weight:uniform(-stdv, stdv)
  if self.bias then self.bias:uniform(-stdv, stdv) end
  return self
end

local function checkInput(self, input)
  local d = input:dim()
  if d ~= 1 and d ~= 2 then
    error(('nn.Linear: expected a vector or a matrix (N, %d), got size %s')
          :format(self.weight:size(2), utils.sizeStr(input)), 0)
  end
  if input:size(d) ~= self.weight:size(2) then
    error(('nn.Linear: input has %d features, expected %d'):format(input:size(d), self.weight:size(2)), 0)
  end
end

local function checkGradOutput(self, input, gradOutput)
  local n = self.weight:size(1)
  local ok = gradOutput:dim() == input:dim() and gradOutput:size(input:dim()) == n
             and (input:dim() == 1 or gradOutput:size(1) == input:size(1))
  if not ok then
    error(('nn.Linear: gradOutput has size %s, expected %s'):format(utils.sizeStr(gradOutput),
          input:dim() == 1 and tostring(n) or ('%dx%d'):format(input:size(1), n)), 0)
  end
end

local linear, matmul, linearAccGrad, addr, add = torch.linear, torch.matmul,
  torch.linearAccGrad, torch.addr, torch.add

-- The shape checks run only when a call fails, to replace the core's message by one
-- naming the module (a correct call pays one pcall, not a dozen size queries).
local function rethrow(self, input, gradOutput, err)
  checkInput(self, input)
  if gradOutput then checkGradOutput(self, input, gradOutput) end
  error(err, 0)
end

-- input (N, in) -> output (N, out); input (in) -> output (out)
function Linear:updateOutput(input)
  local ok, err = pcall(linear, self.output, input, self.weight, self.bias,
                        nn.autocastFor(self.weight))
  if not ok then rethrow(self, input, nil, err) end
  return self.output
end

-- gradOutput (N, out) -> gradInput (N, in) = gradOutput W; (out) -> (in) = W^T gradOutput.
-- As for Torch7's convolutions, a first layer may set self.gradInput = nil to skip this
-- (the gradient of the data is rarely needed; PyTorch skips it for inputs that do not
-- require gradients).
local function gradInput(self, input, gradOutput)
  if not self.gradInput then return end
  local gi = matmul(self.gradInput, gradOutput, self.weight, nn.autocastFor(self.weight))
  if not gi:isSameSizeAs(input) then error('nn.Linear: gradOutput does not match the input', 0) end
end

function Linear:updateGradInput(input, gradOutput)
  local ok, err = pcall(gradInput, self, input, gradOutput)
  if not ok then rethrow(self, input, gradOutput, err) end
  return self.gradInput
end

-- gradWeight (out, in) += scale gradOutput^T input; gradBias (out) += scale sum_N gradOutput
local function accGrad(self, input, gradOutput, scale)
  local gw, gb = self.gradWeight, self.gradBias
  local precision = nn.autocastFor(self.weight)
  if input:dim() == 1 then
    addr(gw, 1, gw, scale, gradOutput, input, precision)
    if gb then add(gb, gb, scale, gradOutput) end
  else                                   -- one C call, no transposed view per step
    linearAccGrad(gw, gb, input, gradOutput, gb and self:onesBuffer(input:size(1)), scale,
                  precision)
  end
end

function Linear:accGradParameters(input, gradOutput, scale)
  local ok, err = pcall(accGrad, self, input, gradOutput, scale or 1)
  if not ok then rethrow(self, input, gradOutput, err) end
end

-- updateGradInput then accGradParameters, under one pcall
local function backward(self, input, gradOutput, scale)
  gradInput(self, input, gradOutput)
  accGrad(self, input, gradOutput, scale)
end

function Linear:backward(input, gradOutput, scale)
  local ok, err = pcall(backward, self, input, gradOutput, scale or 1)
  if not ok then rethrow(self, input, gradOutput, err) end
  return self.gradInput
end

-- A vector of n ones (N, kept between calls)
function Linear:onesBuffer(n)
  local b = self.addBuffer
  if not b or self.addBufferN ~= n then   -- type() converts addBuffer with the weights
    b = torch.ones(n, self.weight:dtype())
    self.addBuffer, self.addBufferN = b, n
  end
  return b
end

function Linear:clearState()
  self.addBuffer = nil
  return parent.clearState(self)
end

-- nn.Linear(784 -> 512), or nn.Linear(784 -> 512) without bias
function Linear:__tostring__()
  return ('%s(%d -> %d)%s'):format(torch.type(self), self.weight:size(2), self.weight:size(1),
                                   self.bias and '' or ' without bias')
end

return Linear
