-- nn.ConcatTable: every child gets the same input; the output is the table of their
-- outputs. gradInput is the sum of the children's gradInputs (Torch7's ConcatTable).
local torch = require 'torch'
local nn = require 'nn'

local ConcatTable, parent = nn.class('nn.ConcatTable', nn.Container)

function ConcatTable:__init()
  parent.__init(self)
  self.output = {}
end

-- acc := x (when first) or acc + x, for a tensor or a nested table of tensors; acc is
-- reused when it has x's dtype and structure. Returns acc. Shared by nn.Concat and nn.Graph.
function ConcatTable.accumulate(acc, x, first)
  if torch.isTensor(x) then
    if not torch.isTensor(acc) or acc:dtype() ~= x:dtype() then acc = torch.new(x:dtype()) end
    if first then acc:resizeAs(x):copy(x) else acc:add(x) end
    return acc
  end
  if type(acc) ~= 'table' or torch.isTensor(acc) then acc = {} end
  for k, v in pairs(x) do acc[k] = ConcatTable.accumulate(acc[k], v, first) end
  if first then
    for k in pairs(acc) do if x[k] == nil then acc[k] = nil end end
  end
  return acc
end

-- input (any) -> output {child 1's output, child 2's output, ...}
function ConcatTable:updateOutput(input)
  for i, m in ipairs(self.modules) do
    self.output[i] = self:rethrowErrors(m, i, 'updateOutput', input)
  end
  for i = #self.output, #self.modules + 1, -1 do self.output[i] = nil end
  return self.output
end

local function checkGradOutput(self, gradOutput)
  local isTable = type(gradOutput) == 'table' and not torch.isTensor(gradOutput)
  if not isTable or #gradOutput ~= #self.modules then
    local got = isTable and #gradOutput .. ' entries' or torch.isTensor(gradOutput) and 'a tensor'
                or type(gradOutput)
    error(('%s: gradOutput must be a table of %d entries (one per child), got %s')
          :format(torch.type(self), #self.modules, got), 0)
  end
end

-- Runs fname ('updateGradInput' or 'backward') on every child and sums the gradInputs.
local function backwards(self, fname, input, gradOutput, scale)
  checkGradOutput(self, gradOutput)
  for i, m in ipairs(self.modules) do
    local g = self:rethrowErrors(m, i, fname, input, gradOutput[i], scale)
    self.gradInput = ConcatTable.accumulate(self.gradInput, g, i == 1)
  end
  return self.gradInput
end

-- gradOutput {g1, g2, ...} -> gradInput (like input) = sum_i child i's gradInput
function ConcatTable:updateGradInput(input, gradOutput)
  return backwards(self, 'updateGradInput', input, gradOutput)
end

function ConcatTable:backward(input, gradOutput, scale)
  return backwards(self, 'backward', input, gradOutput, scale or 1)
end

function ConcatTable:accGradParameters(input, gradOutput, scale)
  checkGradOutput(self, gradOutput)
  for i, m in ipairs(self.modules) do
    self:rethrowErrors(m, i, 'accGradParameters', input, gradOutput[i], scale or 1)
  end
end

-- The branching layout Torch7 prints for ConcatTable, Concat and ParallelTable:
-- nn.ConcatTable {
--   input
--     |`-> (1): nn.Linear(2 -> 3)
--      `-> (2): nn.Identity
--      ... -> output
-- }
function ConcatTable:__tostring__()
  local lines = { torch.type(self) .. ' {', '  input' }
  for i, m in ipairs(self.modules) do
    local last = i == #self.modules
    local body = tostring(m):gsub('\n', last and '\n         ' or '\n    |    ')
    lines[#lines + 1] = ('    %s`-> (%d): %s'):format(last and ' ' or '|', i, body)
  end
  lines[#lines + 1] = '     ... -> output'
  lines[#lines + 1] = '}'
  return table.concat(lines, '\n')
end

return ConcatTable
