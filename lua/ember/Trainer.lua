-- Trainer: the usual supervised loop on top of nn and optim, for when writing it by
-- hand (as in Torch7; see "The loop by hand" below) is not the point.
--
--   local Trainer = require 'ember.Trainer'
--   local t = Trainer{model = m, criterion = nn.CrossEntropyCriterion(), train = trainLoader,
--                     val = valLoader, optimizer = 'adam', config = {learningRate = 1e-3},
--                     epochs = 20, checkpointDir = 'ckpt', log = 'train.csv', plot = 'curves.svg'}
--   local history, reason = t:fit()        -- reason: 'done', 'early' or 'interrupted'
--
-- Options (model, criterion, train required):
--   optimizer      an optim function name ('sgd', 'adam', ...) or function (default 'sgd')
--   config         its config table (default {}); optimizer memory goes to t.optimState
--   epochs         default 10
--   metrics        {name = function(output, target) -> number} on the validation set's
--                  outputs (all batches joined); default {accuracy = metrics.accuracy}
--                  for ClassNLL / CrossEntropy criteria, else {}
--   monitor, mode  the record field that picks the best model and drives early stopping
--                  and plateau schedules (default 'val_loss', or 'train_loss' without val);
--                  mode 'min' or 'max' (default 'min' for losses, mse and mae, else 'max')
--   schedule       an optim.Schedule on `config`, or function(config) -> one; stepped with
--                  the monitored value after each epoch (scheduleEvery = 'batch': after
--                  each batch, without a value)
--   earlyStopping  an optim.EarlyStopping, or its options {patience =, minDelta =}
--   clipGradNorm   clip the gradient's 2-norm to this before each step
--   checkpointDir  writes best.t7 when the monitored value improves and last.t7 after
--                  every epoch and on Ctrl-C; each {model, epoch, record, config,
--                  optimState, schedule, earlyStopping, interrupted, rng, best,
--                  bestEpoch, history, loader}
--   resume         a checkpoint path (or table): training continues after its epoch
--                  exactly as if it had not stopped (see Trainer:resumeFrom)
--   save           function(path, obj) (default torch.save, which writes atomically)
--   log            CSV path: epoch,train_loss,val_loss,val_<metric>...,lr,seconds
--   plot           SVG path: loss and metric curves, written when fit returns
--   progress       true (default), false, or ember.progress options (tty, write, every)
--   print          function(line) for the per-epoch summary (default print); quiet = true
--   prepare        function(input, target) -> input, target, run on each batch
--
-- Ctrl-C: fit catches SIGINT (torch.catchInterrupt), finishes the running batch, saves
-- last.t7 with interrupted = true, writes the plot and returns (history, 'interrupted').
-- A second Ctrl-C before that gets the host's usual handling (the "interrupted!" error).
--
-- The loop by hand:
--   local params, grads = model:getParameters()
--   for epoch = 1, n do
--     model:training()
--     for i, x, y in loader:iter() do
--       optim.adam(function()
--         grads:zero()
--         local out = model:forward(x)
--         local loss = criterion:forward(out, y)
--         model:backward(x, criterion:backward(out, y))
--         return loss, grads
--       end, params, config, state)
--     end
--     model:evaluate()  ...validation with ember.metrics...  torch.save('model.t7', model)
--   end
local torch = require 'torch'
local optim = require 'optim'
local metrics = require 'ember.metrics'
local trainlog = require 'ember.trainlog'
local loop = require 'ember.trainloop'

local Trainer = {}
Trainer.__index = Trainer

local function fail(fmt, ...) error(('Trainer: ' .. fmt):format(...), 3) end

local lowerIsBetter = { mse = true, mae = true }

