-- `require 'rnn'`: Element-Research's torch/rnn package, as far as Ember has it:
-- nn.SeqLSTM (lua/nn/SeqLSTM.lua), the sequence LSTM that Torch7 scripts use. As in
-- Torch7, its modules live in nn's namespace and appear there once this is required
-- (a .t7 file naming nn.SeqLSTM loads after `require 'rnn'`). Returns the package
-- table, rnn.SeqLSTM == nn.SeqLSTM; defines no global besides nn's and torch's.
local nn = require 'nn'
require 'nn.SeqLSTM'

return { SeqLSTM = nn.SeqLSTM }
