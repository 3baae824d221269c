-- Shared helpers for the Ember side of the nn workloads (bench/w1_mlp.lua ...), the twin of
-- shared/bench/pytorch/common.py: the same timing protocol, the same JSON result line, so
-- bench/run.lua reads both sides with one parser. Each script is one process:
--   ember bench/w1_mlp.lua [--threads 2] [--runs 3] [--retries 4] [--json FILE] [--bf16]
-- --bf16: the nn workloads run their steps under nn.autocast('bfloat16') (bench/BF16.md).
-- A timed run during which other processes used more than 0.15 CPUs is redone (at most
-- --retries times in all, after a 5 s pause), as common.py does.
local torch = require 'torch'

local B = {}

-- Parses the command line (the script's `arg`); sets the thread count.
function B.args(argv)
  local a = { threads = 2, runs = 3, retries = 4, bf16 = false }
  local i = 1
  while argv and i <= #argv do
    local k, v = argv[i], argv[i + 1]
    if k == '--threads' or k == '--runs' or k == '--retries' then
      a[k:sub(3)] = assert(math.tointeger(tonumber(v)), k .. ' N')
    elseif k == '--json' then a.json = assert(v, '--json FILE')
    elseif k == '--bf16' then a.bf16, i = true, i - 1    -- a flag: no value
    else error('unknown option ' .. tostring(k)) end
    i = i + 2
  end
  torch.setnumthreads(a.threads)
  B.opts = a
  return a
end

B.now = torch.clock   -- monotonic wall clock, seconds

-- Machine-wide busy CPU seconds (user nice system irq softirq), from /proc/stat.
local function busy()
  local f = io.open('/proc/stat')
  if not f then return 0 end
  local l = f:read('l')
  f:close()
  local v = {}
  for x in l:gmatch('%d+') do v[#v + 1] = tonumber(x) end
  return (v[1] + v[2] + v[3] + v[6] + v[7]) / 100
end

-- Calls fn() `runs` times; returns the wall seconds of each and the CPUs other processes
-- used meanwhile (machine busy time minus this process's CPU time, over wall time).
function B.timed_runs(fn, runs)
  local secs, foreign, retries = {}, {}, 0
  local max_retries = B.opts and B.opts.retries or 4
  while #secs < runs do
    local b0, c0, t0 = busy(), os.clock(), B.now()
    fn()
    local dt = B.now() - t0
    local f = math.max(0, ((busy() - b0) - (os.clock() - c0)) / dt)
    if f > 0.15 and retries < max_retries then
      retries = retries + 1
      print(('  [run discarded: other processes used %.2f CPUs; retry %d]'):format(f, retries))
      os.execute('sleep 5')
    else
      secs[#secs + 1], foreign[#foreign + 1] = dt, f
    end
  end
  return secs, foreign
end

-- This process's peak resident set (VmHWM), MB.
function B.peak_rss_mb()
  local f = io.open('/proc/self/status')
  if not f then return 0 end
  local s = f:read('a')
  f:close()
  return (tonumber(s:match('VmHWM:%s*(%d+)')) or 0) / 1024
end

function B.median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

-- Prints a RESULT line and appends common.py's JSON line to --json; values: one figure
-- per run, the median is the result; extra: more fields (numbers or strings).
function B.report(name, unit, values, foreign, extra)
  local med, fmax = B.median(values), math.max(table.unpack(foreign))
  local runs = {}
  for i, v in ipairs(values) do runs[i] = ('%.6g'):format(v) end
  local rss = B.peak_rss_mb()
  print(('RESULT %s threads=%d median=%.4g %s runs=[%s] peak_rss=%.0fMB foreign_cpu<= %.2f%s')
        :format(name, B.opts.threads, med, unit, table.concat(runs, ', '), rss, fmax,
                fmax > 0.15 and '  (WARNING: machine was busy)' or ''))
  if B.opts.json then
    local f = assert(io.open(B.opts.json, 'a'))
    f:write(('{"workload": "%s", "threads": %d, "unit": "%s", "median": %.9g, "runs": [%s], '
             .. '"max_foreign_cpu": %.4f, "peak_rss_mb": %.2f'):format(name, B.opts.threads, unit,
             med, table.concat(runs, ', '), fmax, rss))
    for k, v in pairs(extra or {}) do
      f:write((type(v) == 'number' and ', "%s": %.9g' or ', "%s": "%s"'):format(k, v))
    end
    f:write('}\n')
    f:close()
  end
  io.stdout:flush()
end

-- Learnable synthetic text, as common.py's markov_tokens: a fixed random first-order
-- Markov chain (rows of softmax(3 * randn)) -> LongTensor (n_seq, seq_len + 1), 1-based.
function B.markov_tokens(n_seq, seq_len, vocab)
  vocab = vocab or 96
  local P = torch.randn(vocab, vocab):mul(3)
  P:exp():cdiv(P:sum(2):expand(vocab, vocab))
  local x = torch.LongTensor(n_seq, seq_len + 1)
  x:select(2, 1):copy(torch.randint(1, vocab + 1, n_seq))
  for t = 1, seq_len do
    local rows = torch.index(P, 1, x:select(2, t):contiguous())
    x:select(2, t + 1):copy(torch.multinomial(rows, 1):view(n_seq))
  end
  return x
end

-- Runs one training step fn(i) -> loss (a number) WARM times, then `runs` timed runs
-- of ITERS steps; returns the first loss, the last loss, seconds and foreign CPUs.
function B.train(step, warm, iters, runs)
  local first = step(1)
  for i = 2, warm do step(i) end
  local it, last = warm, first
  local secs, foreign = B.timed_runs(function()
    for _ = 1, iters do
      it = it + 1
      last = step(it)
    end
  end, runs)
  return first, last, secs, foreign
end

return B
