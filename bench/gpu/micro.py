#!/usr/bin/env python3
"""PyTorch's side of the GPU microbenchmarks (bench/gpu/run.sh; README.md there): the ops,
sizes and timing of bench/gpu/micro.lua (torch.cuda.synchronize() around a loop on a
monotonic clock, per-call seconds, runs), plus the device's measured memory bandwidth:
a large device-to-device copy, b.copy_(a) (cudaMemcpyAsync), counting bytes read and
written. torch.mm is cuBLAS, so its rows are also "cuBLAS through PyTorch".
One JSON line per case, as micro.lua prints:
  {"side": "pytorch", "name": "mm float32 4096", "unit": "TFLOP/s", "runs": [...], "reps": R}
usage: python3 bench/gpu/micro.py [--quick] [--runs N] [--seconds S] [--only mm,add,...]
                                  [--json FILE] [--mm-sizes 1024,2048] [--mem-exps 26,28]
"""
import argparse
import gc
import json
import sys
import time

COLS = 8192  # the 2-D memory ops view N elements as (N / COLS, COLS)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="mm at 1024 and 4096, memory ops on 2^26 only")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seconds", type=float, default=0.25, help="about this long per timed run")
    p.add_argument("--only", help="comma-separated kinds: mm,bmm,addmm,add,cmul,...,bandwidth")
    p.add_argument("--json", help="append the JSON lines to this file")
    p.add_argument("--mm-sizes", help="comma-separated matrix sizes")
    p.add_argument("--mem-exps", help="comma-separated exponents e: memory ops on 2^e floats")
    return p.parse_args()


