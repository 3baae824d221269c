-- The inner loops of ember.Trainer: one training epoch over the batches (with
-- gradient clipping, per-batch schedules, the progress bar and the Ctrl-C poll) and
-- one evaluation pass. They read the trainer's fields; see Trainer.lua for the options.
local torch = require 'torch'
local optim = require 'optim'
local progress = require 'ember.progress'

local loop = {}

local function batchSize(x)
  return torch.isTensor(x) and x:dim() > 0 and x:size(1) or 1
end

-- One pass over t.train in training mode. Returns the mean loss per sample and
-- whether a Ctrl-C stopped it (after the batch that was running).
function loop.trainEpoch(t, epoch)
  local model, criterion = t.model, t.criterion
  if not t.params then t.params, t.grads = model:getParameters() end
  local params, grads = t.params, t.grads
  model:training()
  local bar
  if t.progress ~= false then
    local opts = type(t.progress) == 'table' and t.progress or {}
    bar = progress.new { total = #t.train, label = ('epoch %d/%d'):format(epoch, t.epochs),
                         tty = opts.tty, write = opts.write, clock = opts.clock, every = opts.every,
                         width = opts.width }
  end
  local sum, count = 0, 0
  for i, input, target in t.train:iter() do
    if t.prepare then input, target = t.prepare(input, target) end
    local n = batchSize(input)
    local function feval()
      grads:zero()
      local output = model:forward(input)
      local loss = criterion:forward(output, target)
      model:backward(input, criterion:backward(output, target))
      if t.clipGradNorm then optim.clipGradNorm(grads, t.clipGradNorm) end
      return loss, grads
    end
    local _, fx = t.optimize(feval, params, t.config, t.optimState)
    sum, count = sum + fx[1] * n, count + n
    if t.schedule and t.scheduleEvery == 'batch' then t.schedule:step() end
    if bar then bar:update(i, { loss = sum / count }, n) end
    if torch.interrupted() then
      if bar then bar:finish { loss = sum / count } end
      return count > 0 and sum / count or 0 / 0, true
    end
  end
  if bar then bar:finish { loss = count > 0 and sum / count or nil } end
  return count > 0 and sum / count or 0 / 0, false
end

-- Mean loss per sample of the model on a loader, in evaluation mode, and the
-- trainer's metrics on all outputs and targets joined: loss, {name = value}.
function loop.evaluate(t, loader)
  local model, criterion = t.model, t.criterion
  model:evaluate()
  local sum, count = 0, 0
  local outputs, targets = {}, {}
  local collect = next(t.metrics) ~= nil
  for _, input, target in loader:iter() do
    if t.prepare then input, target = t.prepare(input, target) end
    local output = model:forward(input)
    local n = batchSize(input)
    sum, count = sum + criterion:forward(output, target) * n, count + n
    if collect then                                 -- the loader reuses its buffers
      outputs[#outputs + 1], targets[#targets + 1] = output:clone(), target:clone()
    end
  end
  model:training()
  local values = {}
  if collect and #outputs > 0 then
    local output, target = torch.cat(outputs, 1), torch.cat(targets, 1)
    for name, f in pairs(t.metrics) do values[name] = f(output, target) end
  end
  return count > 0 and sum / count or 0 / 0, values
end

-- "epoch 3/10  train_loss 0.4123  val_loss 0.5012  val_accuracy 0.8125  lr 0.01  1.2s  best"
function loop.summary(t, record, isBest)
  local parts = { ('epoch %d/%d'):format(record.epoch, t.epochs) }
  for _, c in ipairs(t:columns()) do
    local v = record[c]
    if c ~= 'epoch' and c ~= 'seconds' and type(v) == 'number' then
      parts[#parts + 1] = ('%s %s'):format(c, c == 'lr' and ('%g'):format(v) or ('%.4f'):format(v))
    end
  end
  parts[#parts + 1] = ('%.1fs'):format(record.seconds)
  if isBest then parts[#parts + 1] = 'best' end
  return table.concat(parts, '  ')
end

return loop
