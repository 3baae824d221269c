-- GPU tensors against the CPU: copies both ways, dtype conversion and strided views on
-- the device, fill, the caching allocator under churn, memoryStats/emptyCache, and the
-- error messages. Tagged #gpu: excluded by default (.busted); `make test-gpu` runs it.
local torch = require 'torch'
local H = require 'helpers'

local DTYPES = { 'float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16',
                 'int8', 'uint8', 'bool' }

-- Values that exercise every conversion rule: fractions, negatives, saturation,
-- wrap-around, half/bfloat16 rounding and subnormals, infinities and nan.
local function awkward(dtype)
  local v = { 0, 1, -1, 2.5, -2.5, 0.1, 255, 256, 300.7, -129, 65504, 70000, 1e-7, 3e-5,
              2 ^ 31, -2 ^ 31 - 1, 2 ^ 40 + 1 }
  local x = torch.Tensor(v):to('float64')
  if dtype == 'float32' or dtype == 'float64' or dtype == 'float16' or dtype == 'bfloat16' then
    x = torch.cat({ x, torch.Tensor({ math.huge, -math.huge, 0 / 0 }):to('float64') })
  end
  return x:to(dtype)
end

-- Bit-for-bit equality of two CPU tensors (nan equals nan).
local function same(a, b, msg)
  assert.are.equal(a:dtype(), b:dtype(), msg)
  assert.are.same(a:sizeTable(), b:sizeTable(), msg)
  H.near(a, b, 0, msg)
end

