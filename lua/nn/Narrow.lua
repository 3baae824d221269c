-- nn.Narrow(dim, offset [, length = 1]): length entries of dim from offset (Torch7's
-- Narrow). A negative dim counts from the last dimension, a negative offset from the
-- last entry (-1 is the last), a negative length up to the end (-1: through the last).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Narrow, parent = nn.class('nn.Narrow', nn.Module)

function Narrow:__init(dim, offset, length)
  parent.__init(self)
  self.dimension, self.index = math.tointeger(dim), math.tointeger(offset)
  self.length = math.tointeger(length or 1)
  assert(self.dimension and self.index and self.length and self.dimension ~= 0 and self.index ~= 0
         and self.length ~= 0, 'nn.Narrow(dim, offset [, length]): nonzero integers expected')
end

-- The positive dim, offset and length for this input.
local function range(self, input)
  local d = self.dimension < 0 and input:dim() + self.dimension + 1 or self.dimension
  local size = d >= 1 and d <= input:dim() and input:size(d) or 0
  local start = self.index < 0 and size + self.index + 1 or self.index
  local len = self.length < 0 and size - start + self.length + 2 or self.length
  if size == 0 or start < 1 or len < 1 or start + len - 1 > size then
    error(('nn.Narrow: cannot take %d entries from %d along dimension %d of an input of size %s')
          :format(self.length, self.index, self.dimension, utils.sizeStr(input)), 0)
  end
  return d, start, len
end

-- input (.., n, ..) -> output (.., length, ..): a copy of the entries
function Narrow:updateOutput(input)
  local d, start, len = range(self, input)
  local y = input:narrow(d, start, len)
  self.output:resizeAs(y):copy(y)
  return self.output
end

-- gradOutput (.., length, ..) -> gradInput (.., n, ..): zero outside the narrowed part
function Narrow:updateGradInput(input, gradOutput)
  local d, start, len = range(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input:narrow(d, start, len))
  self.gradInput:resizeAs(input):zero():narrow(d, start, len):copy(gradOutput)
  return self.gradInput
end

-- nn.Narrow(2, 3, 4)
function Narrow:__tostring__()
  return ('%s(%d, %d, %d)'):format(torch.type(self), self.dimension, self.index, self.length)
end

return Narrow
