-- Resuming from a checkpoint gives the same loss curve as not stopping: model,
-- optimizer memory, schedule, early stopping, the generator (dropout draws) and the
-- loader's shuffling all continue where they were.
local torch = require 'torch'
require 'nn'
require 'optim'
local Trainer = require 'ember.Trainer'
local data = require 'ember.data'

local function problem()
  torch.manualSeed(7)
  local x = torch.randn(96, 5)
  local y = torch.LongTensor(96)
  for i = 1, 96 do y[i] = (x[i][1] + 0.5 * x[i][2] > 0) and 1 or 2 end
  local model = nn.Sequential():add(nn.Linear(5, 16)):add(nn.ReLU()):add(nn.Dropout(0.3))
    :add(nn.Linear(16, 2)):add(nn.LogSoftMax())
  local train = data.DataLoader(data.TensorDataset(x, y), { batchSize = 16, shuffle = true, seed = 3 })
  local val = data.DataLoader(data.TensorDataset(x:narrow(1, 1, 32), y:narrow(1, 1, 32)), { batchSize = 32 })
  return model, train, val
end

local function trainer(dir, epochs, resume)
  os.execute('mkdir -p ' .. dir)
  local model, train, val = problem()
  local config = { learningRate = 0.1, momentum = 0.9, dampening = 0 }
  return Trainer {
    model = model, criterion = nn.ClassNLLCriterion(), train = train, val = val,
    optimizer = 'sgd', config = config, epochs = epochs, quiet = true, progress = false,
    schedule = optim.StepLR(config, { step_size = 2, gamma = 0.5 }),
    earlyStopping = { patience = 50 }, checkpointDir = dir, resume = resume,
    log = dir .. '/log.csv',
  }
end

local function losses(history)
  local t = {}
  for i, r in ipairs(history) do t[i] = { r.train_loss, r.val_loss, r.lr } end
  return t
end

describe('Trainer resume', function()
  it('continues with exactly the losses of an uninterrupted run', function()
    local dir = os.tmpname(); os.remove(dir); os.execute('mkdir -p ' .. dir)
    local full = losses((trainer(dir .. '/a', 5):fit()))
    assert.are.equal(5, #full)

    local first = trainer(dir .. '/b', 2)
    local h1 = first:fit()
    assert.are.equal(2, #h1)
    torch.manualSeed(12345)                        -- whatever happens in between
    torch.rand(100)
    local second = trainer(dir .. '/b', 5, dir .. '/b/last.t7')
    local h2 = second:fit()
    assert.are.equal(5, #h2)
    assert.are.same(full, losses(h2))              -- bit for bit, lr included
    local csv = io.open(dir .. '/b/log.csv'):read('a')
    local rows = 0
    for _ in csv:gmatch('\n') do rows = rows + 1 end
    assert.are.equal(6, rows)                      -- header + 5 epochs
    os.execute('rm -rf ' .. dir)
  end)

  it('refuses a checkpoint of a different model', function()
    local dir = os.tmpname(); os.remove(dir); os.execute('mkdir -p ' .. dir)
    trainer(dir, 1):fit()
    local ck = torch.load(dir .. '/last.t7')
    ck.model = nn.Sequential():add(nn.Linear(5, 2))
    local ok, err = pcall(trainer, dir .. '/c', 2, ck)
    assert.is_false(ok)
    assert.truthy(tostring(err):find('the checkpoint model has 12 parameters', 1, true))
    os.execute('rm -rf ' .. dir)
  end)
end)

describe('DataLoader state', function()
  it('replays the same batches after load, and refuses a bad generator state', function()
    local ds = data.TensorDataset(torch.range(1, 20, 'int64'))
    local a = data.DataLoader(ds, { batchSize = 5, shuffle = true, seed = 11 })
    for _ in a:iter() do end
    local saved = a:state()
    local first = {}
    for i, x in a:iter() do first[i] = x:clone():totable() end
    local b = data.DataLoader(ds, { batchSize = 5, shuffle = true, seed = 99 })
    b:load(saved)
    for i, x in b:iter() do assert.are.same(first[i], x:totable()) end
    assert.are.equal(2, b.epoch)
    local ok, err = pcall(b.gen.setState, b.gen, 'short')
    assert.is_false(ok)
    assert.truthy(tostring(err):find('setState: state of 5 bytes', 1, true))
  end)
end)
