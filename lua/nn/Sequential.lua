-- nn.Sequential: children applied in order; module i's output is module i+1's input.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Sequential, parent = nn.class('nn.Sequential', nn.Container)

function Sequential:__init()
  parent.__init(self)
  self._pass = nil   -- 'forward' after updateOutput, 'backward' after updateGradInput
end

function Sequential:insert(module, index)
  index = index or #self.modules + 1
  assert(index >= 1 and index <= #self.modules + 1, 'nn.Sequential: insert index out of range')
  table.insert(self.modules, index, module)
  self.output, self.gradInput = self.modules[#self.modules].output, self.modules[1].gradInput
  return self
end

function Sequential:remove(index)
  index = index or #self.modules
  assert(index >= 1 and index <= #self.modules, 'nn.Sequential: remove index out of range')
  return table.remove(self.modules, index)
end

-- The children run under one xpcall per pass (not one per child): self._at records the
-- child running, so an error is rethrown naming it as Container:rethrowErrors does.
local function traceback(err)
  err = tostring(err)
  if err:find('\nstack traceback:', 1, true) then return err end
  return debug.traceback(err, 2)
end

local function rethrow(self, input, err)
  local i = self._at
  local m = self.modules[i]
  local moduleInput = i > 1 and self.modules[i - 1].output or input
  error(('%s: module %d (%s) failed on input of size %s: %s'):format(torch.type(self), i,
        torch.type(m), utils.sizeStr(moduleInput), err), 0)
end

local function forwardAll(self, input)
  local modules, current = self.modules, input
  for i = 1, #modules do
    self._at = i
    current = modules[i]:updateOutput(current)
  end
  return current
end

-- input (as module 1 takes it) -> output (as the last module gives it)
function Sequential:updateOutput(input)
  local ok, current = xpcall(forwardAll, traceback, self, input)
  if not ok then rethrow(self, input, current) end
  self.output = current
  self._pass = 'forward'
  return current
end

local function checkForward(self, what)
  if not self._pass then error(('nn.Sequential: %s called before forward'):format(what), 3) end
end

local function backwardAll(self, fname, input, gradOutput, scale)
  local modules, current = self.modules, gradOutput
  for i = #modules, 1, -1 do
    self._at = i
    local m = modules[i]
    current = m[fname](m, i > 1 and modules[i - 1].output or input, current, scale)
  end
  return current
end

-- Runs fname ('updateGradInput' or 'backward') from the last module to the first;
-- returns the first module's gradInput.
local function backwards(self, fname, input, gradOutput, scale)
  local ok, current = xpcall(backwardAll, traceback, self, fname, input, gradOutput, scale)
  if not ok then rethrow(self, input, current) end
  self.gradInput = current
  self._pass = 'backward'
  return current
end

-- input, gradOutput (like output) -> gradInput (like input)
function Sequential:updateGradInput(input, gradOutput)
  checkForward(self, 'updateGradInput')
  return backwards(self, 'updateGradInput', input, gradOutput)
end

function Sequential:backward(input, gradOutput, scale)
  checkForward(self, 'backward')
  return backwards(self, 'backward', input, gradOutput, scale or 1)
end

-- Needs the children's gradInputs, so it follows backward (or updateGradInput).
function Sequential:accGradParameters(input, gradOutput, scale)
  if self._pass ~= 'backward' then
    error('nn.Sequential: accGradParameters called before backward (or updateGradInput)', 2)
  end
  local current = gradOutput
  for i = #self.modules, 1, -1 do
    local m = self.modules[i]
    local moduleInput = i > 1 and self.modules[i - 1].output or input
    self:rethrowErrors(m, i, 'accGradParameters', moduleInput, current, scale or 1)
    current = m.gradInput
  end
end

-- nn.Sequential {
--   [input -> (1) -> (2) -> output]
--   (1): nn.Linear(2 -> 3)
--   (2): nn.Tanh
-- }
function Sequential:__tostring__()
  local lines = { 'nn.Sequential {' }
  local chain = { '  [input' }
  for i = 1, #self.modules do chain[#chain + 1] = ('(%d)'):format(i) end
  chain[#chain + 1] = 'output]'
  lines[2] = table.concat(chain, ' -> ')
  for i, m in ipairs(self.modules) do
    lines[#lines + 1] = ('  (%d): %s'):format(i, (tostring(m):gsub('\n', '\n  ')))
  end
  lines[#lines + 1] = '}'
  return table.concat(lines, '\n')
end

return Sequential
