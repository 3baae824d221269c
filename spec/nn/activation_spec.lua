-- nn's parametrised activations: LeakyReLU, ELU, SiLU, HardTanh, SoftPlus. Values and
-- gradients against PyTorch (fixtures/conv_modules_make.py), gradients against finite
-- differences in float64 (vectors, batches, non-contiguous inputs), Torch7's defaults and
-- printing, buffers kept across calls, type conversion and the error messages.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local fx = dofile(here .. 'fixtures/conv_modules.lua')
local jac = nn.Jacobian
local TOL = 1e-7
local FWD_TOL = { float64 = 1e-12, float32 = 1e-5 }
local NAMES = { 'LeakyReLU', 'ELU', 'SiLU', 'HardTanh', 'SoftPlus' }

local ctor = { float64 = torch.DoubleTensor, float32 = torch.FloatTensor }
local function T(entry, dtype) return ctor[dtype or 'float64'](entry.data):view(entry.size) end

-- inputs away from the kinks at 0 and +-1 (finite differences need a smooth neighbourhood)
local function inputs()
  local function away(x) return x:add(torch.sign(x):mul(0.05)) end
  return {
    vector = away(torch.randn(7, 'float64')),
    batch1 = away(torch.randn(1, 5, 'float64')),
    batch = away(torch.randn(4, 3, 2, 'float64')),
    strided = away(torch.randn(5, 4, 'float64')):t(),
  }
end

describe('nn activations', function()
  before_each(function() torch.manualSeed(321) end)

  for _, dtype in ipairs { 'float64', 'float32' } do
    it('match PyTorch in ' .. dtype, function()
      for _, case in ipairs { 'LeakyReLU', 'LeakyReLU_default', 'ELU', 'SiLU', 'HardTanh', 'SoftPlus' } do
        local c = fx[case]
        local m = nn[case:match('^[^_]+')](table.unpack(c.args))
        m:type(dtype == 'float64' and 'torch.DoubleTensor' or 'torch.FloatTensor')
        local x = T(c.input, dtype)
        local tol = FWD_TOL[dtype] * 10
        H.near(m:forward(x), T(c.output), tol, case .. ' ' .. dtype .. ': output')
        H.near(m:backward(x, T(c.gradOutput, dtype)), T(c.gradInput), tol,
               case .. ' ' .. dtype .. ': gradInput')
        assert.are.equal(x:type(), m.output:type())
      end
    end)
  end

  for _, name in ipairs(NAMES) do
    it(name .. ' passes the gradient check', function()
      for kind, x in pairs(inputs()) do
        H.near(jac.testJacobian(nn[name]():double(), x), 0, TOL, name .. ' ' .. kind)
      end
    end)
  end

  it("have Torch7's defaults, fields and printing", function()
    assert.are.equal(0.01, nn.LeakyReLU().negval)
    assert.are.equal(1, nn.ELU().alpha)
    local h = nn.HardTanh()
    assert.are.same({ -1, 1 }, { h.min_val, h.max_val })
    assert.are.equal(1, nn.SoftPlus().beta)
    assert.are.equal('nn.LeakyReLU(0.2)', tostring(nn.LeakyReLU(0.2)))
    assert.are.equal('nn.ELU (alpha:1.000000)', tostring(nn.ELU()))
    assert.are.equal('nn.SiLU', tostring(nn.SiLU()))
    assert.are.equal('nn.HardTanh(-0.5, 2)', tostring(nn.HardTanh(-0.5, 2)))
    assert.are.equal('nn.SoftPlus(2)', tostring(nn.SoftPlus(2)))
  end)

  it('compute the right values at the edges', function()
    local x = torch.DoubleTensor({ -2, -1, 0, 1, 2 })
    H.near(nn.LeakyReLU(0.1):double():forward(x), { -0.2, -0.1, 0, 1, 2 }, 1e-15)
    H.near(nn.HardTanh():double():forward(x), { -1, -1, 0, 1, 1 })
    -- HardTanh passes no gradient at or beyond its bounds, as Torch7
    H.near(nn.HardTanh():double():backward(x, torch.ones(5, 'float64')), { 0, 0, 1, 0, 0 })
    H.near(nn.ELU(2):double():forward(x), { 2 * (math.exp(-2) - 1), 2 * (math.exp(-1) - 1), 0, 1, 2 }, 1e-15)
    -- SoftPlus neither overflows nor loses the small values
    local big = torch.DoubleTensor({ -800, -40, 40, 800 })
    H.near(nn.SoftPlus():double():forward(big), { 0, math.exp(-40), 40, 800 }, 1e-15)
    H.near(nn.SoftPlus():double():backward(big, torch.ones(4, 'float64')), { 0, math.exp(-40), 1, 1 }, 1e-15)
    H.near(nn.SiLU():double():forward(torch.DoubleTensor({ -800, 800 })), { 0, 800 })
  end)

  it('keep their buffers across calls, clear them and convert types', function()
    local x, g = torch.randn(3, 4), torch.randn(3, 4)
    for _, name in ipairs(NAMES) do
      local m = nn[name]()
      m:forward(x)
      m:backward(x, g)
      local ptrs = { m.output:dataPtr(), m.gradInput:dataPtr(), m.buffer:dataPtr() }
      m:forward(x)
      m:backward(x, g)
      assert.are.same(ptrs, { m.output:dataPtr(), m.gradInput:dataPtr(), m.buffer:dataPtr() }, name)
      m:clearState()
      assert.are.equal(0, m.buffer:nElement(), name)
      m:double()
      assert.are.equal('torch.DoubleTensor', m:forward(x:double()):type(), name)
      assert.are.equal('torch.DoubleTensor', m:backward(x:double(), g:double()):type(), name)
    end
  end)

  it('name a wrong gradOutput and bad arguments', function()
    for _, name in ipairs(NAMES) do
      local m = nn[name]()
      m:forward(torch.randn(2, 3))
      H.raises(('nn.%s: gradOutput has size 3x2, expected 2x3'):format(name), m.backward, m,
               torch.randn(2, 3), torch.randn(3, 2))
    end
    H.raises('max_value must be larger than min_value', nn.HardTanh, 1, -1)
    H.raises('beta must be positive', nn.SoftPlus, 0)
    H.raises('negval must be a number', nn.LeakyReLU, 'x')
    H.raises('nn.SiLU: updateGradInput called before forward', function()
      return nn.SiLU():backward(torch.randn(2, 3), torch.randn(2, 3))
    end)
  end)
end)
