-- nn.Identity: output is input, gradInput is gradOutput (the same tensors, no copy).
local nn = require 'nn'

local Identity = nn.class('nn.Identity', nn.Module)

-- input (any) -> output (the same tensor)
function Identity:updateOutput(input)
  self.output = input
  return self.output
end

-- gradOutput (like input) -> gradInput (the same tensor)
function Identity:updateGradInput(input, gradOutput)
  self.gradInput = gradOutput
  return self.gradInput
end

-- output and gradInput are borrowed: drop them instead of emptying them
function Identity:clearState() return nn.utils.drop(self, 'output', 'gradInput') end

return Identity
