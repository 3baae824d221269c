-- ROC curves and the area under them, with tensor ops. Tied scores form one step of
-- the curve (the threshold admits them together), and the area is the trapezoid sum
-- over the steps: equal to the rank (Mann-Whitney) statistic with ties counted 1/2.
local torch = require 'torch'

local R = {}

-- scores (N), target (N) with 1 = positive and 0 = negative (numbers or booleans) ->
-- fpr, tpr, thresholds (float64, one point per distinct score plus (0, 0) at +inf,
-- thresholds descending). Undefined when target holds a single class: returns nil and
-- a message.
function R.roc(scores, target)
  local n = scores:nElement()
  if n ~= target:nElement() or n == 0 then
    error(('roc: %d scores for %d targets'):format(n, target:nElement()), 2)
  end
  local y = target:reshape(n):double()
  if y:ne(0):logicalAnd(y:ne(1)):any() then
    error('roc: binary targets must be 0 (negative) or 1 (positive)', 2)
  end
  local pos = y:sum()
  local neg = n - pos
  if pos == 0 or neg == 0 then
    return nil, ('roc: undefined, the targets hold only %s'):format(pos == 0 and 'negatives' or 'positives')
  end
  local sorted, order = scores:reshape(n):double():sort(1, true)
  local ys = y:index(1, order)
  local tps, fps = ys:cumsum(1), (1 - ys):cumsum(1)
  local last = torch.ones(n, 'bool')                  -- the last sample of each run of ties
  if n > 1 then last:narrow(1, 1, n - 1):copy(sorted:narrow(1, 1, n - 1):ne(sorted:narrow(1, 2, n - 1))) end
  local zero = torch.zeros(1, 'float64')
  local fpr = torch.cat(zero, fps[last]:div(neg), 1)
  local tpr = torch.cat(zero, tps[last]:div(pos), 1)
  local thresholds = torch.cat(torch.full({ 1 }, math.huge, 'float64'), sorted[last], 1)
  return fpr, tpr, thresholds
end

-- Trapezoid area under the points (x, y), x ascending (both (M), M >= 2).
function R.trapezoid(x, y)
  local m = x:nElement()
  local dx = x:narrow(1, 2, m - 1) - x:narrow(1, 1, m - 1)
  local ysum = y:narrow(1, 2, m - 1) + y:narrow(1, 1, m - 1)
  return torch.cmul(dx, ysum):sum() / 2
end

-- ROC AUC. Binary: scores (N) or (N, 1), target 0/1 -> the area, or nil and a message
-- when target holds one class. Multi-class: scores (N, K), target (N) labels 1..K ->
-- the one-vs-rest macro average over the classes whose AUC is defined (present, and not
-- every sample), and a (K) float64 tensor of per-class AUCs (nan where undefined);
-- nil and a message when no class is defined.
function R.auc(scores, target)
  if scores:dim() == 1 or (scores:dim() == 2 and scores:size(2) == 1) then
    local fpr, tpr = R.roc(scores, target)
    if not fpr then return nil, (tpr:gsub('^roc', 'auc')) end
    return R.trapezoid(fpr, tpr)
  end
  if scores:dim() ~= 2 or scores:size(1) ~= target:nElement() then
    error(('auc: expected (N) or (N, K) scores and N targets, got %s scores and %d targets')
          :format(table.concat(scores:sizeTable(), 'x'), target:nElement()), 2)
  end
  local K = scores:size(2)
  local t = target:reshape(target:nElement()):long()
  if t:min() < 1 or t:max() > K then
    error(('auc: labels must be in 1..%d, got %d..%d'):format(K, t:min(), t:max()), 2)
  end
  local per = torch.full({ K }, 0 / 0, 'float64')
  local sum, defined = 0, 0
  for c = 1, K do                                     -- one binary problem per class
    local fpr, tpr = R.roc(scores:select(2, c), t:eq(c))
    if fpr then
      per[c] = R.trapezoid(fpr, tpr)
      sum, defined = sum + per[c], defined + 1
    end
  end
  if defined == 0 then return nil, 'auc: undefined, no class has both positives and negatives' end
  return sum / defined, per
end

return R
