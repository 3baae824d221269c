-- The examples (examples/*.lua) run briefly (--quick: one small epoch) with the ember
-- executable in a child process, so they cannot rot: each must exit 0, print its RESULT
-- line with a metric in a sane range, and write its outputs. Also the flag parser.
local torch = require 'torch'
local nn = require 'nn'

local root = debug.getinfo(1, 'S').source:match('^@(.*)/spec/examples/[^/]*$') or '.'
local build = os.getenv('EMBER_BUILD') or (root .. '/build')
local ember = build .. '/ember'

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  os.execute(('mkdir -p %q'):format(d))
  return d
end

local function exists(path)
  local f = io.open(path, 'rb')
  if not f then return false end
  local size = f:seek('end')
  f:close()
  return size > 0
end

-- Runs `ember examples/<script> <flags>`; returns its output (stdout and stderr) and
-- exit code.
local function run(script, flags)
  local cmd = ('cd %q && %q examples/%s %s 2>&1'):format(root, ember, script, flags)
  local p = assert(io.popen(cmd))
  local out = p:read('a')
  local _, _, code = p:close()
  return out, code
end

-- Runs a --quick example into a fresh folder; returns its output, the RESULT fields
-- ({test_accuracy = 52.6, epochs = 1, ...}) and the folder.
local function quick(script, flags)
  local dir = tmpdir()
  local out, code = run(script, ('--quick --out %q %s'):format(dir, flags or ''))
  assert(code == 0, ('%s exited with %s:\n%s'):format(script, tostring(code), out))
  local line = out:match('\nRESULT ([^\n]*)')
  assert(line, script .. ' printed no RESULT line:\n' .. out)
  local result = {}
  for k, v in line:gmatch('(%w[%w_]*)=([%d.]+)') do result[k] = tonumber(v) end
  return out, result, dir
end

local function csvRows(path)
  local n = 0
  for _ in io.lines(path) do n = n + 1 end
  return n - 1
end

local function checkOutputs(dir, name)
  for _, ext in ipairs { 't7', 'csv', 'svg' } do
    assert.is_true(exists(('%s/%s.%s'):format(dir, name, ext)), name .. '.' .. ext)
  end
  assert.are.equal(1, csvRows(('%s/%s.csv'):format(dir, name)))
  local f = assert(io.open(('%s/%s.svg'):format(dir, name)))
  assert.truthy(f:read('a'):match('^<svg.*</svg>%s*$'))
  f:close()
end

describe('examples/lib/args.lua', function()
  local args = dofile(root .. '/examples/lib/args.lua')
  local flags = { { 'epochs', 10, 'e' }, { 'trainSize', 100, 't' }, { 'out', 'out', 'o' },
                  { 'quick', false, 'q' }, { 'plot', true, 'p' } }

  it('reads numbers, strings, booleans and dashed names', function()
    local opt = args.parse({ '--epochs', '3', '--train-size', '20', '--out', '/tmp/x', '--quick',
                             '--no-plot' }, 'u', flags)
    assert.are.same({ epochs = 3, trainSize = 20, out = '/tmp/x', quick = true, plot = false }, opt)
    assert.are.equal('integer', math.type(opt.epochs))
    assert.are.same({ epochs = 10, trainSize = 100, out = 'out', quick = false, plot = true },
                    args.parse({}, 'u', flags))
  end)

  it('rejects an unknown flag with the list of flags and status 2', function()
    local out, code = run('fashion_mnist_mlp.lua', '--epoch 3')
    assert.are.equal(2, code)
    assert.truthy(out:find('unknown flag --epoch', 1, true))
    assert.truthy(out:find('--train-size', 1, true))
    out, code = run('fashion_mnist_mlp.lua', '--epochs three')
    assert.are.equal(2, code)
    assert.truthy(out:find('--epochs needs a number, got three', 1, true))
  end)
end)

describe('Fashion-MNIST examples', function()
  it('fashion_mnist_mlp.lua trains with the Trainer, prints the confusion matrix, saves', function()
    local out, r, dir = quick('fashion_mnist_mlp.lua')
    assert.are.equal(1, r.epochs)
    assert.is_true(r.test_accuracy > 40 and r.test_accuracy <= 100, out)
    assert.truthy(out:find('true \\ predicted', 1, true))
    assert.truthy(out:find('Ankle boot', 1, true))
    assert.truthy(out:find('accuracy %d+%.%d+%% %(%d+ of 500%)'))
    checkOutputs(dir, 'fashion_mlp')
    local model = torch.load(dir .. '/fashion_mlp.t7')          -- the saved model works
    model:evaluate()
    assert.are.same({ 2, 10 }, model:forward(torch.rand(2, 1, 28, 28)):sizeTable())
  end)

  it('fashion_mnist_mlp.lua --manual trains with the loop by hand', function()
    local out, r = quick('fashion_mnist_mlp.lua', '--manual')
    assert.is_true(r.test_accuracy > 40 and r.test_accuracy <= 100, out)
    assert.truthy(out:find('epoch 1/1  train_loss', 1, true))
  end)

  it('fashion_mnist_cnn.lua trains a CNN with batch norm and dropout', function()
    local out, r, dir = quick('fashion_mnist_cnn.lua')
    assert.is_true(r.test_accuracy > 30 and r.test_accuracy <= 100, out)
    assert.truthy(out:find('nn.SpatialBatchNormalization', 1, true))
    checkOutputs(dir, 'fashion_cnn')
  end)

  it('resnet.lua trains a residual network', function()
    local out, r, dir = quick('resnet.lua')
    assert.is_true(r.test_accuracy > 20 and r.test_accuracy <= 100, out)
    assert.truthy(out:find('nn.Residual', 1, true))
    checkOutputs(dir, 'resnet')
  end)
end)

describe('language-model examples', function()
  -- bits per character below a uniform guess over the vocabulary, and a sample
  local function check(out, r, dir, name)
    local vocab = tonumber(out:match('vocabulary (%d+)'))
    assert.is_true(r.val_bpc > 0.5 and r.val_bpc < math.log(vocab, 2), out)
    local sample = out:match('\nsample %(temperature [^\n]*\n(.-)\nsaved ')
    assert.truthy(sample, out)
    assert.are.equal('The ', sample:sub(1, 4))
    assert.is_true(utf8.len(sample) >= 80)
    checkOutputs(dir, name)
    local saved = torch.load(('%s/%s.t7'):format(dir, name))
    assert.are.equal(vocab, #saved.chars)
  end

  it('char_rnn.lua trains an LSTM and samples from it', function()
    if not nn.LSTM then return pending('nn.LSTM is not in nn yet') end
    local out, r, dir = quick('char_rnn.lua')
    check(out, r, dir, 'char_rnn')
  end)

  it('tiny_gpt.lua trains a GPT and samples with top-k', function()
    local out, r, dir = quick('tiny_gpt.lua', '--top-k 5')
    assert.truthy(out:find('sample (temperature 0.8, top-5)', 1, true))
    check(out, r, dir, 'tiny_gpt')
  end)
end)
