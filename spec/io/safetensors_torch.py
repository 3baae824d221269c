"""PyTorch side of spec/io/safetensors_spec.lua: reads a safetensors file written by
Ember and writes one back, parsing and producing the format by hand (struct + json;
the `safetensors` package is not needed).

    python3 safetensors_torch.py IN OUT

Prints one JSON object: {"tensors": {name: {"dtype", "shape", "values"}}, "metadata": {...}}
describing IN as torch sees it. OUT holds every tensor of IN plus one (bool: negated),
the metadata {"producer": "pytorch"}, and tensors made by torch itself:
  torch.linear.weight  float32 (3, 4) = arange(12) / 7
  torch.linear.bias    float64 (3,)   = [1.5, -2, 3]
  torch.ids            int64 (2, 2)   = [[1, 2], [3, -4]]
  torch.transposed     float32 (3, 2) = arange(6).reshape(2, 3).t()
"""
import json
import struct
import sys

import torch

DTYPES = {
    "F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
CODES = {v: k for k, v in DTYPES.items()}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        dtype = DTYPES[e["dtype"]]
        if end > begin:
            t = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype)
        else:
            t = torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(e["shape"])
    return tensors, header.get("__metadata__", {})


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write(path, tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        b = raw_bytes(t)
        header[name] = {"dtype": CODES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def main():
    src, dst = sys.argv[1], sys.argv[2]
    tensors, metadata = read(src)
    report = {name: {"dtype": str(t.dtype), "shape": list(t.shape),
                     "values": t.flatten().tolist()} for name, t in tensors.items()}
    print(json.dumps({"tensors": report, "metadata": metadata}))
    out = {name: (~t if t.dtype == torch.bool else t + 1) for name, t in tensors.items()}
    out["torch.linear.weight"] = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 7
    out["torch.linear.bias"] = torch.tensor([1.5, -2, 3], dtype=torch.float64)
    out["torch.ids"] = torch.tensor([[1, 2], [3, -4]], dtype=torch.int64)
    out["torch.transposed"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()
    write(dst, out, {"producer": "pytorch"})


if __name__ == "__main__":
    main()
