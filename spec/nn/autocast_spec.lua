-- bfloat16 precision on the CPU (nn.autocast('bfloat16') and the 'bfloat16' argument of
-- the products it passes): results equal a float64 reference computed from
-- bfloat16-rounded operands, to the error of float32 sums; weights and gradients stay
-- float32; autocast off is bit-identical to the plain ops. src/cpu_gemm_bf16.c, both of
-- its kernels (the AVX512_BF16 one where the CPU has it, and the portable one).
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local BF = 'bfloat16'

-- x rounded to bfloat16 (nearest even), as float64
local function bf(x) return x:bfloat16():double() end

-- Asserts |got - want| <= slack * k * 2^-24 * mag elementwise (plus a tiny absolute
-- term): mag (like want) is sum |a||b| of each result, k the length of the sums.
local function nearSums(got, want, mag, k, what)
  local tol = mag * (4 * math.max(k, 1) * 2 ^ -24) + 1e-30
  local excess = (got:double() - want):abs() - tol
  assert(excess:max() <= 0, ('%s: off by %g more than float32 sums allow'):format(what, excess:max()))
end

-- Asserts that a bfloat16-precision product c of a (n, k) and b (k, p) (any views)
-- equals the float64 product of the rounded operands, and that it is not the float32
-- one (the operands were rounded).
local function checkProduct(c, a, b, what)
  local ar, br = bf(a), bf(b)
  local want = torch.mm(ar, br)
  nearSums(c, want, torch.mm(torch.abs(ar), torch.abs(br)), a:size(2), what)
end

