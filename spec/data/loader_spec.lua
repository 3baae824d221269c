-- Batches: gather with dtype conversion, one-hot, normalize, random crop and flip (by
-- value), Dataset / TensorDataset, and DataLoader: batch count, dropLast, every index
-- exactly once per epoch, determinism by seed, reuse of the batch tensors.
local torch = require 'torch'
local data = require 'ember.data'
local H = require 'helpers'

local L = torch.LongTensor

describe('gather', function()
  it('converts and scales rows in one call, reusing the output', function()
    local src = torch.range(0, 11, 'uint8'):view(3, 2, 2)
    local out = torch.FloatTensor()
    local ptr
    data.gather(out, src, L{3, 1}, 0.5, 1)
    assert.are.same({{{5, 5.5}, {6, 6.5}}, {{1, 1.5}, {2, 2.5}}}, out:totable())
    ptr = out:dataPtr()
    data.gather(out, src, L{2}, 1 / 255)
    H.near(out, {{{4 / 255, 5 / 255}, {6 / 255, 7 / 255}}}, 1e-7)
    assert.are.equal(ptr, out:dataPtr())                              -- storage kept
    local labels = torch.ByteTensor{3, 0, 9}
    local y = torch.LongTensor()
    assert.are.same({10, 4}, data.gather(y, labels, L{3, 1}, 1, 1):totable())
  end)

  it('reads strided sources and matches indexSelect for every dtype pair', function()
    local base = torch.range(1, 24, 'float64'):view(4, 6)
    local src = base:narrow(2, 2, 3):t()                              -- 3 x 4, strided rows
    for _, dt in ipairs{'float32', 'float64', 'int64', 'int32', 'uint8', 'int16'} do
      local out = torch.empty({0}, dt)
      data.gather(out, src, L{3, 3, 1})
      assert.are.same(src:index(1, L{3, 3, 1}):totable(), out:double():totable())
    end
  end)

  it('checks indices and arguments before writing', function()
    local src = torch.zeros(3, 2)
    local out = torch.ones(2, 2)
    H.raises('gather: index 4 at position 2 is out of range 1..3', data.gather, out, src, L{1, 4})
    H.raises('gather: index 0 at position 1 is out of range 1..3', data.gather, out, src, L{0})
    assert.are.same({{1, 1}, {1, 1}}, out:totable())
    H.raises('shares storage', data.gather, src:narrow(1, 1, 1), src, L{1})
    H.raises('the source is empty', data.gather, out, torch.Tensor(), L{1})
  end)
end)

describe('batch transforms', function()
  it('oneHot', function()
    local out = torch.FloatTensor()
    assert.are.same({{0, 0, 1}, {1, 0, 0}}, data.oneHot(out, L{3, 1}, 3):totable())
    H.raises('oneHot: label 4 at position 2 is out of range 1..3', data.oneHot, out, L{1, 4}, 3)
    H.raises('oneHot: label 0 at position 1 is out of range 1..3', data.oneHot, out, L{0}, 3)
    assert.are.same({{0, 1}}, data.oneHot(torch.LongTensor(), torch.ByteTensor{1}, 2, 0):totable())
  end)

  it('normalize per channel and overall', function()
    local x = torch.Tensor{{{1, 3}, {10, 20}}}                         -- 1 x 2 x 2
    data.normalize(x, {1, 10}, {2, 5})
    assert.are.same({{{0, 1}, {0, 2}}}, x:totable())
    local y = torch.Tensor{{2, 4}}
    assert.are.same({{1, 3}}, data.normalize(y, 1, 1):totable())
    H.raises('normalize: 3 means and stds for 2 channels', data.normalize, x, {1, 2, 3}, {1, 1, 1})
    H.raises('normalize: std 1 is 0', data.normalize, x, 0, 0)
    H.raises('normalize: 2 means but 1 stds', data.normalize, x, {1, 2}, {1})
    H.raises('floating-point', data.normalize, torch.ByteTensor(2, 2), 0, 1)
  end)

  it('randomCrop shifts each sample by draws from the generator', function()
    local x = torch.range(1, 9):view(1, 1, 3, 3)
    local ref = data.Generator(7)
    local dy, dx = ref:random(3) - 2, ref:random(3) - 2                  -- the crop's draws
    data.randomCrop(x, 1, data.Generator(7))
    local want = {}
    for r = 1, 3 do
      want[r] = {}
      for c = 1, 3 do
        local sr, sc = r + dy, c + dx
        want[r][c] = (sr >= 1 and sr <= 3 and sc >= 1 and sc <= 3) and (sr - 1) * 3 + sc or 0
      end
    end
    assert.are.same({{want}}, x:totable())
    local z = torch.range(1, 4):view(1, 1, 2, 2)
    data.randomCrop(z, 0)
    assert.are.same({{{{1, 2}, {3, 4}}}}, z:totable())
    H.raises('expected an N x C x H x W batch', data.randomCrop, torch.zeros(2, 2, 2, 2, 2), 1)
    H.raises('padding must be non-negative', data.randomCrop, torch.zeros(1, 1, 2, 2), -1)
  end)

  it('randomFlip mirrors along the last dim with probability p', function()
    local x = torch.Tensor{{{1, 2, 3}}, {{4, 5, 6}}}
    data.randomFlip(x, 1)
    assert.are.same({{{3, 2, 1}}, {{6, 5, 4}}}, x:totable())
    data.randomFlip(x, 0)
    assert.are.same({{{3, 2, 1}}, {{6, 5, 4}}}, x:totable())
    local g = data.Generator(3)
    local y = torch.range(1, 200):view(100, 2)
    data.randomFlip(y, 0.5, g)
    local flipped = y:select(2, 1):gt(y:select(2, 2)):long():sum()
    assert.is_true(flipped > 30 and flipped < 70)
    H.raises('randomFlip: probability 2 is outside [0, 1]', data.randomFlip, x, 2)
  end)
end)

