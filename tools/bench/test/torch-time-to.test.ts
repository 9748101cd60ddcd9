import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
// "CI is set": the project's one switch that turns a missing oracle from a skip into a failure.
import { gpuRequired as oracleRequired } from "@hts/kernels/gpu-testing";
import { NODE_PLATFORM } from "@hts/kernels/node";
import { loadRunData, prepareRun, runBackend, runSpecFromFlags } from "@hts/study/node";
import { describe, expect, it } from "vitest";
import { parseReferenceEpoch, rawSplits, writeEpmnPair } from "../src/torch-time-to.js";

const bench = fileURLToPath(new URL("../dist/bench.js", import.meta.url));
const script = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../shared/bench/ep_torch_ref.py");
const env = { ...process.env, PYENV_VERSION: "system" };

function missingTorch(): string | null {
  if (!existsSync(script)) return `no reference script at ${script}`;
  const probe = spawnSync("python3", ["-c", "import torch, numpy"], { env, encoding: "utf8" });
  if (probe.error) return `python3 cannot be run (${probe.error.message})`;
  if (probe.status !== 0) return `python3 cannot import torch and numpy (${(probe.stderr ?? "").trim().split("\n").pop()}); install Debian's python3-torch`;
  return null;
}

describe("the reference's time to accuracy", () => {
  const flags = { "train-size": "300", "test-size": "200", seed: "3" };

  it("gets the very training, validation and test examples of our run, as raw pixels", async () => {
    const raw = await rawSplits(flags, 100);
    const spec = runSpecFromFlags({ "val-size": "100", ...flags, backend: "cpu" });
    const ours = prepareRun({ spec, data: await loadRunData(spec), backend: await runBackend("cpu", NODE_PLATFORM) }).data;
    expect(ours.validation).not.toBeNull();
    for (const [a, b] of [
      [raw.train, ours.train],
      [raw.validation, ours.validation],
      [raw.test, ours.test],
    ] as const) {
      expect(a.count).toBe(b?.count);
      expect(Array.from(a.labels)).toEqual(Array.from(b?.labels ?? []));
    }
    // Raw pixels in [0, 1], with the digits' zeros; ours are standardized (dense, centred).
    const min = raw.train.images.reduce((m, v) => Math.min(m, v), 1);
    expect(min).toBe(0);
    expect(raw.train.images.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(ours.train.images.some((v) => v < 0)).toBe(true);
  });

  it("writes two splits as one EPMN file, the first split first", async () => {
    const raw = await rawSplits(flags, 100);
    const file = join(mkdtempSync(join(tmpdir(), "hts-epmn-")), "d.epmn");
    writeEpmnPair(file, raw.train, raw.validation);
    const b = readFileSync(file);
    const n = raw.train.count + raw.validation.count;
    expect(b.subarray(0, 4).toString("ascii")).toBe("EPMN");
    expect([b.readUInt32LE(4), b.readUInt32LE(8), b.readUInt32LE(12)]).toEqual([1, n, 784]);
    expect(b.length).toBe(16 + n * 784 * 4 + n);
    const px = new Float32Array(b.buffer.slice(b.byteOffset + 16, b.byteOffset + 16 + n * 784 * 4));
    expect(px[784 * raw.train.count + 300]).toBe(raw.validation.images[300]);
    expect(Array.from(b.subarray(16 + n * 784 * 4, 16 + n * 784 * 4 + 3))).toEqual(Array.from(raw.train.labels.subarray(0, 3)));
    expect(b[b.length - 1]).toBe(raw.validation.labels[raw.validation.count - 1]);
  });

  it("reads the reference's epoch lines", () => {
    expect(parseReferenceEpoch("epoch 3  train(running, free phase) 0.9012  test 0.9410  train 4.1s (1951 samples/s)  eval 0.3s")).toEqual({ epoch: 3, accuracy: 0.941, trainSeconds: 4.1, samplesPerSecond: 1951, evalSeconds: 0.3 });
    expect(parseReferenceEpoch("selftest PASSED")).toBeNull();
  });

  const missing = missingTorch();
  const name = "pnpm bench --time-to --compare-torch runs ours and the reference, alternating, on the same digits";
  const body = () => {
    const train = "--train-size 300 --test-size 200 --t1 8 --t2 3 --batch 20 --backend wasm";
    const r = spawnSync(process.execPath, [bench, "--json", "--time-to", "50", `--train=${train}`, "--val-size", "100", "--max-epochs", "3", "--compare-torch", "--torch-train=--T1 30 --T2 6", "--repeats", "2"], {
      encoding: "utf8",
      timeout: 240_000,
      env,
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { who: string; train: string; reached: boolean; epoch: number | null; seconds: number; testAccuracy: number; points: { epoch: number; seconds: number; validationAccuracy: number }[] });
    expect(rows.map((x) => x.who)).toEqual(["ours", "torch", "ours", "torch"]);
    const torch = rows.filter((x) => x.who === "torch");
    for (const row of torch) {
      expect(row.train).toBe("--T1 30 --T2 6");
      expect(row.points.map((p) => p.epoch)).toEqual(row.points.map((_, i) => i + 1));
      const first = row.points.findIndex((p) => p.validationAccuracy >= 0.5);
      if (row.reached) expect(row.epoch).toBe(first + 1);
      else expect(row.points).toHaveLength(3);
      expect(row.seconds).toBeGreaterThan(0);
      // 10 classes on 100 validation digits: a network that learned nothing is near 0.1.
      expect(row.testAccuracy).toBeGreaterThan(0.2);
    }
    // The reference is deterministic on one thread: both repeats trained the same way.
    expect(torch[1]?.points.map((p) => p.validationAccuracy)).toEqual(torch[0]?.points.map((p) => p.validationAccuracy));
    expect(torch[1]?.testAccuracy).toBe(torch[0]?.testAccuracy);
  };
  if (missing === null) it(name, body, 300_000);
  else if (oracleRequired()) {
    it(`${name} (its oracle is required: CI is set)`, () => {
      throw new Error(missing);
    });
  } else {
    console.warn(`${name}: skipped, ${missing}`);
    it.skip(`${name}: ${missing}`, () => {});
  }

  it("--torch-train without --compare-torch, or with a flag the bench sets, is a usage error", () => {
    for (const [args, message] of [
      [["--time-to", "94", "--torch-train=--T1 50"], "--torch-train needs --compare-torch"],
      [["--time-to", "94", "--compare-torch", "--torch-train=--T1 50 --epochs 3"], "--torch-train: --epochs is set by the bench"],
    ] as const) {
      const r = spawnSync(process.execPath, [bench, ...args], { encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});
