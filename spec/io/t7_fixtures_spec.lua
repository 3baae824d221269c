-- Files written by the original Torch7 (spec/io/fixtures/t7, see its README) load with
-- exactly the contents listed there; the tensor-only ones are written back byte for byte.
local torch = require 'torch'
local H = require 'helpers'
require 'nn'

local dir = debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'fixtures/t7/'

local function bytes(name)
  local f = assert(io.open(dir .. name, 'rb'))
  local s = f:read('a')
  f:close()
  return s
end

local function load(name, ...) return torch.load(dir .. name, ...) end

local function sameStorage(a, b) return torch.serial.storageKey(a) == torch.serial.storageKey(b) end

local function arange12() return { { 0, 1, 2, 3 }, { 4, 5, 6, 7 }, { 8, 9, 10, 11 } } end

describe('Torch7 fixtures', function()
  it('float_3x4_arange.t7: a 3x4 FloatTensor 0..11', function()
    local t = load('float_3x4_arange.t7')
    assert.equal('torch.FloatTensor', t:type())
    assert.same({ 3, 4 }, t:sizeTable())
    assert.same({ 4, 1 }, t:stride():totable())
    assert.equal(1, t:storageOffset())
    assert.same(arange12(), t:totable())
  end)

  it('double_2x3.t7: doubles bit-exact', function()
    local t = load('double_2x3.t7')
    assert.equal('torch.DoubleTensor', t:type())
    assert.same({ { 0.1, -2.5, 3.0 }, { 1e-300, 1e300, math.pi } }, t:totable())
    assert.equal('3fb999999999999a', (string.pack('>d', t[1][1]):gsub('.', function(c) return ('%02x'):format(c:byte()) end)))
    assert.equal('400921fb54442d18', (string.pack('>d', t[2][3]):gsub('.', function(c) return ('%02x'):format(c:byte()) end)))
  end)

  it('long_5.t7: int64 values exact', function()
    local t = load('long_5.t7')
    assert.equal('torch.LongTensor', t:type())
    for i, v in ipairs { 1, -2, 3, 1099511627776, -2147483648 } do
      assert.equal(v, t[i])
      assert.equal('integer', math.type(t[i]))
    end
  end)

  it('byte_4.t7: a ByteTensor', function()
    local t = load('byte_4.t7')
    assert.equal('torch.ByteTensor', t:type())
    assert.same({ 0, 1, 127, 255 }, t:totable())
  end)

  it('float_transposed_4x3.t7: a non-contiguous view keeps its strides and storage', function()
    local t = load('float_transposed_4x3.t7')
    assert.same({ 4, 3 }, t:sizeTable())
    assert.same({ 1, 4 }, t:stride():totable())
    assert.equal(1, t:storageOffset())
    assert.is_false(t:isContiguous())
    assert.same({ { 0, 4, 8 }, { 1, 5, 9 }, { 2, 6, 10 }, { 3, 7, 11 } }, t:totable())
    assert.same(arange12(), t:t():totable())   -- the full 12-float storage behind it
  end)

  it('table.t7: a table of numbers, a string, a list and a tensor', function()
    local t = load('table.t7')
    assert.equal(1, t.a)
    assert.equal('x', t.b)
    assert.same({ 1, 2, 3 }, t.c)
    assert.equal('torch.FloatTensor', t.t:type())
    assert.same(arange12(), t.t:totable())
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.same({ 'a', 'b', 'c', 't' }, keys)
  end)

  it('shared_refs.t7: one object stays one object, a view shares its storage', function()
    local t = load('shared_refs.t7')
    assert.equal(t.first, t.second)   -- rawequal: the same userdata
    assert.is_true(rawequal(t.first, t.second))
    assert.same({ 1, 2, 3, 4, 5, 6 }, t.first:totable())
    assert.same({ 3, 4 }, t.view:totable())
    assert.same({ 2 }, t.view:sizeTable())
    assert.same({ 1 }, t.view:stride():totable())
    assert.equal(3, t.view:storageOffset())
    assert.is_true(sameStorage(t.first, t.view))
    t.first[3] = 100
    assert.equal(100, t.view[1])
  end)

  it('mlp_trained.t7 loads as a working nn.Sequential matching mlp_output.t7', function()
    local model = load('mlp_trained.t7')
    assert.equal('nn.Sequential', torch.type(model))
    local kinds = {}
    for i, m in ipairs(model.modules) do kinds[i] = torch.type(m) end
    assert.same({ 'nn.Linear', 'nn.ReLU', 'nn.Linear', 'nn.ReLU', 'nn.Linear', 'nn.LogSoftMax' }, kinds)
    assert.is_false(model.train)
    assert.equal(0, model.modules[2].threshold)
    assert.equal(0, model.modules[2].val)
    assert.is_false(model.modules[2].inplace)
    local L1, L3, L5 = model.modules[1], model.modules[3], model.modules[5]
    assert.same({ 512, 784 }, L1.weight:sizeTable())
    local offsets = { L1.weight, L1.bias, L3.weight, L3.bias, L5.weight, L5.bias }
    for i, off in ipairs { 1, 401409, 401921, 532993, 533249, 535809 } do
      assert.equal(off, offsets[i]:storageOffset())
      assert.is_true(sameStorage(offsets[1], offsets[i]))   -- one flat parameter storage
    end
    assert.is_true(sameStorage(L1.gradWeight, L5.gradBias))
    assert.is_false(sameStorage(L1.weight, L1.gradWeight))
    H.near(L1.weight:double():sum(), 6.1394978, 1e-4)
    H.near(L1.bias:double():sum(), -0.16974518, 1e-5)
    H.near(L3.weight:double():sum(), -2.5589138, 1e-4)
    H.near(L5.bias:double():sum(), 0.20255560, 1e-5)
    H.near(L1.weight[1][1], -0.0059646261, 1e-9)
    H.near(L5.bias[1], 0.048899777, 1e-9)

    local input, expected = load('mlp_input.t7'), load('mlp_output.t7')
    assert.same({ 2, 784 }, input:sizeTable())
    for b = 1, 2 do
      for j = 1, 784, 97 do assert.equal(((j - 1) % 17) / 16 - 0.5 + 0.25 * (b - 1), input[b][j]) end
    end
    H.near(expected[1], { -2.26844525, -2.29498434, -2.28104782, -2.24730349, -2.29450417,
                          -2.24764919, -2.37969327, -2.36758447, -2.25965166, -2.39940524 }, 1e-7)
    H.near(model:forward(input), expected, 1e-5)
  end)

  it('function.t7 is refused, naming the file and the position', function()
    H.raises({ 'function.t7', 'at byte 50', 'type tag 8', 'refused' }, load, 'function.t7')
  end)

  it('ascii files load (auto-detected or named)', function()
    assert.same(arange12(), load('float_3x4_arange_ascii.t7'):totable())
    assert.same(arange12(), load('float_3x4_arange_ascii.t7', 'ascii'):totable())
    local t = load('table_ascii.t7')
    assert.equal(1, t.a)
    assert.equal('x', t.b)
    assert.same({ 1, 2, 3 }, t.c)
    assert.equal('torch.DoubleTensor', t.t:type())
    assert.same({ 1, 2, 3 }, t.t:totable())
  end)

  it('tensors are written back byte for byte as Torch7 wrote them', function()
    for _, name in ipairs { 'float_3x4_arange.t7', 'double_2x3.t7', 'long_5.t7', 'byte_4.t7',
                            'float_transposed_4x3.t7', 'mlp_input.t7', 'mlp_output.t7' } do
      assert.is_true(torch.serialize(load(name)) == bytes(name), name)
    end
    local ascii = bytes('float_3x4_arange_ascii.t7')
    assert.is_true(torch.serialize(load('float_3x4_arange_ascii.t7'), 'ascii') == ascii)
  end)

  it('the trained model is written back with its storages once', function()
    local model = load('mlp_trained.t7')
    local s = torch.serialize(model)
    assert.is_true(math.abs(#s - #bytes('mlp_trained.t7')) < 4096)
    local again = torch.deserialize(s)
    H.near(again:forward(load('mlp_input.t7')), load('mlp_output.t7'), 1e-5)
    assert.is_true(sameStorage(again.modules[1].weight, again.modules[5].bias))
  end)
end)
