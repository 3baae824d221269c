-- nn.Linear(inputSize, outputSize [, bias = true]): y = x W^T + b.
-- weight (out, in), bias (out), as Torch7; input (N, in) or (in).
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

-- input (N, in) -> output (N, out); input (in) -> output (out)
function Linear:updateOutput(input)
  checkInput(self, input)
  local nOut = self.weight:size(1)
  if input:dim() == 1 then
    self.output:resize(nOut)
    if self.bias then self.output:copy(self.bias) else self.output:zero() end
    self.output:addmv(1, self.weight, input)
  else
    local n = input:size(1)
    self.output:resize(n, nOut)
    if self.bias then self.output:copy(self.bias:view(1, nOut):expand(n, nOut))
    else self.output:zero() end
    self.output:addmm(1, input, self.weight:t())
  end
  return self.output
end

-- gradOutput (N, out) -> gradInput (N, in) = gradOutput W
function Linear:updateGradInput(input, gradOutput)
  checkInput(self, input)
  checkGradOutput(self, input, gradOutput)
  self.gradInput:resizeAs(input)
  if input:dim() == 1 then
    self.gradInput:addmv(0, 1, self.weight:t(), gradOutput)
  else
    self.gradInput:addmm(0, 1, gradOutput, self.weight)
  end
  return self.gradInput
end

-- gradWeight (out, in) += scale gradOutput^T input; gradBias (out) += scale sum_N gradOutput
function Linear:accGradParameters(input, gradOutput, scale)
  checkInput(self, input)
  checkGradOutput(self, input, gradOutput)
  scale = scale or 1
  if input:dim() == 1 then
    self.gradWeight:addr(scale, gradOutput, input)
    if self.bias then self.gradBias:add(scale, gradOutput) end
  else
    self.gradWeight:addmm(scale, gradOutput:t(), input)
    if self.bias then self.gradBias:addmv(scale, gradOutput:t(), self:onesBuffer(input:size(1))) end
  end
end

-- A vector of n ones (N, kept between calls)
function Linear:onesBuffer(n)
  local b = self.addBuffer
  if not b or b:nElement() ~= n or b:dtype() ~= self.weight:dtype() then
    b = torch.ones(n, self.weight:dtype())
    self.addBuffer = b
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
