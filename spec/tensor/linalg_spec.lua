-- Linear algebra (src/blas.c, src/cpu_blas.c, src/lua_linalg.c): every call form of
-- Torch7's dot/mv/mm/bmm/ger and the add* updates, matmul's broadcasting, views passed to
-- BLAS in place, non-BLAS dtypes, and the error messages. Products are checked against a
-- plain Lua triple loop.
local torch = require 'torch'
local H = require 'helpers'

-- A deterministic rows x cols table of small integers (exact in every float dtype).
local function tab(rows, cols, seed)
  local t = {}
  for i = 1, rows do
    t[i] = {}
    for j = 1, cols do t[i][j] = ((i * 7 + j * 3 + (seed or 0) * 5) % 11) - 5 end
  end
  return t
end

local function mat(rows, cols, seed, dtype)
  return torch.Tensor(tab(rows, cols, seed)):type(dtype or 'float32')
end

-- The plain product of two nested tables.
local function ref_mm(a, b)
  local r = {}
  for i = 1, #a do
    r[i] = {}
    for j = 1, #b[1] do
      local s = 0
      for k = 1, #b do s = s + a[i][k] * b[k][j] end
      r[i][j] = s
    end
  end
  return r
end

local function T(x) return x:totable() end

describe('dot', function()
  it('multiplies hand-checked vectors in every form', function()
    local a, b = torch.Tensor{1, 2, 3}, torch.Tensor{4, 5, 6}
    assert.are.equal(32, torch.dot(a, b))
    assert.are.equal(32, a:dot(b))
    assert.are.equal(32, torch.matmul(a, b))
  end)
  it('sees any shapes with one element count as vectors (Torch7)', function()
    local x = torch.Tensor(2, 2):fill(2)
    local y = torch.Tensor(4):fill(3)
    assert.are.equal(24, x:dot(y))
    assert.are.equal(24, x:t():dot(y))
  end)
  it('follows strides of a column', function()
    local m = mat(4, 3, 1)
    local col = m:select(2, 2)
    local t = tab(4, 3, 1)
    local s = 0
    for i = 1, 4 do s = s + t[i][2] * t[i][2] end
    assert.are.equal(s, col:dot(col))
  end)
  it('returns an exact integer for int64', function()
    local a = torch.LongTensor{2 ^ 40, 3}
    local b = torch.LongTensor{3, 5}
    local d = a:dot(b)
    assert.are.equal('integer', math.type(d))
    assert.are.equal(3 * 2 ^ 40 + 15, d)
  end)
  it('works in float64', function()
    local a = torch.DoubleTensor{1 + 1e-10, 2}
    H.near(a:dot(torch.DoubleTensor{1, 1}), 3 + 1e-10, 1e-15)
  end)
end)

describe('mv', function()
  local M = torch.Tensor{{1, 2}, {3, 4}, {5, 6}}
  local v = torch.Tensor{1, -1}
  it('has three call forms', function()
    assert.are.same({-1, -1, -1}, T(torch.mv(M, v)))
    local r = torch.Tensor(3)
    local out = torch.mv(r, M, v)
    assert.are.equal(r, out)
    assert.are.same({-1, -1, -1}, T(r))
    local r2 = torch.Tensor()
    r2:mv(M, v)
    assert.are.same({-1, -1, -1}, T(r2))
  end)
  it('reads a transposed matrix and a strided vector in place', function()
    local A = mat(5, 4, 2)
    local x = mat(5, 3, 3):select(2, 3)         -- stride 3
    local want = {}
    local a, xt = tab(5, 4, 2), T(x)
    for j = 1, 4 do
      want[j] = 0
      for i = 1, 5 do want[j] = want[j] + a[i][j] * xt[i] end
    end
    assert.are.same(want, T(torch.mv(A:t(), x)))
  end)
  it('matmul of a row vector and a matrix', function()
    local A = mat(3, 4, 1)
    local x = torch.Tensor{1, 2, 3}
    local r = torch.matmul(x, A)
    assert.are.same({4}, r:sizeTable())
    assert.are.same(ref_mm({T(x)}, tab(3, 4, 1))[1], T(r))
  end)
end)

