-- A tiny GPT (nn.GPT: token and position embeddings, causal pre-norm transformer
-- blocks, a linear head) trained on the same fortunes as char_rnn.lua, one character
-- per token. Trained by ember.Trainer with AdamW and a cosine learning-rate schedule;
-- reports the validation loss in bits per character and samples text (temperature,
-- optional top-k), each new character predicted from the last maxLen ones.
--   ember examples/tiny_gpt.lua [--epochs 20 --dim 96 --layers 3 --top-k 10 ...]
package.path = (arg[0]:match('^(.*)/[^/]*$') or '.') .. '/?.lua;' .. package.path
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local Trainer = require 'ember.Trainer'
local args = require 'lib.args'
local text = require 'lib.text'

local opt = args.parse(arg, 'ember examples/tiny_gpt.lua [flags]', {
  { 'epochs', 20, 'training epochs' },
  { 'steps', 60, 'batches per epoch' },
  { 'batch', 32, 'sequences per batch' },
  { 'seq', 64, 'context length (maxLen)' },
  { 'dim', 96, 'embedding width' },
  { 'heads', 4, 'attention heads' },
  { 'layers', 3, 'transformer blocks' },
  { 'dropout', 0.1, 'dropout in the blocks and on the embeddings' },
  { 'lr', 3e-3, 'AdamW learning rate at the start (cosine decay to lr / 10)' },
  { 'weightDecay', 0.01, 'AdamW weight decay' },
  { 'clip', 1, 'gradient norm clipping' },
  { 'sample', 300, 'characters to sample at the end' },
  { 'temperature', 0.8, 'sampling temperature' },
  { 'topK', 0, 'sample among the k likeliest characters (0: all)' },
  { 'prime', 'The ', 'text the sample starts from' },
  { 'chars', 0, 'use only about this many characters of the corpus (0: all)' },
  { 'quick', false, 'a smoke test: 1 epoch of 10 small batches on 20000 characters' },
  { 'seed', 1, 'random seed' },
  { 'bf16', false, 'products in bfloat16, float32 weights (nn.autocast)' },
  { 'out', args.scriptDir() .. '/out', 'folder for the model, log and plot' },
})
if opt.quick then
  opt.epochs, opt.steps, opt.batch, opt.seq, opt.dim, opt.layers, opt.chars, opt.sample =
    1, 10, 16, 32, 32, 1, 20000, 80
end
if opt.bf16 then nn.autocast('bfloat16') end   -- from here on: training, validation, sampling

torch.manualSeed(opt.seed)
args.mkdir(opt.out)
local corpus = text.corpus(nil, opt.out .. '/tiny_gpt_corpus.txt', opt.chars > 0 and opt.chars or nil)
local V = corpus.vocab.size

-- input (B, T) ids -> scores (B * T, V) of the next character at each position
local gpt = nn.GPT { vocab = V, dim = opt.dim, heads = opt.heads, layers = opt.layers,
                     maxLen = opt.seq, dropout = opt.dropout }
local model = nn.Sequential():add(gpt):add(nn.Flatten(1, 2))
local criterion = nn.CrossEntropyCriterion()

local paths = { model = opt.out .. '/tiny_gpt.t7', log = opt.out .. '/tiny_gpt.csv',
                plot = opt.out .. '/tiny_gpt.svg' }
print(model)
print(('corpus: %d train / %d validation characters, vocabulary %d; %d parameters')
      :format(corpus.train:nElement(), corpus.val:nElement(), V, text.parameterCount(model)))

local start = torch.clock()
local trainer = Trainer {
  model = model, criterion = criterion,
  train = text.randomBatches(corpus.train, opt.batch, opt.seq, opt.steps),
  val = text.windows(corpus.val, 64, opt.seq),
  optimizer = 'adamw', config = { learningRate = opt.lr, weightDecay = opt.weightDecay },
  epochs = opt.epochs, clipGradNorm = opt.clip,
  schedule = function(cfg)
    return optim.CosineAnnealingLR(cfg, { T_max = opt.epochs * opt.steps, eta_min = opt.lr / 10 })
  end,
  scheduleEvery = 'batch',
  metrics = { bpc = function(output, target) return text.bpc(criterion:forward(output, target)) end },
  log = paths.log, plot = paths.plot,
}
trainer:fit()
local seconds = torch.clock() - start
local _, values = trainer:evaluate(trainer.val)

-- Sampling: the scores of the next character from the last opt.seq characters.
local function sample(prime, n)
  model:evaluate()
  local ids = corpus.vocab:encode(prime):totable()
  local out = { prime }
  for _ = 1, n do
    local first = math.max(1, #ids - opt.seq + 1)
    local context = torch.LongTensor({ table.move(ids, first, #ids, 1, {}) })   -- (1, T)
    local scores = gpt:forward(context)[1]                                      -- (T, V)
    local id = text.draw(scores[scores:size(1)], opt.temperature, opt.topK)
    ids[#ids + 1] = id
    out[#out + 1] = corpus.vocab.itos[id]
  end
  return table.concat(out)
end

print(('sample (temperature %g%s):'):format(opt.temperature,
      opt.topK > 0 and (', top-%d'):format(opt.topK) or ''))
print(sample(opt.prime, opt.sample))
model:clearState()
torch.save(paths.model, { model = model, chars = corpus.vocab.itos, opt = opt })
print(('saved the model and vocabulary to %s; log %s, plot %s'):format(paths.model, paths.log, paths.plot))
print(('RESULT tiny_gpt val_bpc=%.3f epochs=%d train_time=%.1fs'):format(values.bpc, opt.epochs, seconds))
