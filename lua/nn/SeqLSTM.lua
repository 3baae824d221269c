-- nn.SeqLSTM(inputsize, outputsize): the LSTM of Element-Research's torch/rnn package
-- (`require 'rnn'`), a thin class over nn.LSTM (one layer, one C call per sequence,
-- full backpropagation through time). As in torch/rnn:
--   input  x (T, N, inputsize) time-first, or (N, T, inputsize) when self.batchfirst;
--          or {h0, x} or {c0, h0, x} with initial states h0, c0 (N, outputsize)
--   output (T, N, outputsize), or (N, T, outputsize) when batchfirst
--   gradInput like input: grad_x, {grad_h0, grad_x} or {grad_c0, grad_h0, grad_x}
--   remember(mode) ('both' when nil, 'train', 'eval', 'neither' = the default): whether
--   a forward starts from the last one's final states (lstm.hN, lstm.cN); forget()
--   clears them, as does switching between training() and evaluate().
--   reset(std): weights normal(0, std = 1/sqrt(inputsize + outputsize)), biases zero
--   but the forget gate's, 1.
-- The parameters are nn.LSTM's (weightIh, weightHh, biasIh, biasHh, PyTorch's gate
-- order), not torch/rnn's weight (inputsize + outputsize, 4 outputsize) and bias (gates i,
-- f, o, g). A SeqLSTM that Torch7 saved is converted to them when first used (forward,
-- parameters, tostring); Ember saves its own layout, which torch/rnn cannot read.
-- Not supported: a projection (SeqLSTMP: hiddensize ~= outputsize) and maskzero.
local torch = require 'torch'
local nn = require 'nn'
require 'nn.LSTM'

local SeqLSTM, parent = nn.class('nn.SeqLSTM', nn.LSTM)

function SeqLSTM:__init(inputsize, hiddensize, outputsize)
  outputsize = outputsize or hiddensize
  assert(outputsize == hiddensize, 'nn.SeqLSTM(inputsize, hiddensize, outputsize): '
         .. 'a projection (outputsize ~= hiddensize, torch/rnn\'s SeqLSTMP) is not supported')
  parent.__init(self, inputsize, hiddensize, 1, false)
  self.inputsize, self.hiddensize, self.outputsize = inputsize, hiddensize, outputsize
  self.batchfirst = false
  self.maskzero = false
  self._remember = 'neither'
end

function SeqLSTM:reset(std)
  std = std or 1 / math.sqrt(self.inputSize + self.hiddenSize)
  local H = self.hiddenSize
  self.weightIh[1]:normal(0, std)
  self.weightHh[1]:normal(0, std)
  self.biasIh[1]:zero():narrow(1, H + 1, H):fill(1)   -- gates i, f, g, o: f is the 2nd block
  self.biasHh[1]:zero()
  return self
end

-- A module torch/rnn wrote -> nn.LSTM's fields: its weight (D + H, 4H) is [Wx; Wh] with
-- gate columns i, f, o, g; ours are weightIh (4H, D), weightHh (4H, H) with rows i, f, g, o.
local function adopt(self)
  if rawget(self, 'weightIh') or not self.weight then return end
  local D, H, w, b = self.inputsize, self.outputsize, self.weight, self.bias
  local function ifgo(t)   -- rows i, f, o, g -> i, f, g, o
    return torch.cat({ t:narrow(1, 1, 2 * H), t:narrow(1, 3 * H + 1, H),
                       t:narrow(1, 2 * H + 1, H) }, 1)
  end
  self.inputSize, self.hiddenSize, self.numLayers = D, H, 1
  self.batchFirst = self.batchfirst and true or false
  self.weightIh = { ifgo(w:narrow(1, 1, D):t()) }
  self.weightHh = { ifgo(w:narrow(1, D + 1, H):t()) }
  self.biasIh, self.biasHh = { ifgo(b) }, { torch.zeros_like(b) }
  self.gradWeightIh, self.gradWeightHh = { torch.zeros_like(self.weightIh[1]) },
                                         { torch.zeros_like(self.weightHh[1]) }
  self.gradBiasIh, self.gradBiasHh = { torch.zeros_like(b) }, { torch.zeros_like(b) }
  local dt = b:dtype()
  self.output, self.gradInput = torch.new(dt), torch.new(dt)
  self.hN, self.cN = torch.new(dt), torch.new(dt)
  for _, k in ipairs { 'weight', 'gradWeight', 'bias', 'gradBias', 'cell', 'gates', 'buffer1',
                       'buffer2', 'buffer3', 'grad_a_buffer', 'h0', 'c0', 'grad_c0', 'grad_h0',
                       'grad_x', '_grad_x', '_output' } do
    self[k] = nil
  end
  self.hiddensize = self.hiddensize or H   -- older files lack it
end

function SeqLSTM:parameters()
  adopt(self)
  return parent.parameters(self)
end

function SeqLSTM:__tostring__()
  adopt(self)
  return parent.__tostring__(self)
