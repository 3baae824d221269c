-- nn.ReLU: y = max(x, 0), elementwise (Torch7's Threshold(0, 0)).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local ReLU = nn.class('nn.ReLU', nn.Module)

local threshold_forward, threshold_backward = torch.actops.threshold_forward,
  torch.actops.threshold_backward

-- input (any) -> output (same shape): one fused pass for contiguous float tensors,
-- else the plain composition
function ReLU:updateOutput(input)
  if not threshold_forward(self.output, input, 0, 0) then
    self.output:resizeAs(input):copy(input):clamp(0, math.huge)
  end
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput where input > 0, else 0
function ReLU:updateGradInput(input, gradOutput)
  if not threshold_backward(self.gradInput, gradOutput, input, 0) then
    utils.checkSameSize(self, 'gradOutput', gradOutput, input)
    self.gradInput:resizeAs(input):copy(input:gt(0)):cmul(gradOutput)
  end
  return self.gradInput
end

return ReLU
