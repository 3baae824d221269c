-- nn on the GPU against the CPU: every module's and criterion's forward and backward
-- after model:cuda() (inputs moved with x:cuda(), class targets left as CPU
-- LongTensors, as a script would), dropout's masks, a short training run that must
-- converge, :float() back, and save on the GPU / load on the CPU. Tagged #gpu
-- (excluded by default; `make test-gpu`). EMBER_GPU_SPEC_AS=double runs the same
-- checks with :double() standing in for :cuda(), to check the spec itself on a CPU.
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local H = require 'helpers'

local AS_DOUBLE = os.getenv('EMBER_GPU_SPEC_AS') == 'double'
local TOL = 2e-4   -- relative to the largest magnitude: float32 through other algorithms

local function dev(t)
  if not torch.isTensor(t) then return t end
  if t:dtype() == 'int64' then return t end          -- class targets stay where they are
  return AS_DOUBLE and t:double() or t:cuda()
end
local function devModule(m) return AS_DOUBLE and m:double() or m:cuda() end

local function close(a, b, what)
  if type(a) == 'number' then a, b = torch.Tensor({ a }), torch.Tensor({ b }) end
  a, b = a:double(), b:double()
  assert.same(b:sizeTable(), a:sizeTable(), what .. ': sizes')
  local scale = math.max(1, torch.abs(b):max())
  H.near(a, b, TOL * scale, what)
end

-- name, constructor, input (a CPU float32 tensor)
local MODULES = {
  { 'Linear', function() return nn.Linear(5, 3) end, function() return torch.randn(4, 5) end },
  { 'ReLU', nn.ReLU, function() return torch.randn(4, 5) end },
  { 'Tanh', nn.Tanh, function() return torch.randn(4, 5) end },
  { 'Sigmoid', nn.Sigmoid, function() return torch.randn(4, 5) end },
  { 'ELU', nn.ELU, function() return torch.randn(4, 5) end },
  { 'LeakyReLU', function() return nn.LeakyReLU(0.1) end, function() return torch.randn(4, 5) end },
  { 'SiLU', nn.SiLU, function() return torch.randn(4, 5) end },
  { 'HardTanh', nn.HardTanh, function() return torch.randn(4, 5) end },
  { 'SoftPlus', nn.SoftPlus, function() return torch.randn(4, 5) end },
  { 'GELU', nn.GELU, function() return torch.randn(4, 5) end },
  { 'SoftMax', nn.SoftMax, function() return torch.randn(4, 6) end },
  { 'LogSoftMax', nn.LogSoftMax, function() return torch.randn(4, 6) end },
  { 'SpatialConvolution', function() return nn.SpatialConvolution(3, 4, 3, 3, 1, 1, 1, 1) end,
    function() return torch.randn(2, 3, 7, 7) end },
  { 'SpatialConvolution (groups, stride)',
    function() return nn.SpatialConvolution(4, 6, 3, 3, 2, 2, 1, 1, 2) end,
    function() return torch.randn(2, 4, 8, 8) end },
  { 'SpatialDilatedConvolution',
    function() return nn.SpatialDilatedConvolution(3, 4, 3, 3, 1, 1, 2, 2, 2, 2) end,
    function() return torch.randn(2, 3, 9, 9) end },
  { 'SpatialFullConvolution',
    function() return nn.SpatialFullConvolution(3, 4, 3, 3, 2, 2, 1, 1, 1, 1) end,
    function() return torch.randn(2, 3, 5, 5) end },
  { 'TemporalConvolution', function() return nn.TemporalConvolution(5, 4, 3, 1) end,
    function() return torch.randn(2, 9, 5) end },
  { 'SpatialMaxPooling', function() return nn.SpatialMaxPooling(3, 3, 2, 2, 1, 1) end,
    function() return torch.randn(2, 3, 9, 9) end },
  { 'SpatialAveragePooling', function() return nn.SpatialAveragePooling(3, 3, 2, 2, 1, 1) end,
    function() return torch.randn(2, 3, 9, 9) end },
  { 'SpatialAdaptiveAveragePooling', function() return nn.SpatialAdaptiveAveragePooling(3, 2) end,
    function() return torch.randn(2, 3, 7, 8) end },
  { 'BatchNormalization', function() return nn.BatchNormalization(6) end,
    function() return torch.randn(8, 6) end },
  { 'SpatialBatchNormalization', function() return nn.SpatialBatchNormalization(3) end,
    function() return torch.randn(4, 3, 5, 5) end },
  { 'SpatialBatchNormalization (eval)',
    function() local m = nn.SpatialBatchNormalization(3); m:evaluate(); return m end,
    function() return torch.randn(4, 3, 5, 5) end },
  { 'LayerNorm', function() return nn.LayerNorm(6) end, function() return torch.randn(4, 5, 6) end },
  { 'Dropout (eval)', function() local m = nn.Dropout(0.5); m:evaluate(); return m end,
    function() return torch.randn(4, 5) end },
  { 'MultiheadAttention', function() return nn.MultiheadAttention(8, 2) end,
    function() return torch.randn(2, 5, 8) end },
  { 'TransformerBlock', function() return nn.TransformerBlock(8, 2) end,
    function() return torch.randn(2, 5, 8) end },
  { 'Sequential', function()
      return nn.Sequential():add(nn.SpatialConvolution(1, 2, 3, 3)):add(nn.ReLU())
                            :add(nn.View(-1):setNumInputDims(3)):add(nn.Linear(2 * 4 * 4, 3))
    end, function() return torch.randn(3, 1, 6, 6) end },
}

