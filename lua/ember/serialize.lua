-- torch.save / torch.load / torch.serialize / torch.deserialize in Torch7's .t7 format
-- (binary or ascii), so files move both ways between Ember and Torch7. The object
-- graph is walked here; bytes and storage payloads move in C (ember.core.serial).
--
-- What a file may hold: nil, numbers, strings, booleans, tables (shared references and
-- cycles kept), tensors of every dtype (views and shared storages kept) and objects of
-- known classes (nn modules; see registerClass). Loading never runs code from the
-- file: functions (type tags 6, 7, 8) are refused, and every size, offset, stride and
-- count is checked against the file and the storage before anything is allocated.
--
-- GPU tensors are written as cutorch wrote them: class torch.CudaTensor (float32),
-- torch.CudaDoubleTensor, torch.CudaHalfTensor, ... over a torch.CudaStorage,
-- torch.CudaDoubleStorage, ..., whose payload is the CPU storage's (cutorch copied the
-- elements to the host and wrote them as such), so views keep sharing one storage. On
-- loading, such a tensor goes to the GPU when there is one, as under cutorch, else it
-- loads on the host as the matching CPU type (torch.CudaTensor -> torch.FloatTensor);
-- load's `device` option chooses (see M.load).
local core = require 'ember.core'
local serial = core.serial

local M = {}

local TYPE_NIL, TYPE_NUMBER, TYPE_STRING, TYPE_TABLE, TYPE_TORCH, TYPE_BOOLEAN = 0, 1, 2, 3, 4, 5
local MAX_DEPTH = 10000   -- nesting of tables and objects a file may have

