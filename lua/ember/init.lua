-- The `ember` module: the C engine (ember.core) plus the parts of the tensor API that
-- are naturally Lua (Torch7 type names, dtype shortcuts, printing). Touches no global.
local core = require 'ember.core'

local ember = core
local methods = core.methods

-- Torch7 constructors: torch.FloatTensor(...), torch.LongTensor(...), ...
local constructors = {
  Tensor = false, FloatTensor = 'float32', DoubleTensor = 'float64', HalfTensor = 'float16',
  BFloat16Tensor = 'bfloat16', LongTensor = 'int64', IntTensor = 'int32', ShortTensor = 'int16',
  CharTensor = 'int8', ByteTensor = 'uint8', BoolTensor = 'bool',
}
for name, dtype in pairs(constructors) do
  local new = core.new
  if dtype then
    ember[name] = function(...) return new(dtype, ...) end
  else
    ember[name] = function(...) return new(nil, ...) end
  end
end

-- x:float(), x:double(), ... : the same tensor when the dtype already matches
local shortcuts = {
  float = 'float32', double = 'float64', half = 'float16', bfloat16 = 'bfloat16',
  long = 'int64', int = 'int32', short = 'int16', char = 'int8', byte = 'uint8', bool = 'bool',
}
for name, dtype in pairs(shortcuts) do
  methods[name] = function(self) return methods.type(self, dtype) end
end

function ember.setdefaulttensortype(name) core.setdefaultdtype(name) end

-- torch.type(x): the Torch7 class name of a tensor, else Lua's type
function ember.type(obj)
  if core.isTensor(obj) then return obj:type() end
  local mt = getmetatable(obj)
  if type(mt) == 'table' and type(mt.__typename) == 'string' then return mt.__typename end
  return type(obj)
end
ember.typename = ember.type

-- *_like creation
function ember.zeros_like(x, dtype) return core.zeros(x:size(), dtype or x:dtype()) end
function ember.ones_like(x, dtype) return core.ones(x:size(), dtype or x:dtype()) end
function ember.empty_like(x, dtype) return core.empty(x:size(), dtype or x:dtype()) end
function ember.full_like(x, v, dtype) return core.full(x:size(), v, dtype or x:dtype()) end

-- Torch7's `*`: a tensor times a number scales; two tensors multiply as matrices
-- (1-D . 1-D is a dot product, 2-D x 1-D a matrix-vector product, batched with broadcasting).
do
  local mt, scale = core.metatable, core.metatable.__mul
  local isTensor, matmul = core.isTensor, core.matmul
  mt.__mul = function(a, b)
    if isTensor(a) and isTensor(b) then return matmul(a, b) end
    return scale(a, b)
  end
end

local ok, printing = pcall(require, 'ember.print')
if ok then printing.install(ember) end

require('ember.serialize').install(ember)

-- torch.Timer() (Torch7): wall and CPU time since creation or reset
local Timer = require 'ember.Timer'
function ember.Timer() return Timer.new(core.clock) end

return ember
