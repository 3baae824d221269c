-- Attention and transformers: torch.attnops (scaled-dot-product attention, GELU,
-- dropout masks) and the modules over them (LayerNorm, GELU, Dropout,
-- MultiheadAttention, TransformerBlock, GPT). Forward values (and MultiheadAttention's
-- gradients) against PyTorch fixtures (fixtures/attn_make.py), every backward against
-- finite differences in float64 (nn.Jacobian), and the error messages.
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local H = require 'helpers'

local ops = torch.attnops
local jac = nn.Jacobian
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local fx = dofile(here .. 'fixtures/attn_cases.lua')

local FWD_TOL = { float64 = 1e-10, float32 = 1e-5 }
local JAC_TOL = 1e-6

local ctor = { float64 = torch.DoubleTensor, float32 = torch.FloatTensor }

-- a fixture entry {size, data} as a tensor of dtype
local function T(entry, dtype) return ctor[dtype or 'float64'](entry.data):view(entry.size) end

local function mask(entry) return T(entry):ne(0) end

-- Jacobian checks of the input and of every parameter of module m (float64) at x
local function checkJacobians(m, x, what)
  H.near(jac.testJacobian(m, x), 0, JAC_TOL, what .. ': gradInput')
  local params, gradParams = m:parameters()
  for i, p in ipairs(params or {}) do
    H.near(jac.testJacobianParameters(m, x, p, gradParams[i]), 0, JAC_TOL,
           what .. ': parameter ' .. i)
  end
  return #(params or {})
end

-- A module-like adapter feeding {x, pad} to m, so nn.Jacobian can perturb x alone.
local function withPad(m, pad)
  local a = {}
  function a:forward(x) return m:forward({ x, pad }) end
  function a:updateGradInput(x, g) return m:updateGradInput({ x, pad }, g)[1] end
  function a:backward(x, g) return m:backward({ x, pad }, g)[1] end
  function a:parameters() return m:parameters() end
  return a
end

-- an MHA loaded with a fixture case's parameters
local function mhaFrom(c, dtype)
  local m = nn.MultiheadAttention(c.C, c.NH, { causal = c.causal, bias = c.bias })
  m:type(dtype == 'float32' and 'torch.FloatTensor' or 'torch.DoubleTensor')
  m.inWeight:copy(T(c.inWeight))
  m.outWeight:copy(T(c.outWeight))
  if c.bias then
    m.inBias:copy(T(c.inBias))
    m.outBias:copy(T(c.outBias))
  end
  return m
end

