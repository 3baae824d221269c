-- Tensor core: creation, dtypes, shape queries, views and their sharing, copy, resize,
-- element access through t[i] and t[{...}].
local torch = require 'torch'
local H = require 'helpers'

describe('creation', function()
  it('makes an empty tensor', function()
    local t = torch.Tensor()
    assert.are.equal(0, t:dim())
    assert.are.equal(0, t:nElement())
    assert.are.equal('torch.FloatTensor', t:type())
  end)

  it('makes tensors from sizes, uninitialised but correctly shaped', function()
    local t = torch.Tensor(2, 3, 4)
    assert.are.same({2, 3, 4}, t:sizeTable())
    assert.are.equal(24, t:nElement())
    assert.are.same({12, 4, 1}, t:stride():totable())
    assert.is_true(t:isContiguous())
  end)

  it('makes tensors from nested tables', function()
    local t = torch.Tensor({{1, 2, 3}, {4, 5, 6}})
    assert.are.same({2, 3}, t:sizeTable())
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, t:totable())
    local v = torch.LongTensor({10, -20, 2^40})
    assert.are.same({10, -20, 2^40}, v:totable())
    assert.are.equal('integer', math.type(v[3]))
    assert.are.equal(1099511627776, v[3])
  end)

  it('makes the Torch7 typed tensors', function()
    local names = {
      FloatTensor = 'float32', DoubleTensor = 'float64', LongTensor = 'int64', IntTensor = 'int32',
      ShortTensor = 'int16', CharTensor = 'int8', ByteTensor = 'uint8', BoolTensor = 'bool',
      HalfTensor = 'float16', BFloat16Tensor = 'bfloat16',
    }
    for name, dtype in pairs(names) do
      local t = torch[name](2)
      assert.are.equal('torch.' .. name, t:type())
      assert.are.equal(dtype, t:dtype())
      assert.are.equal('torch.' .. name, torch.type(t))
    end
  end)

  it('fills with zeros, ones and full, with an optional dtype', function()
    assert.are.same({{0, 0}, {0, 0}}, torch.zeros(2, 2):totable())
    assert.are.same({1, 1, 1}, torch.ones(3):totable())
    assert.are.same({{7, 7, 7}}, torch.full(1, 3, 7):totable())
    assert.are.equal('int64', torch.zeros(2, 'int64'):dtype())
    assert.are.same({2, 2}, torch.ones({2, 2}):sizeTable())
    assert.are.equal('float64', torch.full({2}, 1.5, 'float64'):dtype())
  end)

  it('makes *_like tensors with the same size and dtype', function()
    local x = torch.LongTensor(2, 5)
    local z = torch.zeros_like(x)
    assert.are.same({2, 5}, z:sizeTable())
    assert.are.equal('int64', z:dtype())
    assert.are.same({{1, 1}}, torch.ones_like(torch.Tensor(1, 2)):totable())
    assert.are.same({3.5, 3.5}, torch.full_like(torch.Tensor(2), 3.5):totable())
  end)

  it('follows setdefaulttensortype', function()
    torch.setdefaulttensortype('torch.DoubleTensor')
    local ok, err = pcall(function()
      assert.are.equal('torch.DoubleTensor', torch.Tensor(2):type())
      assert.are.equal('torch.DoubleTensor', torch.zeros(2):type())
      assert.are.equal('torch.DoubleTensor', torch.getdefaulttensortype())
    end)
    torch.setdefaulttensortype('torch.FloatTensor')
    assert(ok, err)
    assert.are.equal('torch.FloatTensor', torch.Tensor(2):type())
  end)

  it('creates a view of another tensor with torch.Tensor(t)', function()
    local a = torch.zeros(3)
    local b = torch.Tensor(a)
    b[2] = 5
    assert.are.equal(5, a[2])
    assert.is_true(a:isSetTo(b))
  end)
end)

