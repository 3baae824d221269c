# Ember build. `make` builds into build/: the engine as static and shared libraries,
# the Lua C module (build/lua/ember/core.so, not linked to liblua), the CUDA plugin
# (build/lua/ember/cuda.so, when nvcc is found) and the `ember` executable (Lua 5.4
# linked in statically; it loads core.so as lua5.4 would). `make test` runs every spec.
#   make CUDA=0   never build the GPU backend     make CUDA=1   require it
#   make deps     install the missing Debian packages

PREFIX   ?= /usr/local
BUILD    ?= build
ARCH     ?= native
CC       ?= cc
LUA_INC  ?= /usr/include/lua5.4
LUA_LIB  ?= /usr/lib/x86_64-linux-gnu/liblua5.4.a
# OpenBLAS, OpenMP build: one thread pool shared with our OpenMP loops (bench/README.md)
BLAS_DIR ?= /usr/lib/x86_64-linux-gnu/openblas-openmp
BLAS_INC ?= /usr/include/x86_64-linux-gnu/openblas-pthread
BLAS_LIB ?= -L$(BLAS_DIR) -l:libopenblas.so.0 -Wl,-rpath,$(BLAS_DIR)

WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
CFLAGS   ?= -O3 -march=$(ARCH) -g
# -ffp-contract=fast: -std=c11 makes GCC keep a*b+c as two roundings (ISO C's rule); one
# fused multiply-add is as accurate or better, and the float32 polynomials (GELU, e^x)
# run ~30% faster with it.
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fopenmp -ffp-contract=fast $(WARN) $(CFLAGS) \
              -I$(LUA_INC) -I$(BLAS_INC) -Isrc
LIBS     := $(BLAS_LIB) -fopenmp -lpng -lz -lm -ldl

# The benchmarks' reference (and the specs' oracle where present): PyTorch from Debian,
# installed by `make bench` and `make bench-check` only, never needed to build or run.
BENCH_PACKAGES := python3-torch
DEBIAN_PACKAGES := lua5.4 liblua5.4-dev libopenblas-dev libopenblas0-openmp lua-busted luarocks \
                   libedit-dev tmux dataset-fashion-mnist zlib1g-dev libpng-dev fortunes-min

