-- Indexing by tensors and masks, joining and splitting: index/indexSelect, indexCopy,
-- indexAdd, indexFill, gather, scatter, scatterAdd, nonzero, maskedSelect/Fill/Copy,
-- cat, stack, split, chunk, and t[tensor] / t[tensor] = v. Hand-computed values,
-- non-contiguous inputs, every error with its message, inputs unchanged after errors.
local torch = require 'torch'
local H = require 'helpers'

local L = torch.LongTensor
local B = torch.BoolTensor
local T = torch.Tensor

local function m33() return T{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}} end

-- asserts that f(...) fails with the fragments and leaves x as it was
local function raises_unchanged(x, fragments, f, ...)
  local before = x:clone()
  H.raises(fragments, f, ...)
  H.near(x, before, 0, 'input changed by a failed call')
end

local dtypes = {'float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'}

describe('index / indexSelect', function()
  it('selects rows and columns (1-based indices)', function()
    local x = m33()
    local r = x:index(1, L{3, 1})
    assert.are.same({2, 3}, r:sizeTable())
    assert.are.same({{7, 8, 9}, {1, 2, 3}}, r:totable())
    assert.are.same({{3, 1, 3}, {6, 4, 6}, {9, 7, 9}}, x:indexSelect(2, L{3, 1, 3}):totable())
    assert.are.same({{4, 5, 6}}, torch.index(x, 1, L{2}):totable())
    assert.are.same({{4, 5, 6}}, torch.indexSelect(x, 1, L{2}):totable())
  end)

  it('writes into a given result', function()
    local res = T()
    local r = torch.index(res, m33(), 2, L{2})
    assert.are.equal(res, r)
    assert.are.same({{2}, {5}, {8}}, res:totable())
    local res2 = T()
    res2:index(m33(), 1, L{3})                           -- Torch7's result-first method form
    assert.are.same({{7, 8, 9}}, res2:totable())
  end)

  it('handles non-contiguous sources and indices, and IntTensor indices', function()
    local x = m33()
    assert.are.same({{1, 4, 7}, {3, 6, 9}}, x:t():index(1, L{1, 3}):totable())
    local idx = L{{1, 2}, {3, 1}}:select(2, 1)          -- {1, 3}, stride 2
    assert.is_false(idx:isContiguous())
    assert.are.same({{1, 2, 3}, {7, 8, 9}}, x:index(1, idx):totable())
    assert.are.same({{8, 9}}, x:narrow(2, 2, 2):index(1, torch.IntTensor{3}):totable())
  end)

  it('works for every dtype', function()
    for _, dt in ipairs(dtypes) do
      local x = torch.new(dt, {{1, 0}, {0, 1}})
      local r = x:index(1, L{2, 1, 2})
      assert.are.equal(dt, r:dtype())
      H.near(r, {{0, 1}, {1, 0}, {0, 1}}, 0, dt)
    end
  end)

  it('copies whole rows of a big matrix, matching the strided path', function()
    local n, m = 1000, 200
    local x = T(n, m)
    for i = 1, n do x[i]:fill(i) end
    local order = {}
    for i = 1, n do order[i] = n + 1 - i end
    local r = x:index(1, L(order))
    local col = r:select(2, m):totable()
    for i = 1, n do assert(col[i] == n + 1 - i, 'row ' .. i) end
    local xs = T(m, n):t():copy(x)                      -- same values, non-contiguous
    assert.is_false(xs:isContiguous())
    H.near(xs:index(1, L(order)), r, 0)
  end)

  it('selects nothing with an empty index', function()
    assert.are.equal(0, m33():index(1, L()):nElement())
  end)

  it('reports bad indices, dims and index types', function()
    local x = T(5, 2):fill(1)
    H.raises('indexSelect: index 7 out of range for dimension 1 of size 5', x.index, x, 1, L{1, 7})
    H.raises('indexSelect: index 0 out of range for dimension 1 of size 5', x.index, x, 1, L{0})
    H.raises('indexSelect: index 3 out of range for dimension 2 of size 2', x.indexSelect, x, 2, L{3})
    H.raises('indexSelect: indices must be a LongTensor', x.index, x, 1, T{1})
    H.raises('indexSelect: dimension 3 out of range', x.index, x, 3, L{1})
    H.raises('indexSelect: the index must be 1-dimensional', x.index, x, 1, L{{1}})
  end)
end)

