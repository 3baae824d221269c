-- Shared test helpers: tolerances, comparisons against nested tables, error checks
-- and the finite-difference Jacobian. Specs load it with `local H = require 'helpers'`.
local torch = require 'torch'

local H = {}

H.tol = { float32 = 1e-5, float64 = 1e-12, float16 = 1e-2, bfloat16 = 1e-2 }

-- Max |a - b| over two tensors or nested tables / numbers.
function H.maxdiff(a, b)
  if torch.isTensor(a) then a = a:double():totable() end
  if torch.isTensor(b) then b = b:double():totable() end
  if type(a) ~= 'table' then
    if type(a) == 'boolean' then a = a and 1 or 0 end
    if type(b) == 'boolean' then b = b and 1 or 0 end
    if a ~= a and b ~= b then return 0 end           -- nan == nan here
    if a == b then return 0 end                       -- equal infinities
    return math.abs(a - b)
  end
  assert(type(b) == 'table', 'shape mismatch: table vs ' .. type(b))
  assert(#a == #b, ('length mismatch: %d vs %d'):format(#a, #b))
  local m = 0
  for i = 1, #a do m = math.max(m, H.maxdiff(a[i], b[i])) end
  return m
end

-- Asserts that a (tensor or table) equals b within tol (default 1e-6, relative to max |b|).
function H.near(a, b, tol, msg)
  local d = H.maxdiff(a, b)
  tol = tol or 1e-6
  assert(d <= tol, (msg or 'values differ') .. (': max difference %g > %g'):format(d, tol))
  return true
end

-- Asserts that f(...) raises an error whose message contains every given fragment
-- (plain text, not patterns).
function H.raises(fragments, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, 'expected an error, got success')
  err = tostring(err)
  if type(fragments) == 'string' then fragments = { fragments } end
  for _, frag in ipairs(fragments) do
    assert(err:find(frag, 1, true), ('error message %q does not contain %q'):format(err, frag))
  end
  return err
end

-- Size of a tensor as a plain table.
function H.size(t) return t:sizeTable() end

-- Numeric Jacobian of f (tensor -> tensor) at x (float64), by central differences:
-- J[i][j] = d f(x)_j / d x_i, returned as a (numel(x), numel(f(x))) tensor.
function H.jacobian(f, x, eps)
  eps = eps or 1e-6
  local flat = x:view(x:nElement())
  local n = flat:nElement()
  local out = f(x)
  local J = torch.zeros(n, out:nElement(), 'float64')
  for i = 1, n do
    local orig = flat[i]
    flat[i] = orig + eps
    local fp = f(x):clone():double():view(-1)
    flat[i] = orig - eps
    local fm = f(x):clone():double():view(-1)
    flat[i] = orig
    for j = 1, fp:nElement() do J[i][j] = (fp[j] - fm[j]) / (2 * eps) end
  end
  return J
end

return H
