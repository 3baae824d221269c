-- Torch7 scripts run unchanged: Torch7's `paths` package (lua/paths), checked against
-- expectations computed here, then the Torch7 benchmark scripts (fixtures/torch7: copies
-- of shared/bench/torch7) run to the end by `ember` and by stock lua5.4, each printing
-- RESULT lines with a positive throughput (REPEATS=1: a warm-up and one timed run).
local W = require 'ways_in.util'
local paths = require 'paths'
local H = require 'helpers'

local FIXTURES = W.root .. '/spec/ways_in/fixtures'
local SHARED = os.getenv('EMBER_SHARED') or (W.root .. '/../shared')

local function sorted(iter_or_table)
  local t = {}
  if type(iter_or_table) == 'function' then
    for name in iter_or_table do t[#t + 1] = name end
  else
    for i, name in ipairs(iter_or_table) do t[i] = name end
  end
  table.sort(t)
  return t
end

describe('paths (Torch7 package)', function()
  it('splits names as Torch7 did', function()
    local cases = {
      { 'a/b/c.lua', 'a/b', 'c.lua', 'lua' }, { 'a/b/', 'a', 'b', nil }, { 'a', '.', 'a', nil },
      { '/a', '/', 'a', nil }, { '/', '/', '', nil }, { 'x.tar.gz', '.', 'x.tar.gz', 'gz' },
      { '/usr//lib/', '/usr', 'lib', nil }, { '.bashrc', '.', '.bashrc', 'bashrc' },
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[2], paths.dirname(c[1]), 'dirname ' .. c[1])
      assert.are.equal(c[3], paths.basename(c[1]), 'basename ' .. c[1])
      assert.are.equal(c[4], paths.extname(c[1]), 'extname ' .. c[1])
    end
    assert.are.equal('c', paths.basename('a/b/c.lua', 'lua'))
    assert.are.equal('c', paths.basename('a/b/c.lua', '.lua'))
    assert.are.equal('c.lua', paths.basename('a/b/c.lua', 'txt'))
    assert.are.equal('.lua', paths.basename('.lua', 'lua'))   -- only a longer name loses it
  end)

  it('concatenates against the working directory', function()
    local cwd = (W.sh('pwd -P'):gsub('%s+$', ''))
    assert.are.equal(cwd, paths.cwd())
    assert.are.equal(cwd, paths.concat())
    assert.are.equal(cwd .. '/b/c', paths.concat('a', '../b', './c'))
    assert.are.equal(paths.dirname(cwd), paths.concat('..'))
    assert.are.equal('/x/z', paths.concat('/x/y/', '../z'))
    assert.are.equal('/b/c', paths.concat('/a', '/b', 'c/'))
    assert.are.equal('/', paths.concat('/..'))
    assert.are.equal(os.getenv('HOME') or '.', paths.home)
  end)

  it('finds the calling file (thisfile) and loads files next to it (dofile)', function()
    local me = paths.concat(debug.getinfo(1, 'S').source:sub(2))
    assert.are.equal(me, paths.thisfile())
    assert.are.equal(paths.dirname(me) .. '/fixtures/x.lua', paths.thisfile('fixtures/x.lua'))
    assert.is_nil(load('local f = paths.thisfile(); return f', '=(s)', 't', { paths = paths })())
    local dir = W.tmpdir()
    W.write(dir .. '/a.lua', "local paths = ...; local r = table.pack(paths.dofile('sub/b.lua'))\n"
                             .. 'return table.unpack(r, 1, r.n)')
    paths.mkdir(dir .. '/sub')
    W.write(dir .. '/sub/b.lua', 'return 42, nil, "three"')
    local r = table.pack(loadfile(dir .. '/a.lua')(paths))
    assert.are.same({ 42, nil, 'three', n = 3 }, r)
    assert.is_true(paths.rmall(dir, 'yes'))
  end)

  it('lists, creates and removes folders', function()
    local dir = W.tmpdir()
    local d = dir .. '/d'
    assert.is_true(paths.mkdir(d .. '/e/f'))   -- parents too
    assert.is_true(paths.dirp(d .. '/e/f'))
    W.write(d .. '/x.txt', 'x')
    W.write(d .. '/y.lua', 'y')
    assert.is_true(paths.filep(d .. '/x.txt'))
    assert.is_false(paths.filep(d .. '/e'))
    assert.is_false(paths.dirp(d .. '/x.txt'))
    assert.is_false(paths.filep(d .. '/missing'))
    assert.are.same({ '.', '..', 'e', 'x.txt', 'y.lua' }, sorted(paths.dir(d)))
    assert.are.same({ '.', '..', 'e', 'x.txt', 'y.lua' }, sorted(paths.files(d)))
    assert.are.same({ 'x.txt', 'y.lua' }, sorted(paths.iterfiles(d)))
    assert.are.same({ 'e' }, sorted(paths.iterdirs(d)))
    assert.are.same({ 'y.lua' }, sorted(paths.files(d, '%.lua$')))
    assert.are.same({ 'x.txt' }, sorted(paths.files(d, function(n) return n:sub(1, 1) == 'x' end)))
    local ok, msg = paths.mkdir(d)
    assert.is_nil(ok)
    assert.are.equal(d .. ': File exists', msg)
    ok, msg = paths.rmdir(d)
    assert.is_nil(ok)
    assert.are.equal(d .. ': Directory not empty', msg)
    ok, msg = paths.dir(d .. '/missing')
    assert.is_nil(ok)
    assert.are.equal(d .. '/missing: No such file or directory', msg)
    assert.are.same({}, sorted(paths.files(d .. '/missing')))
    assert.is_nil((paths.rmall(d)))   -- without 'yes' nothing happens
    assert.is_true(paths.dirp(d))
    assert.is_true(paths.rmall(d, 'yes'))
    assert.is_false(paths.dirp(d))
    assert.is_true(paths.rmdir(dir))
  end)

  it('names the function in argument errors', function()
    H.raises('paths.dirname: argument #1 must be a path (a string), got nil', paths.dirname)
    H.raises('paths.concat: argument #2 must be a path (a string), got number',
             paths.concat, '/a', 5)
    H.raises('paths.basename: argument #2 must be a path (a string), got table',
             paths.basename, 'a', {})
    H.raises('paths.files: argument #2 must be a pattern or a function, got number',
             paths.files, '.', 5)
    H.raises('paths.mkdir: argument #1', paths.mkdir)
  end)
end)

-- common.lua redoes a run (up to 40 times, waiting up to 10 minutes for a quiet machine
-- after every third) while other processes keep the CPUs busy. This prelude makes it read
-- an idle machine in /proc/stat: the spec checks that the scripts run, not the machine.
local QUIET = "local open = io.open; io.open = function(p, ...) if p == '/proc/stat' then "
  .. "return { read = function() return 'cpu 0 0 0 0 0 0 0 0' end, close = function() end } "
  .. 'end return open(p, ...) end'

-- script -> the RESULT names it prints, the INFO line's loss (or MSE) and its bound
local SCRIPTS = {
  { 'w0_gemm', { 'w0_gemm_1024', 'w0_gemm_2048' } },
  { 'w1_mlp', { 'w1_mlp' }, 'last_loss', 3 },
  { 'w2_cnn', { 'w2_cnn' }, 'last_loss', 3 },
  { 'w3_lstm', { 'w3_lstm' }, 'last_loss', 5 },
  { 'w5_overhead', { 'w5a_add10', 'w5b_xor_sgd', 'w5c_infer_64' }, 'mean_mse_after_training', 0.1 },
}

-- Runs fixtures/torch7/<script>.lua with `host` from folder `cwd` (REPEATS=1, 2 threads);
-- checks the RESULT lines and the INFO figure.
local function runScript(s, host, cwd, script_path)
  local out, ok = W.sh(('cd %s && REPEATS=1 THREADS=2 timeout 300 %s -e %s %s'):format(
    W.q(cwd), host, W.q(QUIET), W.q(script_path)))
  assert(ok, out)
  local got = {}
  for name, unit, v in out:gmatch('RESULT (%S+) [^\n]-median_s=%S+ ([^%s=]+)=([%d.]+)') do
    got[name] = tonumber(v)
    assert.truthy(unit:match('/s$') or unit == 'GFLOPS', out)
  end
  for d in out:gmatch('discarded=(%d+)') do assert.are.equal('0', d, out) end   -- QUIET works
  for _, name in ipairs(s[2]) do
    assert(got[name] and got[name] > 0,
           ('%s: no positive RESULT %s in\n%s'):format(s[1], name, out))
  end
  if s[3] then
    local v = tonumber(out:match(s[3] .. '=([-%d.naif]+)'))
    assert(v and v == v and v < s[4],
           ('%s: %s should be below %g:\n%s'):format(s[1], s[3], s[4], out))
  end
  return got
end

describe('the Torch7 benchmark scripts, unchanged', function()
  it('are the shared ones (when ../shared is there)', function()
    local dir = SHARED .. '/bench/torch7'
    if not W.read(dir .. '/common.lua') then return pending(dir .. ' is absent') end
    for _, f in ipairs { 'common', 'w0_gemm', 'w1_mlp', 'w2_cnn', 'w3_lstm', 'w5_overhead' } do
      assert(W.read(dir .. '/' .. f .. '.lua') == W.read(FIXTURES .. '/torch7/' .. f .. '.lua'),
             'spec/ways_in/fixtures/torch7/' .. f .. '.lua differs from ' .. dir)
    end
  end)

  for _, s in ipairs(SCRIPTS) do
    it(('run under ember: %s.lua'):format(s[1]), function()
      -- one of them by a relative path, resolved by paths.thisfile against the cwd
      if s[1] == 'w1_mlp' then
        runScript(s, W.q(W.exe), FIXTURES, 'torch7/w1_mlp.lua')
      else
        runScript(s, W.q(W.exe), W.root, FIXTURES .. '/torch7/' .. s[1] .. '.lua')
      end
    end)
  end

  for _, i in ipairs { 2, 4 } do   -- MLP and LSTM (require 'rnn') under stock lua5.4
    local s = SCRIPTS[i]
    it(('run under lua5.4: %s.lua'):format(s[1]), function()
      runScript(s, 'lua5.4', '/tmp', FIXTURES .. '/torch7/' .. s[1] .. '.lua')
    end)
  end
end)
