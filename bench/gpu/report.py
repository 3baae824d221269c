#!/usr/bin/env python3
"""The table of bench/gpu/run.sh: reads the JSON lines of micro.lua (side "ember"),
micro.py ("pytorch") and cublas_direct ("cublas"), medians over runs, and prints one
row per case: Ember, PyTorch, Ember / PyTorch, the reference, Ember / reference, the
target and whether it was met.
  matrix products  reference: cuBLAS alone (cublas_direct; PyTorch's torch.mm, which is
                   cuBLAS, when cublas_direct did not run); target Ember >= 0.95 x reference
  memory-bound     reference: the device's bandwidth, the fastest large device-to-device
                   copy measured (cudaMemcpy in cublas_direct, b.copy_(a) in PyTorch);
                   target Ember GB/s >= 0.80 x bandwidth
usage: python3 bench/gpu/report.py FILE.jsonl... [--json OUT]   (exit status 0 whatever the figures)
"""
import json
import statistics
import sys

MATMUL_TARGET, MEMORY_TARGET = 0.95, 0.80


def load(paths):
    rows, info, order = {}, {}, []
    for path in paths:
        try:
            f = open(path)
        except OSError as e:
            print(f"report: {e}", file=sys.stderr)
            continue
        with f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    print(f"report: {path}: not JSON: {line[:80]}", file=sys.stderr)
                    continue
                side = obj.get("side", "?")
                if "info" in obj:
                    info[side] = obj["info"]
                    continue
                name = obj.get("name")
                if name is None:
                    continue
                if name not in order:
                    order.append(name)
                rows.setdefault(name, {})[side] = obj
    return rows, info, order


def median(obj):
    if not obj or "runs" not in obj or not obj["runs"]:
        return None
    return statistics.median(obj["runs"])


def fmt(v, err=None):
    if v is None:
        return "error" if err else "-"
    return f"{v:.1f}" if v >= 100 else f"{v:.2f}"


def main(argv):
    out_json = None
    if "--json" in argv:
        i = argv.index("--json")
        out_json = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    rows, info, order = load(argv)
    for side in ("ember", "pytorch", "cublas"):
        if side in info:
            print(f"{side:8} {info[side]}")

    bw = {side: median(obj) for name in order if name.startswith("bandwidth ")
          for side, obj in rows[name].items() if median(obj)}
    bandwidth = max(bw.values()) if bw else None
    if bandwidth:
        print("device bandwidth (largest device-to-device copy, read + written): "
              + ", ".join(f"{s} {v:.0f} GB/s" for s, v in sorted(bw.items())) + f" -> {bandwidth:.0f} GB/s")
    else:
        print("device bandwidth: not measured (no PyTorch, no cublas_direct): memory targets not judged")

    head = f"{'case':<26} {'unit':<8} {'Ember':>8} {'PyTorch':>8} {'E/PT':>5}  {'reference':<20} {'E/ref':>5} {'target':>7} {'met':>4}"
    print()
    print(head)
    print("-" * len(head))
    met = judged = 0
    results = []
    for name in order:
        if name.startswith("bandwidth "):
            continue
        sides = rows[name]
        e, p, c = (median(sides.get(s)) for s in ("ember", "pytorch", "cublas"))
        unit = next(iter(sides.values())).get("unit", "")
        if unit == "TFLOP/s":
            ref, ref_name, target = (c, "cuBLAS", MATMUL_TARGET) if c else (p, "PyTorch (cuBLAS)", MATMUL_TARGET)
        else:
            ref, ref_name, target = bandwidth, "bandwidth", MEMORY_TARGET
        ratio = e / ref if e and ref else None
        ok = None if ratio is None else ratio >= target
        if ok is not None:
            judged += 1
            met += ok
        ref_text = f"{ref_name} {fmt(ref)}" if ref else "-"
        print(f"{name:<26} {unit:<8} {fmt(e, sides.get('ember', {}).get('error')):>8} "
              f"{fmt(p, sides.get('pytorch', {}).get('error')):>8} {fmt(e / p if e and p else None):>5}  "
              f"{ref_text:<20} {fmt(ratio):>5} {'>=' + format(target, '.2f'):>7} "
              f"{'-' if ok is None else 'yes' if ok else 'no':>4}")
        results.append({"name": name, "unit": unit, "ember": e, "pytorch": p, "cublas": c,
                        "reference": ref, "ratio": ratio, "target": target, "met": ok})
    print()
    print(f"targets met: {met} of {judged} judged"
          + (f" ({len(results) - judged} not judged: a side or the reference is missing)" if judged < len(results) else ""))
    errors = [f"{s} {n}: {o['error']}" for n in order for s, o in rows[n].items() if "error" in o]
    for line in errors:
        print("error:", line)
    if out_json:
        with open(out_json, "w") as f:
            json.dump({"info": info, "bandwidth": bandwidth, "rows": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