# --- CUDA: autodetected unless CUDA=0; CUDA=1 makes a missing nvcc an error ---
NVCC ?= $(shell command -v nvcc 2>/dev/null)
CU_SRC := $(wildcard kernels/*.cu)
ifeq ($(CUDA),0)
  WITH_CUDA :=
else ifneq ($(NVCC),)
  WITH_CUDA := $(if $(CU_SRC),1,)
else ifeq ($(CUDA),1)
  $(error CUDA=1 but nvcc was not found)
endif

CORE_SRC := $(filter-out src/lua_main.c src/lua_repl.c,$(wildcard src/*.c))
OBJ      := $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
EXE_OBJ  := $(BUILD)/obj/lua_main.o $(BUILD)/obj/lua_repl.o
HOST_PROGS := $(BUILD)/examples/embed $(BUILD)/spec/host_threads $(BUILD)/spec/host_memlimit

# The CUDA backend is a plugin, $(BUILD)/lua/ember/cuda.so (kernels/ with cudart, cuBLAS
# and cuDNN), that the core loads on the first device query (src/cuda_plugin.c): the
# core, the `ember` executable and core.so never link the CUDA libraries. Only the
# plugin's entry point is exported (-fvisibility=hidden).
CUDA_PLUGIN :=
ifneq ($(WITH_CUDA),)
  CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
  ALL_CFLAGS += -DEMBER_CUDA
  CU_OBJ := $(CU_SRC:kernels/%.cu=$(BUILD)/obj/cuda_%.o)
  CUDA_PLUGIN := $(BUILD)/lua/ember/cuda.so
  CUDA_LIBS := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart -lcublas -lcudnn -lstdc++
  NVFLAGS := -O3 -std=c++17 -Xcompiler -fPIC,-fvisibility=hidden,-Wall,-Wextra,-Wno-unused-parameter \
             -Isrc -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
endif

.PHONY: all deps test test-gpu train bench bench-check clean install check-deps bench-deps
all: check-deps $(BUILD)/lib/libember.a $(BUILD)/lib/libember.so $(BUILD)/lua/ember/core.so $(BUILD)/ember \
     $(HOST_PROGS) $(CUDA_PLUGIN)

# Calls `make deps` only when a package is missing.
check-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES) $(EXTRA_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "missing packages:" $$missing; $(MAKE) --no-print-directory deps; fi

deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES) $(EXTRA_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The compiler flags, recorded: objects rebuild when they change (CUDA=0 after CUDA=1).
FLAGS_STAMP := $(BUILD)/obj/flags
$(shell mkdir -p $(BUILD)/obj; echo '$(ALL_CFLAGS) $(NVFLAGS)' | cmp -s - $(FLAGS_STAMP) || \
        echo '$(ALL_CFLAGS) $(NVFLAGS)' > $(FLAGS_STAMP))

# check-deps is order-only: under make -j nothing compiles before the packages
# (OpenBLAS's and Lua's headers) are installed.
$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) $(FLAGS_STAMP) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/cuda_%.o: kernels/%.cu $(wildcard kernels/*.cuh) $(wildcard src/*.h) $(FLAGS_STAMP) | check-deps
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) -c $< -o $@

$(BUILD)/lib/libember.a: $(OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The shared library and the Lua module leave Lua's symbols to the host process.
# -z nodelete: never unmapped by dlclose (lua_close unloads C modules), so OpenMP's
# worker threads never outlive the code they sleep in.
$(BUILD)/lib/libember.so: $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-z,nodelete -o $@ $^ $(LIBS)

$(BUILD)/lua/ember/core.so: $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-z,nodelete -o $@ $^ $(LIBS)

# The executable is Lua (all of it, its API exported for C modules) plus the REPL; the
# engine comes from core.so through package.cpath, as under stock lua5.4, so libgomp
# and OpenBLAS load after main has chosen the OpenMP wait policy (src/lua_main.c).
$(BUILD)/ember: $(EXE_OBJ) $(BUILD)/lua/ember/core.so
	$(CC) -o $@ $(EXE_OBJ) -Wl,--whole-archive $(LUA_LIB) -Wl,--no-whole-archive -ledit -ldl -lm -Wl,-E

# Its undefined symbols are the core's, found in the process that loads it.
$(CUDA_PLUGIN): $(CU_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-z,nodelete -o $@ $^ $(CUDA_LIBS)

# C hosts (src/ember_host.h), linked statically with the engine and Lua as a game
# would be: the game-loop example and the host tests of spec/ways_in.
HOST_LIBS = $(BUILD)/lib/libember.a $(LUA_LIB) $(LIBS) -ldl -lpthread

$(BUILD)/examples/embed: examples/embed/embed.c src/ember_host.h $(BUILD)/lib/libember.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(HOST_LIBS)

$(BUILD)/spec/%: spec/ways_in/%.c src/ember_host.h $(BUILD)/lib/libember.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(HOST_LIBS)

# Stock lua5.4 and busted find the module and the Lua files in the build tree.
TEST_ENV := LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;" \
            LUA_CPATH="$(abspath $(BUILD))/lua/?.so;;" OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} \
            OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} \
            EMBER_BUILD="$(abspath $(BUILD))"

test: all
	$(TEST_ENV) busted --lua=lua5.4 $(BUSTED_ARGS)

# The main example (README, "Examples"): an MLP on Fashion-MNIST, ~88% test accuracy;
# TRAIN_ARGS passes flags (make train TRAIN_ARGS="--epochs 3"); LUA_PATH finds the Lua
# files whatever the BUILD folder.
train: all
	LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" $(BUILD)/ember examples/fashion_mnist_mlp.lua $(TRAIN_ARGS)

# The GPU specs (tagged #gpu, which .busted excludes by default); needs a device.
test-gpu: all
	$(TEST_ENV) busted --lua=lua5.4 --exclude-tags= --tags=gpu $(BUSTED_ARGS) spec/gpu

bench-deps:
	@dpkg -s $(BENCH_PACKAGES) >/dev/null 2>&1 || $(MAKE) --no-print-directory deps EXTRA_PACKAGES="$(BENCH_PACKAGES)" || \
	  echo "bench-deps: $(BENCH_PACKAGES) could not be installed; the PyTorch references will be skipped"

bench: all bench-deps
	$(TEST_ENV) lua5.4 bench/run.lua $(BENCH_ARGS)

# CI's performance check: the ratios of `make bench` against bench/RESULTS.md (25%).
bench-check: all bench-deps
	$(TEST_ENV) lua5.4 bench/check.lua $(CHECK_ARGS)

# Lua's standard layout under PREFIX: the executable, the Lua files, the C module,
# and for C hosts the libraries and headers. The rockspec sets each folder itself.
BINDIR     ?= $(PREFIX)/bin
LUADIR     ?= $(PREFIX)/share/lua/5.4
CMODDIR    ?= $(PREFIX)/lib/lua/5.4
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

install: all
	install -d $(BINDIR) $(LUADIR) $(CMODDIR)/ember $(LIBDIR) $(INCLUDEDIR)/ember
	install -m 755 $(BUILD)/ember $(BINDIR)/ember
	cp -r lua/* $(LUADIR)/
	install -m 755 $(BUILD)/lua/ember/core.so $(CMODDIR)/ember/core.so
	$(if $(CUDA_PLUGIN),install -m 755 $(CUDA_PLUGIN) $(CMODDIR)/ember/cuda.so)
	install -m 644 $(BUILD)/lib/libember.a $(BUILD)/lib/libember.so $(LIBDIR)/
	install -m 644 src/*.h $(INCLUDEDIR)/ember/

clean:
	rm -rf $(BUILD)
