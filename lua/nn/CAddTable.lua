-- nn.CAddTable: the elementwise sum of a table of same-sized tensors (Torch7's CAddTable).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local CAddTable, parent = nn.class('nn.CAddTable', nn.Module)

function CAddTable:__init()
  parent.__init(self)
  self.gradInput = {}
end

-- Errors unless input is a non-empty table of tensors of one size. Shared with nn.CMulTable.
function CAddTable.checkInput(module, input)
  if type(input) ~= 'table' or torch.isTensor(input) or #input == 0 then
    error(('%s: expected a non-empty table of tensors, got %s'):format(torch.type(module),
          torch.isTensor(input) and 'a tensor of size ' .. utils.sizeStr(input) or type(input)), 0)
  end
  for i = 2, #input do utils.checkSameSize(module, 'input ' .. i, input[i], input[1]) end
end

-- input {x1, x2, ...} (each like x1) -> output x1 + x2 + ...
function CAddTable:updateOutput(input)
  CAddTable.checkInput(self, input)
  self.output:resizeAs(input[1]):copy(input[1])
  for i = 2, #input do self.output:add(input[i]) end
  return self.output
end

-- gradOutput (like x1) -> gradInput {gradOutput, gradOutput, ...} (copies)
function CAddTable:updateGradInput(input, gradOutput)
  CAddTable.checkInput(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input[1])
  for i = 1, #input do
    local g = self.gradInput[i]
    if not g or g:dtype() ~= input[i]:dtype() then g = torch.new(input[i]:dtype()) end
    self.gradInput[i] = g:resizeAs(input[i]):copy(gradOutput)
  end
  for i = #self.gradInput, #input + 1, -1 do self.gradInput[i] = nil end
  return self.gradInput
end

return CAddTable
