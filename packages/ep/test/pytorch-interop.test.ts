import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { clamp, createRng, gamma } from "@hts/distributions";
import { createCpuBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createNetwork, saveCheckpoint, snapshotNetwork } from "../src/index.js";

/** Checkpoints open in Python: numpy from the safetensors layout alone, and torch.nn.Linear where torch is installed. */
const script = join(dirname(fileURLToPath(import.meta.url)), "read_checkpoint.py");
const env = { ...process.env, PYENV_VERSION: "system" };
const probe = spawnSync("python3", ["-c", "import numpy"], { env, encoding: "utf8" });
const why = probe.error ? `python3 is not installed (${probe.error.message})` : probe.status !== 0 ? "python3 cannot import numpy (install python3-numpy)" : "";
if (why) console.warn(`checkpoint read from Python SKIPPED: ${why}`);

describe.skipIf(why !== "")("checkpoints read from Python", () => {
  it("numpy sees W{l} as [n_l, n_{l-1}] with our values, b{l}, dt{l}, and the config", async () => {
    const be = createCpuBackend();
    const rng = createRng(9);
    const net = createNetwork({ backend: be, sizes: [7, 5, 3], dt: clamp(gamma({ mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5, mode: "clip" }), weightRng: rng, dtRng: rng.jump() });
    be.write(net.params.b[0]!, [0.5, -0.25, 0.125, 1, 2]);
    const file = join(mkdtempSync(join(tmpdir(), "hts-py-")), "m.safetensors");
    await saveCheckpoint(file, net, { arch: [7, 5, 3], note: "from the test" });
    const r = spawnSync("python3", [script, file], { env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    const snap = snapshotNetwork(net);
    expect(got.config).toEqual({ arch: [7, 5, 3], note: "from the test" });
    expect(got.tensors.W1.shape).toEqual([5, 7]);
    expect(got.tensors.W2.shape).toEqual([3, 5]);
    expect(got.tensors.dt1.shape).toEqual([5]);
    // W1[j, i] (torch layout) = our W_1[i, j]: the first row of torch's W1 is our first column.
    const col0 = [0, 1, 2, 3].map((i) => snap.W[0]![i * 5]!);
    expect(got.tensors.W1.first).toEqual(col0);
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(got.tensors.W1.sum).toBeCloseTo(sum(snap.W[0]!), 5);
    expect(got.tensors.dt1.first).toEqual(Array.from(snap.dt[0]!.subarray(0, 4)));
    expect(got.tensors.b1.first).toEqual([0.5, -0.25, 0.125, 1]);
    if (got.torch_linear_ones === null) console.warn("torch is not installed: torch.nn.Linear check SKIPPED");
    else {
      // Linear(ones) = sum over inputs of W1[j, :] + b1[j] = our column sums + b.
      const expected = [0, 1, 2, 3].map((j) => {
        let s = snap.b[0]![j]!;
        for (let i = 0; i < 7; i++) s += snap.W[0]![i * 5 + j]!;
        return s;
      });
      got.torch_linear_ones.forEach((v: number, j: number) => {
        expect(v).toBeCloseTo(expected[j]!, 5);
      });
    }
  });
});
