import { createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { type Backend, createCpuBackend, createWasmBackend, wasmUnavailableReason } from "@hts/kernels/node";
import { describe, expect, it } from "vitest";
import { createNetwork, createTrainer, type Nudge, snapshotNetwork } from "../src/index.js";
import type { Dynamics } from "../src/relaxation.js";
import { syntheticData } from "./helpers.js";

/**
 * The fast path against the simple one: the same short training run (784-64-10 on synthetic
 * MNIST-shaped data with runs of zero pixels, several minibatch sizes, both update rules) on
 * wasm-f32 and on cpu-f32 gives the same curve, minibatch by minibatch, within float32
 * tolerance. wasm-f32 queues the operations of a phase and runs them in blocks of rows,
 * fuses the passes of a step and skips zeros in its products, so this is the check that
 * none of that changes the numbers beyond float32 rounding.
 */
const available = wasmUnavailableReason() === null;
const wasm: Backend | null = available ? await createWasmBackend() : null;

function curve(backend: Backend, dynamics: Dynamics, nudge: Nudge, batch: number, sizes: readonly number[] = [784, 64, 10]) {
  const data = syntheticData(batch * 6, 784, 10, 17);
  // Zero out the border, like MNIST digits.
  for (let i = 0; i < data.count; i++) for (let j = 0; j < 784; j++) if (j % 28 < 5 || j % 28 > 22) data.images[i * 784 + j] = 0;
  const rng = createRng(11);
  const network = createNetwork({ backend, sizes, dt: 0.3, weightRng: rng });
  const trainer = createTrainer({
    network,
    energy: createEnergy("hopfield"),
    cost: createCost("mse"),
    nudgeRng: createRng(12),
    config: { t1: 25, t2: 6, beta: 0.5, nudge, dynamics, batch, optimizer: { name: "sgd", lr: sizes.slice(1).map((_, l) => (l === 0 ? 0.1 : 0.05)) } },
  });
  const costs: number[] = [];
  const correct: number[] = [];
  for (let k = 0; k < 6; k++) {
    const r = trainer.trainBatch(data.images.subarray(k * batch * 784, (k + 1) * batch * 784), data.labels.subarray(k * batch, (k + 1) * batch));
    costs.push(r.cost);
    correct.push(r.correct);
  }
  const test = trainer.evaluate(data, { batch: 37 });
  return { costs, correct, test, weights: snapshotNetwork(network).W };
}

describe.runIf(available)("wasm-f32 trains like cpu-f32", () => {
  it.each([
    ["gradient", "one-sided", 20],
    ["gradient", "symmetric", 7],
    ["leaky", "one-sided", 64],
    ["leaky", "random-sign", 13],
  ] as const)("%s rule, %s nudging, batch %i: same costs, predictions and weights", (dynamics, nudge, batch) => {
    const a = curve(wasm as Backend, dynamics, nudge, batch);
    const b = curve(createCpuBackend(), dynamics, nudge, batch);
    const rtol = 2e-4;
    for (let k = 0; k < a.costs.length; k++) {
      const want = b.costs[k] as number;
      expect(Math.abs((a.costs[k] as number) - want)).toBeLessThanOrEqual(rtol * (1 + Math.abs(want)));
      // A float32 rounding may flip a near tie: at most one example per minibatch.
      expect(Math.abs((a.correct[k] as number) - (b.correct[k] as number))).toBeLessThanOrEqual(1);
    }
    expect(Math.abs(a.test.accuracy - b.test.accuracy)).toBeLessThanOrEqual(2 / a.test.examples);
    expect(Math.abs(a.test.cost - b.test.cost)).toBeLessThanOrEqual(rtol * (1 + b.test.cost));
    a.weights.forEach((w, l) => {
      const ref = b.weights[l] as Float32Array;
      let worst = 0;
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs((w[i] as number) - (ref[i] as number)));
      expect(worst).toBeLessThanOrEqual(rtol);
    });
  });

  it("with 2 worker threads sharing the rows, the run is bit-identical to one thread", async () => {
    const two = await createWasmBackend({ workers: 2 });
    // The wide network's hidden products take the compressed-rows or the dense kernel, which
    // round differently, per group of rows: a choice that must not follow the threads' blocks.
    for (const [dynamics, batch, sizes] of [
      ["gradient", 20, [784, 64, 10]],
      ["leaky", 64, [784, 64, 10]],
      ["gradient", 64, [784, 200, 200, 10]],
      ["leaky", 48, [784, 200, 200, 10]],
    ] as const) {
      const a = curve(two, dynamics, "one-sided", batch, sizes);
      const b = curve(wasm as Backend, dynamics, "one-sided", batch, sizes);
      expect(a.costs).toEqual(b.costs);
      expect(a.correct).toEqual(b.correct);
      expect(a.test).toEqual(b.test);
      a.weights.forEach((w, l) => {
        expect(Array.from(w)).toEqual(Array.from(b.weights[l] as Float32Array));
      });
    }
  });
});
