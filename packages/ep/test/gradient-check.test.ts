import { clamp, createDistribution } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { type ActivationKind, createReferenceBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import {
  bpttGradient,
  type CheckSetup,
  checkGradient,
  compareGradients,
  createGradientCheckProblem,
  type Dynamics,
  finiteDifferenceGradient,
  gduCurves,
  type GradientArrays,
} from "../src/index.js";

/**
 * The gradient check of `hts check-gradient`: the library's EP estimate against finite
 * differences of the loss at the free fixed point, and the GDU curves against the
 * hand-written BPTT, for every combination the library accepts, on the check's default
 * problem (6-5-4, 4 examples, lognormal dt of mean 0.05).
 */
interface Combo {
  energy: "hopfield" | "primitive";
  activation: ActivationKind;
  dynamics: Dynamics;
  cost: "mse" | "ce";
}

const sound: Combo[] = (["mse", "ce"] as const).flatMap((cost) => [
  ...(["hard-sigmoid", "sigmoid", "tanh"] as const).map((activation) => ({ energy: "hopfield" as const, activation, dynamics: "gradient" as const, cost })),
  { energy: "hopfield" as const, activation: "hard-sigmoid" as const, dynamics: "leaky" as const, cost },
  ...(["hard-sigmoid", "sigmoid", "tanh"] as const).map((activation) => ({ energy: "primitive" as const, activation, dynamics: "leaky" as const, cost })),
  { energy: "primitive" as const, activation: "hard-sigmoid" as const, dynamics: "gradient" as const, cost },
]);
const name = (c: Combo) => `${c.energy} + ${c.activation} + ${c.dynamics} + ${c.cost}`;

function setup(c: Combo, seed = 0): CheckSetup {
  const ce = c.cost === "ce";
  const dt = clamp(createDistribution("lognormal", { mean: 0.05, sd: 0.02 }), { min: 1e-3, max: 0.5, mode: "clip" });
  const p = createGradientCheckProblem({ backend: createReferenceBackend(), sizes: ce ? [6, 5] : [6, 5, 4], ...(ce ? { readoutClasses: 4 } : {}), examples: 4, seed, dt });
  return { ...p, energy: createEnergy(c.energy, c.activation), cost: createCost(c.cost), dynamics: c.dynamics };
}

const defaults: Combo = { energy: "hopfield", activation: "hard-sigmoid", dynamics: "leaky", cost: "mse" };

describe("the library's gradient check", () => {
  it("covers the 16 combinations the library accepts", () => {
    expect(sound).toHaveLength(16);
    expect(new Set(sound.map(name)).size).toBe(16);
  });

  it.each(sound.map((c) => [name(c), c] as const))("%s: EP within targets of finite differences and of BPTT", (_n, c) => {
    const r = checkGradient({ ...setup(c), betas: [0.01] });
    const tensors = c.cost === "ce" ? ["W1", "b1", "Wout", "bout", "all"] : ["W1", "b1", "W2", "b2", "all"];
    const sym = r.ep.find((row) => row.nudge === "symmetric" && row.beta === 0.01);
    const one = r.ep.find((row) => row.nudge === "one-sided" && row.beta === 0.01);
    expect(sym?.layers.map((l) => l.layer)).toEqual(tensors);
    for (const l of sym?.layers ?? []) {
      expect(l.cosine).toBeGreaterThanOrEqual(0.999);
      // O(beta^2): far below the one-sided error.
      expect(l.relError).toBeLessThan(1e-3);
      expect(l.norm).toBeGreaterThan(1e-4);
    }
    for (const l of one?.layers ?? []) {
      // O(beta): about beta, so the finite differences do resolve the bias of one-sided nudging.
      expect(l.relError).toBeGreaterThan(1e-3);
      expect(l.relError).toBeLessThan(0.05);
    }
    expect(r.finiteDifference.converged).toBe(true);
    expect(r.finiteDifference.boundMargin).toBeGreaterThan(1e-3);
    expect(r.ep.every((row) => row.freeResidual < 1e-13 && row.nudgedResidual < 1e-13)).toBe(true);
    const g = r.gdu;
    expect(g).not.toBeNull();
    expect(g?.layers.map((l) => l.layer)).toEqual(c.cost === "ce" ? ["W1", "b1"] : ["W1", "b1", "W2", "b2"]);
    expect(g?.max).toBeLessThan(1e-3);
    expect(g?.forwardMismatch).toBeLessThan(1e-12);
    expect(g?.estimateMismatch).toBeLessThan(1e-9);
    for (const l of g?.layers ?? []) {
      expect(l.bptt[0]).toBe(0);
      expect(l.bptt[l.bptt.length - 1]).toBeCloseTo(1, 12);
      expect(l.ep[l.ep.length - 1]).toBeCloseTo(1, 5);
    }
    expect(r.targets).toMatchObject({ cosinePassed: true, gduPassed: true, converged: true, passed: true, failures: [] });
  });

  it.each(sound.map((c) => [name(c), c] as const))("%s: the hand-written BPTT is the gradient of C(s_T) through exactly T steps", (_n, c) => {
    const s = setup(c, 3);
    const T = 30;
    const fd = finiteDifferenceGradient(s, { steps: T });
    const bp = bpttGradient(s, { steps: T });
    expect(bp.loss).toBeCloseTo(fd.loss, 14);
    for (const row of compareGradients(bp.gradient, fd.gradient)) {
      expect(row.relError, row.layer).toBeLessThan(1e-6);
      expect(row.norm, row.layer).toBeGreaterThan(1e-5);
    }
    // Truncated through the last k steps: a prefix of the same sums.
    const cut = bpttGradient(s, { steps: T, truncate: 5 });
    expect(cut.curve).toHaveLength(5);
    expect(compareGradients(cut.curve[4] as GradientArrays, bp.curve[4] as GradientArrays).every((r) => r.relError === 0)).toBe(true);
  });

  it.each(["gradient", "leaky"] as const)("the hand-written BPTT through clipped and saturated neurons (hard sigmoid, %s rule)", (dynamics) => {
    const p = createGradientCheckProblem({ backend: createReferenceBackend(), sizes: [6, 5, 4], examples: 4, seed: 1, dt: 0.2, weightScale: 2, bias: 0.6 });
    const s: CheckSetup = { ...p, energy: createEnergy("hopfield"), cost: createCost("mse"), dynamics };
    const T = 25;
    const bp = bpttGradient(s, { steps: T });
    // Some neurons sit at a bound (clipped, or with rho(drive) saturated), others inside.
    const states = bp.final.flatMap((v) => Array.from(v));
    expect(states.filter((v) => v <= 0 || v >= 1).length).toBeGreaterThan(0);
    expect(states.filter((v) => v > 0 && v < 1).length).toBeGreaterThan(0);
    const fd = finiteDifferenceGradient(s, { steps: T });
    for (const row of compareGradients(bp.gradient, fd.gradient)) expect(row.relError, row.layer).toBeLessThan(1e-6);
  });

  it("one-sided error shrinks linearly and symmetric quadratically in beta", () => {
    const r = checkGradient({ ...setup(defaults), betas: [0.02, 0.01], gdu: null });
    const all = (nudge: string, beta: number) => r.ep.find((row) => row.nudge === nudge && row.beta === beta)?.layers.find((l) => l.layer === "all")?.relError as number;
    expect(all("one-sided", 0.01) / all("one-sided", 0.02)).toBeGreaterThan(0.45);
    expect(all("one-sided", 0.01) / all("one-sided", 0.02)).toBeLessThan(0.55);
    expect(all("symmetric", 0.01) / all("symmetric", 0.02)).toBeGreaterThan(0.2);
    expect(all("symmetric", 0.01) / all("symmetric", 0.02)).toBeLessThan(0.3);
    expect(r.gdu).toBeNull();
    expect(r.targets.gduPassed).toBeNull();
  });

  it("the GDU curves with one-sided nudging carry an O(beta) bias, above the symmetric one", () => {
    const s = setup(defaults);
    const sym = gduCurves(s, { freeSteps: 1100, beta: 1e-3, nudge: "symmetric" });
    const one = gduCurves(s, { freeSteps: 1100, beta: 1e-3, nudge: "one-sided" });
    expect(one.max).toBeGreaterThan(10 * sym.max);
    expect(one.max).toBeLessThan(1e-2);
  });
});

describe("the check can fail", () => {
  it("a large GDU beta misses the GDU target", () => {
    const r = checkGradient({ ...setup(defaults), betas: [0.01], gdu: { beta: 0.5, nudge: "one-sided" } });
    expect(r.targets.gduPassed).toBe(false);
    expect(r.targets.passed).toBe(false);
    expect(r.targets.failures.join("\n")).toMatch(/^GDU: the EP and BPTT curves of \w+ differ by .* \(relative\), above 0.001$/m);
  });

  it("a cosine target the estimate misses at a large beta", () => {
    const r = checkGradient({ ...setup(defaults), betas: [0.2], targetBeta: 0.2, minCosine: 0.99999, gdu: null });
    expect(r.targets.cosinePassed).toBe(false);
    expect(r.targets.cosine).toBeLessThan(0.99999);
    expect(r.targets.failures[0]).toMatch(/^symmetric beta 0.2: the cosine of \w+ with the finite-difference gradient is /);
  });

  it("relaxations cut short are reported as not converged", () => {
    const r = checkGradient({ ...setup(defaults), betas: [0.01], convergence: { maxSteps: 100 }, gdu: null });
    expect(r.finiteDifference.converged).toBe(false);
    expect(r.targets.converged).toBe(false);
    expect(r.targets.passed).toBe(false);
    expect(r.targets.failures.join("\n")).toMatch(/not converged to residual 1e-13/);
  });

  it("compareGradients sees a wrong sign and a wrong scale", () => {
    const fd = finiteDifferenceGradient(setup(defaults), {}).gradient;
    const flipped: GradientArrays = { ...fd, b: fd.b.map((v, i) => (i === 0 ? v.map((x) => -x) : v)) };
    const rows = compareGradients(flipped, fd);
    expect(rows.find((r) => r.layer === "b1")?.cosine).toBeCloseTo(-1, 12);
    expect(rows.find((r) => r.layer === "b1")?.relError).toBeCloseTo(2, 12);
    expect(rows.find((r) => r.layer === "W1")?.relError).toBe(0);
    const doubled: GradientArrays = { ...fd, W: fd.W.map((v) => v.map((x) => 2 * x)) };
    expect(compareGradients(doubled, fd).find((r) => r.layer === "W2")).toMatchObject({ relError: 1 });
  });

  it("refuses a combination without a theoretical basis", () => {
    expect(() => checkGradient({ ...setup(defaults), energy: createEnergy("hopfield", "sigmoid") })).toThrow(expect.objectContaining({ code: "HTS_UNSOUND_COMBINATION" }));
  });
});
