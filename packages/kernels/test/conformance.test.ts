import { describe, expect, it } from "vitest";
import type { ActivationKind, Backend, FloatArray, Matrix, Precision } from "../src/index.js";
import { createCpuBackend, createReferenceBackend, createWasmBackend, wasmUnavailableReason } from "../src/index.js";
import { checkBackend } from "../src/testing.js";
import { gpuBackendForSuite, wasmThreadPool } from "./gpu-env.js";
import { randomValues, seededUniform } from "./helpers.js";

// One conformance suite, written once over the Backend interface and run for every
// available backend against the float64 reference. Inputs are rounded to float32 before
// they reach either backend, so only the arithmetic is compared, not the input rounding.
// A new backend (a GPU one, your own) joins by being pushed onto `backends`.

interface BackendUnderTest {
  readonly name: string;
  readonly create: () => Backend;
}

const backends: BackendUnderTest[] = [{ name: "cpu-f32", create: createCpuBackend }];

/** In Node (not in the browser page of test/browser.test.ts, which has no `process`). */
const inNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

/**
 * A backend that should be there but cannot be made: a skipped test saying why, or, in Node
 * with the environment variable CI set (to anything but "", "false" or "0", the rule of
 * gpuRequired in src/gpu-testing.ts), a failing test that shows the error. `expected`, when
 * given, says why its absence is expected here: then it is a skip even under CI.
 */
function reportMissing(label: string, error: Error, expected: string | null): void {
  const ci = inNode ? process.env.CI : undefined;
  const required = expected === null && ci !== undefined && ci !== "" && ci !== "false" && ci !== "0";
  if (required) {
    it(`${label}: the backend can be created (required: CI is set)`, () => {
      throw error;
    });
  } else {
    const why = expected === null ? error.message : `${expected} (${error.message})`;
    console.warn(`${label}: skipped, ${why}`);
    it.skip(`${label}: ${why}`, () => {});
  }
}

// wasm-f32 is created asynchronously (browsers compile WebAssembly off the main thread).
const noWasm = wasmUnavailableReason();
if (noWasm === null) {
  const wasm = await createWasmBackend();
  backends.push({ name: "wasm-f32", create: () => wasm });
  // The same backend with a worker thread taking half of the rows of every queued operation
  // (where SharedArrayBuffer and worker threads exist: Node, not a plain browser page).
  const wasm2 = await createWasmBackend({ workers: 2, ...(wasmThreadPool ? { threadPool: wasmThreadPool } : {}) }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  if (!(wasm2 instanceof Error)) backends.push({ name: "wasm-f32, 2 workers", create: () => wasm2 });
  else reportMissing("conformance: wasm-f32, 2 workers", wasm2, inNode ? null : "a browser page has no worker threads");
} else {
  reportMissing("conformance: wasm-f32", new Error(noWasm), inNode ? null : "this browser has no WebAssembly SIMD");
}
// The gpu.js backend (headless-gl in Node, WebGL2 in the browser page), float32 like the
// others; without a GPU context it is reported as skipped, or as a failure when CI is set.
const gpu = await gpuBackendForSuite("conformance: gpu");
if (gpu) backends.push({ name: gpu.name, create: () => gpu });

/**
 * Relative tolerance from the storage precision: a few units in the last place of float32
 * (2^-24 ~ 6e-8) leave a wide margin under 1e-5. The same value for every test; products
 * over k terms get sqrt(k) times it (rounding errors of a k-term sum grow like sqrt(k)).
 */
const RTOL: Record<Precision, number> = { float32: 1e-5, float64: 1e-12 };

const ref = createReferenceBackend();

/** max over entries of |got - want| / (rtol (1 + |want|)): at most 1 passes; NaN fails. */
function worstRatio(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as number;
    const g = got[i] as number;
    // Exact matches count as 0 even for infinities.
    const r = g === w ? 0 : Math.abs(g - w) / (rtol * (1 + Math.abs(w)));
    if (Number.isNaN(r)) return Number.NaN;
    if (r > worst) worst = r;
  }
  return worst;
}

