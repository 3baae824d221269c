-- ember.data: reading training data and feeding it in batches.
--
--   local data = require 'ember.data'
--   local train = data.fashionMNIST('train')          -- 60000 samples, 1x28x28 in [0, 1]
--   local loader = data.DataLoader(train, {batchSize = 64, shuffle = true, seed = 1})
--   for i, x, y in loader:iter() do ... end           -- x 64x1x28x28 float, y 64 int64 1..10
--
-- Readers (C, src/data*.c; every error names the file and the position):
--   readIDX(path [, classes])   IDX file, .gz or plain -> tensor of its type (ByteTensor for
--                               MNIST); with classes, every value must be in 0..classes-1
--   readCSV(path [, opts])      numeric CSV -> FloatTensor rows x cols, header names (or nil)
--                               opts: header (true/false, default: detect), sep (','),
--                               missing (a number for empty fields; default: an error), dtype
--   readBytes(path)             ByteTensor of the file's bytes
--   readText(path [, mode])     LongTensor of 1-based token ids, vocabulary; mode 'char'
--                               (UTF-8 characters, default) or 'byte' (256 tokens)
--   readImage(path)             PNG, PGM, PPM -> ByteTensor C x H x W
--   writeImage(path, img)       .png, .pgm or .ppm by extension; img C x H x W or H x W,
--                               uint8, or float in [0, 1]
-- Batch ops (C, in place, on CPU tensors): gather, oneHot, normalize, randomCrop,
-- randomFlip; Generator(seed) for reproducible shuffling and augmentation.
-- Classes: Dataset, TensorDataset, DataLoader (Dataset.lua, DataLoader.lua);
-- transforms (transforms.lua).
local torch = require 'ember'

local data = torch.data          -- the C functions (src/lua_data.c); extended here
local C = {}
for k, v in pairs(data) do C[k] = v end

local Dataset = require 'ember.data.Dataset'
data.Dataset = Dataset.Dataset
data.TensorDataset = Dataset.TensorDataset
data.DataLoader = require 'ember.data.DataLoader'
data.transforms = require 'ember.data.transforms'

function data.readCSV(path, opts)
  opts = opts or {}
  return C.readCSV(path, opts.sep, opts.header, opts.missing, opts.dtype)
end

-- Vocabulary of readText: size, itos (id -> string), stoi (string -> id), encode(s) ->
-- LongTensor of ids, decode(ids) -> string.
local Vocab = {}
Vocab.__index = Vocab

function Vocab:encode(s)
  if self.mode == 'char' then return C.textEncode(s, self.chars) end
  local ids = torch.LongTensor(#s)
  for i = 1, #s do ids[i] = s:byte(i) + 1 end
  return ids
end

function Vocab:decode(ids)
  if self.mode == 'char' then return C.textDecode(ids, self.chars) end
  local parts = {}
  for i = 1, ids:nElement() do parts[i] = self.itos[ids[i]] end
  return table.concat(parts)
end

function data.readText(path, mode)
  mode = mode or 'char'
  local bytes = C.readBytes(path)
  local v = setmetatable({ mode = mode, itos = {}, stoi = {} }, Vocab)
  local ids
  if mode == 'char' then
    v.chars = C.textVocab(bytes, path)
    ids = C.textEncode(bytes, v.chars, path)
    for i = 1, v.chars:nElement() do v.itos[i] = utf8.char(v.chars[i]) end
  elseif mode == 'byte' then
    ids = bytes:long():add(1)
    for i = 1, 256 do v.itos[i] = string.char(i - 1) end
  else
    error(("readText: mode must be 'char' or 'byte', got %s"):format(tostring(mode)), 2)
  end
  for i, s in ipairs(v.itos) do v.stoi[s] = i end
  v.size = #v.itos
  return ids, v
end

function data.writeImage(path, img)
  if img:dtype() ~= 'uint8' then img = img:double():mul(255):round():clamp(0, 255):byte() end
  local ext = path:match('%.(%w+)$')
  ext = ext and ext:lower()
  if ext == 'png' then C.writePNG(path, img)
  elseif ext == 'pgm' or ext == 'ppm' or ext == 'pnm' then C.writePNM(path, img)
  else error(("writeImage: %s: unknown extension (use .png, .pgm or .ppm)"):format(path), 2) end
end

-- A TensorDataset of an IDX image file and an IDX label file: images N x 1 x H x W as
-- float32 in [0, 1], labels int64 in 1..classes.
function data.idxDataset(imagesPath, labelsPath, classes)
  local images = C.readIDX(imagesPath)
  local labels = C.readIDX(labelsPath, classes)
  if images:dim() ~= 3 or labels:dim() ~= 1 or images:size(1) ~= labels:size(1) then
    error(('idxDataset: %s holds %s, %s holds %s: expected N x H x W images and N labels')
          :format(imagesPath, table.concat(images:sizeTable(), 'x'), labelsPath,
                  table.concat(labels:sizeTable(), 'x')), 2)
  end
  local n, h, w = images:size(1), images:size(2), images:size(3)
  return data.TensorDataset({ images:view(n, 1, h, w), dtype = 'float32', scale = 1 / 255 },
                            { labels, dtype = 'int64', shift = 1 })
end

-- Fashion-MNIST as Debian's dataset-fashion-mnist installs it; split 'train' (60000)
-- or 'test' (10000); classes 1..10 (T-shirt/top, Trouser, ..., Ankle boot).
function data.fashionMNIST(split, dir)
  dir = dir or '/usr/share/datasets/fashion-mnist'
  local prefix = ({ train = 'train', test = 't10k' })[split or 'train']
  if not prefix then error(("fashionMNIST: split must be 'train' or 'test', got %s"):format(split), 2) end
  return data.idxDataset(('%s/%s-images-idx3-ubyte.gz'):format(dir, prefix),
                         ('%s/%s-labels-idx1-ubyte.gz'):format(dir, prefix), 10)
end

data.fashionMNISTClasses = { 'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
                             'Shirt', 'Sneaker', 'Bag', 'Ankle boot' }

return data
