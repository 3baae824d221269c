-- nn.Container: a module made of child modules (self.modules). It gathers their
-- parameters, forwards training/evaluate/zeroGradParameters/... to them, and rethrows
-- a child's error naming the child: "nn.Sequential: module 2 (nn.Linear) failed on
-- input of size 4x5: ...".
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Container, parent = nn.class('nn.Container', nn.Module)

function Container:__init(...)
  parent.__init(self, ...)
  self.modules = {}
end

function Container:add(module)
  self.modules[#self.modules + 1] = module
  return self
end

function Container:get(index) return self.modules[index] end

function Container:size() return #self.modules end

-- The innermost error keeps its stack traceback; outer containers only add a prefix.
local function traceback(err)
  err = tostring(err)
  if err:find('\nstack traceback:', 1, true) then return err end
  return debug.traceback(err, 2)
end

-- module[fname](module, input, ...), with any error rethrown naming the child.
function Container:rethrowErrors(module, index, fname, input, ...)
  local ok, result = xpcall(module[fname], traceback, module, input, ...)
  if ok then return result end
  error(('%s: module %d (%s) failed on input of size %s: %s'):format(
    torch.type(self), index, torch.type(module), utils.sizeStr(input), result), 0)
end

function Container:applyToModules(fn)
  for _, m in ipairs(self.modules) do fn(m) end
end

function Container:zeroGradParameters()
  self:applyToModules(function(m) m:zeroGradParameters() end)
end

function Container:updateParameters(learningRate)
  self:applyToModules(function(m) m:updateParameters(learningRate) end)
end

function Container:training()
  self:applyToModules(function(m) m:training() end)
  parent.training(self)
end

function Container:evaluate()
  self:applyToModules(function(m) m:evaluate() end)
  parent.evaluate(self)
end

function Container:share(mlp, ...)
  for i, m in ipairs(self.modules) do m:share(mlp.modules[i], ...) end
  return self
end

function Container:reset(stdv)
  self:applyToModules(function(m) m:reset(stdv) end)
end

-- The children's parameters and gradients, in order, as two flat lists.
function Container:parameters()
  local params, gradParams = {}, {}
  for _, m in ipairs(self.modules) do
    local p, g = m:parameters()
    if p then
      table.move(p, 1, #p, #params + 1, params)
      table.move(g, 1, #g, #gradParams + 1, gradParams)
    end
  end
  return params, gradParams
end

-- output and gradInput are the children's tensors: drop the references (emptying them
-- would also empty the children's), then clear every child.
function Container:clearState()
  utils.drop(self, 'output', 'gradInput')
  self:applyToModules(function(m) m:clearState() end)
  return self
end

return Container
