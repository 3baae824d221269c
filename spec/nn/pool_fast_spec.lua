-- Fast paths of the pooling and convolution kernels against their plain versions
-- (cpu_pool.c, cpu_conv.c). Max pooling 2x2/stride 2/no padding has its own kernel; the
-- same windows through the plain kernel come from ceil mode on odd sizes (whose extra
-- last row and column send the whole call down the plain path), and from a Lua loop with
-- the argmax rule (first maximum, or the last NaN). Convolutions copy and add their im2col
-- rows with separate stride-1 loops; they are checked against direct Lua sums.
local torch = require 'torch'
local nn = require 'nn'
local H = require 'helpers'

-- (n, c, h, w) integer values in [-3, 3] (many ties) with some -inf and NaN, as a
-- non-contiguous view when `strided`
local function poolInput(dtype, n, c, h, w, strided)
  local x = torch.randint(-3, 4, n, c, h, w):type(dtype == 'float64' and 'torch.DoubleTensor'
                                                   or 'torch.FloatTensor')
  local flat = x:view(-1)
  for i = 1, flat:nElement(), 7 do flat[i] = -math.huge end
  for i = 3, flat:nElement(), 11 do flat[i] = 0 / 0 end
  if strided then x = x:transpose(3, 4):clone():transpose(3, 4) end
  return x
end

-- max pooling 2x2, stride 2, floor, by the rule, in Lua: values and 0-based indices
local function luaPool(x)
  local n, c, h, w = x:size(1), x:size(2), x:size(3), x:size(4)
  local oh, ow = h // 2, w // 2
  local y, idx = torch.Tensor(n, c, oh, ow):type(x:type()), torch.LongTensor(n, c, oh, ow)
  for a = 1, n do for b = 1, c do for i = 1, oh do for j = 1, ow do
    local best, bi = -math.huge, (2 * i - 2) * w + 2 * j - 2
    for di = 0, 1 do for dj = 0, 1 do
      local r, s = 2 * i - 1 + di, 2 * j - 1 + dj
      local v = x[a][b][r][s]
      if v > best or v ~= v then best, bi = v, (r - 1) * w + s - 1 end
    end end
    y[a][b][i][j], idx[a][b][i][j] = best, bi
  end end end end
  return y, idx
end

describe('max pooling 2x2 fast path', function()
  for _, dtype in ipairs { 'float32', 'float64' } do
    -- the last case is above the threading grain: 73 work items of 1024 outputs on the pool
    for _, case in ipairs { { 2, 3, 9, 11, false }, { 3, 2, 7, 5, true }, { 1, 4, 13, 27, false },
                            { 2, 1, 3, 3, true }, { 4, 16, 67, 71, false } } do
      local n, c, h, w, strided = table.unpack(case)
      local what = ('%s %dx%dx%dx%d%s'):format(dtype, n, c, h, w, strided and ' non-contiguous' or '')

      it('matches the plain kernel (ceil mode) and the Lua rule: ' .. what, function()
        torch.manualSeed(h * w)
        local x = poolInput(dtype, n, c, h, w, strided)
        local fast = nn.SpatialMaxPooling(2, 2, 2, 2)
        local plain = nn.SpatialMaxPooling(2, 2, 2, 2):ceil()
        local y = fast:forward(x)
        local yp = plain:forward(x)
        local oh, ow = h // 2, w // 2
        assert.are.same({ n, c, oh + 1, ow + 1 }, H.size(yp))
        H.near(y, yp:narrow(3, 1, oh):narrow(4, 1, ow), 0, 'values vs plain')
        H.near(fast.indices, plain.indices:narrow(3, 1, oh):narrow(4, 1, ow), 0, 'indices vs plain')
        local ly, li = luaPool(x)
        H.near(y, ly, 0, 'values vs Lua')
        H.near(fast.indices, li, 0, 'indices vs Lua')
        -- backward: the plain path's gradient with zeros on its extra row and column
        local gy = torch.randn(n, c, oh, ow):type(x:type())
        local gyp = torch.zeros(n, c, oh + 1, ow + 1):type(x:type())
        gyp:narrow(3, 1, oh):narrow(4, 1, ow):copy(gy)
        H.near(fast:backward(x, gy), plain:backward(x, gyp), 0, 'gradInput vs plain')
      end)
    end
  end
end)

