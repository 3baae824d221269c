-- The nn kernels behind torch.nnops: forward values against PyTorch fixtures
-- (fixtures/make_ops.py), every backward against central finite differences in
-- float64, and the error messages.
local torch = require 'torch'
local H = require 'helpers'

local ops = torch.nnops
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local fx = dofile(here .. 'fixtures/ops.lua')

local FWD_TOL = { float64 = 1e-10, float32 = 1e-4 }
local GRAD_TOL = 1e-6
local EPS = 1e-6

-- --- helpers ---

local ctor = { float64 = torch.DoubleTensor, float32 = torch.FloatTensor }

-- a fixture entry {size, data} as a tensor of dtype
local function T(entry, dtype)
  return ctor[dtype or 'float64'](entry.data):view(entry.size)
end

-- a deterministic pseudo-random tensor in [-1, 1) (a Lua LCG; no dependency on torch.rand)
local seed = 12345
local function rnd(dtype, ...)
  local size = { ... }
  local n = 1
  for _, s in ipairs(size) do n = n * s end
  local t = ctor[dtype](n)
  for i = 1, n do
    seed = (seed * 1103515245 + 12345) % 2147483648
    t[i] = seed / 1073741824 - 1
  end
  return t:view(size)
end

local function flat(t) return t:contiguous():view(t:nElement()):totable() end

local function dot(a, b)
  local s = 0
  for i = 1, #a do s = s + a[i] * b[i] end
  return s
end

-- d sum(f() * R) / d base, elementwise by central differences; base is contiguous and f
-- reads it (or a view of it) each call.
local function numgrad(f, base, R)
  local r = flat(R)
  local v = base:view(base:nElement())
  local g = {}
  for i = 1, v:nElement() do
    local orig = v[i]
    v[i] = orig + EPS
    local fp = dot(flat(f()), r)
    v[i] = orig - EPS
    local fm = dot(flat(f()), r)
    v[i] = orig
    g[i] = (fp - fm) / (2 * EPS)
  end
  return g
end

-- the gradient of a view, carried back to its contiguous base
local function to_base(grad_view, base, make_view)
  local gb = base:clone():zero()
  make_view(gb):copy(grad_view)
  return flat(gb)
end

local function identity(t) return t end

-- --- convolution ---

local function conv_args(c) return c.sH, c.sW, c.pH, c.pW, c.dH, c.dW end