describe('#gpu tensors on the GPU', function()
  local ok, why = torch.cuda.isAvailable()
  if not ok and not os.getenv('EMBER_LIST_GPU_SPECS') then   -- spec/gpu/count.sh lists them
    it('needs a CUDA device', function() pending('no CUDA device: ' .. tostring(why)) end)
    return
  end

  describe('copies', function()
    it('round-trips every dtype through the device unchanged', function()
      for _, dt in ipairs(DTYPES) do
        local x = awkward(dt)
        local g = x:to('cuda')
        assert.are.equal('cuda:0', g:device())
        assert.are.equal(dt, g:dtype())
        same(g:to('cpu'), x, dt)
      end
    end)

    it('converts every dtype pair on the device exactly as the CPU does', function()
      for _, from in ipairs(DTYPES) do
        local x = awkward(from)
        local g = x:to('cuda')
        for _, to in ipairs(DTYPES) do
          same(g:to(to):to('cpu'), x:to(to), from .. ' -> ' .. to)          -- on the device
          same(x:to('cuda', to):to('cpu'), x:to(to), from .. ' => ' .. to)   -- host to device
          same(g:to('cpu', to), x:to(to), from .. ' <= ' .. to)              -- device to host
        end
      end
    end)

    it('copies strided views in every direction', function()
      local a = torch.randn(6, 7)
      local g = a:cuda()
      same(g:t():float(), a:t():contiguous())                      -- device view to host
      same(g:narrow(2, 3, 4):float(), a:narrow(2, 3, 4):contiguous())
      same(g:select(1, 2):float(), a:select(1, 2):contiguous())
      local d = torch.CudaTensor(7, 6)
      d:copy(a:t())                                                -- host view to device
      same(d:float(), a:t():contiguous())
      local e = torch.CudaTensor(7, 6):zero()
      e:t():copy(g)                                                -- device to device view
      same(e:float(), a:t():contiguous())
      local f = torch.zeros(7, 6)
      f:t():copy(g)                                                -- device to host view
      same(f, a:t():contiguous())
      local row = torch.Tensor({ { 1, 2, 3 } }):cuda()
      same(row:expand(4, 3):float(), torch.Tensor({ { 1, 2, 3 } }):expand(4, 3):contiguous())
      local h = torch.CudaDoubleTensor(7, 6)
      h:copy(g:t())                                                -- strided and converted
      same(h:to('cpu'), a:t():double():contiguous())
    end)

    it('copies overlapping views of one storage as the CPU does', function()
      local a = torch.range(1, 10)
      local g = a:cuda()
      g:narrow(1, 2, 8):copy(g:narrow(1, 1, 8))
      a:narrow(1, 2, 8):copy(a:narrow(1, 1, 8):clone())
      same(g:float(), a)
    end)

    it('copies between tensors of different shapes and equal sizes', function()
      local a = torch.randn(3, 4)
      local g = torch.CudaTensor(12)
      g:copy(a)
      same(g:float(), a:view(12))
    end)

    it('copies to and from page-locked host memory', function()
      local a = torch.randn(1000)
      local p = a:pinMemory()
      assert.is_true(p:isPinned())
      assert.are.equal(p, p:pinMemory())
      same(p, a)
      local g = p:cuda()
      same(g:float(), a)
      local back = torch.zeros(1000):pinMemory()
      back:copy(g)
      same(back, a)
    end)

    it('copies between two GPUs', function()
      if torch.cuda.deviceCount() < 2 then pending('one GPU') return end
      local a = torch.randn(5, 5)
      local g0 = a:to('cuda:0')
      local g1 = g0:to('cuda:1')
      assert.are.equal('cuda:1', g1:device())
      same(g1:float(), a)
      local h = torch.zeros(5, 5):to('cuda:1', 'float64')
      h:t():copy(g0)
      same(h:to('cpu'), a:t():double():contiguous())
    end)

    it('keeps contents when a device storage grows', function()
      local g = torch.CudaTensor({ 1, 2, 3 })
      g:resize(1000)
      same(g:narrow(1, 1, 3):float(), torch.Tensor({ 1, 2, 3 }))
    end)
  end)

  describe('fill', function()
    it('fills every dtype as the CPU does, contiguous and strided', function()
      for _, dt in ipairs(DTYPES) do
        for _, v in ipairs({ 0, 1, -3.7, 300.5, 1e10 }) do
          local g = torch.zeros(4, 6):to('cuda', dt)
          local c = torch.zeros(4, 6):to(dt)
          g:fill(v); c:fill(v)
          same(g:to('cpu'), c, dt .. ' fill ' .. v)
          g:zero(); c:zero()
          g:t():narrow(1, 2, 3):fill(v); c:t():narrow(1, 2, 3):fill(v)
          same(g:to('cpu'), c, dt .. ' strided fill ' .. v)
        end
      end
    end)
  end)

  describe('types and devices', function()
    it("speaks Torch7's type names", function()
      local x = torch.Tensor({ 1, 2 })
      local g = x:cuda()
      assert.are.equal('torch.CudaTensor', g:type())
      assert.are.equal('torch.CudaTensor', torch.type(g))
      assert.are.equal(g, g:cuda())
      assert.are.equal('torch.CudaDoubleTensor', g:cudaDouble():type())
      assert.are.equal('torch.CudaLongTensor', x:cudaLong():type())
      assert.are.equal('torch.CudaHalfTensor', g:type('torch.CudaHalfTensor'):type())
      assert.are.equal('torch.FloatTensor', g:float():type())
      assert.are.equal('cpu', g:float():device())
      assert.are.equal('torch.DoubleTensor', g:double():type())
      assert.are.equal('float32', x:cudaDouble():cuda():dtype())
      assert.are.equal('torch.CudaLongTensor', torch.CudaLongTensor(3):type())
      same(torch.CudaTensor({ { 1, 2 }, { 3, 4 } }):float(), torch.Tensor({ { 1, 2 }, { 3, 4 } }))
      same(torch.CudaTensor(x):float(), x)
      assert.are.same({ 2, 3 }, torch.CudaTensor(2, 3):sizeTable())
    end)

    it('selects devices, numbered from 1 as in cutorch', function()
      local n = torch.cuda.deviceCount()
      assert.is_true(n >= 1)
      assert.are.equal(1, torch.cuda.getDevice())
      torch.cuda.setDevice(n)
      assert.are.equal(n, torch.cuda.getDevice())
      assert.are.equal(('cuda:%d'):format(n - 1), torch.Tensor(1):cuda():device())
      torch.cuda.setDevice(1)
      H.raises('does not exist', torch.cuda.setDevice, n + 1)
      H.raises('cuda: device ' .. n .. ' does not exist', function() return torch.Tensor(1):to('cuda:' .. n) end)
      local p = torch.cuda.getDeviceProperties(1)
      assert.are.equal('string', type(p.name))
      assert.is_true(p.totalGlobalMem > 0 and p.freeGlobalMem <= p.totalGlobalMem)
      local free, total = torch.cuda.getMemoryUsage()
      assert.is_true(free > 0 and total >= free)
      torch.cuda.synchronize()
    end)

    it('names both devices when a CPU tensor meets a GPU tensor', function()
      local c, g = torch.ones(3), torch.ones(3):cuda()
      local err = H.raises('cuda:0', function() return c + g end)
      assert.truthy(err:find('cpu', 1, true))
    end)

    it('refuses host element access with a hint', function()
      local g = torch.ones(3):cuda()
      H.raises({ 'cuda:0', ':float()' }, function() return g:totable() end)
    end)
  end)

  describe('the caching allocator', function()
    it('reports statistics and empties its cache', function()
      collectgarbage()
      torch.cuda.emptyCache()
      local before = torch.cuda.memoryStats()
      assert.are.equal(0, before.cachedBytes)
      local g = torch.CudaTensor(1000, 1000)
      local s = torch.cuda.memoryStats()
      assert.is_true(s.allocatedBytes >= before.allocatedBytes + 4e6)
      assert.is_true(s.reservedBytes >= s.allocatedBytes)
      g = nil
      collectgarbage()
      s = torch.cuda.memoryStats()
      assert.is_true(s.cachedBytes >= 4e6)
      torch.cuda.emptyCache()
      s = torch.cuda.memoryStats()
      assert.are.equal(0, s.cachedBytes)
      assert.are.equal(s.allocatedBytes, s.reservedBytes)
    end)

    it('makes no cudaMalloc in a steady loop', function()
      local function step()
        local a = torch.CudaTensor(256, 1024):fill(1)
        local b = torch.CudaTensor(256, 1024)
        b:copy(a)
        local c = b:to('float16')
        return c
      end
      for _ = 1, 5 do step() end
      collectgarbage()
      local s0 = torch.cuda.memoryStats()
      for _ = 1, 200 do step(); collectgarbage('step') end
      collectgarbage()
      local s1 = torch.cuda.memoryStats()
      assert.is_true(s1.rawAllocs - s0.rawAllocs <= 3,
                     ('%d raw allocations in the steady loop'):format(s1.rawAllocs - s0.rawAllocs))
      assert.is_true(s1.cacheHits - s0.cacheHits >= 600)
    end)

    it('stays flat without collectgarbage() while creating device tensors', function()
      collectgarbage()
      local base = torch.cuda.memoryStats().reservedBytes
      for _ = 1, 500 do local g = torch.CudaTensor(1024, 1024) end   -- 4 MB each, 2 GB in all
      local s = torch.cuda.memoryStats()
      assert.is_true(s.peakReservedBytes - base < 512 * 1024 * 1024,
                     ('reserved grew by %d bytes'):format(s.peakReservedBytes - base))
    end)

    it('raises an out-of-memory error with the size, then still works', function()
      local err = H.raises('out of memory', function() return torch.CudaTensor(2 ^ 40) end)
      assert.truthy(err:find('4398046511104', 1, true), err)
      assert.truthy(err:find('cuda:0', 1, true), err)
      assert.is_true(torch.cuda.memoryStats().ooms >= 1)
      same(torch.CudaTensor(10):fill(2):float(), torch.Tensor(10):fill(2))
    end)
  end)
end)
