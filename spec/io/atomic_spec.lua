-- Checkpoint writes are atomic: torch.save writes a temporary file next to the target,
-- fsyncs it and renames it over the target, so a failure or a crash mid-write leaves
-- the previous file byte-identical.
local torch = require 'torch'
local H = require 'helpers'

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function readAll(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local s = f:read('a')
  f:close()
  return s
end

local function shell(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read('a')
  p:close()
  return out
end

describe('atomic checkpoint writes', function()
  local dir, path
  before_each(function()
    dir = shell('mktemp -d'):gsub('%s+$', '')
    path = dir .. '/model.t7'
  end)
  after_each(function() os.execute('rm -rf ' .. quote(dir)) end)

  local function leftovers() return shell('ls -A ' .. quote(dir)):gsub('%s+$', '') end

  it('a save that fails midway leaves the previous file byte-identical', function()
    torch.save(path, { step = 1, w = torch.range(1, 10) })
    local before = readAll(path)
    -- two 16 MB tensors are written before the function is met
    local obj = { torch.zeros(4000000), torch.ones(4000000), print }
    H.raises('save: cannot save the function at obj[3]', torch.save, path, obj)
    assert.is_true(readAll(path) == before)
    assert.equal('model.t7', leftovers())   -- the temporary file is gone
    assert.equal(1, torch.load(path).step)
  end)

  it('a failed first save creates no file', function()
    H.raises('save: cannot save the function', torch.save, path, { torch.zeros(10), print })
    assert.is_nil(readAll(path))
    assert.equal('', leftovers())
  end)

  it('a successful save replaces the file and keeps its permissions', function()
    torch.save(path, 1)
    os.execute('chmod 640 ' .. quote(path))
    torch.save(path, 'two')
    assert.equal('two', torch.load(path))
    assert.equal('640', shell('stat -c %a ' .. quote(path)):gsub('%s+$', ''))
    assert.equal('model.t7', leftovers())
  end)

  it('reports a folder it cannot write to', function()
    H.raises({ 'save: cannot create a temporary file next to', '/nonexistent-dir/x.t7' },
             torch.save, '/nonexistent-dir/x.t7', 1)
  end)

  it('a process killed mid-write leaves the old file or the whole new one', function()
    torch.save(path, 'old')
    local before = readAll(path)
    local script = ("local torch = require 'torch'; torch.save(%q, { torch.ones(60000000) })"):format(path)
    os.execute(('LUA_PATH=%s LUA_CPATH=%s timeout -s KILL 1 lua5.4 -e %s >/dev/null 2>&1')
               :format(quote(package.path), quote(package.cpath), quote(script)))
    local after = readAll(path)
    if after == before then
      assert.equal('old', torch.load(path))
    else
      assert.equal(60000000, torch.load(path)[1]:nElement())
    end
    os.execute('rm -f ' .. quote(path) .. '.tmp-*')
  end)

  it('serialize and saveSafetensors use the same writer', function()
    torch.saveSafetensors(path, { w = torch.ones(2) })
    local before = readAll(path)
    H.raises('saveSafetensors: b is a function, not a tensor', torch.saveSafetensors, path, { a = torch.ones(3), b = print })
    assert.is_true(readAll(path) == before)
  end)
end)
