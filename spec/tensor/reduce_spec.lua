-- Reductions, scans and sorting: hand-computed values over all elements and along
-- each dim, on contiguous and non-contiguous (transposed, narrowed, expanded) inputs,
-- every dtype family, NaN, ties, the three call forms, and every error path.
local torch = require 'torch'
local H = require 'helpers'

local nan = 0 / 0
local function isnan(v) return v ~= v end

-- 3x4 matrix 1..12 (row-major); its transpose is 4x3 and not contiguous
local function m34() return torch.Tensor{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}} end

describe('sum prod mean', function()
  it('reduces all elements to a number', function()
    local x = m34()
    assert.are.equal(78, x:sum())
    assert.are.equal(78, torch.sum(x))
    assert.are.equal(479001600, x:prod())
    assert.are.equal(6.5, x:mean())
  end)

  it('keeps the reduced dim with size 1 (Torch7)', function()
    local x = m34()
    assert.are.same({3, 1}, x:sum(2):sizeTable())
    assert.are.same({1, 4}, x:sum(1):sizeTable())
    H.near(x:sum(2), {{10}, {26}, {42}})
    H.near(x:sum(1), {{15, 18, 21, 24}})
    H.near(x:sum(-1), {{10}, {26}, {42}})
    H.near(x:prod(2), {{24}, {1680}, {11880}})
    H.near(x:mean(1), {{5, 6, 7, 8}})
    H.near(torch.Tensor{1, 2, 3}:sum(1), {6})
  end)

  it('handles transposed, narrowed and expanded views', function()
    local t = m34():t()                                 -- 4x3
    assert.is_false(t:isContiguous())
    H.near(t:sum(1), {{10, 26, 42}})
    H.near(t:sum(2), {{15}, {18}, {21}, {24}})
    assert.are.equal(78, t:sum())
    local n = m34():narrow(2, 2, 2)                     -- {{2,3},{6,7},{10,11}}
    H.near(n:sum(1), {{18, 21}})
    H.near(n:sum(2), {{5}, {13}, {21}})
    assert.are.equal(39, n:sum())
    local e = torch.Tensor{{1}, {2}}:expand(2, 3)        -- stride 0 along dim 2
    H.near(e:sum(2), {{3}, {6}})
    H.near(e:sum(1), {{3, 3, 3}})
    assert.are.equal(9, e:sum())
    assert.are.equal(8, e:prod())
  end)

  it('sums integers exactly into int64 and means them into floats', function()
    local x = torch.IntTensor{{1, 2}, {3, 4}}
    assert.are.equal(10, x:sum())
    assert.are.equal('integer', math.type(x:sum()))
    assert.are.equal('torch.LongTensor', x:sum(1):type())
    H.near(x:sum(1), {{4, 6}})
    assert.are.equal(2.5, x:mean())
    assert.are.equal('torch.FloatTensor', x:mean(2):type())
    H.near(x:mean(2), {{1.5}, {3.5}})
    local big = torch.LongTensor{2 ^ 53, 1, 1}
    assert.are.equal(9007199254740994, big:sum())       -- beyond double precision
    assert.are.equal(24, torch.ByteTensor{2, 3, 4}:prod())
    assert.are.equal(2, torch.BoolTensor{true, false, true}:sum())
  end)

  it('keeps float64 and accumulates float16 in wider precision', function()
    local d = torch.DoubleTensor{0.1, 0.2, 0.3}
    assert.are.equal('torch.DoubleTensor', d:sum(1):type())
    H.near(d:sum(), 0.6, 1e-15)
    local h = torch.HalfTensor(4096):fill(1)
    assert.are.equal(4096, h:sum())                     -- a float16 running sum stalls at 2048
    assert.are.equal('torch.HalfTensor', h:sum(1):type())
  end)

  it('does not drift on long float32 sums', function()
    local x = torch.FloatTensor(10000000):fill(0.1)
    local expect = 10000000 * 0.100000001490116
    assert.is_true(math.abs(x:sum() - expect) / expect < 1e-6)
    local m = torch.FloatTensor(1000, 1000):fill(0.1)
    local s1, s2 = m:sum(1), m:sum(2)
    H.near(s1:narrow(2, 1, 3), {{100.00000149, 100.00000149, 100.00000149}}, 1e-4)
    H.near(s2:narrow(1, 998, 3), {{100.00000149}, {100.00000149}, {100.00000149}}, 1e-4)
  end)

  it('gives identities on empty dims and NaN propagates through sums', function()
    assert.are.equal(0, torch.Tensor():sum())
    assert.are.equal(1, torch.Tensor():prod())
    assert.is_true(isnan(torch.Tensor{1, nan}:sum()))
  end)

  it('writes into a result tensor with torch.sum(r, x, dim)', function()
    local x = m34()
    local r = torch.Tensor()
    local out = torch.sum(r, x, 2)
    assert.are.equal(r, out)
    H.near(r, {{10}, {26}, {42}})
    local rd = torch.DoubleTensor(7)                    -- resized and converted
    torch.sum(rd, x, 1)
    assert.are.same({1, 4}, rd:sizeTable())
    H.near(rd, {{15, 18, 21, 24}})
    torch.mean(x, x, 1)                                  -- the result may alias x
    H.near(x, {{5, 6, 7, 8}})
  end)
end)

