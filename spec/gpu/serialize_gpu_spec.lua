-- Saving GPU tensors: torch.save writes them as cutorch did (torch.CudaTensor over a
-- torch.CudaStorage, the payload copied to the host), and torch.load puts them back on
-- the GPU by default or on the host with {device = 'cpu'}; shared storages stay shared.
-- Also safetensors of GPU tensors. Tagged #gpu: `make test-gpu` runs it. The host-only
-- side (a hand-built cutorch file loading without a GPU) is spec/io/t7_cuda_spec.lua.
local torch = require 'torch'
local H = require 'helpers'
require 'nn'

local function sameStorage(a, b) return torch.serial.storageKey(a) == torch.serial.storageKey(b) end

-- s with the first binary class name `from` (length-prefixed) replaced by `to`.
local function rename(s, from, to)
  from, to = string.pack('<i4', #from) .. from, string.pack('<i4', #to) .. to
  local i = assert(s:find(from, 1, true), from)
  return s:sub(1, i - 1) .. to .. s:sub(i + #from)
end

-- Bit-for-bit equality of two tensors (either device), dtypes and shapes included.
local function same(a, b, msg)
  assert.are.equal(a:dtype(), b:dtype(), msg)
  assert.are.same(a:sizeTable(), b:sizeTable(), msg)
  H.near(a:to('cpu'), b:to('cpu'), 0, msg)
end

local function roundTrip(obj, format, options)
  local path = os.tmpname()
  torch.save(path, obj, format)
  local ok, loaded = pcall(torch.load, path, format, options)
  os.remove(path)
  assert(ok, loaded)
  return loaded
end

describe('#gpu saving GPU tensors', function()
  local ok, why = torch.cuda.isAvailable()
  if not ok and not os.getenv('EMBER_LIST_GPU_SPECS') then   -- spec/gpu/count.sh lists them
    it('needs a CUDA device', function() pending('no CUDA device: ' .. tostring(why)) end)
    return
  end

  it('writes cutorch class names over the bytes a CPU tensor writes', function()
    local x = torch.randn(3, 4)
    local cpu, gpu = torch.serialize(x), torch.serialize(x:cuda())
    local expected = rename(rename(cpu, 'torch.FloatTensor', 'torch.CudaTensor'), 'torch.FloatStorage', 'torch.CudaStorage')
    assert.is_true(gpu == expected)
    local l = torch.LongTensor({ 1 << 40, -3 })
    expected = rename(rename(torch.serialize(l), 'torch.LongTensor', 'torch.CudaLongTensor'),
                      'torch.LongStorage', 'torch.CudaLongStorage')
    assert.is_true(torch.serialize(l:cudaLong()) == expected)
    local a = torch.serialize(x:cuda(), 'ascii')
    assert.is_truthy(a:find('\ntorch.CudaTensor\n', 1, true))
    assert.is_truthy(a:find('\ntorch.CudaStorage\n', 1, true))
  end)

  for _, case in ipairs {
    { dtype = 'float32', move = 'cuda', class = 'torch.CudaTensor', host = 'torch.FloatTensor' },
    { dtype = 'float16', move = 'cudaHalf', class = 'torch.CudaHalfTensor', host = 'torch.HalfTensor' },
    { dtype = 'bfloat16', move = 'cudaBFloat16', class = 'torch.CudaBFloat16Tensor', host = 'torch.BFloat16Tensor' },
    { dtype = 'float64', move = 'cudaDouble', class = 'torch.CudaDoubleTensor', host = 'torch.DoubleTensor' },
    { dtype = 'int64', move = 'cudaLong', class = 'torch.CudaLongTensor', host = 'torch.LongTensor' },
    { dtype = 'uint8', move = 'cudaByte', class = 'torch.CudaByteTensor', host = 'torch.ByteTensor' },
  } do
    it(case.dtype .. ': back on the GPU by default, on the host with device = cpu (binary and ascii)', function()
      local x = torch.Tensor({ { 0, 1, -2.5, 65504 }, { 3, 1e-3, 7, 255 } })
      if case.dtype == 'int64' then x = torch.LongTensor({ { 1 << 40, -3, 0, 7 }, { 1, 2, 3, 4 } }) end
      if case.dtype == 'uint8' then x = torch.ByteTensor({ { 0, 1, 2, 255 }, { 4, 5, 6, 7 } }) end
      local g = x[case.move](x)
      assert.are.equal(case.dtype, g:dtype())
      for _, format in ipairs { 'binary', 'ascii' } do
        local back = roundTrip(g, format)
        assert.are.equal('cuda:0', back:device())
        assert.are.equal(case.class, back:type())
        same(back, g, format)
        local host = roundTrip(g, format, { device = 'cpu' })
        assert.are.equal('cpu', host:device())
        assert.are.equal(case.host, host:type())
        same(host, g, format)
        same(roundTrip(g, format, { device = 'cuda:0' }), g, format)
      end
    end)
  end

  it('views of one GPU storage stay views of one storage, on either device', function()
    local g = torch.randn(4, 5):cuda()
    local obj = { x = g, t = g:t(), n = g:narrow(2, 2, 3), r = g:select(1, 3), e = torch.CudaTensor() }
    for _, options in ipairs { { device = 'cuda' }, { device = 'cpu' } } do
      local b = roundTrip(obj, 'binary', options)
      for _, k in ipairs { 't', 'n', 'r' } do
        assert.is_true(sameStorage(b.x, b[k]), k)
        assert.are.same(obj[k]:stride():totable(), b[k]:stride():totable(), k)
        assert.are.equal(obj[k]:storageOffset(), b[k]:storageOffset(), k)
        same(b[k], obj[k], k)
      end
      assert.is_false(b.t:isContiguous())
      assert.are.equal(0, b.e:dim())
      assert.are.equal(options.device == 'cpu' and 'cpu' or 'cuda:0', b.n:device())
      b.x:fill(2)                                  -- writes through the shared storage
      assert.are.equal(2 * 12, b.n:float():sum())
    end
  end)

  it('a model moved to the GPU saves and loads back on the GPU, or on the host', function()
    local model = nn.Sequential():add(nn.Linear(5, 4)):add(nn.ReLU()):add(nn.Linear(4, 2)):cuda()
    local params = model:getParameters()
    local x = torch.randn(3, 5)
    local y = model:forward(x:cuda()):float()
    local g = roundTrip(model)
    assert.are.equal('torch.CudaTensor', g:type())
    assert.are.equal('cuda:0', g.modules[1].weight:device())
    assert.is_true(sameStorage(g.modules[1].weight, g.modules[3].bias))   -- one flat parameter storage
    H.near(g:forward(x:cuda()):float(), y, 1e-6)
    local h = roundTrip(model, 'binary', { device = 'cpu' })
    assert.are.equal('torch.FloatTensor', h:type())
    assert.are.equal('cpu', h.modules[1].weight:device())
    assert.is_true(sameStorage(h.modules[1].weight, h.modules[3].bias))
    H.near(h:forward(x), y, 1e-5)
    assert.are.equal(params:nElement(), h:getParameters():nElement())
  end)

  it('the hand-built cutorch fixture loads onto the GPU by default', function()
    local dir = debug.getinfo(1, 'S').source:match('^@(.*/)') .. '../io/fixtures/cuda/'
    local t = torch.load(dir .. 'cutorch_tensors.t7')
    assert.are.equal('torch.CudaTensor', t.w:type())
    assert.are.equal('torch.CudaHalfTensor', t.h:type())
    assert.are.equal('torch.FloatTensor', t.f:type())   -- saved from the host: stays there
    assert.are.same({ { 0.5, -1.25, 3 }, { 1024, 2 ^ -7, 2 ^ 24 } }, t.w:float():totable())
    assert.is_true(sameStorage(t.w, t.wt) and sameStorage(t.w, t.row))
    assert.are.equal('torch.CudaTensor', t.m:type())
    H.near(t.m:forward(torch.Tensor({ 1, 1, 1 }):cuda()):float(), { 6.5, -1.25 }, 0)
  end)

  it('safetensors writes GPU tensors (loaded on the host)', function()
    local a, b = torch.randn(3, 4):cuda(), torch.LongTensor({ 5, -6 }):cudaLong()
    local path = os.tmpname()
    torch.saveSafetensors(path, { a = a, b = b, v = a:t() })
    local t = torch.loadSafetensors(path)
    os.remove(path)
    same(t.a, a)
    same(t.b, b)
    same(t.v, a:t():contiguous())
    assert.are.equal('cpu', t.a:device())
  end)
end)
