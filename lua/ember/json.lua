-- A minimal JSON encoder and decoder for file headers (safetensors): objects, arrays,
-- strings, numbers, true/false/null. Decoding is strict and bounded (depth, no
-- trailing data) because headers come from untrusted files; errors name the position.
local json = {}

local MAX_DEPTH = 64

-- json.null stands for null inside decoded arrays and objects.
json.null = setmetatable({}, { __tostring = function() return 'null' end })

---------------------------------------------------------------------------- encoding

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
                  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function encodeString(s)
  if not utf8.len(s) then error('json.encode: a string is not valid UTF-8', 0) end
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or ('\\u%04x'):format(c:byte())
  end) .. '"'
end

local encode

-- A table with keys 1..n only (n >= 1) is an array; anything else is an object with
-- string keys, written in sorted order so equal tables give equal text.
local function encodeTable(t, out, depth)
  if depth > MAX_DEPTH then error('json.encode: nested deeper than ' .. MAX_DEPTH, 0) end
  local n, count = #t, 0
  for _ in pairs(t) do count = count + 1 end
  if n > 0 and count == n then
    out[#out + 1] = '['
    for i = 1, n do
      if i > 1 then out[#out + 1] = ',' end
      encode(t[i], out, depth + 1)
    end
    out[#out + 1] = ']'
    return
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= 'string' then error('json.encode: object keys must be strings, got ' .. type(k), 0) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  out[#out + 1] = '{'
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = ',' end
    out[#out + 1] = encodeString(k)
    out[#out + 1] = ':'
    encode(t[k], out, depth + 1)
  end
  out[#out + 1] = '}'
end

function encode(v, out, depth)
  local ty = type(v)
  if v == nil or v == json.null then out[#out + 1] = 'null'
  elseif ty == 'boolean' then out[#out + 1] = tostring(v)
  elseif ty == 'string' then out[#out + 1] = encodeString(v)
  elseif math.type(v) == 'integer' then out[#out + 1] = ('%d'):format(v)
  elseif ty == 'number' then
    if v ~= v or v == math.huge or v == -math.huge then error('json.encode: ' .. tostring(v) .. ' is not JSON', 0) end
    out[#out + 1] = ('%.17g'):format(v)
  elseif ty == 'table' then encodeTable(v, out, depth)
  else error('json.encode: cannot encode a ' .. ty, 0) end
end

-- json.encode(v) -> string
function json.encode(v)
  local out = {}
  encode(v, out, 0)
  return table.concat(out)
end

---------------------------------------------------------------------------- decoding

local function fail(s, i, what)
  error(('json: %s at character %d'):format(what, i), 0)
end

local function skip(s, i) return s:find('[^ \t\r\n]', i) or #s + 1 end

local decodeValue

local function utf8char(s, i, cp)
  if cp >= 0xD800 and cp <= 0xDBFF then    -- a surrogate pair: \uD83D\uDE00
    local lo = s:match('^\\u(%x%x%x%x)', i)
    lo = lo and tonumber(lo, 16)
    if not lo or lo < 0xDC00 or lo > 0xDFFF then fail(s, i, 'unpaired surrogate') end
    return utf8.char(0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)), i + 6
  end
  if cp >= 0xDC00 and cp <= 0xDFFF then fail(s, i, 'unpaired surrogate') end
  return utf8.char(cp), i
end

local function decodeString(s, i)   -- s:sub(i, i) == '"'
  local parts, j = {}, i + 1
  while true do
    local k = s:find('["\\%c]', j)
    if not k then fail(s, i, 'unterminated string') end
    parts[#parts + 1] = s:sub(j, k - 1)
    local c = s:sub(k, k)
    if c == '"' then return table.concat(parts), k + 1 end
    if c ~= '\\' then fail(s, k, 'control character in a string') end
    local e = s:sub(k + 1, k + 1)
    local simple = ({ ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t' })[e]
    if simple then
      parts[#parts + 1], j = simple, k + 2
    elseif e == 'u' then
      local hex = s:match('^%x%x%x%x', k + 2)
      if not hex then fail(s, k, 'bad \\u escape') end
      parts[#parts + 1], j = utf8char(s, k + 6, tonumber(hex, 16))
    else
      fail(s, k, 'bad escape')
    end
  end
end

-- -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][-+]?[0-9]+)?; integers stay Lua integers when they fit
local function decodeNumber(s, i)
  local j = s:sub(i, i) == '-' and i + 1 or i
  local int = s:match('^%d+', j)
  if not int or (#int > 1 and int:sub(1, 1) == '0') then fail(s, i, 'bad number') end
  j = j + #int
  local frac = s:match('^%.%d+', j)
  if frac then j = j + #frac end
  local exp = s:match('^[eE][-+]?%d+', j)
  if exp then j = j + #exp end
  return tonumber(s:sub(i, j - 1)), j
end

local function decodeArray(s, i, depth)
  local t, n = {}, 0
  i = skip(s, i + 1)
  if s:sub(i, i) == ']' then return t, i + 1 end
  while true do
    local v
    v, i = decodeValue(s, i, depth + 1)
    n = n + 1
    t[n] = v
    i = skip(s, i)
    local c = s:sub(i, i)
    if c == ']' then return t, i + 1 end
    if c ~= ',' then fail(s, i, "expected ',' or ']'") end
    i = skip(s, i + 1)
  end
end

local function decodeObject(s, i, depth)
  local t = {}
  i = skip(s, i + 1)
  if s:sub(i, i) == '}' then return t, i + 1 end
  while true do
    if s:sub(i, i) ~= '"' then fail(s, i, 'expected a string key') end
    local k, v
    k, i = decodeString(s, i)
    i = skip(s, i)
    if s:sub(i, i) ~= ':' then fail(s, i, "expected ':'") end
    if t[k] ~= nil then fail(s, i, 'duplicate key "' .. k .. '"') end
    v, i = decodeValue(s, skip(s, i + 1), depth + 1)
    t[k] = v
    i = skip(s, i)
    local c = s:sub(i, i)
    if c == '}' then return t, i + 1 end
    if c ~= ',' then fail(s, i, "expected ',' or '}'") end
    i = skip(s, i + 1)
  end
end

function decodeValue(s, i, depth)
  if depth > MAX_DEPTH then fail(s, i, 'nested deeper than ' .. MAX_DEPTH) end
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == '{' then return decodeObject(s, i, depth)
  elseif c == '[' then return decodeArray(s, i, depth)
  elseif c == '"' then return decodeString(s, i)
  elseif c == '-' or c:match('%d') then return decodeNumber(s, i)
  elseif s:sub(i, i + 3) == 'true' then return true, i + 4
  elseif s:sub(i, i + 4) == 'false' then return false, i + 5
  elseif s:sub(i, i + 3) == 'null' then return json.null, i + 4
  end
  fail(s, i, c == '' and 'unexpected end' or 'unexpected character')
end

-- json.decode(s) -> value (null as json.null); raises 'json: ... at character N'
function json.decode(s)
  local v, i = decodeValue(s, 1, 0)
  i = skip(s, i)
  if i <= #s then fail(s, i, 'trailing characters') end
  return v
end

return json
