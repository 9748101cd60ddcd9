import { type Cost, createCost, createEnergy, type Energy } from "@hts/energy";
import { type ActivationKind, createReferenceBackend, type Matrix } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { checkCombination, createNetwork, createTrainer, type Dynamics, type Network, type Nudge, Relaxer } from "../src/index.js";
import { rngs, syntheticData } from "./helpers.js";

/**
 * The EP estimate against the true gradient of the loss L(theta) = C(s*(theta)) at the free
 * fixed point, the latter by central finite differences with fully converged relaxations,
 * for every combination of energy, activation, update rule and cost that the library
 * accepts; the others must be refused. Small weights and biases of 0.4 keep the fixed
 * points inside the clip bounds, where the loss is smooth.
 */
const B = 3;
const T = 1000;
const CLASSES = 3;
const data = syntheticData(B, 5, CLASSES, 17);

interface Combo {
  energy: "hopfield" | "primitive";
  activation: ActivationKind;
  dynamics: Dynamics;
  cost: "mse" | "ce";
}

const all: Combo[] = (["hopfield", "primitive"] as const).flatMap((energy) =>
  (["hard-sigmoid", "sigmoid", "tanh"] as const).flatMap((activation) =>
    (["gradient", "leaky"] as const).flatMap((dynamics) => (["mse", "ce"] as const).map((cost) => ({ energy, activation, dynamics, cost }))),
  ),
);
const sound = (c: Combo) => c.activation === "hard-sigmoid" || (c.energy === "hopfield" ? c.dynamics === "gradient" : c.dynamics === "leaky");
const name = (c: Combo) => `${c.energy} + ${c.activation} + ${c.dynamics} + ${c.cost}`;

function makeNet(c: Combo): Network {
  const be = createReferenceBackend();
  const r = rngs(8);
  const ce = c.cost === "ce";
  const sizes = ce ? [5, 4] : [5, 4, CLASSES];
  const dt = ce ? [Float32Array.from([0.5, 0.3, 0.4, 0.2])] : [Float32Array.from([0.5, 0.3, 0.4, 0.2]), Float32Array.from([0.35, 0.5, 0.25])];
  const net = createNetwork({ backend: be, sizes, dt, weightRng: r.weights, ...(ce ? { readoutClasses: CLASSES } : {}) });
  for (const w of net.params.W) be.write(w, Array.from(be.read(w), (v) => 0.3 * v));
  for (const b of net.params.b) be.write(b, new Array(b.cols).fill(0.4));
  return net;
}

function parts(c: Combo): { energy: Energy; cost: Cost } {
  return { energy: createEnergy(c.energy, c.activation), cost: createCost(c.cost) };
}

function loss(c: Combo, net: Network): number {
  const be = net.backend;
  const { energy: e, cost: k } = parts(c);
  const energy = e.bind(be, net.params, B);
  const top = net.sizes[net.sizes.length - 1] as number;
  const rate = e.rate === undefined ? e.activation : e.rate;
  const cost = k.bind(be, { batch: B, units: top, classes: CLASSES, rate, ...(net.readout ? { readout: net.readout } : {}) });
  energy.setInput(be.matrix(B, 5, data.images));
  const relaxer = new Relaxer({ backend: be, energy, cost, dt: net.dt, dynamics: c.dynamics, activation: c.activation, sizes: net.sizes });
  relaxer.reset();
  const r = relaxer.relax({ phase: "free", steps: T, beta: 0 }, () => relaxer.reset());
  expect(r.residual).toBeLessThan(1e-12);
  const y = be.matrix(B, CLASSES);
  const yv = new Float64Array(B * CLASSES);
  for (let i = 0; i < B; i++) yv[i * CLASSES + (data.labels[i] as number)] = 1;
  be.write(y, yv);
  return cost.value(relaxer.state[relaxer.state.length - 1] as Matrix, y);
}

function params(net: Network): Matrix[] {
  return [...net.params.W, ...net.params.b, ...(net.readout ? [net.readout.W, net.readout.b] : [])];
}

