-- W1: MLP 784-512-256-10 (ReLU, LogSoftMax) + ClassNLLCriterion, SGD lr 0.01 momentum 0.9
-- (dampening 0, as PyTorch's SGD), batch 128; 10 warm-up steps, then runs of 100 timed
-- steps -> samples/s. The twin of shared/bench/pytorch/w1_mlp.py.
--   ember bench/w1_mlp.lua [--runs 3] [--json FILE] [--bf16]   (options: bench/common.lua)
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local B = dofile((arg[0]:match('^(.*)/[^/]*$') or '.') .. '/common.lua')

local a = B.args(arg)
torch.manualSeed(0)
local N, WARM, ITERS, NB = 128, 10, 100, 16

local model = nn.Sequential()
  :add(nn.Linear(784, 512)):add(nn.ReLU())
  :add(nn.Linear(512, 256)):add(nn.ReLU())
  :add(nn.Linear(256, 10)):add(nn.LogSoftMax())
-- The data needs no gradient (PyTorch does not compute it either: x.requires_grad is false)
model.modules[1].gradInput = nil
local crit = nn.ClassNLLCriterion()
local params, grads = model:getParameters()
local config = { learningRate = 0.01, momentum = 0.9, dampening = 0 }

-- learnable synthetic data: 16 fixed batches; class c = 0.5 * prototype[c] + 0.5 * uniform noise
local proto = torch.rand(10, 784)
local X, Y = {}, {}
for i = 1, NB do
  Y[i] = torch.randint(1, 11, N)
  X[i] = torch.index(proto, 1, Y[i]):mul(0.5):add(torch.rand(N, 784):mul(0.5))
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
print(('W1 loss first=%.4f last=%.4f (%s)'):format(first, last, last < first and 'decreased' or 'NOT DECREASED'))
B.report(a.bf16 and 'W1_mlp_bf16' or 'W1_mlp', 'samples/s', vals, foreign, { loss_first = first, loss_last = last })
