-- optim: each algorithm's first steps against updates derived by hand, the fused C
-- update against a scalar Lua reference (float64 and float32, small and multi-threaded
-- vectors), convergence on a quadratic and on Rosenbrock's function, and the errors.
local torch = require 'torch'
local optim = require 'optim'
local H = require 'helpers'

-- f(x) = 0.5 * x^2 per element, so df/dx = x (gradients need no tensor math)
local function half_square(x)
  local fx = 0
  for i = 1, x:nElement() do fx = fx + 0.5 * x[i] ^ 2 end
  return fx, x:clone()
end

-- Rosenbrock: f(a, b) = (1 - a)^2 + 100 (b - a^2)^2, minimum 0 at (1, 1)
local function rosenbrock(x)
  local a, b = x[1], x[2]
  local g = torch.zeros_like(x)
  g[1] = -2 * (1 - a) - 400 * a * (b - a * a)
  g[2] = 200 * (b - a * a)
  return (1 - a) ^ 2 + 100 * (b - a * a) ^ 2, g
end

-- f(x) = 0.5 * sum_i a_i (x_i - c_i)^2 with condition number 10
local quad_a, quad_c = { 1, 4, 10 }, { 1, -2, 3 }
local function quadratic(x)
  local g, fx = torch.zeros_like(x), 0
  for i = 1, 3 do
    fx = fx + 0.5 * quad_a[i] * (x[i] - quad_c[i]) ^ 2
    g[i] = quad_a[i] * (x[i] - quad_c[i])
  end
  return fx, g
end

