--[[ Adadelta (Zeiler, 2012; Torch7's optim.adadelta), one fused update per call.

ARGS:
- opfunc : a function of x returning f(x) and df/dx
- x      : the parameters, a contiguous float32/float64 tensor (updated in place)
- config : a table of hyper-parameters
  - config.rho          : decay of the running averages (default 0.9)
  - config.eps          : added inside both square roots (default 1e-6)
  - config.learningRate : scales the update (default 1, Torch7's adadelta has none; as PyTorch)
  - config.weightDecay  : L2 penalty, weightDecay * x added to df/dx (default 0)
- state  : a table for the optimizer's memory (default: config)
  - state.evalCounter   : number of updates so far
  - state.paramVariance : running mean of the squared gradient (starts at 0)
  - state.accDelta      : running mean of the squared update (starts at 0)

RETURN: x (updated), {f(x)} (f before the update)

Update (src/optim.h): d = df/dx + wd * x; v = rho v + (1 - rho) d^2;
delta = sqrt(u + eps) / sqrt(v + eps) * d; x = x - lr * delta; u = rho u + (1 - rho) delta^2.
]]
local torch = require 'torch'

local function nonNegative(key, v)
  if type(v) ~= 'number' or v < 0 then
    error(('optim.adadelta: config.%s must be a non-negative number, got %s')
          :format(key, tostring(v)), 3)
  end
  return v
end

local function adadelta(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = nonNegative('learningRate', config.learningRate or 1)
  local rho = config.rho or 0.9
  local eps = config.eps or 1e-6
  local wd = nonNegative('weightDecay', config.weightDecay or 0)
  state.evalCounter = state.evalCounter or 0

  local fx, dfdx = opfunc(x)
  state.paramVariance = state.paramVariance or torch.zeros_like(dfdx)
  state.accDelta = state.accDelta or torch.zeros_like(dfdx)
  torch._optim.adadelta_step(x, dfdx, state.paramVariance, state.accDelta, lr, rho, eps, wd)
  state.evalCounter = state.evalCounter + 1
  return x, { fx }
end

return adadelta
