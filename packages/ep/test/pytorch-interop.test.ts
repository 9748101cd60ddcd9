import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { clamp, createRng, gamma } from "@hts/distributions";
import { createCpuBackend } from "@hts/kernels";
// "CI is set": the project's one switch that turns a missing oracle from a skip into a failure.
import { gpuRequired as oracleRequired } from "@hts/kernels/gpu-testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createNetwork, type Network, snapshotNetwork } from "../src/index.js";
import { saveCheckpoint } from "../src/node.js";

/**
 * Checkpoints open in Python (test/read_checkpoint.py, run with Debian's python3:
 * PYENV_VERSION=system; HTS_PYTHON names another interpreter): numpy from the safetensors
 * layout alone, and torch.nn.Linear loaded from W1 and b1. Each of the two oracles, numpy and
 * torch, is probed on its own; without it, its test is skipped with the reason, or fails with
 * the reason when CI is set.
 */
const script = join(dirname(fileURLToPath(import.meta.url)), "read_checkpoint.py");
const python = process.env.HTS_PYTHON ?? "python3";
const env = { ...process.env, PYENV_VERSION: "system" };

/** Why `python` cannot import `module`, or null when it can. */
function cannotImport(module: string, debianPackage: string): string | null {
  const probe = spawnSync(python, ["-c", `import ${module}`], { env, encoding: "utf8" });
  if (probe.error) return `${python} cannot be run (${probe.error.message}); install Debian's python3`;
  if (probe.status !== 0) return `${python} cannot import ${module} (${(probe.stderr ?? "").trim().split("\n").pop()}); install Debian's ${debianPackage}`;
  return null;
}

const noNumpy = cannotImport("numpy", "python3-numpy");
// read_checkpoint.py needs numpy before it tries torch.
const noTorch = noNumpy ?? cannotImport("torch", "python3-torch");

/** A test that needs an oracle: run it, or skip it with the reason, or (CI set) fail with the reason. */
function withOracle(name: string, missing: string | null, body: () => void | Promise<void>): void {
  if (missing === null) it(name, body);
  else if (oracleRequired()) {
    it(`${name} (its oracle is required: CI is set)`, () => {
      throw new Error(missing);
    });
  } else {
    console.warn(`${name}: skipped, ${missing}`);
    it.skip(`${name}: ${missing}`, () => {});
  }
}

interface Read {
  config: unknown;
  tensors: Record<string, { shape: number[]; sum: number; first: number[] }>;
  torch_linear_ones: number[] | null;
  torch_readout_ones: number[] | null;
}

describe("checkpoints read from Python", () => {
  let net: Network;
  let read: Read | null = null;
  let failure = "";

  beforeAll(async () => {
    if (noNumpy !== null) return;
    const be = createCpuBackend();
    const rng = createRng(9);
    net = createNetwork({ backend: be, sizes: [7, 5, 3], dt: clamp(gamma({ mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5, mode: "clip" }), weightRng: rng, dtRng: rng.jump(), readoutClasses: 4 });
    be.write(net.params.b[0]!, [0.5, -0.25, 0.125, 1, 2]);
    be.write(net.readout!.b, [0.25, -0.5, 0, 1]);
    const file = join(mkdtempSync(join(tmpdir(), "hts-py-")), "m.safetensors");
    await saveCheckpoint(file, net, { arch: [7, 5, 3], note: "from the test" });
    const r = spawnSync(python, [script, file], { env, encoding: "utf8" });
    if (r.status === 0) read = JSON.parse(r.stdout);
    else failure = `read_checkpoint.py exited with ${r.status}: ${r.stderr}`;
    // Starting Python with torch takes seconds, far more on a loaded 2-core machine.
  }, 120_000);

  withOracle("numpy sees W{l} as [n_l, n_{l-1}] with our values, b{l}, dt{l}, and the config", noNumpy, () => {
    expect(failure).toBe("");
    const got = read as Read;
    const snap = snapshotNetwork(net);
    expect(got.config).toEqual({ arch: [7, 5, 3], note: "from the test" });
    expect(got.tensors.W1!.shape).toEqual([5, 7]);
    expect(got.tensors.W2!.shape).toEqual([3, 5]);
    expect(got.tensors.dt1!.shape).toEqual([5]);
    // W1[j, i] (torch layout) = our W_1[i, j]: the first row of torch's W1 is our first column.
    const col0 = [0, 1, 2, 3].map((i) => snap.W[0]![i * 5]!);
    expect(got.tensors.W1!.first).toEqual(col0);
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(got.tensors.W1!.sum).toBeCloseTo(sum(snap.W[0]!), 5);
    expect(got.tensors.dt1!.first).toEqual(Array.from(snap.dt[0]!.subarray(0, 4)));
    expect(got.tensors.b1!.first).toEqual([0.5, -0.25, 0.125, 1]);
  });

  withOracle("torch.nn.Linear loaded from W1 and b1 computes x W_1 + b_1", noTorch, () => {
    expect(failure).toBe("");
    const got = read as Read;
    // The probe imported torch, so the script must have used it (it prints null only without torch).
    expect(got.torch_linear_ones).not.toBeNull();
    const snap = snapshotNetwork(net);
    // Linear(ones) = sum over inputs of W1[j, :] + b1[j] = our column sums + b.
    const expected = [0, 1, 2, 3].map((j) => {
      let s = snap.b[0]![j]!;
      for (let i = 0; i < 7; i++) s += snap.W[0]![i * 5 + j]!;
      return s;
    });
    expect(got.torch_linear_ones).toHaveLength(4);
    got.torch_linear_ones!.forEach((v, j) => {
      expect(v).toBeCloseTo(expected[j]!, 5);
    });
  });

  withOracle("torch.nn.Linear loaded from the read-out's Wout [classes, n_L] and bout computes h W_out + b_out", noTorch, () => {
    expect(failure).toBe("");
    const got = read as Read;
    expect(got.tensors.Wout!.shape).toEqual([4, 3]);
    expect(got.tensors.bout!.shape).toEqual([4]);
    const r = snapshotNetwork(net).readout!;
    // Linear(ones)[k] = sum over the 3 units of W_out[:, k] + b_out[k].
    const expected = [0, 1, 2, 3].map((k) => (r.b[k] as number) + [0, 1, 2].reduce((s, i) => s + (r.W[i * 4 + k] as number), 0));
    expect(got.torch_readout_ones).toHaveLength(4);
    got.torch_readout_ones!.forEach((v, k) => {
      expect(v).toBeCloseTo(expected[k]!, 5);
    });
  });
});
