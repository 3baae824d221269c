-- Progress of a loop over batches. On a terminal: one line rewritten in place ("\r")
-- with a bar, batches done/total, rate, ETA and the running values (loss, ...). Not on
-- a terminal (a log file, a pipe): a plain line every `every` percent and one at the
-- end, with no control characters.
--
--   local bar = progress.new{total = #loader, label = 'epoch 1/10'}
--   for i, x, y in loader:iter() do ...; bar:update(i, {loss = l}, x:size(1)) end
--   bar:finish{loss = l}
local torch = require 'torch'

local progress = {}
local Bar = {}
Bar.__index = Bar

-- Options: total (batches, required); label (text before the counts); tty (default:
-- whether stdout is a terminal); write (a function of a string; default writes to
-- stdout and flushes); clock (seconds, default torch.clock); width (bar characters,
-- default 30); every (percent between plain lines, default 25).
function progress.new(opts)
  if math.type(opts.total) ~= 'integer' or opts.total < 0 then
    error('progress.new: total must be a non-negative integer', 2)
  end
  if opts.every ~= nil and (type(opts.every) ~= 'number' or opts.every <= 0) then
    error('progress.new: every must be a positive number of percent', 2)
  end
  local tty = opts.tty
  if tty == nil then tty = torch.isatty(io.stdout) end
  local self = setmetatable({
    total = opts.total, label = opts.label, tty = tty,
    write = opts.write or function(s) io.stdout:write(s); io.stdout:flush() end,
    clock = opts.clock or torch.clock, width = opts.width or 30, every = opts.every or 25,
    done = 0, samples = 0, lastWidth = 0, nextPercent = opts.every or 25,
  }, Bar)
  self.start = self.clock()
  return self
end

-- 75 -> '1:15', 3725 -> '1:02:05'
function progress.duration(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return ('%d:%02d:%02d'):format(s // 3600, s % 3600 // 60, s % 60) end
  return ('%d:%02d'):format(s // 60, s % 60)
end

-- 'loss 0.1234  acc 0.9000' from {loss = 0.1234, acc = 0.9} (names sorted; numbers %.4f)
local function valuesText(values)
  if not values then return '' end
  local names = {}
  for k in pairs(values) do names[#names + 1] = k end
  table.sort(names)
  local parts = {}
  for _, k in ipairs(names) do
    local v = values[k]
    parts[#parts + 1] = k .. ' ' .. (type(v) == 'number' and ('%.4f'):format(v) or tostring(v))
  end
  return table.concat(parts, '  ')
end

-- The text after the bar: counts, rate, ETA (or elapsed time when done), values.
function Bar:status(values, final)
  local elapsed = self.clock() - self.start
  local parts = { self.label }
  local digits = #tostring(self.total)
  parts[#parts + 1] = ('%' .. digits .. 'd/%d'):format(self.done, self.total)
  if not self.tty then
    local pct = self.total > 0 and 100 * self.done // self.total or 100
    parts[#parts] = parts[#parts] .. (' (%d%%)'):format(pct)
  end
  if elapsed > 0 and self.samples > 0 then
    parts[#parts + 1] = ('%.1f samples/s'):format(self.samples / elapsed)
  end
  if final then
    parts[#parts + 1] = progress.duration(elapsed)
  elseif self.done > 0 then
    parts[#parts + 1] = 'ETA ' .. progress.duration(elapsed / self.done * (self.total - self.done))
  end
  local text = valuesText(values)
  if text ~= '' then parts[#parts + 1] = text end
  return table.concat(parts, '  ')
end

-- [==========>         ] for done of total
function Bar:bar()
  local filled = self.total > 0 and self.width * self.done // self.total or self.width
  local head = filled < self.width and '>' or ''
  local fill = filled - #head
  return '[' .. ('='):rep(math.max(fill, 0)) .. head .. (' '):rep(self.width - filled) .. ']'
end

local function draw(self, values, final)
  local line = self:bar() .. ' ' .. self:status(values, final)
  local pad = math.max(self.lastWidth - #line, 0)          -- blank out a longer old line
  self.lastWidth = #line
  self.write('\r' .. line .. (' '):rep(pad) .. (final and '\n' or ''))
end

-- Batch `done` of total has finished, with `n` more samples (default 0: no rate) and
-- the running values to show.
function Bar:update(done, values, n)
  self.done, self.samples = done, self.samples + (n or 0)
  if self.tty then return draw(self, values, false) end
  local pct = self.total > 0 and 100 * done / self.total or 100
  if pct >= self.nextPercent and pct < 100 then
    while self.nextPercent <= pct do self.nextPercent = self.nextPercent + self.every end
    self.write(self:status(values, false) .. '\n')
  end
end

-- The end of the loop: the final line (on a terminal, it stays on screen).
function Bar:finish(values)
  self.done = math.max(self.done, self.total)
  if self.tty then return draw(self, values, true) end
  self.write(self:status(values, true) .. '\n')
end

return progress
