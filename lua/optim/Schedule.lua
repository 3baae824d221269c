-- optim.Schedule: the base of the learning-rate schedules. A schedule drives one optim
-- config table: constructing it records config.learningRate as the base rate, and each
-- sched:step([metric]) (once per epoch, or per iteration) advances its counter t and
-- writes the new rate into config.learningRate. sched:get() is the current rate;
-- sched:state() is a plain table (numbers and nested tables) to save in a checkpoint and
-- sched:load(state) restores it, config.learningRate included.
local Schedule = {}
Schedule.__index = Schedule
Schedule.__typename = 'optim.Schedule'
Schedule.stateKeys = { 't', 'lr', 'baseLR' }

-- Declares the schedule class `name` ('optim.StepLR'); calling it runs __init.
function Schedule.class(name, ...)
  local cls = { __typename = name, __tostring = Schedule.__tostring }
  cls.__index = cls
  cls.stateKeys = { 't', 'lr', 'baseLR', ... }
  return setmetatable(cls, {
    __index = Schedule,
    __call = function(c, ...)
      local obj = setmetatable({}, c)
      obj:__init(...)
      return obj
    end,
  })
end

-- Raises "optim.StepLR: opts.gamma must be ...".
function Schedule:fail(fmt, ...)
  error(('%s: ' .. fmt):format(self.__typename, ...), 0)
end

-- opts[key] (or default) checked to be a number >= min (and an integer when asked)
function Schedule:number(opts, key, default, min, integer)
  local v = opts[key]
  if v == nil then v = default end
  local whole = type(v) == 'number' and v == math.floor(v)
  if type(v) ~= 'number' or v < min or (integer and not whole) then
    self:fail('opts.%s must be %s >= %g, got %s', key, integer and 'an integer' or 'a number', min,
              tostring(v))
  end
  return v
end

-- Common construction: checks config and takes its learningRate as the base rate.
function Schedule:init(config, opts)
  if type(config) ~= 'table' then
    self:fail('expected an optim config table, got %s', type(config))
  end
  if opts ~= nil and type(opts) ~= 'table' then
    self:fail('opts must be a table, got %s', type(opts))
  end
  local lr = config.learningRate
  if type(lr) ~= 'number' or lr < 0 then
    self:fail('config.learningRate must be a non-negative number, got %s', tostring(lr))
  end
  self.config, self.baseLR, self.t = config, lr, 0
  return opts or {}
end

-- Sets the rate (and config.learningRate).
function Schedule:set(lr)
  self.lr = lr
  self.config.learningRate = lr
  return lr
end

-- Advances one step; returns the new rate. Closed-form schedules define rate(t).
function Schedule:step()
  self.t = self.t + 1
  return self:set(self:rate(self.t))
end

function Schedule:get() return self.lr end

-- A plain table of what changes (the class's stateKeys).
function Schedule:state()
  local s = {}
  for _, k in ipairs(self.stateKeys) do s[k] = self[k] end
  return s
end

-- Restores a state() table; config.learningRate becomes the saved rate.
function Schedule:load(s)
  if type(s) ~= 'table' then self:fail('load expects a state() table, got %s', type(s)) end
  for _, k in ipairs(self.stateKeys) do
    if s[k] ~= nil then self[k] = s[k] end
  end
  self:set(self.lr)
  return self
end

-- optim.StepLR(lr 0.05, step 7)
function Schedule:__tostring()
  return ('%s(lr %g, step %d)'):format(self.__typename, self.lr, self.t)
end

return Schedule
