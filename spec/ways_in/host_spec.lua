-- A C host (src/ember_host.h): the game-loop example (latency and correctness),
-- host threads with a lua_State each, and a memory-limited allocator. The programs
-- are built by the Makefile into $(BUILD)/examples and $(BUILD)/spec.
local W = require 'ways_in.util'

local lua_dir = W.root .. '/lua'

describe('a C host', function()
  it('runs a 64-64-4 policy every frame in well under 5 us, matching plain C', function()
    local cmd = ('%s/examples/embed -L %s -n 20000 %s/examples/embed/policy.lua'):format(
      W.build, W.q(lua_dir), W.q(W.root))
    local best
    for _ = 1, 3 do   -- a busy machine can slow one run; the best of three counts
      local out, ok = W.sh(cmd)
      assert(ok, out)
      assert.truthy(out:find('actions match the C reference', 1, true))
      local median, p99 = out:match('median ([%d.]+) us%s+p99 ([%d.]+) us')
      assert(median, out)
      best = math.min(best or math.huge, tonumber(median))
      assert.truthy(tonumber(p99) >= tonumber(median))
      if best < 5 then break end
    end
    assert(best < 5, ('median frame latency %.2f us, target < 5 us'):format(best))
  end)

  it('runs host threads, each with its own lua_State, without interference', function()
    local out, ok = W.sh(('%s/spec/host_threads -L %s 8 300'):format(W.build, W.q(lua_dir)))
    assert(ok, out)
    assert.truthy(out:find('8 threads x 300 iterations: all match the single-threaded runs', 1, true))
  end)

  it('gives a memory-limited host a Lua error, not a crash, when a tensor is refused', function()
    local out, ok = W.sh(('%s/spec/host_memlimit -L %s'):format(W.build, W.q(lua_dir)))
    assert(ok, out)
    assert.falsy(out:find('FAILED', 1, true))
    local _, passed = out:gsub('\nok: ', '')
    assert.equal(14, passed + (out:match('^ok: ') and 1 or 0), out)
    assert.truthy(out:find('tensor: out of memory allocating 1600000000 bytes', 1, true))
    assert.truthy(out:find('lua_close returns every byte -- 0 bytes left', 1, true))
  end)

  it('has a header that compiles without Lua\'s headers', function()
    local tmp = W.tmpdir()
    W.write(tmp .. '/host.c', [[
#include "ember_host.h"
float first(lua_State *L) {
  int64_t n;
  float *p = em_host_floats(L, -1, &n);
  return p && n > 0 ? p[0] : 0.0f;
}
]])
    local out, ok = W.sh(('cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I%s/src %s/host.c'):format(
      W.q(W.root), W.q(tmp)))
    W.sh('rm -rf ' .. W.q(tmp))
    assert(ok, out)
    local header = assert(io.open(W.root .. '/src/ember_host.h')):read('a')
    assert.falsy(header:find('#include <lua', 1, true))
  end)
end)