describe('bfloat16 rounding', function()
  it('rounds to nearest, ties to even, and keeps nan and inf', function()
    local x = torch.Tensor({ 1, 1 + 2 ^ -8, 1 + 3 * 2 ^ -8, 1 + 2 ^ -7 + 2 ^ -9, -(1 + 2 ^ -8 + 2 ^ -20),
                             2 ^ -130, 3.4e38, math.huge, -math.huge, 0 / 0, -0.0 })
    local want = { 1, 1, 1 + 2 ^ -6, 1 + 2 ^ -7, -(1 + 2 ^ -7), 2 ^ -130, math.huge, math.huge,
                   -math.huge, 0 / 0, 0 }
    H.near(bf(x), want, 0)
  end)

  -- A (n, k) times the identity is A rounded, one product per result: the packing of
  -- both operands rounds exactly as :bfloat16() does (vector lanes and scalar tails).
  for _, case in ipairs { { 'the left operand', false }, { 'the right operand', true } } do
    it('rounds ' .. case[1] .. ' as :bfloat16() does, in every lane', function()
      local vals = { 1, 1 + 2 ^ -8, 1 + 3 * 2 ^ -8, -(1 + 2 ^ -8 + 2 ^ -20), 2.5e-3, 3.0e38,
                     -7.1234567, 1e-20, 3.0e38 }
      local a = torch.Tensor(37, 35)
      for i = 1, 37 do for j = 1, 35 do a[i][j] = vals[(i * 7 + j) % #vals + 1] * (1 + 2 ^ -12 * j) end end
      local c = case[2] and torch.mm(torch.eye(37), a, BF) or torch.mm(a, torch.eye(35), BF)
      H.near(c, bf(a), 0)
    end)
  end

  it('keeps nan and inf through a product', function()
    local a = torch.Tensor({ { 0 / 0, 1 }, { math.huge, 1 }, { 1, 1 } })
    local c = torch.mm(a, torch.ones(2, 1), BF)
    assert.is_true(c[1][1] ~= c[1][1])
    assert.equal(math.huge, c[2][1])
    assert.equal(2, c[3][1])
  end)
end)

describe('bfloat16 products', function()
  before_each(function() torch.manualSeed(11) end)

  -- n, k, p: odd sizes, single rows and columns, k odd, and sizes past the blocks
  -- (KC = 256, MC = 192, NR = 48, NC = 3072 in cpu_gemm_bf16.c)
  local SIZES = { { 1, 1, 1 }, { 1, 7, 1 }, { 5, 1, 9 }, { 7, 13, 5 }, { 17, 33, 49 },
                  { 33, 65, 96 }, { 200, 300, 50 }, { 9, 513, 7 }, { 3, 5, 3100 } }

  for _, s in ipairs(SIZES) do
    local n, k, p = s[1], s[2], s[3]
    it(('mm %dx%d by %dx%d, with every transpose'):format(n, k, k, p), function()
      local a, b = torch.randn(n, k), torch.randn(k, p)
      local at, bt = a:t():contiguous():t(), b:t():contiguous():t()   -- column-major views
      for _, pair in ipairs { { a, b }, { at, b }, { a, bt }, { at, bt } } do
        checkProduct(torch.mm(pair[1], pair[2], BF), a, b, 'mm')
      end
      if n > 1 and k > 1 and p > 1 then
        local full = torch.mm(a, b):double()
        assert.is_true((torch.mm(a, b, BF):double() - full):abs():max() > 0, 'the operands were rounded')
      end
    end)
  end

  it('writes into a column-major or strided result, and adds beta * M', function()
    local a, b, m = torch.randn(9, 20), torch.randn(20, 11), torch.randn(9, 11)
    local r = torch.Tensor(11, 9):t()                        -- column-major result
    r:mm(a, b, BF)
    checkProduct(r, a, b, 'column-major result')
    local wide = torch.zeros(9, 30)
    local slice = wide:narrow(2, 5, 11)
    slice:addmm(0.5, m, 2, a, b, BF)
    local want = torch.mm(bf(a), bf(b)) * 2 + m:double() * 0.5
    nearSums(slice, want, torch.mm(torch.abs(bf(a)), torch.abs(bf(b))) * 2 + torch.abs(m:double()) * 0.5, 20,
             'addmm into a slice')
    assert.equal(0, torch.abs(wide:narrow(2, 1, 4)):max())
  end)

  it('non-contiguous operands (every other column, rows reversed)', function()
    local big = torch.randn(30, 40)
    local a = big:narrow(2, 1, 39):unfold(2, 1, 2):select(3, 1)   -- (30, 20) with stride 2
    local b = torch.randn(20, 13)
    checkProduct(torch.mm(a, b, BF), a:contiguous(), b, 'strided left operand')
  end)

  it('matmul, bmm, baddbmm, addbmm, mv, addr, linear', function()
    local x, y = torch.randn(4, 6, 10), torch.randn(4, 10, 3)
    local c = torch.bmm(x, y, BF)
    for i = 1, 4 do checkProduct(c[i], x[i], y[i], 'bmm ' .. i) end
    local w = torch.randn(10, 3)
    c = torch.matmul(x, w, BF)                               -- (4, 6, 10) @ (10, 3)
    for i = 1, 4 do checkProduct(c[i], x[i], w, 'matmul ' .. i) end
    local sum = torch.addbmm(torch.zeros(6, 3), x, y, BF)
    local want, mag = torch.zeros(6, 3):double(), torch.zeros(6, 3):double()
    for i = 1, 4 do
      want:add(torch.mm(bf(x[i]), bf(y[i])))
      mag:add(torch.mm(torch.abs(bf(x[i])), torch.abs(bf(y[i]))))
    end
    nearSums(sum, want, mag, 40, 'addbmm')
    local v = torch.randn(10)
    checkProduct(torch.mv(x[1], v, BF):view(6, 1), x[1], v:view(10, 1), 'mv')
    checkProduct(torch.ger(v, w[1], BF), v:view(10, 1), w[1]:view(1, 3), 'ger')
    local d = torch.matmul(v, w:select(2, 1), BF)
    nearSums(torch.Tensor({ d }), torch.mm(bf(v:view(1, 10)), bf(w:narrow(2, 1, 1))):view(1),
             torch.mm(torch.abs(bf(v:view(1, 10))), torch.abs(bf(w:narrow(2, 1, 1)))):view(1), 10, 'dot')
    local bias = torch.randn(3)
    local out = torch.linear(torch.Tensor(), x[2], w:t():contiguous(), bias, BF)
    nearSums(out, torch.mm(bf(x[2]), bf(w)) + bias:double():view(1, 3):expand(6, 3),
             torch.mm(torch.abs(bf(x[2])), torch.abs(bf(w))) + torch.abs(bias:double()):view(1, 3):expand(6, 3),
             10, 'linear')
  end)

  it('threads over blocks and inside a parallel region give the same numbers', function()
    local a, b = torch.randn(300, 700), torch.randn(700, 260)
    local n = torch.getnumthreads()
    local c2 = torch.mm(a, b, BF)
    torch.setnumthreads(1)
    local c1 = torch.mm(a, b, BF)
    torch.setnumthreads(n)
    H.near(c1, c2, 0)                                        -- the same sums, in the same order
    local batch = torch.bmm(a:view(3, 100, 700):narrow(3, 1, 40), b:narrow(1, 1, 40):view(1, 40, 260)
                            :expand(3, 40, 260), BF)         -- small products: one per thread
    for i = 1, 3 do
      checkProduct(batch[i], a:view(3, 100, 700)[i]:narrow(2, 1, 40), b:narrow(1, 1, 40), 'batch ' .. i)
    end
  end)

  it('reports its kernel; the portable one gives the same numbers', function()
    local kernel = torch.bf16Kernel()
    assert.is_true(kernel == 'avx512bf16' or kernel == 'portable', kernel)
    -- a fresh process with EMBER_BF16_GEMM=portable: rounded operands through sgemm
    local code = [[
      local torch = require 'torch'
      torch.manualSeed(3)
      local a, b = torch.randn(37, 301), torch.randn(301, 53)
      local c = torch.mm(a:t():contiguous():t(), b, 'bfloat16'):double()
      local want = torch.mm(a:bfloat16():double(), b:bfloat16():double())
      local mag = torch.mm(a:bfloat16():double():abs(), b:bfloat16():double():abs())
      io.write(torch.bf16Kernel(), ' ', ((c - want):abs() - mag * (4 * 301 * 2 ^ -24)):max())
    ]]
    local f = assert(io.popen(('EMBER_BF16_GEMM=portable lua5.4 -e %q 2>&1'):format(code)))
    local out = f:read('a')
    f:close()
    local name, excess = out:match('^(%S+) (%S+)$')
    assert.equal('portable', name, out)
    assert.is_true(tonumber(excess) <= 0, out)
  end)

  it('rejects other dtypes and unknown precisions', function()
    local d = torch.randn(3, 3):double()
    H.raises({ 'mm: bfloat16 products take float32 tensors, got float64' },
             function() torch.mm(d, d, BF) end)
    H.raises({ 'linear: bfloat16 products take float32 tensors, got float16' },
             function() torch.linear(torch.Tensor():half(), d:half(), d:half(), nil, BF) end)
    H.raises({ "precision must be 'bfloat16' or nil, got 'float16'" },
             function() torch.mm(d:float(), d:float(), 'float16') end)
    H.raises({ "precision must be 'bfloat16' or nil, got boolean" },
             function() torch.linear(torch.Tensor(), d:float(), d:float(), nil, true) end)
    H.raises({ 'conv2d: bfloat16 products take float32 tensors, got float64' }, function()
      torch.nnops.conv2d_forward(nil, torch.randn(1, 1, 4, 4):double(), torch.randn(1, 1, 3, 3):double(),
                                 nil, 1, 1, 0, 0, 1, 1, 1, nil, BF)
    end)
    H.raises({ 'attention: bfloat16 products take float32 tensors, got float64' }, function()
      local q = torch.randn(1, 1, 2, 2):double()
      torch.attnops.attention_forward(nil, nil, q, q, q, nil, nil, 1, false, BF)
    end)
  end)
end)

-- --- modules under nn.autocast ---

-- Runs forward and backward of m on x with gradOutput gy, from zeroed gradients; returns
-- the output, gradInput and parameter gradients (clones).
local function step(m, x, gy)
  m:zeroGradParameters()
  local y = m:forward(x):clone()
  local gx = m:backward(x, gy)
  local _, grads = m:parameters()
  local g = {}
  for i, t in ipairs(grads) do g[i] = t:clone() end
  return y, gx and gx:clone(), g
end

local function autocast(fn) return nn.autocast(BF, fn) end

describe('nn.autocast on the CPU', function()
  before_each(function() torch.manualSeed(5) end)
  after_each(function() nn.autocast(false) end)

  it('nn.autocastFor: bfloat16 for float32 weights while autocast is on', function()
    assert.is_nil(nn.autocastFor(torch.Tensor(2)))
    autocast(function()
      assert.equal(BF, nn.autocastFor(torch.Tensor(2)))
      assert.is_nil(nn.autocastFor(torch.Tensor(2):double()))
    end)
  end)

  it('Linear: products of bfloat16 operands, float32 weights and gradients', function()
    local m = nn.Linear(45, 19)
    local x, gy = torch.randn(23, 45), torch.randn(23, 19)
    local w0 = m.weight:clone()
    local y, gx, g = autocast(function() return step(m, x, gy) end)
    local W, X, GY = bf(m.weight), bf(x), bf(gy)
    nearSums(y, torch.mm(X, W:t()) + m.bias:double():view(1, 19):expand(23, 19),
             torch.mm(torch.abs(X), torch.abs(W:t())) + torch.abs(m.bias:double()):view(1, 19):expand(23, 19), 45,
             'output')
    nearSums(gx, torch.mm(GY, W), torch.mm(torch.abs(GY), torch.abs(W)), 19, 'gradInput')
    nearSums(g[1], torch.mm(GY:t(), X), torch.mm(torch.abs(GY:t()), torch.abs(X)), 23, 'gradWeight')
    H.near(g[2], gy:sum(1):view(19), 1e-5, 'gradBias (a sum, not rounded)')
    for _, t in ipairs { m.weight, m.bias, m.gradWeight, m.gradBias, m.output, m.gradInput } do
      assert.equal('torch.FloatTensor', t:type())
    end
    H.near(m.weight, w0, 0, 'the master weights are untouched')
    -- and close to float32, within bfloat16's relative precision
    local y32, gx32, g32 = step(m, x, gy)
    H.near(y, y32, 3e-2 * torch.abs(y32):max(), 'output vs float32')
    H.near(gx, gx32, 3e-2 * torch.abs(gx32):max(), 'gradInput vs float32')
    H.near(g[1], g32[1], 3e-2 * torch.abs(g32[1]):max(), 'gradWeight vs float32')
  end)

  it('Linear on a vector input', function()
    local m = nn.Linear(7, 5)
    local x, gy = torch.randn(7), torch.randn(5)
    local y, gx, g = autocast(function() return step(m, x, gy) end)
    local W, X, GY = bf(m.weight), bf(x):view(7, 1), bf(gy):view(5, 1)
    nearSums(y:view(5, 1), torch.mm(W, X) + m.bias:double():view(5, 1),
             torch.mm(torch.abs(W), torch.abs(X)) + torch.abs(m.bias:double()):view(5, 1), 7, 'output')
    nearSums(gx:view(7, 1), torch.mm(W:t(), GY), torch.mm(torch.abs(W:t()), torch.abs(GY)), 5, 'gradInput')
    nearSums(g[1], torch.mm(GY, X:t()), torch.mm(torch.abs(GY), torch.abs(X:t())), 1, 'gradWeight')
  end)

  it('off, the modules are bit-identical to the plain ops', function()
    local m = nn.Linear(30, 20)
    local x, gy = torch.randn(16, 30), torch.randn(16, 20)
    local y, gx, g = step(m, x, gy)
    H.near(y, torch.addmm(m.bias:view(1, 20):expand(16, 20), x, m.weight:t()), 0, 'output')
    H.near(gx, torch.mm(gy, m.weight), 0, 'gradInput')
    H.near(g[1], torch.mm(gy:t(), x), 0, 'gradWeight')
    local c = nn.SpatialConvolution(3, 4, 3, 3, 1, 1, 1, 1)
    local xi, gyi = torch.randn(2, 3, 6, 6), torch.randn(2, 4, 6, 6)
    local yc, gxc, gc = step(c, xi, gyi)
    local nnops = torch.nnops
    H.near(yc, nnops.conv2d_forward(nil, xi, c.weight, c.bias, 1, 1, 1, 1, 1, 1, 1), 0, 'conv output')
    H.near(gxc, nnops.conv2d_backward_input(nil, xi, gyi, c.weight, 1, 1, 1, 1, 1, 1, 1), 0,
           'conv gradInput')
    local gw = torch.zeros(c.weight:size())
    nnops.conv2d_backward_params(gw, nil, xi, gyi, 1, 1, 1, 1, 1, 1, 1, 1)
    H.near(gc[1], gw, 0, 'conv gradWeight')
    -- and on, they differ (the operands were rounded)
    local yb = autocast(function() return step(m, x, gy) end)
    assert.is_true((yb - y):abs():max() > 0)
  end)

  it('leaves float64 modules in float64', function()
    local m = nn.Linear(9, 4):double()
    local x, gy = torch.randn(3, 9):double(), torch.randn(3, 4):double()
    local y, gx, g = step(m, x, gy)
    local yb, gxb, gb = autocast(function() return step(m, x, gy) end)
    H.near(yb, y, 0)
    H.near(gxb, gx, 0)
    H.near(gb[1], g[1], 0)
  end)

  -- convolutions: forward, gradInput and gradWeight against the float64 conv of the
  -- rounded operands; sums of k = C/G*kH*kW (forward), F/G*kH*kW (gradInput) and
  -- N*oH*oW (gradWeight) products
  local CONVS = {
    { 'SpatialConvolution (padding, stride, groups)',
      function() return nn.SpatialConvolution(4, 6, 3, 2, 2, 1, 1, 0, 2) end,
      torch.randn(3, 4, 9, 8), 2 * 3 * 2 },
    { 'SpatialConvolution (one image, 1x1)', function() return nn.SpatialConvolution(5, 7, 1, 1) end,
      torch.randn(5, 6, 7), 5 },
    { 'SpatialDilatedConvolution',
      function() return nn.SpatialDilatedConvolution(3, 4, 3, 3, 1, 1, 2, 2, 2, 2) end,
      torch.randn(2, 3, 9, 9), 27 },
    { 'SpatialFullConvolution',
      function() return nn.SpatialFullConvolution(3, 4, 3, 3, 2, 2, 1, 1, 1, 1) end,
      torch.randn(2, 3, 5, 5), 36 },
    { 'TemporalConvolution', function() return nn.TemporalConvolution(5, 4, 3, 2) end,
      torch.randn(2, 11, 5), 15 },
  }

  for _, case in ipairs(CONVS) do
    local name, make, x, k = case[1], case[2], case[3], case[4]
    it(name .. ': the products of rounded operands, float32 weights', function()
      local m = make()
      local y32 = m:forward(x):clone()
      local gy = torch.randn(y32:size())
      local y, gx, g = autocast(function() return step(m, x, gy) end)
      -- the float64 module on the rounded weight, input and gradOutput
      local r = m:clone():double()
      r.weight:copy(bf(m.weight))
      local yr, gxr, gr = step(r, bf(x), bf(gy))
      local ra = m:clone():double()                         -- |w|, |x|, |gy|: the magnitudes
      ra.weight:copy(torch.abs(bf(m.weight)))
      ra.bias:abs()                                        -- in place
      local ya, gxa, ga = step(ra, torch.abs(bf(x)), torch.abs(bf(gy)))
      nearSums(y, yr, ya, k, name .. ' output')
      nearSums(gx, gxr, gxa, 64, name .. ' gradInput')
      nearSums(g[1], gr[1], ga[1], 2 * 11 * 9, name .. ' gradWeight')
      assert.equal('torch.FloatTensor', m.weight:type())
      assert.equal('torch.FloatTensor', m.gradWeight:type())
      H.near(y, y32, 3e-2 * torch.abs(y32):max(), name .. ' output vs float32')
    end)
  end

  it('MultiheadAttention and the attention op: rounded products, float32 softmax', function()
    local B, NH, T, HS = 2, 3, 7, 4
    local q, k, v = torch.randn(B, NH, T, HS), torch.randn(B, NH, T, HS), torch.randn(B, NH, T, HS)
    local scale = 1 / math.sqrt(HS)
    local y, att = torch.attnops.attention_forward(nil, nil, q, k, v, nil, nil, scale, true, BF)
    -- reference: S = scale Q K^T of rounded q, k; causal softmax; Y = bf(A) bf(V)
    for b = 1, B do
      for h = 1, NH do
        local s = torch.mm(bf(q[b][h]), bf(k[b][h]):t()) * scale
        for i = 1, T do for j = i + 1, T do s[i][j] = -math.huge end end
        local a = torch.exp(s - s:max(2):expand(T, T))
        a:cdiv(a:sum(2):expand(T, T))
        H.near(att[b][h], a, 1e-5, 'weights')
        local want = torch.mm(bf(att[b][h]), bf(v[b][h]))
        nearSums(y[b][h], want, torch.mm(torch.abs(bf(att[b][h])), torch.abs(bf(v[b][h]))), T, 'output')
      end
    end
    -- the module: close to float32, float32 parameters and gradients
    local m = nn.MultiheadAttention(12, 3, { causal = true })
    local x = torch.randn(2, 5, 12)
    local y32, gx32, g32 = step(m, x, torch.ones(2, 5, 12))
    local yb, gxb, gb = autocast(function() return step(m, x, torch.ones(2, 5, 12)) end)
    assert.is_true((yb - y32):abs():max() > 0, 'rounded')
    H.near(yb, y32, 3e-2 * torch.abs(y32):max(), 'output vs float32')
    H.near(gxb, gx32, 3e-2 * torch.abs(gx32):max(), 'gradInput vs float32')
    for i = 1, #g32 do
      H.near(gb[i], g32[i], 3e-2 * torch.abs(g32[i]):max() + 1e-6, 'gradient ' .. i .. ' vs float32')
      assert.equal('torch.FloatTensor', gb[i]:type())
    end
  end)

  it('attention with dropout: the dropped weights are rounded, as without', function()
    local B, NH, T, HS = 2, 2, 9, 6
    local q, k, v = torch.randn(B, NH, T, HS), torch.randn(B, NH, T, HS), torch.randn(B, NH, T, HS)
    local ops = torch.attnops
    local dmask = torch.Tensor(B, NH, T, T)
    ops.dropout_forward(nil, dmask, nil, 0.3)
    local y, att = ops.attention_forward(nil, nil, q, k, v, nil, dmask, 0.4, false, BF)
    local gy = torch.randn(B, NH, T, HS)
    local _, _, gv = ops.attention_backward(nil, nil, nil, gy, q, k, v, att, dmask, 0.4, false, nil, BF)
    for b = 1, B do
      for h = 1, NH do
        local ad = bf(torch.cmul(att[b][h], dmask[b][h]))
        nearSums(y[b][h], torch.mm(ad, bf(v[b][h])), torch.mm(torch.abs(ad), torch.abs(bf(v[b][h]))),
                 T, 'output')
        nearSums(gv[b][h], torch.mm(ad:t(), bf(gy[b][h])),
                 torch.mm(torch.abs(ad:t()), torch.abs(bf(gy[b][h]))), T, 'gradV')
      end
    end
  end)

  it('the attention backward: rounded products, against the float64 backward', function()
    local B, NH, T, HS = 1, 2, 6, 5
    local q, k, v = torch.randn(B, NH, T, HS), torch.randn(B, NH, T, HS), torch.randn(B, NH, T, HS)
    local gy = torch.randn(B, NH, T, HS)
    local ops = torch.attnops
    local _, att = ops.attention_forward(nil, nil, q, k, v, nil, nil, 0.5, false, BF)
    local gq, gk, gv = ops.attention_backward(nil, nil, nil, gy, q, k, v, att, nil, 0.5, false, nil, BF)
    local rq, rk, rv = ops.attention_backward(nil, nil, nil, bf(gy), bf(q), bf(k), bf(v), att:double(),
                                              nil, 0.5, false)
    -- gV = A^T gY with A rounded: close to the float64 gradient within bfloat16 of A
    H.near(gv, rv, 2e-2 * torch.abs(rv):max(), 'gradV')
    H.near(gq, rq, 2e-2 * torch.abs(rq):max(), 'gradQ')
    H.near(gk, rk, 2e-2 * torch.abs(rk):max(), 'gradK')
    local fq = ops.attention_backward(nil, nil, nil, gy, q, k, v, att, nil, 0.5, false)
    assert.is_true((fq - gq):abs():max() > 0, 'rounded')
  end)

  it('a small GPT: gradients close to float32, and it trains under autocast', function()
    torch.manualSeed(1)
    local model = nn.GPT({ vocab = 11, maxLen = 8, dim = 16, heads = 2, layers = 1 })
    local crit = nn.CrossEntropyCriterion()
    local params, grads = model:getParameters()
    local x = torch.LongTensor(4, 8):random(1, 11)
    local t = x % 11 + 1
    local function f()
      grads:zero()
      local out = model:forward(x)
      local loss = crit:forward(out:view(32, 11), t:view(32))
      model:backward(x, crit:backward(out:view(32, 11), t:view(32)):view(4, 8, 11))
      return loss
    end
    local l32 = f()
    local g32 = grads:clone()
    local l16 = autocast(f)
    assert.is_true(math.abs(l16 - l32) < 1e-2 * l32, ('loss %g vs %g'):format(l16, l32))
    local p, g = model:parameters()
    local offset = 0
    for i = 1, #g do                  -- each parameter's gradient, relative to its largest
      local n = g[i]:nElement()
      local want = g32:narrow(1, offset + 1, n)
      H.near(grads:narrow(1, offset + 1, n), want, 3e-2 * torch.abs(want):max() + 1e-7, 'gradient ' .. i)
      assert.equal('torch.FloatTensor', p[i]:type())
      offset = offset + n
    end
    assert.is_true((grads - g32):abs():max() > 0, 'rounded')
    local first = l16
    for _ = 1, 40 do
      autocast(f)
      params:add(-0.02, grads)
    end
    local last = autocast(f)
    assert.is_true(last < 0.6 * first, ('loss %g -> %g'):format(first, last))
  end)
end)
