-- nn: the Module protocol, containers, getParameters, every module's and criterion's
-- gradients against finite differences (float64; batch of 1 and more; non-contiguous
-- inputs), the criterions' reductions, the error messages, and XOR.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local jac = nn.Jacobian
local TOL = 1e-7

-- inputs for gradient checks: a vector, a batch of 1, a batch of 4, and a
-- non-contiguous batch of 4 (the transpose of a 3x4 tensor)
local function inputs(n)
  return {
    vector = torch.randn(n, 'float64'),
    batch1 = torch.randn(1, n, 'float64'),
    batch4 = torch.randn(4, n, 'float64'),
    strided = torch.randn(n, 4, 'float64'):t(),
  }
end

-- every parameter of m against finite differences, and the input
local function checkGradients(m, x, what)
  H.near(jac.testJacobian(m, x), 0, TOL, what .. ': gradInput')
  local params, gradParams = m:parameters()
  for i, p in ipairs(params or {}) do
    H.near(jac.testJacobianParameters(m, x, p, gradParams[i]), 0, TOL, what .. ': parameter ' .. i)
  end
end

describe('nn', function()
  before_each(function() torch.manualSeed(123) end)

  describe('classes', function()
    it('are callable tables with Torch7 type names', function()
      assert.are.equal(nn, _G.nn)
      local m = nn.Linear(3, 4)
      assert.are.equal('nn.Linear', torch.type(m))
      assert.is_true(nn.isTypeOf(m, 'nn.Module'))
      assert.is_false(nn.isTypeOf(m, 'nn.Criterion'))
      assert.is_true(nn.isTypeOf(nn.MSECriterion(), 'nn.Criterion'))
      assert.are.equal('nn.Sequential', torch.type(nn.Sequential()))
      assert.are.equal(nn.Module.forward, m.forward)
    end)

    it('print as Torch7 does', function()
      assert.are.equal('nn.Linear(784 -> 512)', tostring(nn.Linear(784, 512)))
      assert.are.equal('nn.Linear(3 -> 2) without bias', tostring(nn.Linear(3, 2, false)))
      assert.are.equal('nn.Tanh', tostring(nn.Tanh()))
      local s = nn.Sequential():add(nn.Linear(2, 3)):add(nn.Sequential():add(nn.ReLU()))
      assert.are.equal(table.concat({
        'nn.Sequential {',
        '  [input -> (1) -> (2) -> output]',
        '  (1): nn.Linear(2 -> 3)',
        '  (2): nn.Sequential {',
        '    [input -> (1) -> output]',
        '    (1): nn.ReLU',
        '  }',
        '}' }, '\n'), tostring(s))
    end)
  end)

  describe('Linear', function()
    it('computes x W^T + b for vectors and batches', function()
      local m = nn.Linear(3, 2):double()
      m.weight:copy(torch.DoubleTensor({ { 1, 2, 3 }, { -1, 0, 1 } }))
      m.bias:copy(torch.DoubleTensor({ 10, 20 }))
      H.near(m:forward(torch.DoubleTensor({ 1, 1, 1 })), { 16, 20 })
      H.near(m:forward(torch.DoubleTensor({ { 1, 0, 0 }, { 0, 0, 2 } })), { { 11, 19 }, { 16, 22 } })
      m:noBias()
      H.near(m:forward(torch.DoubleTensor({ { 1, 0, 0 } })), { { 1, -1 } })
    end)

    it('initialises uniformly in [-1/sqrt(in), 1/sqrt(in)]', function()
      local m = nn.Linear(100, 50)
      local bound = 1 / math.sqrt(100)
      assert.is_true(m.weight:max() <= bound and m.weight:min() >= -bound)
      assert.is_true(m.weight:max() > 0.8 * bound and m.weight:min() < -0.8 * bound)
      assert.is_true(m.bias:abs():max() <= bound)
      assert.are.equal('torch.FloatTensor', m.weight:type())
    end)

    it('passes the gradient check', function()
      for name, x in pairs(inputs(3)) do
        checkGradients(nn.Linear(3, 5):double(), x, 'Linear ' .. name)
        checkGradients(nn.Linear(3, 2, false):double(), x, 'Linear without bias ' .. name)
      end
    end)

    it('scales accumulated gradients and accumulates across calls', function()
      local m = nn.Linear(3, 2):double()
      local x, g = torch.randn(4, 3, 'float64'), torch.randn(4, 2, 'float64')
      m:zeroGradParameters()
      m:forward(x)
      m:backward(x, g)
      local gw, gb = m.gradWeight:clone(), m.gradBias:clone()
      m:accGradParameters(x, g, 0.5)
      H.near(m.gradWeight, gw * 1.5, 1e-12)
      H.near(m.gradBias, gb * 1.5, 1e-12)
      H.near(gw, torch.mm(g:t(), x), 1e-12)
      H.near(gb, g:sum(1):view(2), 1e-12)
    end)

    it('names a wrong input size', function()
      local m = nn.Linear(4, 2)
      H.raises('nn.Linear: input has 5 features, expected 4', m.forward, m, torch.randn(3, 5))
      H.raises('nn.Linear: expected a vector or a matrix (N, 4), got size 2x2x4', m.forward, m,
               torch.randn(2, 2, 4))
      m:forward(torch.randn(3, 4))
      H.raises('nn.Linear: gradOutput has size 3x3, expected 3x2', m.backward, m, torch.randn(3, 4),
               torch.randn(3, 3))
      H.raises('sizes must be positive integers', nn.Linear, 0, 3)
    end)
  end)

  describe('activations', function()
    for _, name in ipairs { 'ReLU', 'Tanh', 'Sigmoid', 'SoftMax', 'LogSoftMax', 'Identity' } do
      it(name .. ' passes the gradient check', function()
        for kind, x in pairs(inputs(5)) do checkGradients(nn[name]():double(), x, name .. ' ' .. kind) end
      end)
    end

    it('compute the right values', function()
      local x = torch.DoubleTensor({ { -1, 0.5, 2 }, { 3, -4, 0 } })
      H.near(nn.ReLU():double():forward(x), { { 0, 0.5, 2 }, { 3, 0, 0 } })
      H.near(nn.Tanh():double():forward(x)[1], { math.tanh(-1), math.tanh(0.5), math.tanh(2) }, 1e-15)
      H.near(nn.Sigmoid():double():forward(x)[2][1], 1 / (1 + math.exp(-3)), 1e-15)
      local p = nn.SoftMax():double():forward(x)
      H.near(p:sum(2), { { 1 }, { 1 } }, 1e-15)
      local z = math.exp(-1) + math.exp(0.5) + math.exp(2)
      H.near(p[1], { math.exp(-1) / z, math.exp(0.5) / z, math.exp(2) / z }, 1e-15)
      H.near(nn.LogSoftMax():double():forward(x), p:log(), 1e-14)
      -- large scores do not overflow
      H.near(nn.LogSoftMax():double():forward(torch.DoubleTensor({ 1000, 1000 })), { -math.log(2), -math.log(2) }, 1e-12)
      H.near(nn.SoftMax(1):double():forward(x):sum(1), { { 1, 1, 1 } }, 1e-15)
    end)

    it('need forward before backward', function()
      H.raises('nn.Tanh: updateGradInput called before forward on an input of size 2x3',
               function() return nn.Tanh():backward(torch.randn(2, 3), torch.randn(2, 3)) end)
      local m = nn.Sigmoid()
      m:forward(torch.randn(2, 3))
      H.raises('nn.Sigmoid: gradOutput has size 3x2, expected 2x3', m.backward, m, torch.randn(2, 3),
               torch.randn(3, 2))
    end)
  end)

  describe('Sequential', function()
    local function mlp()
      return nn.Sequential():add(nn.Linear(3, 6)):add(nn.Tanh()):add(nn.Linear(6, 4))
        :add(nn.ReLU()):add(nn.Linear(4, 2)):add(nn.LogSoftMax()):double()
    end

    it('passes the gradient check for every parameter', function()
      for kind, x in pairs(inputs(3)) do checkGradients(mlp(), x, 'MLP ' .. kind) end
    end)

    it('rethrows a child error with its index, type and input size', function()
      local s = nn.Sequential():add(nn.Linear(3, 5)):add(nn.Linear(4, 2))
      local err = H.raises('nn.Sequential: module 2 (nn.Linear) failed on input of size 4x5: '
                           .. 'nn.Linear: input has 5 features, expected 4', s.forward, s, torch.randn(4, 3))
      assert.truthy(err:find('stack traceback', 1, true))
      local outer = nn.Sequential():add(nn.Identity()):add(s)
      H.raises('nn.Sequential: module 2 (nn.Sequential) failed on input of size 4x3: '
               .. 'nn.Sequential: module 2 (nn.Linear) failed', outer.forward, outer, torch.randn(4, 3))
    end)

    it('needs forward before backward, and backward before accGradParameters', function()
      local s = mlp()
      local x, g = torch.randn(2, 3, 'float64'), torch.randn(2, 2, 'float64')
      H.raises('nn.Sequential: backward called before forward', s.backward, s, x, g)
      s:forward(x)
      H.raises('nn.Sequential: accGradParameters called before backward', s.accGradParameters, s, x, g)
      s:updateGradInput(x, g)
      s:accGradParameters(x, g)
    end)

    it('gives backward = updateGradInput + accGradParameters', function()
      local a = mlp()
      local b = a:clone()
      local x, g = torch.randn(2, 3, 'float64'), torch.randn(2, 2, 'float64')
      a:zeroGradParameters(); b:zeroGradParameters()
      a:forward(x); b:forward(x)
      local ga = a:backward(x, g, 0.5)
      b:updateGradInput(x, g)
      b:accGradParameters(x, g, 0.5)
      H.near(ga, b.gradInput, 1e-14)
      local _, gpa = a:getParameters()
      local _, gpb = b:getParameters()
      H.near(gpa, gpb, 1e-14)
    end)

    it('inserts, removes, gets and counts children', function()
      local s = nn.Sequential():add(nn.Tanh()):add(nn.ReLU())
      s:insert(nn.Identity(), 2)
      assert.are.equal(3, s:size())
      assert.are.equal('nn.Identity', torch.type(s:get(2)))
      assert.are.equal('nn.ReLU', torch.type(s:remove()))
      assert.are.equal(2, #s.modules)
    end)
  end)

  describe('getParameters', function()
    it('flattens parameters and gradients; the modules then view them', function()
      local s = nn.Sequential():add(nn.Linear(3, 4)):add(nn.Tanh()):add(nn.Linear(4, 2)):double()
      local w1 = s:get(1).weight:clone()
      local params, grads = s:getParameters()
      assert.are.equal(3 * 4 + 4 + 4 * 2 + 2, params:nElement())
      assert.are.equal(params:nElement(), grads:nElement())
      assert.are.equal(1, params:dim())
      assert.is_true(params:isContiguous())
      H.near(s:get(1).weight, w1, 0)                       -- values kept
      H.near(params:narrow(1, 1, 12):view(4, 3), w1, 0)   -- in parameters() order
      params:fill(0.5)                                     -- writes reach the modules
      H.near(s:get(3).bias, { 0.5, 0.5 }, 0)
      s:zeroGradParameters()
      s:forward(torch.randn(2, 3, 'float64'))
      s:backward(torch.randn(2, 3, 'float64'), torch.randn(2, 2, 'float64'))
      H.near(grads:narrow(1, 25, 2), s:get(3).gradBias, 0)
      assert.is_true(grads:abs():sum() > 0)
    end)

    it('counts a weight shared by several modules once', function()
      local a, b = nn.Linear(3, 3):double(), nn.Linear(3, 3):double()
      b:share(a, 'weight', 'bias', 'gradWeight', 'gradBias')
      assert.is_true(b.weight:isSetTo(a.weight))
      local s = nn.Sequential():add(a):add(nn.Tanh()):add(b)
      local params, grads = s:getParameters()
      assert.are.equal(12, params:nElement())
      assert.are.equal(12, grads:nElement())
      params:zero()
      H.near(b.weight, torch.zeros(3, 3), 0)
      assert.is_true(a.weight:isSetTo(b.weight))
      -- sharing weights but not gradients cannot be flattened consistently
      local c, d = nn.Linear(2, 2), nn.Linear(2, 2)
      d:share(c, 'weight', 'bias')
      H.raises('getParameters: 6 parameters but 12 gradients',
               function() return nn.Sequential():add(c):add(d):getParameters() end)
    end)

    it('trains through the flat vector with an optimizer', function()
      local optim = require 'optim'
      local m = nn.Linear(2, 1):double()
      local x = torch.DoubleTensor({ { 1, 2 }, { 3, -1 }, { 0, 1 }, { -2, 1 } })
      local y = torch.mm(x, torch.DoubleTensor({ { 2 }, { -1 } })) + 0.5
      local crit = nn.MSECriterion():double()
      local params, grads = m:getParameters()
      local function feval()
        grads:zero()
        local loss = crit:forward(m:forward(x), y)
        m:backward(x, crit:backward(m.output, y))
        return loss, grads
      end
      for _ = 1, 500 do optim.sgd(feval, params, { learningRate = 0.1, momentum = 0.5 }) end
      H.near(m.weight, { { 2, -1 } }, 1e-6)
      H.near(m.bias, { 0.5 }, 1e-6)
    end)
  end)

  describe('Module protocol', function()
    it('clones deeply, or sharing the named fields', function()
      local m = nn.Linear(3, 2)
      local c = m:clone()
      assert.are.equal('nn.Linear', torch.type(c))
      H.near(c.weight, m.weight, 0)
      c.weight:fill(1)
      assert.is_true(m.weight:max() < 1)
      local shared = m:clone('weight', 'bias')
      shared.weight:fill(2)
      H.near(m.weight, torch.full({ 2, 3 }, 2), 0)
      assert.is_false(shared.gradWeight:isSetTo(m.gradWeight))
    end)

    it('converts types, keeping shared weights shared', function()
      local a, b = nn.Linear(2, 2), nn.Linear(2, 2)
      b:share(a, 'weight')
      local s = nn.Sequential():add(a):add(b):double()
      assert.are.equal('torch.DoubleTensor', a.weight:type())
      assert.are.equal('torch.DoubleTensor', s.output:type())
      assert.is_true(b.weight:isSetTo(a.weight))
      assert.are.equal('torch.DoubleTensor', s:type())
      s:float()
      assert.are.equal('torch.FloatTensor', b.gradBias:type())
      local crit = nn.ClassNLLCriterion(torch.ones(3)):double()
      assert.are.equal('torch.DoubleTensor', crit.weights:type())
    end)

    it('updates parameters: w -= lr * dw', function()
      local m = nn.Linear(2, 2):double()
      local w = m.weight:clone()
      m.gradWeight:fill(1)
      m.gradBias:fill(2)
      local b = m.bias:clone()
      m:updateParameters(0.1)
      H.near(m.weight, w - 0.1, 1e-15)
      H.near(m.bias, b - 0.2, 1e-15)
      m:zeroGradParameters()
      assert.are.equal(0, m.gradWeight:abs():sum())
    end)

    it('switches training / evaluate through containers', function()
      local inner = nn.Tanh()
      local s = nn.Sequential():add(nn.Sequential():add(inner))
      s:evaluate()
      assert.is_false(inner.train)
      s:training()
      assert.is_true(inner.train)
    end)

    it('applies, lists and finds modules', function()
      local l1, l2 = nn.Linear(2, 3), nn.Linear(3, 1)
      local inner = nn.Sequential():add(l2)
      local s = nn.Sequential():add(l1):add(nn.Tanh()):add(inner)
      local list = s:listModules()
      assert.are.equal(5, #list)
      assert.are.equal(s, list[1])
      assert.are.equal(l2, list[5])
      local found, containers = s:findModules('nn.Linear')
      assert.are.same({ l1, l2 }, found)
      assert.are.same({ s, inner }, containers)
      local n = 0
      s:apply(function() n = n + 1 end)
      assert.are.equal(5, n)
    end)

    it('clears state', function()
      local s = nn.Sequential():add(nn.Linear(3, 2)):add(nn.Tanh())
      s:forward(torch.randn(4, 3))
      s:clearState()
      assert.are.equal(0, s:get(1).output:nElement())
      assert.are.equal(0, s:get(2).output:nElement())
      assert.are.equal(0, s.output:nElement())
      assert.are.equal(6, s:get(1).weight:nElement())
    end)
  end)

  describe('criterions', function()
    it('MSE: values and gradients for every reduction', function()
      local x, t = torch.randn(3, 4, 'float64'), torch.randn(3, 4, 'float64')
      local d = x - t
      H.near(nn.MSECriterion():double():forward(x, t), d:dot(d) / 12, 1e-14)
      local sum = nn.MSECriterion(false):double()
      H.near(sum:forward(x, t), d:dot(d), 1e-13)
      H.near(sum:backward(x, t), d * 2, 1e-14)
      H.near(nn.MSECriterion('none'):double():forward(x, t), torch.cmul(d, d), 1e-14)
      for _, r in ipairs { 'mean', 'sum' } do
        H.near(jac.testCriterion(nn.MSECriterion(r):double(), x, t), 0, TOL, 'MSE ' .. r)
        H.near(jac.testCriterion(nn.MSECriterion(r):double(), x:t(), t:t()), 0, TOL, 'MSE strided')
      end
      H.raises('nn.MSECriterion: target has size 4x3, expected 3x4',
               function() return nn.MSECriterion():forward(torch.randn(3, 4), torch.randn(4, 3)) end)
      H.raises("reduction must be 'mean', 'sum' or 'none'", nn.MSECriterion, 'avg')
    end)

    it('ClassNLL: weighted mean over 1-based targets, ignoring ignoreIndex', function()
      local x = torch.DoubleTensor({ { -1, -2, -3 }, { -4, -5, -6 }, { -7, -8, -9 } })
      local t = torch.LongTensor({ 3, 1, 2 })
      H.near(nn.ClassNLLCriterion():double():forward(x, t), (3 + 4 + 8) / 3, 1e-14)
      H.near(nn.ClassNLLCriterion(nil, false):double():forward(x, t), 15, 1e-14)
      local w = torch.DoubleTensor({ 1, 2, 3 })
      -- weights of the targets: 3, 1, 2 -> (3*3 + 1*4 + 2*8) / 6
      H.near(nn.ClassNLLCriterion(w):double():forward(x, t), 29 / 6, 1e-14)
      local ignoring = nn.ClassNLLCriterion(nil, 'mean', 2):double()
      H.near(ignoring:forward(x, t), (3 + 4) / 2, 1e-14)
      H.near(ignoring:backward(x, t), { { 0, 0, -0.5 }, { -0.5, 0, 0 }, { 0, 0, 0 } }, 1e-15)
      H.near(nn.ClassNLLCriterion(nil, 'none'):double():forward(x, t), { 3, 4, 8 }, 1e-15)
      H.near(nn.ClassNLLCriterion():double():forward(x[2], 2), 5, 1e-15)   -- one sample, number target
      for _, crit in ipairs { nn.ClassNLLCriterion():double(), nn.ClassNLLCriterion(w, false):double(), ignoring } do
        H.near(jac.testCriterion(crit, torch.randn(3, 3, 'float64'), t), 0, TOL, 'ClassNLL')
        H.near(jac.testCriterion(crit, torch.randn(3, 3, 'float64'):t(), t), 0, TOL, 'ClassNLL strided')
        H.near(jac.testCriterion(crit, torch.randn(1, 3, 'float64'), torch.LongTensor({ 3 })), 0, TOL)
      end
    end)

    it('ClassNLL and CrossEntropy: name a target out of range and a missing forward', function()
      local crit = nn.ClassNLLCriterion()
      H.raises('nn.ClassNLLCriterion: nll: target 4 out of range for 3 classes', crit.forward, crit,
               torch.randn(2, 3), torch.LongTensor({ 1, 4 }))
      H.raises('nn.ClassNLLCriterion: nll: target 0 out of range for 3 classes', crit.forward, crit,
               torch.randn(2, 3), torch.LongTensor({ 0, 1 }))
      H.raises('nll: target 3 does not match input 2x3', crit.forward, crit,
               torch.randn(2, 3), torch.LongTensor({ 1, 2, 3 }))
      H.raises('nn.ClassNLLCriterion: target must be a LongTensor of classes or a number, got string',
               crit.forward, crit, torch.randn(2, 3), 'cat')
      local ce = nn.CrossEntropyCriterion()
      H.raises('nn.CrossEntropyCriterion: cross_entropy: target 4 out of range for 3 classes', ce.forward, ce,
               torch.randn(2, 3), torch.LongTensor({ 1, 4 }))
      H.raises('nn.CrossEntropyCriterion: backward called before forward on an input of size 2x3',
               ce.backward, nn.CrossEntropyCriterion(), torch.randn(2, 3), torch.LongTensor({ 1, 3 }))
      H.raises('nn.ClassNLLCriterion: backward called before forward', crit.backward,
               nn.ClassNLLCriterion(), torch.randn(2, 3), torch.LongTensor({ 1, 3 }))
    end)

    it('CrossEntropy = LogSoftMax + ClassNLL', function()
      local x, t = torch.randn(4, 5, 'float64'), torch.LongTensor({ 5, 1, 2, 2 })
      local ce = nn.CrossEntropyCriterion():double()
      local lsm = nn.LogSoftMax():double()
      local nll = nn.ClassNLLCriterion():double()
      H.near(ce:forward(x, t), nll:forward(lsm:forward(x), t), 1e-14)
      H.near(ce:backward(x, t), lsm:backward(x, nll:backward(lsm.output, t)), 1e-14)
      H.near(jac.testCriterion(ce, x, t), 0, TOL, 'CrossEntropy')
      H.near(jac.testCriterion(nn.CrossEntropyCriterion(torch.rand(5, 'float64'), false):double(),
                             torch.randn(5, 4, 'float64'):t(), t), 0, TOL, 'CrossEntropy strided')
      ce.sizeAverage = false
      H.near(ce:forward(x, t), nll:forward(lsm:forward(x), t) * 4, 1e-13)
      local none = nn.CrossEntropyCriterion(nil, 'none'):double()
      H.near(none:forward(x, t):sum(), ce:forward(x, t), 1e-13)
      -- 'none' backward takes the per-sample gradient: ones give the 'sum' gradient
      H.near(none:backward(x, t, torch.ones(4, 'float64')), ce:backward(x, t), 1e-14)
      local scaled = torch.DoubleTensor({ 1, 0, 2, 0 })
      local nllNone = nn.ClassNLLCriterion(nil, 'none'):double()
      nllNone:forward(x, t)
      H.near(nllNone:backward(x, t, scaled)[3], { 0, -2, 0, 0, 0 }, 0)
      H.near(nllNone:backward(x, t, scaled)[2], { 0, 0, 0, 0, 0 }, 0)
    end)
  end)

  describe('XOR (examples/xor.lua)', function()
    local xor = dofile('examples/xor.lua')

    it('is beyond a perceptron', function()
      torch.manualSeed(1)
      local model = xor.perceptron()
      xor.train(model)
      assert.is_true(xor.accuracy(model) < 1)
    end)

    it('is learned by a two-layer MLP', function()
      torch.manualSeed(1)
      local model = xor.mlp()
      local loss = xor.train(model)
      assert.are.equal(1, xor.accuracy(model))
      assert.is_true(loss < 0.01)
    end)
  end)
end)
