-- nn.Bilinear(inputSize1, inputSize2, outputSize [, bias = true]): Torch7's bilinear map of
-- an input table {x1, x2}: y_k = x1^T W_k x2 + b_k. weight (out, in1, in2), bias (out);
-- x1 (N, in1) and x2 (N, in2), or vectors (in1) and (in2). Every pass is a few matrix
-- products over all k at once.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Bilinear, parent = nn.class('nn.Bilinear', nn.Module)

function Bilinear:__init(inputSize1, inputSize2, outputSize, bias)
  parent.__init(self)
  local n1, n2, nOut = math.tointeger(inputSize1), math.tointeger(inputSize2),
                       math.tointeger(outputSize)
  assert(n1 and n2 and nOut and n1 > 0 and n2 > 0 and nOut > 0,
         'nn.Bilinear(inputSize1, inputSize2, outputSize): sizes must be positive integers')
  self.weight = torch.Tensor(nOut, n1, n2)
  self.gradWeight = torch.zeros(nOut, n1, n2)
  if bias ~= false then
    self.bias = torch.Tensor(nOut)
    self.gradBias = torch.zeros(nOut)
  end
  self.gradInput = { torch.Tensor(), torch.Tensor() }
  self:reset()
end

-- Uniform in [-stdv, stdv], stdv = 1/sqrt(inputSize1) unless given (Torch7's reset).
function Bilinear:reset(stdv)
  stdv = stdv or 1 / math.sqrt(self.weight:size(2))
  self.weight:uniform(-stdv, stdv)
  if self.bias then self.bias:uniform(-stdv, stdv) end
  return self
end

-- The inputs as batches x1 (N, in1), x2 (N, in2), checked.
local function batch(self, input)
  if type(input) ~= 'table' or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
    error('nn.Bilinear: input must be a table {x1, x2} of two tensors', 0)
  end
  local x1, x2 = input[1], input[2]
  local _, n1, n2 = table.unpack(self.weight:sizeTable())
  local d = x1:dim()
  local ok = (d == 1 or d == 2) and x2:dim() == d and x1:size(d) == n1 and x2:size(d) == n2
             and (d == 1 or x1:size(1) == x2:size(1))
  if not ok then
    error(('nn.Bilinear: inputs have sizes %s and %s, expected (N, %d) and (N, %d)')
          :format(utils.sizeStr(x1), utils.sizeStr(x2), n1, n2), 0)
  end
  if d == 1 then return x1:view(1, n1), x2:view(1, n2) end
  return x1, x2
end

-- gradOutput as a batch (N, out), checked against the input
local function batchGrad(self, input, x1, gradOutput)
  local nOut = self.weight:size(1)
  local ok = gradOutput:nElement() == x1:size(1) * nOut and gradOutput:dim() == input[1]:dim()
  if not ok then
    error(('nn.Bilinear: gradOutput has size %s, expected %s'):format(utils.sizeStr(gradOutput),
          input[1]:dim() == 1 and tostring(nOut) or ('%dx%d'):format(x1:size(1), nOut)), 0)
  end
  return gradOutput:contiguous():view(x1:size(1), nOut)
end

-- x1^T W_k for every k: (N, out, in2)
local function leftProducts(self, x1)
  local nOut, n1, n2 = table.unpack(self.weight:sizeTable())
  local w = self.weight:permute(2, 1, 3):contiguous():view(n1, nOut * n2)
  return torch.mm(x1, w):view(x1:size(1), nOut, n2)
end

-- {x1 (N, in1), x2 (N, in2)} -> output (N, out); vectors -> (out)
function Bilinear:updateOutput(input)
  local x1, x2 = batch(self, input)
  local n, nOut = x1:size(1), self.weight:size(1)
  local y = torch.bmm(leftProducts(self, x1), x2:contiguous():view(n, x2:size(2), 1)):view(n, nOut)
  if self.bias then y:add(self.bias:view(1, nOut):expand(n, nOut)) end
  self.output:resize(input[1]:dim() == 1 and { nOut } or { n, nOut }):copy(y:viewAs(self.output))
  return self.output
end

-- gradOutput (N, out) -> gradInput {g1 = sum_k g_k W_k x2 (N, in1), g2 = sum_k g_k W_k^T x1 (N, in2)}
function Bilinear:updateGradInput(input, gradOutput)
  local x1, x2 = batch(self, input)
  local g = batchGrad(self, input, x1, gradOutput)
  local n, nOut, n1, n2 = x1:size(1), table.unpack(self.weight:sizeTable())
  local gRow = g:view(n, 1, nOut)
  local right = torch.mm(x2, self.weight:view(nOut * n1, n2):t()):view(n, nOut, n1)   -- W_k x2
  local g1 = torch.bmm(gRow, right):view(n, n1)
  local g2 = torch.bmm(gRow, leftProducts(self, x1)):view(n, n2)
  self.gradInput[1]:resizeAs(input[1]):copy(g1:viewAs(input[1]))
  self.gradInput[2]:resizeAs(input[2]):copy(g2:viewAs(input[2]))
  return self.gradInput
end

-- gradWeight_k (in1, in2) += scale sum_N g_k x1 x2^T; gradBias (out) += scale sum_N g
function Bilinear:accGradParameters(input, gradOutput, scale)
  local x1, x2 = batch(self, input)
  local g = batchGrad(self, input, x1, gradOutput)
  scale = scale or 1
  local n, nOut, n1, n2 = x1:size(1), table.unpack(self.weight:sizeTable())
  local gx1 = torch.cmul(g:view(n, nOut, 1):expand(n, nOut, n1), x1:view(n, 1, n1):expand(n, nOut, n1))
  self.gradWeight:view(nOut * n1, n2):addmm(scale, gx1:view(n, nOut * n1):t(), x2)
  if self.bias then self.gradBias:add(scale, g:sum(1):view(nOut)) end
end

function Bilinear:clearState()
  utils.clear(self, 'output')
  self.gradInput = { torch.Tensor(), torch.Tensor() }
  return self
end

-- nn.Bilinear(3, 4 -> 5), or nn.Bilinear(3, 4 -> 5) without bias
function Bilinear:__tostring__()
  local nOut, n1, n2 = table.unpack(self.weight:sizeTable())
  return ('%s(%d, %d -> %d)%s'):format(torch.type(self), n1, n2, nOut,
                                       self.bias and '' or ' without bias')
end

return Bilinear
