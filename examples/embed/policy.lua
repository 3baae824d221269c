-- A 64-64-4 policy network for the game-loop host in embed.c: obs (64) -> Linear ->
-- ReLU -> Linear -> action (4). The host writes each observation into `obs` and
-- reads `action` after calling step(); every tensor is allocated here, once, so a
-- frame allocates nothing and makes no garbage.
local torch = require 'torch'

local seed = ...                                     -- the host may pass a seed
torch.manualSeed(seed or 1)

local W1 = torch.randn(64, 64):mul(1 / 8)            -- (hidden, obs)
local b1 = torch.randn(64):mul(0.1)                  -- (hidden)
local W2 = torch.randn(4, 64):mul(1 / 8)             -- (action, hidden)
local b2 = torch.randn(4):mul(0.1)                   -- (action)

local obs = torch.zeros(64)                          -- written by the host
local hidden = torch.zeros(64)
local action = torch.zeros(4)                        -- read by the host

local addmv = torch.addmv

-- One forward pass: action = W2 * relu(W1 * obs + b1) + b2, in place.
local function step()
  addmv(hidden, b1, W1, obs)
  hidden:cmax(0)
  addmv(action, b2, W2, hidden)
end

return { obs = obs, action = action, step = step, params = { W1 = W1, b1 = b1, W2 = W2, b2 = b2 } }
