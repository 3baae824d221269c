-- DataLoader(dataset, opts): batches of a dataset, assembled in C.
--   batchSize  samples per batch (default 1)
--   shuffle    a new order each epoch (default false)
--   seed       seeds the loader's own generator (shuffling and random transforms):
--              same seed, same batches, on every run; default: drawn from torch's
--              generator, so torch.manualSeed also fixes it
--   dropLast   leave out a last, smaller batch (default false)
--   transforms a list of functions(batch, gen) run on each batch in order (transforms.lua)
--   copy       hand out fresh tensors; by default the batch tensors are reused, so a
--              batch is valid until the next one is made (default false)
--
--   for i, x, y in loader:iter() do ... end      -- one epoch; #loader batches
local torch = require 'ember'
local Dataset = require 'ember.data.Dataset'.Dataset
local C = torch.data

local DataLoader = {}
DataLoader.__index = DataLoader

local function new(_, dataset, opts)
  opts = opts or {}
  if type(dataset) ~= 'table' or type(dataset.size) ~= 'function' or type(dataset.get) ~= 'function' then
    error('DataLoader: expected a dataset (a table with size() and get(i); see ember.data.Dataset)', 2)
  end
  local bs = opts.batchSize or 1
  if math.type(bs) ~= 'integer' or bs < 1 then
    error(('DataLoader: batchSize must be a positive integer, got %s'):format(tostring(bs)), 2)
  end
  local seed = opts.seed or torch.random()
  return setmetatable({
    dataset = dataset, gather = dataset.gather or Dataset.gather, batchSize = bs, shuffle = opts.shuffle or false,
    dropLast = opts.dropLast or false, transforms = opts.transforms or {}, copy = opts.copy or false,
    gen = C.Generator(seed), seed = seed, buffers = {}, epoch = 0,
  }, DataLoader)
end
setmetatable(DataLoader, { __call = new })

-- Number of batches per epoch.
function DataLoader:__len()
  local n = self.dataset:size()
  if self.dropLast then return n // self.batchSize end
  return (n + self.batchSize - 1) // self.batchSize
end
DataLoader.size = DataLoader.__len

-- The sample order of the next epoch (LongTensor of 1-based indices).
function DataLoader:order()
  local n = self.dataset:size()
  if self.shuffle then return self.gen:randperm(n) end
  self.identity = self.identity and self.identity:nElement() == n and self.identity or torch.range(1, n, 'int64')
  return self.identity
end

-- The loader's position (epochs done, its generator's stream) as a plain table, and
-- back: a resumed run draws the same batches as one that never stopped.
function DataLoader:state() return { epoch = self.epoch, gen = self.gen:getState() } end

function DataLoader:load(state)
  self.gen:setState(state.gen)
  self.epoch = state.epoch
end

-- One epoch: an iterator of i, field1, field2, ... for batches 1..#self.
function DataLoader:iter()
  local order, nb, bs = self:order(), #self, self.batchSize
  local n = order:nElement()
  self.epoch = self.epoch + 1
  local i = 0
  return function()
    i = i + 1
    if i > nb then return nil end
    local first = (i - 1) * bs + 1
    local idx = order:narrow(1, first, math.min(bs, n - first + 1))
    self.gather(self.dataset, idx, self.buffers)
    local batch = table.move(self.buffers, 1, #self.buffers, 1, {})  -- transforms may swap fields
    for k, t in ipairs(self.transforms) do
      local ok, err = pcall(t, batch, self.gen)
      if not ok then error(('DataLoader: transform %d: %s'):format(k, tostring(err)), 2) end
    end
    if self.copy then
      local out = {}
      for k, v in ipairs(batch) do out[k] = v:clone() end
      batch = out
    end
    return i, table.unpack(batch)
  end
end

function DataLoader:__tostring()
  return ('ember.data.DataLoader(%d samples, batchSize %d, %d batches%s%s)'):format(
    self.dataset:size(), self.batchSize, #self, self.shuffle and ', shuffled' or '',
    self.dropLast and ', dropLast' or '')
end

return DataLoader
