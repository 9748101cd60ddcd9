import { describe, expect, it } from "vitest";
import type { ActivationKind, Matrix } from "../src/index.js";
import { adamStepArrays, createReferenceBackend, sgdStepArrays } from "../src/index.js";
import { maxRelError, naiveGemm, randomValues, seededUniform, toRows, transpose } from "./helpers.js";

// The float64 reference backend is the oracle for every other backend, so it is checked
// here against formulas written out in the test itself, on plain arrays.

const ref = createReferenceBackend();
/** Float64 plain loops vs float64 formulas: only the summation order may differ. */
const TOL = 1e-13;

function values(m: Matrix): number[] {
  return Array.from(ref.read(m));
}

describe("reference backend: identity", () => {
  it("is named reference-f64 and stores float64", () => {
    expect(ref.name).toBe("reference-f64");
    expect(ref.precision).toBe("float64");
    const m = ref.matrix(1, 1, [0.1]);
    expect(m.backend).toBe("reference-f64");
    const back = ref.read(m);
    expect(back).toBeInstanceOf(Float64Array);
    // 0.1 is not a float32 value: float64 storage keeps it exactly.
    expect(back[0]).toBe(0.1);
  });

  it("copy and fill", () => {
    const a = ref.matrix(2, 3, [1, 2, 3, 4, 5, 6]);
    const b = ref.matrix(2, 3);
    ref.copy(a, b);
    expect(values(b)).toEqual([1, 2, 3, 4, 5, 6]);
    ref.fill(b, -0.25);
    expect(values(b)).toEqual([-0.25, -0.25, -0.25, -0.25, -0.25, -0.25]);
    expect(values(a)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("reference backend: gemm", () => {
  const m = 5;
  const k = 7;
  const n = 4;
  const combos = [
    { transA: false, transB: false },
    { transA: false, transB: true },
    { transA: true, transB: false },
    { transA: true, transB: true },
  ];
  const scalings = [
    { alpha: 1, beta: 0, label: "beta=0 overwrites NaN garbage" },
    { alpha: 1, beta: 1, label: "beta=1 accumulates" },
    { alpha: -0.5, beta: 0.75, label: "alpha=-0.5, beta=0.75" },
    { alpha: 2, beta: 0, label: "alpha=2, beta=0" },
  ];
  const cases = combos.flatMap((c) => scalings.map((s) => ({ ...c, ...s })));

  it.each(cases)("transA=$transA transB=$transB, $label", ({ transA, transB, alpha, beta }) => {
    const rand = seededUniform(1234);
    // op(a) is m x k and op(b) is k x n; a and b are stored transposed when asked.
    const opA = toRows(randomValues(rand, m * k), m, k);
    const opB = toRows(randomValues(rand, k * n), k, n);
    const storedA = transA ? transpose(opA) : opA;
    const storedB = transB ? transpose(opB) : opB;
    const c0 = beta === 0 ? toRows(new Array(m * n).fill(Number.NaN), m, n) : toRows(randomValues(rand, m * n), m, n);

    const a = ref.matrix(storedA.length, storedA[0]!.length, storedA.flat());
    const b = ref.matrix(storedB.length, storedB[0]!.length, storedB.flat());
    const out = ref.matrix(m, n, c0.flat());
    ref.gemm(a, b, out, { transA, transB, alpha, beta });

    const expected = naiveGemm(opA, opB, c0, alpha, beta).flat();
    const actual = values(out);
    expect(actual.every(Number.isFinite)).toBe(true);
    expect(maxRelError(actual, expected)).toBeLessThanOrEqual(TOL);
  });

  it("defaults to alpha=1, beta=0 and leaves the inputs untouched", () => {
    const a = ref.matrix(2, 2, [1, 2, 3, 4]);
    const b = ref.matrix(2, 2, [5, 6, 7, 8]);
    const out = ref.matrix(2, 2, [100, 100, 100, 100]);
    ref.gemm(a, b, out);
    // [1 2; 3 4] [5 6; 7 8] = [19 22; 43 50], by hand.
    expect(values(out)).toEqual([19, 22, 43, 50]);
    expect(values(a)).toEqual([1, 2, 3, 4]);
    expect(values(b)).toEqual([5, 6, 7, 8]);
  });

  it("propagates NaN from the operands", () => {
    const a = ref.matrix(1, 2, [Number.NaN, 1]);
    const b = ref.matrix(2, 1, [1, 1]);
    const out = ref.matrix(1, 1);
    ref.gemm(a, b, out);
    expect(Number.isNaN(values(out)[0])).toBe(true);
  });
});

describe("reference backend: element-wise", () => {
  const rand = seededUniform(99);
  const av = randomValues(rand, 12, -2, 2);
  const bv = randomValues(rand, 12, -2, 2);

  it("broadcastRows copies the 1 x n vector into every row", () => {
    const v = ref.matrix(1, 4, [1.5, -2, 0, 3]);
    const out = ref.matrix(3, 4, new Array(12).fill(Number.NaN));
    ref.broadcastRows(v, out);
    expect(values(out)).toEqual([1.5, -2, 0, 3, 1.5, -2, 0, 3, 1.5, -2, 0, 3]);
  });

  it("axpby into a fresh output", () => {
    const a = ref.matrix(3, 4, av);
    const b = ref.matrix(3, 4, bv);
    const out = ref.matrix(3, 4, new Array(12).fill(Number.NaN));
    ref.axpby(0.3, a, -1.7, b, out);
    expect(values(out)).toEqual(av.map((x, i) => 0.3 * x + -1.7 * bv[i]!));
  });

  it("axpby with out aliasing a", () => {
    const a = ref.matrix(3, 4, av);
    const b = ref.matrix(3, 4, bv);
    ref.axpby(2, a, 0.5, b, a);
    expect(values(a)).toEqual(av.map((x, i) => 2 * x + 0.5 * bv[i]!));
    expect(values(b)).toEqual(bv);
  });

  it("axpby with out aliasing b", () => {
    const a = ref.matrix(3, 4, av);
    const b = ref.matrix(3, 4, bv);
    ref.axpby(-1, a, 3, b, b);
    expect(values(b)).toEqual(av.map((x, i) => -x + 3 * bv[i]!));
  });

  it("mul", () => {
    const a = ref.matrix(3, 4, av);
    const b = ref.matrix(3, 4, bv);
    const out = ref.matrix(3, 4);
    ref.mul(a, b, out);
    expect(values(out)).toEqual(av.map((x, i) => x * bv[i]!));
  });
});

describe("reference backend: activations", () => {
  const rho: Record<ActivationKind, (u: number) => number> = {
    "hard-sigmoid": (u) => Math.min(1, Math.max(0, u)),
    sigmoid: (u) => 1 / (1 + Math.exp(-4 * (u - 0.5))),
    tanh: (u) => Math.tanh(u),
  };
  const rhoPrime: Record<ActivationKind, (u: number) => number> = {
    "hard-sigmoid": (u) => (u >= 0 && u <= 1 ? 1 : 0),
    sigmoid: (u) => {
      const e = Math.exp(-4 * (u - 0.5));
      return (4 * e) / ((1 + e) * (1 + e));
    },
    tanh: (u) => 1 / Math.cosh(u) ** 2,
  };
  const kinds: ActivationKind[] = ["hard-sigmoid", "sigmoid", "tanh"];
  const inputs = [-3, -1, -0.5, -0.1, 0, 0.2, 0.5, 0.75, 1, 1.3, 2, 4];

  function apply(kind: ActivationKind, x: readonly number[], derivative: boolean): number[] {
    const xm = ref.matrix(1, x.length, x);
    const out = ref.matrix(1, x.length, new Array(x.length).fill(Number.NaN));
    if (derivative) ref.activateDerivative(kind, xm, out);
    else ref.activate(kind, xm, out);
    return values(out);
  }

  it.each(kinds)("%s: rho matches its formula", (kind) => {
    expect(maxRelError(apply(kind, inputs, false), inputs.map(rho[kind]))).toBeLessThanOrEqual(TOL);
  });

  it.each(kinds)("%s: rho' matches its formula", (kind) => {
    expect(maxRelError(apply(kind, inputs, true), inputs.map(rhoPrime[kind]))).toBeLessThanOrEqual(TOL);
  });

  it("sigmoid is rho(u) = 1 / (1 + exp(-4 (u - 1/2))): rho(1/2) = 1/2, rho'(1/2) = 1", () => {
    expect(apply("sigmoid", [0.5], false)).toEqual([0.5]);
    expect(apply("sigmoid", [0.5], true)).toEqual([1]);
  });

  // Central differences away from the hard sigmoid's kinks at 0 and 1.
  const smoothPoints: Record<ActivationKind, number[]> = {
    "hard-sigmoid": [-1.5, -0.3, 0.1, 0.5, 0.9, 1.4],
    sigmoid: [-1.5, -0.3, 0.1, 0.5, 0.9, 1.4, 3],
    tanh: [-2, -0.7, -0.1, 0, 0.3, 1.1, 2.5],
  };
  it.each(kinds)("%s: rho' agrees with central finite differences of rho", (kind) => {
    const h = 1e-5;
    const u = smoothPoints[kind];
    const up = apply(kind, u.map((x) => x + h), false);
    const down = apply(kind, u.map((x) => x - h), false);
    const fd = u.map((_, i) => (up[i]! - down[i]!) / (2 * h));
    const d = apply(kind, u, true);
    // Truncation h^2 |rho'''| / 6 and rounding eps / h are both below 1e-8 here.
    for (let i = 0; i < u.length; i++) expect(Math.abs(d[i]! - fd[i]!)).toBeLessThanOrEqual(1e-8);
  });

  it("hard-sigmoid derivative is 1 on the closed interval [0, 1] and 0 just outside", () => {
    const below0 = -Number.MIN_VALUE;
    const above1 = 1 + Number.EPSILON;
    const x = [below0, -1e-12, 0, -0, 1e-12, 0.5, 1 - 1e-12, 1, 1 + 1e-12, above1];
    expect(apply("hard-sigmoid", x, true)).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 0, 0]);
    // The sign of a zero result is not part of the contract (-0 may pass through): + 0 drops it.
    expect(apply("hard-sigmoid", x, false).map((y) => y + 0)).toEqual([0, 0, 0, 0, 1e-12, 0.5, 1 - 1e-12, 1, 1, 1]);
  });

  it.each(kinds)("%s: NaN in gives NaN out", (kind) => {
    expect(Number.isNaN(apply(kind, [Number.NaN], false)[0])).toBe(true);
  });
});

describe("reference backend: softmaxRows", () => {
  function softmax(row: readonly number[]): number[] {
    const e = row.map(Math.exp);
    const z = e.reduce((s, x) => s + x, 0);
    return e.map((x) => x / z);
  }

  it("matches exp(x) / sum exp(x) on moderate inputs, rows summing to 1", () => {
    const rand = seededUniform(7);
    const x = randomValues(rand, 4 * 10, -5, 5);
    const out = ref.matrix(4, 10);
    ref.softmaxRows(ref.matrix(4, 10, x), out);
    const got = values(out);
    const expected = toRows(x, 4, 10).flatMap(softmax);
    expect(maxRelError(got, expected)).toBeLessThanOrEqual(TOL);
    for (const row of toRows(got, 4, 10)) {
      expect(Math.abs(row.reduce((s, v) => s + v, 0) - 1)).toBeLessThanOrEqual(1e-15 * 10);
    }
  });

  it("is stable for large inputs (shift invariance)", () => {
    const x = [1000, 999, 1001, 1000.5, -1000, -1001, -999, -1000.5];
    const out = ref.matrix(2, 4);
    ref.softmaxRows(ref.matrix(2, 4, x), out);
    const got = values(out);
    expect(got.every(Number.isFinite)).toBe(true);
    // softmax(x + c) = softmax(x): the shifted rows are small enough for the naive formula.
    const expected = [...softmax([0, -1, 1, 0.5]), ...softmax([0, -1, 1, -0.5])];
    expect(maxRelError(got, expected)).toBeLessThanOrEqual(1e-12);
  });

  it("a constant row gives the uniform distribution", () => {
    const out = ref.matrix(1, 5);
    ref.softmaxRows(ref.matrix(1, 5, [3, 3, 3, 3, 3]), out);
    expect(values(out)).toEqual([0.2, 0.2, 0.2, 0.2, 0.2]);
  });
});

describe("reference backend: eulerStep", () => {
  const rows = 3;
  const cols = 5;
  const rand = seededUniform(2024);
  const s = randomValues(rand, rows * cols, -0.5, 1.5);
  const v = randomValues(rand, rows * cols, -3, 3);
  const dt = [0.01, 0.1, 0.25, 0.5, 1];

  function expected(scale: number, clip?: readonly [number, number]): number[] {
    return s.map((x, idx) => {
      const u = x + scale * dt[idx % cols]! * v[idx]!;
      return clip ? Math.min(clip[1], Math.max(clip[0], u)) : u;
    });
  }

  it("uses the per-column dt vector, default scale 1, no clip", () => {
    const out = ref.matrix(rows, cols);
    ref.eulerStep(ref.matrix(rows, cols, s), ref.matrix(rows, cols, v), ref.matrix(1, cols, dt), out);
    expect(maxRelError(values(out), expected(1))).toBeLessThanOrEqual(TOL);
    // Unclipped: some results leave [0, 1].
    expect(values(out).some((x) => x < 0 || x > 1)).toBe(true);
  });

  it("applies scale and clip (both bounds reached)", () => {
    const out = ref.matrix(rows, cols);
    const clip = [0, 1] as const;
    ref.eulerStep(ref.matrix(rows, cols, s), ref.matrix(rows, cols, v), ref.matrix(1, cols, dt), out, { scale: 0.5, clip });
    const got = values(out);
    expect(maxRelError(got, expected(0.5, clip))).toBeLessThanOrEqual(TOL);
    expect(got).toContain(0);
    expect(got).toContain(1);
    expect(got.every((x) => x >= 0 && x <= 1)).toBe(true);
  });

  it("works in place (out = s) on the plain-loop backend", () => {
    const sm = ref.matrix(rows, cols, s);
    ref.eulerStep(sm, ref.matrix(rows, cols, v), ref.matrix(1, cols, dt), sm, { scale: -2, clip: [-1, 1] });
    expect(maxRelError(values(sm), expected(-2, [-1, 1]))).toBeLessThanOrEqual(TOL);
  });

  it("a zero dt column leaves that neuron unchanged", () => {
    const out = ref.matrix(rows, cols);
    const zeroDt = [0, 0.1, 0, 0.2, 0];
    ref.eulerStep(ref.matrix(rows, cols, s), ref.matrix(rows, cols, v), ref.matrix(1, cols, zeroDt), out);
    const got = values(out);
    for (let r = 0; r < rows; r++) {
      for (const j of [0, 2, 4]) expect(got[r * cols + j]).toBe(s[r * cols + j]);
    }
  });
});

describe("reference backend: columnSums", () => {
  const rand = seededUniform(5);
  const x = randomValues(rand, 6 * 4);
  const sums = [0, 1, 2, 3].map((j) => {
    let acc = 0;
    for (let r = 0; r < 6; r++) acc += x[r * 4 + j]!;
    return acc;
  });

  it("alpha=1, beta=0 (defaults) overwrites NaN garbage", () => {
    const out = ref.matrix(1, 4, [Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
    ref.columnSums(ref.matrix(6, 4, x), out);
    expect(maxRelError(values(out), sums)).toBeLessThanOrEqual(TOL);
  });

  it("alpha and beta accumulate: out = alpha * sums + beta * out", () => {
    const prev = [1, -2, 3, -4];
    const out = ref.matrix(1, 4, prev);
    ref.columnSums(ref.matrix(6, 4, x), out, -0.5, 2);
    expect(maxRelError(values(out), sums.map((s, j) => -0.5 * s + 2 * prev[j]!))).toBeLessThanOrEqual(TOL);
  });
});

describe("reference backend: optimizer steps", () => {
  const n = 6;
  const rand = seededUniform(31337);
  const p0 = randomValues(rand, n);
  const grads = [randomValues(rand, n), randomValues(rand, n), randomValues(rand, n)];

  it("sgdStep, plain: p <- p - lr g (velocity null)", () => {
    const p = ref.matrix(1, n, p0);
    ref.sgdStep(p, ref.matrix(1, n, grads[0]!), null, { lr: 0.1, momentum: 0, weightDecay: 0 });
    expect(maxRelError(values(p), p0.map((x, i) => x - 0.1 * grads[0]![i]!))).toBeLessThanOrEqual(TOL);
  });

  it("sgdStep, weight decay: g <- g + wd p", () => {
    const p = ref.matrix(1, n, p0);
    ref.sgdStep(p, ref.matrix(1, n, grads[0]!), null, { lr: 0.1, momentum: 0, weightDecay: 0.01 });
    const expected = p0.map((x, i) => x - 0.1 * (grads[0]![i]! + 0.01 * x));
    expect(maxRelError(values(p), expected)).toBeLessThanOrEqual(TOL);
  });

  it("sgdStep, heavy-ball momentum, worked by hand: v = 0.5 then 0.95, p = 0.95 then 0.855", () => {
    const p = ref.matrix(1, 1, [1]);
    const vel = ref.matrix(1, 1);
    const options = { lr: 0.1, momentum: 0.9, weightDecay: 0 };
    ref.sgdStep(p, ref.matrix(1, 1, [0.5]), vel, options);
    expect(values(vel)[0]).toBeCloseTo(0.5, 14);
    expect(values(p)[0]).toBeCloseTo(0.95, 14);
    ref.sgdStep(p, ref.matrix(1, 1, [0.5]), vel, options);
    expect(values(vel)[0]).toBeCloseTo(0.95, 14);
    expect(values(p)[0]).toBeCloseTo(0.855, 14);
  });

  // Kingma & Ba (2015), Algorithm 1: with a constant gradient the bias-corrected moments are
  // g and g^2 at every step, so (epsilon 0) each step moves p by exactly lr.
  it("adamStep, worked by hand: m = 0.05 then 0.095, v = 2.5e-4 then 4.9975e-4, p = 0.9 then 0.8", () => {
    const p = ref.matrix(1, 1, [1]);
    const m = ref.matrix(1, 1);
    const v = ref.matrix(1, 1);
    for (const [step, mt, vt, pt] of [
      [1, 0.05, 2.5e-4, 0.9],
      [2, 0.095, 4.9975e-4, 0.8],
    ] as const) {
      ref.adamStep(p, ref.matrix(1, 1, [0.5]), m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 0, weightDecay: 0, step });
      expect(values(m)[0]).toBeCloseTo(mt, 14);
      expect(values(v)[0]).toBeCloseTo(vt, 14);
      expect(values(p)[0]).toBeCloseTo(pt, 12);
    }
  });

  it("adamStep adds weight decay to the gradient: g = 0.5 + 0.1 p", () => {
    // p = 2: g = 0.7 at step 1, so m = 0.07, v = 4.9e-4 and p moves by lr (0.1) to 1.9
    const p = ref.matrix(1, 1, [2]);
    const m = ref.matrix(1, 1);
    const v = ref.matrix(1, 1);
    ref.adamStep(p, ref.matrix(1, 1, [0.5]), m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 0, weightDecay: 0.1, step: 1 });
    expect(values(m)[0]).toBeCloseTo(0.07, 14);
    expect(values(v)[0]).toBeCloseTo(4.9e-4, 14);
    expect(values(p)[0]).toBeCloseTo(1.9, 12);
  });

  it("sgdStep and adamStep of the reference backend are sgdStepArrays and adamStepArrays (the one definition), bit for bit", () => {
    const [pa, va] = [Float64Array.from(p0), new Float64Array(n)];
    const [pb, mb, vb] = [Float64Array.from(p0), new Float64Array(n), new Float64Array(n)];
    const p = ref.matrix(1, n, p0);
    const vel = ref.matrix(1, n);
    const q = ref.matrix(1, n, p0);
    const m = ref.matrix(1, n);
    const v = ref.matrix(1, n);
    grads.forEach((g, i) => {
      const sgd = { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 };
      const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: i + 1 };
      ref.sgdStep(p, ref.matrix(1, n, g), vel, sgd);
      sgdStepArrays(pa, g, va, sgd);
      ref.adamStep(q, ref.matrix(1, n, g), m, v, adam);
      adamStepArrays(pb, g, mb, vb, adam);
    });
    expect(values(p)).toEqual(Array.from(pa));
    expect(values(vel)).toEqual(Array.from(va));
    expect(values(q)).toEqual(Array.from(pb));
    expect(values(m)).toEqual(Array.from(mb));
    expect(values(v)).toEqual(Array.from(vb));
  });

  it("adamStep's first step moves each parameter by about lr against the gradient sign", () => {
    // With bias correction, mHat / sqrt(vHat) = g / |g| at t = 1.
    const p = ref.matrix(1, n, p0);
    ref.adamStep(p, ref.matrix(1, n, grads[0]!), ref.matrix(1, n), ref.matrix(1, n), {
      lr: 0.01,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-12,
      weightDecay: 0,
      step: 1,
    });
    const got = values(p);
    for (let i = 0; i < n; i++) expect(got[i]! - p0[i]!).toBeCloseTo(-0.01 * Math.sign(grads[0]![i]!), 9);
  });
});

describe("reference backend: read-back reductions", () => {
  const rand = seededUniform(11);
  const a = randomValues(rand, 30);
  const b = randomValues(rand, 30);

  it("sum", () => {
    expect(Math.abs(ref.sum(ref.matrix(5, 6, a)) - a.reduce((s, x) => s + x, 0))).toBeLessThanOrEqual(TOL * 30);
  });

  it("dot", () => {
    const expected = a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(Math.abs(ref.dot(ref.matrix(5, 6, a), ref.matrix(5, 6, b)) - expected)).toBeLessThanOrEqual(TOL * 30);
  });

  it("maxAbsDiff", () => {
    const expected = Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
    expect(ref.maxAbsDiff(ref.matrix(5, 6, a), ref.matrix(5, 6, b))).toBe(expected);
    expect(ref.maxAbsDiff(ref.matrix(5, 6, a), ref.matrix(5, 6, a))).toBe(0);
  });

  it.each([
    { where: "first entry of a", ai: 0, bi: -1 },
    { where: "middle entry of a", ai: 13, bi: -1 },
    { where: "last entry of b", ai: -1, bi: 29 },
  ])("maxAbsDiff propagates NaN ($where)", ({ ai, bi }) => {
    const a2 = [...a];
    const b2 = [...b];
    // A large difference elsewhere must not hide the NaN.
    a2[ai === 0 ? 29 : 0] = 1e6;
    if (ai >= 0) a2[ai] = Number.NaN;
    if (bi >= 0) b2[bi] = Number.NaN;
    expect(ref.maxAbsDiff(ref.matrix(5, 6, a2), ref.matrix(5, 6, b2))).toBeNaN();
  });

  it("maxAbsDiff is Infinity for an infinite difference", () => {
    expect(ref.maxAbsDiff(ref.matrix(1, 2, [0, Number.POSITIVE_INFINITY]), ref.matrix(1, 2, [0, 1]))).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it.each([
    { label: "clean", bad: [] as [number, number][], expected: -1 },
    { label: "NaN", bad: [[7, Number.NaN]] as [number, number][], expected: 7 },
    { label: "+Infinity", bad: [[0, Number.POSITIVE_INFINITY]] as [number, number][], expected: 0 },
    { label: "-Infinity", bad: [[29, Number.NEGATIVE_INFINITY]] as [number, number][], expected: 29 },
    {
      label: "several: the first wins",
      bad: [
        [20, Number.NaN],
        [12, Number.NEGATIVE_INFINITY],
      ] as [number, number][],
      expected: 12,
    },
  ])("findNonFinite: $label -> $expected", ({ bad, expected }) => {
    const x = [...a];
    x[3] = 1e308; // huge but finite
    for (const [i, v] of bad) x[i] = v;
    expect(ref.findNonFinite(ref.matrix(5, 6, x))).toBe(expected);
  });

  it("argmaxRows: largest entry per row, first index on ties", () => {
    const x = [
      [0.1, 0.7, 0.2, 0.7],
      [-3, -1, -2, -1.5],
      [5, 5, 5, 5],
      [0, 0, 0, 1e-300],
      [2, -Number.MAX_VALUE, 1, 2],
    ];
    const got = ref.argmaxRows(ref.matrix(5, 4, x.flat()));
    expect(got).toBeInstanceOf(Int32Array);
    const expected = x.map((row) => row.indexOf(Math.max(...row)));
    expect(Array.from(got)).toEqual(expected);
    expect(expected).toEqual([1, 1, 0, 3, 0]);
  });

  it("argmaxRows on a single column is all zeros", () => {
    expect(Array.from(ref.argmaxRows(ref.matrix(3, 1, [3, -1, 0])))).toEqual([0, 0, 0]);
  });
});
