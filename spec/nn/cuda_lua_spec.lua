-- The Lua side of nn on the GPU that runs anywhere: Module:cuda() and Criterion:cuda()
-- without a usable device (a clear error, the module left as it was), and the
-- bookkeeping of nn.autocast. The GPU behaviour itself is spec/gpu/nn_gpu_spec.lua.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local hasDevice = torch.cuda.isAvailable()

-- The tensors of m's fields (one level, and its children's), by field path.
local function snapshot(m)
  local seen = {}
  for k, v in pairs(m) do
    if torch.isTensor(v) then seen[k] = { ref = v, type = v:type(), data = v:clone() } end
  end
  for i, child in ipairs(m.modules or {}) do
    for k, v in pairs(snapshot(child)) do seen[i .. '.' .. k] = v end
  end
  return seen
end

local function assertUnchanged(m, before)
  local after = snapshot(m)
  for k, s in pairs(before) do
    assert.is_true(rawequal(after[k].ref, s.ref), k .. ' was replaced')
    assert.equal(s.type, after[k].ref:type())
    H.near(after[k].ref, s.data, 0, k)
  end
end

describe('Module:cuda() without a device', function()
  if hasDevice then
    pending('a CUDA device is present: spec/gpu covers :cuda()')
    return
  end

  it('raises the reason and leaves a module as it was', function()
    local m = nn.Linear(3, 2)
    local before = snapshot(m)
    H.raises({ 'nn.Linear:cuda(): no CUDA device is available' }, function() m:cuda() end)
    assertUnchanged(m, before)
    assert.equal('torch.FloatTensor', m:type())
  end)

  it('leaves every child of a container as it was', function()
    local m = nn.Sequential():add(nn.SpatialConvolution(1, 2, 3, 3)):add(nn.ReLU())
                             :add(nn.View(-1)):add(nn.Linear(2 * 4 * 4, 3))
    m:forward(torch.randn(1, 6, 6))
    local before = snapshot(m)
    H.raises({ 'nn.Sequential:cuda(): no CUDA device is available' }, function() m:cuda() end)
    assertUnchanged(m, before)
  end)

  it('names the criterion', function()
    local c = nn.ClassNLLCriterion(torch.ones(3))
    local before = snapshot(c)
    H.raises({ 'nn.ClassNLLCriterion:cuda(): no CUDA device is available' },
             function() c:cuda() end)
    assertUnchanged(c, before)
  end)

  it('says why there is no device', function()
    local _, why = torch.cuda.isAvailable()
    H.raises({ why }, function() nn.Tanh():cuda() end)
  end)

  it('leaves :float() and :double() working', function()
    local m = nn.Linear(3, 2):double()
    assert.equal('torch.DoubleTensor', m.weight:type())
    assert.equal('torch.FloatTensor', m:float().weight:type())
  end)
end)

describe('nn.autocast', function()
  after_each(function() nn.autocast(false) end)

  it('is off unless asked for', function()
    assert.is_nil(nn.autocastType())
  end)

  it('is on inside the function only, and returns its results', function()
    local seen
    local a, b, c, n = nn.autocast('bfloat16', function(x, y)
      seen = nn.autocastType()
      return x + y, nil, 'z', select('#', x, y)
    end, 1, 2)
    assert.equal('bfloat16', seen)
    assert.same({ 3, nil, 'z', 2 }, { a, b, c, n })
    assert.is_nil(nn.autocastType())
  end)

  it('nests and restores the outer setting', function()
    local inner, outer
    nn.autocast('bfloat16', function()
      nn.autocast(false, function() inner = nn.autocastType() end)
      outer = nn.autocastType()
    end)
    assert.is_nil(inner)
    assert.equal('bfloat16', outer)
  end)

  it('restores the setting when the function raises, and rethrows', function()
    H.raises({ 'boom' }, function()
      nn.autocast('bfloat16', function() error('boom') end)
    end)
    assert.is_nil(nn.autocastType())
    nn.autocast('bfloat16')
    H.raises({ 'boom' }, function()
      nn.autocast(false, function() error('boom') end)
    end)
    assert.equal('bfloat16', nn.autocastType())
  end)

  it('switches on and off from here on, returning the previous setting', function()
    assert.is_nil(nn.autocast('bfloat16'))
    assert.equal('bfloat16', nn.autocastType())
    assert.equal('bfloat16', nn.autocast(false))
    assert.is_nil(nn.autocastType())
  end)

  it('rejects an unknown dtype and a non-function', function()
    H.raises({ "nn.autocast: dtype must be 'bfloat16' or false, got float16" },
             function() nn.autocast('float16') end)
    H.raises({ 'nn.autocast: expected a function as argument 2, got number' },
             function() nn.autocast('bfloat16', 3) end)
    assert.is_nil(nn.autocastType())
  end)

  it('leaves CPU tensors and non-tensors alone', function()
    local x = torch.randn(2, 3)
    nn.autocast('bfloat16', function()
      assert.is_true(rawequal(x, nn.autocastTensor(x)))
      assert.equal(5, nn.autocastTensor(5))
    end)
    assert.is_true(rawequal(x, nn.autocastTensor(x)))
  end)
end)