describe('nnops.conv2d', function()
  for _, dtype in ipairs { 'float64', 'float32' } do
    for _, name in ipairs { 'conv2d_groups', 'conv2d_plain' } do
      it(('matches PyTorch: %s (%s)'):format(name, dtype), function()
        local c = fx[name]
        local y = ops.conv2d_forward(nil, T(c.input, dtype), T(c.weight, dtype), T(c.bias, dtype),
                                     c.sH, c.sW, c.pH, c.pW, c.dH, c.dW, c.groups)
        assert.same(c.output.size, y:sizeTable())
        H.near(y, T(c.output), FWD_TOL[dtype])
      end)
    end
  end

  -- N, C, H, W, F, kH, kW, stride, padding, dilation, groups, view of the input
  local configs = {
    { name = 'batch 1, plain', N = 1, C = 2, H = 5, W = 5, F = 3, kH = 3, kW = 3,
      sH = 1, sW = 1, pH = 0, pW = 0, dH = 1, dW = 1, G = 1 },
    { name = 'stride 2, padding, dilation, groups, transposed view', N = 2, C = 4, H = 6, W = 7,
      F = 4, kH = 3, kW = 2, sH = 2, sW = 1, pH = 1, pW = 1, dH = 1, dW = 2, G = 2,
      transposed = true },
    { name = '1x1 pointwise, narrowed view', N = 2, C = 3, H = 3, W = 4, F = 2, kH = 1, kW = 1,
      sH = 1, sW = 1, pH = 0, pW = 0, dH = 1, dW = 1, G = 1, narrowed = true },
    { name = 'conv1d as height 1', N = 2, C = 2, H = 1, W = 8, F = 3, kH = 1, kW = 3,
      sH = 1, sW = 2, pH = 0, pW = 1, dH = 1, dW = 1, G = 1 },
  }
  for _, c in ipairs(configs) do
    it('backward matches finite differences: ' .. c.name, function()
      local base, view
      if c.transposed then
        base = rnd('float64', c.N, c.C, c.W, c.H)
        view = function(t) return t:transpose(3, 4) end
      elseif c.narrowed then
        base = rnd('float64', c.N, c.C + 2, c.H, c.W)
        view = function(t) return t:narrow(2, 2, c.C) end
      else
        base = rnd('float64', c.N, c.C, c.H, c.W)
        view = identity
      end
      local x = view(base)
      local w = rnd('float64', c.F, c.C / c.G, c.kH, c.kW)
      local b = rnd('float64', c.F)
      local work = torch.DoubleTensor()
      local function fwd()
        return ops.conv2d_forward(nil, x, w, b, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW, c.G, work)
      end
      local y = fwd()
      local R = rnd('float64', table.unpack(y:sizeTable()))
      local gx = ops.conv2d_backward_input(nil, x, R, w, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW, c.G, work)
      H.near(to_base(gx, base, view), numgrad(fwd, base, R), GRAD_TOL, 'grad_input')
      local gw, gb = w:clone():zero(), b:clone():zero()
      ops.conv2d_backward_params(gw, gb, x, R, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW, c.G, 1, work)
      H.near(flat(gw), numgrad(fwd, w, R), GRAD_TOL, 'grad_weight')
      H.near(flat(gb), numgrad(fwd, b, R), GRAD_TOL, 'grad_bias')
    end)
  end

  it('float32 gradients match float64 (batch-parallel path)', function()
    local x = rnd('float64', 8, 3, 9, 9)
    local w, b = rnd('float64', 5, 3, 3, 3), rnd('float64', 5)
    local y = ops.conv2d_forward(nil, x, w, b, 2, 2, 1, 1, 1, 1, 1)
    local R = rnd('float64', table.unpack(y:sizeTable()))
    local gx = ops.conv2d_backward_input(nil, x, R, w, 2, 2, 1, 1, 1, 1, 1)
    local gw, gb = w:clone():zero(), b:clone():zero()
    ops.conv2d_backward_params(gw, gb, x, R, 2, 2, 1, 1, 1, 1, 1, 1)
    local xf, wf, bf, Rf = x:float(), w:float(), b:float(), R:float()
    H.near(ops.conv2d_forward(nil, xf, wf, bf, 2, 2, 1, 1, 1, 1, 1), y, 1e-4)
    H.near(ops.conv2d_backward_input(nil, xf, Rf, wf, 2, 2, 1, 1, 1, 1, 1), gx, 1e-4)
    local gwf, gbf = wf:clone():zero(), bf:clone():zero()
    ops.conv2d_backward_params(gwf, gbf, xf, Rf, 2, 2, 1, 1, 1, 1, 1, 1)
    H.near(gwf, gw, 1e-3)
    H.near(gbf, gb, 1e-3)
  end)

  it('accumulates parameter gradients with a scale', function()
    local x, w, b = rnd('float64', 2, 2, 4, 4), rnd('float64', 3, 2, 3, 3), rnd('float64', 3)
    local R = rnd('float64', 2, 3, 2, 2)
    local gw1, gb1 = w:clone():zero(), b:clone():zero()
    ops.conv2d_backward_params(gw1, gb1, x, R, 1, 1, 0, 0, 1, 1, 1, 1)
    local gw2, gb2 = w:clone():zero(), b:clone():zero()
    ops.conv2d_backward_params(gw2, gb2, x, R, 1, 1, 0, 0, 1, 1, 1, 0.5)
    ops.conv2d_backward_params(gw2, gb2, x, R, 1, 1, 0, 0, 1, 1, 1, 0.5)
    H.near(gw2, gw1, 1e-12)
    H.near(gb2, gb1, 1e-12)
  end)

  it('takes a 3-d input without a batch dim', function()
    local x, w = rnd('float64', 2, 5, 5), rnd('float64', 3, 2, 3, 3)
    local y = ops.conv2d_forward(nil, x, w, nil, 1, 1, 1, 1, 1, 1, 1)
    assert.same({ 3, 5, 5 }, y:sizeTable())
    local y4 = ops.conv2d_forward(nil, x:view(1, 2, 5, 5), w, nil, 1, 1, 1, 1, 1, 1, 1)
    H.near(y, y4:view(3, 5, 5), 1e-12)
  end)

  it('reuses the workspace between calls', function()
    local x, w = rnd('float32', 4, 3, 8, 8), rnd('float32', 6, 3, 3, 3)
    local work = torch.FloatTensor()
    ops.conv2d_forward(nil, x, w, nil, 1, 1, 0, 0, 1, 1, 1, work)
    local ptr = work:dataPtr()
    ops.conv2d_forward(nil, x, w, nil, 1, 1, 0, 0, 1, 1, 1, work)
    assert.equal(ptr, work:dataPtr())
  end)

  it('writes into a non-contiguous output view', function()
    local x, w = rnd('float64', 1, 2, 4, 4), rnd('float64', 2, 2, 3, 3)
    local y = ops.conv2d_forward(nil, x, w, nil, 1, 1, 0, 0, 1, 1, 1)
    local store = torch.DoubleTensor(1, 2, 2, 2):zero()
    local out = store:transpose(3, 4)
    ops.conv2d_forward(out, x, w, nil, 1, 1, 0, 0, 1, 1, 1)
    H.near(out, y, 1e-12)
  end)

  it('reports shape, size and dtype errors naming the op', function()
    local w = torch.FloatTensor(1, 1, 3, 3):fill(1)
    H.raises('conv2d: input has 3 channels, weight expects 1', ops.conv2d_forward, nil,
             torch.FloatTensor(1, 3, 5, 5):fill(0), w, nil, 1, 1, 0, 0, 1, 1, 1)
    H.raises({ 'conv2d: kernel 3x3', 'larger than the padded input 2x2' }, ops.conv2d_forward, nil,
             torch.FloatTensor(1, 1, 2, 2):fill(0), w, nil, 1, 1, 0, 0, 1, 1, 1)
    H.raises({ 'conv2d: input is 5x5', '(N, C, H, W)' }, ops.conv2d_forward, nil,
             torch.FloatTensor(5, 5):fill(0), w, nil)
    H.raises('conv2d: weight is float64, input is float32', ops.conv2d_forward, nil,
             torch.FloatTensor(1, 1, 5, 5):fill(0), w:double(), nil)
    H.raises('conv2d: bias is 2, expected 1', ops.conv2d_forward, nil,
             torch.FloatTensor(1, 1, 5, 5):fill(0), w, torch.FloatTensor(2):fill(0))
    H.raises('conv2d: 3 output channels are not divisible into 2 groups', ops.conv2d_forward, nil,
             torch.FloatTensor(1, 2, 5, 5):fill(0), torch.FloatTensor(3, 1, 3, 3):fill(0), nil,
             1, 1, 0, 0, 1, 1, 2)
    H.raises('conv2d: grad_output is 1x1x2x2, expected 1x1x3x3', ops.conv2d_backward_input, nil,
             torch.FloatTensor(1, 1, 5, 5):fill(0), torch.FloatTensor(1, 1, 2, 2):fill(0), w)
  end)

  it('leaves its output untouched when it fails', function()
    local out = torch.FloatTensor(2, 2):fill(7)
    pcall(ops.conv2d_forward, out, torch.FloatTensor(1, 3, 5, 5):fill(0),
          torch.FloatTensor(1, 1, 3, 3):fill(0), nil)
    assert.same({ { 7, 7 }, { 7, 7 } }, out:totable())
  end)
end)