describe('var std', function()
  it('is unbiased by default and biased with the flag', function()
    local x = torch.Tensor{{1, 2, 3, 4}, {2, 4, 6, 8}}
    H.near(x:var(2), {{5 / 3}, {20 / 3}}, 1e-6)
    H.near(x:var(2, true), {{1.25}, {5}}, 1e-6)
    H.near(x:std(2, true), {{math.sqrt(1.25)}, {math.sqrt(5)}}, 1e-6)
    H.near(x:var(1), {{0.5, 2, 4.5, 8}}, 1e-6)
    H.near(m34():var(), 13, 1e-6)
    H.near(m34():std(), math.sqrt(13), 1e-6)
    H.near(m34():var(true), 143 / 12, 1e-6)
  end)

  it('is accurate for a large offset and works on views and ints', function()
    local x = torch.DoubleTensor{1e9 + 1, 1e9 + 2, 1e9 + 3}
    H.near(x:var(), 1, 1e-9)
    H.near(m34():t():std(1), {{math.sqrt(5 / 3), math.sqrt(5 / 3), math.sqrt(5 / 3)}}, 1e-6)
    H.near(torch.IntTensor{1, 2, 3, 4}:var(), 5 / 3, 1e-6)
    assert.is_true(isnan(torch.Tensor{1}:var()))
  end)
end)

describe('norm', function()
  it('computes p-norms over all and along a dim', function()
    local x = torch.Tensor{{3, -4}, {0, 5}}
    H.near(x:norm(), math.sqrt(50), 1e-5)
    assert.are.equal(12, x:norm(1))
    assert.are.equal(5, x:norm(math.huge))
    assert.are.equal(3, x:norm(0))
    H.near(x:norm(3), (27 + 64 + 125) ^ (1 / 3), 1e-4)
    H.near(x:norm(2, 2), {{5}, {5}})
    H.near(x:norm(1, 1), {{3, 9}})
    H.near(x:t():norm(math.huge, 2), {{3}, {5}})
  end)
end)

describe('logsumexp', function()
  it('is stable for large values', function()
    local x = torch.DoubleTensor{{1000, 1000}, {0, math.log(3)}}
    H.near(x:logsumexp(2), {{1000 + math.log(2)}, {math.log(4)}}, 1e-9)
    H.near(torch.Tensor{1, 2, 3, 4}:logsumexp(1), {4.4401896985612}, 1e-5)
    local ninf = torch.Tensor{-math.huge, -math.huge}:logsumexp(1)
    assert.are.equal(-math.huge, ninf[1])
    assert.is_true(isnan(torch.Tensor{1, nan}:logsumexp(1)[1]))
  end)
end)

