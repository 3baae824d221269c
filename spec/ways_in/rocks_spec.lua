-- LuaRocks: `luarocks make rocks/ember-scm-1.rockspec --tree <tmp>` builds (reusing
-- this build's objects: BUILD=$EMBER_BUILD) and installs the C module, the Lua files
-- and the ember executable; lua5.4 with that tree's paths then trains a small model.
local W = require 'ways_in.util'

local TRAIN = [[
local torch, nn, optim = require 'torch', require 'nn', require 'optim'
torch.manualSeed(0)
local x = torch.randn(64, 3)
local y = torch.mm(x, torch.Tensor{{1}, {-2}, {0.5}}):add(0.3)
local model, criterion = nn.Linear(3, 1), nn.MSECriterion()
local params, grads = model:getParameters()
local function feval()
  grads:zero()
  local out = model:forward(x)
  local loss = criterion:forward(out, y)
  model:backward(x, criterion:backward(out, y))
  return loss, grads
end
local first, last
for i = 1, 300 do
  local _, losses = optim.sgd(feval, params, { learningRate = 0.1 })
  first, last = first or losses[1], losses[1]
end
print(('loss %.6f -> %.6f'):format(first, last))
]]

local function luarocks()
  if W.sh('command -v luarocks-5.4') ~= '' then return 'luarocks-5.4' end
  return 'luarocks --lua-version 5.4'
end

describe('LuaRocks', function()
  local tree = W.tmpdir()
  teardown(function() W.sh('rm -rf ' .. W.q(tree)) end)

  it('installs with luarocks make --tree, and lua5.4 then trains a model', function()
    local out, ok = W.sh(('cd %s && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS BUILD=%s %s make rocks/ember-scm-1.rockspec --tree %s'):format(
      W.q(W.root), W.q(W.build), luarocks(), W.q(tree)))
    assert(ok, out)
    assert.truthy(out:find('ember scm-1 is now installed', 1, true), out)
    for _, f in ipairs { '/bin/ember', '/lib/lua/5.4/ember/core.so', '/share/lua/5.4/torch/init.lua',
                         '/share/lua/5.4/optim/sgd.lua' } do
      assert(io.open(tree .. f), 'missing ' .. tree .. f)
    end
    local share = tree .. '/share/lua/5.4'
    local script = tree .. '/train.lua'
    W.write(script, TRAIN)
    out, ok = W.sh(('cd /tmp && env LUA_PATH=%s LUA_CPATH=%s lua5.4 %s'):format(
      W.q(share .. '/?.lua;' .. share .. '/?/init.lua;;'), W.q(tree .. '/lib/lua/5.4/?.so;;'), W.q(script)))
    assert(ok, out)
    local first, last = out:match('loss ([%d.]+) %-> ([%d.]+)')
    assert(first, out)
    assert.truthy(tonumber(last) < tonumber(first) / 100, out)
    out, ok = W.sh(('cd /tmp && env -u LUA_PATH -u LUA_CPATH %s/bin/ember %s'):format(W.q(tree), W.q(script)))
    assert(ok, out)
    assert.truthy(out:find('loss [%d.]+ %-> [%d.]+'), out)
  end)
end)