describe('nnops.conv_transpose2d', function()
  for _, dtype in ipairs { 'float64', 'float32' } do
    it('matches PyTorch (' .. dtype .. ')', function()
      local c = fx.conv_transpose2d
      local y = ops.conv_transpose2d_forward(nil, T(c.input, dtype), T(c.weight, dtype),
                                             T(c.bias, dtype), c.sH, c.sW, c.pH, c.pW, c.dH,
                                             c.dW, c.aH, c.aW, c.groups)
      assert.same(c.output.size, y:sizeTable())
      H.near(y, T(c.output), FWD_TOL[dtype])
    end)
  end

  local configs = {
    { name = 'batch 1, stride 2, output padding', N = 1, C = 2, H = 3, W = 3, Fg = 3, kH = 3,
      kW = 3, sH = 2, sW = 2, pH = 1, pW = 1, dH = 1, dW = 1, aH = 1, aW = 0, G = 1 },
    { name = 'groups, dilation, transposed view', N = 2, C = 4, H = 3, W = 4, Fg = 1, kH = 2,
      kW = 3, sH = 1, sW = 2, pH = 0, pW = 1, dH = 2, dW = 1, aH = 0, aW = 1, G = 2,
      transposed = true },
  }
  for _, c in ipairs(configs) do
    it('backward matches finite differences: ' .. c.name, function()
      local base, view = rnd('float64', c.N, c.C, c.H, c.W), identity
      if c.transposed then
        base = rnd('float64', c.N, c.C, c.W, c.H)
        view = function(t) return t:transpose(3, 4) end
      end
      local x = view(base)
      local w, b = rnd('float64', c.C, c.Fg, c.kH, c.kW), rnd('float64', c.Fg * c.G)
      local function fwd()
        return ops.conv_transpose2d_forward(nil, x, w, b, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW,
                                            c.aH, c.aW, c.G)
      end
      local R = rnd('float64', table.unpack(fwd():sizeTable()))
      local gx = ops.conv_transpose2d_backward_input(nil, x, R, w, c.sH, c.sW, c.pH, c.pW, c.dH,
                                                     c.dW, c.aH, c.aW, c.G)
      H.near(to_base(gx, base, view), numgrad(fwd, base, R), GRAD_TOL, 'grad_input')
      local gw, gb = w:clone():zero(), b:clone():zero()
      ops.conv_transpose2d_backward_params(gw, gb, x, R, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW,
                                           c.aH, c.aW, c.G, 1)
      H.near(flat(gw), numgrad(fwd, w, R), GRAD_TOL, 'grad_weight')
      H.near(flat(gb), numgrad(fwd, b, R), GRAD_TOL, 'grad_bias')
    end)
  end
end)

