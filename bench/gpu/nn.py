#!/usr/bin/env python3
"""GPU nn benchmarks, the PyTorch eager reference for bench/gpu/nn.lua: the same models,
data shapes and optimizers (W1-W4 at GPU sizes, a CIFAR-style ResNet-18 at batch 128, a
GPT-2-small training step), each in float32 and with bfloat16 autocast
(torch.autocast('cuda', dtype=torch.bfloat16) around the forward and the loss; weights,
gradients and optimizer state float32). Sizes and the reasons for them: bench/gpu/NN.md.

  python3 bench/gpu/nn.py [--only w1,w2,w3,w4,resnet18,gpt2] [--dtypes fp32,bf16]
                          [--runs 5] [--tf32] [--sdpa] [--json FILE] [--ember ember.json]
  python3 bench/gpu/nn.py --cpu-smoke   (each model one step at tiny sizes on the CPU)

Float32 is strict by default (TF32 off for matmul and cuDNN, as Ember's float32);
--tf32 allows it. Attention is written out (softmax(QK^T / sqrt(d)) V with a causal
mask), as Ember's is; --sdpa uses F.scaled_dot_product_attention instead (PyTorch's
fused kernels, for a look at what they buy). --ember reads nn.lua's --json lines and
prints Ember/PyTorch for each figure. A figure is the median over runs of `iters` steps,
the device synchronized before and after each run, after `warm` untimed steps.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--only", default="", help="comma-separated workload ids")
p.add_argument("--dtypes", default="fp32,bf16")
p.add_argument("--runs", type=int, default=5)
p.add_argument("--tf32", action="store_true")
p.add_argument("--sdpa", action="store_true")
p.add_argument("--json")
p.add_argument("--ember", help="nn.lua's --json output, for the ratios")
p.add_argument("--cpu-smoke", action="store_true")
args = p.parse_args()

SMOKE = args.cpu_smoke
if not SMOKE and not torch.cuda.is_available():
    sys.exit("bench/gpu/nn.py: no CUDA device is available; --cpu-smoke runs each model for "
             "one step at tiny sizes on the CPU instead.")
DEVICE = "cpu" if SMOKE else "cuda"
torch.backends.cuda.matmul.allow_tf32 = args.tf32
torch.backends.cudnn.allow_tf32 = args.tf32
torch.backends.cudnn.benchmark = True


# --- data, built before timing, learnable so that losses fall ---

def class_data(nb, n, shape, k):
    """nb batches of n samples of `shape` in k classes: 0.5 * a class prototype + noise"""
    d = math.prod(shape)
    proto, out = torch.rand(k, d), []
    for _ in range(nb):
        y = torch.randint(0, k, (n,))
        out.append(((proto[y] * 0.5 + torch.rand(n, d) * 0.5).view(n, *shape), y))
    return out


def markov_tokens(n_seq, seq_len, vocab, seed=1):
    """A fixed random first-order Markov chain (shared/bench/pytorch/common.py's)."""
    g = torch.Generator().manual_seed(seed)
    P = torch.softmax(torch.randn(vocab, vocab, generator=g) * 3.0, dim=1)
    x = torch.empty(n_seq, seq_len + 1, dtype=torch.long)
    x[:, 0] = torch.randint(0, vocab, (n_seq,), generator=g)
    for t in range(seq_len):
        x[:, t + 1] = torch.multinomial(P[x[:, t]], 1, generator=g).squeeze(1)
    return x


def token_data(nb, n, t, v):
    """nb batches of n sequences of t tokens and their next tokens (n * t): a Markov
    chain over min(v, 1024) states, spread over the vocabulary v"""
    states = min(v, 1024)
    allx = markov_tokens(nb * n, t, states).view(nb, n, t + 1)
    if v > states:
        allx = (allx * 49) % v
    return [(allx[i, :, :-1].contiguous(), allx[i, :, 1:].reshape(n * t)) for i in range(nb)]


# --- models ---

class MLP(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 10), nn.LogSoftmax(dim=1))


