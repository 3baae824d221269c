-- nn.ReLU: y = max(x, 0), elementwise (Torch7's Threshold(0, 0)).
local nn = require 'nn'
local utils = nn.utils

local ReLU = nn.class('nn.ReLU', nn.Module)

-- input (any) -> output (same shape)
function ReLU:updateOutput(input)
  self.output:resizeAs(input):copy(input):clamp(0, math.huge)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput where input > 0, else 0
function ReLU:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  self.gradInput:resizeAs(input):copy(input:gt(0)):cmul(gradOutput)
  return self.gradInput
end

return ReLU
