-- The caching allocator behind GPU storages (src/cache_alloc.c), run on the CPU over a
-- fake device: torch._testAllocator(capacity) puts the same C code over malloc with a
-- byte budget and injected refusals. Also the GPU-less behaviour of torch.cuda.
local torch = require 'torch'
local H = require 'helpers'

local KB, MB = 1024, 1024 * 1024

describe('caching allocator: size classes', function()
  it('rounds to 512 bytes, then to eighths of a power of two', function()
    local cases = { { 0, 512 }, { 1, 512 }, { 512, 512 }, { 513, 576 }, { 1000, 1024 },
                    { 1024, 1024 }, { 1025, 1152 }, { 4097, 4608 }, { 3 * MB, 3 * MB },
                    { 100 * MB + 1, 104 * MB } }
    for _, c in ipairs(cases) do
      assert.are.equal(c[2], torch._cacheClassSize(c[1]), 'class of ' .. c[1])
    end
  end)

  it('wastes at most 12.5% above 512 bytes, and classes are fixed points', function()
    for _, n in ipairs({ 600, 777, 1500, 65537, 999999, 12345678, 2 ^ 33 + 7 }) do
      n = math.tointeger(n)
      local c = torch._cacheClassSize(n)
      assert.is_true(c >= n and c <= n * 1.125 + 1, ('class %d of %d'):format(c, n))
      assert.are.equal(c, torch._cacheClassSize(c))
    end
  end)
end)

