-- safetensors (the format of Hugging Face / PyTorch weights) for named tensors:
--   torch.saveSafetensors(path, {name = tensor, ...} [, metadata])
--   torch.loadSafetensors(path) -> {name = tensor, ...}, metadata
-- Names are the table's string keys, kept as they are ('fc1.weight' in PyTorch's
-- state_dict naming, for example); metadata is a table of strings to strings, stored
-- as "__metadata__". Layout: u64 header length N (little endian), N bytes of JSON
-- {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}, then
-- the data, offsets relative to its start. Shape [] (a PyTorch scalar) loads as a
-- 1-element vector; an empty Ember tensor saves as shape [0]. GPU tensors are copied
-- to the host as they are written; loading gives host tensors (x:cuda() moves them).
local core = require 'ember.core'
local json = require 'ember.json'
local serial = core.serial

local M = {}

local MAX_HEADER = 100 * 1024 * 1024   -- the reference implementation's limit

local codes = { float32 = 'F32', float64 = 'F64', float16 = 'F16', bfloat16 = 'BF16', int64 = 'I64',
                int32 = 'I32', int16 = 'I16', int8 = 'I8', uint8 = 'U8', bool = 'BOOL' }
local dtypes, elemSize = {}, {}
for dtype, code in pairs(codes) do dtypes[code] = dtype end
for dtype, size in pairs { float32 = 4, float64 = 8, float16 = 2, bfloat16 = 2, int64 = 8, int32 = 4,
                           int16 = 2, int8 = 1, uint8 = 1, bool = 1 } do
  elemSize[dtype] = size
end

-- Writes the named tensors, packed by decreasing element size (so each is aligned to
-- its element size) then by name; atomically, like torch.save.
function M.save(path, tensors, metadata)
  assert(type(path) == 'string', 'saveSafetensors: the path must be a string')
  assert(type(tensors) == 'table', 'saveSafetensors: expected a table of named tensors')
  local names = {}
  for name, t in pairs(tensors) do
    if type(name) ~= 'string' or name == '__metadata__' or name == '' then
      error(('saveSafetensors: bad tensor name %s'):format(tostring(name)), 2)
    end
    if not core.isTensor(t) then error(('saveSafetensors: %s is a %s, not a tensor'):format(name, type(t)), 2) end
    names[#names + 1] = name
  end
  table.sort(names, function(a, b)
    local sa, sb = elemSize[tensors[a]:dtype()], elemSize[tensors[b]:dtype()]
    if sa ~= sb then return sa > sb end
    return a < b
  end)
  local header, offset = {}, 0
  for _, name in ipairs(names) do
    local t = tensors[name]
    local shape = t:dim() == 0 and { 0 } or t:sizeTable()
    local nbytes = t:nElement() * elemSize[t:dtype()]
    header[name] = { dtype = codes[t:dtype()], shape = shape, data_offsets = { offset, offset + nbytes } }
    offset = offset + nbytes
  end
  if metadata ~= nil then
    assert(type(metadata) == 'table', 'saveSafetensors: metadata must be a table of strings')
    for k, v in pairs(metadata) do
      if type(k) ~= 'string' or type(v) ~= 'string' then
        error('saveSafetensors: metadata keys and values must be strings', 2)
      end
    end
    if next(metadata) then header.__metadata__ = metadata end
  end
  local text = next(header) and json.encode(header) or '{}'
  text = text .. (' '):rep((8 - #text % 8) % 8)   -- data starts 8-byte aligned
  local w = serial.writer(path, false)
  local ok, err = pcall(function()
    w:long(#text)
    w:bytes(text)
    for _, name in ipairs(names) do w:raw(tensors[name]) end
  end)
  if not ok then
    w:abort()
    error(err, 0)
  end
  w:commit()
end

local function isInteger(v) return math.type(v) == 'integer' end

-- One header entry, checked: dtype known, shape of non-negative integers, offsets
-- inside the data with end - begin = the tensor's bytes. Returns dtype, shape, b, e.
local function checkEntry(path, name, e, dataSize)
  local function bad(what) error(('loadSafetensors: %s: tensor "%s": %s'):format(path, name, what), 0) end
  if type(e) ~= 'table' then bad('header entry is not an object') end
  local dtype = dtypes[e.dtype]
  if not dtype then bad('unknown dtype ' .. tostring(e.dtype)) end
  if type(e.shape) ~= 'table' or #e.shape > 8 then bad('shape must be a list of at most 8 sizes') end
  local n = 1
  for i, s in ipairs(e.shape) do
    if not isInteger(s) or s < 0 then bad('size ' .. i .. ' is not a non-negative integer') end
    if s > 0 and n > (2 ^ 53) / s then bad('shape is too large') end
    n = n * s
  end
  local off = e.data_offsets
  if type(off) ~= 'table' or #off ~= 2 or not isInteger(off[1]) or not isInteger(off[2]) then
    bad('data_offsets must be two integers')
  end
  local b, en = off[1], off[2]
  if b < 0 or en < b or en > dataSize then
    bad(('data_offsets [%d, %d] outside the %d data bytes'):format(b, en, dataSize))
  end
  if en - b ~= n * elemSize[dtype] then
    bad(('data_offsets [%d, %d] hold %d bytes, the shape needs %d'):format(b, en, en - b, n * elemSize[dtype]))
  end
  local shape = #e.shape == 0 and { 1 } or e.shape
  return dtype, shape, b, en
end

-- Reads every tensor of the file; returns {name = tensor} and the metadata table (or
-- nil). Offsets must lie inside the file and may not overlap.
function M.load(path)
  assert(type(path) == 'string', 'loadSafetensors: the path must be a string')
  local r = serial.reader(path, false)
  local ok, tensors, metadata = pcall(function()
    local n = r:long()
    if n < 2 or n > MAX_HEADER or n > r:left() then
      error(('loadSafetensors: %s: header length %d does not fit the file (%d bytes after it)')
            :format(path, n, r:left()), 0)
    end
    local ok, header = pcall(json.decode, r:bytes(n))
    if not ok or type(header) ~= 'table' or header[1] ~= nil then
      error(('loadSafetensors: %s: the header is not a JSON object (%s)'):format(path, ok and 'an array' or header), 0)
    end
    local dataStart, dataSize = 8 + n, r:left()
    local entries, meta = {}, nil
    for name, e in pairs(header) do
      if name == '__metadata__' then
        if type(e) ~= 'table' then error(('loadSafetensors: %s: __metadata__ is not an object'):format(path), 0) end
        meta = {}
        for k, v in pairs(e) do
          if type(v) ~= 'string' then error(('loadSafetensors: %s: metadata "%s" is not a string'):format(path, k), 0) end
          meta[k] = v
        end
      else
        local dtype, shape, b, en = checkEntry(path, name, e, dataSize)
        entries[#entries + 1] = { name = name, dtype = dtype, shape = shape, b = b, e = en }
      end
    end
    table.sort(entries, function(x, y) return x.b < y.b or (x.b == y.b and x.e < y.e) end)
    for i = 2, #entries do
      local p, q = entries[i - 1], entries[i]
      if q.b < p.e then
        error(('loadSafetensors: %s: tensors "%s" and "%s" overlap'):format(path, p.name, q.name), 0)
      end
    end
    local out = {}
    for _, e in ipairs(entries) do
      r:seek(dataStart + e.b)
      out[e.name] = r:raw(e.dtype, e.shape)
    end
    return out, meta
  end)
  r:close()
  if not ok then error(tensors, 0) end
  return tensors, metadata
end

return M
