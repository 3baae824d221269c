-- nn.utils' type conversion and index placement, on the CPU: integer tensors keep their
-- dtype through :float() / :double() and would follow :cuda() to the device (checked
-- with a recording stand-in for x:to(), since no GPU is needed to see which moves are
-- asked for), and class targets and embedding indices are placed on the input's device
-- with an error naming the module and both devices. The same on a real device:
-- spec/gpu/rnn_gpu_spec.lua.
local torch = require 'torch'
local nn = require 'nn'
local core = require 'ember.core'
local H = require 'helpers'
local utils = nn.utils

-- Runs f with x:to() replaced by a recorder: each call is logged as "dtype->device" and
-- answered with a CPU clone of x (a stand-in for the moved tensor).
local function withFakeTo(f)
  local real, log = core.methods.to, {}
  core.methods.to = function(self, device, dtype)
    log[#log + 1] = ('%s->%s'):format(dtype or self:dtype(), device)
    return self:clone()
  end
  local ok, err = pcall(f, log)
  core.methods.to = real
  if not ok then error(err, 0) end
  return log
end

-- a stand-in for a tensor whose device is `device` (utils.indicesOn reads only that)
local function on(device) return { device = function() return device end } end

describe('nn.utils type conversion', function()
  it('names the device of a type', function()
    for _, name in ipairs { 'torch.CudaTensor', 'torch.CudaLongTensor', 'CudaTensor',
                            'torch.CudaDoubleTensor' } do
      assert.equal('cuda', utils.typeDevice(name), name)
    end
    for _, name in ipairs { 'torch.FloatTensor', 'torch.DoubleTensor', 'float64',
                            'torch.LongTensor' } do
      assert.equal('cpu', utils.typeDevice(name), name)
    end
  end)

  it(':double() and :float() keep integer tensors as they are', function()
    local m = nn.Sequential():add(nn.SpatialMaxPooling(2, 2))
    m.idx, m.mask = torch.LongTensor({ 3, 1, 2 }), torch.ByteTensor({ 1, 0, 1 })
    m:forward(torch.randn(1, 2, 4, 4))
    local idx, mask, pool = m.idx, m.mask, m.modules[1]
    for _, t in ipairs { 'torch.DoubleTensor', 'torch.FloatTensor' } do
      m:type(t)
      assert.equal(t, pool.output:type())
      assert.equal('int64', pool.indices:dtype())
      assert.is_true(rawequal(idx, m.idx))
      assert.is_true(rawequal(mask, m.mask))
    end
    assert.same({ 3, 1, 2 }, m.idx:totable())
  end)

  it('asks for integer tensors on the device, in their own dtype, once per shared view', function()
    local idx = torch.LongTensor({ 1, 2 })
    local obj = { idx = idx, same = idx, mask = torch.ByteTensor({ 1 }),
                  deep = { i = torch.IntTensor({ 4 }) }, none = torch.LongTensor() }
    local log = withFakeTo(function() utils.recursiveType(obj, 'torch.CudaTensor') end)
    table.sort(log)
    assert.same({ 'int32->cuda', 'int64->cuda', 'int64->cuda', 'uint8->cuda' }, log)
    assert.is_true(rawequal(obj.idx, obj.same))
    assert.equal('int32', obj.deep.i:dtype())
    assert.equal('int64', obj.none:dtype())
  end)

  it('brings integer tensors to the CPU for a CPU type', function()
    local log = withFakeTo(function()
      utils.convertTensor(torch.LongTensor({ 1 }), 'torch.FloatTensor')
    end)
    assert.same({ 'int64->cpu' }, log)
  end)
end)

describe('nn.utils index placement', function()
  it('makes class targets int64 on the input\'s device', function()
    local c, x = nn.ClassNLLCriterion(), torch.randn(2, 3)
    local t = utils.classTargets(c, torch.Tensor({ 1, 3 }), x)
    assert.equal('int64', t:dtype())
    assert.same({ 1, 3 }, t:totable())
    assert.same({ 2 }, utils.classTargets(c, 2, x):totable())
    local long = torch.LongTensor({ 2, 1 })
    assert.is_true(rawequal(long, utils.classTargets(c, long, x)))
    H.raises({ 'nn.ClassNLLCriterion: target must be a LongTensor of classes or a number, '
               .. 'got string' }, function() utils.classTargets(c, 'a', x) end)
  end)

  it('moves CPU indices to the device of their partner', function()
    local log = withFakeTo(function()
      utils.classTargets(nn.CrossEntropyCriterion(), 3, on('cuda:0'))
      utils.indicesOn(nn.LookupTable(4, 2), 'indices', torch.IntTensor({ 1 }), on('cuda:1'),
                      'weight')
    end)
    assert.same({ 'int64->cuda:0', 'int64->cuda:1' }, log)
  end)

  it('names the module and both devices when indices are on another device', function()
    H.raises({ 'nn.ClassNLLCriterion: targets are on cuda:1 but the input is on cuda:0' }, function()
      utils.indicesOn(nn.ClassNLLCriterion(), 'targets', on('cuda:1'), on('cuda:0'), 'input')
    end)
    H.raises({ 'nn.LookupTable: indices are on cuda:0 but the weight is on cpu' }, function()
      utils.indicesOn(nn.LookupTable(4, 2), 'indices', on('cuda:0'), torch.randn(4, 2), 'weight')
    end)
  end)
end)
