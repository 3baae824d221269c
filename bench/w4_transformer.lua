-- W4: GPT-style decoder (nn.GPT): token embedding (96, 128) + learned positions (64, 128);
-- 2 pre-LN causal blocks (4 heads, fused qkv, MLP 512 with exact GELU); final LayerNorm;
-- Linear(128, 96). No dropout. CrossEntropyCriterion over every position, AdamW lr 3e-4
-- (weight decay 0.01), sequence 64, batch 16; 5 warm-up steps, then runs of 20 timed
-- steps -> tokens/s. The twin of shared/bench/pytorch/w4_transformer.py.
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local B = dofile((arg[0]:match('^(.*)/[^/]*$') or '.') .. '/common.lua')

local a = B.args(arg)
torch.manualSeed(0)
local V, T, N, D, H, M, L = 96, 64, 16, 128, 4, 512, 2
local WARM, ITERS, NB = 5, 20, 8

local model = nn.GPT { vocab = V, dim = D, heads = H, layers = L, maxLen = T, hidden = M }
local crit = nn.CrossEntropyCriterion()
local params, grads = model:getParameters()
local config = { learningRate = 3e-4, weightDecay = 0.01 }

local data = B.markov_tokens(NB * N, T, V):view(NB, N, T + 1)
local X, Y = {}, {}
for i = 1, NB do
  X[i] = data[i]:narrow(2, 1, T):contiguous()
  Y[i] = data[i]:narrow(2, 2, T):contiguous():view(N * T)
end

local function step(i)
  local x, y = X[(i - 1) % NB + 1], Y[(i - 1) % NB + 1]
  local loss
  optim.adamw(function()
    grads:zero()
    local logits = model:forward(x):view(N * T, V)
    loss = crit:forward(logits, y)
    model:backward(x, crit:backward(logits, y):view(N, T, V))
    return loss, grads
  end, params, config)
  return loss
end

local first, last, secs, foreign = B.train(step, WARM, ITERS, a.runs)
local vals = {}
for i, s in ipairs(secs) do vals[i] = N * T * ITERS / s end
print(('W4 params=%d loss first=%.4f last=%.4f (%s)'):format(params:nElement(), first, last,
      last < first and 'decreased' or 'NOT DECREASED'))
B.report('W4_transformer', 'tokens/s', vals, foreign, { loss_first = first, loss_last = last })
