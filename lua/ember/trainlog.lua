-- The records a Trainer keeps of each epoch: a CSV file with one row per epoch
-- (written and flushed as each epoch ends, so a crash keeps what was done) and the
-- loss / metric curves as an SVG chart (ember.plot).
local plot = require 'ember.plot'

local trainlog = {}

local Csv = {}
Csv.__index = Csv

-- Opens path for writing (truncating it) and writes the header line of `columns`.
-- Returns the log, or raises an error naming the file.
function trainlog.csv(path, columns)
  local f, err = io.open(path, 'w')
  if not f then error(('Trainer: cannot write the log %s: %s'):format(path, err), 0) end
  f:write(table.concat(columns, ','), '\n')
  f:flush()
  return setmetatable({ file = f, columns = columns }, Csv)
end

-- One row from a record {column = value}: integers as is, other numbers with %.6g,
-- missing values empty.
function Csv:write(record)
  local cells = {}
  for i, c in ipairs(self.columns) do
    local v = record[c]
    if math.type(v) == 'integer' then cells[i] = tostring(v)
    elseif type(v) == 'number' then cells[i] = ('%.6g'):format(v)
    elseif v == nil then cells[i] = ''
    else cells[i] = tostring(v) end
  end
  self.file:write(table.concat(cells, ','), '\n')
  self.file:flush()
end

function Csv:close()
  if self.file then self.file:close() end
  self.file = nil
end

-- The column of `name` over the records (nan where missing, so the chart has a gap).
local function column(records, name)
  local v, any = {}, false
  for i, r in ipairs(records) do
    v[i] = type(r[name]) == 'number' and r[name] or 0 / 0
    any = any or type(r[name]) == 'number'
  end
  return any and v or nil
end

-- Writes the chart of a history (a list of epoch records) to path: a Loss panel
-- (train_loss, val_loss) and, when there are any, a Metrics panel with the metric
-- columns named in `metricColumns`. Returns true, or nil and a message.
function trainlog.plot(path, records, metricColumns, title)
  local epochs = {}
  for i, r in ipairs(records) do epochs[i] = r.epoch end
  local loss = { title = (title and title .. ': ' or '') .. 'Loss', xlabel = 'epoch', ylabel = 'loss', series = {} }
  for _, c in ipairs { { 'train_loss', 'train' }, { 'val_loss', 'validation' } } do
    local y = column(records, c[1])
    if y then loss.series[#loss.series + 1] = { name = c[2], x = epochs, y = y } end
  end
  local panels = { loss }
  local metrics = { title = (title and title .. ': ' or '') .. 'Validation metrics', xlabel = 'epoch', ylabel = 'value', series = {} }
  for _, name in ipairs(metricColumns or {}) do
    local y = column(records, name)
    if y then metrics.series[#metrics.series + 1] = { name = name:gsub('_', ' '), x = epochs, y = y } end
  end
  if #metrics.series > 0 then panels[2] = metrics end
  return plot.write(path, panels)
end

return trainlog
