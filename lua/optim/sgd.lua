--[[ Stochastic gradient descent (Torch7's optim.sgd), one fused update per call.

ARGS:
- opfunc : a function of x returning f(x) and df/dx
- x      : the parameters, a contiguous float32/float64 tensor (updated in place)
- config : a table of hyper-parameters
  - config.learningRate      : learning rate (default 1e-3)
  - config.learningRateDecay : annealing: lr / (1 + evalCounter * learningRateDecay) (default 0)
  - config.weightDecay       : L2 penalty, weightDecay * x added to df/dx (default 0)
  - config.momentum          : momentum (default 0)
  - config.dampening         : dampening of the gradient added to the momentum buffer
                               (default: = momentum as Torch7; 0 when nesterov)
  - config.nesterov          : Nesterov momentum; needs momentum > 0, dampening 0 (default false)
- state  : a table for the optimizer's memory (default: config)
  - state.evalCounter : number of updates so far
  - state.dfdx        : the momentum buffer (when momentum ~= 0)

RETURN: x (updated), {f(x)} (f before the update)

Update (src/optim.h): d = df/dx + wd * x; with momentum,
buf = (first step) d, else momentum * buf + (1 - dampening) * d, and d = buf (or
d + momentum * buf with nesterov); x = x - lr * d. df/dx itself is not modified.
]]
local torch = require 'torch'

local function sgd(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-3
  local lrd = config.learningRateDecay or 0
  local wd = config.weightDecay or 0
  local mom = config.momentum or 0
  local nesterov = config.nesterov or false
  local damp = config.dampening or (nesterov and 0 or mom)
  state.evalCounter = state.evalCounter or 0

  local fx, dfdx = opfunc(x)
  local first = false
  if mom ~= 0 and not state.dfdx then
    state.dfdx = torch.zeros_like(dfdx)
    first = true
  end
  local clr = lr / (1 + state.evalCounter * lrd)
  torch._optim.sgd_step(x, dfdx, mom ~= 0 and state.dfdx or nil, clr, mom, damp, wd,
                        nesterov, first)
  state.evalCounter = state.evalCounter + 1
  return x, { fx }
end

return sgd
