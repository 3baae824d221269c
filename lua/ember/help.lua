-- Short help for the engine's functions: help(torch.zeros), help 'torch.zeros',
-- help(x.view) or, in the REPL, `?torch.zeros` and `?x:view`. A text is a signature
-- line and one or two lines of meaning; functions are found by name or by value.
local help = {}

local TEXTS = {
  -- creation
  ['torch.Tensor'] = 'torch.Tensor([sizes... | table | tensor]) -> tensor of the default dtype\n'
    .. 'Sizes give an uninitialised tensor, a nested table its values, a tensor a view of it.',
  ['torch.FloatTensor'] = 'torch.FloatTensor(...) -> float32 tensor (as torch.Tensor; also\n'
    .. 'DoubleTensor, HalfTensor, LongTensor, IntTensor, ByteTensor, BoolTensor, ...)',
  ['torch.zeros'] = 'torch.zeros(sizes... [, dtype]) -> new tensor filled with 0',
  ['torch.ones'] = 'torch.ones(sizes... [, dtype]) -> new tensor filled with 1',
  ['torch.empty'] = 'torch.empty(sizes... [, dtype]) -> new uninitialised tensor',
  ['torch.full'] = 'torch.full(sizes..., value [, dtype]) -> new tensor filled with value',
  ['torch.zeros_like'] = 'torch.zeros_like(x [, dtype]) -> zeros of x\'s size (also ones_like,\n'
    .. 'empty_like, full_like(x, v))',
  ['torch.range'] = 'torch.range(a, b [, step]) -> 1-D tensor a, a+step, ..., b (b included)',
  ['torch.linspace'] = 'torch.linspace(a, b, n) -> 1-D tensor of n evenly spaced values from a to b',
  ['torch.eye'] = 'torch.eye(n [, m]) -> n x m matrix with ones on the diagonal',
  ['torch.rand'] = 'torch.rand(sizes...) -> uniform samples in [0, 1) from this state\'s generator',
  ['torch.randn'] = 'torch.randn(sizes...) -> standard normal samples from this state\'s generator',
  ['torch.randperm'] = 'torch.randperm(n) -> a random permutation of 1..n',
  ['torch.manualSeed'] = 'torch.manualSeed(seed): reseeds this Lua state\'s generator\n'
    .. '(each Lua state has its own; threads with their own states do not interfere)',
  ['torch.seed'] = 'torch.seed() -> a fresh seed from the clock, applied to this state\'s generator',
  ['torch.isTensor'] = 'torch.isTensor(v) -> true when v is a tensor',
  ['torch.type'] = 'torch.type(v) -> "torch.FloatTensor", a class name, or Lua\'s type(v)',
  ['torch.setdefaulttensortype'] = 'torch.setdefaulttensortype(name): the dtype torch.Tensor and\n'
    .. 'the creation functions use, e.g. \'torch.DoubleTensor\'',
  ['torch.getdefaulttensortype'] = 'torch.getdefaulttensortype() -> "torch.FloatTensor" or another name',
  -- math
  ['torch.add'] = 'torch.add([res,] a, b) -> a + b (b a tensor or number; broadcasts)',
  ['torch.cmul'] = 'torch.cmul([res,] a, b) -> a * b element-wise (broadcasts)',
  ['torch.cdiv'] = 'torch.cdiv([res,] a, b) -> a / b element-wise (broadcasts)',
  ['torch.cmax'] = 'torch.cmax([res,] a, b) -> element-wise maximum; x:cmax(0) is ReLU in place',
  ['torch.cmin'] = 'torch.cmin([res,] a, b) -> element-wise minimum',
  ['torch.clamp'] = 'torch.clamp([res,] x, lo, hi) -> x limited to [lo, hi]',
  ['torch.exp'] = 'torch.exp([res,] x) -> e^x element-wise (also log, sqrt, tanh, sigmoid, abs, ...)',
  ['torch.mm'] = 'torch.mm([res,] A, B) -> matrix product, (n, k) x (k, m) -> (n, m)',
  ['torch.mv'] = 'torch.mv([res,] A, x) -> matrix-vector product, (n, m) x (m) -> (n)',
  ['torch.addmm'] = 'torch.addmm([res,] [beta,] C, [alpha,] A, B) -> beta*C + alpha*(A B)',
  ['torch.addmv'] = 'torch.addmv([res,] [beta,] v, [alpha,] A, x) -> beta*v + alpha*(A x)',
  ['torch.bmm'] = 'torch.bmm([res,] A, B) -> batched matrix product, (b, n, k) x (b, k, m)',
  ['torch.dot'] = 'torch.dot(a, b) -> sum of a * b, a number',
  -- reductions
  ['torch.sum'] = 'torch.sum(x [, dim]) -> sum of all elements (a number) or along dim (a tensor)',
  ['torch.mean'] = 'torch.mean(x [, dim]) -> mean of all elements or along dim',
  ['torch.max'] = 'torch.max(x [, dim]) -> maximum (a number), or values and indices along dim',
  ['torch.min'] = 'torch.min(x [, dim]) -> minimum (a number), or values and indices along dim',
  ['torch.norm'] = 'torch.norm(x [, p]) -> the p-norm of all elements (p = 2 by default)',
  ['torch.argmax'] = 'torch.argmax(x [, dim]) -> 1-based index of the maximum',
  -- tensor methods
  ['Tensor:size'] = 'x:size([dim]) -> the size along dim, or all sizes (a LongTensor)',
  ['Tensor:sizeTable'] = 'x:sizeTable() -> the sizes as a Lua table',
  ['Tensor:dim'] = 'x:dim() -> number of dimensions (0 for an empty tensor)',
  ['Tensor:nElement'] = 'x:nElement() -> number of elements (also x:numel())',
  ['Tensor:type'] = 'x:type([name]) -> the type name, or a copy converted to that type',
  ['Tensor:view'] = 'x:view(sizes...) -> a view with new sizes (one may be -1); no copy',
  ['Tensor:reshape'] = 'x:reshape(sizes...) -> a view when the strides allow, else a copy',
  ['Tensor:narrow'] = 'x:narrow(dim, first, n) -> view of n slices along dim from first',
  ['Tensor:select'] = 'x:select(dim, i) -> view of slice i along dim, one dimension fewer',
  ['Tensor:sub'] = 'x:sub(first1, last1 [, first2, last2 ...]) -> view of inclusive ranges',
  ['Tensor:t'] = 'x:t() -> transposed view of a matrix',
  ['Tensor:transpose'] = 'x:transpose(d1, d2) -> view with dims d1 and d2 swapped',
  ['Tensor:permute'] = 'x:permute(dims...) -> view with the dims reordered',
  ['Tensor:squeeze'] = 'x:squeeze([dim]) -> view without size-1 dims',
  ['Tensor:unsqueeze'] = 'x:unsqueeze(dim) -> view with a size-1 dim inserted at dim',
  ['Tensor:expand'] = 'x:expand(sizes...) -> view repeating size-1 dims (stride 0); no copy',
  ['Tensor:copy'] = 'x:copy(y) -> x, with y\'s elements copied in (dtypes converted)',
  ['Tensor:fill'] = 'x:fill(v) -> x, every element set to v',
  ['Tensor:zero'] = 'x:zero() -> x, every element set to 0',
  ['Tensor:clone'] = 'x:clone() -> a contiguous copy',
  ['Tensor:contiguous'] = 'x:contiguous() -> x when contiguous, else a contiguous copy',
  ['Tensor:resize'] = 'x:resize(sizes...) -> x, resized in place (contents unspecified)',
  ['Tensor:item'] = 'x:item() -> the one element of x as a number',
  ['Tensor:totable'] = 'x:totable() -> nested Lua tables of the elements',
  ['Tensor:float'] = 'x:float() -> x when float32, else a float32 copy (also double, long, ...)',
  ['Tensor:cuda'] = 'x:cuda() -> a copy on the GPU (x:float() brings it back)',
  -- packages
  ['nn'] = 'nn: neural network modules in Torch7\'s style (require \'nn\'):\n'
    .. 'module:forward(input), module:backward(input, gradOutput), nn.Sequential():add(m)',
  ['optim'] = 'optim: optim.sgd(opfunc, x, config, state) and friends (adam, adamw, rmsprop,\n'
    .. 'adagrad); opfunc(x) returns the loss and the gradient',
}