describe('caching allocator: reuse', function()
  it('hands a released block to the next request of its class', function()
    local A = torch._testAllocator()
    local p = A:alloc(1000)
    A:release(p, 1000)
    assert.are.equal(p, A:alloc(1010))          -- same class (1024): the same block
    local s = A:stats()
    assert.are.equal(1, s.rawAllocs)
    assert.are.equal(1, s.cacheHits)
    assert.are.equal(1010, s.requestedBytes)
    assert.are.equal(1024, s.allocatedBytes)
    assert.are.equal(0, s.cachedBytes)
  end)

  it('does not give a block of another class', function()
    local A = torch._testAllocator()
    local p = A:alloc(1000)
    A:release(p, 1000)
    local q = A:alloc(2000)
    assert.are_not.equal(p, q)
    local s = A:stats()
    assert.are.equal(2, s.rawAllocs)
    assert.are.equal(0, s.cacheHits)
    assert.are.equal(1024, s.cachedBytes)
    assert.are.equal(1024 + 2048, s.reservedBytes)
    assert.are.equal(s.rawBytes, s.reservedBytes)
  end)

  it('makes no raw allocation in a steady loop after the first step', function()
    local A = torch._testAllocator()
    local sizes = { 4 * KB, 1 * MB, 37, 123457, 4 * KB, 64 * KB }
    local function step()
      local live = {}
      for i, n in ipairs(sizes) do live[i] = assert(A:alloc(n)) end
      for i, n in ipairs(sizes) do A:release(live[i], n) end
    end
    step()
    local first = A:stats()
    for _ = 1, 200 do step() end
    local s = A:stats()
    assert.are.equal(first.rawAllocs, s.rawAllocs)
    assert.are.equal(#sizes, s.rawAllocs)
    assert.are.equal(200 * #sizes, s.cacheHits)
    assert.are.equal(first.reservedBytes, s.reservedBytes)
    assert.are.equal(first.peakReservedBytes, s.peakReservedBytes)
    assert.are.equal(0, s.allocatedBytes)
  end)

  it('keeps books: requested, allocated, cached, reserved and peaks', function()
    local A = torch._testAllocator()
    local a, b = A:alloc(3000), A:alloc(100)            -- classes 3072 and 512
    local s = A:stats()
    assert.are.equal(3100, s.requestedBytes)
    assert.are.equal(3584, s.allocatedBytes)
    assert.are.equal(3584, s.reservedBytes)
    A:release(a, 3000)
    s = A:stats()
    assert.are.equal(100, s.requestedBytes)
    assert.are.equal(512, s.allocatedBytes)
    assert.are.equal(3072, s.cachedBytes)
    assert.are.equal(3584, s.reservedBytes)
    assert.are.equal(3584, s.peakAllocatedBytes)
    A:release(b, 100)
    s = A:stats()
    assert.are.equal(0, s.requestedBytes)
    assert.are.equal(2, s.allocs)
    assert.are.equal(2, s.releases)
    A:resetStats()
    s = A:stats()
    assert.are.equal(0, s.peakAllocatedBytes)
    assert.are.equal(3584, s.peakReservedBytes)
    assert.are.equal(0, s.allocs)
  end)
end)

describe('caching allocator: emptyCache', function()
  it('hands cached blocks back and leaves blocks in use alone', function()
    local A = torch._testAllocator()
    local keep = A:alloc(5000)
    local p, q = A:alloc(1000), A:alloc(70000)
    A:release(p, 1000)
    A:release(q, 70000)
    local cached = A:stats().cachedBytes
    assert.are.equal(1024 + torch._cacheClassSize(70000), cached)
    assert.are.equal(cached, A:emptyCache())
    local s = A:stats()
    assert.are.equal(0, s.cachedBytes)
    assert.are.equal(2, s.rawFrees)
    assert.are.equal(1, s.emptyCacheCalls)
    assert.are.equal(torch._cacheClassSize(5000), s.reservedBytes)
    assert.are.equal(s.reservedBytes, s.rawBytes)
    A:release(keep, 5000)
    assert.are.equal(0, A:stats().allocatedBytes)
  end)

  it('needs a raw allocation again after emptying', function()
    local A = torch._testAllocator()
    A:release(A:alloc(1000), 1000)
    A:emptyCache()
    A:alloc(1000)
    assert.are.equal(2, A:stats().rawAllocs)
    assert.are.equal(0, A:stats().cacheHits)
  end)
end)

describe('caching allocator: out of memory', function()
  it('empties the cache and retries when the device refuses', function()
    local A = torch._testAllocator(8 * KB)
    A:release(A:alloc(4096), 4096)              -- 4 KB cached, 4 KB of budget left
    local p = A:alloc(6000)                     -- class 6144: only fits once the cache is gone
    assert.is_not_nil(p)
    local s = A:stats()
    assert.are.equal(1, s.oomRetries)
    assert.are.equal(1, s.refused)
    assert.are.equal(0, s.ooms)
    assert.are.equal(0, s.cachedBytes)
    assert.are.equal(6144, s.rawBytes)
  end)

  it('fails with nil and a message when even the retry is refused', function()
    local A = torch._testAllocator(8 * KB)
    local p = A:alloc(6000)
    local q, err = A:alloc(6000)
    assert.is_nil(q)
    assert.truthy(err:find('out of memory allocating 6000 bytes', 1, true))
    local s = A:stats()
    assert.are.equal(1, s.ooms)
    assert.are.equal(0, s.oomRetries)              -- nothing was cached, so no retry
    A:release(p, 6000)
    assert.is_not_nil(A:alloc(6000))               -- and the allocator still works
  end)

  it('survives an injected refusal by retrying, and reports two in a row', function()
    local A = torch._testAllocator()
    A:release(A:alloc(512), 512)
    A:failNext(1)
    assert.is_not_nil(A:alloc(100000))
    assert.are.equal(1, A:stats().oomRetries)

    A:release(A:alloc(512), 512)
    A:failNext(2)
    local p, err = A:alloc(200000)
    assert.is_nil(p)
    assert.truthy(err:find('out of memory', 1, true))
    local s = A:stats()
    assert.are.equal(1, s.ooms)
    assert.are.equal(3, s.refused)
    assert.are.equal(0, s.cachedBytes)             -- the cache was given up on the way
    assert.is_not_nil(A:alloc(200000))             -- refusals over: works again
  end)

  it('refuses absurd sizes without asking the device', function()
    local A = torch._testAllocator()
    assert.is_nil(A:alloc(1 << 60))
    assert.are.equal(0, A:stats().refused)
    assert.are.equal(1, A:stats().ooms)
  end)

  it('closes idempotently and then refuses use', function()
    local A = torch._testAllocator()
    A:release(A:alloc(1000), 1000)
    do local B <close> = A end
    H.raises('test allocator is closed', function() A:alloc(10) end)
    getmetatable(A).__gc(A)
  end)
end)

describe('torch.cuda without a device', function()
  if torch.cuda.isAvailable() then return end      -- spec/gpu covers the real thing
  local why = torch.cuda.isBuilt() and 'cuda: no CUDA device is available'
                                    or 'cuda: this build of Ember has no CUDA backend'

  it('says it is unavailable, and why', function()
    local ok, reason = torch.cuda.isAvailable()
    assert.is_false(ok)
    assert.are.equal('string', type(reason))
    assert.are.equal(0, torch.cuda.deviceCount())
  end)

  it('raises a clear error for every way onto the GPU', function()
    local x = torch.Tensor({ 1, 2, 3 })
    H.raises(why, function() return x:cuda() end)
    H.raises(why, function() return x:cudaDouble() end)
    H.raises(why, function() return x:to('cuda') end)
    H.raises(why, function() return x:to('cuda:0', 'float64') end)
    H.raises(why, function() return x:type('torch.CudaTensor') end)
    H.raises(why, function() return torch.CudaTensor(2, 3) end)
    H.raises(why, function() return torch.CudaLongTensor({ 1, 2 }) end)
    H.raises(why, function() return torch.Tensor(0):cuda() end)
    H.raises(why, function() return x:pinMemory() end)
  end)

  it('raises the same error from the torch.cuda functions', function()
    H.raises(why, torch.cuda.memoryStats)
    H.raises(why, torch.cuda.emptyCache)
    H.raises(why, torch.cuda.synchronize)
    H.raises(why, torch.cuda.getDevice)
    H.raises(why, torch.cuda.setDevice, 1)
    H.raises(why, torch.cuda.getDeviceProperties)
  end)

  it('leaves CPU conversions alone', function()
    local x = torch.Tensor({ 1.5, -2 })
    assert.are.equal(x, x:to('cpu'))
    assert.are.equal(x, x:float())
    assert.are.equal(x, x:type('torch.FloatTensor'))
    assert.are.equal('torch.FloatTensor', x:type())
    assert.are.equal('torch.DoubleTensor', x:to('float64'):type())
    assert.are.equal('torch.LongTensor', x:to('cpu', 'int64'):type())
    H.near(x:to(torch.LongTensor({ 0 })), { 1, -2 })
    assert.is_false(x:isPinned())
    H.raises("bad device 'cuda:x'", function() return x:to('cuda:x') end)
    H.raises("unknown dtype 'gpu'", function() return x:to('gpu') end)
    H.raises("unknown type 'torch.CudaFooTensor'", function() return x:type('torch.CudaFooTensor') end)
  end)
end)
