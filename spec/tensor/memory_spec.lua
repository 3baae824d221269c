-- The garbage collector sees tensor memory: loops that drop large tensors stay flat
-- without collectgarbage(). Measured in a separate lua5.4 process by its peak RSS.
local function run_lua(code)
  local script = os.tmpname()
  local f = assert(io.open(script, 'w'))
  f:write(code, "\nlocal s = io.open('/proc/self/status'):read('a')\n",
          "io.write(s:match('VmHWM:%s*(%d+)'))\n")
  f:close()
  local p = assert(io.popen('lua5.4 ' .. script .. ' 2>&1'))
  local out = p:read('a')
  p:close()
  os.remove(script)
  return out
end

describe('tensor memory and the garbage collector', function()
  it('keeps 500 allocations of a 100 MB tensor under 1.5 GB RSS', function()
    local out = run_lua([[
      local torch = require 'torch'
      for i = 1, 500 do local x = torch.zeros(25 * 1000 * 1000) end  -- 100 MB each, touched
    ]])
    local kb = tonumber(out)
    assert(kb, 'child failed: ' .. out)
    assert.is_true(kb < 1.5e6, ('peak RSS %d kB'):format(kb))
    assert.is_true(kb > 1e5, 'the tensors were really allocated')
  end)

  it('stays flat over many medium tensors and views', function()
    local out = run_lua([[
      local torch = require 'torch'
      for i = 1, 2000 do
        local x = torch.ones(1000, 1000)           -- 4 MB
        local v = x:narrow(1, 10, 100):t()
        local c = v:clone()
      end
    ]])
    local kb = tonumber(out)
    assert(kb, 'child failed: ' .. out)
    assert.is_true(kb < 400e3, ('peak RSS %d kB'):format(kb))
  end)
end)