-- --- pooling ---

describe('nnops pooling', function()
  for _, dtype in ipairs { 'float64', 'float32' } do
    for _, name in ipairs { 'maxpool_ceil', 'maxpool_dilated' } do
      it(('max pool matches PyTorch: %s (%s)'):format(name, dtype), function()
        local c = fx[name]
        local y, idx = ops.maxpool2d_forward(nil, nil, T(c.input, dtype), c.kH, c.kW, c.sH, c.sW,
                                             c.pH, c.pW, c.dH, c.dW, c.ceil_mode)
        assert.same(c.output.size, y:sizeTable())
        H.near(y, T(c.output), FWD_TOL[dtype])
        assert.same(c.indices.data, flat(idx))
        assert.equal('torch.LongTensor', idx:type())
      end)
    end
    for _, name in ipairs { 'avgpool_cip_true', 'avgpool_cip_false' } do
      it(('average pool matches PyTorch: %s (%s)'):format(name, dtype), function()
        local c = fx[name]
        local y = ops.avgpool2d_forward(nil, T(c.input, dtype), c.kH, c.kW, c.sH, c.sW, c.pH,
                                        c.pW, c.ceil_mode, c.count_include_pad)
        assert.same(c.output.size, y:sizeTable())
        H.near(y, T(c.output), FWD_TOL[dtype])
      end)
    end
    it('adaptive average pool matches PyTorch (' .. dtype .. ')', function()
      local c = fx.adaptive_avgpool
      local y = ops.adaptive_avgpool2d_forward(nil, T(c.input, dtype), c.oH, c.oW)
      assert.same(c.output.size, y:sizeTable())
      H.near(y, T(c.output), FWD_TOL[dtype])
    end)
  end

  local function narrowed(N, C, Hh, W)
    local base = rnd('float64', N, C, Hh, W + 2)
    return base, function(t) return t:narrow(4, 2, W) end
  end

  it('max pool backward matches finite differences (ceil mode, narrowed view, batch 1)', function()
    for _, c in ipairs { { N = 1, k = { 3, 2 }, s = { 2, 2 }, p = { 1, 1 }, d = { 1, 1 }, ceil = true },
                         { N = 2, k = { 2, 3 }, s = { 1, 2 }, p = { 1, 1 }, d = { 2, 1 }, ceil = false } } do
      local base, view = narrowed(c.N, 2, 5, 6)
      local x = view(base)
      local function fwd()
        return (ops.maxpool2d_forward(nil, nil, x, c.k[1], c.k[2], c.s[1], c.s[2], c.p[1], c.p[2],
                                      c.d[1], c.d[2], c.ceil))
      end
      local y, idx = ops.maxpool2d_forward(nil, nil, x, c.k[1], c.k[2], c.s[1], c.s[2], c.p[1],
                                           c.p[2], c.d[1], c.d[2], c.ceil)
      local R = rnd('float64', table.unpack(y:sizeTable()))
      local gx = ops.maxpool2d_backward(nil, x, R, idx)
      H.near(to_base(gx, base, view), numgrad(fwd, base, R), GRAD_TOL)
    end
  end)

  it('average pool backward matches finite differences', function()
    for _, cip in ipairs { true, false } do
      local base, view = narrowed(2, 2, 5, 6)
      local x = view(base)
      local function fwd() return ops.avgpool2d_forward(nil, x, 3, 3, 2, 2, 1, 1, true, cip) end
      local R = rnd('float64', table.unpack(fwd():sizeTable()))
      local gx = ops.avgpool2d_backward(nil, x, R, 3, 3, 2, 2, 1, 1, true, cip)
      H.near(to_base(gx, base, view), numgrad(fwd, base, R), GRAD_TOL)
    end
  end)

  it('adaptive average pool backward matches finite differences', function()
    local base, view = narrowed(1, 2, 7, 5)
    local x = view(base)
    local function fwd() return ops.adaptive_avgpool2d_forward(nil, x, 3, 2) end
    local R = rnd('float64', 1, 2, 3, 2)
    local gx = ops.adaptive_avgpool2d_backward(nil, x, R)
    H.near(to_base(gx, base, view), numgrad(fwd, base, R), GRAD_TOL)
  end)

  it('reports pooling errors', function()
    H.raises('maxpool2d: padding 2x2 must be at most half of the kernel 2x2',
             ops.maxpool2d_forward, nil, nil, torch.FloatTensor(1, 1, 4, 4):fill(0), 2, 2, 2, 2, 2, 2)
    H.raises({ 'avgpool2d: kernel 5x5', 'does not fit input 1x1x3x3' }, ops.avgpool2d_forward, nil,
             torch.FloatTensor(1, 1, 3, 3):fill(0), 5, 5)
    H.raises({ 'maxpool2d: input is 4', '(N, C, H, W)' }, ops.maxpool2d_forward, nil, nil,
             torch.FloatTensor(4):fill(0), 2, 2)
  end)
end)