class CNN(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(32, 64, 3),
                         nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(1600, 128),
                         nn.ReLU(), nn.Linear(128, 10), nn.LogSoftmax(dim=1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class ResNet18(nn.Module):
    """3x32x32: a 3x3 stem without max pooling, 4 stages of 2 basic blocks."""
    def __init__(self, classes=10):
        super().__init__()
        layers, planes = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()], 64
        for stage, width in enumerate((64, 128, 256, 512)):
            for b in range(2):
                layers.append(BasicBlock(planes, width, 2 if b == 0 and stage > 0 else 1))
                planes = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class CharLSTM(nn.Module):
    """tokens (B, T) -> scores (B*T, V)"""
    def __init__(self, s):
        super().__init__()
        self.emb = nn.Embedding(s["vocab"], s["embed"])
        self.lstm = nn.LSTM(s["embed"], s["hidden"], num_layers=1, batch_first=True)
        self.head = nn.Linear(s["hidden"], s["vocab"])

    def forward(self, x):
        h, _ = self.lstm(self.emb(x))
        return self.head(h.reshape(-1, h.shape[-1]))


class Block(nn.Module):
    """nn.TransformerBlock: pre-LN, causal attention with a fused qkv, MLP 4C with GELU"""
    def __init__(self, s):
        super().__init__()
        C, self.H, self.approx = s["dim"], s["heads"], s["approximate"]
        self.ln1, self.qkv, self.proj = nn.LayerNorm(C), nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(C), nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        T = s["seq"]
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = (z.view(b, t, self.H, c // self.H).transpose(1, 2)
                   for z in self.qkv(self.ln1(x)).split(c, dim=2))
        if args.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // self.H))
            att = torch.softmax(att.masked_fill(self.mask[:t, :t], float("-inf")), dim=-1)
            y = att @ v
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate=self.approx))


class GPT(nn.Module):
    """nn.GPT: token and learned position embeddings, blocks, final LN, a Linear head
    with bias (untied, as nn.GPT's)"""
    def __init__(self, s):
        super().__init__()
        self.tok, self.pos = nn.Embedding(s["vocab"], s["dim"]), nn.Embedding(s["seq"], s["dim"])
        self.blocks = nn.Sequential(*[Block(s) for _ in range(s["layers"])])
        self.lnf, self.head = nn.LayerNorm(s["dim"]), nn.Linear(s["dim"], s["vocab"])
        for e in (self.tok, self.pos):
            nn.init.normal_(e.weight, std=0.02)   # nn.GPT's (GPT-2's) initialisation

    def forward(self, idx):
        pos = torch.arange(idx.shape[1], device=idx.device)
        logits = self.head(self.lnf(self.blocks(self.tok(idx) + self.pos(pos))))
        return logits.reshape(-1, logits.shape[-1])


def sgd(lr, wd=0.0):
    return lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9, weight_decay=wd)


def adam(ps):
    return torch.optim.Adam(ps, lr=1e-3)


def adamw(ps):
    return torch.optim.AdamW(ps, lr=3e-4, weight_decay=0.01)


LM = dict(approximate="none")
GPT2 = dict(vocab=50257, heads=12, approximate="tanh")
# id, name, unit, GPU sizes, smoke sizes, warm-up and timed steps, and
# build(sizes) -> model, loss, optimizer, items per step, data
WORKLOADS = [
    ("w1", "W1_mlp", "samples/s", dict(batch=8192), dict(batch=8), 10, 100,
     lambda s: (MLP(), nn.NLLLoss(), sgd(0.01), s["batch"], class_data(8, s["batch"], (784,), 10))),
    ("w2", "W2_cnn", "samples/s", dict(batch=1024), dict(batch=4), 10, 50,
     lambda s: (CNN(), nn.NLLLoss(), sgd(0.01), s["batch"],
                class_data(8, s["batch"], (1, 28, 28), 10))),
    ("w3", "W3_lstm", "tokens/s", dict(vocab=96, embed=256, hidden=1024, seq=128, batch=256),
     dict(vocab=11, embed=8, hidden=16, seq=5, batch=3), 3, 10,
     lambda s: (CharLSTM(s), nn.CrossEntropyLoss(), adam, s["batch"] * s["seq"],
                token_data(4, s["batch"], s["seq"], s["vocab"]))),
    ("w4", "W4_transformer", "tokens/s",
     dict(vocab=96, dim=512, heads=8, layers=2, seq=256, batch=64, **LM),
     dict(vocab=11, dim=16, heads=2, layers=2, seq=8, batch=2, **LM), 3, 20,
     lambda s: (GPT(s), nn.CrossEntropyLoss(), adamw, s["batch"] * s["seq"],
                token_data(4, s["batch"], s["seq"], s["vocab"]))),
    ("resnet18", "ResNet18_cifar", "samples/s", dict(batch=128), dict(batch=2), 5, 30,
     lambda s: (ResNet18(10), nn.CrossEntropyLoss(), sgd(0.1, 5e-4), s["batch"],
                class_data(4, s["batch"], (3, 32, 32), 10))),
    ("gpt2", "GPT2_small", "tokens/s", dict(dim=768, layers=12, seq=1024, batch=8, **GPT2),
     dict(dim=32, layers=2, seq=16, batch=2, **{**GPT2, "heads": 4}), 2, 10,
     lambda s: (GPT(s), nn.CrossEntropyLoss(), adamw, s["batch"] * s["seq"],
                token_data(2, s["batch"], s["seq"], s["vocab"]))),
]


