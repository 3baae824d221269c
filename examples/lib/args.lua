-- The examples' command-line flags: `--epochs 3 --batch 64 --quick --no-plot`.
--   local opt = args.parse(arg, 'ember examples/x.lua [flags]', {
--     { 'epochs', 10,    'training epochs' },          -- number: --epochs 3
--     { 'out',    'out', 'folder for the outputs' },    -- string: --out /tmp/x
--     { 'quick',  false, 'a tiny run (tests)' },       -- boolean: --quick, --no-quick
--   })
-- Dashes in a flag name are the flag's camelCase key (--train-size: opt.trainSize). A
-- flag's type is its default's. --help prints the flags; a wrong flag prints the
-- message and the flags to stderr and exits with status 2.
local args = {}

local function usageText(usage, flags)
  local lines = { 'usage: ' .. usage, 'flags:' }
  for _, f in ipairs(flags) do
    local name = f[1]:gsub('%u', function(c) return '-' .. c:lower() end)
    local default = type(f[2]) == 'boolean' and (f[2] and 'on' or 'off')
                    or type(f[2]) == 'string' and ('"%s"'):format(f[2]) or tostring(f[2])
    lines[#lines + 1] = ('  --%-14s %s (default %s)'):format(name, f[3], default)
  end
  return table.concat(lines, '\n')
end

-- Parses the list `argv` (the script's `arg`) against `flags`; returns the options.
function args.parse(argv, usage, flags)
  local opt, known = {}, {}
  for _, f in ipairs(flags) do opt[f[1]], known[f[1]] = f[2], f end
  local function fail(msg)
    io.stderr:write(msg, '\n', usageText(usage, flags), '\n')
    os.exit(2)
  end
  local i = 1
  while argv[i] do
    local a = argv[i]
    if a == '--help' or a == '-h' then
      print(usageText(usage, flags))
      os.exit(0)
    end
    local name = a:match('^%-%-([%w%-]+)$')
    if not name then fail(('unexpected argument %s'):format(a)) end
    local negated = name:match('^no%-(.+)$')
    local key = (negated or name):gsub('%-(%l)', string.upper)
    local f = known[key]
    if not f then fail(('unknown flag --%s'):format(name)) end
    if type(f[2]) == 'boolean' then
      opt[key] = not negated
    elseif negated then
      fail(('--%s is not a boolean flag'):format(name))
    else
      local v = argv[i + 1]
      if v == nil then fail(('--%s needs a value'):format(name)) end
      if type(f[2]) == 'number' then
        v = math.tointeger(v) or tonumber(v)
        if not v then fail(('--%s needs a number, got %s'):format(name, argv[i + 1])) end
      end
      opt[key] = v
      i = i + 1
    end
    i = i + 1
  end
  return opt
end

-- The folder of the running script (for its default output folder), without a slash.
function args.scriptDir()
  return arg and arg[0] and arg[0]:match('^(.*)/[^/]*$') or '.'
end

-- Creates the folder (and its parents) and returns it.
function args.mkdir(dir)
  os.execute(('mkdir -p %q'):format(dir))
  return dir
end

return args
