-- ROC curves and AUC against trapezoids computed by hand.
local torch = require 'torch'
local metrics = require 'ember.metrics'
local H = require 'helpers'

local T, L = torch.DoubleTensor, torch.LongTensor

describe('metrics.roc', function()
  it('has one point per distinct score, from (0, 0)', function()
    local fpr, tpr, th = metrics.roc(T { 0.1, 0.4, 0.35, 0.8 }, T { 0, 0, 1, 1 })
    H.near(fpr, { 0, 0, 0.5, 0.5, 1 }, 0)
    H.near(tpr, { 0, 0.5, 0.5, 1, 1 }, 0)
    H.near(th, { math.huge, 0.8, 0.4, 0.35, 0.1 }, 0)
  end)
  it('puts tied scores in one step', function()
    local fpr, tpr = metrics.roc(T { 0.5, 0.5, 0.2, 0.8 }, T { 1, 0, 0, 1 })
    H.near(fpr, { 0, 0, 0.5, 1 }, 0)
    H.near(tpr, { 0, 0.5, 1, 1 }, 0)
  end)
end)

describe('metrics.auc (binary)', function()
  it('is the trapezoid area', function()
    -- (0,0) (0,.5) (.5,.5) (.5,1) (1,1): .5*.5 + .5*1 = .75
    assert.are.equal(0.75, metrics.auc(T { 0.1, 0.4, 0.35, 0.8 }, T { 0, 0, 1, 1 }))
    -- ties: (0,.5) -> (.5,1) is a slanted step: .5 * (.5 + 1) / 2 + .5 = .875
    assert.are.equal(0.875, metrics.auc(T { 0.5, 0.5, 0.2, 0.8 }, T { 1, 0, 0, 1 }))
    -- rank form: pairs (positive, negative) ordered right count 1, tied 1/2:
    -- .9>.6 .9>.3 .6=.6 .6>.3 .4<.6 .4>.3 -> 4.5 / 6
    assert.are.equal(0.75, metrics.auc(T { 0.9, 0.6, 0.6, 0.3, 0.4 }, T { 1, 1, 0, 0, 1 }))
  end)
  it('is 1 for perfect, 0 for reversed, 1/2 for constant scores', function()
    assert.are.equal(1, metrics.auc(T { 0.1, 0.2, 0.8, 0.9 }, T { 0, 0, 1, 1 }))
    assert.are.equal(0, metrics.auc(T { 0.9, 0.8, 0.2, 0.1 }, T { 0, 0, 1, 1 }))
    assert.are.equal(0.5, metrics.auc(T { 0.5, 0.5, 0.5, 0.5 }, T { 0, 1, 0, 1 }))
  end)
  it('takes (N, 1) scores and boolean targets', function()
    local y = T { 0, 0, 1, 1 }:eq(1)
    assert.are.equal(0.75, metrics.auc(T { { 0.1 }, { 0.4 }, { 0.35 }, { 0.8 } }, y))
  end)
  it('is undefined (nil and a message) when the targets hold one class', function()
    local auc, msg = metrics.auc(T { 0.2, 0.7 }, T { 1, 1 })
    assert.is_nil(auc)
    assert.are.equal('auc: undefined, the targets hold only positives', msg)
    assert.is_nil((metrics.auc(T { 0.2, 0.7 }, T { 0, 0 })))
  end)
  it('rejects targets other than 0 and 1', function()
    H.raises('roc: binary targets must be 0 (negative) or 1 (positive)', metrics.auc, T { 0.2, 0.7 }, T { 1, 2 })
  end)
end)

describe('metrics.auc (one-vs-rest)', function()
  local scores = T { { 0.6, 0.3, 0.1 }, { 0.2, 0.3, 0.5 }, { 0.3, 0.3, 0.4 }, { 0.5, 0.1, 0.4 } }
  it('averages the classes', function()
    -- class 1: .6 above .2 .3 .5 -> 1; class 2: .3 vs .3 .3 .1 -> (.5 + .5 + 1) / 3;
    -- class 3: .4 .4 vs .1 .5 -> 2 / 4
    local auc, per = metrics.auc(scores, L { 1, 2, 3, 3 })
    H.near(per, { 1, 2 / 3, 0.5 }, 1e-12)
    H.near(auc, (1 + 2 / 3 + 0.5) / 3, 1e-12)
  end)
  it('skips classes absent from the targets (nan)', function()
    local four = torch.cat(scores, torch.zeros(4, 1, 'float64'), 2)
    local auc, per = metrics.auc(four, L { 1, 2, 3, 3 })
    H.near(auc, (1 + 2 / 3 + 0.5) / 3, 1e-12)
    assert.is_true(per[4] ~= per[4])
    local none, msg = metrics.auc(torch.ones(2, 2, 'float64'), L { 1, 1 })
    assert.is_nil(none)
    assert.are.equal('auc: undefined, no class has both positives and negatives', msg)
  end)
end)