describe('mm', function()
  local a = torch.Tensor{{1, 2}, {3, 4}}
  local b = torch.Tensor{{5, 6}, {7, 8}}
  local ab = {{19, 22}, {43, 50}}
  it('multiplies a hand-checked pair in every call form', function()
    assert.are.same(ab, T(torch.mm(a, b)))
    assert.are.same(ab, T(a:mm(b)))
    local r = torch.Tensor()
    assert.are.equal(r, torch.mm(r, a, b))
    assert.are.same(ab, T(r))
    local r2 = torch.zeros(2, 2)
    assert.are.equal(r2, r2:mm(a, b))
    assert.are.same(ab, T(r2))
    assert.are.same(ab, T(torch.matmul(a, b)))
  end)
  it('leaves its inputs alone', function()
    torch.mm(a, b)
    assert.are.same({{1, 2}, {3, 4}}, T(a))
    assert.are.same({{5, 6}, {7, 8}}, T(b))
  end)
  it('matches the plain loop on sizes that exercise BLAS blocking', function()
    local x, y = mat(37, 53, 1), mat(53, 29, 2)
    assert.are.same(ref_mm(tab(37, 53, 1), tab(53, 29, 2)), T(torch.mm(x, y)))
  end)
  it('passes transposed operands to BLAS', function()
    local x, y = mat(6, 5, 1), mat(7, 6, 2)   -- x^T (5x6) @ y^T (6x7)
    local want = ref_mm(T(x:t():contiguous()), T(y:t():contiguous()))
    assert.are.same(want, T(torch.mm(x:t(), y:t())))
    assert.are.same(ref_mm(T(x:t():contiguous()), tab(6, 4, 3)), T(torch.mm(x:t(), mat(6, 4, 3))))
    assert.are.same(ref_mm(tab(4, 6, 3), T(y:t():contiguous())), T(torch.mm(mat(4, 6, 3), y:t())))
  end)
  it('reads narrowed blocks (leading dim larger than the width)', function()
    local big = mat(10, 12, 4)
    local x = big:narrow(1, 2, 5):narrow(2, 3, 6)      -- 5x6 inside 10x12
    local y = big:narrow(1, 4, 6):narrow(2, 1, 4)      -- 6x4
    local want = ref_mm(T(x:contiguous()), T(y:contiguous()))
    assert.are.same(want, T(torch.mm(x, y)))
    assert.are.same(want, T(torch.mm(y:t(), x:t()):t():contiguous()))
  end)
  it('copies an operand with no unit stride', function()
    local base = torch.Tensor(4, 5, 3)
    base:copy(torch.Tensor(tab(4, 15, 5)):view(4, 5, 3))
    local x = base:select(3, 2)                         -- 4x5, strides 15 and 3
    assert.are.same(ref_mm(T(x:contiguous()), tab(5, 3, 1)), T(torch.mm(x, mat(5, 3, 1))))
  end)
  it('writes into a transposed or narrowed result', function()
    local x, y = mat(4, 3, 1), mat(3, 5, 2)
    local want = ref_mm(tab(4, 3, 1), tab(3, 5, 2))
    local rt = torch.zeros(5, 4):t()                    -- column-major 4x5
    rt:mm(x, y)
    assert.are.same(want, T(rt))
    local big = torch.zeros(6, 9)
    local rn = big:narrow(1, 2, 4):narrow(2, 3, 5)
    rn:mm(x, y)
    assert.are.same(want, T(rn))
    assert.are.same({0, 0, 0, 0, 0, 0, 0, 0, 0}, T(big[1]))
  end)
  it('handles single rows, single columns and k = 1 (gemv paths)', function()
    local row, col = mat(1, 6, 1), mat(6, 1, 2)
    local m = mat(6, 5, 3)
    assert.are.same(ref_mm(tab(1, 6, 1), tab(6, 5, 3)), T(torch.mm(row, m)))
    assert.are.same(ref_mm(tab(5, 6, 4), tab(6, 1, 2)), T(torch.mm(mat(5, 6, 4), col)))
    assert.are.same(ref_mm(tab(1, 6, 1), tab(6, 1, 2)), T(torch.mm(row, col)))
    assert.are.same(ref_mm(tab(6, 1, 2), tab(1, 6, 1)), T(torch.mm(col, row)))
    local rowt = mat(6, 1, 5):t()                    -- 1x6 with strides (1, 1)
    assert.are.same(ref_mm(T(rowt), tab(6, 5, 3)), T(torch.mm(rowt, m)))
    assert.are.same(ref_mm(tab(5, 6, 4), T(rowt:t())), T(torch.mm(mat(5, 6, 4), rowt:t())))
  end)
  it('handles empty dims: k = 0 gives zeros (or beta * M), n = 0 an empty result', function()
    assert.are.same({{0, 0, 0}, {0, 0, 0}}, T(torch.mm(torch.zeros(2, 0), torch.zeros(0, 3))))
    assert.are.same({{2, 2, 2}, {2, 2, 2}}, T(torch.addmm(2, torch.ones(2, 3), torch.zeros(2, 0), torch.zeros(0, 3))))
    assert.are.same({0, 3}, torch.mm(torch.zeros(0, 2), torch.zeros(2, 3)):sizeTable())
  end)
  it('ignores NaN in the result it overwrites', function()
    local r = torch.Tensor(2, 2):fill(0 / 0)
    r:mm(a, b)
    assert.are.same(ab, T(r))
  end)
  it('writes into an operand through a temporary', function()
    local x = torch.Tensor{{1, 2}, {3, 4}}
    x:mm(x, b)
    assert.are.same(ab, T(x))
    local y = torch.Tensor{{5, 6}, {7, 8}}
    y:mm(a, y)
    assert.are.same(ab, T(y))
  end)
  it('computes float64 in double precision', function()
    local x = torch.DoubleTensor{{1 + 1e-12, 1}, {1, 1}}
    local r = torch.mm(x, x)
    assert.are.equal('torch.DoubleTensor', r:type())
    H.near(r, {{(1 + 1e-12) ^ 2 + 1, 2 + 1e-12}, {2 + 1e-12, 2}}, 1e-14)
    assert.are.same(ref_mm(tab(9, 8, 1), tab(8, 7, 2)), T(torch.mm(mat(9, 8, 1, 'float64'), mat(8, 7, 2, 'float64'))))
  end)
  it('is exact for int64 past 2^53', function()
    local x = torch.LongTensor{{2 ^ 27 + 1, 1}}
    local y = torch.LongTensor{{2 ^ 27 + 1}, {1}}
    local r = torch.mm(x, y)
    assert.are.equal('torch.LongTensor', r:type())
    assert.are.equal(((1 << 27) + 1) * ((1 << 27) + 1) + 1, r[1][1])
    assert.are.equal(18014398777917442, r[1][1])
    assert.are.same(ref_mm(tab(4, 3, 1), tab(3, 5, 2)), T(torch.mm(mat(4, 3, 1, 'int64'):t():contiguous():t(), mat(3, 5, 2, 'int64'))))
  end)
  it('runs int32, float16 and bfloat16 through the reference paths', function()
    local want = ref_mm(tab(4, 3, 1), tab(3, 5, 2))
    assert.are.same(want, T(torch.mm(mat(4, 3, 1, 'int32'), mat(3, 5, 2, 'int32'))))
    local h = torch.mm(mat(4, 3, 1, 'float16'), mat(3, 5, 2, 'float16'))
    assert.are.equal('float16', h:dtype())
    H.near(h, want, 1e-3)
    H.near(torch.mm(mat(4, 3, 1, 'bfloat16'):t():contiguous():t(), mat(3, 5, 2, 'bfloat16')), want, 1e-3)
  end)
end)

