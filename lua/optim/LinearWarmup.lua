-- optim.LinearWarmup(config, {warmup_steps =, start_factor = 1/3, after = schedule}):
-- a linear ramp from start_factor * lr to lr over warmup_steps steps,
--   lr_t = lr (start_factor + (1 - start_factor) t / warmup_steps),  t < warmup_steps,
-- then lr, or the schedule `after` (built on the same config before this one), which
-- begins its own step 0 at t = warmup_steps and gets each later step(metric).
-- lr is config.learningRate when this is built (after's base rate). See optim.Schedule.
local Schedule = require 'optim.Schedule'

local LinearWarmup = Schedule.class('optim.LinearWarmup')

function LinearWarmup:__init(config, opts)
  opts = self:init(config, opts)
  self.warmup_steps = self:number(opts, 'warmup_steps', nil, 1, true)
  self.start_factor = self:number(opts, 'start_factor', 1 / 3, 0)
  if self.start_factor > 1 then
    self:fail('opts.start_factor must be at most 1, got %g', self.start_factor)
  end
  local after = opts.after
  if after ~= nil then
    if type(after) ~= 'table' or type(after.step) ~= 'function' then
      self:fail('opts.after must be a schedule, got %s', type(after))
    end
    if after.config ~= config then self:fail('opts.after must schedule the same config table') end
    self.baseLR = after:get()
  end
  self.after = after
  self:set(self:rate(0))
end

function LinearWarmup:rate(t)
  local f = self.start_factor + (1 - self.start_factor) * t / self.warmup_steps
  return self.baseLR * f
end

-- Advances one step: the ramp, then the schedule after it (given the metric).
function LinearWarmup:step(metric)
  self.t = self.t + 1
  if self.t < self.warmup_steps then return self:set(self:rate(self.t)) end
  if not self.after then return self:set(self.baseLR) end
  if self.t == self.warmup_steps then return self:set(self.after:get()) end
  return self:set(self.after:step(metric))
end

function LinearWarmup:state()
  local s = Schedule.state(self)
  s.after = self.after and self.after:state() or nil
  return s
end

function LinearWarmup:load(s)
  if self.after and type(s) == 'table' and s.after then self.after:load(s.after) end
  return Schedule.load(self, s)
end

return LinearWarmup
