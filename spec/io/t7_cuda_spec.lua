-- Files holding GPU tensors as cutorch wrote them (torch.CudaTensor over torch.CudaStorage,
-- ...) load on a machine without a GPU as the matching CPU tensors, values exact and
-- shared storages still shared. The fixtures (spec/io/fixtures/cuda) are built by hand by
-- make.lua beside them: there is no cutorch to write an oracle file with. Saving real GPU
-- tensors is in spec/gpu/serialize_gpu_spec.lua (#gpu).
local torch = require 'torch'
local H = require 'helpers'
require 'nn'

local dir = debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'fixtures/cuda/'
local built = dofile(dir .. 'make.lua')

local function bytes(name)
  local f = assert(io.open(dir .. name, 'rb'))
  local s = f:read('a')
  f:close()
  return s
end

local function sameStorage(a, b) return torch.serial.storageKey(a) == torch.serial.storageKey(b) end

local function hex(x) return (string.pack('>d', x):gsub('.', function(c) return ('%02x'):format(c:byte()) end)) end

-- Every check on the fixture's contents, loaded on the host.
local function checkHost(t)
  for _, k in ipairs { 'w', 'wt', 'row', 'h', 'l', 'd', 'b', 'e', 'f' } do
    assert.equal('cpu', t[k]:device(), k)
  end
  assert.equal('torch.FloatTensor', t.w:type())
  assert.same({ { 0.5, -1.25, 3 }, { 1024, 2 ^ -7, 2 ^ 24 } }, t.w:totable())
  assert.same({ 3, 2 }, t.wt:sizeTable())
  assert.same({ 1, 3 }, t.wt:stride():totable())
  assert.is_false(t.wt:isContiguous())
  assert.same(t.w:t():totable(), t.wt:totable())
  assert.same({ 1024, 2 ^ -7, 2 ^ 24 }, t.row:totable())
  assert.equal(4, t.row:storageOffset())
  assert.is_true(sameStorage(t.w, t.wt) and sameStorage(t.w, t.row))   -- one storage, as saved
  t.w[2][1] = -7
  assert.equal(-7, t.row[1])
  assert.equal(-7, t.wt[1][2])

  assert.equal('torch.HalfTensor', t.h:type())
  assert.same({ 1, -2, 0.5, 65504 }, t.h:float():totable())
  assert.equal('torch.LongTensor', t.l:type())
  assert.equal(1 << 40, t.l[1])
  assert.equal('integer', math.type(t.l[1]))
  assert.equal(-3, t.l[2])
  assert.equal('torch.DoubleTensor', t.d:type())
  assert.equal(hex(0.1), hex(t.d[1]))
  assert.equal('torch.ByteTensor', t.b:type())
  assert.same({ 0, 255 }, t.b:totable())
  assert.equal('torch.FloatTensor', t.e:type())
  assert.equal(0, t.e:dim())
  assert.equal('torch.FloatTensor', t.f:type())
  assert.same({ 7 }, t.f:totable())

  local m = t.m
  assert.equal('nn.Linear', torch.type(m))
  assert.equal('torch.FloatTensor', m:type())   -- _type follows the tensors to the host
  assert.equal('cpu', m.weight:device())
  assert.same({ { 1, 2, 3 }, { -1, 0, 0.25 } }, m.weight:totable())
  H.near(m:forward(torch.Tensor({ 1, 1, 1 })), { 6.5, -1.25 }, 0)
end

describe('GPU tensors in .t7 files, on the host', function()
  it('the fixture files are what make.lua builds', function()
    assert.is_true(bytes('cutorch_tensors.t7') == built.binary)
    assert.is_true(bytes('cutorch_tensors_ascii.t7') == built.ascii)
  end)

  it('load as CPU tensors with device = cpu: binary, ascii, from a string', function()
    checkHost(torch.load(dir .. 'cutorch_tensors.t7', { device = 'cpu' }))
    checkHost(torch.load(dir .. 'cutorch_tensors_ascii.t7', 'ascii', { device = 'cpu' }))
    checkHost(torch.load(dir .. 'cutorch_tensors_ascii.t7', { device = 'cpu' }))   -- detected
    checkHost(torch.deserialize(built.binary, { device = 'cpu' }))
    checkHost(torch.deserialize(built.ascii, 'ascii', { device = 'cpu' }))
  end)

  it('load on the host by default when there is no GPU', function()
    if torch.cuda.isAvailable() then return end   -- spec/gpu checks the GPU default
    checkHost(torch.load(dir .. 'cutorch_tensors.t7'))
    checkHost(torch.deserialize(built.ascii, 'ascii', true))   -- Torch7's `referenced` flag
    checkHost(torch.load(dir .. 'cutorch_tensors.t7', { device = 'auto' }))
  end)

  it('a GPU-loaded-on-host model saves and loads again as a CPU one', function()
    local t = torch.deserialize(built.binary, { device = 'cpu' })
    local again = torch.deserialize(torch.serialize(t))
    assert.is_nil(torch.serialize(t):find('Cuda', 1, true))
    assert.same(t.w:totable(), again.w:totable())
    assert.is_true(sameStorage(again.w, again.row))
  end)

  it('raises clear errors for bad options', function()
    local path = dir .. 'cutorch_tensors.t7'
    if not torch.cuda.isAvailable() then
      local _, why = torch.cuda.isAvailable()
      H.raises({ "load: device 'cuda' asked for, but no CUDA device can be used: ", why },
               torch.load, path, { device = 'cuda' })
      H.raises("deserialize: device 'cuda:1' asked for", torch.deserialize, built.binary, { device = 'cuda:1' })
    end
    H.raises("load: device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got gpu", torch.load, path, { device = 'gpu' })
    H.raises('load: unknown option map_location', torch.load, path, { map_location = 'cpu' })
    H.raises('load: options must be a table, got a string', torch.load, path, 'binary', 'cpu')
  end)
end)

describe('damaged GPU records', function()
  local i4, i8 = function(v) return string.pack('<i4', v) end, function(v) return string.pack('<i8', v) end
  local function str(s) return i4(#s) .. s end
  local function tensor(class, storage)
    return i4(4) .. i4(1) .. str('V 1') .. str(class) .. i4(1) .. i8(2) .. i8(1) .. i8(1) .. storage
  end
  local function storage(class, n, data) return i4(4) .. i4(2) .. str('V 1') .. str(class) .. i8(n) .. data end

  it('a CUDA tensor over a storage of another class is refused', function()
    local s = tensor('torch.CudaTensor', storage('torch.FloatStorage', 2, ('\0'):rep(8)))
    H.raises({ 'load: string at byte 0', "a torch.CudaTensor's storage is a torch.FloatStorage, not a torch.CudaStorage" },
             torch.deserialize, s, { device = 'cpu' })
    s = tensor('torch.FloatTensor', storage('torch.CudaStorage', 2, ('\0'):rep(8)))
    H.raises("a torch.FloatTensor's storage is a torch.CudaStorage, not a torch.FloatStorage",
             torch.deserialize, s, { device = 'cpu' })
    s = tensor('torch.CudaLongTensor', storage('torch.CudaStorage', 2, ('\0'):rep(8)))
    H.raises("a torch.CudaLongTensor's storage is a torch.CudaStorage, not a torch.CudaLongStorage",
             torch.deserialize, s, { device = 'cpu' })
  end)

  it('counts, views and truncations are checked as for CPU records', function()
    H.raises('storage size 1099511627776 at byte',
             torch.deserialize, tensor('torch.CudaTensor', storage('torch.CudaStorage', 1 << 40, '')), { device = 'cpu' })
    H.raises('reaches past a storage of 1 elements',
             torch.deserialize, tensor('torch.CudaTensor', storage('torch.CudaStorage', 1, ('\0'):rep(4))), { device = 'cpu' })
    for len = 0, #built.binary - 1, 7 do
      local ok, err = pcall(torch.deserialize, built.binary:sub(1, len), 'binary', { device = 'cpu' })
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find('^load: '), err)
    end
  end)
end)