describe('attnops.attention', function()
  for _, dtype in ipairs { 'float64', 'float32' } do
    it('matches PyTorch with Tq ~= Tk and another head size for v (' .. dtype .. ')', function()
      local c = fx.sdpa_cross
      local y = ops.attention_forward(nil, nil, T(c.q, dtype), T(c.k, dtype), T(c.v, dtype), nil,
                                      nil, c.scale, false)
      H.near(y, T(c.output), FWD_TOL[dtype])
      assert.are.equal(dtype, y:dtype())
    end)
  end

  it('reads and writes strided views in place and stages other layouts', function()
    local q, k, v = torch.randn(2, 5, 3, 4):double(), torch.randn(2, 5, 3, 4):double(),
                    torch.randn(2, 5, 3, 4):double()
    local qt, kt, vt = q:transpose(2, 3), k:transpose(2, 3), v:transpose(2, 3)   -- (2, 3, 5, 4)
    local ref = ops.attention_forward(nil, nil, qt:contiguous(), kt:contiguous(), vt:contiguous(),
                                      nil, nil, 0.5, true)
    local buf = torch.zeros(2, 5, 3, 4):double()
    local y = buf:transpose(2, 3)
    ops.attention_forward(y, nil, qt, kt, vt, nil, nil, 0.5, true)
    H.near(y, ref, 1e-12)
    H.near(buf:transpose(2, 3), ref, 1e-12, 'the output view kept its strides')
    local y2 = ops.attention_forward(nil, nil, q:permute(1, 3, 2, 4):transpose(3, 4):transpose(3, 4),
                                     torch.randn(2, 3, 4, 5):double():copy(kt:transpose(3, 4)):transpose(3, 4),
                                     vt, nil, nil, 0.5, true)
    H.near(y2, ref, 1e-12, 'a key view with a non-unit last stride')
  end)

  it('gives zero weights, zero output and zero gradients for a row with every key masked', function()
    local q, k, v = torch.randn(2, 2, 3, 4):double(), torch.randn(2, 2, 3, 4):double(),
                    torch.randn(2, 2, 3, 4):double()
    local pad = torch.BoolTensor({ { true, false, false }, { true, true, true } })
    local y, att = ops.attention_forward(nil, nil, q, k, v, pad, nil, 0.5, true)
    -- batch 1: query 1 sees only key 1, which is padding; batch 2: every key is padding
    H.near(att:select(1, 2), torch.zeros(2, 3, 3), 0)
    H.near(att:select(1, 1):select(2, 1), torch.zeros(2, 3), 0)
    H.near(y:select(1, 2), torch.zeros(2, 3, 4), 0)
    H.near(att:select(1, 1):select(2, 3):sum(2), torch.ones(2, 1), 1e-12, 'live rows sum to one')
    assert.is_true(y:eq(y):all(), 'no NaN')
    local gq, gk, gv = ops.attention_backward(nil, nil, nil, torch.ones(2, 2, 3, 4):double(), q, k, v,
                                              att, nil, 0.5, true)
    assert.is_true(gq:eq(gq):all() and gk:eq(gk):all() and gv:eq(gv):all(), 'no NaN gradients')
    H.near(gv:select(1, 2), torch.zeros(2, 3, 4), 0)
  end)

  for _, case in ipairs {
    { name = 'plain', causal = false },
    { name = 'causal + padding', causal = true, pad = { { false, false, true }, { false, true, false } } },
    { name = 'dropout mask', causal = true, dmask = true },
  } do
    it('backward matches finite differences: ' .. case.name, function()
      local q, k, v = torch.randn(2, 2, 3, 4):double(), torch.randn(2, 2, 3, 4):double(),
                      torch.randn(2, 2, 3, 5):double()
      local pad = case.pad and torch.BoolTensor(case.pad)
      local dmask = case.dmask and torch.DoubleTensor(2, 2, 3, 3):bernoulli(0.7):mul(1 / 0.7)
      local inputs = { q, k, v }
      for i = 1, 3 do
        local m = {}
        function m:forward(x)
          local a = { q, k, v }
          a[i] = x
          return ops.attention_forward(nil, nil, a[1], a[2], a[3], pad, dmask, 0.7, case.causal)
        end
        function m:updateGradInput(x, g)
          local a = { q, k, v }
          a[i] = x
          local _, att = ops.attention_forward(nil, nil, a[1], a[2], a[3], pad, dmask, 0.7, case.causal)
          return select(i, ops.attention_backward(nil, nil, nil, g, a[1], a[2], a[3], att, dmask,
                                                  0.7, case.causal))
        end
        H.near(jac.testJacobian(m, inputs[i]:clone()), 0, JAC_TOL, 'input ' .. i)
      end
    end)
  end

  it('reports bad shapes, dtypes and masks', function()
    local q = torch.randn(1, 2, 3, 4)
    H.raises('attention: q is 2x3x4; expected (B, NH, T, HS)', ops.attention_forward, nil, nil,
             torch.randn(2, 3, 4), q, q, nil, nil, 1, false)
    H.raises('attention: k is 1x2x3x5, expected 1x2x3x4 (B, NH, Tk, HS) to match q',
             ops.attention_forward, nil, nil, q, torch.randn(1, 2, 3, 5), q, nil, nil, 1, false)
    H.raises('attention: v is float64, expected float32', ops.attention_forward, nil, nil, q, q,
             q:double(), nil, nil, 1, false)
    H.raises('attention: q is int64; expected float32 or float64', ops.attention_forward, nil, nil,
             q:long(), q:long(), q:long(), nil, nil, 1, false)
    H.raises('attention: key padding mask is float32; expected bool or uint8',
             ops.attention_forward, nil, nil, q, q, q, torch.zeros(1, 3), nil, 1, false)
    H.raises('attention: key padding mask is 3x1, expected 1x3 (B, Tk)', ops.attention_forward,
             nil, nil, q, q, q, torch.BoolTensor(3, 1), nil, 1, false)
    H.raises('attention backward: att is 1x2x3x2, expected 1x2x3x3', ops.attention_backward, nil,
             nil, nil, q, q, q, q, torch.zeros(1, 2, 3, 2), nil, 1, false)
  end)
end)

