-- Ember as a LuaRocks package: the C module (ember.core), the Lua modules (torch,
-- ember, nn, optim, paths, rnn: every folder of lua/) and the `ember` executable, built
-- and installed by the Makefile.
--   luarocks --lua-version 5.4 make rocks/ember-scm-1.rockspec [--tree DIR]
-- builds the checkout it runs in and needs no network; the Makefile installs any
-- missing Debian packages (OpenBLAS, libedit, Lua headers) first.
rockspec_format = "3.0"
package = "ember"
version = "scm-1"

source = {
  url = "git+https://github.com/ember-dl/ember.git",   -- for `luarocks install`; `make` ignores it
}

description = {
  summary = "A deep-learning engine in C with Torch7's API for Lua 5.4",
  detailed = [[
    Tensors with views, dtypes and broadcasting over OpenBLAS and OpenMP (CUDA when
    nvcc is present), Torch7's nn and optim, a REPL, and an API for C hosts.
  ]],
  license = "MIT",
}

dependencies = {
  "lua >= 5.4",
}

build = {
  type = "make",
  build_target = "all",
  build_variables = {
    LUA_INC = "$(LUA_INCDIR)",
  },
  install_target = "install",
  -- LuaRocks's LIBDIR is the C module folder (CMODDIR to the Makefile); the libraries
  -- and headers for C hosts stay in the rock's own folder, outside the Lua paths.
  install_variables = {
    BINDIR = "$(BINDIR)",
    LUADIR = "$(LUADIR)",
    CMODDIR = "$(LIBDIR)",
    LIBDIR = "$(PREFIX)/host/lib",
    INCLUDEDIR = "$(PREFIX)/host/include",
  },
}
