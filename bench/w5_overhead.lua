-- W5b/W5c framework-overhead probes (W5a, c:add(a, b) on 10 elements, is timed inside
-- bench/run.lua). The twin of shared/bench/pytorch/w5_overhead.py:
--  (b) XOR: Linear(2, 8)-Tanh-Linear(8, 1)-Tanh, MSECriterion, plain SGD lr 0.1, one sample
--      (1, 2) per step cycling the 4, 20000 x (zero grads, forward, backward, step) -> steps/s;
--      each run builds the net afresh with seed 0; one warm-up run
--  (c) inference Linear(64, 64)-ReLU-Linear(64, 4) on one 64-vector, evaluate mode,
--      100000 calls -> us/call
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local B = dofile((arg[0]:match('^(.*)/[^/]*$') or '.') .. '/common.lua')

local a = B.args(arg)
torch.manualSeed(0)

-- (b)
local X = torch.Tensor { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } }
local Y = torch.Tensor { { 0 }, { 1 }, { 1 }, { 0 } }
local xs, ys = {}, {}
for j = 1, 4 do xs[j], ys[j] = X:narrow(1, j, 1), Y:narrow(1, j, 1) end
local STEPS = 20000
local st = {}
local function run_b()
  torch.manualSeed(0)
  local net = nn.Sequential():add(nn.Linear(2, 8)):add(nn.Tanh()):add(nn.Linear(8, 1)):add(nn.Tanh())
  local crit = nn.MSECriterion()
  local params, grads = net:getParameters()
  local config = { learningRate = 0.1 }
  st.first = crit:forward(net:forward(X), Y)
  for i = 0, STEPS - 1 do
    local x, y = xs[i % 4 + 1], ys[i % 4 + 1]
    optim.sgd(function()
      grads:zero()
      local out = net:forward(x)
      local loss = crit:forward(out, y)
      net:backward(x, crit:backward(out, y))
      return loss, grads
    end, params, config)
  end
  st.net, st.crit = net, crit
end
run_b()                                                  -- warm-up run
local secs, foreign = B.timed_runs(run_b, a.runs)
local out = st.net:forward(X)
local last = st.crit:forward(out, Y)
local acc = out:gt(0.5):eq(Y:gt(0.5)):sum() / 4
print(('W5b XOR mse first=%.4f last=%.5f acc=%.2f'):format(st.first, last, acc))
local vals = {}
for i, s in ipairs(secs) do vals[i] = STEPS / s end
B.report('W5b_xor_steps', 'steps/s', vals, foreign, { loss_first = st.first, loss_last = last, xor_acc = acc })

-- (c)
local net = nn.Sequential():add(nn.Linear(64, 64)):add(nn.ReLU()):add(nn.Linear(64, 4))
net:evaluate()
local v = torch.randn(64)
local NC = 100000
for _ = 1, 10000 do net:forward(v) end
secs, foreign = B.timed_runs(function() for _ = 1, NC do net:forward(v) end end, a.runs)
vals = {}
for i, s in ipairs(secs) do vals[i] = s / NC * 1e6 end
B.report('W5c_infer_latency', 'us/call', vals, foreign)