describe('optim', function()
  it('defines the global optim and one function per algorithm', function()
    assert.are.equal(optim, _G.optim)
    for _, name in ipairs { 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad' } do
      assert.are.equal('function', type(optim[name]))
    end
  end)

  describe('sgd', function()
    it('takes plain steps: x = x - lr * (g + wd * x), with learning-rate decay', function()
      local x = torch.DoubleTensor({ 2 })
      local config = { learningRate = 0.1, weightDecay = 0.5, learningRateDecay = 1 }
      local _, fx = optim.sgd(half_square, x, config)
      -- step 1: d = 2 + 0.5*2 = 3, lr = 0.1 / (1 + 0) -> x = 2 - 0.3 = 1.7
      assert.are.same({ 2 }, fx)
      H.near(x[1], 1.7, 1e-15)
      -- step 2: d = 1.7 * 1.5 = 2.55, lr = 0.1 / (1 + 1) = 0.05 -> x = 1.7 - 0.1275 = 1.5725
      optim.sgd(half_square, x, config)
      H.near(x[1], 1.5725, 1e-15)
      assert.are.equal(2, config.evalCounter)
    end)

    it('keeps Torch7 momentum: buffer = g first, then mom * buf + (1 - dampening) * g', function()
      local x = torch.DoubleTensor({ 1 })
      local config, state = { learningRate = 0.1, momentum = 0.9 }, {}   -- dampening = 0.9
      optim.sgd(half_square, x, config, state)
      -- step 1: buf = 1, x = 1 - 0.1 = 0.9
      H.near(x[1], 0.9, 1e-15)
      H.near(state.dfdx[1], 1, 1e-15)
      optim.sgd(half_square, x, config, state)
      -- step 2: buf = 0.9*1 + 0.1*0.9 = 0.99, x = 0.9 - 0.099 = 0.801
      H.near(state.dfdx[1], 0.99, 1e-15)
      H.near(x[1], 0.801, 1e-15)
      optim.sgd(half_square, x, config, state)
      -- step 3: buf = 0.9*0.99 + 0.1*0.801 = 0.9711, x = 0.801 - 0.09711 = 0.70389
      H.near(x[1], 0.70389, 1e-15)
      assert.is_nil(config.dfdx)   -- state was given: config is left alone
    end)

    it('takes Nesterov steps: d = g + mom * buf, dampening 0', function()
      local x = torch.DoubleTensor({ 1 })
      local config = { learningRate = 0.1, momentum = 0.5, nesterov = true }
      optim.sgd(half_square, x, config)
      -- step 1: buf = 1, d = 1 + 0.5 = 1.5, x = 1 - 0.15 = 0.85
      H.near(x[1], 0.85, 1e-15)
      optim.sgd(half_square, x, config)
      -- step 2: buf = 0.5 + 0.85 = 1.35, d = 0.85 + 0.675 = 1.525, x = 0.85 - 0.1525 = 0.6975
      H.near(x[1], 0.6975, 1e-15)
    end)
  end)

  it('adam: bias-corrected steps as Torch7', function()
    local x = torch.DoubleTensor({ 1, -1 })
    local config = { learningRate = 0.1, epsilon = 0 }
    optim.adam(half_square, x, config)
    -- step 1: m = 0.1 g, v = 0.001 g^2; step = 0.1 * sqrt(0.001) / 0.1;
    -- x -= step * m / sqrt(v) = 0.1 * sign(g)
    H.near(x, { 0.9, -0.9 }, 1e-15)
    optim.adam(half_square, x, config)
    -- step 2: m = 0.09 + 0.09 = 0.18, v = 0.000999 + 0.00081 = 0.001809,
    -- x = 0.9 - 0.1 * sqrt(1 - 0.999^2) / (1 - 0.9^2) * 0.18 / sqrt(0.001809)
    local expected = 0.9 - 0.1 * math.sqrt(1 - 0.999 ^ 2) / (1 - 0.81) * 0.18 / math.sqrt(0.001809)
    H.near(x, { expected, -expected }, 1e-12)
    H.near(expected, 0.800412, 1e-6)
    assert.are.equal(2, config.t)
  end)

  it('adamw: decoupled weight decay shrinks x before the Adam step', function()
    local x, y = torch.DoubleTensor({ 1 }), torch.DoubleTensor({ 1 })
    optim.adamw(half_square, x, { learningRate = 0.1, weightDecay = 0.5 })
    optim.adam(half_square, y, { learningRate = 0.1 })
    -- x = 1 * (1 - 0.1 * 0.5) - 0.1 = 0.85; plain Adam gives 0.9
    H.near(x[1], 0.85, 1e-7)
    H.near(y[1], 0.9, 1e-7)
    -- coupled decay (adam's weightDecay) changes the gradient, not x: with one element
    -- the first step is still lr * sign(g)
    local z = torch.DoubleTensor({ 1 })
    optim.adam(half_square, z, { learningRate = 0.1, weightDecay = 0.5 })
    H.near(z[1], 0.9, 1e-7)
  end)

  it('rmsprop: x -= lr * g / (sqrt(m) + eps), m = alpha m + (1 - alpha) g^2', function()
    local x = torch.DoubleTensor({ 1 })
    local config = { learningRate = 0.01, alpha = 0.9, epsilon = 0 }
    optim.rmsprop(half_square, x, config)
    -- step 1: m = 0.1, x = 1 - 0.01 / sqrt(0.1) = 0.968377...
    local x1 = 1 - 0.01 / math.sqrt(0.1)
    H.near(x[1], x1, 1e-14)
    optim.rmsprop(half_square, x, config)
    -- step 2: m = 0.09 + 0.1 x1^2, x = x1 - 0.01 x1 / sqrt(m)
    local m2 = 0.09 + 0.1 * x1 ^ 2
    H.near(x[1], x1 - 0.01 * x1 / math.sqrt(m2), 1e-14)
  end)

  it('adagrad: x -= lr * g / sqrt(sum g^2), with learning-rate decay', function()
    local x = torch.DoubleTensor({ 3 })
    local config = { learningRate = 0.5, learningRateDecay = 1, epsilon = 0 }
    optim.adagrad(half_square, x, config)
    -- step 1: s = 9, x = 3 - 0.5 * 3 / 3 = 2.5
    H.near(x[1], 2.5, 1e-15)
    optim.adagrad(half_square, x, config)
    -- step 2: s = 9 + 6.25 = 15.25, lr = 0.5 / 2, x = 2.5 - 0.25 * 2.5 / sqrt(15.25)
    H.near(x[1], 2.5 - 0.625 / math.sqrt(15.25), 1e-15)
    H.near(config.paramVariance[1], 15.25, 1e-15)
  end)

  it('updates float32 and long (multi-threaded) vectors like the scalar reference', function()
    local configs = {
      sgd = { learningRate = 0.1, momentum = 0.9, dampening = 0, weightDecay = 0.01 },
      adam = { learningRate = 0.01, weightDecay = 0.01 },
      adamw = { learningRate = 0.01 },
      rmsprop = { learningRate = 0.01 },
      adagrad = { learningRate = 0.1 },
    }
    for name, config in pairs(configs) do
      local ref = torch.DoubleTensor({ 1.5 })
      local c1 = {}
      for k, v in pairs(config) do c1[k] = v end
      for _ = 1, 3 do optim[name](half_square, ref, c1) end
      for _, dtype in ipairs { 'float32', 'float64' } do
        -- every element starts at 1.5 and sees the same gradient: all follow ref
        local x = torch.full({ 100003 }, 1.5, dtype)
        local c2 = {}
        for k, v in pairs(config) do c2[k] = v end
        for _ = 1, 3 do optim[name](function(p) return 0, p:clone() end, x, c2) end
        local tol = dtype == 'float32' and 1e-6 or 1e-14
        H.near(x[1], ref[1], tol, name .. ' ' .. dtype)
        H.near(x[100003], ref[1], tol, name .. ' ' .. dtype)
        H.near(x[50000], ref[1], tol, name .. ' ' .. dtype)
      end
    end
  end)

  describe('converges', function()
    local runs = {
      sgd = { { learningRate = 0.05, momentum = 0.9, dampening = 0 }, 2000 },
      adam = { { learningRate = 0.05 }, 3000 },
      adamw = { { learningRate = 0.05, weightDecay = 0 }, 3000 },
      rmsprop = { { learningRate = 0.01 }, 3000 },
      adagrad = { { learningRate = 0.5 }, 3000 },
    }
    for name, run in pairs(runs) do
      it(name .. ' on a quadratic', function()
        local x = torch.DoubleTensor({ 0, 0, 0 })
        local fx
        for _ = 1, run[2] do _, fx = optim[name](quadratic, x, run[1]) end
        H.near(x, quad_c, 1e-3, name)
        assert.is_true(fx[1] < 1e-6)
      end)
    end

    local rosen = {
      sgd = { { learningRate = 1e-3, momentum = 0.9, dampening = 0 }, 10000 },
      adam = { { learningRate = 0.02 }, 10000 },
      rmsprop = { { learningRate = 1e-3 }, 20000 },
      adagrad = { { learningRate = 0.5 }, 20000 },
    }
    for name, run in pairs(rosen) do
      it(name .. ' on Rosenbrock', function()
        local x = torch.DoubleTensor({ -1.5, 2 })
        for _ = 1, run[2] do optim[name](rosenbrock, x, run[1]) end
        H.near(x, { 1, 1 }, 1e-2, name)
      end)
    end
  end)

  describe('errors', function()
    local x
    before_each(function() x = torch.DoubleTensor({ 1, 2 }) end)

    it('names a gradient of the wrong length or type', function()
      H.raises('sgd: gradient has 3 elements, parameters 2', optim.sgd,
               function() return 0, torch.DoubleTensor({ 1, 2, 3 }) end, x)
      H.raises('adam: gradient is float32, parameters are float64', optim.adam,
               function() return 0, torch.FloatTensor({ 1, 2 }) end, x)
    end)

    it('needs contiguous float parameters', function()
      local m = torch.DoubleTensor({ { 1, 2 }, { 3, 4 } }):t()
      H.raises('rmsprop: parameters must be contiguous', optim.rmsprop,
               function(p) return 0, torch.zeros_like(p) end, m)
      H.raises('adagrad: parameters are int64; expected float32 or float64', optim.adagrad,
               function(p) return 0, p end, torch.LongTensor({ 1, 2 }))
    end)

    it('rejects Nesterov with dampening', function()
      H.raises('sgd: Nesterov momentum needs a momentum > 0 and zero dampening', optim.sgd,
               half_square, x, { momentum = 0.9, dampening = 0.5, nesterov = true })
      H.raises('sgd: Nesterov momentum', optim.sgd, half_square, x, { nesterov = true })
    end)

    it('checks the fused calls directly', function()
      H.raises('adam: betas must lie in [0, 1)', torch._optim.adam_step, x, x:clone(),
               x:clone(), x:clone(), 0.1, 1, 0.999, 1e-8, 0, 1, false)
      H.raises('adamw: step must be at least 1', torch._optim.adam_step, x, x:clone(),
               x:clone(), x:clone(), 0.1, 0.9, 0.999, 1e-8, 0, 0, true)
      H.raises('sgd: momentum buffer has 1 elements, parameters 2', torch._optim.sgd_step,
               x, x:clone(), torch.DoubleTensor({ 0 }), 0.1, 0.9, 0, 0, false, true)
      H.raises('bad argument #3', torch._optim.rmsprop_step, x, x:clone(), 'm', 0.1, 0.9, 1e-8)
    end)
  end)
end)
