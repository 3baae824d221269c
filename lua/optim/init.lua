-- `require 'optim'`: Torch7's optimizers in their functional form,
--   x, {fx} = optim.<name>(opfunc, x, config, state)
-- where opfunc(x) returns f(x) and df/dx, x is a contiguous float32/float64 vector
-- (usually the flat tensor from module:getParameters()), config holds the
-- hyper-parameters (documented at the top of each file) and state the optimizer's
-- memory (state defaults to config, as in Torch7). Each update is one fused C call
-- (torch._optim, src/lua_optim.c); lbfgs runs several iterations per call. Beside them:
-- regularize, clipGradNorm/clipGradValue, EarlyStopping and the learning-rate schedules
-- (optim.Schedule and its subclasses), each documented in its file.
-- Like Torch7, this defines the global `optim`.
local optim = {
  sgd = require 'optim.sgd',
  adam = require 'optim.adam',
  adamw = require 'optim.adamw',
  rmsprop = require 'optim.rmsprop',
  adagrad = require 'optim.adagrad',
  adadelta = require 'optim.adadelta',
  lbfgs = require 'optim.lbfgs',
  regularize = require 'optim.regularize',
  clipGradNorm = require('optim.clip').clipGradNorm,
  clipGradValue = require('optim.clip').clipGradValue,
  EarlyStopping = require 'optim.EarlyStopping',
  -- learning-rate schedules (optim.Schedule): sched = optim.StepLR(config, opts)
  Schedule = require 'optim.Schedule',
  StepLR = require 'optim.StepLR',
  MultiStepLR = require 'optim.MultiStepLR',
  ExponentialLR = require 'optim.ExponentialLR',
  CosineAnnealingLR = require 'optim.CosineAnnealingLR',
  LinearWarmup = require 'optim.LinearWarmup',
  ReduceLROnPlateau = require 'optim.ReduceLROnPlateau',
}

_G.optim = optim   -- the one global Torch7 compatibility asks for
return optim
