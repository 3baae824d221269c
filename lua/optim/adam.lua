--[[ Adam (Kingma & Ba, 2014; Torch7's optim.adam), one fused update per call.

ARGS:
- opfunc : a function of x returning f(x) and df/dx
- x      : the parameters, a contiguous float32/float64 tensor (updated in place)
- config : a table of hyper-parameters
  - config.learningRate      : learning rate (default 1e-3)
  - config.learningRateDecay : annealing: lr / (1 + t * learningRateDecay), t = step (default 0)
  - config.beta1             : first moment coefficient (default 0.9)
  - config.beta2             : second moment coefficient (default 0.999)
  - config.epsilon           : for numerical stability (default 1e-8)
  - config.weightDecay       : L2 penalty added to df/dx (default 0); see optim.adamw for
                               decoupled weight decay
- state  : a table for the optimizer's memory (default: config)
  - state.t : steps taken so far
  - state.m : first moment (running mean of the gradient)
  - state.v : second moment (running mean of its square)

RETURN: x (updated), {f(x)} (f before the update)

Update (src/optim.h): d = df/dx + wd * x; m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d^2;
x = x - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon), as Torch7.
]]
local torch = require 'torch'

local function adam(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-3
  local lrd = config.learningRateDecay or 0
  local beta1 = config.beta1 or 0.9
  local beta2 = config.beta2 or 0.999
  local eps = config.epsilon or 1e-8
  local wd = config.weightDecay or 0

  local fx, dfdx = opfunc(x)
  state.t = (state.t or 0) + 1
  state.m = state.m or torch.zeros_like(dfdx)
  state.v = state.v or torch.zeros_like(dfdx)
  local clr = lr / (1 + state.t * lrd)
  torch._optim.adam_step(x, dfdx, state.m, state.v, clr, beta1, beta2, eps, wd, state.t, false)
  return x, { fx }
end

return adam
