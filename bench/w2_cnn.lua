-- W2: CNN conv(1->32, 3x3)-ReLU-maxpool2-conv(32->64, 3x3)-ReLU-maxpool2-View(1600)-
-- Linear(1600, 128)-ReLU-Linear(128, 10)-LogSoftMax, ClassNLLCriterion, SGD lr 0.01
-- momentum 0.9 (dampening 0, as PyTorch), input 1x28x28, batch 64; 10 warm-up steps, then
-- runs of 50 timed steps -> samples/s. The twin of shared/bench/pytorch/w2_cnn.py.
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local B = dofile((arg[0]:match('^(.*)/[^/]*$') or '.') .. '/common.lua')

local a = B.args(arg)
torch.manualSeed(0)
local N, WARM, ITERS, NB = 64, 10, 50, 8

local model = nn.Sequential()
  :add(nn.SpatialConvolution(1, 32, 3, 3)):add(nn.ReLU()):add(nn.SpatialMaxPooling(2, 2, 2, 2))
  :add(nn.SpatialConvolution(32, 64, 3, 3)):add(nn.ReLU()):add(nn.SpatialMaxPooling(2, 2, 2, 2))
  :add(nn.View(64 * 5 * 5))
  :add(nn.Linear(1600, 128)):add(nn.ReLU())
  :add(nn.Linear(128, 10)):add(nn.LogSoftMax())
-- The data needs no gradient (PyTorch does not compute it either: x.requires_grad is false)
model.modules[1].gradInput = nil
local crit = nn.ClassNLLCriterion()
local params, grads = model:getParameters()
local config = { learningRate = 0.01, momentum = 0.9, dampening = 0 }

-- learnable synthetic data: 8 fixed batches; class c = 0.5 * prototype[c] + 0.5 * uniform noise
local proto = torch.rand(10, 1 * 28 * 28)
local X, Y = {}, {}
for i = 1, NB do
  Y[i] = torch.randint(1, 11, N)
  X[i] = torch.index(proto, 1, Y[i]):mul(0.5):add(torch.rand(N, 784):mul(0.5)):view(N, 1, 28, 28)
end

local function step(i)
  local x, y = X[(i - 1) % NB + 1], Y[(i - 1) % NB + 1]
  local loss
  optim.sgd(function()
    grads:zero()
    local out = model:forward(x)
    loss = crit:forward(out, y)
    model:backward(x, crit:backward(out, y))
    return loss, grads
  end, params, config)
  return loss
end
if a.bf16 then   -- the products in bfloat16, weights and the update in float32
  local plain = step
  step = function(i) return nn.autocast('bfloat16', plain, i) end
end

local first, last, secs, foreign = B.train(step, WARM, ITERS, a.runs)
local vals = {}
for i, s in ipairs(secs) do vals[i] = N * ITERS / s end
print(('W2 params=%d loss first=%.4f last=%.4f (%s)'):format(params:nElement(), first, last,
      last < first and 'decreased' or 'NOT DECREASED'))
B.report(a.bf16 and 'W2_cnn_bf16' or 'W2_cnn', 'samples/s', vals, foreign, { loss_first = first, loss_last = last })
