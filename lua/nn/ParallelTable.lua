-- nn.ParallelTable: child i is applied to entry i of the input table; the output is
-- the table of their outputs (Torch7's ParallelTable).
local torch = require 'torch'
local nn = require 'nn'

local ParallelTable, parent = nn.class('nn.ParallelTable', nn.Container)

function ParallelTable:__init()
  parent.__init(self)
  self.output, self.gradInput = {}, {}
end

-- Errors unless t is a table with one entry per child.
local function checkTable(self, what, t)
  if type(t) ~= 'table' or torch.isTensor(t) or #t ~= #self.modules then
    error(('%s: %s must be a table of %d entries (one per child), got %s'):format(torch.type(self),
          what, #self.modules, type(t) == 'table' and not torch.isTensor(t) and (#t .. ' entries')
          or torch.type(t)), 0)
  end
end

-- input {x1, x2, ...} -> output {child 1(x1), child 2(x2), ...}
function ParallelTable:updateOutput(input)
  checkTable(self, 'input', input)
  for i, m in ipairs(self.modules) do
    self.output[i] = self:rethrowErrors(m, i, 'updateOutput', input[i])
  end
  for i = #self.output, #self.modules + 1, -1 do self.output[i] = nil end
  return self.output
end

-- Runs fname on every child with its entries of input and gradOutput; the gradInput
-- table holds the children's gradInputs.
local function backwards(self, fname, input, gradOutput, scale)
  checkTable(self, 'input', input)
  checkTable(self, 'gradOutput', gradOutput)
  for i, m in ipairs(self.modules) do
    self.gradInput[i] = self:rethrowErrors(m, i, fname, input[i], gradOutput[i], scale)
  end
  for i = #self.gradInput, #self.modules + 1, -1 do self.gradInput[i] = nil end
  return self.gradInput
end

-- gradOutput {g1, g2, ...} -> gradInput {dx1, dx2, ...}
function ParallelTable:updateGradInput(input, gradOutput)
  return backwards(self, 'updateGradInput', input, gradOutput)
end

function ParallelTable:backward(input, gradOutput, scale)
  return backwards(self, 'backward', input, gradOutput, scale or 1)
end

function ParallelTable:accGradParameters(input, gradOutput, scale)
  checkTable(self, 'input', input)
  checkTable(self, 'gradOutput', gradOutput)
  for i, m in ipairs(self.modules) do
    self:rethrowErrors(m, i, 'accGradParameters', input[i], gradOutput[i], scale or 1)
  end
end

ParallelTable.__tostring__ = require('nn.ConcatTable').__tostring__

return ParallelTable
