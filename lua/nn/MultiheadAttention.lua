-- nn.MultiheadAttention(embedDim, numHeads [, opts]): multi-head scaled-dot-product
-- self-attention, PyTorch's nn.MultiheadAttention(batch_first=True) with q = k = v = x.
--   opts.causal  (false)  query i sees keys 1..i only
--   opts.dropout (0)      dropout on the attention weights in training
--   opts.bias    (true)   biases on the input and output projections
-- Legend: B batch, T positions, C = embedDim, NH = numHeads, HS = C / NH.
-- Input x (B, T, C), batch first; or {x, keyPaddingMask} with the mask (B, T) bool or
-- byte, true = that key is padding and is ignored (gradInput is then {gx, empty}).
-- A query whose keys are all ignored gets zero weights and a zero attention output
-- (so the output row is the output bias), never NaN.
-- Parameters (PyTorch's names): inWeight (3C, C) = in_proj_weight, the q, k, v rows in
-- that order; inBias (3C) = in_proj_bias; outWeight (C, C), outBias (C) = out_proj's.
-- Under nn.autocast('bfloat16') the projections and the attention products read their
-- operands as bfloat16 (nn/cuda.lua); the softmax stays float32.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local MHA, parent = nn.class('nn.MultiheadAttention', nn.Module)

local attnops = torch.attnops

function MHA:__init(embedDim, numHeads, opts)
  parent.__init(self)
  opts = opts or {}
  local C, NH = math.tointeger(embedDim), math.tointeger(numHeads)
  assert(C and NH and C > 0 and NH > 0 and C % NH == 0,
         'nn.MultiheadAttention(embedDim, numHeads): positive integers, embedDim divisible by numHeads')
  self.embedDim, self.numHeads, self.headDim = C, NH, C // NH
  self.causal = opts.causal or false
  self.dropout = opts.dropout or 0
  assert(self.dropout >= 0 and self.dropout < 1, 'nn.MultiheadAttention: dropout must be in [0, 1)')
  self.inWeight, self.gradInWeight = torch.Tensor(3 * C, C), torch.zeros(3 * C, C)
  self.outWeight, self.gradOutWeight = torch.Tensor(C, C), torch.zeros(C, C)
  if opts.bias ~= false then
    self.inBias, self.gradInBias = torch.Tensor(3 * C), torch.zeros(3 * C)
    self.outBias, self.gradOutBias = torch.Tensor(C), torch.zeros(C)
  end
  for _, k in ipairs { 'qkv', 'att', 'attnOut', 'dmask', 'gradAttnOut', 'gradQKV', 'work', 'gx' } do
    self[k] = torch.Tensor()
  end
  self:reset()
end

-- PyTorch's initialisation: xavier-uniform inWeight, outWeight uniform in
-- +-1/sqrt(C) (or +-stdv), zero biases.
function MHA:reset(stdv)
  local C = self.embedDim
  self.inWeight:uniform(-math.sqrt(6 / (4 * C)), math.sqrt(6 / (4 * C)))
  stdv = stdv or 1 / math.sqrt(C)
  self.outWeight:uniform(-stdv, stdv)
  if self.inBias then
    self.inBias:zero()
    self.outBias:zero()
  end
  return self
end

function MHA:parameters()
  if self.inBias then
    return { self.inWeight, self.inBias, self.outWeight, self.outBias },
           { self.gradInWeight, self.gradInBias, self.gradOutWeight, self.gradOutBias }
  end
  return { self.inWeight, self.outWeight }, { self.gradInWeight, self.gradOutWeight }
end

-- x and the optional mask from the input; errors name the expected shapes
local function split(self, input)
  local x, pad = input, nil
  if type(input) == 'table' and not torch.isTensor(input) then x, pad = input[1], input[2] end
  if not torch.isTensor(x) or x:dim() ~= 3 or x:size(3) ~= self.embedDim then
    error(('nn.MultiheadAttention: expected input (B, T, %d), got %s'):format(self.embedDim,
          utils.sizeStr(x)), 0)
  end
  if pad and not (pad:dim() == 2 and pad:size(1) == x:size(1) and pad:size(2) == x:size(2)) then
    error(('nn.MultiheadAttention: key padding mask is %s, expected %dx%d (B, T)')
          :format(utils.sizeStr(pad), x:size(1), x:size(2)), 0)
  end
  return x, pad
end

-- (B, T, k*C) buffer -> its part-th (B, NH, T, HS) view, no copy
local function heads(self, t, part)
  local B, T = t:size(1), t:size(2)
  local C, NH = self.embedDim, self.numHeads
  return t:narrow(3, (part - 1) * C + 1, C):view(B, T, NH, C // NH):transpose(2, 3)
end

-- out (N, n) := a (N, k) @ w^T (n, k) + bias (n), in precision prec
local function project(out, a, w, bias, prec)
  if bias then
    out:addmm(1, bias:view(1, bias:size(1)):expand(a:size(1), bias:size(1)), 1, a, w:t(), prec)
  else
    out:mm(a, w:t(), prec)
  end
end

-- input x (B, T, C) [+ mask (B, T)] -> output (B, T, C)
function MHA:updateOutput(input)
  local x, pad = split(self, input)
  local B, T, C = x:size(1), x:size(2), self.embedDim
  local prec = nn.autocastFor(self.inWeight)
  self.x2 = x:contiguous():view(B * T, C)
  project(self.qkv:resize(B * T, 3 * C), self.x2, self.inWeight, self.inBias, prec)
  local qkv = self.qkv:view(B, T, 3 * C)
  local dmask = nil
  if self.train and self.dropout > 0 then
    dmask = self.dmask:resize(B, self.numHeads, T, T)
    attnops.dropout_forward(nil, dmask, nil, self.dropout)
  end
  self.attnOut:resize(B, T, C)
  attnops.attention_forward(heads(self, self.attnOut, 1), self.att, heads(self, qkv, 1),
                            heads(self, qkv, 2), heads(self, qkv, 3), pad, dmask,
                            1 / math.sqrt(self.headDim), self.causal, prec)
  self.usedDropout = dmask ~= nil
  self.output:resize(B, T, C)
  project(self.output:view(B * T, C), self.attnOut:view(B * T, C), self.outWeight, self.outBias,
          prec)
  return self.output
end

-- gradOutput (B, T, C) -> gradInput (B, T, C) (or {gx, empty} for a table input)
function MHA:updateGradInput(input, gradOutput)
  local x, pad = split(self, input)
  local B, T, C = x:size(1), x:size(2), self.embedDim
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  local prec = nn.autocastFor(self.inWeight)
  local g2 = gradOutput:contiguous():view(B * T, C)
  self.gradAttnOut:resize(B, T, C):view(B * T, C):mm(g2, self.outWeight, prec)
  self.gradQKV:resize(B, T, 3 * C)
  local qkv = self.qkv:view(B, T, 3 * C)
  attnops.attention_backward(heads(self, self.gradQKV, 1), heads(self, self.gradQKV, 2),
                             heads(self, self.gradQKV, 3), heads(self, self.gradAttnOut, 1),
                             heads(self, qkv, 1), heads(self, qkv, 2), heads(self, qkv, 3),
                             self.att, self.usedDropout and self.dmask or nil,
                             1 / math.sqrt(self.headDim), self.causal, self.work, prec)
  self.gx:resize(B, T, C):view(B * T, C):mm(self.gradQKV:view(B * T, 3 * C), self.inWeight, prec)
  if pad then
    self.gradInput = { self.gx, torch.Tensor() }
  else
    self.gradInput = self.gx
  end
  return self.gradInput
end

-- A vector of n ones in the weights' dtype (kept between calls)
local function ones(self, n)
  local o = self.onesBuffer
  if not o or o:nElement() ~= n or o:dtype() ~= self.inWeight:dtype() then
    o = torch.ones(n, self.inWeight:dtype())
    self.onesBuffer = o
  end
  return o
end

-- gradients += scale * dL/dparams; uses updateGradInput's gradQKV (call it first, as
-- backward does)
function MHA:accGradParameters(input, gradOutput, scale)
  scale = scale or 1
  local x = split(self, input)
  local N, C = x:size(1) * x:size(2), self.embedDim
  local g2 = gradOutput:contiguous():view(N, C)
  local gqkv = self.gradQKV:view(N, 3 * C)
  local prec = nn.autocastFor(self.inWeight)
  self.gradOutWeight:addmm(scale, g2:t(), self.attnOut:view(N, C), prec)
  self.gradInWeight:addmm(scale, gqkv:t(), self.x2, prec)
  if self.inBias then
    self.gradOutBias:addmv(scale, g2:t(), ones(self, N))
    self.gradInBias:addmv(scale, gqkv:t(), ones(self, N))
  end
end

function MHA:clearState()
  utils.clear(self, 'qkv', 'att', 'attnOut', 'dmask', 'gradAttnOut', 'gradQKV', 'work', 'gx')
  self.x2, self.onesBuffer = nil, nil
  return parent.clearState(self)
end

-- nn.MultiheadAttention(128, 4 heads, causal, dropout 0.1)
function MHA:__tostring__()
  local s = ('%s(%d, %d heads'):format(torch.type(self), self.embedDim, self.numHeads)
  if self.causal then s = s .. ', causal' end
  if self.dropout > 0 then s = s .. (', dropout %g'):format(self.dropout) end
  if not self.inBias then s = s .. ', no bias' end
  return s .. ')'
end

return MHA