describe('all any', function()
  it('returns booleans and BoolTensors', function()
    local b = torch.BoolTensor{{true, false}, {true, true}}
    assert.is_false(b:all())
    assert.is_true(b:any())
    assert.are.equal('torch.BoolTensor', b:all(2):type())
    assert.are.same({{false}, {true}}, b:all(2):totable())
    assert.are.same({{true, false}}, b:all(1):totable())
    assert.are.same({{true, true}}, b:any(1):totable())
    assert.is_true(torch.Tensor{1, 2}:all())
    assert.is_false(torch.ByteTensor{0, 0}:any())
    assert.is_true(torch.Tensor():all())
    assert.is_false(torch.Tensor():any())
  end)
end)

describe('max min argmax argmin', function()
  it('over all elements gives numbers', function()
    local x = m34()
    assert.are.equal(12, x:max())
    assert.are.equal(1, x:min())
    assert.are.equal(12, torch.max(x))
    assert.are.equal(12, x:argmax())
    assert.are.equal(1, x:argmin())
    assert.are.equal(12, x:t():argmax())
    assert.are.equal(3, torch.Tensor{{1, 9}, {5, 2}}:t():argmax())   -- row-major in the view
    assert.are.equal('integer', math.type(torch.LongTensor{5, 9}:max()))
  end)

  it('along a dim gives values and 1-based LongTensor indices', function()
    local x = torch.Tensor{{3, 7, 1}, {9, 2, 9}}
    local v, i = x:max(2)
    H.near(v, {{7}, {9}})
    assert.are.equal('torch.LongTensor', i:type())
    assert.are.same({{2}, {1}}, i:totable())             -- ties: the first
    v, i = torch.min(x, 1)
    H.near(v, {{3, 2, 1}})
    assert.are.same({{1, 2, 1}}, i:totable())
    v, i = x:t():max(1)
    H.near(v, {{7, 9}})
    assert.are.same({{2, 1}}, i:totable())
    assert.are.same({{2}, {1}}, x:argmax(2):totable())
    assert.are.same({{3}, {2}}, x:argmin(2):totable())
  end)

  it('streams outer dims of a large matrix', function()
    local m = torch.Tensor(300, 500):fill(1)
    m[{200, 7}] = 5
    m[{3, 499}] = -2
    local v, i = m:max(1)
    assert.are.equal(5, v[1][7])
    assert.are.equal(200, i[1][7])
    local w, j = m:min(1)
    assert.are.equal(-2, w[1][499])
    assert.are.equal(3, j[1][499])
    assert.are.equal(1, j[1][1])
  end)

  it('propagates NaN', function()
    local x = torch.Tensor{{1, nan, 3}, {4, 5, 6}}
    assert.is_true(isnan(x:max()))
    assert.is_true(isnan(x:min()))
    local v, i = x:max(2)
    assert.is_true(isnan(v[1][1]))
    assert.are.equal(2, i[1][1])
    assert.are.equal(6, v[2][1])
    v, i = x:min(1)
    assert.is_true(isnan(v[1][2]))
    assert.are.equal(1, i[1][2])
  end)

  it('is exact for every dtype', function()
    assert.are.equal(9007199254740993, torch.LongTensor{9007199254740992, 9007199254740993}:max())
    assert.are.equal(-128, torch.CharTensor{5, -128, 127}:min())
    assert.are.equal(255, torch.ByteTensor{5, 255}:max())
    assert.are.equal(2.5, torch.HalfTensor{-1, 2.5}:max())
    local v, i = torch.IntTensor{{4, -7}}:min(2)
    assert.are.equal('torch.IntTensor', v:type())
    assert.are.equal(-7, v[1][1])
    assert.are.equal(2, i[1][1])
  end)

  it('fills result tensors with torch.max(v, i, x, dim)', function()
    local v, i = torch.Tensor(), torch.LongTensor()
    local rv, ri = torch.max(v, i, m34(), 2)
    assert.are.equal(v, rv)
    assert.are.equal(i, ri)
    H.near(v, {{4}, {8}, {12}})
    assert.are.same({{4}, {4}, {4}}, i:totable())
  end)
end)

