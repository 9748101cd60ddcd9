"""Reads an HTS-EP checkpoint (model.safetensors written by `hts train --out`) and predicts
with it, in Python with numpy only: the free phase of SPEC sections 2-3 rebuilt from the
checkpoint's weights, per-neuron time steps and recorded configuration.

    python3 python/hts_ep_reader.py MODEL.safetensors IMAGES.idx[.gz] [--labels LABELS.idx[.gz]] [--limit N]

prints JSON: {"predictions": [...], "examples": N, "accuracy": ... (with --labels)}.
As a library: `model = load_model(path)`, `predict(model, images)` with images N x n_0 in
[0, 1] (the recorded input transform is applied here, as `hts eval` does).

The arithmetic is float32, like the library's backends; sums run in another order, so a
prediction can differ from `hts eval` where two classes tie to within float32 rounding.
"""

import argparse
import gzip
import json
import struct
import sys

import numpy as np

FORMAT = "hts-ep checkpoint"


def read_safetensors(path):
    """The tensors (name -> float32 array, shape as stored) and the metadata of a file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: not a safetensors file ({len(raw)} bytes, shorter than its 8-byte header length)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8 or n > 100_000_000:
        raise ValueError(f"{path}: not a safetensors file (header length {n} does not fit a file of {len(raw)} bytes)")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a safetensors file (its header is not JSON: {e})") from None
    meta = header.pop("__metadata__", {}) or {}
    data = raw[8 + n :]
    tensors = {}
    for name, info in header.items():
        if info.get("dtype") != "F32":
            raise ValueError(f"{path}: tensor {name} has dtype {info.get('dtype')}, expected F32")
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"]).astype(np.float32)
    return tensors, meta


def load_model(path):
    """The network of a checkpoint: W[l] as n_{l-1} x n_l, b[l], dt[l], the read-out, the config."""
    tensors, meta = read_safetensors(path)
    if "W1" not in tensors:
        raise ValueError(f"{path}: no tensor W1; not a checkpoint written by hts train")
    W, b, dt = [], [], []
    l = 1
    while f"W{l}" in tensors:
        W.append(np.ascontiguousarray(tensors[f"W{l}"].T))  # stored as torch.nn.Linear: [n_l, n_{l-1}]
        b.append(tensors[f"b{l}"])
        dt.append(tensors[f"dt{l}"])
        l += 1
    readout = None
    if "Wout" in tensors:
        readout = (np.ascontiguousarray(tensors["Wout"].T), tensors["bout"])
    config = json.loads(meta["config"]) if "config" in meta else {}
    return {"W": W, "b": b, "dt": dt, "readout": readout, "config": config}


ACTIVATIONS = {
    "hard-sigmoid": (lambda u: np.clip(u, 0, 1), lambda u: ((u >= 0) & (u <= 1)).astype(np.float32), (0.0, 1.0)),
    "sigmoid": (
        lambda u: (1 / (1 + np.exp(-4 * (u - 0.5)))).astype(np.float32),
        lambda u: (4 * (r := 1 / (1 + np.exp(-4 * (u - 0.5)))) * (1 - r)).astype(np.float32),
        (0.0, 1.0),
    ),
    "tanh": (lambda u: np.tanh(u), lambda u: (1 - np.tanh(u) ** 2).astype(np.float32), (-1.0, 1.0)),
}


def input_transform(model, x):
    """The input transform recorded with the model (mode raw, standardize, standardize-feature)."""
    t = model["config"].get("inputTransform") or {"mode": "raw"}
    if t["mode"] == "raw":
        return x.astype(np.float32)
    mean = np.asarray(t["mean"], dtype=np.float32)
    sd = np.asarray(t["sd"], dtype=np.float32)
    return (np.float32(t["scale"]) * (x.astype(np.float32) - mean) / sd).astype(np.float32)


def free_phase(model, x, t1=None):
    """Relaxes the free phase (beta = 0) from s = 0; returns the states s_1..s_L."""
    c = model["config"]
    energy, activation = c.get("energy", "hopfield"), c.get("activation", "hard-sigmoid")
    dynamics, order = c.get("dynamics", "leaky"), c.get("order", "sync")
    steps = int(t1 if t1 is not None else c.get("t1", 100))
    tolerance = float(c.get("tolerance", 0) or 0)
    if energy not in ("hopfield", "primitive"):
        raise ValueError(f"energy {energy!r}: this reader knows hopfield and primitive")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r}: expected one of {', '.join(ACTIVATIONS)}")
    if dynamics not in ("leaky", "gradient") or order not in ("sync", "even-odd"):
        raise ValueError(f"dynamics {dynamics!r} / order {order!r}: expected leaky|gradient and sync|even-odd")
    rho, drho, (lo, hi) = ACTIVATIONS[activation]
    rate = rho if energy == "hopfield" else (lambda s: s)
    W, b, dt = model["W"], model["b"], model["dt"]
    L = len(W)
    B = x.shape[0]
    s = [np.zeros((B, w.shape[1]), dtype=np.float32) for w in W]
    input_drive = (x @ W[0] + b[0]).astype(np.float32)

    def drive(state, l):  # n_l, 0-based layer index l (layer l + 1)
        a = [rate(v) for v in state]
        n = input_drive.copy() if l == 0 else (a[l - 1] @ W[l] + b[l]).astype(np.float32)
        if l < L - 1:
            n += a[l + 1] @ W[l + 1].T
        return n

    def velocity(state, l):
        n = drive(state, l)
        if dynamics == "leaky":
            return rho(n) - state[l]
        g = state[l] - (drho(state[l]) * n if energy == "hopfield" else n)
        return -g

    def update(state, l):
        v = velocity(state, l)
        nxt = state[l] + dt[l] * v
        return np.clip(nxt, lo, hi).astype(np.float32) if dynamics == "gradient" else nxt.astype(np.float32)

    def residual(state):
        r = 0.0
        for l in range(L):
            v = velocity(state, l)
            if dynamics == "gradient":
                held = ((state[l] <= lo) & (v < 0)) | ((state[l] >= hi) & (v > 0))
                v = np.where(held, 0, v)
            r = max(r, float(np.max(np.abs(v))))
        return r

    for _ in range(steps):
        if order == "sync" or L == 1:
            s = [update(s, l) for l in range(L)]
        else:
            for parity in (0, 1):  # layers 1, 3, ... (indices 0, 2, ...) first, then 2, 4, ...
                new = list(s)
                for l in range(parity, L, 2):
                    new[l] = update(s, l)
                s = new
        if tolerance > 0 and residual(s) < tolerance:
            break
    return s


def predict(model, images, t1=None, batch=1000):
    """Class predictions for images (N x n_0, pixels as loaded: the input transform is applied here)."""
    x_all = input_transform(model, np.asarray(images, dtype=np.float32))
    out = []
    for i in range(0, x_all.shape[0], batch):
        s = free_phase(model, x_all[i : i + batch], t1)
        top = s[-1]
        if model["readout"] is not None:
            wo, bo = model["readout"]
            rate = ACTIVATIONS[model["config"].get("activation", "hard-sigmoid")][0] if model["config"].get("energy", "hopfield") == "hopfield" else (lambda v: v)
            top = rate(top) @ wo + bo
        out.append(np.argmax(top, axis=1))  # the first of equal maxima, as the library's argmax
    return np.concatenate(out)


def read_idx(path):
    """An IDX file (raw or gzip) as a numpy array of its dimensions."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw[4 + 4 * ndim :], dtype=np.uint8).reshape(dims)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("images", help="an IDX image file (pixels 0..255, divided by 255 as hts does)")
    p.add_argument("--labels", help="the matching IDX label file: print the accuracy too")
    p.add_argument("--limit", type=int, help="the first N examples only")
    a = p.parse_args(argv)
    model = load_model(a.model)
    images = read_idx(a.images)
    n = images.shape[0] if a.limit is None else min(a.limit, images.shape[0])
    x = (images[:n].reshape(n, -1).astype(np.float32) / np.float32(255)).astype(np.float32)
    pred = predict(model, x)
    out = {"examples": int(n), "predictions": [int(v) for v in pred]}
    if a.labels:
        labels = read_idx(a.labels)[:n]
        out["accuracy"] = float(np.mean(pred == labels))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