def sync():
    if not SMOKE:
        torch.cuda.synchronize()


def run(w, dtype):
    """Builds workload w and runs it in dtype; returns the rate of each run, the first
    and last losses and the parameter count."""
    _, _, _, gpu, smoke, warm, iters, build = w
    torch.manual_seed(0)
    model, crit, make_opt, per, data = build(smoke if SMOKE else gpu)
    model = model.to(DEVICE)
    data = [(x.to(DEVICE), y.to(DEVICE)) for x, y in data]
    opt = make_opt(model.parameters())

    def step(i):
        x, y = data[i % len(data)]
        opt.zero_grad(set_to_none=True)
        with torch.autocast(DEVICE, dtype=torch.bfloat16, enabled=dtype == "bf16"):
            loss = crit(model(x), y)
        loss.backward()
        opt.step()
        return loss

    nparams = sum(q.numel() for q in model.parameters())
    first = step(0).item()
    if SMOKE:
        return [], first, first, nparams
    for i in range(1, warm):
        step(i)
    it, last, rates = warm, None, []
    for _ in range(args.runs):
        sync()
        t0 = time.perf_counter()
        for _ in range(iters):
            last = step(it)
            it += 1
        sync()
        rates.append(per * iters / (time.perf_counter() - t0))
    return rates, first, last.item(), nparams


def main():
    ember = {}
    if args.ember:
        with open(args.ember) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    ember[(r["workload"], r["dtype"])] = r["median"]
    only = set(filter(None, args.only.split(",")))
    if not SMOKE:
        props = torch.cuda.get_device_properties(0)
        print(f"device: {props.name}, {props.total_memory / 2**30:.0f} GiB; "
              f"torch {torch.__version__}; TF32 {'on' if args.tf32 else 'off'}; "
              f"attention {'sdpa' if args.sdpa else 'written out'}")
        print(f"{'workload':<16} {'dtype':<5} {'PyTorch':>14} {'':<10} {'Ember':>14} "
              f"{'Ember/PyTorch':>14}  loss first -> last")
    failed = False
    for w in WORKLOADS:
        wid, name, unit = w[0], w[1], w[2]
        if only and wid not in only:
            continue
        for dtype in args.dtypes.split(","):
            try:
                rates, first, last, nparams = run(w, dtype)
            except Exception as e:  # an OOM at one size must not stop the others
                failed = True
                print(f"{name:<16} {dtype:<5} failed: {e}")
                continue
            finally:
                if not SMOKE:
                    torch.cuda.empty_cache()
            if SMOKE:
                fine = math.isfinite(first)
                failed = failed or not fine
                print(f"{name:<16} {dtype:<5} one step on the CPU: loss {first:.4f} "
                      f"({'ok' if fine else 'NOT FINITE'}), {nparams} parameters")
                continue
            med, theirs = statistics.median(rates), ember.get((name, dtype))
            ratio = f"{theirs / med:.2f}" if theirs else "-"
            shown = f"{theirs:.4g}" if theirs else "-"
            print(f"{name:<16} {dtype:<5} {med:14.4g} {unit:<10} {shown:>14} {ratio:>14}  "
                  f"{first:.4f} -> {last:.4f}{'' if last < first else ' (NOT DECREASED)'}",
                  flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps({
                        "workload": name, "dtype": dtype, "unit": unit, "median": med,
                        "runs": rates, "params": nparams, "loss_first": first, "loss_last": last,
                        "framework": "pytorch", "torch": torch.__version__,
                        "sdpa": args.sdpa}) + "\n")
    sys.exit(1 if failed else 0)


main()
