-- The criterions beyond MSE and NLL, and nn.Bilinear: losses and gradients against
-- PyTorch fixtures for every reduction (fixtures/criterion_make.py), gradients against
-- finite differences in float64 (also for 'none' through a random gradOutput), weights
-- and margins, Torch7's sizeAverage, and the error messages.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local jac = nn.Jacobian
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local fx = dofile(here .. 'fixtures/criterion_cases.lua')

local FWD_TOL, GRAD_TOL = 1e-12, 1e-7

-- a fixture entry {size, data} as a float64 tensor
local function T(entry) return torch.DoubleTensor(entry.data):view(entry.size) end

-- the criterion a fixture case describes (its name up to the reduction says which)
local make = {
  abs = function(c) return nn.AbsCriterion(c.reduction) end,
  smoothl1 = function(c) return nn.SmoothL1Criterion(c.reduction, c.beta) end,
  bce = function(c) return nn.BCECriterion(c.weights and T(c.weights), c.reduction) end,
  bcelogits = function(c)
    return nn.BCEWithLogitsCriterion(c.weights and T(c.weights), c.posWeight and T(c.posWeight),
                                     c.reduction)
  end,
  distkl = function(c) return nn.DistKLDivCriterion(c.reduction) end,
  margin = function(c) return nn.MarginCriterion(c.margin, c.reduction) end,
  multimargin = function(c)
    return nn.MultiMarginCriterion(c.p, c.weights and T(c.weights), c.margin, c.reduction)
  end,
  cosine = function(c) return nn.CosineEmbeddingCriterion(c.margin, c.reduction) end,
}

local function fixtureTarget(kind, c)
  local t = T(c.target)
  return kind == 'multimargin' and t:long() or t
end

-- A criterion as a scalar function of one tensor, for nn.Jacobian.testCriterion: 'none'
-- losses are reduced with weights r (backward gets r as gradOutput); with `which`, the
-- input is the table {x, other} (which = 1) or {other, x} (which = 2).
local function scalarOf(crit, r, which, other)
  local function pack(x)
    if not which then return x end
    return which == 1 and { x, other } or { other, x }
  end
  return {
    forward = function(_, x, t)
      local out = crit:forward(pack(x), t)
      return r and out:dot(r) or out
    end,
    backward = function(_, x, t)
      local g = crit:backward(pack(x), t, r)
      return which and g[which] or g
    end,
  }
end

