-- nn.CMulTable: the elementwise product of a table of same-sized tensors (Torch7's
-- CMulTable). The gradient multiplies the other inputs, so zeros in an input are fine.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils
local checkInput = require('nn.CAddTable').checkInput

local CMulTable, parent = nn.class('nn.CMulTable', nn.Module)

function CMulTable:__init()
  parent.__init(self)
  self.gradInput = {}
end

-- input {x1, x2, ...} (each like x1) -> output x1 * x2 * ...
function CMulTable:updateOutput(input)
  checkInput(self, input)
  self.output:resizeAs(input[1]):copy(input[1])
  for i = 2, #input do self.output:cmul(input[i]) end
  return self.output
end

-- gradOutput (like x1) -> gradInput {gradOutput * prod_{j ~= i} xj, ...}
function CMulTable:updateGradInput(input, gradOutput)
  checkInput(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input[1])
  for i = 1, #input do
    local g = self.gradInput[i]
    if not g or g:dtype() ~= input[i]:dtype() then g = torch.new(input[i]:dtype()) end
    g:resizeAs(input[i]):copy(gradOutput)
    for j = 1, #input do
      if j ~= i then g:cmul(input[j]) end
    end
    self.gradInput[i] = g
  end
  for i = #self.gradInput, #input + 1, -1 do self.gradInput[i] = nil end
  return self.gradInput
end

return CMulTable
