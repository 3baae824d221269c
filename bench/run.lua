-- Ember's benchmarks (`make bench`, i.e. lua5.4 bench/run.lua [options]). Not tests: no
-- figure here fails the build; the table says which targets were met on this run.
--   W0   torch.mm(c, a, b), float32 N x N, N = 1024 and 2048 -> GFLOP/s. Target: at least
--        95% of the same sgemm called directly (bench/gemm_direct.c, same OpenBLAS, same
--        timing). PyTorch's figure (shared/bench/pytorch/w0_gemm.py) is shown beside it.
--   W5a  c:add(a, b) on 10-element float32 tensors -> us per call. Reference: PyTorch's
--        w5_overhead.py; target: no slower than it. Skipped while `add` is missing.
--   MIX  (only when named in --only) mm 512 then three element-wise ops on 2^20 floats
--        -> ms per iteration: the two thread pools taking turns (bench/blas_variants.sh).
-- Runs are interleaved (Ember, direct OpenBLAS, PyTorch in each round); medians are
-- reported. Options: --rounds N (default 5; PyTorch's W0 runs in at most 3 of them,
-- while it has used under 45 s)
-- --only W0,W5a,MIX  --no-reference  --json FILE (append one line per result)
-- --wait S (first wait up to S seconds for a quiet machine: shared/bench/wait_idle.sh).
-- Environment: EMBER_SHARED (default ../shared from the repository root), EMBER_BUILD
-- (where helpers are built; the Makefile sets it), EMBER_BLAS_DIR / EMBER_BLAS_INC.
local torch = require 'torch'

local opts = { rounds = 5, only = { W0 = true, W5a = true }, reference = true }
do
  local i = 1
  while i <= #arg do
    local a = arg[i]
    if a == '--rounds' then opts.rounds = assert(tonumber(arg[i + 1]), '--rounds N'); i = i + 1
    elseif a == '--only' then
      opts.only = {}
      for w in assert(arg[i + 1], '--only LIST'):gmatch('[^,]+') do opts.only[w] = true end
      i = i + 1
    elseif a == '--no-reference' then opts.reference = false
    elseif a == '--json' then opts.json = assert(arg[i + 1], '--json FILE'); i = i + 1
    elseif a == '--wait' then opts.wait = assert(tonumber(arg[i + 1]), '--wait S'); i = i + 1
    else error('bench/run.lua: unknown option ' .. a) end
    i = i + 1
  end
end

local root = (arg[0]:match('^(.*)/bench/[^/]*$') or '.')
local shared = os.getenv('EMBER_SHARED') or (root .. '/../shared')
local blas_dir = os.getenv('EMBER_BLAS_DIR') or '/usr/lib/x86_64-linux-gnu/openblas-openmp'
local blas_inc = os.getenv('EMBER_BLAS_INC') or '/usr/include/x86_64-linux-gnu/openblas-pthread'

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function file_exists(p)
  local f = io.open(p)
  if f then f:close() end
  return f ~= nil
end

-- Helpers are built next to the engine (the build folder named in package.cpath).
local outdir = (os.getenv('EMBER_BUILD') or package.cpath:match('([^;]*)/lua/%?%.so') or os.tmpname() .. '.d') .. '/bench'
assert(sh('mkdir -p ' .. outdir), 'cannot create ' .. outdir)
assert(sh(('cc -O2 -shared -fPIC -I/usr/include/lua5.4 %s/bench/timer.c -o %s/bench_timer.so'):format(root, outdir)),
       'cannot build bench/timer.c')
package.cpath = outdir .. '/?.so;' .. package.cpath
local now = require('bench_timer').now
local direct = outdir .. '/gemm_direct'
if not sh(('cc -O2 -march=native %s/bench/gemm_direct.c -I%s -L%s -l:libopenblas.so.0 -Wl,-rpath,%s -o %s')
          :format(root, blas_inc, blas_dir, blas_dir, direct)) then
  direct = nil
end

-- Which OpenBLAS this process loaded (LD_LIBRARY_PATH may swap the variant).
local function blas_variant()
  local f = io.open('/proc/self/maps')
  if not f then return '?' end
  local maps = f:read('a')
  f:close()
  return maps:match('(/%S*libopenblas[^%s]*)') or '?'
end

