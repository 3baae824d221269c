-- nn.Module: the base of every layer. A module maps input to output (updateOutput),
-- gradOutput to gradInput (updateGradInput) and accumulates the gradient of its
-- parameters (accGradParameters); forward and backward compose them (Torch7's contract).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Module = nn.class('nn.Module')

function Module:__init()
  self.gradInput = torch.Tensor()
  self.output = torch.Tensor()
  self._type = self.output:type()
  self.train = true
end

-- parameters and their gradients, as two lists (nil when the module has none)
function Module:parameters()
  if self.weight and self.bias then
    return { self.weight, self.bias }, { self.gradWeight, self.gradBias }
  elseif self.weight then
    return { self.weight }, { self.gradWeight }
  elseif self.bias then
    return { self.bias }, { self.gradBias }
  end
end

-- input -> output (same for every module: updateOutput does the work)
function Module:updateOutput(input) return self.output end

function Module:forward(input) return self:updateOutput(input) end

-- input, gradOutput (like output) -> gradInput (like input); parameters' gradients
-- accumulate scale * dL/dparam
function Module:backward(input, gradOutput, scale)
  scale = scale or 1
  self:updateGradInput(input, gradOutput)
  self:accGradParameters(input, gradOutput, scale)
  return self.gradInput
end

function Module:updateGradInput(input, gradOutput) return self.gradInput end

function Module:accGradParameters(input, gradOutput, scale) end

-- Torch7's in-place update: params -= lr * dL/dparams, without touching the gradients.
function Module:accUpdateGradParameters(input, gradOutput, lr)
  local gradWeight, gradBias = self.gradWeight, self.gradBias
  self.gradWeight, self.gradBias = self.weight, self.bias
  self:accGradParameters(input, gradOutput, -lr)
  self.gradWeight, self.gradBias = gradWeight, gradBias
end

function Module:zeroGradParameters()
  local _, gradParams = self:parameters()
  for _, g in ipairs(gradParams or {}) do g:zero() end
end

-- params -= learningRate * gradParams
function Module:updateParameters(learningRate)
  local params, gradParams = self:parameters()
  for i, p in ipairs(params or {}) do p:add(-learningRate, gradParams[i]) end
end

function Module:training() self.train = true end

function Module:evaluate() self.train = false end

function Module:reset() end

-- Makes the named fields ('weight', 'bias', ...) views of mlp's: they share storage.
function Module:share(mlp, ...)
  for _, name in ipairs { ... } do
    if self[name] ~= nil then self[name]:set(mlp[name]) end
  end
  return self
end

-- A deep copy; with field names, the copy shares those fields with self.
function Module:clone(...)
  local copy = utils.deepcopy(self)
  if select('#', ...) > 0 then copy:share(self, ...) end
  return copy
end

-- Converts every floating-point tensor of the module (and its children) to typename;
-- tensors that shared a view still share one afterwards. Call getParameters() after.
function Module:type(typename, cache)
  if not typename then return self._type end
  cache = cache or {}
  for k, v in pairs(self) do self[k] = utils.recursiveType(v, typename, cache) end
  self._type = typename
  return self
end

function Module:float(...) return self:type('torch.FloatTensor', ...) end

function Module:double(...) return self:type('torch.DoubleTensor', ...) end

-- All parameters in one contiguous tensor and all gradients in another; the modules'
-- tensors become views into them (a tensor shared by several modules appears once).
-- Call again after anything that replaces parameter tensors (type(), clone()).
function Module:getParameters()
  local params, gradParams = self:parameters()
  local flatParams = utils.flatten(params)
  local flatGradParams = utils.flatten(gradParams)
  if flatParams:nElement() ~= flatGradParams:nElement() then
    error(('getParameters: %d parameters but %d gradients; share gradients with the weights '
           .. "(m:share(other, 'weight', 'bias', 'gradWeight', 'gradBias'))")
          :format(flatParams:nElement(), flatGradParams:nElement()), 2)
  end
  return flatParams, flatGradParams
end

-- Calls callback on this module, then on every descendant (depth first).
function Module:apply(callback)
  callback(self)
  for _, m in ipairs(self.modules or {}) do m:apply(callback) end
end

-- This module and all its descendants, depth first.
function Module:listModules()
  local list = {}
  self:apply(function(m) list[#list + 1] = m end)
  return list
end

-- The descendants of type typename ('nn.Linear') and, in a second list, the
-- container holding each one.
function Module:findModules(typename, container)
  local nodes, containers = {}, {}
  if torch.type(self) == typename then
    nodes[1], containers[1] = self, container or self
  end
  for _, child in ipairs(self.modules or {}) do
    local n, c = child:findModules(typename, self)
    table.move(n, 1, #n, #nodes + 1, nodes)
    table.move(c, 1, #c, #containers + 1, containers)
  end
  return nodes, containers
end

-- Frees the buffers kept between forward and backward (output, gradInput).
function Module:clearState() return utils.clear(self, 'output', 'gradInput') end

function Module:__tostring__() return torch.type(self) end

return Module
