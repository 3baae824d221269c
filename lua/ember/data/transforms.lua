-- Batch transforms for DataLoader: each returns a function(batch, gen) that changes
-- batch (a table of fields; field 1 the inputs, 2 the targets by default) in place, in
-- C. gen is the loader's generator, so random transforms replay from its seed.
local torch = require 'ember'
local C = torch.data

local T = {}

-- (x - mean) / std per entry of dim 2 (channel or feature); numbers or tables.
function T.normalize(mean, std, field)
  field = field or 1
  return function(batch) C.normalize(batch[field], mean, std) end
end

-- Labels (n) in 1..k -> one-hot rows (n x k), float32 unless dtype is given.
function T.oneHot(k, field, dtype)
  field = field or 2
  local out = torch.empty({ 0 }, dtype or 'float32')
  return function(batch)
    C.oneHot(out, batch[field], k, 1)
    batch[field] = out
  end
end

-- Images N x C x H x W: a random crop of the zero-padded image (shift by -pad..pad).
function T.randomCrop(pad, field)
  field = field or 1
  return function(batch, gen) C.randomCrop(batch[field], pad, gen) end
end

-- Mirror each sample along its last dim with probability p (default 0.5).
function T.randomFlip(p, field)
  field = field or 1
  return function(batch, gen) C.randomFlip(batch[field], p or 0.5, gen) end
end

-- N x ... -> N x D (a view).
function T.flatten(field)
  field = field or 1
  return function(batch)
    local x = batch[field]
    batch[field] = x:view(x:size(1), -1)
  end
end

return T
