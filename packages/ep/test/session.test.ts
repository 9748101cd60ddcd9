import { createRng, restoreRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createCpuBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createNetwork, createSession, createTrainer, networkFromSnapshot, type SessionState, shuffledOrder, snapshotNetwork } from "../src/index.js";
import { syntheticData } from "./helpers.js";

const all = syntheticData(120, 16, 4, 7);
const part = (from: number, count: number) => ({ images: all.images.slice(from * 16, (from + count) * 16), labels: all.labels.slice(from, from + count), count, dim: 16 });
const data = { train: part(0, 80), validation: part(80, 20), test: part(100, 20) };
const config = { t1: 20, t2: 6, beta: 0.5, nudge: "random-sign" as const, dynamics: "leaky" as const, batch: 8, optimizer: { name: "momentum" as const, lr: [0.2, 0.1] } };

function setup(snapshot?: ReturnType<typeof snapshotNetwork>, state?: SessionState) {
  const be = createCpuBackend();
  const rng = createRng(5);
  const network = snapshot ? networkFromSnapshot(be, snapshot) : createNetwork({ backend: be, sizes: [16, 10, 4], dt: 0.3, weightRng: rng });
  const nudgeRng = state?.nudgeRng ? restoreRng(state.nudgeRng) : createRng(6);
  const trainer = createTrainer({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config, nudgeRng, minibatches: state?.minibatches ?? 0 });
  const session = createSession({ trainer, data, epochs: 4, orderRng: createRng(8), nudgeRng, lrDecay: 0.5, ...(state ? { resume: state } : {}) });
  return { network, trainer, session };
}

describe("createSession", () => {
  it("runs the epochs: validation every epoch, the test set after the last, the lr decayed, the best epoch marked", () => {
    const { session, trainer } = setup();
    const outcomes = [session.next(), session.next(), session.next(), session.next(), session.next()];
    expect(outcomes.map((o) => o.status)).toEqual(["ok", "ok", "ok", "ok", "done"]);
    const records = session.metrics.map((m) => m as unknown as Record<string, unknown>);
    expect(records.map((r) => r.testAccuracy === null)).toEqual([true, true, true, false]);
    expect(records.every((r) => typeof r.validationAccuracy === "number")).toBe(true);
    expect(records.map((r) => (r.lr as number[])[0])).toEqual([0.2, 0.1, 0.05, 0.025]);
    expect(trainer.optimizer.lr[0]).toBeCloseTo(0.0125, 12);
    expect(records.filter((r) => r.best === true).length).toBe(1);
    expect(trainer.minibatches).toBe(40);
  });

  it("a state saved after an epoch continues to the same weights as an uninterrupted session", () => {
    const whole = setup();
    while (whole.session.next().status === "ok");
    const first = setup();
    first.session.next();
    const state = first.session.state();
    expect(state.epochsDone).toBe(1);
    const second = setup(snapshotNetwork(first.network), state);
    while (second.session.next().status === "ok");
    const a = snapshotNetwork(whole.network);
    const b = snapshotNetwork(second.network);
    expect(b.W.map((w) => Array.from(w))).toEqual(a.W.map((w) => Array.from(w)));
    expect(second.session.metrics.map((m) => (m as { validationAccuracy: number }).validationAccuracy)).toEqual(
      whole.session.metrics.map((m) => (m as { validationAccuracy: number }).validationAccuracy),
    );
  });

  it("stops at a divergence with a record naming it", () => {
    const be = createCpuBackend();
    const network = createNetwork({ backend: be, sizes: [16, 10, 4], dt: 0.3, weightRng: createRng(1) });
    const trainer = createTrainer({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config: { ...config, nudge: "one-sided", optimizer: { name: "sgd", lr: [1e308, 1e308] } } });
    const session = createSession({ trainer, data, epochs: 3, orderRng: createRng(2) });
    const o = session.next();
    expect(o.status).toBe("diverged");
    expect(o.status === "diverged" && o.record.error).toMatch(/non-finite/);
    expect(session.next().status).toBe("done");
    expect(session.metrics.length).toBe(1);
  });

  it("refuses bad options, naming them", () => {
    const { trainer } = setup();
    expect(() => createSession({ trainer, data, epochs: 0, orderRng: createRng(1) })).toThrow(/createSession: epochs must be an integer >= 1, got 0/);
    expect(() => createSession({ trainer, data, epochs: 1, orderRng: createRng(1), lrDecay: Number.NaN })).toThrow(/lrDecay must be a finite number > 0, got NaN/);
  });

  it("shuffledOrder is the seeded Fisher-Yates permutation", () => {
    const p = shuffledOrder(Uint32Array.from([0, 1, 2, 3, 4, 5]), createRng(3));
    expect([...p].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(shuffledOrder(Uint32Array.from([0, 1, 2, 3, 4, 5]), createRng(3)))).toEqual(Array.from(p));
  });
});

describe("onStep: the relaxation step by step", () => {
  it("sees every step of every phase with its residual, energy and cost; without it nothing changes", () => {
    const run = (observe: boolean) => {
      const be = createCpuBackend();
      const network = createNetwork({ backend: be, sizes: [16, 10, 4], dt: 0.3, weightRng: createRng(5) });
      const seen: { phase: string; step: number; residual: number; energy: number; cost: number }[] = [];
      const trainer = createTrainer({
        network,
        energy: createEnergy("hopfield"),
        cost: createCost("mse"),
        config: { ...config, nudge: "symmetric" },
        ...(observe ? { onStep: (s) => seen.push({ phase: s.phase, step: s.step, residual: s.residual(), energy: s.energy(), cost: s.cost() }) } : {}),
      });
      trainer.trainBatch(data.train.images.subarray(0, 8 * 16), data.train.labels.subarray(0, 8));
      return { seen, weights: snapshotNetwork(network).W.map((w) => Array.from(w)) };
    };
    const a = run(true);
    const b = run(false);
    expect(a.weights).toEqual(b.weights);
    expect(a.seen.map((s) => s.phase).filter((p, i, all) => all.indexOf(p) === i)).toEqual(["free", "nudged", "nudged-negative"]);
    expect(a.seen.length).toBe(20 + 6 + 6);
    const free = a.seen.filter((s) => s.phase === "free");
    // The free phase descends: the energy ends below where it started, and the residual shrinks.
    expect((free.at(-1) as { energy: number }).energy).toBeLessThan((free[0] as { energy: number }).energy);
    expect((free.at(-1) as { residual: number }).residual).toBeLessThan((free[0] as { residual: number }).residual);
    expect(a.seen.every((s) => Number.isFinite(s.cost))).toBe(true);
  });
});
