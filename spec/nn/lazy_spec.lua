-- `require 'nn'` loads the base classes; every other class loads from its file the
-- first time nn.<Class> is read. Checked in fresh processes (this busted process has
-- loaded every class long ago): what require loads, that a class, a parent named in
-- nn.class and a Torch7 model file each load what they need, and that the REPL still
-- completes the classes not loaded yet.
local W = require 'ways_in.util'

-- Runs Lua code under the ember executable with this checkout's Lua files; its output.
local function ember(code)
  local out, ok = W.sh(('LUA_PATH=%s %s -e %s'):format(
    W.q(W.root .. '/lua/?.lua;' .. W.root .. '/lua/?/init.lua;;'), W.q(W.exe), W.q(code)))
  assert(ok, out)
  return out
end

-- Lua code printing the nn files loaded so far, sorted, one line
local LOADED = [[
local t = {}
for k in pairs(package.loaded) do if k:match('^nn%.%u') then t[#t + 1] = k end end
table.sort(t)
print(table.concat(t, ' '))]]

describe('nn classes loaded on first use', function()
  it('require loads the base classes only', function()
    assert.are.equal('nn.ConcatTable nn.Container nn.Criterion nn.Graph nn.Module nn.Sequential\n',
                     ember("require 'nn'\n" .. LOADED))
  end)

  it('nn.<Class> loads its file, and a parent class loads with its child', function()
    local out = ember([[
      local nn = require 'nn'
      local m = nn.SpatialConvolutionMM(1, 2, 3, 3)   -- derives from nn.SpatialConvolution
      print(torch.type(m), m:forward(torch.ones(1, 1, 3, 3)):size(2))
      print(nn.NoSuchModule == nil, rawget(nn, 'Tanh') == nil)
    ]] .. LOADED)
    assert.are.equal('nn.SpatialConvolutionMM\t2\ntrue\ttrue\n' ..
                     'nn.ConcatTable nn.Container nn.Criterion nn.Graph nn.Module nn.Sequential ' ..
                     'nn.SpatialConvolution nn.SpatialConvolutionMM\n', out)
  end)

  it('torch.load of a Torch7 model loads the classes it names', function()
    local out = ember(([[
      local torch = require 'torch'
      local m = torch.load(%q)
      local x = torch.load(%q)
      print(torch.type(m), torch.type(m.modules[1]), m:forward(x):dim())
    ]]):format(W.root .. '/spec/io/fixtures/t7/mlp_trained.t7',
               W.root .. '/spec/io/fixtures/t7/mlp_input.t7'))
    assert.are.equal('nn.Sequential\tnn.Linear\t2\n', out)
  end)

  it('the REPL completes classes that are not loaded yet', function()
    local out = ember([[
      require 'nn'
      local words = require('ember.repl').complete('nn.Lin')
      print(table.concat(words, ' '))
    ]] .. LOADED)
    assert.are.equal('nn.Linear\nnn.ConcatTable nn.Container nn.Criterion nn.Graph nn.Module nn.Sequential\n', out)
  end)
end)
