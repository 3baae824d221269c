-- optim beyond the first-order steps: adadelta against updates derived by hand and the
-- fused C update against a tensor reference; lbfgs against hand-run iterations and to
-- convergence; regularisation and clipping; the learning-rate schedules' sequences
-- against values computed by hand; early stopping; checkpoints; the errors.
local torch = require 'torch'
local optim = require 'optim'
local H = require 'helpers'

-- f(x) = 0.5 * sum x^2, df/dx = x
local function half_square(x) return 0.5 * x:dot(x), x:clone() end

-- Rosenbrock: f(a, b) = (1 - a)^2 + 100 (b - a^2)^2, minimum 0 at (1, 1)
local function rosenbrock(x)
  local a, b = x[1], x[2]
  local g = torch.zeros_like(x)
  g[1] = -2 * (1 - a) - 400 * a * (b - a * a)
  g[2] = 200 * (b - a * a)
  return (1 - a) ^ 2 + 100 * (b - a * a) ^ 2, g
end

-- f(x) = 0.5 * sum_i a_i (x_i - c_i)^2, condition number 100
local quad_a = torch.DoubleTensor({ 1, 10, 100 })
local quad_c = torch.DoubleTensor({ 1, -2, 3 })
local function quadratic(x)
  local r = torch.add(x, -1, quad_c)
  local g = torch.cmul(quad_a, r)
  return 0.5 * r:dot(g), g
end

