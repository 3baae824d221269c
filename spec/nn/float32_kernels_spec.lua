-- The float32 kernels that have their own loops (src/cpu_norm.c, src/cpu_loss.c, with
-- e^x from src/vmath.h) against the float64 kernels on the same inputs: softmax and
-- log-softmax over the last dim, layer norm forward and backward, cross entropy. The
-- float64 path is the reference (libm, double sums); the float32 one may differ by a few
-- float32 roundings, so tolerances are relative to the values' size.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

-- f32 result, f64 result: max |a - b| <= tol * max(1, max |b|)
local function close(a, b, tol, what)
  local scale = math.max(1, b:clone():abs():max())
  H.near(a:double(), b, tol * scale, what)
end

-- the same module run in float32 and in float64 on x (float64), forward and backward
local function both(make, x, gy)
  local m32, m64 = make():float(), make():double()
  local p32, p64 = m32:parameters(), m64:parameters()
  for i = 1, #(p32 or {}) do p64[i]:copy(p32[i]) end
  local y32 = m32:forward(x:float()):clone()
  local y64 = m64:forward(x):clone()
  local g32 = m32:backward(x:float(), gy:float()):clone()
  local g64 = m64:backward(x, gy):clone()
  return y32, y64, g32, g64, m32, m64
end