describe('indexCopy / indexAdd / indexFill', function()
  it('indexCopy copies slices to the indexed positions', function()
    local x = torch.zeros(4, 2)
    local r = x:indexCopy(1, L{4, 2}, T{{1, 2}, {3, 4}})
    assert.are.equal(x, r)
    assert.are.same({{0, 0}, {3, 4}, {0, 0}, {1, 2}}, x:totable())
    local y = torch.zeros(2, 3)
    y:indexCopy(2, L{3, 1}, T{{1, 2}, {3, 4}})
    assert.are.same({{2, 0, 1}, {4, 0, 3}}, y:totable())
  end)

  it('indexCopy: the last duplicate wins; non-contiguous destination and source', function()
    assert.are.same({0, 6, 0}, torch.zeros(3):indexCopy(1, L{2, 2}, T{5, 6}):totable())
    local base = torch.zeros(3, 2)
    base:t():indexCopy(2, L{3}, T{{7}, {8}})             -- writes base's row 3
    assert.are.same({{0, 0}, {0, 0}, {7, 8}}, base:totable())
    local y = torch.zeros(2, 2)
    y:indexCopy(1, L{2, 1}, T{{1, 2}, {3, 4}}:t())       -- source rows {1,3}, {2,4}
    assert.are.same({{2, 4}, {1, 3}}, y:totable())
  end)

  it('indexAdd accumulates, duplicates included', function()
    local x = torch.ones(3, 2)
    x:indexAdd(1, L{1, 3, 1}, T{{1, 2}, {3, 4}, {5, 6}})
    assert.are.same({{7, 9}, {1, 1}, {4, 5}}, x:totable())
    local l = torch.zeros(2, 2, 'int64')
    l:t():indexAdd(1, L{2, 2}, L{{10, 20}, {1, 2}})     -- l's column 2 += 11, 22
    assert.are.same({{0, 11}, {0, 22}}, l:totable())
  end)

  it('indexFill fills the indexed slices', function()
    local x = torch.zeros(3, 3)
    x:indexFill(2, L{1, 3}, -1)
    assert.are.same({{-1, 0, -1}, {-1, 0, -1}, {-1, 0, -1}}, x:totable())
    local y = torch.zeros(3, 3):t()
    y:indexFill(1, L{2}, 4)
    assert.are.same({{0, 0, 0}, {4, 4, 4}, {0, 0, 0}}, y:totable())
    local b = torch.zeros(3, 'bool')
    b:indexFill(1, L{3}, true)
    assert.are.same({false, false, true}, b:totable())
  end)

  it('validate every index before writing', function()
    local x = torch.zeros(4, 2)
    raises_unchanged(x, 'indexCopy: index 9 out of range for dimension 1 of size 4',
                     x.indexCopy, x, 1, L{1, 9}, T{{1, 1}, {2, 2}})
    raises_unchanged(x, 'indexAdd: index 5 out of range for dimension 1 of size 4',
                     x.indexAdd, x, 1, L{2, 5}, T{{1, 1}, {2, 2}})
    raises_unchanged(x, 'indexFill: index 3 out of range for dimension 2 of size 2',
                     x.indexFill, x, 2, L{1, 3}, 7)
    raises_unchanged(x, {'indexCopy: source of size 3x2 does not match the destination of size 4x2',
                         '2 indices in dimension 1'},
                     x.indexCopy, x, 1, L{1, 2}, T(3, 2):fill(1))
    raises_unchanged(x, 'indexCopy: source dtype float64 differs from destination dtype float32',
                     x.indexCopy, x, 1, L{1}, torch.ones(1, 2, 'float64'))
    raises_unchanged(x, 'indexAdd: the source must be a tensor', x.indexAdd, x, 1, L{1}, 3)
  end)
end)

