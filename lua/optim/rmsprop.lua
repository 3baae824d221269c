--[[ RMSProp (Tieleman & Hinton, 2012; Torch7's optim.rmsprop), one fused update per call.

ARGS:
- opfunc : a function of x returning f(x) and df/dx
- x      : the parameters, a contiguous float32/float64 tensor (updated in place)
- config : a table of hyper-parameters
  - config.learningRate : learning rate (default 1e-2)
  - config.alpha        : smoothing constant of the mean square (default 0.99)
  - config.epsilon      : added to the root mean square (default 1e-8)
  - config.weightDecay  : L2 penalty added to df/dx (default 0)
- state  : a table for the optimizer's memory (default: config)
  - state.m : running mean of the squared gradient (starts at 0)

RETURN: x (updated), {f(x)} (f before the update)

Update (src/optim.h): d = df/dx + wd * x; m = alpha m + (1 - alpha) d^2;
x = x - lr * d / (sqrt(m) + epsilon).
]]
local torch = require 'torch'

local function rmsprop(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-2
  local alpha = config.alpha or 0.99
  local eps = config.epsilon or 1e-8
  local wd = config.weightDecay or 0

  local fx, dfdx = opfunc(x)
  state.m = state.m or torch.zeros_like(dfdx)
  torch._optim.rmsprop_step(x, dfdx, state.m, lr, alpha, eps, wd)
  return x, { fx }
end

return rmsprop