function trueGradient(c: Combo): number[] {
  const net = makeNet(c);
  const be = net.backend;
  const h = 1e-6;
  const g: number[] = [];
  for (const p of params(net)) {
    const v = be.read(p);
    for (let i = 0; i < v.length; i++) {
      const orig = v[i] as number;
      v[i] = orig + h;
      be.write(p, v);
      const lp = loss(c, net);
      v[i] = orig - h;
      be.write(p, v);
      const lm = loss(c, net);
      v[i] = orig;
      be.write(p, v);
      g.push((lp - lm) / (2 * h));
    }
  }
  return g;
}

function epEstimate(c: Combo, beta: number, nudge: Nudge): number[] {
  const net = makeNet(c);
  const trainer = createTrainer({
    network: net,
    ...parts(c),
    config: { t1: T, t2: T, beta, nudge, dynamics: c.dynamics, batch: B, optimizer: { name: "sgd", lr: [1, 1] } },
  });
  const e = trainer.estimate(data.images, data.labels);
  return [...e.W, ...e.b, ...(e.readout ? [e.readout.W, e.readout.b] : [])].flatMap((a) => Array.from(a));
}

function relError(est: number[], ref: number[]): number {
  let num = 0;
  let den = 0;
  est.forEach((v, i) => {
    num += (v - (ref[i] as number)) ** 2;
    den += (ref[i] as number) ** 2;
  });
  return Math.sqrt(num / den);
}

describe.each(all.filter(sound).map((c) => [name(c), c] as const))("EP estimate vs the gradient of the loss: %s", (_n, c) => {
  const g = trueGradient(c);
  const betas = [0.2, 0.1, 0.05];

  it("the gradient is not trivially zero", () => {
    expect(Math.sqrt(g.reduce((s, v) => s + v * v, 0))).toBeGreaterThan(1e-3);
  });

  it("one-sided: the error shrinks about linearly in beta", () => {
    const errs = betas.map((b) => relError(epEstimate(c, b, "one-sided"), g));
    expect(errs[2]).toBeLessThan(0.1);
    for (let i = 1; i < errs.length; i++) {
      const ratio = (errs[i] as number) / (errs[i - 1] as number);
      expect(ratio).toBeGreaterThan(0.4);
      expect(ratio).toBeLessThan(0.6);
    }
  });

  it("symmetric: the error shrinks about quadratically in beta and is far smaller", () => {
    const errs = betas.map((b) => relError(epEstimate(c, b, "symmetric"), g));
    const oneSided = relError(epEstimate(c, 0.05, "one-sided"), g);
    expect(errs[2]).toBeLessThan(oneSided / 5);
    for (let i = 1; i < errs.length; i++) {
      const ratio = (errs[i] as number) / (errs[i - 1] as number);
      expect(ratio).toBeGreaterThan(0.15);
      expect(ratio).toBeLessThan(0.35);
    }
  });
});

describe("combinations without a theoretical basis are refused", () => {
  it.each(all.filter((c) => !sound(c)).map((c) => [name(c), c] as const))("%s", (_n, c) => {
    const net = makeNet(c);
    const { energy, cost } = parts(c);
    expect(() => checkCombination(energy, cost, c.dynamics, net)).toThrow(/is not sound: .*; use /);
    expect(() =>
      createTrainer({ network: net, energy, cost, config: { t1: 5, t2: 5, beta: 0.1, nudge: "one-sided", dynamics: c.dynamics, batch: B, optimizer: { name: "sgd", lr: [1, 1] } } }),
    ).toThrow(expect.objectContaining({ code: "HTS_UNSOUND_COMBINATION" }));
  });

  it("a read-out cost needs a network with a read-out, and a read-out needs such a cost", () => {
    const mse = makeNet({ energy: "hopfield", activation: "hard-sigmoid", dynamics: "gradient", cost: "mse" });
    const ce = makeNet({ energy: "hopfield", activation: "hard-sigmoid", dynamics: "gradient", cost: "ce" });
    const energy = createEnergy("hopfield");
    expect(() => checkCombination(energy, createCost("ce"), "gradient", mse)).toThrow(/has none \(create it with readoutClasses\)/);
    expect(() => checkCombination(energy, createCost("mse"), "gradient", ce)).toThrow(/the network has a read-out/);
  });
});
