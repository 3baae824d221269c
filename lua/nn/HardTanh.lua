-- nn.HardTanh([min_value = -1, max_value = 1]): y = clamp(x, min_value, max_value),
-- elementwise, as Torch7 (fields min_val, max_val; its in-place flag is not supported).
-- The gradient is 0 where x <= min_val or x >= max_val, as Torch7 and PyTorch.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local HardTanh, parent = nn.class('nn.HardTanh', nn.Module)

function HardTanh:__init(min_value, max_value)
  parent.__init(self)
  self.min_val = min_value or -1
  self.max_val = max_value or 1
  assert(type(self.min_val) == 'number' and type(self.max_val) == 'number'
         and self.max_val > self.min_val, 'nn.HardTanh: max_value must be larger than min_value')
  self.buffer = torch.Tensor()   -- the mask min_val < x
  self.buffer2 = torch.Tensor()  -- the mask x < max_val
end

-- input (any) -> output (same shape)
function HardTanh:updateOutput(input)
  self.output:resizeAs(input):copy(input):clamp(self.min_val, self.max_val)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput where min_val < x < max_val, else 0
function HardTanh:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  -- masks as clamp(sign(.), 0, 1): 1 where strictly positive, else 0
  local inside = self.buffer:resizeAs(input):copy(input):add(-self.min_val):sign():clamp(0, 1)
  inside:cmul(self.buffer2:resizeAs(input):copy(input):mul(-1):add(self.max_val):sign():clamp(0, 1))
  self.gradInput:resizeAs(input):copy(gradOutput):cmul(inside)
  return self.gradInput
end

function HardTanh:clearState()
  utils.clear(self, 'buffer', 'buffer2')
  return parent.clearState(self)
end

-- nn.HardTanh(-1, 1)
function HardTanh:__tostring__()
  return ('%s(%g, %g)'):format(torch.type(self), self.min_val, self.max_val)
end

return HardTanh
