-- nn.Select(dim, index): the slice at index along dim, which disappears (Torch7's
-- Select). Negative dim and index count from the end (-1 is the last).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Select, parent = nn.class('nn.Select', nn.Module)

function Select:__init(dim, index)
  parent.__init(self)
  self.dimension, self.index = math.tointeger(dim), math.tointeger(index)
  assert(self.dimension and self.index and self.dimension ~= 0 and self.index ~= 0,
         'nn.Select(dim, index): nonzero integers expected')
end

-- The positive dim and index for this input.
local function position(self, input)
  local n = input:dim()
  local d = self.dimension < 0 and n + self.dimension + 1 or self.dimension
  local size = d >= 1 and d <= n and input:size(d) or 0
  local i = self.index < 0 and size + self.index + 1 or self.index
  if n < 2 or i < 1 or i > size then
    error(('nn.Select: cannot select index %d along dimension %d of an input of size %s%s')
          :format(self.index, self.dimension, utils.sizeStr(input),
                  n == 1 and ' (a vector has no slices; use nn.Narrow)' or ''), 0)
  end
  return d, i
end

-- input (.., n, ..) -> output (.., ..): a copy of the slice
function Select:updateOutput(input)
  local y = input:select(position(self, input))
  self.output:resizeAs(y):copy(y)
  return self.output
end

-- gradOutput (.., ..) -> gradInput (.., n, ..): zero outside the selected slice
function Select:updateGradInput(input, gradOutput)
  local d, i = position(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  self.gradInput:resizeAs(input):zero():select(d, i):copy(gradOutput)
  return self.gradInput
end

-- nn.Select(2, -1)
function Select:__tostring__()
  return ('%s(%d, %d)'):format(torch.type(self), self.dimension, self.index)
end

return Select
