-- nn.SpatialBatchNormalization(nOutput [, eps = 1e-5, momentum = 0.1, affine = true]):
-- batch normalisation of (N, C, H, W) images per channel C, statistics over N, H and W;
-- otherwise nn.BatchNormalization (fields, train/evaluate, momentum), as Torch7.
local nn = require 'nn'

local SpatialBatchNormalization = nn.class('nn.SpatialBatchNormalization', nn.BatchNormalization)

SpatialBatchNormalization.nDim = 4   -- input (N, C, H, W) -> output (N, C, H, W)

return SpatialBatchNormalization
