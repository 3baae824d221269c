-- The fuzz loop of fuzz_spec.lua, run in a child lua5.4 so that a crash fails the spec
-- instead of killing busted. Usage: lua5.4 fuzz_t7.lua <fixture dir>
-- Every fixture is truncated at many lengths, has bytes set to edge values, has 4- and
-- 8-byte fields overwritten with huge or negative counts, and is randomly corrupted;
-- hand-made hostile files follow. Each case must load or raise a "load: ..." error.
-- Prints "fuzz: cases=N loaded=L refused=R" and exits 0, or prints the bad case and
-- exits 2.
local torch = require 'torch'
require 'nn'

local dir = assert(arg[1], 'usage: lua5.4 fuzz_t7.lua <fixture dir>')
local stats = { cases = 0, loaded = 0, refused = 0 }

-- Reads every element of every tensor reachable from obj (a bad view would read out
-- of bounds here), skipping only broadcast views too large to copy.
local function touch(obj, seen)
  if torch.isTensor(obj) then
    if obj:nElement() > 0 and obj:nElement() <= 1e7 then
      local s = obj:double():sum()
      assert(s == s or s ~= s)
    end
  elseif type(obj) == 'table' and not seen[obj] then
    seen[obj] = true
    for k, v in next, obj do
      touch(k, seen)
      touch(v, seen)
    end
  end
end

local function try(bytes, format, label)
  stats.cases = stats.cases + 1
  local ok, res = pcall(torch.deserialize, bytes, format)
  if ok then
    stats.loaded = stats.loaded + 1
    local fine, err = pcall(touch, res, {})
    if not fine then
      print(('fuzz: %s loaded but its contents fail: %s'):format(label, err))
      os.exit(2)
    end
  elseif type(res) == 'string' and res:find('^load: ') then
    stats.refused = stats.refused + 1
  else
    print(('fuzz: %s raised a malformed error: %s'):format(label, tostring(res)))
    os.exit(2)
  end
  if stats.cases % 2000 == 0 then collectgarbage() end
end