describe('gather / scatter / scatterAdd', function()
  it('gather picks along a dimension', function()
    local x = T{{1, 2}, {3, 4}}
    assert.are.same({{1, 1}, {4, 3}}, torch.gather(x, 2, L{{1, 1}, {2, 1}}):totable())
    assert.are.same({{3, 2}, {1, 2}}, x:gather(1, L{{2, 1}, {1, 1}}):totable())
    assert.are.same({{3}, {4}, {8}}, m33():gather(2, L{{3}, {1}, {2}}):totable())
    local res = T()
    torch.gather(res, x, 2, L{{2}, {2}})
    assert.are.same({{2}, {4}}, res:totable())
  end)

  it('gather: non-contiguous source and index', function()
    local x = m33():t()                                   -- {{1,4,7},{2,5,8},{3,6,9}}
    assert.are.same({{7, 1}, {5, 5}, {3, 9}}, x:gather(2, L{{3, 1}, {2, 2}, {1, 3}}):totable())
    local idx = L{{1, 2, 3}, {3, 2, 1}}:t()              -- {{1,3},{2,2},{3,1}}
    assert.are.same({{1, 7}, {5, 5}, {9, 3}}, x:gather(2, idx):totable())
  end)

  it('scatter writes src (the last duplicate wins) or a value', function()
    local x = torch.zeros(2, 3)
    local r = x:scatter(2, L{{3, 1}, {2, 2}}, T{{1, 2}, {3, 4}})
    assert.are.equal(x, r)
    assert.are.same({{2, 0, 1}, {0, 4, 0}}, x:totable())
    local y = torch.zeros(2, 3)
    y:scatter(1, L{{2, 1, 2}}, 5)
    assert.are.same({{0, 5, 0}, {5, 0, 5}}, y:totable())
    local z = torch.zeros(3, 2):t()                       -- 2x3 view
    z:scatter(2, L{{1}, {3}}, T{{8}, {9}})
    assert.are.same({{8, 0, 0}, {0, 0, 9}}, z:totable())
  end)

  it('scatterAdd accumulates', function()
    local x = torch.zeros(2, 3)
    x:scatterAdd(2, L{{1, 1}, {3, 3}}, T{{1, 2}, {3, 4}})
    assert.are.same({{3, 0, 0}, {0, 0, 7}}, x:totable())
    local i = torch.zeros(3, 'int32')
    i:scatterAdd(1, L{1, 1, 3}, torch.IntTensor{5, 6, 7})
    assert.are.same({11, 0, 7}, i:totable())
  end)

  it('errors name the op and sizes and write nothing', function()
    local x = torch.zeros(2, 2)
    local src = T{{1, 2}, {3, 4}}
    raises_unchanged(x, 'scatter: index 5 out of range for dimension 2 of size 2',
                     x.scatter, x, 2, L{{1, 5}, {1, 1}}, src)
    raises_unchanged(x, 'scatter: index 3 out of range for dimension 1 of size 2',
                     x.scatter, x, 1, L{{1, 1}, {3, 1}}, 9)
    raises_unchanged(x, 'scatterAdd: index 0 out of range for dimension 2 of size 2',
                     x.scatterAdd, x, 2, L{{1, 1}, {1, 0}}, src)
    raises_unchanged(x, 'scatter: source of size 1x1 is smaller than the index of size 2x2',
                     x.scatter, x, 2, L{{1, 1}, {1, 1}}, T{{1}})
    raises_unchanged(x, 'scatter: index of size 2 must have as many dimensions as the tensor of size 2x2',
                     x.scatter, x, 2, L{1, 1}, src)
    H.raises('gather: index 3 out of range for dimension 2 of size 2', src.gather, src, 2, L{{3}, {1}})
    H.raises('gather: index of size 3x1 is larger than the tensor of size 2x2 in dimension 1',
             src.gather, src, 2, L{{1}, {1}, {1}})
    H.raises('gather: indices must be a LongTensor', src.gather, src, 2, T{{1}, {1}})
  end)
end)