-- name, constructor, input, target (CPU tensors)
local function classes(n, k) return torch.LongTensor(n):random(1, k) end
local CRITERIA = {
  { 'MSECriterion', nn.MSECriterion, function() return torch.randn(4, 5) end,
    function() return torch.randn(4, 5) end },
  { 'AbsCriterion', nn.AbsCriterion, function() return torch.randn(4, 5) end,
    function() return torch.randn(4, 5) end },
  { 'SmoothL1Criterion', nn.SmoothL1Criterion, function() return torch.randn(4, 5) end,
    function() return torch.randn(4, 5) end },
  { 'BCECriterion', nn.BCECriterion, function() return torch.rand(4, 5) * 0.9 + 0.05 end,
    function() return torch.rand(4, 5):gt(0.5):float() end },
  { 'BCEWithLogitsCriterion', nn.BCEWithLogitsCriterion, function() return torch.randn(4, 5) end,
    function() return torch.rand(4, 5):gt(0.5):float() end },
  { 'ClassNLLCriterion', nn.ClassNLLCriterion,
    function() return nn.LogSoftMax():forward(torch.randn(6, 4)):clone() end,
    function() return classes(6, 4) end },
  { 'ClassNLLCriterion (weights, ignore, sum)',
    function() return nn.ClassNLLCriterion(torch.Tensor({ 1, 2, 0.5, 1 }), 'sum', 2) end,
    function() return nn.LogSoftMax():forward(torch.randn(6, 4)):clone() end,
    function() return classes(6, 4) end },
  { 'CrossEntropyCriterion', nn.CrossEntropyCriterion, function() return torch.randn(6, 4) end,
    function() return classes(6, 4) end },
  { 'CrossEntropyCriterion (spatial)', nn.CrossEntropyCriterion,
    function() return torch.randn(2, 4, 3, 3) end,
    function() return torch.LongTensor(2, 3, 3):random(1, 4) end },
  { 'MultiMarginCriterion', nn.MultiMarginCriterion, function() return torch.randn(6, 4) end,
    function() return classes(6, 4) end },
}

