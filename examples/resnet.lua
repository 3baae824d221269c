-- A small ResNet on Fashion-MNIST: a 3x3 stem, then two stages of residual blocks (two
-- 3x3 convolutions with batch normalisation, added to the block's input by nn.Residual;
-- the first block of a stage halves the image and doubles the channels, its shortcut a
-- 1x1 strided convolution), global average pooling and a linear classifier. SGD with
-- momentum and weight decay on a cosine schedule.
--   ember examples/resnet.lua [--epochs 5 --width 12 --blocks 1 --quick ...]
package.path = (arg[0]:match('^(.*)/[^/]*$') or '.') .. '/?.lua;' .. package.path
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local Trainer = require 'ember.Trainer'
local args = require 'lib.args'
local fashion = require 'lib.fashion'

local opt = args.parse(arg, 'ember examples/resnet.lua [flags]', {
  { 'epochs', 5, 'training epochs' },
  { 'batch', 128, 'batch size' },
  { 'lr', 0.1, 'SGD learning rate at the start (cosine decay to 0)' },
  { 'momentum', 0.9, 'SGD momentum' },
  { 'weightDecay', 5e-4, 'L2 penalty' },
  { 'width', 12, 'channels of the stem (doubled by each stage)' },
  { 'blocks', 1, 'residual blocks per stage (2 stages: 14x14, 7x7)' },
  { 'trainSize', 60000, 'training images used (the first n)' },
  { 'testSize', 10000, 'test images used (the first n)' },
  { 'quick', false, 'a smoke test: 1 epoch on 4000 train / 500 test images, width 8' },
  { 'seed', 1, 'random seed (weights and shuffling)' },
  { 'out', args.scriptDir() .. '/out', 'folder for the model, log and plot' },
})
if opt.quick then opt.epochs, opt.trainSize, opt.testSize, opt.width = 1, 4000, 500, 8 end

torch.manualSeed(opt.seed)
local train, test = fashion.loaders(opt)

local function conv3(from, to, stride)
  return nn.SpatialConvolution(from, to, 3, 3, stride, stride, 1, 1)
end

-- (B, from, H, W) -> (B, to, H / stride, W / stride): relu(block(x) + shortcut(x))
local function basicBlock(from, to, stride)
  local block = nn.Sequential()
    :add(conv3(from, to, stride)):add(nn.SpatialBatchNormalization(to)):add(nn.ReLU())
    :add(conv3(to, to, 1)):add(nn.SpatialBatchNormalization(to))
  local shortcut
  if stride ~= 1 or from ~= to then
    shortcut = nn.Sequential()
      :add(nn.SpatialConvolution(from, to, 1, 1, stride, stride))
      :add(nn.SpatialBatchNormalization(to))
  end
  return nn.Sequential():add(nn.Residual(block, shortcut)):add(nn.ReLU())
end

local c = opt.width
-- input (B, 1, 28, 28) -> scores (B, 10)
local model = nn.Sequential()
  :add(conv3(1, c, 1)):add(nn.SpatialBatchNormalization(c)):add(nn.ReLU())   -- (B, c, 28, 28)
local planes = c
for _, width in ipairs { 2 * c, 4 * c } do                              -- 14, then 7 pixels
  for b = 1, opt.blocks do
    model:add(basicBlock(planes, width, b == 1 and 2 or 1))
    planes = width
  end
end
model:add(nn.SpatialAdaptiveAveragePooling(1, 1))                          -- (B, 4c, 1, 1)
  :add(nn.Flatten()):add(nn.Linear(4 * c, 10))
local criterion = nn.CrossEntropyCriterion()
local config = { learningRate = opt.lr, momentum = opt.momentum, dampening = 0,
                 weightDecay = opt.weightDecay }

args.mkdir(opt.out)
local paths = { model = opt.out .. '/resnet.t7', log = opt.out .. '/resnet.csv',
                plot = opt.out .. '/resnet.svg' }
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
fashion.finish('resnet', model, test, paths.model, opt.epochs, seconds)