-- the rates a schedule gives over n steps, the construction's rate first
local function sequence(sched, n, metrics)
  local lrs = { sched:get() }
  for i = 1, n do lrs[#lrs + 1] = sched:step(metrics and metrics[i]) end
  return lrs
end

describe('optim extras', function()
  before_each(function() torch.manualSeed(5) end)

  it('are exported by require "optim"', function()
    for _, name in ipairs { 'adadelta', 'lbfgs', 'regularize', 'clipGradNorm', 'clipGradValue' } do
      assert.are.equal('function', type(optim[name]))
    end
    for _, name in ipairs { 'StepLR', 'MultiStepLR', 'ExponentialLR', 'CosineAnnealingLR',
                            'LinearWarmup', 'ReduceLROnPlateau', 'EarlyStopping' } do
      assert.is_not_nil(optim[name], name)
    end
  end)

  describe('adadelta', function()
    it('takes the steps derived by hand', function()
      local x = torch.DoubleTensor({ 2 })
      local config = { rho = 0.9, eps = 1e-6 }
      -- step 1: g = 2, v = 0.1 * 4 = 0.4, delta = sqrt(1e-6) / sqrt(0.4 + 1e-6) * 2,
      -- x = 2 - delta, u = 0.1 delta^2
      local _, fx = optim.adadelta(half_square, x, config)
      assert.are.same({ 2 }, fx)
      local v, d1 = 0.4, math.sqrt(1e-6) / math.sqrt(0.4 + 1e-6) * 2
      local x1, u = 2 - d1, 0.1 * d1 * d1
      H.near(x[1], x1, 1e-15)
      H.near(config.paramVariance[1], v, 1e-15)
      H.near(config.accDelta[1], u, 1e-15)
      -- step 2: g = x1, v = 0.9 v + 0.1 x1^2, delta = sqrt(u + eps) / sqrt(v + eps) * x1
      optim.adadelta(half_square, x, config)
      v = 0.9 * v + 0.1 * x1 * x1
      local d2 = math.sqrt(u + 1e-6) / math.sqrt(v + 1e-6) * x1
      H.near(x[1], x1 - d2, 1e-15)
      H.near(config.accDelta[1], 0.9 * u + 0.1 * d2 * d2, 1e-15)
      assert.are.equal(2, config.evalCounter)
    end)

    it('scales by learningRate and adds weightDecay * x to the gradient', function()
      local x = torch.DoubleTensor({ 1 })
      optim.adadelta(half_square, x, { learningRate = 0.5, weightDecay = 1, rho = 0.5 }, {})
      -- d = 1 + 1 = 2, v = 0.5 * 4 = 2, delta = sqrt(1e-6) / sqrt(2 + 1e-6) * 2
      H.near(x[1], 1 - 0.5 * math.sqrt(1e-6) / math.sqrt(2 + 1e-6) * 2, 1e-15)
    end)

    it('matches a tensor-op reference in float64 and float32, on all threads', function()
      for _, dtype in ipairs { 'float64', 'float32' } do
        local n = 100003
        local x = torch.randn(n, dtype)
        local ref = x:double()
        local v, u = torch.zeros(n, 'float64'), torch.zeros(n, 'float64')
        local state = {}
        local rho, eps, lr, wd = 0.8, 1e-4, 0.7, 0.01
        for _ = 1, 3 do
          optim.adadelta(half_square, x, { rho = rho, eps = eps, learningRate = lr, weightDecay = wd }, state)
          local d = torch.add(ref, wd, ref)
          v:mul(rho):add(1 - rho, torch.cmul(d, d))
          local delta = torch.add(u, eps):sqrt():cdiv(torch.add(v, eps):sqrt()):cmul(d)
          ref:add(-lr, delta)
          u:mul(rho):add(1 - rho, torch.cmul(delta, delta))
        end
        H.near(x, ref, dtype == 'float64' and 1e-13 or 1e-5, dtype)
      end
    end)

    it('converges on a quadratic', function()
      local x, config = torch.zeros(3, 'float64'), {}
      for _ = 1, 1000 do optim.adadelta(quadratic, x, config) end
      H.near(x, quad_c, 1e-8)
    end)

    it('rejects a negative learning rate', function()
      H.raises('optim.adadelta: config.learningRate must be a non-negative number, got -1',
               optim.adadelta, half_square, torch.ones(2, 'float64'), { learningRate = -1 })
      H.raises('adadelta: rho must lie in [0, 1], got 2',
               optim.adadelta, half_square, torch.ones(2, 'float64'), { rho = 2 })
    end)
  end)

  describe('lbfgs', function()
    it('follows a 1-d quadratic by hand: a steepest step, then the secant step', function()
      -- f = 0.5 (x - 3)^2 from 0: g0 = -3, t = min(1, 1/3), x1 = 0 + 1/3 * 3 = 1;
      -- then s = 1, y = g1 - g0 = -2 + 3 = 1, Hdiag = 1, d = 2, x2 = 3 (the minimum)
      local function f(x) return 0.5 * (x[1] - 3) ^ 2, torch.DoubleTensor({ x[1] - 3 }) end
      local x = torch.DoubleTensor({ 0 })
      local _, fHist, evals = optim.lbfgs(f, x, { maxIter = 10 })
      H.near(fHist, { 4.5, 2, 0 }, 1e-15)
      H.near(x[1], 3, 1e-15)
      assert.are.equal(3, evals)
    end)

    it('takes Torch7\'s first two steps on Rosenbrock', function()
      -- x0 = (0, 0): g0 = (-2, 0), t = min(1, 1/2) = 0.5, d = (2, 0) -> x1 = (1, 0), f = 100
      -- g1 = (400, -200); s = (1, 0), y = (402, -200), ys = 402, Hdiag = 402 / 201604
      local x = torch.DoubleTensor({ 0, 0 })
      local config = { maxIter = 2 }
      local _, fHist = optim.lbfgs(rosenbrock, x, config)
      H.near(fHist, { 1, 100 }, 1e-12)
      local ro, hdiag = 1 / 402, 402 / 201604
      local al = -400 * ro                      -- s.q ro with q = -g1 = (-400, 200)
      local q2 = 200 - al * -200                -- q = q - al y; q1 = -400 - al 402 = 0
      local d2 = q2 * hdiag                     -- d = Hdiag q = (0, d2)
      local be = (-200 * d2) * ro               -- y.d ro
      H.near(x, { 1 + (al - be), d2 }, 1e-14)   -- d += (al - be) s; x2 = x1 + 1 * d
      assert.are.equal(2, config.nIter)
      assert.are.equal(2, config.funcEval)      -- no evaluation after the last step
    end)

    it('converges on Rosenbrock, a quadratic, and with a short memory', function()
      local x = torch.DoubleTensor({ -1.2, 1 })
      optim.lbfgs(rosenbrock, x, { maxIter = 500, maxEval = 1000 })
      H.near(x, { 1, 1 }, 1e-4, 'rosenbrock')
      x = torch.zeros(3, 'float64')
      local _, fHist = optim.lbfgs(quadratic, x, { maxIter = 100 })
      H.near(x, quad_c, 1e-6, 'quadratic')
      assert.is_true(fHist[#fHist] < 1e-10)
      x = torch.zeros(3, 'float64')
      optim.lbfgs(quadratic, x, { maxIter = 300, nCorrection = 1, tolX = 1e-12 })
      H.near(x, quad_c, 1e-5, 'nCorrection 1')
    end)

    it('keeps its memory across calls and stops at once at an optimum', function()
      local x, state = torch.DoubleTensor({ 0, 0 }), {}
      for _ = 1, 50 do optim.lbfgs(rosenbrock, x, { maxIter = 5 }, state) end
      H.near(x, { 1, 1 }, 1e-4)
      assert.is_true(state.nIter > 5 and state.funcEval > 5)
      local _, fHist, evals = optim.lbfgs(half_square, torch.zeros(4, 'float64'), {})
      assert.are.same({ 0 }, fHist)
      assert.are.equal(1, evals)
    end)

    it('calls a line search and respects maxEval', function()
      local calls = 0
      -- backtracking (Armijo): halve t until f decreases enough
      local function backtrack(opfunc, x, t, d, f, g, gtd)
        local x0, evals = x:clone(), 0
        while true do
          calls, evals = calls + 1, evals + 1
          x:copy(x0):add(t, d)
          local fn, gn = opfunc(x)
          if fn <= f + 1e-4 * t * gtd or evals > 30 then return fn, gn, x, t, evals end
          t = t / 2
        end
      end
      local x = torch.DoubleTensor({ -1.2, 1 })
      optim.lbfgs(rosenbrock, x, { maxIter = 200, maxEval = 1000, lineSearch = backtrack })
      H.near(x, { 1, 1 }, 1e-4)
      assert.is_true(calls > 0)
      local _, _, evals = optim.lbfgs(rosenbrock, torch.DoubleTensor({ -1.2, 1 }), { maxIter = 100, maxEval = 7 })
      assert.are.equal(7, evals)
    end)

    it('rejects bad config', function()
      H.raises('optim.lbfgs: config.learningRate must be a non-negative number, got -0.5',
               optim.lbfgs, rosenbrock, torch.zeros(2, 'float64'), { learningRate = -0.5 })
      H.raises('optim.lbfgs: config.lineSearch must be a function, got string',
               optim.lbfgs, rosenbrock, torch.zeros(2, 'float64'), { lineSearch = 'wolfe' })
    end)
  end)

  describe('regularize and clip', function()
    it('adds l1 sign(p) + l2 p to the gradient and returns the penalty', function()
      local p = torch.DoubleTensor({ 1, -2, 0 })
      local g = torch.DoubleTensor({ 0.5, 0.5, 0.5 })
      local out, penalty = optim.regularize(p, g, { l1 = 0.1, l2 = 0.01 })
      assert.are.equal(g, out)
      H.near(g, { 0.61, 0.38, 0.5 }, 1e-15)
      H.near(penalty, 0.1 * 3 + 0.005 * 5, 1e-15)
      local ps, gs = { torch.DoubleTensor({ 2 }), torch.DoubleTensor({ -1, 1 }) },
                     { torch.zeros(1, 'float64'), torch.zeros(2, 'float64') }
      optim.regularize(ps, gs, { l2 = 0.5 })
      H.near(gs[1], { 1 }, 0)
      H.near(gs[2], { -0.5, 0.5 }, 0)
    end)

    it('clips by the joint norm and returns the norm before clipping', function()
      local g = torch.DoubleTensor({ 3, 4 })
      H.near(optim.clipGradNorm(g, 1), 5, 1e-14)
      H.near(g, { 3 / (5 + 1e-6), 4 / (5 + 1e-6) }, 1e-15)
      local gs = { torch.DoubleTensor({ 3 }), torch.DoubleTensor({ 4, 12 }) }
      H.near(optim.clipGradNorm(gs, 26), 13, 1e-14)   -- below maxNorm: unchanged
      H.near(gs[2], { 4, 12 }, 0)
      H.near(optim.clipGradNorm(gs, 9.5, 1), 19, 1e-14)
      H.near(gs[1], { 3 * 9.5 / (19 + 1e-6) }, 1e-14)
      g = torch.DoubleTensor({ -6, 2 })
      H.near(optim.clipGradNorm(g, 3, 'inf'), 6, 0)
      H.near(g, { -6 * 3 / (6 + 1e-6), 2 * 3 / (6 + 1e-6) }, 1e-15)
      g = torch.DoubleTensor({ 1, 2, 2 })
      H.near(optim.clipGradNorm(g, 1, 3), (1 + 8 + 8) ^ (1 / 3), 1e-12)
    end)

    it('clips by value', function()
      local g = torch.DoubleTensor({ -3, 0.2, 7 })
      assert.are.equal(g, optim.clipGradValue(g, 1))
      H.near(g, { -1, 0.2, 1 }, 0)
    end)

    it('reject bad arguments', function()
      local g = torch.ones(2, 'float64')
      H.raises('optim.regularize: config.l1 must be a non-negative number, got -1',
               optim.regularize, g, g:clone(), { l1 = -1 })
      H.raises('optim.regularize: gradient 1 has 3 elements, parameters 2',
               optim.regularize, g, torch.ones(3, 'float64'), { l2 = 1 })
      H.raises('optim.clipGradNorm: maxNorm must be a non-negative number, got -1',
               optim.clipGradNorm, g, -1)
      H.raises('optim.clipGradNorm: p must be a positive number or math.huge, got 0',
               optim.clipGradNorm, g, 1, 0)
      H.raises('optim.clipGradValue: grads must be a tensor or a list of tensors, got number',
               optim.clipGradValue, 3, 1)
    end)
  end)

  describe('schedules', function()
    it('StepLR: gamma every step_size steps, written into config', function()
      local config = { learningRate = 0.8 }
      local s = optim.StepLR(config, { step_size = 3, gamma = 0.5 })
      H.near(sequence(s, 20), { 0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1,
                                0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125 },
             1e-15)
      assert.are.equal(s:get(), config.learningRate)
    end)

    it('MultiStepLR and ExponentialLR', function()
      local s = optim.MultiStepLR({ learningRate = 1 }, { milestones = { 2, 5, 6 }, gamma = 0.1 })
      H.near(sequence(s, 8), { 1, 1, 0.1, 0.1, 0.1, 0.01, 0.001, 0.001, 0.001 }, 1e-15)
      s = optim.ExponentialLR({ learningRate = 2 }, { gamma = 0.5 })
      H.near(sequence(s, 5), { 2, 1, 0.5, 0.25, 0.125, 0.0625 }, 1e-15)
    end)

    it('CosineAnnealingLR: one cosine over T_max', function()
      local s = optim.CosineAnnealingLR({ learningRate = 1 }, { T_max = 4, eta_min = 0.2 })
      local h = math.sqrt(2) / 2
      H.near(sequence(s, 8), { 1, 0.2 + 0.4 * (1 + h), 0.6, 0.2 + 0.4 * (1 - h), 0.2,
                               0.2 + 0.4 * (1 - h), 0.6, 0.2 + 0.4 * (1 + h), 1 }, 1e-15)
    end)

    it('CosineAnnealingLR with warm restarts: cycles T_0, T_0 T_mult, ...', function()
      local s = optim.CosineAnnealingLR({ learningRate = 1 }, { T_0 = 3, T_mult = 2, eta_min = 0 })
      local function c(cur, len) return (1 + math.cos(math.pi * cur / len)) / 2 end
      local expected = { c(0, 3), c(1, 3), c(2, 3),                                   -- t 0-2
                         c(0, 6), c(1, 6), c(2, 6), c(3, 6), c(4, 6), c(5, 6),         -- t 3-8
                         c(0, 12), c(1, 12), c(2, 12), c(3, 12), c(4, 12), c(5, 12),   -- t 9-20
                         c(6, 12), c(7, 12), c(8, 12), c(9, 12), c(10, 12), c(11, 12) }
      H.near(sequence(s, 20), expected, 1e-15)
      H.near(expected[4], 1, 0)
      H.near(expected[16], 0.5, 1e-15)
      s = optim.CosineAnnealingLR({ learningRate = 0.5 }, { T_0 = 2, eta_min = 0.1 })
      H.near(sequence(s, 5), { 0.5, 0.3, 0.5, 0.3, 0.5, 0.3 }, 1e-15)
    end)

    it('LinearWarmup ramps up, then hands over to another schedule', function()
      local config = { learningRate = 1 }
      local after = optim.StepLR(config, { step_size = 2, gamma = 0.1 })
      local s = optim.LinearWarmup(config, { warmup_steps = 4, start_factor = 0.25, after = after })
      H.near(sequence(s, 10), { 0.25, 0.4375, 0.625, 0.8125, 1, 1, 0.1, 0.1, 0.01, 0.01, 0.001 },
             1e-15)
      assert.are.equal(s:get(), config.learningRate)
      s = optim.LinearWarmup({ learningRate = 0.2 }, { warmup_steps = 2, start_factor = 0 })
      H.near(sequence(s, 4), { 0, 0.1, 0.2, 0.2, 0.2 }, 1e-15)
    end)

    it('ReduceLROnPlateau: patience, cooldown and min_lr', function()
      local s = optim.ReduceLROnPlateau({ learningRate = 1 }, {
        mode = 'min', factor = 0.5, patience = 2, cooldown = 1, threshold = 0,
        threshold_mode = 'abs', min_lr = 0.1 })
      local metrics = { 10, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8 }
      H.near(sequence(s, 21, metrics), { 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25,
                                         0.25, 0.125, 0.125, 0.125, 0.125, 0.1, 0.1, 0.1, 0.1,
                                         0.1 }, 1e-15)
      assert.are.equal(8, s.best)
    end)

    it('ReduceLROnPlateau in max mode with a relative threshold', function()
      local s = optim.ReduceLROnPlateau({ learningRate = 1 }, { mode = 'max', patience = 0,
                                                                 threshold = 0.1, factor = 0.5 })
      -- improvements must beat best * 1.1: 1 (best), 1.05 (no: halve), 1.2 (yes), 1.3 (no: halve)
      H.near(sequence(s, 4, { 1, 1.05, 1.2, 1.3 }), { 1, 1, 0.5, 0.5, 0.25 }, 1e-15)
    end)

    it('warm-up composes with the plateau schedule, passing the metric', function()
      local config = { learningRate = 1 }
      local plateau = optim.ReduceLROnPlateau(config, { patience = 0, factor = 0.5 })
      local s = optim.LinearWarmup(config, { warmup_steps = 2, start_factor = 0.5, after = plateau })
      H.near(sequence(s, 5, { 5, 5, 4, 4, 4 }), { 0.5, 0.75, 1, 1, 0.5, 0.25 }, 1e-15)
    end)

    it('save and restore their state as plain tables', function()
      local function build(config)
        local after = optim.CosineAnnealingLR(config, { T_0 = 3, T_mult = 2 })
        return optim.LinearWarmup(config, { warmup_steps = 3, after = after })
      end
      local full = sequence(build({ learningRate = 1 }), 15)
      local config = { learningRate = 1 }
      local s = build(config)
      local part = sequence(s, 7)
      local saved = s:state()
      assert.is_nil(getmetatable(saved))
      assert.are.equal('table', type(saved.after))
      local config2 = { learningRate = 1 }
      local s2 = build(config2):load(saved)
      assert.are.equal(full[8], config2.learningRate)
      for i = 1, 8 do part[#part + 1] = s2:step() end
      H.near(part, full, 1e-15)
      local p = optim.ReduceLROnPlateau({ learningRate = 1 }, { patience = 1 })
      sequence(p, 3, { 3, 3, 3 })
      local p2 = optim.ReduceLROnPlateau({ learningRate = 1 }, { patience = 1 }):load(p:state())
      assert.are.same(p:state(), p2:state())
      H.near(p2:step(3), p:step(3), 0)
    end)

    it('reject bad config with clear messages', function()
      H.raises('optim.StepLR: config.learningRate must be a non-negative number, got -0.1',
               optim.StepLR, { learningRate = -0.1 }, { step_size = 2 })
      H.raises('optim.StepLR: opts.step_size must be an integer >= 1, got nil',
               optim.StepLR, { learningRate = 0.1 }, {})
      H.raises('optim.ExponentialLR: expected an optim config table, got number',
               optim.ExponentialLR, 0.1, { gamma = 0.9 })
      H.raises("optim.ReduceLROnPlateau: opts.mode must be 'min' or 'max', got best",
               optim.ReduceLROnPlateau, { learningRate = 1 }, { mode = 'best' })
      H.raises('optim.ReduceLROnPlateau: step needs the metric (a number), got nil',
               function() optim.ReduceLROnPlateau({ learningRate = 1 }):step() end)
      H.raises('optim.ReduceLROnPlateau: opts.factor must be below 1, got 2',
               optim.ReduceLROnPlateau, { learningRate = 1 }, { factor = 2 })
      H.raises('optim.CosineAnnealingLR: give opts.T_max (one cosine) or opts.T_0 (warm restarts), not both',
               optim.CosineAnnealingLR, { learningRate = 1 }, { T_max = 3, T_0 = 2 })
      H.raises('optim.CosineAnnealingLR: opts.T_mult must be an integer >= 1, got 0.5',
               optim.CosineAnnealingLR, { learningRate = 1 }, { T_0 = 2, T_mult = 0.5 })
      H.raises('optim.MultiStepLR: opts.milestones must be increasing positive integers, got 2 at 2',
               optim.MultiStepLR, { learningRate = 1 }, { milestones = { 3, 2 } })
      H.raises('optim.LinearWarmup: opts.after must schedule the same config table',
               optim.LinearWarmup, { learningRate = 1 },
               { warmup_steps = 2, after = optim.ExponentialLR({ learningRate = 1 }, { gamma = 0.5 }) })
    end)
  end)

  describe('EarlyStopping', function()
    it('stops after patience epochs without an improvement beyond minDelta', function()
      local es = optim.EarlyStopping { patience = 2, minDelta = 0.1, mode = 'min' }
      local stops = {}
      for i, m in ipairs { 1.0, 0.95, 0.85, 0.8, 0.8 } do stops[i] = es:step(m) end
      assert.are.same({ false, false, false, false, true }, stops)
      assert.are.equal(0.85, es.best)
      assert.are.equal(3, es.bestEpoch)
      assert.is_true(es.stopped)
    end)

    it('works in max mode and with patience 0', function()
      local es = optim.EarlyStopping { patience = 1, mode = 'max' }
      assert.are.same({ false, false, true }, { es:step(0.5), es:step(0.6), es:step(0.6) })
      assert.are.equal(2, es.bestEpoch)
      es = optim.EarlyStopping { patience = 0 }
      assert.are.same({ false, false, true }, { es:step(3), es:step(2), es:step(2) })
    end)

    it('saves and restores its state', function()
      local es = optim.EarlyStopping { patience = 3 }
      for _, m in ipairs { 5, 4, 4.5 } do es:step(m) end
      local es2 = optim.EarlyStopping { patience = 3 }:load(es:state())
      assert.are.same(es:state(), es2:state())
      assert.are.same({ false, true }, { es2:step(4.2), es2:step(4.1) })
    end)

    it('rejects bad options', function()
      H.raises("optim.EarlyStopping: mode must be 'min' or 'max', got up", optim.EarlyStopping, { mode = 'up' })
      H.raises('optim.EarlyStopping: patience must be a non-negative integer, got -1',
               optim.EarlyStopping, { patience = -1 })
      H.raises('optim.EarlyStopping: step needs the metric (a number), got nil',
               function() optim.EarlyStopping {}:step() end)
    end)
  end)
end)