describe('nn.GELU', function()
  for _, approx in ipairs { 'none', 'tanh' } do
    local c = fx['gelu_' .. approx]
    for _, dtype in ipairs { 'float64', 'float32' } do
      it(('matches PyTorch, approximate %s (%s)'):format(approx, dtype), function()
        local m = nn.GELU(approx):type(dtype == 'float32' and 'torch.FloatTensor' or 'torch.DoubleTensor')
        H.near(m:forward(T(c.x, dtype)), T(c.output), FWD_TOL[dtype])
        H.near(m:backward(T(c.x, dtype), T(c.gradOutput, dtype)), T(c.gradInput), FWD_TOL[dtype])
      end)
    end
    it('backward matches finite differences, approximate ' .. approx, function()
      checkJacobians(nn.GELU(approx):double(), torch.randn(3, 5):double():mul(2), 'GELU')
    end)
  end

  it('defaults to the exact erf form and names the tanh one', function()
    assert.are.equal('none', nn.GELU().approximate)
    assert.are.equal('nn.GELU', tostring(nn.GELU()))
    assert.are.equal("nn.GELU(approximate 'tanh')", tostring(nn.GELU('tanh')))
    H.raises("approximate must be 'none' or 'tanh'", nn.GELU, 'fast')
  end)
end)

describe('nn.LayerNorm', function()
  it('matches PyTorch', function()
    local c = fx.layernorm
    local m = nn.LayerNorm(6):double()
    m.weight:copy(T(c.weight))
    m.bias:copy(T(c.bias))
    H.near(m:forward(T(c.x)), T(c.output), FWD_TOL.float64)
  end)

  it('backward matches finite differences for the input, weight and bias (B = 1, 2)', function()
    for _, B in ipairs { 1, 2 } do
      local m = nn.LayerNorm(4):double()
      m.weight:copy(torch.randn(4))
      m.bias:copy(torch.randn(4))
      assert.are.equal(2, checkJacobians(m, torch.randn(B, 3, 4):double(), 'LayerNorm'))
    end
    checkJacobians(nn.LayerNorm({ 3, 4 }):double(), torch.randn(2, 3, 4):double(), 'LayerNorm 3x4')
  end)

  it('starts as the identity affine map and prints its shape', function()
    local m = nn.LayerNorm(4)
    H.near(m.weight, torch.ones(4), 0)
    H.near(m.bias, torch.zeros(4), 0)
    assert.are.equal('nn.LayerNorm(4)', tostring(m))
    assert.are.equal('nn.LayerNorm(3x4, eps 1e-06) without affine', tostring(nn.LayerNorm({ 3, 4 }, 1e-6, false)))
    assert.is_nil(nn.LayerNorm(4, 1e-5, false):parameters())
  end)
end)

