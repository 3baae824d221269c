-- nn.Transpose({d1, d2}, {d3, d4}, ...): swaps each pair of dimensions in turn (Torch7's
-- Transpose). setNumInputDims(n) shifts the dims past leading batch dimensions.
-- The output is a contiguous copy, as in Torch7.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Transpose, parent = nn.class('nn.Transpose', nn.Module)

function Transpose:__init(...)
  parent.__init(self)
  self.permutations = { ... }
  for _, p in ipairs(self.permutations) do
    assert(type(p) == 'table' and math.tointeger(p[1]) and math.tointeger(p[2]),
           'nn.Transpose({d1, d2}, ...): each argument is a pair of dimensions')
  end
end

-- One sample has the last n dimensions of the input; dims count from the first of them.
function Transpose:setNumInputDims(n)
  self.numInputDims = n
  return self
end

-- x with the pairs swapped, in order (forward) or in reverse order (backward)
local function swap(self, x, reverse)
  local offset = self.numInputDims and math.max(x:dim() - self.numInputDims, 0) or 0
  local perms, n = self.permutations, #self.permutations
  for i = 1, n do
    local p = perms[reverse and n + 1 - i or i]
    local a, b = p[1] + offset, p[2] + offset
    if a < 1 or b < 1 or a > x:dim() or b > x:dim() then
      error(('nn.Transpose: cannot swap dimensions %d and %d of an input of size %s')
            :format(a, b, utils.sizeStr(x)), 0)
    end
    x = x:transpose(a, b)
  end
  return x
end

-- input (.., a, .., b, ..) -> output (.., b, .., a, ..) for each pair {a, b}
function Transpose:updateOutput(input)
  local y = swap(self, input, false)
  self.output:resizeAs(y):copy(y)
  return self.output
end

-- gradOutput (like output) -> gradInput (like input): the pairs swapped back
function Transpose:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  local g = swap(self, gradOutput, true)
  self.gradInput:resizeAs(g):copy(g)
  return self.gradInput
end

-- nn.Transpose({1, 2}, {2, 3})
function Transpose:__tostring__()
  local pairs_ = {}
  for i, p in ipairs(self.permutations) do pairs_[i] = ('{%d, %d}'):format(p[1], p[2]) end
  return ('%s(%s)'):format(torch.type(self), table.concat(pairs_, ', '))
end

return Transpose
