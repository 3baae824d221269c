#!/bin/bash
# blas_variants.sh [BUILD] [PASSES] - W0 and MIX under Debian's two OpenBLAS builds, the
# OpenMP one Ember links (Makefile) and the default pthread one (swapped in through
# LD_LIBRARY_PATH, which outranks the module's runpath). Passes alternate between the
# two so that background load hits both alike; each pass is `bench/run.lua --only
# W0,MIX --no-reference --rounds 3`. Prints the median over passes of each median.
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
passes=${2:-2}
libdir=/usr/lib/x86_64-linux-gnu
out=$(mktemp)
export LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;;" LUA_CPATH="$build/lua/?.so;;"
export EMBER_BUILD="$build" OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
for p in $(seq "$passes"); do
  for v in openmp pthread; do
    echo "# pass $p: openblas-$v" >&2
    LD_LIBRARY_PATH=$libdir/openblas-$v lua5.4 "$root/bench/run.lua" --only W0,MIX --no-reference \
      --rounds 3 --json "$out" > /dev/null
  done
done
lua5.4 - "$out" <<'LUA'
local by = {}
for line in io.lines(arg[1]) do
  local w, e, blas = line:match('"workload": "([^"]+)".-"ember": ([-%d.eE+]+).-"blas": "([^"]+)"')
  local v = blas:match('openblas%-(%a+)')
  by[w] = by[w] or {}
  by[w][v] = by[w][v] or {}
  table.insert(by[w][v], tonumber(e))
end
local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end
print(('%-16s %12s %12s   %s'):format('workload', 'openmp', 'pthread', 'passes'))
for _, w in ipairs { 'W0 mm 1024', 'W0 mm 2048', 'MIX mm512+3 ew' } do
  local r = by[w]
  if r and r.openmp and r.pthread then
    print(('%-16s %12.2f %12.2f   %s | %s'):format(w, median(r.openmp), median(r.pthread),
          table.concat(r.openmp, ' '), table.concat(r.pthread, ' ')))
  end
end
LUA
rm -f "$out"
