-- optim.ExponentialLR(config, {gamma =}): lr = base * gamma^t (PyTorch's ExponentialLR).
-- See optim.Schedule for step/get/state/load.
local Schedule = require 'optim.Schedule'

local ExponentialLR = Schedule.class('optim.ExponentialLR')

function ExponentialLR:__init(config, opts)
  opts = self:init(config, opts)
  self.gamma = self:number(opts, 'gamma', nil, 0)
  self:set(self:rate(0))
end

function ExponentialLR:rate(t) return self.baseLR * self.gamma ^ t end

return ExponentialLR