describe('median mode kthvalue', function()
  it('median is the lower median, with positions', function()
    local x = torch.Tensor{{5, 1, 4, 2}, {3, 3, 9, 0}}
    assert.are.equal(3, x:median())
    local v, i = x:median(2)
    H.near(v, {{2}, {3}})
    assert.are.same({{4}, {1}}, i:totable())
    v, i = x:t():median(1)
    H.near(v, {{2, 3}})
    local n = torch.Tensor{1, nan, 2}
    assert.is_true(isnan(n:median()))
    v, i = n:median(1)
    assert.are.equal(2, i[1])
  end)

  it('kthvalue picks the k-th smallest along the last dim by default', function()
    local x = torch.Tensor{{5, 1, 4, 2}, {3, 3, 9, 0}}
    local v, i = x:kthvalue(2)
    H.near(v, {{2}, {3}})
    assert.are.same({{4}, {1}}, i:totable())
    v, i = torch.kthvalue(x, 1, 1)
    H.near(v, {{3, 1, 4, 0}})
    assert.are.same({{2, 1, 1, 2}}, i:totable())
    v = torch.LongTensor{10, 30, 20}:kthvalue(3)
    assert.are.equal(30, v[1])
  end)

  it('mode returns the most frequent value (smallest on ties)', function()
    assert.are.equal(2, torch.Tensor{1, 2, 2, 3, 3, 2}:mode())
    assert.are.equal(1, torch.Tensor{3, 1, 3, 1}:mode())
    local v, i = torch.IntTensor{{7, 7, 1}, {4, 5, 5}}:mode(2)
    assert.are.same({{7}, {5}}, v:totable())
    assert.are.same({{2}, {3}}, i:totable())
  end)
end)

describe('cumsum cumprod', function()
  it('runs along dim 1 by default and along any dim', function()
    local x = torch.Tensor{{1, 2, 3}, {4, 5, 6}}
    H.near(x:cumsum(), {{1, 2, 3}, {5, 7, 9}})
    H.near(x:cumsum(2), {{1, 3, 6}, {4, 9, 15}})
    H.near(x:cumprod(2), {{1, 2, 6}, {4, 20, 120}})
    H.near(torch.cumprod(x, 1), {{1, 2, 3}, {4, 10, 18}})
    H.near(x:t():cumsum(1), {{1, 4}, {3, 9}, {6, 15}})
    H.near(x:narrow(2, 2, 2):cumsum(2), {{2, 5}, {5, 11}})
  end)

  it('gives int64 for integers and keeps long runs accurate', function()
    local c = torch.ByteTensor{200, 100, 50}:cumsum(1)
    assert.are.equal('torch.LongTensor', c:type())
    assert.are.same({200, 300, 350}, c:totable())
    local big = torch.Tensor(1000):fill(1):cumsum(1)
    assert.are.equal(1000, big[1000])
    assert.are.equal(500, big[500])
    local r = torch.Tensor()
    torch.cumsum(r, torch.Tensor{1, 1, 1}, 1)
    H.near(r, {1, 2, 3})
    assert.is_true(isnan(torch.Tensor{1, nan, 1}:cumsum(1)[3]))
  end)
end)

