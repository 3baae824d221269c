-- Random numbers: the MT19937 stream against reference outputs, reproducibility and
-- state snapshots, ranges, moments of every distribution on 1e5 samples, permutations,
-- multinomial frequencies and every error path. Moments are computed in Lua loops, not
-- with tensor math.
--
-- The reference words below come from CPython's own MT19937 (its C code), fed the
-- state of init_genrand / init_by_array:
--   import random
--   def init_genrand(s):
--       mt = [s & 0xffffffff]
--       for i in range(1, 624):
--           mt.append((1812433253 * (mt[-1] ^ (mt[-1] >> 30)) + i) & 0xffffffff)
--       return mt
--   r = random.Random(); r.setstate((3, tuple(init_genrand(5489) + [624]), None))
--   [r.getrandbits(32) for _ in range(5)]   # 3499211612, 581869302, 3890346734, ...
--   random.Random(0x912345678).getrandbits(32)  # 1823661467 (init_by_array of 2 words)
local torch = require 'torch'
local H = require 'helpers'

local N = 100000

local function flat(x)
  local out = {}
  local function walk(t)
    for _, v in ipairs(t) do
      if type(v) == 'table' then walk(v) else out[#out + 1] = v end
    end
  end
  walk(x:totable())
  return out
end

local function moments(x)
  local v, s, ss = flat(x), 0, 0
  for _, a in ipairs(v) do s = s + a end
  local mean = s / #v
  for _, a in ipairs(v) do ss = ss + (a - mean) ^ 2 end
  return mean, ss / (#v - 1), v
end

local function minmax(v)
  local lo, hi = math.huge, -math.huge
  for _, a in ipairs(v) do lo = math.min(lo, a); hi = math.max(hi, a) end
  return lo, hi
end

local function same(a, b) return H.maxdiff(a, b) == 0 end

describe('MT19937 stream', function()
  it('matches the reference outputs for seed 5489', function()
    torch.manualSeed(5489)
    local want = { 3499211612, 581869302, 3890346734, 3586334585, 545404204 }
    for i = 1, 5 do assert.are.equal(want[i], torch.random()) end
  end)

  it('gives 4123659995 as its 10000th word (the C++ standard check)', function()
    torch.manualSeed(5489)
    for _ = 1, 9999 do torch.random() end
    assert.are.equal(4123659995, torch.random())
  end)

  it('seeds 0 and 64-bit seeds as the reference and CPython do', function()
    torch.manualSeed(0)
    assert.are.equal(2357136044, torch.random())
    assert.are.equal(2546248239, torch.random())
    torch.manualSeed(0x912345678)
    assert.are.same({ 1823661467, 3847615039, 1593776896 }, { torch.random(), torch.random(), torch.random() })
  end)

  it('builds float64 uniforms from 53 bits and float32 ones from 24', function()
    local w = { 3499211612, 581869302, 3890346734, 3586334585 }
    torch.manualSeed(5489)
    local d = torch.rand(2, 'float64')
    assert.are.equal((w[1] * 2 ^ 21 + (w[2] >> 11)) / 2 ^ 53, d[1])
    assert.are.equal((w[3] * 2 ^ 21 + (w[4] >> 11)) / 2 ^ 53, d[2])
    H.near(d[1], 0.8147236919346, 1e-12)       -- MATLAB's first rand with the same seed
    torch.manualSeed(5489)
    local f = torch.rand(4, 'float32')
    for i = 1, 4 do assert.are.equal((w[i] >> 8) / 2 ^ 24, f[i]) end
  end)
end)

describe('seeding and state', function()
  it('replays the same tensors for the same seed', function()
    for _, make in ipairs {
      function() return torch.rand(50) end, function() return torch.randn(3, 7) end,
      function() return torch.randint(0, 100, 40) end, function() return torch.randperm(30) end,
      function() return torch.multinomial(torch.Tensor { 1, 2, 3 }, 20, true) end,
    } do
      torch.manualSeed(42)
      local a = make()
      torch.manualSeed(42)
      assert.is_true(same(a, make()))
    end
  end)

  it('reports the seeds it was given and makes fresh ones', function()
    torch.manualSeed(1234)
    assert.are.equal(1234, torch.initialSeed())
    local s1 = torch.seed()
    assert.are.equal(s1, torch.initialSeed())
    assert.is_true(s1 >= 0)
    assert.are_not.equal(s1, torch.seed())
  end)

  it('snapshots the whole generator, cached normal included', function()
    torch.manualSeed(7)
    torch.randn(1)                              -- leaves the second Box-Muller value cached
    local s = torch.getRNGState()
    assert.are.equal('torch.ByteTensor', s:type())
    local a, b = torch.randn(5), torch.rand(3)
    torch.setRNGState(s)
    assert.is_true(same(a, torch.randn(5)))
    assert.is_true(same(b, torch.rand(3)))
    assert.is_false(same(s, torch.getRNGState()))   -- a copy, not a view of the generator
  end)

  it('fills strided tensors in row-major order', function()
    torch.manualSeed(3)
    local a = torch.rand(4, 5)
    torch.manualSeed(3)
    local b = torch.zeros(5, 4):t()
    b:uniform()
    assert.is_true(same(a, b))
  end)

  it('rejects states that are not snapshots and keeps the generator', function()
    torch.manualSeed(11)
    local s = torch.getRNGState()
    H.raises({ 'setRNGState', 'bytes', 'got 3' }, torch.setRNGState, torch.zeros(3, 'uint8'))
    H.raises({ 'setRNGState', 'torch.FloatTensor' }, torch.setRNGState, s:float())
    H.raises('torch.Tensor', torch.setRNGState, 'state')
    local bad = s:clone()
    local n = bad:numel()
    bad[n - 14] = 255                            -- the position word, now past 624
    H.raises({ 'setRNGState', 'invalid state' }, torch.setRNGState, bad)
    local zero = torch.zeros(n, 'uint8')
    zero[n - 15], zero[n - 14] = 624 % 256, 624 // 256   -- a valid position, no state
    H.raises({ 'setRNGState', 'all zero' }, torch.setRNGState, zero)
    local x = torch.random()
    torch.manualSeed(11)
    assert.are.equal(torch.random(), x)
  end)
end)

describe('uniform', function()
  it('torch.rand stays in [0, 1) with mean 1/2 and variance 1/12', function()
    torch.manualSeed(1)
    local mean, var, v = moments(torch.rand(N))
    local lo, hi = minmax(v)
    assert.is_true(lo >= 0 and hi < 1)
    H.near(mean, 0.5, 0.005)
    H.near(var, 1 / 12, 0.002)
  end)

  it('works for every floating dtype and keeps half types below the bound', function()
    for _, dt in ipairs { 'float32', 'float64', 'float16', 'bfloat16' } do
      local x = torch.rand(N // 4, dt)
      assert.are.equal(dt, x:dtype())
      local lo, hi = minmax(flat(x))
      assert.is_true(lo >= 0 and hi < 1, dt)
    end
    local lo, hi = minmax(flat(torch.empty(N, 'float16'):uniform(0.5, 1)))
    assert.is_true(lo >= 0.5 and hi < 1)
  end)

  it('x:uniform(a, b) has mean (a+b)/2 and variance (b-a)^2/12', function()
    local x = torch.empty(N, 'float64'):uniform(-2, 3)
    local mean, var, v = moments(x)
    local lo, hi = minmax(v)
    assert.is_true(lo >= -2 and hi < 3)
    H.near(mean, 0.5, 0.03)
    H.near(var, 25 / 12, 0.05)
    assert.are.equal(x, x:uniform())               -- returns the tensor
  end)

  it('defaults to the default dtype and takes sizes as a table', function()
    assert.are.equal('torch.FloatTensor', torch.rand(2, 3):type())
    assert.are.same({ 2, 3 }, torch.rand({ 2, 3 }):sizeTable())
    assert.are.same({ 4, 2 }, torch.randn({ 4, 2 }, 'float64'):sizeTable())
  end)

  it('scalar torch.uniform and torch.normal', function()
    for _ = 1, 100 do
      local u = torch.uniform(2, 3)
      assert.is_true(u >= 2 and u < 3)
    end
    assert.are.equal('number', type(torch.normal()))
  end)
end)

describe('normal and friends', function()
  it('randn has mean 0 and variance 1', function()
    torch.manualSeed(2)
    local mean, var = moments(torch.randn(N))
    H.near(mean, 0, 0.02)
    H.near(var, 1, 0.03)
  end)

  it('x:normal(mean, std) for every floating dtype', function()
    for _, dt in ipairs { 'float64', 'float32', 'float16', 'bfloat16' } do
      local mean, var = moments(torch.empty(N // 2, dt):normal(5, 2))
      H.near(mean, 5, 0.1, dt)
      H.near(math.sqrt(var), 2, 0.1, dt)
    end
  end)

  it('exponential(lambda) has mean 1/lambda', function()
    local mean, var, v = moments(torch.empty(N, 'float64'):exponential(2))
    assert.is_true(minmax(v) >= 0)
    H.near(mean, 0.5, 0.01)
    H.near(var, 0.25, 0.01)
    assert.is_true(torch.exponential() >= 0)
  end)

  it('cauchy(median, sigma) has half its mass within sigma of the median', function()
    local v = flat(torch.empty(N, 'float64'):cauchy(1, 2))
    local below, near = 0, 0
    for _, a in ipairs(v) do
      if a < 1 then below = below + 1 end
      if math.abs(a - 1) < 2 then near = near + 1 end
    end
    H.near(below / N, 0.5, 0.01)
    H.near(near / N, 0.5, 0.01)
  end)

  it('logNormal(mean, std) takes the mean and std of the values (Torch7)', function()
    local mean, var, v = moments(torch.empty(N, 'float64'):logNormal(2, 0.5))
    assert.is_true(minmax(v) > 0)
    H.near(mean, 2, 0.02)
    H.near(math.sqrt(var), 0.5, 0.02)
  end)

  it('geometric(p) counts trials to the first success: 1, 2, ... with mean 1/p', function()
    local mean, var, v = moments(torch.empty(N, 'float64'):geometric(0.25))
    assert.are.equal(1, minmax(v))
    for i = 1, 100 do assert.are.equal(math.floor(v[i]), v[i]) end
    H.near(mean, 4, 0.05)
    H.near(var, 12, 0.5)                        -- (1 - p) / p^2
    local g = torch.zeros(10, 'int32'):geometric(1)
    assert.is_true(same(g, torch.ones(10, 'int32')))
    assert.are.equal(math.type(torch.geometric(0.5)), 'integer')
  end)
end)

describe('bernoulli', function()
  it('x:bernoulli(p) gives 0/1 with mean p in any dtype', function()
    for _, dt in ipairs { 'float32', 'uint8', 'int64' } do
      local mean, _, v = moments(torch.empty(N // 2, dt):bernoulli(0.3))
      local lo, hi = minmax(v)
      assert.is_true(lo == 0 and hi == 1, dt)
      H.near(mean, 0.3, 0.01, dt)
    end
    local b = flat(torch.empty(100, 'bool'):bernoulli(0.5))
    assert.are.equal('boolean', type(b[1]))
  end)

  it('torch.bernoulli(p) draws per element with p\'s dtype and shape', function()
    local p = torch.Tensor({ { 0, 1, 0 }, { 1, 0, 1 } })
    local x = torch.bernoulli(p)
    assert.are.equal('torch.FloatTensor', x:type())
    assert.is_true(same(x, p))
    local q = torch.empty(N, 'float64'):fill(0.8)
    H.near(moments(torch.bernoulli(q)), 0.8, 0.01)
    local y = torch.zeros(3, 2):bernoulli(torch.Tensor { 1, 0, 1, 0, 1, 0 })
    assert.are.same({ { 1, 0 }, { 1, 0 }, { 1, 0 } }, y:totable())
    local s = torch.bernoulli(0.5)
    assert.is_true(s == 0 or s == 1)
  end)
end)

describe('integers', function()
  it('randint(low, high, sizes) excludes high and hits every value evenly', function()
    local x = torch.randint(-3, 4, N)
    assert.are.equal('torch.LongTensor', x:type())
    local count = {}
    for _, a in ipairs(flat(x)) do count[a] = (count[a] or 0) + 1 end
    for k = -3, 3 do H.near(count[k] / N, 1 / 7, 0.01) end
    assert.is_nil(count[4])
    assert.is_nil(count[-4])
  end)

  it('randint(high, {sizes}) starts at 0 and takes a dtype', function()
    local x = torch.randint(10, { 3, 4 })
    assert.are.same({ 3, 4 }, x:sizeTable())
    local lo, hi = minmax(flat(x))
    assert.is_true(lo >= 0 and hi <= 9)
    local y = torch.randint(-128, 128, 1000, 'int8')
    assert.are.equal('torch.CharTensor', y:type())
    lo, hi = minmax(flat(y))
    assert.is_true(lo < -100 and hi > 100)
  end)

  it('x:random(a, b) includes both ends; x:random(b) is [1, b]', function()
    local lo, hi = minmax(flat(torch.zeros(N // 10, 'int32'):random(5, 7)))
    assert.are.same({ 5, 7 }, { lo, hi })
    lo, hi = minmax(flat(torch.zeros(N // 10, 'int16'):random(6)))
    assert.are.same({ 1, 6 }, { lo, hi })
    lo, hi = minmax(flat(torch.zeros(N // 10, 'float64'):random(-2, 2)))
    assert.are.same({ -2, 2 }, { lo, hi })
  end)

  it('x:random() covers the dtype (Torch7 ranges)', function()
    local lo, hi = minmax(flat(torch.zeros(N // 10, 'uint8'):random()))
    assert.are.same({ 0, 255 }, { lo, hi })
    lo, hi = minmax(flat(torch.zeros(N // 10, 'int8'):random()))
    assert.are.same({ 0, 127 }, { lo, hi })
    local v = flat(torch.zeros(1000, 'float32'):random())
    lo, hi = minmax(v)
    assert.is_true(lo >= 0 and hi <= 2 ^ 24 and hi > 2 ^ 23)
    assert.are.equal(math.floor(v[1]), v[1])
    local b = flat(torch.zeros(100, 'bool'):random())
    local t = 0
    for _, a in ipairs(b) do if a then t = t + 1 end end
    assert.is_true(t > 20 and t < 80)
    local l = flat(torch.zeros(100, 'int64'):random())
    assert.is_true(minmax(l) >= 0)
  end)

  it('scalar torch.random(b) and torch.random(a, b)', function()
    local seen = {}
    for _ = 1, 600 do
      local d = torch.random(6)
      assert.is_true(d >= 1 and d <= 6)
      seen[d] = true
    end
    assert.are.equal(6, #seen)
    for _ = 1, 100 do
      local r = torch.random(-1, 1)
      assert.is_true(r >= -1 and r <= 1)
    end
  end)
end)

describe('randperm', function()
  it('is a 1-based permutation as a LongTensor', function()
    local p = torch.randperm(1000)
    assert.are.equal('torch.LongTensor', p:type())
    local v = flat(p)
    table.sort(v)
    for i = 1, 1000 do assert.are.equal(i, v[i]) end
    assert.are.equal('torch.IntTensor', torch.randperm(5, 'int32'):type())
    assert.are.equal(0, torch.randperm(0):numel())
  end)

  it('puts each value first equally often', function()
    local first = {}
    for _ = 1, 4000 do
      local f = torch.randperm(4)[1]
      first[f] = (first[f] or 0) + 1
    end
    for k = 1, 4 do H.near(first[k] / 4000, 0.25, 0.03) end
  end)
end)

describe('multinomial', function()
  it('draws with replacement in proportion to the weights', function()
    local x = torch.multinomial(torch.Tensor { 1, 2, 3, 4 }, N, true)
    assert.are.equal('torch.LongTensor', x:type())
    local count = {}
    for _, a in ipairs(flat(x)) do count[a] = (count[a] or 0) + 1 end
    for k = 1, 4 do H.near(count[k] / N, k / 10, 0.01) end
  end)

  it('without replacement draws distinct categories, never a zero-weight one', function()
    for _ = 1, 50 do
      local v = flat(torch.multinomial(torch.Tensor { 0.2, 0, 0.5, 0.3 }, 3))
      table.sort(v)
      assert.are.same({ 1, 3, 4 }, v)
    end
    local p = flat(torch.multinomial(torch.rand(100, 'float64'), 100, false))
    table.sort(p)
    for i = 1, 100 do assert.are.equal(i, p[i]) end
  end)

  it('without replacement picks the heavier category first more often', function()
    local first = 0
    for _ = 1, 2000 do
      if torch.multinomial(torch.Tensor { 0.9, 0.1 }, 2)[1] == 1 then first = first + 1 end
    end
    H.near(first / 2000, 0.9, 0.03)
  end)

  it('draws each row of a 2-D tensor of weights', function()
    local p = torch.Tensor { { 1, 0, 0 }, { 0, 0, 1 } }
    local x = torch.multinomial(p, 4, true)
    assert.are.same({ { 1, 1, 1, 1 }, { 3, 3, 3, 3 } }, x:totable())
    assert.are.same({ 2, 4 }, p:multinomial(4, true):sizeTable())
  end)
end)

describe('random errors', function()
  it('checks dtypes', function()
    H.raises({ 'rand', 'torch.IntTensor', 'floating' }, torch.rand, 3, 'int32')
    H.raises({ 'randn', 'torch.LongTensor' }, torch.randn, 3, 'int64')
    H.raises({ 'uniform', 'torch.ByteTensor' }, function() torch.zeros(3, 'uint8'):uniform() end)
    H.raises({ 'normal', 'torch.IntTensor' }, function() torch.zeros(3, 'int32'):normal() end)
    H.raises("unknown dtype 'nope'", torch.rand, 3, 'nope')
    H.raises('negative', torch.rand, -2)
  end)

  it('checks parameters', function()
    H.raises({ 'normal', 'std', '-1' }, function() torch.zeros(3):normal(0, -1) end)
    H.raises({ 'uniform', 'a <= b' }, function() torch.zeros(3):uniform(2, 1) end)
    H.raises({ 'uniform', 'finite' }, function() torch.zeros(3):uniform(-1e308, 1e308) end)
    H.raises({ 'exponential', 'lambda', '0' }, function() torch.zeros(3):exponential(0) end)
    H.raises({ 'cauchy', 'sigma' }, function() torch.zeros(3):cauchy(0, 0) end)
    H.raises({ 'logNormal', 'mean > 0' }, function() torch.zeros(3):logNormal(-1, 1) end)
    H.raises({ 'geometric', '0', '(0, 1]' }, function() torch.zeros(3):geometric(0) end)
    H.raises({ 'bernoulli', '1.5', '[0, 1]' }, function() torch.zeros(3):bernoulli(1.5) end)
    H.raises({ 'bernoulli', '-0.5' }, torch.bernoulli, torch.Tensor { 0.5, -0.5 })
    H.raises({ 'bernoulli', 'size 2', 'size 3' }, function() torch.zeros(3):bernoulli(torch.rand(2)) end)
    H.raises({ 'exponential', 'lambda' }, torch.exponential, -1)
  end)

  it('checks integer ranges', function()
    H.raises({ 'random', '300', 'torch.ByteTensor' }, function() torch.zeros(3, 'uint8'):random(300) end)
    H.raises({ 'random', 'greater' }, function() torch.zeros(3, 'int32'):random(5, 1) end)
    H.raises({ 'random', 'greater' }, torch.random, 5, 1)
    H.raises({ 'randint', 'low (5)', 'high (5)' }, torch.randint, 5, 5, 3)
    H.raises({ 'randint', 'sizes' }, torch.randint, 1, 5)
    H.raises({ 'random', 'torch.CharTensor' }, torch.randint, 0, 1000, 3, 'int8')
    H.raises({ 'randperm', 'non-negative', '-1' }, torch.randperm, -1)
    H.raises({ 'randperm', 'torch.ByteTensor' }, torch.randperm, 300, 'uint8')
  end)

  it('checks multinomial', function()
    H.raises({ 'multinomial', 'invalid probability -1' }, torch.multinomial, torch.Tensor { 1, -1 }, 1)
    H.raises({ 'multinomial', 'nan' }, torch.multinomial, torch.Tensor { 1, 0 / 0 }, 1)
    H.raises({ 'multinomial', '3 samples', '2 categories' }, torch.multinomial, torch.Tensor { 1, 1 }, 3)
    H.raises({ 'multinomial', 'row 1', '1 non-zero' }, torch.multinomial, torch.Tensor { 1, 0 }, 2)
    H.raises({ 'multinomial', 'row 2', 'no non-zero' }, torch.multinomial, torch.Tensor { { 1, 1 }, { 0, 0 } }, 1, true)
    H.raises({ 'multinomial', '1 or 2 dimensions' }, torch.multinomial, torch.rand(2, 2, 2), 1)
    H.raises({ 'multinomial', 'floating point' }, torch.multinomial, torch.LongTensor { 1, 2 }, 1)
    H.raises({ 'multinomial', 'non-negative' }, torch.multinomial, torch.Tensor { 1, 2 }, -1)
  end)
end)
