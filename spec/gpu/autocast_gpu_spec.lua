-- bfloat16 precision on the GPU (nn.autocast('bfloat16')): cuBLAS products of bfloat16
-- copies into float32 (kernels/blas_cublas.cu, kernels/attention.cu) and cuDNN's
-- bfloat16 convolutions (kernels/cudnn_conv.cu), against the float64 products of the
-- rounded operands and against the CPU's bfloat16 mode; weights stay float32 CUDA
-- tensors; a short training run tracks float32. Tagged #gpu (`make test-gpu`).
-- EMBER_GPU_SPEC_AS=float runs the same checks with CPU float32 standing in for the
-- GPU, to check the spec itself where there is no device.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local AS_CPU = os.getenv('EMBER_GPU_SPEC_AS') == 'float'
local BF = 'bfloat16'

local function dev(t)
  if not torch.isTensor(t) or t:dtype() == 'int64' then return t end
  return AS_CPU and t:float() or t:cuda()
end
local function devModule(m) return AS_CPU and m:float() or m:cuda() end
local function host(t) return t:double() end
local function bf(t) return t:float():bfloat16():double() end

-- |got - want| <= k * 2^-22 * mag + rel * |want| elementwise: float32 sums of k products
-- (mag = sum |a||b|), plus rel for a result that was rounded once more (cuDNN's
-- bfloat16 output: rel = 2^-8)
local function nearSums(got, want, mag, k, rel, what)
  local tol = mag * (4 * math.max(k, 1) * 2 ^ -24) + torch.abs(want) * rel + 1e-30
  local excess = torch.abs(host(got) - want) - tol
  assert(excess:max() <= 0, ('%s: off by %g more than allowed'):format(what, excess:max()))
end

local function product(c, a, b, what)
  local ar, br = bf(a), bf(b)
  nearSums(c, torch.mm(ar, br), torch.mm(torch.abs(ar), torch.abs(br)), a:size(2), 0, what)
end

-- the float64 reference of a module step on the rounded weight, input and gradOutput,
-- and the magnitudes (the same on |w|, |x|, |gy|, |bias|)
local function reference(m, x, gy)
  local function run(absolute)
    local r = m:clone():double()
    r.weight:copy(bf(m.weight))
    if absolute then
      r.weight:abs()
      if r.bias then r.bias:abs() end
    end
    local rx, rgy = bf(x), bf(gy)
    if absolute then rx, rgy = torch.abs(rx), torch.abs(rgy) end
    r:zeroGradParameters()
    local y = r:forward(rx):clone()
    local gx = r:backward(rx, rgy):clone()
    return y, gx, r.gradWeight:clone()
  end
  local y, gx, gw = run(false)
  local ya, gxa, gwa = run(true)
  return { y, gx, gw }, { ya, gxa, gwa }
end