describe('sort', function()
  it('sorts ascending along the last dim with 1-based indices', function()
    local v, i = torch.Tensor{3, 1, 2}:sort()
    H.near(v, {1, 2, 3})
    assert.are.same({2, 3, 1}, i:totable())
    assert.are.equal('torch.LongTensor', i:type())
    v, i = torch.Tensor{{3, 1, 2}, {0, 9, 5}}:sort(2, true)
    H.near(v, {{3, 2, 1}, {9, 5, 0}})
    assert.are.same({{1, 3, 2}, {2, 3, 1}}, i:totable())
    v, i = torch.Tensor{{3, 1}, {0, 9}}:sort(1)
    H.near(v, {{0, 1}, {3, 9}})
    assert.are.same({{2, 1}, {1, 2}}, i:totable())
    v = torch.Tensor{2, 1, 3}:sort(true)
    H.near(v, {3, 2, 1})
  end)

  it('is stable in both directions', function()
    local x = torch.Tensor{2, 1, 2, 1, 2}
    local _, i = x:sort()
    assert.are.same({2, 4, 1, 3, 5}, i:totable())
    _, i = x:sort(1, true)
    assert.are.same({1, 3, 5, 2, 4}, i:totable())
    local long = torch.Tensor(100):fill(7)
    _, i = long:sort()
    assert.are.equal(1, i[1])
    assert.are.equal(100, i[100])
  end)

  it('puts NaN last ascending and first descending', function()
    local x = torch.Tensor{3, nan, -1, math.huge, -math.huge}
    local v, i = x:sort()
    assert.are.equal(-math.huge, v[1])
    assert.are.equal(-1, v[2])
    assert.are.equal(math.huge, v[4])
    assert.is_true(isnan(v[5]))
    assert.are.equal(2, i[5])
    v = x:sort(1, true)
    assert.is_true(isnan(v[1]))
    assert.are.equal(math.huge, v[2])
  end)

  it('sorts views and every dtype', function()
    local v, i = m34():t():sort(2, true)                 -- rows of the 4x3 view
    H.near(v:select(1, 1), {9, 5, 1})
    assert.are.same({3, 2, 1}, i:select(1, 1):totable())
    v = torch.LongTensor{9007199254740993, -5, 9007199254740992}:sort()
    assert.are.same({-5, 9007199254740992, 9007199254740993}, v:totable())
    v = torch.CharTensor{3, -3, 0}:sort()
    assert.are.same({-3, 0, 3}, v:totable())
    v = torch.DoubleTensor{0.5, -0.25}:sort()
    assert.are.same({-0.25, 0.5}, v:totable())
    v = torch.BoolTensor{true, false}:sort()
    assert.are.same({false, true}, v:totable())
    local e = torch.Tensor{{2}, {1}}:expand(2, 3)
    v, i = e:sort(1)
    H.near(v, {{1, 1, 1}, {2, 2, 2}})
    local r, ri = torch.Tensor(), torch.LongTensor()
    torch.sort(r, ri, torch.Tensor{2, 1})
    H.near(r, {1, 2})
    assert.are.same({2, 1}, ri:totable())
  end)
end)

describe('topk', function()
  it('returns the k smallest by default and the k largest on request', function()
    local x = torch.Tensor{4, 1, 5, 2, 3}
    local v, i = x:topk(2)
    H.near(v, {1, 2})
    assert.are.same({2, 4}, i:totable())
    v, i = x:topk(3, 1, true)
    H.near(v, {5, 4, 3})
    assert.are.same({3, 1, 5}, i:totable())
    v = x:topk(0)
    assert.are.equal(0, v:nElement())
    v = x:topk(5, 1, true, false)
    assert.are.equal(5, v:nElement())
  end)

  it('works along any dim of a view', function()
    local v, i = m34():t():topk(1, 1, true)              -- 4x3 view, dim 1
    assert.are.same({1, 3}, v:sizeTable())
    H.near(v, {{4, 8, 12}})
    assert.are.same({{4, 4, 4}}, i:totable())
    v, i = m34():topk(2, 2, true)
    H.near(v, {{4, 3}, {8, 7}, {12, 11}})
    v = torch.Tensor{1, nan, 3}:topk(1, 1, true)
    assert.is_true(isnan(v[1]))
  end)
end)

