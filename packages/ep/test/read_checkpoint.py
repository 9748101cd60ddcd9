"""Reads an hts-ep checkpoint with the Python standard library and numpy only (and, where
installed, loads W1/b1, and the read-out Wout/bout when present, into torch.nn.Linear), and
prints what it found as JSON."""
import json
import struct
import sys

import numpy as np

path = sys.argv[1]
with open(path, "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8 : 8 + n].decode("utf-8"))
meta = header.pop("__metadata__", {})
out = {"metadata_keys": sorted(meta), "config": json.loads(meta["config"]) if "config" in meta else None, "tensors": {}}
data = raw[8 + n :]
arrays = {}
for name, info in header.items():
    assert info["dtype"] == "F32", (name, info["dtype"])
    begin, end = info["data_offsets"]
    a = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
    arrays[name] = a
    out["tensors"][name] = {"shape": list(a.shape), "sum": float(a.astype(np.float64).sum()), "first": [float(v) for v in a.reshape(-1)[:4]]}
try:
    import torch

    lin = torch.nn.Linear(arrays["W1"].shape[1], arrays["W1"].shape[0])
    lin.load_state_dict({"weight": torch.from_numpy(arrays["W1"].copy()), "bias": torch.from_numpy(arrays["b1"].copy())})
    x = torch.ones(1, arrays["W1"].shape[1])
    out["torch_linear_ones"] = [float(v) for v in lin(x)[0, :4]]
    out["torch_readout_ones"] = None
    if "Wout" in arrays:
        readout = torch.nn.Linear(arrays["Wout"].shape[1], arrays["Wout"].shape[0])
        readout.load_state_dict({"weight": torch.from_numpy(arrays["Wout"].copy()), "bias": torch.from_numpy(arrays["bout"].copy())})
        out["torch_readout_ones"] = [float(v) for v in readout(torch.ones(1, arrays["Wout"].shape[1]))[0]]
except ImportError:
    out["torch_linear_ones"] = None
    out["torch_readout_ones"] = None
print(json.dumps(out))
