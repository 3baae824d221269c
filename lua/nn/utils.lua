-- Helpers shared by the nn classes (Torch7's nn.utils): type conversion of nested
-- fields, clearing buffers, describing sizes, and flattening parameters into one tensor.
local torch = require 'torch'

local utils = {}

-- "4x5" for a tensor, "empty" for an empty one, the Lua type otherwise.
function utils.sizeStr(x)
  if not torch.isTensor(x) then return type(x) end
  if x:dim() == 0 then return 'empty' end
  return table.concat(x:sizeTable(), 'x')
end

-- Errors unless t has ref's size: "nn.Tanh: gradOutput has size 2x3, expected 3x2".
function utils.checkSameSize(module, what, t, ref)
  if not t:isSameSizeAs(ref) then
    error(('%s: %s has size %s, expected %s'):format(torch.type(module), what, utils.sizeStr(t),
                                                     utils.sizeStr(ref)), 0)
  end
end

-- f(...) for a module: an error it raises comes back as "nn.ClassNLLCriterion: <message>"
-- (without the position the C op's message carries). Returns f's first two results.
function utils.call(module, f, ...)
  local ok, a, b = pcall(f, ...)
  if not ok then
    local msg = tostring(a):gsub('^[^\n:]*:%d+: ', '')
    error(('%s: %s'):format(torch.type(module), msg), 0)
  end
  return a, b
end

-- Errors unless the module's output matches this input (backward needs the forward).
function utils.checkForwarded(module, input)
  if module.output:nElement() ~= input:nElement() then
    error(('%s: updateGradInput called before forward on an input of size %s')
          :format(torch.type(module), utils.sizeStr(input)), 0)
  end
end

-- The class dim of a softmax-like module (1-based): module.dim when set, else
-- Torch7's choice: 1 for (K) and (K, H, W), 2 for (N, K) and (N, K, H, W).
function utils.classDim(module, input)
  local n = input:dim()
  if module.dim then
    if module.dim < 1 or module.dim > n then
      error(('%s: dim %d out of range for an input of size %s'):format(torch.type(module),
            module.dim, utils.sizeStr(input)), 0)
    end
    return module.dim
  end
  if n < 1 or n > 4 then
    error(('%s: expected 1 to 4 dimensions, got an input of size %s'):format(torch.type(module),
          utils.sizeStr(input)), 0)
  end
  return (n == 1 or n == 3) and 1 or 2
end

-- t (integer indices: class targets, embedding rows) as int64 on ref's device, for
-- `module`. Indices on the CPU go to ref's GPU, as Torch7's cunn did (scripts keep
-- their targets on the CPU); indices already on another device than ref are an error
-- naming the module and both devices: "nn.ClassNLLCriterion: targets are on cuda:0 but
-- the input is on cpu".
function utils.indicesOn(module, what, t, ref, refName)
  local from, to = t:device(), ref:device()
  if from ~= to and from ~= 'cpu' then
    error(('%s: %s are on %s but the %s is on %s'):format(torch.type(module), what, from,
          refName, to), 0)
  end
  return t:to(to, 'int64')
end

-- Class targets from a tensor or a number, as int64 on input's device (a number
-- becomes a one-element tensor there); see utils.indicesOn.
function utils.classTargets(module, target, input)
  if type(target) == 'number' then target = torch.LongTensor({ target }) end
  if not torch.isTensor(target) then
    error(('%s: target must be a LongTensor of classes or a number, got %s')
          :format(torch.type(module), type(target)), 0)
  end
  if not input then return target:to('int64') end
  return utils.indicesOn(module, 'targets', target, input, 'input')
end

-- The (1) gradient of a reduced loss: ones in input's dtype.
function utils.gradOne(module, input)
  local one = module.gradOutputOne
  if one:nElement() ~= 1 or one:dtype() ~= input:dtype() then
    one = torch.ones(1, input:dtype())
    module.gradOutputOne = one
  end
  return one
end

-- A key naming a tensor's exact view (first element, sizes, strides): tensors that
-- share a view (module:share(), x:set(y)) have the same key.
function utils.viewKey(x)
  return ('%s|%s|%s|%s'):format(tostring(x:dataPtr()), x:dtype(),
                                table.concat(x:sizeTable(), ','),
                                x:dim() > 0 and table.concat(x:stride():totable(), ',') or '')
end

-- The device a tensor type name puts tensors on: 'cuda' for the Cuda names
-- ('torch.CudaTensor', 'torch.CudaLongTensor', 'CudaTensor'), else 'cpu'.
function utils.typeDevice(typename)
  return (typename:match('^torch%.Cuda') or typename:match('^Cuda')) and 'cuda' or 'cpu'
end

-- One tensor of a module converted to `typename`: floating-point tensors take the type
-- (dtype and device); integer and bool tensors (indices, class targets, masks) keep
-- their dtype and follow the device, so :cuda() moves them to the GPU as int64 and
-- :float() brings them back as int64 CPU tensors. A tensor already on a GPU stays on
-- its own GPU for a Cuda type, as x:type('torch.CudaTensor') does.
function utils.convertTensor(t, typename)
  if t:dtype():match('^b?float') then return t:type(typename) end
  local device = utils.typeDevice(typename)
  if device == 'cuda' and t:device() ~= 'cpu' then return t end
  return t:to(device)
end

-- Converts the tensors in `param` (a tensor, a module or a nested table) to type
-- `typename` ('torch.DoubleTensor') with utils.convertTensor. Tensors with one view
-- share one converted tensor (cache, keyed by utils.viewKey), so share()d weights stay
-- shared.
function utils.recursiveType(param, typename, cache)
  cache = cache or {}
  if torch.isTensor(param) then
    if param:dim() == 0 then return utils.convertTensor(torch.new(param:dtype()), typename) end
    local key = utils.viewKey(param)
    cache[key] = cache[key] or utils.convertTensor(param, typename)
    return cache[key]
  elseif type(param) == 'table' then
    local mt = getmetatable(param)
    if mt and type(mt.__typename) == 'string' and type(param.type) == 'function' then
      return param:type(typename, cache)   -- a module or criterion converts itself
    end
    for k, v in pairs(param) do param[k] = utils.recursiveType(v, typename, cache) end
  end
  return param
end

-- A deep copy of obj (Torch7's clone through serialisation): tables are copied with
-- their metatables (classes are not copied), tensors are cloned, tensors sharing one
-- view share one clone, a table reached twice is copied once.
function utils.deepcopy(obj, cache)
  cache = cache or {}
  if torch.isTensor(obj) then
    if obj:dim() == 0 then return torch.new(obj:dtype()) end
    local key = utils.viewKey(obj)
    cache[key] = cache[key] or obj:clone()
    return cache[key]
  elseif type(obj) ~= 'table' then
    return obj
  end
  if cache[obj] then return cache[obj] end
  local copy = {}
  cache[obj] = copy
  for k, v in pairs(obj) do copy[utils.deepcopy(k, cache)] = utils.deepcopy(v, cache) end
  return setmetatable(copy, getmetatable(obj))
end

-- Empties the named fields of a module: tensors keep their type but lose their storage,
-- tables become empty (Torch7's nn.utils.clear).
function utils.clear(self, ...)
  for _, name in ipairs { ... } do
    local v = self[name]
    if torch.isTensor(v) then v:set()
    elseif type(v) == 'table' then self[name] = {} end
  end
  return self
end

-- Drops the named fields without emptying them (they may be borrowed from another
-- module): tensors are replaced by new empty ones of the same dtype, tables by {}.
function utils.drop(self, ...)
  for _, name in ipairs { ... } do
    local v = self[name]
    if torch.isTensor(v) then self[name] = torch.new(v:dtype())
    elseif type(v) == 'table' then self[name] = {} end
  end
  return self
end

-- One contiguous tensor holding the values of every tensor in the list; each tensor
-- is then re-pointed (x:set) at its slice, so writing the flat tensor writes them.
-- Tensors sharing a view get one slice. Returns the flat tensor (empty when none).
function utils.flatten(tensors)
  if not tensors or #tensors == 0 then return torch.Tensor() end
  local dtype = tensors[1]:dtype()
  local keys, offsets, total = {}, {}, 0
  for i, t in ipairs(tensors) do
    if t:dtype() ~= dtype then
      error(('getParameters: parameter %d is %s, parameter 1 is %s; convert the module with :type() first')
            :format(i, t:dtype(), dtype), 0)
    end
    keys[i] = utils.viewKey(t)
    if not offsets[keys[i]] then
      offsets[keys[i]] = total
      total = total + t:nElement()
    end
  end
  local flat = torch.empty(total, dtype)
  for i, t in ipairs(tensors) do   -- copy every value before any tensor moves
    local n = t:nElement()
    if n > 0 then flat:narrow(1, offsets[keys[i]] + 1, n):copy(t) end
  end
  for i, t in ipairs(tensors) do
    local n = t:nElement()
    if n > 0 then t:set(flat:narrow(1, offsets[keys[i]] + 1, n):view(t:size())) end
  end
  return flat
end

return utils
