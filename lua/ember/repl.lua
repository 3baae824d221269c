-- The Lua half of the ember REPL (src/lua_repl.c): how results are shown, what Tab
-- completes, and `?expr` help. Nothing here runs outside the REPL.
local help = require 'ember.help'

local repl = {}

local MAX_ITEMS = 30   -- entries shown per table
local MAX_DEPTH = 3    -- nesting shown before `{...}`
local WIDTH = 78       -- a table fitting in this many columns prints on one line

local function core() return package.loaded['ember.core'] end

local function is_tensor(v)
  local c = core()
  return c ~= nil and c.isTensor(v)
end

-- `torch.FloatTensor of size 2x3` (or `of size empty`)
local function tensor_brief(t)
  local dims = t:dim() == 0 and 'empty' or table.concat(t:sizeTable(), 'x')
  return ('%s of size %s'):format(t:type(), dims)
end

-- A tensor on its own: tostring (lua/ember/print.lua), or a one-line summary when
-- printing has not been installed and tostring is Lua's default `torch.Tensor: 0x...`.
local function tensor_text(t)
  local s = tostring(t)
  if s:match('^torch%.Tensor: 0x') then return tensor_brief(t) end
  return s
end

local function is_identifier(k)
  return type(k) == 'string' and k:match('^[%a_][%w_]*$') ~= nil
end

-- Keys of t in display order: 1..n first, then the rest sorted by their text.
local function ordered_keys(t)
  local keys, n = {}, #t
  for i = 1, n do keys[i] = i end
  local rest = {}
  for k in pairs(t) do
    if not (math.type(k) == 'integer' and k >= 1 and k <= n) then rest[#rest + 1] = k end
  end
  table.sort(rest, function(a, b)
    if type(a) ~= type(b) then return type(a) < type(b) end
    if type(a) == 'number' or type(a) == 'string' then return a < b end
    return tostring(a) < tostring(b)
  end)
  table.move(rest, 1, #rest, n + 1, keys)
  return keys, n
end

local format

local function format_table(t, depth, seen, indent)
  local mt = getmetatable(t)
  if type(mt) == 'table' and mt.__tostring then return tostring(t) end
  if seen[t] then return '<cycle>' end
  if depth > MAX_DEPTH then return next(t) == nil and '{}' or '{...}' end
  seen[t] = true
  local keys, n = ordered_keys(t)
  local parts = {}
  for i, k in ipairs(keys) do
    if i > MAX_ITEMS then
      parts[#parts + 1] = ('... (%d more)'):format(#keys - MAX_ITEMS)
      break
    end
    local v = format(t[k], depth + 1, seen, indent .. '  ')
    if math.type(k) == 'integer' and k >= 1 and k <= n then parts[#parts + 1] = v
    elseif is_identifier(k) then parts[#parts + 1] = k .. ' = ' .. v
    else parts[#parts + 1] = '[' .. format(k, depth + 1, seen, indent) .. '] = ' .. v end
  end
  seen[t] = nil
  if #parts == 0 then return '{}' end
  local line = '{' .. table.concat(parts, ', ') .. '}'
  if #line + #indent <= WIDTH and not line:find('\n') then return line end
  -- one entry per line, except that short entries share lines up to WIDTH
  local lines, cur, pad = {}, nil, indent .. '  '
  for i, p in ipairs(parts) do
    p = p .. (i < #parts and ',' or '')
    if cur and not p:find('\n') and #cur + 1 + #p <= WIDTH then
      cur = cur .. ' ' .. p
    else
      if cur then lines[#lines + 1] = cur end
      cur = pad .. p
      if p:find('\n') then lines[#lines + 1] = cur; cur = nil end
    end
  end
  lines[#lines + 1] = cur
  return '{\n' .. table.concat(lines, '\n') .. '\n' .. indent .. '}'
end

-- The text of v inside a table: strings quoted, tensors as a one-line summary.
function format(v, depth, seen, indent)
  if type(v) == 'string' then return ('%q'):format(v) end
  if type(v) == 'table' then return format_table(v, depth, seen, indent) end
  if is_tensor(v) then return tensor_brief(v) end
  return tostring(v)
end

-- The text the REPL prints for one result value.
function repl.format(v)
  if type(v) == 'table' then return format_table(v, 1, {}, '') end
  if is_tensor(v) then return tensor_text(v) end
  return tostring(v)
end

-- Prints the results of one evaluation, tab-separated as print does.
function repl.show(...)
  local out = {}
  for i = 1, select('#', ...) do out[i] = repl.format((select(i, ...))) end
  io.write(table.concat(out, '\t'), '\n')
end

local KEYWORDS = {
  'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if',
  'in', 'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
}

-- v[k] without letting a failing __index escape.
local function get(v, k)
  if type(v) == 'table' and rawget(v, k) ~= nil then return rawget(v, k) end
  local ok, r = pcall(function() return v[k] end)
  if ok then return r end
end

-- Calls add(key, value) for the names reachable from v by `.` or `:`: a table's
-- keys and those of its __index chain, and the names its metatable lists as __names
-- (fields an __index function loads on first use, as nn's classes); a tensor's
-- methods; a string's library.
local function each_field(v, add)
  if is_tensor(v) then
    for k, f in pairs(core().methods) do add(k, f) end
    return
  end
  if type(v) == 'string' then v = string end
  for _ = 1, 10 do   -- __index chains are short; this also stops on loops
    if type(v) == 'table' then
      for k, f in pairs(v) do add(k, f) end
    end
    local mt = getmetatable(v)
    if type(mt) == 'table' and type(rawget(mt, '__names')) == 'table' then
      for _, k in ipairs(mt.__names) do add(k, true) end   -- loaded on first use (nn)
    end
    v = type(mt) == 'table' and rawget(mt, '__index') or nil
    if type(v) ~= 'table' then return end
  end
end

-- Tab completion of `word` (a global, `a.b.c`, or `x:meth`). Returns the sorted
-- whole words that extend it, and the character to append to a single match
-- ('(' after a function).
function repl.complete(word)
  local head, sep, stem = word:match('^(.-)([.:]?)([%w_]*)$')
  if not head then return {} end
  local found, list = {}, {}
  local function add(k, v)
    if is_identifier(k) and k:sub(1, #stem) == stem and not found[k]
        and (sep ~= ':' or type(v) == 'function') then
      found[k] = v == nil and false or v
      list[#list + 1] = k
    end
  end
  if sep == '' then
    if head ~= '' then return {} end
    each_field(_G, add)
    for _, k in ipairs(KEYWORDS) do add(k, nil) end
  else
    local v = _G
    for part in (head .. '.'):gmatch('([^.]*)%.') do
      if not is_identifier(part) then return {} end
      v = get(v, part)
      if v == nil then return {} end
    end
    each_field(v, add)
  end
  table.sort(list)
  local append = ''
  if #list == 1 and type(found[list[1]]) == 'function' then append = '(' end
  for i, k in ipairs(list) do list[i] = head .. sep .. k end
  return list, append
end

-- `?expr`: help for expr's value (`?x:view` reads as x.view); `?` alone: the overview.
function repl.helpline(expr)
  expr = expr:match('^%s*(.-)%s*$')
  if expr == '' then return help.help() end
  local chunk = load('return ' .. expr:gsub(':([%a_][%w_]*)$', '.%1'), '=stdin', 't')
  local ok, v = pcall(chunk or error)
  help.help(ok and v or nil, expr)
end

repl.help = help.help

return repl
