-- nn.SpatialDropout([p = 0.5]): in training, zeroes whole channels (feature maps) of
-- (N, C, H, W) or (C, H, W) inputs with probability p, as Torch7, since neighbouring
-- pixels are correlated. Unlike Torch7's SpatialDropout (which scaled by 1 - p at
-- evaluation), the kept channels are scaled by 1/(1 - p) in training, so evaluate() is
-- the identity (inverted dropout, as Torch7's Dropout and PyTorch's Dropout2d). The mask
-- (N, C, 1, 1) is self.noise, drawn with the tensor RNG: torch.manualSeed reproduces it.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local SpatialDropout, parent = nn.class('nn.SpatialDropout', nn.Module)

local function checkP(p)
  assert(type(p) == 'number' and p >= 0 and p < 1, 'nn.SpatialDropout: p must be in [0, 1)')
end

function SpatialDropout:__init(p)
  parent.__init(self)
  self.p = p or 0.5
  checkP(self.p)
  self.noise = torch.Tensor()
end

function SpatialDropout:setp(p)
  checkP(p)
  self.p = p
  return self
end

-- the noise (N, C, 1, 1) or (C, 1, 1) expanded as input
local function expandedNoise(self, input)
  return self.noise:expandAs(input)
end

-- input (N, C, H, W) -> output (same shape): channels kept (scaled by 1/(1-p)) or zeroed
function SpatialDropout:updateOutput(input)
  local d = input:dim()
  if d ~= 3 and d ~= 4 then
    error(('nn.SpatialDropout: expected an input (N, C, H, W) or (C, H, W), got size %s')
          :format(utils.sizeStr(input)), 0)
  end
  self.output:resizeAs(input):copy(input)
  if self.train ~= false and self.p > 0 then
    if d == 4 then self.noise:resize(input:size(1), input:size(2), 1, 1)
    else self.noise:resize(input:size(1), 1, 1) end
    self.noise:bernoulli(1 - self.p):div(1 - self.p)
    self.output:cmul(expandedNoise(self, input))
  end
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput masked (and scaled) as the forward
function SpatialDropout:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  self.gradInput:resizeAs(gradOutput):copy(gradOutput)
  if self.train ~= false and self.p > 0 then
    if self.noise:dim() ~= input:dim() or self.noise:size(1) ~= input:size(1) then
      error('nn.SpatialDropout: backward called before forward on this input size', 0)
    end
    self.gradInput:cmul(expandedNoise(self, input))
  end
  return self.gradInput
end

function SpatialDropout:clearState()
  utils.clear(self, 'noise')
  return parent.clearState(self)
end

-- nn.SpatialDropout(0.500000), as Torch7
function SpatialDropout:__tostring__()
  return ('%s(%f)'):format(torch.type(self), self.p)
end

return SpatialDropout
