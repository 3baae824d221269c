-- Performance regression check (`make bench-check`, run by .ci/run): reruns the workloads
-- of `make bench` that have a reference -- W0 (against OpenBLAS called directly and
-- PyTorch), W5a, W1-W4, W5b/W5c (against PyTorch) -- and fails when a ratio Ember /
-- reference is more than 25% worse than the ratio recorded in the fenced `ratios` block
-- of bench/RESULTS.md (worse: lower for "higher" rows, higher for "lower" rows; 25% worse
-- means new < recorded / 1.25, or new > recorded * 1.25).
-- Ratios, not absolute figures: the reference runs on the same machine in the same job,
-- interleaved with Ember, so a slower or busier runner moves both sides alike. What noise
-- is left (2-thread runs vary up to 2x from process to process here) only ever shows as
-- a false slowdown, so a workload that looks regressed is measured once more and fails
-- only if the second measurement is as bad: a real regression shows twice.
--   lua5.4 bench/check.lua [--tolerance 1.25] [--results bench/RESULTS.md] [--rounds 3]
--     [--only W1,W4]
-- (with the environment `make bench` sets). Exit status 0 = no regression, 1 = regression,
-- 2 = nothing could be compared (every reference missing, or the block absent).
local root = (arg[0]:match('^(.*)/bench/[^/]*$') or '.')
local opts = { tolerance = 1.25, results = root .. '/bench/RESULTS.md', rounds = 3 }
do
  local i = 1
  while i <= #arg do
    local k, v = arg[i], arg[i + 1]
    if k == '--tolerance' then opts.tolerance = assert(tonumber(v), '--tolerance X')
    elseif k == '--results' then opts.results = assert(v, '--results FILE')
    elseif k == '--rounds' then opts.rounds = assert(tonumber(v), '--rounds N')
    elseif k == '--only' then opts.only = assert(v, '--only LIST')
    else error('bench/check.lua: unknown option ' .. k) end
    i = i + 2
  end
end

-- Lines "name ratio higher|lower" inside ```ratios ... ``` of text -> {name = {v, dir}}
local function ratios(text)
  local t = {}
  for name, v, dir in (text:match('```ratios\n(.-)```') or ''):gmatch('(%S+)%s+([-%d.eE+]+)%s+(%a+)') do
    t[name] = { tonumber(v), dir }
  end
  return t
end

-- The workload of a ratio row, as run.lua names it on its command line:
-- W0_mm_1024/... -> w0, W5a_add10/... -> w5a, W5b_XOR_steps/... -> w5, W1_MLP/... -> w1
local function workload(key)
  local w = key:match('^(W%d%a?)_')
  if w == 'W5b' or w == 'W5c' then w = 'W5' end
  return w and w:lower()
end

local f = assert(io.open(opts.results), 'bench/check.lua: cannot read ' .. opts.results)
local want = ratios(f:read('a'))
f:close()
local keys, names, seen = {}, {}, {}
for k in pairs(want) do
  local w = workload(k)
  local picked = not opts.only or (',' .. opts.only:lower() .. ','):find(',' .. (w or '') .. ',', 1, true)
  if w and picked then
    keys[#keys + 1] = k
    if not seen[w] then seen[w] = true; names[#names + 1] = w end
  end
end
table.sort(keys)
table.sort(names)
if #keys == 0 then print('bench/check.lua: no ```ratios rows in ' .. opts.results); os.exit(2) end

-- Runs run.lua on the workloads ws; returns its ratios.
local function measure(ws)
  local cmd = ('%s %s/bench/run.lua %s --rounds %d --nn-rounds %d 2>&1')
              :format(os.getenv('LUA') or 'lua5.4', root, table.concat(ws, ' '), opts.rounds, opts.rounds)
  io.write('# ', cmd, '\n')
  io.flush()
  local p = io.popen(cmd)
  local out = p:read('a')
  p:close()
  io.write(out)
  return ratios(out)
end

local function worse(w, g)
  return (w[2] == 'higher' and g[1] < w[1] / opts.tolerance)
      or (w[2] == 'lower' and g[1] > w[1] * opts.tolerance)
end

local got = measure(names)
-- a second measurement of the workloads that look regressed; each row keeps its better one
local again, redo = {}, {}
for _, k in ipairs(keys) do
  local w = workload(k)
  if got[k] and worse(want[k], got[k]) and not again[w] then again[w] = true; redo[#redo + 1] = w end
end
if #redo > 0 then
  print(('\n# confirming: %s looked more than %.0f%% slower'):format(table.concat(redo, ' '),
        100 * (opts.tolerance - 1)))
  local second = measure(redo)
  for k, g in pairs(second) do
    local w, old = want[k], got[k]
    if w and old and worse(w, old) and not worse(w, g) then got[k] = g end
  end
end

local failed, compared = 0, 0
print(('\n%-28s %9s %9s  %s'):format('ratio', 'recorded', 'now', 'verdict'))
for _, k in ipairs(keys) do
  local w, g = want[k], got[k]
  local verdict
  if not g then verdict = 'not measured (reference missing?)'
  else
    compared = compared + 1
    verdict = 'ok'
    if worse(w, g) then
      verdict = ('REGRESSION (more than %.0f%% worse, twice)'):format(100 * (opts.tolerance - 1))
      failed = failed + 1
    end
  end
  print(('%-28s %9.3f %9s  %s'):format(k, w[1], g and ('%.3f'):format(g[1]) or '-', verdict))
end
if failed > 0 then print(('%d of %d ratios regressed'):format(failed, compared)); os.exit(1) end
if compared == 0 then print('nothing compared'); os.exit(2) end
print(('%d ratios within %.0f%% of the record'):format(compared, 100 * (opts.tolerance - 1)))