describe('addmm', function()
  local a = torch.Tensor{{1, 2}, {3, 4}}
  local b = torch.Tensor{{5, 6}, {7, 8}}
  local function M() return torch.Tensor{{1, 1}, {1, 2}} end
  it('torch.addmm(M, a, b) is new and leaves M alone', function()
    local m = M()
    assert.are.same({{20, 23}, {44, 52}}, T(torch.addmm(m, a, b)))
    assert.are.same({{1, 1}, {1, 2}}, T(m))
  end)
  it('takes v1 before M and v2 before mat1', function()
    assert.are.same({{2 + 57, 2 + 66}, {2 + 129, 4 + 150}}, T(torch.addmm(2, M(), 3, a, b)))
    assert.are.same({{2 + 19, 2 + 22}, {2 + 43, 4 + 50}}, T(torch.addmm(2, M(), a, b)))
    assert.are.same({{1 + 57, 1 + 66}, {1 + 129, 2 + 150}}, T(torch.addmm(M(), 3, a, b)))
  end)
  it('torch.addmm(r, [v1,] M, [v2,] a, b) writes into r', function()
    local r = torch.Tensor()
    assert.are.equal(r, torch.addmm(r, M(), a, b))
    assert.are.same({{20, 23}, {44, 52}}, T(r))
    torch.addmm(r, 0.5, M(), -1, a, b)
    assert.are.same({{0.5 - 19, 0.5 - 22}, {0.5 - 43, 1 - 50}}, T(r))
  end)
  it('as a method: M:addmm(a, b), M:addmm(v1, v2, a, b), r:addmm(v1, M, v2, a, b)', function()
    local m = M()
    assert.are.equal(m, m:addmm(a, b))
    assert.are.same({{20, 23}, {44, 52}}, T(m))
    m = M()
    m:addmm(2, 3, a, b)
    assert.are.same({{59, 68}, {131, 154}}, T(m))
    local r = torch.zeros(2, 2)
    local m2 = M()
    r:addmm(2, m2, 3, a, b)
    assert.are.same({{59, 68}, {131, 154}}, T(r))
    assert.are.same({{1, 1}, {1, 2}}, T(m2))
    r:addmm(M(), a, b)
    assert.are.same({{20, 23}, {44, 52}}, T(r))
  end)
  it('broadcasts a bias row to the result', function()
    local bias = torch.Tensor{10, 20}
    assert.are.same({{29, 42}, {53, 70}}, T(torch.addmm(bias, a, b)))
  end)
  it('beta 0 ignores NaN in M', function()
    local m = torch.Tensor(2, 2):fill(0 / 0)
    m:addmm(0, 1, a, b)
    assert.are.same({{19, 22}, {43, 50}}, T(m))
  end)
  it('updates M in place when M is also an operand', function()
    local m = torch.Tensor{{1, 2}, {3, 4}}
    m:addmm(m, m)
    assert.are.same({{1 + 7, 2 + 10}, {3 + 15, 4 + 22}}, T(m))
  end)
end)

