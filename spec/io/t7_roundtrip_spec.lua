-- torch.save / torch.load and torch.serialize / torch.deserialize round trips: every
-- dtype, views and shared storages, Lua values with shared references and cycles, nn
-- modules, both formats; the byte layout of simple values; the error messages.
local torch = require 'torch'
local H = require 'helpers'
require 'nn'

local function roundtrip(obj, format) return torch.deserialize(torch.serialize(obj, format), format) end

local function sameStorage(a, b) return torch.serial.storageKey(a) == torch.serial.storageKey(b) end

local function hex(s) return (s:gsub('.', function(c) return ('%02x'):format(c:byte()) end)) end

local values = {
  float32 = { 0, -1.5, 3.25, 1e-30, -3e38, 1 / 3 }, float64 = { 0.1, -2.5, 1e-300, 1e300, math.pi, -0.0 },
  float16 = { 0, -1.5, 65504, 0.099975586 }, bfloat16 = { 0, -1.5, 3.3895314e38, 0.099609375 },
  int64 = { math.maxinteger, math.mininteger, -1, 0, 1099511627776 }, int32 = { 2147483647, -2147483648, 7 },
  int16 = { 32767, -32768, 3 }, int8 = { 127, -128, 0 }, uint8 = { 0, 1, 255 }, bool = { true, false, true },
}

