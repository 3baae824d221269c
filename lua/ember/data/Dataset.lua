-- Datasets: anything with size() and get(i) -> field1, field2, ... (tensors or numbers).
-- Dataset is the base class; its gather(idx, batch) assembles a batch sample by sample
-- (one tensor copy per field per sample). TensorDataset keeps each field as one tensor
-- whose first dim indexes samples and gathers a whole batch per field in one C call,
-- converting dtype on the way (uint8 pixels -> float32 / 255).
local torch = require 'ember'
local C = torch.data

local Dataset = {}
Dataset.__index = Dataset
Dataset.__len = function(self) return self:size() end

-- Dataset{size = n, get = function(i) return x, y end}: a dataset from two functions;
-- subclasses instead set Dataset as their metatable's __index and define size and get.
setmetatable(Dataset, { __call = function(cls, spec)
  assert(type(spec) == 'table' and type(spec.size) == 'number' and type(spec.get) == 'function',
         'Dataset: expected {size = n, get = function(i) ... end}')
  local n, get = spec.size, spec.get
  return setmetatable({ size = function() return n end, get = function(_, i) return get(i) end }, cls)
end })

-- batch (a table of fields) := the samples idx (LongTensor of 1-based indices), in
-- place: tensor fields into buffers of size (n, ...) of the sample's dtype, numbers into
-- a float64 (n) tensor.
function Dataset:gather(idx, batch)
  local n = idx:nElement()
  for j = 1, n do
    local sample = table.pack(self:get(idx[j]))
    for k = 1, sample.n do
      local v = sample[k]
      if j == 1 then
        local size = torch.isTensor(v) and v:sizeTable() or {}
        table.insert(size, 1, n)
        local dtype = torch.isTensor(v) and v:dtype() or 'float64'
        batch[k] = batch[k] or torch.empty(size, dtype)
        if batch[k]:dtype() ~= dtype then batch[k] = torch.empty(size, dtype) end
        batch[k]:resize(table.unpack(size))
      end
      if torch.isTensor(v) then batch[k][j]:copy(v) else batch[k][j] = v end
    end
  end
  return batch
end

-- TensorDataset(f1, f2, ...): each field a tensor (N x ...) or a table
-- {tensor, dtype = 'float32', scale = 1/255, shift = 0} telling how batches are made:
-- batch = tensor[idx] * scale + shift, in dtype (default: the tensor's).
local TensorDataset = {}
TensorDataset.__index = TensorDataset
TensorDataset.__len = Dataset.__len

setmetatable(TensorDataset, { __index = Dataset, __call = function(cls, ...)
  local self = setmetatable({ fields = {} }, cls)
  local n
  for k = 1, select('#', ...) do
    local f = select(k, ...)
    if torch.isTensor(f) then f = { f } end
    if type(f) ~= 'table' or not torch.isTensor(f[1]) or f[1]:dim() == 0 then
      error(('TensorDataset: field %d must be a non-empty tensor or {tensor, dtype=, scale=, shift=}'):format(k), 2)
    end
    local t = f[1]
    if n and t:size(1) ~= n then
      error(('TensorDataset: field %d has %d samples, field 1 has %d'):format(k, t:size(1), n), 2)
    end
    n = t:size(1)
    self.fields[k] = { tensor = t, dtype = f.dtype or t:dtype(), scale = f.scale or 1, shift = f.shift or 0 }
  end
  if not n then error('TensorDataset: give at least one tensor', 2) end
  self.n = n
  return self
end })

function TensorDataset:size() return self.n end

-- Sample i as the fields' rows (views, before dtype conversion and scaling).
function TensorDataset:get(i)
  local out = {}
  for k, f in ipairs(self.fields) do out[k] = f.tensor[i] end
  return table.unpack(out)
end

function TensorDataset:gather(idx, batch)
  for k, f in ipairs(self.fields) do
    if not batch[k] or batch[k]:dtype() ~= f.dtype then batch[k] = torch.empty({ 0 }, f.dtype) end
    C.gather(batch[k], f.tensor, idx, f.scale, f.shift)
  end
  return batch
end

return { Dataset = Dataset, TensorDataset = TensorDataset }