describe('dtypes and conversion', function()
  it('converts between every pair of dtypes', function()
    local src = torch.Tensor({0, 1, 2, 100})
    local dtypes = {'float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8'}
    for _, a in ipairs(dtypes) do
      for _, b in ipairs(dtypes) do
        local y = src:type(a):type(b)
        assert.are.same({0, 1, 2, 100}, y:double():totable(), a .. ' -> ' .. b)
      end
    end
  end)

  it('truncates floats toward zero and saturates into integer types', function()
    local x = torch.Tensor({-2.7, -0.5, 0.5, 2.7, 1e30, -1e30})
    assert.are.same({-2, 0, 0, 2, math.maxinteger, math.mininteger}, x:long():totable())
    assert.are.same({-2, 0, 0, 2}, torch.Tensor({-2.7, -0.5, 0.5, 2.7}):int():totable())
  end)

  it('wraps integers modulo 2^bits when narrowing (as C does)', function()
    assert.are.same({44, 255, 0}, torch.LongTensor({300, -1, 256}):byte():totable())
    assert.are.same({-128, 127}, torch.LongTensor({128, 127}):char():totable())
  end)

  it('maps nonzero values to true in bool', function()
    assert.are.same({false, true, true, true}, torch.Tensor({0, 1, -3, 0.25}):bool():totable())
    assert.are.same({0, 1, 1}, torch.BoolTensor({false, true, true}):long():totable())
  end)

  it('rounds float16 and bfloat16 to nearest even', function()
    local h = torch.Tensor({1, 1 + 2^-11, 1 + 3 * 2^-11, 65504, 1e6, 2^-24, 2^-26}):half():float():totable()
    assert.are.same({1, 1, 1 + 2^-9, 65504, math.huge, 2^-24, 0}, h)
    local b = torch.Tensor({1, 1 + 2^-8, 1 + 3 * 2^-8, 3.0e38}):bfloat16():float():totable()
    assert.are.same({1, 1, 1 + 2^-6}, {b[1], b[2], b[3]})
    assert.are.equal('3.0040553e+38', string.format('%.8g', b[4]))   -- 0x7F62 after rounding up
  end)

  it('keeps nan and infinities through half types', function()
    local h = torch.Tensor({0 / 0, math.huge, -math.huge}):half():float()
    assert.is_true(h[1] ~= h[1])
    assert.are.equal(math.huge, h[2])
    assert.are.equal(-math.huge, h[3])
    local b = torch.Tensor({0 / 0}):bfloat16():float()
    assert.is_true(b[1] ~= b[1])
  end)

  it('returns self from a conversion to the same type', function()
    local x = torch.Tensor(3)
    assert.is_true(rawequal(x, x:float()))
    assert.is_false(rawequal(x, x:double()))
  end)
end)

