-- Loading the engine touches no global except the ones Torch7 compatibility asks for:
-- `torch` and `paths` (require 'torch', which loads Torch7's paths package, as Torch7
-- did), `nn` (require 'nn'), `optim` (require 'optim').
-- Checked in a fresh lua5.4 process, so busted's own globals do not interfere.
local function globals_after(code)
  local script = os.tmpname()
  local f = assert(io.open(script, 'w'))
  f:write([[
    local before = {}
    for k in pairs(_G) do before[k] = true end
  ]], code, [[
    local added = {}
    for k in pairs(_G) do if not before[k] then added[#added + 1] = tostring(k) end end
    table.sort(added)
    io.write(table.concat(added, ','))
  ]])
  f:close()
  local p = assert(io.popen('lua5.4 ' .. script .. ' 2>&1'))
  local out = p:read('a')
  p:close()
  os.remove(script)
  return out
end

describe('globals', function()
  it("require 'ember' defines none", function()
    assert.are.equal('', globals_after("local e = require 'ember'; assert(e.zeros)"))
  end)

  it("require 'torch' defines only torch and paths", function()
    assert.are.equal('paths,torch',
      globals_after("local t = require 'torch'; assert(t == torch and paths.dirname('a/b') == 'a')"))
  end)

  it("require 'paths' defines only paths; require 'rnn' adds nothing to nn's", function()
    assert.are.equal('paths', globals_after("local p = require 'paths'; assert(p == paths)"))
    assert.are.equal('nn,paths,torch', globals_after("local r = require 'rnn'; assert(r.SeqLSTM == nn.SeqLSTM)"))
  end)

  it("require 'nn' and 'optim' add only nn and optim", function()
    assert.are.equal('nn,optim,paths,torch',
      globals_after("require 'nn'; require 'optim'; local x = nn.Linear(2, 2):forward(torch.ones(2))"))
  end)

  it('a training step defines no new globals', function()
    assert.are.equal('nn,optim,paths,torch', globals_after([[
      require 'nn'; require 'optim'
      local m = nn.Sequential():add(nn.Linear(3, 4)):add(nn.ReLU()):add(nn.Linear(4, 2)):add(nn.LogSoftMax())
      local c = nn.ClassNLLCriterion()
      local p, g = m:getParameters()
      local x, y = torch.randn(5, 3), torch.LongTensor({1, 2, 1, 2, 1})
      optim.sgd(function() g:zero(); local l = c:forward(m:forward(x), y)
        m:backward(x, c:backward(m.output, y)); return l, g end, p, {learningRate = 0.1, momentum = 0.9})
      local s = tostring(torch.ones(2, 2)) .. tostring(m)
    ]]))
  end)
end)
