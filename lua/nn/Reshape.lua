-- nn.Reshape(sizes... [, batchMode]): Torch7's Reshape. The input is seen with the given
-- sizes; an input with more elements than the sizes hold, or one whose first dimension
-- is 1, is a batch along its first dimension. batchMode true / false forces the choice.
-- The output is a view of the input when its strides allow it, else a contiguous copy.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Reshape, parent = nn.class('nn.Reshape', nn.Module)

-- nn.Reshape(2, 3), nn.Reshape(2, 3, true), nn.Reshape({2, 3}) or nn.Reshape(x:size())
function Reshape:__init(...)
  parent.__init(self)
  local args = { ... }
  if type(args[#args]) == 'boolean' then self.batchMode = table.remove(args) end
  local sizes = args
  if #args == 1 and type(args[1]) == 'table' then sizes = args[1] end
  if #args == 1 and torch.isTensor(args[1]) then sizes = args[1]:totable() end
  assert(type(sizes) == 'table' and #sizes > 0, 'nn.Reshape(sizes...): give at least one size')
  self.size, self.nelement = {}, 1
  for i, s in ipairs(sizes) do
    s = math.tointeger(s)
    assert(s and s > 0, 'nn.Reshape(sizes...): sizes must be positive integers')
    self.size[i], self.nelement = s, self.nelement * s
  end
end

-- input (sizes' elements) -> output (sizes...); input (N, ...) -> output (N, sizes...)
function Reshape:updateOutput(input)
  local batch = self.batchMode
  if batch == nil then batch = not (input:nElement() == self.nelement and input:size(1) ~= 1) end
  local shape = batch and { input:size(1), table.unpack(self.size) } or self.size
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  if input:dim() == 0 or n ~= input:nElement() then
    error(('nn.Reshape: input of size %s cannot be reshaped to %s'):format(utils.sizeStr(input),
          table.concat(shape, 'x')), 0)
  end
  self.output = input:reshape(shape)
  return self.output
end

-- gradOutput (like output) -> gradInput (like input)
function Reshape:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  self.gradInput = gradOutput:reshape(input:sizeTable())
  return self.gradInput
end

-- output and gradInput may view other tensors: drop them instead of emptying them
function Reshape:clearState() return utils.drop(self, 'output', 'gradInput') end

-- nn.Reshape(2x3), as Torch7 prints it
function Reshape:__tostring__()
  local mode = self.batchMode == nil and '' or ', ' .. tostring(self.batchMode)
  return ('nn.Reshape(%s%s)'):format(table.concat(self.size, 'x'), mode)
end

return Reshape
