-- nn.Padding(dim, pad [, nInputDim, value = 0, index = 1]): Torch7's Padding. Adds |pad|
-- entries of value along dim: after the input when pad > 0, before it when pad < 0.
-- index moves the padding inside: it goes before entry index (pad < 0) or before the
-- index-th entry counted from the end (pad > 0). With nInputDim, an input with more
-- dimensions is a batch and dim counts from its second dimension.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Padding, parent = nn.class('nn.Padding', nn.Module)

function Padding:__init(dim, pad, nInputDim, value, index)
  parent.__init(self)
  self.dim, self.pad = math.tointeger(dim), math.tointeger(pad)
  assert(self.dim and self.pad and self.dim ~= 0,
         'nn.Padding(dim, pad, ...): integers expected, dim nonzero')
  self.nInputDim, self.value, self.index = nInputDim, value or 0, math.tointeger(index or 1)
end

-- The positive dim, and where the padding starts along it (1-based, in the output).
local function placement(self, input)
  local n, d = input:dim(), self.dim
  if d < 0 then d = n + d + 1
  elseif self.nInputDim and n ~= self.nInputDim then d = d + 1 end
  local size = d >= 1 and d <= n and input:size(d) or 0
  local at = self.pad > 0 and size - self.index + 2 or self.index
  if size == 0 or at < 1 or at > size + 1 then
    error(('nn.Padding: cannot pad dimension %d at index %d of an input of size %s')
          :format(self.dim, self.index, utils.sizeStr(input)), 0)
  end
  return d, at, size
end

-- input (.., n, ..) -> output (.., n + |pad|, ..)
function Padding:updateOutput(input)
  local d, at, size = placement(self, input)
  local shape, pad = input:sizeTable(), math.abs(self.pad)
  shape[d] = size + pad
  self.output:resize(shape):fill(self.value)
  if at > 1 then self.output:narrow(d, 1, at - 1):copy(input:narrow(d, 1, at - 1)) end
  if at <= size then
    self.output:narrow(d, at + pad, size - at + 1):copy(input:narrow(d, at, size - at + 1))
  end
  return self.output
end

-- gradOutput (.., n + |pad|, ..) -> gradInput (.., n, ..): the padding's entries dropped
function Padding:updateGradInput(input, gradOutput)
  local d, at, size = placement(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  local pad = math.abs(self.pad)
  self.gradInput:resizeAs(input)
  if at > 1 then self.gradInput:narrow(d, 1, at - 1):copy(gradOutput:narrow(d, 1, at - 1)) end
  if at <= size then
    self.gradInput:narrow(d, at, size - at + 1):copy(gradOutput:narrow(d, at + pad, size - at + 1))
  end
  return self.gradInput
end

-- nn.Padding(2, -3) or nn.Padding(2, -3, 3, 0, 1)
function Padding:__tostring__()
  if not self.nInputDim and self.value == 0 and self.index == 1 then
    return ('%s(%d, %d)'):format(torch.type(self), self.dim, self.pad)
  end
  return ('%s(%d, %d, %s, %g, %d)'):format(torch.type(self), self.dim, self.pad,
                                           tostring(self.nInputDim), self.value, self.index)
end

return Padding
