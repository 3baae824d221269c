--[[ Limited-memory BFGS (Torch7's optim.lbfgs): up to maxIter quasi-Newton steps per call,
with a fixed step (learningRate) or a line search. Each iteration is a few dot products and
vector updates on x's length; the loops run over the history, never over elements.

ARGS:
- opfunc : a function of x returning f(x) and df/dx
- x      : the initial point, a contiguous float32/float64 vector (updated in place)
- config : a table of hyper-parameters
  - config.maxIter      : maximum iterations (default 20)
  - config.maxEval      : maximum function evaluations (default maxIter * 1.25)
  - config.tolFun       : stop when sum |df/dx| <= tolFun (default 1e-5)
  - config.tolX         : stop when a step (sum |t d|) or the change of f is below tolX
                          (default 1e-9)
  - config.nCorrection  : number of (step, gradient change) pairs kept (default 100)
  - config.learningRate : the fixed step size, or the line search's first trial (default 1)
  - config.lineSearch   : nil for fixed steps, or a function (as Torch7's optim.lswolfe)
                          f, g, x, t, nEval = lineSearch(opfunc, x, t, d, f, g, gtd, options)
  - config.lineSearchOptions : passed to lineSearch
- state  : a table for the optimizer's memory (default: config)
  - state.funcEval : function evaluations so far;  state.nIter : iterations so far
  - state.d, state.t : last direction and step size;  state.Hdiag : initial Hessian scale
  - state.steps, state.diffs : the kept s = t d and y = g - gPrev (oldest first)
  - state.gPrev, state.fPrev : gradient and value at the previous iterate

RETURN: x (the final point), {f(x) at each iterate} (first: before any step),
the number of evaluations in this call
]]
local torch = require 'torch'

local function check(config)
  for _, key in ipairs { 'maxIter', 'maxEval', 'tolFun', 'tolX', 'nCorrection', 'learningRate' } do
    local v = config[key]
    if v ~= nil and (type(v) ~= 'number' or v < 0) then
      error(('optim.lbfgs: config.%s must be a non-negative number, got %s')
            :format(key, tostring(v)), 3)
    end
  end
  if config.lineSearch ~= nil and type(config.lineSearch) ~= 'function' then
    error(('optim.lbfgs: config.lineSearch must be a function, got %s')
          :format(type(config.lineSearch)), 3)
  end
end

-- The L-BFGS direction -H g from the kept pairs (two-loop recursion), written into d.
local function direction(state, g, d)
  local steps, diffs = state.steps, state.diffs
  local k = #steps
  local ro, al = {}, {}
  local q = torch.mul(g, -1)
  for i = k, 1, -1 do
    ro[i] = 1 / diffs[i]:dot(steps[i])
    al[i] = steps[i]:dot(q) * ro[i]
    q:add(-al[i], diffs[i])
  end
  d:copy(q):mul(state.Hdiag)
  for i = 1, k do
    local be = diffs[i]:dot(d) * ro[i]
    d:add(al[i] - be, steps[i])
  end
end

-- Records the pair (s = t d, y = g - gPrev) when y.s > 1e-10 (keeps H positive definite),
-- dropping the oldest beyond nCorrection, and rescales Hdiag = y.s / y.y.
local function remember(state, g, nCorrection)
  local y = torch.add(g, -1, state.gPrev)
  local s = torch.mul(state.d, state.t)
  local ys = y:dot(s)
  if ys > 1e-10 then
    if #state.steps == nCorrection then
      table.remove(state.steps, 1)
      table.remove(state.diffs, 1)
    end
    table.insert(state.steps, s)
    table.insert(state.diffs, y)
    state.Hdiag = ys / y:dot(y)
  end
end

local function lbfgs(opfunc, x, config, state)
  config = config or {}
  state = state or config
  check(config)
  local maxIter = config.maxIter or 20
  local maxEval = config.maxEval or maxIter * 1.25
  local tolFun = config.tolFun or 1e-5
  local tolX = config.tolX or 1e-9
  local nCorrection = math.max(1, config.nCorrection or 100)
  local lr = config.learningRate or 1
  local lineSearch = config.lineSearch
  state.funcEval = state.funcEval or 0
  state.nIter = state.nIter or 0

  local f, g = opfunc(x)
  local fHist, evals = { f }, 1
  state.funcEval = state.funcEval + 1
  if torch.abs(g):sum() <= tolFun then return x, fHist, evals end   -- already optimal

  local nIter = 0
  while nIter < maxIter do
    nIter = nIter + 1
    state.nIter = state.nIter + 1
    if state.nIter == 1 then   -- steepest descent first, H = I
      state.d = torch.mul(g, -1)
      state.steps, state.diffs, state.Hdiag = {}, {}, 1
    else
      remember(state, g, nCorrection)
      direction(state, g, state.d)
    end
    state.gPrev = state.gPrev or g:clone()
    state.gPrev:copy(g)
    state.fPrev = f
    local d = state.d

    local gtd = g:dot(d)   -- directional derivative
    if gtd > -tolX then break end   -- no descent along d

    if state.nIter == 1 then   -- a first step of at most 1 in the l1 norm
      state.t = math.min(1, 1 / torch.abs(g):sum()) * lr
    else
      state.t = lr
    end

    local lsEvals = 0
    if lineSearch then
      f, g, x, state.t, lsEvals = lineSearch(opfunc, x, state.t, d, f, g, gtd,
                                             config.lineSearchOptions)
      fHist[#fHist + 1] = f
    else
      x:add(state.t, d)
      if nIter ~= maxIter then   -- a last evaluation would only serve the next call
        f, g = opfunc(x)
        lsEvals = 1
        fHist[#fHist + 1] = f
      end
    end
    evals = evals + lsEvals
    state.funcEval = state.funcEval + lsEvals

    if nIter == maxIter or evals >= maxEval then break end
    if torch.abs(g):sum() <= tolFun then break end   -- optimal
    if torch.abs(d):sum() * math.abs(state.t) <= tolX then break end   -- step too small
    if math.abs(f - state.fPrev) < tolX then break end   -- f no longer changes
  end
  return x, fHist, evals
end

return lbfgs
