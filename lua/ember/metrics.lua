-- ember.metrics: evaluation metrics computed with tensor ops (no per-sample Lua loops).
--
--   local metrics = require 'ember.metrics'
--   metrics.accuracy(output, target)            -- output (N, K) scores or (N) labels
--   metrics.topk(output, target, 5)             -- target among the 5 highest scores
--   metrics.precision(pred, target, K, 'macro') -- also recall, f1; 'macro' | 'micro' | 'none'
--   metrics.report(pred, target, K)             -- all of them, per class and averaged
--   metrics.confusion(pred, target, K)          -- (K, K) counts, rows true, columns predicted
--   metrics.ConfusionMatrix(K or names)         -- accumulates batches, prints as a table
--   metrics.auc(scores, target)                 -- ROC AUC, binary or one-vs-rest macro
--   metrics.roc(scores, target)                 -- the ROC curve: fpr, tpr, thresholds
--   metrics.mse(pred, target), metrics.mae(...), metrics.r2(...)
--
-- Labels are class numbers 1..K (any dtype; a (N, K) tensor of scores stands for its
-- row-wise argmax). Counts that would divide 0 by 0 give 0, as scikit-learn's
-- zero_division=0: a class never predicted has precision 0, a class never present
-- has recall 0, F1 is 0 when precision + recall is 0.
local torch = require 'torch'

local M = {}

-- output (N, K) scores -> (N) int64 argmax labels; (N) or (N, 1) labels -> (N) int64.
function M.labels(output)
  if output:dim() == 2 and output:size(2) > 1 then
    local _, idx = output:max(2)
    return idx:view(-1)
  end
  return output:reshape(output:nElement()):long()
end

local function checkLabels(fname, pred, target, K)
  if pred:nElement() ~= target:nElement() then
    error(('%s: %d predictions for %d targets'):format(fname, pred:nElement(), target:nElement()), 3)
  end
  if pred:nElement() == 0 then error(fname .. ': no samples', 3) end
  if K then
    local lo, hi = math.min(pred:min(), target:min()), math.max(pred:max(), target:max())
    if lo < 1 or hi > K then
      error(('%s: labels must be in 1..%d, got %d..%d'):format(fname, K, lo, hi), 3)
    end
  end
end

-- Fraction of samples whose predicted label equals the target.
function M.accuracy(output, target)
  local pred, t = M.labels(output), target:reshape(target:nElement()):long()
  checkLabels('accuracy', pred, t)
  return pred:eq(t):sum() / t:nElement()
end

-- output (N, K) scores, target (N): fraction of samples whose target is among the k
-- highest scores (ties broken by topk).
function M.topk(output, target, k)
  k = k or 1
  if output:dim() ~= 2 or k < 1 or k > output:size(2) then
    error(('topk: expected (N, K) scores and 1 <= k <= K, got %s and k = %s')
          :format(table.concat(output:sizeTable(), 'x'), tostring(k)), 2)
  end
  local n = output:size(1)
  local t = target:reshape(n, 1):long()
  local _, idx = output:topk(k, 2, true)
  return idx:eq(t:expand(n, k)):sum() / n
end

-- (K, K) float64 counts: [i][j] = samples of true class i predicted as j.
function M.confusion(pred, target, K)
  local p, t = M.labels(pred), target:reshape(target:nElement()):long()
  checkLabels('confusion', p, t, K)
  local cell = (t - 1) * K + p
  return torch.zeros(K * K, 'float64'):indexAdd(1, cell, torch.ones(cell:nElement(), 'float64'))
    :view(K, K)
end

-- The (K) diagonal of a (K, K) tensor, as float64.
function M.diag(m)
  local K = m:size(1)
  return m:reshape(K * K):index(1, torch.range(1, K * K, K + 1, 'int64')):double()
end

-- a / b element-wise (a new tensor), 0 where b is 0.
local function safeDiv(a, b)
  local nz = b:gt(0):double()
  return torch.cdiv(a, b + (1 - nz)):cmul(nz)
end

-- From a (K, K) confusion matrix: per-class precision, recall, f1, support (K each,
-- float64) and their macro and micro averages. Macro averages over the classes that
-- occur in the targets or the predictions (scikit-learn's default label set); micro
-- pools the counts (for single-label data it equals the accuracy).
function M.fromConfusion(cm)
  local tp = M.diag(cm)
  local predicted, support = cm:sum(1):view(-1), cm:sum(2):view(-1)
  local precision, recall = safeDiv(tp, predicted), safeDiv(tp, support)
  local f1 = safeDiv(torch.cmul(precision, recall):mul(2), precision + recall)
  local seen = (predicted + support):gt(0):double()
  local nSeen = seen:sum()
  local function macro(v) return torch.cmul(v, seen):sum() / nSeen end
  local total = cm:sum()
  local micro = total > 0 and tp:sum() / total or 0
  return {
    precision = precision, recall = recall, f1 = f1, support = support,
    macro = { precision = macro(precision), recall = macro(recall), f1 = macro(f1) },
    micro = { precision = micro, recall = micro, f1 = micro },
    accuracy = micro,
  }
end

function M.report(pred, target, K) return M.fromConfusion(M.confusion(pred, target, K)) end

-- precision / recall / f1 (pred, target, K [, average]): average 'macro' (default) or
-- 'micro' gives a number, 'none' the (K) per-class tensor.
for _, name in ipairs { 'precision', 'recall', 'f1' } do
  M[name] = function(pred, target, K, average)
    average = average or 'macro'
    local r = M.report(pred, target, K)
    if average == 'none' then return r[name] end
    if average ~= 'macro' and average ~= 'micro' then
      error(("%s: average must be 'macro', 'micro' or 'none', got %s"):format(name, tostring(average)), 2)
    end
    return r[average][name]
  end
end

---------------------------------------------------------------------------- regression

local function pair(fname, pred, target)
  if pred:nElement() ~= target:nElement() or pred:nElement() == 0 then
    error(('%s: %d predictions for %d targets'):format(fname, pred:nElement(), target:nElement()), 3)
  end
  return pred:double():reshape(target:sizeTable()), target:double()
end

-- Mean squared error over all elements.
function M.mse(pred, target)
  local p, t = pair('mse', pred, target)
  return (p - t):pow(2):mean()
end

-- Mean absolute error over all elements.
function M.mae(pred, target)
  local p, t = pair('mae', pred, target)
  return (p - t):abs():mean()
end

-- Coefficient of determination 1 - SS_res / SS_tot; for (N, D) targets, the mean of
-- the D columns' R². A constant target column (SS_tot = 0) scores 1 when predicted
-- exactly and 0 otherwise (scikit-learn's force_finite).
function M.r2(pred, target)
  local p, t = pair('r2', pred, target)
  if t:dim() == 1 then p, t = p:view(-1, 1), t:view(-1, 1) end
  local ssRes = (t - p):pow(2):sum(1)
  local ssTot = (t - t:mean(1):expandAs(t)):pow(2):sum(1)
  local defined = ssTot:gt(0):double()
  local score = 1 - safeDiv(ssRes, ssTot)                          -- 1 where undefined
  local perfect = ssRes:eq(0):double()
  score = torch.cmul(score, defined) + torch.cmul(perfect, 1 - defined)
  return score:mean()
end

package.loaded['ember.metrics'] = M   -- the parts below require it back
local roc = require 'ember.metrics.roc'
M.roc, M.auc = roc.roc, roc.auc
M.ConfusionMatrix = require 'ember.metrics.ConfusionMatrix'

return M
