-- nn on the GPU: Module:cuda() and Criterion:cuda() (cunn's spelling of
-- :type('torch.CudaTensor'): float32 on the current device), and the opt-in bfloat16
-- autocast that matrix products, convolutions and attention consult, on both devices.
--
--   model:cuda(); criterion:cuda()        -- and x:cuda(); nothing else changes
--   model:float()                         -- back to the CPU
--   nn.autocast('bfloat16', function()    -- products in bfloat16 inside fn only;
--     loss = criterion:forward(model:forward(x), y)  -- weights stay float32 (master)
--     model:backward(x, criterion:backward(model.output, y))
--   end)
--   nn.autocast('bfloat16')  /  nn.autocast(false)   -- on / off from here on
--
-- Autocast applies to float32 modules (CPU or CUDA): Linear, the convolutions
-- (Spatial, SpatialDilated, SpatialFull, Temporal) and MultiheadAttention (its
-- projections and the attention products, so TransformerBlock and GPT too) pass
-- nn.autocastFor(weight) to their C ops, whose products then read every operand as
-- bfloat16 and sum in float32, forward and backward. Outputs, parameters, their
-- gradients and the optimizer's state stay float32; biases, norms, softmax and losses
-- are untouched. float64 modules ignore it.
local torch = require 'torch'
local nn = require 'nn'

-- Raises the reason when no GPU can be used, before anything is converted, so a
-- failed :cuda() leaves the module as it was.
local function checkDevice(obj)
  local ok, why = torch.cuda.isAvailable()
  if not ok then
    error(('%s:cuda(): no CUDA device is available (%s)'):format(torch.type(obj), tostring(why)), 3)
  end
end

-- Every floating-point tensor of the module (and its children) to float32 on the
-- current GPU; call getParameters() after, as after any type().
function nn.Module:cuda(...)
  checkDevice(self)
  return self:type('torch.CudaTensor', ...)
end

function nn.Criterion:cuda(...)
  checkDevice(self)
  return self:type('torch.CudaTensor', ...)
end

-- --- autocast ---

local castTypes = { bfloat16 = 'torch.CudaBFloat16Tensor' }
local active = nil   -- the autocast dtype in force ('bfloat16'), or nil

local function checkDtype(dtype)
  if dtype ~= false and dtype ~= nil and not castTypes[dtype] then
    error(("nn.autocast: dtype must be 'bfloat16' or false, got %s"):format(tostring(dtype)), 3)
  end
  return dtype or nil
end

-- nn.autocast(dtype, fn, ...): runs fn(...) with autocast to dtype and returns what fn
-- returns; the previous setting comes back afterwards, also when fn raises (the error
-- is rethrown). nn.autocast(dtype | false): sets it from here on and returns the
-- previous setting (nil when it was off).
function nn.autocast(dtype, fn, ...)
  dtype = checkDtype(dtype)
  local previous = active
  if fn == nil then
    active = dtype
    return previous
  end
  if type(fn) ~= 'function' then
    error(('nn.autocast: expected a function as argument 2, got %s'):format(type(fn)), 2)
  end
  active = dtype
  local results = table.pack(pcall(fn, ...))
  active = previous
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

-- The autocast dtype in force ('bfloat16'), or nil when it is off.
function nn.autocastType() return active end

-- The precision a module's products take for its weight w (the last argument of the
-- torch.linear / mm / addmm, torch.nnops.conv* and torch.attnops.attention_* calls):
-- 'bfloat16' when autocast is on and w is float32, else nil (full precision).
function nn.autocastFor(w)
  if active and w:dtype() == 'float32' then return active end
  return nil
end

-- A bfloat16 copy of x on its device when autocast is on and x is a float32 CUDA
-- tensor, else x itself: for code of one's own that wants bfloat16 data (the modules
-- above round inside their C ops instead, with no copy).
function nn.autocastTensor(x)
  if active and torch.isTensor(x) and x:type() == 'torch.CudaTensor' then
    return x:type(castTypes[active])
  end
  return x
end

return nn
