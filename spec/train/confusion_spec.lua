-- ConfusionMatrix: accumulation over batches and the printed table, exactly.
local torch = require 'torch'
local metrics = require 'ember.metrics'
local H = require 'helpers'

local L = torch.LongTensor

describe('metrics.ConfusionMatrix', function()
  local pred, target = L { 1, 2, 3, 3, 2, 1 }, L { 1, 2, 3, 2, 1, 1 }

  it('prints names, aligned columns and totals', function()
    local cm = metrics.ConfusionMatrix { 'cat', 'dog', 'bird' }
    cm:add(pred, target)
    assert.are.equal(table.concat({
      'true \\ predicted    cat    dog   bird  total',
      'cat                   2      1      0      3',
      'dog                   0      1      1      2',
      'bird                  0      0      1      1',
      'total                 2      2      2      6',
      'accuracy 66.67% (4 of 6)',
    }, '\n'), tostring(cm))
  end)

  it('prints class numbers, and no totals when asked', function()
    local cm = metrics.ConfusionMatrix(3)
    cm:add(pred, target)
    assert.are.equal(table.concat({
      'true \\ predicted  1  2  3',
      '1                 2  1  0',
      '2                 0  1  1',
      '3                 0  0  1',
      'accuracy 66.67% (4 of 6)',
    }, '\n'), cm:tostring { totals = false })
  end)

  it('widens columns for large counts and long names', function()
    local cm = metrics.ConfusionMatrix { 'a', 'a long name' }
    cm:add(L(1234):fill(1), L(1234):fill(1))
    local lines = {}
    for l in tostring(cm):gmatch('[^\n]+') do lines[#lines + 1] = l end
    assert.are.equal('true \\ predicted            a  a long name        total', lines[1])
    assert.are.equal('a                        1234            0         1234', lines[2])
    assert.are.equal(#lines[1], #lines[4])
  end)

  it('accumulates batches of scores and labels, and zeroes', function()
    local cm = metrics.ConfusionMatrix(2)
    cm:add(torch.DoubleTensor { { 0.9, 0.1 }, { 0.3, 0.7 } }, L { 1, 1 })
    cm:batchAdd(L { 2 }, L { 2 })
    H.near(cm.mat, { { 1, 1 }, { 0, 1 } }, 0)
    assert.are.equal(2 / 3, cm:accuracy())
    H.near(cm:report().precision, { 1, 0.5 }, 1e-12)
    cm:zero()
    assert.are.equal(0, cm:total())
    assert.are.equal(0, cm:accuracy())
  end)

  it('checks its argument', function()
    H.raises('expected a number of classes or a list of class names', metrics.ConfusionMatrix, 0)
  end)
end)
