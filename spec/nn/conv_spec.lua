-- nn's convolution family: SpatialConvolution (groups, dilation), SpatialDilatedConvolution,
-- SpatialFullConvolution, TemporalConvolution, the pools, the batch norms and
-- SpatialDropout. Values and gradients against PyTorch (fixtures/conv_modules_make.py,
-- weights copied in), every gradient against finite differences in float64 (batch of 1
-- and more, strides, padding, non-contiguous inputs), train/evaluate, workspaces kept
-- across calls, type conversion, the error messages, and a W2-shaped training run.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local fx = dofile(here .. 'fixtures/conv_modules.lua')
local jac = nn.Jacobian
local TOL = 1e-7                                  -- finite differences vs backward
local FWD_TOL = { float64 = 1e-10, float32 = 1e-4 } -- vs PyTorch

local ctor = { float64 = torch.DoubleTensor, float32 = torch.FloatTensor }

-- a fixture entry {size, data} as a tensor of dtype
local function T(entry, dtype) return ctor[dtype or 'float64'](entry.data):view(entry.size) end

-- every parameter of m and the input against finite differences
local function checkGradients(m, x, what)
  H.near(jac.testJacobian(m, x), 0, TOL, what .. ': gradInput')
  local params, gradParams = m:parameters()
  for i, p in ipairs(params or {}) do
    H.near(jac.testJacobianParameters(m, x, p, gradParams[i]), 0, TOL, what .. ': parameter ' .. i)
  end
end

-- a (N, C, H, W) float64 input as a non-contiguous view (a permuted tensor)
local function strided(n, c, h, w)
  local x = torch.randn(n, h, w, c, 'float64'):permute(1, 4, 2, 3)
  assert(not x:isContiguous())
  return x
end

-- forward, backward and parameter gradients of module m (weights from the case) against
-- the fixture, in dtype
local function checkFixture(m, case, dtype, name)
  m = m:type(dtype == 'float32' and 'torch.FloatTensor' or 'torch.DoubleTensor')
  local tol = FWD_TOL[dtype]
  if case.weight then m.weight:copy(T(case.weight, dtype)) end
  if case.bias then m.bias:copy(T(case.bias, dtype)) end
  local x = T(case.input, dtype)
  H.near(m:forward(x), T(case.output), tol, name .. ' ' .. dtype .. ': output')
  m:zeroGradParameters()
  H.near(m:backward(x, T(case.gradOutput, dtype)), T(case.gradInput), tol,
         name .. ' ' .. dtype .. ': gradInput')
  if case.gradWeight then H.near(m.gradWeight, T(case.gradWeight), tol, name .. ': gradWeight') end
  if case.gradBias then H.near(m.gradBias, T(case.gradBias), tol, name .. ': gradBias') end
end

-- Asserts that the workspace field keeps its storage across calls of f.
local function keepsStorage(m, field, f)
  f()
  local ptr = m[field]:dataPtr()
  f()
  assert.are.equal(ptr, m[field]:dataPtr(), field .. ' was reallocated')
end

