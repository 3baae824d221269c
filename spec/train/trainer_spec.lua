-- ember.Trainer on tiny problems: it learns, logs, keeps the best checkpoint, stops
-- early, follows schedules, clips, and saves on an interrupt.
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local data = require 'ember.data'
local metrics = require 'ember.metrics'
local Trainer = require 'ember.Trainer'

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  os.execute(('mkdir -p %q'):format(d))
  return d
end

local function lines(path)
  local out = {}
  for l in io.lines(path) do out[#out + 1] = l end
  return out
end

-- Two Gaussian blobs, classes 1 and 2, as train and validation loaders.
local function blobs()
  torch.manualSeed(3)
  local x = torch.randn(160, 2)
  local y = (x:select(2, 1) + x:select(2, 2)):gt(0):long():add(1)
  local train = data.DataLoader(data.TensorDataset(x:narrow(1, 1, 120), y:narrow(1, 1, 120)),
                                { batchSize = 20, shuffle = true, seed = 1 })
  local val = data.DataLoader(data.TensorDataset(x:narrow(1, 121, 40), y:narrow(1, 121, 40)), { batchSize = 20 })
  return train, val
end

local function classifier()
  return nn.Sequential():add(nn.Linear(2, 8)):add(nn.Tanh()):add(nn.Linear(8, 2))
end

local quiet = { progress = false, quiet = true }
local function options(extra)
  local o = {}
  for k, v in pairs(quiet) do o[k] = v end
  for k, v in pairs(extra) do o[k] = v end
  return o
end

describe('Trainer', function()
  it('trains a classifier, logs every epoch to CSV and plots', function()
    local dir = tmpdir()
    local train, val = blobs()
    local t = Trainer(options { model = classifier(), criterion = nn.CrossEntropyCriterion(), train = train,
                                val = val, optimizer = 'adam', config = { learningRate = 0.05 }, epochs = 4,
                                log = dir .. '/log.csv', plot = dir .. '/curves.svg' })
    local history, reason = t:fit()
    assert.are.equal('done', reason)
    assert.are.equal(4, #history)
    assert.is_true(history[4].train_loss < history[1].train_loss)
    assert.is_true(history[4].val_accuracy >= 0.9)
    local csv = lines(dir .. '/log.csv')
    assert.are.equal('epoch,train_loss,val_loss,val_accuracy,lr,seconds', csv[1])
    assert.are.equal(5, #csv)
    for i = 2, 5 do
      local cells = {}
      for c in csv[i]:gmatch('[^,]+') do cells[#cells + 1] = tonumber(c) end
      assert.are.equal(6, #cells)
      assert.are.equal(i - 1, cells[1])
      assert.are.equal(0.05, cells[5])
    end
    local svg = io.open(dir .. '/curves.svg'):read('a')
    assert.truthy(svg:find('>val accuracy</text>', 1, true))
    os.execute(('rm -rf %q'):format(dir))
  end)

  it('trains a regression with the metrics it is given', function()
    torch.manualSeed(5)
    local x = torch.randn(64, 3)
    local y = x:mv(torch.Tensor { 1, -2, 0.5 }):view(64, 1)
    local loader = data.DataLoader(data.TensorDataset(x, y), { batchSize = 16 })
    local log = os.tmpname()
    local t = Trainer(options { model = nn.Linear(3, 1), criterion = nn.MSECriterion(), train = loader,
                                val = loader, optimizer = 'sgd', config = { learningRate = 0.1 }, epochs = 5,
                                metrics = { mse = metrics.mse, r2 = metrics.r2 }, log = log })
    local history = t:fit()
    assert.are.equal('epoch,train_loss,val_loss,val_mse,val_r2,lr,seconds', lines(log)[1])
    assert.is_true(history[5].val_loss < history[1].val_loss / 10)
    assert.is_true(history[5].val_r2 > 0.9)
    assert.are.equal('min', t.mode)
    os.remove(log)
  end)

  it('keeps the checkpoint of the best epoch by the monitored metric', function()
    local dir = tmpdir()
    local train, val = blobs()
    local saves = {}
    local t = Trainer(options { model = classifier(), criterion = nn.CrossEntropyCriterion(), train = train,
                                val = val, optimizer = 'sgd', config = { learningRate = 0.5 }, epochs = 6,
                                checkpointDir = dir, monitor = 'val_accuracy',
                                save = function(path, obj)
                                  saves[#saves + 1] = { path = path, epoch = obj.epoch }
                                  torch.save(path, obj)
                                end })
    local history = t:fit()
    assert.are.equal('max', t.mode)
    local best, bestEpoch = -1, nil
    for _, r in ipairs(history) do
      if r.val_accuracy > best then best, bestEpoch = r.val_accuracy, r.epoch end
    end
    local ck = torch.load(dir .. '/best.t7')
    assert.are.equal(bestEpoch, ck.epoch)
    assert.are.equal(best, ck.record.val_accuracy)
    assert.are.equal('nn.Sequential', torch.type(ck.model))
    assert.are.equal(6, torch.load(dir .. '/last.t7').epoch)
    local lastSaves = 0
    for _, s in ipairs(saves) do if s.path:match('last%.t7$') then lastSaves = lastSaves + 1 end end
    assert.are.equal(6, lastSaves)
    os.execute(('rm -rf %q'):format(dir))
  end)

  it('stops early when the monitored value stops improving', function()
    local train, val = blobs()
    local t = Trainer(options { model = classifier(), criterion = nn.CrossEntropyCriterion(), train = train,
                                val = val, config = { learningRate = 0 }, epochs = 10,
                                earlyStopping = { patience = 2 } })
    local history, reason = t:fit()
    assert.are.equal('early', reason)
    assert.are.equal(3, #history)                    -- epoch 1 sets the best, 2 and 3 do not beat it
    local stopper = optim.EarlyStopping { patience = 1 }
    local t2 = Trainer(options { model = classifier(), criterion = nn.CrossEntropyCriterion(), train = train,
                                 val = val, config = { learningRate = 0 }, epochs = 10, earlyStopping = stopper })
    assert.are.equal(2, #t2:fit())
    assert.is_true(stopper.stopped)
  end)

  it('steps a learning-rate schedule once per epoch and logs the rate', function()
    local train = blobs()
    local t = Trainer(options { model = classifier(), criterion = nn.CrossEntropyCriterion(), train = train,
                                config = { learningRate = 0.1 }, epochs = 3,
                                schedule = function(config) return optim.StepLR(config, { step_size = 1, gamma = 0.5 }) end })
    local history = t:fit()
    assert.are.same({ 0.1, 0.05, 0.025 }, { history[1].lr, history[2].lr, history[3].lr })
    assert.are.equal('train_loss', t.monitor)
  end)

  it('clips the gradient norm before each step', function()
    local train = blobs()
    local norms = {}
    local function record(opfunc, x)
      local f, g = opfunc(x)
      norms[#norms + 1] = g:norm()
      return x, { f }
    end
    Trainer(options { model = classifier(), criterion = nn.CrossEntropyCriterion(), train = train,
                      optimizer = record, epochs = 1, clipGradNorm = 1e-3 }):fit()
    assert.are.equal(6, #norms)
    for _, n in ipairs(norms) do assert.is_true(n <= 1e-3 + 1e-6) end
  end)

  it('saves a checkpoint and returns when interrupted', function()
    local dir = tmpdir()
    local train, val = blobs()
    local batches = 0
    local t = Trainer(options { model = classifier(), criterion = nn.CrossEntropyCriterion(), train = train,
                                val = val, epochs = 5, checkpointDir = dir, log = dir .. '/log.csv',
                                prepare = function(x, y)
                                  batches = batches + 1
                                  if batches == 9 then torch._raiseInterrupt() end   -- epoch 2, batch 3
                                  return x, y
                                end })
    local history, reason = t:fit()
    assert.are.equal('interrupted', reason)
    assert.are.equal(1, #history)
    assert.are.equal(9, batches)
    local ck = torch.load(dir .. '/last.t7')
    assert.is_true(ck.interrupted)
    assert.are.equal(2, ck.epoch)
    assert.are.equal(2, #lines(dir .. '/log.csv'))
    assert.is_false(torch.catchInterrupt(false))     -- the handler was put back
    assert.is_false(torch.interrupted())
    os.execute(('rm -rf %q'):format(dir))
  end)

  it('restores the interrupt handler when training fails', function()
    local train = blobs()
    local t = Trainer(options { model = nn.Linear(3, 2), criterion = nn.CrossEntropyCriterion(), train = train })
    assert.has_error(function() t:fit() end)
    assert.is_false(torch.catchInterrupt(false))
  end)

  it('checks its options', function()
    assert.has_error(function() Trainer { model = nn.Linear(1, 1) } end, 'Trainer: option criterion is required')
    assert.has_error(function()
      Trainer { model = nn.Linear(1, 1), criterion = nn.MSECriterion(), train = {}, optimizer = 'nope' }
    end, 'Trainer: unknown optimizer nope')
  end)
end)