-- Machine-wide busy CPU seconds (for "how many CPUs did others use meanwhile").
local function busy()
  local f = io.open('/proc/stat')
  if not f then return 0 end
  local l = f:read('l')
  f:close()
  local v = {}
  for x in l:gmatch('%d+') do v[#v + 1] = tonumber(x) end
  return (v[1] + v[2] + v[3] + v[6] + v[7]) / 100
end

-- Times fn() once: wall seconds, and the CPUs other processes used meanwhile.
local function timed(fn)
  local b0, c0, t0 = busy(), os.clock(), now()
  fn()
  local dt = now() - t0
  local foreign = ((busy() - b0) - (os.clock() - c0)) / dt
  return dt, math.max(0, foreign)
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  return n % 2 == 1 and s[(n + 1) / 2] or (s[n / 2] + s[n / 2 + 1]) / 2
end

local function python_ok()
  return opts.reference and file_exists(shared .. '/bench/pytorch/common.py')
end

-- Runs a PyTorch reference script; returns {workload = median}.
-- Under load the scripts retry polluted runs (5 s pauses), so each process gets at most
-- limit seconds; a result line is written as soon as each workload is measured.
local function pytorch(script, extra, limit)
  local json = os.tmpname()
  local cmd = ('timeout %d python3 %s/bench/pytorch/%s --threads 2 %s --json %s > /dev/null 2>&1')
              :format(limit, shared, script, extra or '', json)
  local res = {}
  sh(cmd)
  for line in io.lines(json) do
    local w, m = line:match('"workload": "([^"]+)".-"median": ([-%d.eE+]+)')
    local f = line:match('"max_foreign_cpu": ([-%d.eE+]+)')
    if w then res[w] = { value = tonumber(m), foreign = tonumber(f) } end
  end
  os.remove(json)
  return res
end

local results = {}   -- {name, unit, ember = {...}, refs = {{label, values}}, target...}

local function add_result(r) results[#results + 1] = r end

-- --- W0 ---
local function w0()
  local sizes = { 1024, 2048 }
  local st = {}
  for _, n in ipairs(sizes) do
    local s = { n = n, a = torch.randn(n, n), b = torch.randn(n, n), c = torch.empty(n, n),
                ember = {}, direct = {}, pytorch = {}, foreign = 0 }
    for _ = 1, 3 do torch.mm(s.c, s.a, s.b) end
    local t1 = timed(function() torch.mm(s.c, s.a, s.b) end)
    s.reps = math.max(3, math.ceil(0.6 / t1))
    st[#st + 1] = s
  end
  local use_py, py_spent = python_ok(), 0
  for round = 1, opts.rounds do
    for _, s in ipairs(st) do
      local dt, foreign = timed(function()
        for _ = 1, s.reps do torch.mm(s.c, s.a, s.b) end
      end)
      s.ember[#s.ember + 1] = 2 * s.n ^ 3 * s.reps / dt / 1e9
      s.foreign = math.max(s.foreign, foreign)
      if direct then
        local p = io.popen(('%s %d %d 1'):format(direct, s.n, s.reps))
        local out = p:read('a')
        p:close()
        local v = tonumber(out:match('GFLOP/s ([%d.]+)'))
        if v then s.direct[#s.direct + 1] = v end
      end
    end
    if use_py and round <= 3 and py_spent < 45 then
      local t0 = now()
      local r = pytorch('w0_gemm.py', '--runs 1', 60)
      py_spent = py_spent + (now() - t0)
      for _, s in ipairs(st) do
        local x = r['W0_mm' .. s.n]
        if x then s.pytorch[#s.pytorch + 1] = x.value end
      end
    end
  end
  -- check the last product against a few float64 dot products
  for _, s in ipairs(st) do
    local err = 0
    for i = 1, 4 do
      local want = torch.dot(s.a[i]:double(), s.b:select(2, i):double())
      err = math.max(err, math.abs(s.c[i][i] - want))
    end
    add_result { name = ('W0 mm %d'):format(s.n), unit = 'GFLOP/s', higher = true,
                 ember = s.ember, foreign = s.foreign, check = err,
                 refs = { { 'OpenBLAS direct', s.direct, target = 0.95 },
                          { 'PyTorch', s.pytorch } } }
    s.a, s.b, s.c = nil, nil, nil
  end
  collectgarbage()
end

-- --- W5a ---
local function w5a()
  if not torch.methods.add then
    add_result { name = 'W5a add10', unit = 'us/call', skipped = 'c:add is not implemented yet' }
    return
  end
  local a, b, c = torch.randn(10), torch.randn(10), torch.empty(10)
  local N = 100000
  for _ = 1, 10000 do c:add(a, b) end
  local ember, foreign = {}, 0
  local py = {}
  for r = 1, opts.rounds do
    local dt, f = timed(function() for _ = 1, N do c:add(a, b) end end)
    ember[#ember + 1] = dt / N * 1e6
    foreign = math.max(foreign, f)
    if r == math.ceil(opts.rounds / 2) and python_ok() then
      local x = pytorch('w5_overhead.py', '--runs 3', 60)['W5a_add10']
      if x then py[1] = x.value end
    end
  end
  add_result { name = 'W5a add10', unit = 'us/call', higher = false, ember = ember, foreign = foreign,
               refs = { { 'PyTorch', py, target = 1.0 } } }
end

-- --- MIX: one GEMM pool and one element-wise pool taking turns ---
local function mix()
  local a, b, c = torch.randn(512, 512), torch.randn(512, 512), torch.empty(512, 512)
  local n = 1 << 20
  local e1, e2, e3 = torch.empty(n), torch.randn(n), torch.randn(n)
  local function iter()
    torch.mm(c, a, b)
    e1:add(e2, e3)
    e1:mul(0.5)
    e1:cmul(e2)
  end
  for _ = 1, 20 do iter() end
  local t1 = timed(function() for _ = 1, 10 do iter() end end)
  local reps = math.max(10, math.ceil(0.5 / (t1 / 10)))
  local ember, foreign = {}, 0
  for _ = 1, opts.rounds do
    local dt, f = timed(function() for _ = 1, reps do iter() end end)
    ember[#ember + 1] = dt / reps * 1e3
    foreign = math.max(foreign, f)
  end
  add_result { name = 'MIX mm512+3 ew', unit = 'ms/iter', higher = false, ember = ember,
               foreign = foreign, refs = {} }
end

local t_start = now()
if opts.wait and opts.wait > 0 then sh(('bash %s/bench/wait_idle.sh %d'):format(shared, opts.wait)) end
print(('# Ember bench: %d rounds, %d threads, OpenBLAS %s'):format(opts.rounds, torch.getnumthreads(), blas_variant()))
if not direct then print('# direct OpenBLAS baseline could not be built: W0 has no target') end
if not python_ok() then print('# PyTorch references skipped (' .. (opts.reference and shared .. ' not found' or '--no-reference') .. ')') end
for _, w in ipairs { { 'W0', w0 }, { 'W5a', w5a }, { 'MIX', mix } } do
  if opts.only[w[1]] then
    local t0 = now()
    w[2]()
    io.stderr:write(('# %s took %.0f s\n'):format(w[1], now() - t0))
  end
end

-- --- the table ---
local function fmt(v) return v and (v >= 100 and ('%.1f'):format(v) or ('%.3g'):format(v)) or 'n/a' end
print(('%-16s %-8s %9s  %9s %-16s %6s  %-18s %s'):format('workload', 'unit', 'Ember', 'reference', '', 'ratio', 'target', 'result'))
local json = opts.json and assert(io.open(opts.json, 'a'))
for _, r in ipairs(results) do
  if r.skipped then
    print(('%-16s %-8s %9s  skipped: %s'):format(r.name, r.unit, '-', r.skipped))
  else
    local e = median(r.ember)
    local note = ('runs %s; others used <= %.2f CPUs'):format(#r.ember, r.foreign or 0)
    if r.check then note = note .. ('; max err %.2g'):format(r.check) end
    if #r.refs == 0 then
      print(('%-16s %-8s %9s  %9s %-16s %6s  %-18s %s'):format(r.name, r.unit, fmt(e), '-', '', '', '', note))
    end
    for i, ref in ipairs(r.refs) do
      local v = median(ref[2])
      local ratio = v and e / v
      local target, result = '(for information)', ''
      if ref.target then
        target = (r.higher and '>= %.2f x ref' or '<= %.2f x ref'):format(ref.target)
        result = not ratio and 'n/a' or ((r.higher and ratio >= ref.target) or (not r.higher and ratio <= ref.target)) and 'PASS' or 'FAIL'
      end
      print(('%-16s %-8s %9s  %9s %-16s %6s  %-18s %s'):format(i == 1 and r.name or '', i == 1 and r.unit or '',
            i == 1 and fmt(e) or '', fmt(v), ref[1], ratio and ('%.3f'):format(ratio) or 'n/a', target,
            result .. (i == 1 and '   ' .. note or '')))
    end
    if json then
      json:write(('{"workload": "%s", "unit": "%s", "ember": %s, "runs": [%s], "blas": "%s"'):format(
        r.name, r.unit, e, table.concat(r.ember, ', '), blas_variant()))
      for _, ref in ipairs(r.refs) do
        json:write((', "%s": %s'):format(ref[1], median(ref[2]) or 'null'))
      end
      json:write('}\n')
    end
  end
end
if json then json:close() end
print(('# %.0f s; figures on a shared 2-core machine are provisional (see bench/README.md)'):format(now() - t_start))
