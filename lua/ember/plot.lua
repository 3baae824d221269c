-- Line charts as SVG text, written by Ember itself (no plotting library): one or more
-- panels side by side, each with axes, ticks at "nice" numbers, axis labels, a title,
-- several series and a legend (in the corner that hides the fewest points). Values are
-- Lua lists or 1-D tensors; a nan value leaves a gap in its line.
--
--   plot.write('curves.svg', {
--     { title = 'Loss', xlabel = 'epoch', ylabel = 'loss',
--       series = { { name = 'train', x = {1, 2, 3}, y = {0.9, 0.5, 0.4} },
--                  { name = 'validation', y = {1.0, 0.7, 0.6} } } },   -- x defaults to 1..n
--     { title = 'Accuracy', ... },
--   })
local torch = require 'torch'

local plot = {}

plot.colors = { '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2' }
plot.panelWidth, plot.panelHeight = 480, 360
plot.margin = { left = 64, right = 16, top = 36, bottom = 48 }

local function list(v, n)
  if v == nil then
    local r = {}
    for i = 1, n do r[i] = i end
    return r
  end
  if torch.isTensor(v) then return v:double():reshape(v:nElement()):totable() end
  return v
end

local function finite(v) return type(v) == 'number' and v == v and v ~= math.huge and v ~= -math.huge end

local function escape(s)
  return (tostring(s):gsub('[&<>"]', { ['&'] = '&amp;', ['<'] = '&lt;', ['>'] = '&gt;', ['"'] = '&quot;' }))
end

