--[[ optim.regularize(params, grads, config): adds the gradient of L1 and L2 penalties to
grads, in place, before an optimizer step:
  grads = grads + l1 * sign(params) + l2 * params
which is the gradient of  penalty = l1 * sum |params| + l2 / 2 * sum params^2.

ARGS:
- params : the parameters, a tensor (the flat vector from getParameters()) or a list
- grads  : their gradients, alike (updated in place)
- config : a table
  - config.l1 : L1 strength (default 0)
  - config.l2 : L2 strength (default 0); like the optimizers' weightDecay, so use one
                or the other

RETURN: grads, the penalty's value (to add to the reported loss)
]]
local torch = require 'torch'

local function strength(config, key)
  local v = config[key] or 0
  if type(v) ~= 'number' or v < 0 then
    error(('optim.regularize: config.%s must be a non-negative number, got %s')
          :format(key, tostring(v)), 3)
  end
  return v
end

local function regularize(params, grads, config)
  config = config or {}
  local l1, l2 = strength(config, 'l1'), strength(config, 'l2')
  local ps = torch.isTensor(params) and { params } or params
  local gs = torch.isTensor(grads) and { grads } or grads
  if type(ps) ~= 'table' or type(gs) ~= 'table' or #ps ~= #gs then
    error('optim.regularize: params and grads must be two tensors or two lists of one length', 2)
  end
  local penalty = 0
  for i, p in ipairs(ps) do
    if not gs[i]:isSameSizeAs(p) then
      error(('optim.regularize: gradient %d has %d elements, parameters %d')
            :format(i, gs[i]:nElement(), p:nElement()), 2)
    end
    if l2 ~= 0 then
      gs[i]:add(l2, p)
      penalty = penalty + l2 / 2 * p:dot(p)
    end
    if l1 ~= 0 then
      gs[i]:add(l1, torch.sign(p))
      penalty = penalty + l1 * torch.abs(p):sum()
    end
  end
  return grads, penalty
end

return regularize
