-- `require 'paths'`: Torch7's file-name package (torch/paths), POSIX only. Like Torch7,
-- it defines the global `paths`, and `require 'torch'` loads it, so Torch7 scripts that
-- call paths.* after requiring only torch run unchanged. The system calls are
-- ember.core.fs (src/lua_paths.c); the rest is string work here.
--   names    dirname, basename, extname, concat, cwd, home, thisfile, dofile
--   tests    filep, dirp
--   folders  dir, files, iterfiles, iterdirs, mkdir, rmdir, rmall
-- Failures the caller expects (a missing folder, a refused rmdir) return nil, message,
-- errno; a wrong argument raises an error naming the function.
local fs = require('ember.core').fs

local paths = {}

local function checkPath(fname, p, arg)
  if type(p) ~= 'string' then
    error(('paths.%s: argument #%d must be a path (a string), got %s')
          :format(fname, arg or 1, type(p)), 3)
  end
  return p
end

-- The user's home folder ($HOME, else '.').
paths.home = os.getenv('HOME') or '.'

-- The absolute working directory.
function paths.cwd() return fs.cwd() or '.' end

-- Joins paths as a shell would resolve them from the working directory: a relative
-- first part starts at cwd(), an absolute part starts over, '.' is dropped and '..'
-- removes the previous component (textually). Always absolute, no trailing '/':
-- concat('/a/b/', '../c') == '/a/c'; concat() == cwd().
function paths.concat(...)
  local n, parts = select('#', ...), {}
  local function add(p)
    if p:sub(1, 1) == '/' then parts = {} end
    for c in p:gmatch('[^/]+') do
      if c == '..' then parts[#parts] = nil
      elseif c ~= '.' then parts[#parts + 1] = c end
    end
  end
  if n == 0 or checkPath('concat', (...)):sub(1, 1) ~= '/' then add(paths.cwd()) end
  for i = 1, n do add(checkPath('concat', (select(i, ...)), i)) end
  return '/' .. table.concat(parts, '/')
end

-- The folder part: everything before the last '/' that a name follows, without trailing
-- slashes; '.' when there is no folder part, '/' for the root. dirname('a/b/') == 'a'.
function paths.dirname(p)
  checkPath('dirname', p)
  local dir = p:match('^(.*)/[^/]')
  if not dir then return p:sub(1, 1) == '/' and '/' or '.' end
  dir = dir:gsub('/+$', '')
  return dir == '' and '/' or dir
end

-- The last name of the path (trailing slashes ignored), less `suffix` ('.lua' or
-- 'lua') when it ends with it and is longer. basename('/a/b.lua', 'lua') == 'b'.
function paths.basename(p, suffix)
  checkPath('basename', p)
  local base = p:gsub('/+$', ''):match('([^/]*)$')
  if suffix ~= nil then
    suffix = '.' .. checkPath('basename', suffix, 2):gsub('^%.', '')
    if #base > #suffix and base:sub(-#suffix) == suffix then base = base:sub(1, -#suffix - 1) end
  end
  return base
end

-- The extension of the last name, without the dot ('lua' for 'a/b.lua'), or nil.
-- (Torch7 took the text after the last dot anywhere in the path: 'b/c' for 'a.b/c'.)
function paths.extname(p)
  return paths.basename(checkPath('extname', p)):match('%.([^.]*)$')
end

-- Is p an existing regular file / folder (links followed)?
function paths.filep(p) return fs.kind(checkPath('filep', p)) == 'file' end
function paths.dirp(p) return fs.kind(checkPath('dirp', p)) == 'directory' end

-- The names in folder p, '.' and '..' included, unsorted; nil, message, errno when
-- it cannot be read.
function paths.dir(p) return fs.dir(checkPath('dir', p)) end

-- An iterator over the names in folder p ('.' and '..' included) that pass `filter`:
-- a Lua pattern the name must contain, or a function(name) -> truthy. A folder that
-- cannot be read yields nothing.
function paths.files(p, filter)
  local names = fs.dir(checkPath('files', p)) or {}
  if type(filter) == 'string' then
    local pattern = filter
    filter = function(name) return name:find(pattern) end
  elseif filter ~= nil and type(filter) ~= 'function' then
    error('paths.files: argument #2 must be a pattern or a function, got ' .. type(filter), 2)
  end
  local i = 0
  return function()
    repeat i = i + 1 until names[i] == nil or not filter or filter(names[i])
    return names[i]
  end
end

-- Iterators over the regular files / the sub-folders of p ('.' and '..' left out).
function paths.iterfiles(p)
  checkPath('iterfiles', p)
  return paths.files(p, function(name) return paths.filep(p .. '/' .. name) end)
end
function paths.iterdirs(p)
  checkPath('iterdirs', p)
  return paths.files(p, function(name)
    return name ~= '.' and name ~= '..' and paths.dirp(p .. '/' .. name)
  end)
end

-- Creates folder p and its missing parents (as Torch7's paths.mkdir): true, or nil,
-- message, errno (also when p exists already).
function paths.mkdir(p)
  checkPath('mkdir', p)
  local parent = paths.dirname(p)
  if parent ~= p and not paths.dirp(parent) then
    local ok, msg, errno = paths.mkdir(parent)
    if not ok then return nil, msg, errno end
  end
  return fs.mkdir(p)
end

-- Removes the empty folder p: true, or nil, message, errno.
function paths.rmdir(p) return fs.rmdir(checkPath('rmdir', p)) end

-- Removes p, a file or a whole folder tree, when the second argument is 'yes' (Torch7's
-- guard): true, or nil, message[, the path that failed].
function paths.rmall(p, yes)
  checkPath('rmall', p)
  if yes ~= 'yes' then return nil, "paths.rmall: missing second argument ('yes')" end
  if paths.filep(p) then return os.remove(p) end
  if not paths.dirp(p) then return nil, p .. ': not a file or directory', p end
  for name in paths.files(p) do
    if name ~= '.' and name ~= '..' then
      local sub = p .. '/' .. name
      local ok, msg = paths.rmall(sub, 'yes')
      if not ok then return nil, msg, sub end
    end
  end
  return paths.rmdir(p)
end

-- The absolute path of the Lua file that called thisfile (depth 2; depth counts as
-- debug.getinfo's level from thisfile), or nil when the caller was not loaded from a
-- file. With a string `arg`, that name resolved against the caller's folder instead.
function paths.thisfile(arg, depth)
  local info = debug.getinfo(depth or 2, 'S')
  local source = info and info.source
  local file = type(source) == 'string' and source:match('^@(.*)$')
  file = file and paths.concat(file)
  if type(arg) == 'string' then
    file = file and paths.concat(paths.dirname(file), arg) or arg
  end
  return file
end

-- dofile(f) with f relative to the calling file's folder (its results returned). As in
-- Torch7, `return paths.dofile(f)` is a tail call that loses the caller's frame: keep
-- the result in a local first.
function paths.dofile(f, depth)
  checkPath('dofile', f)
  local here = paths.thisfile(nil, 1 + (depth or 2))
  if here then f = paths.concat(paths.dirname(here), f) end
  local results = table.pack(dofile(f))
  return table.unpack(results, 1, results.n)
end

_G.paths = paths   -- the global Torch7 defined (its libpaths registered one)
return paths