describe('addmv', function()
  it('follows the Torch7 examples', function()
    local x = torch.Tensor(3):fill(0)
    local M = torch.Tensor(3, 2):fill(3)
    local y = torch.Tensor(2):fill(2)
    x:addmv(M, y)
    assert.are.same({12, 12, 12}, T(x))
    local r = torch.Tensor{1, 1, 1}
    r:addmv(2, M, y)                           -- r = r + 2 * M y
    assert.are.same({25, 25, 25}, T(r))
    local v = torch.Tensor{1, 2, 3}
    r:addmv(v, 2, M, y)                        -- r = v + 2 * M y
    assert.are.same({25, 26, 27}, T(r))
    r:addmv(0.5, 2, M, y)                      -- r = 0.5 r + 2 * M y
    assert.are.same({36.5, 37, 37.5}, T(r))
    assert.are.same({13, 14, 15}, T(torch.addmv(v, M, y)))
    assert.are.same({14, 16, 18}, T(torch.addmv(2, v, M, y)))
  end)
end)

describe('addr and ger', function()
  local x = torch.Tensor{1, 2, 3}
  local y = torch.Tensor{1, 2}
  it('follows the Torch7 examples', function()
    local M = torch.Tensor(3, 2):zero()
    M:addr(x, y)
    assert.are.same({{1, 2}, {2, 4}, {3, 6}}, T(M))
    M:addr(2, 1, x, y)
    assert.are.same({{3, 6}, {6, 12}, {9, 18}}, T(M))
    local A = torch.Tensor{{1, 2}, {3, 4}, {5, 6}}
    M:addr(2, A, 1, x, y)
    assert.are.same({{3, 6}, {8, 12}, {13, 18}}, T(M))
    assert.are.same({{2, 4}, {5, 8}, {8, 12}}, T(torch.addr(A, x, y)))
  end)
  it('ger and outer', function()
    assert.are.same({{1, 2}, {2, 4}, {3, 6}}, T(torch.ger(x, y)))
    assert.are.same({{1, 2, 3}, {2, 4, 6}}, T(torch.outer(y, x)))
    local r = torch.Tensor()
    r:ger(x, y)
    assert.are.same({{1, 2}, {2, 4}, {3, 6}}, T(r))
  end)
end)

