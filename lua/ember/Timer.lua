-- torch.Timer, as in Torch7: timer:time() returns {real = seconds, user = ..., sys = ...}
-- since creation or the last reset, not counting stopped periods. `real` is wall time
-- from a monotonic clock; `user` is process CPU time (os.clock); `sys` is reported as 0.
local Timer = {}
Timer.__index = Timer
Timer.__typename = 'torch.Timer'

local function now(clock) return clock(), os.clock() end

-- Returns a running timer; `clock` is the engine's monotonic wall clock (torch.clock).
function Timer.new(clock)
  local t = setmetatable({ clock = clock, real = 0, user = 0, running = true }, Timer)
  t.real0, t.user0 = now(clock)
  return t
end

function Timer:reset()
  self.real, self.user = 0, 0
  self.real0, self.user0 = now(self.clock)
  return self
end

function Timer:stop()
  if self.running then
    local r, u = now(self.clock)
    self.real = self.real + (r - self.real0)
    self.user = self.user + (u - self.user0)
    self.running = false
  end
  return self
end

function Timer:resume()
  if not self.running then
    self.real0, self.user0 = now(self.clock)
    self.running = true
  end
  return self
end

function Timer:time()
  local real, user = self.real, self.user
  if self.running then
    local r, u = now(self.clock)
    real, user = real + (r - self.real0), user + (u - self.user0)
  end
  return { real = real, user = user, sys = 0 }
end

return Timer