function conformanceSuite(create: () => Backend): void {
  const be = create();
  const rtol = RTOL[be.precision];

  /** The same float32-representable values uploaded to the backend and to the reference. */
  function pair(rows: number, cols: number, values: readonly number[]): [Matrix, Matrix] {
    return [be.matrix(rows, cols, values), ref.matrix(rows, cols, values)];
  }

  function expectClose(got: FloatArray, want: FloatArray, tol = rtol): void {
    expect(want.every(Number.isFinite)).toBe(true);
    expect(worstRatio(got, want, tol)).toBeLessThanOrEqual(1);
  }

  it("reports its name and precision, and reads back arrays of that precision", () => {
    expect(be.name.length).toBeGreaterThan(0);
    expect(["float32", "float64"]).toContain(be.precision);
    const m = be.matrix(2, 3, [1, 2, 3, 4, 5, 6]);
    expect(m.rows).toBe(2);
    expect(m.cols).toBe(3);
    expect(m.backend).toBe(be.name);
    const back = be.read(m);
    expect(back).toBeInstanceOf(be.precision === "float32" ? Float32Array : Float64Array);
    expect(Array.from(back)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(be.read(be.matrix(2, 2)))).toEqual([0, 0, 0, 0]);
    be.dispose(m);
  });

  it("write, copy, fill", () => {
    const a = be.matrix(2, 2);
    be.write(a, [0.5, -1, 2, 3]);
    const b = be.matrix(2, 2);
    be.copy(a, b);
    expect(Array.from(be.read(b))).toEqual([0.5, -1, 2, 3]);
    be.fill(b, 7);
    expect(Array.from(be.read(b))).toEqual([7, 7, 7, 7]);
    expect(Array.from(be.read(a))).toEqual([0.5, -1, 2, 3]);
  });

  // EP shapes: batch 20, 784 inputs, 500 hidden, 10 outputs; weights stored n_{l-1} x n_l.
  const gemmCases = [
    { label: "s0 W1: 20x784 by 784x500", a: [20, 784], b: [784, 500], transA: false, transB: false },
    { label: "s2 W2^T: 20x10 by 500x10^T", a: [20, 10], b: [500, 10], transA: false, transB: true },
    { label: "s1 W2^T: 20x500 by 10x500^T", a: [20, 500], b: [10, 500], transA: false, transB: true },
    { label: "s0^T s1: 784x20^T by 20x500", a: [20, 784], b: [20, 500], transA: true, transB: false },
    { label: "both transposed: 500x20^T by 10x500^T", a: [500, 20], b: [10, 500], transA: true, transB: true },
  ] as const;
  const scalings = [
    { alpha: 1, beta: 0 },
    { alpha: 0.05, beta: 1 },
    { alpha: -1.5, beta: 0.9 },
  ] as const;

  describe.each(gemmCases)("gemm $label", ({ a: [ar, ac], b: [br, bc], transA, transB }) => {
    const m = transA ? ac : ar;
    const k = transA ? ar : ac;
    const n = transB ? br : bc;

    it.each(scalings)("alpha=$alpha beta=$beta", ({ alpha, beta }) => {
      const rand = seededUniform(0xe9 + m + n + k);
      const [a, aRef] = pair(ar, ac, randomValues(rand, ar * ac));
      const [b, bRef] = pair(br, bc, randomValues(rand, br * bc));
      // beta = 0 must overwrite whatever was there, NaN included.
      const prev = beta === 0 ? new Array<number>(m * n).fill(Number.NaN) : randomValues(rand, m * n);
      const [out, outRef] = pair(m, n, prev);
      be.gemm(a, b, out, { transA, transB, alpha, beta });
      ref.gemm(aRef, bRef, outRef, { transA, transB, alpha, beta });
      expectClose(be.read(out), ref.read(outRef), rtol * Math.sqrt(k));
    });
  });

  it("broadcastRows", () => {
    const rand = seededUniform(1);
    const [v, vRef] = pair(1, 500, randomValues(rand, 500));
    const [out, outRef] = pair(20, 500, new Array<number>(20 * 500).fill(Number.NaN));
    be.broadcastRows(v, out);
    ref.broadcastRows(vRef, outRef);
    expectClose(be.read(out), ref.read(outRef));
  });

  it.each([
    { alpha: 1, beta: -1, alias: "none" },
    { alpha: 0.9, beta: 0.1, alias: "a" },
    { alpha: -2, beta: 0.5, alias: "b" },
  ] as const)("axpby alpha=$alpha beta=$beta, out aliasing $alias", ({ alpha, beta, alias }) => {
    const rand = seededUniform(2);
    const [a, aRef] = pair(20, 500, randomValues(rand, 20 * 500));
    const [b, bRef] = pair(20, 500, randomValues(rand, 20 * 500));
    const [o, oRef] = pair(20, 500, new Array<number>(20 * 500).fill(Number.NaN));
    const out = alias === "a" ? a : alias === "b" ? b : o;
    const outRef = alias === "a" ? aRef : alias === "b" ? bRef : oRef;
    be.axpby(alpha, a, beta, b, out);
    ref.axpby(alpha, aRef, beta, bRef, outRef);
    expectClose(be.read(out), ref.read(outRef));
  });

  it("mul", () => {
    const rand = seededUniform(3);
    const [a, aRef] = pair(20, 500, randomValues(rand, 20 * 500, -3, 3));
    const [b, bRef] = pair(20, 500, randomValues(rand, 20 * 500, -3, 3));
    const [out, outRef] = pair(20, 500, new Array<number>(20 * 500).fill(0));
    be.mul(a, b, out);
    ref.mul(aRef, bRef, outRef);
    expectClose(be.read(out), ref.read(outRef));
  });

  const kinds: ActivationKind[] = ["hard-sigmoid", "sigmoid", "tanh"];
  describe.each(kinds)("activation %s", (kind) => {
    // Include the hard sigmoid's kinks exactly, and values far out on both sides.
    const x = [...randomValues(seededUniform(4), 20 * 500 - 6, -2, 3), 0, 1, -0, -20, 20, 0.5];

    it("activate", () => {
      const [xm, xRef] = pair(20, 500, x);
      const [out, outRef] = pair(20, 500, new Array<number>(20 * 500).fill(Number.NaN));
      be.activate(kind, xm, out);
      ref.activate(kind, xRef, outRef);
      expectClose(be.read(out), ref.read(outRef));
    });

    it("activateDerivative", () => {
      const [xm, xRef] = pair(20, 500, x);
      const [out, outRef] = pair(20, 500, new Array<number>(20 * 500).fill(Number.NaN));
      be.activateDerivative(kind, xm, out);
      ref.activateDerivative(kind, xRef, outRef);
      expectClose(be.read(out), ref.read(outRef));
    });
  });

  it.each([
    { label: "moderate logits", lo: -5, hi: 5 },
    { label: "large logits (around 1000)", lo: 990, hi: 1010 },
  ])("softmaxRows, $label", ({ lo, hi }) => {
    const [x, xRef] = pair(20, 10, randomValues(seededUniform(5), 20 * 10, lo, hi));
    const [out, outRef] = pair(20, 10, new Array<number>(20 * 10).fill(Number.NaN));
    be.softmaxRows(x, out);
    ref.softmaxRows(xRef, outRef);
    expectClose(be.read(out), ref.read(outRef));
    const got = be.read(out);
    for (let r = 0; r < 20; r++) {
      let total = 0;
      for (let j = 0; j < 10; j++) total += got[r * 10 + j] as number;
      expect(Math.abs(total - 1)).toBeLessThanOrEqual(rtol * Math.sqrt(10));
    }
  });

  it.each([
    { label: "default scale, no clip", options: {} },
    { label: "scale 0.5, clip [0, 1]", options: { scale: 0.5, clip: [0, 1] as const } },
    { label: "scale -1, clip [-1, 1]", options: { scale: -1, clip: [-1, 1] as const } },
  ])("eulerStep with a per-neuron dt vector, $label", ({ options }) => {
    const rand = seededUniform(6);
    const [s, sRef] = pair(20, 500, randomValues(rand, 20 * 500, -0.2, 1.2));
    const [v, vRef] = pair(20, 500, randomValues(rand, 20 * 500, -4, 4));
    const [dt, dtRef] = pair(1, 500, randomValues(rand, 500, 0.01, 0.5));
    // The interface promises aliasing for axpby only: eulerStep writes a separate matrix.
    const [out, outRef] = pair(20, 500, new Array<number>(20 * 500).fill(Number.NaN));
    be.eulerStep(s, v, dt, out, options);
    ref.eulerStep(sRef, vRef, dtRef, outRef, options);
    expectClose(be.read(out), ref.read(outRef));
  });

  it.each([
    { alpha: 1, beta: 0 },
    { alpha: 0.05, beta: 1 },
    { alpha: -1, beta: 0.5 },
  ])("columnSums alpha=$alpha beta=$beta", ({ alpha, beta }) => {
    const rand = seededUniform(7);
    const [x, xRef] = pair(20, 500, randomValues(rand, 20 * 500));
    const prev = beta === 0 ? new Array<number>(500).fill(Number.NaN) : randomValues(rand, 500);
    const [out, outRef] = pair(1, 500, prev);
    be.columnSums(x, out, alpha, beta);
    ref.columnSums(xRef, outRef, alpha, beta);
    expectClose(be.read(out), ref.read(outRef), rtol * Math.sqrt(20));
  });

  it.each([
    { lr: 0.1, momentum: 0, weightDecay: 0, withVelocity: false },
    { lr: 0.05, momentum: 0.9, weightDecay: 0, withVelocity: true },
    { lr: 0.05, momentum: 0.9, weightDecay: 1e-3, withVelocity: true },
  ])("sgdStep lr=$lr momentum=$momentum weightDecay=$weightDecay, three steps", ({ withVelocity, ...options }) => {
    const rand = seededUniform(8);
    const [p, pRef] = pair(784, 50, randomValues(rand, 784 * 50));
    const [vel, velRef] = pair(784, 50, new Array<number>(784 * 50).fill(0));
    for (let step = 0; step < 3; step++) {
      const [g, gRef] = pair(784, 50, randomValues(rand, 784 * 50));
      be.sgdStep(p, g, withVelocity ? vel : null, options);
      ref.sgdStep(pRef, gRef, withVelocity ? velRef : null, options);
    }
    expectClose(be.read(p), ref.read(pRef));
    expectClose(be.read(vel), ref.read(velRef));
  });

  it.each([{ weightDecay: 0 }, { weightDecay: 0.01 }])("adamStep weightDecay=$weightDecay, three steps", ({ weightDecay }) => {
    const rand = seededUniform(9);
    const [p, pRef] = pair(784, 50, randomValues(rand, 784 * 50));
    const [m, mRef] = pair(784, 50, new Array<number>(784 * 50).fill(0));
    const [v, vRef] = pair(784, 50, new Array<number>(784 * 50).fill(0));
    for (let step = 1; step <= 3; step++) {
      const [g, gRef] = pair(784, 50, randomValues(rand, 784 * 50));
      const options = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay, step };
      be.adamStep(p, g, m, v, options);
      ref.adamStep(pRef, gRef, mRef, vRef, options);
    }
    expectClose(be.read(p), ref.read(pRef));
    expectClose(be.read(m), ref.read(mRef));
    expectClose(be.read(v), ref.read(vRef));
  });

  describe("read-back reductions", () => {
    const rand = seededUniform(10);
    const av = randomValues(rand, 20 * 500);
    const bv = randomValues(rand, 20 * 500);
    const n = av.length;

    it("sum", () => {
      const [a, aRef] = pair(20, 500, av);
      const want = ref.sum(aRef);
      expect(Math.abs(be.sum(a) - want)).toBeLessThanOrEqual(rtol * Math.sqrt(n) * (1 + Math.abs(want)));
    });

    it("dot", () => {
      const [a, aRef] = pair(20, 500, av);
      const [b, bRef] = pair(20, 500, bv);
      const want = ref.dot(aRef, bRef);
      expect(Math.abs(be.dot(a, b) - want)).toBeLessThanOrEqual(rtol * Math.sqrt(n) * (1 + Math.abs(want)));
    });

    it("maxAbsDiff, including NaN propagation", () => {
      const [a, aRef] = pair(20, 500, av);
      const [b, bRef] = pair(20, 500, bv);
      const want = ref.maxAbsDiff(aRef, bRef);
      expect(Math.abs(be.maxAbsDiff(a, b) - want)).toBeLessThanOrEqual(rtol * (1 + want));
      expect(be.maxAbsDiff(a, a)).toBe(0);
      const withNaN = [...av];
      withNaN[4321] = Number.NaN;
      expect(be.maxAbsDiff(be.matrix(20, 500, withNaN), b)).toBeNaN();
      expect(be.maxAbsDiff(b, be.matrix(20, 500, withNaN))).toBeNaN();
    });

    it.each([
      { label: "clean", index: -1, value: 0 },
      { label: "NaN", index: 9876, value: Number.NaN },
      { label: "+Infinity", index: 0, value: Number.POSITIVE_INFINITY },
      { label: "-Infinity", index: n - 1, value: Number.NEGATIVE_INFINITY },
    ])("findNonFinite: $label", ({ index, value }) => {
      const x = [...av];
      if (index >= 0) x[index] = value;
      const [m, mRef] = pair(20, 500, x);
      expect(be.findNonFinite(m)).toBe(ref.findNonFinite(mRef));
      expect(be.findNonFinite(m)).toBe(index);
    });

    it("argmaxRows, with ties resolved to the first index", () => {
      const x = randomValues(seededUniform(11), 20 * 10);
      // Rows 0-4 get a tie for the maximum at columns 2 and 7.
      for (let r = 0; r < 5; r++) {
        x[r * 10 + 2] = 5;
        x[r * 10 + 7] = 5;
      }
      const [m, mRef] = pair(20, 10, x);
      const got = be.argmaxRows(m);
      expect(got).toBeInstanceOf(Int32Array);
      expect(Array.from(got)).toEqual(Array.from(ref.argmaxRows(mRef)));
      expect(Array.from(got.subarray(0, 5))).toEqual([2, 2, 2, 2, 2]);
    });
  });

  // The aliasing contract of backend.ts, through the kit a user runs on their own backend:
  // every element-wise method with out = an input (each allowed pattern, and a chain of them
  // with nothing read back in between) gives exactly what it gives with a separate out, and
  // gemm with out = a or b is refused with HTS_INVALID_ARGUMENT naming out.
  it("the aliasing contract (checkBackend from @hts/kernels/testing)", async () => {
    const report = await checkBackend(be);
    const alias = report.checks.filter((c) => c.name.startsWith("alias "));
    expect(alias.length).toBe(26);
    expect(alias.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });
}

describe.each(backends)("$name conforms to the float64 reference", ({ create }) => {
  conformanceSuite(create);
});