describe('criterions', function()
  before_each(function() torch.manualSeed(7) end)

  describe('match PyTorch', function()
    local names = {}
    for name in pairs(fx) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      it(name, function()
        local c = fx[name]
        local kind = name:match('^([^_]+)')
        local crit = make[kind](c):double()
        local input = kind == 'cosine' and { T(c.input1), T(c.input2) } or T(c.input1)
        local target = fixtureTarget(kind, c)
        local out = crit:forward(input, target)
        if c.reduction == 'none' then
          assert.is_true(torch.isTensor(out))
          H.near(out, T(c.output), FWD_TOL, 'loss')
        else
          assert.are.equal('number', type(out))
          H.near(out, c.output.data[1], FWD_TOL, 'loss')
        end
        local g = crit:backward(input, target)
        if kind == 'cosine' then
          H.near(g[1], T(c.grad1), FWD_TOL, 'gradient of x1')
          H.near(g[2], T(c.grad2), FWD_TOL, 'gradient of x2')
        else
          H.near(g, T(c.grad1), FWD_TOL, 'gradient')
        end
      end)
    end
  end)

  describe('gradients against finite differences', function()
    local function check(build, input, target, what)
      for _, red in ipairs { 'mean', 'sum', 'none' } do
        local crit = build(red):double()
        local r = red == 'none' and torch.rand(crit:forward(input, target):size(), 'float64') or nil
        H.near(jac.testCriterion(scalarOf(crit, r), input, target), 0, GRAD_TOL, what .. ' ' .. red)
      end
    end

    it('AbsCriterion and SmoothL1Criterion', function()
      local x, t = torch.randn(4, 5, 'float64'), torch.randn(4, 5, 'float64')
      check(function(r) return nn.AbsCriterion(r) end, x, t, 'abs')
      for _, beta in ipairs { 1, 0.3, 0 } do
        check(function(r) return nn.SmoothL1Criterion(r, beta) end, x, t, 'smoothl1 ' .. beta)
      end
    end)

    it('BCECriterion with and without weights', function()
      local x = torch.rand(3, 4, 'float64'):mul(0.9):add(0.05)
      local t = torch.rand(3, 4, 'float64')
      check(function(r) return nn.BCECriterion(nil, r) end, x, t, 'bce')
      local w = torch.rand(4, 'float64'):add(0.5)
      check(function(r) return nn.BCECriterion(w, r) end, x, t, 'bce weights')
    end)

    it('BCEWithLogitsCriterion with weights and posWeight', function()
      local x, t = torch.randn(3, 4, 'float64'):mul(3), torch.rand(3, 4, 'float64')
      local w, pw = torch.rand(3, 4, 'float64'):add(0.5), torch.rand(4, 'float64'):mul(3)
      check(function(r) return nn.BCEWithLogitsCriterion(nil, nil, r) end, x, t, 'logits')
      check(function(r) return nn.BCEWithLogitsCriterion(w, pw, r) end, x, t, 'logits weighted')
    end)

    it('DistKLDivCriterion', function()
      local x = torch.randn(3, 5, 'float64')
      local t = torch.rand(3, 5, 'float64')
      t[2][3] = 0
      check(function(r) return nn.DistKLDivCriterion(r) end, x, t, 'distkl')
    end)

    it('MarginCriterion', function()
      local x = torch.randn(4, 3, 'float64')
      local t = torch.sign(torch.randn(4, 3, 'float64'))
      for _, m in ipairs { 1, 0.2 } do
        check(function(r) return nn.MarginCriterion(m, r) end, x, t, 'margin ' .. m)
      end
    end)

    it('MultiMarginCriterion for p 1 and 2, weights and margins; batch and vector', function()
      local x, t = torch.randn(5, 4, 'float64'), torch.LongTensor({ 1, 4, 2, 2, 3 })
      local w = torch.rand(4, 'float64'):add(0.5)
      for _, p in ipairs { 1, 2 } do
        check(function(r) return nn.MultiMarginCriterion(p, nil, nil, r) end, x, t, 'p ' .. p)
        check(function(r) return nn.MultiMarginCriterion(p, w, 0.4, r) end, x, t, 'weighted ' .. p)
      end
      local v = torch.randn(4, 'float64')
      H.near(jac.testCriterion(nn.MultiMarginCriterion(2):double(), v, 3), 0, GRAD_TOL, 'vector')
      H.near(nn.MultiMarginCriterion(1):forward(v, 3),
             nn.MultiMarginCriterion(1):forward(v:view(1, 4), torch.LongTensor({ 3 })), 1e-15)
    end)

    it('CosineEmbeddingCriterion, both inputs, both target signs', function()
      local x1, x2 = torch.randn(6, 4, 'float64'), torch.randn(6, 4, 'float64')
      local t = torch.DoubleTensor({ 1, -1, -1, 1, -1, 1 })
      for _, m in ipairs { 0, -0.5 } do   -- margin -0.5: most negative pairs are active
        for _, red in ipairs { 'mean', 'sum', 'none' } do
          local crit = nn.CosineEmbeddingCriterion(m, red):double()
          local r = red == 'none' and torch.rand(6, 'float64') or nil
          H.near(jac.testCriterion(scalarOf(crit, r, 1, x2), x1, t), 0, GRAD_TOL, 'x1 ' .. red)
          H.near(jac.testCriterion(scalarOf(crit, r, 2, x1), x2, t), 0, GRAD_TOL, 'x2 ' .. red)
        end
      end
      local crit = nn.CosineEmbeddingCriterion()
      H.near(crit:forward({ x1[1], x2[1] }, 1), 1 - torch.dot(x1[1], x2[1])
             / (x1[1]:norm() * x2[1]:norm()), 1e-12, 'vectors, a number target')
    end)
  end)

  describe('semantics', function()
    it('keep Torch7 sizeAverage set after construction', function()
      local x, t = torch.randn(3, 4, 'float64'), torch.randn(3, 4, 'float64')
      local mean = nn.AbsCriterion():forward(x, t)
      local crit = nn.AbsCriterion()
      crit.sizeAverage = false
      H.near(crit:forward(x, t), mean * 12, 1e-12)
      H.near(nn.SmoothL1Criterion(false):forward(x, t), nn.SmoothL1Criterion():forward(x, t) * 12,
             1e-12)
    end)

    it('BCE stays finite at 0 and 1 (logs clamped at -100); BCEWithLogits at huge logits', function()
      local bce = nn.BCECriterion(nil, 'sum')
      H.near(bce:forward(torch.DoubleTensor({ 0, 1 }), torch.DoubleTensor({ 1, 0 })), 200, 0)
      local logits = nn.BCEWithLogitsCriterion(nil, nil, 'none')
      H.near(logits:forward(torch.DoubleTensor({ 1000, -1000 }), torch.DoubleTensor({ 0, 1 })),
             { 1000, 1000 }, 1e-12)
      H.near(logits:backward(torch.DoubleTensor({ 1000, -1000 }), torch.DoubleTensor({ 0, 1 })),
             { 1, -1 }, 1e-12)
    end)

    it('SmoothL1 with beta 0 is the L1 loss', function()
      local x, t = torch.randn(3, 4, 'float64'), torch.randn(3, 4, 'float64')
      H.near(nn.SmoothL1Criterion(nil, 0):forward(x, t), nn.AbsCriterion():forward(x, t), 1e-15)
    end)

    it('work in float32', function()
      local x, t = torch.rand(3, 4):mul(0.8):add(0.1), torch.rand(3, 4)
      local ref = nn.BCECriterion():forward(x:double(), t:double())
      H.near(nn.BCECriterion():float():forward(x, t), ref, 1e-5)
      assert.are.equal('torch.FloatTensor', nn.BCECriterion():backward(x, t):type())
    end)

    it('print their settings', function()
      assert.are.equal('nn.SmoothL1Criterion(beta 0.5)', tostring(nn.SmoothL1Criterion(nil, 0.5)))
      assert.are.equal('nn.MarginCriterion(margin 1)', tostring(nn.MarginCriterion()))
      assert.are.equal('nn.MultiMarginCriterion(p 2, margin 0.5)',
                       tostring(nn.MultiMarginCriterion(2, nil, 0.5)))
      assert.are.equal('nn.AbsCriterion', tostring(nn.AbsCriterion()))
    end)
  end)

  describe('errors', function()
    it('name the criterion and the problem', function()
      local x = torch.randn(3, 4, 'float64')
      H.raises("reduction must be 'mean', 'sum' or 'none', got avg", nn.AbsCriterion, 'avg')
      H.raises('nn.AbsCriterion: target has size 4x3, expected 3x4',
               function() nn.AbsCriterion():forward(x, torch.randn(4, 3, 'float64')) end)
      H.raises('beta must be a non-negative number, got -1', nn.SmoothL1Criterion, nil, -1)
      H.raises('nn.BCECriterion: input must hold probabilities in [0, 1]',
               function() nn.BCECriterion():forward(x, torch.rand(3, 4, 'float64')) end)
      H.raises('nn.BCECriterion: weights have size 3, expected 3x4 or 4',
               function() nn.BCECriterion(torch.ones(3, 'float64')):forward(x:clone():fill(0.5), x) end)
      H.raises('nn.BCEWithLogitsCriterion: posWeight must be a tensor, got number',
               nn.BCEWithLogitsCriterion, nil, 2)
      H.raises('p must be 1 or 2, got 3', nn.MultiMarginCriterion, 3)
      H.raises('nn.MultiMarginCriterion: targets must lie in 1..4, got values in [0, 2]',
               function() nn.MultiMarginCriterion():forward(x, torch.LongTensor({ 1, 0, 2 })) end)
      H.raises('nn.MultiMarginCriterion: 2 targets for 3 samples',
               function() nn.MultiMarginCriterion():forward(x, torch.LongTensor({ 1, 2 })) end)
      H.raises('nn.CosineEmbeddingCriterion: input must be a table {x1, x2} of two tensors',
               function() nn.CosineEmbeddingCriterion():forward(x, torch.ones(3)) end)
      H.raises('nn.CosineEmbeddingCriterion: expected 3 targets of +1 or -1',
               function() nn.CosineEmbeddingCriterion():forward({ x, x }, torch.ones(2)) end)
      H.raises('nn.MarginCriterion: margin must be a number, got string', nn.MarginCriterion, 'x')
    end)
  end)
end)