describe('nn convolution family', function()
  before_each(function() torch.manualSeed(123) end)

  describe('SpatialConvolution', function()
    it("has Torch7's fields, weight layout, init and printing", function()
      local m = nn.SpatialConvolution(3, 8, 5, 3, 2, 1, 2)
      assert.are.same({ 8, 3, 3, 5 }, m.weight:sizeTable())       -- nOut x nIn x kH x kW
      assert.are.same({ 8 }, m.bias:sizeTable())
      assert.are.same({ 3, 8, 5, 3, 2, 1, 2, 2 }, { m.nInputPlane, m.nOutputPlane, m.kW, m.kH,
                       m.dW, m.dH, m.padW, m.padH })                 -- padH defaults to padW
      local bound = 1 / math.sqrt(5 * 3 * 3)
      assert.is_true(m.weight:abs():max() <= bound and m.weight:abs():max() > 0.8 * bound)
      assert.is_true(m.bias:abs():max() <= bound)
      assert.are.equal('torch.FloatTensor', m.weight:type())
      assert.are.equal('nn.SpatialConvolution(1 -> 32, 3x3)', tostring(nn.SpatialConvolution(1, 32, 3, 3)))
      assert.are.equal('nn.SpatialConvolution(3 -> 8, 5x3, 2,1, 2,2)', tostring(m))
      assert.are.equal('nn.SpatialConvolution(4 -> 4, 3x3, dilation 2,2, groups 2) without bias',
                       tostring(nn.SpatialConvolution(4, 4, 3, 3, 1, 1, 0, 0, 2):setDilation(2):noBias()))
      assert.are.equal('nn.SpatialDilatedConvolution(3 -> 8, 3x3, 1,1, 2,2, 2,2)',
                       tostring(nn.SpatialDilatedConvolution(3, 8, 3, 3, 1, 1, 2, 2, 2, 2)))
      local g = nn.SpatialConvolution(4, 6, 3, 3, 1, 1, 0, 0, 2)
      assert.are.same({ 6, 2, 3, 3 }, g.weight:sizeTable())
      assert.is_true(nn.isTypeOf(nn.SpatialDilatedConvolution(1, 1, 1, 1), 'nn.SpatialConvolution'))
    end)

    for _, dtype in ipairs { 'float64', 'float32' } do
      it('matches PyTorch (stride, padding, groups, dilation) in ' .. dtype, function()
        local c = fx.conv
        checkFixture(nn.SpatialConvolution(table.unpack(c.args)), c, dtype, 'conv')
        c = fx.conv_groups_dilation
        checkFixture(nn.SpatialConvolution(table.unpack(c.args)):setDilation(1, 2), c, dtype,
                     'conv groups')
        c = fx.dilated
        checkFixture(nn.SpatialDilatedConvolution(table.unpack(c.args)), c, dtype, 'dilated')
      end)
    end

    it('passes the gradient check', function()
      checkGradients(nn.SpatialConvolution(2, 3, 3, 3):double(), torch.randn(1, 2, 5, 5, 'float64'),
                     'batch 1')
      checkGradients(nn.SpatialConvolution(2, 3, 3, 2, 2, 2, 1, 1):double(),
                     torch.randn(3, 2, 6, 5, 'float64'), 'stride 2, padding')
      checkGradients(nn.SpatialConvolution(3, 2, 2, 3, 1, 2, 1, 0):double(), strided(2, 3, 5, 4),
                     'non-contiguous')
      checkGradients(nn.SpatialConvolution(2, 3, 3, 3, 1, 1, 1, 1):double(), torch.randn(2, 4, 4, 'float64'),
                     'no batch dim')
      checkGradients(nn.SpatialConvolution(4, 6, 3, 3, 2, 1, 1, 2, 2):setDilation(2, 1):double(),
                     torch.randn(2, 4, 6, 6, 'float64'), 'groups and dilation')
      checkGradients(nn.SpatialConvolution(2, 3, 3, 3):noBias():double(),
                     torch.randn(2, 2, 4, 4, 'float64'), 'without bias')
    end)

    it('names wrong channel counts, dims and sizes', function()
      local m = nn.SpatialConvolution(1, 4, 3, 3)
      H.raises('nn.SpatialConvolution: input has 3 channels, expected 1', m.forward, m,
               torch.randn(2, 3, 8, 8))
      H.raises('nn.SpatialConvolution: expected an input (N, 1, H, W) or (1, H, W), got size 8x8',
               m.forward, m, torch.randn(8, 8))
      H.raises({ 'nn.SpatialConvolution: ', 'larger than the padded input 2x2' }, m.forward, m,
               torch.randn(1, 1, 2, 2))
      m:forward(torch.randn(2, 1, 8, 8))
      H.raises('nn.SpatialConvolution: ', m.backward, m, torch.randn(2, 1, 8, 8), torch.randn(2, 4, 5, 5))
      H.raises('groups must divide', nn.SpatialConvolution, 3, 4, 3, 3, 1, 1, 0, 0, 2)
      H.raises('sizes must be positive integers', nn.SpatialConvolution, 0, 4, 3, 3)
    end)

    it('skips the gradient of the input when gradInput is nil (a first layer, as Torch7)', function()
      local m = nn.SpatialConvolution(2, 3, 3, 3):double()
      local ref = m:clone()
      local x, g = torch.randn(2, 2, 5, 5, 'float64'), torch.randn(2, 3, 3, 3, 'float64')
      m.gradInput = nil
      local net = nn.Sequential():add(m):add(nn.ReLU():double())
      net:zeroGradParameters()
      ref:zeroGradParameters()
      net:forward(x)
      assert.is_nil(net:backward(x, torch.ones(2, 3, 3, 3, 'float64')))
      m:zeroGradParameters()
      assert.is_nil(m:backward(x, g))
      ref:forward(x)
      ref:backward(x, g)
      H.near(m.gradWeight, ref.gradWeight, 1e-12)
      H.near(m.gradBias, ref.gradBias, 1e-12)
    end)

    it('keeps its workspace across calls, clears it, and converts types', function()
      local m = nn.SpatialConvolution(3, 4, 3, 3, 1, 1, 1, 1)
      local x, g = torch.randn(2, 3, 6, 6), torch.randn(2, 4, 6, 6)
      keepsStorage(m, 'finput', function() m:forward(x) m:backward(x, g) end)
      keepsStorage(m, 'output', function() m:forward(x) end)
      keepsStorage(m, 'gradInput', function() m:backward(x, g) end)
      m:clearState()
      assert.are.equal(0, m.finput:nElement())
      assert.are.equal(0, m.output:nElement())
      local y = m:forward(x):clone()
      m:double()
      assert.are.equal('torch.DoubleTensor', m.weight:type())
      assert.are.equal('torch.DoubleTensor', m.finput:type())
      H.near(m:forward(x:double()), y, 1e-5)
      m:float()
      assert.are.equal('torch.FloatTensor', m:forward(x):type())
    end)
  end)

  describe('SpatialFullConvolution', function()
    it("has Torch7's weight layout and printing", function()
      local m = nn.SpatialFullConvolution(16, 8, 3, 3, 2, 2, 1, 1, 1, 1)
      assert.are.same({ 16, 8, 3, 3 }, m.weight:sizeTable())        -- nIn x nOut x kH x kW
      assert.are.equal('nn.SpatialFullConvolution(16 -> 8, 3x3, 2,2, 1,1, 1,1)', tostring(m))
      assert.are.same({ 1, 8, 8, 8 }, m:forward(torch.randn(1, 16, 4, 4)):sizeTable())
      H.raises('adjW and adjH must be smaller than dW and dH', nn.SpatialFullConvolution,
               2, 2, 3, 3, 2, 2, 0, 0, 2, 0)
    end)

    for _, dtype in ipairs { 'float64', 'float32' } do
      it('matches PyTorch (stride, padding, adj) in ' .. dtype, function()
        checkFixture(nn.SpatialFullConvolution(table.unpack(fx.full.args)), fx.full, dtype, 'full')
      end)
    end

    it('passes the gradient check', function()
      checkGradients(nn.SpatialFullConvolution(2, 3, 3, 3):double(), torch.randn(1, 2, 3, 3, 'float64'),
                     'batch 1')
      checkGradients(nn.SpatialFullConvolution(2, 3, 3, 2, 2, 2, 1, 0, 1, 1):double(),
                     strided(2, 2, 3, 4), 'stride 2, non-contiguous')
      local m = nn.SpatialFullConvolution(3, 2, 3, 3, 2, 2, 1, 1)
      H.raises('nn.SpatialFullConvolution: input has 2 channels, expected 3', m.forward, m,
               torch.randn(1, 2, 4, 4))
    end)
  end)

  describe('TemporalConvolution', function()
    it("has Torch7's weight layout (F, kW*C) and matches PyTorch", function()
      local m = nn.TemporalConvolution(3, 4, 3, 2)
      assert.are.same({ 4, 9 }, m.weight:sizeTable())
      assert.are.equal('nn.TemporalConvolution(3 -> 4, 3, 2)', tostring(m))
      for _, dtype in ipairs { 'float64', 'float32' } do
        checkFixture(nn.TemporalConvolution(3, 4, 3, 2), fx.temporal, dtype, 'temporal')
      end
      -- a (T, C) sequence is a batch of one
      m:double()
      local x = torch.randn(9, 3, 'float64')
      local y = m:forward(x):clone()
      H.near(y, m:forward(x:view(1, 9, 3)):select(1, 1), 1e-14)
    end)

    it('passes the gradient check', function()
      checkGradients(nn.TemporalConvolution(3, 4, 3):double(), torch.randn(1, 6, 3, 'float64'), 'batch 1')
      checkGradients(nn.TemporalConvolution(3, 2, 2, 2):double(), torch.randn(3, 7, 3, 'float64'), 'stride 2')
      checkGradients(nn.TemporalConvolution(3, 2, 3):double(), torch.randn(5, 3, 'float64'), 'no batch dim')
      checkGradients(nn.TemporalConvolution(3, 2, 2):double(), torch.randn(3, 6, 2, 'float64'):transpose(1, 3),
                     'non-contiguous')
    end)

    it('names wrong frame sizes, dims and lengths', function()
      local m = nn.TemporalConvolution(3, 4, 3)
      H.raises('nn.TemporalConvolution: input has 5 features per frame, expected 3', m.forward, m,
               torch.randn(2, 6, 5))
      H.raises('nn.TemporalConvolution: expected an input (N, T, 3) or (T, 3), got size 2x2x6x3',
               m.forward, m, torch.randn(2, 2, 6, 3))
      H.raises('nn.TemporalConvolution: input has 2 frames, the kernel needs 3', m.forward, m,
               torch.randn(2, 2, 3))
      m:forward(torch.randn(2, 6, 3))
      H.raises('nn.TemporalConvolution: gradOutput has size 2x3x4, expected 2x4x4', m.backward, m,
               torch.randn(2, 6, 3), torch.randn(2, 3, 4))
    end)
  end)

  describe('pooling', function()
    it("has Torch7's defaults and printing", function()
      local mp = nn.SpatialMaxPooling(3, 2)
      assert.are.same({ 3, 2, 3, 2, 0, 0 }, { mp.kW, mp.kH, mp.dW, mp.dH, mp.padW, mp.padH })
      local ap = nn.SpatialAveragePooling(3, 2)
      assert.are.same({ 1, 1, true, false }, { ap.dW, ap.dH, ap.count_include_pad, ap.ceil_mode })
      assert.are.equal('nn.SpatialMaxPooling(2x2, 2,2)', tostring(nn.SpatialMaxPooling(2, 2)))
      assert.are.equal('nn.SpatialMaxPooling(3x3, 2,2, 1,1)', tostring(nn.SpatialMaxPooling(3, 3, 2, 2, 1, 1)))
      assert.are.equal('nn.SpatialAveragePooling(3x3, 1,1, 1,1)', tostring(nn.SpatialAveragePooling(3, 3, 1, 1, 1, 1)))
      assert.are.equal('nn.SpatialAdaptiveAveragePooling(2x3)', tostring(nn.SpatialAdaptiveAveragePooling(2, 3)))
      assert.are.equal(mp, mp:ceil())
      assert.is_true(mp.ceil_mode)
      assert.is_false(mp:floor().ceil_mode)
      assert.is_false(ap:setCountExcludePad().count_include_pad)
      assert.is_true(ap:setCountIncludePad().count_include_pad)
    end)

    for _, dtype in ipairs { 'float64', 'float32' } do
      it('match PyTorch (ceil, padding, count_include_pad, adaptive) in ' .. dtype, function()
        local c = fx.maxpool_ceil
        checkFixture(nn.SpatialMaxPooling(table.unpack(c.args)):ceil(), c, dtype, 'maxpool ceil')
        checkFixture(nn.SpatialMaxPooling(2, 2), fx.maxpool, dtype, 'maxpool')
        c = fx.avgpool_exclude_ceil
        checkFixture(nn.SpatialAveragePooling(table.unpack(c.args)):ceil():setCountExcludePad(), c,
                     dtype, 'avgpool exclude ceil')
        c = fx.avgpool_include
        checkFixture(nn.SpatialAveragePooling(table.unpack(c.args)), c, dtype, 'avgpool include')
        checkFixture(nn.SpatialAveragePooling(2, 2), fx.avgpool_default_stride, dtype, 'avgpool')
        checkFixture(nn.SpatialAdaptiveAveragePooling(2, 3), fx.adaptive, dtype, 'adaptive')
        checkFixture(nn.SpatialAdaptiveAveragePooling(1), fx.adaptive_global, dtype, 'global')
      end)
    end

    it('pass the gradient check', function()
      local cases = {
        { nn.SpatialMaxPooling(2, 2), torch.randn(1, 2, 4, 4, 'float64'), 'max batch 1' },
        { nn.SpatialMaxPooling(3, 3, 2, 2, 1, 1):ceil(), strided(2, 3, 6, 7), 'max padded ceil, non-contiguous' },
        { nn.SpatialAveragePooling(3, 3, 2, 2, 1, 1), torch.randn(2, 2, 5, 5, 'float64'), 'avg padded' },
        { nn.SpatialAveragePooling(3, 2, 2, 2, 1, 1):ceil():setCountExcludePad(), strided(2, 2, 6, 5),
          'avg exclude ceil, non-contiguous' },
        { nn.SpatialAveragePooling(2, 2), torch.randn(2, 3, 3, 'float64'), 'avg no batch dim' },
        { nn.SpatialAdaptiveAveragePooling(3, 2), torch.randn(2, 2, 5, 7, 'float64'), 'adaptive' },
        { nn.SpatialAdaptiveAveragePooling(1, 1), strided(2, 3, 3, 4), 'global, non-contiguous' },
      }
      for _, c in ipairs(cases) do checkGradients(c[1]:double(), c[2], c[3]) end
    end)

    it('keep the indices across calls and clear them', function()
      local m = nn.SpatialMaxPooling(2, 2)
      local x = torch.randn(2, 3, 6, 6)
      keepsStorage(m, 'indices', function() m:forward(x) m:backward(x, torch.randn(2, 3, 3, 3)) end)
      assert.are.equal('torch.LongTensor', m.indices:type())
      m:double()
      assert.are.equal('torch.LongTensor', m.indices:type())
      m:clearState()
      assert.are.equal(0, m.indices:nElement())
    end)

    it('name wrong dims and sizes', function()
      for _, m in ipairs { nn.SpatialMaxPooling(2, 2), nn.SpatialAveragePooling(2, 2, 2, 2),
                           nn.SpatialAdaptiveAveragePooling(2) } do
        H.raises(torch.type(m) .. ': expected an input (N, C, H, W) or (C, H, W), got size 4x4',
                 m.forward, m, torch.randn(4, 4))
        m:forward(torch.randn(1, 2, 4, 4))
        H.raises(torch.type(m) .. ': gradOutput has size 1x2x3x3, expected 1x2x2x2', m.backward, m,
                 torch.randn(1, 2, 4, 4), torch.randn(1, 2, 3, 3))
      end
      local m = nn.SpatialMaxPooling(5, 5)
      H.raises({ 'nn.SpatialMaxPooling: ', 'does not fit input' }, m.forward, m, torch.randn(1, 1, 3, 3))
      H.raises('at most half the kernel', nn.SpatialMaxPooling, 2, 2, 2, 2, 2, 2)
    end)
  end)

  describe('batch normalization', function()
    local function bnFixture(m, c, dtype)
      local name = torch.type(m) .. ' ' .. dtype
      m = m:type(dtype == 'float32' and 'torch.FloatTensor' or 'torch.DoubleTensor')
      local tol = FWD_TOL[dtype]
      m.weight:copy(T(c.weight, dtype))
      m.bias:copy(T(c.bias, dtype))
      local y
      for _, xi in ipairs(c.inputs) do y = m:forward(T(xi, dtype)) end
      H.near(y, T(c.output), tol, name .. ': train output')
      m:zeroGradParameters()
      H.near(m:backward(T(c.inputs[#c.inputs], dtype), T(c.gradOutput, dtype)), T(c.gradInput), tol,
             name .. ': train gradInput')
      H.near(m.gradWeight, T(c.gradWeight), tol, name .. ': gradWeight')
      H.near(m.gradBias, T(c.gradBias), tol, name .. ': gradBias')
      H.near(m.running_mean, T(c.running_mean), tol, name .. ': running_mean')
      H.near(m.running_var, T(c.running_var), tol, name .. ': running_var')
      m:evaluate()
      local x = T(c.evalInput, dtype)
      H.near(m:forward(x), T(c.evalOutput), tol, name .. ': evaluate output')
      H.near(m:updateGradInput(x, T(c.evalGradOutput, dtype)), T(c.evalGradInput), tol,
             name .. ': evaluate gradInput')
      H.near(m.running_mean, T(c.running_mean), tol, name .. ': evaluate leaves running_mean')
    end

    it("has Torch7's fields, init and printing", function()
      local m = nn.BatchNormalization(4)
      assert.are.same({ 1e-5, 0.1, true }, { m.eps, m.momentum, m.affine })
      H.near(m.running_mean, { 0, 0, 0, 0 })
      H.near(m.running_var, { 1, 1, 1, 1 })
      assert.is_true(m.weight:min() >= 0 and m.weight:max() <= 1)   -- Torch7: uniform [0, 1]
      H.near(m.bias, { 0, 0, 0, 0 })
      assert.are.equal('nn.BatchNormalization (2D) (4)', tostring(m))
      assert.are.equal('nn.SpatialBatchNormalization (4D) (64)', tostring(nn.SpatialBatchNormalization(64)))
      local s = nn.SpatialBatchNormalization(3, 1e-3, 0.3, false)
      assert.are.same({ 1e-3, 0.3, false }, { s.eps, s.momentum, s.affine })
      assert.is_nil(s.weight)
      assert.is_nil(s:parameters())
    end)

    for _, dtype in ipairs { 'float64', 'float32' } do
      it('matches PyTorch: train, running statistics after 3 steps, evaluate, in ' .. dtype, function()
        bnFixture(nn.BatchNormalization(3, 1e-5, fx.batchnorm.momentum), fx.batchnorm, dtype)
        bnFixture(nn.SpatialBatchNormalization(4, 1e-5, fx.spatial_batchnorm.momentum),
                  fx.spatial_batchnorm, dtype)
      end)
    end

    it('passes the gradient check in training and evaluate modes', function()
      checkGradients(nn.BatchNormalization(3):double(), torch.randn(5, 3, 'float64'), 'BN train')
      checkGradients(nn.BatchNormalization(3):double(), torch.randn(3, 5, 'float64'):t(), 'BN non-contiguous')
      checkGradients(nn.SpatialBatchNormalization(3):double(), torch.randn(1, 3, 3, 3, 'float64'), 'SBN batch 1')
      checkGradients(nn.SpatialBatchNormalization(3):double(), strided(2, 3, 3, 2), 'SBN non-contiguous')
      checkGradients(nn.SpatialBatchNormalization(2, 1e-5, 0.1, false):double(),
                     torch.randn(2, 2, 3, 3, 'float64'), 'SBN without affine')
      local m = nn.SpatialBatchNormalization(3):double()
      m.running_mean:copy(torch.randn(3, 'float64'))
      m.running_var:copy(torch.rand(3, 'float64'):add(0.5))
      m:evaluate()
      checkGradients(m, torch.randn(2, 3, 2, 2, 'float64'), 'SBN evaluate')
    end)

    it('updates the running statistics by momentum, only in training', function()
      local m = nn.SpatialBatchNormalization(2, 1e-5, 0.25):double()
      local x = torch.randn(4, 2, 3, 3, 'float64')
      m:forward(x)
      local xc = x:transpose(1, 2):contiguous():view(2, -1)
      H.near(m.running_mean, xc:mean(2):view(2) * 0.25, 1e-12)
      H.near(m.running_var, xc:var(2):view(2) * 0.25 + 0.75, 1e-12)   -- unbiased variance
      H.near(m.save_mean, xc:mean(2):view(2), 1e-12)
      m:evaluate()
      local rm = m.running_mean:clone()
      m:forward(x)
      H.near(m.running_mean, rm, 0)
      -- evaluate normalises with the running statistics
      local want = (x - rm:view(1, 2, 1, 1):expandAs(x))
          :cdiv(torch.sqrt(m.running_var + 1e-5):view(1, 2, 1, 1):expandAs(x))
          :cmul(m.weight:view(1, 2, 1, 1):expandAs(x))
      H.near(m.output, want, 1e-12)
    end)

    it('keeps its statistics buffers, clears them, converts types', function()
      local m = nn.SpatialBatchNormalization(3)
      local x = torch.randn(2, 3, 4, 4)
      keepsStorage(m, 'save_std', function() m:forward(x) m:backward(x, torch.randn(2, 3, 4, 4)) end)
      keepsStorage(m, 'gradInput', function() m:forward(x) m:backward(x, torch.randn(2, 3, 4, 4)) end)
      m:clearState()
      assert.are.equal(0, m.save_mean:nElement())
      m:double()
      assert.are.equal('torch.DoubleTensor', m.running_var:type())
      assert.are.equal('torch.DoubleTensor', m:forward(x:double()):type())
    end)

    it('names wrong dims and feature counts', function()
      local m = nn.BatchNormalization(3)
      H.raises('nn.BatchNormalization: expected an input (N, 3), got size 2x3x4x4', m.forward, m,
               torch.randn(2, 3, 4, 4))
      H.raises('nn.BatchNormalization: input has 4 features, expected 3', m.forward, m, torch.randn(2, 4))
      local s = nn.SpatialBatchNormalization(3)
      H.raises('nn.SpatialBatchNormalization: input has 1 channels, expected 3', s.forward, s,
               torch.randn(2, 1, 4, 4))
      H.raises('nn.SpatialBatchNormalization: expected an input (N, 3, H, W), got size 2x3', s.forward,
               s, torch.randn(2, 3))
      H.raises('nn.SpatialBatchNormalization: backward called before forward', s.backward, s,
               torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4))
      s:forward(torch.randn(2, 3, 4, 4))
      H.raises('nn.SpatialBatchNormalization: gradOutput has size 2x3x4x3, expected 2x3x4x4', s.backward,
               s, torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 3))
      H.raises('nOutput must be a positive integer', nn.BatchNormalization, 0)
    end)
  end)

  describe('SpatialDropout', function()
    it('drops whole channels with probability p and scales the rest by 1/(1-p)', function()
      local m = nn.SpatialDropout(0.3):double()
      assert.are.equal('nn.SpatialDropout(0.300000)', tostring(m))
      local x = torch.rand(50, 40, 3, 3, 'float64'):add(1)
      local y = m:forward(x)
      local ratio = torch.cdiv(y, x)                    -- 0 or 1/0.7 per element
      local perChannel = ratio:view(2000, 9)
      H.near(perChannel:max(2), perChannel:min(2), 1e-12, 'a channel is dropped whole')
      local kept = perChannel:select(2, 1):gt(0):double()
      H.near(perChannel:select(2, 1):max(), 1 / 0.7, 1e-12)
      local frac = 1 - kept:mean()
      assert.is_true(math.abs(frac - 0.3) < 0.04, 'dropped fraction ' .. frac)
      H.near(y:mean() / x:mean(), 1, 0.05)              -- unbiased in expectation
      -- the backward masks the gradient the same way
      local g = torch.rand(50, 40, 3, 3, 'float64')
      H.near(m:backward(x, g), torch.cmul(g, ratio), 1e-12)
      -- a (C, H, W) image
      assert.are.same({ 40, 3, 3 }, m:forward(x[1]):sizeTable())
    end)

    it('is the identity in evaluate mode and reproducible by seed', function()
      local m = nn.SpatialDropout(0.5)
      local x = torch.randn(4, 8, 2, 2)
      torch.manualSeed(7)
      local a = m:forward(x):clone()
      torch.manualSeed(7)
      H.near(m:forward(x), a, 0)
      m:evaluate()
      H.near(m:forward(x), x, 0)
      H.near(m:backward(x, a), a, 0)
      m:training()
      checkGradients(nn.SpatialDropout(0):double(), torch.randn(2, 3, 2, 2, 'float64'), 'p = 0')
      H.raises('p must be in [0, 1)', nn.SpatialDropout, 1)
      H.raises('nn.SpatialDropout: expected an input (N, C, H, W) or (C, H, W), got size 4x4',
               m.forward, m, torch.randn(4, 4))
    end)
  end)

  describe('W2 network', function()
    -- conv(1->32,3x3)-ReLU-maxpool2-conv(32->64,3x3)-ReLU-maxpool2-Linear(1600,128)-ReLU-
    -- Linear(128,10)-LogSoftMax, as /work/shared/bench/pytorch/w2_cnn.py
    local function w2()
      return nn.Sequential()
        :add(nn.SpatialConvolution(1, 32, 3, 3)):add(nn.ReLU()):add(nn.SpatialMaxPooling(2, 2))
        :add(nn.SpatialConvolution(32, 64, 3, 3)):add(nn.ReLU()):add(nn.SpatialMaxPooling(2, 2))
        :add(nn.View(1600)):add(nn.Linear(1600, 128)):add(nn.ReLU()):add(nn.Linear(128, 10))
        :add(nn.LogSoftMax())
    end

    it('trains with optim.sgd and momentum', function()
      local optim = require 'optim'
      local model, crit = w2(), nn.ClassNLLCriterion()
      local params, grads = model:getParameters()
      assert.are.equal(32 * 9 + 32 + 64 * 32 * 9 + 64 + 1600 * 128 + 128 + 1290, params:nElement())
      -- a learnable batch: class c = prototype[c] + 0.3 * noise
      local B = 16
      local protos = torch.randn(10, 1, 28, 28)
      local y = torch.LongTensor(B)
      local x = torch.randn(B, 1, 28, 28):mul(0.3)
      for i = 1, B do
        y[i] = (i - 1) % 10 + 1
        x[i]:add(protos[y[i]])
      end
      local function feval()
        grads:zero()
        local loss = crit:forward(model:forward(x), y)
        model:backward(x, crit:backward(model.output, y))
        return loss, grads
      end
      local config, first, last = { learningRate = 0.05, momentum = 0.9, dampening = 0 }
      for i = 1, 15 do
        local _, fs = optim.sgd(feval, params, config)
        if i == 1 then first = fs[1] end
        last = fs[1]
      end
      assert.is_true(last < 0.5 * first, ('loss %g -> %g'):format(first, last))
    end)
  end)
end)
