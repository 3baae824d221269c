-- nn.JoinTable(dim [, nInputDims]): a table of tensors joined along dim into one tensor
-- (Torch7's JoinTable). With nInputDims, inputs with one more dimension are batches
-- and dim counts from their second dimension; a negative dim counts from the end.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local JoinTable, parent = nn.class('nn.JoinTable', nn.Module)

function JoinTable:__init(dim, nInputDims)
  parent.__init(self)
  self.dimension = math.tointeger(dim)
  assert(self.dimension and self.dimension ~= 0, 'nn.JoinTable(dim): dim must be a nonzero integer')
  self.nInputDims = nInputDims
  self.gradInput = {}
end

-- The positive dim to join along for this input table.
local function joinDim(self, input)
  if type(input) ~= 'table' or torch.isTensor(input) or #input == 0 then
    error(('nn.JoinTable: expected a non-empty table of tensors, got %s'):format(
          torch.isTensor(input) and 'a tensor of size ' .. utils.sizeStr(input) or type(input)), 0)
  end
  local n, d = input[1]:dim(), self.dimension
  if d < 0 then return n + d + 1 end
  if self.nInputDims and n == self.nInputDims + 1 then return d + 1 end
  return d
end

-- input {(.., a, ..), (.., b, ..), ...} -> output (.., a + b + ..., ..)
function JoinTable:updateOutput(input)
  local d = joinDim(self, input)
  local ok, err = pcall(torch.cat, self.output, input, d)
  if not ok then error('nn.JoinTable: ' .. err, 0) end
  return self.output
end

-- gradOutput (like output) -> gradInput {slice of gradOutput like input[i], ...}
function JoinTable:updateGradInput(input, gradOutput)
  local d = joinDim(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  local offset = 1
  for i, x in ipairs(input) do
    local g = self.gradInput[i]
    if not g or g:dtype() ~= x:dtype() then g = torch.new(x:dtype()) end
    self.gradInput[i] = g:resizeAs(x):copy(gradOutput:narrow(d, offset, x:size(d)))
    offset = offset + x:size(d)
  end
  for i = #self.gradInput, #input + 1, -1 do self.gradInput[i] = nil end
  return self.gradInput
end

-- nn.JoinTable(2) or nn.JoinTable(2, 3)
function JoinTable:__tostring__()
  local n = self.nInputDims
  return ('nn.JoinTable(%d%s)'):format(self.dimension, n and ', ' .. n or '')
end

return JoinTable
