-- Fashion-MNIST for the examples: the loaders (optionally on the first n samples, for
-- quick runs) and the final test: accuracy and confusion matrix with the class names.
local torch = require 'torch'
local data = require 'ember.data'
local metrics = require 'ember.metrics'

local fashion = {}

fashion.classes = data.fashionMNISTClasses

-- The dataset restricted to its first n samples (all when n is nil or too large).
local function head(ds, n)
  if not n or n >= ds:size() then return ds end
  local fields = {}
  for k, f in ipairs(ds.fields) do
    fields[k] = { f.tensor:narrow(1, 1, n), dtype = f.dtype, scale = f.scale, shift = f.shift }
  end
  return data.TensorDataset(table.unpack(fields))
end

-- Train and test loaders: images (B, 1, 28, 28) float32 in [0, 1] (pixels / 255),
-- labels (B) int64 1..10. opts: batch, seed, trainSize, testSize (nil: all).
function fashion.loaders(opts)
  local train = head(data.fashionMNIST('train'), opts.trainSize)
  local test = head(data.fashionMNIST('test'), opts.testSize)
  return data.DataLoader(train, { batchSize = opts.batch, shuffle = true, seed = opts.seed }),
         data.DataLoader(test, { batchSize = 1000 })
end

-- The model's confusion matrix on a loader, in evaluation mode.
function fashion.confusion(model, loader)
  model:evaluate()
  local cm = metrics.ConfusionMatrix(fashion.classes)
  for _, x, y in loader:iter() do cm:add(model:forward(x), y) end
  return cm
end

-- "(60000 train / 10000 test images)"
function fashion.describe(train, test)
  return ('%d train / %d test images'):format(train.dataset:size(), test.dataset:size())
end

-- The number of parameters of a model.
function fashion.parameterCount(model)
  local n = 0
  for _, p in ipairs(model:parameters()) do n = n + p:nElement() end
  return n
end

-- The end of a run: prints the confusion matrix on the test loader, saves the model
-- with torch.save and prints the result line the specs read:
--   RESULT <name> test_accuracy=88.12% epochs=10 train_time=75.0s
-- Returns the test accuracy (0..1).
function fashion.finish(name, model, test, modelPath, epochs, seconds)
  local cm = fashion.confusion(model, test)
  print(cm)
  model:clearState()
  torch.save(modelPath, model)
  print(('saved the model to %s (torch.load reads it back)'):format(modelPath))
  print(('RESULT %s test_accuracy=%.2f%% epochs=%d train_time=%.1fs')
        :format(name, 100 * cm:accuracy(), epochs, seconds))
  return cm:accuracy()
end

return fashion
