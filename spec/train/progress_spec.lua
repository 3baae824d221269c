-- ember.progress: plain lines off a terminal, one updated line on it.
local progress = require 'ember.progress'
local H = require 'helpers'

-- A bar writing into a list, on a clock the test sets.
local function fake(opts)
  local out, clock = {}, { now = 0 }
  opts.write = function(s) out[#out + 1] = s end
  opts.clock = function() return clock.now end
  return progress.new(opts), out, clock
end

describe('progress (not a terminal)', function()
  it('writes a plain line every `every` percent and one at the end', function()
    local bar, out, clock = fake { total = 4, label = 'epoch 1/3', tty = false, every = 50 }
    for i = 1, 4 do
      clock.now = i
      bar:update(i, { loss = 1 / i }, 10)
    end
    bar:finish { loss = 0.25 }
    assert.are.same({
      'epoch 1/3  2/4 (50%)  10.0 samples/s  ETA 0:02  loss 0.5000\n',
      'epoch 1/3  4/4 (100%)  10.0 samples/s  0:04  loss 0.2500\n',
    }, out)
  end)
  it('writes no control characters', function()
    local bar, out, clock = fake { total = 10, tty = false }
    for i = 1, 10 do
      clock.now = i / 10
      bar:update(i, { loss = 1, acc = 0.5 }, 4)
    end
    bar:finish()
    assert.are.equal(4, #out)                               -- 30%, 50%, 80%, end
    local all = table.concat(out)
    assert.is_nil((all:gsub('\n', '')):find('%c'))
    assert.are.equal(' 3/10 (30%)  40.0 samples/s  ETA 0:01  acc 0.5000  loss 1.0000\n', out[1])
  end)
  it('with every = 100, writes only the end of each loop', function()
    local bar, out = fake { total = 3, tty = false, every = 100 }
    for i = 1, 3 do bar:update(i) end
    bar:finish()
    assert.are.same({ '3/3 (100%)  0:00\n' }, out)
  end)
end)

describe('progress (terminal)', function()
  it('rewrites one line with \\r and ends it with a newline', function()
    local bar, out, clock = fake { total = 4, label = 'epoch 2/3', tty = true, width = 8 }
    for i = 1, 4 do
      clock.now = i * 2
      bar:update(i, { loss = 0.5 }, 8)
    end
    bar:finish { loss = 0.5 }
    assert.are.equal(5, #out)
    for _, s in ipairs(out) do assert.are.equal('\r', s:sub(1, 1)) end
    assert.are.equal('\r[=>      ] epoch 2/3  1/4  4.0 samples/s  ETA 0:06  loss 0.5000', out[1])
    assert.are.equal('\r[========] epoch 2/3  4/4  4.0 samples/s  0:08  loss 0.5000    \n', out[5])
    assert.is_nil(table.concat(out, '', 1, 4):find('\n'))
  end)
  it('blanks out the rest of a longer previous line', function()
    local bar, out = fake { total = 2, tty = true, width = 4 }
    bar:update(1, { loss = 0.5, accuracy = 0.25 })
    bar:update(2, { loss = 0.5 })
    assert.are.equal(#out[1], #out[2])
  end)
  it('formats durations', function()
    assert.are.equal('1:15', progress.duration(75))
    assert.are.equal('1:02:05', progress.duration(3725))
  end)
  it('checks total', function()
    H.raises('total must be a non-negative integer', progress.new, { total = 1.5 })
    H.raises('every must be a positive number of percent', progress.new, { total = 1, every = 0 })
  end)
end)