-- conv2d (N, C, H, W) * (F, C, kH, kW) with stride 1 and padding p, summed in Lua (float64)
local function luaConv(x, wt, b, p)
  local n, c, h, w = x:size(1), x:size(2), x:size(3), x:size(4)
  local f, kh, kw = wt:size(1), wt:size(3), wt:size(4)
  local oh, ow = h + 2 * p - kh + 1, w + 2 * p - kw + 1
  local y = torch.DoubleTensor(n, f, oh, ow)
  for a = 1, n do for o = 1, f do for i = 1, oh do for j = 1, ow do
    local s = b[o]
    for ch = 1, c do for u = 1, kh do for v = 1, kw do
      local r, q = i - 1 + u - p, j - 1 + v - p
      if r >= 1 and r <= h and q >= 1 and q <= w then s = s + wt[o][ch][u][v] * x[a][ch][r][q] end
    end end end
    y[a][o][i][j] = s
  end end end end
  return y
end

describe('convolution rows (stride 1)', function()
  for _, dtype in ipairs { 'float32', 'float64' } do
    for _, case in ipairs { { 0, 3, 3, 13, 11 }, { 1, 3, 2, 5, 19 }, { 2, 1, 3, 4, 9 } } do
      local p, kh, kw, h, w = table.unpack(case)
      it(('%s: padding %d, %dx%d kernel on %dx%d, against Lua sums'):format(dtype, p, kh, kw, h, w), function()
        torch.manualSeed(p + h)
        local m = nn.SpatialConvolution(3, 4, kw, kh, 1, 1, p, p)
        local tname = dtype == 'float32' and 'torch.FloatTensor' or 'torch.DoubleTensor'
        m:type(tname)
        local x = torch.randn(2, 3, w, h):type(tname):transpose(3, 4)   -- non-contiguous (2, 3, h, w)
        assert.is_false(x:isContiguous())
        local tol = dtype == 'float32' and 1e-4 or 1e-10
        local y = m:forward(x)
        H.near(y, luaConv(x:double(), m.weight:double(), m.bias:double(), p), tol, 'forward')
        -- backward through the adjoint: <gy, conv(x)> is linear in x, so gradInput . x
        -- + sum(gy) . bias equals <gy, y>, and gradWeight . weight likewise
        local gy = torch.randn(y:size()):type(y:type())
        m:zeroGradParameters()
        local gx = m:backward(x, gy)
        local lhs = gy:double():dot(y:double())
        H.near(gx:double():dot(x:double()) + gy:double():sum(4):sum(3):sum(1):view(-1):dot(m.bias:double()),
               lhs, tol * 100 * math.abs(lhs), 'gradInput (adjoint)')
        H.near(m.gradWeight:double():dot(m.weight:double()) + m.gradBias:double():dot(m.bias:double()),
               lhs, tol * 100 * math.abs(lhs), 'gradWeight (adjoint)')
      end)
    end
  end
end)

-- Above the threading grain the planes go to the pool, below it they run on the calling
-- thread: a 2x64x17x19 input (41k elements) gives, plane by plane, what each plane gives
-- alone (1x1x17x19, far below the grain).
describe('average and adaptive pooling above the threading grain', function()
  for _, make in ipairs {
    function() return nn.SpatialAveragePooling(3, 3, 2, 2, 1, 1) end,
    function() return nn.SpatialAdaptiveAveragePooling(4, 3) end,
  } do
    it(tostring(make()) .. ' matches its planes run alone', function()
      torch.manualSeed(5)
      local x = torch.randn(2, 64, 17, 19)
      local y = make():forward(x):clone()
      for n = 1, 2 do
        for c = 1, 64, 7 do
          local yi = make():forward(x[n]:narrow(1, c, 1):view(1, 1, 17, 19))
          H.near(y[n]:narrow(1, c, 1), yi:view(1, yi:size(3), yi:size(4)), 0, ('plane %d,%d'):format(n, c))
        end
      end
    end)
  end
end)
