-- IDX reader: the real Fashion-MNIST of Debian's dataset-fashion-mnist (values checked
-- against an independent reading, fixtures/fashion_mnist_reference.py), the tiny
-- fixtures of fixtures/make_fixtures.py, and every error with its file and position.
local torch = require 'torch'
local data = require 'ember.data'
local H = require 'helpers'

local F = debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'fixtures/'
local FMNIST = '/usr/share/datasets/fashion-mnist/'

describe('readIDX on Fashion-MNIST', function()
  local images = data.readIDX(FMNIST .. 'train-images-idx3-ubyte.gz')
  local labels = data.readIDX(FMNIST .. 'train-labels-idx1-ubyte.gz', 10)

  it('reads 60000 images of 28x28 bytes and 60000 labels', function()
    assert.are.equal('torch.ByteTensor', images:type())
    assert.are.same({60000, 28, 28}, images:sizeTable())
    assert.are.equal('torch.ByteTensor', labels:type())
    assert.are.same({60000}, labels:sizeTable())
  end)

  it('matches an independent reading with Python gzip', function()
    assert.are.same({9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, labels:narrow(1, 1, 10):totable())
    assert.are.equal(76247, images[1]:long():sum())
    assert.are.equal(255, images[1]:long():max())
    assert.are.equal(217, images[1][15][15])
    assert.are.equal(16684, images[60000]:long():sum())
    for k = 0, 9 do assert.are.equal(6000, labels:eq(k):long():sum()) end
  end)

  it('reads the test split', function()
    local t = data.readIDX(FMNIST .. 't10k-labels-idx1-ubyte.gz')
    assert.are.same({10000}, t:sizeTable())
    assert.are.same({9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, t:narrow(1, 1, 10):totable())
    local ti = data.readIDX(FMNIST .. 't10k-images-idx3-ubyte.gz')
    assert.are.same({10000, 28, 28}, ti:sizeTable())
    assert.are.equal(33456, ti[1]:long():sum())
  end)

  it('fashionMNIST gives a dataset of float images in [0, 1] and labels 1..10', function()
    local ds = data.fashionMNIST('test')
    assert.are.equal(10000, #ds)
    local x, y = ds:get(1)
    assert.are.same({1, 28, 28}, x:sizeTable())
    assert.are.equal(9, y)                          -- get returns the raw row
    local loader = data.DataLoader(ds, {batchSize = 4})
    local _, bx, by = loader:iter()()
    assert.are.equal('torch.FloatTensor', bx:type())
    assert.are.same({4, 1, 28, 28}, bx:sizeTable())
    assert.are.same({10, 3, 2, 2}, by:totable())
    H.near(bx[1]:sum(), 33456 / 255, 1e-3)
    H.raises("split must be 'train' or 'test'", data.fashionMNIST, 'valid')
  end)
end)

describe('readIDX on fixtures', function()
  it('reads plain and gzip files alike', function()
    local want = torch.range(0, 23, 'uint8'):view(3, 2, 4):totable()
    assert.are.same(want, data.readIDX(F .. 'tiny-images-idx3-ubyte'):totable())
    assert.are.same(want, data.readIDX(F .. 'tiny-images-idx3-ubyte.gz'):totable())
    assert.are.same({3, 0, 9, 1, 2}, data.readIDX(F .. 'tiny-labels-idx1-ubyte.gz', 10):totable())
  end)

  it('maps the other type codes to dtypes, big-endian', function()
    local s = data.readIDX(F .. 'int16.idx')
    assert.are.equal('torch.ShortTensor', s:type())
    assert.are.same({-2, 300, 7}, s:totable())
    local f = data.readIDX(F .. 'float32.idx')
    assert.are.equal('torch.FloatTensor', f:type())
    assert.are.same({{0.5, -1.25}, {3, 1000}}, f:totable())
    local d = data.readIDX(F .. 'float64.idx')
    assert.are.equal('torch.DoubleTensor', d:type())
    assert.are.same({0.1, -2.5}, d:totable())
  end)
end)

describe('readIDX errors name the file and the position', function()
  local cases = {
    {'truncated-idx3-ubyte', {'truncated-idx3-ubyte: truncated', 'promises 24 bytes', '3x2x4',
                               'ends after 19 of them (at byte 35)'}},
    {'truncated-idx3-ubyte.gz', {'truncated-idx3-ubyte.gz: truncated', 'promises 24 bytes',
                                  'unexpected end of file'}},
    {'truncated-header.idx', {'truncated-header.idx: truncated', 'ends at byte 10',
                               'sizes of 3 dims'}},
    {'short.idx', {'short.idx: truncated', 'ends at byte 2', 'magic number'}},
    {'bad-magic.idx', {'bad-magic.idx: wrong magic number 0x08030000 at byte 0', 'not an IDX file'}},
    {'bad-type.idx', {'bad-type.idx: wrong magic number 0x00000703 at byte 0'}},
    {'not-idx.gz', {'not-idx.gz: wrong magic number 0x68656c6c'}},
    {'extra-idx1-ubyte', {'extra-idx1-ubyte: extra data at byte 13', 'the 5 bytes the header promises'}},
    {'missing-file', {'missing-file: cannot open: No such file'}},
  }
  for _, c in ipairs(cases) do
    it(c[1], function() H.raises(c[2], data.readIDX, F .. c[1]) end)
  end

  it('label out of range names the item and byte', function()
    H.raises({'bad-label-idx1-ubyte: label 12 at item 3 (byte 10) is out of range 0..9'},
             data.readIDX, F .. 'bad-label-idx1-ubyte', 10)
    assert.are.same({1, 2, 12, 3}, data.readIDX(F .. 'bad-label-idx1-ubyte'):totable())
  end)

  it('idxDataset checks that images and labels agree', function()
    H.raises({'idxDataset', 'tiny-labels-idx1-ubyte', 'N labels'}, data.idxDataset,
             F .. 'tiny-images-idx3-ubyte', F .. 'tiny-labels-idx1-ubyte', 10)
  end)
end)
