-- ember.metrics against values computed by hand, edge cases included.
local torch = require 'torch'
local metrics = require 'ember.metrics'
local H = require 'helpers'

local T, L = torch.DoubleTensor, torch.LongTensor

describe('metrics.accuracy and topk', function()
  it('compares labels, or the argmax of scores', function()
    assert.are.equal(4 / 6, metrics.accuracy(T { 1, 2, 3, 3, 2, 1 }, L { 1, 2, 3, 2, 1, 1 }))
    local scores = T { { 0.9, 0.1 }, { 0.2, 0.8 }, { 0.6, 0.4 } }
    assert.are.equal(2 / 3, metrics.accuracy(scores, L { 1, 2, 2 }))
    assert.are.equal(1, metrics.accuracy(L { 1, 2 }, L { 1, 2 }))        -- perfect
    assert.are.equal(0, metrics.accuracy(L { 2, 1 }, L { 1, 2 }))        -- worst
  end)
  it('counts a target among the k highest scores', function()
    local scores = T { { 1, 5, 3 }, { 2, 0, 1 }, { 0, 1, 2 } }
    assert.are.equal(1 / 3, metrics.topk(scores, L { 3, 3, 3 }, 1))
    assert.are.equal(1, metrics.topk(scores, L { 3, 3, 3 }, 2))
    assert.are.equal(2 / 3, metrics.topk(scores, L { 2, 2, 2 }, 2))
    assert.are.equal(1, metrics.topk(scores, L { 2, 2, 2 }, 3))
    H.raises('1 <= k <= K', metrics.topk, scores, L { 1, 1, 1 }, 4)
  end)
  it('rejects mismatched sizes', function()
    H.raises('accuracy: 2 predictions for 3 targets', metrics.accuracy, L { 1, 2 }, L { 1, 2, 3 })
  end)
end)

describe('metrics.confusion and precision / recall / F1', function()
  local pred, target = L { 1, 2, 3, 3, 2, 1 }, L { 1, 2, 3, 2, 1, 1 }
  it('counts true class by row, predicted by column', function()
    H.near(metrics.confusion(pred, target, 3), { { 2, 1, 0 }, { 0, 1, 1 }, { 0, 0, 1 } }, 0)
  end)
  it('gives per-class, macro and micro values', function()
    local r = metrics.report(pred, target, 3)
    H.near(r.precision, { 1, 0.5, 0.5 }, 1e-12)
    H.near(r.recall, { 2 / 3, 0.5, 1 }, 1e-12)
    H.near(r.f1, { 0.8, 0.5, 2 / 3 }, 1e-12)
    H.near(r.support, { 3, 2, 1 }, 0)
    H.near(r.macro.precision, 2 / 3, 1e-12)
    H.near(r.macro.recall, (2 / 3 + 0.5 + 1) / 3, 1e-12)
    H.near(r.macro.f1, (0.8 + 0.5 + 2 / 3) / 3, 1e-12)
    H.near(r.micro.f1, 4 / 6, 1e-12)
    H.near(metrics.f1(pred, target, 3), (0.8 + 0.5 + 2 / 3) / 3, 1e-12)
    H.near(metrics.precision(pred, target, 3, 'micro'), 4 / 6, 1e-12)
    H.near(metrics.recall(pred, target, 3, 'none'), { 2 / 3, 0.5, 1 }, 1e-12)
  end)
  it('defines 0/0 as 0: a class never predicted has precision 0', function()
    local p, t = L { 1, 1, 1, 2 }, L { 1, 2, 3, 2 }
    local r = metrics.report(p, t, 3)
    H.near(r.precision, { 1 / 3, 1, 0 }, 1e-12)
    H.near(r.recall, { 1, 0.5, 0 }, 1e-12)
    H.near(r.f1, { 0.5, 2 / 3, 0 }, 1e-12)
    H.near(r.macro.precision, 4 / 9, 1e-12)
    H.near(r.macro.f1, (0.5 + 2 / 3) / 3, 1e-12)
    H.near(r.micro.precision, 0.5, 1e-12)
  end)
  it('leaves classes absent from targets and predictions out of macro averages', function()
    local p, t = L { 1, 1, 1, 2 }, L { 1, 2, 3, 2 }
    local r3, r4 = metrics.report(p, t, 3), metrics.report(p, t, 4)
    H.near(r4.macro.f1, r3.macro.f1, 1e-12)
    assert.are.equal(0, r4.precision[4])
  end)
  it('handles perfect and worst predictions and all one class', function()
    local perfect = metrics.report(L { 1, 2, 2 }, L { 1, 2, 2 }, 2)
    H.near({ perfect.macro.precision, perfect.macro.recall, perfect.macro.f1 }, { 1, 1, 1 }, 0)
    local worst = metrics.report(L { 2, 1, 1 }, L { 1, 2, 2 }, 2)
    H.near({ worst.macro.precision, worst.macro.recall, worst.macro.f1 }, { 0, 0, 0 }, 0)
    local one = metrics.report(L { 1, 1 }, L { 1, 1 }, 2)
    H.near(one.f1, { 1, 0 }, 0)
    assert.are.equal(1, one.macro.f1)              -- class 2 occurs nowhere: left out
  end)
  it('checks labels and the average', function()
    H.raises('confusion: labels must be in 1..3, got 0..3', metrics.confusion, L { 0, 1 }, L { 3, 1 }, 3)
    H.raises("average must be 'macro', 'micro' or 'none'", metrics.f1, pred, target, 3, 'weighted')
  end)
end)

describe('regression metrics', function()
  local p, t = T { 1, 2, 3 }, T { 1, 2, 5 }
  it('mse, mae and R²', function()
    H.near(metrics.mse(p, t), 4 / 3, 1e-12)
    H.near(metrics.mae(p, t), 2 / 3, 1e-12)
    H.near(metrics.r2(p, t), 7 / 13, 1e-12)                  -- 1 - 4 / (26/3)
    H.near(metrics.r2(t, t), 1, 0)
    H.near(metrics.r2(T { 8 / 3, 8 / 3, 8 / 3 }, t), 0, 1e-12)   -- the mean scores 0
    H.near(metrics.r2(T { 5, 2, 1 }, t), 1 - 32 / (26 / 3), 1e-12)
  end)
  it('averages R² over output columns', function()
    local pp = T { { 1, 1 }, { 2, 2 }, { 3, 3 } }
    local tt = T { { 1, 1 }, { 2, 2 }, { 3, 5 } }
    H.near(metrics.r2(pp, tt), (1 + 7 / 13) / 2, 1e-12)
  end)
  it('scores a constant target 1 when exact, else 0', function()
    assert.are.equal(1, metrics.r2(T { 2, 2 }, T { 2, 2 }))
    assert.are.equal(0, metrics.r2(T { 1, 3 }, T { 2, 2 }))
  end)
  it('takes predictions of any shape with as many elements', function()
    H.near(metrics.mse(T { { 1 }, { 2 }, { 3 } }, t), 4 / 3, 1e-12)
    H.raises('mse: 2 predictions for 3 targets', metrics.mse, T { 1, 2 }, t)
  end)
end)
