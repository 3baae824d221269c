-- `require 'torch'`: Ember's tensor API under Torch7's name. Like Torch7, it defines the
-- global `torch` and loads Torch7's `paths` package (lua/paths), which defines the
-- global `paths`; no other global is touched.
local ember = require 'ember'
torch = ember   -- luacheck: ignore (the globals Torch7 compatibility asks for)
require 'paths'
return ember
