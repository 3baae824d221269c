-- optim.StepLR(config, {step_size =, gamma = 0.1}): lr = base * gamma^floor(t / step_size)
-- (PyTorch's StepLR). See optim.Schedule for step/get/state/load.
local Schedule = require 'optim.Schedule'

local StepLR = Schedule.class('optim.StepLR')

function StepLR:__init(config, opts)
  opts = self:init(config, opts)
  self.step_size = self:number(opts, 'step_size', nil, 1, true)
  self.gamma = self:number(opts, 'gamma', 0.1, 0)
  self:set(self:rate(0))
end

function StepLR:rate(t) return self.baseLR * self.gamma ^ (t // self.step_size) end

return StepLR
