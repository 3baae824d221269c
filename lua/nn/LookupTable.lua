-- nn.LookupTable(nIndex, nOutput [, paddingIdx]): an embedding. Index i selects row i of
-- weight (nIndex, nOutput), initialised N(0, 1) as Torch7 and PyTorch. Indices are
-- 1-based (a LongTensor; other tensors are converted, and CPU indices go to the weight's
-- device). The row at paddingIdx starts at zero and gets no gradient (PyTorch's
-- padding_idx).
--   input (N) -> output (N, nOutput);  input (B, T) -> output (B, T, nOutput)
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils
local ops = torch.rnnops

local LookupTable, parent = nn.class('nn.LookupTable', nn.Module)

function LookupTable:__init(nIndex, nOutput, paddingIdx)
  parent.__init(self)
  nIndex, nOutput = math.tointeger(nIndex), math.tointeger(nOutput)
  assert(nIndex and nOutput and nIndex > 0 and nOutput > 0,
         'nn.LookupTable(nIndex, nOutput [, paddingIdx]): sizes must be positive integers')
  if paddingIdx ~= nil then
    paddingIdx = math.tointeger(paddingIdx)
    assert(paddingIdx and paddingIdx >= 1 and paddingIdx <= nIndex,
           ('nn.LookupTable: paddingIdx must be an index in 1..%d'):format(nIndex))
  end
  self.paddingIdx = paddingIdx
  self.weight = torch.Tensor(nIndex, nOutput)
  self.gradWeight = torch.zeros(nIndex, nOutput)
  self:reset()
end

function LookupTable:reset(stdv)
  self.weight:normal(0, stdv or 1)
  if self.paddingIdx then self.weight:select(1, self.paddingIdx):zero() end
  return self
end

-- the input as int64 indices on the weight's device (utils.indicesOn), in range; on a
-- GPU the kernel checks the range (one read-back instead of two reductions)
local function indices(self, input)
  if not torch.isTensor(input) or input:dim() < 1 or input:dim() > 2 then
    error(('nn.LookupTable: expected indices (N) or (B, T), got size %s')
          :format(utils.sizeStr(input)), 0)
  end
  input = utils.indicesOn(self, 'indices', input, self.weight, 'weight')
  if input:device() ~= 'cpu' then return input end
  local n = self.weight:size(1)
  local lo, hi = input:min(), input:max()
  if lo < 1 or hi > n then
    error(('nn.LookupTable: index %d out of range for %d entries'):format(hi > n and hi or lo, n), 0)
  end
  return input
end

-- input (N) or (B, T) -> output (N, nOutput) or (B, T, nOutput)
function LookupTable:updateOutput(input)
  if self.output:dtype() ~= self.weight:dtype() then self.output = torch.new(self.weight:dtype()) end
  ops.embedding_forward(self.output, indices(self, input), self.weight)
  return self.output
end

-- indices have no gradient: gradInput is zeros like the input (Torch7)
function LookupTable:updateGradInput(input, gradOutput)
  if torch.isTensor(input) then
    local g = self.gradInput
    if g:dtype() ~= input:dtype() or g:device() ~= input:device() then
      self.gradInput = input:clone()
    end
    self.gradInput:resizeAs(input):zero()
  end
  return self.gradInput
end

-- gradWeight rows += scale * the gradOutput rows of their indices (except paddingIdx)
function LookupTable:accGradParameters(input, gradOutput, scale)
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  ops.embedding_backward(self.gradWeight, indices(self, input), gradOutput, self.paddingIdx,
                         scale or 1)
end

-- nn.LookupTable(96 -> 64), or nn.LookupTable(96 -> 64, padding 1)
function LookupTable:__tostring__()
  return ('%s(%d -> %d%s)'):format(torch.type(self), self.weight:size(1), self.weight:size(2),
                                   self.paddingIdx and (', padding %d'):format(self.paddingIdx) or '')
end

return LookupTable
