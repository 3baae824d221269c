-- A character-level LSTM language model (Karpathy's char-rnn) on the fortunes of
-- Debian's fortunes-min package: embedding, LSTM, dropout, a linear layer to the next
-- character's scores. Trained by ember.Trainer on random windows (Adam, gradient
-- clipping); reports the validation loss in bits per character and samples text,
-- carrying the LSTM's state from one character to the next.
--   ember examples/char_rnn.lua [--epochs 15 --hidden 256 --seq 64 --temperature 0.8 ...]
package.path = (arg[0]:match('^(.*)/[^/]*$') or '.') .. '/?.lua;' .. package.path
local torch = require 'torch'
local nn = require 'nn'
local Trainer = require 'ember.Trainer'
local args = require 'lib.args'
local text = require 'lib.text'

local opt = args.parse(arg, 'ember examples/char_rnn.lua [flags]', {
  { 'epochs', 15, 'training epochs' },
  { 'steps', 60, 'batches per epoch' },
  { 'batch', 32, 'sequences per batch' },
  { 'seq', 64, 'characters per sequence (backpropagation through time)' },
  { 'embed', 64, 'embedding size' },
  { 'hidden', 256, 'LSTM state size' },
  { 'layers', 1, 'LSTM layers' },
  { 'dropout', 0.2, 'dropout on the LSTM output' },
  { 'lr', 3e-3, 'Adam learning rate' },
  { 'clip', 5, 'gradient norm clipping' },
  { 'sample', 300, 'characters to sample at the end' },
  { 'temperature', 0.8, 'sampling temperature' },
  { 'prime', 'The ', 'text the sample starts from' },
  { 'chars', 0, 'use only about this many characters of the corpus (0: all)' },
  { 'quick', false, 'a smoke test: 1 epoch of 10 small batches on 20000 characters' },
  { 'seed', 1, 'random seed' },
  { 'out', args.scriptDir() .. '/out', 'folder for the model, log and plot' },
})
if opt.quick then
  opt.epochs, opt.steps, opt.batch, opt.seq, opt.hidden, opt.chars, opt.sample = 1, 10, 16, 32, 64, 20000, 80
end

torch.manualSeed(opt.seed)
args.mkdir(opt.out)
local corpus = text.corpus(nil, opt.out .. '/char_rnn_corpus.txt', opt.chars > 0 and opt.chars or nil)
local V = corpus.vocab.size

-- input (B, T) ids -> scores (B * T, V) of the next character
local lookup = nn.LookupTable(V, opt.embed)
local lstm = nn.LSTM(opt.embed, opt.hidden, opt.layers, true)       -- batch first
local head = nn.Linear(opt.hidden, V)
local model = nn.Sequential():add(lookup):add(lstm):add(nn.Dropout(opt.dropout))
  :add(nn.Flatten(1, 2)):add(head)
local criterion = nn.CrossEntropyCriterion()

local paths = { model = opt.out .. '/char_rnn.t7', log = opt.out .. '/char_rnn.csv',
                plot = opt.out .. '/char_rnn.svg' }
print(model)
print(('corpus: %d train / %d validation characters, vocabulary %d; %d parameters')
      :format(corpus.train:nElement(), corpus.val:nElement(), V, text.parameterCount(model)))

local start = torch.clock()
local trainer = Trainer {
  model = model, criterion = criterion,
  train = text.randomBatches(corpus.train, opt.batch, opt.seq, opt.steps),
  val = text.windows(corpus.val, 64, opt.seq),
  optimizer = 'adam', config = { learningRate = opt.lr }, epochs = opt.epochs,
  clipGradNorm = opt.clip,
  metrics = { bpc = function(output, target) return text.bpc(criterion:forward(output, target)) end },
  log = paths.log, plot = paths.plot,
}
trainer:fit()
local seconds = torch.clock() - start
local _, values = trainer:evaluate(trainer.val)

-- Sampling: one character at a time, the LSTM's state (h, c) carried over.
local function sample(prime, n)
  model:evaluate()
  local h = torch.zeros(opt.layers, 1, opt.hidden)
  local c = torch.zeros(opt.layers, 1, opt.hidden)
  local out, scores = { prime }, nil
  local function step(id)
    local x = lookup:forward(torch.LongTensor({ { id } }))          -- (1, 1, E)
    local y = lstm:forward({ x, h, c })                             -- (1, 1, H)
    h, c = lstm.hN:clone(), lstm.cN:clone()
    scores = head:forward(y:view(1, opt.hidden))[1]                 -- (V)
  end
  local ids = corpus.vocab:encode(prime)
  for i = 1, ids:nElement() do step(ids[i]) end
  for _ = 1, n do
    local id = text.draw(scores, opt.temperature)
    out[#out + 1] = corpus.vocab.itos[id]
    step(id)
  end
  return table.concat(out)
end

print(('sample (temperature %g):'):format(opt.temperature))
print(sample(opt.prime, opt.sample))
model:clearState()
torch.save(paths.model, { model = model, chars = corpus.vocab.itos, opt = opt })
print(('saved the model and vocabulary to %s; log %s, plot %s'):format(paths.model, paths.log, paths.plot))
print(('RESULT char_rnn val_bpc=%.3f epochs=%d train_time=%.1fs'):format(values.bpc, opt.epochs, seconds))
