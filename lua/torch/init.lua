-- `require 'torch'`: Ember's tensor API under Torch7's name. Like Torch7, it also
-- defines the global `torch`; no other global is touched.
local ember = require 'ember'
torch = ember   -- luacheck: ignore (the one global Torch7 compatibility asks for)
return ember