describe('shape queries', function()
  local t = torch.Tensor(2, 3, 4)
  it('reports size, stride, dim, nElement and #', function()
    assert.are.equal(3, t:size(2))
    assert.are.equal(4, t:size(-1))
    assert.are.same({2, 3, 4}, t:size():totable())
    assert.are.equal(4, t:stride(2))
    assert.are.equal(3, t:dim())
    assert.are.equal(3, t:nDimension())
    assert.are.equal(24, t:numel())
    assert.are.equal(2, #t)
    assert.are.equal(1, t:storageOffset())
  end)

  it('supports 8 dimensions', function()
    local x = torch.zeros(1, 2, 1, 2, 1, 2, 1, 2)
    assert.are.equal(8, x:dim())
    assert.are.equal(16, x:nElement())
    H.raises({'zeros', 'at most 8'}, function() return torch.zeros(1, 1, 1, 1, 1, 1, 1, 1, 1) end)
  end)
end)

describe('views share storage', function()
  local function range(n) local t = {} for i = 1, n do t[i] = i end return torch.Tensor(t) end

  it('narrow', function()
    local x = range(12):view(3, 4)
    local n = x:narrow(2, 2, 2)
    assert.are.same({{2, 3}, {6, 7}, {10, 11}}, n:totable())
    assert.are.equal(2, n:storageOffset())
    n:fill(0)
    assert.are.same({1, 0, 0, 4}, x[1]:totable())
    assert.are.same({{5, 0}}, x:narrow(1, -2, 1):narrow(2, 1, 2):totable())
  end)

  it('select', function()
    local x = range(12):view(3, 4)
    assert.are.same({5, 6, 7, 8}, x:select(1, 2):totable())
    assert.are.same({3, 7, 11}, x:select(2, 3):totable())
    assert.are.equal(7, x:select(2, 3):select(1, 2))
  end)

  it('sub with inclusive and negative ranges', function()
    local x = range(12):view(3, 4)
    assert.are.same({{6, 7}, {10, 11}}, x:sub(2, 3, 2, 3):totable())
    assert.are.same({{9, 10, 11, 12}}, x:sub(-1, -1):totable())
  end)

  it('transpose, t and permute', function()
    local x = range(6):view(2, 3)
    assert.are.same({{1, 4}, {2, 5}, {3, 6}}, x:t():totable())
    assert.is_false(x:t():isContiguous())
    assert.are.same({1, 3}, x:t():stride():totable())
    local y = range(24):view(2, 3, 4)
    local p = y:permute(3, 1, 2)
    assert.are.same({4, 2, 3}, p:sizeTable())
    assert.are.equal(y[2][3][4], p[4][2][3])
    assert.are.equal(y[1][2][3], y:transpose(1, 3)[3][2][1])
  end)

  it('squeeze and unsqueeze', function()
    local x = torch.zeros(1, 3, 1, 2)
    assert.are.same({3, 2}, x:squeeze():sizeTable())
    assert.are.same({3, 1, 2}, x:squeeze(1):sizeTable())
    assert.are.same({1, 3, 1, 2}, x:squeeze(2):sizeTable())
    assert.are.same({3, 1}, torch.zeros(3):unsqueeze(2):sizeTable())
    assert.are.same({1, 3}, torch.zeros(3):unsqueeze(1):sizeTable())
    assert.are.same({1}, torch.zeros(1, 1):squeeze():sizeTable())
  end)

  it('view, viewAs and reshape', function()
    local x = range(6)
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, x:view(2, 3):totable())
    assert.are.same({3, 2}, x:view(-1, 2):sizeTable())
    assert.are.same({2, 3}, x:viewAs(torch.Tensor(2, 3)):sizeTable())
    local t = x:view(2, 3):t()
    H.raises('contiguous', function() return t:view(6) end)
    local r = t:reshape(6)
    assert.are.same({1, 4, 2, 5, 3, 6}, r:totable())
    r[1] = 100
    assert.are.equal(1, x[1])                  -- reshape of a non-viewable tensor copies
    local v = x:reshape(3, 2)
    v[1][1] = 50
    assert.are.equal(50, x[1])                 -- reshape of a viewable tensor shares
  end)

  it('views of non-contiguous tensors where the strides allow it', function()
    local x = range(24):view(2, 3, 4):narrow(3, 1, 2)   -- 2x3x2, strides 12,4,1
    local v = x:view(6, 2)
    assert.are.same({6, 2}, v:sizeTable())
    assert.are.same({4, 1}, v:stride():totable())
    assert.are.same({{1, 2}, {5, 6}}, v:narrow(1, 1, 2):totable())
  end)

  it('expand and expandAs with stride 0', function()
    local x = torch.Tensor({{1}, {2}})
    local e = x:expand(2, 3)
    assert.are.same({{1, 1, 1}, {2, 2, 2}}, e:totable())
    assert.are.same({1, 0}, e:stride():totable())
    assert.are.same({4, 2, 3}, x:expand(4, 2, 3):sizeTable())
    assert.are.same({2, 3}, x:expandAs(torch.Tensor(2, 3)):sizeTable())
    assert.are.same({{1, 1}, {2, 2}}, x:expand(-1, 2):totable())
  end)

  it('unfold', function()
    local x = range(7)
    local u = x:unfold(1, 3, 2)
    assert.are.same({{1, 2, 3}, {3, 4, 5}, {5, 6, 7}}, u:totable())
  end)

  it('set shares and releases', function()
    local a, b = range(4), torch.Tensor()
    b:set(a)
    assert.is_true(b:isSetTo(a))
    b[1] = 9
    assert.are.equal(9, a[1])
    b:set()
    assert.are.equal(0, b:nElement())
  end)
end)

