-- Performance regression check for CI (not wired into .ci/run yet): reruns a small subset
-- of `make bench` -- W0 mm 1024, W5a and W1, each against its reference in the same job --
-- and fails when a ratio Ember / reference is more than 25% worse than the ratio recorded
-- in the fenced `ratios` block of bench/RESULTS.md (worse: lower for "higher" rows, higher
-- for "lower" rows; 25% worse means new < recorded / 1.25, or new > recorded * 1.25).
-- Ratios, not absolute figures: the reference runs on the same machine in the same job,
-- so a slower or busier runner moves both sides alike.
--   LUA_PATH=... LUA_CPATH=... EMBER_BUILD=build lua5.4 bench/check.lua [--tolerance 1.25]
--     [--results bench/RESULTS.md] [--rounds 3]
-- (as `make bench` sets the environment). Exit status 0 = no regression, 1 = regression,
-- 2 = nothing could be compared (a reference missing or the block absent).
local root = (arg[0]:match('^(.*)/bench/[^/]*$') or '.')
local opts = { tolerance = 1.25, results = root .. '/bench/RESULTS.md', rounds = 3 }
do
  local i = 1
  while i <= #arg do
    local k, v = arg[i], arg[i + 1]
    if k == '--tolerance' then opts.tolerance = assert(tonumber(v), '--tolerance X')
    elseif k == '--results' then opts.results = assert(v, '--results FILE')
    elseif k == '--rounds' then opts.rounds = assert(tonumber(v), '--rounds N')
    else error('bench/check.lua: unknown option ' .. k) end
    i = i + 2
  end
end

-- The recorded ratios: lines "name ratio higher|lower" inside ```ratios ... ```.
local function recorded(path)
  local f = assert(io.open(path), 'bench/check.lua: cannot read ' .. path)
  local text = f:read('a')
  f:close()
  local block = text:match('```ratios\n(.-)```')
  assert(block, 'bench/check.lua: no ```ratios block in ' .. path)
  local t = {}
  for name, v, dir in block:gmatch('(%S+)%s+([-%d.eE+]+)%s+(%a+)') do t[name] = { tonumber(v), dir } end
  return t
end

-- The rows this check reruns, as run.lua names them.
local KEYS = { 'W0_mm_1024/OpenBLAS_direct', 'W0_mm_1024/PyTorch', 'W5a_add10/PyTorch', 'W1_MLP/PyTorch' }

local want = recorded(opts.results)
local lua = os.getenv('LUA') or 'lua5.4'
local cmd = ('%s %s/bench/run.lua w0 w5a w1 --rounds %d --nn-rounds %d 2>&1')
            :format(lua, root, opts.rounds, opts.rounds)
io.write('# ', cmd, '\n')
local p = io.popen(cmd)
local out = p:read('a')
p:close()
io.write(out)
local got = {}
for name, v, dir in (out:match('```ratios\n(.-)```') or ''):gmatch('(%S+)%s+([-%d.eE+]+)%s+(%a+)') do
  got[name] = { tonumber(v), dir }
end

local failed, compared = 0, 0
print(('\n%-28s %9s %9s  %s'):format('ratio', 'recorded', 'now', 'verdict'))
for _, k in ipairs(KEYS) do
  local w, g = want[k], got[k]
  local verdict
  if not w then verdict = 'not recorded'
  elseif not g then verdict = 'not measured (reference missing?)'
  else
    compared = compared + 1
    local worse = (w[2] == 'higher' and g[1] < w[1] / opts.tolerance)
                  or (w[2] == 'lower' and g[1] > w[1] * opts.tolerance)
    verdict = worse and ('REGRESSION (more than %.0f%% worse)'):format(100 * (opts.tolerance - 1)) or 'ok'
    if worse then failed = failed + 1 end
  end
  print(('%-28s %9s %9s  %s'):format(k, w and ('%.3f'):format(w[1]) or '-', g and ('%.3f'):format(g[1]) or '-', verdict))
end
if failed > 0 then os.exit(1) end
if compared == 0 then print('nothing compared'); os.exit(2) end
print(('%d ratios within %.0f%% of the record'):format(compared, 100 * (opts.tolerance - 1)))
