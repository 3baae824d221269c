--[[ AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, one fused
update per call.

ARGS:
- opfunc : a function of x returning f(x) and df/dx
- x      : the parameters, a contiguous float32/float64 tensor (updated in place)
- config : a table of hyper-parameters
  - config.learningRate      : learning rate (default 1e-3)
  - config.learningRateDecay : annealing: lr / (1 + t * learningRateDecay), t = step (default 0)
  - config.beta1             : first moment coefficient (default 0.9)
  - config.beta2             : second moment coefficient (default 0.999)
  - config.epsilon           : for numerical stability (default 1e-8)
  - config.weightDecay       : decoupled decay: x = x * (1 - lr * weightDecay) before the
                               Adam step, not added to the gradient (default 1e-2)
- state  : a table for the optimizer's memory (default: config)
  - state.t, state.m, state.v : as optim.adam

RETURN: x (updated), {f(x)} (f before the update)

The Adam step keeps Torch7's epsilon placement, lr * sqrt(1 - b2^t) / (1 - b1^t) *
m / (sqrt(v) + epsilon); PyTorch divides epsilon by sqrt(1 - b2^t), which differs only
while sqrt(v) is comparable to epsilon.
]]
local torch = require 'torch'

local function adamw(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-3
  local lrd = config.learningRateDecay or 0
  local beta1 = config.beta1 or 0.9
  local beta2 = config.beta2 or 0.999
  local eps = config.epsilon or 1e-8
  local wd = config.weightDecay or 1e-2

  local fx, dfdx = opfunc(x)
  state.t = (state.t or 0) + 1
  state.m = state.m or torch.zeros_like(dfdx)
  state.v = state.v or torch.zeros_like(dfdx)
  local clr = lr / (1 + state.t * lrd)
  torch._optim.adam_step(x, dfdx, state.m, state.v, clr, beta1, beta2, eps, wd, state.t, true)
  return x, { fx }
end

return adamw
