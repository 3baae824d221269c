-- nn.TransformerBlock(dim, numHeads [, opts]): a pre-norm (GPT-2) transformer block,
--   h = x + drop(attn(ln1(x)))
--   y = h + drop(fc2(act(fc1(ln2(h)))))
-- Legend: B batch, T positions, C = dim. Input x (B, T, C), or {x, keyPaddingMask} as
-- nn.MultiheadAttention takes it (gradInput is then {gx, empty}); output (B, T, C).
--   opts.causal      (false)    causal self-attention
--   opts.hidden      (4 * dim)  width of the MLP
--   opts.dropout     (0)        dropout on both residual branches
--   opts.attnDropout (dropout)  dropout on the attention weights
--   opts.approximate ('none')   the GELU's, 'none' (exact erf) or 'tanh'
--   opts.eps         (1e-5)     the layer norms'
-- modules = {ln1, attn, ln2, mlp = Sequential(Linear, GELU, Linear [, Dropout])
-- [, Dropout after attn]}; the MLP runs on (B*T, C) views.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local Block, parent = nn.class('nn.TransformerBlock', nn.Container)

function Block:__init(dim, numHeads, opts)
  parent.__init(self)
  opts = opts or {}
  local hidden = opts.hidden or 4 * dim
  local p = opts.dropout or 0
  self.dim = dim
  local mlp = nn.Sequential()
    :add(nn.Linear(dim, hidden))
    :add(nn.GELU(opts.approximate))
    :add(nn.Linear(hidden, dim))
  if p > 0 then mlp:add(nn.Dropout(p)) end
  self.modules = {
    nn.LayerNorm(dim, opts.eps),
    nn.MultiheadAttention(dim, numHeads, { causal = opts.causal, dropout = opts.attnDropout or p }),
    nn.LayerNorm(dim, opts.eps),
    mlp,
    p > 0 and nn.Dropout(p) or nil,
  }
  self.h, self.gh, self.gx = torch.Tensor(), torch.Tensor(), torch.Tensor()
end

local function split(self, input)
  local x, pad = input, nil
  if type(input) == 'table' and not torch.isTensor(input) then x, pad = input[1], input[2] end
  if not torch.isTensor(x) or x:dim() ~= 3 or x:size(3) ~= self.dim then
    error(('nn.TransformerBlock: expected input (B, T, %d), got %s'):format(self.dim,
          utils.sizeStr(x)), 0)
  end
  return x, pad
end

-- input x (B, T, C) [+ mask] -> output (B, T, C)
function Block:updateOutput(input)
  local x, pad = split(self, input)
  local B, T, C = x:size(1), x:size(2), self.dim
  local ln1, attn, ln2, mlp, drop = table.unpack(self.modules, 1, 5)
  local a = self:rethrowErrors(ln1, 1, 'updateOutput', x)
  a = self:rethrowErrors(attn, 2, 'updateOutput', pad and { a, pad } or a)
  if drop then a = self:rethrowErrors(drop, 5, 'updateOutput', a) end
  torch.add(self.h, x, a)
  local m = self:rethrowErrors(ln2, 3, 'updateOutput', self.h)
  m = self:rethrowErrors(mlp, 4, 'updateOutput', m:view(B * T, C))
  torch.add(self.output, self.h, m:view(B, T, C))
  self._pass = 'forward'
  return self.output
end

-- Runs fname ('updateGradInput', 'backward' or 'accGradParameters') through the
-- children from the last to the first. accGradParameters reuses the children's
-- gradInputs (and self.gh) from the updateGradInput before it.
local function backwards(self, fname, input, gradOutput, scale)
  local x, pad = split(self, input)
  utils.checkSameSize(self, 'gradOutput', gradOutput, x)
  local B, T, C = x:size(1), x:size(2), self.dim
  local ln1, attn, ln2, mlp, drop = table.unpack(self.modules, 1, 5)
  local acc = fname == 'accGradParameters'
  local function run(i, m, mInput, g)
    self:rethrowErrors(m, i, fname, mInput, g, scale)
    return m.gradInput
  end
  local g = run(4, mlp, ln2.output:view(B * T, C), gradOutput:contiguous():view(B * T, C))
  g = run(3, ln2, self.h, g:view(B, T, C))
  if not acc then torch.add(self.gh, g, gradOutput) end
  g = self.gh
  if drop then g = run(5, drop, attn.output, g) end
  local attnInput = pad and { ln1.output, pad } or ln1.output
  g = run(2, attn, attnInput, g)
  if pad then g = g[1] end
  g = run(1, ln1, x, g)
  if acc then return self.gradInput end
  torch.add(self.gx, g, self.gh)
  self.gradInput = pad and { self.gx, torch.Tensor() } or self.gx
  self._pass = 'backward'
  return self.gradInput
end

local function checkForward(self, what)
  if not self._pass then error(('nn.TransformerBlock: %s called before forward'):format(what), 3) end
end

-- gradOutput (B, T, C) -> gradInput (B, T, C)
function Block:updateGradInput(input, gradOutput)
  checkForward(self, 'updateGradInput')
  return backwards(self, 'updateGradInput', input, gradOutput)
end

function Block:backward(input, gradOutput, scale)
  checkForward(self, 'backward')
  return backwards(self, 'backward', input, gradOutput, scale or 1)
end

function Block:accGradParameters(input, gradOutput, scale)
  if self._pass ~= 'backward' then
    error('nn.TransformerBlock: accGradParameters called before backward (or updateGradInput)', 2)
  end
  backwards(self, 'accGradParameters', input, gradOutput, scale or 1)
end

function Block:clearState()
  utils.clear(self, 'h', 'gh', 'gx')
  return parent.clearState(self)
end

-- nn.TransformerBlock(128, 4 heads, causal, MLP 512)
function Block:__tostring__()
  local attn, mlp = self.modules[2], self.modules[4]
  return ('%s(%d, %d heads%s, MLP %d%s)'):format(torch.type(self), self.dim, attn.numHeads,
    attn.causal and ', causal' or '', mlp.modules[1].weight:size(1),
    self.modules[5] and (', dropout %g'):format(self.modules[5].p) or '')
end

return Block
