-- The CUDA backend is a plugin (ember/cuda.so) loaded on the first device query
-- (src/cuda_plugin.c): a process that never asks for a GPU never maps the CUDA
-- libraries, in the `ember` executable and under stock lua5.4 alike. Checked in fresh
-- processes through /proc/self/maps. Where the build has the plugin, asking for a
-- device loads it and a missing plugin gives a reason, not a crash.
local W = require 'ways_in.util'

-- Runs code under the ember executable (cwd /tmp, no LUA_CPATH: the executable finds
-- its own folders) and returns its output.
local function ember(code, env)
  return W.sh(('cd /tmp && %s LUA_CPATH= %s -e %s'):format(env or '', W.q(W.exe), W.q(code)))
end

-- Lua code printing "cudart=<0|1> plugin=<0|1>" from this process's mappings.
local MAPS = [[
local maps = io.open('/proc/self/maps'):read('a')
print(('cudart=%d plugin=%d'):format(maps:find('libcudart', 1, true) and 1 or 0,
                                     maps:find('/ember/cuda.so', 1, true) and 1 or 0))]]

local built = W.sh(('%s -e %s'):format(W.q(W.exe),
  W.q("io.write(tostring(require('torch').cuda.isBuilt()))"))) == 'true'

describe('the CUDA plugin', function()
  it('is not loaded by require, nn, a CPU training step or a CPU save', function()
    local out, ok = ember([[
      local torch, nn = require 'torch', require 'nn'
      local m = nn.Sequential():add(nn.Linear(4, 3)):add(nn.LogSoftMax())
      local c = nn.ClassNLLCriterion()
      local x, y = torch.randn(5, 4), torch.LongTensor({1, 2, 3, 1, 2})
      c:forward(m:forward(x), y)
      m:backward(x, c:backward(m.output, y))
      local f = os.tmpname(); torch.save(f, m); os.remove(f)
    ]] .. MAPS)
    assert.is_true(ok, out)
    assert.are.equal('cudart=0 plugin=0\n', out)
  end)

  it('is not loaded under stock lua5.4 either', function()
    local out, ok = W.sh(('cd /tmp && LUA_PATH=%s LUA_CPATH=%s lua5.4 -e %s'):format(
      W.q(W.root .. '/lua/?.lua;' .. W.root .. '/lua/?/init.lua;;'), W.q(W.build .. '/lua/?.so;;'),
      W.q("local nn = require 'nn'; nn.Linear(2, 2):forward(torch.ones(2))\n" .. MAPS)))
    assert.is_true(ok, out)
    assert.are.equal('cudart=0 plugin=0\n', out)
  end)

  it('is loaded by a device query where the build has it, else says why', function()
    local out, ok = ember("local t = require 'torch'; local a, why = t.cuda.isAvailable(); print(a, why)\n" .. MAPS)
    assert.is_true(ok, out)
    if built then
      assert.truthy(out:find('plugin=1', 1, true), out)
    else
      assert.truthy(out:find('this build of Ember has no CUDA backend', 1, true), out)
      assert.truthy(out:find('cudart=0 plugin=0', 1, true), out)
    end
  end)

  it('missing, it is a Lua error that names the file, and the CPU still works', function()
    local out, ok = ember([[
      local t = require 'torch'
      local okc, err = pcall(function() return t.ones(2):cuda() end)
      print(okc, err)
      print(t.ones(2):sum())
    ]], 'EMBER_CUDA_PLUGIN=/nonexistent/cuda.so')
    assert.is_true(ok, out)
    assert.truthy(out:find('^false\t'), out)
    if built then
      assert.truthy(out:find('cuda: the CUDA backend could not be loaded (/nonexistent/cuda.so', 1, true), out)
    else
      assert.truthy(out:find('cuda: this build of Ember has no CUDA backend', 1, true), out)
    end
    assert.truthy(out:find('\n2.0\n', 1, true) or out:find('\n2\n', 1, true), out)
  end)
end)