describe('nonzero', function()
  it('returns 1-based positions, one row per non-zero, row-major', function()
    local r = T{{0, 1}, {2, 0}}:nonzero()
    assert.are.equal('torch.LongTensor', r:type())
    assert.are.same({{1, 2}, {2, 1}}, r:totable())
    assert.are.same({{2}, {4}}, torch.nonzero(T{0, 3, 0, 4}):totable())
    assert.are.same({{2}}, torch.nonzero(T{-0.0, 1}):totable())   -- -0 is zero
    assert.are.same({{1}, {3}}, torch.nonzero(B{true, false, true}):totable())
  end)

  it('handles non-contiguous input and a given result', function()
    local x = T{{0, 1, 0}, {2, 0, 3}}:t()                -- {{0,2},{1,0},{0,3}}
    local res = L()
    torch.nonzero(res, x)
    assert.are.same({{1, 2}, {2, 1}, {3, 2}}, res:totable())
  end)

  it('is 0 x ndim when everything is zero', function()
    local r = torch.zeros(2, 3):nonzero()
    assert.are.same({0, 2}, r:sizeTable())
    assert.are.equal(0, r:nElement())
  end)
end)

describe('maskedSelect / maskedFill / maskedCopy', function()
  it('maskedSelect returns the selected elements as a vector', function()
    local x = T{{1, 2}, {3, 4}}
    assert.are.same({1, 4}, x:maskedSelect(B{{true, false}, {false, true}}):totable())
    assert.are.same({2, 3, 4}, torch.maskedSelect(x, torch.ByteTensor{{0, 1}, {1, 1}}):totable())
    assert.are.same({2, 4}, x:maskedSelect(B{false, true}):totable())    -- mask broadcasts
    assert.are.same({1, 3}, x:t():maskedSelect(B{{true, true}, {false, false}}):totable())
    assert.are.equal(0, x:maskedSelect(B{false, false}):nElement())
    local res = T()
    torch.maskedSelect(res, x, B{{true, true}, {true, false}})
    assert.are.same({1, 2, 3}, res:totable())
  end)

  it('maskedFill fills where the mask is set', function()
    local x = torch.zeros(2, 4)
    local r = x:maskedFill(B{true, false, false, true}, 7)
    assert.are.equal(x, r)
    assert.are.same({{7, 0, 0, 7}, {7, 0, 0, 7}}, x:totable())
    local y = torch.zeros(2, 3):t()
    y:maskedFill(torch.ByteTensor{{1, 0}, {0, 0}, {0, 2}}, -1)
    assert.are.same({{-1, 0}, {0, 0}, {0, -1}}, y:totable())
    local l = torch.zeros(3, 'int16'):maskedFill(B{false, true, false}, 300)
    assert.are.same({0, 300, 0}, l:totable())
  end)

  it('maskedCopy takes source elements in row-major order', function()
    local x = torch.zeros(2, 2)
    x:maskedCopy(B{{true, false}, {true, true}}, T{5, 6, 7, 8})
    assert.are.same({{5, 0}, {6, 7}}, x:totable())
    local y = torch.zeros(2, 2)
    y:maskedCopy(B{{true, false}, {true, true}}, T{{1, 2}, {3, 4}}:t())   -- 1, 3, 2, 4
    assert.are.same({{1, 0}, {3, 2}}, y:totable())
    local z = torch.zeros(2, 2):t()
    z:maskedCopy(B{true, false}, T{8, 9})
    assert.are.same({{8, 0}, {9, 0}}, z:totable())
  end)

  it('errors name the op and sizes and leave the tensor alone', function()
    local x = torch.zeros(2, 4)
    raises_unchanged(x, 'maskedFill: mask of size 3 cannot broadcast to 2x4', x.maskedFill, x, B{true, true, false}, 1)
    raises_unchanged(x, 'maskedFill: the mask must be a BoolTensor or ByteTensor, got torch.FloatTensor',
                     x.maskedFill, x, T{1, 0, 0, 1}, 1)
    raises_unchanged(x, 'maskedCopy: the mask selects 3 elements but the source has only 2',
                     x.maskedCopy, x, B{{true, true, true, false}, {false, false, false, false}}, T{1, 2})
    raises_unchanged(x, 'maskedCopy: source dtype int64 differs from destination dtype float32',
                     x.maskedCopy, x, B{true, false, false, false}, L{1, 2})
    H.raises('maskedSelect: mask of size 2x2 cannot broadcast to 2x4', x.maskedSelect, x, B{{true, true}, {true, true}})
  end)
end)

