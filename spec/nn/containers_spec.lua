-- nn containers and table modules: Concat, ConcatTable, ParallelTable, JoinTable,
-- SplitTable, CAddTable, CMulTable. Values by hand; gradients (input tables and
-- parameters) against finite differences in float64, batch of 1 and more, strided;
-- errors name the failing child; clone/type/getParameters go through them.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local jac = nn.Jacobian
local TOL = 1e-7

-- a vector, a batch of 1, a batch of 4 and a non-contiguous batch of 4 (a transpose)
local function inputs(n)
  return {
    vector = torch.randn(n, 'float64'),
    batch1 = torch.randn(1, n, 'float64'),
    batch4 = torch.randn(4, n, 'float64'),
    strided = torch.randn(n, 4, 'float64'):t(),
  }
end

-- The tensors of a tensor or a nested table, in order.
local function leaves(x, list)
  list = list or {}
  if torch.isTensor(x) then list[#list + 1] = x
  else for _, v in ipairs(x) do leaves(v, list) end end
  return list
end

-- x with every tensor replaced by zeros of its size
local function zerosLike(x)
  if torch.isTensor(x) then return torch.zeros_like(x) end
  local t = {}
  for i, v in ipairs(x) do t[i] = zerosLike(v) end
  return t
end

-- the tensors of x as one vector (copies)
local function flat(x)
  local parts = {}
  for i, t in ipairs(leaves(x)) do parts[i] = t:reshape(t:nElement()):clone() end
  return torch.cat(parts, 1)
end

-- The i-th element of t in row-major order, as a multi-index.
local function elementIndex(t, i)
  local idx, rest = {}, i - 1
  for d = t:dim(), 1, -1 do
    idx[d] = rest % t:size(d) + 1
    rest = rest // t:size(d)
  end
  return idx
end

-- Max |numeric - analytic| d output / d (the input's tensors, or param) for modules
-- whose input and output may be tables. dparam: param's gradient tensor.
local function tableJacobian(m, input, param, dparam)
  local eps = 1e-6
  local wrt = param and { param } or leaves(input)
  local out = m:forward(input)
  local nOut = flat(out):nElement()
  local rows = {}
  for _, t in ipairs(wrt) do
    for i = 1, t:nElement() do
      local idx = elementIndex(t, i)
      local orig = t[idx]
      t[idx] = orig + eps
      local plus = flat(m:forward(input))
      t[idx] = orig - eps
      local minus = flat(m:forward(input))
      t[idx] = orig
      rows[#rows + 1] = ((plus - minus) / (2 * eps)):view(1, nOut)
    end
  end
  local numeric = torch.cat(rows, 1)
  local analytic = torch.zeros(numeric:size(1), nOut, 'float64')
  m:forward(input)
  local gout = zerosLike(out)
  local gleaves = leaves(gout)
  local j = 0
  for _, g in ipairs(gleaves) do
    for i = 1, g:nElement() do
      j = j + 1
      local idx = elementIndex(g, i)
      g[idx] = 1
      if param then
        dparam:zero()
        m:backward(input, gout)
        analytic:select(2, j):copy(dparam:reshape(dparam:nElement()))
      else
        analytic:select(2, j):copy(flat(m:updateGradInput(input, gout)))
      end
      g[idx] = 0
    end
  end
  return (numeric - analytic):abs():max()
end

-- the input's gradient and every parameter's, for table or tensor modules
local function checkGradients(m, x, what)
  H.near(tableJacobian(m, x), 0, TOL, what .. ': gradInput')
  local params, gradParams = m:parameters()
  for i, p in ipairs(params or {}) do
    H.near(tableJacobian(m, x, p, gradParams[i]), 0, TOL, what .. ': parameter ' .. i)
  end
end

-- nn.Linear(n, m) with weight = w (a nested table) and bias = b, in float64
local function linear(w, b)
  local m = nn.Linear(#w[1], #w):double()
  m.weight:copy(torch.DoubleTensor(w))
  m.bias:copy(torch.DoubleTensor(b))
  return m
end

describe('nn containers', function()
  before_each(function() torch.manualSeed(7) end)

  describe('ConcatTable', function()
    it('gives every child the input and returns their outputs', function()
      local c = nn.ConcatTable():add(linear({ { 1, 2 } }, { 1 })):add(nn.Identity()):double()
      local out = c:forward(torch.DoubleTensor({ { 1, 1 }, { 2, 0 } }))
      assert.are.equal(2, #out)
      H.near(out[1], { { 4 }, { 3 } }, 0)
      H.near(out[2], { { 1, 1 }, { 2, 0 } }, 0)
      -- gradInput sums the children's: W^T g1 + g2
      local gi = c:backward(torch.DoubleTensor({ { 1, 1 }, { 2, 0 } }),
                            { torch.DoubleTensor({ { 1 }, { 2 } }), torch.ones(2, 2, 'float64') })
      H.near(gi, { { 2, 3 }, { 3, 5 } }, 0)
    end)

    it('passes the gradient check, for tensor and table inputs', function()
      for kind, x in pairs(inputs(3)) do
        local c = nn.ConcatTable():add(nn.Linear(3, 2)):add(nn.Tanh())
                    :add(nn.Sequential():add(nn.Linear(3, 3)):add(nn.Sigmoid())):double()
        checkGradients(c, x, 'ConcatTable ' .. kind)
      end
      local onTable = nn.ConcatTable():add(nn.CAddTable()):add(nn.CMulTable()):add(nn.JoinTable(2)):double()
      checkGradients(onTable, { torch.randn(2, 3, 'float64'), torch.randn(3, 2, 'float64'):t() },
                     'ConcatTable on a table')
    end)

    it('prints as Torch7 does', function()
      local c = nn.ConcatTable():add(nn.Linear(2, 3)):add(nn.Sequential():add(nn.Tanh()))
      assert.are.equal(table.concat({
        'nn.ConcatTable {',
        '  input',
        '    |`-> (1): nn.Linear(2 -> 3)',
        '     `-> (2): nn.Sequential {',
        '           [input -> (1) -> output]',
        '           (1): nn.Tanh',
        '         }',
        '     ... -> output',
        '}' }, '\n'), tostring(c))
    end)

    it('names the failing child and a wrong gradOutput', function()
      local c = nn.ConcatTable():add(nn.Linear(3, 2)):add(nn.Linear(4, 2))
      H.raises('nn.ConcatTable: module 2 (nn.Linear) failed on input of size 5x3: nn.Linear: input has 3 '
               .. 'features, expected 4', c.forward, c, torch.randn(5, 3))
      c = nn.ConcatTable():add(nn.Tanh()):add(nn.Tanh())
      c:forward(torch.randn(2, 2))
      H.raises('nn.ConcatTable: gradOutput must be a table of 2 entries (one per child), got a tensor',
               c.backward, c, torch.randn(2, 2), torch.randn(2, 2))
    end)
  end)

  describe('Concat', function()
    it('joins the children\'s outputs along dim', function()
      local c = nn.Concat(2):add(linear({ { 1, 0 }, { 0, 1 } }, { 0, 0 })):add(linear({ { 1, 1 } }, { 10 }))
      local out = c:forward(torch.DoubleTensor({ { 1, 2 }, { 3, 4 } }))
      H.near(out, { { 1, 2, 13 }, { 3, 4, 17 } }, 0)
      local gi = c:backward(torch.DoubleTensor({ { 1, 2 }, { 3, 4 } }), torch.DoubleTensor({ { 1, 0, 1 }, { 0, 1, 2 } }))
      H.near(gi, { { 2, 1 }, { 2, 3 } }, 0)
      H.near(c:get(2).gradWeight, { { 7, 10 } }, 0)
    end)

    it('passes the gradient check', function()
      for kind, x in pairs(inputs(3)) do
        local dim = kind == 'vector' and 1 or 2
        local c = nn.Concat(dim):add(nn.Linear(3, 2)):add(nn.Identity())
                    :add(nn.Sequential():add(nn.Linear(3, 4)):add(nn.Tanh())):double()
        checkGradients(c, x, 'Concat ' .. kind)
      end
      local byRows = nn.Concat(1):add(nn.Linear(3, 3)):add(nn.Tanh()):double()
      checkGradients(byRows, torch.randn(3, 2, 'float64'):t(), 'Concat(1)')
    end)

    it('prints as Torch7 does and names outputs that cannot be joined', function()
      local c = nn.Concat(2):add(nn.Linear(2, 3)):add(nn.Identity())
      assert.are.equal('nn.Concat {\n  input\n    |`-> (1): nn.Linear(2 -> 3)\n     `-> (2): nn.Identity\n'
                       .. '     ... -> output\n}', tostring(c))
      local bad = nn.Concat(2):add(nn.Identity()):add(nn.Select(1, 1))
      H.raises({ 'nn.Concat: cannot join the outputs of its children', 'cat:' }, bad.forward, bad, torch.randn(2, 2))
      H.raises('nn.Concat(dim): dim must be a positive integer', nn.Concat, 0)
    end)
  end)

  describe('ParallelTable', function()
    it('applies child i to entry i', function()
      local p = nn.ParallelTable():add(linear({ { 2 } }, { 1 })):add(nn.ReLU()):double()
      local out = p:forward({ torch.DoubleTensor({ { 3 } }), torch.DoubleTensor({ -1, 2 }) })
      H.near(out[1], { { 7 } }, 0)
      H.near(out[2], { 0, 2 }, 0)
      local gi = p:backward({ torch.DoubleTensor({ { 3 } }), torch.DoubleTensor({ -1, 2 }) },
                            { torch.DoubleTensor({ { 1 } }), torch.DoubleTensor({ 5, 5 }) })
      H.near(gi[1], { { 2 } }, 0)
      H.near(gi[2], { 0, 5 }, 0)
    end)

    it('passes the gradient check for every input and parameter', function()
      for kind, x in pairs(inputs(3)) do
        local p = nn.ParallelTable():add(nn.Linear(3, 2)):add(nn.Tanh()):add(nn.Linear(3, 4)):double()
        checkGradients(p, { x, torch.randn(2, 5, 'float64'), x:clone() }, 'ParallelTable ' .. kind)
      end
    end)

    it('wants one input per child and names the failing child', function()
      local p = nn.ParallelTable():add(nn.Tanh()):add(nn.Linear(2, 2))
      H.raises('nn.ParallelTable: input must be a table of 2 entries (one per child), got 3 entries',
               p.forward, p, { torch.randn(2), torch.randn(2), torch.randn(2) })
      H.raises('got torch.FloatTensor', p.forward, p, torch.randn(2, 2))
      H.raises('nn.ParallelTable: module 2 (nn.Linear) failed on input of size 3x5', p.forward, p,
               { torch.randn(2), torch.randn(3, 5) })
    end)
  end)

  describe('JoinTable and SplitTable', function()
    it('join along a dim, a negative dim, or past a batch dim', function()
      local a, b = torch.DoubleTensor({ { 1, 2 }, { 3, 4 } }), torch.DoubleTensor({ { 5 }, { 6 } })
      H.near(nn.JoinTable(2):forward({ a, b }), { { 1, 2, 5 }, { 3, 4, 6 } }, 0)
      H.near(nn.JoinTable(-1):forward({ a, b }), { { 1, 2, 5 }, { 3, 4, 6 } }, 0)
      H.near(nn.JoinTable(1, 1):forward({ a, b }), { { 1, 2, 5 }, { 3, 4, 6 } }, 0)   -- a batch
      H.near(nn.JoinTable(1, 1):forward({ a[1], a[2] }), { 1, 2, 3, 4 }, 0)          -- one sample
      local j = nn.JoinTable(2):double()
      j:forward({ a, b })
      local gi = j:backward({ a, b }, torch.DoubleTensor({ { 1, 2, 3 }, { 4, 5, 6 } }))
      assert.are.equal(2, #gi)
      H.near(gi[1], { { 1, 2 }, { 4, 5 } }, 0)
      H.near(gi[2], { { 3 }, { 6 } }, 0)
      j:forward({ a })
      gi = j:backward({ a }, torch.DoubleTensor({ { 1, 2 }, { 4, 5 } }))
      assert.are.equal(1, #gi)   -- fewer inputs: the table shrinks
    end)

    it('split into views along a dim, a negative dim, or past a batch dim', function()
      local x = torch.DoubleTensor({ { 1, 2, 3 }, { 4, 5, 6 } })
      local rows = nn.SplitTable(1):forward(x)
      assert.are.equal(2, #rows)
      H.near(rows[2], { 4, 5, 6 }, 0)
      local cols = nn.SplitTable(-1):forward(x)
      assert.are.equal(3, #cols)
      H.near(cols[3], { 3, 6 }, 0)
      assert.are.equal(3, #nn.SplitTable(1, 1):forward(x))   -- a batch of vectors: split dim 2
      local s = nn.SplitTable(2):double()
      s:forward(x)
      H.near(s:backward(x, { torch.DoubleTensor({ 1, 1 }), nil, torch.DoubleTensor({ 2, 3 }) }),
             { { 1, 0, 2 }, { 1, 0, 3 } }, 0)
    end)

    it('pass the gradient check', function()
      for kind, x in pairs(inputs(3)) do
        if kind ~= 'vector' then
          checkGradients(nn.SplitTable(2):double(), x, 'SplitTable ' .. kind)
          checkGradients(nn.SplitTable(1):double(), x, 'SplitTable(1) ' .. kind)
          checkGradients(nn.JoinTable(2):double(), { x, torch.randn(x:size(1), 2, 'float64') }, 'JoinTable ' .. kind)
        end
        checkGradients(nn.JoinTable(1):double(), { x, x:clone() }, 'JoinTable(1) ' .. kind)
      end
      local x = torch.randn(4, 3, 'float64'):t()
      H.near(jac.testJacobian(nn.Sequential():add(nn.SplitTable(2)):add(nn.JoinTable(1)):double(), x), 0, TOL)
    end)

    it('name bad inputs', function()
      H.raises('nn.JoinTable: expected a non-empty table of tensors, got a tensor of size 2x2',
               function() return nn.JoinTable(1):forward(torch.randn(2, 2)) end)
      H.raises({ 'nn.JoinTable: cat: sizes 2x2 and 3x1 differ' },
               function() return nn.JoinTable(2):forward({ torch.randn(2, 2), torch.randn(3, 1) }) end)
      H.raises('nn.SplitTable: cannot split an input of size 5 along dimension 1',
               function() return nn.SplitTable(1):forward(torch.randn(5)) end)
      assert.are.equal('nn.JoinTable(2, 3)', tostring(nn.JoinTable(2, 3)))
      assert.are.equal('nn.SplitTable(-1)', tostring(nn.SplitTable(-1)))
    end)
  end)

  describe('CAddTable and CMulTable', function()
    it('add and multiply elementwise', function()
      local a, b, c = torch.DoubleTensor({ 1, 2 }), torch.DoubleTensor({ 3, 0 }), torch.DoubleTensor({ 2, 5 })
      H.near(nn.CAddTable():double():forward({ a, b, c }), { 6, 7 }, 0)
      H.near(nn.CMulTable():double():forward({ a, b, c }), { 6, 0 }, 0)
      local m = nn.CMulTable():double()
      m:forward({ a, b, c })
      local gi = m:backward({ a, b, c }, torch.DoubleTensor({ 1, 2 }))
      H.near(gi[1], { 6, 0 }, 0)
      H.near(gi[2], { 2, 20 }, 0)   -- the zero in b does not spoil the others
      H.near(gi[3], { 3, 0 }, 0)
      local add = nn.CAddTable():double()
      add:forward({ a, b })
      gi = add:backward({ a, b }, torch.DoubleTensor({ 1, 2 }))
      H.near(gi[1], { 1, 2 }, 0)
      assert.is_false(gi[1]:isSetTo(gi[2]))   -- copies, as Torch7
    end)

    it('pass the gradient check with 2 and 3 inputs', function()
      for kind, x in pairs(inputs(3)) do
        local y, z = torch.randn(x:size(), 'float64'), torch.randn(x:size(), 'float64')
        checkGradients(nn.CAddTable():double(), { x, y }, 'CAddTable ' .. kind)
        checkGradients(nn.CAddTable():double(), { x, y, z }, 'CAddTable 3 ' .. kind)
        checkGradients(nn.CMulTable():double(), { x, y }, 'CMulTable ' .. kind)
        checkGradients(nn.CMulTable():double(), { y, x, z }, 'CMulTable 3 ' .. kind)
      end
    end)

    it('name inputs of different sizes', function()
      H.raises('nn.CAddTable: input 2 has size 4x3, expected 4x5',
               function() return nn.CAddTable():forward({ torch.randn(4, 5), torch.randn(4, 3) }) end)
      H.raises('nn.CMulTable: expected a non-empty table of tensors, got table',
               function() return nn.CMulTable():forward({}) end)
    end)
  end)

  describe('through containers', function()
    -- x -> {Linear(3, 4) x, Linear(3, 4) x} -> {tanh, sigmoid} -> sum -> Linear(4, 2)
    local function net()
      return nn.Sequential()
        :add(nn.ConcatTable():add(nn.Linear(3, 4)):add(nn.Linear(3, 4)))
        :add(nn.ParallelTable():add(nn.Tanh()):add(nn.Sigmoid()))
        :add(nn.CAddTable())
        :add(nn.Linear(4, 2))
    end

    it('gradients pass the check', function()
      for kind, x in pairs(inputs(3)) do checkGradients(net():double(), x, 'net ' .. kind) end
    end)

    it('getParameters flattens the children in order', function()
      local n = net():double()
      local params, grads = n:getParameters()
      assert.are.equal(2 * (12 + 4) + 8 + 2, params:nElement())
      assert.are.equal(params:nElement(), grads:nElement())
      params:fill(0.25)
      H.near(n:get(1):get(2).bias, torch.full({ 4 }, 0.25), 0)
      n:zeroGradParameters()
      local x = torch.randn(2, 3, 'float64')
      n:forward(x)
      n:backward(x, torch.randn(2, 2, 'float64'))
      H.near(grads:narrow(1, 17, 12):view(4, 3), n:get(1):get(2).gradWeight, 0)
    end)

    it('clone and type go through the children', function()
      local n = net()
      local c = n:clone()
      local x = torch.randn(2, 3)
      H.near(c:forward(x), n:forward(x), 0)
      c:get(1):get(1).weight:fill(0)
      assert.is_true(n:get(1):get(1).weight:abs():sum() > 0)
      n:double()
      assert.are.equal('torch.DoubleTensor', n:get(1):get(2).weight:type())
      assert.are.equal('torch.DoubleTensor', n:forward(x:double()):type())
      assert.are.equal('torch.DoubleTensor', n:get(3).gradInput[1] and n:get(3).gradInput[1]:type()
                       or 'torch.DoubleTensor')
      n:backward(x:double(), torch.randn(2, 2, 'float64'))
      assert.are.equal('torch.DoubleTensor', n:get(3).gradInput[2]:type())
      local found = n:findModules('nn.Linear')
      assert.are.equal(3, #found)
      n:clearState()
      assert.are.equal(0, #n:get(1).output)
    end)
  end)
end)
