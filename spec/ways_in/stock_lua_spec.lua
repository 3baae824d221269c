-- Stock lua5.4 runs Ember as a separate process: from the build folder with
-- LUA_PATH/LUA_CPATH set (as the README says), and after `make install PREFIX=...`
-- from Lua's standard layout, where the installed `ember` finds its files alone.
local W = require 'ways_in.util'

-- Runs lua5.4 (or another command) in a clean environment: only the given Lua paths.
local function lua_with(path, cpath, args)
  return W.sh(('cd /tmp && env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_PATH=%s LUA_CPATH=%s %s'):format(
    W.q(path), W.q(cpath), args))
end

local CHECK = [[
local torch = require 'torch'
local nn, optim = require 'nn', require 'optim'
local x = torch.Tensor{{1, 2}, {3, 4}}
print(('mm sum %g, %s, %s, %s'):format(torch.mm(x, x):sum(), torch.type(x),
  tostring(nn.Linear(2, 3)), type(optim.sgd)))
print(package.searchpath('torch', package.path), package.searchpath('ember.core', package.cpath))
]]

describe('stock lua5.4', function()
  it('requires torch, nn and optim from the build folder', function()
    local out, ok = lua_with(W.root .. '/lua/?.lua;' .. W.root .. '/lua/?/init.lua;;',
      W.build .. '/lua/?.so;;', 'lua5.4 -e ' .. W.q(CHECK))
    assert(ok, out)
    assert.truthy(out:find('mm sum 54, torch.FloatTensor, nn.Linear(2 -> 3), function', 1, true), out)
  end)

  describe('after make install PREFIX=...', function()
    local prefix = W.tmpdir()
    local share, lib = prefix .. '/share/lua/5.4', prefix .. '/lib/lua/5.4'
    local path, cpath = share .. '/?.lua;' .. share .. '/?/init.lua;;', lib .. '/?.so;;'

    setup(function()
      local out, ok = W.sh(('env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C %s install PREFIX=%s BUILD=%s'):format(
        W.q(W.root), W.q(prefix), W.q(W.build)))
      assert(ok, out)
    end)
    teardown(function() W.sh('rm -rf ' .. W.q(prefix)) end)

    it('puts files in Lua\'s standard layout', function()
      for _, f in ipairs { '/bin/ember', '/lib/lua/5.4/ember/core.so', '/share/lua/5.4/torch/init.lua',
                           '/share/lua/5.4/nn/init.lua', '/include/ember/ember_host.h', '/lib/libember.a' } do
        assert(io.open(prefix .. f), 'missing ' .. prefix .. f)
      end
    end)

    it('lets lua5.4 require torch, nn and optim from PREFIX', function()
      local out, ok = lua_with(path, cpath, 'lua5.4 -e ' .. W.q(CHECK))
      assert(ok, out)
      assert.truthy(out:find('mm sum 54, torch.FloatTensor, nn.Linear(2 -> 3), function', 1, true), out)
      assert.truthy(out:find(share .. '/torch/init.lua\t' .. lib .. '/ember/core.so', 1, true), out)
    end)

    it('runs the examples with lua5.4', function()
      local out, ok = lua_with(path, cpath, 'lua5.4 ' .. W.q(W.root .. '/examples/xor.lua'))
      assert(ok, out)
      assert.truthy(out:find('two%-layer MLP%s+loss [%d.]+%s+accuracy 100%%'), out)
    end)

    it('has an ember executable that finds its Lua files without LUA_PATH', function()
      local out, ok = W.sh(('cd /tmp && env -u LUA_PATH -u LUA_CPATH %s/bin/ember -e %s'):format(
        W.q(prefix), W.q(CHECK)))
      assert(ok, out)
      assert.truthy(out:find('mm sum 54', 1, true), out)
      assert.truthy(out:find(prefix .. '/bin/../share/lua/5.4/torch/init.lua', 1, true), out)
    end)
  end)
end)