describe('nn.Dropout', function()
  it('is the identity in evaluate()', function()
    local m = nn.Dropout(0.3)
    m:evaluate()
    local x = torch.randn(10, 10)
    H.near(m:forward(x), x, 0)
    H.near(m:backward(x, x), x, 0)
  end)

  it('drops about p of the elements in training and scales the rest by 1/(1-p)', function()
    local m = nn.Dropout(0.3)
    local x = torch.ones(200, 500)
    local y = m:forward(x)
    local kept = y:ne(0):sum() / x:nElement()
    assert.is_true(math.abs(kept - 0.7) < 0.005, 'kept fraction ' .. kept)
    H.near(y:maskedSelect(y:ne(0)):min(), 1 / 0.7, 1e-6)
    H.near(y:maskedSelect(y:ne(0)):max(), 1 / 0.7, 1e-6)
    local g = m:backward(x, torch.ones(200, 500):mul(2))
    H.near(g, y:clone():mul(2), 1e-6, 'the gradient goes through the same mask')
  end)

  it('is reproducible by seed and draws a new mask each forward', function()
    local m = nn.Dropout(0.5)
    local x = torch.ones(8, 8)
    torch.manualSeed(42)
    local a = m:forward(x):clone()
    local b = m:forward(x):clone()
    torch.manualSeed(42)
    H.near(m:forward(x), a, 0)
    assert.is_true(H.maxdiff(a, b) > 0)
  end)

  it('keeps everything with p = 0 and checks p', function()
    local x = torch.randn(4, 4)
    H.near(nn.Dropout(0):forward(x), x, 0)
    H.raises('p must be a probability in [0, 1)', nn.Dropout, 1)
    assert.are.equal('nn.Dropout(0.25)', tostring(nn.Dropout(0.25)))
  end)
end)

describe('nn.MultiheadAttention', function()
  for _, name in ipairs { 'mha_plain', 'mha_causal', 'mha_nobias', 'mha_padding', 'mha_causal_padding' } do
    for _, dtype in ipairs { 'float64', 'float32' } do
      it(('matches PyTorch: %s (%s)'):format(name, dtype), function()
        local c = fx[name]
        local m = mhaFrom(c, dtype)
        local x = T(c.x, dtype)
        local input = c.pad and { x, mask(c.pad) } or x
        local tol = FWD_TOL[dtype]
        H.near(m:forward(input), T(c.output), tol, 'output')
        H.near(m.att, T(c.att), tol, 'attention weights')
        local g = m:backward(input, T(c.gradOutput, dtype))
        H.near(c.pad and g[1] or g, T(c.gradInput), tol * 10, 'gradInput')
        H.near(m.gradInWeight, T(c.gradInWeight), tol * 10, 'gradInWeight')
        H.near(m.gradOutWeight, T(c.gradOutWeight), tol * 10, 'gradOutWeight')
        if c.bias then
          H.near(m.gradInBias, T(c.gradInBias), tol * 10, 'gradInBias')
          H.near(m.gradOutBias, T(c.gradOutBias), tol * 10, 'gradOutBias')
        end
      end)
    end
  end

  for _, causal in ipairs { false, true } do
    it('Jacobians of the input and all four parameters, B = 1 and 2' .. (causal and ', causal' or ''), function()
      for _, B in ipairs { 1, 2 } do
        local m = nn.MultiheadAttention(4, 2, { causal = causal }):double()
        m.inBias:copy(torch.randn(12))
        m.outBias:copy(torch.randn(4))
        assert.are.equal(4, checkJacobians(m, torch.randn(B, 3, 4):double(), 'MHA B=' .. B))
      end
    end)
  end

  it('Jacobians with a key padding mask', function()
    local m = nn.MultiheadAttention(4, 2, { causal = true }):double()
    local pad = torch.BoolTensor({ { false, false, true }, { false, true, false } })
    checkJacobians(withPad(m, pad), torch.randn(2, 3, 4):double(), 'MHA padded')
  end)

  it('gives the output bias for a query whose keys are all padding', function()
    local m = nn.MultiheadAttention(4, 2):double()
    m.outBias:copy(torch.randn(4))
    local y = m:forward({ torch.randn(2, 3, 4):double(), torch.BoolTensor({ { false, false, false }, { true, true, true } }) })
    H.near(y:select(1, 2), m.outBias:view(1, 4):expand(3, 4), 1e-12)
  end)

  it('applies attention dropout in training only', function()
    local m = nn.MultiheadAttention(8, 2, { dropout = 0.5 }):double()
    local x = torch.randn(2, 4, 8):double()
    m:evaluate()
    local ref = m:forward(x):clone()
    m:training()
    torch.manualSeed(3)
    local a = m:forward(x):clone()
    assert.is_true(H.maxdiff(a, ref) > 1e-6)
    torch.manualSeed(3)
    H.near(m:forward(x), a, 0, 'reproducible by seed')
    local dmask = m.dmask:clone()
    -- the gradient through a fixed mask (the same seed before every forward) matches
    -- finite differences of that masked forward, on every 7th element
    local g = torch.randn(2, 4, 8):double()
    torch.manualSeed(3)
    m:forward(x)
    local gx = m:updateGradInput(x, g):clone()
    local flat = x:view(-1)
    for i = 1, flat:nElement(), 7 do
      local o = flat[i]
      flat[i] = o + 1e-6
      torch.manualSeed(3)
      local fp = m:forward(x):clone():cmul(g):sum()
      flat[i] = o - 1e-6
      torch.manualSeed(3)
      local fm = m:forward(x):clone():cmul(g):sum()
      flat[i] = o
      H.near(gx:view(-1)[i], (fp - fm) / 2e-6, 1e-6, 'element ' .. i)
    end
    H.near(m.dmask, dmask, 0)
  end)

  it('reports bad inputs and prints its configuration', function()
    local m = nn.MultiheadAttention(8, 2, { causal = true })
    H.raises('nn.MultiheadAttention: expected input (B, T, 8), got 4x8', function() m:forward(torch.randn(4, 8)) end)
    H.raises('key padding mask is 3x4, expected 2x4 (B, T)',
             function() m:forward({ torch.randn(2, 4, 8), torch.BoolTensor(3, 4) }) end)
    H.raises('embedDim divisible by numHeads', nn.MultiheadAttention, 6, 4)
    assert.are.equal('nn.MultiheadAttention(8, 2 heads, causal)', tostring(m))
  end)
end)