end

-- Torch7's Sequencer.remember: 'both' (the default argument), 'train', 'eval', 'neither'.
local REMEMBER = { both = true, train = true, eval = true, neither = true }
function SeqLSTM:remember(mode)
  mode = mode == nil and 'both' or mode
  if not REMEMBER[mode] then
    error(("nn.SeqLSTM:remember: mode must be 'both', 'train', 'eval' or 'neither', got %s")
          :format(tostring(mode)), 2)
  end
  self._remember = mode
  return self
end

function SeqLSTM:forget()
  self._carry = nil
  return self
end

function SeqLSTM:training()
  if self.train == false then self:forget() end
  parent.training(self)
end

function SeqLSTM:evaluate()
  if self.train ~= false then self:forget() end
  parent.evaluate(self)
end

-- SeqLSTM's input -> nn.LSTM's: x, or {x, h0, c0} with states (1, N, H); and whether
-- gradInput should report grad_h0 / grad_c0. States come from the input, else from the
-- last forward when remembering (carried states get no gradient, as in torch/rnn).
local function pack(self, input, carry)
  local c0, h0, x
  if torch.isTensor(input) then x = input
  elseif type(input) == 'table' and #input == 2 then h0, x = input[1], input[2]
  elseif type(input) == 'table' and #input == 3 then c0, h0, x = input[1], input[2], input[3]
  else
    error('nn.SeqLSTM: expected input x, {h0, x} or {c0, h0, x}, got ' .. torch.type(input), 0)
  end
  if self.maskzero then error('nn.SeqLSTM: maskzero is not supported', 0) end
  if not torch.isTensor(x) or x:dim() ~= 3 then
    error('nn.SeqLSTM: expected x of 3 dimensions (seqlen x batchsize x inputsize, or '
          .. 'batchsize x seqlen x inputsize when batchfirst), got ' .. nn.utils.sizeStr(x), 0)
  end
  local wantH, wantC = h0 ~= nil, c0 ~= nil
  local N, H = x:size(self.batchfirst and 1 or 2), self.hiddenSize
  local function state(s, name)   -- (N, H) -> (1, N, H)
    if s == nil then return nil end
    if not (torch.isTensor(s) and s:dim() == 2 and s:size(1) == N and s:size(2) == H) then
      error(('nn.SeqLSTM: %s has size %s, expected %dx%d')
            :format(name, nn.utils.sizeStr(s), N, H), 0)
    end
    return s:contiguous():view(1, N, H)
  end
  h0, c0 = state(h0, 'h0'), state(c0, 'c0')
  if carry and self._carry then
    if self._carry[1]:size(2) ~= N then
      error(('nn.SeqLSTM: batch size %d, the remembered states have %d (forget() first)')
            :format(N, self._carry[1]:size(2)), 0)
    end
    h0, c0 = h0 or self._carry[1], c0 or self._carry[2]
  end
  if not h0 then return x, false, false end   -- c0 comes only with h0
  return { x, h0, c0 or h0:clone():zero() }, wantH, wantC
end

local function remembering(self)
  local mode = self._remember
  return mode == 'both' or mode == (self.train == false and 'eval' or 'train')
end

-- x (T, N, in) or {h0, x} or {c0, h0, x} -> output (T, N, H) (N, T, H when batchfirst)
function SeqLSTM:updateOutput(input)
  adopt(self)
  self.batchFirst = self.batchfirst and true or false
  local packed, wantH, wantC = pack(self, input, remembering(self))
  self._input, self._packed, self._wants = input, packed, { wantH, wantC }
  parent.updateOutput(self, packed)
  self._carry = remembering(self) and { self.hN:clone(), self.cN:clone() } or nil
  return self.output
end

-- The nn.LSTM input of the last forward when called with the same input, else repacked.
local function packedFor(self, input)
  if input == self._input then return self._packed, self._wants[1], self._wants[2] end
  return pack(self, input, false)
end

-- gradOutput like output -> grad_x, {grad_h0, grad_x} or {grad_c0, grad_h0, grad_x}
function SeqLSTM:updateGradInput(input, gradOutput)
  local packed, wantH, wantC = packedFor(self, input)
  local g = parent.updateGradInput(self, packed, gradOutput)
  if not torch.isTensor(g) then
    local N, H = self.hN:size(2), self.hiddenSize
    local gx, gh0, gc0 = g[1], g[2]:view(N, H), g[3]:view(N, H)
    g = wantC and { gc0, gh0, gx } or wantH and { gh0, gx } or gx
  end
  self.gradInput = g
  return g
end

function SeqLSTM:accGradParameters(input, gradOutput, scale)
  parent.accGradParameters(self, (packedFor(self, input)), gradOutput, scale)
end

function SeqLSTM:clearState()
  self._input, self._packed, self._wants, self._carry = nil, nil, nil, nil
  return parent.clearState(self)
end

return SeqLSTM