-- --- softmax ---

describe('nnops softmax', function()
  for _, dtype in ipairs { 'float64', 'float32' } do
    it('matches PyTorch (' .. dtype .. ')', function()
      local c = fx.softmax_dim2
      H.near(ops.softmax_forward(nil, T(c.input, dtype), c.dim), T(c.output), FWD_TOL[dtype])
      c = fx.log_softmax_last
      H.near(ops.log_softmax_forward(nil, T(c.input, dtype)), T(c.output), FWD_TOL[dtype])
    end)
  end

  for _, fn in ipairs { 'softmax', 'log_softmax' } do
    it(fn .. ' backward matches finite differences along several dims and views', function()
      for _, dim in ipairs { 1, 2, -1 } do
        local base = rnd('float64', 3, 5, 4)
        local view = function(t) return t:transpose(2, 3) end
        local x = view(base)
        local function fwd() return ops[fn .. '_forward'](nil, x, dim) end
        local y = fwd():clone()
        local R = rnd('float64', 3, 4, 5)
        local gx = ops[fn .. '_backward'](nil, R, y, dim)
        H.near(to_base(gx, base, view), numgrad(fwd, base, R), GRAD_TOL, fn .. ' dim ' .. dim)
      end
    end)
  end

  it('reports a bad dim', function()
    H.raises('dimension 3 out of range', ops.softmax_forward, nil, torch.FloatTensor(2, 2):fill(0), 3)
  end)
end)

