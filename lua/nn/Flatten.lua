-- nn.Flatten([startDim = 2, endDim = -1]): PyTorch's Flatten. Dimensions startDim to
-- endDim become one; by default everything but the batch: (N, C, H, W) -> (N, C*H*W).
-- The output is a view of the input when its strides allow it, else a contiguous copy.
local nn = require 'nn'
local utils = nn.utils

local Flatten, parent = nn.class('nn.Flatten', nn.Module)

function Flatten:__init(startDim, endDim)
  parent.__init(self)
  self.startDim, self.endDim = math.tointeger(startDim or 2), math.tointeger(endDim or -1)
  assert(self.startDim and self.endDim and self.startDim ~= 0 and self.endDim ~= 0,
         'nn.Flatten([startDim, endDim]): dims must be nonzero integers')
end

-- input (N, d2, ..., dk) -> output (N, d2 * ... * dk)
function Flatten:updateOutput(input)
  local n = input:dim()
  local first = self.startDim < 0 and n + self.startDim + 1 or self.startDim
  local last = self.endDim < 0 and n + self.endDim + 1 or self.endDim
  if first < 1 or last > n or first > last then
    error(('nn.Flatten: cannot flatten dimensions %d to %d of an input of size %s')
          :format(self.startDim, self.endDim, utils.sizeStr(input)), 0)
  end
  local shape, merged = {}, 1
  for d = 1, n do
    if d < first or d > last then shape[#shape + 1] = input:size(d)
    else
      merged = merged * input:size(d)
      if d == last then shape[#shape + 1] = merged end
    end
  end
  self.output = input:reshape(shape)
  return self.output
end

-- gradOutput (like output) -> gradInput (like input)
function Flatten:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  self.gradInput = gradOutput:reshape(input:sizeTable())
  return self.gradInput
end

-- output and gradInput may view other tensors: drop them instead of emptying them
function Flatten:clearState() return utils.drop(self, 'output', 'gradInput') end

-- nn.Flatten, or nn.Flatten(1, 3) when not the default
function Flatten:__tostring__()
  if self.startDim == 2 and self.endDim == -1 then return 'nn.Flatten' end
  return ('nn.Flatten(%d, %d)'):format(self.startDim, self.endDim)
end

return Flatten
