-- optim.ReduceLROnPlateau(config, opts): multiplies the rate by `factor` when the metric
-- passed to step(metric) has not improved for more than `patience` steps (PyTorch's
-- ReduceLROnPlateau). opts:
--   mode = 'min'        'min' (lower is better, a loss) or 'max' (an accuracy)
--   factor = 0.1        new lr = max(lr * factor, min_lr); factor < 1
--   patience = 10       steps without improvement tolerated before a reduction
--   threshold = 1e-4    the least improvement that counts, relative to best
--   threshold_mode = 'rel'  'rel': better than best * (1 -+ threshold); 'abs': best -+ threshold
--   cooldown = 0        steps after a reduction during which bad steps are not counted
--   min_lr = 0          the floor of the rate
--   eps = 1e-8          reductions smaller than eps are skipped
-- See optim.Schedule for get/state/load.
local Schedule = require 'optim.Schedule'

local ReduceLROnPlateau = Schedule.class('optim.ReduceLROnPlateau', 'best', 'numBadSteps',
                                         'cooldownCounter')

local function oneOf(self, opts, key, default, a, b)
  local v = opts[key] or default
  if v ~= a and v ~= b then
    self:fail("opts.%s must be '%s' or '%s', got %s", key, a, b, tostring(v))
  end
  return v
end

function ReduceLROnPlateau:__init(config, opts)
  opts = self:init(config, opts)
  self.mode = oneOf(self, opts, 'mode', 'min', 'min', 'max')
  self.threshold_mode = oneOf(self, opts, 'threshold_mode', 'rel', 'rel', 'abs')
  self.factor = self:number(opts, 'factor', 0.1, 0)
  if self.factor >= 1 then self:fail('opts.factor must be below 1, got %g', self.factor) end
  self.patience = self:number(opts, 'patience', 10, 0, true)
  self.threshold = self:number(opts, 'threshold', 1e-4, 0)
  self.cooldown = self:number(opts, 'cooldown', 0, 0, true)
  self.min_lr = self:number(opts, 'min_lr', 0, 0)
  self.eps = self:number(opts, 'eps', 1e-8, 0)
  self.best = self.mode == 'min' and math.huge or -math.huge
  self.numBadSteps, self.cooldownCounter = 0, 0
  self:set(self.baseLR)
end

function ReduceLROnPlateau:isBetter(a)
  local best, th = self.best, self.threshold
  if self.mode == 'min' then
    return a < (self.threshold_mode == 'rel' and best * (1 - th) or best - th)
  end
  return a > (self.threshold_mode == 'rel' and best * (1 + th) or best + th)
end

-- Records one step's metric (a number); returns the rate.
function ReduceLROnPlateau:step(metric)
  if type(metric) ~= 'number' or metric ~= metric then
    self:fail('step needs the metric (a number), got %s', tostring(metric))
  end
  self.t = self.t + 1
  if self:isBetter(metric) then
    self.best, self.numBadSteps = metric, 0
  else
    self.numBadSteps = self.numBadSteps + 1
  end
  if self.cooldownCounter > 0 then   -- bad steps do not count while cooling down
    self.cooldownCounter = self.cooldownCounter - 1
    self.numBadSteps = 0
  end
  if self.numBadSteps > self.patience then
    local new = math.max(self.lr * self.factor, self.min_lr)
    if self.lr - new > self.eps then self:set(new) end
    self.cooldownCounter, self.numBadSteps = self.cooldown, 0
  end
  return self.lr
end

return ReduceLROnPlateau