-- A module of x alone computing bilinear({x, other}) (which = 1) or ({other, x}), so
-- nn.Jacobian can check the gradient of each input.
local function oneInput(m, which, other)
  local function pack(x) return which == 1 and { x, other } or { other, x } end
  return {
    forward = function(_, x) return m:forward(pack(x)) end,
    updateGradInput = function(_, x, g) return m:updateGradInput(pack(x), g)[which] end,
  }
end

describe('nn.Bilinear', function()
  before_each(function() torch.manualSeed(11) end)

  it('computes y_k = x1^T W_k x2 + b_k', function()
    local m = nn.Bilinear(3, 4, 2):double()
    local x1, x2 = torch.randn(5, 3, 'float64'), torch.randn(5, 4, 'float64')
    local y = m:forward({ x1, x2 }):clone()
    assert.are.same({ 5, 2 }, y:sizeTable())
    for n = 1, 5 do
      for k = 1, 2 do
        H.near(y[n][k], torch.dot(x1[n], torch.mv(m.weight[k], x2[n])) + m.bias[k], 1e-12)
      end
    end
    H.near(m:forward({ x1[2], x2[2] }), y[2], 1e-12, 'vectors')
    local nb = nn.Bilinear(3, 4, 2, false):double()
    nb.weight:copy(m.weight)
    H.near(nb:forward({ x1, x2 }), y - m.bias:view(1, 2):expand(5, 2), 1e-12, 'without bias')
  end)

  it('has gradients matching finite differences for both inputs and the parameters', function()
    for _, bias in ipairs { true, false } do
      local m = nn.Bilinear(3, 4, 5, bias):double()
      for _, n in ipairs { 1, 3 } do
        local x1, x2 = torch.randn(n, 3, 'float64'), torch.randn(n, 4, 'float64')
        H.near(jac.testJacobian(oneInput(m, 1, x2), x1), 0, 1e-7, 'x1')
        H.near(jac.testJacobian(oneInput(m, 2, x1), x2), 0, 1e-7, 'x2')
        local params, grads = m:parameters()
        for i, p in ipairs(params) do
          H.near(jac.testJacobianParameters(m, { x1, x2 }, p, grads[i]), 0, 1e-7, 'param ' .. i)
        end
      end
      local v1, v2 = torch.randn(3, 'float64'), torch.randn(4, 'float64')
      H.near(jac.testJacobian(oneInput(m, 1, v2), v1), 0, 1e-7, 'vector x1')
      H.near(jac.testJacobian(oneInput(m, 2, v1), v2), 0, 1e-7, 'vector x2')
      H.near(jac.testJacobian(oneInput(m, 1, torch.randn(4, 2, 'float64'):t()),
                              torch.randn(3, 2, 'float64'):t()), 0, 1e-7, 'non-contiguous')
    end
  end)

  it('trains in a getParameters() vector and prints as Torch7', function()
    local m = nn.Bilinear(2, 3, 4):double()
    local p, g = m:getParameters()
    assert.are.equal(2 * 3 * 4 + 4, p:nElement())
    g:zero()
    m:backward({ torch.randn(2, 2, 'float64'), torch.randn(2, 3, 'float64') }, torch.ones(2, 4, 'float64'))
    assert.is_true(g:norm() > 0)
    assert.are.equal('nn.Bilinear(2, 3 -> 4)', tostring(m))
    assert.are.equal('nn.Bilinear(2, 3 -> 4) without bias', tostring(nn.Bilinear(2, 3, 4, false)))
  end)

  it('reports bad inputs', function()
    local m = nn.Bilinear(3, 4, 5)
    H.raises('nn.Bilinear: input must be a table {x1, x2} of two tensors',
             function() m:forward(torch.randn(2, 3)) end)
    H.raises('nn.Bilinear: inputs have sizes 2x3 and 2x5, expected (N, 3) and (N, 4)',
             function() m:forward({ torch.randn(2, 3), torch.randn(2, 5) }) end)
    H.raises('nn.Bilinear: gradOutput has size 2x4, expected 2x5',
             function() m:backward({ torch.randn(2, 3), torch.randn(2, 4) }, torch.randn(2, 4)) end)
    H.raises('sizes must be positive integers', nn.Bilinear, 3, 0, 2)
  end)
end)
