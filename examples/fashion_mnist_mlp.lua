-- Fashion-MNIST with a 784-512-256-10 MLP: the recipe of ../shared/bench (10 epochs, SGD
-- lr 0.05 momentum 0.9, batch 128, pixels / 255; PyTorch reaches 88.1%), trained by
-- ember.Trainer with a progress bar and a validation pass per epoch (on the test set, as
-- the reference does), then the confusion matrix, the saved model, a CSV log and an SVG
-- plot. --manual trains with the loop written out, as in Torch7.
--   ember examples/fashion_mnist_mlp.lua [--epochs 10 --batch 128 --lr 0.05 --quick ...]
package.path = (arg[0]:match('^(.*)/[^/]*$') or '.') .. '/?.lua;' .. package.path
local torch = require 'torch'
local nn = require 'nn'
local optim = require 'optim'
local Trainer = require 'ember.Trainer'
local args = require 'lib.args'
local fashion = require 'lib.fashion'

local opt = args.parse(arg, 'ember examples/fashion_mnist_mlp.lua [flags]', {
  { 'epochs', 10, 'training epochs' },
  { 'batch', 128, 'batch size' },
  { 'lr', 0.05, 'SGD learning rate' },
  { 'momentum', 0.9, 'SGD momentum' },
  { 'hidden1', 512, 'width of the first hidden layer' },
  { 'hidden2', 256, 'width of the second hidden layer' },
  { 'trainSize', 60000, 'training images used (the first n)' },
  { 'testSize', 10000, 'test images used (the first n)' },
  { 'quick', false, 'a smoke test: 1 epoch on 2000 train / 500 test images' },
  { 'manual', false, 'train with the hand-written loop instead of ember.Trainer' },
  { 'seed', 1, 'random seed (weights and shuffling)' },
  { 'bf16', false, 'products in bfloat16, float32 weights (nn.autocast)' },
  { 'out', args.scriptDir() .. '/out', 'folder for the model, log and plot' },
})
if opt.quick then opt.epochs, opt.trainSize, opt.testSize = 1, 2000, 500 end
if opt.bf16 then nn.autocast('bfloat16') end   -- from here on: training and evaluation

torch.manualSeed(opt.seed)
local train, test = fashion.loaders(opt)

-- input (B, 1, 28, 28) -> log-probabilities (B, 10)
local model = nn.Sequential()
  :add(nn.View(784))
  :add(nn.Linear(784, opt.hidden1)):add(nn.ReLU())
  :add(nn.Linear(opt.hidden1, opt.hidden2)):add(nn.ReLU())
  :add(nn.Linear(opt.hidden2, 10)):add(nn.LogSoftMax())
local criterion = nn.ClassNLLCriterion()
-- dampening 0 as PyTorch's SGD (Torch7's default dampening is the momentum)
local config = { learningRate = opt.lr, momentum = opt.momentum, dampening = 0 }

args.mkdir(opt.out)
local paths = { model = opt.out .. '/fashion_mlp.t7', log = opt.out .. '/fashion_mlp.csv',
                plot = opt.out .. '/fashion_mlp.svg' }
print(model)
print(('%s, %d parameters, %d epochs, batch %d, SGD lr %g momentum %g')
      :format(fashion.describe(train, test), fashion.parameterCount(model), opt.epochs, opt.batch,
              opt.lr, opt.momentum))

-- The loop by hand: what ember.Trainer does, without the log, plot and Ctrl-C handling.
local function trainByHand()
  local params, grads = model:getParameters()
  local state = {}
  for epoch = 1, opt.epochs do
    local start, sum, count = torch.clock(), 0, 0
    model:training()
    for _, x, y in train:iter() do
      local _, fx = optim.sgd(function()
        grads:zero()
        local output = model:forward(x)
        local loss = criterion:forward(output, y)
        model:backward(x, criterion:backward(output, y))
        return loss, grads
      end, params, config, state)
      sum, count = sum + fx[1] * x:size(1), count + x:size(1)
    end
    local accuracy = fashion.confusion(model, test):accuracy()
    print(('epoch %d/%d  train_loss %.4f  val_accuracy %.4f  %.1fs')
          :format(epoch, opt.epochs, sum / count, accuracy, torch.clock() - start))
  end
end

local start = torch.clock()
if opt.manual then
  trainByHand()
else
  local trainer = Trainer {
    model = model, criterion = criterion, train = train, val = test,
    optimizer = 'sgd', config = config, epochs = opt.epochs,
    log = paths.log, plot = paths.plot,
  }
  local _, reason = trainer:fit()
  if reason == 'interrupted' then print('interrupted: the model so far is evaluated and saved') end
end
local seconds = torch.clock() - start

if not opt.manual then print(('log %s, plot %s'):format(paths.log, paths.plot)) end
fashion.finish('fashion_mnist_mlp', model, test, paths.model, opt.epochs, seconds)
