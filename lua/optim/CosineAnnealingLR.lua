-- optim.CosineAnnealingLR(config, {T_max = | T_0 =, T_mult = 1, eta_min = 0}): cosine
-- annealing from the base rate to eta_min,
--   lr = eta_min + (base - eta_min) (1 + cos(pi T_cur / T_i)) / 2.
-- With T_max (PyTorch's CosineAnnealingLR): T_cur = t, T_i = T_max (past T_max the
-- cosine rises again). With T_0 (SGDR, PyTorch's CosineAnnealingWarmRestarts): the rate
-- restarts at the base after T_0 steps, then after T_0 T_mult, T_0 T_mult^2, ...
-- See optim.Schedule for step/get/state/load.
local Schedule = require 'optim.Schedule'

local CosineAnnealingLR = Schedule.class('optim.CosineAnnealingLR')

function CosineAnnealingLR:__init(config, opts)
  opts = self:init(config, opts)
  if (opts.T_max == nil) == (opts.T_0 == nil) then
    self:fail('give opts.T_max (one cosine) or opts.T_0 (warm restarts), not %s',
              opts.T_max and 'both' or 'neither')
  end
  if opts.T_max then
    self.T_max = self:number(opts, 'T_max', nil, 1)
  else
    self.T_0 = self:number(opts, 'T_0', nil, 1, true)
    self.T_mult = self:number(opts, 'T_mult', 1, 1, true)
  end
  self.eta_min = self:number(opts, 'eta_min', 0, 0)
  self:set(self:rate(0))
end

-- The position in the current cycle and its length at step t.
function CosineAnnealingLR:cycle(t)
  if self.T_max then return t, self.T_max end
  local cur, len = t, self.T_0
  while cur >= len do   -- one pass per restart
    cur = cur - len
    len = len * self.T_mult
  end
  return cur, len
end

function CosineAnnealingLR:rate(t)
  local cur, len = self:cycle(t)
  return self.eta_min + (self.baseLR - self.eta_min) * (1 + math.cos(math.pi * cur / len)) / 2
end

return CosineAnnealingLR
