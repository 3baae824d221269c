-- Recurrent layers and the embedding on the GPU against the CPU (kernels/rnn.cu): nn.RNN
-- (tanh, relu), nn.LSTM and nn.GRU forward and backward with every gradient (input,
-- initial states, all parameters), 1 and 3 layers, with and without initial states,
-- time-first and batch-first, float32 and float64; nn.LookupTable with padding and
-- repeated indices and its range errors; and the device side of nn's type conversion:
-- integer tensors follow :cuda() and :float() keeping their dtype, class targets end up
-- on the criterion's device. Tagged #gpu (`make test-gpu`). EMBER_GPU_SPEC_AS=double
-- runs the comparisons with :double() standing in for :cuda(), to check the spec itself
-- on a CPU (the device-only checks are then pending).
local torch = require 'torch'
local nn = require 'nn'
require 'nn.RNN'
require 'nn.LSTM'
require 'nn.GRU'
require 'nn.LookupTable'
local H = require 'helpers'

local AS_DOUBLE = os.getenv('EMBER_GPU_SPEC_AS') == 'double'
local TOL = { float32 = 2e-4, float64 = 1e-10 }   -- relative to the largest magnitude

-- x on the device under test, keeping a float64 tensor float64 and an integer one integer
local function dev(t)
  if not torch.isTensor(t) then return t end
  if AS_DOUBLE then return t:dtype() == 'float32' and t:double() or t end
  return t:to('cuda')
end
local function devModule(m, dtype)
  if AS_DOUBLE then return m:double() end
  return m:type(dtype == 'float64' and 'torch.CudaDoubleTensor' or 'torch.CudaTensor')
end

local function close(a, b, tol, what)
  a, b = a:double(), b:double()
  assert.same(b:sizeTable(), a:sizeTable(), what .. ': sizes')
  H.near(a, b, tol * math.max(1, torch.abs(b):max()), what)
end

local function make(mode, I, Hd, L, batchFirst)
  if mode == 'lstm' then return nn.LSTM(I, Hd, L, batchFirst) end
  if mode == 'gru' then return nn.GRU(I, Hd, L, batchFirst) end
  return nn.RNN(I, Hd, L, batchFirst, mode == 'rnn_relu' and 'relu' or 'tanh')
end

