-- XOR, the classic: a single-layer perceptron cannot separate it, a two-layer MLP can.
-- Run with `ember examples/xor.lua`; spec/nn/module_spec.lua runs the same functions.
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'

local xor = {}

xor.inputs = torch.DoubleTensor({ { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } })
xor.targets = torch.DoubleTensor({ { 0 }, { 1 }, { 1 }, { 0 } })

function xor.perceptron()
  return nn.Sequential():add(nn.Linear(2, 1)):add(nn.Sigmoid()):double()
end

function xor.mlp(hidden)
  return nn.Sequential()
    :add(nn.Linear(2, hidden or 8)):add(nn.Tanh())
    :add(nn.Linear(hidden or 8, 1)):add(nn.Sigmoid())
    :double()
end

-- Full-batch Adam on the mean squared error; returns the final loss.
function xor.train(model, steps)
  local criterion = nn.MSECriterion():double()
  local params, gradParams = model:getParameters()
  local config = { learningRate = 0.05 }
  local loss
  local function feval()
    gradParams:zero()
    local output = model:forward(xor.inputs)
    loss = criterion:forward(output, xor.targets)
    model:backward(xor.inputs, criterion:backward(output, xor.targets))
    return loss, gradParams
  end
  for _ = 1, steps or 2000 do optim.adam(feval, params, config) end
  return loss
end

-- Fraction of the four cases classified right (output > 0.5 means 1).
function xor.accuracy(model)
  local predicted = model:forward(xor.inputs):gt(0.5)
  return predicted:eq(xor.targets:gt(0.5)):sum() / 4
end

function xor.main()
  torch.manualSeed(1)
  for _, case in ipairs { { 'perceptron', xor.perceptron() }, { 'two-layer MLP', xor.mlp() } } do
    local name, model = case[1], case[2]
    local loss = xor.train(model)
    print(('%-14s loss %.4f  accuracy %3d%%'):format(name, loss, math.floor(xor.accuracy(model) * 100 + 0.5)))
    print(model)
  end
end

-- run as a script (not when a spec loads it with dofile)
if arg and arg[0] and arg[0]:match('xor%.lua$') then xor.main() end

return xor