describe('copy, clone, contiguous, fill', function()
  it('copies between shapes with the same element count, converting dtype', function()
    local a = torch.Tensor(2, 3)
    a:copy(torch.LongTensor({1, 2, 3, 4, 5, 6}))
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, a:totable())
    local t = torch.zeros(3, 2)
    t:t():copy(a)
    assert.are.same({{1, 4}, {2, 5}, {3, 6}}, t:totable())
  end)

  it('copies from a non-contiguous source into a different shape', function()
    local a = torch.Tensor({{1, 2, 3}, {4, 5, 6}}):t()   -- 3x2 non-contiguous
    local b = torch.zeros(2, 3):t():t()
    local r = torch.zeros(6):copy(a)
    assert.are.same({1, 4, 2, 5, 3, 6}, r:totable())
    b:copy(a)
    assert.are.same({{1, 4, 2}, {5, 3, 6}}, b:totable())
  end)

  it('copies correctly between overlapping views of one storage', function()
    local x = torch.Tensor({1, 2, 3, 4, 5})
    x:narrow(1, 2, 4):copy(x:narrow(1, 1, 4))
    assert.are.same({1, 1, 2, 3, 4}, x:totable())
  end)

  it('clone is deep and contiguous; contiguous returns self when possible', function()
    local x = torch.Tensor({{1, 2}, {3, 4}})
    local c = x:t():clone()
    assert.is_true(c:isContiguous())
    assert.are.same({{1, 3}, {2, 4}}, c:totable())
    c[1][1] = 10
    assert.are.equal(1, x[1][1])
    assert.is_true(rawequal(x, x:contiguous()))
    local t = x:t()
    assert.is_false(rawequal(t, t:contiguous()))
  end)

  it('fill and zero on strided views', function()
    local x = torch.ones(3, 3)
    x:select(2, 2):fill(7)
    assert.are.same({{1, 7, 1}, {1, 7, 1}, {1, 7, 1}}, x:totable())
    x:narrow(1, 2, 1):zero()
    assert.are.same({0, 0, 0}, x[2]:totable())
    local l = torch.LongTensor(2):fill(2^53 + 1)
    assert.are.equal(2^53, l[1])   -- fill takes a Lua number (double)
  end)

  it('copies large tensors in parallel with the same result', function()
    local n = 300000
    local x = torch.zeros(n)
    for i = 1, n, 9973 do x[i] = i end
    local y = torch.Tensor(n):copy(x:double())
    for i = 1, n, 9973 do assert.are.equal(i, y[i]) end
    local z = torch.zeros(600, 500):t():copy(torch.ones(500, 600))
    assert.are.equal(1, z[500][600])
  end)
end)

describe('resize', function()
  it('keeps the storage when shrinking and grows it when needed', function()
    local x = torch.Tensor({1, 2, 3, 4, 5, 6})
    local view = x:narrow(1, 1, 2)
    x:resize(2, 2)
    assert.are.same({{1, 2}, {3, 4}}, x:totable())
    x:resize(4, 4)
    assert.are.equal(1, x[1][1])
    assert.are.equal(16, x:nElement())
    view[1] = 42                       -- views of the grown storage see the same memory
    assert.are.equal(42, x[1][1])
    x:resizeAs(torch.Tensor(3))
    assert.are.same({3}, x:sizeTable())
  end)
end)

