-- Fast paths of the element-wise kernels (cpu_pointwise.c) against plain versions:
-- float32 expm1, log1p and tanh (computed through double exp/log) against the float64
-- kernels rounded to float32; where() on contiguous operands (a branch-free select)
-- against the strided loop; sign's selects against the definition, NaN and -0 included.
local torch = require 'torch'
local H = require 'helpers'

-- float32 values over many scales, the edge cases, and the zeros of both signs
local function samples()
  local parts = {}
  for _, s in ipairs { 1e-7, 1e-5, 1e-3, 0.1, 1, 3, 10, 40 } do
    parts[#parts + 1] = torch.randn(2000):mul(s)
  end
  parts[#parts + 1] = torch.Tensor({ 0, -0.0, 1 / 0, -1 / 0, 0 / 0, -1, -0.999, 9.01, -9.02,
                                     10.5, 88.7, 89, -100, 1e-30, -1e-30, 2e-5, -2e-5 })
  return torch.cat(parts, 1):float()
end

-- |a - b| in units of b's last place (float32), NaN where both are NaN counted as 0
local function ulps(a, b)
  local d = (a:double() - b:double()):abs()
  local u = b:double():abs():mul(2 ^ -23):clamp(2 ^ -149, math.huge)
  d:cdiv(u)
  d[a:ne(a):cmul(b:ne(b))] = 0
  d[a:double():eq(b:double())] = 0   -- equal infinities
  return d
end

describe('float32 expm1, log1p, tanh', function()
  for _, name in ipairs { 'expm1', 'log1p', 'tanh' } do
    it(name .. ' is the float64 result rounded (within 1 ulp), -0 kept', function()
      torch.manualSeed(7)
      local x = samples()
      local got = torch[name](x)
      local ref = torch[name](x:double()):float()
      assert.is_true(got:ne(got):eq(ref:ne(ref)):all(), 'NaN in the same places')
      assert.is_true(ulps(got, ref):max() <= 1, name .. ': more than 1 ulp from float64')
      local z = torch[name](torch.FloatTensor({ -0.0 }))[1]
      assert.are.equal(-math.huge, 1 / z)
      -- non-contiguous operands take the strided loop of the same function
      local xs = x:view(-1, 1):expand(x:nElement(), 2):t()
      H.near(torch[name](xs)[2], got, 0, name .. ': strided')
    end)
  end
end)

describe('where on contiguous operands', function()
  for _, t in ipairs { 'torch.FloatTensor', 'torch.DoubleTensor', 'torch.LongTensor' } do
    it('matches the strided loop: ' .. t, function()
      torch.manualSeed(3)
      local a = torch.randn(37, 53):mul(100):type(t)
      local b = torch.randn(37, 53):mul(100):type(t)
      local c = torch.randn(37, 53):gt(0)
      local fast = torch.where(c, a, b)
      local slow = torch.where(c:t():clone():t(), a:t():clone():t(), b:t():clone():t())
      H.near(fast, slow, 0, 'where')
      for i = 1, 37, 5 do
        for j = 1, 53, 7 do
          assert.are.equal(c[i][j] and a[i][j] or b[i][j], fast[i][j])
        end
      end
    end)
  end
end)

describe('sign', function()
  for _, t in ipairs { 'torch.FloatTensor', 'torch.DoubleTensor' } do
    it('is -1, 0, 1 or NaN, contiguous or not: ' .. t, function()
      local x = torch.Tensor({ -2, -0.0, 0, 3, 0 / 0, -1 / 0, 1 / 0, 1e-30 }):type(t)
      local y = torch.sign(x)
      H.near(y, { -1, 0, 0, 1, 0 / 0, -1, 1, 1 }, 0, 'sign')
      assert.are.equal(math.huge, 1 / y[2])   -- sign(-0) is +0, as before
      H.near(torch.sign(x:view(-1, 1):expand(8, 2):t())[1], y, 0, 'strided')
    end)
  end
end)
