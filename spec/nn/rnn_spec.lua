-- Recurrent layers (nn.RNN, nn.LSTM, nn.GRU) and nn.LookupTable: forward values and
-- gradients against PyTorch fixtures (fixtures/rnn_make.py), full finite-difference
-- Jacobians in float64 for the input, the initial states and every parameter, float32
-- against float64, the module protocol (accumulation, scale, types, getParameters) and
-- the error messages.
local torch = require 'torch'
local nn = require 'nn'
require 'nn.RNN'
require 'nn.LSTM'
require 'nn.GRU'
require 'nn.LookupTable'
local H = require 'helpers'

local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local fx = dofile(here .. 'fixtures/rnn_cases.lua')

local FWD_TOL = { float64 = 1e-10, float32 = 1e-4 }
local JAC_TOL = 1e-6
local EPS = 1e-6

local ctor = { float64 = torch.DoubleTensor, float32 = torch.FloatTensor }

-- a fixture entry {size, data} as a tensor of dtype
local function T(entry, dtype)
  return ctor[dtype or 'float64'](entry.data):view(entry.size)
end

local CLASS = { rnn_tanh = 'RNN', rnn_relu = 'RNN', lstm = 'LSTM', gru = 'GRU' }

-- a module of the given mode, inputs of size `inputSize`, hidden `hidden`, in dtype
local function make(mode, inputSize, hidden, layers, batchFirst, dtype)
  local m
  if CLASS[mode] == 'RNN' then
    m = nn.RNN(inputSize, hidden, layers, batchFirst, mode == 'rnn_relu' and 'relu' or 'tanh')
  else
    m = nn[CLASS[mode]](inputSize, hidden, layers, batchFirst)
  end
  return dtype == 'float32' and m:float() or m:double()
end

-- the module's input: the tensor alone, or {x, h0[, c0]}
local function packInput(x, h0, c0)
  if not h0 then return x end
  return { x, h0, c0 }
end

-- all outputs of m on input as one flat float64 vector: output, hN (, cN)
local function outputs(m, input)
  m:forward(input)
  local parts = { m.output:double():view(-1), m.hN:double():view(-1) }
  if m.mode == 'lstm' then parts[3] = m.cN:double():view(-1) end
  return torch.cat(parts, 1)
end

-- the gradient tensors as a table {gradOutput, gradHN[, gradCN]} from a flat vector
local function splitGrad(m, v)
  local n1, n2 = m.output:nElement(), m.hN:nElement()
  local g = { v:narrow(1, 1, n1):viewAs(m.output):clone(),
              v:narrow(1, n1 + 1, n2):viewAs(m.hN):clone() }
  if m.mode == 'lstm' then g[3] = v:narrow(1, n1 + n2 + 1, n2):viewAs(m.cN):clone() end
  return g
end

-- --- PyTorch fixtures ---

