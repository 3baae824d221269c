-- ConfusionMatrix: confusion counts accumulated over batches (as Torch7's
-- optim.ConfusionMatrix), with the metrics of ember.metrics and a readable table.
--
--   local cm = metrics.ConfusionMatrix({'cat', 'dog', 'bird'})   -- or a class count
--   for ... do cm:add(output, target) end                       -- scores or labels
--   print(cm)   cm:accuracy()   cm:report().macro.f1   cm:zero()
local torch = require 'torch'

local ConfusionMatrix = {}
ConfusionMatrix.__index = ConfusionMatrix

-- ConfusionMatrix(K or names): K classes, named '1'..'K' or by the list of names.
setmetatable(ConfusionMatrix, { __call = function(cls, classes)
  local names = {}
  if type(classes) == 'table' then
    for i, name in ipairs(classes) do names[i] = tostring(name) end
  elseif math.type(classes) == 'integer' and classes > 0 then
    for i = 1, classes do names[i] = tostring(i) end
  end
  if #names == 0 then
    error('ConfusionMatrix: expected a number of classes or a list of class names', 2)
  end
  local self = setmetatable({ names = names, nclasses = #names }, cls)
  self.mat = torch.zeros(#names, #names, 'float64')   -- [true][predicted]
  return self
end })

local function metrics() return require 'ember.metrics' end

-- Adds a batch: output (N, K) scores or (N) labels, target (N) labels 1..K.
function ConfusionMatrix:add(output, target)
  self.mat:add(metrics().confusion(output, target, self.nclasses))
  return self
end
ConfusionMatrix.batchAdd = ConfusionMatrix.add   -- Torch7's name

function ConfusionMatrix:zero()
  self.mat:zero()
  return self
end

function ConfusionMatrix:total() return self.mat:sum() end

-- Fraction of samples on the diagonal (0 before any sample).
function ConfusionMatrix:accuracy()
  local n = self.mat:sum()
  return n > 0 and metrics().diag(self.mat):sum() / n or 0
end

-- Per-class precision, recall, f1, support and their averages (metrics.fromConfusion).
function ConfusionMatrix:report() return metrics().fromConfusion(self.mat) end

-- The table: rows are true classes, columns predicted ones, right-aligned to the
-- widest name or count; opts.totals (default true) adds a total column and row.
-- The last line gives the accuracy.
--   true \ predicted  cat  dog  bird  total
--   cat                 2    0     0      2
function ConfusionMatrix:tostring(opts)
  opts = opts or {}
  local totals = opts.totals ~= false
  local K, counts = self.nclasses, self.mat:totable()
  local colTotals, rowTotals = self.mat:sum(1):view(-1):totable(), self.mat:sum(2):view(-1):totable()
  local corner = 'true \\ predicted'
  local labelWidth = math.max(#corner, totals and 5 or 0)
  local width = math.max(totals and 5 or 0, #string.format('%d', self.mat:sum()))
  for _, name in ipairs(self.names) do
    labelWidth, width = math.max(labelWidth, #name), math.max(width, #name)
  end
  local cell = '  %' .. width .. 's'
  local function line(label, values, total)
    local parts = { ('%-' .. labelWidth .. 's'):format(label) }
    for j = 1, K do parts[#parts + 1] = cell:format(('%d'):format(values[j])) end
    if totals then parts[#parts + 1] = cell:format(('%d'):format(total)) end
    return table.concat(parts)
  end
  local header = { ('%-' .. labelWidth .. 's'):format(corner) }
  for j = 1, K do header[#header + 1] = cell:format(self.names[j]) end
  if totals then header[#header + 1] = cell:format('total') end
  local lines = { table.concat(header) }
  for i = 1, K do lines[#lines + 1] = line(self.names[i], counts[i], rowTotals[i]) end
  if totals then lines[#lines + 1] = line('total', colTotals, self.mat:sum()) end
  local n = self.mat:sum()
  lines[#lines + 1] = ('accuracy %.2f%% (%d of %d)'):format(100 * self:accuracy(), metrics().diag(self.mat):sum(), n)
  return table.concat(lines, '\n')
end

ConfusionMatrix.__tostring = function(self) return self:tostring() end

return ConfusionMatrix
