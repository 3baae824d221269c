-- nn.Jacobian: finite-difference checks of a module's or criterion's gradients
-- (Torch7's nn.Jacobian). Jacobians are (numel(param), numel(output)) tensors:
-- J[i][j] = d output_j / d param_i. Use float64 modules; parameters and inputs may be
-- non-contiguous. These loop over elements, as a test helper must; each step is tensor code.
local torch = require 'torch'
local nn = require 'nn'

local Jacobian = {}
nn.Jacobian = Jacobian

-- The multi-index (a table) of the i-th element of t in row-major order.
local function elementIndex(t, i)
  local idx, rest = {}, i - 1
  for d = t:dim(), 1, -1 do
    idx[d] = rest % t:size(d) + 1
    rest = rest // t:size(d)
  end
  return idx
end

-- d output / d param from backward passes with one-hot gradOutputs. param nil: the
-- input (gradInput); else dparam, the gradient tensor that backward accumulates into.
function Jacobian.backward(module, input, param, dparam)
  local output = module:forward(input)
  local n = (param or input):nElement()
  local J = torch.zeros(n, output:nElement(), 'float64')
  local dout = torch.zeros_like(output)
  local flat = dout:view(-1)
  for j = 1, flat:nElement() do
    flat:zero()
    flat[j] = 1
    if param then
      dparam:zero()
      module:backward(input, dout)
      J:select(2, j):copy(dparam)
    else
      J:select(2, j):copy(module:updateGradInput(input, dout))
    end
  end
  return J
end

-- d output / d param by central differences, perturbing param (default: input).
function Jacobian.forward(module, input, param, perturbation)
  param = param or input
  perturbation = perturbation or 1e-6
  local out = module:forward(input)
  local J = torch.zeros(param:nElement(), out:nElement(), 'float64')
  for i = 1, param:nElement() do
    local idx = elementIndex(param, i)
    local orig = param[idx]
    param[idx] = orig - perturbation
    local minus = module:forward(input):double():clone()
    param[idx] = orig + perturbation
    local plus = module:forward(input):double():clone()
    param[idx] = orig
    J:select(1, i):copy(plus:add(-1, minus):div(2 * perturbation))
  end
  return J
end

-- Max |forward - backward| Jacobian difference with respect to the input.
function Jacobian.testJacobian(module, input, perturbation)
  local jf = Jacobian.forward(module, input, nil, perturbation)
  local jb = Jacobian.backward(module, input)
  return (jf - jb):abs():max()
end

-- The same with respect to a parameter (and its gradient tensor).
function Jacobian.testJacobianParameters(module, input, param, dparam, perturbation)
  local jf = Jacobian.forward(module, input, param, perturbation)
  local jb = Jacobian.backward(module, input, param, dparam)
  return (jf - jb):abs():max()
end

-- Max |numeric - analytic| gradient of criterion:forward(input, target) (a number).
function Jacobian.testCriterion(criterion, input, target, perturbation)
  perturbation = perturbation or 1e-6
  local analytic = criterion:forward(input, target) and criterion:backward(input, target):clone()
  local numeric = torch.zeros_like(input)
  for i = 1, input:nElement() do
    local idx = elementIndex(input, i)
    local orig = input[idx]
    input[idx] = orig - perturbation
    local minus = criterion:forward(input, target)
    input[idx] = orig + perturbation
    local plus = criterion:forward(input, target)
    input[idx] = orig
    numeric[idx] = (plus - minus) / (2 * perturbation)
  end
  return (numeric - analytic):abs():max()
end

return Jacobian