local OVERVIEW = [[
Ember: Torch7's tensor API on Lua 5.4.  help(f) or ?name shows a function's help.
  torch.zeros(2, 3), torch.randn(4), torch.Tensor{{1, 2}, {3, 4}}   create tensors
  x:size(), x:view(6), x:narrow(1, 1, 2), x[1][2], x[{{}, 2}]       shape and views
  torch.mm(a, b), a + b, x:sum(), x:max(1)                           math
  require 'nn', require 'optim'                                      networks, training
Tab completes names, fields and tensor methods; Ctrl-C stops running code.]]

-- Where to look for a function value's name: module tables by prefix.
local function sources()
  local list = {}
  local core = package.loaded['ember.core']
  if core then
    list[#list + 1] = { 'torch.', package.loaded.torch or package.loaded.ember or core }
    list[#list + 1] = { 'Tensor:', core.methods }
  end
  for _, pkg in ipairs { 'nn', 'optim' } do
    if type(package.loaded[pkg]) == 'table' then list[#list + 1] = { pkg .. '.', package.loaded[pkg] } end
  end
  return list
end

-- The name ('torch.zeros', 'Tensor:view', 'nn.Linear') of a value the engine exports.
function help.nameof(v)
  if v == nil then return nil end
  for _, src in ipairs(sources()) do
    for k, f in pairs(src[2]) do
      if f == v and type(k) == 'string' then return src[1] .. k end
    end
  end
  for pkg in pairs { nn = true, optim = true } do
    if package.loaded[pkg] == v then return pkg end
  end
end

-- The help text for a name, trying the Torch7 spellings ('zeros', 'x:view', 'x.view').
function help.text(name)
  if TEXTS[name] then return TEXTS[name] end
  local method = name:match('[:.]([%a_][%w_]*)$') or name
  return TEXTS['torch.' .. method] or TEXTS['Tensor:' .. method]
end

-- help(): the overview. help(v [, expr]): the text for a value (a function the engine
-- exports) or for a name given as a string; expr is how the user wrote it.
function help.help(v, expr)
  if v == nil and expr == nil then print(OVERVIEW) return end
  local name = type(v) == 'string' and v or help.nameof(v) or (v == nil and expr) or nil
  local text = name and help.text(name)
  if text then print(text) return end
  local what = name or expr or tostring(v)
  if type(v) == 'function' and not name then
    print(('%s is a function, not one of the engine\'s'):format(what))
  else
    print(('no help for %s; help() lists the main functions'):format(what))
  end
end

return help