describe('element access', function()
  local function grid()
    return torch.Tensor({{1, 2, 3}, {4, 5, 6}})
  end

  it('reads numbers with t[i] on 1-D and views on N-D', function()
    local x = grid()
    assert.are.same({4, 5, 6}, x[2]:totable())
    assert.are.equal(6, x[2][3])
    assert.are.equal(6, x[-1][-1])
    assert.are.equal(6, x[{2, 3}])
    assert.are.equal(4, x[{-1, 1}])
  end)

  it('reads ranges with t[{...}]', function()
    local x = grid()
    assert.are.same({{2, 3}, {5, 6}}, x[{{}, {2, 3}}]:totable())
    assert.are.same({2, 5}, x[{{}, 2}]:totable())
    assert.are.same({{5}}, x[{{2}, {2}}]:totable())
    assert.are.same({5, 6}, x[{2, {2, -1}}]:totable())
  end)

  it('writes numbers and tensors through t[...] = v', function()
    local x = grid()
    x[1][2] = 20
    x[{2, 3}] = 60
    assert.are.same({{1, 20, 3}, {4, 5, 60}}, x:totable())
    x[{{}, 1}] = 0
    assert.are.same({0, 0}, x:select(2, 1):totable())
    x[2] = torch.Tensor({7, 8, 9})
    assert.are.same({7, 8, 9}, x[2]:totable())
    x[1] = 3
    assert.are.same({3, 3, 3}, x[1]:totable())
    local v = torch.Tensor({1, 2, 3})
    v[2] = torch.Tensor({50})
    assert.are.equal(50, v[2])
  end)

  it('returns integers for integer dtypes and booleans for bool', function()
    assert.are.equal('integer', math.type(torch.IntTensor({5})[1]))
    assert.are.equal('float', math.type(torch.Tensor({5})[1]))
    assert.are.equal(true, torch.BoolTensor({true})[1])
    local b = torch.BoolTensor(2)
    b[1] = true; b[2] = false
    assert.are.same({true, false}, b:totable())
  end)

  it('returns methods by name and nil for unknown names', function()
    local x = grid()
    assert.are.equal('function', type(x.size))
    assert.is_nil(x.nosuchmethod)
  end)

  it('item reads a one-element tensor', function()
    assert.are.equal(3.5, torch.Tensor({3.5}):item())
    assert.are.equal(7, torch.LongTensor({{7}}):item())
  end)
end)

describe('lifetime', function()
  it('closes with <close> and is idempotent with the collector', function()
    local x = torch.zeros(10)
    do
      local y <close> = torch.Tensor(x)
      y[1] = 3
    end
    assert.are.equal(3, x[1])
    collectgarbage()
    collectgarbage()
    assert.are.equal(3, x[1])
  end)

  it('keeps a storage alive while any view holds it', function()
    local v
    do
      local x = torch.Tensor({1, 2, 3, 4})
      v = x:narrow(1, 3, 2)
    end
    collectgarbage()
    collectgarbage()
    assert.are.same({3, 4}, v:totable())
  end)
end)

describe('the * operator', function()
  it('scales by numbers and multiplies tensors as matrices (Torch7)', function()
    local a = torch.Tensor({{1, 2}, {3, 4}})
    assert.are.same({{2, 4}, {6, 8}}, (a * 2):totable())
    assert.are.same({{2, 4}, {6, 8}}, (2 * a):totable())
    assert.are.same({{7, 10}, {15, 22}}, (a * a):totable())
    assert.are.same({5, 11}, (a * torch.Tensor({1, 2})):totable())
    assert.are.equal(5, torch.Tensor({1, 2}) * torch.Tensor({1, 2}))
    H.raises('2x2', function() return a * torch.ones(3, 3) end)
  end)
end)

describe('torch.Timer', function()
  it('measures wall time, pauses when stopped, and resets', function()
    local t = torch.Timer()
    local t0 = torch.clock()
    while torch.clock() - t0 < 0.02 do end
    local a = t:time()
    assert.is_true(a.real >= 0.02 and a.real < 5)
    assert.is_true(a.user >= 0)
    t:stop()
    local s1 = t:time().real
    t0 = torch.clock()
    while torch.clock() - t0 < 0.02 do end
    assert.are.equal(s1, t:time().real)        -- stopped: no time passes
    t:resume()
    t0 = torch.clock()
    while torch.clock() - t0 < 0.01 do end
    assert.is_true(t:time().real >= s1 + 0.01)
    t:reset()
    assert.is_true(t:time().real < 0.01)
    assert.are.equal('torch.Timer', torch.type(t))
  end)
end)