describe('fast paths match a plain Lua reference', function()
  -- 300x200 pseudo-random integers in [-50, 50): above the threading grain, so the
  -- blocked, lane and parallel paths all run; exact in float64
  local R, C, rows, seed = 300, 200, {}, 12345
  for i = 1, R do
    rows[i] = {}
    for j = 1, C do
      seed = (seed * 1103515245 + 12345) % 2147483648
      rows[i][j] = seed % 100 - 50
    end
  end
  local x = torch.DoubleTensor(rows)

  it('sum and max along each dim, on the matrix and its transpose', function()
    local colsum, rowsum, colmax, colarg = {}, {}, {}, {}
    for j = 1, C do colsum[j], colmax[j], colarg[j] = 0, -math.huge, 0 end
    for i = 1, R do
      rowsum[i] = {0}
      for j = 1, C do
        local v = rows[i][j]
        rowsum[i][1] = rowsum[i][1] + v
        colsum[j] = colsum[j] + v
        if v > colmax[j] then colmax[j], colarg[j] = v, i end
      end
    end
    H.near(x:sum(1), {colsum}, 0)
    H.near(x:sum(2), rowsum, 0)
    H.near(x:t():sum(2):view(C), colsum, 0)
    H.near(x:t():sum(1):view(R), x:sum(2):view(R), 0)
    local v, i = x:max(1)
    H.near(v, {colmax}, 0)
    assert.are.same({colarg}, i:totable())
    v, i = x:t():max(2)
    assert.are.same(colarg, i:view(C):totable())
    H.near(x:float():sum(1), {colsum}, 1e-3)
  end)

  it('sort and cumsum of rows', function()
    local v = x:sort(2)
    local first = {}
    for j = 1, C do first[j] = rows[1][j] end
    table.sort(first)
    H.near(v:select(1, 1), first, 0)
    local c, acc = x:cumsum(1), 0
    for i = 1, R do acc = acc + rows[i][C] end
    assert.are.equal(acc, c[R][C])
  end)
end)

describe('errors', function()
  local x = m34()
  it('name the op and the offending dim', function()
    H.raises({'sum', 'dimension 3', '2-dimensional'}, function() return x:sum(3) end)
    H.raises({'mean', 'dimension 0'}, function() return x:mean(0) end)
    H.raises({'var', 'dimension 5'}, function() return x:var(5) end)
    H.raises({'norm', 'dimension 3'}, function() return x:norm(2, 3) end)
    H.raises({'max', 'dimension 3'}, function() return x:max(3) end)
    H.raises({'argmin', 'dimension -3'}, function() return x:argmin(-3) end)
    H.raises({'median', 'dimension 4'}, function() return x:median(4) end)
    H.raises({'cumsum', 'dimension 3'}, function() return x:cumsum(3) end)
    H.raises({'sort', 'dimension 3'}, function() return x:sort(3) end)
    H.raises({'logsumexp', 'dimension 3'}, function() return x:logsumexp(3) end)
    H.raises({'all', 'dimension 9'}, function() return x:all(9) end)
  end)

  it('name k and the dimension size', function()
    local y = torch.Tensor{1, 2, 3}
    H.raises('topk: k 5 out of range for dimension 1 of size 3', function() return y:topk(5) end)
    H.raises('topk: k -1 out of range for dimension 1 of size 3', function() return y:topk(-1) end)
    H.raises('kthvalue: k 4 out of range for dimension 1 of size 3', function() return y:kthvalue(4) end)
    H.raises('kthvalue: k 0 out of range', function() return y:kthvalue(0) end)
  end)

  it('reject empty tensors where there is no identity', function()
    local e = torch.Tensor()
    H.raises({'max', 'no elements'}, function() return e:max() end)
    H.raises({'min', 'no elements'}, function() return e:min() end)
    H.raises({'mean', 'no elements'}, function() return e:mean() end)
    H.raises({'median', 'no elements'}, function() return e:median() end)
    H.raises({'argmax', 'no elements'}, function() return e:argmax() end)
    H.raises({'sort', 'empty'}, function() return e:sort() end)
    H.raises({'topk', 'empty'}, function() return e:topk(1) end)
    H.raises({'cumsum', 'empty'}, function() return e:cumsum() end)
  end)

  it('reject bad arguments and leave inputs unchanged', function()
    local y = m34()
    H.raises({'norm', 'p must be'}, function() return y:norm(-1) end)
    H.raises('cmax', function() return torch.max(y, y) end)
    H.raises('number expected', function() return y:sum('x') end)
    H.raises('torch.Tensor', function() return torch.sum(42) end)
    H.raises({'sum', 'needs a dimension'}, function() return torch.sum(torch.Tensor(), y) end)
    local r = torch.Tensor{7}
    H.raises('dimension 3', function() return torch.sum(r, y, 3) end)
    assert.are.same({7}, r:totable())
    H.near(y, m34():totable())
  end)
end)
