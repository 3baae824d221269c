-- nn.GPT(opts): a small GPT-style decoder, "a GPT in a few lines":
--   x = tok[idx] + pos[1..T];  x = block_L(...block_1(drop(x)));  logits = head(lnf(x))
-- with causal nn.TransformerBlocks. Legend: B batch, T positions (T <= maxLen), C = dim,
-- V = vocab.
--   opts.vocab, opts.dim, opts.heads, opts.layers, opts.maxLen   (required)
--   opts.hidden (4 * dim), opts.dropout (0), opts.approximate ('none'): as TransformerBlock
-- Input idx (B, T) LongTensor of token numbers 1..V; output logits (B, T, V). Train with
--   crit:forward(logits:view(B * T, V), targets:view(B * T))   (nn.CrossEntropyCriterion)
--   model:backward(idx, crit:backward(...):view(B, T, V))
-- Parameters: tokWeight (V, C) and posWeight (maxLen, C), N(0, 0.02) as GPT-2 (plain
-- tables gathered with index/indexAdd), then the blocks', lnf's and head's.
-- modules = {block_1, ..., block_L, lnf, head [, Dropout on the embeddings]}.
local torch = require 'torch'
local nn = require 'nn'
local utils = nn.utils

local GPT, parent = nn.class('nn.GPT', nn.Container)

function GPT:__init(opts)
  parent.__init(self)
  for _, k in ipairs { 'vocab', 'dim', 'heads', 'layers', 'maxLen' } do
    assert(math.tointeger(opts[k]) and opts[k] > 0, ('nn.GPT(opts): opts.%s must be a positive integer'):format(k))
  end
  self.vocab, self.dim, self.maxLen, self.layers = opts.vocab, opts.dim, opts.maxLen, opts.layers
  local C = opts.dim
  self.tokWeight, self.gradTokWeight = torch.Tensor(opts.vocab, C), torch.zeros(opts.vocab, C)
  self.posWeight, self.gradPosWeight = torch.Tensor(opts.maxLen, C), torch.zeros(opts.maxLen, C)
  for i = 1, opts.layers do
    self.modules[i] = nn.TransformerBlock(C, opts.heads, { causal = true, hidden = opts.hidden,
      dropout = opts.dropout, approximate = opts.approximate })
  end
  self.modules[opts.layers + 1] = nn.LayerNorm(C)
  self.modules[opts.layers + 2] = nn.Linear(C, opts.vocab)
  if (opts.dropout or 0) > 0 then self.modules[opts.layers + 3] = nn.Dropout(opts.dropout) end
  self.emb, self.posSum = torch.Tensor(), torch.Tensor()
  self:reset()
end

function GPT:reset()
  self.tokWeight:normal(0, 0.02)
  self.posWeight:normal(0, 0.02)
  for _, m in ipairs(self.modules) do m:reset() end
  return self
end

function GPT:parameters()
  local p, g = parent.parameters(self)
  table.insert(p, 1, self.posWeight)
  table.insert(p, 1, self.tokWeight)
  table.insert(g, 1, self.gradPosWeight)
  table.insert(g, 1, self.gradTokWeight)
  return p, g
end

local function checkInput(self, idx)
  if not torch.isTensor(idx) or idx:dim() ~= 2 or idx:size(2) > self.maxLen then
    error(('nn.GPT: expected token numbers (B, T) with T <= %d, got %s'):format(self.maxLen,
          utils.sizeStr(idx)), 0)
  end
end

-- idx (B, T) -> logits (B, T, V)
function GPT:updateOutput(idx)
  checkInput(self, idx)
  local B, T, C, L = idx:size(1), idx:size(2), self.dim, self.layers
  local flat = idx:contiguous():view(B * T)
  torch.index(self.emb, self.tokWeight, 1, flat)
  local x = self.emb:view(B, T, C):add(self.posWeight:narrow(1, 1, T):view(1, T, C):expand(B, T, C))
  local drop = self.modules[L + 3]
  if drop then x = self:rethrowErrors(drop, L + 3, 'updateOutput', x) end
  for i = 1, L + 1 do x = self:rethrowErrors(self.modules[i], i, 'updateOutput', x) end
  local logits = self:rethrowErrors(self.modules[L + 2], L + 2, 'updateOutput', x:view(B * T, C))
  self.output = logits:view(B, T, self.vocab)
  return self.output
end

-- Runs fname from the head back to the embeddings; returns the gradient of the summed
-- embeddings (B, T, C).
local function backwards(self, fname, idx, gradOutput, scale)
  checkInput(self, idx)
  local B, T, C, L = idx:size(1), idx:size(2), self.dim, self.layers
  utils.checkSameSize(self, 'gradOutput', gradOutput, self.output)
  local m, drop = self.modules, self.modules[L + 3]
  local x0 = drop and drop.output or self.emb:view(B, T, C)   -- the first block's input
  self:rethrowErrors(m[L + 2], L + 2, fname, m[L + 1].output:view(B * T, C),
                     gradOutput:contiguous():view(B * T, self.vocab), scale)
  local g = m[L + 2].gradInput:view(B, T, C)
  for i = L + 1, 1, -1 do
    self:rethrowErrors(m[i], i, fname, i > 1 and m[i - 1].output or x0, g, scale)
    g = m[i].gradInput
  end
  if drop then
    self:rethrowErrors(drop, L + 3, fname, self.emb:view(B, T, C), g, scale)
    g = drop.gradInput
  end
  return g
end

-- tokWeight's and posWeight's gradients += scale * the rows g (B, T, C) reach
local function accEmbeddings(self, idx, g, scale)
  local B, T, C = idx:size(1), idx:size(2), self.dim
  if scale ~= 1 then g = g:clone():mul(scale) end
  self.gradTokWeight:indexAdd(1, idx:contiguous():view(B * T), g:contiguous():view(B * T, C))
  torch.sum(self.posSum, g, 1)
  self.gradPosWeight:narrow(1, 1, T):add(self.posSum:view(T, C))
end

-- Token numbers have no gradient: gradInput stays empty.
function GPT:updateGradInput(idx, gradOutput)
  backwards(self, 'updateGradInput', idx, gradOutput)
  return self.gradInput
end

-- gradients += scale * dL/dparams (after updateGradInput, as Torch7's containers)
function GPT:accGradParameters(idx, gradOutput, scale)
  scale = scale or 1
  accEmbeddings(self, idx, backwards(self, 'accGradParameters', idx, gradOutput, scale), scale)
end

-- One pass through the children.
function GPT:backward(idx, gradOutput, scale)
  scale = scale or 1
  accEmbeddings(self, idx, backwards(self, 'backward', idx, gradOutput, scale), scale)
  return self.gradInput
end

function GPT:__tostring__()
  local blk = self.modules[1]
  return ('%s(vocab %d, %d layers of %s, maxLen %d)'):format(torch.type(self), self.vocab,
    self.layers, tostring(blk), self.maxLen)
end

return GPT