describe('torch.save / torch.load', function()
  for _, format in ipairs { 'binary', 'ascii' } do
    for dtype, vals in pairs(values) do
      it(('keeps a %s tensor (%s)'):format(dtype, format), function()
        local t = torch.new(dtype, vals)
        local u = roundtrip(t, format)
        assert.equal(t:type(), u:type())
        assert.equal(dtype, u:dtype())
        if dtype == 'float32' and format == 'binary' then
          assert.equal(hex(torch.serialize(t):sub(-24)), hex(torch.serialize(u):sub(-24)))
        end
        assert.same(t:totable(), u:totable())
      end)
    end
  end

  it('keeps NaN, infinities and -0.0 bit-exact', function()
    for _, format in ipairs { 'binary', 'ascii' } do
      local t = torch.DoubleTensor { 0 / 0, math.huge, -math.huge, -0.0 }
      local u = roundtrip(t, format)
      assert.is_true(u[1] ~= u[1])
      assert.equal(math.huge, u[2])
      assert.equal(-math.huge, u[3])
      assert.equal(-math.huge, 1 / u[4])
    end
  end)

  it('keeps non-contiguous views and their storage offsets', function()
    local base = torch.range(1, 24):view(2, 3, 4)
    for _, format in ipairs { 'binary', 'ascii' } do
      local views = { base:transpose(1, 3), base:narrow(3, 2, 2), base:select(2, 3),
                      base[2]:view(1, 3, 4):expand(5, 3, 4) }
      for _, v in ipairs(views) do
        local u = roundtrip(v, format)
        assert.same(v:sizeTable(), u:sizeTable())
        assert.same(v:stride():totable(), u:stride():totable())
        assert.equal(v:storageOffset(), u:storageOffset())
        assert.same(v:totable(), u:totable())
      end
    end
  end)

  it('tensors sharing a storage still share one after loading (written once)', function()
    local s = torch.range(1, 1000)
    local obj = { s, s:narrow(1, 10, 5), s:view(10, 100):t(), other = torch.range(1, 3) }
    local bytes = torch.serialize(obj)
    assert.is_true(#bytes < 4000 + 1000)            -- one storage of 1000 floats
    local u = torch.deserialize(bytes)
    assert.is_true(sameStorage(u[1], u[2]) and sameStorage(u[1], u[3]))
    assert.is_false(sameStorage(u[1], u.other))
    u[1][10] = -7
    assert.equal(-7, u[2][1])
    assert.equal(-7, u[3][10][1])
  end)

  it('keeps empty tensors and tensors with a zero-size dimension', function()
    local e = roundtrip(torch.Tensor())
    assert.equal(0, e:dim())
    assert.equal('torch.FloatTensor', e:type())
    local z = roundtrip(torch.zeros(0, 3, 'int32'))
    assert.equal(0, z:nElement())
    assert.equal('torch.IntTensor', z:type())
  end)

  it('loads a bare storage as a 1-D tensor of its elements', function()
    local s = string.pack('<i4i4', 4, 1) .. string.pack('<i4', 3) .. 'V 1' .. string.pack('<i4', 19)
              .. 'torch.DoubleStorage' .. string.pack('<i8dd', 2, 0.5, -1)
    local t = torch.deserialize(s)
    assert.equal('torch.DoubleTensor', t:type())
    assert.same({ 0.5, -1 }, t:totable())
  end)

  it('keeps numbers, strings, booleans and nil', function()
    for _, format in ipairs { 'binary', 'ascii' } do
      for _, v in ipairs { 0, 42, -7, 1 << 53, 0.1, -1e-310, 'x', '', 'a\0b\nc\255', true, false } do
        local u = roundtrip(v, format)
        assert.equal(v, u)
        assert.equal(math.type(v), math.type(u))
      end
      assert.is_nil(roundtrip(nil, format))
      assert.equal('integer', math.type(roundtrip(2.0, format)))   -- one number type in the file
      local list = roundtrip({ 1, 'two', false, n = 3 }, format)
      assert.same({ 1, 'two', false, n = 3 }, list)
    end
  end)

  it('keeps shared tables, cycles and table keys', function()
    for _, format in ipairs { 'binary', 'ascii' } do
      local shared = { v = 1 }
      local key = { k = true }
      local obj = { a = shared, b = shared, [key] = 'by table', [1.5] = 'float key' }
      obj.self = obj
      local u = roundtrip(obj, format)
      assert.is_true(rawequal(u.a, u.b))
      assert.is_true(rawequal(u, u.self))
      assert.equal('float key', u[1.5])
      local found
      for k, v in pairs(u) do if type(k) == 'table' then found = k; assert.equal('by table', v) end end
      assert.is_true(found.k)
    end
  end)

  it('writes Torch7\'s layout for plain values', function()
    assert.equal('01000000' .. hex(string.pack('<d', 1.5)), hex(torch.serialize(1.5)))
    assert.equal('0500000001000000', hex(torch.serialize(true)))
    assert.equal('00000000', hex(torch.serialize(nil)))
    assert.equal('020000000300000061626364', hex(torch.serialize('abc'):sub(1, 11)) .. '64')
    assert.equal('030000000100000000000000', hex(torch.serialize({})))
    assert.equal('3\n1\n0\n', torch.serialize({}, 'ascii'))
    assert.equal('2\n3\nabc\n', torch.serialize('abc', 'ascii'))
  end)

  it('keeps nn modules: class, fields and behaviour', function()
    local model = nn.Sequential():add(nn.Linear(5, 4)):add(nn.ReLU()):add(nn.Linear(4, 3))
                                 :add(nn.Tanh()):add(nn.LogSoftMax())
    model:evaluate()
    local x = torch.randn(2, 5)
    local y = model:forward(x):clone()
    for _, format in ipairs { 'binary', 'ascii' } do
      local m = roundtrip(model, format)
      assert.equal(getmetatable(model), getmetatable(m))
      assert.equal(nn.Linear, getmetatable(m.modules[1]))
      assert.is_false(m.train)
      assert.equal(0, m.modules[2].threshold)      -- Torch7's nn.ReLU fields
      assert.is_false(m.modules[2].inplace)
      H.near(m:forward(x), y, format == 'binary' and 0 or 1e-6)
      assert.equal(tostring(model), tostring(m))
    end
  end)

  it('saves to a file and loads it back; format names are checked', function()
    local path = os.tmpname()
    torch.save(path, { w = torch.ones(3, 'float64') }, 'ascii')
    assert.same({ 1, 1, 1 }, torch.load(path).w:totable())
    assert.same({ 1, 1, 1 }, torch.load(path, 'ascii').w:totable())
    torch.save(path, torch.ones(2))
    assert.same({ 1, 1 }, torch.load(path, 'binary'):totable())
    os.remove(path)
    H.raises("save: format must be 'binary' or 'ascii', got json", torch.save, path, 1, 'json')
    H.raises("load: format must be 'binary' or 'ascii'", torch.load, path, 'xml')
    H.raises({ 'load: cannot open', '/nonexistent/x.t7' }, torch.load, '/nonexistent/x.t7')
  end)

  it('refuses to save functions and other code, naming where they are', function()
    H.raises({ 'save: cannot save the function at obj.layers[2].f', 'never code' },
             torch.serialize, { layers = { 1, { f = print } } })
    H.raises('save: cannot save the thread at obj.co', torch.serialize, { co = coroutine.create(print) })
  end)

  it('refuses unknown classes with the file and position, and accepts registered ones', function()
    local Foo = { __typename = 'my.Foo' }
    Foo.__index = Foo
    function Foo:hello() return 'hi ' .. self.name end
    local s = torch.serialize({ 1, setmetatable({ name = 'foo' }, Foo) })
    H.raises({ "load: string at byte", "unknown class 'my.Foo'", 'require the package', 'registerClass' },
             torch.deserialize, s)
    torch.registerClass('my.Foo', Foo)
    assert.equal('hi foo', torch.deserialize(s)[2]:hello())
    local nnFoo = torch.serialize(setmetatable({}, { __typename = 'nn.Foo' }))
    H.raises("load: string at byte 0: unknown class 'nn.Foo'", torch.deserialize, nnFoo)
  end)
end)
