-- Torch7's tensor printing (torch7 Tensor.lua: Storage__printformat, Tensor__printMatrix,
-- Tensor__printTensor), plus PyTorch-style summaries so that large tensors print fast.
--
--   1-D: one element per line.  2-D: rows, in "Columns a to b" blocks when wider than
--   linewidth.  3-D and up: one "(i,j,.,.) = " matrix per leading index.  Then a footer,
--   "[torch.FloatTensor of size 2x3]", and a newline (so print shows a blank line, as in
--   Torch7); a tensor without dimensions is "[torch.FloatTensor with no dimension]".
-- One format for the whole tensor: integer values (of any dtype) without decimals,
-- "%N.4f" with a common scale line ("0.001 *", Torch7's %g of a power of ten) when all
-- values are large or small, "%11.4e" when they span more than four decades. BoolTensor
-- prints true/false. Past `threshold` elements, each dimension longer than 2 *
-- `edgeitems` shows only its ends, with "..." rows, columns and slices for the rest.
local M = {}

M.options = { linewidth = 80, threshold = 1000, edgeitems = 3 }

local format = string.format
local huge = math.huge

local function finite(v) return v == v and v ~= huge and v ~= -huge end

-- Torch7's Storage__printformat over a flat list of numbers, ignoring inf and nan
-- (which Torch7 let decide the format). Returns the format, the scale (nil for none)
-- and the column width.
local function printformat(values)
  local int_mode, amin, amax = true, huge, 0
  for _, v in ipairs(values) do
    if finite(v) then
      if v ~= math.floor(v) then int_mode = false end
      local a = math.abs(v + 0.0)
      if a < amin then amin = a end
      if a > amax then amax = a end
    end
  end
  local exp_min = (amin ~= 0 and amin ~= huge) and math.floor(math.log(amin, 10)) + 1 or 1
  local exp_max = amax ~= 0 and math.floor(math.log(amax, 10)) + 1 or 1
  local fmt, scale, sz
  if int_mode then
    if exp_max > 9 then
      fmt, sz = '%11.4e', 11
    else
      sz = exp_max + 1
      fmt = '%' .. sz .. 'd'
    end
  elseif exp_max - exp_min > 4 then
    sz = (math.abs(exp_max) > 99 or math.abs(exp_min) > 99) and 12 or 11
    fmt = '%' .. sz .. '.4e'
  else
    if exp_max > 5 or exp_max < 0 then
      sz, scale = 7, 10 ^ (exp_max - 1)
    else
      sz = exp_max == 0 and 7 or exp_max + 6
    end
    fmt = '%' .. sz .. '.4f'
  end
  if scale == 1 then scale = nil end
  return fmt, scale, sz
end

-- The element formatter for a tensor's shown values: returns fmt(v), scale, width.
local function formatter(values, is_bool)
  if is_bool then
    return function(v) return format('%5s', tostring(v)) end, nil, 5
  end
  local fmt, scale, sz = printformat(values)
  for _, v in ipairs(values) do
    if not finite(v) then sz = math.max(sz, 4) break end
  end
  local plain = '%' .. sz .. 's'
  return function(v)
    if v ~= v then return format(plain, 'nan') end
    if v == huge or v == -huge then return format(plain, v > 0 and 'inf' or '-inf') end
    if scale then v = v / scale end
    if fmt:sub(-1) == 'd' then return format(plain, format('%d', v)) end
    return format(fmt, v)
  end, scale, sz
end

local function dots(sz) return format('%' .. math.max(sz, 3) .. 's', '...') end

-- Entries shown along a dimension of size n: {pos = position in the shown tensor,
-- idx = index in the tensor} or {gap = true}.
local function entries(n, summarise, edge)
  local e = {}
  if summarise and n > 2 * edge then
    for i = 1, edge do e[#e + 1] = { pos = i, idx = i } end
    e[#e + 1] = { gap = true }
    for i = 1, edge do e[#e + 1] = { pos = edge + i, idx = n - edge + i } end
  else
    for i = 1, n do e[i] = { pos = i, idx = i } end
  end
  return e
end

-- The shown part of x as a CPU tensor: x itself, or the corners of every dimension
-- copied into a small tensor (2^k narrow+copy calls for k summarised dimensions).
local function shown_part(ember, x, ents)
  local sizes, cut = x:sizeTable(), {}
  local shape = {}
  for d, e in ipairs(ents) do
    shape[d] = 0
    for _, item in ipairs(e) do if not item.gap then shape[d] = shape[d] + 1 end end
    if shape[d] < sizes[d] then cut[#cut + 1] = d end
  end
  if #cut == 0 and x:device() == 'cpu' then return x end
  local s = ember.empty(shape, x:dtype())
  local edge = #cut > 0 and shape[cut[1]] // 2 or 0
  for mask = 0, (1 << #cut) - 1 do
    local src, dst = x, s
    for k, d in ipairs(cut) do
      local tail = (mask >> (k - 1)) & 1 == 1
      src = src:narrow(d, tail and sizes[d] - edge + 1 or 1, edge)
      dst = dst:narrow(d, tail and edge + 1 or 1, edge)
    end
    dst:copy(src)
  end
  return s
end

local function flatten(t, out)
  for _, v in ipairs(t) do
    if type(v) == 'table' then flatten(v, out) else out[#out + 1] = v end
  end
  return out
end

-- Index label of the first (or last) non-gap column in cols[a..b].
local function column_label(cols, a, b, step)
  for c = a, b, step do
    if not cols[c].gap then return cols[c].idx end
  end
  return '...'
end

-- Torch7's Tensor__printMatrix over the shown rows m (nested table) and entries.
local function print_matrix(m, rows, cols, indent, fmt, scale, sz)
  local out = { indent }
  local per = math.max(1, (M.options.linewidth - #indent) // (sz + 1))
  local first = 1
  while first <= #cols do
    local last = math.min(first + per - 1, #cols)
    if per < #cols then
      if first ~= 1 then out[#out + 1] = '\n' end
      out[#out + 1] = 'Columns ' .. column_label(cols, first, last, 1) .. ' to ' ..
                      column_label(cols, last, first, -1) .. '\n' .. indent
    end
    if scale then out[#out + 1] = format('%g', scale) .. ' *\n ' .. indent end
    for l, r in ipairs(rows) do
      if r.gap then
        out[#out + 1] = dots(sz)
      else
        local row = m[r.pos]
        for c = first, last do
          out[#out + 1] = cols[c].gap and dots(sz) or fmt(row[cols[c].pos])
          if c ~= last then out[#out + 1] = ' ' end
        end
      end
      out[#out + 1] = '\n'
      if l ~= #rows then out[#out + 1] = scale and indent .. ' ' or indent end
    end
    first = last + 1
  end
  return table.concat(out)
end

-- Torch7's Tensor__printTensor: "(i,j,.,.) = " then the matrix, for every leading
-- index (a "..." line stands for the summarised ones), separated by blank lines.
local function print_slices(vals, ents, fmt, scale, sz)
  local out, labels, nd = {}, {}, #ents
  local function walk(d, v)
    if d == nd - 1 then
      if #out > 0 then out[#out + 1] = '\n' end
      out[#out + 1] = '(' .. table.concat(labels, ',') .. ',.,.) = \n'
      out[#out + 1] = print_matrix(v, ents[nd - 1], ents[nd], ' ', fmt, scale, sz)
      return
    end
    for _, e in ipairs(ents[d]) do
      if e.gap then
        if #out > 0 then out[#out + 1] = '\n' end
        out[#out + 1] = '...\n'
      else
        labels[d] = e.idx
        walk(d + 1, v[e.pos])
      end
    end
    labels[d] = nil
  end
  walk(1, vals)
  return table.concat(out)
end

-- tostring(x) in Torch7's format.
function M.tostring(ember, x)
  local name = x:type()
  local sizes = x:sizeTable()
  if #sizes == 0 then return '[' .. name .. ' with no dimension]\n' end
  local footer = '[' .. name .. ' of size ' .. table.concat(sizes, 'x') .. ']\n'
  if x:numel() == 0 then return footer end
  local opt = M.options
  local summarise = x:numel() > opt.threshold
  local ents = {}
  for d, n in ipairs(sizes) do ents[d] = entries(n, summarise, opt.edgeitems) end
  local vals = shown_part(ember, x, ents):totable()
  local fmt, scale, sz = formatter(flatten(vals, {}), x:dtype() == 'bool')
  local body
  if #sizes == 1 then
    local lines = {}
    if scale then lines[1] = format('%g', scale) .. ' *\n' end
    for _, e in ipairs(ents[1]) do
      lines[#lines + 1] = (e.gap and dots(sz) or fmt(vals[e.pos])) .. '\n'
    end
    body = table.concat(lines)
  elseif #sizes == 2 then
    body = print_matrix(vals, ents[1], ents[2], '', fmt, scale, sz)
  else
    body = print_slices(vals, ents, fmt, scale, sz)
  end
  return body .. footer
end

-- Sets ember.metatable.__tostring and ember.setprintoptions{linewidth =, threshold =,
-- edgeitems =} (unknown keys are an error).
function M.install(ember)
  ember.metatable.__tostring = function(x) return M.tostring(ember, x) end
  function ember.setprintoptions(opts)
    for k, v in pairs(opts) do
      if M.options[k] == nil then
        error(("setprintoptions: unknown option '%s'"):format(tostring(k)), 2)
      end
      if math.type(v) ~= 'integer' or v < 1 then
        error(("setprintoptions: %s must be a positive integer, got %s"):format(k, tostring(v)), 2)
      end
      M.options[k] = v
    end
  end
  return ember
end

return M
