-- nn.View(sizes...): the input seen with new sizes, one of which may be -1 (inferred).
-- Like Torch7's View, leading dimensions beyond the view's elements are a batch:
-- nn.View(6) maps (N, 2, 3) to (N, 6). setNumInputDims(n) says how many trailing input
-- dimensions one sample has, to tell a batch of one from a sample. The output is a view
-- of the input when its strides allow it, else a contiguous copy (tensor:reshape).
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local View, parent = nn.class('nn.View', nn.Module)

-- nn.View(2, 3), nn.View({2, 3}) or nn.View(x:size())
function View:__init(...)
  parent.__init(self)
  local sizes = { ... }
  if #sizes == 1 and type(sizes[1]) == 'table' then sizes = sizes[1] end
  if #sizes == 1 and torch.isTensor(sizes[1]) then sizes = sizes[1]:totable() end
  assert(type(sizes) == 'table' and #sizes > 0, 'nn.View(sizes...): give at least one size')
  self.size, self.numElements = {}, 1
  local inferred = 0
  for i, s in ipairs(sizes) do
    s = math.tointeger(s)
    assert(s and (s > 0 or s == -1), 'nn.View(sizes...): sizes must be positive integers or -1')
    if s == -1 then inferred = inferred + 1 else self.numElements = self.numElements * s end
    self.size[i] = s
  end
  assert(inferred <= 1, 'nn.View(sizes...): at most one size may be -1')
end

-- One sample has the last n dimensions of the input; the others are the batch.
function View:setNumInputDims(n)
  self.numInputDims = n
  return self
end

-- The batch size, or nil when the input is one sample (Torch7's View batchsize).
local function batchSize(self, input)
  local nd = input:dim()
  local sampleDims = math.min(self.numInputDims or nd, nd)
  local sample = 1
  for d = nd - sampleDims + 1, nd do sample = sample * input:size(d) end
  if nd == 0 or sample % self.numElements ~= 0 then
    error(('nn.View: input of size %s does not match the view %s'):format(utils.sizeStr(input),
          table.concat(self.size, 'x')), 0)
  end
  local bsz = sample // self.numElements
  for _, s in ipairs(self.size) do
    if s == -1 then bsz = 1 end   -- the remainder is the inferred size, not a batch
  end
  for d = 1, nd - sampleDims do bsz = bsz * input:size(d) end
  if bsz == 1 and (not self.numInputDims or nd <= self.numInputDims) then return nil end
  return bsz
end

-- input (B..., sample...) -> output (B, sizes...), or (sizes...) for one sample
function View:updateOutput(input)
  local bsz = batchSize(self, input)
  self.output = input:reshape(bsz and { bsz, table.unpack(self.size) } or self.size)
  return self.output
end

-- gradOutput (like output) -> gradInput (like input)
function View:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  self.gradInput = gradOutput:reshape(input:sizeTable())
  return self.gradInput
end

-- output and gradInput may view other tensors: drop them instead of emptying them
function View:clearState() return utils.drop(self, 'output', 'gradInput') end

-- nn.View(2, -1)
function View:__tostring__()
  return ('nn.View(%s)'):format(table.concat(self.size, ', '))
end

return View
