-- Printing: exact strings in Torch7's format (torch7 Tensor.lua) for vectors, matrices,
-- 3-D and 4-D tensors, integer and floating values, scale factors, exponent format,
-- column blocks, bool, half and empty tensors; summaries of large tensors; options.
local torch = require 'torch'
local H = require 'helpers'

local function lines(s)
  local out = {}
  for l in (s .. ''):gmatch('([^\n]*)\n') do out[#out + 1] = l end
  return out
end

describe('printing in Torch7 format', function()
  it('prints integer values without decimals, right-aligned', function()
    assert.are.equal(' 1  2  3\n 4  5  6\n[torch.FloatTensor of size 2x3]\n',
                     tostring(torch.Tensor { { 1, 2, 3 }, { 4, 5, 6 } }))
    assert.are.equal('   1  -20\n 300    4\n[torch.LongTensor of size 2x2]\n',
                     tostring(torch.LongTensor { { 1, -20 }, { 300, 4 } }))
    assert.are.equal('-128\n 127\n[torch.CharTensor of size 2]\n', tostring(torch.CharTensor { -128, 127 }))
    assert.are.equal(' 0\n 0\n[torch.DoubleTensor of size 2]\n', tostring(torch.zeros(2, 'float64')))
  end)

  it('prints fractions with four decimals', function()
    assert.are.equal(' 1.5000\n-2.2500\n 3.0000\n[torch.FloatTensor of size 3]\n',
                     tostring(torch.Tensor { 1.5, -2.25, 3 }))
    assert.are.equal(' 0.5000\n 0.2500\n[torch.HalfTensor of size 2]\n',
                     tostring(torch.Tensor { 0.5, 0.25 }:half()))
    assert.are.equal(' 12.5000\n[torch.DoubleTensor of size 1]\n', tostring(torch.DoubleTensor { 12.5 }))
  end)

  it('factors out a common scale for small and large values', function()
    assert.are.equal('0.001 *\n 1.0000\n 2.5000\n[torch.DoubleTensor of size 2]\n',
                     tostring(torch.DoubleTensor { 0.001, 0.0025 }))
    assert.are.equal('100000 *\n  1.2346  2.3457\n[torch.DoubleTensor of size 1x2]\n',
                     tostring(torch.DoubleTensor { { 123456.5, 234567.25 } }))
    assert.are.equal('0.001 *\n  1.0000  2.5000\n  3.0000  4.0000\n[torch.DoubleTensor of size 2x2]\n',
                     tostring(torch.DoubleTensor { { 0.001, 0.0025 }, { 0.003, 0.004 } }))
    assert.are.equal('(1,.,.) = \n 0.001 *\n   1.0000  2.0000\n[torch.FloatTensor of size 1x1x2]\n',
                     tostring(torch.Tensor { { { 0.001, 0.002 } } }))
  end)

  it('switches to exponent format across many decades', function()
    assert.are.equal(' 1.0000e-05\n 1.0000e+00\n 1.0000e+05\n[torch.DoubleTensor of size 3]\n',
                     tostring(torch.DoubleTensor { 1e-5, 1, 1e5 }))
    assert.are.equal(' 1.0000e+10\n[torch.LongTensor of size 1]\n', tostring(torch.LongTensor { 10000000000 }))
  end)

  it('prints 3-D and 4-D tensors as (i,.,.) matrices', function()
    assert.are.equal('(1,.,.) = \n  1  2\n  3  4\n\n(2,.,.) = \n  5  6\n  7  8\n' ..
                     '[torch.FloatTensor of size 2x2x2]\n', tostring(torch.range(1, 8):view(2, 2, 2)))
    assert.are.equal('(1,1,.,.) = \n  0  0\n\n(2,1,.,.) = \n  0  0\n[torch.FloatTensor of size 2x1x1x2]\n',
                     tostring(torch.zeros(2, 1, 1, 2)))
  end)

  it('splits matrices wider than 80 columns into column blocks', function()
    local row1, row2 = {}, {}
    for i = 1, 20 do row1[i] = ('%3d'):format(i) end
    for i = 21, 30 do row2[#row2 + 1] = ('%3d'):format(i) end
    assert.are.equal('Columns 1 to 20\n' .. table.concat(row1, ' ') .. '\n\nColumns 21 to 30\n' ..
                     table.concat(row2, ' ') .. '\n[torch.FloatTensor of size 1x30]\n',
                     tostring(torch.range(1, 30):view(1, 30)))
  end)

  it('prints views in logical order, bool as true/false, empty tensors', function()
    assert.are.equal(' 1  3\n 2  4\n[torch.FloatTensor of size 2x2]\n',
                     tostring(torch.Tensor { { 1, 2 }, { 3, 4 } }:t()))
    assert.are.equal(' true\nfalse\n[torch.BoolTensor of size 2]\n', tostring(torch.BoolTensor { true, false }))
    assert.are.equal('[torch.FloatTensor with no dimension]\n', tostring(torch.Tensor()))
    assert.are.equal('[torch.LongTensor with no dimension]\n', tostring(torch.LongTensor()))
  end)

  it('prints nan and inf in the column width', function()
    assert.are.equal('   1\n nan\n inf\n-inf\n[torch.FloatTensor of size 4]\n',
                     tostring(torch.Tensor { 1, 0 / 0, math.huge, -math.huge }))
    assert.are.equal(' 0.5000\n    nan\n[torch.FloatTensor of size 2]\n', tostring(torch.Tensor { 0.5, 0 / 0 }))
  end)

  it('is what print shows', function()
    local old, out = print, nil
    print = function(x) out = tostring(x) end   -- luacheck: ignore
    print(torch.ones(1))
    print = old                                 -- luacheck: ignore
    assert.are.equal(' 1\n[torch.FloatTensor of size 1]\n', out)
  end)
end)

describe('summaries of large tensors', function()
  it('shows the ends of a long vector', function()
    assert.are.equal('    1\n    2\n    3\n  ...\n 1998\n 1999\n 2000\n[torch.FloatTensor of size 2000]\n',
                     tostring(torch.range(1, 2000)))
  end)

  it('shows the corners of a big matrix quickly', function()
    local t0 = os.clock()
    local s = tostring(torch.range(1, 1e6):view(1000, 1000))
    assert.is_true(os.clock() - t0 < 1)
    local l = lines(s)
    assert.are.equal(8, #l)
    assert.are.equal('       1        2        3      ...      998      999     1000', l[1])
    assert.are.equal('     ...', l[4])
    assert.are.equal('  999001   999002   999003      ...   999998   999999  1000000', l[7])
    assert.are.equal('[torch.FloatTensor of size 1000x1000]', l[8])
  end)

  it('elides middle slices of a 3-D tensor', function()
    local s = tostring(torch.range(1, 4000):view(10, 20, 20))
    assert.is_truthy(s:find('(3,.,.) = ', 1, true))
    assert.is_falsy(s:find('(4,.,.) = ', 1, true))
    assert.is_truthy(s:find('\n\n...\n\n(8,.,.) = ', 1, true))
    assert.is_truthy(s:find('  3981  3982  3983   ...  3998  3999  4000\n[torch.FloatTensor of size 10x20x20]\n', 1, true))
  end)

  it('follows setprintoptions and checks it', function()
    torch.setprintoptions { linewidth = 20, threshold = 4, edgeitems = 1 }
    local ok, s = pcall(tostring, torch.range(1, 6):view(1, 6))
    local ok2, s2 = pcall(tostring, torch.range(1, 3))
    torch.setprintoptions { linewidth = 80, threshold = 1000, edgeitems = 3 }
    assert.is_true(ok and ok2)
    assert.are.equal(' 1 ...  6\n[torch.FloatTensor of size 1x6]\n', s)
    assert.are.equal(' 1\n 2\n 3\n[torch.FloatTensor of size 3]\n', s2)
    H.raises({ 'setprintoptions', "unknown option 'width'" }, torch.setprintoptions, { width = 3 })
    H.raises({ 'setprintoptions', 'linewidth', 'positive integer' }, torch.setprintoptions, { linewidth = 0 })
  end)
end)
