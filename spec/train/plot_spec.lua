-- ember.plot: the SVG is well-formed, holds what was asked and maps values to the
-- right coordinates.
local torch = require 'torch'
local plot = require 'ember.plot'
local H = require 'helpers'

-- Tags in order, checked for balance: returns the list of opening tag names, or an error.
local function parse(svg)
  local stack, seen = {}, {}
  for slash, name, rest in svg:gmatch('<(/?)([%w%-]+)([^>]*)>') do
    if slash == '/' then
      assert(stack[#stack] == name, ('unbalanced </%s>, open: %s'):format(name, tostring(stack[#stack])))
      stack[#stack] = nil
    else
      seen[#seen + 1] = name
      if rest:sub(-1) ~= '/' then stack[#stack + 1] = name end
    end
  end
  assert(#stack == 0, 'unclosed <' .. tostring(stack[#stack]) .. '>')
  return seen
end

local function count(s, pattern)
  local n = 0
  for _ in s:gmatch(pattern) do n = n + 1 end
  return n
end

describe('plot.ticks', function()
  it('picks steps of 1, 2 or 5 times a power of ten and rounds the range out', function()
    local lo, hi, step, ticks = plot.ticks(0.37, 0.94)
    H.near({ lo, hi, step }, { 0.2, 1.0, 0.2 }, 1e-12)
    assert.are.equal(5, #ticks)
    lo, hi, step = plot.ticks(1, 5)
    assert.are.same({ 1, 5, 1 }, { lo, hi, step })
    lo, hi, step = plot.ticks(0, 230)
    assert.are.same({ 0, 250, 50 }, { lo, hi, step })
  end)
  it('widens a constant range', function()
    local lo, hi = plot.ticks(2, 2)
    assert.is_true(lo < 2 and hi > 2)
  end)
  it('labels ticks with the decimals the step needs', function()
    assert.are.equal('0.40', plot.tickLabel(0.4, 0.05))
    assert.are.equal('0.4', plot.tickLabel(0.4000000001, 0.2))
    assert.are.equal('150', plot.tickLabel(150, 50))
    assert.are.equal('0.0', plot.tickLabel(-1e-17, 0.1))
  end)
end)

describe('plot.render', function()
  local panels = {
    { title = 'Loss & co', xlabel = 'epoch', ylabel = 'loss',
      series = { { name = 'train', y = { 0, 0.25, 0.5, 0.75, 1 } },
                 { name = 'validation', x = { 1, 2, 3 }, y = torch.DoubleTensor { 1, 0.5, 0.25 } } } },
    { title = 'Accuracy', xlabel = 'epoch', ylabel = 'accuracy',
      series = { { name = 'val <acc>', y = { 0.5, 0.9 } } } },
  }
  local svg = plot.render(panels)

  it('is well-formed, with a panel per chart and a polyline per series', function()
    local tags = parse(svg)
    assert.are.equal('svg', tags[1])
    assert.are.equal(2, count(svg, '<g class="panel">'))
    assert.are.equal(3, count(svg, 'class="series"'))
    assert.are.equal(2, count(svg, '<rect class="legend"'))
    assert.truthy(svg:find('width="960" height="360"', 1, true))
  end)
  it('has titles, axis labels and legend entries, escaped', function()
    for _, text in ipairs { '>Loss &amp; co</text>', '>Accuracy</text>', 'class="xlabel"[^>]*>epoch<',
                            'class="ylabel"[^>]*>loss<', '>train</text>', '>validation</text>',
                            '>val &lt;acc&gt;</text>' } do
      assert.truthy(svg:find(text), text)
    end
    assert.are.equal(2, count(svg, 'class="xlabel"'))
  end)
  it('maps values to coordinates', function()
    -- panel 1: x 1..5 -> 64..464 (480 - 64 - 16 wide), y 0..1 -> 312..36 (360 - 36 - 48 high)
    local first = svg:match('<polyline class="series"[^>]*points="([^"]*)"')
    assert.are.equal('64.00,312.00 164.00,243.00 264.00,174.00 364.00,105.00 464.00,36.00', first)
    -- y ticks at 0, 0.2, ..., 1 with their labels; x ticks 1..5
    assert.truthy(svg:find('y="205.60" text-anchor="end">0.4</text>', 1, true))
    assert.truthy(svg:find('x="264.00" y="330.00" text-anchor="middle">3</text>', 1, true))
    -- panel 2 starts at x = 480: its x range 1..2 (ticks 1.0, 1.2, ... 2.0)
    assert.truthy(svg:find('points="544.00,', 1, true))
  end)
  it('breaks a line at nan', function()
    local s = plot.render { series = { { name = 'a', y = { 1, 2, 0 / 0, 3, 4 } } } }
    parse(s)
    assert.are.equal(2, count(s, 'class="series"'))
    assert.are.equal(4, count(s, '<circle'))
  end)
  it('writes a file', function()
    local path = os.tmpname()
    assert.is_true(plot.write(path, panels))
    local f = io.open(path)
    assert.are.equal(svg, f:read('a'))
    f:close()
    os.remove(path)
    local ok, err = plot.write('/nonexistent-dir/x.svg', panels)
    assert.is_nil(ok)
    assert.truthy(err:find('nonexistent'))
  end)
end)