-- --- normalisation ---

describe('nnops batchnorm', function()
  for _, dtype in ipairs { 'float64', 'float32' } do
    it('train mode matches PyTorch, running stats included (' .. dtype .. ')', function()
      local c = fx.batchnorm_train
      local rm, rv = T(c.running_mean, dtype), T(c.running_var, dtype)
      local y = ops.batchnorm_forward(nil, nil, nil, T(c.input, dtype), T(c.weight, dtype),
                                      T(c.bias, dtype), rm, rv, true, c.momentum, c.eps)
      H.near(y, T(c.output), FWD_TOL[dtype])
      H.near(rm, T(c.new_running_mean), FWD_TOL[dtype])
      H.near(rv, T(c.new_running_var), FWD_TOL[dtype])
    end)
    it('eval mode matches PyTorch (' .. dtype .. ')', function()
      local c = fx.batchnorm_eval
      local rm, rv = T(c.running_mean, dtype), T(c.running_var, dtype)
      local y = ops.batchnorm_forward(nil, nil, nil, T(c.input, dtype), T(c.weight, dtype),
                                      T(c.bias, dtype), rm, rv, false, 0.1, c.eps)
      H.near(y, T(c.output), FWD_TOL[dtype])
      H.near(rm, T(c.running_mean), FWD_TOL[dtype])
    end)
  end

  for _, train in ipairs { true, false } do
    for _, shape in ipairs { { 4, 3 }, { 2, 3, 2, 3 } } do
      it(('backward matches finite differences (train %s, input %s)'):format(tostring(train),
         table.concat(shape, 'x')), function()
        local x = rnd('float64', table.unpack(shape))
        local w, b = rnd('float64', 3), rnd('float64', 3)
        local rm, rv = rnd('float64', 3), rnd('float64', 3):fill(0.7)
        local function fwd()
          if train then return (ops.batchnorm_forward(nil, nil, nil, x, w, b, nil, nil, true, 0.1, 1e-5)) end
          return (ops.batchnorm_forward(nil, nil, nil, x, w, b, rm, rv, false, 0.1, 1e-5))
        end
        local y, mean, invstd = ops.batchnorm_forward(nil, nil, nil, x, w, b, train and nil or rm,
                                                      train and nil or rv, train, 0.1, 1e-5)
        local R = rnd('float64', table.unpack(shape))
        local gw, gb = w:clone():zero(), b:clone():zero()
        local gx = ops.batchnorm_backward(torch.DoubleTensor(), gw, gb, x, R, w, mean, invstd, train, 1)
        H.near(flat(gx), numgrad(fwd, x, R), GRAD_TOL, 'grad_input')
        H.near(flat(gw), numgrad(fwd, w, R), GRAD_TOL, 'grad_weight')
        H.near(flat(gb), numgrad(fwd, b, R), GRAD_TOL, 'grad_bias')
        assert.is_truthy(y)
      end)
    end
  end

  it('reports errors and leaves running stats alone when it fails', function()
    local rm = torch.FloatTensor(3):fill(0.5)
    H.raises('batchnorm: running_var is 2, expected 3', ops.batchnorm_forward, nil, nil, nil,
             torch.FloatTensor(4, 3):fill(1), nil, nil, rm, torch.FloatTensor(2):fill(1), true)
    assert.same({ 0.5, 0.5, 0.5 }, rm:totable())
    H.raises('batchnorm: training needs more than one value per channel', ops.batchnorm_forward,
             nil, nil, nil, torch.FloatTensor(1, 3):fill(1), nil, nil, nil, nil, true)
    H.raises('batchnorm: evaluation needs running_mean and running_var', ops.batchnorm_forward,
             nil, nil, nil, torch.FloatTensor(2, 3):fill(1), nil, nil, nil, nil, false)
  end)
end)