def main():
    args = parse_args()
    try:
        import torch
    except ImportError as e:
        print(f"bench/gpu/micro.py: PyTorch is not installed: {e}", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("bench/gpu/micro.py: no GPU to benchmark (torch.cuda.is_available() is False)", file=sys.stderr)
        return 2
    only = set(args.only.split(",")) if args.only else None
    sizes = [int(v) for v in args.mm_sizes.split(",")] if args.mm_sizes else \
        ([1024, 4096] if args.quick else [1024, 2048, 4096, 8192])
    exps = [int(v) for v in args.mem_exps.split(",")] if args.mem_exps else ([26] if args.quick else [26, 27, 28])
    sync = torch.cuda.synchronize

    def emit(obj):
        line = json.dumps(obj)
        if args.json:
            with open(args.json, "a") as f:
                f.write(line + "\n")
        return line

    emit({"side": "pytorch", "info": f"{torch.cuda.get_device_name()}, torch {torch.__version__}, "
                                     f"CUDA {torch.version.cuda}"})

    def per_call(fn):
        for _ in range(3):
            fn()
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        reps = max(3, min(20000, int(args.seconds / max(time.perf_counter() - t0, 1e-6)) + 1))
        out = []
        for _ in range(args.runs):
            sync()
            t = time.perf_counter()
            for _ in range(reps):
                fn()
            sync()
            out.append((time.perf_counter() - t) / reps)
        return out, reps

    def case(kind, name, unit, work, make):
        if only and kind not in only:
            return
        try:
            made = make()
            fn, check = made if isinstance(made, tuple) else (made, None)
            secs, reps = per_call(fn)
            scale = 1e12 if unit == "TFLOP/s" else 1e9
            obj = {"side": "pytorch", "name": name, "unit": unit,
                   "runs": [float(f"{work / s / scale:.6g}") for s in secs], "reps": reps}
            if check:
                obj["check_maxerr"] = float(f"{check():.3g}")
            emit(obj)
            runs = sorted(obj["runs"])
            print(f"{name:<28} {runs[(len(runs) - 1) // 2]:10.2f} {unit}", flush=True)
        except Exception as e:  # report and go on, as micro.lua does
            print(f"{name}: {e}", file=sys.stderr)
            emit({"side": "pytorch", "name": name, "unit": unit, "error": str(e)})
        gc.collect()
        torch.cuda.empty_cache()
        torch.backends.cuda.matmul.allow_tf32 = False

    dtypes = {"float32": torch.float32, "tf32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

    def rand(dtype, *shape):
        return torch.empty(*shape, device="cuda").uniform_(-0.5, 0.5).to(dtype)

    def mm_check(c, a, b):
        return lambda: (a[:4].double() @ b[:, :4].double() - c[:4, :4].double()).abs().max().item()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    for prec in ("float32", "tf32", "bfloat16", "float16"):
        for n in sizes:
            def make(prec=prec, n=n):
                torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
                a, b, c = (rand(dtypes[prec], n, n) for _ in range(3))
                return (lambda: torch.mm(a, b, out=c)), mm_check(c, a, b)
            case("mm", f"mm {prec} {n}", "TFLOP/s", 2 * n ** 3, make)
    for n in sizes:
        batch = max(2, 16 * 1024 // n)

        def make_bmm(n=n, batch=batch):
            a, b, c = (rand(torch.float32, batch, n, n) for _ in range(3))
            return lambda: torch.bmm(a, b, out=c)
        case("bmm", f"bmm float32 {batch}x{n}", "TFLOP/s", 2 * batch * n ** 3, make_bmm)

        def make_addmm(n=n):
            a, b, c = (rand(torch.float32, n, n) for _ in range(3))
            return lambda: c.addmm_(a, b)  # c += a @ b
        case("addmm", f"addmm float32 {n}", "TFLOP/s", 2 * n ** 3, make_addmm)

    for e in exps:
        n = 1 << e
        rows = n // COLS

        def two(rows=rows):
            return rand(torch.float32, rows, COLS), rand(torch.float32, rows, COLS)

        def binary(op):
            def make():
                a, b = two()
                c = a.clone()
                return lambda: op(a, b, out=c)
            return make

        def unary(op):
            def make():
                a, c = two()
                return lambda: op(a, c)
            return make

        def bcast(rows=rows):
            a, c = two()
            b = rand(torch.float32, 1, COLS)
            return lambda: torch.add(a, b, out=c)

        def whole(op, n=n):
            def make():
                a = rand(torch.float32, n)
                return lambda: getattr(a, op)().item()  # a number on the host, as Ember returns
            return make

        def along(op, dim, out_shape, indices=False):
            def make():
                a = rand(torch.float32, rows, COLS)
                r = torch.empty(*out_shape, device="cuda")
                if indices:
                    i = torch.empty(*out_shape, device="cuda", dtype=torch.int64)
                    return lambda: torch.max(a, dim, keepdim=True, out=(r, i))
                return lambda: op(a, dim, keepdim=True, out=r)
            return make

        name = lambda op: f"{op} 2^{e}"  # noqa: E731
        case("add", name("add"), "GB/s", 12 * n, binary(torch.add))
        case("cmul", name("cmul"), "GB/s", 12 * n, binary(torch.mul))
        case("mul", name("mul"), "GB/s", 8 * n, unary(lambda a, c: torch.mul(a, 2, out=c)))
        case("copy", name("copy"), "GB/s", 8 * n, unary(lambda a, c: c.copy_(a)))
        case("relu", name("relu"), "GB/s", 8 * n, unary(lambda a, c: torch.clamp(a, min=0, out=c)))
        case("add-broadcast", name("add-broadcast"), "GB/s", 4 * (2 * n + COLS), bcast)
        for op in ("sum", "max", "mean"):
            case(op + "-all", name(op + "-all"), "GB/s", 4 * n, whole(op))
        case("sum-dim2", name("sum-dim2"), "GB/s", 4 * (n + rows), along(torch.sum, 1, (rows, 1)))
        case("sum-dim1", name("sum-dim1"), "GB/s", 4 * (n + COLS), along(torch.sum, 0, (1, COLS)))
        case("max-dim2", name("max-dim2"), "GB/s", 4 * n + 12 * rows, along(None, 1, (rows, 1), indices=True))
        case("mean-dim2", name("mean-dim2"), "GB/s", 4 * (n + rows), along(torch.mean, 1, (rows, 1)))

    # The device's memory bandwidth: one large device-to-device copy (read + write).
    e = max(exps + [28]) if not args.mem_exps else max(exps)
    n = 1 << e

    def make_bw(n=n):
        a = torch.empty(n, device="cuda").uniform_()
        b = torch.empty_like(a)
        return lambda: b.copy_(a)
    case("bandwidth", f"bandwidth 2^{e}", "GB/s", 8 * n, make_bw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
