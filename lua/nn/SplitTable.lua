-- nn.SplitTable(dim [, nInputDims]): a tensor cut along dim into the table of its
-- slices (views, one dimension fewer). With nInputDims, an input with one more
-- dimension is a batch and dim counts from its second dimension; a negative dim
-- counts from the end (Torch7's SplitTable).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SplitTable, parent = nn.class('nn.SplitTable', nn.Module)

function SplitTable:__init(dim, nInputDims)
  parent.__init(self)
  self.dimension = math.tointeger(dim)
  assert(self.dimension and self.dimension ~= 0,
         'nn.SplitTable(dim): dim must be a nonzero integer')
  self.nInputDims = nInputDims
  self.output = {}
end

-- The positive dim to split along for this input.
local function splitDim(self, input)
  local n, d = input:dim(), self.dimension
  if d < 0 then d = n + d + 1
  elseif self.nInputDims and n == self.nInputDims + 1 then d = d + 1 end
  if n < 2 or d < 1 or d > n then
    error(('nn.SplitTable: cannot split an input of size %s along dimension %d (slices need at '
           .. 'least one dimension)'):format(utils.sizeStr(input), d), 0)
  end
  return d
end

-- input (.., k, ..) -> output {k slices (.., ..)}, views of the input
function SplitTable:updateOutput(input)
  local d = splitDim(self, input)
  for i = 1, input:size(d) do self.output[i] = input:select(d, i) end
  for i = #self.output, input:size(d) + 1, -1 do self.output[i] = nil end
  return self.output
end

-- gradOutput {k slices} -> gradInput (like input); a missing slice counts as zeros
function SplitTable:updateGradInput(input, gradOutput)
  local d = splitDim(self, input)
  if type(gradOutput) ~= 'table' or torch.isTensor(gradOutput) then
    error(('nn.SplitTable: gradOutput must be a table of %d slices, got %s')
          :format(input:size(d), torch.type(gradOutput)), 0)
  end
  self.gradInput:resizeAs(input):zero()
  for i = 1, input:size(d) do
    local g = gradOutput[i]
    if g then
      utils.checkSameSize(self, 'gradOutput[' .. i .. ']', g, self.output[i])
      self.gradInput:select(d, i):copy(g)
    end
  end
  return self.gradInput
end

-- the slices are views of the input: drop them instead of emptying them
function SplitTable:clearState() return utils.drop(utils.clear(self, 'gradInput'), 'output') end

-- nn.SplitTable(2) or nn.SplitTable(2, 3)
function SplitTable:__tostring__()
  local n = self.nInputDims
  return ('nn.SplitTable(%d%s)'):format(self.dimension, n and ', ' .. n or '')
end

return SplitTable
