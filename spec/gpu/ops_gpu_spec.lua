-- The CUDA kernels against the CPU, op by op: element-wise (broadcasting, scalars,
-- strided views), reductions and scans, max/min/median/mode with positions, sort and
-- topk, index and mask ops, random numbers, BLAS and softmax. Every op runs on the same
-- data and the same view (contiguous, transposed, narrowed with odd offsets, expanded)
-- on both devices; floats agree within H.tol, integers exactly. Tagged #gpu: `make
-- test-gpu` runs it on a machine with a device.
local torch = require 'torch'
local H = require 'helpers'

describe('#gpu CUDA ops match the CPU', function()
  local ok, why = torch.cuda.isAvailable()
  if not ok and not os.getenv('EMBER_LIST_GPU_SPECS') then   -- spec/gpu/count.sh lists them
    it('needs a CUDA device', function() pending('no CUDA device: ' .. tostring(why)) end)
    return
  end

  torch.manualSeed(1234)

  local function gpu(x) return x:to('cuda') end
  local function cpu(x) return x:to('cpu') end

  -- g (on the GPU) equals c (on the CPU): same sizes, same dtype, values within tol
  -- relative to the largest |c| (exact for integers and bool).
  local function same(g, c, tol, what)
    assert.are.equal('cuda', g:device():sub(1, 4), what)
    assert.are.same(c:sizeTable(), g:sizeTable(), what)
    assert.are.equal(c:dtype(), g:dtype(), what)
    local dt = c:dtype()
    if H.tol[dt] == nil then
      assert.are.same(c:totable(), cpu(g):totable(), what)
      return
    end
    local scale = c:nElement() > 0 and math.max(1, torch.abs(c:double()):max()) or 1
    H.near(cpu(g), c, (tol or H.tol[dt]) * scale, what)
  end

  -- Random data of a dtype: floats in [-2, 2), integers in [-9, 9], bool.
  local function rand(dt, ...)
    local size = { ... }
    size[#size + 1] = dt
    local x = torch.empty(table.unpack(size))
    if dt == 'bool' then return x:random(0, 1) end
    if H.tol[dt] then return x:uniform(-2, 2) end
    if dt == 'uint8' then return x:random(0, 9) end
    return x:random(-9, 9)
  end

  -- The views every op is tried on: a function of one 2-D (or wider) base tensor,
  -- applied identically on both devices.
  local views = {
    contiguous = function(t) return t end,
    transposed = function(t) return t:transpose(1, t:dim()) end,
    narrowed = function(t) return t:narrow(1, 2, t:size(1) - 2):narrow(t:dim(), 2, t:size(t:dim()) - 1) end,
    expanded = function(t)
      local s = t:sizeTable()
      local one = t:narrow(1, 1, 1)
      return one:expand(table.unpack(s))
    end,
  }

  -- A CPU tensor and the same view of its GPU copy.
  local function pair(dt, view, ...)
    local base = rand(dt, ...)
    return view(base), view(gpu(base))
  end

  local shapes = { { 7, 13 }, { 5, 1, 33 }, { 3, 4, 5, 6 }, { 33, 129 } }

  describe('element-wise', function()
    local unary = { 'abs', 'neg', 'sign', 'floor', 'ceil', 'round', 'trunc', 'frac', 'exp', 'log',
                    'log1p', 'expm1', 'log2', 'log10', 'sqrt', 'rsqrt', 'sin', 'cos', 'tan', 'asin',
                    'acos', 'atan', 'sinh', 'cosh', 'tanh', 'sigmoid', 'reciprocal', 'erf', 'square' }

    it('unary functions on every view, float32 and float64', function()
      for _, dt in ipairs { 'float32', 'float64' } do
        for vname, view in pairs(views) do
          for _, shape in ipairs(shapes) do
            local c, g = pair(dt, view, table.unpack(shape))
            for _, f in ipairs(unary) do
              same(torch[f](g), torch[f](c), 4 * H.tol[dt], ('%s %s %s'):format(f, dt, vname))
            end
          end
        end
      end
    end)

    it('integer-preserving unary functions are exact on int64', function()
      local c, g = pair('int64', views.transposed, 9, 17)
      for _, f in ipairs { 'abs', 'neg', 'sign', 'square', 'floor', 'frac' } do
        same(torch[f](g), torch[f](c), nil, f)
      end
    end)

    it('binary ops broadcast, with scalars and alpha, in place and into r', function()
      local ops = { 'add', 'csub', 'cmul', 'cdiv', 'cpow', 'fmod', 'remainder', 'cmax', 'cmin', 'atan2' }
      for _, dt in ipairs { 'float32', 'float64', 'int64' } do
        local ca, ga = pair(dt, views.transposed, 5, 3)        -- (3, 5) strided
        local cb, gb = pair(dt, views.contiguous, 4, 1, 5)     -- broadcasts to (4, 3, 5)
        for _, op in ipairs(ops) do
          if not (dt == 'int64' and op == 'atan2') then
            local f = torch[op]
            if f then same(f(ga, gb), f(ca, cb), nil, op .. ' ' .. dt) end
          end
        end
        same(ga:add(gb:narrow(1, 1, 1):squeeze(1)), ca:add(cb:narrow(1, 1, 1):squeeze(1)), nil, 'add in place')
        same(torch.add(ga, 3, gb), torch.add(ca, 3, cb), nil, 'add alpha')
        same(torch.pow(ga, 2), torch.pow(ca, 2), nil, 'pow 2')
        same(torch.mul(ga, 3), torch.mul(ca, 3), nil, 'mul scalar')
        same(torch.remainder(ga, -3), torch.remainder(ca, -3), nil, 'remainder scalar')
      end
      local ci, gi = pair('int64', views.contiguous, 50)
      local cz, gz = torch.zeros(50, 'int64'), torch.zeros(50, 'int64'):to('cuda')
      same(torch.cdiv(gi, gz), torch.cdiv(ci, cz), nil, 'integer x / 0 is 0')
    end)

    it('odd sizes and offsets hit the vectorised float32 path and its tail', function()
      for _, n in ipairs { 1, 3, 4, 5, 1023, 4097 } do
        local ca, ga = pair('float32', views.contiguous, n + 1)
        local cb, gb = pair('float32', views.contiguous, n + 1)
        same(torch.add(ga:narrow(1, 2, n), gb:narrow(1, 2, n)), torch.add(ca:narrow(1, 2, n), cb:narrow(1, 2, n)))
        same(torch.exp(ga), torch.exp(ca))
      end
    end)

    it('comparisons, logical ops, clamp, where, addcmul, addcdiv, lerp, equal', function()
      for _, dt in ipairs { 'float32', 'float64', 'int64' } do
        local ca, ga = pair(dt, views.narrowed, 6, 8)
        local cb, gb = pair(dt, views.narrowed, 6, 8)
        for _, op in ipairs { 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor' } do
          same(torch[op](ga, gb), torch[op](ca, cb), nil, op)
        end
        same(torch.lt(ga, 0.5), torch.lt(ca, 0.5), nil, 'lt scalar')
        same(torch.logicalNot(ga), torch.logicalNot(ca), nil, 'logicalNot')
        same(torch.clamp(ga, -1, 1), torch.clamp(ca, -1, 1), nil, 'clamp')
        same(torch.where(torch.lt(ga, gb), ga, gb), torch.where(torch.lt(ca, cb), ca, cb), nil, 'where')
        same(torch.addcmul(ga, 2, ga, gb), torch.addcmul(ca, 2, ca, cb), nil, 'addcmul')
        assert.are.equal(ca:equal(cb), ga:equal(gb))
        assert.is_true(ga:equal(ga:clone()))
        if dt ~= 'int64' then
          same(torch.addcdiv(ga, 0.5, ga, torch.add(gb, 3)), torch.addcdiv(ca, 0.5, ca, torch.add(cb, 3)), nil, 'addcdiv')
          same(torch.lerp(ga, gb, 0.25), torch.lerp(ca, cb, 0.25), nil, 'lerp')
        end
      end
    end)

    it('nan: cmax/cmin propagate it, equal is false', function()
      local c = torch.Tensor { 1, 0 / 0, 3 }
      local g = gpu(c)
      same(torch.cmax(g, 2), torch.cmax(c, 2))
      assert.is_false(g:equal(g))
    end)
  end)

  describe('reductions', function()
    local function each_case(fn)
      for _, dt in ipairs { 'float32', 'float64', 'float16', 'int64', 'int32', 'uint8', 'bool' } do
        for vname, view in pairs(views) do
          for _, shape in ipairs(shapes) do
            local c, g = pair(dt, view, table.unpack(shape))
            fn(c, g, ('%s %s %s'):format(dt, vname, table.concat(shape, 'x')))
          end
        end
      end
    end

    it('sum, prod, mean, var, std, norm, logsumexp, all, any along each dim and over all', function()
      each_case(function(c, g, what)
        local dt = c:dtype()
        local isfloat = H.tol[dt] ~= nil
        for d = 1, c:dim() do
          same(g:sum(d), c:sum(d), nil, 'sum ' .. what)
          if dt ~= 'bool' then same(g:prod(d), c:prod(d), 1e-4, 'prod ' .. what) end
          if dt ~= 'bool' then
            same(g:mean(d), c:mean(d), nil, 'mean ' .. what)
            same(g:var(d), c:var(d), 1e-4, 'var ' .. what)
            same(g:std(d, true), c:std(d, true), 1e-4, 'std ' .. what)
            for _, p in ipairs { 0, 1, 2, 3, math.huge } do
              same(g:norm(p, d), c:norm(p, d), 1e-4, 'norm ' .. p .. ' ' .. what)
            end
          end
          if isfloat then same(g:logsumexp(d), c:logsumexp(d), 1e-4, 'logsumexp ' .. what) end
          same(g:all(d), c:all(d), nil, 'all ' .. what)
          same(g:any(d), c:any(d), nil, 'any ' .. what)
        end
        local tol = isfloat and 1e-3 * math.max(1, torch.abs(c:double()):sum()) or 0
        assert(math.abs(g:sum() - c:sum()) <= tol, 'sum all ' .. what)
        if dt ~= 'bool' then
          assert(math.abs(g:var() - c:var()) <= 1e-3 * math.max(1, c:var()), 'var all ' .. what)
          assert(math.abs(g:norm() - c:norm()) <= 1e-3 * math.max(1, c:norm()), 'norm all ' .. what)
        end
      end)
    end)

    it('integer sums are exact, wrapping like the CPU', function()
      local c = torch.LongTensor { math.maxinteger, 1, 2 }
      same(gpu(c):sum(1), c:sum(1))
      assert.are.equal(c:sum(), gpu(c):sum())
    end)

    it('max and min give the first best position; nan wins', function()
      each_case(function(c, g, what)
        if c:dtype() == 'bool' then return end
        for d = 1, c:dim() do
          local cv, ci = c:max(d)
          local gv, gi = g:max(d)
          same(gv, cv, nil, 'max ' .. what)
          same(gi, ci, nil, 'argmax ' .. what)
          cv, ci = c:min(d)
          gv, gi = g:min(d)
          same(gv, cv, nil, 'min ' .. what)
          same(gi, ci, nil, 'argmin ' .. what)
        end
        assert.are.equal(c:max(), g:max(), 'max all ' .. what)
        assert.are.equal(c:min(), g:min(), 'min all ' .. what)
      end)
      local c = torch.Tensor { { 1, 0 / 0, 3, 0 / 0 }, { 2, 2, 1, 1 } }
      local v, i = gpu(c):max(2)
      local cv, ci = c:max(2)
      same(i, ci)
      assert.is_true(cpu(v)[1][1] ~= cpu(v)[1][1])
      v, i = gpu(c):min(2)
      cv, ci = c:min(2)
      same(i, ci)
    end)

    it('median, kthvalue and mode along a dim', function()
      for _, dt in ipairs { 'float32', 'float64', 'int64', 'int16' } do
        for vname, view in pairs(views) do
          local c, g = pair(dt, view, 9, 14)
          for d = 1, 2 do
            local cv, ci = c:median(d)
            local gv, gi = g:median(d)
            same(gv, cv, nil, 'median ' .. vname)
            same(gi, ci, nil, 'median index ' .. vname)
            cv, ci = c:kthvalue(3, d)
            gv, gi = g:kthvalue(3, d)
            same(gv, cv, nil, 'kthvalue ' .. vname)
            same(gi, ci, nil, 'kthvalue index ' .. vname)
            cv, ci = c:mode(d)
            gv, gi = g:mode(d)
            same(gv, cv, nil, 'mode ' .. vname)
            same(gi, ci, nil, 'mode index ' .. vname)
          end
        end
      end
      local c = torch.Tensor { 3, 0 / 0, 1, 0 / 0 }
      local _, ci = c:median(1)
      local _, gi = gpu(c):median(1)
      same(gi, ci, nil, 'median of a row with nan: the first nan')
    end)

    it('cumsum and cumprod along each dim, short and long rows', function()
      for _, dt in ipairs { 'float32', 'float64', 'int64', 'int32', 'bool' } do
        for vname, view in pairs(views) do
          for _, shape in ipairs { { 7, 13 }, { 3, 1000 }, { 600, 5 } } do
            local c, g = pair(dt, view, table.unpack(shape))
            for d = 1, 2 do
              same(g:cumsum(d), c:cumsum(d), 1e-4, 'cumsum ' .. dt .. ' ' .. vname)
              if dt ~= 'bool' then
                local cs, gs = torch.clamp(c, -1, 1), torch.clamp(g, -1, 1)
                same(gs:cumprod(d), cs:cumprod(d), 1e-4, 'cumprod ' .. dt .. ' ' .. vname)
              end
            end
          end
        end
      end
    end)
  end)

  describe('sort and topk', function()
    it('sort is stable in both directions, nan last ascending', function()
      for _, dt in ipairs { 'float32', 'float64', 'int64', 'int8', 'float16' } do
        for vname, view in pairs(views) do
          for _, shape in ipairs { { 6, 40 }, { 3, 3000 }, { 300, 3 } } do
            local c, g = pair(dt, view, table.unpack(shape))
            if dt ~= 'int64' then c, g = torch.round(c), torch.round(g) end   -- many ties
            for d = 1, 2 do
              for _, desc in ipairs { false, true } do
                local cv, ci = c:sort(d, desc)
                local gv, gi = g:sort(d, desc)
                same(gv, cv, nil, 'sort ' .. dt .. ' ' .. vname)
                same(gi, ci, nil, 'sort index ' .. dt .. ' ' .. vname)
              end
            end
          end
        end
      end
      local c = torch.Tensor { 2, 0 / 0, -1, 0 / 0, -0.0, 0 }
      local _, ci = c:sort()
      local _, gi = gpu(c):sort()
      same(gi, ci)
      _, ci = c:sort(true)
      _, gi = gpu(c):sort(true)
      same(gi, ci)
    end)

    it('topk: the k largest or smallest, sorted', function()
      local c, g = pair('float32', views.transposed, 50, 7)
      for _, k in ipairs { 0, 1, 5, 7 } do
        for _, largest in ipairs { false, true } do
          local cv, ci = c:topk(k, 2, largest)
          local gv, gi = g:topk(k, 2, largest)
          same(gv, cv)
          same(gi, ci)
        end
      end
    end)
  end)

  describe('index and mask ops', function()
    local L = torch.LongTensor

    it('indexSelect, indexCopy (last duplicate wins), indexAdd, indexFill', function()
      for _, dt in ipairs { 'float32', 'float64', 'int64', 'int16', 'uint8', 'bool', 'float16' } do
        for vname, view in pairs(views) do
          if vname ~= 'expanded' then
            local c, g = pair(dt, view, 6, 9)
            local idx = L { 3, 1, 3, 4, 1 }
            for d = 1, 2 do
              same(g:indexSelect(d, gpu(idx)), c:indexSelect(d, idx), nil, 'indexSelect ' .. vname)
              local src = rand(dt, d == 1 and 5 or c:size(1), d == 1 and c:size(2) or 5)
              local cc, gc = c:clone(), g:clone()
              same(gc:indexCopy(d, gpu(idx), gpu(src)), cc:indexCopy(d, idx, src), nil, 'indexCopy ' .. vname)
              if dt ~= 'bool' then
                cc, gc = c:clone(), g:clone()
                same(gc:indexAdd(d, gpu(idx), gpu(src)), cc:indexAdd(d, idx, src), nil, 'indexAdd ' .. vname)
              end
              cc, gc = c:clone(), g:clone()
              same(gc:indexFill(d, gpu(idx), 1), cc:indexFill(d, idx, 1), nil, 'indexFill ' .. vname)
            end
          end
        end
      end
    end)

    it('gather, scatter (last duplicate wins), scatterAdd', function()
      for _, dt in ipairs { 'float32', 'float64', 'int64', 'int8' } do
        local c, g = pair(dt, views.transposed, 8, 6)                 -- (6, 8)
        local idx = torch.zeros(4, 8, 'int64'):random(1, 6)           -- duplicates along dim 1
        same(g:gather(1, gpu(idx)), c:gather(1, idx), nil, 'gather')
        local src = rand(dt, 4, 8)
        same(g:clone():scatter(1, gpu(idx), gpu(src)), c:clone():scatter(1, idx, src), nil, 'scatter')
        same(g:clone():scatterAdd(1, gpu(idx), gpu(src)), c:clone():scatterAdd(1, idx, src), nil, 'scatterAdd')
        same(g:clone():scatter(1, gpu(idx), 7), c:clone():scatter(1, idx, 7), nil, 'scatter fill')
      end
    end)

    it('an out-of-range index fails naming it and leaves the tensor unchanged', function()
      local c = rand('float32', 4, 3)
      local g = gpu(c)
      H.raises('index 9 out of range for dimension 1 of size 4', g.indexCopy, g, 1, gpu(L { 1, 9 }), gpu(rand('float32', 2, 3)))
      same(g, c)
      H.raises('out of range', g.scatterAdd, g, 2, gpu(L { { 1, 0 } }), gpu(rand('float32', 1, 2)))
      same(g, c)
      H.raises('out of range', g.gather, g, 1, gpu(L { { 5, 1, 1 } }))
    end)

    it('nonzero, maskedSelect, maskedFill, maskedCopy with broadcast masks', function()
      for _, dt in ipairs { 'float32', 'int64', 'uint8', 'bool', 'float16' } do
        for vname, view in pairs(views) do
          local c, g = pair(dt, view, 5, 7)
          same(g:nonzero(), c:nonzero(), nil, 'nonzero ' .. vname)
          local cm = torch.zeros(c:size(2), 'bool'):random(0, 1)       -- broadcasts over rows
          local gm = gpu(cm)
          same(g:maskedSelect(gm), c:maskedSelect(cm), nil, 'maskedSelect ' .. vname)
          if vname ~= 'expanded' then
            same(g:clone():maskedFill(gm, 1), c:clone():maskedFill(cm, 1), nil, 'maskedFill ' .. vname)
            local src = rand(dt, 40)
            same(g:clone():maskedCopy(gm, gpu(src)), c:clone():maskedCopy(cm, src), nil, 'maskedCopy ' .. vname)
          end
        end
      end
      same(gpu(torch.zeros(3, 4)):nonzero(), torch.zeros(3, 4):nonzero(), nil, 'no nonzeros')
    end)

    it('cat of strided views goes through copy', function()
      local a, b = rand('float64', 4, 3), rand('float64', 2, 3)
      same(torch.cat({ gpu(a):t(), gpu(b):t() }, 2), torch.cat({ a:t(), b:t() }, 2))
    end)
  end)

  describe('random numbers', function()
    it('a seed reproduces every distribution; consecutive draws differ', function()
      local draws = { uniform = { -1, 1 }, normal = { 0, 1 }, exponential = { 1 }, cauchy = { 0, 1 },
                      logNormal = { 1, 2 }, geometric = { 0.3 }, bernoulli = { 0.5 } }
      for f, args in pairs(draws) do
        local function draw()
          local x = torch.empty(1000):to('cuda')
          x[f](x, table.unpack(args))
          return cpu(x):totable()
        end
        torch.manualSeed(7)
        local a, a2 = draw(), draw()
        torch.manualSeed(7)
        assert.are.same(a, draw(), f)
        assert.are_not.same(a, a2, f)
      end
    end)

    it('uniform and normal have the right moments on a strided view, every float dtype', function()
      for _, dt in ipairs { 'float32', 'float64', 'float16', 'bfloat16' } do
        local x = torch.empty(400, 600, dt):to('cuda'):t()
        x:uniform(-1, 3)
        local h = cpu(x):double()
        assert(h:min() >= -1 and h:max() < 3, 'uniform range ' .. dt)
        assert(math.abs(h:mean() - 1) < 0.02, 'uniform mean ' .. dt)
        x:normal(5, 2)
        h = cpu(x):double()
        assert(math.abs(h:mean() - 5) < 0.03 and math.abs(h:std() - 2) < 0.03, 'normal moments ' .. dt)
      end
    end)

    it('random integers cover [a, b] exactly; bernoulli with a tensor of probabilities', function()
      local x = cpu(torch.zeros(10000, 'int32'):to('cuda'):random(5, 7))
      assert.are.equal(5, x:min())
      assert.are.equal(7, x:max())
      local p = torch.Tensor(10000):fill(0.25)
      local b = cpu(torch.zeros(10000):to('cuda'):bernoulli(gpu(p)))
      assert(math.abs(b:mean() - 0.25) < 0.03)
      H.raises('probability 2 is outside [0, 1]', function()
        torch.zeros(3):to('cuda'):bernoulli(gpu(torch.Tensor { 0.5, 2, 3 }))
      end)
    end)

    it('multinomial equals the CPU for the same seed', function()
      local p = torch.rand(3, 10)
      torch.manualSeed(3)
      local c = torch.multinomial(p, 5)
      torch.manualSeed(3)
      local g = torch.multinomial(gpu(p), 5)
      same(g, c)
    end)
  end)

  describe('BLAS through cuBLAS', function()
    local function mats(dt, ta, tb)
      local a, b = rand(dt, 37, 53), rand(dt, 53, 29)
      if ta then a = rand(dt, 53, 37):t() end
      if tb then b = rand(dt, 29, 53):t() end
      return a, b
    end

    it('mm, addmm, mv, dot with transposed operands in every float dtype and int64', function()
      local tols = { float32 = 1e-4, float64 = 1e-10, float16 = 2e-2, bfloat16 = 5e-2, int64 = 0 }
      for dt, tol in pairs(tols) do
        for _, ta in ipairs { false, true } do
          for _, tb in ipairs { false, true } do
            local a, b = mats(dt, ta, tb)
            same(torch.mm(gpu(a), gpu(b)), torch.mm(a, b), tol, 'mm ' .. dt)
            local m = rand(dt, 37, 29)
            same(torch.addmm(gpu(m), gpu(a), gpu(b)), torch.addmm(m, a, b), tol, 'addmm ' .. dt)
            local r = rand(dt, 29, 37):t()                              -- a column-major result
            same(torch.addmm(gpu(r), 2, gpu(m), 3, gpu(a), gpu(b)), torch.addmm(r:clone(), 2, m, 3, a, b), tol, 'addmm into r ' .. dt)
          end
        end
        local a, v = rand(dt, 40, 30), rand(dt, 30)
        same(torch.mv(gpu(a), gpu(v)), torch.mv(a, v), tol, 'mv ' .. dt)
        local ab, vb = rand(dt, 30, 40), rand(dt, 61)                  -- a (40, 30) column-major, v strided
        same(torch.mv(gpu(ab):t(), gpu(vb):narrow(1, 2, 60):view(30, 2):select(2, 1)),
             torch.mv(ab:t(), vb:narrow(1, 2, 60):view(30, 2):select(2, 1)), tol, 'mv views ' .. dt)
        local x, y = rand(dt, 100), rand(dt, 100)
        local gd, cd = torch.dot(gpu(x), gpu(y)), torch.dot(x, y)
        assert(math.abs(gd - cd) <= math.max(tol, 1e-5) * math.max(1, math.abs(cd)), 'dot ' .. dt)
      end
    end)

    it('bmm and addbmm (a batch summed into one matrix), batch stride 0', function()
      for _, dt in ipairs { 'float32', 'float64', 'float16' } do
        local tol = dt == 'float16' and 2e-2 or 1e-4
        local a, b = rand(dt, 5, 7, 9), rand(dt, 5, 9, 4)
        same(torch.bmm(gpu(a), gpu(b)), torch.bmm(a, b), tol, 'bmm ' .. dt)
        local m = rand(dt, 7, 4)
        same(torch.addbmm(gpu(m), gpu(a), gpu(b)), torch.addbmm(m, a, b), tol, 'addbmm ' .. dt)
        local one = rand(dt, 1, 7, 9)
        same(torch.matmul(gpu(one:expand(5, 7, 9)), gpu(b)), torch.matmul(one:expand(5, 7, 9), b), tol, 'batch stride 0 ' .. dt)
      end
    end)

    it('TF32 is a switch: results stay within TF32 accuracy', function()
      if not torch.cuda.allowTF32 then return end
      local a, b = rand('float32', 256, 256), rand('float32', 256, 256)
      torch.cuda.allowTF32(true)
      local g = torch.mm(gpu(a), gpu(b))
      torch.cuda.allowTF32(false)
      same(g, torch.mm(a, b), 1e-2, 'tf32 mm')
      same(torch.mm(gpu(a), gpu(b)), torch.mm(a, b), 1e-4, 'float32 mm')
    end)
  end)

  describe('softmax and log-softmax', function()
    it('forward and backward along every dim match the CPU', function()
      for _, dt in ipairs { 'float32', 'float64' } do
        for _, shape in ipairs { { 4, 10 }, { 3, 2000 }, { 2, 5, 7 } } do
          local x = rand(dt, table.unpack(shape))
          local gy = rand(dt, table.unpack(shape))
          for d = 1, #shape do
            for _, kind in ipairs { 'softmax', 'log_softmax' } do
              local fwd, bwd = torch.nnops[kind .. '_forward'], torch.nnops[kind .. '_backward']
              local cy, gyv = x:clone(), gpu(x)
              fwd(cy, x, d)
              local gyo = gyv:clone()
              fwd(gyo, gyv, d)
              same(gyo, cy, 1e-5, kind .. ' ' .. dt)
              local cgx, ggx = x:clone(), gyv:clone()
              bwd(cgx, gy, cy, d)
              bwd(ggx, gpu(gy), gyo, d)
              same(ggx, cgx, 1e-5, kind .. ' backward ' .. dt)
            end
          end
        end
      end
    end)
  end)
end)
