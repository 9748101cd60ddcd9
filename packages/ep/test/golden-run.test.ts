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
 * Golden short training runs: the float64 reference backend's per-epoch metrics and weight
 * statistics are stored in test/golden/short-run.json, with the settings of each run, and
 * every CPU backend must reproduce them within its precision's tolerance. Each stored run
 * must also learn (see `LEARNS` below), so that the comparison is about a real training run.
 *
 * After an intended change of the numerics, regenerate (and check every backend against the
 * new file) with one command, from packages/ep:
 *
 *     HTS_UPDATE_GOLDEN=1 npx vitest run test/golden-run.test.ts
 *
 * The runs use the Hopfield energy with the hard sigmoid, and the synthetic pixels are in
 * [0, 1], where rho(x) = x: whether the input goes through the activation does not change them.
 */
const here = dirname(fileURLToPath(import.meta.url));
const goldenFile = join(here, "golden", "short-run.json");
const update = Boolean(process.env.HTS_UPDATE_GOLDEN);
const REGENERATE = "cd packages/ep && HTS_UPDATE_GOLDEN=1 npx vitest run test/golden-run.test.ts";

interface Settings {
  readonly dynamics: Dynamics;
  readonly nudge: Nudge;
  readonly t1: number;
  readonly t2: number;
  readonly beta: number;
  readonly optimizer: { readonly name: "sgd" | "momentum" | "adam"; readonly lr: number[]; readonly momentum?: number; readonly epsilon: number };
}

interface Golden {
  readonly config: string;
  readonly settings: Settings;
  readonly epochs: { accuracy: number; cost: number; testAccuracy: number; testCost: number }[];
  readonly weights: { sum: number; sumSquares: number; first: number[] }[];
}

// Both update rules, the three nudges and the three optimizers. Adam's epsilon is raised from
// 1e-8 to 1e-5: with 1e-8, Adam divides near-zero gradients by their own size and turns
// float32 rounding noise into full-size steps (sgd and momentum ignore it).
//
// The gradient rule with symmetric nudging learns nothing at beta 0.5 with momentum 0.9 in
// three epochs (it predicts the most common class throughout: train 26/64, test 7/32); at
// beta 1 with momentum 0.5 it does (test accuracy 1 after three epochs).
const configs: ({ name: string } & Settings)[] = [
  { name: "leaky one-sided sgd", dynamics: "leaky", nudge: "one-sided", t1: 30, t2: 8, beta: 0.5, optimizer: { name: "sgd", lr: [0.2, 0.1], epsilon: 1e-5 } },
  {
    name: "gradient symmetric momentum",
    dynamics: "gradient",
    nudge: "symmetric",
    t1: 30,
    t2: 8,
    beta: 1,
    optimizer: { name: "momentum", lr: [0.4, 0.2], momentum: 0.5, epsilon: 1e-5 },
  },
  { name: "leaky random-sign adam", dynamics: "leaky", nudge: "random-sign", t1: 30, t2: 8, beta: 0.5, optimizer: { name: "adam", lr: [0.01, 0.005], epsilon: 1e-5 } },
];

/**
 * What "learns" means for a stored run, 4 classes: chance is 1/4, and always predicting the
 * most common class scores 26/64 = 0.41 on the 64 training examples and 11/32 = 0.34 on the
 * 32 test examples. The last epoch must beat both on the test split and beat the
 * most-common-class share while training, and the training cost must have gone down.
 */
const LEARNS = { finalTestAccuracy: 0.4, finalTrainAccuracy: 0.45 };

const SIZES = [16, 12, 4];
const all = syntheticData(96, 16, 4, 31);
const train = { images: all.images.subarray(0, 64 * 16), labels: all.labels.subarray(0, 64), count: 64, dim: 16 };
const test = { images: all.images.subarray(64 * 16), labels: all.labels.subarray(64), count: 32, dim: 16 };

function settingsOf(c: (typeof configs)[number]): Settings {
  const { name: _name, ...settings } = c;
  return settings;
}

