-- optim.MultiStepLR(config, {milestones = {30, 80}, gamma = 0.1}): lr = base * gamma^k,
-- k = the number of milestones <= t (PyTorch's MultiStepLR). See optim.Schedule.
local Schedule = require 'optim.Schedule'

local MultiStepLR = Schedule.class('optim.MultiStepLR')

function MultiStepLR:__init(config, opts)
  opts = self:init(config, opts)
  local m = opts.milestones
  if type(m) ~= 'table' or #m == 0 then
    self:fail('opts.milestones must be a list of steps, got %s', tostring(m))
  end
  self.milestones = {}
  for i, v in ipairs(m) do
    if math.type(v) ~= 'integer' or v < 1 or (i > 1 and v <= m[i - 1]) then
      self:fail('opts.milestones must be increasing positive integers, got %s at %d', tostring(v), i)
    end
    self.milestones[i] = v
  end
  self.gamma = self:number(opts, 'gamma', 0.1, 0)
  self:set(self:rate(0))
end

function MultiStepLR:rate(t)
  local k = 0
  for _, m in ipairs(self.milestones) do
    if m <= t then k = k + 1 end
  end
  return self.baseLR * self.gamma ^ k
end

return MultiStepLR