-- Ticks for data in [lo, hi]: about `count` steps of 1, 2 or 5 times a power of ten.
-- Returns the axis range (lo, hi rounded out to ticks), the step and the tick values.
function plot.ticks(lo, hi, count)
  count = count or 5
  if hi - lo < 1e-12 * math.max(math.abs(lo), math.abs(hi), 1) then
    local pad = lo ~= 0 and math.abs(lo) * 0.1 or 1
    lo, hi = lo - pad, hi + pad
  end
  local raw = (hi - lo) / count
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local step = mag * 10
  for _, m in ipairs { 1, 2, 5 } do
    if raw <= m * mag * (1 + 1e-9) then step = m * mag break end
  end
  local first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
  local values = {}
  for k = first, last do values[#values + 1] = k * step end
  return first * step, last * step, step, values
end

-- A tick value as text with as many decimals as the step needs.
function plot.tickLabel(v, step)
  local decimals = math.max(0, -math.floor(math.log(step, 10) + 1e-9))
  local s = ('%.' .. decimals .. 'f'):format(v)
  return s == '-0' and '0' or (s:match('^%-0%.0*$') and s:sub(2) or s)
end

-- Data range of the panel's series along field ('x' or 'y').
local function range(panel, field)
  local lo, hi = math.huge, -math.huge
  for _, s in ipairs(panel.series) do
    for _, v in ipairs(s[field]) do
      if finite(v) then lo, hi = math.min(lo, v), math.max(hi, v) end
    end
  end
  if lo > hi then lo, hi = 0, 1 end
  return lo, hi
end

-- The SVG elements of one panel whose top left corner is at (ox, 0).
local function renderPanel(out, panel, ox)
  local m, W, H = plot.margin, plot.panelWidth, plot.panelHeight
  local left, top = ox + m.left, m.top
  local w, h = W - m.left - m.right, H - m.top - m.bottom
  local x0, x1, xstep, xticks = plot.ticks(range(panel, 'x'))
  local y0, y1, ystep, yticks = plot.ticks(range(panel, 'y'))
  local function px(x) return left + (x - x0) / (x1 - x0) * w end
  local function py(y) return top + h - (y - y0) / (y1 - y0) * h end
  local add = function(s, ...) out[#out + 1] = s:format(...) end
  add('<g class="panel">')
  for _, t in ipairs(yticks) do
    add('<line class="grid" x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f" stroke="#e0e0e0"/>', left, py(t), left + w, py(t))
    add('<line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f" stroke="#000"/>', left - 5, py(t), left, py(t))
    add('<text class="tick" x="%.2f" y="%.2f" text-anchor="end">%s</text>', left - 8, py(t) + 4, plot.tickLabel(t, ystep))
  end
  for _, t in ipairs(xticks) do
    add('<line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f" stroke="#000"/>', px(t), top + h, px(t), top + h + 5)
    add('<text class="tick" x="%.2f" y="%.2f" text-anchor="middle">%s</text>', px(t), top + h + 18, plot.tickLabel(t, xstep))
  end
  add('<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="none" stroke="#000"/>', left, top, w, h)
  if panel.title then add('<text class="title" x="%.2f" y="%.2f" text-anchor="middle" font-size="15">%s</text>', left + w / 2, top - 14, escape(panel.title)) end
  if panel.xlabel then add('<text class="xlabel" x="%.2f" y="%.2f" text-anchor="middle">%s</text>', left + w / 2, top + h + 38, escape(panel.xlabel)) end
  if panel.ylabel then
    add('<text class="ylabel" x="%.2f" y="%.2f" text-anchor="middle" transform="rotate(-90 %.2f %.2f)">%s</text>',
        ox + 16, top + h / 2, ox + 16, top + h / 2, escape(panel.ylabel))
  end
  for i, s in ipairs(panel.series) do
    local color = s.color or plot.colors[(i - 1) % #plot.colors + 1]
    local run = {}
    local function flush()
      if #run > 1 then add('<polyline class="series" fill="none" stroke="%s" stroke-width="2" points="%s"/>', color, table.concat(run, ' ')) end
      run = {}
    end
    for k = 1, #s.x do
      local x, y = s.x[k], s.y[k]
      if finite(x) and finite(y) then
        run[#run + 1] = ('%.2f,%.2f'):format(px(x), py(y))
        add('<circle cx="%.2f" cy="%.2f" r="2.5" fill="%s"/>', px(x), py(y), color)
      else
        flush()
      end
    end
    flush()
  end
  local lw, lh = 48, 8 + 18 * #panel.series                 -- legend: the emptiest corner
  for i, s in ipairs(panel.series) do lw = math.max(lw, 48 + 7 * #(s.name or ('series ' .. i))) end
  local lx, ly, fewest = left + w - lw - 8, top + 8, math.huge
  for _, c in ipairs { { left + w - lw - 8, top + 8 }, { left + w - lw - 8, top + h - lh - 8 },
                       { left + 8, top + 8 }, { left + 8, top + h - lh - 8 } } do
    local inside = 0                                        -- points and line samples under it
    local function hit(x, y)
      if x >= c[1] - 4 and x <= c[1] + lw + 4 and y >= c[2] - 4 and y <= c[2] + lh + 4 then inside = inside + 1 end
    end
    for _, s in ipairs(panel.series) do
      for k = 1, #s.x do
        local x, y, x2, y2 = s.x[k], s.y[k], s.x[k + 1], s.y[k + 1]
        if finite(x) and finite(y) then
          hit(px(x), py(y))
          if finite(x2) and finite(y2) then
            for f = 0.1, 0.95, 0.1 do hit(px(x + f * (x2 - x)), py(y + f * (y2 - y))) end
          end
        end
      end
    end
    if inside < fewest then lx, ly, fewest = c[1], c[2], inside end
  end
  add('<rect class="legend" x="%.2f" y="%.2f" width="%d" height="%d" fill="#fff" fill-opacity="0.85" stroke="#999"/>', lx, ly, lw, lh)
  for i, s in ipairs(panel.series) do
    local color = s.color or plot.colors[(i - 1) % #plot.colors + 1]
    local y = ly + 4 + 18 * i - 6
    add('<line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f" stroke="%s" stroke-width="2"/>', lx + 8, y, lx + 28, y, color)
    add('<text class="legend-label" x="%.2f" y="%.2f">%s</text>', lx + 34, y + 4, escape(s.name or ('series ' .. i)))
  end
  add('</g>')
end

-- The SVG document (a string) for a list of panels (or a single panel).
function plot.render(panels)
  if panels.series then panels = { panels } end
  local out = {}
  local W = plot.panelWidth * #panels
  out[1] = ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">')
           :format(W, plot.panelHeight, W, plot.panelHeight)
  out[2] = ('<rect width="%d" height="%d" fill="#fff"/>'):format(W, plot.panelHeight)
  for p, panel in ipairs(panels) do
    local norm = { title = panel.title, xlabel = panel.xlabel, ylabel = panel.ylabel, series = {} }
    for i, s in ipairs(panel.series or {}) do
      local y = list(s.y)
      norm.series[i] = { name = s.name, color = s.color, y = y, x = list(s.x, #y) }
    end
    renderPanel(out, norm, (p - 1) * plot.panelWidth)
  end
  out[#out + 1] = '</svg>\n'
  return table.concat(out, '\n')
end

-- Writes plot.render(panels) to path; returns true, or nil and a message.
function plot.write(path, panels)
  local f, err = io.open(path, 'w')
  if not f then return nil, err end
  local ok, werr = f:write(plot.render(panels))
  f:close()
  if not ok then return nil, werr end
  return true
end

return plot
