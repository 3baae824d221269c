-- nn.Dropout([p = 0.5]): in training, zeroes each element with probability p and scales
-- the kept ones by 1/(1-p) (Torch7's default "v2" dropout, PyTorch's nn.Dropout), so
-- evaluation is the identity. The mask is drawn from torch's generator, one draw per
-- element in order: torch.manualSeed(s) makes it reproducible.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Dropout, parent = nn.class('nn.Dropout', nn.Module)

local attnops = torch.attnops

function Dropout:__init(p)
  parent.__init(self)
  self.p = p or 0.5
  assert(type(self.p) == 'number' and self.p >= 0 and self.p < 1,
         'nn.Dropout(p): p must be a probability in [0, 1)')
  self.noise = torch.Tensor()
end

local function active(self) return self.train and self.p > 0 end

-- input (any) -> output (same shape): input * mask in training, input in evaluation
function Dropout:updateOutput(input)
  if active(self) then
    attnops.dropout_forward(self.output, self.noise, input, self.p)
  else
    self.output:resizeAs(input):copy(input)
  end
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * mask (gradOutput in evaluation)
function Dropout:updateGradInput(input, gradOutput)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  self.gradInput:resizeAs(gradOutput):copy(gradOutput)
  if active(self) then
    utils.checkSameSize(self, 'the saved mask (forward first)', self.noise, input)
    self.gradInput:cmul(self.noise)
  end
  return self.gradInput
end

function Dropout:setp(p)
  self.p = p
  return self
end

function Dropout:clearState()
  utils.clear(self, 'noise')
  return parent.clearState(self)
end

function Dropout:__tostring__() return ('%s(%g)'):format(torch.type(self), self.p) end

return Dropout