-- the module's input and gradOutput tables on the CPU, and their device copies
local function data(mode, T, B, I, Hd, L, batchFirst, states, dtype)
  local function r(...)
    local size = { ... }
    size[#size + 1] = dtype
    return torch.randn(table.unpack(size))
  end
  local x = batchFirst and r(B, T, I) or r(T, B, I)
  local gy = batchFirst and r(B, T, Hd) or r(T, B, Hd)
  local lstm = mode == 'lstm'
  local input = x
  if states then input = { x, r(L, B, Hd), lstm and r(L, B, Hd) or nil } end
  local grad = { gy, r(L, B, Hd), lstm and r(L, B, Hd) or nil }
  local function onDev(t)
    if torch.isTensor(t) then return dev(t) end
    return { dev(t[1]), dev(t[2]), dev(t[3]) }
  end
  return input, grad, onDev(input), onDev(grad)
end

-- Runs forward and backward on the CPU module and its device copy, and compares every
-- output and gradient.
local function compare(mode, shape, dtype)
  local T, B, I, Hd, L, batchFirst, states = table.unpack(shape)
  local tol = TOL[dtype]
  local m = make(mode, I, Hd, L, batchFirst):type(dtype == 'float64' and 'torch.DoubleTensor'
                                                                      or 'torch.FloatTensor')
  local g = devModule(m:clone(), dtype)
  local input, grad, dinput, dgrad = data(mode, T, B, I, Hd, L, batchFirst, states, dtype)
  close(g:forward(dinput), m:forward(input), tol, 'output')
  close(g.hN, m.hN, tol, 'hN')
  if mode == 'lstm' then close(g.cN, m.cN, tol, 'cN') end
  m:zeroGradParameters()
  g:zeroGradParameters()
  local gi, ggi = m:backward(input, grad), g:backward(dinput, dgrad)
  if states then
    close(ggi[1], gi[1], tol, 'gradInput')
    close(ggi[2], gi[2], tol, 'gradH0')
    if mode == 'lstm' then close(ggi[3], gi[3], tol, 'gradC0') end
  else
    close(ggi, gi, tol, 'gradInput')
  end
  local _, gp = m:parameters()
  local _, ggp = g:parameters()
  for i, p in ipairs(gp) do close(ggp[i], p, tol, 'gradient of parameter ' .. i) end
  -- a second backward with a scale accumulates (and reuses the saved work)
  m:backward(input, grad, 0.5)
  g:backward(dinput, dgrad, 0.5)
  for i, p in ipairs(gp) do close(ggp[i], p, tol, 'accumulated gradient of parameter ' .. i) end
end

-- T, B, I, H, L, batchFirst, initial states
local SHAPES = {
  { 6, 3, 5, 7, 1, false, false },
  { 6, 3, 5, 7, 1, true, true },
  { 5, 4, 3, 6, 3, false, true },
  { 5, 4, 3, 6, 3, true, false },
  { 9, 33, 17, 130, 2, true, true },    -- many blocks per step
  { 1, 2, 4, 3, 2, false, true },       -- a single step
}

describe('#gpu recurrent layers on the GPU', function()
  if not AS_DOUBLE and not torch.cuda.isAvailable() and not os.getenv('EMBER_LIST_GPU_SPECS') then
    pending('no CUDA device: ' .. select(2, torch.cuda.isAvailable()))
    return
  end
  before_each(function() torch.manualSeed(5) end)

  for _, mode in ipairs { 'rnn_tanh', 'rnn_relu', 'lstm', 'gru' } do
    for _, shape in ipairs(SHAPES) do
      local what = ('%s, T=%d B=%d I=%d H=%d, %d layer(s), %s, %s'):format(mode, shape[1],
        shape[2], shape[3], shape[4], shape[5], shape[6] and 'batch-first' or 'time-first',
        shape[7] and 'initial states' or 'zero states')
      it(what .. ': forward and backward agree with the CPU (float32)', function()
        compare(mode, shape, 'float32')
      end)
    end
    it(mode .. ': float64 on the device agrees with the CPU', function()
      compare(mode, SHAPES[3], 'float64')
      compare(mode, SHAPES[2], 'float64')
    end)
  end

  it('LSTM trained a few steps on the device stays with the CPU', function()
    local m = nn.LSTM(4, 8, 2, true):float()
    local g = devModule(m:clone())
    local x, y = torch.randn(3, 7, 4), torch.randn(3, 7, 8)
    local crit, gcrit = nn.MSECriterion(), devModule(nn.MSECriterion())
    local p, gp = m:getParameters()
    local dp, dgp = g:getParameters()
    for _ = 1, 5 do
      gp:zero()
      dgp:zero()
      m:backward(x, crit:backward(m:forward(x), y))
      g:backward(dev(x), gcrit:backward(g:forward(dev(x)), dev(y)))
      p:add(-0.1, gp)
      dp:add(-0.1, dgp)
    end
    close(dp, p, 1e-3, 'parameters after 5 steps')
  end)
end)

describe('#gpu nn.LookupTable on the GPU', function()
  if not AS_DOUBLE and not torch.cuda.isAvailable() and not os.getenv('EMBER_LIST_GPU_SPECS') then
    pending('no CUDA device: ' .. select(2, torch.cuda.isAvailable()))
    return
  end
  before_each(function() torch.manualSeed(9) end)

  it('agrees with the CPU, forward and backward, with padding and repeated indices', function()
    local m = nn.LookupTable(10, 6, 2)
    local g = devModule(m:clone())
    local idx = torch.LongTensor({ { 1, 2, 3, 2 }, { 10, 2, 5, 5 } })
    local y = m:forward(idx)
    close(g:forward(dev(idx)), y, TOL.float32, 'output (device indices)')
    close(g:forward(idx), y, TOL.float32, 'output (CPU indices, moved)')
    local gy = torch.randn(2, 4, 6)
    m:zeroGradParameters()
    g:zeroGradParameters()
    m:backward(idx, gy, 0.5)
    g:backward(dev(idx), dev(gy), 0.5)
    close(g.gradWeight, m.gradWeight, TOL.float32, 'gradWeight')
    assert.equal(0, g.gradWeight:select(1, 2):double():abs():max())
  end)

  it('reports an index out of range and writes no gradient', function()
    local g = devModule(nn.LookupTable(10, 3))
    H.raises({ 'index 11 out of range for 10 entries' },
             function() g:forward(dev(torch.LongTensor({ 1, 11 }))) end)
    g:zeroGradParameters()
    H.raises({ 'embedding_backward: index 0 out of range for 10 entries' }, function()
      torch.rnnops.embedding_backward(g.gradWeight, dev(torch.LongTensor({ 3, 0 })),
                                      dev(torch.randn(2, 3)))
    end)
    assert.equal(0, g.gradWeight:double():abs():max())
  end)
end)

-- `it` for checks that need a real device (pending under EMBER_GPU_SPEC_AS=double)
local itDevice = AS_DOUBLE and function(name) pending(name .. ' (needs a CUDA device)') end or it

describe('#gpu integer tensors and class targets on the GPU', function()
  if not AS_DOUBLE and not torch.cuda.isAvailable() and not os.getenv('EMBER_LIST_GPU_SPECS') then
    pending('no CUDA device: ' .. select(2, torch.cuda.isAvailable()))
    return
  end

  itDevice(':cuda() moves integer tensors keeping their dtype, :float() brings them back', function()
    local pool = nn.SpatialMaxPooling(2, 2)
    local m = nn.Sequential():add(pool)
    m.idx, m.mask = torch.LongTensor({ 3, 1, 2 }), torch.ByteTensor({ 1, 0, 1 })
    m:forward(torch.randn(1, 2, 4, 4))
    m:cuda()
    assert.equal('torch.CudaTensor', pool.output:type())
    assert.equal('torch.CudaLongTensor', pool.indices:type())
    assert.equal('torch.CudaLongTensor', m.idx:type())
    assert.equal('torch.CudaByteTensor', m.mask:type())
    m:forward(torch.randn(1, 2, 4, 4):cuda())
    m:float()
    assert.equal('torch.LongTensor', pool.indices:type())
    assert.equal('torch.LongTensor', m.idx:type())
    assert.equal('torch.ByteTensor', m.mask:type())
    assert.same({ 3, 1, 2 }, m.idx:totable())
    assert.same({ 1, 0, 1 }, m.mask:totable())
  end)

  itDevice('class targets: device and CPU tensors and numbers work on the GPU', function()
    local x = nn.LogSoftMax():forward(torch.randn(4, 3))
    local t = torch.LongTensor({ 1, 3, 2, 2 })
    for _, make in ipairs { nn.ClassNLLCriterion, nn.CrossEntropyCriterion } do
      local c, g = make(), make():cuda()
      local loss = c:forward(x, t)
      for _, target in ipairs { t:cudaLong(), t, t:cuda() } do
        close(torch.Tensor({ g:forward(x:cuda(), target) }), torch.Tensor({ loss }), TOL.float32,
              'loss')
        close(g:backward(x:cuda(), target), c:backward(x, t), TOL.float32, 'gradInput')
      end
      close(torch.Tensor({ g:forward(x[2]:cuda(), 3) }), torch.Tensor({ c:forward(x[2], 3) }),
            TOL.float32, 'loss of a number target')
    end
  end)

  itDevice('class targets on the GPU for an input on the CPU name the criterion and devices', function()
    local x, t = torch.randn(2, 3), torch.LongTensor({ 1, 3 }):cudaLong()
    H.raises({ 'nn.ClassNLLCriterion: targets are on cuda:0 but the input is on cpu' },
             function() nn.ClassNLLCriterion():forward(x, t) end)
    H.raises({ 'nn.CrossEntropyCriterion: targets are on cuda:0 but the input is on cpu' },
             function() nn.CrossEntropyCriterion():forward(x, t) end)
    H.raises({ 'nn.LookupTable: indices are on cuda:0 but the weight is on cpu' },
             function() nn.LookupTable(5, 2):forward(t) end)
  end)
end)
