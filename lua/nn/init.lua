-- `require 'nn'`: Torch7's neural-network package. Each class lives in its own file
-- (lua/nn/<Class>.lua) and is declared with nn.class; `nn.Linear(3, 4)` constructs
-- one. Like Torch7, this defines the global `nn`; nothing else is global.
local nn = {}

-- Declares class `name` ('nn.Linear') deriving from `parent` (a class or nil) and
-- registers it as nn.<Short>. Instances have the class as metatable: methods are
-- looked up through it and its parents; torch.type(obj) reads its __typename;
-- tostring(obj) calls obj:__tostring__(); obj(...) calls obj:__call__(...) (a graph
-- node, see nn.Graph). Calling the class runs __init.
-- Returns the class and its parent, as torch.class does.
function nn.class(name, parent)
  local short = name:match('^nn%.(.+)$')
  assert(short, 'nn.class: class names start with "nn."')
  assert(not rawget(nn, short), 'nn.class: ' .. name .. ' is already defined')
  local cls = { __typename = name, __parent = parent }
  cls.__index = cls
  cls.__tostring = function(self) return self:__tostring__() end
  cls.__call = function(self, ...) return self:__call__(...) end
  setmetatable(cls, {
    __index = parent,
    __call = function(c, ...)
      local obj = setmetatable({}, c)
      obj:__init(...)
      return obj
    end,
  })
  nn[short] = cls
  return cls, parent
end

-- Does obj belong to the class named `name` or to one derived from it?
function nn.isTypeOf(obj, name)
  local cls = getmetatable(obj)
  while type(cls) == 'table' do
    if cls.__typename == name then return true end
    cls = cls.__parent
  end
  return false
end

-- The class files `require 'nn'` for this table while it is being filled.
package.loaded.nn = nn
_G.nn = nn   -- the one global Torch7 compatibility asks for
nn.utils = require 'nn.utils'

-- The base classes load with nn; every other class loads from lua/nn/<Class>.lua the
-- first time nn.<Class> is read (nn.Linear(3, 4), a parent in nn.class, torch.load of a
-- model), which keeps `require 'nn'` quick: the 60 class files took about 6 of its
-- 25 ms. Their names are also the metatable's __names, which the REPL completes.
-- (Graph too: it makes module(...) build graph nodes and defines nn.Input, nn.gModule;
-- it brings ConcatTable.)
for _, file in ipairs { 'Module', 'Container', 'Sequential', 'Criterion', 'Graph' } do
  require('nn.' .. file)
end

local LAZY = {
  'Identity', 'Linear', 'ReLU', 'Tanh', 'Sigmoid', 'SoftMax', 'LogSoftMax', 'MSECriterion',
  'ClassNLLCriterion', 'CrossEntropyCriterion', 'Jacobian',
  'AbsCriterion', 'SmoothL1Criterion', 'BCECriterion', 'BCEWithLogitsCriterion',
  'DistKLDivCriterion', 'MarginCriterion', 'MultiMarginCriterion', 'CosineEmbeddingCriterion',
  'Bilinear',
  'ConcatTable', 'Concat', 'ParallelTable', 'JoinTable', 'SplitTable', 'CAddTable', 'CMulTable',
  'View', 'Reshape', 'Flatten', 'Transpose', 'Narrow', 'Select', 'Padding', 'Residual',
  'SpatialConvolution', 'SpatialConvolutionMM', 'SpatialDilatedConvolution',
  'SpatialFullConvolution', 'TemporalConvolution', 'SpatialMaxPooling', 'SpatialAveragePooling',
  'SpatialAdaptiveAveragePooling', 'BatchNormalization', 'SpatialBatchNormalization',
  'SpatialDropout', 'LeakyReLU', 'ELU', 'SiLU', 'HardTanh', 'SoftPlus',
  'LayerNorm', 'GELU', 'Dropout', 'MultiheadAttention', 'TransformerBlock', 'GPT',
  'LookupTable', 'RNN', 'LSTM', 'GRU',
}
local lazy = {}
for _, name in ipairs(LAZY) do lazy[name] = true end

setmetatable(nn, {
  __index = function(t, name)
    if lazy[name] then
      require('nn.' .. name)
      return rawget(t, name)
    end
  end,
  __names = LAZY,
})

require 'nn.cuda'   -- Module:cuda(), Criterion:cuda(), nn.autocast

return nn