describe('float32 softmax over the last dim', function()
  for _, name in ipairs { 'SoftMax', 'LogSoftMax' } do
    it(name .. ' matches float64 on rows of very different ranges', function()
      torch.manualSeed(11)
      local x = torch.randn(33, 97, 'float64')
      x:narrow(1, 1, 8):mul(40)                     -- exponents far into the tails
      x:narrow(1, 9, 8):mul(1e-3)                   -- nearly uniform rows
      local gy = torch.randn(33, 97, 'float64')
      local y32, y64, g32, g64 = both(function() return nn[name]() end, x, gy)
      close(y32, y64, 2e-6, name .. ' forward')
      close(g32, g64, 2e-6, name .. ' backward')
    end)
  end

  it('keeps -inf as a zero weight and NaN as NaN', function()
    local x = torch.Tensor { { 0, -math.huge, 0 }, { 1, 0 / 0, 2 } }
    local y = nn.SoftMax():forward(x)
    H.near(y[1], { 0.5, 0, 0.5 }, 1e-7)
    assert.is_true(y[2][1] ~= y[2][1] and y[2][3] ~= y[2][3], 'NaN in the row spreads')
    local ly = nn.LogSoftMax():forward(x)
    assert.are.equal(-math.huge, ly[1][2])
    H.near(ly[1][1], math.log(0.5), 1e-7)
  end)

  it('e^x over the float range: the softmax of {x, 0} against libm in float64', function()
    -- softmax({x, 0})[1] = e^x / (e^x + 1) = 1 / (1 + e^-x): exercises e^(x - max)
    -- for x - max from -87 to 0, where the float32 exp must hold about 2e-7 relative
    local xs = {}
    for i = 0, 174 do xs[#xs + 1] = -87 + i * 0.5 end
    local x = torch.Tensor(#xs, 2):zero()
    for i, v in ipairs(xs) do x[i][1] = v end
    local y = nn.SoftMax():forward(x)
    for i, v in ipairs(xs) do
      local want = 1 / (1 + math.exp(-v))
      local got = y[i][1]
      assert(math.abs(got - want) <= 1e-6 * want + 1e-37,
             ('softmax({%g, 0}) = %.9g, want %.9g'):format(v, got, want))
    end
  end)
end)

describe('float32 layer norm', function()
  for _, affine in ipairs { true, false } do
    it('forward and backward match float64 (' .. (affine and 'affine' or 'no affine') .. ')', function()
      torch.manualSeed(12)
      local x = torch.randn(50, 130, 'float64'):mul(3):add(5)   -- a mean far from 0
      local gy = torch.randn(50, 130, 'float64')
      local y32, y64, g32, g64, m32, m64 = both(function()
        local m = nn.LayerNorm(130, 1e-5, affine)
        if affine then m.weight:uniform(0.5, 1.5); m.bias:uniform(-1, 1) end
        return m
      end, x, gy)
      close(y32, y64, 3e-6, 'output')
      close(g32, g64, 3e-6, 'gradInput')
      if affine then
        close(m32.gradWeight, m64.gradWeight, 3e-6, 'gradWeight')
        close(m32.gradBias, m64.gradBias, 3e-6, 'gradBias')
      end
    end)
  end

  it('accumulates the parameter gradients with scale', function()
    local m = nn.LayerNorm(16)
    local x, gy = torch.randn(4, 16), torch.randn(4, 16)
    m:zeroGradParameters()
    m:forward(x)
    m:backward(x, gy)
    local once = m.gradWeight:clone()
    m:backward(x, gy, 0.5)
    H.near(m.gradWeight, once:mul(1.5), 1e-5)
  end)
end)

describe('float32 cross entropy', function()
  it('gradient matches float64, with an ignored target', function()
    torch.manualSeed(13)
    local x = torch.randn(40, 96, 'float64'):mul(4)
    local t = torch.LongTensor(40):random(1, 96)
    local c32 = nn.CrossEntropyCriterion(nil, 'mean', t[3])
    local c64 = nn.CrossEntropyCriterion(nil, 'mean', t[3])
    local l32, l64 = c32:forward(x:float(), t), c64:forward(x, t)
    assert(math.abs(l32 - l64) <= 2e-6 * math.abs(l64), ('loss %g vs %g'):format(l32, l64))
    close(c32:backward(x:float(), t), c64:backward(x, t), 2e-6, 'gradInput')
    local g = c32.gradInput
    for i = 1, 40 do
      if t[i] == t[3] then H.near(g[i], torch.zeros(96), 0, 'ignored row') end
    end
  end)
end)

describe('float32 GELU (exact, erf form)', function()
  it('matches float64 where float64 is accurate, forward and backward', function()
    -- float64's 0.5 x (1 + erf(x / sqrt 2)) cancels below about -5; above it is exact
    -- to ~1e-9 relative
    local x = torch.linspace(-5, 8, 1301, 'float64'):float():double()   -- float32 inputs
    local gy = torch.ones(1301, 'float64')
    local y32, y64, g32, g64 = both(function() return nn.GELU() end, x, gy)
    local worst, worstg = 0, 0
    for i = 1, 1301 do
      if y64[i] ~= 0 then worst = math.max(worst, math.abs(y32[i] - y64[i]) / math.abs(y64[i])) end
      -- gelu' crosses 0 near x = -0.75: relative to max(|g|, 0.01) there
      worstg = math.max(worstg, math.abs(g32[i] - g64[i]) / math.max(math.abs(g64[i]), 0.01))
    end
    assert(worst < 2e-6, ('forward relative error %g'):format(worst))
    assert(worstg < 1e-5, ('backward relative error %g'):format(worstg))
  end)

  it('keeps its relative precision in the negative tail (erfc form)', function()
    -- x * Phi(x) with Phi(-8), Phi(-10), Phi(-12) from normal tables (1 - Phi(8) =
    -- 6.220960574271785e-16, ...), where float64's erf form returns 0 or noise
    local tail = { [-8] = 6.220960574271785e-16, [-10] = 7.619853024160527e-24,
                   [-12] = 1.776482112077679e-33 }
    for v, phi in pairs(tail) do
      local y = nn.GELU():forward(torch.Tensor { v })[1]
      local want = v * phi
      assert(math.abs(y - want) <= 2e-6 * math.abs(want), ('gelu(%d) = %g, want %g'):format(v, y, want))
    end
  end)
end)

-- Above the threading grain (EM_PARALLEL_GRAIN = 32768 elements, GELU 4096) the rows go
-- to the pool; below it they run on the calling thread without entering OpenMP. Both
-- paths run the same row code: a large input gives, row by row, what its rows give alone.
describe('float32 kernels above and below the threading grain', function()
  local function rowwise(make, x, gy)
    local m = make():float()
    local y = m:forward(x):clone()
    local g = m:backward(x, gy):clone()
    for i = 1, x:size(1), 97 do                     -- every 97th row, alone
      local mi = make():float()
      local p, pi = m:parameters(), mi:parameters()
      for k = 1, #(p or {}) do pi[k]:copy(p[k]) end
      local yi = mi:forward(x:narrow(1, i, 1)):clone()
      local gi = mi:backward(x:narrow(1, i, 1), gy:narrow(1, i, 1)):clone()
      H.near(y:narrow(1, i, 1), yi, 0, 'row ' .. i .. ' forward')
      H.near(g:narrow(1, i, 1), gi, 0, 'row ' .. i .. ' backward')
    end
  end
  it('SoftMax, LogSoftMax, LayerNorm and GELU on 400 x 128', function()
    torch.manualSeed(14)
    local x, gy = torch.randn(400, 128), torch.randn(400, 128)
    for _, make in ipairs {
      function() return nn.SoftMax() end, function() return nn.LogSoftMax() end,
      function() local m = nn.LayerNorm(128); m.weight:uniform(0.5, 1.5); return m end,
      function() return nn.GELU() end,
    } do
      rowwise(make, x, gy)
    end
  end)
end)
