-- nn.GELU([approximate = 'none']): y = x * Phi(x), Phi the standard normal CDF.
-- 'none' is the exact 0.5 x (1 + erf(x / sqrt 2)), PyTorch's default for nn.GELU;
-- 'tanh' is the approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) of GPT-2.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local GELU, parent = nn.class('nn.GELU', nn.Module)

local attnops = torch.attnops

function GELU:__init(approximate)
  parent.__init(self)
  approximate = approximate or 'none'
  assert(approximate == 'none' or approximate == 'tanh',
         "nn.GELU([approximate]): approximate must be 'none' or 'tanh'")
  self.approximate = approximate
end

-- input (any) -> output (same shape)
function GELU:updateOutput(input)
  attnops.gelu_forward(self.output, input, self.approximate)
  return self.output
end

-- gradOutput (like input) -> gradInput = gradOutput * gelu'(input)
function GELU:updateGradInput(input, gradOutput)
  utils.checkForwarded(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, input)
  attnops.gelu_backward(self.gradInput, gradOutput, input, self.approximate)
  return self.gradInput
end

function GELU:__tostring__()
  return torch.type(self) .. (self.approximate == 'tanh' and "(approximate 'tanh')" or '')
end

return GELU
