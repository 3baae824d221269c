#!/usr/bin/env bash
# The GPU check for a developer on a GPU machine (bench/gpu/README.md): builds the engine
# with the CUDA backend (or takes BUILD as it is where it cannot be built), runs the GPU
# specs, then the microbenchmarks in Ember (micro.lua), on cuBLAS alone (cublas_direct.cu)
# and in PyTorch (micro.py), and prints one table (report.py): Ember, PyTorch, the
# reference, the ratio, the target, met or not.
#   bench/gpu/run.sh [BUILD] [--quick] [--no-specs] [--runs N] [--seconds S]
# BUILD defaults to build/. Results: BUILD/bench-gpu/ (the JSON lines of each side, the
# specs' output, table.txt, table.json). Exit status: 1 when the engine cannot be built
# or loaded, the GPU specs fail or Ember's benchmark cannot run; unmet targets are
# reported, not failed (benchmarks, not tests, as in bench/).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

build=build quick=() specs=1 bench_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=(--quick) ;;
    --no-specs) specs=0 ;;
    --runs|--seconds) bench_args+=("$1" "${2:?$1 needs a value}"); shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) build=$1 ;;
  esac
  shift
done
mkdir -p "$build" && build=$(cd "$build" && pwd)
out=$build/bench-gpu
mkdir -p "$out" && rm -f "$out"/*.jsonl
say() { printf '\n== %s\n' "$*"; }

# --- 1. the engine ---
say "engine: $build"
# LUA_INC, LUA_LIB, BLAS_DIR, BLAS_INC in the environment reach the Makefile (README).
if command -v make >/dev/null && command -v nvcc >/dev/null && [ -f "${LUA_INC:-/usr/include/lua5.4}/lua.h" ]; then
  # -o check-deps: no apt-get from here (a GPU box may have no network); `make deps`
  # installs the Debian packages when a header is missing.
  if ! make -o check-deps BUILD="$build" CUDA=1 -j"$(nproc)" >"$out/build.log" 2>&1; then
    tail -n 30 "$out/build.log"
    echo "run.sh: the build failed (log: $out/build.log; missing packages: make deps)" >&2
    exit 1
  fi
  echo "built with make CUDA=1 (log: $out/build.log)"
elif [ -x "$build/ember" ]; then
  echo "using the build as it is (no make, nvcc or Lua headers here to rebuild it)"
else
  echo "run.sh: no engine at $build/ember and no make + nvcc + liblua5.4-dev to build one;" \
       "build elsewhere (make BUILD=DIR CUDA=1) and bring DIR along (bench/gpu/README.md)" >&2
  exit 1
fi

# Libraries ember, the engine (BUILD/lua/ember/core.so) and its CUDA plugin (cuda.so, loaded on the first
# device query) link to that this machine lacks: look in BUILD/libs (copies brought
# along), then PyTorch's wheels of the CUDA libraries (cuBLAS, cuDNN).
missing() { ldd "$build/ember" "$build/lua/ember/core.so" "$build/lua/ember/cuda.so" 2>/dev/null | awk '/not found/ {print $1}' | sort -u; }
if [ -n "$(missing)" ]; then
  extra=$build/libs
  for py in python3 /usr/bin/python3; do
    dirs=$("$py" - 2>/dev/null <<'EOF'
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
print(":".join(sorted({d for r in roots for d in glob.glob(os.path.join(r, "nvidia", "*", "lib"))})))
EOF
) && [ -n "$dirs" ] && extra=$extra:$dirs && break
  done
  export LD_LIBRARY_PATH=$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  if [ -n "$(missing)" ]; then
    echo "run.sh: $build/ember or its CUDA plugin needs libraries this machine lacks: $(missing | tr '\n' ' ')" >&2
    echo "        copy them into $build/libs (bench/gpu/README.md)" >&2
    exit 1
  fi
  echo "libraries found through LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
fi
export LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;$root/spec/?.lua;;"
export LUA_CPATH="$build/lua/?.so;;"
export EMBER_BUILD=$build
if ! "$build/ember" -e "local t = require 'torch'; os.exit(t.cuda.isBuilt() and 0 or 1)"; then
  echo "run.sh: $build/ember has no CUDA backend (make BUILD=$build CUDA=1)" >&2
  exit 1
fi
if ! "$build/ember" -e "local t = require 'torch'; local ok, why = t.cuda.isAvailable()
    print(ok and ('GPU: ' .. t.cuda.getDeviceProperties().name) or ('run.sh: no usable GPU: ' .. tostring(why)))
    os.exit(ok and 0 or 1)"; then
  echo "run.sh: the engine is built; the GPU specs and benchmarks need a GPU" >&2
  exit 1
fi

# --- 2. the GPU specs ---
status=0 specs_result=skipped
if [ "$specs" = 1 ]; then
  say "GPU specs (make test-gpu)"
  if command -v busted >/dev/null && command -v lua5.4 >/dev/null; then
    if command -v make >/dev/null; then
      make -o check-deps -o all BUILD="$build" test-gpu >"$out/specs.txt" 2>&1
    else
      busted --lua=lua5.4 --exclude-tags= --tags=gpu spec/gpu >"$out/specs.txt" 2>&1
    fi
    rc=$?
    tail -n 15 "$out/specs.txt"
    if [ $rc = 0 ]; then specs_result=passed; else specs_result="FAILED ($out/specs.txt)"; status=1; fi
  else
    specs_result="skipped: busted and lua5.4 are not installed here"
    echo "$specs_result"
  fi
fi

# --- 3. the microbenchmarks ---
say "cuBLAS alone (bench/gpu/cublas_direct.cu)"
direct=$out/cublas_direct
if command -v nvcc >/dev/null && { [ ! -x "$direct" ] || [ bench/gpu/cublas_direct.cu -nt "$direct" ]; }; then
  # shellcheck disable=SC2086  # NVFLAGS is a list of flags
  nvcc -O3 -std=c++17 ${NVFLAGS:--gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90} \
       -o "$direct" bench/gpu/cublas_direct.cu -lcublas || echo "run.sh: cannot build cublas_direct" >&2
fi
if [ -x "$direct" ]; then
  "$direct" "${quick[@]}" "${bench_args[@]}" >"$out/cublas.jsonl" || echo "run.sh: cublas_direct failed" >&2
else
  echo "skipped: no nvcc to build it (the report compares with PyTorch's torch.mm instead)"
fi

say "Ember (bench/gpu/micro.lua)"
if ! "$build/ember" bench/gpu/micro.lua "${quick[@]}" "${bench_args[@]}" --json "$out/ember.jsonl"; then
  echo "run.sh: Ember's microbenchmarks did not run" >&2
  status=1
fi

say "PyTorch (bench/gpu/micro.py)"
python=
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import torch' 2>/dev/null; then python=$py; break; fi
done
if [ -n "$python" ]; then
  "$python" bench/gpu/micro.py "${quick[@]}" "${bench_args[@]}" --json "$out/pytorch.jsonl" ||
    echo "run.sh: PyTorch's microbenchmarks failed" >&2
else
  echo "skipped: no python3 with torch"
fi

# --- 4. the table ---
say "results ($out)"
if command -v python3 >/dev/null; then
  python3 bench/gpu/report.py "$out"/*.jsonl --json "$out/table.json" | tee "$out/table.txt"
else
  echo "no python3 for the table; the JSON lines:"
  cat "$out"/*.jsonl
fi
echo "GPU specs: $specs_result"
exit $status