describe('nn.TransformerBlock', function()
  it('matches a PyTorch pre-LN block', function()
    local c = fx.block_causal
    local m = nn.TransformerBlock(8, 2, { causal = true, hidden = 16 }):double()
    local ln1, attn, ln2, mlp = table.unpack(m.modules)
    attn.inWeight:copy(T(c.inWeight)); attn.inBias:copy(T(c.inBias))
    attn.outWeight:copy(T(c.outWeight)); attn.outBias:copy(T(c.outBias))
    ln1.weight:copy(T(c.ln1Weight)); ln1.bias:copy(T(c.ln1Bias))
    ln2.weight:copy(T(c.ln2Weight)); ln2.bias:copy(T(c.ln2Bias))
    mlp.modules[1].weight:copy(T(c.fc1Weight)); mlp.modules[1].bias:copy(T(c.fc1Bias))
    mlp.modules[3].weight:copy(T(c.fc2Weight)); mlp.modules[3].bias:copy(T(c.fc2Bias))
    H.near(m:forward(T(c.x)), T(c.output), FWD_TOL.float64)
  end)

  it('Jacobians of the input and all twelve parameters, B = 1 and 2', function()
    for _, B in ipairs { 1, 2 } do
      local m = nn.TransformerBlock(4, 2, { causal = true, hidden = 8 }):double()
      for _, p in ipairs(m:parameters()) do p:copy(torch.randn(p:size()):mul(0.5)) end
      assert.are.equal(12, checkJacobians(m, torch.randn(B, 3, 4):double(), 'block B=' .. B))
    end
  end)

  it('Jacobians with a key padding mask', function()
    local m = nn.TransformerBlock(4, 2, { hidden = 8 }):double()
    checkJacobians(withPad(m, torch.BoolTensor({ { false, true, false } })),
                   torch.randn(1, 3, 4):double(), 'block padded')
  end)

  it('is deterministic in evaluate() with dropout, and backward equals the two halves', function()
    local m = nn.TransformerBlock(8, 2, { causal = true, dropout = 0.2 })
    assert.are.equal(5, #m.modules)
    m:evaluate()
    local x = torch.randn(2, 4, 8)
    H.near(m:forward(x), m:forward(x):clone(), 0)
    m:training()
    local g = torch.randn(2, 4, 8)
    torch.manualSeed(9)
    m:forward(x)
    m:zeroGradParameters()
    local gx = m:backward(x, g):clone()
    local _, grads = m:parameters()
    local saved = {}
    for i, t in ipairs(grads) do saved[i] = t:clone() end
    torch.manualSeed(9)
    m:forward(x)
    m:zeroGradParameters()
    H.near(m:updateGradInput(x, g), gx, 1e-6)
    m:accGradParameters(x, g, 1)
    for i, t in ipairs(grads) do H.near(t, saved[i], 1e-5, 'gradient ' .. i) end
  end)

  it('names what failed', function()
    local m = nn.TransformerBlock(8, 2)
    H.raises('expected input (B, T, 8), got 2x8', function() m:forward(torch.randn(2, 8)) end)
    H.raises('called before forward', function() m:backward(torch.randn(1, 2, 8), torch.randn(1, 2, 8)) end)
    assert.are.equal('nn.TransformerBlock(8, 2 heads, MLP 32)', tostring(m))
  end)
end)

describe('nn.GPT', function()
  it('learns: the loss falls over a few AdamW steps', function()
    torch.manualSeed(7)
    local V, B, Tn = 13, 4, 8
    local model = nn.GPT { vocab = V, dim = 16, heads = 2, layers = 2, maxLen = Tn }
    local crit = nn.CrossEntropyCriterion()
    local data = torch.LongTensor(B, Tn + 1)
    for b = 1, B do for t = 1, Tn + 1 do data[b][t] = (b + 3 * t) % V + 1 end end
    local x, y = data:narrow(2, 1, Tn):contiguous(), data:narrow(2, 2, Tn):contiguous():view(B * Tn)
    local params, grads = model:getParameters()
    local state, losses = {}, {}
    local function feval()
      grads:zero()
      local logits = model:forward(x)
      local loss = crit:forward(logits:view(B * Tn, V), y)
      model:backward(x, crit:backward(logits:view(B * Tn, V), y):view(B, Tn, V))
      return loss, grads
    end
    for i = 1, 15 do
      local _, f = optim.adamw(feval, params, { learningRate = 1e-2 }, state)
      losses[i] = f[1]
    end
    assert.are.same({ B, Tn, V }, model.output:sizeTable())
    assert.is_true(losses[15] < 0.5 * losses[1], ('loss %g -> %g'):format(losses[1], losses[15]))
  end)

  it('gets the embeddings gradients right (Jacobian of a token and a position row)', function()
    local model = nn.GPT { vocab = 5, dim = 4, heads = 2, layers = 1, maxLen = 4 }:double()
    local idx = torch.LongTensor({ { 1, 3, 3 } })
    H.near(jac.testJacobianParameters(model, idx, model.tokWeight, model.gradTokWeight), 0, JAC_TOL)
    H.near(jac.testJacobianParameters(model, idx, model.posWeight, model.gradPosWeight), 0, JAC_TOL)
  end)

  it('checks its input', function()
    local model = nn.GPT { vocab = 5, dim = 4, heads = 2, layers = 1, maxLen = 4 }
    H.raises('expected token numbers (B, T) with T <= 4, got 1x5',
             function() model:forward(torch.LongTensor(1, 5):fill(1)) end)
  end)
end)