-- Torch7 class names of tensors and storages, per Ember dtype: classes[name] = {dtype,
-- kind = 'Tensor' | 'Storage', cuda = true for cutorch's}; names[cuda][kind][dtype] = name
-- (names[false] for the CPU); hostName['torch.CudaTensor'] = 'torch.FloatTensor'.
local classPrefix = { float32 = 'Float', float64 = 'Double', float16 = 'Half', bfloat16 = 'BFloat16',
                      int64 = 'Long', int32 = 'Int', int16 = 'Short', int8 = 'Char', uint8 = 'Byte',
                      bool = 'Bool' }
local classes, names, hostName = {}, { [false] = { Tensor = {}, Storage = {} },
                                       [true] = { Tensor = {}, Storage = {} } }, {}
for dtype, prefix in pairs(classPrefix) do
  local cudaPrefix = 'Cuda' .. (prefix == 'Float' and '' or prefix)   -- torch.CudaTensor is float32
  for _, kind in ipairs { 'Tensor', 'Storage' } do
    local cpu, gpu = 'torch.' .. prefix .. kind, 'torch.' .. cudaPrefix .. kind
    classes[cpu] = { dtype = dtype, kind = kind, cuda = false }
    classes[gpu] = { dtype = dtype, kind = kind, cuda = true }
    names[false][kind][dtype], names[true][kind][dtype] = cpu, gpu
    hostName[gpu] = cpu
  end
end

-- Classes besides nn's that load may build, by Torch7 class name.
local registry = {}

-- Per-class adjustments of the field table: Torch7's nn.ReLU is an nn.Threshold and
-- needs threshold/val/inplace, which Ember's ReLU does not use but keeps.
local saveFixups = {
  ['nn.ReLU'] = function(fields)
    if fields.threshold == nil then fields.threshold = 0 end
    if fields.val == nil then fields.val = 0 end
    if fields.inplace == nil then fields.inplace = false end
  end,
}

-- Makes load build objects of class `name` as setmetatable(fields, class). Use it for
-- classes that are not nn modules (those are found by name once 'nn' is loaded).
function M.registerClass(name, class)
  assert(type(name) == 'string', 'registerClass: the class name must be a string')
  assert(type(class) == 'table', 'registerClass: the class must be a table (the instances\' metatable)')
  registry[name] = class
end

local function findClass(name)
  if registry[name] then return registry[name] end
  local short = name:match('^nn%.([%w_]+)$')
  if short then
    local ok, nn = pcall(require, 'nn')
    local class = ok and type(nn) == 'table' and nn[short]   -- loads a class on first use
    if type(class) == 'table' and class.__typename == name then return class end
  end
end

local function checkFormat(fname, format)
  if format == nil or format == 'binary' then return false end
  if format == 'ascii' then return true end
  error(("%s: format must be 'binary' or 'ascii', got %s"):format(fname, tostring(format)), 3)
end

---------------------------------------------------------------------------- writing

-- Where in the object the writer is, for messages: obj.modules[2].f
local function pathString(path)
  local parts = { 'obj' }
  for _, k in ipairs(path) do
    if type(k) == 'string' and k:match('^[%a_][%w_]*$') then parts[#parts + 1] = '.' .. k
    elseif type(k) == 'string' then parts[#parts + 1] = ('[%q]'):format(k)
    else parts[#parts + 1] = '[' .. tostring(k) .. ']' end
  end
  return table.concat(parts)
end

local writeObject

-- The object index of key (a table, tensor or storage key) in index (default: the
-- state's) and whether it is new.
local function indexOf(st, key, index)
  index = index or st.index
  local idx = index[key]
  if idx then return idx, false end
  st.count = st.count + 1
  index[key] = st.count
  return st.count, true
end

local function writeTorchHeader(w, className)
  w:string('V 1')
  w:string(className)
end

-- tensor: header, then its storage as an object written once per storage
local function writeTensor(st, t)
  local w = st.w
  local idx, new = indexOf(st, t)
  w:int(TYPE_TORCH)
  w:int(idx)
  if not new then return end
  local dtype, cuda = t:dtype(), t:device() ~= 'cpu'
  writeTorchHeader(w, names[cuda].Tensor[dtype])
  w:tensorHeader(t)
  local key = serial.storageKey(t)
  if key == nil or t:dim() == 0 then w:int(TYPE_NIL) return end
  st.storageKeys[dtype] = st.storageKeys[dtype] or {}   -- one storage object per dtype
  local sidx, snew = indexOf(st, key, st.storageKeys[dtype])
  w:int(TYPE_TORCH)
  w:int(sidx)
  if snew then
    writeTorchHeader(w, names[cuda].Storage[dtype])
    w:storage(t)   -- a GPU storage is copied to the host in C
  end
end

local function writeTable(st, t)
  local w = st.w
  local idx, new = indexOf(st, t)
  w:int(TYPE_TABLE)
  w:int(idx)
  if not new then return end
  local path = st.path
  if #path >= MAX_DEPTH then error(('save: objects nested deeper than %d'):format(MAX_DEPTH), 0) end
  local n = 0
  for _ in next, t do n = n + 1 end
  w:int(n)
  for k, v in next, t do
    path[#path + 1] = k
    writeObject(st, k)
    writeObject(st, v)
    path[#path] = nil
  end
end

-- an instance of a class: a torch object whose payload is a copy of its fields
local function writeInstance(st, obj, className)
  local w = st.w
  local idx, new = indexOf(st, obj)
  w:int(TYPE_TORCH)
  w:int(idx)
  if not new then return end
  writeTorchHeader(w, className)
  local fields = {}
  for k, v in next, obj do fields[k] = v end
  if saveFixups[className] then saveFixups[className](fields) end
  writeTable(st, fields)
end

function writeObject(st, v)
  local w, ty = st.w, type(v)
  if ty == 'nil' then w:int(TYPE_NIL)
  elseif ty == 'number' then w:int(TYPE_NUMBER) w:double(v)
  elseif ty == 'string' then w:int(TYPE_STRING) w:string(v)
  elseif ty == 'boolean' then w:int(TYPE_BOOLEAN) w:int(v and 1 or 0)
  elseif core.isTensor(v) then writeTensor(st, v)
  elseif ty == 'table' then
    local mt = getmetatable(v)
    local name = type(mt) == 'table' and rawget(mt, '__typename')
    if type(name) == 'string' then writeInstance(st, v, name) else writeTable(st, v) end
  elseif ty == 'function' then
    error(('save: cannot save the function at %s: a saved file holds data, never code')
          :format(pathString(st.path)), 0)
  else
    error(('save: cannot save the %s at %s'):format(ty, pathString(st.path)), 0)
  end
end

-- Writes obj with writer w, then commits it; on any error the writer is dropped (a
-- file target keeps its previous contents) and the error is raised again.
local function writeAll(w, obj)
  local ok, err = pcall(writeObject, { w = w, index = {}, storageKeys = {}, count = 0, path = {} }, obj)
  if not ok then
    w:abort()
    error(err, 0)
  end
  return w:commit()
end

-- torch.save(path, obj [, 'binary'|'ascii']): atomically (a temporary file, fsync,
-- rename); a failure leaves any previous file at path untouched.
function M.save(path, obj, format)
  assert(type(path) == 'string', 'save: the path must be a string')
  writeAll(serial.writer(path, checkFormat('save', format)), obj)
end

-- torch.serialize(obj [, format]) -> string, the bytes torch.save would write
function M.serialize(obj, format)
  return writeAll(serial.writer(nil, checkFormat('serialize', format)), obj)
end

---------------------------------------------------------------------------- reading

local readObject

local function fail(st, at, fmt, ...)
  error(('load: %s at byte %d: ' .. fmt):format(st.r:name(), at, ...), 0)
end

-- A float64 from the file; integral values become Lua integers (Torch7 has only one
-- number type; -0.0, fractions, infinities and NaN stay floats).
local function toNumber(x)
  local i = math.tointeger(x)
  if i and (i ~= 0 or 1 / x > 0) then return i end
  return x
end

local function readTable(st, at, idx, depth)
  local r = st.r
  local n = r:int()
  r:count('int32', 2 * n, 'table size')   -- each pair holds at least two type tags
  local t = {}
  st.objects[idx] = t
  for _ = 1, n do
    local kat = r:pos()
    local k = readObject(st, depth + 1)
    local v = readObject(st, depth + 1)
    if k == nil or k ~= k then fail(st, kat, 'a table key is %s', tostring(k)) end
    rawset(t, k, v)
  end
  return t
end

-- A tensor or storage read from a cutorch record, moved to st.gpu (nil: left on the host).
local function toGpu(st, at, className, t)
  if not st.gpu then return t end
  local ok, g = pcall(t.to, t, st.gpu)
  if not ok then fail(st, at, 'cannot put a %s on %s: %s', className, st.gpu, g) end
  return g
end

local function readTensor(st, at, idx, className, class, depth)
  local dtype = class.dtype
  local sizes, strides, offset = st.r:tensorHeader()
  local storage = readObject(st, depth + 1)
  local t
  local function empty()
    local e = core.new(dtype)
    return class.cuda and toGpu(st, at, className, e) or e
  end
  if #sizes == 0 then
    t = empty()
  elseif storage == nil then
    local ok, err = pcall(serial.view, empty(), offset, sizes, strides)
    if not ok then fail(st, at, 'a tensor with elements has no storage (%s)', err) end
    t = err
  else
    local want = names[class.cuda].Storage[dtype]
    if st.storages[storage] ~= want then
      fail(st, at, 'a %s\'s storage is a %s, not a %s', className, st.storages[storage] or type(storage), want)
    end
    local ok, err = pcall(serial.view, storage, offset, sizes, strides)
    if not ok then fail(st, at, '%s', err) end
    t = err
  end
  st.objects[idx] = t
  return t
end

local function readInstance(st, at, idx, className, depth)
  local class = findClass(className)
  if not class then
    fail(st, at, "unknown class '%s'; require the package that defines it, or "
         .. "torch.registerClass('%s', class)", className, className)
  end
  local obj = setmetatable({}, class)
  st.objects[idx] = obj
  local fields = readObject(st, depth + 1)
  if type(fields) ~= 'table' or getmetatable(fields) ~= nil then
    fail(st, at, 'the fields of a %s are a %s, not a table', className, type(fields))
  end
  -- a module saved on the GPU and loaded on the host says so in its Torch7 type field
  if not st.gpu and hostName[fields._type] then fields._type = hostName[fields._type] end
  for k, v in next, fields do rawset(obj, k, v) end
  return obj
end

local function readTorch(st, at, depth)
  local r = st.r
  local idx = r:int()
  if st.objects[idx] ~= nil then return st.objects[idx] end
  local version = r:string()
  local className = version
  if version:match('^V %d+$') then className = r:string() end
  local class = classes[className]
  if class and class.kind == 'Tensor' then return readTensor(st, at, idx, className, class, depth) end
  if class then
    local s = r:storage(class.dtype)
    if class.cuda then s = toGpu(st, at, className, s) end
    st.storages[s] = className
    st.objects[idx] = s
    return s
  end
  return readInstance(st, at, idx, className, depth)
end

function readObject(st, depth)
  local r = st.r
  local at = r:pos()
  if depth > MAX_DEPTH then fail(st, at, 'objects nested deeper than %d', MAX_DEPTH) end
  local tag = r:int()
  if tag == TYPE_NIL then return nil
  elseif tag == TYPE_NUMBER then return toNumber(r:double())
  elseif tag == TYPE_STRING then return r:string()
  elseif tag == TYPE_BOOLEAN then return r:int() ~= 0
  elseif tag == TYPE_TABLE then
    local idx = r:int()
    if st.objects[idx] ~= nil then return st.objects[idx] end
    return readTable(st, at, idx, depth)
  elseif tag == TYPE_TORCH then return readTorch(st, at, depth)
  elseif tag >= 6 and tag <= 8 then
    fail(st, at, 'the file holds a Lua function (type tag %d); loading code is refused', tag)
  end
  fail(st, at, 'unknown type tag %d', tag)
end

-- st.gpu: where tensors saved from a GPU go ('cuda', 'cuda:N'), nil for the host.
local function readAll(r, gpu)
  local st = { r = r, gpu = gpu, objects = {}, storages = setmetatable({}, { __mode = 'k' }) }
  local ok, obj = pcall(readObject, st, 0)
  r:close()
  if not ok then error(obj, 0) end
  return obj
end

-- The first byte of a binary file is a type tag (0..8); an ascii file starts with a digit.
local function looksAscii(first) return first ~= nil and first:match('^%s*%d') ~= nil end

-- The options of load and deserialize, checked: format (nil: detect) and where tensors
-- saved from a GPU go (a device string for x:to, or nil for the host). A boolean third
-- argument is Torch7's `referenced` flag, which changes nothing here (references are
-- always kept).
local function loadOptions(fname, format, options)
  if type(format) == 'table' and options == nil then format, options = nil, format end
  if type(options) == 'boolean' then options = nil end
  if options ~= nil and type(options) ~= 'table' then
    error(('%s: options must be a table, got a %s'):format(fname, type(options)), 3)
  end
  options = options or {}
  for k in pairs(options) do
    if k ~= 'device' then error(('%s: unknown option %s'):format(fname, tostring(k)), 3) end
  end
  local device = options.device
  if device == nil or device == 'auto' then   -- cutorch's behaviour, or the host without a GPU
    return format, core.cuda.isAvailable() and 'cuda' or nil
  elseif device == 'cpu' then
    return format, nil
  elseif device == 'cuda' or (type(device) == 'string' and device:match('^cuda:%d+$')) then
    local ok, why = core.cuda.isAvailable()
    if not ok then error(("%s: device '%s' asked for, but no CUDA device can be used: %s"):format(fname, device, why), 3) end
    local n = tonumber(device:match('^cuda:(%d+)$'))
    if n and n >= core.cuda.deviceCount() then
      error(("%s: device '%s' does not exist (%d present, numbered from 0)")
            :format(fname, device, core.cuda.deviceCount()), 3)
    end
    return format, device
  end
  error(("%s: device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got %s"):format(fname, tostring(device)), 3)
end

-- torch.load(path [, 'binary'|'ascii'] [, options]) -> obj; the format is detected when
-- omitted. options.device says where tensors saved from a GPU (torch.Cuda* records) go:
--   nil or 'auto'  the current GPU when one is available (as cutorch did), else the host
--                  as the matching CPU type (torch.CudaTensor -> torch.FloatTensor)
--   'cpu'          the host, even on a machine with a GPU
--   'cuda', 'cuda:N'  that GPU (0-based, as x:device() prints it); an error without one
-- Tensors saved from the host stay on the host whatever the option (x:cuda() or
-- model:cuda() after loading moves them).
function M.load(path, format, options)
  assert(type(path) == 'string', 'load: the path must be a string')
  local gpu
  format, gpu = loadOptions('load', format, options)
  local ascii = checkFormat('load', format)
  if format == nil then
    local f = io.open(path, 'rb')
    if f then ascii = looksAscii(f:read(4)) f:close() end
  end
  return readAll(serial.reader(path, ascii), gpu)
end

-- torch.deserialize(str [, format] [, options]) -> obj, with load's options
function M.deserialize(str, format, options)
  assert(type(str) == 'string', 'deserialize: expected a string')
  local gpu
  format, gpu = loadOptions('deserialize', format, options)
  local ascii = checkFormat('deserialize', format)
  if format == nil then ascii = looksAscii(str:sub(1, 4)) end
  return readAll(serial.reader(str, ascii, true), gpu)
end

-- Installs save, load, serialize, deserialize, registerClass and the safetensors
-- functions on the torch/ember module.
function M.install(torch)
  for _, name in ipairs { 'save', 'load', 'serialize', 'deserialize', 'registerClass' } do
    torch[name] = M[name]
  end
  local safetensors = require 'ember.safetensors'
  torch.saveSafetensors, torch.loadSafetensors = safetensors.save, safetensors.load
end

return M