describe('nnops layernorm', function()
  for _, dtype in ipairs { 'float64', 'float32' } do
    it('matches PyTorch (' .. dtype .. ')', function()
      local c = fx.layernorm
      local y = ops.layernorm_forward(nil, nil, nil, T(c.input, dtype), T(c.weight, dtype),
                                      T(c.bias, dtype), c.k, c.eps)
      H.near(y, T(c.output), FWD_TOL[dtype])
    end)
  end

  for _, k in ipairs { 1, 2 } do
    it('backward matches finite differences over the last ' .. k .. ' dims', function()
      local base = rnd('float64', 2, 5, 4)
      local view = function(t) return t:transpose(2, 3) end
      local x = view(base)
      local dims = k == 1 and { 5 } or { 4, 5 }
      local w, b = rnd('float64', table.unpack(dims)), rnd('float64', table.unpack(dims))
      local function fwd() return (ops.layernorm_forward(nil, nil, nil, x, w, b, k, 1e-5)) end
      local _, mean, invstd = ops.layernorm_forward(nil, nil, nil, x, w, b, k, 1e-5)
      local R = rnd('float64', 2, 4, 5)
      local gw, gb = w:clone():zero(), b:clone():zero()
      local gx = ops.layernorm_backward(torch.DoubleTensor(), gw, gb, x, R, w, mean, invstd, k, 1)
      H.near(to_base(gx, base, view), numgrad(fwd, base, R), GRAD_TOL, 'grad_input')
      H.near(flat(gw), numgrad(fwd, w, R), GRAD_TOL, 'grad_weight')
      H.near(flat(gb), numgrad(fwd, b, R), GRAD_TOL, 'grad_bias')
    end)
  end

  it('reports a weight of the wrong shape', function()
    H.raises('layernorm: weight is 4, expected 5', ops.layernorm_forward, nil, nil, nil,
             torch.FloatTensor(2, 5):fill(1), torch.FloatTensor(4):fill(1), nil, 1)
  end)
end)

-- --- losses ---