describe('batched products', function()
  local function batch(B, n, m, seed, dtype)
    local t = {}
    for i = 1, B do t[i] = tab(n, m, seed + i) end
    return torch.Tensor(t):type(dtype or 'float32'), t
  end
  it('bmm in every call form, with transposed batches', function()
    local a, ta = batch(3, 4, 5, 1)
    local b, tb = batch(3, 5, 2, 7)
    local r = torch.bmm(a, b)
    assert.are.same({3, 4, 2}, r:sizeTable())
    for i = 1, 3 do assert.are.same(ref_mm(ta[i], tb[i]), T(r[i])) end
    local r2 = torch.Tensor()
    r2:bmm(a, b)
    assert.are.same(T(r), T(r2))
    local at = a:transpose(2, 3):contiguous():transpose(2, 3)    -- column-major batches
    assert.are.same(T(r), T(torch.bmm(at, b)))
    assert.are.same(T(r), T(torch.matmul(a, b)))
  end)
  it('baddbmm and addbmm', function()
    local a, ta = batch(2, 3, 4, 1)
    local b, tb = batch(2, 4, 2, 5)
    local M = torch.ones(2, 3, 2)
    local r = torch.baddbmm(2, M, 3, a, b)
    for i = 1, 2 do
      local p = ref_mm(ta[i], tb[i])
      for x = 1, 3 do for y = 1, 2 do p[x][y] = 2 + 3 * p[x][y] end end
      assert.are.same(p, T(r[i]))
    end
    local s = torch.addbmm(torch.ones(3, 2), a, b)
    local p1, p2 = ref_mm(ta[1], tb[1]), ref_mm(ta[2], tb[2])
    for x = 1, 3 do for y = 1, 2 do p1[x][y] = 1 + p1[x][y] + p2[x][y] end end
    assert.are.same(p1, T(s))
    local m = torch.ones(3, 2)
    m:addbmm(a, b)
    assert.are.same(p1, T(m))
  end)
  it('sums into a result with no unit stride, and in float16', function()
    local a, ta = batch(3, 3, 4, 2)
    local b, tb = batch(3, 4, 2, 6)
    local want = ref_mm(ta[1], tb[1])
    for i = 2, 3 do
      local p = ref_mm(ta[i], tb[i])
      for x = 1, 3 do for y = 1, 2 do want[x][y] = want[x][y] + p[x][y] end end
    end
    local base = torch.zeros(3, 2, 2)
    local r = base:select(3, 1)                -- 3x2, strides 4 and 2
    torch.addbmm(r, 0, torch.zeros(3, 2), 1, a, b)
    assert.are.same(want, T(r))
    assert.are.same({0, 0}, T(base[1]:select(2, 2)))
    local h = torch.addbmm(torch.zeros(3, 2, 'float16'), a:half(), b:half())
    H.near(h, want, 1e-3)
    local m = torch.ones(3, 3, 2)
    m:baddbmm(0, 2, a, b)                      -- m = 2 * a @ b
    local p3 = ref_mm(ta[3], tb[3])
    for x = 1, 3 do for y = 1, 2 do p3[x][y] = 2 * p3[x][y] end end
    assert.are.same(p3, T(m[3]))
  end)
  it('matmul broadcasts batch dims', function()
    local a, ta = batch(2, 3, 4, 1)           -- (2, 3, 4)
    local a4 = a:view(2, 1, 3, 4)
    local b, tb = batch(5, 4, 2, 3)           -- (5, 4, 2)
    local r = torch.matmul(a4, b)
    assert.are.same({2, 5, 3, 2}, r:sizeTable())
    for i = 1, 2 do
      for j = 1, 5 do assert.are.same(ref_mm(ta[i], tb[j]), T(r[i][j])) end
    end
  end)
  it('matmul folds (..., n, k) @ (k, p) and broadcasts (k, p) @ (B, ...)', function()
    local a, ta = batch(3, 2, 4, 1)
    local w = mat(4, 5, 9)
    local r = torch.matmul(a, w)
    assert.are.same({3, 2, 5}, r:sizeTable())
    for i = 1, 3 do assert.are.same(ref_mm(ta[i], tab(4, 5, 9)), T(r[i])) end
    local b, tb = batch(3, 4, 2, 2)
    local r2 = torch.matmul(w:t(), b)
    for i = 1, 3 do assert.are.same(ref_mm(T(w:t():contiguous()), tb[i]), T(r2[i])) end
  end)
  it('matmul with a vector on either side of a batch', function()
    local a, ta = batch(2, 3, 4, 1)
    local v = torch.Tensor{1, 0, -1, 2}
    local r = torch.matmul(a, v)
    assert.are.same({2, 3}, r:sizeTable())
    for i = 1, 2 do
      for x = 1, 3 do assert.are.equal(ref_mm(ta[i], {{1}, {0}, {-1}, {2}})[x][1], r[i][x]) end
    end
    local u = torch.Tensor{1, 2, 3}
    local r2 = torch.matmul(u, a)
    assert.are.same({2, 4}, r2:sizeTable())
    assert.are.same(ref_mm({{1, 2, 3}}, ta[2])[1], T(r2[2]))
  end)
  it('int64 bmm and matmul into a given result', function()
    local a, ta = batch(2, 2, 3, 1, 'int64')
    local b, tb = batch(2, 3, 2, 4, 'int64')
    local r = torch.LongTensor()
    torch.matmul(r, a, b)
    for i = 1, 2 do assert.are.same(ref_mm(ta[i], tb[i]), T(r[i])) end
  end)
end)

