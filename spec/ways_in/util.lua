-- Shared by the spec/ways_in specs: running commands, temporary folders and the
-- paths of the build (EMBER_BUILD, set by `make test`; build/ otherwise).
local W = {}

local function abspath(p)
  if p:sub(1, 1) == '/' then return p end
  return (os.getenv('PWD') or io.popen('pwd'):read('l')) .. '/' .. p
end

W.root = abspath('.')
W.build = abspath(os.getenv('EMBER_BUILD') or 'build')
W.exe = W.build .. '/ember'

-- A shell word for s.
function W.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Runs a shell command; returns its stdout and stderr (together), whether it
-- exited with 0, and the exit code.
function W.sh(cmd)
  local p = io.popen('( ' .. cmd .. ' ) 2>&1')
  local out = p:read('a')
  local ok, _, code = p:close()
  return out, ok == true, code
end

function W.sleep(seconds) os.execute(('sleep %.3f'):format(seconds)) end

-- A fresh temporary folder (the caller removes it).
function W.tmpdir() return (W.sh('mktemp -d'):gsub('%s+$', '')) end

-- The bytes of the file at path, or nil when it cannot be read.
function W.read(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local s = f:read('a')
  f:close()
  return s
end

-- Writes text to path.
function W.write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

return W
