-- Hostile and damaged .t7 input never crashes the loader: spec/io/fuzz_t7.lua runs
-- ~140k mutated files (truncations, edge bytes, huge counts, random corruption, hand-made
-- hostile files) in a child lua5.4, so a crash shows up as a failed exit status here.
local torch = require 'torch'
local H = require 'helpers'

local here = debug.getinfo(1, 'S').source:match('^@(.*/)')

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

describe('loading damaged files', function()
  it('raises "load: ..." errors or loads, and never crashes (child process)', function()
    local cmd = ('LUA_PATH=%s LUA_CPATH=%s lua5.4 %s %s 2>&1'):format(quote(package.path), quote(package.cpath),
                                                                      quote(here .. 'fuzz_t7.lua'), quote(here .. 'fixtures/t7/'))
    local p = assert(io.popen(cmd))
    local out = p:read('a')
    local ok, how, code = p:close()
    assert(ok and how == 'exit' and code == 0, ('fuzz child ended by %s %s:\n%s'):format(how, code, out))
    local cases, loaded, refused = out:match('fuzz: cases=(%d+) loaded=(%d+) refused=(%d+)')
    assert.is_truthy(cases, out)
    assert.is_true(tonumber(cases) > 100000)
    assert.is_true(tonumber(loaded) > 1000 and tonumber(refused) > 50000)
  end)

  it('checks counts against the bytes left before allocating', function()
    local s = string.pack('<i4i4', 4, 1) .. string.pack('<i4', 3) .. 'V 1' .. string.pack('<i4', 18)
              .. 'torch.FloatStorage' .. string.pack('<i8', 1 << 40)
    H.raises({ 'load: string', 'storage size 1099511627776 at byte 45 exceeds the 0 bytes left' }, torch.deserialize, s)
    H.raises({ 'load: string', 'unexpected end of data at byte 0' }, torch.deserialize, '')
    H.raises('string length -5', torch.deserialize, string.pack('<i4i4', 2, -5))
  end)

  it('checks views against their storage', function()
    local t = torch.range(1, 4)
    local s = torch.serialize(t)
    local bad = s:sub(1, 48) .. string.pack('<i8', 2) .. s:sub(57)   -- stride 2 over 4 elements
    H.raises({ 'load: string at byte 0', 'dimension 1 (size 4, stride 2) reaches past a storage of 4 elements' },
             torch.deserialize, bad)
    bad = s:sub(1, 56) .. string.pack('<i8', 2) .. s:sub(65)          -- storageOffset 2
    H.raises('reaches past a storage of 4 elements', torch.deserialize, bad)
    bad = s:sub(1, 36) .. string.pack('<i4', 9) .. s:sub(41)          -- 9 dimensions
    H.raises('has 9 dimensions (at most 8)', torch.deserialize, bad)
  end)

  it('refuses files nested too deep, on saving as on loading', function()
    local t = {}
    local c = t
    for _ = 1, 10001 do c[1] = {} c = c[1] end
    H.raises('save: objects nested deeper than 10000', torch.serialize, t)
  end)
end)