setmetatable(Trainer, { __call = function(cls, opts)
  if type(opts) ~= 'table' then fail('expected a table of options') end
  for _, k in ipairs { 'model', 'criterion', 'train' } do
    if opts[k] == nil then fail('option %s is required', k) end
  end
  local self = setmetatable({}, cls)
  for k, v in pairs(opts) do self[k] = v end
  self.epochs = opts.epochs or 10
  self.config = opts.config or {}
  self.optimState = {}
  local o = opts.optimizer or 'sgd'
  self.optimize = type(o) == 'function' and o or optim[o]
  if type(self.optimize) ~= 'function' then fail('unknown optimizer %s', tostring(o)) end
  if not opts.metrics then
    local name = torch.type(opts.criterion)
    local classify = name == 'nn.ClassNLLCriterion' or name == 'nn.CrossEntropyCriterion'
    self.metrics = classify and { accuracy = metrics.accuracy } or {}
  end
  self.metricNames = {}
  for name in pairs(self.metrics) do self.metricNames[#self.metricNames + 1] = name end
  table.sort(self.metricNames)
  self.monitor = opts.monitor or (opts.val and 'val_loss' or 'train_loss')
  local base = self.monitor:gsub('^val_', ''):gsub('^train_', '')
  self.mode = opts.mode or ((base == 'loss' or lowerIsBetter[base]) and 'min' or 'max')
  if type(opts.schedule) == 'function' then self.schedule = opts.schedule(self.config) end
  local es = opts.earlyStopping
  if type(es) == 'table' and type(es.step) ~= 'function' then
    es.mode = es.mode or self.mode
    self.earlyStopping = optim.EarlyStopping(es)
  end
  self.save = opts.save or torch.save
  self.print = opts.quiet and function() end or opts.print or print
  self.history = {}
  if opts.resume then self:resumeFrom(opts.resume) end
  return self
end })

-- The CSV columns of this trainer's records.
function Trainer:columns()
  local cols = { 'epoch', 'train_loss' }
  if self.val then
    cols[#cols + 1] = 'val_loss'
    for _, m in ipairs(self.metricNames) do cols[#cols + 1] = 'val_' .. m end
  end
  cols[#cols + 1] = 'lr'
  cols[#cols + 1] = 'seconds'
  return cols
end

-- Mean loss and {metric = value} of the model on a loader (in evaluation mode).
function Trainer:evaluate(loader) return loop.evaluate(self, loader) end

function Trainer:checkpoint(name, record, interrupted)
  if not self.checkpointDir then return end
  os.execute(('mkdir -p %q'):format(self.checkpointDir))
  if self.model.clearState then self.model:clearState() end
  local state = function(o) return o and o.state and o:state() or nil end
  self.save(self.checkpointDir .. '/' .. name .. '.t7', {
    model = self.model, epoch = record.epoch, record = record, config = self.config,
    optimState = self.optimState, schedule = state(self.schedule),
    earlyStopping = state(self.earlyStopping), interrupted = interrupted or false,
    rng = torch.getRNGState(), best = self.best, bestEpoch = self.bestEpoch,
    history = self.history, loader = state(self.train),
  })
end

-- Continues from a checkpoint written at the end of an epoch (last.t7): the model (its
-- parameters and buffers), optimizer memory, learning rate and schedule, early
-- stopping, best value, history, the generator and the loader's epoch, so the run goes
-- on exactly as if it had not stopped. A checkpoint written by Ctrl-C mid-epoch resumes
-- at the start of that epoch with the weights it had (not an exact replay).
function Trainer:resumeFrom(path)
  local ck = type(path) == 'table' and path or torch.load(path)
  if type(ck) ~= 'table' or not ck.model or not ck.epoch then
    fail('%s is not a Trainer checkpoint', tostring(path))
  end
  local params = self.model:getParameters()
  local saved = ck.model:getParameters()
  if params:nElement() ~= saved:nElement() then
    fail('the checkpoint model has %d parameters, this model %d', saved:nElement(), params:nElement())
  end
  self.model = ck.model
  self.params, self.grads = nil, nil
  self.optimState = ck.optimState or {}
  for k, v in pairs(ck.config or {}) do self.config[k] = v end
  if self.schedule and ck.schedule then self.schedule:load(ck.schedule) end
  if self.earlyStopping and ck.earlyStopping then self.earlyStopping:load(ck.earlyStopping) end
  self.best, self.bestEpoch = ck.best, ck.bestEpoch
  self.history = ck.history or {}
  if ck.rng then torch.setRNGState(ck.rng) end
  if ck.loader and self.train.load and not ck.interrupted then self.train:load(ck.loader) end
  self.startEpoch = ck.interrupted and ck.epoch or ck.epoch + 1
end

local function improved(self, value)
  if type(value) ~= 'number' or value ~= value then return false end
  if self.best == nil then return true end
  return self.mode == 'min' and value < self.best or self.mode == 'max' and value > self.best
end

-- One epoch: train, validate, record, log, checkpoint. Returns the record and, when
-- training should stop, the reason.
function Trainer:runEpoch(epoch)
  local start = torch.clock()
  local record = { epoch = epoch, lr = self.config.learningRate }
  local loss, interrupted = loop.trainEpoch(self, epoch)
  record.train_loss = loss
  if interrupted then
    record.seconds = torch.clock() - start
    self:checkpoint('last', record, true)
    return record, 'interrupted'
  end
  if self.val then
    local vloss, values = loop.evaluate(self, self.val)
    record.val_loss = vloss
    for k, v in pairs(values) do record['val_' .. k] = v end
  end
  record.seconds = torch.clock() - start
  self.history[#self.history + 1] = record
  if self.csv then self.csv:write(record) end
  local value = record[self.monitor]
  local isBest = improved(self, value)
  if isBest then
    self.best, self.bestEpoch = value, epoch
    self:checkpoint('best', record)
  end
  self.print(loop.summary(self, record, isBest))
  if self.schedule and self.scheduleEvery ~= 'batch' then self.schedule:step(value) end
  local stop = self.earlyStopping and self.earlyStopping:step(value)
  self:checkpoint('last', record)                   -- after the steps: resumable as is
  if stop then return record, 'early' end
  if torch.interrupted() then                       -- Ctrl-C during validation
    self:checkpoint('last', record, true)
    return record, 'interrupted'
  end
end

-- Trains for self.epochs epochs (or until early stopping or Ctrl-C). Returns the
-- history (one record per finished epoch) and the reason it stopped.
function Trainer:fit()
  if self.log then
    self.csv = trainlog.csv(self.log, self:columns())
    for _, record in ipairs(self.history) do self.csv:write(record) end   -- resumed runs
  end
  local wasCatching = torch.catchInterrupt(true)
  local ok, reason = pcall(function()
    for epoch = self.startEpoch or 1, self.epochs do
      local _, why = self:runEpoch(epoch)
      if why then return why end
    end
    return 'done'
  end)
  torch.catchInterrupt(wasCatching)
  if self.csv then self.csv:close() end
  if not ok then error(reason, 0) end
  if self.plot and #self.history > 0 then
    local cols = {}
    for _, m in ipairs(self.metricNames) do cols[#cols + 1] = 'val_' .. m end
    local done, err = trainlog.plot(self.plot, self.history, cols)
    if not done then self.print('Trainer: cannot write the plot: ' .. tostring(err)) end
  end
  return self.history, reason
end

return Trainer