describe('nnops losses', function()
  local function target(entry) return torch.LongTensor(entry.data):view(entry.size) end

  for _, dtype in ipairs { 'float64', 'float32' } do
    for _, red in ipairs { 'mean', 'sum', 'none' } do
      it(('nll with class weights and an ignored target matches PyTorch (%s, %s)'):format(red, dtype), function()
        local c = fx['nll_' .. red]
        local y, total = ops.nll_forward(nil, nil, T(c.input, dtype), target(c.target),
                                         T(c.weight, dtype), red)
        H.near(y, T(c.output), FWD_TOL[dtype])
        H.near(total, { 1.0 + 0.25 + 0.5 + 2.0 + 0.25 }, FWD_TOL[dtype])   -- cw of the counted targets
      end)
    end
    it('cross entropy (spatial) matches PyTorch (' .. dtype .. ')', function()
      local c = fx.cross_entropy_spatial
      local y, _, logp = ops.cross_entropy_forward(nil, nil, nil, T(c.input, dtype),
                                                   target(c.target), T(c.weight, dtype), c.reduction)
      H.near(y, T(c.output), FWD_TOL[dtype])
      H.near(logp, T(c.log_probs), FWD_TOL[dtype])
    end)
  end

  for _, red in ipairs { 'mean', 'sum', 'none' } do
    it('nll and cross entropy backward match finite differences (' .. red .. ')', function()
      local t = torch.LongTensor { 2, 4, -100, 1, 3, 4 }
      local cw = torch.DoubleTensor { 0.5, 1.0, 2.0, 0.25 }
      local x = rnd('float64', 6, 4)
      local function nll() return (ops.nll_forward(nil, nil, x, t, cw, red)) end
      local function ce() return (ops.cross_entropy_forward(nil, nil, nil, x, t, cw, red)) end
      local y, total = ops.nll_forward(nil, nil, x, t, cw, red)
      local R = rnd('float64', table.unpack(y:sizeTable()))
      local gx = ops.nll_backward(nil, x, t, R, cw, total, red)
      H.near(flat(gx), numgrad(nll, x, R), GRAD_TOL, 'nll')
      local _, total2, logp = ops.cross_entropy_forward(nil, nil, nil, x, t, cw, red)
      gx = ops.cross_entropy_backward(nil, logp, t, R, cw, total2, red)
      H.near(flat(gx), numgrad(ce, x, R), GRAD_TOL, 'cross entropy')
    end)
  end

  it('cross entropy backward over spatial targets matches finite differences', function()
    local t = torch.LongTensor { { { 1, 3 }, { 2, -100 } }, { { 3, 3 }, { 1, 2 } } }
    local base = rnd('float64', 2, 3, 2, 2)
    local view = function(v) return v:transpose(3, 4) end
    local x = view(base)
    local function ce() return (ops.cross_entropy_forward(nil, nil, nil, x, t, nil, 'mean')) end
    local _, total, logp = ops.cross_entropy_forward(nil, nil, nil, x, t, nil, 'mean')
    local R = torch.DoubleTensor { 1.5 }
    local gx = ops.cross_entropy_backward(nil, logp, t, R, nil, total, 'mean')
    H.near(to_base(gx, base, view), numgrad(ce, base, R), GRAD_TOL)
  end)

  it('reports target errors naming the op and shapes', function()
    local x = torch.FloatTensor(2, 10):fill(0)
    H.raises('nll: target 11 out of range for 10 classes', ops.nll_forward, nil, nil, x,
             torch.LongTensor { 1, 11 })
    H.raises('cross_entropy: target 0 out of range for 10 classes', ops.cross_entropy_forward,
             nil, nil, nil, x, torch.LongTensor { 0, 1 })
    H.raises('nll: target 3 does not match input 2x10', ops.nll_forward, nil, nil, x,
             torch.LongTensor { 1, 2, 3 })
    H.raises('nll: target is float32, expected int64', ops.nll_forward, nil, nil, x,
             torch.FloatTensor { 1, 2 })
    H.raises('nll: class_weight is 3, expected 10', ops.nll_forward, nil, nil, x,
             torch.LongTensor { 1, 2 }, torch.FloatTensor(3):fill(1))
    H.raises('nll: class_weight is float64, input is float32', ops.nll_forward, nil, nil, x,
             torch.LongTensor { 1, 2 }, torch.DoubleTensor(10):fill(1))
  end)
end)
