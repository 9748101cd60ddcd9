import { createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createCpuBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createEvaluator, createNetwork, createTrainer, EpError, evaluate, type RelaxationStep } from "../src/index.js";
import { syntheticData } from "./helpers.js";

const all = syntheticData(136, 16, 4, 3);
const part = (from: number, count: number) => ({ images: all.images.slice(from * 16, (from + count) * 16), labels: all.labels.slice(from, from + count), count, dim: 16 });
const train = part(0, 96);
const test = part(96, 40);
const config = { t1: 25, t2: 6, beta: 0.5, nudge: "symmetric" as const, dynamics: "leaky" as const, batch: 8, optimizer: { name: "sgd" as const, lr: [0.3, 0.1] } };

function trained() {
  const network = createNetwork({ backend: createCpuBackend(), sizes: [16, 12, 4], dt: 0.3, weightRng: createRng(2) });
  const trainer = createTrainer({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config });
  for (let e = 0; e < 3; e++) trainer.trainEpoch(train, Uint32Array.from({ length: train.count }, (_, i) => i));
  return { network, trainer };
}

describe("createEvaluator", () => {
  it("gives exactly the trainer's evaluation, with no optimizer and no nudged phase", () => {
    const { network, trainer } = trained();
    const ev = createEvaluator({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config: { t1: config.t1, dynamics: "leaky" } });
    for (const batch of [40, 16, 7]) {
      const a = ev.evaluate(test, { batch });
      expect(a).toEqual(trainer.evaluate(test, { batch }));
      expect(a.examples).toBe(40);
    }
    // The trained network beats chance (1/4) on held-out data; an untrained one is measured too.
    const fresh = createNetwork({ backend: createCpuBackend(), sizes: [16, 12, 4], dt: 0.3, weightRng: createRng(2) });
    const before = evaluate({ network: fresh, energy: createEnergy("hopfield"), cost: createCost("mse"), config: { t1: 25, dynamics: "leaky" }, data: test });
    expect(ev.evaluate(test).accuracy).toBeGreaterThan(Math.max(0.5, before.accuracy));
  });

  it("predict agrees with evaluate's accuracy", () => {
    const { network } = trained();
    const ev = createEvaluator({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config: { t1: 25, dynamics: "leaky" } });
    const pred = ev.predict(test.images, test.count);
    const correct = pred.reduce((n, p, i) => n + (p === test.labels[i] ? 1 : 0), 0);
    expect(correct / test.count).toBe(ev.evaluate(test).accuracy);
  });

  it("sees later updates of the same network", () => {
    const network = createNetwork({ backend: createCpuBackend(), sizes: [16, 12, 4], dt: 0.3, weightRng: createRng(2) });
    const ev = createEvaluator({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config: { t1: 25, dynamics: "leaky" } });
    const before = ev.evaluate(test).cost;
    const trainer = createTrainer({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config });
    trainer.trainEpoch(train, Uint32Array.from({ length: train.count }, (_, i) => i));
    expect(ev.evaluate(test).cost).not.toBe(before);
    expect(ev.evaluate(test)).toEqual(trainer.evaluate(test));
  });

  it("observes the free phase step by step", () => {
    const { network } = trained();
    const steps: RelaxationStep[] = [];
    const ev = createEvaluator({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config: { t1: 10, dynamics: "leaky" }, onStep: (s) => steps.push(s) });
    ev.evaluate(test, { batch: 20 });
    expect(steps.length).toBe(20);
    expect(new Set(steps.map((s) => s.phase))).toEqual(new Set(["free"]));
    expect(steps.slice(0, 10).map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("refuses bad settings and unsound combinations, naming them", () => {
    const network = createNetwork({ backend: createCpuBackend(), sizes: [16, 12, 4], dt: 0.3, weightRng: createRng(2) });
    const mk = (config: object, energy = createEnergy("hopfield")) => () => createEvaluator({ network, energy, cost: createCost("mse"), config: config as never });
    expect(mk({ t1: 0, dynamics: "leaky" })).toThrow(/t1 must be an integer >= 1/);
    expect(mk({ t1: 5, dynamics: "euler" })).toThrow(/dynamics/);
    expect(mk({ t1: 5, dynamics: "leaky", tolerance: -1 })).toThrow(/tolerance/);
    expect(mk({ t1: 5, dynamics: "leaky" }, createEnergy("hopfield", "sigmoid"))).toThrow(EpError);
    const ev = createEvaluator({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config: { t1: 5, dynamics: "leaky" } });
    expect(() => ev.evaluate(syntheticData(4, 9, 4, 1))).toThrow(/data\.dim must be 16.*9/);
    expect(() => ev.evaluate(test, { batch: 0 })).toThrow(/batch/);
    expect(() => ev.predict(new Float32Array(5), 1)).toThrow(/x/);
  });
});