describe('#gpu bfloat16 autocast on the GPU', function()
  local ok, why = torch.cuda.isAvailable()
  if not AS_CPU and not ok and not os.getenv('EMBER_LIST_GPU_SPECS') then
    pending('no CUDA device: ' .. tostring(why))
    return
  end
  before_each(function() torch.manualSeed(9) end)
  after_each(function() nn.autocast(false) end)

  it('mm, addmm and matmul: products of rounded operands, float32 results', function()
    for _, s in ipairs { { 1, 1, 1 }, { 7, 13, 5 }, { 65, 130, 33 }, { 3, 700, 300 } } do
      local a, b = torch.randn(s[1], s[2]), torch.randn(s[2], s[3])
      local c = torch.mm(dev(a), dev(b), BF)
      assert.equal('float32', c:dtype())
      product(c, a, b, 'mm')
      product(torch.mm(dev(a:t():contiguous()):t(), dev(b), BF), a, b, 'mm, transposed left')
      local m = torch.randn(s[1], s[3])
      local r = torch.addmm(dev(m), dev(a), dev(b), BF)
      nearSums(r, torch.mm(bf(a), bf(b)) + m:double(),
               torch.mm(torch.abs(bf(a)), torch.abs(bf(b))) + torch.abs(m:double()), s[2], 0, 'addmm')
    end
    local x, w = torch.randn(3, 4, 10), torch.randn(10, 6)
    local c = torch.matmul(dev(x), dev(w), BF)
    for i = 1, 3 do product(c[i], x[i], w, 'matmul ' .. i) end
    local y = torch.randn(1, 10, 6):expand(3, 10, 6)    -- batch stride 0
    c = torch.bmm(dev(x:narrow(2, 1, 4)), dev(y), BF)
    for i = 1, 3 do product(c[i], x[i], w:copy(y[i]), 'bmm ' .. i) end
  end)

  it('rejects float64 in bfloat16 precision', function()
    local d = dev(torch.randn(2, 2)):double()
    H.raises({ 'mm: bfloat16 products take float32 tensors, got float64' },
             function() torch.mm(d, d, BF) end)
  end)

  it('Linear under autocast: rounded products, float32 weights and gradients', function()
    local m = nn.Linear(40, 24)
    local x, gy = torch.randn(17, 40), torch.randn(17, 24)
    local want, mag = reference(m, x, gy)
    local g = devModule(m:clone())
    local w0 = g.weight:clone()
    nn.autocast(BF, function()
      g:zeroGradParameters()
      g:forward(dev(x))
      g:backward(dev(x), dev(gy))
    end)
    nearSums(g.output, want[1], mag[1], 40, 0, 'output')
    nearSums(g.gradInput, want[2], mag[2], 24, 0, 'gradInput')
    nearSums(g.gradWeight, want[3], mag[3], 17, 0, 'gradWeight')
    for _, t in ipairs { g.weight, g.gradWeight, g.output } do assert.equal('float32', t:dtype()) end
    H.near(host(g.weight), host(w0), 0, 'the master weights are untouched')
  end)

  -- cuDNN's bfloat16 convolutions write bfloat16: one more rounding (2^-8 relative)
  for _, case in ipairs {
    { 'SpatialConvolution', function() return nn.SpatialConvolution(4, 6, 3, 3, 1, 1, 1, 1, 2) end,
      torch.randn(2, 4, 7, 7), 18 },
    { 'SpatialFullConvolution',
      function() return nn.SpatialFullConvolution(3, 4, 3, 3, 2, 2, 1, 1, 1, 1) end,
      torch.randn(2, 3, 5, 5), 36 },
    { 'TemporalConvolution', function() return nn.TemporalConvolution(5, 4, 3, 1) end,
      torch.randn(2, 9, 5), 15 },
  } do
    local name, make, x, k = case[1], case[2], case[3], case[4]
    it(name .. ' under autocast: rounded products, float32 weights', function()
      local m = make()
      local gy = torch.randn(m:forward(x):size())
      local want, mag = reference(m, x, gy)
      local g = devModule(m:clone())
      nn.autocast(BF, function()
        g:zeroGradParameters()
        g:forward(dev(x))
        g:backward(dev(x), dev(gy))
      end)
      local rel = AS_CPU and 0 or 2 ^ -8
      nearSums(g.output, want[1], mag[1], k, rel, name .. ' output')
      nearSums(g.gradInput, want[2], mag[2], 64, rel, name .. ' gradInput')
      nearSums(g.gradWeight, want[3], mag[3], 2 * 81, rel, name .. ' gradWeight')
      assert.equal('float32', g.weight:dtype())
      assert.equal('float32', g.gradWeight:dtype())
    end)
  end

  it('MultiheadAttention under autocast agrees with the CPU under autocast', function()
    local m = nn.MultiheadAttention(16, 4, { causal = true })
    local x, gy = torch.randn(2, 6, 16), torch.randn(2, 6, 16)
    local g = devModule(m:clone())
    local y, gx, gxg
    nn.autocast(BF, function()
      y = m:forward(x):clone()
      gx = m:backward(x, gy):clone()
      g:forward(dev(x))
      gxg = g:backward(dev(x), dev(gy))
    end)
    H.near(host(g.output), y:double(), 1e-2 * torch.abs(y):max(), 'output')
    H.near(host(gxg), gx:double(), 1e-2 * torch.abs(gx):max(), 'gradInput')
    H.near(host(g.gradInWeight), m.gradInWeight:double(), 1e-2 * torch.abs(m.gradInWeight):max(),
           'gradInWeight')
    assert.equal('float32', g.inWeight:dtype())
  end)

  it('a small CNN trains under autocast and its loss curve tracks float32', function()
    local x = torch.randn(64, 1, 8, 8)
    local t = x:view(64, -1):sum(2):view(64):gt(0):long() + 1
    local function train(cast)
      torch.manualSeed(2)
      local model = devModule(nn.Sequential():add(nn.SpatialConvolution(1, 4, 3, 3, 1, 1, 1, 1))
                                :add(nn.ReLU()):add(nn.View(-1):setNumInputDims(3))
                                :add(nn.Linear(256, 2)))
      local crit = devModule(nn.CrossEntropyCriterion())
      local params, grads = model:getParameters()
      local gx, losses = dev(x), {}
      for i = 1, 40 do
        local function f()
          grads:zero()
          local loss = crit:forward(model:forward(gx), t)
          model:backward(gx, crit:backward(model.output, t))
          return loss
        end
        losses[i] = cast and nn.autocast(BF, f) or f()
        params:add(-0.1, grads)
      end
      assert.equal('float32', params:dtype())
      return losses
    end
    local l32, l16 = train(false), train(true)
    assert.is_true(l16[40] < 0.5 * l16[1], ('loss %g -> %g'):format(l16[1], l16[40]))
    for i = 1, 40 do
      assert.is_true(math.abs(l16[i] - l32[i]) < 0.15 * l32[i] + 1e-2,
                     ('step %d: %g vs %g'):format(i, l16[i], l32[i]))
    end
  end)
end)