describe('cat / stack', function()
  it('concatenates along the last dimension by default (Torch7)', function()
    assert.are.same({1, 2, 3, 4, 5}, torch.cat(T{1, 2, 3}, T{4, 5}):totable())
    local a, b = T{{1, 2}, {3, 4}}, T{{5, 6}, {7, 8}}
    assert.are.same({{1, 2, 5, 6}, {3, 4, 7, 8}}, torch.cat(a, b):totable())
    assert.are.same({{1, 2, 5, 6}, {3, 4, 7, 8}}, torch.cat(a, b, -1):totable())
    assert.are.same({{1, 2}, {3, 4}, {5, 6}, {7, 8}}, torch.cat(a, b, 1):totable())
    assert.are.same({{1, 2}, {3, 4}, {5, 6}, {7, 8}}, a:cat(b, 1):totable())
  end)

  it('takes a table, a result tensor, non-contiguous inputs, and skips empty tensors', function()
    local a, b = T{{1, 2}, {3, 4}}, T{{5, 6}}
    assert.are.same({{1, 2}, {3, 4}, {5, 6}, {1, 2}}, torch.cat({a, b, a:narrow(1, 1, 1)}, 1):totable())
    assert.are.same({{1, 3, 1, 2}, {2, 4, 3, 4}}, torch.cat({a:t(), a}, 2):totable())
    local r = T()
    assert.are.equal(r, torch.cat(r, {a, b}, 1))
    assert.are.same({{1, 2}, {3, 4}, {5, 6}}, r:totable())
    local r2 = torch.zeros(1, 'float64')
    torch.cat(r2, T{1}, T{2}, 1)
    assert.are.same({1, 2}, r2:totable())
    assert.are.equal('float64', r2:dtype())
    assert.are.same({{5, 6}}, torch.cat({T(), b}, 1):totable())
    assert.are.equal(0, torch.cat({T(), T()}):nElement())
    assert.are.same({1, 2, 3}, torch.cat({L{1}, L{2, 3}}):totable())
  end)

  it('reports mismatched sizes and dtypes and leaves the result alone', function()
    local r = T{9}
    raises_unchanged(r, 'cat: sizes 2x3 and 2x4 differ in dimension 2', torch.cat, r, {T(2, 3), T(2, 4)}, 1)
    raises_unchanged(r, 'cat: dtypes float32 and int64 differ', torch.cat, r, {T{1}, L{2}})
    H.raises('cat: sizes 2 and 2x2 have different numbers of dimensions', torch.cat, T{1, 2}, T{{1, 2}, {3, 4}})
    H.raises('cat: entry 2 of the table is a number, expected a tensor', torch.cat, {T{1}, 3})
    H.raises('cat: dimension 3 out of range', torch.cat, T{1}, T{2}, 3)
    local a = T{1, 2}
    raises_unchanged(a, 'cat: the result shares memory with input 1', torch.cat, a, a, T{3}, 1)
  end)

  it('stacks along a new dimension', function()
    local a, b = T{1, 2}, T{3, 4}
    assert.are.same({{1, 2}, {3, 4}}, torch.stack({a, b}):totable())
    assert.are.same({{1, 3}, {2, 4}}, torch.stack({a, b}, 2):totable())
    local s = torch.stack({T{{1, 2}}, T{{3, 4}}:narrow(2, 1, 2)}, 1)
    assert.are.same({2, 1, 2}, s:sizeTable())
    H.raises('stack: sizes 2 and 3 differ', torch.stack, {a, T{1, 2, 3}})
    H.raises('stack: dimension 4 out of range', torch.stack, {a, b}, 4)
  end)
end)