describe('#gpu nn on the GPU', function()
  if not AS_DOUBLE and not torch.cuda.isAvailable() then
    pending('no CUDA device: ' .. select(2, torch.cuda.isAvailable()))
    return
  end
  before_each(function() torch.manualSeed(7) end)

  for _, case in ipairs(MODULES) do
    local name, make, input = case[1], case[2], case[3]
    it(name .. ' agrees with the CPU, forward and backward', function()
      local m, x = make(), input()
      local g = devModule(m:clone())
      local y = m:forward(x)
      close(g:forward(dev(x)), y, name .. ' output')
      local gy = torch.randn(y:size())
      m:zeroGradParameters()
      g:zeroGradParameters()
      close(g:backward(dev(x), dev(gy)), m:backward(x, gy), name .. ' gradInput')
      local _, gp = m:parameters()
      local _, gg = g:parameters()
      for i, p in ipairs(gp or {}) do close(gg[i], p, name .. ' gradient of parameter ' .. i) end
      close(g:float().output, y, name .. ' output after :float()')
    end)
  end

  for _, case in ipairs(CRITERIA) do
    local name, make, input, target = case[1], case[2], case[3], case[4]
    it(name .. ' agrees with the CPU, forward and backward', function()
      local c, x, t = make(), input(), target()
      local g = devModule(c:clone())
      close(g:forward(dev(x), dev(t)), c:forward(x, t), name .. ' loss')
      close(g:backward(dev(x), dev(t)), c:backward(x, t), name .. ' gradInput')
    end)
  end

  it('Dropout in training keeps 1/(1-p) or 0, about 1-p of the time', function()
    local m = devModule(nn.Dropout(0.25))
    local y = m:forward(dev(torch.ones(200, 100))):double()
    local kept = y:gt(0):double():mean()
    assert.is_true(math.abs(kept - 0.75) < 0.02, 'kept ' .. kept)
    H.near(y:maskedSelect(y:gt(0)), torch.Tensor(y:gt(0):sum()):fill(1 / 0.75):double(), 1e-6)
  end)

  for _, algo in ipairs { 'sgd', 'adam' } do
    it('a small network trains on the GPU with optim.' .. algo .. ' and comes back', function()
      local x = torch.randn(64, 1, 8, 8)
      local t = x:view(64, -1):sum(2):view(64):gt(0):long() + 1   -- two classes
      local model = nn.Sequential():add(nn.SpatialConvolution(1, 4, 3, 3, 1, 1, 1, 1))
                                   :add(nn.SpatialBatchNormalization(4)):add(nn.ReLU())
                                   :add(nn.SpatialMaxPooling(2, 2, 2, 2))
                                   :add(nn.View(-1):setNumInputDims(3)):add(nn.Linear(64, 2))
      local crit = nn.CrossEntropyCriterion()
      devModule(model)
      devModule(crit)
      local params, grads = model:getParameters()
      local gx = dev(x)
      local function feval()
        grads:zero()
        local loss = crit:forward(model:forward(gx), t)
        model:backward(gx, crit:backward(model.output, t))
        return loss, grads
      end
      local first
      local config = { learningRate = algo == 'sgd' and 0.1 or 0.01, momentum = 0.9 }
      for step = 1, 150 do
        local _, fs = optim[algo](feval, params, config)
        first = first or fs[1]
      end
      local last = feval()
      assert.is_true(last < 0.3 * first, ('loss %g -> %g'):format(first, last))
      model:evaluate()
      local yg = model:forward(gx):double()
      model:float()
      assert.equal('torch.FloatTensor', model:type())
      close(model:forward(x), yg, 'the trained model on the CPU')
    end)
  end

  it('a model trained on the GPU saves and loads as a CPU model', function()
    local model = devModule(nn.Sequential():add(nn.Linear(5, 4)):add(nn.Tanh()):add(nn.Linear(4, 2)))
    local x = torch.randn(3, 5)
    local y = model:forward(dev(x)):float()
    local path = os.tmpname()
    torch.save(path, model:clone():float())
    local loaded = torch.load(path)
    os.remove(path)
    assert.equal('torch.FloatTensor', loaded.modules[1].weight:type())
    close(loaded:forward(x), y, 'loaded model')
  end)
end)