describe('threads', function()
  it('setnumthreads / getnumthreads', function()
    local n = torch.getnumthreads()
    torch.setnumthreads(1)
    assert.are.equal(1, torch.getnumthreads())
    assert.are.same({{19, 22}, {43, 50}}, T(torch.mm(torch.Tensor{{1, 2}, {3, 4}}, torch.Tensor{{5, 6}, {7, 8}})))
    torch.setnumthreads(n)
    assert.are.equal(n, torch.getnumthreads())
    H.raises('thread count', torch.setnumthreads, 0)
  end)
end)

describe('linalg errors', function()
  it('names the op and both shapes', function()
    H.raises('mm: sizes 3x4 and 5x6 cannot be multiplied', torch.mm, torch.zeros(3, 4), torch.zeros(5, 6))
    H.raises('mv: sizes 3x4 and 5 cannot be multiplied', torch.mv, torch.zeros(3, 4), torch.zeros(5))
    H.raises('matmul: sizes 3 and 4 cannot be multiplied', torch.matmul, torch.zeros(3), torch.zeros(4))
    H.raises('matmul: sizes 2x3x4 and 5x2 cannot be multiplied', torch.matmul, torch.zeros(2, 3, 4), torch.zeros(5, 2))
    H.raises('bmm: sizes 2x3x4 and 2x5x6 cannot be multiplied', torch.bmm, torch.zeros(2, 3, 4), torch.zeros(2, 5, 6))
    H.raises('dot: sizes 3 and 2x2 have different numbers of elements', torch.dot, torch.zeros(3), torch.zeros(2, 2))
  end)
  it('rejects operands that are not matrices', function()
    H.raises({'mm: expected 2-D matrices', '3', '3x4'}, torch.mm, torch.zeros(3), torch.zeros(3, 4))
    H.raises('mv: expected a matrix and a vector, got sizes 3x4 and 4x1', torch.mv, torch.zeros(3, 4), torch.zeros(4, 1))
    H.raises('bmm: expected 3-D batches', torch.bmm, torch.zeros(3, 4), torch.zeros(4, 3))
    H.raises('ger: expected two vectors', torch.ger, torch.zeros(3, 1), torch.zeros(3))
    H.raises('matmul: expected tensors with at least one dimension', torch.matmul, torch.Tensor(), torch.zeros(3))
    H.raises('bad argument #2', torch.mm, torch.zeros(2, 2), 3)
  end)
  it('rejects mixed dtypes and bool', function()
    H.raises('mm: dtypes float32 and float64 differ', torch.mm, torch.zeros(2, 2), torch.zeros(2, 2, 'float64'))
    H.raises('mm: the result is float64 but the inputs are float32', torch.mm, torch.zeros(2, 2, 'float64'), torch.zeros(2, 2), torch.zeros(2, 2))
    H.raises('addmm: the added tensor is int64 but the inputs are float32', torch.addmm, torch.zeros(2, 2, 'int64'), torch.zeros(2, 2), torch.zeros(2, 2))
    H.raises('mm: bool tensors cannot be multiplied', torch.mm, torch.zeros(2, 2, 'bool'), torch.zeros(2, 2, 'bool'))
    H.raises('addmm: alpha and beta must be integers for int64 tensors', torch.addmm, 0.5, torch.zeros(2, 2, 'int64'), torch.zeros(2, 2, 'int64'), torch.zeros(2, 2, 'int64'))
  end)
  it('batch and broadcast mismatches', function()
    H.raises('bmm: batches of sizes 2x3x4 and 3x4x5 hold different numbers of matrices', torch.bmm, torch.zeros(2, 3, 4), torch.zeros(3, 4, 5))
    H.raises('matmul: the batch dimensions of sizes 2x3x4 and 3x4x5 cannot broadcast', torch.matmul, torch.zeros(2, 3, 4), torch.zeros(3, 4, 5))
    H.raises('addmm: the added tensor of size 3 does not broadcast to the result\'s size 2x2', torch.addmm, torch.zeros(3), torch.zeros(2, 2), torch.zeros(2, 2))
    H.raises('addmm: cannot update the added tensor of size 1x2 in place', function()
      torch.zeros(1, 2):addmm(torch.zeros(2, 2), torch.zeros(2, 2))
    end)
  end)
  it('rejects malformed add* argument lists', function()
    H.raises('addmm: expected ([res,] [v1,] M, [v2,] mat1, mat2)', torch.addmm, torch.zeros(2, 2), torch.zeros(2, 2))
    H.raises('addmm: expected', torch.addmm, torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(2, 2), 2)
    H.raises('addmv: argument 2 is a string', torch.addmv, torch.zeros(2), 'x', torch.zeros(2, 2), torch.zeros(2))
  end)
  it('leaves the result and the inputs unchanged on failure', function()
    local r = torch.Tensor{{1, 2}, {3, 4}}
    local a, b = torch.ones(2, 3), torch.ones(2, 3)
    assert.has_error(function() r:mm(a, b) end)
    assert.are.same({{1, 2}, {3, 4}}, T(r))
    assert.has_error(function() r:addmm(a, b) end)
    assert.are.same({{1, 2}, {3, 4}}, T(r))
    assert.are.same({1, 1, 1}, T(a[1]))
  end)
end)