function run(backend: Backend, c: (typeof configs)[number]): Golden {
  const seed = createRng(3);
  const network = createNetwork({
    backend,
    sizes: SIZES,
    dt: clamp(lognormal({ mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5, mode: "clip" }),
    weightRng: seed,
    dtRng: seed.jump(),
  });
  const trainer = createTrainer({
    network,
    energy: createEnergy("hopfield", "hard-sigmoid"),
    cost: createCost("mse"),
    nudgeRng: createRng(4),
    config: { t1: c.t1, t2: c.t2, beta: c.beta, nudge: c.nudge, dynamics: c.dynamics, batch: 8, optimizer: c.optimizer },
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
  return { config: c.name, settings: settingsOf(c), epochs, weights };
}

/** The stored runs, read when a test needs them (after the regeneration in update mode). */
function loadGolden(): Golden[] {
  return JSON.parse(readFileSync(goldenFile, "utf8"));
}

// wasm-f32 is created asynchronously; one instance serves every run (each allocates its own matrices).
const wasmBackend: Backend | null = wasmUnavailableReason() === null ? await createWasmBackend() : null;

describe("golden short training runs", () => {
  if (update) {
    it("regenerates the golden file from the float64 reference backend (HTS_UPDATE_GOLDEN is set)", () => {
      const golden = configs.map((c) => run(createReferenceBackend(), c));
      writeFileSync(goldenFile, `${JSON.stringify(golden, null, 2)}\n`);
      expect(existsSync(goldenFile)).toBe(true);
    });
  }

  it("the golden file holds the runs configured here", () => {
    const golden = loadGolden();
    const stale = `test/golden/short-run.json does not match the configurations of this file; regenerate it: ${REGENERATE}`;
    expect(
      golden.map((g) => [g.config, g.settings]),
      stale,
    ).toEqual(configs.map((c) => [c.name, settingsOf(c)]));
  });

  it.each(configs.map((c, i) => [c.name, i] as const))("the stored %s run learns", (name, i) => {
    const g = loadGolden()[i] as Golden;
    const first = g.epochs[0]!;
    const last = g.epochs[g.epochs.length - 1]!;
    const what = `${name}: epochs ${JSON.stringify(g.epochs.map((e) => [e.accuracy, e.testAccuracy]))} (train, test accuracy)`;
    expect(last.testAccuracy, what).toBeGreaterThanOrEqual(LEARNS.finalTestAccuracy);
    expect(last.accuracy, what).toBeGreaterThanOrEqual(LEARNS.finalTrainAccuracy);
    expect(last.cost, what).toBeLessThan(first.cost);
  });

  const backends: [string, () => Backend, number][] = [
    ["reference-f64", createReferenceBackend, 1e-9],
    ["cpu-f32", createCpuBackend, 2e-4],
  ];
  if (wasmBackend !== null) backends.push(["wasm-f32", () => wasmBackend, 2e-4]);
  describe.each(backends)("%s", (_name, make, rtol) => {
    it.each(configs.map((c, i) => [c.name, c, i] as const))("%s matches the golden run", (_n, c, i) => {
      const g = loadGolden()[i] as Golden;
      const r = run(make(), c);
      const hint = (what: string) => `${c.name}: ${what} differs from test/golden/short-run.json (if the numerics changed on purpose: ${REGENERATE})`;
      const close = (what: string, a: number, b: number, scale = 1) => expect(Math.abs(a - b), hint(`${what} ${a} vs ${b}`)).toBeLessThanOrEqual(rtol * (scale + Math.abs(b)));
      r.epochs.forEach((e, k) => {
        const ge = g.epochs[k]!;
        // Accuracies may differ by one example where a float32 rounding flips a near tie.
        expect(Math.abs(e.accuracy - ge.accuracy), hint(`epoch ${k + 1} accuracy`)).toBeLessThanOrEqual(rtol > 1e-6 ? 1 / 64 : 0);
        expect(Math.abs(e.testAccuracy - ge.testAccuracy), hint(`epoch ${k + 1} test accuracy`)).toBeLessThanOrEqual(rtol > 1e-6 ? 1 / 32 : 0);
        close(`epoch ${k + 1} cost`, e.cost, ge.cost);
        close(`epoch ${k + 1} test cost`, e.testCost, ge.testCost);
      });
      r.weights.forEach((w, l) => {
        const gw = g.weights[l]!;
        close(`W${l + 1} sum`, w.sum, gw.sum, 10);
        close(`W${l + 1} sum of squares`, w.sumSquares, gw.sumSquares, 10);
        w.first.forEach((v, j) => {
          close(`W${l + 1}[${j}]`, v, gw.first[j]!, 1);
        });
      });
    });
  });
});
