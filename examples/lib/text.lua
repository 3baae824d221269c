-- The corpus and batches of the language-model examples (char_rnn.lua, tiny_gpt.lua):
-- the fortunes of Debian's fortunes-min package (about 98 KB of English: fortunes,
-- literature quotes, riddles), one character per token. Every 10th fortune is held out
-- for validation. Batches are (B, T) windows of token ids and their next characters.
local torch = require 'torch'
local data = require 'ember.data'

local text = {}

text.fortuneFiles = { '/usr/share/games/fortunes/fortunes', '/usr/share/games/fortunes/literature',
                      '/usr/share/games/fortunes/riddles' }

local function readAll(path)
  local f, err = io.open(path, 'rb')
  if not f then
    error(('%s (the corpus comes with the Debian package fortunes-min: make deps)'):format(err), 0)
  end
  local s = f:read('a')
  f:close()
  return s
end

-- Reads the files (a list of paths; default the fortunes) and returns
--   { vocab = ember.data vocabulary, train = LongTensor ids, val = LongTensor ids }
-- The files are cut into pieces at their "%" lines (fortune files) and every 10th
-- piece goes to validation. `chars` (optional) keeps only about that many characters.
-- The whole text is written to `cachePath` once, to build the vocabulary from it.
function text.corpus(files, cachePath, chars)
  local pieces = {}
  for _, path in ipairs(files or text.fortuneFiles) do
    local s = readAll(path):gsub('\r\n', '\n')
    for piece in (s .. '\n%\n'):gmatch('(.-\n)%%\n') do pieces[#pieces + 1] = piece .. '%\n' end
  end
  local train, val, n = {}, {}, 0
  for i, piece in ipairs(pieces) do
    if chars and n >= chars then break end
    if i % 10 == 0 then val[#val + 1] = piece else train[#train + 1] = piece end
    n = n + #piece
  end
  local all = table.concat(train) .. table.concat(val)
  local f = assert(io.open(cachePath, 'wb'))
  f:write(all)
  f:close()
  local _, vocab = data.readText(cachePath)
  return { vocab = vocab, train = vocab:encode(table.concat(train)), val = vocab:encode(table.concat(val)) }
end

-- A loader of `steps` random batches per epoch from the ids: input (B, T) and target
-- (B * T), the next character of each input position (flat, as the models' outputs
-- are (B * T, V)). Usable by ember.Trainer (iter() and #).
function text.randomBatches(ids, B, T, steps)
  local n = ids:nElement()
  assert(n > T + 1, 'text: the corpus is shorter than one sequence')
  local offsets = torch.range(0, T, 'int64'):view(1, T + 1):expand(B, T + 1)
  local loader = {}
  function loader.iter()
    local i = 0
    return function()
      i = i + 1
      if i > steps then return nil end
      local starts = torch.LongTensor(B, 1):random(1, n - T)
      local idx = (starts:expand(B, T + 1) + offsets):reshape(B * (T + 1))
      local w = ids:index(1, idx):view(B, T + 1)
      return i, w:narrow(2, 1, T):contiguous(), w:narrow(2, 2, T):contiguous():view(B * T)
    end
  end
  return setmetatable(loader, { __len = function() return steps end })
end

-- A loader of the whole id sequence in order, as batches of up to B non-overlapping
-- windows of length T (the last partial window is left out): every character of the
-- validation text is predicted once, from the context of its window.
function text.windows(ids, B, T)
  local count = (ids:nElement() - 1) // T
  assert(count >= 1, 'text: the validation text is shorter than one sequence')
  local x = ids:narrow(1, 1, count * T):view(count, T)
  local y = ids:narrow(1, 2, count * T):view(count, T)
  local loader = {}
  function loader.iter()
    local i = 0
    return function()
      i = i + 1
      local first = (i - 1) * B + 1
      if first > count then return nil end
      local b = math.min(B, count - first + 1)
      return i, x:narrow(1, first, b), y:narrow(1, first, b):contiguous():view(b * T)
    end
  end
  return setmetatable(loader, { __len = function() return (count + B - 1) // B end })
end

-- Draws one token from scores (V): softmax(scores / temperature), restricted to the
-- topK highest when topK > 0. Returns the 1-based id.
function text.draw(scores, temperature, topK)
  local s = scores:double():div(math.max(temperature, 1e-6))
  local idx
  if topK and topK > 0 and topK < s:nElement() then s, idx = s:topk(topK, 1, true) end
  local p = (s - s:max()):exp()
  local k = torch.multinomial(p:div(p:sum()), 1)[1]
  return idx and idx[k] or k
end

-- bits per character from a mean loss in nats
function text.bpc(nats) return nats / math.log(2) end

-- The number of parameters of a model.
function text.parameterCount(model)
  local n = 0
  for _, p in ipairs(model:parameters()) do n = n + p:nElement() end
  return n
end

return text
