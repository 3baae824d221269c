-- nn.Concat(dim): every child gets the same input; their outputs are joined along dim
-- (Torch7's Concat). gradOutput is cut back along dim, one slice per child.
local torch = require 'torch'
local nn = require 'nn'
local ConcatTable = require 'nn.ConcatTable'

local Concat, parent = nn.class('nn.Concat', nn.Container)

function Concat:__init(dim)
  parent.__init(self)
  self.dimension = math.tointeger(dim)
  assert(self.dimension and self.dimension >= 1, 'nn.Concat(dim): dim must be a positive integer')
end

-- input (any) -> output: the children's outputs joined along dim
function Concat:updateOutput(input)
  local outputs = {}
  for i, m in ipairs(self.modules) do
    outputs[i] = self:rethrowErrors(m, i, 'updateOutput', input)
  end
  local ok, err = pcall(torch.cat, self.output, outputs, self.dimension)
  if not ok then error('nn.Concat: cannot join the outputs of its children: ' .. err, 0) end
  return self.output
end

-- child i's slice of gradOutput along dim (as large as its output)
local function slices(self, gradOutput)
  nn.utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  local out, offset = {}, 1
  for i, m in ipairs(self.modules) do
    local size = m.output:size(self.dimension)
    out[i] = gradOutput:narrow(self.dimension, offset, size)
    offset = offset + size
  end
  return out
end

-- Runs fname ('updateGradInput' or 'backward') on every child with its slice of
-- gradOutput and sums their gradInputs.
local function backwards(self, fname, input, gradOutput, scale)
  for i, g in ipairs(slices(self, gradOutput)) do
    local gi = self:rethrowErrors(self.modules[i], i, fname, input, g, scale)
    self.gradInput = ConcatTable.accumulate(self.gradInput, gi, i == 1)
  end
  return self.gradInput
end

-- gradOutput (like output) -> gradInput (like input) = sum_i child i's gradInput
function Concat:updateGradInput(input, gradOutput)
  return backwards(self, 'updateGradInput', input, gradOutput)
end

function Concat:backward(input, gradOutput, scale)
  return backwards(self, 'backward', input, gradOutput, scale or 1)
end

function Concat:accGradParameters(input, gradOutput, scale)
  for i, g in ipairs(slices(self, gradOutput)) do
    self:rethrowErrors(self.modules[i], i, 'accGradParameters', input, g, scale or 1)
  end
end

Concat.__tostring__ = ConcatTable.__tostring__

return Concat
