-- optim.EarlyStopping{patience = 10, minDelta = 0, mode = 'min'}: decides when training
-- should stop. stopper:step(metric) records one epoch's validation metric and returns
-- true once `patience` epochs in a row have not improved on the best by more than
-- minDelta ('min': metric < best - minDelta; 'max': metric > best + minDelta).
-- Fields: best, bestEpoch, epoch, numBadEpochs, stopped. state() is a plain table for a
-- checkpoint, load(state) restores it.
local EarlyStopping = {}
EarlyStopping.__index = EarlyStopping
EarlyStopping.__typename = 'optim.EarlyStopping'

local stateKeys = { 'best', 'bestEpoch', 'epoch', 'numBadEpochs', 'stopped' }

local function fail(fmt, ...) error(('optim.EarlyStopping: ' .. fmt):format(...), 3) end

local function new(_, opts)
  opts = opts or {}
  if type(opts) ~= 'table' then fail('expected a table of options, got %s', type(opts)) end
  local self = setmetatable({}, EarlyStopping)
  self.patience = opts.patience or 10
  self.minDelta = opts.minDelta or 0
  self.mode = opts.mode or 'min'
  if math.type(self.patience) ~= 'integer' or self.patience < 0 then
    fail('patience must be a non-negative integer, got %s', tostring(self.patience))
  end
  if type(self.minDelta) ~= 'number' or self.minDelta < 0 then
    fail('minDelta must be a non-negative number, got %s', tostring(self.minDelta))
  end
  if self.mode ~= 'min' and self.mode ~= 'max' then
    fail("mode must be 'min' or 'max', got %s", tostring(self.mode))
  end
  self.best = self.mode == 'min' and math.huge or -math.huge
  self.bestEpoch, self.epoch, self.numBadEpochs, self.stopped = 0, 0, 0, false
  return self
end

-- Records the metric of the next epoch (a number); true when training should stop.
function EarlyStopping:step(metric)
  if type(metric) ~= 'number' or metric ~= metric then
    fail('step needs the metric (a number), got %s', tostring(metric))
  end
  self.epoch = self.epoch + 1
  local improved
  if self.mode == 'min' then improved = metric < self.best - self.minDelta
  else improved = metric > self.best + self.minDelta end
  if improved then
    self.best, self.bestEpoch, self.numBadEpochs = metric, self.epoch, 0
  else
    self.numBadEpochs = self.numBadEpochs + 1
  end
  self.stopped = not improved and self.numBadEpochs >= self.patience
  return self.stopped
end

function EarlyStopping:state()
  local s = {}
  for _, k in ipairs(stateKeys) do s[k] = self[k] end
  return s
end

function EarlyStopping:load(s)
  if type(s) ~= 'table' then fail('load expects a state() table, got %s', type(s)) end
  for _, k in ipairs(stateKeys) do
    if s[k] ~= nil then self[k] = s[k] end
  end
  return self
end

function EarlyStopping:__tostring()
  return ('optim.EarlyStopping(%s, best %g at epoch %d)'):format(self.mode, self.best, self.bestEpoch)
end

return setmetatable(EarlyStopping, { __call = new })
