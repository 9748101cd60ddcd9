import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { clamp, createRng, lognormal } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { type Backend, createCpuBackend, createReferenceBackend, createWasmBackend, wasmUnavailableReason } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createNetwork, createTrainer, type Nudge, snapshotNetwork } from "../src/index.js";
import type { Dynamics } from "../src/relaxation.js";
import { syntheticData } from "./helpers.js";

/**
 * A golden short training run: the float64 reference backend's per-epoch metrics and weight
 * statistics are stored in test/golden/short-run.json (regenerate with
 * HTS_UPDATE_GOLDEN=1 vitest run test/golden-run.test.ts) and every backend must reproduce
 * them within its precision's tolerance.
 */
const here = dirname(fileURLToPath(import.meta.url));
const goldenFile = join(here, "golden", "short-run.json");

interface Golden {
  readonly config: string;
  readonly epochs: { accuracy: number; cost: number; testAccuracy: number; testCost: number }[];
  readonly weights: { sum: number; sumSquares: number; first: number[] }[];
}

const configs: { name: string; dynamics: Dynamics; nudge: Nudge; optimizer: "sgd" | "momentum" | "adam"; lr: number[] }[] = [
  { name: "leaky one-sided sgd", dynamics: "leaky", nudge: "one-sided", optimizer: "sgd", lr: [0.2, 0.1] },
  { name: "gradient symmetric momentum", dynamics: "gradient", nudge: "symmetric", optimizer: "momentum", lr: [0.1, 0.05] },
  { name: "leaky random-sign adam", dynamics: "leaky", nudge: "random-sign", optimizer: "adam", lr: [0.01, 0.005] },
];

function run(backend: Backend, c: (typeof configs)[number]): Golden {
  const sizes = [16, 12, 4];
  const all = syntheticData(96, 16, 4, 31);
  const train = { images: all.images.subarray(0, 64 * 16), labels: all.labels.subarray(0, 64), count: 64, dim: 16 };
  const test = { images: all.images.subarray(64 * 16), labels: all.labels.subarray(64), count: 32, dim: 16 };
  const seed = createRng(3);
  const network = createNetwork({
    backend,
    sizes,
    dt: clamp(lognormal({ mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5, mode: "clip" }),
    weightRng: seed,
    dtRng: seed.jump(),
  });
  const trainer = createTrainer({
    network,
    energy: createEnergy("hopfield"),
    cost: createCost("mse"),
    nudgeRng: createRng(4),
    // Adam's epsilon is raised from 1e-8 to 1e-5: with 1e-8, Adam divides near-zero gradients
    // by their own size and turns float32 rounding noise into full-size steps.
    config: { t1: 30, t2: 8, beta: 0.5, nudge: c.nudge, dynamics: c.dynamics, batch: 8, optimizer: { name: c.optimizer, lr: c.lr, epsilon: 1e-5 } },
  });
  const orderRng = createRng(5);
  const epochs: Golden["epochs"] = [];
  for (let e = 0; e < 3; e++) {
    const order = Uint32Array.from({ length: train.count }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = orderRng.int(0, i);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const s = trainer.trainEpoch(train, order);
    const t = trainer.evaluate(test, { batch: 16 });
    epochs.push({ accuracy: s.accuracy, cost: s.cost, testAccuracy: t.accuracy, testCost: t.cost });
  }
  const snap = snapshotNetwork(network);
  const weights = snap.W.map((w) => ({
    sum: w.reduce((a, v) => a + v, 0),
    sumSquares: w.reduce((a, v) => a + v * v, 0),
    first: Array.from(w.subarray(0, 5)),
  }));
  return { config: c.name, epochs, weights };
}

// wasm-f32 is created asynchronously; one instance serves every run (each allocates its own matrices).
const wasmBackend: Backend | null = wasmUnavailableReason() === null ? await createWasmBackend() : null;

describe("golden short training runs", () => {
  if (process.env.HTS_UPDATE_GOLDEN) {
    it("regenerates the golden file from the float64 reference backend", () => {
      const golden = configs.map((c) => run(createReferenceBackend(), c));
      writeFileSync(goldenFile, `${JSON.stringify(golden, null, 2)}\n`);
      expect(existsSync(goldenFile)).toBe(true);
    });
    return;
  }
  const golden: Golden[] = JSON.parse(readFileSync(goldenFile, "utf8"));
  const backends: [string, () => Backend, number][] = [
    ["reference-f64", createReferenceBackend, 1e-9],
    ["cpu-f32", createCpuBackend, 2e-4],
  ];
  if (wasmBackend !== null) backends.push(["wasm-f32", () => wasmBackend, 2e-4]);
  describe.each(backends)("%s", (_name, make, rtol) => {
    it.each(configs.map((c, i) => [c.name, c, i] as const))("%s matches the golden run", (_n, c, i) => {
      const g = golden[i] as Golden;
      const r = run(make(), c);
      const close = (a: number, b: number, scale = 1) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rtol * (scale + Math.abs(b)));
      r.epochs.forEach((e, k) => {
        const ge = g.epochs[k]!;
        // Accuracies may differ by one example where a float32 rounding flips a near tie.
        expect(Math.abs(e.accuracy - ge.accuracy)).toBeLessThanOrEqual(rtol > 1e-6 ? 1 / 64 : 0);
        expect(Math.abs(e.testAccuracy - ge.testAccuracy)).toBeLessThanOrEqual(rtol > 1e-6 ? 1 / 32 : 0);
        close(e.cost, ge.cost);
        close(e.testCost, ge.testCost);
      });
      r.weights.forEach((w, l) => {
        const gw = g.weights[l]!;
        close(w.sum, gw.sum, 10);
        close(w.sumSquares, gw.sumSquares, 10);
        w.first.forEach((v, j) => {
          close(v, gw.first[j]!, 1);
        });
      });
    });
  });
});
