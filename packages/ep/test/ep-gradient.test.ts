import { createCost, createEnergy } from "@hts/energy";
import { createReferenceBackend, type Matrix } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createNetwork, createTrainer, type Network, type Nudge, Relaxer, snapshotNetwork } from "../src/index.js";
import { rngs, syntheticData } from "./helpers.js";

/**
 * The EP estimate against the true gradient of the loss L(theta) = C(s*(theta)) at the free
 * fixed point, the latter by central finite differences with fully converged relaxations.
 * Interior fixed points (biases near 0.5, small weights) keep the hard sigmoid smooth.
 */
const sizes = [5, 4, 3];
const B = 3;
const T = 1500;
const data = syntheticData(B, 5, 3, 17);

function makeNet(): Network {
  const be = createReferenceBackend();
  const r = rngs(8);
  const net = createNetwork({ backend: be, sizes, dt: [Float32Array.from([0.5, 0.3, 0.4, 0.2]), Float32Array.from([0.35, 0.5, 0.25])], weightRng: r.weights });
  // Small weights and biases that put the fixed point inside (0, 1).
  for (const w of net.params.W) be.write(w, Array.from(be.read(w), (v) => 0.3 * v));
  for (const b of net.params.b) be.write(b, new Array(b.cols).fill(0.4));
  return net;
}

function loss(net: Network): number {
  const be = net.backend;
  const energy = createEnergy("hopfield").bind(be, net.params, B);
  const cost = createCost("mse").bind(be, "hard-sigmoid", B, 3);
  energy.setInput(be.matrix(B, 5, data.images));
  const relaxer = new Relaxer(be, energy, cost, net.dt, "gradient", "hard-sigmoid", sizes);
  relaxer.reset();
  relaxer.relax({ phase: "free", steps: T, beta: 0 }, () => relaxer.reset());
  const y = be.matrix(B, 3);
  const yv = new Float64Array(B * 3);
  for (let i = 0; i < B; i++) yv[i * 3 + (data.labels[i] as number)] = 1;
  be.write(y, yv);
  return cost.value(relaxer.state[relaxer.state.length - 1] as Matrix, y);
}

function trueGradient(): number[] {
  const net = makeNet();
  const be = net.backend;
  const h = 1e-6;
  const g: number[] = [];
  for (const p of [...net.params.W, ...net.params.b]) {
    const v = be.read(p);
    for (let i = 0; i < v.length; i++) {
      const orig = v[i] as number;
      v[i] = orig + h;
      be.write(p, v);
      const lp = loss(net);
      v[i] = orig - h;
      be.write(p, v);
      const lm = loss(net);
      v[i] = orig;
      be.write(p, v);
      g.push((lp - lm) / (2 * h));
    }
  }
  return g;
}

/** The trainer's EP estimate, read off one SGD step with learning rate 1: g = theta_before - theta_after. */
function epEstimate(beta: number, nudge: Nudge): number[] {
  const net = makeNet();
  const before = snapshotNetwork(net);
  const trainer = createTrainer({
    network: net,
    energy: createEnergy("hopfield"),
    cost: createCost("mse"),
    config: { t1: T, t2: T, beta, nudge, dynamics: "gradient", batch: B, optimizer: { name: "sgd", lr: [1, 1] } },
  });
  trainer.trainBatch(data.images, data.labels);
  const after = snapshotNetwork(net);
  const flat = (s: typeof before) => [...s.W, ...s.b].flatMap((a) => Array.from(a));
  const a = flat(before);
  const b = flat(after);
  return a.map((v, i) => v - (b[i] as number));
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

describe("EP estimate vs the gradient of the loss at the free fixed point", () => {
  const g = trueGradient();
  const betas = [0.2, 0.1, 0.05];

  it("is not trivially zero", () => {
    expect(Math.sqrt(g.reduce((s, v) => s + v * v, 0))).toBeGreaterThan(1e-3);
  });

  it("one-sided: the error shrinks about linearly in beta", () => {
    const errs = betas.map((b) => relError(epEstimate(b, "one-sided"), g));
    expect(errs[2]).toBeLessThan(0.1);
    for (let i = 1; i < errs.length; i++) {
      const ratio = (errs[i] as number) / (errs[i - 1] as number);
      expect(ratio).toBeGreaterThan(0.4);
      expect(ratio).toBeLessThan(0.6);
    }
  });

  it("symmetric: the error shrinks about quadratically in beta and is far smaller", () => {
    const errs = betas.map((b) => relError(epEstimate(b, "symmetric"), g));
    const oneSided = relError(epEstimate(0.05, "one-sided"), g);
    expect(errs[2]).toBeLessThan(oneSided / 5);
    for (let i = 1; i < errs.length; i++) {
      const ratio = (errs[i] as number) / (errs[i - 1] as number);
      expect(ratio).toBeGreaterThan(0.15);
      expect(ratio).toBeLessThan(0.35);
    }
  });
});
