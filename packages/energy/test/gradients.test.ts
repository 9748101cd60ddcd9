import { type ActivationKind, type Backend, createReferenceBackend, type Matrix } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import {
  ACTIVATIONS,
  allocParamGradients,
  allocState,
  type Energy,
  hopfieldEnergy,
  type NetworkParams,
  primitiveEnergy,
  softmaxCrossEntropy,
  squaredError,
} from "../src/index.js";
import { checkCost } from "../src/testing.js";

/** A small deterministic generator for test data (independent of the code under test). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const sizes = [5, 4, 3, 2];
const B = 3;

function setup(seed: number): { be: Backend; params: NetworkParams; x: Matrix; state: Matrix[] } {
  const be = createReferenceBackend();
  const r = lcg(seed);
  const W: Matrix[] = [];
  const b: Matrix[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const n0 = sizes[l - 1] as number;
    const n1 = sizes[l] as number;
    W.push(be.matrix(n0, n1, Array.from({ length: n0 * n1 }, () => r() - 0.5)));
    b.push(be.matrix(1, n1, Array.from({ length: n1 }, () => 0.2 * (r() - 0.5))));
  }
  const x = be.matrix(B, sizes[0] as number, Array.from({ length: B * (sizes[0] as number) }, () => r()));
  // States strictly inside (0, 1), away from the hard sigmoid's kinks.
  const state = allocState(be, sizes, B);
  for (const s of state) be.write(s, Array.from({ length: s.rows * s.cols }, () => 0.1 + 0.8 * r()));
  return { be, params: { sizes, W, b }, x, state };
}

function perturb(be: Backend, m: Matrix, i: number, delta: number): void {
  const v = be.read(m);
  v[i] = (v[i] as number) + delta;
  be.write(m, v);
}

const energies: [string, (a: ActivationKind) => Energy][] = [
  ["hopfield", (activation) => hopfieldEnergy({ activation })],
  ["primitive", (activation) => primitiveEnergy({ activation })],
];
const h = 1e-6;
const tol = 1e-7;

describe.each(energies)("%s energy", (_name, make) => {
  describe.each(ACTIVATIONS)("activation %s", (activation) => {
    it("state gradient matches central finite differences (float64)", () => {
      const { be, params, x, state } = setup(11);
      const bound = make(activation).bind(be, params, B);
      bound.setInput(x);
      const grad = allocState(be, sizes, B);
      bound.stateGradient(state, grad);
      for (let l = 0; l < state.length; l++) {
        const g = be.read(grad[l] as Matrix);
        for (let i = 0; i < g.length; i++) {
          perturb(be, state[l] as Matrix, i, h);
          const ep = bound.value(state);
          perturb(be, state[l] as Matrix, i, -2 * h);
          const em = bound.value(state);
          perturb(be, state[l] as Matrix, i, h);
          // value() is a batch mean, the state gradient is per example.
          const fd = ((ep - em) / (2 * h)) * B;
          expect(Math.abs(fd - (g[i] as number))).toBeLessThan(tol * (1 + Math.abs(fd)) * 100);
        }
      }
    });

    it("parameter gradients match central finite differences (float64)", () => {
      const { be, params, x, state } = setup(12);
      const bound = make(activation).bind(be, params, B);
      const grads = allocParamGradients(be, sizes);
      bound.setInput(x);
      bound.paramGradient(state, grads);
      const pairs: [Matrix, Matrix][] = [
        ...params.W.map((w, i) => [w, grads.W[i] as Matrix] as [Matrix, Matrix]),
        ...params.b.map((b, i) => [b, grads.b[i] as Matrix] as [Matrix, Matrix]),
      ];
      for (const [p, gm] of pairs) {
        const g = be.read(gm);
        for (let i = 0; i < g.length; i++) {
          perturb(be, p, i, h);
          bound.setInput(x);
          const ep = bound.value(state);
          perturb(be, p, i, -2 * h);
          bound.setInput(x);
          const em = bound.value(state);
          perturb(be, p, i, h);
          const fd = (ep - em) / (2 * h);
          expect(Math.abs(fd - (g[i] as number))).toBeLessThan(tol * (1 + Math.abs(fd)) * 100);
        }
      }
    });

    it("drive is the fixed-point pre-activation: stateGradient = s - a'(s) drive", () => {
      const { be, params, x, state } = setup(13);
      const bound = make(activation).bind(be, params, B);
      bound.setInput(x);
      const grad = allocState(be, sizes, B);
      const drive = allocState(be, sizes, B);
      bound.stateGradient(state, grad);
      bound.drive(state, drive);
      const usesRho = _name === "hopfield";
      for (let l = 0; l < state.length; l++) {
        const s = be.read(state[l] as Matrix);
        const g = be.read(grad[l] as Matrix);
        const u = be.read(drive[l] as Matrix);
        for (let i = 0; i < s.length; i++) {
          const si = s[i] as number;
          const d = !usesRho
            ? 1
            : activation === "hard-sigmoid"
              ? 1
              : activation === "sigmoid"
                ? 4 * (1 / (1 + Math.exp(-4 * (si - 0.5)))) * (1 - 1 / (1 + Math.exp(-4 * (si - 0.5))))
                : 1 - Math.tanh(si) ** 2;
          expect(g[i]).toBeCloseTo(si - d * (u[i] as number), 12);
        }
      }
    });

    it("parameter gradient accumulates with scale", () => {
      const { be, params, x, state } = setup(14);
      const bound = make(activation).bind(be, params, B);
      bound.setInput(x);
      const g1 = allocParamGradients(be, sizes);
      const g2 = allocParamGradients(be, sizes);
      bound.paramGradient(state, g1);
      bound.paramGradient(state, g2, { scale: 2 });
      bound.paramGradient(state, g2, { scale: -0.5, accumulate: true });
      const a = be.read(g1.W[1] as Matrix);
      const c = be.read(g2.W[1] as Matrix);
      for (let i = 0; i < a.length; i++) expect(c[i]).toBeCloseTo(1.5 * (a[i] as number), 12);
    });
  });
});

describe.each([
  ["mse", squaredError],
  ["ce (read-out)", softmaxCrossEntropy],
] as const)("cost %s", (_name, make) => {
  describe.each([...ACTIVATIONS, null])("rate %s", (rate) => {
    it("state gradient (and read-out gradient) match central finite differences (float64)", () => {
      const report = checkCost(make(), { rate, seed: 21, tolerance: 1e-7 });
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.checks.length).toBe(make().readout ? 4 : 2);
    });
  });
});

describe("squared error on states that are rates", () => {
  it("reads s itself (rho is not applied a second time): C = 1/2 ||s - y||^2", () => {
    const be = createReferenceBackend();
    const s = be.matrix(1, 2, [0.25, 2]);
    const y = be.matrix(1, 2, [1, 0]);
    const rates = squaredError().bind(be, { batch: 1, units: 2, classes: 2, rate: null });
    const pre = squaredError().bind(be, { batch: 1, units: 2, classes: 2, rate: "hard-sigmoid" });
    expect(rates.value(s, y)).toBeCloseTo(0.5 * (0.75 ** 2 + 4), 12);
    expect(pre.value(s, y)).toBeCloseTo(0.5 * (0.75 ** 2 + 1), 12);
  });
});

describe("softmax cross-entropy read-out", () => {
  it("computes o = softmax(rho(s) W_out + b_out) and C = -log o_y; predicts with the logits", () => {
    const be = createReferenceBackend();
    const s = be.matrix(1, 2, [0.5, 2]); // rho(s) = [0.5, 1] for the hard sigmoid
    const W = be.matrix(2, 3, [1, 0, -1, 0, 2, 1]);
    const b = be.matrix(1, 3, [0, 0.5, 0]);
    const y = be.matrix(1, 3, [0, 0, 1]);
    const cost = softmaxCrossEntropy().bind(be, { batch: 1, units: 2, classes: 3, rate: "hard-sigmoid", readout: { W, b } });
    const z = [0.5, 2.5, 0.5];
    const lse = Math.log(z.reduce((a, v) => a + Math.exp(v), 0));
    expect(cost.value(s, y)).toBeCloseTo(lse - 0.5, 12);
    expect(Array.from(be.read(cost.scores(s)))).toEqual(z);
  });

  it("refuses missing or misshapen read-out weights, naming them", () => {
    const be = createReferenceBackend();
    expect(() => softmaxCrossEntropy().bind(be, { batch: 2, units: 4, classes: 3, rate: null })).toThrow(/readout must be read-out weights W_out \(4 x 3\)/);
    expect(() =>
      softmaxCrossEntropy().bind(be, { batch: 2, units: 4, classes: 3, rate: null, readout: { W: be.matrix(3, 4), b: be.matrix(1, 3) } }),
    ).toThrow(/readout.W must be 4 x 3, got \[3,4\]/);
    expect(() => squaredError().bind(be, { batch: 2, units: 4, classes: 3, rate: null })).toThrow(/classes must be 4/);
  });
});

describe("which update rules relax each energy to a stationary point", () => {
  it.each([
    ["hopfield", "hard-sigmoid", "leaky", null],
    ["hopfield", "hard-sigmoid", "gradient", null],
    ["hopfield", "sigmoid", "gradient", null],
    ["hopfield", "tanh", "gradient", null],
    ["hopfield", "sigmoid", "leaky", /only for the hard sigmoid/],
    ["hopfield", "tanh", "leaky", /use the gradient rule/],
    ["primitive", "hard-sigmoid", "leaky", null],
    ["primitive", "hard-sigmoid", "gradient", null],
    ["primitive", "sigmoid", "leaky", null],
    ["primitive", "tanh", "leaky", null],
    ["primitive", "sigmoid", "gradient", /use the leaky rule/],
    ["primitive", "tanh", "gradient", /would not be used/],
  ] as const)("%s + %s + %s", (name, activation, dynamics, verdict) => {
    const e = name === "hopfield" ? hopfieldEnergy({ activation }) : primitiveEnergy({ activation });
    const r = e.checkDynamics?.(dynamics) ?? null;
    if (verdict === null) expect(r).toBeNull();
    else expect(r).toMatch(verdict);
  });
});

describe("layer parity", () => {
  it.each(energies)("%s: odd and even layers of the state gradient and drive equal those of all layers", (_n, make) => {
    const { be, params, x, state } = setup(5);
    const bound = make("sigmoid").bind(be, params, B);
    bound.setInput(x);
    for (const f of ["stateGradient", "drive"] as const) {
      const all = allocState(be, sizes, B);
      bound[f](state, all);
      for (const parity of ["odd", "even"] as const) {
        const part = allocState(be, sizes, B);
        bound[f](state, part, parity);
        for (let l = 1; l < sizes.length; l++) {
          if ((l % 2 === 1) !== (parity === "odd")) continue;
          expect(Array.from(be.read(part[l - 1] as Matrix))).toEqual(Array.from(be.read(all[l - 1] as Matrix)));
        }
      }
    }
  });
});
