import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Backend, Matrix } from "../src/index.js";
import { createReferenceBackend, createWasmBackend, KernelError, wasmUnavailableReason } from "../src/index.js";
import { randomValues, seededUniform } from "./helpers.js";

// What the conformance suite does not reach: the panel and tail paths of the gemm kernel
// (every column count from 1 to 70, inner dimensions that are not multiples of 4, blocks of
// zeros that the kernel skips), the cache of transposed weights, memory growth and reuse,
// and the generated module being in step with kernels.wat.

const available = wasmUnavailableReason() === null;
const ref = createReferenceBackend();

function rel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as number;
    const r = Math.abs((got[i] as number) - w) / (1 + Math.abs(w));
    if (!(r <= worst)) worst = r;
  }
  return worst;
}

/** Values with runs of exact zeros (like pixels and hard-sigmoid states). */
function sparseValues(rand: () => number, n: number): number[] {
  const v = randomValues(rand, n);
  for (let i = 0; i < n; i++) if (rand() < 0.6 || (i >> 3) % 3 === 0) v[i] = 0;
  return v;
}

describe.runIf(available)("wasm-f32", async () => {
  const be: Backend = available ? await createWasmBackend({ initialMiB: 1 }) : (undefined as unknown as Backend);

  function both(rows: number, cols: number, values: readonly number[]): [Matrix, Matrix] {
    return [be.matrix(rows, cols, values), ref.matrix(rows, cols, values)];
  }

  const shapes: [number, number, number][] = [];
  for (let n = 1; n <= 70; n += n < 12 ? 1 : 7) shapes.push([3, n, 9]);
  shapes.push([1, 10, 500], [7, 500, 10], [5, 33, 1], [4, 17, 6], [2, 64, 13], [5, 45, 40], [6, 70, 33], [9, 64, 100], [3, 7, 21], [20, 500, 784]);

  it.each(shapes)("gemm %i x %i (k = %i), all transposes, sparse and dense A", (m, n, k) => {
    const rand = seededUniform(m * 1000 + n * 10 + k);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const sparse of [false, true]) {
          const av = sparse ? sparseValues(rand, m * k) : randomValues(rand, m * k);
          const [a, aRef] = transA ? both(k, m, av) : both(m, k, av);
          const [b, bRef] = transB ? both(n, k, randomValues(rand, n * k)) : both(k, n, randomValues(rand, k * n));
          const prev = randomValues(rand, m * n);
          for (const [alpha, beta] of [
            [1, 0],
            [-0.5, 0.75],
            [0.5, 1],
          ] as const) {
            const [c, cRef] = both(m, n, beta === 0 ? new Array<number>(m * n).fill(Number.NaN) : prev);
            be.gemm(a, b, c, { transA, transB, alpha, beta });
            ref.gemm(aRef, bRef, cRef, { transA, transB, alpha, beta });
            expect(rel(be.read(c), ref.read(cRef))).toBeLessThanOrEqual(1e-5 * Math.sqrt(k));
          }
        }
      }
    }
  });

  it("a gemm with transB sees every change to b (the cached transpose is refreshed)", () => {
    const rand = seededUniform(99);
    const a = be.matrix(4, 6, randomValues(rand, 24));
    const w = be.matrix(5, 6, randomValues(rand, 30));
    const out = be.matrix(4, 5);
    const check = () => {
      const want = ref.matrix(4, 5);
      ref.gemm(ref.matrix(4, 6, be.read(a)), ref.matrix(5, 6, be.read(w)), want, { transB: true });
      be.gemm(a, w, out, { transB: true });
      expect(rel(be.read(out), ref.read(want))).toBeLessThanOrEqual(1e-6);
    };
    check();
    be.write(w, randomValues(rand, 30));
    check();
    be.sgdStep(w, be.matrix(5, 6, randomValues(rand, 30)), null, { lr: 0.5, momentum: 0, weightDecay: 0 });
    check();
    be.axpby(2, w, 1, w, w);
    check();
    be.copy(be.matrix(5, 6, randomValues(rand, 30)), w);
    check();
    be.fill(w, 0.25);
    check();
    const m = be.matrix(5, 6);
    const v = be.matrix(5, 6);
    be.adamStep(w, be.matrix(5, 6, randomValues(rand, 30)), m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, step: 1 });
    check();
  });

  it("gradient-rule steps queued whole (passes fused) are bit-identical to their operations run one by one", () => {
    // Relaxation steps of a wide layer driven by a few output states: activate, copy the
    // input drive, the short-k product with beta 1, the hard sigmoid's gradient and the Euler
    // step, three steps with the states swapped as the relaxation does. Queued back to back
    // they run as one fused pass per step, and the stores of a step's drive and derivative
    // that the next step overwrites are left out; a read after each operation runs them one
    // at a time. 70 columns reach the 6-, 4- and 1-vector parts and the last 2 columns.
    const rows = 9;
    const n = 70;
    const k = 10;
    const run = (oneByOne: boolean) => {
      const r = seededUniform(21);
      let h = be.matrix(rows, n, randomValues(r, rows * n, -0.3, 1.3).map((v, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? 1 : v)));
      const y = be.matrix(rows, k, sparseValues(r, rows * k));
      const u = be.matrix(rows, n, randomValues(r, rows * n));
      const w = be.matrix(n, k, randomValues(r, n * k));
      const dt = be.matrix(1, n, randomValues(r, n, 0.05, 0.5));
      const [a, ay, o, da] = [n, k, n, n].map((c) => be.matrix(rows, c)) as [Matrix, Matrix, Matrix, Matrix];
      let next = be.matrix(rows, n);
      for (let step = 0; step < 3; step++) {
        const [s, out] = [h, next];
        const ops = [
          () => be.activate("hard-sigmoid", s, a),
          () => be.activate("hard-sigmoid", y, ay),
          () => be.copy(u, o),
          () => be.gemm(ay, w, o, { transB: true, beta: 1 }),
          () => be.activateDerivative("hard-sigmoid", s, da),
          () => be.mul(da, o, o),
          () => be.axpby(1, s, -1, o, o),
          () => be.eulerStep(s, o, dt, out, { scale: -1, clip: [0, 1] }),
        ];
        for (const op of ops) {
          op();
          if (oneByOne) be.read(o);
        }
        [h, next] = [out, s];
      }
      return [a, o, da, h, next].map((m) => Array.from(be.read(m)).map((x) => (Object.is(x, -0) ? "-0" : x)));
    };
    const fused = run(false);
    const plain = run(true);
    fused.forEach((v, i) => {
      expect(v).toEqual(plain[i]);
    });
  });

  it("outer products into one C with the same A, as parameter gradients come, match the reference", () => {
    const run = (be2: Backend) => {
      const r = seededUniform(7);
      const x = be2.matrix(12, 30, sparseValues(r, 360));
      const s = be2.matrix(12, 20, randomValues(r, 240, -0.5, 1.5));
      const act = be2.matrix(12, 20);
      const g = be2.matrix(30, 20);
      const gb = be2.matrix(1, 20);
      const w = be2.matrix(30, 20, randomValues(r, 600));
      be2.activate("hard-sigmoid", s, act);
      be2.gemm(x, act, g, { transA: true, alpha: 0.25 });
      be2.columnSums(act, gb, 0.25);
      // The state moves on, the activation buffer is overwritten: the first product must not see it.
      be2.axpby(1, s, -0.3, be2.matrix(12, 20, randomValues(r, 240)), s);
      be2.activate("hard-sigmoid", s, act);
      be2.gemm(x, act, g, { transA: true, alpha: -0.25, beta: 1 });
      be2.columnSums(act, gb, -0.25, 1);
      const first = Array.from(be2.read(g));
      // A third product after a read is not merged into what was read.
      be2.gemm(x, act, g, { transA: true, alpha: 2, beta: 1 });
      be2.sgdStep(w, g, null, { lr: 0.1, momentum: 0, weightDecay: 0 });
      return [first, Array.from(be2.read(g)), Array.from(be2.read(w)), Array.from(be2.read(gb))];
    };
    const got = run(be);
    const want = run(ref);
    got.forEach((v, i) => {
      expect(rel(v, want[i] as number[])).toBeLessThanOrEqual(1e-5);
    });
  });

  it("grows its memory as matrices are allocated, keeping the values of earlier ones", () => {
    const first = be.matrix(2, 3, [1, 2, 3, 4, 5, 6]);
    const big: Matrix[] = [];
    for (let i = 0; i < 6; i++) big.push(be.matrix(1000, 1000));
    expect(Array.from(be.read(first))).toEqual([1, 2, 3, 4, 5, 6]);
    be.fill(big[5] as Matrix, 2);
    expect(be.sum(big[5] as Matrix)).toBe(2e6);
    for (const m of big) be.dispose(m);
    // A freed block is handed out again, zero-filled.
    const again = be.matrix(1000, 1000);
    expect(be.sum(again)).toBe(0);
    be.dispose(again);
    be.dispose(again);
  });

  it("odd lengths: element-wise kernels and optimizers handle the last 1-3 entries", () => {
    const rand = seededUniform(5);
    for (const n of [1, 2, 3, 5, 7]) {
      const pv = randomValues(rand, n);
      const gv = randomValues(rand, n);
      const [p, pRef] = both(1, n, pv);
      const [g, gRef] = both(1, n, gv);
      const [m, mRef] = both(1, n, new Array<number>(n).fill(0));
      const [v, vRef] = both(1, n, new Array<number>(n).fill(0));
      const o = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, step: 1 };
      be.adamStep(p, g, m, v, o);
      ref.adamStep(pRef, gRef, mRef, vRef, o);
      expect(rel(be.read(p), ref.read(pRef))).toBeLessThanOrEqual(1e-5);
      expect(rel(be.read(v), ref.read(vRef))).toBeLessThanOrEqual(1e-5);
      for (const kind of ["hard-sigmoid", "sigmoid", "tanh"] as const) {
        const [x, xRef] = both(1, n, randomValues(rand, n, -3, 3));
        be.activate(kind, x, x);
        ref.activate(kind, xRef, xRef);
        expect(rel(be.read(x), ref.read(xRef))).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it("rejects an initial memory size outside (0, 2048] MiB", async () => {
    for (const initialMiB of [0, -1, 4096, Number.NaN]) {
      const e = await createWasmBackend({ initialMiB }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(KernelError);
      expect((e as KernelError).code).toBe("HTS_INVALID_ARGUMENT");
      expect((e as KernelError).parameter).toBe("initialMiB");
    }
  });

  it("optimizer steps with hyper-parameters beyond float32 behave as on cpu-f32 (1e308 * 0 = 0, not NaN)", () => {
    const [p, pRef] = both(1, 5, [0.5, -0.25, 0, 1, 2]);
    const [g, gRef] = both(1, 5, [0, Math.fround(1e-3), 0, -2, 0]);
    be.sgdStep(p, g, null, { lr: 1e308, momentum: 0, weightDecay: 0 });
    ref.sgdStep(pRef, gRef, null, { lr: 1e308, momentum: 0, weightDecay: 0 });
    expect(Array.from(be.read(p))).toEqual(Array.from(Float32Array.from(ref.read(pRef))));
  });

  it("rejects a number of workers outside [1, 16]", async () => {
    for (const workers of [0, -1, 1.5, 17, Number.NaN]) {
      const e = await createWasmBackend({ workers }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(KernelError);
      expect((e as KernelError).code).toBe("HTS_INVALID_ARGUMENT");
      expect((e as KernelError).parameter).toBe("workers");
    }
  });

  it("the embedded module is in step with src/wasm/kernels.wat", () => {
    const script = fileURLToPath(new URL("../scripts/build-wasm.mjs", import.meta.url));
    expect(() => execFileSync(process.execPath, [script, "--check"], { stdio: "pipe" })).not.toThrow();
  });
});
