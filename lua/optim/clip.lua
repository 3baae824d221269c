-- Gradient clipping, in place, for a gradient tensor (the flat vector from
-- getParameters()) or a list of them:
--   optim.clipGradNorm(grads, maxNorm [, p = 2]) -> the norm before clipping
--     rescales grads by maxNorm / (norm + 1e-6) when their joint p-norm exceeds maxNorm
--     (p a positive number, or math.huge / 'inf' for the largest |g|), as PyTorch's
--     clip_grad_norm_
--   optim.clipGradValue(grads, value) -> grads
--     clamps every element to [-value, value]
local torch = require 'torch'

local clip = {}

local function list(what, grads)
  if torch.isTensor(grads) then return { grads } end
  if type(grads) ~= 'table' or #grads == 0 then
    error(('optim.%s: grads must be a tensor or a list of tensors, got %s')
          :format(what, type(grads)), 3)
  end
  return grads
end

-- grads (tensor or list), maxNorm >= 0, p > 0 -> the total p-norm before clipping
function clip.clipGradNorm(grads, maxNorm, p)
  local gs = list('clipGradNorm', grads)
  if type(maxNorm) ~= 'number' or maxNorm < 0 then
    error(('optim.clipGradNorm: maxNorm must be a non-negative number, got %s')
          :format(tostring(maxNorm)), 2)
  end
  p = p or 2
  if p == 'inf' then p = math.huge end
  if type(p) ~= 'number' or p <= 0 then
    error(('optim.clipGradNorm: p must be a positive number or math.huge, got %s')
          :format(tostring(p)), 2)
  end
  local total = 0
  for _, g in ipairs(gs) do
    local n = g:nElement() > 0 and g:norm(p) or 0
    if p == math.huge then total = math.max(total, n) else total = total + n ^ p end
  end
  if p ~= math.huge then total = total ^ (1 / p) end
  local coef = maxNorm / (total + 1e-6)
  if coef < 1 then
    for _, g in ipairs(gs) do g:mul(coef) end
  end
  return total
end

-- grads (tensor or list), value > 0 -> grads, clamped to [-value, value]
function clip.clipGradValue(grads, value)
  local gs = list('clipGradValue', grads)
  if type(value) ~= 'number' or value < 0 then
    error(('optim.clipGradValue: value must be a non-negative number, got %s')
          :format(tostring(value)), 2)
  end
  for _, g in ipairs(gs) do g:clamp(-value, value) end
  return grads
end

return clip
