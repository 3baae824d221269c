-- Modules under the names Torch7 scripts use: nn.SpatialConvolutionMM (nn's im2col
-- convolution, Ember's nn.SpatialConvolution under Torch7's name) and nn.SeqLSTM
-- (`require 'rnn'`, torch/rnn's sequence LSTM over nn.LSTM): the same values as the
-- modules they wrap, finite-difference Jacobians in float64, torch/rnn's input forms,
-- batchfirst, remember/forget, .t7 round trips and the error messages.
local torch = require 'torch'
local nn = require 'nn'
local rnn = require 'rnn'
local H = require 'helpers'

local JAC_TOL = 1e-6

-- a copy of src's parameters in dst (both flattened the same way)
local function copyParams(dst, src)
  local pd, ps = dst:parameters(), src:parameters()
  assert.are.equal(#ps, #pd)
  for i = 1, #ps do pd[i]:copy(ps[i]) end
end

local function roundTrip(obj) return torch.deserialize(torch.serialize(obj)) end

describe('nn.SpatialConvolutionMM', function()
  before_each(function() torch.manualSeed(3) end)

  it('is nn.SpatialConvolution under Torch7\'s name', function()
    local m = nn.SpatialConvolutionMM(1, 32, 3, 3)
    assert.are.equal('nn.SpatialConvolutionMM', torch.type(m))
    assert.is_true(nn.isTypeOf(m, 'nn.SpatialConvolution'))
    assert.are.equal('nn.SpatialConvolutionMM(1 -> 32, 3x3)', tostring(m))
    assert.are.equal('nn.SpatialConvolutionMM(3 -> 4, 3x3, 2,2, 1,1)',
                     tostring(nn.SpatialConvolutionMM(3, 4, 3, 3, 2, 2, 1)))
    assert.are.same({ 32, 1, 3, 3 }, m.weight:sizeTable())
  end)

  it('computes what nn.SpatialConvolution does, and its Jacobians', function()
    local a = nn.SpatialConvolutionMM(2, 3, 3, 2, 1, 2, 1, 0):double()
    local b = nn.SpatialConvolution(2, 3, 3, 2, 1, 2, 1, 0):double()
    copyParams(b, a)
    local x = torch.randn(2, 2, 5, 4, 'float64')
    H.near(a:forward(x), b:forward(x), 0, 'output')
    local gy = torch.randn(a.output:size(), 'float64')
    a:zeroGradParameters()
    b:zeroGradParameters()
    H.near(a:backward(x, gy), b:backward(x, gy), 0, 'gradInput')
    H.near(a.gradWeight, b.gradWeight, 0, 'gradWeight')
    local small = torch.randn(1, 2, 4, 3, 'float64')
    assert.is_true(nn.Jacobian.testJacobian(a, small) < JAC_TOL)
    assert.is_true(nn.Jacobian.testJacobianParameters(a, small, a.weight, a.gradWeight) < JAC_TOL)
  end)

  it('round-trips through .t7 under its own class name', function()
    local m = nn.SpatialConvolutionMM(2, 3, 3, 3, 1, 1, 1):double()
    local x = torch.randn(1, 2, 4, 4, 'float64')
    assert.truthy(torch.serialize(m):find('nn.SpatialConvolutionMM', 1, true))
    local back = roundTrip(m)
    assert.are.equal('nn.SpatialConvolutionMM', torch.type(back))
    H.near(back:forward(x), m:forward(x), 0, 'output')
  end)

  it('reads the fields Torch7 wrote: a (F, C*kH*kW) weight, padding, no dilation', function()
    local ref = nn.SpatialConvolution(2, 3, 3, 3, 1, 1, 1, 1):double()
    local m = nn.SpatialConvolutionMM(2, 3, 3, 3):double()
    copyParams(m, ref)
    m.weight, m.gradWeight = m.weight:view(3, 18), m.gradWeight:view(3, 18)
    m.padding, m.padW, m.padH, m.dilationW, m.dilationH, m.groups = 1, nil, nil, nil, nil, nil
    local t7 = roundTrip(m)
    local x = torch.randn(2, 2, 5, 5, 'float64')
    H.near(t7:forward(x), ref:forward(x), 0, 'output')
    assert.are.same({ 3, 2, 3, 3 }, t7.weight:sizeTable())
    assert.are.same({ 1, 1 }, { t7.padW, t7.padH })
  end)
end)

describe('nn.SeqLSTM (require \'rnn\')', function()
  before_each(function() torch.manualSeed(5) end)

  it('comes with require \'rnn\' in nn\'s namespace', function()
    assert.are.equal(nn.SeqLSTM, rnn.SeqLSTM)
    local m = nn.SeqLSTM(4, 3)
    assert.are.equal('nn.SeqLSTM', torch.type(m))
    assert.are.equal('nn.SeqLSTM(4 -> 3)', tostring(m))
    assert.are.same({ 4, 3, 3 }, { m.inputsize, m.hiddensize, m.outputsize })
    assert.are.equal(4 * 3 * (4 + 3) + 2 * 4 * 3, (m:getParameters():nElement()))
  end)

  it('initialises as torch/rnn: normal weights, zero biases but the forget gate\'s', function()
    local m = nn.SeqLSTM(64, 256)
    local w = torch.cat({ m.weightIh[1]:view(-1), m.weightHh[1]:view(-1) }, 1):double()
    local std = 1 / math.sqrt(64 + 256)
    assert.is_true(math.abs(w:std() / std - 1) < 0.02, 'std ' .. w:std())
    assert.is_true(math.abs(w:mean()) < 0.02 * std, 'mean ' .. w:mean())
    local want = torch.zeros(4 * 256)
    want:narrow(1, 257, 256):fill(1)   -- gates i, f, g, o
    H.near(m.biasIh[1], want, 0, 'biasIh')
    H.near(m.biasHh[1], torch.zeros(4 * 256), 0, 'biasHh')
  end)

  it('computes what a one-layer time-first nn.LSTM does', function()
    local a, b = nn.SeqLSTM(4, 3):double(), nn.LSTM(4, 3):double()
    copyParams(b, a)
    local x, gy = torch.randn(5, 2, 4, 'float64'), torch.randn(5, 2, 3, 'float64')
    H.near(a:forward(x), b:forward(x), 0, 'output')
    a:zeroGradParameters()
    b:zeroGradParameters()
    H.near(a:backward(x, gy), b:backward(x, gy), 0, 'gradInput')
    local _, ga = a:parameters()
    local _, gb = b:parameters()
    for i = 1, #ga do H.near(ga[i], gb[i], 0, 'parameter gradient ' .. i) end
  end)

  it('has finite-difference Jacobians for the input and every parameter (float64)', function()
    local m = nn.SeqLSTM(3, 2):double()
    local x = torch.randn(4, 2, 3, 'float64')
    assert.is_true(nn.Jacobian.testJacobian(m, x) < JAC_TOL)
    local params, grads = m:parameters()
    for i = 1, #params do
      local err = nn.Jacobian.testJacobianParameters(m, x, params[i], grads[i])
      assert(err < JAC_TOL, ('parameter %d: error %g'):format(i, err))
    end
  end)

  it('takes {h0, x} and {c0, h0, x}, with gradients for the states', function()
    local m = nn.SeqLSTM(3, 2):double()
    local x, h0, c0 = torch.randn(3, 2, 3, 'float64'), torch.randn(2, 2, 'float64'),
                      torch.randn(2, 2, 'float64')
    local r = torch.randn(3, 2, 2, 'float64')
    local function loss(input) return m:forward(input):clone():cmul(r):sum() end
    -- central differences of loss with respect to each element of t
    local function numeric(input, t)
      local g, flat = torch.zeros_like(t), t:view(-1)
      for i = 1, flat:nElement() do
        local v = flat[i]
        flat[i] = v + 1e-6
        local plus = loss(input)
        flat[i] = v - 1e-6
        local minus = loss(input)
        flat[i] = v
        g:view(-1)[i] = (plus - minus) / 2e-6
      end
      return g
    end
    m:forward({ h0, x })
    local g2 = m:backward({ h0, x }, r)
    assert.are.equal(2, #g2)
    g2 = { g2[1]:clone(), g2[2]:clone() }
    H.near(g2[1], numeric({ h0, x }, h0), 1e-7, 'grad_h0 of {h0, x}')
    H.near(g2[2], numeric({ h0, x }, x), 1e-7, 'grad_x of {h0, x}')
    m:forward({ c0, h0, x })
    local g3 = m:backward({ c0, h0, x }, r)
    assert.are.equal(3, #g3)
    g3 = { g3[1]:clone(), g3[2]:clone(), g3[3]:clone() }
    H.near(g3[1], numeric({ c0, h0, x }, c0), 1e-7, 'grad_c0')
    H.near(g3[2], numeric({ c0, h0, x }, h0), 1e-7, 'grad_h0')
    H.near(g3[3], numeric({ c0, h0, x }, x), 1e-7, 'grad_x')
  end)

  it('runs batch-first when batchfirst is set', function()
    local m = nn.SeqLSTM(3, 4):double()
    local x, gy = torch.randn(5, 2, 3, 'float64'), torch.randn(5, 2, 4, 'float64')
    local y = m:forward(x):clone()
    local gx = m:backward(x, gy):clone()
    m.batchfirst = true
    local xb = x:transpose(1, 2):contiguous()
    H.near(m:forward(xb):transpose(1, 2), y, 1e-12, 'output')
    H.near(m:backward(xb, gy:transpose(1, 2):contiguous()):transpose(1, 2), gx, 1e-12, 'gradInput')
  end)

  it('remembers states across forwards when asked, and forgets them', function()
    local m = nn.SeqLSTM(2, 3):double()
    local x = torch.randn(6, 2, 2, 'float64')
    local whole = m:forward(x):clone()
    local alone = m:forward(x:narrow(1, 5, 2)):clone()   -- 'neither': starts from zeros
    m:remember()
    assert.are.equal('both', m._remember)
    m:forward(x:narrow(1, 1, 4))
    H.near(m:forward(x:narrow(1, 5, 2)), whole:narrow(1, 5, 2), 1e-12, 'continued')
    m:forget()
    H.near(m:forward(x:narrow(1, 5, 2)), alone, 1e-12, 'after forget')
    H.raises('nn.SeqLSTM: batch size 3, the remembered states have 2 (forget() first)',
             function() m:forward(torch.randn(2, 3, 2, 'float64')) end)
    m:evaluate()   -- switching mode forgets too
    H.near(m:forward(torch.randn(2, 3, 2, 'float64')):size(2), 3, 0, 'batch 3 after evaluate')
    m:remember('train')   -- not while evaluating
    m:forward(x:narrow(1, 1, 4))
    H.near(m:forward(x:narrow(1, 5, 2)), alone, 1e-12, "'train' while evaluating")
  end)

  it('round-trips through .t7 as nn.SeqLSTM', function()
    local m = nn.SeqLSTM(3, 2):double()
    local x = torch.randn(4, 2, 3, 'float64')
    local back = roundTrip(m)
    assert.are.equal('nn.SeqLSTM', torch.type(back))
    H.near(back:forward(x), m:forward(x), 0, 'output')
  end)

  -- torch/rnn's forward (SeqLSTM.lua's equations): x (T, N, D), W (D + H, 4H) with gate
  -- columns i, f, o, g, b (4H), zero initial states -> h (T, N, H)
  local function rnnForward(W, b, x)
    local T, N, D, Hs = x:size(1), x:size(2), x:size(3), b:size(1) // 4
    local h, c = torch.zeros(N, Hs, 'float64'), torch.zeros(N, Hs, 'float64')
    local out = torch.zeros(T, N, Hs, 'float64')
    for t = 1, T do
      local a = torch.mm(x[t], W:narrow(1, 1, D)) + torch.mm(h, W:narrow(1, D + 1, Hs))
                + b:view(1, -1)
      local i, f = torch.sigmoid(a:narrow(2, 1, Hs)), torch.sigmoid(a:narrow(2, Hs + 1, Hs))
      local o = torch.sigmoid(a:narrow(2, 2 * Hs + 1, Hs))
      local g = torch.tanh(a:narrow(2, 3 * Hs + 1, Hs))
      c = torch.cmul(f, c) + torch.cmul(i, g)
      h = torch.cmul(o, torch.tanh(c))
      out[t]:copy(h)
    end
    return out
  end

  it('converts a SeqLSTM that torch/rnn saved (one weight, gates i, f, o, g)', function()
    local W, b = torch.randn(3 + 2, 8, 'float64'), torch.randn(8, 'float64')
    local fields = { weight = W, gradWeight = torch.zeros(5, 8, 'float64'), bias = b,
                     gradBias = torch.zeros(8, 'float64'), inputsize = 3, outputsize = 2,
                     hiddensize = 2, cell = torch.Tensor(), gates = torch.Tensor(),
                     _remember = 'neither', batchfirst = false, maskzero = false, train = true,
                     output = torch.Tensor(), gradInput = {} }
    local m = roundTrip(setmetatable(fields, nn.SeqLSTM))
    assert.are.equal('nn.SeqLSTM(3 -> 2)', tostring(m))
    assert.is_nil(m.weight)
    local x = torch.randn(4, 2, 3, 'float64')
    H.near(m:forward(x), rnnForward(W, b, x), 1e-12, 'output')
    assert.are.equal(4 * 2 * (3 + 2) + 2 * 8, (m:getParameters():nElement()))
    assert.is_true(nn.Jacobian.testJacobian(m, x) < JAC_TOL)
  end)

  it('names what is wrong', function()
    H.raises("a projection (outputsize ~= hiddensize, torch/rnn's SeqLSTMP) is not supported",
             function() nn.SeqLSTM(4, 3, 2) end)
    local m = nn.SeqLSTM(4, 3)
    H.raises('nn.SeqLSTM: expected input x, {h0, x} or {c0, h0, x}, got table',
             function() m:forward({}) end)
    H.raises('nn.SeqLSTM: expected x of 3 dimensions', function() m:forward(torch.randn(5, 4)) end)
    H.raises('nn.SeqLSTM: h0 has size 3x3, expected 2x3',
             function() m:forward({ torch.randn(3, 3), torch.randn(5, 2, 4) }) end)
    H.raises('nn.SeqLSTM: c0 has size 2, expected 2x3',
             function() m:forward({ torch.randn(2), torch.randn(2, 3), torch.randn(5, 2, 4) }) end)
    H.raises('nn.SeqLSTM: expected input (T, B, 4) (time-first), got size 5x2x3',
             function() m:forward(torch.randn(5, 2, 3)) end)
    H.raises("nn.SeqLSTM:remember: mode must be 'both', 'train', 'eval' or 'neither', got always",
             function() m:remember('always') end)
    m.maskzero = true
    H.raises('nn.SeqLSTM: maskzero is not supported',
             function() m:forward(torch.randn(5, 2, 4)) end)
  end)
end)
