import { clamp, lognormal } from "@hts/distributions";
import { allocState, createCost, createEnergy } from "@hts/energy";
import { createReferenceBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createNetwork, type Order, Relaxer } from "../src/index.js";
import { maxAbs, read, rngs, syntheticData } from "./helpers.js";

const sizes = [12, 8, 6, 3];
const B = 4;

function relaxTo(
  dynamics: "leaky" | "gradient",
  dt: number | "hts",
  steps: number,
  energyName = "hopfield",
  activation: "hard-sigmoid" | "sigmoid" = "hard-sigmoid",
  order: Order = "sync",
  tolerance = 0,
) {
  const be = createReferenceBackend();
  const r = rngs(5);
  const dist = clamp(lognormal({ mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5, mode: "clip" });
  const net = createNetwork({ backend: be, sizes, dt: dt === "hts" ? dist : dt, weightRng: r.weights, dtRng: r.dt });
  const data = syntheticData(B, sizes[0] as number, 3, 9);
  const energy = createEnergy(energyName, activation).bind(be, net.params, B);
  const cost = createCost("mse").bind(be, { batch: B, units: 3, classes: 3, rate: energyName === "hopfield" ? activation : null });
  const x = be.matrix(B, sizes[0] as number, data.images);
  energy.setInput(x);
  const relaxer = new Relaxer({ backend: be, energy, cost, dt: net.dt, dynamics, activation, sizes, order });
  relaxer.reset();
  const res = relaxer.relax({ phase: "free", steps, beta: 0, tolerance }, () => relaxer.reset());
  return { be, state: relaxer.state.map((m) => read(be, m)), res, energy, relaxer, net };
}

describe("free fixed point", () => {
  it.each(["leaky", "gradient"] as const)("scalar and heterogeneous dt reach the same fixed point (%s rule)", (dynamics) => {
    const scalar = relaxTo(dynamics, 0.3, 600);
    const hts = relaxTo(dynamics, "hts", 600);
    expect(scalar.res.residual).toBeLessThan(1e-10);
    expect(hts.res.residual).toBeLessThan(1e-10);
    for (let l = 0; l < scalar.state.length; l++) {
      expect(maxAbs(scalar.state[l] as number[], hts.state[l] as number[])).toBeLessThan(1e-8);
    }
    // ... and the paths differ: heterogeneous dt changes how the state gets there.
    const early = relaxTo(dynamics, 0.3, 3);
    const earlyHts = relaxTo(dynamics, "hts", 3);
    expect(maxAbs(early.state[0] as number[], earlyHts.state[0] as number[])).toBeGreaterThan(1e-4);
  });

  it("the leaky rule with the primitive energy and a sigmoid reaches s = rho(dPhi/ds)", () => {
    const { be, state, relaxer, energy } = relaxTo("leaky", "hts", 800, "primitive", "sigmoid");
    const drive = allocState(be, sizes, B);
    energy.drive(relaxer.state, drive);
    drive.forEach((u, l) => {
      const target = read(be, u).map((v) => 1 / (1 + Math.exp(-4 * (v - 0.5))));
      expect(maxAbs(target, state[l] as number[])).toBeLessThan(1e-9);
    });
  });

  it("the energy does not increase along a small-step gradient relaxation", () => {
    const be = createReferenceBackend();
    const r = rngs(3);
    const dist = clamp(lognormal({ mean: 0.1, sd: 0.03 }), { min: 1e-3, max: 0.2, mode: "clip" });
    const net = createNetwork({ backend: be, sizes, dt: dist, weightRng: r.weights, dtRng: r.dt });
    const data = syntheticData(B, sizes[0] as number, 3, 4);
    const energy = createEnergy("hopfield").bind(be, net.params, B);
    const cost = createCost("mse").bind(be, { batch: B, units: 3, classes: 3, rate: "hard-sigmoid" });
    energy.setInput(be.matrix(B, sizes[0] as number, data.images));
    const relaxer = new Relaxer({ backend: be, energy, cost, dt: net.dt, dynamics: "gradient", activation: "hard-sigmoid", sizes });
    relaxer.reset();
    let previous = energy.value(relaxer.state);
    let decreased = 0;
    for (let t = 0; t < 200; t++) {
      relaxer.relax({ phase: "free", steps: 1, beta: 0 }, () => {});
      const e = energy.value(relaxer.state);
      expect(e).toBeLessThanOrEqual(previous + 1e-12);
      if (e < previous - 1e-9) decreased++;
      previous = e;
    }
    expect(decreased).toBeGreaterThan(10);
  });

  it("stops early at the tolerance and reports the steps used", () => {
    const be = createReferenceBackend();
    const r = rngs(5);
    const net = createNetwork({ backend: be, sizes, dt: 0.3, weightRng: r.weights });
    const data = syntheticData(B, sizes[0] as number, 3, 9);
    const energy = createEnergy("hopfield").bind(be, net.params, B);
    const cost = createCost("mse").bind(be, { batch: B, units: 3, classes: 3, rate: "hard-sigmoid" });
    energy.setInput(be.matrix(B, sizes[0] as number, data.images));
    const relaxer = new Relaxer({ backend: be, energy, cost, dt: net.dt, dynamics: "leaky", activation: "hard-sigmoid", sizes });
    relaxer.reset();
    const res = relaxer.relax({ phase: "free", steps: 1000, beta: 0, tolerance: 1e-6 }, () => relaxer.reset());
    expect(res.steps).toBeLessThan(1000);
    expect(res.steps).toBeGreaterThan(5);
    expect(res.residual).toBeLessThan(1e-6);
  });

  // The tolerance rule, replayed without a tolerance: sync stops one step after the first
  // state within it (the step's own velocity gives that state's residual); even-odd stops
  // at that state (it evaluates the new state's residual).
  it.each([
    ["leaky", "sync", 1],
    ["gradient", "sync", 1],
    ["leaky", "even-odd", 0],
    ["gradient", "even-odd", 0],
  ] as const)("with a tolerance the %s rule in the %s order stops %i step(s) after the first state within it", (dynamics, order, lag) => {
    const tol = 1e-4;
    const stopped = relaxTo(dynamics, "hts", 2000, "hopfield", "hard-sigmoid", order, tol);
    const t = stopped.res.steps;
    expect(t).toBeGreaterThan(3);
    expect(t).toBeLessThan(2000);
    expect(stopped.res.residual).toBeLessThan(tol);
    const first = t - lag;
    expect(relaxTo(dynamics, "hts", first, "hopfield", "hard-sigmoid", order).res.residual).toBeLessThan(tol);
    expect(relaxTo(dynamics, "hts", first - 1, "hopfield", "hard-sigmoid", order).res.residual).toBeGreaterThanOrEqual(tol);
    // The reported residual is that of the final state, as a relaxation of t steps reports it.
    expect(stopped.res.residual).toBe(relaxTo(dynamics, "hts", t, "hopfield", "hard-sigmoid", order).res.residual);
  });

  it.each(["leaky", "gradient"] as const)("the residual is dt-free: with dt = 1e-3 and 20 steps it says far from the fixed point while the step size is tiny (%s rule)", (dynamics) => {
    const slow = relaxTo(dynamics, 1e-3, 20);
    expect(slow.res.stepSize).toBeLessThan(5e-3);
    expect(slow.res.residual).toBeGreaterThan(100 * slow.res.stepSize);
    expect(slow.res.residual).toBeGreaterThan(0.1);
    // With dt = 0.3 and enough steps both are small; the residual is what the state lacks.
    const done = relaxTo(dynamics, 0.3, 600);
    expect(done.res.residual).toBeLessThan(1e-10);
    expect(done.res.stepSize).toBeLessThan(1e-10);
  });

  it("the gradient rule's residual leaves out neurons held at a clip bound", () => {
    // A strong negative bias holds every neuron at 0 (dF/ds > 0 there): a fixed point.
    const be = createReferenceBackend();
    const r = rngs(5);
    const net = createNetwork({ backend: be, sizes, dt: 0.3, weightRng: r.weights });
    for (const b of net.params.b) be.write(b, new Array(b.cols).fill(-50));
    const data = syntheticData(B, sizes[0] as number, 3, 9);
    const energy = createEnergy("hopfield").bind(be, net.params, B);
    const cost = createCost("mse").bind(be, { batch: B, units: 3, classes: 3, rate: "hard-sigmoid" });
    energy.setInput(be.matrix(B, sizes[0] as number, data.images));
    const relaxer = new Relaxer({ backend: be, energy, cost, dt: net.dt, dynamics: "gradient", activation: "hard-sigmoid", sizes });
    relaxer.reset();
    const res = relaxer.relax({ phase: "free", steps: 5, beta: 0 }, () => relaxer.reset());
    expect(res.residual).toBe(0);
    const grad = allocState(be, sizes, B);
    energy.stateGradient(relaxer.state, grad);
    expect(Math.min(...grad.flatMap((g) => read(be, g)))).toBeGreaterThan(10);
  });

  it.each(["leaky", "gradient"] as const)("even/odd order reaches the same fixed point as the synchronous one (%s rule)", (dynamics) => {
    const sync = relaxTo(dynamics, "hts", 600);
    const eo = relaxTo(dynamics, "hts", 600, "hopfield", "hard-sigmoid", "even-odd");
    expect(eo.res.residual).toBeLessThan(1e-10);
    for (let l = 0; l < sync.state.length; l++) expect(maxAbs(sync.state[l] as number[], eo.state[l] as number[])).toBeLessThan(1e-8);
    expect(maxAbs(relaxTo(dynamics, "hts", 2).state[1] as number[], relaxTo(dynamics, "hts", 2, "hopfield", "hard-sigmoid", "even-odd").state[1] as number[])).toBeGreaterThan(1e-6);
  });

  it("even/odd order needs fewer steps to a given residual", () => {
    const sync = relaxTo("leaky", "hts", 2000, "hopfield", "hard-sigmoid", "sync", 1e-6);
    const eo = relaxTo("leaky", "hts", 2000, "hopfield", "hard-sigmoid", "even-odd", 1e-6);
    console.log(`steps to residual 1e-6: sync ${sync.res.steps}, even-odd ${eo.res.steps}`);
    expect(eo.res.steps).toBeLessThan(sync.res.steps);
  });
});
