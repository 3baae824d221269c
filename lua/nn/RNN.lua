-- nn.RNN(inputSize, hiddenSize [, numLayers = 1 [, batchFirst = false [, nonlinearity = 'tanh']]]):
-- a stack of Elman layers over whole sequences, h' = act(W_ih x + b_ih + W_hh h + b_hh),
-- act 'tanh' or 'relu'. nn.LSTM and nn.GRU are this class with other cells (the equations
-- and gate orders are PyTorch's: src/rnn.h). One C call per layer does a whole sequence.
--
-- Shapes (T steps, B batch, L = numLayers, H = hiddenSize):
--   input  (T, B, inputSize) time-first, or (B, T, inputSize) when batchFirst
--   output (T, B, H) or (B, T, H): the top layer's hidden state at every step
--   self.hN (L, B, H) and, for LSTM, self.cN (L, B, H): the final states after forward
-- Initial states (zeros when absent): forward({input, h0}), LSTM forward({input, h0, c0}),
-- each (L, B, H); gradInput is then {gradInput, gradH0[, gradC0]}.
-- gradOutput: a tensor like output, or {gradOutput, gradHN[, gradCN]} whose entries
-- (each may be nil: zeros) are the gradients of output, hN and cN.
-- Parameters of layer l, PyTorch's weight_ih_l{l-1} etc. in PyTorch's order:
--   weightIh[l] (G*H, in), weightHh[l] (G*H, H), biasIh[l], biasHh[l] (G*H), with gradients
--   gradWeightIh[l] ...; G gates (RNN 1, GRU 3, LSTM 4); in = inputSize for l = 1, else H.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils
local ops = torch.rnnops

local RNN, parent = nn.class('nn.RNN', nn.Module)

RNN.gates = 1
local PARAMS = { 'weightIh', 'weightHh', 'biasIh', 'biasHh' }
local GRADS = { 'gradWeightIh', 'gradWeightHh', 'gradBiasIh', 'gradBiasHh' }
local ACTIVATIONS = { tanh = 'rnn_tanh', relu = 'rnn_relu' }

function RNN:__init(inputSize, hiddenSize, numLayers, batchFirst, nonlinearity)
  parent.__init(self)
  local name = torch.type(self)
  inputSize, hiddenSize = math.tointeger(inputSize), math.tointeger(hiddenSize)
  numLayers = math.tointeger(numLayers or 1)
  assert(inputSize and hiddenSize and numLayers and inputSize > 0 and hiddenSize > 0
         and numLayers > 0, name .. '(inputSize, hiddenSize [, numLayers [, batchFirst]]): '
         .. 'sizes must be positive integers')
  if not self.mode then
    self.mode = ACTIVATIONS[nonlinearity or 'tanh']
    assert(self.mode, name .. ": nonlinearity must be 'tanh' or 'relu'")
  end
  self.inputSize, self.hiddenSize, self.numLayers = inputSize, hiddenSize, numLayers
  self.batchFirst = batchFirst and true or false
  local gh = self.gates * hiddenSize
  for i, p in ipairs(PARAMS) do self[p], self[GRADS[i]] = {}, {} end
  for l = 1, numLayers do
    local sizes = { { gh, l == 1 and inputSize or hiddenSize }, { gh, hiddenSize }, { gh }, { gh } }
    for i, p in ipairs(PARAMS) do
      self[p][l] = torch.Tensor(table.unpack(sizes[i]))
      self[GRADS[i]][l] = torch.zeros(table.unpack(sizes[i]))
    end
  end
  self.hN = torch.Tensor()
  self:reset()
end

-- Uniform in [-stdv, stdv], stdv = 1/sqrt(hiddenSize) unless given (PyTorch's reset).
function RNN:reset(stdv)
  stdv = stdv or 1 / math.sqrt(self.hiddenSize)
  for _, p in ipairs(self:parameters()) do p:uniform(-stdv, stdv) end
  return self
end

-- per layer: weightIh, weightHh, biasIh, biasHh (PyTorch's order), and their gradients
function RNN:parameters()
  local params, grads = {}, {}
  for l = 1, self.numLayers do
    for i, p in ipairs(PARAMS) do
      params[#params + 1] = self[p][l]
      grads[#grads + 1] = self[GRADS[i]][l]
    end
  end
  return params, grads
end

local function fail(self, fmt, ...) error(torch.type(self) .. ': ' .. fmt:format(...), 0) end

-- the input's tensor and initial states, checked: x (T, B, in), h0, c0 (L, B, H) or nil
local function unpackInput(self, input)
  local x, h0, c0 = input, nil, nil
  if type(input) == 'table' and not torch.isTensor(input) then
    x, h0, c0 = input[1], input[2], input[3]
  end
  local layout = self.batchFirst and '(B, T, %d) (batch-first)' or '(T, B, %d) (time-first)'
  if not torch.isTensor(x) or x:dim() ~= 3 or x:size(3) ~= self.inputSize then
    fail(self, 'expected input ' .. layout .. ', got size %s', self.inputSize, utils.sizeStr(x))
  end
  local B = x:size(self.batchFirst and 1 or 2)
  for name, s in pairs { h0 = h0, c0 = c0 } do
    if name == 'c0' and self.mode ~= 'lstm' then fail(self, 'c0 is only for LSTM') end
    if not (torch.isTensor(s) and s:dim() == 3 and s:size(1) == self.numLayers
            and s:size(2) == B and s:size(3) == self.hiddenSize) then
      fail(self, '%s has size %s, expected %dx%dx%d', name, utils.sizeStr(s), self.numLayers, B,
           self.hiddenSize)
    end
  end
  return x, h0, c0
end

local function layer(s, l) return s and s:select(1, l) or nil end

-- t when it has x's dtype and device, else a new empty tensor that has them
local function like(t, x)
  if t and t:dtype() == x:dtype() and t:device() == x:device() then return t end
  return torch.new(x:dtype()):to(x:device())
end

-- the per-layer buffers (output, work, gradGates, gradInput) in x's dtype, on its device
local function buffers(self, l, x)
  self._buffers = self._buffers or {}
  local b = self._buffers[l]
  if not b or b.work:dtype() ~= x:dtype() or b.work:device() ~= x:device() then
    b = { output = like(nil, x), work = like(nil, x), gradGates = like(nil, x),
          gradInput = like(nil, x) }
    self._buffers[l] = b
  end
  return b
end

-- input (T, B, in) or {input, h0[, c0]} -> output (T, B, H); sets self.hN, self.cN
function RNN:updateOutput(input)
  local x, h0, c0 = unpackInput(self, input)
  local L, H, lstm = self.numLayers, self.hiddenSize, self.mode == 'lstm'
  local B = x:size(self.batchFirst and 1 or 2)
  self.output = like(self.output, x)
  self.hN = like(self.hN, x):resize(L, B, H)
  if lstm then self.cN = like(self.cN, x):resize(L, B, H) end
  local inp = x
  for l = 1, L do
    local b = buffers(self, l, x)
    if l == L then b.output = self.output end
    ops.forward(b.output, self.hN:select(1, l), lstm and self.cN:select(1, l) or nil, b.work,
                inp, layer(h0, l), layer(c0, l), self.weightIh[l], self.weightHh[l],
                self.biasIh[l], self.biasHh[l], self.mode, self.batchFirst)
    inp = b.output
  end
  return self.output
end

-- gradOutput (like output) or {gradOutput, gradHN[, gradCN]} -> gradInput (like input)
function RNN:updateGradInput(input, gradOutput)
  local x, h0, c0 = unpackInput(self, input)
  local gy, ghN, gcN = gradOutput, nil, nil
  if type(gradOutput) == 'table' and not torch.isTensor(gradOutput) then
    gy, ghN, gcN = gradOutput[1], gradOutput[2], gradOutput[3]
  end
  if gy then utils.checkSameSize(self, 'gradOutput', gy, self.output) end
  if ghN then utils.checkSameSize(self, 'gradHN', ghN, self.hN) end
  if gcN then utils.checkSameSize(self, 'gradCN', gcN, self.cN) end
  local L, lstm = self.numLayers, self.mode == 'lstm'
  local b1 = buffers(self, 1, x)
  self._gradH0 = like(self._gradH0, x):resizeAs(self.hN)
  if lstm then self._gradC0 = like(self._gradC0, x):resizeAs(self.hN) end
  for l = L, 1, -1 do
    local b = buffers(self, l, x)
    local gyl = gy   -- the top layer's output gradient, else the gradInput of the layer above
    if l < L then gyl = self._buffers[l + 1].gradInput end
    ops.backward_input(b.gradInput, self._gradH0:select(1, l),
                       lstm and self._gradC0:select(1, l) or nil, b.gradGates,
                       l == 1 and x or self._buffers[l - 1].output, b.output, b.work,
                       layer(h0, l), layer(c0, l), self.weightIh[l], self.weightHh[l],
                       gyl, layer(ghN, l), layer(gcN, l), self.mode, self.batchFirst)
  end
  if torch.isTensor(input) then
    self.gradInput = b1.gradInput
  else
    self.gradInput = { b1.gradInput, h0 and self._gradH0 or nil, c0 and self._gradC0 or nil }
  end
  return self.gradInput
end

-- every parameter gradient += scale * its gradient, from the last updateGradInput
function RNN:accGradParameters(input, gradOutput, scale)
  local x, h0 = unpackInput(self, input)
  for l = 1, self.numLayers do
    local b = buffers(self, l, x)
    ops.backward_params(self.gradWeightIh[l], self.gradWeightHh[l], self.gradBiasIh[l],
                        self.gradBiasHh[l], l == 1 and x or self._buffers[l - 1].output,
                        b.output, layer(h0, l), b.gradGates, self.mode, self.batchFirst,
                        scale or 1)
  end
end

-- params -= lr * dL/dparams, computed into the parameters themselves (Torch7's contract)
function RNN:accUpdateGradParameters(input, gradOutput, lr)
  local saved = {}
  for i, g in ipairs(GRADS) do saved[i], self[g] = self[g], self[PARAMS[i]] end
  self:accGradParameters(input, gradOutput, -lr)
  for i, g in ipairs(GRADS) do self[g] = saved[i] end
end

function RNN:clearState()
  self._buffers, self._gradH0, self._gradC0 = nil, nil, nil
  return utils.clear(self, 'output', 'gradInput', 'hN', 'cN')
end

-- nn.LSTM(64 -> 256, 2 layers, batch-first)
function RNN:__tostring__()
  local extra = self.mode == 'rnn_relu' and ', relu' or ''
  return ('%s(%d -> %d%s%s%s)'):format(torch.type(self), self.inputSize, self.hiddenSize,
    self.numLayers > 1 and (', %d layers'):format(self.numLayers) or '',
    self.batchFirst and ', batch-first' or '', extra)
end

return RNN
