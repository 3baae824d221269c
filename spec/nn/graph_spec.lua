-- nn.Graph (nngraph's gModule) and nn.Residual: wiring, values against the same
-- modules run by hand, gradients against finite differences (fan-out, fan-in, several
-- inputs and outputs), getParameters against a Sequential, clone/type, error messages.
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

-- the input's gradient and every parameter's against finite differences
local function checkGradients(m, x, what)
  H.near(jac.testJacobian(m, x), 0, TOL, what .. ': gradInput')
  local params, gradParams = m:parameters()
  for i, p in ipairs(params or {}) do
    H.near(jac.testJacobianParameters(m, x, p, gradParams[i]), 0, TOL, what .. ': parameter ' .. i)
  end
end

-- x -> Linear(4, 8) -> Tanh, plus a second Linear(4, 8) of x: a fan-out and a fan-in
local function diamond()
  local x = nn.Input()
  local h = nn.Tanh()(nn.Linear(4, 8)(x))
  local y = nn.CAddTable()({ h, nn.Linear(4, 8)(x) })
  return nn.Graph({ x }, { y }), x, y
end

describe('nn.Graph', function()
  before_each(function() torch.manualSeed(3) end)

  it('computes what its modules compute by hand', function()
    local g = diamond():double()
    local x = torch.randn(3, 4, 'float64')
    local l1, tanh, l2 = g.modules[1], g.modules[2], g.modules[3]
    assert.are.equal('nn.Tanh', torch.type(tanh))
    local expected = torch.tanh(l1:forward(x)) + l2:forward(x)
    H.near(g:forward(x), expected, 1e-14)
    assert.are.equal(4, #g.modules)
  end)

  it('passes the gradient check with fan-out and fan-in', function()
    for kind, x in pairs(inputs(4)) do checkGradients(diamond():double(), x, 'diamond ' .. kind) end
  end)

  it('sums the gradients of a node used several times, also as an output', function()
    -- h feeds two consumers and is itself an output; x is used three times
    local x = nn.Input()
    local h = nn.Linear(3, 3)(x)
    local a = nn.CMulTable()({ h, h })
    local b = nn.CAddTable()({ nn.Sigmoid()(h), x, a })
    local g = nn.Graph(x, { b, h }):double()
    local wrapped = nn.Sequential():add(g):add(nn.JoinTable(-1)):double()
    for kind, xin in pairs(inputs(3)) do checkGradients(wrapped, xin, 'fan-out ' .. kind) end
    -- by hand: d(sum of outputs)/dx
    local xin = torch.randn(2, 3, 'float64')
    local lin = g.modules[1]
    local hv = lin:forward(xin)
    local s = torch.sigmoid(hv)
    local dh = torch.ones(2, 3, 'float64') + torch.cmul(s, 1 - s) + hv * 2   -- b and h outputs
    g:forward(xin)
    local gi = g:backward(xin, { torch.ones(2, 3, 'float64'), torch.ones(2, 3, 'float64') })
    H.near(gi, torch.mm(dh, lin.weight) + 1, 1e-12)
  end)

  it('takes several inputs and gives several outputs', function()
    local a, b = nn.Input(), nn.Input()
    local sum = nn.CAddTable()({ nn.Linear(4, 3)(a), nn.Linear(2, 3)(b) })
    local prod = nn.CMulTable()({ nn.Tanh()(sum), nn.Linear(2, 3)(b) })
    local g = nn.gModule({ a, b }, { prod, sum }):double()
    assert.are.equal('nn.Graph', torch.type(g))
    local xa, xb = torch.randn(5, 4, 'float64'), torch.randn(5, 2, 'float64')
    local out = g:forward({ xa, xb })
    assert.are.equal(2, #out)
    local s = g.modules[1]:forward(xa) + g.modules[2]:forward(xb)
    H.near(out[2], s, 1e-14)
    H.near(out[1], torch.cmul(torch.tanh(s), g.modules[5]:forward(xb)), 1e-14)
    local gi = g:backward({ xa, xb }, { torch.ones(5, 3, 'float64'), torch.zeros(5, 3, 'float64') })
    assert.are.same({ 5, 4 }, gi[1]:sizeTable())
    assert.are.same({ 5, 2 }, gi[2]:sizeTable())
    -- gradients through a tensor-in, tensor-out wrapper: (N, 6) -> {(N, 4), (N, 2)} -> g -> (N, 6)
    local wrapped = nn.Sequential()
      :add(nn.ConcatTable():add(nn.Narrow(-1, 1, 4)):add(nn.Narrow(-1, 5, 2)))
      :add(g):add(nn.JoinTable(-1)):double()
    for kind, x in pairs(inputs(6)) do checkGradients(wrapped, x, 'two in, two out ' .. kind) end
  end)

  it('has the parameters of the equivalent Sequential, in the same order', function()
    local x = nn.Input()
    local y = nn.LogSoftMax()(nn.Linear(5, 2)(nn.ReLU()(nn.Linear(3, 5)(x))))
    local g = nn.Graph(x, y):double()
    local s = nn.Sequential():add(nn.Linear(3, 5)):add(nn.ReLU()):add(nn.Linear(5, 2)):add(nn.LogSoftMax()):double()
    local gp, gg = g:getParameters()
    local sp, sg = s:getParameters()
    assert.are.equal(sp:nElement(), gp:nElement())
    sp:copy(gp)
    local xin, gout = torch.randn(4, 3, 'float64'), torch.randn(4, 2, 'float64')
    H.near(g:forward(xin), s:forward(xin), 0)
    gg:zero(); sg:zero()
    H.near(g:backward(xin, gout), s:backward(xin, gout), 0)
    H.near(gg, sg, 0)
    -- updateGradInput + accGradParameters = backward
    gg:zero()
    g:forward(xin)
    g:updateGradInput(xin, gout)
    g:accGradParameters(xin, gout, 1)
    H.near(gg, sg, 1e-15)
    -- a step through the flat vector reaches the modules
    gp:add(-0.1, gg)
    H.near(g.modules[3].weight, s:get(3).weight - s:get(3).gradWeight * 0.1, 1e-15)
  end)

  it('clones, converts types and nests in containers', function()
    local g = diamond()
    local c = g:clone()
    local x = torch.randn(2, 4)
    H.near(c:forward(x), g:forward(x), 0)
    c.modules[1].weight:zero()
    assert.is_true(g.modules[1].weight:abs():sum() > 0)
    g:double()
    assert.are.equal('torch.DoubleTensor', g.modules[3].bias:type())
    assert.are.equal('torch.DoubleTensor', g:forward(x:double()):type())
    local outer = nn.Sequential():add(nn.Linear(3, 4)):add(g):add(nn.Tanh()):double()
    checkGradients(outer, torch.randn(2, 3, 'float64'), 'graph in a Sequential')
    local xi = nn.Input()
    local inner = nn.Sequential():add(nn.Linear(4, 4)):add(nn.Tanh())
    local g2 = nn.Graph(xi, nn.CAddTable()({ inner(xi), xi })):double()
    checkGradients(g2, torch.randn(3, 4, 'float64'), 'Sequential in a graph')
    assert.are.equal(1, #g2:findModules('nn.Linear'))
    g:clearState()
    assert.is_nil(g.nodeOutput)
  end)

  it('lists its nodes when printed', function()
    local g = diamond()
    assert.are.equal(table.concat({
      'nn.Graph {',
      '  (1): nn.Linear(4 -> 8) <- input 1',
      '  (2): nn.Tanh <- (1)',
      '  (3): nn.Linear(4 -> 8) <- input 1',
      '  (4): nn.CAddTable <- {(2), (3)}',
      '  output: (4)',
      '}' }, '\n'), tostring(g))
    local a, b = nn.Input(), nn.Identity()()
    local two = nn.Graph({ a, b }, { nn.JoinTable(2)({ a, b }), b })
    assert.are.equal('nn.Graph {\n  (1): nn.Identity <- input 2\n  (2): nn.JoinTable(2) <- {input 1, (1)}\n'
                     .. '  output: {(2), (1)}\n}', tostring(two))
    local ta, tb = torch.randn(2, 3), torch.randn(2, 1)
    local out = two:forward({ ta, tb })
    H.near(out[1], torch.cat(ta, tb, 2), 0)
    H.near(out[2], tb, 0)
  end)

  it('runs long chains', function()
    local x = nn.Input()
    local h = x
    for _ = 1, 300 do h = nn.Tanh()(h) end
    local g = nn.Graph(x, h):double()
    local xin = torch.randn(2, 3, 'float64')
    local expected = xin
    for _ = 1, 300 do expected = torch.tanh(expected) end
    H.near(g:forward(xin), expected, 1e-14)
    assert.are.same({ 2, 3 }, g:backward(xin, torch.ones(2, 3, 'float64')):sizeTable())
  end)

  describe('errors', function()
    it('name cycles, missing and unconnected inputs, and reused modules', function()
      local x = nn.Input()
      local a = nn.Linear(2, 2)(x)
      local b = nn.Tanh()(a)
      a.inputs[1] = b   -- only a hand-edited node can close a cycle
      H.raises('nn.Graph: the nodes form a cycle through nn.Node(nn.', nn.Graph, x, b)
      local x1, x2 = nn.Input(), nn.Input()
      H.raises('nn.Graph: output 1 depends on nn.Node(input), an input node missing from the inputs',
               nn.Graph, { x1 }, { nn.CAddTable()({ x1, x2 }) })
      H.raises('nn.Graph: input 2 is not connected to any output', nn.Graph, { x1, x2 }, { nn.Tanh()(x1) })
      local lin = nn.Linear(2, 2)
      H.raises('nn.Graph: nn.Linear(2 -> 2) is used by two nodes', nn.Graph, x1, lin(lin(x1)))
      H.raises('nn.Graph: input 1 is not an input node (make one with nn.Input())', nn.Graph,
               nn.Tanh()(x1), nn.Tanh()(x1))
      H.raises('nn.Graph: input 2 is input 1 again', nn.Graph, { x1, x1 }, { nn.Tanh()(x1) })
      H.raises('nn.Graph: output 1 is a torch.FloatTensor, not a graph node', nn.Graph, x1, { torch.randn(2) })
    end)

    it('name calls on tensors, wrong inputs, and the failing node', function()
      local m = nn.Linear(2, 2)
      H.raises({ 'nn.Linear: calling a module builds an nn.Graph node, so it takes nodes',
                 'got torch.FloatTensor', 'module:forward(input)' }, function() return m(torch.randn(2)) end)
      local a, b = nn.Input(), nn.Input()
      local g = nn.Graph({ a, b }, { nn.CAddTable()({ nn.Linear(3, 2)(a), b }) })
      H.raises('nn.Graph: expected a table of 2 inputs, got a tensor of size 4x3', g.forward, g, torch.randn(4, 3))
      H.raises('nn.Graph: module 1 (nn.Linear) failed on input of size 4x5: nn.Linear: input has 5 features',
               g.forward, g, { torch.randn(4, 5), torch.randn(4, 2) })
      H.raises('nn.Graph: module 2 (nn.CAddTable) failed on input of size table: nn.CAddTable: input 2 has size 4x3',
               g.forward, g, { torch.randn(4, 3), torch.randn(4, 3) })
      local fresh = diamond()
      H.raises('nn.Graph: backward called before forward', fresh.backward, fresh, torch.randn(2, 4), torch.randn(2, 8))
      fresh:forward(torch.randn(2, 4))
      H.raises('nn.Graph: accGradParameters called before backward', fresh.accGradParameters, fresh,
               torch.randn(2, 4), torch.randn(2, 8))
    end)
  end)
end)

describe('nn.Residual', function()
  before_each(function() torch.manualSeed(5) end)

  local function block(n)
    return nn.Sequential():add(nn.Linear(n, n)):add(nn.Tanh()):add(nn.Linear(n, n))
  end

  it('computes block(x) + x, or block(x) + shortcut(x)', function()
    local b = block(4):double()
    local r = nn.Residual(b):double()
    local x = torch.randn(3, 4, 'float64')
    H.near(r:forward(x), b:forward(x) + x, 1e-15)
    local down = nn.Linear(4, 2):double()
    local proj = nn.Residual(nn.Sequential():add(nn.Linear(4, 2)):add(nn.ReLU()), down):double()
    H.near(proj:forward(x), proj:get(1):forward(x) + down:forward(x), 1e-15)
    assert.are.equal(2, #proj.modules)
  end)

  it('passes the gradient check, with and without a shortcut', function()
    for kind, x in pairs(inputs(4)) do
      checkGradients(nn.Residual(block(4)):double(), x, 'Residual ' .. kind)
      checkGradients(nn.Residual(block(4), nn.Linear(4, 4)):double(), x, 'Residual shortcut ' .. kind)
    end
  end)

  it('builds a small ResNet in a Sequential, matching the same Graph', function()
    local net = nn.Sequential():add(nn.Linear(3, 6)):add(nn.ReLU())
      :add(nn.Residual(block(6))):add(nn.ReLU())
      :add(nn.Residual(block(6))):add(nn.ReLU())
      :add(nn.Linear(6, 2)):double()
    local x = torch.randn(5, 3, 'float64')
    checkGradients(net, x, 'ResNet')
    -- the same network as a graph, sharing the weights
    local i = nn.Input()
    local h = nn.ReLU()(net:get(1):clone('weight', 'bias')(i))
    for k = 3, 5, 2 do
      local b = net:get(k):get(1):clone('weight', 'bias')
      h = nn.ReLU()(nn.CAddTable()({ b(h), h }))
    end
    local g = nn.Graph(i, net:get(7):clone('weight', 'bias')(h)):double()
    H.near(g:forward(x), net:forward(x), 1e-14)
    assert.is_true(g.modules[1].weight:isSetTo(net:get(1).weight))
    local p = net:getParameters()
    assert.are.equal(3 * 6 + 6 + 4 * (36 + 6) + 12 + 2, p:nElement())
  end)

  it('prints its branches and names a size mismatch', function()
    assert.are.equal('nn.Residual {\n  input\n    |`-> (1): nn.Linear(4 -> 4)\n     `-> identity\n'
                     .. '     ... -> output\n}', tostring(nn.Residual(nn.Linear(4, 4))))
    local r = nn.Residual(nn.Linear(4, 2))
    H.raises("nn.Residual: the block gives 3x2 but the shortcut gives 3x4; give a shortcut", r.forward, r,
             torch.randn(3, 4))
    H.raises('nn.Residual: module 1 (nn.Linear) failed on input of size 3x5', r.forward, r, torch.randn(3, 5))
    H.raises('block must be a module', nn.Residual, 3)
  end)
end)
