-- Fashion-MNIST with a small CNN: three 3x3 convolutions with batch normalisation, max
-- pooling, dropout before the classifier; SGD with momentum on a cosine learning-rate
-- schedule (stepped per batch). Prints the confusion matrix, saves the model, log, plot.
--   ember examples/fashion_mnist_cnn.lua [--epochs 8 --width 16 --quick ...]
package.path = (arg[0]:match('^(.*)/[^/]*$') or '.') .. '/?.lua;' .. package.path
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local Trainer = require 'ember.Trainer'
local args = require 'lib.args'
local fashion = require 'lib.fashion'

local opt = args.parse(arg, 'ember examples/fashion_mnist_cnn.lua [flags]', {
  { 'epochs', 8, 'training epochs' },
  { 'batch', 128, 'batch size' },
  { 'lr', 0.05, 'SGD learning rate at the start (cosine decay to 0)' },
  { 'momentum', 0.9, 'SGD momentum' },
  { 'weightDecay', 5e-4, 'L2 penalty' },
  { 'width', 16, 'channels of the first convolution (then 2x, 2x)' },
  { 'dropout', 0.2, 'dropout before and after the hidden linear layer' },
  { 'trainSize', 60000, 'training images used (the first n)' },
  { 'testSize', 10000, 'test images used (the first n)' },
  { 'quick', false, 'a smoke test: 1 epoch on 2000 train / 500 test images, width 8' },
  { 'seed', 1, 'random seed (weights, dropout and shuffling)' },
  { 'bf16', false, 'products in bfloat16, float32 weights (nn.autocast)' },
  { 'out', args.scriptDir() .. '/out', 'folder for the model, log and plot' },
})
if opt.quick then opt.epochs, opt.trainSize, opt.testSize, opt.width = 1, 2000, 500, 8 end
if opt.bf16 then nn.autocast('bfloat16') end   -- from here on: training and evaluation

torch.manualSeed(opt.seed)
local train, test = fashion.loaders(opt)

-- 3x3 convolution (padding 1, same size), batch norm, ReLU
local function convBlock(from, to)
  return nn.Sequential()
    :add(nn.SpatialConvolution(from, to, 3, 3, 1, 1, 1, 1))
    :add(nn.SpatialBatchNormalization(to))
    :add(nn.ReLU())
end

local c = opt.width
-- input (B, 1, 28, 28) -> scores (B, 10)
local model = nn.Sequential()
  :add(convBlock(1, c)):add(nn.SpatialMaxPooling(2, 2))            -- (B, c, 14, 14)
  :add(convBlock(c, 2 * c)):add(nn.SpatialMaxPooling(2, 2))        -- (B, 2c, 7, 7)
  :add(convBlock(2 * c, 2 * c))                                    -- (B, 2c, 7, 7)
  :add(nn.Flatten())                                               -- (B, 98c)
  :add(nn.Dropout(opt.dropout))
  :add(nn.Linear(2 * c * 7 * 7, 128)):add(nn.ReLU())
  :add(nn.Dropout(opt.dropout))
  :add(nn.Linear(128, 10))
local criterion = nn.CrossEntropyCriterion()
local config = { learningRate = opt.lr, momentum = opt.momentum, dampening = 0,
                 weightDecay = opt.weightDecay }

args.mkdir(opt.out)
local paths = { model = opt.out .. '/fashion_cnn.t7', log = opt.out .. '/fashion_cnn.csv',
                plot = opt.out .. '/fashion_cnn.svg' }
print(model)
print(('%s, %d parameters, %d epochs, batch %d, SGD lr %g (cosine) momentum %g')
      :format(fashion.describe(train, test), fashion.parameterCount(model), opt.epochs, opt.batch,
              opt.lr, opt.momentum))

local start = torch.clock()
local trainer = Trainer {
  model = model, criterion = criterion, train = train, val = test,
  optimizer = 'sgd', config = config, epochs = opt.epochs,
  schedule = function(cfg) return optim.CosineAnnealingLR(cfg, { T_max = opt.epochs * #train }) end,
  scheduleEvery = 'batch',
  log = paths.log, plot = paths.plot,
}
trainer:fit()
local seconds = torch.clock() - start
print(('log %s, plot %s'):format(paths.log, paths.plot))
fashion.finish('fashion_mnist_cnn', model, test, paths.model, opt.epochs, seconds)
