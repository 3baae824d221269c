-- Ember's benchmarks (`make bench`, i.e. lua5.4 bench/run.lua [options] [workloads]). Not
-- tests: no figure here fails the build; the table says which targets were met on this run.
--   W0   torch.mm(c, a, b), float32 N x N, N = 1024 and 2048 -> GFLOP/s. Target: at least
--        95% of the same sgemm called directly (bench/gemm_direct.c, same OpenBLAS, same
--        timing). PyTorch's figure (shared/bench/pytorch/w0_gemm.py) is shown beside it.
--   W5a  c:add(a, b) on 10-element float32 tensors -> us per call; target <= 0.2 us
--        (absolute); PyTorch's figure from w5_overhead.py beside it.
--   W1 W2 W3 W4 W5 (= W5b, W5c)  the nn workloads: bench/w*_*.lua against
--        shared/bench/pytorch/w*_*.py, each side in its own child process (peak RSS =
--        the child's VmHWM), --nn-rounds processes per side, alternating; medians.
--   STARTUP  `ember -e "require 'nn'"`, median wall time of 20 runs; target < 30 ms.
--   FMNIST   one epoch of examples/fashion_mnist_mlp.lua end to end (when it exists).
--   MIX  (only when named) mm 512 then three element-wise ops on 2^20 floats
--        -> ms per iteration: the two thread pools taking turns (bench/blas_variants.sh).
--   T7   (only when named) the original Torch7 scripts (shared/bench/torch7/*.lua),
--        unchanged, each run by `ember` with THREADS=2 REPEATS=3: their RESULT lines.
--   Torch7's recorded figures (shared/bench/RESULTS.md) are a reference row, for
--   information, under W0, W1, W2, W3, W5a, W5b, W5c and the T7 rows, and a column
--   beside the peak RSS.
-- Workloads are named as arguments (`make bench BENCH_ARGS="w1 w2"`, any case) or with
-- --only W0,W5a; default: all but MIX and T7. Options: --rounds N (W0/W5a rounds, default 5;
-- PyTorch's W0 runs in at most 3 of them, while it has used under 45 s)
-- --nn-rounds N (processes per side for W1-W5, default 3; each does --runs 3 timed runs)
-- --retries N (redo a timed run polluted by other processes at most N times, default 1;
-- both sides, PyTorch's through common.timed_runs' default)
-- --no-reference  --json FILE (append one line per result)
-- --wait S (first wait up to S seconds for a quiet machine: shared/bench/wait_idle.sh).
-- Environment: EMBER_SHARED (default ../shared from the repository root), EMBER_BUILD
-- (where helpers are built and `ember` is; the Makefile sets it), EMBER_BLAS_DIR / _INC.
local torch = require 'torch'

local ALL = { 'W0', 'W5a', 'W1', 'W2', 'W3', 'W4', 'W5', 'STARTUP', 'FMNIST' }
local opts = { rounds = 5, nn_rounds = 3, retries = 1, reference = true }
do
  local i, named = 1, nil
  local function name(w)
    for _, k in ipairs { 'W0', 'W5a', 'W1', 'W2', 'W3', 'W4', 'W5', 'STARTUP', 'FMNIST', 'MIX', 'T7' } do
      if k:lower() == w:lower() then return k end
    end
    error('bench/run.lua: unknown workload ' .. w)
  end
  while i <= #arg do
    local a = arg[i]
    if a == '--rounds' then opts.rounds = assert(tonumber(arg[i + 1]), '--rounds N'); i = i + 1
    elseif a == '--nn-rounds' then opts.nn_rounds = assert(tonumber(arg[i + 1]), '--nn-rounds N'); i = i + 1
    elseif a == '--retries' then opts.retries = assert(tonumber(arg[i + 1]), '--retries N'); i = i + 1
    elseif a == '--only' then
      named = named or {}
      for w in assert(arg[i + 1], '--only LIST'):gmatch('[^,]+') do named[name(w)] = true end
      i = i + 1
    elseif a == '--no-reference' then opts.reference = false
    elseif a == '--json' then opts.json = assert(arg[i + 1], '--json FILE'); i = i + 1
    elseif a == '--wait' then opts.wait = assert(tonumber(arg[i + 1]), '--wait S'); i = i + 1
    elseif a:sub(1, 1) ~= '-' then named = named or {}; named[name(a)] = true
    else error('bench/run.lua: unknown option ' .. a) end
    i = i + 1
  end
  opts.only = named
  if not opts.only then
    opts.only = {}
    for _, w in ipairs(ALL) do opts.only[w] = true end
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

local python = file_exists('/usr/bin/python3') and '/usr/bin/python3' or 'python3'
local ember = (outdir:match('^(.*)/bench$') or '.') .. '/ember'

-- Reads the JSON result lines both sides write (common.py, bench/common.lua):
-- {workload = {value, foreign, rss, loss_first, loss_last}}.
local function read_results(json)
  local res = {}
  local f = io.open(json)
  if not f then return res end
  for line in f:lines() do
    local w, m = line:match('"workload": "([^"]+)".-"median": ([-%d.eE+]+)')
    local num = function(k) return tonumber(line:match('"' .. k .. '": ([-%d.eE+]+)')) end
    if w then
      res[w] = { value = tonumber(m), foreign = num('max_foreign_cpu'), rss = num('peak_rss_mb'),
                 loss_first = num('loss_first'), loss_last = num('loss_last') }
    end
  end
  f:close()
  os.remove(json)
  return res
end

-- Runs a PyTorch reference script in its own process; returns read_results' table.
-- Under load the scripts retry polluted runs (5 s pauses): common.timed_runs' default
-- max_retries is set to --retries, and each process gets at most limit seconds; a result
-- line is written as soon as each workload is measured.
local function pytorch(script, extra, limit)
  local json = os.tmpname()
  local dir = shared .. '/bench/pytorch'
  local boot = ('import sys, runpy; sys.path.insert(0, %q); import common; '
                .. 'common.timed_runs.__defaults__ = (0.15, %d); sys.argv = sys.argv[1:]; '
                .. 'runpy.run_path(sys.argv[0], run_name="__main__")'):format(dir, opts.retries)
  sh(("timeout %d %s -c '%s' %s/%s --threads 2 %s --json %s > /dev/null 2>&1")
     :format(limit, python, boot, dir, script, extra or '', json))
  return read_results(json)
end

-- Runs an Ember workload script (bench/<script>) in its own process, as pytorch().
-- Returns the results and the script's output.
local function ember_script(script, extra, limit)
  local json = os.tmpname()
  local p = io.popen(('timeout %d %s %s/bench/%s --threads 2 --retries %d %s --json %s 2>&1')
                     :format(limit, ember, root, script, opts.retries, extra or '', json))
  local out = p:read('a')
  p:close()
  return read_results(json), out
end

local results = {}   -- {name, unit, ember = {...}, refs = {{label, values}}, target...}

-- The original Torch7's figures on this machine (shared/bench/RESULTS.md, "Torch7 2
-- threads": torch7 + nn + optim + rnn on LuaJIT 2.1, OpenMP OpenBLAS), by result name;
-- units as Ember's rows (W5a and W5c in us per call). RSS: W1's process, MB.
local TORCH7 = { ['W0 mm 1024'] = 196, ['W0 mm 2048'] = 201, ['W1 MLP'] = 35600,
                 ['W2 CNN'] = 2100, ['W3 LSTM'] = 24100, ['W5a add10'] = 0.82,
                 ['W5b XOR steps'] = 28700, ['W5c infer 64'] = 7.6 }
local TORCH7_RSS = { ['W1 MLP'] = 43 }

-- Records a result; one with a Torch7 figure gets it as a last reference row.
local function add_result(r)
  local t7 = TORCH7[r.t7 or r.name]
  if t7 and r.refs then r.refs[#r.refs + 1] = { 'Torch7 recorded', { t7 }, recorded = true } end
  r.t7_rss = TORCH7_RSS[r.name]
  results[#results + 1] = r
end

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
-- PyTorch's W5a figures: from the w5_overhead.py processes W5 runs, else from one here.
local py_w5a = {}
local function w5a()
  if not torch.methods.add then
    add_result { name = 'W5a add10', unit = 'us/call', skipped = 'c:add is not implemented yet' }
    return
  end
  local a, b, c = torch.randn(10), torch.randn(10), torch.empty(10)
  local N = 100000
  for _ = 1, 10000 do c:add(a, b) end
  local ember, foreign = {}, 0
  for r = 1, opts.rounds do
    local dt, f = timed(function() for _ = 1, N do c:add(a, b) end end)
    ember[#ember + 1] = dt / N * 1e6
    foreign = math.max(foreign, f)
    if r == math.ceil(opts.rounds / 2) and python_ok() and not opts.only.W5 then
      local x = pytorch('w5_overhead.py', '--runs 3', 120)['W5a_add10']
      if x then py_w5a[#py_w5a + 1] = x.value end
    end
  end
  add_result { name = 'W5a add10', unit = 'us/call', higher = false, ember = ember, foreign = foreign,
               abs = 0.2, refs = { { 'PyTorch', py_w5a } } }
end

-- --- W1-W5: the nn workloads, each side in its own processes ---
-- flop: FLOPs per sample of the forward and backward GEMMs/convs that the step needs
-- (3x forward, less the first layer's gradient w.r.t. the data), for the fraction of peak.
local PEAK = 230e9   -- float32 FLOP/s: 2 cores x 32 FLOP/cycle x ~3.6 GHz
local NN = {
  W1 = { script = 'w1_mlp', { key = 'W1_mlp', name = 'W1 MLP', target = 1.05, flop = 2407424 } },
  W2 = { script = 'w2_cnn', { key = 'W2_cnn', name = 'W2 CNN', target = 2.0, flop = 15396864 } },
  W3 = { script = 'w3_lstm', { key = 'W3_lstm', name = 'W3 LSTM', target = 1.3 } },
  W4 = { script = 'w4_transformer', { key = 'W4_transformer', name = 'W4 GPT', target = 1.5 } },
  W5 = { script = 'w5_overhead', { key = 'W5b_xor_steps', name = 'W5b XOR steps', target = 10 },
         { key = 'W5c_infer_latency', name = 'W5c infer 64', abs = 2.0 } },
}

local function nn_workload(id)
  local spec = NN[id]
  local acc = {}
  for i, k in ipairs(spec) do acc[i] = { ember = {}, py = {}, foreign = 0 } end
  local skipped, out
  for round = 1, opts.nn_rounds do
    local function run_ember()
      local res
      res, out = ember_script(spec.script .. '.lua', '--runs 3', 300)
      for i, k in ipairs(spec) do
        local x = res[k.key]
        if x then
          local e = acc[i]
          e.ember[#e.ember + 1] = x.value
          e.foreign = math.max(e.foreign, x.foreign or 0)
          e.rss = math.max(e.rss or 0, x.rss or 0)
          e.loss = x.loss_first and ('%.3f -> %.3f'):format(x.loss_first, x.loss_last)
          e.loss_ok = not x.loss_first or x.loss_last < x.loss_first
        end
      end
      if not res[spec[1].key] then skipped = out:match('[^\n]*not available[^\n]*') or 'failed: ' .. out:sub(-300) end
    end
    local function run_py()
      if not python_ok() then return end
      local res = pytorch(spec.script .. '.py', '--runs 3', 300)
      for i, k in ipairs(spec) do
        local x = res[k.key]
        if x then
          local e = acc[i]
          e.py[#e.py + 1] = x.value
          e.py_rss = math.max(e.py_rss or 0, x.rss or 0)
        end
      end
      if res.W5a_add10 then py_w5a[#py_w5a + 1] = res.W5a_add10.value end
    end
    if round % 2 == 1 then run_ember(); run_py() else run_py(); run_ember() end
    if skipped then break end
  end
  for i, k in ipairs(spec) do
    local e = acc[i]
    if skipped then
      add_result { name = k.name, unit = '', skipped = skipped }
    else
      local unit = k.abs and 'us/call' or (id == 'W3' or id == 'W4') and 'tokens/s'
                   or id == 'W5' and 'steps/s' or 'samples/s'
      add_result { name = k.name, unit = unit, higher = not k.abs, ember = e.ember, foreign = e.foreign,
                   abs = k.abs, flop = k.flop, rss = e.rss, py_rss = e.py_rss, loss = e.loss,
                   loss_ok = e.loss_ok, refs = { { 'PyTorch', e.py, target = k.target } } }
    end
  end
end

-- --- STARTUP: `ember -e "require 'nn'"`, 20 processes ---
local function startup()
  local function median_ms(cmd)
    local t = {}
    for i = 1, 20 do
      local t0 = now()
      sh(cmd)
      t[i] = (now() - t0) * 1e3
    end
    return median(t)
  end
  local shell = median_ms('true')
  local e = median_ms(ember .. [[ -e "require 'nn'"]])
  local bare = median_ms(ember .. [[ -e ""]])
  add_result { name = 'STARTUP nn', unit = 'ms', higher = false, ember = { e }, abs = 30, refs = {},
               note = ('`ember -e ""` %.1f ms; the shell itself %.1f ms (included)'):format(bare, shell) }
end

-- --- FMNIST: one epoch of the Fashion-MNIST MLP example, end to end ---
local function fmnist()
  local ex = root .. '/examples/fashion_mnist_mlp.lua'
  if not file_exists(ex) then
    add_result { name = 'FMNIST MLP 1 ep', unit = 's', skipped = 'examples/fashion_mnist_mlp.lua is absent' }
    return
  end
  local t0 = now()
  local p = io.popen(('timeout 600 %s %s --epochs 1 --out %s 2>&1'):format(ember, ex, os.tmpname() .. '.d'))
  local out = p:read('a')
  local ok = p:close()
  local dt = now() - t0
  if not ok then
    add_result { name = 'FMNIST MLP 1 ep', unit = 's', skipped = 'failed: ' .. out:sub(-200):gsub('\n', ' ') }
    return
  end
  add_result { name = 'FMNIST MLP 1 ep', unit = 's', higher = false, ember = { dt }, refs = {},
               note = 'end to end, loading included; last line: ' .. (out:match('([^\n]+)\n*$') or '') }
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

-- --- T7: the Torch7 scripts themselves, unchanged, under ember ---
-- Each script prints "RESULT <name> ... median_s=S <unit>=V ... [us_per_op=U] ...
-- discarded=D ..." per measurement (shared/bench/torch7/common.lua); W5a and W5c are
-- compared in us per call.
local T7_NAMES = { w0_gemm_1024 = 'W0 mm 1024', w0_gemm_2048 = 'W0 mm 2048', w1_mlp = 'W1 MLP',
                   w2_cnn = 'W2 CNN', w3_lstm = 'W3 LSTM', w5a_add10 = 'W5a add10',
                   w5b_xor_sgd = 'W5b XOR steps', w5c_infer_64 = 'W5c infer 64' }
local function t7()
  local dir = shared .. '/bench/torch7'
  if not file_exists(dir .. '/common.lua') then
    add_result { name = 'T7 scripts', unit = '', skipped = dir .. ' not found' }
    return
  end
  for _, script in ipairs { 'w0_gemm', 'w1_mlp', 'w2_cnn', 'w3_lstm', 'w5_overhead' } do
    local p = io.popen(('THREADS=2 REPEATS=3 timeout 600 %s %s/%s.lua 2>&1')
                       :format(ember, dir, script))
    local out = p:read('a')
    local ok = p:close()
    local n = 0
    for line in out:gmatch('[^\n]+') do
      local key, unit, v = line:match('^RESULT (%S+) .-median_s=%S+ ([^%s=]+)=([%d.]+)')
      if key then
        n = n + 1
        print('# T7 ' .. line)
        local name, us = T7_NAMES[key] or key, tonumber(line:match('us_per_op=([%d.]+)'))
        local per_call = name == 'W5a add10' or name == 'W5c infer 64'
        add_result { name = 'T7 ' .. key, t7 = name, unit = per_call and 'us/call' or unit,
                     higher = not per_call, ember = { per_call and us or tonumber(v) }, refs = {},
                     note = ('torch7/%s.lua unchanged, %s'):format(script,
                                                               line:match('discarded=%d+') or '') }
      end
    end
    if not ok or n == 0 then
      add_result { name = 'T7 ' .. script, unit = '',
                   skipped = 'failed: ' .. out:sub(-300):gsub('\n', ' ') }
    end
  end
end

local t_start = now()
if opts.wait and opts.wait > 0 then sh(('bash %s/bench/wait_idle.sh %d'):format(shared, opts.wait)) end
print(('# Ember bench: %d rounds, %d threads, OpenBLAS %s'):format(opts.rounds, torch.getnumthreads(), blas_variant()))
if not direct then print('# direct OpenBLAS baseline could not be built: W0 has no target') end
if not python_ok() then print('# PyTorch references skipped (' .. (opts.reference and shared .. ' not found' or '--no-reference') .. ')') end
for _, w in ipairs { { 'W0', w0 }, { 'W5a', w5a }, { 'W1' }, { 'W2' }, { 'W3' }, { 'W4' }, { 'W5' },
                    { 'STARTUP', startup }, { 'FMNIST', fmnist }, { 'MIX', mix }, { 'T7', t7 } } do
  if opts.only[w[1]] then
    local t0 = now()
    if w[2] then w[2]() else nn_workload(w[1]) end
    io.stderr:write(('# %s took %.0f s\n'):format(w[1], now() - t0))
  end
end

-- --- the tables ---
local function fmt(v) return v and (v >= 100 and ('%.1f'):format(v) or ('%.3g'):format(v)) or 'n/a' end
local LINE = '%-16s %-9s %9s  %9s %-16s %6s  %-18s %s'
print(LINE:format('workload', 'unit', 'Ember', 'reference', '', 'ratio', 'target', 'result'))
local json = opts.json and assert(io.open(opts.json, 'a'))
local ratios, extras = {}, {}
for _, r in ipairs(results) do
  if r.skipped then
    print(('%-16s %-9s %9s  skipped: %s'):format(r.name, r.unit, '-', r.skipped))
  else
    local e = median(r.ember)
    local note = r.note or ('runs %s; others used <= %.2f CPUs'):format(#r.ember, r.foreign or 0)
    if r.check then note = note .. ('; max err %.2g'):format(r.check) end
    if r.loss then note = note .. ('; loss %s%s'):format(r.loss, r.loss_ok and '' or ' NOT DECREASED') end
    local abs_target, abs_result = '', ''
    if r.abs then
      abs_target = ('%s %g %s'):format(r.higher and '>=' or '<=', r.abs, r.unit:match('^(%a+)'))
      abs_result = ((r.higher and e >= r.abs) or (not r.higher and e <= r.abs)) and 'PASS' or 'FAIL'
    end
    if #r.refs == 0 then print(LINE:format(r.name, r.unit, fmt(e), '-', '', '', abs_target, abs_result .. '   ' .. note)) end
    for i, ref in ipairs(r.refs) do
      local v = median(ref[2])
      local ratio = v and e / v
      local target, result = '(for information)', ''
      if ref.target then
        target = (r.higher and '>= %.2f x ref' or '<= %.2f x ref'):format(ref.target)
        result = not ratio and 'n/a' or ((r.higher and ratio >= ref.target) or (not r.higher and ratio <= ref.target)) and 'PASS' or 'FAIL'
      elseif i == 1 and r.abs then
        target, result = abs_target, abs_result
      end
      print(LINE:format(i == 1 and r.name or '', i == 1 and r.unit or '',
            i == 1 and fmt(e) or '', fmt(v), ref[1], ratio and ('%.3f'):format(ratio) or 'n/a', target,
            result .. (i == 1 and '   ' .. note or '')))
      -- the ratios block holds references measured in this run only: check.lua compares
      -- them across machines, which a figure recorded elsewhere does not survive
      if ratio and not ref.recorded then
        ratios[#ratios + 1] = ('%s/%s %.4f %s'):format(r.name:gsub(' ', '_'), ref[1]:gsub(' ', '_'), ratio,
                                                      r.higher and 'higher' or 'lower')
      end
    end
    if r.rss or r.flop or r.name:match('^W0') then extras[#extras + 1] = r end
    if json then
      json:write(('{"workload": "%s", "unit": "%s", "ember": %s, "runs": [%s], "blas": "%s"'):format(
        r.name, r.unit, e, table.concat(r.ember, ', '), blas_variant()))
      for _, ref in ipairs(r.refs) do
        json:write((', "%s": %s'):format(ref[1], median(ref[2]) or 'null'))
      end
      if r.rss then json:write((', "rss_mb": %.1f, "pytorch_rss_mb": %s'):format(r.rss, r.py_rss or 'null')) end
      json:write('}\n')
    end
  end
end

-- Peak RSS of each side's process (VmHWM; target: Ember <= 1/4 of PyTorch's) and, for the
-- compute-bound workloads, the fraction of the machine's float32 peak each side reaches.
print()
print(('%-16s %9s %9s %6s  %-8s %-6s  %-14s %s'):format('workload', 'RSS MB E', 'RSS MB P', 'ratio',
      'target', 'result', 'Torch7 MB, E/T', 'fraction of 230 GFLOP/s peak (Ember / PyTorch)'))
for _, r in ipairs(extras) do
  local rss, rr, res = '-', '-', ''
  if r.rss then
    rss = ('%9.0f %9s'):format(r.rss, r.py_rss and ('%.0f'):format(r.py_rss) or 'n/a')
    rr = r.py_rss and ('%.3f'):format(r.rss / r.py_rss) or 'n/a'
    res = r.py_rss and (r.rss <= r.py_rss / 4 and 'PASS' or 'FAIL') or 'n/a'
  else
    rss = ('%9s %9s'):format('-', '-')
  end
  local peak = ''
  local function frac(v)
    if not v then return 'n/a' end
    local flops = r.flop and v * r.flop or v * 1e9
    return ('%.0f%%'):format(100 * flops / PEAK)
  end
  if r.flop or r.name:match('^W0') then
    local py
    for _, ref in ipairs(r.refs) do if ref[1] == 'PyTorch' then py = median(ref[2]) end end
    peak = frac(median(r.ember)) .. ' / ' .. frac(py)
  end
  local t7rss = r.rss and r.t7_rss and ('%.0f, %.3f'):format(r.t7_rss, r.rss / r.t7_rss) or ''
  print(('%-16s %s %6s  %-8s %-6s  %-14s %s'):format(r.name, rss, rr, r.rss and '<= 0.25' or '', res,
        t7rss, peak))
end
print()
print('ratios for bench/RESULTS.md (Ember / reference; check.lua reads this block):')
print('```ratios')
for _, l in ipairs(ratios) do print(l) end
print('```')
if json then json:close() end
print(('# %.0f s; figures on a shared 2-core machine are provisional (see bench/RESULTS.md)'):format(now() - t_start))
