--[[ Adagrad (Duchi et al., 2011; Torch7's optim.adagrad), one fused update per call.

ARGS:
- opfunc : a function of x returning f(x) and df/dx
- x      : the parameters, a contiguous float32/float64 tensor (updated in place)
- config : a table of hyper-parameters
  - config.learningRate      : learning rate (default 1e-3)
  - config.learningRateDecay : annealing: lr / (1 + evalCounter * learningRateDecay) (default 0)
  - config.weightDecay       : L2 penalty added to df/dx (default 0)
  - config.epsilon           : added to the root of the sum of squares (default 1e-10)
- state  : a table for the optimizer's memory (default: config)
  - state.evalCounter   : number of updates so far
  - state.paramVariance : sum of the squared gradients (starts at 0)

RETURN: x (updated), {f(x)} (f before the update)

Update (src/optim.h): d = df/dx + wd * x; s = s + d^2; x = x - lr * d / (sqrt(s) + epsilon).
]]
local torch = require 'torch'

local function adagrad(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-3
  local lrd = config.learningRateDecay or 0
  local wd = config.weightDecay or 0
  local eps = config.epsilon or 1e-10
  state.evalCounter = state.evalCounter or 0

  local fx, dfdx = opfunc(x)
  state.paramVariance = state.paramVariance or torch.zeros_like(dfdx)
  local clr = lr / (1 + state.evalCounter * lrd)
  torch._optim.adagrad_step(x, dfdx, state.paramVariance, clr, eps, wd)
  state.evalCounter = state.evalCounter + 1
  return x, { fx }
end

return adagrad
