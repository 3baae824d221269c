-- nn.Residual(block [, shortcut]): output = block(x) + shortcut(x), the shortcut being
-- the identity when not given (a ResNet block; use a shortcut such as a 1x1 convolution
-- when the block changes the size). modules = {block} or {block, shortcut}.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Residual, parent = nn.class('nn.Residual', nn.Container)

function Residual:__init(block, shortcut)
  parent.__init(self)
  assert(nn.isTypeOf(block, 'nn.Module'), 'nn.Residual(block [, shortcut]): block must be a module')
  assert(shortcut == nil or nn.isTypeOf(shortcut, 'nn.Module'),
         'nn.Residual(block [, shortcut]): shortcut must be a module or nil (the identity)')
  self.modules = { block, shortcut }
end

-- input x -> output block(x) + shortcut(x) (shortcut(x) = x by default)
function Residual:updateOutput(input)
  local block, shortcut = self.modules[1], self.modules[2]
  local y = self:rethrowErrors(block, 1, 'updateOutput', input)
  local s = shortcut and self:rethrowErrors(shortcut, 2, 'updateOutput', input) or input
  if not y:isSameSizeAs(s) then
    error(('nn.Residual: the block gives %s but the shortcut gives %s; give a shortcut that '
           .. "maps the input to the block's output size")
          :format(utils.sizeStr(y), utils.sizeStr(s)), 0)
  end
  self.output:resizeAs(y):copy(y):add(s)
  return self.output
end

-- Runs fname on both branches; gradInput = the block's gradInput + the shortcut's
-- (gradOutput itself for the identity).
local function backwards(self, fname, input, gradOutput, scale)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  local block, shortcut = self.modules[1], self.modules[2]
  local g = self:rethrowErrors(block, 1, fname, input, gradOutput, scale)
  local gs = shortcut and self:rethrowErrors(shortcut, 2, fname, input, gradOutput, scale) or gradOutput
  self.gradInput:resizeAs(g):copy(g):add(gs)
  return self.gradInput
end

-- gradOutput (like output) -> gradInput (like input)
function Residual:updateGradInput(input, gradOutput)
  return backwards(self, 'updateGradInput', input, gradOutput)
end

function Residual:backward(input, gradOutput, scale)
  return backwards(self, 'backward', input, gradOutput, scale or 1)
end

function Residual:accGradParameters(input, gradOutput, scale)
  for i, m in ipairs(self.modules) do
    self:rethrowErrors(m, i, 'accGradParameters', input, gradOutput, scale or 1)
  end
end

-- nn.Residual {
--   input
--     |`-> (1): nn.Linear(4 -> 4)
--      `-> identity
--      ... -> output
-- }
function Residual:__tostring__()
  local lines = { 'nn.Residual {', '  input' }
  local n = #self.modules
  for i, m in ipairs(self.modules) do
    local last = i == 2
    local body = tostring(m):gsub('\n', last and '\n         ' or '\n    |    ')
    lines[#lines + 1] = ('    %s`-> (%d): %s'):format(last and ' ' or '|', i, body)
  end
  if n == 1 then lines[#lines + 1] = '     `-> identity' end
  lines[#lines + 1] = '     ... -> output'
  lines[#lines + 1] = '}'
  return table.concat(lines, '\n')
end

return Residual