local function put(s, pos, piece) return s:sub(1, pos - 1) .. piece .. s:sub(pos + #piece) end

-- Byte ranges worth mutating densely: everything except the bodies of big storages
-- (a flipped float inside them is just another float).
local function regions(s)
  local out, from = {}, 1
  for at in s:gmatch('()torch%.%a+Storage') do
    local nameEnd = at + #s:match('torch%.%a+Storage', at)
    local n = #s >= nameEnd + 7 and string.unpack('<i8', s, nameEnd) or 0
    if n > 256 then
      out[#out + 1] = { from, math.min(#s, nameEnd + 8 + 64) }
      from = nameEnd + 8 + n * 4 - 64
    end
  end
  if from <= #s then out[#out + 1] = { from, #s } end
  return out
end

local edge = { 0x00, 0xff, 0x80, 0x7f, 0x01, 0x09 }
local ints = { string.pack('<i4', 0x7fffffff), string.pack('<i4', -1), string.pack('<i4', -0x80000000),
               string.pack('<i4', 9), string.pack('<i4', 6), string.pack('<i4', 0) }
local longs = { string.pack('<i8', math.maxinteger), string.pack('<i8', -1), string.pack('<i8', 1 << 40),
                string.pack('<i8', 1 << 62), string.pack('<i8', 0) }
local asciiPieces = { '9', '-', ' ', '\n', 'x', '99999999999', '-1', '2147483648', '1e999', 'nan' }

-- Mutates bytes s in every way above; a big file (mlp_trained.t7, 4 MB) gets fewer
-- cases (each costs a 4 MB copy): the small model written below covers its structure.
local function fuzzBytes(s, format, label)
  try(s, format, label)
  local big = #s > 100000
  for len = 0, #s - 1, big and math.max(1, #s // 200) or 1 do try(s:sub(1, len), format, label .. ' cut') end
  for len = 0, big and 1500 or -1, 3 do try(s:sub(1, len), format, label .. ' cut') end
  local rs = format == 'binary' and regions(s) or { { 1, #s } }
  for _, r in ipairs(big and {} or rs) do
    for pos = r[1], r[2] do
      local b = s:byte(pos)
      for _, v in ipairs(edge) do try(put(s, pos, string.char(v)), format, label .. ' byte ' .. pos) end
      try(put(s, pos, string.char(b ~ 0x10)), format, label .. ' flip ' .. pos)
      if format == 'binary' then
        for _, v in ipairs(ints) do try(put(s, pos, v), format, label .. ' int32 at ' .. pos) end
        for _, v in ipairs(longs) do try(put(s, pos, v), format, label .. ' int64 at ' .. pos) end
      else
        for _, v in ipairs(asciiPieces) do try(put(s, pos, v), format, label .. ' text at ' .. pos) end
      end
    end
  end
  math.randomseed(#s)
  local r = rs[1]
  for i = 1, big and 100 or 1000 do
    local m = s
    for _ = 1, math.random(1, 8) do m = put(m, math.random(r[1], r[2]), string.char(math.random(0, 255))) end
    try(m, format, label .. ' random ' .. i)
  end
end

local function fuzzFile(name, format)
  local f = assert(io.open(dir .. name, 'rb'))
  local s = f:read('a')
  f:close()
  local t0, c0 = os.clock(), stats.cases
  fuzzBytes(s, format, name .. ' (' .. format .. ')')
  if os.getenv('FUZZ_VERBOSE') then print(name, stats.cases - c0, os.clock() - t0) end
end

for _, name in ipairs { 'float_3x4_arange.t7', 'double_2x3.t7', 'long_5.t7', 'byte_4.t7', 'float_transposed_4x3.t7',
                        'table.t7', 'shared_refs.t7', 'function.t7', 'mlp_output.t7', 'mlp_input.t7', 'mlp_trained.t7' } do
  fuzzFile(name, 'binary')
end
for _, name in ipairs { 'float_3x4_arange_ascii.t7', 'table_ascii.t7' } do fuzzFile(name, 'ascii') end
-- GPU tensors as cutorch wrote them (hand-built: spec/io/fixtures/cuda/make.lua)
fuzzFile('../cuda/cutorch_tensors.t7', 'binary')
fuzzFile('../cuda/cutorch_tensors_ascii.t7', 'ascii')

-- A small model shaped like mlp_trained.t7: parameters viewing one flat storage.
local model = nn.Sequential():add(nn.Linear(3, 2)):add(nn.ReLU()):add(nn.Linear(2, 2)):add(nn.LogSoftMax())
model:getParameters()
fuzzBytes(torch.serialize(model), 'binary', 'small model')
fuzzBytes(torch.serialize(model, 'ascii'), 'ascii', 'small model')

-- Hand-made hostile files.
local i4, i8, d = function(v) return string.pack('<i4', v) end, function(v) return string.pack('<i8', v) end,
                  function(v) return string.pack('<d', v) end
local function str(s) return i4(#s) .. s end
local function tensor(idx, nd, sizes, strides, offset, storage)
  local t = i4(4) .. i4(idx) .. str('V 1') .. str('torch.FloatTensor') .. i4(nd)
  for _, v in ipairs(sizes) do t = t .. i8(v) end
  for _, v in ipairs(strides) do t = t .. i8(v) end
  return t .. i8(offset) .. storage
end
local function storage(idx, n, data) return i4(4) .. i4(idx) .. str('V 1') .. str('torch.FloatStorage') .. i8(n) .. data end
local four = storage(2, 4, ('\0'):rep(16))
local hostile = {
  deep = (function()
    local parts = {}
    for i = 1, 20000 do parts[i] = i4(3) .. i4(i) .. i4(1) .. i4(1) .. d(1) end
    return table.concat(parts) .. i4(0)
  end)(),
  pairs = i4(3) .. i4(1) .. i4(0x7fffffff),
  string = i4(2) .. i4(0x7fffffff) .. 'abc',
  storage = storage(1, 1 << 62, ''),
  dims9 = tensor(1, 9, {}, {}, 1, four),
  negsize = tensor(1, 1, { -1 }, { 1 }, 1, four),
  offset0 = tensor(1, 1, { 4 }, { 1 }, 0, four),
  offsetPast = tensor(1, 1, { 1 }, { 1 }, 5, four),
  stridePast = tensor(1, 2, { 2, 2 }, { 3, 1 }, 1, four),
  overflow = tensor(1, 2, { 1 << 62, 1 << 62 }, { 0, 0 }, 1, four),
  noStorage = tensor(1, 1, { 4 }, { 1 }, 1, i4(0)),
  tableStorage = tensor(1, 1, { 4 }, { 1 }, 1, i4(3) .. i4(2) .. i4(0)),
  wrongDtype = tensor(1, 1, { 1 }, { 1 }, 1, i4(4) .. i4(2) .. str('V 1') .. str('torch.DoubleStorage') .. i8(1) .. d(1)),
  selfStorage = tensor(1, 1, { 1 }, { 1 }, 1, i4(4) .. i4(1)),
  nilKey = i4(3) .. i4(1) .. i4(1) .. i4(0) .. i4(1) .. d(1),
  nanKey = i4(3) .. i4(1) .. i4(1) .. i4(1) .. d(0 / 0) .. i4(1) .. d(1),
  badTag = i4(99),
  fnTag6 = i4(6) .. i4(1) .. str('\27Lua'),
  fnTag7 = i4(7) .. i4(1),
  cudaOverFloat = i4(4) .. i4(1) .. str('V 1') .. str('torch.CudaTensor') .. i4(1) .. i8(1) .. i8(1) .. i8(1)
                  .. storage(2, 1, ('\0'):rep(4)),
  floatOverCuda = tensor(1, 1, { 1 }, { 1 }, 1, i4(4) .. i4(2) .. str('V 1') .. str('torch.CudaStorage') .. i8(1)
                                                .. ('\0'):rep(4)),
  cudaStorageHuge = i4(4) .. i4(1) .. str('V 1') .. str('torch.CudaLongStorage') .. i8(1 << 61),
  instanceNotTable = i4(4) .. i4(1) .. str('V 1') .. str('nn.Linear') .. i4(1) .. d(3),
}
for name, bytes in pairs(hostile) do
  local ok = pcall(torch.deserialize, bytes, 'binary')
  if ok then print('fuzz: hostile file ' .. name .. ' loaded') os.exit(2) end
  try(bytes, 'binary', 'hostile ' .. name)
end

print(('fuzz: cases=%d loaded=%d refused=%d'):format(stats.cases, stats.loaded, stats.refused))
os.exit(0)