describe('split / chunk', function()
  it('split returns views of the given size (the last may be shorter)', function()
    local x = T{1, 2, 3, 4, 5}
    local parts = x:split(2)
    assert.are.equal(3, #parts)
    assert.are.same({1, 2}, parts[1]:totable())
    assert.are.same({3, 4}, parts[2]:totable())
    assert.are.same({5}, parts[3]:totable())
    parts[2]:fill(0)
    assert.are.same({1, 2, 0, 0, 5}, x:totable())      -- views share storage
    local cols = torch.split(m33(), 2, 2)
    assert.are.same({{1, 2}, {4, 5}, {7, 8}}, cols[1]:totable())
    assert.are.same({{3}, {6}, {9}}, cols[2]:totable())
    local into = {'stale', 'stale', 'stale', 'stale'}
    local same = torch.split(into, x, 4)
    assert.are.equal(into, same)
    assert.are.equal(2, #into)
    assert.is_nil(into[3])
  end)

  it('chunk returns n pieces (fewer when they do not divide)', function()
    local x = T{1, 2, 3, 4, 5}
    local c = x:chunk(2)
    assert.are.equal(2, #c)
    assert.are.same({1, 2, 3}, c[1]:totable())
    assert.are.same({4, 5}, c[2]:totable())
    assert.are.equal(5, #torch.chunk(x, 5))
    local rows = torch.chunk(m33():t(), 3, 1)
    assert.are.same({{2, 5, 8}}, rows[2]:totable())
  end)

  it('reports bad sizes and dims', function()
    local x = T{1, 2, 3}
    H.raises('split: the size must be positive, got 0', x.split, x, 0)
    H.raises('chunk: the number of chunks must be positive, got -1', x.chunk, x, -1)
    H.raises('split: dimension 2 out of range for a 1-dimensional tensor', x.split, x, 1, 2)
  end)
end)

describe('t[tensor] and t[tensor] = v', function()
  it('reads with a LongTensor (rows) or a mask (selected elements)', function()
    local x = m33()
    assert.are.same({{7, 8, 9}, {1, 2, 3}}, x[L{3, 1}]:totable())
    assert.are.same({1, 5, 9}, x[B{{true, false, false}, {false, true, false}, {false, false, true}}]:totable())
    assert.are.same({3, 6, 9}, x[B{false, false, true}]:totable())
    assert.are.same({2, 3}, T{1, 2, 3}[torch.ByteTensor{0, 1, 1}]:totable())
    assert.are.same({{4, 5, 6}}, x[torch.IntTensor{2}]:totable())
  end)

  it('writes a value or a tensor through a mask', function()
    local x = m33()
    x[B{true, false, true}] = 0
    assert.are.same({{0, 2, 0}, {0, 5, 0}, {0, 8, 0}}, x:totable())
    x[B{{false, true, false}, {false, false, false}, {false, true, false}}] = T{20, 80}
    assert.are.same({{0, 20, 0}, {0, 5, 0}, {0, 80, 0}}, x:totable())
    local y = torch.zeros(2, 2)
    y[torch.ByteTensor{{1, 0}, {0, 1}}] = torch.DoubleTensor{1.5, 2.5}   -- converted to float
    assert.are.same({{1.5, 0}, {0, 2.5}}, y:totable())
  end)

  it('writes a value or a tensor to rows picked by a LongTensor', function()
    local x = torch.zeros(3, 2)
    x[L{1, 3}] = 5
    assert.are.same({{5, 5}, {0, 0}, {5, 5}}, x:totable())
    x[L{2, 1}] = T{{1, 2}, {3, 4}}
    assert.are.same({{3, 4}, {1, 2}, {5, 5}}, x:totable())
    x[L{3}] = T{7, 8}                                     -- broadcasts to 1x2
    assert.are.same({7, 8}, x[3]:totable())
    local v = torch.zeros(4)
    v[L{4, 2}] = T{1, 2}
    assert.are.same({0, 2, 0, 1}, v:totable())
  end)

  it('rejects other key dtypes and bad indices, leaving the tensor alone', function()
    local x = torch.zeros(3, 2)
    H.raises('index: a torch.FloatTensor cannot index a tensor', function() return x[T{1}] end)
    raises_unchanged(x, 'indexFill: index 9 out of range for dimension 1 of size 3', function() x[L{1, 9}] = 1 end)
    raises_unchanged(x, 'indexCopy: index 4 out of range for dimension 1 of size 3',
                     function() x[L{1, 4}] = T{{1, 1}, {2, 2}} end)
    raises_unchanged(x, 'maskedFill: mask of size 4 cannot broadcast to 3x2', function() x[B{true, true, true, true}] = 1 end)
    raises_unchanged(x, 'maskedCopy: the mask selects 6 elements but the source has only 1',
                     function() x[B{true, true}] = T{1} end)
    H.raises('indexSelect: index 4 out of range for dimension 1 of size 3', function() return x[L{4}] end)
  end)
end)
