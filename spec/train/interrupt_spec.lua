-- A real Ctrl-C (SIGINT) during Trainer:fit, in a child process, under stock lua5.4
-- and under the ember executable: the trainer saves last.t7 and returns; afterwards
-- SIGINT is the host's "interrupted!" again.
local W = require 'ways_in.util'

local build = os.getenv('EMBER_BUILD') or (os.getenv('LUA_CPATH') or ''):match('^([^;]*)/lua/%?%.so') or 'build'
if build:sub(1, 1) ~= '/' then build = W.root .. '/' .. build end

local script = [[
local torch = require 'torch'
local nn = require 'nn'
local data = require 'ember.data'
local Trainer = require 'ember.Trainer'
local dir = arg[1]
local x = torch.randn(100, 2)
local y = x:select(2, 1):gt(0):long():add(1)
local loader = data.DataLoader(data.TensorDataset(x, y), { batchSize = 10 })
local batches = 0
local function sigint() io.popen('kill -INT $PPID'):close() end   -- the shell's parent: us
local t = Trainer { model = nn.Linear(2, 2), criterion = nn.CrossEntropyCriterion(), train = loader,
                    epochs = 5, checkpointDir = dir, progress = false, quiet = true,
                    prepare = function(a, b)
                      batches = batches + 1
                      if batches == 14 then sigint() end
                      return a, b
                    end }
local history, reason = t:fit()
local ck = torch.load(dir .. '/last.t7')
print(('reason %s, %d epochs, checkpoint epoch %d, interrupted %s, batches %d')
      :format(reason, #history, ck.epoch, tostring(ck.interrupted), batches))
io.stdout:flush()
sigint()
for _ = 1, 1e7 do end
print('not reached')
]]

local function run(host)
  local dir = W.tmpdir()
  W.write(dir .. '/child.lua', script)
  local env = ('LUA_PATH=%s LUA_CPATH=%s '):format(
    W.q(W.root .. '/lua/?.lua;' .. W.root .. '/lua/?/init.lua;;'), W.q(build .. '/lua/?.so;;'))
  local out, ok = W.sh(env .. host .. ' ' .. W.q(dir .. '/child.lua') .. ' ' .. W.q(dir))
  os.execute('rm -rf ' .. W.q(dir))
  return out, ok
end

describe('Ctrl-C during Trainer:fit', function()
  for _, host in ipairs { 'lua5.4', 'ember' } do
    it('saves and returns under ' .. host, function()
      local exe = host == 'ember' and build .. '/ember' or 'lua5.4'
      local out, ok = run(W.q(exe))
      assert.truthy(out:find('reason interrupted, 1 epochs, checkpoint epoch 2, interrupted true, batches 14', 1, true), out)
      assert.truthy(out:find('interrupted!', 1, true), out)     -- the host's own handling is back
      assert.is_nil(out:find('not reached', 1, true))
      assert.is_false(ok)
    end)
  end
end)
