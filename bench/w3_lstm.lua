-- W3: char LSTM: LookupTable(96, 64)-LSTM(64 -> 256, 1 layer, batch first)-Linear(256, 96),
-- CrossEntropyCriterion over every step, Adam lr 1e-3, sequence 64, batch 32; 5 warm-up
-- steps, then runs of 20 timed steps -> tokens/s (batch * seq per step).
-- The twin of shared/bench/pytorch/w3_lstm.py. Prints "W3 not available" when nn.LSTM or
-- nn.LookupTable cannot be loaded.
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local B = dofile((arg[0]:match('^(.*)/[^/]*$') or '.') .. '/common.lua')

for _, m in ipairs { 'LookupTable', 'LSTM' } do
  if not nn[m] then
    local ok, err = pcall(require, 'nn.' .. m)
    if not ok then
      print(('W3 not available: nn.%s cannot be loaded (%s)'):format(m, tostring(err):match('[^\n]*')))
      os.exit(3)
    end
  end
end

local a = B.args(arg)
torch.manualSeed(0)
local V, T, N, WARM, ITERS, NB = 96, 64, 32, 5, 20, 8

local model = nn.Sequential()
  :add(nn.LookupTable(V, 64))               -- (N, T) -> (N, T, 64)
  :add(nn.LSTM(64, 256, 1, true))           -- -> (N, T, 256)
  :add(nn.View(-1, 256))                    -- -> (N * T, 256)
  :add(nn.Linear(256, V))                   -- -> (N * T, V)
local crit = nn.CrossEntropyCriterion()
local params, grads = model:getParameters()
local config = { learningRate = 1e-3 }

local data = B.markov_tokens(NB * N, T, V):view(NB, N, T + 1)
local X, Y = {}, {}
for i = 1, NB do
  X[i] = data[i]:narrow(2, 1, T):contiguous()
  Y[i] = data[i]:narrow(2, 2, T):contiguous():view(N * T)
end

local function step(i)
  local x, y = X[(i - 1) % NB + 1], Y[(i - 1) % NB + 1]
  local loss
  optim.adam(function()
    grads:zero()
    local out = model:forward(x)
    loss = crit:forward(out, y)
    model:backward(x, crit:backward(out, y))
    return loss, grads
  end, params, config)
  return loss
end

local first, last, secs, foreign = B.train(step, WARM, ITERS, a.runs)
local vals = {}
for i, s in ipairs(secs) do vals[i] = N * T * ITERS / s end
print(('W3 params=%d loss first=%.4f last=%.4f (%s)'):format(params:nElement(), first, last,
      last < first and 'decreased' or 'NOT DECREASED'))
B.report('W3_lstm', 'tokens/s', vals, foreign, { loss_first = first, loss_last = last })
