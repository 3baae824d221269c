-- The fast paths of the per-call-overhead work match the plain paths they replace:
-- torch.actops (fused ReLU/Tanh/Sigmoid kernels) against the composed element-wise ops,
-- torch.linear and the borrowed-view products of blas.c against the same products
-- computed through copies, for float32 and float64, contiguous and non-contiguous inputs.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local dtypes = { 'float32', 'float64' }

-- a (rows x cols) tensor of dtype, contiguous or a transposed (non-contiguous) view
local function input(rows, cols, dt, contiguous)
  if contiguous then return torch.randn(rows, cols, dt) end
  return torch.randn(cols, rows, dt):t()
end

describe('torch.actops', function()
  for _, dt in ipairs(dtypes) do
    it('threshold, tanh and sigmoid backward match the plain ops (' .. dt .. ')', function()
      local x, go = torch.randn(7, 5, dt), torch.randn(7, 5, dt)
      local out, gi = torch.empty(0, dt), torch.empty(0, dt)
      assert.is_true(torch.actops.threshold_forward(out, x, 0, 0))
      H.near(out, x:clone():clamp(0, math.huge), 0)
      assert.is_true(torch.actops.threshold_backward(gi, go, x, 0))
      H.near(gi, x:gt(0):type(x:type()):cmul(go), 0)
      local y = torch.tanh(x)
      assert.is_true(torch.actops.tanh_backward(gi, go, y))
      H.near(gi, y:clone():cmul(y):mul(-1):add(1):cmul(go), H.tol[dt])
      y = torch.sigmoid(x)
      assert.is_true(torch.actops.sigmoid_backward(gi, go, y))
      H.near(gi, y:clone():mul(-1):add(1):cmul(y):cmul(go), H.tol[dt])
    end)
  end

  it('declines non-contiguous, mismatched and integer operands', function()
    local x = torch.randn(5, 7):t()
    assert.is_false(torch.actops.threshold_forward(torch.Tensor(), x, 0, 0))
    assert.is_false(torch.actops.tanh_backward(torch.Tensor(), torch.randn(3), torch.randn(4)))
    assert.is_false(torch.actops.threshold_forward(torch.LongTensor(), torch.LongTensor(3), 0, 0))
    assert.is_false(torch.actops.threshold_forward(torch.Tensor(), torch.randn(3, 'float64'), 0, 0))
  end)

  for _, name in ipairs { 'ReLU', 'Tanh', 'Sigmoid' } do
    it('nn.' .. name .. ' gives the same values on contiguous and non-contiguous inputs', function()
      for _, dt in ipairs(dtypes) do
        local x, go = input(6, 4, dt, false), input(6, 4, dt, false)
        local a, b = nn[name]():type(x:type()), nn[name]():type(x:type())
        local ya, ga = a:forward(x), a:backward(x, go)                       -- plain path
        local yb, gb = b:forward(x:contiguous()), b:backward(x:contiguous(), go:contiguous())
        H.near(yb, ya, H.tol[dt])
        H.near(gb, ga, H.tol[dt])
      end
    end)
  end
end)

describe('torch.linear and the direct products', function()
  for _, dt in ipairs(dtypes) do
    for _, contiguous in ipairs { true, false } do
      local what = ('%s, %s'):format(dt, contiguous and 'contiguous' or 'non-contiguous')
      it('linear matches addmm/addmv through copies (' .. what .. ')', function()
        local x, w, b = input(3, 5, dt, contiguous), input(4, 5, dt, contiguous), torch.randn(4, dt)
        local want = torch.addmm(b:view(1, 4):expand(3, 4):contiguous(), x:contiguous(), w:t():contiguous())
        H.near(torch.linear(torch.empty(0, dt), x, w, b), want, H.tol[dt])
        H.near(torch.linear(torch.empty(0, dt), x, w), torch.mm(x:contiguous(), w:t():contiguous()), H.tol[dt])
        local v = x:select(1, 2)
        H.near(torch.linear(torch.empty(0, dt), v, w, b), torch.addmv(b:clone(), w:contiguous(), v:contiguous()), H.tol[dt])
      end)

      it('mm, mv, addr and matmul (vector x matrix) match the plain products (' .. what .. ')', function()
        local a, m = input(4, 3, dt, contiguous), input(3, 5, dt, contiguous)
        local ref = torch.zeros(4, 5, dt)
        for i = 1, 4 do for j = 1, 5 do
          local s = 0
          for k = 1, 3 do s = s + a[i][k] * m[k][j] end
          ref[i][j] = s
        end end
        H.near(torch.mm(a, m), ref, H.tol[dt])
        local r = torch.empty(5, 4, dt):t()                               -- a strided result
        H.near(torch.mm(r, a, m), ref, H.tol[dt])
        H.near(torch.mv(a, m:select(2, 1)), ref:select(2, 1), H.tol[dt])
        H.near(torch.matmul(a:select(1, 2), m), ref:select(1, 2), H.tol[dt])
        local x, y = torch.randn(4, dt), torch.randn(5, dt)
        local outer = torch.ger(x, y)
        H.near(torch.addr(ref:clone(), 2, x, y), ref + outer * 2, H.tol[dt] * 10)
        assert.same({ 2, 4, 5 }, torch.matmul(torch.randn(2, 4, 3, dt), m):sizeTable())
      end)
    end
  end

  it('keeps the aliasing rules: a result that is an operand', function()
    local a = torch.randn(3, 3, 'float64')
    local want = torch.mm(a, a)
    H.near(torch.mm(a, a, a), want, 1e-12)
  end)

  it('nn.Linear gives the same forward and backward on contiguous and strided inputs', function()
    for _, dt in ipairs(dtypes) do
      local l = nn.Linear(5, 4):type(torch.empty(0, dt):type())
      local x, go = input(3, 5, dt, false), input(3, 4, dt, false)
      local y1 = l:forward(x):clone()
      l:zeroGradParameters()
      local g1 = l:backward(x, go):clone()
      local gw1 = l.gradWeight:clone()
      local y2 = l:forward(x:contiguous())
      l:zeroGradParameters()
      local g2 = l:backward(x:contiguous(), go:contiguous())
      H.near(y2, y1, H.tol[dt]); H.near(g2, g1, H.tol[dt]); H.near(l.gradWeight, gw1, H.tol[dt])
      H.near(y1, torch.addmm(l.bias:view(1, 4):expand(3, 4):contiguous(), x:contiguous(), l.weight:t():contiguous()), H.tol[dt])
    end
  end)
end)

describe('skipping the gradient of the data', function()
  it('nn.Linear with gradInput = nil still accumulates its parameter gradients', function()
    torch.manualSeed(3)
    local a = nn.Linear(4, 3):double()
    local b = a:clone()
    b.gradInput = nil
    local x, gy = torch.randn(5, 4, 'float64'), torch.randn(5, 3, 'float64')
    a:zeroGradParameters(); b:zeroGradParameters()
    a:forward(x); b:forward(x)
    local gi = a:backward(x, gy)
    assert.is_nil(b:backward(x, gy))
    assert.are.same({5, 4}, gi:sizeTable())
    assert.is_true(a.gradWeight:equal(b.gradWeight))
    assert.is_true(a.gradBias:equal(b.gradBias))
    local seq = nn.Sequential():add(b):add(nn.Tanh():double())
    seq:zeroGradParameters()
    seq:forward(x)
    assert.is_nil(seq:backward(x, torch.randn(5, 3, 'float64')))
  end)
end)