describe('Generator', function()
  it('replays from its seed', function()
    local a, b = data.Generator(42), data.Generator(42)
    assert.are.same(a:randperm(10):totable(), b:randperm(10):totable())
    assert.are.equal(a:random(1000), b:random(1000))
    a:manualSeed(1)
    b:manualSeed(1)
    assert.are.same(a:randperm(5):totable(), b:randperm(5):totable())
  end)
end)

describe('DataLoader', function()
  local function ids(n) return data.TensorDataset(torch.range(1, n, 'int64')) end

  it('counts batches with and without dropLast', function()
    assert.are.equal(4, #data.DataLoader(ids(10), {batchSize = 3}))
    assert.are.equal(3, #data.DataLoader(ids(10), {batchSize = 3, dropLast = true}))
    assert.are.equal(2, #data.DataLoader(ids(10), {batchSize = 5, dropLast = true}))
    local sizes = {}
    for i, x in data.DataLoader(ids(10), {batchSize = 3}):iter() do sizes[i] = x:nElement() end
    assert.are.same({3, 3, 3, 1}, sizes)
    sizes = {}
    for i, x in data.DataLoader(ids(10), {batchSize = 3, dropLast = true}):iter() do sizes[i] = x:nElement() end
    assert.are.same({3, 3, 3}, sizes)
  end)

  it('visits every index exactly once per epoch, in order unless shuffled', function()
    local loader = data.DataLoader(ids(103), {batchSize = 10, shuffle = true, seed = 5})
    local orders = {}
    for epoch = 1, 2 do
      local seen, order = {}, {}
      for _, x in loader:iter() do
        for _, v in ipairs(x:totable()) do
          assert.is_nil(seen[v])
          seen[v] = true
          order[#order + 1] = v
        end
      end
      assert.are.equal(103, #order)
      orders[epoch] = order
    end
    assert.are_not.same(orders[1], orders[2])                        -- a new order each epoch
    local plain = {}
    for _, x in data.DataLoader(ids(7), {batchSize = 3}):iter() do
      for _, v in ipairs(x:totable()) do plain[#plain + 1] = v end
    end
    assert.are.same({1, 2, 3, 4, 5, 6, 7}, plain)
  end)

  it('is deterministic given the seed, whatever else draws from torch', function()
    local function epochs(seed)
      local loader = data.DataLoader(ids(50), {batchSize = 8, shuffle = true, seed = seed})
      local out = {}
      for _ = 1, 2 do
        for _, x in loader:iter() do out[#out + 1] = x:totable() end
        torch.rand(5)
      end
      return out
    end
    assert.are.same(epochs(11), epochs(11))
    assert.are_not.same(epochs(11), epochs(12))
    local first = data.Generator(11):randperm(50):narrow(1, 1, 8):totable()
    assert.are.same(first, epochs(11)[1])                             -- the seed's permutation
    torch.manualSeed(3)
    local a = data.DataLoader(ids(20), {shuffle = true, batchSize = 20}):iter()
    torch.manualSeed(3)
    local b = data.DataLoader(ids(20), {shuffle = true, batchSize = 20}):iter()
    assert.are.same(select(2, a()):totable(), select(2, b()):totable())
  end)

  it('reuses its batch tensors unless copy is set', function()
    local loader = data.DataLoader(ids(6), {batchSize = 2})
    local it = loader:iter()
    local _, x1 = it()
    local p = x1:dataPtr()
    local _, x2 = it()
    assert.are.equal(p, x2:dataPtr())
    assert.are.same({3, 4}, x1:totable())                             -- overwritten
    local it2 = data.DataLoader(ids(6), {batchSize = 2, copy = true}):iter()
    local _, c1 = it2()
    it2()
    assert.are.same({1, 2}, c1:totable())
  end)

  it('converts fields and runs transforms on each batch', function()
    local images = torch.range(0, 15, 'uint8'):view(4, 1, 2, 2)
    local labels = torch.ByteTensor{2, 0, 1, 2}
    local ds = data.TensorDataset({images, dtype = 'float32', scale = 1 / 15}, {labels, dtype = 'int64', shift = 1})
    local T = data.transforms
    local loader = data.DataLoader(ds, {batchSize = 2, transforms = {T.normalize(0.5, 0.5), T.oneHot(3), T.flatten()}})
    local got = {}
    for i, x, y in loader:iter() do got[i] = {x:totable(), y:totable()} end
    H.near(got[1][1], {{-1, -1 + 2 / 15, -1 + 4 / 15, -1 + 6 / 15}, {-1 + 8 / 15, -1 + 10 / 15, -1 + 12 / 15, -1 + 14 / 15}}, 1e-6)
    assert.are.same({{0, 0, 1}, {1, 0, 0}}, got[1][2])
    assert.are.same({{0, 1, 0}, {0, 0, 1}}, got[2][2])
    local aug = data.DataLoader(ds, {batchSize = 4, seed = 9, transforms = {T.randomFlip(1), T.randomCrop(0)}})
    local _, x = aug:iter()()
    H.near(x[1][1], {{1 / 15, 0}, {3 / 15, 2 / 15}}, 1e-7)
  end)

  it('batches overlapping windows of a token sequence (unfold views)', function()
    local seqs = torch.range(1, 11, 'int64'):unfold(1, 4, 3)          -- 3 windows of 4, step 3
    local got = {}
    for i, s in data.DataLoader(data.TensorDataset(seqs), {batchSize = 2}):iter() do got[i] = s:totable() end
    assert.are.same({{{1, 2, 3, 4}, {4, 5, 6, 7}}, {{7, 8, 9, 10}}}, got)
  end)

  it('batches a Dataset of Lua samples', function()
    local ds = data.Dataset{size = 5, get = function(i) return torch.Tensor{i, 10 * i}, i % 2 end}
    assert.are.equal(5, #ds)
    local got = {}
    for i, x, y in data.DataLoader(ds, {batchSize = 2}):iter() do got[i] = {x:totable(), y:totable()} end
    assert.are.same({{{1, 10}, {2, 20}}, {1, 0}}, got[1])
    assert.are.same({{{5, 50}}, {1}}, got[3])
  end)

  it('reports bad arguments and failing transforms', function()
    H.raises('batchSize must be a positive integer', data.DataLoader, ids(3), {batchSize = 0})
    H.raises('expected a dataset', data.DataLoader, {})
    H.raises('TensorDataset: field 2 has 2 samples, field 1 has 3', data.TensorDataset,
             torch.zeros(3), torch.zeros(2))
    local loader = data.DataLoader(data.TensorDataset({torch.ByteTensor{1, 5}, dtype = 'int64'}),
                                   {batchSize = 2, transforms = {data.transforms.oneHot(3, 1)}})
    H.raises({'DataLoader: transform 1', 'oneHot: label 5 at position 2 is out of range 1..3'},
             loader:iter())
  end)
end)
