-- nn shape modules: View, Reshape, Flatten, Transpose, Narrow, Select, Padding. Values
-- by hand; gradients against finite differences in float64 (batch of 1 and more,
-- non-contiguous inputs); batch rules; error messages; printing.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

local jac = nn.Jacobian
local TOL = 1e-7

-- 0, 1, 2, ... as a float64 tensor of the given sizes
local function range(...)
  local sizes = { ... }
  local n = 1
  for _, s in ipairs(sizes) do n = n * s end
  return torch.range(0, n - 1):double():view(sizes)
end

-- float64 inputs of size (N, ...) for N = 1 and 4, contiguous and not
local function batches(...)
  local sizes = { ... }
  local function of(n) return torch.randn({ n, table.unpack(sizes) }, 'float64') end
  local strided = of(4):transpose(1, #sizes + 1):contiguous():transpose(1, #sizes + 1)
  assert(not strided:isContiguous())
  return { batch1 = of(1), batch4 = of(4), strided = strided }
end

local function checkGradient(m, x, what)
  H.near(jac.testJacobian(m:double(), x), 0, TOL, what)
end

describe('nn shape modules', function()
  before_each(function() torch.manualSeed(11) end)

  describe('View', function()
    it('views samples and batches, inferring -1', function()
      local x = range(2, 6)
      assert.are.same({ 2, 2, 3 }, nn.View(2, 3):forward(x):sizeTable())   -- the rest is a batch
      assert.are.same({ 3, 2, 2 }, nn.View(-1, 2, 2):forward(x):sizeTable())
      assert.are.same({ 2, 3 }, nn.View(2, 3):forward(range(6)):sizeTable())
      assert.are.same({ 12 }, nn.View(-1):forward(x):sizeTable())
      assert.are.same({ 4, 3 }, nn.View({ 4, 3 }):forward(x):sizeTable())
      assert.are.same({ 2, 6 }, nn.View(torch.LongTensor({ 6 })):forward(x):sizeTable())
      local y = nn.View(3, 4):forward(x)
      H.near(y[3], { 8, 9, 10, 11 }, 0)
      assert.is_true(y:isSetTo(y) and x:dataPtr() == y:dataPtr())   -- a view, no copy
    end)

    it('tells a batch of one from a sample with setNumInputDims', function()
      local v = nn.View(6):setNumInputDims(2)
      assert.are.same({ 1, 6 }, v:forward(range(1, 2, 3)):sizeTable())
      assert.are.same({ 6 }, v:forward(range(2, 3)):sizeTable())
      assert.are.same({ 6 }, nn.View(6):forward(range(1, 2, 3)):sizeTable())   -- without: a sample
    end)

    it('passes the gradient check, copying non-contiguous inputs', function()
      for kind, x in pairs(batches(2, 3)) do
        checkGradient(nn.View(6), x, 'View ' .. kind)
        checkGradient(nn.View(3, -1), x, 'View -1 ' .. kind)
        checkGradient(nn.View(6):setNumInputDims(2), x, 'View numInputDims ' .. kind)
      end
    end)

    it('names sizes that do not match', function()
      H.raises('nn.View: input of size 2x5 does not match the view 3x3',
               function() return nn.View(3, 3):forward(torch.randn(2, 5)) end)
      H.raises('at most one size may be -1', nn.View, -1, -1)
      H.raises('nn.View: gradOutput has size 3x2, expected 2x3', function()
        local v = nn.View(2, 3)
        v:forward(torch.randn(6))
        return v:backward(torch.randn(6), torch.randn(3, 2))
      end)
      assert.are.equal('nn.View(2, -1)', tostring(nn.View(2, -1)))
    end)
  end)

  describe('Reshape', function()
    it('reshapes samples and batches as Torch7 does', function()
      assert.are.same({ 2, 3 }, nn.Reshape(2, 3):forward(range(6)):sizeTable())
      assert.are.same({ 4, 2, 3 }, nn.Reshape(2, 3):forward(range(4, 6)):sizeTable())
      assert.are.same({ 1, 2, 3 }, nn.Reshape(2, 3):forward(range(1, 6)):sizeTable())   -- a batch of 1
      assert.are.same({ 2, 3 }, nn.Reshape(2, 3, false):forward(range(1, 6)):sizeTable())
      assert.are.same({ 6, 1, 1 }, nn.Reshape(1, 1, true):forward(range(6)):sizeTable())
      H.near(nn.Reshape(3, 2):forward(range(2, 3))[3], { 4, 5 }, 0)
      local s = range(3, 2):t()
      H.near(nn.Reshape(6):forward(s), { 0, 2, 4, 1, 3, 5 }, 0)   -- row-major order of the view
    end)

    it('passes the gradient check', function()
      for kind, x in pairs(batches(2, 3)) do
        checkGradient(nn.Reshape(3, 2), x, 'Reshape ' .. kind)
        checkGradient(nn.Reshape(6, true), x, 'Reshape batch ' .. kind)
      end
    end)

    it('names sizes that do not match, and prints as Torch7', function()
      H.raises('nn.Reshape: input of size 2x5 cannot be reshaped to 2x3x3',
               function() return nn.Reshape(3, 3):forward(torch.randn(2, 5)) end)
      assert.are.equal('nn.Reshape(2x3)', tostring(nn.Reshape(2, 3)))
    end)
  end)

  describe('Flatten', function()
    it('keeps the batch and merges the rest', function()
      local y = nn.Flatten():forward(range(2, 3, 4, 5))
      assert.are.same({ 2, 60 }, y:sizeTable())
      H.near(y[2][1], 60, 0)
      assert.are.same({ 2, 12, 5 }, nn.Flatten(2, 3):forward(range(2, 3, 4, 5)):sizeTable())
      assert.are.same({ 120 }, nn.Flatten(1):forward(range(2, 3, 4, 5)):sizeTable())
      assert.are.same({ 5, 3 }, nn.Flatten():forward(range(5, 3)):sizeTable())
      assert.are.equal('nn.Flatten', tostring(nn.Flatten()))
      assert.are.equal('nn.Flatten(1, 3)', tostring(nn.Flatten(1, 3)))
    end)

    it('passes the gradient check', function()
      for kind, x in pairs(batches(2, 3)) do
        checkGradient(nn.Flatten(), x, 'Flatten ' .. kind)
        checkGradient(nn.Flatten(1, 2), x, 'Flatten(1, 2) ' .. kind)
      end
    end)

    it('needs the dimensions it flattens', function()
      H.raises('nn.Flatten: cannot flatten dimensions 2 to -1 of an input of size 5',
               function() return nn.Flatten():forward(torch.randn(5)) end)
    end)
  end)

  describe('Transpose', function()
    it('swaps pairs of dimensions in turn', function()
      local x = range(2, 3, 4)
      local y = nn.Transpose({ 1, 2 }):forward(x)
      assert.are.same({ 3, 2, 4 }, y:sizeTable())
      assert.is_true(y:isContiguous())
      H.near(y[3][2], x[2][3], 0)
      local z = nn.Transpose({ 1, 2 }, { 2, 3 }):forward(x)   -- (2,3,4) -> (3,2,4) -> (3,4,2)
      assert.are.same({ 3, 4, 2 }, z:sizeTable())
      H.near(z[2][3], { x[1][2][3], x[2][2][3] }, 0)
      local b = nn.Transpose({ 1, 2 }):setNumInputDims(2):forward(range(5, 2, 3))
      assert.are.same({ 5, 3, 2 }, b:sizeTable())
      assert.are.equal('nn.Transpose({1, 2}, {2, 3})', tostring(nn.Transpose({ 1, 2 }, { 2, 3 })))
    end)

    it('passes the gradient check', function()
      for kind, x in pairs(batches(2, 3)) do
        checkGradient(nn.Transpose({ 2, 3 }), x, 'Transpose ' .. kind)
        checkGradient(nn.Transpose({ 1, 3 }, { 1, 2 }), x, 'Transpose twice ' .. kind)
        checkGradient(nn.Transpose({ 1, 2 }):setNumInputDims(2), x, 'Transpose batch ' .. kind)
      end
    end)

    it('names dimensions out of range', function()
      H.raises('nn.Transpose: cannot swap dimensions 1 and 3 of an input of size 2x2',
               function() return nn.Transpose({ 1, 3 }):forward(torch.randn(2, 2)) end)
    end)
  end)

  describe('Narrow and Select', function()
    it('take entries, counting negatives from the end', function()
      local x = range(3, 4)
      H.near(nn.Narrow(2, 2, 2):forward(x), { { 1, 2 }, { 5, 6 }, { 9, 10 } }, 0)
      H.near(nn.Narrow(1, -1):forward(x), { { 8, 9, 10, 11 } }, 0)
      H.near(nn.Narrow(-1, 3, -1):forward(x), { { 2, 3 }, { 6, 7 }, { 10, 11 } }, 0)
      H.near(nn.Select(2, -1):forward(x), { 3, 7, 11 }, 0)
      H.near(nn.Select(1, 2):forward(x), { 4, 5, 6, 7 }, 0)
      local n = nn.Narrow(2, 2, 2):double()
      n:forward(x)
      H.near(n:backward(x, torch.ones(3, 2, 'float64')), { { 0, 1, 1, 0 }, { 0, 1, 1, 0 }, { 0, 1, 1, 0 } }, 0)
      assert.are.equal('nn.Narrow(2, 2, 2)', tostring(nn.Narrow(2, 2, 2)))
      assert.are.equal('nn.Select(2, -1)', tostring(nn.Select(2, -1)))
    end)

    it('pass the gradient check', function()
      for kind, x in pairs(batches(4, 3)) do
        checkGradient(nn.Narrow(2, 2, 3), x, 'Narrow ' .. kind)
        checkGradient(nn.Narrow(-1, -2, -1), x, 'Narrow negative ' .. kind)
        checkGradient(nn.Select(2, 3), x, 'Select ' .. kind)
        checkGradient(nn.Select(-1, -1), x, 'Select negative ' .. kind)
      end
    end)

    it('name ranges out of bounds', function()
      H.raises('nn.Narrow: cannot take 3 entries from 3 along dimension 2 of an input of size 2x4',
               function() return nn.Narrow(2, 3, 3):forward(torch.randn(2, 4)) end)
      H.raises('nn.Select: cannot select index 5 along dimension 2 of an input of size 2x4',
               function() return nn.Select(2, 5):forward(torch.randn(2, 4)) end)
      H.raises('(a vector has no slices; use nn.Narrow)', function() return nn.Select(1, 1):forward(torch.randn(4)) end)
    end)
  end)

  describe('Padding', function()
    it('pads after (pad > 0) or before (pad < 0), with a value and an index', function()
      local x = torch.DoubleTensor({ { 1, 2, 3 }, { 4, 5, 6 } })
      H.near(nn.Padding(2, 2):double():forward(x), { { 1, 2, 3, 0, 0 }, { 4, 5, 6, 0, 0 } }, 0)
      H.near(nn.Padding(2, -1):double():forward(x), { { 0, 1, 2, 3 }, { 0, 4, 5, 6 } }, 0)
      H.near(nn.Padding(1, 1, 2, 9):double():forward(x), { { 1, 2, 3 }, { 4, 5, 6 }, { 9, 9, 9 } }, 0)
      H.near(nn.Padding(1, 1, 1, -1):double():forward(x), { { 1, 2, 3, -1 }, { 4, 5, 6, -1 } }, 0)   -- a batch
      H.near(nn.Padding(2, -1, 2, 7, 2):double():forward(x), { { 1, 7, 2, 3 }, { 4, 7, 5, 6 } }, 0)
      H.near(nn.Padding(2, 1, 2, 7, 2):double():forward(x), { { 1, 2, 7, 3 }, { 4, 5, 7, 6 } }, 0)
      local p = nn.Padding(2, -2):double()
      p:forward(x)
      H.near(p:backward(x, torch.DoubleTensor({ { 1, 2, 3, 4, 5 }, { 6, 7, 8, 9, 10 } })), { { 3, 4, 5 }, { 8, 9, 10 } }, 0)
      assert.are.equal('nn.Padding(2, -2)', tostring(nn.Padding(2, -2)))
    end)

    it('passes the gradient check', function()
      for kind, x in pairs(batches(4, 3)) do
        checkGradient(nn.Padding(2, 2), x, 'Padding ' .. kind)
        checkGradient(nn.Padding(-1, -3, nil, 1.5), x, 'Padding before ' .. kind)
        checkGradient(nn.Padding(1, 1, 2, 0, 3), x, 'Padding inside ' .. kind)
      end
    end)

    it('names a bad index', function()
      H.raises('nn.Padding: cannot pad dimension 2 at index 5 of an input of size 2x3',
               function() return nn.Padding(2, -1, 2, 0, 5):forward(torch.randn(2, 3)) end)
    end)
  end)

  it('shape modules compose in a Sequential and pass the gradient check', function()
    local m = nn.Sequential():add(nn.Transpose({ 2, 3 })):add(nn.Flatten()):add(nn.Linear(6, 4))
      :add(nn.View(2, 2):setNumInputDims(1)):add(nn.Padding(2, 1)):add(nn.Select(3, 1)):add(nn.Narrow(2, 2, 2))
    for kind, x in pairs(batches(2, 3)) do
      checkGradient(m, x, 'composed ' .. kind)
      assert.are.same({ x:size(1), 2 }, m:forward(x):sizeTable())
    end
  end)
end)