describe('linearAccGrad (nn.Linear parameter gradients in one call)', function()
  it('adds scale g^T x to gw and scale sum_N g to gb, against a hand loop in float64', function()
    for _, dt in ipairs { 'float64', 'float32' } do
      local x, g = mat(5, 3, 11, dt), mat(5, 4, 12, dt)
      local gw, gb = mat(4, 3, 13, dt), mat(1, 4, 14, dt):view(4)
      local gw0, gb0 = gw:double():totable(), gb:double():totable()
      local xt, gt = x:double():totable(), g:double():totable()
      torch.linearAccGrad(gw, gb, x, g, torch.ones(5, dt), 0.5)
      local tol = dt == 'float64' and 1e-12 or 1e-5
      for o = 1, 4 do
        local bsum = 0
        for i = 1, 3 do
          local s = 0
          for n = 1, 5 do s = s + gt[n][o] * xt[n][i] end
          H.near(gw[o][i], gw0[o][i] + 0.5 * s, tol)
        end
        for n = 1, 5 do bsum = bsum + gt[n][o] end
        H.near(gb[o], gb0[o] + 0.5 * bsum, tol)
      end
    end
  end)
  it('works without a bias and on non-contiguous gradients', function()
    local x, g = mat(6, 3, 21), mat(4, 6, 22):t()   -- g (6, 4), transposed view
    local gw = torch.zeros(4, 3)
    torch.linearAccGrad(gw, nil, x, g, nil, 1)
    H.near(gw, torch.mm(g:t(), x), 1e-5)
  end)
  it('checks every size before writing, and names the op', function()
    local gw, gb = torch.ones(4, 3), torch.ones(4)
    H.raises('linear backward: gradOutput of size 5x4 and input of size 5x2 do not fit a weight gradient of size 4x3',
             torch.linearAccGrad, gw, gb, torch.ones(5, 2), torch.ones(5, 4), torch.ones(5), 1)
    H.raises('linear backward: bias gradient of size 3 or ones of size 5 do not fit gradOutput of size 5x4',
             torch.linearAccGrad, gw, torch.ones(3), torch.ones(5, 3), torch.ones(5, 4), torch.ones(5), 1)
    H.raises('linear backward: bias gradient of size 4 or ones of size 2 do not fit gradOutput of size 5x4',
             torch.linearAccGrad, gw, gb, torch.ones(5, 3), torch.ones(5, 4), torch.ones(2), 1)
    assert.are.same(torch.ones(4, 3):totable(), gw:totable())
    assert.are.same(torch.ones(4):totable(), gb:totable())
  end)
end)

describe('dot', function()
  it('returns a number and creates no tensor per call', function()
    local a, b = torch.Tensor{1, 2, 3}, torch.Tensor{4, 5, 6}
    assert.are.equal(32, torch.dot(a, b))
    assert.are.equal(32, torch.dot(torch.LongTensor{1, 2, 3}, torch.LongTensor{4, 5, 6}))
    collectgarbage('collect'); collectgarbage('stop')
    local before = collectgarbage('count')
    for _ = 1, 1000 do torch.dot(a, b) end
    local grew = (collectgarbage('count') - before) * 1024
    collectgarbage('restart')
    assert.is_true(grew < 1000, ('dot allocated %d bytes in 1000 calls'):format(grew))
    H.raises('dot: sizes 3 and 2 have different numbers of elements', torch.dot, a, torch.ones(2))
  end)
end)
