-- GPU nn benchmarks: the CPU workloads W1-W4 at sizes that fill an H100, a CIFAR-style
-- ResNet-18 (3x32x32, batch 128) and a GPT-2-small training step (12 layers, 768 wide,
-- 12 heads, sequence 1024, vocab 50257), each in float32 and with bfloat16 autocast
-- (nn.autocast around forward and backward; weights, gradients and optimizer state stay
-- float32). The twin of bench/gpu/nn.py (PyTorch eager: same models, data shapes and
-- optimizers); sizes and the reasons for them: bench/gpu/NN.md.
--   ember bench/gpu/nn.lua [--only w1,w2,w3,w4,resnet18,gpt2] [--dtypes fp32,bf16]
--                          [--runs 5] [--tf32] [--json FILE] [--reference torch.json]
--   ember bench/gpu/nn.lua --cpu-smoke   (each model one step at tiny sizes on the CPU)
-- --reference reads nn.py's --json lines and prints Ember/PyTorch for each figure.
-- A figure is the median over runs of `iters` steps, the device synchronized before
-- and after each run, after `warm` untimed steps.
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local json = require 'ember.json'
local common = dofile((arg[0]:match('^(.*)/[^/]*$') or '.') .. '/../common.lua')

local function usage(msg)
  io.stderr:write(('bench/gpu/nn.lua: %s\n'):format(msg))
  os.exit(2)
end