local function loadCase(c, dtype)
  local I = c.input.size[3]
  local m = make(c.mode, I, c.hidden, c.layers, c.batch_first, dtype)
  local params = m:parameters()
  assert.are.equal(#c.params, #params)
  for i, p in ipairs(params) do p:copy(T(c.params[i], dtype)) end
  local input = packInput(T(c.input, dtype), c.h0 and T(c.h0, dtype),
                          c.c0 and T(c.c0, dtype))
  return m, input
end

describe('nn recurrent layers against PyTorch', function()
  local names = {}
  for name in pairs(fx) do if name ~= 'embedding' then names[#names + 1] = name end end
  table.sort(names)
  for _, name in ipairs(names) do
    local c = fx[name]
    for _, dtype in ipairs { 'float64', 'float32' } do
      it(('forward matches: %s (%s)'):format(name, dtype), function()
        local m, input = loadCase(c, dtype)
        local out = m:forward(input)
        assert.are.equal(dtype, out:dtype())
        H.near(out, T(c.output), FWD_TOL[dtype], 'output')
        H.near(m.hN, T(c.h_n), FWD_TOL[dtype], 'hN')
        if c.c_n then H.near(m.cN, T(c.c_n), FWD_TOL[dtype], 'cN') end
      end)
    end

    it(('backward matches: %s'):format(name), function()
      local m, input = loadCase(c, 'float64')
      m:zeroGradParameters()
      m:forward(input)
      local gi = m:backward(input, { T(c.grad_output), T(c.grad_hn), c.grad_cn and T(c.grad_cn) })
      if c.h0 then
        H.near(gi[1], T(c.grad_input), FWD_TOL.float64, 'gradInput')
        H.near(gi[2], T(c.grad_h0), FWD_TOL.float64, 'gradH0')
        if c.grad_c0 then H.near(gi[3], T(c.grad_c0), FWD_TOL.float64, 'gradC0') end
      else
        H.near(gi, T(c.grad_input), FWD_TOL.float64, 'gradInput')
      end
      local _, grads = m:parameters()
      for i, g in ipairs(grads) do H.near(g, T(c.grad_params[i]), FWD_TOL.float64, 'param ' .. i) end
    end)
  end
end)

-- --- finite differences: the full Jacobian of (output, hN, cN) ---

-- J[i][k] = d outputs_k / d t_i by central differences; t is read by the module
local function numericJacobian(m, input, t, nOut)
  local flat = t:view(t:nElement())
  local J = torch.zeros(flat:nElement(), nOut, 'float64')
  for i = 1, flat:nElement() do
    local orig = flat[i]
    flat[i] = orig + EPS
    local fp = outputs(m, input)
    flat[i] = orig - EPS
    local fm = outputs(m, input)
    flat[i] = orig
    J[i]:copy((fp - fm) / (2 * EPS))
  end
  return J
end

local function checkJacobians(mode, B, batchFirst)
  local L, I, Hd, Tn = 2, 2, 3, 3
  local m = make(mode, I, Hd, L, batchFirst, 'float64')
  local params, grads = m:getParameters()
  local x = torch.randn(batchFirst and B or Tn, batchFirst and Tn or B, I, 'float64')
  local h0 = torch.randn(L, B, Hd, 'float64')
  local c0 = mode == 'lstm' and torch.randn(L, B, Hd, 'float64') or nil
  local input = packInput(x, h0, c0)
  local nOut = outputs(m, input):nElement()
  local wrt = { input = x, h0 = h0, c0 = c0, parameters = params }
  local analytic = {}
  for name, t in pairs(wrt) do analytic[name] = torch.zeros(t:nElement(), nOut, 'float64') end
  for k = 1, nOut do   -- column k: the backward of the k-th unit vector
    local e = torch.zeros(nOut, 'float64')
    e[k] = 1
    m:forward(input)
    grads:zero()
    local gi = m:backward(input, splitGrad(m, e))
    analytic.input:select(2, k):copy(gi[1]:contiguous():view(-1))
    analytic.h0:select(2, k):copy(gi[2]:contiguous():view(-1))
    if c0 then analytic.c0:select(2, k):copy(gi[3]:contiguous():view(-1)) end
    analytic.parameters:select(2, k):copy(grads)
  end
  for name, t in pairs(wrt) do
    H.near(analytic[name], numericJacobian(m, input, t, nOut), JAC_TOL, name)
  end
end

describe('nn recurrent layers: finite-difference Jacobians (float64, 2 layers, T=3, H=3)', function()
  before_each(function() torch.manualSeed(7) end)
  for _, mode in ipairs { 'rnn_tanh', 'rnn_relu', 'lstm', 'gru' } do
    for _, B in ipairs { 1, 2 } do
      for _, batchFirst in ipairs { false, true } do
        it(('%s, B=%d, %s'):format(mode, B, batchFirst and 'batch-first' or 'time-first'), function()
          checkJacobians(mode, B, batchFirst)
        end)
      end
    end
  end
end)

-- --- the module protocol ---

describe('nn recurrent layers: module protocol', function()
  before_each(function() torch.manualSeed(11) end)

  it('flatten PyTorch-ordered parameters with getParameters', function()
    local m = nn.LSTM(5, 4, 2)
    local p, g = m:getParameters()
    assert.are.equal(4 * 4 * (5 + 4 + 2) + 4 * 4 * (4 + 4 + 2), p:nElement())
    assert.are.equal(p:nElement(), g:nElement())
    assert.are.same({ 16, 5 }, m.weightIh[1]:sizeTable())
    assert.are.same({ 16, 4 }, m.weightIh[2]:sizeTable())
    assert.are.same({ 12, 4 }, nn.GRU(5, 4).weightHh[1]:sizeTable())
    p:fill(0.5)
    assert.are.equal(0.5, m.biasHh[2][3])
  end)

  it('accumulate parameter gradients with scale, and match the one-call backward', function()
    local m = nn.GRU(3, 4, 2, true):double()
    local x = torch.randn(2, 5, 3, 'float64')
    local gy = torch.randn(2, 5, 4, 'float64')
    local _, g = m:getParameters()
    g:zero()
    m:forward(x)
    m:backward(x, gy)
    local once = g:clone()
    m:backward(x, gy, 0.5)
    H.near(g, once * 1.5, 1e-12, 'accumulated')
    g:zero()
    m:updateGradInput(x, gy)
    m:accGradParameters(x, gy, 2)
    H.near(g, once * 2, 1e-12, 'accGradParameters')
  end)

  it('apply accUpdateGradParameters to the weights', function()
    local m = nn.RNN(3, 2):double()
    local x, gy = torch.randn(4, 1, 3, 'float64'), torch.randn(4, 1, 2, 'float64')
    local p, g = m:getParameters()
    local before = p:clone()
    g:zero()
    m:forward(x)
    m:backward(x, gy)
    local expected = before - g * 0.1
    m:accUpdateGradParameters(x, gy, 0.1)
    H.near(p, expected, 1e-12, 'updated')
  end)

  it('take gradients of the final states alone (gradOutput {nil, gradHN, gradCN})', function()
    local m = nn.LSTM(3, 4, 2):double()
    local x = torch.randn(5, 2, 3, 'float64')
    local ghN, gcN = torch.randn(2, 2, 4, 'float64'), torch.randn(2, 2, 4, 'float64')
    m:forward(x)
    local ref = m:updateGradInput(x, { torch.zeros(5, 2, 4, 'float64'), ghN, gcN }):clone()
    H.near(m:updateGradInput(x, { nil, ghN, gcN }), ref, 0, 'gradInput')
  end)

  it('run batch-first and time-first to the same values', function()
    local a = nn.LSTM(3, 4, 2):double()
    local b = nn.LSTM(3, 4, 2, true):double()
    b:getParameters():copy(a:getParameters())
    local x = torch.randn(5, 2, 3, 'float64')
    local ya = a:forward(x)
    local yb = b:forward(x:transpose(1, 2):contiguous())
    H.near(yb:transpose(1, 2), ya, 1e-12, 'output')
    H.near(b.hN, a.hN, 1e-12, 'hN')
    local gy = torch.randn(5, 2, 4, 'float64')
    local ga = a:backward(x, gy)
    local gb = b:backward(x:transpose(1, 2):contiguous(), gy:transpose(1, 2):contiguous())
    H.near(gb:transpose(1, 2), ga, 1e-12, 'gradInput')
  end)

  it('accept non-contiguous inputs and states', function()
    local m = nn.LSTM(3, 2):double()
    local x = torch.randn(2, 4, 3, 'float64'):transpose(1, 2)
    local h0 = torch.randn(2, 1, 2, 'float64'):transpose(1, 2)
    local ref = m:forward({ x:contiguous(), h0:contiguous() }):clone()
    H.near(m:forward({ x, h0 }), ref, 0, 'output')
  end)

  it('carry state from one chunk to the next (hN as the next h0)', function()
    local m = nn.GRU(2, 3):double()
    local x = torch.randn(6, 2, 2, 'float64')
    local whole = m:forward(x):clone()
    local first = m:forward(x:narrow(1, 1, 4)):clone()
    local second = m:forward({ x:narrow(1, 5, 2), m.hN:clone() })
    H.near(torch.cat({ first, second }, 1), whole, 1e-12, 'chunks')
  end)

  it('compute float32 close to float64 at W3-like sizes', function()
    local m = nn.LSTM(16, 32, 1, true):double()
    local x = torch.randn(4, 20, 16, 'float64')
    local gy = torch.randn(4, 20, 32, 'float64')
    local y64 = m:forward(x):clone()
    local g64 = m:backward(x, gy):clone()
    local _, gp64 = m:getParameters()
    gp64 = gp64:clone()
    m:float()
    local _, gp32 = m:getParameters()
    gp32:zero()
    H.near(m:forward(x:float()), y64, 1e-5, 'output')
    H.near(m:backward(x:float(), gy:float()), g64, 1e-5, 'gradInput')
    H.near(gp32, gp64, 1e-4, 'gradParameters')
  end)

  it('print as nn.LSTM(64 -> 256, ...)', function()
    assert.are.equal('nn.LSTM(64 -> 256)', tostring(nn.LSTM(64, 256)))
    assert.are.equal('nn.GRU(4 -> 3, 2 layers, batch-first)', tostring(nn.GRU(4, 3, 2, true)))
    assert.are.equal('nn.RNN(4 -> 3, relu)', tostring(nn.RNN(4, 3, 1, false, 'relu')))
  end)

  it('work in nn.Sequential after a LookupTable', function()
    local m = nn.Sequential():add(nn.LookupTable(10, 4)):add(nn.LSTM(4, 5, 1, true))
    local y = m:forward(torch.LongTensor({ { 1, 2, 3 }, { 4, 5, 10 } }))
    assert.are.same({ 2, 3, 5 }, y:sizeTable())
    m:backward(torch.LongTensor({ { 1, 2, 3 }, { 4, 5, 10 } }), torch.ones(2, 3, 5))
  end)
end)

describe('nn recurrent layers: errors', function()
  it('name the module and the expected sizes', function()
    local m = nn.LSTM(4, 3, 2)
    H.raises('nn.LSTM: expected input (T, B, 4) (time-first), got size 5x2x3',
             m.forward, m, torch.randn(5, 2, 3))
    H.raises('nn.LSTM: expected input (T, B, 4) (time-first), got size 5x4',
             m.forward, m, torch.randn(5, 4))
    H.raises('nn.GRU: expected input (B, T, 4) (batch-first), got size 3x4x5',
             function() nn.GRU(4, 3, 1, true):forward(torch.randn(3, 4, 5)) end)
    H.raises('nn.LSTM: h0 has size 1x2x3, expected 2x2x3',
             m.forward, m, { torch.randn(5, 2, 4), torch.randn(1, 2, 3) })
    H.raises('nn.GRU: c0 is only for LSTM', function()
      nn.GRU(4, 3):forward({ torch.randn(5, 2, 4), torch.randn(1, 2, 3), torch.randn(1, 2, 3) })
    end)
    m:forward(torch.randn(5, 2, 4))
    H.raises('nn.LSTM: gradOutput has size 5x2x4, expected 5x2x3',
             m.backward, m, torch.randn(5, 2, 4), torch.randn(5, 2, 4))
    H.raises('nn.RNN: nonlinearity must be', function() nn.RNN(2, 3, 1, false, 'sigmoid') end)
    H.raises('sizes must be positive integers', function() nn.LSTM(0, 3) end)
  end)

  it('come from torch.rnnops with the op name', function()
    local ops = torch.rnnops
    local w_ih, w_hh = torch.randn(12, 4), torch.randn(12, 3)
    H.raises('rnn_forward: input is 5x2x3, expected 4 features',
             ops.forward, nil, nil, nil, nil, torch.randn(5, 2, 3), nil, nil, w_ih, w_hh, nil,
             nil, 'lstm')
    H.raises('rnn_forward: w_hh is 12x3, expected 9x3',
             ops.forward, nil, nil, nil, nil, torch.randn(5, 2, 4), nil, nil, w_ih, w_hh, nil,
             nil, 'gru')
    H.raises('rnn_forward: w_ih is float64, input is float32',
             ops.forward, nil, nil, nil, nil, torch.randn(5, 2, 4), nil, nil, w_ih:double(),
             w_hh, nil, nil, 'lstm')
    H.raises('rnn_backward_input: work does not match this input',
             ops.backward_input, nil, nil, nil, nil, torch.randn(5, 2, 4), torch.randn(5, 2, 3),
             torch.randn(7), nil, nil, w_ih, w_hh, nil, nil, nil, 'lstm')
    H.raises({ 'bad argument #12', "invalid option 'lstn'" },
             ops.forward, nil, nil, nil, nil, torch.randn(5, 2, 4), nil, nil, w_ih, w_hh, nil,
             nil, 'lstn')
  end)
end)

-- --- LookupTable ---

describe('nn.LookupTable', function()
  local c = fx.embedding

  it('matches PyTorch Embedding with padding_idx, forward and gradient', function()
    for _, dtype in ipairs { 'float64', 'float32' } do
      local m = nn.LookupTable(7, 3, c.padding_idx)
      m = dtype == 'float64' and m:double() or m:float()
      m.weight:copy(T(c.weight, dtype))
      local idx = T(c.indices):long()
      H.near(m:forward(idx), T(c.output), FWD_TOL[dtype], 'output')
      m:zeroGradParameters()
      local gi = m:backward(idx, T(c.grad_output, dtype))
      H.near(m.gradWeight, T(c.grad_weight), FWD_TOL[dtype], 'gradWeight')
      assert.are.same(idx:sizeTable(), gi:sizeTable())
    end
  end)

  it('takes (N) indices, sums repeated ones, scales, and zeroes the padding row at reset', function()
    local m = nn.LookupTable(5, 2, 4):double()
    assert.are.same({ 0, 0 }, m.weight[4]:totable())
    local idx = torch.LongTensor({ 2, 2, 5, 4 })
    local y = m:forward(idx)
    assert.are.same({ 4, 2 }, y:sizeTable())
    H.near(y[1], m.weight[2], 0, 'row 2')
    m:zeroGradParameters()
    m:backward(idx, torch.ones(4, 2, 'float64'), 0.5)
    H.near(m.gradWeight, { { 0, 0 }, { 1, 1 }, { 0, 0 }, { 0, 0 }, { 0.5, 0.5 } }, 0, 'gradWeight')
    assert.are.equal('nn.LookupTable(5 -> 2, padding 4)', tostring(m))
    assert.are.equal(2 * 5, m:getParameters():nElement())
  end)

  it('reports bad indices and sizes', function()
    local m = nn.LookupTable(96, 8)
    H.raises('nn.LookupTable: index 97 out of range for 96 entries',
             m.forward, m, torch.LongTensor({ 1, 97 }))
    H.raises('nn.LookupTable: index 0 out of range for 96 entries',
             m.forward, m, torch.LongTensor({ { 0, 3 } }))
    H.raises('nn.LookupTable: expected indices (N) or (B, T), got size 2x2x2',
             m.forward, m, torch.LongTensor(2, 2, 2):fill(1))
    H.raises('paddingIdx must be an index in 1..96', function() nn.LookupTable(96, 8, 97) end)
    H.raises('embedding_forward: index 97 out of range for 96 entries',
             torch.rnnops.embedding_forward, nil, torch.LongTensor({ 97 }), m.weight)
    m:forward(torch.LongTensor({ 1, 2 }))
    H.raises('nn.LookupTable: gradOutput has size 3x8, expected 2x8',
             m.backward, m, torch.LongTensor({ 1, 2 }), torch.randn(3, 8))
  end)
end)
