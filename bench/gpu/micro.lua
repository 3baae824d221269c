-- Ember's side of the GPU microbenchmarks (bench/gpu/run.sh; bench/gpu/README.md): matrix
-- products and memory-bound element-wise and reduction ops on the GPU, timed with
-- torch.cuda.synchronize() around a loop on the monotonic clock (torch.clock), as
-- micro.py times PyTorch and cublas_direct.cu times cuBLAS alone. One JSON line per case:
--   {"side": "ember", "name": "mm float32 4096", "unit": "TFLOP/s", "runs": [...], "reps": R}
-- GB/s counts the bytes each call reads and writes.
--   ember bench/gpu/micro.lua [--quick] [--runs N] [--seconds S] [--only mm,add,...] [--json FILE]
--                             [--mm-sizes 1024,2048] [--mem-exps 26,28]
-- --quick: mm sizes 1024 and 4096, memory ops on 2^26 elements only.
local torch = require 'torch'

local opts = { runs = 5, seconds = 0.25 }
local function list(s)
  local t = {}
  for v in s:gmatch('[^,]+') do t[#t + 1] = assert(math.tointeger(tonumber(v)), 'expected integers: ' .. s) end
  return t
end
do
  local i = 1
  while i <= #arg do
    local a = arg[i]
    if a == '--quick' then opts.quick = true
    elseif a == '--runs' or a == '--seconds' then opts[a:sub(3)] = assert(tonumber(arg[i + 1]), a .. ' N'); i = i + 1
    elseif a == '--json' then opts.json = assert(arg[i + 1], '--json FILE'); i = i + 1
    elseif a == '--mm-sizes' then opts.sizes = list(assert(arg[i + 1], '--mm-sizes LIST')); i = i + 1
    elseif a == '--mem-exps' then opts.exps = list(assert(arg[i + 1], '--mem-exps LIST')); i = i + 1
    elseif a == '--only' then
      opts.only = {}
      for w in assert(arg[i + 1], '--only LIST'):gmatch('[^,]+') do opts.only[w] = true end
      i = i + 1
    else error('bench/gpu/micro.lua: unknown option ' .. a) end
    i = i + 1
  end
end

do
  local ok, why = torch.cuda.isAvailable()
  if not ok then
    io.stderr:write(('bench/gpu/micro.lua: no GPU to benchmark: %s\n'):format(tostring(why)))
    os.exit(2)
  end
end

local sync, clock = torch.cuda.synchronize, torch.clock

-- s as a JSON string
local function quote(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    return ({ ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\t'] = '\\t' })[c] or ('\\u%04x'):format(c:byte())
  end) .. '"'
end

do   -- the device, for the report's header
  local okp, p = pcall(torch.cuda.getDeviceProperties)
  local info = ('%s, Ember (%s)'):format(okp and p.name or 'unknown device', _VERSION)
  print(info)
  if opts.json then
    local f = assert(io.open(opts.json, 'a'))
    f:write(('{"side": "ember", "info": %s}\n'):format(quote(info)))
    f:close()
  end
end

-- Seconds per call of fn, one figure per run: warm-up calls, one call to size the loop
-- (about opts.seconds per run), then opts.runs synchronised loops.
local function perCall(fn)
  for _ = 1, 3 do fn() end
  sync()
  local t0 = clock()
  fn()
  sync()
  local reps = math.max(3, math.min(20000, math.ceil(opts.seconds / math.max(clock() - t0, 1e-6))))
  local out = {}
  for r = 1, opts.runs do
    sync()
    local t = clock()
    for _ = 1, reps do fn() end
    sync()
    out[r] = (clock() - t) / reps
  end
  return out, reps
end

local function emit(name, unit, runs, reps, extra)
  local vals = {}
  for i, v in ipairs(runs) do vals[i] = ('%.6g'):format(v) end
  local line = ('{"side": "ember", "name": "%s", "unit": "%s", "runs": [%s], "reps": %d%s}')
               :format(name, unit, table.concat(vals, ', '), reps, extra or '')
  local sorted = {}
  for i, v in ipairs(runs) do sorted[i] = v end
  table.sort(sorted)
  print(('%-28s %10.2f %s'):format(name, sorted[(#sorted + 1) // 2], unit))
  if opts.json then
    local f = assert(io.open(opts.json, 'a'))
    f:write(line, '\n')
    f:close()
  end
  io.stdout:flush()
end

-- Runs one case: make() -> fn, work per call (flop or bytes); a failure is reported as
-- an error line, and the run goes on.
local function case(kind, name, unit, work, make)
  if opts.only and not opts.only[kind] then return end
  local ok, err = pcall(function()
    local fn, check = make()
    local secs, reps = perCall(fn)
    local rates = {}
    for i, s in ipairs(secs) do rates[i] = work / s / (unit == 'TFLOP/s' and 1e12 or 1e9) end
    emit(name, unit, rates, reps, check and (', "check_maxerr": %.3g'):format(check()) or nil)
  end)
  if not ok then
    io.stderr:write(('%s: %s\n'):format(name, tostring(err)))
    if opts.json then
      local f = assert(io.open(opts.json, 'a'))
      f:write(('{"side": "ember", "name": "%s", "unit": "%s", "error": %s}\n'):format(name, unit, quote(err)))
      f:close()
    end
  end
  collectgarbage()
  collectgarbage()
  torch.cuda.emptyCache()
end

-- A (sizes...) tensor of dtype on the GPU, uniform in [-0.5, 0.5).
local function rand(dtype, ...)
  return torch.CudaTensor(...):uniform(-0.5, 0.5):to(dtype)
end

-- max |c - a @ b| over c's first 4x4 block, against float64 on the host
local function mmCheck(c, a, b)
  return function()
    local a4 = a:narrow(1, 1, 4):to('cpu', 'float64')
    local b4 = b:narrow(2, 1, 4):to('cpu', 'float64')
    return (torch.mm(a4, b4) - c:narrow(1, 1, 4):narrow(2, 1, 4):to('cpu', 'float64')):abs():max()
  end
end

local SIZES = opts.sizes or (opts.quick and { 1024, 4096 } or { 1024, 2048, 4096, 8192 })

-- Matrix products: mm in every precision, bmm and addmm in float32.
for _, prec in ipairs { 'float32', 'tf32', 'bfloat16', 'float16' } do
  local dtype = prec == 'tf32' and 'float32' or prec
  for _, n in ipairs(SIZES) do
    case('mm', ('mm %s %d'):format(prec, n), 'TFLOP/s', 2 * n ^ 3, function()
      torch.cuda.allowTF32(prec == 'tf32')
      local a, b, c = rand(dtype, n, n), rand(dtype, n, n), rand(dtype, n, n)
      return function() torch.mm(c, a, b) end, mmCheck(c, a, b)
    end)
  end
end
torch.cuda.allowTF32(false)
for _, n in ipairs(SIZES) do
  local batch = math.max(2, 16 * 1024 // n)
  case('bmm', ('bmm float32 %dx%d'):format(batch, n), 'TFLOP/s', 2 * batch * n ^ 3, function()
    local a, b, c = rand('float32', batch, n, n), rand('float32', batch, n, n), rand('float32', batch, n, n)
    return function() torch.bmm(c, a, b) end
  end)
  case('addmm', ('addmm float32 %d'):format(n), 'TFLOP/s', 2 * n ^ 3, function()
    local a, b, c = rand('float32', n, n), rand('float32', n, n), rand('float32', n, n)
    return function() c:addmm(a, b) end   -- c += a @ b
  end)
end

-- Memory-bound ops on N float32 elements; the 2-D ones view them as (N / 8192, 8192).
local COLS = 8192
for _, e in ipairs(opts.exps or (opts.quick and { 26 } or { 26, 27, 28 })) do
  local n = 1 << e
  local rows = n // COLS
  local function name(op) return ('%s 2^%d'):format(op, e) end
  local function two() return rand('float32', rows, COLS), rand('float32', rows, COLS) end
  case('add', name('add'), 'GB/s', 12 * n, function()
    local a, b = two()
    local c = a:clone()
    return function() c:add(a, b) end
  end)
  case('cmul', name('cmul'), 'GB/s', 12 * n, function()
    local a, b = two()
    local c = a:clone()
    return function() c:cmul(a, b) end
  end)
  case('mul', name('mul'), 'GB/s', 8 * n, function()
    local a, c = two()
    return function() c:mul(a, 2) end
  end)
  case('copy', name('copy'), 'GB/s', 8 * n, function()
    local a, c = two()
    return function() c:copy(a) end
  end)
  case('relu', name('relu'), 'GB/s', 8 * n, function()
    local a, c = two()
    return function() c:clamp(a, 0) end
  end)
  case('add-broadcast', name('add-broadcast'), 'GB/s', 4 * (2 * n + COLS), function()
    local a, c = two()
    local b = rand('float32', 1, COLS)
    return function() torch.add(c, a, b) end
  end)
  for _, op in ipairs { 'sum', 'max', 'mean' } do   -- over all elements: a Lua number each call
    case(op .. '-all', name(op .. '-all'), 'GB/s', 4 * n, function()
      local a = rand('float32', n)
      return function() return a[op](a) end
    end)
  end
  case('sum-dim2', name('sum-dim2'), 'GB/s', 4 * (n + rows), function()
    local a, r = rand('float32', rows, COLS), torch.CudaTensor(rows, 1)
    return function() torch.sum(r, a, 2) end
  end)
  case('sum-dim1', name('sum-dim1'), 'GB/s', 4 * (n + COLS), function()
    local a, r = rand('float32', rows, COLS), torch.CudaTensor(1, COLS)
    return function() torch.sum(r, a, 1) end
  end)
  case('max-dim2', name('max-dim2'), 'GB/s', 4 * n + 12 * rows, function()   -- values and int64 indices
    local a, v, i = rand('float32', rows, COLS), torch.CudaTensor(rows, 1), torch.CudaLongTensor(rows, 1)
    return function() torch.max(v, i, a, 2) end
  end)
  case('mean-dim2', name('mean-dim2'), 'GB/s', 4 * (n + rows), function()
    local a, r = rand('float32', rows, COLS), torch.CudaTensor(rows, 1)
    return function() torch.mean(r, a, 2) end
  end)
end