local opt = { runs = 5, dtypes = { 'fp32', 'bf16' } }
do
  local i = 1
  while i <= #arg do
    local k, v = arg[i], arg[i + 1]
    if k == '--cpu-smoke' or k == '--tf32' then opt[(k:sub(3):gsub('-', '_'))], i = true, i + 1
    elseif k == '--runs' then opt.runs, i = math.tointeger(tonumber(v)) or usage('--runs N'), i + 2
    elseif k == '--only' or k == '--dtypes' then
      local list = {}
      for w in (v or usage(k .. ' LIST')):gmatch('[^,]+') do list[#list + 1] = w end
      opt[k:sub(3)], i = list, i + 2
    elseif k == '--json' or k == '--reference' then
      opt[k:sub(3)], i = v or usage(k .. ' FILE'), i + 2
    else usage('unknown option ' .. tostring(k)) end
  end
end

local SMOKE = opt.cpu_smoke
if not SMOKE then
  local ok, why = torch.cuda.isAvailable()
  if not ok then
    usage(('no CUDA device is available (%s). These benchmarks need a GPU; --cpu-smoke runs '
           .. 'each model for one step at tiny sizes on the CPU instead.'):format(tostring(why)))
  end
  torch.cuda.allowTF32(opt.tf32 or false)
end
local DEVICE = SMOKE and 'cpu' or 'cuda'

-- --- data, built before timing, learnable so that losses fall ---

-- nb batches of n samples of `shape` in k classes: 0.5 * a class prototype + noise
local function classData(nb, n, shape, k)
  local d = 1
  for _, s in ipairs(shape) do d = d * s end
  local proto, X, Y = torch.rand(k, d), {}, {}
  for i = 1, nb do
    Y[i] = torch.randint(1, k + 1, n)
    X[i] = torch.index(proto, 1, Y[i]):mul(0.5):add(torch.rand(n, d):mul(0.5))
                :view(n, table.unpack(shape))
  end
  return X, Y
end

-- nb batches of n sequences of t tokens (inputs) and their next tokens (n * t targets):
-- a Markov chain over min(v, 1024) states, spread over the vocabulary v
local function tokenData(nb, n, t, v)
  local states = math.min(v, 1024)
  local all = common.markov_tokens(nb * n, t, states):view(nb, n, t + 1)
  if v > states then all = all:add(-1):mul(49):remainder(v):add(1) end
  local X, Y = {}, {}
  for i = 1, nb do
    X[i] = all[i]:narrow(2, 1, t):contiguous()
    Y[i] = all[i]:narrow(2, 2, t):contiguous():view(n * t)
  end
  return X, Y
end

-- --- models ---

local function mlp()
  return nn.Sequential():add(nn.Linear(784, 512)):add(nn.ReLU()):add(nn.Linear(512, 256))
                        :add(nn.ReLU()):add(nn.Linear(256, 10)):add(nn.LogSoftMax())
end

local function cnn()
  return nn.Sequential()
    :add(nn.SpatialConvolution(1, 32, 3, 3)):add(nn.ReLU()):add(nn.SpatialMaxPooling(2, 2, 2, 2))
    :add(nn.SpatialConvolution(32, 64, 3, 3)):add(nn.ReLU()):add(nn.SpatialMaxPooling(2, 2, 2, 2))
    :add(nn.View(64 * 5 * 5)):add(nn.Linear(1600, 128)):add(nn.ReLU())
    :add(nn.Linear(128, 10)):add(nn.LogSoftMax())
end

-- ResNet-18 for 3x32x32 (the CIFAR stem: one 3x3 convolution, no max pooling), then
-- 4 stages of 2 basic blocks (64, 128, 256, 512 channels; the first block of stages 2-4
-- halves the image, its shortcut a strided 1x1 convolution), average pooling, Linear.
local function resnet18(classes)
  local function conv(from, to, k, stride)
    return nn.SpatialConvolution(from, to, k, k, stride, stride, k // 2, k // 2):noBias()
  end
  local function block(from, to, stride)
    local body = nn.Sequential()
      :add(conv(from, to, 3, stride)):add(nn.SpatialBatchNormalization(to)):add(nn.ReLU())
      :add(conv(to, to, 3, 1)):add(nn.SpatialBatchNormalization(to))
    local shortcut
    if stride ~= 1 or from ~= to then
      shortcut = nn.Sequential()
        :add(conv(from, to, 1, stride)):add(nn.SpatialBatchNormalization(to))
    end
    return nn.Sequential():add(nn.Residual(body, shortcut)):add(nn.ReLU())
  end
  local m = nn.Sequential()
    :add(conv(3, 64, 3, 1)):add(nn.SpatialBatchNormalization(64)):add(nn.ReLU())
  local planes = 64
  for stage, width in ipairs { 64, 128, 256, 512 } do
    for b = 1, 2 do
      m:add(block(planes, width, (b == 1 and stage > 1) and 2 or 1))
      planes = width
    end
  end
  return m:add(nn.SpatialAdaptiveAveragePooling(1, 1)):add(nn.Flatten())
          :add(nn.Linear(512, classes))
end

-- tokens (B, T) -> scores (B*T, V) for every step
local function charLSTM(s)
  return nn.Sequential()
    :add(nn.LookupTable(s.vocab, s.embed)):add(nn.LSTM(s.embed, s.hidden, 1, true))
    :add(nn.View(-1, s.hidden)):add(nn.Linear(s.hidden, s.vocab))
end

local function gpt(s)
  return nn.GPT { vocab = s.vocab, dim = s.dim, heads = s.heads, layers = s.layers,
                  maxLen = s.seq, hidden = 4 * s.dim, approximate = s.approximate }
end

-- One forward and backward: input x, targets y -> the loss
local function defaultStep(model, crit, x, y)
  local out = model:forward(x)
  local loss = crit:forward(out, y)
  model:backward(x, crit:backward(out, y))
  return loss
end

-- nn.GPT's: logits (B, T, V) viewed as (B*T, V) for the criterion, the gradient back
local function gptStep(model, crit, x, y)
  local B, T, V = x:size(1), x:size(2), model.vocab
  local logits = model:forward(x):view(B * T, V)
  local loss = crit:forward(logits, y)
  model:backward(x, crit:backward(logits, y):view(B, T, V))
  return loss
end

-- the optimizers' settings, a new table per run (optim keeps its state in it); PyTorch's
-- SGD has no dampening, its AdamW decays by 0.01
local function sgd(lr, wd)
  return { learningRate = lr, momentum = 0.9, dampening = 0, weightDecay = wd }
end
local function adamw() return { learningRate = 3e-4, weightDecay = 0.01 } end

-- id, name, unit, GPU sizes, smoke sizes, warm-up and timed steps per run, and
-- build(sizes) -> model, criterion, optimizer, config, items per step, X, Y
-- GPT-2 small's settings under t's
local function gpt2(t)
  for k, v in pairs { vocab = 50257, heads = 12, layers = 12, approximate = 'tanh' } do
    if t[k] == nil then t[k] = v end
  end
  return t
end
local WORKLOADS = {
  { id = 'w1', name = 'W1_mlp', unit = 'samples/s', gpu = { batch = 8192 }, smoke = { batch = 8 },
    warm = 10, iters = 100, build = function(s)
      local m = mlp()
      m.modules[1].gradInput = nil   -- the data needs no gradient (nor does PyTorch's)
      return m, nn.ClassNLLCriterion(), 'sgd', sgd(0.01), s.batch,
             classData(8, s.batch, { 784 }, 10)
    end },
  { id = 'w2', name = 'W2_cnn', unit = 'samples/s', gpu = { batch = 1024 }, smoke = { batch = 4 },
    warm = 10, iters = 50, build = function(s)
      local m = cnn()
      m.modules[1].gradInput = nil
      return m, nn.ClassNLLCriterion(), 'sgd', sgd(0.01), s.batch,
             classData(8, s.batch, { 1, 28, 28 }, 10)
    end },
  { id = 'w3', name = 'W3_lstm', unit = 'tokens/s',
    gpu = { vocab = 96, embed = 256, hidden = 1024, seq = 128, batch = 256 },
    smoke = { vocab = 11, embed = 8, hidden = 16, seq = 5, batch = 3 },
    warm = 3, iters = 10, build = function(s)
      return charLSTM(s), nn.CrossEntropyCriterion(), 'adam', { learningRate = 1e-3 },
             s.batch * s.seq, tokenData(4, s.batch, s.seq, s.vocab)
    end },
  { id = 'w4', name = 'W4_transformer', unit = 'tokens/s',
    gpu = { vocab = 96, dim = 512, heads = 8, layers = 2, seq = 256, batch = 64 },
    smoke = { vocab = 11, dim = 16, heads = 2, layers = 2, seq = 8, batch = 2 },
    warm = 3, iters = 20, step = gptStep, build = function(s)
      return gpt(s), nn.CrossEntropyCriterion(), 'adamw', adamw(), s.batch * s.seq,
             tokenData(4, s.batch, s.seq, s.vocab)
    end },
  { id = 'resnet18', name = 'ResNet18_cifar', unit = 'samples/s', gpu = { batch = 128 },
    smoke = { batch = 2 }, warm = 5, iters = 30, build = function(s)
      return resnet18(10), nn.CrossEntropyCriterion(), 'sgd', sgd(0.1, 5e-4), s.batch,
             classData(4, s.batch, { 3, 32, 32 }, 10)
    end },
  { id = 'gpt2', name = 'GPT2_small', unit = 'tokens/s',
    gpu = gpt2 { dim = 768, seq = 1024, batch = 8 },
    smoke = gpt2 { dim = 32, heads = 4, layers = 2, seq = 16, batch = 2 },
    warm = 2, iters = 10, step = gptStep, build = function(s)
      return gpt(s), nn.CrossEntropyCriterion(), 'adamw', adamw(), s.batch * s.seq,
             tokenData(2, s.batch, s.seq, s.vocab)
    end },
}

local function sync() if not SMOKE then torch.cuda.synchronize() end end

-- Builds workload w and runs it in dtype ('fp32' or 'bf16': autocast); returns the
-- throughput of each run, the first and last losses and the parameter count.
local function run(w, dtype)
  torch.manualSeed(0)
  local s = SMOKE and w.smoke or w.gpu
  local model, crit, algo, config, per, X, Y = w.build(s)
  if not SMOKE then
    model:cuda()
    crit:cuda()
  end
  for i = 1, #X do X[i], Y[i] = X[i]:to(DEVICE), Y[i]:to(DEVICE) end
  local params, grads = model:getParameters()
  local fb = w.step or defaultStep
  local function step(i)
    local x, y = X[(i - 1) % #X + 1], Y[(i - 1) % #Y + 1]
    local loss
    optim[algo](function()
      grads:zero()
      if dtype == 'bf16' then loss = nn.autocast('bfloat16', fb, model, crit, x, y)
      else loss = fb(model, crit, x, y) end
      return loss, grads
    end, params, config)
    return loss
  end
  local first = step(1)
  if SMOKE then return {}, first, first, params:nElement() end
  for i = 2, w.warm do step(i) end
  local it, last, rates = w.warm, first, {}
  for r = 1, opt.runs do
    sync()
    local t0 = torch.clock()
    for _ = 1, w.iters do
      it = it + 1
      last = step(it)
    end
    sync()
    rates[r] = per * w.iters / (torch.clock() - t0)
  end
  return rates, first, last, params:nElement()
end

-- PyTorch's medians from nn.py's --json lines, by "workload dtype"
local function readReference(path)
  local ref, f = {}, io.open(path)
  if not f then usage('cannot read ' .. path) end
  for line in f:lines() do
    if line:match('%S') then
      local r = json.decode(line)
      ref[r.workload .. ' ' .. r.dtype] = r.median
    end
  end
  f:close()
  return ref
end

local ref = opt.reference and readReference(opt.reference) or {}
local wanted = {}
for _, id in ipairs(opt.only or {}) do wanted[id] = true end
if not SMOKE then
  local p = torch.cuda.getDeviceProperties()
  print(('device: %s, %.0f GiB; TF32 %s'):format(p.name, p.totalGlobalMem / 2 ^ 30,
        opt.tf32 and 'on' or 'off'))
end
if not SMOKE then
  print(('%-16s %-5s %14s %-10s %14s %8s  %s'):format('workload', 'dtype', 'Ember', '', 'PyTorch',
        'ratio', 'loss first -> last'))
end
-- One line of the table (and of --json) for workload w in dtype.
local function report(w, dtype, rates, first, last, nparams)
  local med, theirs = common.median(rates), ref[w.name .. ' ' .. dtype]
  print(('%-16s %-5s %14.4g %-10s %14s %8s  %.4f -> %.4f%s'):format(w.name, dtype, med, w.unit,
        theirs and ('%.4g'):format(theirs) or '-',
        theirs and ('%.2f'):format(med / theirs) or '-',
        first, last, last < first and '' or ' (NOT DECREASED)'))
  if not opt.json then return end
  local f = assert(io.open(opt.json, 'a'))
  local runs = {}
  for i, v in ipairs(rates) do runs[i] = ('%.6g'):format(v) end
  f:write(('{"workload": "%s", "dtype": "%s", "unit": "%s", "median": %.9g, "runs": [%s], '
           .. '"params": %d, "loss_first": %.6g, "loss_last": %.6g, "framework": "ember"}\n')
          :format(w.name, dtype, w.unit, med, table.concat(runs, ', '), nparams, first, last))
  f:close()
end

local failed = false
for _, w in ipairs(WORKLOADS) do
  if not opt.only or wanted[w.id] then
    for _, dtype in ipairs(opt.dtypes) do
      local ok, rates, first, last, nparams = pcall(run, w, dtype)
      if not ok then
        failed = true
        print(('%-16s %-5s failed: %s'):format(w.name, dtype, tostring(rates)))
      elseif SMOKE then
        local fine = first == first and math.abs(first) < math.huge
        failed = failed or not fine
        print(('%-16s %-5s one step on the CPU: loss %.4f (%s), %d parameters')
              :format(w.name, dtype, first, fine and 'ok' or 'NOT FINITE', nparams))
      else
        report(w, dtype, rates, first, last, nparams)
      end
      io.stdout:flush()
      collectgarbage()
      collectgarbage()
      if not SMOKE then torch.cuda.emptyCache() end
    end
  end
end
os.exit(failed and 1 or 0)
